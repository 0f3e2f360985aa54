/* `scopenn run`: squeezenet1_1 on two 32x32 images, its weights random
 * (glorot, seeded) and saved by the library, so no PyTorch is needed and
 * it runs under qemu. The top-K classes, probabilities and logits, in text
 * and JSON, are checked against a session of the same graph run here; then
 * every bad input: exit code, a message naming the problem, nothing on
 * stdout. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <cjson/cJSON.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli_run.h"
#include "scopenn.h"
#include "scopenn_models.h"

#define MODEL "squeezenet1_1"
#define BATCH 2
#define SIZE 32
#define CLASSES 1000
#define PIXELS (SIZE * SIZE * 3)

static char tmpdir[256];
static char weights[512], input[512];
static float images[BATCH * PIXELS];  /* NHWC */
static float logits[BATCH * CLASSES]; /* what a session of the same graph computes */

/* Runs `scopenn run ARGS...` (NULL-terminated). */
CLI_COMMAND(run, "scopenn", "run")

/* Runs `scopenn ARGS...` (NULL-terminated). */
CLI_COMMAND(tool, "scopenn")

static void path_in_tmpdir(char *path, size_t size, const char *name) {
    snprintf(path, size, "%s/%s", tmpdir, name);
}

/* A tensor to write: name, shape, float data. */
struct tensor {
    const char *name;
    sn_shape shape;
    const float *data;
};

static size_t count_of(const sn_shape *s) {
    size_t n = 1;
    for (int d = 0; d < s->rank; d++) n *= (size_t)s->dims[d];
    return n;
}

/* Writes F32 safetensors `name` in tmpdir; its path in `path`. */
static void write_tensors(char *path, size_t size, const char *name, const struct tensor *t,
                          int n) {
    char header[1024] = "{", *h = header + 1;
    size_t offset = 0;
    for (int i = 0; i < n; i++) {
        size_t bytes = 4 * count_of(&t[i].shape);
        h += sprintf(h, "%s\"%s\":{\"dtype\":\"F32\",\"shape\":[", i ? "," : "", t[i].name);
        for (int d = 0; d < t[i].shape.rank; d++)
            h += sprintf(h, "%s%lld", d ? "," : "", (long long)t[i].shape.dims[d]);
        h += sprintf(h, "],\"data_offsets\":[%zu,%zu]}", offset, offset + bytes);
        offset += bytes;
    }
    strcpy(h, "}");
    path_in_tmpdir(path, size, name);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    uint64_t len = strlen(header);
    for (int i = 0; i < 8; i++) fputc((int)((len >> (8 * i)) & 0xff), f);
    fputs(header, f);
    for (int i = 0; i < n; i++) /* little-endian hosts only, as the library */
        assert_int_equal(fwrite(t[i].data, 4, count_of(&t[i].shape), f), count_of(&t[i].shape));
    assert_int_equal(fclose(f), 0);
}

/* The model with random weights: saved as the weights file, run on the
 * images for the reference logits. */
static int setup(void **state) {
    (void)state;
    const char *base = getenv("TMPDIR");
    snprintf(tmpdir, sizeof tmpdir, "%s/scopenn-run-XXXXXX", base && *base ? base : "/tmp");
    if (!mkdtemp(tmpdir)) return -1;
    uint32_t seed = 99;
    for (size_t i = 0; i < sizeof images / sizeof images[0]; i++) {
        seed = seed * 1664525u + 1013904223u;
        images[i] = (float)(seed >> 8) / 8388608.0f - 1.0f;
    }
    sn_graph *g = sn_graph_create(&(sn_graph_options){.seed = 5});
    sn_tensor *x = sn_placeholder(g, "images", SN_SHAPE(BATCH, SIZE, SIZE, 3));
    sn_tensor *y = sn_model_build(g, MODEL, x);
    sn_session *s = y ? sn_session_create(g, SN_FETCH(y), NULL) : NULL;
    sn_output out;
    path_in_tmpdir(weights, sizeof weights, "weights.safetensors");
    int ok = s &&
             sn_session_run(s, &(sn_feed){x, images, SN_SHAPE(BATCH, SIZE, SIZE, 3)}, 1, &out) ==
                 SN_OK &&
             sn_graph_save_checkpoint(g, weights) == SN_OK;
    if (ok) memcpy(logits, out.data, sizeof logits);
    sn_session_destroy(s);
    sn_graph_destroy(g);
    if (!ok) return -1;
    write_tensors(input, sizeof input, "input.safetensors",
                  &(struct tensor){"input", SN_SHAPE(BATCH, SIZE, SIZE, 3), images}, 1);
    return 0;
}

static int teardown(void **state) {
    (void)state;
    unlink(weights);
    unlink(input);
    return rmdir(tmpdir);
}

/* The k + 1 classes of image n with the largest reference logits,
 * largest first. */
static void reference_top(int n, int k, int *top) {
    const float *l = logits + n * CLASSES;
    for (int j = 0; j <= k; j++) {
        int best = -1;
        for (int c = 0; c < CLASSES; c++) {
            int taken = 0;
            for (int t = 0; t < j; t++) taken |= top[t] == c;
            if (!taken && (best < 0 || l[c] > l[best])) best = c;
        }
        top[j] = best;
    }
    assert_true(l[top[k - 1]] > l[top[k]]); /* no tie at the cut: the order is known */
}

/* The softmax of image n's reference logits, for class c. */
static double reference_probability(int n, int c) {
    const float *l = logits + n * CLASSES;
    double max = l[0], sum = 0;
    for (int i = 1; i < CLASSES; i++) /* not fmax: GCC 12 for aarch64 fails vectorizing it */
        if (l[i] > max) max = l[i];
    for (int i = 0; i < CLASSES; i++) sum += exp(l[i] - max);
    return exp(l[c] - max) / sum;
}

/* The text rows of each image: class, probability and logit, checked
 * against the reference. */
static void check_text(const char *out, int k) {
    char want[64];
    for (int n = 0; n < BATCH; n++) {
        snprintf(want, sizeof want, "image %d: top %d of %d classes\n", n, k, CLASSES);
        const char *p = strstr(out, want);
        assert_non_null(p);
        p = strchr(strchr(p, '\n') + 1, '\n') + 1; /* past the column names */
        int top[8];
        reference_top(n, k, top);
        for (int j = 0; j < k; j++) {
            int c, used;
            double prob, logit;
            assert_int_equal(sscanf(p, "%d %lf %lf%n", &c, &prob, &logit, &used), 3);
            assert_int_equal(c, top[j]);
            assert_float_equal(logit, logits[n * CLASSES + c], 1e-4);
            assert_float_equal(prob, reference_probability(n, c), 1e-6);
            p = strchr(p + used, '\n') + 1;
        }
    }
}

static void test_text(void **state) {
    (void)state;
    struct run r;
    run(&r, MODEL, "--weights", weights, "--input", input, NULL);
    if (r.code) fail_msg("%s", r.err);
    assert_string_equal(r.err, "");
    check_text(r.out, 5);
    assert_non_null(strstr(r.out, "model: " MODEL ", weights "));
    assert_non_null(strstr(r.out, "\"input\" (2, 32, 32, 3) NHWC\n"));
    assert_null(strstr(r.out, "expected"));
    assert_non_null(strstr(r.out, "\ntime: "));
}

/* A --json run's images, checked against the reference: the top k
 * classes in order, their probabilities and logits. */
static void check_json_images(const cJSON *root, int batch, int k) {
    cJSON *list = json_get(root, "images");
    assert_int_equal(cJSON_GetArraySize(list), batch);
    for (int n = 0; n < batch; n++) {
        cJSON *image = cJSON_GetArrayItem(list, n);
        assert_int_equal(cJSON_GetArraySize(image), k);
        int top[8];
        reference_top(n, k, top);
        double sum = 0, previous = 2;
        for (int j = 0; j < k; j++) {
            cJSON *e = cJSON_GetArrayItem(image, j);
            int c = json_get(e, "class")->valueint;
            double p = json_get(e, "probability")->valuedouble;
            assert_int_equal(c, top[j]);
            assert_float_equal(p, reference_probability(n, c), 1e-6);
            assert_float_equal(json_get(e, "logit")->valuedouble, logits[n * CLASSES + c], 1e-4);
            assert_true(p <= previous);
            previous = p, sum += p;
        }
        assert_true(sum > 0 && sum <= 1 + 1e-6);
    }
}

static void test_json(void **state) {
    (void)state;
    struct run r;
    run(&r, MODEL, "--json", "--top", "3", "--threads", "2", "--weights", weights, "--input", input,
        NULL);
    if (r.code) fail_msg("%s", r.err);
    assert_string_equal(r.err, "");
    cJSON *root = cJSON_Parse(r.out);
    assert_non_null(root);
    assert_string_equal(json_get(root, "model")->valuestring, MODEL);
    assert_string_equal(json_get(root, "weights")->valuestring, weights);
    assert_string_equal(json_get(root, "input")->valuestring, input);
    assert_string_equal(json_get(root, "tensor")->valuestring, "input");
    cJSON *shape = json_get(root, "input_shape");
    const int want[4] = {BATCH, SIZE, SIZE, 3};
    assert_int_equal(cJSON_GetArraySize(shape), 4);
    for (int d = 0; d < 4; d++) assert_int_equal(cJSON_GetArrayItem(shape, d)->valueint, want[d]);
    assert_int_equal(json_get(root, "classes")->valueint, CLASSES);
    assert_int_equal(json_get(root, "threads")->valueint, 2);
    assert_string_equal(json_get(root, "isa")->valuestring, sn_isa_name(sn_cpu_isa()));
    assert_true(json_get(root, "ms")->valuedouble > 0);
    assert_null(cJSON_GetObjectItem(root, "expected_max_abs_diff"));
    check_json_images(root, BATCH, 3);
    cJSON_Delete(root);
}

/* "expected" beside the images: the largest difference to it is printed;
 * one of another shape is left aside with a warning. */
static void test_expected(void **state) {
    (void)state;
    char path[512];
    struct tensor t[2] = {{"input", SN_SHAPE(BATCH, SIZE, SIZE, 3), images},
                          {"expected", SN_SHAPE(BATCH, CLASSES), logits}};
    write_tensors(path, sizeof path, "expected.safetensors", t, 2);
    struct run r;
    run(&r, MODEL, "--weights", weights, "--input", path, NULL);
    assert_int_equal(r.code, 0);
    assert_non_null(strstr(r.out, "\nmax abs difference to \"expected\": "));
    run(&r, MODEL, "--weights", weights, "--input", path, "--json", NULL);
    assert_int_equal(r.code, 0);
    cJSON *root = cJSON_Parse(r.out);
    assert_non_null(root);
    double diff = json_get(root, "expected_max_abs_diff")->valuedouble;
    assert_true(diff >= 0 && diff <= 1e-4);
    cJSON_Delete(root);

    t[1].shape = SN_SHAPE(CLASSES, BATCH);
    write_tensors(path, sizeof path, "expected.safetensors", t, 2);
    run(&r, MODEL, "--weights", weights, "--input", path, NULL);
    assert_int_equal(r.code, 0);
    check_text(r.out, 5);
    assert_null(strstr(r.out, "max abs difference"));
    assert_non_null(strstr(r.err, "warning"));
    assert_non_null(strstr(r.err, "\"expected\" is (1000, 2), not the logits' (2, 1000)"));
    unlink(path);
}

/* NCHW images: refused with the way out, or transposed with --nchw. */
static void test_nchw(void **state) {
    (void)state;
    static float nchw[BATCH * PIXELS];
    for (int n = 0; n < BATCH; n++)
        for (int p = 0; p < SIZE * SIZE; p++)
            for (int c = 0; c < 3; c++)
                nchw[(n * 3 + c) * SIZE * SIZE + p] = images[(n * SIZE * SIZE + p) * 3 + c];
    char path[512];
    write_tensors(path, sizeof path, "nchw.safetensors",
                  &(struct tensor){"input", SN_SHAPE(BATCH, 3, SIZE, SIZE), nchw}, 1);
    struct run r;
    run(&r, MODEL, "--weights", weights, "--input", path, NULL);
    assert_int_equal(r.code, 1);
    assert_string_equal(r.out, "");
    assert_non_null(strstr(r.err, "\"input\" is (2, 3, 32, 32)"));
    assert_non_null(strstr(r.err, "NCHW"));
    assert_non_null(strstr(r.err, "--nchw"));
    assert_non_null(strstr(r.err, "x.permute(0, 2, 3, 1)"));
    run(&r, MODEL, "--weights", weights, "--input", path, "--nchw", NULL);
    if (r.code) fail_msg("%s", r.err);
    check_text(r.out, 5);
    assert_non_null(strstr(r.out, "(2, 32, 32, 3) NHWC (from NCHW)\n"));
    run(&r, MODEL, "--weights", weights, "--input", input, "--nchw", NULL); /* NHWC after all */
    assert_int_equal(r.code, 1);
    assert_non_null(strstr(r.err, "it looks NHWC: leave out --nchw"));
    unlink(path);
}

/* One image [H, W, 3], the file's only tensor, whatever its name. */
static void test_single_image(void **state) {
    (void)state;
    char path[512];
    write_tensors(path, sizeof path, "one.safetensors",
                  &(struct tensor){"picture", SN_SHAPE(SIZE, SIZE, 3), images}, 1);
    struct run r;
    run(&r, MODEL, "--weights", weights, "--input", path, "--json", "--top", "4", NULL);
    if (r.code) fail_msg("%s", r.err);
    cJSON *root = cJSON_Parse(r.out);
    assert_non_null(root);
    assert_string_equal(json_get(root, "tensor")->valuestring, "picture");
    assert_int_equal(cJSON_GetArrayItem(json_get(root, "input_shape"), 0)->valueint, 1);
    check_json_images(root, 1, 4);
    cJSON_Delete(root);
    unlink(path);
}

/* A run-time failure: exit 1, nothing on stdout, each of `want` in the
 * message. */
static void expect_failure(const char *model, const char *weights_path, const char *input_path,
                           const char *want1, const char *want2) {
    struct run r;
    for (int json = 0; json < 2; json++) {
        if (json)
            run(&r, model, "--weights", weights_path, "--input", input_path, "--json", NULL);
        else
            run(&r, model, "--weights", weights_path, "--input", input_path, NULL);
        assert_int_equal(r.code, 1);
        assert_string_equal(r.out, "");
        assert_memory_equal(r.err, "scopenn run: ", 13);
        if (!strstr(r.err, want1) || (want2 && !strstr(r.err, want2)))
            fail_msg("want \"%s\" and \"%s\" in: %s", want1, want2 ? want2 : "", r.err);
    }
}

static void test_bad_inputs(void **state) {
    (void)state;
    char path[512], missing[512];
    path_in_tmpdir(missing, sizeof missing, "missing.safetensors");
    expect_failure(MODEL, weights, missing, "missing.safetensors", "No such file");
    expect_failure(MODEL, missing, input, "missing.safetensors", "No such file");
    /* the weights are not images: which tensor? */
    expect_failure(MODEL, weights, weights, "which tensor holds the images?",
                   "\"features/0/weights\"");
    /* weights of another model */
    expect_failure("resnet18", weights, input, "not the weights of resnet18",
                   "variables of the model missing from the file (conv1/weights");
    expect_failure("mobilenet_v2", weights, input,
                   "tensors in the file that the model does not have (features/0/weights", NULL);

    static float zeros[PIXELS]; /* enough for each shape below */
    static const struct {
        sn_shape shape;
        const char *want1, *want2;
    } bad[] = {
        {SN_SHAPE(SIZE, SIZE), "is (32, 32): want NHWC images [N, H, W, 3]", NULL},
        {SN_SHAPE(1, 1, 8, 8, 3), "is (1, 1, 8, 8, 3)", NULL},
        {SN_SHAPE(1, 8, 8, 4), "is (1, 8, 8, 4)", "3 channels"},
        {SN_SHAPE(8, 8, 1), "is (8, 8, 1)", "3 channels"},
        {SN_SHAPE(0, 8, 8, 3), "is (0, 8, 8, 3)", "no image"},
        {SN_SHAPE(1, 8, 8, 3), MODEL " cannot run on 8x8 images (too small?)", "MaxPool"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        write_tensors(path, sizeof path, "bad.safetensors",
                      &(struct tensor){"input", bad[i].shape, zeros}, 1);
        expect_failure(MODEL, weights, path, bad[i].want1, bad[i].want2);
    }
    /* names as the file's JSON spells them: a tab is printed escaped */
    struct tensor two[2] = {{"a", SN_SHAPE(1, 8, 8, 3), zeros}, {"b\\tc", SN_SHAPE(2), zeros}};
    write_tensors(path, sizeof path, "bad.safetensors", two, 2);
    expect_failure(MODEL, weights, path, "Name it \"input\" or \"images\"",
                   "(it holds \"a\", \"b\\tc\")");
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fputs("not a safetensors file", f);
    assert_int_equal(fclose(f), 0);
    expect_failure(MODEL, weights, path, "bad.safetensors", NULL);
    unlink(path);
}

static void test_usage(void **state) {
    (void)state;
    struct run r;
    static const struct {
        const char *args[4];
        const char *want;
    } cases[] = {
        {{"--weights", "w", "--input", "x"}, "MODEL missing"},
        {{MODEL, "--input", "x"}, "--weights FILE missing"},
        {{MODEL, "--weights", "w"}, "--input FILE missing"},
        {{MODEL, "--top", "0"}, "bad value '0' for --top"},
        {{MODEL, "--threads", "-1"}, "bad value '-1' for --threads"},
        {{MODEL, "--frobnicate"}, "unknown flag '--frobnicate'"},
        {{MODEL, "resnet18"}, "extra argument 'resnet18'"},
        {{MODEL, "--weights"}, "--weights needs a value"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        run(&r, cases[i].args[0], cases[i].args[1], cases[i].args[2], cases[i].args[3], NULL);
        assert_int_equal(r.code, 2);
        assert_string_equal(r.out, "");
        if (!strstr(r.err, cases[i].want)) fail_msg("want \"%s\" in: %s", cases[i].want, r.err);
        assert_non_null(strstr(r.err, "usage: scopenn run MODEL"));
    }
    /* an unknown model: the zoo's names, however many */
    run(&r, "alexnet", "--weights", weights, "--input", input, NULL);
    assert_int_equal(r.code, 2);
    assert_string_equal(r.out, "");
    assert_non_null(strstr(r.err, "unknown model 'alexnet'"));
    for (const char *const *m = sn_model_names(); *m; m++) assert_non_null(strstr(r.err, *m));

    run(&r, "--help", NULL);
    assert_int_equal(r.code, 0);
    assert_non_null(strstr(r.out, "usage: scopenn run MODEL --weights FILE --input FILE"));
    for (const char *const *m = sn_model_names(); *m; m++) assert_non_null(strstr(r.out, *m));
    tool(&r, "help", NULL);
    assert_int_equal(r.code, 0);
    assert_non_null(strstr(r.out, "\n  run MODEL --weights FILE --input FILE"));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_text),         cmocka_unit_test(test_json),
        cmocka_unit_test(test_expected),     cmocka_unit_test(test_nchw),
        cmocka_unit_test(test_single_image), cmocka_unit_test(test_bad_inputs),
        cmocka_unit_test(test_usage),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
