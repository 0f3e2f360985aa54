/* `scopenn run`: a model of the zoo on a batch of images.
 *
 * The images come from a safetensors file (NHWC float, as the zoo's
 * builders take them: tools/export_torch.py --sample-input writes one),
 * the weights from another, loaded strictly so that a file made for
 * another model is refused by name rather than run half-loaded. The
 * model is built on a placeholder of the images' exact shape, and the
 * session fetches the logits and their softmax in one run. */
#include "run.h"

#include "output.h"
#include "zoo.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "scopenn.h"

/* Names printed when a list is too long to print whole. */
#define NAMES_SHOWN 4

static void print_usage(FILE *f) {
    fputs("usage: scopenn run MODEL --weights FILE --input FILE [--json] [--threads N]\n"
          "                 [--top K] [--nchw]\n"
          "\n"
          "Runs MODEL of the zoo on the images of --input and prints, for each image,\n"
          "the K most likely classes: class index, softmax probability and logit.\n"
          "\n"
          "  MODEL           one of:",
          f);
    sn_cli_print_models(f);
    fputs("\n"
          "  --weights FILE  the model's variables (safetensors), all of them and nothing\n"
          "                  else: tools/export_torch.py writes them from PyTorch\n"
          "  --input FILE    a safetensors file holding float images, normalized as the\n"
          "                  model was trained, NHWC [N, H, W, 3] (or one image [H, W, 3]):\n"
          "                  its tensor \"input\" or \"images\", or its only tensor. If it\n"
          "                  also holds \"expected\" [N, classes] (PyTorch's logits, as\n"
          "                  tools/export_torch.py --sample-input writes), the largest\n"
          "                  difference to them is printed too\n"
          "  --nchw          the images are NCHW [N, 3, H, W] (PyTorch's layout): transpose\n"
          "                  them on load\n"
          "  --top K         classes per image (default 5)\n"
          "  --threads N     threads (default 1; 0: every online CPU)\n"
          "  --json          one JSON object: model, weights, input, tensor, input_shape\n"
          "                  (NHWC), classes, isa, threads, ms, images (per image a list\n"
          "                  of {class, probability, logit}, most likely first) and,\n"
          "                  with \"expected\", expected_max_abs_diff\n",
          f);
}

SN_CLI_COMPLAINTS("run", print_usage)

struct run_args {
    const char *model, *weights, *input;
    int json, nchw;
    long threads, top;
};

/* Parses argv[2...] into *a. Returns 0, or the exit code 2 after printing
 * usage; `run --help` prints usage to `out` and returns -1. */
static int parse(int argc, char **argv, struct run_args *a, FILE *out, FILE *err) {
    *a = (struct run_args){.threads = 1, .top = 5};
    for (int i = 2; i < argc; i++) {
        const char *f = argv[i];
        if (strcmp(f, "--help") == 0 || strcmp(f, "-h") == 0) {
            print_usage(out);
            return -1;
        } else if (strcmp(f, "--json") == 0) {
            a->json = 1;
        } else if (strcmp(f, "--nchw") == 0) {
            a->nchw = 1;
        } else if (strcmp(f, "--weights") == 0 || strcmp(f, "--input") == 0 ||
                   strcmp(f, "--threads") == 0 || strcmp(f, "--top") == 0) {
            const char *v = i + 1 < argc ? argv[++i] : NULL;
            if (!v) return usage_error(err, "%s needs a value", f);
            if (strcmp(f, "--weights") == 0)
                a->weights = v;
            else if (strcmp(f, "--input") == 0)
                a->input = v;
            else if (strcmp(f, "--threads") == 0 ? !sn_cli_parse_long(v, 0, 1024, &a->threads)
                                                 : !sn_cli_parse_long(v, 1, 1000000, &a->top))
                return usage_error(err, "bad value '%s' for %s", v, f);
        } else if (f[0] == '-' && f[1] != '\0') {
            return usage_error(err, "unknown flag '%s'", f);
        } else if (a->model) {
            return usage_error(err, "extra argument '%s'", f);
        } else {
            a->model = f;
        }
    }
    if (!a->model) return usage_error(err, "MODEL missing");
    if (!a->weights) return usage_error(err, "--weights FILE missing");
    if (!a->input) return usage_error(err, "--input FILE missing");
    if (!sn_cli_known_model(a->model)) return sn_cli_unknown_model(err, "run", a->model);
    return 0;
}

static int64_t element_count(const sn_shape *s) {
    int64_t n = 1;
    for (int d = 0; d < s->rank; d++) n *= s->dims[d];
    return n;
}

/* Tensor `index` of `ck` as floats (malloc'd), or NULL after printing why. */
static float *read_floats(const sn_checkpoint *ck, size_t index, const char *file, FILE *err) {
    sn_checkpoint_tensor info;
    sn_checkpoint_tensor_info(ck, index, &info);
    int64_t count = element_count(&info.shape);
    float *data = malloc((size_t)(count ? count : 1) * sizeof *data);
    if (!data) {
        fail(err, "%s: out of memory reading \"%s\"", file, info.name);
        return NULL;
    }
    if (sn_checkpoint_read_f32(ck, index, data, count) != SN_OK) {
        fail(err, "%s: cannot read \"%s\"", file, info.name);
        free(data);
        return NULL;
    }
    return data;
}

/* The index of the images in `ck`: "input", else "images", else the only
 * tensor; -1 after printing why there is none. */
static int64_t find_images(const sn_checkpoint *ck, const char *file, FILE *err) {
    int64_t index = sn_checkpoint_find(ck, "input");
    if (index < 0) index = sn_checkpoint_find(ck, "images");
    size_t count = sn_checkpoint_tensor_count(ck);
    if (index < 0 && count == 1) index = 0;
    if (index >= 0) return index;
    fprintf(err, "scopenn run: %s: which tensor holds the images? Name it \"input\" or \"images\"",
            file);
    if (count == 0) fputs(" (the file holds no tensor)", err);
    for (size_t i = 0; i < count && i < NAMES_SHOWN; i++) {
        sn_checkpoint_tensor info;
        sn_checkpoint_tensor_info(ck, i, &info);
        fprintf(err, "%s\"", i ? ", " : " (it holds ");
        sn_cli_print_name(err, info.name);
        fputc('"', err);
    }
    if (count > NAMES_SHOWN) fprintf(err, " and %zu more", count - NAMES_SHOWN);
    fputs(count ? ")\n" : "\n", err);
    return -1;
}

/* The images, NHWC, and what they were read from. */
struct images {
    const char *tensor; /* owned by the checkpoint */
    sn_shape shape;     /* [N, H, W, 3] */
    float *data;
};

/* *data, NCHW of dims d, made NHWC (a new buffer; 0 if out of memory). */
static int to_nhwc(float **data, const int64_t *d) {
    int64_t n = d[0], c = d[1], hw = d[2] * d[3];
    float *t = malloc((size_t)(n * c * hw) * sizeof *t);
    if (!t) return 0;
    for (int64_t b = 0; b < n; b++)
        for (int64_t p = 0; p < hw; p++)
            for (int64_t k = 0; k < c; k++) t[(b * hw + p) * c + k] = (*data)[(b * c + k) * hw + p];
    free(*data);
    *data = t;
    return 1;
}

/* "scopenn run: FILE: "NAME" is (SHAPE): want WANT[; PROBLEM]"; returns 1. */
static int bad_shape(FILE *err, const char *file, const sn_checkpoint_tensor *info,
                     const char *want, const char *problem) {
    fprintf(err, "scopenn run: %s: \"", file);
    sn_cli_print_name(err, info->name);
    fputs("\" is ", err);
    sn_cli_print_dims(err, info->shape.dims, info->shape.rank);
    fprintf(err, ": want %s%s%s\n", want, problem ? "; " : "", problem ? problem : "");
    return 1;
}

/* Checks the shape of the images (rank, channels, layout), reads them and
 * makes them NHWC. Returns 0, or 1 after printing why. */
static int read_images(const sn_checkpoint *ck, size_t index, const struct run_args *a,
                       struct images *im, FILE *err) {
    sn_checkpoint_tensor info;
    sn_checkpoint_tensor_info(ck, index, &info);
    im->tensor = info.name;
    sn_shape s = info.shape;
    const char *want = a->nchw ? "NCHW images [N, 3, H, W] or one image [3, H, W] (--nchw)"
                               : "NHWC images [N, H, W, 3] or one image [H, W, 3]";
    if (s.rank == 3) /* one image: a batch of one */
        s = SN_SHAPE(1, s.dims[0], s.dims[1], s.dims[2]);
    else if (s.rank != 4)
        return bad_shape(err, a->input, &info, want, NULL);
    int channel_axis = a->nchw ? 1 : 3, other_axis = a->nchw ? 3 : 1;
    const char *problem = NULL;
    if (s.dims[channel_axis] != 3 && s.dims[other_axis] == 3)
        problem = a->nchw ? "it looks NHWC: leave out --nchw"
                          : "it looks NCHW (PyTorch's layout): pass --nchw, or write "
                            "x.permute(0, 2, 3, 1) instead of x";
    else if (s.dims[channel_axis] != 3)
        problem = "the images must have 3 channels (RGB)";
    else if (element_count(&s) == 0)
        problem = "it holds no image";
    if (problem) return bad_shape(err, a->input, &info, want, problem);
    if (!(im->data = read_floats(ck, index, a->input, err))) return 1;
    if (a->nchw) {
        if (!to_nhwc(&im->data, s.dims)) return fail(err, "out of memory");
        s = SN_SHAPE(s.dims[0], s.dims[2], s.dims[3], s.dims[1]);
    }
    im->shape = s;
    return 0;
}

/* What a run computed: logits and probabilities [N, classes]. */
struct result {
    sn_output logits, probs;
    sn_session_stats stats;
    double ms;
    int has_diff;
    double max_diff; /* against the input file's "expected" */
};

/* Compares the logits with the input file's "expected" [N, classes], if it
 * has one; a tensor of another shape is reported and left aside. */
static void compare_expected(const sn_checkpoint *ck, const struct run_args *a, struct result *r,
                             FILE *err) {
    int64_t index = sn_checkpoint_find(ck, "expected");
    if (index < 0) return;
    sn_checkpoint_tensor info;
    sn_checkpoint_tensor_info(ck, (size_t)index, &info);
    const sn_shape *want = &r->logits.shape;
    if (info.shape.rank != 2 || info.shape.dims[0] != want->dims[0] ||
        info.shape.dims[1] != want->dims[1]) {
        fprintf(err, "scopenn run: warning: %s: \"expected\" is ", a->input);
        sn_cli_print_dims(err, info.shape.dims, info.shape.rank);
        fputs(", not the logits' ", err);
        sn_cli_print_dims(err, want->dims, want->rank);
        fputs(": not compared\n", err);
        return;
    }
    float *expected = read_floats(ck, (size_t)index, a->input, err);
    if (!expected) return;
    r->max_diff = 0;
    for (int64_t i = 0; i < element_count(want); i++) {
        double d = fabs((double)r->logits.data[i] - expected[i]);
        if (!(d <= r->max_diff)) r->max_diff = d; /* a NaN sticks */
    }
    r->has_diff = 1;
    free(expected);
}

/* Puts in best[0..k) the indexes of the k largest of v[0..n), largest
 * first, the lower index first among equals; best holds n entries. */
static void top_k(const float *v, int64_t n, int64_t k, int64_t *best) {
    for (int64_t i = 0; i < n; i++) best[i] = i;
    for (int64_t j = 0; j < k; j++) {
        int64_t pick = j;
        for (int64_t i = j + 1; i < n; i++)
            if (v[best[i]] > v[best[pick]] || (v[best[i]] == v[best[pick]] && best[i] < best[pick]))
                pick = i;
        int64_t t = best[j];
        best[j] = best[pick], best[pick] = t;
    }
}

static void print_text(FILE *out, const struct run_args *a, const struct images *im,
                       const struct result *r, int64_t k, int64_t *best) {
    int64_t classes = r->logits.shape.dims[1];
    fprintf(out, "model: %s, weights %s\n", a->model, a->weights);
    fprintf(out, "input: %s \"", a->input);
    sn_cli_print_name(out, im->tensor);
    fputs("\" ", out);
    sn_cli_print_dims(out, im->shape.dims, 4);
    fprintf(out, " NHWC%s\n", a->nchw ? " (from NCHW)" : "");
    for (int64_t n = 0; n < im->shape.dims[0]; n++) {
        const float *logits = r->logits.data + n * classes, *probs = r->probs.data + n * classes;
        top_k(probs, classes, k, best);
        fprintf(out, "image %lld: top %lld of %lld classes\n", (long long)n, (long long)k,
                (long long)classes);
        fprintf(out, "  %6s %12s %12s\n", "class", "probability", "logit");
        for (int64_t j = 0; j < k; j++)
            fprintf(out, "  %6lld %12.6f %12.5f\n", (long long)best[j], probs[best[j]],
                    logits[best[j]]);
    }
    if (r->has_diff) fprintf(out, "max abs difference to \"expected\": %.3g\n", r->max_diff);
    fprintf(out, "time: %.3f ms (isa %s, %d thread%s)\n", r->ms, sn_isa_name(r->stats.isa),
            r->stats.threads, r->stats.threads == 1 ? "" : "s");
}

/* Image n's top k as a JSON array of {class, probability, logit}. */
static cJSON *json_top(const struct result *r, int64_t n, int64_t k, int64_t *best) {
    int64_t classes = r->logits.shape.dims[1];
    const float *logits = r->logits.data + n * classes, *probs = r->probs.data + n * classes;
    top_k(probs, classes, k, best);
    cJSON *list = cJSON_CreateArray();
    for (int64_t j = 0; list && j < k; j++) {
        cJSON *o = cJSON_CreateObject();
        if (!o || !cJSON_AddItemToArray(list, o)) {
            cJSON_Delete(o);
            break;
        }
        if (!cJSON_AddNumberToObject(o, "class", (double)best[j]) ||
            !cJSON_AddNumberToObject(o, "probability", probs[best[j]]) ||
            !cJSON_AddNumberToObject(o, "logit", logits[best[j]]))
            break;
        if (j + 1 == k) return list;
    }
    cJSON_Delete(list);
    return NULL;
}

static int print_json(FILE *out, FILE *err, const struct run_args *a, const struct images *im,
                      const struct result *r, int64_t k, int64_t *best) {
    cJSON *root = cJSON_CreateObject();
    int ok = root && cJSON_AddStringToObject(root, "model", a->model) &&
             cJSON_AddStringToObject(root, "weights", a->weights) &&
             cJSON_AddStringToObject(root, "input", a->input) &&
             cJSON_AddStringToObject(root, "tensor", im->tensor) &&
             sn_cli_add_dims(root, "input_shape", im->shape.dims, 4) &&
             cJSON_AddNumberToObject(root, "classes", (double)r->logits.shape.dims[1]) &&
             cJSON_AddStringToObject(root, "isa", sn_isa_name(r->stats.isa)) &&
             cJSON_AddNumberToObject(root, "threads", r->stats.threads) &&
             cJSON_AddNumberToObject(root, "ms", r->ms);
    cJSON *images = ok ? cJSON_AddArrayToObject(root, "images") : NULL;
    ok = ok && images;
    for (int64_t n = 0; ok && n < im->shape.dims[0]; n++) {
        cJSON *top = json_top(r, n, k, best);
        ok = top && cJSON_AddItemToArray(images, top);
        if (!ok) cJSON_Delete(top);
    }
    if (ok && r->has_diff) /* a NaN would print as null */
        ok = cJSON_AddNumberToObject(root, "expected_max_abs_diff", r->max_diff) != NULL;
    return sn_cli_print_json(root, ok, out, err);
}

/* Everything a run holds, released at one place. */
struct state {
    sn_checkpoint *input;
    struct images images;
    sn_graph *graph;
    sn_session *session;
    int64_t *best;
};

static void release(struct state *s) {
    sn_session_destroy(s->session);
    sn_graph_destroy(s->graph);
    sn_checkpoint_close(s->input);
    free(s->images.data);
    free(s->best);
}

/* Builds the model on the images' shape, loads the weights and runs it
 * once. Returns 0, or 1 after printing why. */
static int infer(struct state *s, const struct run_args *a, struct result *r, FILE *err) {
    const int64_t *d = s->images.shape.dims;
    if (!(s->graph = sn_graph_create(NULL))) return fail(err, "out of memory");
    sn_tensor *images = sn_placeholder(s->graph, "images", s->images.shape);
    sn_tensor *logits = sn_cli_build_model(s->graph, a->model, images);
    if (!logits) /* the shape was checked: what is left is an image too small */
        return fail(err, "%s cannot run on %lldx%lld images (too small?): %s", a->model,
                    (long long)d[1], (long long)d[2], sn_graph_error(s->graph));
    sn_tensor *probs = sn_softmax(s->graph, logits, NULL);
    if (sn_cli_load_weights(s->graph, a->model, a->weights, "run", err)) return 1;
    sn_session_options opt = {.threads = (int)a->threads};
    if (!(s->session = sn_session_create(s->graph, SN_FETCH(logits, probs), &opt)))
        return fail(err, "%s", sn_graph_error(s->graph));
    sn_feed feed = {images, s->images.data, s->images.shape};
    sn_output outputs[2];
    double start = 1e3 * sn_cli_now_seconds();
    if (sn_session_run(s->session, &feed, 1, outputs) != SN_OK)
        return fail(err, "%s", sn_session_error(s->session));
    *r = (struct result){
        .logits = outputs[0], .probs = outputs[1], .ms = 1e3 * sn_cli_now_seconds() - start};
    sn_session_stats_get(s->session, &r->stats);
    return 0;
}

int sn_cmd_run(int argc, char **argv, FILE *out, FILE *err) {
    struct run_args a;
    int code = parse(argc, argv, &a, out, err);
    if (code) return code < 0 ? 0 : code;

    struct state s = {0};
    struct result r;
    int64_t index;
    if (sn_checkpoint_open(a.input, &s.input) != SN_OK) {
        code = fail(err, "%s", sn_checkpoint_error(s.input));
    } else if ((index = find_images(s.input, a.input, err)) < 0 ||
               read_images(s.input, (size_t)index, &a, &s.images, err) || infer(&s, &a, &r, err)) {
        code = 1;
    } else {
        int64_t classes = r.logits.shape.dims[1], k = a.top < classes ? a.top : classes;
        if (!(s.best = malloc((size_t)classes * sizeof *s.best))) {
            code = fail(err, "out of memory");
        } else {
            compare_expected(s.input, &a, &r, err);
            if (a.json)
                code = print_json(out, err, &a, &s.images, &r, k, s.best);
            else
                print_text(out, &a, &s.images, &r, k, s.best);
        }
    }
    release(&s);
    return code;
}
