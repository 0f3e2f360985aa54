/* bench/peers: the workloads of `scopenn bench` run through other engines
 * (XNNPACK, oneDNN) and through scopenn itself, behind one small interface,
 * so they can be timed the same way and checked against each other. */
#ifndef SN_BENCH_PEERS_H
#define SN_BENCH_PEERS_H

#include <stddef.h>
#include <stdio.h>
#include <stdint.h>

/* Every peer macro is defined as 0 or 1 by the build (bench/peers/CMakeLists.txt). */
#ifndef SN_PEER_XNNPACK
#error "SN_PEER_XNNPACK must be defined to 0 or 1"
#endif
#ifndef SN_PEER_ONEDNN
#error "SN_PEER_ONEDNN must be defined to 0 or 1"
#endif

typedef enum peer_op { PEER_CONV2D, PEER_MATMUL } peer_op;

/* One fp32 layer with bias and relu fused: a conv2d (input NHWC, filter
 * HWIO, one stride for both axes, TensorFlow SAME or VALID padding) or a
 * matmul [m x k] x [k x n]. */
struct workload {
    const char *name;
    peer_op op;
    int64_t input[4], filter[4]; /* conv2d: [n, h, w, c], [kh, kw, c, oc] */
    int stride;
    int same;        /* 1: SAME, 0: VALID */
    int64_t m, k, n; /* matmul */
};

/* The geometry every peer needs, derived once from a workload. Padding is
 * TensorFlow's: SAME puts the odd pixel at the bottom and right. */
struct geometry {
    int64_t oh, ow; /* conv2d output height, width */
    int64_t pad_top, pad_bottom, pad_left, pad_right;
    int64_t input_count, weight_count, bias_count, output_count; /* floats */
    double macs; /* every filter tap, padding included, as tools/bench.c counts */
};

void workload_geometry(const struct workload *w, struct geometry *g);

/* A layer built by one engine: weights converted to what the engine wants
 * and packed once at creation, so that run() only computes.
 *
 * create() gets the workload, a thread count (>= 1), the weights in
 * scopenn's layout (conv2d HWIO [kh][kw][ic][oc], matmul [k][n]), the bias
 * [oc] and the input (NHWC or [m][k]; borrowed, and readable 64 bytes past
 * its end, which XNNPACK may do). It returns the layer, or NULL after
 * writing why into err[0..err_size). run() returns 0, or nonzero after
 * writing why. output() is the result of the last run, NHWC or [m][n].
 * impl() names the implementation the engine picked, when it says (oneDNN
 * does); "" otherwise. */
struct peer {
    const char *name;
    void *(*create)(const struct workload *w, int threads, const float *weights, const float *bias,
                    const float *input, char *err, size_t err_size);
    int (*run)(void *layer, char *err, size_t err_size);
    const float *(*output)(void *layer);
    const char *(*impl)(void *layer);
    void (*destroy)(void *layer);
};

extern const struct peer peer_scopenn;
#if SN_PEER_XNNPACK
extern const struct peer peer_xnnpack;
#endif
#if SN_PEER_ONEDNN
extern const struct peer peer_onednn;
#endif

/* Timing, as every peer's layers and models are timed: `warmup` untimed
 * runs, then `iters` runs (0: for 0.3 s, at least 3), each timed alone.
 * run(ctx) returns 0, or nonzero after writing why into err. Returns 0
 * with the median and the fastest run in *t, or 1 after writing why. */
#define PEERS_MAX_TIMED_RUNS 1000000
struct timing {
    double median, min; /* seconds */
    size_t runs;
};
int peers_time(int (*run)(void *ctx, char *err, size_t err_size), void *ctx, long iters,
               long warmup, struct timing *t, char *err, size_t err_size);

/* Prints `peers --help` on f. */
void peers_usage(FILE *f);

/* Prints s as a JSON string on stdout. */
void peers_print_json_string(const char *s);

/* Parses s as a long in [lo, hi] into *out: 1, or 0 if it is not one. */
int peers_parse_long(const char *s, long lo, long hi, long *out);

#if SN_PEER_XNNPACK
/* `peers model ...` (argv[1] is "model"): a whole network of scopenn's zoo
 * through XNNPACK's operators (peers-model.c). Returns the exit code. */
int peers_model_main(int argc, char **argv);
#endif

#endif
