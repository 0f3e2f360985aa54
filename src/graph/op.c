/* Ops and tensors: making them with unique names (SEMANTICS.md S18-S20),
 * their names. The builders, with each op's checks, are in src/ops/. */
#include "graph/op.h"

#include <stdio.h>
#include <string.h>

#include "base/alloc.h"
#include "base/checked.h"
#include "graph/graph.h"

/* The names table: the only place outside src/ops/ that knows each kind. */
static const struct {
    const char *type, *default_name;
} op_names[SN_OP_TYPE_COUNT] = {
#define SN_OP_KIND(kind, type_name, default_name, class_name)                                      \
    [SN_OP_##kind] = {type_name, default_name},
#include "graph/op-kinds.inc"
#undef SN_OP_KIND
};

const char *sn_op_type_name(sn_op_type t) { return op_names[t].type; }
const char *sn_op_default_name(sn_op_type t) { return op_names[t].default_name; }

void sn_op_free(struct sn_op *op) {
    if (!op) return;
    sn_free(op->inputs);
    sn_free(op->output.name);
    sn_free(op);
}

/* Makes an op named `name` exactly (already unique) with its output tensor
 * and inputs, and appends it to the graph. NULL (error recorded) when out
 * of memory. */
static struct sn_op *add_op(sn_graph *g, sn_op_type type, const char *name, sn_shape shape,
                            sn_tensor *const *inputs, int input_count,
                            const struct sn_op_attrs *attrs) {
    struct sn_op *op = sn_calloc(1, sizeof *op);
    if (!op || !(op->output.name = sn_malloc(strlen(name) + 3))) goto oom;
    if (input_count && !(op->inputs = sn_malloc((size_t)input_count * sizeof *op->inputs)))
        goto oom;
    if (!sn_ptr_reserve((void ***)&g->ops, g->op_count, &g->op_capacity)) goto oom;
    op->graph = g;
    op->index = g->op_count;
    op->type = type;
    op->name = name;
    if (attrs) op->attrs = *attrs;
    for (int i = 0; i < input_count; i++) op->inputs[i] = inputs[i];
    op->input_count = input_count;
    op->output.op = op;
    op->output.shape = shape;
    op->output.dtype = SN_F32;
    strcpy(op->output.name, name);
    strcat(op->output.name, ":0");
    g->ops[g->op_count++] = op;
    return op;
oom:
    sn_op_free(op);
    sn_graph_fail(g, SN_ERR_OUT_OF_MEMORY, "out of memory adding op %s", name);
    return NULL;
}

char *sn_op_wanted_name(sn_graph *g, sn_op_type type, const char *name) {
    if (name && !sn_check_name(g, name, op_names[type].type)) return NULL;
    char *wanted =
        sn_join_name(sn_graph_top(g).name_scope, name ? name : op_names[type].default_name);
    if (!wanted)
        sn_graph_fail(g, SN_ERR_OUT_OF_MEMORY, "out of memory naming a %s op", op_names[type].type);
    return wanted;
}

struct sn_op *sn_op_make(sn_graph *g, sn_op_type type, const char *wanted, sn_shape shape,
                         sn_tensor *const *inputs, int input_count,
                         const struct sn_op_attrs *attrs) {
    int big = sn_shape_too_large(&shape);
    if (big >= 0) {
        char text[160];
        sn_shape_format(&shape, text, sizeof text);
        sn_graph_fail(g, SN_ERR_INVALID_ARGUMENT,
                      "%s %s: its shape %s is too large: up to dimension %d it holds more than "
                      "%lld elements",
                      op_names[type].type, wanted, text, big, (long long)SN_MAX_ELEMENTS);
        return NULL;
    }
    struct sn_name_claim claim;
    const char *unique = sn_unique_name(g, wanted, &claim);
    struct sn_op *op = unique ? add_op(g, type, unique, shape, inputs, input_count, attrs) : NULL;
    if (op)
        sn_name_keep(&claim);
    else
        sn_name_release(g, &claim);
    return op;
}

const char *sn_tensor_name(const sn_tensor *t) { return t ? t->name : ""; }
const char *sn_tensor_op_name(const sn_tensor *t) { return t ? t->op->name : ""; }
const char *sn_tensor_op_type(const sn_tensor *t) { return t ? op_names[t->op->type].type : ""; }
sn_shape sn_tensor_shape(const sn_tensor *t) { return t ? t->shape : SN_SHAPE_UNKNOWN; }

size_t sn_graph_op_count(const sn_graph *g) { return g ? g->op_count : 0; }

sn_tensor *sn_graph_op(const sn_graph *g, size_t i) {
    return g && i < g->op_count ? &g->ops[i]->output : NULL;
}
