/* What the window ops (conv2d, max_pool, avg_pool) share: TensorFlow's
 * output size and padding along an axis, their attribute checks and shape
 * inference, and the geometry their kernels take. */
#ifndef SN_OPS_WINDOW_H
#define SN_OPS_WINDOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "graph/op.h"
#include "kernels/kernels.h"
#include "ops/ops.h"

/* TensorFlow's output size and leading padding along one spatial axis.
 * False if the (dilated) window does not fit a VALID input, or the sizes
 * overflow. */
bool sn_window(int64_t in, int k, int stride, int dilation, sn_padding padding, int64_t *out,
               int64_t *pad_before);

/* Checks strides, dilations, ksize (if `pool`) and padding. */
bool sn_window_check_attrs(const struct sn_op_attrs *attrs, bool pool, char *why, size_t why_size);

/* The NHWC output of a kh x kw window over `in` with `channels` out. */
bool sn_window_infer(const struct sn_op_attrs *attrs, const sn_shape *in, int kh, int kw,
                     int64_t channels, sn_shape *out, char *why, size_t why_size);

/* The geometry of a window op over `in` (NHWC) giving `out`, kh x kw taps.
 * False if the window does not fit (a VALID window wider than a planned
 * input, whose runs are refused). */
bool sn_window_geometry(const struct sn_op_attrs *attrs, const sn_shape *in, const sn_shape *out,
                        int64_t kh, int64_t kw, sn_conv2d_geometry *geometry);

/* The pooling ops (max_pool, avg_pool): their builder, shape inference,
 * and run over output rows with the kernel set's `kernel`. */
sn_tensor *sn_pooling_build(sn_graph *graph, sn_op_type type, sn_tensor *x,
                            struct sn_op_attrs attrs, const char *name);
/* A pooling op's run over output rows: its kernel, geometry, data, and
 * its padding after the input (explicit padding). */
struct sn_pooling_task {
    sn_f32_pool_fn kernel;
    sn_conv2d_geometry geo;
    int64_t pad_bottom, pad_right;
    const float *input;
    float *output;
};

/* Runs `rows` (context: a struct sn_pooling_task) over the output rows. */
void sn_pooling_run_with(const struct sn_exec *x, const struct sn_node *n, sn_pool_fn rows);

bool sn_pooling_infer(const struct sn_op_attrs *attrs, const sn_shape *in, int count, sn_shape *out,
                      char *why, size_t why_size);
/* A window's taps per output element (sn_op_class.flops). */
int64_t sn_pooling_flops(const struct sn_op_attrs *attrs, const sn_shape *inputs, int input_count,
                         const sn_shape *out);
void sn_pooling_run(const struct sn_exec *x, const struct sn_node *n, sn_f32_pool_fn kernel);

#endif
