/* Op builders and op names (SEMANTICS.md S18-S20). */
#include "graph/op.h"

#include <stdio.h>
#include <string.h>

#include "base/alloc.h"
#include "base/checked.h"
#include "graph/graph.h"

static const struct {
    const char *type, *default_name;
} op_names[SN_OP_TYPE_COUNT] = {
    [SN_OP_PLACEHOLDER] = {"Placeholder", "Placeholder"},
    [SN_OP_VARIABLE] = {"VariableV2", "Variable"},
    [SN_OP_CONST] = {"Const", "Const"},
    [SN_OP_ADD] = {"Add", "add"},
    [SN_OP_MAXIMUM] = {"Maximum", "Maximum"},
    [SN_OP_BIAS_ADD] = {"BiasAdd", "BiasAdd"},
    [SN_OP_ADD_N] = {"AddN", "AddN"},
    [SN_OP_RELU] = {"Relu", "Relu"},
    [SN_OP_RELU6] = {"Relu6", "Relu6"},
    [SN_OP_SIGMOID] = {"Sigmoid", "Sigmoid"},
    [SN_OP_TANH] = {"Tanh", "Tanh"},
    [SN_OP_SOFTMAX] = {"Softmax", "Softmax"},
    [SN_OP_CONV2D] = {"Conv2D", "Conv2D"},
    [SN_OP_MATMUL] = {"MatMul", "MatMul"},
    [SN_OP_MAX_POOL] = {"MaxPool", "MaxPool"},
    [SN_OP_AVG_POOL] = {"AvgPool", "AvgPool"},
    [SN_OP_RESHAPE] = {"Reshape", "Reshape"},
    [SN_OP_LRN] = {"LRN", "LRN"},
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

/* The name a new op asks for: `name` (validated) or the type's default,
 * under the current name scope. A heap string, or NULL (error recorded). */
static char *wanted_name(sn_graph *g, sn_op_type type, const char *name) {
    if (name && !sn_check_name(g, name, op_names[type].type)) return NULL;
    char *wanted =
        sn_join_name(sn_graph_top(g).name_scope, name ? name : op_names[type].default_name);
    if (!wanted)
        sn_graph_fail(g, SN_ERR_OUT_OF_MEMORY, "out of memory naming a %s op", op_names[type].type);
    return wanted;
}

/* Makes an op named uniquely after `wanted` (S20), once everything else
 * about it is known to be good: a shape too large to ever run is refused,
 * naming the dimension, and a call that fails takes no name. */
static struct sn_op *make_op(sn_graph *g, sn_op_type type, const char *wanted, sn_shape shape,
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

sn_tensor *sn_op_make_variable(sn_graph *g, sn_variable *v, const char *name, sn_shape shape) {
    /* One namespace for ops and variables' ops, as in TensorFlow: the op
     * takes the variable's full name, or a suffixed one if an op has it */
    struct sn_op *op = make_op(g, SN_OP_VARIABLE, name, shape, NULL, 0, NULL);
    if (!op) return NULL;
    op->variable = v;
    return &op->output;
}

/* Adds an op of `type` after checking its inputs and inferring its shape;
 * the error, if any, names the op and every input's shape. */
static sn_tensor *build(sn_graph *g, sn_op_type type, sn_tensor *const *inputs, int count,
                        const struct sn_op_attrs *attrs, const char *name) {
    if (!g || sn_graph_failed(g)) return NULL;
    for (int i = 0; i < count; i++)
        if (!inputs[i] || inputs[i]->op->graph != g) {
            sn_graph_fail(g, SN_ERR_INVALID_ARGUMENT, "%s: input %d is %s", op_names[type].type, i,
                          inputs[i] ? "a tensor of another graph" : "NULL");
            return NULL;
        }
    char *wanted = wanted_name(g, type, name);
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
        /* the message names the op as it would have been named */
        struct sn_name_claim claim;
        const char *would = sn_unique_name(g, wanted, &claim);
        sn_name_release(g, &claim);
        if (!would) goto done;
        char text[600];
        size_t used = 0;
        for (int i = 0; i < count && i < 4 && used < sizeof text; i++) {
            char s[160];
            sn_shape_format(&inputs[i]->shape, s, sizeof s);
            used += (size_t)snprintf(text + used, sizeof text - used, "%s%s %s", i ? ", " : "",
                                     inputs[i]->name, s);
        }
        sn_graph_fail(g, SN_ERR_SHAPE_MISMATCH, "%s %s: %s (inputs: %s%s)", op_names[type].type,
                      would, why, text, count > 4 ? ", ..." : "");
        goto done;
    }
    op = make_op(g, type, wanted, out, inputs, count, attrs);
done:
    sn_free(wanted);
    return op ? &op->output : NULL;
}

static sn_tensor *unary(sn_graph *g, sn_op_type type, sn_tensor *x, const char *name) {
    return build(g, type, &x, 1, NULL, name);
}

static sn_tensor *binary(sn_graph *g, sn_op_type type, sn_tensor *a, sn_tensor *b,
                         const char *name) {
    sn_tensor *in[2] = {a, b};
    return build(g, type, in, 2, NULL, name);
}

sn_tensor *sn_add(sn_graph *g, sn_tensor *a, sn_tensor *b, const char *name) {
    return binary(g, SN_OP_ADD, a, b, name);
}
sn_tensor *sn_maximum(sn_graph *g, sn_tensor *a, sn_tensor *b, const char *name) {
    return binary(g, SN_OP_MAXIMUM, a, b, name);
}
sn_tensor *sn_bias_add(sn_graph *g, sn_tensor *value, sn_tensor *bias, const char *name) {
    return binary(g, SN_OP_BIAS_ADD, value, bias, name);
}
sn_tensor *sn_relu(sn_graph *g, sn_tensor *x, const char *name) {
    return unary(g, SN_OP_RELU, x, name);
}
sn_tensor *sn_relu6(sn_graph *g, sn_tensor *x, const char *name) {
    return unary(g, SN_OP_RELU6, x, name);
}
sn_tensor *sn_sigmoid(sn_graph *g, sn_tensor *x, const char *name) {
    return unary(g, SN_OP_SIGMOID, x, name);
}
sn_tensor *sn_tanh(sn_graph *g, sn_tensor *x, const char *name) {
    return unary(g, SN_OP_TANH, x, name);
}
sn_tensor *sn_softmax(sn_graph *g, sn_tensor *x, const char *name) {
    return unary(g, SN_OP_SOFTMAX, x, name);
}

sn_tensor *sn_add_n(sn_graph *g, sn_tensor *const *inputs, size_t count, const char *name) {
    if (!g || sn_graph_failed(g)) return NULL;
    if (!inputs || count == 0 || count > 1024) {
        sn_graph_fail(g, SN_ERR_INVALID_ARGUMENT, "AddN: %s",
                      !inputs ? "inputs is NULL" : "needs 1 to 1024 inputs");
        return NULL;
    }
    return build(g, SN_OP_ADD_N, inputs, (int)count, NULL, name);
}

sn_tensor *sn_matmul(sn_graph *g, sn_tensor *a, sn_tensor *b, bool transpose_a, bool transpose_b,
                     const char *name) {
    sn_tensor *in[2] = {a, b};
    struct sn_op_attrs at = {.transpose_a = transpose_a, .transpose_b = transpose_b};
    return build(g, SN_OP_MATMUL, in, 2, &at, name);
}

sn_tensor *sn_conv2d_dilated(sn_graph *g, sn_tensor *input, sn_tensor *filter, sn_hw strides,
                             sn_padding padding, sn_hw dilations, const char *name) {
    sn_tensor *in[2] = {input, filter};
    struct sn_op_attrs at = {.strides = strides, .dilations = dilations, .padding = padding};
    return build(g, SN_OP_CONV2D, in, 2, &at, name);
}

sn_tensor *sn_conv2d(sn_graph *g, sn_tensor *input, sn_tensor *filter, sn_hw strides,
                     sn_padding padding, const char *name) {
    return sn_conv2d_dilated(g, input, filter, strides, padding, SN_HW(1, 1), name);
}

static sn_tensor *pool(sn_graph *g, sn_op_type type, sn_tensor *x, sn_hw ksize, sn_hw strides,
                       sn_padding padding, const char *name) {
    struct sn_op_attrs at = {
        .ksize = ksize, .strides = strides, .dilations = SN_HW(1, 1), .padding = padding};
    return build(g, type, &x, 1, &at, name);
}

sn_tensor *sn_max_pool(sn_graph *g, sn_tensor *x, sn_hw ksize, sn_hw strides, sn_padding padding,
                       const char *name) {
    return pool(g, SN_OP_MAX_POOL, x, ksize, strides, padding, name);
}

sn_tensor *sn_avg_pool(sn_graph *g, sn_tensor *x, sn_hw ksize, sn_hw strides, sn_padding padding,
                       const char *name) {
    return pool(g, SN_OP_AVG_POOL, x, ksize, strides, padding, name);
}

sn_tensor *sn_reshape(sn_graph *g, sn_tensor *x, sn_shape shape, const char *name) {
    if (!g || sn_graph_failed(g)) return NULL;
    if (name && !sn_check_name(g, name, "Reshape")) return NULL;
    if (shape.rank < 0 || shape.rank > SN_MAX_RANK) {
        sn_graph_fail(g, SN_ERR_INVALID_ARGUMENT, "Reshape %s: rank %d is not in [0, %d]",
                      name ? name : "", shape.rank, SN_MAX_RANK);
        return NULL;
    }
    struct sn_op_attrs at = {.shape = shape};
    return build(g, SN_OP_RESHAPE, &x, 1, &at, name);
}

sn_tensor *sn_lrn(sn_graph *g, sn_tensor *x, int depth_radius, float bias, float alpha, float beta,
                  const char *name) {
    struct sn_op_attrs at = {
        .depth_radius = depth_radius, .bias = bias, .alpha = alpha, .beta = beta};
    return build(g, SN_OP_LRN, &x, 1, &at, name);
}

sn_tensor *sn_placeholder(sn_graph *g, const char *name, sn_shape shape) {
    if (!g || sn_graph_failed(g)) return NULL;
    char *wanted = wanted_name(g, SN_OP_PLACEHOLDER, name);
    struct sn_op *op = NULL;
    if (!wanted) return NULL;
    if (shape.rank < 0 || shape.rank > SN_MAX_RANK) {
        sn_graph_fail(g, SN_ERR_INVALID_ARGUMENT, "Placeholder %s: rank %d is not in [0, %d]",
                      wanted, shape.rank, SN_MAX_RANK);
        goto done;
    }
    for (int i = 0; i < shape.rank; i++)
        if (shape.dims[i] < -1) {
            sn_graph_fail(g, SN_ERR_INVALID_ARGUMENT,
                          "Placeholder %s: dimension %d is %lld; sizes are >= 0, or -1 for unknown",
                          wanted, i, (long long)shape.dims[i]);
            goto done;
        }
    op = make_op(g, SN_OP_PLACEHOLDER, wanted, shape, NULL, 0, NULL);
done:
    sn_free(wanted);
    return op ? &op->output : NULL;
}

sn_tensor *sn_scalar(sn_graph *g, float value, const char *name) {
    if (!g || sn_graph_failed(g)) return NULL;
    char *wanted = wanted_name(g, SN_OP_CONST, name);
    struct sn_op_attrs at = {.value = value};
    struct sn_op *op = wanted ? make_op(g, SN_OP_CONST, wanted, SN_SCALAR, NULL, 0, &at) : NULL;
    sn_free(wanted);
    return op ? &op->output : NULL;
}

const char *sn_tensor_name(const sn_tensor *t) { return t ? t->name : ""; }
const char *sn_tensor_op_name(const sn_tensor *t) { return t ? t->op->name : ""; }
const char *sn_tensor_op_type(const sn_tensor *t) { return t ? op_names[t->op->type].type : ""; }
sn_shape sn_tensor_shape(const sn_tensor *t) { return t ? t->shape : SN_SHAPE_UNKNOWN; }

size_t sn_graph_op_count(const sn_graph *g) { return g ? g->op_count : 0; }

sn_tensor *sn_graph_op(const sn_graph *g, size_t i) {
    return g && i < g->op_count ? &g->ops[i]->output : NULL;
}
