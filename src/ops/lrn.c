/* LRN: tf.nn.local_response_normalization over the channels (NHWC). */
#include <stdio.h>

#include "ops/ops.h"

#define WHY(...) (snprintf(why, why_size, __VA_ARGS__), false)

sn_tensor *sn_lrn(sn_graph *g, sn_tensor *x, int depth_radius, float bias, float alpha, float beta,
                  const char *name) {
    struct sn_op_attrs at = {
        .depth_radius = depth_radius, .bias = bias, .alpha = alpha, .beta = beta};
    return sn_build_op(g, SN_OP_LRN, &x, 1, &at, name);
}

static bool infer(const struct sn_op_attrs *at, const sn_shape *in, int count, sn_shape *out,
                  char *why, size_t why_size) {
    (void)count;
    if (in[0].rank != 4) return WHY("the input must have rank 4 (NHWC), not %d", in[0].rank);
    if (at->depth_radius < 0) return WHY("depth_radius %d must be >= 0", at->depth_radius);
    *out = in[0];
    return true;
}

static bool plan(const struct sn_plan *p, struct sn_node *n, char *why, size_t why_size) {
    (void)p, (void)why, (void)why_size;
    n->algorithm = SN_ALGO_REFERENCE;
    return true;
}

static void run(const struct sn_exec *x, const struct sn_node *n) {
    const struct sn_op_attrs *a = &n->op->attrs;
    const struct sn_value *out = &x->values[n->out];
    const size_t count = sn_value_count(x, n->out), channels = (size_t)out->shape.dims[3];
    sn_f32_lrn_ref(count / (channels ? channels : 1), channels, a->depth_radius, a->bias, a->alpha,
                   a->beta, x->values[n->inputs[0]].data, (float *)out->data);
}

const struct sn_op_class sn_lrn_class = {.infer = infer, .plan = plan, .run = run};
