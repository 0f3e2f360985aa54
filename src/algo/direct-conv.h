/* The direct convolution on the tile kernels: output rows in runs of
 * pixels, NR blocks at a time; with padding, each chunk of rows first
 * copies the band of the zero-padded frame its taps reach into its
 * thread's part of the workspace. */
#ifndef SN_ALGO_DIRECT_CONV_H
#define SN_ALGO_DIRECT_CONV_H

#include <stdbool.h>
#include <stddef.h>

#include "algo/parallel.h"
#include "algo/tile.h"
#include "kernels/kernels.h"

/* A convolution for the direct conv or Winograd (algo/winograd.h). */
struct sn_conv_job {
    const struct sn_kernels *kernels; /* Winograd's transforms */
    const struct sn_conv_config *cc;  /* the tile kernels and their packers */
    const struct sn_threads *threads;
    const float *zeros; /* the bias when there is none: out_c rounded up to NR */
    sn_conv2d_geometry geo;
    const float *input; /* NHWC */
    /* direct: cc->packer's layout of the HWIO filter, the bias NR-blocked;
     * Winograd: cc->packer_winograd's, the bias as it is. Bias may be NULL */
    const float *weights, *bias;
    sn_activation act;
    sn_f32_vunary_fn post; /* direct: applied to each row as it is done; NULL: none */
    float *output;
    size_t out_stride; /* direct: floats between output pixels; 0: out_c */
    /* per thread, `part` floats apart: see sn_direct_conv_workspace and
     * sn_winograd_workspace */
    float *workspace;
    size_t part;
};

/* Whether the conv of `g` has taps outside its input, and where its frame
 * is. */
bool sn_direct_conv_frame(const sn_conv2d_geometry *g, struct sn_padded *frame);

/* Whether the tile kernels can run the conv: false when its padded band
 * would pass 64 MB, or 16 times the image when that is more than the
 * usual 256 KB (a large dilation's frame is then mostly zeros, which the
 * reference kernel skips without a frame). */
bool sn_direct_conv_fits(const sn_conv2d_geometry *g);

/* The bytes of workspace the conv needs on `threads` threads (0 without
 * padding), and in *part the floats from one thread's part to the next. */
size_t sn_direct_conv_workspace(const sn_conv2d_geometry *g, size_t threads, size_t *part);

void sn_direct_conv_run(const struct sn_conv_job *job);

#endif
