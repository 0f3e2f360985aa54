#include "alloc.h"

#include <stdlib.h>
#include <string.h>

void *sn_malloc(size_t size) { return malloc(size ? size : 1); }
void *sn_calloc(size_t count, size_t size) { return calloc(count ? count : 1, size ? size : 1); }
void *sn_realloc(void *ptr, size_t size) { return realloc(ptr, size ? size : 1); }
void sn_free(void *ptr) { free(ptr); }

void *sn_aligned_alloc(size_t alignment, size_t size) {
    void *p = NULL;
    if (posix_memalign(&p, alignment, size ? size : 1) != 0) return NULL;
    return p;
}

void sn_aligned_free(void *ptr) { free(ptr); }

char *sn_strdup(const char *s) {
    size_t n = strlen(s) + 1;
    char *d = sn_malloc(n);
    if (d) memcpy(d, s, n);
    return d;
}
