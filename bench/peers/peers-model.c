/* `peers model NAME`: a whole network of scopenn's zoo through XNNPACK's
 * operators (model-xnnpack.c), on the same weights scopenn runs:
 *
 *   peers model NAME [--weights CKPT] [--size HxW] [--threads T] [--iters N] [--warmup W]
 *   peers model NAME [--weights CKPT [--input INPUT]] --verify [--size HxW] [--threads T]
 *
 * The model is first built in scopenn (sn_model_build on a placeholder
 * [n, H, W, 3]) and its variables set: loaded strictly from CKPT, as
 * `scopenn run` and `scopenn bench model` load it, or, without it,
 * deterministic random values (below). XNNPACK's model takes its weights
 * from those variables. Timing is as for the layer workloads (peers.c):
 * one JSON line, the layers' keys (op "model", workload NAME, peer,
 * threads, median_ms, min_ms, iterations, impl) and the model's (size,
 * batch, weights, operators); no gflops, as FLOPs are scopenn's count
 * (`scopenn bench model`), not something XNNPACK says. The image is
 * uniform on [-1, 1) as `scopenn bench model` makes it.
 *
 * --verify runs the model once, in scopenn and in XNNPACK, on INPUT's
 * "input" [n, H, W, 3] (tools/export_torch.py --sample-input; it sets the
 * size) or on the random image, and compares XNNPACK's logits with
 * scopenn's and with INPUT's "expected" (PyTorch's) when there is one. */
#include "peers.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model-xnnpack.h"
#include "scopenn.h"
#include "scopenn_models.h"

#define MAX_SIZE 4096

/* A whole model's logits match a reference's when each is within
 * 1e-4 max|reference logit| + 1e-5: the bound the zoo holds scopenn to
 * against PyTorch (1e-4 of the largest |logit|; tests/test_zoo.c), with a
 * little absolute slack for logits that are all near 0. A fixed relative
 * bound per logit would not do: a logit near 0 is a sum of large terms. */
#define MODEL_REL_TOL 1e-4
#define MODEL_ABS_TOL 1e-5

struct model_options {
    const char *name, *weights, *input;
    int64_t size[2]; /* H, W */
    int size_given, verify;
    long threads, iters, warmup;
};

static int usage_error(const char *format, const char *arg) {
    fputs("peers model: ", stderr);
    fprintf(stderr, format, arg);
    fputs(" (see peers --help)\n", stderr);
    return 2;
}

/* "HxW" into size[2]: 1, or 0 if it is not one. */
static int parse_size(const char *s, int64_t size[2]) {
    long h, w;
    char *end;
    if (!s) return 0;
    h = strtol(s, &end, 10);
    if (end == s || (*end != 'x' && *end != 'X')) return 0;
    const char *rest = end + 1;
    w = strtol(rest, &end, 10);
    if (end == rest || *end || h < 1 || w < 1 || h > MAX_SIZE || w > MAX_SIZE) return 0;
    size[0] = h, size[1] = w;
    return 1;
}

/* Returns 0, or the exit code 2 after a usage error (-1 for --help). */
static int parse(int argc, char **argv, struct model_options *o) {
    *o = (struct model_options){.size = {224, 224}, .threads = 1, .warmup = 1};
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        int ok = 1;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            peers_usage(stdout);
            return -1;
        } else if (strcmp(a, "--verify") == 0) {
            o->verify = 1;
            continue;
        } else if (strcmp(a, "--weights") == 0) {
            ok = v != NULL, o->weights = v;
        } else if (strcmp(a, "--input") == 0) {
            ok = v != NULL, o->input = v;
        } else if (strcmp(a, "--size") == 0) {
            ok = parse_size(v, o->size), o->size_given = 1;
        } else if (strcmp(a, "--threads") == 0) {
            ok = peers_parse_long(v, 1, 1024, &o->threads);
        } else if (strcmp(a, "--iters") == 0) {
            ok = peers_parse_long(v, 1, PEERS_MAX_TIMED_RUNS, &o->iters);
        } else if (strcmp(a, "--warmup") == 0) {
            ok = peers_parse_long(v, 0, PEERS_MAX_TIMED_RUNS, &o->warmup);
        } else if (a[0] == '-') {
            return usage_error("unknown flag '%s'", a);
        } else if (o->name) {
            return usage_error("extra argument '%s'", a);
        } else {
            o->name = a;
            continue;
        }
        if (!ok) return usage_error("bad or missing value for %s", a);
        i++;
    }
    if (!o->name) return usage_error("%s", "NAME missing");
    int known = 0;
    for (const char *const *m = sn_model_names(); *m; m++) known |= strcmp(*m, o->name) == 0;
    if (!known) {
        fprintf(stderr, "peers model: unknown model '%s'; the zoo has:", o->name);
        for (const char *const *m = sn_model_names(); *m; m++) fprintf(stderr, " %s", *m);
        fputc('\n', stderr);
        return 2;
    }
    if (o->input && !o->verify) return usage_error("%s", "--input is for --verify");
    if (o->input && !o->weights)
        return usage_error("%s", "--input needs --weights (the weights its \"expected\" is of)");
    return 0;
}

/* The next of a deterministic sequence, uniform on [-1, 1) (as
 * tools/bench_model.c's). */
static float uniform(uint32_t *seed) {
    *seed = *seed * 1664525u + 1013904223u;
    return (float)(*seed >> 8) / 8388608.0f - 1.0f;
}

/* Deterministic random weights without a checkpoint: He-uniform weights
 * (limit sqrt(6 / fan_in), fan_in the product of every dimension but the
 * last; kh kw for a depthwise [kh, kw, c, 1]) as `scopenn bench model`
 * makes them, but batch norms and biases that are not the identity, so
 * that --verify checks their folding: gamma and variance uniform on
 * [0.5, 1.5), beta, mean and biases on [-0.1, 0.1). Returns 0, or 1 if
 * out of memory. */
static int random_weights(sn_graph *g) {
    uint32_t seed = 1;
    for (size_t i = 0; i < sn_graph_variable_count(g); i++) {
        sn_variable *v = sn_graph_variable(g, i);
        const sn_shape s = sn_variable_shape(v);
        const int64_t count = sn_variable_size(v);
        float *x = malloc((size_t)(count ? count : 1) * sizeof *x);
        if (!x) return 1;
        const char *name = strrchr(sn_variable_name(v), '/');
        name = name ? name + 1 : sn_variable_name(v);
        float limit = 0.1f, center = 0.0f;
        if (s.rank >= 2 && count > 0) {
            int64_t fan_in = count / s.dims[s.rank - 1];
            if (s.rank == 4 && s.dims[3] == 1) fan_in = s.dims[0] * s.dims[1]; /* depthwise */
            limit = sqrtf(6.0f / (float)(fan_in > 0 ? fan_in : 1));
        } else if (strcmp(name, "gamma") == 0 || strcmp(name, "moving_variance") == 0) {
            limit = 0.5f, center = 1.0f;
        }
        for (int64_t j = 0; j < count; j++) x[j] = center + limit * uniform(&seed);
        const sn_status st = sn_variable_assign(v, x, count);
        free(x);
        if (st != SN_OK) return 1;
    }
    return 0;
}

/* What a run of `peers model` holds; released at one place. */
struct model_run {
    sn_graph *graph;
    sn_tensor *images, *logits;
    sn_checkpoint *input_file;
    float *image, *expected; /* expected: INPUT's, or NULL */
    int64_t n, h, w;
    struct xnn_model *xnn;
};

static void release(struct model_run *r) {
    xnn_model_destroy(r->xnn);
    sn_graph_destroy(r->graph);
    sn_checkpoint_close(r->input_file);
    free(r->image);
    free(r->expected);
}

/* Tensor `name` of the input file, of `rank` dims (checked against `want`
 * where it is not -1) into a new buffer; its shape in *shape. NULL after
 * printing why (`required`) or if absent (not `required`). */
static float *read_tensor(const struct model_options *o, const sn_checkpoint *ck, const char *name,
                          const int64_t *want, int rank, int required, sn_shape *shape) {
    int64_t index = sn_checkpoint_find(ck, name);
    if (index < 0) {
        if (required) fprintf(stderr, "peers model: %s: no tensor \"%s\"\n", o->input, name);
        return NULL;
    }
    sn_checkpoint_tensor info;
    sn_checkpoint_tensor_info(ck, (size_t)index, &info);
    int ok = info.shape.rank == rank;
    int64_t count = 1;
    for (int d = 0; ok && d < rank; d++) {
        ok = want[d] < 0 || info.shape.dims[d] == want[d];
        count *= info.shape.dims[d];
    }
    float *x = ok ? malloc((size_t)(count ? count : 1) * sizeof *x) : NULL;
    if (!ok) {
        fprintf(stderr, "peers model: %s: \"%s\" has not the shape it should\n", o->input, name);
    } else if (!x) {
        fprintf(stderr, "peers model: out of memory\n");
    } else if (sn_checkpoint_read_f32(ck, (size_t)index, x, count) != SN_OK) {
        fprintf(stderr, "peers model: %s: cannot read \"%s\"\n", o->input, name);
        free(x);
        x = NULL;
    }
    *shape = info.shape;
    return x;
}

/* The image(s): INPUT's "input" (and "expected"), or one random image of
 * --size. Returns 0, or 1 after printing why. */
static int load_input(struct model_run *r, const struct model_options *o) {
    if (!o->input) {
        r->n = 1, r->h = o->size[0], r->w = o->size[1];
        size_t count = (size_t)(r->h * r->w * 3);
        if (!(r->image = malloc(count * sizeof *r->image))) {
            fprintf(stderr, "peers model: out of memory\n");
            return 1;
        }
        uint32_t seed = 12345;
        for (size_t i = 0; i < count; i++) r->image[i] = uniform(&seed);
        return 0;
    }
    if (sn_checkpoint_open(o->input, &r->input_file) != SN_OK) {
        fprintf(stderr, "peers model: %s\n", sn_checkpoint_error(r->input_file));
        return 1;
    }
    sn_shape shape;
    if (!(r->image = read_tensor(o, r->input_file, "input", (const int64_t[]){-1, -1, -1, 3}, 4, 1,
                                 &shape)))
        return 1;
    r->n = shape.dims[0], r->h = shape.dims[1], r->w = shape.dims[2];
    if (o->size_given && (r->h != o->size[0] || r->w != o->size[1])) {
        fprintf(stderr, "peers model: %s: its images are %lldx%lld, not the --size given\n",
                o->input, (long long)r->h, (long long)r->w);
        return 1;
    }
    if (sn_checkpoint_find(r->input_file, "expected") >= 0 &&
        !(r->expected = read_tensor(o, r->input_file, "expected", (const int64_t[]){r->n, 1000}, 2,
                                    1, &shape)))
        return 1;
    return 0;
}

/* The model in scopenn with its weights, then in XNNPACK from them.
 * Returns 0, or 1 after printing why. */
static int prepare(struct model_run *r, const struct model_options *o) {
    if (load_input(r, o)) return 1;
    sn_graph *g = r->graph = sn_graph_create(NULL);
    if (!g) {
        fprintf(stderr, "peers model: out of memory\n");
        return 1;
    }
    r->images = sn_placeholder(g, "images", SN_SHAPE(r->n, r->h, r->w, 3));
    /* zeros, not the default glorot draws: the weights overwrite them */
    sn_scope *root =
        sn_variable_scope_reenter(g, sn_current_scope(g), SN_REUSE_INHERIT, sn_zeros_initializer());
    r->logits = sn_model_build(g, o->name, r->images);
    sn_variable_scope_close(g, root);
    if (!r->logits) {
        fprintf(stderr, "peers model: %s cannot run on %lldx%lld images (too small?): %s\n",
                o->name, (long long)r->h, (long long)r->w, sn_graph_error(g));
        return 1;
    }
    if (o->weights) {
        sn_load_report *report = NULL;
        sn_status st = sn_graph_load_checkpoint(g, o->weights, true, &report);
        if (st != SN_OK) {
            if (report && (report->missing_count || report->unexpected_count))
                fprintf(stderr,
                        "peers model: %s: not the weights of %s: %zu of its variables missing "
                        "(%s%s), %zu tensors it does not have (%s%s)\n",
                        o->weights, o->name, report->missing_count,
                        report->missing_count ? report->missing[0] : "",
                        report->missing_count > 1 ? ", ..." : "", report->unexpected_count,
                        report->unexpected_count ? report->unexpected[0] : "",
                        report->unexpected_count > 1 ? ", ..." : "");
            else
                fprintf(stderr, "peers model: %s\n", sn_graph_error(g));
            sn_load_report_free(report);
            return 1;
        }
        sn_load_report_free(report);
    } else if (random_weights(g)) {
        fprintf(stderr, "peers model: out of memory\n");
        return 1;
    }
    char err[512] = "";
    if (!(r->xnn =
              xnn_model_create(g, o->name, r->n, r->h, r->w, (int)o->threads, err, sizeof err))) {
        fprintf(stderr, "peers model: %s on xnnpack: %s\n", o->name, err);
        return 1;
    }
    memcpy(xnn_model_input(r->xnn), r->image, (size_t)(r->n * r->h * r->w * 3) * sizeof(float));
    return 0;
}

static void print_head(const struct model_options *o) {
    printf("{\"op\":\"model\",\"workload\":");
    peers_print_json_string(o->name);
    printf(",\"peer\":\"xnnpack\",\"threads\":%ld", o->threads);
}

static int time_model(struct model_run *r, const struct model_options *o) {
    char err[512] = "";
    struct timing t;
    if (peers_time(xnn_model_run, r->xnn, o->iters, o->warmup, &t, err, sizeof err)) {
        fprintf(stderr, "peers model: %s on xnnpack: %s\n", o->name, err);
        return 1;
    }
    print_head(o);
    printf(",\"median_ms\":%.6g,\"min_ms\":%.6g,\"iterations\":%zu,\"impl\":\"\",\"size\":[%lld,"
           "%lld],\"batch\":%lld,\"weights\":",
           1e3 * t.median, 1e3 * t.min, t.runs, (long long)r->h, (long long)r->w, (long long)r->n);
    if (o->weights)
        peers_print_json_string(o->weights);
    else
        printf("null");
    printf(",\"warmup\":%ld,\"operators\":%zu}\n", o->warmup, xnn_model_operators(r->xnn));
    fflush(stdout);
    return 0;
}

/* How far `out` is from `ref` (count logits): the largest |error|, and
 * the largest |error| / tolerance (MODEL_REL_TOL, MODEL_ABS_TOL) and where. */
struct difference {
    double max_abs, worst;
    int64_t worst_at;
};

static struct difference compare(const float *out, const float *ref, int64_t count) {
    /* not fmax(scale, ...): GCC 12 for aarch64 fails vectorizing that
     * reduction at -O3 (an internal compiler error); NaN is skipped alike */
    double scale = 0;
    for (int64_t i = 0; i < count; i++) {
        const double a = fabs((double)ref[i]);
        if (a > scale) scale = a;
    }
    const double tol = MODEL_REL_TOL * scale + MODEL_ABS_TOL;
    struct difference d = {0, 0, 0};
    for (int64_t i = 0; i < count; i++) {
        double e = fabs((double)out[i] - (double)ref[i]);
        if (e / tol > d.worst || e != e) d.worst = e / tol, d.worst_at = i;
        if (e > d.max_abs || e != e) d.max_abs = e;
    }
    return d;
}

static int verify_model(struct model_run *r, const struct model_options *o) {
    char err[512] = "";
    sn_session *s = sn_session_create(r->graph, SN_FETCH(r->logits),
                                      &(sn_session_options){.threads = (int)o->threads});
    sn_output ref;
    const sn_feed feed = {r->images, r->image, sn_tensor_shape(r->images)};
    if (!s || sn_session_run(s, &feed, 1, &ref) != SN_OK) {
        fprintf(stderr, "peers model: %s on scopenn: %s\n", o->name,
                s ? sn_session_error(s) : sn_graph_error(r->graph));
        sn_session_destroy(s);
        return 1;
    }
    if (xnn_model_run(r->xnn, err, sizeof err)) {
        fprintf(stderr, "peers model: %s on xnnpack: %s\n", o->name, err);
        sn_session_destroy(s);
        return 1;
    }
    const float *out = xnn_model_output(r->xnn);
    const int64_t count = r->n * xnn_model_classes(r->xnn);
    const struct difference sn = compare(out, ref.data, count);
    struct difference pt = {0, 0, 0}, sn_pt = {0, 0, 0};
    if (r->expected) {
        pt = compare(out, r->expected, count);
        sn_pt = compare(ref.data, r->expected, count);
    }
    const int ok = sn.worst <= 1.0 && pt.worst <= 1.0; /* false for NaN too */
    const int pt_worse = r->expected && pt.worst > sn.worst;
    printf("{\"check\":true,\"op\":\"model\",\"workload\":");
    peers_print_json_string(o->name);
    printf(",\"peer\":\"xnnpack\",\"threads\":%ld,\"ok\":%s,\"max_abs_error\":%.3g,"
           "\"worst_error_over_tolerance\":%.3g,\"size\":[%lld,%lld],\"batch\":%lld,"
           "\"weights\":",
           o->threads, ok ? "true" : "false", fmax(sn.max_abs, pt.max_abs),
           pt_worse ? pt.worst : sn.worst, (long long)r->h, (long long)r->w, (long long)r->n);
    if (o->weights)
        peers_print_json_string(o->weights);
    else
        printf("null");
    printf(",\"scopenn_max_abs_error\":%.3g,\"scopenn_worst_error_over_tolerance\":%.3g",
           sn.max_abs, sn.worst);
    if (r->expected)
        printf(",\"pytorch_max_abs_error\":%.3g,\"pytorch_worst_error_over_tolerance\":%.3g,"
               "\"scopenn_vs_pytorch_max_abs_error\":%.3g",
               pt.max_abs, pt.worst, sn_pt.max_abs);
    printf("}\n");
    fflush(stdout);
    if (!ok) {
        const struct difference *d = pt_worse ? &pt : &sn;
        fprintf(stderr, "peers model: %s on xnnpack differs from %s at logit %lld: %.9g vs %.9g\n",
                o->name, pt_worse ? "PyTorch" : "scopenn", (long long)d->worst_at,
                (double)out[d->worst_at], (double)(pt_worse ? r->expected : ref.data)[d->worst_at]);
    }
    sn_session_destroy(s);
    return !ok;
}

int peers_model_main(int argc, char **argv) {
    struct model_options o;
    int code = parse(argc, argv, &o);
    if (code) return code < 0 ? 0 : code;
    struct model_run r = {0};
    code = prepare(&r, &o);
    if (!code) code = o.verify ? verify_model(&r, &o) : time_model(&r, &o);
    release(&r);
    return code;
}
