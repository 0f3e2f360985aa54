/* AvgPool: tf.nn.avg_pool, NHWC, over the pixels inside the input; with
 * explicit padding (an extension) optionally over the window inside the
 * padded input, as PyTorch's count_include_pad. */
#include "ops/window.h"

sn_tensor *sn_avg_pool(sn_graph *g, sn_tensor *x, sn_hw ksize, sn_hw strides, sn_padding padding,
                       const char *name) {
    struct sn_op_attrs at = {.ksize = ksize, .strides = strides, .padding = padding};
    return sn_pooling_build(g, SN_OP_AVG_POOL, x, at, name);
}

sn_tensor *sn_avg_pool_explicit(sn_graph *g, sn_tensor *x, sn_hw ksize, sn_hw strides, sn_pads pads,
                                bool count_include_pad, const char *name) {
    struct sn_op_attrs at = {.ksize = ksize,
                             .strides = strides,
                             .padding = SN_PADDING_EXPLICIT,
                             .pads = pads,
                             .count_include_pad = count_include_pad};
    return sn_pooling_build(g, SN_OP_AVG_POOL, x, at, name);
}

/* The divisor counts the padding: the reference kernel, which knows the
 * padding after the input too. */
static void padded_rows(void *context, size_t begin, size_t count) {
    const struct sn_pooling_task *t = context;
    sn_f32_avg_pool_padded_ref(&t->geo, t->pad_bottom, t->pad_right, t->input, t->output,
                               (int64_t)begin, (int64_t)(begin + count));
}

static void run(const struct sn_exec *x, const struct sn_node *n) {
    if (n->op->attrs.count_include_pad)
        sn_pooling_run_with(x, n, padded_rows);
    else
        sn_pooling_run(x, n, x->kernels->f32_avg_pool);
}

const struct sn_op_class sn_avg_pool_class = {
    .infer = sn_pooling_infer, .run = run, .flops = sn_pooling_flops};
