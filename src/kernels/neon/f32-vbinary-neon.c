/* Add, subtract, maximum, multiply and reversed subtract (b - a) for NEON,
 * one source for aarch64 and armv7: same shape, a scalar operand, a vector
 * repeated over rows (see sn_f32_vbinary_fn in kernels.h). Two vectors per
 * step, then one, then 1 to 3 floats in plain C: nothing is read or written
 * past n. The reference's floats bit for bit (any NaN for a NaN): on armv7,
 * a block with a tiny operand, or a product flushed to zero, where flush to
 * zero could change the answer, is done in plain C too (ieee-neon.h). */
#include <arm_neon.h>
#include <stddef.h>

#include "kernels/kernels.h"
#include "kernels/neon/ieee-neon.h"

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

static inline void row(enum op op, size_t rows, size_t channels, const float *a, const float *b,
                       float *y) {
    for (size_t r = 0; r < rows; r++, a += channels, y += channels) same(op, channels, a, b, y);
}

SN_VBINARY_ENTRY_POINTS(ADD, add, neon)
SN_VBINARY_ENTRY_POINTS(SUB, sub, neon)
SN_VBINARY_ENTRY_POINTS(MAX, max, neon)
SN_VBINARY_ENTRY_POINTS(MUL, mul, neon)
SN_VBINARY_ENTRY_POINTS(RSUB, rsub, neon)
