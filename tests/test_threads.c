/* The sessions' thread pool (algo/pool.h), where the tests run, qemu-user
 * and ThreadSanitizer included (under qemu 7.2 a dynamically linked ARM
 * program started with plain -L hangs or crashes on its first thread;
 * scripts/qemu-run starts it through the target's loader). And the
 * sessions' sharing of work items among the threads (algo/share.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <time.h>
#include <unistd.h>

#include "algo/pool.h"
#include "algo/share.h"

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void sleep_us(long us) {
    struct timespec ts = {us / 1000000, us % 1000000 * 1000};
    nanosleep(&ts, NULL);
}

/* ---- algo/pool.h -------------------------------------------------------- */

enum { POOL_MAX_ITEMS = 5000, POOL_MAX_THREADS = 4 };

/* One job's items. `open` is set while the job runs: a call outside of it
 * (a late worker running a finished job) counts as bad. */
struct job {
    _Atomic int hits[POOL_MAX_ITEMS];
    size_t count, tile, threads;
    _Atomic int open;
    _Atomic int bad;       /* a call closed, empty, too long or past the end */
    _Atomic int by_worker; /* items run on another thread than the caller's */
    pthread_t caller;
};

static void job_items(void *context, size_t begin, size_t count) {
    struct job *j = context;
    if (!atomic_load(&j->open) || count == 0 || begin + count > j->count ||
        /* a lone thread runs all at once; tiles grow only past 65535 a range */
        (count > j->tile && j->threads > 1 && j->count / j->tile <= 65535))
        atomic_store(&j->bad, 1);
    if (!pthread_equal(pthread_self(), j->caller)) atomic_fetch_add(&j->by_worker, (int)count);
    for (size_t i = begin; i < begin + count && i < POOL_MAX_ITEMS; i++)
        atomic_fetch_add(&j->hits[i], 1);
}

/* Runs `count` items `tile` at a time on the pool, and checks each ran
 * exactly once before sn_pool_run returned. */
static void run_job(struct sn_pool *pool, struct job *j, size_t count, size_t tile) {
    j->count = count;
    j->tile = tile;
    j->threads = sn_pool_threads(pool);
    j->caller = pthread_self();
    atomic_store(&j->bad, 0);
    atomic_store(&j->by_worker, 0);
    for (size_t i = 0; i < count; i++) atomic_store(&j->hits[i], 0);
    atomic_store(&j->open, 1);
    sn_pool_run(pool, job_items, j, count, tile);
    atomic_store(&j->open, 0);
    assert_int_equal(atomic_load(&j->bad), 0);
    for (size_t i = 0; i < count; i++)
        if (atomic_load(&j->hits[i]) != 1)
            fail_msg("%zu threads, %zu items, tile %zu: item %zu ran %d times",
                     sn_pool_threads(pool), count, tile, i, atomic_load(&j->hits[i]));
}

/* Every item exactly once on 1 to 4 threads, for counts that do and don't
 * divide among them and tiles from 1 to more than all the items, many
 * jobs on one pool. */
static void test_pool_runs_every_item_once(void **state) {
    (void)state;
    static struct job j;
    const size_t counts[] = {0, 1, 2, 3, 7, 64, 1000, 4999};
    const size_t tiles[] = {1, 3, 64, 10000};
    for (size_t threads = 1; threads <= POOL_MAX_THREADS; threads++) {
        struct sn_pool *pool;
        assert_int_equal(sn_pool_create(threads, NULL, &pool), 0);
        assert_int_equal(sn_pool_threads(pool), threads);
        for (int round = 0; round < 20; round++)
            for (size_t c = 0; c < sizeof counts / sizeof *counts; c++)
                for (size_t t = 0; t < sizeof tiles / sizeof *tiles; t++)
                    run_job(pool, &j, counts[c], tiles[t]);
        sn_pool_destroy(pool);
    }
}

/* 0 threads: one per online CPU; too many: EINVAL, and no pool. */
static void test_pool_thread_counts(void **state) {
    (void)state;
    struct sn_pool *pool;
    assert_int_equal(sn_pool_create(0, NULL, &pool), 0);
    const long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    assert_int_equal(sn_pool_threads(pool), cpus > 0 ? (size_t)cpus : 1);
    sn_pool_destroy(pool);
    pool = (struct sn_pool *)&pool;
    assert_int_equal(sn_pool_create((size_t)SN_POOL_MAX_THREADS + 1, NULL, &pool), EINVAL);
    assert_null(pool);
    sn_pool_destroy(NULL);
}

/* A worker held before it joins, as one descheduled by another process. */
enum { HOLD_S = 5 };
struct hold {
    pthread_mutex_t lock;
    pthread_cond_t changed;
    int holding;   /* worker 1 waits in the hook while set */
    int arrived;   /* worker 1 has seen a job while holding */
    long delay_us; /* > 0: every worker sleeps up to this long before joining */
    _Atomic unsigned seed;
};

static void hold_joining(void *user, size_t k) {
    struct hold *h = user;
    if (h->delay_us > 0) {
        unsigned x = atomic_fetch_add(&h->seed, 2654435761u) * 2654435761u;
        sleep_us((long)(x >> 8) % h->delay_us);
    }
    if (k != 1) return;
    pthread_mutex_lock(&h->lock);
    if (h->holding) { /* for HOLD_S at most, so that a pool waiting for it fails, not hangs */
        h->arrived = 1;
        pthread_cond_broadcast(&h->changed);
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += HOLD_S;
        while (h->holding && pthread_cond_timedwait(&h->changed, &h->lock, &until) != ETIMEDOUT) {
        }
        h->holding = 0;
    }
    pthread_mutex_unlock(&h->lock);
}

/* Items 0 and 1 of a 2-item job, each waiting (up to 10 s) until both
 * have started: only two threads at once can run it. */
struct pair {
    _Atomic int started, done;
    _Atomic int alone; /* an item waited 10 s in vain for the other one */
    long item1_sleep_us;
};

static void pair_items(void *context, size_t begin, size_t count) {
    struct pair *p = context;
    for (size_t i = begin; i < begin + count; i++) {
        atomic_fetch_add(&p->started, 1);
        const double t0 = now_s();
        while (atomic_load(&p->started) < 2)
            if (now_s() - t0 > 10) {
                atomic_store(&p->alone, 1);
                break;
            } else
                sleep_us(100);
        if (i == 1) sleep_us(p->item1_sleep_us);
        atomic_fetch_add(&p->done, 1);
    }
}

/* Runs a pair job on the pool: both items done, each with the other
 * running beside it (item 1 sleeps `item1_sleep_us` before it is done). */
static void assert_pair_runs_together(struct sn_pool *pool, long item1_sleep_us) {
    struct pair p = {.item1_sleep_us = item1_sleep_us};
    sn_pool_run(pool, pair_items, &p, 2, 1);
    assert_int_equal(atomic_load(&p.done), 2);
    assert_int_equal(atomic_load(&p.alone), 0);
}

/* Past 65536 jobs the door's 16-bit generation wraps: jobs still run
 * every item once, and the workers still take part (a job only two
 * threads at once can finish; workers may miss any of the small ones). */
static void test_pool_many_generations(void **state) {
    (void)state;
    static struct job j;
    struct sn_pool *pool;
    assert_int_equal(sn_pool_create(3, NULL, &pool), 0);
    for (int round = 0; round < 70000; round++) run_job(pool, &j, 3 + (size_t)round % 5, 1);
    assert_pair_runs_together(pool, 0);
    sn_pool_destroy(pool);
}

/* The caller returns once every item is done, without waiting for a
 * worker that has not joined (held in the hook for as long as the job
 * runs); the held worker, let go after, finds the job closed and runs
 * nothing of it; then it takes part in the next jobs again. */
static void test_pool_does_not_wait_for_a_late_worker(void **state) {
    (void)state;
    static struct job j;
    struct hold h = {.holding = 1};
    pthread_mutex_init(&h.lock, NULL);
    pthread_cond_init(&h.changed, NULL);
    struct sn_pool *pool;
    assert_int_equal(
        sn_pool_create(2, &(struct sn_pool_hooks){.joining = hold_joining, .user = &h}, &pool), 0);
    const double t0 = now_s();
    run_job(pool, &j, 1000, 1); /* returns: worker 1 is held */
    if (now_s() - t0 > HOLD_S / 2.0)
        fail_msg("the caller waited %.1f s for a late worker", now_s() - t0);
    assert_int_equal(atomic_load(&j.by_worker), 0);
    pthread_mutex_lock(&h.lock);
    while (!h.arrived) pthread_cond_wait(&h.changed, &h.lock); /* it saw the job */
    h.holding = 0;
    pthread_cond_broadcast(&h.changed);
    pthread_mutex_unlock(&h.lock);
    sleep_us(20000); /* it tries to join the closed job: job_items would count it bad */
    assert_int_equal(atomic_load(&j.bad), 0);
    assert_int_equal(atomic_load(&j.by_worker), 0);
    /* the worker is back: a job only two threads at once can finish */
    assert_pair_runs_together(pool, 0);
    sn_pool_destroy(pool);
    pthread_cond_destroy(&h.changed);
    pthread_mutex_destroy(&h.lock);
}

/* A worker that joined and is mid-item when the caller runs out of items
 * is waited for: its item is done when sn_pool_run returns. */
static void test_pool_waits_for_a_joined_worker(void **state) {
    (void)state;
    struct sn_pool *pool;
    assert_int_equal(sn_pool_create(2, NULL, &pool), 0);
    for (int round = 0; round < 5; round++) assert_pair_runs_together(pool, 20000);
    sn_pool_destroy(pool);
}

/* Workers that join at random moments (each sleeps up to 300 us before
 * it tries) on 2 to 4 threads: every item once, and no call of a job
 * after it returned. */
static void test_pool_with_late_workers(void **state) {
    (void)state;
    static struct job j;
    for (size_t threads = 2; threads <= POOL_MAX_THREADS; threads++) {
        struct hold h = {.delay_us = 300};
        pthread_mutex_init(&h.lock, NULL);
        pthread_cond_init(&h.changed, NULL);
        struct sn_pool *pool;
        assert_int_equal(
            sn_pool_create(threads, &(struct sn_pool_hooks){.joining = hold_joining, .user = &h},
                           &pool),
            0);
        for (int round = 0; round < 300; round++)
            run_job(pool, &j, 1 + (size_t)round * 7 % 200, 1 + (size_t)round % 3);
        sn_pool_destroy(pool);
        assert_int_equal(atomic_load(&j.bad), 0);
        pthread_cond_destroy(&h.changed);
        pthread_mutex_destroy(&h.lock);
    }
}

/* ---- algo/share.h ------------------------------------------------------ */

enum { SHARE_MAX_ITEMS = 5000, SHARE_MAX_CALLS = 4 };

struct share_run {
    struct sn_share share;
    _Atomic int hits[SHARE_MAX_ITEMS];
    _Atomic int bad; /* a take empty, too long or past the end */
};

/* Calls k of a hand-off, as the sessions' calls: each takes until none is
 * left. */
static void share_calls(void *context, size_t first, size_t count) {
    struct share_run *r = context;
    size_t begin, end;
    for (size_t k = first; k < first + count; k++)
        while (sn_share_take(&r->share, k, &begin, &end)) {
            if (begin >= end || end - begin > r->share.chunk || end > r->share.items)
                atomic_store(&r->bad, 1);
            for (size_t i = begin; i < end && i < SHARE_MAX_ITEMS; i++)
                atomic_fetch_add(&r->hits[i], 1);
        }
}

/* Every item taken exactly once, whatever the timing, for item counts
 * that do and don't divide among the calls, on 1 to 4 threads, with
 * chunks from 1 to more than all the items. */
static void test_share_takes_every_item_once(void **state) {
    (void)state;
    static struct share_run r;
    static struct sn_share_range ranges[SHARE_MAX_CALLS];
    const size_t items[] = {0, 1, 2, 3, 7, 64, 1000, 4999};
    const size_t chunks[] = {1, 3, 64, 10000};
    for (size_t threads = 1; threads <= SHARE_MAX_CALLS; threads++)
        for (size_t a = 0; a < sizeof items / sizeof *items; a++)
            for (size_t c = 0; c < sizeof chunks / sizeof *chunks; c++)
                for (int round = 0; round < 4; round++) {
                    r.share = sn_share_init(ranges, threads, items[a], chunks[c]);
                    atomic_store(&r.bad, 0);
                    for (size_t i = 0; i < SHARE_MAX_ITEMS; i++) atomic_store(&r.hits[i], 0);
                    struct sn_pool *pool;
                    assert_int_equal(sn_pool_create(threads, NULL, &pool), 0);
                    sn_pool_run(pool, share_calls, &r, threads, 1);
                    sn_pool_destroy(pool);
                    assert_int_equal(atomic_load(&r.bad), 0);
                    for (size_t i = 0; i < items[a]; i++) {
                        if (atomic_load(&r.hits[i]) != 1)
                            fail_msg("%zu threads, %zu items, chunk %zu: item %zu taken %d times",
                                     threads, items[a], chunks[c], i, atomic_load(&r.hits[i]));
                    }
                }
}

/* Each call starts at the front of its own range, and once its range is
 * empty takes the others' from the back, next call first. */
static void test_share_owns_then_steals(void **state) {
    (void)state;
    struct sn_share_range ranges[3];
    struct sn_share w = sn_share_init(ranges, 3, 10, 1); /* ranges [0,3) [3,6) [6,10) */
    size_t begin, end;
    assert_true(sn_share_take(&w, 1, &begin, &end));
    assert_int_equal(begin, 3);
    assert_int_equal(end, 4);
    assert_true(sn_share_take(&w, 2, &begin, &end));
    assert_int_equal(begin, 6);
    for (size_t want = 0; want < 3; want++) { /* call 0 drains its own */
        assert_true(sn_share_take(&w, 0, &begin, &end));
        assert_int_equal(begin, want);
    }
    assert_true(sn_share_take(&w, 0, &begin, &end));
    assert_int_equal(begin, 5); /* call 1's back */
    assert_true(sn_share_take(&w, 0, &begin, &end));
    assert_int_equal(begin, 4);
    assert_true(sn_share_take(&w, 0, &begin, &end));
    assert_int_equal(begin, 9); /* then call 2's back */
    /* a chunk of 4 over 10 items: the last is short */
    w = sn_share_init(ranges, 1, 10, 4);
    size_t seen[3][2], n = 0;
    while (sn_share_take(&w, 0, &begin, &end)) seen[n][0] = begin, seen[n][1] = end, n++;
    assert_int_equal(n, 3);
    assert_int_equal(seen[2][0], 8);
    assert_int_equal(seen[2][1], 10);
}

/* Past 65535 chunks a range the chunk grows until they fit, and the
 * takes still cover every item: a range's first starts at its first
 * item, the last one ends at the last item. */
static void test_share_grows_chunks_to_fit(void **state) {
    (void)state;
    const size_t counts[] = {65535, 65536, 2 * 65535 + 1, (size_t)1 << 30, SIZE_MAX / 2};
    for (size_t c = 0; c < sizeof counts / sizeof *counts; c++) {
        const size_t items = counts[c];
        struct sn_share_range ranges[2];
        struct sn_share w = sn_share_init(ranges, 2, items, 1);
        const uint64_t n = items, chunk = w.chunk, per = ((n + chunk - 1) / chunk + 1) / 2;
        assert_true(per <= 65535);
        if (chunk > 1) /* the least chunk that fits */
            assert_true(((n + chunk / 2 - 1) / (chunk / 2) + 1) / 2 > 65535);
        size_t begin, end;
        assert_true(sn_share_take(&w, 1, &begin, &end));
        assert_int_equal(begin, (size_t)(((n + chunk - 1) / chunk / 2) * chunk));
        assert_true(sn_share_take(&w, 0, &begin, &end));
        assert_int_equal(begin, 0);
        assert_int_equal(end, w.chunk < items ? w.chunk : items);
        atomic_store(&ranges[0].span, 0); /* call 0's range taken: it steals call 1's last */
        assert_true(sn_share_take(&w, 0, &begin, &end));
        assert_int_equal(end, items);
        assert_true(end > begin && end - begin <= w.chunk);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pool_runs_every_item_once),
        cmocka_unit_test(test_pool_many_generations),
        cmocka_unit_test(test_pool_thread_counts),
        cmocka_unit_test(test_pool_does_not_wait_for_a_late_worker),
        cmocka_unit_test(test_pool_waits_for_a_joined_worker),
        cmocka_unit_test(test_pool_with_late_workers),
        cmocka_unit_test(test_share_takes_every_item_once),
        cmocka_unit_test(test_share_owns_then_steals),
        cmocka_unit_test(test_share_grows_chunks_to_fit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
