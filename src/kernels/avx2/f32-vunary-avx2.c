/* relu6, sigmoid, tanh, swish, hard_sigmoid and hard_swish for AVX2 + FMA;
 * exp and tanh from SLEEF's AVX2 functions (1.0-ULP). Two vectors per step,
 * the tail with masked loads and stores: nothing is read or written past
 * n. */
#include <immintrin.h>
#include <sleef.h>
#include <stddef.h>

#include "kernels/avx2/mask-avx2.h"
#include "kernels/kernels.h"

enum op { RELU6, SIGMOID, TANH, SWISH, HARD_SIGMOID, HARD_SWISH };

/* 1 / (1 + exp(-x)), as the reference: exp(-x) overflows to +inf for
 * x < -88.7, giving 0, never inf / inf = NaN */
static inline __m256 sigmoid(__m256 x) {
    const __m256 one = _mm256_set1_ps(1.0f);
    const __m256 e = Sleef_expf8_u10avx2(_mm256_xor_ps(x, _mm256_set1_ps(-0.0f)));
    return _mm256_div_ps(one, _mm256_add_ps(one, e));
}

/* min(max(x + 3, 0), 6): x + 3 is never -0, and a NaN passes (VMAXPS and
 * VMINPS return their second operand when either is NaN) */
static inline __m256 relu6_x3(__m256 x) {
    const __m256 r = _mm256_add_ps(x, _mm256_set1_ps(3.0f));
    return _mm256_min_ps(_mm256_set1_ps(6.0f), _mm256_max_ps(_mm256_setzero_ps(), r));
}

static inline __m256 apply(enum op op, __m256 x) {
    switch (op) {
    case RELU6:
        /* max(0, x), then min(6, .): VMAXPS and VMINPS return their second
         * operand when either is NaN or both are zero, so NaN and -0 pass
         * through, bit for bit the reference */
        return _mm256_min_ps(_mm256_set1_ps(6.0f), _mm256_max_ps(_mm256_setzero_ps(), x));
    case SIGMOID: return sigmoid(x);
    case TANH: return Sleef_tanhf8_u10avx2(x);
    /* the reference's float formulas (sn_f32_unary_ref), each operation
     * rounded as there: no fused multiply-add */
    case SWISH: return _mm256_mul_ps(x, sigmoid(x));
    case HARD_SIGMOID: return _mm256_mul_ps(relu6_x3(x), _mm256_set1_ps(1.0f / 6.0f));
    case HARD_SWISH:
        return _mm256_mul_ps(_mm256_mul_ps(x, relu6_x3(x)), _mm256_set1_ps(1.0f / 6.0f));
    }
    return x;
}

static inline void unary(enum op op, size_t n, const float *x, float *y) {
    for (; n >= 16; n -= 16, x += 16, y += 16) {
        __m256 a = apply(op, _mm256_loadu_ps(x)), b = apply(op, _mm256_loadu_ps(x + 8));
        _mm256_storeu_ps(y, a);
        _mm256_storeu_ps(y + 8, b);
    }
    if (n >= 8) {
        _mm256_storeu_ps(y, apply(op, _mm256_loadu_ps(x)));
        n -= 8, x += 8, y += 8;
    }
    if (n != 0) {
        const __m256i m = sn_mask_avx2(n);
        _mm256_maskstore_ps(y, m, apply(op, _mm256_maskload_ps(x, m)));
    }
}

void sn_f32_vrelu6_ukernel__avx2(size_t n, const float *x, float *y) { unary(RELU6, n, x, y); }
void sn_f32_vsigmoid_ukernel__avx2(size_t n, const float *x, float *y) { unary(SIGMOID, n, x, y); }
void sn_f32_vtanh_ukernel__avx2(size_t n, const float *x, float *y) { unary(TANH, n, x, y); }
void sn_f32_vswish_ukernel__avx2(size_t n, const float *x, float *y) { unary(SWISH, n, x, y); }
void sn_f32_vhsigmoid_ukernel__avx2(size_t n, const float *x, float *y) {
    unary(HARD_SIGMOID, n, x, y);
}
void sn_f32_vhswish_ukernel__avx2(size_t n, const float *x, float *y) {
    unary(HARD_SWISH, n, x, y);
}
