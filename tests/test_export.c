/* The PyTorch export path (tools/export_torch.py), checked end to end: the
 * small CNN of tests/oracle/export_check.py built in C under the same
 * scope names, its checkpoint loaded strictly, its output compared with
 * PyTorch's. argv[1]: the directory export_check.py wrote (default: the
 * one ctest's export_torch test writes). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scopenn.h"

static const char *dir;

static sn_tensor *conv_relu(sn_graph *g, sn_tensor *x, int in, int out) {
    sn_variable *w = sn_get_variable(g, "weights", SN_SHAPE(3, 3, in, out), SN_NO_INITIALIZER);
    sn_variable *b = sn_get_variable(g, "biases", SN_SHAPE(out), SN_NO_INITIALIZER);
    return sn_relu(
        g,
        sn_bias_add(g, sn_conv2d(g, x, sn_var(g, w), SN_STRIDES(1, 1), SN_PADDING_SAME, NULL),
                    sn_var(g, b), NULL),
        NULL);
}

static void test_exported_cnn_matches_pytorch(void **state) {
    (void)state;
    char model[1024], check[1024];
    snprintf(model, sizeof model, "%s/model.safetensors", dir);
    snprintf(check, sizeof check, "%s/check.safetensors", dir);

    sn_graph *g = sn_graph_create(NULL);
    sn_tensor *x = sn_placeholder(g, "input", SN_SHAPE(-1, 8, 8, 3)), *y = x;
    SN_WITH_VARIABLE_SCOPE(g, "conv1") y = conv_relu(g, y, 3, 8);
    y = sn_max_pool(g, y, SN_HW(2, 2), SN_STRIDES(2, 2), SN_PADDING_VALID, NULL);
    SN_WITH_VARIABLE_SCOPE(g, "conv2") y = conv_relu(g, y, 8, 16);
    y = sn_reshape(g, y, SN_SHAPE(-1, 4 * 4 * 16), NULL);
    SN_WITH_VARIABLE_SCOPE(g, "fc") {
        sn_variable *w = sn_get_variable(g, "weights", SN_SHAPE(256, 10), SN_NO_INITIALIZER);
        sn_variable *b = sn_get_variable(g, "biases", SN_SHAPE(10), SN_NO_INITIALIZER);
        y = sn_add(g, sn_matmul(g, y, sn_var(g, w), false, false, NULL), sn_var(g, b), NULL);
    }
    /* the BatchNorm's float statistics are in the file under ignored_bn/...:
     * a non-strict load takes what the graph has and reports the rest */
    sn_load_report *report = NULL;
    assert_int_equal(sn_graph_load_checkpoint(g, model, false, &report), SN_OK);
    assert_int_equal(report->loaded, 6);
    assert_int_equal(report->missing_count, 0);
    for (size_t i = 0; i < report->unexpected_count; i++)
        assert_memory_equal(report->unexpected[i], "ignored_bn/", 11);
    sn_load_report_free(report);

    sn_checkpoint *ck = NULL;
    assert_int_equal(sn_checkpoint_open(check, &ck), SN_OK);
    float input[2 * 8 * 8 * 3], expected[2 * 10];
    assert_int_equal(
        sn_checkpoint_read_f32(ck, (size_t)sn_checkpoint_find(ck, "input"), input, 2 * 8 * 8 * 3),
        SN_OK);
    assert_int_equal(
        sn_checkpoint_read_f32(ck, (size_t)sn_checkpoint_find(ck, "expected"), expected, 20),
        SN_OK);
    sn_checkpoint_close(ck);

    sn_session *s = sn_session_create(g, SN_FETCH(y), &(sn_session_options){.max_batch = 2});
    assert_non_null(s);
    sn_output out;
    assert_int_equal(sn_session_run(s, &(sn_feed){x, input, SN_SHAPE(2, 8, 8, 3)}, 1, &out), SN_OK);
    double worst = 0;
    for (int i = 0; i < 20; i++) {
        double diff = fabs((double)out.data[i] - expected[i]),
               tol = fmax(1e-5, 1e-4 * fabs(expected[i]));
        if (diff > tol)
            fail_msg("logit %d: scopenn %.7g, PyTorch %.7g", i, out.data[i], expected[i]);
        worst = fmax(worst, diff / tol);
    }
    print_message("exported CNN: 20 logits match PyTorch; worst at %.3f of the tolerance\n", worst);
    sn_session_destroy(s);
    sn_graph_destroy(g);
}

int main(int argc, char **argv) {
    /* the directory: argv[1], else where ctest's export_torch test left it
     * (so the qemu columns of the matrix rerun it on their CPUs) */
    dir = argc > 1 ? argv[1] : SCOPENN_EXPORT_DEFAULT_DIR;
    char probe[1100];
    snprintf(probe, sizeof probe, "%s/model.safetensors", dir);
    FILE *f = fopen(probe, "rb");
    if (!f) {
        printf("skipped: no exported model in %s (tests/oracle/export_check.py makes one)\n", dir);
        return 0;
    }
    fclose(f);
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_exported_cnn_matches_pytorch)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
