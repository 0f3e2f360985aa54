/* XNNPACK as a peer (Debian's libxnnpack-dev, git 2022-02-16): one operator
 * per layer, convolution2d_nhwc_f32 or fully_connected_nc_f32, with the
 * bias and relu (output_min 0, output_max +inf) fused. XNNPACK packs the
 * weights when the operator is created; setup binds the input and output
 * once, so a run is xnn_run_operator alone. Threads: a pthreadpool of that
 * many threads, or none (the caller's thread) for 1. */
#include "peers.h"

#include <math.h>
#include <pthreadpool.h>
#include <stdio.h>
#include <stdlib.h>
#include <xnnpack.h>

struct xnn_layer {
    pthreadpool_t pool;
    xnn_operator_t op;
    float *output;
};

static void xnn_layer_destroy(void *layer) {
    struct xnn_layer *l = layer;
    if (!l) return;
    if (l->op) xnn_delete_operator(l->op);
    if (l->pool) pthreadpool_destroy(l->pool);
    free(l->output);
    free(l);
}

static void *xnn_layer_create(const struct workload *w, int threads, const float *weights,
                              const float *bias, const float *input, char *err, size_t err_size) {
    struct geometry g;
    workload_geometry(w, &g);
    struct xnn_layer *l = calloc(1, sizeof *l);
    float *ohwi = NULL;
    const char *what = "out of memory";
    enum xnn_status status = xnn_status_success;
    if (!l || !(l->output = malloc((size_t)g.output_count * sizeof *l->output))) goto error;
    what = "xnn_initialize";
    if ((status = xnn_initialize(NULL)) != xnn_status_success) goto error;
    what = "pthreadpool_create";
    if (threads > 1 && !(l->pool = pthreadpool_create((size_t)threads))) goto error;
    if (w->op == PEER_CONV2D) {
        /* XNNPACK wants OHWI [oc][kh][kw][ic]; ours is HWIO [kh][kw][ic][oc]. */
        int64_t kh = w->filter[0], kw = w->filter[1], ic = w->filter[2], oc = w->filter[3];
        what = "out of memory";
        if (!(ohwi = malloc((size_t)g.weight_count * sizeof *ohwi))) goto error;
        for (int64_t y = 0; y < kh; y++)
            for (int64_t x = 0; x < kw; x++)
                for (int64_t i = 0; i < ic; i++)
                    for (int64_t o = 0; o < oc; o++)
                        ohwi[((o * kh + y) * kw + x) * ic + i] =
                            weights[((y * kw + x) * ic + i) * oc + o];
        what = "xnn_create_convolution2d_nhwc_f32";
        status = xnn_create_convolution2d_nhwc_f32(
            (uint32_t)g.pad_top, (uint32_t)g.pad_right, (uint32_t)g.pad_bottom,
            (uint32_t)g.pad_left, (uint32_t)kh, (uint32_t)kw, (uint32_t)w->stride,
            (uint32_t)w->stride, 1, 1,
            /*groups=*/1, (size_t)ic, (size_t)oc, (size_t)ic, (size_t)oc, ohwi, bias, 0.0f,
            INFINITY, 0, &l->op);
        if (status != xnn_status_success) goto error;
        what = "xnn_setup_convolution2d_nhwc_f32";
        status = xnn_setup_convolution2d_nhwc_f32(l->op, (size_t)w->input[0], (size_t)w->input[1],
                                                  (size_t)w->input[2], input, l->output, l->pool);
        if (status != xnn_status_success) goto error;
    } else {
        /* Our weights are [k][n]: XNNPACK's "transposed" fully connected
         * layout (its default is [n][k]). */
        what = "xnn_create_fully_connected_nc_f32";
        status = xnn_create_fully_connected_nc_f32((size_t)w->k, (size_t)w->n, (size_t)w->k,
                                                   (size_t)w->n, weights, bias, 0.0f, INFINITY,
                                                   XNN_FLAG_TRANSPOSE_WEIGHTS, &l->op);
        if (status != xnn_status_success) goto error;
        what = "xnn_setup_fully_connected_nc_f32";
        status = xnn_setup_fully_connected_nc_f32(l->op, (size_t)w->m, input, l->output, l->pool);
        if (status != xnn_status_success) goto error;
    }
    free(ohwi);
    return l;
error:
    snprintf(err, err_size, "%s failed (xnn_status %d)", what, (int)status);
    free(ohwi);
    xnn_layer_destroy(l);
    return NULL;
}

static int xnn_layer_run(void *layer, char *err, size_t err_size) {
    struct xnn_layer *l = layer;
    enum xnn_status status = xnn_run_operator(l->op, l->pool);
    if (status == xnn_status_success) return 0;
    snprintf(err, err_size, "xnn_run_operator failed (xnn_status %d)", (int)status);
    return 1;
}

static const float *xnn_layer_output(void *layer) { return ((struct xnn_layer *)layer)->output; }

/* XNNPACK does not say which micro-kernel it picked. */
static const char *xnn_layer_impl(void *layer) {
    (void)layer;
    return "";
}

const struct peer peer_xnnpack = {
    .name = "xnnpack",
    .create = xnn_layer_create,
    .run = xnn_layer_run,
    .output = xnn_layer_output,
    .impl = xnn_layer_impl,
    .destroy = xnn_layer_destroy,
};
