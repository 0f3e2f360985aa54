/* MaxPool: tf.nn.max_pool, NHWC; with explicit padding an extension (its
 * padding never wins). */
#include "ops/window.h"

sn_tensor *sn_max_pool(sn_graph *g, sn_tensor *x, sn_hw ksize, sn_hw strides, sn_padding padding,
                       const char *name) {
    struct sn_op_attrs at = {.ksize = ksize, .strides = strides, .padding = padding};
    return sn_pooling_build(g, SN_OP_MAX_POOL, x, at, name);
}

sn_tensor *sn_max_pool_explicit(sn_graph *g, sn_tensor *x, sn_hw ksize, sn_hw strides, sn_pads pads,
                                const char *name) {
    struct sn_op_attrs at = {
        .ksize = ksize, .strides = strides, .padding = SN_PADDING_EXPLICIT, .pads = pads};
    return sn_pooling_build(g, SN_OP_MAX_POOL, x, at, name);
}

static void run(const struct sn_exec *x, const struct sn_node *n) {
    sn_pooling_run(x, n, x->kernels->f32_max_pool);
}

const struct sn_op_class sn_max_pool_class = {
    .infer = sn_pooling_infer, .run = run, .flops = sn_pooling_flops};
