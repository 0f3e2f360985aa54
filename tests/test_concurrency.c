/* Thread safety as the header documents it: several sessions of one graph
 * run at the same time from different threads, sharing the graph's packed
 * weights, and each gets exactly what a lone session gets. Built with
 * ThreadSanitizer too (the tsan column of make test). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "scopenn.h"

enum { H = 10, W = 9, C = 8, SESSIONS = 4, RUNS = 20 };

/* Sessions of 1 and 2 threads: under ThreadSanitizer too, which sees the
 * hand-offs to the pool's workers (runtime/pool.c: atomics, a mutex and
 * condition variables). */
#define SESSION_THREADS(k) (1 + (k) % 2)

static sn_tensor *conv_relu(sn_graph *g, sn_tensor *x) {
    sn_variable *w =
        sn_get_variable(g, "weights", SN_SHAPE(3, 3, C, C), sn_random_normal_initializer(0, 0.3f));
    sn_variable *b = sn_get_variable(g, "biases", SN_SHAPE(C), sn_constant_initializer(0.1f));
    return sn_relu(g,
                   sn_add(g, sn_conv2d(g, x, sn_var(g, w), SN_STRIDES(1, 1), SN_PADDING_SAME, NULL),
                          sn_var(g, b), NULL),
                   NULL);
}

struct worker {
    sn_session *session;
    sn_tensor *input;
    const float *image, *want;
    int mismatches, failures;
};

static void *work(void *arg) {
    struct worker *w = arg;
    sn_feed feed = {w->input, w->image, SN_SHAPE(1, H, W, C)};
    sn_output out;
    for (int i = 0; i < RUNS; i++) {
        if (sn_session_run(w->session, &feed, 1, &out) != SN_OK) {
            w->failures++;
            continue;
        }
        if (memcmp(out.data, w->want, sizeof(float) * H * W * C) != 0) w->mismatches++;
    }
    return NULL;
}

static void test_sessions_of_one_graph_run_concurrently(void **state) {
    (void)state;
    sn_graph *g = sn_graph_create(&(sn_graph_options){.seed = 9});
    sn_tensor *x = sn_placeholder(g, "x", SN_SHAPE(-1, H, W, C)), *y = x;
    SN_WITH_VARIABLE_SCOPE(g, "conv1") y = conv_relu(g, y);
    SN_WITH_VARIABLE_SCOPE(g, "conv2") y = conv_relu(g, y);
    static float image[SESSIONS][H * W * C], want[SESSIONS][H * W * C];
    for (int k = 0; k < SESSIONS; k++)
        for (int i = 0; i < H * W * C; i++)
            image[k][i] = (float)((i * (k + 3)) % 29) / 29.0f - 0.4f;

    /* what a lone session computes for each image */
    sn_session *lone = sn_session_create(g, SN_FETCH(y), &(sn_session_options){.threads = 1});
    assert_non_null(lone);
    for (int k = 0; k < SESSIONS; k++) {
        sn_output out;
        assert_int_equal(
            sn_session_run(lone, &(sn_feed){x, image[k], SN_SHAPE(1, H, W, C)}, 1, &out), SN_OK);
        memcpy(want[k], out.data, sizeof want[k]);
    }

    /* building is single-threaded: make the sessions first */
    struct worker workers[SESSIONS];
    pthread_t threads[SESSIONS];
    for (int k = 0; k < SESSIONS; k++) {
        workers[k] = (struct worker){.input = x, .image = image[k], .want = want[k]};
        workers[k].session =
            sn_session_create(g, SN_FETCH(y), &(sn_session_options){.threads = SESSION_THREADS(k)});
        assert_non_null(workers[k].session);
        sn_session_stats st;
        sn_session_stats_get(workers[k].session, &st);
        assert_int_equal(st.packs_made, 0); /* the packs the lone session made */
        assert_int_equal(st.packs_reused, 4);
    }
    for (int k = 0; k < SESSIONS; k++)
        assert_int_equal(pthread_create(&threads[k], NULL, work, &workers[k]), 0);
    for (int k = 0; k < SESSIONS; k++) assert_int_equal(pthread_join(threads[k], NULL), 0);
    for (int k = 0; k < SESSIONS; k++) {
        assert_int_equal(workers[k].failures, 0);
        assert_int_equal(workers[k].mismatches, 0);
        sn_session_destroy(workers[k].session);
    }
    sn_session_destroy(lone);
    sn_graph_destroy(g);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sessions_of_one_graph_run_concurrently),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
