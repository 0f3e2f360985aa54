/* torchvision's MobileNetV2, width 1.0 (torchvision/models/mobilenetv2.py),
 * under its module paths: features/0 (Conv2dNormActivation: /0 conv, /1
 * bn, relu6), features/1 to 17 (InvertedResidual: conv/0, conv/1, ... as
 * its nn.Sequential numbers them), features/18, classifier/1. */
#include "../common.h"
#include "../scopenn_models.h"

/* InvertedResidual(in, out, stride, expand_ratio) in the current scope:
 * [1x1 expand + bn + relu6,] depthwise 3x3 (stride) + bn + relu6, 1x1
 * project + bn, + x when stride 1 and in == out. */
static sn_tensor *inverted_residual(sn_graph *g, sn_tensor *x, int64_t out, int stride,
                                    int expand) {
    int64_t in = snm_channels(x), hidden = in * expand;
    int i = 0;
    char index[16];
    sn_tensor *y = x;
    SN_WITH_VARIABLE_SCOPE(g, "conv") {
        if (expand != 1) SN_WITH_VARIABLE_SCOPE(g, snm_index(index, i++)) {
                y = snm_conv_bn(g, y, "0", "1", 1, hidden, 1, 0, false, SNM_RELU6);
            }
        SN_WITH_VARIABLE_SCOPE(g, snm_index(index, i++)) {
            y = snm_conv_bn(g, y, "0", "1", 3, hidden, stride, 1, true, SNM_RELU6);
        }
        char bn[16];
        y = snm_conv_bn(g, y, snm_index(index, i), snm_index(bn, i + 1), 1, out, 1, 0, false,
                        SNM_LINEAR);
    }
    return stride == 1 && in == out ? sn_add(g, x, y, NULL) : y;
}

sn_tensor *sn_model_mobilenet_v2(sn_graph *graph, sn_tensor *images) {
    /* t (expansion), c (channels), n (blocks), s (first block's stride) */
    static const int settings[7][4] = {{1, 16, 1, 1}, {6, 24, 2, 2},  {6, 32, 3, 2}, {6, 64, 4, 2},
                                       {6, 96, 3, 1}, {6, 160, 3, 2}, {6, 320, 1, 1}};
    sn_graph *g = graph;
    sn_tensor *x = images;
    int feature = 0;
    char index[16];
    SN_WITH_VARIABLE_SCOPE(g, "features") {
        SN_WITH_VARIABLE_SCOPE(g, snm_index(index, feature++)) {
            x = snm_conv_bn(g, x, "0", "1", 3, 32, 2, 1, false, SNM_RELU6);
        }
        for (int s = 0; s < 7; s++)
            for (int b = 0; b < settings[s][2]; b++)
                SN_WITH_VARIABLE_SCOPE(g, snm_index(index, feature++)) {
                    x = inverted_residual(g, x, settings[s][1], b == 0 ? settings[s][3] : 1,
                                          settings[s][0]);
                }
        SN_WITH_VARIABLE_SCOPE(g, snm_index(index, feature++)) {
            x = snm_conv_bn(g, x, "0", "1", 1, 1280, 1, 0, false, SNM_RELU6);
        }
    }
    x = snm_global_avg_pool(g, x);
    /* classifier/0 is dropout: the identity at inference */
    SN_WITH_VARIABLE_SCOPE(g, "classifier") {
        SN_WITH_VARIABLE_SCOPE(g, "1") x = snm_linear(g, x, 1000);
    }
    return x;
}
