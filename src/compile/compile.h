/* Compiling a graph for a session: prune -> fuse -> lower -> plan memory,
 * one pass per file. Each pass reads and fills a struct sn_program; the
 * session (src/runtime/) runs it. Errors are recorded on the graph. */
#ifndef SN_COMPILE_COMPILE_H
#define SN_COMPILE_COMPILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ops/ops.h"

struct sn_program {
    sn_graph *graph;
    const struct sn_kernels *kernels;
    const struct sn_threads *threads;
    bool direct_conv, direct_matmul;
    int64_t max_batch;

    struct sn_value *values; /* every tensor a node reads or writes, or fetched */
    size_t value_count;
    struct sn_node *nodes; /* in run order */
    size_t node_count;
    int *fetches; /* value indices */
    size_t fetch_count;
    size_t fused; /* ops folded into another's node */

    /* lower */
    size_t zeros;           /* floats of zeros the nodes read */
    struct sn_pack **packs; /* the distinct cached packs the nodes read */
    size_t pack_count;
    size_t packs_made, packs_reused, packed_bytes;
    double pack_ms;

    /* plan memory */
    size_t arena_bytes, arena_align;
    size_t views;           /* values in another value's buffer: no copy */
    size_t workspace_bytes; /* the largest node's workspace */
};

/* What prune finds and fuse uses, per op of the graph. */
struct sn_usage {
    bool *needed, *fetched, *covered;
    int *uses, *only_user;
    int *value_of_op; /* value index, or -1 */
};

/* Frees what the passes allocated in the program (not the program). */
void sn_program_release(struct sn_program *program);

/* The ops the fetches need, their consumers, and each fetch's value. */
bool sn_prune(struct sn_program *program, struct sn_usage *usage, sn_tensor *const *fetches,
              size_t fetch_count);

/* The nodes: each needed op that computes, with a bias and an activation
 * after it folded in where its fuse pattern allows. */
bool sn_fuse(struct sn_program *program, struct sn_usage *usage);

/* Planned shapes (a -1 batch at max_batch), each node's plan (its class's),
 * and its packs: from the graph's pack cache, or buffers packed at each
 * run. */
bool sn_lower(struct sn_program *program);

/* Liveness, views and in-place outputs, workspaces, and the arena's
 * layout. */
bool sn_plan_memory(struct sn_program *program);

/* The value index of tensor t, made if new. */
int sn_program_value(struct sn_program *program, struct sn_usage *usage, const sn_tensor *t);

/* The bytes of a tensor of `shape` and `dtype` rounded up to a cache
 * line, or -1 past SN_MAX_ELEMENTS. */
int64_t sn_tensor_bytes(const sn_shape *shape, sn_dtype dtype);

#endif
