/* Where NEON parts from IEEE 754, which the reference kernels follow, and
 * how the exact NEON kernels (relu6, hard_sigmoid, hard_swish, leaky relu,
 * add, subtract, multiply, maximum, pools) keep the reference's floats
 * anyway.
 *
 * aarch64: Advanced SIMD obeys FPCR like the scalar unit (IEEE, subnormals
 * kept, under Linux): nothing to do, and the helpers here are plain float
 * compares or compile to nothing.
 *
 * armv7: Advanced SIMD always runs with the ARM ARM's StandardFPSCRValue():
 * flush to zero, default NaN, round to nearest. A subnormal operand counts
 * as a zero of its sign in every instruction, compares included, and a
 * subnormal result becomes zero (qemu models this); VFP, which plain C
 * uses, keeps them. So a block of data holding a "tiny" number,
 * 0 < |x| < 2^-102, is done in plain C. Without tiny numbers no flush can
 * happen: every float that is zero or at least 2^-102 in magnitude is a
 * multiple of 2^-125, so any sum of them is zero or at least
 * 2^-125 > FLT_MIN, and stays a multiple of 2^-125 when rounded. Tiny
 * numbers are rare in real data; the check costs three integer
 * instructions per vector. A product of numbers that are not tiny may
 * still fall below FLT_MIN (2^-70 x 2^-70): NEON flushes it to a zero,
 * from two nonzero operands, which no IEEE product is, so that zero is
 * marked tiny too (sn_tiny_mul_neon); any other NEON product of such
 * numbers is IEEE's. Default NaN means a NaN result may lose its
 * payload: the reference's contract is "NaN", not which one.
 *
 * GCC (12) keeps IEEE semantics for vcgtq_f32, vcgeq_f32, vcleq_f32 and
 * vcltq_f32 on armv7 by splitting each into four VFP compares (unless
 * -ffast-math); vceqq_f32, vcagtq_f32, vmaxq_f32 and vminq_f32 stay NEON
 * instructions. The armv7 paths use only those, or compare the bits. */
#ifndef SN_KERNELS_NEON_IEEE_NEON_H
#define SN_KERNELS_NEON_IEEE_NEON_H

#include <arm_neon.h>
#include <stdint.h>
#include <string.h>

#include "cpu/arch.h"
#include "kernels/step.h"

/* The check accumulates, lane by lane, the minimum of |x|'s bits shifted
 * left by one (the sign bit shifted out), minus 1: below 2^-102's bits
 * (0x0C800000) shifted, minus 1, means tiny; a zero wraps to UINT32_MAX. */
#define SN_TINY_KEY_NEON UINT32_C(0x18FFFFFF)

static inline uint32x4_t sn_tiny_none_neon(void) { return vdupq_n_u32(UINT32_MAX); }

static inline uint32x4_t sn_tiny_add_neon(uint32x4_t keys, float32x4_t x) {
#if SN_ARCH_ARM32
    const uint32x4_t twice = vshlq_n_u32(vreinterpretq_u32_f32(x), 1);
    return vminq_u32(keys, vsubq_u32(twice, vdupq_n_u32(1)));
#else
    (void)x;
    return keys;
#endif
}

/* Marks tiny, in `keys`, the lanes where NEON's y = a x b came out a zero
 * from two nonzero operands: a product flushed to zero (above). Nothing on
 * aarch64. */
static inline uint32x4_t sn_tiny_mul_neon(uint32x4_t keys, float32x4_t a, float32x4_t b,
                                          float32x4_t y) {
#if SN_ARCH_ARM32
    const uint32x4_t magnitude = vdupq_n_u32(0x7FFFFFFF);
    const uint32x4_t nonzero = vandq_u32(vtstq_u32(vreinterpretq_u32_f32(a), magnitude),
                                         vtstq_u32(vreinterpretq_u32_f32(b), magnitude));
    const uint32x4_t flushed = vbicq_u32(nonzero, vtstq_u32(vreinterpretq_u32_f32(y), magnitude));
    return vbicq_u32(keys, flushed); /* key 0: tiny */
#else
    (void)a, (void)b, (void)y;
    return keys;
#endif
}

/* Whether a tiny number went into `keys`: always false on aarch64. */
static inline int sn_tiny_any_neon(uint32x4_t keys) {
#if SN_ARCH_ARM32
    uint32x2_t m = vmin_u32(vget_low_u32(keys), vget_high_u32(keys));
    m = vpmin_u32(m, m);
    return vget_lane_u32(m, 0) < SN_TINY_KEY_NEON;
#else
    (void)keys;
    return 0;
#endif
}

/* x < 0 as the reference compares: true for every negative number down to
 * the smallest subnormal, false for -0 and NaN. armv7 compares the bits:
 * x < 0 exactly when they lie in [0x80000001, 0xFF800000]. */
static inline uint32x4_t sn_ltz_neon(float32x4_t x) {
#if SN_ARCH_ARM64
    return vcltzq_f32(x);
#else
    const uint32x4_t u = vsubq_u32(vreinterpretq_u32_f32(x), vdupq_n_u32(0x80000001));
    return vcltq_u32(u, vdupq_n_u32(0x7F800000));
#endif
}

/* x > c for a constant c >= 0 (not NaN), as the reference compares: false
 * for NaN. armv7 compares the bits: x > c exactly when they lie in
 * [c's bits + 1, 0x7F800000] (+inf included). */
static inline uint32x4_t sn_gtc_neon(float32x4_t x, float c) {
#if SN_ARCH_ARM64
    return vcgtq_f32(x, vdupq_n_f32(c));
#else
    uint32_t bits;
    memcpy(&bits, &c, sizeof bits);
    const uint32x4_t u = vsubq_u32(vreinterpretq_u32_f32(x), vdupq_n_u32(bits + 1));
    return vcltq_u32(u, vdupq_n_u32(0x7F800000 - bits));
#endif
}

/* The armv7 checked loops' blocks of 16 floats: four vectors loaded from
 * (stored to) p, which steps past each, so that every access
 * post-increments its base register. */
#define SN_NEON_LOAD16(p, v0, v1, v2, v3)                                                          \
    do {                                                                                           \
        v0 = vld1q_f32(p);                                                                         \
        SN_STEP(p, 4);                                                                             \
        v1 = vld1q_f32(p);                                                                         \
        SN_STEP(p, 4);                                                                             \
        v2 = vld1q_f32(p);                                                                         \
        SN_STEP(p, 4);                                                                             \
        v3 = vld1q_f32(p);                                                                         \
        SN_STEP(p, 4);                                                                             \
    } while (0)
#define SN_NEON_STORE16(p, v0, v1, v2, v3)                                                         \
    do {                                                                                           \
        vst1q_f32(p, v0);                                                                          \
        SN_STEP(p, 4);                                                                             \
        vst1q_f32(p, v1);                                                                          \
        SN_STEP(p, 4);                                                                             \
        vst1q_f32(p, v2);                                                                          \
        SN_STEP(p, 4);                                                                             \
        vst1q_f32(p, v3);                                                                          \
        SN_STEP(p, 4);                                                                             \
    } while (0)

#endif /* SN_KERNELS_NEON_IEEE_NEON_H */
