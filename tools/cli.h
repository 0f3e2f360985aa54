/* The scopenn command-line tool, as a function so tests can drive it. */
#ifndef SN_TOOLS_CLI_H
#define SN_TOOLS_CLI_H

#include <cjson/cJSON.h>
#include <stdio.h>

/* Runs `scopenn argv[1] ...`, writing results to `out` and diagnostics and
 * usage errors to `err`. Returns the process exit code: 0 on success, 1 on
 * failure, 2 for an unknown command or flag (after printing usage). */
int sn_cli_main(int argc, char **argv, FILE *out, FILE *err);

/* Prints `root` as one line of JSON and frees it; `ok` false (a failed
 * cJSON call while building it) or a failure to print is reported on `err`
 * as out of memory. Returns the exit code: 0, or 1. */
int sn_cli_print_json(cJSON *root, int ok, FILE *out, FILE *err);

#endif
