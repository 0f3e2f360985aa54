/* Whole models through the public API: the seeds' image filter (the demo:
 * two 64x64x32 images through two 5x5 conv layers sharing four variables)
 * and the cifar10 inference graph, at one thread. */
#include <stdio.h>
#include <stdlib.h>

#include "gbench.h"
#include "scopenn.h"

static sn_tensor *conv_relu(sn_graph *g, sn_tensor *x, int k, int in, int out, sn_hw strides) {
    sn_variable *w = sn_get_variable(g, "weights", SN_SHAPE(k, k, in, out),
                                     sn_truncated_normal_initializer(0, 0.05f));
    sn_variable *b = sn_get_variable(g, "biases", SN_SHAPE(out), sn_constant_initializer(0.1f));
    return sn_relu(g,
                   sn_bias_add(g, sn_conv2d(g, x, sn_var(g, w), strides, SN_PADDING_SAME, NULL),
                               sn_var(g, b), NULL),
                   NULL);
}

static sn_tensor *dense(sn_graph *g, sn_tensor *x, int in, int out, int relu) {
    sn_variable *w =
        sn_get_variable(g, "weights", SN_SHAPE(in, out), sn_truncated_normal_initializer(0, 0.04f));
    sn_variable *b = sn_get_variable(g, "biases", SN_SHAPE(out), sn_constant_initializer(0.1f));
    sn_tensor *y = sn_add(g, sn_matmul(g, x, sn_var(g, w), false, false, NULL), sn_var(g, b), NULL);
    return relu ? sn_relu(g, y, NULL) : y;
}

struct model {
    const char *name;
    int images, h, w, c;
    double flops; /* per run, counted as direct convolution and matmul */
};

/* Builds the model into g; returns its input and (through *out) output. */
static sn_tensor *build(sn_graph *g, const struct model *m, sn_tensor **out, sn_tensor **in2,
                        sn_tensor **out2) {
    sn_tensor *x = sn_placeholder(g, "images", SN_SHAPE(-1, m->h, m->w, m->c));
    *in2 = *out2 = NULL;
    if (m->c == 32) { /* the image filter, on two images */
        *in2 = sn_placeholder(g, "images2", SN_SHAPE(-1, m->h, m->w, m->c));
        SN_WITH_VARIABLE_SCOPE_AS(g, "image_filters", SN_REUSE_INHERIT, scope) {
            sn_tensor *y = x, *y2 = *in2;
            SN_WITH_VARIABLE_SCOPE(g, "conv1") y = conv_relu(g, y, 5, 32, 32, SN_HW(1, 1));
            SN_WITH_VARIABLE_SCOPE(g, "conv2") y = conv_relu(g, y, 5, 32, 32, SN_HW(1, 1));
            sn_scope_reuse_variables(scope);
            SN_WITH_VARIABLE_SCOPE(g, "conv1") y2 = conv_relu(g, y2, 5, 32, 32, SN_HW(1, 1));
            SN_WITH_VARIABLE_SCOPE(g, "conv2") y2 = conv_relu(g, y2, 5, 32, 32, SN_HW(1, 1));
            *out = y;
            *out2 = y2;
        }
        return x;
    }
    sn_tensor *y = x; /* cifar10.inference */
    SN_WITH_VARIABLE_SCOPE(g, "conv1") y = conv_relu(g, y, 5, 3, 64, SN_HW(1, 1));
    y = sn_max_pool(g, y, SN_HW(3, 3), SN_HW(2, 2), SN_PADDING_SAME, "pool1");
    y = sn_lrn(g, y, 4, 1.0f, 0.001f / 9.0f, 0.75f, "norm1");
    SN_WITH_VARIABLE_SCOPE(g, "conv2") y = conv_relu(g, y, 5, 64, 64, SN_HW(1, 1));
    y = sn_lrn(g, y, 4, 1.0f, 0.001f / 9.0f, 0.75f, "norm2");
    y = sn_max_pool(g, y, SN_HW(3, 3), SN_HW(2, 2), SN_PADDING_SAME, "pool2");
    y = sn_reshape(g, y, SN_SHAPE(-1, (m->h / 4) * (m->w / 4) * 64), NULL);
    SN_WITH_VARIABLE_SCOPE(g, "local3") y = dense(g, y, (m->h / 4) * (m->w / 4) * 64, 384, 1);
    SN_WITH_VARIABLE_SCOPE(g, "local4") y = dense(g, y, 384, 192, 1);
    SN_WITH_VARIABLE_SCOPE(g, "softmax_linear") y = dense(g, y, 192, 10, 0);
    *out = y;
    return x;
}

static void bm_model(sn_gbench_state *state, void *arg) {
    const struct model *m = arg;
    sn_graph *g = sn_graph_create(&(sn_graph_options){.seed = 1});
    sn_tensor *out, *in2, *out2;
    sn_tensor *in = build(g, m, &out, &in2, &out2);
    sn_session *s =
        out2 ? sn_session_create(g, SN_FETCH(out, out2), &(sn_session_options){.threads = 1})
             : sn_session_create(g, SN_FETCH(out),
                                 &(sn_session_options){.threads = 1, .max_batch = m->images});
    size_t n = (size_t)(m->images * m->h * m->w * m->c);
    float *x = calloc(n, sizeof(float));
    if (!s || !x) {
        sn_gbench_skip(state, sn_graph_error(g));
        goto done;
    }
    for (size_t i = 0; i < n; i++) x[i] = (float)(i % 255) / 255.0f;
    sn_feed feeds[2] = {{in, x, SN_SHAPE(out2 ? 1 : m->images, m->h, m->w, m->c)},
                        {in2, x, SN_SHAPE(1, m->h, m->w, m->c)}};
    sn_output o[2];
    while (sn_gbench_keep_running(state))
        if (sn_session_run(s, feeds, out2 ? 2 : 1, o) != SN_OK) {
            sn_gbench_skip(state, sn_session_error(s));
            break;
        }
    sn_gbench_counter(state, "FLOP/s", m->flops, SN_GBENCH_RATE);
done:
    free(x);
    sn_session_destroy(s);
    sn_graph_destroy(g);
}

int main(int argc, char **argv) {
    /* image filter: 2 images x 2 layers of 64*64*32 outputs x 5*5*32 MACs */
    static const struct model filter = {
        "image_filter_64x64", 1, 64, 64, 32, 2.0 * 2 * 2 * 64 * 64 * 32 * 25 * 32.0};
    /* cifar10 at 24x24: conv1 24*24*64*25*3, conv2 12*12*64*25*64, dense 2304*384 + 384*192 +
     * 192*10 */
    static const double cifar_flops = 2.0 * (24 * 24 * 64 * 25 * 3.0 + 12 * 12 * 64 * 25 * 64.0 +
                                             2304 * 384.0 + 384 * 192.0 + 192 * 10.0);
    static const struct model cifar1 = {"cifar10_24x24_batch1", 1, 24, 24, 3, cifar_flops};
    static const struct model cifar16 = {"cifar10_24x24_batch16", 16, 24, 24, 3, 16 * cifar_flops};
    sn_gbench_register(filter.name, bm_model, (void *)&filter);
    sn_gbench_register(cifar1.name, bm_model, (void *)&cifar1);
    sn_gbench_register(cifar16.name, bm_model, (void *)&cifar16);
    return sn_gbench_main(argc, argv);
}
