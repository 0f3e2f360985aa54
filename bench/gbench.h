/* A small C API over Google Benchmark, so that benchmarks are written in C.
 * This header and gbench.cc are the only C++-facing code in the project.
 *
 *     static void bm_relu(sn_gbench_state *state, void *arg) {
 *         ... set up ...
 *         while (sn_gbench_keep_running(state)) kernel(...);
 *         sn_gbench_counter(state, "FLOP/s", flops_per_iteration, SN_GBENCH_RATE);
 *     }
 *     int main(int argc, char **argv) {
 *         sn_gbench_register("relu/1000", bm_relu, NULL);
 *         return sn_gbench_main(argc, argv);
 *     }
 */
#ifndef SN_BENCH_GBENCH_H
#define SN_BENCH_GBENCH_H

#include <stdbool.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sn_gbench_state sn_gbench_state;
typedef void (*sn_gbench_fn)(sn_gbench_state *state, void *arg);

/* How a counter's value is shown: as it is, or per second of the timed
 * loop (value is per iteration: FLOPs or bytes of one iteration). */
typedef enum sn_gbench_counter_kind { SN_GBENCH_VALUE, SN_GBENCH_RATE } sn_gbench_counter_kind;

/* Registers `fn` under `name` (copied), to be called with `arg`. Register
 * before sn_gbench_main(). Single-threaded benchmarks. */
void sn_gbench_register(const char *name, sn_gbench_fn fn, void *arg);

/* The timed loop: true while Google Benchmark wants more iterations. */
bool sn_gbench_keep_running(sn_gbench_state *state);

/* Stops and restarts the timer around untimed work inside the loop. */
void sn_gbench_pause(sn_gbench_state *state);
void sn_gbench_resume(sn_gbench_state *state);

/* Sets counter `name`; call after the loop. */
void sn_gbench_counter(sn_gbench_state *state, const char *name, double value,
                       sn_gbench_counter_kind kind);

/* Marks the benchmark skipped with a message (e.g. the CPU lacks the ISA);
 * call instead of running the loop. */
void sn_gbench_skip(sn_gbench_state *state, const char *message);

/* Parses Google Benchmark's flags, runs the registered benchmarks, returns
 * the exit code. */
int sn_gbench_main(int argc, char **argv);

#ifdef __cplusplus
}
#endif

#endif
