/* tf.layers-style builders (SEMANTICS.md S26): each opens a variable scope
 * with TensorFlow's default name made unique, creates TensorFlow's variable
 * names in it, and builds its ops. */
#include "graph/graph.h"
#include "scope/scope.h"

static const sn_layer_options defaults = {0};

/* The activation of a layer, or NULL (error recorded). */
static sn_tensor *activate(sn_graph *g, sn_tensor *x, sn_layer_activation a) {
    switch (a) {
    case SN_LAYER_LINEAR: return x;
    case SN_LAYER_RELU: return sn_relu(g, x, NULL);
    case SN_LAYER_RELU6: return sn_relu6(g, x, NULL);
    case SN_LAYER_SIGMOID: return sn_sigmoid(g, x, NULL);
    case SN_LAYER_TANH: return sn_tanh(g, x, NULL);
    case SN_LAYER_SWISH: return sn_swish(g, x, NULL);
    case SN_LAYER_HARD_SIGMOID: return sn_hard_sigmoid(g, x, NULL);
    case SN_LAYER_HARD_SWISH: return sn_hard_swish(g, x, NULL);
    case SN_LAYER_ACTIVATION_COUNT: break;
    }
    return NULL;
}

/* Opens the layer's scope after checking what every layer shares. */
static sn_scope *open_layer(sn_graph *g, sn_tensor *x, const sn_layer_options *o, const char *name,
                            const char *default_name, const char *what) {
    if (!g || sn_graph_failed(g)) return NULL;
    if (!x || (unsigned)o->activation >= SN_LAYER_ACTIVATION_COUNT) {
        sn_graph_fail(g, SN_ERR_INVALID_ARGUMENT, "%s: %s", what,
                      !x ? "the input is NULL" : "the activation is not an sn_layer_activation");
        return NULL;
    }
    return sn_variable_scope_open_default(g, name, default_name, o->reuse);
}

static sn_tensor *close_layer(sn_graph *g, sn_scope *scope, sn_tensor *y) {
    sn_variable_scope_close(g, scope);
    return sn_graph_failed(g) ? NULL : y;
}

static sn_hw or_one(sn_hw v) { return SN_HW(v.h ? v.h : 1, v.w ? v.w : 1); }

/* The bias variable of `n` channels and its add, unless no_bias. */
static sn_tensor *add_bias(sn_graph *g, sn_tensor *y, int64_t n, const sn_layer_options *o) {
    if (o->no_bias || !y) return y;
    sn_initializer init =
        o->bias_initializer.kind != SN_INIT_NONE ? o->bias_initializer : sn_zeros_initializer();
    sn_variable *b = sn_get_variable(g, "bias", SN_SHAPE(n), init);
    return b ? sn_bias_add(g, y, sn_var(g, b), NULL) : NULL;
}

/* The input's channels (its last dimension), which must be known. */
static int64_t channels_of(sn_graph *g, sn_tensor *x, int rank, const char *what) {
    const sn_shape s = sn_tensor_shape(x);
    if (s.rank != rank || s.dims[rank - 1] < 0) {
        sn_graph_fail(g, SN_ERR_SHAPE_MISMATCH,
                      "%s: the input %s must have rank %d and a known last dimension", what,
                      sn_tensor_name(x), rank);
        return -1;
    }
    return s.dims[rank - 1];
}

sn_tensor *sn_layers_conv2d(sn_graph *g, sn_tensor *x, int filters, sn_hw kernel_size,
                            const sn_layer_options *options, const char *name) {
    const sn_layer_options *o = options ? options : &defaults;
    sn_scope *scope = open_layer(g, x, o, name, "conv2d", "conv2d layer");
    if (!scope) return NULL;
    sn_tensor *y = NULL;
    const int64_t in = channels_of(g, x, 4, "conv2d layer");
    if (in >= 0) {
        sn_variable *k =
            sn_get_variable(g, "kernel", SN_SHAPE(kernel_size.h, kernel_size.w, in, filters),
                            o->kernel_initializer);
        if (k)
            y = o->explicit_pads ? sn_conv2d_explicit(g, x, sn_var(g, k), or_one(o->strides),
                                                      o->pads, or_one(o->dilations), NULL)
                                 : sn_conv2d_dilated(g, x, sn_var(g, k), or_one(o->strides),
                                                     o->padding, or_one(o->dilations), NULL);
        y = activate(g, add_bias(g, y, filters, o), o->activation);
    }
    return close_layer(g, scope, y);
}

sn_tensor *sn_layers_depthwise_conv2d(sn_graph *g, sn_tensor *x, sn_hw kernel_size,
                                      const sn_layer_options *options, const char *name) {
    const sn_layer_options *o = options ? options : &defaults;
    sn_scope *scope = open_layer(g, x, o, name, "depthwise_conv2d", "depthwise conv2d layer");
    if (!scope) return NULL;
    sn_tensor *y = NULL;
    const int64_t in = channels_of(g, x, 4, "depthwise conv2d layer"),
                  m = o->depth_multiplier ? o->depth_multiplier : 1;
    if (in >= 0) {
        sn_variable *k =
            sn_get_variable(g, "depthwise_kernel", SN_SHAPE(kernel_size.h, kernel_size.w, in, m),
                            o->kernel_initializer);
        if (k)
            y = o->explicit_pads
                    ? sn_depthwise_conv2d_explicit(g, x, sn_var(g, k), or_one(o->strides), o->pads,
                                                   or_one(o->dilations), NULL)
                    : sn_depthwise_conv2d(g, x, sn_var(g, k), or_one(o->strides), o->padding,
                                          or_one(o->dilations), NULL);
        y = activate(g, add_bias(g, y, in * m, o), o->activation);
    }
    return close_layer(g, scope, y);
}

sn_tensor *sn_layers_dense(sn_graph *g, sn_tensor *x, int units, const sn_layer_options *options,
                           const char *name) {
    const sn_layer_options *o = options ? options : &defaults;
    sn_scope *scope = open_layer(g, x, o, name, "dense", "dense layer");
    if (!scope) return NULL;
    sn_tensor *y = NULL;
    const int64_t in = channels_of(g, x, 2, "dense layer");
    if (in >= 0) {
        sn_variable *k = sn_get_variable(g, "kernel", SN_SHAPE(in, units), o->kernel_initializer);
        if (k) y = sn_matmul(g, x, sn_var(g, k), false, false, NULL);
        y = activate(g, add_bias(g, y, units, o), o->activation);
    }
    return close_layer(g, scope, y);
}

sn_tensor *sn_layers_batch_normalization(sn_graph *g, sn_tensor *x, const sn_layer_options *options,
                                         const char *name) {
    const sn_layer_options *o = options ? options : &defaults;
    sn_scope *scope = open_layer(g, x, o, name, "batch_normalization", "batch normalization layer");
    if (!scope) return NULL;
    sn_tensor *y = NULL;
    const sn_shape s = sn_tensor_shape(x);
    const int64_t c = s.rank >= 1 ? s.dims[s.rank - 1] : -1;
    if (c < 0) {
        sn_graph_fail(g, SN_ERR_SHAPE_MISMATCH,
                      "batch normalization layer: the input %s must have a known last dimension",
                      sn_tensor_name(x));
    } else {
        sn_variable *gamma = sn_get_variable(g, "gamma", SN_SHAPE(c), sn_ones_initializer()),
                    *beta = sn_get_variable(g, "beta", SN_SHAPE(c), sn_zeros_initializer()),
                    *mean = sn_get_variable(g, "moving_mean", SN_SHAPE(c), sn_zeros_initializer()),
                    *var =
                        sn_get_variable(g, "moving_variance", SN_SHAPE(c), sn_ones_initializer());
        if (gamma && beta && mean && var)
            y = sn_batch_normalization(g, x, sn_var(g, mean), sn_var(g, var), sn_var(g, beta),
                                       sn_var(g, gamma), o->epsilon ? o->epsilon : 1e-3f, NULL);
        y = activate(g, y, o->activation);
    }
    return close_layer(g, scope, y);
}
