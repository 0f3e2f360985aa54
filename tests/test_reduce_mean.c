/* sn_reduce_mean through sessions: every kernel set this CPU has (up to
 * the SCOPENN_ISA cap) on 1, 2 and 3 threads (1 for means too small to
 * split), against an oracle in double precision, and bit for bit against
 * the reference mean (sn_f32_mean_ref, the sum in index order then one
 * division) and so against each other. Cases: global average pooling ({1, 2} keepdims, the
 * kernel path) on 1x1 to 56x56 images, channels 1..67 and past the vector
 * blocks, large enough to be split over the threads by image and channel
 * block; every combination of axes of ranks 1 to 4, keepdims on and off,
 * as given and as negative axes; a -1 batch fed 0 to 3 images (a mean over
 * an empty batch is NaN); NaN and infinities. Then the builder: shapes,
 * names, and its errors. */
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

#include "kernels/ref/ref.h"
#include "scopenn.h"
#include "tester.h"

static uint32_t rng = 5;
static float value(int specials) {
    rng = rng * 1664525u + 1013904223u;
    if (specials && (rng >> 25) == 0) {
        static const float special[] = {NAN, INFINITY, -INFINITY, -0.0f, 1e-40f};
        return special[(rng >> 8) % COUNT(special)];
    }
    return (float)(rng >> 8) / 1048576.0f - 8.0f; /* [-8, 8) */
}

static size_t elements(const sn_shape *s) {
    size_t n = 1;
    for (int d = 0; d < s->rank; d++) n *= (size_t)s->dims[d];
    return n;
}

static int same(float a, float b) { return (isnan(a) && isnan(b)) || memcmp(&a, &b, 4) == 0; }

static unsigned bits(float f) {
    uint32_t b;
    memcpy(&b, &f, sizeof b);
    return b;
}

/* The output shape of a mean of `in` over `axes` (a mask). */
static sn_shape mean_shape(const sn_shape *in, unsigned axes, bool keepdims) {
    sn_shape out = {0};
    for (int d = 0; d < in->rank; d++)
        if (!((axes >> d) & 1))
            out.dims[out.rank++] = in->dims[d];
        else if (keepdims)
            out.dims[out.rank++] = 1;
    return out;
}

/* The mean in double, from the elements' offsets: each output's (over
 * the kept dimensions) plus each reduced position's (over the reduced
 * ones), computed once per case. */
struct oracle {
    size_t *reduced, count;
    size_t strides[SN_MAX_RANK];
    const sn_shape *in;
    unsigned axes;
};

static void oracle_init(struct oracle *q, const sn_shape *in, unsigned axes) {
    size_t st = 1;
    q->in = in, q->axes = axes, q->count = 1;
    for (int d = in->rank - 1; d >= 0; d--) q->strides[d] = st, st *= (size_t)in->dims[d];
    for (int d = 0; d < in->rank; d++)
        if ((axes >> d) & 1) q->count *= (size_t)in->dims[d];
    q->reduced = malloc(q->count * sizeof(size_t) + 1);
    assert_non_null(q->reduced);
    for (size_t r = 0; r < q->count; r++) {
        size_t off = 0, rest = r;
        for (int d = in->rank - 1; d >= 0; d--)
            if ((axes >> d) & 1) {
                off += rest % (size_t)in->dims[d] * q->strides[d];
                rest /= (size_t)in->dims[d];
            }
        q->reduced[r] = off;
    }
}

/* Output o, and the tolerance of a float32 sum of its n terms in order
 * then a division: (n + 1) FLT_EPSILON of the mean of |x|. */
static double oracle(const struct oracle *q, const float *x, size_t o, double *tol) {
    size_t base = 0, rest = o;
    for (int d = q->in->rank - 1; d >= 0; d--)
        if (!((q->axes >> d) & 1)) {
            base += rest % (size_t)q->in->dims[d] * q->strides[d];
            rest /= (size_t)q->in->dims[d];
        }
    double sum = 0, mag = 0;
    for (size_t r = 0; r < q->count; r++) {
        const float v = x[base + q->reduced[r]];
        sum += v, mag += fabs((double)v);
    }
    const size_t n = q->count;
    *tol = (double)(n + 1) * FLT_EPSILON * (n ? mag / (double)n : 0) + FLT_MIN;
    return n ? sum / (double)n : NAN;
}

struct mean_case {
    const char *what;
    sn_shape shape; /* the placeholder's; a -1 batch is fed `batch` */
    int axes[SN_MAX_RANK], axis_count;
    bool keepdims;
    int batch;
    int specials;
};

/* Builds the case, runs it on every kernel set and thread count, checks
 * each run. */
static void run_case(const struct mean_case *c) {
    sn_graph *g = sn_graph_create(NULL);
    sn_tensor *x = sn_placeholder(g, "x", c->shape);
    sn_tensor *y = sn_reduce_mean(g, x, c->axes, c->axis_count, c->keepdims, NULL);
    if (!y) fail_msg("%s: %s", c->what, sn_graph_error(g));
    unsigned axes = 0;
    for (int i = 0; i < c->axis_count; i++)
        axes |= 1u << (c->axes[i] < 0 ? c->axes[i] + c->shape.rank : c->axes[i]);
    sn_shape run = c->shape;
    for (int d = 0; d < run.rank; d++)
        if (run.dims[d] < 0) run.dims[d] = c->batch;
    const sn_shape want_shape = mean_shape(&run, axes, c->keepdims);
    const sn_shape built = mean_shape(&c->shape, axes, c->keepdims), got_built = sn_tensor_shape(y);
    assert_int_equal(got_built.rank, built.rank);
    for (int d = 0; d < built.rank; d++) assert_int_equal(got_built.dims[d], built.dims[d]);

    const size_t nx = elements(&run), ny = elements(&want_shape);
    float *in = malloc(nx * sizeof(float) + 4), *want = malloc(ny * sizeof(float) + 4);
    float *first = malloc(ny * sizeof(float) + 4);
    assert_true(in && want && first);
    for (size_t i = 0; i < nx; i++) in[i] = value(c->specials);
    sn_f32_mean_ref(run.rank, run.dims, axes, in, want, 0, (int64_t)ny);
    struct oracle q;
    oracle_init(&q, &run, axes);
    for (size_t o = 0; o < ny; o++) {
        double tol, exact = oracle(&q, in, o, &tol);
        const bool ok = isnan(exact)   ? isnan(want[o])
                        : isinf(exact) ? (double)want[o] == exact
                                       : fabs(want[o] - exact) <= tol;
        if (!ok)
            fail_msg("%s: reference y[%zu] = %.9g, oracle %.17g (tolerance %.3g)", c->what, o,
                     (double)want[o], exact, tol);
    }

    sn_cpu_info info;
    sn_cpu_info_get(&info);
    int runs = 0;
    for (int isa = 0; isa <= (int)info.isa; isa++) {
        if (!((info.isas >> isa) & 1)) continue;
        /* a mean of fewer than 16384 floats runs on one thread whatever
         * the count (MEAN_SPLIT, ops/reduce_mean.c): more would only cost
         * time under qemu */
        for (int threads = 1; threads <= (nx < 16384 ? 1 : 3); threads++) {
            sn_session *s = sn_session_create(
                g, SN_FETCH(y),
                &(sn_session_options){
                    .threads = threads, .max_batch = 3, .limit_isa = true, .max_isa = (sn_isa)isa});
            if (!s) fail_msg("%s: %s", c->what, sn_graph_error(g));
            sn_feed feed = {x, in, run};
            sn_output out;
            if (sn_session_run(s, &feed, 1, &out) != SN_OK)
                fail_msg("%s: %s", c->what, sn_session_error(s));
            assert_int_equal(out.shape.rank, want_shape.rank);
            for (int d = 0; d < want_shape.rank; d++)
                assert_int_equal(out.shape.dims[d], want_shape.dims[d]);
            for (size_t o = 0; o < ny; o++) {
                if (!same(out.data[o], want[o]))
                    fail_msg("%s, isa %s, %d thread(s): y[%zu] = %.9g (0x%08x), reference %.9g",
                             c->what, sn_isa_name((sn_isa)isa), threads, o, (double)out.data[o],
                             bits(out.data[o]), (double)want[o]);
                if (runs && !same(out.data[o], first[o]))
                    fail_msg("%s, isa %s, %d thread(s): y[%zu] differs from the first run's",
                             c->what, sn_isa_name((sn_isa)isa), threads, o);
            }
            if (!runs++ && ny) memcpy(first, out.data, ny * sizeof(float));
            sn_session_destroy(s);
        }
    }
    free(in), free(want), free(first), free(q.reduced);
    sn_graph_destroy(g);
}

#define GAP(what_, n_, h_, w_, c_)                                                                 \
    {                                                                                              \
        .what = what_, .shape = SN_SHAPE(n_, h_, w_, c_), .axes = {1, 2}, .axis_count = 2,         \
        .keepdims = true, .specials = 1                                                            \
    }

/* Global average pooling: the kernel path. */
static void test_global_average_pooling(void **state) {
    (void)state;
    const struct mean_case cases[] = {
        GAP("7x7x64", 1, 7, 7, 64),
        GAP("7x7x2048 (ResNet-50), 2 images", 2, 7, 7, 2048),
        GAP("1x1 image", 3, 1, 1, 5),
        GAP("1x1 image, 130 channels", 1, 1, 1, 130),
        GAP("squeeze-excitation 56x56x32", 1, 56, 56, 32),
        GAP("14x14x130, 2 images", 2, 14, 14, 130),
        GAP("5x3x1", 2, 5, 3, 1),
        GAP("9x9x67", 1, 9, 9, 67),
        GAP("10x10x200, 3 images", 3, 10, 10, 200),
    };
    for (size_t i = 0; i < COUNT(cases); i++) run_case(&cases[i]);
    /* every channel count 1..67, 4x5 images, one and two images */
    for (int ch = 1; ch <= 67; ch++) {
        char what[64];
        snprintf(what, sizeof what, "4x5x%d, %d image(s)", ch, 1 + ch % 2);
        struct mean_case c = GAP(what, 1 + ch % 2, 4, 5, ch);
        run_case(&c);
    }
    /* not kept: [n, c]; given as negative axes */
    struct mean_case c = {.what = "{-3, -2}, keepdims off",
                          .shape = SN_SHAPE(2, 6, 6, 19),
                          .axes = {-3, -2},
                          .axis_count = 2,
                          .specials = 1};
    run_case(&c);
}

/* Every combination of axes of shapes of ranks 1 to 4, keepdims on and
 * off, the axes given backwards, as they are or as negative ones (every
 * other combination): kernel and reference paths alike. */
static void test_every_axes(void **state) {
    (void)state;
    const sn_shape shapes[] = {
        SN_SHAPE(13),         SN_SHAPE(1),           SN_SHAPE(3, 17),      SN_SHAPE(1, 9),
        SN_SHAPE(5, 1),       SN_SHAPE(2, 3, 20),    SN_SHAPE(4, 1, 7),    SN_SHAPE(2, 3, 4, 5),
        SN_SHAPE(1, 6, 1, 9), SN_SHAPE(2, 1, 1, 33), SN_SHAPE(3, 4, 5, 1),
    };
    for (size_t s = 0; s < COUNT(shapes); s++) {
        const int rank = shapes[s].rank;
        for (unsigned mask = 0; mask < (1u << rank); mask++)
            for (int keep = 0; keep < 2; keep++) {
                const bool negative = (mask + (unsigned)keep) % 2;
                struct mean_case c = {.shape = shapes[s], .keepdims = keep, .specials = 1};
                for (int d = rank - 1; d >= 0; d--)
                    if ((mask >> d) & 1) c.axes[c.axis_count++] = negative ? d - rank : d;
                char what[96];
                snprintf(what, sizeof what, "shape %zu (rank %d), axes 0x%x%s%s", s, rank, mask,
                         keep ? ", keepdims" : "", negative ? ", negative" : "");
                c.what = what;
                run_case(&c);
            }
    }
}

/* Means large enough for the threads on the reference path (an axis other
 * than a block of rows before the channels) and on the kernel path (many
 * images: split by image only). */
static void test_large(void **state) {
    (void)state;
    const struct mean_case cases[] = {
        {"[4, 20, 10, 30] over {1, 3}", SN_SHAPE(4, 20, 10, 30), {1, 3}, 2, true, 0, 1},
        {"[300, 70] over {0}", SN_SHAPE(300, 70), {0}, 1, false, 0, 1},
        {"[70, 300] over {1}", SN_SHAPE(70, 300), {1}, 1, true, 0, 1},
        {"[3, 40, 50, 7] over every axis", SN_SHAPE(3, 40, 50, 7), {0, 1, 2, 3}, 4, false, 0, 1},
        {"[64, 8, 8, 40] over {1, 2}", SN_SHAPE(64, 8, 8, 40), {1, 2}, 2, false, 0, 1},
        {"[8, 16, 16, 24] over {0, 1, 2}", SN_SHAPE(8, 16, 16, 24), {0, 1, 2}, 3, true, 0, 1},
    };
    for (size_t i = 0; i < COUNT(cases); i++) run_case(&cases[i]);
}

/* A -1 batch fed 0 to 3 images: a mean that keeps the batch is empty for
 * none; one over the batch is NaN for none (0 / 0, as NumPy and
 * TensorFlow), with keepdims and without. */
static void test_unknown_batch(void **state) {
    (void)state;
    for (int batch = 0; batch <= 3; batch++) {
        const struct mean_case cases[] = {
            {"gap of a -1 batch", SN_SHAPE(-1, 5, 5, 7), {1, 2}, 2, true, batch, 1},
            {"over the -1 batch", SN_SHAPE(-1, 4), {0}, 1, false, batch, 1},
            {"over the -1 batch, kept", SN_SHAPE(-1, 3, 9), {0}, 1, true, batch, 0},
            {"over all of a -1 batch", SN_SHAPE(-1, 2, 3), {0, 1, 2}, 3, false, batch, 0},
            {"over {0, 2} of a -1 batch", SN_SHAPE(-1, 2, 3), {2, 0}, 2, true, batch, 0},
        };
        for (size_t i = 0; i < COUNT(cases); i++) run_case(&cases[i]);
    }
    /* the empty batch gives NaN exactly */
    sn_graph *g = sn_graph_create(NULL);
    sn_tensor *x = sn_placeholder(g, "x", SN_SHAPE(-1, 4));
    sn_tensor *y = sn_reduce_mean(g, x, (const int[]){0}, 1, false, NULL);
    sn_session *s = sn_session_create(g, SN_FETCH(y), &(sn_session_options){.max_batch = 2});
    assert_non_null(s);
    static const float none[1];
    sn_output out;
    assert_int_equal(sn_session_run(s, &(sn_feed){x, none, SN_SHAPE(0, 4)}, 1, &out), SN_OK);
    assert_int_equal(out.shape.rank, 1);
    assert_int_equal(out.shape.dims[0], 4);
    for (int i = 0; i < 4; i++) assert_true(isnan(out.data[i]));
    sn_session_destroy(s);
    sn_graph_destroy(g);
}

/* Special values, worked: a column with a NaN gives NaN, with +inf +inf,
 * with +inf and -inf NaN; -0 alone stays -0. */
static void test_specials(void **state) {
    (void)state;
    enum { H = 3, W = 3, C = 70 };
    static float in[H * W * C];
    for (int i = 0; i < H * W * C; i++) in[i] = 1.0f;
    in[4 * C + 0] = NAN;
    in[1 * C + 1] = INFINITY;
    in[2 * C + 2] = INFINITY, in[7 * C + 2] = -INFINITY;
    in[0 * C + 3] = -INFINITY;
    for (int p = 0; p < H * W; p++) in[p * C + 69] = -0.0f;
    sn_graph *g = sn_graph_create(NULL);
    sn_tensor *x = sn_placeholder(g, "x", SN_SHAPE(1, H, W, C));
    sn_tensor *y = sn_reduce_mean(g, x, (const int[]){1, 2}, 2, false, "gap");
    assert_string_equal(sn_tensor_op_name(y), "gap");
    sn_cpu_info info;
    sn_cpu_info_get(&info);
    for (int isa = 0; isa <= (int)info.isa; isa++) {
        if (!((info.isas >> isa) & 1)) continue;
        sn_session *s = sn_session_create(
            g, SN_FETCH(y), &(sn_session_options){.limit_isa = true, .max_isa = (sn_isa)isa});
        sn_output out;
        assert_int_equal(sn_session_run(s, &(sn_feed){x, in, SN_SHAPE(1, H, W, C)}, 1, &out),
                         SN_OK);
        assert_true(isnan(out.data[0]));
        assert_true(out.data[1] == INFINITY);
        assert_true(isnan(out.data[2]));
        assert_true(out.data[3] == -INFINITY);
        for (int c = 4; c < 69; c++) assert_true(out.data[c] == 1.0f);
        assert_true(out.data[69] == 0.0f && signbit(out.data[69]));
        sn_session_destroy(s);
    }
    sn_graph_destroy(g);
}

static void assert_shape(sn_tensor *t, sn_shape want) {
    assert_non_null(t);
    const sn_shape s = sn_tensor_shape(t);
    assert_int_equal(s.rank, want.rank);
    for (int d = 0; d < want.rank; d++) assert_int_equal(s.dims[d], want.dims[d]);
}

static void expect_error(sn_graph *g, sn_status status, const char *part) {
    assert_int_equal(sn_graph_status(g), status);
    if (!strstr(sn_graph_error(g), part)) fail_msg("'%s' lacks '%s'", sn_graph_error(g), part);
    sn_graph_clear_error(g);
}

static void test_builder(void **state) {
    (void)state;
    sn_graph *g = sn_graph_create(NULL);
    sn_tensor *x = sn_placeholder(g, "x", SN_SHAPE(-1, 7, 7, 64));
    sn_tensor *m = sn_reduce_mean(g, x, (const int[]){1, 2}, 2, true, NULL);
    assert_shape(m, SN_SHAPE(-1, 1, 1, 64));
    assert_string_equal(sn_tensor_op_type(m), "Mean");
    assert_string_equal(sn_tensor_op_name(m), "Mean");
    assert_shape(sn_reduce_mean(g, x, (const int[]){-2, -3}, 2, false, NULL), SN_SHAPE(-1, 64));
    assert_shape(sn_reduce_mean(g, x, (const int[]){0}, 1, true, NULL), SN_SHAPE(1, 7, 7, 64));
    assert_shape(sn_reduce_mean(g, x, (const int[]){0, 1, 2, 3}, 4, false, NULL), SN_SCALAR);
    assert_shape(sn_reduce_mean(g, x, NULL, 0, false, NULL), SN_SHAPE(-1, 7, 7, 64));
    sn_tensor *s = sn_placeholder(g, "s", SN_SCALAR);
    assert_shape(sn_reduce_mean(g, s, NULL, 0, true, NULL), SN_SCALAR);
    assert_int_equal(sn_graph_status(g), SN_OK);

    /* errors: each names the op as it would have been named, and x */
    const size_t ops = sn_graph_op_count(g);
    assert_null(sn_reduce_mean(g, x, NULL, 2, true, NULL));
    expect_error(g, SN_ERR_INVALID_ARGUMENT,
                 "Mean Mean_6: axes is NULL (axis_count 2) (inputs: "
                 "x:0 (?, 7, 7, 64))");
    assert_null(sn_reduce_mean(g, x, (const int[]){1}, -1, true, "gap"));
    expect_error(g, SN_ERR_INVALID_ARGUMENT, "Mean gap: axis_count -1 is not in [0, 4]");
    assert_null(sn_reduce_mean(g, x, (const int[]){0, 1, 2, 3, 0}, 5, true, NULL));
    expect_error(g, SN_ERR_INVALID_ARGUMENT, "axis_count 5 is not in [0, 4]");
    assert_null(sn_reduce_mean(g, x, (const int[]){1, 4}, 2, true, NULL));
    expect_error(g, SN_ERR_INVALID_ARGUMENT, "axes[1] = 4 is out of range for rank 4");
    assert_null(sn_reduce_mean(g, x, (const int[]){-5}, 1, true, NULL));
    expect_error(g, SN_ERR_INVALID_ARGUMENT, "axes[0] = -5 is out of range for rank 4");
    assert_null(sn_reduce_mean(g, x, (const int[]){1, 2, -3}, 3, true, NULL));
    expect_error(g, SN_ERR_INVALID_ARGUMENT, "Mean Mean_6: axes[2] = -3 repeats dimension 1");
    assert_null(sn_reduce_mean(g, s, (const int[]){0}, 1, true, NULL));
    expect_error(g, SN_ERR_INVALID_ARGUMENT, "axis_count 1 is not in [0, 0]");
    assert_null(sn_reduce_mean(g, NULL, (const int[]){0}, 1, true, NULL));
    expect_error(g, SN_ERR_INVALID_ARGUMENT, "Mean: input 0 is NULL");
    sn_graph *other = sn_graph_create(NULL);
    sn_tensor *alien = sn_placeholder(other, "a", SN_SHAPE(2, 3));
    assert_null(sn_reduce_mean(g, alien, (const int[]){0}, 1, true, NULL));
    expect_error(g, SN_ERR_INVALID_ARGUMENT, "Mean: input 0 is a tensor of another graph");
    sn_graph_destroy(other);
    assert_null(sn_reduce_mean(g, x, (const int[]){0}, 1, true, "bad name!"));
    assert_int_equal(sn_graph_status(g), SN_ERR_INVALID_ARGUMENT);
    sn_graph_clear_error(g);
    /* sticky: after an error, nothing is built and the first message stays */
    assert_null(sn_reduce_mean(g, x, (const int[]){9}, 1, true, NULL));
    assert_null(sn_reduce_mean(g, x, (const int[]){1}, 1, true, NULL));
    expect_error(g, SN_ERR_INVALID_ARGUMENT, "axes[0] = 9");
    /* the failed calls made no op and took no name */
    assert_int_equal(sn_graph_op_count(g), ops);
    assert_string_equal(sn_tensor_op_name(sn_reduce_mean(g, x, NULL, 0, true, NULL)), "Mean_6");
    sn_graph_destroy(g);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_builder),
        cmocka_unit_test(test_specials),
        cmocka_unit_test(test_global_average_pooling),
        cmocka_unit_test(test_every_axes),
        cmocka_unit_test(test_large),
        cmocka_unit_test(test_unknown_batch),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
