/* Depthwise convolution for AVX-512F, NHWC, vectorized over channels
 * (the walk and what every path computes: dwconv-walk.h).
 *
 * Fast path (multiplier 1, 3x3 or 5x5, stride 1 or 2): tiles of 8 output
 * pixels of a row x 16 channels, 8 accumulators; per row of taps, the K
 * weights stay in registers and each input pixel the tile reads is loaded
 * once and multiplied into every pixel whose window holds it (3x3 stride
 * 1: 39 loads per 72 FMAs, 5x5: 85 per 200). Taps on the padding
 * multiply a 0: a row of them costs a branch, and a tile with a pixel
 * whose taps leave the row (the first and last of a SAME row) checks each
 * column.
 *
 * Generic path (any window, stride, dilation and multiplier): per output
 * pixel, 64 channels at a time (4 accumulators), then 16; a multiplier
 * above 1 gathers each lane's input channel (oc / multiplier).
 *
 * Every load and store takes a lane mask, all ones but in the last block
 * of fewer than 16 channels, whose other lanes are neither read nor
 * written. */
#include <immintrin.h>
#include <stdint.h>

#include "kernels/avx512/mask-avx512.h"
#include "kernels/dwconv-walk.h"
#include "kernels/kernels.h"
#include "kernels/step.h"

/* Stores v clamped to [lo, hi] (max(lo, v) and min(hi, v) give v when v
 * is NaN). */
static inline void store(float *p, __mmask16 mask, __m512 v, __m512 lo, __m512 hi) {
    _mm512_mask_storeu_ps(p, mask, _mm512_min_ps(hi, _mm512_max_ps(lo, v)));
}

/* Output pixels [x, x + P) of row r, the channels of `mask` from c, window
 * K x K, stride S; K, S, P and CHECK are compile-time constants. Without
 * CHECK every tap lies inside the row (CHECK checks each column); a NULL
 * row is padding. Pixel p's sum takes input column j = S p + kx of the
 * tile for tap kx, so, per row of taps, the loop over j takes its taps in
 * kx order. */
static inline __attribute__((always_inline)) void tile(const int K, const int S, const int P,
                                                       const int CHECK, const struct sn_dw_row *r,
                                                       int64_t x, size_t c, size_t channels,
                                                       const float *w, const float *b,
                                                       __mmask16 mask, __m512 lo, __m512 hi) {
    const __m512 zero = _mm512_setzero_ps();
    const __m512 bias = b ? _mm512_maskz_loadu_ps(mask, b + c) : zero;
    __m512 acc[8];
#pragma GCC unroll 8
    for (int p = 0; p < P; p++) acc[p] = bias;
    const int64_t col = r->col + x * S; /* the input column of the tile's j = 0 */
    const float *wt = w + c;
#pragma GCC unroll 5
    for (int ky = 0; ky < K; ky++) {
        __m512 wk[SN_DW_MAX_K];
#pragma GCC unroll 5
        for (int kx = 0; kx < K; kx++) {
            wk[kx] = _mm512_maskz_loadu_ps(mask, wt);
            SN_STEP(wt, channels);
        }
        if (!r->rows[ky]) { /* a row of padding: 0 x w */
#pragma GCC unroll 8
            for (int p = 0; p < P; p++)
#pragma GCC unroll 5
                for (int kx = 0; kx < K; kx++) acc[p] = _mm512_fmadd_ps(zero, wk[kx], acc[p]);
            continue;
        }
        /* column j's pixel: q stepping along the row, or with CHECK the
         * offset `at` (which may lie before the row) */
        const float *row = r->rows[ky] + c, *q = row;
        int64_t at = col * (int64_t)channels;
        if (!CHECK) q += at;
#pragma GCC unroll 24
        for (int j = 0; j < S * (P - 1) + K; j++) {
            __m512 v;
            if (!CHECK) {
                v = _mm512_maskz_loadu_ps(mask, q);
                SN_STEP(q, channels);
            } else {
                v = (uint64_t)(col + j) < (uint64_t)r->in_w ? _mm512_maskz_loadu_ps(mask, row + at)
                                                            : zero;
                at += (int64_t)channels;
            }
#pragma GCC unroll 8
            for (int p = 0; p < P; p++) {
                const int kx = j - S * p;
                if (kx >= 0 && kx < K) acc[p] = _mm512_fmadd_ps(v, wk[kx], acc[p]);
            }
        }
    }
    float *o = r->out + x * (int64_t)channels + c;
#pragma GCC unroll 8
    for (int p = 0; p < P; p++) {
        store(o, mask, acc[p], lo, hi);
        SN_STEP(o, channels);
    }
}

/* One output row of the K x K, stride S fast path. */
static inline __attribute__((always_inline)) void row_ks(const int K, const int S,
                                                         const sn_conv2d_geometry *g,
                                                         const struct sn_dw_row *r, const float *w,
                                                         const float *b, float lo_, float hi_) {
    const __m512 lo = _mm512_set1_ps(lo_), hi = _mm512_set1_ps(hi_);
    const size_t channels = (size_t)g->in_c;
#define TILE(p, checked, x)                                                                        \
    do {                                                                                           \
        for (size_t c = 0; c < channels; c += 16)                                                  \
            tile(K, S, p, checked, r, x, c, channels, w, b, sn_mask_avx512(channels - c), lo, hi); \
    } while (0)
    SN_DW_ROW_TILES(TILE, r, g->out_w);
#undef TILE
}

SN_DW_FAST_ROWS(row, row_ks)

/* Channels [c, c + 16 NV) of one output pixel (NV 4 with every lane, or 1
 * with the lanes of `mask`), any window: M1 (multiplier 1) loads the
 * input channels, else gathers input channel idx[v] for lane v. */
static inline __attribute__((always_inline)) void
block(const int NV, const int M1, const sn_conv2d_geometry *g, const struct sn_dw_pixel *px,
      size_t c, const float *filter, const float *bias, __mmask16 mask, const __m512i *idx,
      __m512 lo, __m512 hi) {
    const __m512 zero = _mm512_setzero_ps();
    const size_t oc = (size_t)g->out_c, ic = (size_t)g->in_c;
    __m512 acc[4];
    for (int v = 0; v < NV; v++)
        acc[v] = bias ? _mm512_maskz_loadu_ps(mask, bias + c + 16 * v) : zero;
    const float *w = filter + c;
    for (int64_t ky = 0; ky < g->kh; ky++) {
        const int64_t y = px->iy + ky * g->dilation_h;
        const bool row_in = y >= 0 && y < g->in_h;
        for (int64_t kx = 0; kx < g->kw; kx++, w += oc) {
            const int64_t x = px->ix + kx * g->dilation_w;
            if (row_in && x >= 0 && x < g->in_w) {
                const float *in = px->image + (y * g->in_w + x) * (int64_t)ic;
                for (int v = 0; v < NV; v++) {
                    const __m512 xv = M1 ? _mm512_maskz_loadu_ps(mask, in + c + 16 * v)
                                         : _mm512_mask_i32gather_ps(zero, mask, idx[v], in, 4);
                    acc[v] = _mm512_fmadd_ps(xv, _mm512_maskz_loadu_ps(mask, w + 16 * v), acc[v]);
                }
            } else { /* a tap on the padding: 0 x w */
                for (int v = 0; v < NV; v++)
                    acc[v] = _mm512_fmadd_ps(zero, _mm512_maskz_loadu_ps(mask, w + 16 * v), acc[v]);
            }
        }
    }
    for (int v = 0; v < NV; v++) store(px->out + c + 16 * v, mask, acc[v], lo, hi);
}

/* The input channel of each lane of channels [c, c + 16 nv). */
static inline void gather_index(size_t c, int nv, size_t multiplier, __m512i *idx) {
    int32_t lanes[64];
    for (int l = 0; l < 16 * nv; l++) lanes[l] = (int32_t)((c + (size_t)l) / multiplier);
    for (int v = 0; v < nv; v++) idx[v] = _mm512_loadu_si512(lanes + 16 * v);
}

static inline __attribute__((always_inline)) void pixel_m(const int M1, const sn_conv2d_geometry *g,
                                                          const struct sn_dw_pixel *px,
                                                          const float *filter, const float *bias,
                                                          __m512 lo, __m512 hi) {
    const size_t channels = (size_t)g->out_c, m = channels / (size_t)g->in_c;
    __m512i idx[4];
    size_t c = 0;
    for (; c + 64 <= channels; c += 64) {
        if (!M1) gather_index(c, 4, m, idx);
        block(4, M1, g, px, c, filter, bias, sn_mask_avx512(16), idx, lo, hi);
    }
    for (; c < channels; c += 16) {
        if (!M1) gather_index(c, 1, m, idx);
        block(1, M1, g, px, c, filter, bias, sn_mask_avx512(channels - c), idx, lo, hi);
    }
}

static void pixel(const sn_conv2d_geometry *g, const struct sn_dw_pixel *px, const float *filter,
                  const float *bias, float lo, float hi) {
    const __m512 vlo = _mm512_set1_ps(lo), vhi = _mm512_set1_ps(hi);
    if (g->out_c == g->in_c)
        pixel_m(1, g, px, filter, bias, vlo, vhi);
    else
        pixel_m(0, g, px, filter, bias, vlo, vhi);
}

void sn_f32_dwconv_ukernel__avx512(const sn_conv2d_geometry *g, const float *input,
                                   const float *filter, const float *bias, sn_activation act,
                                   float *output, int64_t row_begin, int64_t row_end) {
    sn_dw_rows(g, input, filter, bias, act, output, row_begin, row_end, sn_dw_fast(g, 1), row,
               pixel);
}
