/* Internal to the model zoo: the blocks torchvision's models are made of,
 * on the public API only (scopenn.h). Each creates its variables in the
 * current variable scope under PyTorch's names as tools/export_torch.py
 * writes them: weights (HWIO, depthwise [kh, kw, c, 1]), biases, and a
 * batch norm's gamma, beta, moving_mean, moving_variance. */
#ifndef SCOPENN_MODELS_COMMON_H
#define SCOPENN_MODELS_COMMON_H

#include "scopenn.h"

/* PyTorch's BatchNorm2d default. */
#define SNM_BN_EPSILON 1e-5f

/* PyTorch's activations: nn.ReLU, nn.ReLU6, nn.Hardswish, nn.SiLU (swish),
 * nn.Sigmoid, nn.Hardsigmoid (relu6(x + 3) / 6), or none. */
typedef enum snm_activation {
    SNM_LINEAR,
    SNM_RELU,
    SNM_RELU6,
    SNM_HARD_SWISH,
    SNM_SWISH,
    SNM_SIGMOID,
    SNM_HARD_SIGMOID
} snm_activation;

/* The last dimension of x (its channels), or 0 if x is NULL. */
int64_t snm_channels(sn_tensor *x);

/* "0", "1", ...: a scope name for a module's index in an nn.Sequential. */
const char *snm_index(char buf[16], int index);

/* torchvision's _make_divisible(v, divisor): v rounded to the nearest
 * multiple of divisor, at least divisor, and not below 90% of v. */
int64_t snm_make_divisible(double v, int divisor);

/* nn.Conv2d(in, out, k, stride, padding=pad, bias): its weights (and
 * biases) in the current scope. */
sn_tensor *snm_conv(sn_graph *g, sn_tensor *x, int k, int64_t out, int stride, int pad, bool bias);

/* nn.Conv2d(c, c, k, stride, padding=pad, groups=c, bias=False). */
sn_tensor *snm_depthwise(sn_graph *g, sn_tensor *x, int k, int stride, int pad);

/* nn.BatchNorm2d(eps=epsilon) in eval mode, in the current scope. */
sn_tensor *snm_batch_norm(sn_graph *g, sn_tensor *x, float epsilon);

/* `activation` of x (x itself for SNM_LINEAR). */
sn_tensor *snm_activate(sn_graph *g, sn_tensor *x, snm_activation activation);

/* A conv (depthwise if `depthwise`) in scope `conv`, a batch norm (with
 * PyTorch's default epsilon) in scope `bn`, then `activation`:
 * torchvision's conv + bn (+ act) pairs, e.g. ("conv1", "bn1") or ("0",
 * "1") in a Conv2dNormActivation. */
sn_tensor *snm_conv_bn(sn_graph *g, sn_tensor *x, const char *conv, const char *bn, int k,
                       int64_t out, int stride, int pad, bool depthwise, snm_activation activation);

/* torchvision.ops.Conv2dNormActivation(in, out, k, stride, groups=in if
 * depthwise, norm_layer=BatchNorm2d(eps=epsilon), activation) in the
 * current scope: conv "0" with padding (k - 1) / 2, batch norm "1". */
sn_tensor *snm_conv_norm_activation(sn_graph *g, sn_tensor *x, int k, int64_t out, int stride,
                                    bool depthwise, snm_activation activation, float epsilon);

/* torchvision.ops.SqueezeExcitation(c, squeeze, activation,
 * scale_activation) in the current scope: x times scale_activation(fc2(
 * activation(fc1(mean of x over H and W)))), fc1 and fc2 1x1 convs with
 * biases. */
sn_tensor *snm_squeeze_excitation(sn_graph *g, sn_tensor *x, int64_t squeeze,
                                  snm_activation activation, snm_activation scale_activation);

/* An inverted residual block with squeeze-excitation, as MobileNetV3's
 * InvertedResidual and EfficientNet's MBConv (torchvision) are both made. */
typedef struct snm_inverted_residual_config {
    int kernel, stride;
    int64_t expanded, out;
    snm_activation activation;
    int64_t squeeze; /* the squeeze-excitation's channels; 0: none */
    snm_activation se_activation, se_scale_activation;
    float epsilon; /* the batch norms' */
} snm_inverted_residual_config;

/* The block in scope "block" of the current scope, an nn.Sequential of:
 * 1x1 expand + bn + activation (unless expanded == x's channels),
 * depthwise k x k (stride) + bn + activation, squeeze-excitation (if
 * any), 1x1 project + bn; then + x when stride 1 and out == x's channels
 * (EfficientNet's stochastic depth is the identity at inference). */
sn_tensor *snm_inverted_residual(sn_graph *g, sn_tensor *x, const snm_inverted_residual_config *c);

/* nn.Linear(in, out) on [N, in], in the current scope. */
sn_tensor *snm_linear(sn_graph *g, sn_tensor *x, int64_t out);

/* nn.MaxPool2d(k, stride, pad, ceil_mode) with the padding made explicit:
 * ceil_mode's extra rows and columns at the bottom and right. */
sn_tensor *snm_max_pool(sn_graph *g, sn_tensor *x, int k, int stride, int pad, bool ceil_mode);

/* nn.AdaptiveAvgPool2d(1) then flatten: [N, H, W, C] -> [N, C]. */
sn_tensor *snm_global_avg_pool(sn_graph *g, sn_tensor *x);

#endif /* SCOPENN_MODELS_COMMON_H */
