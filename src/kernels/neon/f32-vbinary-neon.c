/* Add, subtract, maximum, multiply and reversed subtract (b - a) for NEON,
 * one source for aarch64 and armv7: same shape, a scalar operand, a vector
 * repeated over rows (see sn_f32_vbinary_fn in kernels.h). Two vectors per
 * step, then one, then 1 to 3 floats in plain C: nothing is read or written
 * past n. The reference's floats bit for bit (any NaN for a NaN): on armv7,
 * a block with a tiny operand, or a product flushed to zero, where flush to
 * zero could change the answer, is done in plain C too (ieee-neon.h).
 * A multiply by a repeated vector that is finite and has no subnormal
 * (the squeeze-excitation scale) checks only its products: mul_checked. */
#include <arm_neon.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "kernels/kernels.h"
#include "kernels/neon/ieee-neon.h"
#include "kernels/step.h"

enum op { ADD, SUB, MAX, MUL, RSUB };

/* The reference's maximum: a > b ? a : b, or a when a is NaN. FMAX / VMAX
 * gives that, and NaN for a NaN, but for equal operands: the reference
 * returns b (+0 and -0 in either order), VMAX +0. */
static inline float32x4_t apply(enum op op, float32x4_t a, float32x4_t b) {
    if (op == ADD) return vaddq_f32(a, b);
    if (op == SUB) return vsubq_f32(a, b);
    if (op == MUL) return vmulq_f32(a, b);
    if (op == RSUB) return vsubq_f32(b, a);
    return vbslq_f32(vceqq_f32(a, b), b, vmaxq_f32(a, b));
}

static inline float apply1(enum op op, float a, float b) {
    switch (op) {
    case ADD: return a + b;
    case SUB: return a - b;
    case MUL: return a * b;
    case RSUB: return b - a;
    default: return a > b || a != a ? a : b;
    }
}

/* The keys of y = a op b (ieee-neon.h): a product flushed to zero is tiny. */
static inline uint32x4_t flushed(enum op op, uint32x4_t keys, float32x4_t a, float32x4_t b,
                                 float32x4_t y) {
    return op == MUL ? sn_tiny_mul_neon(keys, a, b, y) : keys;
}

/* y[i] = a[i] op b[i * b_step], in plain C (VFP on armv7: IEEE). */
static inline void plain(enum op op, size_t n, const float *a, const float *b, size_t b_step,
                         float *y) {
    for (size_t i = 0; i < n; i++) y[i] = apply1(op, a[i], b[i * b_step]);
}

static inline void same(enum op op, size_t n, const float *a, const float *b, float *y) {
    for (; n >= 8; n -= 8, a += 8, b += 8, y += 8) {
        const float32x4_t a0 = vld1q_f32(a), a1 = vld1q_f32(a + 4);
        const float32x4_t b0 = vld1q_f32(b), b1 = vld1q_f32(b + 4);
        const float32x4_t y0 = apply(op, a0, b0), y1 = apply(op, a1, b1);
        uint32x4_t tiny = sn_tiny_add_neon(sn_tiny_add_neon(sn_tiny_none_neon(), a0), a1);
        tiny = sn_tiny_add_neon(sn_tiny_add_neon(tiny, b0), b1);
        tiny = flushed(op, flushed(op, tiny, a0, b0, y0), a1, b1, y1);
        if (sn_tiny_any_neon(tiny)) {
            plain(op, 8, a, b, 1, y);
            continue;
        }
        vst1q_f32(y, y0);
        vst1q_f32(y + 4, y1);
    }
    if (n >= 4) {
        const float32x4_t a0 = vld1q_f32(a), b0 = vld1q_f32(b), y0 = apply(op, a0, b0);
        uint32x4_t tiny = sn_tiny_add_neon(sn_tiny_add_neon(sn_tiny_none_neon(), a0), b0);
        if (sn_tiny_any_neon(flushed(op, tiny, a0, b0, y0)))
            plain(op, 4, a, b, 1, y);
        else
            vst1q_f32(y, y0);
        n -= 4, a += 4, b += 4, y += 4;
    }
    plain(op, n, a, b, 1, y);
}

static inline void scalar(enum op op, size_t n, const float *a, float b, float *y) {
    const float32x4_t vb = vdupq_n_f32(b);
    const uint32x4_t tiny_b = sn_tiny_add_neon(sn_tiny_none_neon(), vb);
    for (; n >= 8; n -= 8, a += 8, y += 8) {
        const float32x4_t a0 = vld1q_f32(a), a1 = vld1q_f32(a + 4);
        const float32x4_t y0 = apply(op, a0, vb), y1 = apply(op, a1, vb);
        uint32x4_t tiny = sn_tiny_add_neon(sn_tiny_add_neon(tiny_b, a0), a1);
        tiny = flushed(op, flushed(op, tiny, a0, vb, y0), a1, vb, y1);
        if (sn_tiny_any_neon(tiny)) {
            plain(op, 8, a, &b, 0, y);
            continue;
        }
        vst1q_f32(y, y0);
        vst1q_f32(y + 4, y1);
    }
    if (n >= 4) {
        const float32x4_t a0 = vld1q_f32(a), y0 = apply(op, a0, vb);
        if (sn_tiny_any_neon(flushed(op, sn_tiny_add_neon(tiny_b, a0), a0, vb, y0)))
            plain(op, 4, a, &b, 0, y);
        else
            vst1q_f32(y, y0);
        n -= 4, a += 4, y += 4;
    }
    plain(op, n, a, &b, 0, y);
}

#if SN_ARCH_ARM32
/* Whether every b[i] is finite and not subnormal (so NEON reads it as it
 * is): then mul_checked's check holds for a times b. */
static int clean(size_t n, const float *b) {
    uint32_t bad = 0;
    for (size_t i = 0; i < n; i++) {
        uint32_t u;
        memcpy(&u, &b[i], sizeof u);
        const uint32_t e = u & 0x7F800000;
        bad |= (e == 0x7F800000) | (e == 0 && (u & 0x7FFFFFFF) != 0);
    }
    return !bad;
}

/* y = a x b over n floats, b clean (above), armv7. NEON flushes a
 * subnormal a to a zero of its sign, and a product below FLT_MIN to a
 * zero; otherwise, with b finite and not subnormal, its product is IEEE's
 * (a NaN for a NaN, inf x 0 included). Either flush gives y = +-0 from an a
 * that is not +-0; a y = +-0 from an a = +-0 has IEEE's sign. So a block
 * of 16 where no y = +-0 comes from a nonzero a is IEEE's, checked with
 * two instructions a vector; any other block (b = 0 there, or a flush)
 * goes through same()'s checks. */
static void mul_checked(size_t n, const float *a, const float *b, float *y) {
    float32x4_t zero = vdupq_n_f32(0.0f);
    uint32x4_t magnitude = vdupq_n_u32(0x7FFFFFFF);
    for (; n >= 16; n -= 16) {
        /* kept in registers, not made again each time */
        __asm__("" : "+w"(zero), "+w"(magnitude));
        float32x4_t a0, a1, a2, a3, y0, y1, y2, y3;
        SN_NEON_LOAD16(a, a0, a1, a2, a3);
        y0 = vmulq_f32(a0, vld1q_f32(b));
        SN_STEP(b, 4);
        y1 = vmulq_f32(a1, vld1q_f32(b));
        SN_STEP(b, 4);
        y2 = vmulq_f32(a2, vld1q_f32(b));
        SN_STEP(b, 4);
        y3 = vmulq_f32(a3, vld1q_f32(b));
        SN_STEP(b, 4);
        /* a's bits where y = +-0 */
        const uint32x4_t z0 = vandq_u32(vreinterpretq_u32_f32(a0), vceqq_f32(y0, zero)),
                         z1 = vandq_u32(vreinterpretq_u32_f32(a1), vceqq_f32(y1, zero)),
                         z2 = vandq_u32(vreinterpretq_u32_f32(a2), vceqq_f32(y2, zero)),
                         z3 = vandq_u32(vreinterpretq_u32_f32(a3), vceqq_f32(y3, zero));
        const uint32x4_t z = vandq_u32(vorrq_u32(vorrq_u32(z0, z1), vorrq_u32(z2, z3)), magnitude);
        uint32x2_t m = vorr_u32(vget_low_u32(z), vget_high_u32(z));
        m = vpmax_u32(m, m);
        if (vget_lane_u32(m, 0) != 0) {
            same(MUL, 16, a - 16, b - 16, y);
            y += 16;
            continue;
        }
        SN_NEON_STORE16(y, y0, y1, y2, y3);
    }
    same(MUL, n, a, b, y);
}
#endif

static inline void row(enum op op, size_t rows, size_t channels, const float *a, const float *b,
                       float *y) {
#if SN_ARCH_ARM32
    if (op == MUL && channels >= 16 && clean(channels, b)) {
        for (size_t r = 0; r < rows; r++, a += channels, y += channels)
            mul_checked(channels, a, b, y);
        return;
    }
#endif
    for (size_t r = 0; r < rows; r++, a += channels, y += channels) same(op, channels, a, b, y);
}

SN_VBINARY_ENTRY_POINTS(ADD, add, neon)
SN_VBINARY_ENTRY_POINTS(SUB, sub, neon)
SN_VBINARY_ENTRY_POINTS(MAX, max, neon)
SN_VBINARY_ENTRY_POINTS(MUL, mul, neon)
SN_VBINARY_ENTRY_POINTS(RSUB, rsub, neon)
