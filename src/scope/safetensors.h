/* What the checkpoint loader (checkpoint.c) shares with the safetensors
 * reader (safetensors.c). */
#ifndef SN_SCOPE_SAFETENSORS_H
#define SN_SCOPE_SAFETENSORS_H

#include <stddef.h>

/* Buffer sizes for a tensor name and for a path in a message. */
#define SN_NAME_BUFFER 256
#define SN_PATH_BUFFER 4200

/* Appends `name` to the string in `buf` (of `size` bytes) for a one-line
 * message: quotes, backslashes and control characters escaped as in JSON,
 * each byte that is not part of valid UTF-8 (a path may hold any) written
 * as the escape "\ufffd" (U+FFFD, the replacement character), and cut with
 * "..." (between characters) where the buffer ends. A file's names are
 * anything JSON can spell, newlines included. With `size` at least 6 x
 * strlen(name) + 4 beyond what `buf` holds, nothing is cut, and what is
 * appended is the body of a valid JSON string. */
void sn_checkpoint_append_name(char *buf, size_t size, const char *name);

/* "a directory", "a FIFO", "a character device", ... for a file whose
 * st_mode is `mode` and which is not a regular file, for messages that
 * refuse it. */
const char *sn_file_kind(unsigned mode);

#endif
