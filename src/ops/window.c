#include "ops/window.h"

#include <stdio.h>

#include "base/checked.h"
#include "base/shape.h"

#define WHY(...) (snprintf(why, why_size, __VA_ARGS__), false)

bool sn_window(int64_t in, int k, int stride, int dilation, sn_padding padding, int64_t *out,
               int64_t *pad_before) {
    int64_t effective, total;
    if (k < 1 || stride < 1 || dilation < 1 || !sn_mul_i64(k - 1, dilation, &effective) ||
        !sn_add_i64(effective, 1, &effective))
        return false;
    if (in < 0) { /* unknown until run time */
        *out = -1;
        *pad_before = 0;
        return true;
    }
    if (padding == SN_PADDING_SAME) {
        *out = in / stride + (in % stride != 0);
        if (!sn_mul_i64(*out - 1, stride, &total) || !sn_add_i64(total, effective, &total) ||
            !sn_sub_i64(total, in, &total))
            return false;
        *pad_before = total > 0 ? total / 2 : 0;
        return true;
    }
    if (in < effective) return false;
    *out = (in - effective) / stride + 1;
    *pad_before = 0;
    return true;
}

/* sn_window for the padding of `at` along one axis: its explicit padding
 * (before, after) if it has some. */
static bool window_of(const struct sn_op_attrs *at, int64_t in, int k, int stride, int dilation,
                      int before, int after, int64_t *out, int64_t *pad_before) {
    if (at->padding != SN_PADDING_EXPLICIT)
        return sn_window(in, k, stride, dilation, at->padding, out, pad_before);
    int64_t effective, total;
    if (k < 1 || stride < 1 || dilation < 1 || !sn_mul_i64(k - 1, dilation, &effective) ||
        !sn_add_i64(effective, 1, &effective))
        return false;
    *pad_before = before;
    if (in < 0) { /* unknown until run time */
        *out = -1;
        return true;
    }
    if (!sn_add_i64(in, (int64_t)before + after, &total) || total < effective) return false;
    *out = (total - effective) / stride + 1;
    return true;
}

/* One spatial axis of a window op: its output size, or false with why.
 * With VALID or explicit padding the window does not fit; with SAME (an
 * int64 overflow), the padding it needs is past any size that could run. */
static bool axis(const struct sn_op_attrs *at, int64_t in, int k, int stride, int dilation,
                 int before, int after, const char *dim, const char *larger, int64_t *out,
                 char *why, size_t why_size) {
    int64_t pad;
    if (window_of(at, in, k, stride, dilation, before, after, out, &pad)) return true;
    if (at->padding == SN_PADDING_EXPLICIT)
        return WHY("the window (%s %d, dilation %d) is %s than the padded input (%lld + %d + %d)",
                   dim, k, dilation, larger, (long long)in, before, after);
    if (at->padding == SN_PADDING_VALID)
        return WHY("the window (%s %d, dilation %d) is %s than the input (%lld) with VALID "
                   "padding",
                   dim, k, dilation, larger, (long long)in);
    return WHY("the window (%s %d, dilation %d) needs padding too large for the input's %s (%lld)",
               dim, k, dilation, dim, (long long)in);
}

bool sn_window_infer(const struct sn_op_attrs *at, const sn_shape *in, int kh, int kw,
                     int64_t channels, sn_shape *out, char *why, size_t why_size) {
    int64_t oh, ow;
    if (!axis(at, in->dims[1], kh, at->strides.h, at->dilations.h, at->pads.top, at->pads.bottom,
              "height", "taller", &oh, why, why_size) ||
        !axis(at, in->dims[2], kw, at->strides.w, at->dilations.w, at->pads.left, at->pads.right,
              "width", "wider", &ow, why, why_size))
        return false;
    *out = (sn_shape){4, {in->dims[0], oh, ow, channels}};
    return true;
}

bool sn_window_check_attrs(const struct sn_op_attrs *at, bool pool, char *why, size_t why_size) {
    if (at->strides.h < 1 || at->strides.w < 1)
        return WHY("strides (%d, %d) must be >= 1", at->strides.h, at->strides.w);
    if (at->dilations.h < 1 || at->dilations.w < 1)
        return WHY("dilations (%d, %d) must be >= 1", at->dilations.h, at->dilations.w);
    if (pool && (at->ksize.h < 1 || at->ksize.w < 1))
        return WHY("ksize (%d, %d) must be >= 1", at->ksize.h, at->ksize.w);
    if (at->padding != SN_PADDING_SAME && at->padding != SN_PADDING_VALID &&
        at->padding != SN_PADDING_EXPLICIT)
        return WHY("padding %d is neither SAME nor VALID", (int)at->padding);
    const sn_pads *p = &at->pads;
    if (at->padding == SN_PADDING_EXPLICIT &&
        (p->top < 0 || p->bottom < 0 || p->left < 0 || p->right < 0 || p->top > (1 << 20) ||
         p->bottom > (1 << 20) || p->left > (1 << 20) || p->right > (1 << 20)))
        return WHY("explicit padding (%d, %d, %d, %d) must be in [0, 2^20]", p->top, p->bottom,
                   p->left, p->right);
    return true;
}

bool sn_window_geometry(const struct sn_op_attrs *a, const sn_shape *in, const sn_shape *out,
                        int64_t kh, int64_t kw, sn_conv2d_geometry *g) {
    int64_t oh, ow, top, left;
    if (!window_of(a, in->dims[1], (int)kh, a->strides.h, a->dilations.h, a->pads.top,
                   a->pads.bottom, &oh, &top) ||
        !window_of(a, in->dims[2], (int)kw, a->strides.w, a->dilations.w, a->pads.left,
                   a->pads.right, &ow, &left))
        return false;
    *g = (sn_conv2d_geometry){.batch = in->dims[0],
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
    return true;
}

sn_tensor *sn_pooling_build(sn_graph *g, sn_op_type type, sn_tensor *x, struct sn_op_attrs at,
                            const char *name) {
    at.dilations = SN_HW(1, 1);
    return sn_build_op(g, type, &x, 1, &at, name);
}

bool sn_pooling_infer(const struct sn_op_attrs *at, const sn_shape *in, int count, sn_shape *out,
                      char *why, size_t why_size) {
    (void)count;
    if (in[0].rank != 4) return WHY("the input must have rank 4 (NHWC), not %d", in[0].rank);
    if (!sn_window_check_attrs(at, true, why, why_size)) return false;
    return sn_window_infer(at, &in[0], at->ksize.h, at->ksize.w, in[0].dims[3], out, why, why_size);
}

static void pooling_rows(void *context, size_t begin, size_t count) {
    const struct sn_pooling_task *t = context;
    t->kernel(&t->geo, t->input, t->output, (int64_t)begin, (int64_t)(begin + count));
}

static void run_rows(const struct sn_exec *x, const struct sn_node *n, sn_f32_pool_fn kernel,
                     sn_pool_fn rows) {
    const struct sn_value *in = &x->values[n->inputs[0]], *out = &x->values[n->out];
    const struct sn_op_attrs *a = &n->op->attrs;
    struct sn_pooling_task t = {.kernel = kernel, .input = in->data, .output = (float *)out->data};
    sn_window_geometry(a, &in->shape, &out->shape, a->ksize.h, a->ksize.w, &t.geo);
    if (a->padding == SN_PADDING_EXPLICIT)
        t.pad_bottom = a->pads.bottom, t.pad_right = a->pads.right;
    sn_parallel(x->threads, rows, &t, (size_t)(t.geo.batch * t.geo.out_h));
}

void sn_pooling_run_with(const struct sn_exec *x, const struct sn_node *n, sn_pool_fn rows) {
    run_rows(x, n, NULL, rows);
}

void sn_pooling_run(const struct sn_exec *x, const struct sn_node *n, sn_f32_pool_fn kernel) {
    run_rows(x, n, kernel, pooling_rows);
}

int64_t sn_pooling_flops(const struct sn_op_attrs *at, const sn_shape *in, int count,
                         const sn_shape *out) {
    (void)in, (void)count;
    return sn_shape_elements(out) * at->ksize.h * at->ksize.w;
}
