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

/* Buffer size for one escaped name in a message: long enough for any
 * sensible name, cut with "..." beyond. */
#define SN_ESCAPED_NAME 256

#endif
