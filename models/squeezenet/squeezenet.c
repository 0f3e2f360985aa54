/* torchvision's SqueezeNet 1.1 (torchvision/models/squeezenet.py), under
 * its module paths: features/0 (conv), features/3, 4, 6, 7, 9 to 12 (Fire:
 * squeeze, expand1x1, expand3x3), classifier/1 (a 1x1 conv). */
#include "../common.h"
#include "../scopenn_models.h"

static sn_tensor *conv_relu(sn_graph *g, sn_tensor *x, const char *scope, int k, int64_t out,
                            int pad) {
    SN_WITH_VARIABLE_SCOPE(g, scope) x = sn_relu(g, snm_conv(g, x, k, out, 1, pad, true), NULL);
    return x;
}

/* Fire(in, squeeze, e1, e3): squeeze 1x1 + relu, then the concat along the
 * channels of expand1x1 (1x1 + relu) and expand3x3 (3x3 pad 1 + relu). */
static sn_tensor *fire(sn_graph *g, sn_tensor *x, int64_t squeeze, int64_t expand) {
    x = conv_relu(g, x, "squeeze", 1, squeeze, 0);
    sn_tensor *parts[2] = {conv_relu(g, x, "expand1x1", 1, expand, 0),
                           conv_relu(g, x, "expand3x3", 3, expand, 1)};
    return sn_concat(g, parts, 2, -1, NULL);
}

sn_tensor *sn_model_squeezenet1_1(sn_graph *graph, sn_tensor *images) {
    /* features/N: the Fire modules' index, squeeze and expand channels */
    static const int fires[8][3] = {{3, 16, 64},  {4, 16, 64},   {6, 32, 128},  {7, 32, 128},
                                    {9, 48, 192}, {10, 48, 192}, {11, 64, 256}, {12, 64, 256}};
    sn_graph *g = graph;
    sn_tensor *x = images;
    char index[16];
    SN_WITH_VARIABLE_SCOPE(g, "features") {
        SN_WITH_VARIABLE_SCOPE(g, "0") { x = sn_relu(g, snm_conv(g, x, 3, 64, 2, 0, true), NULL); }
        for (int f = 0; f < 8; f++) {
            /* nn.MaxPool2d(3, 2, ceil_mode=True) at features/2, 5 and 8 */
            if (fires[f][0] == 3 || fires[f][0] == 6 || fires[f][0] == 9)
                x = snm_max_pool(g, x, 3, 2, 0, true);
            SN_WITH_VARIABLE_SCOPE(g, snm_index(index, fires[f][0])) {
                x = fire(g, x, fires[f][1], fires[f][2]);
            }
        }
    }
    /* classifier: dropout (the identity), 1x1 conv, relu, global average */
    SN_WITH_VARIABLE_SCOPE(g, "classifier") x = conv_relu(g, x, "1", 1, 1000, 0);
    return snm_global_avg_pool(g, x);
}
