/* MatMul: tf.matmul of two matrices, either transposed. A bias and a relu
 * or relu6 after it fold into its node (compile/fuse.c). On the tile
 * kernels as a GEMM, or one level of Strassen-Winograd when large
 * (algo/strassen.h); a transposed a, an empty product (k = 0) and the
 * scalar kernel set run the reference kernel. */
#include <stdio.h>

#include "algo/strassen.h"
#include "base/shape.h"
#include "ops/product.h"

#define WHY(...) (snprintf(why, why_size, __VA_ARGS__), false)

sn_tensor *sn_matmul(sn_graph *g, sn_tensor *a, sn_tensor *b, bool transpose_a, bool transpose_b,
                     const char *name) {
    sn_tensor *in[2] = {a, b};
    struct sn_op_attrs at = {.transpose_a = transpose_a, .transpose_b = transpose_b};
    return sn_build_op(g, SN_OP_MATMUL, in, 2, &at, name);
}

static bool infer(const struct sn_op_attrs *at, const sn_shape *in, int count, sn_shape *out,
                  char *why, size_t why_size) {
    (void)count;
    if (in[0].rank != 2 || in[1].rank != 2)
        return WHY("both operands must be matrices (ranks %d and %d)", in[0].rank, in[1].rank);
    int64_t m = in[0].dims[at->transpose_a ? 1 : 0], ka = in[0].dims[at->transpose_a ? 0 : 1];
    int64_t kb = in[1].dims[at->transpose_b ? 1 : 0], nn = in[1].dims[at->transpose_b ? 0 : 1];
    if (ka >= 0 && kb >= 0 && ka != kb)
        return WHY("inner dimensions %lld and %lld do not match", (long long)ka, (long long)kb);
    *out = (sn_shape){2, {m, nn}};
    return true;
}

static bool plan(const struct sn_plan *p, struct sn_node *n, char *why, size_t why_size) {
    const struct sn_conv_config *cc = n->gemm = sn_gemm_config(p->values[n->out].dtype, p->isa);
    if (!cc) return snprintf(why, why_size, "no products in its dtype"), false;
    const struct sn_op_attrs *a = &n->op->attrs;
    const sn_shape *x = &p->values[n->inputs[0]].planned, *w = &p->values[n->inputs[1]].planned,
                   *y = &p->values[n->out].tensor->shape;
    const int64_t k = w->dims[a->transpose_b ? 1 : 0], cols = y->dims[1];
    const unsigned fold = a->transpose_b ? SN_FOLD_ROWS : 0; /* b is [n, k] */
    if (!cc->tile || a->transpose_a || x->dims[1] <= 0) {
        n->algorithm = SN_ALGO_REFERENCE;
        sn_plan_product_packs(p, n, &sn_packer_reference, &sn_packer_reference, fold);
    } else if (!p->direct_matmul && sn_strassen_worth(sn_product_min_rows(y), k, cols)) {
        n->algorithm = SN_ALGO_STRASSEN;
        sn_plan_product_packs(p, n,
                              a->transpose_b ? cc->packer_strassen_transposed : cc->packer_strassen,
                              &sn_packer_reference, fold);
        n->workspace_bytes = sn_strassen_workspace(cc, k, cols);
    } else {
        n->algorithm = SN_ALGO_GEMM;
        n->strided_output = true; /* the tile kernels store with any row stride */
        sn_plan_product_packs(p, n, a->transpose_b ? cc->packer_transposed : cc->packer, cc->packer,
                              fold);
    }
    return true;
}

struct reference_task {
    int64_t m, k, n;
    const float *a, *b, *bias;
    bool transpose_a, transpose_b;
    sn_activation act;
    float *c;
};

static void reference_rows(void *context, size_t begin, size_t count) {
    const struct reference_task *t = context;
    sn_f32_matmul_ref(t->m, t->k, t->n, t->a, t->transpose_a, t->b, t->transpose_b, t->bias, t->act,
                      t->c, (int64_t)begin, (int64_t)(begin + count));
}

static void run(const struct sn_exec *x, const struct sn_node *n) {
    const struct sn_value *in = &x->values[n->inputs[0]], *out = &x->values[n->out];
    const struct sn_op_attrs *a = &n->op->attrs;
    const int64_t m = out->shape.dims[0], cols = out->shape.dims[1],
                  k = in->shape.dims[a->transpose_a ? 0 : 1];
    if (n->algorithm != SN_ALGO_REFERENCE) {
        sn_product_run(x, n, in->data, m, k, cols, (float *)out->data);
        return;
    }
    struct reference_task t = {.m = m,
                               .k = k,
                               .n = cols,
                               .a = in->data,
                               .b = x->packed[0],
                               .bias = x->packed[1],
                               .transpose_a = a->transpose_a,
                               .transpose_b = a->transpose_b,
                               .act = n->act,
                               .c = (float *)out->data};
    sn_parallel(x->threads, reference_rows, &t, (size_t)m);
    sn_post_run(x, n);
}

/* 2 x M*K*N, whatever the algorithm runs. */
static int64_t flops(const struct sn_op_attrs *a, const sn_shape *in, int count,
                     const sn_shape *out) {
    (void)count;
    return 2 * sn_shape_elements(out) * in[0].dims[a->transpose_a ? 0 : 1];
}

const struct sn_op_class sn_matmul_class = {
    .infer = infer,
    .plan = plan,
    .run = run,
    .flops = flops,
    .fuse = SN_FUSE_HEAD,
};
