/* `scopenn bench model NAME`: how fast a whole model of the zoo runs, and
 * where its time goes.
 *
 * The model is built as `scopenn run` builds it, on a placeholder
 * [1, H, W, 3] fed an image uniform on [-1, 1). Its weights come from a
 * file (loaded strictly) or, without one, are deterministic random values
 * that keep the activations finite and about their scale: He-uniform
 * weights (limit sqrt(6 / fan_in), fan_in the product of every dimension
 * but the last; a depthwise filter [kh, kw, c, 1] has kh * kw), ones for a
 * batch norm's gamma and moving_variance, zeros for the rest (biases,
 * beta, moving_mean). Then a first run, W warmup runs and N timed runs,
 * each timed alone. FLOPs are the session profile's (scopenn.h,
 * sn_profile_node.flops: a product counted as a direct convolution
 * whatever algorithm runs it), from one profiled run of a second session
 * when the timed one is not profiled, so that the times are those of an
 * unprofiled session. */
#include "bench_model.h"

#include "output.h"
#include "zoo.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "scopenn.h"

#define MAX_SIZE 4096
#define MAX_RUNS 1000000
/* The profile table's columns: longer names and types push the row on. */
#define NAME_WIDTH 36
#define TYPE_WIDTH 44

struct model_args {
    const char *model, *weights;
    int64_t size[2]; /* H, W */
    long threads, iters, warmup;
    int json, startup, profile, limit_isa;
    sn_isa isa;
};

static void print_usage(FILE *f) {
    fputs("usage: scopenn bench model NAME [--size HxW] [--threads N] [--isa NAME]\n"
          "                        [--iters N] [--warmup W] [--weights FILE] [--startup]\n"
          "                        [--profile] [--json]\n"
          "\n"
          "Times model NAME of the zoo on one image: ms per inference (median and min\n"
          "of N runs) and GFLOP/s (FLOPs counted as direct convolutions: 2 x multiply-\n"
          "adds of every conv and matmul, whatever algorithm runs it, and one per\n"
          "element of the other ops).\n"
          "\n"
          "  NAME            one of:",
          f);
    sn_cli_print_models(f);
    fputs("\n"
          "  --size HxW      the image (default 224x224)\n"
          "  --threads N     threads per run (default 1; 0: every online CPU)\n"
          "  --isa NAME      use no better kernel set than NAME (scalar|avx2|avx512|neon)\n"
          "  --iters N       timed runs (default 10)\n"
          "  --warmup W      untimed runs after the first (default 1)\n"
          "  --weights FILE  the model's variables (safetensors, loaded strictly); without\n"
          "                  it, deterministic random ones: He-uniform weights, ones for\n"
          "                  batch norms' gamma and variance, zeros for the rest\n"
          "  --startup       also time building the graph, setting the weights, creating\n"
          "                  the session (compiling, packing) and the first run; and the\n"
          "                  memory: packs, arena, the process's peak resident set\n"
          "  --profile       the session's profile over the timed runs: each node (an op\n"
          "                  with what got fused into it), slowest first: type, algorithm,\n"
          "                  mean ms, % of the nodes' total, GFLOP/s\n"
          "  --json          one JSON object: model, size, weights, isa, threads, warmup,\n"
          "                  iterations, median_ms, min_ms, flops, gflops, and startup\n"
          "                  {build_ms, weights_ms, session_ms, first_run_ms, packed_bytes,\n"
          "                  arena_bytes, peak_rss_bytes}, profile\n"
          "                  [{name, type, algorithm, ms, percent, flops, gflops}]\n",
          f);
}

SN_CLI_COMPLAINTS("bench model", print_usage)

static int is_value_flag(const char *f) {
    static const char *const flags[] = {"--size",  "--threads", "--isa",
                                        "--iters", "--warmup",  "--weights"};
    for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++)
        if (strcmp(f, flags[i]) == 0) return 1;
    return 0;
}

/* One flag's value into *a: 1, or 0 if it is bad. */
static int parse_value(const char *f, const char *v, struct model_args *a) {
    if (strcmp(f, "--size") == 0) return sn_cli_parse_dims(v, 2, MAX_SIZE, a->size);
    if (strcmp(f, "--threads") == 0) return sn_cli_parse_long(v, 0, 1024, &a->threads);
    if (strcmp(f, "--iters") == 0) return sn_cli_parse_long(v, 1, MAX_RUNS, &a->iters);
    if (strcmp(f, "--warmup") == 0) return sn_cli_parse_long(v, 0, MAX_RUNS, &a->warmup);
    if (strcmp(f, "--weights") == 0) return a->weights = v, 1;
    a->limit_isa = 1; /* --isa */
    return sn_isa_from_name(v, &a->isa) == SN_OK;
}

/* Parses argv[3...] into *a. Returns 0, or the exit code 2 after printing
 * usage; --help prints usage to `out` and returns -1. */
static int parse(int argc, char **argv, struct model_args *a, FILE *out, FILE *err) {
    *a = (struct model_args){.size = {224, 224}, .threads = 1, .iters = 10, .warmup = 1};
    for (int i = 3; i < argc; i++) {
        const char *f = argv[i];
        if (strcmp(f, "--help") == 0 || strcmp(f, "-h") == 0) {
            print_usage(out);
            return -1;
        } else if (strcmp(f, "--json") == 0) {
            a->json = 1;
        } else if (strcmp(f, "--startup") == 0) {
            a->startup = 1;
        } else if (strcmp(f, "--profile") == 0) {
            a->profile = 1;
        } else if (is_value_flag(f)) {
            const char *v = i + 1 < argc ? argv[++i] : NULL;
            if (!v) return usage_error(err, "%s needs a value", f);
            if (!parse_value(f, v, a)) return usage_error(err, "bad value '%s' for %s", v, f);
        } else if (f[0] == '-' && f[1] != '\0') {
            return usage_error(err, "unknown flag '%s'", f);
        } else if (a->model) {
            return usage_error(err, "extra argument '%s'", f);
        } else {
            a->model = f;
        }
    }
    if (!a->model) return usage_error(err, "NAME missing");
    if (!sn_cli_known_model(a->model)) return sn_cli_unknown_model(err, "bench model", a->model);
    return 0;
}

/* The next of a deterministic sequence, uniform on [-1, 1). */
static float uniform(uint32_t *seed) {
    *seed = *seed * 1664525u + 1013904223u;
    return (float)(*seed >> 8) / 8388608.0f - 1.0f;
}

/* A variable's random value (the file's comment says which). */
static void random_value(const sn_variable *v, float *x, int64_t count, uint32_t *seed) {
    const sn_shape s = sn_variable_shape(v);
    if (s.rank >= 2 && count > 0) {
        int64_t fan_in = count / s.dims[s.rank - 1];
        if (s.rank == 4 && s.dims[3] == 1) fan_in = s.dims[0] * s.dims[1]; /* depthwise */
        const float limit = sqrtf(6.0f / (float)(fan_in > 0 ? fan_in : 1));
        for (int64_t i = 0; i < count; i++) x[i] = limit * uniform(seed);
        return;
    }
    const char *name = strrchr(sn_variable_name(v), '/');
    name = name ? name + 1 : sn_variable_name(v);
    const float c = strcmp(name, "gamma") == 0 || strcmp(name, "moving_variance") == 0;
    for (int64_t i = 0; i < count; i++) x[i] = c;
}

/* Sets every variable of the graph to its random value. Returns 0, or 1
 * if out of memory. */
static int random_weights(sn_graph *g) {
    uint32_t seed = 1;
    for (size_t i = 0; i < sn_graph_variable_count(g); i++) {
        sn_variable *v = sn_graph_variable(g, i);
        const int64_t count = sn_variable_size(v);
        float *x = malloc((size_t)(count ? count : 1) * sizeof *x);
        if (!x) return 1;
        random_value(v, x, count, &seed);
        const sn_status st = sn_variable_assign(v, x, count);
        free(x);
        if (st != SN_OK) return 1;
    }
    return 0;
}

/* What a bench holds and measured; released at one place. */
struct bench {
    sn_graph *graph;
    sn_session *session;
    sn_tensor *images, *logits;
    float *input;
    double *times; /* seconds, sorted */
    sn_session_stats stats;
    double build_ms, weights_ms, session_ms, first_run_ms;
    long peak_rss_kb; /* after the timed runs; -1: unknown */
    int64_t flops;
    int finite; /* the first run's logits */
};

static void release(struct bench *b) {
    sn_session_destroy(b->session);
    sn_graph_destroy(b->graph);
    free(b->input);
    free(b->times);
}

static double since_ms(double start) { return 1e3 * (sn_cli_now_seconds() - start); }

/* The graph with its weights, the session, and an image. Returns 0, or 1
 * after printing why. */
static int prepare(struct bench *b, const struct model_args *a, FILE *err) {
    const sn_shape shape = SN_SHAPE(1, a->size[0], a->size[1], 3);
    double start = sn_cli_now_seconds();
    if (!(b->graph = sn_graph_create(NULL))) return fail(err, "out of memory");
    b->images = sn_placeholder(b->graph, "images", shape);
    if (!(b->logits = sn_cli_build_model(b->graph, a->model, b->images)))
        return fail(err, "%s cannot run on %lldx%lld images (too small?): %s", a->model,
                    (long long)a->size[0], (long long)a->size[1], sn_graph_error(b->graph));
    b->build_ms = since_ms(start);
    start = sn_cli_now_seconds();
    if (a->weights ? sn_cli_load_weights(b->graph, a->model, a->weights, "bench model", err)
                   : random_weights(b->graph) && fail(err, "out of memory"))
        return 1;
    b->weights_ms = since_ms(start);
    start = sn_cli_now_seconds();
    const sn_session_options opt = {.threads = (int)a->threads,
                                    .limit_isa = a->limit_isa,
                                    .max_isa = a->isa,
                                    .profile = a->profile};
    if (!(b->session = sn_session_create(b->graph, SN_FETCH(b->logits), &opt)))
        return fail(err, "%s", sn_graph_error(b->graph));
    b->session_ms = since_ms(start);
    sn_session_stats_get(b->session, &b->stats);
    const size_t count = (size_t)(shape.dims[1] * shape.dims[2] * 3);
    if (!(b->input = malloc(count * sizeof *b->input))) return fail(err, "out of memory");
    uint32_t seed = 12345;
    for (size_t i = 0; i < count; i++) b->input[i] = uniform(&seed);
    return 0;
}

/* One run of `s`; its logits in *out. Returns 0, or 1 after printing why. */
static int run_once(struct bench *b, sn_session *s, sn_output *out, FILE *err) {
    const sn_feed feed = {b->images, b->input, sn_tensor_shape(b->images)};
    if (sn_session_run(s, &feed, 1, out) == SN_OK) return 0;
    return fail(err, "%s", sn_session_error(s));
}

/* The first run, the warmup, then a->iters timed runs. */
static int time_runs(struct bench *b, const struct model_args *a, FILE *err) {
    sn_output out;
    double start = sn_cli_now_seconds();
    if (run_once(b, b->session, &out, err)) return 1;
    b->first_run_ms = since_ms(start);
    int64_t count = 1;
    for (int d = 0; d < out.shape.rank; d++) count *= out.shape.dims[d];
    b->finite = 1;
    for (int64_t i = 0; i < count; i++) b->finite &= isfinite(out.data[i]) != 0;
    for (long i = 0; i < a->warmup; i++)
        if (run_once(b, b->session, &out, err)) return 1;
    if (a->profile) sn_session_profile_reset(b->session); /* the timed runs only */
    if (!(b->times = malloc((size_t)a->iters * sizeof *b->times)))
        return fail(err, "out of memory");
    for (long i = 0; i < a->iters; i++) {
        start = sn_cli_now_seconds();
        if (run_once(b, b->session, &out, err)) return 1;
        b->times[i] = sn_cli_now_seconds() - start;
    }
    sn_cli_sort(b->times, (size_t)a->iters);
    /* before count_flops' second session adds its arena */
    struct rusage use;
    b->peak_rss_kb = getrusage(RUSAGE_SELF, &use) == 0 ? use.ru_maxrss : -1;
    return 0;
}

static int64_t profile_flops(const sn_profile *p) {
    int64_t flops = 0;
    for (size_t i = 0; i < p->count; i++) flops += p->nodes[i].flops;
    return flops;
}

/* The FLOPs of one inference: the timed session's profile, or one run of
 * a profiled twin (it shares the packs: S23). */
static int count_flops(struct bench *b, const struct model_args *a, FILE *err) {
    sn_profile p;
    if (a->profile) {
        sn_session_profile_get(b->session, &p);
        b->flops = profile_flops(&p);
        return 0;
    }
    const sn_session_options opt = {
        .threads = 1, .limit_isa = a->limit_isa, .max_isa = a->isa, .profile = true};
    sn_session *s = sn_session_create(b->graph, SN_FETCH(b->logits), &opt);
    if (!s) return fail(err, "%s", sn_graph_error(b->graph));
    sn_output out;
    int code = run_once(b, s, &out, err);
    sn_session_profile_get(s, &p);
    b->flops = profile_flops(&p);
    sn_session_destroy(s);
    return code;
}

/* The profile's nodes, slowest first (a list of pointers, malloc'd). */
static int slower(const void *x, const void *y) {
    const sn_profile_node *a = *(const sn_profile_node *const *)x,
                          *b = *(const sn_profile_node *const *)y;
    return (a->total_ns < b->total_ns) - (a->total_ns > b->total_ns);
}

static const sn_profile_node **by_time(const sn_profile *p) {
    const sn_profile_node **rows = malloc((p->count ? p->count : 1) * sizeof *rows);
    if (!rows) return NULL;
    for (size_t i = 0; i < p->count; i++) rows[i] = &p->nodes[i];
    qsort(rows, p->count, sizeof *rows, slower);
    return rows;
}

/* A node's row: mean ms per run, % of the nodes' total, GFLOP/s. */
struct row {
    double ms, percent, gflops;
};

static struct row row_of(const sn_profile *p, const sn_profile_node *n, uint64_t total) {
    const double ns = p->runs ? (double)n->total_ns / (double)p->runs : 0;
    return (struct row){.ms = ns * 1e-6,
                        .percent = total ? 100.0 * (double)n->total_ns / (double)total : 0,
                        .gflops = ns > 0 ? (double)n->flops / ns : 0};
}

static uint64_t total_ns(const sn_profile *p) {
    uint64_t total = 0;
    for (size_t i = 0; i < p->count; i++) total += p->nodes[i].total_ns;
    return total;
}

static double gflops_of(const struct bench *b, double seconds) {
    return seconds > 0 ? (double)b->flops / seconds * 1e-9 : 0;
}

static void print_text(FILE *out, const struct bench *b, const struct model_args *a,
                       const sn_profile_node **rows, const sn_profile *p) {
    const size_t n = (size_t)a->iters;
    const double median = sn_cli_median(b->times, n);
    fprintf(out, "model: %s %lldx%lld, batch 1, weights %s\n", a->model, (long long)a->size[0],
            (long long)a->size[1], a->weights ? a->weights : "random");
    fprintf(out, "isa: %s, threads: %d, runs: %zu (warmup %ld)\n", sn_isa_name(b->stats.isa),
            b->stats.threads, n, a->warmup);
    fprintf(out, "ms per inference: median %.*f, min %.*f\n", sn_cli_ms_decimals(1e3 * median),
            1e3 * median, sn_cli_ms_decimals(1e3 * b->times[0]), 1e3 * b->times[0]);
    fprintf(out, "GFLOP/s: %.2f at the median (%.4g GFLOP per inference)\n", gflops_of(b, median),
            (double)b->flops * 1e-9);
    if (a->startup) {
        fprintf(out, "startup ms: build %.3f, weights %.3f, session %.3f, first run %.3f\n",
                b->build_ms, b->weights_ms, b->session_ms, b->first_run_ms);
        fprintf(out,
                "startup: %.1f median runs (build + weights + session); first run %.2f x the "
                "median\n",
                (b->build_ms + b->weights_ms + b->session_ms) / (1e3 * median),
                b->first_run_ms / (1e3 * median));
        const double mb = 1.0 / (1 << 20), packs = (double)b->stats.packed_bytes * mb,
                     arena = (double)b->stats.arena_bytes * mb;
        if (b->peak_rss_kb >= 0)
            fprintf(out, "memory MB: packs %.1f, arena %.1f, peak RSS %.1f (packs + arena + %.1f)\n",
                    packs, arena, (double)b->peak_rss_kb / 1024,
                    (double)b->peak_rss_kb / 1024 - packs - arena);
    }
    if (!rows) return;
    const uint64_t total = total_ns(p);
    fprintf(out, "profile: %zu nodes, mean of %zu runs, slowest first\n", p->count, p->runs);
    fprintf(out, "%-*s %-*s %-9s %9s %6s %8s\n", NAME_WIDTH, "node", TYPE_WIDTH, "type",
            "algorithm", "ms", "%", "GFLOP/s");
    for (size_t i = 0; i < p->count; i++) {
        const struct row r = row_of(p, rows[i], total);
        const int pad = NAME_WIDTH - (int)strlen(rows[i]->name);
        sn_cli_print_name(out, rows[i]->name);
        fprintf(out, "%*s %-*s %-9s %9.4f %6.2f %8.2f\n", pad > 0 ? pad : 0, "", TYPE_WIDTH,
                rows[i]->type, rows[i]->algorithm, r.ms, r.percent, r.gflops);
    }
}

static cJSON *json_profile(const sn_profile_node **rows, const sn_profile *p) {
    cJSON *list = cJSON_CreateArray();
    const uint64_t total = total_ns(p);
    for (size_t i = 0; list && i < p->count; i++) {
        cJSON *o = cJSON_CreateObject();
        if (!o || !cJSON_AddItemToArray(list, o)) {
            cJSON_Delete(o);
            break;
        }
        const struct row r = row_of(p, rows[i], total);
        if (!cJSON_AddStringToObject(o, "name", rows[i]->name) ||
            !cJSON_AddStringToObject(o, "type", rows[i]->type) ||
            !cJSON_AddStringToObject(o, "algorithm", rows[i]->algorithm) ||
            !cJSON_AddNumberToObject(o, "ms", r.ms) ||
            !cJSON_AddNumberToObject(o, "percent", r.percent) ||
            !cJSON_AddNumberToObject(o, "flops", (double)rows[i]->flops) ||
            !cJSON_AddNumberToObject(o, "gflops", r.gflops))
            break;
        if (i + 1 == p->count) return list;
    }
    if (list && p->count == 0) return list;
    cJSON_Delete(list);
    return NULL;
}

static int print_json(FILE *out, FILE *err, const struct bench *b, const struct model_args *a,
                      const sn_profile_node **rows, const sn_profile *p) {
    const size_t n = (size_t)a->iters;
    const double median = sn_cli_median(b->times, n);
    cJSON *root = cJSON_CreateObject();
    int ok = root && cJSON_AddStringToObject(root, "model", a->model) &&
             sn_cli_add_dims(root, "size", a->size, 2) &&
             (a->weights ? cJSON_AddStringToObject(root, "weights", a->weights)
                         : cJSON_AddNullToObject(root, "weights")) &&
             cJSON_AddStringToObject(root, "isa", sn_isa_name(b->stats.isa)) &&
             cJSON_AddNumberToObject(root, "threads", b->stats.threads) &&
             cJSON_AddNumberToObject(root, "warmup", (double)a->warmup) &&
             cJSON_AddNumberToObject(root, "iterations", (double)n) &&
             cJSON_AddNumberToObject(root, "median_ms", 1e3 * median) &&
             cJSON_AddNumberToObject(root, "min_ms", 1e3 * b->times[0]) &&
             cJSON_AddNumberToObject(root, "flops", (double)b->flops) &&
             cJSON_AddNumberToObject(root, "gflops", gflops_of(b, median));
    if (ok && a->startup) {
        cJSON *s = cJSON_AddObjectToObject(root, "startup");
        ok = s && cJSON_AddNumberToObject(s, "build_ms", b->build_ms) &&
             cJSON_AddNumberToObject(s, "weights_ms", b->weights_ms) &&
             cJSON_AddNumberToObject(s, "session_ms", b->session_ms) &&
             cJSON_AddNumberToObject(s, "first_run_ms", b->first_run_ms) &&
             cJSON_AddNumberToObject(s, "packed_bytes", (double)b->stats.packed_bytes) &&
             cJSON_AddNumberToObject(s, "arena_bytes", (double)b->stats.arena_bytes) &&
             (b->peak_rss_kb < 0 ||
              cJSON_AddNumberToObject(s, "peak_rss_bytes", 1024.0 * (double)b->peak_rss_kb));
    }
    if (ok && rows) {
        cJSON *list = json_profile(rows, p);
        ok = list && cJSON_AddItemToObject(root, "profile", list);
        if (!ok) cJSON_Delete(list);
    }
    return sn_cli_print_json(root, ok, out, err);
}

int sn_cmd_bench_model(int argc, char **argv, FILE *out, FILE *err) {
    struct model_args a;
    int code = parse(argc, argv, &a, out, err);
    if (code) return code < 0 ? 0 : code;

    struct bench b = {0};
    if (prepare(&b, &a, err) || time_runs(&b, &a, err) || count_flops(&b, &a, err)) {
        release(&b);
        return 1;
    }
    if (a.limit_isa && b.stats.isa != a.isa)
        fprintf(err,
                "scopenn bench model: warning: --isa %s: this CPU or build cannot run it; using "
                "%s\n",
                sn_isa_name(a.isa), sn_isa_name(b.stats.isa));
    if (!b.finite) fprintf(err, "scopenn bench model: warning: the logits hold NaN or inf\n");
    sn_profile p = {0};
    const sn_profile_node **rows = NULL;
    if (a.profile) {
        sn_session_profile_get(b.session, &p);
        if (!(rows = by_time(&p))) code = fail(err, "out of memory");
    }
    if (!code) {
        if (a.json)
            code = print_json(out, err, &b, &a, rows, &p);
        else
            print_text(out, &b, &a, rows, &p);
    }
    free(rows);
    release(&b);
    return code;
}
