/* Sessions: compile a graph (prune, fuse, pack, plan the arena) and run it
 * without allocating. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "base/alloc.h"
#include "base/checked.h"
#include "cpu/features.h"
#include "graph/graph.h"
#include "graph/op.h"
#include "kernels/kernels.h"
#include "kernels/ref/ref.h"
#include "pack/pack.h"
#include "runtime/pool.h"
#include "runtime/share.h"
#include "scope/scope.h"

/* Where a value's data lives during a run. */
enum value_kind { VALUE_ARENA, VALUE_FEED, VALUE_VARIABLE, VALUE_CONST };

struct value {
    const sn_tensor *tensor;
    enum value_kind kind;
    sn_shape planned;     /* with every -1 batch at max_batch */
    size_t bytes, offset; /* VALUE_ARENA: its slot */
    int first, last;      /* nodes producing and last reading it */
    bool fetched;
    sn_shape shape;    /* this run's */
    const float *data; /* this run's */
};

/* One kernel call: an op, possibly with a bias and an activation fused. */
struct node {
    const struct sn_op *op;
    int *inputs; /* value indices of op's inputs */
    int bias;    /* value index, or -1 */
    sn_activation act;
    /* conv2d and matmul: true when the kernel set's tile kernels run it (on
     * blocked weights); false for the reference kernels (reference layout) */
    bool simd;
    /* conv2d 3x3 or 5x5, stride 1: by Winograd (see winograd_conv) */
    bool winograd;
    /* a large matmul or 1x1 conv: by Strassen-Winograd (see strassen_product) */
    bool strassen;
    const sn_packer *packer; /* of input 1, the weights */
    const sn_packer *bias_packer;
    struct sn_pack *weights, *bias_pack;   /* from the cache, for variables */
    float *weights_scratch, *bias_scratch; /* packed each run, for the others */
    int out;
};

struct sn_session {
    sn_graph *graph;
    struct node *nodes;
    size_t node_count;
    struct value *values;
    size_t value_count;
    int *fetches;
    size_t fetch_count;
    struct sn_pack **packs; /* distinct packs this session reads */
    size_t pack_count;
    const float **scratch; /* AddN's input pointers */
    size_t scratch_count;
    float *arena;
    size_t arena_bytes;
    float *zeros;     /* the bias of a conv without one: as many zeros as the widest has channels */
    bool direct_conv; /* the option: no Winograd */
    bool direct_matmul; /* the option: no Strassen */
    /* Strassen's sums and products of one chunk of rows (see
     * strassen_product) */
    float *strassen;
    size_t strassen_floats;
    /* A part for each thread: Winograd's V and M of one work item (see
     * winograd_conv), or a band of a conv's padded input (conv_simd) */
    float *parts;
    size_t part_floats;            /* of each part: the stride from one to the next */
    struct sn_share_range *ranges; /* one per thread (runtime/share.h) */
    int64_t max_batch;
    struct sn_pool *pool; /* NULL: one thread */
    const struct sn_kernels *kernels;
    size_t packs_made, packs_reused, packed_bytes, fused;
    double pack_ms;
    char error[512];
};

/* ---- compile ------------------------------------------------------------- */

static bool is_weighted(sn_op_type t) { return t == SN_OP_CONV2D || t == SN_OP_MATMUL; }

/* Can `c` (the only consumer of `x`) be folded into x's kernel as its bias?
 * Returns the bias tensor or NULL. */
static sn_tensor *fusable_bias(const struct sn_op *x, const struct sn_op *c) {
    int64_t channels = x->output.shape.dims[x->output.shape.rank - 1];
    if (c->type == SN_OP_BIAS_ADD && c->inputs[0] == &x->output) return c->inputs[1];
    if (c->type != SN_OP_ADD) return NULL;
    sn_tensor *other = c->inputs[0] == &x->output ? c->inputs[1] : c->inputs[0];
    if (other == &x->output || other->shape.rank != 1 || channels < 0 ||
        other->shape.dims[0] != channels)
        return NULL;
    return other;
}

/* The fused node runs where x is in the op order, so its bias must be
 * ready by then: a variable, constant or feed, or made before x. */
static bool ready_before(const sn_tensor *t, const struct sn_op *x) {
    sn_op_type k = t->op->type;
    return k == SN_OP_VARIABLE || k == SN_OP_CONST || k == SN_OP_PLACEHOLDER ||
           t->op->index < x->index;
}

/* Records a compile error on the graph and evaluates to false. */
#define FAIL(s, status, ...) (sn_graph_fail((s)->graph, (status), __VA_ARGS__), false)

/* The consumers of each needed op, and who consumes it when there is
 * exactly one. */
struct usage {
    bool *needed, *fetched, *covered;
    int *uses, *only_user;
};

static bool mark_needed(sn_session *s, struct usage *u, sn_tensor *const *fetches, size_t n) {
    sn_graph *g = s->graph;
    size_t *stack = sn_malloc(g->op_count * sizeof *stack), top = 0;
    if (!stack) return FAIL(s, SN_ERR_OUT_OF_MEMORY, "out of memory compiling a session");
    for (size_t i = 0; i < n; i++) {
        size_t k = fetches[i]->op->index;
        u->fetched[k] = true;
        if (!u->needed[k]) u->needed[k] = true, stack[top++] = k;
    }
    while (top) {
        const struct sn_op *op = g->ops[stack[--top]];
        for (int i = 0; i < op->input_count; i++) {
            size_t k = op->inputs[i]->op->index;
            if (!u->needed[k]) u->needed[k] = true, stack[top++] = k;
        }
    }
    sn_free(stack);
    for (size_t k = 0; k < g->op_count; k++) {
        if (!u->needed[k]) continue;
        const struct sn_op *op = g->ops[k];
        for (int i = 0; i < op->input_count; i++) {
            size_t in = op->inputs[i]->op->index;
            u->only_user[in] = u->uses[in] == 0 ? (int)k : -1;
            u->uses[in]++;
        }
    }
    return true;
}

static int value_of(sn_session *s, int *value_of_op, const sn_tensor *t) {
    int *v = &value_of_op[t->op->index];
    if (*v < 0) {
        struct value *val = &s->values[s->value_count];
        *val = (struct value){.tensor = t, .first = -1, .last = -1};
        switch (t->op->type) {
        case SN_OP_PLACEHOLDER: val->kind = VALUE_FEED; break;
        case SN_OP_VARIABLE: val->kind = VALUE_VARIABLE; break;
        case SN_OP_CONST: val->kind = VALUE_CONST; break;
        default: val->kind = VALUE_ARENA; break;
        }
        *v = (int)s->value_count++;
    }
    return *v;
}

/* Builds the node list: ops in creation order (a topological order), each
 * conv2d/matmul with its bias and activation folded in where the
 * intermediate is used once and not fetched. */
static bool build_nodes(sn_session *s, struct usage *u, int *value_of_op) {
    sn_graph *g = s->graph;
    for (size_t k = 0; k < g->op_count; k++) {
        const struct sn_op *op = g->ops[k];
        if (!u->needed[k] || u->covered[k] || op->type == SN_OP_PLACEHOLDER ||
            op->type == SN_OP_VARIABLE || op->type == SN_OP_CONST)
            continue;
        struct node *n = &s->nodes[s->node_count];
        *n = (struct node){.op = op, .bias = -1};
        if (!(n->inputs = sn_malloc((size_t)op->input_count * sizeof *n->inputs)))
            return FAIL(s, SN_ERR_OUT_OF_MEMORY, "out of memory compiling %s", op->name);
        s->node_count++;
        for (int i = 0; i < op->input_count; i++)
            n->inputs[i] = value_of(s, value_of_op, op->inputs[i]);
        const struct sn_op *last = op;
        if (is_weighted(op->type) && u->uses[k] == 1 && !u->fetched[k]) {
            const struct sn_op *c = g->ops[u->only_user[k]];
            sn_tensor *bias = fusable_bias(op, c);
            if (bias && ready_before(bias, op)) {
                n->bias = value_of(s, value_of_op, bias);
                u->covered[c->index] = true;
                last = c;
                s->fused++;
            }
        }
        if (is_weighted(op->type) && u->uses[last->index] == 1 && !u->fetched[last->index]) {
            const struct sn_op *r = g->ops[u->only_user[last->index]];
            if (r->type == SN_OP_RELU || r->type == SN_OP_RELU6) {
                n->act = r->type == SN_OP_RELU ? SN_ACT_RELU : SN_ACT_RELU6;
                u->covered[r->index] = true;
                last = r;
                s->fused++;
            }
        }
        n->out = value_of(s, value_of_op, &last->output);
        if ((size_t)op->input_count > s->scratch_count) s->scratch_count = (size_t)op->input_count;
    }
    for (size_t i = 0; i < s->fetch_count; i++) {
        s->fetches[i] = value_of_op[s->fetches[i]];
        s->values[s->fetches[i]].fetched = true;
    }
    return true;
}

/* A tensor's bytes rounded up to a cache line, or -1 past SN_MAX_ELEMENTS
 * (a -1 batch planned at max_batch can get there). */
static int64_t bytes_of(const sn_shape *shape) {
    int64_t n = sn_shape_elements(shape);
    return n < 0 || n > SN_MAX_ELEMENTS ? -1 : (n * 4 + 63) & ~(int64_t)63;
}

/* Shapes with max_batch, liveness, and the arena: the largest tensors are
 * placed first (ties by first use), each at the lowest offset clear of every
 * placed tensor whose life overlaps its own. */
static bool plan(sn_session *s) {
    for (size_t i = 0; i < s->value_count; i++) {
        struct value *v = &s->values[i];
        v->planned = v->tensor->shape;
        if (v->kind == VALUE_FEED)
            for (int d = 0; d < v->planned.rank; d++)
                if (v->planned.dims[d] < 0) {
                    if (d != 0)
                        return FAIL(
                            s, SN_ERR_INVALID_ARGUMENT,
                            "session: placeholder %s has an unknown dimension other than the "
                            "batch (dimension 0)",
                            v->tensor->op->name);
                    v->planned.dims[d] = s->max_batch;
                }
    }
    for (size_t i = 0; i < s->node_count; i++) {
        struct node *n = &s->nodes[i];
        sn_shape in[4], *shapes = in;
        if (n->op->input_count > 4 &&
            !(shapes = sn_malloc((size_t)n->op->input_count * sizeof *shapes)))
            return FAIL(s, SN_ERR_OUT_OF_MEMORY, "out of memory planning %s", n->op->name);
        for (int k = 0; k < n->op->input_count; k++) {
            struct value *v = &s->values[n->inputs[k]];
            shapes[k] = v->planned;
            if (v->last < (int)i) v->last = (int)i;
        }
        if (n->bias >= 0 && s->values[n->bias].last < (int)i) s->values[n->bias].last = (int)i;
        char why[200];
        struct value *out = &s->values[n->out];
        bool ok = sn_infer_shape(n->op->type, &n->op->attrs, shapes, n->op->input_count,
                                 &out->planned, why, sizeof why);
        if (shapes != in) sn_free(shapes);
        if (!ok) {
            /* An op valid only for some batches (a -1 batch broadcast with a
             * fixed size, say) need not accept max_batch: plan it by its
             * build-time shape; each run checks its real size. */
            out->planned = out->tensor->shape;
            for (int d = 0; d < out->planned.rank; d++)
                if (out->planned.dims[d] < 0) out->planned.dims[d] = s->max_batch;
        }
        out->first = (int)i;
    }
    size_t *order = sn_malloc((s->value_count + 1) * sizeof *order), placed = 0;
    if (!order) return FAIL(s, SN_ERR_OUT_OF_MEMORY, "out of memory planning the arena");
    for (size_t i = 0; i < s->value_count; i++) {
        struct value *v = &s->values[i];
        if (v->kind != VALUE_ARENA) continue;
        int64_t b = bytes_of(&v->planned);
        if (b < 0) {
            sn_free(order);
            return FAIL(s, SN_ERR_INVALID_ARGUMENT, "session: tensor %s is too large",
                        v->tensor->name);
        }
        v->bytes = (size_t)b;
        if (v->fetched || v->last < v->first) v->last = (int)s->node_count;
        /* largest first; equal sizes in order of first use, so a chain
         * alternates between two slots */
        size_t j = placed++;
        while (j > 0 && (s->values[order[j - 1]].bytes < v->bytes ||
                         (s->values[order[j - 1]].bytes == v->bytes &&
                          s->values[order[j - 1]].first > v->first))) {
            order[j] = order[j - 1];
            j--;
        }
        order[j] = i;
    }
    s->arena_bytes = 0;
    for (size_t a = 0; a < placed; a++) {
        struct value *v = &s->values[order[a]];
        size_t offset = 0;
        for (bool moved = true; moved;) {
            moved = false;
            for (size_t b = 0; b < a; b++) {
                const struct value *w = &s->values[order[b]];
                bool overlap_time = v->first <= w->last && w->first <= v->last;
                bool overlap_space = offset < w->offset + w->bytes && w->offset < offset + v->bytes;
                if (overlap_time && overlap_space) offset = w->offset + w->bytes, moved = true;
            }
        }
        v->offset = offset;
        size_t end;
        if (!sn_add_size(offset, v->bytes, &end) || end > (size_t)PTRDIFF_MAX) {
            sn_free(order);
            return FAIL(s, SN_ERR_OUT_OF_MEMORY, "session: the arena would pass %zu bytes",
                        (size_t)PTRDIFF_MAX);
        }
        if (end > s->arena_bytes) s->arena_bytes = end;
    }
    sn_free(order);
    if (s->arena_bytes && !(s->arena = sn_aligned_alloc(64, s->arena_bytes)))
        return FAIL(s, SN_ERR_OUT_OF_MEMORY, "out of memory for the session's arena");
    return true;
}

/* The input of a SIMD conv with padding, inside a frame of zeros as far
 * as its taps reach: hp x wp, (out - 1) * stride + dilated kernel, from
 * the leading padding (top, left). */
struct padded {
    int64_t h, w, c, hp, wp, top, left;
    int64_t stride, span; /* rows: the stride, the filter's rows with dilation */
    int64_t span_w;       /* the filter's columns with dilation */
};

/* Whether conv op (input in, filter) has taps outside its input, and
 * where its frame is. */
static bool padded(const struct sn_op *op, const sn_shape *in, const sn_shape *filter,
                   struct padded *pd) {
    const struct sn_op_attrs *a = &op->attrs;
    int64_t oh, ow;
    *pd = (struct padded){.h = in->dims[1],
                          .w = in->dims[2],
                          .c = in->dims[3],
                          .stride = a->strides.h,
                          .span = (filter->dims[0] - 1) * a->dilations.h + 1,
                          .span_w = (filter->dims[1] - 1) * a->dilations.w + 1};
    /* a VALID window wider than the planned input (a width from a -1 batch,
     * planned at max_batch): no frame; a run of that width is refused */
    if (!sn_window(pd->h, (int)filter->dims[0], a->strides.h, a->dilations.h, a->padding, &oh,
                   &pd->top) ||
        !sn_window(pd->w, (int)filter->dims[1], a->strides.w, a->dilations.w, a->padding, &ow,
                   &pd->left))
        return false;
    pd->hp = (oh - 1) * a->strides.h + pd->span;
    pd->wp = (ow - 1) * a->strides.w + pd->span_w;
    /* nothing to read: no channels, or a frame of no rows or columns (an
     * empty output; execute() runs none) */
    if (pd->hp <= 0 || pd->wp <= 0 || pd->c == 0) return false;
    return pd->top || pd->left || pd->hp > pd->h || pd->wp > pd->w;
}

/* A chunk of a padded conv's work items reads a band of the frame, copied
 * into its thread's part of the scratch: the frame rows that the taps of
 * its output rows reach. A chunk holds at most band_chunk rows' items, so
 * it touches at most band_chunk + 1 rows (it may start and end inside a
 * row split in groups of blocks), whose taps reach band_chunk * stride +
 * span frame rows: at most 64 Ki floats (256 KB, so that the band stays
 * in L2 while its rows are computed), or what 2 output rows reach if that
 * is more. */
static int64_t band_chunk(const struct padded *pd) {
    int64_t rows = 65536 / (pd->wp * pd->c), chunk = (rows - pd->span) / pd->stride;
    return chunk < 1 ? 1 : chunk;
}

/* The most floats a thread's band may take: 64 MB. */
#define BAND_MAX_FLOATS ((int64_t)1 << 24)

/* The floats of the largest band of this frame, and of any narrower one
 * (a width inferred from a -1 batch, by a reshape, is at most the planned
 * one). False past BAND_MAX_FLOATS, or past 16 times the image when that
 * is more than the usual 64 Ki: a large dilation's frame (from about 100
 * on small images) is then mostly zeros that its taps skip over, and the
 * conv runs on the reference kernel, which skips them without a frame (a
 * dilation of 2^27 overflowed the band's size; 1000 asked for 48 MB a
 * thread for a 5x4x3 image). */
static bool band_floats(const struct padded *pd, size_t *floats) {
    int64_t two, image;
    if (!sn_add_i64(pd->stride, pd->span, &two) || !sn_mul_i64(two, pd->wp, &two) ||
        !sn_mul_i64(two, pd->c, &two) || two > BAND_MAX_FLOATS)
        return false;
    if (two > 65536 && (!sn_mul_i64(pd->h * pd->w, pd->c, &image) || two / 16 > image))
        return false;
    *floats = (size_t)(two > 65536 ? two : 65536);
    return true;
}

/* Winograd's output tile: 4 for 3x3 filters, 2 for 5x5. */
static int winograd_m(const sn_session *s, const struct node *n) {
    return s->values[n->inputs[1]].planned.dims[0] == 3 ? 4 : 2;
}

/* The most tiles per Winograd work item: its V and M, 36 (ic + oc) floats
 * a tile, about 256 KB, stay in L2 with the weights' matrix in use. Whole
 * MR-row tiles; winograd_conv then evens the items out. The same items for
 * any thread count: how a run is cut decides which kernel computes a lone
 * last tile (see tile_blocks), hence its bits. */
static size_t winograd_per_item(size_t mr, size_t ic, size_t oc) {
    size_t per = 65536 / (36 * (ic + oc));
    return per < mr ? mr : per / mr * mr;
}

/* Whether conv node n runs as Winograd, F(4x4, 3x3) or F(2x2, 5x5): a 3x3
 * or 5x5 filter, stride and dilation 1, at least 16 channels in and 8 out
 * (fewer, and the transforms may outweigh the products saved), a kernel
 * set with the transforms, the session's direct_conv option off, and for
 * very large weights an image large enough to pay for streaming them. */
static bool use_winograd(const sn_session *s, const struct node *n) {
    const struct sn_op *op = n->op;
    if (s->direct_conv || op->type != SN_OP_CONV2D || !s->kernels->f32_winograd_input) return false;
    const sn_shape *f = &s->values[n->inputs[1]].planned;
    const struct sn_op_attrs *a = &op->attrs;
    if (f->rank != 4 || (f->dims[0] != 3 && f->dims[0] != 5) || f->dims[1] != f->dims[0] ||
        a->strides.h != 1 || a->strides.w != 1 || a->dilations.h != 1 || a->dilations.w != 1)
        return false;
    /* measured on AVX-512 (scopenn bench conv2d, 4x4 to 112x112 images, 16
     * to 256 channels): 1.2-2.1x faster than direct, 5x5 as 3x3; with 8 or
     * 12 channels in, from 3% slower to 1.3x faster */
    const int64_t ic = f->dims[2], oc = f->dims[3];
    if (ic < 16 || oc < 8) return false;
    /* Its 36 weight matrices stream from memory once per work item. Past
     * 24 MB they outgrow the caches, and on a small image streaming them
     * costs more than direct's multiply-adds when those are fewer than
     * about 3.5 a byte streamed (ic = oc = 512, 1 thread: 4x4 and 6x6
     * images 1.9x and 1.4x faster direct, 7x7 level, 8x8 1.25x faster as
     * Winograd; 2 threads, 7x7: 1.3x faster direct). A -1 batch counts as 1. */
    const double pack = 36.0 * (double)(ic * oc) * sizeof(float);
    if (pack <= 24.0 * 1024 * 1024) return true;
    const sn_shape *y = &s->values[n->out].planned;
    const int64_t declared = s->values[n->out].tensor->shape.dims[0], m = winograd_m(s, n),
                  batch = declared > 0 ? declared : 1;
    const size_t tiles = (size_t)(batch * ((y->dims[1] + m - 1) / m) * ((y->dims[2] + m - 1) / m)),
                 per = winograd_per_item(s->kernels->conv.mr, (size_t)ic, (size_t)oc);
    const double items = (double)((tiles + per - 1) / per),
                 macs = (double)(batch * y->dims[1] * y->dims[2] * oc * ic) * (double)f->dims[0] *
                        (double)f->dims[1];
    return macs >= 3.5 * pack * items;
}

/* A thread's part of the scratch holds a work item's V, [36][per_item][ic],
 * then its M, [36][per_item][oc], each starting on a cache line: the
 * floats of one of them, c channels. */
static size_t winograd_floats(size_t per_item, size_t c) {
    return (36 * per_item * c + 15) / 16 * 16;
}

/* Floats from one thread's part of the scratch to the next: a part rounded
 * up to whole 4 KB pages, then a gap of 256 KB that no thread touches.
 * With the parts end to end, two threads running Winograd on the 2-core
 * EPYC VM ran 20-45% slower for seconds at a time, although either thread
 * alone ran at full speed; the input transforms of one thread took twice
 * as long. In those slow stretches (seed_filter, 2 threads, medians of
 * interleaved runs) it took 0.34 ms end to end, 0.28 with the gap (0.26
 * usually), and 0.26 with the gap and each thread's own range of items
 * (runtime/share.h); a 64 KB gap gave half the gain of 256 KB. Why is not
 * known: the parts shared no cache line even end to end. With the default
 * allocator the gap is address space only: nothing writes its pages, so
 * they are never backed. */
static size_t part_stride(size_t floats, size_t threads) {
    return threads > 1 && floats ? (floats + 1023) / 1024 * 1024 + 65536 : floats;
}

/* Strassen's largest chunk: rows of the top half taken together, each
 * giving a row of its 4 sums ([k/2] floats) and of its 7 products ([n2]
 * floats), about 768 KB in all (dense_mm's 32 rows: one chunk, so the
 * weights stream once). A multiple of MR. */
static size_t strassen_chunk(size_t mr, size_t k2, size_t n2) {
    size_t rows = 196608 / (4 * k2 + 7 * n2);
    return rows < mr ? mr : rows / mr * mr;
}

/* The product node n computes, as [rows][k] x [k][n] with at least
 * *min_rows rows (a -1 batch counted as 1), if it is a matmul or a 1x1,
 * stride 1 conv; false otherwise. */
static bool product_dims(const sn_session *s, const struct node *n, int64_t *min_rows, int64_t *k,
                         int64_t *cols) {
    const struct sn_op *op = n->op;
    const sn_shape *w = &s->values[n->inputs[1]].planned, *y = &s->values[n->out].tensor->shape;
    if (op->type == SN_OP_MATMUL) {
        if (op->attrs.transpose_a) return false;
        *k = w->dims[op->attrs.transpose_b ? 1 : 0];
    } else if (op->type == SN_OP_CONV2D && w->dims[0] == 1 && w->dims[1] == 1 &&
               op->attrs.strides.h == 1 && op->attrs.strides.w == 1) {
        *k = w->dims[2];
    } else {
        return false;
    }
    *min_rows = 1;
    for (int d = 0; d + 1 < y->rank; d++) *min_rows *= y->dims[d] < 0 ? 1 : y->dims[d];
    *cols = y->dims[y->rank - 1];
    return true;
}

/* Whether node n runs as one level of Strassen-Winograd: a matmul or 1x1
 * conv of an even k, the session's direct_matmul option off, and
 *   - k >= 512, n >= 256 and rows >= 16 (a -1 batch counted as 1): the
 *     half-size products stay efficient and outweigh the sums;
 *   - k n <= 2^20 (4 MB of weights, 7 MB packed): larger packs stream
 *     from farther than the plain pack, and lose;
 *   - 2^25 multiply-adds or more: less, and at 2 threads the three
 *     steps' hand-offs outweigh the products saved (the rule must not
 *     depend on the thread count: results are the same for any).
 * Measured on AVX-512 (Zen 5; scopenn bench matmul, --direct against
 * not, m 2-3136, k and n 64-2048, 1 and 2 threads): within these bounds
 * 1.02-1.12x faster than the plain product (k = n = 1024: 1.09-1.12x);
 * outside, from 0.56x (m = 4) to 1.09x (m = 16, k = n = 1024, 1 thread). */
static bool use_strassen(const sn_session *s, const struct node *n) {
    int64_t rows, k, cols;
    if (s->direct_matmul || !product_dims(s, n, &rows, &k, &cols)) return false;
    return k % 2 == 0 && k >= 512 && cols >= 256 && rows >= 16 && k * cols <= (1 << 20) &&
           rows * k * cols >= ((int64_t)1 << 25);
}

/* Whether weighted node n runs on the kernel set's tile kernels. Not a
 * matmul of a transposed a, which the reference reads as it is; not an
 * empty product (no input channels, or k = 0), whose output is its bias
 * (or zeros), activated, as the reference gives it, and which the tiling
 * cannot cut (it divides by k); not a conv whose padded band would pass
 * BAND_MAX_FLOATS. */
static bool tile_path(const sn_session *s, const struct node *n) {
    const sn_shape *x = &s->values[n->inputs[0]].planned, *f = &s->values[n->inputs[1]].planned;
    if (n->op->type == SN_OP_MATMUL) return !n->op->attrs.transpose_a && x->dims[1] > 0;
    struct padded pd;
    size_t floats;
    return x->dims[3] > 0 && (!padded(n->op, x, f, &pd) || band_floats(&pd, &floats));
}

/* Where a conv2d or matmul gets its weights and bias: the graph's pack
 * cache for variables, in the layout of the session's kernels; a buffer
 * of the session, packed at each run, for computed ones. */
static bool prepare_weights(sn_session *s) {
    sn_graph *g = s->graph;
    const struct sn_conv_config *cc = &s->kernels->conv;
    if (!g->packs && !(g->packs = sn_pack_cache_create()))
        return FAIL(s, SN_ERR_OUT_OF_MEMORY, "out of memory for the pack cache");
    size_t nr = cc->tile ? cc->nr : 1, zeros = nr;
    for (size_t i = 0; i < s->node_count; i++) {
        struct node *n = &s->nodes[i];
        if (!is_weighted(n->op->type)) continue;
        const sn_shape *out = &s->values[n->out].planned;
        if (out->rank > 0 && out->dims[out->rank - 1] > 0) {
            size_t c = (size_t)out->dims[out->rank - 1], padded = (c + nr - 1) / nr * nr;
            if (padded > zeros) zeros = padded;
        }
        n->simd = cc->tile && tile_path(s, n);
        n->winograd = n->simd && use_winograd(s, n);
        n->strassen = n->simd && use_strassen(s, n);
        const bool transposed = n->op->type == SN_OP_MATMUL && n->op->attrs.transpose_b;
        n->packer = !n->simd      ? &sn_packer_reference
                    : n->winograd ? cc->packer_winograd
                    : n->strassen
                        ? (transposed ? cc->packer_strassen_transposed : cc->packer_strassen)
                    : transposed ? cc->packer_transposed
                                 : cc->packer;
        /* Winograd's output transform and Strassen's sums add the bias as
         * it is */
        n->bias_packer =
            n->simd && !n->winograd && !n->strassen ? cc->packer : &sn_packer_reference;
        int which[2] = {n->inputs[1], n->bias};
        const sn_packer *packers[2] = {n->packer, n->bias_packer};
        struct sn_pack **slot[2] = {&n->weights, &n->bias_pack};
        float **scratch[2] = {&n->weights_scratch, &n->bias_scratch};
        for (int k = 0; k < 2; k++) {
            if (which[k] < 0) continue;
            const struct value *v = &s->values[which[k]];
            if (v->kind != VALUE_VARIABLE) {
                /* the reference layout reads it as it is */
                if (packers[k] == &sn_packer_reference) continue;
                size_t floats = packers[k]->packed_floats(&v->planned, (int)nr);
                if (!(*scratch[k] = sn_aligned_alloc(64, floats * sizeof(float) + 64)))
                    return FAIL(s, SN_ERR_OUT_OF_MEMORY, "out of memory compiling %s", n->op->name);
                continue;
            }
            bool made = false;
            sn_variable *var = v->tensor->op->variable;
            const struct sn_pack_source source = sn_variable_source(var);
            struct sn_pack *p = sn_pack_get(g->packs, packers[k], (int)nr, &source, 1, &made);
            if (!p) return FAIL(s, SN_ERR_OUT_OF_MEMORY, "out of memory packing %s", var->name);
            *slot[k] = p;
            made ? s->packs_made++ : s->packs_reused++;
            if (made) s->pack_ms += p->pack_ms;
            size_t j = 0;
            while (j < s->pack_count && s->packs[j] != p) j++;
            if (j == s->pack_count) {
                s->packs[s->pack_count++] = p;
                s->packed_bytes += p->bytes;
            }
        }
        if (n->winograd) {
            const size_t ic = (size_t)s->values[n->inputs[0]].planned.dims[3],
                         oc = (size_t)s->values[n->out].planned.dims[3],
                         per = winograd_per_item(cc->mr, ic, oc),
                         floats = winograd_floats(per, ic) + winograd_floats(per, oc);
            if (floats > s->part_floats) s->part_floats = floats;
        } else if (n->strassen) {
            int64_t rows, k, cols;
            size_t k2, n2;
            product_dims(s, n, &rows, &k, &cols);
            sn_strassen_halves((size_t)k, (size_t)cols, (int)nr, &k2, &n2);
            const size_t floats = strassen_chunk(cc->mr, k2, n2) * (4 * k2 + 7 * n2);
            if (floats > s->strassen_floats) s->strassen_floats = floats;
        } else if (n->simd && n->op->type == SN_OP_CONV2D) {
            struct padded pd;
            size_t floats;
            if (padded(n->op, &s->values[n->inputs[0]].planned, &s->values[n->inputs[1]].planned,
                       &pd) &&
                band_floats(&pd, &floats) && floats > s->part_floats)
                s->part_floats = floats;
        }
    }
    if (!(s->zeros = sn_aligned_alloc(64, (zeros * sizeof(float) + 63) & ~(size_t)63)))
        return FAIL(s, SN_ERR_OUT_OF_MEMORY, "out of memory compiling a session");
    memset(s->zeros, 0, zeros * sizeof(float));
    return true;
}

/* The threads a session runs on: 1 without a pool. */
static size_t threads_of(const sn_session *s) { return s->pool ? sn_pool_threads(s->pool) : 1; }

void sn_session_destroy(sn_session *s) {
    if (!s) return;
    for (size_t i = 0; i < s->node_count; i++) {
        sn_free(s->nodes[i].inputs);
        sn_aligned_free(s->nodes[i].weights_scratch);
        sn_aligned_free(s->nodes[i].bias_scratch);
    }
    sn_aligned_free(s->parts);
    sn_aligned_free(s->ranges);
    sn_aligned_free(s->strassen);
    sn_aligned_free(s->zeros);
    sn_free(s->nodes);
    sn_free(s->values);
    sn_free(s->fetches);
    sn_free(s->packs);
    sn_free(s->scratch);
    sn_aligned_free(s->arena);
    sn_pool_destroy(s->pool);
    sn_free(s);
}

sn_session *sn_session_create(sn_graph *g, sn_tensor *const *fetches, size_t fetch_count,
                              const sn_session_options *options) {
    if (!g || sn_graph_failed(g)) return NULL;
    sn_session_options opt = options ? *options : (sn_session_options){0};
    if (!fetches || fetch_count == 0) {
        sn_graph_fail(g, SN_ERR_INVALID_ARGUMENT, "session: no fetches");
        return NULL;
    }
    for (size_t i = 0; i < fetch_count; i++)
        if (!fetches[i] || fetches[i]->op->graph != g) {
            sn_graph_fail(g, SN_ERR_INVALID_ARGUMENT, "session: fetch %zu is %s", i,
                          fetches[i] ? "a tensor of another graph" : "NULL");
            return NULL;
        }
    if (opt.threads < 0 || opt.max_batch < 0 ||
        (opt.limit_isa && (unsigned)opt.max_isa >= SN_ISA_COUNT)) {
        sn_graph_fail(g, SN_ERR_INVALID_ARGUMENT,
                      "session: options out of range (threads %d, max_batch %d)", opt.threads,
                      opt.max_batch);
        return NULL;
    }
    size_t n = g->op_count;
    sn_session *s = sn_calloc(1, sizeof *s);
    struct usage u = {0};
    int *value_of_op = NULL;
    if (!s) goto oom;
    s->graph = g;
    s->max_batch = opt.max_batch ? opt.max_batch : 1;
    s->direct_conv = opt.direct_conv;
    s->direct_matmul = opt.direct_matmul;
    s->fetch_count = fetch_count;
    if (!(u.needed = sn_calloc(n, 1)) || !(u.fetched = sn_calloc(n, 1)) ||
        !(u.covered = sn_calloc(n, 1)) || !(u.uses = sn_calloc(n, sizeof(int))) ||
        !(u.only_user = sn_calloc(n, sizeof(int))) || !(value_of_op = sn_malloc(n * sizeof(int))) ||
        !(s->nodes = sn_calloc(n, sizeof *s->nodes)) ||
        !(s->values = sn_calloc(n, sizeof *s->values)) ||
        !(s->packs = sn_calloc(2 * n, sizeof *s->packs)) ||
        !(s->fetches = sn_malloc(fetch_count * sizeof(int))))
        goto oom;
    for (size_t i = 0; i < n; i++) value_of_op[i] = -1;
    for (size_t i = 0; i < fetch_count; i++) {
        s->fetches[i] = (int)fetches[i]->op->index; /* op indices until build_nodes */
        value_of(s, value_of_op, fetches[i]);
    }
    sn_cpu_info info;
    sn_cpu_info_get(&info);
    sn_isa isa = info.isa;
    if (opt.limit_isa) {
        /* the cap's rules, as for SCOPENN_ISA (another architecture's ISA
         * leaves scalar), under the process's own choice: within one
         * architecture's ladder the enum order is the ladder's */
        sn_isa_choice capped;
        sn_isa_choose(sn_cpu_arch(), info.features, opt.max_isa, "max_isa", &capped);
        if (capped.isa < isa) isa = capped.isa;
    }
    s->kernels = sn_kernels_for(isa) ? sn_kernels_for(isa) : sn_kernels_for(SN_ISA_SCALAR);
    if (!mark_needed(s, &u, fetches, fetch_count) || !build_nodes(s, &u, value_of_op) || !plan(s) ||
        !prepare_weights(s))
        goto error;
    if (s->scratch_count && !(s->scratch = sn_malloc(s->scratch_count * sizeof *s->scratch)))
        goto oom;
    if (opt.threads != 1) {
        const int err = sn_pool_create((size_t)opt.threads, NULL, &s->pool);
        if (err == ENOMEM) goto oom;
        if (err) { /* too many, or the system's limit on threads (EAGAIN) */
            sn_graph_fail(g, err == EINVAL ? SN_ERR_INVALID_ARGUMENT : SN_ERR_OUT_OF_MEMORY,
                          "session: cannot start %d threads (at most %d): %s", opt.threads,
                          (int)SN_POOL_MAX_THREADS, strerror(err));
            goto error;
        }
        if (sn_pool_threads(s->pool) <= 1) sn_pool_destroy(s->pool), s->pool = NULL;
    }
    if (!(s->ranges = sn_aligned_alloc(64, threads_of(s) * sizeof *s->ranges))) goto oom;
    s->part_floats = part_stride(s->part_floats, threads_of(s));
    if (s->part_floats &&
        !(s->parts = sn_aligned_alloc(4096, s->part_floats * sizeof(float) * threads_of(s))))
        goto oom;
    if (s->strassen_floats &&
        !(s->strassen = sn_aligned_alloc(64, s->strassen_floats * sizeof(float))))
        goto oom;
    goto done;
oom:
    sn_graph_fail(g, SN_ERR_OUT_OF_MEMORY, "out of memory creating a session");
error:
    sn_session_destroy(s);
    s = NULL;
done:
    sn_free(u.needed);
    sn_free(u.fetched);
    sn_free(u.covered);
    sn_free(u.uses);
    sn_free(u.only_user);
    sn_free(value_of_op);
    return s;
}

void sn_session_stats_get(const sn_session *s, sn_session_stats *st) {
    if (!s || !st) return;
    size_t winograd = 0, strassen = 0;
    for (size_t i = 0; i < s->node_count; i++) {
        winograd += s->nodes[i].winograd;
        strassen += s->nodes[i].strassen;
    }
    *st = (sn_session_stats){
        .ops = s->node_count,
        .fused = s->fused,
        .packs_made = s->packs_made,
        .packs_reused = s->packs_reused,
        .packed_bytes = s->packed_bytes,
        .pack_ms = s->pack_ms,
        .arena_bytes = s->arena_bytes,
        .isa = s->kernels->isa,
        .threads = (int)threads_of(s),
        .winograd = winograd,
        .strassen = strassen,
    };
}

const char *sn_session_error(const sn_session *s) { return s ? s->error : "session is NULL"; }

/* ---- run ----------------------------------------------------------------- */

/* Records a run error in the session's own buffer (no allocation). */
static sn_status run_fail(sn_session *s, sn_status st, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

static sn_status run_fail(sn_session *s, sn_status st, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->error, sizeof s->error, fmt, ap);
    va_end(ap);
    return st;
}

static const float *pack_or_value(const sn_session *s, const struct sn_pack *p, int value) {
    return p ? p->data : s->values[value].data;
}

/* The geometry of a conv or pool from this run's shapes. */
static sn_conv2d_geometry geometry(const struct sn_op *op, const sn_shape *in, const sn_shape *out,
                                   int64_t kh, int64_t kw) {
    const struct sn_op_attrs *a = &op->attrs;
    int64_t oh, ow, top, left;
    sn_window(in->dims[1], (int)kh, a->strides.h, a->dilations.h, a->padding, &oh, &top);
    sn_window(in->dims[2], (int)kw, a->strides.w, a->dilations.w, a->padding, &ow, &left);
    return (sn_conv2d_geometry){.batch = in->dims[0],
                                .in_h = in->dims[1],
                                .in_w = in->dims[2],
                                .in_c = in->dims[3],
                                .kh = kh,
                                .kw = kw,
                                .out_c = out->dims[3],
                                .out_h = oh,
                                .out_w = ow,
                                .stride_h = a->strides.h,
                                .stride_w = a->strides.w,
                                .dilation_h = a->dilations.h,
                                .dilation_w = a->dilations.w,
                                .pad_top = top,
                                .pad_left = left};
}

/* Work split over rows of the output, for the thread pool. */
struct rows_task {
    const struct node *node;
    const struct sn_kernels *kernels;
    sn_conv2d_geometry geo;
    const float *input, *weights, *bias;
    float *output;
    int64_t m, k, n; /* MatMul */
};

static void rows(void *context, size_t begin, size_t count) {
    const struct rows_task *t = context;
    int64_t b = (int64_t)begin, e = (int64_t)(begin + count);
    const struct sn_op *op = t->node->op;
    switch (op->type) {
    case SN_OP_CONV2D:
        sn_f32_conv2d_ref(&t->geo, t->input, t->weights, t->bias, t->node->act, t->output, b, e);
        break;
    case SN_OP_MATMUL:
        sn_f32_matmul_ref(t->m, t->k, t->n, t->input, op->attrs.transpose_a, t->weights,
                          op->attrs.transpose_b, t->bias, t->node->act, t->output, b, e);
        break;
    case SN_OP_MAX_POOL: t->kernels->f32_max_pool(&t->geo, t->input, t->output, b, e); break;
    case SN_OP_AVG_POOL: t->kernels->f32_avg_pool(&t->geo, t->input, t->output, b, e); break;
    default: break;
    }
}

/* Runs fn over [0, count) on the session's threads, in tiles. */
static void parallel(sn_session *s, sn_pool_fn fn, void *context, size_t count) {
    if (count == 0) return;
    if (!s->pool) {
        fn(context, 0, count);
        return;
    }
    size_t tile = count / (threads_of(s) * 4);
    sn_pool_run(s->pool, fn, context, count, tile ? tile : 1);
}

/* The session's threads share `items`, `chunk` at a time (runtime/share.h). */
static struct sn_share share_of(const sn_session *s, size_t items, size_t chunk) {
    return sn_share_init(s->ranges, threads_of(s), items, chunk);
}

/* ---- the kernel set's tile kernels (conv2d and matmul on blocked weights) */

struct tile_task {
    const struct sn_conv_config *cc;
    struct sn_conv_tile base; /* strides, taps, clamp */
    const float *input;       /* NHWC */
    int64_t in_h, in_w;       /* its rows and columns per image */
    int64_t out_h, out_w, out_c, stride_h, stride_w, channels;
    const float *weights, *bias; /* packed: blocks of block_floats, and NR-wide */
    size_t block_floats;
    size_t groups; /* of NR blocks per row: see block_range */
    size_t panel;  /* matrix products: rows per work item, a multiple of MR */
    /* A run of one pixel takes the tile kernel too, not the row kernel:
     * set where the thread count cuts the runs (matrix panels), so that a
     * lone last row is computed as in any other cut */
    bool lone_by_tile;
    float *output;
    /* With padding (pad.chunk > 0): a chunk of rows reads its band of the
     * frame (band_chunk), but the tiles whose taps all fall inside the
     * input read the input itself */
    struct pad {
        struct padded frame;
        int64_t chunk;            /* output rows: see band_chunk; 0 without padding */
        struct sn_conv_tile base; /* the strides in a band */
        int64_t oy0, oy1;         /* output rows whose taps stay inside at the top and bottom */
        int64_t lx, rx;           /* of those rows, the run of whole tiles reading only inside */
        bool middle;              /* if any: lx < rx and oy0 < oy1 */
        /* what a band holds of the frame: its rows [0, full_end) and
         * [full_begin, hp) whole, of the others the columns [0, lcols) and
         * [rcols, wp) that the edge tiles read */
        int64_t full_end, full_begin, lcols, rcols;
    } pad;
};

/* NR blocks [first_block, end_block) of one run of pixels: `count` pixels
 * from `in` (pixel_stride apart, strides of `base`) to `out`, which the
 * kernel cuts in MR tiles from the start of the run. */
static void tile_blocks(const struct tile_task *t, const struct sn_conv_tile *base, const float *in,
                        float *out, size_t count, size_t first_block, size_t end_block) {
    if (first_block == end_block) return;
    struct sn_conv_tile tile = *base;
    const size_t nr = t->cc->nr, end = end_block * nr;
    tile.input = in;
    tile.weights = t->weights + first_block * t->block_floats;
    tile.bias = (t->bias ? t->bias : t->base.bias /* zeros */) + first_block * nr;
    tile.output = out + first_block * nr;
    /* one call for all the blocks (see struct sn_conv_tile) */
    (count > 1 || t->lone_by_tile ? t->cc->tile : t->cc->row)(
        count, (end < (size_t)t->out_c ? end : (size_t)t->out_c) - first_block * nr, &tile);
}

/* Work item i covers output rows (or MR-row tiles) i / groups, NR blocks
 * [g * blocks / groups, (g + 1) * blocks / groups) for g = i % groups: a
 * 2-D split, so a layer with few rows (a matrix-vector product) still
 * feeds every thread. Each output is computed by one call whatever the
 * split, so results do not depend on the thread count. */
static void block_range(const struct tile_task *t, size_t i, size_t *b0, size_t *b1) {
    size_t blocks = ((size_t)t->out_c + t->cc->nr - 1) / t->cc->nr, g = i % t->groups;
    *b0 = g * blocks / t->groups;
    *b1 = (g + 1) * blocks / t->groups;
}

/* Output rows of a conv (work items [begin, end)), each in runs of
 * pixels (the kernels cut them in MR tiles from the run's start). With
 * padding, the rows read `band`, frame rows from py0 on, except that a row
 * whose taps stay inside the input at the top and bottom reads the input
 * itself for its middle run of tiles, [lx, rx). */
static void conv_rows(const struct tile_task *t, const float *band, int64_t py0, size_t begin,
                      size_t end) {
    const struct pad *p = &t->pad;
    const int64_t row_floats = t->in_w * t->channels, band_row = p->frame.wp * t->channels;
    for (size_t i = begin; i < end; i++) {
        size_t r = i / t->groups, b0, b1;
        block_range(t, i, &b0, &b1);
        int64_t n = (int64_t)r / t->out_h, oy = (int64_t)r % t->out_h;
        float *out = t->output + (int64_t)r * t->out_w * t->out_c;
        if (!p->chunk) {
            tile_blocks(t, &t->base, t->input + (n * t->in_h + oy * t->stride_h) * row_floats, out,
                        (size_t)t->out_w, b0, b1);
            continue;
        }
        const float *in = band + (oy * t->stride_h - py0) * band_row;
        if (!p->middle || oy < p->oy0 || oy >= p->oy1) {
            tile_blocks(t, &p->base, in, out, (size_t)t->out_w, b0, b1);
            continue;
        }
        const int64_t y = oy * t->stride_h - p->frame.top, x = p->lx * t->stride_w - p->frame.left;
        if (p->lx > 0) tile_blocks(t, &p->base, in, out, (size_t)p->lx, b0, b1);
        tile_blocks(t, &t->base, t->input + (n * t->in_h + y) * row_floats + x * t->channels,
                    out + p->lx * t->out_c, (size_t)(p->rx - p->lx), b0, b1);
        if (p->rx < t->out_w)
            tile_blocks(t, &p->base, in + p->rx * t->stride_w * t->channels, out + p->rx * t->out_c,
                        (size_t)(t->out_w - p->rx), b0, b1);
    }
}

/* Columns [c0, c1) of a frame row, at `row`, from input row `in_row`
 * (NULL: a row of padding): zeros outside the input, the input inside. */
static void pad_columns(const struct padded *f, float *row, const float *in_row, int64_t c0,
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
 * the band need of them (see struct pad). */
static void pad_band(const struct tile_task *t, float *band, int64_t n, int64_t py0, int64_t py1) {
    const struct pad *p = &t->pad;
    const struct padded *f = &p->frame;
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
static void conv_chunk(const struct tile_task *t, float *band, size_t begin, size_t end) {
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

/* A conv's work items, shared among the threads (runtime/share.h). Call k
 * of [begin, begin + count) owns part k of the scratch for its bands:
 * there are as many calls as threads, and no two run the same k. */
struct conv_task {
    struct tile_task t;
    float *parts; /* NULL if no conv of the session pads, nor runs as Winograd */
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

/* Panels of rows of a matrix product, each one run through a group of NR
 * blocks: the kernel takes a block at a time over the whole panel, so a
 * block's weights come from memory once per panel, not once per tile
 * (dense_mm's 4 MB of weights: once, not 8 times). */
static void matmul_tiles(void *context, size_t begin, size_t count) {
    const struct tile_task *t = context;
    for (size_t i = begin; i < begin + count; i++) {
        size_t b0, b1;
        block_range(t, i, &b0, &b1);
        int64_t m = (int64_t)(i / t->groups * t->panel);
        size_t rows = (size_t)(t->out_h - m) < t->panel ? (size_t)(t->out_h - m) : t->panel;
        tile_blocks(t, &t->base, t->input + m * t->channels, t->output + m * t->out_c, rows, b0,
                    b1);
    }
}

/* How many groups of NR blocks to split each row (or tile) into, so that
 * `rows` of them give every thread several work items. */
static size_t block_groups(const sn_session *s, size_t rows, size_t out_c, size_t nr) {
    size_t threads = threads_of(s), blocks = (out_c + nr - 1) / nr;
    if (threads == 1 || rows >= 4 * threads) return 1;
    size_t want = (4 * threads + rows - 1) / (rows ? rows : 1);
    return want < blocks ? want : blocks;
}

/* The weights and bias of a node for this run: packs, or its own buffers
 * packed now from the computed values, or NULL for a missing bias. */
static void node_weights(sn_session *s, const struct node *nd, const float **w, const float **b) {
    const int nr = (int)s->kernels->conv.nr;
    const struct value *wv = &s->values[nd->inputs[1]];
    if (nd->weights) {
        *w = nd->weights->data;
    } else {
        nd->packer->pack(wv->data, &wv->shape, nr, nd->weights_scratch);
        *w = nd->weights_scratch;
    }
    if (nd->bias < 0) {
        *b = NULL;
    } else if (nd->bias_pack) {
        *b = nd->bias_pack->data;
    } else {
        const struct value *bv = &s->values[nd->bias];
        if (nd->bias_packer == &sn_packer_reference) {
            *b = bv->data; /* read as it is */
            return;
        }
        nd->bias_packer->pack(bv->data, &bv->shape, nr, nd->bias_scratch);
        *b = nd->bias_scratch;
    }
}

static void clamp_of(sn_activation act, float *lo, float *hi) {
    *lo = act == SN_ACT_NONE ? -INFINITY : 0.0f;
    *hi = act == SN_ACT_RELU6 ? 6.0f : INFINITY;
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

/* The tile kernels as a matrix product [rows][k] x [k][n] (packed weights,
 * NR-wide blocks of k rows; no clamp): strides and blocks, for
 * matrix_product and for Winograd's 36 products. */
static struct tile_task product_task(const sn_session *s, int64_t k, int64_t n) {
    const struct sn_conv_config *cc = &s->kernels->conv;
    return (struct tile_task){.cc = cc,
                              .out_c = n,
                              .channels = k,
                              .block_floats = (size_t)k * cc->nr,
                              .base = {.pixel_stride = (size_t)k * sizeof(float),
                                       .kh = 1,
                                       .kw = 1,
                                       .kc = (size_t)k,
                                       .bias = s->zeros,
                                       .output_stride = (size_t)n * sizeof(float),
                                       .min = -INFINITY,
                                       .max = INFINITY}};
}

/* ---- one level of Strassen-Winograd ---------------------------------------
 *
 * out [m][n] = A [m][k] W [k][n] as four quadrants: A's rows in halves of
 * m2 = ceil(m / 2) (a missing last row of the bottom half counts as
 * zeros), its columns in halves of k2 = k / 2, W's quadrants as the pack
 * has them (pack/pack.c: k2 x n2, n2 a multiple of NR, zero-padded). With
 *     S1 = A21 + A22, S2 = S1 - A11, S3 = A11 - A21, S4 = A12 - S2,
 *     M1 = A11 B11, M2 = A12 B21, M3 = S4 B22, M4 = A22 T4,
 *     M5 = S1 T1,   M6 = S2 T2,   M7 = S3 T3,
 *     U2 = M1 + M6, U3 = U2 + M7,
 * C11 = M1 + M2, C12 = U2 + M5 + M3, C21 = U3 - M4, C22 = U3 + M5, then
 * the bias and the activation. The products run on the tile kernels; the
 * sums on the kernel set's add and subtract. The rows of the top half go
 * in chunks (strassen_chunk), each through the three steps on all the
 * threads: the sums, the 7 products (split by NR blocks), the outputs.
 * Every value is computed by the same calls whatever the split. */
struct strassen_task {
    const struct sn_kernels *kernels;
    const float *a; /* [m][k] */
    int64_t m, k, n, m2, k2, n2;
    const float *bias;      /* n floats, or NULL */
    sn_f32_vunary_fn clamp; /* relu or relu6, or NULL */
    float *output;
    float *sums;     /* [4][chunk][k2]: S1 S2 S3 S4 */
    float *products; /* [7][chunk][n2]: M1 .. M7 */
    size_t chunk;
    int64_t r0;  /* the chunk's first row of the top half */
    size_t rows; /* and how many */
    struct tile_task product[7];
    size_t groups; /* of NR blocks in each product */
};

/* The bottom-half row of top-half row r, or NULL past the last row. */
static const float *strassen_bottom(const struct strassen_task *t, int64_t r) {
    return t->m2 + r < t->m ? t->a + (t->m2 + r) * t->k : NULL;
}

static void strassen_sums(void *context, size_t begin, size_t count) {
    const struct strassen_task *t = context;
    const sn_f32_vbinary_fn add = t->kernels->f32_binary[SN_BINARY_ADD].same,
                            sub = t->kernels->f32_binary[SN_BINARY_SUB].same;
    const size_t k2 = (size_t)t->k2, plane = t->chunk * k2;
    for (size_t i = begin; i < begin + count; i++) {
        const int64_t r = t->r0 + (int64_t)i;
        const float *a11 = t->a + r * t->k, *a12 = a11 + k2, *a21 = strassen_bottom(t, r);
        float *s1 = t->sums + i * k2, *s2 = s1 + plane, *s3 = s2 + plane, *s4 = s3 + plane;
        if (a21) {
            add(k2, a21, a21 + k2, s1);
        } else {
            memset(s1, 0, k2 * sizeof(float));
            a21 = s1; /* zeros */
        }
        sub(k2, s1, a11, s2);
        sub(k2, a11, a21, s3);
        sub(k2, a12, s2, s4);
    }
}

/* Item i: product i / groups, its group i % groups of NR blocks. */
static void strassen_products(void *context, size_t begin, size_t count) {
    const struct strassen_task *t = context;
    for (size_t i = begin; i < begin + count; i++) {
        const struct tile_task *p = &t->product[i / t->groups];
        if (p->out_h == 0) continue;
        size_t b0, b1;
        block_range(p, i, &b0, &b1);
        tile_blocks(p, &p->base, p->input, p->output, (size_t)p->out_h, b0, b1);
    }
}

static void strassen_outputs(void *context, size_t begin, size_t count) {
    const struct strassen_task *t = context;
    const sn_f32_vbinary_fn add = t->kernels->f32_binary[SN_BINARY_ADD].same,
                            sub = t->kernels->f32_binary[SN_BINARY_SUB].same;
    const size_t n2 = (size_t)t->n2, plane = t->chunk * n2, n = (size_t)t->n,
                 left = n < n2 ? n : n2, right = n > n2 ? n - n2 : 0;
    for (size_t i = begin; i < begin + count; i++) {
        const int64_t r = t->r0 + (int64_t)i;
        float *m1 = t->products + i * n2, *m2 = m1 + plane, *m3 = m2 + plane, *m4 = m3 + plane,
              *m5 = m4 + plane, *m6 = m5 + plane, *m7 = m6 + plane;
        float *top = t->output + r * t->n,
              *bottom = strassen_bottom(t, r) ? t->output + (t->m2 + r) * t->n : NULL;
        add(left, m1, m2, top); /* C11 */
        add(n2, m1, m6, m6);    /* U2 */
        if (right) {
            add(right, m6, m5, top + n2); /* C12 */
            add(right, top + n2, m3, top + n2);
        }
        float *rows[2] = {top, bottom};
        if (bottom) {
            add(n2, m6, m7, m7);                        /* U3 */
            sub(left, m7, m4, bottom);                  /* C21 */
            if (right) add(right, m7, m5, bottom + n2); /* C22 */
        }
        for (int j = 0; j < 2 && rows[j]; j++) {
            if (t->bias) add(n, rows[j], t->bias, rows[j]);
            if (t->clamp) t->clamp(n, rows[j], rows[j]);
        }
    }
}

static void strassen_product(sn_session *s, const struct node *nd, const float *in, int64_t m,
                             int64_t k, int64_t n, float *out) {
    const struct sn_conv_config *cc = &s->kernels->conv;
    struct strassen_task t = {.kernels = s->kernels,
                              .a = in,
                              .m = m,
                              .k = k,
                              .n = n,
                              .m2 = (m + 1) / 2,
                              .clamp = nd->act == SN_ACT_RELU    ? s->kernels->f32_relu
                                       : nd->act == SN_ACT_RELU6 ? s->kernels->f32_relu6
                                                                 : NULL,
                              .output = out,
                              .sums = s->strassen};
    size_t k2, n2; /* k even: k2 = k / 2 */
    sn_strassen_halves((size_t)k, (size_t)n, (int)cc->nr, &k2, &n2);
    t.k2 = (int64_t)k2, t.n2 = (int64_t)n2;
    const float *weights;
    node_weights(s, nd, &weights, &t.bias);
    t.chunk = strassen_chunk(cc->mr, k2, n2);
    t.products = t.sums + 4 * t.chunk * k2;
    /* chunks of even size, in whole tiles: no short last one */
    const size_t chunks = ((size_t)t.m2 + t.chunk - 1) / t.chunk,
                 even = ((size_t)t.m2 + chunks - 1) / chunks, mr = cc->mr,
                 step = (even + mr - 1) / mr * mr;
    const size_t matrix = k2 * n2, plane = t.chunk * k2;
    t.groups = block_groups(s, 7, n2, cc->nr);
    for (int p = 0; p < 7; p++) {
        struct tile_task *x = &t.product[p];
        const bool in_a = p == 0 || p == 1 || p == 3;
        *x = product_task(s, t.k2, t.n2);
        x->weights = weights + (size_t)p * matrix;
        x->lone_by_tile = true;
        x->base.pixel_stride = (size_t)(in_a ? k : t.k2) * sizeof(float);
        x->output = t.products + (size_t)p * t.chunk * n2;
        x->groups = t.groups;
    }
    for (t.r0 = 0; t.r0 < t.m2; t.r0 += (int64_t)step) {
        t.rows = (size_t)(t.m2 - t.r0) < step ? (size_t)(t.m2 - t.r0) : step;
        /* M4 reads the bottom half's rows only where there are some */
        const int64_t bottom = t.m - t.m2 - t.r0;
        const float *a11 = in + t.r0 * k, *a22 = bottom > 0 ? in + (t.m2 + t.r0) * k + t.k2 : in;
        /* where each product reads its left operand: A's quadrants in
         * place, the sums in the scratch */
        const float *left[7] = {a11,    a11 + t.k2,     t.sums + 3 * plane, a22,
                                t.sums, t.sums + plane, t.sums + 2 * plane};
        for (int p = 0; p < 7; p++) {
            t.product[p].input = left[p];
            t.product[p].out_h = (int64_t)t.rows;
        }
        t.product[3].out_h = bottom < (int64_t)t.rows ? (bottom < 0 ? 0 : bottom) : (int64_t)t.rows;
        parallel(s, strassen_sums, &t, t.rows);
        parallel(s, strassen_products, &t, 7 * t.groups);
        parallel(s, strassen_outputs, &t, t.rows);
    }
}

/* out [m][n] = in [m][k] times the node's packed weights, plus bias, with
 * its activation: a matmul, or a 1x1, stride 1 conv over its pixels. */
static void matrix_product(sn_session *s, const struct node *nd, const float *in, int64_t m,
                           int64_t k, int64_t n, float *out) {
    if (nd->strassen) {
        strassen_product(s, nd, in, m, k, n, out);
        return;
    }
    struct tile_task t = product_task(s, k, n);
    t.input = in;
    t.out_h = m;
    t.output = out;
    t.lone_by_tile = m > 1;
    node_weights(s, nd, &t.weights, &t.bias);
    clamp_of(nd->act, &t.base.min, &t.base.max);
    /* A panel's rows of input, about 128 KB, stay in L2 over the blocks.
     * To feed several threads, when the weights are no larger than the
     * input (n <= m), panels shrink to give each thread 4 or more rather
     * than each panel being split in groups of blocks, which read the
     * panel's input once per group (pointwise, 2 threads: 2.4% faster);
     * larger weights are split in groups, as a panel reads all the weights
     * (dense_mm: 4.6% slower with 8-row panels). */
    const size_t mr = t.cc->mr, threads = threads_of(s);
    t.panel = (size_t)(32768 / k) / mr * mr;
    if (threads > 1 && n <= m) {
        size_t even = ((size_t)m + 4 * threads - 1) / (4 * threads);
        even = (even + mr - 1) / mr * mr;
        if (even < t.panel) t.panel = even;
    }
    if (t.panel < mr) t.panel = mr;
    size_t panels = ((size_t)m + t.panel - 1) / t.panel;
    t.groups = block_groups(s, panels, (size_t)t.out_c, t.cc->nr);
    parallel(s, matmul_tiles, &t, panels * t.groups);
}

static void conv_simd(sn_session *s, const struct node *nd, const struct value *in,
                      struct value *out) {
    const sn_shape *f = &s->values[nd->inputs[1]].shape, *x = &in->shape;
    const struct sn_op_attrs *a = &nd->op->attrs;
    if (f->dims[0] == 1 && f->dims[1] == 1 && a->strides.h == 1 && a->strides.w == 1) {
        /* NHWC pixels are the rows of a matrix, and the packed 1x1 filter
         * is a matmul's: rows in panels, as a matmul (1.5% faster on
         * pointwise than rows of pixels, 1 and 2 threads) */
        matrix_product(s, nd, in->data, x->dims[0] * x->dims[1] * x->dims[2], x->dims[3],
                       out->shape.dims[3], (float *)out->data);
        return;
    }
    struct conv_task c = {.parts = s->parts, .part = s->part_floats};
    struct tile_task *t = &c.t;
    *t = (struct tile_task){.cc = &s->kernels->conv,
                            .input = in->data,
                            .in_h = x->dims[1],
                            .in_w = x->dims[2],
                            .out_h = out->shape.dims[1],
                            .out_w = out->shape.dims[2],
                            .out_c = out->shape.dims[3],
                            .stride_h = a->strides.h,
                            .stride_w = a->strides.w,
                            .channels = x->dims[3],
                            .output = (float *)out->data};
    node_weights(s, nd, &t->weights, &t->bias);
    t->block_floats = (size_t)(f->dims[0] * f->dims[1] * f->dims[2]) * t->cc->nr;
    t->base = (struct sn_conv_tile){
        .pixel_stride = (size_t)(a->strides.w * t->channels) * sizeof(float),
        .row_stride = (size_t)(a->dilations.h * t->in_w * t->channels) * sizeof(float),
        .col_stride = (size_t)(a->dilations.w * t->channels) * sizeof(float),
        .kh = (size_t)f->dims[0],
        .kw = (size_t)f->dims[1],
        .kc = (size_t)t->channels,
        .bias = s->zeros,
        .output_stride = (size_t)t->out_c * sizeof(float)};
    if (a->dilations.w == 1) {
        /* a filter row's taps read kw * channels consecutive floats, in the
         * order the packed weights hold them: one run of kw * kc */
        t->base.kc *= t->base.kw;
        t->base.kw = 1;
    }
    clamp_of(nd->act, &t->base.min, &t->base.max);
    const size_t rows = (size_t)(x->dims[0] * t->out_h), threads = threads_of(s);
    t->groups = block_groups(s, rows, (size_t)t->out_c, t->cc->nr);
    const size_t items = rows * t->groups;
    c.chunk = items / (threads * 4) ? items / (threads * 4) : 1;
    struct pad *p = &t->pad;
    if (padded(nd->op, x, f, &p->frame)) {
        const struct padded *fr = &p->frame;
        const int64_t mr = (int64_t)t->cc->mr;
        p->chunk = band_chunk(fr);
        if (c.chunk > (size_t)p->chunk * t->groups) c.chunk = (size_t)p->chunk * t->groups;
        p->base = t->base;
        p->base.row_stride = (size_t)(a->dilations.h * fr->wp * t->channels) * sizeof(float);
        int64_t ox0, ox1; /* output columns whose taps stay inside */
        inside_range(t->in_h, t->out_h, a->strides.h, fr->top, fr->span, &p->oy0, &p->oy1);
        inside_range(t->in_w, t->out_w, a->strides.w, fr->left, fr->span_w, &ox0, &ox1);
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
        p->full_end = !p->middle ? fr->hp : p->oy0 > 0 ? (p->oy0 - 1) * a->strides.h + fr->span : 0;
        p->full_begin = p->middle && p->oy1 < t->out_h ? p->oy1 * a->strides.h : fr->hp;
        p->lcols = p->lx > 0 ? (p->lx - 1) * a->strides.w + fr->span_w : 0;
        p->rcols = p->rx < t->out_w ? p->rx * a->strides.w : fr->wp;
    }
    c.items = share_of(s, items, c.chunk);
    parallel(s, conv_threads, &c, threads);
}

/* ---- Winograd F(4x4, 3x3), F(2x2, 5x5) (sn_winograd_geometry, kernels.h) */

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
    size_t matrix;             /* floats of each of the 36 packed weight matrices */
    size_t blocks;             /* of NR channels in each */
    struct tile_task products; /* strides, weights, zeros, clamp of the products */
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
static void winograd_product(const struct winograd_task *w, struct tile_task *x, size_t i,
                             size_t xi, const float *v, float *m) {
    const struct tile_task *t = &w->products;
    const size_t per = w->per_item, ic = (size_t)w->geo.channels, oc = (size_t)w->geo.out_c;
    size_t t0, t1;
    winograd_tiles(w, i, &t0, &t1);
    x->weights = t->weights + xi * w->matrix;
    tile_blocks(x, &t->base, v + xi * per * ic, m + xi * per * oc, t1 - t0, 0, w->blocks);
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

/* Work items taken in turn (runtime/share.h), each through the input
 * transform, the 36 products and the output transform, with V and M in
 * this thread's part of the scratch, which stays in cache from one step
 * and one item to the next. Call k of [begin, begin + count) owns part k:
 * there are as many calls as threads, and no two run the same k. */
static void winograd_items(void *context, size_t begin, size_t count) {
    struct winograd_task *w = context;
    struct tile_task x = w->products;
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
    struct tile_task x = w->products;
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
static void winograd_conv(sn_session *s, const struct node *nd, const struct value *in,
                          struct value *out) {
    const sn_shape *x = &in->shape, *y = &out->shape;
    const struct sn_op_attrs *a = &nd->op->attrs;
    const struct sn_conv_config *cc = &s->kernels->conv;
    struct winograd_task w = {.kernels = s->kernels,
                              .input = in->data,
                              .scratch = s->parts,
                              .part = s->part_floats,
                              .output = (float *)out->data};
    int64_t oh, ow;
    const int m = winograd_m(s, nd), r = 7 - m;
    w.geo = (sn_winograd_geometry){.batch = x->dims[0],
                                   .in_h = x->dims[1],
                                   .in_w = x->dims[2],
                                   .channels = x->dims[3],
                                   .out_h = y->dims[1],
                                   .out_w = y->dims[2],
                                   .out_c = y->dims[3],
                                   .tiles_h = (y->dims[1] + m - 1) / m,
                                   .tiles_w = (y->dims[2] + m - 1) / m,
                                   .m = m};
    sn_window(x->dims[1], r, 1, 1, a->padding, &oh, &w.geo.top);
    sn_window(x->dims[2], r, 1, 1, a->padding, &ow, &w.geo.left);
    w.tiles = (size_t)(w.geo.batch * w.geo.tiles_h * w.geo.tiles_w);
    const float *weights, *bias;
    node_weights(s, nd, &weights, &bias);
    w.bias = bias;
    clamp_of(nd->act, &w.lo, &w.hi);
    const size_t nr = cc->nr, ic = (size_t)w.geo.channels, oc = (size_t)w.geo.out_c;
    w.blocks = (oc + nr - 1) / nr;
    w.matrix = w.blocks * nr * ic;
    w.products = product_task(s, (int64_t)ic, (int64_t)oc);
    w.products.weights = weights;
    w.per_item = winograd_per_item(cc->mr, ic, oc);
    w.items = (w.tiles + w.per_item - 1) / w.per_item;
    /* the same number of items, evened out: 9 tiles as 5 and 4, not as 8
     * and a lone one for the slow row kernel */
    w.per_item = (w.tiles + w.items - 1) / w.items;
    const size_t threads = threads_of(s);
    if (threads > 1 && w.items <= threads) { /* 8x8x256 on 2 threads: 1.6x faster */
        parallel(s, winograd_inputs, &w, w.items);
        parallel(s, winograd_products, &w, 36 * w.items);
        parallel(s, winograd_outputs, &w, w.items);
        return;
    }
    w.share = share_of(s, w.items, 1);
    parallel(s, winograd_items, &w, w.items < threads ? w.items : threads);
}

/* ---- elementwise ops through the kernel set's table ---------------------- */

/* Floats per piece of work handed to a thread: large enough that a piece
 * outweighs the hand-off, small enough to split a big tensor. */
enum { ELEMENTWISE_CHUNK = 16384 };

/* An elementwise kernel call over `total` rows of `width` floats, split in
 * pieces of `unit` rows. Exactly one kernel is set; all but `row` and
 * `softmax` see their rows as one flat run (width 1). */
struct elementwise_task {
    sn_f32_vunary_fn unary;
    sn_f32_vbinary_fn same;
    sn_f32_vbinaryc_fn scalar;
    sn_f32_vbinaryrow_fn row;
    sn_f32_softmax_fn softmax;
    const float *a, *b; /* b: the second operand (row: the vector) */
    float c;            /* scalar: the scalar operand */
    float *y;
    size_t total, width, unit;
};

static void elementwise_pieces(void *context, size_t begin, size_t count) {
    const struct elementwise_task *t = context;
    size_t first = begin * t->unit, end = (begin + count) * t->unit;
    size_t n = (end < t->total ? end : t->total) - first, at = first * t->width;
    if (t->unary) t->unary(n, t->a + at, t->y + at);
    if (t->same) t->same(n, t->a + at, t->b + at, t->y + at);
    if (t->scalar) t->scalar(n, t->a + at, t->c, t->y + at);
    if (t->row) t->row(n, t->width, t->a + at, t->b, t->y + at);
    if (t->softmax) t->softmax(n, t->width, t->a + at, t->y + at);
}

/* Runs the task on the session's threads when it is big enough to split. */
static void elementwise(sn_session *s, struct elementwise_task *t) {
    if (t->total == 0 || t->width == 0) return;
    t->unit = ELEMENTWISE_CHUNK / t->width ? ELEMENTWISE_CHUNK / t->width : 1;
    size_t pieces = (t->total + t->unit - 1) / t->unit;
    if (pieces == 1)
        elementwise_pieces(t, 0, 1);
    else
        parallel(s, elementwise_pieces, t, pieces);
}

/* How an operand of a binary op meets the output: all of it (as many
 * elements, so the same layout), one scalar, or a vector repeated over rows
 * (its dimensions are the output's last ones, with only 1s before them):
 * *inner is the vector's length. */
enum operand_kind { OPERAND_FULL, OPERAND_SCALAR, OPERAND_ROW, OPERAND_OTHER };

static enum operand_kind operand_kind(const sn_shape *in, const sn_shape *out, size_t count,
                                      size_t *inner) {
    size_t n = (size_t)sn_shape_elements(in), len = 1;
    if (n == count) return OPERAND_FULL;
    if (n == 1) return OPERAND_SCALAR;
    for (int d = out->rank - 1, k = in->rank - 1; d >= 0 && k >= 0; d--, k--) {
        if (in->dims[k] != out->dims[d]) break;
        len *= (size_t)in->dims[k];
    }
    *inner = len;
    return len == n ? OPERAND_ROW : OPERAND_OTHER;
}

/* Strides of an operand broadcast to `out` (0 where it is broadcast). */
static void broadcast_strides(const sn_shape *in, const sn_shape *out, int64_t *strides) {
    int64_t stride = 1;
    for (int d = out->rank - 1; d >= 0; d--) {
        int k = in->rank - out->rank + d;
        int64_t dim = k >= 0 ? in->dims[k] : 1;
        strides[d] = dim == 1 ? 0 : stride;
        stride *= dim;
    }
}

/* Add or Maximum: the kernel set's kernels for the same shape, a scalar
 * operand or a trailing vector (either side); the reference for any other
 * broadcast. */
static void binary(sn_session *s, sn_binary_op op, const struct node *nd) {
    const struct value *in0 = &s->values[nd->inputs[0]], *in1 = &s->values[nd->inputs[1]];
    struct value *out = &s->values[nd->out];
    size_t count = (size_t)sn_shape_elements(&out->shape), inner_a = 0, inner_b = 0;
    if (count == 0) return;
    const struct sn_vbinary_kernels *k = &s->kernels->f32_binary[op];
    struct elementwise_task e = {
        .a = in0->data, .b = in1->data, .y = (float *)out->data, .total = count, .width = 1};
    enum operand_kind ka = operand_kind(&in0->shape, &out->shape, count, &inner_a);
    enum operand_kind kb = operand_kind(&in1->shape, &out->shape, count, &inner_b);
    if (ka == OPERAND_FULL && kb == OPERAND_FULL) {
        e.same = k->same;
    } else if (ka == OPERAND_FULL && kb == OPERAND_SCALAR) {
        e.scalar = k->scalar, e.c = in1->data[0];
    } else if (ka == OPERAND_SCALAR && kb == OPERAND_FULL) {
        e.scalar = k->scalar, e.a = in1->data, e.c = in0->data[0]; /* see kernels.h on max */
    } else if (ka == OPERAND_FULL && kb == OPERAND_ROW) {
        e.row = k->row, e.width = inner_b, e.total = count / inner_b;
    } else if (ka == OPERAND_ROW && kb == OPERAND_FULL) {
        e.row = k->row, e.a = in1->data, e.b = in0->data, e.width = inner_a;
        e.total = count / inner_a;
    } else {
        int64_t as[SN_MAX_RANK], bs[SN_MAX_RANK];
        broadcast_strides(&in0->shape, &out->shape, as);
        broadcast_strides(&in1->shape, &out->shape, bs);
        sn_f32_binary_ref(op, out->shape.rank, out->shape.dims, in0->data, as, in1->data, bs, e.y);
        return;
    }
    elementwise(s, &e);
}

static void execute(sn_session *s, const struct node *nd) {
    const struct sn_op *op = nd->op;
    struct value *out = &s->values[nd->out];
    float *y = (float *)out->data;
    const struct value *in0 = &s->values[nd->inputs[0]];
    const float *x = in0->data;
    size_t count = (size_t)sn_shape_elements(&out->shape);
    if (count == 0) return; /* a batch of 0: nothing to compute (the paths below divide by it) */
    struct rows_task t = {.node = nd, .kernels = s->kernels, .input = x, .output = y};
    struct elementwise_task e = {.a = x, .y = y, .total = count, .width = 1};
    switch (op->type) {
    case SN_OP_CONV2D: {
        if (nd->winograd) {
            winograd_conv(s, nd, in0, out);
            break;
        }
        if (nd->simd) {
            conv_simd(s, nd, in0, out);
            break;
        }
        const sn_shape *f = &s->values[nd->inputs[1]].shape;
        t.geo = geometry(op, &in0->shape, &out->shape, f->dims[0], f->dims[1]);
        t.weights = pack_or_value(s, nd->weights, nd->inputs[1]);
        t.bias = nd->bias >= 0 ? pack_or_value(s, nd->bias_pack, nd->bias) : NULL;
        parallel(s, rows, &t, (size_t)(t.geo.batch * t.geo.out_h));
        break;
    }
    case SN_OP_MATMUL: {
        if (nd->simd) {
            matrix_product(s, nd, in0->data, out->shape.dims[0], in0->shape.dims[1],
                           out->shape.dims[1], (float *)out->data);
            break;
        }
        const sn_shape *a = &in0->shape;
        t.m = out->shape.dims[0];
        t.n = out->shape.dims[1];
        t.k = a->dims[op->attrs.transpose_a ? 0 : 1];
        t.weights = pack_or_value(s, nd->weights, nd->inputs[1]);
        t.bias = nd->bias >= 0 ? pack_or_value(s, nd->bias_pack, nd->bias) : NULL;
        parallel(s, rows, &t, (size_t)t.m);
        break;
    }
    case SN_OP_MAX_POOL:
    case SN_OP_AVG_POOL:
        t.geo = geometry(op, &in0->shape, &out->shape, op->attrs.ksize.h, op->attrs.ksize.w);
        parallel(s, rows, &t, (size_t)(t.geo.batch * t.geo.out_h));
        break;
    case SN_OP_ADD:
    case SN_OP_MAXIMUM: binary(s, op->type == SN_OP_ADD ? SN_BINARY_ADD : SN_BINARY_MAX, nd); break;
    case SN_OP_BIAS_ADD:
        e.row = s->kernels->f32_binary[SN_BINARY_ADD].row;
        e.b = s->values[nd->inputs[1]].data;
        e.width = (size_t)out->shape.dims[out->shape.rank - 1];
        e.total = e.width ? count / e.width : 0;
        elementwise(s, &e);
        break;
    case SN_OP_ADD_N:
        for (int i = 0; i < op->input_count; i++) s->scratch[i] = s->values[nd->inputs[i]].data;
        sn_f32_add_n_ref(count, (size_t)op->input_count, s->scratch, y);
        break;
    case SN_OP_RELU:
    case SN_OP_RELU6:
    case SN_OP_SIGMOID:
    case SN_OP_TANH:
        e.unary = op->type == SN_OP_RELU      ? s->kernels->f32_relu
                  : op->type == SN_OP_RELU6   ? s->kernels->f32_relu6
                  : op->type == SN_OP_SIGMOID ? s->kernels->f32_sigmoid
                                              : s->kernels->f32_tanh;
        elementwise(s, &e);
        break;
    case SN_OP_SOFTMAX:
        e.softmax = s->kernels->f32_softmax;
        e.width = (size_t)out->shape.dims[out->shape.rank - 1];
        e.total = e.width ? count / e.width : 0;
        elementwise(s, &e);
        break;
    case SN_OP_LRN:
        sn_f32_lrn_ref(count / (size_t)(out->shape.dims[3] ? out->shape.dims[3] : 1),
                       (size_t)out->shape.dims[3], op->attrs.depth_radius, op->attrs.bias,
                       op->attrs.alpha, op->attrs.beta, x, y);
        break;
    case SN_OP_RESHAPE: memcpy(y, x, count * sizeof(float)); break;
    case SN_OP_PLACEHOLDER:
    case SN_OP_VARIABLE:
    case SN_OP_CONST:
    case SN_OP_TYPE_COUNT: break;
    }
}

/* Checks the feeds and points each placeholder's value at its data. */
static sn_status bind_feeds(sn_session *s, const sn_feed *feeds, size_t feed_count) {
    for (size_t i = 0; i < s->value_count; i++) {
        struct value *v = &s->values[i];
        v->data = NULL;
        if (v->kind == VALUE_VARIABLE) {
            v->data = v->tensor->op->variable->value;
            v->shape = v->tensor->shape;
        } else if (v->kind == VALUE_CONST) {
            v->data = &v->tensor->op->attrs.value;
            v->shape = SN_SCALAR;
        }
    }
    if (feed_count && !feeds) return run_fail(s, SN_ERR_INVALID_ARGUMENT, "feeds is NULL");
    for (size_t i = 0; i < feed_count; i++) {
        const sn_feed *f = &feeds[i];
        struct value *v = NULL;
        for (size_t k = 0; f->placeholder && k < s->value_count; k++)
            if (s->values[k].tensor == f->placeholder) v = &s->values[k];
        if (!v || v->kind != VALUE_FEED)
            return run_fail(s, SN_ERR_INVALID_ARGUMENT,
                            "feed %zu (%s) is not a placeholder this session reads", i,
                            f->placeholder ? f->placeholder->name : "NULL");
        if (v->data)
            return run_fail(s, SN_ERR_INVALID_ARGUMENT, "placeholder %s is fed twice",
                            v->tensor->name);
        if (!f->data)
            return run_fail(s, SN_ERR_INVALID_ARGUMENT, "the feed for %s has no data (NULL)",
                            v->tensor->name);
        const sn_shape *want = &v->tensor->shape;
        bool ok = f->shape.rank == want->rank;
        for (int d = 0; ok && d < want->rank; d++)
            ok = want->dims[d] < 0 ? f->shape.dims[d] >= 0 && f->shape.dims[d] <= s->max_batch
                                   : f->shape.dims[d] == want->dims[d];
        if (!ok) {
            char got[160], expected[160];
            sn_shape_format(&f->shape, got, sizeof got);
            sn_shape_format(want, expected, sizeof expected);
            return run_fail(
                s, SN_ERR_SHAPE_MISMATCH,
                "the feed for %s has shape %s; the placeholder is %s (batch at most %lld, "
                "the session's max_batch)",
                v->tensor->name, got, expected, (long long)s->max_batch);
        }
        v->data = f->data;
        v->shape = f->shape;
    }
    for (size_t i = 0; i < s->value_count; i++)
        if (s->values[i].kind == VALUE_FEED && !s->values[i].data)
            return run_fail(s, SN_ERR_INVALID_ARGUMENT, "placeholder %s is not fed",
                            s->values[i].tensor->name);
    return SN_OK;
}

sn_status sn_session_run(sn_session *s, const sn_feed *feeds, size_t feed_count,
                         sn_output *outputs) {
    if (!s) return SN_ERR_INVALID_ARGUMENT;
    s->error[0] = '\0';
    if (!outputs) return run_fail(s, SN_ERR_INVALID_ARGUMENT, "outputs is NULL");
    sn_status st = bind_feeds(s, feeds, feed_count);
    if (st != SN_OK) return st;
    for (size_t i = 0; i < s->pack_count; i++)
        if (sn_pack_refresh(s->graph->packs, s->packs[i])) { /* S24 */
            s->packs_made++;
            s->pack_ms += s->packs[i]->pack_ms;
        }
    for (size_t i = 0; i < s->node_count; i++) {
        const struct node *nd = &s->nodes[i];
        struct value *out = &s->values[nd->out];
        sn_shape in[4];
        int k = nd->op->input_count < 4 ? nd->op->input_count : 4;
        for (int j = 0; j < k; j++) in[j] = s->values[nd->inputs[j]].shape;
        char why[200];
        /* AddN's inputs all have its shape: the first four decide it */
        if (!sn_infer_shape(nd->op->type, &nd->op->attrs, in, k, &out->shape, why, sizeof why))
            return run_fail(s, SN_ERR_SHAPE_MISMATCH, "op %s: %s", nd->op->name, why);
        int64_t bytes = bytes_of(&out->shape);
        if (bytes < 0 || (size_t)bytes > out->bytes)
            return run_fail(s, SN_ERR_SHAPE_MISMATCH,
                            "op %s: its output outgrows the plan (a batch above max_batch?)",
                            nd->op->name);
        /* no arena when every tensor in it is empty: NULL + 0 is undefined */
        out->data = s->arena ? s->arena + out->offset / sizeof(float) : NULL;
        execute(s, nd);
    }
    for (size_t i = 0; i < s->fetch_count; i++)
        outputs[i] = (sn_output){s->values[s->fetches[i]].data, s->values[s->fetches[i]].shape};
    return SN_OK;
}
