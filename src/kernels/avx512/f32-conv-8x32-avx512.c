/* Convolution tiles for AVX-512F: 8 output pixels x 32 output channels,
 * 16 zmm accumulators, each weight row (2 zmm) reused by 8 broadcasts; a
 * block of 16 channels or fewer takes 8 x 16, half the multiply-adds.
 * See struct sn_conv_tile (kernels.h) for the contract. */
#include <immintrin.h>

#include "kernels/avx512/mask-avx512.h"
#include "kernels/kernels.h"

#define FOR_ROWS(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7)

/* MR pixels (MR <= 8, a compile-time constant where inlined) x 16 NB
 * channels (NB 1 or 2, a constant too) of one block. Rows past MR, and
 * the second half when NB is 1, are never computed: the compiler drops
 * them. Each channel's sum is the same whatever NB.
 * The row pointers stay put and one byte offset walks the taps and their
 * channels: the next tap of a filter row is col_stride on from the one
 * before, the first tap of the next filter row row_step on from the last
 * tap of this one. */
static inline __attribute__((always_inline)) void
conv_8x32(const size_t MR, const size_t NB, const char *a0, size_t ps, size_t kc, size_t taps,
          size_t row_step, size_t kw, size_t col_stride, const float *w, const float *bias,
          float *o, size_t os, __mmask16 ka, __mmask16 kb, __m512 lo, __m512 hi) {
    const char *a1 = a0 + ps, *a2 = a1 + ps, *a3 = a2 + ps, *a4 = a3 + ps, *a5 = a4 + ps,
               *a6 = a5 + ps, *a7 = a6 + ps;
    const __m512 bias0 = _mm512_load_ps(bias), bias1 = _mm512_load_ps(bias + 16);
#define INIT(m) __m512 c##m##a = bias0, c##m##b = bias1;
    FOR_ROWS(INIT)
#undef INIT
    size_t off = 0; /* bytes from each row's start to the tap */
    for (size_t tap = 0, kx = 0; tap < taps; tap++) {
        const size_t end = off + kc * sizeof(float);
        for (size_t x = off; x < end; x += sizeof(float), w += 32) {
            const __m512 wa = _mm512_load_ps(w), wb = _mm512_load_ps(w + 16);
#define FMA(m)                                                                                     \
    if (m < MR) {                                                                                  \
        const __m512 v = _mm512_set1_ps(*(const float *)(a##m + x));                               \
        c##m##a = _mm512_fmadd_ps(v, wa, c##m##a);                                                 \
        if (NB > 1) c##m##b = _mm512_fmadd_ps(v, wb, c##m##b);                                     \
    }
            FOR_ROWS(FMA)
#undef FMA
        }
        if (++kx == kw)
            kx = 0, off += row_step; /* the next row of taps */
        else
            off += col_stride;
    }
    /* max(min, v) and min(max, v) return v when v is NaN */
#define STORE(m)                                                                                   \
    if (m < MR) {                                                                                  \
        float *q = (float *)((char *)o + m * os);                                                  \
        _mm512_mask_storeu_ps(q, ka, _mm512_min_ps(hi, _mm512_max_ps(lo, c##m##a)));               \
        if (NB > 1)                                                                                \
            _mm512_mask_storeu_ps(q + 16, kb, _mm512_min_ps(hi, _mm512_max_ps(lo, c##m##b)));      \
    }
    FOR_ROWS(STORE)
#undef STORE
}

/* One block of NR channels for a run of pixels: see struct sn_conv_tile.
 * Not inlined into the block loop: its live values would push the row
 * pointers out of the general registers (measured: 97% of peak fell to
 * 77%). */
static __attribute__((noinline)) void tile_8x32(size_t pixels, size_t nc,
                                                const struct sn_conv_tile *t, const float *block_w,
                                                const float *block_b, float *block_o) {
    const size_t ps = t->pixel_stride, os = t->output_stride, kc = t->kc, kw = t->kw,
                 cs = t->col_stride, taps = t->kh * kw, row_step = t->row_stride - (kw - 1) * cs;
    const __m512 lo = _mm512_set1_ps(t->min), hi = _mm512_set1_ps(t->max);
    const __mmask16 ka = sn_mask_avx512(nc), kb = sn_mask_avx512(nc > 16 ? nc - 16 : 0);
#define TILE(r, in, out)                                                                           \
    conv_8x32(r, 2, in, ps, kc, taps, row_step, kw, cs, block_w, block_b, out, os, ka, kb, lo, hi)
#define HALF_TILE(r, in, out)                                                                      \
    conv_8x32(r, 1, in, ps, kc, taps, row_step, kw, cs, block_w, block_b, out, os, ka, kb, lo, hi)
    if (nc <= 16) /* oc = 16: 1.4-1.6x faster than computing 32 */
        SN_CONV_RUN_TILES(8, HALF_TILE, pixels, t->input, ps, block_o, os);
    else
        SN_CONV_RUN_TILES(8, TILE, pixels, t->input, ps, block_o, os);
#undef HALF_TILE
#undef TILE
}

/* One block of NR channels for a run of pixels: see struct sn_conv_tile.
 * Not inlined into the block loop: its live values would push the row
 * pointers out of the general registers (measured: 97% of peak fell to
 * 77%). */
static __attribute__((noinline)) void tile_1x32(size_t pixels, size_t nc,
                                                const struct sn_conv_tile *t, const float *block_w,
                                                const float *block_b, float *block_o) {
    for (size_t m0 = 0; m0 < pixels; m0++) { /* one pixel at a time */
        const char *in = (const char *)t->input + m0 * t->pixel_stride;
        float *o = (float *)((char *)block_o + m0 * t->output_stride);
        __m512 ca = _mm512_load_ps(block_b), cb = _mm512_load_ps(block_b + 16);
        /* four partial sums per half hide the FMA latency of a single row */
        __m512 da = _mm512_setzero_ps(), db = _mm512_setzero_ps();
        const float *w = block_w;
        for (size_t ky = 0; ky < t->kh; ky++)
            for (size_t kx = 0; kx < t->kw; kx++) {
                const float *p = (const float *)(in + ky * t->row_stride + kx * t->col_stride);
                size_t c = 0;
                for (; c + 2 <= t->kc; c += 2, w += 64) {
                    /* A matrix-vector product streams its weights from L3
                     * once: ask for them 2 KB ahead (median 15% faster on
                     * dense_mv; the hardware's prefetch alone left half the
                     * runs 20% slower). */
                    for (int line = 0; line < 4; line++)
                        _mm_prefetch((const char *)(w + 512 + 16 * line), _MM_HINT_T0);
                    const __m512 x0 = _mm512_set1_ps(p[c]), x1 = _mm512_set1_ps(p[c + 1]);
                    ca = _mm512_fmadd_ps(x0, _mm512_load_ps(w), ca);
                    cb = _mm512_fmadd_ps(x0, _mm512_load_ps(w + 16), cb);
                    da = _mm512_fmadd_ps(x1, _mm512_load_ps(w + 32), da);
                    db = _mm512_fmadd_ps(x1, _mm512_load_ps(w + 48), db);
                }
                for (; c < t->kc; c++, w += 32) {
                    const __m512 x = _mm512_set1_ps(p[c]);
                    ca = _mm512_fmadd_ps(x, _mm512_load_ps(w), ca);
                    cb = _mm512_fmadd_ps(x, _mm512_load_ps(w + 16), cb);
                }
            }
        ca = _mm512_add_ps(ca, da);
        cb = _mm512_add_ps(cb, db);
        const __m512 lo = _mm512_set1_ps(t->min), hi = _mm512_set1_ps(t->max);
        _mm512_mask_storeu_ps(o, sn_mask_avx512(nc), _mm512_min_ps(hi, _mm512_max_ps(lo, ca)));
        _mm512_mask_storeu_ps(o + 16, sn_mask_avx512(nc > 16 ? nc - 16 : 0),
                              _mm512_min_ps(hi, _mm512_max_ps(lo, cb)));
    }
}

SN_CONV_OVER_BLOCKS(sn_f32_conv_ukernel_8x32__avx512, tile_8x32, 32)
SN_CONV_OVER_BLOCKS(sn_f32_conv_ukernel_1x32__avx512, tile_1x32, 32)
