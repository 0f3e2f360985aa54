/* Convolution tiles for AVX2 + FMA: 6 output pixels x 16 output channels,
 * 12 ymm accumulators, each weight row (2 ymm) reused by 6 broadcasts; a
 * block of 8 channels or fewer takes 6 x 8, half the multiply-adds.
 * See struct sn_conv_tile (kernels.h) for the contract. */
#include <immintrin.h>
#include <stdint.h>

#include "kernels/kernels.h"

/* A mask of lanes [0, n) of 8 for maskstore (n may exceed 8). */
static inline __m256i lanes(size_t n) {
    static const int32_t table[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};
    return _mm256_loadu_si256((const __m256i *)&table[8 - (n < 8 ? n : 8)]);
}

/* Stores the first n <= 16 channels of (a, b). */
static inline void store16(float *o, size_t n, __m256 a, __m256 b) {
    if (n >= 16) {
        _mm256_storeu_ps(o, a);
        _mm256_storeu_ps(o + 8, b);
    } else {
        _mm256_maskstore_ps(o, lanes(n), a);
        _mm256_maskstore_ps(o + 8, lanes(n > 8 ? n - 8 : 0), b);
    }
}

/* Stores the first n <= 8 channels of a. */
static inline void store8(float *o, size_t n, __m256 a) {
    if (n >= 8)
        _mm256_storeu_ps(o, a);
    else
        _mm256_maskstore_ps(o, lanes(n), a);
}

#define FOR_ROWS(X) X(0) X(1) X(2) X(3) X(4) X(5)

/* MR pixels (MR <= 6, a compile-time constant where inlined) x 8 NB
 * channels (NB 1 or 2, a constant too) of one block, as the AVX-512 tile:
 * rows past MR, and the second half when NB is 1, are never computed, the
 * row pointers stay put and one byte offset walks the taps and their
 * channels (col_stride to a filter row's next tap, row_step from its last
 * tap to the next row's first). */
static inline __attribute__((always_inline)) void
conv_6x16(const size_t MR, const size_t NB, const char *a0, size_t ps, size_t kc, size_t taps,
          size_t row_step, size_t kw, size_t col_stride, const float *w, const float *bias,
          float *o, size_t os, size_t nc, __m256 lo, __m256 hi) {
    const char *a1 = a0 + ps, *a2 = a1 + ps, *a3 = a2 + ps, *a4 = a3 + ps, *a5 = a4 + ps;
    const __m256 bias0 = _mm256_load_ps(bias), bias1 = _mm256_load_ps(bias + 8);
#define INIT(m) __m256 c##m##a = bias0, c##m##b = bias1;
    FOR_ROWS(INIT)
#undef INIT
    size_t off = 0; /* bytes from each row's start to the tap */
    for (size_t tap = 0, kx = 0; tap < taps; tap++) {
        const size_t end = off + kc * sizeof(float);
        for (size_t x = off; x < end; x += sizeof(float), w += 16) {
            const __m256 wa = _mm256_load_ps(w), wb = _mm256_load_ps(w + 8);
#define FMA(m)                                                                                     \
    if (m < MR) {                                                                                  \
        const __m256 v = _mm256_broadcast_ss((const float *)(a##m + x));                           \
        c##m##a = _mm256_fmadd_ps(v, wa, c##m##a);                                                 \
        if (NB > 1) c##m##b = _mm256_fmadd_ps(v, wb, c##m##b);                                     \
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
    if (m < MR && NB > 1)                                                                          \
        store16((float *)((char *)o + m * os), nc, _mm256_min_ps(hi, _mm256_max_ps(lo, c##m##a)),  \
                _mm256_min_ps(hi, _mm256_max_ps(lo, c##m##b)));                                    \
    else if (m < MR)                                                                               \
        store8((float *)((char *)o + m * os), nc, _mm256_min_ps(hi, _mm256_max_ps(lo, c##m##a)));
    FOR_ROWS(STORE)
#undef STORE
}

/* One block of NR channels for a run of pixels: see struct sn_conv_tile.
 * Not inlined into the block loop: its live values would push the row
 * pointers out of the general registers (measured: 97% of peak fell to
 * 77%). */
static __attribute__((noinline)) void tile_6x16(size_t pixels, size_t nc,
                                                const struct sn_conv_tile *t, const float *block_w,
                                                const float *block_b, float *block_o) {
    const size_t ps = t->pixel_stride, os = t->output_stride, kc = t->kc, kw = t->kw,
                 cs = t->col_stride, taps = t->kh * kw, row_step = t->row_stride - (kw - 1) * cs;
    const __m256 lo = _mm256_set1_ps(t->min), hi = _mm256_set1_ps(t->max);
#define TILE(r, in, out)                                                                           \
    conv_6x16(r, 2, in, ps, kc, taps, row_step, kw, cs, block_w, block_b, out, os, nc, lo, hi)
#define HALF_TILE(r, in, out)                                                                      \
    conv_6x16(r, 1, in, ps, kc, taps, row_step, kw, cs, block_w, block_b, out, os, nc, lo, hi)
    if (nc <= 8)
        SN_CONV_RUN_TILES(6, HALF_TILE, pixels, t->input, ps, block_o, os);
    else
        SN_CONV_RUN_TILES(6, TILE, pixels, t->input, ps, block_o, os);
#undef HALF_TILE
#undef TILE
}

/* One block of NR channels for a run of pixels: see struct sn_conv_tile.
 * Not inlined into the block loop: its live values would push the row
 * pointers out of the general registers (measured: 97% of peak fell to
 * 77%). */
static __attribute__((noinline)) void tile_1x16(size_t pixels, size_t nc,
                                                const struct sn_conv_tile *t, const float *block_w,
                                                const float *block_b, float *block_o) {
    for (size_t m0 = 0; m0 < pixels; m0++) { /* one pixel at a time */
        const char *in = (const char *)t->input + m0 * t->pixel_stride;
        float *o = (float *)((char *)block_o + m0 * t->output_stride);
        __m256 ca = _mm256_load_ps(block_b), cb = _mm256_load_ps(block_b + 8);
        /* a second pair of sums hides the FMA latency of a single row */
        __m256 da = _mm256_setzero_ps(), db = _mm256_setzero_ps();
        const float *w = block_w;
        for (size_t ky = 0; ky < t->kh; ky++)
            for (size_t kx = 0; kx < t->kw; kx++) {
                const float *p = (const float *)(in + ky * t->row_stride + kx * t->col_stride);
                size_t c = 0;
                for (; c + 2 <= t->kc; c += 2, w += 32) {
                    /* weights 2 KB ahead, as the AVX-512 row kernel */
                    for (int line = 0; line < 2; line++)
                        _mm_prefetch((const char *)(w + 512 + 16 * line), _MM_HINT_T0);
                    const __m256 x0 = _mm256_broadcast_ss(p + c),
                                 x1 = _mm256_broadcast_ss(p + c + 1);
                    ca = _mm256_fmadd_ps(x0, _mm256_load_ps(w), ca);
                    cb = _mm256_fmadd_ps(x0, _mm256_load_ps(w + 8), cb);
                    da = _mm256_fmadd_ps(x1, _mm256_load_ps(w + 16), da);
                    db = _mm256_fmadd_ps(x1, _mm256_load_ps(w + 24), db);
                }
                for (; c < t->kc; c++, w += 16) {
                    const __m256 x = _mm256_broadcast_ss(p + c);
                    ca = _mm256_fmadd_ps(x, _mm256_load_ps(w), ca);
                    cb = _mm256_fmadd_ps(x, _mm256_load_ps(w + 8), cb);
                }
            }
        const __m256 lo = _mm256_set1_ps(t->min), hi = _mm256_set1_ps(t->max);
        store16(o, nc, _mm256_min_ps(hi, _mm256_max_ps(lo, _mm256_add_ps(ca, da))),
                _mm256_min_ps(hi, _mm256_max_ps(lo, _mm256_add_ps(cb, db))));
    }
}

SN_CONV_OVER_BLOCKS(sn_f32_conv_ukernel_6x16__avx2, tile_6x16, 16)
SN_CONV_OVER_BLOCKS(sn_f32_conv_ukernel_1x16__avx2, tile_1x16, 16)
