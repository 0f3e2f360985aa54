#include "algo/gemm.h"

#include "algo/tile.h"

/* Panels of rows of a matrix product, each one run through a group of NR
 * blocks: the kernel takes a block at a time over the whole panel, so a
 * block's weights come from memory once per panel, not once per tile
 * (dense_mm's 4 MB of weights: once, not 8 times). */
static void panels(void *context, size_t begin, size_t count) {
    const struct sn_tile_task *t = context;
    for (size_t i = begin; i < begin + count; i++) {
        size_t b0, b1;
        sn_block_range(t, i, &b0, &b1);
        int64_t m = (int64_t)(i / t->groups * t->panel);
        size_t rows = (size_t)(t->out_h - m) < t->panel ? (size_t)(t->out_h - m) : t->panel;
        float *out = t->output + m * t->out_stride;
        sn_tile_blocks(t, &t->base, t->input + m * t->channels, out, rows, b0, b1);
        sn_tile_post(t, out, rows, b0, b1);
    }
}

void sn_gemm_run(const struct sn_gemm *g) {
    struct sn_tile_task t = sn_product_task(g->cc, g->zeros, g->k, g->n);
    t.input = g->input;
    t.out_h = g->m;
    t.output = g->output;
    t.lone_by_tile = g->m > 1;
    if (g->in_stride) {
        t.channels = (int64_t)g->in_stride;
        t.base.pixel_stride = g->in_stride * sizeof(float);
    }
    if (g->out_stride) {
        t.out_stride = (int64_t)g->out_stride;
        t.base.output_stride = g->out_stride * sizeof(float);
    }
    t.weights = g->weights;
    t.bias = g->bias;
    t.post = g->post;
    sn_clamp_of(g->act, &t.base.min, &t.base.max);
    /* A panel's rows of input, about 128 KB, stay in L2 over the blocks.
     * To feed several threads, when the weights are no larger than the
     * input (n <= m), panels shrink to give each thread 4 or more rather
     * than each panel being split in groups of blocks, which read the
     * panel's input once per group (pointwise, 2 threads: 2.4% faster);
     * larger weights are split in groups, as a panel reads all the weights
     * (dense_mm: 4.6% slower with 8-row panels).
     * Weights of at most 256 KB (which stay in L2 as every panel reads
     * them) are never split: the threads take rows of pixels only, as the
     * ops before and after a 1x1 conv do, so each core reads the pixels it
     * wrote and writes those the next op reads on it. A late, small image
     * (7x7x232 -> 232) split by blocks had each core read the whole input
     * and write half of every pixel. 2 threads, medians of 400 runs, two
     * alternating pairs: ShuffleNetV2 7% faster, MobileNetV3-Small 8%,
     * MobileNetV2 6%, SqueezeNet 2-4%. */
    const size_t mr = t.cc->mr, threads = g->threads->count;
    t.panel = (size_t)(32768 / g->k) / mr * mr;
    const bool small = (size_t)g->k * (size_t)g->n <= 65536;
    if (threads > 1 && (g->n <= g->m || small)) {
        size_t even = ((size_t)g->m + 4 * threads - 1) / (4 * threads);
        even = (even + mr - 1) / mr * mr;
        if (even < t.panel) t.panel = even;
    }
    if (t.panel < mr) t.panel = mr;
    size_t count = ((size_t)g->m + t.panel - 1) / t.panel;
    t.groups = small && count >= threads
                   ? 1
                   : sn_block_groups(g->threads, count, (size_t)t.out_c, t.cc->nr);
    sn_parallel(g->threads, panels, &t, count * t.groups);
}
