#include "base/text.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

size_t sn_utf8_length(const unsigned char *s, size_t n) {
    if (s[0] < 0x80) return 1;
    size_t len;
    uint32_t cp, min;
    if ((s[0] & 0xe0) == 0xc0)
        len = 2, cp = s[0] & 0x1fu, min = 0x80;
    else if ((s[0] & 0xf0) == 0xe0)
        len = 3, cp = s[0] & 0x0fu, min = 0x800;
    else if ((s[0] & 0xf8) == 0xf0)
        len = 4, cp = s[0] & 0x07u, min = 0x10000;
    else
        return 0;
    if (len > n) return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80) return 0;
        cp = (cp << 6) | (s[i] & 0x3fu);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
    return len;
}

size_t sn_escape_next(const unsigned char *s, char piece[8], size_t *used) {
    /* a NUL ends a sequence cut short, so 4 reads no further */
    size_t len = sn_utf8_length(s, 4);
    *used = len ? len : 1;
    if (*s == '"' || *s == '\\') return (size_t)snprintf(piece, 8, "\\%c", *s);
    if (*s < 0x20 || *s == 0x7f) return (size_t)snprintf(piece, 8, "\\u%04x", *s);
    if (len == 0) return (size_t)snprintf(piece, 8, "\\ufffd");
    memcpy(piece, s, len);
    return len;
}

void sn_append_escaped(char *buf, size_t size, const char *name) {
    if (size == 0) return;
    size_t n = strlen(buf);
    const unsigned char *s = (const unsigned char *)name;
    while (*s) {
        char piece[8];
        size_t used, len = sn_escape_next(s, piece, &used);
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
