/* The kernel tables: one const table of function pointers per kernel set,
 * filled at compile time; the dispatcher hands out the one the CPU choice
 * (src/cpu) names.
 *
 * Kernel contract (after XNNPACK): kernels allocate nothing, return void,
 * take restrict pointers where their operands cannot overlap, assume their
 * preconditions (all validation of user input happens above them), and
 * never write outside their output. */
#ifndef SN_KERNELS_KERNELS_H
#define SN_KERNELS_KERNELS_H

#include <stddef.h>

#include "cpu/arch.h"
#include "pack/pack.h"
#include "scopenn.h"

/* y[i] = max(x[i], 0) for i < n; NaN stays NaN. x and y may be equal. */
typedef void (*sn_f32_vunary_fn)(size_t n, const float *x, float *y);

/* One tile of a convolution (and of a matrix product, which is a 1x1
 * convolution): up to MR output pixels of one row, times one block of NR
 * output channels.
 *
 * Output pixel m (m < mr) reads, for kernel tap (ky, kx) and input channel
 * c, the float at
 *     input + m * pixel_stride + ky * row_stride + kx * col_stride + c
 * (strides in bytes; the caller pads the input so every read is in bounds)
 * and the packed weights of the block, [kh][kw][kc][NR] floats, NR-wide
 * bias first added. It writes nc <= NR channels of each of its mr pixels
 * to output + m * output_stride, clamped to [min, max] (relu: [0, +inf];
 * relu6: [0, 6]; none: [-inf, +inf]; NaN passes through). */
struct sn_conv_tile {
    const float *input;
    size_t pixel_stride, row_stride, col_stride;
    size_t kh, kw, kc;
    const float *weights; /* packed block: kh * kw * kc * NR floats */
    const float *bias;    /* NR floats */
    float *output;
    size_t output_stride;
    float min, max;
};

typedef void (*sn_f32_conv_ukernel_fn)(size_t mr, size_t nc, const struct sn_conv_tile *tile);

/* A convolution kernel set: the MR x NR tile kernel, its one-pixel twin
 * for leftovers and matrix-vector products, and the packer that makes the
 * layout they read. Chosen together, so kernel and layout cannot drift
 * apart. */
struct sn_conv_config {
    size_t mr, nr;
    sn_f32_conv_ukernel_fn tile, row;
    const sn_packer *packer;            /* [.., K, N] -> [N/NR][K][NR] */
    const sn_packer *packer_transposed; /* [N, K] -> [N/NR][K][NR] */
};

/* Declare every kernel of every list, for the architecture being built. */
#define SN_KERNEL(isa, fn) void fn(size_t n, const float *x, float *y);
#include "kernels/f32-vrelu.inc"
#undef SN_KERNEL
#define SN_CONV_KERNEL(isa, mr, nr, tile, row)                                                     \
    void tile(size_t, size_t, const struct sn_conv_tile *);                                        \
    void row(size_t, size_t, const struct sn_conv_tile *);
#include "kernels/f32-conv.inc"
#undef SN_CONV_KERNEL

struct sn_kernels {
    sn_isa isa;
    sn_f32_vunary_fn f32_relu;
    /* conv.tile is NULL for the scalar set, which runs the reference
     * kernels on the reference layout */
    struct sn_conv_config conv;
};

/* The table of `isa`, or NULL if this build has no kernels for it (an ISA
 * of another architecture). Does not check that the CPU can run it. */
const struct sn_kernels *sn_kernels_for(sn_isa isa);

/* The table of the kernel set in use now (see sn_cpu_isa()). Never NULL. */
const struct sn_kernels *sn_kernels_current(void);

#endif /* SN_KERNELS_KERNELS_H */
