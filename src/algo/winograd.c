#include "algo/winograd.h"

#include "algo/tile.h"

/* The most tiles per work item: its V and M, 36 (ic + oc) floats a tile,
 * about 256 KB, stay in L2 with the weights' matrix in use. Whole MR-row
 * tiles; sn_winograd_run then evens the items out. The same items for any
 * thread count: how a run is cut decides which kernel computes a lone
 * last tile (see sn_tile_blocks), hence its bits. */
static size_t winograd_per_item(size_t mr, size_t ic, size_t oc) {
    size_t per = 65536 / (36 * (ic + oc));
    return per < mr ? mr : per / mr * mr;
}

/* A thread's part of the workspace holds a work item's V,
 * [36][per_item][ic], then its M, [36][per_item][oc], each starting on a
 * cache line: the floats of one of them, c channels. */
static size_t winograd_floats(size_t per_item, size_t c) {
    return (36 * per_item * c + 15) / 16 * 16;
}

bool sn_winograd_worth(const struct sn_conv_config *cc, int64_t r, int64_t ic, int64_t oc,
                       int64_t batch, int64_t out_h, int64_t out_w) {
    /* measured on AVX-512 (scopenn bench conv2d, 4x4 to 112x112 images, 16
     * to 256 channels): 1.2-2.1x faster than direct, 5x5 as 3x3; with 8 or
     * 12 channels in, from 3% slower to 1.3x faster */
    if (ic < 16 || oc < 8) return false;
    /* Its 36 weight matrices stream from memory once per work item. Past
     * 24 MB they outgrow the caches, and on a small image streaming them
     * costs more than direct's multiply-adds when those are fewer than
     * about 3.5 a byte streamed (ic = oc = 512, 1 thread: 4x4 and 6x6
     * images 1.9x and 1.4x faster direct, 7x7 level, 8x8 1.25x faster as
     * Winograd; 2 threads, 7x7: 1.3x faster direct). */
    const double pack = 36.0 * (double)(ic * oc) * sizeof(float);
    if (pack <= 24.0 * 1024 * 1024) return true;
    const int64_t m = r == 3 ? 4 : 2, images = batch > 0 ? batch : 1;
    const size_t tiles = (size_t)(images * ((out_h + m - 1) / m) * ((out_w + m - 1) / m)),
                 per = winograd_per_item(cc->mr, (size_t)ic, (size_t)oc);
    const double items = (double)((tiles + per - 1) / per),
                 macs = (double)(images * out_h * out_w * oc * ic) * (double)(r * r);
    return macs >= 3.5 * pack * items;
}

size_t sn_winograd_workspace(const struct sn_conv_config *cc, int64_t ic, int64_t oc,
                             size_t threads, size_t *part) {
    const size_t per = winograd_per_item(cc->mr, (size_t)ic, (size_t)oc);
    *part = sn_part_stride(winograd_floats(per, (size_t)ic) + winograd_floats(per, (size_t)oc),
                           threads);
    return *part * threads * sizeof(float);
}

struct winograd_task {
    const struct sn_kernels *kernels;
    sn_winograd_geometry geo;
    const float *input, *bias;
    float *output;
    float lo, hi;
    size_t tiles;          /* T */
    size_t per_item;       /* tiles per work item */
    size_t items;          /* work items: T / per_item, rounded up */
    struct sn_share share; /* of the items among the threads */
    float *scratch;        /* a V and an M per thread, `part` floats apart */
    size_t part;
    size_t matrix;                /* floats of each of the 36 packed weight matrices */
    size_t blocks;                /* of NR channels in each */
    struct sn_tile_task products; /* strides, weights, zeros, clamp of the products */
};

/* Work item i's tiles [t0, t1); then its three steps, with its V and M
 * at v and m: the input transform, product xi of the 36, the output
 * transform. */
static void winograd_tiles(const struct winograd_task *w, size_t i, size_t *t0, size_t *t1) {
    *t0 = i * w->per_item;
    *t1 = *t0 + w->per_item < w->tiles ? *t0 + w->per_item : w->tiles;
}

static void winograd_input(const struct winograd_task *w, size_t i, float *v) {
    size_t t0, t1;
    winograd_tiles(w, i, &t0, &t1);
    w->kernels->f32_winograd_input(&w->geo, w->input, v, w->per_item * (size_t)w->geo.channels, t0,
                                   t1);
}

/* x: the caller's copy of w->products, whose weights it points at matrix
 * xi (a copy per call, not per product: 0.25% of armv7's instructions) */
static void winograd_product(const struct winograd_task *w, struct sn_tile_task *x, size_t i,
                             size_t xi, const float *v, float *m) {
    const struct sn_tile_task *t = &w->products;
    const size_t per = w->per_item, ic = (size_t)w->geo.channels, oc = (size_t)w->geo.out_c;
    size_t t0, t1;
    winograd_tiles(w, i, &t0, &t1);
    x->weights = t->weights + xi * w->matrix;
    sn_tile_blocks(x, &t->base, v + xi * per * ic, m + xi * per * oc, t1 - t0, 0, w->blocks);
}

static void winograd_output(const struct winograd_task *w, size_t i, const float *m) {
    size_t t0, t1;
    winograd_tiles(w, i, &t0, &t1);
    w->kernels->f32_winograd_output(&w->geo, m, w->per_item * (size_t)w->geo.out_c, w->bias, w->lo,
                                    w->hi, w->output, t0, t1);
}

/* Part k of the scratch: a V, then an M. */
static float *part_v(const struct winograd_task *w, size_t k) { return w->scratch + k * w->part; }
static float *part_m(const struct winograd_task *w, size_t k) {
    return part_v(w, k) + winograd_floats(w->per_item, (size_t)w->geo.channels);
}

/* Work items taken in turn (algo/share.h), each through the input
 * transform, the 36 products and the output transform, with V and M in
 * this thread's part of the scratch, which stays in cache from one step
 * and one item to the next. Call k of [begin, begin + count) owns part k:
 * there are as many calls as threads, and no two run the same k. */
static void winograd_items(void *context, size_t begin, size_t count) {
    struct winograd_task *w = context;
    struct sn_tile_task x = w->products;
    for (size_t k = begin; k < begin + count; k++) {
        float *v = part_v(w, k), *m = part_m(w, k);
        for (size_t i, end; sn_share_take(&w->share, k, &i, &end);)
            for (; i < end; i++) {
                winograd_input(w, i, v);
                for (size_t xi = 0; xi < 36; xi++) winograd_product(w, &x, i, xi, v, m);
                winograd_output(w, i, m);
            }
    }
}

/* With no more work items than threads, a thread per item would leave
 * threads idle, or waiting on a short last item: then each step runs on
 * all the threads in turn, the input transforms, the products one (item,
 * matrix) at a time, the output transforms, item i in part i of the
 * scratch. The calls are winograd_items' own, so are the values. */
static void winograd_inputs(void *context, size_t begin, size_t count) {
    const struct winograd_task *w = context;
    for (size_t i = begin; i < begin + count; i++) winograd_input(w, i, part_v(w, i));
}

static void winograd_products(void *context, size_t begin, size_t count) {
    const struct winograd_task *w = context;
    struct sn_tile_task x = w->products;
    for (size_t u = begin; u < begin + count; u++)
        winograd_product(w, &x, u / 36, u % 36, part_v(w, u / 36), part_m(w, u / 36));
}

static void winograd_outputs(void *context, size_t begin, size_t count) {
    const struct winograd_task *w = context;
    for (size_t i = begin; i < begin + count; i++) winograd_output(w, i, part_m(w, i));
}

/* A 3x3 or 5x5, stride 1 conv as Winograd, in work items of a few tiles
 * each (winograd_items), taken by the threads as they come free, or for
 * few items, step by step (winograd_inputs); every value is computed by
 * the same calls whatever the split. */
void sn_winograd_run(const struct sn_conv_job *in) {
    const sn_conv2d_geometry *g = &in->geo;
    const struct sn_conv_config *cc = in->cc;
    const int m = g->kh == 3 ? 4 : 2;
    struct winograd_task w = {.kernels = in->kernels,
                              .input = in->input,
                              .bias = in->bias,
                              .scratch = in->workspace,
                              .part = in->part,
                              .output = in->output};
    w.geo = (sn_winograd_geometry){.batch = g->batch,
                                   .in_h = g->in_h,
                                   .in_w = g->in_w,
                                   .channels = g->in_c,
                                   .out_h = g->out_h,
                                   .out_w = g->out_w,
                                   .out_c = g->out_c,
                                   .top = g->pad_top,
                                   .left = g->pad_left,
                                   .tiles_h = (g->out_h + m - 1) / m,
                                   .tiles_w = (g->out_w + m - 1) / m,
                                   .m = m};
    w.tiles = (size_t)(w.geo.batch * w.geo.tiles_h * w.geo.tiles_w);
    sn_clamp_of(in->act, &w.lo, &w.hi);
    const size_t nr = cc->nr, ic = (size_t)w.geo.channels, oc = (size_t)w.geo.out_c;
    w.blocks = (oc + nr - 1) / nr;
    w.matrix = w.blocks * nr * ic;
    w.products = sn_product_task(cc, in->zeros, (int64_t)ic, (int64_t)oc);
    w.products.weights = in->weights;
    w.per_item = winograd_per_item(cc->mr, ic, oc);
    w.items = (w.tiles + w.per_item - 1) / w.per_item;
    /* the same number of items, evened out: 9 tiles as 5 and 4, not as 8
     * and a lone one for the slow row kernel */
    w.per_item = (w.tiles + w.items - 1) / w.items;
    const struct sn_threads *th = in->threads;
    const size_t threads = th->count;
    if (threads > 1 && w.items <= threads) { /* 8x8x256 on 2 threads: 1.6x faster */
        sn_parallel(th, winograd_inputs, &w, w.items);
        sn_parallel(th, winograd_products, &w, 36 * w.items);
        sn_parallel(th, winograd_outputs, &w, w.items);
        return;
    }
    w.share = sn_threads_share(th, w.items, 1);
    sn_parallel(th, winograd_items, &w, w.items < threads ? w.items : threads);
}
