/* Every micro-kernel of every kernel set this CPU runs, from the same
 * kernel lists the tests use, with its FLOP/s (or bytes/s). A kernel set
 * the CPU lacks is reported as skipped. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gbench.h"
#include "kernels/kernels.h"
#include "scopenn.h"

static int runnable(sn_isa isa) {
    sn_cpu_info info;
    sn_cpu_info_get(&info);
    return (info.isas >> isa) & 1;
}

static float *filled(size_t n) {
    float *p = aligned_alloc(64, (n * sizeof(float) + 63) / 64 * 64);
    if (p)
        for (size_t i = 0; i < n; i++) p[i] = (float)(i % 17) * 0.01f - 0.08f;
    return p;
}

/* ---- conv tiles ---------------------------------------------------------- */

struct conv_bench {
    sn_isa isa;
    size_t mr, nr, kh, kw, kc;
    sn_f32_conv_ukernel_fn fn;
    int full;  /* mr rows (the tile kernel) or one (the row kernel) */
    size_t nc; /* channels computed: nr, or nr / 2 (a narrow last block) */
};

/* One full tile per iteration, over a (kh x kw) window of kc channels. */
static void bm_conv(sn_gbench_state *state, void *arg) {
    const struct conv_bench *b = arg;
    if (!runnable(b->isa)) {
        sn_gbench_skip(state, "this CPU cannot run the kernel's ISA");
        return;
    }
    size_t rows = b->full ? b->mr : 1, width = rows + b->kw;
    float *input = filled(b->kh * width * b->kc), *weights = filled(b->kh * b->kw * b->kc * b->nr);
    float *bias = filled(b->nr), *output = filled(rows * b->nr);
    struct sn_conv_tile t = {.input = input,
                             .pixel_stride = b->kc * 4,
                             .row_stride = width * b->kc * 4,
                             .col_stride = b->kc * 4,
                             .kh = b->kh,
                             .kw = b->kw,
                             .kc = b->kc,
                             .weights = weights,
                             .bias = bias,
                             .output = output,
                             .output_stride = b->nr * 4,
                             .min = 0.0f,
                             .max = 1e30f};
    while (sn_gbench_keep_running(state)) b->fn(rows, b->nc, &t);
    sn_gbench_counter(state, "FLOP/s", 2.0 * (double)(rows * b->nc * b->kh * b->kw * b->kc),
                      SN_GBENCH_RATE);
    free(input), free(weights), free(bias), free(output);
}

/* ---- relu ------------------------------------------------------------------ */

struct unary_bench {
    sn_isa isa;
    sn_f32_vunary_fn fn;
    size_t n;
};

static void bm_unary(sn_gbench_state *state, void *arg) {
    const struct unary_bench *b = arg;
    if (!runnable(b->isa)) {
        sn_gbench_skip(state, "this CPU cannot run the kernel's ISA");
        return;
    }
    float *x = filled(b->n), *y = filled(b->n);
    while (sn_gbench_keep_running(state)) b->fn(b->n, x, y);
    sn_gbench_counter(state, "bytes/s", 8.0 * (double)b->n, SN_GBENCH_RATE);
    free(x), free(y);
}

/* The kernel lists, as tables (a last, empty entry keeps each non-empty on
 * an architecture without such kernels). */
#define SN_CONV_KERNEL(isa, mr, nr, tile, row, layout) {isa, mr, nr, tile, row, #tile, #row},
static const struct {
    sn_isa isa;
    size_t mr, nr;
    sn_f32_conv_ukernel_fn tile, row;
    const char *tile_name, *row_name;
} conv_list[] = {
#include "kernels/f32-conv.inc"
    {SN_ISA_SCALAR, 0, 0, NULL, NULL, NULL, NULL},
};
#undef SN_CONV_KERNEL
#define SN_KERNEL(isa, fn) {isa, fn, #fn},
static const struct {
    sn_isa isa;
    sn_f32_vunary_fn fn;
    const char *name;
} relu_list[] = {
#include "kernels/f32-vrelu.inc"
    {SN_ISA_SCALAR, NULL, NULL},
};
#undef SN_KERNEL

int main(int argc, char **argv) {
    /* the window shapes of the seed filter (5x5, 32 channels), a 3x3 layer
     * (64 channels), a 1x1 layer / matrix product (256; pointwise's 64),
     * and the stem (3x3, 3 channels) as the session passes it: 3 taps of 9
     * (a filter row's taps are one run, see conv_simd) */
    static const size_t windows[][3] = {{5, 5, 32}, {3, 3, 64}, {1, 1, 256}, {1, 1, 64}, {3, 1, 9}};
    enum { WINDOWS = sizeof windows / sizeof windows[0] };
    /* and a narrow last block: half the block's channels, the tile kernel
     * on pointwise's window (the kernels compute such a block at its own
     * width; FLOP/s count its channels) */
    static struct conv_bench convs[sizeof conv_list / sizeof conv_list[0] * (WINDOWS * 2 + 1)];
    static struct unary_bench unaries[sizeof relu_list / sizeof relu_list[0]];
    size_t nc = 0, nu = 0;
    char name[160];
    for (size_t k = 0; conv_list[k].tile; k++) {
        for (size_t w = 0; w < WINDOWS; w++)
            for (int full = 1; full >= 0; full--) {
                convs[nc] = (struct conv_bench){conv_list[k].isa,
                                                conv_list[k].mr,
                                                conv_list[k].nr,
                                                windows[w][0],
                                                windows[w][1],
                                                windows[w][2],
                                                full ? conv_list[k].tile : conv_list[k].row,
                                                full,
                                                conv_list[k].nr};
                snprintf(name, sizeof name, "%s/%zux%zux%zu",
                         full ? conv_list[k].tile_name : conv_list[k].row_name, windows[w][0],
                         windows[w][1], windows[w][2]);
                sn_gbench_register(name, bm_conv, &convs[nc++]);
            }
        convs[nc] = (struct conv_bench){.isa = conv_list[k].isa,
                                        .mr = conv_list[k].mr,
                                        .nr = conv_list[k].nr,
                                        .kh = 1,
                                        .kw = 1,
                                        .kc = 64,
                                        .fn = conv_list[k].tile,
                                        .full = 1,
                                        .nc = conv_list[k].nr / 2};
        snprintf(name, sizeof name, "%s/1x1x64/nc%zu", conv_list[k].tile_name, convs[nc].nc);
        sn_gbench_register(name, bm_conv, &convs[nc++]);
    }
    for (size_t k = 0; relu_list[k].fn; k++) {
        unaries[nu] = (struct unary_bench){relu_list[k].isa, relu_list[k].fn, 4096};
        snprintf(name, sizeof name, "%s/4096", relu_list[k].name);
        sn_gbench_register(name, bm_unary, &unaries[nu++]);
    }
    return sn_gbench_main(argc, argv);
}
