/* The threads an algorithm runs on: a pool (or none, for one thread) and
 * one share range per thread (algo/share.h). */
#ifndef SN_ALGO_PARALLEL_H
#define SN_ALGO_PARALLEL_H

#include <stddef.h>

#include "algo/pool.h"
#include "algo/share.h"

struct sn_threads {
    struct sn_pool *pool;          /* NULL: one thread, the caller */
    size_t count;                  /* >= 1 */
    struct sn_share_range *ranges; /* `count` of them */
};

/* Runs fn over [0, count) on the threads, in tiles of count / (4 threads)
 * items or more. */
void sn_parallel(const struct sn_threads *threads, sn_pool_fn fn, void *context, size_t count);

/* The threads share `items`, `chunk` at a time (algo/share.h). */
struct sn_share sn_threads_share(const struct sn_threads *threads, size_t items, size_t chunk);

/* How many groups of NR blocks to split each of `rows` rows (or tiles, or
 * panels) of `out_c` channels into, so that every thread gets several
 * work items. */
size_t sn_block_groups(const struct sn_threads *threads, size_t rows, size_t out_c, size_t nr);

/* Floats from one thread's part of a per-thread workspace to the next,
 * for parts of `floats`: a part rounded up to whole 4 KB pages, then a gap
 * of 256 KB that no thread touches (the workspace starts on a page). With
 * the parts end to end, two threads running Winograd on the 2-core EPYC VM
 * ran 20-45% slower for seconds at a time, although either thread alone
 * ran at full speed; the input transforms of one thread took twice as
 * long. In those slow stretches (seed_filter, 2 threads, medians of
 * interleaved runs) it took 0.34 ms end to end, 0.28 with the gap (0.26
 * usually), and 0.26 with the gap and each thread's own range of items
 * (algo/share.h); a 64 KB gap gave half the gain of 256 KB. Why is not
 * known: the parts shared no cache line even end to end. */
size_t sn_part_stride(size_t floats, size_t threads);

#endif
