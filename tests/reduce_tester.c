/* The mean kernels: every rdmean kernel of every kernel set the host runs
 * (kernels/f32-rdmean.inc) against the reference, sn_f32_rdmean_ref, and
 * the reference means (sn_f32_rdmean_ref, sn_f32_mean_ref) against an
 * oracle in double precision.
 *
 * Kernels: channels 1..67 (primes among them, no multiple of a vector
 * width), 96..257 past the 8-vector blocks; rows 0, 1, 2 and up to 300;
 * rows further apart than the channels (a block of channels in the middle
 * of a wider matrix, as the session's threads call them); inputs with
 * NaNs, +-inf, -0 (a first row of -0 stays -0), subnormals (armv7's NEON
 * flushes them), huge values whose sum overflows. Each kernel adds in the
 * reference's order and divides once, so it must give the reference's
 * floats bit for bit, any NaN for a NaN; rows 0 give 0 / divisor, NaN for
 * a divisor of 0. Guard floats before and after the output stay
 * untouched. A kernel set the CPU lacks is skipped, not failed.
 *
 * Oracle: sums in double of finite values within (n + 1) FLT_EPSILON of
 * the mean of |x| (float32 adding n terms in order), for every
 * combination of axes of ranks 1 to 4, and for the rows; a NaN gives
 * NaN, +inf with finite values +inf, +inf and -inf NaN. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/kernels.h"
#include "kernels/ref/ref.h"
#include "scopenn.h"
#include "tester.h"

struct rdmean_kernel {
    sn_isa isa;
    const char *name;
    sn_f32_rdmean_fn fn;
};

#define SN_RDMEAN_KERNEL(isa, fn) {isa, #fn, fn},
static const struct rdmean_kernel kernels[] = {
#include "kernels/f32-rdmean.inc"
};
#undef SN_RDMEAN_KERNEL

static uint32_t rng = 11;
static uint32_t next(void) { return rng = rng * 1664525u + 1013904223u; }

/* Ordinary values in [-1, 1); with `specials`, now and then (1 in 32) a
 * NaN, an infinity, a zero of either sign, a subnormal or a huge value. */
static float value(int specials) {
    const uint32_t r = next();
    if (specials && (r >> 27) == 0) {
        static const float special[] = {INFINITY, -INFINITY, 0.0f,    -0.0f,    1e-40f, -1e-40f,
                                        1.5e-38f, -1.2e-38f, FLT_MAX, -FLT_MAX, 3e38f,  NAN};
        const uint32_t i = (r >> 8) % (COUNT(special) + 1);
        return i < COUNT(special) ? special[i] : from_bits(0xFFC12345u);
    }
    return (float)(r >> 8) / 8388608.0f - 1.0f;
}

/* Bit for bit, or both NaN. */
static int same(float a, float b) {
    return (isnan(a) && isnan(b)) || memcmp(&a, &b, sizeof a) == 0;
}

enum { GUARD = 16 };
static const float guard = 12345.0f;

/* Kernel k on `rows` rows of `channels` channels, starting at channel
 * `first` of rows `width` floats apart, against the reference. */
static void check(const struct rdmean_kernel *k, size_t rows, size_t channels, size_t first,
                  size_t width, int fill, float divisor) {
    const size_t n = rows * width;
    float *x = malloc(n * sizeof(float) + 4), *want = malloc(channels * sizeof(float) + 4);
    float *got = malloc((channels + 2 * GUARD) * sizeof(float));
    assert_true(x && want && got);
    for (size_t i = 0; i < n; i++) {
        x[i] = fill == 2 ? -0.0f : value(fill);
        /* a tiny number in some blocks only, in the middle of the rows */
        if (fill == 3 && i % width == (rows * 7 + first) % width && i / width == rows / 2)
            x[i] = i % 2 ? 1e-40f : -2e-39f;
    }
    for (size_t i = 0; i < channels + 2 * GUARD; i++) got[i] = guard;
    sn_f32_rdmean_ref(rows, channels, x + first, width * sizeof(float), divisor, want);
    k->fn(rows, channels, x + first, width * sizeof(float), divisor, got + GUARD);
    for (size_t c = 0; c < channels; c++)
        if (!same(got[GUARD + c], want[c]))
            fail_msg("%s: %zu rows of %zu channels (from %zu of %zu), divisor %g: channel %zu = "
                     "%.9g (0x%08x), reference %.9g (0x%08x)",
                     k->name, rows, channels, first, width, (double)divisor, c,
                     (double)got[GUARD + c], (unsigned)to_bits(got[GUARD + c]), (double)want[c],
                     (unsigned)to_bits(want[c]));
    for (size_t i = 0; i < GUARD; i++)
        if (got[i] != guard || got[GUARD + channels + i] != guard)
            fail_msg("%s: %zu rows of %zu channels: wrote outside the output", k->name, rows,
                     channels);
    free(x), free(want), free(got);
}

static void test_rdmean_kernels(void **state) {
    (void)state;
    static const size_t row_list[] = {0, 1, 2, 3, 7, 49, 64, 300};
    static const size_t wide[] = {96, 127, 128, 129, 130, 192, 255, 256, 257};
    int ran = 0;
    for (size_t i = 0; i < COUNT(kernels); i++) {
        const struct rdmean_kernel *k = &kernels[i];
        if (!runnable(k->isa)) {
            print_message("skip %s: this CPU cannot run %s\n", k->name, sn_isa_name(k->isa));
            continue;
        }
        size_t cases = 0;
        for (size_t c = 1; c <= 67; c++)
            for (size_t r = 0; r < COUNT(row_list); r++) {
                const size_t rows = row_list[r];
                check(k, rows, c, 0, c, 1, rows ? (float)rows : 0.0f);
                check(k, rows, c, c % 5, c + c % 5 + c % 3, 0, (float)(rows + 1));
                cases += 2;
            }
        for (size_t w = 0; w < COUNT(wide); w++)
            for (size_t r = 0; r < COUNT(row_list); r++) {
                const size_t rows = row_list[r];
                check(k, rows, wide[w], 0, wide[w], 1, (float)rows);
                check(k, rows, wide[w], 16 * (w % 3), wide[w] + 48, 3, (float)rows);
                cases += 2;
            }
        /* -0 everywhere: the sums stay -0 (the first row, not +0, starts
         * them), and -0 / n is -0 */
        for (size_t c = 1; c <= 70; c += 3) check(k, 5, c, 0, c, 2, 5.0f), cases++;
        /* subnormals here and there (armv7 must redo those blocks) */
        for (size_t c = 1; c <= 67; c += 2) check(k, 9, c, 1, c + 3, 3, 9.0f), cases++;
        print_message("%s: %zu cases agree with the reference bit for bit\n", k->name, cases);
        ran++;
    }
    assert_true(ran >= 1); /* the scalar kernel at least */
}

/* The mean in double of n floats `stride` apart, and its tolerance for a
 * float32 sum in order then one division: (n + 1) FLT_EPSILON of the mean
 * of |x|, and FLT_MIN (a flushing kernel's subnormals). */
static double oracle(const float *x, size_t n, size_t stride, double *tol) {
    double sum = 0, mag = 0;
    for (size_t i = 0; i < n; i++) sum += x[i * stride], mag += fabs((double)x[i * stride]);
    *tol = (double)(n + 1) * FLT_EPSILON * (n ? mag / (double)n : 0) + FLT_MIN;
    return n ? sum / (double)n : NAN;
}

static void expect_near(float got, double want, double tol, const char *what) {
    if (isnan(want) ? isnan(got) : isinf(want) ? (double)got == want : fabs(got - want) <= tol)
        return;
    fail_msg("%s: %.9g, oracle %.17g (tolerance %.3g)", what, (double)got, want, tol);
}

/* The rows' means, every kernel set, against the oracle; and a NaN, +inf
 * and -inf, and +inf with -inf, in a column. */
static void test_rdmean_oracle(void **state) {
    (void)state;
    enum { ROWS = 97, C = 37 };
    static float x[ROWS * C], y[C];
    for (size_t i = 0; i < COUNT(kernels); i++) {
        const struct rdmean_kernel *k = &kernels[i];
        if (!runnable(k->isa)) continue;
        for (int rows = 0; rows <= ROWS; rows += 8) {
            for (size_t e = 0; e < (size_t)rows * C; e++) x[e] = value(0) * 1000.0f;
            if (rows) {
                x[(rows / 2) * C + 3] = NAN;
                x[(rows / 3) * C + 5] = INFINITY;
                x[(rows / 4) * C + 6] = -INFINITY;
                x[(rows / 5) * C + 7] = INFINITY, x[(rows / 2) * C + 7] = -INFINITY;
                if (rows / 5 == rows / 2) x[(rows / 2) * C + 7] = NAN;
            }
            k->fn((size_t)rows, C, x, C * sizeof(float), (float)rows, y);
            for (size_t c = 0; c < C; c++) {
                double tol, want = oracle(x + c, (size_t)rows, C, &tol);
                char what[96];
                snprintf(what, sizeof what, "%s, %d rows, channel %zu", k->name, rows, c);
                expect_near(y[c], want, tol, what);
            }
        }
    }
}

/* sn_f32_mean_ref over every combination of axes of shapes of ranks 1 to
 * 4, some dimensions 1, some 0, against the oracle; output ranges in
 * pieces give the same floats as the whole. */
static void test_mean_reference(void **state) {
    (void)state;
    static const int64_t shapes[][5] = {
        /* rank, dims */
        {1, 7},           {1, 1},          {1, 0},          {2, 3, 5},    {2, 1, 9},
        {2, 4, 0},        {3, 2, 3, 4},    {3, 5, 1, 6},    {3, 0, 2, 3}, {4, 2, 3, 4, 5},
        {4, 1, 7, 7, 13}, {4, 3, 1, 1, 9}, {4, 2, 2, 0, 3},
    };
    static float x[2 * 3 * 4 * 5 * 8 + 7 * 7 * 13], y[1024], pieces[1024];
    for (size_t s = 0; s < COUNT(shapes); s++) {
        const int rank = (int)shapes[s][0];
        const int64_t *dims = &shapes[s][1];
        size_t n = 1;
        for (int d = 0; d < rank; d++) n *= (size_t)dims[d];
        for (size_t e = 0; e < n; e++) x[e] = value(0);
        for (unsigned axes = 0; axes < (1u << rank); axes++) {
            int64_t outputs = 1, count = 1, strides[4], st = 1;
            for (int d = rank - 1; d >= 0; d--) strides[d] = st, st *= dims[d];
            for (int d = 0; d < rank; d++) {
                if ((axes >> d) & 1)
                    count *= dims[d];
                else
                    outputs *= dims[d];
            }
            sn_f32_mean_ref(rank, dims, axes, x, y, 0, outputs);
            for (int64_t o = 0, cut = outputs / 3; o < outputs; o = cut, cut = outputs)
                sn_f32_mean_ref(rank, dims, axes, x, pieces, o, cut);
            for (int64_t o = 0; o < outputs; o++) {
                /* output o's elements, from its index over the kept dims */
                double sum = 0, mag = 0;
                for (int64_t r = 0; r < count; r++) {
                    int64_t off = 0, ro = o, rr = r;
                    for (int d = rank - 1; d >= 0; d--) {
                        int64_t *i = (axes >> d) & 1 ? &rr : &ro;
                        off += *i % dims[d] * strides[d];
                        *i /= dims[d];
                    }
                    sum += x[off], mag += fabs((double)x[off]);
                }
                const double want = count ? sum / (double)count : NAN;
                const double tol =
                    (double)(count + 1) * FLT_EPSILON * (count ? mag / (double)count : 0) + FLT_MIN;
                char what[96];
                snprintf(what, sizeof what, "shape %zu, axes 0x%x, output %lld", s, axes,
                         (long long)o);
                expect_near(y[o], want, tol, what);
                if (!same(pieces[o], y[o])) fail_msg("%s: in pieces %.9g", what, pieces[o]);
            }
        }
    }
}

/* Worked by hand: the mean of {1, 2, 4} is 7 / 3 as float32 (a division,
 * not 7 x (1 / 3), which is one ULP off); -0 alone stays -0; a mean over
 * nothing is NaN. */
static void test_mean_worked(void **state) {
    (void)state;
    const float x[3] = {1, 2, 4}, neg[2] = {-0.0f, -0.0f};
    float y[2];
    sn_f32_mean_ref(1, (const int64_t[]){3}, 1, x, y, 0, 1);
    assert_true(to_bits(y[0]) == to_bits(7.0f / 3.0f));
    sn_f32_mean_ref(2, (const int64_t[]){2, 1}, 2, neg, y, 0, 2);
    assert_true(to_bits(y[0]) == 0x80000000u && to_bits(y[1]) == 0x80000000u);
    sn_f32_mean_ref(2, (const int64_t[]){2, 0}, 2, x, y, 0, 2);
    assert_true(isnan(y[0]) && isnan(y[1]));
    for (size_t i = 0; i < COUNT(kernels); i++) {
        if (!runnable(kernels[i].isa)) continue;
        float z[3] = {guard, guard, guard};
        kernels[i].fn(3, 1, x, sizeof(float), 3.0f, z);
        assert_true(to_bits(z[0]) == to_bits(7.0f / 3.0f));
        kernels[i].fn(0, 2, x, sizeof(float), 0.0f, z);
        assert_true(isnan(z[0]) && isnan(z[1]) && z[2] == guard);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mean_worked),
        cmocka_unit_test(test_rdmean_kernels),
        cmocka_unit_test(test_rdmean_oracle),
        cmocka_unit_test(test_mean_reference),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
