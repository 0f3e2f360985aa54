#include <float.h>

#include "kernels/ref/ref.h"

static void pool(const sn_conv2d_geometry *g, const float *input, float *output, int64_t row_begin,
                 int64_t row_end, int average) {
    for (int64_t row = row_begin; row < row_end; row++) {
        int64_t n = row / g->out_h, oy = row % g->out_h;
        for (int64_t ox = 0; ox < g->out_w; ox++)
            for (int64_t c = 0; c < g->out_c; c++) {
                float acc = average ? 0.0f : -FLT_MAX;
                int64_t count = 0;
                for (int64_t ky = 0; ky < g->kh; ky++) {
                    int64_t iy = oy * g->stride_h - g->pad_top + ky;
                    if (iy < 0 || iy >= g->in_h) continue;
                    for (int64_t kx = 0; kx < g->kw; kx++) {
                        int64_t ix = ox * g->stride_w - g->pad_left + kx;
                        if (ix < 0 || ix >= g->in_w) continue;
                        float v = input[((n * g->in_h + iy) * g->in_w + ix) * g->in_c + c];
                        if (average)
                            acc += v;
                        else if (v > acc || v != v)
                            acc = v;
                        count++;
                    }
                }
                output[((n * g->out_h + oy) * g->out_w + ox) * g->out_c + c] =
                    average ? (count ? acc / (float)count : 0.0f) : acc;
            }
    }
}

void sn_f32_max_pool_ref(const sn_conv2d_geometry *g, const float *input, float *output,
                         int64_t row_begin, int64_t row_end) {
    pool(g, input, output, row_begin, row_end, 0);
}

void sn_f32_avg_pool_ref(const sn_conv2d_geometry *g, const float *input, float *output,
                         int64_t row_begin, int64_t row_end) {
    pool(g, input, output, row_begin, row_end, 1);
}
