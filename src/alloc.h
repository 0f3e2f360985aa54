/* Every allocation of the library goes through these, so that an embedding
 * application's allocator hook (DESIGN.md) has one place to plug in. */
#ifndef SN_ALLOC_H
#define SN_ALLOC_H

#include <stddef.h>

void *sn_malloc(size_t size);
void *sn_calloc(size_t count, size_t size);
void *sn_realloc(void *ptr, size_t size);
void sn_free(void *ptr);
/* `size` bytes aligned to `alignment` (a power of two, at least
 * sizeof(void *)); freed with sn_aligned_free(). */
void *sn_aligned_alloc(size_t alignment, size_t size);
void sn_aligned_free(void *ptr);
/* A copy of `s` (NULL if out of memory). */
char *sn_strdup(const char *s);

#endif
