/* Work items shared among the calls of one hand-off to the threads.
 *
 * Items [0, items) are cut in one contiguous range per call k = 0 .. T-1
 * (one call per thread, each owning scratch k). Call k takes `chunk`
 * items at a time from the front of its own range and, when that is
 * empty, from the back of the others'. So from run to run a thread
 * writes the same outputs, but for the few chunks stolen at the end;
 * with one queue for all, the threads traded outputs from run to run, and
 * each line a core writes that another core wrote last must first leave
 * that core: in the 2-core EPYC VM's slow stretches, Winograd's output
 * transforms took 41-45 us a run of seed_filter from one queue, 28 from
 * ranges (docs/sessions.md). Every item is taken exactly once, whatever
 * the timing. */
#ifndef SCOPENN_ALGO_SHARE_H
#define SCOPENN_ALGO_SHARE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One call's range, on a cache line of its own: 32-bit atomics, which
 * every target has without libatomic (armv6 has no 64-bit ones). */
struct sn_share_range {
    _Alignas(64) _Atomic uint32_t span; /* first << 16 | end, in chunks from base */
    uint64_t base;                      /* the range's first chunk */
};

struct sn_share {
    size_t items, chunk;
    struct sn_share_range *range; /* `ranges` of them, the caller's */
    size_t ranges;
};

/* Shares `items` among `ranges` calls (>= 1), `chunk` (>= 1) at a time, in
 * the caller's `range` array of that many. The chunk doubles until no
 * range holds more than 65535 chunks (so with chunk 1, past 65535 items a
 * thread): the caller's loop over a take must accept any length. */
struct sn_share sn_share_init(struct sn_share_range *range, size_t ranges, size_t items,
                              size_t chunk);

/* The next items [*begin, *end) for call k (< ranges); false when every
 * item has been taken. Any thread may call it, for any k. */
bool sn_share_take(const struct sn_share *w, size_t k, size_t *begin, size_t *end);

#endif
