/* Sub: tf.subtract, a - b with NumPy broadcasting. With the scalar or the
 * vector first, sn_binary_run runs the kernels of b - a (SN_BINARY_RSUB). */
#include "ops/elementwise.h"

sn_tensor *sn_subtract(sn_graph *g, sn_tensor *a, sn_tensor *b, const char *name) {
    sn_tensor *in[2] = {a, b};
    return sn_build_op(g, SN_OP_SUB, in, 2, NULL, name);
}

static void run(const struct sn_exec *x, const struct sn_node *n) {
    sn_binary_run(x, n, SN_BINARY_SUB);
}

const struct sn_op_class sn_subtract_class = {
    .infer = sn_broadcast_infer,
    .run = run,
};
