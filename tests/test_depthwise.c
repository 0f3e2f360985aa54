/* sn_depthwise_conv2d against a naive oracle in double, on the kernel set
 * the process runs (the matrix runs it on each), 1 and 2 threads:
 * multipliers 1 to 3, windows 1x1 to 5x5 and uneven, strides, dilations,
 * SAME, VALID and explicit padding, a fused bias and relu6, a filter from a
 * variable or fed; NaN weights on the padding; on every kernel set the CPU
 * has, the same floats from 1, 2 and 3 threads; the builder's errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "scopenn.h"

static unsigned seed = 7;
static float rnd(void) {
    seed = seed * 1103515245u + 12345u;
    return (float)((seed >> 9) & 0xffff) / 32768.0f - 1.0f;
}

struct dw_case {
    int n, h, w, c, m, kh, kw, sh, sw, dh, dw;
    int padding; /* 0 SAME, 1 VALID, 2 explicit */
    sn_pads p;
    bool fused, variable;
};

/* A variable "w" of case c's filter shape, random, as a tensor. */
static sn_tensor *filter_variable(sn_graph *g, const struct dw_case *c) {
    const size_t nf = (size_t)c->kh * c->kw * c->c * c->m;
    float *fv = malloc(nf * sizeof(float));
    for (size_t i = 0; i < nf; i++) fv[i] = rnd();
    sn_variable *v = sn_get_variable(g, "w", SN_SHAPE(c->kh, c->kw, c->c, c->m), SN_NO_INITIALIZER);
    assert_int_equal(sn_variable_assign(v, fv, (int64_t)nf), SN_OK);
    free(fv);
    return sn_var(g, v);
}

static void check(const struct dw_case *c, int threads) {
    sn_graph *g = sn_graph_create(&(sn_graph_options){.seed = 11});
    sn_tensor *x = sn_placeholder(g, "x", SN_SHAPE(-1, c->h, c->w, c->c));
    const size_t nf = (size_t)c->kh * c->kw * c->c * c->m, oc = (size_t)c->c * c->m;
    float *fv = malloc(nf * 4), *bv = malloc(oc * 4);
    for (size_t i = 0; i < nf; i++) fv[i] = rnd();
    for (size_t i = 0; i < oc; i++) bv[i] = rnd();
    sn_tensor *f;
    if (c->variable) {
        sn_variable *v =
            sn_get_variable(g, "w", SN_SHAPE(c->kh, c->kw, c->c, c->m), SN_NO_INITIALIZER);
        assert_int_equal(sn_variable_assign(v, fv, (int64_t)nf), SN_OK);
        f = sn_var(g, v);
    } else {
        f = sn_placeholder(g, "f", SN_SHAPE(c->kh, c->kw, c->c, c->m));
    }
    sn_tensor *y = c->padding == 2
                       ? sn_depthwise_conv2d_explicit(g, x, f, SN_HW(c->sh, c->sw), c->p,
                                                      SN_HW(c->dh, c->dw), NULL)
                       : sn_depthwise_conv2d(g, x, f, SN_HW(c->sh, c->sw), (sn_padding)c->padding,
                                             SN_HW(c->dh, c->dw), NULL);
    if (!y) fail_msg("%s", sn_graph_error(g));
    assert_string_equal(sn_tensor_op_type(y), "DepthwiseConv2dNative");
    sn_variable *b = NULL;
    if (c->fused) {
        b = sn_get_variable(g, "b", SN_SHAPE((int64_t)oc), SN_NO_INITIALIZER);
        assert_int_equal(sn_variable_assign(b, bv, (int64_t)oc), SN_OK);
        y = sn_relu6(g, sn_bias_add(g, y, sn_var(g, b), NULL), NULL);
    }
    const sn_shape ys = sn_tensor_shape(y);
    const int oh = (int)ys.dims[1], ow = (int)ys.dims[2];
    /* the padding before, as the window rules give it */
    int top = 0, left = 0;
    if (c->padding == 2) {
        top = c->p.top, left = c->p.left;
    } else if (c->padding == 0) {
        const int eh = (c->kh - 1) * c->dh + 1, ew = (c->kw - 1) * c->dw + 1;
        const int th = (oh - 1) * c->sh + eh - c->h, tw = (ow - 1) * c->sw + ew - c->w;
        top = th > 0 ? th / 2 : 0, left = tw > 0 ? tw / 2 : 0;
    }
    const size_t nx = (size_t)c->n * c->h * c->w * c->c, ny = (size_t)c->n * oh * ow * oc;
    float *xv = malloc(nx * 4);
    for (size_t i = 0; i < nx; i++) xv[i] = rnd();
    sn_session *s = sn_session_create(g, SN_FETCH(y),
                                      &(sn_session_options){.threads = threads, .max_batch = 3});
    if (!s) fail_msg("%s", sn_graph_error(g));
    sn_session_stats st;
    sn_session_stats_get(s, &st);
    assert_int_equal(st.ops, 1);
    assert_int_equal(st.fused, c->fused ? 2 : 0);
    sn_feed feeds[2] = {{x, xv, SN_SHAPE(c->n, c->h, c->w, c->c)},
                        {f, fv, SN_SHAPE(c->kh, c->kw, c->c, c->m)}};
    sn_output out;
    assert_int_equal(sn_session_run(s, feeds, c->variable ? 1 : 2, &out), SN_OK);
    for (int n = 0; n < c->n; n++)
        for (int i = 0; i < oh; i++)
            for (int j = 0; j < ow; j++)
                for (size_t o = 0; o < oc; o++) {
                    double acc = c->fused ? bv[o] : 0, mag = fabs(acc);
                    for (int a = 0; a < c->kh; a++)
                        for (int bb = 0; bb < c->kw; bb++) {
                            const int yy = i * c->sh - top + a * c->dh,
                                      xx = j * c->sw - left + bb * c->dw;
                            if (yy < 0 || yy >= c->h || xx < 0 || xx >= c->w) continue;
                            const double t =
                                (double)xv[((n * c->h + yy) * c->w + xx) * c->c + o / c->m] *
                                fv[(a * c->kw + bb) * oc + o];
                            acc += t, mag += fabs(t);
                        }
                    if (c->fused) acc = acc < 0 ? 0 : acc > 6 ? 6 : acc;
                    const float got = out.data[(((size_t)n * oh + i) * ow + j) * oc + o];
                    if (!(fabs(got - acc) <= 1e-6 * mag + 1e-7))
                        fail_msg("depthwise %dx%dx%d m%d k%dx%d s%d,%d d%d,%d padding %d, %d "
                                 "threads: (%d %d %d %zu) is %g, want %g",
                                 c->h, c->w, c->c, c->m, c->kh, c->kw, c->sh, c->sw, c->dh, c->dw,
                                 c->padding, threads, n, i, j, o, got, acc);
                }
    assert_int_equal((size_t)out.shape.dims[3], oc);
    (void)ny;
    sn_session_destroy(s);
    sn_graph_destroy(g);
    free(xv), free(fv), free(bv);
}

static void test_depthwise_against_oracle(void **state) {
    (void)state;
    static const struct dw_case cases[] = {
        {2, 9, 8, 32, 1, 3, 3, 1, 1, 1, 1, 0, {0}, true, true},            /* MobileNet, stride 1 */
        {1, 10, 11, 24, 1, 3, 3, 2, 2, 1, 1, 0, {0}, true, true},          /* stride 2, SAME */
        {1, 9, 9, 17, 1, 3, 3, 2, 2, 1, 1, 2, {1, 1, 1, 1}, true, false},  /* PyTorch's */
        {2, 12, 7, 40, 1, 5, 5, 1, 1, 1, 1, 2, {2, 2, 2, 2}, false, true}, /* EfficientNet */
        {1, 11, 12, 13, 1, 5, 5, 2, 2, 1, 1, 2, {1, 2, 1, 2}, true, true}, /* asymmetric */
        {1, 6, 7, 5, 3, 3, 2, 1, 2, 2, 1, 1, {0}, false, false},           /* multiplier 3, VALID */
        {3, 5, 5, 3, 2, 1, 1, 1, 1, 1, 1, 0, {0}, true, true},             /* 1x1, multiplier 2 */
        {1, 1, 1, 7, 1, 3, 3, 1, 1, 1, 1, 0, {0}, false, true},            /* a 1x1 image */
        {1, 8, 8, 9, 1, 3, 3, 1, 1, 3, 2, 0, {0}, false, true},            /* dilated */
    };
    for (int threads = 1; threads <= 2; threads++)
        for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) check(&cases[i], threads);
}

/* A NaN weight on a tap that lies on the padding makes NaN (0 x NaN), as
 * TensorFlow's and PyTorch's zero padding; elsewhere it stays out. */
static void test_nan_weight_on_padding(void **state) {
    (void)state;
    sn_graph *g = sn_graph_create(NULL);
    sn_tensor *x = sn_placeholder(g, "x", SN_SHAPE(1, 3, 3, 1));
    sn_tensor *f = sn_placeholder(g, "f", SN_SHAPE(3, 3, 1, 1));
    sn_tensor *y = sn_depthwise_conv2d(g, x, f, SN_HW(1, 1), SN_PADDING_SAME, SN_HW(1, 1), NULL);
    sn_session *s = sn_session_create(g, SN_FETCH(y), NULL);
    assert_non_null(s);
    float xv[9], fv[9];
    for (int i = 0; i < 9; i++) xv[i] = 1, fv[i] = 1;
    fv[0] = NAN; /* the top-left tap: on the padding for the first row and column */
    sn_feed feeds[2] = {{x, xv, SN_SHAPE(1, 3, 3, 1)}, {f, fv, SN_SHAPE(3, 3, 1, 1)}};
    sn_output out;
    assert_int_equal(sn_session_run(s, feeds, 2, &out), SN_OK);
    assert_true(isnan(out.data[0]) && isnan(out.data[1]) && isnan(out.data[3]));
    assert_true(isnan(out.data[4])); /* the centre reads the NaN weight on a real pixel */
    sn_session_destroy(s);
    sn_graph_destroy(g);
}

/* One session per kernel set the CPU runs (up to the process's) and thread
 * count: each kernel set gives the same floats, bit for bit, on 1, 2 and
 * 3 threads (the threads split the output rows; no output depends on
 * how). The fast paths (3x3 and 5x5, strides 1 and 2) and the generic one
 * (a multiplier, a dilation), with borders, channel tails and a batch. */
static void test_threads_same_floats(void **state) {
    (void)state;
    static const struct dw_case cases[] = {
        {3, 13, 11, 37, 1, 3, 3, 2, 2, 1, 1, 0, {0}, true, true},
        {2, 9, 17, 21, 1, 5, 5, 1, 1, 1, 1, 2, {1, 2, 2, 1}, true, false},
        {2, 8, 9, 11, 2, 3, 3, 1, 1, 2, 2, 0, {0}, false, true},
    };
    sn_cpu_info info;
    sn_cpu_info_get(&info);
    for (int isa = 0; isa < SN_ISA_COUNT; isa++) {
        /* a session's cap only lowers the process's choice (SCOPENN_ISA) */
        if (!((info.isas >> isa) & 1) || isa > (int)info.isa) continue;
        for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
            const struct dw_case *c = &cases[i];
            sn_graph *g = sn_graph_create(&(sn_graph_options){.seed = 5});
            sn_tensor *x = sn_placeholder(g, "x", SN_SHAPE(-1, c->h, c->w, c->c));
            sn_tensor *f = filter_variable(g, c);
            sn_tensor *y =
                c->padding == 2
                    ? sn_depthwise_conv2d_explicit(g, x, f, SN_HW(c->sh, c->sw), c->p,
                                                   SN_HW(c->dh, c->dw), NULL)
                    : sn_depthwise_conv2d(g, x, f, SN_HW(c->sh, c->sw), (sn_padding)c->padding,
                                          SN_HW(c->dh, c->dw), NULL);
            if (c->fused) y = sn_relu6(g, y, NULL);
            assert_non_null(y);
            const size_t nx = (size_t)c->n * c->h * c->w * c->c;
            float *xv = malloc(nx * sizeof(float)), *first = NULL;
            for (size_t k = 0; k < nx; k++) xv[k] = rnd();
            size_t ny = 0;
            for (int threads = 1; threads <= 3; threads++) {
                sn_session *s = sn_session_create(g, SN_FETCH(y),
                                                  &(sn_session_options){.threads = threads,
                                                                        .max_batch = 3,
                                                                        .limit_isa = true,
                                                                        .max_isa = (sn_isa)isa});
                if (!s) fail_msg("%s", sn_graph_error(g));
                sn_session_stats st;
                sn_session_stats_get(s, &st);
                assert_int_equal(st.isa, isa);
                assert_int_equal(st.threads, threads);
                sn_feed feed = {x, xv, SN_SHAPE(c->n, c->h, c->w, c->c)};
                sn_output out;
                assert_int_equal(sn_session_run(s, &feed, 1, &out), SN_OK);
                if (!first) {
                    ny = (size_t)out.shape.dims[0] * out.shape.dims[1] * out.shape.dims[2] *
                         out.shape.dims[3];
                    first = malloc(ny * sizeof(float));
                    memcpy(first, out.data, ny * sizeof(float));
                } else if (memcmp(first, out.data, ny * sizeof(float)) != 0) {
                    fail_msg("%s, case %zu: %d threads give other floats than 1",
                             sn_isa_name((sn_isa)isa), i, threads);
                }
                sn_session_destroy(s);
            }
            free(first), free(xv);
            sn_graph_destroy(g);
        }
    }
}

static void test_depthwise_errors(void **state) {
    (void)state;
    sn_graph *g = sn_graph_create(NULL);
    sn_tensor *x = sn_placeholder(g, "x", SN_SHAPE(1, 4, 4, 8));
    sn_tensor *f = sn_placeholder(g, "f", SN_SHAPE(3, 3, 4, 2));
    sn_tensor *f3 = sn_placeholder(g, "f3", SN_SHAPE(3, 3, 8));
    assert_null(sn_depthwise_conv2d(g, x, f, SN_HW(1, 1), SN_PADDING_SAME, SN_HW(1, 1), NULL));
    assert_int_equal(sn_graph_status(g), SN_ERR_SHAPE_MISMATCH);
    assert_non_null(strstr(sn_graph_error(g), "DepthwiseConv2dNative depthwise: input channels 8 "
                                              "do not match the filter's input channels 4"));
    sn_graph_clear_error(g);
    assert_null(sn_depthwise_conv2d(g, x, f3, SN_HW(1, 1), SN_PADDING_SAME, SN_HW(1, 1), NULL));
    assert_non_null(strstr(sn_graph_error(g), "the filter must have rank 4"));
    sn_graph_clear_error(g);
    assert_null(sn_depthwise_conv2d(g, x, f, SN_HW(0, 1), SN_PADDING_SAME, SN_HW(1, 1), NULL));
    assert_non_null(strstr(sn_graph_error(g), "strides (0, 1) must be >= 1"));
    sn_graph_clear_error(g);
    sn_tensor *ok = sn_depthwise_conv2d(g, x, sn_placeholder(g, "f8", SN_SHAPE(3, 3, 8, 2)),
                                        SN_HW(2, 2), SN_PADDING_VALID, SN_HW(1, 1), NULL);
    assert_non_null(ok);
    assert_string_equal(sn_tensor_name(ok), "depthwise:0");
    assert_int_equal(sn_tensor_shape(ok).dims[1], 1);
    assert_int_equal(sn_tensor_shape(ok).dims[3], 16);
    sn_graph_destroy(g);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_depthwise_against_oracle),
        cmocka_unit_test(test_nan_weight_on_padding),
        cmocka_unit_test(test_threads_same_floats),
        cmocka_unit_test(test_depthwise_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
