/* HardSigmoid: PyTorch's Hardsigmoid, relu6(x + 3) / 6, computed as
 * min(max(x + 3, 0), 6) * (1/6) (kernels/ref/ref.h). */
#include "ops/elementwise.h"

sn_tensor *sn_hard_sigmoid(sn_graph *g, sn_tensor *x, const char *name) {
    return sn_build_op(g, SN_OP_HARD_SIGMOID, &x, 1, NULL, name);
}

static void run(const struct sn_exec *x, const struct sn_node *n) {
    sn_unary_run(x, n, x->kernels->f32_hard_sigmoid);
}

const struct sn_op_class sn_hard_sigmoid_class = {
    .infer = sn_same_shape_infer,
    .plan = sn_plan_in_place,
    .run = run,
};
