#include <immintrin.h>
#include <stddef.h>

#include "kernels/avx512/mask-avx512.h"
#include "kernels/kernels.h"

/* max(0, x): VMAXPS returns its second operand when either is NaN, so a NaN
 * in x comes out as NaN, as in the reference. */
void sn_f32_vrelu_ukernel__avx512(size_t n, const float *x, float *y) {
    const __m512 zero = _mm512_setzero_ps();
    for (; n >= 32; n -= 32, x += 32, y += 32) {
        __m512 a = _mm512_loadu_ps(x), b = _mm512_loadu_ps(x + 16);
        _mm512_storeu_ps(y, _mm512_max_ps(zero, a));
        _mm512_storeu_ps(y + 16, _mm512_max_ps(zero, b));
    }
    for (; n >= 16; n -= 16, x += 16, y += 16)
        _mm512_storeu_ps(y, _mm512_max_ps(zero, _mm512_loadu_ps(x)));
    if (n != 0) {
        const __mmask16 m = sn_mask_avx512(n);
        _mm512_mask_storeu_ps(y, m, _mm512_max_ps(zero, _mm512_maskz_loadu_ps(m, x)));
    }
}
