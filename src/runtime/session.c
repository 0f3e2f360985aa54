/* Sessions: create compiles the graph (src/compile: prune, fuse, lower,
 * plan memory); run binds the feeds, repacks what changed, and runs each
 * node through its op class, without allocating; a profiled session's run
 * times each node. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "base/alloc.h"
#include "compile/compile.h"
#include "cpu/features.h"
#include "graph/graph.h"
#include "scope/scope.h"

struct sn_session {
    struct sn_program program;
    struct sn_threads threads;
    unsigned char *arena;
    float *zeros;      /* the bias of a product without one: program.zeros floats */
    sn_shape *shapes;  /* a node's input shapes at a run: as many as the most inputs */
    size_t packs_made; /* at create, then each repack at a run (S24) */
    double pack_ms;
    char error[512];
    /* options.profile: one per node, or NULL; their types' text; the
     * running run's times, kept only if it succeeds */
    sn_profile_node *profile;
    char *profile_types;
    uint64_t *profile_ns;
    size_t profile_runs;
    uint64_t profile_run_ns;
};

/* ---- create -------------------------------------------------------------- */

static bool check_fetches(sn_graph *g, sn_tensor *const *fetches, size_t fetch_count,
                          const sn_session_options *opt) {
    if (!fetches || fetch_count == 0) {
        sn_graph_fail(g, SN_ERR_INVALID_ARGUMENT, "session: no fetches");
        return false;
    }
    for (size_t i = 0; i < fetch_count; i++)
        if (!fetches[i] || fetches[i]->op->graph != g) {
            sn_graph_fail(g, SN_ERR_INVALID_ARGUMENT, "session: fetch %zu is %s", i,
                          fetches[i] ? "a tensor of another graph" : "NULL");
            return false;
        }
    if (opt->threads < 0 || opt->max_batch < 0 ||
        (opt->limit_isa && (unsigned)opt->max_isa >= SN_ISA_COUNT)) {
        sn_graph_fail(g, SN_ERR_INVALID_ARGUMENT,
                      "session: options out of range (threads %d, max_batch %d)", opt->threads,
                      opt->max_batch);
        return false;
    }
    return true;
}

/* The kernel set: the process's choice, under the session's cap. */
static const struct sn_kernels *kernels_of(const sn_session_options *opt) {
    sn_cpu_info info;
    sn_cpu_info_get(&info);
    sn_isa isa = info.isa;
    if (opt->limit_isa) {
        /* the cap's rules, as for SCOPENN_ISA (another architecture's ISA
         * leaves scalar), under the process's own choice: within one
         * architecture's ladder the enum order is the ladder's */
        sn_isa_choice capped;
        sn_isa_choose(sn_cpu_arch(), info.features, opt->max_isa, "max_isa", &capped);
        if (capped.isa < isa) isa = capped.isa;
    }
    return sn_kernels_for(isa) ? sn_kernels_for(isa) : sn_kernels_for(SN_ISA_SCALAR);
}

/* The threads: a pool unless one thread, and a share range each. */
static bool start_threads(sn_session *s, int threads) {
    sn_graph *g = s->program.graph;
    s->threads.count = 1;
    if (threads != 1) {
        const int err = sn_pool_create((size_t)threads, NULL, &s->threads.pool);
        if (err && err != ENOMEM) { /* too many, or the system's limit on threads (EAGAIN) */
            sn_graph_fail(g, err == EINVAL ? SN_ERR_INVALID_ARGUMENT : SN_ERR_OUT_OF_MEMORY,
                          "session: cannot start %d threads (at most %d): %s", threads,
                          (int)SN_POOL_MAX_THREADS, strerror(err));
            return false;
        }
        if (err)
            return sn_graph_fail(g, SN_ERR_OUT_OF_MEMORY, "out of memory creating a session"),
                   false;
        s->threads.count = sn_pool_threads(s->threads.pool);
        if (s->threads.count <= 1) sn_pool_destroy(s->threads.pool), s->threads.pool = NULL;
    }
    if (!(s->threads.ranges = sn_aligned_alloc(64, s->threads.count * sizeof *s->threads.ranges)))
        return sn_graph_fail(g, SN_ERR_OUT_OF_MEMORY, "out of memory creating a session"), false;
    return true;
}

static bool compile(sn_session *s, sn_tensor *const *fetches, size_t fetch_count) {
    struct sn_program *p = &s->program;
    const size_t n = p->graph->op_count;
    struct sn_usage u = {0};
    bool ok = false;
    if (!(u.needed = sn_calloc(n, 1)) || !(u.fetched = sn_calloc(n, 1)) ||
        !(u.covered = sn_calloc(n, 1)) || !(u.uses = sn_calloc(n, sizeof(int))) ||
        !(u.only_user = sn_calloc(n, sizeof(int))) ||
        !(u.value_of_op = sn_malloc(n * sizeof(int))) ||
        !(p->nodes = sn_calloc(n, sizeof *p->nodes)) ||
        !(p->values = sn_calloc(n, sizeof *p->values)) ||
        !(p->fetches = sn_malloc(fetch_count * sizeof(int)))) {
        sn_graph_fail(p->graph, SN_ERR_OUT_OF_MEMORY, "out of memory creating a session");
        goto done;
    }
    for (size_t i = 0; i < n; i++) u.value_of_op[i] = -1;
    p->fetch_count = fetch_count;
    for (size_t i = 0; i < fetch_count; i++)
        p->fetches[i] = (int)fetches[i]->op->index; /* op indices until sn_fuse */
    ok =
        sn_prune(p, &u, fetches, fetch_count) && sn_fuse(p, &u) && sn_lower(p) && sn_plan_memory(p);
done:
    sn_free(u.needed);
    sn_free(u.fetched);
    sn_free(u.covered);
    sn_free(u.uses);
    sn_free(u.only_user);
    sn_free(u.value_of_op);
    return ok;
}

static const char *const algorithm_names[] = {
    [SN_ALGO_KERNEL] = "kernel", [SN_ALGO_REFERENCE] = "reference", [SN_ALGO_DIRECT] = "direct",
    [SN_ALGO_GEMM] = "gemm",     [SN_ALGO_WINOGRAD] = "winograd",   [SN_ALGO_STRASSEN] = "strassen",
    [SN_ALGO_VIEW] = "view",
};

/* Appends the types of node n's ops, "Conv2D+BiasAdd+Relu", at `text`;
 * returns the bytes written with the NUL (or that would be, if NULL). */
static size_t node_types(const struct sn_node *n, char *text) {
    size_t length = 0;
    for (int k = -1; k < n->fused_count; k++) {
        const char *type = sn_op_type_name((k < 0 ? n->op : n->fused[k])->type);
        const size_t size = strlen(type);
        if (text) {
            if (k >= 0) text[length] = '+';
            memcpy(text + length + (k >= 0), type, size);
        }
        length += size + (k >= 0);
    }
    if (text) text[length] = '\0';
    return length + 1;
}

/* The profile's nodes: names, types and algorithms; times and flops 0. */
static bool start_profile(sn_session *s) {
    const struct sn_program *p = &s->program;
    size_t text = 0;
    for (size_t i = 0; i < p->node_count; i++) text += node_types(&p->nodes[i], NULL);
    if (!(s->profile = sn_calloc(p->node_count + 1, sizeof *s->profile)) ||
        !(s->profile_types = sn_malloc(text + 1)) ||
        !(s->profile_ns = sn_calloc(p->node_count + 1, sizeof *s->profile_ns)))
        return sn_graph_fail(p->graph, SN_ERR_OUT_OF_MEMORY, "out of memory creating a session"),
               false;
    char *at = s->profile_types;
    for (size_t i = 0; i < p->node_count; i++) {
        const struct sn_node *n = &p->nodes[i];
        s->profile[i] = (sn_profile_node){
            .name = n->op->name, .type = at, .algorithm = algorithm_names[n->algorithm]};
        at += node_types(n, at);
    }
    return true;
}

void sn_session_destroy(sn_session *s) {
    if (!s) return;
    sn_program_release(&s->program);
    sn_aligned_free(s->threads.ranges);
    sn_pool_destroy(s->threads.pool);
    sn_aligned_free(s->zeros);
    sn_free(s->shapes);
    sn_aligned_free(s->arena);
    sn_free(s->profile);
    sn_free(s->profile_types);
    sn_free(s->profile_ns);
    sn_free(s);
}

sn_session *sn_session_create(sn_graph *g, sn_tensor *const *fetches, size_t fetch_count,
                              const sn_session_options *options) {
    if (!g || sn_graph_failed(g)) return NULL;
    sn_session_options opt = options ? *options : (sn_session_options){0};
    if (!check_fetches(g, fetches, fetch_count, &opt)) return NULL;
    sn_session *s = sn_calloc(1, sizeof *s);
    if (!s) {
        sn_graph_fail(g, SN_ERR_OUT_OF_MEMORY, "out of memory creating a session");
        return NULL;
    }
    struct sn_program *p = &s->program;
    *p = (struct sn_program){.graph = g,
                             .kernels = kernels_of(&opt),
                             .threads = &s->threads,
                             .direct_conv = opt.direct_conv,
                             .direct_matmul = opt.direct_matmul,
                             .max_batch = opt.max_batch ? opt.max_batch : 1};
    if (!start_threads(s, opt.threads) || !compile(s, fetches, fetch_count)) goto fail;
    const size_t zeros = (p->zeros * sizeof(float) + 63) & ~(size_t)63;
    size_t inputs = 1;
    for (size_t i = 0; i < p->node_count; i++)
        if ((size_t)p->nodes[i].input_count > inputs) inputs = (size_t)p->nodes[i].input_count;
    if (!(s->zeros = sn_aligned_alloc(64, zeros)) ||
        !(s->shapes = sn_malloc(inputs * sizeof *s->shapes)) ||
        (p->arena_bytes && !(s->arena = sn_aligned_alloc(p->arena_align, p->arena_bytes)))) {
        sn_graph_fail(g, SN_ERR_OUT_OF_MEMORY, "out of memory for the session's arena");
        goto fail;
    }
    memset(s->zeros, 0, zeros);
    /* fault the arena in now, so that the first run costs what the next do */
    if (p->arena_bytes) memset(s->arena, 0, p->arena_bytes);
    if (opt.profile && !start_profile(s)) goto fail;
    s->packs_made = p->packs_made;
    s->pack_ms = p->pack_ms;
    return s;
fail:
    sn_session_destroy(s);
    return NULL;
}

void sn_session_stats_get(const sn_session *s, sn_session_stats *st) {
    if (!s || !st) return;
    const struct sn_program *p = &s->program;
    size_t winograd = 0, strassen = 0;
    for (size_t i = 0; i < p->node_count; i++) {
        winograd += p->nodes[i].algorithm == SN_ALGO_WINOGRAD;
        strassen += p->nodes[i].algorithm == SN_ALGO_STRASSEN;
    }
    *st = (sn_session_stats){
        .ops = p->node_count,
        .fused = p->fused,
        .packs_made = s->packs_made,
        .packs_reused = p->packs_reused,
        .packed_bytes = p->packed_bytes,
        .pack_ms = s->pack_ms,
        .arena_bytes = p->arena_bytes,
        .isa = p->kernels->isa,
        .threads = (int)s->threads.count,
        .winograd = winograd,
        .strassen = strassen,
        .views = p->views,
        .workspace_bytes = p->workspace_bytes,
    };
}

const char *sn_session_error(const sn_session *s) { return s ? s->error : "session is NULL"; }

/* ---- run ----------------------------------------------------------------- */

/* Records a run error in the session's own buffer (no allocation). */
static sn_status run_fail(sn_session *s, sn_status st, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

static sn_status run_fail(sn_session *s, sn_status st, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->error, sizeof s->error, fmt, ap);
    va_end(ap);
    return st;
}

/* Checks the feeds and points each placeholder's value at its data. */
static sn_status bind_feeds(sn_session *s, const sn_feed *feeds, size_t feed_count) {
    struct sn_program *p = &s->program;
    for (size_t i = 0; i < p->value_count; i++) {
        struct sn_value *v = &p->values[i];
        v->data = NULL;
        if (v->kind == SN_VALUE_VARIABLE) {
            v->data = sn_variable_data(v->tensor->op->variable);
            v->shape = v->tensor->shape;
        } else if (v->kind == SN_VALUE_CONST) {
            v->data = &v->tensor->op->attrs.value;
            v->shape = SN_SCALAR;
        }
    }
    if (feed_count && !feeds) return run_fail(s, SN_ERR_INVALID_ARGUMENT, "feeds is NULL");
    for (size_t i = 0; i < feed_count; i++) {
        const sn_feed *f = &feeds[i];
        struct sn_value *v = NULL;
        for (size_t k = 0; f->placeholder && k < p->value_count; k++)
            if (p->values[k].tensor == f->placeholder) v = &p->values[k];
        if (!v || v->kind != SN_VALUE_FEED)
            return run_fail(s, SN_ERR_INVALID_ARGUMENT,
                            "feed %zu (%s) is not a placeholder this session reads", i,
                            f->placeholder ? f->placeholder->name : "NULL");
        if (v->data)
            return run_fail(s, SN_ERR_INVALID_ARGUMENT, "placeholder %s is fed twice",
                            v->tensor->name);
        if (!f->data)
            return run_fail(s, SN_ERR_INVALID_ARGUMENT, "the feed for %s has no data (NULL)",
                            v->tensor->name);
        const sn_shape *want = &v->tensor->shape;
        bool ok = f->shape.rank == want->rank;
        for (int d = 0; ok && d < want->rank; d++)
            ok = want->dims[d] < 0 ? f->shape.dims[d] >= 0 && f->shape.dims[d] <= p->max_batch
                                   : f->shape.dims[d] == want->dims[d];
        if (!ok) {
            char got[160], expected[160];
            sn_shape_format(&f->shape, got, sizeof got);
            sn_shape_format(want, expected, sizeof expected);
            return run_fail(
                s, SN_ERR_SHAPE_MISMATCH,
                "the feed for %s has shape %s; the placeholder is %s (batch at most %lld, "
                "the session's max_batch)",
                v->tensor->name, got, expected, (long long)p->max_batch);
        }
        v->data = f->data;
        v->shape = f->shape;
    }
    for (size_t i = 0; i < p->value_count; i++)
        if (p->values[i].kind == SN_VALUE_FEED && !p->values[i].data)
            return run_fail(s, SN_ERR_INVALID_ARGUMENT, "placeholder %s is not fed",
                            p->values[i].tensor->name);
    return SN_OK;
}

/* Pack use k of node n this run: its cached pack, its buffer packed now
 * from the computed value, the value as it is, or NULL if unused. */
static const float *pack_data(const struct sn_program *p, const struct sn_pack_use *use) {
    if (!use->packer) return NULL;
    if (use->cached) return use->cached->data;
    if (!use->scratch) return p->values[use->sources[0]].data;
    struct sn_pack_source sources[SN_PACK_SOURCES];
    for (int k = 0; k < use->source_count; k++) {
        const struct sn_value *v = &p->values[use->sources[k]];
        sources[k] = (struct sn_pack_source){.data = v->data, .shape = v->shape};
    }
    sn_pack_now(use->packer, &use->params, sources, (size_t)use->source_count, use->nr, use->temp,
                use->scratch);
    return use->scratch;
}

/* Node i's output for this run: its shape from the inputs' and its place. */
static sn_status prepare_output(sn_session *s, const struct sn_node *n) {
    struct sn_program *p = &s->program;
    struct sn_value *out = &p->values[n->out];
    for (int j = 0; j < n->input_count; j++) s->shapes[j] = p->values[n->inputs[j]].shape;
    char why[200];
    if (!sn_infer_shape(n->op->type, &n->op->attrs, s->shapes, n->input_count, &out->shape, why,
                        sizeof why))
        return run_fail(s, SN_ERR_SHAPE_MISMATCH, "op %s: %s", n->op->name, why);
    int64_t bytes = sn_tensor_bytes(&out->shape, out->dtype);
    if (bytes < 0 || (size_t)bytes > out->bytes)
        return run_fail(s, SN_ERR_SHAPE_MISMATCH,
                        "op %s: its output outgrows the plan (a batch above max_batch?)",
                        n->op->name);
    /* no arena when every tensor in it is empty: NULL + 0 is undefined */
    out->data = s->arena ? s->arena + out->offset : NULL;
    return SN_OK;
}

/* Node n's run: its output placed, its packs of computed values packed,
 * its class's run. */
static sn_status run_node(sn_session *s, struct sn_exec *x, const struct sn_node *n) {
    const struct sn_program *p = &s->program;
    const sn_status st = prepare_output(s, n);
    if (st != SN_OK) return st;
    /* a batch of 0: nothing to compute (the algorithms divide by it) */
    if (sn_shape_elements(&p->values[n->out].shape) == 0) return SN_OK;
    x->kernels = n->kernels;
    x->workspace = n->workspace_bytes ? s->arena + n->workspace_offset : NULL;
    for (int k = 0; k < SN_NODE_PACKS; k++) x->packed[k] = pack_data(p, &n->packs[k]);
    n->cls->run(x, n);
    return SN_OK;
}

/* A run's start: the outputs' pointer checked, the feeds bound, the packs
 * of changed variables made again (S24). */
static sn_status start_run(sn_session *s, const sn_feed *feeds, size_t feed_count,
                           const sn_output *outputs) {
    struct sn_program *p = &s->program;
    s->error[0] = '\0';
    if (!outputs) return run_fail(s, SN_ERR_INVALID_ARGUMENT, "outputs is NULL");
    sn_status st = bind_feeds(s, feeds, feed_count);
    if (st != SN_OK) return st;
    for (size_t i = 0; i < p->pack_count; i++)
        if (sn_pack_refresh(p->graph->packs, p->packs[i])) { /* S24 */
            s->packs_made++;
            s->pack_ms += p->packs[i]->pack_ms;
        }
    return SN_OK;
}

static struct sn_exec exec_of(sn_session *s) {
    return (struct sn_exec){.threads = &s->threads, .values = s->program.values, .zeros = s->zeros};
}

static void fetch(const sn_session *s, sn_output *outputs) {
    const struct sn_program *p = &s->program;
    for (size_t i = 0; i < p->fetch_count; i++) {
        const struct sn_value *v = &p->values[p->fetches[i]];
        outputs[i] = (sn_output){v->data, v->shape};
    }
}

static uint64_t now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

/* sn_session_run with each node timed: kept apart so that a session
 * without the profile reads no clock. */
static sn_status run_profiled(sn_session *s, const sn_feed *feeds, size_t feed_count,
                              sn_output *outputs) {
    const struct sn_program *p = &s->program;
    const uint64_t start = now_ns();
    sn_status st = start_run(s, feeds, feed_count, outputs);
    struct sn_exec x = exec_of(s);
    for (size_t i = 0; st == SN_OK && i < p->node_count; i++) {
        const uint64_t t = now_ns();
        st = run_node(s, &x, &p->nodes[i]);
        s->profile_ns[i] = now_ns() - t;
    }
    if (st != SN_OK) return st;
    fetch(s, outputs);
    s->profile_run_ns = now_ns() - start;
    s->profile_runs++;
    for (size_t i = 0; i < p->node_count; i++) {
        s->profile[i].ns = s->profile_ns[i];
        s->profile[i].total_ns += s->profile_ns[i];
        s->profile[i].flops = sn_node_flops(&p->nodes[i], p->values, s->shapes);
    }
    return SN_OK;
}

sn_status sn_session_run(sn_session *s, const sn_feed *feeds, size_t feed_count,
                         sn_output *outputs) {
    if (!s) return SN_ERR_INVALID_ARGUMENT;
    if (s->profile) return run_profiled(s, feeds, feed_count, outputs);
    const struct sn_program *p = &s->program;
    sn_status st = start_run(s, feeds, feed_count, outputs);
    struct sn_exec x = exec_of(s);
    for (size_t i = 0; st == SN_OK && i < p->node_count; i++) st = run_node(s, &x, &p->nodes[i]);
    if (st == SN_OK) fetch(s, outputs);
    return st;
}

/* ---- profile ------------------------------------------------------------- */

sn_status sn_session_profile_get(const sn_session *s, sn_profile *profile) {
    if (!profile) return SN_ERR_INVALID_ARGUMENT;
    *profile = (sn_profile){0};
    if (!s || !s->profile) return SN_ERR_INVALID_ARGUMENT;
    *profile = (sn_profile){.nodes = s->profile,
                            .count = s->program.node_count,
                            .runs = s->profile_runs,
                            .run_ns = s->profile_run_ns};
    return SN_OK;
}

sn_status sn_session_profile_reset(sn_session *s) {
    if (!s || !s->profile) return SN_ERR_INVALID_ARGUMENT;
    for (size_t i = 0; i < s->program.node_count; i++) s->profile[i].total_ns = 0;
    s->profile_runs = 0;
    return SN_OK;
}
