/* Times the FMA peak loops (src/kernels/<isa>/f32-fma-peak-*.c). */
#include "kernels/peak.h"

#include "base/clock.h"

/* The loop of each kernel set this build has, by ISA; NULL for the others. */
static const sn_f32_fma_peak_fn peak_loops[SN_ISA_COUNT] = {
    [SN_ISA_SCALAR] = sn_f32_fma_peak__scalar,
#if SN_ARCH_X86_64
    [SN_ISA_AVX2] = sn_f32_fma_peak__avx2,
    [SN_ISA_AVX512] = sn_f32_fma_peak__avx512,
#endif
#if SN_ARCH_ARM
    [SN_ISA_NEON] = sn_f32_fma_peak__neon,
#endif
};

/* Where the loops' results go, so no compiler can drop them. */
static volatile float peak_sink;

/* Runs `loop` for `iterations` rounds; returns the seconds it took and sets
 * *flops. */
static double time_loop(sn_f32_fma_peak_fn loop, uint64_t iterations, uint64_t *flops) {
    float sink;
    double start = sn_now_ms();
    *flops = loop(iterations, &sink);
    double seconds = (sn_now_ms() - start) / 1e3;
    peak_sink = sink;
    return seconds;
}

double sn_fma_peak_gflops(sn_isa isa) {
    if ((unsigned)isa >= SN_ISA_COUNT || !peak_loops[isa]) return 0.0;
    sn_cpu_info info;
    sn_cpu_info_get(&info);
    if (!((info.isas >> isa) & 1)) return 0.0;
    sn_f32_fma_peak_fn loop = peak_loops[isa];

    /* Grow a run until it takes 2 ms (the clock's resolution and the cost
     * of reading it are then far below 1%), then size the timed runs from
     * it. Under an emulator this keeps the probe as short in wall time. */
    const double calibrate_s = 0.002, run_s = 0.025;
    uint64_t iterations = 256, flops;
    double seconds;
    while ((seconds = time_loop(loop, iterations, &flops)) < calibrate_s &&
           iterations < ((uint64_t)1 << 40))
        iterations *= 4;
    if (seconds > 0.0 && seconds < run_s) iterations = (uint64_t)(iterations * (run_s / seconds));

    /* The best of four: the first also warms the core up to speed (clock
     * ramp-up, the upper half of the vector unit powered on). */
    double best = 0.0;
    for (int rep = 0; rep < 4; rep++) {
        seconds = time_loop(loop, iterations, &flops);
        if (seconds > 0.0 && flops / seconds > best) best = flops / seconds;
    }
    return best * 1e-9;
}
