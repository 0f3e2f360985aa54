/* The scopenn tool: `info` and its JSON, `inspect` on valid and broken
 * checkpoints, usage errors with exit code 2. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <cjson/cJSON.h>
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli_run.h"
#include "scopenn.h"

/* Runs the tool with the given arguments (NULL-terminated). */
CLI_COMMAND(run, "scopenn")

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

/* ---- inspect ---------------------------------------------------------------- */

static char tmpdir[256];

/* Writes a safetensors file `name` in tmpdir: the header's length, the
 * header, `data_size` bytes; returns its path in `path`. */
static void write_checkpoint(char *path, size_t size, const char *name, const char *header,
                             size_t data_size) {
    snprintf(path, size, "%s/%s", tmpdir, name);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    uint64_t n = strlen(header);
    for (int i = 0; i < 8; i++) fputc((int)((n >> (8 * i)) & 0xff), f);
    fputs(header, f);
    for (size_t i = 0; i < data_size; i++) fputc((int)(i & 0xff), f);
    assert_int_equal(fclose(f), 0);
}

static const char valid_header[] =
    "{\"__metadata__\":{\"format\":\"pt\"},"
    "\"conv1/weights\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,24]},"
    "\"bn/gamma\":{\"dtype\":\"BF16\",\"shape\":[4],\"data_offsets\":[24,32]},"
    "\"tab\\tname\":{\"dtype\":\"F16\",\"shape\":[],\"data_offsets\":[32,34]},"
    "\"empty\":{\"dtype\":\"F32\",\"shape\":[0,5],\"data_offsets\":[34,34]}}";

static void test_inspect_text(void **state) {
    (void)state;
    char path[512];
    write_checkpoint(path, sizeof path, "valid.safetensors", valid_header, 34);
    struct run r;
    run(&r, "inspect", path, NULL);
    assert_int_equal(r.code, 0);
    assert_string_equal(r.out, "conv1/weights\tF32\t(2, 3)\t24\n"
                               "bn/gamma\tBF16\t(4)\t8\n"
                               "tab\\tname\tF16\t()\t2\n"
                               "empty\tF32\t(0, 5)\t0\n");
    assert_string_equal(r.err, "");
    unlink(path);
}

static void test_inspect_json(void **state) {
    (void)state;
    char path[512];
    write_checkpoint(path, sizeof path, "valid.safetensors", valid_header, 34);
    struct run r;
    run(&r, "inspect", "--json", path, NULL);
    assert_int_equal(r.code, 0);
    assert_string_equal(r.err, "");
    cJSON *root = cJSON_Parse(r.out);
    assert_non_null(root);
    assert_string_equal(cJSON_GetObjectItem(root, "file")->valuestring, path);
    cJSON *tensors = cJSON_GetObjectItem(root, "tensors");
    assert_int_equal(cJSON_GetArraySize(tensors), 4);
    cJSON *t = cJSON_GetArrayItem(tensors, 0);
    assert_string_equal(cJSON_GetObjectItem(t, "name")->valuestring, "conv1/weights");
    assert_string_equal(cJSON_GetObjectItem(t, "dtype")->valuestring, "F32");
    cJSON *shape = cJSON_GetObjectItem(t, "shape");
    assert_int_equal(cJSON_GetArraySize(shape), 2);
    assert_int_equal(cJSON_GetArrayItem(shape, 0)->valueint, 2);
    assert_int_equal(cJSON_GetArrayItem(shape, 1)->valueint, 3);
    assert_int_equal(cJSON_GetObjectItem(t, "bytes")->valueint, 24);
    t = cJSON_GetArrayItem(tensors, 2);
    assert_string_equal(cJSON_GetObjectItem(t, "name")->valuestring, "tab\tname"); /* exact */
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(t, "shape")), 0);
    cJSON_Delete(root);
    unlink(path);
}

/* A broken file: exit 1, nothing on stdout, one line on stderr. */
static void expect_inspect_fails(const char *path, const char *want) {
    struct run r;
    for (int json = 0; json < 2; json++) {
        if (json)
            run(&r, "inspect", path, "--json", NULL);
        else
            run(&r, "inspect", path, NULL);
        assert_int_equal(r.code, 1);
        assert_string_equal(r.out, "");
        if (strncmp(r.err, "scopenn: checkpoint ", 20) != 0 || !strstr(r.err, want))
            fail_msg("inspect %s: stderr \"%s\" lacks \"%s\"", path, r.err, want);
        char *newline = strchr(r.err, '\n');
        assert_non_null(newline);
        assert_string_equal(newline, "\n"); /* one line */
    }
}

static void test_inspect_invalid_files(void **state) {
    (void)state;
    char path[512];
    write_checkpoint(path, sizeof path, "bad.safetensors",
                     "{\"w\":{\"dtype\":\"F32\",\"shape\":[5,5,3,32],\"data_offsets\":[0,100]}}",
                     100);
    expect_inspect_fails(path, "bad.safetensors: tensor \"w\": data_offsets [0, 100] do not match "
                               "shape (5, 5, 3, 32) x F32 = 9600 bytes");
    write_checkpoint(path, sizeof path, "bad.safetensors",
                     "{\"a\\nb\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,8]}}", 8);
    expect_inspect_fails(path, "tensor \"a\\u000ab\"");
    write_checkpoint(path, sizeof path, "bad.safetensors",
                     "{\"step\":{\"dtype\":\"I64\",\"shape\":[],\"data_offsets\":[0,8]}}", 8);
    expect_inspect_fails(path, "dtype I64 is not supported");
    write_checkpoint(path, sizeof path, "bad.safetensors", "not json", 0);
    expect_inspect_fails(path, "header is not JSON");
    unlink(path);

    snprintf(path, sizeof path, "%s/empty.safetensors", tmpdir);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fclose(f);
    expect_inspect_fails(path, "file is 0 bytes");
    unlink(path);
    f = fopen(path, "wb");
    assert_non_null(f);
    fputs("1234567", f);
    fclose(f);
    expect_inspect_fails(path, "file is 7 bytes");
    unlink(path);

    expect_inspect_fails(tmpdir, "is a directory");
    snprintf(path, sizeof path, "%s/none.safetensors", tmpdir);
    expect_inspect_fails(path, "none.safetensors: cannot open");
}

/* Strict JSON, as any parser takes it: valid UTF-8, no raw control
 * character (the newline that ends the output aside), and cJSON reads it
 * whole. cJSON alone would take bytes that are not UTF-8. Returns the
 * tree. */
static cJSON *parse_strict_json(const char *text) {
    const unsigned char *s = (const unsigned char *)text;
    size_t n = strlen(text);
    assert_true(n > 0 && s[n - 1] == '\n');
    for (size_t i = 0; i < n - 1;) {
        if (s[i] < 0x20) fail_msg("raw control character 0x%02x at byte %zu: %s", s[i], i, text);
        size_t len = s[i] < 0x80             ? 1
                     : (s[i] & 0xe0) == 0xc0 ? 2
                     : (s[i] & 0xf0) == 0xe0 ? 3
                     : (s[i] & 0xf8) == 0xf0 ? 4
                                             : 0;
        uint32_t cp = len == 1   ? s[i]
                      : len == 2 ? s[i] & 0x1fu
                      : len == 3 ? s[i] & 0x0fu
                                 : s[i] & 0x07u;
        for (size_t k = 1; k < len; k++) {
            if (i + k >= n || (s[i + k] & 0xc0) != 0x80) len = 0;
            if (len) cp = cp << 6 | (s[i + k] & 0x3fu);
        }
        static const uint32_t min[5] = {0, 0, 0x80, 0x800, 0x10000};
        if (len == 0 || cp < min[len] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            fail_msg("not UTF-8 at byte %zu: %s", i, text);
        i += len;
    }
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithOpts(text, &end, 1);
    if (!root) fail_msg("not JSON: %s", text);
    return root;
}

/* inspect --json on a file whose name is not UTF-8 and holds quotes,
 * backslashes and control characters, with tensor names a hostile file
 * can spell: the output is valid JSON that reads back as the names, with
 * U+FFFD for each byte of the file name that is not UTF-8. */
static void test_inspect_json_hostile_names(void **state) {
    (void)state;
    static const char header[] =
        "{\"q\\\"uote\\\\back\\/slash\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
        "\"ctl\\u0001\\u001f\\n\\t\\r\\b\\f\\u007f\":{\"dtype\":\"F32\",\"shape\":[1],"
        "\"data_offsets\":[4,8]},"
        "\"uni\\u00e9\\u2028\\ud83d\\ude00\xe2\x82\xac\":{\"dtype\":\"F32\",\"shape\":[1],"
        "\"data_offsets\":[8,12]}}";
    static const char *const names[] = {"q\"uote\\back/slash", "ctl\x01\x1f\n\t\r\b\f\x7f",
                                        "uni\xc3\xa9\xe2\x80\xa8\xf0\x9f\x98\x80\xe2\x82\xac"};
    char path[512];
    write_checkpoint(path, sizeof path, "x\xff\xfe\"y\\z\n\t\x01\xc3(\xe2\x82.st", header, 12);
    struct run r;
    run(&r, "inspect", "--json", path, NULL);
    assert_int_equal(r.code, 0);
    cJSON *root = parse_strict_json(r.out);
    char want[600];
    snprintf(want, sizeof want,
             "%s/x\xef\xbf\xbd\xef\xbf\xbd\"y\\z\n\t\x01\xef\xbf\xbd(\xef\xbf\xbd\xef\xbf\xbd.st",
             tmpdir);
    assert_string_equal(cJSON_GetObjectItem(root, "file")->valuestring, want);
    cJSON *tensors = cJSON_GetObjectItem(root, "tensors");
    assert_int_equal(cJSON_GetArraySize(tensors), 3);
    for (int i = 0; i < 3; i++)
        assert_string_equal(
            cJSON_GetObjectItem(cJSON_GetArrayItem(tensors, i), "name")->valuestring, names[i]);
    cJSON_Delete(root);

    /* the message of a failure names the file in valid UTF-8 too */
    unlink(path);
    write_checkpoint(path, sizeof path, "x\xff\xfe\"y\\z\n\t\x01\xc3(\xe2\x82.st", "[]", 0);
    expect_inspect_fails(
        path, "/x\\ufffd\\ufffd\\\"y\\\\z\\u000a\\u0009\\u0001\\ufffd(\\ufffd\\ufffd.st: ");
    unlink(path);
}

/* A FIFO without a writer is refused at once (it used to block forever in
 * open); the alarm makes a regression fail instead of hang. */
static void test_inspect_special_files(void **state) {
    (void)state;
    alarm(30);
    char path[512];
    snprintf(path, sizeof path, "%s/fifo", tmpdir);
    assert_int_equal(mkfifo(path, 0600), 0);
    expect_inspect_fails(path, "fifo: is a FIFO, not a regular file");
    unlink(path);
    expect_inspect_fails("/dev/null", "is a character device, not a regular file");
    alarm(0);
}

static void test_inspect_usage(void **state) {
    (void)state;
    struct run r;
    run(&r, "inspect", NULL);
    assert_int_equal(r.code, 2);
    assert_string_equal(r.out, "");
    assert_non_null(strstr(r.err, "FILE missing"));
    assert_non_null(strstr(r.err, "usage: scopenn"));
    run(&r, "inspect", "--json", NULL);
    assert_int_equal(r.code, 2);
    run(&r, "inspect", "m.safetensors", "--xml", NULL);
    assert_int_equal(r.code, 2);
    assert_non_null(strstr(r.err, "--xml"));
    run(&r, "inspect", "a.safetensors", "b.safetensors", NULL);
    assert_int_equal(r.code, 2);
    assert_non_null(strstr(r.err, "b.safetensors"));
    run(&r, "help", NULL);
    assert_non_null(strstr(r.out, "inspect FILE [--json]"));
}

static int make_tmpdir(void **state) {
    (void)state;
    const char *base = getenv("TMPDIR");
    snprintf(tmpdir, sizeof tmpdir, "%s/scopenn-cli-XXXXXX", base && *base ? base : "/tmp");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int remove_tmpdir(void **state) {
    (void)state;
    return rmdir(tmpdir);
}

static void test_demo(void **state) {
    (void)state;
    struct run r;
    run(&r, "demo", "--json", "--size", "6x5", "--threads", "2", NULL);
    if (r.code != 0) fail_msg("demo failed: %s", r.err);
    cJSON *root = cJSON_Parse(r.out);
    assert_non_null(root);
    assert_string_equal(cJSON_GetObjectItem(root, "isa")->valuestring, sn_isa_name(sn_cpu_isa()));
    cJSON *vars = cJSON_GetObjectItem(root, "variables");
    assert_int_equal(cJSON_GetArraySize(vars), 4);
    assert_string_equal(cJSON_GetArrayItem(vars, 0)->valuestring, "image_filters/conv1/weights:0");
    assert_string_equal(cJSON_GetArrayItem(vars, 3)->valuestring, "image_filters/conv2/biases:0");
    assert_int_equal(cJSON_GetObjectItem(root, "packs_made")->valueint, 4);
    assert_int_equal(cJSON_GetObjectItem(root, "packs_reused")->valueint, 4);
    assert_true(cJSON_GetObjectItem(root, "max_abs_err_vs_reference")->valuedouble <= 1e-3);
    assert_true(cJSON_GetObjectItem(root, "ms_per_image")->valuedouble > 0);
    cJSON_Delete(root);
    run(&r, "demo", "--isa", "scalar", "--size", "4x4", NULL);
    assert_int_equal(r.code, 0);
    assert_non_null(strstr(r.out, "\nisa: scalar, threads: 1\n"));
    assert_non_null(strstr(r.out, "packs: 4 made, 4 reused"));
    const char *bad[][2] = {
        {"--size", "0x4"}, {"--size", "4"}, {"--threads", "-1"}, {"--isa", "sse"}, {"--what", "1"}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        run(&r, "demo", bad[i][0], bad[i][1], NULL);
        assert_int_equal(r.code, 2);
        assert_non_null(strstr(r.err, "usage: scopenn demo"));
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_info_text),
        cmocka_unit_test(test_info_json),
        cmocka_unit_test(test_usage_errors_exit_2),
        cmocka_unit_test(test_help_and_version),
        cmocka_unit_test(test_demo),
        cmocka_unit_test(test_inspect_text),
        cmocka_unit_test(test_inspect_json),
        cmocka_unit_test(test_inspect_invalid_files),
        cmocka_unit_test(test_inspect_usage),
        cmocka_unit_test(test_inspect_json_hostile_names),
        cmocka_unit_test(test_inspect_special_files),
    };
    return cmocka_run_group_tests(tests, make_tmpdir, remove_tmpdir);
}
