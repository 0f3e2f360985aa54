/* The sessions' threads: see pool.h. */
#include "algo/pool.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>
#include <unistd.h>

#include "base/alloc.h"

/* The door: one 32-bit word (armv6 has no 64-bit atomics), the job's
 * generation in the top 16 bits, OPEN while it has items to take, and the
 * workers that joined it below. A worker joins by one exchange that
 * checks both the generation it saw and OPEN, so none joins a closed job;
 * the caller rewrites the job only once the door is shut with nobody in. */
enum { JOINED = 0x7fff, OPEN = 0x8000, GEN_SHIFT = 16 };

/* How an idle worker waits for the next job, and the caller for the
 * workers still in a job: first it spins for SPIN_NS, longer than the gaps
 * between a run's hand-offs and than one chunk of items; then, until
 * YIELD_NS, it yields the CPU between looks, so that it stays ready to come
 * without holding a CPU that a thread with work needs (the caller, a
 * worker mid-item, the app's other processes); then it sleeps. Spinning
 * alone for 1 ms measured the same in bench/contended.sh (docs/sessions.md). */
#define SPIN_NS 50000
#define YIELD_NS 1000000

struct worker {
    struct sn_pool *pool;
    size_t k; /* its range of items: 1 .. T - 1 */
    pthread_t thread;
};

struct sn_pool {
    _Alignas(64) _Atomic uint32_t door;
    /* The job: written by the caller while the door is shut and no
     * worker is in, read by the workers that joined it. */
    sn_pool_fn fn;
    void *context;
    struct sn_share share;
    uint32_t gen; /* the caller's own count of jobs */
    /* Sleeping workers and a sleeping caller: each side announces itself
     * before it checks the door, the other side changes the door before
     * it checks them (both sequentially consistent), so no wake-up is
     * lost. */
    _Alignas(64) _Atomic uint32_t sleepers;
    _Atomic uint32_t caller_sleeps;
    _Atomic bool stop;
    pthread_mutex_t lock;
    pthread_cond_t wake;    /* a new job, or stop */
    pthread_cond_t drained; /* the last worker left a closed job */
    size_t threads, started;
    int made;                      /* of lock, wake and drained: how many are initialized */
    struct sn_share_range *ranges; /* `threads` of them */
    struct worker *workers;        /* threads - 1 */
    struct sn_pool_hooks hooks;
};

/* A pause for a spinning thread: lets the core's other hardware thread
 * run, and costs less power. */
static inline void relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield" ::: "memory");
#endif
}

/* A wait that spins, then yields, then gives up (see SPIN_NS). */
struct spin {
    unsigned looks;
    int64_t t0;
};

static int64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Pauses before the next look; false once it is time to sleep instead. */
static bool spin_more(struct spin *w) {
    if (++w->looks % 64) { /* the clock once every 64 looks */
        relax();
        return true;
    }
    const int64_t t = now_ns();
    if (w->t0 == 0) w->t0 = t;
    if (t - w->t0 < SPIN_NS) {
        relax();
        return true;
    }
    if (t - w->t0 >= YIELD_NS) return false;
    sched_yield();
    w->looks = 63; /* the clock at every look from now on: a yield may take a slice */
    return true;
}

/* Waits until the door shows another generation than `seen`, or the pool
 * stops; returns the door. */
static uint32_t await_job(struct sn_pool *p, uint32_t seen) {
    uint32_t door;
    for (struct spin w = {0};;) {
        door = atomic_load_explicit(&p->door, memory_order_relaxed);
        if (door >> GEN_SHIFT != seen || atomic_load_explicit(&p->stop, memory_order_relaxed))
            return door;
        if (!spin_more(&w)) break;
    }
    pthread_mutex_lock(&p->lock);
    atomic_fetch_add(&p->sleepers, 1);
    while ((door = atomic_load(&p->door)) >> GEN_SHIFT == seen && !atomic_load(&p->stop))
        pthread_cond_wait(&p->wake, &p->lock);
    atomic_fetch_sub(&p->sleepers, 1);
    pthread_mutex_unlock(&p->lock);
    return door;
}

/* Joins job `gen`, whose door was last seen as `door`: false if it is
 * closed (every item taken) or another job's. */
static bool join(struct sn_pool *p, uint32_t door, uint32_t gen) {
    for (;;) {
        if (door >> GEN_SHIFT != gen || !(door & OPEN)) return false;
        /* acquire: the job's fields, written before the door opened */
        if (atomic_compare_exchange_weak_explicit(&p->door, &door, door + 1, memory_order_acquire,
                                                  memory_order_relaxed))
            return true;
    }
}

/* Leaves the job joined; wakes the caller if it sleeps on the last one
 * out. The pool outlives every worker, so touching it after the caller
 * has gone on is safe; a wake-up meant for an older job is spurious. */
static void leave(struct sn_pool *p) {
    const uint32_t door = atomic_fetch_sub(&p->door, 1) - 1; /* release: the items' results */
    if ((door & (JOINED | OPEN)) == 0 && atomic_load(&p->caller_sleeps)) {
        pthread_mutex_lock(&p->lock);
        pthread_cond_signal(&p->drained);
        pthread_mutex_unlock(&p->lock);
    }
}

static void *worker_main(void *arg) {
    struct worker *w = arg;
    struct sn_pool *p = w->pool;
    uint32_t seen = 0; /* the door's generation before the first job */
    for (;;) {
        uint32_t door = await_job(p, seen);
        if (atomic_load_explicit(&p->stop, memory_order_relaxed)) break;
        seen = door >> GEN_SHIFT;
        if (p->hooks.joining) {
            p->hooks.joining(p->hooks.user, w->k);
            door = atomic_load_explicit(&p->door, memory_order_relaxed);
        }
        if (!join(p, door, seen)) continue; /* late: the caller has taken the rest */
        for (size_t begin, end; sn_share_take(&p->share, w->k, &begin, &end);)
            p->fn(p->context, begin, end - begin);
        leave(p);
    }
    return NULL;
}

/* Waits until no worker is in the (closed) job. */
static void await_drained(struct sn_pool *p) {
    for (struct spin w = {0}; atomic_load_explicit(&p->door, memory_order_acquire) & JOINED;)
        if (!spin_more(&w)) {
            pthread_mutex_lock(&p->lock);
            atomic_store(&p->caller_sleeps, 1);
            while (atomic_load(&p->door) & JOINED) pthread_cond_wait(&p->drained, &p->lock);
            atomic_store(&p->caller_sleeps, 0);
            pthread_mutex_unlock(&p->lock);
            return;
        }
}

void sn_pool_run(struct sn_pool *p, sn_pool_fn fn, void *context, size_t count, size_t tile) {
    if (count == 0) return;
    if (p->threads == 1 || count <= tile) { /* one chunk: no one to share it with */
        fn(context, 0, count);
        return;
    }
    p->fn = fn;
    p->context = context;
    p->share = sn_share_init(p->ranges, p->threads, count, tile);
    p->gen = (p->gen + 1) & 0xffff;
    atomic_store(&p->door, p->gen << GEN_SHIFT | OPEN); /* release: the job */
    if (atomic_load(&p->sleepers)) {
        pthread_mutex_lock(&p->lock);
        pthread_cond_broadcast(&p->wake);
        pthread_mutex_unlock(&p->lock);
    }
    for (size_t begin, end; sn_share_take(&p->share, 0, &begin, &end);)
        fn(context, begin, end - begin);
    /* every item taken: no one joins any more; those in are mid-item */
    if (atomic_fetch_and(&p->door, ~(uint32_t)OPEN) & JOINED) await_drained(p);
}

size_t sn_pool_threads(const struct sn_pool *p) { return p->threads; }

void sn_pool_destroy(struct sn_pool *p) {
    if (!p) return;
    if (p->started) {
        pthread_mutex_lock(&p->lock);
        atomic_store(&p->stop, true);
        pthread_cond_broadcast(&p->wake);
        pthread_mutex_unlock(&p->lock);
        for (size_t i = 0; i < p->started; i++) pthread_join(p->workers[i].thread, NULL);
    }
    if (p->made > 2) pthread_cond_destroy(&p->drained);
    if (p->made > 1) pthread_cond_destroy(&p->wake);
    if (p->made > 0) pthread_mutex_destroy(&p->lock);
    sn_aligned_free(p->ranges);
    sn_free(p->workers);
    sn_aligned_free(p);
}

int sn_pool_create(size_t threads, const struct sn_pool_hooks *hooks, struct sn_pool **pool) {
    *pool = NULL;
    if (threads == 0) {
        const long cpus = sysconf(_SC_NPROCESSORS_ONLN);
        threads = cpus > 0 ? (size_t)cpus : 1;
    }
    if (threads > SN_POOL_MAX_THREADS) return EINVAL;
    struct sn_pool *p = sn_aligned_alloc(64, sizeof *p);
    if (!p) return ENOMEM; /* nothing made yet */
    *p = (struct sn_pool){.threads = threads, .hooks = hooks ? *hooks : (struct sn_pool_hooks){0}};
    atomic_init(&p->door, 0);
    atomic_init(&p->sleepers, 0);
    atomic_init(&p->caller_sleeps, 0);
    atomic_init(&p->stop, false);
    /* sn_pool_destroy undoes whatever was made */
    int err = pthread_mutex_init(&p->lock, NULL);
    if (!err) p->made = 1, err = pthread_cond_init(&p->wake, NULL);
    if (!err) p->made = 2, err = pthread_cond_init(&p->drained, NULL);
    if (!err) p->made = 3;
    if (!err && (!(p->ranges = sn_aligned_alloc(64, threads * sizeof *p->ranges)) ||
                 (threads > 1 && !(p->workers = sn_calloc(threads - 1, sizeof *p->workers)))))
        err = ENOMEM;
    if (err) goto error;
    for (size_t i = 0; i + 1 < threads; i++) {
        p->workers[i] = (struct worker){.pool = p, .k = i + 1};
        if ((err = pthread_create(&p->workers[i].thread, NULL, worker_main, &p->workers[i])))
            goto error;
        p->started = i + 1;
    }
    *pool = p;
    return 0;
error:
    sn_pool_destroy(p);
    return err;
}
