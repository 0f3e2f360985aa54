/* Maximum: tf.maximum, with NumPy broadcasting. */
#include "ops/elementwise.h"

sn_tensor *sn_maximum(sn_graph *g, sn_tensor *a, sn_tensor *b, const char *name) {
    sn_tensor *in[2] = {a, b};
    return sn_build_op(g, SN_OP_MAXIMUM, in, 2, NULL, name);
}

static void run(const struct sn_exec *x, const struct sn_node *n) {
    sn_binary_run(x, n, SN_BINARY_MAX);
}

const struct sn_op_class sn_maximum_class = {
    .infer = sn_broadcast_infer,
    .run = run,
};
