/* The kernel tables: one const table of function pointers per kernel set,
 * filled at compile time; the dispatcher hands out the one the CPU choice
 * (src/cpu) names.
 *
 * Kernel contract (after XNNPACK): kernels allocate nothing, return void,
 * take restrict pointers, assume their preconditions (all validation of user
 * input happens above them), and never write outside their output. */
#ifndef SN_KERNELS_KERNELS_H
#define SN_KERNELS_KERNELS_H

#include <stddef.h>

#include "cpu/arch.h"
#include "scopenn.h"

/* y[i] = max(x[i], 0) for i < n; NaN stays NaN. x and y may be equal. */
typedef void (*sn_f32_vunary_fn)(size_t n, const float *x, float *y);

/* Declare every kernel of every list, for the architecture being built. */
#define SN_KERNEL(isa, fn) void fn(size_t n, const float *x, float *y);
#include "kernels/f32-vrelu.inc"
#undef SN_KERNEL

struct sn_kernels {
    sn_isa isa;
    sn_f32_vunary_fn f32_relu;
};

/* The table of `isa`, or NULL if this build has no kernels for it (an ISA
 * of another architecture). Does not check that the CPU can run it. */
const struct sn_kernels *sn_kernels_for(sn_isa isa);

/* The table of the kernel set in use now (see sn_cpu_isa()). Never NULL. */
const struct sn_kernels *sn_kernels_current(void);

#endif /* SN_KERNELS_KERNELS_H */
