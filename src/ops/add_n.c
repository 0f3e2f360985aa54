/* AddN: tf.add_n, the sum of 1 to 1024 tensors of one shape. */
#include <stdio.h>

#include "base/shape.h"
#include "ops/ops.h"
#include "graph/graph.h"

#define WHY(...) (snprintf(why, why_size, __VA_ARGS__), false)

sn_tensor *sn_add_n(sn_graph *g, sn_tensor *const *inputs, size_t count, const char *name) {
    if (!g || sn_graph_failed(g)) return NULL;
    if (!inputs || count == 0 || count > 1024) {
        sn_graph_fail(g, SN_ERR_INVALID_ARGUMENT, "AddN: %s",
                      !inputs ? "inputs is NULL" : "needs 1 to 1024 inputs");
        return NULL;
    }
    return sn_build_op(g, SN_OP_ADD_N, inputs, (int)count, NULL, name);
}

/* At run time the first four inputs decide the shape (all have it). */
static bool infer(const struct sn_op_attrs *attrs, const sn_shape *in, int n, sn_shape *out,
                  char *why, size_t why_size) {
    (void)attrs;
    *out = in[0];
    for (int i = 1; i < n; i++) {
        if (in[i].rank != out->rank)
            return WHY("input %d has rank %d, input 0 rank %d", i, in[i].rank, out->rank);
        for (int d = 0; d < out->rank; d++) {
            if (in[i].dims[d] >= 0 && out->dims[d] >= 0 && in[i].dims[d] != out->dims[d])
                return WHY("input %d differs from input 0 in dimension %d", i, d);
            if (out->dims[d] < 0) out->dims[d] = in[i].dims[d];
        }
    }
    return true;
}

/* The workspace holds the inputs' pointers. */
static bool plan(const struct sn_plan *p, struct sn_node *n, char *why, size_t why_size) {
    (void)p, (void)why, (void)why_size;
    n->algorithm = SN_ALGO_REFERENCE;
    n->workspace_bytes = (size_t)n->input_count * sizeof(const float *);
    return true;
}

static void run(const struct sn_exec *x, const struct sn_node *n) {
    const float **inputs = x->workspace;
    for (int i = 0; i < n->input_count; i++) inputs[i] = x->values[n->inputs[i]].data;
    sn_f32_add_n_ref(sn_value_count(x, n->out), (size_t)n->input_count, inputs,
                     (float *)x->values[n->out].data);
}

/* One add per input after the first, per element. */
static int64_t flops(const struct sn_op_attrs *a, const sn_shape *in, int count,
                     const sn_shape *out) {
    (void)a, (void)in;
    return sn_shape_elements(out) * (count - 1);
}

const struct sn_op_class sn_add_n_class = {
    .infer = infer, .plan = plan, .run = run, .flops = flops};
