/* Mean: tf.reduce_mean over a set of axes, the reduced dimensions kept as
 * 1s or dropped.
 *
 * Each output is the sum in float32 of its elements in index order
 * (row-major over the reduced dimensions) from the first, divided once by
 * their number: the same floats on every kernel set and any number of
 * threads (any NaN for a NaN). The run drops the dimensions of size 1
 * and joins neighbours that are both reduced or both kept; a mean of
 * [outer][rows][channels] over the rows (NHWC over height and width:
 * global average pooling, squeeze-and-excitation) runs the kernel set's
 * rdmean kernel, vectorized across channels, split over the threads by
 * image and block of channels; any other runs the reference, split over
 * the outputs. */
#include <assert.h>
#include <stdio.h>

#include "base/shape.h"
#include "graph/graph.h"
#include "ops/ops.h"

#define WHY(...) (snprintf(why, why_size, __VA_ARGS__), false)

static_assert(SN_MAX_RANK <= 8 * sizeof(unsigned), "attrs.axes has a bit per dimension");

sn_tensor *sn_reduce_mean(sn_graph *g, sn_tensor *x, const int *axes, int axis_count, bool keepdims,
                          const char *name) {
    if (!g || sn_graph_failed(g)) return NULL;
    if (!x || x->op->graph != g) return sn_build_op(g, SN_OP_MEAN, &x, 1, NULL, name);
    const int rank = x->shape.rank;
    if (axis_count < 0 || axis_count > rank)
        return sn_build_refuse(g, SN_OP_MEAN, &x, 1, name,
                               "axis_count %d is not in [0, %d] (the input's rank)", axis_count,
                               rank);
    if (!axes && axis_count > 0)
        return sn_build_refuse(g, SN_OP_MEAN, &x, 1, name, "axes is NULL (axis_count %d)",
                               axis_count);
    unsigned mask = 0;
    for (int i = 0; i < axis_count; i++) {
        const int a = axes[i], d = a < 0 ? a + rank : a;
        if (a < -rank || a >= rank)
            return sn_build_refuse(g, SN_OP_MEAN, &x, 1, name,
                                   "axes[%d] = %d is out of range for rank %d", i, a, rank);
        if ((mask >> d) & 1)
            return sn_build_refuse(g, SN_OP_MEAN, &x, 1, name, "axes[%d] = %d repeats dimension %d",
                                   i, a, d);
        mask |= 1u << d;
    }
    struct sn_op_attrs at = {.axes = mask, .keepdims = keepdims};
    return sn_build_op(g, SN_OP_MEAN, &x, 1, &at, name);
}

static bool infer(const struct sn_op_attrs *at, const sn_shape *in, int count, sn_shape *out,
                  char *why, size_t why_size) {
    (void)count;
    if (in[0].rank < 0 || in[0].rank > SN_MAX_RANK || (at->axes >> in[0].rank) != 0)
        return WHY("the axes (mask 0x%x) do not fit rank %d", at->axes, in[0].rank);
    out->rank = 0;
    for (int d = 0; d < in[0].rank; d++) {
        if (!((at->axes >> d) & 1))
            out->dims[out->rank++] = in[0].dims[d];
        else if (at->keepdims)
            out->dims[out->rank++] = 1;
    }
    return true;
}

/* A mean the rdmean kernel computes: over the rows of `outer` matrices of
 * [rows][channels]. */
struct layout {
    size_t outer, rows, channels;
};

/* Whether the mean over `axes` of shape s is such a mean: with the 1s
 * dropped and neighbours of one kind joined, [channels], [rows][channels]
 * or [outer][rows][channels]. */
static bool kernel_layout(const sn_shape *s, unsigned axes, struct layout *l) {
    size_t size[SN_MAX_RANK];
    bool reduced[SN_MAX_RANK];
    int n = 0;
    for (int d = 0; d < s->rank; d++) {
        const bool r = (axes >> d) & 1;
        if (s->dims[d] == 1) continue;
        if (n > 0 && reduced[n - 1] == r) {
            size[n - 1] *= (size_t)s->dims[d];
        } else {
            size[n] = (size_t)s->dims[d];
            reduced[n++] = r;
        }
    }
    *l = (struct layout){1, 1, 1};
    if (n == 0) return true;
    if (reduced[n - 1] || n > 3) return false;
    l->channels = size[n - 1];
    if (n >= 2) l->rows = size[n - 2];
    if (n == 3) l->outer = size[0];
    return true;
}

static bool plan(const struct sn_plan *p, struct sn_node *n, char *why, size_t why_size) {
    (void)why, (void)why_size;
    struct layout l;
    const bool fast = kernel_layout(&p->values[n->inputs[0]].planned, n->op->attrs.axes, &l);
    n->algorithm = fast ? SN_ALGO_KERNEL : SN_ALGO_REFERENCE;
    return true;
}

/* Input floats below which a mean runs on one thread: the hand-off would
 * cost more than it saves. */
enum { MEAN_SPLIT = 16384 };

/* Channels go to the threads in whole blocks of this many: every kernel
 * set's vector width divides it, so only the last block has a tail. */
enum { CHANNEL_BLOCK = 16 };

struct rows_task {
    sn_f32_rdmean_fn kernel;
    const float *x;
    float *y;
    struct layout l;
    size_t groups, blocks; /* groups of channel blocks per matrix */
    float divisor;
};

/* Items: (matrix, group of channel blocks); a channel's sum is the same
 * whichever group holds it. */
static void rows_items(void *context, size_t begin, size_t count) {
    const struct rows_task *t = context;
    const size_t channels = t->l.channels;
    for (size_t item = begin; item < begin + count; item++) {
        const size_t k = item / t->groups, j = item % t->groups;
        const size_t c0 = t->blocks * j / t->groups * CHANNEL_BLOCK;
        size_t c1 = t->blocks * (j + 1) / t->groups * CHANNEL_BLOCK;
        if (c1 > channels) c1 = channels;
        if (c1 <= c0) continue;
        t->kernel(t->l.rows, c1 - c0, t->x + k * t->l.rows * channels + c0,
                  channels * sizeof(float), t->divisor, t->y + k * channels + c0);
    }
}

struct generic_task {
    const sn_shape *shape;
    unsigned axes;
    const float *x;
    float *y;
};

static void generic_items(void *context, size_t begin, size_t count) {
    const struct generic_task *t = context;
    sn_f32_mean_ref(t->shape->rank, t->shape->dims, t->axes, t->x, t->y, (int64_t)begin,
                    (int64_t)(begin + count));
}

static void run(const struct sn_exec *x, const struct sn_node *n) {
    const struct sn_value *in = &x->values[n->inputs[0]], *out = &x->values[n->out];
    const unsigned axes = n->op->attrs.axes;
    const size_t outputs = sn_value_count(x, n->out), inputs = sn_value_count(x, n->inputs[0]);
    const size_t threads = x->threads->count;
    struct layout l;
    /* no input (a reduced dimension of 0): NaNs, from the reference */
    if (inputs > 0 && kernel_layout(&in->shape, axes, &l)) {
        struct rows_task t = {.kernel = x->kernels->f32_rdmean,
                              .x = in->data,
                              .y = (float *)out->data,
                              .l = l,
                              .groups = 1,
                              .blocks = (l.channels + CHANNEL_BLOCK - 1) / CHANNEL_BLOCK,
                              .divisor = (float)l.rows};
        if (threads > 1 && inputs >= MEAN_SPLIT && l.outer < 4 * threads) {
            const size_t want = (4 * threads + l.outer - 1) / l.outer;
            t.groups = want < t.blocks ? want : t.blocks;
        }
        if (threads == 1 || inputs < MEAN_SPLIT || l.outer * t.groups == 1)
            rows_items(&t, 0, l.outer * t.groups);
        else
            sn_parallel(x->threads, rows_items, &t, l.outer * t.groups);
        return;
    }
    struct generic_task t = {&in->shape, axes, in->data, (float *)out->data};
    if (threads == 1 || inputs < MEAN_SPLIT || outputs == 1)
        generic_items(&t, 0, outputs);
    else
        sn_parallel(x->threads, generic_items, &t, outputs);
}

/* One add per input element. */
static int64_t flops(const struct sn_op_attrs *a, const sn_shape *in, int count,
                     const sn_shape *out) {
    (void)a, (void)count, (void)out;
    return sn_shape_elements(&in[0]);
}

const struct sn_op_class sn_reduce_mean_class = {
    .infer = infer, .plan = plan, .run = run, .flops = flops};
