/* relu6, sigmoid and tanh for NEON, one source for aarch64 and armv7; exp
 * and tanh from SLEEF's NEON functions (sleef-neon.h). Two vectors per
 * step, then one, then a tail of 1 to 3 floats through a 4-float buffer:
 * nothing is read or written past n.
 *
 * relu6 compares (the bits, on armv7: ieee-neon.h) and selects, computing
 * nothing, so it gives the reference's floats on both (NaN and -0 pass
 * through). sigmoid is the reference's 1 / (1 + exp(-x)); aarch64 divides.
 * armv7 has no vector division: VRECPE, two VRECPS steps and one fused
 * Newton step come as close as the division (2.2 FLT_EPSILON worst against
 * libm on a sweep of [-104, 104], as on aarch64 and AVX2). Where the result
 * nears FLT_MIN (below 2^-125, x < -86.6) NEON would flush it to 0, or make
 * NaN of 1 / inf: those vectors divide in VFP. tanh on armv7 flushes
 * arguments and results below FLT_MIN to 0 (ieee-neon.h), within the
 * tests' FLT_MIN absolute threshold. */
#include <arm_neon.h>
#include <stddef.h>
#include <string.h>

#include "kernels/kernels.h"
#include "kernels/neon/ieee-neon.h"
#include "kernels/neon/sleef-neon.h"

enum op { RELU6, SIGMOID, TANH };

static inline float32x4_t sigmoid(float32x4_t x) {
    const float32x4_t one = vdupq_n_f32(1.0f);
    /* exp(-x) overflows to +inf for x < -88.7, giving 0, never NaN */
    const float32x4_t d = vaddq_f32(one, sn_expf4_neon(vnegq_f32(x)));
#if SN_ARCH_ARM64
    return vdivq_f32(one, d);
#else
    /* The fused step's correction flushes to 0 once r < 2^-104 (x < -72),
     * where the VRECPS steps alone stay within 3 FLT_EPSILON. */
    float32x4_t r = vrecpeq_f32(d);
    r = vmulq_f32(r, vrecpsq_f32(d, r));
    r = vmulq_f32(r, vrecpsq_f32(d, r));
    r = vfmaq_f32(r, r, vfmsq_f32(one, d, r));
    const uint32x4_t low = vcagtq_f32(d, vdupq_n_f32(0x1p125f)); /* 1 / d < 2^-125 */
    const uint32x2_t any = vorr_u32(vget_low_u32(low), vget_high_u32(low));
    if (vget_lane_u32(vpmax_u32(any, any), 0)) {
        float q[4];
        vst1q_f32(q, d);
        for (int i = 0; i < 4; i++) q[i] = 1.0f / q[i];
        r = vld1q_f32(q);
    }
    return r;
#endif
}

static inline float32x4_t apply(enum op op, float32x4_t x) {
    switch (op) {
    case RELU6: {
        /* x < 0 ? 0 : (x > 6 ? 6 : x) */
        const float32x4_t y = vbslq_f32(sn_ltz_neon(x), vdupq_n_f32(0.0f), x);
        return vbslq_f32(sn_gtc_neon(x, 6.0f), vdupq_n_f32(6.0f), y);
    }
    case SIGMOID: return sigmoid(x);
    case TANH: return sn_tanhf4_neon(x);
    }
    return x;
}

static inline void unary(enum op op, size_t n, const float *x, float *y) {
    for (; n >= 8; n -= 8, x += 8, y += 8) {
        const float32x4_t a = apply(op, vld1q_f32(x)), b = apply(op, vld1q_f32(x + 4));
        vst1q_f32(y, a);
        vst1q_f32(y + 4, b);
    }
    if (n >= 4) {
        vst1q_f32(y, apply(op, vld1q_f32(x)));
        n -= 4, x += 4, y += 4;
    }
    if (n != 0) {
        float t[4] = {0.0f, 0.0f, 0.0f, 0.0f};
        memcpy(t, x, n * sizeof(float));
        vst1q_f32(t, apply(op, vld1q_f32(t)));
        memcpy(y, t, n * sizeof(float));
    }
}

void sn_f32_vrelu6_ukernel__neon(size_t n, const float *x, float *y) { unary(RELU6, n, x, y); }
void sn_f32_vsigmoid_ukernel__neonfma(size_t n, const float *x, float *y) {
    unary(SIGMOID, n, x, y);
}
void sn_f32_vtanh_ukernel__neonfma(size_t n, const float *x, float *y) { unary(TANH, n, x, y); }
