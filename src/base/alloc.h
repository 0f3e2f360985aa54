/* Every allocation of the library goes through these, so that an embedding
 * application's allocator hook (DESIGN.md) has one place to plug in. */
#ifndef SN_BASE_ALLOC_H
#define SN_BASE_ALLOC_H

#include <stdbool.h>
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

/* Appends `item` to a growable array of pointers; false when out of memory
 * (the array is then unchanged). */
bool sn_ptr_push(void ***items, size_t *count, size_t *capacity, void *item);
/* Makes room for one more item after `count`; false when out of memory. */
bool sn_ptr_reserve(void ***items, size_t count, size_t *capacity);

#endif
