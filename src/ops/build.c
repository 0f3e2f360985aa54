/* What every builder shares: input checks, shape inference through the
 * op's class, and the message of a failed build. */
#include <stdarg.h>
#include <stdio.h>

#include "base/alloc.h"
#include "base/shape.h"
#include "ops/ops.h"
#include "graph/graph.h"

bool sn_infer_shape(sn_op_type type, const struct sn_op_attrs *attrs, const sn_shape *inputs,
                    int input_count, sn_shape *out, char *why, size_t why_size) {
    const struct sn_op_class *c = sn_op_classes[type];
    return !c->infer || c->infer(attrs, inputs, input_count, out, why, why_size);
}

/* Fails a build with `status` and `why`: the message names the op as it
 * would have been named (`wanted`, made unique) and lists the inputs'
 * shapes. */
static void fail_named(sn_graph *g, sn_op_type type, sn_tensor *const *inputs, int count,
                       const char *wanted, sn_status status, const char *why) {
    struct sn_name_claim claim;
    const char *would = sn_unique_name(g, wanted, &claim);
    sn_name_release(g, &claim);
    if (!would) return;
    char text[600];
    size_t used = 0;
    for (int i = 0; i < count && i < 4 && used < sizeof text; i++) {
        char s[160];
        sn_shape_format(&inputs[i]->shape, s, sizeof s);
        used += (size_t)snprintf(text + used, sizeof text - used, "%s%s %s", i ? ", " : "",
                                 inputs[i]->name, s);
    }
    sn_graph_fail(g, status, "%s %s: %s (inputs: %s%s)", sn_op_type_name(type), would, why, text,
                  count > 4 ? ", ..." : "");
}

sn_tensor *sn_build_op(sn_graph *g, sn_op_type type, sn_tensor *const *inputs, int count,
                       const struct sn_op_attrs *attrs, const char *name) {
    if (!g || sn_graph_failed(g)) return NULL;
    for (int i = 0; i < count; i++)
        if (!inputs[i] || inputs[i]->op->graph != g) {
            sn_graph_fail(g, SN_ERR_INVALID_ARGUMENT, "%s: input %d is %s", sn_op_type_name(type),
                          i, inputs[i] ? "a tensor of another graph" : "NULL");
            return NULL;
        }
    char *wanted = sn_op_wanted_name(g, type, name);
    if (!wanted) return NULL;
    struct sn_op *op = NULL;
    sn_shape small[4], *shapes = count <= 4 ? small : sn_malloc((size_t)count * sizeof *shapes);
    if (!shapes) {
        sn_graph_fail(g, SN_ERR_OUT_OF_MEMORY, "out of memory adding op %s", wanted);
        goto done;
    }
    for (int i = 0; i < count; i++) shapes[i] = inputs[i]->shape;
    sn_shape out = {0};
    char why[200];
    bool ok = sn_infer_shape(type, attrs, shapes, count, &out, why, sizeof why);
    if (shapes != small) sn_free(shapes);
    if (!ok) {
        fail_named(g, type, inputs, count, wanted, SN_ERR_SHAPE_MISMATCH, why);
        goto done;
    }
    op = sn_op_make(g, type, wanted, out, inputs, count, attrs);
done:
    sn_free(wanted);
    return op ? &op->output : NULL;
}

int64_t sn_flops_none(const struct sn_op_attrs *attrs, const sn_shape *inputs, int input_count,
                      const sn_shape *out) {
    (void)attrs, (void)inputs, (void)input_count, (void)out;
    return 0;
}

int64_t sn_node_flops(const struct sn_node *n, const struct sn_value *values, sn_shape *scratch) {
    const sn_shape *out = &values[n->out].shape;
    const int64_t elements = sn_shape_elements(out);
    if (elements == 0) return 0; /* not run */
    for (int k = 0; k < n->input_count; k++) scratch[k] = values[n->inputs[k]].shape;
    int64_t flops =
        n->cls->flops ? n->cls->flops(&n->op->attrs, scratch, n->input_count, out) : elements;
    return flops + n->fused_count * elements;
}

size_t sn_value_count(const struct sn_exec *x, int v) {
    return (size_t)sn_shape_elements(&x->values[v].shape);
}

sn_tensor *sn_build_refuse(sn_graph *g, sn_op_type type, sn_tensor *const *inputs, int count,
                           const char *name, const char *format, ...) {
    if (!g || sn_graph_failed(g)) return NULL;
    char why[300];
    va_list args;
    va_start(args, format);
    vsnprintf(why, sizeof why, format, args);
    va_end(args);
    for (int i = 0; i < count; i++)
        if (!inputs[i] || inputs[i]->op->graph != g) /* as sn_build_op refuses them */
            return sn_build_op(g, type, inputs, count, NULL, name);
    char *wanted = sn_op_wanted_name(g, type, name);
    if (!wanted) return NULL;
    fail_named(g, type, inputs, count, wanted, SN_ERR_INVALID_ARGUMENT, why);
    sn_free(wanted);
    return NULL;
}
