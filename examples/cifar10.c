/* The cifar10 inference graph of TensorFlow's models/image/cifar10.py, the
 * model the seeds cite as a user of variable scopes, with its weights from a
 * safetensors checkpoint.
 *
 * A first graph, seeded, saves its variables to a checkpoint; a second graph,
 * built the same way with another seed, loads them by full name (strict:
 * every variable, nothing else) and must then give the first one's logits.
 *
 *   conv1 5x5x3x64 + relu -> pool1 3x3/2 SAME -> norm1 (LRN)
 *   conv2 5x5x64x64 + relu -> norm2 -> pool2
 *   reshape [batch, -1] -> local3 384 + relu -> local4 192 + relu
 *   -> softmax_linear 10 (logits)
 *
 * Usage: cifar10 [CHECKPOINT_PATH]  (default: cifar10.safetensors here)
 *
 * With weights from PyTorch (tools/export_torch.py; see
 * tests/oracle/export_cifar10.py, which defines the module and exports it):
 *
 *   cifar10 --weights cifar10.safetensors --check check.safetensors
 *
 * loads them strictly, runs the check file's "images" and compares with
 * its "logits" (PyTorch's). The program checks its own results and exits 1
 * if any is off. */
#include <math.h>
#include <scopenn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { SIZE = 24, BATCH = 2, CLASSES = 10 };

static sn_tensor *weights_bias(sn_graph *g, sn_shape w_shape, float stddev, float bias,
                               sn_tensor **b_out) {
    sn_variable *w =
        sn_get_variable(g, "weights", w_shape, sn_truncated_normal_initializer(0, stddev));
    int64_t out = w_shape.dims[w_shape.rank - 1];
    sn_variable *b = sn_get_variable(g, "biases", SN_SHAPE(out), sn_constant_initializer(bias));
    *b_out = sn_var(g, b);
    return sn_var(g, w);
}

/* cifar10.inference(images) */
static sn_tensor *inference(sn_graph *g, sn_tensor *images) {
    sn_tensor *x = images, *b;
    SN_WITH_VARIABLE_SCOPE(g, "conv1") {
        sn_tensor *k = weights_bias(g, SN_SHAPE(5, 5, 3, 64), 5e-2f, 0.0f, &b);
        x = sn_relu(
            g, sn_bias_add(g, sn_conv2d(g, x, k, SN_STRIDES(1, 1), SN_PADDING_SAME, NULL), b, NULL),
            "conv1");
    }
    x = sn_max_pool(g, x, SN_HW(3, 3), SN_STRIDES(2, 2), SN_PADDING_SAME, "pool1");
    x = sn_lrn(g, x, 4, 1.0f, 0.001f / 9.0f, 0.75f, "norm1");
    SN_WITH_VARIABLE_SCOPE(g, "conv2") {
        sn_tensor *k = weights_bias(g, SN_SHAPE(5, 5, 64, 64), 5e-2f, 0.1f, &b);
        x = sn_relu(
            g, sn_bias_add(g, sn_conv2d(g, x, k, SN_STRIDES(1, 1), SN_PADDING_SAME, NULL), b, NULL),
            "conv2");
    }
    x = sn_lrn(g, x, 4, 1.0f, 0.001f / 9.0f, 0.75f, "norm2");
    x = sn_max_pool(g, x, SN_HW(3, 3), SN_STRIDES(2, 2), SN_PADDING_SAME, "pool2");
    SN_WITH_VARIABLE_SCOPE(g, "local3") {
        x = sn_reshape(g, x, SN_SHAPE(-1, 6 * 6 * 64), NULL);
        sn_tensor *w = weights_bias(g, SN_SHAPE(6 * 6 * 64, 384), 0.04f, 0.1f, &b);
        x = sn_relu(g, sn_add(g, sn_matmul(g, x, w, false, false, NULL), b, NULL), "local3");
    }
    SN_WITH_VARIABLE_SCOPE(g, "local4") {
        sn_tensor *w = weights_bias(g, SN_SHAPE(384, 192), 0.04f, 0.1f, &b);
        x = sn_relu(g, sn_add(g, sn_matmul(g, x, w, false, false, NULL), b, NULL), "local4");
    }
    SN_WITH_VARIABLE_SCOPE(g, "softmax_linear") {
        sn_tensor *w = weights_bias(g, SN_SHAPE(192, CLASSES), 1.0f / 192.0f, 0.0f, &b);
        x = sn_add(g, sn_matmul(g, x, w, false, false, NULL), b, "softmax_linear");
    }
    return x;
}

/* Builds the graph with `seed`, optionally loads `checkpoint`, runs the
 * batch; logits go to `logits`. Returns 0 on success. */
static int run(uint64_t seed, const char *save, const char *load, const float *images,
               float *logits) {
    int rc = 1;
    sn_graph *g = sn_graph_create(&(sn_graph_options){.seed = seed});
    sn_tensor *in = sn_placeholder(g, "images", SN_SHAPE(-1, SIZE, SIZE, 3));
    sn_tensor *out = inference(g, in);
    sn_session *s = NULL;
    sn_load_report *report = NULL;
    if (save) sn_graph_save_checkpoint(g, save);
    if (load && sn_graph_load_checkpoint(g, load, true, &report) == SN_OK)
        printf("loaded %zu variables from %s\n", report->loaded, load);
    if (sn_graph_status(g) == SN_OK)
        s = sn_session_create(g, SN_FETCH(out), &(sn_session_options){.max_batch = BATCH});
    if (!s) {
        fprintf(stderr, "error: %s\n", sn_graph_error(g));
        goto done;
    }
    sn_session_stats st;
    sn_session_stats_get(s, &st);
    printf("%zu variables, %zu kernel calls (%zu ops fused), arena %zu bytes, weights %zu bytes\n",
           sn_graph_variable_count(g), st.ops, st.fused, st.arena_bytes, st.packed_bytes);
    sn_feed feed = {in, images, SN_SHAPE(BATCH, SIZE, SIZE, 3)};
    sn_output o;
    if (sn_session_run(s, &feed, 1, &o) != SN_OK) {
        fprintf(stderr, "error: %s\n", sn_session_error(s));
        goto done;
    }
    memcpy(logits, o.data, sizeof(float) * BATCH * CLASSES);
    rc = 0;
done:
    sn_load_report_free(report);
    sn_session_destroy(s);
    sn_graph_destroy(g);
    return rc;
}

/* --weights W --check C: PyTorch's model and its logits for C's images. */
static int check_pytorch(const char *weights, const char *check) {
    static float images[BATCH * SIZE * SIZE * 3];
    float want[BATCH * CLASSES], got[BATCH * CLASSES];
    sn_checkpoint *ck = NULL;
    int64_t ki, kl;
    if (sn_checkpoint_open(check, &ck) != SN_OK || (ki = sn_checkpoint_find(ck, "images")) < 0 ||
        (kl = sn_checkpoint_find(ck, "logits")) < 0 ||
        sn_checkpoint_read_f32(ck, (size_t)ki, images, BATCH * SIZE * SIZE * 3) != SN_OK ||
        sn_checkpoint_read_f32(ck, (size_t)kl, want, BATCH * CLASSES) != SN_OK) {
        fprintf(stderr, "error: %s: %s\n", check,
                ck && *sn_checkpoint_error(ck) ? sn_checkpoint_error(ck)
                                               : "no images [2,24,24,3] and logits [2,10]");
        sn_checkpoint_close(ck);
        return 1;
    }
    sn_checkpoint_close(ck);
    if (run(1, NULL, weights, images, got)) return 1;
    double worst = 0;
    for (int i = 0; i < BATCH * CLASSES; i++) {
        double tol = fmax(1e-5, 1e-4 * fabs(want[i])), diff = fabs((double)got[i] - want[i]);
        if (diff > tol) {
            fprintf(stderr, "check failed: logit %d is %.7g, PyTorch's %.7g\n", i, got[i], want[i]);
            return 1;
        }
        worst = fmax(worst, diff / tol);
    }
    printf("PyTorch's cifar10 through scopenn: %d logits match (worst %.3f of the tolerance)\n",
           BATCH * CLASSES, worst);
    return 0;
}

int main(int argc, char **argv) {
    if (argc == 5 && strcmp(argv[1], "--weights") == 0 && strcmp(argv[3], "--check") == 0)
        return check_pytorch(argv[2], argv[4]);
    const char *path = argc > 1 ? argv[1] : "cifar10.safetensors";
    static float images[BATCH * SIZE * SIZE * 3];
    for (int i = 0; i < BATCH * SIZE * SIZE * 3; i++)
        images[i] = (float)((i * 37) % 101) / 101.0f - 0.5f;
    float trained[BATCH * CLASSES], loaded[BATCH * CLASSES], fresh[BATCH * CLASSES];
    if (run(1, path, NULL, images, trained) || run(2, NULL, path, images, loaded) ||
        run(2, NULL, NULL, images, fresh))
        return 1;
    remove(path);
    int failures = 0;
    for (int n = 0; n < BATCH; n++) {
        printf("image %d logits:", n);
        for (int c = 0; c < CLASSES; c++) printf(" %.4f", loaded[n * CLASSES + c]);
        printf("\n");
    }
    if (memcmp(trained, loaded, sizeof trained) != 0) {
        fprintf(stderr, "check failed: the loaded graph's logits differ from the saved graph's\n");
        failures++;
    }
    if (memcmp(fresh, loaded, sizeof fresh) == 0) {
        fprintf(stderr, "check failed: loading the checkpoint changed nothing\n");
        failures++;
    }
    printf("%s\n", failures
                       ? "FAILED"
                       : "the checkpoint's weights give the saved graph's logits, bit for bit");
    return failures ? 1 : 0;
}
