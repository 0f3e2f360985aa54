#include "base/alloc.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#ifdef __linux__
#include <sys/mman.h>
#endif

#include "scopenn.h"

static void *libc_allocate(void *user, size_t size) {
    (void)user;
    return malloc(size);
}
static void *libc_reallocate(void *user, void *ptr, size_t size) {
    (void)user;
    return realloc(ptr, size);
}
static void libc_free(void *user, void *ptr) {
    (void)user;
    free(ptr);
}
/* Large blocks (packs, arenas, variables) on transparent huge pages where
 * the kernel offers them on request (madvise mode, Debian's default): a
 * first touch then faults once per 2 MB instead of once per 4 KB, which
 * halves a ResNet-18 session's create on a virtual machine, where a fault
 * is dear. Aligned to 2 MB so that whole huge pages fit inside. */
enum { HUGE_PAGE = 2u << 20 };

static void *libc_allocate_aligned(void *user, size_t alignment, size_t size) {
    (void)user;
    void *p = NULL;
#if defined(__linux__) && defined(MADV_HUGEPAGE)
    if (size >= (size_t)HUGE_PAGE && alignment < HUGE_PAGE) alignment = HUGE_PAGE;
#endif
    if (posix_memalign(&p, alignment, size) != 0) return NULL;
#if defined(__linux__) && defined(MADV_HUGEPAGE)
    if (alignment == HUGE_PAGE) (void)madvise(p, size / HUGE_PAGE * HUGE_PAGE, MADV_HUGEPAGE);
#endif
    return p;
}

static const sn_allocator libc_allocator = {libc_allocate,         libc_reallocate, libc_free,
                                            libc_allocate_aligned, libc_free,       NULL};
static sn_allocator current = {libc_allocate,         libc_reallocate, libc_free,
                               libc_allocate_aligned, libc_free,       NULL};

sn_status sn_set_allocator(const sn_allocator *a) {
    if (!a) {
        current = libc_allocator;
        return SN_OK;
    }
    if (!a->allocate || !a->reallocate || !a->free || !a->allocate_aligned || !a->free_aligned)
        return SN_ERR_INVALID_ARGUMENT;
    current = *a;
    return SN_OK;
}

void *sn_malloc(size_t size) { return current.allocate(current.user, size ? size : 1); }

void *sn_calloc(size_t count, size_t size) {
    if (size && count > SIZE_MAX / size) return NULL;
    size_t n = count * size;
    void *p = sn_malloc(n);
    if (p) memset(p, 0, n ? n : 1);
    return p;
}

void *sn_realloc(void *ptr, size_t size) {
    if (!ptr) return sn_malloc(size);
    return current.reallocate(current.user, ptr, size ? size : 1);
}

void sn_free(void *ptr) {
    if (ptr) current.free(current.user, ptr);
}

void *sn_aligned_alloc(size_t alignment, size_t size) {
    return current.allocate_aligned(current.user, alignment, size ? size : 1);
}

void sn_aligned_free(void *ptr) {
    if (ptr) current.free_aligned(current.user, ptr);
}

char *sn_strdup(const char *s) {
    size_t n = strlen(s) + 1;
    char *d = sn_malloc(n);
    if (d) memcpy(d, s, n);
    return d;
}

bool sn_ptr_reserve(void ***items, size_t count, size_t *capacity) {
    if (count < *capacity) return true;
    size_t cap = *capacity ? *capacity * 2 : 8;
    void **grown = sn_realloc(*items, cap * sizeof *grown);
    if (!grown) return false;
    *items = grown;
    *capacity = cap;
    return true;
}

bool sn_ptr_push(void ***items, size_t *count, size_t *capacity, void *item) {
    if (!sn_ptr_reserve(items, *count, capacity)) return false;
    (*items)[(*count)++] = item;
    return true;
}
