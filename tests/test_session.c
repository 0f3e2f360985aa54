/* Sessions: the seeds' image filter end to end against a naive oracle,
 * fusion, shared packs (S23), repacking after assignment (S24), the arena
 * plan, allocation-free runs, threads, and feed errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/kernels.h"
#include "scopenn.h"

/* ---- a counting allocator, to prove that run allocates nothing ---------- */

static long allocations;
static void *c_allocate(void *u, size_t n) {
    (void)u;
    allocations++;
    return malloc(n);
}
static void *c_reallocate(void *u, void *p, size_t n) {
    (void)u;
    allocations++;
    return realloc(p, n);
}
static void c_free(void *u, void *p) {
    (void)u;
    free(p);
}
static void *c_allocate_aligned(void *u, size_t a, size_t n) {
    (void)u;
    allocations++;
    void *p = NULL;
    return posix_memalign(&p, a, n) == 0 ? p : NULL;
}
static const sn_allocator counting = {c_allocate,         c_reallocate, c_free,
                                      c_allocate_aligned, c_free,       NULL};

/* ---- the seeds' model ----------------------------------------------------- */

enum { H = 9, W = 7, C = 5 };

static sn_tensor *conv_relu(sn_graph *g, sn_tensor *in, int k, int c) {
    sn_variable *w =
        sn_get_variable(g, "weights", SN_SHAPE(k, k, c, c), sn_random_normal_initializer(0, 1));
    sn_variable *b =
        sn_get_variable(g, "biases", SN_SHAPE(c), sn_random_uniform_initializer(-1, 1));
    sn_tensor *conv = sn_conv2d(g, in, sn_var(g, w), SN_STRIDES(1, 1), SN_PADDING_SAME, NULL);
    return sn_relu(g, sn_add(g, conv, sn_var(g, b), NULL), NULL);
}

static sn_tensor *image_filter(sn_graph *g, sn_tensor *images) {
    sn_tensor *x = images;
    SN_WITH_VARIABLE_SCOPE(g, "conv1") x = conv_relu(g, x, 3, C);
    SN_WITH_VARIABLE_SCOPE(g, "conv2") x = conv_relu(g, x, 3, C);
    return x;
}

struct model {
    sn_graph *g;
    sn_tensor *image1, *image2, *r1, *r2;
};

static struct model build_model(void) {
    struct model m = {.g = sn_graph_create(&(sn_graph_options){.seed = 11})};
    m.image1 = sn_placeholder(m.g, "image1", SN_SHAPE(-1, H, W, C));
    m.image2 = sn_placeholder(m.g, "image2", SN_SHAPE(-1, H, W, C));
    SN_WITH_VARIABLE_SCOPE_AS(m.g, "image_filters", SN_REUSE_INHERIT, scope) {
        m.r1 = image_filter(m.g, m.image1);
        sn_scope_reuse_variables(scope);
        m.r2 = image_filter(m.g, m.image2);
    }
    if (sn_graph_status(m.g) != SN_OK) fail_msg("%s", sn_graph_error(m.g));
    return m;
}

/* The oracle: conv SAME (3x3, stride 1) + bias + relu, written directly. */
static void naive_layer(const float *in, const float *w, const float *b, float *out, int batch) {
    for (int n = 0; n < batch; n++)
        for (int y = 0; y < H; y++)
            for (int x = 0; x < W; x++)
                for (int o = 0; o < C; o++) {
                    double acc = b[o];
                    for (int dy = -1; dy <= 1; dy++)
                        for (int dx = -1; dx <= 1; dx++) {
                            if (y + dy < 0 || y + dy >= H || x + dx < 0 || x + dx >= W) continue;
                            for (int i = 0; i < C; i++)
                                acc += in[((n * H + y + dy) * W + x + dx) * C + i] *
                                       w[(((dy + 1) * 3 + dx + 1) * C + i) * C + o];
                        }
                    out[((n * H + y) * W + x) * C + o] = acc > 0 ? (float)acc : 0.0f;
                }
}

static void naive_filter(sn_graph *g, const float *in, float *out, int batch) {
    float mid[4 * H * W * C];
    const float *w1 = sn_variable_value(sn_graph_find_variable(g, "image_filters/conv1/weights"));
    const float *b1 = sn_variable_value(sn_graph_find_variable(g, "image_filters/conv1/biases"));
    const float *w2 = sn_variable_value(sn_graph_find_variable(g, "image_filters/conv2/weights"));
    const float *b2 = sn_variable_value(sn_graph_find_variable(g, "image_filters/conv2/biases"));
    naive_layer(in, w1, b1, mid, batch);
    naive_layer(mid, w2, b2, out, batch);
}

static void fill(float *x, size_t n, unsigned seed) {
    for (size_t i = 0; i < n; i++) {
        seed = seed * 1103515245u + 12345u;
        x[i] = (float)((seed >> 8) & 0xffff) / 32768.0f - 1.0f;
    }
}

static float max_abs_diff(const float *a, const float *b, size_t n) {
    float m = 0;
    for (size_t i = 0; i < n; i++) m = fmaxf(m, fabsf(a[i] - b[i]));
    return m;
}

static void test_image_filter_end_to_end(void **state) {
    (void)state;
    struct model m = build_model();
    assert_int_equal(sn_graph_variable_count(m.g), 4);
    sn_session *s = sn_session_create(m.g, SN_FETCH(m.r1, m.r2),
                                      &(sn_session_options){.threads = 1, .max_batch = 2});
    assert_non_null(s);
    sn_session_stats st;
    sn_session_stats_get(s, &st);
    assert_int_equal(st.packs_made, 4); /* S23: 4 tensors packed, not 8 */
    assert_int_equal(st.packs_reused, 4);
    assert_int_equal(st.ops, 4); /* conv + bias + relu: one kernel call each */
    assert_int_equal(st.fused, 8);
    /* the unique variables' bytes, plus block padding: out channels rounded
     * up to the kernel set's NR, and each pack to 64 bytes */
    const struct sn_kernels *k = sn_kernels_for(st.isa);
    size_t nr = k->conv.tile ? k->conv.nr : 1, unique_bytes = 0, padded_bytes = 0;
    for (size_t i = 0; i < 4; i++) {
        sn_variable *v = sn_graph_variable(m.g, i);
        size_t oc = (size_t)sn_variable_shape(v).dims[sn_variable_shape(v).rank - 1];
        unique_bytes += (size_t)sn_variable_size(v) * 4;
        padded_bytes +=
            ((size_t)sn_variable_size(v) / oc * ((oc + nr - 1) / nr * nr) * 4 + 63) / 64 * 64;
    }
    assert_true(st.packed_bytes >= unique_bytes && st.packed_bytes <= padded_bytes);
    /* four intermediates: two fetched (live to the end) and two mid-layer
     * tensors, the second reusing the first's slot; and the convs' padded
     * bands (a workspace each, the largest block, placed first, half a
     * page in (compile/memory.c): every tensor is live at a conv, so none
     * shares its bytes) */
    size_t slot = ((size_t)2 * H * W * C * 4 + 63) / 64 * 64;
    assert_true(st.workspace_bytes > 0 || !k->conv.tile);
    assert_int_equal(st.arena_bytes,
                     3 * slot + (st.workspace_bytes ? 2048 + st.workspace_bytes : 0));

    float a[2 * H * W * C], b[2 * H * W * C], want[2 * H * W * C];
    fill(a, sizeof a / 4, 1);
    fill(b, sizeof b / 4, 2);
    sn_feed feeds[2] = {{m.image1, a, SN_SHAPE(2, H, W, C)}, {m.image2, b, SN_SHAPE(1, H, W, C)}};
    sn_output out[2];
    assert_int_equal(sn_session_run(s, feeds, 2, out), SN_OK);
    assert_int_equal(out[0].shape.dims[0], 2);
    assert_int_equal(out[1].shape.dims[0], 1); /* batches may differ per feed and per run */
    naive_filter(m.g, a, want, 2);
    assert_true(max_abs_diff(out[0].data, want, 2 * H * W * C) < 1e-4f);
    naive_filter(m.g, b, want, 1);
    assert_true(max_abs_diff(out[1].data, want, H * W * C) < 1e-4f);
    sn_session_destroy(s);
    sn_graph_destroy(m.g);
}

static void test_assignment_repacks_once(void **state) {
    (void)state;
    struct model m = build_model();
    sn_session *s1 = sn_session_create(m.g, SN_FETCH(m.r1), NULL);
    sn_session *s2 = sn_session_create(m.g, SN_FETCH(m.r1, m.r2), NULL);
    sn_session_stats st;
    sn_session_stats_get(s2, &st);
    assert_int_equal(st.packs_made, 0); /* the graph's packs, made by s1 */
    assert_int_equal(st.packs_reused, 8);
    float img[H * W * C], want[H * W * C];
    fill(img, sizeof img / 4, 3);
    sn_feed feed = {m.image1, img, SN_SHAPE(1, H, W, C)};
    sn_output out[2];
    assert_int_equal(sn_session_run(s1, &feed, 1, out), SN_OK);
    /* S24: a new value for conv2/weights invalidates exactly its pack */
    sn_variable *w2 = sn_graph_find_variable(m.g, "image_filters/conv2/weights");
    float *scaled = malloc((size_t)sn_variable_size(w2) * 4);
    for (int64_t i = 0; i < sn_variable_size(w2); i++) scaled[i] = sn_variable_value(w2)[i] * 0.5f;
    assert_int_equal(sn_variable_assign(w2, scaled, sn_variable_size(w2)), SN_OK);
    free(scaled);
    sn_session_stats_get(s1, &st);
    size_t before = st.packs_made;
    assert_int_equal(sn_session_run(s1, &feed, 1, out), SN_OK);
    sn_session_stats_get(s1, &st);
    assert_int_equal(st.packs_made, before + 1);
    naive_filter(m.g, img, want, 1);
    assert_true(max_abs_diff(out[0].data, want, H * W * C) < 1e-4f);
    assert_int_equal(sn_session_run(s1, &feed, 1, out), SN_OK); /* once */
    sn_session_stats_get(s1, &st);
    assert_int_equal(st.packs_made, before + 1);
    sn_feed both[2] = {feed, {m.image2, img, SN_SHAPE(1, H, W, C)}};
    assert_int_equal(sn_session_run(s2, both, 2, out), SN_OK); /* s2 finds it repacked */
    sn_session_stats_get(s2, &st);
    assert_int_equal(st.packs_made, 0);
    assert_true(max_abs_diff(out[1].data, want, H * W * C) < 1e-4f);
    sn_session_destroy(s1);
    sn_session_destroy(s2);
    sn_graph_destroy(m.g);
}

static void test_run_allocates_nothing(void **state) {
    (void)state;
    assert_int_equal(sn_set_allocator(&counting), SN_OK);
    struct model m = build_model();
    sn_session *s = sn_session_create(m.g, SN_FETCH(m.r1, m.r2),
                                      &(sn_session_options){.threads = 2, .max_batch = 2});
    assert_non_null(s);
    float a[2 * H * W * C];
    fill(a, sizeof a / 4, 4);
    sn_feed feeds[2] = {{m.image1, a, SN_SHAPE(2, H, W, C)}, {m.image2, a, SN_SHAPE(1, H, W, C)}};
    sn_output out[2];
    assert_int_equal(sn_session_run(s, feeds, 2, out), SN_OK); /* warm: threads started */
    allocations = 0;
    for (int i = 0; i < 3; i++) assert_int_equal(sn_session_run(s, feeds, 2, out), SN_OK);
    feeds[0].shape.dims[0] = 7; /* an error path allocates nothing either */
    assert_int_equal(sn_session_run(s, feeds, 2, out), SN_ERR_SHAPE_MISMATCH);
    assert_int_equal(allocations, 0);
    sn_session_destroy(s);
    sn_graph_destroy(m.g);
    assert_int_equal(sn_set_allocator(NULL), SN_OK);
}

static void test_threads_give_identical_results(void **state) {
    (void)state;
    struct model m = build_model();
    float a[2 * H * W * C], first[2 * H * W * C];
    fill(a, sizeof a / 4, 5);
    for (int threads = 1; threads <= 4; threads++) {
        sn_session *s = sn_session_create(
            m.g, SN_FETCH(m.r1), &(sn_session_options){.threads = threads, .max_batch = 2});
        sn_feed feed = {m.image1, a, SN_SHAPE(2, H, W, C)};
        sn_output out;
        assert_int_equal(sn_session_run(s, &feed, 1, &out), SN_OK);
        if (threads == 1)
            memcpy(first, out.data, sizeof first);
        else
            assert_memory_equal(out.data, first, sizeof first);
        sn_session_destroy(s);
    }
    sn_graph_destroy(m.g);
}

/* More threads than the pool takes: a clear error, not thousands of
 * threads started. */
static void test_too_many_threads(void **state) {
    (void)state;
    struct model m = build_model();
    sn_session *s =
        sn_session_create(m.g, SN_FETCH(m.r1), &(sn_session_options){.threads = 1 << 20});
    assert_null(s);
    assert_int_equal(sn_graph_status(m.g), SN_ERR_INVALID_ARGUMENT);
    assert_non_null(strstr(sn_graph_error(m.g), "1048576 threads"));
    sn_graph_destroy(m.g);
}

static void test_feed_errors(void **state) {
    (void)state;
    struct model m = build_model();
    sn_session *s = sn_session_create(m.g, SN_FETCH(m.r1, m.r2),
                                      &(sn_session_options){.threads = 1, .max_batch = 2});
    float a[3 * H * W * C] = {0};
    sn_output out[2];
    sn_feed ok[2] = {{m.image1, a, SN_SHAPE(1, H, W, C)}, {m.image2, a, SN_SHAPE(1, H, W, C)}};
    sn_feed f[2];
    assert_int_equal(sn_session_run(s, ok, 1, out), SN_ERR_INVALID_ARGUMENT);
    assert_string_equal(sn_session_error(s), "placeholder image2:0 is not fed");
    memcpy(f, ok, sizeof f);
    f[1].shape = SN_SHAPE(1, H, W + 1, C);
    assert_int_equal(sn_session_run(s, f, 2, out), SN_ERR_SHAPE_MISMATCH);
    assert_non_null(
        strstr(sn_session_error(s),
               "the feed for image2:0 has shape (1, 9, 8, 5); the placeholder is (?, 9, 7, 5)"));
    f[1] = ok[1];
    f[0].shape.dims[0] = 3; /* above max_batch */
    assert_int_equal(sn_session_run(s, f, 2, out), SN_ERR_SHAPE_MISMATCH);
    assert_non_null(strstr(sn_session_error(s), "batch at most 2"));
    f[0] = ok[1];
    assert_int_equal(sn_session_run(s, f, 2, out), SN_ERR_INVALID_ARGUMENT);
    assert_string_equal(sn_session_error(s), "placeholder image2:0 is fed twice");
    memcpy(f, ok, sizeof f);
    f[0].data = NULL;
    assert_int_equal(sn_session_run(s, f, 2, out), SN_ERR_INVALID_ARGUMENT);
    assert_string_equal(sn_session_error(s), "the feed for image1:0 has no data (NULL)");
    f[0] = ok[0];
    f[0].placeholder = m.r1;
    assert_int_equal(sn_session_run(s, f, 2, out), SN_ERR_INVALID_ARGUMENT);
    assert_non_null(strstr(sn_session_error(s), "is not a placeholder this session reads"));
    assert_int_equal(sn_session_run(s, NULL, 2, out), SN_ERR_INVALID_ARGUMENT);
    assert_int_equal(sn_session_run(s, ok, 2, NULL), SN_ERR_INVALID_ARGUMENT);
    assert_int_equal(sn_session_run(NULL, ok, 2, out), SN_ERR_INVALID_ARGUMENT);
    /* errors are not sticky */
    assert_int_equal(sn_session_run(s, ok, 2, out), SN_OK);
    assert_string_equal(sn_session_error(s), "");
    /* bad sessions */
    assert_null(sn_session_create(m.g, NULL, 0, NULL));
    assert_int_equal(sn_graph_status(m.g), SN_ERR_INVALID_ARGUMENT);
    sn_graph_clear_error(m.g);
    sn_tensor *none[1] = {NULL};
    assert_null(sn_session_create(m.g, none, 1, NULL));
    sn_graph_clear_error(m.g);
    sn_session_destroy(s);
    sn_graph_destroy(m.g);
}

static void test_arena_holds_the_largest_adjacent_pair(void **state) {
    (void)state;
    sn_graph *g = sn_graph_create(NULL);
    sn_tensor *x = sn_placeholder(g, "x", SN_SHAPE(1, 1000));
    sn_variable *b = sn_get_variable(g, "b", SN_SHAPE(1000), sn_ones_initializer());
    sn_tensor *t = x;
    for (int i = 0; i < 10; i++) t = sn_relu(g, sn_add(g, t, sn_var(g, b), NULL), NULL);
    sn_session *s = sn_session_create(g, SN_FETCH(t), &(sn_session_options){.threads = 1});
    assert_non_null(s);
    sn_session_stats st;
    sn_session_stats_get(s, &st);
    assert_int_equal(st.ops, 20);               /* add + relu: nothing to fuse into */
    assert_int_equal(st.arena_bytes, 2 * 4032); /* two 1000-float tensors, 64-byte rounded */
    float in[1000];
    for (int i = 0; i < 1000; i++) in[i] = (float)i - 500.0f;
    sn_feed feed = {x, in, SN_SHAPE(1, 1000)};
    sn_output out;
    assert_int_equal(sn_session_run(s, &feed, 1, &out), SN_OK);
    for (int i = 0; i < 1000; i++) {
        float want = in[i];
        for (int k = 0; k < 10; k++) want = fmaxf(want + 1.0f, 0.0f);
        assert_true(out.data[i] == want);
    }
    sn_session_destroy(s);
    sn_graph_destroy(g);
}

/* An op valid only for some batches: [-1, 5] + [3, 5] broadcasts for a
 * batch of 1 or 3, not 2 or 4 (max_batch). The session plans it anyway;
 * each run checks its own batch. */
static void test_batch_dependent_broadcast(void **state) {
    (void)state;
    sn_graph *g = sn_graph_create(NULL);
    sn_tensor *x = sn_placeholder(g, "x", SN_SHAPE(-1, 5));
    sn_variable *v = sn_get_variable(g, "v", SN_SHAPE(3, 5), sn_ones_initializer());
    sn_tensor *y = sn_add(g, x, sn_var(g, v), NULL);
    sn_session *s =
        sn_session_create(g, SN_FETCH(y), &(sn_session_options){.threads = 1, .max_batch = 4});
    if (!s) fail_msg("%s", sn_graph_error(g));
    float in[20] = {0};
    sn_output out;
    for (int batch = 1; batch <= 4; batch++) {
        sn_feed feed = {x, in, SN_SHAPE(batch, 5)};
        sn_status st = sn_session_run(s, &feed, 1, &out);
        if (batch == 1 || batch == 3) {
            assert_int_equal(st, SN_OK);
            assert_int_equal(out.shape.dims[0], 3);
            assert_true(out.data[14] == 1.0f);
        } else {
            assert_int_equal(st, SN_ERR_SHAPE_MISMATCH);
            assert_non_null(
                strstr(sn_session_error(s), "op add: the shapes cannot be broadcast together"));
        }
    }
    sn_session_destroy(s);
    sn_graph_destroy(g);
}

/* A session's max_isa follows SCOPENN_ISA's rules, under the process's
 * own choice: another architecture's kernel set leaves scalar. */
static void test_isa_cap_option(void **state) {
    (void)state;
    struct model m = build_model();
    sn_cpu_info info;
    sn_cpu_info_get(&info);
    sn_isa foreign = strcmp(info.arch, "x86_64") == 0 ? SN_ISA_NEON : SN_ISA_AVX2;
    const sn_isa caps[3] = {SN_ISA_SCALAR, foreign, info.isa};
    const sn_isa want[3] = {SN_ISA_SCALAR, SN_ISA_SCALAR, info.isa};
    for (int i = 0; i < 3; i++) {
        sn_session *s = sn_session_create(
            m.g, SN_FETCH(m.r1), &(sn_session_options){.limit_isa = true, .max_isa = caps[i]});
        sn_session_stats st;
        sn_session_stats_get(s, &st);
        assert_int_equal(st.isa, want[i]);
        sn_session_destroy(s);
    }
    sn_graph_destroy(m.g);
}

/* Runs y (one feed x of `shape` holding `in`) on every kernel set this CPU
 * runs and 1 to 3 threads, and checks the output against `want`. */
static void run_everywhere(sn_graph *g, sn_tensor *x, sn_shape shape, const float *in, sn_tensor *y,
                           const float *want, size_t count, float tolerance) {
    sn_cpu_info info;
    sn_cpu_info_get(&info);
    for (int isa = 0; isa < SN_ISA_COUNT; isa++) {
        if (!(info.isas & (1u << isa))) continue;
        for (int threads = 1; threads <= 3; threads++) {
            sn_session *s = sn_session_create(
                g, SN_FETCH(y),
                &(sn_session_options){
                    .threads = threads, .max_batch = 8, .limit_isa = true, .max_isa = (sn_isa)isa});
            if (!s) fail_msg("isa %d: %s", isa, sn_graph_error(g));
            sn_output out;
            sn_status st = sn_session_run(s, &(sn_feed){x, in, shape}, 1, &out);
            if (st != SN_OK) fail_msg("isa %d: %s", isa, sn_session_error(s));
            for (size_t i = 0; i < count; i++)
                if (isnan(want[i])   ? !isnan(out.data[i])
                    : isinf(want[i]) ? out.data[i] != want[i]
                                     : !(fabsf(out.data[i] - want[i]) <= tolerance))
                    fail_msg("isa %d, %d threads: element %zu is %g, expected %g", isa, threads, i,
                             (double)out.data[i], (double)want[i]);
            sn_session_destroy(s);
        }
    }
}

/* A product with no inner dimension (a matmul with k = 0, a conv with no
 * input channels) is its bias, or zeros, then the activation: no kernel
 * set may divide by k (it raised SIGFPE on AVX2 and AVX-512). */
static void test_empty_products(void **state) {
    (void)state;
    sn_graph *g = sn_graph_create(NULL);
    const float bias[19] = {-3, -2, -1, 0, 1, 2, 3, 4, 5, 6, 7, 8, -9, 10, 11, 12, 13, 14, -15};
    sn_tensor *a = sn_placeholder(g, "a", SN_SHAPE(-1, 0));
    sn_variable *w = sn_get_variable(g, "w", SN_SHAPE(0, 19), sn_ones_initializer());
    sn_variable *b =
        sn_get_variable(g, "b", SN_SHAPE(19), sn_values_initializer(bias, SN_SHAPE(19)));
    sn_tensor *mm = sn_matmul(g, a, sn_var(g, w), false, false, NULL);
    sn_tensor *mm_bias = sn_relu(g, sn_bias_add(g, mm, sn_var(g, b), NULL), NULL);
    /* 1x1 and 3x3 convs with no input channels, batch 2 */
    sn_tensor *x = sn_placeholder(g, "x", SN_SHAPE(-1, 5, 6, 0));
    sn_variable *f1 = sn_get_variable(g, "f1", SN_SHAPE(1, 1, 0, 19), sn_ones_initializer());
    sn_variable *f3 = sn_get_variable(g, "f3", SN_SHAPE(3, 3, 0, 19), sn_ones_initializer());
    sn_tensor *c1 = sn_relu(
        g,
        sn_bias_add(g, sn_conv2d(g, x, sn_var(g, f1), SN_STRIDES(1, 1), SN_PADDING_SAME, NULL),
                    sn_var(g, b), NULL),
        NULL);
    sn_tensor *c3 = sn_conv2d(g, x, sn_var(g, f3), SN_STRIDES(2, 2), SN_PADDING_SAME, NULL);
    assert_int_equal(sn_graph_status(g), SN_OK);
    float want[2 * 5 * 6 * 19], zeros[2 * 5 * 6 * 19] = {0}, none[1] = {0}; /* a feed of 0 */
    for (int i = 0; i < 2 * 5 * 6 * 19; i++) want[i] = bias[i % 19] > 0 ? bias[i % 19] : 0;
    run_everywhere(g, a, SN_SHAPE(7, 0), none, mm, zeros, 7 * 19, 0);
    run_everywhere(g, a, SN_SHAPE(7, 0), none, mm_bias, want, 7 * 19, 0);
    run_everywhere(g, x, SN_SHAPE(2, 5, 6, 0), none, c1, want, 2 * 5 * 6 * 19, 0);
    run_everywhere(g, x, SN_SHAPE(2, 5, 6, 0), none, c3, zeros, 2 * 3 * 3 * 19, 0);
    sn_graph_destroy(g);
}

/* A huge dilation with SAME padding: the frame of zeros around the image
 * would be the window's size (it overflowed from about 2^27, and asked
 * for gigabytes well before). The taps that land in the image are all
 * that count. */
static void test_huge_dilation(void **state) {
    (void)state;
    enum { N = 2, IH = 5, IW = 4, IC = 3, OC = 17 };
    const int dilations[] = {1000, 1 << 20, 1 << 27, INT32_MAX};
    float in[N * IH * IW * IC], filter[3 * 3 * IC * OC];
    fill(in, sizeof in / sizeof *in, 3);
    fill(filter, sizeof filter / sizeof *filter, 4);
    for (size_t d = 0; d < sizeof dilations / sizeof *dilations; d++) {
        sn_graph *g = sn_graph_create(NULL);
        sn_tensor *x = sn_placeholder(g, "x", SN_SHAPE(N, IH, IW, IC));
        sn_variable *f = sn_get_variable(g, "f", SN_SHAPE(3, 3, IC, OC),
                                         sn_values_initializer(filter, SN_SHAPE(3, 3, IC, OC)));
        sn_tensor *y = sn_conv2d_dilated(g, x, sn_var(g, f), SN_STRIDES(1, 1), SN_PADDING_SAME,
                                         SN_HW(dilations[d], dilations[d]), NULL);
        if (!y) fail_msg("dilation %d: %s", dilations[d], sn_graph_error(g));
        /* every tap but the centre falls outside a 5x4 image */
        float want[N * IH * IW * OC];
        for (int p = 0; p < N * IH * IW; p++)
            for (int o = 0; o < OC; o++) {
                float sum = 0;
                for (int c = 0; c < IC; c++) sum += in[p * IC + c] * filter[(4 * IC + c) * OC + o];
                want[p * OC + o] = sum;
            }
        run_everywhere(g, x, SN_SHAPE(N, IH, IW, IC), in, y, want, N * IH * IW * OC, 1e-5f);
        sn_graph_destroy(g);
    }
}

/* A conv's padding is zeros that still meet its weights: a NaN or
 * infinite weight on a tap in the padding makes the output NaN (0 x inf),
 * as in TensorFlow and PyTorch, on every kernel set. The reference kernel
 * skipped such taps, and gave a finite number where the tile kernels gave
 * NaN (found by fuzz_graph). */
static void test_padding_meets_nonfinite_weights(void **state) {
    (void)state;
    enum { IH = 3, IW = 6, IC = 2, OC = 5 };
    float in[IH * IW * IC], filter[3 * 3 * IC * OC], want[IH * IW * OC];
    fill(in, sizeof in / sizeof *in, 5);
    fill(filter, sizeof filter / sizeof *filter, 6);
    filter[0] = NAN;                                    /* top left tap, channel 0 to 0 */
    filter[((2 * 3 + 1) * IC + 1) * OC + 2] = INFINITY; /* bottom middle, 1 to 2 */
    for (int y = 0; y < IH; y++)
        for (int x = 0; x < IW; x++)
            for (int o = 0; o < OC; o++) {
                float sum = 0;
                for (int ky = 0; ky < 3; ky++)
                    for (int kx = 0; kx < 3; kx++)
                        for (int c = 0; c < IC; c++) {
                            int iy = y + ky - 1, ix = x + kx - 1;
                            bool inside = iy >= 0 && iy < IH && ix >= 0 && ix < IW;
                            sum += (inside ? in[(iy * IW + ix) * IC + c] : 0.0f) *
                                   filter[((ky * 3 + kx) * IC + c) * OC + o];
                        }
                want[(y * IW + x) * OC + o] = sum;
            }
    assert_true(isnan(want[0]) && isnan(want[(2 * IW + 3) * OC + 2])); /* both kinds met */
    sn_graph *g = sn_graph_create(NULL);
    sn_tensor *x = sn_placeholder(g, "x", SN_SHAPE(1, IH, IW, IC));
    sn_variable *f = sn_get_variable(g, "f", SN_SHAPE(3, 3, IC, OC),
                                     sn_values_initializer(filter, SN_SHAPE(3, 3, IC, OC)));
    sn_tensor *y = sn_conv2d(g, x, sn_var(g, f), SN_STRIDES(1, 1), SN_PADDING_SAME, NULL);
    run_everywhere(g, x, SN_SHAPE(1, IH, IW, IC), in, y, want, IH * IW * OC, 1e-5f);
    sn_graph_destroy(g);
}

/* ---- S25: batch normalization folded into a product's packs ------------- */

struct bn_vars {
    sn_variable *mean, *variance, *offset, *scale;
};

static sn_tensor *batch_norm(sn_graph *g, sn_tensor *x, int channels, struct bn_vars *v) {
    v->mean = sn_get_variable(g, "mean", SN_SHAPE(channels), sn_random_uniform_initializer(-1, 1));
    v->variance =
        sn_get_variable(g, "variance", SN_SHAPE(channels), sn_random_uniform_initializer(0.5f, 2));
    v->offset =
        sn_get_variable(g, "offset", SN_SHAPE(channels), sn_random_uniform_initializer(-1, 1));
    v->scale =
        sn_get_variable(g, "scale", SN_SHAPE(channels), sn_random_uniform_initializer(-2, 2));
    return sn_batch_normalization(g, x, sn_var(g, v->mean), sn_var(g, v->variance),
                                  sn_var(g, v->offset), sn_var(g, v->scale), 1e-3f, NULL);
}

/* Folded (only the last op fetched) against unfolded (the product fetched
 * too, so the batch normalization runs on its own), within rounding. */
static void expect_folded_matches(sn_session *folded, sn_session *plain, const sn_feed *feed,
                                  size_t outputs) {
    sn_output a[4], b[8];
    assert_int_equal(sn_session_run(folded, feed, 1, a), SN_OK);
    assert_int_equal(sn_session_run(plain, feed, 1, b), SN_OK);
    for (size_t k = 0; k < outputs; k++) {
        int64_t n = 1;
        for (int d = 0; d < a[k].shape.rank; d++) n *= a[k].shape.dims[d];
        double worst = 0, scale = 0;
        for (int64_t i = 0; i < n; i++) {
            double d = fabs((double)a[k].data[i] - b[k].data[i]);
            if (d > worst) worst = d;
            if (fabs(b[k].data[i]) > scale) scale = fabs(b[k].data[i]);
        }
        if (!(worst <= 1e-5 * (scale + 1))) fail_msg("output %zu: folded differs by %g", k, worst);
    }
}

/* A graph whose packs take every path of a session's packing on its
 * threads: folds into a Winograd pack (scratch as large as the weight)
 * and into a 1x1 conv's (scratch for the alphas), a plain pack, one
 * weight packed once for two convs, and packs of different sizes. */
enum { PT_H = 12, PT_W = 10, PT_C = 16 };

static sn_tensor *packing_model(sn_graph *g, sn_tensor *x) {
    struct bn_vars v;
    sn_tensor *y = x, *shared_out[2];
    SN_WITH_VARIABLE_SCOPE(g, "winograd") {
        sn_variable *w =
            sn_get_variable(g, "weights", SN_SHAPE(3, 3, PT_C, PT_C), SN_NO_INITIALIZER);
        y = sn_relu(g,
                    batch_norm(g, sn_conv2d(g, y, sn_var(g, w), SN_HW(1, 1), SN_PADDING_SAME, NULL),
                               PT_C, &v),
                    NULL);
    }
    SN_WITH_VARIABLE_SCOPE(g, "pointwise") {
        sn_variable *w = sn_get_variable(g, "weights", SN_SHAPE(1, 1, PT_C, 24), SN_NO_INITIALIZER);
        y = batch_norm(g, sn_conv2d(g, y, sn_var(g, w), SN_HW(1, 1), SN_PADDING_SAME, NULL), 24,
                       &v);
    }
    for (int k = 0; k < 2; k++)
        SN_WITH_VARIABLE_SCOPE_REUSE(g, "shared", k ? SN_REUSE_TRUE : SN_REUSE_INHERIT) {
            sn_variable *w =
                sn_get_variable(g, "weights", SN_SHAPE(3, 3, 24, 8), SN_NO_INITIALIZER);
            sn_variable *b =
                sn_get_variable(g, "bias", SN_SHAPE(8), sn_random_uniform_initializer(-1, 1));
            sn_tensor *z =
                sn_bias_add(g, sn_conv2d(g, y, sn_var(g, w), SN_HW(1, 1), SN_PADDING_SAME, NULL),
                            sn_var(g, b), NULL);
            shared_out[k] = k ? sn_relu6(g, z, NULL) : sn_relu(g, z, NULL);
        }
    sn_tensor *flat = sn_reshape(g, shared_out[1], SN_SHAPE(1, -1), NULL);
    SN_WITH_VARIABLE_SCOPE(g, "dense") {
        sn_variable *w =
            sn_get_variable(g, "weights", SN_SHAPE(PT_H * PT_W * 8, 40), SN_NO_INITIALIZER);
        y = sn_matmul(g, flat, sn_var(g, w), false, false, NULL);
    }
    return sn_add(g, sn_reshape(g, y, SN_SHAPE(-1), NULL),
                  sn_reduce_mean(g, shared_out[0], (int[]){0, 1, 2, 3}, 4, false, NULL), NULL);
}

/* A session packs its new weights on its threads, each pack once: the
 * same packs (hence the same outputs, bit for bit) from a fresh graph on
 * 1 to 4 threads, and the same counts. */
static void test_packs_made_on_threads(void **state) {
    (void)state;
    float image[PT_H * PT_W * PT_C], first[40];
    fill(image, PT_H * PT_W * PT_C, 77);
    size_t made_on_one = 0;
    for (int threads = 1; threads <= 4; threads++) {
        sn_graph *g = sn_graph_create(&(sn_graph_options){.seed = 31});
        sn_tensor *x = sn_placeholder(g, "x", SN_SHAPE(1, PT_H, PT_W, PT_C));
        sn_tensor *y = packing_model(g, x);
        assert_int_equal(sn_graph_status(g), SN_OK);
        sn_session *s =
            sn_session_create(g, SN_FETCH(y), &(sn_session_options){.threads = threads});
        assert_non_null(s);
        sn_session_stats st;
        sn_session_stats_get(s, &st);
        assert_int_equal(st.packs_reused, 2); /* the shared weight and bias, second conv */
        /* with tile kernels, folds into Winograd packs: scratch as large as the weight */
        if (st.isa != SN_ISA_SCALAR) assert_int_equal(st.winograd, 3);
        if (threads == 1) made_on_one = st.packs_made;
        assert_int_equal(st.packs_made, made_on_one);
        sn_output out;
        assert_int_equal(
            sn_session_run(s, &(sn_feed){x, image, SN_SHAPE(1, PT_H, PT_W, PT_C)}, 1, &out), SN_OK);
        assert_int_equal(out.shape.dims[0], 40);
        sn_session_stats_get(s, &st);
        assert_int_equal(st.packs_made, made_on_one); /* made at create: none left to the run */
        if (threads == 1)
            memcpy(first, out.data, sizeof first);
        else
            assert_memory_equal(out.data, first, sizeof first);
        sn_session_destroy(s);
        sn_graph_destroy(g);
    }
    assert_int_equal(made_on_one, 7); /* 2 folded weights, 2 folded biases, 2 + 1 plain */
}

static void test_S25_batch_norm_folds_into_one_pack(void **state) {
    (void)state;
    enum { H = 7, W = 6, C = 8, OC = 16 };
    sn_graph *g = sn_graph_create(&(sn_graph_options){.seed = 25});
    sn_tensor *x = sn_placeholder(g, "x", SN_SHAPE(1, H, W, C));
    struct bn_vars v[4];
    sn_tensor *product[4], *out[4];
    /* conv (no bias) -> bn -> relu */
    SN_WITH_VARIABLE_SCOPE(g, "conv") {
        sn_variable *w = sn_get_variable(g, "weights", SN_SHAPE(3, 3, C, OC), SN_NO_INITIALIZER);
        product[0] = sn_conv2d(g, x, sn_var(g, w), SN_HW(1, 1), SN_PADDING_SAME, NULL);
        out[0] = sn_relu(g, batch_norm(g, product[0], OC, &v[0]), NULL);
    }
    /* conv + bias -> bn -> relu6, stride 2 */
    SN_WITH_VARIABLE_SCOPE(g, "conv_bias") {
        sn_variable *w = sn_get_variable(g, "weights", SN_SHAPE(3, 3, C, OC), SN_NO_INITIALIZER);
        sn_variable *b =
            sn_get_variable(g, "bias", SN_SHAPE(OC), sn_random_uniform_initializer(-1, 1));
        product[1] =
            sn_bias_add(g, sn_conv2d(g, x, sn_var(g, w), SN_HW(2, 2), SN_PADDING_SAME, NULL),
                        sn_var(g, b), NULL);
        out[1] = sn_relu6(g, batch_norm(g, product[1], OC, &v[1]), NULL);
    }
    /* depthwise -> bn */
    SN_WITH_VARIABLE_SCOPE(g, "depthwise") {
        sn_variable *w = sn_get_variable(g, "weights", SN_SHAPE(3, 3, C, 1), SN_NO_INITIALIZER);
        product[2] = sn_depthwise_conv2d(g, x, sn_var(g, w), SN_HW(1, 1), SN_PADDING_SAME,
                                         SN_HW(1, 1), NULL);
        out[2] = batch_norm(g, product[2], C, &v[2]);
    }
    /* matmul with transpose_b -> bn */
    SN_WITH_VARIABLE_SCOPE(g, "dense") {
        sn_variable *w = sn_get_variable(g, "weights", SN_SHAPE(OC, H * W * C), SN_NO_INITIALIZER);
        product[3] = sn_matmul(g, sn_reshape(g, x, SN_SHAPE(1, H * W * C), NULL), sn_var(g, w),
                               false, true, NULL);
        out[3] = batch_norm(g, product[3], OC, &v[3]);
    }
    assert_int_equal(sn_graph_status(g), SN_OK);
    sn_session *folded = sn_session_create(g, out, 4, NULL);
    sn_tensor *all[8] = {out[0],     out[1],     out[2],     out[3],
                         product[0], product[1], product[2], product[3]};
    sn_session *plain = sn_session_create(g, all, 8, NULL);
    assert_non_null(folded);
    assert_non_null(plain);
    sn_session_stats st;
    sn_session_stats_get(folded, &st);
    assert_int_equal(st.ops, 4 + 1);           /* the reshape is a node of its own */
    assert_int_equal(st.fused, 2 + 3 + 1 + 1); /* bn + act; bias + bn + act; bn; bn */
    /* each product: one weights pack and one bias pack, each folded from
     * its variables (the plain session packs the plain weights apart) */
    assert_int_equal(st.packs_made, 8);
    float in[H * W * C];
    for (int i = 0; i < H * W * C; i++) in[i] = sinf((float)i);
    sn_feed feed = {x, in, SN_SHAPE(1, H, W, C)};
    expect_folded_matches(folded, plain, &feed, 4);
    /* a new value for one variable repacks exactly the packs made from it,
     * once: the scale is in the weights' and the bias's packs, the mean
     * in the bias's only */
    float ones[OC];
    for (int i = 0; i < OC; i++) ones[i] = 0.5f + 0.1f * (float)i;
    struct {
        sn_variable *var;
        size_t repacked;
    } changes[] = {{v[0].scale, 2}, {v[1].mean, 1}, {v[3].variance, 2}, {v[2].offset, 1}};
    for (size_t k = 0; k < sizeof changes / sizeof *changes; k++) {
        sn_session_stats_get(folded, &st);
        const size_t before = st.packs_made;
        assert_int_equal(sn_variable_assign(changes[k].var, ones, sn_variable_size(changes[k].var)),
                         SN_OK);
        expect_folded_matches(folded, plain, &feed, 4);
        sn_session_stats_get(folded, &st);
        assert_int_equal(st.packs_made, before + changes[k].repacked);
        expect_folded_matches(folded, plain, &feed, 4); /* once, not at every run */
        sn_session_stats_get(folded, &st);
        assert_int_equal(st.packs_made, before + changes[k].repacked);
    }
    /* another session of the graph reuses the folded packs (S23) */
    sn_session *again = sn_session_create(g, out, 4, NULL);
    sn_session_stats_get(again, &st);
    assert_int_equal(st.packs_made, 0);
    assert_int_equal(st.packs_reused, 8);
    sn_session_destroy(again);
    sn_session_destroy(folded);
    sn_session_destroy(plain);
    sn_graph_destroy(g);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_image_filter_end_to_end),
        cmocka_unit_test(test_assignment_repacks_once),
        cmocka_unit_test(test_run_allocates_nothing),
        cmocka_unit_test(test_threads_give_identical_results),
        cmocka_unit_test(test_too_many_threads),
        cmocka_unit_test(test_feed_errors),
        cmocka_unit_test(test_arena_holds_the_largest_adjacent_pair),
        cmocka_unit_test(test_batch_dependent_broadcast),
        cmocka_unit_test(test_isa_cap_option),
        cmocka_unit_test(test_empty_products),
        cmocka_unit_test(test_huge_dilation),
        cmocka_unit_test(test_padding_meets_nonfinite_weights),
        cmocka_unit_test(test_S25_batch_norm_folds_into_one_pack),
        cmocka_unit_test(test_packs_made_on_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
