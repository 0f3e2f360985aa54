/* The scopenn tool: `info` and its JSON, usage errors with exit code 2. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "scopenn.h"

struct run {
    int code;
    char out[4096];
    char err[4096];
};

static void slurp(FILE *f, char *buf, size_t size) {
    rewind(f);
    size_t n = fread(buf, 1, size - 1, f);
    buf[n] = '\0';
    fclose(f);
}

/* Runs the tool with the given arguments (NULL-terminated). */
static void run(struct run *r, ...) {
    char *argv[16] = {"scopenn"};
    int argc = 1;
    va_list ap;
    va_start(ap, r);
    for (char *a; (a = va_arg(ap, char *)) != NULL && argc < 15;) argv[argc++] = a;
    va_end(ap);
    FILE *out = tmpfile(), *err = tmpfile();
    assert_non_null(out);
    assert_non_null(err);
    r->code = sn_cli_main(argc, argv, out, err);
    slurp(out, r->out, sizeof r->out);
    slurp(err, r->err, sizeof r->err);
}

static void test_info_text(void **state) {
    (void)state;
    struct run r;
    run(&r, "info", NULL);
    assert_int_equal(r.code, 0);
    char first[64];
    snprintf(first, sizeof first, "isa: %s\n", sn_isa_name(sn_cpu_isa()));
    assert_memory_equal(r.out, first, strlen(first)); /* the first line, exactly */
    sn_cpu_info info;
    sn_cpu_info_get(&info);
    char line[128];
    snprintf(line, sizeof line, "\narch: %s\n", info.arch);
    assert_non_null(strstr(r.out, line));
    snprintf(line, sizeof line, "\nversion: %s\n", sn_version());
    assert_non_null(strstr(r.out, line));
    assert_non_null(strstr(r.out, "\nreason: "));
    /* one line per feature of this architecture, each saying yes or no */
    for (int f = 0; f < SN_CPU_FEATURE_COUNT; f++) {
        snprintf(line, sizeof line, "\nfeature %s: %s\n", sn_cpu_feature_name((sn_cpu_feature)f),
                 (info.features >> f) & 1 ? "yes" : "no");
        if ((info.features >> f) & 1) assert_non_null(strstr(r.out, line));
    }
    if (strcmp(info.arch, "x86_64") == 0) assert_non_null(strstr(r.out, "\nfeature avx512f: "));
    if (strcmp(info.arch, "aarch64") == 0) assert_non_null(strstr(r.out, "\nfeature asimddp: "));
    if (strcmp(info.arch, "arm") == 0) assert_non_null(strstr(r.out, "\nfeature vfpv4: "));
    assert_string_equal(r.err, "");
}

static void test_info_json(void **state) {
    (void)state;
    struct run r;
    run(&r, "info", "--json", NULL);
    assert_int_equal(r.code, 0);
    cJSON *root = cJSON_Parse(r.out);
    assert_non_null(root);
    sn_cpu_info info;
    sn_cpu_info_get(&info);
    assert_string_equal(cJSON_GetObjectItem(root, "isa")->valuestring, sn_isa_name(info.isa));
    assert_string_equal(cJSON_GetObjectItem(root, "arch")->valuestring, info.arch);
    assert_string_equal(cJSON_GetObjectItem(root, "best")->valuestring, sn_isa_name(info.best_isa));
    assert_string_equal(cJSON_GetObjectItem(root, "reason")->valuestring, info.reason);
    assert_string_equal(cJSON_GetObjectItem(root, "version")->valuestring, sn_version());
    cJSON *features = cJSON_GetObjectItem(root, "features");
    assert_true(cJSON_IsObject(features));
    int n = 0;
    for (cJSON *f = features->child; f; f = f->next, n++) {
        assert_true(cJSON_IsBool(f));
        int bit = -1;
        for (int i = 0; i < SN_CPU_FEATURE_COUNT; i++)
            if (strcmp(f->string, sn_cpu_feature_name((sn_cpu_feature)i)) == 0) bit = i;
        assert_true(bit >= 0);
        assert_int_equal(cJSON_IsTrue(f), (info.features >> bit) & 1);
    }
    if (strcmp(info.arch, "unknown") != 0) assert_true(n > 0);
    cJSON *runs = cJSON_GetObjectItem(root, "runs");
    assert_true(cJSON_IsArray(runs));
    assert_int_equal(cJSON_GetArraySize(runs), __builtin_popcount(info.isas));
    assert_string_equal(cJSON_GetArrayItem(runs, 0)->valuestring, "scalar");
    cJSON *cap = cJSON_GetObjectItem(root, "cap");
    assert_true(info.max_isa == SN_ISA_COUNT ? cJSON_IsNull(cap) : cJSON_IsObject(cap));
    cJSON_Delete(root);
}

static void test_usage_errors_exit_2(void **state) {
    (void)state;
    struct run r;
    const char *cases[][2] = {
        {"frobnicate", NULL}, {"--frobnicate", NULL}, {"info", "--xml"}, {"info", "json"}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        run(&r, cases[i][0], cases[i][1], NULL);
        assert_int_equal(r.code, 2);
        assert_string_equal(r.out, "");
        assert_non_null(strstr(r.err, "usage: scopenn"));
        assert_non_null(strstr(r.err, cases[i][1] ? cases[i][1] : cases[i][0]));
    }
    run(&r, NULL);
    assert_int_equal(r.code, 2);
    assert_non_null(strstr(r.err, "usage: scopenn"));
}

static void test_help_and_version(void **state) {
    (void)state;
    struct run r;
    run(&r, "help", NULL);
    assert_int_equal(r.code, 0);
    assert_non_null(strstr(r.out, "usage: scopenn"));
    run(&r, "--help", NULL);
    assert_int_equal(r.code, 0);
    run(&r, "version", NULL);
    assert_int_equal(r.code, 0);
    char want[64];
    snprintf(want, sizeof want, "scopenn %s\n", sn_version());
    assert_string_equal(r.out, want);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_info_text),
        cmocka_unit_test(test_info_json),
        cmocka_unit_test(test_usage_errors_exit_2),
        cmocka_unit_test(test_help_and_version),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
