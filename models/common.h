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

typedef enum snm_activation { SNM_LINEAR, SNM_RELU, SNM_RELU6 } snm_activation;

/* The last dimension of x (its channels), or 0 if x is NULL. */
int64_t snm_channels(sn_tensor *x);

/* "0", "1", ...: a scope name for a module's index in an nn.Sequential. */
const char *snm_index(char buf[16], int index);

/* nn.Conv2d(in, out, k, stride, padding=pad, bias): its weights (and
 * biases) in the current scope. */
sn_tensor *snm_conv(sn_graph *g, sn_tensor *x, int k, int64_t out, int stride, int pad, bool bias);

/* nn.Conv2d(c, c, k, stride, padding=pad, groups=c, bias=False). */
sn_tensor *snm_depthwise(sn_graph *g, sn_tensor *x, int k, int stride, int pad);

/* nn.BatchNorm2d in eval mode, in the current scope. */
sn_tensor *snm_batch_norm(sn_graph *g, sn_tensor *x);

/* relu, relu6 or x itself. */
sn_tensor *snm_activate(sn_graph *g, sn_tensor *x, snm_activation activation);

/* A conv (depthwise if `depthwise`) in scope `conv`, a batch norm in scope
 * `bn`, then `activation`: torchvision's conv + bn (+ act) pairs, e.g.
 * ("conv1", "bn1") or ("0", "1") in a Conv2dNormActivation. */
sn_tensor *snm_conv_bn(sn_graph *g, sn_tensor *x, const char *conv, const char *bn, int k,
                       int64_t out, int stride, int pad, bool depthwise, snm_activation activation);

/* nn.Linear(in, out) on [N, in], in the current scope. */
sn_tensor *snm_linear(sn_graph *g, sn_tensor *x, int64_t out);

/* nn.MaxPool2d(k, stride, pad, ceil_mode) with the padding made explicit:
 * ceil_mode's extra rows and columns at the bottom and right. */
sn_tensor *snm_max_pool(sn_graph *g, sn_tensor *x, int k, int stride, int pad, bool ceil_mode);

/* nn.AdaptiveAvgPool2d(1) then flatten: [N, H, W, C] -> [N, C]. */
sn_tensor *snm_global_avg_pool(sn_graph *g, sn_tensor *x);

#endif /* SCOPENN_MODELS_COMMON_H */
