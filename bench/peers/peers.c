/* peers: the named workloads of `scopenn bench` run through XNNPACK and
 * oneDNN (and scopenn), timed as `scopenn bench` times them, one JSON
 * object per line; or, with --verify, each peer's output checked against
 * scopenn's for the same input and weights.
 *
 *   peers [WORKLOAD...] [--peer NAME]... [--threads N] [--iters N] [--warmup W]
 *   peers [WORKLOAD...] --verify [--threads N]
 *   peers model NAME [--weights CKPT] [--size HxW] [--threads T] [--iters N] [--warmup W]
 *   peers model NAME [--weights CKPT [--input INPUT]] --verify [--size HxW] [--threads T]
 *
 * The model mode (XNNPACK only) runs a whole network of scopenn's zoo:
 * see peers-model.c.
 *
 * bench/peers/compare.sh (`make bench-peers`) puts these lines and `scopenn
 * bench --json` side by side in one table. */
#include "peers.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#if SN_PEER_XNNPACK
#include "scopenn_models.h"
#endif

#define CONV(name, n, h, w, c, kh, kw, oc, s, same)                                                \
    { name, PEER_CONV2D, {n, h, w, c}, {kh, kw, c, oc}, s, same, 0, 0, 0 }
#define MATMUL(name, m, k, n)                                                                      \
    { name, PEER_MATMUL, {0}, {0}, 0, 0, m, k, n }

/* The named workloads of tools/bench.c, in its order: keep them in step
 * (compare.sh checks that both count the same MACs). Its depthwise ones
 * (dw3x3, dw3x3s2, dw5x5, dw5x5s2) have no peer here yet. */
static const struct workload named[] = {
    CONV("seed_filter", 1, 64, 64, 32, 5, 5, 32, 1, 1),
    CONV("seed_filter_big", 1, 224, 224, 32, 5, 5, 32, 1, 1),
    CONV("resnet3x3", 1, 56, 56, 64, 3, 3, 64, 1, 1),
    CONV("pointwise", 1, 56, 56, 64, 1, 1, 128, 1, 1),
    CONV("stem", 1, 224, 224, 3, 3, 3, 32, 2, 1),
    MATMUL("dense_mv", 1, 1024, 1024),
    MATMUL("dense_mm", 64, 1024, 1024),
};

/* Small awkward shapes for a quick --verify (ctest): channels that are not
 * a multiple of any vector width, a batch of 2, stride 2 SAME with its odd
 * pixel at the bottom and right, VALID padding. */
static const struct workload small[] = {
    CONV("small_conv", 1, 9, 11, 5, 3, 3, 7, 1, 1),
    CONV("small_stem", 2, 14, 10, 3, 3, 3, 8, 2, 1),
    CONV("small_valid", 1, 12, 9, 4, 5, 5, 6, 1, 0),
    CONV("small_pointwise", 1, 6, 7, 9, 1, 1, 20, 1, 1),
    MATMUL("small_mv", 1, 33, 10),
    MATMUL("small_mm", 3, 17, 19),
};

#define COUNT(a) (sizeof(a) / sizeof(a)[0])
#define MAX_WORKLOADS 64
/* As tools/bench.c: without --iters, time at least this long and this many
 * runs, after --warmup untimed runs. */
#define DEFAULT_SECONDS 0.3
#define DEFAULT_MIN_RUNS 3
#define MAX_TIMED_RUNS PEERS_MAX_TIMED_RUNS
/* --verify: a peer's output o matches scopenn's r where
 * |o - r| <= max(ABS_TOL, REL_TOL * |r|). */
#define ABS_TOL 1e-4
#define REL_TOL 1e-3

static const struct peer *const peers[] = {
#if SN_PEER_XNNPACK
    &peer_xnnpack,
#endif
#if SN_PEER_ONEDNN
    &peer_onednn,
#endif
    &peer_scopenn,
};

static int64_t window_out(int64_t in, int64_t k, int stride, int same) {
    return same ? (in + stride - 1) / stride : (in - k) / stride + 1;
}

/* TensorFlow's SAME padding along one axis: the total the window needs
 * beyond the input, the smaller half before. */
static void same_pad(int64_t in, int64_t out, int64_t k, int stride, int64_t *before,
                     int64_t *after) {
    int64_t total = (out - 1) * stride + k - in;
    if (total < 0) total = 0;
    *before = total / 2;
    *after = total - total / 2;
}

void workload_geometry(const struct workload *w, struct geometry *g) {
    *g = (struct geometry){0};
    if (w->op == PEER_MATMUL) {
        g->input_count = w->m * w->k;
        g->weight_count = w->k * w->n;
        g->bias_count = w->n;
        g->output_count = w->m * w->n;
        g->macs = (double)w->m * (double)w->k * (double)w->n;
        return;
    }
    const int64_t *in = w->input, *f = w->filter;
    g->oh = window_out(in[1], f[0], w->stride, w->same);
    g->ow = window_out(in[2], f[1], w->stride, w->same);
    if (w->same) {
        same_pad(in[1], g->oh, f[0], w->stride, &g->pad_top, &g->pad_bottom);
        same_pad(in[2], g->ow, f[1], w->stride, &g->pad_left, &g->pad_right);
    }
    g->input_count = in[0] * in[1] * in[2] * in[3];
    g->weight_count = f[0] * f[1] * f[2] * f[3];
    g->bias_count = f[3];
    g->output_count = in[0] * g->oh * g->ow * f[3];
    g->macs = (double)g->output_count * (double)(f[0] * f[1] * f[2]);
}

/* Uniform on [lo, hi) from a 32-bit LCG, as tools/bench.c makes its input. */
static void fill_uniform(float *x, int64_t count, uint32_t seed, float lo, float hi) {
    for (int64_t i = 0; i < count; i++) {
        seed = seed * 1664525u + 1013904223u;
        x[i] = lo + (hi - lo) * ((float)(seed >> 8) / 16777216.0f);
    }
}

/* `count` floats, 64-byte aligned, with 64 more bytes readable after them
 * (XNNPACK reads up to XNN_EXTRA_BYTES past an input). */
static float *alloc_floats(int64_t count) {
    size_t bytes = ((size_t)count * sizeof(float) + 64 + 63) / 64 * 64;
    float *p = aligned_alloc(64, bytes);
    if (p) memset(p, 0, bytes);
    return p;
}

/* A workload's data: input uniform on [-1, 1), weights glorot-uniform (as
 * scopenn's default initializer), bias uniform on [-0.5, 0.5) so relu
 * clips a fair share of the outputs. */
struct data {
    float *input, *weights, *bias;
};

static void free_data(struct data *d) {
    free(d->input);
    free(d->weights);
    free(d->bias);
}

static int make_data(const struct workload *w, struct data *d) {
    struct geometry g;
    workload_geometry(w, &g);
    *d = (struct data){alloc_floats(g.input_count), alloc_floats(g.weight_count),
                       alloc_floats(g.bias_count)};
    if (!d->input || !d->weights || !d->bias) {
        free_data(d);
        return 0;
    }
    double fan_in =
        w->op == PEER_CONV2D ? (double)(w->filter[0] * w->filter[1] * w->filter[2]) : (double)w->k;
    double fan_out =
        w->op == PEER_CONV2D ? (double)(w->filter[0] * w->filter[1] * w->filter[3]) : (double)w->n;
    float limit = (float)sqrt(6.0 / (fan_in + fan_out));
    fill_uniform(d->input, g.input_count, 12345, -1.0f, 1.0f);
    fill_uniform(d->weights, g.weight_count, 54321, -limit, limit);
    fill_uniform(d->bias, g.bias_count, 777, -0.5f, 0.5f);
    return 1;
}

static double now_seconds(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static int compare_doubles(const void *x, const void *y) {
    double a = *(const double *)x, b = *(const double *)y;
    return (a > b) - (a < b);
}

void peers_print_json_string(const char *s) {
    putchar('"');
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            printf("\\%c", c);
        else if (c < 0x20)
            printf("\\u%04x", c);
        else
            putchar(c);
    }
    putchar('"');
}

static void print_head(const struct workload *w, const struct peer *p, int threads) {
    printf("{\"op\":\"%s\",\"workload\":", w->op == PEER_CONV2D ? "conv2d" : "matmul");
    peers_print_json_string(w->name);
    printf(",\"peer\":\"%s\",\"threads\":%d", p->name, threads);
}

struct options {
    const struct workload *list[MAX_WORKLOADS];
    size_t count;
    const struct peer *peers[COUNT(peers)];
    size_t peer_count;
    int threads, verify;
    long iters, warmup;
};

int peers_time(int (*run)(void *ctx, char *err, size_t err_size), void *ctx, long iters,
               long warmup, struct timing *t, char *err, size_t err_size) {
    for (long i = 0; i < warmup; i++)
        if (run(ctx, err, err_size)) return 1;
    size_t capacity = iters ? (size_t)iters : 64, n = 0;
    double *times = malloc(capacity * sizeof *times);
    if (!times) goto oom;
    double start = now_seconds();
    for (;;) {
        if (iters ? n == (size_t)iters
                  : (n >= DEFAULT_MIN_RUNS && now_seconds() - start >= DEFAULT_SECONDS) ||
                        n == MAX_TIMED_RUNS)
            break;
        if (n == capacity) {
            double *grown = realloc(times, 2 * capacity * sizeof *times);
            if (!grown) {
                free(times);
                goto oom;
            }
            times = grown, capacity *= 2;
        }
        double t0 = now_seconds();
        if (run(ctx, err, err_size)) {
            free(times);
            return 1;
        }
        times[n++] = now_seconds() - t0;
    }
    qsort(times, n, sizeof *times, compare_doubles);
    t->median = n % 2 ? times[n / 2] : (times[n / 2 - 1] + times[n / 2]) / 2;
    t->min = times[0];
    t->runs = n;
    free(times);
    return 0;
oom:
    snprintf(err, err_size, "out of memory");
    return 1;
}

/* Builds w in peer p, times its runs (peers_time), and prints one JSON
 * line. Returns 0, or 1 after printing why on stderr. */
static int time_peer(const struct workload *w, const struct peer *p, const struct data *d,
                     const struct options *o) {
    char err[512] = "";
    struct geometry g;
    workload_geometry(w, &g);
    struct timing t;
    void *layer = p->create(w, o->threads, d->weights, d->bias, d->input, err, sizeof err);
    if (!layer || peers_time(p->run, layer, o->iters, o->warmup, &t, err, sizeof err)) {
        fprintf(stderr, "peers: %s on %s: %s\n", w->name, p->name, err);
        if (layer) p->destroy(layer);
        return 1;
    }
    print_head(w, p, o->threads);
    printf(",\"median_ms\":%.6g,\"min_ms\":%.6g,\"iterations\":%zu,\"gflops\":%.6g,"
           "\"macs\":%.17g,\"impl\":",
           1e3 * t.median, 1e3 * t.min, t.runs, 2 * g.macs / t.median * 1e-9, g.macs);
    peers_print_json_string(p->impl(layer));
    printf("}\n");
    fflush(stdout);
    p->destroy(layer);
    return 0;
}

/* Runs w once in scopenn and once in each peer of o, on the same data, and
 * prints one JSON line per peer with the largest differences from
 * scopenn's output. Returns 0 if every peer matches, else 1. */
static int verify(const struct workload *w, const struct data *d, const struct options *o) {
    char err[512] = "";
    struct geometry g;
    workload_geometry(w, &g);
    float *ref = malloc((size_t)g.output_count * sizeof *ref);
    void *sn = NULL;
    int status = 0;
    if (!ref) {
        fprintf(stderr, "peers: %s: out of memory\n", w->name);
        return 1;
    }
    if (!(sn =
              peer_scopenn.create(w, o->threads, d->weights, d->bias, d->input, err, sizeof err)) ||
        peer_scopenn.run(sn, err, sizeof err)) {
        fprintf(stderr, "peers: %s on scopenn: %s\n", w->name, err);
        if (sn) peer_scopenn.destroy(sn);
        free(ref);
        return 1;
    }
    memcpy(ref, peer_scopenn.output(sn), (size_t)g.output_count * sizeof *ref);
    peer_scopenn.destroy(sn);
    for (size_t i = 0; i < o->peer_count; i++) {
        const struct peer *p = o->peers[i];
        void *layer = p->create(w, o->threads, d->weights, d->bias, d->input, err, sizeof err);
        if (!layer || p->run(layer, err, sizeof err)) {
            fprintf(stderr, "peers: %s on %s: %s\n", w->name, p->name, err);
            if (layer) p->destroy(layer);
            status = 1;
            continue;
        }
        const float *out = p->output(layer);
        double max_abs = 0, worst = 0; /* worst: the largest |error| / tolerance */
        int64_t worst_at = 0, positive = 0;
        for (int64_t j = 0; j < g.output_count; j++) {
            double e = fabs((double)out[j] - (double)ref[j]);
            double tol = fmax(ABS_TOL, REL_TOL * fabs((double)ref[j]));
            if (e / tol > worst || e != e) worst = e / tol, worst_at = j;
            if (e > max_abs || e != e) max_abs = e;
            positive += ref[j] > 0;
        }
        int ok = worst <= 1.0; /* false for NaN too */
        print_head(w, p, o->threads);
        printf(
            ",\"check\":\"scopenn\",\"max_abs_error\":%.3g,\"worst_error_over_tolerance\":%.3g,"
            "\"worst_index\":%lld,\"outputs\":%lld,\"positive_outputs\":%lld,\"ok\":%s,\"impl\":",
            max_abs, worst, (long long)worst_at, (long long)g.output_count, (long long)positive,
            ok ? "true" : "false");
        peers_print_json_string(p->impl(layer));
        printf("}\n");
        fflush(stdout);
        if (!ok) {
            fprintf(stderr, "peers: %s on %s differs from scopenn at output %lld: %.9g vs %.9g\n",
                    w->name, p->name, (long long)worst_at, (double)out[worst_at],
                    (double)ref[worst_at]);
            status = 1;
        }
        p->destroy(layer);
    }
    free(ref);
    return status;
}

void peers_usage(FILE *f) {
    fputs("usage: peers [WORKLOAD...] [--peer NAME]... [--threads N] [--iters N] [--warmup W]\n"
          "       peers [WORKLOAD...] --verify [--peer NAME]... [--threads N]\n"
          "\n"
          "Times the workloads of `scopenn bench` (fp32 conv2d or matmul + bias + relu,\n"
          "fused) through other engines; prints one JSON object per line per workload:\n"
          "op, workload, peer, threads, median_ms, min_ms, iterations, gflops, macs, impl.\n"
          "With --verify, runs each once and compares its output with scopenn's on the\n"
          "same input and weights (|error| <= max(1e-4, 1e-3 |scopenn|)); exit 1 if any differ.\n"
          "\n"
          "workloads: all (the default), small (tiny awkward shapes, for --verify), or\n",
          f);
    for (size_t i = 0; i < COUNT(named); i++) fprintf(f, "  %s\n", named[i].name);
    for (size_t i = 0; i < COUNT(small); i++) fprintf(f, "  %s\n", small[i].name);
    fputs("peers built in:", f);
    for (size_t i = 0; i < COUNT(peers); i++) fprintf(f, " %s", peers[i]->name);
    fputs("\n(default: all but scopenn, whose own numbers come from `scopenn bench`)\n"
          "  --threads N   threads per run (default 1)\n"
          "  --iters N     time exactly N runs (default: runs for 0.3 s, at least 3)\n"
          "  --warmup W    untimed runs first (default 1)\n",
          f);
#if SN_PEER_XNNPACK
    fputs("\n"
          "       peers model NAME [--weights CKPT] [--size HxW] [--threads T] [--iters N]\n"
          "                        [--warmup W]\n"
          "       peers model NAME [--weights CKPT [--input INPUT]] --verify [--size HxW]\n"
          "                        [--threads T]\n"
          "\n"
          "Times a whole model of scopenn's zoo built from XNNPACK's operators, with the\n"
          "weights of CKPT (a safetensors file `scopenn run` takes; without it, random\n"
          "ones), on a 1 x H x W x 3 image (default 224x224); one JSON line: op \"model\",\n"
          "workload NAME, peer, threads, median_ms, min_ms, iterations, impl, size, batch.\n"
          "With --verify, runs it once and compares its logits with scopenn's and with\n"
          "INPUT's \"expected\" (PyTorch's, from tools/export_torch.py --sample-input,\n"
          "whose \"input\" is the image): |error| <= 1e-4 max|logit| + 1e-5; exit 1 if not.\n"
          "  NAME          one of:",
          f);
    size_t column = 29;
    for (const char *const *m = sn_model_names(); *m; m++) {
        if (column + 1 + strlen(*m) > 80) fputs("\n               ", f), column = 15;
        column += (size_t)fprintf(f, " %s", *m);
    }
    fputs("\n", f);
#endif
}

int peers_parse_long(const char *s, long lo, long hi, long *out) {
    char *end;
    errno = 0;
    long v = s ? strtol(s, &end, 10) : 0;
    if (!s || errno || end == s || *end || v < lo || v > hi) return 0;
    *out = v;
    return 1;
}

static int add(struct options *o, const struct workload *w) {
    if (o->count == MAX_WORKLOADS) return 0;
    o->list[o->count++] = w;
    return 1;
}

/* Returns 0, or the exit code (2 after a usage error, -1 for --help). */
static int parse(int argc, char **argv, struct options *o) {
    *o = (struct options){.threads = 1, .warmup = 1};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        long x;
        int ok = 1;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            peers_usage(stdout);
            return -1;
        } else if (strcmp(a, "--verify") == 0) {
            o->verify = 1;
        } else if (strcmp(a, "--threads") == 0) {
            ok = peers_parse_long(v, 1, 1024, &x), o->threads = (int)x, i++;
        } else if (strcmp(a, "--iters") == 0) {
            ok = peers_parse_long(v, 1, MAX_TIMED_RUNS, &o->iters), i++;
        } else if (strcmp(a, "--warmup") == 0) {
            ok = peers_parse_long(v, 0, MAX_TIMED_RUNS, &o->warmup), i++;
        } else if (strcmp(a, "--peer") == 0) {
            size_t p = 0;
            while (p < COUNT(peers) && !(v && strcmp(v, peers[p]->name) == 0)) p++;
            if (p == COUNT(peers)) {
                fprintf(stderr, "peers: --peer '%s': not built in (see --help)\n", v ? v : "");
                return 2;
            }
            ok = o->peer_count < COUNT(peers);
            if (ok) o->peers[o->peer_count++] = peers[p];
            i++;
        } else if (a[0] == '-') {
            fprintf(stderr, "peers: unknown flag '%s'\n\n", a);
            peers_usage(stderr);
            return 2;
        } else if (strcmp(a, "all") == 0 || strcmp(a, "small") == 0) {
            const struct workload *list = a[0] == 'a' ? named : small;
            size_t n = a[0] == 'a' ? COUNT(named) : COUNT(small);
            for (size_t w = 0; w < n && ok; w++) ok = add(o, &list[w]);
        } else {
            const struct workload *w = NULL;
            for (size_t j = 0; j < COUNT(named); j++)
                if (strcmp(a, named[j].name) == 0) w = &named[j];
            for (size_t j = 0; j < COUNT(small); j++)
                if (strcmp(a, small[j].name) == 0) w = &small[j];
            if (!w) {
                fprintf(stderr, "peers: unknown workload '%s' (see --help)\n", a);
                return 2;
            }
            ok = add(o, w);
        }
        if (!ok) {
            fprintf(stderr, "peers: bad value for %s (or too many workloads)\n", a);
            return 2;
        }
    }
    if (o->count == 0)
        for (size_t w = 0; w < COUNT(named); w++) add(o, &named[w]);
    if (o->peer_count == 0)
        for (size_t p = 0; p < COUNT(peers); p++)
            if (peers[p] != &peer_scopenn) o->peers[o->peer_count++] = peers[p];
    return 0;
}

int main(int argc, char **argv) {
#if SN_PEER_XNNPACK
    if (argc > 1 && strcmp(argv[1], "model") == 0) return peers_model_main(argc, argv);
#endif
    struct options o;
    int code = parse(argc, argv, &o);
    if (code) return code < 0 ? 0 : code;
    if (o.peer_count == 0) fprintf(stderr, "peers: no peer built in (XNNPACK, oneDNN)\n");
    for (size_t i = 0; i < o.count; i++) {
        const struct workload *w = o.list[i];
        struct data d;
        if (!make_data(w, &d)) {
            fprintf(stderr, "peers: %s: out of memory\n", w->name);
            return 1;
        }
        if (o.verify) {
            code |= verify(w, &d, &o);
        } else {
            for (size_t p = 0; p < o.peer_count; p++) code |= time_peer(w, o.peers[p], &d, &o);
        }
        free_data(&d);
    }
    return code;
}
