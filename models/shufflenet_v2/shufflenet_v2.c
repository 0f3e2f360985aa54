/* torchvision's ShuffleNetV2 x1.0 (torchvision/models/shufflenetv2.py)
 * under its module paths: conv1/0 conv, conv1/1 bn, relu; a 3x3/2 max pool
 * (padding 1); stage2 to stage4 (InvertedResidual: branch1/0 to /3 on the
 * first block of a stage, branch2/0 to /7 as their nn.Sequential numbers
 * them); conv5/0, conv5/1; the mean over height and width; fc. */
#include "../common.h"
#include "../scopenn_models.h"

#include <stdio.h>

/* channel_shuffle(x, 2): PyTorch views NCHW as [N, 2, C/2, H, W] and swaps
 * 1 and 2, so channel j takes channel (j % 2) * C/2 + j / 2. In NHWC that
 * is each pixel's [2, C/2] transposed: the pixels joined into one
 * dimension keep the reshapes to a single -1 (the batch). */
static sn_tensor *channel_shuffle(sn_graph *g, sn_tensor *x) {
    if (!x) return NULL;
    sn_shape s = sn_tensor_shape(x);
    const int64_t c = s.dims[s.rank - 1];
    s.dims[0] = -1;
    sn_tensor *y = sn_reshape(g, x, SN_SHAPE(-1, 2, c / 2), NULL);
    y = sn_transpose(g, y, (const int[]){0, 2, 1}, 3, NULL);
    return sn_reshape(g, y, s, NULL);
}

/* branch2: 1x1 conv + bn + relu, depthwise 3x3 (stride) + bn, 1x1 conv +
 * bn + relu, in the current scope. */
static sn_tensor *branch2(sn_graph *g, sn_tensor *x, int64_t out, int stride) {
    SN_WITH_VARIABLE_SCOPE(g, "branch2") {
        x = snm_conv_bn(g, x, "0", "1", 1, out, 1, 0, false, SNM_RELU);
        x = snm_conv_bn(g, x, "3", "4", 3, out, stride, 1, true, SNM_LINEAR);
        x = snm_conv_bn(g, x, "5", "6", 1, out, 1, 0, false, SNM_RELU);
    }
    return x;
}

/* InvertedResidual(in, out, stride): stride 1 splits the channels in two
 * halves and transforms the second; stride 2 transforms the whole input
 * twice (branch1: depthwise 3x3/2 + bn, 1x1 conv + bn + relu). Then the
 * halves joined and shuffled. */
static sn_tensor *inverted_residual(sn_graph *g, sn_tensor *x, int64_t out, int stride) {
    const int64_t half = out / 2;
    sn_tensor *parts[2] = {NULL, NULL};
    if (stride == 1) {
        if (sn_split(g, x, 2, -1, parts, NULL) != SN_OK) return NULL;
        parts[1] = branch2(g, parts[1], half, 1);
    } else {
        SN_WITH_VARIABLE_SCOPE(g, "branch1") {
            parts[0] = snm_conv_bn(g, x, "0", "1", 3, 0, stride, 1, true, SNM_LINEAR);
            parts[0] = snm_conv_bn(g, parts[0], "2", "3", 1, half, 1, 0, false, SNM_RELU);
        }
        parts[1] = branch2(g, x, half, stride);
    }
    if (!parts[0] || !parts[1]) return NULL;
    return channel_shuffle(g, sn_concat(g, parts, 2, -1, NULL));
}

sn_tensor *sn_model_shufflenet_v2_x1_0(sn_graph *graph, sn_tensor *images) {
    static const int repeats[3] = {4, 8, 4};
    static const int64_t channels[5] = {24, 116, 232, 464, 1024};
    sn_graph *g = graph;
    sn_tensor *x = images;
    char name[16];
    SN_WITH_VARIABLE_SCOPE(g, "conv1") {
        x = snm_conv_bn(g, x, "0", "1", 3, channels[0], 2, 1, false, SNM_RELU);
    }
    x = snm_max_pool(g, x, 3, 2, 1, false);
    for (int s = 0; s < 3; s++) {
        snprintf(name, sizeof name, "stage%d", s + 2);
        SN_WITH_VARIABLE_SCOPE(g, name) {
            char index[16];
            for (int b = 0; b < repeats[s]; b++) SN_WITH_VARIABLE_SCOPE(g, snm_index(index, b)) {
                    x = inverted_residual(g, x, channels[s + 1], b == 0 ? 2 : 1);
                }
        }
    }
    SN_WITH_VARIABLE_SCOPE(g, "conv5") {
        x = snm_conv_bn(g, x, "0", "1", 1, channels[4], 1, 0, false, SNM_RELU);
    }
    x = snm_global_avg_pool(g, x);
    SN_WITH_VARIABLE_SCOPE(g, "fc") x = snm_linear(g, x, 1000);
    return x;
}
