/* BiasAdd: tf.nn.bias_add, a vector added along the last dimension. After
 * a conv or matmul it folds into that node as its bias. */
#include <stdio.h>

#include "ops/elementwise.h"

#define WHY(...) (snprintf(why, why_size, __VA_ARGS__), false)

sn_tensor *sn_bias_add(sn_graph *g, sn_tensor *value, sn_tensor *bias, const char *name) {
    sn_tensor *in[2] = {value, bias};
    return sn_build_op(g, SN_OP_BIAS_ADD, in, 2, NULL, name);
}

static bool infer(const struct sn_op_attrs *attrs, const sn_shape *in, int count, sn_shape *out,
                  char *why, size_t why_size) {
    (void)attrs, (void)count;
    if (in[0].rank < 1) return WHY("the value must have rank >= 1");
    if (in[1].rank != 1) return WHY("the bias must be a vector");
    const int64_t length = in[1].dims[0], last = in[0].dims[in[0].rank - 1];
    if (length >= 0 && last >= 0 && length != last)
        return WHY("the bias length %lld does not match the last dimension %lld", (long long)length,
                   (long long)last);
    *out = in[0];
    return true;
}

static void run(const struct sn_exec *x, const struct sn_node *n) {
    const struct sn_value *out = &x->values[n->out];
    struct sn_elementwise e = {.row = x->kernels->f32_binary[SN_BINARY_ADD].row,
                               .a = x->values[n->inputs[0]].data,
                               .b = x->values[n->inputs[1]].data,
                               .y = (float *)out->data,
                               .width = (size_t)out->shape.dims[out->shape.rank - 1]};
    e.total = e.width ? sn_value_count(x, n->out) / e.width : 0;
    sn_elementwise_run(x, &e);
}

static const sn_tensor *bias_operand(const struct sn_op *op, const sn_tensor *value) {
    return op->inputs[0] == value ? op->inputs[1] : NULL;
}

const struct sn_op_class sn_bias_add_class = {
    .infer = infer,
    .plan = sn_plan_in_place,
    .run = run,
    .fuse = SN_FUSE_BIAS,
    .bias_operand = bias_operand,
};
