/* Max and average pooling for AVX2, NHWC, vectorized over channels: per
 * output pixel, 32 channels at a time (4 ymm accumulators) over the part of
 * the window inside the input, then 8, then a masked tail. Each sum is
 * added in the reference's order (window rows, then columns) and divided by
 * the same count, so both kernels give the reference's floats bit for bit,
 * NaN payloads included. */
#include <float.h>
#include <immintrin.h>
#include <stddef.h>
#include <stdint.h>

#include "kernels/avx2/mask-avx2.h"
#include "kernels/kernels.h"

/* One window's accumulator. Max: the reference keeps the largest value
 * (starting from -FLT_MAX, as TensorFlow does) unless a NaN comes, and then
 * the last NaN; VMAXPS(v, acc) gives v > acc ? v : acc, so NaNs are kept
 * apart in `nan` and win at the end. */
struct acc {
    __m256 v, nan;
};

static inline struct acc start(int average) {
    return (struct acc){average ? _mm256_setzero_ps() : _mm256_set1_ps(-FLT_MAX),
                        _mm256_setzero_ps()};
}

static inline void take(int average, struct acc *a, __m256 v) {
    if (average) {
        a->v = _mm256_add_ps(a->v, v);
    } else {
        a->v = _mm256_max_ps(v, a->v);
        a->nan = _mm256_blendv_ps(a->nan, v, _mm256_cmp_ps(v, v, _CMP_UNORD_Q));
    }
}

static inline __m256 finish(int average, struct acc a, __m256 count) {
    if (average) return _mm256_div_ps(a.v, count);
    return _mm256_blendv_ps(a.v, a.nan, _mm256_cmp_ps(a.nan, a.nan, _CMP_UNORD_Q));
}

/* The input window of one output pixel: rows [ky0, ky1) and columns
 * [kx0, kx1) of the kernel fall inside the image; `origin` is the input
 * pixel of tap (ky0, kx0). */
struct window {
    const float *origin;
    size_t rows, cols, row_stride; /* row_stride in floats */
};

static inline void pixel(int average, const struct window *w, size_t channels, float *out) {
    const size_t count = w->rows * w->cols;
    const __m256 divisor = _mm256_set1_ps(count ? (float)count : 1.0f);
    size_t c = 0;
    for (; c + 32 <= channels; c += 32) {
        struct acc a0 = start(average), a1 = a0, a2 = a0, a3 = a0;
        for (size_t ky = 0; ky < w->rows; ky++) {
            const float *p = w->origin + ky * w->row_stride + c;
            for (size_t kx = 0; kx < w->cols; kx++, p += channels) {
                take(average, &a0, _mm256_loadu_ps(p));
                take(average, &a1, _mm256_loadu_ps(p + 8));
                take(average, &a2, _mm256_loadu_ps(p + 16));
                take(average, &a3, _mm256_loadu_ps(p + 24));
            }
        }
        _mm256_storeu_ps(out + c, finish(average, a0, divisor));
        _mm256_storeu_ps(out + c + 8, finish(average, a1, divisor));
        _mm256_storeu_ps(out + c + 16, finish(average, a2, divisor));
        _mm256_storeu_ps(out + c + 24, finish(average, a3, divisor));
    }
    for (; c < channels; c += 8) {
        const size_t left = channels - c;
        const __m256i m = sn_mask_avx2(left);
        struct acc a = start(average);
        for (size_t ky = 0; ky < w->rows; ky++) {
            const float *p = w->origin + ky * w->row_stride + c;
            for (size_t kx = 0; kx < w->cols; kx++, p += channels)
                take(average, &a, left >= 8 ? _mm256_loadu_ps(p) : _mm256_maskload_ps(p, m));
        }
        if (left >= 8)
            _mm256_storeu_ps(out + c, finish(average, a, divisor));
        else
            _mm256_maskstore_ps(out + c, m, finish(average, a, divisor));
    }
}

/* The part [k0, k1) of a window of k taps starting at input index `at`
 * that falls inside [0, size). */
static inline void clip(int64_t at, int64_t k, int64_t size, int64_t *k0, int64_t *k1) {
    *k0 = at < 0 ? -at : 0;
    *k1 = size - at < k ? size - at : k;
    if (*k1 < *k0) *k1 = *k0;
}

static inline void pool(int average, const sn_conv2d_geometry *g, const float *input, float *output,
                        int64_t row_begin, int64_t row_end) {
    const size_t channels = (size_t)g->in_c;
    for (int64_t r = row_begin; r < row_end; r++) {
        const int64_t n = r / g->out_h, oy = r % g->out_h, iy = oy * g->stride_h - g->pad_top;
        int64_t ky0, ky1;
        clip(iy, g->kh, g->in_h, &ky0, &ky1);
        float *out = output + r * g->out_w * g->out_c;
        for (int64_t ox = 0; ox < g->out_w; ox++, out += g->out_c) {
            const int64_t ix = ox * g->stride_w - g->pad_left;
            int64_t kx0, kx1;
            clip(ix, g->kw, g->in_w, &kx0, &kx1);
            struct window w = {.origin = input,
                               .rows = (size_t)(ky1 - ky0),
                               .cols = (size_t)(kx1 - kx0),
                               .row_stride = (size_t)(g->in_w * g->in_c)};
            if (w.rows && w.cols) /* else no tap: the pointer might leave the input */
                w.origin += ((n * g->in_h + iy + ky0) * g->in_w + ix + kx0) * g->in_c;
            pixel(average, &w, channels, out);
        }
    }
}

void sn_f32_max_pool_ukernel__avx2(const sn_conv2d_geometry *g, const float *input, float *output,
                                   int64_t row_begin, int64_t row_end) {
    pool(0, g, input, output, row_begin, row_end);
}

void sn_f32_avg_pool_ukernel__avx2(const sn_conv2d_geometry *g, const float *input, float *output,
                                   int64_t row_begin, int64_t row_end) {
    pool(1, g, input, output, row_begin, row_end);
}
