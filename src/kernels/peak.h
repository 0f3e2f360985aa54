/* The FMA peak probe: how many FP32 flops one core of this CPU does per
 * second with each kernel set's widest fused multiply-add, the ceiling
 * `scopenn bench` reports its kernels' speed against.
 *
 * Each kernel set's loop lives in its own folder and is compiled with that
 * ISA's flags only, as the kernels are (src/kernels/<isa>/f32-fma-peak-*.c);
 * peak.c times them. */
#ifndef SN_KERNELS_PEAK_H
#define SN_KERNELS_PEAK_H

#include <stdint.h>

#include "cpu/arch.h"
#include "scopenn.h"

/* The single-thread FP32 FMA throughput of `isa` on this CPU, in GFLOP/s
 * (10^9 flops per second, an FMA counting 2 per lane): the best of a few
 * timed runs of about 25 ms each of independent multiply-adds held in
 * registers. Returns 0 if this build or CPU cannot run `isa` (an ISA of
 * another architecture, or one the CPU lacks; not capped by SCOPENN_ISA or
 * sn_set_max_isa, which limit kernels, not what is measured). For
 * SN_ISA_SCALAR it measures plain C `acc * a + b` built for the baseline,
 * which the compiler may vectorize as it does the reference kernels; it is
 * reported for comparison, not a target. Takes about 0.1 s. Thread-safe;
 * it measures the calling thread. */
double sn_fma_peak_gflops(sn_isa isa);

/* The probe loops. Each runs `iterations` rounds of independent
 * multiply-adds on accumulators kept in registers, stores a sum of the
 * accumulators in *sink (so nothing can be optimized away), and returns the
 * floating-point operations it did (2 per lane per multiply-add). Call only
 * on a CPU that runs the loop's ISA. */
typedef uint64_t (*sn_f32_fma_peak_fn)(uint64_t iterations, float *sink);

uint64_t sn_f32_fma_peak__scalar(uint64_t iterations, float *sink);
#if SN_ARCH_X86_64
uint64_t sn_f32_fma_peak__avx2(uint64_t iterations, float *sink);
uint64_t sn_f32_fma_peak__avx512(uint64_t iterations, float *sink);
#endif
#if SN_ARCH_ARM
uint64_t sn_f32_fma_peak__neon(uint64_t iterations, float *sink);
#endif

#endif /* SN_KERNELS_PEAK_H */
