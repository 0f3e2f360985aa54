/* Max and average pooling for AVX-512F, NHWC, vectorized over channels: per
 * output pixel, 64 channels at a time (4 zmm accumulators) over the part of
 * the window inside the input, the last 64 or fewer ending in a masked
 * vector. Each sum is added in the reference's order (window rows, then
 * columns) and divided by the same count, so both kernels give the
 * reference's floats bit for bit, NaN payloads included. */
#include <immintrin.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>

#include "kernels/avx512/mask-avx512.h"
#include "kernels/kernels.h"
#include "kernels/pool-window.h"

/* One window's accumulator. Max: the reference keeps the largest value
 * (starting from -inf: a window of -inf only gives -inf) unless a NaN
 * comes, and then the last NaN; VMAXPS(v, acc) gives v > acc ? v : acc,
 * so NaNs are kept apart in `nan` and win at the end. */
struct acc {
    __m512 v, nan;
};

static inline struct acc start(int average) {
    return (struct acc){average ? _mm512_setzero_ps() : _mm512_set1_ps(-INFINITY),
                        _mm512_setzero_ps()};
}

static inline void take(int average, struct acc *a, __m512 v) {
    if (average) {
        a->v = _mm512_add_ps(a->v, v);
    } else {
        a->v = _mm512_max_ps(v, a->v);
        a->nan = _mm512_mask_mov_ps(a->nan, _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q), v);
    }
}

static inline __m512 finish(int average, struct acc a, __m512 count) {
    if (average) return _mm512_div_ps(a.v, count);
    return _mm512_mask_mov_ps(a.v, _mm512_cmp_ps_mask(a.nan, a.nan, _CMP_UNORD_Q), a.nan);
}

/* Channels [c, c + 16 (NV - 1) + lanes of `last`) of one window: NV
 * (1 to 4, a constant where inlined) vectors side by side, so that their
 * chains overlap, the last one masked. */
static inline __attribute__((always_inline)) void vectors(int average, const int NV,
                                                          const struct window *w, size_t channels,
                                                          const float *in, __mmask16 last,
                                                          __m512 divisor, float *out) {
    const __mmask16 full = 0xffff, m0 = NV == 1 ? last : full, m1 = NV == 2 ? last : full,
                    m2 = NV == 3 ? last : full, m3 = last;
    struct acc a0 = start(average), a1 = a0, a2 = a0, a3 = a0;
    for (size_t ky = 0; ky < w->rows; ky++) {
        const float *p = in + ky * w->row_stride;
        for (size_t kx = 0; kx < w->cols; kx++, p += channels) {
            take(average, &a0, _mm512_maskz_loadu_ps(m0, p));
            if (NV > 1) take(average, &a1, _mm512_maskz_loadu_ps(m1, p + 16));
            if (NV > 2) take(average, &a2, _mm512_maskz_loadu_ps(m2, p + 32));
            if (NV > 3) take(average, &a3, _mm512_maskz_loadu_ps(m3, p + 48));
        }
    }
    _mm512_mask_storeu_ps(out, m0, finish(average, a0, divisor));
    if (NV > 1) _mm512_mask_storeu_ps(out + 16, m1, finish(average, a1, divisor));
    if (NV > 2) _mm512_mask_storeu_ps(out + 32, m2, finish(average, a2, divisor));
    if (NV > 3) _mm512_mask_storeu_ps(out + 48, m3, finish(average, a3, divisor));
}

/* 64 channels at a time; the rest (24 in ShuffleNet's pool) in one go
 * too, not 16 after 16, whose chains ran one after the other (2.3x as
 * long). */
static inline void pixel(int average, const struct window *w, size_t channels, float *out) {
    const size_t count = w->rows * w->cols;
    const __m512 divisor = _mm512_set1_ps(count ? (float)count : 1.0f);
    for (size_t c = 0; c < channels; c += 64) {
        const size_t left = channels - c, nv = left >= 64 ? 4 : (left + 15) / 16,
                     tail = left - 16 * (nv - 1);
        const __mmask16 last = sn_mask_avx512(tail);
        const float *in = w->origin + c;
        switch (nv) {
        case 4: vectors(average, 4, w, channels, in, last, divisor, out + c); break;
        case 3: vectors(average, 3, w, channels, in, last, divisor, out + c); break;
        case 2: vectors(average, 2, w, channels, in, last, divisor, out + c); break;
        default: vectors(average, 1, w, channels, in, last, divisor, out + c); break;
        }
    }
}

void sn_f32_max_pool_ukernel__avx512(const sn_conv2d_geometry *g, const float *input, float *output,
                                     int64_t row_begin, int64_t row_end) {
    sn_pool_rows(0, g, input, output, row_begin, row_end, pixel);
}

void sn_f32_avg_pool_ukernel__avx512(const sn_conv2d_geometry *g, const float *input, float *output,
                                     int64_t row_begin, int64_t row_end) {
    sn_pool_rows(1, g, input, output, row_begin, row_end, pixel);
}
