/* Initializers and their random numbers (SEMANTICS.md S14-S17).
 *
 * Bit-identical values on every CPU: the generator is integer-only
 * (SplitMix64), and floating point uses only +, -, *, / and sqrt, which IEEE
 * 754 rounds exactly, in double precision. log() comes from a series written
 * here rather than libm, whose last bit may differ between libraries and
 * ISAs. This file is built with -ffp-contract=off so no compiler fuses a
 * multiply and an add on one CPU and not on another. */
#include <math.h>
#include <string.h>

#include "scope/scope.h"

sn_initializer sn_constant_initializer(float value) {
    return (sn_initializer){.kind = SN_INIT_CONSTANT, .a = value};
}
sn_initializer sn_zeros_initializer(void) { return (sn_initializer){.kind = SN_INIT_ZEROS}; }
sn_initializer sn_ones_initializer(void) { return (sn_initializer){.kind = SN_INIT_ONES}; }
sn_initializer sn_random_uniform_initializer(float minval, float maxval) {
    return (sn_initializer){.kind = SN_INIT_RANDOM_UNIFORM, .a = minval, .b = maxval};
}
sn_initializer sn_random_normal_initializer(float mean, float stddev) {
    return (sn_initializer){.kind = SN_INIT_RANDOM_NORMAL, .a = mean, .b = stddev};
}
sn_initializer sn_truncated_normal_initializer(float mean, float stddev) {
    return (sn_initializer){.kind = SN_INIT_TRUNCATED_NORMAL, .a = mean, .b = stddev};
}
sn_initializer sn_glorot_uniform_initializer(void) {
    return (sn_initializer){.kind = SN_INIT_GLOROT_UNIFORM};
}
sn_initializer sn_values_initializer(const float *values, sn_shape shape) {
    return (sn_initializer){.kind = SN_INIT_VALUES, .values = values, .shape = shape};
}

/* ---- the generator -------------------------------------------------------- */

typedef struct {
    uint64_t state;
} rng;

static uint64_t mix(uint64_t z) {
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

static uint64_t next(rng *r) { return mix(r->state += UINT64_C(0x9e3779b97f4a7c15)); }

/* One stream per (graph seed, variable id): variables created in the same
 * order get the same values, whatever else the program does. */
static rng stream(uint64_t seed, uint64_t id) {
    return (rng){mix(seed ^ mix(id + UINT64_C(0x632be59bd9b4e019)))};
}

/* Uniform on [0, 1) with 53 random bits: exact in double. */
static double uniform(rng *r) { return (double)(next(r) >> 11) * 0x1p-53; }

/* log(x) for x > 0 from +, -, *, / only (frexp is exact): x = m 2^e with m
 * in [sqrt(1/2), sqrt(2)), log m = 2 atanh(t), t = (m - 1) / (m + 1),
 * |t| < 0.172, and the atanh series to t^31 is below 1e-24. */
static double portable_log(double x) {
    int e;
    double m = frexp(x, &e);
    if (m < 0.70710678118654752440) {
        m *= 2.0;
        e -= 1;
    }
    double t = (m - 1.0) / (m + 1.0), t2 = t * t, term = t, sum = 0.0;
    for (int k = 1; k <= 31; k += 2) {
        sum += term / k;
        term *= t2;
    }
    return 2.0 * sum + e * 0.69314718055994530942;
}

/* A standard normal draw: Marsaglia's polar method. */
static double normal(rng *r) {
    for (;;) {
        double u = 2.0 * uniform(r) - 1.0, v = 2.0 * uniform(r) - 1.0;
        double s = u * u + v * v;
        if (s > 0.0 && s < 1.0) return u * sqrt(-2.0 * portable_log(s) / s);
    }
}

/* TensorFlow's fans (init_ops._compute_fans): a conv kernel
 * [..., in, out] has receptive field x in and receptive field x out. */
static void fans(const sn_shape *s, double *fan_in, double *fan_out) {
    if (s->rank < 1) {
        *fan_in = *fan_out = 1.0;
    } else if (s->rank == 1) {
        *fan_in = *fan_out = (double)s->dims[0];
    } else {
        double receptive = 1.0;
        for (int i = 0; i < s->rank - 2; i++) receptive *= (double)s->dims[i];
        *fan_in = (double)s->dims[s->rank - 2] * receptive;
        *fan_out = (double)s->dims[s->rank - 1] * receptive;
    }
}

/* lo + (hi - lo) u, kept below hi where rounding to float reaches it. */
static float uniform_between(rng *r, double lo, double hi) {
    float x = (float)(lo + (hi - lo) * uniform(r));
    return x < (float)hi || lo == hi ? x : nextafterf((float)hi, (float)lo);
}

void sn_initializer_fill(const sn_initializer *init, uint64_t seed, uint64_t id,
                         const sn_shape *shape, float *out, int64_t n) {
    rng r = stream(seed, id);
    switch (init->kind) {
    case SN_INIT_NONE:
    case SN_INIT_ZEROS:
        for (int64_t i = 0; i < n; i++) out[i] = 0.0f;
        break;
    case SN_INIT_ONES:
        for (int64_t i = 0; i < n; i++) out[i] = 1.0f;
        break;
    case SN_INIT_CONSTANT:
        for (int64_t i = 0; i < n; i++) out[i] = init->a;
        break;
    case SN_INIT_VALUES: memcpy(out, init->values, (size_t)n * sizeof(float)); break;
    case SN_INIT_RANDOM_UNIFORM:
        for (int64_t i = 0; i < n; i++) out[i] = uniform_between(&r, init->a, init->b);
        break;
    case SN_INIT_RANDOM_NORMAL:
        for (int64_t i = 0; i < n; i++) out[i] = (float)(init->a + (double)init->b * normal(&r));
        break;
    case SN_INIT_TRUNCATED_NORMAL:
        for (int64_t i = 0; i < n; i++) {
            double z;
            do z = normal(&r);
            while (z < -2.0 || z > 2.0);
            out[i] = (float)(init->a + (double)init->b * z);
        }
        break;
    case SN_INIT_GLOROT_UNIFORM: {
        double fan_in, fan_out;
        fans(shape, &fan_in, &fan_out);
        double limit = fan_in + fan_out > 0.0 ? sqrt(6.0 / (fan_in + fan_out)) : 0.0;
        for (int64_t i = 0; i < n; i++) out[i] = uniform_between(&r, -limit, limit);
        break;
    }
    }
}
