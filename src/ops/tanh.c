/* Tanh: tf.tanh. */
#include "ops/elementwise.h"

sn_tensor *sn_tanh(sn_graph *g, sn_tensor *x, const char *name) {
    return sn_build_op(g, SN_OP_TANH, &x, 1, NULL, name);
}

SN_UNARY_CLASS(sn_tanh_class, f32_tanh);
