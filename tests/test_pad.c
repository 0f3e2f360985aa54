/* sn_pad through sessions, on every kernel set this CPU has (up to the
 * SCOPENN_ISA cap) and 1 to 3 threads, against a padding computed here
 * element by element, bit for bit (the input's floats copied, the value's
 * bits in the border: +0, -0, a NaN with a payload, -inf, 1.5): ranks 0
 * to 4 with paddings 0 to 3 on every side, zero paddings (a view of a
 * computed input, a copy of a feed), large paddings, outputs large enough
 * to be split over the threads, a -1 batch fed 0 to 3 images (padded
 * itself, or not), and an input with no elements. End to end, a pad of
 * (k - 1) / 2 zeros on each side of the height and width followed by a
 * VALID conv is a SAME conv (odd k, stride 1). Then the builder: shapes,
 * and its errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scopenn.h"
#include "tester.h"

static uint32_t rng = 17;
static uint32_t next(void) { return rng = rng * 1664525u + 1013904223u; }
static float value(void) { return (float)(next() >> 8) / 1048576.0f - 8.0f; }

static size_t elements(const sn_shape *s) {
    size_t n = 1;
    for (int d = 0; d < s->rank; d++) n *= (size_t)s->dims[d];
    return n;
}

/* x of shape `in` padded with `pad` of `v` into y, one output element at
 * a time: the input element it falls on, or v. */
static void pad_oracle(const sn_shape *in, const int64_t (*pad)[2], float v, const float *x,
                       float *y, sn_shape *out) {
    *out = *in;
    for (int d = 0; d < in->rank; d++) out->dims[d] += pad[d][0] + pad[d][1];
    const size_t n = elements(out);
    for (size_t o = 0; o < n; o++) {
        size_t rest = o, src = 0, stride = 1;
        bool inside = true;
        for (int d = in->rank - 1; d >= 0; d--) {
            const int64_t i = (int64_t)(rest % (size_t)out->dims[d]) - pad[d][0];
            rest /= (size_t)out->dims[d];
            inside &= i >= 0 && i < in->dims[d];
            src += (size_t)(inside ? i : 0) * stride;
            stride *= (size_t)in->dims[d];
        }
        y[o] = inside ? x[src] : v;
    }
}

static const float pad_values[] = {0.0f, -0.0f, 1.5f, -INFINITY, 0.0f /* NaN, set below */};

/* Pads placeholder `shape` (a -1 batch fed `batch`) by `pad` with `v` on
 * every kernel set and 1 to 3 threads; checks the bits. `after_relu`: the
 * input is computed (a relu of the feed), so a pad of zeros can be a view
 * of it. Returns the views of the last session. */
static size_t run_pad(const char *what, sn_shape shape, const int64_t (*pad)[2], float v, int batch,
                      bool after_relu) {
    sn_graph *g = sn_graph_create(NULL);
    sn_tensor *x = sn_placeholder(g, "x", shape);
    sn_tensor *in = after_relu ? sn_relu(g, x, NULL) : x;
    sn_tensor *y = sn_pad(g, in, pad, v, NULL);
    if (!y) fail_msg("%s: %s", what, sn_graph_error(g));
    assert_string_equal(sn_tensor_op_type(y), "Pad");
    const sn_shape built = sn_tensor_shape(y);
    sn_shape run = shape;
    for (int d = 0; d < run.rank; d++) {
        if (run.dims[d] < 0) run.dims[d] = batch;
        assert_int_equal(built.dims[d],
                         shape.dims[d] < 0 ? -1 : shape.dims[d] + pad[d][0] + pad[d][1]);
    }
    const size_t nx = elements(&run);
    sn_shape out_shape;
    size_t ny = 1;
    for (int d = 0; d < run.rank; d++) ny *= (size_t)(run.dims[d] + pad[d][0] + pad[d][1]);
    float *xs = malloc(nx * sizeof(float) + 4), *want = malloc(ny * sizeof(float) + 4);
    float *relu = malloc(nx * sizeof(float) + 4);
    assert_true(xs && want && relu);
    for (size_t i = 0; i < nx; i++) {
        xs[i] = value();
        /* -0, and NaNs with a payload where nothing computes on them */
        if (next() % 16 == 0) xs[i] = next() % 2 || after_relu ? -0.0f : from_bits(0x7FC0BEEFu);
        relu[i] = after_relu && xs[i] < 0.0f ? 0.0f : xs[i];
    }
    pad_oracle(&run, pad, v, relu, want, &out_shape);
    sn_cpu_info info;
    sn_cpu_info_get(&info);
    size_t views = 0;
    for (int isa = 0; isa <= (int)info.isa; isa++) {
        if (!((info.isas >> isa) & 1)) continue;
        for (int threads = 1; threads <= 3; threads++) {
            sn_session *s = sn_session_create(
                g, SN_FETCH(y),
                &(sn_session_options){
                    .threads = threads, .max_batch = 3, .limit_isa = true, .max_isa = (sn_isa)isa});
            if (!s) fail_msg("%s: %s", what, sn_graph_error(g));
            sn_session_stats st;
            sn_session_stats_get(s, &st);
            views = st.views;
            sn_output out;
            if (sn_session_run(s, &(sn_feed){x, xs, run}, 1, &out) != SN_OK)
                fail_msg("%s: %s", what, sn_session_error(s));
            assert_int_equal(out.shape.rank, out_shape.rank);
            for (int d = 0; d < out_shape.rank; d++)
                assert_int_equal(out.shape.dims[d], out_shape.dims[d]);
            for (size_t o = 0; o < ny; o++)
                if (to_bits(out.data[o]) != to_bits(want[o]))
                    fail_msg("%s, isa %s, %d thread(s): y[%zu] = %.9g (0x%08x), want %.9g "
                             "(0x%08x)",
                             what, sn_isa_name((sn_isa)isa), threads, o, (double)out.data[o],
                             (unsigned)to_bits(out.data[o]), (double)want[o],
                             (unsigned)to_bits(want[o]));
            sn_session_destroy(s);
        }
    }
    free(xs), free(want), free(relu);
    sn_graph_destroy(g);
    return views;
}

/* Ranks 0 to 4, random shapes and paddings 0..3 on each side, each value. */
static void test_pad_ranks(void **state) {
    (void)state;
    const float nan_payload = from_bits(0xFFC12345u);
    for (int rank = 0; rank <= 4; rank++)
        for (int trial = 0; trial < 12; trial++) {
            sn_shape s = {.rank = rank};
            int64_t pad[SN_MAX_RANK][2];
            for (int d = 0; d < rank; d++) {
                s.dims[d] = 1 + (int64_t)(next() % 6);
                pad[d][0] = (int64_t)(next() % 4), pad[d][1] = (int64_t)(next() % 4);
                if (trial % 3 == 0 && d == rank - 1) pad[d][0] = pad[d][1] = 0;
            }
            const size_t k = (size_t)trial % COUNT(pad_values);
            const float v = k == COUNT(pad_values) - 1 ? nan_payload : pad_values[k];
            char what[64];
            snprintf(what, sizeof what, "rank %d, trial %d", rank, trial);
            run_pad(what, s, (const int64_t(*)[2])pad, v, 0, trial % 2);
        }
}

/* No padding: the output is the input's buffer where that is computed (a
 * view), a copy of a feed. */
static void test_pad_zero(void **state) {
    (void)state;
    const int64_t none[4][2] = {{0, 0}, {0, 0}, {0, 0}, {0, 0}};
    assert_int_equal(
        run_pad("zero paddings after a relu", SN_SHAPE(2, 3, 4, 5), none, 7.0f, 0, true), 1);
    assert_int_equal(run_pad("zero paddings of a feed", SN_SHAPE(2, 3, 4, 5), none, 7.0f, 0, false),
                     0);
    assert_int_equal(
        run_pad("zero paddings of a -1 batch", SN_SHAPE(-1, 3, 4), none, 7.0f, 2, true), 1);
}

/* Paddings far larger than the input; outputs large enough for the
 * threads; an input with no elements. */
static void test_pad_large(void **state) {
    (void)state;
    run_pad("a row padded by thousands", SN_SHAPE(1, 2), (const int64_t[][2]){{0, 0}, {5000, 7000}},
            -0.0f, 0, false);
    run_pad("an image padded by 20 on each side", SN_SHAPE(2, 3, 4, 5),
            (const int64_t[][2]){{1, 2}, {20, 20}, {20, 20}, {3, 3}}, 1.5f, 0, true);
    run_pad("every dimension padded, large", SN_SHAPE(3, 30, 40),
            (const int64_t[][2]){{2, 1}, {9, 0}, {0, 300}}, from_bits(0x7FC00001u), 0, false);
    run_pad("the last dimension only, many lines", SN_SHAPE(20000, 3),
            (const int64_t[][2]){{0, 0}, {1, 2}}, 0.0f, 0, false);
    run_pad("no elements in", SN_SHAPE(2, 0, 3), (const int64_t[][2]){{1, 0}, {2, 2}, {0, 1}},
            -INFINITY, 0, false);
}

/* A -1 batch fed 0 to 3 images, not padded and padded. */
static void test_pad_unknown_batch(void **state) {
    (void)state;
    for (int batch = 0; batch <= 3; batch++) {
        run_pad("-1 batch, image padded", SN_SHAPE(-1, 4, 4, 3),
                (const int64_t[][2]){{0, 0}, {1, 2}, {2, 1}, {0, 0}}, 0.0f, batch, batch % 2);
        run_pad("-1 batch padded itself", SN_SHAPE(-1, 2, 5),
                (const int64_t[][2]){{1, 2}, {0, 1}, {3, 0}}, -0.0f, batch, false);
    }
}

/* A pad of (k - 1) / 2 zeros around the height and width, then a VALID
 * conv, is a SAME conv, for odd k and stride 1: on every kernel set, with
 * the direct conv and the default algorithms (Winograd where its shape
 * asks), within the rounding of sums of the same terms in other orders. */
static void test_pad_then_valid_is_same(void **state) {
    (void)state;
    static const int ks[] = {1, 3, 5, 7};
    static const int channels[][2] = {{3, 5}, {16, 8}, {7, 17}};
    for (size_t a = 0; a < COUNT(ks); a++)
        for (size_t b = 0; b < COUNT(channels); b++) {
            const int k = ks[a], ic = channels[b][0], oc = channels[b][1], p = (k - 1) / 2;
            enum { N = 2, H = 9, W = 8 };
            sn_graph *g = sn_graph_create(&(sn_graph_options){.seed = 3});
            sn_tensor *x = sn_placeholder(g, "x", SN_SHAPE(-1, H, W, ic));
            sn_variable *w =
                sn_get_variable(g, "w", SN_SHAPE(k, k, ic, oc), sn_glorot_uniform_initializer());
            sn_tensor *same =
                sn_conv2d(g, x, sn_var(g, w), SN_STRIDES(1, 1), SN_PADDING_SAME, NULL);
            const int64_t pad[4][2] = {{0, 0}, {p, p}, {p, p}, {0, 0}};
            sn_tensor *padded = sn_pad(g, x, pad, 0.0f, NULL);
            sn_tensor *valid =
                sn_conv2d(g, padded, sn_var(g, w), SN_STRIDES(1, 1), SN_PADDING_VALID, NULL);
            assert_non_null(valid);
            const size_t nx = (size_t)N * H * W * ic, ny = (size_t)N * H * W * oc;
            float *in = malloc(nx * sizeof(float));
            assert_non_null(in);
            for (size_t i = 0; i < nx; i++) in[i] = value();
            const float *wv = sn_variable_value(w);
            sn_cpu_info info;
            sn_cpu_info_get(&info);
            for (int isa = 0; isa <= (int)info.isa; isa++)
                for (int direct = 0; direct < 2; direct++) {
                    if (!((info.isas >> isa) & 1)) continue;
                    sn_session *s = sn_session_create(g, SN_FETCH(same, valid),
                                                      &(sn_session_options){.threads = 2,
                                                                            .max_batch = N,
                                                                            .limit_isa = true,
                                                                            .max_isa = (sn_isa)isa,
                                                                            .direct_conv = direct});
                    assert_non_null(s);
                    sn_output out[2];
                    assert_int_equal(
                        sn_session_run(s, &(sn_feed){x, in, SN_SHAPE(N, H, W, ic)}, 1, out), SN_OK);
                    assert_int_equal(out[1].shape.dims[1], H);
                    assert_int_equal(out[1].shape.dims[2], W);
                    for (size_t o = 0; o < ny; o++) {
                        /* the sum of |terms| of output o */
                        const size_t c = o % (size_t)oc, px = o / (size_t)oc % W;
                        const size_t py = o / (size_t)oc / W % H, n = o / (size_t)oc / W / H;
                        double mag = 0;
                        for (int ky = 0; ky < k; ky++)
                            for (int kx = 0; kx < k; kx++) {
                                const int iy = (int)py + ky - p, ix = (int)px + kx - p;
                                if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
                                for (int ci = 0; ci < ic; ci++)
                                    mag += fabs((double)in[((n * H + (size_t)iy) * W + (size_t)ix) *
                                                               (size_t)ic +
                                                           (size_t)ci] *
                                                wv[((ky * k + kx) * ic + ci) * oc + (int)c]);
                            }
                        const double tol = 1e-5 * mag + 1e-30;
                        if (fabs((double)out[0].data[o] - out[1].data[o]) > tol)
                            fail_msg("k %d, %d -> %d channels, isa %s, direct %d: output %zu: "
                                     "SAME %.9g, pad + VALID %.9g",
                                     k, ic, oc, sn_isa_name((sn_isa)isa), direct, o,
                                     (double)out[0].data[o], (double)out[1].data[o]);
                    }
                    sn_session_destroy(s);
                }
            free(in);
            sn_graph_destroy(g);
        }
}

static void expect_error(sn_graph *g, sn_status status, const char *part) {
    assert_int_equal(sn_graph_status(g), status);
    if (!strstr(sn_graph_error(g), part)) fail_msg("'%s' lacks '%s'", sn_graph_error(g), part);
    sn_graph_clear_error(g);
}

static void test_pad_builder(void **state) {
    (void)state;
    sn_graph *g = sn_graph_create(NULL);
    sn_tensor *x = sn_placeholder(g, "x", SN_SHAPE(-1, 5, 6, 3));
    sn_tensor *p = sn_pad(g, x, (const int64_t[][2]){{1, 2}, {0, 3}, {4, 0}, {0, 0}}, 0, NULL);
    assert_non_null(p);
    assert_string_equal(sn_tensor_op_name(p), "Pad");
    sn_shape s = sn_tensor_shape(p);
    assert_int_equal(s.rank, 4);
    assert_true(s.dims[0] == -1 && s.dims[1] == 8 && s.dims[2] == 10 && s.dims[3] == 3);
    sn_tensor *scalar = sn_placeholder(g, "s", SN_SCALAR);
    assert_non_null(sn_pad(g, scalar, NULL, 1.0f, NULL)); /* nothing to read for rank 0 */
    const size_t ops = sn_graph_op_count(g);

    assert_null(sn_pad(g, x, NULL, 0, NULL));
    expect_error(g, SN_ERR_INVALID_ARGUMENT,
                 "Pad Pad_2: paddings is NULL (inputs: x:0 (?, 5, 6, "
                 "3))");
    assert_null(sn_pad(g, x, (const int64_t[][2]){{0, 0}, {0, -1}, {0, 0}, {0, 0}}, 0, "p"));
    expect_error(g, SN_ERR_INVALID_ARGUMENT,
                 "Pad p: paddings[1] = {0, -1}: a padding must be >= 0");
    assert_null(
        sn_pad(g, x, (const int64_t[][2]){{INT64_MAX, 1}, {0, 0}, {0, 0}, {0, 0}}, 0, NULL));
    expect_error(g, SN_ERR_INVALID_ARGUMENT,
                 "dimension 0 (-1) padded by {9223372036854775807, 1} "
                 "is too large");
    assert_null(
        sn_pad(g, x, (const int64_t[][2]){{0, 0}, {INT64_MAX - 4, 0}, {0, 0}, {0, 0}}, 0, NULL));
    expect_error(g, SN_ERR_INVALID_ARGUMENT, "dimension 1 (5) padded by");
    /* fits in int64, but too many elements to ever run: refused as any
     * op's shape (sn_op_make) */
    assert_null(
        sn_pad(g, x, (const int64_t[][2]){{0, 0}, {0, INT64_MAX / 4}, {0, 0}, {0, 0}}, 0, "huge"));
    expect_error(g, SN_ERR_INVALID_ARGUMENT, "Pad huge: its shape (?, ");
    assert_null(sn_pad(g, NULL, (const int64_t[][2]){{0, 0}}, 0, NULL));
    expect_error(g, SN_ERR_INVALID_ARGUMENT, "Pad: input 0 is NULL");
    assert_int_equal(sn_graph_op_count(g), ops);
    assert_string_equal(sn_tensor_op_name(sn_pad(
                            g, x, (const int64_t[][2]){{0, 0}, {1, 1}, {1, 1}, {0, 0}}, 0, NULL)),
                        "Pad_2");
    sn_graph_destroy(g);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pad_builder),       cmocka_unit_test(test_pad_ranks),
        cmocka_unit_test(test_pad_zero),          cmocka_unit_test(test_pad_large),
        cmocka_unit_test(test_pad_unknown_batch), cmocka_unit_test(test_pad_then_valid_is_same),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
