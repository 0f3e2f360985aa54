/* What the checkpoint loader (checkpoint.c) shares with the safetensors
 * reader (safetensors.c). */
#ifndef SN_SCOPE_SAFETENSORS_H
#define SN_SCOPE_SAFETENSORS_H

#include <stddef.h>

#include "base/text.h"

/* Buffer sizes for a tensor name and for a path in a message. */
#define SN_NAME_BUFFER 256
#define SN_PATH_BUFFER 4200

/* Names in messages are escaped with sn_append_escaped (base/text.h). */

/* "a directory", "a FIFO", "a character device", ... for a file whose
 * st_mode is `mode` and which is not a regular file, for messages that
 * refuse it. */
const char *sn_file_kind(unsigned mode);

#endif
