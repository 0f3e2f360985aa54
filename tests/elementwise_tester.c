/* Every elementwise kernel of every kernel set the host runs, against the
 * reference kernels (sn_f32_unary_ref, sn_f32_leaky_relu_ref,
 * sn_f32_binary_ref, sn_f32_softmax_ref): lengths 0..67 and a few long
 * ones, channels 1..67, each length at 64-byte aligned addresses and at
 * misaligned ones (operands and output 1 to 3 floats off, differently),
 * special values (NaN, +-inf, -0, huge magnitudes, subnormals, products
 * that underflow), in place, and guard floats around every output to catch
 * writes outside it. A kernel set the CPU lacks is skipped, not failed.
 *
 * Thresholds per op: relu6, hard_sigmoid, hard_swish, leaky relu, add,
 * subtract, multiply, reversed subtract and maximum must give the
 * reference's floats bit for bit (any NaN for a NaN); sigmoid, swish, tanh
 * and softmax, whose exp and tanh come from SLEEF instead of libm, within
 * max(abs, rel x |reference|). And each kernel set's swish must be x times
 * its own sigmoid, to the bit. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/kernels.h"
#include "kernels/ref/ref.h"
#include "scopenn.h"

/* ---- the kernel lists ------------------------------------------------------ */

/* Names for the tokens of f32-vunary.inc. */
enum {
    op_relu6 = SN_UNARY_RELU6,
    op_sigmoid = SN_UNARY_SIGMOID,
    op_tanh = SN_UNARY_TANH,
    op_swish = SN_UNARY_SWISH,
    op_hard_sigmoid = SN_UNARY_HARD_SIGMOID,
    op_hard_swish = SN_UNARY_HARD_SWISH,
};

struct unary_kernel {
    sn_isa isa;
    const char *name;
    sn_unary_op op;
    sn_f32_vunary_fn fn;
};

#define SN_VUNARY_KERNEL(isa, op, fn) {isa, #fn, (sn_unary_op)op_##op, fn},
static const struct unary_kernel unary_kernels[] = {
#include "kernels/f32-vunary.inc"
};
#undef SN_VUNARY_KERNEL

struct lrelu_kernel {
    sn_isa isa;
    const char *name;
    sn_f32_vlrelu_fn fn;
};

#define SN_VLRELU_KERNEL(isa, fn) {isa, #fn, fn},
static const struct lrelu_kernel lrelu_kernels[] = {
#include "kernels/f32-vlrelu.inc"
};
#undef SN_VLRELU_KERNEL

struct binary_kernels {
    sn_isa isa;
    const char *name; /* of the same-shape kernel */
    sn_binary_op op;
    struct sn_vbinary_kernels k;
};

#define SN_VBINARY_KERNELS(isa, op, same, scalar, row) {isa, #same, op, {same, scalar, row}},
static const struct binary_kernels binary_kernels[] = {
#include "kernels/f32-vbinary.inc"
};
#undef SN_VBINARY_KERNELS

struct softmax_kernel {
    sn_isa isa;
    const char *name;
    sn_f32_softmax_fn fn;
};

#define SN_SOFTMAX_KERNEL(isa, fn) {isa, #fn, fn},
static const struct softmax_kernel softmax_kernels[] = {
#include "kernels/f32-softmax.inc"
};
#undef SN_SOFTMAX_KERNEL

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* ---- helpers ------------------------------------------------------------- */

static int runnable(sn_isa isa, const char *name) {
    sn_cpu_info info;
    sn_cpu_info_get(&info);
    if ((info.isas >> isa) & 1) return 1;
    print_message("skip %s: this CPU cannot run %s\n", name, sn_isa_name(isa));
    return 0;
}

/* A small deterministic generator, so a failure replays exactly. */
static uint32_t rng = 2024;
static uint32_t next(void) { return rng = rng * 1664525u + 1013904223u; }
static float uniform(float lo, float hi) {
    return lo + (hi - lo) * (float)(next() >> 8) / 16777216.0f;
}

/* Mostly ordinary values across magnitudes, sometimes a special one.
 * 1.5e-38 and -1.2e-38 are normal but add up to a subnormal, as 1e-40 is:
 * armv7's NEON flushes those to zero. 1e-20 and -3e-21 are not even tiny
 * (ieee-neon.h), but their products are subnormal. -3 and 3 are where
 * hard_sigmoid and hard_swish bend. */
static float value(void) {
    static const float special[] = {
        NAN,   -NAN,   INFINITY, -INFINITY, 0.0f,     -0.0f,     FLT_MAX, -FLT_MAX, 1e-40f, -1e-40f,
        1e30f, -1e30f, 88.72f,   -88.72f,   89.0f,    -89.0f,    104.0f,  -104.0f,  6.0f,   -6.0f,
        9.0f,  -9.0f,  1e-3f,    -1e-3f,    1.5e-38f, -1.2e-38f, 1e-20f,  -3e-21f,  -3.0f,  3.0f};
    uint32_t r = next();
    if ((r >> 28) < 3) return special[(r >> 8) % COUNT(special)];
    switch ((r >> 24) & 3) {
    case 0: return uniform(-1.0f, 1.0f);
    case 1: return uniform(-10.0f, 10.0f);
    case 2: return uniform(-100.0f, 100.0f);
    default: return uniform(-1e4f, 1e4f);
    }
}

/* Finite values, none subnormal, some small: a clean vector for a
 * multiply (f32-vbinary-neon.c). */
static float clean_value(void) {
    static const float special[] = {0.0f,     -0.0f, 1e-20f, -1e-20f,  0x1p-101f, 1e-30f,
                                    1.5e-38f, 2.0f,  1e30f,  -FLT_MAX, 0x1p-63f,  -1e-25f};
    uint32_t r = next();
    if ((r >> 28) < 4) return special[(r >> 8) % COUNT(special)];
    return uniform(-10.0f, 10.0f);
}

/* Mostly ordinary values, sometimes one whose products with clean_value()s
 * underflow, a subnormal, a zero, an infinity or a NaN. */
static float product_value(void) {
    static const float special[] = {1e-20f, -3e-21f, 0x1p-70f, 1e-40f,   -3e-39f,   0.0f,
                                    -0.0f,  1e-30f,  0x1p-80f, INFINITY, -INFINITY, NAN};
    uint32_t r = next();
    if ((r >> 28) < 2) return special[(r >> 8) % COUNT(special)];
    return uniform(-10.0f, 10.0f);
}

/* Ordinary values only (for softmax rows that must stay finite). */
static float finite_value(void) { return uniform(-20.0f, 20.0f); }

enum { GUARD = 16 };
static const float guard_value = 12345.0f;

static void fill_guard(float *p, size_t n) {
    for (size_t i = 0; i < n; i++) p[i] = guard_value;
}

static void check_guard(const char *name, const float *p, size_t n, const char *what) {
    for (size_t i = n; i < n + GUARD; i++)
        if (p[i] != guard_value)
            fail_msg("%s: %s: wrote past the end (float %zu of %zu)", name, what, i, n);
}

/* The floats before an output that starts `off` floats into its buffer. */
static void check_guard_before(const char *name, const float *p, size_t off, const char *what) {
    for (size_t i = 0; i < off; i++)
        if (p[i] != guard_value)
            fail_msg("%s: %s: wrote before the start (float %zu before)", name, what, off - i);
}

/* Where each length's operands and output start, in floats past a 64-byte
 * boundary: placement 0 aligned, placement 1 misaligned, differently for
 * each operand and varying with the length. */
enum { PLACEMENTS = 2, MAX_OFF = 3 };
static size_t offset_of(size_t t, int placement, int operand) {
    return placement == 0 ? 0 : 1 + (t + (size_t)operand) % MAX_OFF;
}

/* Thresholds: |got - want| <= max(abs, rel * |want|); exact (abs = rel = 0)
 * means the same bits, or NaN for NaN. */
struct tolerance {
    double abs, rel;
};

static const struct tolerance exact = {0, 0};
/* SLEEF's expf and tanhf are 1.0-ULP, like libm's: a few ULP apart, plus the
 * division. Results below FLT_MIN are subnormal on both sides; there only
 * the absolute threshold counts. */
static const struct tolerance sigmoid_tolerance = {FLT_MIN, 4 * FLT_EPSILON};
static const struct tolerance tanh_tolerance = {FLT_MIN, 3 * FLT_EPSILON};
/* Softmax: exp's ULPs, the reciprocal, and a sum of `cols` positive terms
 * added in another order (relative error at most cols * eps each way). */
static struct tolerance softmax_tolerance(size_t cols) {
    return (struct tolerance){FLT_MIN, (6.0 + 2.0 * (double)cols) * FLT_EPSILON};
}

static int agree(float got, float want, struct tolerance t) {
    if (isnan(want) || isnan(got)) return isnan(want) && isnan(got);
    if (t.abs == 0 && t.rel == 0) return memcmp(&got, &want, sizeof got) == 0;
    if (isinf(want) || isinf(got)) return got == want;
    double d = fabs((double)got - (double)want), r = t.rel * fabs((double)want);
    return d <= (t.abs > r ? t.abs : r);
}

/* Largest relative error seen per op (sn_unary_op; softmax after them),
 * for the log. */
enum { SLOT_SOFTMAX = SN_UNARY_OP_COUNT };
static double worst[SLOT_SOFTMAX + 1];

static void note(int slot, float got, float want) {
    if (isfinite(want) && fabsf(want) >= FLT_MIN) {
        double r = fabs((double)got - (double)want) / fabs((double)want);
        if (r > worst[slot]) worst[slot] = r;
    }
}

static const size_t long_sizes[] = {127, 128, 129, 255, 256, 257, 1000, 4099};
enum { SIZES = 68 + COUNT(long_sizes), MAX_N = 4099 };

static size_t size_at(size_t t) { return t < 68 ? t : long_sizes[t - 68]; }

/* ---- unary ----------------------------------------------------------------- */

static struct tolerance unary_tolerance(sn_unary_op op) {
    switch (op) {
    case SN_UNARY_SIGMOID:
    case SN_UNARY_SWISH: return sigmoid_tolerance;
    case SN_UNARY_TANH: return tanh_tolerance;
    default: return exact;
    }
}

/* A unary kernel's call: fn, or leaky relu's lrelu with alpha. */
struct unary_call {
    const char *name;
    sn_unary_op op; /* fn's */
    sn_f32_vunary_fn fn;
    sn_f32_vlrelu_fn lrelu;
    float alpha;
};

static void call(const struct unary_call *c, size_t n, const float *x, float *y) {
    if (c->lrelu)
        c->lrelu(n, x, c->alpha, y);
    else
        c->fn(n, x, y);
}

static void call_ref(const struct unary_call *c, size_t n, const float *x, float *y) {
    if (c->lrelu)
        sn_f32_leaky_relu_ref(n, x, c->alpha, y);
    else
        sn_f32_unary_ref(c->op, n, x, y);
}

static void check_unary(const struct unary_call *c, struct tolerance tol) {
    enum { SPAN = MAX_N + MAX_OFF + GUARD };
    static _Alignas(64) float xs[SPAN], want[MAX_N], got[SPAN], inplace[SPAN];
    for (size_t t = 0; t < SIZES; t++) {
        size_t n = size_at(t);
        for (int pl = 0; pl < PLACEMENTS; pl++) {
            const size_t ox = offset_of(t, pl, 0), oy = offset_of(t, pl, 1);
            float *x = xs + ox, *y = got + oy;
            for (size_t i = 0; i < n; i++) x[i] = value();
            call_ref(c, n, x, want);
            fill_guard(got, n + oy + GUARD);
            call(c, n, x, y);
            for (size_t i = 0; i < n; i++) {
                if (!agree(y[i], want[i], tol))
                    fail_msg("%s: n=%zu (x +%zu, y +%zu floats), y[%zu]=%.9g for x=%.9g, "
                             "reference %.9g",
                             c->name, n, ox, oy, i, y[i], x[i], want[i]);
                /* swish's relative error where its sigmoid is normal */
                if (!c->lrelu && (c->op != SN_UNARY_SWISH || x[i] > -87.0f))
                    note((int)c->op, y[i], want[i]);
            }
            check_guard_before(c->name, got, oy, "y");
            check_guard(c->name, y, n, "y");
            /* in place, at x's placement */
            fill_guard(inplace, SPAN);
            memcpy(inplace + ox, x, n * sizeof *x);
            call(c, n, inplace + ox, inplace + ox);
            for (size_t i = 0; i < n; i++)
                if (!agree(inplace[ox + i], want[i], tol))
                    fail_msg("%s: in place, n=%zu (+%zu floats), y[%zu]=%.9g, reference %.9g",
                             c->name, n, ox, i, inplace[ox + i], want[i]);
            check_guard_before(c->name, inplace, ox, "in place");
            check_guard(c->name, inplace + ox, n, "in place");
        }
    }
}

/* The special values one by one, whose answers are known. */
static void check_unary_special(const struct unary_kernel *k) {
    const float x[] = {NAN,    INFINITY, -INFINITY, 0.0f,   -0.0f, 1e30f, -1e30f,
                       100.0f, -100.0f,  -88.0f,    -90.0f, 6.0f,  7.0f,  -3.0f};
    enum { N = sizeof x / sizeof x[0] };
    float y[N];
    k->fn(N, x, y);
    assert_true(isnan(y[0]));
    switch (k->op) {
    case SN_UNARY_RELU6:
        assert_true(y[1] == 6.0f && y[2] == 0.0f && y[3] == 0.0f && y[5] == 6.0f && y[6] == 0.0f);
        assert_true(signbit(y[4]) && y[11] == 6.0f && y[12] == 6.0f); /* -0 stays -0 */
        break;
    case SN_UNARY_SIGMOID:
        /* saturates, never NaN: exp(90) is +inf and 1 / (1 + inf) is 0 */
        assert_true(y[1] == 1.0f && y[2] == 0.0f && y[3] == 0.5f && y[4] == 0.5f);
        assert_true(y[5] == 1.0f && y[6] == 0.0f && y[7] == 1.0f && y[10] == 0.0f);
        assert_true(y[8] == 0.0f && y[9] > 0.0f && y[9] < 1e-37f); /* a subnormal at -88 */
        break;
    case SN_UNARY_TANH:
        assert_true(y[1] == 1.0f && y[2] == -1.0f && y[3] == 0.0f && signbit(y[4]));
        assert_true(y[5] == 1.0f && y[6] == -1.0f && y[7] == 1.0f && y[8] == -1.0f);
        break;
    case SN_UNARY_SWISH:
        /* x sigmoid(x): -inf x 0 is NaN (as PyTorch's silu); -0 stays -0;
         * below -88.7 the sigmoid is 0 and the product -0 */
        assert_true(y[1] == INFINITY && isnan(y[2]) && y[3] == 0.0f && !signbit(y[3]));
        assert_true(y[4] == 0.0f && signbit(y[4]) && y[5] == 1e30f && y[6] == 0.0f);
        assert_true(signbit(y[6]) && y[7] == 100.0f && y[8] == 0.0f && signbit(y[8]));
        assert_true(y[9] < 0.0f && y[9] > -1e-35f && y[10] == 0.0f && signbit(y[10]));
        assert_true(y[11] > 5.98f && y[11] < 5.99f); /* 6 sigmoid(6) = 5.985 */
        break;
    case SN_UNARY_HARD_SIGMOID:
        /* exactly 0, 1/2 and 1 where PyTorch's r / 6 is */
        assert_true(y[1] == 1.0f && y[2] == 0.0f && y[3] == 0.5f && y[4] == 0.5f);
        assert_true(y[5] == 1.0f && y[6] == 0.0f && y[7] == 1.0f && y[8] == 0.0f);
        assert_true(y[11] == 1.0f && y[12] == 1.0f && y[13] == 0.0f && !signbit(y[13]));
        break;
    case SN_UNARY_HARD_SWISH:
        /* (x r) / 6 as PyTorch: -inf x 0 is NaN, -x 0 is -0, 6 x 6 / 6 is 6 */
        assert_true(y[1] == INFINITY && isnan(y[2]) && y[3] == 0.0f && !signbit(y[3]));
        assert_true(y[4] == 0.0f && signbit(y[4]) && y[6] == 0.0f && signbit(y[6]));
        assert_true(y[7] == 100.0f && y[8] == 0.0f && signbit(y[8]) && y[11] == 6.0f);
        assert_true(y[12] == 7.0f && y[13] == 0.0f && signbit(y[13]));
        assert_true(fabsf(y[5] - 1e30f) <= 1e30f * FLT_EPSILON); /* 1 ULP */
        break;
    default: break;
    }
}

/* Swish is x times the kernel set's own sigmoid (its kernel in the list),
 * to the bit; only armv7's NEON, which flushes products below FLT_MIN to
 * zero, may give a zero for such a product. */
static void check_swish_is_x_sigmoid(const struct unary_kernel *k) {
    enum { N = 1003 };
    static float x[N], s[N], y[N];
    const struct unary_kernel *sig = NULL;
    for (size_t i = 0; i < COUNT(unary_kernels); i++)
        if (unary_kernels[i].isa == k->isa && unary_kernels[i].op == SN_UNARY_SIGMOID)
            sig = &unary_kernels[i];
    assert_non_null(sig);
    for (int round = 0; round < 4; round++) {
        for (size_t i = 0; i < N; i++) x[i] = round < 3 ? value() : uniform(-104.0f, 20.0f);
        sig->fn(N, x, s);
        k->fn(N, x, y);
        for (size_t i = 0; i < N; i++) {
            const float want = x[i] * s[i];
            if (isnan(want) ? isnan(y[i]) : memcmp(&want, &y[i], sizeof want) == 0) continue;
            if (fabsf(want) < FLT_MIN && y[i] == 0.0f) continue;
            fail_msg("%s: y[%zu]=%.9g for x=%.9g, but x times %s's %.9g is %.9g", k->name, i, y[i],
                     x[i], sig->name, s[i], want);
        }
    }
}

static void test_unary_kernels(void **state) {
    (void)state;
    for (size_t i = 0; i < COUNT(unary_kernels); i++) {
        const struct unary_kernel *k = &unary_kernels[i];
        if (!runnable(k->isa, k->name)) continue;
        const struct unary_call c = {.name = k->name, .op = k->op, .fn = k->fn};
        check_unary(&c, unary_tolerance(k->op));
        check_unary_special(k);
        if (k->op == SN_UNARY_SWISH) check_swish_is_x_sigmoid(k);
        print_message("%s agrees with the reference\n", k->name);
    }
    print_message("largest relative error: sigmoid %.3g, swish %.3g, tanh %.3g (FLT_EPSILON "
                  "%.3g)\n",
                  worst[SN_UNARY_SIGMOID], worst[SN_UNARY_SWISH], worst[SN_UNARY_TANH],
                  (double)FLT_EPSILON);
}

/* Leaky relu with alphas of every kind: TensorFlow's and PyTorch's
 * defaults, 0, negative, above 1, subnormal, two whose products underflow
 * (1e-20 x -3e-21 is subnormal: armv7's NEON flushes it), huge (products
 * overflow), inf and NaN. */
static void test_leaky_relu_kernels(void **state) {
    (void)state;
    static const float alphas[] = {0.2f,   0.01f,  0.0f,    -0.0f,    -0.5f,     1.5f, 1e-40f,
                                   1e-30f, 1e-20f, FLT_MAX, INFINITY, -INFINITY, NAN};
    const float x[] = {NAN, INFINITY, -INFINITY, 0.0f, -0.0f, -1.0f, 2.0f, -1e-40f, 1e-40f};
    enum { N = sizeof x / sizeof x[0] };
    for (size_t i = 0; i < COUNT(lrelu_kernels); i++) {
        const struct lrelu_kernel *k = &lrelu_kernels[i];
        if (!runnable(k->isa, k->name)) continue;
        for (size_t a = 0; a < COUNT(alphas); a++) {
            const struct unary_call c = {.name = k->name, .lrelu = k->fn, .alpha = alphas[a]};
            check_unary(&c, exact);
        }
        float y[N];
        k->fn(N, x, 0.2f, y);
        /* NaN and -0 pass through; 0.2 x -1 is 0.2f's float negated */
        assert_true(isnan(y[0]) && y[1] == INFINITY && y[2] == -INFINITY && y[3] == 0.0f);
        assert_true(!signbit(y[3]) && y[4] == 0.0f && signbit(y[4]) && y[5] == -0.2f);
        assert_true(y[6] == 2.0f && y[7] == 0.2f * -1e-40f && y[8] == 1e-40f);
        k->fn(N, x, -0.5f, y); /* a negative alpha: -0 still passes */
        assert_true(y[2] == INFINITY && signbit(y[4]) && y[5] == 0.5f && y[6] == 2.0f);
        print_message("%s agrees with the reference (%zu alphas)\n", k->name, COUNT(alphas));
    }
}

/* ---- binary ---------------------------------------------------------------- */

static void binary_ref(sn_binary_op op, size_t rows, size_t cols, const float *a, int64_t a_row,
                       int64_t a_col, const float *b, int64_t b_row, int64_t b_col, float *y) {
    const int64_t dims[2] = {(int64_t)rows, (int64_t)cols};
    const int64_t as[2] = {a_row, a_col}, bs[2] = {b_row, b_col};
    sn_f32_binary_ref(op, 2, dims, a, as, b, bs, y);
}

static void compare(const char *name, const char *what, size_t rows, size_t cols, const float *got,
                    const float *want, const float *a, const float *b) {
    for (size_t i = 0; i < rows * cols; i++)
        if (!agree(got[i], want[i], exact))
            fail_msg("%s (%s): %zu x %zu, y[%zu]=%.9g, reference %.9g (a %.9g, b %.9g)", name, what,
                     rows, cols, i, got[i], want[i], a ? a[i] : NAN, b ? b[i] : NAN);
}

static void check_binary(const struct binary_kernels *k) {
    enum { SPAN = MAX_N + MAX_OFF + GUARD };
    static _Alignas(64) float as[SPAN], bs[SPAN], want[MAX_N], got[SPAN], inplace[SPAN];
    for (size_t t = 0; t < SIZES; t++) {
        size_t n = size_at(t);
        for (int pl = 0; pl < PLACEMENTS; pl++) {
            const size_t oa = offset_of(t, pl, 0), ob = offset_of(t, pl, 1);
            const size_t oy = offset_of(t, pl, 2);
            float *a = as + oa, *b = bs + ob, *y = got + oy;
            for (size_t i = 0; i < n; i++) a[i] = value(), b[i] = value();
            /* equal pairs now and then: the sign of a zero and NaN order */
            for (size_t i = 0; i + 7 < n; i += 7) b[i] = next() & 1 ? a[i] : -a[i];

            /* same shape */
            binary_ref(k->op, 1, n, a, 0, 1, b, 0, 1, want);
            fill_guard(got, n + oy + GUARD);
            k->k.same(n, a, b, y);
            compare(k->name, pl ? "same shape, misaligned" : "same shape", 1, n, y, want, a, b);
            check_guard_before(k->name, got, oy, "same shape");
            check_guard(k->name, y, n, "same shape");
            fill_guard(inplace, SPAN);
            memcpy(inplace + oa, a, n * sizeof *a);
            k->k.same(n, inplace + oa, b, inplace + oa);
            compare(k->name, "same shape, y = a", 1, n, inplace + oa, want, a, b);
            check_guard_before(k->name, inplace, oa, "same shape, y = a");
            check_guard(k->name, inplace + oa, n, "same shape, y = a");
            memcpy(inplace + ob, b, n * sizeof *b);
            k->k.same(n, a, inplace + ob, inplace + ob);
            compare(k->name, "same shape, y = b", 1, n, inplace + ob, want, a, b);

            /* a scalar second operand */
            float c = value();
            binary_ref(k->op, 1, n, a, 0, 1, &c, 0, 0, want);
            fill_guard(got, n + oy + GUARD);
            k->k.scalar(n, a, c, y);
            compare(k->name, "scalar", 1, n, y, want, a, NULL);
            check_guard_before(k->name, got, oy, "scalar");
            check_guard(k->name, y, n, "scalar");
            fill_guard(inplace, SPAN);
            memcpy(inplace + oa, a, n * sizeof *a);
            k->k.scalar(n, inplace + oa, c, inplace + oa);
            compare(k->name, "scalar, in place", 1, n, inplace + oa, want, a, NULL);
            check_guard_before(k->name, inplace, oa, "scalar, in place");
            check_guard(k->name, inplace + oa, n, "scalar, in place");
        }
    }
    /* a trailing vector: channels 1..67, 0 to 4 rows; then long rows; the
     * odd channel counts misaligned. Twice: any values; then a clean vector
     * (finite, no subnormal: armv7's multiply checks less there), against
     * rows with values whose products underflow */
    for (int clean = 0; clean < 2; clean++)
        for (size_t channels = 1; channels <= 67 + 3; channels++) {
            size_t ch = channels <= 67 ? channels : (size_t[]){256, 257, 1000}[channels - 68];
            size_t rows = ch <= 67 ? channels % 5 : 3;
            size_t n = rows * ch;
            const int pl = (int)(channels & 1);
            const size_t oa = offset_of(channels, pl, 0), ob = offset_of(channels, pl, 1);
            const size_t oy = offset_of(channels, pl, 2);
            float *a = as + oa, *b = bs + ob, *y = got + oy;
            for (size_t i = 0; i < n; i++) a[i] = clean ? product_value() : value();
            for (size_t i = 0; i < ch; i++) b[i] = clean ? clean_value() : value();
            binary_ref(k->op, rows, ch, a, (int64_t)ch, 1, b, 0, 1, want);
            fill_guard(got, n + oy + GUARD);
            k->k.row(rows, ch, a, b, y);
            compare(k->name, "trailing vector", rows, ch, y, want, a, NULL);
            check_guard_before(k->name, got, oy, "trailing vector");
            check_guard(k->name, y, n, "trailing vector");
            fill_guard(inplace, SPAN);
            memcpy(inplace + oa, a, n * sizeof *a);
            k->k.row(rows, ch, inplace + oa, b, inplace + oa);
            compare(k->name, "trailing vector, in place", rows, ch, inplace + oa, want, a, NULL);
            check_guard_before(k->name, inplace, oa, "trailing vector, in place");
            check_guard(k->name, inplace + oa, n, "trailing vector, in place");
        }
}

static void test_binary_kernels(void **state) {
    (void)state;
    for (size_t i = 0; i < COUNT(binary_kernels); i++) {
        const struct binary_kernels *k = &binary_kernels[i];
        if (!runnable(k->isa, k->name)) continue;
        check_binary(k);
        print_message("%s (and its scalar and trailing-vector kernels) agrees with the reference\n",
                      k->name);
    }
}

/* NaN, infinities and signed zeros: maximum's NaN rule, both sides (a NaN
 * operand gives NaN); add, subtract, multiply and b - a as IEEE 754 says. */
static void test_binary_special(void **state) {
    (void)state;
    const float a[] = {NAN, 1.0f, NAN, -INFINITY, INFINITY, -0.0f, 0.0f, 3.0f};
    const float b[] = {1.0f, NAN, NAN, -INFINITY, -INFINITY, 0.0f, -0.0f, -FLT_MAX};
    for (size_t i = 0; i < COUNT(binary_kernels); i++) {
        const struct binary_kernels *k = &binary_kernels[i];
        if (!runnable(k->isa, k->name)) continue;
        float y[8];
        k->k.same(8, a, b, y);
        if (k->op == SN_BINARY_MAX) {
            assert_true(isnan(y[0]) && isnan(y[1]) && isnan(y[2]));
            assert_true(y[3] == -INFINITY && y[4] == INFINITY && y[7] == 3.0f);
            assert_true(!signbit(y[5]) && signbit(y[6])); /* b, as the reference */
        } else if (k->op == SN_BINARY_ADD) {
            assert_true(isnan(y[0]) && isnan(y[1]) && isnan(y[2]));
            assert_true(y[3] == -INFINITY && isnan(y[4]) && y[5] == 0.0f && !signbit(y[5]));
        } else if (k->op == SN_BINARY_SUB) {
            assert_true(isnan(y[0]) && isnan(y[1]) && isnan(y[2]) && isnan(y[3]));
            assert_true(y[4] == INFINITY && y[5] == 0.0f && signbit(y[5]) && !signbit(y[6]));
            assert_true(y[7] == FLT_MAX);
        } else if (k->op == SN_BINARY_MUL) {
            assert_true(isnan(y[0]) && isnan(y[1]) && isnan(y[2]) && y[3] == INFINITY);
            assert_true(y[4] == -INFINITY && y[5] == 0.0f && signbit(y[5]) && signbit(y[6]));
            assert_true(y[7] == -INFINITY);
        } else { /* b - a */
            assert_true(isnan(y[0]) && isnan(y[1]) && isnan(y[2]) && isnan(y[3]));
            assert_true(y[4] == -INFINITY && y[5] == 0.0f && !signbit(y[5]) && signbit(y[6]));
            assert_true(y[7] == -FLT_MAX);
        }
        k->k.scalar(8, a, NAN, y);
        for (int j = 0; j < 8; j++) assert_true(isnan(y[j]));
    }
}

/* Products of normal numbers, none of them tiny for ieee-neon.h (2^-102 or
 * more), that are subnormal or underflow to zero (armv7's NEON flushes
 * them to zero), alone in blocks of 8 and of 4 and in tails, then beside a
 * subnormal operand: as IEEE 754 says, for every binary op. */
static void test_binary_underflow(void **state) {
    (void)state;
    const float a[] = {1e-20f,   -1e-20f, 0x1p-63f, 0x1.8p-64f, 1e-30f, 2.0f,   0x1p-100f, -1e-25f,
                       0x1p-70f, 1e-20f,  0x1p-80f, 3e-39f,     1.0f,   1e-40f, 0.0f};
    const float b[] = {1e-20f,  1e-20f,   0x1p-64f, 0x1p-63f, 1e-30f,   0x1p-101f, 0x1p-50f, 1e-25f,
                       -1e-38f, 0x1p-80f, 1e-30f,   4.0f,     INFINITY, INFINITY,  3e-39f};
    enum { N = sizeof a / sizeof a[0] };
    for (size_t i = 0; i < COUNT(binary_kernels); i++) {
        const struct binary_kernels *k = &binary_kernels[i];
        if (!runnable(k->isa, k->name)) continue;
        float want[N], y[N];
        binary_ref(k->op, 1, N, a, 0, 1, b, 0, 1, want);
        for (size_t first = 0; first < N; first++) /* every start, every length */
            for (size_t n = 0; first + n <= N; n++) {
                k->k.same(n, a + first, b + first, y);
                compare(k->name, "underflow", 1, n, y, want + first, a + first, b + first);
            }
        for (size_t j = 0; j < N; j++)
            for (size_t n = 0; n <= N; n++) {
                binary_ref(k->op, 1, n, a, 0, 1, &b[j], 0, 0, want);
                k->k.scalar(n, a, b[j], y);
                compare(k->name, "underflow, scalar", 1, n, y, want, a, NULL);
            }
    }
}

/* ---- softmax --------------------------------------------------------------- */

static void check_softmax_rows(const struct softmax_kernel *k, size_t rows, size_t cols,
                               const float *x, const char *what) {
    static float want[4 * MAX_N], got[4 * MAX_N + GUARD], inplace[4 * MAX_N + GUARD];
    const size_t n = rows * cols;
    const struct tolerance tol = softmax_tolerance(cols);
    sn_f32_softmax_ref(rows, cols, x, want);
    fill_guard(got, n + GUARD);
    k->fn(rows, cols, x, got);
    for (size_t i = 0; i < n; i++) {
        if (!agree(got[i], want[i], tol))
            fail_msg("%s (%s): %zu rows of %zu, y[%zu][%zu]=%.9g, reference %.9g (x %.9g)", k->name,
                     what, rows, cols, i / cols, i % cols, got[i], want[i], x[i]);
        note(SLOT_SOFTMAX, got[i], want[i]);
    }
    check_guard(k->name, got, n, what);
    memcpy(inplace, x, n * sizeof *x);
    fill_guard(inplace + n, GUARD);
    k->fn(rows, cols, inplace, inplace);
    for (size_t i = 0; i < n; i++)
        if (!agree(inplace[i], want[i], tol))
            fail_msg("%s (%s, in place): %zu rows of %zu, y[%zu]=%.9g, reference %.9g", k->name,
                     what, rows, cols, i, inplace[i], want[i]);
    check_guard(k->name, inplace, n, "in place");
}

static void check_softmax(const struct softmax_kernel *k) {
    static float x[4 * MAX_N];
    for (size_t t = 1; t < SIZES; t++) {
        size_t cols = size_at(t), rows = 1 + t % 3;
        for (size_t i = 0; i < rows * cols; i++) x[i] = finite_value();
        check_softmax_rows(k, rows, cols, x, "finite");
        /* huge magnitudes: the maximum dominates, the others underflow */
        for (size_t i = 0; i < rows * cols; i++) x[i] = uniform(-1e30f, 1e30f);
        check_softmax_rows(k, rows, cols, x, "huge");
        /* a spread of 200: exp(x - max) reaches the subnormals */
        for (size_t i = 0; i < rows * cols; i++) x[i] = uniform(-100.0f, 100.0f);
        check_softmax_rows(k, rows, cols, x, "wide");
        /* one row each with NaN, +inf, -inf (all NaN, all NaN, a zero) */
        for (size_t i = 0; i < rows * cols; i++) x[i] = finite_value();
        x[next() % cols] = NAN;
        if (rows > 1) x[cols + next() % cols] = INFINITY;
        if (rows > 2) x[2 * cols + next() % cols] = -INFINITY;
        check_softmax_rows(k, rows, cols, x, "special");
        /* a row of -inf only: NaN, as the reference (-inf - -inf) */
        for (size_t i = 0; i < cols; i++) x[i] = -INFINITY;
        check_softmax_rows(k, 1, cols, x, "all -inf");
    }
    k->fn(0, 5, x, x); /* no rows: nothing touched */
}

static void test_softmax_kernels(void **state) {
    (void)state;
    for (size_t i = 0; i < COUNT(softmax_kernels); i++) {
        const struct softmax_kernel *k = &softmax_kernels[i];
        if (!runnable(k->isa, k->name)) continue;
        check_softmax(k);
        print_message("%s agrees with the reference\n", k->name);
    }
    print_message("largest relative error: softmax %.3g (FLT_EPSILON %.3g)\n", worst[SLOT_SOFTMAX],
                  (double)FLT_EPSILON);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_unary_kernels),    cmocka_unit_test(test_leaky_relu_kernels),
        cmocka_unit_test(test_binary_kernels),   cmocka_unit_test(test_binary_special),
        cmocka_unit_test(test_binary_underflow), cmocka_unit_test(test_softmax_kernels),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
