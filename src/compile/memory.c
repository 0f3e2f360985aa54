/* Plan memory: one arena of bytes for the values the nodes compute and the
 * nodes' workspaces.
 *   - Liveness: a value lives from the node that makes it to the last that
 *     reads it (to the end if fetched).
 *   - Parts of a concat: an input read only by its concat, with the
 *     output's shape but along the axis (no dimension unknown in it that
 *     the output knows), is put in its part of the concat's output, where
 *     its producer writes it: parts that are contiguous (a concat along an
 *     axis with only 1s before it) from any producer; parts along the
 *     channels (a stride from pixel to pixel) from a node whose plan says
 *     it can write so (strided_output).
 *   - Pieces of the channels: a split's piece read only by nodes that take
 *     a pixel stride (strided_inputs: a 1x1 conv's GEMM, a concat) stays
 *     in its input, and a concat along the channels with such a piece at
 *     its own part may take the piece's source buffer as its output
 *     (concat_over_slice).
 *   - Views: a node whose plan allows it (a reshape) has its output in its
 *     input's buffer, and one that may run in place (an elementwise op)
 *     writes over its input where that buffer dies at it.
 *   A buffer lives from the first of its values' lives to the last.
 *   - Workspaces live for their node's run only.
 * The buffers and workspaces are placed largest first (ties by first use),
 * each at the lowest offset, aligned, clear of every placed one whose life
 * overlaps its own. */
#include "base/alloc.h"
#include "base/checked.h"
#include "compile/compile.h"
#include "graph/graph.h"

int64_t sn_tensor_bytes(const sn_shape *shape, sn_dtype dtype) {
    int64_t n = sn_shape_elements(shape), size = (int64_t)sn_dtype_size(dtype);
    return n < 0 || n > SN_MAX_ELEMENTS || size == 0 ? -1 : (n * size + 63) & ~(int64_t)63;
}

/* Where a workspace that asks for whole pages (a thread's part of the
 * bands of a direct conv, of Winograd's V and M) starts: half a page past
 * a page boundary of the arena, whose tensors start on one. Placed on a
 * page boundary like them, the workspace's loads and the tensors' stores
 * shared their addresses' low 12 bits (4K aliasing: a load waits for an
 * earlier store it may alias): with the workspace first and the output
 * 1 MB after it, the stem (2 threads) ran 8% slower than with the
 * workspace in its own allocation, as before the memory plan held it;
 * half a page in, 1% (interleaved medians of 8, `scopenn bench stem
 * --threads 2`; resnet3x3 1.6%, seed_filter level). */
enum { WORKSPACE_SKEW = 2048 };

/* A buffer or a workspace to place. */
struct block {
    size_t bytes, align, skew, offset; /* offset = skew, modulo align */
    int first, last;
    int value; /* the buffer's value, or -1 for node `first`'s workspace */
};

/* Per value while planning: how many node inputs read it, whether one
 * of them reads it without a pixel stride, and for a buffer's own value
 * (view_of < 0) the life of the whole buffer. */
struct plan {
    struct sn_program *p;
    int *readers, *buffer_first, *buffer_last;
    bool *read_dense;
};

static int root_of(const struct sn_program *p, int v) {
    while (p->values[v].view_of >= 0) v = p->values[v].view_of;
    return v;
}

/* Where value v starts in its buffer. */
static size_t offset_in_root(const struct sn_program *p, int v) {
    size_t offset = 0;
    for (; p->values[v].view_of >= 0; v = p->values[v].view_of) offset += p->values[v].view_offset;
    return offset;
}

/* Puts value v in value `into`'s buffer, `offset` bytes from its start. */
static void join(struct plan *pl, int v, int into, size_t offset, size_t pixel_stride) {
    struct sn_value *x = &pl->p->values[v];
    const int root = root_of(pl->p, into);
    x->view_of = into;
    x->view_offset = offset;
    x->pixel_stride = pixel_stride;
    if (pl->buffer_first[v] < pl->buffer_first[root]) pl->buffer_first[root] = pl->buffer_first[v];
    if (pl->buffer_last[v] > pl->buffer_last[root]) pl->buffer_last[root] = pl->buffer_last[v];
    pl->p->views++;
}

/* Whether part x has the concat's output shape `out` in every dimension
 * but the axis. Asked of the build-time shapes and of the planned ones:
 * a dimension unknown in x but known in the output (a -1 batch beside a
 * batch of 1) is planned at max_batch in x, and an unknown one in both may
 * be planned larger in x (a -1 that a reshape made from the batch and
 * other dimensions, beside a placeholder's -1 batch: the output falls back
 * to max_batch). Either way its producer, which runs before the concat
 * refuses the shapes, could write past its part and the concat's buffer
 * (fuzz_graph found the second: regress-graph/concat-part-planned-larger). */
static bool spans_output(const sn_shape *x, const sn_shape *out, int axis) {
    for (int d = 0; d < out->rank; d++)
        if (d != axis && x->dims[d] != out->dims[d]) return false;
    return true;
}

/* The parts of concat node n that its inputs' producers can write. */
static void concat_parts(struct plan *pl, const struct sn_node *n) {
    struct sn_program *p = pl->p;
    const struct sn_value *out = &p->values[n->out];
    const int axis = n->op->attrs.axis, rank = out->planned.rank;
    if (out->view_of >= 0 || out->pixel_stride) return;
    /* the parts' offsets must not depend on a run's shapes: every input's
     * extent along the axis is known, and so is every dimension before it
     * for contiguous parts */
    bool channels = axis == rank - 1, contiguous = true;
    for (int d = 0; d < axis; d++) contiguous &= out->tensor->shape.dims[d] == 1;
    for (int k = 0; k < n->input_count; k++)
        if (p->values[n->inputs[k]].tensor->shape.dims[axis] < 0) return;
    if (!channels && !contiguous) return;
    size_t after = 1, before = 0;
    for (int d = axis + 1; d < rank; d++) after *= (size_t)out->planned.dims[d];
    for (int k = 0; k < n->input_count; k++) {
        const int v = n->inputs[k];
        const struct sn_value *x = &p->values[v];
        const size_t offset = before * after * sn_dtype_size(x->dtype);
        before += (size_t)x->tensor->shape.dims[axis];
        if (x->kind != SN_VALUE_COMPUTED || x->fetched || pl->readers[v] != 1 || x->view_of >= 0 ||
            x->dtype != out->dtype || !spans_output(&x->tensor->shape, &out->tensor->shape, axis) ||
            !spans_output(&x->planned, &out->planned, axis))
            continue;
        const struct sn_node *producer = &p->nodes[x->first];
        if (contiguous)
            join(pl, v, n->out, offset, 0);
        else if (producer->strided_output)
            join(pl, v, n->out, offset, (size_t)out->planned.dims[axis]);
    }
}

/* Node i's output joins the buffer of input k if the plan allows it. */
static void share_buffer(struct plan *pl, size_t i) {
    struct sn_program *p = pl->p;
    struct sn_node *n = &p->nodes[i];
    const int k = n->view_input >= 0 ? n->view_input : n->in_place_input;
    struct sn_value *out = &p->values[n->out];
    if (k < 0 || out->view_of >= 0) return;
    const int in = n->inputs[k], root = root_of(p, in);
    const struct sn_value *x = &p->values[in];
    if (x->kind != SN_VALUE_COMPUTED || x->pixel_stride || out->bytes > x->bytes) return;
    if (n->view_input < 0) {
        /* in place: nothing reads the buffer after this node, no other
         * input shares it, and the output has the input's shape */
        if (pl->buffer_last[root] != (int)i || !sn_shape_equal(&x->planned, &out->planned)) return;
        for (int j = 0; j < n->input_count; j++)
            if (j != k && p->values[n->inputs[j]].kind == SN_VALUE_COMPUTED &&
                root_of(p, n->inputs[j]) == root)
                return;
        if (n->bias >= 0 && p->values[n->bias].kind == SN_VALUE_COMPUTED &&
            root_of(p, n->bias) == root)
            return;
    }
    join(pl, n->out, root, offset_in_root(p, in), 0);
}

/* A split's piece of the channels (node n's output) stays in its input's
 * buffer, a pixel stride apart, if every node that reads it takes that
 * stride and the input is dense: the split copies nothing. */
static void slice_in_place(struct plan *pl, struct sn_node *n) {
    struct sn_program *p = pl->p;
    const int in = n->inputs[0];
    const struct sn_value *x = &p->values[in], *out = &p->values[n->out];
    if (!n->strided_slice || x->kind != SN_VALUE_COMPUTED || x->pixel_stride || out->view_of >= 0 ||
        out->fetched || pl->read_dense[n->out] || x->dtype != out->dtype)
        return;
    const size_t size = sn_dtype_size(x->dtype);
    join(pl, n->out, in, n->slice_begin * size, (size_t)x->planned.dims[x->planned.rank - 1]);
    n->algorithm = SN_ALGO_VIEW;
}

/* Concat node i's output takes the buffer of value s if an input k is a
 * piece of s's channels left in it (slice_in_place) at k's own part of
 * the output, which has s's shape: then input k is in place. Only if
 * every other value in that buffer is dead before the first of the other
 * parts is written there (by its producer, joined by concat_parts, or by
 * the concat), and none of those parts is in it. ShuffleNet's unit: the
 * channels' first half passes, the second half's branch writes its result
 * over that half once its first conv has read it. */
static void concat_over_slice(struct plan *pl, size_t i) {
    struct sn_program *p = pl->p;
    const struct sn_node *n = &p->nodes[i];
    const struct sn_value *out = &p->values[n->out];
    const int rank = out->planned.rank;
    if (!n->inputs_in_output || n->op->attrs.axis != rank - 1 || out->view_of >= 0 ||
        out->pixel_stride)
        return;
    const size_t size = sn_dtype_size(out->dtype);
    size_t before = 0;
    int k = -1, s = -1;
    for (int j = 0; j < n->input_count && k < 0; j++) {
        const struct sn_value *x = &p->values[n->inputs[j]];
        if (x->tensor->shape.dims[rank - 1] < 0) return;
        if (x->view_of >= 0 && x->pixel_stride && x->view_offset == before * size &&
            p->nodes[x->first].strided_slice &&
            sn_shape_equal(&p->values[x->view_of].planned, &out->planned) &&
            p->values[x->view_of].dtype == out->dtype) {
            k = j;
            s = x->view_of;
        }
        before += (size_t)x->tensor->shape.dims[rank - 1];
    }
    if (k < 0) return;
    const int root = root_of(p, s);
    for (int j = 0; j < n->input_count; j++)
        if (j != k && p->values[n->inputs[j]].kind == SN_VALUE_COMPUTED &&
            root_of(p, n->inputs[j]) == root)
            return;
    /* when the output's buffer is first written: by the concat, or by the
     * producer of a value already in it (a part, or a part of a part) */
    int written = (int)i;
    for (size_t v = 0; v < p->value_count; v++)
        if ((int)v != n->out && p->values[v].kind == SN_VALUE_COMPUTED &&
            p->values[v].first < written && root_of(p, (int)v) == n->out)
            written = p->values[v].first;
    for (size_t v = 0; v < p->value_count; v++)
        if ((int)v != n->inputs[k] && p->values[v].kind == SN_VALUE_COMPUTED &&
            root_of(p, (int)v) == root && p->values[v].last >= written)
            return;
    join(pl, n->out, s, 0, 0);
}

/* Liveness, each node's readers, and the computed values' bytes. */
static bool lives(struct plan *pl) {
    struct sn_program *p = pl->p;
    const int end = (int)p->node_count;
    for (size_t i = 0; i < p->node_count; i++) {
        struct sn_node *n = &p->nodes[i];
        for (int k = 0; k < n->input_count + 5; k++) {
            const int v = k < n->input_count    ? n->inputs[k]
                          : k == n->input_count ? n->bias
                                                : n->bn[k - n->input_count - 1];
            if (v < 0) continue;
            if (p->values[v].last < (int)i) p->values[v].last = (int)i;
            pl->readers[v]++;
            if (k >= n->input_count || k >= 32 || !(n->strided_inputs >> k & 1))
                pl->read_dense[v] = true;
        }
        p->values[n->out].first = (int)i;
        if (n->workspace_bytes > p->workspace_bytes) p->workspace_bytes = n->workspace_bytes;
    }
    for (size_t i = 0; i < p->value_count; i++) {
        struct sn_value *v = &p->values[i];
        if (v->kind != SN_VALUE_COMPUTED) continue;
        int64_t b = sn_tensor_bytes(&v->planned, v->dtype);
        if (b < 0) {
            sn_graph_fail(p->graph, SN_ERR_INVALID_ARGUMENT, "session: tensor %s is too large",
                          v->tensor->name);
            return false;
        }
        v->bytes = (size_t)b;
        if (v->fetched || v->last < v->first) v->last = end;
        pl->buffer_first[i] = v->first;
        pl->buffer_last[i] = v->last;
    }
    return true;
}

/* Places the blocks, largest first; equal sizes in order of first use, so
 * a chain alternates between two slots. */
static bool place(struct sn_program *p, struct block *blocks, struct block **order, size_t count) {
    for (size_t a = 0; a < count; a++) {
        size_t j = a;
        struct block *x = &blocks[a];
        while (j > 0 && (order[j - 1]->bytes < x->bytes ||
                         (order[j - 1]->bytes == x->bytes && order[j - 1]->first > x->first))) {
            order[j] = order[j - 1];
            j--;
        }
        order[j] = x;
    }
    p->arena_bytes = 0;
    p->arena_align = 64;
    for (size_t a = 0; a < count; a++) {
        struct block *x = order[a];
        size_t offset = x->skew, end;
        for (bool moved = true; moved;) {
            moved = false;
            for (size_t b = 0; b < a; b++) {
                const struct block *w = order[b];
                bool overlap_time = x->first <= w->last && w->first <= x->last;
                bool overlap_space = offset < w->offset + w->bytes && w->offset < offset + x->bytes;
                if (overlap_time && overlap_space) {
                    offset = w->offset + w->bytes;
                    offset = offset <= x->skew
                                 ? x->skew
                                 : ((offset - x->skew + x->align - 1) & ~(x->align - 1)) + x->skew;
                    moved = true;
                }
            }
        }
        x->offset = offset;
        if (!sn_add_size(offset, x->bytes, &end) || end > (size_t)PTRDIFF_MAX) {
            sn_graph_fail(p->graph, SN_ERR_OUT_OF_MEMORY, "session: the arena would pass %zu bytes",
                          (size_t)PTRDIFF_MAX);
            return false;
        }
        if (end > p->arena_bytes) p->arena_bytes = end;
        if (x->align > p->arena_align) p->arena_align = x->align;
    }
    return true;
}

bool sn_plan_memory(struct sn_program *p) {
    const size_t values = p->value_count + 1, blocks_max = p->value_count + p->node_count + 1;
    struct plan pl = {.p = p,
                      .readers = sn_calloc(values, sizeof(int)),
                      .buffer_first = sn_calloc(values, sizeof(int)),
                      .buffer_last = sn_calloc(values, sizeof(int)),
                      .read_dense = sn_calloc(values, sizeof(bool))};
    struct block *blocks = sn_malloc(blocks_max * sizeof *blocks);
    struct block **order = sn_malloc(blocks_max * sizeof *order);
    bool ok = false;
    if (!pl.readers || !pl.buffer_first || !pl.buffer_last || !pl.read_dense || !blocks || !order) {
        sn_graph_fail(p->graph, SN_ERR_OUT_OF_MEMORY, "out of memory planning the arena");
        goto done;
    }
    if (!lives(&pl)) goto done;
    for (size_t i = 0; i < p->node_count; i++)
        if (p->nodes[i].inputs_in_output) concat_parts(&pl, &p->nodes[i]);
    for (size_t i = 0; i < p->node_count; i++) slice_in_place(&pl, &p->nodes[i]);
    for (size_t i = 0; i < p->node_count; i++) share_buffer(&pl, i);
    for (size_t i = 0; i < p->node_count; i++) concat_over_slice(&pl, i);
    size_t count = 0;
    for (size_t i = 0; i < p->value_count; i++) {
        const struct sn_value *v = &p->values[i];
        if (v->kind == SN_VALUE_COMPUTED && v->view_of < 0)
            blocks[count++] = (struct block){.bytes = v->bytes,
                                             .align = 64,
                                             .first = pl.buffer_first[i],
                                             .last = pl.buffer_last[i],
                                             .value = (int)i};
    }
    for (size_t i = 0; i < p->node_count; i++) {
        const struct sn_node *n = &p->nodes[i];
        size_t bytes;
        if (!n->workspace_bytes) continue;
        if (!sn_add_size(n->workspace_bytes, 63, &bytes)) {
            sn_graph_fail(p->graph, SN_ERR_OUT_OF_MEMORY, "session: op %s's workspace is too large",
                          n->op->name);
            goto done;
        }
        blocks[count++] = (struct block){.bytes = bytes & ~(size_t)63,
                                         .align = n->workspace_align ? n->workspace_align : 64,
                                         .skew = n->workspace_align >= 4096 ? WORKSPACE_SKEW : 0,
                                         .first = (int)i,
                                         .last = (int)i,
                                         .value = -1};
    }
    if (!place(p, blocks, order, count)) goto done;
    for (size_t a = 0; a < count; a++) {
        if (blocks[a].value >= 0)
            p->values[blocks[a].value].offset = blocks[a].offset;
        else
            p->nodes[blocks[a].first].workspace_offset = blocks[a].offset;
    }
    /* a value in another's buffer sits where its part of it does */
    for (size_t i = 0; i < p->value_count; i++)
        if (p->values[i].view_of >= 0)
            p->values[i].offset = p->values[root_of(p, (int)i)].offset + offset_in_root(p, (int)i);
    ok = true;
done:
    sn_free(pl.readers);
    sn_free(pl.buffer_first);
    sn_free(pl.buffer_last);
    sn_free(pl.read_dense);
    sn_free(blocks);
    sn_free(order);
    return ok;
}
