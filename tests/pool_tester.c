/* Every pooling kernel of every kernel set the host runs, against the
 * reference (sn_f32_max_pool_ref, sn_f32_avg_pool_ref): channels 1..67
 * (primes among them) and past the 4-vector blocks, windows 1..5 (square and
 * not), strides 1 and 2, SAME and VALID, 1x1 images, batch 1 and 3; inputs
 * with NaNs (quiet and signaling, either sign, several payloads), +-inf,
 * -0, subnormals and normals that add up to one sprinkled in (armv7's NEON
 * flushes subnormals to zero), and windows of -inf only. The kernels add
 * and compare in the reference's order, so they must give its floats bit
 * for bit: max exactly, NaN payloads included (it only picks an input);
 * average any NaN for a NaN. Each runs over row ranges, as the session's
 * threads call it: rows outside the range and guard floats after the
 * output must stay untouched. A kernel set the CPU lacks is skipped, not
 * failed. Then, on every kernel set and the reference alike, worked
 * answers: max of -inf only is -inf, a NaN in a window gives the last NaN
 * in window order; and windows and strides up to INT_MAX, which must cost
 * the part of the window inside the image, not the window (an alarm fails
 * the test rather than let it hang). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ops/window.h"
#include "kernels/kernels.h"
#include "kernels/ref/ref.h"
#include "scopenn.h"
#include "tester.h"

struct pool_kernel {
    sn_isa isa;
    const char *name;
    int average;
    sn_f32_pool_fn fn;
};

/* Names for the tokens of f32-pool.inc. */
enum { op_max_pool = 0, op_avg_pool = 1 };

#define SN_POOL_KERNEL(isa, op, fn) {isa, #fn, op_##op, fn},
static const struct pool_kernel kernels[] = {
#include "kernels/f32-pool.inc"
};
#undef SN_POOL_KERNEL

static uint32_t rng = 7;
static uint32_t next(void) { return rng = rng * 1664525u + 1013904223u; }

/* NaNs that differ in sign, payload and quietness, so that a kernel which
 * keeps another NaN than the reference's, or quiets a signaling one, is
 * seen. */
static const uint32_t nan_bits[] = {0x7FC00000u, 0xFFC00000u, 0x7FC12345u, 0xFFE54321u,
                                    0x7F800001u, 0xFF812345u, 0x7FA00000u};

/* Ordinary values, and now and then (1 in 32) a special one. */
static float value(int specials) {
    uint32_t r = next();
    if (specials && (r >> 27) == 0) {
        static const float special[] = {0.0f,     INFINITY, -INFINITY, -0.0f,    0.0f,
                                        -FLT_MAX, 1e-40f,   -1e-40f,   1.5e-38f, -1.2e-38f};
        const uint32_t i = (r >> 8) % (COUNT(special) + 3);
        return i < COUNT(special) ? special[i] : from_bits(nan_bits[(r >> 12) % COUNT(nan_bits)]);
    }
    return (float)(r >> 8) / 8388608.0f - 1.0f;
}

enum { GUARD = 64 };
static const float guard_value = 12345.0f;

struct shape {
    int batch, h, w, c, kh, kw, stride_h, stride_w;
    sn_padding padding;
};

/* Bit for bit; unless `exact`, any NaN for a NaN. */
static int same_float(float a, float b, int exact) {
    return (!exact && isnan(a) && isnan(b)) || memcmp(&a, &b, sizeof a) == 0;
}

static const char *describe(const struct shape *s, char *buf, size_t size) {
    snprintf(buf, size, "input %dx%dx%dx%d, window %dx%d, strides %dx%d, %s", s->batch, s->h, s->w,
             s->c, s->kh, s->kw, s->stride_h, s->stride_w,
             s->padding == SN_PADDING_SAME ? "SAME" : "VALID");
    return buf;
}

/* The geometry of shape `s` as the session makes it; false if VALID
 * leaves no output (the window is larger than the image). */
static int geometry(const struct shape *s, sn_conv2d_geometry *g) {
    int64_t oh, ow, top, left;
    if (!sn_window(s->h, s->kh, s->stride_h, 1, s->padding, &oh, &top) ||
        !sn_window(s->w, s->kw, s->stride_w, 1, s->padding, &ow, &left))
        return 0;
    *g = (sn_conv2d_geometry){.batch = s->batch,
                              .in_h = s->h,
                              .in_w = s->w,
                              .in_c = s->c,
                              .kh = s->kh,
                              .kw = s->kw,
                              .out_c = s->c,
                              .out_h = oh,
                              .out_w = ow,
                              .stride_h = s->stride_h,
                              .stride_w = s->stride_w,
                              .dilation_h = 1,
                              .dilation_w = 1,
                              .pad_top = top,
                              .pad_left = left};
    return 1;
}

/* Returns the number of output floats checked (0 if the shape is invalid). */
static size_t check(const struct pool_kernel *k, const struct shape *s, int fill) {
    sn_conv2d_geometry g;
    if (!geometry(s, &g)) return 0;
    const int64_t oh = g.out_h, ow = g.out_w;
    const size_t in_n = (size_t)(s->batch * s->h * s->w * s->c);
    const size_t row_floats = (size_t)(ow * s->c), rows = (size_t)(s->batch * oh);
    const size_t out_n = rows * row_floats;
    float *in = malloc(in_n * sizeof(float) + 4), *want = malloc(out_n * sizeof(float) + 4);
    float *got = malloc((out_n + GUARD) * sizeof(float));
    assert_true(in && want && got);
    for (size_t i = 0; i < in_n; i++) in[i] = fill == 2 ? -INFINITY : value(fill);
    (k->average ? sn_f32_avg_pool_ref : sn_f32_max_pool_ref)(&g, in, want, 0, (int64_t)rows);

    /* the whole in two row ranges, as two threads would; then one range
     * alone, which must leave every other row as it was */
    size_t split = rows ? next() % (rows + 1) : 0;
    size_t lo = rows ? next() % rows : 0, hi = rows ? lo + 1 + next() % (rows - lo) : 0;
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < out_n + GUARD; i++) got[i] = guard_value;
        if (pass == 0) {
            k->fn(&g, in, got, 0, (int64_t)split);
            k->fn(&g, in, got, (int64_t)split, (int64_t)rows);
        } else {
            k->fn(&g, in, got, (int64_t)lo, (int64_t)hi);
        }
        for (size_t i = 0; i < out_n; i++) {
            size_t row = i / row_floats;
            int in_range = pass == 0 || (row >= lo && row < hi);
            float expect = in_range ? want[i] : guard_value;
            if (!same_float(got[i], expect, !k->average || !in_range)) {
                char buf[160];
                size_t c = i % (size_t)s->c, x = i / (size_t)s->c % (size_t)ow;
                fail_msg("%s: %s, rows [%zu, %zu) of %zu: output [%zu,%zu,%zu,%zu] = %.9g "
                         "(0x%08x), %s %.9g (0x%08x)",
                         k->name, describe(s, buf, sizeof buf), pass ? lo : 0, pass ? hi : rows,
                         rows, row / (size_t)oh, row % (size_t)oh, x, c, got[i],
                         (unsigned)to_bits(got[i]), in_range ? "reference" : "untouched", expect,
                         (unsigned)to_bits(expect));
            }
        }
        for (size_t i = out_n; i < out_n + GUARD; i++)
            if (got[i] != guard_value)
                fail_msg("%s: wrote past the output (float %zu of %zu)", k->name, i, out_n);
    }
    free(in), free(want), free(got);
    return out_n;
}

static void test_pool_kernels(void **state) {
    (void)state;
    static const int channel_list[] = {1, 2, 3, 7, 8, 9, 16, 17, 31, 32, 33, 63, 64, 65, 97, 130};
    static const int sizes[][2] = {{1, 1}, {1, 4}, {2, 3}, {5, 5}, {6, 7}, {9, 4}};
    int ran = 0;
    for (size_t i = 0; i < COUNT(kernels); i++) {
        const struct pool_kernel *k = &kernels[i];
        if (!runnable(k->isa)) {
            print_message("skip %s: this CPU cannot run %s\n", k->name, sn_isa_name(k->isa));
            continue;
        }
        size_t shapes = 0, floats = 0, n;
        /* channels 1..67, with specials, through windows and paddings */
        for (int c = 1; c <= 67; c++) {
            struct shape s = {1 + 2 * (c % 2),
                              5,
                              7,
                              c,
                              1 + c % 5,
                              1 + (c / 5) % 5,
                              1 + c % 2,
                              1 + (c / 2) % 2,
                              (sn_padding)(c % 3 == 0)};
            if ((n = check(k, &s, 1))) shapes++, floats += n;
        }
        /* windows 1..5 by strides, paddings, image sizes, channel counts */
        for (int kk = 1; kk <= 5; kk++)
            for (int stride = 1; stride <= 2; stride++)
                for (int pad = 0; pad < 2; pad++)
                    for (size_t z = 0; z < COUNT(sizes); z++) {
                        int c =
                            channel_list[(kk * 7 + stride * 3 + pad + z * 5) % COUNT(channel_list)];
                        struct shape s = {1 + 2 * (int)(z % 2),
                                          sizes[z][0],
                                          sizes[z][1],
                                          c,
                                          kk,
                                          kk + (int)z % 2,
                                          stride,
                                          stride,
                                          (sn_padding)pad};
                        if ((n = check(k, &s, (int)(z % 2)))) shapes++, floats += n;
                    }
        /* every channel count past the vector blocks, on one geometry */
        for (size_t j = 0; j < COUNT(channel_list); j++) {
            struct shape s = {3, 4, 5, channel_list[j], 3, 3, 2, 1, SN_PADDING_SAME};
            if ((n = check(k, &s, 1))) shapes++, floats += n;
        }
        /* windows of -inf only, and 1x1 images with any window */
        if ((n = check(k, &(struct shape){1, 4, 4, 19, 2, 2, 2, 2, SN_PADDING_VALID}, 2)))
            shapes++, floats += n;
        for (int kk = 1; kk <= 5; kk++)
            if ((n = check(k, &(struct shape){3, 1, 1, 20 + kk, kk, kk, 2, 2, SN_PADDING_SAME}, 1)))
                shapes++, floats += n;
        print_message("%s: %zu shapes (%zu floats) agree with the reference\n", k->name, shapes,
                      floats);
        ran++;
    }
    assert_true(ran >= 2); /* the scalar kernels at least */
}

/* The references themselves on a case worked by hand: 3x3 input, 2x2
 * window, stride 2, SAME (TF pads at the end): windows of 4, 2, 2, 1
 * pixels; average divides by those counts, not by 4. */
static void test_pool_reference(void **state) {
    (void)state;
    const float in[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
    int64_t oh, top;
    assert_true(sn_window(3, 2, 2, 1, SN_PADDING_SAME, &oh, &top));
    sn_conv2d_geometry g = {.batch = 1,
                            .in_h = 3,
                            .in_w = 3,
                            .in_c = 1,
                            .kh = 2,
                            .kw = 2,
                            .out_c = 1,
                            .out_h = oh,
                            .out_w = oh,
                            .stride_h = 2,
                            .stride_w = 2,
                            .dilation_h = 1,
                            .dilation_w = 1,
                            .pad_top = top,
                            .pad_left = top};
    float avg[4], max[4];
    sn_f32_avg_pool_ref(&g, in, avg, 0, 2);
    sn_f32_max_pool_ref(&g, in, max, 0, 2);
    const float want_avg[4] = {3.0f, 4.5f, 7.5f, 9.0f}, want_max[4] = {5, 6, 8, 9};
    assert_memory_equal(avg, want_avg, sizeof avg);
    assert_memory_equal(max, want_max, sizeof max);
}

/* Max over n values in window order, as the contract says (include/
 * scopenn.h, sn_max_pool): the last NaN if there is one, else the largest
 * value, the first of equal ones (-0 before +0 gives -0); -inf for none. */
static float max_of(const float *v, size_t n) {
    float m = -INFINITY;
    int nan = 0;
    for (size_t i = 0; i < n; i++) {
        if (isnan(v[i]))
            m = v[i], nan = 1;
        else if (!nan && v[i] > m)
            m = v[i];
    }
    return m;
}

/* Runs kernel k on shape s over all its rows and checks every output
 * against the contract, from the window's values gathered here: max_of(),
 * or the sum in window order divided by the count. */
static void check_contract(const struct pool_kernel *k, const struct shape *s, const float *in) {
    sn_conv2d_geometry g;
    assert_true(geometry(s, &g));
    const size_t out_n = (size_t)(g.batch * g.out_h * g.out_w * g.out_c);
    float *got = malloc(out_n * sizeof(float) + 4);
    float *v = malloc((size_t)(s->h * s->w) * sizeof(float) + 4);
    assert_true(got && v);
    k->fn(&g, in, got, 0, g.batch * g.out_h);
    for (int64_t n = 0; n < g.batch; n++)
        for (int64_t oy = 0; oy < g.out_h; oy++)
            for (int64_t ox = 0; ox < g.out_w; ox++)
                for (int64_t c = 0; c < g.in_c; c++) {
                    size_t count = 0;
                    float sum = 0.0f;
                    for (int64_t y = 0; y < g.in_h; y++)
                        for (int64_t x = 0; x < g.in_w; x++) {
                            const int64_t dy = y - (oy * g.stride_h - g.pad_top);
                            const int64_t dx = x - (ox * g.stride_w - g.pad_left);
                            if (dy < 0 || dy >= g.kh || dx < 0 || dx >= g.kw) continue;
                            v[count++] = in[((n * g.in_h + y) * g.in_w + x) * g.in_c + c];
                            sum += v[count - 1];
                        }
                    const float want =
                        k->average ? (count ? sum / (float)count : 0.0f) : max_of(v, count);
                    const float out = got[((n * g.out_h + oy) * g.out_w + ox) * g.out_c + c];
                    if (!same_float(out, want, !k->average)) {
                        char buf[160];
                        fail_msg("%s: %s: output [%lld,%lld,%lld,%lld] = %.9g (0x%08x), want "
                                 "%.9g (0x%08x)",
                                 k->name, describe(s, buf, sizeof buf), (long long)n, (long long)oy,
                                 (long long)ox, (long long)c, out, (unsigned)to_bits(out), want,
                                 (unsigned)to_bits(want));
                    }
                }
    free(got), free(v);
}

/* Every kernel set and the reference, against the contract: max of -inf
 * only is -inf (not -FLT_MAX), and so is their average; a NaN anywhere in
 * a window gives the last NaN in window order (rows, then columns), bit for
 * bit, whatever comes after it; -0 then +0 gives -0. 70 channels: an
 * AVX-512 block of 64, AVX2 and NEON blocks and a tail. */
static void test_pool_special_windows(void **state) {
    (void)state;
    enum { C = 70 };
    static float in[2 * 5 * 5 * C];
    const struct shape shapes[] = {
        {1, 3, 3, C, 3, 3, 1, 1, SN_PADDING_VALID}, /* one window: the image */
        {2, 5, 5, C, 3, 3, 1, 1, SN_PADDING_SAME},  /* windows of 4, 6 and 9 pixels */
        {1, 5, 4, 13, 2, 3, 2, 1, SN_PADDING_SAME},
    };
    for (size_t i = 0; i < COUNT(kernels); i++) {
        const struct pool_kernel *k = &kernels[i];
        if (!runnable(k->isa)) continue;
        for (size_t j = 0; j < COUNT(shapes); j++) {
            const struct shape *s = &shapes[j];
            const size_t pixels = (size_t)(s->batch * s->h * s->w), n = pixels * (size_t)s->c;
            for (size_t e = 0; e < n; e++) in[e] = -INFINITY;
            check_contract(k, s, in);
            /* channel c: ordinary values, c % 4 NaNs of several kinds, and
             * now and then +inf, or -0 before +0 */
            for (size_t e = 0; e < n; e++) in[e] = value(0);
            for (size_t c = 0; c < (size_t)s->c; c++) {
                for (size_t t = 0; t < c % 4; t++)
                    in[(c * 7 + t * 5) % pixels * (size_t)s->c + c] =
                        from_bits(nan_bits[(c + t) % COUNT(nan_bits)]);
                if (c % 5 == 1) in[(c * 3) % pixels * (size_t)s->c + c] = INFINITY;
                if (c % 6 == 2)
                    for (size_t p = 0; p < pixels; p++)
                        in[p * (size_t)s->c + c] = (p & 1) ? 0.0f : -0.0f;
            }
            check_contract(k, s, in);
        }
    }
}

/* Windows and strides up to INT_MAX on small images, SAME and VALID: each
 * kernel must cost the part of its window inside the image, and agree with
 * the reference (and, where every window covers the image, with the
 * contract). Before the reference clipped its windows, INT_MAX x INT_MAX
 * taps took forever: the alarm fails the test instead. */
static void test_pool_huge_windows(void **state) {
    (void)state;
    const int big = INT_MAX;
    const struct shape shapes[] = {
        {1, 4, 4, 19, big, big, 1, 1, SN_PADDING_SAME},
        {2, 3, 5, 35, big, big, 2, 3, SN_PADDING_SAME},
        {1, 1, 1, 70, big, big, big, big, SN_PADDING_SAME},
        {3, 4, 4, 17, big - 1, 3, big, 1, SN_PADDING_SAME},
        {1, 2, 7, 9, 2, big - 1, 1, 2, SN_PADDING_SAME},
        {1, 4, 4, 33, big, 1, 1, big, SN_PADDING_SAME},
        {2, 4, 4, 19, 4, 4, big, big, SN_PADDING_VALID},
        {1, 5, 3, 65, 2, 3, big, big - 1, SN_PADDING_VALID},
    };
    static float in[3 * 7 * 7 * 70];
    alarm(120);
    for (size_t i = 0; i < COUNT(kernels); i++) {
        const struct pool_kernel *k = &kernels[i];
        if (!runnable(k->isa)) continue;
        for (size_t j = 0; j < COUNT(shapes); j++) {
            const struct shape *s = &shapes[j];
            assert_true(check(k, s, 1) > 0);
            if (s->kh == big && s->kw == big) {
                const size_t n = (size_t)(s->batch * s->h * s->w * s->c);
                for (size_t e = 0; e < n; e++) in[e] = value(1);
                check_contract(k, s, in);
            }
        }
        /* VALID with a window larger than the image has no output */
        assert_int_equal(check(k, &(struct shape){1, 4, 4, 3, big, big, 1, 1, SN_PADDING_VALID}, 1),
                         0);
    }
    alarm(0);
}

/* Can a window lie entirely in the padding, where max would give -inf and
 * average 0? Not as TensorFlow pads: SAME pads at most k - 1 in all, the
 * first window reaches pixel 0 and the last starts before the image ends;
 * VALID windows lie inside. Every window of every small geometry, and of
 * windows and strides near INT_MAX, touches the image. */
static void test_pool_windows_touch_image(void **state) {
    (void)state;
    static const int ks[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, INT_MAX - 1, INT_MAX};
    for (int pad = 0; pad < 2; pad++)
        for (int64_t in = 1; in <= 12; in++)
            for (size_t a = 0; a < COUNT(ks); a++)
                for (size_t b = 0; b < COUNT(ks); b++) {
                    int64_t out, before;
                    if (!sn_window(in, ks[a], ks[b], 1, (sn_padding)pad, &out, &before)) continue;
                    assert_true(out >= 1);
                    for (int64_t o = 0; o < out; o++) {
                        const int64_t start = o * ks[b] - before;
                        if (!(start < in && start + ks[a] > 0))
                            fail_msg("input %lld, window %d, stride %d, %s: window %lld is "
                                     "[%lld, %lld), outside the image",
                                     (long long)in, ks[a], ks[b], pad ? "VALID" : "SAME",
                                     (long long)o, (long long)start, (long long)(start + ks[a]));
                    }
                }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pool_reference),           cmocka_unit_test(test_pool_kernels),
        cmocka_unit_test(test_pool_special_windows),     cmocka_unit_test(test_pool_huge_windows),
        cmocka_unit_test(test_pool_windows_touch_image),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
