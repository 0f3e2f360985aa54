/* The command-line tool's JSON output, shared by its commands. */
#ifndef SN_TOOLS_OUTPUT_H
#define SN_TOOLS_OUTPUT_H

#include <cjson/cJSON.h>
#include <stdio.h>

/* Prints `root` as one line of JSON and frees it; `ok` false (a failed
 * cJSON call while building it) or a failure to print is reported on `err`
 * as out of memory. Returns the exit code: 0, or 1. */
int sn_cli_print_json(cJSON *root, int ok, FILE *out, FILE *err);

#endif
