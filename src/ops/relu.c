/* Relu: tf.nn.relu, max(x, 0). */
#include "ops/elementwise.h"

sn_tensor *sn_relu(sn_graph *g, sn_tensor *x, const char *name) {
    return sn_build_op(g, SN_OP_RELU, &x, 1, NULL, name);
}

static void run(const struct sn_exec *x, const struct sn_node *n) {
    sn_unary_run(x, n, x->kernels->f32_relu);
}

const struct sn_op_class sn_relu_class = {
    .infer = sn_same_shape_infer,
    .plan = sn_plan_in_place,
    .run = run,
    .fuse = SN_FUSE_ACTIVATION,
    .activation = SN_ACT_RELU,
};
