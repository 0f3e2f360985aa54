/* Every pooling kernel of every kernel set the host runs, against the
 * reference (sn_f32_max_pool_ref, sn_f32_avg_pool_ref): channels 1..67
 * (primes among them) and past the 4-vector blocks, windows 1..5 (square and
 * not), strides 1 and 2, SAME and VALID, 1x1 images, batch 1 and 3; inputs
 * with NaN, +-inf, -0, subnormals and normals that add up to one sprinkled
 * in (armv7's NEON flushes subnormals to zero), and windows of -inf only
 * (max gives -FLT_MAX, as TensorFlow does). The kernels add and compare in
 * the reference's order, so they must give its floats bit for bit (any NaN
 * for a NaN). Each runs over row ranges, as the session's threads call it:
 * rows outside the range and guard floats after the output must stay
 * untouched. A kernel set the CPU lacks is skipped, not failed. */
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

#include "graph/op.h"
#include "kernels/kernels.h"
#include "kernels/ref/ref.h"
#include "scopenn.h"

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

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static int runnable(sn_isa isa) {
    sn_cpu_info info;
    sn_cpu_info_get(&info);
    return (info.isas >> isa) & 1;
}

static uint32_t rng = 7;
static uint32_t next(void) { return rng = rng * 1664525u + 1013904223u; }

/* Ordinary values, and now and then (1 in 32) a special one. */
static float value(int specials) {
    uint32_t r = next();
    if (specials && (r >> 27) == 0) {
        static const float special[] = {NAN,      INFINITY, -INFINITY, -0.0f,    0.0f,
                                        -FLT_MAX, 1e-40f,   -1e-40f,   1.5e-38f, -1.2e-38f};
        return special[(r >> 8) % COUNT(special)];
    }
    return (float)(r >> 8) / 8388608.0f - 1.0f;
}

enum { GUARD = 64 };
static const float guard_value = 12345.0f;

struct shape {
    int batch, h, w, c, kh, kw, stride_h, stride_w;
    sn_padding padding;
};

static int same_float(float a, float b) {
    return (isnan(a) && isnan(b)) || memcmp(&a, &b, sizeof a) == 0;
}

static const char *describe(const struct shape *s, char *buf, size_t size) {
    snprintf(buf, size, "input %dx%dx%dx%d, window %dx%d, strides %dx%d, %s", s->batch, s->h, s->w,
             s->c, s->kh, s->kw, s->stride_h, s->stride_w,
             s->padding == SN_PADDING_SAME ? "SAME" : "VALID");
    return buf;
}

/* Returns the number of output floats checked (0 if the shape is invalid). */
static size_t check(const struct pool_kernel *k, const struct shape *s, int fill) {
    int64_t oh, ow, top, left;
    if (!sn_window(s->h, s->kh, s->stride_h, 1, s->padding, &oh, &top) ||
        !sn_window(s->w, s->kw, s->stride_w, 1, s->padding, &ow, &left))
        return 0;
    sn_conv2d_geometry g = {.batch = s->batch,
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
            if (!same_float(got[i], expect)) {
                char buf[160];
                size_t c = i % (size_t)s->c, x = i / (size_t)s->c % (size_t)ow;
                fail_msg("%s: %s, rows [%zu, %zu) of %zu: output [%zu,%zu,%zu,%zu] = %.9g, %s "
                         "%.9g",
                         k->name, describe(s, buf, sizeof buf), pass ? lo : 0, pass ? hi : rows,
                         rows, row / (size_t)oh, row % (size_t)oh, x, c, got[i],
                         in_range ? "reference" : "untouched", expect);
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

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pool_reference),
        cmocka_unit_test(test_pool_kernels),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
