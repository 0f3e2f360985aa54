/* sn_transpose and sn_split through sessions, on every kernel set this CPU
 * has (up to the SCOPENN_ISA cap) and 1 and 2 threads, bit for bit against
 * a copy computed here element by element: ranks 0 to 6 with every kind
 * of permutation and odd sizes, ranks 1 to 5 split along every axis
 * (negative ones too) in equal pieces, pieces of given sizes (with a -1
 * first, inside, last), inputs fed or computed (a relu: the identity and
 * a piece that is the whole input are views), a -1 batch fed other
 * batches (and the run's errors when it does not split), outputs large
 * enough to be split over the threads. ShuffleNet's channel shuffle in
 * NHWC (reshape, transpose, reshape) against PyTorch's order in NCHW.
 * Then the builders: shapes, names, and their errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scopenn.h"
#include "tester.h"

static uint32_t rng = 29;
static uint32_t next(void) { return rng = rng * 1664525u + 1013904223u; }

static size_t elements(const sn_shape *s) {
    size_t n = 1;
    for (int d = 0; d < s->rank; d++) n *= (size_t)s->dims[d];
    return n;
}

/* Distinct floats (their index, its sign flipped for odd ones), as a
 * relu leaves them if `relu`, else with a NaN with a payload now and
 * then (a copy keeps its bits). */
static float *input(size_t n, bool relu) {
    float *x = malloc(n * sizeof(float) + 4);
    assert_non_null(x);
    for (size_t i = 0; i < n; i++) {
        x[i] = i % 2 ? -(float)i : (float)i;
        if (relu && x[i] < 0.0f) x[i] = 0.0f;
        if (!relu && next() % 64 == 0) x[i] = from_bits(0x7FC0BEEFu);
    }
    return x;
}

/* The row-major index of each dimension of element i of shape s. */
static void unravel(const sn_shape *s, size_t i, int64_t *index) {
    for (int d = s->rank - 1; d >= 0; d--) {
        index[d] = (int64_t)(i % (size_t)s->dims[d]);
        i /= (size_t)s->dims[d];
    }
}

static size_t ravel(const sn_shape *s, const int64_t *index) {
    size_t i = 0;
    for (int d = 0; d < s->rank; d++) i = i * (size_t)s->dims[d] + (size_t)index[d];
    return i;
}

static void transpose_oracle(const sn_shape *in, const int *perm, const float *x, float *y) {
    sn_shape out = *in;
    for (int d = 0; d < in->rank; d++) out.dims[d] = in->dims[perm[d]];
    for (size_t o = 0; o < elements(&out); o++) {
        int64_t index[SN_MAX_RANK], from[SN_MAX_RANK];
        unravel(&out, o, index);
        for (int d = 0; d < in->rank; d++) from[perm[d]] = index[d];
        y[o] = x[ravel(in, from)];
    }
}

/* Elements [lo, hi) of x along `axis`. */
static void split_oracle(const sn_shape *in, int axis, int64_t lo, int64_t hi, const float *x,
                         float *y) {
    sn_shape out = *in;
    out.dims[axis] = hi - lo;
    for (size_t o = 0; o < elements(&out); o++) {
        int64_t index[SN_MAX_RANK];
        unravel(&out, o, index);
        index[axis] += lo;
        y[o] = x[ravel(in, index)];
    }
}

/* Runs the fetches on every kernel set and 1 and 2 threads with x (its
 * -1s fed `run`) and checks each output's shape and bits against want;
 * returns the last session's views. */
static size_t check(const char *what, sn_graph *g, sn_tensor *x, sn_shape run, const float *xs,
                    sn_tensor *const *fetches, int count, float *const *want,
                    const sn_shape *shapes) {
    sn_cpu_info info;
    sn_cpu_info_get(&info);
    size_t views = 0;
    for (int isa = 0; isa <= (int)info.isa; isa++) {
        if (!runnable((sn_isa)isa)) continue;
        for (int threads = 1; threads <= 2; threads++) {
            sn_session *s = sn_session_create(
                g, fetches, (size_t)count,
                &(sn_session_options){
                    .threads = threads, .max_batch = 4, .limit_isa = true, .max_isa = (sn_isa)isa});
            if (!s) fail_msg("%s: %s", what, sn_graph_error(g));
            sn_session_stats st;
            sn_session_stats_get(s, &st);
            views = st.views;
            sn_output out[16];
            if (sn_session_run(s, &(sn_feed){x, xs, run}, 1, out) != SN_OK)
                fail_msg("%s: %s", what, sn_session_error(s));
            for (int f = 0; f < count; f++) {
                assert_int_equal(out[f].shape.rank, shapes[f].rank);
                for (int d = 0; d < shapes[f].rank; d++)
                    assert_int_equal(out[f].shape.dims[d], shapes[f].dims[d]);
                for (size_t o = 0; o < elements(&shapes[f]); o++)
                    if (to_bits(out[f].data[o]) != to_bits(want[f][o]))
                        fail_msg("%s, output %d, isa %s, %d thread(s): y[%zu] = %.9g, want %.9g",
                                 what, f, sn_isa_name((sn_isa)isa), threads, o,
                                 (double)out[f].data[o], (double)want[f][o]);
            }
            sn_session_destroy(s);
        }
    }
    return views;
}

/* x of `shape` (-1s fed `batch`), relu'd first if `computed`, transposed
 * by perm. Returns the views. */
static size_t run_transpose(const char *what, sn_shape shape, const int *perm, int batch,
                            bool computed) {
    sn_graph *g = sn_graph_create(NULL);
    sn_tensor *x = sn_placeholder(g, "x", shape);
    sn_tensor *in = computed ? sn_relu(g, x, NULL) : x;
    sn_tensor *y = sn_transpose(g, in, perm, shape.rank, NULL);
    if (!y) fail_msg("%s: %s", what, sn_graph_error(g));
    assert_string_equal(sn_tensor_op_type(y), "Transpose");
    sn_shape run = shape, built = sn_tensor_shape(y), out = shape;
    for (int d = 0; d < shape.rank; d++) {
        if (run.dims[d] < 0) run.dims[d] = batch;
        assert_int_equal(built.dims[d], shape.dims[perm[d]]);
    }
    for (int d = 0; d < shape.rank; d++) out.dims[d] = run.dims[perm[d]];
    const size_t n = elements(&run);
    float *xs = input(n, computed), *want = malloc(n * sizeof(float) + 4);
    assert_non_null(want);
    transpose_oracle(&run, perm, xs, want);
    const size_t views = check(what, g, x, run, xs, &y, 1, &want, &out);
    free(xs), free(want);
    sn_graph_destroy(g);
    return views;
}

/* A random permutation of rank dimensions. */
static void shuffle(int *perm, int rank) {
    for (int d = 0; d < rank; d++) perm[d] = d;
    for (int d = rank - 1; d > 0; d--) {
        const int j = (int)(next() % (uint32_t)(d + 1)), t = perm[d];
        perm[d] = perm[j], perm[j] = t;
    }
}

static void test_transpose_ranks(void **state) {
    (void)state;
    for (int rank = 0; rank <= 6; rank++)
        for (int trial = 0; trial < 10; trial++) {
            sn_shape s = {.rank = rank};
            int perm[SN_MAX_RANK];
            for (int d = 0; d < rank; d++) s.dims[d] = 1 + (int64_t)(next() % (rank > 4 ? 4 : 7));
            shuffle(perm, rank);
            char what[64];
            snprintf(what, sizeof what, "rank %d, trial %d", rank, trial);
            run_transpose(what, s, perm, 0, trial % 2);
        }
}

/* The identity is a view of a computed input, a copy of a feed; the last
 * dimension kept last, moved, and the outputs large enough for threads. */
static void test_transpose_kinds(void **state) {
    (void)state;
    assert_int_equal(
        run_transpose("identity after a relu", SN_SHAPE(2, 3, 5), (int[]){0, 1, 2}, 0, true), 1);
    assert_int_equal(
        run_transpose("identity of a feed", SN_SHAPE(2, 3, 5), (int[]){0, 1, 2}, 0, false), 0);
    run_transpose("the last stays last", SN_SHAPE(3, 5, 7, 9), (int[]){2, 0, 1, 3}, 0, false);
    run_transpose("a matrix", SN_SHAPE(301, 257), (int[]){1, 0}, 0, false);
    run_transpose("large, rows kept", SN_SHAPE(64, 41, 33), (int[]){1, 0, 2}, 0, true);
    run_transpose("large, rows moved", SN_SHAPE(64, 41, 33), (int[]){2, 0, 1}, 0, false);
    run_transpose("1s moved about", SN_SHAPE(1, 7, 1, 5, 1), (int[]){4, 3, 2, 0, 1}, 0, false);
}

static void test_transpose_unknown_batch(void **state) {
    (void)state;
    for (int batch = 0; batch <= 4; batch++) {
        run_transpose("-1 batch kept first", SN_SHAPE(-1, 3, 4, 5), (int[]){0, 3, 1, 2}, batch,
                      batch % 2);
        run_transpose("-1 batch moved last", SN_SHAPE(-1, 3, 5), (int[]){2, 1, 0}, batch, false);
    }
}

/* x of `shape` (-1s fed `batch`), relu'd first if `computed`, split into
 * count along axis, equal pieces or `sizes`; returns the views. */
static size_t run_split_sizes(const char *what, sn_shape shape, const int64_t *sizes, int count,
                              int axis, int batch, bool computed) {
    sn_graph *g = sn_graph_create(NULL);
    sn_tensor *x = sn_placeholder(g, "x", shape);
    sn_tensor *in = computed ? sn_relu(g, x, NULL) : x;
    sn_tensor *pieces[16];
    if ((sizes ? sn_split_sizes(g, in, sizes, count, axis, pieces, NULL)
               : sn_split(g, in, count, axis, pieces, NULL)) != SN_OK)
        fail_msg("%s: %s", what, sn_graph_error(g));
    const int a = axis < 0 ? axis + shape.rank : axis;
    sn_shape run = shape;
    for (int d = 0; d < shape.rank; d++)
        if (run.dims[d] < 0) run.dims[d] = batch;
    /* the pieces' sizes this run: the -1 takes the rest */
    int64_t size[16], known = 0;
    for (int k = 0; k < count; k++) {
        size[k] = sizes ? sizes[k] : run.dims[a] / count;
        known += size[k] >= 0 ? size[k] : 0;
    }
    const size_t n = elements(&run);
    float *xs = input(n, computed), *want[16];
    sn_shape shapes[16];
    for (int k = 0, lo = 0; k < count; k++) {
        const bool fixed = shape.dims[a] >= 0 || (sizes && sizes[k] >= 0);
        if (size[k] < 0) size[k] = run.dims[a] - known;
        assert_string_equal(sn_tensor_op_type(pieces[k]), "Split");
        assert_int_equal(sn_tensor_shape(pieces[k]).dims[a], fixed ? size[k] : -1);
        shapes[k] = run;
        shapes[k].dims[a] = size[k];
        want[k] = malloc(elements(&shapes[k]) * sizeof(float) + 4);
        assert_non_null(want[k]);
        split_oracle(&run, a, lo, lo + size[k], xs, want[k]);
        lo += (int)size[k];
    }
    const size_t views = check(what, g, x, run, xs, pieces, count, want, shapes);
    for (int k = 0; k < count; k++) free(want[k]);
    free(xs);
    sn_graph_destroy(g);
    return views;
}

static size_t run_split(const char *what, sn_shape shape, int count, int axis, int batch,
                        bool computed) {
    return run_split_sizes(what, shape, NULL, count, axis, batch, computed);
}

static void test_split_ranks(void **state) {
    (void)state;
    for (int rank = 1; rank <= 5; rank++)
        for (int axis = -rank; axis < rank; axis++) {
            const int count = 1 + (int)(next() % 3);
            sn_shape s = {.rank = rank};
            for (int d = 0; d < rank; d++) s.dims[d] = 1 + (int64_t)(next() % 5);
            s.dims[axis < 0 ? axis + rank : axis] = count * (1 + (int64_t)(next() % 3));
            char what[64];
            snprintf(what, sizeof what, "rank %d, axis %d, %d pieces", rank, axis, count);
            run_split(what, s, count, axis, 0, axis % 2);
        }
}

/* Odd channels, the piece that is the input (a view after a relu), large
 * pieces, a -1 batch split along the channels and along itself. */
static void test_split_kinds(void **state) {
    (void)state;
    run_split("odd channels in 3", SN_SHAPE(2, 5, 3, 21), 3, -1, 0, false);
    assert_int_equal(run_split("one piece after a relu", SN_SHAPE(2, 3, 7), 1, 1, 0, true), 1);
    run_split("large, by channels", SN_SHAPE(4, 32, 32, 58), 2, 3, 0, true);
    run_split("large, by rows", SN_SHAPE(4, 300, 200), 4, 1, 0, false);
    for (int batch = 0; batch <= 4; batch++) {
        run_split("-1 batch, by channels", SN_SHAPE(-1, 3, 3, 6), 2, -1, batch, batch % 2);
        if (batch % 2 == 0)
            run_split("-1 batch split itself", SN_SHAPE(-1, 3, 5), 2, 0, batch, false);
    }
}

/* Sizes: with and without a -1 (first, inside, last), zeros among them,
 * a -1 that is the whole input (a view), along a -1 batch. */
static void test_split_sizes(void **state) {
    (void)state;
    run_split_sizes("sizes along channels", SN_SHAPE(2, 3, 3, 13), (int64_t[]){5, 0, 7, 1}, 4, -1,
                    0, false);
    run_split_sizes("sizes along rows", SN_SHAPE(3, 10, 3), (int64_t[]){2, 8}, 2, 1, 0, true);
    run_split_sizes("-1 first", SN_SHAPE(4, 9), (int64_t[]){-1, 2, 3}, 3, 1, 0, false);
    run_split_sizes("-1 inside", SN_SHAPE(9, 4), (int64_t[]){2, -1, 3}, 3, 0, 0, false);
    run_split_sizes("-1 last, nothing left", SN_SHAPE(2, 5, 6), (int64_t[]){6, -1}, 2, -1, 0,
                    false);
    assert_int_equal(
        run_split_sizes("-1 alone after a relu", SN_SHAPE(2, 5, 6), (int64_t[]){-1}, 1, 1, 0, true),
        1);
    for (int batch = 0; batch <= 4; batch++) {
        run_split_sizes("-1 batch, sizes along channels", SN_SHAPE(-1, 3, 7), (int64_t[]){3, 4}, 2,
                        2, batch, batch % 2);
        if (batch >= 1)
            run_split_sizes("-1 batch split by sizes itself", SN_SHAPE(-1, 3), (int64_t[]){1, -1},
                            2, 0, batch, false);
    }
}

/* A -1 batch split in 2 fails at run time when fed 3, naming the piece;
 * split by sizes, when fed other than their sum (less with a -1). */
static void test_split_run_error(void **state) {
    (void)state;
    sn_graph *g = sn_graph_create(NULL);
    sn_tensor *x = sn_placeholder(g, "x", SN_SHAPE(-1, 4));
    sn_tensor *p[2];
    assert_int_equal(sn_split(g, x, 2, 0, p, "halves"), SN_OK);
    assert_string_equal(sn_tensor_name(p[1]), "halves/1:0");
    sn_session *s =
        sn_session_create(g, SN_FETCH(p[0], p[1]), &(sn_session_options){.max_batch = 4});
    assert_non_null(s);
    float xs[12] = {0};
    sn_output out[2];
    assert_int_not_equal(sn_session_run(s, &(sn_feed){x, xs, SN_SHAPE(3, 4)}, 1, out), SN_OK);
    if (!strstr(sn_session_error(s), "halves/0") || !strstr(sn_session_error(s), "equal pieces"))
        fail_msg("'%s'", sn_session_error(s));
    assert_int_equal(sn_session_run(s, &(sn_feed){x, xs, SN_SHAPE(2, 4)}, 1, out), SN_OK);
    sn_session_destroy(s);
    /* sizes along a -1 batch: their sum, or at least it with a -1 */
    sn_tensor *q[2], *r[2];
    assert_int_equal(sn_split_sizes(g, x, (int64_t[]){1, 2}, 2, 0, q, "fixed"), SN_OK);
    assert_int_equal(sn_split_sizes(g, x, (int64_t[]){2, -1}, 2, 0, r, "rest"), SN_OK);
    assert_int_equal(sn_tensor_shape(q[1]).dims[0], 2);
    assert_int_equal(sn_tensor_shape(r[1]).dims[0], -1);
    s = sn_session_create(g, SN_FETCH(q[0], r[1]), &(sn_session_options){.max_batch = 4});
    assert_non_null(s);
    assert_int_not_equal(sn_session_run(s, &(sn_feed){x, xs, SN_SHAPE(2, 4)}, 1, out), SN_OK);
    if (!strstr(sn_session_error(s), "fixed/0") || !strstr(sn_session_error(s), "sizes' sum 3"))
        fail_msg("'%s'", sn_session_error(s));
    assert_int_equal(sn_session_run(s, &(sn_feed){x, xs, SN_SHAPE(3, 4)}, 1, out), SN_OK);
    assert_int_equal(out[1].shape.dims[0], 1);
    sn_session_destroy(s);
    s = sn_session_create(g, SN_FETCH(r[1]), &(sn_session_options){.max_batch = 4});
    assert_int_not_equal(sn_session_run(s, &(sn_feed){x, xs, SN_SHAPE(1, 4)}, 1, out), SN_OK);
    if (!strstr(sn_session_error(s), "rest/1") || !strstr(sn_session_error(s), "less than"))
        fail_msg("'%s'", sn_session_error(s));
    sn_session_destroy(s);
    sn_graph_destroy(g);
}

/* ShuffleNet's channel_shuffle(x, 2) in NCHW (view as [N, 2, C/2, H, W],
 * swap 1 and 2, flatten) puts input channel (j % 2) * C/2 + j / 2 at
 * channel j; in NHWC that is [N, H, W, 2, C/2] transposed (0, 1, 2, 4, 3). */
static void channel_shuffle(int64_t H, int64_t W, int64_t C) {
    sn_graph *g = sn_graph_create(NULL);
    sn_tensor *x = sn_placeholder(g, "x", SN_SHAPE(-1, H, W, C));
    sn_tensor *y = sn_reshape(g, x, SN_SHAPE(-1, H, W, 2, C / 2), NULL);
    y = sn_transpose(g, y, (int[]){0, 1, 2, 4, 3}, 5, NULL);
    y = sn_reshape(g, y, SN_SHAPE(-1, H, W, C), NULL);
    assert_non_null(y);
    for (int batch = 0; batch <= 3; batch++) {
        const sn_shape run = SN_SHAPE(batch, H, W, C);
        const size_t n = elements(&run);
        float *xs = input(n, false), *want = malloc(n * sizeof(float) + 4);
        assert_non_null(want);
        for (size_t p = 0; p < n / (size_t)C; p++)
            for (int64_t j = 0; j < C; j++)
                want[p * (size_t)C + (size_t)j] = xs[p * (size_t)C + (size_t)((j % 2) * (C / 2) + j / 2)];
        check("channel shuffle", g, x, run, xs, &y, 1, &want, &run);
        free(xs), free(want);
    }
    sn_graph_destroy(g);
}

/* Small, and large enough that the threads share the rows, a pixel's two
 * runs cut between them (the interleaving loop starts mid-run). */
static void test_channel_shuffle(void **state) {
    (void)state;
    channel_shuffle(3, 5, 58);
    channel_shuffle(37, 41, 58);
}

static void expect_error(sn_graph *g, sn_status status, const char *part) {
    assert_int_equal(sn_graph_status(g), status);
    if (!strstr(sn_graph_error(g), part)) fail_msg("'%s' lacks '%s'", sn_graph_error(g), part);
    sn_graph_clear_error(g);
}

static void test_transpose_builder(void **state) {
    (void)state;
    sn_graph *g = sn_graph_create(NULL);
    sn_tensor *x = sn_placeholder(g, "x", SN_SHAPE(-1, 5, 6, 3));
    sn_tensor *t = sn_transpose(g, x, (int[]){3, 0, 2, 1}, 4, NULL);
    assert_non_null(t);
    assert_string_equal(sn_tensor_op_name(t), "transpose");
    sn_shape s = sn_tensor_shape(t);
    assert_true(s.rank == 4 && s.dims[0] == 3 && s.dims[1] == -1 && s.dims[2] == 6 &&
                s.dims[3] == 5);
    sn_tensor *scalar = sn_placeholder(g, "s", SN_SCALAR);
    assert_non_null(sn_transpose(g, scalar, NULL, 0, NULL));
    const size_t ops = sn_graph_op_count(g);
    assert_null(sn_transpose(g, x, (int[]){0, 1, 2}, 3, NULL));
    expect_error(g, SN_ERR_INVALID_ARGUMENT,
                 "Transpose transpose_2: the permutation has 3 dimensions, the input 4 (inputs: "
                 "x:0 (?, 5, 6, 3))");
    assert_null(sn_transpose(g, x, (int[]){0, 1, 2, 4}, 4, "t"));
    expect_error(g, SN_ERR_INVALID_ARGUMENT, "Transpose t: perm[3] = 4 is out of range for rank 4");
    assert_null(sn_transpose(g, x, (int[]){0, -1, 2, 3}, 4, NULL));
    expect_error(g, SN_ERR_INVALID_ARGUMENT, "perm[1] = -1 is out of range");
    assert_null(sn_transpose(g, x, (int[]){0, 2, 2, 1}, 4, NULL));
    expect_error(g, SN_ERR_INVALID_ARGUMENT, "perm[2] = 2 repeats dimension 2");
    assert_null(sn_transpose(g, x, NULL, 4, NULL));
    expect_error(g, SN_ERR_INVALID_ARGUMENT, "perm is NULL");
    assert_null(sn_transpose(g, NULL, (int[]){0}, 1, NULL));
    expect_error(g, SN_ERR_INVALID_ARGUMENT, "Transpose: input 0 is NULL");
    assert_int_equal(sn_graph_op_count(g), ops);
    sn_graph_destroy(g);
}

static void test_split_builder(void **state) {
    (void)state;
    sn_graph *g = sn_graph_create(NULL);
    sn_tensor *x = sn_placeholder(g, "x", SN_SHAPE(-1, 5, 6, 4));
    sn_tensor *p[4];
    assert_int_equal(sn_split(g, x, 2, -1, p, NULL), SN_OK);
    assert_string_equal(sn_tensor_name(p[0]), "split/0:0");
    assert_string_equal(sn_tensor_name(p[1]), "split/1:0");
    sn_shape s = sn_tensor_shape(p[1]);
    assert_true(s.rank == 4 && s.dims[0] == -1 && s.dims[1] == 5 && s.dims[3] == 2);
    assert_int_equal(sn_split(g, x, 3, 2, p, NULL), SN_OK);
    assert_string_equal(sn_tensor_name(p[2]), "split_1/2:0");
    assert_int_equal(sn_split(g, x, 4, 0, p, NULL), SN_OK); /* the batch: checked at run */
    assert_int_equal(sn_tensor_shape(p[3]).dims[0], -1);
    SN_WITH_NAME_SCOPE(g, "block") { assert_int_equal(sn_split(g, x, 1, 1, p, "halves"), SN_OK); }
    assert_string_equal(sn_tensor_name(p[0]), "block/halves/0:0");
    const size_t ops = sn_graph_op_count(g);

    p[0] = x;
    assert_int_equal(sn_split(g, x, 3, 3, p, NULL), SN_ERR_INVALID_ARGUMENT);
    assert_null(p[0]);
    expect_error(g, SN_ERR_INVALID_ARGUMENT,
                 "Split split_3: dimension 3 (4) does not split into 3 equal pieces (inputs: x:0 "
                 "(?, 5, 6, 4))");
    assert_int_equal(sn_split(g, x, 2, 4, p, "s"), SN_ERR_INVALID_ARGUMENT);
    expect_error(g, SN_ERR_INVALID_ARGUMENT, "Split s: axis 4 is out of range for rank 4");
    assert_int_equal(sn_split(g, x, 2, -5, p, NULL), SN_ERR_INVALID_ARGUMENT);
    expect_error(g, SN_ERR_INVALID_ARGUMENT, "axis -5 is out of range for rank 4");
    assert_int_equal(sn_split(g, x, 0, 1, p, NULL), SN_ERR_INVALID_ARGUMENT);
    expect_error(g, SN_ERR_INVALID_ARGUMENT, "count 0 is not in [1, 1024]");
    assert_int_equal(sn_split(g, x, 2, 1, NULL, NULL), SN_ERR_INVALID_ARGUMENT);
    expect_error(g, SN_ERR_INVALID_ARGUMENT, "outputs is NULL");
    assert_int_equal(sn_split(g, NULL, 2, 1, p, NULL), SN_ERR_INVALID_ARGUMENT);
    expect_error(g, SN_ERR_INVALID_ARGUMENT, "Split: input 0 is NULL");
    assert_int_equal(sn_split_sizes(g, x, NULL, 2, 1, p, NULL), SN_ERR_INVALID_ARGUMENT);
    expect_error(g, SN_ERR_INVALID_ARGUMENT, "Split split_3: sizes is NULL");
    assert_int_equal(sn_split_sizes(g, x, (int64_t[]){2, 2}, 2, 1, p, NULL),
                     SN_ERR_INVALID_ARGUMENT);
    expect_error(g, SN_ERR_INVALID_ARGUMENT, "the sizes add up to 4, dimension 1 is 5");
    assert_int_equal(sn_split_sizes(g, x, (int64_t[]){2, -1, 4}, 3, 1, p, NULL),
                     SN_ERR_INVALID_ARGUMENT);
    expect_error(g, SN_ERR_INVALID_ARGUMENT, "the sizes add up to 6 and a -1, dimension 1 is 5");
    assert_int_equal(sn_split_sizes(g, x, (int64_t[]){-1, 2, -1}, 3, 1, p, NULL),
                     SN_ERR_INVALID_ARGUMENT);
    expect_error(g, SN_ERR_INVALID_ARGUMENT, "sizes[0] and sizes[2] are both -1");
    assert_int_equal(sn_split_sizes(g, x, (int64_t[]){7, -2}, 2, 1, p, NULL),
                     SN_ERR_INVALID_ARGUMENT);
    expect_error(g, SN_ERR_INVALID_ARGUMENT, "sizes[1] = -2: a size is >= 0");
    assert_int_equal(sn_split_sizes(g, x, (int64_t[]){INT64_MAX, 1}, 2, 0, p, NULL),
                     SN_ERR_INVALID_ARGUMENT);
    expect_error(g, SN_ERR_INVALID_ARGUMENT, "sizes[1] = 1: a size is >= 0");
    assert_int_equal(sn_split(g, x, 2, 1, p, "bad name"), SN_ERR_INVALID_ARGUMENT);
    sn_graph_clear_error(g);
    assert_int_equal(sn_graph_op_count(g), ops);
    /* sticky: a failed graph builds nothing */
    assert_null(sn_transpose(g, x, (int[]){0, 1, 2, 5}, 4, NULL));
    assert_int_equal(sn_split(g, x, 2, 3, p, NULL), SN_ERR_INVALID_ARGUMENT);
    assert_null(p[0]);
    sn_graph_clear_error(g);
    assert_int_equal(sn_split(g, x, 2, 3, p, NULL), SN_OK);
    assert_string_equal(sn_tensor_name(p[0]), "split_3/0:0");
    sn_graph_destroy(g);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_transpose_builder),
        cmocka_unit_test(test_split_builder),
        cmocka_unit_test(test_transpose_ranks),
        cmocka_unit_test(test_transpose_kinds),
        cmocka_unit_test(test_transpose_unknown_batch),
        cmocka_unit_test(test_split_ranks),
        cmocka_unit_test(test_split_kinds),
        cmocka_unit_test(test_split_sizes),
        cmocka_unit_test(test_split_run_error),
        cmocka_unit_test(test_channel_shuffle),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
