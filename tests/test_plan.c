/* The memory plan (src/compile/memory.c): a reshape's output is a view of
 * its input (no copy), an elementwise op writes over an input that dies
 * there, a concat's producers write into their parts of its output, a
 * split's pieces of the channels stay in their input, and
 * each op's workspace is planned in the arena, its bytes shared with the
 * workspaces and tensors of other moments. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/kernels.h"
#include "scopenn.h"

static void fill(float *x, size_t n, unsigned seed) {
    for (size_t i = 0; i < n; i++) {
        seed = seed * 1103515245u + 12345u;
        x[i] = (float)((seed >> 9) & 0xffff) / 32768.0f - 1.0f;
    }
}

static size_t slot(size_t floats) { return (floats * 4 + 63) / 64 * 64; }

static sn_session *session(sn_graph *g, sn_tensor *const *fetches, size_t n) {
    sn_session *s = sn_session_create(g, fetches, n, &(sn_session_options){.threads = 1});
    if (!s) fail_msg("%s", sn_graph_error(g));
    return s;
}

/* x -> relu -> reshape -> reshape -> softmax: both reshapes share relu's
 * bytes, fetched or not; a reshape of a feed copies it (its memory is the
 * caller's). */
static void test_reshape_copies_nothing(void **state) {
    (void)state;
    sn_graph *g = sn_graph_create(NULL);
    sn_tensor *x = sn_placeholder(g, "x", SN_SHAPE(2, 4, 4, 3));
    sn_tensor *r = sn_relu(g, x, NULL);
    sn_tensor *flat = sn_reshape(g, r, SN_SHAPE(2, -1), NULL);
    sn_tensor *back = sn_reshape(g, flat, SN_SHAPE(6, 16), NULL);
    sn_tensor *sm = sn_softmax(g, back, NULL);
    sn_tensor *fed = sn_reshape(g, x, SN_SHAPE(96), NULL);
    sn_session *s = session(g, SN_FETCH(r, flat, back, sm, fed));
    sn_session_stats st;
    sn_session_stats_get(s, &st);
    assert_int_equal(st.views, 2);
    /* relu's buffer (holding both reshapes), softmax's, and the copy of the
     * feed */
    assert_int_equal(st.arena_bytes, 3 * slot(96));
    float in[96];
    fill(in, 96, 3);
    sn_output out[5];
    sn_feed feed = {x, in, SN_SHAPE(2, 4, 4, 3)};
    assert_int_equal(sn_session_run(s, &feed, 1, out), SN_OK);
    assert_ptr_equal(out[1].data, out[0].data);
    assert_ptr_equal(out[2].data, out[0].data);
    assert_ptr_not_equal(out[4].data, in);
    assert_int_equal(out[1].shape.rank, 2);
    assert_int_equal(out[1].shape.dims[1], 48);
    for (int i = 0; i < 96; i++) {
        assert_true(out[0].data[i] == (in[i] > 0 ? in[i] : 0));
        assert_true(out[4].data[i] == in[i]);
    }
    for (int row = 0; row < 6; row++) {
        double sum = 0;
        for (int j = 0; j < 16; j++) sum += out[3].data[row * 16 + j];
        assert_true(fabs(sum - 1) < 1e-5);
    }
    sn_session_destroy(s);
    sn_graph_destroy(g);
}

/* matmul -> sigmoid -> tanh: the sigmoid folds into the matmul's node,
 * and the tanh writes over that node's output, which dies there: one
 * buffer for the three. Fetching the matmul too keeps it alive and its
 * own: then the sigmoid takes a buffer of its own, and the tanh runs in
 * place over it. */
static void test_elementwise_in_place(void **state) {
    (void)state;
    enum { M = 8, K = 16, N = 32 };
    for (int keep = 0; keep < 2; keep++) {
        sn_graph *g = sn_graph_create(&(sn_graph_options){.seed = 1});
        sn_tensor *x = sn_placeholder(g, "x", SN_SHAPE(M, K));
        sn_variable *w = sn_get_variable(g, "w", SN_SHAPE(K, N), sn_glorot_uniform_initializer());
        sn_tensor *mm = sn_matmul(g, x, sn_var(g, w), false, false, NULL);
        sn_tensor *y = sn_tanh(g, sn_sigmoid(g, mm, NULL), NULL);
        sn_session *s = keep ? session(g, SN_FETCH(y, mm)) : session(g, SN_FETCH(y));
        sn_session_stats st;
        sn_session_stats_get(s, &st);
        assert_int_equal(st.views, 1);
        assert_int_equal(st.fused, keep ? 0 : 1);
        assert_int_equal(st.arena_bytes, (keep ? 2 : 1) * slot(M * N) + st.workspace_bytes);
        float in[M * K];
        fill(in, M * K, 5);
        sn_output out[2];
        sn_feed feed = {x, in, SN_SHAPE(M, K)};
        assert_int_equal(sn_session_run(s, &feed, 1, out), SN_OK);
        const float *wv = sn_variable_value(w);
        for (int i = 0; i < M; i++)
            for (int j = 0; j < N; j++) {
                double acc = 0;
                for (int k = 0; k < K; k++) acc += (double)in[i * K + k] * wv[k * N + j];
                const double want = tanh(1 / (1 + exp(-acc)));
                assert_true(fabs(out[0].data[i * N + j] - want) < 1e-5);
                if (keep) assert_true(fabs(out[1].data[i * N + j] - acc) < 1e-4);
            }
        sn_session_destroy(s);
        sn_graph_destroy(g);
    }
}

/* AddN keeps its inputs' pointers in a workspace of the arena, on every
 * kernel set: the arena is its output and that workspace. */
static void test_add_n_workspace(void **state) {
    (void)state;
    sn_graph *g = sn_graph_create(NULL);
    sn_tensor *in[3];
    in[0] = sn_placeholder(g, "a", SN_SHAPE(2, 3));
    in[1] = sn_placeholder(g, "b", SN_SHAPE(2, 3));
    in[2] = sn_placeholder(g, "c", SN_SHAPE(2, 3));
    sn_tensor *sum = sn_add_n(g, in, 3, NULL);
    sn_session *s = session(g, SN_FETCH(sum));
    sn_session_stats st;
    sn_session_stats_get(s, &st);
    assert_int_equal(st.workspace_bytes, 3 * sizeof(float *));
    assert_int_equal(st.arena_bytes, slot(6) + 64);
    float a[6] = {1, 2, 3, 4, 5, 6}, b[6] = {10, 20, 30, 40, 50, 60}, c[6] = {-1, -1, -1, 1, 1, 1};
    sn_feed feeds[3] = {
        {in[0], a, SN_SHAPE(2, 3)}, {in[1], b, SN_SHAPE(2, 3)}, {in[2], c, SN_SHAPE(2, 3)}};
    sn_output out;
    assert_int_equal(sn_session_run(s, feeds, 3, &out), SN_OK);
    for (int i = 0; i < 6; i++) assert_true(out.data[i] == a[i] + b[i] + c[i]);
    sn_session_destroy(s);
    sn_graph_destroy(g);
}

/* Two Winograd convs one after the other: their workspaces (each thread's
 * V and M) take the same bytes of the arena, at different moments. */
static void test_winograd_workspaces_share_bytes(void **state) {
    (void)state;
    enum { H = 8, W = 8, C = 16 };
    for (int threads = 1; threads <= 2; threads++) {
        sn_graph *g = sn_graph_create(&(sn_graph_options){.seed = 2});
        sn_tensor *x = sn_placeholder(g, "x", SN_SHAPE(1, H, W, C));
        sn_tensor *y = x;
        for (int i = 0; i < 2; i++) {
            char name[8] = {'w', (char)('0' + i), 0};
            sn_variable *w =
                sn_get_variable(g, name, SN_SHAPE(3, 3, C, C), sn_glorot_uniform_initializer());
            y = sn_conv2d(g, y, sn_var(g, w), SN_STRIDES(1, 1), SN_PADDING_SAME, NULL);
        }
        sn_tensor *f[1] = {y};
        sn_session *fast = sn_session_create(g, f, 1, &(sn_session_options){.threads = threads});
        sn_session *direct = sn_session_create(
            g, f, 1, &(sn_session_options){.threads = threads, .direct_conv = true});
        assert_non_null(fast);
        assert_non_null(direct);
        sn_session_stats st;
        sn_session_stats_get(fast, &st);
        if (st.winograd == 2) {
            assert_true(st.workspace_bytes >= (size_t)threads * 36 * C * 4);
            assert_int_equal(st.arena_bytes % 64, 0);
            /* one workspace's bytes, half a page in (compile/memory.c),
             * then the two tensors */
            const size_t ws = 2048 + (st.workspace_bytes + 63) / 64 * 64;
            assert_int_equal(st.arena_bytes, ws + 2 * slot(H * W * C));
        } else {
            assert_int_equal(sn_cpu_isa(), SN_ISA_SCALAR); /* no transforms: direct */
        }
        float in[H * W * C];
        fill(in, H * W * C, 9);
        sn_feed feed = {x, in, SN_SHAPE(1, H, W, C)};
        sn_output a, b;
        assert_int_equal(sn_session_run(fast, &feed, 1, &a), SN_OK);
        assert_int_equal(sn_session_run(direct, &feed, 1, &b), SN_OK);
        for (int i = 0; i < H * W * C; i++) assert_true(fabsf(a.data[i] - b.data[i]) < 1e-4f);
        sn_session_destroy(fast);
        sn_session_destroy(direct);
        sn_graph_destroy(g);
    }
}

/* Concat along the channels: the conv producers write their parts of the
 * output in place (a direct conv, and a 1x1 conv with its bias and relu
 * fused); a relu's output, the feed itself and the second use of a tensor
 * are copied. The result is bit for bit the one with every part fetched
 * (so none is written in place), on 1 and 2 threads. */
static void test_concat_channels_in_place(void **state) {
    (void)state;
    enum { N = 2, H = 6, W = 5, C = 8, A = 16, B = 12 };
    for (int threads = 1; threads <= 2; threads++) {
        sn_graph *g = sn_graph_create(&(sn_graph_options){.seed = 3});
        sn_tensor *x = sn_placeholder(g, "x", SN_SHAPE(-1, H, W, C));
        sn_variable *wa =
            sn_get_variable(g, "wa", SN_SHAPE(3, 3, C, A), sn_glorot_uniform_initializer());
        sn_variable *wb =
            sn_get_variable(g, "wb", SN_SHAPE(1, 1, C, B), sn_glorot_uniform_initializer());
        sn_variable *bb =
            sn_get_variable(g, "bb", SN_SHAPE(B), sn_random_uniform_initializer(-1, 1));
        sn_tensor *a = sn_conv2d(g, x, sn_var(g, wa), SN_STRIDES(1, 1), SN_PADDING_SAME, NULL);
        sn_tensor *b = sn_relu(
            g,
            sn_bias_add(g, sn_conv2d(g, x, sn_var(g, wb), SN_STRIDES(1, 1), SN_PADDING_SAME, NULL),
                        sn_var(g, bb), NULL),
            NULL);
        sn_tensor *c = sn_relu(g, x, NULL);
        sn_tensor *parts[5] = {a, b, c, x, c};
        sn_tensor *cat = sn_concat(g, parts, 5, -1, NULL);
        assert_non_null(cat);
        assert_string_equal(sn_tensor_op_name(cat), "concat");
        assert_string_equal(sn_tensor_op_type(cat), "ConcatV2");
        const sn_session_options o = {.threads = threads, .max_batch = N};
        sn_session *s = sn_session_create(g, SN_FETCH(cat), &o);
        sn_session *all = sn_session_create(g, SN_FETCH(cat, a, b, c), &o);
        assert_non_null(s);
        assert_non_null(all);
        sn_session_stats st;
        sn_session_stats_get(s, &st);
        const bool simd = sn_kernels_for(st.isa)->conv.tile != NULL;
        assert_int_equal(st.views, simd ? 2 : 0);
        sn_session_stats_get(all, &st);
        assert_int_equal(st.views, 0);
        float in[N * H * W * C];
        fill(in, N * H * W * C, 11);
        sn_feed feed = {x, in, SN_SHAPE(N, H, W, C)};
        sn_output one, four[4];
        assert_int_equal(sn_session_run(s, &feed, 1, &one), SN_OK);
        assert_int_equal(sn_session_run(all, &feed, 1, four), SN_OK);
        const int K = A + B + 3 * C;
        assert_int_equal(one.shape.dims[3], K);
        assert_memory_equal(one.data, four[0].data, sizeof(float) * N * H * W * K);
        for (int p = 0; p < N * H * W; p++) {
            const float *row = one.data + p * K;
            for (int k = 0; k < A; k++) assert_true(row[k] == four[1].data[p * A + k]);
            for (int k = 0; k < B; k++) assert_true(row[A + k] == four[2].data[p * B + k]);
            for (int k = 0; k < C; k++) {
                assert_true(row[A + B + k] == four[3].data[p * C + k]);
                assert_true(row[A + B + C + k] == in[p * C + k]);
                assert_true(row[A + B + 2 * C + k] == four[3].data[p * C + k]);
            }
        }
        /* a smaller batch: the parts keep their places */
        feed.shape.dims[0] = 1;
        assert_int_equal(sn_session_run(s, &feed, 1, &one), SN_OK);
        assert_int_equal(sn_session_run(all, &feed, 1, four), SN_OK);
        assert_int_equal(one.shape.dims[0], 1);
        assert_memory_equal(one.data, four[0].data, sizeof(float) * H * W * K);
        sn_session_destroy(s);
        sn_session_destroy(all);
        sn_graph_destroy(g);
    }
}

/* Concat along an axis with only 1s before it: every part is contiguous,
 * so any producer writes it in place, a concat's output included (a concat
 * of concats); a matmul reads the result. */
static void test_concat_contiguous_parts(void **state) {
    (void)state;
    sn_graph *g = sn_graph_create(&(sn_graph_options){.seed = 4});
    sn_tensor *x = sn_placeholder(g, "x", SN_SHAPE(1, 12));
    sn_tensor *r = sn_relu(g, x, NULL), *t = sn_tanh(g, x, NULL), *sg = sn_sigmoid(g, x, NULL);
    sn_tensor *inner[2] = {r, t};
    sn_tensor *rt = sn_concat(g, inner, 2, 1, NULL);
    sn_tensor *outer[2] = {rt, sg};
    sn_tensor *cat = sn_concat(g, outer, 2, -1, NULL);
    sn_variable *w = sn_get_variable(g, "w", SN_SHAPE(36, 5), sn_glorot_uniform_initializer());
    sn_tensor *y = sn_matmul(g, cat, sn_var(g, w), false, false, NULL);
    sn_tensor *single = sn_concat(g, &sg, 1, 0, NULL);
    sn_session *s = session(g, SN_FETCH(y, single));
    sn_session_stats st;
    sn_session_stats_get(s, &st);
    /* r, t and sg in the outer concat's buffer, rt too, and the concat of
     * one tensor is that tensor: sg is read twice, so it is copied */
    assert_int_equal(st.views, 4);
    float in[12];
    fill(in, 12, 13);
    sn_feed feed = {x, in, SN_SHAPE(1, 12)};
    sn_output out[2];
    assert_int_equal(sn_session_run(s, &feed, 1, out), SN_OK);
    const float *wv = sn_variable_value(w);
    for (int j = 0; j < 5; j++) {
        double acc = 0;
        for (int k = 0; k < 36; k++) {
            const float v = in[k % 12];
            const double z = k < 12 ? (v > 0 ? v : 0) : k < 24 ? tanh(v) : 1 / (1 + exp(-v));
            acc += z * wv[k * 5 + j];
        }
        assert_true(fabs(out[0].data[j] - acc) < 1e-5);
    }
    for (int k = 0; k < 12; k++) assert_true(fabs(out[1].data[k] - 1 / (1 + exp(-in[k]))) < 1e-6);
    sn_session_destroy(s);
    sn_graph_destroy(g);
}

/* A part with an unknown batch (-1) beside one with a batch of 1: the
 * output's batch is 1, and a run of a larger batch is refused by the
 * concat only after the part's producer ran. So no such part is in the
 * output, where its producer would write past its place and the buffer
 * (fuzz_graph's concat-unknown-batch-beside-1-*): neither a contiguous
 * one (a relu, along axis 1 of [1, n]) nor one along channels (a direct
 * conv). A run of batch 1 concatenates them. */
static void test_concat_unknown_batch_beside_1(void **state) {
    (void)state;
    enum { K = 40, H = 4, W = 4, C = 3, O = 5 };
    sn_graph *g = sn_graph_create(&(sn_graph_options){.seed = 5});
    sn_tensor *x = sn_placeholder(g, "x", SN_SHAPE(-1, K));
    sn_variable *v = sn_get_variable(g, "v", SN_SHAPE(1, 3), sn_random_uniform_initializer(-1, 1));
    sn_tensor *rv[2] = {sn_relu(g, x, NULL), sn_var(g, v)};
    sn_tensor *flat = sn_concat(g, rv, 2, 1, NULL);
    sn_tensor *im = sn_placeholder(g, "im", SN_SHAPE(-1, H, W, C));
    sn_variable *w = sn_get_variable(g, "w", SN_SHAPE(3, 3, C, O), sn_glorot_uniform_initializer());
    sn_variable *u =
        sn_get_variable(g, "u", SN_SHAPE(1, H, W, 2), sn_random_uniform_initializer(-1, 1));
    sn_tensor *conv = sn_conv2d(g, im, sn_var(g, w), SN_STRIDES(1, 1), SN_PADDING_SAME, NULL);
    sn_tensor *cu[2] = {conv, sn_var(g, u)};
    sn_tensor *image = sn_concat(g, cu, 2, -1, NULL);
    assert_int_equal(sn_tensor_shape(flat).dims[0], 1);
    assert_int_equal(sn_tensor_shape(image).dims[0], 1);
    const sn_session_options o = {.threads = 1, .max_batch = 3};
    sn_session *s = sn_session_create(g, SN_FETCH(flat, image), &o);
    sn_session *ref = sn_session_create(g, SN_FETCH(conv), &o);
    assert_non_null(s);
    assert_non_null(ref);
    sn_session_stats st;
    sn_session_stats_get(s, &st);
    assert_int_equal(st.views, 0);
    float in[3 * K], pixels[3 * H * W * C];
    fill(in, 3 * K, 17);
    fill(pixels, 3 * H * W * C, 19);
    sn_feed feeds[2] = {{x, in, SN_SHAPE(3, K)}, {im, pixels, SN_SHAPE(3, H, W, C)}};
    sn_output out[2], y;
    assert_int_equal(sn_session_run(s, feeds, 2, out), SN_ERR_SHAPE_MISMATCH);
    feeds[0].shape.dims[0] = 1, feeds[1].shape.dims[0] = 1;
    assert_int_equal(sn_session_run(s, feeds, 2, out), SN_OK);
    assert_int_equal(sn_session_run(ref, &feeds[1], 1, &y), SN_OK);
    const float *vv = sn_variable_value(v), *uv = sn_variable_value(u);
    for (int k = 0; k < K; k++) assert_true(out[0].data[k] == (in[k] > 0 ? in[k] : 0));
    for (int k = 0; k < 3; k++) assert_true(out[0].data[K + k] == vv[k]);
    for (int p = 0; p < H * W; p++) {
        for (int c = 0; c < O; c++) assert_true(out[1].data[p * (O + 2) + c] == y.data[p * O + c]);
        for (int c = 0; c < 2; c++) assert_true(out[1].data[p * (O + 2) + O + c] == uv[p * 2 + c]);
    }
    sn_session_destroy(s);
    sn_session_destroy(ref);
    sn_graph_destroy(g);
}

/* A split's pieces of the channels stay in their input when only a 1x1
 * conv and a concat read them (no copy), and the concat of the first
 * piece with a branch over the second (ShuffleNet's unit) takes the
 * input's buffer: the branch's last conv writes over the second piece
 * once its first conv has read it. Where another op still reads the
 * buffer, or a piece is not at its own part, or an op needs a piece
 * dense, the plan copies instead. Every variant gives the bits of the
 * session that fetches each value (so none is in another's memory), on
 * 1 and 2 threads and for a smaller batch than planned. */
/* A 1x1 conv's filter [1, 1, in, out], variable number *count. */
static sn_tensor *pointwise_filter(sn_graph *g, int *count, int64_t in, int64_t out) {
    char name[16];
    snprintf(name, sizeof name, "w%d", (*count)++);
    return sn_var(
        g, sn_get_variable(g, name, SN_SHAPE(1, 1, in, out), sn_glorot_uniform_initializer()));
}

enum { SU_N = 2, SU_H = 5, SU_W = 7, SU_C = 12 };

struct unit {
    sn_graph *g;
    sn_tensor *x, *y, *pieces[2], *b, *q, *cat, *out, *late;
};

/* variant 0: the unit; 1: y is read again after the concat; 2: the
 * concat takes (q, first piece); 3: a sigmoid reads the second piece too
 * (dense); 4: a 1x1 conv reads it again after the branch (strided). */
static struct unit build_unit(int variant) {
    struct unit u = {.g = sn_graph_create(&(sn_graph_options){.seed = 5})};
    sn_graph *g = u.g;
    const int half = SU_C / 2;
    u.x = sn_placeholder(g, "x", SN_SHAPE(-1, SU_H, SU_W, SU_C));
    u.y = sn_relu(g, u.x, NULL);
    assert_int_equal(sn_split(g, u.y, 2, -1, u.pieces, NULL), SN_OK);
    int vars = 0;
    sn_tensor *w1 = pointwise_filter(g, &vars, half, half),
              *w2 = pointwise_filter(g, &vars, half, half);
    sn_variable *b1 =
        sn_get_variable(g, "b1", SN_SHAPE(half), sn_random_uniform_initializer(-1, 1));
    u.b = sn_relu(
        g,
        sn_bias_add(g, sn_conv2d(g, u.pieces[1], w1, SN_STRIDES(1, 1), SN_PADDING_VALID, NULL),
                    sn_var(g, b1), NULL),
        NULL);
    u.q = sn_relu(g, sn_conv2d(g, u.b, w2, SN_STRIDES(1, 1), SN_PADDING_VALID, NULL), NULL);
    sn_tensor *parts[2] = {u.pieces[0], u.q};
    if (variant == 2) parts[0] = u.q, parts[1] = u.pieces[0];
    u.cat = sn_concat(g, parts, 2, -1, NULL);
    u.out = u.cat;
    if (variant == 1) u.out = sn_add(g, u.cat, u.y, NULL);
    if (variant == 3) u.late = sn_sigmoid(g, u.pieces[1], NULL);
    if (variant == 4)
        u.late = sn_conv2d(g, u.pieces[1], w1, SN_STRIDES(1, 1), SN_PADDING_VALID, NULL);
    assert_non_null(u.out);
    return u;
}

static void test_split_pieces_in_place(void **state) {
    (void)state;
    /* views in the plan of the session fetching only the result (and
     * `late`): pieces, q in the concat, the concat in y; variant 3's
     * sigmoid writes over its copy of the second piece */
    static const size_t views[5] = {4, 3, 3, 4, 3};
    for (int variant = 0; variant < 5; variant++)
        for (int threads = 1; threads <= 2; threads++) {
            struct unit u = build_unit(variant);
            const sn_session_options o = {.threads = threads, .max_batch = SU_N};
            sn_tensor *few[2] = {u.out, u.late};
            sn_tensor *all[8] = {
                u.out, u.late ? u.late : u.y, u.y, u.pieces[0], u.pieces[1], u.b, u.q, u.cat};
            sn_session *s = sn_session_create(u.g, few, u.late ? 2 : 1, &o);
            sn_session *ref = sn_session_create(u.g, all, 8, &o);
            if (!s || !ref) fail_msg("%s", sn_graph_error(u.g));
            sn_session_stats st;
            sn_session_stats_get(s, &st);
            const bool simd = sn_kernels_for(st.isa)->conv.tile != NULL;
            if (simd) assert_int_equal(st.views, views[variant]);
            float in[SU_N * SU_H * SU_W * SU_C];
            fill(in, SU_N * SU_H * SU_W * SU_C, 17 + variant);
            for (int n = SU_N; n >= 1; n--) {
                sn_feed feed = {u.x, in, SN_SHAPE(n, SU_H, SU_W, SU_C)};
                sn_output got[2], want[8];
                assert_int_equal(sn_session_run(s, &feed, 1, got), SN_OK);
                assert_int_equal(sn_session_run(ref, &feed, 1, want), SN_OK);
                const size_t floats = (size_t)n * SU_H * SU_W * SU_C;
                assert_int_equal(got[0].shape.dims[0], n);
                assert_memory_equal(got[0].data, want[0].data, floats * sizeof(float));
                if (u.late)
                    assert_memory_equal(got[1].data, want[1].data, floats / 2 * sizeof(float));
                /* and the reference is the unit: the first piece passes */
                const int at = variant == 2 ? SU_C / 2 : 0;
                for (size_t p = 0; p < floats / SU_C; p++)
                    for (int c = 0; c < SU_C / 2; c++)
                        assert_true(want[7].data[p * SU_C + at + c] ==
                                    fmaxf(in[p * SU_C + c], 0.0f));
            }
            sn_session_destroy(s);
            sn_session_destroy(ref);
            sn_graph_destroy(u.g);
        }
}

/* Parts the concat copies, large enough to be shared among the threads
 * by rows (a relu's output, and a split's piece read with its pixel
 * stride): the same bits on 1 and 2 threads as the parts fetched. */
static void test_concat_copies_large_parts(void **state) {
    (void)state;
    enum { H = 48, W = 40, C = 20 };
    for (int threads = 1; threads <= 2; threads++) {
        sn_graph *g = sn_graph_create(NULL);
        sn_tensor *x = sn_placeholder(g, "x", SN_SHAPE(1, H, W, C));
        sn_tensor *pieces[2], *r = sn_relu(g, x, NULL);
        assert_int_equal(sn_split_sizes(g, sn_sigmoid(g, x, NULL), (const int64_t[]){6, 14}, 2, -1,
                                        pieces, NULL),
                         SN_OK);
        sn_tensor *parts[3] = {pieces[1], r, pieces[0]};
        sn_tensor *cat = sn_concat(g, parts, 3, -1, NULL);
        const sn_session_options o = {.threads = threads};
        sn_session *s = sn_session_create(g, SN_FETCH(cat), &o);
        sn_session *ref = sn_session_create(g, SN_FETCH(r, pieces[0], pieces[1]), &o);
        if (!s || !ref) fail_msg("%s", sn_graph_error(g));
        float in[H * W * C];
        fill(in, H * W * C, 23);
        sn_feed feed = {x, in, SN_SHAPE(1, H, W, C)};
        sn_output got, want[3];
        assert_int_equal(sn_session_run(s, &feed, 1, &got), SN_OK);
        assert_int_equal(sn_session_run(ref, &feed, 1, want), SN_OK);
        for (int p = 0; p < H * W; p++) {
            const float *row = got.data + p * 2 * C;
            assert_memory_equal(row, want[2].data + p * 14, 14 * sizeof(float));
            assert_memory_equal(row + 14, want[0].data + p * C, C * sizeof(float));
            assert_memory_equal(row + 14 + C, want[1].data + p * 6, 6 * sizeof(float));
        }
        sn_session_destroy(s);
        sn_session_destroy(ref);
        sn_graph_destroy(g);
    }
}

/* A concat over a split's piece whose other part is itself a concat of
 * two 1x1 convs over the second piece (contiguous parts: a 1x1 image).
 * The first conv writes its part where the second piece lies while the
 * second conv has yet to read that piece, so the outer concat must not
 * take the pieces' buffer: the bits of the session fetching every value. */
static void test_concat_over_slice_nested_parts(void **state) {
    (void)state;
    enum { C = 8 };
    sn_graph *g = sn_graph_create(&(sn_graph_options){.seed = 9});
    sn_tensor *x = sn_placeholder(g, "x", SN_SHAPE(1, 1, 1, C));
    sn_tensor *p[2];
    assert_int_equal(sn_split(g, sn_relu(g, x, NULL), 2, -1, p, NULL), SN_OK);
    sn_tensor *w[3];
    int vars = 0;
    for (int k = 0; k < 3; k++) w[k] = pointwise_filter(g, &vars, C / 2, k < 2 ? C / 4 : C / 2);
    sn_tensor *q[2], *extra;
    for (int k = 0; k < 2; k++)
        q[k] = sn_conv2d(g, p[1], w[k], SN_STRIDES(1, 1), SN_PADDING_VALID, NULL);
    extra = sn_conv2d(g, p[0], w[2], SN_STRIDES(1, 1), SN_PADDING_VALID, NULL);
    sn_tensor *inner = sn_concat(g, q, 2, -1, NULL);
    sn_tensor *parts[2] = {p[0], inner};
    sn_tensor *out = sn_concat(g, parts, 2, -1, NULL);
    sn_session *s = sn_session_create(g, SN_FETCH(out, extra), NULL);
    sn_session *ref =
        sn_session_create(g, SN_FETCH(out, extra, p[0], p[1], q[0], q[1], inner), NULL);
    if (!s || !ref) fail_msg("%s", sn_graph_error(g));
    float in[C];
    fill(in, C, 29);
    sn_feed feed = {x, in, SN_SHAPE(1, 1, 1, C)};
    sn_output got[2], want[7];
    assert_int_equal(sn_session_run(s, &feed, 1, got), SN_OK);
    assert_int_equal(sn_session_run(ref, &feed, 1, want), SN_OK);
    assert_memory_equal(got[0].data, want[0].data, C * sizeof(float));
    assert_memory_equal(got[1].data, want[1].data, C / 2 * sizeof(float));
    sn_session_destroy(s);
    sn_session_destroy(ref);
    sn_graph_destroy(g);
}

/* Random chains of ShuffleNet-like units, each drawn from the cases the
 * plan must tell apart: pieces of random sizes, a branch of one or two
 * 1x1 convs (or a relu between them) over the second piece, the concat in
 * either order, another reader of a piece before or after the branch (a
 * strided 1x1 conv or a dense sigmoid), a value fetched midway, the
 * channel shuffle or not. Every fetched value has the bits of a session
 * that fetches every tensor, on 1 and 2 threads. */
struct rng {
    uint32_t s;
};
static int draw(struct rng *r, int n) { /* [0, n) */
    r->s = r->s * 1103515245u + 12345u;
    return (int)((r->s >> 8) % (uint32_t)n);
}

static void test_split_concat_random(void **state) {
    (void)state;
    enum { UNITS = 3, MAX_T = 64 };
    for (unsigned seed = 1; seed <= 60; seed++) {
        struct rng r = {seed};
        sn_graph *g = sn_graph_create(&(sn_graph_options){.seed = seed});
        const int n = 1 + draw(&r, 2), h = 1 + draw(&r, 5), w = 1 + draw(&r, 6);
        int c = 2 + 2 * draw(&r, 10);
        sn_tensor *x = sn_placeholder(g, "x", SN_SHAPE(-1, h, w, c));
        sn_tensor *all[MAX_T], *few[MAX_T];
        size_t nall = 0, nfew = 0;
        int vars = 0;
        sn_tensor *y = sn_relu(g, x, NULL);
        all[nall++] = y;
        for (int u = 0; u < UNITS; u++) {
            const int a = 1 + draw(&r, c - 1), b = c - a; /* the pieces */
            sn_tensor *p[2];
            assert_int_equal(sn_split_sizes(g, y, (const int64_t[]){a, b}, 2, -1, p, NULL), SN_OK);
            all[nall++] = p[0], all[nall++] = p[1];
            const int before = draw(&r, 4); /* 1: a conv over p0 first, 2: sigmoid p1 */
            if (before == 1 || before == 2) {
                sn_tensor *early = before == 2
                                       ? sn_sigmoid(g, p[1], NULL)
                                       : sn_conv2d(g, p[0], pointwise_filter(g, &vars, a, 3),
                                                   SN_STRIDES(1, 1), SN_PADDING_VALID, NULL);
                all[nall++] = few[nfew++] = early;
            }
            sn_tensor *q = p[1];
            const int convs = 1 + draw(&r, 2);
            for (int k = 0; k < convs; k++) {
                const int out = k + 1 == convs ? b : 1 + draw(&r, 8);
                q = sn_conv2d(g, q, pointwise_filter(g, &vars, sn_tensor_shape(q).dims[3], out),
                              SN_STRIDES(1, 1), SN_PADDING_VALID, NULL);
                if (draw(&r, 2)) q = sn_relu(g, q, NULL);
                all[nall++] = q;
            }
            const int after = draw(&r, 3); /* 1: a conv over p1 after the branch */
            if (after == 1) {
                sn_tensor *late = sn_conv2d(g, p[1], pointwise_filter(g, &vars, b, 2),
                                            SN_STRIDES(1, 1), SN_PADDING_VALID, NULL);
                all[nall++] = few[nfew++] = late;
            }
            sn_tensor *parts[2] = {p[0], q};
            if (draw(&r, 3) == 0) parts[0] = q, parts[1] = p[0];
            y = sn_concat(g, parts, 2, -1, NULL);
            all[nall++] = y;
            if (draw(&r, 5) == 0) few[nfew++] = y; /* fetched midway */
            if (c % 2 == 0 && draw(&r, 2)) {       /* the shuffle */
                sn_tensor *t = sn_reshape(g, y, SN_SHAPE(-1, 2, c / 2), NULL);
                t = sn_transpose(g, t, (const int[]){0, 2, 1}, 3, NULL);
                y = sn_reshape(g, t, SN_SHAPE(-1, h, w, c), NULL);
                all[nall++] = y;
            }
        }
        few[nfew++] = y;
        assert_true(nall <= 8 * UNITS + 1 && nfew <= 3 * UNITS + 1);
        if (!y) fail_msg("seed %u: %s", seed, sn_graph_error(g));
        for (int threads = 1; threads <= 2; threads++) {
            const sn_session_options o = {.threads = threads, .max_batch = 2};
            sn_session *s = sn_session_create(g, few, nfew, &o);
            sn_session *ref = sn_session_create(g, all, nall, &o);
            if (!s || !ref) fail_msg("seed %u: %s", seed, sn_graph_error(g));
            float in[2 * 5 * 6 * 20];
            fill(in, (size_t)n * h * w * c, seed);
            sn_feed feed = {x, in, SN_SHAPE(n, h, w, c)};
            sn_output got[MAX_T], want[MAX_T];
            assert_int_equal(sn_session_run(s, &feed, 1, got), SN_OK);
            assert_int_equal(sn_session_run(ref, &feed, 1, want), SN_OK);
            for (size_t i = 0; i < nfew; i++) {
                size_t j = 0;
                while (all[j] != few[i]) j++;
                size_t floats = 1;
                for (int d = 0; d < got[i].shape.rank; d++) floats *= (size_t)got[i].shape.dims[d];
                if (memcmp(got[i].data, want[j].data, floats * sizeof(float)) != 0)
                    fail_msg("seed %u, %d threads: fetch %zu differs", seed, threads, i);
            }
            sn_session_destroy(s);
            sn_session_destroy(ref);
        }
        sn_graph_destroy(g);
    }
}

/* A part whose unknown first dimension a reshape made from the batch and
 * other dimensions ([-1, 6] -> [-1, 1]: six rows a batch), beside a
 * placeholder's [-1, 4]: the output's planned rows fall back to
 * max_batch, fewer than the part's. So the part is not in the output
 * (fuzz_graph's concat-part-planned-larger: its matmul wrote past the
 * arena), and a run refuses the mismatch; a run whose rows agree (the
 * batch 0) goes through. */
static void test_concat_part_planned_larger(void **state) {
    (void)state;
    enum { N = 2, R = 6, K = 4 };
    sn_graph *g = sn_graph_create(&(sn_graph_options){.seed = 7});
    sn_tensor *x = sn_placeholder(g, "x", SN_SHAPE(-1, R));
    sn_tensor *p = sn_placeholder(g, "p", SN_SHAPE(-1, K));
    sn_variable *w = sn_get_variable(g, "w", SN_SHAPE(1, 3), sn_random_uniform_initializer(-1, 1));
    sn_tensor *rows = sn_reshape(g, sn_relu(g, x, NULL), SN_SHAPE(-1, 1), NULL);
    sn_tensor *parts[2] = {sn_matmul(g, rows, sn_var(g, w), false, false, NULL), p};
    sn_tensor *cat = sn_concat(g, parts, 2, -1, NULL);
    assert_non_null(cat);
    sn_session *s = sn_session_create(g, SN_FETCH(cat), &(sn_session_options){.max_batch = N});
    if (!s) fail_msg("%s", sn_graph_error(g));
    sn_session_stats st;
    sn_session_stats_get(s, &st);
    assert_int_equal(st.views, 1); /* the reshape's, not the matmul's part */
    float in[N * R] = {0}, pin[N * K] = {0};
    sn_feed feeds[2] = {{x, in, SN_SHAPE(N, R)}, {p, pin, SN_SHAPE(N, K)}};
    sn_output out;
    assert_int_equal(sn_session_run(s, feeds, 2, &out), SN_ERR_SHAPE_MISMATCH);
    feeds[0].shape.dims[0] = 0, feeds[1].shape.dims[0] = 0;
    assert_int_equal(sn_session_run(s, feeds, 2, &out), SN_OK);
    assert_int_equal(out.shape.dims[0], 0);
    assert_int_equal(out.shape.dims[1], 3 + K);
    sn_session_destroy(s);
    sn_graph_destroy(g);
}

static void test_concat_errors(void **state) {
    (void)state;
    sn_graph *g = sn_graph_create(NULL);
    sn_tensor *a = sn_placeholder(g, "a", SN_SHAPE(2, 3)),
              *b = sn_placeholder(g, "b", SN_SHAPE(3, 3));
    sn_tensor *v = sn_placeholder(g, "v", SN_SHAPE(3));
    sn_tensor *ab[2] = {a, b}, *av[2] = {a, v};
    assert_null(sn_concat(g, ab, 2, 1, NULL));
    assert_int_equal(sn_graph_status(g), SN_ERR_SHAPE_MISMATCH);
    assert_non_null(strstr(sn_graph_error(g), "value 1 differs from value 0 in dimension 0"));
    sn_graph_clear_error(g);
    assert_null(sn_concat(g, av, 2, 0, NULL));
    assert_non_null(strstr(sn_graph_error(g), "value 1 has rank 1"));
    sn_graph_clear_error(g);
    assert_null(sn_concat(g, ab, 2, 2, NULL));
    assert_non_null(strstr(sn_graph_error(g), "axis 2 is out of range for rank 2"));
    sn_graph_clear_error(g);
    assert_null(sn_concat(g, ab, 0, 0, NULL));
    assert_int_equal(sn_graph_status(g), SN_ERR_INVALID_ARGUMENT);
    sn_graph_clear_error(g);
    /* along axis 0 they fit: (5, 3); the failed calls took no name */
    sn_tensor *ok = sn_concat(g, ab, 2, -2, NULL);
    assert_non_null(ok);
    assert_string_equal(sn_tensor_name(ok), "concat:0");
    assert_int_equal(sn_tensor_shape(ok).dims[0], 5);
    sn_graph_destroy(g);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reshape_copies_nothing),
        cmocka_unit_test(test_elementwise_in_place),
        cmocka_unit_test(test_add_n_workspace),
        cmocka_unit_test(test_winograd_workspaces_share_bytes),
        cmocka_unit_test(test_concat_channels_in_place),
        cmocka_unit_test(test_concat_contiguous_parts),
        cmocka_unit_test(test_concat_unknown_batch_beside_1),
        cmocka_unit_test(test_concat_copies_large_parts),
        cmocka_unit_test(test_concat_over_slice_nested_parts),
        cmocka_unit_test(test_split_concat_random),
        cmocka_unit_test(test_concat_part_planned_larger),
        cmocka_unit_test(test_concat_errors),
        cmocka_unit_test(test_split_pieces_in_place),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
