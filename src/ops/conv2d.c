/* Conv2D: tf.nn.conv2d, NHWC input, HWIO filter, strides, dilations, SAME
 * or VALID. A bias and a relu or relu6 after it fold into its node
 * (compile/fuse.c). Its plan picks one of four algorithms:
 *   - the reference kernel, on the scalar kernel set, for an empty product
 *     (no input channels) and for a padded band too large (a huge
 *     dilation: algo/direct-conv.h);
 *   - Winograd for 3x3 and 5x5 filters of stride 1 (algo/winograd.h);
 *   - a matrix product for 1x1 filters of stride 1: the NHWC pixels are
 *     the rows of a matrix (GEMM, or Strassen when large: algo/strassen.h);
 *   - else the direct conv (algo/direct-conv.h). */
#include <stdio.h>

#include "algo/direct-conv.h"
#include "algo/strassen.h"
#include "algo/winograd.h"
#include "base/shape.h"
#include "ops/product.h"
#include "ops/window.h"

#define WHY(...) (snprintf(why, why_size, __VA_ARGS__), false)

sn_tensor *sn_conv2d_dilated(sn_graph *g, sn_tensor *input, sn_tensor *filter, sn_hw strides,
                             sn_padding padding, sn_hw dilations, const char *name) {
    sn_tensor *in[2] = {input, filter};
    struct sn_op_attrs at = {.strides = strides, .dilations = dilations, .padding = padding};
    return sn_build_op(g, SN_OP_CONV2D, in, 2, &at, name);
}

sn_tensor *sn_conv2d_explicit(sn_graph *g, sn_tensor *input, sn_tensor *filter, sn_hw strides,
                              sn_pads pads, sn_hw dilations, const char *name) {
    sn_tensor *in[2] = {input, filter};
    struct sn_op_attrs at = {
        .strides = strides, .dilations = dilations, .padding = SN_PADDING_EXPLICIT, .pads = pads};
    return sn_build_op(g, SN_OP_CONV2D, in, 2, &at, name);
}

sn_tensor *sn_conv2d(sn_graph *g, sn_tensor *input, sn_tensor *filter, sn_hw strides,
                     sn_padding padding, const char *name) {
    return sn_conv2d_dilated(g, input, filter, strides, padding, SN_HW(1, 1), name);
}

static bool infer(const struct sn_op_attrs *at, const sn_shape *in, int count, sn_shape *out,
                  char *why, size_t why_size) {
    (void)count;
    if (in[0].rank != 4) return WHY("the input must have rank 4 (NHWC), not %d", in[0].rank);
    if (in[1].rank != 4) return WHY("the filter must have rank 4 (HWIO), not %d", in[1].rank);
    if (!sn_window_check_attrs(at, false, why, why_size)) return false;
    const int64_t *f = in[1].dims;
    if (f[0] < 0 || f[1] < 0 || f[2] < 0 || f[3] < 0 || f[0] < 1 || f[1] < 1)
        return WHY("the filter's shape must be known and its window non-empty");
    if (f[0] > (1 << 20) || f[1] > (1 << 20)) return WHY("the filter window is too large");
    if (in[0].dims[3] >= 0 && in[0].dims[3] != f[2])
        return WHY("input channels %lld do not match the filter's input channels %lld",
                   (long long)in[0].dims[3], (long long)f[2]);
    return sn_window_infer(at, &in[0], (int)f[0], (int)f[1], f[3], out, why, why_size);
}

/* Whether the node runs as Winograd, F(4x4, 3x3) or F(2x2, 5x5): a 3x3 or
 * 5x5 filter, stride and dilation 1, a kernel set with the transforms, the
 * session's direct_conv option off, and what sn_winograd_worth says. */
static bool use_winograd(const struct sn_plan *p, const struct sn_node *n, const sn_shape *f,
                         const sn_shape *y) {
    const struct sn_op_attrs *a = &n->op->attrs;
    if (p->direct_conv || !n->kernels->f32_winograd_input) return false;
    if ((f->dims[0] != 3 && f->dims[0] != 5) || f->dims[1] != f->dims[0] || a->strides.h != 1 ||
        a->strides.w != 1 || a->dilations.h != 1 || a->dilations.w != 1)
        return false;
    return sn_winograd_worth(n->gemm, f->dims[0], f->dims[2], f->dims[3],
                             p->values[n->out].tensor->shape.dims[0], y->dims[1], y->dims[2]);
}

static bool pointwise(const struct sn_op_attrs *a, const sn_shape *f) {
    return f->dims[0] == 1 && f->dims[1] == 1 && a->strides.h == 1 && a->strides.w == 1;
}

static bool plan(const struct sn_plan *p, struct sn_node *n, char *why, size_t why_size) {
    const struct sn_conv_config *cc = n->gemm = sn_gemm_config(p->values[n->out].dtype, p->isa);
    if (!cc) return snprintf(why, why_size, "no products in its dtype"), false;
    const sn_shape *x = &p->values[n->inputs[0]].planned, *f = &p->values[n->inputs[1]].planned,
                   *y = &p->values[n->out].planned;
    const struct sn_op_attrs *a = &n->op->attrs;
    sn_conv2d_geometry g;
    /* a VALID window wider than the planned input (a width from a -1
     * batch, planned at max_batch) has no frame; a run of that width is
     * refused */
    const bool framed = sn_window_geometry(a, x, y, f->dims[0], f->dims[1], &g);
    const size_t threads = p->threads->count;
    if (!cc->tile || x->dims[3] <= 0 || (framed && !sn_direct_conv_fits(&g))) {
        n->algorithm = SN_ALGO_REFERENCE;
        sn_plan_product_packs(p, n, &sn_packer_reference, &sn_packer_reference, 0);
    } else if (use_winograd(p, n, f, y)) {
        n->algorithm = SN_ALGO_WINOGRAD;
        sn_plan_product_packs(p, n, cc->packer_winograd, &sn_packer_reference, 0);
        n->workspace_bytes =
            sn_winograd_workspace(cc, f->dims[2], f->dims[3], threads, &n->workspace_part);
        n->workspace_align = 4096;
    } else if (pointwise(a, f) && !p->direct_matmul &&
               sn_strassen_worth(sn_product_min_rows(&p->values[n->out].tensor->shape), f->dims[2],
                                 y->dims[3])) {
        n->algorithm = SN_ALGO_STRASSEN;
        sn_plan_product_packs(p, n, cc->packer_strassen, &sn_packer_reference, 0);
        n->workspace_bytes = sn_strassen_workspace(cc, f->dims[2], f->dims[3]);
    } else {
        n->algorithm = pointwise(a, f) ? SN_ALGO_GEMM : SN_ALGO_DIRECT;
        n->strided_output = true; /* the tile kernels store with any pixel stride */
        /* and the product loads so: a split's piece of the channels */
        if (n->algorithm == SN_ALGO_GEMM) n->strided_inputs = 1;
        sn_plan_product_packs(p, n, cc->packer, cc->packer, 0);
        if (n->algorithm == SN_ALGO_DIRECT && framed) {
            n->workspace_bytes = sn_direct_conv_workspace(&g, threads, &n->workspace_part);
            n->workspace_align = 4096;
        }
    }
    return true;
}

/* Output rows of the reference kernel. */
static void reference_rows(void *context, size_t begin, size_t count) {
    const struct sn_conv_job *j = context;
    sn_f32_conv2d_ref(&j->geo, j->input, j->weights, j->bias, j->act, j->output, (int64_t)begin,
                      (int64_t)(begin + count));
}

static void run(const struct sn_exec *x, const struct sn_node *n) {
    const struct sn_value *in = &x->values[n->inputs[0]], *out = &x->values[n->out];
    const sn_shape *f = &x->values[n->inputs[1]].shape;
    float *y = (float *)out->data;
    const float *bias = x->packed[1];
    sn_conv2d_geometry g;
    sn_window_geometry(&n->op->attrs, &in->shape, &out->shape, f->dims[0], f->dims[1], &g);
    struct sn_conv_job job = {.kernels = x->kernels,
                              .cc = n->gemm,
                              .threads = x->threads,
                              .zeros = x->zeros,
                              .geo = g,
                              .input = in->data,
                              .weights = x->packed[0],
                              .bias = bias,
                              .act = n->act,
                              .post = sn_node_post(x, n),
                              .output = y,
                              .out_stride = out->pixel_stride,
                              .workspace = x->workspace,
                              .part = n->workspace_part};
    switch (n->algorithm) {
    case SN_ALGO_WINOGRAD:
        sn_winograd_run(&job);
        sn_post_run(x, n);
        break;
    case SN_ALGO_GEMM:
    case SN_ALGO_STRASSEN:
        /* NHWC pixels are the rows of a matrix, and the packed 1x1 filter
         * is a matmul's: rows in panels, as a matmul (1.5% faster on
         * pointwise than rows of pixels, 1 and 2 threads) */
        sn_product_run(x, n, in->data, g.batch * g.in_h * g.in_w, g.in_c, g.out_c, y);
        break;
    case SN_ALGO_DIRECT: sn_direct_conv_run(&job); break;
    default:
        sn_parallel(x->threads, reference_rows, &job, (size_t)(g.batch * g.out_h));
        sn_post_run(x, n);
    }
}

/* 2 x N*OH*OW*OC*KH*KW*IC, whatever the algorithm runs. */
static int64_t flops(const struct sn_op_attrs *a, const sn_shape *in, int count,
                     const sn_shape *out) {
    (void)a, (void)count;
    const int64_t *f = in[1].dims;
    return 2 * sn_shape_elements(out) * f[0] * f[1] * f[2];
}

const struct sn_op_class sn_conv2d_class = {
    .infer = infer,
    .plan = plan,
    .run = run,
    .flops = flops,
    .fuse = SN_FUSE_HEAD,
};
