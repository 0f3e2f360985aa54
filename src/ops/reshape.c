/* Reshape: tf.reshape, with one -1 allowed in the target. Its output is a
 * view of its input's buffer where the memory plan allows (compile/
 * memory.c): then it costs nothing. */
#include <stdio.h>
#include <string.h>

#include "ops/ops.h"
#include "graph/graph.h"

#define WHY(...) (snprintf(why, why_size, __VA_ARGS__), false)

sn_tensor *sn_reshape(sn_graph *g, sn_tensor *x, sn_shape shape, const char *name) {
    if (!g || sn_graph_failed(g)) return NULL;
    if (name && !sn_check_name(g, name, "Reshape")) return NULL;
    if (shape.rank < 0 || shape.rank > SN_MAX_RANK) {
        sn_graph_fail(g, SN_ERR_INVALID_ARGUMENT, "Reshape %s: rank %d is not in [0, %d]",
                      name ? name : "", shape.rank, SN_MAX_RANK);
        return NULL;
    }
    struct sn_op_attrs at = {.shape = shape};
    return sn_build_op(g, SN_OP_RESHAPE, &x, 1, &at, name);
}

static bool infer(const struct sn_op_attrs *at, const sn_shape *in, int count, sn_shape *out,
                  char *why, size_t why_size) {
    (void)count;
    const sn_shape *t = &at->shape;
    int infer = -1;
    int64_t product = 1, total = sn_shape_elements(&in[0]);
    for (int i = 0; i < t->rank; i++) {
        if (t->dims[i] == -1) {
            if (infer >= 0) return WHY("the target shape has more than one -1");
            infer = i;
        } else if (t->dims[i] < 0) {
            return WHY("target dimension %d is %lld", i, (long long)t->dims[i]);
        } else if (t->dims[i] != 0 && product > INT64_MAX / t->dims[i]) {
            return WHY("the target shape is too large");
        } else {
            product *= t->dims[i];
        }
    }
    *out = *t;
    if (total < 0) return true; /* input size unknown until run time */
    if (infer >= 0) {
        if (product == 0 || total % product != 0)
            return WHY("%lld elements cannot be reshaped with %lld per -1", (long long)total,
                       (long long)product);
        out->dims[infer] = total / product;
    } else if (product != total) {
        return WHY("%lld elements cannot take a shape of %lld", (long long)total,
                   (long long)product);
    }
    return true;
}

static bool plan(const struct sn_plan *p, struct sn_node *n, char *why, size_t why_size) {
    (void)p, (void)why, (void)why_size;
    n->algorithm = SN_ALGO_VIEW;
    n->view_input = 0;
    return true;
}

/* A copy only where the plan could not make the output a view (an input
 * that is not in the arena: a feed, a variable, a constant). */
static void run(const struct sn_exec *x, const struct sn_node *n) {
    const struct sn_value *in = &x->values[n->inputs[0]], *out = &x->values[n->out];
    if (out->data != in->data)
        memcpy((void *)out->data, in->data, sn_value_count(x, n->out) * sizeof(float));
}

const struct sn_op_class sn_reshape_class = {
    .infer = infer, .plan = plan, .run = run, .flops = sn_flops_none};
