#include "base/text.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* The length of the valid UTF-8 character at s (1-4), or 0 if the bytes
 * there are not one (overlong forms, surrogates and code points past
 * U+10FFFF are not). */
static size_t utf8_length(const unsigned char *s) {
    unsigned c = s[0];
    size_t len;
    unsigned min, cp;
    if (c < 0x80) return 1;
    if (c >= 0xc2 && c <= 0xdf)
        len = 2, min = 0x80, cp = c & 0x1f;
    else if (c >= 0xe0 && c <= 0xef)
        len = 3, min = 0x800, cp = c & 0x0f;
    else if (c >= 0xf0 && c <= 0xf4)
        len = 4, min = 0x10000, cp = c & 0x07;
    else
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80) return 0; /* also stops at the terminator */
        cp = cp << 6 | (s[i] & 0x3f);
    }
    bool surrogate = cp >= 0xd800 && cp <= 0xdfff;
    return cp < min || cp > 0x10ffff || surrogate ? 0 : len;
}

void sn_append_escaped(char *buf, size_t size, const char *name) {
    if (size == 0) return;
    size_t n = strlen(buf);
    const unsigned char *s = (const unsigned char *)name;
    while (*s) {
        char piece[8];
        size_t len = utf8_length(s), used = len ? len : 1;
        if (*s == '"' || *s == '\\')
            len = (size_t)snprintf(piece, sizeof piece, "\\%c", *s);
        else if (*s < 0x20 || *s == 0x7f)
            len = (size_t)snprintf(piece, sizeof piece, "\\u%04x", *s);
        else if (len == 0)
            len = (size_t)snprintf(piece, sizeof piece, "\\ufffd");
        else
            memcpy(piece, s, len);
        if (n + len + 4 > size) { /* no room for this piece and "...": cut here */
            if (n + 4 <= size) memcpy(buf + n, "...", 3), n += 3;
            break;
        }
        memcpy(buf + n, piece, len);
        n += len;
        s += used;
    }
    buf[n < size ? n : size - 1] = '\0';
}
