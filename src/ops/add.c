/* Add: tf.add, with NumPy broadcasting. After a conv or matmul whose
 * channels it adds a vector of, it folds into that node as its bias. */
#include "ops/elementwise.h"

sn_tensor *sn_add(sn_graph *g, sn_tensor *a, sn_tensor *b, const char *name) {
    sn_tensor *in[2] = {a, b};
    return sn_build_op(g, SN_OP_ADD, in, 2, NULL, name);
}

static void run(const struct sn_exec *x, const struct sn_node *n) {
    sn_binary_run(x, n, SN_BINARY_ADD);
}

/* value + v or v + value, v a vector of value's channels */
static const sn_tensor *bias_operand(const struct sn_op *op, const sn_tensor *value) {
    int64_t channels = value->shape.dims[value->shape.rank - 1];
    const sn_tensor *other = op->inputs[0] == value ? op->inputs[1] : op->inputs[0];
    if (other == value || other->shape.rank != 1 || channels < 0 ||
        other->shape.dims[0] != channels)
        return NULL;
    return other;
}

const struct sn_op_class sn_add_class = {
    .infer = sn_broadcast_infer,
    .run = run,
    .fuse = SN_FUSE_BIAS,
    .bias_operand = bias_operand,
};
