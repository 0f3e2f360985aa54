#ifndef SN_TOOLS_BENCH_MODEL_H
#define SN_TOOLS_BENCH_MODEL_H

#include <stdio.h>

/* `scopenn bench model NAME [FLAGS]` (argv[2] is "model"): times a whole
 * model of the zoo (sn_model_names()) on one image and reports ms per
 * inference (median and min), GFLOP/s, and with --startup the time to
 * build, load, compile and first run it, with --profile where each node's
 * time goes. `scopenn bench model --help` lists the flags. Returns the
 * exit code: 0 ok, 1 a run-time failure (message on `err`), 2 a bad flag
 * or an unknown model (usage on `err`). */
int sn_cmd_bench_model(int argc, char **argv, FILE *out, FILE *err);

#endif
