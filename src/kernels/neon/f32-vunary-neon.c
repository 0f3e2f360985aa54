/* relu6, sigmoid, tanh, swish, hard_sigmoid and hard_swish for NEON, one
 * source for aarch64 and armv7; exp and tanh from SLEEF's NEON functions
 * (sleef-neon.h). Two vectors per step, then one, then a tail of 1 to 3
 * floats through a 4-float buffer: nothing is read or written past n.
 *
 * relu6 compares (the bits, on armv7: ieee-neon.h) and selects, computing
 * nothing, so it gives the reference's floats on both (NaN and -0 pass
 * through). hard_sigmoid and hard_swish compute the reference's formulas
 * operation by operation, so they give its floats too: x + 3 is never
 * subnormal (a nonzero sum near 0 is a multiple of 2^-22), so neither is
 * hard_sigmoid's result; hard_swish's x r and x r / 6 are not either once
 * |x| >= 2^-102 (r >= 2 when |x| <= 1, and x is near -3 when r is small),
 * so on armv7 a vector holding a tiny x, 0 < |x| < 2^-102, is done in
 * plain C (ieee-neon.h); first, blocks of 16 are checked with one
 * compare a vector against 2^-102, and only a block that fails it (a
 * zero, a NaN or a tiny x) is checked exactly. NaN stays NaN (any NaN,
 * on armv7).
 *
 * sigmoid on aarch64 is (x > 0 ? 1 : e) / (1 + e), e = exp(-|x|) by our
 * own exp (sigmoid-exp.h; as the x86 kernels, 2^n as two powers of two so
 * that subnormal results round once). On armv7 it is the reference's
 * 1 / (1 + exp(-x)) with SLEEF's exp. armv7 has
 * no vector division: VRECPE, two VRECPS steps and one fused Newton step
 * come as close as the division (2.2 FLT_EPSILON worst against libm on a
 * sweep of [-104, 104], as on aarch64 and AVX2). Where the result nears
 * FLT_MIN (below 2^-125, x < -86.6) NEON would flush it to 0, or make NaN
 * of 1 / inf: those vectors divide in VFP. swish is x times that sigmoid,
 * to the bit; in those vectors the product is taken in VFP too, as the
 * sigmoid may be subnormal there. tanh on armv7 flushes arguments and
 * results below FLT_MIN to 0 (ieee-neon.h), within the tests' FLT_MIN
 * absolute threshold; so do swish's for x below FLT_MIN. */
#include <arm_neon.h>
#include <stddef.h>
#include <string.h>

#include "kernels/kernels.h"
#include "kernels/sigmoid-exp.h"
#include "kernels/neon/ieee-neon.h"
#include "kernels/neon/sleef-neon.h"

enum op { RELU6, SIGMOID, TANH, SWISH, HARD_SIGMOID, HARD_SWISH };

#if SN_ARCH_ARM32
/* 1 + exp(-x): exp(-x) overflows to +inf for x < -88.7, giving a sigmoid
 * of 0, never NaN */
static inline float32x4_t denominator(float32x4_t x) {
    return vaddq_f32(vdupq_n_f32(1.0f), sn_expf4_neon(vnegq_f32(x)));
}

/* 1 / d, d >= 1, in NEON. The fused step's correction flushes to 0 once
 * r < 2^-104 (x < -72), where the VRECPS steps alone stay within 3
 * FLT_EPSILON. */
static inline float32x4_t reciprocal(float32x4_t d) {
    float32x4_t r = vrecpeq_f32(d);
    r = vmulq_f32(r, vrecpsq_f32(d, r));
    r = vmulq_f32(r, vrecpsq_f32(d, r));
    return vfmaq_f32(r, r, vfmsq_f32(vdupq_n_f32(1.0f), d, r));
}

/* Whether 1 / d < 2^-125 in a lane: NEON would flush it, or 1 / inf */
static inline int near_flt_min(float32x4_t d) {
    const uint32x4_t low = vcagtq_f32(d, vdupq_n_f32(0x1p125f));
    const uint32x2_t any = vorr_u32(vget_low_u32(low), vget_high_u32(low));
    return vget_lane_u32(vpmax_u32(any, any), 0) != 0;
}
#endif

#if SN_ARCH_ARM64
/* 0 where the reference's exp(-x) overflows (x < -88.7); a NaN stays NaN
 * (FMAX returns it, and it converts to n = 0) */
static inline float32x4_t sigmoid(float32x4_t x) {
    const float32x4_t one = vdupq_n_f32(1.0f);
    const float32x4_t z = vmaxq_f32(vnegq_f32(vabsq_f32(x)), vdupq_n_f32(SN_SIGMOID_EXP_MIN));
    const float32x4_t n = vrndnq_f32(vmulq_n_f32(z, SN_SIGMOID_LOG2E));
    float32x4_t t = vfmaq_n_f32(z, n, SN_SIGMOID_MINUS_LN2_HI);
    t = vfmaq_n_f32(t, n, SN_SIGMOID_MINUS_LN2_LO);
    float32x4_t p = vfmaq_f32(vdupq_n_f32(SN_SIGMOID_C4), vdupq_n_f32(SN_SIGMOID_C5), t);
    p = vfmaq_f32(vdupq_n_f32(SN_SIGMOID_C3), p, t);
    p = vfmaq_f32(vdupq_n_f32(SN_SIGMOID_C2), p, t);
    p = vfmaq_f32(vdupq_n_f32(SN_SIGMOID_C1), p, t);
    p = vfmaq_f32(one, p, t);
    const int32x4_t ni = vcvtq_s32_f32(n), h = vshrq_n_s32(ni, 1), bias = vdupq_n_s32(127);
    const float32x4_t s1 = vreinterpretq_f32_s32(vshlq_n_s32(vaddq_s32(h, bias), 23)),
                      s2 =
                          vreinterpretq_f32_s32(vshlq_n_s32(vaddq_s32(vsubq_s32(ni, h), bias), 23));
    const float32x4_t e = vbslq_f32(vcltq_f32(z, vdupq_n_f32(SN_SIGMOID_EXP_CUTOFF)),
                                    vdupq_n_f32(0.0f), vmulq_f32(vmulq_f32(p, s1), s2));
    return vdivq_f32(vbslq_f32(vcgtq_f32(x, vdupq_n_f32(0.0f)), one, e), vaddq_f32(one, e));
}
#else
static inline float32x4_t sigmoid(float32x4_t x) {
    const float32x4_t d = denominator(x);
    if (near_flt_min(d)) {
        float q[4];
        vst1q_f32(q, d);
        for (int i = 0; i < 4; i++) q[i] = 1.0f / q[i];
        return vld1q_f32(q);
    }
    return reciprocal(d);
}
#endif

/* x * sigmoid(x), the sigmoid computed as sigmoid() does */
static inline float32x4_t swish(float32x4_t x) {
#if SN_ARCH_ARM64
    return vmulq_f32(x, sigmoid(x));
#else
    const float32x4_t d = denominator(x);
    if (near_flt_min(d)) {
        float q[4], v[4];
        vst1q_f32(q, d);
        vst1q_f32(v, x);
        for (int i = 0; i < 4; i++) q[i] = v[i] * (1.0f / q[i]);
        return vld1q_f32(q);
    }
    return vmulq_f32(x, reciprocal(d));
#endif
}

/* min(max(x + 3, 0), 6): x + 3 is neither -0 nor subnormal, so VMAX and
 * VMIN (FMAX and FMIN) compare as the reference; a NaN gives NaN */
static inline float32x4_t relu6_x3(float32x4_t x) {
    const float32x4_t r = vaddq_f32(x, vdupq_n_f32(3.0f));
    return vminq_f32(vmaxq_f32(r, vdupq_n_f32(0.0f)), vdupq_n_f32(6.0f));
}

static inline float32x4_t apply(enum op op, float32x4_t x) {
    const float32x4_t sixth = vdupq_n_f32(1.0f / 6.0f);
    switch (op) {
    case RELU6: {
        /* x < 0 ? 0 : (x > 6 ? 6 : x) */
        const float32x4_t y = vbslq_f32(sn_ltz_neon(x), vdupq_n_f32(0.0f), x);
        return vbslq_f32(sn_gtc_neon(x, 6.0f), vdupq_n_f32(6.0f), y);
    }
    case SIGMOID: return sigmoid(x);
    case TANH: return sn_tanhf4_neon(x);
    case SWISH: return swish(x);
    /* the reference's float formulas, each operation rounded as there: no
     * fused multiply-add */
    case HARD_SIGMOID: return vmulq_f32(relu6_x3(x), sixth);
    case HARD_SWISH: return vmulq_f32(vmulq_f32(x, relu6_x3(x)), sixth);
    }
    return x;
}

/* Whether these floats must be done in plain C: hard_swish's with a tiny
 * one, on armv7 (see the top); never on aarch64. */
static inline int in_plain_c(enum op op, float32x4_t a, float32x4_t b) {
    return op == HARD_SWISH &&
           sn_tiny_any_neon(sn_tiny_add_neon(sn_tiny_add_neon(sn_tiny_none_neon(), a), b));
}

static inline void unary_checked(enum op op, size_t n, const float *x, float *y) {
    for (; n >= 8; n -= 8, x += 8, y += 8) {
        const float32x4_t x0 = vld1q_f32(x), x1 = vld1q_f32(x + 4);
        if (in_plain_c(op, x0, x1)) {
            sn_f32_unary_ref(SN_UNARY_HARD_SWISH, 8, x, y);
            continue;
        }
        const float32x4_t a = apply(op, x0), b = apply(op, x1);
        vst1q_f32(y, a);
        vst1q_f32(y + 4, b);
    }
    if (n >= 4) {
        const float32x4_t x0 = vld1q_f32(x);
        if (in_plain_c(op, x0, x0))
            sn_f32_unary_ref(SN_UNARY_HARD_SWISH, 4, x, y);
        else
            vst1q_f32(y, apply(op, x0));
        n -= 4, x += 4, y += 4;
    }
    if (n != 0) {
        float t[4] = {0.0f, 0.0f, 0.0f, 0.0f};
        memcpy(t, x, n * sizeof(float));
        const float32x4_t x0 = vld1q_f32(t);
        if (in_plain_c(op, x0, x0)) {
            sn_f32_unary_ref(SN_UNARY_HARD_SWISH, n, x, y);
            return;
        }
        vst1q_f32(t, apply(op, x0));
        memcpy(y, t, n * sizeof(float));
    }
}

#if SN_ARCH_ARM32
/* hard_swish, armv7: a block of 16 where every |x| >= 2^-102 (VACGE: a
 * subnormal x reads as 0 there, and a NaN fails too) is NEON's without
 * more ado, for two instructions a vector; any other block (with a zero,
 * a NaN or a tiny x) takes unary_checked()'s exact checks. */
static void hard_swish(size_t n, const float *x, float *y) {
    float32x4_t tiny = vdupq_n_f32(0x1p-102f), three = vdupq_n_f32(3.0f), zero = vdupq_n_f32(0.0f),
                six = vdupq_n_f32(6.0f), sixth = vdupq_n_f32(1.0f / 6.0f);
    for (; n >= 16; n -= 16) {
        /* kept in registers, not made again each time */
        __asm__("" : "+w"(tiny), "+w"(three), "+w"(zero), "+w"(six), "+w"(sixth));
        float32x4_t x0, x1, x2, x3;
        SN_NEON_LOAD16(x, x0, x1, x2, x3);
        const uint32x4_t big = vandq_u32(vandq_u32(vcageq_f32(x0, tiny), vcageq_f32(x1, tiny)),
                                         vandq_u32(vcageq_f32(x2, tiny), vcageq_f32(x3, tiny)));
        uint32x2_t m = vand_u32(vget_low_u32(big), vget_high_u32(big));
        m = vpmin_u32(m, m);
        if (vget_lane_u32(m, 0) == 0) {
            unary_checked(HARD_SWISH, 16, x - 16, y);
            y += 16;
            continue;
        }
        /* as apply(HARD_SWISH, x): (x min(max(x + 3, 0), 6)) / 6 */
#define HSWISH(v)                                                                                  \
    vmulq_f32(vmulq_f32(v, vminq_f32(vmaxq_f32(vaddq_f32(v, three), zero), six)), sixth)
        const float32x4_t y0 = HSWISH(x0), y1 = HSWISH(x1), y2 = HSWISH(x2), y3 = HSWISH(x3);
#undef HSWISH
        SN_NEON_STORE16(y, y0, y1, y2, y3);
    }
    unary_checked(HARD_SWISH, n, x, y);
}
#endif

static inline void unary(enum op op, size_t n, const float *x, float *y) {
#if SN_ARCH_ARM32
    if (op == HARD_SWISH) {
        hard_swish(n, x, y);
        return;
    }
#endif
    unary_checked(op, n, x, y);
}

void sn_f32_vrelu6_ukernel__neon(size_t n, const float *x, float *y) { unary(RELU6, n, x, y); }
void sn_f32_vsigmoid_ukernel__neonfma(size_t n, const float *x, float *y) {
    unary(SIGMOID, n, x, y);
}
void sn_f32_vtanh_ukernel__neonfma(size_t n, const float *x, float *y) { unary(TANH, n, x, y); }
void sn_f32_vswish_ukernel__neonfma(size_t n, const float *x, float *y) { unary(SWISH, n, x, y); }
void sn_f32_vhsigmoid_ukernel__neon(size_t n, const float *x, float *y) {
    unary(HARD_SIGMOID, n, x, y);
}
void sn_f32_vhswish_ukernel__neon(size_t n, const float *x, float *y) {
    unary(HARD_SWISH, n, x, y);
}
