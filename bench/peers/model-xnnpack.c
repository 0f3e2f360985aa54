/* The networks of scopenn's zoo (models/) built from XNNPACK's operator API
 * (Debian's libxnnpack-dev, git 2022-02-16: no subgraph optimizations here,
 * each layer is one operator we create and wire ourselves), as TFLite's
 * XNNPACK delegate would lower them:
 *
 * - a batch norm folded into the convolution before it (scale gamma /
 *   sqrt(variance + epsilon) on the weights, beta - mean scale + bias scale
 *   as the bias), as TFLite's converter does;
 * - relu and relu6 fused as the convolution's (or add's) output clamp;
 *   hard-sigmoid, relu6(x + 3) / 6, too: its / 6 and + 3 / 6 are folded
 *   into the weights and bias, leaving a clamp to [0, 1];
 * - a depthwise convolution as a grouped one (groups c, one channel in and
 *   out each) with XNN_FLAG_DEPTHWISE_CONVOLUTION, whose weight layout
 *   [kh, kw, c] is scopenn's [kh, kw, c, 1];
 * - hard-swish with hardswish_nc, swish as sigmoid_nc then multiply_nd,
 *   squeeze-excitation as global_average_pooling_nwc, two 1x1 convolutions
 *   on the 1x1 map, and multiply_nd broadcasting [n, 1, 1, c];
 * - a concat along the channels without a copy: each part written by the
 *   convolution making it into its channel slice (output_channel_stride);
 *   ShuffleNet's split read the same way (input_channel_stride), its
 *   shuffle with channel_shuffle_nc_x32;
 * - PyTorch's explicit padding as the operators' padding, max pool's
 *   ceil_mode as extra padding at the bottom and right (models/common.c).
 *
 * The builders mirror models/ (each NAME.c) block for block, and take their weights
 * from the variables of a scopenn graph in which the same model was built:
 * they open the same variable scopes, with reuse, and get each variable by
 * name and shape (sn_get_variable), so every name and shape is checked
 * against the zoo's, and a variable left unused is an error. */
#include "model-xnnpack.h"

#include <math.h>
#include <pthreadpool.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xnnpack.h>

#include "scopenn_models.h"

/* PyTorch's BatchNorm2d default; MobileNetV3's is 0.001 (models/). */
#define BN_EPSILON 1e-5f

/* PyTorch's activations, as models/common.h names them. */
typedef enum activation {
    LINEAR,
    RELU,
    RELU6,
    HARD_SWISH,
    SWISH,
    SIGMOID,
    HARD_SIGMOID
} activation;

/* An NHWC tensor in one of the model's buffers, or a channel slice of one
 * (a part of a concat): `stride` floats from a pixel to the next. data is
 * NULL after an error. */
struct xt {
    float *data;
    size_t n, h, w, c, stride;
};

struct xnn_model {
    pthreadpool_t pool;
    xnn_operator_t *ops;
    size_t op_count, op_capacity;
    float **buffers;
    size_t buffer_count, buffer_capacity;
    struct xt input, output;
    /* while building: the graph holding the weights, which of its
     * variables were used, the first error */
    sn_graph *graph;
    unsigned char *used;
    size_t variable_count;
    int failed;
    char err[512];
};

static const struct xt failed_tensor = {0};

/* Records the first error, with the variable scope it happened in. */
static struct xt fail(struct xnn_model *m, const char *format, ...) {
    if (m->failed) return failed_tensor;
    m->failed = 1;
    va_list ap;
    va_start(ap, format);
    int len = vsnprintf(m->err, sizeof m->err, format, ap);
    va_end(ap);
    const char *scope = m->graph ? sn_scope_name(sn_current_scope(m->graph)) : "";
    if (len >= 0 && (size_t)len < sizeof m->err && scope && *scope)
        snprintf(m->err + len, sizeof m->err - (size_t)len, " (in %s)", scope);
    return failed_tensor;
}

/* 1 if `status` is success, else 0 after recording that `what` failed. */
static int check(struct xnn_model *m, enum xnn_status status, const char *what) {
    if (status == xnn_status_success) return 1;
    fail(m, "%s failed (xnn_status %d)", what, (int)status);
    return 0;
}

/* Keeps the operator *op that `what` created with `status` (a pointer:
 * the call creating it is an argument beside it): 1, or 0 on an error. */
static int keep(struct xnn_model *m, enum xnn_status status, xnn_operator_t *created,
                const char *what) {
    xnn_operator_t op = *created;
    if (!check(m, status, what)) return 0;
    if (m->op_count == m->op_capacity) {
        size_t capacity = m->op_capacity ? 2 * m->op_capacity : 64;
        xnn_operator_t *grown = realloc(m->ops, capacity * sizeof *grown);
        if (!grown) {
            xnn_delete_operator(op);
            fail(m, "out of memory");
            return 0;
        }
        m->ops = grown, m->op_capacity = capacity;
    }
    m->ops[m->op_count++] = op;
    return 1;
}

/* A new zeroed buffer for [n, h, w, c], with 64 bytes more readable past
 * its end (XNNPACK reads up to XNN_EXTRA_BYTES past an input). */
static struct xt tensor(struct xnn_model *m, size_t n, size_t h, size_t w, size_t c) {
    if (m->failed) return failed_tensor;
    if (m->buffer_count == m->buffer_capacity) {
        size_t capacity = m->buffer_capacity ? 2 * m->buffer_capacity : 64;
        float **grown = realloc(m->buffers, capacity * sizeof *grown);
        if (!grown) return fail(m, "out of memory");
        m->buffers = grown, m->buffer_capacity = capacity;
    }
    size_t bytes = (n * h * w * c * sizeof(float) + 64 + 63) / 64 * 64;
    float *data = aligned_alloc(64, bytes);
    if (!data) return fail(m, "out of memory");
    memset(data, 0, bytes);
    m->buffers[m->buffer_count++] = data;
    return (struct xt){data, n, h, w, c, c};
}

/* Channels [first, first + count) of x. */
static struct xt slice(struct xt x, size_t first, size_t count) {
    if (!x.data) return x;
    x.data += first, x.c = count;
    return x;
}

/* The value of variable `name` of the current scope, checked to have
 * `shape`; NULL after an error. */
static const float *variable(struct xnn_model *m, const char *name, sn_shape shape) {
    if (m->failed) return NULL;
    sn_variable *v = sn_get_variable(m->graph, name, shape, SN_NO_INITIALIZER);
    if (!v) {
        fail(m, "variable %s: %s", name, sn_graph_error(m->graph));
        return NULL;
    }
    uint64_t id = sn_variable_id(v);
    if (id < m->variable_count) m->used[id] = 1;
    return sn_variable_value(v);
}

#define SCOPE(m, name) SN_WITH_VARIABLE_SCOPE((m)->graph, name)

static const char *index_name(char buf[16], int index) {
    snprintf(buf, 16, "%d", index);
    return buf;
}

/* torchvision's _make_divisible (models/common.c). */
static int64_t make_divisible(double v, int divisor) {
    int64_t rounded = (int64_t)(v + divisor / 2.0) / divisor * divisor;
    if (rounded < divisor) rounded = divisor;
    return rounded < 0.9 * v ? rounded + divisor : rounded;
}

/* The clamp an operator's output gets for `a`: the activation itself for
 * relu and relu6, [0, 1] for a hard-sigmoid whose arithmetic was folded
 * into the weights, none for the others (done by operators after). */
static void clamp_of(activation a, float *lo, float *hi) {
    *lo = a == RELU || a == RELU6 || a == HARD_SIGMOID ? 0.0f : -INFINITY;
    *hi = a == RELU6 ? 6.0f : a == HARD_SIGMOID ? 1.0f : INFINITY;
}

/* x * y, y broadcast over the height and width ([n, 1, 1, c]) or not;
 * neither may be a slice. */
static struct xt multiply(struct xnn_model *m, struct xt x, struct xt y) {
    if (m->failed) return failed_tensor;
    if (x.stride != x.c || y.stride != y.c) return fail(m, "multiply: a channel slice");
    struct xt z = tensor(m, x.n, x.h, x.w, x.c);
    xnn_operator_t op = NULL;
    if (!keep(m, xnn_create_multiply_nd_f32(-INFINITY, INFINITY, 0, &op), &op,
              "xnn_create_multiply_nd_f32"))
        return failed_tensor;
    const size_t xs[4] = {x.n, x.h, x.w, x.c}, ys[4] = {y.n, y.h, y.w, y.c};
    if (!check(m, xnn_setup_multiply_nd_f32(op, 4, xs, 4, ys, x.data, y.data, z.data, m->pool),
               "xnn_setup_multiply_nd_f32"))
        return failed_tensor;
    return z;
}

/* x + y, then the clamp of `a` (relu). */
static struct xt add(struct xnn_model *m, struct xt x, struct xt y, activation a) {
    if (m->failed) return failed_tensor;
    if (x.stride != x.c || y.stride != y.c) return fail(m, "add: a channel slice");
    struct xt z = tensor(m, x.n, x.h, x.w, x.c);
    float lo, hi;
    clamp_of(a, &lo, &hi);
    xnn_operator_t op = NULL;
    if (!keep(m, xnn_create_add_nd_f32(lo, hi, 0, &op), &op, "xnn_create_add_nd_f32"))
        return failed_tensor;
    const size_t s[4] = {x.n, x.h, x.w, x.c};
    if (!check(m, xnn_setup_add_nd_f32(op, 4, s, 4, s, x.data, y.data, z.data, m->pool),
               "xnn_setup_add_nd_f32"))
        return failed_tensor;
    return z;
}

/* hard-swish, sigmoid or swish of x, whose clamp is already applied (the
 * others are only that clamp). */
static struct xt activate(struct xnn_model *m, struct xt x, activation a) {
    if (m->failed || (a != HARD_SWISH && a != SIGMOID && a != SWISH)) return x;
    struct xt y = tensor(m, x.n, x.h, x.w, x.c);
    if (m->failed) return failed_tensor;
    xnn_operator_t op = NULL;
    const size_t pixels = x.n * x.h * x.w;
    if (a == HARD_SWISH) {
        if (!keep(m, xnn_create_hardswish_nc_f32(x.c, x.stride, y.c, 0, &op), &op,
                  "xnn_create_hardswish_nc_f32") ||
            !check(m, xnn_setup_hardswish_nc_f32(op, pixels, x.data, y.data, m->pool),
                   "xnn_setup_hardswish_nc_f32"))
            return failed_tensor;
        return y;
    }
    if (!keep(m, xnn_create_sigmoid_nc_f32(x.c, x.stride, y.c, 0, &op), &op,
              "xnn_create_sigmoid_nc_f32") ||
        !check(m, xnn_setup_sigmoid_nc_f32(op, pixels, x.data, y.data, m->pool),
               "xnn_setup_sigmoid_nc_f32"))
        return failed_tensor;
    return a == SWISH ? multiply(m, x, y) : y; /* swish: x sigmoid(x) */
}

/* A convolution, k x k (stride, padding `pad` on every side), to `out`
 * channels (depthwise: x's), its weights (HWIO; depthwise [k, k, c, 1])
 * and biases (if `bias`) in scope `conv` (the current one if NULL), then
 * the batch norm in scope `bn` (if not NULL; epsilon `eps`), then
 * activation `a`. Into `into` (a slice of a concat) if it is not NULL,
 * else into a new tensor. */
static struct xt conv_into(struct xnn_model *m, struct xt x, const char *conv, const char *bn,
                           int k, int64_t out, int stride, int pad, bool depthwise, bool bias,
                           activation a, float eps, const struct xt *into) {
    if (m->failed) return failed_tensor;
    const size_t in = x.c, oc = depthwise ? x.c : (size_t)out, taps = (size_t)k * (size_t)k;
    const float *w = NULL, *b = NULL, *gamma = NULL, *beta = NULL, *mean = NULL, *var = NULL;
    const sn_shape ws =
        depthwise ? SN_SHAPE(k, k, (int64_t)in, 1) : SN_SHAPE(k, k, (int64_t)in, (int64_t)oc);
    if (conv) {
        SCOPE(m, conv) {
            w = variable(m, "weights", ws);
            if (bias) b = variable(m, "biases", SN_SHAPE((int64_t)oc));
        }
    } else {
        w = variable(m, "weights", ws);
        if (bias) b = variable(m, "biases", SN_SHAPE((int64_t)oc));
    }
    if (bn) SCOPE(m, bn) {
            gamma = variable(m, "gamma", SN_SHAPE((int64_t)oc));
            beta = variable(m, "beta", SN_SHAPE((int64_t)oc));
            mean = variable(m, "moving_mean", SN_SHAPE((int64_t)oc));
            var = variable(m, "moving_variance", SN_SHAPE((int64_t)oc));
        }
    if (m->failed) return failed_tensor;
    const size_t oh = (x.h + 2 * (size_t)pad - (size_t)k) / (size_t)stride + 1;
    const size_t ow = (x.w + 2 * (size_t)pad - (size_t)k) / (size_t)stride + 1;
    if (x.h + 2 * (size_t)pad < (size_t)k || x.w + 2 * (size_t)pad < (size_t)k)
        return fail(m, "a %dx%d convolution on a %zux%zu map: the image is too small", k, k, x.h,
                    x.w);
    if (into && (a == HARD_SWISH || a == SIGMOID || a == SWISH))
        return fail(m, "an activation operator into a concat: not supported");
    struct xt y = into ? *into : tensor(m, x.n, oh, ow, oc);
    if (m->failed) return failed_tensor;
    if (y.n != x.n || y.h != oh || y.w != ow || y.c != oc)
        return fail(m, "convolution: the output slice is not [%zu, %zu, %zu, %zu]", x.n, oh, ow,
                    oc);
    float *packed = malloc((taps * in * oc + oc) * sizeof *packed), *shift = NULL;
    if (!packed) return fail(m, "out of memory");
    shift = packed + taps * in * oc;
    /* y = scale (conv + bias - mean) + beta, per output channel; hard-sigmoid
     * relu6(y + 3) / 6 = clamp(y / 6 + 1 / 2, 0, 1). */
    for (size_t o = 0; o < oc; o++) {
        double scale = bn ? (double)gamma[o] / sqrt((double)var[o] + (double)eps) : 1.0;
        double s = (b ? (double)b[o] : 0.0) * scale;
        if (bn) s += (double)beta[o] - (double)mean[o] * scale;
        if (a == HARD_SIGMOID) scale /= 6, s = s / 6 + 0.5;
        shift[o] = (float)s;
        if (depthwise) {
            /* [kh, kw, c]: scopenn's layout, XNN_FLAG_DEPTHWISE_CONVOLUTION's */
            for (size_t t = 0; t < taps; t++)
                packed[t * oc + o] = (float)((double)w[t * oc + o] * scale);
        } else {
            /* OHWI [oc][kh][kw][ic], from HWIO [kh][kw][ic][oc] */
            for (size_t t = 0; t < taps; t++)
                for (size_t i = 0; i < in; i++)
                    packed[(o * taps + t) * in + i] =
                        (float)((double)w[(t * in + i) * oc + o] * scale);
        }
    }
    float lo, hi;
    clamp_of(a, &lo, &hi);
    xnn_operator_t op = NULL;
    const uint32_t p = (uint32_t)pad, kk = (uint32_t)k, s = (uint32_t)stride;
    enum xnn_status status = xnn_create_convolution2d_nhwc_f32(
        p, p, p, p, kk, kk, s, s, 1, 1, depthwise ? (uint32_t)in : 1, depthwise ? 1 : in,
        depthwise ? 1 : oc, x.stride, y.stride, packed, shift, lo, hi,
        depthwise ? XNN_FLAG_DEPTHWISE_CONVOLUTION : 0, &op);
    free(packed); /* packed by XNNPACK */
    if (!keep(m, status, &op, "xnn_create_convolution2d_nhwc_f32") ||
        !check(m, xnn_setup_convolution2d_nhwc_f32(op, x.n, x.h, x.w, x.data, y.data, m->pool),
               "xnn_setup_convolution2d_nhwc_f32"))
        return failed_tensor;
    return activate(m, y, a);
}

/* snm_conv_bn (models/common.h): conv `conv` + batch norm `bn` + `a`. */
static struct xt conv_bn(struct xnn_model *m, struct xt x, const char *conv, const char *bn, int k,
                         int64_t out, int stride, int pad, bool depthwise, activation a) {
    return conv_into(m, x, conv, bn, k, out, stride, pad, depthwise, false, a, BN_EPSILON, NULL);
}

/* snm_conv_norm_activation: torchvision's Conv2dNormActivation, "0" and "1". */
static struct xt conv_norm_activation(struct xnn_model *m, struct xt x, int k, int64_t out,
                                      int stride, bool depthwise, activation a, float eps) {
    return conv_into(m, x, "0", "1", k, out, stride, (k - 1) / 2, depthwise, false, a, eps, NULL);
}

/* The mean over the height and width: [n, h, w, c] -> [n, 1, 1, c]. */
static struct xt global_avg_pool(struct xnn_model *m, struct xt x) {
    struct xt y = tensor(m, x.n, 1, 1, x.c);
    if (m->failed) return failed_tensor;
    xnn_operator_t op = NULL;
    if (!keep(m,
              xnn_create_global_average_pooling_nwc_f32(x.c, x.stride, y.c, -INFINITY, INFINITY, 0,
                                                        &op),
              &op, "xnn_create_global_average_pooling_nwc_f32") ||
        !check(
            m,
            xnn_setup_global_average_pooling_nwc_f32(op, x.n, x.h * x.w, x.data, y.data, m->pool),
            "xnn_setup_global_average_pooling_nwc_f32"))
        return failed_tensor;
    return y;
}

/* PyTorch's pooled size along one axis, and the padding after that gives
 * it with floor division (models/common.c's pool_extra). */
static int pool_extra(int64_t size, int k, int stride, int pad, bool ceil_mode) {
    if (!ceil_mode || size < 0) return pad;
    int64_t span = size + 2 * pad - k;
    if (span < 0) return pad;
    int64_t out = (span + stride - 1) / stride + 1;
    if ((out - 1) * stride >= size + pad) out--;
    return (int)((out - 1) * stride + k - size - pad);
}

/* nn.MaxPool2d(k, stride, pad, ceil_mode): ceil_mode's extra rows and
 * columns as padding at the bottom and right (max pooling skips padding). */
static struct xt max_pool(struct xnn_model *m, struct xt x, int k, int stride, int pad,
                          bool ceil_mode) {
    if (m->failed) return failed_tensor;
    int bottom = pool_extra((int64_t)x.h, k, stride, pad, ceil_mode);
    int right = pool_extra((int64_t)x.w, k, stride, pad, ceil_mode);
    if (bottom < pad) bottom = pad;
    if (right < pad) right = pad;
    if (x.h + (size_t)(pad + bottom) < (size_t)k || x.w + (size_t)(pad + right) < (size_t)k)
        return fail(m, "a %dx%d max pool on a %zux%zu map: the image is too small", k, k, x.h, x.w);
    const size_t oh = (x.h + (size_t)(pad + bottom) - (size_t)k) / (size_t)stride + 1;
    const size_t ow = (x.w + (size_t)(pad + right) - (size_t)k) / (size_t)stride + 1;
    struct xt y = tensor(m, x.n, oh, ow, x.c);
    if (m->failed) return failed_tensor;
    xnn_operator_t op = NULL;
    const uint32_t p = (uint32_t)pad, kk = (uint32_t)k, s = (uint32_t)stride;
    if (!keep(m,
              xnn_create_max_pooling2d_nhwc_f32(p, (uint32_t)right, (uint32_t)bottom, p, kk, kk, s,
                                                s, 1, 1, x.c, x.stride, y.c, -INFINITY, INFINITY, 0,
                                                &op),
              &op, "xnn_create_max_pooling2d_nhwc_f32") ||
        !check(m, xnn_setup_max_pooling2d_nhwc_f32(op, x.n, x.h, x.w, x.data, y.data, m->pool),
               "xnn_setup_max_pooling2d_nhwc_f32"))
        return failed_tensor;
    return y;
}

/* nn.Linear(in, out) on [n, 1, 1, in] in the current scope (weights
 * [in, out]: XNNPACK's transposed layout), then `a`. */
static struct xt linear(struct xnn_model *m, struct xt x, int64_t out, activation a) {
    const float *w = variable(m, "weights", SN_SHAPE((int64_t)x.c, out));
    const float *b = variable(m, "biases", SN_SHAPE(out));
    struct xt y = tensor(m, x.n, 1, 1, (size_t)out);
    if (m->failed) return failed_tensor;
    if (x.h != 1 || x.w != 1) return fail(m, "linear: not a [n, 1, 1, c] input");
    float lo, hi;
    clamp_of(a, &lo, &hi);
    xnn_operator_t op = NULL;
    if (!keep(m,
              xnn_create_fully_connected_nc_f32(x.c, y.c, x.stride, y.c, w, b, lo, hi,
                                                XNN_FLAG_TRANSPOSE_WEIGHTS, &op),
              &op, "xnn_create_fully_connected_nc_f32") ||
        !check(m, xnn_setup_fully_connected_nc_f32(op, x.n, x.data, y.data, m->pool),
               "xnn_setup_fully_connected_nc_f32"))
        return failed_tensor;
    return activate(m, y, a);
}

/* channel_shuffle(x, groups): channel j of the result is channel
 * (j % groups) * (c / groups) + j / groups of x. */
static struct xt channel_shuffle(struct xnn_model *m, struct xt x, size_t groups) {
    struct xt y = tensor(m, x.n, x.h, x.w, x.c);
    if (m->failed) return failed_tensor;
    xnn_operator_t op = NULL;
    if (!keep(m, xnn_create_channel_shuffle_nc_x32(groups, x.c / groups, x.stride, y.c, 0, &op),
              &op, "xnn_create_channel_shuffle_nc_x32") ||
        !check(m, xnn_setup_channel_shuffle_nc_x32(op, x.n * x.h * x.w, x.data, y.data, m->pool),
               "xnn_setup_channel_shuffle_nc_x32"))
        return failed_tensor;
    return y;
}

/* ---- the blocks of models/common.c ---- */

/* snm_squeeze_excitation: x times scale_a(fc2(a(fc1(mean of x)))), fc1
 * and fc2 1x1 convs with biases (on the 1x1 map: matrix-vector products). */
static struct xt squeeze_excitation(struct xnn_model *m, struct xt x, int64_t squeeze, activation a,
                                    activation scale_a) {
    struct xt s = global_avg_pool(m, x);
    SCOPE(m, "fc1") s = conv_into(m, s, NULL, NULL, 1, squeeze, 1, 0, false, true, a, 0, NULL);
    SCOPE(m, "fc2") {
        s = conv_into(m, s, NULL, NULL, 1, (int64_t)x.c, 1, 0, false, true, scale_a, 0, NULL);
    }
    return multiply(m, x, s);
}

struct inverted_residual_config {
    int kernel, stride;
    int64_t expanded, out;
    activation act;
    int64_t squeeze; /* 0: no squeeze-excitation */
    activation se_act, se_scale_act;
    float eps;
};

/* snm_inverted_residual: MobileNetV3's InvertedResidual, EfficientNet's
 * MBConv. */
static struct xt inverted_residual(struct xnn_model *m, struct xt x,
                                   const struct inverted_residual_config *c) {
    const size_t in = x.c;
    int i = 0;
    char index[16];
    struct xt y = x;
    SCOPE(m, "block") {
        if (c->expanded != (int64_t)in) SCOPE(m, index_name(index, i++)) {
                y = conv_norm_activation(m, y, 1, c->expanded, 1, false, c->act, c->eps);
            }
        SCOPE(m, index_name(index, i++)) {
            y = conv_norm_activation(m, y, c->kernel, c->expanded, c->stride, true, c->act, c->eps);
        }
        if (c->squeeze > 0) SCOPE(m, index_name(index, i++)) {
                y = squeeze_excitation(m, y, c->squeeze, c->se_act, c->se_scale_act);
            }
        SCOPE(m, index_name(index, i)) {
            y = conv_norm_activation(m, y, 1, c->out, 1, false, LINEAR, c->eps);
        }
    }
    return c->stride == 1 && (int64_t)in == c->out ? add(m, x, y, LINEAR) : y;
}

/* ---- models/resnet/resnet.c ---- */

static struct xt basic_block(struct xnn_model *m, struct xt x, int64_t planes, int stride) {
    struct xt y = conv_bn(m, x, "conv1", "bn1", 3, planes, stride, 1, false, RELU);
    y = conv_bn(m, y, "conv2", "bn2", 3, planes, 1, 1, false, LINEAR);
    if (stride != 1 || (int64_t)x.c != planes) SCOPE(m, "downsample") {
            x = conv_bn(m, x, "0", "1", 1, planes, stride, 0, false, LINEAR);
        }
    return add(m, y, x, RELU);
}

static struct xt bottleneck(struct xnn_model *m, struct xt x, int64_t planes, int stride) {
    struct xt y = conv_bn(m, x, "conv1", "bn1", 1, planes, 1, 0, false, RELU);
    y = conv_bn(m, y, "conv2", "bn2", 3, planes, stride, 1, false, RELU);
    y = conv_bn(m, y, "conv3", "bn3", 1, 4 * planes, 1, 0, false, LINEAR);
    if (stride != 1 || (int64_t)x.c != 4 * planes) SCOPE(m, "downsample") {
            x = conv_bn(m, x, "0", "1", 1, 4 * planes, stride, 0, false, LINEAR);
        }
    return add(m, y, x, RELU);
}

static struct xt resnet(struct xnn_model *m, struct xt x, const int blocks[4],
                        bool use_bottleneck) {
    static const char *const layers[4] = {"layer1", "layer2", "layer3", "layer4"};
    x = conv_bn(m, x, "conv1", "bn1", 7, 64, 2, 3, false, RELU);
    x = max_pool(m, x, 3, 2, 1, false);
    for (int l = 0; l < 4; l++) {
        SCOPE(m, layers[l]) {
            for (int b = 0; b < blocks[l]; b++) {
                char index[16];
                int stride = (l > 0 && b == 0) ? 2 : 1;
                SCOPE(m, index_name(index, b)) {
                    x = use_bottleneck ? bottleneck(m, x, 64 << l, stride)
                                       : basic_block(m, x, 64 << l, stride);
                }
            }
        }
    }
    x = global_avg_pool(m, x);
    SCOPE(m, "fc") x = linear(m, x, 1000, LINEAR);
    return x;
}

static struct xt resnet18(struct xnn_model *m, struct xt x) {
    return resnet(m, x, (const int[4]){2, 2, 2, 2}, false);
}

static struct xt resnet50(struct xnn_model *m, struct xt x) {
    return resnet(m, x, (const int[4]){3, 4, 6, 3}, true);
}

/* ---- models/mobilenet_v2/mobilenet_v2.c ---- */

static struct xt mobilenet_v2_block(struct xnn_model *m, struct xt x, int64_t out, int stride,
                                    int expand) {
    const int64_t in = (int64_t)x.c, hidden = in * expand;
    int i = 0;
    char index[16], bn[16];
    struct xt y = x;
    SCOPE(m, "conv") {
        if (expand != 1) SCOPE(m, index_name(index, i++)) {
                y = conv_bn(m, y, "0", "1", 1, hidden, 1, 0, false, RELU6);
            }
        SCOPE(m, index_name(index, i++)) {
            y = conv_bn(m, y, "0", "1", 3, hidden, stride, 1, true, RELU6);
        }
        y = conv_bn(m, y, index_name(index, i), index_name(bn, i + 1), 1, out, 1, 0, false, LINEAR);
    }
    return stride == 1 && in == out ? add(m, x, y, LINEAR) : y;
}

static struct xt mobilenet_v2(struct xnn_model *m, struct xt x) {
    static const int settings[7][4] = {{1, 16, 1, 1}, {6, 24, 2, 2},  {6, 32, 3, 2}, {6, 64, 4, 2},
                                       {6, 96, 3, 1}, {6, 160, 3, 2}, {6, 320, 1, 1}};
    int feature = 0;
    char index[16];
    SCOPE(m, "features") {
        SCOPE(m, index_name(index, feature++)) {
            x = conv_bn(m, x, "0", "1", 3, 32, 2, 1, false, RELU6);
        }
        for (int s = 0; s < 7; s++)
            for (int b = 0; b < settings[s][2]; b++) SCOPE(m, index_name(index, feature++)) {
                    x = mobilenet_v2_block(m, x, settings[s][1], b == 0 ? settings[s][3] : 1,
                                           settings[s][0]);
                }
        SCOPE(m, index_name(index, feature++)) {
            x = conv_bn(m, x, "0", "1", 1, 1280, 1, 0, false, RELU6);
        }
    }
    x = global_avg_pool(m, x);
    SCOPE(m, "classifier") { SCOPE(m, "1") x = linear(m, x, 1000, LINEAR); }
    return x;
}

/* ---- models/mobilenet_v3/mobilenet_v3.c ---- */

#define MOBILENET_V3_EPSILON 0.001f

struct bneck {
    int kernel;
    int64_t expanded, out;
    bool se;
    activation act;
    int stride;
};

static const struct bneck mobilenet_v3_large_blocks[] = {
    {3, 16, 16, false, RELU, 1},        {3, 64, 24, false, RELU, 2},
    {3, 72, 24, false, RELU, 1},        {5, 72, 40, true, RELU, 2},
    {5, 120, 40, true, RELU, 1},        {5, 120, 40, true, RELU, 1},
    {3, 240, 80, false, HARD_SWISH, 2}, {3, 200, 80, false, HARD_SWISH, 1},
    {3, 184, 80, false, HARD_SWISH, 1}, {3, 184, 80, false, HARD_SWISH, 1},
    {3, 480, 112, true, HARD_SWISH, 1}, {3, 672, 112, true, HARD_SWISH, 1},
    {5, 672, 160, true, HARD_SWISH, 2}, {5, 960, 160, true, HARD_SWISH, 1},
    {5, 960, 160, true, HARD_SWISH, 1},
};

static const struct bneck mobilenet_v3_small_blocks[] = {
    {3, 16, 16, true, RELU, 2},        {3, 72, 24, false, RELU, 2},
    {3, 88, 24, false, RELU, 1},       {5, 96, 40, true, HARD_SWISH, 2},
    {5, 240, 40, true, HARD_SWISH, 1}, {5, 240, 40, true, HARD_SWISH, 1},
    {5, 120, 48, true, HARD_SWISH, 1}, {5, 144, 48, true, HARD_SWISH, 1},
    {5, 288, 96, true, HARD_SWISH, 2}, {5, 576, 96, true, HARD_SWISH, 1},
    {5, 576, 96, true, HARD_SWISH, 1},
};

static struct xt mobilenet_v3(struct xnn_model *m, struct xt x, const struct bneck *blocks,
                              int count, int64_t last_channel) {
    int feature = 0;
    char index[16];
    SCOPE(m, "features") {
        SCOPE(m, index_name(index, feature++)) {
            x = conv_norm_activation(m, x, 3, 16, 2, false, HARD_SWISH, MOBILENET_V3_EPSILON);
        }
        for (int b = 0; b < count; b++) {
            const struct bneck *c = &blocks[b];
            const struct inverted_residual_config config = {
                .kernel = c->kernel,
                .stride = c->stride,
                .expanded = c->expanded,
                .out = c->out,
                .act = c->act,
                .squeeze = c->se ? make_divisible((double)(c->expanded / 4), 8) : 0,
                .se_act = RELU,
                .se_scale_act = HARD_SIGMOID,
                .eps = MOBILENET_V3_EPSILON,
            };
            SCOPE(m, index_name(index, feature++)) x = inverted_residual(m, x, &config);
        }
        SCOPE(m, index_name(index, feature++)) {
            x = conv_norm_activation(m, x, 1, 6 * blocks[count - 1].out, 1, false, HARD_SWISH,
                                     MOBILENET_V3_EPSILON);
        }
    }
    x = global_avg_pool(m, x);
    SCOPE(m, "classifier") {
        SCOPE(m, "0") x = linear(m, x, last_channel, HARD_SWISH);
        SCOPE(m, "3") x = linear(m, x, 1000, LINEAR);
    }
    return x;
}

static struct xt mobilenet_v3_large(struct xnn_model *m, struct xt x) {
    return mobilenet_v3(m, x, mobilenet_v3_large_blocks,
                        (int)(sizeof mobilenet_v3_large_blocks / sizeof *mobilenet_v3_large_blocks),
                        1280);
}

static struct xt mobilenet_v3_small(struct xnn_model *m, struct xt x) {
    return mobilenet_v3(m, x, mobilenet_v3_small_blocks,
                        (int)(sizeof mobilenet_v3_small_blocks / sizeof *mobilenet_v3_small_blocks),
                        1024);
}

/* ---- models/efficientnet/efficientnet.c ---- */

static struct xt efficientnet_b0(struct xnn_model *m, struct xt x) {
    static const int stages[7][6] = {
        {1, 3, 1, 32, 16, 1},  {6, 3, 2, 16, 24, 2},   {6, 5, 2, 24, 40, 2},  {6, 3, 2, 40, 80, 3},
        {6, 5, 1, 80, 112, 3}, {6, 5, 2, 112, 192, 4}, {6, 3, 1, 192, 320, 1}};
    int feature = 0;
    char index[16], block[16];
    SCOPE(m, "features") {
        SCOPE(m, index_name(index, feature++)) {
            x = conv_norm_activation(m, x, 3, stages[0][3], 2, false, SWISH, BN_EPSILON);
        }
        for (int s = 0; s < 7; s++) SCOPE(m, index_name(index, feature++)) {
                for (int b = 0; b < stages[s][5]; b++) {
                    int64_t in = b == 0 ? stages[s][3] : stages[s][4];
                    const struct inverted_residual_config config = {
                        .kernel = stages[s][1],
                        .stride = b == 0 ? stages[s][2] : 1,
                        .expanded = make_divisible((double)(in * stages[s][0]), 8),
                        .out = stages[s][4],
                        .act = SWISH,
                        .squeeze = in / 4 > 1 ? in / 4 : 1,
                        .se_act = SWISH,
                        .se_scale_act = SIGMOID,
                        .eps = BN_EPSILON,
                    };
                    SCOPE(m, index_name(block, b)) x = inverted_residual(m, x, &config);
                }
            }
        SCOPE(m, index_name(index, feature++)) {
            x = conv_norm_activation(m, x, 1, 4 * stages[6][4], 1, false, SWISH, BN_EPSILON);
        }
    }
    x = global_avg_pool(m, x);
    SCOPE(m, "classifier") { SCOPE(m, "1") x = linear(m, x, 1000, LINEAR); }
    return x;
}

/* ---- models/squeezenet/squeezenet.c ---- */

/* A conv with biases + relu in scope `scope`, into `into` if not NULL. */
static struct xt conv_relu(struct xnn_model *m, struct xt x, const char *scope, int k, int64_t out,
                           int pad, const struct xt *into) {
    return conv_into(m, x, scope, NULL, k, out, 1, pad, false, true, RELU, 0, into);
}

/* Fire: squeeze, then expand1x1 and expand3x3 written straight into their
 * halves of the concat. */
static struct xt fire(struct xnn_model *m, struct xt x, int64_t squeeze, int64_t expand) {
    x = conv_relu(m, x, "squeeze", 1, squeeze, 0, NULL);
    struct xt cat = tensor(m, x.n, x.h, x.w, 2 * (size_t)expand);
    struct xt parts[2] = {slice(cat, 0, (size_t)expand),
                          slice(cat, (size_t)expand, (size_t)expand)};
    conv_relu(m, x, "expand1x1", 1, expand, 0, &parts[0]);
    conv_relu(m, x, "expand3x3", 3, expand, 1, &parts[1]);
    return m->failed ? failed_tensor : cat;
}

static struct xt squeezenet1_1(struct xnn_model *m, struct xt x) {
    static const int fires[8][3] = {{3, 16, 64},  {4, 16, 64},   {6, 32, 128},  {7, 32, 128},
                                    {9, 48, 192}, {10, 48, 192}, {11, 64, 256}, {12, 64, 256}};
    char index[16];
    SCOPE(m, "features") {
        SCOPE(m, "0") x = conv_into(m, x, NULL, NULL, 3, 64, 2, 0, false, true, RELU, 0, NULL);
        for (int f = 0; f < 8; f++) {
            if (fires[f][0] == 3 || fires[f][0] == 6 || fires[f][0] == 9)
                x = max_pool(m, x, 3, 2, 0, true);
            SCOPE(m, index_name(index, fires[f][0])) x = fire(m, x, fires[f][1], fires[f][2]);
        }
    }
    SCOPE(m, "classifier") x = conv_relu(m, x, "1", 1, 1000, 0, NULL);
    return global_avg_pool(m, x);
}

/* ---- models/shufflenet_v2/shufflenet_v2.c ---- */

/* branch2: 1x1 + bn + relu, depthwise 3x3 (stride) + bn, 1x1 + bn + relu
 * into `into`. */
static void shufflenet_branch2(struct xnn_model *m, struct xt x, int64_t out, int stride,
                               const struct xt *into) {
    SCOPE(m, "branch2") {
        x = conv_bn(m, x, "0", "1", 1, out, 1, 0, false, RELU);
        x = conv_bn(m, x, "3", "4", 3, out, stride, 1, true, LINEAR);
        conv_into(m, x, "5", "6", 1, out, 1, 0, false, false, RELU, BN_EPSILON, into);
    }
}

/* InvertedResidual(in, out, stride), then the shuffle of the two halves.
 * Stride 1: the first half of x passes as it is and the second is
 * transformed, so the result is written over x's second half once the
 * branch's first conv has read it (x is this block's alone), and x is the
 * concat. Stride 2: both branches written into their halves of a new
 * concat. */
static struct xt shufflenet_block(struct xnn_model *m, struct xt x, int64_t out, int stride) {
    const size_t half = (size_t)out / 2;
    struct xt cat = x;
    if (stride == 1) {
        struct xt second = slice(x, half, half);
        shufflenet_branch2(m, second, (int64_t)half, 1, &second);
    } else {
        struct xt y = failed_tensor;
        SCOPE(m, "branch1") {
            y = conv_bn(m, x, "0", "1", 3, 0, stride, 1, true, LINEAR);
            if (!m->failed) cat = tensor(m, x.n, y.h, y.w, (size_t)out);
            struct xt first = slice(cat, 0, half);
            conv_into(m, y, "2", "3", 1, (int64_t)half, 1, 0, false, false, RELU, BN_EPSILON,
                      &first);
        }
        struct xt second = slice(cat, half, half);
        shufflenet_branch2(m, x, (int64_t)half, stride, &second);
    }
    return m->failed ? failed_tensor : channel_shuffle(m, cat, 2);
}

static struct xt shufflenet_v2_x1_0(struct xnn_model *m, struct xt x) {
    static const int repeats[3] = {4, 8, 4};
    static const int64_t channels[5] = {24, 116, 232, 464, 1024};
    char name[16];
    SCOPE(m, "conv1") x = conv_bn(m, x, "0", "1", 3, channels[0], 2, 1, false, RELU);
    x = max_pool(m, x, 3, 2, 1, false);
    for (int s = 0; s < 3; s++) {
        snprintf(name, sizeof name, "stage%d", s + 2);
        SCOPE(m, name) {
            char index[16];
            for (int b = 0; b < repeats[s]; b++) SCOPE(m, index_name(index, b)) {
                    x = shufflenet_block(m, x, channels[s + 1], b == 0 ? 2 : 1);
                }
        }
    }
    SCOPE(m, "conv5") x = conv_bn(m, x, "0", "1", 1, channels[4], 1, 0, false, RELU);
    x = global_avg_pool(m, x);
    SCOPE(m, "fc") x = linear(m, x, 1000, LINEAR);
    return x;
}

/* ---- the model ---- */

static const struct {
    const char *name;
    struct xt (*build)(struct xnn_model *, struct xt);
} builders[] = {
    {"resnet18", resnet18},
    {"resnet50", resnet50},
    {"mobilenet_v2", mobilenet_v2},
    {"squeezenet1_1", squeezenet1_1},
    {"mobilenet_v3_large", mobilenet_v3_large},
    {"mobilenet_v3_small", mobilenet_v3_small},
    {"efficientnet_b0", efficientnet_b0},
    {"shufflenet_v2_x1_0", shufflenet_v2_x1_0},
};

void xnn_model_destroy(struct xnn_model *m) {
    if (!m) return;
    for (size_t i = 0; i < m->op_count; i++) xnn_delete_operator(m->ops[i]);
    for (size_t i = 0; i < m->buffer_count; i++) free(m->buffers[i]);
    if (m->pool) pthreadpool_destroy(m->pool);
    free(m->ops);
    free(m->buffers);
    free(m->used);
    free(m);
}

/* Builds the model in m from m->graph's variables, in a scope re-entering
 * the root with reuse, so that each variable is got by its full name. */
static void build(struct xnn_model *m, struct xt (*builder)(struct xnn_model *, struct xt)) {
    sn_graph *g = m->graph;
    sn_scope *root =
        sn_variable_scope_reenter(g, sn_current_scope(g), SN_REUSE_TRUE, SN_NO_INITIALIZER);
    if (!root) {
        fail(m, "sn_variable_scope_reenter: %s", sn_graph_error(g));
        return;
    }
    struct xt y = builder(m, m->input);
    sn_variable_scope_close(g, root);
    if (m->failed) return;
    if (y.h != 1 || y.w != 1 || y.stride != y.c) {
        fail(m, "the logits are not [n, classes]");
        return;
    }
    m->output = y;
    for (size_t i = 0; i < m->variable_count; i++)
        if (!m->used[i]) {
            fail(m, "variable %s of scopenn's model is not used",
                 sn_variable_name(sn_graph_variable(g, i)));
            return;
        }
}

struct xnn_model *xnn_model_create(sn_graph *graph, const char *name, int64_t n, int64_t h,
                                   int64_t w, int threads, char *err, size_t err_size) {
    struct xt (*builder)(struct xnn_model *, struct xt) = NULL;
    for (size_t i = 0; name && i < sizeof builders / sizeof *builders; i++)
        if (strcmp(builders[i].name, name) == 0) builder = builders[i].build;
    if (!builder) {
        snprintf(err, err_size, "no XNNPACK model '%s'", name ? name : "(null)");
        return NULL;
    }
    struct xnn_model *m = calloc(1, sizeof *m);
    if (!m) {
        snprintf(err, err_size, "out of memory");
        return NULL;
    }
    m->variable_count = sn_graph_variable_count(graph);
    if (!(m->used = calloc(m->variable_count + 1, 1))) {
        fail(m, "out of memory");
    } else if (check(m, xnn_initialize(NULL), "xnn_initialize")) {
        if (threads > 1 && !(m->pool = pthreadpool_create((size_t)threads)))
            fail(m, "pthreadpool_create(%d) failed", threads);
        m->input = tensor(m, (size_t)n, (size_t)h, (size_t)w, 3);
        m->graph = graph;
        if (!m->failed) build(m, builder);
        m->graph = NULL;
    }
    if (m->failed) {
        snprintf(err, err_size, "%s", m->err);
        xnn_model_destroy(m);
        return NULL;
    }
    free(m->used), m->used = NULL;
    return m;
}

float *xnn_model_input(struct xnn_model *m) { return m->input.data; }

int xnn_model_run(void *model, char *err, size_t err_size) {
    struct xnn_model *m = model;
    for (size_t i = 0; i < m->op_count; i++) {
        enum xnn_status status = xnn_run_operator(m->ops[i], m->pool);
        if (status != xnn_status_success) {
            snprintf(err, err_size,
                     "xnn_run_operator failed on operator %zu of %zu (xnn_status %d)", i,
                     m->op_count, (int)status);
            return 1;
        }
    }
    return 0;
}

const float *xnn_model_output(const struct xnn_model *m) { return m->output.data; }

int64_t xnn_model_classes(const struct xnn_model *m) { return (int64_t)m->output.c; }

size_t xnn_model_operators(const struct xnn_model *m) { return m->op_count; }
