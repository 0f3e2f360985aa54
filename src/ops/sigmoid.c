/* Sigmoid: tf.sigmoid, 1 / (1 + exp(-x)). */
#include "ops/elementwise.h"

sn_tensor *sn_sigmoid(sn_graph *g, sn_tensor *x, const char *name) {
    return sn_build_op(g, SN_OP_SIGMOID, &x, 1, NULL, name);
}

SN_UNARY_CLASS(sn_sigmoid_class, f32_sigmoid);
