/* Convolution tiles for AVX-512F: 8 output pixels x 32 output channels,
 * 16 zmm accumulators, each weight row (2 zmm) reused by 8 broadcasts.
 * See struct sn_conv_tile (kernels.h) for the contract. */
#include <immintrin.h>

#include "kernels/kernels.h"

/* Lanes [0, n) of a 16-lane vector (n may exceed 16). */
static inline __mmask16 lanes(size_t n) {
    return n >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << n) - 1);
}

#define FOR_ROWS(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7)

/* One block of NR channels for a run of pixels: see struct sn_conv_tile.
 * Not inlined into the block loop: its live values would push the row
 * pointers out of the general registers (measured: 97% of peak fell to
 * 77%). */
static __attribute__((noinline)) void tile_8x32(size_t pixels, size_t nc,
                                                const struct sn_conv_tile *t, const float *block_w,
                                                const float *block_b, float *block_o) {
    /* the run, MR pixels at a time */
    for (size_t m0 = 0; m0 < pixels; m0 += 8) {
        const size_t mr = pixels - m0 < 8 ? pixels - m0 : 8;
        float *tile_o = (float *)((char *)block_o + m0 * t->output_stride);
        /* Rows past mr repeat the last real row: computed, never stored. */
        const char *a0 = (const char *)t->input + m0 * t->pixel_stride;
        const char *a1 = mr > 1 ? a0 + t->pixel_stride : a0;
        const char *a2 = mr > 2 ? a1 + t->pixel_stride : a1;
        const char *a3 = mr > 3 ? a2 + t->pixel_stride : a2;
        const char *a4 = mr > 4 ? a3 + t->pixel_stride : a3;
        const char *a5 = mr > 5 ? a4 + t->pixel_stride : a4;
        const char *a6 = mr > 6 ? a5 + t->pixel_stride : a5;
        const char *a7 = mr > 7 ? a6 + t->pixel_stride : a6;
        const __m512 bias0 = _mm512_load_ps(block_b), bias1 = _mm512_load_ps(block_b + 16);
#define INIT(m) __m512 c##m##a = bias0, c##m##b = bias1;
        FOR_ROWS(INIT)
#undef INIT
        const float *w = block_w;
        for (size_t ky = 0; ky < t->kh; ky++)
            for (size_t kx = 0; kx < t->kw; kx++) {
                const size_t off = ky * t->row_stride + kx * t->col_stride;
#define TAP(m) const float *p##m = (const float *)(a##m + off);
                FOR_ROWS(TAP)
#undef TAP
                for (size_t c = 0; c < t->kc; c++, w += 32) {
                    const __m512 wa = _mm512_load_ps(w), wb = _mm512_load_ps(w + 16);
#define FMA(m)                                                                                     \
    {                                                                                              \
        const __m512 x = _mm512_set1_ps(p##m[c]);                                                  \
        c##m##a = _mm512_fmadd_ps(x, wa, c##m##a);                                                 \
        c##m##b = _mm512_fmadd_ps(x, wb, c##m##b);                                                 \
    }
                    FOR_ROWS(FMA)
#undef FMA
                }
            }
        /* max(min, v) and min(max, v) return v when v is NaN */
        const __m512 lo = _mm512_set1_ps(t->min), hi = _mm512_set1_ps(t->max);
        const __mmask16 ka = lanes(nc), kb = lanes(nc > 16 ? nc - 16 : 0);
#define STORE(m)                                                                                   \
    if (m < mr) {                                                                                  \
        float *o = (float *)((char *)tile_o + m * t->output_stride);                               \
        c##m##a = _mm512_min_ps(hi, _mm512_max_ps(lo, c##m##a));                                   \
        c##m##b = _mm512_min_ps(hi, _mm512_max_ps(lo, c##m##b));                                   \
        _mm512_mask_storeu_ps(o, ka, c##m##a);                                                     \
        _mm512_mask_storeu_ps(o + 16, kb, c##m##b);                                                \
    }
        FOR_ROWS(STORE)
#undef STORE
    }
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
        _mm512_mask_storeu_ps(o, lanes(nc), _mm512_min_ps(hi, _mm512_max_ps(lo, ca)));
        _mm512_mask_storeu_ps(o + 16, lanes(nc > 16 ? nc - 16 : 0),
                              _mm512_min_ps(hi, _mm512_max_ps(lo, cb)));
    }
}

SN_CONV_OVER_BLOCKS(sn_f32_conv_ukernel_8x32__avx512, tile_8x32, 32)
SN_CONV_OVER_BLOCKS(sn_f32_conv_ukernel_1x32__avx512, tile_1x32, 32)
