/* libFuzzer target: a differential fuzzer of the engine's arithmetic.
 *
 * The input is read as a small program: a seed for the values, a thread
 * count (1 to 3), the direct_conv and direct_matmul switches, a first
 * placeholder's shape (maybe with a -1 batch), then a chain of ops drawn
 * from a table of generators (every op builder of scopenn.h), each with
 * its own shapes and attributes: 1x1 images, channels that are no
 * multiple of any vector width, strides 1 to 3, SAME and VALID, dilations,
 * windows larger than the image, batches of 0 to 3, broadcasting. Values
 * come from a few distributions: ordinary, mostly zeros, huge magnitudes,
 * NaN/inf/-0/subnormals sprinkled in, small integers, all equal.
 *
 * The graph is built through the public API only ("C", variables set with
 * sn_variable_assign) and run on every kernel set this CPU has (up to the
 * SCOPENN_ISA cap) with the input's thread count and switches. Every op's
 * output is fetched and compared with the scalar reference (a session
 * capped at SN_ISA_SCALAR, one thread, direct conv and matmul) computed
 * from the SAME inputs: a second graph ("P") holds each op with its op
 * inputs replaced by placeholders, fed with the values the session under
 * test computed for them. So each op is judged against its own tolerance
 * and errors never pile up along the chain. The exception is fusion: a
 * conv2d, depthwise_conv2d or matmul may be left unfetched (a byte
 * decides) so that the session fuses it with its bias add and
 * relu/relu6; that group is then compared as one, P computing the whole
 * group from the group's inputs.
 * And concat: its generator leaves most of its inputs that are ops
 * unfetched (a conv/matmul group it makes along channels, any op before a
 * concat whose parts are contiguous), so that the session's memory plan
 * has their producers write them straight into their parts of its output;
 * the concat's output is compared element by element as the part holding
 * it: a copied input (a leaf, a fetched op) bit for bit, an unfetched op
 * as that op's own output (a group's with the group's tolerance, another
 * concat's part by part again), P computing it from its inputs. P and M
 * fetch those parts too, so that no producer of theirs writes in place
 * and the reference stays off the path under test.
 *
 * Tolerances, given the same inputs:
 *  - relu, relu6, hard_sigmoid, hard_swish, leaky_relu, add, subtract,
 *    multiply, maximum, bias_add, add_n, max/avg pool, reshape, concat and
 *    LRN: the reference's floats bit for bit (any NaN for a NaN). The
 *    kernels promise it (elementwise_tester, pool_tester compare bits; LRN
 *    and AddN run the reference code on every kernel set; concat and
 *    reshape copy).
 *  - sigmoid, swish, tanh, softmax: max(FLT_MIN, rel x |reference|) with
 *    rel 4, 4, 3 and 6 + 2 cols ULP, as elementwise_tester (SLEEF against
 *    libm, a sum in another order); an infinite reference must be matched
 *    exactly.
 *  - a conv2d, depthwise_conv2d or matmul group of n terms per output
 *    (kh kw ic, kh kw or k, plus a bias or an addend): two sums of the
 *    same n terms in different orders differ by at most 2 n eps x the sum
 *    of their |terms| ("mag", computed by a third graph, "M": the group on
 *    |inputs|, relu/relu6 dropped as 1-Lipschitz) plus the subnormals a
 *    flushing kernel (armv7 NEON) drops, 2 n FLT_MIN. Winograd adds its
 *    transforms' rounding, which mixes every input of a tile with every
 *    weight of the filter: 2e-6 of
 *    the sum over input channels of (sum of |inputs| over the tiles that
 *    may hold the output) x (sum of |weights| of the filter), a bound
 *    that holds whatever the tile alignment, where test_conv_session's
 *    1e-5 of the output's own mag would give false alarms next to a huge
 *    value. Over 1100 inputs of a 10-minute run, the worst Winograd error
 *    was 1e-8 of that sum (5% of the tolerance) and the worst direct one
 *    18% of its tolerance: slack against false alarms, yet a wrong tap or
 *    a lost bias is far outside. No Strassen: its shapes (m k n >= 2^25)
 *    are above the size limits, to keep executions fast.
 *  - non-finite: a NaN term (a NaN input or weight, inf x 0) makes the
 *    sum of |terms| NaN, and the output NaN in any order, on any kernel
 *    set. An infinite term (an infinite input, a product that overflows)
 *    or a sum of |terms| that overflows makes it infinite, and then the
 *    order and fused multiply-adds decide: the reference's NaN (inf - inf)
 *    may be inf with an FMA that never rounds the product to inf, its inf
 *    a number, and Winograd and Strassen give NaN where an infinite input
 *    gives an infinite output (sn_session_options): any value is
 *    accepted. So for a Winograd output whose tile bound (above) is not
 *    finite: its transforms spread an infinite input over the tile. And
 *    they scale values by up to about 1e4 (F(4x4, 3x3): the largest sums
 *    of |coefficients| of a row of B^T, G and A^T multiplied, squared,
 *    (7 x 1 x 11.5)^2 = 6.5e3 at the points 0, 1, -1, 1/2, -2; 3.6e4 at
 *    Lavin's 0, 1, -1, 2, -2): with a tile bound above
 *    FLT_MAX / 1e5 they may overflow to inf or NaN where the direct sum
 *    stays finite (fuzz_graph found -inf for a direct -2.5e37, and a
 *    fused relu turns that into 0): any value is accepted there too.
 * Any mismatch prints the op, its shapes, the kernel set, the threads and
 * both values, then traps: libFuzzer reports a crash. So does a session
 * that refuses a graph the builders accepted, or that does not choose
 * Winograd exactly where sn_session_options says.
 *
 * Size limits keep memory bounded and executions fast; huge dimensions,
 * windows and dilations (issue 18's defects 6 and 7) are far above them
 * and tested in test_ops, test_session and pool_tester instead. */
#include <float.h>
#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scopenn.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* ---- limits ---------------------------------------------------------------- */

enum {
    MAX_NODES = 40,      /* leaves and ops */
    MAX_OPS = 8,         /* ops in the chain (a reshape inserted for an op counts) */
    MAX_INPUTS = 4,      /* add_n's and concat's inputs at most */
    MAX_DIM = 24,        /* any dimension drawn */
    MAX_CHANNELS = 40,   /* Winograd needs 16 in and 8 out */
    MAX_ELEMENTS = 6144, /* any tensor, the -1 batch counted at max_batch */
    MAX_MACS = 1 << 20,  /* per conv or matmul */
};

/* ---- the input as a stream of choices ------------------------------------------ */

struct reader {
    const uint8_t *p;
    size_t n;
};

/* The next byte; zeros once the input is used up, so every input is a
 * valid program. */
static unsigned byte(struct reader *r) {
    if (!r->n) return 0;
    r->n--;
    return *r->p++;
}

static bool more(const struct reader *r) { return r->n > 0; }

/* A number in [lo, hi]. */
static int range(struct reader *r, int lo, int hi) {
    return lo + (int)(byte(r) % (unsigned)(hi - lo + 1));
}

/* A dimension: mostly small, sometimes 1 or 0, sometimes a channel count
 * around the vector widths (8, 16, 32 floats). */
static int64_t dim(struct reader *r, int max) {
    static const int around[] = {1, 2, 3, 5, 7, 8, 9, 15, 16, 17, 23, 31, 33, 40};
    unsigned b = byte(r);
    int d;
    if (b < 8)
        d = 0;
    else if (b < 128)
        d = 1 + (int)(b % 6);
    else if (b < 208)
        d = around[b % (sizeof around / sizeof around[0])];
    else
        d = 1 + (int)(b % (unsigned)max);
    return d > max ? max : d;
}

/* Values: a generator seeded by the input, so inputs stay short. */
static uint32_t rng;
static uint32_t next(void) {
    rng ^= rng << 13, rng ^= rng >> 17, rng ^= rng << 5;
    return rng;
}
static float uniform(float lo, float hi) {
    return lo + (hi - lo) * (float)(next() >> 8) / 16777216.0f;
}

enum { VALUE_MODES = 7 };

static float value(int mode) {
    static const float special[] = {NAN,     -NAN,     INFINITY, -INFINITY, 0.0f,     -0.0f,
                                    FLT_MAX, -FLT_MAX, 1e-40f,   -1e-40f,   1.5e-38f, -1.2e-38f,
                                    1e30f,   -1e30f,   6.0f,     -6.0f};
    switch (mode) {
    case 1: return next() % 4 ? 0.0f : uniform(-1.0f, 1.0f); /* mostly zeros */
    case 2: { /* magnitudes up to 1e30, either sign */
        float m = powf(10.0f, uniform(-3.0f, 30.0f));
        return next() & 1 ? m : -m;
    }
    case 3: /* specials now and then */
        if (next() % 8 == 0) return special[next() % (sizeof special / sizeof special[0])];
        return uniform(-10.0f, 10.0f);
    case 4: return (float)((int)(next() % 9) - 4); /* small integers: ties */
    case 5: return 0.75f;                          /* all equal */
    case 6: return next() % 2 ? -INFINITY : uniform(-1.0f, 1.0f);
    default: return uniform(-1.0f, 1.0f);
    }
}

/* ---- the graph, described once, built three times ------------------------------ */

enum kind {
    K_INPUT, /* leaves: a placeholder, a variable, a scalar constant */
    K_VAR,
    K_CONST,
    K_ADD,
    K_MAXIMUM,
    K_BIAS_ADD,
    K_ADD_N,
    K_RELU,
    K_RELU6,
    K_SIGMOID,
    K_TANH,
    K_SOFTMAX,
    K_MATMUL,
    K_CONV2D,
    K_MAX_POOL,
    K_AVG_POOL,
    K_RESHAPE,
    K_LRN,
    K_CONCAT,
    K_MUL,
    K_SUB,
    K_SWISH,
    K_HARD_SIGMOID,
    K_HARD_SWISH,
    K_LEAKY_RELU,
    K_MEAN,
    K_PAD,
    K_DWCONV,
};

static const char *const kind_names[] = {
    [K_INPUT] = "placeholder",
    [K_VAR] = "variable",
    [K_CONST] = "scalar",
    [K_ADD] = "add",
    [K_MAXIMUM] = "maximum",
    [K_BIAS_ADD] = "bias_add",
    [K_ADD_N] = "add_n",
    [K_RELU] = "relu",
    [K_RELU6] = "relu6",
    [K_SIGMOID] = "sigmoid",
    [K_TANH] = "tanh",
    [K_SOFTMAX] = "softmax",
    [K_MATMUL] = "matmul",
    [K_CONV2D] = "conv2d",
    [K_MAX_POOL] = "max_pool",
    [K_AVG_POOL] = "avg_pool",
    [K_RESHAPE] = "reshape",
    [K_LRN] = "lrn",
    [K_CONCAT] = "concat",
    [K_MUL] = "multiply",
    [K_SUB] = "subtract",
    [K_SWISH] = "swish",
    [K_HARD_SIGMOID] = "hard_sigmoid",
    [K_HARD_SWISH] = "hard_swish",
    [K_LEAKY_RELU] = "leaky_relu",
    [K_MEAN] = "reduce_mean",
    [K_PAD] = "pad",
    [K_DWCONV] = "depthwise_conv2d",
};

/* The graphs: C, under test; P, the reference, each op on placeholders
 * fed with C's values of its inputs; M, the magnitudes of the sums. */
enum { GC, GP, GM, GRAPHS };

struct node {
    enum kind kind;
    int in[MAX_INPUTS], nin;
    /* attributes */
    sn_hw strides, dilations, ksize;
    sn_padding padding;
    bool dilated, ta, tb;
    int radius;
    int axis;         /* concat: as passed, maybe negative */
    unsigned unfetch; /* concat: inputs (bits) to leave unfetched once it is built */
    float bias, alpha, beta, constant;
    int axes[SN_MAX_RANK], naxes; /* reduce_mean */
    bool keepdims;
    int64_t paddings[SN_MAX_RANK][2]; /* pad, with `constant` */
    sn_shape target;
    /* leaves: the value (count floats of run_shape); its |value| */
    float *value, *abs_value;
    sn_shape run_shape;
    /* the built shape in C (a -1 batch stays -1) */
    sn_shape shape;
    /* comparison: fetched (else fused into its consumer); for a sum
     * group, its number of terms per output and its conv (or -1) */
    bool fetched, wino_shape;
    int terms, group_conv;
    sn_tensor *t[GRAPHS];
    sn_tensor *stand_in[GRAPHS]; /* P, M: the placeholder for C's value */
};

struct fuzz {
    struct reader r;
    sn_graph *g[GRAPHS];
    struct node nodes[MAX_NODES];
    int count, ops, cur;  /* nodes, ops in the chain, the chain's end */
    int max_batch, batch; /* the sessions' max_batch; the batch fed for a -1 */
    bool has_batch;       /* the first placeholder has a -1 batch */
    bool mirrored;        /* P and M are built */
    int runs;             /* sessions of C run so far */
    sn_status status;     /* the first one's run status */
};

static bool is_leaf(const struct node *n) { return n->kind <= K_CONST; }
static bool is_weighted(const struct node *n) {
    return n->kind == K_MATMUL || n->kind == K_CONV2D || n->kind == K_DWCONV;
}

/* Elements of a shape, a -1 batch counted as max_batch; -1 if too many. */
static int64_t elements(const struct fuzz *f, const sn_shape *s) {
    int64_t n = 1;
    for (int d = 0; d < s->rank; d++) {
        int64_t k = s->dims[d] < 0 ? f->max_batch : s->dims[d];
        if (k > MAX_ELEMENTS) return -1;
        n *= k;
        if (n > MAX_ELEMENTS) return -1;
    }
    return n;
}

static void describe_shape(const sn_shape *s, char *buf, size_t size) {
    int at = snprintf(buf, size, "[");
    for (int d = 0; d < s->rank && at < (int)size; d++)
        at += snprintf(buf + at, size - (size_t)at, d ? ",%lld" : "%lld", (long long)s->dims[d]);
    if (at < (int)size) snprintf(buf + at, size - (size_t)at, "]");
}

/* Builds op node `n` in graph `g` on the given input tensors. */
static sn_tensor *emit(sn_graph *g, const struct node *n, sn_tensor **in) {
    switch (n->kind) {
    case K_ADD: return sn_add(g, in[0], in[1], NULL);
    case K_MAXIMUM: return sn_maximum(g, in[0], in[1], NULL);
    case K_BIAS_ADD: return sn_bias_add(g, in[0], in[1], NULL);
    case K_ADD_N: return sn_add_n(g, in, (size_t)n->nin, NULL);
    case K_RELU: return sn_relu(g, in[0], NULL);
    case K_RELU6: return sn_relu6(g, in[0], NULL);
    case K_SIGMOID: return sn_sigmoid(g, in[0], NULL);
    case K_TANH: return sn_tanh(g, in[0], NULL);
    case K_SOFTMAX: return sn_softmax(g, in[0], NULL);
    case K_MATMUL: return sn_matmul(g, in[0], in[1], n->ta, n->tb, NULL);
    case K_CONV2D:
        if (n->dilated)
            return sn_conv2d_dilated(g, in[0], in[1], n->strides, n->padding, n->dilations, NULL);
        return sn_conv2d(g, in[0], in[1], n->strides, n->padding, NULL);
    case K_DWCONV:
        return sn_depthwise_conv2d(g, in[0], in[1], n->strides, n->padding, n->dilations, NULL);
    case K_MAX_POOL: return sn_max_pool(g, in[0], n->ksize, n->strides, n->padding, NULL);
    case K_AVG_POOL: return sn_avg_pool(g, in[0], n->ksize, n->strides, n->padding, NULL);
    case K_RESHAPE: return sn_reshape(g, in[0], n->target, NULL);
    case K_LRN: return sn_lrn(g, in[0], n->radius, n->bias, n->alpha, n->beta, NULL);
    case K_CONCAT: return sn_concat(g, in, (size_t)n->nin, n->axis, NULL);
    case K_MUL: return sn_multiply(g, in[0], in[1], NULL);
    case K_SUB: return sn_subtract(g, in[0], in[1], NULL);
    case K_SWISH: return sn_swish(g, in[0], NULL);
    case K_HARD_SIGMOID: return sn_hard_sigmoid(g, in[0], NULL);
    case K_HARD_SWISH: return sn_hard_swish(g, in[0], NULL);
    case K_LEAKY_RELU: return sn_leaky_relu(g, in[0], n->alpha, NULL);
    case K_MEAN: return sn_reduce_mean(g, in[0], n->axes, n->naxes, n->keepdims, NULL);
    case K_PAD: return sn_pad(g, in[0], n->paddings, n->constant, NULL);
    default: return NULL;
    }
}

/* Builds leaf `i` in graph `gi`: C gets its variables' values through
 * sn_variable_assign, P and M through a values initializer (M: |value|). */
static sn_tensor *emit_leaf(struct fuzz *f, int gi, int i) {
    struct node *n = &f->nodes[i];
    sn_graph *g = f->g[gi];
    char name[16];
    snprintf(name, sizeof name, "v%d", i);
    const float *v = gi == GM ? n->abs_value : n->value;
    switch (n->kind) {
    case K_INPUT: return sn_placeholder(g, name, n->shape);
    case K_CONST: return sn_scalar(g, v[0], NULL);
    case K_VAR: {
        if (gi != GC) {
            sn_variable *var =
                sn_get_variable(g, name, SN_SHAPE_UNKNOWN, sn_values_initializer(v, n->shape));
            return var ? sn_var(g, var) : NULL;
        }
        sn_variable *var = sn_get_variable(g, name, n->shape, sn_zeros_initializer());
        if (!var) return NULL;
        const int64_t count = sn_variable_size(var);
        if (count == 0) v = NULL; /* allowed for no elements (issue 18, defect 8) */
        if (sn_variable_assign(var, v, count) != SN_OK) __builtin_trap();
        return sn_var(g, var);
    }
    default: return NULL;
    }
}

/* A new leaf of `shape` (the -1 batch allowed for a placeholder) with
 * values of a mode the input picks. Returns its index, or -1. */
static int make_leaf(struct fuzz *f, enum kind kind, sn_shape shape) {
    if (f->count == MAX_NODES) return -1;
    int64_t n = elements(f, &shape);
    if (n < 0) return -1;
    for (int d = 0; d < shape.rank; d++) {
        if (shape.dims[d] < 0) kind = K_INPUT;     /* a variable's shape is fully defined */
        if (shape.dims[d] < 0 && d > 0) return -1; /* sessions feed a -1 batch only */
    }
    int i = f->count;
    struct node *nd = &f->nodes[i];
    *nd = (struct node){.kind = kind, .shape = shape, .run_shape = shape, .group_conv = -1};
    for (int d = 0; d < shape.rank; d++)
        if (shape.dims[d] < 0) nd->run_shape.dims[d] = f->batch;
    const int mode = range(&f->r, 0, VALUE_MODES - 1);
    /* one float at least: never a NULL value, even for 0 elements */
    nd->value = malloc(sizeof(float) * (size_t)(n + 1));
    nd->abs_value = malloc(sizeof(float) * (size_t)(n + 1));
    if (!nd->value || !nd->abs_value) {
        free(nd->value), free(nd->abs_value);
        return -1;
    }
    for (int64_t k = 0; k < n + 1; k++) nd->abs_value[k] = fabsf(nd->value[k] = value(mode));
    f->count++;
    if (!(nd->t[GC] = emit_leaf(f, GC, i))) { /* its shape is valid */
        char s[96];
        describe_shape(&shape, s, sizeof s);
        fprintf(stderr, "fuzz_graph: MISMATCH: a %s of shape %s refused: %s\n", kind_names[kind], s,
                sn_graph_error(f->g[GC]));
        __builtin_trap();
    }
    return i;
}

/* ---- op generators: each reads its choices, makes its leaves and fills a
 * node; false if the chain's end does not suit it ------------------------------- */

/* A factorization of `total` into `rank` dimensions (the first -1 if
 * `batch`: then `total` counts the rest). */
static sn_shape factor(struct fuzz *f, int64_t total, int rank, bool batch) {
    sn_shape s = {.rank = rank};
    int d = 0;
    if (batch) s.dims[d++] = -1;
    for (; d < rank - 1; d++) {
        int64_t divisors[64] = {1}, nd = total == 0 ? 1 : 0;
        for (int64_t k = 1; k <= total && nd < 64; k++)
            if (total % k == 0) divisors[nd++] = k;
        if (total == 0 && byte(&f->r) % 4 == 0) divisors[0] = 0; /* a 0 anywhere */
        int64_t k = divisors[byte(&f->r) % (unsigned)nd];
        s.dims[d] = k;
        total = k ? total / k : total;
    }
    if (d < rank) s.dims[d] = total;
    return s;
}

/* The chain's end, reshaped to `rank` if it has another rank (a node of
 * its own); -1 if that is impossible. */
static int with_rank(struct fuzz *f, int rank);
static int add_op(struct fuzz *f, struct node *n);

static int64_t known_elements(const sn_shape *s, bool *batch) {
    int64_t n = 1;
    *batch = false;
    for (int d = 0; d < s->rank; d++) {
        if (s->dims[d] < 0)
            *batch = true;
        else
            n *= s->dims[d];
    }
    return n;
}

/* The kind byte picks one of 9 (it picked one of the first 5 before
 * swish joined: see generators[]); leaky relu reads its alpha's byte. */
static bool gen_unary(struct fuzz *f, struct node *n) {
    static const enum kind unary[] = {K_RELU,  K_RELU6,        K_SIGMOID,    K_TANH,      K_SOFTMAX,
                                      K_SWISH, K_HARD_SIGMOID, K_HARD_SWISH, K_LEAKY_RELU};
    static const float alphas[] = {0.2f, 0.01f, 0.0f, -0.5f, 1.5f, 1e-20f, 1e-40f, NAN};
    n->kind = unary[byte(&f->r) % 9];
    if (n->kind == K_LEAKY_RELU) n->alpha = alphas[byte(&f->r) % 8];
    n->in[0] = f->cur, n->nin = 1;
    return true;
}

/* maximum, add, multiply, subtract (the kind byte modulo 4; it picked one
 * of the first 2 by its bit 0 before multiply joined: see generators[]):
 * the other operand of the same shape, a scalar, a trailing vector, a
 * broadcast shape, an earlier op, or the chain's end itself. */
static bool gen_binary(struct fuzz *f, struct node *n) {
    static const enum kind binary[] = {K_MAXIMUM, K_ADD, K_MUL, K_SUB};
    n->kind = binary[byte(&f->r) % 4];
    const sn_shape s = f->nodes[f->cur].shape;
    int other;
    switch (byte(&f->r) % 6) {
    case 0: other = make_leaf(f, K_CONST, SN_SCALAR); break;
    case 1: other = s.rank ? make_leaf(f, K_VAR, SN_SHAPE(s.dims[s.rank - 1])) : -1; break;
    case 2: { /* some dimensions 1, maybe fewer of them */
        sn_shape b = s;
        for (int d = 0; d < b.rank; d++)
            if (b.dims[d] < 0 || byte(&f->r) % 2) b.dims[d] = 1;
        other = make_leaf(f, K_VAR, b);
        break;
    }
    case 3: other = f->cur; break;
    case 4: /* an earlier op */
        other = range(&f->r, 0, f->count - 1);
        if (f->nodes[other].kind <= K_CONST && other != 0) other = -1;
        break;
    default: {
        bool batch;
        known_elements(&s, &batch);
        other = make_leaf(f, batch ? K_INPUT : K_VAR, s);
    }
    }
    if (other < 0) return false;
    bool swap = byte(&f->r) % 2;
    n->in[0] = swap ? other : f->cur, n->in[1] = swap ? f->cur : other, n->nin = 2;
    return true;
}

static bool gen_bias_add(struct fuzz *f, struct node *n) {
    const sn_shape s = f->nodes[f->cur].shape;
    if (s.rank < 1 || s.dims[s.rank - 1] < 0) return false;
    int b = make_leaf(f, byte(&f->r) % 4 ? K_VAR : K_INPUT, SN_SHAPE(s.dims[s.rank - 1]));
    if (b < 0) return false;
    n->kind = K_BIAS_ADD, n->in[0] = f->cur, n->in[1] = b, n->nin = 2;
    return true;
}

static bool gen_add_n(struct fuzz *f, struct node *n) {
    const sn_shape s = f->nodes[f->cur].shape;
    n->kind = K_ADD_N;
    n->nin = range(&f->r, 1, MAX_INPUTS);
    for (int k = 0; k < n->nin; k++) {
        int i = f->cur;
        if (k && byte(&f->r) % 2) {
            bool batch;
            known_elements(&s, &batch);
            i = make_leaf(f, batch ? K_INPUT : K_VAR, s);
        }
        if (i < 0) return false;
        n->in[k] = i;
    }
    return true;
}

/* matmul: the chain's end as a (maybe transposed), b a variable or a
 * placeholder; or the chain's end as b, the weights of a placeholder a. */
static bool gen_matmul(struct fuzz *f, struct node *n) {
    int x = with_rank(f, 2);
    if (x < 0) return false;
    const sn_shape s = f->nodes[x].shape;
    n->kind = K_MATMUL;
    unsigned b = byte(&f->r);
    n->ta = b & 1, n->tb = (b >> 1) & 1;
    const bool x_is_b = (b >> 2) % 4 == 0;
    if (!x_is_b) {
        const int64_t k = s.dims[n->ta ? 0 : 1], m = s.dims[n->ta ? 1 : 0],
                      nn = dim(&f->r, MAX_CHANNELS);
        if (k < 0) return false;
        if ((m < 0 ? f->max_batch : m) * k * nn > MAX_MACS) return false;
        int w =
            make_leaf(f, (b >> 4) % 4 ? K_VAR : K_INPUT, n->tb ? SN_SHAPE(nn, k) : SN_SHAPE(k, nn));
        if (w < 0) return false;
        n->in[0] = x, n->in[1] = w;
    } else {
        const int64_t k = s.dims[n->tb ? 1 : 0], nn = s.dims[n->tb ? 0 : 1],
                      m = dim(&f->r, MAX_DIM);
        if (k < 0 || nn < 0) return false;
        if (m * k * nn > MAX_MACS) return false;
        int a = make_leaf(f, K_INPUT, n->ta ? SN_SHAPE(k, m) : SN_SHAPE(m, k));
        if (a < 0) return false;
        n->in[0] = a, n->in[1] = x;
    }
    n->nin = 2;
    return true;
}

static void window_attrs(struct fuzz *f, struct node *n) {
    unsigned b = byte(&f->r);
    n->padding = b & 1 ? SN_PADDING_VALID : SN_PADDING_SAME;
    n->strides = SN_HW(1 + (int)((b >> 1) % 4 == 3 ? (b >> 3) % 3 : 0),
                       1 + (int)((b >> 1) % 4 == 3 ? (b >> 5) % 3 : 0));
    if ((b >> 1) % 4 == 2) n->strides = SN_HW(2, 2);
}

/* Whether sn_session_options says Winograd for conv n (unless direct_conv). */
static bool winograd_shape(const struct node *n, int64_t kh, int64_t kw, int64_t ic, int64_t oc) {
    return (kh == 3 || kh == 5) && kw == kh && n->strides.h == 1 && n->strides.w == 1 &&
           n->dilations.h == 1 && n->dilations.w == 1 && ic >= 16 && oc >= 8;
}

/* conv2d, or depthwise_conv2d when bits 2-4 of the dilation's byte are 5
 * (bits 0-1 alone decided before; FUZZ_GRAPH_DUMP showed the same graphs
 * for every file of corpus-graph and regress-graph before and after):
 * its multiplier 1 (2 in 3), 2 or 3. */
static bool gen_conv(struct fuzz *f, struct node *n) {
    int x = with_rank(f, 4);
    if (x < 0) return false;
    const sn_shape s = f->nodes[x].shape;
    n->kind = K_CONV2D;
    window_attrs(f, n);
    unsigned b = byte(&f->r);
    static const int ks[] = {1, 3, 3, 5, 1, 2, 4, 7};
    int kh = ks[b % 8], kw = (b >> 3) % 4 ? kh : ks[(b >> 5) % 8];
    const unsigned d = byte(&f->r);
    n->dilated = d % 4 == 0;
    if ((d >> 2) % 8 == 5) n->kind = K_DWCONV;
    n->dilations = n->dilated ? SN_HW(range(&f->r, 1, 3), range(&f->r, 1, 3)) : SN_HW(1, 1);
    const int64_t ic = s.dims[3], picked = dim(&f->r, MAX_CHANNELS);
    if (ic < 0 || ic > MAX_CHANNELS) return false;
    const bool dw = n->kind == K_DWCONV;
    const int64_t mult = picked % 3 == 2 ? 2 + picked % 2 : 1, oc = dw ? ic * mult : picked;
    const int64_t batch = s.dims[0] < 0 ? f->max_batch : s.dims[0];
    const int64_t h = s.dims[1] < 0 ? 0 : s.dims[1], w = s.dims[2] < 0 ? 0 : s.dims[2];
    /* output <= input size; a depthwise output reads 1 channel */
    if (batch * h * w * oc * kh * kw * (dw ? 1 : ic) > MAX_MACS) return false;
    const sn_shape fs = dw ? SN_SHAPE(kh, kw, ic, mult) : SN_SHAPE(kh, kw, ic, oc);
    int filter = make_leaf(f, byte(&f->r) % 4 ? K_VAR : K_INPUT, fs);
    if (filter < 0) return false;
    n->in[0] = x, n->in[1] = filter, n->nin = 2;
    n->wino_shape = !dw && winograd_shape(n, kh, kw, ic, oc);
    return true;
}

/* reduce_mean over some axes (in any order, maybe none, maybe all) with
 * or without keepdims; or pad, 0 to 3 before and after each dimension,
 * with a value among specials. */
static void mean_or_pad(struct fuzz *f, struct node *n) {
    static const float values[] = {0.0f, -0.0f, 1.5f, -7.0f, NAN, INFINITY, -INFINITY, 1e-40f};
    const int rank = f->nodes[f->cur].shape.rank;
    const unsigned b = byte(&f->r);
    n->kind = b % 2 ? K_PAD : K_MEAN;
    n->keepdims = (b >> 1) % 2;
    n->constant = values[(b >> 2) % 8];
    for (int d = 0; d < rank; d++) {
        const unsigned c = byte(&f->r);
        if (n->kind == K_MEAN && c % 2) n->axes[n->naxes++] = (b >> 5) % 2 ? rank - 1 - d : d;
        n->paddings[d][0] = (c >> 1) % 4, n->paddings[d][1] = (c >> 3) % 4;
    }
}

/* max_pool (an odd kind byte), avg_pool, or one in 8 even bytes (the
 * bytes 14 mod 16, avg_pool's before; FUZZ_GRAPH_DUMP showed the same
 * graphs for every file of corpus-graph and regress-graph before and
 * after) reduce_mean or pad on the 4-d tensor. */
static bool gen_pool(struct fuzz *f, struct node *n) {
    int x = with_rank(f, 4);
    if (x < 0) return false;
    const unsigned kind = byte(&f->r);
    n->in[0] = x, n->nin = 1;
    if (kind % 16 == 14) return mean_or_pad(f, n), true;
    n->kind = kind % 2 ? K_MAX_POOL : K_AVG_POOL;
    window_attrs(f, n);
    n->ksize = SN_HW(range(&f->r, 1, 6), range(&f->r, 1, 6));
    return true;
}

static bool gen_reshape(struct fuzz *f, struct node *n) {
    const sn_shape s = f->nodes[f->cur].shape;
    bool batch;
    int64_t total = known_elements(&s, &batch);
    int rank = range(&f->r, batch ? 1 : 0, 4);
    n->kind = K_RESHAPE;
    n->target = factor(f, total, rank, batch);
    if (!batch && rank && total && byte(&f->r) % 3 == 0) /* one dimension inferred */
        n->target.dims[byte(&f->r) % (unsigned)rank] = -1;
    n->in[0] = f->cur, n->nin = 1;
    return true;
}

static bool gen_lrn(struct fuzz *f, struct node *n) {
    static const float biases[] = {1.0f, 2.0f, 0.5f, 0.0f}, alphas[] = {1e-4f, 1.0f, 0.1f, 0.0f},
                       betas[] = {0.75f, 0.5f, 1.0f, 2.0f};
    int x = with_rank(f, 4);
    if (x < 0) return false;
    unsigned b = byte(&f->r);
    n->kind = K_LRN;
    n->radius = range(&f->r, 0, 6);
    n->bias = biases[b % 4], n->alpha = alphas[(b >> 2) % 4], n->beta = betas[(b >> 4) % 4];
    n->in[0] = x, n->nin = 1;
    return true;
}

/* An op a generator adds before its own (a concat's parts), if the
 * chain has room for it and for the generator's op: its index, or -1. */
static int add_part(struct fuzz *f, struct node *n) {
    if (f->ops >= MAX_OPS - 1 || f->count >= MAX_NODES - 1) return -1;
    return add_op(f, n);
}

/* A conv2d (of a rank-4 x) or a matmul of x, for a concat along its
 * channels, left unfetched (3 in 4), so that the session writes it into
 * its part of the concat's output; maybe with a bias (bias_add, or add of
 * a vector) and a relu or relu6, which the session fuses with it. `like`
 * (or -1): a conv or matmul of x made before, whose input and window the
 * new one takes, so that their outputs differ only in channels. Returns
 * the group's last op and its conv or matmul in *head; -1 if there is no
 * room or the generator refused. */
static int product_part(struct fuzz *f, int x, int like, int *head) {
    const unsigned b = byte(&f->r);
    struct node c = {.group_conv = -1};
    f->cur = x;
    if (like < 0) {
        const bool conv = f->nodes[x].shape.rank == 4 ? b % 4 != 0 : b % 4 == 0;
        if (!(conv ? gen_conv(f, &c) : gen_matmul(f, &c))) return -1;
    } else {
        const struct node *l = &f->nodes[like];
        if (!is_leaf(&f->nodes[l->in[1]])) return -1; /* a matmul of weights from the chain */
        if (l->kind == K_DWCONV) return -1;           /* its channels are its input's */
        const sn_shape *in = &f->nodes[l->in[0]].shape;
        sn_shape w = f->nodes[l->in[1]].shape;
        const int64_t oc = dim(&f->r, MAX_CHANNELS);
        int64_t macs = oc;
        for (int d = 0; d < in->rank; d++) macs *= in->dims[d] < 0 ? f->max_batch : in->dims[d];
        if (l->kind == K_CONV2D)
            macs *= w.dims[0] * w.dims[1], w.dims[3] = oc;
        else
            w.dims[l->tb ? 0 : 1] = oc;
        if (macs > MAX_MACS) return -1;
        c = (struct node){.kind = l->kind,
                          .in = {l->in[0]},
                          .nin = 2,
                          .strides = l->strides,
                          .dilations = l->dilations,
                          .padding = l->padding,
                          .dilated = l->dilated,
                          .ta = l->ta,
                          .tb = l->tb,
                          .group_conv = -1};
        if ((c.in[1] = make_leaf(f, (b >> 4) % 4 ? K_VAR : K_INPUT, w)) < 0) return -1;
        if (c.kind == K_CONV2D)
            c.wino_shape = winograd_shape(&c, w.dims[0], w.dims[1], w.dims[2], oc);
    }
    int end = *head = add_part(f, &c);
    if (end < 0) return -1;
    if ((b >> 2) % 4) { /* a bias, 3 in 4 */
        struct node a = {.group_conv = -1};
        const sn_shape s = f->nodes[end].shape;
        bool ok = true;
        if ((b >> 2) % 4 == 3) { /* as an add of a vector, either side */
            const int v =
                s.dims[s.rank - 1] < 0 ? -1 : make_leaf(f, K_VAR, SN_SHAPE(s.dims[s.rank - 1]));
            a.kind = K_ADD, a.nin = 2, a.in[b >> 7] = end, a.in[1 - (b >> 7)] = v;
            ok = v >= 0;
        } else {
            ok = gen_bias_add(f, &a);
        }
        const int k = ok ? add_part(f, &a) : -1;
        if (k >= 0) end = k;
    }
    if ((b >> 4) % 2) { /* a relu or relu6, 1 in 2 */
        struct node r = {.kind = (b >> 5) % 2 ? K_RELU6 : K_RELU, .in = {end}, .nin = 1};
        const int k = add_part(f, &r);
        if (k >= 0) end = k;
    }
    f->nodes[end].fetched = b < 64;
    return end;
}

/* Whether node j may be an input of a concat of inputs like t along axis. */
static bool concat_fits(const struct fuzz *f, int j, const sn_shape *t, int axis) {
    const sn_shape *s = &f->nodes[j].shape;
    if (s->rank != t->rank) return false;
    for (int d = 0; d < s->rank; d++)
        if (d != axis && s->dims[d] != t->dims[d]) return false;
    return true;
}

/* concat: 1 to 4 inputs along an axis, given negative half of the time.
 * The first input is the chain's end or a conv/matmul group of it: groups
 * along channels (the session writes them into their parts of the output,
 * a pixel stride apart), inputs with only 1s before the axis (contiguous
 * parts: any producer writes them in place), or any axis. The others: the
 * chain's end, the input before again, an earlier node, another group of
 * the same input (channels only), or new leaves of any extent along the
 * axis, 0 included. Inputs that are ops mostly stay unfetched (a concat
 * copies the fetched ones): they are compared in the concat's output. */
static bool gen_concat(struct fuzz *f, struct node *n) {
    const unsigned b = byte(&f->r), mode = (b >> 5) % 8;
    const int count = b % 8 == 0 ? 1 : 2 + (int)((b >> 3) % 3);
    int x = f->cur, axis;
    n->kind = K_CONCAT;
    if (f->nodes[x].shape.rank == 0 && (x = with_rank(f, 1)) < 0) return false;
    int first = x, head = -1;
    sn_shape t = f->nodes[x].shape;
    const unsigned a = byte(&f->r);
    if (mode < 3) { /* a conv or matmul group; along its channels 3 in 4 */
        if ((first = product_part(f, x, -1, &head)) < 0) return false;
        t = f->nodes[first].shape;
        axis = a % 4 ? t.rank - 1 : (int)(a >> 2) % t.rank;
    } else if (mode < 5) { /* only 1s before the axis: maybe reshaped to [1, n] or [n] */
        bool batch;
        const int64_t total = known_elements(&t, &batch);
        if (!batch && a % 4 < 2 && t.dims[0] != 1) {
            struct node r = {.kind = K_RESHAPE, .in = {x}, .nin = 1};
            r.target = a % 4 ? SN_SHAPE(1, total) : SN_SHAPE(total);
            if ((x = first = add_part(f, &r)) < 0) return false;
            t = f->nodes[x].shape;
        }
        int ones = 0;
        while (ones < t.rank - 1 && t.dims[ones] == 1) ones++;
        axis = (int)(a >> 2) % (ones + 1);
    } else {
        axis = (int)(a >> 2) % t.rank;
    }
    n->axis = byte(&f->r) % 2 ? axis - t.rank : axis;
    n->nin = count;
    const int at = range(&f->r, 0, count - 1); /* the first input's place */
    for (int k = 0; k < count; k++) {
        int j = first;
        unsigned c = 0;
        if (k != at) {
            switch ((c = byte(&f->r)) % 8) {
            case 0: j = x; break;
            case 1: j = k ? n->in[k - 1] : first; break;
            case 2: j = range(&f->r, 0, f->count - 1); break;
            case 3: j = head >= 0 ? product_part(f, x, head, &(int){0}) : -1; break;
            default: j = -1;
            }
        }
        if (j < 0 || !concat_fits(f, j, &t, axis)) { /* a new leaf */
            sn_shape s = t;
            const unsigned e = byte(&f->r);
            if (s.dims[axis] >= 0 || e % 2) s.dims[axis] = e % 8 == 1 ? 0 : dim(&f->r, MAX_DIM);
            if (axis && s.dims[0] < 0 && (e >> 5) % 4 == 0) /* a batch of 1 for a -1 one */
                s.dims[0] = 1;
            if ((j = make_leaf(f, (e >> 3) % 4 ? K_VAR : K_INPUT, s)) < 0) return false;
        }
        n->in[k] = j;
        if (c % 8 != 3 && (c >> 3) % 4) n->unfetch |= 1u << k; /* unfetched, 3 in 4 */
    }
    if (first == x && (a >> 6) % 4) /* the chain's end (a group stays as made) */
        for (int k = 0; k < count; k++) n->unfetch |= n->in[k] == first ? 1u << k : 0;
    f->cur = x;
    return true;
}

/* The op byte picks one, modulo their count: a generator added changes
 * what the bytes of tests/fuzz/corpus-graph and regress-graph mean. When
 * concat joined, their op bytes were re-encoded (b % 10 -> b' % 11, bit 7
 * kept) and FUZZ_GRAPH_DUMP showed the same graphs before and after. New
 * ops join an existing generator's choice instead where they can, which
 * re-encodes fewer bytes: when multiply, subtract, swish, hard_sigmoid,
 * hard_swish and leaky relu joined gen_unary and gen_binary, their kind
 * bytes became b % 5 (unary) and b & ~2 (binary), which mean the same
 * under the old choice (b % 5, b % 2) and the new (b % 9, b % 4): 4 bytes
 * of 2 regressions changed, and FUZZ_GRAPH_DUMP showed the same graphs for
 * all 41 files before and after. */
static bool (*const generators[])(struct fuzz *, struct node *) = {
    gen_unary, gen_binary, gen_bias_add, gen_add_n, gen_matmul, gen_conv,
    gen_conv,  gen_pool,   gen_reshape,  gen_lrn,   gen_concat,
};

/* Adds the node the generator filled (at f->count) to C, if it builds
 * and stays within the limits. Returns its index, or -1: a builder may
 * refuse what the generator drew, with a message and a status, and must
 * leave the graph as it was. */
static int add_op(struct fuzz *f, struct node *n) {
    sn_graph *g = f->g[GC];
    sn_tensor *in[MAX_INPUTS];
    for (int k = 0; k < n->nin; k++) in[k] = f->nodes[n->in[k]].t[GC];
    size_t before = sn_graph_op_count(g);
    sn_tensor *t = emit(g, n, in);
    if (!t) {
        if (sn_graph_status(g) == SN_OK || !sn_graph_error(g)[0]) __builtin_trap();
        if (sn_graph_op_count(g) != before) __builtin_trap(); /* nothing half-made */
        sn_graph_clear_error(g);
        return -1;
    }
    if (sn_graph_status(g) != SN_OK) __builtin_trap();
    n->t[GC] = t;
    n->shape = sn_tensor_shape(t);
    n->group_conv = -1;
    if (elements(f, &n->shape) < 0) return -1; /* built, but left out of every session */
    int i = f->count++;
    f->nodes[i] = *n;
    f->cur = i;
    f->ops++;
    return i;
}

static int with_rank(struct fuzz *f, int rank) {
    const sn_shape s = f->nodes[f->cur].shape;
    if (s.rank == rank) return f->cur;
    if (f->count == MAX_NODES || f->ops == MAX_OPS) return -1;
    bool batch;
    int64_t total = known_elements(&s, &batch);
    struct node n = {.kind = K_RESHAPE, .in = {f->cur}, .nin = 1};
    n.target = factor(f, total, rank, batch);
    return add_op(f, &n);
}

/* ---- fetches, groups and feeds ------------------------------------------------- */

/* A concat's axis, from 0. */
static int concat_axis(const struct node *n) {
    return n->axis < 0 ? n->axis + n->shape.rank : n->axis;
}

static bool grouped(const struct fuzz *f, int j);

/* Whether op j may stay unfetched with consumer i: i is a concat (which
 * holds j's output; j's extent along its axis known, so that its part is
 * known), or the session may fuse j into i: conv/matmul + bias_add or
 * add + relu/relu6, one conv/matmul a group. */
static bool fusable(const struct fuzz *f, int i, int j) {
    const struct node *n = &f->nodes[i], *in = &f->nodes[j];
    if (n->kind == K_CONCAT) return in->shape.dims[concat_axis(n)] >= 0;
    if (in->kind == K_RELU || in->kind == K_RELU6 || !grouped(f, j)) return false;
    switch (n->kind) {
    case K_RELU:
    case K_RELU6: return true;
    case K_BIAS_ADD: return n->in[0] == j;
    case K_ADD: {
        int other = n->in[0] == j ? n->in[1] : n->in[0];
        if (other == j || (!is_leaf(&f->nodes[other]) && !f->nodes[other].fetched)) return false;
        /* the group's output keeps the conv's shape */
        if (n->shape.rank != in->shape.rank) return false;
        for (int d = 0; d < n->shape.rank; d++)
            if (n->shape.dims[d] != in->shape.dims[d]) return false;
        return true;
    }
    default: return false;
    }
}

/* Whether op j is unfetched in a conv/matmul's group: the conv/matmul,
 * or a bias_add, add, relu or relu6 fusable with an unfetched one. */
static bool grouped(const struct fuzz *f, int j) {
    const struct node *n = &f->nodes[j];
    if (is_leaf(n) || n->fetched) return false;
    if (is_weighted(n)) return true;
    if (n->kind != K_BIAS_ADD && n->kind != K_ADD && n->kind != K_RELU && n->kind != K_RELU6)
        return false;
    for (int k = 0; k < n->nin; k++)
        if (grouped(f, n->in[k]) && fusable(f, j, n->in[k])) return true;
    return false;
}

/* Whether op j has consumers, and all of them are concats. */
static bool feeds_concats(const struct fuzz *f, int j, bool *consumed) {
    bool only = true;
    *consumed = false;
    for (int i = j + 1; i < f->count; i++)
        for (int k = 0; k < f->nodes[i].nin; k++)
            if (f->nodes[i].in[k] == j) *consumed = true, only &= f->nodes[i].kind == K_CONCAT;
    return *consumed && only;
}

/* Settles which ops are fetched: a conv/matmul, or a bias_add, add, relu
 * or relu6 of an unfetched one may stay unfetched, only with fusable
 * consumers; so may any op whose consumers are all concats. Then each
 * op's group: terms per output and its conv; a concat of a group's output
 * has terms (its M is fetched). */
static void settle(struct fuzz *f) {
    for (bool changed = true; changed;) {
        changed = false;
        for (int i = 0; i < f->count; i++) {
            struct node *n = &f->nodes[i];
            if (is_leaf(n) || n->fetched) continue;
            bool consumed, only_concats = feeds_concats(f, i, &consumed);
            if (!consumed || !(grouped(f, i) || only_concats)) n->fetched = changed = true;
        }
        for (int i = 0; i < f->count; i++) {
            const struct node *n = &f->nodes[i];
            if (is_leaf(n)) continue;
            for (int k = 0; k < n->nin; k++) {
                struct node *in = &f->nodes[n->in[k]];
                if (!is_leaf(in) && !in->fetched && !fusable(f, i, n->in[k]))
                    in->fetched = changed = true;
            }
        }
    }
    for (int i = 0; i < f->count; i++) {
        struct node *n = &f->nodes[i];
        if (is_leaf(n)) continue;
        if (is_weighted(n)) {
            const sn_shape *a = &f->nodes[n->in[0]].shape, *w = &f->nodes[n->in[1]].shape;
            n->terms = n->kind == K_CONV2D   ? (int)(w->dims[0] * w->dims[1] * w->dims[2])
                       : n->kind == K_DWCONV ? (int)(w->dims[0] * w->dims[1])
                                             : (int)a->dims[n->ta ? 0 : 1];
            n->group_conv = n->kind == K_CONV2D ? i : -1;
            continue;
        }
        for (int k = 0; k < n->nin; k++) {
            const struct node *in = &f->nodes[n->in[k]];
            if (is_leaf(in) || in->fetched) continue;
            if (n->kind == K_CONCAT) {
                n->terms |= in->terms > 0; /* compared part by part */
                continue;
            }
            n->terms = in->terms + (n->kind == K_RELU || n->kind == K_RELU6 ? 0 : 1);
            n->group_conv = in->group_conv;
        }
    }
}

/* Graph gi of P and M: op inputs that C fetches become placeholders
 * ("stand-ins", fed C's values, of the shapes C's run gave them: a
 * reshaped -1 batch may pass max_batch), unfetched ones are computed here too;
 * leaves are made again. In M, relu and relu6 pass their input through
 * (the sum of |terms| is >= 0). Returns false if a builder refused. */
static bool build_mirror(struct fuzz *f, int gi, const sn_output *by_node) {
    sn_graph *g = f->g[gi];
    for (int i = 0; i < f->count; i++) {
        struct node *n = &f->nodes[i];
        if (is_leaf(n)) continue;
        sn_tensor *in[MAX_INPUTS];
        for (int k = 0; k < n->nin; k++) {
            struct node *x = &f->nodes[n->in[k]];
            if (is_leaf(x)) {
                if (!x->t[gi]) x->t[gi] = emit_leaf(f, gi, n->in[k]);
                in[k] = x->t[gi];
            } else if (x->fetched) {
                if (!x->stand_in[gi]) {
                    char name[16];
                    snprintf(name, sizeof name, "in%d", n->in[k]);
                    x->stand_in[gi] = sn_placeholder(g, name, by_node[n->in[k]].shape);
                }
                in[k] = x->stand_in[gi];
            } else {
                in[k] = x->t[gi];
            }
        }
        if (gi == GM && (n->kind == K_RELU || n->kind == K_RELU6))
            n->t[gi] = in[0];
        else
            n->t[gi] = emit(g, n, in);
    }
    return sn_graph_status(g) == SN_OK;
}

/* What a session of graph gi fetching `fetch` reads: marks leaves and
 * stand-ins in need[] (need[i] & 1: the leaf or C's op; & 2: the stand-in). */
static void mark(const struct fuzz *f, int gi, int i, unsigned char *need) {
    const struct node *n = &f->nodes[i];
    for (int k = 0; k < n->nin; k++) {
        int j = n->in[k];
        const struct node *x = &f->nodes[j];
        if (is_leaf(x))
            need[j] |= 1;
        else if (gi != GC && x->fetched)
            need[j] |= 2;
        else if (!(need[j] & 1))
            need[j] |= 1, mark(f, gi, j, need);
    }
}

/* ---- comparison ----------------------------------------------------------------- */

struct config {
    sn_isa isa;
    int threads;
    bool direct_conv, direct_matmul;
};

static bool same(float got, float want) {
    return (isnan(got) && isnan(want)) || memcmp(&got, &want, sizeof got) == 0;
}

static bool near(float got, float want, double abs, double rel) {
    if (isnan(want) || isnan(got)) return isnan(want) && isnan(got);
    if (isinf(want) || isinf(got)) return got == want;
    double d = fabs((double)got - (double)want), r = rel * fabs((double)want);
    return d <= (abs > r ? abs : r);
}

/* The Winograd bound of output e of conv c (see the top): the sum over
 * input channels of the |inputs| of every tile that may hold the output
 * times the |weights| of that channel's filter slice. */
static double winograd_bound(const struct fuzz *f, int c, const float *x, const sn_shape *xs,
                             const sn_shape *ys, size_t e) {
    const struct node *n = &f->nodes[c];
    const struct node *w = &f->nodes[n->in[1]];
    const int64_t k = w->shape.dims[0], ic = w->shape.dims[2], oc = w->shape.dims[3];
    const int64_t tile = k == 3 ? 4 : 2;
    const int64_t h = xs->dims[1], wd = xs->dims[2], oh = ys->dims[1], ow = ys->dims[2];
    const int64_t o = (int64_t)e % oc, px = (int64_t)e / oc % ow, py = (int64_t)e / oc / ow % oh;
    const int64_t b = (int64_t)e / oc / ow / oh;
    int64_t top = 0, left = 0;
    if (n->padding == SN_PADDING_SAME) {
        top = ((oh - 1) + k - h) > 0 ? ((oh - 1) + k - h) / 2 : 0;
        left = ((ow - 1) + k - wd) > 0 ? ((ow - 1) + k - wd) / 2 : 0;
    }
    double bound = 0, largest = 0;
    for (int64_t ci = 0; ci < ic; ci++) {
        double sx = 0, sw = 0;
        for (int64_t y = py - tile + 1 - top; y <= py + tile - 1 + k - 1 - top; y++)
            for (int64_t xx = px - tile + 1 - left; xx <= px + tile - 1 + k - 1 - left; xx++)
                if (y >= 0 && y < h && xx >= 0 && xx < wd) {
                    const double v = fabs((double)x[((b * h + y) * wd + xx) * ic + ci]);
                    sx += v;
                    largest = v > largest ? v : largest;
                }
        for (int64_t t = 0; t < k * k; t++) {
            const double v = fabs((double)w->value[(t * ic + ci) * oc + o]);
            sw += v;
            largest = v > largest ? v : largest;
        }
        bound += sx * sw;
    }
    /* An input or a weight near FLT_MAX overflows in its own transform
     * (scaled by up to about 1e2 each), whatever the product: FLT_MAX in
     * the tile times weights of 1e-9 is a finite 3e29 direct, inf - inf in
     * Winograd's input transform (fuzz_graph found NaN for a direct
     * 7.1e29). */
    return largest >= FLT_MAX / 1e3 ? INFINITY : bound;
}

/* Whether got (C) agrees with want (P) for output e of op i, of shape
 * out_shape; mag: M's value there (a group's sum of |terms|). */
static bool agree(const struct fuzz *f, const struct config *cfg, int i, size_t e, float got,
                  float want, float mag, const float *conv_in, const sn_shape *conv_in_shape,
                  const sn_shape *out_shape) {
    const struct node *n = &f->nodes[i];
    if (n->terms > 0) {
        const int c = n->group_conv;
        const bool wino =
            c >= 0 && f->nodes[c].wino_shape && cfg->isa != SN_ISA_SCALAR && !cfg->direct_conv;
        double m = mag, bound = 0;
        if (wino) bound = winograd_bound(f, c, conv_in, conv_in_shape, out_shape, e);
        if (isnan(m)) return isnan(got) == isnan(want); /* a NaN term: NaN in any order */
        if (!isfinite(m) || !isfinite(bound)) return true;
        if (bound >= FLT_MAX / 1e5) return true; /* Winograd's overflow, maybe under a relu */
        if (!isfinite(got) || !isfinite(want)) return false;
        double tol = 2.0 * (n->terms + 1) * (FLT_EPSILON * m + FLT_MIN) + 2e-6 * bound;
        return fabs((double)got - (double)want) <= tol;
    }
    switch (n->kind) {
    case K_SIGMOID:
    case K_SWISH: return near(got, want, FLT_MIN, 4 * FLT_EPSILON);
    case K_TANH: return near(got, want, FLT_MIN, 3 * FLT_EPSILON);
    case K_SOFTMAX: {
        double cols = (double)out_shape->dims[out_shape->rank - 1];
        return near(got, want, FLT_MIN, (6.0 + 2.0 * cols) * FLT_EPSILON);
    }
    default: return same(got, want);
    }
}

/* The input of op i's group's conv, as C computed it: a leaf or a fetched
 * op (NULL without a conv). */
static const float *conv_input(const struct fuzz *f, int i, const sn_output *by_node,
                               const sn_shape **shape) {
    if (f->nodes[i].group_conv < 0) return *shape = NULL, NULL;
    const int xi = f->nodes[f->nodes[i].group_conv].in[0];
    const struct node *x = &f->nodes[xi];
    *shape = is_leaf(x) ? &x->run_shape : &by_node[xi].shape;
    return is_leaf(x) ? x->value : by_node[xi].data;
}

/* Whether got agrees with want for element e of concat i, of shape
 * `shape`: as the element of the input holding it, which *part says. A
 * leaf's or a fetched op's is copied: bit for bit; an unfetched op's (its
 * producer may have written it in place) is judged as that op's output
 * (a concat's again as its part); mag: M's value there. */
static bool agree_concat(const struct fuzz *f, const struct config *cfg, int i,
                         const sn_shape *shape, int64_t e, float got, float want, float mag,
                         const sn_output *by_node, int *part) {
    const struct node *n = &f->nodes[i];
    const int axis = concat_axis(n);
    int64_t after = 1;
    for (int d = axis + 1; d < shape->rank; d++) after *= shape->dims[d];
    const int64_t extent = shape->dims[axis], inner = e % after, at = e / after % extent,
                  outer = e / after / extent;
    int64_t start = 0;
    for (int k = 0; k < n->nin; k++) {
        const int j = n->in[k];
        const struct node *x = &f->nodes[j];
        const bool copied = is_leaf(x) || x->fetched;
        sn_shape s = *shape;
        s.dims[axis] = is_leaf(x)   ? x->run_shape.dims[axis]
                       : x->fetched ? by_node[j].shape.dims[axis]
                                    : x->shape.dims[axis];
        if (at >= start + s.dims[axis]) {
            start += s.dims[axis];
            continue;
        }
        const int64_t local = (outer * s.dims[axis] + at - start) * after + inner;
        *part = j;
        if (copied) return same(got, want);
        if (x->kind == K_CONCAT)
            return agree_concat(f, cfg, j, &s, local, got, want, mag, by_node, part);
        const sn_shape *conv_in_shape;
        const float *conv_in = conv_input(f, j, by_node, &conv_in_shape);
        return agree(f, cfg, j, (size_t)local, got, want, mag, conv_in, conv_in_shape, &s);
    }
    *part = -1; /* past the parts: C's shape is not the sum of theirs */
    return false;
}

static void dump(const struct fuzz *f) {
    for (int i = 0; i < f->count; i++) {
        const struct node *n = &f->nodes[i];
        char s[96];
        describe_shape(&n->shape, s, sizeof s);
        fprintf(stderr, "  %%%d = %s%s", i, kind_names[n->kind], s);
        for (int k = 0; k < n->nin; k++) fprintf(stderr, " %%%d", n->in[k]);
        if (n->kind == K_CONV2D || n->kind == K_DWCONV || n->kind == K_MAX_POOL ||
            n->kind == K_AVG_POOL)
            fprintf(stderr, " strides %dx%d dilations %dx%d ksize %dx%d %s", n->strides.h,
                    n->strides.w, n->dilations.h, n->dilations.w, n->ksize.h, n->ksize.w,
                    n->padding == SN_PADDING_SAME ? "SAME" : "VALID");
        if (n->wino_shape) fprintf(stderr, " (Winograd's shape)");
        if (n->kind == K_MATMUL) fprintf(stderr, " ta %d tb %d", n->ta, n->tb);
        if (n->kind == K_CONCAT) fprintf(stderr, " axis %d", n->axis);
        if (n->kind == K_LRN)
            fprintf(stderr, " radius %d bias %g alpha %g beta %g", n->radius, (double)n->bias,
                    (double)n->alpha, (double)n->beta);
        if (n->kind == K_LEAKY_RELU) fprintf(stderr, " alpha %g", (double)n->alpha);
        if (n->kind == K_MEAN) {
            fprintf(stderr, " axes");
            for (int k = 0; k < n->naxes; k++) fprintf(stderr, " %d", n->axes[k]);
            fprintf(stderr, " keepdims %d", n->keepdims);
        }
        if (n->kind == K_PAD) {
            fprintf(stderr, " paddings");
            for (int d = 0; d < f->nodes[n->in[0]].shape.rank; d++)
                fprintf(stderr, " %lld,%lld", (long long)n->paddings[d][0],
                        (long long)n->paddings[d][1]);
            fprintf(stderr, " value %g", (double)n->constant);
        }
        if (!is_leaf(n) && !n->fetched)
            fprintf(stderr, "%s", grouped(f, i) ? " (fused, unfetched)" : " (unfetched)");
        fprintf(stderr, "\n");
        const char *dump_values = getenv("FUZZ_GRAPH_DUMP");
        if (is_leaf(n) && dump_values && strcmp(dump_values, "values") == 0) {
            int64_t count = 1;
            for (int d = 0; d < n->run_shape.rank; d++) count *= n->run_shape.dims[d];
            fprintf(stderr, "    =");
            for (int64_t e = 0; e < count; e++) fprintf(stderr, " %.9g", (double)n->value[e]);
            fprintf(stderr, "\n");
        }
    }
}

static void fail(const struct fuzz *f, const struct config *cfg, const char *what) {
    fprintf(stderr,
            "fuzz_graph: MISMATCH: %s\n  isa %s, %d thread(s), direct_conv %d, direct_matmul %d\n",
            what, sn_isa_name(cfg->isa), cfg->threads, cfg->direct_conv, cfg->direct_matmul);
    dump(f);
    __builtin_trap();
}

/* A session of graph gi fetching the fetched ops (M: those of a group). */
static sn_session *session(struct fuzz *f, int gi, const struct config *cfg, sn_tensor **fetch,
                           int *index, int *count) {
    *count = 0;
    for (int i = 0; i < f->count; i++) {
        const struct node *n = &f->nodes[i];
        if (is_leaf(n) || !n->fetched || (gi == GM && n->terms == 0)) continue;
        index[*count] = i;
        fetch[(*count)++] = n->t[gi];
    }
    if (!*count) return NULL;
    /* P also fetches what C's concats read unfetched (M: the groups), after
     * C's fetches: none of their producers writes into a concat's output
     * there, so the reference does not take the path under test */
    for (int i = 0; gi != GC && i < f->count; i++) {
        const struct node *n = &f->nodes[i];
        for (int k = 0; n->kind == K_CONCAT && k < n->nin; k++) {
            const struct node *x = &f->nodes[n->in[k]];
            bool seen = is_leaf(x) || x->fetched || (gi == GM && x->terms == 0);
            for (int q = 0; q < *count && !seen; q++) seen = fetch[q] == x->t[gi];
            if (!seen) index[*count] = n->in[k], fetch[(*count)++] = x->t[gi];
        }
    }
    sn_session_options o = {.threads = cfg->threads,
                            .max_batch = f->max_batch,
                            .limit_isa = true,
                            .max_isa = cfg->isa,
                            .direct_conv = cfg->direct_conv,
                            .direct_matmul = cfg->direct_matmul};
    sn_session *s = sn_session_create(f->g[gi], fetch, (size_t)*count, &o);
    if (!s) {
        char what[400];
        snprintf(what, sizeof what, "session refused a graph the builders accepted: %s",
                 sn_graph_error(f->g[gi]));
        fail(f, cfg, what);
    }
    return s;
}

/* Feeds of graph gi: the placeholder leaves it reads and, in P and M, the
 * stand-ins with C's outputs (out[] by node; M: their absolute values, in
 * scratch). */
static size_t feeds(struct fuzz *f, int gi, const int *index, int count, const sn_output *by_node,
                    sn_feed *feed, float **scratch) {
    unsigned char need[MAX_NODES] = {0};
    for (int k = 0; k < count; k++) mark(f, gi, index[k], need);
    size_t nf = 0;
    for (int j = 0; j < f->count; j++) {
        struct node *x = &f->nodes[j];
        if ((need[j] & 1) && x->kind == K_INPUT)
            feed[nf++] = (sn_feed){x->t[gi], gi == GM ? x->abs_value : x->value, x->run_shape};
        if (need[j] & 2) {
            const sn_output *o = &by_node[j];
            const float *d = o->data;
            if (gi == GM) {
                int64_t n = 1;
                for (int r = 0; r < o->shape.rank; r++) n *= o->shape.dims[r];
                float *a = scratch[j] = malloc(sizeof(float) * (size_t)(n + 1));
                if (!a) __builtin_trap();
                for (int64_t e = 0; e < n; e++) a[e] = fabsf(o->data[e]);
                d = a;
            }
            static const float none[1];
            feed[nf++] = (sn_feed){x->stand_in[gi], d ? d : none, o->shape};
        }
    }
    return nf;
}

static void run_or_fail(struct fuzz *f, const struct config *cfg, sn_session *s, const sn_feed *fd,
                        size_t nf, sn_output *out, const char *which) {
    if (sn_session_run(s, fd, nf, out) == SN_OK) return;
    char what[400];
    snprintf(what, sizeof what, "%s session failed to run: %s", which, sn_session_error(s));
    fail(f, cfg, what);
}

/* Runs C under cfg and checks every fetched op against P (and M). */
static void check(struct fuzz *f, const struct config *cfg, int expect_winograd) {
    sn_tensor *fetch[MAX_NODES];
    int index[MAX_NODES], count, pcount, mcount, pindex[MAX_NODES], mindex[MAX_NODES];
    sn_feed fd[2 * MAX_NODES];
    sn_output out[MAX_NODES], pout[MAX_NODES], mout[MAX_NODES], by_node[MAX_NODES] = {{0}};
    float *scratch[MAX_NODES] = {0};
    const struct config ref = {SN_ISA_SCALAR, 1, true, true};

    sn_session *c = session(f, GC, cfg, fetch, index, &count);
    if (!c) return;
    sn_session_stats st;
    sn_session_stats_get(c, &st);
    if (getenv("FUZZ_GRAPH_DUMP")) /* views: a concat's parts written in place among them */
        fprintf(stderr, "%s: %zu ops, %zu fused, %zu views, arena %zu bytes\n",
                sn_isa_name(cfg->isa), st.ops, st.fused, st.views, st.arena_bytes);
    if ((int)st.winograd != expect_winograd || st.strassen != 0) {
        char what[160];
        snprintf(what, sizeof what,
                 "Winograd ran %zu conv(s), Strassen %zu matmul(s); expected %d and 0", st.winograd,
                 st.strassen, expect_winograd);
        fail(f, cfg, what);
    }
    size_t nf = feeds(f, GC, index, count, by_node, fd, scratch);
    /* A run may refuse what only its shapes show (a reshape of a -1
     * batch), with a status and a message: then on every kernel set. */
    sn_status status = sn_session_run(c, fd, nf, out);
    if (f->runs++ == 0) f->status = status;
    if (status != f->status) {
        char what[400];
        snprintf(what, sizeof what, "the run gave status %d (%s), the first one %d", (int)status,
                 sn_session_error(c), (int)f->status);
        fail(f, cfg, what);
    }
    if (status != SN_OK) {
        if (status != SN_ERR_SHAPE_MISMATCH || !sn_session_error(c)[0])
            fail(f, cfg, sn_session_error(c));
        sn_session_destroy(c);
        return;
    }
    for (int k = 0; k < count; k++) by_node[index[k]] = out[k];

    if (!f->mirrored) {
        f->mirrored = true;
        if (!build_mirror(f, GP, by_node) || !build_mirror(f, GM, by_node)) {
            /* the same ops on the same shapes C accepted */
            char what[600];
            snprintf(what, sizeof what, "the reference graph refused: %s / %s",
                     sn_graph_error(f->g[GP]), sn_graph_error(f->g[GM]));
            fail(f, cfg, what);
        }
    }
    sn_session *p = session(f, GP, &ref, fetch, pindex, &pcount);
    nf = feeds(f, GP, pindex, pcount, by_node, fd, scratch);
    run_or_fail(f, cfg, p, fd, nf, pout, "the reference");
    sn_session *m = session(f, GM, &ref, fetch, mindex, &mcount);
    if (m) {
        nf = feeds(f, GM, mindex, mcount, by_node, fd, scratch);
        run_or_fail(f, cfg, m, fd, nf, mout, "the magnitudes'");
    }

    for (int k = 0, mk = 0; k < count; k++) {
        const int i = index[k];
        const struct node *n = &f->nodes[i];
        char s1[96], s2[96], what[600];
        describe_shape(&out[k].shape, s1, sizeof s1);
        describe_shape(&pout[k].shape, s2, sizeof s2);
        if (strcmp(s1, s2) != 0) {
            snprintf(what, sizeof what, "op %%%d (%s): shape %s, reference %s", i,
                     kind_names[n->kind], s1, s2);
            fail(f, cfg, what);
        }
        const float *mag = n->terms > 0 ? mout[mk++].data : NULL;
        const sn_shape *conv_in_shape;
        const float *conv_in = conv_input(f, i, by_node, &conv_in_shape);
        int64_t total = 1;
        for (int r = 0; r < out[k].shape.rank; r++) total *= out[k].shape.dims[r];
        for (int64_t e = 0; e < total; e++) {
            float got = out[k].data[e], want = pout[k].data[e], m = mag ? mag[e] : 0.0f;
            int part = i;
            if (n->kind == K_CONCAT
                    ? agree_concat(f, cfg, i, &out[k].shape, e, got, want, m, by_node, &part)
                    : agree(f, cfg, i, (size_t)e, got, want, m, conv_in, conv_in_shape,
                            &out[k].shape))
                continue;
            const struct node *p = &f->nodes[part < 0 ? i : part];
            snprintf(what, sizeof what,
                     "op %%%d (%s), output %s, element %lld: %.9g, reference %.9g (sum of |terms| "
                     "%.9g, %d terms; from %%%d, %s)",
                     i, kind_names[n->kind], s1, (long long)e, (double)got, (double)want, (double)m,
                     p->terms, part, kind_names[p->kind]);
            fail(f, cfg, what);
        }
    }
    for (int j = 0; j < MAX_NODES; j++) free(scratch[j]);
    sn_session_destroy(m);
    sn_session_destroy(p);
    sn_session_destroy(c);
}

/* ---- the target ------------------------------------------------------------------ */

/* libFuzzer's entry point (also test_fuzz_graph's, tests/fuzz/replay.c):
 * reads `data` as a graph (any bytes are one, the missing ones read as
 * zeros), runs and checks it, and returns 0; a mismatch, or a library
 * call breaking its contract, prints what and traps. Not thread-safe (the
 * value generator is global). */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    struct fuzz *f = calloc(1, sizeof *f);
    if (!f) return 0;
    f->r = (struct reader){data, size};
    rng = 0x9e3779b9u ^ (byte(&f->r) | byte(&f->r) << 8);
    const unsigned flags = byte(&f->r);
    const int threads = 1 + (int)(flags % 3);
    const bool direct_conv = (flags >> 2) & 1, direct_matmul = (flags >> 3) & 1;
    f->has_batch = (flags >> 4) & 1;
    f->max_batch = 1 + (int)((flags >> 5) % 3);
    for (int gi = 0; gi < GRAPHS; gi++)
        if (!(f->g[gi] = sn_graph_create(&(sn_graph_options){.seed = 1}))) goto done;

    /* the first placeholder: rank 1 to 4, often an image */
    {
        const int rank = 1 + (int)(byte(&f->r) % 4);
        sn_shape s = {.rank = rank};
        for (int d = 0; d < rank; d++)
            s.dims[d] = dim(&f->r, rank == 4 && d == 3 ? MAX_CHANNELS : MAX_DIM);
        if (f->has_batch) { /* fed with 0 to max_batch images */
            s.dims[0] = -1;
            f->batch = (int)(byte(&f->r) % (unsigned)(f->max_batch + 1));
        }
        if (make_leaf(f, K_INPUT, s) != 0) goto done;
        f->cur = 0;
    }
    while (more(&f->r) && f->ops < MAX_OPS && f->count < MAX_NODES - 4) {
        const unsigned b = byte(&f->r);
        struct node n = {.fetched = true, .group_conv = -1};
        if (!generators[b % (sizeof generators / sizeof generators[0])](f, &n)) continue;
        if (f->ops == MAX_OPS || f->count == MAX_NODES) break;
        n.fetched = !(is_weighted(&n) || n.kind == K_BIAS_ADD || n.kind == K_ADD) || !(b & 0x80);
        if (add_op(f, &n) >= 0)
            for (int k = 0; k < n.nin; k++) /* a concat's inputs it leaves unfetched */
                if ((n.unfetch >> k) & 1 && !is_leaf(&f->nodes[n.in[k]]))
                    f->nodes[n.in[k]].fetched = false;
    }
    if (f->ops == 0) goto done;
    f->nodes[f->cur].fetched = true;
    settle(f);

    if (getenv("FUZZ_GRAPH_DUMP")) { /* what an input means, for a reader */
        fprintf(stderr,
                "fuzz_graph: %d thread(s), direct_conv %d, direct_matmul %d, max_batch %d\n",
                threads, direct_conv, direct_matmul, f->max_batch);
        dump(f);
    }
    sn_cpu_info info;
    sn_cpu_info_get(&info);
    for (int isa = 0; isa <= (int)info.isa; isa++) {
        if (!((info.isas >> isa) & 1)) continue;
        sn_isa only; /* FUZZ_GRAPH_ISA=avx2: that kernel set alone, to tell them apart */
        if (getenv("FUZZ_GRAPH_ISA") &&
            sn_isa_from_name(getenv("FUZZ_GRAPH_ISA"), &only) == SN_OK && only != (sn_isa)isa)
            continue;
        const struct config cfg = {(sn_isa)isa, threads, direct_conv, direct_matmul};
        int wino = 0;
        if (isa != SN_ISA_SCALAR && !direct_conv)
            for (int i = 0; i < f->count; i++)
                wino += f->nodes[i].kind == K_CONV2D && f->nodes[i].wino_shape;
        check(f, &cfg, wino);
    }

done:
    for (int gi = 0; gi < GRAPHS; gi++) sn_graph_destroy(f->g[gi]);
    for (int i = 0; i < f->count; i++) free(f->nodes[i].value), free(f->nodes[i].abs_value);
    free(f);
    return 0;
}
