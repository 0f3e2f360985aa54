/* Split: tf.split into equal pieces along one axis. A graph op has one
 * output, so sn_split builds one op per piece, each the slice it takes of
 * the input (attrs.piece: index and count, attrs.axis), under a name
 * scope named as TensorFlow names the op ("split"): TensorFlow's output
 * "split:1" is our "split/1:0". A piece's run copies its run of each row
 * along the axis (along the channels of NHWC: a memcpy per pixel); a
 * split into one piece is a view of the input, as a reshape's. */
#include <stdio.h>
#include <string.h>

#include "graph/graph.h"
#include "ops/ops.h"

#define WHY(...) (snprintf(why, why_size, __VA_ARGS__), false)

/* The most pieces: as many as a concat takes back. */
enum { SPLIT_MAX = 1024 };

sn_status sn_split(sn_graph *g, sn_tensor *x, int count, int axis, sn_tensor **outputs,
                   const char *name) {
    if (!g) return SN_ERR_INVALID_ARGUMENT;
    for (int i = 0; outputs && i < count && i < SPLIT_MAX; i++) outputs[i] = NULL;
    if (sn_graph_failed(g)) return sn_graph_status(g);
    if (!x || x->op->graph != g) {
        sn_build_op(g, SN_OP_SPLIT, &x, 1, NULL, name);
        return sn_graph_status(g);
    }
    const int rank = x->shape.rank;
    const int64_t dim =
        axis >= -rank && axis < rank ? x->shape.dims[axis < 0 ? axis + rank : axis] : 0;
    if (!outputs)
        sn_build_refuse(g, SN_OP_SPLIT, &x, 1, name, "outputs is NULL");
    else if (count < 1 || count > SPLIT_MAX)
        sn_build_refuse(g, SN_OP_SPLIT, &x, 1, name, "count %d is not in [1, %d]", count,
                        SPLIT_MAX);
    else if (axis < -rank || axis >= rank)
        sn_build_refuse(g, SN_OP_SPLIT, &x, 1, name, "axis %d is out of range for rank %d", axis,
                        rank);
    else if (dim >= 0 && dim % count != 0)
        sn_build_refuse(g, SN_OP_SPLIT, &x, 1, name,
                        "dimension %d (%lld) does not split into %d equal pieces",
                        axis < 0 ? axis + rank : axis, (long long)dim, count);
    if (sn_graph_failed(g)) return sn_graph_status(g);
    if (!sn_name_scope_open(g, name ? name : sn_op_default_name(SN_OP_SPLIT)))
        return sn_graph_status(g);
    struct sn_op_attrs at = {.axis = axis < 0 ? axis + rank : axis, .piece = {0, count}};
    for (int i = 0; i < count; i++) {
        char piece[16];
        snprintf(piece, sizeof piece, "%d", i);
        at.piece[0] = i;
        outputs[i] = sn_build_op(g, SN_OP_SPLIT, &x, 1, &at, piece);
    }
    sn_name_scope_close(g);
    if (sn_graph_failed(g))
        for (int i = 0; i < count; i++) outputs[i] = NULL;
    return sn_graph_status(g);
}

static bool infer(const struct sn_op_attrs *at, const sn_shape *in, int count, sn_shape *out,
                  char *why, size_t why_size) {
    (void)count;
    const int64_t dim = in[0].dims[at->axis];
    *out = in[0];
    if (dim < 0) return true; /* unknown until run time */
    if (dim % at->piece[1] != 0)
        return WHY("dimension %d (%lld) does not split into %d equal pieces", at->axis,
                   (long long)dim, at->piece[1]);
    out->dims[at->axis] = dim / at->piece[1];
    return true;
}

static bool plan(const struct sn_plan *p, struct sn_node *n, char *why, size_t why_size) {
    (void)p, (void)why, (void)why_size;
    if (n->op->attrs.piece[1] == 1) {
        n->algorithm = SN_ALGO_VIEW;
        n->view_input = 0;
    }
    return true;
}

/* Rows of the input (the dimensions before the axis), each giving the
 * output `part` floats from `begin` on. */
struct split_task {
    const float *x;
    float *y;
    size_t row, part, begin; /* floats */
};

static void rows(void *context, size_t begin, size_t count) {
    const struct split_task *t = context;
    for (size_t r = begin; r < begin + count; r++)
        memcpy(t->y + r * t->part, t->x + r * t->row + t->begin, t->part * sizeof(float));
}

/* Output floats below which a piece is copied on one thread. */
enum { SPLIT_SPLIT = 65536 };

static void run(const struct sn_exec *x, const struct sn_node *n) {
    const struct sn_value *in = &x->values[n->inputs[0]], *out = &x->values[n->out];
    if (out->data == in->data) return; /* one piece, planned as a view */
    const int axis = n->op->attrs.axis;
    size_t outer = 1, after = 1;
    for (int d = 0; d < axis; d++) outer *= (size_t)in->shape.dims[d];
    for (int d = axis + 1; d < in->shape.rank; d++) after *= (size_t)in->shape.dims[d];
    const size_t size = (size_t)out->shape.dims[axis];
    struct split_task t = {.x = in->data,
                           .y = (float *)out->data,
                           .row = (size_t)in->shape.dims[axis] * after,
                           .part = size * after,
                           .begin = (size_t)n->op->attrs.piece[0] * size * after};
    if (x->threads->count == 1 || outer == 1 || outer * t.part < SPLIT_SPLIT)
        rows(&t, 0, outer);
    else
        sn_parallel(x->threads, rows, &t, outer);
}

const struct sn_op_class sn_split_class = {.infer = infer, .plan = plan, .run = run};
