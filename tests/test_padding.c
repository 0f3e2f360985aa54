/* Explicit padding (sn_conv2d_explicit, sn_max_pool_explicit,
 * sn_avg_pool_explicit) against a naive oracle in double, on the kernel set
 * the process runs (the matrix runs it on each), 1 and 2 threads:
 * asymmetric padding, strides, dilations, windows wholly in the padding,
 * PyTorch's ceil_mode and count_include_pad; SAME as its explicit twin; the
 * builders' errors. */
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

static unsigned seed = 1;
static float rnd(void) {
    seed = seed * 1103515245u + 12345u;
    return (float)((seed >> 9) & 0xffff) / 32768.0f - 1.0f;
}

struct conv_case {
    int n, h, w, c, kh, kw, oc, sh, sw, dh, dw;
    sn_pads p;
};

/* The output size along one axis, as the header says. */
static int out_size(int in, int before, int after, int k, int stride, int dilation) {
    return (in + before + after - ((k - 1) * dilation + 1)) / stride + 1;
}

static void conv_oracle(const struct conv_case *c, const float *x, const float *f, double *y,
                        double *mag, int oh, int ow) {
    for (int n = 0; n < c->n; n++)
        for (int i = 0; i < oh; i++)
            for (int j = 0; j < ow; j++)
                for (int o = 0; o < c->oc; o++) {
                    double acc = 0, m = 0;
                    for (int a = 0; a < c->kh; a++)
                        for (int b = 0; b < c->kw; b++) {
                            const int yy = i * c->sh - c->p.top + a * c->dh,
                                      xx = j * c->sw - c->p.left + b * c->dw;
                            if (yy < 0 || yy >= c->h || xx < 0 || xx >= c->w) continue;
                            for (int k = 0; k < c->c; k++) {
                                const double t =
                                    (double)x[((n * c->h + yy) * c->w + xx) * c->c + k] *
                                    f[((a * c->kw + b) * c->c + k) * c->oc + o];
                                acc += t;
                                m += fabs(t);
                            }
                        }
                    const size_t at = (((size_t)n * oh + i) * ow + j) * c->oc + o;
                    y[at] = acc;
                    mag[at] = m;
                }
}

static void check_conv(const struct conv_case *c, int threads) {
    sn_graph *g = sn_graph_create(NULL);
    sn_tensor *x = sn_placeholder(g, "x", SN_SHAPE(-1, c->h, c->w, c->c));
    sn_tensor *f = sn_placeholder(g, "f", SN_SHAPE(c->kh, c->kw, c->c, c->oc));
    sn_tensor *y =
        sn_conv2d_explicit(g, x, f, SN_HW(c->sh, c->sw), c->p, SN_HW(c->dh, c->dw), NULL);
    if (!y) fail_msg("%s", sn_graph_error(g));
    const int oh = out_size(c->h, c->p.top, c->p.bottom, c->kh, c->sh, c->dh),
              ow = out_size(c->w, c->p.left, c->p.right, c->kw, c->sw, c->dw);
    assert_int_equal(sn_tensor_shape(y).dims[1], oh);
    assert_int_equal(sn_tensor_shape(y).dims[2], ow);
    const size_t nx = (size_t)c->n * c->h * c->w * c->c, nf = (size_t)c->kh * c->kw * c->c * c->oc,
                 ny = (size_t)c->n * oh * ow * c->oc;
    float *xv = malloc(nx * 4), *fv = malloc(nf * 4);
    double *want = malloc(ny * 8), *mag = malloc(ny * 8);
    for (size_t i = 0; i < nx; i++) xv[i] = rnd();
    for (size_t i = 0; i < nf; i++) fv[i] = rnd();
    conv_oracle(c, xv, fv, want, mag, oh, ow);
    sn_session *s = sn_session_create(g, SN_FETCH(y),
                                      &(sn_session_options){.threads = threads, .max_batch = 4});
    assert_non_null(s);
    sn_feed feeds[2] = {{x, xv, SN_SHAPE(c->n, c->h, c->w, c->c)},
                        {f, fv, SN_SHAPE(c->kh, c->kw, c->c, c->oc)}};
    sn_output out;
    assert_int_equal(sn_session_run(s, feeds, 2, &out), SN_OK);
    for (size_t i = 0; i < ny; i++)
        if (!(fabs(out.data[i] - want[i]) <= 1e-5 * mag[i] + 1e-6))
            fail_msg(
                "conv %dx%d k%dx%d s%d,%d d%d,%d pads (%d %d %d %d), %d threads: output %zu is "
                "%g, want %g",
                c->h, c->w, c->kh, c->kw, c->sh, c->sw, c->dh, c->dw, c->p.top, c->p.bottom,
                c->p.left, c->p.right, threads, i, out.data[i], want[i]);
    sn_session_destroy(s);
    sn_graph_destroy(g);
    free(xv), free(fv), free(want), free(mag);
}

static void test_conv_explicit(void **state) {
    (void)state;
    static const struct conv_case cases[] = {
        {2, 7, 6, 3, 3, 3, 5, 1, 1, 1, 1, {1, 1, 1, 1}},    /* PyTorch's padding=1 */
        {1, 9, 8, 4, 3, 3, 17, 2, 2, 1, 1, {1, 0, 0, 1}},   /* asymmetric, stride 2 */
        {1, 11, 10, 3, 7, 7, 16, 2, 2, 1, 1, {3, 3, 3, 3}}, /* a ResNet stem */
        {2, 8, 8, 16, 3, 3, 24, 1, 1, 1, 1, {0, 2, 2, 0}},  /* Winograd-sized */
        {1, 8, 8, 16, 5, 5, 8, 1, 1, 1, 1, {2, 2, 2, 2}},
        {1, 5, 6, 5, 3, 2, 7, 1, 3, 2, 2, {4, 3, 0, 5}},   /* dilated; rows of padding only */
        {1, 4, 4, 2, 1, 1, 3, 2, 2, 1, 1, {2, 2, 1, 1}},   /* 1x1 over the padding */
        {3, 6, 6, 32, 1, 1, 40, 1, 1, 1, 1, {0, 0, 0, 0}}, /* no padding at all */
        {1, 3, 3, 3, 5, 5, 4, 1, 1, 1, 1, {3, 3, 3, 3}},   /* a window larger than the image */
    };
    for (int threads = 1; threads <= 2; threads++)
        for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) check_conv(&cases[i], threads);
}

/* SAME of an odd kernel at stride 1 pads (k - 1) / 2 each side: the same
 * bits as its explicit twin. */
static void test_same_is_explicit(void **state) {
    (void)state;
    sn_graph *g = sn_graph_create(&(sn_graph_options){.seed = 3});
    sn_tensor *x = sn_placeholder(g, "x", SN_SHAPE(1, 10, 9, 16));
    sn_variable *w =
        sn_get_variable(g, "w", SN_SHAPE(3, 3, 16, 20), sn_glorot_uniform_initializer());
    sn_tensor *a = sn_conv2d(g, x, sn_var(g, w), SN_HW(1, 1), SN_PADDING_SAME, NULL);
    sn_tensor *b =
        sn_conv2d_explicit(g, x, sn_var(g, w), SN_HW(1, 1), SN_PADS(1, 1, 1, 1), SN_HW(1, 1), NULL);
    sn_tensor *ma = sn_max_pool(g, x, SN_HW(3, 3), SN_HW(1, 1), SN_PADDING_SAME, NULL);
    sn_tensor *mb = sn_max_pool_explicit(g, x, SN_HW(3, 3), SN_HW(1, 1), SN_PADS(1, 1, 1, 1), NULL);
    sn_tensor *aa = sn_avg_pool(g, x, SN_HW(3, 3), SN_HW(1, 1), SN_PADDING_SAME, NULL);
    sn_tensor *ab =
        sn_avg_pool_explicit(g, x, SN_HW(3, 3), SN_HW(1, 1), SN_PADS(1, 1, 1, 1), false, NULL);
    sn_session *s = sn_session_create(g, SN_FETCH(a, b, ma, mb, aa, ab), NULL);
    assert_non_null(s);
    float in[10 * 9 * 16];
    for (size_t i = 0; i < sizeof in / 4; i++) in[i] = rnd();
    sn_feed feed = {x, in, SN_SHAPE(1, 10, 9, 16)};
    sn_output out[6];
    assert_int_equal(sn_session_run(s, &feed, 1, out), SN_OK);
    for (int k = 0; k < 6; k += 2)
        assert_memory_equal(out[k].data, out[k + 1].data, sizeof(float) * 10 * 9 * (k ? 16 : 20));
    sn_session_destroy(s);
    sn_graph_destroy(g);
}

/* PyTorch's max_pool2d(3, 2, padding=1, ceil_mode=True) and
 * avg_pool2d(3, 2, padding=1, ceil_mode=True, count_include_pad=False) on
 * a 6x7 image, against windows counted by hand: ceil_mode is one more row
 * and column of padding after; and the average counting the padding, up
 * to the padded edge. */
static void test_pools_explicit(void **state) {
    (void)state;
    enum { H = 6, W = 7, C = 3, OH = 4, OW = 4 };
    sn_graph *g = sn_graph_create(NULL);
    sn_tensor *x = sn_placeholder(g, "x", SN_SHAPE(1, H, W, C));
    const sn_pads ceil = SN_PADS(1, 2, 1, 2);
    sn_tensor *mx = sn_max_pool_explicit(g, x, SN_HW(3, 3), SN_HW(2, 2), ceil, NULL);
    sn_tensor *in = sn_avg_pool_explicit(g, x, SN_HW(3, 3), SN_HW(2, 2), ceil, true, NULL);
    sn_tensor *ex = sn_avg_pool_explicit(g, x, SN_HW(3, 3), SN_HW(2, 2), ceil, false, NULL);
    /* windows wholly in the padding */
    sn_tensor *far =
        sn_max_pool_explicit(g, x, SN_HW(2, 2), SN_HW(5, 5), SN_PADS(3, 0, 3, 0), NULL);
    sn_tensor *farv =
        sn_avg_pool_explicit(g, x, SN_HW(2, 2), SN_HW(5, 5), SN_PADS(3, 0, 3, 0), true, NULL);
    if (!farv) fail_msg("%s", sn_graph_error(g));
    assert_int_equal(sn_tensor_shape(mx).dims[1], OH);
    assert_int_equal(sn_tensor_shape(mx).dims[2], OW);
    for (int threads = 1; threads <= 2; threads++) {
        sn_session *s = sn_session_create(g, SN_FETCH(mx, in, ex, far, farv),
                                          &(sn_session_options){.threads = threads});
        assert_non_null(s);
        float v[H * W * C];
        for (int i = 0; i < H * W * C; i++) v[i] = rnd();
        v[5] = -INFINITY;
        sn_feed feed = {x, v, SN_SHAPE(1, H, W, C)};
        sn_output out[5];
        assert_int_equal(sn_session_run(s, &feed, 1, out), SN_OK);
        for (int i = 0; i < OH; i++)
            for (int j = 0; j < OW; j++)
                for (int c = 0; c < C; c++) {
                    double mxv = -INFINITY, sum = 0;
                    int inside = 0;
                    for (int a = 0; a < 3; a++)
                        for (int b = 0; b < 3; b++) {
                            const int yy = 2 * i - 1 + a, xx = 2 * j - 1 + b;
                            if (yy < 0 || yy >= H || xx < 0 || xx >= W) continue;
                            const float t = v[(yy * W + xx) * C + c];
                            if (t > mxv) mxv = t;
                            sum += t;
                            inside++;
                        }
                    const int y0 = 2 * i - 1, x0 = 2 * j - 1;
                    const size_t at = ((size_t)i * OW + j) * C + c;
                    assert_true(out[0].data[at] == (float)mxv);
                    /* with the padding counted: the window inside the
                     * input padded by (1, 2, 1, 2) */
                    const int yc = y0 + 3 < H + 2 ? y0 + 3 : H + 2,
                              xc = x0 + 3 < W + 2 ? x0 + 3 : W + 2;
                    if (isinf(sum)) { /* the -inf pixel's windows */
                        assert_true(out[1].data[at] == -INFINITY && out[2].data[at] == -INFINITY);
                        continue;
                    }
                    assert_true(fabs(out[2].data[at] - sum / inside) < 1e-6);
                    assert_true(fabs(out[1].data[at] - sum / ((yc - y0) * (xc - x0))) < 1e-6);
                }
        /* (3,0,3,0) padding, 2x2 windows at stride 5: the first row and
         * column of windows lie in the padding */
        assert_int_equal(out[3].shape.dims[1], 2);
        for (int c = 0; c < C; c++) {
            assert_true(out[3].data[c] == -INFINITY);
            assert_true(out[4].data[c] == 0.0f);
        }
        sn_session_destroy(s);
    }
    sn_graph_destroy(g);
}

static void test_explicit_errors(void **state) {
    (void)state;
    sn_graph *g = sn_graph_create(NULL);
    sn_tensor *x = sn_placeholder(g, "x", SN_SHAPE(1, 4, 4, 2));
    sn_tensor *f = sn_placeholder(g, "f", SN_SHAPE(7, 7, 2, 3));
    assert_null(sn_conv2d_explicit(g, x, f, SN_HW(1, 1), SN_PADS(-1, 0, 0, 0), SN_HW(1, 1), NULL));
    assert_int_equal(sn_graph_status(g), SN_ERR_SHAPE_MISMATCH);
    assert_non_null(
        strstr(sn_graph_error(g), "explicit padding (-1, 0, 0, 0) must be in [0, 2^20]"));
    sn_graph_clear_error(g);
    assert_null(sn_conv2d_explicit(g, x, f, SN_HW(1, 1), SN_PADS(1, 1, 2, 0), SN_HW(1, 1), NULL));
    assert_non_null(strstr(sn_graph_error(g),
                           "the window (height 7, dilation 1) is taller than the padded input "
                           "(4 + 1 + 1)"));
    sn_graph_clear_error(g);
    assert_null(sn_max_pool_explicit(g, x, SN_HW(2, 9), SN_HW(1, 1), SN_PADS(0, 0, 2, 2), NULL));
    assert_non_null(strstr(sn_graph_error(g), "is wider than the padded input (4 + 2 + 2)"));
    sn_graph_clear_error(g);
    /* it fits with padding enough; the failed calls took no name */
    sn_tensor *ok =
        sn_conv2d_explicit(g, x, f, SN_HW(1, 1), SN_PADS(3, 3, 3, 3), SN_HW(1, 1), NULL);
    assert_non_null(ok);
    assert_string_equal(sn_tensor_name(ok), "Conv2D:0");
    assert_int_equal(sn_tensor_shape(ok).dims[1], 4);
    sn_graph_destroy(g);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_conv_explicit),
        cmocka_unit_test(test_same_is_explicit),
        cmocka_unit_test(test_pools_explicit),
        cmocka_unit_test(test_explicit_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
