/* Mul: tf.multiply, with NumPy broadcasting (a per-channel scale is a
 * trailing vector: the kernel set's kernel). */
#include "ops/elementwise.h"

sn_tensor *sn_multiply(sn_graph *g, sn_tensor *a, sn_tensor *b, const char *name) {
    sn_tensor *in[2] = {a, b};
    return sn_build_op(g, SN_OP_MUL, in, 2, NULL, name);
}

static void run(const struct sn_exec *x, const struct sn_node *n) {
    sn_binary_run(x, n, SN_BINARY_MUL);
}

const struct sn_op_class sn_multiply_class = {
    .infer = sn_broadcast_infer,
    .run = run,
};
