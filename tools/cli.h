/* The scopenn command-line tool, as a function so tests can drive it. */
#ifndef SN_TOOLS_CLI_H
#define SN_TOOLS_CLI_H

#include <stdio.h>

/* Runs `scopenn argv[1] ...`, writing results to `out` and diagnostics and
 * usage errors to `err`. Returns the process exit code: 0 on success, 1 on
 * failure, 2 for an unknown command or flag (after printing usage). */
int sn_cli_main(int argc, char **argv, FILE *out, FILE *err);

#endif
