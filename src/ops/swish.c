/* Swish: tf.nn.swish (PyTorch's SiLU), x sigmoid(x): x times the kernel
 * set's sigmoid. */
#include "ops/elementwise.h"

sn_tensor *sn_swish(sn_graph *g, sn_tensor *x, const char *name) {
    return sn_build_op(g, SN_OP_SWISH, &x, 1, NULL, name);
}

SN_UNARY_CLASS(sn_swish_class, f32_swish);
