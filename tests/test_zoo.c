/* The model zoo (models/) against PyTorch: for each model that
 * tests/oracle/zoo_check.py exported into the directory (argv[1]), builds
 * it with sn_model_build on a placeholder of the input's shape, loads the
 * weights strictly (nothing missing, nothing unexpected), runs it on 1 and
 * 2 threads and compares with PyTorch's logits: max |scopenn - torch| <=
 * 1e-4 x max |logit|, and the same top-1 for every image. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scopenn.h"
#include "scopenn_models.h"

static const char *dir;
static int checked;

static float *read_tensor(sn_checkpoint *ck, const char *name, sn_shape *shape) {
    int64_t index = sn_checkpoint_find(ck, name);
    assert_true(index >= 0);
    sn_checkpoint_tensor info;
    assert_int_equal(sn_checkpoint_tensor_info(ck, (size_t)index, &info), SN_OK);
    int64_t count = 1;
    for (int d = 0; d < info.shape.rank; d++) count *= info.shape.dims[d];
    float *data = malloc((size_t)count * sizeof *data);
    assert_non_null(data);
    assert_int_equal(sn_checkpoint_read_f32(ck, (size_t)index, data, count), SN_OK);
    *shape = info.shape;
    return data;
}

static int argmax(const float *v, int64_t n) {
    int best = 0;
    for (int64_t i = 1; i < n; i++)
        if (v[i] > v[best]) best = (int)i;
    return best;
}

static void check_model(const char *name) {
    char weights[1200], check[1200];
    snprintf(weights, sizeof weights, "%s/%s.safetensors", dir, name);
    snprintf(check, sizeof check, "%s/%s-check.safetensors", dir, name);
    FILE *f = fopen(check, "rb");
    if (!f) return; /* not exported: not checked */
    fclose(f);

    sn_checkpoint *ck = NULL;
    assert_int_equal(sn_checkpoint_open(check, &ck), SN_OK);
    sn_shape in_shape, out_shape;
    float *input = read_tensor(ck, "input", &in_shape);
    float *expected = read_tensor(ck, "expected", &out_shape);
    sn_checkpoint_close(ck);
    assert_int_equal(in_shape.rank, 4);
    assert_int_equal(out_shape.rank, 2);
    int64_t batch = out_shape.dims[0], classes = out_shape.dims[1];

    sn_graph *g = sn_graph_create(NULL);
    sn_tensor *x = sn_placeholder(g, "images", in_shape);
    sn_tensor *y = sn_model_build(g, name, x);
    if (!y) fail_msg("%s: %s", name, sn_graph_error(g));
    sn_shape ys = sn_tensor_shape(y);
    assert_int_equal(ys.rank, 2);
    assert_int_equal(ys.dims[1], classes);

    sn_load_report *report = NULL;
    sn_status status = sn_graph_load_checkpoint(g, weights, true, &report);
    assert_non_null(report);
    for (size_t i = 0; i < report->missing_count; i++)
        print_error("%s: missing %s\n", name, report->missing[i]);
    for (size_t i = 0; i < report->unexpected_count; i++)
        print_error("%s: unexpected %s\n", name, report->unexpected[i]);
    if (status != SN_OK) fail_msg("%s: %s", name, sn_graph_error(g));
    assert_int_equal(report->missing_count, 0);
    assert_int_equal(report->unexpected_count, 0);
    assert_int_equal(report->loaded, sn_graph_variable_count(g));
    sn_load_report_free(report);

    /* plain comparisons, not fmax: GCC 12 for aarch64 fails on this
     * loop's vectorized fmax reduction (an internal compiler error) */
    double scale = 0;
    for (int64_t i = 0; i < batch * classes; i++)
        if (fabs(expected[i]) > scale) scale = fabs(expected[i]);
    for (int threads = 1; threads <= 2; threads++) {
        sn_session *s =
            sn_session_create(g, SN_FETCH(y), &(sn_session_options){.threads = threads});
        if (!s) fail_msg("%s: %s", name, sn_graph_error(g));
        sn_output out;
        if (sn_session_run(s, &(sn_feed){x, input, in_shape}, 1, &out) != SN_OK)
            fail_msg("%s: %s", name, sn_session_error(s));
        assert_int_equal(out.shape.rank, 2);
        assert_int_equal(out.shape.dims[0], batch);
        assert_int_equal(out.shape.dims[1], classes);
        double worst = 0;
        for (int64_t i = 0; i < batch * classes; i++) {
            const double d = fabs((double)out.data[i] - expected[i]);
            if (isnan(d)) fail_msg("%s: logit %lld is NaN", name, (long long)i);
            if (d > worst) worst = d;
        }
        print_message("%s (%d thread%s): max |scopenn - torch| %.3g, %.3g of max |logit| %.4g\n",
                      name, threads, threads > 1 ? "s" : "", worst, worst / scale, scale);
        if (!(worst <= 1e-4 * scale))
            fail_msg("%s: max error %.3g above 1e-4 x %.4g", name, worst, scale);
        for (int64_t n = 0; n < batch; n++) {
            int ours = argmax(out.data + n * classes, classes),
                theirs = argmax(expected + n * classes, classes);
            if (ours != theirs)
                fail_msg("%s: image %d: top-1 %d, PyTorch's %d", name, (int)n, ours, theirs);
        }
        sn_session_destroy(s);
    }
    sn_graph_destroy(g);
    free(input);
    free(expected);
    checked++;
}

static void test_models_match_pytorch(void **state) {
    (void)state;
    for (const char *const *name = sn_model_names(); *name; name++) check_model(*name);
    print_message("test_zoo: %d models checked against PyTorch\n", checked);
    assert_true(checked > 0);
}

static void test_unknown_model(void **state) {
    (void)state;
    assert_non_null(sn_model_names()[0]);
    sn_graph *g = sn_graph_create(NULL);
    sn_tensor *x = sn_placeholder(g, "images", SN_SHAPE(1, 64, 64, 3));
    assert_null(sn_model_build(g, "resnet1000", x));
    assert_int_not_equal(sn_graph_status(g), SN_OK);
    assert_non_null(strstr(sn_graph_error(g), "resnet1000"));
    sn_graph_destroy(g);
    g = sn_graph_create(NULL);
    assert_null(sn_model_build(g, NULL, NULL));
    assert_int_not_equal(sn_graph_status(g), SN_OK);
    sn_graph_destroy(g);
}

int main(int argc, char **argv) {
    dir = argc > 1 ? argv[1] : SCOPENN_ZOO_DEFAULT_DIR;
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_unknown_model),
                                       cmocka_unit_test(test_models_match_pytorch)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
