/* Matrix products on the tile kernels: out [m][n] = in [m][k] times packed
 * weights [k][n], plus a bias, with a fused activation. The GEMM driver
 * (rows in panels, each through groups of NR blocks) and one level of
 * Strassen-Winograd share these arguments. */
#ifndef SN_ALGO_GEMM_H
#define SN_ALGO_GEMM_H

#include <stddef.h>
#include <stdint.h>

#include "algo/parallel.h"
#include "kernels/kernels.h"

struct sn_gemm {
    const struct sn_conv_config *cc;  /* the tile kernels, their packer and tile */
    const struct sn_kernels *kernels; /* Strassen's sums and activations */
    const struct sn_threads *threads;
    const float *zeros; /* the bias when there is none: n rounded up to NR */
    const float *input; /* [m][k] */
    size_t in_stride;   /* the plain product: floats between input rows; 0: k */
    int64_t m, k, n;
    /* packed by cc->packer (or its transposed twin); the bias
     * NR-blocked too. Strassen: packer_strassen, the bias as it is */
    const float *weights, *bias; /* bias may be NULL */
    sn_activation act;
    sn_f32_vunary_fn post; /* the plain product applies it to each panel; NULL: none */
    float *output;         /* [m][n] */
    size_t out_stride;     /* the plain product: floats between output rows; 0: n */
};

/* The plain product: rows in panels of about 128 KB of input. */
void sn_gemm_run(const struct sn_gemm *g);

#endif
