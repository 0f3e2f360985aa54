/* Threads work where the tests run, qemu-user included: pthreadpool with
 * two workers, created and destroyed repeatedly. (Under qemu 7.2 a
 * dynamically linked ARM program started with plain -L hangs or crashes
 * here; scripts/qemu-run starts it through the target's loader.) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <pthreadpool.h>
#include <stdatomic.h>

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

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pool_runs_every_item_once),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
