/* torchvision's ResNet-18 and ResNet-50 (torchvision/models/resnet.py),
 * under its module paths: conv1, bn1, layerL/B/{conv1, bn1, ...,
 * downsample/0, downsample/1}, fc. */
#include "../common.h"
#include "../scopenn_models.h"

/* BasicBlock: 3x3 (stride) + bn + relu, 3x3 + bn, + identity, relu. */
static sn_tensor *basic_block(sn_graph *g, sn_tensor *x, int64_t planes, int stride) {
    sn_tensor *y = snm_conv_bn(g, x, "conv1", "bn1", 3, planes, stride, 1, false, SNM_RELU);
    y = snm_conv_bn(g, y, "conv2", "bn2", 3, planes, 1, 1, false, SNM_LINEAR);
    if (stride != 1 || snm_channels(x) != planes) SN_WITH_VARIABLE_SCOPE(g, "downsample") {
            x = snm_conv_bn(g, x, "0", "1", 1, planes, stride, 0, false, SNM_LINEAR);
        }
    return sn_relu(g, sn_add(g, y, x, NULL), NULL);
}

/* Bottleneck (v1.5): 1x1 + bn + relu, 3x3 (stride) + bn + relu, 1x1 to
 * 4 planes + bn, + identity, relu. */
static sn_tensor *bottleneck(sn_graph *g, sn_tensor *x, int64_t planes, int stride) {
    sn_tensor *y = snm_conv_bn(g, x, "conv1", "bn1", 1, planes, 1, 0, false, SNM_RELU);
    y = snm_conv_bn(g, y, "conv2", "bn2", 3, planes, stride, 1, false, SNM_RELU);
    y = snm_conv_bn(g, y, "conv3", "bn3", 1, 4 * planes, 1, 0, false, SNM_LINEAR);
    if (stride != 1 || snm_channels(x) != 4 * planes) SN_WITH_VARIABLE_SCOPE(g, "downsample") {
            x = snm_conv_bn(g, x, "0", "1", 1, 4 * planes, stride, 0, false, SNM_LINEAR);
        }
    return sn_relu(g, sn_add(g, y, x, NULL), NULL);
}

static sn_tensor *resnet(sn_graph *g, sn_tensor *x, const int blocks[4], bool use_bottleneck) {
    static const char *const layers[4] = {"layer1", "layer2", "layer3", "layer4"};
    x = snm_conv_bn(g, x, "conv1", "bn1", 7, 64, 2, 3, false, SNM_RELU);
    x = snm_max_pool(g, x, 3, 2, 1, false);
    for (int l = 0; l < 4; l++) {
        SN_WITH_VARIABLE_SCOPE(g, layers[l]) {
            for (int b = 0; b < blocks[l]; b++) {
                char index[16];
                int stride = (l > 0 && b == 0) ? 2 : 1;
                SN_WITH_VARIABLE_SCOPE(g, snm_index(index, b)) {
                    x = use_bottleneck ? bottleneck(g, x, 64 << l, stride)
                                       : basic_block(g, x, 64 << l, stride);
                }
            }
        }
    }
    x = snm_global_avg_pool(g, x);
    SN_WITH_VARIABLE_SCOPE(g, "fc") x = snm_linear(g, x, 1000);
    return x;
}

sn_tensor *sn_model_resnet18(sn_graph *graph, sn_tensor *images) {
    return resnet(graph, images, (const int[4]){2, 2, 2, 2}, false);
}

sn_tensor *sn_model_resnet50(sn_graph *graph, sn_tensor *images) {
    return resnet(graph, images, (const int[4]){3, 4, 6, 3}, true);
}
