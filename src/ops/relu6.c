/* Relu6: tf.nn.relu6, min(max(x, 0), 6). */
#include "ops/elementwise.h"

sn_tensor *sn_relu6(sn_graph *g, sn_tensor *x, const char *name) {
    return sn_build_op(g, SN_OP_RELU6, &x, 1, NULL, name);
}

static void run(const struct sn_exec *x, const struct sn_node *n) {
    sn_unary_run(x, n, x->kernels->f32_relu6);
}

const struct sn_op_class sn_relu6_class = {
    .infer = sn_same_shape_infer,
    .plan = sn_plan_in_place,
    .run = run,
    .fuse = SN_FUSE_ACTIVATION,
    .activation = SN_ACT_RELU6,
};
