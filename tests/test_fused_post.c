/* An activation that is no clamp (sigmoid, tanh, swish, hard_sigmoid,
 * hard_swish) folds into the product before it, which applies it to its
 * output as it goes (struct sn_node's post): on every kernel set, 1 and 2
 * threads, each algorithm (direct, Winograd, GEMM, depthwise, the plain
 * matmul, a conv writing its part of a concat, the reference kernels on
 * the scalar set) gives the same bits as the op on its own, which the
 * session runs when the product's output is fetched too. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "scopenn.h"

enum { N = 2, H = 9, W = 11 };

typedef sn_tensor *(*post_fn)(sn_graph *, sn_tensor *, const char *);

static const struct {
    const char *name;
    post_fn fn;
} posts[] = {{"sigmoid", sn_sigmoid},
             {"tanh", sn_tanh},
             {"swish", sn_swish},
             {"hard_sigmoid", sn_hard_sigmoid},
             {"hard_swish", sn_hard_swish}};

enum head { DIRECT, WINOGRAD, GEMM, DEPTHWISE, MATMUL, CONCAT_PART, HEADS };

static const char *const head_names[] = {"direct (3x3/2)", "winograd (3x3/1, 16 channels)",
                                         "gemm (1x1)",     "depthwise (3x3)",
                                         "matmul",         "1x1 conv into a concat"};

/* Input channels of each head. */
static int64_t channels(enum head h) { return h == WINOGRAD ? 16 : h == DEPTHWISE ? 13 : 7; }

static sn_tensor *weights(sn_graph *g, const char *name, sn_shape shape) {
    return sn_var(g, sn_get_variable(g, name, shape, sn_random_uniform_initializer(-0.5f, 0.5f)));
}

/* The head on x with a bias (the post's input), and what to fetch: the
 * post's output (or the concat holding it) and, unfused, the head's too. */
static sn_tensor *build(sn_graph *g, enum head h, post_fn post, sn_tensor *x, sn_tensor **head) {
    const int64_t c = channels(h), oc = 19;
    sn_tensor *y;
    switch (h) {
    case DIRECT:
        y = sn_conv2d(g, x, weights(g, "w", SN_SHAPE(3, 3, c, oc)), SN_STRIDES(2, 2),
                      SN_PADDING_SAME, NULL);
        break;
    case WINOGRAD:
        y = sn_conv2d(g, x, weights(g, "w", SN_SHAPE(3, 3, c, 24)), SN_STRIDES(1, 1),
                      SN_PADDING_SAME, NULL);
        break;
    case GEMM:
    case CONCAT_PART:
        y = sn_conv2d(g, x, weights(g, "w", SN_SHAPE(1, 1, c, oc)), SN_STRIDES(1, 1),
                      SN_PADDING_VALID, NULL);
        break;
    case DEPTHWISE:
        y = sn_depthwise_conv2d(g, x, weights(g, "w", SN_SHAPE(3, 3, c, 1)), SN_STRIDES(1, 1),
                                SN_PADDING_SAME, SN_HW(1, 1), NULL);
        break;
    default:
        y = sn_matmul(g, sn_reshape(g, x, SN_SHAPE(N * H, W * c), NULL),
                      weights(g, "w", SN_SHAPE(W * c, oc)), false, false, NULL);
    }
    const sn_shape s = sn_tensor_shape(y);
    y = sn_bias_add(g, y, weights(g, "b", SN_SHAPE(s.dims[s.rank - 1])), NULL);
    *head = y;
    y = post(g, y, NULL);
    if (h == CONCAT_PART) {
        sn_tensor *other = sn_conv2d(g, x, weights(g, "w2", SN_SHAPE(1, 1, c, 6)),
                                     SN_STRIDES(1, 1), SN_PADDING_VALID, NULL);
        sn_tensor *parts[2] = {other, y};
        y = sn_concat(g, parts, 2, 3, NULL);
    }
    return y;
}

static void check(enum head h, size_t p, sn_isa isa, int threads) {
    sn_graph *g = sn_graph_create(&(sn_graph_options){.seed = 7});
    const int64_t c = channels(h);
    sn_tensor *x = sn_placeholder(g, "x", SN_SHAPE(N, H, W, c)), *head;
    sn_tensor *y = build(g, h, posts[p].fn, x, &head);
    if (!y) fail_msg("%s", sn_graph_error(g));
    const sn_session_options opt = {.threads = threads, .limit_isa = true, .max_isa = isa};
    sn_session *fused = sn_session_create(g, SN_FETCH(y), &opt);
    sn_session *alone = sn_session_create(g, SN_FETCH(y, head), &opt);
    assert_non_null(fused);
    assert_non_null(alone);
    sn_session_stats a, b;
    sn_session_stats_get(fused, &a);
    sn_session_stats_get(alone, &b);
    assert_int_equal(a.fused, b.fused + 1); /* bias and post; bias alone */
    assert_int_equal(a.winograd, h == WINOGRAD && isa != SN_ISA_SCALAR);
    float in[N * H * W * 16];
    for (int i = 0; i < N * H * W * c; i++) in[i] = 4.0f * sinf(0.37f * (float)i);
    const sn_feed feed = {x, in, SN_SHAPE(N, H, W, c)};
    sn_output one, two[2];
    assert_int_equal(sn_session_run(fused, &feed, 1, &one), SN_OK);
    assert_int_equal(sn_session_run(alone, &feed, 1, two), SN_OK);
    const sn_shape ys = sn_tensor_shape(y);
    int64_t count = 1;
    for (int d = 0; d < ys.rank; d++) count *= ys.dims[d];
    assert_true(count > 0);
    if (memcmp(one.data, two[0].data, (size_t)count * sizeof(float)) != 0)
        fail_msg("%s + %s on %s, %d thread(s): the fused output differs", head_names[h],
                 posts[p].name, sn_isa_name(isa), threads);
    sn_session_destroy(fused);
    sn_session_destroy(alone);
    sn_graph_destroy(g);
}

static void test_fused_post_is_the_op_alone(void **state) {
    (void)state;
    sn_cpu_info info;
    sn_cpu_info_get(&info);
    int checked = 0;
    for (int isa = 0; isa <= (int)info.isa; isa++) {
        if (!((info.isas >> isa) & 1)) continue;
        for (int h = 0; h < HEADS; h++)
            for (size_t p = 0; p < sizeof posts / sizeof *posts; p++)
                for (int threads = 1; threads <= 2; threads++, checked++)
                    check((enum head)h, p, (sn_isa)isa, threads);
    }
    print_message("test_fused_post: %d cases\n", checked);
}

int main(void) {
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_fused_post_is_the_op_alone)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
