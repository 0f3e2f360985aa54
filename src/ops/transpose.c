/* Transpose: tf.transpose with a permutation, any rank. The run is a
 * strided copy: the output's dimensions of size 1 are dropped and the
 * neighbours that are neighbours in the input too are joined, so the
 * copy walks blocks of the last two joined dimensions by rows, a memcpy
 * per row where the last dimension stays last (a channel shuffle moves
 * single floats). The identity is a view of the input, as a reshape's. */
#include <stdio.h>
#include <string.h>

#include "graph/graph.h"
#include "ops/ops.h"

#define WHY(...) (snprintf(why, why_size, __VA_ARGS__), false)

sn_tensor *sn_transpose(sn_graph *g, sn_tensor *x, const int *perm, int rank, const char *name) {
    if (!g || sn_graph_failed(g)) return NULL;
    if (!x || x->op->graph != g) return sn_build_op(g, SN_OP_TRANSPOSE, &x, 1, NULL, name);
    if (rank != x->shape.rank)
        return sn_build_refuse(g, SN_OP_TRANSPOSE, &x, 1, name,
                               "the permutation has %d dimensions, the input %d", rank,
                               x->shape.rank);
    if (!perm && rank > 0) return sn_build_refuse(g, SN_OP_TRANSPOSE, &x, 1, name, "perm is NULL");
    struct sn_op_attrs at = {0};
    unsigned seen = 0;
    for (int d = 0; d < rank; d++) {
        if (perm[d] < 0 || perm[d] >= rank)
            return sn_build_refuse(g, SN_OP_TRANSPOSE, &x, 1, name,
                                   "perm[%d] = %d is out of range for rank %d", d, perm[d], rank);
        if ((seen >> perm[d]) & 1)
            return sn_build_refuse(g, SN_OP_TRANSPOSE, &x, 1, name,
                                   "perm[%d] = %d repeats dimension %d", d, perm[d], perm[d]);
        seen |= 1u << perm[d];
        at.perm[d] = perm[d];
    }
    return sn_build_op(g, SN_OP_TRANSPOSE, &x, 1, &at, name);
}

static bool infer(const struct sn_op_attrs *at, const sn_shape *in, int count, sn_shape *out,
                  char *why, size_t why_size) {
    (void)count, (void)why, (void)why_size;
    *out = in[0];
    for (int d = 0; d < in[0].rank; d++) out->dims[d] = in[0].dims[at->perm[d]];
    return true;
}

static bool identity(const struct sn_op_attrs *at, int rank) {
    for (int d = 0; d < rank; d++)
        if (at->perm[d] != d) return false;
    return true;
}

static bool plan(const struct sn_plan *p, struct sn_node *n, char *why, size_t why_size) {
    (void)p, (void)why, (void)why_size;
    if (identity(&n->op->attrs, n->op->inputs[0]->shape.rank)) {
        n->algorithm = SN_ALGO_VIEW;
        n->view_input = 0;
    }
    return true;
}

/* The copy as blocks of rows: dims[0..rank-2) index the blocks, each
 * [dims[rank-2]][dims[rank-1]] output floats, read from the input at
 * strides stride[d] (floats). The threads share out the rows, so that a
 * single block (a matrix) is split too. */
struct transpose_task {
    int rank; /* >= 2: leading 1s pad a shorter one */
    size_t dims[SN_MAX_RANK], stride[SN_MAX_RANK];
    const float *x;
    float *y;
};

/* Where block b starts in the input. */
static size_t block_start(const struct transpose_task *t, size_t b) {
    size_t src = 0;
    for (int d = t->rank - 3; d >= 0; d--) {
        src += b % t->dims[d] * t->stride[d];
        b /= t->dims[d];
    }
    return src;
}

/* Output rows [begin, begin + count). */
static void copy_rows(void *context, size_t begin, size_t count) {
    const struct transpose_task *t = context;
    const int r = t->rank;
    const size_t rows = t->dims[r - 2], cols = t->dims[r - 1];
    const size_t row_stride = t->stride[r - 2], col_stride = t->stride[r - 1];
    float *dst = t->y + begin * cols;
    for (size_t b = begin / rows, i = begin % rows; count > 0; b++, i = 0) {
        const float *row = t->x + block_start(t, b) + i * row_stride;
        const size_t n = rows - i < count ? rows - i : count;
        count -= n;
        if (col_stride != 1 && row_stride == 1 && cols == 2) {
            /* a channel shuffle of two groups: two input runs interleaved,
             * a loop the compiler makes shuffles of whole vectors */
            const float *a = row, *c = row + col_stride;
            for (size_t k = 0; k < n; k++) {
                dst[2 * k] = a[k];
                dst[2 * k + 1] = c[k];
            }
            dst += 2 * n;
            continue;
        }
        for (size_t k = 0; k < n; k++, row += row_stride, dst += cols) {
            if (col_stride == 1) {
                memcpy(dst, row, cols * sizeof(float));
                continue;
            }
            for (size_t j = 0; j < cols; j++) dst[j] = row[j * col_stride];
        }
    }
}

/* Output floats below which a transpose runs on one thread. */
enum { TRANSPOSE_SPLIT = 16384 };

static void run(const struct sn_exec *x, const struct sn_node *n) {
    const struct sn_value *in = &x->values[n->inputs[0]], *out = &x->values[n->out];
    const int rank = in->shape.rank;
    const int *perm = n->op->attrs.perm;
    if (out->data == in->data) return; /* the identity, planned as a view */
    size_t in_stride[SN_MAX_RANK], stride = 1;
    for (int d = rank - 1; d >= 0; d--) {
        in_stride[d] = stride;
        stride *= (size_t)in->shape.dims[d];
    }
    /* the output's dimensions, 1s dropped and neighbours in the input
     * joined; then 1s in front up to two */
    struct transpose_task t = {.x = in->data, .y = (float *)out->data};
    for (int d = 0; d < rank; d++) {
        const size_t size = (size_t)in->shape.dims[perm[d]], s = in_stride[perm[d]];
        if (size == 1) continue;
        if (t.rank > 0 && t.stride[t.rank - 1] == s * size) {
            t.dims[t.rank - 1] *= size;
            t.stride[t.rank - 1] = s;
        } else {
            t.dims[t.rank] = size;
            t.stride[t.rank++] = s;
        }
    }
    for (; t.rank < 2; t.rank++) {
        memmove(t.dims + 1, t.dims, sizeof t.dims[0]);
        memmove(t.stride + 1, t.stride, sizeof t.stride[0]);
        t.dims[0] = 1, t.stride[0] = 0;
    }
    size_t count = 1; /* rows */
    for (int d = 0; d < t.rank - 1; d++) count *= t.dims[d];
    if (x->threads->count == 1 || count == 1 || count * t.dims[t.rank - 1] < TRANSPOSE_SPLIT)
        copy_rows(&t, 0, count);
    else
        sn_parallel(x->threads, copy_rows, &t, count);
}

const struct sn_op_class sn_transpose_class = {
    .infer = infer, .plan = plan, .run = run, .flops = sn_flops_none};
