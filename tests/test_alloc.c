/* The allocator hook, and out-of-memory at every allocation of a model
 * build: each failure is reported as SN_ERR_OUT_OF_MEMORY, leaves nothing
 * half-made, and nothing leaks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "scopenn.h"

struct counting {
    long live;       /* allocations not yet freed */
    long calls;      /* allocations asked for */
    long fail_after; /* fail every allocation after this many; -1: never */
};

static bool refuse(struct counting *c) {
    c->calls++;
    return c->fail_after >= 0 && c->calls > c->fail_after;
}

static void *count_allocate(void *user, size_t size) {
    struct counting *c = user;
    if (refuse(c)) return NULL;
    void *p = malloc(size);
    if (p) c->live++;
    return p;
}

static void *count_reallocate(void *user, void *ptr, size_t size) {
    struct counting *c = user;
    if (refuse(c)) return NULL;
    return realloc(ptr, size);
}

static void count_free(void *user, void *ptr) {
    ((struct counting *)user)->live--;
    free(ptr);
}

static void *count_allocate_aligned(void *user, size_t alignment, size_t size) {
    struct counting *c = user;
    if (refuse(c)) return NULL;
    void *p = NULL;
    if (posix_memalign(&p, alignment, size) != 0) return NULL;
    c->live++;
    return p;
}

static struct counting counter;
static const sn_allocator counting_allocator = {
    count_allocate, count_reallocate, count_free, count_allocate_aligned, count_free, &counter};

/* A bit of everything the builder does. */
static void build(sn_graph *g) {
    const float two[2] = {2, 2};
    sn_tensor *x = sn_placeholder(g, "x", SN_SHAPE(-1, 4));
    sn_scope *outer = sn_variable_scope_open_init(g, "outer", SN_REUSE_INHERIT,
                                                  sn_values_initializer(two, SN_SHAPE(2)));
    sn_get_variable(g, "from_default", SN_SHAPE_UNKNOWN, SN_NO_INITIALIZER);
    sn_variable_scope_close(g, outer);
    for (int i = 0; i < 3; i++)
        SN_WITH_VARIABLE_SCOPE_REUSE(g, "layer", i ? SN_REUSE_TRUE : SN_REUSE_INHERIT) {
            sn_variable *w =
                sn_get_variable(g, "w", SN_SHAPE(4), sn_random_normal_initializer(0, 1));
            sn_variable *b = sn_get_variable(g, "b", SN_SCALAR, sn_zeros_initializer());
            SN_WITH_NAME_SCOPE(g, "inner") x = sn_relu(g, sn_add(g, x, sn_var(g, w), NULL), NULL);
            x = sn_maximum(g, x, sn_var(g, b), "max");
        }
    SN_WITH_CAPTURED_SCOPE(g, outer, SN_AUTO_REUSE)
    sn_get_variable(g, "k", SN_SHAPE(3, 3, 2, 2), sn_glorot_uniform_initializer());
}

static void test_out_of_memory_everywhere(void **state) {
    (void)state;
    assert_int_equal(sn_set_allocator(&counting_allocator), SN_OK);
    long n;
    for (n = 0;; n++) {
        counter = (struct counting){0, 0, n};
        sn_graph *g = sn_graph_create(NULL);
        if (!g) {
            assert_int_equal(counter.live, 0);
            continue;
        }
        build(g);
        sn_status st = sn_graph_status(g);
        if (st != SN_OK) {
            assert_int_equal(st, SN_ERR_OUT_OF_MEMORY);
            /* whatever was made is whole */
            sn_graph_clear_error(g);
            for (size_t i = 0; i < sn_graph_variable_count(g); i++) {
                sn_variable *v = sn_graph_variable(g, i);
                assert_ptr_equal(sn_graph_find_variable(g, sn_variable_name(v)), v);
                assert_non_null(sn_variable_value(v));
                assert_string_equal(sn_tensor_name(sn_var(g, v)), sn_variable_tensor_name(v));
            }
        }
        sn_graph_destroy(g);
        if (counter.live != 0)
            fail_msg("failing allocation %ld: %ld allocations leaked", n + 1, counter.live);
        if (st == SN_OK) break;
    }
    print_message("the build makes %ld allocations; each one failing was handled\n", n);
    assert_true(n > 20);
    assert_int_equal(sn_set_allocator(NULL), SN_OK);
}

static void test_hook_sees_every_allocation(void **state) {
    (void)state;
    counter = (struct counting){0, 0, -1};
    assert_int_equal(sn_set_allocator(&counting_allocator), SN_OK);
    sn_graph *g = sn_graph_create(NULL);
    build(g);
    assert_int_equal(sn_graph_status(g), SN_OK);
    assert_true(counter.live > 0);
    sn_graph_destroy(g);
    assert_int_equal(counter.live, 0);
    sn_allocator broken = counting_allocator;
    broken.free = NULL;
    assert_int_equal(sn_set_allocator(&broken), SN_ERR_INVALID_ARGUMENT);
    assert_int_equal(sn_set_allocator(NULL), SN_OK);
}

/* A session's allocations through the hook: counted for `threads`, or the
 * status of a create whose allocations fail after `fail_after`. */
static sn_status session_allocations(int threads, long fail_after, long *calls) {
    counter = (struct counting){0, 0, -1};
    sn_graph *g = sn_graph_create(NULL);
    sn_tensor *x = sn_placeholder(g, "x", SN_SHAPE(1, 8, 8, 4));
    sn_tensor *y = sn_relu(g, x, NULL);
    assert_int_equal(sn_graph_status(g), SN_OK);
    counter = (struct counting){counter.live, 0, fail_after};
    sn_session *s = sn_session_create(g, SN_FETCH(y), &(sn_session_options){.threads = threads});
    *calls = counter.calls;
    counter.fail_after = -1;
    sn_status st = sn_graph_status(g);
    assert_int_equal(st, s ? SN_OK : SN_ERR_OUT_OF_MEMORY);
    sn_session_destroy(s);
    sn_graph_destroy(g);
    if (counter.live != 0) fail_msg("%d threads: %ld allocations leaked", threads, counter.live);
    return st;
}

/* The session's thread pool allocates through the hook too (the pool,
 * its ranges of work items, its workers), and a failure of any of its
 * allocations is reported as SN_ERR_OUT_OF_MEMORY, with nothing leaked. */
static void test_hook_sees_the_thread_pool(void **state) {
    (void)state;
    assert_int_equal(sn_set_allocator(&counting_allocator), SN_OK);
    long one, two;
    assert_int_equal(session_allocations(1, -1, &one), SN_OK);
    assert_int_equal(session_allocations(2, -1, &two), SN_OK);
    if (two < one + 3)
        fail_msg("a session on 2 threads made %ld allocations through the hook, on 1 %ld", two,
                 one);
    long calls;
    for (long n = 0; n < two; n++)
        assert_int_equal(session_allocations(2, n, &calls), SN_ERR_OUT_OF_MEMORY);
    assert_int_equal(session_allocations(2, two, &calls), SN_OK);
    assert_int_equal(sn_set_allocator(NULL), SN_OK);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hook_sees_every_allocation),
        cmocka_unit_test(test_out_of_memory_everywhere),
        cmocka_unit_test(test_hook_sees_the_thread_pool),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
