/* The kernel set's tile kernels (struct sn_conv_tile, kernels/kernels.h)
 * over runs of pixels and groups of NR blocks: what the direct conv, the
 * GEMM, Winograd's and Strassen's products share. */
#ifndef SN_ALGO_TILE_H
#define SN_ALGO_TILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kernels/kernels.h"

/* The input of a conv with padding, inside a frame of zeros as far as its
 * taps reach: hp x wp, (out - 1) * stride + dilated kernel, from the
 * leading padding (top, left). */
struct sn_padded {
    int64_t h, w, c, hp, wp, top, left;
    int64_t stride, span; /* rows: the stride, the filter's rows with dilation */
    int64_t span_w;       /* the filter's columns with dilation */
};

struct sn_tile_task {
    const struct sn_conv_config *cc;
    struct sn_conv_tile base; /* strides, taps, clamp */
    const float *input;       /* NHWC */
    int64_t in_h, in_w;       /* its rows and columns per image */
    int64_t out_h, out_w, out_c, stride_h, stride_w, channels;
    int64_t out_stride; /* floats from one output pixel (or row) to the next: out_c or more */
    const float *weights, *bias; /* packed: blocks of block_floats, and NR-wide */
    size_t block_floats;
    size_t groups; /* of NR blocks per row: see sn_block_range */
    size_t panel;  /* matrix products: rows per work item, a multiple of MR */
    /* A run of one pixel takes the tile kernel too, not the row kernel:
     * set where the thread count cuts the runs (matrix panels), so that a
     * lone last row is computed as in any other cut */
    bool lone_by_tile;
    float *output;
    /* applied in place to each part of the output once computed (a fused
     * activation that is no clamp), or NULL: see sn_tile_post */
    sn_f32_vunary_fn post;
    /* With padding (pad.chunk > 0): a chunk of rows reads its band of the
     * frame (see algo/direct-conv.c), but the tiles whose taps all fall
     * inside the input read the input itself */
    struct sn_pad {
        struct sn_padded frame;
        int64_t chunk;            /* output rows per band; 0 without padding */
        struct sn_conv_tile base; /* the strides in a band */
        int64_t oy0, oy1;         /* output rows whose taps stay inside at the top and bottom */
        int64_t lx, rx;           /* of those rows, the run of whole tiles reading only inside */
        bool middle;              /* if any: lx < rx and oy0 < oy1 */
        /* what a band holds of the frame: its rows [0, full_end) and
         * [full_begin, hp) whole, of the others the columns [0, lcols) and
         * [rcols, wp) that the edge tiles read */
        int64_t full_end, full_begin, lcols, rcols;
    } pad;
};

/* NR blocks [first_block, end_block) of one run of pixels: `count` pixels
 * from `in` (pixel_stride apart, strides of `base`) to `out`, which the
 * kernel cuts in MR tiles from the start of the run. */
void sn_tile_blocks(const struct sn_tile_task *t, const struct sn_conv_tile *base, const float *in,
                    float *out, size_t count, size_t first_block, size_t end_block);

/* t->post, if any, over the channels of NR blocks [first_block,
 * end_block) of `count` output pixels from `out`: what sn_tile_blocks
 * just computed there, while it is in cache. */
void sn_tile_post(const struct sn_tile_task *t, float *out, size_t count, size_t first_block,
                  size_t end_block);

/* Work item i covers output rows (or MR-row tiles) i / groups, NR blocks
 * [g * blocks / groups, (g + 1) * blocks / groups) for g = i % groups: a
 * 2-D split, so a layer with few rows (a matrix-vector product) still
 * feeds every thread. Each output is computed by one call whatever the
 * split, so results do not depend on the thread count. */
void sn_block_range(const struct sn_tile_task *t, size_t i, size_t *b0, size_t *b1);

/* The tile kernels as a matrix product [rows][k] x [k][n] (packed weights,
 * NR-wide blocks of k rows; no clamp; `zeros` for a missing bias, at
 * least n rounded up to NR floats). */
struct sn_tile_task sn_product_task(const struct sn_conv_config *cc, const float *zeros, int64_t k,
                                    int64_t n);

#endif
