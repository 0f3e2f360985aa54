/* The mean over rows for AVX-512F, vectorized across channels: blocks of
 * 128 channels (8 zmm accumulators) down all the rows, then the last 1 to
 * 127 channels in one more pass with as many accumulators as they need,
 * the last one masked. A channel's sum is a chain of dependent adds, one
 * per row, so a pass costs about rows x the add's latency whatever its
 * width: one pass for the rest, not one per 16 channels. Each channel adds
 * its rows in order from row 0 and is divided once, as the reference, so
 * the floats are the reference's bit for bit. */
#include <immintrin.h>
#include <stddef.h>

#include "kernels/avx512/mask-avx512.h"
#include "kernels/kernels.h"

/* Channels [0, 16 k) of output from input (rows `input_stride` bytes
 * apart), the last vector through `mask`. k is a constant where it is
 * called: the accumulators live in registers. */
static inline __attribute__((always_inline)) void block(size_t rows, const float *input,
                                                        size_t input_stride, int k, __mmask16 mask,
                                                        __m512 divisor, float *output) {
    __m512 a[8];
    const char *p = (const char *)input;
    for (int j = 0; j < k; j++) a[j] = _mm512_setzero_ps();
    for (size_t r = 0; r < rows; r++, p += input_stride) {
        const float *x = (const float *)p;
        for (int j = 0; j < k; j++) {
            const __m512 v =
                j == k - 1 ? _mm512_maskz_loadu_ps(mask, x + 16 * j) : _mm512_loadu_ps(x + 16 * j);
            a[j] = r ? _mm512_add_ps(a[j], v) : v;
        }
    }
    for (int j = 0; j < k; j++) {
        const __m512 y = _mm512_div_ps(a[j], divisor);
        if (j == k - 1)
            _mm512_mask_storeu_ps(output + 16 * j, mask, y);
        else
            _mm512_storeu_ps(output + 16 * j, y);
    }
}

void sn_f32_rdmean_ukernel__avx512(size_t rows, size_t channels, const float *input,
                                   size_t input_stride, float divisor, float *output) {
    const __m512 d = _mm512_set1_ps(divisor);
    size_t c = 0;
    for (; c + 128 <= channels; c += 128)
        block(rows, input + c, input_stride, 8, (__mmask16)0xffff, d, output + c);
    const size_t left = channels - c;
    if (!left) return;
    const size_t last = left - (left - 1) / 16 * 16; /* 1 to 16 */
    const __mmask16 m = sn_mask_avx512(last);
    input += c, output += c;
    switch ((left + 15) / 16) {
    case 1: block(rows, input, input_stride, 1, m, d, output); break;
    case 2: block(rows, input, input_stride, 2, m, d, output); break;
    case 3: block(rows, input, input_stride, 3, m, d, output); break;
    case 4: block(rows, input, input_stride, 4, m, d, output); break;
    case 5: block(rows, input, input_stride, 5, m, d, output); break;
    case 6: block(rows, input, input_stride, 6, m, d, output); break;
    case 7: block(rows, input, input_stride, 7, m, d, output); break;
    default: block(rows, input, input_stride, 8, m, d, output); break;
    }
}
