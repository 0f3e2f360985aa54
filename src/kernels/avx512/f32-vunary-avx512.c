/* relu6, sigmoid, tanh, swish, hard_sigmoid and hard_swish for AVX-512F;
 * tanh from SLEEF's AVX-512F function (1.0-ULP), the sigmoid's exp our own
 * (below). Two vectors per step, the tail with masked loads and stores:
 * nothing is read or written past n. */
#include <immintrin.h>
#include <sleef.h>
#include <stddef.h>
#include <stdint.h>

#include "kernels/avx512/mask-avx512.h"
#include "kernels/kernels.h"
#include "kernels/sigmoid-exp.h"

enum op { RELU6, SIGMOID, TANH, SWISH, HARD_SIGMOID, HARD_SWISH };

/* 1 / (1 + exp(-x)) as (x > 0 ? 1 : e) / (1 + e), e = exp(-|x|) in
 * (0, 1] (see sigmoid-exp.h): a third of the time of SLEEF's exp and a
 * division, within the reference's tolerance, subnormal results too
 * (VSCALEFPS makes them), and 0 where the reference's exp(-x) overflows;
 * a NaN stays NaN, -inf gives 0 and +inf 1. */
static inline __m512 sigmoid(__m512 x) {
    const __m512 one = _mm512_set1_ps(1.0f);
    /* -|x|, above where exp underflows to 0 (a NaN stays: VMAXPS returns
     * its second operand) */
    const __m512 z = _mm512_max_ps(
        _mm512_set1_ps(SN_SIGMOID_EXP_MIN),
        _mm512_castsi512_ps(_mm512_or_si512(_mm512_castps_si512(x), _mm512_set1_epi32(INT32_MIN))));
    const __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(z, _mm512_set1_ps(SN_SIGMOID_LOG2E)),
                                          _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512 t = _mm512_fmadd_ps(n, _mm512_set1_ps(SN_SIGMOID_MINUS_LN2_HI), z);
    t = _mm512_fmadd_ps(n, _mm512_set1_ps(SN_SIGMOID_MINUS_LN2_LO), t);
    __m512 p = _mm512_fmadd_ps(_mm512_set1_ps(SN_SIGMOID_C5), t, _mm512_set1_ps(SN_SIGMOID_C4));
    p = _mm512_fmadd_ps(p, t, _mm512_set1_ps(SN_SIGMOID_C3));
    p = _mm512_fmadd_ps(p, t, _mm512_set1_ps(SN_SIGMOID_C2));
    p = _mm512_fmadd_ps(p, t, _mm512_set1_ps(SN_SIGMOID_C1));
    p = _mm512_fmadd_ps(p, t, one);
    /* 0 where the reference's exp(-x) overflows (x < -88.7: 1 / inf) */
    const __m512 e = _mm512_mask_mov_ps(
        _mm512_scalef_ps(p, n),
        _mm512_cmp_ps_mask(z, _mm512_set1_ps(SN_SIGMOID_EXP_CUTOFF), _CMP_LT_OQ),
        _mm512_setzero_ps());
    const __m512 numerator =
        _mm512_mask_blend_ps(_mm512_cmp_ps_mask(x, _mm512_setzero_ps(), _CMP_GT_OQ), e, one);
    return _mm512_div_ps(numerator, _mm512_add_ps(one, e));
}

/* min(max(x + 3, 0), 6): x + 3 is never -0, and a NaN passes (VMAXPS and
 * VMINPS return their second operand when either is NaN) */
static inline __m512 relu6_x3(__m512 x) {
    const __m512 r = _mm512_add_ps(x, _mm512_set1_ps(3.0f));
    return _mm512_min_ps(_mm512_set1_ps(6.0f), _mm512_max_ps(_mm512_setzero_ps(), r));
}

static inline __m512 apply(enum op op, __m512 x) {
    switch (op) {
    case RELU6:
        /* max(0, x), then min(6, .): VMAXPS and VMINPS return their second
         * operand when either is NaN or both are zero, so NaN and -0 pass
         * through, bit for bit the reference */
        return _mm512_min_ps(_mm512_set1_ps(6.0f), _mm512_max_ps(_mm512_setzero_ps(), x));
    case SIGMOID: return sigmoid(x);
    case TANH: return Sleef_tanhf16_u10avx512f(x);
    /* the reference's float formulas (sn_f32_unary_ref), each operation
     * rounded as there: no fused multiply-add */
    case SWISH: return _mm512_mul_ps(x, sigmoid(x));
    case HARD_SIGMOID: return _mm512_mul_ps(relu6_x3(x), _mm512_set1_ps(1.0f / 6.0f));
    case HARD_SWISH:
        return _mm512_mul_ps(_mm512_mul_ps(x, relu6_x3(x)), _mm512_set1_ps(1.0f / 6.0f));
    }
    return x;
}

static inline void unary(enum op op, size_t n, const float *x, float *y) {
    for (; n >= 32; n -= 32, x += 32, y += 32) {
        __m512 a = apply(op, _mm512_loadu_ps(x)), b = apply(op, _mm512_loadu_ps(x + 16));
        _mm512_storeu_ps(y, a);
        _mm512_storeu_ps(y + 16, b);
    }
    if (n >= 16) {
        _mm512_storeu_ps(y, apply(op, _mm512_loadu_ps(x)));
        n -= 16, x += 16, y += 16;
    }
    if (n != 0) {
        const __mmask16 m = sn_mask_avx512(n);
        _mm512_mask_storeu_ps(y, m, apply(op, _mm512_maskz_loadu_ps(m, x)));
    }
}

void sn_f32_vrelu6_ukernel__avx512(size_t n, const float *x, float *y) { unary(RELU6, n, x, y); }
void sn_f32_vsigmoid_ukernel__avx512(size_t n, const float *x, float *y) {
    unary(SIGMOID, n, x, y);
}
void sn_f32_vtanh_ukernel__avx512(size_t n, const float *x, float *y) { unary(TANH, n, x, y); }
void sn_f32_vswish_ukernel__avx512(size_t n, const float *x, float *y) { unary(SWISH, n, x, y); }
void sn_f32_vhsigmoid_ukernel__avx512(size_t n, const float *x, float *y) {
    unary(HARD_SIGMOID, n, x, y);
}
void sn_f32_vhswish_ukernel__avx512(size_t n, const float *x, float *y) {
    unary(HARD_SWISH, n, x, y);
}
