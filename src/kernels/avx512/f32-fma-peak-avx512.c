#include <immintrin.h>
#include <stdint.h>

#include "kernels/peak.h"

/* 24 independent chains of VFMADD (16 lanes each) in 24 of the 32 ZMM
 * registers: more than FMA latency x FMA units on any AVX-512 core so far
 * (4 cycles x 2 units = 8). acc = acc * a + b with a < 1 tends to
 * b / (1 - a): no overflow and no subnormals, however long it runs. */
/* clang-format off */
#define ACCS(X) \
    X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11) \
    X(12) X(13) X(14) X(15) X(16) X(17) X(18) X(19) X(20) X(21) X(22) X(23)
#define ACC_COUNT 24
/* clang-format on */
#define DECLARE(i) __m512 c##i = _mm512_set1_ps(0.01f * (i));
#define FMA(i) c##i = _mm512_fmadd_ps(c##i, a, b);
#define SUM(i) s = _mm512_add_ps(s, c##i);

uint64_t sn_f32_fma_peak__avx512(uint64_t iterations, float *sink) {
    volatile float va = 0.999f, vb = 0.001f; /* not constants to the compiler */
    const __m512 a = _mm512_set1_ps(va), b = _mm512_set1_ps(vb);
    ACCS(DECLARE)
    for (uint64_t i = 0; i < iterations; i++) {
        ACCS(FMA)
    }
    __m512 s = _mm512_setzero_ps();
    ACCS(SUM)
    *sink = _mm512_reduce_add_ps(s);
    return iterations * ACC_COUNT * 16 * 2;
}
