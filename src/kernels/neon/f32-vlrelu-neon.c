/* Leaky relu for NEON, one source for aarch64 and armv7: x < 0 ? alpha x :
 * x, the reference's floats bit for bit. The compare is sn_ltz_neon (the
 * bits, on armv7: ieee-neon.h), false for NaN and -0, which pass through.
 * On armv7 a block with a tiny x or alpha, or a product alpha x flushed to
 * zero, is done in plain C (ieee-neon.h). Two vectors per step, then one,
 * then 1 to 3 floats in plain C: nothing is read or written past n. */
#include <arm_neon.h>
#include <stddef.h>

#include "kernels/kernels.h"
#include "kernels/neon/ieee-neon.h"

static inline void plain(size_t n, const float *x, float alpha, float *y) {
    for (size_t i = 0; i < n; i++) y[i] = x[i] < 0.0f ? alpha * x[i] : x[i];
}

void sn_f32_vlrelu_ukernel__neon(size_t n, const float *x, float alpha, float *y) {
    const float32x4_t va = vdupq_n_f32(alpha);
    const uint32x4_t tiny_alpha = sn_tiny_add_neon(sn_tiny_none_neon(), va);
    for (; n >= 8; n -= 8, x += 8, y += 8) {
        const float32x4_t x0 = vld1q_f32(x), x1 = vld1q_f32(x + 4);
        const float32x4_t p0 = vmulq_f32(x0, va), p1 = vmulq_f32(x1, va);
        uint32x4_t tiny = sn_tiny_add_neon(sn_tiny_add_neon(tiny_alpha, x0), x1);
        tiny = sn_tiny_mul_neon(sn_tiny_mul_neon(tiny, x0, va, p0), x1, va, p1);
        if (sn_tiny_any_neon(tiny)) {
            plain(8, x, alpha, y);
            continue;
        }
        vst1q_f32(y, vbslq_f32(sn_ltz_neon(x0), p0, x0));
        vst1q_f32(y + 4, vbslq_f32(sn_ltz_neon(x1), p1, x1));
    }
    if (n >= 4) {
        const float32x4_t x0 = vld1q_f32(x), p0 = vmulq_f32(x0, va);
        const uint32x4_t tiny = sn_tiny_mul_neon(sn_tiny_add_neon(tiny_alpha, x0), x0, va, p0);
        if (sn_tiny_any_neon(tiny))
            plain(4, x, alpha, y);
        else
            vst1q_f32(y, vbslq_f32(sn_ltz_neon(x0), p0, x0));
        n -= 4, x += 4, y += 4;
    }
    plain(n, x, alpha, y);
}
