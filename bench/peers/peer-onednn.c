/* oneDNN as a peer (Debian's libdnnl-dev 2.6, C API): a convolution forward
 * or inner product forward primitive for inference, src and dst in our
 * layout (nhwc, nc), weights in the layout the primitive prefers (format
 * "any"), reordered once from ours when the layer is created, bias and a
 * relu post-op fused. A run is one dnnl_primitive_execute and a stream wait.
 *
 * Debian builds oneDNN with OpenMP (libgomp: DNNL_CPU_RUNTIME is
 * DNNL_RUNTIME_OMP), so the thread count is OpenMP's: omp_set_num_threads
 * before the primitive is created, since oneDNN sizes its work split then. */
#include "peers.h"

#include <oneapi/dnnl/dnnl.h>
#include <oneapi/dnnl/dnnl_debug.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct dnnl_layer {
    dnnl_engine_t engine;
    dnnl_stream_t stream;
    dnnl_primitive_desc_t pd;
    dnnl_primitive_t primitive;
    dnnl_memory_t src, weights, bias, dst;
    char impl[64];
};

static void dnnl_layer_destroy(void *layer) {
    struct dnnl_layer *l = layer;
    if (!l) return;
    dnnl_memory_destroy(l->src);
    dnnl_memory_destroy(l->weights);
    dnnl_memory_destroy(l->bias);
    dnnl_memory_destroy(l->dst);
    dnnl_primitive_destroy(l->primitive);
    dnnl_primitive_desc_destroy(l->pd);
    if (l->stream) dnnl_stream_destroy(l->stream);
    if (l->engine) dnnl_engine_destroy(l->engine);
    free(l);
}

/* Copies `from` (user memory, our layout) into `to` (allocated in the
 * layout `md`) through a reorder primitive. */
static dnnl_status_t reorder_into(struct dnnl_layer *l, dnnl_memory_t from, dnnl_memory_t to) {
    const dnnl_memory_desc_t *from_md, *to_md;
    dnnl_primitive_desc_t rpd = NULL;
    dnnl_primitive_t r = NULL;
    dnnl_status_t s;
    if ((s = dnnl_memory_get_memory_desc(from, &from_md)) != dnnl_success ||
        (s = dnnl_memory_get_memory_desc(to, &to_md)) != dnnl_success ||
        (s = dnnl_reorder_primitive_desc_create(&rpd, from_md, l->engine, to_md, l->engine,
                                                NULL)) != dnnl_success ||
        (s = dnnl_primitive_create(&r, rpd)) != dnnl_success)
        goto done;
    dnnl_exec_arg_t args[] = {{DNNL_ARG_FROM, from}, {DNNL_ARG_TO, to}};
    if ((s = dnnl_primitive_execute(r, l->stream, 2, args)) == dnnl_success)
        s = dnnl_stream_wait(l->stream);
done:
    dnnl_primitive_destroy(r);
    dnnl_primitive_desc_destroy(rpd);
    return s;
}

static void *dnnl_layer_create(const struct workload *w, int threads, const float *weights,
                               const float *bias, const float *input, char *err, size_t err_size) {
    struct geometry g;
    workload_geometry(w, &g);
    struct dnnl_layer *l = calloc(1, sizeof *l);
    dnnl_primitive_attr_t attr = NULL;
    dnnl_post_ops_t post_ops = NULL;
    dnnl_memory_t user_weights = NULL;
    dnnl_status_t s = dnnl_out_of_memory;
    const char *what = "calloc";
    if (!l) goto error;
    omp_set_num_threads(threads);

#define TRY(call)                                                                                  \
    do {                                                                                           \
        what = #call;                                                                              \
        if ((s = (call)) != dnnl_success) goto error;                                              \
    } while (0)

    TRY(dnnl_engine_create(&l->engine, dnnl_cpu, 0));
    TRY(dnnl_stream_create(&l->stream, l->engine, dnnl_stream_default_flags));
    TRY(dnnl_primitive_attr_create(&attr));
    TRY(dnnl_post_ops_create(&post_ops));
    TRY(dnnl_post_ops_append_eltwise(post_ops, 1.0f, dnnl_eltwise_relu, 0.0f, 0.0f));
    TRY(dnnl_primitive_attr_set_post_ops(attr, post_ops));

    /* oneDNN's logical dims are NCHW and OIHW (or NC and OI) whatever the
     * memory layout; the format tag says the layout. */
    dnnl_memory_desc_t src_md, weights_md, user_weights_md, bias_md, dst_md;
    if (w->op == PEER_CONV2D) {
        int64_t n = w->input[0], h = w->input[1], wd = w->input[2], c = w->input[3];
        int64_t kh = w->filter[0], kw = w->filter[1], oc = w->filter[3];
        TRY(dnnl_memory_desc_init_by_tag(&src_md, 4, (dnnl_dims_t){n, c, h, wd}, dnnl_f32,
                                         dnnl_nhwc));
        TRY(dnnl_memory_desc_init_by_tag(&dst_md, 4, (dnnl_dims_t){n, oc, g.oh, g.ow}, dnnl_f32,
                                         dnnl_nhwc));
        TRY(dnnl_memory_desc_init_by_tag(&weights_md, 4, (dnnl_dims_t){oc, c, kh, kw}, dnnl_f32,
                                         dnnl_format_tag_any));
        TRY(dnnl_memory_desc_init_by_tag(&user_weights_md, 4, (dnnl_dims_t){oc, c, kh, kw},
                                         dnnl_f32, dnnl_hwio));
        TRY(dnnl_memory_desc_init_by_tag(&bias_md, 1, (dnnl_dims_t){oc}, dnnl_f32, dnnl_a));
        /* direct: convolution_auto picks the same brgconv for every named
         * workload here (oneDNN 2.6 offers no fp32 Winograd it prefers). */
        dnnl_convolution_desc_t desc;
        TRY(dnnl_convolution_forward_desc_init(
            &desc, dnnl_forward_inference, dnnl_convolution_direct, &src_md, &weights_md, &bias_md,
            &dst_md, (dnnl_dims_t){w->stride, w->stride}, (dnnl_dims_t){g.pad_top, g.pad_left},
            (dnnl_dims_t){g.pad_bottom, g.pad_right}));
        TRY(dnnl_primitive_desc_create(&l->pd, &desc, attr, l->engine, NULL));
    } else {
        TRY(dnnl_memory_desc_init_by_tag(&src_md, 2, (dnnl_dims_t){w->m, w->k}, dnnl_f32, dnnl_nc));
        TRY(dnnl_memory_desc_init_by_tag(&dst_md, 2, (dnnl_dims_t){w->m, w->n}, dnnl_f32, dnnl_nc));
        TRY(dnnl_memory_desc_init_by_tag(&weights_md, 2, (dnnl_dims_t){w->n, w->k}, dnnl_f32,
                                         dnnl_format_tag_any));
        /* Ours is [k][n]: for OI dims that is "io". */
        TRY(dnnl_memory_desc_init_by_tag(&user_weights_md, 2, (dnnl_dims_t){w->n, w->k}, dnnl_f32,
                                         dnnl_io));
        TRY(dnnl_memory_desc_init_by_tag(&bias_md, 1, (dnnl_dims_t){w->n}, dnnl_f32, dnnl_a));
        /* Inner product, not matmul: both give brgemm kernels, the matmul
         * primitive measured a few % slower on dense_mm and dense_mv. */
        dnnl_inner_product_desc_t desc;
        TRY(dnnl_inner_product_forward_desc_init(&desc, dnnl_forward_inference, &src_md,
                                                 &weights_md, &bias_md, &dst_md));
        TRY(dnnl_primitive_desc_create(&l->pd, &desc, attr, l->engine, NULL));
    }
    TRY(dnnl_primitive_create(&l->primitive, l->pd));
    const char *impl = NULL;
    TRY(dnnl_primitive_desc_query(l->pd, dnnl_query_impl_info_str, 0, &impl));
    snprintf(l->impl, sizeof l->impl, "%s", impl ? impl : "");

    /* The pd's src and dst are ours exactly (their formats were given);
     * the weights get the pd's layout, filled once by a reorder. */
    const dnnl_memory_desc_t *pd_weights_md =
        dnnl_primitive_desc_query_md(l->pd, dnnl_query_weights_md, 0);
    what = "dnnl_primitive_desc_query_md(weights)";
    if (!pd_weights_md) goto error;
    TRY(dnnl_memory_create(&l->src, &src_md, l->engine, (void *)input));
    TRY(dnnl_memory_create(&l->dst, &dst_md, l->engine, DNNL_MEMORY_ALLOCATE));
    TRY(dnnl_memory_create(&l->bias, &bias_md, l->engine, (void *)bias));
    TRY(dnnl_memory_create(&l->weights, pd_weights_md, l->engine, DNNL_MEMORY_ALLOCATE));
    TRY(dnnl_memory_create(&user_weights, &user_weights_md, l->engine, (void *)weights));
    TRY(reorder_into(l, user_weights, l->weights));
#undef TRY

    dnnl_memory_destroy(user_weights);
    dnnl_post_ops_destroy(post_ops);
    dnnl_primitive_attr_destroy(attr);
    return l;
error:
    snprintf(err, err_size, "%s: %s", what, dnnl_status2str(s));
    dnnl_memory_destroy(user_weights);
    dnnl_post_ops_destroy(post_ops);
    dnnl_primitive_attr_destroy(attr);
    dnnl_layer_destroy(l);
    return NULL;
}

static int dnnl_layer_run(void *layer, char *err, size_t err_size) {
    struct dnnl_layer *l = layer;
    dnnl_exec_arg_t args[] = {{DNNL_ARG_SRC, l->src},
                              {DNNL_ARG_WEIGHTS, l->weights},
                              {DNNL_ARG_BIAS, l->bias},
                              {DNNL_ARG_DST, l->dst}};
    dnnl_status_t s = dnnl_primitive_execute(l->primitive, l->stream, 4, args);
    if (s == dnnl_success) s = dnnl_stream_wait(l->stream);
    if (s == dnnl_success) return 0;
    snprintf(err, err_size, "dnnl_primitive_execute: %s", dnnl_status2str(s));
    return 1;
}

static const float *dnnl_layer_output(void *layer) {
    void *data = NULL;
    dnnl_memory_get_data_handle(((struct dnnl_layer *)layer)->dst, &data);
    return data;
}

static const char *dnnl_layer_impl(void *layer) { return ((struct dnnl_layer *)layer)->impl; }

const struct peer peer_onednn = {
    .name = "onednn",
    .create = dnnl_layer_create,
    .run = dnnl_layer_run,
    .output = dnnl_layer_output,
    .impl = dnnl_layer_impl,
    .destroy = dnnl_layer_destroy,
};
