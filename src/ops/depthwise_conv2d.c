/* DepthwiseConv2dNative: tf.nn.depthwise_conv2d, NHWC input, filter
 * [kh, kw, in_channels, multiplier]; output channel c * multiplier + m.
 * Strides, dilations, SAME, VALID or explicit padding. A bias and a relu
 * or relu6 after it fold into its node (compile/fuse.c), as a conv2d's.
 * It runs the kernel set's depthwise kernel (the reference on the scalar
 * set) over output rows split among the threads; the filter is read in
 * its own layout, [kh][kw][in_channels * multiplier], which is the
 * kernels' too: contiguous channels per tap. */
#include <stdio.h>

#include "base/shape.h"
#include "ops/product.h"
#include "ops/window.h"

#define WHY(...) (snprintf(why, why_size, __VA_ARGS__), false)

static sn_tensor *build(sn_graph *g, sn_tensor *input, sn_tensor *filter, struct sn_op_attrs at,
                        const char *name) {
    sn_tensor *in[2] = {input, filter};
    return sn_build_op(g, SN_OP_DEPTHWISE_CONV2D, in, 2, &at, name);
}

sn_tensor *sn_depthwise_conv2d(sn_graph *g, sn_tensor *input, sn_tensor *filter, sn_hw strides,
                               sn_padding padding, sn_hw dilations, const char *name) {
    struct sn_op_attrs at = {.strides = strides, .dilations = dilations, .padding = padding};
    return build(g, input, filter, at, name);
}

sn_tensor *sn_depthwise_conv2d_explicit(sn_graph *g, sn_tensor *input, sn_tensor *filter,
                                        sn_hw strides, sn_pads pads, sn_hw dilations,
                                        const char *name) {
    struct sn_op_attrs at = {
        .strides = strides, .dilations = dilations, .padding = SN_PADDING_EXPLICIT, .pads = pads};
    return build(g, input, filter, at, name);
}

static bool infer(const struct sn_op_attrs *at, const sn_shape *in, int count, sn_shape *out,
                  char *why, size_t why_size) {
    (void)count;
    if (in[0].rank != 4) return WHY("the input must have rank 4 (NHWC), not %d", in[0].rank);
    if (in[1].rank != 4)
        return WHY("the filter must have rank 4 ([kh, kw, in_channels, multiplier]), not %d",
                   in[1].rank);
    if (!sn_window_check_attrs(at, false, why, why_size)) return false;
    const int64_t *f = in[1].dims;
    if (f[0] < 1 || f[1] < 1 || f[2] < 0 || f[3] < 0)
        return WHY("the filter's shape must be known and its window non-empty");
    if (f[0] > (1 << 20) || f[1] > (1 << 20)) return WHY("the filter window is too large");
    if (f[2] > 0 && f[3] > INT64_MAX / f[2]) return WHY("the filter has too many channels");
    if (in[0].dims[3] >= 0 && in[0].dims[3] != f[2])
        return WHY("input channels %lld do not match the filter's input channels %lld",
                   (long long)in[0].dims[3], (long long)f[2]);
    return sn_window_infer(at, &in[0], (int)f[0], (int)f[1], f[2] * f[3], out, why, why_size);
}

static bool plan(const struct sn_plan *p, struct sn_node *n, char *why, size_t why_size) {
    if (!(n->gemm = sn_gemm_config(p->values[n->out].dtype, p->isa)))
        return WHY("no kernels in its dtype");
    n->algorithm = n->kernels->isa == SN_ISA_SCALAR ? SN_ALGO_REFERENCE : SN_ALGO_KERNEL;
    sn_plan_product_packs(p, n, &sn_packer_reference, &sn_packer_reference, 0);
    return true;
}

struct rows_task {
    sn_f32_dwconv_fn kernel;
    sn_conv2d_geometry geo;
    const float *input, *filter, *bias;
    sn_activation act;
    sn_f32_vunary_fn post; /* or NULL */
    float *output;
};

/* Output rows [begin, begin + count), then the post on them (a dense
 * output: the op's plan asks for no pixel stride) while they are in
 * cache. */
static void rows(void *context, size_t begin, size_t count) {
    const struct rows_task *t = context;
    t->kernel(&t->geo, t->input, t->filter, t->bias, t->act, t->output, (int64_t)begin,
              (int64_t)(begin + count));
    if (t->post) {
        const size_t row = (size_t)(t->geo.out_w * t->geo.out_c);
        float *y = t->output + begin * row;
        t->post(count * row, y, y);
    }
}

static void run(const struct sn_exec *x, const struct sn_node *n) {
    const struct sn_value *in = &x->values[n->inputs[0]], *out = &x->values[n->out];
    const sn_shape *f = &x->values[n->inputs[1]].shape;
    struct rows_task t = {.kernel = x->kernels->f32_dwconv,
                          .input = in->data,
                          .filter = x->packed[0],
                          .bias = x->packed[1],
                          .act = n->act,
                          .post = sn_node_post(x, n),
                          .output = (float *)out->data};
    sn_window_geometry(&n->op->attrs, &in->shape, &out->shape, f->dims[0], f->dims[1], &t.geo);
    sn_parallel(x->threads, rows, &t, (size_t)(t.geo.batch * t.geo.out_h));
}

/* 2 x N*OH*OW*C*M*KH*KW. */
static int64_t flops(const struct sn_op_attrs *a, const sn_shape *in, int count,
                     const sn_shape *out) {
    (void)a, (void)count;
    return 2 * sn_shape_elements(out) * in[1].dims[0] * in[1].dims[1];
}

const struct sn_op_class sn_depthwise_conv2d_class = {
    .infer = infer,
    .plan = plan,
    .run = run,
    .flops = flops,
    .fuse = SN_FUSE_HEAD,
};
