#ifndef SN_TOOLS_DEMO_H
#define SN_TOOLS_DEMO_H

#include <stdio.h>

/* `scopenn demo [--json] [--isa X] [--threads N] [--size HxW]`: returns the
 * exit code (0 ok, 1 failure, 2 usage). */
int sn_cmd_demo(int argc, char **argv, FILE *out, FILE *err);

#endif
