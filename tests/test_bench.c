/* `scopenn bench` and the FMA peak probe: the JSON of tiny conv2d and
 * matmul runs (exact flop counts, the runs asked for), the text table, the
 * probe on this CPU and on another architecture's ISA, usage errors (exit
 * 2) and run-time failures (exit 1). Shapes stay tiny: this also runs under
 * qemu. It checks what bench reports, never how fast anything is. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <cjson/cJSON.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <math.h>
#include <string.h>

#include "cli_run.h"
#include "kernels/peak.h"
#include "scopenn.h"

/* Runs `scopenn bench ARGS...` (NULL-terminated). */
CLI_COMMAND(bench, "scopenn", "bench")

static void assert_dims(const cJSON *o, const char *key, const int *want, int n) {
    cJSON *array = json_get(o, key);
    assert_true(cJSON_IsArray(array));
    assert_int_equal(cJSON_GetArraySize(array), n);
    for (int i = 0; i < n; i++) assert_int_equal(cJSON_GetArrayItem(array, i)->valueint, want[i]);
}

/* The one workload of a --json run (one JSON object on one line), checked
 * for what every workload has; `root` receives it, to be freed. */
static const cJSON *only_workload(const struct run *r, cJSON **root, const char *name,
                                  double macs) {
    assert_int_equal(r->code, 0);
    assert_string_equal(r->err, "");
    const char *newline = strchr(r->out, '\n');
    assert_non_null(newline);
    assert_string_equal(newline + 1, ""); /* one line */
    *root = cJSON_Parse(r->out);
    assert_non_null(*root);
    const cJSON *w = *root;
    assert_string_equal(json_get(w, "workload")->valuestring, name);
    assert_true(cJSON_IsString(json_get(w, "shape")));
    assert_string_equal(json_get(w, "isa")->valuestring, sn_isa_name(sn_cpu_isa()));
    assert_int_equal(json_number(w, "threads"), 1);
    assert_true(json_number(w, "macs") == macs); /* exact: integers far below 2^53 */
    assert_true(json_number(w, "flops") == 2 * macs);
    double median = json_number(w, "median_ms"), min = json_number(w, "min_ms");
    assert_true(min >= 0 && median >= min);
    assert_true(json_number(w, "gflops") >= 0);
    return w;
}

static void test_conv2d_json(void **state) {
    (void)state;
    struct run r;
    cJSON *root;
    /* VALID, stride 2: 6x5 -> 2x2; MACs = N*OH*OW*OC*KH*KW*IC = 1*2*2*4*3*3*3 */
    bench(&r, "conv2d", "--input", "1x6x5x3", "--filter", "3x3x3x4", "--stride", "2", "--padding",
          "valid", "--iters", "2", "--warmup", "1", "--json", "--no-peak", NULL);
    const cJSON *w = only_workload(&r, &root, "conv2d", 1 * 2 * 2 * 4 * 3 * 3 * 3);
    assert_string_equal(json_get(w, "op")->valuestring, "conv2d");
    assert_dims(w, "input", (int[]){1, 6, 5, 3}, 4);
    assert_dims(w, "filter", (int[]){3, 3, 3, 4}, 4);
    assert_dims(w, "output", (int[]){1, 2, 2, 4}, 4);
    assert_int_equal(json_number(w, "stride"), 2);
    assert_int_equal(json_number(w, "dilation"), 1);
    assert_string_equal(json_get(w, "padding")->valuestring, "valid");
    assert_int_equal(json_number(w, "iterations"), 2);
    assert_int_equal(json_number(w, "warmup"), 1);
    assert_true(cJSON_IsNull(json_get(w, "peak_gflops"))); /* --no-peak */
    assert_true(cJSON_IsNull(json_get(w, "pct_peak")));
    cJSON_Delete(root);

    /* SAME, stride 2, dilation 2, batch 2: 5x7 -> 3x4, every tap counted */
    bench(&r, "conv2d", "--input", "2x5x7x2", "--filter", "3x3x2x3", "--stride", "2", "--dilation",
          "2", "--iters", "3", "--warmup", "0", "--json", "--no-peak", NULL);
    w = only_workload(&r, &root, "conv2d", 2 * 3 * 4 * 3 * 3 * 3 * 2);
    assert_dims(w, "output", (int[]){2, 3, 4, 3}, 4);
    assert_string_equal(json_get(w, "padding")->valuestring, "same");
    assert_int_equal(json_number(w, "dilation"), 2);
    assert_int_equal(json_number(w, "iterations"), 3);
    assert_int_equal(json_number(w, "warmup"), 0);
    assert_string_equal(json_get(w, "algorithm")->valuestring, "direct"); /* stride 2 */
    cJSON_Delete(root);

    /* 3x3, stride 1, 16 channels: Winograd on a kernel set with tile
     * kernels, unless --direct; the MACs are the direct convolution's */
    const char *winograd = sn_cpu_isa() == SN_ISA_SCALAR ? "direct" : "winograd";
    for (int direct = 0; direct < 2; direct++) {
        bench(&r, "conv2d", "--input", "1x6x7x16", "--filter", "3x3x16x16", "--iters", "1",
              "--json", "--no-peak", direct ? "--direct" : NULL, NULL);
        w = only_workload(&r, &root, "conv2d", 1 * 6 * 7 * 16 * 3 * 3 * 16);
        assert_string_equal(json_get(w, "algorithm")->valuestring, direct ? "direct" : winograd);
        cJSON_Delete(root);
    }
}

static void test_matmul_json(void **state) {
    (void)state;
    struct run r;
    cJSON *root;
    bench(&r, "matmul", "--m", "3", "--k", "4", "--n", "5", "--iters", "2", "--warmup", "1",
          "--json", "--no-peak", NULL);
    const cJSON *w = only_workload(&r, &root, "matmul", 3 * 4 * 5);
    assert_string_equal(json_get(w, "op")->valuestring, "matmul");
    assert_int_equal(json_number(w, "m"), 3);
    assert_int_equal(json_number(w, "k"), 4);
    assert_int_equal(json_number(w, "n"), 5);
    assert_dims(w, "output", (int[]){3, 5}, 2);
    assert_int_equal(json_number(w, "iterations"), 2);
    assert_string_equal(json_get(w, "algorithm")->valuestring, "direct");
    cJSON_Delete(root);

    /* 64 x 512 x 1024: Strassen on a kernel set with tile kernels, unless
     * --direct; the MACs are the plain product's */
    const char *strassen = sn_cpu_isa() == SN_ISA_SCALAR ? "direct" : "strassen";
    for (int direct = 0; direct < 2; direct++) {
        bench(&r, "matmul", "--m", "64", "--k", "512", "--n", "1024", "--iters", "1", "--json",
              "--no-peak", direct ? "--direct" : NULL, NULL);
        w = only_workload(&r, &root, "matmul", 64.0 * 512 * 1024);
        assert_string_equal(json_get(w, "algorithm")->valuestring, direct ? "direct" : strassen);
        cJSON_Delete(root);
    }
}

/* Named workloads: their shapes from the table. */
static void test_named_workload(void **state) {
    (void)state;
    struct run r;
    cJSON *root;
    bench(&r, "dense_mv", "--iters", "1", "--warmup", "0", "--json", "--no-peak", NULL);
    const cJSON *w = only_workload(&r, &root, "dense_mv", 1024.0 * 1024.0);
    assert_int_equal(json_number(w, "m"), 1);
    assert_int_equal(json_number(w, "iterations"), 1);
    cJSON_Delete(root);
    /* a depthwise one: MACs = N*OH*OW*C*KH*KW */
    bench(&r, "dw5x5", "--iters", "1", "--warmup", "0", "--json", "--no-peak", NULL);
    w = only_workload(&r, &root, "dw5x5", 14.0 * 14 * 480 * 5 * 5);
    assert_string_equal(json_get(w, "op")->valuestring, "depthwise_conv2d");
    assert_string_equal(json_get(w, "algorithm")->valuestring, "depthwise");
    assert_string_equal(json_get(w, "shape")->valuestring, "1x14x14x480 5x5 dw s1 same");
    assert_dims(w, "filter", (const int[]){5, 5, 480, 1}, 4);
    assert_dims(w, "output", (const int[]){1, 14, 14, 480}, 4);
    cJSON_Delete(root);
}

/* With the peak: measured once for the kernel set in use, and each
 * workload's share of it. */
static void test_peak_in_json_and_text(void **state) {
    (void)state;
    struct run r;
    cJSON *root;
    bench(&r, "matmul", "--m", "2", "--k", "8", "--n", "8", "--iters", "1", "--json", NULL);
    const cJSON *w = only_workload(&r, &root, "matmul", 2 * 8 * 8);
    const char *isa = sn_isa_name(sn_cpu_isa());
    assert_true(json_number(w, "peak_gflops") > 0);
    assert_true(json_number(w, "pct_peak") >= 0);
    assert_true(fabs(json_number(w, "pct_peak") - 100 * json_number(w, "gflops") / json_number(w, "peak_gflops")) <
                1e-6);
    cJSON_Delete(root);

    bench(&r, "matmul", "--m", "2", "--k", "8", "--n", "8", "--iters", "1", NULL);
    assert_int_equal(r.code, 0);
    char want[64];
    snprintf(want, sizeof want, "peak: %s ", isa);
    assert_memory_equal(r.out, want, strlen(want)); /* the first line */
    assert_non_null(strstr(r.out, " GFLOP/s (1 thread)\n"));
    assert_non_null(strstr(r.out, "\nworkload "));
    assert_non_null(strstr(r.out, "\nmatmul "));
    assert_non_null(strstr(r.out, "[2x8]x[8x8]"));
}

static void test_text_without_peak(void **state) {
    (void)state;
    struct run r;
    bench(&r, "conv2d", "--input", "1x4x4x2", "--filter", "1x1x2x2", "--iters", "2", "--no-peak",
          NULL);
    assert_int_equal(r.code, 0);
    assert_string_equal(r.err, "");
    assert_memory_equal(r.out, "workload ", 9); /* no peak line */
    assert_non_null(strstr(r.out, "\nconv2d "));
    assert_non_null(strstr(r.out, "1x4x4x2 1x1 2->2 s1 same"));
    assert_null(strstr(r.out, "peak:"));
}

static void test_peak_probe(void **state) {
    (void)state;
    sn_cpu_info info;
    sn_cpu_info_get(&info);
    assert_true(sn_fma_peak_gflops(sn_cpu_isa()) > 0);
    for (int isa = 0; isa < SN_ISA_COUNT; isa++) {
        double gflops = sn_fma_peak_gflops((sn_isa)isa);
        if ((info.isas >> isa) & 1)
            assert_true(gflops > 0);
        else
            assert_true(gflops == 0);
    }
    /* another architecture's kernel set */
#if SN_ARCH_X86_64
    assert_true(sn_fma_peak_gflops(SN_ISA_NEON) == 0);
#elif SN_ARCH_ARM
    assert_true(sn_fma_peak_gflops(SN_ISA_AVX2) == 0);
    assert_true(sn_fma_peak_gflops(SN_ISA_AVX512) == 0);
#endif
    assert_true(sn_fma_peak_gflops(SN_ISA_COUNT) == 0);
    assert_true(sn_fma_peak_gflops((sn_isa)-1) == 0);
}

static void test_usage_errors_exit_2(void **state) {
    (void)state;
    char *cases[][12] = {
        {"frobnicate"},
        {"--frobnicate"},
        {"--iters"},
        {"--iters", "0"},
        {"--iters", "x"},
        {"--warmup", "-1"},
        {"--threads", "-1"},
        {"--isa", "sse9"},
        {"conv2d"},
        {"conv2d", "--input", "1x8x8x3"},
        {"conv2d", "--input", "1x8x8", "--filter", "3x3x3x4"},
        {"conv2d", "--input", "1x8x8x0", "--filter", "3x3x0x4"},
        {"conv2d", "--input", "1x8x8x3", "--filter", "3x3x4x4"}, /* IC != C */
        {"conv2d", "--input", "1x2x2x3", "--filter", "3x3x3x4", "--padding", "valid"},
        {"conv2d", "--input", "1x8x8x3", "--filter", "3x3x3x4", "--padding", "full"},
        {"conv2d", "--input", "1x8x8x3", "--filter", "3x3x3x4", "--stride", "0"},
        {"conv2d", "--input", "1x8x8x3", "--filter", "3x3x3x4", "--dilation", "0"},
        {"--input", "1x8x8x3", "--filter", "3x3x3x4"}, /* shape flags without conv2d */
        {"matmul", "--m", "2", "--k", "2"},
        {"matmul", "--m", "2", "--k", "2", "--n", "-2"},
        {"matmul", "--m", "100000", "--k", "100000", "--n", "1"}, /* 2^28 elements at most */
        {"--m", "2"},
        {"matmul", "matmul", "--m", "1", "--k", "1", "--n", "1"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct run r;
        char *const *c = cases[i];
        bench(&r, c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7], c[8], c[9], c[10], c[11]);
        if (r.code != 2)
            fail_msg("case %zu (%s %s %s): exit %d, want 2", i, c[0], c[1], c[2], r.code);
        assert_string_equal(r.out, "");
        assert_memory_equal(r.err, "scopenn bench: ", 15);
        assert_non_null(strstr(r.err, "usage: scopenn bench"));
    }
}

static void test_help(void **state) {
    (void)state;
    struct run r;
    bench(&r, "--help", NULL);
    assert_int_equal(r.code, 0);
    assert_non_null(strstr(r.out, "usage: scopenn bench"));
    const char *names[] = {"seed_filter", "seed_filter_big", "resnet3x3", "pointwise",
                           "stem",        "dense_mv",        "dense_mm"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        char line[64];
        snprintf(line, sizeof line, "\n  %s ", names[i]);
        assert_non_null(strstr(r.out, line));
    }
    /* and the tool's own usage names the command */
    FILE *out = tmpfile(), *err = tmpfile();
    char *argv[] = {"scopenn", "help"};
    assert_int_equal(sn_cli_main(2, argv, out, err), 0);
    cli_slurp(out, r.out, sizeof r.out);
    cli_slurp(err, r.err, sizeof r.err);
    assert_non_null(strstr(r.out, "\n  bench "));
}

/* ---- run-time failures: an allocator that refuses ---------------------- */

struct counting {
    long live, calls, fail_after;
};
static struct counting counter;

static int refuse(void) { return ++counter.calls > counter.fail_after; }
static void *c_allocate(void *user, size_t size) {
    (void)user;
    void *p = refuse() ? NULL : malloc(size);
    counter.live += p != NULL;
    return p;
}
static void *c_reallocate(void *user, void *ptr, size_t size) {
    (void)user;
    return refuse() ? NULL : realloc(ptr, size);
}
static void c_free(void *user, void *ptr) {
    (void)user;
    counter.live -= ptr != NULL;
    free(ptr);
}
static void *c_allocate_aligned(void *user, size_t alignment, size_t size) {
    (void)user;
    void *p = NULL;
    if (refuse() || posix_memalign(&p, alignment, size) != 0) return NULL;
    counter.live++;
    return p;
}
static const sn_allocator refusing = {c_allocate,         c_reallocate, c_free,
                                      c_allocate_aligned, c_free,       NULL};

/* Every allocation of a bench run failing in turn: exit 1 with a message,
 * nothing leaked, until there are enough and it succeeds. */
static void test_out_of_memory_exits_1(void **state) {
    (void)state;
    struct run r;
    assert_int_equal(sn_set_allocator(&refusing), SN_OK);
    long n;
    for (n = 0; n < 10000; n++) {
        counter = (struct counting){.fail_after = n};
        bench(&r, "conv2d", "--input", "1x4x4x2", "--filter", "3x3x2x2", "--iters", "1", "--warmup",
              "0", "--no-peak", NULL);
        assert_int_equal(counter.live, 0);
        if (r.code == 0) break;
        if (r.code != 1) fail_msg("allocation %ld failing: exit %d, want 1", n, r.code);
        assert_memory_equal(r.err, "scopenn bench: conv2d: ", 23);
        char *newline = strchr(r.err, '\n');
        assert_true(newline && newline[1] == '\0'); /* one line */
    }
    assert_int_equal(sn_set_allocator(NULL), SN_OK);
    assert_true(n > 0 && n < 10000);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_conv2d_json),           cmocka_unit_test(test_matmul_json),
        cmocka_unit_test(test_named_workload),        cmocka_unit_test(test_peak_in_json_and_text),
        cmocka_unit_test(test_text_without_peak),     cmocka_unit_test(test_peak_probe),
        cmocka_unit_test(test_usage_errors_exit_2),   cmocka_unit_test(test_help),
        cmocka_unit_test(test_out_of_memory_exits_1),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
