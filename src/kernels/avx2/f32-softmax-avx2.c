/* Softmax over rows for AVX2 + FMA, in three passes per row: the maximum,
 * y = exp(x - max) (SLEEF's AVX2 expf, 1.0-ULP) with their sum, and y times
 * 1 / sum. Tails with masked loads and stores: nothing is read or written
 * past a row. Against the reference: the sum is added in another order, and
 * y is multiplied by the reciprocal instead of divided (a few ULP). A NaN or
 * +inf in a row makes the whole row NaN, as in the reference: the maximum
 * may miss a NaN, but its exp joins the sum. */
#include <immintrin.h>
#include <math.h>
#include <sleef.h>
#include <stddef.h>

#include "kernels/avx2/mask-avx2.h"
#include "kernels/kernels.h"

static inline float hmax(__m256 v) {
    __m128 m = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    m = _mm_max_ps(m, _mm_movehl_ps(m, m));
    m = _mm_max_ss(m, _mm_movehdup_ps(m));
    return _mm_cvtss_f32(m);
}

static inline float hsum(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

static void row(size_t n, const float *x, float *y) {
    const __m256 minus_inf = _mm256_set1_ps(-INFINITY);
    __m256 m0 = minus_inf, m1 = minus_inf;
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        m0 = _mm256_max_ps(m0, _mm256_loadu_ps(x + i));
        m1 = _mm256_max_ps(m1, _mm256_loadu_ps(x + i + 8));
    }
    if (i + 8 <= n) m0 = _mm256_max_ps(m0, _mm256_loadu_ps(x + i)), i += 8;
    const __m256i tail = sn_mask_avx2(n - i);
    if (i < n)
        m1 = _mm256_max_ps(m1, _mm256_blendv_ps(minus_inf, _mm256_maskload_ps(x + i, tail),
                                                _mm256_castsi256_ps(tail)));
    const __m256 max = _mm256_set1_ps(hmax(_mm256_max_ps(m0, m1)));

    __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps();
    for (i = 0; i + 16 <= n; i += 16) {
        __m256 e0 = Sleef_expf8_u10avx2(_mm256_sub_ps(_mm256_loadu_ps(x + i), max));
        __m256 e1 = Sleef_expf8_u10avx2(_mm256_sub_ps(_mm256_loadu_ps(x + i + 8), max));
        _mm256_storeu_ps(y + i, e0);
        _mm256_storeu_ps(y + i + 8, e1);
        s0 = _mm256_add_ps(s0, e0);
        s1 = _mm256_add_ps(s1, e1);
    }
    if (i + 8 <= n) {
        __m256 e = Sleef_expf8_u10avx2(_mm256_sub_ps(_mm256_loadu_ps(x + i), max));
        _mm256_storeu_ps(y + i, e);
        s0 = _mm256_add_ps(s0, e);
        i += 8;
    }
    if (i < n) {
        /* lanes past n would add exp(0 - max), possibly +inf: zero them */
        __m256 e = Sleef_expf8_u10avx2(_mm256_sub_ps(_mm256_maskload_ps(x + i, tail), max));
        e = _mm256_and_ps(e, _mm256_castsi256_ps(tail));
        _mm256_maskstore_ps(y + i, tail, e);
        s1 = _mm256_add_ps(s1, e);
    }
    const __m256 scale = _mm256_set1_ps(1.0f / hsum(_mm256_add_ps(s0, s1)));

    for (i = 0; i + 16 <= n; i += 16) {
        _mm256_storeu_ps(y + i, _mm256_mul_ps(_mm256_loadu_ps(y + i), scale));
        _mm256_storeu_ps(y + i + 8, _mm256_mul_ps(_mm256_loadu_ps(y + i + 8), scale));
    }
    if (i + 8 <= n) _mm256_storeu_ps(y + i, _mm256_mul_ps(_mm256_loadu_ps(y + i), scale)), i += 8;
    if (i < n)
        _mm256_maskstore_ps(y + i, tail, _mm256_mul_ps(_mm256_maskload_ps(y + i, tail), scale));
}

void sn_f32_softmax_ukernel__avx2(size_t rows, size_t cols, const float *x, float *y) {
    for (size_t r = 0; r < rows; r++, x += cols, y += cols) row(cols, x, y);
}
