/* Convolution tiles for NEON with multiply-add by lane. One source:
 *
 *   aarch64 (32 q registers): 5 pixels x 16 channels, 20 accumulators; four
 *   input channels are loaded per pixel at once and consumed lane by lane
 *   (vfmaq_laneq_f32, aarch64 only), and each lane's 16 weights come in one
 *   4-register load. (An 8x8 tile ran 3.6% more instructions under qemu's
 *   count: 38.05M against 36.68M for the seed filter);
 *   armv7 (16 q registers, NEON + VFPv4): 4 pixels x 8 channels, 8
 *   accumulators; two input channels per pixel in one d register,
 *   consumed by lane with VMLA (armv7 has no by-scalar VFMA), an odd last
 *   channel with VFMA. (One broadcast per pixel and channel ran 73% more
 *   instructions: 92.96M against 53.77M for the seed filter.)
 *
 * See struct sn_conv_tile (kernels.h) for the contract. */
#include <arm_neon.h>
#include <string.h>

#include "kernels/kernels.h"

/* Stores the first n <= 8 channels of (a, b), clamped. vmaxq/vminq return
 * NaN when an operand is NaN, so NaN passes through as in the reference. */
static inline void store8(float *o, size_t n, float32x4_t a, float32x4_t b, float32x4_t lo,
                          float32x4_t hi) {
    a = vminq_f32(hi, vmaxq_f32(lo, a));
    b = vminq_f32(hi, vmaxq_f32(lo, b));
    if (n >= 8) {
        vst1q_f32(o, a);
        vst1q_f32(o + 4, b);
    } else {
        float tmp[8];
        vst1q_f32(tmp, a);
        vst1q_f32(tmp + 4, b);
        memcpy(o, tmp, n * sizeof(float));
    }
}

void sn_f32_conv_ukernel_1x8__neonfma(size_t mr, size_t nc, const struct sn_conv_tile *t) {
    (void)mr; /* one pixel */
    float32x4_t ca = vld1q_f32(t->bias), cb = vld1q_f32(t->bias + 4);
    /* a second pair of sums hides the FMA latency of a single row */
    float32x4_t da = vdupq_n_f32(0.0f), db = vdupq_n_f32(0.0f);
    const float *w = t->weights;
    for (size_t ky = 0; ky < t->kh; ky++)
        for (size_t kx = 0; kx < t->kw; kx++) {
            const float *p =
                (const float *)((const char *)t->input + ky * t->row_stride + kx * t->col_stride);
            size_t c = 0;
            for (; c + 2 <= t->kc; c += 2, w += 16) {
                const float32x4_t x0 = vld1q_dup_f32(p + c), x1 = vld1q_dup_f32(p + c + 1);
                ca = vfmaq_f32(ca, x0, vld1q_f32(w));
                cb = vfmaq_f32(cb, x0, vld1q_f32(w + 4));
                da = vfmaq_f32(da, x1, vld1q_f32(w + 8));
                db = vfmaq_f32(db, x1, vld1q_f32(w + 12));
            }
            for (; c < t->kc; c++, w += 8) {
                const float32x4_t x = vld1q_dup_f32(p + c);
                ca = vfmaq_f32(ca, x, vld1q_f32(w));
                cb = vfmaq_f32(cb, x, vld1q_f32(w + 4));
            }
        }
    store8(t->output, nc, vaddq_f32(ca, da), vaddq_f32(cb, db), vdupq_n_f32(t->min),
           vdupq_n_f32(t->max));
}

#if SN_ARCH_ARM64

/* 5 pixels x 16 channels: 20 accumulators; each lane's 16 weights come in
 * with one 4-register load (vld1q_f32_x4), so four input channels cost 4
 * weight loads and 5 input loads for 80 FMAs. */
void sn_f32_conv_ukernel_5x16__neonfma(size_t mr, size_t nc, const struct sn_conv_tile *t) {
    const char *a0 = (const char *)t->input;
    const char *a1 = mr > 1 ? a0 + t->pixel_stride : a0;
    const char *a2 = mr > 2 ? a1 + t->pixel_stride : a1;
    const char *a3 = mr > 3 ? a2 + t->pixel_stride : a2;
    const char *a4 = mr > 4 ? a3 + t->pixel_stride : a3;
    const float32x4x4_t bias = vld1q_f32_x4(t->bias);
#define ROWS5(X) X(0) X(1) X(2) X(3) X(4)
#define INIT(m)                                                                                    \
    float32x4_t c##m##0 = bias.val[0], c##m##1 = bias.val[1], c##m##2 = bias.val[2],               \
                c##m##3 = bias.val[3];
    ROWS5(INIT)
#undef INIT
    const float *w = t->weights;
    for (size_t ky = 0; ky < t->kh; ky++)
        for (size_t kx = 0; kx < t->kw; kx++) {
            const size_t off = ky * t->row_stride + kx * t->col_stride;
#define TAP(m) const float *p##m = (const float *)(a##m + off);
            ROWS5(TAP)
#undef TAP
            size_t c = 0;
            for (; c + 4 <= t->kc; c += 4) {
#define LOAD(m) const float32x4_t x##m = vld1q_f32(p##m + c);
                ROWS5(LOAD)
#undef LOAD
#define LANE_FMA(m, l)                                                                             \
    c##m##0 = vfmaq_laneq_f32(c##m##0, wv.val[0], x##m, l);                                        \
    c##m##1 = vfmaq_laneq_f32(c##m##1, wv.val[1], x##m, l);                                        \
    c##m##2 = vfmaq_laneq_f32(c##m##2, wv.val[2], x##m, l);                                        \
    c##m##3 = vfmaq_laneq_f32(c##m##3, wv.val[3], x##m, l);
#define LANE(l)                                                                                    \
    {                                                                                              \
        const float32x4x4_t wv = vld1q_f32_x4(w);                                                  \
        w += 16;                                                                                   \
        LANE_FMA(0, l) LANE_FMA(1, l) LANE_FMA(2, l) LANE_FMA(3, l) LANE_FMA(4, l)                 \
    }
                LANE(0) LANE(1) LANE(2) LANE(3)
#undef LANE
#undef LANE_FMA
            }
            for (; c < t->kc; c++, w += 16) {
                const float32x4x4_t wv = vld1q_f32_x4(w);
#define FMA(m)                                                                                     \
    {                                                                                              \
        const float32x4_t x = vld1q_dup_f32(p##m + c);                                             \
        c##m##0 = vfmaq_f32(c##m##0, x, wv.val[0]);                                                \
        c##m##1 = vfmaq_f32(c##m##1, x, wv.val[1]);                                                \
        c##m##2 = vfmaq_f32(c##m##2, x, wv.val[2]);                                                \
        c##m##3 = vfmaq_f32(c##m##3, x, wv.val[3]);                                                \
    }
                ROWS5(FMA)
#undef FMA
            }
        }
    const float32x4_t lo = vdupq_n_f32(t->min), hi = vdupq_n_f32(t->max);
#define STORE(m)                                                                                   \
    if (m < mr) {                                                                                  \
        float *o = (float *)((char *)t->output + m * t->output_stride);                            \
        store8(o, nc, c##m##0, c##m##1, lo, hi);                                                   \
        if (nc > 8) store8(o + 8, nc - 8, c##m##2, c##m##3, lo, hi);                               \
    }
    ROWS5(STORE)
#undef STORE
#undef ROWS5
}

void sn_f32_conv_ukernel_1x16__neonfma(size_t mr, size_t nc, const struct sn_conv_tile *t) {
    (void)mr; /* one pixel */
    const float32x4x4_t bias = vld1q_f32_x4(t->bias);
    float32x4_t c0 = bias.val[0], c1 = bias.val[1], c2 = bias.val[2], c3 = bias.val[3];
    const float *w = t->weights;
    for (size_t ky = 0; ky < t->kh; ky++)
        for (size_t kx = 0; kx < t->kw; kx++) {
            const float *p =
                (const float *)((const char *)t->input + ky * t->row_stride + kx * t->col_stride);
            for (size_t c = 0; c < t->kc; c++, w += 16) {
                const float32x4x4_t wv = vld1q_f32_x4(w);
                const float32x4_t x = vld1q_dup_f32(p + c);
                c0 = vfmaq_f32(c0, x, wv.val[0]);
                c1 = vfmaq_f32(c1, x, wv.val[1]);
                c2 = vfmaq_f32(c2, x, wv.val[2]);
                c3 = vfmaq_f32(c3, x, wv.val[3]);
            }
        }
    const float32x4_t lo = vdupq_n_f32(t->min), hi = vdupq_n_f32(t->max);
    store8(t->output, nc, c0, c1, lo, hi);
    if (nc > 8) store8(t->output + 8, nc - 8, c2, c3, lo, hi);
}

#else /* armv7: NEON with VFPv4 */

#define FOR_ROWS(X) X(0) X(1) X(2) X(3)

void sn_f32_conv_ukernel_4x8__neonfma(size_t mr, size_t nc, const struct sn_conv_tile *t) {
    const char *a0 = (const char *)t->input;
    const char *a1 = mr > 1 ? a0 + t->pixel_stride : a0;
    const char *a2 = mr > 2 ? a1 + t->pixel_stride : a1;
    const char *a3 = mr > 3 ? a2 + t->pixel_stride : a2;
    const float32x4_t bias0 = vld1q_f32(t->bias), bias1 = vld1q_f32(t->bias + 4);
#define INIT(m) float32x4_t c##m##a = bias0, c##m##b = bias1;
    FOR_ROWS(INIT)
#undef INIT
    const float *w = t->weights;
    for (size_t ky = 0; ky < t->kh; ky++)
        for (size_t kx = 0; kx < t->kw; kx++) {
            const size_t off = ky * t->row_stride + kx * t->col_stride;
#define TAP(m) const float *p##m = (const float *)(a##m + off);
            FOR_ROWS(TAP)
#undef TAP
            size_t c = 0;
            /* pointers that step (post-increment loads), not base + c */
            /* two channels a step: each pixel's pair in one d register,
             * consumed by lane (VMLA by scalar: armv7 has no by-scalar
             * VFMA, so these two products are rounded before the add) */
            for (; c + 2 <= t->kc; c += 2) {
                const float32x4_t w0a = vld1q_f32(w), w0b = vld1q_f32(w + 4);
                const float32x4_t w1a = vld1q_f32(w + 8), w1b = vld1q_f32(w + 12);
                w += 16;
#define MLA(m)                                                                                     \
    {                                                                                              \
        const float32x2_t x = vld1_f32(p##m);                                                      \
        p##m += 2;                                                                                 \
        c##m##a = vmlaq_lane_f32(c##m##a, w0a, x, 0);                                              \
        c##m##b = vmlaq_lane_f32(c##m##b, w0b, x, 0);                                              \
        c##m##a = vmlaq_lane_f32(c##m##a, w1a, x, 1);                                              \
        c##m##b = vmlaq_lane_f32(c##m##b, w1b, x, 1);                                              \
    }
                FOR_ROWS(MLA)
#undef MLA
            }
            for (; c < t->kc; c++, w += 8) {
                const float32x4_t wa = vld1q_f32(w), wb = vld1q_f32(w + 4);
#define FMA(m)                                                                                     \
    {                                                                                              \
        const float32x4_t x = vld1q_dup_f32(p##m++);                                               \
        c##m##a = vfmaq_f32(c##m##a, x, wa);                                                       \
        c##m##b = vfmaq_f32(c##m##b, x, wb);                                                       \
    }
                FOR_ROWS(FMA)
#undef FMA
            }
        }
    const float32x4_t lo = vdupq_n_f32(t->min), hi = vdupq_n_f32(t->max);
#define STORE(m)                                                                                   \
    if (m < mr)                                                                                    \
        store8((float *)((char *)t->output + m * t->output_stride), nc, c##m##a, c##m##b, lo, hi);
    FOR_ROWS(STORE)
#undef STORE
}

#endif
