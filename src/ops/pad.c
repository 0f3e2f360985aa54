/* Pad: tf.pad in constant mode. The run writes each line of the output
 * (along its last padded dimension) once: the value where the line or
 * part of it lies in the padding, the input's run copied in place. With
 * no padding at all the output is a view of the input, as a reshape's. */
#include <stdio.h>
#include <string.h>

#include "base/checked.h"
#include "graph/graph.h"
#include "ops/ops.h"

#define WHY(...) (snprintf(why, why_size, __VA_ARGS__), false)

sn_tensor *sn_pad(sn_graph *g, sn_tensor *x, const int64_t (*paddings)[2], float value,
                  const char *name) {
    if (!g || sn_graph_failed(g)) return NULL;
    if (!x || x->op->graph != g) return sn_build_op(g, SN_OP_PAD, &x, 1, NULL, name);
    const int rank = x->shape.rank;
    if (!paddings && rank > 0)
        return sn_build_refuse(g, SN_OP_PAD, &x, 1, name, "paddings is NULL");
    struct sn_op_attrs at = {.value = value};
    for (int d = 0; d < rank; d++) {
        const int64_t before = paddings[d][0], after = paddings[d][1], dim = x->shape.dims[d];
        int64_t total;
        if (before < 0 || after < 0)
            return sn_build_refuse(g, SN_OP_PAD, &x, 1, name,
                                   "paddings[%d] = {%lld, %lld}: a padding must be >= 0", d,
                                   (long long)before, (long long)after);
        if (!sn_add_i64(before, after, &total) || (dim >= 0 && !sn_add_i64(total, dim, &total)))
            return sn_build_refuse(g, SN_OP_PAD, &x, 1, name,
                                   "dimension %d (%lld) padded by {%lld, %lld} is too large", d,
                                   (long long)dim, (long long)before, (long long)after);
        at.paddings[d][0] = before;
        at.paddings[d][1] = after;
    }
    return sn_build_op(g, SN_OP_PAD, &x, 1, &at, name);
}

static bool infer(const struct sn_op_attrs *at, const sn_shape *in, int count, sn_shape *out,
                  char *why, size_t why_size) {
    (void)count;
    *out = in[0];
    for (int d = 0; d < in[0].rank; d++) {
        if (in[0].dims[d] < 0) continue; /* unknown until run time */
        if (!sn_add_i64(in[0].dims[d], at->paddings[d][0], &out->dims[d]) ||
            !sn_add_i64(out->dims[d], at->paddings[d][1], &out->dims[d]))
            return WHY("dimension %d (%lld) padded is too large", d, (long long)in[0].dims[d]);
    }
    return true;
}

static bool no_padding(const struct sn_op_attrs *at, int rank) {
    for (int d = 0; d < rank; d++)
        if (at->paddings[d][0] || at->paddings[d][1]) return false;
    return true;
}

static bool plan(const struct sn_plan *p, struct sn_node *n, char *why, size_t why_size) {
    (void)p, (void)why, (void)why_size;
    if (no_padding(&n->op->attrs, n->op->inputs[0]->shape.rank)) {
        n->algorithm = SN_ALGO_VIEW;
        n->view_input = 0;
    }
    return true;
}

/* The output as lines: the dimensions up to the last padded one, that one
 * counted in elements of `inner` floats (the unpadded dimensions after it
 * joined), the lines being its runs. */
struct pad_task {
    int rank;
    int64_t in[SN_MAX_RANK], out[SN_MAX_RANK], before[SN_MAX_RANK];
    size_t in_stride[SN_MAX_RANK]; /* floats */
    size_t inner, line;            /* floats per element of the last dimension, per line */
    const float *x;
    float *y;
    float value;
    bool zero; /* value is +0: memset */
};

static void fill(const struct pad_task *t, float *p, size_t n) {
    if (t->zero) {
        memset(p, 0, n * sizeof(float));
        return;
    }
    for (size_t i = 0; i < n; i++) p[i] = t->value;
}

/* Output lines [begin, begin + count). */
static void lines(void *context, size_t begin, size_t count) {
    const struct pad_task *t = context;
    const int last = t->rank - 1;
    for (size_t l = begin; l < begin + count; l++) {
        float *dst = t->y + l * t->line;
        /* the line's index over the dimensions before the last; inside the
         * input, where in it */
        size_t rest = l, src = 0;
        bool inside = true;
        for (int d = last - 1; d >= 0 && inside; d--) {
            const int64_t i = (int64_t)(rest % (size_t)t->out[d]) - t->before[d];
            rest /= (size_t)t->out[d];
            inside = i >= 0 && i < t->in[d];
            src += (size_t)i * t->in_stride[d];
        }
        if (!inside || t->in[last] == 0) {
            fill(t, dst, t->line);
            continue;
        }
        const size_t before = (size_t)t->before[last] * t->inner;
        const size_t run = (size_t)t->in[last] * t->inner;
        fill(t, dst, before);
        memcpy(dst + before, t->x + src, run * sizeof(float));
        fill(t, dst + before + run, t->line - before - run);
    }
}

/* Output floats below which a pad runs on one thread. */
enum { PAD_SPLIT = 65536 };

static void run(const struct sn_exec *x, const struct sn_node *n) {
    const struct sn_op_attrs *a = &n->op->attrs;
    const struct sn_value *in = &x->values[n->inputs[0]], *out = &x->values[n->out];
    const int rank = in->shape.rank;
    if (no_padding(a, rank)) { /* a copy where the plan could not make a view */
        if (out->data != in->data)
            memcpy((void *)out->data, in->data, sn_value_count(x, n->out) * sizeof(float));
        return;
    }
    int last = rank - 1;
    while (!a->paddings[last][0] && !a->paddings[last][1]) last--;
    struct pad_task t = {.rank = last + 1, .x = in->data, .y = (float *)out->data, .inner = 1};
    t.value = a->value;
    uint32_t bits;
    memcpy(&bits, &t.value, sizeof bits);
    t.zero = bits == 0;
    for (int d = rank - 1; d > last; d--) t.inner *= (size_t)in->shape.dims[d];
    size_t stride = t.inner, count = 1;
    for (int d = last; d >= 0; d--) {
        t.in[d] = in->shape.dims[d];
        t.out[d] = out->shape.dims[d];
        t.before[d] = a->paddings[d][0];
        t.in_stride[d] = stride;
        stride *= (size_t)t.in[d];
        if (d < last) count *= (size_t)t.out[d];
    }
    t.line = (size_t)t.out[last] * t.inner;
    if (x->threads->count == 1 || count == 1 || count * t.line < PAD_SPLIT)
        lines(&t, 0, count);
    else
        sn_parallel(x->threads, lines, &t, count);
}

const struct sn_op_class sn_pad_class = {
    .infer = infer, .plan = plan, .run = run, .flops = sn_flops_none};
