/* Softmax: tf.nn.softmax over the last dimension. */
#include <stdio.h>

#include "ops/elementwise.h"

#define WHY(...) (snprintf(why, why_size, __VA_ARGS__), false)

sn_tensor *sn_softmax(sn_graph *g, sn_tensor *x, const char *name) {
    return sn_build_op(g, SN_OP_SOFTMAX, &x, 1, NULL, name);
}

static bool infer(const struct sn_op_attrs *attrs, const sn_shape *in, int count, sn_shape *out,
                  char *why, size_t why_size) {
    (void)attrs, (void)count;
    if (in[0].rank < 1) return WHY("logits must have rank >= 1");
    *out = in[0];
    return true;
}

static void run(const struct sn_exec *x, const struct sn_node *n) {
    const struct sn_value *out = &x->values[n->out];
    struct sn_elementwise e = {.softmax = x->kernels->f32_softmax,
                               .a = x->values[n->inputs[0]].data,
                               .y = (float *)out->data,
                               .width = (size_t)out->shape.dims[out->shape.rank - 1]};
    e.total = e.width ? sn_value_count(x, n->out) / e.width : 0;
    sn_elementwise_run(x, &e);
}

const struct sn_op_class sn_softmax_class = {.infer = infer, .run = run};
