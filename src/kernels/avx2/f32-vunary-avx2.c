/* relu6, sigmoid, tanh, swish, hard_sigmoid and hard_swish for AVX2 + FMA;
 * tanh from SLEEF's AVX2 function (1.0-ULP), the sigmoid's exp our own
 * (below). Two vectors per step, the tail with masked loads and stores:
 * nothing is read or written past n. */
#include <immintrin.h>
#include <sleef.h>
#include <stddef.h>

#include "kernels/avx2/mask-avx2.h"
#include "kernels/kernels.h"
#include "kernels/sigmoid-exp.h"

enum op { RELU6, SIGMOID, TANH, SWISH, HARD_SIGMOID, HARD_SWISH };

/* 1 / (1 + exp(-x)) as (x > 0 ? 1 : e) / (1 + e), e = exp(-|x|) in
 * (0, 1] (see sigmoid-exp.h): a third of the time of SLEEF's exp and a
 * division, within the reference's tolerance, and 0 where the reference's
 * exp(-x) overflows; a NaN stays NaN, -inf gives 0 and +inf 1. 2^n is
 * two powers of two, 2^h 2^(n - h) with h = floor(n / 2), each a normal
 * float down to n = -150, so that e rounds once into a subnormal. */
static inline __m256 sigmoid(__m256 x) {
    const __m256 one = _mm256_set1_ps(1.0f);
    /* -|x|, above where exp underflows to 0 (a NaN stays: VMAXPS returns
     * its second operand) */
    const __m256 z = _mm256_max_ps(_mm256_set1_ps(SN_SIGMOID_EXP_MIN),
                                   _mm256_or_ps(x, _mm256_set1_ps(-0.0f)));
    const __m256 n = _mm256_round_ps(_mm256_mul_ps(z, _mm256_set1_ps(SN_SIGMOID_LOG2E)),
                                     _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256 t = _mm256_fmadd_ps(n, _mm256_set1_ps(SN_SIGMOID_MINUS_LN2_HI), z);
    t = _mm256_fmadd_ps(n, _mm256_set1_ps(SN_SIGMOID_MINUS_LN2_LO), t);
    __m256 p = _mm256_fmadd_ps(_mm256_set1_ps(SN_SIGMOID_C5), t, _mm256_set1_ps(SN_SIGMOID_C4));
    p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(SN_SIGMOID_C3));
    p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(SN_SIGMOID_C2));
    p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(SN_SIGMOID_C1));
    p = _mm256_fmadd_ps(p, t, one);
    /* a NaN's n converts to INT32_MIN: its p is NaN, and so is e */
    const __m256i ni = _mm256_cvtps_epi32(n), h = _mm256_srai_epi32(ni, 1), bias = _mm256_set1_epi32(127);
    const __m256 s1 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(h, bias), 23)),
                 s2 = _mm256_castsi256_ps(
                     _mm256_slli_epi32(_mm256_add_epi32(_mm256_sub_epi32(ni, h), bias), 23));
    /* 0 where the reference's exp(-x) overflows (x < -88.7: 1 / inf) */
    const __m256 e = _mm256_andnot_ps(
        _mm256_cmp_ps(z, _mm256_set1_ps(SN_SIGMOID_EXP_CUTOFF), _CMP_LT_OQ),
        _mm256_mul_ps(_mm256_mul_ps(p, s1), s2));
    const __m256 numerator =
        _mm256_blendv_ps(e, one, _mm256_cmp_ps(x, _mm256_setzero_ps(), _CMP_GT_OQ));
    return _mm256_div_ps(numerator, _mm256_add_ps(one, e));
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
