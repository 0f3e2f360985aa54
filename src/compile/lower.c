/* Lower: the shapes each node is planned for, then each node's plan (its
 * class chooses the algorithm, the packs, the workspace, views), then the
 * packs themselves. */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "algo/parallel.h"
#include "base/alloc.h"
#include "base/clock.h"
#include "compile/compile.h"
#include "graph/graph.h"
#include "scope/scope.h"

#define FAIL(p, status, ...) (sn_graph_fail((p)->graph, (status), __VA_ARGS__), false)

/* Shapes with every -1 batch at max_batch, in node order. */
static bool plan_shapes(struct sn_program *p) {
    for (size_t i = 0; i < p->value_count; i++) {
        struct sn_value *v = &p->values[i];
        v->planned = v->tensor->shape;
        if (v->kind == SN_VALUE_FEED)
            for (int d = 0; d < v->planned.rank; d++)
                if (v->planned.dims[d] < 0) {
                    if (d != 0)
                        return FAIL(
                            p, SN_ERR_INVALID_ARGUMENT,
                            "session: placeholder %s has an unknown dimension other than the "
                            "batch (dimension 0)",
                            v->tensor->op->name);
                    v->planned.dims[d] = p->max_batch;
                }
    }
    for (size_t i = 0; i < p->node_count; i++) {
        struct sn_node *n = &p->nodes[i];
        sn_shape in[4], *shapes = in;
        if (n->input_count > 4 && !(shapes = sn_malloc((size_t)n->input_count * sizeof *shapes)))
            return FAIL(p, SN_ERR_OUT_OF_MEMORY, "out of memory planning %s", n->op->name);
        for (int k = 0; k < n->input_count; k++) shapes[k] = p->values[n->inputs[k]].planned;
        char why[200];
        struct sn_value *out = &p->values[n->out];
        bool ok = sn_infer_shape(n->op->type, &n->op->attrs, shapes, n->input_count, &out->planned,
                                 why, sizeof why);
        if (shapes != in) sn_free(shapes);
        if (!ok) {
            /* An op valid only for some batches (a -1 batch broadcast with a
             * fixed size, say) need not accept max_batch: plan it by its
             * build-time shape; each run checks its real size. */
            out->planned = out->tensor->shape;
            for (int d = 0; d < out->planned.rank; d++)
                if (out->planned.dims[d] < 0) out->planned.dims[d] = p->max_batch;
        }
    }
    return true;
}

/* A pack use's sources as the pack cache sees them: variables'
 * identities, versions and values; computed values' planned shapes. */
static void sources_of(const struct sn_program *p, const struct sn_pack_use *use,
                       struct sn_pack_source *out, bool *all_variables) {
    *all_variables = true;
    for (int k = 0; k < use->source_count; k++) {
        const struct sn_value *v = &p->values[use->sources[k]];
        if (v->kind == SN_VALUE_VARIABLE) {
            out[k] = sn_variable_source(v->tensor->op->variable);
        } else {
            out[k] = (struct sn_pack_source){.shape = v->planned};
            *all_variables = false;
        }
    }
}

/* The new packs of a session, reserved as its nodes are planned, then
 * made together on its threads (make_packs), each with the use whose
 * variables it reads. */
struct pending {
    struct sn_pack *pack;
    const struct sn_pack_use *use;
};

/* The use's variables, packed, need not stay resident as they were. */
static void evict_sources(const struct sn_program *p, const struct sn_pack_use *use) {
    for (int k = 0; k < use->source_count; k++)
        sn_variable_evict(p->values[use->sources[k]].tensor->op->variable);
}

/* A pack use: the cache's pack when every source is a variable (a new
 * one reserved in pending[], to be made by make_packs); else a buffer
 * packed at each run (with the packing's own scratch), or, for the
 * reference layout of one value, the value as it is. */
static bool get_pack(struct sn_program *p, struct sn_node *n, struct sn_pack_use *use,
                     struct pending *pending, size_t *pending_count) {
    struct sn_pack_source sources[SN_PACK_SOURCES];
    bool variables;
    sources_of(p, use, sources, &variables);
    const size_t count = (size_t)use->source_count;
    if (!variables) {
        if (use->packer == &sn_packer_reference) return true; /* read as it is */
        const size_t floats = sn_packed_floats(use->packer, &use->params, sources, count, use->nr),
                     temp =
                         sn_pack_scratch_floats(use->packer, &use->params, sources, count, use->nr);
        if (!(use->scratch = sn_aligned_alloc(64, floats * sizeof(float) + 64)) ||
            (temp && !(use->temp = sn_aligned_alloc(64, temp * sizeof(float)))))
            return FAIL(p, SN_ERR_OUT_OF_MEMORY, "out of memory compiling %s", n->op->name);
        return true;
    }
    bool made = false, reserved = false;
    struct sn_pack *pack = sn_pack_reserve(p->graph->packs, use->packer, use->nr, &use->params,
                                           sources, count, &made, &reserved);
    if (!pack)
        return FAIL(p, SN_ERR_OUT_OF_MEMORY, "out of memory packing the weights of %s",
                    n->op->name);
    use->cached = pack;
    made ? p->packs_made++ : p->packs_reused++;
    size_t j = 0;
    while (j < p->pack_count && p->packs[j] != pack) j++;
    if (j == p->pack_count) {
        p->packs[p->pack_count++] = pack;
        p->packed_bytes += pack->bytes;
        if (reserved) pending[(*pending_count)++] = (struct pending){pack, use};
    }
    if (made && !reserved) { /* repacked now: the sources' versions changed */
        evict_sources(p, use);
        p->pack_ms += pack->pack_ms;
    }
    return true;
}

/* Largest first: a thread that takes the last pack is then soon done. */
static int larger_first(const void *a, const void *b) {
    const size_t x = ((const struct pending *)a)->pack->bytes,
                 y = ((const struct pending *)b)->pack->bytes;
    return x < y ? 1 : x > y ? -1 : 0;
}

struct make_task {
    const struct sn_program *p;
    const struct pending *pending;
    size_t count;
    atomic_size_t next;
    float **scratch; /* one per call */
};

/* Call k of [begin, begin + count) packs the next pack, with scratch k,
 * until none is left. */
static void make_calls(void *context, size_t begin, size_t count) {
    struct make_task *t = context;
    for (size_t k = begin; k < begin + count; k++)
        for (size_t i; (i = atomic_fetch_add(&t->next, 1)) < t->count;) {
            sn_pack_fill(t->pending[i].pack, t->scratch[k]);
            evict_sources(t->p, t->pending[i].use);
        }
}

/* Makes the packs reserved, on the session's threads (each its own
 * scratch; the cache's for the first), under the cache's lock. Fewer
 * threads where there is no memory for their scratch. */
static void make_packs(struct sn_program *p, struct pending *pending, size_t count) {
    if (!count) return;
    struct sn_pack_cache *c = p->graph->packs;
    qsort(pending, count, sizeof *pending, larger_first);
    size_t floats = 0, calls = p->threads->count < count ? p->threads->count : count;
    for (size_t i = 0; i < count; i++)
        if (pending[i].pack->scratch_floats > floats) floats = pending[i].pack->scratch_floats;
    sn_pack_lock(c);
    float *first = sn_pack_cache_scratch(c), **scratch = NULL;
    if (calls > 1 && (scratch = sn_calloc(calls, sizeof *scratch)))
        for (size_t k = 1; k < calls && floats; k++)
            if (!(scratch[k] = sn_aligned_alloc(64, floats * sizeof(float)))) calls = k;
    if (!scratch) scratch = &first, calls = 1;
    scratch[0] = first;
    struct make_task t = {.p = p, .pending = pending, .count = count, .scratch = scratch};
    atomic_init(&t.next, 0);
    const double start = sn_now_ms();
    sn_parallel(p->threads, make_calls, &t, calls);
    p->pack_ms += sn_now_ms() - start;
    sn_pack_unlock(c);
    if (scratch != &first) {
        for (size_t k = 1; k < calls; k++) sn_aligned_free(scratch[k]);
        sn_free(scratch);
    }
}

bool sn_lower(struct sn_program *p) {
    sn_graph *g = p->graph;
    if (!plan_shapes(p)) return false;
    if (!g->packs && !(g->packs = sn_pack_cache_create()))
        return FAIL(p, SN_ERR_OUT_OF_MEMORY, "out of memory for the pack cache");
    if (!(p->packs = sn_calloc(p->node_count * SN_NODE_PACKS + 1, sizeof *p->packs)))
        return FAIL(p, SN_ERR_OUT_OF_MEMORY, "out of memory compiling a session");
    const struct sn_plan plan = {.isa = p->kernels->isa,
                                 .threads = p->threads,
                                 .direct_conv = p->direct_conv,
                                 .direct_matmul = p->direct_matmul,
                                 .values = p->values};
    p->zeros = 1; /* the products ask for theirs */
    struct pending *pending = sn_malloc((p->node_count * SN_NODE_PACKS + 1) * sizeof *pending);
    if (!pending) return FAIL(p, SN_ERR_OUT_OF_MEMORY, "out of memory compiling a session");
    size_t pending_count = 0;
    bool ok = true;
    for (size_t i = 0; ok && i < p->node_count; i++) {
        struct sn_node *n = &p->nodes[i];
        char why[200] = "";
        const sn_dtype dtype = p->values[n->out].dtype;
        if (!(n->kernels = sn_kernels_get(dtype, plan.isa))) {
            ok = FAIL(p, SN_ERR_INVALID_ARGUMENT,
                      "session: op %s computes in %s, which no kernel does", n->op->name,
                      sn_dtype_name(dtype));
        } else if (n->cls->plan && !n->cls->plan(&plan, n, why, sizeof why)) {
            ok =
                FAIL(p, SN_ERR_INVALID_ARGUMENT, "session: op %s cannot run: %s", n->op->name, why);
        }
        for (int k = 0; ok && k < SN_NODE_PACKS; k++)
            if (n->packs[k].packer) ok = get_pack(p, n, &n->packs[k], pending, &pending_count);
        if (n->zeros > p->zeros) p->zeros = n->zeros;
    }
    /* a pack reserved by a session that fails stays pending: the next
     * session to find it packs it (sn_pack_reserve) */
    if (ok) make_packs(p, pending, pending_count);
    sn_free(pending);
    return ok;
}
