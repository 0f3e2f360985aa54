/* The command-line tool's output (JSON and shapes) and number parsing,
 * shared by its commands. */
#ifndef SN_TOOLS_OUTPUT_H
#define SN_TOOLS_OUTPUT_H

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>

/* Prints "scopenn COMMAND: MESSAGE" on `err`, then, with `usage`, a
 * blank line and the usage. Returns the exit code: 2 with the usage (the
 * command was called wrongly), 1 without (it failed). */
int sn_cli_vcomplain(FILE *err, const char *command, void (*usage)(FILE *), const char *format,
                     va_list ap);

/* Defines a command's static usage_error(err, format, ...), the message
 * and the usage (exit code 2), and fail(err, format, ...), the message
 * alone (1), for "scopenn COMMAND". */
#define SN_CLI_COMPLAINTS(command, usage)                                                          \
    __attribute__((format(printf, 2, 3), unused)) static int usage_error(                         \
        FILE *err, const char *format, ...) {                                                      \
        va_list ap;                                                                                \
        va_start(ap, format);                                                                      \
        const int code = sn_cli_vcomplain(err, command, usage, format, ap);                        \
        va_end(ap);                                                                                \
        return code;                                                                               \
    }                                                                                              \
    __attribute__((format(printf, 2, 3), unused)) static int fail(FILE *err, const char *format,   \
                                                                  ...) {                           \
        va_list ap;                                                                                \
        va_start(ap, format);                                                                      \
        const int code = sn_cli_vcomplain(err, command, NULL, format, ap);                         \
        va_end(ap);                                                                                \
        return code;                                                                               \
    }

/* Prints `root` as one line of JSON and frees it; `ok` false (a failed
 * cJSON call while building it) or a failure to print is reported on `err`
 * as out of memory. Returns the exit code: 0, or 1. */
int sn_cli_print_json(cJSON *root, int ok, FILE *out, FILE *err);

/* Adds `key`: [dims...] to `o`. Returns 0 if out of memory. */
int sn_cli_add_dims(cJSON *o, const char *key, const int64_t *dims, int n);

/* "(5, 5, 3, 32)"; "()" for a scalar. */
void sn_cli_print_dims(FILE *out, const int64_t *dims, int n);

/* A tensor name on one line: a file may hold any JSON string, so
 * backslashes and control characters are escaped as JSON escapes them. */
void sn_cli_print_name(FILE *out, const char *name);

/* A decimal integer in [lo, hi], the whole of `s`: 1, and *out set, or 0. */
int sn_cli_parse_long(const char *s, long lo, long hi, long *out);

/* "AxBxC..." with exactly `count` dimensions, each in [1, max], no sign
 * or space: 1, and dims set, or 0. */
int sn_cli_parse_dims(const char *s, int count, int64_t max, int64_t *dims);

/* CLOCK_MONOTONIC in seconds. */
double sn_cli_now_seconds(void);

/* Sorts n times, smallest first. */
void sn_cli_sort(double *times, size_t n);

/* The median of n > 0 sorted times. */
double sn_cli_median(const double *sorted, size_t n);

/* Decimals that show a time in ms to 4 significant digits (1234, 12.34,
 * 0.001234), at most 6. */
int sn_cli_ms_decimals(double ms);

#endif
