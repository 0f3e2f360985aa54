/* Leaky relu for AVX2: x < 0 ? alpha x : x, the reference's floats bit for
 * bit (an ordered compare: false for NaN and -0, which pass through). Two
 * vectors per step, the tail with masked loads and stores: nothing is read
 * or written past n. */
#include <immintrin.h>
#include <stddef.h>

#include "kernels/avx2/mask-avx2.h"
#include "kernels/kernels.h"

static inline __m256 lrelu(__m256 x, __m256 alpha) {
    const __m256 negative = _mm256_cmp_ps(x, _mm256_setzero_ps(), _CMP_LT_OQ);
    return _mm256_blendv_ps(x, _mm256_mul_ps(x, alpha), negative);
}

void sn_f32_vlrelu_ukernel__avx2(size_t n, const float *x, float alpha, float *y) {
    const __m256 va = _mm256_set1_ps(alpha);
    for (; n >= 16; n -= 16, x += 16, y += 16) {
        const __m256 a = lrelu(_mm256_loadu_ps(x), va), b = lrelu(_mm256_loadu_ps(x + 8), va);
        _mm256_storeu_ps(y, a);
        _mm256_storeu_ps(y + 8, b);
    }
    if (n >= 8) {
        _mm256_storeu_ps(y, lrelu(_mm256_loadu_ps(x), va));
        n -= 8, x += 8, y += 8;
    }
    if (n != 0) {
        const __m256i m = sn_mask_avx2(n);
        _mm256_maskstore_ps(y, m, lrelu(_mm256_maskload_ps(x, m), va));
    }
}
