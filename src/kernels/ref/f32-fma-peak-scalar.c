#include <stdint.h>

#include "kernels/peak.h"

/* The ceiling of the scalar kernel set: plain C multiply-adds built for the
 * baseline, as the reference kernels are. The compiler vectorizes those
 * where the baseline has vectors (SSE2 on x86-64, ASIMD on aarch64), so a
 * one-float loop would be a ceiling they beat; here each chain is a 4-float
 * GNU C vector, which becomes one register there and four floats where
 * there are no vectors (armv6 and armv7 VFP, which get 1-float chains so as
 * not to run out of registers). Twelve chains, with a and b, fit the 16
 * registers of every target. x86-64's baseline has no FMA: a MULPS and an
 * ADDPS, 2 flops per lane as an FMA is. acc = acc * a + b with a < 1 tends
 * to b / (1 - a): no overflow and no subnormals, however long it runs. */
#if defined(__SSE2__) || defined(__ARM_NEON) || defined(__aarch64__)
typedef float chain __attribute__((vector_size(16)));
#define LANES 4
#define SPLAT(x) ((chain){(x), (x), (x), (x)})
#else
typedef float chain;
#define LANES 1
#define SPLAT(x) (x)
#endif

/* clang-format off */
#define ACCS(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11)
#define ACC_COUNT 12
/* clang-format on */
#define DECLARE(i) chain c##i = SPLAT(0.01f * (i));
#define FMA(i) c##i = c##i * a + b;
#define SUM(i) s += c##i;

uint64_t sn_f32_fma_peak__scalar(uint64_t iterations, float *sink) {
    volatile float va = 0.999f, vb = 0.001f; /* not constants to the compiler */
    const chain a = SPLAT(va), b = SPLAT(vb);
    ACCS(DECLARE)
    for (uint64_t i = 0; i < iterations; i++) {
        ACCS(FMA)
    }
    chain s = SPLAT(0.0f);
    ACCS(SUM)
    float total = 0.0f;
    for (int lane = 0; lane < LANES; lane++) total += ((const float *)&s)[lane];
    *sink = total;
    return iterations * ACC_COUNT * LANES * 2;
}
