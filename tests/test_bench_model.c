/* `scopenn bench model NAME`: the text and JSON of a tiny run (the fields,
 * the profile's rows and their sum, startup), every model of the zoo
 * accepted with finite logits, weights from a file, usage errors (exit 2)
 * and run-time failures (exit 1). Images stay 32x32 and runs few: this
 * also runs under qemu. It checks what bench reports, never how fast
 * anything is. */
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

/* Runs `scopenn bench model ARGS...` (NULL-terminated). */
CLI_COMMAND(bench_model, "scopenn", "bench", "model")

/* The one JSON object of a successful --json run, checked for what every
 * run has; to be freed. */
static cJSON *parse_run(const struct run *r, const char *model) {
    if (r->code != 0) fail_msg("exit %d: %s", r->code, r->err);
    assert_string_equal(r->err, "");
    const char *newline = strchr(r->out, '\n');
    assert_non_null(newline);
    assert_string_equal(newline + 1, ""); /* one line */
    cJSON *root = cJSON_Parse(r->out);
    assert_non_null(root);
    assert_string_equal(json_string(root, "model"), model);
    cJSON *size = json_get(root, "size");
    assert_int_equal(cJSON_GetArraySize(size), 2);
    assert_int_equal(cJSON_GetArrayItem(size, 0)->valueint, 32);
    assert_int_equal(cJSON_GetArrayItem(size, 1)->valueint, 32);
    assert_string_equal(json_string(root, "isa"), sn_isa_name(sn_cpu_isa()));
    assert_int_equal(json_number(root, "threads"), 1);
    const double median = json_number(root, "median_ms"), min = json_number(root, "min_ms");
    assert_true(min >= 0 && median >= min);
    assert_true(json_number(root, "flops") > 0);
    assert_true(json_number(root, "gflops") >= 0);
    return root;
}

static void test_text(void **state) {
    (void)state;
    struct run r;
    bench_model(&r, "squeezenet1_1", "--size", "32x32", "--iters", "2", "--startup", "--profile",
                NULL);
    if (r.code != 0) fail_msg("exit %d: %s", r.code, r.err);
    assert_string_equal(r.err, "");
    assert_non_null(strstr(r.out, "model: squeezenet1_1 32x32, batch 1, weights random\n"));
    assert_non_null(strstr(r.out, "runs: 2 (warmup 1)\n"));
    assert_non_null(strstr(r.out, "ms per inference: median "));
    assert_non_null(strstr(r.out, "GFLOP/s: "));
    assert_non_null(strstr(r.out, "startup ms: build "));
    assert_non_null(strstr(r.out, "first run "));
    assert_non_null(strstr(r.out, " median runs (build + weights + session); first run "));
    assert_non_null(strstr(r.out, "memory MB: packs "));
    assert_non_null(strstr(r.out, "profile: "));
    assert_non_null(strstr(r.out, "node "));
    assert_non_null(strstr(r.out, "features/0/Conv2D "));
    assert_non_null(strstr(r.out, "Conv2D+BiasAdd+Relu"));

    bench_model(&r, "squeezenet1_1", "--size", "32x32", "--iters", "1", NULL);
    assert_int_equal(r.code, 0);
    assert_null(strstr(r.out, "startup"));
    assert_null(strstr(r.out, "profile"));
}

static void test_json(void **state) {
    (void)state;
    struct run r;
    bench_model(&r, "squeezenet1_1", "--size", "32x32", "--iters", "2", "--warmup", "0", "--json",
                "--startup", "--profile", NULL);
    cJSON *root = parse_run(&r, "squeezenet1_1");
    assert_true(cJSON_IsNull(json_get(root, "weights")));
    assert_int_equal(json_number(root, "iterations"), 2);
    assert_int_equal(json_number(root, "warmup"), 0);
    const cJSON *startup = json_get(root, "startup");
    static const char *const phases[] = {"build_ms", "weights_ms", "session_ms", "first_run_ms"};
    for (size_t i = 0; i < 4; i++) assert_true(json_number(startup, phases[i]) >= 0);
    /* squeezenet's packs hold its 1.2 M weights; the process holds them and more */
    const double packs = json_number(startup, "packed_bytes");
    assert_true(packs >= 1.2e6 * 4 && json_number(startup, "arena_bytes") > 0);
    assert_true(json_number(startup, "peak_rss_bytes") > packs);

    const cJSON *profile = json_get(root, "profile");
    assert_true(cJSON_IsArray(profile) && cJSON_GetArraySize(profile) > 0);
    double flops = 0, percent = 0, previous = INFINITY;
    int fused = 0, first_conv = 0;
    for (const cJSON *row = profile->child; row; row = row->next) {
        const char *name = json_string(row, "name"), *type = json_string(row, "type");
        assert_true(*json_string(row, "algorithm") != '\0');
        const double ms = json_number(row, "ms");
        assert_true(ms >= 0 && ms <= previous); /* slowest first */
        previous = ms;
        percent += json_number(row, "percent");
        flops += json_number(row, "flops");
        assert_true(json_number(row, "gflops") >= 0);
        fused += strcmp(type, "Conv2D+BiasAdd+Relu") == 0;
        first_conv += strcmp(name, "features/0/Conv2D") == 0;
    }
    assert_int_equal(first_conv, 1);             /* each node once */
    assert_int_equal(fused, 26);                 /* the stem, 8 fires x 3, the classifier */
    assert_true(flops == json_number(root, "flops")); /* exact: integers far below 2^53 */
    assert_true(percent == 0 || fabs(percent - 100) < 1e-6);
    cJSON_Delete(root);
}

/* Every model of the zoo runs on 32x32 random weights to finite logits
 * (a warning on stderr otherwise). */
static void test_every_model(void **state) {
    (void)state;
    for (const char *const *name = sn_model_names(); *name; name++) {
        struct run r;
        bench_model(&r, *name, "--size", "32x32", "--iters", "1", "--warmup", "0", "--json", NULL);
        cJSON_Delete(parse_run(&r, *name));
    }
}

/* A checkpoint of squeezenet1_1's variables, at `path`. */
static void save_squeezenet(const char *path) {
    sn_graph *g = sn_graph_create(NULL);
    sn_tensor *images = sn_placeholder(g, "images", SN_SHAPE(1, 32, 32, 3));
    assert_non_null(sn_model_build(g, "squeezenet1_1", images));
    assert_int_equal(sn_graph_save_checkpoint(g, path), SN_OK);
    sn_graph_destroy(g);
}

static void test_weights(void **state) {
    (void)state;
    char path[] = "/tmp/test_bench_model_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    save_squeezenet(path);
    struct run r;
    bench_model(&r, "squeezenet1_1", "--size", "32x32", "--iters", "1", "--weights", path, "--json",
                NULL);
    cJSON *root = parse_run(&r, "squeezenet1_1");
    assert_string_equal(json_string(root, "weights"), path);
    cJSON_Delete(root);

    bench_model(&r, "mobilenet_v3_small", "--size", "32x32", "--weights", path, NULL);
    assert_int_equal(r.code, 1);
    assert_string_equal(r.out, "");
    assert_non_null(strstr(r.err, "not the weights of mobilenet_v3_small"));
    unlink(path);

    bench_model(&r, "squeezenet1_1", "--size", "32x32", "--weights", path, NULL);
    assert_int_equal(r.code, 1);
    assert_non_null(strstr(r.err, "scopenn bench model: "));
    assert_non_null(strstr(r.err, path));
}

static void test_usage(void **state) {
    (void)state;
    struct run r;
    bench_model(&r, "nope", NULL);
    assert_int_equal(r.code, 2);
    assert_string_equal(r.out, "");
    assert_non_null(strstr(r.err, "unknown model 'nope'"));
    assert_non_null(strstr(r.err, "squeezenet1_1"));

    static const char *const bad[][3] = {
        {"--size", "32", NULL},     {"--size", "0x32", NULL}, {"--size", "32x32x3", NULL},
        {"--size", "-32x32", NULL}, {"--iters", "0", NULL},   {"--threads", "-1", NULL},
        {"--isa", "sse9", NULL},    {"--warmup", "x", NULL},  {"--bogus", NULL, NULL},
        {"--weights", NULL, NULL},  {"extra", NULL, NULL},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        bench_model(&r, "squeezenet1_1", bad[i][0], bad[i][1], NULL);
        if (r.code != 2) fail_msg("%s %s: exit %d", bad[i][0], bad[i][1], r.code);
        assert_string_equal(r.out, "");
        assert_true(strncmp(r.err, "scopenn bench model: ", 21) == 0);
        assert_non_null(strstr(r.err, "usage: scopenn bench model NAME"));
    }
    bench_model(&r, NULL);
    assert_int_equal(r.code, 2);
    assert_non_null(strstr(r.err, "NAME missing"));

    bench_model(&r, "--help", NULL);
    assert_int_equal(r.code, 0);
    assert_string_equal(r.err, "");
    assert_non_null(strstr(r.out, "usage: scopenn bench model NAME"));
    assert_non_null(strstr(r.out, "efficientnet_b0"));

    /* a model too large for the image */
    bench_model(&r, "squeezenet1_1", "--size", "4x4", NULL);
    assert_int_equal(r.code, 1);
    assert_non_null(strstr(r.err, "cannot run on 4x4 images"));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_text),        cmocka_unit_test(test_json),
        cmocka_unit_test(test_weights),     cmocka_unit_test(test_usage),
        cmocka_unit_test(test_every_model),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
