/* Every kernel of every list, on every kernel set this CPU runs, against the
 * scalar reference: all lengths up to a few vectors plus long ones, special
 * values, in place, and nothing written past the end. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/kernels.h"
#include "scopenn.h"
#include "tester.h"

struct kernel {
    sn_isa isa;
    const char *name;
    sn_f32_vunary_fn fn;
};

#define SN_KERNEL(isa, fn) {isa, #fn, fn},
static const struct kernel relu_kernels[] = {
#include "kernels/f32-vrelu.inc"
};
#undef SN_KERNEL

/* A small deterministic generator, so a failure replays exactly. */
static uint32_t rng_state = 12345;
static float next_value(void) {
    rng_state = rng_state * 1664525u + 1013904223u;
    switch (rng_state >> 28) {
    case 0: return NAN;
    case 1: return INFINITY;
    case 2: return -INFINITY;
    case 3: return -0.0f;
    case 4: return 0.0f;
    default: return ((float)(rng_state >> 8) / 16777216.0f - 0.5f) * 200.0f;
    }
}

/* Equal as relu results: same value, or both NaN; +0 and -0 are equal. */
static int same(float a, float b) { return (isnan(a) && isnan(b)) || a == b; }

enum { GUARD = 16, MAX_N = 300 };

static void check_unary(const struct kernel *k, sn_f32_vunary_fn ref) {
    static const size_t long_sizes[] = {255, 256, 257, 299};
    float x[MAX_N], want[MAX_N], got[MAX_N + GUARD], inplace[MAX_N];
    for (size_t t = 0; t < 70 + sizeof long_sizes / sizeof long_sizes[0]; t++) {
        size_t n = t < 70 ? t : long_sizes[t - 70];
        for (size_t i = 0; i < n; i++) x[i] = next_value();
        for (size_t i = 0; i < n + GUARD; i++) got[i] = 12345.0f;
        ref(n, x, want);
        k->fn(n, x, got);
        for (size_t i = 0; i < n; i++)
            if (!same(got[i], want[i]))
                fail_msg("%s: n=%zu, y[%zu]=%g for x=%g, reference %g", k->name, n, i, got[i], x[i],
                         want[i]);
        for (size_t i = n; i < n + GUARD; i++)
            if (got[i] != 12345.0f) fail_msg("%s: n=%zu wrote y[%zu], past the end", k->name, n, i);
        memcpy(inplace, x, n * sizeof *x);
        k->fn(n, inplace, inplace);
        for (size_t i = 0; i < n; i++)
            if (!same(inplace[i], want[i]))
                fail_msg("%s: in place, n=%zu, y[%zu]=%g, reference %g", k->name, n, i, inplace[i],
                         want[i]);
    }
}

static void test_relu_kernels(void **state) {
    (void)state;
    int ran = 0;
    for (size_t i = 0; i < sizeof relu_kernels / sizeof relu_kernels[0]; i++) {
        const struct kernel *k = &relu_kernels[i];
        if (!runnable(k->isa)) {
            print_message("skip %s: this CPU cannot run %s\n", k->name, sn_isa_name(k->isa));
            continue;
        }
        print_message("check %s\n", k->name);
        check_unary(k, sn_f32_vrelu_ukernel__scalar);
        ran++;
    }
    assert_true(ran >= 1);
}

/* The reference itself, on values whose answer is known. */
static void test_relu_reference(void **state) {
    (void)state;
    const float x[] = {-2.0f, -0.0f, 0.0f, 3.5f, -INFINITY, INFINITY, NAN};
    float y[7];
    sn_f32_vrelu_ukernel__scalar(7, x, y);
    assert_true(y[0] == 0.0f && y[1] == 0.0f && y[2] == 0.0f && y[3] == 3.5f);
    assert_true(y[4] == 0.0f && y[5] == INFINITY && isnan(y[6]));
}

/* Each kernel set has a full table on its own architecture, none elsewhere,
 * and the table in use is the one the CPU choice names. (Each kernel is
 * checked against the reference by elementwise_tester, pool_tester and
 * conv_tester.) */
static void test_tables(void **state) {
    (void)state;
    for (int i = 0; i < SN_ISA_COUNT; i++) {
        const struct sn_kernels *t = sn_kernels_for((sn_isa)i);
        int listed = 0;
        for (size_t j = 0; j < sizeof relu_kernels / sizeof relu_kernels[0]; j++)
            listed |= relu_kernels[j].isa == (sn_isa)i;
        if (!listed) {
            assert_null(t);
            continue;
        }
        assert_non_null(t);
        assert_int_equal(t->isa, i);
        assert_non_null(t->f32_relu);
        /* the session calls through every field but conv without checking */
        assert_non_null(t->f32_relu6);
        assert_non_null(t->f32_sigmoid);
        assert_non_null(t->f32_tanh);
        assert_non_null(t->f32_swish);
        assert_non_null(t->f32_hard_sigmoid);
        assert_non_null(t->f32_hard_swish);
        assert_non_null(t->f32_leaky_relu);
        for (int op = 0; op < SN_BINARY_OP_COUNT; op++) {
            assert_non_null(t->f32_binary[op].same);
            assert_non_null(t->f32_binary[op].scalar);
            assert_non_null(t->f32_binary[op].row);
        }
        assert_non_null(t->f32_softmax);
        assert_non_null(t->f32_max_pool);
        assert_non_null(t->f32_avg_pool);
    }
    assert_null(sn_kernels_for(SN_ISA_COUNT));
    assert_int_equal(sn_kernels_current()->isa, sn_cpu_isa());
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_relu_reference),
        cmocka_unit_test(test_relu_kernels),
        cmocka_unit_test(test_tables),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
