/* torchvision's MobileNetV3-Large and -Small, width 1.0, not dilated
 * (torchvision/models/mobilenetv3.py), under its module paths: features/0
 * (Conv2dNormActivation: /0 conv, /1 bn, hardswish), features/1 to N
 * (InvertedResidual: block/0, block/1, ...), the last conv, classifier/0
 * (Linear), hardswish, dropout, classifier/3 (Linear). Its batch norms'
 * epsilon is 0.001. */
#include "../common.h"
#include "../scopenn_models.h"

#define EPSILON 0.001f

/* torchvision's "RE" and "HS" */
#define RE SNM_RELU
#define HS SNM_HARD_SWISH

/* InvertedResidualConfig: kernel, expanded and out channels, with
 * squeeze-excitation, activation, stride. */
typedef struct bneck {
    int kernel;
    int64_t expanded, out;
    bool se;
    snm_activation activation;
    int stride;
} bneck;

static const bneck large[] = {
    {3, 16, 16, false, RE, 1},  {3, 64, 24, false, RE, 2},  {3, 72, 24, false, RE, 1},
    {5, 72, 40, true, RE, 2},   {5, 120, 40, true, RE, 1},  {5, 120, 40, true, RE, 1},
    {3, 240, 80, false, HS, 2}, {3, 200, 80, false, HS, 1}, {3, 184, 80, false, HS, 1},
    {3, 184, 80, false, HS, 1}, {3, 480, 112, true, HS, 1}, {3, 672, 112, true, HS, 1},
    {5, 672, 160, true, HS, 2}, {5, 960, 160, true, HS, 1}, {5, 960, 160, true, HS, 1},
};

static const bneck small[] = {
    {3, 16, 16, true, RE, 2},  {3, 72, 24, false, RE, 2}, {3, 88, 24, false, RE, 1},
    {5, 96, 40, true, HS, 2},  {5, 240, 40, true, HS, 1}, {5, 240, 40, true, HS, 1},
    {5, 120, 48, true, HS, 1}, {5, 144, 48, true, HS, 1}, {5, 288, 96, true, HS, 2},
    {5, 576, 96, true, HS, 1}, {5, 576, 96, true, HS, 1},
};

static sn_tensor *mobilenet_v3(sn_graph *g, sn_tensor *x, const bneck *blocks, int count,
                               int64_t last_channel) {
    int feature = 0;
    char index[16];
    SN_WITH_VARIABLE_SCOPE(g, "features") {
        /* to the first block's input channels, 16 */
        SN_WITH_VARIABLE_SCOPE(g, snm_index(index, feature++)) {
            x = snm_conv_norm_activation(g, x, 3, 16, 2, false, SNM_HARD_SWISH, EPSILON);
        }
        for (int b = 0; b < count; b++) {
            const bneck *c = &blocks[b];
            snm_inverted_residual_config config = {
                .kernel = c->kernel,
                .stride = c->stride,
                .expanded = c->expanded,
                .out = c->out,
                .activation = c->activation,
                .squeeze = c->se ? snm_make_divisible((double)(c->expanded / 4), 8) : 0,
                .se_activation = SNM_RELU,
                .se_scale_activation = SNM_HARD_SIGMOID,
                .epsilon = EPSILON,
            };
            SN_WITH_VARIABLE_SCOPE(g, snm_index(index, feature++)) {
                x = snm_inverted_residual(g, x, &config);
            }
        }
        SN_WITH_VARIABLE_SCOPE(g, snm_index(index, feature++)) {
            x = snm_conv_norm_activation(g, x, 1, 6 * blocks[count - 1].out, 1, false,
                                         SNM_HARD_SWISH, EPSILON);
        }
    }
    x = snm_global_avg_pool(g, x);
    /* classifier/2 is dropout: the identity at inference */
    SN_WITH_VARIABLE_SCOPE(g, "classifier") {
        SN_WITH_VARIABLE_SCOPE(g, "0") x = snm_linear(g, x, last_channel);
        x = sn_hard_swish(g, x, NULL);
        SN_WITH_VARIABLE_SCOPE(g, "3") x = snm_linear(g, x, 1000);
    }
    return x;
}

sn_tensor *sn_model_mobilenet_v3_large(sn_graph *graph, sn_tensor *images) {
    return mobilenet_v3(graph, images, large, (int)(sizeof large / sizeof large[0]), 1280);
}

sn_tensor *sn_model_mobilenet_v3_small(sn_graph *graph, sn_tensor *images) {
    return mobilenet_v3(graph, images, small, (int)(sizeof small / sizeof small[0]), 1024);
}
