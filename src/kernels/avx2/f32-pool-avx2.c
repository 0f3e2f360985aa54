/* Max and average pooling for AVX2, NHWC, vectorized over channels: per
 * output pixel, 32 channels at a time (4 ymm accumulators) over the part of
 * the window inside the input, the last 32 or fewer ending in a masked
 * vector. Each sum is added in the reference's order (window rows, then
 * columns) and divided by the same count, so both kernels give the
 * reference's floats bit for bit, NaN payloads included. */
#include <immintrin.h>
#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kernels/avx2/mask-avx2.h"
#include "kernels/kernels.h"
#include "kernels/pool-window.h"

/* One window's accumulator. Max: the reference keeps the largest value
 * (starting from -inf: a window of -inf only gives -inf) unless a NaN
 * comes, and then the last NaN; VMAXPS(v, acc) gives v > acc ? v : acc,
 * so NaNs are kept apart in `nan` and win at the end. */
struct acc {
    __m256 v, nan;
};

static inline struct acc start(int average) {
    return (struct acc){average ? _mm256_setzero_ps() : _mm256_set1_ps(-INFINITY),
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

/* Channels [c, c + 8 NV) of one window, or fewer when `masked` (then the
 * last vector's lanes in m): NV (1 to 4, a constant where inlined) vectors
 * side by side, so that their chains overlap. */
static inline __attribute__((always_inline)) void vectors(int average, const int NV,
                                                          const struct window *w, size_t channels,
                                                          const float *in, bool masked, __m256i m,
                                                          __m256 divisor, float *out) {
#define LOAD(j, p) (j == NV - 1 && masked ? _mm256_maskload_ps(p, m) : _mm256_loadu_ps(p))
#define STORE(j, p, v)                                                                             \
    do {                                                                                           \
        if (j == NV - 1 && masked)                                                                 \
            _mm256_maskstore_ps(p, m, v);                                                          \
        else                                                                                       \
            _mm256_storeu_ps(p, v);                                                                \
    } while (0)
    struct acc a0 = start(average), a1 = a0, a2 = a0, a3 = a0;
    for (size_t ky = 0; ky < w->rows; ky++) {
        const float *p = in + ky * w->row_stride;
        for (size_t kx = 0; kx < w->cols; kx++, p += channels) {
            take(average, &a0, LOAD(0, p));
            if (NV > 1) take(average, &a1, LOAD(1, p + 8));
            if (NV > 2) take(average, &a2, LOAD(2, p + 16));
            if (NV > 3) take(average, &a3, LOAD(3, p + 24));
        }
    }
    STORE(0, out, finish(average, a0, divisor));
    if (NV > 1) STORE(1, out + 8, finish(average, a1, divisor));
    if (NV > 2) STORE(2, out + 16, finish(average, a2, divisor));
    if (NV > 3) STORE(3, out + 24, finish(average, a3, divisor));
#undef STORE
#undef LOAD
}

/* 32 channels at a time; the rest (24 in ShuffleNet's pool) in one go
 * too, not 8 after 8, whose chains ran one after the other. */
static inline void pixel(int average, const struct window *w, size_t channels, float *out) {
    const size_t count = w->rows * w->cols;
    const __m256 divisor = _mm256_set1_ps(count ? (float)count : 1.0f);
    for (size_t c = 0; c < channels; c += 32) {
        const size_t left = channels - c, nv = left >= 32 ? 4 : (left + 7) / 8,
                     tail = left - 8 * (nv - 1);
        const bool masked = tail < 8;
        const __m256i m = sn_mask_avx2(tail);
        const float *in = w->origin + c;
        switch (nv) {
        case 4: vectors(average, 4, w, channels, in, masked, m, divisor, out + c); break;
        case 3: vectors(average, 3, w, channels, in, masked, m, divisor, out + c); break;
        case 2: vectors(average, 2, w, channels, in, masked, m, divisor, out + c); break;
        default: vectors(average, 1, w, channels, in, masked, m, divisor, out + c); break;
        }
    }
}

void sn_f32_max_pool_ukernel__avx2(const sn_conv2d_geometry *g, const float *input, float *output,
                                   int64_t row_begin, int64_t row_end) {
    sn_pool_rows(0, g, input, output, row_begin, row_end, pixel);
}

void sn_f32_avg_pool_ukernel__avx2(const sn_conv2d_geometry *g, const float *input, float *output,
                                   int64_t row_begin, int64_t row_end) {
    sn_pool_rows(1, g, input, output, row_begin, row_end, pixel);
}
