/* CPU feature decoding and kernel-set selection.
 *
 * Split from reading the CPU so that detection can be tested by replaying
 * other machines: the functions here are pure (raw CPUID words or HWCAP
 * bits in, features and a choice out) and are compiled on every
 * architecture; cpu.c reads the running CPU once and keeps the
 * process-wide choice, behind the getters of include/scopenn.h
 * (sn_cpu_info_get, sn_cpu_isa, sn_set_max_isa). */
#ifndef SN_CPU_FEATURES_H
#define SN_CPU_FEATURES_H

#include <stddef.h>
#include <stdint.h>

#include "scopenn.h"

/* The architecture whose ladder a choice climbs. */
typedef enum sn_arch {
    SN_ARCH_ID_UNKNOWN = 0, /* scalar only */
    SN_ARCH_ID_X86_64,
    SN_ARCH_ID_ARM64,
    SN_ARCH_ID_ARM32,
} sn_arch;

/* The architecture this library was compiled for. */
sn_arch sn_cpu_arch(void);
/* "x86_64", "aarch64", "arm" or "unknown". */
const char *sn_arch_name(sn_arch arch);

/* The CPUID and XGETBV words that x86 detection reads. */
typedef struct sn_x86_cpuid {
    uint32_t max_leaf;  /* leaf 0: EAX */
    uint32_t leaf1_ecx; /* leaf 1: ECX (FMA, OSXSAVE, AVX) */
    uint32_t leaf7_ebx; /* leaf 7, subleaf 0: EBX (AVX2, AVX-512 F/BW/VL) */
    uint32_t leaf7_ecx; /* leaf 7, subleaf 0: ECX (AVX512_VNNI) */
    uint64_t xcr0;      /* XGETBV(0); only read when OSXSAVE is set */
} sn_x86_cpuid;

/* Features (bits 1u << sn_cpu_feature) from raw x86 words. AVX-class
 * features are reported only if the OS saves the matching registers. */
uint32_t sn_cpu_features_x86(const sn_x86_cpuid *id);
/* Features from aarch64 getauxval(AT_HWCAP) and getauxval(AT_HWCAP2). */
uint32_t sn_cpu_features_arm64(uint64_t hwcap, uint64_t hwcap2);
/* Features from armv7 getauxval(AT_HWCAP). */
uint32_t sn_cpu_features_arm32(uint64_t hwcap);

/* Kernel sets (bits 1u << sn_isa) that a CPU of `arch` with `features` can
 * run. Always includes SN_ISA_SCALAR. */
uint32_t sn_cpu_isas(sn_arch arch, uint32_t features);

/* The choice of a kernel set. */
typedef struct sn_isa_choice {
    sn_isa isa;       /* the kernel set to use */
    sn_isa best;      /* the best the CPU can run, uncapped */
    int honoured;     /* 0 if the cap named a kernel set the CPU cannot run */
    char reason[256]; /* one sentence: why `isa` */
} sn_isa_choice;

/* Chooses the best kernel set of `arch` that the CPU can run and that is at
 * most `cap` on the architecture's ladder (avx512 > avx2 > scalar on x86-64,
 * neon > scalar on ARM). `cap` == SN_ISA_COUNT means no cap; `cap_source`
 * names where the cap came from, for the reason ("SCOPENN_ISA"). A cap from
 * another architecture's ladder leaves scalar, the one common rung. */
void sn_isa_choose(sn_arch arch, uint32_t features, sn_isa cap, const char *cap_source,
                   sn_isa_choice *choice);

#endif /* SN_CPU_FEATURES_H */
