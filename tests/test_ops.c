/* Op builders: TensorFlow's default names and shape inference, and errors
 * that name the op and the shapes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "scopenn.h"

static sn_graph *g;

static int setup(void **state) {
    (void)state;
    g = sn_graph_create(NULL);
    return g ? 0 : -1;
}

static int teardown(void **state) {
    (void)state;
    sn_graph_destroy(g);
    return 0;
}

static void assert_shape(const sn_tensor *t, sn_shape want) {
    if (!t) fail_msg("no tensor: %s", sn_graph_error(g));
    sn_shape s = sn_tensor_shape(t);
    assert_int_equal(s.rank, want.rank);
    for (int i = 0; i < want.rank; i++)
        if (s.dims[i] != want.dims[i])
            fail_msg("%s: dimension %d is %lld, expected %lld", sn_tensor_name(t), i,
                     (long long)s.dims[i], (long long)want.dims[i]);
}

static void expect_mismatch(const char *part) {
    assert_int_equal(sn_graph_status(g), SN_ERR_SHAPE_MISMATCH);
    if (!strstr(sn_graph_error(g), part)) fail_msg("'%s' lacks '%s'", sn_graph_error(g), part);
    sn_graph_clear_error(g);
}

static sn_tensor *filter(int kh, int kw, int ic, int oc) {
    return sn_var(g, sn_get_variable(g, "f", SN_SHAPE(kh, kw, ic, oc), sn_zeros_initializer()));
}

static void test_conv2d_shapes(void **state) {
    (void)state;
    SN_WITH_VARIABLE_SCOPE_REUSE(g, "conv", SN_AUTO_REUSE) {
        sn_tensor *x = sn_placeholder(g, "x", SN_SHAPE(-1, 7, 10, 3));
        sn_tensor *f = filter(3, 3, 3, 8);
        assert_shape(sn_conv2d(g, x, f, SN_STRIDES(1, 1), SN_PADDING_SAME, NULL),
                     SN_SHAPE(-1, 7, 10, 8));
        assert_shape(sn_conv2d(g, x, f, SN_STRIDES(2, 2), SN_PADDING_SAME, NULL),
                     SN_SHAPE(-1, 4, 5, 8));
        assert_shape(sn_conv2d(g, x, f, SN_STRIDES(1, 1), SN_PADDING_VALID, NULL),
                     SN_SHAPE(-1, 5, 8, 8));
        assert_shape(sn_conv2d(g, x, f, SN_STRIDES(2, 3), SN_PADDING_VALID, NULL),
                     SN_SHAPE(-1, 3, 3, 8));
        assert_shape(
            sn_conv2d_dilated(g, x, f, SN_STRIDES(1, 1), SN_PADDING_VALID, SN_HW(2, 2), NULL),
            SN_SHAPE(-1, 3, 6, 8));
        sn_tensor *c = sn_conv2d(g, x, f, SN_STRIDES(1, 1), SN_PADDING_SAME, NULL);
        assert_string_equal(sn_tensor_op_type(c), "Conv2D");
        assert_string_equal(sn_tensor_op_name(c), "conv/Conv2D_5");
        /* channels that do not match: the op and both shapes are named */
        sn_tensor *y = sn_placeholder(g, "y", SN_SHAPE(1, 8, 8, 4));
        assert_null(sn_conv2d(g, y, f, SN_STRIDES(1, 1), SN_PADDING_SAME, NULL));
        expect_mismatch("Conv2D conv/Conv2D_6: input channels 4 do not match the filter's input "
                        "channels 3 (inputs: conv/y:0 (1, 8, 8, 4), conv/f:0 (3, 3, 3, 8))");
        sn_tensor *tiny = sn_placeholder(g, "tiny", SN_SHAPE(1, 2, 2, 3));
        assert_null(sn_conv2d(g, tiny, f, SN_STRIDES(1, 1), SN_PADDING_VALID, NULL));
        expect_mismatch("taller than the input");
        assert_null(sn_conv2d(g, x, f, SN_STRIDES(0, 1), SN_PADDING_SAME, NULL));
        expect_mismatch("strides (0, 1)");
        assert_null(sn_conv2d(g, x, sn_placeholder(g, "v", SN_SHAPE(3, 8)), SN_STRIDES(1, 1),
                              SN_PADDING_SAME, NULL));
        expect_mismatch("filter must have rank 4");
    }
}

static void test_pool_shapes(void **state) {
    (void)state;
    sn_tensor *x = sn_placeholder(g, "px", SN_SHAPE(2, 5, 5, 3));
    sn_tensor *m = sn_max_pool(g, x, SN_HW(3, 3), SN_STRIDES(2, 2), SN_PADDING_SAME, NULL);
    assert_shape(m, SN_SHAPE(2, 3, 3, 3));
    assert_string_equal(sn_tensor_op_type(m), "MaxPool");
    assert_shape(sn_avg_pool(g, x, SN_HW(3, 3), SN_STRIDES(2, 2), SN_PADDING_VALID, NULL),
                 SN_SHAPE(2, 2, 2, 3));
    assert_null(sn_max_pool(g, x, SN_HW(0, 3), SN_STRIDES(1, 1), SN_PADDING_SAME, NULL));
    expect_mismatch("ksize (0, 3)");
}

static void test_matmul_and_friends(void **state) {
    (void)state;
    sn_tensor *a = sn_placeholder(g, "a", SN_SHAPE(-1, 6));
    sn_tensor *w = sn_placeholder(g, "w", SN_SHAPE(6, 4));
    sn_tensor *wt = sn_placeholder(g, "wt", SN_SHAPE(4, 6));
    assert_shape(sn_matmul(g, a, w, false, false, NULL), SN_SHAPE(-1, 4));
    assert_shape(sn_matmul(g, a, wt, false, true, NULL), SN_SHAPE(-1, 4));
    assert_shape(sn_matmul(g, w, wt, true, true, NULL), SN_SHAPE(4, 4));
    assert_null(sn_matmul(g, a, wt, false, false, "mm"));
    expect_mismatch("MatMul mm: inner dimensions 6 and 4 do not match");
    sn_tensor *b = sn_placeholder(g, "b", SN_SHAPE(4));
    sn_tensor *mm = sn_matmul(g, a, w, false, false, NULL);
    assert_shape(sn_bias_add(g, mm, b, NULL), SN_SHAPE(-1, 4));
    assert_null(sn_bias_add(g, a, b, NULL));
    expect_mismatch("bias length 4 does not match the last dimension 6");
    sn_tensor *in[3] = {mm, mm, mm};
    sn_tensor *sum = sn_add_n(g, in, 3, NULL);
    assert_shape(sum, SN_SHAPE(-1, 4));
    assert_string_equal(sn_tensor_op_type(sum), "AddN");
    sn_tensor *bad[2] = {mm, a};
    assert_null(sn_add_n(g, bad, 2, NULL));
    expect_mismatch("input 1 differs from input 0 in dimension 1");
    const char *types[4] = {"Relu6", "Sigmoid", "Tanh", "Softmax"};
    sn_tensor *u[4] = {sn_relu6(g, mm, NULL), sn_sigmoid(g, mm, NULL), sn_tanh(g, mm, NULL),
                       sn_softmax(g, mm, NULL)};
    for (int i = 0; i < 4; i++) {
        assert_shape(u[i], SN_SHAPE(-1, 4));
        assert_string_equal(sn_tensor_op_type(u[i]), types[i]);
        assert_string_equal(sn_tensor_op_name(u[i]), types[i]);
    }
}

static void test_reshape_and_lrn(void **state) {
    (void)state;
    sn_tensor *x = sn_placeholder(g, "rx", SN_SHAPE(2, 3, 4, 5));
    assert_shape(sn_reshape(g, x, SN_SHAPE(2, -1), NULL), SN_SHAPE(2, 60));
    assert_shape(sn_reshape(g, x, SN_SHAPE(-1), NULL), SN_SHAPE(120));
    assert_shape(sn_reshape(g, x, SN_SHAPE(6, 20), NULL), SN_SHAPE(6, 20));
    assert_null(sn_reshape(g, x, SN_SHAPE(7, -1), NULL));
    expect_mismatch("120 elements cannot be reshaped with 7 per -1");
    assert_null(sn_reshape(g, x, SN_SHAPE(-1, -1), NULL));
    expect_mismatch("more than one -1");
    sn_tensor *batch = sn_placeholder(g, "rb", SN_SHAPE(-1, 3, 4, 5));
    assert_shape(sn_reshape(g, batch, SN_SHAPE(-1, 60), NULL), SN_SHAPE(-1, 60));
    sn_tensor *n = sn_lrn(g, x, 4, 1.0f, 0.001f / 9.0f, 0.75f, "norm1");
    assert_shape(n, SN_SHAPE(2, 3, 4, 5));
    assert_string_equal(sn_tensor_op_type(n), "LRN");
    assert_null(sn_lrn(g, sn_placeholder(g, "r2", SN_SHAPE(3, 5)), 4, 1, 1, 1, NULL));
    expect_mismatch("rank 4");
}

/* Mul, Sub and the new activations: TensorFlow's (or PyTorch's) names,
 * broadcasting, and errors that name the op and both shapes. */
static void test_elementwise_builders(void **state) {
    (void)state;
    sn_tensor *x = sn_placeholder(g, "ex", SN_SHAPE(-1, 4, 4, 8));
    sn_tensor *c = sn_placeholder(g, "ec", SN_SHAPE(8));
    sn_tensor *n11c = sn_placeholder(g, "en11c", SN_SHAPE(2, 1, 1, 8));
    sn_tensor *col = sn_placeholder(g, "ecol", SN_SHAPE(2, 4, 4, 1));
    sn_tensor *one = sn_scalar(g, 1.0f, NULL);
    const char *types[6] = {"Mul", "Sub", "Swish", "HardSigmoid", "HardSwish", "LeakyRelu"};
    const char *names[6] = {"mul", "sub", "swish", "hard_sigmoid", "hard_swish", "LeakyRelu"};
    sn_tensor *t[6] = {sn_multiply(g, x, c, NULL), sn_subtract(g, c, x, NULL),
                       sn_swish(g, x, NULL),       sn_hard_sigmoid(g, x, NULL),
                       sn_hard_swish(g, x, NULL),  sn_leaky_relu(g, x, 0.2f, NULL)};
    for (int i = 0; i < 6; i++) {
        assert_shape(t[i], SN_SHAPE(-1, 4, 4, 8));
        assert_string_equal(sn_tensor_op_type(t[i]), types[i]);
        assert_string_equal(sn_tensor_op_name(t[i]), names[i]);
    }
    /* a second one of each: TensorFlow's unique names */
    assert_string_equal(sn_tensor_op_name(sn_multiply(g, x, one, NULL)), "mul_1");
    assert_string_equal(sn_tensor_op_name(sn_subtract(g, one, x, NULL)), "sub_1");
    assert_string_equal(sn_tensor_op_name(sn_leaky_relu(g, x, 0.01f, NULL)), "LeakyRelu_1");
    assert_string_equal(sn_tensor_op_name(sn_hard_swish(g, x, "act")), "act");
    /* broadcasting as sn_add: [N, 1, 1, C] against [N, H, W, 1], a scalar */
    assert_shape(sn_multiply(g, n11c, col, NULL), SN_SHAPE(2, 4, 4, 8));
    assert_shape(sn_subtract(g, col, n11c, NULL), SN_SHAPE(2, 4, 4, 8));
    assert_shape(sn_multiply(g, one, c, NULL), SN_SHAPE(8));
    assert_shape(sn_subtract(g, x, n11c, NULL), SN_SHAPE(2, 4, 4, 8)); /* -1 meets 2 */
    /* shapes that do not broadcast */
    sn_tensor *c5 = sn_placeholder(g, "ec5", SN_SHAPE(5));
    assert_null(sn_multiply(g, x, c5, NULL));
    expect_mismatch("Mul mul_4: the shapes cannot be broadcast together (inputs: ex:0 (?, 4, 4, "
                    "8), ec5:0 (5))");
    assert_null(sn_subtract(g, c5, n11c, "diff"));
    expect_mismatch("Sub diff: the shapes cannot be broadcast together (inputs: ec5:0 (5), "
                    "en11c:0 (2, 1, 1, 8))");
    /* a NULL input; then the error sticks */
    assert_null(sn_subtract(g, x, NULL, NULL));
    assert_int_equal(sn_graph_status(g), SN_ERR_INVALID_ARGUMENT);
    assert_non_null(strstr(sn_graph_error(g), "Sub: input 1 is NULL"));
    assert_null(sn_swish(g, x, NULL));
    assert_null(sn_leaky_relu(g, x, 0.2f, NULL));
    assert_non_null(strstr(sn_graph_error(g), "Sub: input 1 is NULL"));
    sn_graph_clear_error(g);
    assert_null(sn_hard_sigmoid(g, NULL, NULL));
    assert_non_null(strstr(sn_graph_error(g), "HardSigmoid: input 0 is NULL"));
    sn_graph_clear_error(g);
    /* a failed build took no name */
    assert_string_equal(sn_tensor_op_name(sn_multiply(g, x, c, NULL)), "mul_4");
}

static void expect_too_large(const char *part) {
    assert_int_equal(sn_graph_status(g), SN_ERR_INVALID_ARGUMENT);
    if (!strstr(sn_graph_error(g), part) || !strstr(sn_graph_error(g), "too large"))
        fail_msg("'%s' lacks '%s' and 'too large'", sn_graph_error(g), part);
    sn_graph_clear_error(g);
}

/* Shape inference is checked arithmetic: a shape too large to run is
 * refused when built, naming the op and the dimension, never computed
 * with a signed overflow (a [1, INT64_MAX, 1, 1] placeholder through a
 * SAME max_pool of stride 2 inferred a height of about -4.6e18). */
static void test_huge_shapes(void **state) {
    (void)state;
    assert_null(sn_placeholder(g, "huge", SN_SHAPE(1, INT64_MAX, 1, 1)));
    expect_too_large("Placeholder huge: its shape (1, 9223372036854775807, 1, 1) is too large: up "
                     "to dimension 1");
    /* the most elements a tensor may hold: 2^61 - 16 on 64-bit targets,
     * 2^29 - 16 on 32-bit ones */
    const int64_t most = (int64_t)((PTRDIFF_MAX - 63) / 4), root = (int64_t)sqrt((double)most);
    assert_null(sn_placeholder(g, "huge", SN_SHAPE(-1, 2 * root, 2 * root, 4)));
    expect_too_large("up to dimension 2");
    /* the largest sizes that may run still infer exactly */
    sn_tensor *tall = sn_placeholder(g, "tall", SN_SHAPE(1, most, 1, 1));
    assert_shape(tall, SN_SHAPE(1, most, 1, 1));
    assert_shape(sn_max_pool(g, tall, SN_HW(2, 1), SN_STRIDES(2, 1), SN_PADDING_SAME, NULL),
                 SN_SHAPE(1, most / 2 + most % 2, 1, 1));
    assert_shape(
        sn_max_pool(g, tall, SN_HW(INT32_MAX, 1), SN_STRIDES(INT32_MAX, 1), SN_PADDING_SAME, NULL),
        SN_SHAPE(1, (most + INT32_MAX - 1) / INT32_MAX, 1, 1));
    const int dilation = most / 4 < INT32_MAX ? (int)(most / 4) : INT32_MAX;
    assert_shape(sn_conv2d_dilated(g, tall, sn_placeholder(g, "f1", SN_SHAPE(3, 1, 1, 1)),
                                   SN_STRIDES(1, 1), SN_PADDING_VALID, SN_HW(dilation, 1), NULL),
                 SN_SHAPE(1, most - 2 * (int64_t)dilation, 1, 1));
    /* ops whose outputs outgrow their inputs */
    sn_tensor *a = sn_placeholder(g, "ma", SN_SHAPE(2 * root, 4)),
              *b = sn_placeholder(g, "mb", SN_SHAPE(4, 2 * root));
    assert_null(sn_matmul(g, a, b, false, false, "outer"));
    expect_too_large("MatMul outer: its shape (");
    sn_tensor *col = sn_placeholder(g, "col", SN_SHAPE(2 * root, 1)),
              *row = sn_placeholder(g, "row", SN_SHAPE(1, 2 * root));
    assert_null(sn_add(g, col, row, NULL));
    expect_too_large("Add add");
    sn_tensor *img = sn_placeholder(g, "img", SN_SHAPE(-1, root / 2, root / 2, 1));
    assert_null(sn_conv2d(g, img, sn_placeholder(g, "wide", SN_SHAPE(1, 1, 1, 8)), SN_STRIDES(1, 1),
                          SN_PADDING_SAME, "c"));
    expect_too_large("up to dimension 3");
    assert_int_equal(sn_graph_status(g), SN_OK);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_conv2d_shapes),      cmocka_unit_test(test_pool_shapes),
        cmocka_unit_test(test_matmul_and_friends), cmocka_unit_test(test_reshape_and_lrn),
        cmocka_unit_test(test_huge_shapes),        cmocka_unit_test(test_elementwise_builders),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
