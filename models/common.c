/* The model zoo's blocks: see common.h. */
#include "common.h"

#include <stdio.h>

int64_t snm_channels(sn_tensor *x) {
    if (!x) return 0;
    sn_shape s = sn_tensor_shape(x);
    return s.rank > 0 ? s.dims[s.rank - 1] : 0;
}

const char *snm_index(char buf[16], int index) {
    snprintf(buf, 16, "%d", index);
    return buf;
}

sn_tensor *snm_conv(sn_graph *g, sn_tensor *x, int k, int64_t out, int stride, int pad, bool bias) {
    sn_variable *w =
        sn_get_variable(g, "weights", SN_SHAPE(k, k, snm_channels(x), out), SN_NO_INITIALIZER);
    sn_tensor *y = sn_conv2d_explicit(g, x, sn_var(g, w), SN_STRIDES(stride, stride),
                                      SN_PADS(pad, pad, pad, pad), SN_HW(1, 1), NULL);
    if (bias) {
        sn_variable *b = sn_get_variable(g, "biases", SN_SHAPE(out), SN_NO_INITIALIZER);
        y = sn_bias_add(g, y, sn_var(g, b), NULL);
    }
    return y;
}

sn_tensor *snm_depthwise(sn_graph *g, sn_tensor *x, int k, int stride, int pad) {
    sn_variable *w =
        sn_get_variable(g, "weights", SN_SHAPE(k, k, snm_channels(x), 1), SN_NO_INITIALIZER);
    return sn_depthwise_conv2d_explicit(g, x, sn_var(g, w), SN_STRIDES(stride, stride),
                                        SN_PADS(pad, pad, pad, pad), SN_HW(1, 1), NULL);
}

sn_tensor *snm_batch_norm(sn_graph *g, sn_tensor *x) {
    int64_t c = snm_channels(x);
    sn_variable *gamma = sn_get_variable(g, "gamma", SN_SHAPE(c), SN_NO_INITIALIZER);
    sn_variable *beta = sn_get_variable(g, "beta", SN_SHAPE(c), SN_NO_INITIALIZER);
    sn_variable *mean = sn_get_variable(g, "moving_mean", SN_SHAPE(c), SN_NO_INITIALIZER);
    sn_variable *var = sn_get_variable(g, "moving_variance", SN_SHAPE(c), SN_NO_INITIALIZER);
    return sn_batch_normalization(g, x, sn_var(g, mean), sn_var(g, var), sn_var(g, beta),
                                  sn_var(g, gamma), SNM_BN_EPSILON, NULL);
}

sn_tensor *snm_activate(sn_graph *g, sn_tensor *x, snm_activation activation) {
    switch (activation) {
    case SNM_RELU: return sn_relu(g, x, NULL);
    case SNM_RELU6: return sn_relu6(g, x, NULL);
    case SNM_LINEAR: break;
    }
    return x;
}

sn_tensor *snm_conv_bn(sn_graph *g, sn_tensor *x, const char *conv, const char *bn, int k,
                       int64_t out, int stride, int pad, bool depthwise,
                       snm_activation activation) {
    SN_WITH_VARIABLE_SCOPE(g, conv) {
        x = depthwise ? snm_depthwise(g, x, k, stride, pad)
                      : snm_conv(g, x, k, out, stride, pad, false);
    }
    SN_WITH_VARIABLE_SCOPE(g, bn) x = snm_batch_norm(g, x);
    return snm_activate(g, x, activation);
}

sn_tensor *snm_linear(sn_graph *g, sn_tensor *x, int64_t out) {
    sn_variable *w =
        sn_get_variable(g, "weights", SN_SHAPE(snm_channels(x), out), SN_NO_INITIALIZER);
    sn_variable *b = sn_get_variable(g, "biases", SN_SHAPE(out), SN_NO_INITIALIZER);
    return sn_bias_add(g, sn_matmul(g, x, sn_var(g, w), false, false, NULL), sn_var(g, b), NULL);
}

/* PyTorch's pooled size along one axis, and the padding after that gives
 * it with floor division. */
static int pool_extra(int64_t size, int k, int stride, int pad, bool ceil_mode) {
    if (!ceil_mode || size < 0) return pad;
    int64_t span = size + 2 * pad - k;
    if (span < 0) return pad;
    int64_t out = (span + stride - 1) / stride + 1;
    /* the last window must start inside the input or its leading padding */
    if ((out - 1) * stride >= size + pad) out--;
    return (int)((out - 1) * stride + k - size - pad);
}

sn_tensor *snm_max_pool(sn_graph *g, sn_tensor *x, int k, int stride, int pad, bool ceil_mode) {
    sn_shape s = x ? sn_tensor_shape(x) : SN_SHAPE_UNKNOWN;
    int bottom = s.rank == 4 ? pool_extra(s.dims[1], k, stride, pad, ceil_mode) : pad;
    int right = s.rank == 4 ? pool_extra(s.dims[2], k, stride, pad, ceil_mode) : pad;
    if (bottom < pad) bottom = pad;
    if (right < pad) right = pad;
    return sn_max_pool_explicit(g, x, SN_HW(k, k), SN_STRIDES(stride, stride),
                                SN_PADS(pad, bottom, pad, right), NULL);
}

sn_tensor *snm_global_avg_pool(sn_graph *g, sn_tensor *x) {
    /* the mean over the height and width, whatever the image size */
    static const int hw[2] = {1, 2};
    return sn_reduce_mean(g, x, hw, 2, false, NULL);
}
