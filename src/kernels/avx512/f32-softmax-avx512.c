/* Softmax over rows for AVX-512F, in three passes per row: the maximum,
 * y = exp(x - max) (SLEEF's AVX-512F expf, 1.0-ULP) with their sum, and y
 * times 1 / sum. Tails with masked loads and stores: nothing is read or
 * written past a row. Against the reference: the sum is added in another
 * order, and y is multiplied by the reciprocal instead of divided (a few
 * ULP). A NaN or +inf in a row makes the whole row NaN, as in the
 * reference: the maximum may miss a NaN, but its exp joins the sum. */
#include <immintrin.h>
#include <math.h>
#include <sleef.h>
#include <stddef.h>

#include "kernels/avx512/mask-avx512.h"
#include "kernels/kernels.h"

static void row(size_t n, const float *x, float *y) {
    const __m512 minus_inf = _mm512_set1_ps(-INFINITY);
    const __mmask16 tail = sn_mask_avx512(n % 16);
    __m512 m0 = minus_inf, m1 = minus_inf;
    size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        m0 = _mm512_max_ps(m0, _mm512_loadu_ps(x + i));
        m1 = _mm512_max_ps(m1, _mm512_loadu_ps(x + i + 16));
    }
    if (i + 16 <= n) m0 = _mm512_max_ps(m0, _mm512_loadu_ps(x + i)), i += 16;
    if (i < n) m1 = _mm512_max_ps(m1, _mm512_mask_loadu_ps(minus_inf, tail, x + i));
    const __m512 max = _mm512_set1_ps(_mm512_reduce_max_ps(_mm512_max_ps(m0, m1)));

    __m512 s0 = _mm512_setzero_ps(), s1 = _mm512_setzero_ps();
    for (i = 0; i + 32 <= n; i += 32) {
        __m512 e0 = Sleef_expf16_u10avx512f(_mm512_sub_ps(_mm512_loadu_ps(x + i), max));
        __m512 e1 = Sleef_expf16_u10avx512f(_mm512_sub_ps(_mm512_loadu_ps(x + i + 16), max));
        _mm512_storeu_ps(y + i, e0);
        _mm512_storeu_ps(y + i + 16, e1);
        s0 = _mm512_add_ps(s0, e0);
        s1 = _mm512_add_ps(s1, e1);
    }
    if (i + 16 <= n) {
        __m512 e = Sleef_expf16_u10avx512f(_mm512_sub_ps(_mm512_loadu_ps(x + i), max));
        _mm512_storeu_ps(y + i, e);
        s0 = _mm512_add_ps(s0, e);
        i += 16;
    }
    if (i < n) {
        /* lanes past n would add exp(0 - max), possibly +inf: zero them */
        __m512 e = Sleef_expf16_u10avx512f(_mm512_sub_ps(_mm512_maskz_loadu_ps(tail, x + i), max));
        e = _mm512_maskz_mov_ps(tail, e);
        _mm512_mask_storeu_ps(y + i, tail, e);
        s1 = _mm512_add_ps(s1, e);
    }
    const __m512 scale = _mm512_set1_ps(1.0f / _mm512_reduce_add_ps(_mm512_add_ps(s0, s1)));

    for (i = 0; i + 32 <= n; i += 32) {
        _mm512_storeu_ps(y + i, _mm512_mul_ps(_mm512_loadu_ps(y + i), scale));
        _mm512_storeu_ps(y + i + 16, _mm512_mul_ps(_mm512_loadu_ps(y + i + 16), scale));
    }
    if (i + 16 <= n) _mm512_storeu_ps(y + i, _mm512_mul_ps(_mm512_loadu_ps(y + i), scale)), i += 16;
    if (i < n)
        _mm512_mask_storeu_ps(y + i, tail,
                              _mm512_mul_ps(_mm512_maskz_loadu_ps(tail, y + i), scale));
}

void sn_f32_softmax_ukernel__avx512(size_t rows, size_t cols, const float *x, float *y) {
    for (size_t r = 0; r < rows; r++, x += cols, y += cols) row(cols, x, y);
}
