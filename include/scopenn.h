/*
 * scopenn: fast CPU inference for x86-64 (AVX2, AVX-512) and ARM (NEON),
 * with TensorFlow 1.x-style variable scopes for building models in C.
 *
 * A first look: which kernel set will this process use, and why?
 *
 *     #include <scopenn.h>
 *     #include <stdio.h>
 *
 *     int main(void) {
 *         sn_cpu_info info;
 *         sn_cpu_info_get(&info);
 *         printf("scopenn %s on %s: isa %s (%s)\n", sn_version(),
 *                info.arch, sn_isa_name(info.isa), info.reason);
 *         // Use no more than AVX2, e.g. to compare kernel sets:
 *         if (sn_set_max_isa(SN_ISA_AVX2) != SN_OK)
 *             fprintf(stderr, "%s\n", sn_isa_reason());
 *         return 0;
 *     }
 *
 * The kernel set ("ISA") is chosen once per process from the CPU's features:
 * avx512 > avx2 > scalar on x86-64, neon > scalar on ARM. The environment
 * variable SCOPENN_ISA=scalar|avx2|avx512|neon, read once at first use, caps
 * the choice, as does sn_set_max_isa(). Asking for more than the CPU has is
 * never fatal: the best kernel set within the cap is used, with a warning.
 *
 * Thread safety: every function in this header may be called from any
 * thread unless its comment says otherwise.
 */
#ifndef SCOPENN_H
#define SCOPENN_H

#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------ */
/* Version                                                                  */
/* ------------------------------------------------------------------------ */

/* The version of this header. CMake reads the library version from here. */
#define SN_VERSION_MAJOR 0
#define SN_VERSION_MINOR 1
#define SN_VERSION_PATCH 0
/* One number that orders versions: 0.1.0 is 100, 1.2.3 is 10203. */
#define SN_VERSION_NUMBER (SN_VERSION_MAJOR * 10000 + SN_VERSION_MINOR * 100 + SN_VERSION_PATCH)

/* The version of the library linked in, "MAJOR.MINOR.PATCH". It may differ
 * from the SN_VERSION_* macros when the header and library do not match. */
const char *sn_version(void);

/* ------------------------------------------------------------------------ */
/* Status codes                                                             */
/* ------------------------------------------------------------------------ */

typedef enum sn_status {
    SN_OK = 0,
    /* A NULL pointer, an out-of-range enum value or a malformed name. */
    SN_ERR_INVALID_ARGUMENT,
    /* The request is valid but this CPU or build cannot honour it exactly;
     * the call did the closest thing it could and says what in its message. */
    SN_ERR_UNSUPPORTED,
    /* An allocation failed; nothing was changed. */
    SN_ERR_OUT_OF_MEMORY,
    SN_STATUS_COUNT /* not a status: the number of codes */
} sn_status;

/* A short constant English description of a status, e.g. "invalid
 * argument". Never NULL: unknown values give "unknown status". */
const char *sn_status_string(sn_status status);

/* ------------------------------------------------------------------------ */
/* Kernel sets and CPU features                                             */
/* ------------------------------------------------------------------------ */

/* A kernel set. Each is a rung on its architecture's ladder; SCALAR (the
 * portable C reference kernels) is on every ladder. */
typedef enum sn_isa {
    SN_ISA_SCALAR = 0,
    SN_ISA_AVX2,   /* x86-64: AVX2 + FMA, with the OS saving YMM state */
    SN_ISA_AVX512, /* x86-64: AVX-512F (+ AVX2, FMA), OS saving ZMM state */
    SN_ISA_NEON,   /* aarch64: ASIMD; armv7: NEON + VFPv4 (fused multiply-add) */
    SN_ISA_COUNT   /* not a kernel set: the number of them */
} sn_isa;

/* The lowercase name of a kernel set ("scalar", "avx2", "avx512", "neon"),
 * as SCOPENN_ISA spells it; "unknown" for values outside the enum. */
const char *sn_isa_name(sn_isa isa);

/* Parses a kernel set's name (case-insensitive). Returns SN_OK and sets *isa,
 * or SN_ERR_INVALID_ARGUMENT (and leaves *isa alone) for NULL or an unknown
 * name. */
sn_status sn_isa_from_name(const char *name, sn_isa *isa);

/* CPU features the library detects. The set that matters depends on the
 * architecture; the others are always reported absent. */
typedef enum sn_cpu_feature {
    /* x86-64 (CPUID, and XGETBV for what the OS saves on context switch) */
    SN_CPU_AVX2 = 0,
    SN_CPU_FMA,
    SN_CPU_AVX512F,
    SN_CPU_AVX512BW,
    SN_CPU_AVX512VL,
    SN_CPU_AVX512VNNI,
    SN_CPU_OS_YMM, /* XCR0: the OS saves SSE and AVX (YMM) state */
    SN_CPU_OS_ZMM, /* XCR0: the OS saves opmask and ZMM state */
    /* aarch64 (getauxval AT_HWCAP / AT_HWCAP2) */
    SN_CPU_ASIMD,
    SN_CPU_ASIMDDP,
    SN_CPU_FPHP,
    SN_CPU_ASIMDHP,
    SN_CPU_I8MM,
    /* armv7 (getauxval AT_HWCAP) */
    SN_CPU_NEON,
    SN_CPU_VFPV4,
    SN_CPU_FEATURE_COUNT /* not a feature: the number of them */
} sn_cpu_feature;

/* The lowercase name of a feature ("avx512f", "asimddp", "vfpv4", ...);
 * "unknown" for values outside the enum. */
const char *sn_cpu_feature_name(sn_cpu_feature feature);

/* What the library found and chose. Strings are static or owned by the
 * library and stay valid until the next sn_set_max_isa() call. */
typedef struct sn_cpu_info {
    const char *arch;       /* "x86_64", "aarch64", "arm" or "unknown" */
    sn_isa isa;             /* the kernel set in use now */
    sn_isa best_isa;        /* the best kernel set this CPU can run, uncapped */
    sn_isa max_isa;         /* the cap in force (SN_ISA_COUNT: no cap) */
    const char *cap_source; /* "SCOPENN_ISA", "sn_set_max_isa" or "none" */
    uint32_t features;      /* bit (1u << f) set for each detected sn_cpu_feature f */
    uint32_t isas;          /* bit (1u << i) set for each sn_isa this CPU can run */
    const char *reason;     /* one sentence: why `isa` was chosen */
} sn_cpu_info;

/* Fills *info with the detected features and the current choice. Detection
 * runs once per process, on first use of any function in this section. */
void sn_cpu_info_get(sn_cpu_info *info);

/* The kernel set in use now. */
sn_isa sn_cpu_isa(void);

/* Caps the kernel set for the whole process, overriding SCOPENN_ISA; the
 * cap SN_ISA_COUNT removes any cap (the environment's included). Later
 * sessions use the new choice; this does not reach into running ones.
 * Returns:
 *   SN_OK                    the CPU can run `max_isa`, which is now the
 *                            kernel set in use (or the cap was removed);
 *   SN_ERR_UNSUPPORTED       the CPU cannot run `max_isa`, or it belongs to
 *                            another architecture: the best kernel set below
 *                            the cap is used instead, and sn_isa_reason()
 *                            says which and why (the warning);
 *   SN_ERR_INVALID_ARGUMENT  `max_isa` is not an sn_isa; nothing changes.
 * Not meant to be raced with itself: call it from one thread at start-up. */
sn_status sn_set_max_isa(sn_isa max_isa);

/* One sentence saying why the current kernel set was chosen. Static or
 * library-owned; valid until the next sn_set_max_isa() call. */
const char *sn_isa_reason(void);

#ifdef __cplusplus
}
#endif

#endif /* SCOPENN_H */
