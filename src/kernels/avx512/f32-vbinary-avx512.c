/* Add, subtract, maximum, multiply and reversed subtract (b - a) for
 * AVX-512F: same shape, a scalar operand, a vector repeated over rows (see
 * sn_f32_vbinary_fn in kernels.h). Two vectors per step, the tail with
 * masked loads and stores: nothing is read or written past n. */
#include <immintrin.h>
#include <stddef.h>

#include "kernels/avx512/mask-avx512.h"
#include "kernels/kernels.h"

enum op { ADD, SUB, MAX, MUL, RSUB };

/* The reference's maximum, bit for bit: a > b ? a : b, or a when a is NaN.
 * VMAXPS alone gives b when either is NaN (so a NaN b comes out, and equal
 * zeros give b, as in the reference); only a NaN a needs the blend. */
static inline __m512 apply(enum op op, __m512 a, __m512 b) {
    if (op == ADD) return _mm512_add_ps(a, b);
    if (op == SUB) return _mm512_sub_ps(a, b);
    if (op == MUL) return _mm512_mul_ps(a, b);
    if (op == RSUB) return _mm512_sub_ps(b, a);
    return _mm512_mask_mov_ps(_mm512_max_ps(a, b), _mm512_cmp_ps_mask(a, a, _CMP_UNORD_Q), a);
}

static inline void same(enum op op, size_t n, const float *a, const float *b, float *y) {
    for (; n >= 32; n -= 32, a += 32, b += 32, y += 32) {
        __m512 r0 = apply(op, _mm512_loadu_ps(a), _mm512_loadu_ps(b));
        __m512 r1 = apply(op, _mm512_loadu_ps(a + 16), _mm512_loadu_ps(b + 16));
        _mm512_storeu_ps(y, r0);
        _mm512_storeu_ps(y + 16, r1);
    }
    if (n >= 16) {
        _mm512_storeu_ps(y, apply(op, _mm512_loadu_ps(a), _mm512_loadu_ps(b)));
        n -= 16, a += 16, b += 16, y += 16;
    }
    if (n != 0) {
        const __mmask16 m = sn_mask_avx512(n);
        _mm512_mask_storeu_ps(y, m,
                              apply(op, _mm512_maskz_loadu_ps(m, a), _mm512_maskz_loadu_ps(m, b)));
    }
}

static inline void scalar(enum op op, size_t n, const float *a, float b, float *y) {
    const __m512 vb = _mm512_set1_ps(b);
    for (; n >= 32; n -= 32, a += 32, y += 32) {
        __m512 r0 = apply(op, _mm512_loadu_ps(a), vb), r1 = apply(op, _mm512_loadu_ps(a + 16), vb);
        _mm512_storeu_ps(y, r0);
        _mm512_storeu_ps(y + 16, r1);
    }
    if (n >= 16) {
        _mm512_storeu_ps(y, apply(op, _mm512_loadu_ps(a), vb));
        n -= 16, a += 16, y += 16;
    }
    if (n != 0) {
        const __mmask16 m = sn_mask_avx512(n);
        _mm512_mask_storeu_ps(y, m, apply(op, _mm512_maskz_loadu_ps(m, a), vb));
    }
}

static inline void row(enum op op, size_t rows, size_t channels, const float *a, const float *b,
                       float *y) {
    for (size_t r = 0; r < rows; r++, a += channels, y += channels) same(op, channels, a, b, y);
}

SN_VBINARY_ENTRY_POINTS(ADD, add, avx512)
SN_VBINARY_ENTRY_POINTS(SUB, sub, avx512)
SN_VBINARY_ENTRY_POINTS(MAX, max, avx512)
SN_VBINARY_ENTRY_POINTS(MUL, mul, avx512)
SN_VBINARY_ENTRY_POINTS(RSUB, rsub, avx512)
