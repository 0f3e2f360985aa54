/* Threads work where the tests run, qemu-user included: pthreadpool with
 * two workers, created and destroyed repeatedly. (Under qemu 7.2 a
 * dynamically linked ARM program started with plain -L hangs or crashes
 * here; scripts/qemu-run starts it through the target's loader.) And the
 * sessions' sharing of work items among the threads (runtime/share.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <pthreadpool.h>
#include <stdatomic.h>
#include <stdint.h>

#include "runtime/share.h"

enum { ITEMS = 1000 };

struct work {
    _Atomic int hits[ITEMS];
};

static void touch(void *context, size_t i) {
    struct work *w = context;
    atomic_fetch_add(&w->hits[i], 1);
}

static void test_pool_runs_every_item_once(void **state) {
    (void)state;
    static struct work w;
    for (int round = 0; round < 5; round++) {
        pthreadpool_t pool = pthreadpool_create(2);
        assert_non_null(pool);
        assert_int_equal(pthreadpool_get_threads_count(pool), 2);
        for (int i = 0; i < ITEMS; i++) atomic_store(&w.hits[i], 0);
        pthreadpool_parallelize_1d(pool, touch, &w, ITEMS, 0);
        for (int i = 0; i < ITEMS; i++) assert_int_equal(atomic_load(&w.hits[i]), 1);
        pthreadpool_destroy(pool);
    }
}

/* ---- runtime/share.h ------------------------------------------------------ */

enum { SHARE_MAX_ITEMS = 5000, SHARE_MAX_CALLS = 4 };

struct share_run {
    struct sn_share share;
    _Atomic int hits[SHARE_MAX_ITEMS];
    _Atomic int bad; /* a take empty, too long or past the end */
};

/* Call k of a hand-off, as the sessions' calls: takes until none is left. */
static void share_call(void *context, size_t k) {
    struct share_run *r = context;
    size_t begin, end;
    while (sn_share_take(&r->share, k, &begin, &end)) {
        if (begin >= end || end - begin > r->share.chunk || end > r->share.items)
            atomic_store(&r->bad, 1);
        for (size_t i = begin; i < end && i < SHARE_MAX_ITEMS; i++)
            atomic_fetch_add(&r->hits[i], 1);
    }
}

/* Every item taken exactly once, whatever the timing, for item counts
 * that do and don't divide among the calls, on 1 to 4 threads, with
 * chunks from 1 to more than all the items. A pool per hand-off: its
 * threads' creation and joining order the hand-offs for
 * ThreadSanitizer, which does not see inside pthreadpool. */
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
                    pthreadpool_t pool = pthreadpool_create(threads);
                    assert_non_null(pool);
                    pthreadpool_parallelize_1d(pool, share_call, &r, threads, 0);
                    pthreadpool_destroy(pool);
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
        cmocka_unit_test(test_share_takes_every_item_once),
        cmocka_unit_test(test_share_owns_then_steals),
        cmocka_unit_test(test_share_grows_chunks_to_fit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
