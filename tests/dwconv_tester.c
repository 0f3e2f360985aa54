/* Every depthwise kernel of every kernel set the host runs (the list
 * f32-dwconv.inc), against the reference sn_f32_depthwise_conv2d_ref, on
 * awkward shapes: channels 1..67 (no multiple of a vector width needed),
 * multipliers 1 to 3, windows 1x1, 3x3, 5x5, 3x2 and 7x7, strides 1 to 3,
 * dilations 1 and 2, SAME, VALID and explicit padding (asymmetric, and
 * wider than the window), 1x1 and 2x2 images and rows wider than a tile,
 * batches 0 to 3, with a bias or none, each activation; inputs, weights
 * and biases with NaN, infinities and -0 now and then, or with subnormals.
 *
 * The SIMD kernels fuse each multiply-add, so an output may differ from the
 * reference by rounding: within 1e-6 + 2 (taps + 1) FLT_EPSILON times the
 * sum of its terms' magnitudes; a NaN must be a NaN and an infinity the
 * same infinity. The scalar set's kernel is the reference: equal bit for
 * bit. Each kernel runs over all rows at once, then over the rows cut in
 * 2 or 3 ranges as threads would take them, which must give the same
 * floats bit for bit; a range alone leaves the other rows and guard floats
 * after the output untouched. The input is allocated to its exact size
 * (the ASan build sees a read past it). A kernel set the CPU lacks is
 * skipped, not failed.
 *
 * Subnormals and infinities come in separate cases: armv7's NEON flushes a
 * subnormal operand to zero (kernels/neon/ieee-neon.h), so there an
 * infinite input times a subnormal weight is NaN where the reference
 * has an infinity. */
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

#include "kernels/kernels.h"
#include "kernels/ref/ref.h"
#include "ops/window.h"
#include "scopenn.h"
#include "tester.h"

struct dw_kernel {
    sn_isa isa;
    const char *name;
    sn_f32_dwconv_fn fn;
};

#define SN_DWCONV_KERNEL(isa, fn) {isa, #fn, fn},
static const struct dw_kernel kernels[] = {
#include "kernels/f32-dwconv.inc"
};
#undef SN_DWCONV_KERNEL

static uint32_t rng = 11;
static uint32_t next(void) { return rng = rng * 1664525u + 1013904223u; }

/* What a case's data holds besides ordinary values in [-1, 1). */
enum fill { PLAIN, SPECIALS, SUBNORMALS, FILLS };

/* An ordinary value, or now and then (1 in 32) a special one of `fill`:
 * NaN, infinities, zeros of either sign and large numbers (at most 1e15,
 * so no product or sum of this file's overflows), or subnormals. */
static float value(enum fill fill) {
    const uint32_t r = next();
    if (fill != PLAIN && (r >> 27) == 0) {
        static const float specials[] = {NAN,  -NAN,  INFINITY, -INFINITY,
                                         0.0f, -0.0f, 1e15f,    -3e12f};
        static const float subnormals[] = {1e-40f, -1e-40f, 1.2e-44f, -5e-39f, 1e-38f, 0.0f};
        return fill == SPECIALS ? specials[(r >> 8) % COUNT(specials)]
                                : subnormals[(r >> 8) % COUNT(subnormals)];
    }
    return (float)(r >> 8) / 8388608.0f - 1.0f;
}

enum { GUARD = 64 };
static const float guard_value = 12345.0f;

/* A case: padding 0 SAME, 1 VALID, 2 explicit (top, bottom, left, right). */
struct dw_shape {
    int batch, h, w, c, m, kh, kw, sh, sw, dh, dw;
    int padding;
    int pads[4];
    int bias;
    sn_activation act;
    enum fill fill;
};

static const char *describe(const struct dw_shape *s, char *buf, size_t size) {
    static const char *const acts[] = {"none", "relu", "relu6"};
    static const char *const fills[] = {"plain", "NaN and infinities", "subnormals"};
    char padding[64] = "SAME";
    if (s->padding == 1)
        snprintf(padding, sizeof padding, "VALID");
    else if (s->padding == 2)
        snprintf(padding, sizeof padding, "padding top %d bottom %d left %d right %d", s->pads[0],
                 s->pads[1], s->pads[2], s->pads[3]);
    snprintf(buf, size,
             "input %dx%dx%dx%d, multiplier %d, window %dx%d, strides %d,%d, dilations %d,%d, "
             "%s, %s, act %s, data %s",
             s->batch, s->h, s->w, s->c, s->m, s->kh, s->kw, s->sh, s->sw, s->dh, s->dw, padding,
             s->bias ? "bias" : "no bias", acts[s->act], fills[s->fill]);
    return buf;
}

/* One axis's output size and padding before; false if nothing fits. */
static int axis(int in, int k, int stride, int dilation, int padding, int before, int after,
                int64_t *out, int64_t *pad) {
    if (padding < 2) return sn_window(in, k, stride, dilation, (sn_padding)padding, out, pad);
    const int64_t span = (int64_t)(k - 1) * dilation + 1, total = (int64_t)in + before + after;
    if (total < span) return 0;
    *out = (total - span) / stride + 1;
    *pad = before;
    return 1;
}

static int geometry(const struct dw_shape *s, sn_conv2d_geometry *g) {
    int64_t oh, ow, top, left;
    if (!axis(s->h, s->kh, s->sh, s->dh, s->padding, s->pads[0], s->pads[1], &oh, &top) ||
        !axis(s->w, s->kw, s->sw, s->dw, s->padding, s->pads[2], s->pads[3], &ow, &left))
        return 0;
    *g = (sn_conv2d_geometry){.batch = s->batch,
                              .in_h = s->h,
                              .in_w = s->w,
                              .in_c = s->c,
                              .kh = s->kh,
                              .kw = s->kw,
                              .out_c = (int64_t)s->c * s->m,
                              .out_h = oh,
                              .out_w = ow,
                              .stride_h = s->sh,
                              .stride_w = s->sw,
                              .dilation_h = s->dh,
                              .dilation_w = s->dw,
                              .pad_top = top,
                              .pad_left = left};
    return 1;
}

/* got within the tolerance of want (see the top of the file). */
static int close_enough(float got, float want, double magnitude, int taps) {
    if (isnan(want)) return isnan(got);
    if (isinf(want)) return got == want;
    const double tol = 1e-6 + 2.0 * (taps + 1) * FLT_EPSILON * magnitude;
    return fabs((double)got - (double)want) <= tol;
}

static void *allocate(size_t floats) {
    void *p = malloc(floats ? floats * sizeof(float) : 1);
    assert_non_null(p);
    return p;
}

/* Checks kernel k on shape s; returns the output floats checked. */
static size_t check(const struct dw_kernel *k, const struct dw_shape *s) {
    sn_conv2d_geometry g;
    if (!geometry(s, &g)) return 0;
    const size_t in_n = (size_t)(g.batch * g.in_h * g.in_w * g.in_c),
                 w_n = (size_t)(g.kh * g.kw * g.out_c), row_floats = (size_t)(g.out_w * g.out_c),
                 rows = (size_t)(g.batch * g.out_h), out_n = rows * row_floats;
    float *in = allocate(in_n), *w = allocate(w_n), *bias = allocate((size_t)g.out_c);
    float *abs_in = allocate(in_n), *abs_w = allocate(w_n), *abs_bias = allocate((size_t)g.out_c);
    float *want = allocate(out_n), *mag = allocate(out_n), *whole = allocate(out_n + GUARD),
          *got = allocate(out_n + GUARD);
    for (size_t i = 0; i < in_n; i++) abs_in[i] = fabsf(in[i] = value(s->fill));
    for (size_t i = 0; i < w_n; i++) abs_w[i] = fabsf(w[i] = value(s->fill));
    for (int64_t i = 0; i < g.out_c; i++) abs_bias[i] = fabsf(bias[i] = value(s->fill));
    const float *b = s->bias ? bias : NULL;
    sn_f32_depthwise_conv2d_ref(&g, in, w, b, s->act, want, 0, (int64_t)rows);
    sn_f32_depthwise_conv2d_ref(&g, abs_in, abs_w, s->bias ? abs_bias : NULL, SN_ACT_NONE, mag, 0,
                                (int64_t)rows);
    char buf[320];

    /* all rows at once, against the reference */
    for (size_t i = 0; i < out_n + GUARD; i++) whole[i] = guard_value;
    k->fn(&g, in, w, b, s->act, whole, 0, (int64_t)rows);
    for (size_t i = 0; i < out_n; i++) {
        const int exact = k->isa == SN_ISA_SCALAR;
        if (exact ? to_bits(whole[i]) == to_bits(want[i])
                  : close_enough(whole[i], want[i], mag[i], s->kh * s->kw))
            continue;
        const size_t c = i % (size_t)g.out_c, x = i / (size_t)g.out_c % (size_t)g.out_w,
                     row = i / row_floats;
        fail_msg("%s: %s: output [%zu,%zu,%zu,%zu] = %.9g (0x%08x), reference %.9g (0x%08x), "
                 "sum of magnitudes %.9g",
                 k->name, describe(s, buf, sizeof buf), row / (size_t)g.out_h,
                 row % (size_t)g.out_h, x, c, whole[i], (unsigned)to_bits(whole[i]), want[i],
                 (unsigned)to_bits(want[i]), mag[i]);
    }
    for (size_t i = out_n; i < out_n + GUARD; i++)
        if (whole[i] != guard_value)
            fail_msg("%s: %s: wrote past the output (float %zu of %zu)", k->name,
                     describe(s, buf, sizeof buf), i, out_n);

    /* the rows in 2 or 3 ranges, as threads take them: the same floats;
     * then one range alone, which leaves the other rows untouched */
    size_t cut[4] = {0, rows ? next() % (rows + 1) : 0, 0, rows};
    cut[2] = cut[1] + (rows - cut[1] ? next() % (rows - cut[1] + 1) : 0);
    const size_t lo = rows ? next() % rows : 0, hi = rows ? lo + 1 + next() % (rows - lo) : 0;
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < out_n + GUARD; i++) got[i] = guard_value;
        if (pass == 0)
            for (int r = 0; r < 3; r++)
                k->fn(&g, in, w, b, s->act, got, (int64_t)cut[r], (int64_t)cut[r + 1]);
        else
            k->fn(&g, in, w, b, s->act, got, (int64_t)lo, (int64_t)hi);
        for (size_t i = 0; i < out_n + GUARD; i++) {
            const size_t row = i / (row_floats ? row_floats : 1);
            const int in_range = i < out_n && (pass == 0 || (row >= lo && row < hi));
            const float expect = in_range ? whole[i] : guard_value;
            if (to_bits(got[i]) != to_bits(expect))
                fail_msg("%s: %s: rows [%zu, %zu) of %zu (cuts %zu %zu): float %zu = %.9g "
                         "(0x%08x), %s %.9g (0x%08x)",
                         k->name, describe(s, buf, sizeof buf), pass ? lo : 0, pass ? hi : rows,
                         rows, cut[1], cut[2], i, got[i], (unsigned)to_bits(got[i]),
                         in_range ? "all rows at once gave" : "untouched", expect,
                         (unsigned)to_bits(expect));
        }
    }
    free(in), free(w), free(bias), free(abs_in), free(abs_w), free(abs_bias);
    free(want), free(mag), free(whole), free(got);
    return out_n;
}

/* Shapes and output floats checked per kernel, since the test began. */
static size_t shapes[COUNT(kernels)], floats[COUNT(kernels)];

/* Runs `s` on every kernel the host can run, and counts it. */
static void check_all(const struct dw_shape *s) {
    for (size_t i = 0; i < COUNT(kernels); i++) {
        if (!runnable(kernels[i].isa)) continue;
        const size_t n = check(&kernels[i], s);
        if (n || s->batch == 0) shapes[i]++;
        floats[i] += n;
    }
}

static void report(void) {
    for (size_t i = 0; i < COUNT(kernels); i++) {
        if (!runnable(kernels[i].isa))
            print_message("skip %s: this CPU cannot run %s\n", kernels[i].name,
                          sn_isa_name(kernels[i].isa));
        else
            print_message("%s: %zu shapes (%zu floats) agree with the reference\n", kernels[i].name,
                          shapes[i], floats[i]);
    }
}

/* Each test starts its counts from 0 (a failed one leaves its own). */
static int reset_counts(void **state) {
    (void)state;
    memset(shapes, 0, sizeof shapes);
    memset(floats, 0, sizeof floats);
    return 0;
}

/* The fast paths' shapes (multiplier 1, 3x3 and 5x5, strides 1 and 2):
 * channels 1..67 over every tail, widths 1..21 over the tiles of 8, and
 * what lies around them. */
static void test_fast_shapes(void **state) {
    (void)state;
    for (int c = 1; c <= 67; c++) {
        const int k = c % 2 ? 3 : 5, stride = 1 + (c / 2) % 2;
        struct dw_shape s = {1 + c % 3,
                             3 + c % 7,
                             1 + (c * 5) % 21,
                             c,
                             1,
                             k,
                             k,
                             stride,
                             stride,
                             1,
                             1,
                             c % 3,
                             {c % 4, (c / 4) % 3, (c / 3) % 4, c % 2},
                             c % 4 != 0,
                             (sn_activation)(c % 3),
                             (enum fill)(c % FILLS)};
        check_all(&s);
    }
    for (int w = 1; w <= 21; w++)
        for (int k = 3; k <= 5; k += 2)
            for (int stride = 1; stride <= 2; stride++)
                for (int pad = 0; pad < 3; pad++) {
                    const int c = 1 + (w * 7 + k + stride * 3 + pad) % 40;
                    struct dw_shape s = {1 + w % 2,
                                         1 + (w + pad) % 9,
                                         w,
                                         c,
                                         1,
                                         k,
                                         k,
                                         stride,
                                         stride,
                                         1,
                                         1,
                                         pad,
                                         {w % 3, k / 2, k / 2, (w + 1) % 3},
                                         (w + pad) % 3 != 0,
                                         (sn_activation)((w + k) % 3),
                                         (enum fill)((w + stride) % FILLS)};
                    check_all(&s);
                }
    /* MobileNet's and EfficientNet's own: 32, 96, 144 channels */
    static const struct dw_shape nets[] = {
        {1, 14, 14, 32, 1, 3, 3, 1, 1, 1, 1, 0, {0}, 1, SN_ACT_RELU6, PLAIN},
        {2, 15, 13, 96, 1, 3, 3, 2, 2, 1, 1, 0, {0}, 1, SN_ACT_RELU6, SPECIALS},
        {1, 9, 10, 144, 1, 5, 5, 1, 1, 1, 1, 0, {0}, 1, SN_ACT_NONE, PLAIN},
        {1, 12, 11, 72, 1, 5, 5, 2, 2, 1, 1, 2, {1, 2, 1, 2}, 1, SN_ACT_RELU, SUBNORMALS},
        {1, 7, 7, 40, 1, 5, 5, 1, 1, 1, 1, 0, {0}, 0, SN_ACT_RELU6, PLAIN},
    };
    for (size_t i = 0; i < COUNT(nets); i++) check_all(&nets[i]);
    report();
}

/* Everything else: windows by strides, dilations, paddings and images,
 * multipliers 1 to 3. */
static void test_generic_shapes(void **state) {
    (void)state;
    static const int windows[][2] = {{1, 1}, {3, 3}, {5, 5}, {3, 2}, {7, 7}};
    static const int images[][2] = {{1, 1}, {2, 2}, {5, 7}, {12, 11}};
    /* explicit paddings: symmetric, asymmetric, wider than any window */
    static const int pads[][4] = {{1, 1, 1, 1}, {0, 2, 3, 1}, {9, 8, 8, 10}};
    int i = 0;
    for (size_t wi = 0; wi < COUNT(windows); wi++)
        for (int stride = 1; stride <= 3; stride++)
            for (int dilation = 1; dilation <= 2; dilation++)
                for (int pad = 0; pad < 5; pad++)
                    for (size_t im = 0; im < COUNT(images); im++, i++) {
                        const int m = 1 + i % 3 % 2 * (1 + i / 3 % 2); /* 1, 2 or 3 */
                        struct dw_shape s = {1 + i % 3,
                                             images[im][0],
                                             images[im][1],
                                             1 + (i * 7) % 19,
                                             m,
                                             windows[wi][0],
                                             windows[wi][1],
                                             stride,
                                             1 + (stride + i) % 3,
                                             dilation,
                                             1 + (i / 2) % 2,
                                             pad < 2 ? pad : 2,
                                             {0},
                                             i % 4 != 1,
                                             (sn_activation)(i % 3),
                                             (enum fill)(i % FILLS)};
                        if (pad >= 2) memcpy(s.pads, pads[pad - 2], sizeof s.pads);
                        check_all(&s);
                    }
    /* multipliers over channels 1..67 (the vector tails of the output
     * channels), a 3x3 window */
    for (int c = 1; c <= 67; c += 3)
        for (int m = 2; m <= 3; m++) {
            struct dw_shape s = {1,
                                 4,
                                 5,
                                 c,
                                 m,
                                 3,
                                 3,
                                 1 + c % 2,
                                 1 + c % 2,
                                 1,
                                 1,
                                 c % 3,
                                 {1, 0, 0, 1},
                                 c % 2,
                                 (sn_activation)(c % 3),
                                 (enum fill)(c % FILLS)};
            check_all(&s);
        }
    report();
}

/* Batches 0 to 3, and 1x1 and 2x2 images through every window. */
static void test_batches_and_tiny_images(void **state) {
    (void)state;
    for (int batch = 0; batch <= 3; batch++)
        for (int size = 1; size <= 2; size++)
            for (int k = 1; k <= 7; k += 2) {
                struct dw_shape s = {batch,        size, size,        9 + k,
                                     1 + k % 2,    k,    k,           1 + size % 2,
                                     1 + size % 2, 1,    1,           0,
                                     {0},          1,    SN_ACT_RELU, (enum fill)(k % FILLS)};
                check_all(&s);
                s.padding = 2, s.pads[0] = k, s.pads[1] = 0, s.pads[2] = 1, s.pads[3] = k + 1;
                check_all(&s);
            }
    report();
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_fast_shapes, reset_counts),
        cmocka_unit_test_setup(test_generic_shapes, reset_counts),
        cmocka_unit_test_setup(test_batches_and_tiny_images, reset_counts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
