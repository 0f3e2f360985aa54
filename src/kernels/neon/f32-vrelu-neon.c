#include <arm_neon.h>
#include <stddef.h>

#include "kernels/kernels.h"
#include "kernels/neon/ieee-neon.h"

/* One source for aarch64 and armv7. vbsl keeps x where x >= 0 or x is NaN
 * (the compare is false for NaN), so NaN and -0.0 behave as in the
 * reference, bit for bit. sn_ltz_neon, not vcltq_f32: on armv7 GCC turns
 * the float compare into four VFP compares, and a NEON compare would
 * flush negative subnormals (see ieee-neon.h). */
static inline float32x4_t relu4(float32x4_t v, float32x4_t zero) {
    return vbslq_f32(sn_ltz_neon(v), zero, v);
}

void sn_f32_vrelu_ukernel__neon(size_t n, const float *x, float *y) {
    const float32x4_t zero = vdupq_n_f32(0.0f);
    for (; n >= 8; n -= 8, x += 8, y += 8) {
        float32x4_t a = vld1q_f32(x), b = vld1q_f32(x + 4);
        vst1q_f32(y, relu4(a, zero));
        vst1q_f32(y + 4, relu4(b, zero));
    }
    for (; n >= 4; n -= 4, x += 4, y += 4) vst1q_f32(y, relu4(vld1q_f32(x), zero));
    for (; n != 0; n--, x++, y++) *y = *x < 0.0f ? 0.0f : *x;
}
