/* FusedBatchNormV3: tf.nn.batch_normalization at inference, per channel
 * (the last dimension): x alpha + beta, alpha = scale / sqrt(variance +
 * epsilon), beta = offset - mean alpha, as PyTorch's inference computes
 * them. After a conv2d, depthwise conv or matmul it folds into that node's
 * packs (compile/fuse.c, pack/fold.c: S25); elsewhere it runs here. */
#include <math.h>
#include <stdio.h>

#include "graph/graph.h"
#include "ops/ops.h"

#define WHY(...) (snprintf(why, why_size, __VA_ARGS__), false)

sn_tensor *sn_batch_normalization(sn_graph *g, sn_tensor *x, sn_tensor *mean, sn_tensor *variance,
                                  sn_tensor *offset, sn_tensor *scale, float epsilon,
                                  const char *name) {
    if (!g || sn_graph_failed(g)) return NULL;
    if (!(epsilon >= 0.0f) || isinf(epsilon)) {
        sn_graph_fail(g, SN_ERR_INVALID_ARGUMENT,
                      "FusedBatchNormV3: epsilon %g must be finite and >= 0", (double)epsilon);
        return NULL;
    }
    sn_tensor *in[5] = {x, mean, variance, offset, scale};
    struct sn_op_attrs at = {.epsilon = epsilon};
    return sn_build_op(g, SN_OP_BATCH_NORM, in, 5, &at, name);
}

static bool infer(const struct sn_op_attrs *at, const sn_shape *in, int count, sn_shape *out,
                  char *why, size_t why_size) {
    (void)at, (void)count;
    static const char *const names[] = {"x", "mean", "variance", "offset", "scale"};
    if (in[0].rank < 1) return WHY("x must have rank >= 1");
    const int64_t channels = in[0].dims[in[0].rank - 1];
    for (int k = 1; k < 5; k++) {
        if (in[k].rank != 1)
            return WHY("the %s must be a vector, not rank %d", names[k], in[k].rank);
        if (in[k].dims[0] >= 0 && channels >= 0 && in[k].dims[0] != channels)
            return WHY("the %s has %lld channels, x %lld", names[k], (long long)in[k].dims[0],
                       (long long)channels);
    }
    *out = in[0];
    return true;
}

/* The workspace holds alpha and beta, computed at each run. */
static bool plan(const struct sn_plan *p, struct sn_node *n, char *why, size_t why_size) {
    (void)why, (void)why_size;
    const sn_shape *x = &p->values[n->inputs[0]].planned;
    const int64_t channels = x->dims[x->rank - 1];
    n->algorithm = SN_ALGO_REFERENCE;
    n->workspace_bytes = 2 * (size_t)(channels > 0 ? channels : 0) * sizeof(float);
    n->in_place_input = 0;
    return true;
}

struct rows_task {
    const float *x, *alpha, *beta;
    float *y;
    size_t channels;
};

static void rows(void *context, size_t begin, size_t count) {
    const struct rows_task *t = context;
    for (size_t r = begin; r < begin + count; r++)
        for (size_t c = 0; c < t->channels; c++)
            t->y[r * t->channels + c] = t->x[r * t->channels + c] * t->alpha[c] + t->beta[c];
}

static void run(const struct sn_exec *x, const struct sn_node *n) {
    const struct sn_value *out = &x->values[n->out];
    const float *mean = x->values[n->inputs[1]].data, *var = x->values[n->inputs[2]].data,
                *offset = x->values[n->inputs[3]].data, *scale = x->values[n->inputs[4]].data;
    const size_t channels = (size_t)out->shape.dims[out->shape.rank - 1];
    float *alpha = x->workspace, *beta = alpha + channels;
    for (size_t c = 0; c < channels; c++) {
        alpha[c] = scale[c] / sqrtf(var[c] + n->op->attrs.epsilon);
        beta[c] = offset[c] - mean[c] * alpha[c];
    }
    struct rows_task t = {.x = x->values[n->inputs[0]].data,
                          .alpha = alpha,
                          .beta = beta,
                          .y = (float *)out->data,
                          .channels = channels};
    if (channels) sn_parallel(x->threads, rows, &t, sn_value_count(x, n->out) / channels);
}

const struct sn_op_class sn_batch_norm_class = {
    .infer = infer,
    .plan = plan,
    .run = run,
    .fuse = SN_FUSE_BATCH_NORM,
};
