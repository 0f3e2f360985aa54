/* Softmax over rows for NEON, one source for aarch64 and armv7, in three
 * passes per row: the maximum, y = exp(x - max) (SLEEF's NEON expf, 1.0-ULP,
 * sleef-neon.h) with their sum, and y times 1 / sum. Two vectors per step,
 * then one; a row's last 1 to 3 floats go through a 4-float buffer padded
 * with -inf, whose exp adds 0 to the sum: nothing is read or written past a
 * row. Against the reference: the sum is added in another order, and y is
 * multiplied by the reciprocal instead of divided (a few ULP). A NaN or +inf
 * in a row makes the whole row NaN, as in the reference: the maximum may
 * differ (FMAX takes a NaN the reference skips), but the NaN's exp joins the
 * sum either way. On armv7, exp's results below FLT_MIN are flushed to 0
 * (ieee-neon.h), within the tests' FLT_MIN absolute threshold. */
#include <arm_neon.h>
#include <math.h>
#include <stddef.h>
#include <string.h>

#include "kernels/kernels.h"
#include "kernels/neon/sleef-neon.h"

static inline float hmax(float32x4_t v) {
#if SN_ARCH_ARM64
    return vmaxvq_f32(v);
#else
    float32x2_t m = vpmax_f32(vget_low_f32(v), vget_high_f32(v));
    return vget_lane_f32(vpmax_f32(m, m), 0);
#endif
}

static inline float hsum(float32x4_t v) {
#if SN_ARCH_ARM64
    return vaddvq_f32(v);
#else
    float32x2_t s = vadd_f32(vget_low_f32(v), vget_high_f32(v));
    return vget_lane_f32(vpadd_f32(s, s), 0);
#endif
}

/* x[0, n), 1 <= n <= 3, and -inf after */
static inline float32x4_t load_tail(const float *x, size_t n) {
    float t[4] = {-INFINITY, -INFINITY, -INFINITY, -INFINITY};
    memcpy(t, x, n * sizeof(float));
    return vld1q_f32(t);
}

static void row(size_t n, const float *x, float *y) {
    float32x4_t m0 = vdupq_n_f32(-INFINITY), m1 = m0;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        m0 = vmaxq_f32(m0, vld1q_f32(x + i));
        m1 = vmaxq_f32(m1, vld1q_f32(x + i + 4));
    }
    if (i + 4 <= n) m0 = vmaxq_f32(m0, vld1q_f32(x + i)), i += 4;
    if (i < n) m1 = vmaxq_f32(m1, load_tail(x + i, n - i));
    const float32x4_t max = vdupq_n_f32(hmax(vmaxq_f32(m0, m1)));

    float32x4_t s0 = vdupq_n_f32(0.0f), s1 = s0;
    for (i = 0; i + 8 <= n; i += 8) {
        const float32x4_t e0 = sn_expf4_neon(vsubq_f32(vld1q_f32(x + i), max));
        const float32x4_t e1 = sn_expf4_neon(vsubq_f32(vld1q_f32(x + i + 4), max));
        vst1q_f32(y + i, e0);
        vst1q_f32(y + i + 4, e1);
        s0 = vaddq_f32(s0, e0);
        s1 = vaddq_f32(s1, e1);
    }
    if (i + 4 <= n) {
        const float32x4_t e = sn_expf4_neon(vsubq_f32(vld1q_f32(x + i), max));
        vst1q_f32(y + i, e);
        s0 = vaddq_f32(s0, e);
        i += 4;
    }
    if (i < n) {
        /* the padding's exp(-inf - max) is 0, unless max is -inf, NaN or
         * +inf: then the row is NaN anyway */
        float t[4];
        const float32x4_t e = sn_expf4_neon(vsubq_f32(load_tail(x + i, n - i), max));
        vst1q_f32(t, e);
        memcpy(y + i, t, (n - i) * sizeof(float));
        s1 = vaddq_f32(s1, e);
    }
    const float scale = 1.0f / hsum(vaddq_f32(s0, s1));

    const float32x4_t vscale = vdupq_n_f32(scale);
    for (i = 0; i + 8 <= n; i += 8) {
        vst1q_f32(y + i, vmulq_f32(vld1q_f32(y + i), vscale));
        vst1q_f32(y + i + 4, vmulq_f32(vld1q_f32(y + i + 4), vscale));
    }
    if (i + 4 <= n) vst1q_f32(y + i, vmulq_f32(vld1q_f32(y + i), vscale)), i += 4;
    for (; i < n; i++) y[i] *= scale;
}

void sn_f32_softmax_ukernel__neonfma(size_t rows, size_t cols, const float *x, float *y) {
    for (size_t r = 0; r < rows; r++, x += cols, y += cols) row(cols, x, y);
}
