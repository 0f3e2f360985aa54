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

int64_t snm_make_divisible(double v, int divisor) {
    int64_t rounded = (int64_t)(v + divisor / 2.0) / divisor * divisor;
    if (rounded < divisor) rounded = divisor;
    return rounded < 0.9 * v ? rounded + divisor : rounded;
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

sn_tensor *snm_batch_norm(sn_graph *g, sn_tensor *x, float epsilon) {
    int64_t c = snm_channels(x);
    sn_variable *gamma = sn_get_variable(g, "gamma", SN_SHAPE(c), SN_NO_INITIALIZER);
    sn_variable *beta = sn_get_variable(g, "beta", SN_SHAPE(c), SN_NO_INITIALIZER);
    sn_variable *mean = sn_get_variable(g, "moving_mean", SN_SHAPE(c), SN_NO_INITIALIZER);
    sn_variable *var = sn_get_variable(g, "moving_variance", SN_SHAPE(c), SN_NO_INITIALIZER);
    return sn_batch_normalization(g, x, sn_var(g, mean), sn_var(g, var), sn_var(g, beta),
                                  sn_var(g, gamma), epsilon, NULL);
}

sn_tensor *snm_activate(sn_graph *g, sn_tensor *x, snm_activation activation) {
    switch (activation) {
    case SNM_RELU: return sn_relu(g, x, NULL);
    case SNM_RELU6: return sn_relu6(g, x, NULL);
    case SNM_HARD_SWISH: return sn_hard_swish(g, x, NULL);
    case SNM_SWISH: return sn_swish(g, x, NULL);
    case SNM_SIGMOID: return sn_sigmoid(g, x, NULL);
    case SNM_HARD_SIGMOID: return sn_hard_sigmoid(g, x, NULL);
    case SNM_LINEAR: break;
    }
    return x;
}

static sn_tensor *conv_bn(sn_graph *g, sn_tensor *x, const char *conv, const char *bn, int k,
                          int64_t out, int stride, int pad, bool depthwise,
                          snm_activation activation, float epsilon) {
    SN_WITH_VARIABLE_SCOPE(g, conv) {
        x = depthwise ? snm_depthwise(g, x, k, stride, pad)
                      : snm_conv(g, x, k, out, stride, pad, false);
    }
    SN_WITH_VARIABLE_SCOPE(g, bn) x = snm_batch_norm(g, x, epsilon);
    return snm_activate(g, x, activation);
}

sn_tensor *snm_conv_bn(sn_graph *g, sn_tensor *x, const char *conv, const char *bn, int k,
                       int64_t out, int stride, int pad, bool depthwise,
                       snm_activation activation) {
    return conv_bn(g, x, conv, bn, k, out, stride, pad, depthwise, activation, SNM_BN_EPSILON);
}

sn_tensor *snm_conv_norm_activation(sn_graph *g, sn_tensor *x, int k, int64_t out, int stride,
                                    bool depthwise, snm_activation activation, float epsilon) {
    return conv_bn(g, x, "0", "1", k, out, stride, (k - 1) / 2, depthwise, activation, epsilon);
}

/* The mean over the height and width, whatever the image size. */
static sn_tensor *spatial_mean(sn_graph *g, sn_tensor *x, bool keepdims) {
    static const int hw[2] = {1, 2};
    return sn_reduce_mean(g, x, hw, 2, keepdims, NULL);
}

sn_tensor *snm_squeeze_excitation(sn_graph *g, sn_tensor *x, int64_t squeeze,
                                  snm_activation activation, snm_activation scale_activation) {
    sn_tensor *scale = spatial_mean(g, x, true); /* [N, 1, 1, C] */
    SN_WITH_VARIABLE_SCOPE(g, "fc1") {
        scale = snm_activate(g, snm_conv(g, scale, 1, squeeze, 1, 0, true), activation);
    }
    SN_WITH_VARIABLE_SCOPE(g, "fc2") {
        scale =
            snm_activate(g, snm_conv(g, scale, 1, snm_channels(x), 1, 0, true), scale_activation);
    }
    return sn_multiply(g, x, scale, NULL);
}

sn_tensor *snm_inverted_residual(sn_graph *g, sn_tensor *x, const snm_inverted_residual_config *c) {
    int64_t in = snm_channels(x);
    int i = 0;
    char index[16];
    sn_tensor *y = x;
    SN_WITH_VARIABLE_SCOPE(g, "block") {
        if (c->expanded != in) SN_WITH_VARIABLE_SCOPE(g, snm_index(index, i++)) {
                y = snm_conv_norm_activation(g, y, 1, c->expanded, 1, false, c->activation,
                                             c->epsilon);
            }
        SN_WITH_VARIABLE_SCOPE(g, snm_index(index, i++)) {
            y = snm_conv_norm_activation(g, y, c->kernel, c->expanded, c->stride, true,
                                         c->activation, c->epsilon);
        }
        if (c->squeeze > 0) SN_WITH_VARIABLE_SCOPE(g, snm_index(index, i++)) {
                y = snm_squeeze_excitation(g, y, c->squeeze, c->se_activation,
                                           c->se_scale_activation);
            }
        SN_WITH_VARIABLE_SCOPE(g, snm_index(index, i)) {
            y = snm_conv_norm_activation(g, y, 1, c->out, 1, false, SNM_LINEAR, c->epsilon);
        }
    }
    return c->stride == 1 && in == c->out ? sn_add(g, x, y, NULL) : y;
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

sn_tensor *snm_global_avg_pool(sn_graph *g, sn_tensor *x) { return spatial_mean(g, x, false); }
