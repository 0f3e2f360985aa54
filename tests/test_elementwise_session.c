/* The session's use of the elementwise and pooling kernels: each case is a
 * one-op graph on placeholders, run with every kernel set this CPU has (up
 * to the SCOPENN_ISA cap), on 1 and 2 threads, and checked against the
 * reference kernels called directly. The cases cover each path the session
 * picks (same shape, a scalar on either side, a trailing vector on either
 * side, any other broadcast on the reference) and tensors large enough to be
 * split over threads. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ops/window.h"
#include "kernels/ref/ref.h"
#include "scopenn.h"

enum kind { ADD, MAXIMUM, BIAS_ADD, RELU, RELU6, SIGMOID, TANH, SOFTMAX, MAX_POOL, AVG_POOL };

struct test_case {
    const char *what;
    enum kind kind;
    sn_shape a, b; /* b: binary ops only */
    int k, stride; /* pools: square window and stride */
    sn_padding padding;
};

#define BINARY(what_, kind_, a_, b_)                                                               \
    { .what = what_, .kind = kind_, .a = a_, .b = b_ }
#define UNARY(what_, kind_, a_)                                                                    \
    { .what = what_, .kind = kind_, .a = a_ }
#define POOL(what_, kind_, a_, k_, stride_, padding_)                                              \
    { .what = what_, .kind = kind_, .a = a_, .k = k_, .stride = stride_, .padding = padding_ }

static uint32_t rng = 99;
static float value(int specials) {
    rng = rng * 1664525u + 1013904223u;
    if (specials && (rng >> 26) == 0) {
        static const float special[] = {NAN, INFINITY, -INFINITY, -0.0f, 0.0f};
        return special[(rng >> 8) % 5];
    }
    return (float)(rng >> 8) / 1048576.0f - 8.0f; /* [-8, 8) */
}

static size_t elements(const sn_shape *s) {
    size_t n = 1;
    for (int d = 0; d < s->rank; d++) n *= (size_t)s->dims[d];
    return n;
}

/* Strides of `in` broadcast to `out`, as the session computes them. */
static void strides(const sn_shape *in, const sn_shape *out, int64_t *st) {
    int64_t stride = 1;
    for (int d = out->rank - 1; d >= 0; d--) {
        int k = in->rank - out->rank + d;
        int64_t dim = k >= 0 ? in->dims[k] : 1;
        st[d] = dim == 1 ? 0 : stride;
        stride *= dim;
    }
}

static sn_conv2d_geometry pool_geometry(const struct test_case *c) {
    int64_t oh, ow, top, left;
    sn_window(c->a.dims[1], c->k, c->stride, 1, c->padding, &oh, &top);
    sn_window(c->a.dims[2], c->k, c->stride, 1, c->padding, &ow, &left);
    return (sn_conv2d_geometry){.batch = c->a.dims[0],
                                .in_h = c->a.dims[1],
                                .in_w = c->a.dims[2],
                                .in_c = c->a.dims[3],
                                .kh = c->k,
                                .kw = c->k,
                                .out_c = c->a.dims[3],
                                .out_h = oh,
                                .out_w = ow,
                                .stride_h = c->stride,
                                .stride_w = c->stride,
                                .dilation_h = 1,
                                .dilation_w = 1,
                                .pad_top = top,
                                .pad_left = left};
}

/* The expected output, from the reference kernels; returns its length. */
static size_t reference(const struct test_case *c, const sn_shape *out, const float *a,
                        const float *b, float *want) {
    size_t n = elements(out), last = (size_t)out->dims[out->rank - 1];
    switch (c->kind) {
    case ADD:
    case MAXIMUM: {
        int64_t as[SN_MAX_RANK], bs[SN_MAX_RANK];
        strides(&c->a, out, as);
        strides(&c->b, out, bs);
        sn_f32_binary_ref(c->kind == ADD ? SN_BINARY_ADD : SN_BINARY_MAX, out->rank, out->dims, a,
                          as, b, bs, want);
        break;
    }
    case BIAS_ADD: sn_f32_bias_add_ref(n, last, a, b, want); break;
    case RELU: sn_f32_unary_ref(SN_UNARY_RELU, n, a, want); break;
    case RELU6: sn_f32_unary_ref(SN_UNARY_RELU6, n, a, want); break;
    case SIGMOID: sn_f32_unary_ref(SN_UNARY_SIGMOID, n, a, want); break;
    case TANH: sn_f32_unary_ref(SN_UNARY_TANH, n, a, want); break;
    case SOFTMAX: sn_f32_softmax_ref(n / last, last, a, want); break;
    case MAX_POOL:
    case AVG_POOL: {
        sn_conv2d_geometry g = pool_geometry(c);
        (c->kind == MAX_POOL ? sn_f32_max_pool_ref : sn_f32_avg_pool_ref)(&g, a, want, 0,
                                                                          g.batch * g.out_h);
        break;
    }
    }
    return n;
}

/* Exact for add, relu, relu6 and the pools (maximum: +0 and -0 are equal,
 * see kernels.h); SLEEF's exp and tanh within a few ULP (softmax: its sum
 * in another order too). */
static int agree(enum kind kind, float got, float want, size_t cols) {
    if (isnan(got) || isnan(want)) return isnan(got) && isnan(want);
    double rel = 0;
    switch (kind) {
    case SIGMOID:
    case TANH: rel = 4 * FLT_EPSILON; break;
    case SOFTMAX: rel = (6.0 + 2.0 * (double)cols) * FLT_EPSILON; break;
    case MAXIMUM: return got == want;
    default: return memcmp(&got, &want, sizeof got) == 0;
    }
    if (isinf(got) || isinf(want)) return got == want;
    double d = fabs((double)got - (double)want), t = rel * fabs((double)want);
    return d <= (t > FLT_MIN ? t : FLT_MIN);
}

static void run_case(const struct test_case *c) {
    sn_graph *g = sn_graph_create(NULL);
    sn_tensor *a = sn_placeholder(g, "a", c->a), *b = NULL, *y = NULL;
    if (c->kind <= BIAS_ADD) b = sn_placeholder(g, "b", c->b);
    switch (c->kind) {
    case ADD: y = sn_add(g, a, b, NULL); break;
    case MAXIMUM: y = sn_maximum(g, a, b, NULL); break;
    case BIAS_ADD: y = sn_bias_add(g, a, b, NULL); break;
    case RELU: y = sn_relu(g, a, NULL); break;
    case RELU6: y = sn_relu6(g, a, NULL); break;
    case SIGMOID: y = sn_sigmoid(g, a, NULL); break;
    case TANH: y = sn_tanh(g, a, NULL); break;
    case SOFTMAX: y = sn_softmax(g, a, NULL); break;
    case MAX_POOL:
        y = sn_max_pool(g, a, SN_HW(c->k, c->k), SN_STRIDES(c->stride, c->stride), c->padding,
                        NULL);
        break;
    case AVG_POOL:
        y = sn_avg_pool(g, a, SN_HW(c->k, c->k), SN_STRIDES(c->stride, c->stride), c->padding,
                        NULL);
        break;
    }
    if (!y) fail_msg("%s: %s", c->what, sn_graph_error(g));
    const int specials = c->kind != SOFTMAX;
    const sn_shape yshape = sn_tensor_shape(y);
    size_t na = elements(&c->a), nb = b ? elements(&c->b) : 0, ny = elements(&yshape);
    float *xa = malloc(na * sizeof(float) + 4), *xb = malloc(nb * sizeof(float) + 4);
    float *want = malloc(ny * sizeof(float) + 4), *first = malloc(ny * sizeof(float) + 4);
    assert_true(xa && xb && want && first);
    for (size_t i = 0; i < na; i++) xa[i] = value(specials);
    for (size_t i = 0; i < nb; i++) xb[i] = value(specials);
    reference(c, &yshape, xa, xb, want);
    size_t cols = (size_t)yshape.dims[yshape.rank - 1];

    sn_cpu_info info;
    sn_cpu_info_get(&info);
    for (int isa = 0; isa <= (int)info.isa; isa++) { /* every kernel set up to the one in use */
        if (!((info.isas >> isa) & 1)) continue;
        for (int threads = 1; threads <= 2; threads++) {
            sn_session *s = sn_session_create(g, SN_FETCH(y),
                                              &(sn_session_options){.threads = threads,
                                                                    .limit_isa = true,
                                                                    .max_isa = (sn_isa)isa});
            if (!s) fail_msg("%s: %s", c->what, sn_graph_error(g));
            sn_session_stats st;
            sn_session_stats_get(s, &st);
            assert_int_equal(st.isa, isa);
            sn_feed feeds[2] = {{a, xa, c->a}, {b, xb, c->b}};
            sn_output out;
            if (sn_session_run(s, feeds, b ? 2 : 1, &out) != SN_OK)
                fail_msg("%s: %s", c->what, sn_session_error(s));
            assert_int_equal(elements(&out.shape), ny);
            for (size_t i = 0; i < ny; i++)
                if (!agree(c->kind, out.data[i], want[i], cols))
                    fail_msg("%s, isa %s, %d thread(s): y[%zu] = %.9g, reference %.9g", c->what,
                             sn_isa_name((sn_isa)isa), threads, i, out.data[i], want[i]);
            /* the split over threads changes no bit */
            if (threads == 1)
                memcpy(first, out.data, ny * sizeof(float));
            else if (memcmp(first, out.data, ny * sizeof(float)) != 0)
                fail_msg("%s, isa %s: 2 threads differ from 1", c->what, sn_isa_name((sn_isa)isa));
            sn_session_destroy(s);
        }
    }
    free(xa), free(xb), free(want), free(first);
    sn_graph_destroy(g);
}

static void test_binary_paths(void **state) {
    (void)state;
    const struct test_case cases[] = {
        BINARY("add, same shape", ADD, SN_SHAPE(3, 7, 5), SN_SHAPE(3, 7, 5)),
        BINARY("add, same shape, large", ADD, SN_SHAPE(2, 150, 151), SN_SHAPE(2, 150, 151)),
        BINARY("add, same shape with leading 1s", ADD, SN_SHAPE(4, 9), SN_SHAPE(1, 4, 9)),
        BINARY("add, scalar second", ADD, SN_SHAPE(4, 9), SN_SCALAR),
        BINARY("add, scalar first", ADD, SN_SHAPE(1, 1), SN_SHAPE(5, 4, 9)),
        BINARY("add, scalar first, large", ADD, SN_SCALAR, SN_SHAPE(70001)),
        BINARY("add, trailing vector second", ADD, SN_SHAPE(2, 6, 7, 13), SN_SHAPE(13)),
        BINARY("add, trailing [W, C] second", ADD, SN_SHAPE(2, 6, 7, 13), SN_SHAPE(1, 7, 13)),
        BINARY("add, trailing vector first", ADD, SN_SHAPE(1, 13), SN_SHAPE(3, 5, 13)),
        BINARY("add, trailing vector, large", ADD, SN_SHAPE(4096, 33), SN_SHAPE(33)),
        BINARY("add, other broadcast", ADD, SN_SHAPE(4, 1, 3), SN_SHAPE(5, 1)),
        BINARY("add, column broadcast", ADD, SN_SHAPE(6, 8), SN_SHAPE(6, 1)),
        BINARY("maximum, same shape", MAXIMUM, SN_SHAPE(3, 7, 5), SN_SHAPE(3, 7, 5)),
        BINARY("maximum, scalar second", MAXIMUM, SN_SHAPE(2, 5, 7, 3), SN_SCALAR),
        BINARY("maximum, scalar first", MAXIMUM, SN_SCALAR, SN_SHAPE(2, 5, 7, 3)),
        BINARY("maximum, trailing vector second", MAXIMUM, SN_SHAPE(2, 5, 7, 3), SN_SHAPE(3)),
        BINARY("maximum, trailing vector first, large", MAXIMUM, SN_SHAPE(64), SN_SHAPE(700, 64)),
        BINARY("maximum, other broadcast", MAXIMUM, SN_SHAPE(3, 1, 4), SN_SHAPE(1, 5, 1)),
        BINARY("bias_add", BIAS_ADD, SN_SHAPE(3, 5, 5, 17), SN_SHAPE(17)),
        BINARY("bias_add, large", BIAS_ADD, SN_SHAPE(1, 64, 64, 32), SN_SHAPE(32)),
        BINARY("bias_add, one channel", BIAS_ADD, SN_SHAPE(9, 1), SN_SHAPE(1)),
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) run_case(&cases[i]);
}

static void test_unary_paths(void **state) {
    (void)state;
    const struct test_case cases[] = {
        UNARY("relu", RELU, SN_SHAPE(3, 7, 5)),
        UNARY("relu, large", RELU, SN_SHAPE(50001)),
        UNARY("relu6", RELU6, SN_SHAPE(3, 7, 5)),
        UNARY("relu6, large", RELU6, SN_SHAPE(2, 20000)),
        UNARY("sigmoid", SIGMOID, SN_SHAPE(3, 7, 5)),
        UNARY("sigmoid, large", SIGMOID, SN_SHAPE(40003)),
        UNARY("tanh", TANH, SN_SHAPE(67)),
        UNARY("tanh, large", TANH, SN_SHAPE(5, 9000)),
        UNARY("softmax [4, 10]", SOFTMAX, SN_SHAPE(4, 10)),
        UNARY("softmax [3, 1]", SOFTMAX, SN_SHAPE(3, 1)),
        UNARY("softmax [2, 3, 5, 7]", SOFTMAX, SN_SHAPE(2, 3, 5, 7)),
        UNARY("softmax, many rows", SOFTMAX, SN_SHAPE(50, 1000)),
        UNARY("softmax, long rows", SOFTMAX, SN_SHAPE(3, 20000)),
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) run_case(&cases[i]);
}

static void test_pool_paths(void **state) {
    (void)state;
    const struct test_case cases[] = {
        POOL("max_pool 3x3/2 SAME", MAX_POOL, SN_SHAPE(3, 9, 9, 19), 3, 2, SN_PADDING_SAME),
        POOL("avg_pool 3x3/2 SAME", AVG_POOL, SN_SHAPE(3, 9, 9, 19), 3, 2, SN_PADDING_SAME),
        POOL("max_pool 2x2/2 VALID", MAX_POOL, SN_SHAPE(1, 32, 32, 64), 2, 2, SN_PADDING_VALID),
        POOL("avg_pool 5x5/1 SAME", AVG_POOL, SN_SHAPE(2, 12, 12, 67), 5, 1, SN_PADDING_SAME),
        POOL("avg_pool 1x1 image", AVG_POOL, SN_SHAPE(3, 1, 1, 5), 3, 2, SN_PADDING_SAME),
        /* windows and strides of INT_MAX cost the part inside the image */
        POOL("max_pool INT_MAX/1 SAME", MAX_POOL, SN_SHAPE(2, 4, 4, 19), INT_MAX, 1,
             SN_PADDING_SAME),
        POOL("avg_pool INT_MAX/INT_MAX SAME", AVG_POOL, SN_SHAPE(1, 3, 5, 35), INT_MAX, INT_MAX,
             SN_PADDING_SAME),
        POOL("max_pool 4x4/INT_MAX VALID", MAX_POOL, SN_SHAPE(2, 4, 4, 19), 4, INT_MAX,
             SN_PADDING_VALID),
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) run_case(&cases[i]);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_binary_paths),
        cmocka_unit_test(test_unary_paths),
        cmocka_unit_test(test_pool_paths),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
