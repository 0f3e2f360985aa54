/* Op builders, op names (S18-S20) and shape inference. */
#include "graph/op.h"

#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "scope/graph.h"

static const struct {
    const char *type, *default_name;
} op_names[SN_OP_TYPE_COUNT] = {
    [SN_OP_PLACEHOLDER] = {"Placeholder", "Placeholder"},
    [SN_OP_VARIABLE] = {"VariableV2", "Variable"},
    [SN_OP_CONST] = {"Const", "Const"},
    [SN_OP_ADD] = {"Add", "add"},
    [SN_OP_MAXIMUM] = {"Maximum", "Maximum"},
    [SN_OP_RELU] = {"Relu", "Relu"},
};

const char *sn_op_type_name(sn_op_type t) { return op_names[t].type; }
const char *sn_op_default_name(sn_op_type t) { return op_names[t].default_name; }

void sn_op_free(struct sn_op *op) {
    if (!op) return;
    sn_free(op->output.name);
    sn_free(op);
}

/* Makes an op named `name` exactly (already unique), with its output
 * tensor, and appends it to the graph. NULL (error recorded) when out of
 * memory. */
static struct sn_op *add_op(sn_graph *g, sn_op_type type, const char *name, sn_shape shape) {
    struct sn_op *op = sn_calloc(1, sizeof *op);
    if (!op || !(op->output.name = sn_malloc(strlen(name) + 3))) goto oom;
    op->graph = g;
    op->type = type;
    op->name = name;
    op->output.op = op;
    op->output.shape = shape;
    op->output.dtype = SN_F32;
    strcpy(op->output.name, name);
    strcat(op->output.name, ":0");
    if (!sn_ptr_push((void ***)&g->ops, &g->op_count, &g->op_capacity, op)) goto oom;
    return op;
oom:
    sn_op_free(op);
    sn_graph_fail(g, SN_ERR_OUT_OF_MEMORY, "out of memory adding op %s", name);
    return NULL;
}

/* The unique name of a new op: `name` (validated) or the type's default,
 * under the current name scope. NULL on error (recorded). */
static const char *op_name(sn_graph *g, sn_op_type type, const char *name) {
    if (name && !sn_check_name(g, name, op_names[type].type)) return NULL;
    char *wanted =
        sn_join_name(sn_graph_top(g).name_scope, name ? name : op_names[type].default_name);
    if (!wanted) {
        sn_graph_fail(g, SN_ERR_OUT_OF_MEMORY, "out of memory naming a %s op", op_names[type].type);
        return NULL;
    }
    const char *unique = sn_unique_name(g, wanted);
    sn_free(wanted);
    return unique;
}

sn_tensor *sn_op_make_variable(sn_graph *g, sn_variable *v) {
    if (!sn_mark_name_used(g, v->name)) return NULL;
    const char *name = sn_graph_intern(g, v->name);
    struct sn_op *op = name ? add_op(g, SN_OP_VARIABLE, name, v->shape) : NULL;
    if (!op) return NULL;
    op->variable = v;
    return &op->output;
}

/* An input must be a tensor of this graph. */
static bool check_input(sn_graph *g, sn_op_type type, const sn_tensor *t, const char *which) {
    if (t && t->op->graph == g) return true;
    sn_graph_fail(g, SN_ERR_INVALID_ARGUMENT, "%s: input %s is %s", op_names[type].type, which,
                  t ? "not a tensor of this graph" : "NULL");
    return false;
}

/* NumPy broadcasting of two shapes; -1 (unknown) broadcasts with 1 and
 * takes a known size. False if they do not broadcast. */
static bool broadcast(const sn_shape *a, const sn_shape *b, sn_shape *out) {
    int rank = a->rank > b->rank ? a->rank : b->rank;
    out->rank = rank;
    for (int i = 0; i < rank; i++) {
        int ia = a->rank - rank + i, ib = b->rank - rank + i;
        int64_t da = ia >= 0 ? a->dims[ia] : 1, db = ib >= 0 ? b->dims[ib] : 1;
        if (da == db || db == 1)
            out->dims[i] = da;
        else if (da == 1)
            out->dims[i] = db;
        else if (da < 0)
            out->dims[i] = db;
        else if (db < 0)
            out->dims[i] = da;
        else
            return false;
    }
    return true;
}

static sn_tensor *binary(sn_graph *g, sn_op_type type, sn_tensor *a, sn_tensor *b,
                         const char *name) {
    if (!g || sn_graph_failed(g)) return NULL;
    if (!check_input(g, type, a, "x") || !check_input(g, type, b, "y")) return NULL;
    sn_shape shape;
    const char *unique = op_name(g, type, name);
    if (!unique) return NULL;
    if (!broadcast(&a->shape, &b->shape, &shape)) {
        char sa[160], sb[160];
        sn_shape_format(&a->shape, sa, sizeof sa);
        sn_shape_format(&b->shape, sb, sizeof sb);
        sn_graph_fail(g, SN_ERR_SHAPE_MISMATCH,
                      "%s %s: shapes %s (%s) and %s (%s) cannot be broadcast together",
                      op_names[type].type, unique, sa, a->name, sb, b->name);
        return NULL;
    }
    struct sn_op *op = add_op(g, type, unique, shape);
    if (!op) return NULL;
    op->inputs[0] = a;
    op->inputs[1] = b;
    op->input_count = 2;
    return &op->output;
}

sn_tensor *sn_add(sn_graph *g, sn_tensor *a, sn_tensor *b, const char *name) {
    return binary(g, SN_OP_ADD, a, b, name);
}

sn_tensor *sn_maximum(sn_graph *g, sn_tensor *a, sn_tensor *b, const char *name) {
    return binary(g, SN_OP_MAXIMUM, a, b, name);
}

sn_tensor *sn_relu(sn_graph *g, sn_tensor *x, const char *name) {
    if (!g || sn_graph_failed(g)) return NULL;
    if (!check_input(g, SN_OP_RELU, x, "features")) return NULL;
    const char *unique = op_name(g, SN_OP_RELU, name);
    struct sn_op *op = unique ? add_op(g, SN_OP_RELU, unique, x->shape) : NULL;
    if (!op) return NULL;
    op->inputs[0] = x;
    op->input_count = 1;
    return &op->output;
}

sn_tensor *sn_placeholder(sn_graph *g, const char *name, sn_shape shape) {
    if (!g || sn_graph_failed(g)) return NULL;
    if (shape.rank < 0 || shape.rank > SN_MAX_RANK) {
        sn_graph_fail(g, SN_ERR_INVALID_ARGUMENT, "Placeholder %s: rank %d is not in [0, %d]",
                      name ? name : "", shape.rank, SN_MAX_RANK);
        return NULL;
    }
    for (int i = 0; i < shape.rank; i++)
        if (shape.dims[i] < -1) {
            sn_graph_fail(g, SN_ERR_INVALID_ARGUMENT,
                          "Placeholder %s: dimension %d is %lld; sizes are >= 0, or -1 for unknown",
                          name ? name : "", i, (long long)shape.dims[i]);
            return NULL;
        }
    const char *unique = op_name(g, SN_OP_PLACEHOLDER, name);
    struct sn_op *op = unique ? add_op(g, SN_OP_PLACEHOLDER, unique, shape) : NULL;
    return op ? &op->output : NULL;
}

sn_tensor *sn_scalar(sn_graph *g, float value, const char *name) {
    if (!g || sn_graph_failed(g)) return NULL;
    const char *unique = op_name(g, SN_OP_CONST, name);
    struct sn_op *op = unique ? add_op(g, SN_OP_CONST, unique, SN_SCALAR) : NULL;
    if (!op) return NULL;
    op->value = value;
    return &op->output;
}

sn_tensor *sn_var(sn_graph *g, sn_variable *v) {
    if (!g || sn_graph_failed(g)) return NULL;
    if (!v || v->graph != g) {
        sn_graph_fail(g, SN_ERR_INVALID_ARGUMENT, "sn_var: the variable is %s",
                      v ? "from another graph" : "NULL");
        return NULL;
    }
    return v->tensor;
}

const char *sn_tensor_name(const sn_tensor *t) { return t ? t->name : ""; }
const char *sn_tensor_op_name(const sn_tensor *t) { return t ? t->op->name : ""; }
const char *sn_tensor_op_type(const sn_tensor *t) { return t ? op_names[t->op->type].type : ""; }
sn_shape sn_tensor_shape(const sn_tensor *t) { return t ? t->shape : SN_SHAPE_UNKNOWN; }

size_t sn_graph_op_count(const sn_graph *g) { return g ? g->op_count : 0; }

sn_tensor *sn_graph_op(const sn_graph *g, size_t i) {
    return g && i < g->op_count ? &g->ops[i]->output : NULL;
}
