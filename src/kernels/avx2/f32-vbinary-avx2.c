/* Add, subtract, maximum, multiply and reversed subtract (b - a) for AVX2:
 * same shape, a scalar operand, a vector repeated over rows (see
 * sn_f32_vbinary_fn in kernels.h). Two vectors per step, the tail with
 * masked loads and stores: nothing is read or written past n. */
#include <immintrin.h>
#include <stddef.h>

#include "kernels/avx2/mask-avx2.h"
#include "kernels/kernels.h"

enum op { ADD, SUB, MAX, MUL, RSUB };

/* The reference's maximum, bit for bit: a > b ? a : b, or a when a is NaN.
 * VMAXPS alone gives b when either is NaN (so a NaN b comes out, and equal
 * zeros give b, as in the reference); only a NaN a needs the blend. */
static inline __m256 apply(enum op op, __m256 a, __m256 b) {
    if (op == ADD) return _mm256_add_ps(a, b);
    if (op == SUB) return _mm256_sub_ps(a, b);
    if (op == MUL) return _mm256_mul_ps(a, b);
    if (op == RSUB) return _mm256_sub_ps(b, a);
    return _mm256_blendv_ps(_mm256_max_ps(a, b), a, _mm256_cmp_ps(a, a, _CMP_UNORD_Q));
}

static inline void same(enum op op, size_t n, const float *a, const float *b, float *y) {
    for (; n >= 16; n -= 16, a += 16, b += 16, y += 16) {
        __m256 r0 = apply(op, _mm256_loadu_ps(a), _mm256_loadu_ps(b));
        __m256 r1 = apply(op, _mm256_loadu_ps(a + 8), _mm256_loadu_ps(b + 8));
        _mm256_storeu_ps(y, r0);
        _mm256_storeu_ps(y + 8, r1);
    }
    if (n >= 8) {
        _mm256_storeu_ps(y, apply(op, _mm256_loadu_ps(a), _mm256_loadu_ps(b)));
        n -= 8, a += 8, b += 8, y += 8;
    }
    if (n != 0) {
        const __m256i m = sn_mask_avx2(n);
        _mm256_maskstore_ps(y, m, apply(op, _mm256_maskload_ps(a, m), _mm256_maskload_ps(b, m)));
    }
}

static inline void scalar(enum op op, size_t n, const float *a, float b, float *y) {
    const __m256 vb = _mm256_set1_ps(b);
    for (; n >= 16; n -= 16, a += 16, y += 16) {
        __m256 r0 = apply(op, _mm256_loadu_ps(a), vb), r1 = apply(op, _mm256_loadu_ps(a + 8), vb);
        _mm256_storeu_ps(y, r0);
        _mm256_storeu_ps(y + 8, r1);
    }
    if (n >= 8) {
        _mm256_storeu_ps(y, apply(op, _mm256_loadu_ps(a), vb));
        n -= 8, a += 8, y += 8;
    }
    if (n != 0) {
        const __m256i m = sn_mask_avx2(n);
        _mm256_maskstore_ps(y, m, apply(op, _mm256_maskload_ps(a, m), vb));
    }
}

static inline void row(enum op op, size_t rows, size_t channels, const float *a, const float *b,
                       float *y) {
    for (size_t r = 0; r < rows; r++, a += channels, y += channels) same(op, channels, a, b, y);
}

SN_VBINARY_ENTRY_POINTS(ADD, add, avx2)
SN_VBINARY_ENTRY_POINTS(SUB, sub, avx2)
SN_VBINARY_ENTRY_POINTS(MAX, max, avx2)
SN_VBINARY_ENTRY_POINTS(MUL, mul, avx2)
SN_VBINARY_ENTRY_POINTS(RSUB, rsub, avx2)
