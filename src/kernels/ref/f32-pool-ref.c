#include <math.h>

#include "kernels/ref/ref.h"

/* Max starts from -inf, so that a window of -inf only gives -inf (not
 * -FLT_MAX), and takes v when v > acc or v is NaN: the last NaN of the
 * window wins, bit for bit. The loops run over the part of the window
 * inside the image only: a window of INT_MAX taps over a 4x4 image costs 16
 * taps, not INT_MAX^2. */
/* `average` 0: max; 1: the mean of the pixels inside the input; 2: the
 * sum over the pixels of the window inside the padded input (pad_bottom,
 * pad_right after it). */
static void pool(const sn_conv2d_geometry *g, const float *input, float *output, int64_t row_begin,
                 int64_t row_end, int average, int64_t pad_bottom, int64_t pad_right) {
    for (int64_t row = row_begin; row < row_end; row++) {
        const int64_t n = row / g->out_h, oy = row % g->out_h;
        const int64_t y0 = oy * g->stride_h - g->pad_top; /* the window's first row */
        const int64_t y_begin = y0 > 0 ? y0 : 0;
        const int64_t y_end = g->in_h - y0 < g->kh ? g->in_h : y0 + g->kh;
        for (int64_t ox = 0; ox < g->out_w; ox++) {
            const int64_t x0 = ox * g->stride_w - g->pad_left;
            const int64_t x_begin = x0 > 0 ? x0 : 0;
            const int64_t x_end = g->in_w - x0 < g->kw ? g->in_w : x0 + g->kw;
            /* the window inside the padded input, for average 2 */
            const int64_t y_stop =
                              y0 + g->kh < g->in_h + pad_bottom ? y0 + g->kh : g->in_h + pad_bottom,
                          x_stop =
                              x0 + g->kw < g->in_w + pad_right ? x0 + g->kw : g->in_w + pad_right,
                          padded = (y_stop - y0) * (x_stop - x0);
            for (int64_t c = 0; c < g->out_c; c++) {
                float acc = average ? 0.0f : -INFINITY;
                int64_t count = 0;
                for (int64_t iy = y_begin; iy < y_end; iy++)
                    for (int64_t ix = x_begin; ix < x_end; ix++) {
                        float v = input[((n * g->in_h + iy) * g->in_w + ix) * g->in_c + c];
                        if (average)
                            acc += v;
                        else if (v > acc || v != v)
                            acc = v;
                        count++;
                    }
                output[((n * g->out_h + oy) * g->out_w + ox) * g->out_c + c] =
                    average == 2 ? (padded > 0 ? acc / (float)padded : 0.0f)
                    : average    ? (count ? acc / (float)count : 0.0f)
                                 : acc;
            }
        }
    }
}

void sn_f32_max_pool_ref(const sn_conv2d_geometry *g, const float *input, float *output,
                         int64_t row_begin, int64_t row_end) {
    pool(g, input, output, row_begin, row_end, 0, 0, 0);
}

void sn_f32_avg_pool_ref(const sn_conv2d_geometry *g, const float *input, float *output,
                         int64_t row_begin, int64_t row_end) {
    pool(g, input, output, row_begin, row_end, 1, 0, 0);
}

void sn_f32_avg_pool_padded_ref(const sn_conv2d_geometry *g, int64_t pad_bottom, int64_t pad_right,
                                const float *input, float *output, int64_t row_begin,
                                int64_t row_end) {
    pool(g, input, output, row_begin, row_end, 2, pad_bottom, pad_right);
}
