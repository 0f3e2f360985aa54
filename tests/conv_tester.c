/* Every conv/matmul tile kernel of every kernel set the host runs, against
 * the reference convolution, through the real packer: tails of MR and NR,
 * channels 1..67 (primes among them), 1x1 to 7x7 kernels, strides 1 and 2,
 * dilation 2, SAME and VALID, 1x1 images, batch 1 and 3, each activation.
 * Guard floats after the output catch writes past its end. A kernel set the
 * CPU lacks is skipped, not failed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ops/window.h"
#include "kernels/kernels.h"
#include "kernels/ref/ref.h"
#include "pack/pack.h"
#include "scopenn.h"
#include "tester.h"

struct conv_kernel {
    sn_isa isa;
    const char *name;
    size_t mr, nr;
    sn_f32_conv_ukernel_fn tile, row;
    const sn_packer *packer;
};

#define SN_CONV_KERNEL(isa, mr, nr, tile, row, layout)                                             \
    {isa, #tile, mr, nr, tile, row, &sn_packer_##layout},
static const struct conv_kernel kernels[] = {
#include "kernels/f32-conv.inc"
    {SN_ISA_SCALAR, NULL, 0, 0, NULL, NULL,
     NULL}, /* keeps the list non-empty on any architecture */
};
#undef SN_CONV_KERNEL

static uint32_t rng = 1;
static float random_float(void) {
    rng = rng * 1664525u + 1013904223u;
    return (float)(rng >> 8) / 8388608.0f - 1.0f;
}

enum { GUARD = 64 };
static const float guard_value = 12345.0f;

struct shape {
    int batch, h, w, ic, oc, kh, kw, stride, dilation;
    sn_padding padding;
    sn_activation act;
};

/* Runs one kernel pair over a whole convolution the way the session does:
 * zero-padded input, output rows in runs of pixels (one tile or the whole
 * row), each run's NR blocks in calls of several blocks. */
static void run_kernel(const struct conv_kernel *k, const sn_conv2d_geometry *g, const float *input,
                       const float *packed, const float *bias, float lo, float hi, float *output) {
    int64_t hp = (g->out_h - 1) * g->stride_h + (g->kh - 1) * g->dilation_h + 1;
    int64_t wp = (g->out_w - 1) * g->stride_w + (g->kw - 1) * g->dilation_w + 1;
    float *padded = calloc((size_t)(g->batch * hp * wp * g->in_c) + 1, sizeof(float));
    assert_non_null(padded);
    for (int64_t n = 0; n < g->batch; n++)
        for (int64_t y = 0; y < g->in_h; y++)
            for (int64_t x = 0; x < g->in_w; x++) {
                int64_t py = y + g->pad_top, px = x + g->pad_left;
                if (py < hp && px < wp)
                    memcpy(padded + ((n * hp + py) * wp + px) * g->in_c,
                           input + ((n * g->in_h + y) * g->in_w + x) * g->in_c,
                           (size_t)g->in_c * 4);
            }
    struct sn_conv_tile t = {.pixel_stride = (size_t)(g->stride_w * g->in_c) * 4,
                             .row_stride = (size_t)(g->dilation_h * wp * g->in_c) * 4,
                             .col_stride = (size_t)(g->dilation_w * g->in_c) * 4,
                             .kh = (size_t)g->kh,
                             .kw = (size_t)g->kw,
                             .kc = (size_t)g->in_c,
                             .output_stride = (size_t)g->out_c * 4,
                             .min = lo,
                             .max = hi};
    size_t block = (size_t)(g->kh * g->kw * g->in_c) * k->nr;
    /* calls of one tile, MR pixels, or (every other shape) of a whole row:
     * the kernel cuts a run in tiles itself */
    const size_t step = (g->out_w + g->out_c) % 2 ? (size_t)g->out_w : k->mr;
    for (int64_t n = 0; n < g->batch; n++)
        for (int64_t oy = 0; oy < g->out_h; oy++)
            for (int64_t ox = 0; ox < g->out_w; ox += (int64_t)step) {
                size_t mr = (size_t)(g->out_w - ox) < step ? (size_t)(g->out_w - ox) : step;
                /* two calls over blocks [0, half) and [half, blocks): calls of
                 * one block, of several, and starting past the first */
                size_t blocks = ((size_t)g->out_c + k->nr - 1) / k->nr, half = blocks / 2;
                size_t first[2] = {0, half}, end[2] = {half * k->nr, (size_t)g->out_c};
                for (int call = 0; call < 2; call++) {
                    size_t b = first[call];
                    if (end[call] <= b * k->nr) continue;
                    t.input =
                        padded + ((n * hp + oy * g->stride_h) * wp + ox * g->stride_w) * g->in_c;
                    t.weights = packed + b * block;
                    t.bias = bias + b * k->nr;
                    t.output =
                        output + ((n * g->out_h + oy) * g->out_w + ox) * g->out_c + b * k->nr;
                    (mr > 1 ? k->tile : k->row)(mr, end[call] - b * k->nr, &t);
                }
            }
    free(padded);
}

static void check(const struct conv_kernel *k, const struct shape *s) {
    int64_t oh, ow, top, left;
    int eff_h = (s->kh - 1) * s->dilation + 1, eff_w = (s->kw - 1) * s->dilation + 1;
    if (s->padding == SN_PADDING_VALID && (s->h < eff_h || s->w < eff_w)) return;
    sn_window(s->h, s->kh, s->stride, s->dilation, s->padding, &oh, &top);
    sn_window(s->w, s->kw, s->stride, s->dilation, s->padding, &ow, &left);
    sn_conv2d_geometry g = {s->batch,  s->h,        s->w,        s->ic, s->kh,
                            s->kw,     s->oc,       oh,          ow,    s->stride,
                            s->stride, s->dilation, s->dilation, top,   left};
    size_t in_n = (size_t)(s->batch * s->h * s->w * s->ic),
           w_n = (size_t)(s->kh * s->kw * s->ic * s->oc);
    size_t out_n = (size_t)(s->batch * oh * ow * s->oc);
    float *in = malloc(in_n * 4 + 4), *w = malloc(w_n * 4), *bias = malloc((size_t)s->oc * 4);
    float *want = malloc(out_n * 4 + 4), *got = malloc((out_n + GUARD) * 4);
    float *abs_in = malloc(in_n * 4 + 4), *abs_w = malloc(w_n * 4), *mag = malloc(out_n * 4 + 4);
    for (size_t i = 0; i < in_n; i++) abs_in[i] = fabsf(in[i] = random_float());
    for (size_t i = 0; i < w_n; i++) abs_w[i] = fabsf(w[i] = random_float());
    for (int i = 0; i < s->oc; i++) bias[i] = random_float();
    sn_f32_conv2d_ref(&g, in, w, bias, s->act, want, 0, s->batch * oh);
    sn_f32_conv2d_ref(&g, abs_in, abs_w, NULL, SN_ACT_NONE, mag, 0, s->batch * oh);

    sn_shape filter = SN_SHAPE(s->kh, s->kw, s->ic, s->oc), bias_shape = SN_SHAPE(s->oc);
    float *packed =
        aligned_alloc(64, (k->packer->packed_floats(&filter, (int)k->nr) * 4 + 63) / 64 * 64);
    float *packed_bias =
        aligned_alloc(64, (k->packer->packed_floats(&bias_shape, (int)k->nr) * 4 + 63) / 64 * 64);
    k->packer->pack(w, &filter, (int)k->nr, packed);
    k->packer->pack(bias, &bias_shape, (int)k->nr, packed_bias);
    for (size_t i = 0; i < out_n + GUARD; i++) got[i] = guard_value;
    float lo = s->act == SN_ACT_NONE ? -INFINITY : 0.0f,
          hi = s->act == SN_ACT_RELU6 ? 6.0f : INFINITY;
    run_kernel(k, &g, in, packed, packed_bias, lo, hi, got);

    double k_terms = (double)(s->kh * s->kw * s->ic);
    for (size_t i = 0; i < out_n; i++) {
        double tol = 1e-6 + 2.0 * k_terms * FLT_EPSILON * (mag[i] + 1.0);
        if (!(fabs((double)got[i] - (double)want[i]) <= tol)) {
            size_t c = i % (size_t)s->oc, x = i / (size_t)s->oc % (size_t)ow;
            size_t y = i / (size_t)s->oc / (size_t)ow % (size_t)oh,
                   n = i / (size_t)s->oc / (size_t)ow / (size_t)oh;
            fail_msg(
                "%s: input %dx%dx%dx%d, filter %dx%dx%dx%d, stride %d, dilation %d, %s, act %d: "
                "output [%zu,%zu,%zu,%zu] = %.7g, reference %.7g (tolerance %.3g)",
                k->name, s->batch, s->h, s->w, s->ic, s->kh, s->kw, s->ic, s->oc, s->stride,
                s->dilation, s->padding == SN_PADDING_SAME ? "SAME" : "VALID", (int)s->act, n, y, x,
                c, got[i], want[i], tol);
        }
    }
    for (size_t i = out_n; i < out_n + GUARD; i++)
        if (got[i] != guard_value)
            fail_msg("%s: wrote past the output (float %zu of %zu)", k->name, i, out_n);
    free(in), free(w), free(bias), free(want), free(got), free(abs_in), free(abs_w), free(mag);
    free(packed), free(packed_bias);
}

static void test_conv_kernels(void **state) {
    (void)state;
    int ran = 0;
    for (size_t i = 0; kernels[i].name; i++) {
        const struct conv_kernel *k = &kernels[i];
        if (!runnable(k->isa)) {
            print_message("skip %s: this CPU cannot run %s\n", k->name, sn_isa_name(k->isa));
            continue;
        }
        int shapes = 0;
        /* channels 1..67: the NR tails (and primes) for out, and in */
        for (int oc = 1; oc <= 67; oc++, shapes++)
            check(k, &(struct shape){1, 5, 9, oc % 7 + 1, oc, 3, 3, 1, 1, SN_PADDING_SAME,
                                     (sn_activation)(oc % 3)});
        for (int ic = 1; ic <= 67; ic += 3, shapes++)
            check(k, &(struct shape){1, 4, 7, ic, 19, 1, 1, 1, 1, SN_PADDING_VALID, SN_ACT_NONE});
        /* widths across MR tails, kernels 1..7, strides, dilation, padding */
        for (int width = 1; width <= 2 * (int)k->mr + 3; width++)
            for (int kk = 1; kk <= 7; kk += 2)
                for (int stride = 1; stride <= 2; stride++)
                    for (int pad = 0; pad < 2; pad++, shapes++)
                        check(k, &(struct shape){1 + 2 * (width % 2), 3 + kk % 3, width, 5, 13, kk,
                                                 kk, stride, 1 + (width + kk) % 2, (sn_padding)pad,
                                                 (sn_activation)((width + kk + stride) % 3)});
        /* 1x1 images, 7x7 kernels, batch 3 */
        check(k, &(struct shape){3, 1, 1, 3, 40, 7, 7, 1, 1, SN_PADDING_SAME, SN_ACT_RELU});
        check(k, &(struct shape){3, 1, 1, 8, 33, 1, 1, 2, 1, SN_PADDING_VALID, SN_ACT_NONE});
        check(k, &(struct shape){1, 9, 11, 3, 8, 7, 7, 2, 1, SN_PADDING_SAME, SN_ACT_RELU6});
        check(k, &(struct shape){1, 9, 11, 3, 8, 2, 4, 1, 2, SN_PADDING_SAME, SN_ACT_NONE});
        print_message("%s: %d shapes agree with the reference\n", k->name, shapes + 4);
        ran++;
    }
    print_message("%d kernel pair(s) checked\n", ran);
}

/* The packers' layouts: [ceil(N / NR)][K][NR], zero-padded; the transposed
 * packers give the same from [N, K]; zip interleaves each row's halves. */
static void test_blocked_packers(void **state) {
    (void)state;
    const int nr = 4;
    float src[3 * 6], t[6 * 3], dst[2 * 3 * 4], dst_t[2 * 3 * 4];
    for (int i = 0; i < 18; i++) src[i] = (float)i + 1;
    for (int r = 0; r < 3; r++)
        for (int c = 0; c < 6; c++) t[c * 3 + r] = src[r * 6 + c];
    sn_shape shape = SN_SHAPE(3, 6), tshape = SN_SHAPE(6, 3);
    assert_int_equal(sn_packer_blocked.packed_floats(&shape, nr), 24);
    assert_int_equal(sn_packer_blocked_transposed.packed_floats(&tshape, nr), 24);
    sn_packer_blocked.pack(src, &shape, nr, dst);
    sn_packer_blocked_transposed.pack(t, &tshape, nr, dst_t);
    const float want[24] = {1, 2, 3, 4, 7,  8,  9, 10, 13, 14, 15, 16,
                            5, 6, 0, 0, 11, 12, 0, 0,  17, 18, 0,  0};
    assert_memory_equal(dst, want, sizeof want);
    assert_memory_equal(dst_t, want, sizeof want);
    sn_shape bias = SN_SHAPE(5);
    float b[5] = {1, 2, 3, 4, 5}, bp[8];
    sn_packer_blocked.pack(b, &bias, nr, bp);
    const float want_b[8] = {1, 2, 3, 4, 5, 0, 0, 0};
    assert_memory_equal(bp, want_b, sizeof want_b);

    /* zip: the halves of every NR-float row interleaved */
    sn_packer_blocked_zip.pack(src, &shape, nr, dst);
    sn_packer_blocked_zip_transposed.pack(t, &tshape, nr, dst_t);
    const float want_zip[24] = {1, 3, 2, 4, 7,  9, 8,  10, 13, 15, 14, 16,
                                5, 0, 6, 0, 11, 0, 12, 0,  17, 0,  18, 0};
    assert_int_equal(sn_packer_blocked_zip.packed_floats(&shape, nr), 24);
    assert_int_equal(sn_packer_blocked_zip_transposed.packed_floats(&tshape, nr), 24);
    assert_memory_equal(dst, want_zip, sizeof want_zip);
    assert_memory_equal(dst_t, want_zip, sizeof want_zip);
    sn_packer_blocked_zip.pack(b, &bias, nr, bp);
    const float want_bzip[8] = {1, 3, 2, 4, 5, 0, 0, 0};
    assert_memory_equal(bp, want_bzip, sizeof want_bzip);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_blocked_packers),
        cmocka_unit_test(test_conv_kernels),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
