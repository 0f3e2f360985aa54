/* Conv2d (and matmul, test_matmul_shapes) through sessions: one conv (+
 * bias + activation, fused) on placeholders, run with every kernel set
 * this CPU has (up to the SCOPENN_ISA cap), on 1, 2 and 3 threads, against
 * the reference convolution called directly. The shapes are drawn to
 * cross what the session decides per tile: rows cut into MR tiles (and
 * their short last tile), NR blocks split over threads, and SAME padding,
 * where the tiles whose taps stay inside the input read it directly and
 * the others a band of a padded copy, made by each chunk of rows, of
 * which only the edges are written. So: widths up to 3 MR + 3, kernels 1
 * to 5 (even ones pad unevenly), strides 1 to 3, dilations 1 and 2. 3x3
 * and 5x5 stride 1 convs with 16 channels in and 8 out or more run as
 * Winograd (F(4x4, 3x3), F(2x2, 5x5)) unless the session asks for direct
 * convolution: both are checked, Winograd with a wider tolerance, on
 * image sizes that are not multiples of the tile. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ops/window.h"
#include "kernels/ref/ref.h"
#include "scopenn.h"

struct conv_case {
    int batch, h, w, ic, oc, kh, kw, stride, dilation;
    sn_padding padding;
    sn_activation act;
};

static uint32_t rng = 7;
static uint32_t next(void) {
    rng = rng * 1664525u + 1013904223u;
    return rng >> 8;
}
static int pick(int lo, int hi) { return lo + (int)(next() % (uint32_t)(hi - lo + 1)); }
static float value(void) { return (float)next() / 8388608.0f - 1.0f; }

static size_t elements(const sn_shape *s) {
    size_t n = 1;
    for (int d = 0; d < s->rank; d++) n *= (size_t)s->dims[d];
    return n;
}

/* Worst error seen, as a fraction of 1 + the sum of |terms|, by path. */
static double worst_direct, worst_winograd, worst_strassen;
static int winograd_runs, strassen_runs;

/* The faster algorithm a shape should take (docs: sn_session_options). */
enum fast { PLAIN, WINOGRAD, STRASSEN };

static int winograd_shape(const struct conv_case *c) {
    return (c->kh == 3 || c->kh == 5) && c->kw == c->kh && c->stride == 1 && c->dilation == 1 &&
           c->ic >= 16 && c->oc >= 8;
}

/* A product [m][k] x [k][n] (a matmul, or a 1x1 stride 1 conv over m
 * pixels), m counted as 1 for a -1 batch. */
static int strassen_shape(int64_t m, int64_t k, int64_t n) {
    return k % 2 == 0 && k >= 512 && n >= 256 && m >= 16 && k * n <= (1 << 20) &&
           m * k * n >= (1 << 25);
}

static enum fast conv_fast(const struct conv_case *c) {
    if (winograd_shape(c)) return WINOGRAD;
    if (c->kh == 1 && c->kw == 1 && c->stride == 1 &&
        strassen_shape((int64_t)c->batch * c->h * c->w, c->ic, c->oc))
        return STRASSEN;
    return PLAIN;
}

/* Runs y (feeds given) with every kernel set this CPU has (up to the cap)
 * on 1, 2 and 3 threads (3 ranges of work don't halve, and on this 2-core
 * machine 3 threads outnumber the CPUs), and, for a Winograd or Strassen
 * shape, with direct_conv and direct_matmul as well: each output within a
 * few ULP of the sum of |terms| (mag) of the reference (want) for direct
 * convolution, 1e-5 for Winograd and Strassen, and 2 and 3 threads
 * bit-identical to 1. The session must choose the algorithm `fast` names,
 * and only it. max_batch: the sessions' option (0: the default). */
static void check_sessions(sn_graph *g, sn_tensor *y, const sn_feed *feeds, size_t nfeeds,
                           const float *want, const float *mag, size_t ny, enum fast fast,
                           int max_batch, const char *what) {
    float *first = malloc(ny * 4);
    assert_non_null(first);
    sn_cpu_info info;
    sn_cpu_info_get(&info);
    for (int isa = 0; isa <= (int)info.isa; isa++) {
        if (!((info.isas >> isa) & 1)) continue;
        for (int run = 0; run < 6; run++) {
            /* 1, 2 and 3 threads; Winograd or Strassen where it applies,
             * then direct */
            const int threads = 1 + run % 3, direct = run / 3, simd = isa != SN_ISA_SCALAR;
            const int winograd = !direct && simd && fast == WINOGRAD,
                      strassen = !direct && simd && fast == STRASSEN;
            winograd_runs += winograd;
            strassen_runs += strassen;
            if (direct && fast == PLAIN) break; /* the same as runs 0 to 2 */
            sn_session *s = sn_session_create(g, SN_FETCH(y),
                                              &(sn_session_options){.threads = threads,
                                                                    .max_batch = max_batch,
                                                                    .limit_isa = true,
                                                                    .max_isa = (sn_isa)isa,
                                                                    .direct_conv = direct,
                                                                    .direct_matmul = direct});
            if (!s) fail_msg("%s: %s", what, sn_graph_error(g));
            sn_session_stats st;
            sn_session_stats_get(s, &st);
            if ((int)st.winograd != winograd) /* the rules of sn_session_options */
                fail_msg("%s, isa %s: Winograd %s", what, sn_isa_name((sn_isa)isa),
                         winograd ? "expected, not chosen" : "chosen, not expected");
            if ((int)st.strassen != strassen)
                fail_msg("%s, isa %s: Strassen %s", what, sn_isa_name((sn_isa)isa),
                         strassen ? "expected, not chosen" : "chosen, not expected");
            sn_output out;
            if (sn_session_run(s, feeds, nfeeds, &out) != SN_OK)
                fail_msg("%s: %s", what, sn_session_error(s));
            assert_int_equal(elements(&out.shape), ny);
            for (size_t i = 0; i < ny; i++) {
                /* direct: the sum in another order, a few ULP of the sum of
                 * |terms|; Winograd: its transforms' rounding on top */
                double err = fabs((double)out.data[i] - (double)want[i]) / (1.0 + mag[i]);
                double *worst = winograd   ? &worst_winograd
                                : strassen ? &worst_strassen
                                           : &worst_direct;
                if (err > *worst) *worst = err;
                if (!(err <= (winograd || strassen ? 1e-5 : 1e-6)))
                    fail_msg("%s, isa %s, %d thread(s)%s: y[%zu] = %.9g, reference %.9g", what,
                             sn_isa_name((sn_isa)isa), threads,
                             winograd   ? ", Winograd"
                             : strassen ? ", Strassen"
                                        : "",
                             i, out.data[i], want[i]);
            }
            if (threads == 1)
                memcpy(first, out.data, ny * 4);
            else if (memcmp(first, out.data, ny * 4) != 0)
                fail_msg("%s, isa %s: %d threads differ from 1", what, sn_isa_name((sn_isa)isa),
                         threads);
            sn_session_destroy(s);
        }
    }
    free(first);
}

/* Returns 0 (and runs nothing) when the case has no output. */
static int run_case(const struct conv_case *c) {
    int64_t oh, ow, top, left;
    if (!sn_window(c->h, c->kh, c->stride, c->dilation, c->padding, &oh, &top) ||
        !sn_window(c->w, c->kw, c->stride, c->dilation, c->padding, &ow, &left) || oh <= 0 ||
        ow <= 0)
        return 0;
    char what[160];
    snprintf(what, sizeof what, "%dx%dx%dx%d * %dx%dx%dx%d, stride %d, dilation %d, %s, act %d",
             c->batch, c->h, c->w, c->ic, c->kh, c->kw, c->ic, c->oc, c->stride, c->dilation,
             c->padding == SN_PADDING_SAME ? "SAME" : "VALID", (int)c->act);
    const sn_shape xs = SN_SHAPE(c->batch, c->h, c->w, c->ic),
                   fs = SN_SHAPE(c->kh, c->kw, c->ic, c->oc), bs = SN_SHAPE(c->oc);
    sn_graph *g = sn_graph_create(NULL);
    sn_tensor *x = sn_placeholder(g, "x", xs), *f = sn_placeholder(g, "f", fs),
              *b = sn_placeholder(g, "b", bs);
    sn_tensor *y = sn_conv2d_dilated(g, x, f, SN_STRIDES(c->stride, c->stride), c->padding,
                                     SN_HW(c->dilation, c->dilation), NULL);
    y = sn_bias_add(g, y, b, NULL);
    if (c->act == SN_ACT_RELU) y = sn_relu(g, y, NULL);
    if (c->act == SN_ACT_RELU6) y = sn_relu6(g, y, NULL);
    if (!y) fail_msg("%s: %s", what, sn_graph_error(g));

    size_t nx = elements(&xs), nf = elements(&fs), ny = (size_t)(c->batch * oh * ow * c->oc);
    float *xv = malloc(nx * 4), *fv = malloc(nf * 4), *bv = malloc((size_t)c->oc * 4);
    float *ax = malloc(nx * 4), *af = malloc(nf * 4);
    float *want = malloc(ny * 4), *mag = malloc(ny * 4);
    assert_true(xv && fv && bv && ax && af && want && mag);
    for (size_t i = 0; i < nx; i++) ax[i] = fabsf(xv[i] = value());
    for (size_t i = 0; i < nf; i++) af[i] = fabsf(fv[i] = value());
    for (int i = 0; i < c->oc; i++) bv[i] = value();
    sn_conv2d_geometry geo = {c->batch,  c->h,        c->w,        c->ic, c->kh,
                              c->kw,     c->oc,       oh,          ow,    c->stride,
                              c->stride, c->dilation, c->dilation, top,   left};
    sn_f32_conv2d_ref(&geo, xv, fv, bv, c->act, want, 0, c->batch * oh);
    sn_f32_conv2d_ref(&geo, ax, af, NULL, SN_ACT_NONE, mag, 0, c->batch * oh);

    sn_feed feeds[3] = {{x, xv, xs}, {f, fv, fs}, {b, bv, bs}};
    check_sessions(g, y, feeds, 3, want, mag, ny, conv_fast(c), 0, what);
    free(xv), free(fv), free(bv), free(ax), free(af), free(want), free(mag);
    sn_graph_destroy(g);
    return 1;
}

static void test_drawn_shapes(void **state) {
    (void)state;
    static const int out_channels[] = {1, 5, 8, 16, 17, 33, 40};
    int ran = 0;
    for (int i = 0; i < 240; i++) {
        int k = pick(1, 5);
        struct conv_case c = {.batch = pick(1, 2),
                              .h = pick(1, 10),
                              .w = pick(1, 27),
                              .ic = pick(1, 6),
                              .oc = out_channels[next() % 7],
                              .kh = i % 3 ? k : pick(1, 5),
                              .kw = k,
                              .stride = i % 4 ? 1 : pick(2, 3),
                              .dilation = i % 5 ? 1 : 2,
                              .padding = i % 6 ? SN_PADDING_SAME : SN_PADDING_VALID,
                              .act = (sn_activation)(next() % 3)};
        ran += run_case(&c);
    }
    print_message("%d drawn shapes agree with the reference\n", ran);
    assert_true(ran > 180);
}

/* Winograd's shapes: 3x3 and 5x5, stride 1, 16 channels in or more and
 * 8 out, any image size (tiles cut at the edges), both paddings, batches
 * of 1 and 2. */
static void test_winograd_shapes(void **state) {
    (void)state;
    static const int channels[] = {16, 17, 32, 48, 49, 64}, outs[] = {8, 9, 16, 17, 32, 64};
    int ran = 0;
    for (int i = 0; i < 60; i++) {
        const int k = i % 2 ? 3 : 5;
        struct conv_case c = {.batch = pick(1, 2),
                              .h = pick(1, 14),
                              .w = pick(1, 21),
                              .ic = channels[next() % 6],
                              .oc = outs[next() % 6],
                              .kh = k,
                              .kw = k,
                              .stride = 1,
                              .dilation = 1,
                              .padding = i % 3 ? SN_PADDING_SAME : SN_PADDING_VALID,
                              .act = (sn_activation)(next() % 3)};
        ran += run_case(&c);
    }
    print_message("%d Winograd shapes agree with the reference; worst error / (1 + sum of "
                  "|terms|): %.2g Winograd, %.2g direct\n",
                  ran, worst_winograd, worst_direct);
    assert_true(ran > 45);
    if (sn_cpu_isa() != SN_ISA_SCALAR) assert_true(winograd_runs > 20); /* they reach it */
}

/* The named workloads' geometry, smaller: wide enough that most tiles read
 * the input itself. */
static void test_workload_like_shapes(void **state) {
    (void)state;
    static const struct conv_case cases[] = {
        {1, 12, 64, 8, 32, 5, 5, 1, 1, SN_PADDING_SAME, SN_ACT_RELU},  /* seed filter */
        {1, 10, 37, 48, 64, 5, 5, 1, 1, SN_PADDING_SAME, SN_ACT_RELU}, /* 5x5 Winograd */
        {1, 47, 45, 64, 64, 3, 3, 1, 1, SN_PADDING_SAME, SN_ACT_RELU}, /* many Winograd items */
        {1, 9, 56, 16, 24, 3, 3, 1, 1, SN_PADDING_SAME, SN_ACT_RELU},  /* resnet 3x3 */
        {1, 30, 40, 3, 32, 3, 3, 2, 1, SN_PADDING_SAME,
         SN_ACT_RELU6},                                              /* stem: pads right, bottom */
        {2, 11, 35, 4, 9, 3, 3, 1, 2, SN_PADDING_SAME, SN_ACT_NONE}, /* dilated */
        {1, 8, 50, 5, 7, 4, 2, 1, 1, SN_PADDING_SAME, SN_ACT_NONE},  /* even: uneven padding */
        {1, 7, 41, 6, 40, 1, 7, 3, 1, SN_PADDING_SAME, SN_ACT_RELU}, /* 1x7, stride 3 */
        /* wide rows of many channels: a band holds few of them, so each
         * thread's chunk of rows is cut shorter (to 5 rows, then 1) */
        {1, 60, 20, 256, 8, 3, 3, 1, 2, SN_PADDING_SAME, SN_ACT_RELU},
        {2, 9, 40, 520, 8, 3, 3, 2, 1, SN_PADDING_SAME, SN_ACT_NONE},
        {1, 3, 12, 8, 70, 3, 3, 2, 1, SN_PADDING_SAME, SN_ACT_RELU}, /* 2 rows, blocks split */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) assert_true(run_case(&cases[i]));
}

/* [m x k] x [k x n] (B transposed if tb) + bias, act, through sessions,
 * against the reference. */
static void run_matmul(int m, int k, int n, int tb, sn_activation act) {
    char what[96];
    snprintf(what, sizeof what, "[%dx%d] x [%dx%d]%s, act %d", m, k, k, n, tb ? "^T" : "",
             (int)act);
    const sn_shape as = SN_SHAPE(m, k), bshape = tb ? SN_SHAPE(n, k) : SN_SHAPE(k, n),
                   cs = SN_SHAPE(n);
    sn_graph *g = sn_graph_create(NULL);
    sn_tensor *a = sn_placeholder(g, "a", as), *b = sn_placeholder(g, "b", bshape),
              *c = sn_placeholder(g, "c", cs);
    sn_tensor *y = sn_bias_add(g, sn_matmul(g, a, b, false, tb, NULL), c, NULL);
    if (act == SN_ACT_RELU) y = sn_relu(g, y, NULL);
    if (act == SN_ACT_RELU6) y = sn_relu6(g, y, NULL);
    if (!y) fail_msg("%s: %s", what, sn_graph_error(g));
    const size_t na = (size_t)m * k, nb = (size_t)k * n, ny = (size_t)m * n;
    float *av = malloc(na * 4), *bv = malloc(nb * 4), *cv = malloc((size_t)n * 4);
    float *aa = malloc(na * 4), *ab = malloc(nb * 4), *want = malloc(ny * 4), *mag = malloc(ny * 4);
    assert_true(av && bv && cv && aa && ab && want && mag);
    for (size_t j = 0; j < na; j++) aa[j] = fabsf(av[j] = value());
    for (size_t j = 0; j < nb; j++) ab[j] = fabsf(bv[j] = value());
    for (int j = 0; j < n; j++) cv[j] = value();
    sn_f32_matmul_ref(m, k, n, av, 0, bv, tb, cv, act, want, 0, m);
    sn_f32_matmul_ref(m, k, n, aa, 0, ab, tb, NULL, SN_ACT_NONE, mag, 0, m);
    sn_feed feeds[3] = {{a, av, as}, {b, bv, bshape}, {c, cv, cs}};
    check_sessions(g, y, feeds, 3, want, mag, ny, strassen_shape(m, k, n) ? STRASSEN : PLAIN, 0,
                   what);
    free(av), free(bv), free(cv), free(aa), free(ab), free(want), free(mag);
    sn_graph_destroy(g);
}

/* Matrix products (1x1 convolutions to the kernels) through sessions:
 * rows in panels of about 128 KB of input (32768 / K rows, whole tiles;
 * smaller on 2 threads when N <= M), each panel one run per group of NR
 * blocks; shapes from a single row to several panels, B as it is or
 * transposed, with bias and activation. */
static void test_matmul_shapes(void **state) {
    (void)state;
    static const int ms[] = {1, 2, 7, 64, 301, 2100}, ks[] = {1, 3, 16, 100, 1000},
                     ns[] = {1, 5, 33, 64};
    /* then drawn ones; first, a lone last row in one thread's panels but
     * not in two threads' (2049 = 2048 + 1: panels of 2048 rows at k = 16
     * on AVX-512, of 264 at 2 threads) */
    static const int fixed[][3] = {{2049, 16, 33}, {17, 16, 5}};
    const int nfixed = (int)(sizeof fixed / sizeof fixed[0]);
    int ran = 0;
    for (int i = 0; i < 40 + nfixed; i++) {
        run_matmul(i < nfixed ? fixed[i][0] : ms[next() % 6],
                   i < nfixed ? fixed[i][1] : ks[next() % 5],
                   i < nfixed ? fixed[i][2] : ns[next() % 4], i % 2, (sn_activation)(i % 3));
        ran++;
    }
    print_message("%d matrix products agree with the reference\n", ran);
}

/* One level of Strassen-Winograd (runtime/session.c, strassen_product):
 * the rows' top and bottom halves, an odd m leaving the bottom half a row
 * short; n in two halves of whole NR blocks, the right one narrower when n
 * is not a multiple of 2 NR (AVX-512 NR = 32, AVX2 16, NEON 8); top halves
 * of more than one chunk (k = 512, n = 1024: chunks of 40 rows at most on
 * AVX-512); B as it is or transposed; a 1x1 conv; every activation. And
 * the shapes just outside the rule stay plain (test_matmul_shapes checks
 * that the session chose as strassen_shape says). */
static void test_strassen_shapes(void **state) {
    (void)state;
    static const int cases[][5] = {
        /* m, k, n, tb, act */
        {64, 1024, 1024, 0, SN_ACT_RELU}, /* dense_mm */
        {101, 512, 1000, 1, SN_ACT_NONE}, /* odd m, 2 chunks, n % 64 != 0 */
        {171, 768, 264, 0, SN_ACT_RELU6}, /* n2 = 160 on AVX-512: right half 104 */
        {97, 514, 700, 1, SN_ACT_RELU},   /* k / 2 odd: rows of sums off the vector width */
        {64, 512, 1024, 0, SN_ACT_NONE},  /* m k n = 2^25 */
        {63, 512, 1024, 0, SN_ACT_NONE},  /* just under: plain */
        {64, 510, 1024, 0, SN_ACT_NONE},  /* k < 512: plain */
        {32, 2048, 1024, 0, SN_ACT_NONE}, /* k n > 2^20: plain */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        run_matmul(cases[i][0], cases[i][1], cases[i][2], cases[i][3], (sn_activation)cases[i][4]);
    /* a 1x1 conv of 10x10 pixels */
    const struct conv_case conv = {1, 10, 10, 512, 700, 1, 1, 1, 1, SN_PADDING_SAME, SN_ACT_RELU};
    assert_true(run_case(&conv));
    print_message("Strassen: %d runs, worst error %.3g of 1 + the sum of |terms| (plain: %.3g)\n",
                  strassen_runs, worst_strassen, worst_direct);
    if (sn_cpu_isa() != SN_ISA_SCALAR) assert_true(strassen_runs >= 10); /* they reach it */

    /* a -1 batch counts as 1 row: never Strassen, whatever max_batch */
    sn_graph *g = sn_graph_create(NULL);
    sn_tensor *a = sn_placeholder(g, "a", SN_SHAPE(-1, 1024)),
              *b = sn_placeholder(g, "b", SN_SHAPE(1024, 1024));
    sn_tensor *y = sn_matmul(g, a, b, false, false, NULL);
    sn_session *s =
        sn_session_create(g, SN_FETCH(y), &(sn_session_options){.threads = 1, .max_batch = 256});
    assert_non_null(s);
    sn_session_stats st;
    sn_session_stats_get(s, &st);
    assert_int_equal(st.strassen, 0);
    sn_session_destroy(s);
    sn_graph_destroy(g);
}

/* Winograd's rule for weights past 24 MB (36 matrices of ic x oc): direct
 * on a small image, where streaming them would cost more than direct's
 * multiply-adds (fewer than 3.5 a byte), a -1 batch counted as 1. The
 * cases hold for every kernel set's MR (4 to 8: 2x8x8 is 1 work item or 2).
 * Only the choice is checked (session stats), not run: the paths are the
 * ones tested above. */
static void test_winograd_large_weights(void **state) {
    (void)state;
    static const struct {
        int64_t batch, hw, c;
        int winograd;
    } cases[] = {
        {1, 4, 512, 0}, {1, 6, 512, 0}, {1, 7, 512, 0}, {-1, 7, 512, 0}, {1, 8, 512, 1},
        {2, 8, 512, 1}, {1, 7, 448, 0}, {1, 8, 448, 1}, {1, 4, 400, 1}, /* 23 MB */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const int64_t c = cases[i].c;
        sn_graph *g = sn_graph_create(NULL);
        sn_tensor *x =
                      sn_placeholder(g, "x", SN_SHAPE(cases[i].batch, cases[i].hw, cases[i].hw, c)),
                  *f = sn_placeholder(g, "f", SN_SHAPE(3, 3, c, c));
        sn_tensor *y = sn_conv2d(g, x, f, SN_STRIDES(1, 1), SN_PADDING_SAME, NULL);
        sn_session *s =
            sn_session_create(g, SN_FETCH(y), &(sn_session_options){.threads = 1, .max_batch = 4});
        if (!s) fail_msg("%s", sn_graph_error(g));
        sn_session_stats st;
        sn_session_stats_get(s, &st);
        const int want = cases[i].winograd && sn_cpu_isa() != SN_ISA_SCALAR;
        if ((int)st.winograd != want)
            fail_msg("%lldx%lldx%lldx%lld * 3x3: Winograd %s", (long long)cases[i].batch,
                     (long long)cases[i].hw, (long long)cases[i].hw, (long long)c,
                     want ? "expected, not chosen" : "chosen, not expected");
        sn_session_destroy(s);
        sn_graph_destroy(g);
    }
}

/* A -1 batch fed with 0 images: an empty output on every path (direct,
 * Winograd 3x3 and 5x5, a plain 1x1 product and a Strassen one) and thread
 * count, not a crash. */
static void test_empty_batch(void **state) {
    (void)state;
    static const struct {
        int64_t hw, kh, kw, ic, oc;
        int strassen;
    } cases[] = {{8, 3, 3, 16, 16, 0},
                 {8, 5, 5, 16, 8, 0},
                 {8, 3, 3, 3, 8, 0},
                 {8, 1, 1, 512, 256, 0},
                 {64, 1, 1, 512, 256, 1}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        for (int threads = 1; threads <= 2; threads++) {
            const int64_t hw = cases[i].hw, kh = cases[i].kh, kw = cases[i].kw, ic = cases[i].ic,
                          oc = cases[i].oc;
            sn_graph *g = sn_graph_create(NULL);
            sn_tensor *x = sn_placeholder(g, "x", SN_SHAPE(-1, hw, hw, ic)),
                      *f = sn_placeholder(g, "f", SN_SHAPE(kh, kw, ic, oc));
            sn_tensor *y =
                sn_relu(g, sn_conv2d(g, x, f, SN_STRIDES(1, 1), SN_PADDING_SAME, NULL), NULL);
            sn_session *s = sn_session_create(
                g, SN_FETCH(y), &(sn_session_options){.threads = threads, .max_batch = 2});
            if (!s) fail_msg("%s", sn_graph_error(g));
            sn_session_stats st;
            sn_session_stats_get(s, &st);
            assert_int_equal(st.strassen, cases[i].strassen && sn_cpu_isa() != SN_ISA_SCALAR);
            float *fv = calloc((size_t)(kh * kw * ic * oc), sizeof(float)), xv[1] = {0};
            assert_non_null(fv);
            sn_feed feeds[2] = {{x, xv, SN_SHAPE(0, hw, hw, ic)},
                                {f, fv, SN_SHAPE(kh, kw, ic, oc)}};
            sn_output out;
            if (sn_session_run(s, feeds, 2, &out) != SN_OK) fail_msg("%s", sn_session_error(s));
            assert_int_equal(out.shape.rank, 4);
            assert_int_equal(out.shape.dims[0], 0);
            assert_int_equal(out.shape.dims[3], oc);
            free(fv);
            sn_session_destroy(s);
            sn_graph_destroy(g);
        }
}

/* Padded convs with nothing to read: no input channels (the output is the
 * bias, through the activation), or no rows or columns (an empty
 * output), on every kernel set, 1 and 2 threads. */
static void test_empty_dims(void **state) {
    (void)state;
    static const struct {
        int64_t h, w, ic, stride;
    } cases[] = {{5, 5, 0, 1}, {9, 7, 0, 2}, {0, 5, 3, 1}, {5, 0, 3, 1}, {0, 0, 3, 2}};
    enum { OC = 5 };
    static const float bias[OC] = {0.5f, -1.0f, 2.0f, 0.0f, -0.25f};
    sn_cpu_info info;
    sn_cpu_info_get(&info);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        for (int isa = 0; isa <= (int)info.isa; isa++)
            for (int threads = 1; threads <= 2 && ((info.isas >> isa) & 1); threads++) {
                const int64_t h = cases[i].h, w = cases[i].w, ic = cases[i].ic,
                              st = cases[i].stride, oh = (h + st - 1) / st, ow = (w + st - 1) / st;
                sn_graph *g = sn_graph_create(NULL);
                sn_tensor *x = sn_placeholder(g, "x", SN_SHAPE(1, h, w, ic)),
                          *f = sn_placeholder(g, "f", SN_SHAPE(3, 3, ic, OC)),
                          *b = sn_placeholder(g, "b", SN_SHAPE(OC));
                sn_tensor *y = sn_relu(
                    g,
                    sn_bias_add(g, sn_conv2d(g, x, f, SN_STRIDES(st, st), SN_PADDING_SAME, NULL), b,
                                NULL),
                    NULL);
                sn_session *s = sn_session_create(g, SN_FETCH(y),
                                                  &(sn_session_options){.threads = threads,
                                                                        .limit_isa = true,
                                                                        .max_isa = (sn_isa)isa});
                if (!s) fail_msg("%s", sn_graph_error(g));
                float xv[1] = {0}, fv[1] = {0};
                sn_feed feeds[3] = {{x, xv, SN_SHAPE(1, h, w, ic)},
                                    {f, fv, SN_SHAPE(3, 3, ic, OC)},
                                    {b, bias, SN_SHAPE(OC)}};
                sn_output out;
                if (sn_session_run(s, feeds, 3, &out) != SN_OK) fail_msg("%s", sn_session_error(s));
                assert_int_equal(out.shape.rank, 4);
                assert_int_equal(out.shape.dims[1], oh);
                assert_int_equal(out.shape.dims[2], ow);
                for (int64_t k = 0; k < oh * ow * OC; k++) {
                    const float want = bias[k % OC] > 0 ? bias[k % OC] : 0.0f;
                    if (out.data[k] != want)
                        fail_msg("%lldx%lldx%lld, isa %s: y[%lld] = %g, want %g", (long long)h,
                                 (long long)w, (long long)ic, sn_isa_name((sn_isa)isa),
                                 (long long)k, out.data[k], want);
                }
                sn_session_destroy(s);
                sn_graph_destroy(g);
            }
}

/* A padded conv whose input width comes from a -1 batch (a reshape):
 * its band takes more rows when the width is less than the planned one,
 * and must still fit the scratch planned for it. 72 rows of 196
 * channels, 11 wide at batch 1 of at most 4 (44 planned), dilation 2
 * (direct): a chunk of 17 rows reads a band of 61740 floats, more than
 * the planned width's 21 rows (56448). Checked as check_sessions checks,
 * the sessions planned for a batch of 4. */
static void test_width_from_batch(void **state) {
    (void)state;
    enum { H = 72, W = 11, C = 196, OC = 8 };
    sn_graph *g = sn_graph_create(NULL);
    sn_tensor *x = sn_placeholder(g, "x", SN_SHAPE(-1, H * W * C)),
              *f = sn_placeholder(g, "f", SN_SHAPE(3, 3, C, OC));
    sn_tensor *y = sn_conv2d_dilated(g, sn_reshape(g, x, SN_SHAPE(1, H, -1, C), NULL), f,
                                     SN_STRIDES(1, 1), SN_PADDING_SAME, SN_HW(2, 2), NULL);
    if (!y) fail_msg("%s", sn_graph_error(g));
    const size_t nx = (size_t)H * W * C, nf = 9 * C * OC, ny = (size_t)H * W * OC;
    float *xv = malloc(nx * 4), *fv = malloc(nf * 4), *ax = malloc(nx * 4), *af = malloc(nf * 4),
          *want = malloc(ny * 4), *mag = malloc(ny * 4);
    assert_true(xv && fv && ax && af && want && mag);
    for (size_t i = 0; i < nx; i++) ax[i] = fabsf(xv[i] = value());
    for (size_t i = 0; i < nf; i++) af[i] = fabsf(fv[i] = value());
    sn_conv2d_geometry geo = {1, H, W, C, 3, 3, OC, H, W, 1, 1, 2, 2, 2, 2};
    sn_f32_conv2d_ref(&geo, xv, fv, NULL, SN_ACT_NONE, want, 0, H);
    sn_f32_conv2d_ref(&geo, ax, af, NULL, SN_ACT_NONE, mag, 0, H);
    sn_feed feeds[2] = {{x, xv, SN_SHAPE(1, H * W * C)}, {f, fv, SN_SHAPE(3, 3, C, OC)}};
    check_sessions(g, y, feeds, 2, want, mag, ny, PLAIN, 4, "72 x (11 of 44) x 196, batch 1 of 4");
    free(xv), free(fv), free(ax), free(af), free(want), free(mag);
    sn_graph_destroy(g);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_workload_like_shapes), cmocka_unit_test(test_drawn_shapes),
        cmocka_unit_test(test_winograd_shapes),      cmocka_unit_test(test_matmul_shapes),
        cmocka_unit_test(test_strassen_shapes),      cmocka_unit_test(test_winograd_large_weights),
        cmocka_unit_test(test_empty_batch),          cmocka_unit_test(test_empty_dims),
        cmocka_unit_test(test_width_from_batch),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
