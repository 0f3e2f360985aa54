/* SLEEF's 4-lane exp and tanh (1.0-ULP) for the NEON kernels, by the name of
 * the build they need, as the x86 kernels call Sleef_expf8_u10avx2:
 *   aarch64: Sleef_*f4_u10advsimd (FMA; the plain Sleef_expf4_u10 is the
 *            same function there);
 *   armv7:   Sleef_*f4_u10neonvfpv4 (FMA; the plain name is the `neon`
 *            build, without VFPv4). The NEON kernel set needs VFPv4 anyway.
 * On armv7 they run under flush to zero (ieee-neon.h): a subnormal argument
 * counts as zero and a subnormal result comes out as zero. */
#ifndef SN_KERNELS_NEON_SLEEF_NEON_H
#define SN_KERNELS_NEON_SLEEF_NEON_H

#include <arm_neon.h>
#include <sleef.h>

#include "cpu/arch.h"

static inline float32x4_t sn_expf4_neon(float32x4_t x) {
#if SN_ARCH_ARM64
    return Sleef_expf4_u10advsimd(x);
#else
    return Sleef_expf4_u10neonvfpv4(x);
#endif
}

static inline float32x4_t sn_tanhf4_neon(float32x4_t x) {
#if SN_ARCH_ARM64
    return Sleef_tanhf4_u10advsimd(x);
#else
    return Sleef_tanhf4_u10neonvfpv4(x);
#endif
}

#endif /* SN_KERNELS_NEON_SLEEF_NEON_H */
