/* Names quoted for messages: whatever bytes a user or a file gives, the
 * message stays one line of valid UTF-8. */
#ifndef SN_BASE_TEXT_H
#define SN_BASE_TEXT_H

#include <stddef.h>

/* Appends `name` to the string in `buf` (of `size` bytes, already
 * terminated) for a one-line message, as the contents of a JSON string:
 * quotes and backslashes escaped (\" and \\), control characters as
 * \u00XX, each byte that is not part of valid UTF-8 as \ufffd (the
 * replacement character); valid UTF-8 is kept. Where the buffer ends, the
 * name is cut with "..." between whole pieces. Messages, and the JSON the
 * command-line tool prints, are therefore valid UTF-8 whatever the name
 * (a file's, a path, a caller's). With `size` at least 6 x strlen(name)
 * + 4 beyond what `buf` holds, nothing is cut. */
void sn_append_escaped(char *buf, size_t size, const char *name);

/* The escaped form (as above) of the character at s, which is not the
 * terminator, in `piece`: returns its length, and sets *used to the bytes
 * of s it stands for. For writers that escape without a bounded buffer. */
size_t sn_escape_next(const unsigned char *s, char piece[8], size_t *used);

/* The length of the valid UTF-8 sequence at s[0..n) (1 to 4), or 0 if it
 * is not one: overlong forms, surrogates and code points above U+10FFFF
 * are not. */
size_t sn_utf8_length(const unsigned char *s, size_t n);

/* Buffer size for one escaped name in a message: long enough for any
 * sensible name, cut with "..." beyond. */
#define SN_ESCAPED_NAME 256

#endif
