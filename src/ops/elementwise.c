#include "ops/elementwise.h"

#include <stdio.h>

#include "graph/graph.h"

#define WHY(...) (snprintf(why, why_size, __VA_ARGS__), false)

/* Floats per piece of work handed to a thread: large enough that a piece
 * outweighs the hand-off, small enough to split a big tensor. */
enum { ELEMENTWISE_CHUNK = 16384 };

static void pieces(void *context, size_t begin, size_t count) {
    const struct sn_elementwise *t = context;
    size_t first = begin * t->unit, end = (begin + count) * t->unit;
    size_t n = (end < t->total ? end : t->total) - first, at = first * t->width;
    if (t->unary) t->unary(n, t->a + at, t->y + at);
    if (t->lrelu) t->lrelu(n, t->a + at, t->c, t->y + at);
    if (t->same) t->same(n, t->a + at, t->b + at, t->y + at);
    if (t->scalar) t->scalar(n, t->a + at, t->c, t->y + at);
    if (t->row) t->row(n, t->width, t->a + at, t->b, t->y + at);
    if (t->softmax) t->softmax(n, t->width, t->a + at, t->y + at);
}

void sn_elementwise_run(const struct sn_exec *x, struct sn_elementwise *t) {
    if (t->total == 0 || t->width == 0) return;
    t->unit = ELEMENTWISE_CHUNK / t->width ? ELEMENTWISE_CHUNK / t->width : 1;
    size_t count = (t->total + t->unit - 1) / t->unit;
    if (count == 1)
        pieces(t, 0, 1);
    else
        sn_parallel(x->threads, pieces, t, count);
}

void sn_unary_run(const struct sn_exec *x, const struct sn_node *n, sn_f32_vunary_fn fn) {
    struct sn_elementwise e = {.unary = fn,
                               .a = x->values[n->inputs[0]].data,
                               .y = (float *)x->values[n->out].data,
                               .total = sn_value_count(x, n->out),
                               .width = 1};
    sn_elementwise_run(x, &e);
}

/* A strided output's pixels [begin, begin + count), each a run of
 * channels. */
struct post_pixels {
    sn_f32_vunary_fn fn;
    float *y;
    size_t channels, stride;
};

static void post_pixels(void *context, size_t begin, size_t count) {
    const struct post_pixels *t = context;
    for (size_t p = begin; p < begin + count; p++) {
        float *run = t->y + p * t->stride;
        t->fn(t->channels, run, run);
    }
}

void sn_post_run(const struct sn_exec *x, const struct sn_node *n) {
    const sn_f32_vunary_fn fn = sn_node_post(x, n);
    if (!fn) return;
    const struct sn_value *v = &x->values[n->out];
    float *y = (float *)v->data;
    const size_t channels = v->shape.rank ? (size_t)v->shape.dims[v->shape.rank - 1] : 1;
    if (!v->pixel_stride || v->pixel_stride == channels) {
        struct sn_elementwise e = {.unary = fn, .a = y, .y = y, .total = sn_value_count(x, n->out),
                                   .width = 1};
        sn_elementwise_run(x, &e);
        return;
    }
    struct post_pixels t = {fn, y, channels, v->pixel_stride};
    sn_parallel(x->threads, post_pixels, &t, channels ? sn_value_count(x, n->out) / channels : 0);
}

/* How an operand of a binary op meets the output: all of it (as many
 * elements, so the same layout), one scalar, or a vector repeated over rows
 * (its dimensions are the output's last ones, with only 1s before them):
 * *inner is the vector's length. */
enum operand_kind { OPERAND_FULL, OPERAND_SCALAR, OPERAND_ROW, OPERAND_OTHER };

static enum operand_kind operand_kind(const sn_shape *in, const sn_shape *out, size_t count,
                                      size_t *inner) {
    size_t n = (size_t)sn_shape_elements(in), len = 1;
    if (n == count) return OPERAND_FULL;
    if (n == 1) return OPERAND_SCALAR;
    for (int d = out->rank - 1, k = in->rank - 1; d >= 0 && k >= 0; d--, k--) {
        if (in->dims[k] != out->dims[d]) break;
        len *= (size_t)in->dims[k];
    }
    *inner = len;
    return len == n ? OPERAND_ROW : OPERAND_OTHER;
}

/* Strides of an operand broadcast to `out` (0 where it is broadcast). */
static void broadcast_strides(const sn_shape *in, const sn_shape *out, int64_t *strides) {
    int64_t stride = 1;
    for (int d = out->rank - 1; d >= 0; d--) {
        int k = in->rank - out->rank + d;
        int64_t dim = k >= 0 ? in->dims[k] : 1;
        strides[d] = dim == 1 ? 0 : stride;
        stride *= dim;
    }
}

/* The op that gives `a op b` as `b op' a` (see kernels.h on maximum). */
static sn_binary_op swapped(sn_binary_op op) {
    switch (op) {
    case SN_BINARY_SUB: return SN_BINARY_RSUB;
    case SN_BINARY_RSUB: return SN_BINARY_SUB;
    default: return op; /* add, multiply, maximum */
    }
}

void sn_binary_run(const struct sn_exec *x, const struct sn_node *n, sn_binary_op op) {
    const struct sn_value *in0 = &x->values[n->inputs[0]], *in1 = &x->values[n->inputs[1]];
    const struct sn_value *out = &x->values[n->out];
    size_t count = sn_value_count(x, n->out), inner_a = 0, inner_b = 0;
    const struct sn_vbinary_kernels *k = &x->kernels->f32_binary[op];
    const struct sn_vbinary_kernels *ks = &x->kernels->f32_binary[swapped(op)];
    const float *a = in0->data, *b = in1->data;
    struct sn_elementwise e = {.a = a, .b = b, .y = (float *)out->data, .total = count, .width = 1};
    enum operand_kind ka = operand_kind(&in0->shape, &out->shape, count, &inner_a);
    enum operand_kind kb = operand_kind(&in1->shape, &out->shape, count, &inner_b);
    if (ka == OPERAND_FULL && kb == OPERAND_FULL) {
        e.same = k->same;
    } else if (ka == OPERAND_FULL && kb == OPERAND_SCALAR) {
        e.scalar = k->scalar, e.c = b[0];
    } else if (ka == OPERAND_SCALAR && kb == OPERAND_FULL) {
        e.scalar = ks->scalar, e.a = b, e.c = a[0];
    } else if (ka == OPERAND_FULL && kb == OPERAND_ROW) {
        e.row = k->row, e.width = inner_b, e.total = count / inner_b;
    } else if (ka == OPERAND_ROW && kb == OPERAND_FULL) {
        e.row = ks->row, e.a = b, e.b = a, e.width = inner_a;
        e.total = count / inner_a;
    } else {
        int64_t as[SN_MAX_RANK], bs[SN_MAX_RANK];
        broadcast_strides(&in0->shape, &out->shape, as);
        broadcast_strides(&in1->shape, &out->shape, bs);
        sn_f32_binary_ref(op, out->shape.rank, out->shape.dims, a, as, b, bs, e.y);
        return;
    }
    sn_elementwise_run(x, &e);
}

bool sn_broadcast_infer(const struct sn_op_attrs *attrs, const sn_shape *in, int count,
                        sn_shape *out, char *why, size_t why_size) {
    (void)attrs, (void)count;
    const sn_shape *a = &in[0], *b = &in[1];
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
            return WHY("the shapes cannot be broadcast together");
    }
    return true;
}

bool sn_same_shape_infer(const struct sn_op_attrs *attrs, const sn_shape *in, int count,
                         sn_shape *out, char *why, size_t why_size) {
    (void)attrs, (void)count, (void)why, (void)why_size;
    *out = in[0];
    return true;
}

bool sn_plan_in_place(const struct sn_plan *plan, struct sn_node *node, char *why,
                      size_t why_size) {
    (void)plan, (void)why, (void)why_size;
    node->in_place_input = 0;
    return true;
}
