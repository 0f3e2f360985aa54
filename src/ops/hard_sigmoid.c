/* HardSigmoid: PyTorch's Hardsigmoid, relu6(x + 3) / 6, computed as
 * min(max(x + 3, 0), 6) * (1/6) (kernels/ref/ref.h). */
#include "ops/elementwise.h"

sn_tensor *sn_hard_sigmoid(sn_graph *g, sn_tensor *x, const char *name) {
    return sn_build_op(g, SN_OP_HARD_SIGMOID, &x, 1, NULL, name);
}

SN_UNARY_CLASS(sn_hard_sigmoid_class, f32_hard_sigmoid);
