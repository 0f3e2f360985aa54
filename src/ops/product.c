#include "ops/product.h"

#include "algo/gemm.h"
#include "algo/strassen.h"

void sn_plan_product_packs(const struct sn_plan *p, struct sn_node *n, const sn_packer *weights,
                           const sn_packer *bias, unsigned fold_flags) {
    const struct sn_conv_config *cc = n->gemm;
    const int nr = cc->tile ? (int)cc->nr : 1;
    struct sn_pack_use *w = &n->packs[0], *b = &n->packs[1];
    *w = (struct sn_pack_use){
        .packer = weights, .nr = nr, .sources = {n->inputs[1]}, .source_count = 1};
    if (n->bias >= 0)
        *b =
            (struct sn_pack_use){.packer = bias, .nr = nr, .sources = {n->bias}, .source_count = 1};
    if (n->bn[0] >= 0) {
        /* folded: the weight with the variance and scale (what alpha
         * reads), the bias (if any) with all four vectors */
        w->packer = &sn_packer_fold_weights;
        w->params = (struct sn_pack_params){
            .inner = weights, .epsilon = n->bn_epsilon, .flags = fold_flags};
        *b = (struct sn_pack_use){.packer = &sn_packer_fold_bias,
                                  .nr = nr,
                                  .params = {.inner = bias, .epsilon = n->bn_epsilon}};
        if (n->bias >= 0) b->sources[b->source_count++] = n->bias;
        w->sources[w->source_count++] = n->bn[1];
        w->sources[w->source_count++] = n->bn[3];
        for (int k = 0; k < 4; k++) b->sources[b->source_count++] = n->bn[k];
    }
    const sn_shape *out = &p->values[n->out].planned;
    n->zeros = (size_t)nr;
    if (out->rank > 0 && out->dims[out->rank - 1] > 0) {
        const size_t c = (size_t)out->dims[out->rank - 1], padded = (c + nr - 1) / nr * nr;
        if (padded > n->zeros) n->zeros = padded;
    }
}

void sn_product_run(const struct sn_exec *x, const struct sn_node *nd, const float *in, int64_t m,
                    int64_t k, int64_t n, float *out) {
    const struct sn_gemm g = {.kernels = x->kernels,
                              .cc = nd->gemm,
                              .threads = x->threads,
                              .zeros = x->zeros,
                              .input = in,
                              .in_stride = x->values[nd->inputs[0]].pixel_stride,
                              .m = m,
                              .k = k,
                              .n = n,
                              .weights = x->packed[0],
                              .bias = x->packed[1],
                              .act = nd->act,
                              .post = sn_node_post(x, nd),
                              .output = out,
                              .out_stride = x->values[nd->out].pixel_stride};
    if (nd->algorithm == SN_ALGO_STRASSEN) {
        sn_strassen_run(&g, x->workspace);
        sn_post_run(x, nd);
    } else {
        sn_gemm_run(&g);
    }
}

int64_t sn_product_min_rows(const sn_shape *y) {
    int64_t rows = 1;
    for (int d = 0; d + 1 < y->rank; d++) rows *= y->dims[d] < 0 ? 1 : y->dims[d];
    return rows;
}
