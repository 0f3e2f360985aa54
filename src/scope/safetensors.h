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
 * and cut with "..." (on a UTF-8 boundary) where the buffer ends. A file's
 * names are anything JSON can spell, newlines included. */
void sn_checkpoint_append_name(char *buf, size_t size, const char *name);

/* "a directory", "a FIFO", "a character device", ... for a file whose
 * st_mode is `mode` and which is not a regular file, for messages that
 * refuse it. */
const char *sn_file_kind(unsigned mode);

#endif
