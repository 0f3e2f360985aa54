/* One level of Strassen-Winograd for a matrix product (algo/gemm.h): 7
 * half-size products on the tile kernels instead of 8. */
#ifndef SN_ALGO_STRASSEN_H
#define SN_ALGO_STRASSEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "algo/gemm.h"

/* Whether a product of at least `rows` rows (a -1 batch counted as 1), k
 * and `cols` pays as one level of Strassen-Winograd: k even, and
 *   - k >= 512, n >= 256 and rows >= 16: the half-size products stay
 *     efficient and outweigh the sums;
 *   - k n <= 2^20 (4 MB of weights, 7 MB packed): larger packs stream
 *     from farther than the plain pack, and lose;
 *   - 2^25 multiply-adds or more: less, and at 2 threads the three
 *     steps' hand-offs outweigh the products saved (the rule must not
 *     depend on the thread count: results are the same for any).
 * Measured on AVX-512 (Zen 5; scopenn bench matmul, --direct against
 * not, m 2-3136, k and n 64-2048, 1 and 2 threads): within these bounds
 * 1.02-1.12x faster than the plain product (k = n = 1024: 1.09-1.12x);
 * outside, from 0.56x (m = 4) to 1.09x (m = 16, k = n = 1024, 1 thread). */
bool sn_strassen_worth(int64_t rows, int64_t k, int64_t cols);

/* The bytes of workspace sn_strassen_run needs for a [k][n] product. */
size_t sn_strassen_workspace(const struct sn_conv_config *cc, int64_t k, int64_t n);

/* The product (k even), with `workspace` (64-byte aligned, the size
 * above) for its sums and products. */
void sn_strassen_run(const struct sn_gemm *g, float *workspace);

#endif
