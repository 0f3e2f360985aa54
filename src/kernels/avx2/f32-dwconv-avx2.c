/* Depthwise convolution for AVX2 + FMA, NHWC, vectorized over channels
 * (the walk and what every path computes: dwconv-walk.h).
 *
 * Fast path (multiplier 1, 3x3 or 5x5, stride 1 or 2): tiles of 8 output
 * pixels of a row x 8 channels, 8 accumulators; per row of taps, the K
 * weights stay in registers and each input pixel the tile reads is loaded
 * once and multiplied into every pixel whose window holds it (3x3 stride
 * 1: 39 loads per 72 FMAs, 5x5: 85 per 200). Taps on the padding
 * multiply a 0: a row of them costs a branch, and a tile with a pixel
 * whose taps leave the row (the first and last of a SAME row) checks each
 * column.
 *
 * Generic path (any window, stride, dilation and multiplier): per output
 * pixel, 32 channels at a time (4 accumulators), then 8; a multiplier
 * above 1 gathers each lane's input channel (oc / multiplier).
 *
 * The last block of fewer than 8 channels loads and stores with a lane
 * mask (mask-avx2.h), which reads and writes nothing past the channels. */
#include <immintrin.h>
#include <stdint.h>

#include "kernels/avx2/mask-avx2.h"
#include "kernels/dwconv-walk.h"
#include "kernels/kernels.h"
#include "kernels/step.h"

/* 8 floats from p, or with TAIL the lanes of `mask` (0 in the others). */
static inline __m256 load(const int TAIL, const float *p, __m256i mask) {
    return TAIL ? _mm256_maskload_ps(p, mask) : _mm256_loadu_ps(p);
}

/* Stores v clamped to [lo, hi] (max(lo, v) and min(hi, v) give v when v
 * is NaN). */
static inline void store(const int TAIL, float *p, __m256i mask, __m256 v, __m256 lo, __m256 hi) {
    v = _mm256_min_ps(hi, _mm256_max_ps(lo, v));
    if (TAIL)
        _mm256_maskstore_ps(p, mask, v);
    else
        _mm256_storeu_ps(p, v);
}

/* Output pixels [x, x + P) of row r, channels [c, c + 8) (with TAIL, the
 * lanes of `mask`), window K x K, stride S; K, S, P, CHECK and TAIL are
 * compile-time constants. Without CHECK every tap lies inside the row
 * (CHECK checks each column); a NULL row is padding. Pixel p's sum takes
 * input column j = S p + kx of the tile for tap kx, so, per row of taps,
 * the loop over j takes its taps in kx order. */
static inline __attribute__((always_inline)) void
tile(const int K, const int S, const int P, const int CHECK, const int TAIL,
     const struct sn_dw_row *r, int64_t x, size_t c, size_t channels, const float *w,
     const float *b, __m256i mask, __m256 lo, __m256 hi) {
    const __m256 zero = _mm256_setzero_ps();
    const __m256 bias = b ? load(TAIL, b + c, mask) : zero;
    __m256 acc[8];
#pragma GCC unroll 8
    for (int p = 0; p < P; p++) acc[p] = bias;
    const int64_t col = r->col + x * S; /* the input column of the tile's j = 0 */
    const float *wt = w + c;
#pragma GCC unroll 5
    for (int ky = 0; ky < K; ky++) {
        __m256 wk[SN_DW_MAX_K];
#pragma GCC unroll 5
        for (int kx = 0; kx < K; kx++) {
            wk[kx] = load(TAIL, wt, mask);
            SN_STEP(wt, channels);
        }
        if (!r->rows[ky]) { /* a row of padding: 0 x w */
#pragma GCC unroll 8
            for (int p = 0; p < P; p++)
#pragma GCC unroll 5
                for (int kx = 0; kx < K; kx++) acc[p] = _mm256_fmadd_ps(zero, wk[kx], acc[p]);
            continue;
        }
        /* column j's pixel: q stepping along the row, or with CHECK the
         * offset `at` (which may lie before the row) */
        const float *row = r->rows[ky] + c, *q = row;
        int64_t at = col * (int64_t)channels;
        if (!CHECK) q += at;
#pragma GCC unroll 24
        for (int j = 0; j < S * (P - 1) + K; j++) {
            __m256 v;
            if (!CHECK) {
                v = load(TAIL, q, mask);
                SN_STEP(q, channels);
            } else {
                v = (uint64_t)(col + j) < (uint64_t)r->in_w ? load(TAIL, row + at, mask) : zero;
                at += (int64_t)channels;
            }
#pragma GCC unroll 8
            for (int p = 0; p < P; p++) {
                const int kx = j - S * p;
                if (kx >= 0 && kx < K) acc[p] = _mm256_fmadd_ps(v, wk[kx], acc[p]);
            }
        }
    }
    float *o = r->out + x * (int64_t)channels + c;
#pragma GCC unroll 8
    for (int p = 0; p < P; p++) {
        store(TAIL, o, mask, acc[p], lo, hi);
        SN_STEP(o, channels);
    }
}

/* One output row of the K x K, stride S fast path. */
static inline __attribute__((always_inline)) void row_ks(const int K, const int S,
                                                         const sn_conv2d_geometry *g,
                                                         const struct sn_dw_row *r, const float *w,
                                                         const float *b, float lo_, float hi_) {
    const __m256 lo = _mm256_set1_ps(lo_), hi = _mm256_set1_ps(hi_);
    const size_t channels = (size_t)g->in_c, full = channels / 8 * 8;
    const __m256i mask = sn_mask_avx2(channels % 8);
#define TILE(p, checked, x)                                                                        \
    do {                                                                                           \
        for (size_t c = 0; c < full; c += 8)                                                       \
            tile(K, S, p, checked, 0, r, x, c, channels, w, b, mask, lo, hi);                      \
        if (full < channels) tile(K, S, p, checked, 1, r, x, full, channels, w, b, mask, lo, hi);  \
    } while (0)
    SN_DW_ROW_TILES(TILE, r, g->out_w);
#undef TILE
}

SN_DW_FAST_ROWS(row, row_ks)

/* Channels [c, c + 8 NV) of one output pixel (with TAIL, NV is 1 and the
 * lanes of `mask`), any window: M1 (multiplier 1) loads the input
 * channels, else gathers input channel idx[v] for lane v. */
static inline __attribute__((always_inline)) void
block(const int NV, const int TAIL, const int M1, const sn_conv2d_geometry *g,
      const struct sn_dw_pixel *px, size_t c, const float *filter, const float *bias, __m256i mask,
      const __m256i *idx, __m256 lo, __m256 hi) {
    const __m256 zero = _mm256_setzero_ps();
    const size_t oc = (size_t)g->out_c, ic = (size_t)g->in_c;
    __m256 acc[4];
    for (int v = 0; v < NV; v++) acc[v] = bias ? load(TAIL, bias + c + 8 * v, mask) : zero;
    const float *w = filter + c;
    for (int64_t ky = 0; ky < g->kh; ky++) {
        const int64_t y = px->iy + ky * g->dilation_h;
        const bool row_in = y >= 0 && y < g->in_h;
        for (int64_t kx = 0; kx < g->kw; kx++, w += oc) {
            const int64_t x = px->ix + kx * g->dilation_w;
            if (row_in && x >= 0 && x < g->in_w) {
                const float *in = px->image + (y * g->in_w + x) * (int64_t)ic;
                for (int v = 0; v < NV; v++) {
                    __m256 xv;
                    if (M1)
                        xv = load(TAIL, in + c + 8 * v, mask);
                    else if (TAIL)
                        xv = _mm256_mask_i32gather_ps(zero, in, idx[v], _mm256_castsi256_ps(mask),
                                                      4);
                    else
                        xv = _mm256_i32gather_ps(in, idx[v], 4);
                    acc[v] = _mm256_fmadd_ps(xv, load(TAIL, w + 8 * v, mask), acc[v]);
                }
            } else { /* a tap on the padding: 0 x w */
                for (int v = 0; v < NV; v++)
                    acc[v] = _mm256_fmadd_ps(zero, load(TAIL, w + 8 * v, mask), acc[v]);
            }
        }
    }
    for (int v = 0; v < NV; v++) store(TAIL, px->out + c + 8 * v, mask, acc[v], lo, hi);
}

/* The input channel of each lane of channels [c, c + 8 nv). */
static inline void gather_index(size_t c, int nv, size_t multiplier, __m256i *idx) {
    int32_t lanes[32];
    for (int l = 0; l < 8 * nv; l++) lanes[l] = (int32_t)((c + (size_t)l) / multiplier);
    for (int v = 0; v < nv; v++) idx[v] = _mm256_loadu_si256((const __m256i *)(lanes + 8 * v));
}

static inline __attribute__((always_inline)) void pixel_m(const int M1, const sn_conv2d_geometry *g,
                                                          const struct sn_dw_pixel *px,
                                                          const float *filter, const float *bias,
                                                          __m256 lo, __m256 hi) {
    const size_t channels = (size_t)g->out_c, m = channels / (size_t)g->in_c;
    const __m256i ones = sn_mask_avx2(8), mask = sn_mask_avx2(channels % 8);
    __m256i idx[4];
    size_t c = 0;
    for (; c + 32 <= channels; c += 32) {
        if (!M1) gather_index(c, 4, m, idx);
        block(4, 0, M1, g, px, c, filter, bias, ones, idx, lo, hi);
    }
    for (; c + 8 <= channels; c += 8) {
        if (!M1) gather_index(c, 1, m, idx);
        block(1, 0, M1, g, px, c, filter, bias, ones, idx, lo, hi);
    }
    if (c < channels) {
        if (!M1) gather_index(c, 1, m, idx);
        block(1, 1, M1, g, px, c, filter, bias, mask, idx, lo, hi);
    }
}

static void pixel(const sn_conv2d_geometry *g, const struct sn_dw_pixel *px, const float *filter,
                  const float *bias, float lo, float hi) {
    const __m256 vlo = _mm256_set1_ps(lo), vhi = _mm256_set1_ps(hi);
    if (g->out_c == g->in_c)
        pixel_m(1, g, px, filter, bias, vlo, vhi);
    else
        pixel_m(0, g, px, filter, bias, vlo, vhi);
}

void sn_f32_dwconv_ukernel__avx2(const sn_conv2d_geometry *g, const float *input,
                                 const float *filter, const float *bias, sn_activation act,
                                 float *output, int64_t row_begin, int64_t row_end) {
    sn_dw_rows(g, input, filter, bias, act, output, row_begin, row_end, sn_dw_fast(g, 1), row,
               pixel);
}
