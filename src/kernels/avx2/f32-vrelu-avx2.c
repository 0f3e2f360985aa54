#include <immintrin.h>
#include <stddef.h>
#include <stdint.h>

#include "kernels/kernels.h"

/* max(0, x): VMAXPS returns its second operand when either is NaN, so a NaN
 * in x comes out as NaN, as in the reference. */
void sn_f32_vrelu_ukernel__avx2(size_t n, const float *x, float *y) {
    const __m256 zero = _mm256_setzero_ps();
    for (; n >= 16; n -= 16, x += 16, y += 16) {
        __m256 a = _mm256_loadu_ps(x), b = _mm256_loadu_ps(x + 8);
        _mm256_storeu_ps(y, _mm256_max_ps(zero, a));
        _mm256_storeu_ps(y + 8, _mm256_max_ps(zero, b));
    }
    for (; n >= 8; n -= 8, x += 8, y += 8)
        _mm256_storeu_ps(y, _mm256_max_ps(zero, _mm256_loadu_ps(x)));
    if (n != 0) {
        /* Masked load and store: lanes i < n, nothing read or written past. */
        static const int32_t lanes[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};
        const __m256i mask = _mm256_loadu_si256((const __m256i *)&lanes[8 - n]);
        _mm256_maskstore_ps(y, mask, _mm256_max_ps(zero, _mm256_maskload_ps(x, mask)));
    }
}
