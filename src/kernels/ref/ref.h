/* The scalar reference kernels: plain, obviously correct C, one per op. They
 * are the oracle every SIMD kernel is tested against, and the fallback on
 * CPUs without SIMD. Layouts: activations NHWC, filters HWIO, row-major. */
#ifndef SN_KERNELS_REF_H
#define SN_KERNELS_REF_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>

/* The activation fused into a kernel's store. */
typedef enum sn_activation { SN_ACT_NONE, SN_ACT_RELU, SN_ACT_RELU6 } sn_activation;

/* The clamp [*lo, *hi] the kernels store activation `act` as (max(lo, v)
 * then min(hi, v), which let a NaN pass). */
static inline void sn_clamp_of(sn_activation act, float *lo, float *hi) {
    *lo = act == SN_ACT_NONE ? -INFINITY : 0.0f;
    *hi = act == SN_ACT_RELU6 ? 6.0f : INFINITY;
}

/* A 2-D convolution's geometry. Output pixel (oy, ox) reads input rows
 * oy * stride_h - pad_top + ky * dilation_h (and likewise for columns);
 * reads outside the input are zeros. */
typedef struct sn_conv2d_geometry {
    int64_t batch, in_h, in_w, in_c;
    int64_t kh, kw, out_c;
    int64_t out_h, out_w;
    int64_t stride_h, stride_w, dilation_h, dilation_w;
    int64_t pad_top, pad_left;
} sn_conv2d_geometry;

/* Output rows [row_begin, row_end) of the batch's batch * out_h rows:
 * output = act(conv(input, filter) + bias); bias may be NULL. */
void sn_f32_conv2d_ref(const sn_conv2d_geometry *g, const float *input, const float *filter,
                       const float *bias, sn_activation act, float *output, int64_t row_begin,
                       int64_t row_end);

/* A depthwise convolution, output rows [row_begin, row_end): output
 * channel oc = c * multiplier + j (multiplier = out_c / in_c) is input
 * channel c convolved with filter [kh][kw][oc] (TensorFlow's
 * [kh, kw, in_c, multiplier]), plus bias[oc] (bias may be NULL), then the
 * activation. Taps in ky, kx order after the bias; a tap on the padding
 * reads a 0. */
void sn_f32_depthwise_conv2d_ref(const sn_conv2d_geometry *g, const float *input,
                                 const float *filter, const float *bias, sn_activation act,
                                 float *output, int64_t row_begin, int64_t row_end);

/* Rows [row_begin, row_end) of C[m x n] = act(op(A) op(B) + bias), where
 * op(A) is m x k (A stored k x m if transpose_a) and op(B) k x n (B stored
 * n x k if transpose_b); bias (length n) may be NULL. */
void sn_f32_matmul_ref(int64_t m, int64_t k, int64_t n, const float *a, int transpose_a,
                       const float *b, int transpose_b, const float *bias, sn_activation act,
                       float *c, int64_t row_begin, int64_t row_end);

/* Max or average pooling, output rows [row_begin, row_end) of batch *
 * out_h (geometry: kh, kw are the window; in_c == out_c channels), over
 * the part of each window inside the input only (its cost does not grow
 * with the window). Max: the largest value, the first of equal ones, or
 * the last NaN in window order (rows, then columns) if there is one, bit
 * for bit; -inf for a window of -inf only or of no pixel. Average pooling
 * divides by the number of input pixels inside the window (0 for none). */
void sn_f32_max_pool_ref(const sn_conv2d_geometry *g, const float *input, float *output,
                         int64_t row_begin, int64_t row_end);
void sn_f32_avg_pool_ref(const sn_conv2d_geometry *g, const float *input, float *output,
                         int64_t row_begin, int64_t row_end);

/* Average pooling whose divisor counts the padding (PyTorch's
 * count_include_pad): the window's pixels inside the input padded by
 * pad_top and pad_left (the geometry's) before and pad_bottom and
 * pad_right after. The sum runs as sn_f32_avg_pool_ref's. */
void sn_f32_avg_pool_padded_ref(const sn_conv2d_geometry *g, int64_t pad_bottom, int64_t pad_right,
                                const float *input, float *output, int64_t row_begin,
                                int64_t row_end);
/* The mean over rows: output[c] = (sum of input[r * input_stride bytes][c]
 * over r = 0 .. rows - 1, from row 0 onwards) / divisor, for c <
 * channels (kernels/kernels.h, sn_f32_rdmean_fn). */
void sn_f32_rdmean_ref(size_t rows, size_t channels, const float *input, size_t input_stride,
                       float divisor, float *output);

/* tf.reduce_mean over the dimensions of `axes` (bit d: dimension d) of x,
 * a row-major tensor of rank <= 8: outputs [out_begin, out_end) of the
 * row-major tensor of the kept dimensions. Each is the sum in float32 of
 * its reduced elements in index order (row-major over the reduced
 * dimensions), from the first (-0 alone stays -0), divided by their
 * number as a float: 0 / 0, NaN, for none. */
void sn_f32_mean_ref(int rank, const int64_t *dims, unsigned axes, const float *x, float *y,
                     int64_t out_begin, int64_t out_end);

/* Elementwise binary ops with NumPy broadcasting: `a_strides` and
 * `b_strides` give each operand's element stride per output dimension (0
 * where it broadcasts). */
typedef enum sn_binary_op {
    SN_BINARY_ADD,
    SN_BINARY_MAX,  /* a > b ? a : b, or a when a is NaN */
    SN_BINARY_SUB,  /* a - b: Sub, and Strassen's sums */
    SN_BINARY_MUL,  /* a x b */
    SN_BINARY_RSUB, /* b - a: Sub with its scalar or vector operand first */
    SN_BINARY_OP_COUNT
} sn_binary_op;
void sn_f32_binary_ref(sn_binary_op op, int rank, const int64_t *out_dims, const float *a,
                       const int64_t *a_strides, const float *b, const int64_t *b_strides,
                       float *out);

/* y = x + bias[i % channels], n elements; y may be x. */
void sn_f32_bias_add_ref(size_t n, size_t channels, const float *x, const float *bias, float *y);

/* y = sum of `count` inputs, n elements each. */
void sn_f32_add_n_ref(size_t n, size_t count, const float *const *inputs, float *y);

/* Unary ops, n elements; y may be x. In float, r being
 * min(max(x + 3, 0), 6) (NaN stays NaN: x < 0 ? 0 : x, then x > 6 ? 6 : x):
 *   swish:        x * (1 / (1 + exp(-x))), the sigmoid's formula times x
 *   hard_sigmoid: r * (1/6), 1/6 rounded to float: within 1 ULP of
 *                 PyTorch's r / 6, and exactly 1 from x >= 3
 *   hard_swish:   (x * r) * (1/6): within 1 ULP of PyTorch's (x * r) / 6,
 *                 which it follows in overflowing to inf for x > FLT_MAX / 6
 *                 and giving NaN for -inf (-inf * 0) */
typedef enum sn_unary_op {
    SN_UNARY_RELU,
    SN_UNARY_RELU6,
    SN_UNARY_SIGMOID,
    SN_UNARY_TANH,
    SN_UNARY_SWISH,
    SN_UNARY_HARD_SIGMOID,
    SN_UNARY_HARD_SWISH,
    SN_UNARY_OP_COUNT
} sn_unary_op;
void sn_f32_unary_ref(sn_unary_op op, size_t n, const float *x, float *y);

/* Leaky relu, n elements: y = x < 0 ? alpha * x : x, for any alpha (no
 * max(x, alpha x), which needs alpha <= 1). NaN and -0 pass through. y
 * may be x. */
void sn_f32_leaky_relu_ref(size_t n, const float *x, float alpha, float *y);

/* Softmax over rows of `cols` elements, `rows` rows. */
void sn_f32_softmax_ref(size_t rows, size_t cols, const float *x, float *y);

/* tf.nn.local_response_normalization over the last axis of `channels`. */
void sn_f32_lrn_ref(size_t pixels, size_t channels, int depth_radius, float bias, float alpha,
                    float beta, const float *x, float *y);

#endif
