/* Split: tf.split along one axis, into equal pieces (sn_split) or pieces
 * of given sizes, one of them maybe -1 (sn_split_sizes). A graph op has
 * one output, so each piece is an op, the slice it takes of the input
 * (attrs.axis, attrs.piece: its bounds as functions of the input's size
 * there, which may be known only at run time), under a name scope named
 * as TensorFlow names the op ("split"): TensorFlow's output "split:1" is
 * our "split/1:0". A piece's run copies its run of each row along the
 * axis (along the channels of NHWC: a memcpy per pixel); a piece that is
 * the whole input is a view of it, as a reshape's, and a piece of the
 * channels that only nodes taking a pixel stride read stays in the input
 * (compile/memory.c). */
#include <stdio.h>
#include <string.h>

#include "graph/graph.h"
#include "ops/ops.h"

#define WHY(...) (snprintf(why, why_size, __VA_ARGS__), false)

/* The most pieces: as many as a concat takes back. */
enum { SPLIT_MAX = 1024 };

typedef struct sn_split_piece piece_t;

#define REFUSE(...) (sn_build_refuse(g, SN_OP_SPLIT, &x, 1, name, __VA_ARGS__), false)

/* Whether the pieces can be cut from x's dimension `dim` along axis (-1:
 * unknown); refuses them if not. Adds the known sizes to *total (0) and
 * sets *rest (-1) to the -1's index. */
static bool can_cut(sn_graph *g, sn_tensor *x, const char *name, const int64_t *sizes, int count,
                    int axis, int64_t dim, int64_t *total, int *rest) {
    const int rank = x->shape.rank;
    if (count < 1 || count > SPLIT_MAX)
        return REFUSE("count %d is not in [1, %d]", count, SPLIT_MAX);
    if (axis < -rank || axis >= rank)
        return REFUSE("axis %d is out of range for rank %d", axis, rank);
    axis = axis < 0 ? axis + rank : axis;
    if (!sizes) {
        if (dim >= 0 && dim % count != 0)
            return REFUSE("dimension %d (%lld) does not split into %d equal pieces", axis,
                          (long long)dim, count);
        return true;
    }
    for (int i = 0; i < count; i++) {
        if (sizes[i] == -1 && *rest >= 0)
            return REFUSE("sizes[%d] and sizes[%d] are both -1", *rest, i);
        if (sizes[i] == -1) {
            *rest = i;
            continue;
        }
        if (sizes[i] < 0 || sizes[i] > INT64_MAX - *total)
            return REFUSE("sizes[%d] = %lld: a size is >= 0 (or one -1, the rest) and "
                          "they add up to an int64",
                          i, (long long)sizes[i]);
        *total += sizes[i];
    }
    if (dim >= 0 && (*rest < 0 ? dim != *total : dim < *total))
        return REFUSE("the sizes add up to %lld%s, dimension %d is %lld", (long long)*total,
                      *rest < 0 ? "" : " and a -1", axis, (long long)dim);
    return true;
}

/* Piece i: of `count` equal ones, or of `sizes` (their sum `total`, the -1
 * at `rest` or none): bounds that follow the dimension from the -1 on. */
static piece_t piece(const int64_t *sizes, int count, int i, int64_t total, int rest) {
    if (!sizes) return (piece_t){.num = {i, i + 1}, .den = count, .total = -1};
    int64_t before = 0, after = 0; /* the known sizes before and after i */
    for (int j = 0; j < count; j++)
        if (j != rest && j != i) *(j < i ? &before : &after) += sizes[j];
    const int64_t size = i == rest ? 0 : sizes[i];
    if (rest < 0) return (piece_t){.offset = {before, before + size}, .den = 1, .total = total};
    if (i < rest) return (piece_t){.offset = {before, before + size}, .den = 1, .total = -1};
    if (i == rest)
        return (piece_t){.offset = {before, -after}, .num = {0, 1}, .den = 1, .total = -1};
    return (piece_t){.offset = {-after - size, -after}, .num = {1, 1}, .den = 1, .total = -1};
}

/* Equal pieces if !by_sizes, else pieces of `sizes`. */
static sn_status split(sn_graph *g, sn_tensor *x, bool by_sizes, const int64_t *sizes, int count,
                       int axis, sn_tensor **outputs, const char *name) {
    if (!g) return SN_ERR_INVALID_ARGUMENT;
    for (int i = 0; outputs && i < count && i < SPLIT_MAX; i++) outputs[i] = NULL;
    if (sn_graph_failed(g)) return sn_graph_status(g);
    if (!x || x->op->graph != g) {
        sn_build_op(g, SN_OP_SPLIT, &x, 1, NULL, name);
        return sn_graph_status(g);
    }
    const int rank = x->shape.rank, a = axis < 0 ? axis + rank : axis;
    const int64_t dim = a >= 0 && a < rank ? x->shape.dims[a] : -1;
    int64_t total = 0;
    int rest = -1;
    if (!outputs             ? REFUSE("outputs is NULL")
        : by_sizes && !sizes ? REFUSE("sizes is NULL")
                             : !can_cut(g, x, name, sizes, count, axis, dim, &total, &rest))
        return sn_graph_status(g);
    if (!sn_name_scope_open(g, name ? name : sn_op_default_name(SN_OP_SPLIT)))
        return sn_graph_status(g);
    struct sn_op_attrs at = {.axis = a};
    for (int i = 0; i < count; i++) {
        char index[16];
        snprintf(index, sizeof index, "%d", i);
        at.piece = piece(sizes, count, i, total, rest);
        outputs[i] = sn_build_op(g, SN_OP_SPLIT, &x, 1, &at, index);
    }
    sn_name_scope_close(g);
    if (sn_graph_failed(g))
        for (int i = 0; i < count; i++) outputs[i] = NULL;
    return sn_graph_status(g);
}

sn_status sn_split(sn_graph *g, sn_tensor *x, int count, int axis, sn_tensor **outputs,
                   const char *name) {
    return split(g, x, false, NULL, count, axis, outputs, name);
}

sn_status sn_split_sizes(sn_graph *g, sn_tensor *x, const int64_t *sizes, int count, int axis,
                         sn_tensor **outputs, const char *name) {
    return split(g, x, true, sizes, count, axis, outputs, name);
}

/* Bound k of piece p of a dimension `dim` (known, a multiple of den). */
static int64_t bound(const piece_t *p, int k, int64_t dim) {
    return dim / p->den * p->num[k] + p->offset[k];
}

static bool infer(const struct sn_op_attrs *at, const sn_shape *in, int count, sn_shape *out,
                  char *why, size_t why_size) {
    (void)count;
    const piece_t *p = &at->piece;
    const int64_t dim = in[0].dims[at->axis];
    *out = in[0];
    if (dim < 0) { /* unknown until run time, unless the piece is fixed */
        out->dims[at->axis] = p->num[0] || p->num[1] ? -1 : p->offset[1] - p->offset[0];
        return true;
    }
    if (dim % p->den != 0)
        return WHY("dimension %d (%lld) does not split into %d equal pieces", at->axis,
                   (long long)dim, p->den);
    if (p->total >= 0 && dim != p->total)
        return WHY("dimension %d (%lld) is not the sizes' sum %lld", at->axis, (long long)dim,
                   (long long)p->total);
    const int64_t lo = bound(p, 0, dim), hi = bound(p, 1, dim);
    if (lo < 0 || hi < lo)
        return WHY("dimension %d (%lld) is less than the sizes' sum", at->axis, (long long)dim);
    out->dims[at->axis] = hi - lo;
    return true;
}

/* The piece is the whole input. */
static bool whole(const piece_t *p) {
    return p->num[0] == 0 && p->num[1] == p->den && p->offset[0] == 0 && p->offset[1] == 0;
}

static bool plan(const struct sn_plan *p, struct sn_node *n, char *why, size_t why_size) {
    (void)why, (void)why_size;
    const piece_t *piece = &n->op->attrs.piece;
    const sn_shape *in = &p->values[n->inputs[0]].tensor->shape;
    const int axis = n->op->attrs.axis;
    if (whole(piece)) {
        n->algorithm = SN_ALGO_VIEW;
        n->view_input = 0;
    } else if (axis == in->rank - 1 && in->dims[axis] >= 0) {
        /* a piece of each pixel's channels, where they are fixed: the
         * memory plan may leave it in the input (compile/memory.c) */
        n->strided_slice = true;
        n->slice_begin = (size_t)bound(piece, 0, in->dims[axis]);
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
    /* the whole input, or a piece left in it (read with its pixel stride) */
    if (out->data == in->data || out->pixel_stride) return;
    const int axis = n->op->attrs.axis;
    size_t outer = 1, after = 1;
    for (int d = 0; d < axis; d++) outer *= (size_t)in->shape.dims[d];
    for (int d = axis + 1; d < in->shape.rank; d++) after *= (size_t)in->shape.dims[d];
    const size_t size = (size_t)out->shape.dims[axis];
    struct split_task t = {.x = in->data,
                           .y = (float *)out->data,
                           .row = (size_t)in->shape.dims[axis] * after,
                           .part = size * after,
                           .begin =
                               (size_t)bound(&n->op->attrs.piece, 0, in->shape.dims[axis]) * after};
    if (x->threads->count == 1 || outer == 1 || outer * t.part < SPLIT_SPLIT)
        rows(&t, 0, outer);
    else
        sn_parallel(x->threads, rows, &t, outer);
}

const struct sn_op_class sn_split_class = {
    .infer = infer, .plan = plan, .run = run, .flops = sn_flops_none};
