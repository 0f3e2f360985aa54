/* The mean over rows for AVX2, vectorized across channels: blocks of 64
 * channels (8 ymm accumulators) down all the rows, then the last 1 to 63
 * channels in one more pass with as many accumulators as they need. A
 * channel's sum is a chain of dependent adds, one per row, so a pass costs
 * about rows x the add's latency whatever its width: one pass for the
 * rest, not one per 8 channels. The last, partial vector of a call of 8
 * channels or more is loaded as the 8 floats that end at its last channel,
 * its lanes turned into place; only calls of fewer channels use
 * VMASKMOVPS. On this EPYC (Zen 4; noisy, shared), a pass of 12544 rows of
 * 32 channels (a squeeze-and-excitation block of 112x112) took 67 us as 4
 * passes of 8, 60 as one pass whose last vector came through VMASKMOVPS,
 * 16-25 as one of plain loads (why VMASKMOVPS cost that much there is not
 * known: 3136 rows of 5 channels through it alone took 2.3 us). Each
 * channel adds its rows in order from row 0 and is divided once, as the
 * reference, so the floats are the reference's bit for bit. */
#include <immintrin.h>
#include <stddef.h>

#include "kernels/avx2/mask-avx2.h"
#include "kernels/kernels.h"

/* How block() loads its last vector. */
enum last_load {
    FULL,    /* a plain load */
    MASKED,  /* VMASKMOVPS through `mask` */
    SHIFTED, /* the 8 floats ending at its last lane, turned by `turn` */
};

/* Channels [0, 8 k) of output from input (rows `input_stride` bytes
 * apart), the last vector loaded as `last` says and stored through `mask`
 * unless FULL. k and last are constants where it is called: the
 * accumulators live in registers. */
static inline __attribute__((always_inline)) void
block(size_t rows, const float *input, size_t input_stride, int k, enum last_load last,
      __m256i mask, __m256i turn, size_t back, __m256 divisor, float *output) {
    __m256 a[8];
    const char *p = (const char *)input;
    for (int j = 0; j < k; j++) a[j] = _mm256_setzero_ps();
    for (size_t r = 0; r < rows; r++, p += input_stride) {
        const float *x = (const float *)p;
        for (int j = 0; j < k; j++) {
            __m256 v;
            if (j < k - 1 || last == FULL)
                v = _mm256_loadu_ps(x + 8 * j);
            else if (last == MASKED)
                v = _mm256_maskload_ps(x + 8 * j, mask);
            else
                v = _mm256_permutevar8x32_ps(_mm256_loadu_ps(x + 8 * j - back), turn);
            a[j] = r ? _mm256_add_ps(a[j], v) : v;
        }
    }
    for (int j = 0; j < k; j++) {
        const __m256 y = _mm256_div_ps(a[j], divisor);
        if (j == k - 1 && last != FULL)
            _mm256_maskstore_ps(output + 8 * j, mask, y);
        else
            _mm256_storeu_ps(output + 8 * j, y);
    }
}

void sn_f32_rdmean_ukernel__avx2(size_t rows, size_t channels, const float *input,
                                 size_t input_stride, float divisor, float *output) {
    const __m256 d = _mm256_set1_ps(divisor);
    const __m256i all = _mm256_set1_epi32(-1);
    size_t c = 0;
    for (; c + 64 <= channels; c += 64)
        block(rows, input + c, input_stride, 8, FULL, all, all, 0, d, output + c);
    const size_t left = channels - c;
    if (!left) return;
    const size_t tail = left - (left - 1) / 8 * 8, back = 8 - tail; /* 1 to 8 lanes */
    const __m256i m = sn_mask_avx2(tail);
    /* lane i of the turned vector is lane i + back of the loaded one */
    const __m256i turn =
        _mm256_add_epi32(_mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7), _mm256_set1_epi32((int)back));
    const enum last_load how = tail == 8 ? FULL : channels >= 8 ? SHIFTED : MASKED;
    input += c, output += c;
#define SN_TAIL_(k)                                                                                \
    if (how == FULL)                                                                               \
        block(rows, input, input_stride, k, FULL, m, turn, back, d, output);                       \
    else if (how == SHIFTED)                                                                       \
        block(rows, input, input_stride, k, SHIFTED, m, turn, back, d, output);                    \
    else                                                                                           \
        block(rows, input, input_stride, k, MASKED, m, turn, back, d, output);                     \
    break;
    switch ((left + 7) / 8) {
    case 1: SN_TAIL_(1)
    case 2: SN_TAIL_(2)
    case 3: SN_TAIL_(3)
    case 4: SN_TAIL_(4)
    case 5: SN_TAIL_(5)
    case 6: SN_TAIL_(6)
    case 7: SN_TAIL_(7)
    default: SN_TAIL_(8)
    }
#undef SN_TAIL_
}
