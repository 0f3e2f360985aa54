/* Swish: tf.nn.swish (PyTorch's SiLU), x sigmoid(x): x times the kernel
 * set's sigmoid. */
#include "ops/elementwise.h"

sn_tensor *sn_swish(sn_graph *g, sn_tensor *x, const char *name) {
    return sn_build_op(g, SN_OP_SWISH, &x, 1, NULL, name);
}

static void run(const struct sn_exec *x, const struct sn_node *n) {
    sn_unary_run(x, n, x->kernels->f32_swish);
}

const struct sn_op_class sn_swish_class = {
    .infer = sn_same_shape_infer,
    .plan = sn_plan_in_place,
    .run = run,
};
