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
#include "kernels/ref/ref.h"
#include "pack/pack.h"
#include "scopenn.h"

/* y[i] = f(x[i]) for i < n; x and y may be equal. relu (max(x, 0)),
 * relu6 (min(max(x, 0), 6)), hard_sigmoid and hard_swish (their float
 * formulas: sn_f32_unary_ref) give the reference's floats bit for bit (any
 * NaN for a NaN, -0 stays -0); sigmoid (1 / (1 + exp(-x)), 0 or 1 where
 * exp overflows, never NaN for a number), swish (x times the kernel set's
 * own sigmoid, to the bit: elementwise_tester checks it) and tanh come
 * within a few ULP of the reference's libm. */
typedef void (*sn_f32_vunary_fn)(size_t n, const float *x, float *y);

/* Leaky relu: y[i] = x[i] < 0 ? alpha * x[i] : x[i] for i < n, any alpha,
 * as sn_f32_leaky_relu_ref bit for bit (any NaN for a NaN; NaN and -0 pass
 * through). x and y may be equal. */
typedef void (*sn_f32_vlrelu_fn)(size_t n, const float *x, float alpha, float *y);

/* Binary elementwise kernels, op = add, maximum, subtract, multiply or
 * reversed subtract (b - a), as the reference sn_f32_binary_ref computes
 * them, bit for bit (any NaN for a NaN; maximum: a > b ? a : b, and a NaN
 * operand gives NaN). y may equal a (or b, for the same-shape kernel).
 *   same shape:       y[i] = a[i] op b[i], i < n
 *   scalar:           y[i] = a[i] op b, i < n
 *   trailing vector:  y[r * channels + c] = a[r * channels + c] op b[c],
 *                     r < rows, c < channels (TensorFlow's BiasAdd)
 * With the scalar or the vector first, the session passes `b op a[i]` to
 * the scalar and trailing-vector kernels as `a[i] op' b`: op' is op for
 * add and multiply (commutative to the bit, but for which of two NaNs comes
 * out), reversed subtract for subtract (and the reverse), and maximum for
 * maximum, which is commutative except for the sign of a zero result
 * (max(-0, +0) is +0, max(+0, -0) is -0) and which of two NaNs comes out:
 * the session accepts that difference. */
typedef void (*sn_f32_vbinary_fn)(size_t n, const float *a, const float *b, float *y);
typedef void (*sn_f32_vbinaryc_fn)(size_t n, const float *a, float b, float *y);
typedef void (*sn_f32_vbinaryrow_fn)(size_t rows, size_t channels, const float *a, const float *b,
                                     float *y);

/* Defines the three entry points of binary op OP (sn_f32_vNAME_ukernel__ISA,
 * vNAMEc, vNAMErow) in a kernel file whose static same(), scalar() and
 * row() take the op first. */
#define SN_VBINARY_ENTRY_POINTS(OP, NAME, ISA)                                                     \
    void sn_f32_v##NAME##_ukernel__##ISA(size_t n, const float *a, const float *b, float *y) {     \
        same(OP, n, a, b, y);                                                                      \
    }                                                                                              \
    void sn_f32_v##NAME##c_ukernel__##ISA(size_t n, const float *a, float b, float *y) {           \
        scalar(OP, n, a, b, y);                                                                    \
    }                                                                                              \
    void sn_f32_v##NAME##row_ukernel__##ISA(size_t rows, size_t channels, const float *a,          \
                                            const float *b, float *y) {                            \
        row(OP, rows, channels, a, b, y);                                                          \
    }

struct sn_vbinary_kernels {
    sn_f32_vbinary_fn same;
    sn_f32_vbinaryc_fn scalar;
    sn_f32_vbinaryrow_fn row;
};

/* Softmax over each of `rows` rows of cols >= 1 floats, as
 * sn_f32_softmax_ref: y = exp(x - max) / sum, max and sum over the row. */
typedef void (*sn_f32_softmax_fn)(size_t rows, size_t cols, const float *x, float *y);

/* Max or average pooling of NHWC input, output rows [row_begin, row_end) of
 * batch * out_h, as sn_f32_max_pool_ref and sn_f32_avg_pool_ref (the
 * window counts only input pixels; average divides by their number). */
typedef void (*sn_f32_pool_fn)(const sn_conv2d_geometry *g, const float *input, float *output,
                               int64_t row_begin, int64_t row_end);

/* Depthwise convolution of NHWC input, output rows [row_begin, row_end)
 * of batch * out_h, as sn_f32_depthwise_conv2d_ref (the scalar set's
 * kernel): filter [kh][kw][out_c] (the reference layout), bias (out_c
 * floats) or NULL, the activation clamped at the store. Each output is
 * its bias, then its taps in ky, kx order, a tap on the padding adding
 * 0 x its weight (a NaN or infinite weight there gives NaN); the SIMD
 * kernels fuse each multiply-add, so they may differ from the reference
 * by rounding. An output's floats do not depend on the rows asked for. */
typedef void (*sn_f32_dwconv_fn)(const sn_conv2d_geometry *g, const float *input,
                                 const float *filter, const float *bias, sn_activation act,
                                 float *output, int64_t row_begin, int64_t row_end);
/* The mean over `rows` >= 0 rows of `channels` >= 1 floats, row r at
 * input + r * input_stride (bytes; the rows may overlap nothing else of
 * the output): output[c] = (x[0][c] + x[1][c] + ... + x[rows - 1][c]) /
 * divisor, the sum in float32 from row 0 onwards (a first row of -0 stays
 * -0; no rows sum to +0), then divided once, so that every kernel set
 * gives the reference's floats bit for bit (any NaN for a NaN: which NaN
 * comes out of a sum is the hardware's). Global average pooling reads an
 * image's pixels as rows (XNNPACK's rdsum, "reduce discontiguous"). */
typedef void (*sn_f32_rdmean_fn)(size_t rows, size_t channels, const float *input,
                                 size_t input_stride, float divisor, float *output);

/* A run of a convolution (and of a matrix product, which is a 1x1
 * convolution): mr output pixels of one row (any number: the kernel takes
 * them MR at a time, the last tile shorter), times one block of NR output
 * channels.
 *
 * Output pixel m (m < mr) reads, for kernel tap (ky, kx) and input channel
 * c, the float at
 *     input + m * pixel_stride + ky * row_stride + kx * col_stride + c
 * (strides in bytes; the caller pads the input so every read is in bounds)
 * and the packed weights of the block, [kh][kw][kc][NR] floats, NR-wide
 * bias first added (each NR-float row in the kernel set's layout: see
 * kernels/f32-conv.inc). It writes nc channels of each of its mr pixels to
 * output + m * output_stride, clamped to [min, max] (relu: [0, +inf];
 * relu6: [0, 6]; none: [-inf, +inf]; NaN passes through).
 *
 * nc may exceed NR: the kernel then computes ceil(nc / NR) blocks in turn,
 * block b reading weights + b * kh * kw * kc * NR and bias + b * NR and
 * writing output + b * NR (one call for a run's pixels and channels saves a
 * call, its set-up and its bookkeeping per tile and block: the stem layer
 * ran 9% faster with whole runs). */
struct sn_conv_tile {
    const float *input;
    size_t pixel_stride, row_stride, col_stride;
    size_t kh, kw, kc;
    const float *weights; /* packed blocks: kh * kw * kc * NR floats each */
    const float *bias;    /* NR floats per block */
    float *output;
    size_t output_stride;
    float min, max;
};

typedef void (*sn_f32_conv_ukernel_fn)(size_t mr, size_t nc, const struct sn_conv_tile *tile);

/* Defines kernel NAME (the contract above) as a loop over the NR-channel
 * blocks of nc channels: BLOCK(mr, n, t, weights, bias, output) computes
 * the run's pixels for one block of min(n, NR) channels, given n channels
 * left (storing all NR when n >= NR), reading every other field of t. The
 * pointers step here rather than in a copy of t: a copy read back soon
 * after the caller wrote t stalls on store-to-load forwarding (x86,
 * measured: the AVX2 stem 12% slower). */
#define SN_CONV_OVER_BLOCKS(NAME, BLOCK, NR)                                                       \
    void NAME(size_t mr, size_t nc, const struct sn_conv_tile *t) {                                \
        const float *w = t->weights, *b = t->bias;                                                 \
        float *o = t->output;                                                                      \
        const size_t step = t->kh * t->kw * t->kc * (NR);                                          \
        for (size_t n = nc;; n -= (NR), w += step, b += (NR), o += (NR)) {                         \
            BLOCK(mr, n, t, w, b, o);                                                              \
            if (n <= (NR)) break;                                                                  \
        }                                                                                          \
    }

/* The body of a block function (BLOCK above) over a run of `pixels`: full
 * tiles of MR pixels through TILE(MR, in, out), then the rest, fewer than
 * MR <= 8, through TILE instantiated for its own count, so that a run's
 * short last tile computes no row twice. TILE(r, in, out) computes r
 * pixels from `in` (const char *, pixel_stride bytes apart) to `out`
 * (float *, output_stride bytes apart); each pixel's sums are the same
 * whatever r, so how a run is cut does not change its bits. */
#define SN_CONV_RUN_TILES(MR, TILE, pixels, input, pixel_stride, output, output_stride)            \
    do {                                                                                           \
        const char *in_ = (const char *)(input);                                                   \
        float *out_ = (output);                                                                    \
        size_t left_ = (pixels);                                                                   \
        for (; left_ >= (MR); left_ -= (MR)) {                                                     \
            TILE(MR, in_, out_);                                                                   \
            in_ += (MR) * (pixel_stride);                                                          \
            out_ = (float *)((char *)out_ + (MR) * (output_stride));                               \
        }                                                                                          \
        switch (left_) {                                                                           \
            SN_CONV_TAIL_(7, MR, TILE)                                                             \
            SN_CONV_TAIL_(6, MR, TILE)                                                             \
            SN_CONV_TAIL_(5, MR, TILE)                                                             \
            SN_CONV_TAIL_(4, MR, TILE)                                                             \
            SN_CONV_TAIL_(3, MR, TILE)                                                             \
            SN_CONV_TAIL_(2, MR, TILE)                                                             \
            SN_CONV_TAIL_(1, MR, TILE)                                                             \
        default: break;                                                                            \
        }                                                                                          \
    } while (0)
#define SN_CONV_TAIL_(r, MR, TILE)                                                                 \
    case r:                                                                                        \
        if ((r) < (MR)) TILE(r, in_, out_);                                                        \
        break;

/* Winograd F(m x m, r x r) with 6x6 tiles, m + r = 7: F(4x4, 3x3) for 3x3
 * filters, F(2x2, 5x5) for 5x5, stride 1, dilation 1 (NHWC). Output tile t
 * = (n * tiles_h + ty) * tiles_w + tx covers output rows m ty .. m ty +
 * m - 1 and as many columns from m tx, of image n; T = batch * tiles_h *
 * tiles_w tiles in all.
 *   input transform, tiles [t0, t1): the 6x6 patch at input row m ty - top,
 *     column m tx - left (zeros outside the input) becomes V = B^T d B,
 *     36 matrices of [t1 - t0][channels] rows, `stride` floats apart:
 *     v[xi * stride + (t - t0) * channels + c];
 *   the products, M[xi] = V[xi] U[xi] with U = G g G^T (the weights,
 *     pack/pack.h), run on the tile kernels:
 *     m[xi * stride + (t - t0) * out_c + o];
 *   output transform, tiles [t0, t1): Y = A^T M A (m x m), plus bias (NULL:
 *     none), clamped to [lo, hi] as the tile kernels clamp, into the NHWC
 *     output (the parts of a tile inside it).
 * The caller keeps V and M of a few tiles at a time, in cache.
 * winograd-f4x4.h has the matrices. */
typedef struct sn_winograd_geometry {
    int64_t batch, in_h, in_w, channels, out_h, out_w, out_c, top, left, tiles_h, tiles_w;
    int m; /* output tile size: 4 or 2 */
} sn_winograd_geometry;

typedef void (*sn_f32_winograd_input_fn)(const sn_winograd_geometry *g, const float *input,
                                         float *v, size_t stride, size_t t0, size_t t1);
typedef void (*sn_f32_winograd_output_fn)(const sn_winograd_geometry *g, const float *m,
                                          size_t stride, const float *bias, float lo, float hi,
                                          float *output, size_t t0, size_t t1);

/* A convolution kernel set: the MR x NR tile kernel, its one-pixel twin
 * for runs of one pixel (matrix-vector products among them: the session
 * says where, see tile_blocks), and the packer that makes the
 * layout they read. Chosen together, so kernel and layout cannot drift
 * apart. */
struct sn_conv_config {
    size_t mr, nr;
    sn_f32_conv_ukernel_fn tile, row;
    const sn_packer *packer;            /* [.., K, N] -> [N/NR][K][NR] */
    const sn_packer *packer_transposed; /* [N, K] -> [N/NR][K][NR] */
    /* 3x3 or 5x5 HWIO -> 36 x the packer's layout of [in, out] (U = G g G^T) */
    const sn_packer *packer_winograd;
    /* [.., K, N] or [N, K] -> 7 x the packer's layout of [K/2][N/2] (one
     * level of Strassen-Winograd) */
    const sn_packer *packer_strassen, *packer_strassen_transposed;
};

/* Declare every kernel of every list, for the architecture being built. */
#define SN_KERNEL(isa, fn) void fn(size_t n, const float *x, float *y);
#include "kernels/f32-vrelu.inc"
#undef SN_KERNEL
#define SN_VUNARY_KERNEL(isa, op, fn) void fn(size_t n, const float *x, float *y);
#include "kernels/f32-vunary.inc"
#undef SN_VUNARY_KERNEL
#define SN_VLRELU_KERNEL(isa, fn) void fn(size_t n, const float *x, float alpha, float *y);
#include "kernels/f32-vlrelu.inc"
#undef SN_VLRELU_KERNEL
#define SN_VBINARY_KERNELS(isa, op, same, scalar, row)                                             \
    void same(size_t, const float *, const float *, float *);                                      \
    void scalar(size_t, const float *, float, float *);                                            \
    void row(size_t, size_t, const float *, const float *, float *);
#include "kernels/f32-vbinary.inc"
#undef SN_VBINARY_KERNELS
#define SN_SOFTMAX_KERNEL(isa, fn) void fn(size_t, size_t, const float *, float *);
#include "kernels/f32-softmax.inc"
#undef SN_SOFTMAX_KERNEL
#define SN_POOL_KERNEL(isa, op, fn)                                                                \
    void fn(const sn_conv2d_geometry *, const float *, float *, int64_t, int64_t);
#include "kernels/f32-pool.inc"
#undef SN_POOL_KERNEL
#define SN_DWCONV_KERNEL(isa, fn)                                                                  \
    void fn(const sn_conv2d_geometry *, const float *, const float *, const float *,               \
            sn_activation, float *, int64_t, int64_t);
#include "kernels/f32-dwconv.inc"
#undef SN_DWCONV_KERNEL
#define SN_RDMEAN_KERNEL(isa, fn) void fn(size_t, size_t, const float *, size_t, float, float *);
#include "kernels/f32-rdmean.inc"
#undef SN_RDMEAN_KERNEL
#define SN_CONV_KERNEL(isa, mr, nr, tile, row, layout)                                             \
    void tile(size_t, size_t, const struct sn_conv_tile *);                                        \
    void row(size_t, size_t, const struct sn_conv_tile *);
#include "kernels/f32-conv.inc"
#undef SN_CONV_KERNEL
#define SN_WINOGRAD_KERNELS(isa, input, output)                                                    \
    void input(const sn_winograd_geometry *, const float *, float *, size_t, size_t, size_t);      \
    void output(const sn_winograd_geometry *, const float *, size_t, const float *, float, float,  \
                float *, size_t, size_t);
#include "kernels/f32-winograd.inc"
#undef SN_WINOGRAD_KERNELS

/* Every field is set in every table this build has: the scalar table
 * points at the reference kernels, so the session can always call through
 * the table (conv and the Winograd transforms excepted, below). */
struct sn_kernels {
    sn_isa isa;
    sn_f32_vunary_fn f32_relu, f32_relu6, f32_sigmoid, f32_tanh;
    sn_f32_vunary_fn f32_swish, f32_hard_sigmoid, f32_hard_swish;
    sn_f32_vlrelu_fn f32_leaky_relu;
    struct sn_vbinary_kernels f32_binary[SN_BINARY_OP_COUNT]; /* by sn_binary_op */
    sn_f32_softmax_fn f32_softmax;
    sn_f32_pool_fn f32_max_pool, f32_avg_pool;
    sn_f32_dwconv_fn f32_dwconv;
    sn_f32_rdmean_fn f32_rdmean;
    /* NULL for the scalar set, like conv.tile */
    sn_f32_winograd_input_fn f32_winograd_input;
    sn_f32_winograd_output_fn f32_winograd_output;
    /* conv.tile is NULL for the scalar set, which runs the reference
     * kernels on the reference layout */
    struct sn_conv_config conv;
};

/* The table of `isa`, or NULL if this build has no kernels for it (an ISA
 * of another architecture). Does not check that the CPU can run it. */
const struct sn_kernels *sn_kernels_for(sn_isa isa);

/* The kernels for computing in `dtype` on kernel set `isa` (the session's
 * choice under the cap): the table for every op but the products, and the
 * products' config (kernel, packer and tile chosen together, as XNNPACK's
 * gemm-config does). NULL where this build has none: only SN_F32 has
 * kernels today; int8 or fp16 will be configs of their own, which the op
 * classes' plans pick by the dtype of what they compute. */
const struct sn_kernels *sn_kernels_get(sn_dtype dtype, sn_isa isa);
const struct sn_conv_config *sn_gemm_config(sn_dtype dtype, sn_isa isa);

/* The table of the kernel set in use now (see sn_cpu_isa()). Never NULL. */
const struct sn_kernels *sn_kernels_current(void);

#endif /* SN_KERNELS_KERNELS_H */
