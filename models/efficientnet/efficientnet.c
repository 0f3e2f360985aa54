/* torchvision's EfficientNet-B0 (torchvision/models/efficientnet.py),
 * under its module paths: features/0 (Conv2dNormActivation: /0 conv, /1
 * bn, silu), features/1 to 7 (a stage each: S/B/block/0, ... of MBConv
 * blocks), features/8 (the last conv), classifier/1 (Linear). Its batch
 * norms are nn.BatchNorm2d's default (epsilon 1e-5; EfficientNetV2's are
 * 0.001). */
#include "../common.h"
#include "../scopenn_models.h"

sn_tensor *sn_model_efficientnet_b0(sn_graph *graph, sn_tensor *images) {
    /* MBConvConfig: expand ratio, kernel, first block's stride, input
     * channels, out channels, blocks (width and depth 1.0) */
    static const int stages[7][6] = {
        {1, 3, 1, 32, 16, 1},  {6, 3, 2, 16, 24, 2},   {6, 5, 2, 24, 40, 2},  {6, 3, 2, 40, 80, 3},
        {6, 5, 1, 80, 112, 3}, {6, 5, 2, 112, 192, 4}, {6, 3, 1, 192, 320, 1}};
    sn_graph *g = graph;
    sn_tensor *x = images;
    int feature = 0;
    char index[16], block[16];
    SN_WITH_VARIABLE_SCOPE(g, "features") {
        SN_WITH_VARIABLE_SCOPE(g, snm_index(index, feature++)) {
            x = snm_conv_norm_activation(g, x, 3, stages[0][3], 2, false, SNM_SWISH,
                                         SNM_BN_EPSILON);
        }
        for (int s = 0; s < 7; s++) SN_WITH_VARIABLE_SCOPE(g, snm_index(index, feature++)) {
                for (int b = 0; b < stages[s][5]; b++) {
                    /* a stage's later blocks: stride 1, from its out channels */
                    int64_t in = b == 0 ? stages[s][3] : stages[s][4];
                    snm_inverted_residual_config config = {
                        .kernel = stages[s][1],
                        .stride = b == 0 ? stages[s][2] : 1,
                        .expanded = snm_make_divisible((double)(in * stages[s][0]), 8),
                        .out = stages[s][4],
                        .activation = SNM_SWISH,
                        .squeeze = in / 4 > 1 ? in / 4 : 1,
                        .se_activation = SNM_SWISH,
                        .se_scale_activation = SNM_SIGMOID,
                        .epsilon = SNM_BN_EPSILON,
                    };
                    SN_WITH_VARIABLE_SCOPE(g, snm_index(block, b)) {
                        x = snm_inverted_residual(g, x, &config);
                    }
                }
            }
        SN_WITH_VARIABLE_SCOPE(g, snm_index(index, feature++)) {
            x = snm_conv_norm_activation(g, x, 1, 4 * stages[6][4], 1, false, SNM_SWISH,
                                         SNM_BN_EPSILON);
        }
    }
    x = snm_global_avg_pool(g, x);
    /* classifier/0 is dropout: the identity at inference */
    SN_WITH_VARIABLE_SCOPE(g, "classifier") {
        SN_WITH_VARIABLE_SCOPE(g, "1") x = snm_linear(g, x, 1000);
    }
    return x;
}
