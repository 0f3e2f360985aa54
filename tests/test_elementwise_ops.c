/* sn_multiply, sn_subtract, sn_swish, sn_hard_sigmoid, sn_hard_swish and
 * sn_leaky_relu through sessions: each case is a small graph on
 * placeholders, run with every kernel set this CPU has (up to the
 * SCOPENN_ISA cap), on 1 and 2 threads, and checked element by element
 * against a naive computation in double precision (not the reference
 * kernels: this is what the ops promise in scopenn.h):
 *   multiply, subtract, leaky relu: the double result rounded to float,
 *     bit for bit (a product of two floats is exact in double, and so is
 *     a difference of the values here); any NaN for a NaN
 *   hard_sigmoid: within 1 ULP of relu6(x + 3) / 6 (PyTorch's r / 6 is
 *     within 1/2), hard_swish within 2 (x r / 6: PyTorch's within 1)
 *   swish: x / (1 + exp(-x)) within sigmoid's threshold in the kernel
 *     tests, max(FLT_MIN, 4 FLT_EPSILON x |exact|)
 * Zeros must have the exact result's sign everywhere. The binary cases
 * cover each path of the session (same shape, a scalar or a [C] vector on
 * either side, [1, 1, 1, C] and [N, 1, 1, C], leading 1s, a -1 batch), the
 * unary ones a run in place over a dying input; tensors are large enough
 * to be split over the threads, and 2 threads must give 1 thread's bits. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "scopenn.h"

enum op { MUL, SUB, SWISH, HARD_SIGMOID, HARD_SWISH, LEAKY_RELU };

static const char *const op_names[] = {"multiply",     "subtract",   "swish",
                                       "hard_sigmoid", "hard_swish", "leaky_relu"};

struct test_case {
    enum op op;
    sn_shape a, b; /* b: binary ops only; a -1 batch is fed as `batch` */
    float alpha;   /* leaky relu */
    bool chain;    /* unary: run on a * 1, a computed value that dies there (in place) */
};

#define BINARY(op_, a_, b_)                                                                        \
    { .op = op_, .a = a_, .b = b_ }

enum { BATCH = 3 };

static uint32_t rng = 7;

/* [-8, 8) on a grid of 2^-20, and now and then NaN, +-inf or a zero of
 * either sign; -3 and 3 where the hard functions bend. */
static float value(void) {
    rng = rng * 1664525u + 1013904223u;
    if ((rng >> 27) == 0) {
        static const float special[] = {NAN, INFINITY, -INFINITY, -0.0f, 0.0f, -3.0f, 3.0f};
        return special[(rng >> 8) % 7];
    }
    return (float)(rng >> 8) / 1048576.0f - 8.0f;
}

static sn_shape fed(sn_shape s) {
    for (int d = 0; d < s.rank; d++)
        if (s.dims[d] < 0) s.dims[d] = BATCH;
    return s;
}

static size_t elements(sn_shape s) {
    size_t n = 1;
    for (int d = 0; d < s.rank; d++) n *= (size_t)s.dims[d];
    return n;
}

static bool binary(enum op op) { return op == MUL || op == SUB; }

/* The exact value (in double) of op at output element i of `out`, its
 * operands taken from a and b by NumPy broadcasting. */
static double exact(const struct test_case *c, sn_shape out, size_t i, const float *a,
                    const float *b) {
    if (!binary(c->op)) {
        const double x = a[i];
        double r = x + 3.0;
        r = r < 0.0 ? 0.0 : r;
        r = r > 6.0 ? 6.0 : r; /* NaN stays */
        switch (c->op) {
        case SWISH: return x / (1.0 + exp(-x));
        case HARD_SIGMOID: return r / 6.0;
        case HARD_SWISH: return x * r / 6.0;
        default: return x < 0.0 ? (double)c->alpha * x : x;
        }
    }
    /* the operands' elements for output index i */
    const sn_shape sa = fed(c->a), sb = fed(c->b);
    size_t ia = 0, ib = 0, sta = 1, stb = 1, rest = i;
    for (int d = out.rank - 1; d >= 0; d--) {
        const size_t k = rest % (size_t)out.dims[d];
        rest /= (size_t)out.dims[d];
        const int da = sa.rank - out.rank + d, db = sb.rank - out.rank + d;
        const int64_t na = da >= 0 ? sa.dims[da] : 1, nb = db >= 0 ? sb.dims[db] : 1;
        ia += na == 1 ? 0 : k * sta;
        ib += nb == 1 ? 0 : k * stb;
        sta *= (size_t)na, stb *= (size_t)nb;
    }
    return c->op == MUL ? (double)a[ia] * b[ib] : (double)a[ia] - b[ib];
}

/* One float's ULP at |f| (FLT_TRUE_MIN at 0). */
static double ulp(float f) {
    const float m = fabsf(f);
    return (double)nextafterf(m, INFINITY) - (double)m;
}

static bool agree(enum op op, float got, double want) {
    if (isnan(want) || isnan(got)) return isnan(want) && isnan(got);
    if (op == MUL || op == SUB || op == LEAKY_RELU) { /* one rounding: that float */
        const float w = (float)want;
        return memcmp(&got, &w, sizeof w) == 0;
    }
    if (want == 0.0) return got == 0.0f && !signbit(got) == !signbit(want);
    if (isinf(want) || isinf(got)) return (double)got == want;
    const double d = fabs((double)got - want);
    switch (op) {
    case HARD_SIGMOID: return d <= ulp((float)want);
    case HARD_SWISH: return d <= 2 * ulp((float)want);
    default: return d <= fmax(FLT_MIN, 4 * FLT_EPSILON * fabs(want)); /* swish */
    }
}

static sn_tensor *build(sn_graph *g, const struct test_case *c, sn_tensor *a, sn_tensor *b) {
    sn_tensor *x = a;
    if (c->chain) x = sn_multiply(g, a, sn_scalar(g, 1.0f, NULL), NULL);
    switch (c->op) {
    case MUL: return sn_multiply(g, a, b, NULL);
    case SUB: return sn_subtract(g, a, b, NULL);
    case SWISH: return sn_swish(g, x, NULL);
    case HARD_SIGMOID: return sn_hard_sigmoid(g, x, NULL);
    case HARD_SWISH: return sn_hard_swish(g, x, NULL);
    case LEAKY_RELU: return sn_leaky_relu(g, x, c->alpha, NULL);
    }
    return NULL;
}

static void run_case(const struct test_case *c) {
    sn_graph *g = sn_graph_create(NULL);
    sn_tensor *a = sn_placeholder(g, "a", c->a), *b = NULL;
    if (binary(c->op)) b = sn_placeholder(g, "b", c->b);
    sn_tensor *y = build(g, c, a, b);
    if (!y) fail_msg("%s: %s", op_names[c->op], sn_graph_error(g));
    const sn_shape sa = fed(c->a), sb = b ? fed(c->b) : SN_SCALAR, sy = fed(sn_tensor_shape(y));
    const size_t na = elements(sa), nb = b ? elements(sb) : 0, ny = elements(sy);
    float *xa = malloc(na * sizeof(float) + 4), *xb = malloc(nb * sizeof(float) + 4);
    float *first = malloc(ny * sizeof(float) + 4);
    double *want = malloc(ny * sizeof(double) + 8);
    assert_true(xa && xb && want && first);
    for (size_t i = 0; i < na; i++) xa[i] = value();
    for (size_t i = 0; i < nb; i++) xb[i] = value();
    for (size_t i = 0; i < ny; i++) want[i] = exact(c, sy, i, xa, xb);

    sn_cpu_info info;
    sn_cpu_info_get(&info);
    for (int isa = 0; isa <= (int)info.isa; isa++) { /* every kernel set up to the one in use */
        if (!((info.isas >> isa) & 1)) continue;
        for (int threads = 1; threads <= 2; threads++) {
            sn_session *s = sn_session_create(g, SN_FETCH(y),
                                              &(sn_session_options){.threads = threads,
                                                                    .max_batch = BATCH,
                                                                    .limit_isa = true,
                                                                    .max_isa = (sn_isa)isa});
            if (!s) fail_msg("%s: %s", op_names[c->op], sn_graph_error(g));
            sn_session_stats st;
            sn_session_stats_get(s, &st);
            assert_int_equal(st.isa, isa);
            if (c->chain) assert_int_equal(st.views, 1); /* written over a * 1 */
            sn_feed feeds[2] = {{a, xa, sa}, {b, xb, sb}};
            sn_output out;
            if (sn_session_run(s, feeds, b ? 2 : 1, &out) != SN_OK)
                fail_msg("%s: %s", op_names[c->op], sn_session_error(s));
            assert_int_equal(elements(out.shape), ny);
            for (size_t i = 0; i < ny; i++)
                if (!agree(c->op, out.data[i], want[i]))
                    fail_msg("%s (a rank %d, b rank %d), isa %s, %d thread(s): y[%zu] = %a, "
                             "exact %a",
                             op_names[c->op], c->a.rank, b ? c->b.rank : -1,
                             sn_isa_name((sn_isa)isa), threads, i, out.data[i], want[i]);
            if (threads == 1)
                memcpy(first, out.data, ny * sizeof(float));
            else if (memcmp(first, out.data, ny * sizeof(float)) != 0)
                fail_msg("%s, isa %s: 2 threads differ from 1", op_names[c->op],
                         sn_isa_name((sn_isa)isa));
            sn_session_destroy(s);
        }
    }
    free(xa), free(xb), free(want), free(first);
    sn_graph_destroy(g);
}

static void test_multiply_subtract(void **state) {
    (void)state;
    for (enum op op = MUL; op <= SUB; op++) {
        const struct test_case cases[] = {
            BINARY(op, SN_SHAPE(2, 5, 7, 3), SN_SHAPE(2, 5, 7, 3)),   /* same shape */
            BINARY(op, SN_SHAPE(2, 150, 151), SN_SHAPE(2, 150, 151)), /* split */
            BINARY(op, SN_SHAPE(4, 9), SN_SHAPE(1, 4, 9)),            /* leading 1s */
            BINARY(op, SN_SHAPE(2, 5, 7, 13), SN_SCALAR),             /* scalar second */
            BINARY(op, SN_SHAPE(1), SN_SHAPE(2, 5, 7, 13)),           /* scalar first */
            BINARY(op, SN_SCALAR, SN_SHAPE(70001)),                   /* split */
            BINARY(op, SN_SHAPE(2, 5, 7, 13), SN_SHAPE(13)),          /* [C] second */
            BINARY(op, SN_SHAPE(13), SN_SHAPE(2, 5, 7, 13)),          /* [C] first */
            BINARY(op, SN_SHAPE(4096, 33), SN_SHAPE(33)),             /* split */
            BINARY(op, SN_SHAPE(64), SN_SHAPE(700, 64)),              /* split */
            BINARY(op, SN_SHAPE(2, 5, 7, 13), SN_SHAPE(1, 1, 1, 13)), /* [1, 1, 1, C] */
            BINARY(op, SN_SHAPE(1, 1, 1, 13), SN_SHAPE(2, 5, 7, 13)), /* either side */
            BINARY(op, SN_SHAPE(2, 5, 7, 13), SN_SHAPE(2, 1, 1, 13)), /* [N, 1, 1, C] */
            BINARY(op, SN_SHAPE(2, 1, 1, 13), SN_SHAPE(2, 5, 7, 13)), /* either side */
            BINARY(op, SN_SHAPE(-1, 4, 4, 8), SN_SHAPE(8)),           /* -1 batch */
            BINARY(op, SN_SHAPE(-1, 1, 1, 8), SN_SHAPE(-1, 4, 4, 8)), /* both */
            BINARY(op, SN_SHAPE(6, 1), SN_SHAPE(6, 8)),               /* column */
            BINARY(op, SN_SHAPE(4, 1, 3), SN_SHAPE(5, 1)),            /* both grow */
        };
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) run_case(&cases[i]);
    }
}

static void test_unary(void **state) {
    (void)state;
    for (enum op op = SWISH; op <= LEAKY_RELU; op++) {
        const float alpha = op == LEAKY_RELU ? 0.2f : 0.0f;
        const struct test_case cases[] = {
            {.op = op, .a = SN_SHAPE(3, 7, 5), .alpha = alpha},
            {.op = op, .a = SN_SHAPE(67), .alpha = alpha},
            {.op = op, .a = SN_SHAPE(-1, 4, 4, 9), .alpha = alpha},
            {.op = op, .a = SN_SHAPE(2, 20003), .alpha = alpha}, /* split */
            {.op = op, .a = SN_SHAPE(2, 9, 9, 19), .alpha = alpha, .chain = true},
            {.op = op, .a = SN_SHAPE(50001), .alpha = alpha, .chain = true},
        };
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) run_case(&cases[i]);
    }
    /* leaky relu's alphas: PyTorch's, 0, negative, above 1 */
    const float alphas[] = {0.01f, 0.0f, -0.5f, 1.5f};
    for (size_t i = 0; i < sizeof alphas / sizeof alphas[0]; i++) {
        const struct test_case c = {.op = LEAKY_RELU, .a = SN_SHAPE(5, 33), .alpha = alphas[i]};
        run_case(&c);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_multiply_subtract),
        cmocka_unit_test(test_unary),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
