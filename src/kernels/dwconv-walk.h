/* The walk the SIMD depthwise kernels share (sn_f32_dwconv_fn): output
 * rows [row_begin, row_end) of batch * out_h, each through the kernel
 * set's row function when the shape has a fast path (sn_dw_fast), else
 * pixel by pixel through its generic function. Both are the including
 * file's static inline functions, vectorized over channels, so the calls
 * inline.
 *
 * Every path computes an output the same way: the bias (or 0), then one
 * fused multiply-add per tap in ky, kx order, a tap on the padding
 * multiplying a 0 (so a NaN or infinite weight there gives NaN, as the
 * reference's). Which path or tile computes a pixel never changes its
 * bits: a tile may overlap the one before it and rewrite the same floats,
 * and any split of the rows among threads gives the same output. */
#ifndef SN_KERNELS_DWCONV_WALK_H
#define SN_KERNELS_DWCONV_WALK_H

#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kernels/ref/ref.h"

/* The largest window of the fast paths: 3x3 and 5x5. */
enum { SN_DW_MAX_K = 5 };

/* Whether `g` takes the fast path: multiplier 1, a 3x3 or 5x5 window,
 * the same stride 1 or 2 on both axes, no dilation, and at least
 * `min_channels` channels. */
static inline bool sn_dw_fast(const sn_conv2d_geometry *g, int64_t min_channels) {
    return g->out_c == g->in_c && g->in_c >= min_channels && g->kh == g->kw &&
           (g->kh == 3 || g->kh == 5) && g->stride_h == g->stride_w &&
           (g->stride_h == 1 || g->stride_h == 2) && g->dilation_h == 1 && g->dilation_w == 1;
}

/* One output row of a fast-path shape. The tiles of the row function read
 * input pixel (ky, col + x) at rows[ky] + (col + x) * channels, for the x
 * of their taps; a NULL row is padding, and so is a column outside
 * [0, in_w). */
struct sn_dw_row {
    const float *rows[SN_DW_MAX_K]; /* each at its pixel 0; NULL: a row of padding */
    int64_t col;                    /* input column of output pixel 0's first tap */
    int64_t in_w;
    int64_t ox0, ox1; /* the output columns whose taps all lie inside the row */
    float *out;       /* output pixel 0 */
};

/* The window of one output pixel, for the generic path: the input pixel of
 * tap (ky, kx) is image row iy + ky * dilation_h, column ix + kx *
 * dilation_w, padding outside the image. */
struct sn_dw_pixel {
    const float *image; /* the batch item's first pixel */
    int64_t iy, ix;
    float *out;
};

/* The output positions [*o0, *o1) of one axis whose taps all lie inside
 * [0, in): o * stride - pad >= 0 and o * stride - pad + span - 1 < in. */
static inline void sn_dw_inside(int64_t in, int64_t out, int64_t stride, int64_t pad, int64_t span,
                                int64_t *o0, int64_t *o1) {
    *o0 = pad <= 0 ? 0 : (pad + stride - 1) / stride;
    *o1 = in - span + pad < 0 ? 0 : (in - span + pad) / stride + 1;
    if (*o1 > out) *o1 = out;
    if (*o0 > *o1) *o0 = *o1;
}

/* Runs `row` over each output row of a fast-path shape (see sn_dw_fast),
 * else `pixel` over each output pixel. */
static inline void sn_dw_rows(const sn_conv2d_geometry *g, const float *input, const float *filter,
                              const float *bias, sn_activation act, float *output,
                              int64_t row_begin, int64_t row_end, bool fast,
                              void (*row)(const sn_conv2d_geometry *, const struct sn_dw_row *,
                                          const float *, const float *, float, float),
                              void (*pixel)(const sn_conv2d_geometry *, const struct sn_dw_pixel *,
                                            const float *, const float *, float, float)) {
    if (g->out_c <= 0 || g->out_w <= 0 || row_begin >= row_end) return;
    float lo, hi;
    sn_clamp_of(act, &lo, &hi);
    const int64_t image = g->in_h * g->in_w * g->in_c, out_row = g->out_w * g->out_c;
    struct sn_dw_row r = {.col = -g->pad_left, .in_w = g->in_w};
    if (fast) sn_dw_inside(g->in_w, g->out_w, g->stride_w, g->pad_left, g->kw, &r.ox0, &r.ox1);
    /* batch item n, output row oy of row i: divided once (a 64-bit division
     * is a library call on 32-bit ARM), then stepped */
    int64_t n = row_begin / g->out_h, oy = row_begin % g->out_h;
    for (int64_t i = row_begin; i < row_end; i++, oy = oy + 1 == g->out_h ? (n++, 0) : oy + 1) {
        const int64_t iy = oy * g->stride_h - g->pad_top;
        const float *img = input + n * image;
        float *out = output + i * out_row;
        if (fast) {
            for (int64_t ky = 0; ky < g->kh; ky++) {
                const int64_t y = iy + ky;
                r.rows[ky] = y >= 0 && y < g->in_h ? img + y * g->in_w * g->in_c : NULL;
            }
            r.out = out;
            row(g, &r, filter, bias, lo, hi);
            continue;
        }
        struct sn_dw_pixel p = {.image = img, .iy = iy};
        for (int64_t ox = 0; ox < g->out_w; ox++) {
            p.ix = ox * g->stride_w - g->pad_left;
            p.out = out + ox * g->out_c;
            pixel(g, &p, filter, bias, lo, hi);
        }
    }
}

/* The body of a row function: the row's out_w pixels through TILE(p,
 * checked, x), a tile of p pixels (8, 4, 2 or 1) from output column x,
 * `checked` (a compile-time 0 or 1) if one of its taps may lie left or
 * right of the input row. A row of 8 pixels or more takes tiles of 8,
 * the last one ending at the row's end and overlapping the one before; a
 * shorter row takes tiles of 4, 2 and 1. A tile is checked if it holds a
 * pixel outside [ox0, ox1): with SAME padding, the first and the last.
 * (Tiles of 8 there rather than tiles of the 1 or 2 border pixels alone,
 * whose 1 or 2 chains of dependent FMAs made the 14x14 5x5 layer 45-50%
 * slower on x86, for 5% fewer instructions in the 56x56 3x3 one on
 * aarch64.) */
/* `name`, the row of the fast path for the geometry's window (3x3 or 5x5)
 * and stride (1 or 2): ROW_KS(K, S, g, r, w, b, lo, hi), an always-inline
 * function of the ISA's file, specialized once for each in a function of
 * its own (not inlined into one another: each keeps its registers). */
#define SN_DW_FAST_ROWS(name, ROW_KS)                                                              \
    SN_DW_FAST_ROW_(name##_3x3s1, ROW_KS, 3, 1)                                                    \
    SN_DW_FAST_ROW_(name##_3x3s2, ROW_KS, 3, 2)                                                    \
    SN_DW_FAST_ROW_(name##_5x5s1, ROW_KS, 5, 1)                                                    \
    SN_DW_FAST_ROW_(name##_5x5s2, ROW_KS, 5, 2)                                                    \
    static void name(const sn_conv2d_geometry *g, const struct sn_dw_row *r, const float *w,       \
                     const float *b, float lo, float hi) {                                         \
        if (g->kh == 3)                                                                            \
            (g->stride_h == 1 ? name##_3x3s1 : name##_3x3s2)(g, r, w, b, lo, hi);                  \
        else                                                                                       \
            (g->stride_h == 1 ? name##_5x5s1 : name##_5x5s2)(g, r, w, b, lo, hi);                  \
    }
#define SN_DW_FAST_ROW_(fn, ROW_KS, K, S)                                                          \
    static __attribute__((noinline)) void fn(const sn_conv2d_geometry *g,                          \
                                             const struct sn_dw_row *r, const float *w,            \
                                             const float *b, float lo, float hi) {                 \
        ROW_KS(K, S, g, r, w, b, lo, hi);                                                          \
    }

#define SN_DW_ROW_TILES(TILE, r, width)                                                            \
    do {                                                                                           \
        const int64_t w_ = (width);                                                                \
        if (w_ >= 8) {                                                                             \
            for (int64_t x_ = 0;; x_ += 8) {                                                       \
                if (x_ + 8 > w_) x_ = w_ - 8;                                                      \
                if (x_ >= (r)->ox0 && x_ + 8 <= (r)->ox1)                                          \
                    TILE(8, 0, x_);                                                                \
                else                                                                               \
                    TILE(8, 1, x_);                                                                \
                if (x_ + 8 == w_) break;                                                           \
            }                                                                                      \
        } else {                                                                                   \
            int64_t x_ = 0;                                                                        \
            SN_DW_SHORT_TILE_(TILE, r, 4, x_, w_);                                                 \
            SN_DW_SHORT_TILE_(TILE, r, 2, x_, w_);                                                 \
            SN_DW_SHORT_TILE_(TILE, r, 1, x_, w_);                                                 \
        }                                                                                          \
    } while (0)
#define SN_DW_SHORT_TILE_(TILE, r, p, x, width)                                                    \
    do {                                                                                           \
        if (!((width) & (p))) break;                                                               \
        if ((x) >= (r)->ox0 && (x) + (p) <= (r)->ox1)                                              \
            TILE(p, 0, x);                                                                         \
        else                                                                                       \
            TILE(p, 1, x);                                                                         \
        (x) += (p);                                                                                \
    } while (0)

#endif /* SN_KERNELS_DWCONV_WALK_H */
