/* Winograd F(4x4, 3x3) and F(2x2, 5x5): the input and output transforms
 * (6x6 tiles for both, the same B), written once over runs of channels and
 * included by each kernel set's source, where the compiler vectorizes the
 * channel loops for that ISA (the products between them run on the kernel
 * set's tile kernel; with 32 channels, as in seed_filter, the transforms
 * take a third of the time, perf on AVX-512). See struct
 * sn_winograd_geometry (kernels.h) for the contract, and Lavin & Gray,
 * "Fast Algorithms for Convolutional Neural Networks" (2015), for the
 * method. The points are 0, 1, -1, 1/2, -2 and infinity. Lavin's have 2
 * where we have 1/2, which rounds worse: a 3x3 conv of 128 channels
 * (uniform values, 20x20, AVX-512) had an RMS error of 1.09e-7 of the sum
 * of |terms| with them, 6.8e-8 with 1/2 (6.7e-8 adding the fused
 * multiply-adds below and pack.c's U in double; direct convolution:
 * 2.4e-8); a 5x5 one 7.1e-8, 4.5e-8 (4.4e-8):
 *
 *   B^T = [ 1 -3/2  -2  3/2  1    0 ]   A^T (4x4) = [ 1  1  1  4    1  0 ]
 *         [ 0  -1  1/2  5/2  1    0 ]               [ 0  1 -1  2   -2  0 ]
 *         [ 0   1 -5/2  1/2  1    0 ]               [ 0  1  1  1    4  0 ]
 *         [ 0  -2   -1    2  1    0 ]               [ 0  1 -1  1/2 -8  1 ]
 *         [ 0  1/2  -1 -1/2  1    0 ]
 *         [ 0   1 -3/2   -2  3/2  1 ]   A^T (2x2) = [ 1  1  1  4    1  0 ]
 *                                                   [ 0  1 -1  2   -2  1 ]
 *
 * A^T's column for p is p^i, that of 1/2 times 4 (G's row 1/4 of the
 * Toom-Cook one, in pack/pack.c): an exact scaling, which lets row 1 share
 * 2 (m3 - m4). Checked exactly (rational arithmetic) against the direct
 * correlation for both tile kinds.
 * V = B^T d B for a 6x6 input patch d, Y = A^T M A for the 6x6 products M.
 * Included, not compiled on its own: defines static functions. */
#ifndef SN_KERNELS_WINOGRAD_F4X4_H
#define SN_KERNELS_WINOGRAD_F4X4_H

#include "kernels/kernels.h"

/* NEON: the channel loops by hand, 4 channels a step (GCC does not
 * vectorize float arithmetic for armv7 NEON, which flushes subnormals,
 * without -funsafe-math-optimizations; the transforms may flush, as they
 * round, within the Winograd tolerance). x86: the compiler's vectors. */
#if defined(__ARM_NEON) || defined(__ARM_NEON__)
#include <arm_neon.h>
#define WINOGRAD_NEON 1
#endif

/* channels per pass: the patch of 36 runs stays in L1 */
enum { WINOGRAD_RUN = 64 };

/* Runs of 32 and 64 channels (and output tiles of 2 and 4) get their own
 * copies of the transforms, with the lengths as constants, which the
 * compiler unrolls: x86 AVX-512, seed_filter 4% faster; aarch64, 8% fewer
 * instructions. Not on armv7, where the unrolled NEON code spills (15%
 * more instructions on seed_filter). */
#define WINOGRAD_CONST_RUNS (!SN_ARCH_ARM32)

/* a * b + c, rounded once: on every kernel set that includes this file
 * (AVX2 and AVX-512 with FMA, NEON with VFPv4 or armv8) an instruction,
 * which the channel loops vectorize; ISO C mode does not contract a * b + c
 * by itself. */
#define WINOGRAD_FMA(a, b, c) __builtin_fmaf(a, b, c)
#ifdef WINOGRAD_NEON
/* c + a * k for a constant k */
#define WINOGRAD_VFMA(c, a, k) vfmaq_f32(c, a, vdupq_n_f32(k))
#endif

/* r = B^T d over n channels, each of the 6 inputs and outputs a run of
 * channels. restrict on the parameters (the runs never overlap) lets the
 * loop vectorize without run-time alias checks. The rows share the
 * differences w_k = d_{k+2} - d_k (B^T's row for a point p is the
 * polynomial prod over the other finite points q of (x - q), and all but
 * row 1 and 2 have the factor x^2 - 1), and z_k = w_k + 1.5 d_{k+1} (rows
 * 1 and 2 have the factor (x - 1/2)(x + 2) = x^2 + 1.5 x - 1): 14
 * operations for the 6 outputs, 6 of them fused multiply-adds (Lavin's
 * matrix took 19, unfused). */
static inline __attribute__((always_inline)) void
winograd_bt_runs(const float *restrict d0, const float *restrict d1, const float *restrict d2,
                 const float *restrict d3, const float *restrict d4, const float *restrict d5,
                 float *restrict r0, float *restrict r1, float *restrict r2, float *restrict r3,
                 float *restrict r4, float *restrict r5, size_t n) {
    size_t k = 0;
#ifdef WINOGRAD_NEON
    for (; k + 4 <= n; k += 4) {
        const float32x4_t x0 = vld1q_f32(d0 + k), x1 = vld1q_f32(d1 + k), x2 = vld1q_f32(d2 + k),
                          x3 = vld1q_f32(d3 + k), x4 = vld1q_f32(d4 + k), x5 = vld1q_f32(d5 + k);
        const float32x4_t w0 = vsubq_f32(x2, x0), w1 = vsubq_f32(x3, x1), w2 = vsubq_f32(x4, x2),
                          w3 = vsubq_f32(x5, x3);
        const float32x4_t z1 = WINOGRAD_VFMA(w1, x2, 1.5f), z2 = WINOGRAD_VFMA(w2, x3, 1.5f);
        vst1q_f32(r0 + k, WINOGRAD_VFMA(vsubq_f32(w2, w0), w1, 1.5f));
        vst1q_f32(r1 + k, vaddq_f32(z2, z1));
        vst1q_f32(r2 + k, vsubq_f32(z2, z1));
        vst1q_f32(r3 + k, WINOGRAD_VFMA(w2, w1, 2.0f));
        vst1q_f32(r4 + k, WINOGRAD_VFMA(w2, w1, -0.5f));
        vst1q_f32(r5 + k, WINOGRAD_VFMA(vsubq_f32(w3, w1), w2, 1.5f));
    }
#endif
    for (; k < n; k++) {
        const float w0 = d2[k] - d0[k], w1 = d3[k] - d1[k], w2 = d4[k] - d2[k], w3 = d5[k] - d3[k];
        const float z1 = WINOGRAD_FMA(1.5f, d2[k], w1), z2 = WINOGRAD_FMA(1.5f, d3[k], w2);
        r0[k] = WINOGRAD_FMA(1.5f, w1, w2 - w0);
        r1[k] = z2 + z1;
        r2[k] = z2 - z1;
        r3[k] = WINOGRAD_FMA(2.0f, w1, w2);
        r4[k] = WINOGRAD_FMA(-0.5f, w1, w2);
        r5[k] = WINOGRAD_FMA(1.5f, w2, w3 - w1);
    }
}

/* out[i] = (B^T in)[i] for i < 6, over n channels; in and out are 6 runs,
 * `is` and `os` floats apart. */
static inline __attribute__((always_inline)) void winograd_bt(const float *in, size_t is,
                                                              float *out, size_t os, size_t n) {
    winograd_bt_runs(in, in + is, in + 2 * is, in + 3 * is, in + 4 * is, in + 5 * is, out, out + os,
                     out + 2 * os, out + 3 * os, out + 4 * os, out + 5 * os, n);
}

/* o = A^T m over n channels (6 runs in, 4 out): 12 operations, 5 of them
 * fused multiply-adds (Lavin's matrix took 13, unfused). */
static inline __attribute__((always_inline)) void
winograd_at_runs(const float *restrict m0, const float *restrict m1, const float *restrict m2,
                 const float *restrict m3, const float *restrict m4, const float *restrict m5,
                 float *restrict o0, float *restrict o1, float *restrict o2, float *restrict o3,
                 size_t n) {
    size_t k = 0;
#ifdef WINOGRAD_NEON
    for (; k + 4 <= n; k += 4) {
        const float32x4_t x1 = vld1q_f32(m1 + k), x2 = vld1q_f32(m2 + k), x3 = vld1q_f32(m3 + k),
                          x4 = vld1q_f32(m4 + k);
        const float32x4_t s12 = vaddq_f32(x1, x2), d12 = vsubq_f32(x1, x2);
        vst1q_f32(o0 + k,
                  WINOGRAD_VFMA(vaddq_f32(vaddq_f32(vld1q_f32(m0 + k), s12), x4), x3, 4.0f));
        vst1q_f32(o1 + k, WINOGRAD_VFMA(d12, vsubq_f32(x3, x4), 2.0f));
        vst1q_f32(o2 + k, WINOGRAD_VFMA(vaddq_f32(s12, x3), x4, 4.0f));
        vst1q_f32(o3 + k, WINOGRAD_VFMA(WINOGRAD_VFMA(vaddq_f32(d12, vld1q_f32(m5 + k)), x3, 0.5f),
                                        x4, -8.0f));
    }
#endif
    for (; k < n; k++) {
        const float s12 = m1[k] + m2[k], d12 = m1[k] - m2[k];
        o0[k] = WINOGRAD_FMA(4.0f, m3[k], (m0[k] + s12) + m4[k]);
        o1[k] = WINOGRAD_FMA(2.0f, m3[k] - m4[k], d12);
        o2[k] = WINOGRAD_FMA(4.0f, m4[k], s12 + m3[k]);
        o3[k] = WINOGRAD_FMA(-8.0f, m4[k], WINOGRAD_FMA(0.5f, m3[k], d12 + m5[k]));
    }
}

/* o = A^T m for F(2x2, 5x5) (6 runs in, 2 out): A^T (4x4)'s first two
 * rows, plus m5 in the second. */
static inline __attribute__((always_inline)) void
winograd_at2_runs(const float *restrict m0, const float *restrict m1, const float *restrict m2,
                  const float *restrict m3, const float *restrict m4, const float *restrict m5,
                  float *restrict o0, float *restrict o1, size_t n) {
    size_t k = 0;
#ifdef WINOGRAD_NEON
    for (; k + 4 <= n; k += 4) {
        const float32x4_t x1 = vld1q_f32(m1 + k), x2 = vld1q_f32(m2 + k), x3 = vld1q_f32(m3 + k),
                          x4 = vld1q_f32(m4 + k);
        vst1q_f32(o0 + k,
                  WINOGRAD_VFMA(vaddq_f32(vaddq_f32(vld1q_f32(m0 + k), vaddq_f32(x1, x2)), x4), x3,
                                4.0f));
        vst1q_f32(o1 + k, WINOGRAD_VFMA(vaddq_f32(vsubq_f32(x1, x2), vld1q_f32(m5 + k)),
                                        vsubq_f32(x3, x4), 2.0f));
    }
#endif
    for (; k < n; k++) {
        o0[k] = WINOGRAD_FMA(4.0f, m3[k], (m0[k] + (m1[k] + m2[k])) + m4[k]);
        o1[k] = WINOGRAD_FMA(2.0f, m3[k] - m4[k], (m1[k] - m2[k]) + m5[k]);
    }
}

/* out[i] = (A^T in)[i] for i < mt (4 or 2), over n channels. */
static inline __attribute__((always_inline)) void winograd_at(int mt, const float *in, size_t is,
                                                              float *out, size_t os, size_t n) {
    if (mt == 4)
        winograd_at_runs(in, in + is, in + 2 * is, in + 3 * is, in + 4 * is, in + 5 * is, out,
                         out + os, out + 2 * os, out + 3 * os, n);
    else
        winograd_at2_runs(in, in + is, in + 2 * is, in + 3 * is, in + 4 * is, in + 5 * is, out,
                          out + os, n);
}

/* V = B^T d B for one patch's run of n channels: columns into u, then
 * rows into v (6 x 6 runs, `vs` floats apart). */
static inline __attribute__((always_inline)) void winograd_input_run(const float *src, size_t rs,
                                                                     size_t cs, float *u, float *v,
                                                                     size_t vs, size_t n) {
    for (int j = 0; j < 6; j++)
        winograd_bt(src + j * cs, rs, u + j * WINOGRAD_RUN, 6 * WINOGRAD_RUN, n);
    for (int i = 0; i < 6; i++)
        winograd_bt(u + i * 6 * WINOGRAD_RUN, WINOGRAD_RUN, v + (size_t)(i * 6) * vs, vs, n);
}

static void winograd_input(const sn_winograd_geometry *g, const float *input, float *v, size_t vs,
                           size_t t0, size_t t1) {
    float d[36 * WINOGRAD_RUN], u[36 * WINOGRAD_RUN];
    const size_t c_all = (size_t)g->channels;
    for (size_t t = t0; t < t1; t++) {
        const int64_t n = (int64_t)t / (g->tiles_h * g->tiles_w),
                      ty = (int64_t)t / g->tiles_w % g->tiles_h, tx = (int64_t)t % g->tiles_w;
        const int64_t y0 = ty * g->m - g->top, x0 = tx * g->m - g->left;
        /* a patch inside the input is read in place; one that is not, from
         * a copy with zeros around */
        const int inside = y0 >= 0 && x0 >= 0 && y0 + 6 <= g->in_h && x0 + 6 <= g->in_w;
        for (size_t c0 = 0; c0 < c_all; c0 += WINOGRAD_RUN) {
            const size_t nc = c_all - c0 < WINOGRAD_RUN ? c_all - c0 : WINOGRAD_RUN;
            const float *src = d;
            size_t rs = 6 * WINOGRAD_RUN, cs = WINOGRAD_RUN; /* row and column strides */
            if (inside) {
                src = input + ((n * g->in_h + y0) * g->in_w + x0) * g->channels + (int64_t)c0;
                rs = (size_t)(g->in_w * g->channels), cs = c_all;
            } else {
                for (int i = 0; i < 6; i++)
                    for (int j = 0; j < 6; j++) {
                        const int64_t y = y0 + i, x = x0 + j;
                        float *restrict dst = d + (i * 6 + j) * WINOGRAD_RUN;
                        /* plain loops, which vectorize on x86 (built
                         * there without GCC's loop-to-memcpy: see
                         * src/CMakeLists.txt), where memset and memcpy of
                         * a run inline as rep stos / rep movs, whose
                         * start-up costs more than the copy */
                        if (y < 0 || y >= g->in_h || x < 0 || x >= g->in_w) {
                            for (size_t k = 0; k < nc; k++) dst[k] = 0.0f;
                        } else {
                            const float *restrict from =
                                input + ((n * g->in_h + y) * g->in_w + x) * g->channels + c0;
                            for (size_t k = 0; k < nc; k++) dst[k] = from[k];
                        }
                    }
            }
            /* columns: u[i][j] = sum_k B^T[i][k] d[k][j]; then rows, into
             * V */
            float *out = v + (t - t0) * c_all + c0;
            if (WINOGRAD_CONST_RUNS && nc == 32)
                winograd_input_run(src, rs, cs, u, out, vs, 32);
            else if (WINOGRAD_CONST_RUNS && nc == WINOGRAD_RUN)
                winograd_input_run(src, rs, cs, u, out, vs, WINOGRAD_RUN);
            else
                winograd_input_run(src, rs, cs, u, out, vs, nc);
        }
    }
}

/* Y = A^T M A for one tile's run of n channels (M read in place, `ms`
 * floats between its 36 matrices), plus bias, clamped, into the parts of
 * the tile inside the output (rows from oy0, columns from ox0 of image n). */
static inline __attribute__((always_inline)) void
winograd_output_run(const sn_winograd_geometry *g, int mt, const float *m, size_t ms,
                    const float *bias, float lo, float hi, float *output, int64_t n, int64_t oy0,
                    int64_t ox0, float *u, float *y, size_t nc) {
    /* columns: u[i][j] = sum_k A^T[i][k] M[k][j] (m x 6); then rows */
    for (int j = 0; j < 6; j++)
        winograd_at(mt, m + (size_t)j * ms, 6 * ms, u + j * WINOGRAD_RUN, 6 * WINOGRAD_RUN, nc);
    for (int i = 0; i < mt; i++) {
        const int64_t oy = oy0 + i;
        if (oy >= g->out_h) break;
        winograd_at(mt, u + i * 6 * WINOGRAD_RUN, WINOGRAD_RUN, y, WINOGRAD_RUN, nc);
        for (int j = 0; j < mt; j++) {
            const int64_t ox = ox0 + j;
            if (ox >= g->out_w) break;
            float *o = output + ((n * g->out_h + oy) * g->out_w + ox) * g->out_c;
            const float *s = y + j * WINOGRAD_RUN;
            size_t k = 0;
#ifdef WINOGRAD_NEON
            /* vmaxq/vminq return NaN when an operand is NaN, as the scalar
             * lines below let it through */
            const float32x4_t vlo = vdupq_n_f32(lo), vhi = vdupq_n_f32(hi);
            for (; k + 4 <= nc; k += 4) {
                float32x4_t r = vld1q_f32(s + k);
                if (bias) r = vaddq_f32(r, vld1q_f32(bias + k));
                vst1q_f32(o + k, vminq_f32(vhi, vmaxq_f32(vlo, r)));
            }
#endif
            for (; k < nc; k++) {
                float r = s[k] + (bias ? bias[k] : 0.0f);
                /* as the tile kernels: max(lo, r), then min(hi, .); NaN stays */
                r = lo > r ? lo : r;
                o[k] = hi < r ? hi : r;
            }
        }
    }
}

static void winograd_output(const sn_winograd_geometry *g, const float *m, size_t ms,
                            const float *bias, float lo, float hi, float *output, size_t t0,
                            size_t t1) {
    float u[24 * WINOGRAD_RUN], y[4 * WINOGRAD_RUN];
    const int mt = g->m;
    const size_t c_all = (size_t)g->out_c;
    for (size_t t = t0; t < t1; t++) {
        const int64_t n = (int64_t)t / (g->tiles_h * g->tiles_w),
                      ty = (int64_t)t / g->tiles_w % g->tiles_h, tx = (int64_t)t % g->tiles_w;
        for (size_t c0 = 0; c0 < c_all; c0 += WINOGRAD_RUN) {
            const size_t nc = c_all - c0 < WINOGRAD_RUN ? c_all - c0 : WINOGRAD_RUN;
            const float *mc = m + (t - t0) * c_all + c0, *b = bias ? bias + c0 : NULL;
            float *oc = output + c0;
            const int64_t oy = ty * mt, ox = tx * mt;
#define RUN(MT, NC) winograd_output_run(g, MT, mc, ms, b, lo, hi, oc, n, oy, ox, u, y, NC)
            if (WINOGRAD_CONST_RUNS && nc == WINOGRAD_RUN) {
                if (mt == 4)
                    RUN(4, WINOGRAD_RUN);
                else
                    RUN(2, WINOGRAD_RUN);
            } else if (WINOGRAD_CONST_RUNS && nc == 32) {
                if (mt == 4)
                    RUN(4, 32);
                else
                    RUN(2, 32);
            } else {
                RUN(mt, nc);
            }
#undef RUN
        }
    }
}

/* Defines the two transforms of one kernel set. */
#define SN_WINOGRAD_TRANSFORMS(input_fn, output_fn)                                                \
    void input_fn(const sn_winograd_geometry *g, const float *input, float *v, size_t stride,      \
                  size_t t0, size_t t1) {                                                          \
        winograd_input(g, input, v, stride, t0, t1);                                               \
    }                                                                                              \
    void output_fn(const sn_winograd_geometry *g, const float *m, size_t stride,                   \
                   const float *bias, float lo, float hi, float *output, size_t t0, size_t t1) {   \
        winograd_output(g, m, stride, bias, lo, hi, output, t0, t1);                               \
    }

#endif /* SN_KERNELS_WINOGRAD_F4X4_H */
