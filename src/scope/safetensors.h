/* What the checkpoint loader (checkpoint.c) shares with the safetensors
 * reader (safetensors.c). */
#ifndef SN_SCOPE_SAFETENSORS_H
#define SN_SCOPE_SAFETENSORS_H

#include <stddef.h>

#include "base/text.h"
#include "scopenn.h"

/* Buffer sizes for a tensor name and for a path in a message. */
#define SN_NAME_BUFFER 256
#define SN_PATH_BUFFER 4200

/* Names in messages are escaped with sn_append_escaped (base/text.h). */

/* "a directory", "a FIFO", "a character device", ... for a file whose
 * st_mode is `mode` and which is not a regular file, for messages that
 * refuse it. */
const char *sn_file_kind(unsigned mode);

/* A checkpoint's mapped file, which may outlive the checkpoint: variables
 * loaded from it read their values where they lie in it (S22 holds: a new
 * value goes to the variable's own storage, and the file is let go). */
struct sn_mapped_file;

/* Where the values of F32 tensor `index` lie in the checkpoint's mapped
 * file, if a variable may read them there: 64-byte aligned, as
 * sn_variable_value promises, with their last cache line within the
 * map's last page (so that vector kernels may read it whole). Then
 * *file gets a hold on the file, for sn_mapped_file_release. NULL, and
 * *file NULL, otherwise: a checkpoint in memory, another dtype, an
 * unaligned tensor (the caller copies). */
const float *sn_checkpoint_f32_in_file(const sn_checkpoint *checkpoint, size_t index,
                                       struct sn_mapped_file **file);
/* Lets go of a hold; the last unmaps the file. NULL does nothing. */
void sn_mapped_file_release(struct sn_mapped_file *file);
/* Drops the whole pages of [data, data + bytes), which lie in a mapped
 * file, from the process: its resident memory shrinks, and a later read
 * brings them back from the page cache. For values read once, to pack. */
void sn_mapped_file_evict(const void *data, size_t bytes);

#endif
