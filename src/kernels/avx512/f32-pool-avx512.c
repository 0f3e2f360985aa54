/* Max and average pooling for AVX-512F, NHWC, vectorized over channels: per
 * output pixel, 64 channels at a time (4 zmm accumulators) over the part of
 * the window inside the input, then 16, then a masked tail. Each sum is
 * added in the reference's order (window rows, then columns) and divided by
 * the same count, so both kernels give the reference's floats bit for bit,
 * NaN payloads included. */
#include <immintrin.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>

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

static inline void pixel(int average, const struct window *w, size_t channels, float *out) {
    const size_t count = w->rows * w->cols;
    const __m512 divisor = _mm512_set1_ps(count ? (float)count : 1.0f);
    size_t c = 0;
    for (; c + 64 <= channels; c += 64) {
        struct acc a0 = start(average), a1 = a0, a2 = a0, a3 = a0;
        for (size_t ky = 0; ky < w->rows; ky++) {
            const float *p = w->origin + ky * w->row_stride + c;
            for (size_t kx = 0; kx < w->cols; kx++, p += channels) {
                take(average, &a0, _mm512_loadu_ps(p));
                take(average, &a1, _mm512_loadu_ps(p + 16));
                take(average, &a2, _mm512_loadu_ps(p + 32));
                take(average, &a3, _mm512_loadu_ps(p + 48));
            }
        }
        _mm512_storeu_ps(out + c, finish(average, a0, divisor));
        _mm512_storeu_ps(out + c + 16, finish(average, a1, divisor));
        _mm512_storeu_ps(out + c + 32, finish(average, a2, divisor));
        _mm512_storeu_ps(out + c + 48, finish(average, a3, divisor));
    }
    for (; c < channels; c += 16) {
        const size_t left = channels - c;
        const __mmask16 m = left >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << left) - 1);
        struct acc a = start(average);
        for (size_t ky = 0; ky < w->rows; ky++) {
            const float *p = w->origin + ky * w->row_stride + c;
            for (size_t kx = 0; kx < w->cols; kx++, p += channels)
                take(average, &a, _mm512_maskz_loadu_ps(m, p));
        }
        _mm512_mask_storeu_ps(out + c, m, finish(average, a, divisor));
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
