/* An oracle no one here wrote: small random networks computed by PyTorch
 * (tests/oracle/make_cases.py), rebuilt here with the public API, loaded
 * from their safetensors files by variable name, run with every kernel set
 * this CPU has (up to the SCOPENN_ISA cap) on 1 and 2 threads, and
 * compared with PyTorch's outputs within max(1e-5, 1e-4 x |expected|);
 * a case PyTorch computed in float32 ("float32" in the manifest), within
 * its "ulps" ULPs of PyTorch's float (0: the same float, but for the sign
 * of a zero).
 *
 *     test_oracle [CASES_DIR]
 *
 * CASES_DIR (else $SCOPENN_ORACLE_CASES, else the build's default, if the
 * build defines one and it exists) holds manifest.json and one
 * <case>.safetensors per case; tests/oracle/run.sh makes it and runs this.
 * Without any, the test says it is skipped and passes. The manifest
 * describes each graph node by node, so the case list lives in one place,
 * make_cases.py. SCOPENN_ORACLE_FILTER=conv_* runs only the matching cases
 * (cmocka's test filter). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "scopenn.h"

#define ABS_TOLERANCE 1e-5
#define REL_TOLERANCE 1e-4
/* Mismatches printed per output and run; the count says how many more. */
#define MISMATCHES_SHOWN 5

static const int thread_counts[] = {1, 2};

static const char *cases_dir;
static sn_isa isas[SN_ISA_COUNT];
static int isa_count;
static size_t cases_run, values_checked, runs_checked;
/* The largest |diff| / tolerance seen, and where: how close the passes came. */
static double closest_ratio;
static char closest_what[400];

/* ---- the manifest ---------------------------------------------------------- */

struct oracle_case {
    const cJSON *json; /* the manifest's case object */
    const char *name;
};

/* What went wrong while building or checking a case: the test fails with it
 * after cleaning up, so a failure leaks nothing (the ASan build runs this). */
struct problem {
    char text[1024];
    bool failed;
};

static bool complain(struct problem *p, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

static bool complain(struct problem *p, const char *fmt, ...) {
    if (!p->failed) { /* keep the first */
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(p->text, sizeof p->text, fmt, ap);
        va_end(ap);
        p->failed = true;
    }
    return false;
}

static const cJSON *field(const cJSON *object, const char *key) {
    return cJSON_GetObjectItemCaseSensitive(object, key);
}

static const char *string_field(const cJSON *object, const char *key) {
    const cJSON *item = field(object, key);
    return cJSON_IsString(item) ? item->valuestring : NULL;
}

static bool number_field(const cJSON *object, const char *key, double *out) {
    const cJSON *item = field(object, key);
    if (!cJSON_IsNumber(item)) return false;
    *out = item->valuedouble;
    return true;
}

static bool bool_field(const cJSON *object, const char *key) {
    return cJSON_IsTrue(field(object, key));
}

/* An array of integers as a shape. */
static bool shape_field(const cJSON *object, const char *key, sn_shape *out) {
    const cJSON *array = field(object, key), *item;
    if (!cJSON_IsArray(array) || cJSON_GetArraySize(array) > SN_MAX_RANK) return false;
    *out = (sn_shape){.rank = 0};
    cJSON_ArrayForEach(item, array) {
        if (!cJSON_IsNumber(item) || item->valuedouble != floor(item->valuedouble)) return false;
        out->dims[out->rank++] = (int64_t)item->valuedouble;
    }
    return true;
}

/* A pair of small positive integers ([h, w]). */
static bool hw_field(const cJSON *object, const char *key, sn_hw *out) {
    sn_shape s;
    if (!shape_field(object, key, &s) || s.rank != 2 || s.dims[0] < 1 || s.dims[1] < 1 ||
        s.dims[0] > 64 || s.dims[1] > 64)
        return false;
    *out = SN_HW((int)s.dims[0], (int)s.dims[1]);
    return true;
}

static bool padding_field(const cJSON *object, sn_padding *out) {
    const char *p = string_field(object, "padding");
    if (p && strcmp(p, "SAME") == 0) return *out = SN_PADDING_SAME, true;
    if (p && strcmp(p, "VALID") == 0) return *out = SN_PADDING_VALID, true;
    return false;
}

static void format_shape(const sn_shape *s, char *buf, size_t size) {
    size_t used = (size_t)snprintf(buf, size, "[");
    for (int i = 0; i < s->rank && used < size; i++)
        used += (size_t)snprintf(buf + used, size - used, "%s%lld", i ? "," : "",
                                 (long long)s->dims[i]);
    if (used < size) snprintf(buf + used, size - used, "]");
}

static int64_t elements(const sn_shape *s) {
    int64_t n = 1;
    for (int i = 0; i < s->rank; i++) n *= s->dims[i];
    return n;
}

/* ---- building a case's graph --------------------------------------------------- */

/* A variable "net/conv1/weights": opens variable scopes net and conv1 (with
 * reuse for a name met before, which must give back the very same
 * variable), calls get_variable("weights"), and closes the scopes. Any
 * initializer does: the checkpoint sets the value. */
static sn_tensor *build_variable(sn_graph *g, const cJSON *node, struct problem *p) {
    const char *full = string_field(node, "name");
    bool reuse = bool_field(node, "reuse");
    sn_shape shape;
    if (!full || !shape_field(node, "shape", &shape) || strlen(full) >= 256)
        return complain(p, "variable node without a valid name or shape"), NULL;
    sn_variable *before = sn_graph_find_variable(g, full);
    if (reuse != (before != NULL))
        return complain(p, "variable %s: reuse is %s but the variable %s", full,
                        reuse ? "true" : "false", before ? "exists" : "does not exist"),
               NULL;
    char path[256];
    strcpy(path, full);
    sn_scope *outer = NULL;
    char *leaf = path;
    for (char *slash; (slash = strchr(leaf, '/')) != NULL; leaf = slash + 1) {
        *slash = '\0';
        sn_scope *s = sn_variable_scope_open(g, leaf, reuse ? SN_REUSE_TRUE : SN_REUSE_INHERIT);
        if (!outer) outer = s;
    }
    sn_variable *v = sn_get_variable(g, leaf, reuse ? SN_SHAPE_UNKNOWN : shape,
                                     sn_random_normal_initializer(0.0f, 1.0f));
    sn_variable_scope_close(g, outer); /* and every scope inside it */
    if (!v) return NULL;               /* the graph says why */
    if (reuse && v != before)
        return complain(p, "variable %s: a reusing scope gave another variable", full), NULL;
    if (strcmp(sn_variable_name(v), full) != 0)
        return complain(p, "variable %s was named %s", full, sn_variable_name(v)), NULL;
    return sn_var(g, v);
}

/* The op of one manifest node; NULL with the graph's or p's error. */
static sn_tensor *build_node(sn_graph *g, const cJSON *node, sn_tensor **in, int n_in,
                             struct problem *p) {
    const char *op = string_field(node, "op");
    sn_hw strides, dilations, ksize;
    sn_padding padding;
    sn_shape shape;
    double a, b, c, d;
    if (strcmp(op, "input") == 0) {
        const char *tensor = string_field(node, "tensor");
        if (!tensor || !shape_field(node, "shape", &shape) || shape.rank < 1)
            return complain(p, "input node without a tensor name or shape"), NULL;
        if (bool_field(node, "batch_unknown")) shape.dims[0] = -1;
        return sn_placeholder(g, tensor, shape);
    }
    if (strcmp(op, "variable") == 0) return build_variable(g, node, p);
    if (strcmp(op, "scalar") == 0) {
        if (!number_field(node, "value", &a)) return complain(p, "scalar without a value"), NULL;
        return sn_scalar(g, (float)a, NULL);
    }
    static const struct {
        const char *name;
        int inputs; /* -1: one or more */
    } arity[] = {{"conv2d", 2},    {"bias_add", 2}, {"add", 2},          {"maximum", 2},
                 {"add_n", -1},    {"matmul", 2},   {"max_pool", 1},     {"avg_pool", 1},
                 {"reshape", 1},   {"lrn", 1},      {"relu", 1},         {"relu6", 1},
                 {"sigmoid", 1},   {"tanh", 1},     {"softmax", 1},      {"multiply", 2},
                 {"subtract", 2},  {"swish", 1},    {"hard_sigmoid", 1}, {"hard_swish", 1},
                 {"leaky_relu", 1}};
    size_t k = 0, n_ops = sizeof arity / sizeof arity[0];
    while (k < n_ops && strcmp(arity[k].name, op) != 0) k++;
    if (k == n_ops) return complain(p, "unknown op \"%s\"", op), NULL;
    if (arity[k].inputs >= 0 ? n_in != arity[k].inputs : n_in < 1)
        return complain(p, "%s with %d inputs", op, n_in), NULL;

    if (strcmp(op, "conv2d") == 0) {
        if (!hw_field(node, "strides", &strides) || !padding_field(node, &padding) ||
            !hw_field(node, "dilations", &dilations))
            return complain(p, "conv2d without valid strides, padding or dilations"), NULL;
        if (dilations.h == 1 && dilations.w == 1)
            return sn_conv2d(g, in[0], in[1], strides, padding, NULL);
        return sn_conv2d_dilated(g, in[0], in[1], strides, padding, dilations, NULL);
    }
    if (strcmp(op, "max_pool") == 0 || strcmp(op, "avg_pool") == 0) {
        if (!hw_field(node, "ksize", &ksize) || !hw_field(node, "strides", &strides) ||
            !padding_field(node, &padding))
            return complain(p, "%s without valid ksize, strides or padding", op), NULL;
        return op[0] == 'm' ? sn_max_pool(g, in[0], ksize, strides, padding, NULL)
                            : sn_avg_pool(g, in[0], ksize, strides, padding, NULL);
    }
    if (strcmp(op, "matmul") == 0)
        return sn_matmul(g, in[0], in[1], bool_field(node, "transpose_a"),
                         bool_field(node, "transpose_b"), NULL);
    if (strcmp(op, "reshape") == 0) {
        if (!shape_field(node, "shape", &shape))
            return complain(p, "reshape without a target shape"), NULL;
        return sn_reshape(g, in[0], shape, NULL);
    }
    if (strcmp(op, "lrn") == 0) {
        if (!number_field(node, "depth_radius", &a) || !number_field(node, "bias", &b) ||
            !number_field(node, "alpha", &c) || !number_field(node, "beta", &d))
            return complain(p, "lrn without depth_radius, bias, alpha and beta"), NULL;
        return sn_lrn(g, in[0], (int)a, (float)b, (float)c, (float)d, NULL);
    }
    if (strcmp(op, "leaky_relu") == 0) {
        if (!number_field(node, "alpha", &a)) return complain(p, "leaky_relu without alpha"), NULL;
        return sn_leaky_relu(g, in[0], (float)a, NULL);
    }
    if (strcmp(op, "multiply") == 0) return sn_multiply(g, in[0], in[1], NULL);
    if (strcmp(op, "subtract") == 0) return sn_subtract(g, in[0], in[1], NULL);
    if (strcmp(op, "swish") == 0) return sn_swish(g, in[0], NULL);
    if (strcmp(op, "hard_sigmoid") == 0) return sn_hard_sigmoid(g, in[0], NULL);
    if (strcmp(op, "hard_swish") == 0) return sn_hard_swish(g, in[0], NULL);
    if (strcmp(op, "bias_add") == 0) return sn_bias_add(g, in[0], in[1], NULL);
    if (strcmp(op, "add") == 0) return sn_add(g, in[0], in[1], NULL);
    if (strcmp(op, "maximum") == 0) return sn_maximum(g, in[0], in[1], NULL);
    if (strcmp(op, "add_n") == 0) return sn_add_n(g, in, (size_t)n_in, NULL);
    if (strcmp(op, "relu") == 0) return sn_relu(g, in[0], NULL);
    if (strcmp(op, "relu6") == 0) return sn_relu6(g, in[0], NULL);
    if (strcmp(op, "sigmoid") == 0) return sn_sigmoid(g, in[0], NULL);
    if (strcmp(op, "tanh") == 0) return sn_tanh(g, in[0], NULL);
    return sn_softmax(g, in[0], NULL);
}

/* The index of the node with id `id` among the first `count`, or -1. */
static int find_node(const cJSON *nodes, int count, const char *id) {
    for (int i = 0; i < count && id; i++) {
        const char *other = string_field(cJSON_GetArrayItem(nodes, i), "id");
        if (other && strcmp(other, id) == 0) return i;
    }
    return -1;
}

/* Builds every node; tensors[i] is node i's output. */
static bool build_graph(sn_graph *g, const cJSON *nodes, sn_tensor **tensors, struct problem *p) {
    int count = cJSON_GetArraySize(nodes);
    for (int i = 0; i < count; i++) {
        const cJSON *node = cJSON_GetArrayItem(nodes, i), *inputs = field(node, "inputs"), *item;
        const char *id = string_field(node, "id");
        if (!id || !string_field(node, "op")) return complain(p, "node %d has no id or op", i);
        sn_tensor *in[16];
        int n_in = 0;
        cJSON_ArrayForEach(item, inputs) {
            int k = find_node(nodes, i, cJSON_IsString(item) ? item->valuestring : NULL);
            if (k < 0 || n_in == 16)
                return complain(p, "node %s: an input is not an earlier node (or > 16 inputs)", id);
            in[n_in++] = tensors[k];
        }
        tensors[i] = build_node(g, node, in, n_in, p);
        if (!tensors[i]) {
            if (sn_graph_status(g) != SN_OK)
                complain(p, "node %s (%s): %s", id, string_field(node, "op"), sn_graph_error(g));
            return complain(p, "node %s (%s): not built", id, string_field(node, "op"));
        }
    }
    if (sn_graph_status(g) != SN_OK) return complain(p, "graph: %s", sn_graph_error(g));
    return true;
}

/* ---- values from the case's file ------------------------------------------------ */

/* Reads tensor `name` of the checkpoint as float32 into a new buffer. */
static float *read_tensor(const sn_checkpoint *ck, const char *name, sn_shape *shape,
                          struct problem *p) {
    int64_t index = sn_checkpoint_find(ck, name);
    sn_checkpoint_tensor info;
    if (index < 0 || sn_checkpoint_tensor_info(ck, (size_t)index, &info) != SN_OK)
        return complain(p, "the file has no tensor \"%s\"", name), NULL;
    int64_t n = elements(&info.shape);
    float *data = malloc((size_t)(n ? n : 1) * sizeof *data);
    if (!data) return complain(p, "out of memory reading %s", name), NULL;
    sn_status st = sn_checkpoint_read_f32(ck, (size_t)index, data, n);
    if (st != SN_OK) {
        free(data);
        return complain(p, "reading %s: %s", name, sn_status_string(st)), NULL;
    }
    *shape = info.shape;
    return data;
}

/* The multi-index of flat position i in `shape`, "[0,3,2,1]". */
static void format_position(const sn_shape *shape, int64_t i, char *buf, size_t size) {
    sn_shape at = {.rank = shape->rank};
    for (int d = shape->rank - 1; d >= 0; d--) {
        int64_t dim = shape->dims[d] ? shape->dims[d] : 1;
        at.dims[d] = i % dim;
        i /= dim;
    }
    format_shape(&at, buf, size);
}

/* Compares one fetched output with PyTorch's, within `ulps` ULPs of its
 * float if ulps >= 0 (a float32 case), else within the default tolerance;
 * prints the first mismatches. Returns the number of values out of
 * tolerance (or 1 for a wrong shape). */
static size_t compare(const char *what, const sn_output *got, const float *expected,
                      const sn_shape *shape, double ulps) {
    char want[128], have[128];
    format_shape(shape, want, sizeof want);
    format_shape(&got->shape, have, sizeof have);
    if (strcmp(want, have) != 0) {
        print_message("oracle: %s: shape %s, expected %s\n", what, have, want);
        return 1;
    }
    int64_t n = elements(shape);
    size_t bad = 0;
    double worst = 0.0;
    int64_t worst_at = 0;
    for (int64_t i = 0; i < n; i++) {
        double e = expected[i], v = got->data[i], diff = fabs(v - e);
        double tol = fmax(ABS_TOLERANCE, REL_TOLERANCE * fabs(e));
        if (ulps >= 0) /* one ULP of expected[i]: the gap above its magnitude */
            tol = ulps * ((double)nextafterf(fabsf(expected[i]), INFINITY) - fabs(e));
        if (tol > 0 && diff / tol > closest_ratio) {
            closest_ratio = diff / tol;
            snprintf(closest_what, sizeof closest_what, "%s, flat %lld", what, (long long)i);
        }
        if (diff <= tol) continue; /* a NaN is never within */
        if (bad < MISMATCHES_SHOWN) {
            char at[128];
            format_position(shape, i, at, sizeof at);
            print_message("oracle: %s: at %s (flat %lld) expected %.9g, got %.9g "
                          "(|diff| %.3g > %.3g)\n",
                          what, at, (long long)i, e, v, diff, tol);
        }
        if (!(diff <= worst)) worst = diff, worst_at = i;
        bad++;
    }
    if (bad) {
        char at[128];
        format_position(shape, worst_at, at, sizeof at);
        print_message("oracle: %s: %zu of %lld values out of tolerance; the worst at %s: "
                      "expected %.9g, got %.9g\n",
                      what, bad, (long long)n, at, (double)expected[worst_at],
                      (double)got->data[worst_at]);
    }
    values_checked += (size_t)n;
    return bad;
}

/* ---- one case ------------------------------------------------------------------ */

struct case_state {
    const char *name;
    sn_graph *g;
    sn_tensor **tensors;
    sn_checkpoint *ck;
    sn_feed feeds[8];
    bool batch_unknown[8]; /* feeds[i]'s placeholder has batch -1 */
    int64_t batch;         /* theirs */
    size_t feed_count;
    sn_tensor *fetches[8];
    float *expected[8];
    sn_shape expected_shape[8];
    size_t fetch_count;
    double ulps; /* a float32 case's; -1 for the default tolerance */
};

static void free_state(struct case_state *s) {
    for (size_t i = 0; i < s->feed_count; i++) free((void *)s->feeds[i].data);
    for (size_t i = 0; i < s->fetch_count; i++) free(s->expected[i]);
    sn_checkpoint_close(s->ck);
    sn_graph_destroy(s->g);
    free(s->tensors);
}

/* Loads the variables by name: every variable must be set, and the file's
 * other tensors (inputs, expected outputs) are its only unexpected ones. */
static bool load(struct case_state *s, const char *path, size_t other_tensors, struct problem *p) {
    sn_load_report *report = NULL;
    sn_status st = sn_graph_load_checkpoint(s->g, path, false, &report);
    bool ok = st == SN_OK && report;
    if (!ok)
        complain(p, "loading %s: %s: %s", path, sn_status_string(st), sn_graph_error(s->g));
    else if (report->loaded != sn_graph_variable_count(s->g) || report->missing_count ||
             report->unexpected_count != other_tensors)
        ok = complain(p,
                      "loading %s: %zu of %zu variables loaded, %zu missing (first: %s), "
                      "%zu unexpected tensors (expected %zu)",
                      path, report->loaded, sn_graph_variable_count(s->g), report->missing_count,
                      report->missing_count ? report->missing[0] : "none", report->unexpected_count,
                      other_tensors);
    sn_load_report_free(report);
    return ok;
}

/* Feeds from the inputs, fetches and expected values from the outputs. */
static bool bind(struct case_state *s, const cJSON *json, struct problem *p) {
    const cJSON *nodes = field(json, "nodes"), *outputs = field(json, "outputs"), *item;
    int count = cJSON_GetArraySize(nodes);
    for (int i = 0; i < count; i++) {
        const cJSON *node = cJSON_GetArrayItem(nodes, i);
        if (strcmp(string_field(node, "op"), "input") != 0) continue;
        if (s->feed_count == 8) return complain(p, "more than 8 inputs");
        sn_feed *f = &s->feeds[s->feed_count];
        f->placeholder = s->tensors[i];
        if (!(f->data = read_tensor(s->ck, string_field(node, "tensor"), &f->shape, p)))
            return false;
        if ((s->batch_unknown[s->feed_count] = bool_field(node, "batch_unknown"))) {
            if (f->shape.rank < 1 || (s->batch && s->batch != f->shape.dims[0]))
                return complain(p, "inputs with an unknown batch disagree on it");
            s->batch = f->shape.dims[0];
        }
        s->feed_count++;
    }
    cJSON_ArrayForEach(item, outputs) {
        if (s->fetch_count == 8) return complain(p, "more than 8 outputs");
        int k = find_node(nodes, count, cJSON_IsString(item) ? item->valuestring : NULL);
        if (k < 0) return complain(p, "an output is not a node");
        char name[32];
        if (s->fetch_count == 0)
            snprintf(name, sizeof name, "expected");
        else
            snprintf(name, sizeof name, "expected_%zu", s->fetch_count);
        s->fetches[s->fetch_count] = s->tensors[k];
        if (!(s->expected[s->fetch_count] =
                  read_tensor(s->ck, name, &s->expected_shape[s->fetch_count], p)))
            return false;
        s->fetch_count++;
    }
    if (s->fetch_count == 0) return complain(p, "no outputs");
    return true;
}

/* Runs `session` once with `feeds` and compares every output with
 * `expected` (shapes in `shapes`); false if a value or the run is wrong. */
static bool run_once(sn_session *session, const struct case_state *s, const sn_feed *feeds,
                     float *const *expected, const sn_shape *shapes, const char *label,
                     struct problem *p) {
    sn_session_stats stats;
    sn_session_stats_get(session, &stats);
    char setting[128];
    snprintf(setting, sizeof setting, "isa %s, %d thread%s, %s", sn_isa_name(stats.isa),
             stats.threads, stats.threads == 1 ? "" : "s", label);
    sn_output out[8];
    sn_status st = sn_session_run(session, feeds, s->feed_count, out);
    if (st != SN_OK)
        return complain(p, "run (%s): %s: %s", setting, sn_status_string(st),
                        sn_session_error(session));
    size_t bad = 0;
    for (size_t i = 0; i < s->fetch_count; i++) {
        char what[320];
        snprintf(what, sizeof what, "case %s, %s, output %zu (%s)", s->name, setting, i,
                 sn_tensor_name(s->fetches[i]));
        bad += compare(what, &out[i], expected[i], &shapes[i], s->ulps);
    }
    runs_checked++;
    if (bad) return complain(p, "outputs differ from PyTorch's (%s; see above)", setting);
    return true;
}

/* One session per kernel set and thread count: run twice, and where the
 * batch is unknown (-1), once more with a batch of one, the first sample,
 * whose outputs must be the first of PyTorch's. Stops at the first session
 * that is wrong (its mismatches printed). */
static void run_sessions(struct case_state *s, int max_batch, struct problem *p) {
    sn_feed one[8];
    sn_shape first[8];
    bool split = max_batch > 0;
    for (size_t i = 0; i < s->feed_count; i++) {
        one[i] = s->feeds[i];
        if (s->batch_unknown[i]) one[i].shape.dims[0] = 1;
    }
    for (size_t i = 0; i < s->fetch_count; i++) {
        first[i] = s->expected_shape[i];
        split = split && first[i].rank > 0 && first[i].dims[0] == s->batch;
        if (first[i].rank > 0) first[i].dims[0] = 1;
    }
    for (int k = 0; k < isa_count && !p->failed; k++)
        for (size_t t = 0; t < sizeof thread_counts / sizeof thread_counts[0] && !p->failed; t++) {
            sn_session_options options = {.threads = thread_counts[t],
                                          .max_batch = max_batch,
                                          .limit_isa = true,
                                          .max_isa = isas[k]};
            sn_session *session = sn_session_create(s->g, s->fetches, s->fetch_count, &options);
            if (!session) {
                complain(p, "session (isa %s, %d threads): %s", sn_isa_name(isas[k]),
                         thread_counts[t], sn_graph_error(s->g));
                return;
            }
            (void)(run_once(session, s, s->feeds, s->expected, s->expected_shape, "run 1", p) &&
                   run_once(session, s, s->feeds, s->expected, s->expected_shape, "run 2", p) &&
                   (!split ||
                    run_once(session, s, one, s->expected, first, "run 3, batch of 1", p)));
            sn_session_destroy(session);
        }
}

static void test_case(void **state) {
    const struct oracle_case *c = *state;
    cases_run++;
    const cJSON *nodes = field(c->json, "nodes");
    const char *file = string_field(c->json, "file");
    double max_batch = 0;
    number_field(c->json, "max_batch", &max_batch);
    struct problem p = {{0}, false};
    struct case_state s = {.name = c->name, .ulps = -1};
    if (bool_field(c->json, "float32") && !number_field(c->json, "ulps", &s.ulps))
        fail_msg("case %s: a float32 case without ulps", c->name);
    char path[4096];
    int count = cJSON_GetArraySize(nodes);

    if (!cJSON_IsArray(nodes) || count == 0 || !file) {
        fail_msg("case %s: the manifest gives no nodes or no file", c->name);
        return;
    }
    snprintf(path, sizeof path, "%s/%s", cases_dir, file);
    s.g = sn_graph_create(&(sn_graph_options){.seed = 7});
    s.tensors = calloc((size_t)count, sizeof *s.tensors);
    assert_non_null(s.g);
    assert_non_null(s.tensors);

    if (build_graph(s.g, nodes, s.tensors, &p)) {
        size_t inputs = 0, outputs = (size_t)cJSON_GetArraySize(field(c->json, "outputs"));
        for (int i = 0; i < count; i++)
            inputs += strcmp(string_field(cJSON_GetArrayItem(nodes, i), "op"), "input") == 0;
        sn_status st = sn_checkpoint_open(path, &s.ck);
        if (st != SN_OK)
            complain(&p, "%s: %s", sn_status_string(st), s.ck ? sn_checkpoint_error(s.ck) : path);
        else if (load(&s, path, inputs + outputs, &p) && bind(&s, c->json, &p))
            run_sessions(&s, (int)max_batch, &p);
    }
    free_state(&s);
    if (p.failed) fail_msg("case %s: %s", c->name, p.text);
}

/* ---- main ------------------------------------------------------------------------ */

static char *read_file(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    char *text = NULL;
    if (fseek(f, 0, SEEK_END) == 0) {
        long size = ftell(f);
        if (size >= 0 && fseek(f, 0, SEEK_SET) == 0 && (text = malloc((size_t)size + 1))) {
            if (fread(text, 1, (size_t)size, f) == (size_t)size)
                text[size] = '\0';
            else
                free(text), text = NULL;
        }
    }
    fclose(f);
    return text;
}

static bool exists(const char *path) {
    struct stat st;
    return stat(path, &st) == 0;
}

int main(int argc, char **argv) {
    setvbuf(stdout, NULL, _IOLBF, 0); /* in order with cmocka's stderr in a log */
    const char *dir = argc > 1 ? argv[1] : getenv("SCOPENN_ORACLE_CASES");
    char manifest_path[4096];
#ifdef SCOPENN_ORACLE_DEFAULT_DIR
    if (!dir || !*dir) {
        snprintf(manifest_path, sizeof manifest_path, "%s/manifest.json",
                 SCOPENN_ORACLE_DEFAULT_DIR);
        if (exists(manifest_path)) dir = SCOPENN_ORACLE_DEFAULT_DIR;
    }
#endif
    if (!dir || !*dir) {
        printf("test_oracle: skipped: no cases (give a directory made by "
               "tests/oracle/make_cases.py as the argument or in SCOPENN_ORACLE_CASES; "
               "tests/oracle/run.sh does both)\n");
        return 0;
    }
    cases_dir = dir;
    snprintf(manifest_path, sizeof manifest_path, "%s/manifest.json", dir);
    char *text = exists(manifest_path) ? read_file(manifest_path) : NULL;
    if (!text) {
        fprintf(stderr, "test_oracle: cannot read %s\n", manifest_path);
        return 1;
    }
    cJSON *manifest = cJSON_Parse(text);
    free(text);
    const cJSON *cases = field(manifest, "cases"), *item;
    const char *format = string_field(manifest, "format");
    if (!cJSON_IsArray(cases) || !format || strcmp(format, "scopenn-oracle") != 0 ||
        cJSON_GetArraySize(cases) == 0) {
        fprintf(stderr, "test_oracle: %s is not a scopenn-oracle manifest with cases\n",
                manifest_path);
        cJSON_Delete(manifest);
        return 1;
    }

    sn_cpu_info info;
    sn_cpu_info_get(&info);
    for (int i = 0; i <= (int)info.isa; i++) /* every kernel set up to the one in use */
        if ((info.isas >> i) & 1) isas[isa_count++] = (sn_isa)i;

    size_t n = (size_t)cJSON_GetArraySize(cases), k = 0;
    struct oracle_case *list = calloc(n, sizeof *list);
    struct CMUnitTest *tests = calloc(n, sizeof *tests);
    if (!list || !tests) return 1;
    cJSON_ArrayForEach(item, cases) {
        const char *name = string_field(item, "name");
        list[k] = (struct oracle_case){item, name ? name : "(unnamed)"};
        tests[k] = (struct CMUnitTest){list[k].name, test_case, NULL, NULL, &list[k]};
        k++;
    }
    const char *filter = getenv("SCOPENN_ORACLE_FILTER");
    if (filter && *filter) cmocka_set_test_filter(filter);

    char isa_names[64] = "";
    for (int i = 0; i < isa_count; i++) {
        strcat(isa_names, i ? " " : "");
        strcat(isa_names, sn_isa_name(isas[i]));
    }
    printf("test_oracle: %zu cases from %s; kernel sets: %s; threads 1 and 2\n", n, dir, isa_names);
    fflush(stdout);
    int failed = _cmocka_run_group_tests("oracle", tests, n, NULL, NULL);
    printf("test_oracle: %zu cases checked, %d failed (%zu runs, %zu values compared)\n", cases_run,
           failed, runs_checked, values_checked);
    if (closest_what[0])
        printf("test_oracle: the largest |diff| was %.3g of the tolerance (%s)\n", closest_ratio,
               closest_what);
    free(tests);
    free(list);
    cJSON_Delete(manifest);
    return failed ? 1 : 0;
}
