/* The session profile (sn_session_options.profile): off by default, one
 * entry per node in run order with its name, its fused types and its
 * algorithm, exact flops at the run's shapes, times that sum to at most
 * the run's, totals and their reset, threads, and failed runs. It checks
 * that the times are sane, never how large they are. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "scopenn.h"

enum { H = 8, W = 8, C = 3, K = 3, OC = 4, CLASSES = 10 };

/* input [-1, 8, 8, 3] -> conv 3x3 SAME + bias + relu (one node) -> max
 * pool 2x2/2 -> reshape [-1, 64] -> matmul [64, 10] -> sigmoid. */
struct net {
    sn_graph *g;
    sn_tensor *input, *conv, *relu, *pool, *flat, *logits, *out;
};

static struct net build(void) {
    struct net n = {.g = sn_graph_create(&(sn_graph_options){.seed = 3})};
    n.input = sn_placeholder(n.g, "input", SN_SHAPE(-1, H, W, C));
    SN_WITH_VARIABLE_SCOPE(n.g, "conv") {
        sn_variable *w = sn_get_variable(n.g, "weights", SN_SHAPE(K, K, C, OC), SN_NO_INITIALIZER);
        sn_variable *b = sn_get_variable(n.g, "biases", SN_SHAPE(OC), sn_zeros_initializer());
        n.conv = sn_conv2d(n.g, n.input, sn_var(n.g, w), SN_STRIDES(1, 1), SN_PADDING_SAME, NULL);
        n.relu = sn_relu(n.g, sn_bias_add(n.g, n.conv, sn_var(n.g, b), NULL), NULL);
    }
    n.pool = sn_max_pool(n.g, n.relu, SN_HW(2, 2), SN_STRIDES(2, 2), SN_PADDING_VALID, NULL);
    n.flat = sn_reshape(n.g, n.pool, SN_SHAPE(-1, (H / 2) * (W / 2) * OC), NULL);
    SN_WITH_VARIABLE_SCOPE(n.g, "fc") {
        sn_variable *w = sn_get_variable(n.g, "weights", SN_SHAPE((H / 2) * (W / 2) * OC, CLASSES),
                                         SN_NO_INITIALIZER);
        n.logits = sn_matmul(n.g, n.flat, sn_var(n.g, w), false, false, NULL);
    }
    n.out = sn_softmax(n.g, n.logits, "probs"); /* a sigmoid would fold into the matmul */
    if (sn_graph_status(n.g) != SN_OK) fail_msg("%s", sn_graph_error(n.g));
    return n;
}

static sn_session *session_of(struct net *n, int threads, bool profile) {
    sn_session_options opt = {.threads = threads, .max_batch = 2, .profile = profile};
    sn_session *s = sn_session_create(n->g, SN_FETCH(n->out), &opt);
    if (!s) fail_msg("%s", sn_graph_error(n->g));
    return s;
}

static float images[2 * H * W * C];

static uint64_t now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

/* Runs a batch of `batch`; returns the wall time the caller saw. */
static uint64_t run(struct net *n, sn_session *s, int64_t batch) {
    sn_feed feed = {n->input, images, SN_SHAPE(batch, H, W, C)};
    sn_output out;
    const uint64_t start = now_ns();
    if (sn_session_run(s, &feed, 1, &out) != SN_OK) fail_msg("%s", sn_session_error(s));
    return now_ns() - start;
}

static bool known_algorithm(const char *a) {
    static const char *const names[] = {"kernel",   "reference", "direct", "gemm",
                                        "winograd", "strassen",  "view"};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++)
        if (strcmp(a, names[i]) == 0) return true;
    return false;
}

/* What each node must say at a batch of `b`, in run order. */
static void check_nodes(const struct net *n, const sn_profile *p, int64_t b) {
    const struct {
        const sn_tensor *op; /* the node's first op */
        const char *type;
        int64_t flops;
    } want[] = {
        /* 2 x N*OH*OW*OC*KH*KW*IC, then the bias's and relu's elements */
        {n->conv, "Conv2D+BiasAdd+Relu", 2 * b * H * W * OC * K * K * C + 2 * b * H * W * OC},
        {n->pool, "MaxPool", b * (H / 2) * (W / 2) * OC * 2 * 2},
        {n->flat, "Reshape", 0},
        {n->logits, "MatMul", 2 * b * (H / 2) * (W / 2) * OC * CLASSES},
        {n->out, "Softmax", b * CLASSES},
    };
    assert_int_equal(p->count, 5);
    for (size_t i = 0; i < p->count; i++) {
        const sn_profile_node *node = &p->nodes[i];
        assert_string_equal(node->name, sn_tensor_op_name(want[i].op));
        assert_string_equal(node->type, want[i].type);
        assert_true(known_algorithm(node->algorithm));
        assert_int_equal(node->flops, want[i].flops);
    }
    assert_string_equal(p->nodes[2].algorithm, "view"); /* the reshape */
}

static uint64_t sum_ns(const sn_profile *p) {
    uint64_t sum = 0;
    for (size_t i = 0; i < p->count; i++) sum += p->nodes[i].ns;
    return sum;
}

static void test_off_by_default(void **state) {
    (void)state;
    struct net n = build();
    sn_session *s = sn_session_create(n.g, SN_FETCH(n.out), NULL);
    assert_non_null(s);
    run(&n, s, 1);
    sn_profile p = {.count = 99};
    assert_int_equal(sn_session_profile_get(s, &p), SN_ERR_INVALID_ARGUMENT);
    assert_null(p.nodes);
    assert_int_equal(p.count, 0);
    assert_int_equal(sn_session_profile_reset(s), SN_ERR_INVALID_ARGUMENT);
    assert_int_equal(sn_session_profile_get(NULL, &p), SN_ERR_INVALID_ARGUMENT);
    assert_int_equal(sn_session_profile_get(s, NULL), SN_ERR_INVALID_ARGUMENT);
    assert_int_equal(sn_session_profile_reset(NULL), SN_ERR_INVALID_ARGUMENT);
    sn_session_destroy(s);
    sn_graph_destroy(n.g);
}

static void test_nodes_once_with_exact_flops(void **state) {
    (void)state;
    struct net n = build();
    sn_session *s = session_of(&n, 1, true);
    sn_session_stats st;
    sn_session_stats_get(s, &st);
    sn_profile p;
    assert_int_equal(sn_session_profile_get(s, &p), SN_OK);
    assert_int_equal(p.count, st.ops); /* a fused group is one node */
    assert_int_equal(p.runs, 0);
    for (size_t i = 0; i < p.count; i++) assert_int_equal(p.nodes[i].ns, 0);

    const uint64_t wall = run(&n, s, 1);
    assert_int_equal(sn_session_profile_get(s, &p), SN_OK);
    assert_int_equal(p.runs, 1);
    check_nodes(&n, &p, 1);
    for (size_t i = 0; i < p.count; i++) assert_int_equal(p.nodes[i].total_ns, p.nodes[i].ns);
    assert_true(sum_ns(&p) <= p.run_ns);
    assert_true(p.run_ns <= wall);

    run(&n, s, 2); /* the flops follow the run's batch */
    assert_int_equal(sn_session_profile_get(s, &p), SN_OK);
    check_nodes(&n, &p, 2);
    sn_session_destroy(s);
    sn_graph_destroy(n.g);
}

static void test_totals_and_reset(void **state) {
    (void)state;
    struct net n = build();
    sn_session *s = session_of(&n, 1, true);
    sn_profile p;
    for (int i = 0; i < 3; i++) run(&n, s, 1);
    assert_int_equal(sn_session_profile_get(s, &p), SN_OK);
    assert_int_equal(p.runs, 3);
    uint64_t total = 0;
    for (size_t i = 0; i < p.count; i++) total += p.nodes[i].total_ns;
    assert_true(total >= sum_ns(&p));

    assert_int_equal(sn_session_profile_reset(s), SN_OK);
    assert_int_equal(sn_session_profile_get(s, &p), SN_OK);
    assert_int_equal(p.runs, 0);
    for (size_t i = 0; i < p.count; i++) assert_int_equal(p.nodes[i].total_ns, 0);
    check_nodes(&n, &p, 1); /* the last run's stay */

    run(&n, s, 1);
    assert_int_equal(sn_session_profile_get(s, &p), SN_OK);
    assert_int_equal(p.runs, 1);
    for (size_t i = 0; i < p.count; i++) assert_int_equal(p.nodes[i].total_ns, p.nodes[i].ns);
    sn_session_destroy(s);
    sn_graph_destroy(n.g);
}

static void test_threads(void **state) {
    (void)state;
    struct net n = build();
    sn_session *s = session_of(&n, 2, true);
    const uint64_t wall = run(&n, s, 2);
    sn_profile p;
    assert_int_equal(sn_session_profile_get(s, &p), SN_OK);
    check_nodes(&n, &p, 2);
    assert_true(sum_ns(&p) <= p.run_ns);
    assert_true(p.run_ns <= wall);
    sn_session_destroy(s);
    sn_graph_destroy(n.g);
}

/* A failed run changes nothing in the profile. */
static void test_failed_run(void **state) {
    (void)state;
    struct net n = build();
    sn_session *s = session_of(&n, 1, true);
    run(&n, s, 1);
    sn_profile was;
    assert_int_equal(sn_session_profile_get(s, &was), SN_OK);
    uint64_t before[5], run_ns = was.run_ns;
    assert_int_equal(was.count, 5);
    for (size_t i = 0; i < was.count; i++) before[i] = was.nodes[i].ns;
    sn_feed bad = {n.input, images, SN_SHAPE(3, H, W, C)}; /* above max_batch */
    sn_output out;
    assert_int_equal(sn_session_run(s, &bad, 1, &out), SN_ERR_SHAPE_MISMATCH);
    assert_int_equal(sn_session_run(s, NULL, 0, &out), SN_ERR_INVALID_ARGUMENT);
    sn_profile p;
    assert_int_equal(sn_session_profile_get(s, &p), SN_OK);
    assert_int_equal(p.runs, 1);
    check_nodes(&n, &p, 1);
    for (size_t i = 0; i < p.count; i++) assert_int_equal(p.nodes[i].ns, before[i]);
    assert_int_equal(p.run_ns, run_ns);
    sn_session_destroy(s);
    sn_graph_destroy(n.g);
}

int main(void) {
    for (size_t i = 0; i < sizeof images / sizeof *images; i++)
        images[i] = (float)(i % 7) * 0.25f - 0.75f;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_off_by_default),   cmocka_unit_test(test_nodes_once_with_exact_flops),
        cmocka_unit_test(test_totals_and_reset), cmocka_unit_test(test_threads),
        cmocka_unit_test(test_failed_run),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
