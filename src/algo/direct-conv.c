#include "algo/direct-conv.h"

#include <string.h>

#include "base/checked.h"

bool sn_direct_conv_frame(const sn_conv2d_geometry *g, struct sn_padded *pd) {
    *pd = (struct sn_padded){.h = g->in_h,
                             .w = g->in_w,
                             .c = g->in_c,
                             .top = g->pad_top,
                             .left = g->pad_left,
                             .stride = g->stride_h,
                             .span = (g->kh - 1) * g->dilation_h + 1,
                             .span_w = (g->kw - 1) * g->dilation_w + 1};
    pd->hp = (g->out_h - 1) * g->stride_h + pd->span;
    pd->wp = (g->out_w - 1) * g->stride_w + pd->span_w;
    /* nothing to read: no channels, or a frame of no rows or columns (an
     * empty output, which runs nothing) */
    if (pd->hp <= 0 || pd->wp <= 0 || pd->c == 0) return false;
    return pd->top || pd->left || pd->hp > pd->h || pd->wp > pd->w;
}

/* A chunk of a padded conv's work items reads a band of the frame, copied
 * into its thread's part of the workspace: the frame rows that the taps
 * of its output rows reach. A chunk holds at most band_chunk rows' items,
 * so it touches at most band_chunk + 1 rows (it may start and end inside
 * a row split in groups of blocks), whose taps reach band_chunk * stride
 * + span frame rows: at most 64 Ki floats (256 KB, so that the band stays
 * in L2 while its rows are computed), or what 2 output rows reach if that
 * is more. */
static int64_t band_chunk(const struct sn_padded *pd) {
    int64_t rows = 65536 / (pd->wp * pd->c), chunk = (rows - pd->span) / pd->stride;
    return chunk < 1 ? 1 : chunk;
}

/* The most floats a thread's band may take: 64 MB. */
#define BAND_MAX_FLOATS ((int64_t)1 << 24)

/* The floats of the largest band of this frame, and of any narrower one
 * (a width inferred from a -1 batch, by a reshape, is at most the planned
 * one). False past BAND_MAX_FLOATS, or past 16 times the image when that
 * is more than the usual 64 Ki: a large dilation's frame (from about 100
 * on small images) is then mostly zeros that its taps skip over (a
 * dilation of 2^27 overflowed the band's size; 1000 asked for 48 MB a
 * thread for a 5x4x3 image). */
static bool band_floats(const struct sn_padded *pd, size_t *floats) {
    int64_t two, image;
    if (!sn_add_i64(pd->stride, pd->span, &two) || !sn_mul_i64(two, pd->wp, &two) ||
        !sn_mul_i64(two, pd->c, &two) || two > BAND_MAX_FLOATS)
        return false;
    if (two > 65536 && (!sn_mul_i64(pd->h * pd->w, pd->c, &image) || two / 16 > image))
        return false;
    *floats = (size_t)(two > 65536 ? two : 65536);
    return true;
}

bool sn_direct_conv_fits(const sn_conv2d_geometry *g) {
    struct sn_padded pd;
    size_t floats;
    return !sn_direct_conv_frame(g, &pd) || band_floats(&pd, &floats);
}

size_t sn_direct_conv_workspace(const sn_conv2d_geometry *g, size_t threads, size_t *part) {
    struct sn_padded pd;
    size_t floats = 0;
    if (!sn_direct_conv_frame(g, &pd) || !band_floats(&pd, &floats)) floats = 0;
    *part = sn_part_stride(floats, threads);
    return *part * threads * sizeof(float);
}

/* The output positions [*o0, *o1) of one dimension whose taps all fall
 * inside the input: o * stride - pad >= 0 and o * stride - pad + span - 1
 * < in, span = (k - 1) * dilation + 1. */
static void inside_range(int64_t in, int64_t out, int64_t stride, int64_t pad, int64_t span,
                         int64_t *o0, int64_t *o1) {
    *o0 = (pad + stride - 1) / stride;
    *o1 = in - span + pad < 0 ? 0 : (in - span + pad) / stride + 1;
    if (*o1 > out) *o1 = out;
    if (*o0 > *o1) *o0 = *o1;
}

/* Output rows of a conv (work items [begin, end)), each in runs of
 * pixels (the kernels cut them in MR tiles from the run's start). With
 * padding, the rows read `band`, frame rows from py0 on, except that a row
 * whose taps stay inside the input at the top and bottom reads the input
 * itself for its middle run of tiles, [lx, rx). */
static void conv_rows(const struct sn_tile_task *t, const float *band, int64_t py0, size_t begin,
                      size_t end) {
    const struct sn_pad *p = &t->pad;
    const int64_t row_floats = t->in_w * t->channels, band_row = p->frame.wp * t->channels;
    for (size_t i = begin; i < end; i++) {
        size_t r = i / t->groups, b0, b1;
        sn_block_range(t, i, &b0, &b1);
        /* in size_t: a 64-bit division is a library call on 32-bit ARM */
        const size_t out_h = (size_t)t->out_h;
        int64_t n = (int64_t)(r / out_h), oy = (int64_t)(r % out_h);
        float *out = t->output + (int64_t)r * t->out_w * t->out_stride;
        /* its band's rows, with padding */
        const float *in = p->chunk ? band + (oy * t->stride_h - py0) * band_row : NULL;
        if (!p->chunk) {
            sn_tile_blocks(t, &t->base, t->input + (n * t->in_h + oy * t->stride_h) * row_floats,
                           out, (size_t)t->out_w, b0, b1);
        } else if (!p->middle || oy < p->oy0 || oy >= p->oy1) {
            sn_tile_blocks(t, &p->base, in, out, (size_t)t->out_w, b0, b1);
        } else {
            const int64_t y = oy * t->stride_h - p->frame.top,
                          x = p->lx * t->stride_w - p->frame.left;
            if (p->lx > 0) sn_tile_blocks(t, &p->base, in, out, (size_t)p->lx, b0, b1);
            sn_tile_blocks(t, &t->base, t->input + (n * t->in_h + y) * row_floats + x * t->channels,
                           out + p->lx * t->out_stride, (size_t)(p->rx - p->lx), b0, b1);
            if (p->rx < t->out_w)
                sn_tile_blocks(t, &p->base, in + p->rx * t->stride_w * t->channels,
                               out + p->rx * t->out_stride, (size_t)(t->out_w - p->rx), b0, b1);
        }
        sn_tile_post(t, out, (size_t)t->out_w, b0, b1);
    }
}

/* Columns [c0, c1) of a frame row, at `row`, from input row `in_row`
 * (NULL: a row of padding): zeros outside the input, the input inside. */
static void pad_columns(const struct sn_padded *f, float *row, const float *in_row, int64_t c0,
                        int64_t c1) {
    for (int64_t c = c0; c < c1;) {
        int64_t x = c - f->left, run;
        if (!in_row || x < 0 || x >= f->w) {
            run = !in_row ? c1 - c : x < 0 ? (-x < c1 - c ? -x : c1 - c) : c1 - c;
            memset(row + c * f->c, 0, (size_t)(run * f->c) * sizeof(float));
        } else {
            run = f->w - x < c1 - c ? f->w - x : c1 - c;
            memcpy(row + c * f->c, in_row + x * f->c, (size_t)(run * f->c) * sizeof(float));
        }
        c += run;
    }
}

/* Frame rows [py0, py1) of image n into `band`: what the tiles that read
 * the band need of them (see struct sn_pad). */
static void pad_band(const struct sn_tile_task *t, float *band, int64_t n, int64_t py0,
                     int64_t py1) {
    const struct sn_pad *p = &t->pad;
    const struct sn_padded *f = &p->frame;
    for (int64_t py = py0; py < py1; py++) {
        const int64_t y = py - f->top;
        float *row = band + (py - py0) * f->wp * f->c;
        const float *in_row = y < 0 || y >= f->h ? NULL : t->input + ((n * f->h + y) * f->w) * f->c;
        if (py < p->full_end || py >= p->full_begin) {
            pad_columns(f, row, in_row, 0, f->wp);
        } else {
            pad_columns(f, row, in_row, 0, p->lcols);
            pad_columns(f, row, in_row, p->rcols, f->wp);
        }
    }
}

/* Work items [begin, end) of a conv, with their band in `band` if the
 * conv pads: cut at the end of each image, each piece first copies the
 * frame rows its output rows reach. */
static void conv_chunk(const struct sn_tile_task *t, float *band, size_t begin, size_t end) {
    const size_t image = (size_t)t->out_h * t->groups; /* items per image */
    for (size_t i = begin, stop; i < end; i = stop) {
        stop = (i / image + 1) * image < end ? (i / image + 1) * image : end;
        int64_t py0 = 0;
        if (t->pad.chunk) {
            const int64_t n = (int64_t)(i / image), first = (int64_t)(i % image / t->groups),
                          last = (int64_t)((stop - 1) % image / t->groups);
            py0 = first * t->stride_h;
            pad_band(t, band, n, py0, last * t->stride_h + t->pad.frame.span);
        }
        conv_rows(t, band, py0, i, stop);
    }
}

/* A conv's work items, shared among the threads (algo/share.h). Call k
 * of [begin, begin + count) owns part k of the workspace for its bands:
 * there are as many calls as threads, and no two run the same k. */
struct conv_task {
    struct sn_tile_task t;
    float *parts; /* NULL if the conv does not pad */
    size_t part;
    size_t chunk; /* items per conv_chunk call: what a band holds, at most */
    struct sn_share items;
};

static void conv_threads(void *context, size_t begin, size_t count) {
    struct conv_task *c = context;
    for (size_t k = begin; k < begin + count; k++) {
        float *band = c->parts ? c->parts + k * c->part : NULL;
        /* the share's chunks are c->chunk items, or more past 65535 chunks a
         * range: walked in pieces a band holds */
        for (size_t i, end; sn_share_take(&c->items, k, &i, &end);)
            for (; i < end; i += c->chunk)
                conv_chunk(&c->t, band, i, i + c->chunk < end ? i + c->chunk : end);
    }
}

void sn_direct_conv_run(const struct sn_conv_job *cv) {
    const sn_conv2d_geometry *g = &cv->geo;
    struct conv_task c = {.parts = cv->workspace, .part = cv->part};
    struct sn_tile_task *t = &c.t;
    *t = (struct sn_tile_task){.cc = cv->cc,
                               .input = cv->input,
                               .in_h = g->in_h,
                               .in_w = g->in_w,
                               .out_h = g->out_h,
                               .out_w = g->out_w,
                               .out_c = g->out_c,
                               .out_stride = cv->out_stride ? (int64_t)cv->out_stride : g->out_c,
                               .stride_h = g->stride_h,
                               .stride_w = g->stride_w,
                               .channels = g->in_c,
                               .weights = cv->weights,
                               .bias = cv->bias,
                               .post = cv->post,
                               .output = cv->output};
    t->block_floats = (size_t)(g->kh * g->kw * g->in_c) * t->cc->nr;
    t->base = (struct sn_conv_tile){
        .pixel_stride = (size_t)(g->stride_w * t->channels) * sizeof(float),
        .row_stride = (size_t)(g->dilation_h * t->in_w * t->channels) * sizeof(float),
        .col_stride = (size_t)(g->dilation_w * t->channels) * sizeof(float),
        .kh = (size_t)g->kh,
        .kw = (size_t)g->kw,
        .kc = (size_t)t->channels,
        .bias = cv->zeros,
        .output_stride = (size_t)t->out_stride * sizeof(float)};
    if (g->dilation_w == 1) {
        /* a filter row's taps read kw * channels consecutive floats, in the
         * order the packed weights hold them: one run of kw * kc */
        t->base.kc *= t->base.kw;
        t->base.kw = 1;
    }
    sn_clamp_of(cv->act, &t->base.min, &t->base.max);
    const size_t rows = (size_t)(g->batch * t->out_h), threads = cv->threads->count;
    t->groups = sn_block_groups(cv->threads, rows, (size_t)t->out_c, t->cc->nr);
    const size_t items = rows * t->groups;
    c.chunk = items / (threads * 4) ? items / (threads * 4) : 1;
    struct sn_pad *p = &t->pad;
    if (sn_direct_conv_frame(g, &p->frame)) {
        const struct sn_padded *fr = &p->frame;
        const int64_t mr = (int64_t)t->cc->mr;
        p->chunk = band_chunk(fr);
        if (c.chunk > (size_t)p->chunk * t->groups) c.chunk = (size_t)p->chunk * t->groups;
        p->base = t->base;
        p->base.row_stride = (size_t)(g->dilation_h * fr->wp * t->channels) * sizeof(float);
        int64_t ox0, ox1; /* output columns whose taps stay inside */
        inside_range(t->in_h, t->out_h, g->stride_h, fr->top, fr->span, &p->oy0, &p->oy1);
        inside_range(t->in_w, t->out_w, g->stride_w, fr->left, fr->span_w, &ox0, &ox1);
        /* the edge tiles (as the kernels cut a row) and the columns they
         * read: the left ones end at the first tile boundary at or past ox0,
         * the right ones start at the tile holding ox1 (none if ox1 is the
         * end) */
        p->lx = (ox0 + mr - 1) / mr * mr;
        p->rx = ox1 < t->out_w ? ox1 / mr * mr : t->out_w;
        if (p->lx > t->out_w) p->lx = t->out_w;
        p->middle = p->oy0 < p->oy1 && p->lx < p->rx;
        /* whole frame rows where the taps leave the top or the bottom, or
         * all of them if no tile reads only the input */
        p->full_end = !p->middle ? fr->hp : p->oy0 > 0 ? (p->oy0 - 1) * g->stride_h + fr->span : 0;
        p->full_begin = p->middle && p->oy1 < t->out_h ? p->oy1 * g->stride_h : fr->hp;
        p->lcols = p->lx > 0 ? (p->lx - 1) * g->stride_w + fr->span_w : 0;
        p->rcols = p->rx < t->out_w ? p->rx * g->stride_w : fr->wp;
    }
    c.items = sn_threads_share(cv->threads, items, c.chunk);
    sn_parallel(cv->threads, conv_threads, &c, threads);
}
