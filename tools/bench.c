/* `scopenn bench`: how fast the kernels run real layer shapes, and how far
 * they are from what the core can do.
 *
 * Each workload is one fp32 conv2d, depthwise conv2d or matmul with bias
 * and relu, built through the public API as a user would build it (a
 * variable scope named after the workload holding "weights" and "biases";
 * the session fuses the three ops into one kernel call), run W times
 * untimed, then timed. A run's work is 2 x MACs flops, counting every tap
 * of the filter, those over SAME padding included: N*OH*OW*OC*KH*KW*IC
 * MACs for a conv, N*OH*OW*C*KH*KW for a depthwise conv (multiplier 1),
 * M*K*N for a matmul; bias and relu are not counted. The ceiling is the
 * single-thread FMA peak of the kernel set in use (src/kernels/peak.h),
 * measured once per kernel set per invocation, times the threads of the
 * run. */
#include "bench.h"

#include "bench_model.h"
#include "output.h"

#include <cjson/cJSON.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/peak.h"
#include "scopenn.h"

typedef enum bench_op { BENCH_CONV2D, BENCH_MATMUL, BENCH_DEPTHWISE } bench_op;

struct workload {
    const char *name;
    const char *note; /* what it stands for, in the usage text */
    bench_op op;
    int in_default_set;
    /* conv2d: input NHWC, filter HWIO, one stride and dilation for both
     * axes; depthwise: filter [kh, kw, c, 1] */
    int64_t input[4], filter[4];
    int stride, dilation;
    sn_padding padding;
    /* matmul: [m x k] x [k x n] */
    int64_t m, k, n;
};

#define CONV(name, note, dflt, n, h, w, c, kh, kw, oc, s, pad)                                     \
    { name, note, BENCH_CONV2D, dflt, {n, h, w, c}, {kh, kw, c, oc}, s, 1, pad, 0, 0, 0 }
#define DEPTHWISE(NAME, NOTE, DFLT, N, H, W, C, K, S)                                              \
    {                                                                                              \
        .name = NAME, .note = NOTE, .op = BENCH_DEPTHWISE, .in_default_set = DFLT,                 \
        .input = {N, H, W, C}, .filter = {K, K, C, 1}, .stride = S, .dilation = 1,                 \
        .padding = SN_PADDING_SAME                                                                 \
    }
#define MATMUL(name, note, dflt, m, k, n)                                                          \
    { name, note, BENCH_MATMUL, dflt, {0}, {0}, 0, 0, SN_PADDING_SAME, m, k, n }

static const struct workload named[] = {
    CONV("seed_filter", "the seeds' image filter layer", 1, 1, 64, 64, 32, 5, 5, 32, 1,
         SN_PADDING_SAME),
    CONV("seed_filter_big", "the same layer on a 224x224 image", 0, 1, 224, 224, 32, 5, 5, 32, 1,
         SN_PADDING_SAME),
    CONV("resnet3x3", "a ResNet-50 conv2_x 3x3", 1, 1, 56, 56, 64, 3, 3, 64, 1, SN_PADDING_SAME),
    CONV("pointwise", "a 1x1 expansion", 1, 1, 56, 56, 64, 1, 1, 128, 1, SN_PADDING_SAME),
    CONV("stem", "an RGB stem, stride 2", 0, 1, 224, 224, 3, 3, 3, 32, 2, SN_PADDING_SAME),
    MATMUL("dense_mv", "a dense layer, batch 1", 1, 1, 1024, 1024),
    MATMUL("dense_mm", "a dense layer, batch 64", 0, 64, 1024, 1024),
    DEPTHWISE("dw3x3", "a MobileNetV2 block's depthwise", 0, 1, 56, 56, 144, 3, 1),
    DEPTHWISE("dw3x3s2", "a MobileNetV2 downsampling depthwise", 0, 1, 112, 112, 96, 3, 2),
    DEPTHWISE("dw5x5", "an EfficientNet-B0 stage 5 depthwise", 0, 1, 14, 14, 480, 5, 1),
    DEPTHWISE("dw5x5s2", "an EfficientNet-B0 downsampling depthwise", 0, 1, 56, 56, 144, 5, 2),
};
#define NAMED_COUNT (sizeof named / sizeof named[0])

/* Limits on what the flags accept: each tensor at most 2^28 floats (1 GiB)
 * and every dimension at most 2^20, so no count can overflow. */
#define MAX_DIM ((int64_t)1 << 20)
#define MAX_ELEMENTS ((int64_t)1 << 28)
#define MAX_WORKLOADS 64
#define MAX_TIMED_RUNS 1000000
/* Without --iters: time at least this long and this many runs. */
#define DEFAULT_SECONDS 0.3
#define DEFAULT_MIN_RUNS 3

struct bench_args {
    const struct workload *list[MAX_WORKLOADS];
    size_t count;
    struct workload conv, matmul; /* `bench conv2d ...`, `bench matmul ...` */
    int conv_flags, matmul_flags; /* a shape flag of each kind was given */
    int json, peak, threads, limit_isa, direct;
    sn_isa isa;
    long iters;  /* 0: time for DEFAULT_SECONDS */
    long warmup; /* untimed runs first */
};

/* What one workload measured. */
struct result {
    sn_isa isa;
    int threads;
    const char *algorithm; /* winograd, strassen or direct */
    long warmup, iterations;
    double ms_median, ms_min;
    int64_t output[4]; /* NHWC, or [m, n] */
    double macs;
};

static void print_usage(FILE *f) {
    fputs("usage: scopenn bench [WORKLOAD...] [FLAGS]\n"
          "       scopenn bench conv2d --input NxHxWxC --filter KHxKWxICxOC [--stride S]\n"
          "                            [--padding same|valid] [--dilation D] [FLAGS]\n"
          "       scopenn bench matmul --m M --k K --n N [FLAGS]\n"
          "       scopenn bench model NAME [FLAGS]   a whole model of the zoo (bench model\n"
          "                                          --help tells more)\n"
          "\n"
          "Times fp32 conv2d, depthwise conv2d or matmul + bias + relu (one fused\n"
          "kernel call): ms per run (median and min), GFLOP/s (2 x MACs per second)\n"
          "and % of the measured FMA peak of the kernel set, one thread's peak times\n"
          "the threads.\n"
          "\n"
          "workloads (* = run when none is named):\n",
          f);
    for (size_t i = 0; i < NAMED_COUNT; i++) {
        const struct workload *w = &named[i];
        if (w->op != BENCH_MATMUL)
            fprintf(
                f, "  %-16s%c %lldx%lldx%lldx%lld, %lldx%lld, %lld->%lld%s, stride %d: %s\n",
                w->name, w->in_default_set ? '*' : ' ', (long long)w->input[0],
                (long long)w->input[1], (long long)w->input[2], (long long)w->input[3],
                (long long)w->filter[0], (long long)w->filter[1], (long long)w->filter[2],
                (long long)(w->op == BENCH_DEPTHWISE ? w->filter[2] * w->filter[3] : w->filter[3]),
                w->op == BENCH_DEPTHWISE ? " depthwise" : "", w->stride, w->note);
        else
            fprintf(f, "  %-16s%c [%lldx%lld]x[%lldx%lld]: %s\n", w->name,
                    w->in_default_set ? '*' : ' ', (long long)w->m, (long long)w->k,
                    (long long)w->k, (long long)w->n, w->note);
    }
    fputs("  all               every workload above\n"
          "\n"
          "flags:\n"
          "  --isa NAME        use no better kernel set than NAME (scalar|avx2|avx512|neon)\n"
          "  --threads N       threads per run (default 1; 0: every online CPU)\n"
          "  --warmup W        untimed runs before timing (default 1)\n"
          "  --iters N         time exactly N runs (default: runs for 0.3 s, at least 3)\n"
          "  --json            one JSON object per workload and line: op, workload, isa,\n"
          "                    threads, median_ms, min_ms, gflops, peak_gflops (the probe's\n"
          "                    peak x threads), pct_peak, and the shape\n"
          "  --peak, --no-peak measure the FMA peak and report % of it (default: --peak)\n"
          "  --direct          run every conv2d as a direct convolution and every matmul as\n"
          "                    a plain product (no Winograd for 3x3 and 5x5 stride-1 convs,\n"
          "                    no Strassen for large products; GFLOP/s counts the direct\n"
          "                    FLOPs either way, and --json says which ran: algorithm)\n",
          f);
}

SN_CLI_COMPLAINTS("bench", print_usage)

/* The output size along one axis, as TensorFlow computes it; 0 if the
 * dilated window does not fit the input with VALID padding. */
static int64_t window_out(int64_t in, int64_t k, int stride, int dilation, sn_padding padding) {
    int64_t span = (k - 1) * dilation + 1;
    if (padding == SN_PADDING_SAME) return (in + stride - 1) / stride;
    return in < span ? 0 : (in - span) / stride + 1;
}

static void output_shape(const struct workload *w, int64_t out[4]) {
    if (w->op == BENCH_MATMUL) {
        out[0] = w->m, out[1] = w->n, out[2] = out[3] = 0;
        return;
    }
    out[0] = w->input[0];
    out[1] = window_out(w->input[1], w->filter[0], w->stride, w->dilation, w->padding);
    out[2] = window_out(w->input[2], w->filter[1], w->stride, w->dilation, w->padding);
    out[3] = w->op == BENCH_DEPTHWISE ? w->filter[2] * w->filter[3] : w->filter[3];
}

/* Multiply-accumulates per run, exactly (every filter tap, padding
 * included). */
static double workload_macs(const struct workload *w) {
    if (w->op == BENCH_MATMUL) return (double)w->m * (double)w->k * (double)w->n;
    int64_t o[4];
    output_shape(w, o);
    return (double)o[0] * (double)o[1] * (double)o[2] * (double)o[3] * (double)w->filter[0] *
           (double)w->filter[1] * (double)(w->op == BENCH_DEPTHWISE ? 1 : w->filter[2]);
}

static int64_t product(const int64_t *d, int n) {
    int64_t p = 1;
    for (int i = 0; i < n; i++) p *= d[i];
    return p;
}

/* NULL if the custom workload's shapes make sense, else why not. */
static const char *check_shapes(const struct workload *w) {
    if (w->op == BENCH_MATMUL) {
        if (w->m * w->k > MAX_ELEMENTS || w->k * w->n > MAX_ELEMENTS || w->m * w->n > MAX_ELEMENTS)
            return "matmul: a matrix is over 2^28 elements";
        return NULL;
    }
    if (w->filter[2] != w->input[3]) return "conv2d: --filter IC differs from --input C";
    int64_t o[4];
    output_shape(w, o);
    if (o[1] < 1 || o[2] < 1) return "conv2d: the dilated filter is larger than the input (VALID)";
    if (product(w->input, 4) > MAX_ELEMENTS || product(w->filter, 4) > MAX_ELEMENTS ||
        product(o, 4) > MAX_ELEMENTS)
        return "conv2d: a tensor is over 2^28 elements";
    return NULL;
}

static int add_workload(struct bench_args *a, const struct workload *w, FILE *err,
                        const char *arg) {
    if (a->count == MAX_WORKLOADS)
        return usage_error(err, "more than %d workloads at '%s'", MAX_WORKLOADS, arg);
    a->list[a->count++] = w;
    return 0;
}

static int is_value_flag(const char *f) {
    static const char *const flags[] = {"--isa",     "--threads", "--iters",  "--warmup",
                                        "--input",   "--filter",  "--stride", "--dilation",
                                        "--padding", "--m",       "--k",      "--n"};
    for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++)
        if (strcmp(f, flags[i]) == 0) return 1;
    return 0;
}

/* Parses argv[2...] into *a. Returns 0, or the exit code 2 after printing
 * usage. `bench --help` prints usage to `out` and returns -1. */
static int parse(int argc, char **argv, struct bench_args *a, FILE *out, FILE *err) {
    *a = (struct bench_args){.peak = 1, .threads = 1, .warmup = 1};
    a->conv = (struct workload){.name = "conv2d", .op = BENCH_CONV2D, .stride = 1, .dilation = 1};
    a->matmul = (struct workload){.name = "matmul", .op = BENCH_MATMUL};
    int has_conv = 0, has_matmul = 0, has_input = 0, has_filter = 0, has_m = 0, has_k = 0,
        has_n = 0;
    for (int i = 2; i < argc; i++) {
        const char *f = argv[i];
        long v = 0;
        if (strcmp(f, "--help") == 0 || strcmp(f, "-h") == 0) {
            print_usage(out);
            return -1;
        }
        if (strcmp(f, "--json") == 0) {
            a->json = 1;
        } else if (strcmp(f, "--peak") == 0) {
            a->peak = 1;
        } else if (strcmp(f, "--no-peak") == 0) {
            a->peak = 0;
        } else if (strcmp(f, "--direct") == 0) {
            a->direct = 1;
        } else if (is_value_flag(f)) {
            const char *val = i + 1 < argc ? argv[++i] : NULL;
            if (!val) return usage_error(err, "%s needs a value", f);
            int ok = 1;
            if (strcmp(f, "--isa") == 0) {
                ok = sn_isa_from_name(val, &a->isa) == SN_OK;
                a->limit_isa = 1;
            } else if (strcmp(f, "--threads") == 0) {
                ok = sn_cli_parse_long(val, 0, 1024, &v);
                a->threads = (int)v;
            } else if (strcmp(f, "--iters") == 0) {
                ok = sn_cli_parse_long(val, 1, MAX_TIMED_RUNS, &a->iters);
            } else if (strcmp(f, "--warmup") == 0) {
                ok = sn_cli_parse_long(val, 0, MAX_TIMED_RUNS, &a->warmup);
            } else if (strcmp(f, "--input") == 0) {
                ok = sn_cli_parse_dims(val, 4, MAX_DIM, a->conv.input);
                has_input = a->conv_flags = 1;
            } else if (strcmp(f, "--filter") == 0) {
                ok = sn_cli_parse_dims(val, 4, MAX_DIM, a->conv.filter);
                has_filter = a->conv_flags = 1;
            } else if (strcmp(f, "--stride") == 0 || strcmp(f, "--dilation") == 0) {
                ok = sn_cli_parse_long(val, 1, 1024, &v);
                *(f[2] == 's' ? &a->conv.stride : &a->conv.dilation) = (int)v;
                a->conv_flags = 1;
            } else if (strcmp(f, "--padding") == 0) {
                ok = strcmp(val, "same") == 0 || strcmp(val, "valid") == 0;
                a->conv.padding = strcmp(val, "valid") == 0 ? SN_PADDING_VALID : SN_PADDING_SAME;
                a->conv_flags = 1;
            } else { /* --m, --k, --n */
                int64_t d = 0;
                ok = sn_cli_parse_dims(val, 1, MAX_DIM, &d);
                *(f[2] == 'm' ? &a->matmul.m : f[2] == 'k' ? &a->matmul.k : &a->matmul.n) = d;
                *(f[2] == 'm' ? &has_m : f[2] == 'k' ? &has_k : &has_n) = 1;
                a->matmul_flags = 1;
            }
            if (!ok) return usage_error(err, "bad value '%s' for %s", val, f);
        } else if (f[0] == '-') {
            return usage_error(err, "unknown flag '%s'", f);
        } else if (strcmp(f, "conv2d") == 0) {
            if (has_conv) return usage_error(err, "conv2d given twice");
            has_conv = 1;
            if (add_workload(a, &a->conv, err, f)) return 2;
        } else if (strcmp(f, "matmul") == 0) {
            if (has_matmul) return usage_error(err, "matmul given twice");
            has_matmul = 1;
            if (add_workload(a, &a->matmul, err, f)) return 2;
        } else if (strcmp(f, "all") == 0) {
            for (size_t w = 0; w < NAMED_COUNT; w++)
                if (add_workload(a, &named[w], err, f)) return 2;
        } else {
            size_t w = 0;
            while (w < NAMED_COUNT && strcmp(f, named[w].name) != 0) w++;
            if (w == NAMED_COUNT) return usage_error(err, "unknown workload '%s'", f);
            if (add_workload(a, &named[w], err, f)) return 2;
        }
    }
    if (a->conv_flags && !has_conv)
        return usage_error(err, "--input, --filter, --stride, --padding, --dilation need conv2d");
    if (a->matmul_flags && !has_matmul) return usage_error(err, "--m, --k, --n need matmul");
    if (has_conv && (!has_input || !has_filter))
        return usage_error(err, "conv2d needs --input and --filter");
    if (has_matmul && (!has_m || !has_k || !has_n))
        return usage_error(err, "matmul needs --m, --k and --n");
    const char *why;
    if (has_conv && (why = check_shapes(&a->conv)) != NULL) return usage_error(err, "%s", why);
    if (has_matmul && (why = check_shapes(&a->matmul)) != NULL) return usage_error(err, "%s", why);
    if (a->count == 0)
        for (size_t w = 0; w < NAMED_COUNT; w++)
            if (named[w].in_default_set) a->list[a->count++] = &named[w];
    return 0;
}

/* "1x64x64x32 5x5 32->32 s1 same"; "[1x1024]x[1024x1024]". */
static void format_shape(const struct workload *w, char *buf, size_t size) {
    if (w->op == BENCH_MATMUL) {
        snprintf(buf, size, "[%lldx%lld]x[%lldx%lld]", (long long)w->m, (long long)w->k,
                 (long long)w->k, (long long)w->n);
        return;
    }
    char channels[48] = "dw"; /* a depthwise conv: "1x56x56x144 3x3 dw s1 same" */
    if (w->op == BENCH_CONV2D)
        snprintf(channels, sizeof channels, "%lld->%lld", (long long)w->filter[2],
                 (long long)w->filter[3]);
    int n = snprintf(buf, size, "%lldx%lldx%lldx%lld %lldx%lld %s s%d %s", (long long)w->input[0],
                     (long long)w->input[1], (long long)w->input[2], (long long)w->input[3],
                     (long long)w->filter[0], (long long)w->filter[1], channels, w->stride,
                     w->padding == SN_PADDING_SAME ? "same" : "valid");
    if (w->dilation != 1 && n > 0 && (size_t)n < size)
        snprintf(buf + n, size - (size_t)n, " d%d", w->dilation);
}

/* The graph of one workload: placeholder "input", then under variable
 * scope w->name the variables "weights" and "biases" and the op chain.
 * Returns the fetch, or NULL (the graph holds the error). */
static sn_tensor *build(sn_graph *g, const struct workload *w, sn_tensor **input,
                        sn_shape *input_shape) {
    sn_tensor *y = NULL;
    if (w->op != BENCH_MATMUL)
        *input_shape = SN_SHAPE(w->input[0], w->input[1], w->input[2], w->input[3]);
    else
        *input_shape = SN_SHAPE(w->m, w->k);
    *input = sn_placeholder(g, "input", *input_shape);
    SN_WITH_VARIABLE_SCOPE(g, w->name) {
        int64_t oc = w->op == BENCH_CONV2D      ? w->filter[3]
                     : w->op == BENCH_DEPTHWISE ? w->filter[2] * w->filter[3]
                                                : w->n;
        sn_variable *weights =
            w->op != BENCH_MATMUL
                ? sn_get_variable(g, "weights",
                                  SN_SHAPE(w->filter[0], w->filter[1], w->filter[2], w->filter[3]),
                                  SN_NO_INITIALIZER)
                : sn_get_variable(g, "weights", SN_SHAPE(w->k, w->n), SN_NO_INITIALIZER);
        sn_variable *biases =
            sn_get_variable(g, "biases", SN_SHAPE(oc), sn_constant_initializer(0.1f));
        if (w->op == BENCH_CONV2D)
            y = sn_conv2d_dilated(g, *input, sn_var(g, weights), SN_STRIDES(w->stride, w->stride),
                                  w->padding, SN_HW(w->dilation, w->dilation), NULL);
        else if (w->op == BENCH_DEPTHWISE)
            y = sn_depthwise_conv2d(g, *input, sn_var(g, weights), SN_STRIDES(w->stride, w->stride),
                                    w->padding, SN_HW(w->dilation, w->dilation), NULL);
        else
            y = sn_matmul(g, *input, sn_var(g, weights), false, false, NULL);
        y = sn_relu(g, sn_bias_add(g, y, sn_var(g, biases), NULL), NULL);
    }
    return sn_graph_status(g) == SN_OK ? y : NULL;
}

/* A workload ready to time: its graph, session and input. */
struct prepared {
    sn_graph *graph;
    sn_session *session;
    float *data;
    sn_feed feed;
    sn_session_stats stats;
};

static void release(struct prepared *p) {
    sn_session_destroy(p->session);
    sn_graph_destroy(p->graph);
    free(p->data);
}

/* Builds and compiles workload `w` into *p, with an input uniform on
 * [-1, 1). Returns 0, or 1 after printing why on `err` (*p is then
 * released). */
static int prepare(const struct workload *w, const struct bench_args *a, struct prepared *p,
                   FILE *err) {
    *p = (struct prepared){0};
    sn_tensor *input, *y;
    sn_shape shape;
    if (!(p->graph = sn_graph_create(&(sn_graph_options){.seed = 1}))) goto oom;
    sn_session_options opt = {.threads = a->threads,
                              .limit_isa = a->limit_isa,
                              .max_isa = a->isa,
                              .direct_conv = a->direct,
                              .direct_matmul = a->direct};
    if (!(y = build(p->graph, w, &input, &shape)) ||
        !(p->session = sn_session_create(p->graph, SN_FETCH(y), &opt))) {
        fprintf(err, "scopenn bench: %s: %s\n", w->name, sn_graph_error(p->graph));
        release(p);
        return 1;
    }
    sn_session_stats_get(p->session, &p->stats);
    size_t count = (size_t)product(shape.dims, shape.rank);
    if (!(p->data = malloc(count * sizeof *p->data))) goto oom;
    uint32_t seed = 12345;
    for (size_t i = 0; i < count; i++) {
        seed = seed * 1664525u + 1013904223u;
        p->data[i] = (float)(seed >> 8) / 8388608.0f - 1.0f;
    }
    p->feed = (sn_feed){input, p->data, shape};
    return 0;
oom:
    fprintf(err, "scopenn bench: %s: out of memory\n", w->name);
    release(p);
    return 1;
}

/* Runs the prepared workload a->warmup times, then times a->iters runs (or
 * runs for DEFAULT_SECONDS, at least DEFAULT_MIN_RUNS). Returns 0, or 1
 * after printing why on `err`. */
static int time_runs(const struct workload *w, struct prepared *p, const struct bench_args *a,
                     struct result *r, FILE *err) {
    sn_output output;
    for (long i = 0; i < a->warmup; i++)
        if (sn_session_run(p->session, &p->feed, 1, &output) != SN_OK) goto run_failed;
    size_t capacity = a->iters ? (size_t)a->iters : 64, n = 0;
    double *times = malloc(capacity * sizeof *times);
    if (!times) goto oom;
    double start = sn_cli_now_seconds();
    for (;;) {
        if (a->iters ? n == (size_t)a->iters
                     : (n >= DEFAULT_MIN_RUNS && sn_cli_now_seconds() - start >= DEFAULT_SECONDS) ||
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
        double t0 = sn_cli_now_seconds();
        if (sn_session_run(p->session, &p->feed, 1, &output) != SN_OK) {
            free(times);
            goto run_failed;
        }
        times[n++] = sn_cli_now_seconds() - t0;
    }
    sn_cli_sort(times, n);
    *r = (struct result){
        .isa = p->stats.isa,
        .threads = p->stats.threads,
        .algorithm = w->op == BENCH_DEPTHWISE ? "depthwise"
                     : p->stats.winograd      ? "winograd"
                     : p->stats.strassen      ? "strassen"
                                              : "direct",
        .warmup = a->warmup,
        .iterations = (long)n,
        .ms_median = 1e3 * sn_cli_median(times, n),
        .ms_min = 1e3 * times[0],
        .macs = workload_macs(w),
    };
    output_shape(w, r->output);
    free(times);
    return 0;
run_failed:
    fprintf(err, "scopenn bench: %s: %s\n", w->name, sn_session_error(p->session));
    return 1;
oom:
    fprintf(err, "scopenn bench: %s: out of memory\n", w->name);
    return 1;
}

/* One workload's object in the "workloads" array. `percent` < 0: no peak. */
static cJSON *json_result(const struct workload *w, const struct result *r, double gflops,
                          double peak_gflops, double percent) {
    cJSON *o = cJSON_CreateObject();
    char shape[128];
    format_shape(w, shape, sizeof shape);
    static const char *const ops[] = {[BENCH_CONV2D] = "conv2d",
                                      [BENCH_MATMUL] = "matmul",
                                      [BENCH_DEPTHWISE] = "depthwise_conv2d"};
    int ok = o && cJSON_AddStringToObject(o, "op", ops[w->op]) &&
             cJSON_AddStringToObject(o, "workload", w->name) &&
             cJSON_AddStringToObject(o, "shape", shape);
    if (ok && w->op != BENCH_MATMUL)
        ok = sn_cli_add_dims(o, "input", w->input, 4) &&
             sn_cli_add_dims(o, "filter", w->filter, 4) &&
             cJSON_AddNumberToObject(o, "stride", w->stride) &&
             cJSON_AddStringToObject(o, "padding",
                                     w->padding == SN_PADDING_SAME ? "same" : "valid") &&
             cJSON_AddNumberToObject(o, "dilation", w->dilation) &&
             sn_cli_add_dims(o, "output", r->output, 4);
    else if (ok)
        ok = cJSON_AddNumberToObject(o, "m", (double)w->m) &&
             cJSON_AddNumberToObject(o, "k", (double)w->k) &&
             cJSON_AddNumberToObject(o, "n", (double)w->n) &&
             sn_cli_add_dims(o, "output", r->output, 2);
    ok = ok && cJSON_AddStringToObject(o, "isa", sn_isa_name(r->isa)) &&
         cJSON_AddStringToObject(o, "algorithm", r->algorithm) &&
         cJSON_AddNumberToObject(o, "threads", r->threads) &&
         cJSON_AddNumberToObject(o, "warmup", (double)r->warmup) &&
         cJSON_AddNumberToObject(o, "iterations", (double)r->iterations) &&
         cJSON_AddNumberToObject(o, "median_ms", r->ms_median) &&
         cJSON_AddNumberToObject(o, "min_ms", r->ms_min) &&
         cJSON_AddNumberToObject(o, "macs", r->macs) &&
         cJSON_AddNumberToObject(o, "flops", 2 * r->macs) &&
         cJSON_AddNumberToObject(o, "gflops", gflops) &&
         (peak_gflops <= 0 ? cJSON_AddNullToObject(o, "peak_gflops")
                           : cJSON_AddNumberToObject(o, "peak_gflops", peak_gflops)) != NULL &&
         (percent < 0 ? cJSON_AddNullToObject(o, "pct_peak")
                      : cJSON_AddNumberToObject(o, "pct_peak", percent)) != NULL;
    if (!ok) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

int sn_cmd_bench(int argc, char **argv, FILE *out, FILE *err) {
    if (argc > 2 && strcmp(argv[2], "model") == 0) return sn_cmd_bench_model(argc, argv, out, err);
    struct bench_args a;
    int code = parse(argc, argv, &a, out, err);
    if (code) return code < 0 ? 0 : code;

    double peak[SN_ISA_COUNT] = {0};
    int peak_measured[SN_ISA_COUNT] = {0}, table_header = 0, warned = 0;
    for (size_t i = 0; code == 0 && i < a.count; i++) {
        const struct workload *w = a.list[i];
        struct prepared p;
        struct result r;
        if ((code = prepare(w, &a, &p, err)) != 0) break;
        sn_isa isa = p.stats.isa;
        if (a.limit_isa && isa != a.isa && !warned) {
            fprintf(err,
                    "scopenn bench: warning: --isa %s: this CPU or build cannot run it; using %s\n",
                    sn_isa_name(a.isa), sn_isa_name(isa));
            warned = 1;
        }
        if (a.peak && !peak_measured[isa]) { /* before timing, while nothing else runs */
            peak[isa] = sn_fma_peak_gflops(isa);
            peak_measured[isa] = 1;
            if (!a.json) {
                fprintf(out, "peak: %s %.1f GFLOP/s (1 thread)", sn_isa_name(isa), peak[isa]);
                if (p.stats.threads > 1)
                    fprintf(out, "; %% peak is of %d threads x that = %.1f GFLOP/s",
                            p.stats.threads, p.stats.threads * peak[isa]);
                fputc('\n', out);
            }
        }
        if (!a.json && !table_header) {
            fprintf(out, "%-16s %-32s %-7s %7s %10s %10s %9s %7s\n", "workload", "shape", "isa",
                    "threads", "ms median", "ms min", "GFLOP/s", "% peak");
            table_header = 1;
        }
        code = time_runs(w, &p, &a, &r, err);
        release(&p);
        if (code) break;
        double gflops = 2 * r.macs / (r.ms_median * 1e-3) * 1e-9;
        double percent = a.peak && peak[isa] > 0 ? 100 * gflops / (peak[isa] * r.threads) : -1;
        if (a.json) { /* one object per line, printed as soon as it is measured */
            double peak_gflops = a.peak ? peak[isa] * r.threads : 0;
            code = sn_cli_print_json(json_result(w, &r, gflops, peak_gflops, percent), 1, out, err);
            fflush(out);
        } else {
            char shape[128], pct[16] = "-";
            format_shape(w, shape, sizeof shape);
            if (percent >= 0) snprintf(pct, sizeof pct, "%.1f", percent);
            fprintf(out, "%-16s %-32s %-7s %7d %10.*f %10.*f %9.2f %7s\n", w->name, shape,
                    sn_isa_name(r.isa), r.threads, sn_cli_ms_decimals(r.ms_median), r.ms_median,
                    sn_cli_ms_decimals(r.ms_min), r.ms_min, gflops, pct);
            fflush(out);
        }
    }
    return code;
}
