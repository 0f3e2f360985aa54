/* Max and average pooling for NEON, one source for aarch64 and armv7, NHWC,
 * vectorized over channels: per output pixel, 16 channels at a time (4 q
 * accumulators) over the part of the window inside the input, then the
 * quads left together, then the last 1 to 3 channels in plain C. Each sum
 * is added in the reference's order (window rows, then columns) and
 * divided by the same count, so both kernels give the reference's floats
 * bit for bit, NaN payloads included.
 *
 * armv7 has no vector division: the average's accumulators are divided
 * lane by lane in VFP, once per output float. And a channel block whose
 * window holds a tiny number, where flush to zero could change a compare or
 * a sum, is done in plain C (ieee-neon.h). */
#include <arm_neon.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>

#include "kernels/kernels.h"
#include "kernels/pool-window.h"
#include "kernels/neon/ieee-neon.h"

/* Max: the reference takes v when v > acc or v is NaN, from -inf, so the
 * last NaN stays and ties keep the first value (+0 or -0). FMAX / VMAX
 * gives that but for ties (+0) and for which NaN: see redo(). */
static inline float32x4_t take(int average, float32x4_t acc, float32x4_t v) {
    if (average) return vaddq_f32(acc, v);
    return vbslq_f32(vceqq_f32(acc, v), acc, vmaxq_f32(acc, v));
}

static inline void store(int average, float *out, float32x4_t acc, float count) {
    if (!average) {
        vst1q_f32(out, acc);
        return;
    }
#if SN_ARCH_ARM64
    vst1q_f32(out, vdivq_f32(acc, vdupq_n_f32(count)));
#else
    vst1q_f32(out, acc);
    for (int i = 0; i < 4; i++) out[i] /= count;
#endif
}

/* All ones in the lanes of `a` that are not NaN. */
static inline uint32x4_t ordered(float32x4_t a) { return vceqq_f32(a, a); }

/* Whether a channel block must be redone in plain C: a tiny input (armv7,
 * ieee-neon.h), or a NaN in an accumulator (`ord`: the AND of ordered(a)
 * over them). FMAX / VMAX and FADD let any NaN through, and a
 * NaN accumulator stays NaN, but as another NaN than the reference's: the
 * default NaN on armv7, on aarch64 a quieted one, or the first of two where
 * the reference keeps the last. NaNs are rare in real data: the common
 * block pays one compare per accumulator, once per window. */
static inline int redo(uint32x4_t tiny, uint32x4_t ord) {
    if (sn_tiny_any_neon(tiny)) return 1;
#if SN_ARCH_ARM64
    return vminvq_u32(ord) == 0;
#else
    uint32x2_t m = vmin_u32(vget_low_u32(ord), vget_high_u32(ord));
    m = vpmin_u32(m, m);
    return vget_lane_u32(m, 0) == 0;
#endif
}

/* Channels [c, c + nc) in plain C: the reference's loop. Rare, so kept
 * out of line. */
static __attribute__((noinline)) void plain(int average, const struct window *w, size_t channels,
                                            size_t c, size_t nc, float *out) {
    const float count = (float)(w->rows * w->cols);
    for (size_t j = c; j < c + nc; j++) {
        float acc = average ? 0.0f : -INFINITY;
        for (size_t ky = 0; ky < w->rows; ky++) {
            const float *p = w->origin + ky * w->row_stride + j;
            for (size_t kx = 0; kx < w->cols; kx++, p += channels) {
                const float v = *p;
                if (average)
                    acc += v;
                else if (v > acc || v != v)
                    acc = v;
            }
        }
        out[j] = average ? (count != 0.0f ? acc / count : 0.0f) : acc;
    }
}

/* Channels [c, c + 4 NV) of one window: NV (1 to 4, a constant where
 * inlined) q accumulators side by side, so that their chains overlap. */
static inline __attribute__((always_inline)) void vectors(int average, const int NV,
                                                          const struct window *w, size_t channels,
                                                          size_t c, float count, float *out) {
    const float32x4_t start = vdupq_n_f32(average ? 0.0f : -INFINITY);
    float32x4_t a0 = start, a1 = start, a2 = start, a3 = start;
    uint32x4_t tiny = sn_tiny_none_neon();
    for (size_t ky = 0; ky < w->rows; ky++) {
        const float *p = w->origin + ky * w->row_stride + c;
        for (size_t kx = 0; kx < w->cols; kx++, p += channels) {
            const float32x4_t v0 = vld1q_f32(p);
            tiny = sn_tiny_add_neon(tiny, v0);
            a0 = take(average, a0, v0);
            if (NV > 1) {
                const float32x4_t v1 = vld1q_f32(p + 4);
                tiny = sn_tiny_add_neon(tiny, v1);
                a1 = take(average, a1, v1);
            }
            if (NV > 2) {
                const float32x4_t v2 = vld1q_f32(p + 8);
                tiny = sn_tiny_add_neon(tiny, v2);
                a2 = take(average, a2, v2);
            }
            if (NV > 3) {
                const float32x4_t v3 = vld1q_f32(p + 12);
                tiny = sn_tiny_add_neon(tiny, v3);
                a3 = take(average, a3, v3);
            }
        }
    }
    uint32x4_t ord = ordered(a0);
    if (NV > 1) ord = vandq_u32(ord, ordered(a1));
    if (NV > 2) ord = vandq_u32(ord, ordered(a2));
    if (NV > 3) ord = vandq_u32(ord, ordered(a3));
    if (redo(tiny, ord)) {
        plain(average, w, channels, c, 4 * (size_t)NV, out);
        return;
    }
    store(average, out + c, a0, count);
    if (NV > 1) store(average, out + c + 4, a1, count);
    if (NV > 2) store(average, out + c + 8, a2, count);
    if (NV > 3) store(average, out + c + 12, a3, count);
}

/* Always inlined, as pool-window.h wants: with `average` a constant the
 * branches in the loops go (GCC 12 inlined it on aarch64 but not on armv7,
 * and the other way round once redo() came). 16 channels at a time, then
 * the whole quads left in one go (8 in ShuffleNet's 24: side by side, not
 * one after the other), then the last 1 to 3 channels in plain C. */
static inline __attribute__((always_inline)) void pixel(int average, const struct window *w,
                                                        size_t channels, float *out) {
    const size_t taps = w->rows * w->cols;
    const float count = taps ? (float)taps : 1.0f; /* no tap: 0 / 1 */
    size_t c = 0;
    for (; c + 16 <= channels; c += 16) vectors(average, 4, w, channels, c, count, out);
    switch ((channels - c) / 4) {
    case 3: vectors(average, 3, w, channels, c, count, out); break;
    case 2: vectors(average, 2, w, channels, c, count, out); break;
    case 1: vectors(average, 1, w, channels, c, count, out); break;
    default: break;
    }
    c += (channels - c) / 4 * 4;
    if (c < channels) plain(average, w, channels, c, channels - c, out);
}

void sn_f32_max_pool_ukernel__neon(const sn_conv2d_geometry *g, const float *input, float *output,
                                   int64_t row_begin, int64_t row_end) {
    sn_pool_rows(0, g, input, output, row_begin, row_end, pixel);
}

void sn_f32_avg_pool_ukernel__neon(const sn_conv2d_geometry *g, const float *input, float *output,
                                   int64_t row_begin, int64_t row_end) {
    sn_pool_rows(1, g, input, output, row_begin, row_end, pixel);
}
