/* Depthwise convolution for NEON with fused multiply-add (aarch64, and
 * armv7 with VFPv4), one source, NHWC, vectorized over channels (the walk
 * and what every path computes: dwconv-walk.h).
 *
 * Fast path (multiplier 1, 3x3 or 5x5, stride 1 or 2, 4 channels or
 * more): tiles of 8 output pixels of a row x 4 channels, 8 accumulators;
 * per row of taps, the K weights stay in registers and each input pixel
 * the tile reads is loaded once and multiplied into every pixel whose
 * window holds it (3x3 stride 1: 39 loads per 72 FMAs, 5x5: 85 per 200;
 * armv7's 16 q registers just hold a 5x5 tile's 8 sums, 5 weights, an
 * input and the clamp). Taps on the padding multiply a 0: a row of them
 * costs a branch, and a tile with a pixel whose taps leave the row (the
 * first and last of a SAME row) takes the columns outside the row as
 * zeros: known at compile time when they are 0 to 2 at either end (a
 * variant of the tile for each), else checked one by one.
 *
 * Generic path (any window, stride, dilation and multiplier): per output
 * pixel, 16 channels at a time (4 accumulators), then 4; a multiplier
 * above 1 loads each lane's input channel (oc / multiplier) on its own.
 *
 * NEON has no masked loads: when the channels are not a multiple of 4,
 * the last block of 4 ends at the last channel and overlaps the block
 * before it, whose channels it computes again to the same floats; fewer
 * than 4 channels in all take the generic path, through a copy of the
 * lanes that exist.
 *
 * armv7's NEON flushes subnormal operands and results to zero (see
 * ieee-neon.h): an output there may differ from the reference by a
 * subnormal, and an infinite input times a subnormal weight gives NaN
 * where the reference gives an infinity. */
#include <arm_neon.h>
#include <stdint.h>
#include <string.h>

#include "kernels/dwconv-walk.h"
#include "kernels/kernels.h"
#include "kernels/step.h"

/* Stores v clamped to [lo, hi] (vmaxq and vminq give NaN when v is). */
static inline void store(float *p, float32x4_t v, float32x4_t lo, float32x4_t hi) {
    vst1q_f32(p, vminq_f32(hi, vmaxq_f32(lo, v)));
}

/* Output pixels [x, x + P) of row r, channels [c, c + 4), window K x K,
 * stride S; K, S, P, CHECK, LEFT and RIGHT are compile-time constants.
 * CHECK 0: every tap lies inside the row; 1: each column is checked; 2:
 * the first LEFT and the last RIGHT columns lie outside; a NULL row is
 * padding. Pixel p's sum takes input column j = S p + kx of the tile for
 * tap kx, so, per row of taps, the loop over j takes its taps in kx order. */
static inline __attribute__((always_inline)) void
tile(const int K, const int S, const int P, const int CHECK, const int LEFT, const int RIGHT,
     const struct sn_dw_row *r, int64_t x, size_t c, size_t channels, const float *w,
     const float *b, float32x4_t lo, float32x4_t hi) {
    const float32x4_t zero = vdupq_n_f32(0.0f);
    const float32x4_t bias = b ? vld1q_f32(b + c) : zero;
    float32x4_t acc[8];
#pragma GCC unroll 8
    for (int p = 0; p < P; p++) acc[p] = bias;
    const int64_t col = r->col + x * S; /* the input column of the tile's j = 0 */
    const float *wt = w + c;
#pragma GCC unroll 5
    for (int ky = 0; ky < K; ky++) {
        float32x4_t wk[SN_DW_MAX_K];
#pragma GCC unroll 5
        for (int kx = 0; kx < K; kx++) {
            wk[kx] = vld1q_f32(wt);
            SN_STEP(wt, channels);
        }
        if (!r->rows[ky]) { /* a row of padding: 0 x w */
#pragma GCC unroll 8
            for (int p = 0; p < P; p++)
#pragma GCC unroll 5
                for (int kx = 0; kx < K; kx++) acc[p] = vfmaq_f32(acc[p], zero, wk[kx]);
            continue;
        }
        /* column j's pixel: q stepping along the row, or with CHECK the
         * offset `at` (which may lie before the row) */
        const float *row = r->rows[ky] + c, *q = row;
        int64_t at = col * (int64_t)channels;
        if (CHECK != 1) q += at + LEFT * (int64_t)channels;
#pragma GCC unroll 24
        for (int j = 0; j < S * (P - 1) + K; j++) {
            float32x4_t v;
            if (CHECK == 2 && (j < LEFT || j >= S * (P - 1) + K - RIGHT)) {
                v = zero; /* a column known to lie outside the row */
            } else if (CHECK != 1) {
                const int jj = j - LEFT;
#if SN_ARCH_ARM64
                /* aarch64 has no load that steps by a register: two
                 * pixels a step, the second at a register offset */
                v = vld1q_f32(q + (jj & 1) * channels);
                if (jj & 1) SN_STEP(q, 2 * channels);
#else
                (void)jj;
                v = vld1q_f32(q);
                SN_STEP(q, channels);
#endif
            } else {
                v = (uint64_t)(col + j) < (uint64_t)r->in_w ? vld1q_f32(row + at) : zero;
                at += (int64_t)channels;
            }
#pragma GCC unroll 8
            for (int p = 0; p < P; p++) {
                const int kx = j - S * p;
                if (kx >= 0 && kx < K) acc[p] = vfmaq_f32(acc[p], v, wk[kx]);
            }
        }
    }
    float *o = r->out + x * (int64_t)channels + c;
#pragma GCC unroll 8
    for (int p = 0; p < P; p++) {
        store(o, acc[p], lo, hi);
        SN_STEP(o, channels);
    }
}

/* One output row of the K x K, stride S fast path. */
static inline __attribute__((always_inline)) void row_ks(const int K, const int S,
                                                         const sn_conv2d_geometry *g,
                                                         const struct sn_dw_row *r, const float *w,
                                                         const float *b, float lo_, float hi_) {
    const float32x4_t lo = vdupq_n_f32(lo_), hi = vdupq_n_f32(hi_);
    const size_t channels = (size_t)g->in_c, last = channels - 4; /* channels >= 4 */
#define TILE_(p, check, left, right, x)                                                            \
    do {                                                                                           \
        size_t c = 0;                                                                              \
        for (; c < last; c += 4)                                                                   \
            tile(K, S, p, check, left, right, r, x, c, channels, w, b, lo, hi);                    \
        tile(K, S, p, check, left, right, r, x, last, channels, w, b, lo, hi);                     \
    } while (0)
    /* A checked tile whose columns outside the row are 0 to 2 at either
     * end (SAME padding) knows them at compile time; others check each. */
#define TILE(p, checked, x)                                                                        \
    do {                                                                                           \
        if (!(checked)) {                                                                          \
            TILE_(p, 0, 0, 0, x);                                                                  \
            break;                                                                                 \
        }                                                                                          \
        const int64_t c0_ = r->col + (x)*S, c1_ = c0_ + S * (p - 1) + K;                           \
        const int64_t l_ = c0_ < 0 ? -c0_ : 0, r_ = c1_ > r->in_w ? c1_ - r->in_w : 0;             \
        switch (l_ <= 2 && r_ <= 2 && l_ + r_ < S * (p - 1) + K ? l_ * 3 + r_ : -1) {              \
        case 0: TILE_(p, 2, 0, 0, x); break;                                                       \
        case 1: TILE_(p, 2, 0, 1, x); break;                                                       \
        case 2: TILE_(p, 2, 0, 2, x); break;                                                       \
        case 3: TILE_(p, 2, 1, 0, x); break;                                                       \
        case 4: TILE_(p, 2, 1, 1, x); break;                                                       \
        case 5: TILE_(p, 2, 1, 2, x); break;                                                       \
        case 6: TILE_(p, 2, 2, 0, x); break;                                                       \
        case 7: TILE_(p, 2, 2, 1, x); break;                                                       \
        case 8: TILE_(p, 2, 2, 2, x); break;                                                       \
        default: TILE_(p, 1, 0, 0, x); break;                                                      \
        }                                                                                          \
    } while (0)
    SN_DW_ROW_TILES(TILE, r, g->out_w);
#undef TILE
#undef TILE_
}

SN_DW_FAST_ROWS(row, row_ks)

/* Lanes [0, n) of p (n <= 4), zeros after: for fewer than 4 channels in
 * all. */
static inline float32x4_t load_part(const float *p, size_t n) {
    float lanes[4] = {0.0f, 0.0f, 0.0f, 0.0f};
    memcpy(lanes, p, n * sizeof(float));
    return vld1q_f32(lanes);
}

/* Input channel (c + l) / m of the pixel at `in` in lane l, for the lanes
 * [0, n) (zeros after). */
static inline float32x4_t load_spread(const float *in, size_t c, size_t m, size_t n) {
    float lanes[4] = {0.0f, 0.0f, 0.0f, 0.0f};
    for (size_t l = 0; l < n; l++) lanes[l] = in[(c + l) / m];
    return vld1q_f32(lanes);
}

/* Channels [c, c + 4 NV) of one output pixel (NV 4 or 1; with PART, NV is
 * 1 and only the first n channels exist), any window: M1 (multiplier 1)
 * loads the input channels, else each lane's input channel on its own. */
static inline __attribute__((always_inline)) void
block(const int NV, const int PART, const int M1, const sn_conv2d_geometry *g,
      const struct sn_dw_pixel *px, size_t c, size_t n, const float *filter, const float *bias,
      float32x4_t lo, float32x4_t hi) {
    const float32x4_t zero = vdupq_n_f32(0.0f);
    const size_t oc = (size_t)g->out_c, ic = (size_t)g->in_c, m = oc / ic;
    float32x4_t acc[4];
    for (int v = 0; v < NV; v++)
        acc[v] = !bias ? zero : PART ? load_part(bias + c, n) : vld1q_f32(bias + c + 4 * v);
    const float *w = filter + c;
    for (int64_t ky = 0; ky < g->kh; ky++) {
        const int64_t y = px->iy + ky * g->dilation_h;
        const bool row_in = y >= 0 && y < g->in_h;
        for (int64_t kx = 0; kx < g->kw; kx++, w += oc) {
            const int64_t x = px->ix + kx * g->dilation_w;
            const bool in = row_in && x >= 0 && x < g->in_w;
            const float *pix = in ? px->image + (y * g->in_w + x) * (int64_t)ic : NULL;
            for (int v = 0; v < NV; v++) {
                const float32x4_t wv = PART ? load_part(w, n) : vld1q_f32(w + 4 * v);
                float32x4_t xv = zero; /* a tap on the padding: 0 x w */
                if (in)
                    xv = M1     ? (PART ? load_part(pix + c, n) : vld1q_f32(pix + c + 4 * v))
                         : PART ? load_spread(pix, c, m, n)
                                : load_spread(pix, c + 4 * v, m, 4);
                acc[v] = vfmaq_f32(acc[v], xv, wv);
            }
        }
    }
    if (PART) {
        float lanes[4];
        store(lanes, acc[0], lo, hi);
        memcpy(px->out + c, lanes, n * sizeof(float));
        return;
    }
    for (int v = 0; v < NV; v++) store(px->out + c + 4 * v, acc[v], lo, hi);
}

static inline __attribute__((always_inline)) void pixel_m(const int M1, const sn_conv2d_geometry *g,
                                                          const struct sn_dw_pixel *px,
                                                          const float *filter, const float *bias,
                                                          float32x4_t lo, float32x4_t hi) {
    const size_t channels = (size_t)g->out_c;
    if (channels < 4) {
        block(1, 1, M1, g, px, 0, channels, filter, bias, lo, hi);
        return;
    }
    size_t c = 0;
    for (; c + 16 <= channels; c += 16) block(4, 0, M1, g, px, c, 16, filter, bias, lo, hi);
    for (; c + 4 <= channels; c += 4) block(1, 0, M1, g, px, c, 4, filter, bias, lo, hi);
    if (c < channels) block(1, 0, M1, g, px, channels - 4, 4, filter, bias, lo, hi);
}

static void pixel(const sn_conv2d_geometry *g, const struct sn_dw_pixel *px, const float *filter,
                  const float *bias, float lo, float hi) {
    const float32x4_t vlo = vdupq_n_f32(lo), vhi = vdupq_n_f32(hi);
    if (g->out_c == g->in_c)
        pixel_m(1, g, px, filter, bias, vlo, vhi);
    else
        pixel_m(0, g, px, filter, bias, vlo, vhi);
}

void sn_f32_dwconv_ukernel__neonfma(const sn_conv2d_geometry *g, const float *input,
                                    const float *filter, const float *bias, sn_activation act,
                                    float *output, int64_t row_begin, int64_t row_end) {
    sn_dw_rows(g, input, filter, bias, act, output, row_begin, row_end, sn_dw_fast(g, 4), row,
               pixel);
}
