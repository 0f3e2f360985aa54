/* Test helper: runs the scopenn tool in-process (sn_cli_main) with a
 * NULL-terminated list of arguments after a fixed prefix, and keeps its
 * exit code and what it wrote to stdout and stderr. */
#ifndef SN_TESTS_CLI_RUN_H
#define SN_TESTS_CLI_RUN_H

#include <stdarg.h>
#include <stdio.h>

#include "cli.h"

struct run {
    int code;
    char out[16384];
    char err[16384];
};

static inline void cli_slurp(FILE *f, char *buf, size_t size) {
    rewind(f);
    size_t n = fread(buf, 1, size - 1, f);
    buf[n] = '\0';
    fclose(f);
}

/* argv = prefix[0..n_prefix) then the va_list's strings up to NULL. */
static inline void cli_run(struct run *r, const char *const *prefix, int n_prefix, va_list ap) {
    char *argv[40];
    int argc = 0;
    for (; argc < n_prefix; argc++) argv[argc] = (char *)prefix[argc];
    for (char *a; (a = va_arg(ap, char *)) != NULL && argc < 39;) argv[argc++] = a;
    argv[argc] = NULL;
    FILE *out = tmpfile(), *err = tmpfile();
    if (!out || !err) {
        r->code = -1;
        r->out[0] = r->err[0] = '\0';
        return;
    }
    r->code = sn_cli_main(argc, argv, out, err);
    cli_slurp(out, r->out, sizeof r->out);
    cli_slurp(err, r->err, sizeof r->err);
}

/* Defines `static void NAME(struct run *r, ...)`, which runs the tool with
 * the words given (the program's name, maybe a command), then its own
 * NULL-terminated arguments; a tool that cannot be run fails the test. */
#define CLI_COMMAND(name, ...)                                                                     \
    static void name(struct run *r, ...) {                                                         \
        static const char *const prefix[] = {__VA_ARGS__};                                         \
        va_list ap;                                                                                \
        va_start(ap, r);                                                                           \
        cli_run(r, prefix, (int)(sizeof prefix / sizeof *prefix), ap);                            \
        va_end(ap);                                                                                \
        assert_int_not_equal(r->code, -1);                                                         \
    }

/* JSON fields of a command's output, failing the test when missing or of
 * another type (cmocka and cJSON included before this header). */
static inline cJSON *json_get(const cJSON *o, const char *key) {
    cJSON *item = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!item) fail_msg("no key \"%s\"", key);
    return item;
}

static inline double json_number(const cJSON *o, const char *key) {
    cJSON *item = json_get(o, key);
    assert_true(cJSON_IsNumber(item));
    return item->valuedouble;
}

static inline const char *json_string(const cJSON *o, const char *key) {
    cJSON *item = json_get(o, key);
    assert_true(cJSON_IsString(item));
    return item->valuestring;
}

#endif
