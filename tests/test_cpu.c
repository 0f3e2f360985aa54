/* CPU detection and kernel-set choice: replayed machines, the cap rules,
 * and the process-wide API. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "cpu/features.h"
#include "kernels/kernels.h"
#include "scopenn.h"

#define F(x) (UINT32_C(1) << SN_CPU_##x)
#define ISA(x) (UINT32_C(1) << SN_ISA_##x)

/* ---- replayed x86 machines: CPUID leaves 0, 1, 7 and XCR0 ------------- */

struct x86_case {
    const char *name;
    sn_x86_cpuid id;
    uint32_t features;
    sn_isa best;
    const char *reason_has; /* a phrase the reason must contain */
};

/* Captured with CPUID/XGETBV on the machines named: a real AMD EPYC with
 * AVX-512 (this project's build host) and qemu 7.2's CPU models. */
static const struct x86_case x86_cases[] = {
    {"AMD EPYC (Zen 4, AVX-512)",
     {.max_leaf = 0x1c,
      .leaf1_ecx = 0xfffa3203,
      .leaf7_ebx = 0xf1bf07ab,
      .leaf7_ecx = 0x00405fc6,
      .xcr0 = 0xe7},
     F(AVX2) | F(FMA) | F(AVX512F) | F(AVX512BW) | F(AVX512VL) | F(AVX512VNNI) | F(OS_YMM) |
         F(OS_ZMM),
     SN_ISA_AVX512,
     "avx512 is the best"},
    {"AMD EPYC, OS saves no ZMM state",
     {.max_leaf = 0x1c,
      .leaf1_ecx = 0xfffa3203,
      .leaf7_ebx = 0xf1bf07ab,
      .leaf7_ecx = 0x00405fc6,
      .xcr0 = 0x07},
     F(AVX2) | F(FMA) | F(OS_YMM),
     SN_ISA_AVX2,
     "does not save ZMM state"},
    {"AMD EPYC, OS saves no YMM state",
     {.max_leaf = 0x1c,
      .leaf1_ecx = 0xfffa3203,
      .leaf7_ebx = 0xf1bf07ab,
      .leaf7_ecx = 0x00405fc6,
      .xcr0 = 0x03},
     0,
     SN_ISA_SCALAR,
     "does not save YMM state"},
    {"AMD EPYC, OSXSAVE clear (XCR0 must not be trusted)",
     {.max_leaf = 0x1c,
      .leaf1_ecx = 0xfffa3203 & ~(1u << 27),
      .leaf7_ebx = 0xf1bf07ab,
      .leaf7_ecx = 0x00405fc6,
      .xcr0 = 0xe7},
     0,
     SN_ISA_SCALAR,
     "not avx2: no AVX"},
    {"qemu Haswell",
     {.max_leaf = 0xd,
      .leaf1_ecx = 0xfed83203,
      .leaf7_ebx = 0x000003a9,
      .leaf7_ecx = 0,
      .xcr0 = 0x7},
     F(AVX2) | F(FMA) | F(OS_YMM),
     SN_ISA_AVX2,
     "not avx512: no AVX-512F"},
    {"qemu Skylake-Server (TCG filters AVX-512)",
     {.max_leaf = 0xd,
      .leaf1_ecx = 0xfed83203,
      .leaf7_ebx = 0x019803a9,
      .leaf7_ecx = 0x8,
      .xcr0 = 0x207},
     F(AVX2) | F(FMA) | F(OS_YMM),
     SN_ISA_AVX2,
     "not avx512"},
    {"qemu SandyBridge (AVX, no AVX2)",
     {.max_leaf = 0xd, .leaf1_ecx = 0x9e982203, .leaf7_ebx = 0, .leaf7_ecx = 0, .xcr0 = 0x7},
     F(OS_YMM),
     SN_ISA_SCALAR,
     "not avx2: no AVX2"},
    {"qemu Nehalem (no AVX)",
     {.max_leaf = 0xb, .leaf1_ecx = 0x80982201, .leaf7_ebx = 0, .leaf7_ecx = 0, .xcr0 = 0},
     0,
     SN_ISA_SCALAR,
     "not avx2: no AVX"},
    {"leaf 7 beyond max_leaf is ignored",
     {.max_leaf = 0x6,
      .leaf1_ecx = 0xfed83203,
      .leaf7_ebx = 0xf1bf07ab,
      .leaf7_ecx = 0x00405fc6,
      .xcr0 = 0xe7},
     F(FMA) | F(OS_YMM) | F(OS_ZMM),
     SN_ISA_SCALAR,
     "no AVX2"},
};

static void test_replay_x86(void **state) {
    (void)state;
    for (size_t i = 0; i < sizeof x86_cases / sizeof x86_cases[0]; i++) {
        const struct x86_case *c = &x86_cases[i];
        uint32_t f = sn_cpu_features_x86(&c->id);
        sn_isa_choice ch;
        sn_isa_choose(SN_ARCH_ID_X86_64, f, SN_ISA_COUNT, "SCOPENN_ISA", &ch);
        print_message("%-48s features 0x%04x isa %-6s: %s\n", c->name, f, sn_isa_name(ch.isa),
                      ch.reason);
        assert_int_equal(f, c->features);
        assert_int_equal(ch.isa, c->best);
        assert_int_equal(ch.best, c->best);
        assert_true(ch.honoured);
        assert_non_null(strstr(ch.reason, c->reason_has));
    }
}

/* ---- replayed ARM machines: getauxval(AT_HWCAP), (AT_HWCAP2) ---------- */

struct arm_case {
    const char *name;
    sn_arch arch;
    uint64_t hwcap, hwcap2;
    uint32_t features;
    sn_isa best;
    const char *reason_has;
};

/* qemu 7.2 CPU models, captured with getauxval under qemu-user; the Pi 1
 * and Pi 4 rows are their /proc/cpuinfo "Features" lines turned into bits
 * ("half thumb fastmult vfp edsp java tls"; "fp asimd evtstrm crc32 cpuid"). */
static const struct arm_case arm_cases[] = {
    {"qemu cortex-a53 (Pi 3)", SN_ARCH_ID_ARM64, 0x8fb, 0, F(ASIMD), SN_ISA_NEON, "ASIMD"},
    {"qemu cortex-a72", SN_ARCH_ID_ARM64, 0x8fb, 0, F(ASIMD), SN_ISA_NEON, "neon is the best"},
    {"Raspberry Pi 4 (cortex-a72)", SN_ARCH_ID_ARM64, 0x887, 0, F(ASIMD), SN_ISA_NEON, "ASIMD"},
    {"qemu cortex-a76 (Pi 5)", SN_ARCH_ID_ARM64, 0x119ffb, 0,
     F(ASIMD) | F(ASIMDDP) | F(FPHP) | F(ASIMDHP), SN_ISA_NEON, "ASIMD"},
    {"qemu max (aarch64)", SN_ARCH_ID_ARM64, 0xecfffffb, 0x7f877fff,
     F(ASIMD) | F(ASIMDDP) | F(FPHP) | F(ASIMDHP) | F(I8MM), SN_ISA_NEON, "ASIMD"},
    {"aarch64 without ASIMD (fp only)", SN_ARCH_ID_ARM64, 0x1, 0, 0, SN_ISA_SCALAR, "no ASIMD"},
    {"qemu cortex-a7 (Pi 2, 32-bit)", SN_ARCH_ID_ARM32, 0x1fb8d7, 0, F(NEON) | F(VFPV4),
     SN_ISA_NEON, "NEON with VFPv4"},
    {"qemu cortex-a9 (NEON, no VFPv4)", SN_ARCH_ID_ARM32, 0x8b8d7, 0, F(NEON), SN_ISA_SCALAR,
     "without VFPv4"},
    {"qemu cortex-r5f (no NEON)", SN_ARCH_ID_ARM32, 0x6e0d7, 0, 0, SN_ISA_SCALAR, "no NEON"},
    {"Raspberry Pi 1 / Zero (arm1176)", SN_ARCH_ID_ARM32, 0x81d6, 0, 0, SN_ISA_SCALAR, "no NEON"},
};

static void test_replay_arm(void **state) {
    (void)state;
    for (size_t i = 0; i < sizeof arm_cases / sizeof arm_cases[0]; i++) {
        const struct arm_case *c = &arm_cases[i];
        uint32_t f = c->arch == SN_ARCH_ID_ARM64 ? sn_cpu_features_arm64(c->hwcap, c->hwcap2)
                                                 : sn_cpu_features_arm32(c->hwcap);
        sn_isa_choice ch;
        sn_isa_choose(c->arch, f, SN_ISA_COUNT, "SCOPENN_ISA", &ch);
        print_message("%-48s features 0x%04x isa %-6s: %s\n", c->name, f, sn_isa_name(ch.isa),
                      ch.reason);
        assert_int_equal(f, c->features);
        assert_int_equal(ch.isa, c->best);
        assert_non_null(strstr(ch.reason, c->reason_has));
    }
}

/* ---- the cap ------------------------------------------------------------ */

static const uint32_t zen4 = F(AVX2) | F(FMA) | F(AVX512F) | F(OS_YMM) | F(OS_ZMM);
static const uint32_t haswell = F(AVX2) | F(FMA) | F(OS_YMM);

static void test_cap_below_best_is_honoured(void **state) {
    (void)state;
    sn_isa_choice ch;
    sn_isa_choose(SN_ARCH_ID_X86_64, zen4, SN_ISA_AVX2, "SCOPENN_ISA", &ch);
    assert_int_equal(ch.isa, SN_ISA_AVX2);
    assert_int_equal(ch.best, SN_ISA_AVX512);
    assert_true(ch.honoured);
    assert_string_equal(ch.reason, "avx2 is capped by SCOPENN_ISA=avx2; this CPU could run avx512");
    sn_isa_choose(SN_ARCH_ID_X86_64, zen4, SN_ISA_SCALAR, "sn_set_max_isa", &ch);
    assert_int_equal(ch.isa, SN_ISA_SCALAR);
    assert_true(ch.honoured);
    assert_non_null(strstr(ch.reason, "sn_set_max_isa=scalar"));
    sn_isa_choose(SN_ARCH_ID_ARM32, F(NEON) | F(VFPV4), SN_ISA_SCALAR, "SCOPENN_ISA", &ch);
    assert_int_equal(ch.isa, SN_ISA_SCALAR);
    assert_true(ch.honoured);
}

static void test_cap_equal_to_best(void **state) {
    (void)state;
    sn_isa_choice ch;
    sn_isa_choose(SN_ARCH_ID_X86_64, haswell, SN_ISA_AVX2, "SCOPENN_ISA", &ch);
    assert_int_equal(ch.isa, SN_ISA_AVX2);
    assert_true(ch.honoured);
    assert_non_null(strstr(ch.reason, "SCOPENN_ISA=avx2 allows it"));
}

static void test_cap_the_cpu_lacks_warns_and_uses_best_below(void **state) {
    (void)state;
    sn_isa_choice ch;
    sn_isa_choose(SN_ARCH_ID_X86_64, haswell, SN_ISA_AVX512, "SCOPENN_ISA", &ch);
    assert_int_equal(ch.isa, SN_ISA_AVX2);
    assert_false(ch.honoured);
    assert_string_equal(
        ch.reason, "SCOPENN_ISA=avx512 asks for a kernel set this CPU cannot run (no AVX-512F, "
                   "or the OS does not save ZMM state); "
                   "using avx2, the best below it");
    sn_isa_choose(SN_ARCH_ID_X86_64, 0, SN_ISA_AVX512, "SCOPENN_ISA", &ch);
    assert_int_equal(ch.isa, SN_ISA_SCALAR);
    assert_false(ch.honoured);
    sn_isa_choose(SN_ARCH_ID_ARM32, F(NEON), SN_ISA_NEON, "SCOPENN_ISA", &ch);
    assert_int_equal(ch.isa, SN_ISA_SCALAR);
    assert_false(ch.honoured);
    assert_non_null(strstr(ch.reason, "VFPv4"));
}

static void test_cap_of_another_architecture_gives_scalar(void **state) {
    (void)state;
    sn_isa_choice ch;
    sn_isa_choose(SN_ARCH_ID_X86_64, zen4, SN_ISA_NEON, "SCOPENN_ISA", &ch);
    assert_int_equal(ch.isa, SN_ISA_SCALAR);
    assert_false(ch.honoured);
    assert_string_equal(ch.reason, "SCOPENN_ISA=neon is not a kernel set of x86_64; using scalar, "
                                   "the kernel set every architecture has");
    sn_isa_choose(SN_ARCH_ID_ARM64, F(ASIMD), SN_ISA_AVX512, "SCOPENN_ISA", &ch);
    assert_int_equal(ch.isa, SN_ISA_SCALAR);
    assert_false(ch.honoured);
    sn_isa_choose(SN_ARCH_ID_UNKNOWN, 0, SN_ISA_COUNT, "SCOPENN_ISA", &ch);
    assert_int_equal(ch.isa, SN_ISA_SCALAR);
}

static void test_isas_per_architecture(void **state) {
    (void)state;
    assert_int_equal(sn_cpu_isas(SN_ARCH_ID_X86_64, zen4), ISA(SCALAR) | ISA(AVX2) | ISA(AVX512));
    assert_int_equal(sn_cpu_isas(SN_ARCH_ID_X86_64, haswell), ISA(SCALAR) | ISA(AVX2));
    /* AVX-512F without FMA (no real CPU, but the rule is: avx512 needs both) */
    assert_int_equal(sn_cpu_isas(SN_ARCH_ID_X86_64, F(AVX512F) | F(AVX2)), ISA(SCALAR));
    assert_int_equal(sn_cpu_isas(SN_ARCH_ID_ARM64, F(ASIMD)), ISA(SCALAR) | ISA(NEON));
    assert_int_equal(sn_cpu_isas(SN_ARCH_ID_ARM32, F(NEON)), ISA(SCALAR));
    assert_int_equal(sn_cpu_isas(SN_ARCH_ID_ARM32, F(NEON) | F(VFPV4)), ISA(SCALAR) | ISA(NEON));
    /* x86 features mean nothing on ARM and vice versa */
    assert_int_equal(sn_cpu_isas(SN_ARCH_ID_ARM64, zen4), ISA(SCALAR));
    assert_int_equal(sn_cpu_isas(SN_ARCH_ID_X86_64, F(ASIMD) | F(NEON) | F(VFPV4)), ISA(SCALAR));
}

/* ---- names -------------------------------------------------------------- */

static void test_names(void **state) {
    (void)state;
    sn_isa isa = SN_ISA_COUNT;
    for (int i = 0; i < SN_ISA_COUNT; i++) {
        assert_int_equal(sn_isa_from_name(sn_isa_name((sn_isa)i), &isa), SN_OK);
        assert_int_equal(isa, i);
    }
    assert_int_equal(sn_isa_from_name("AVX512", &isa), SN_OK);
    assert_int_equal(isa, SN_ISA_AVX512);
    isa = SN_ISA_NEON;
    const char *bad[] = {"", "avx", "avx2 ", "scalarx", "sse", "neon64"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(sn_isa_from_name(bad[i], &isa), SN_ERR_INVALID_ARGUMENT);
        assert_int_equal(isa, SN_ISA_NEON); /* untouched */
    }
    assert_int_equal(sn_isa_from_name(NULL, &isa), SN_ERR_INVALID_ARGUMENT);
    assert_int_equal(sn_isa_from_name("avx2", NULL), SN_ERR_INVALID_ARGUMENT);
    assert_string_equal(sn_isa_name(SN_ISA_COUNT), "unknown");
    assert_string_equal(sn_isa_name((sn_isa)-1), "unknown");

    for (int f = 0; f < SN_CPU_FEATURE_COUNT; f++) {
        const char *name = sn_cpu_feature_name((sn_cpu_feature)f);
        assert_string_not_equal(name, "unknown");
        for (int g = 0; g < f; g++)
            assert_string_not_equal(name, sn_cpu_feature_name((sn_cpu_feature)g));
    }
    assert_string_equal(sn_cpu_feature_name(SN_CPU_FEATURE_COUNT), "unknown");

    for (int s = 0; s < SN_STATUS_COUNT; s++) {
        const char *text = sn_status_string((sn_status)s);
        assert_string_not_equal(text, "unknown status");
        for (int t = 0; t < s; t++) assert_string_not_equal(text, sn_status_string((sn_status)t));
    }
    assert_string_equal(sn_status_string(SN_STATUS_COUNT), "unknown status");
    assert_string_equal(sn_version(), "0.1.0");
    assert_int_equal(SN_VERSION_NUMBER,
                     SN_VERSION_MAJOR * 10000 + SN_VERSION_MINOR * 100 + SN_VERSION_PATCH);
}

/* ---- this process ------------------------------------------------------- */

static void *first_use(void *out) {
    *(sn_isa *)out = sn_cpu_isa();
    return NULL;
}

/* Must run first: several threads race to trigger detection. */
static void test_concurrent_first_use(void **state) {
    (void)state;
    enum { N = 4 };
    pthread_t threads[N];
    sn_isa seen[N];
    for (int i = 0; i < N; i++)
        assert_int_equal(pthread_create(&threads[i], NULL, first_use, &seen[i]), 0);
    for (int i = 0; i < N; i++) assert_int_equal(pthread_join(threads[i], NULL), 0);
    for (int i = 1; i < N; i++) assert_int_equal(seen[i], seen[0]);
    assert_int_equal(seen[0], sn_cpu_isa());
}

/* The matrix (scripts/test-matrix.sh) sets SCOPENN_EXPECT_ISA for every
 * column: the native machine with each ISA forced, the native binary under
 * qemu-x86_64 -cpu Haswell and Nehalem, and each ARM CPU under qemu. */
static void test_selected_isa(void **state) {
    (void)state;
    sn_cpu_info info;
    sn_cpu_info_get(&info);
    print_message("arch %s, isa %s (%s)\n", info.arch, sn_isa_name(info.isa), info.reason);
    assert_true(info.isas & (1u << info.isa));
    assert_true(info.isas & (1u << info.best_isa));
    assert_true(info.isas & ISA(SCALAR));
    assert_true(info.isa == info.best_isa || info.max_isa != SN_ISA_COUNT);
    assert_int_equal(sn_kernels_current()->isa, info.isa);

    const char *expect = getenv("SCOPENN_EXPECT_ISA");
    if (expect && *expect) {
        sn_isa want;
        assert_int_equal(sn_isa_from_name(expect, &want), SN_OK);
        if (info.isa != want)
            fail_msg("expected isa %s, got %s: %s", expect, sn_isa_name(info.isa), info.reason);
    }
    const char *env = getenv("SCOPENN_ISA");
    if (!env || !*env) {
        assert_int_equal(info.max_isa, SN_ISA_COUNT);
        assert_string_equal(info.cap_source, "none");
    } else {
        assert_string_equal(info.cap_source, "SCOPENN_ISA");
    }
}

static void test_set_max_isa(void **state) {
    (void)state;
    sn_cpu_info info;
    sn_cpu_info_get(&info);
    const sn_isa before = info.isa;

    assert_int_equal(sn_set_max_isa((sn_isa)(SN_ISA_COUNT + 1)), SN_ERR_INVALID_ARGUMENT);
    assert_int_equal(sn_set_max_isa((sn_isa)-1), SN_ERR_INVALID_ARGUMENT);
    assert_int_equal(sn_cpu_isa(), before);

    assert_int_equal(sn_set_max_isa(SN_ISA_SCALAR), SN_OK);
    assert_int_equal(sn_cpu_isa(), SN_ISA_SCALAR);
    assert_int_equal(sn_kernels_current()->isa, SN_ISA_SCALAR);
    sn_cpu_info_get(&info);
    assert_int_equal(info.max_isa, SN_ISA_SCALAR);
    assert_string_equal(info.cap_source, "sn_set_max_isa");

    /* Every kernel set: honoured if the CPU runs it, otherwise a warning and
     * the best the CPU runs below it. */
    for (int i = 0; i < SN_ISA_COUNT; i++) {
        sn_status st = sn_set_max_isa((sn_isa)i);
        if (info.isas & (1u << i)) {
            assert_int_equal(st, SN_OK);
            assert_int_equal(sn_cpu_isa(), i);
        } else {
            assert_int_equal(st, SN_ERR_UNSUPPORTED);
            assert_true(info.isas & (1u << sn_cpu_isa()));
            assert_true(sn_cpu_isa() != (sn_isa)i);
            print_message("cap %s: %s\n", sn_isa_name((sn_isa)i), sn_isa_reason());
            assert_non_null(strstr(sn_isa_reason(), sn_isa_name((sn_isa)i)));
        }
        assert_int_equal(sn_kernels_current()->isa, sn_cpu_isa());
    }

    /* No cap at all, not even the environment's: the best there is. */
    assert_int_equal(sn_set_max_isa(SN_ISA_COUNT), SN_OK);
    sn_cpu_info_get(&info);
    assert_int_equal(info.isa, info.best_isa);
    assert_string_equal(info.cap_source, "none");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_concurrent_first_use),
        cmocka_unit_test(test_selected_isa),
        cmocka_unit_test(test_replay_x86),
        cmocka_unit_test(test_replay_arm),
        cmocka_unit_test(test_cap_below_best_is_honoured),
        cmocka_unit_test(test_cap_equal_to_best),
        cmocka_unit_test(test_cap_the_cpu_lacks_warns_and_uses_best_below),
        cmocka_unit_test(test_cap_of_another_architecture_gives_scalar),
        cmocka_unit_test(test_isas_per_architecture),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_set_max_isa),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
