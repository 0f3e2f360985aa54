/* Plan memory: one arena of bytes for the values the nodes compute and the
 * nodes' workspaces.
 *   - Liveness: a value lives from the node that makes it to the last that
 *     reads it (to the end if fetched).
 *   - Views: a node whose plan allows it (a reshape) has its output in its
 *     input's buffer, and one that may run in place (an elementwise op)
 *     writes over its input where that buffer dies at it. A buffer then
 *     lives as long as any value in it.
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

/* A buffer or a workspace to place. */
struct block {
    size_t bytes, align, offset;
    int first, last;
    int value; /* the buffer's value, or -1 for node `first`'s workspace */
};

static int root_of(const struct sn_program *p, int v) {
    while (p->values[v].view_of >= 0) v = p->values[v].view_of;
    return v;
}

/* Node i's output joins the buffer of input k if the plan allows it. */
static void share_buffer(struct sn_program *p, int *buffer_last, size_t i) {
    struct sn_node *n = &p->nodes[i];
    const int k = n->view_input >= 0 ? n->view_input : n->in_place_input;
    if (k < 0) return;
    struct sn_value *out = &p->values[n->out];
    const int in = n->inputs[k], root = root_of(p, in);
    const struct sn_value *r = &p->values[root];
    if (p->values[in].kind != SN_VALUE_COMPUTED || out->bytes > r->bytes) return;
    if (n->view_input < 0) {
        /* in place: nothing reads the buffer after this node, no other
         * input shares it, and the output has the input's shape */
        if (buffer_last[root] != (int)i || !sn_shape_equal(&p->values[in].planned, &out->planned))
            return;
        for (int j = 0; j < n->input_count; j++)
            if (j != k && p->values[n->inputs[j]].kind == SN_VALUE_COMPUTED &&
                root_of(p, n->inputs[j]) == root)
                return;
        if (n->bias >= 0 && p->values[n->bias].kind == SN_VALUE_COMPUTED &&
            root_of(p, n->bias) == root)
            return;
    }
    out->view_of = root;
    if (out->last > buffer_last[root]) buffer_last[root] = out->last;
    p->views++;
}

bool sn_plan_memory(struct sn_program *p) {
    const int end = (int)p->node_count;
    for (size_t i = 0; i < p->node_count; i++) {
        struct sn_node *n = &p->nodes[i];
        for (int k = 0; k < n->input_count; k++) {
            struct sn_value *v = &p->values[n->inputs[k]];
            if (v->last < (int)i) v->last = (int)i;
        }
        if (n->bias >= 0 && p->values[n->bias].last < (int)i) p->values[n->bias].last = (int)i;
        p->values[n->out].first = (int)i;
        if (n->workspace_bytes > p->workspace_bytes) p->workspace_bytes = n->workspace_bytes;
    }
    int *buffer_last = sn_malloc((p->value_count + 1) * sizeof *buffer_last);
    struct block *blocks = sn_malloc((p->value_count + p->node_count + 1) * sizeof *blocks);
    struct block **order = sn_malloc((p->value_count + p->node_count + 1) * sizeof *order);
    bool ok = false;
    if (!buffer_last || !blocks || !order) {
        sn_graph_fail(p->graph, SN_ERR_OUT_OF_MEMORY, "out of memory planning the arena");
        goto done;
    }
    for (size_t i = 0; i < p->value_count; i++) {
        struct sn_value *v = &p->values[i];
        if (v->kind != SN_VALUE_COMPUTED) continue;
        int64_t b = sn_tensor_bytes(&v->planned, v->dtype);
        if (b < 0) {
            sn_graph_fail(p->graph, SN_ERR_INVALID_ARGUMENT, "session: tensor %s is too large",
                          v->tensor->name);
            goto done;
        }
        v->bytes = (size_t)b;
        if (v->fetched || v->last < v->first) v->last = end;
        buffer_last[i] = v->last;
    }
    for (size_t i = 0; i < p->node_count; i++) share_buffer(p, buffer_last, i);
    size_t count = 0;
    for (size_t i = 0; i < p->value_count; i++) {
        const struct sn_value *v = &p->values[i];
        if (v->kind == SN_VALUE_COMPUTED && v->view_of < 0)
            blocks[count++] = (struct block){.bytes = v->bytes,
                                             .align = 64,
                                             .first = v->first,
                                             .last = buffer_last[i],
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
                                         .first = (int)i,
                                         .last = (int)i,
                                         .value = -1};
    }
    /* largest first; equal sizes in order of first use, so a chain
     * alternates between two slots */
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
        size_t offset = 0, end_at;
        for (bool moved = true; moved;) {
            moved = false;
            for (size_t b = 0; b < a; b++) {
                const struct block *w = order[b];
                bool overlap_time = x->first <= w->last && w->first <= x->last;
                bool overlap_space = offset < w->offset + w->bytes && w->offset < offset + x->bytes;
                if (overlap_time && overlap_space) {
                    offset = w->offset + w->bytes;
                    offset = (offset + x->align - 1) & ~(x->align - 1);
                    moved = true;
                }
            }
        }
        x->offset = offset;
        if (!sn_add_size(offset, x->bytes, &end_at) || end_at > (size_t)PTRDIFF_MAX) {
            sn_graph_fail(p->graph, SN_ERR_OUT_OF_MEMORY, "session: the arena would pass %zu bytes",
                          (size_t)PTRDIFF_MAX);
            goto done;
        }
        if (end_at > p->arena_bytes) p->arena_bytes = end_at;
        if (x->align > p->arena_align) p->arena_align = x->align;
        if (x->value >= 0)
            p->values[x->value].offset = offset;
        else
            p->nodes[x->first].workspace_offset = offset;
    }
    /* a view sits where its buffer does */
    for (size_t i = 0; i < p->value_count; i++)
        if (p->values[i].view_of >= 0) p->values[i].offset = p->values[p->values[i].view_of].offset;
    ok = true;
done:
    sn_free(buffer_last);
    sn_free(blocks);
    sn_free(order);
    return ok;
}
