/* Leaky relu for AVX-512F: x < 0 ? alpha x : x, the reference's floats bit
 * for bit (an ordered compare: false for NaN and -0, which pass through).
 * Two vectors per step, the tail with masked loads and stores: nothing is
 * read or written past n. */
#include <immintrin.h>
#include <stddef.h>

#include "kernels/avx512/mask-avx512.h"
#include "kernels/kernels.h"

static inline __m512 lrelu(__m512 x, __m512 alpha) {
    const __mmask16 negative = _mm512_cmp_ps_mask(x, _mm512_setzero_ps(), _CMP_LT_OQ);
    return _mm512_mask_mul_ps(x, negative, x, alpha);
}

void sn_f32_vlrelu_ukernel__avx512(size_t n, const float *x, float alpha, float *y) {
    const __m512 va = _mm512_set1_ps(alpha);
    for (; n >= 32; n -= 32, x += 32, y += 32) {
        const __m512 a = lrelu(_mm512_loadu_ps(x), va), b = lrelu(_mm512_loadu_ps(x + 16), va);
        _mm512_storeu_ps(y, a);
        _mm512_storeu_ps(y + 16, b);
    }
    if (n >= 16) {
        _mm512_storeu_ps(y, lrelu(_mm512_loadu_ps(x), va));
        n -= 16, x += 16, y += 16;
    }
    if (n != 0) {
        const __mmask16 m = sn_mask_avx512(n);
        _mm512_mask_storeu_ps(y, m, lrelu(_mm512_maskz_loadu_ps(m, x), va));
    }
}
