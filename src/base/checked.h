/* Size arithmetic that reports overflow instead of wrapping (or, for
 * signed types, instead of undefined behaviour). Each returns false on
 * overflow, leaving *out unspecified. */
#ifndef SN_BASE_CHECKED_H
#define SN_BASE_CHECKED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

static inline bool sn_add_i64(int64_t a, int64_t b, int64_t *out) {
    return !__builtin_add_overflow(a, b, out);
}
static inline bool sn_sub_i64(int64_t a, int64_t b, int64_t *out) {
    return !__builtin_sub_overflow(a, b, out);
}
static inline bool sn_mul_i64(int64_t a, int64_t b, int64_t *out) {
    return !__builtin_mul_overflow(a, b, out);
}
static inline bool sn_add_size(size_t a, size_t b, size_t *out) {
    return !__builtin_add_overflow(a, b, out);
}

/* The most elements a tensor of floats may have: its bytes, rounded up to
 * a cache line, must fit in a ptrdiff_t (so in a size_t and in an offset
 * of the arena) on the target. A placeholder or an op whose known
 * dimensions exceed it can never run, and is refused when built. */
#define SN_MAX_ELEMENTS ((int64_t)((PTRDIFF_MAX - 63) / 4))

#endif
