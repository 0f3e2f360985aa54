#ifndef SN_TOOLS_BENCH_H
#define SN_TOOLS_BENCH_H

#include <stdio.h>

/* `scopenn bench [WORKLOAD...] [FLAGS]`: times fused conv2d / matmul + bias
 * + relu workloads built through the public API and reports ms per run,
 * GFLOP/s and % of the kernel set's measured FMA peak. `scopenn bench
 * --help` lists the workloads and flags. Returns the exit code: 0 ok, 1 a
 * run-time failure (message on `err`), 2 a bad flag or shape (usage on
 * `err`). */
int sn_cmd_bench(int argc, char **argv, FILE *out, FILE *err);

#endif
