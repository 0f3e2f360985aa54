/* Pure decoding of CPU feature words and the choice of a kernel set.
 * Nothing here touches the running CPU: see cpu.c for that. */
#include "cpu/features.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "cpu/arch.h"

#define BIT(f) (UINT32_C(1) << (f))

/* x86: Intel SDM vol. 2A, CPUID; vol. 1 ch. 13 for XCR0. */
#define X86_LEAF1_ECX_FMA (1u << 12)
#define X86_LEAF1_ECX_OSXSAVE (1u << 27) /* XGETBV is usable */
#define X86_LEAF1_ECX_AVX (1u << 28)
#define X86_LEAF7_EBX_AVX2 (1u << 5)
#define X86_LEAF7_EBX_AVX512F (1u << 16)
#define X86_LEAF7_EBX_AVX512BW (1u << 30)
#define X86_LEAF7_EBX_AVX512VL (1u << 31)
#define X86_LEAF7_ECX_AVX512VNNI (1u << 11)
#define X86_XCR0_YMM UINT64_C(0x06) /* SSE (bit 1) + AVX upper halves (bit 2) */
#define X86_XCR0_ZMM UINT64_C(0xe0) /* opmask (5), ZMM_Hi256 (6), Hi16_ZMM (7) */

/* aarch64: linux arch/arm64/include/uapi/asm/hwcap.h */
#define ARM64_HWCAP_ASIMD (UINT64_C(1) << 1)
#define ARM64_HWCAP_FPHP (UINT64_C(1) << 9)
#define ARM64_HWCAP_ASIMDHP (UINT64_C(1) << 10)
#define ARM64_HWCAP_ASIMDDP (UINT64_C(1) << 20)
#define ARM64_HWCAP2_I8MM (UINT64_C(1) << 13)

/* armv7: linux arch/arm/include/uapi/asm/hwcap.h */
#define ARM32_HWCAP_NEON (UINT64_C(1) << 12)
#define ARM32_HWCAP_VFPV4 (UINT64_C(1) << 16)

static const char *const feature_names[SN_CPU_FEATURE_COUNT] = {
    [SN_CPU_AVX2] = "avx2",         [SN_CPU_FMA] = "fma",
    [SN_CPU_AVX512F] = "avx512f",   [SN_CPU_AVX512BW] = "avx512bw",
    [SN_CPU_AVX512VL] = "avx512vl", [SN_CPU_AVX512VNNI] = "avx512vnni",
    [SN_CPU_OS_YMM] = "os_ymm",     [SN_CPU_OS_ZMM] = "os_zmm",
    [SN_CPU_ASIMD] = "asimd",       [SN_CPU_ASIMDDP] = "asimddp",
    [SN_CPU_FPHP] = "fphp",         [SN_CPU_ASIMDHP] = "asimdhp",
    [SN_CPU_I8MM] = "i8mm",         [SN_CPU_NEON] = "neon",
    [SN_CPU_VFPV4] = "vfpv4",
};

const char *sn_isa_name(sn_isa isa) {
    static const char *const names[SN_ISA_COUNT] = {
        [SN_ISA_SCALAR] = "scalar",
        [SN_ISA_AVX2] = "avx2",
        [SN_ISA_AVX512] = "avx512",
        [SN_ISA_NEON] = "neon",
    };
    if ((unsigned)isa >= SN_ISA_COUNT) return "unknown";
    return names[isa];
}

sn_status sn_isa_from_name(const char *name, sn_isa *isa) {
    if (!name || !isa) return SN_ERR_INVALID_ARGUMENT;
    for (int i = 0; i < SN_ISA_COUNT; i++) {
        const char *want = sn_isa_name((sn_isa)i);
        size_t k = 0;
        while (name[k] && want[k] && tolower((unsigned char)name[k]) == want[k]) k++;
        if (!name[k] && !want[k]) {
            *isa = (sn_isa)i;
            return SN_OK;
        }
    }
    return SN_ERR_INVALID_ARGUMENT;
}

const char *sn_cpu_feature_name(sn_cpu_feature feature) {
    if ((unsigned)feature >= SN_CPU_FEATURE_COUNT) return "unknown";
    return feature_names[feature];
}

sn_arch sn_cpu_arch(void) {
#if SN_ARCH_X86_64
    return SN_ARCH_ID_X86_64;
#elif SN_ARCH_ARM64
    return SN_ARCH_ID_ARM64;
#elif SN_ARCH_ARM32
    return SN_ARCH_ID_ARM32;
#else
    return SN_ARCH_ID_UNKNOWN;
#endif
}

const char *sn_arch_name(sn_arch arch) {
    switch (arch) {
    case SN_ARCH_ID_X86_64: return "x86_64";
    case SN_ARCH_ID_ARM64: return "aarch64";
    case SN_ARCH_ID_ARM32: return "arm";
    case SN_ARCH_ID_UNKNOWN: break;
    }
    return "unknown";
}

uint32_t sn_cpu_features_x86(const sn_x86_cpuid *id) {
    uint32_t f = 0;
    uint32_t ebx7 = id->max_leaf >= 7 ? id->leaf7_ebx : 0;
    uint32_t ecx7 = id->max_leaf >= 7 ? id->leaf7_ecx : 0;
    int os_ymm = 0, os_zmm = 0;
    if (id->leaf1_ecx & X86_LEAF1_ECX_OSXSAVE) {
        os_ymm = (id->xcr0 & X86_XCR0_YMM) == X86_XCR0_YMM;
        os_zmm = os_ymm && (id->xcr0 & X86_XCR0_ZMM) == X86_XCR0_ZMM;
    }
    if (os_ymm) f |= BIT(SN_CPU_OS_YMM);
    if (os_zmm) f |= BIT(SN_CPU_OS_ZMM);
    /* The CPU may have AVX-class units the OS does not save; those count as
     * absent, since using them would corrupt other processes' registers. */
    if (os_ymm && (id->leaf1_ecx & X86_LEAF1_ECX_AVX)) {
        if (id->leaf1_ecx & X86_LEAF1_ECX_FMA) f |= BIT(SN_CPU_FMA);
        if (ebx7 & X86_LEAF7_EBX_AVX2) f |= BIT(SN_CPU_AVX2);
        if (os_zmm && (ebx7 & X86_LEAF7_EBX_AVX512F)) {
            f |= BIT(SN_CPU_AVX512F);
            if (ebx7 & X86_LEAF7_EBX_AVX512BW) f |= BIT(SN_CPU_AVX512BW);
            if (ebx7 & X86_LEAF7_EBX_AVX512VL) f |= BIT(SN_CPU_AVX512VL);
            if (ecx7 & X86_LEAF7_ECX_AVX512VNNI) f |= BIT(SN_CPU_AVX512VNNI);
        }
    }
    return f;
}

uint32_t sn_cpu_features_arm64(uint64_t hwcap, uint64_t hwcap2) {
    uint32_t f = 0;
    if (hwcap & ARM64_HWCAP_ASIMD) f |= BIT(SN_CPU_ASIMD);
    if (hwcap & ARM64_HWCAP_ASIMDDP) f |= BIT(SN_CPU_ASIMDDP);
    if (hwcap & ARM64_HWCAP_FPHP) f |= BIT(SN_CPU_FPHP);
    if (hwcap & ARM64_HWCAP_ASIMDHP) f |= BIT(SN_CPU_ASIMDHP);
    if (hwcap2 & ARM64_HWCAP2_I8MM) f |= BIT(SN_CPU_I8MM);
    return f;
}

uint32_t sn_cpu_features_arm32(uint64_t hwcap) {
    uint32_t f = 0;
    if (hwcap & ARM32_HWCAP_NEON) f |= BIT(SN_CPU_NEON);
    if (hwcap & ARM32_HWCAP_VFPV4) f |= BIT(SN_CPU_VFPV4);
    return f;
}

/* What a kernel set needs, as features, per architecture; 0 where the set
 * is not on that architecture's ladder (and SCALAR needs nothing). */
static uint32_t isa_needs(sn_arch arch, sn_isa isa) {
    switch (arch) {
    case SN_ARCH_ID_X86_64:
        if (isa == SN_ISA_AVX2) return BIT(SN_CPU_AVX2) | BIT(SN_CPU_FMA);
        if (isa == SN_ISA_AVX512) return BIT(SN_CPU_AVX512F) | BIT(SN_CPU_AVX2) | BIT(SN_CPU_FMA);
        break;
    case SN_ARCH_ID_ARM64:
        if (isa == SN_ISA_NEON) return BIT(SN_CPU_ASIMD);
        break;
    case SN_ARCH_ID_ARM32:
        /* The armv7 NEON kernels are built with -mfpu=neon-vfpv4 and may use
         * vfma: a Cortex-A8/A9 (NEON without VFPv4) must not get them. */
        if (isa == SN_ISA_NEON) return BIT(SN_CPU_NEON) | BIT(SN_CPU_VFPV4);
        break;
    case SN_ARCH_ID_UNKNOWN: break;
    }
    return 0;
}

/* The architecture's ladder, worst first. */
static int ladder(sn_arch arch, const sn_isa **rungs) {
    static const sn_isa x86[] = {SN_ISA_SCALAR, SN_ISA_AVX2, SN_ISA_AVX512};
    static const sn_isa arm[] = {SN_ISA_SCALAR, SN_ISA_NEON};
    static const sn_isa scalar[] = {SN_ISA_SCALAR};
    switch (arch) {
    case SN_ARCH_ID_X86_64: *rungs = x86; return 3;
    case SN_ARCH_ID_ARM64:
    case SN_ARCH_ID_ARM32: *rungs = arm; return 2;
    case SN_ARCH_ID_UNKNOWN: break;
    }
    *rungs = scalar;
    return 1;
}

/* The rung of `isa` on the ladder, or -1 if it is not on it. */
static int rung_of(sn_arch arch, sn_isa isa) {
    const sn_isa *rungs;
    int n = ladder(arch, &rungs);
    for (int i = 0; i < n; i++)
        if (rungs[i] == isa) return i;
    return -1;
}

uint32_t sn_cpu_isas(sn_arch arch, uint32_t features) {
    const sn_isa *rungs;
    int n = ladder(arch, &rungs);
    uint32_t isas = BIT(SN_ISA_SCALAR);
    for (int i = 1; i < n; i++) {
        uint32_t needs = isa_needs(arch, rungs[i]);
        if ((features & needs) == needs) isas |= BIT(rungs[i]);
    }
    return isas;
}

/* Why the CPU cannot run `isa` (on the ladder of `arch`, not SCALAR). */
static const char *why_not(sn_arch arch, uint32_t features, sn_isa isa) {
    uint32_t missing = isa_needs(arch, isa) & ~features;
    if (arch == SN_ARCH_ID_X86_64) {
        if (missing & BIT(SN_CPU_AVX512F))
            return (features & BIT(SN_CPU_OS_YMM)) && !(features & BIT(SN_CPU_OS_ZMM))
                       ? "no AVX-512F, or the OS does not save ZMM state"
                       : "no AVX-512F";
        if (!(features & BIT(SN_CPU_OS_YMM))) return "no AVX, or the OS does not save YMM state";
        if (missing & BIT(SN_CPU_AVX2)) return "no AVX2";
        if (missing & BIT(SN_CPU_FMA)) return "no FMA";
    } else if (arch == SN_ARCH_ID_ARM64) {
        if (missing & BIT(SN_CPU_ASIMD)) return "no ASIMD";
    } else if (arch == SN_ARCH_ID_ARM32) {
        if (missing & BIT(SN_CPU_NEON)) return "no NEON";
        if (missing & BIT(SN_CPU_VFPV4))
            return "NEON without VFPv4 fused multiply-add, which the neon kernels use";
    }
    return "not built for this architecture";
}

/* What makes the CPU able to run `isa`. */
static const char *why_yes(sn_arch arch, sn_isa isa) {
    switch (isa) {
    case SN_ISA_AVX512: return "AVX-512F, AVX2 and FMA, with ZMM state saved by the OS";
    case SN_ISA_AVX2: return "AVX2 and FMA, with YMM state saved by the OS";
    case SN_ISA_NEON:
        return arch == SN_ARCH_ID_ARM32 ? "NEON with VFPv4 fused multiply-add"
                                        : "ASIMD (NEON), present on every aarch64 CPU";
    case SN_ISA_SCALAR:
    case SN_ISA_COUNT: break;
    }
    return "portable C, runs anywhere";
}

void sn_isa_choose(sn_arch arch, uint32_t features, sn_isa cap, const char *cap_source,
                   sn_isa_choice *c) {
    const sn_isa *rungs;
    int n = ladder(arch, &rungs);
    uint32_t isas = sn_cpu_isas(arch, features);
    int best = 0;
    for (int i = 0; i < n; i++)
        if (isas & BIT(rungs[i])) best = i;
    c->best = rungs[best];
    c->honoured = 1;

    if (cap == SN_ISA_COUNT) {
        c->isa = c->best;
        if (best + 1 < n)
            snprintf(c->reason, sizeof c->reason, "%s is the best this CPU runs: %s; not %s: %s",
                     sn_isa_name(c->isa), why_yes(arch, c->isa), sn_isa_name(rungs[best + 1]),
                     why_not(arch, features, rungs[best + 1]));
        else
            snprintf(c->reason, sizeof c->reason, "%s is the best this CPU runs: %s",
                     sn_isa_name(c->isa), why_yes(arch, c->isa));
        return;
    }

    int cap_rung = rung_of(arch, cap);
    if (cap_rung < 0) {
        c->isa = SN_ISA_SCALAR;
        c->honoured = 0;
        snprintf(c->reason, sizeof c->reason,
                 "%s=%s is not a kernel set of %s; using scalar, the kernel set every "
                 "architecture has",
                 cap_source, sn_isa_name(cap), sn_arch_name(arch));
        return;
    }
    int use = cap_rung < best ? cap_rung : best;
    c->isa = rungs[use];
    if (cap_rung > best) {
        c->honoured = 0;
        snprintf(c->reason, sizeof c->reason,
                 "%s=%s asks for a kernel set this CPU cannot run (%s); using %s, the "
                 "best below it",
                 cap_source, sn_isa_name(cap), why_not(arch, features, cap), sn_isa_name(c->isa));
    } else if (cap_rung < best) {
        snprintf(c->reason, sizeof c->reason, "%s is capped by %s=%s; this CPU could run %s",
                 sn_isa_name(c->isa), cap_source, sn_isa_name(cap), sn_isa_name(c->best));
    } else {
        snprintf(c->reason, sizeof c->reason,
                 "%s is the best this CPU runs (%s), and %s=%s allows it", sn_isa_name(c->isa),
                 why_yes(arch, c->isa), cap_source, sn_isa_name(cap));
    }
}
