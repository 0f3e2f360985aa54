/* Seeds 000-002: the two-layer image filter.
 *
 *   - create_model's output op is conv2/Relu;
 *   - calling it twice in one scope fails: the variables exist (S4);
 *   - under scope image_filters, reuse_variables() lets a second image share
 *     the four variables; a session packs them once and runs both images.
 *
 * The program checks its own results (against a direct computation) and
 * exits 1 if any is off. */
#include <math.h>
#include <scopenn.h>
#include <stdio.h>
#include <string.h>

#include "check.h"

enum { H = 8, W = 8, C = 4, K = 5 };

/* def conv_relu(input, kernel_shape, bias_shape) */
static sn_tensor *conv_relu(sn_graph *g, sn_tensor *input, int k, int c) {
    sn_variable *weights = sn_get_variable(g, "weights", SN_SHAPE(k, k, c, c),
                                           sn_random_normal_initializer(0.0f, 0.2f));
    sn_variable *biases = sn_get_variable(g, "biases", SN_SHAPE(c), sn_constant_initializer(0.0f));
    sn_tensor *conv =
        sn_conv2d(g, input, sn_var(g, weights), SN_STRIDES(1, 1), SN_PADDING_SAME, NULL);
    return sn_relu(g, sn_add(g, conv, sn_var(g, biases), NULL), NULL);
}

/* def create_model(input) / my_image_filter(input_images) */
static sn_tensor *my_image_filter(sn_graph *g, sn_tensor *images) {
    sn_tensor *relu1 = NULL, *relu2 = NULL;
    SN_WITH_VARIABLE_SCOPE(g, "conv1") relu1 = conv_relu(g, images, K, C);
    SN_WITH_VARIABLE_SCOPE(g, "conv2") relu2 = conv_relu(g, relu1, K, C);
    return relu2;
}

/* One layer computed directly: SAME padding, stride 1. */
static void direct_layer(const float *in, const float *w, const float *b, float *out) {
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++)
            for (int o = 0; o < C; o++) {
                float acc = b[o];
                for (int ky = 0; ky < K; ky++)
                    for (int kx = 0; kx < K; kx++) {
                        int iy = y + ky - K / 2, ix = x + kx - K / 2;
                        if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
                        for (int i = 0; i < C; i++)
                            acc += in[(iy * W + ix) * C + i] * w[((ky * K + kx) * C + i) * C + o];
                    }
                out[(y * W + x) * C + o] = acc > 0 ? acc : 0;
            }
}

int main(void) {
    /* Seeds 000/001: the model's name, and the error of building it twice. */
    sn_graph *g = sn_graph_create(NULL);
    sn_tensor *input = sn_placeholder(g, "input_images", SN_SHAPE(-1, H, W, C));
    sn_tensor *model = my_image_filter(g, input);
    printf("model.op.name: %s\n", sn_tensor_op_name(model));
    CHECK(strcmp(sn_tensor_op_name(model), "conv2/Relu") == 0);
    CHECK(my_image_filter(g, input) == NULL);
    printf("create_model twice: %s\n", sn_graph_error(g));
    CHECK(strstr(sn_graph_error(g), "Variable conv1/weights already exists") != NULL);
    sn_graph_destroy(g);

    /* Seed 000: share the variables between two images. */
    g = sn_graph_create(&(sn_graph_options){.seed = 2017});
    sn_tensor *image1 = sn_placeholder(g, "image1", SN_SHAPE(-1, H, W, C));
    sn_tensor *image2 = sn_placeholder(g, "image2", SN_SHAPE(-1, H, W, C));
    sn_tensor *result1 = NULL, *result2 = NULL;
    SN_WITH_VARIABLE_SCOPE_AS(g, "image_filters", SN_REUSE_INHERIT, scope) {
        result1 = my_image_filter(g, image1);
        sn_scope_reuse_variables(scope);
        result2 = my_image_filter(g, image2);
    }
    sn_session *s = sn_session_create(g, SN_FETCH(result1, result2), NULL);
    if (!s) {
        fprintf(stderr, "error: %s\n", sn_graph_error(g));
        return 1;
    }
    printf("variables:");
    for (size_t i = 0; i < sn_graph_variable_count(g); i++)
        printf(" %s", sn_variable_tensor_name(sn_graph_variable(g, i)));
    sn_session_stats st;
    sn_session_stats_get(s, &st);
    printf("\npacks: %zu made, %zu reused\n", st.packs_made, st.packs_reused);
    CHECK(sn_graph_variable_count(g) == 4);
    CHECK(st.packs_made == 4 && st.packs_reused == 4);

    float a[H * W * C], b[H * W * C], mid[H * W * C], want[H * W * C];
    for (int i = 0; i < H * W * C; i++) a[i] = (float)((i * 7) % 11) / 11.0f, b[i] = 1.0f - a[i];
    sn_feed feeds[2] = {{image1, a, SN_SHAPE(1, H, W, C)}, {image2, b, SN_SHAPE(1, H, W, C)}};
    sn_output out[2];
    CHECK(sn_session_run(s, feeds, 2, out) == SN_OK);
    const float *w1 = sn_variable_value(sn_graph_find_variable(g, "image_filters/conv1/weights"));
    const float *b1 = sn_variable_value(sn_graph_find_variable(g, "image_filters/conv1/biases"));
    const float *w2 = sn_variable_value(sn_graph_find_variable(g, "image_filters/conv2/weights"));
    const float *b2 = sn_variable_value(sn_graph_find_variable(g, "image_filters/conv2/biases"));
    float err = 0;
    for (int k = 0; k < 2; k++) {
        direct_layer(k ? b : a, w1, b1, mid);
        direct_layer(mid, w2, b2, want);
        for (int i = 0; i < H * W * C; i++) err = fmaxf(err, fabsf(out[k].data[i] - want[i]));
    }
    printf("max abs error vs a direct computation: %g\n", err);
    CHECK(err < 1e-4f);
    sn_session_destroy(s);
    sn_graph_destroy(g);
    printf("%s\n", failures ? "FAILED" : "two images, one set of four variables, packed once");
    return failures ? 1 : 0;
}
