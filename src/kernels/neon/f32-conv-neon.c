/* Convolution tiles for NEON with multiply-add by lane. One source:
 *
 *   aarch64 (32 q registers): 5 pixels x 16 channels, 20 accumulators; four
 *   input channels are loaded per pixel at once and consumed lane by lane
 *   (vfmaq_laneq_f32, aarch64 only), and each lane's 16 weights come in one
 *   4-register load: 91 instructions per 80 FMAs in the inner loop;
 *   armv7 (16 q registers, NEON + VFPv4): 4 pixels x 8 channels, 8
 *   accumulators; four input channels per pixel in one q register,
 *   consumed by lane with VMLA (armv7 has no by-scalar VFMA), each lane's 8
 *   weights in one load: 42 instructions per 32 multiply-adds.
 *
 * Both are written once for a compile-time pixel count MR and instantiated
 * for every count up to the tile's; a run of pixels takes full tiles, then
 * one shorter tile that computes only its own pixels, and the one-pixel
 * kernel is the same code. Counted
 * under qemu (bench/arm): an 8x8 aarch64 tile ran 3.6% more instructions
 * than 5x16 on the seed filter; on armv7, two channels a step ran 37%
 * more and one broadcast per pixel and channel 2.4 times as many.
 *
 * See struct sn_conv_tile (kernels.h) for the contract. */
#include <arm_neon.h>
#include <math.h>
#include <string.h>

#include "kernels/kernels.h"
#include "kernels/step.h"

/* Stores the first n <= 8 channels of (a, b), clamped to [lo, hi] (to
 * [lo, +inf) when !upper: the armv7 tile tests the upper bound once per
 * block, so relu, the common case, skips the vminq). vmaxq/vminq return NaN when
 * an operand is NaN, so NaN passes through as in the reference. */
static inline void store8(float *o, size_t n, float32x4_t a, float32x4_t b, float32x4_t lo,
                          float32x4_t hi, int upper) {
    a = vmaxq_f32(lo, a);
    b = vmaxq_f32(lo, b);
    if (upper) {
        a = vminq_f32(hi, a);
        b = vminq_f32(hi, b);
    }
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

#if SN_ARCH_ARM64

/* A lane's 16 weights, or with NB 1 only the first 8 (the rest zero). */
static inline float32x4x4_t weights16(const size_t NB, const float *w) {
    if (NB > 1) return vld1q_f32_x4(w);
    const float32x4x2_t h = vld1q_f32_x2(w);
    return (float32x4x4_t){{h.val[0], h.val[1], vdupq_n_f32(0.0f), vdupq_n_f32(0.0f)}};
}

/* MR pixels x 16 channels, or x 8 with NB 1 (NB 2 otherwise); MR <= 5 and
 * NB compile-time constants (run_16 below calls it with 5 down to 1, so a
 * short tile at a run's end wastes no FMAs): 4 * MR accumulators (2 * MR
 * with NB 1); each lane's 16 weights come with one 4-register load
 * (vld1q_f32_x4), so four input channels cost 4 weight loads and MR input
 * loads for 16 * MR FMAs. Input pointers step with the loads
 * (post-increment addressing) and the loop counts down, so the loop
 * carries no address arithmetic. */
static inline __attribute__((always_inline)) void conv_16(const size_t MR, const size_t NB,
                                                          size_t nc, const struct sn_conv_tile *t,
                                                          const char *input, const float *block_w,
                                                          const float *block_b, float *block_o) {
    const float32x4x4_t bias = vld1q_f32_x4(block_b);
#define ROWS5(X) X(0) X(1) X(2) X(3) X(4)
#define INIT(m)                                                                                    \
    float32x4_t c##m##0 = bias.val[0], c##m##1 = bias.val[1], c##m##2 = bias.val[2],               \
                c##m##3 = bias.val[3];
    ROWS5(INIT)
#undef INIT
    const float *w = block_w;
    const size_t quads = t->kc / 4, rest = t->kc % 4;
    const char *row = input; /* pixel 0, tap (ky, 0) */
    for (size_t ky = t->kh; ky != 0; ky--, row += t->row_stride)
        for (size_t kx = 0; kx < t->kw; kx++) {
            /* each pixel's first channel at tap (ky, kx): pixel_stride apart */
            const char *tap = row + kx * t->col_stride;
#define TAP(m) const float *p##m = (const float *)(tap + m * t->pixel_stride);
            ROWS5(TAP)
#undef TAP
            /* two quads an iteration: half the loop control (counted: the
             * seed filter 1.0% fewer instructions on aarch64, 2.1% on armv7;
             * by 4, the stem's 9-channel rows lose more than the rest gain) */
#pragma GCC unroll 2
            for (size_t q = quads; q != 0; q--) {
#define LOAD(m)                                                                                    \
    float32x4_t x##m = vdupq_n_f32(0.0f);                                                          \
    if (MR > m) {                                                                                  \
        x##m = vld1q_f32(p##m);                                                                    \
        SN_STEP(p##m, 4);                                                                          \
    }
                ROWS5(LOAD)
#undef LOAD
#define LANE_FMA(m, l)                                                                             \
    if (MR > m) {                                                                                  \
        c##m##0 = vfmaq_laneq_f32(c##m##0, wv.val[0], x##m, l);                                    \
        c##m##1 = vfmaq_laneq_f32(c##m##1, wv.val[1], x##m, l);                                    \
        if (NB > 1) {                                                                              \
            c##m##2 = vfmaq_laneq_f32(c##m##2, wv.val[2], x##m, l);                                \
            c##m##3 = vfmaq_laneq_f32(c##m##3, wv.val[3], x##m, l);                                \
        }                                                                                          \
    }
#define LANE(l)                                                                                    \
    {                                                                                              \
        const float32x4x4_t wv = weights16(NB, w);                                                 \
        SN_STEP(w, 16);                                                                            \
        LANE_FMA(0, l) LANE_FMA(1, l) LANE_FMA(2, l) LANE_FMA(3, l) LANE_FMA(4, l)                 \
    }
                LANE(0) LANE(1) LANE(2) LANE(3)
#undef LANE
#undef LANE_FMA
            }
            for (size_t c = rest; c != 0; c--) {
                const float32x4x4_t wv = weights16(NB, w);
                w += 16;
#define FMA(m)                                                                                     \
    if (MR > m) {                                                                                  \
        const float32x4_t x = vld1q_dup_f32(p##m);                                                 \
        p##m++;                                                                                    \
        c##m##0 = vfmaq_f32(c##m##0, x, wv.val[0]);                                                \
        c##m##1 = vfmaq_f32(c##m##1, x, wv.val[1]);                                                \
        if (NB > 1) {                                                                              \
            c##m##2 = vfmaq_f32(c##m##2, x, wv.val[2]);                                            \
            c##m##3 = vfmaq_f32(c##m##3, x, wv.val[3]);                                            \
        }                                                                                          \
    }
                ROWS5(FMA)
#undef FMA
            }
        }
    const float32x4_t lo = vdupq_n_f32(t->min), hi = vdupq_n_f32(t->max);
#define STORE(m, upper)                                                                            \
    if (MR > m) {                                                                                  \
        float *o = (float *)((char *)block_o + m * t->output_stride);                              \
        store8(o, nc, c##m##0, c##m##1, lo, hi, upper);                                            \
        if (NB > 1 && nc > 8) store8(o + 8, nc - 8, c##m##2, c##m##3, lo, hi, upper);              \
    }
    /* Always both bounds: with a second set of stores for relu, as the armv7
     * tile has, GCC 12 allocates the 5x16 loop's registers worse (97
     * instructions per 80 FMAs instead of 91). */
#define STORE_BOTH(m) STORE(m, 1)
    ROWS5(STORE_BOTH)
#undef STORE_BOTH
#undef STORE
#undef ROWS5
}

/* One block of a run of pixels: full tiles of 5, then the rest; a block
 * of 8 channels or fewer computes only those (half the FMAs). */
static void run_16(size_t pixels, size_t nc, const struct sn_conv_tile *t, const float *w,
                   const float *b, float *o) {
#define TILE(r, in, out) conv_16(r, 2, nc, t, in, w, b, out)
#define HALF_TILE(r, in, out) conv_16(r, 1, nc, t, in, w, b, out)
    if (nc <= 8)
        SN_CONV_RUN_TILES(5, HALF_TILE, pixels, t->input, t->pixel_stride, o, t->output_stride);
    else
        SN_CONV_RUN_TILES(5, TILE, pixels, t->input, t->pixel_stride, o, t->output_stride);
#undef HALF_TILE
#undef TILE
}

SN_CONV_OVER_BLOCKS(sn_f32_conv_ukernel_5x16__neonfma, run_16, 16)

/* The one-pixel kernel is the same code. */
void sn_f32_conv_ukernel_1x16__neonfma(size_t mr, size_t nc, const struct sn_conv_tile *t) {
    sn_f32_conv_ukernel_5x16__neonfma(mr, nc, t);
}

#else /* armv7: NEON with VFPv4 */

/* MR pixels x 8 channels, MR <= 4 a compile-time constant (run_8 below
 * calls it with 4 down to 1): 2 * MR accumulators; four input channels of
 * a pixel come in one q register and are consumed by lane with VMLA
 * (armv7 has no by-scalar VFMA, so these products are rounded before the
 * add), each lane's 8 weights in one de-interleaving load (vld2q_f32: the
 * weights and bias are packed with the halves of each row of 8 interleaved,
 * layout blocked_zip). Pointers step with the loads
 * (post-increment addressing) and the loop counts down. */
static inline __attribute__((always_inline)) void conv_8(const size_t MR, size_t nc,
                                                         const struct sn_conv_tile *t,
                                                         const char *input, const float *block_w,
                                                         const float *block_b, float *block_o) {
#define ROWS4(X) X(0) X(1) X(2) X(3)
    const float32x4x2_t bias = vld2q_f32(block_b);
#define INIT(m) float32x4_t c##m##a = bias.val[0], c##m##b = bias.val[1];
    ROWS4(INIT)
#undef INIT
    const float *w = block_w;
    const size_t quads = t->kc / 4, rest = t->kc % 4;
    const char *row = input; /* pixel 0, tap (ky, 0) */
    for (size_t ky = t->kh; ky != 0; ky--, row += t->row_stride)
        for (size_t kx = 0; kx < t->kw; kx++) {
            /* each pixel's first channel at tap (ky, kx): pixel_stride apart */
            const char *tap = row + kx * t->col_stride;
#define TAP(m) const float *p##m = (const float *)(tap + m * t->pixel_stride);
            ROWS4(TAP)
#undef TAP
            /* two quads an iteration: half the loop control (counted: the
             * seed filter 1.0% fewer instructions on aarch64, 2.1% on armv7;
             * by 4, the stem's 9-channel rows lose more than the rest gain) */
#pragma GCC unroll 2
            for (size_t q = quads; q != 0; q--) {
#define LOAD(m)                                                                                    \
    float32x4_t x##m = vdupq_n_f32(0.0f);                                                          \
    if (MR > m) {                                                                                  \
        x##m = vld1q_f32(p##m);                                                                    \
        SN_STEP(p##m, 4);                                                                          \
    }
                ROWS4(LOAD)
#undef LOAD
#define LANE_MLA(m, half, l)                                                                       \
    if (MR > m) {                                                                                  \
        c##m##a = vmlaq_lane_f32(c##m##a, wa, half(x##m), l);                                      \
        c##m##b = vmlaq_lane_f32(c##m##b, wb, half(x##m), l);                                      \
    }
#define LANE(half, l)                                                                              \
    {                                                                                              \
        const float32x4x2_t wv = vld2q_f32(w);                                                     \
        SN_STEP(w, 8);                                                                             \
        const float32x4_t wa = wv.val[0], wb = wv.val[1];                                          \
        LANE_MLA(0, half, l) LANE_MLA(1, half, l) LANE_MLA(2, half, l) LANE_MLA(3, half, l)        \
    }
                LANE(vget_low_f32, 0)
                LANE(vget_low_f32, 1) LANE(vget_high_f32, 0) LANE(vget_high_f32, 1)
#undef LANE
#undef LANE_MLA
            }
            for (size_t c = rest; c != 0; c--) {
                const float32x4x2_t wv = vld2q_f32(w);
                const float32x4_t wa = wv.val[0], wb = wv.val[1];
                w += 8;
#define FMA(m)                                                                                     \
    if (MR > m) {                                                                                  \
        const float32x4_t x = vld1q_dup_f32(p##m);                                                 \
        p##m++;                                                                                    \
        c##m##a = vfmaq_f32(c##m##a, x, wa);                                                       \
        c##m##b = vfmaq_f32(c##m##b, x, wb);                                                       \
    }
                ROWS4(FMA)
#undef FMA
            }
        }
    const float32x4_t lo = vdupq_n_f32(t->min), hi = vdupq_n_f32(t->max);
#define STORE(m, upper)                                                                            \
    if (MR > m)                                                                                    \
        store8((float *)((char *)block_o + m * t->output_stride), nc, c##m##a, c##m##b, lo, hi,    \
               upper);
#define STORE_UPPER(m) STORE(m, 1)
#define STORE_LOWER(m) STORE(m, 0)
    if (t->max < INFINITY) {
        ROWS4(STORE_UPPER)
    } else {
        ROWS4(STORE_LOWER)
    }
#undef STORE_UPPER
#undef STORE_LOWER
#undef STORE
#undef ROWS4
}

/* One block of a run of pixels: full tiles of 4, then the rest. */
static void run_8(size_t pixels, size_t nc, const struct sn_conv_tile *t, const float *w,
                  const float *b, float *o) {
#define TILE(r, in, out) conv_8(r, nc, t, in, w, b, out)
    SN_CONV_RUN_TILES(4, TILE, pixels, t->input, t->pixel_stride, o, t->output_stride);
#undef TILE
}

SN_CONV_OVER_BLOCKS(sn_f32_conv_ukernel_4x8__neonfma, run_8, 8)

/* The one-pixel kernel is the same code. */
void sn_f32_conv_ukernel_1x8__neonfma(size_t mr, size_t nc, const struct sn_conv_tile *t) {
    sn_f32_conv_ukernel_4x8__neonfma(mr, nc, t);
}

#endif
