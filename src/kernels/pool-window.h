/* The window walk the SIMD pooling kernels share: for each output pixel of
 * rows [row_begin, row_end) (of batch * out_h), the part of its window that
 * falls inside the image, handed to the kernel set's per-pixel function,
 * which is vectorized over channels. Included by each ISA's pooling file;
 * `pixel` is that file's static inline function, so the call inlines. */
#ifndef SN_KERNELS_POOL_WINDOW_H
#define SN_KERNELS_POOL_WINDOW_H

#include <stddef.h>
#include <stdint.h>

#include "kernels/ref/ref.h"

/* The input window of one output pixel: rows [ky0, ky1) and columns
 * [kx0, kx1) of the kernel fall inside the image; `origin` is the input
 * pixel of tap (ky0, kx0). */
struct window {
    const float *origin;
    size_t rows, cols, row_stride; /* row_stride in floats */
};

/* The part [k0, k1) of a window of k taps starting at input index `at`
 * that falls inside [0, size). */
static inline void sn_pool_clip(int64_t at, int64_t k, int64_t size, int64_t *k0, int64_t *k1) {
    *k0 = at < 0 ? -at : 0;
    *k1 = size - at < k ? size - at : k;
    if (*k1 < *k0) *k1 = *k0;
}

static inline void sn_pool_rows(int average, const sn_conv2d_geometry *g, const float *input,
                                float *output, int64_t row_begin, int64_t row_end,
                                void (*pixel)(int, const struct window *, size_t, float *)) {
    const size_t channels = (size_t)g->in_c;
    for (int64_t r = row_begin; r < row_end; r++) {
        const int64_t n = r / g->out_h, oy = r % g->out_h, iy = oy * g->stride_h - g->pad_top;
        int64_t ky0, ky1;
        sn_pool_clip(iy, g->kh, g->in_h, &ky0, &ky1);
        float *out = output + r * g->out_w * g->out_c;
        for (int64_t ox = 0; ox < g->out_w; ox++, out += g->out_c) {
            const int64_t ix = ox * g->stride_w - g->pad_left;
            int64_t kx0, kx1;
            sn_pool_clip(ix, g->kw, g->in_w, &kx0, &kx1);
            struct window w = {.origin = input,
                               .rows = (size_t)(ky1 - ky0),
                               .cols = (size_t)(kx1 - kx0),
                               .row_stride = (size_t)(g->in_w * g->in_c)};
            if (w.rows && w.cols) /* else no tap: the pointer might leave the input */
                w.origin += ((n * g->in_h + iy + ky0) * g->in_w + ix + kx0) * g->in_c;
            pixel(average, &w, channels, out);
        }
    }
}

#endif
