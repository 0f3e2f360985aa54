/* out [m][n] = A [m][k] W [k][n] as four quadrants: A's rows in halves of
 * m2 = ceil(m / 2) (a missing last row of the bottom half counts as
 * zeros), its columns in halves of k2 = k / 2, W's quadrants as the pack
 * has them (pack/pack.c: k2 x n2, n2 a multiple of NR, zero-padded). With
 *     S1 = A21 + A22, S2 = S1 - A11, S3 = A11 - A21, S4 = A12 - S2,
 *     M1 = A11 B11, M2 = A12 B21, M3 = S4 B22, M4 = A22 T4,
 *     M5 = S1 T1,   M6 = S2 T2,   M7 = S3 T3,
 *     U2 = M1 + M6, U3 = U2 + M7,
 * C11 = M1 + M2, C12 = U2 + M5 + M3, C21 = U3 - M4, C22 = U3 + M5, then
 * the bias and the activation. The products run on the tile kernels; the
 * sums on the kernel set's add and subtract. The rows of the top half go
 * in chunks (strassen_chunk), each through the three steps on all the
 * threads: the sums, the 7 products (split by NR blocks), the outputs.
 * Every value is computed by the same calls whatever the split. */
#include "algo/strassen.h"

#include <string.h>

#include "algo/tile.h"

bool sn_strassen_worth(int64_t rows, int64_t k, int64_t cols) {
    return k % 2 == 0 && k >= 512 && cols >= 256 && rows >= 16 && k * cols <= (1 << 20) &&
           rows * k * cols >= ((int64_t)1 << 25);
}

/* The largest chunk: rows of the top half taken together, each giving a
 * row of its 4 sums ([k/2] floats) and of its 7 products ([n2] floats),
 * about 768 KB in all (dense_mm's 32 rows: one chunk, so the weights
 * stream once). A multiple of MR. */
static size_t strassen_chunk(size_t mr, size_t k2, size_t n2) {
    size_t rows = 196608 / (4 * k2 + 7 * n2);
    return rows < mr ? mr : rows / mr * mr;
}

size_t sn_strassen_workspace(const struct sn_conv_config *cc, int64_t k, int64_t n) {
    size_t k2, n2;
    sn_strassen_halves((size_t)k, (size_t)n, (int)cc->nr, &k2, &n2);
    return strassen_chunk(cc->mr, k2, n2) * (4 * k2 + 7 * n2) * sizeof(float);
}

struct strassen_task {
    const struct sn_kernels *kernels;
    const float *a; /* [m][k] */
    int64_t m, k, n, m2, k2, n2;
    const float *bias;      /* n floats, or NULL */
    sn_f32_vunary_fn clamp; /* relu or relu6, or NULL */
    float *output;
    float *sums;     /* [4][chunk][k2]: S1 S2 S3 S4 */
    float *products; /* [7][chunk][n2]: M1 .. M7 */
    size_t chunk;
    int64_t r0;  /* the chunk's first row of the top half */
    size_t rows; /* and how many */
    struct sn_tile_task product[7];
    size_t groups; /* of NR blocks in each product */
};

/* The bottom-half row of top-half row r, or NULL past the last row. */
static const float *strassen_bottom(const struct strassen_task *t, int64_t r) {
    return t->m2 + r < t->m ? t->a + (t->m2 + r) * t->k : NULL;
}

static void strassen_sums(void *context, size_t begin, size_t count) {
    const struct strassen_task *t = context;
    const sn_f32_vbinary_fn add = t->kernels->f32_binary[SN_BINARY_ADD].same,
                            sub = t->kernels->f32_binary[SN_BINARY_SUB].same;
    const size_t k2 = (size_t)t->k2, plane = t->chunk * k2;
    for (size_t i = begin; i < begin + count; i++) {
        const int64_t r = t->r0 + (int64_t)i;
        const float *a11 = t->a + r * t->k, *a12 = a11 + k2, *a21 = strassen_bottom(t, r);
        float *s1 = t->sums + i * k2, *s2 = s1 + plane, *s3 = s2 + plane, *s4 = s3 + plane;
        if (a21) {
            add(k2, a21, a21 + k2, s1);
        } else {
            memset(s1, 0, k2 * sizeof(float));
            a21 = s1; /* zeros */
        }
        sub(k2, s1, a11, s2);
        sub(k2, a11, a21, s3);
        sub(k2, a12, s2, s4);
    }
}

/* Item i: product i / groups, its group i % groups of NR blocks. */
static void strassen_products(void *context, size_t begin, size_t count) {
    const struct strassen_task *t = context;
    for (size_t i = begin; i < begin + count; i++) {
        const struct sn_tile_task *p = &t->product[i / t->groups];
        if (p->out_h == 0) continue;
        size_t b0, b1;
        sn_block_range(p, i, &b0, &b1);
        sn_tile_blocks(p, &p->base, p->input, p->output, (size_t)p->out_h, b0, b1);
    }
}

static void strassen_outputs(void *context, size_t begin, size_t count) {
    const struct strassen_task *t = context;
    const sn_f32_vbinary_fn add = t->kernels->f32_binary[SN_BINARY_ADD].same,
                            sub = t->kernels->f32_binary[SN_BINARY_SUB].same;
    const size_t n2 = (size_t)t->n2, plane = t->chunk * n2, n = (size_t)t->n,
                 left = n < n2 ? n : n2, right = n > n2 ? n - n2 : 0;
    for (size_t i = begin; i < begin + count; i++) {
        const int64_t r = t->r0 + (int64_t)i;
        float *m1 = t->products + i * n2, *m2 = m1 + plane, *m3 = m2 + plane, *m4 = m3 + plane,
              *m5 = m4 + plane, *m6 = m5 + plane, *m7 = m6 + plane;
        float *top = t->output + r * t->n,
              *bottom = strassen_bottom(t, r) ? t->output + (t->m2 + r) * t->n : NULL;
        add(left, m1, m2, top); /* C11 */
        add(n2, m1, m6, m6);    /* U2 */
        if (right) {
            add(right, m6, m5, top + n2); /* C12 */
            add(right, top + n2, m3, top + n2);
        }
        float *rows[2] = {top, bottom};
        if (bottom) {
            add(n2, m6, m7, m7);                        /* U3 */
            sub(left, m7, m4, bottom);                  /* C21 */
            if (right) add(right, m7, m5, bottom + n2); /* C22 */
        }
        for (int j = 0; j < 2 && rows[j]; j++) {
            if (t->bias) add(n, rows[j], t->bias, rows[j]);
            if (t->clamp) t->clamp(n, rows[j], rows[j]);
        }
    }
}

void sn_strassen_run(const struct sn_gemm *g, float *workspace) {
    const struct sn_kernels *kernels = g->kernels;
    const struct sn_conv_config *cc = g->cc;
    const int64_t m = g->m, k = g->k, n = g->n;
    const float *in = g->input;
    struct strassen_task t = {.kernels = kernels,
                              .a = in,
                              .m = m,
                              .k = k,
                              .n = n,
                              .m2 = (m + 1) / 2,
                              .bias = g->bias,
                              .clamp = g->act == SN_ACT_RELU    ? kernels->f32_relu
                                       : g->act == SN_ACT_RELU6 ? kernels->f32_relu6
                                                                : NULL,
                              .output = g->output,
                              .sums = workspace};
    size_t k2, n2; /* k even: k2 = k / 2 */
    sn_strassen_halves((size_t)k, (size_t)n, (int)cc->nr, &k2, &n2);
    t.k2 = (int64_t)k2, t.n2 = (int64_t)n2;
    t.chunk = strassen_chunk(cc->mr, k2, n2);
    t.products = t.sums + 4 * t.chunk * k2;
    /* chunks of even size, in whole tiles: no short last one */
    const size_t chunks = ((size_t)t.m2 + t.chunk - 1) / t.chunk,
                 even = ((size_t)t.m2 + chunks - 1) / chunks, mr = cc->mr,
                 step = (even + mr - 1) / mr * mr;
    const size_t matrix = k2 * n2, plane = t.chunk * k2;
    t.groups = sn_block_groups(g->threads, 7, n2, cc->nr);
    for (int p = 0; p < 7; p++) {
        struct sn_tile_task *x = &t.product[p];
        const bool in_a = p == 0 || p == 1 || p == 3;
        *x = sn_product_task(cc, g->zeros, t.k2, t.n2);
        x->weights = g->weights + (size_t)p * matrix;
        x->lone_by_tile = true;
        x->base.pixel_stride = (size_t)(in_a ? k : t.k2) * sizeof(float);
        x->output = t.products + (size_t)p * t.chunk * n2;
        x->groups = t.groups;
    }
    for (t.r0 = 0; t.r0 < t.m2; t.r0 += (int64_t)step) {
        t.rows = (size_t)(t.m2 - t.r0) < step ? (size_t)(t.m2 - t.r0) : step;
        /* M4 reads the bottom half's rows only where there are some */
        const int64_t bottom = t.m - t.m2 - t.r0;
        const float *a11 = in + t.r0 * k, *a22 = bottom > 0 ? in + (t.m2 + t.r0) * k + t.k2 : in;
        /* where each product reads its left operand: A's quadrants in
         * place, the sums in the workspace */
        const float *left[7] = {a11,    a11 + t.k2,     t.sums + 3 * plane, a22,
                                t.sums, t.sums + plane, t.sums + 2 * plane};
        for (int p = 0; p < 7; p++) {
            t.product[p].input = left[p];
            t.product[p].out_h = (int64_t)t.rows;
        }
        t.product[3].out_h = bottom < (int64_t)t.rows ? (bottom < 0 ? 0 : bottom) : (int64_t)t.rows;
        sn_parallel(g->threads, strassen_sums, &t, t.rows);
        sn_parallel(g->threads, strassen_products, &t, 7 * t.groups);
        sn_parallel(g->threads, strassen_outputs, &t, t.rows);
    }
}
