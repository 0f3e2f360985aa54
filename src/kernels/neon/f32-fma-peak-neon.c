#include <arm_neon.h>
#include <stdint.h>

#include "kernels/peak.h"

/* Independent chains of VFMA.F32 / FMLA (4 lanes each), one source for
 * aarch64 and armv7: aarch64 has 32 Q registers and takes 20 chains (more
 * than latency x units on a Cortex-A76 or X1: 4 cycles x 2, or on an A53);
 * armv7 has 16 and takes 12, leaving a, b and a spare. vfmaq_f32 on armv7
 * needs VFPv4, which the dispatcher checks. acc = acc * a + b with a < 1
 * tends to b / (1 - a): no overflow and no subnormals, however long it
 * runs. */
/* clang-format off */
#if SN_ARCH_ARM64
#define ACCS(X) \
    X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11) \
    X(12) X(13) X(14) X(15) X(16) X(17) X(18) X(19)
#define ACC_COUNT 20
#else
#define ACCS(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11)
#define ACC_COUNT 12
#endif
/* clang-format on */
#define DECLARE(i) float32x4_t c##i = vdupq_n_f32(0.01f * (i));
#define FMA(i) c##i = vfmaq_f32(b, c##i, a);
#define SUM(i) s = vaddq_f32(s, c##i);

uint64_t sn_f32_fma_peak__neon(uint64_t iterations, float *sink) {
    volatile float va = 0.999f, vb = 0.001f; /* not constants to the compiler */
    const float32x4_t a = vdupq_n_f32(va), b = vdupq_n_f32(vb);
    ACCS(DECLARE)
    for (uint64_t i = 0; i < iterations; i++) {
        ACCS(FMA)
    }
    float32x4_t s = vdupq_n_f32(0.0f);
    ACCS(SUM)
    *sink =
        vgetq_lane_f32(s, 0) + vgetq_lane_f32(s, 1) + vgetq_lane_f32(s, 2) + vgetq_lane_f32(s, 3);
    return iterations * ACC_COUNT * 4 * 2;
}
