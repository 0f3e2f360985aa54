/* LeakyRelu: tf.nn.leaky_relu, x < 0 ? alpha x : x for any alpha (in
 * attrs.alpha). */
#include "ops/elementwise.h"

sn_tensor *sn_leaky_relu(sn_graph *g, sn_tensor *x, float alpha, const char *name) {
    const struct sn_op_attrs attrs = {.alpha = alpha};
    return sn_build_op(g, SN_OP_LEAKY_RELU, &x, 1, &attrs, name);
}

static void run(const struct sn_exec *x, const struct sn_node *n) {
    struct sn_elementwise e = {.lrelu = x->kernels->f32_leaky_relu,
                               .a = x->values[n->inputs[0]].data,
                               .c = n->op->attrs.alpha,
                               .y = (float *)x->values[n->out].data,
                               .total = sn_value_count(x, n->out),
                               .width = 1};
    sn_elementwise_run(x, &e);
}

const struct sn_op_class sn_leaky_relu_class = {
    .infer = sn_same_shape_infer,
    .plan = sn_plan_in_place,
    .run = run,
};
