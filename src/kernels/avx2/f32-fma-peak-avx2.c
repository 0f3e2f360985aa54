#include <immintrin.h>
#include <stdint.h>

#include "kernels/peak.h"

/* 12 independent chains of VFMADD (8 lanes each) in 12 of the 16 YMM
 * registers, leaving a, b and a spare: more than FMA latency x FMA units on
 * any AVX2 core so far (Haswell: 5 cycles x 2 units = 10; Zen, Skylake: 4 x
 * 2). acc = acc * a + b with a < 1 tends to b / (1 - a): no overflow and no
 * subnormals, however long it runs. */
/* clang-format off */
#define ACCS(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11)
#define ACC_COUNT 12
/* clang-format on */
#define DECLARE(i) __m256 c##i = _mm256_set1_ps(0.01f * (i));
#define FMA(i) c##i = _mm256_fmadd_ps(c##i, a, b);
#define SUM(i) s = _mm256_add_ps(s, c##i);

uint64_t sn_f32_fma_peak__avx2(uint64_t iterations, float *sink) {
    volatile float va = 0.999f, vb = 0.001f; /* not constants to the compiler */
    const __m256 a = _mm256_set1_ps(va), b = _mm256_set1_ps(vb);
    ACCS(DECLARE)
    for (uint64_t i = 0; i < iterations; i++) {
        ACCS(FMA)
    }
    __m256 s = _mm256_setzero_ps();
    ACCS(SUM)
    float lanes[8];
    _mm256_storeu_ps(lanes, s);
    *sink = lanes[0] + lanes[1] + lanes[2] + lanes[3] + lanes[4] + lanes[5] + lanes[6] + lanes[7];
    return iterations * ACC_COUNT * 8 * 2;
}
