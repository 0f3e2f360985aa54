#include "kernels/kernels.h"

/* One table per kernel set. Each per-op kernel list fills its field in every
 * table it has a kernel for, so adding a kernel is one line in its list. */
static const struct sn_kernels tables[SN_ISA_COUNT] = {
    [SN_ISA_SCALAR].isa = SN_ISA_SCALAR,
    [SN_ISA_AVX2].isa = SN_ISA_AVX2,
    [SN_ISA_AVX512].isa = SN_ISA_AVX512,
    [SN_ISA_NEON].isa = SN_ISA_NEON,
#define SN_KERNEL(isa_, fn) [isa_].f32_relu = fn,
#include "kernels/f32-vrelu.inc"
#undef SN_KERNEL
#define SN_VUNARY_KERNEL(isa_, op_, fn) [isa_].f32_##op_ = fn,
#include "kernels/f32-vunary.inc"
#undef SN_VUNARY_KERNEL
#define SN_VLRELU_KERNEL(isa_, fn) [isa_].f32_leaky_relu = fn,
#include "kernels/f32-vlrelu.inc"
#undef SN_VLRELU_KERNEL
#define SN_VBINARY_KERNELS(isa_, op_, same_, scalar_, row_)                                        \
    [isa_].f32_binary[op_] = {.same = same_, .scalar = scalar_, .row = row_},
#include "kernels/f32-vbinary.inc"
#undef SN_VBINARY_KERNELS
#define SN_SOFTMAX_KERNEL(isa_, fn) [isa_].f32_softmax = fn,
#include "kernels/f32-softmax.inc"
#undef SN_SOFTMAX_KERNEL
#define SN_POOL_KERNEL(isa_, op_, fn) [isa_].f32_##op_ = fn,
#include "kernels/f32-pool.inc"
#undef SN_POOL_KERNEL
#define SN_DWCONV_KERNEL(isa_, fn) [isa_].f32_dwconv = fn,
#include "kernels/f32-dwconv.inc"
#undef SN_DWCONV_KERNEL
#define SN_RDMEAN_KERNEL(isa_, fn) [isa_].f32_rdmean = fn,
#include "kernels/f32-rdmean.inc"
#undef SN_RDMEAN_KERNEL
#define SN_CONV_KERNEL(isa_, mr_, nr_, tile_, row_, layout_)                                       \
    [isa_].conv = {.mr = mr_,                                                                      \
                   .nr = nr_,                                                                      \
                   .tile = tile_,                                                                  \
                   .row = row_,                                                                    \
                   .packer = &sn_packer_##layout_,                                                 \
                   .packer_transposed = &sn_packer_##layout_##_transposed,                         \
                   .packer_winograd = &sn_packer_##layout_##_winograd,                             \
                   .packer_strassen = &sn_packer_##layout_##_strassen,                             \
                   .packer_strassen_transposed = &sn_packer_##layout_##_strassen_transposed},
#include "kernels/f32-conv.inc"
#undef SN_CONV_KERNEL
#define SN_WINOGRAD_KERNELS(isa_, input_, output_)                                                 \
    [isa_].f32_winograd_input = input_, [isa_].f32_winograd_output = output_,
#include "kernels/f32-winograd.inc"
#undef SN_WINOGRAD_KERNELS
};

const struct sn_kernels *sn_kernels_for(sn_isa isa) {
    /* A kernel set this build has no kernels for (another architecture's)
     * has an empty table. */
    if ((unsigned)isa >= SN_ISA_COUNT || !tables[isa].f32_relu) return NULL;
    return &tables[isa];
}

const struct sn_kernels *sn_kernels_current(void) {
    const struct sn_kernels *k = sn_kernels_for(sn_cpu_isa());
    return k ? k : &tables[SN_ISA_SCALAR];
}

const struct sn_kernels *sn_kernels_get(sn_dtype dtype, sn_isa isa) {
    return dtype == SN_F32 ? sn_kernels_for(isa) : NULL;
}

const struct sn_conv_config *sn_gemm_config(sn_dtype dtype, sn_isa isa) {
    const struct sn_kernels *k = sn_kernels_get(dtype, isa);
    return k ? &k->conv : NULL;
}
