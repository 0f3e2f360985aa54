/* relu6, sigmoid, tanh, swish, hard_sigmoid and hard_swish for AVX-512F;
 * exp and tanh from SLEEF's AVX-512F functions (1.0-ULP). Two vectors per
 * step, the tail with masked loads and stores: nothing is read or written
 * past n. */
#include <immintrin.h>
#include <sleef.h>
#include <stddef.h>
#include <stdint.h>

#include "kernels/kernels.h"

enum op { RELU6, SIGMOID, TANH, SWISH, HARD_SIGMOID, HARD_SWISH };

/* 1 / (1 + exp(-x)), as the reference: exp(-x) overflows to +inf for
 * x < -88.7, giving 0, never inf / inf = NaN */
static inline __m512 sigmoid(__m512 x) {
    const __m512 one = _mm512_set1_ps(1.0f);
    const __m512 minus_x =
        _mm512_castsi512_ps(_mm512_xor_si512(_mm512_castps_si512(x), _mm512_set1_epi32(INT32_MIN)));
    return _mm512_div_ps(one, _mm512_add_ps(one, Sleef_expf16_u10avx512f(minus_x)));
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
        const __mmask16 m = (__mmask16)((1u << n) - 1);
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
