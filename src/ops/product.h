/* What conv2d and matmul share: their packs (the weights, input 1, and
 * the fused bias) and their matrix products on the GEMM or Strassen. */
#ifndef SN_OPS_PRODUCT_H
#define SN_OPS_PRODUCT_H

#include <stdint.h>

#include "ops/ops.h"

/* The node's packs: input 1 by `weights`, its fused bias (if any) by
 * `bias`; with a fused batch normalization both folded with it (S25), the
 * weight's channels its rows if `fold_flags` has SN_FOLD_ROWS, and then a
 * bias pack even without a bias; and the zeros its run reads for a
 * missing bias. */
void sn_plan_product_packs(const struct sn_plan *plan, struct sn_node *node,
                           const sn_packer *weights, const sn_packer *bias, unsigned fold_flags);

/* out [m][n] = in [m][k] times the node's packed weights, plus its bias,
 * with its activation: by Strassen if the plan chose it, else the GEMM. */
void sn_product_run(const struct sn_exec *x, const struct sn_node *node, const float *in, int64_t m,
                    int64_t k, int64_t n, float *out);

/* Rows of the output at least (every dimension but the last, a -1 batch
 * counted as 1), from the build-time shape. */
int64_t sn_product_min_rows(const sn_shape *out);

#endif
