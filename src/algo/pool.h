/* The sessions' threads: a caller and T - 1 workers that share the work
 * items of one hand-off at a time.
 *
 * The caller publishes a job, wakes the workers and runs items itself, all
 * of them if no worker comes: once every item is taken it closes the job,
 * then waits only for the workers that joined it (each is mid-item), never
 * for one that has not woken yet. A worker that comes late finds the job
 * closed and waits for the next one; it reads nothing of a job it has not
 * joined. pthreadpool's caller waited for every worker to check in, so on
 * a machine with more runnable threads than cores a worker descheduled by
 * another process cost the whole run a scheduler slice, even when the
 * caller had done all the items (docs/sessions.md).
 *
 * Items are cut among the threads by algo/share.h: the caller first
 * takes from range 0, worker k from range k, so from run to run a thread
 * runs the same items but for the few stolen at the end. Idle workers spin
 * a short while for the next job, then sleep on a condition variable. */
#ifndef SCOPENN_ALGO_POOL_H
#define SCOPENN_ALGO_POOL_H

#include <stddef.h>

#include "algo/share.h"

struct sn_pool;

/* Items [begin, begin + count) of a job: count >= 1. */
typedef void (*sn_pool_fn)(void *context, size_t begin, size_t count);

/* For the tests: `joining` is called by worker k (1 .. T - 1) on its own
 * thread each time it sees a new job, before it tries to join it. */
struct sn_pool_hooks {
    void (*joining)(void *user, size_t k);
    void *user;
};

/* The most threads a pool takes. */
enum { SN_POOL_MAX_THREADS = 32767 };

/* Creates a pool of `threads` threads, the caller's included (0: one per
 * online CPU), its memory through src/alloc.h; `hooks` may be NULL. Returns
 * 0 and sets *pool, or an errno value and sets it to NULL: EINVAL past
 * SN_POOL_MAX_THREADS, ENOMEM, or pthread_create's error. */
int sn_pool_create(size_t threads, const struct sn_pool_hooks *hooks, struct sn_pool **pool);

/* Its threads, the caller's included. */
size_t sn_pool_threads(const struct sn_pool *pool);

/* Runs fn over items [0, count), `tile` (>= 1) at a time or more (see
 * share.h), on the calling thread and the workers; returns when every
 * item has run and no worker reads fn or context any more. One caller at
 * a time per pool. */
void sn_pool_run(struct sn_pool *pool, sn_pool_fn fn, void *context, size_t count, size_t tile);

/* Stops and joins the workers and frees the pool; NULL is a no-op. Not
 * during a run. */
void sn_pool_destroy(struct sn_pool *pool);

#endif
