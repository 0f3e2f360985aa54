/* ConcatV2: tf.concat along one axis. Its plan lets the memory plan put
 * each input in its part of the output (compile/memory.c): the input's
 * producer then writes there, and the run copies only the other inputs.
 * Along the channels, an input may be a split's piece left in its source
 * (a pixel stride apart), and the output may be that source's buffer if
 * the piece lies at its own part there. */
#include <stdio.h>
#include <string.h>

#include "graph/graph.h"
#include "ops/ops.h"

#define WHY(...) (snprintf(why, why_size, __VA_ARGS__), false)

sn_tensor *sn_concat(sn_graph *g, sn_tensor *const *values, size_t count, int axis,
                     const char *name) {
    if (!g || sn_graph_failed(g)) return NULL;
    if (!values || count == 0 || count > 1024) {
        sn_graph_fail(g, SN_ERR_INVALID_ARGUMENT, "ConcatV2: %s",
                      !values ? "values is NULL" : "needs 1 to 1024 values");
        return NULL;
    }
    for (size_t i = 0; i < count; i++)
        if (!values[i]) return sn_build_op(g, SN_OP_CONCAT, values, (int)count, NULL, name);
    const int rank = values[0]->shape.rank;
    if (axis < -rank || axis >= rank || rank < 1) {
        sn_graph_fail(g, SN_ERR_INVALID_ARGUMENT, "ConcatV2: axis %d is out of range for rank %d",
                      axis, rank);
        return NULL;
    }
    struct sn_op_attrs at = {.axis = axis < 0 ? axis + rank : axis};
    return sn_build_op(g, SN_OP_CONCAT, values, (int)count, &at, name);
}

static bool infer(const struct sn_op_attrs *at, const sn_shape *in, int n, sn_shape *out, char *why,
                  size_t why_size) {
    *out = in[0];
    out->dims[at->axis] = 0;
    for (int i = 0; i < n; i++) {
        if (in[i].rank != out->rank)
            return WHY("value %d has rank %d, value 0 rank %d", i, in[i].rank, out->rank);
        for (int d = 0; d < out->rank; d++) {
            const int64_t a = in[i].dims[d], b = out->dims[d];
            if (d == at->axis) {
                out->dims[d] = a < 0 || b < 0 ? -1 : a + b;
            } else if (a >= 0 && b >= 0 && a != b) {
                return WHY("value %d differs from value 0 in dimension %d (%lld, not %lld)", i, d,
                           (long long)a, (long long)b);
            } else if (b < 0) {
                out->dims[d] = a;
            }
        }
    }
    return true;
}

static bool plan(const struct sn_plan *p, struct sn_node *n, char *why, size_t why_size) {
    (void)why, (void)why_size;
    if (n->input_count == 1) {
        n->view_input = 0; /* the output is the input */
        return true;
    }
    n->inputs_in_output = true;
    /* along the channels it copies a pixel's run at a time, from any
     * pixel stride */
    if (n->op->attrs.axis == p->values[n->out].planned.rank - 1)
        n->strided_inputs = n->input_count >= 32 ? UINT32_MAX : (UINT32_C(1) << n->input_count) - 1;
    return true;
}

/* One input to copy: rows of `row` floats, `in_row` apart, into rows
 * `out_row` apart. */
struct concat_copy {
    const float *src;
    float *dst;
    size_t row, in_row, out_row;
};

static void copy_rows(void *context, size_t begin, size_t count) {
    const struct concat_copy *c = context;
    for (size_t o = begin; o < begin + count; o++)
        memcpy(c->dst + o * c->out_row, c->src + o * c->in_row, c->row * sizeof(float));
}

/* Output floats of one input below which it is copied on one thread. */
enum { CONCAT_SPLIT = 16384 };

/* Copies input k into its part of the output, unless its producer wrote it
 * there. A large part is shared among the threads by rows (pixels along
 * the channels), as the ops around it share them: a Winograd conv's
 * output copied by the caller alone took 67 us of SqueezeNet's fire 4 on
 * 2 threads, 19 us on 1; shared, 26 us (the 8 concats: 0.28 -> 0.15 ms). */
static void run(const struct sn_exec *x, const struct sn_node *n) {
    const struct sn_value *out = &x->values[n->out];
    const int axis = n->op->attrs.axis;
    size_t outer = 1, after = 1, before = 0;
    for (int d = 0; d < axis; d++) outer *= (size_t)out->shape.dims[d];
    for (int d = axis + 1; d < out->shape.rank; d++) after *= (size_t)out->shape.dims[d];
    const size_t out_row = (size_t)out->shape.dims[axis] * after;
    for (int k = 0; k < n->input_count; k++) {
        const struct sn_value *in = &x->values[n->inputs[k]];
        const size_t row = (size_t)in->shape.dims[axis] * after;
        float *dst = (float *)out->data + before * after;
        before += (size_t)in->shape.dims[axis];
        if (in->data == dst || row == 0) continue; /* written in place by its producer */
        struct concat_copy c = {.src = in->data,
                                .dst = dst,
                                .row = row,
                                .in_row = in->pixel_stride ? in->pixel_stride : row,
                                .out_row = out_row};
        if (x->threads->count == 1 || outer == 1 || outer * row < CONCAT_SPLIT)
            copy_rows(&c, 0, outer);
        else
            sn_parallel(x->threads, copy_rows, &c, outer);
    }
}

const struct sn_op_class sn_concat_class = {
    .infer = infer, .plan = plan, .run = run, .flops = sn_flops_none};
