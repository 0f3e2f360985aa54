/* scopenn as a peer: the layer built through the public API exactly as
 * `scopenn bench` builds it (placeholder "input", then under a variable
 * scope named after the workload "weights" and "biases", conv2d or matmul,
 * bias_add, relu; the session fuses them into one kernel call), but with
 * the given weights. It is the reference the other peers are checked
 * against. */
#include "peers.h"

#include <stdio.h>
#include <stdlib.h>

#include "scopenn.h"

struct sn_layer {
    sn_graph *graph;
    sn_session *session;
    sn_feed feed;
    sn_output out;
};

static void sn_layer_destroy(void *layer) {
    struct sn_layer *l = layer;
    if (!l) return;
    sn_session_destroy(l->session);
    sn_graph_destroy(l->graph);
    free(l);
}

static void *sn_layer_create(const struct workload *w, int threads, const float *weights,
                             const float *bias, const float *input, char *err, size_t err_size) {
    struct sn_layer *l = calloc(1, sizeof *l);
    if (!l || !(l->graph = sn_graph_create(&(sn_graph_options){.seed = 1}))) {
        snprintf(err, err_size, "out of memory");
        sn_layer_destroy(l);
        return NULL;
    }
    sn_graph *g = l->graph;
    int conv = w->op == PEER_CONV2D;
    sn_shape in_shape =
        conv ? SN_SHAPE(w->input[0], w->input[1], w->input[2], w->input[3]) : SN_SHAPE(w->m, w->k);
    sn_shape w_shape = conv ? SN_SHAPE(w->filter[0], w->filter[1], w->filter[2], w->filter[3])
                            : SN_SHAPE(w->k, w->n);
    int64_t oc = conv ? w->filter[3] : w->n;
    sn_tensor *x = sn_placeholder(g, "input", in_shape), *y = NULL;
    SN_WITH_VARIABLE_SCOPE(g, w->name) {
        sn_variable *wv =
            sn_get_variable(g, "weights", w_shape, sn_values_initializer(weights, w_shape));
        sn_variable *bv =
            sn_get_variable(g, "biases", SN_SHAPE(oc), sn_values_initializer(bias, SN_SHAPE(oc)));
        y = conv ? sn_conv2d(g, x, sn_var(g, wv), SN_STRIDES(w->stride, w->stride),
                             w->same ? SN_PADDING_SAME : SN_PADDING_VALID, NULL)
                 : sn_matmul(g, x, sn_var(g, wv), false, false, NULL);
        y = sn_relu(g, sn_bias_add(g, y, sn_var(g, bv), NULL), NULL);
    }
    if (sn_graph_status(g) != SN_OK ||
        !(l->session =
              sn_session_create(g, SN_FETCH(y), &(sn_session_options){.threads = threads}))) {
        snprintf(err, err_size, "%s", sn_graph_error(g));
        sn_layer_destroy(l);
        return NULL;
    }
    l->feed = (sn_feed){x, input, in_shape};
    return l;
}

static int sn_layer_run(void *layer, char *err, size_t err_size) {
    struct sn_layer *l = layer;
    if (sn_session_run(l->session, &l->feed, 1, &l->out) == SN_OK) return 0;
    snprintf(err, err_size, "%s", sn_session_error(l->session));
    return 1;
}

static const float *sn_layer_output(void *layer) { return ((struct sn_layer *)layer)->out.data; }

static const char *sn_layer_impl(void *layer) {
    sn_session_stats stats;
    sn_session_stats_get(((struct sn_layer *)layer)->session, &stats);
    return sn_isa_name(stats.isa);
}

const struct peer peer_scopenn = {
    .name = "scopenn",
    .create = sn_layer_create,
    .run = sn_layer_run,
    .output = sn_layer_output,
    .impl = sn_layer_impl,
    .destroy = sn_layer_destroy,
};
