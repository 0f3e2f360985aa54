/* Reads the running CPU once and keeps the process-wide kernel-set choice. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

#include "cpu/arch.h"
#include "cpu/features.h"

#if SN_ARCH_X86_64
#include <cpuid.h>
#elif SN_ARCH_ARM
#include <sys/auxv.h>
#endif

static pthread_once_t detect_once = PTHREAD_ONCE_INIT;
static uint32_t detected_features;
static sn_isa env_cap = SN_ISA_COUNT;

/* The choice in force. Written by detection (under pthread_once) and by
 * sn_set_max_isa(); `current` is read lock-free by every getter. */
static sn_isa_choice choice;
static sn_isa cap_in_force = SN_ISA_COUNT;
static const char *cap_source = "none";
static _Atomic int current = SN_ISA_SCALAR;

static uint32_t read_features(void) {
#if SN_ARCH_X86_64
    sn_x86_cpuid id = {0};
    unsigned a, b, c, d;
    if (!__get_cpuid(0, &a, &b, &c, &d)) return 0;
    id.max_leaf = a;
    if (__get_cpuid(1, &a, &b, &c, &d)) id.leaf1_ecx = c;
    if (id.max_leaf >= 7 && __get_cpuid_count(7, 0, &a, &b, &c, &d)) {
        id.leaf7_ebx = b;
        id.leaf7_ecx = c;
    }
    if (id.leaf1_ecx & (1u << 27)) { /* OSXSAVE: XGETBV may be executed */
        uint32_t lo, hi;
        __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
        id.xcr0 = ((uint64_t)hi << 32) | lo;
    }
    return sn_cpu_features_x86(&id);
#elif SN_ARCH_ARM64
#ifndef AT_HWCAP2
#define AT_HWCAP2 26
#endif
    return sn_cpu_features_arm64(getauxval(AT_HWCAP), getauxval(AT_HWCAP2));
#elif SN_ARCH_ARM32
    return sn_cpu_features_arm32(getauxval(AT_HWCAP));
#else
    return 0;
#endif
}

static void set_choice(sn_isa cap, const char *source) {
    sn_isa_choose(sn_cpu_arch(), detected_features, cap, source, &choice);
    cap_in_force = cap;
    cap_source = cap == SN_ISA_COUNT ? "none" : source;
    atomic_store(&current, (int)choice.isa);
}

static void detect(void) {
    detected_features = read_features();
    const char *env = getenv("SCOPENN_ISA");
    if (env && *env) {
        if (sn_isa_from_name(env, &env_cap) != SN_OK) {
            fprintf(stderr,
                    "scopenn: warning: SCOPENN_ISA=%s is not one of scalar, avx2, avx512, "
                    "neon; ignoring it\n",
                    env);
            env_cap = SN_ISA_COUNT;
        }
    }
    set_choice(env_cap, "SCOPENN_ISA");
    if (!choice.honoured) fprintf(stderr, "scopenn: warning: %s\n", choice.reason);
}

static void ensure_detected(void) { pthread_once(&detect_once, detect); }

void sn_cpu_info_get(sn_cpu_info *info) {
    ensure_detected();
    if (!info) return;
    info->arch = sn_arch_name(sn_cpu_arch());
    info->isa = (sn_isa)atomic_load(&current);
    info->best_isa = choice.best;
    info->max_isa = cap_in_force;
    info->cap_source = cap_source;
    info->features = detected_features;
    info->isas = sn_cpu_isas(sn_cpu_arch(), detected_features);
    info->reason = choice.reason;
}

sn_isa sn_cpu_isa(void) {
    ensure_detected();
    return (sn_isa)atomic_load(&current);
}

const char *sn_isa_reason(void) {
    ensure_detected();
    return choice.reason;
}

sn_status sn_set_max_isa(sn_isa max_isa) {
    if ((unsigned)max_isa > SN_ISA_COUNT) return SN_ERR_INVALID_ARGUMENT;
    ensure_detected();
    set_choice(max_isa, "sn_set_max_isa");
    return choice.honoured ? SN_OK : SN_ERR_UNSUPPORTED;
}
