/* Names quoted for messages: whatever bytes a user or a file gives, the
 * message stays one line of valid UTF-8. */
#ifndef SN_BASE_TEXT_H
#define SN_BASE_TEXT_H

#include <stddef.h>

/* Appends `name` to the string in `buf` (of `size` bytes, already
 * terminated) for a one-line message: quotes and backslashes escaped as
 * in JSON (\" and \\), control characters as \u00XX, bytes that are not
 * part of valid UTF-8 as \xXX; valid UTF-8 is kept. Where the buffer
 * ends, the name is cut with "..." (never inside a character). */
void sn_append_escaped(char *buf, size_t size, const char *name);

/* Buffer size for one escaped name in a message: long enough for any
 * sensible name, cut with "..." beyond. */
#define SN_ESCAPED_NAME 256

#endif
