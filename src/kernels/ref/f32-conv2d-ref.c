#include <stdbool.h>

#include "kernels/ref/ref.h"

static float activate(float v, sn_activation act) {
    if (act == SN_ACT_NONE) return v;
    v = v < 0.0f ? 0.0f : v;
    return act == SN_ACT_RELU6 && v > 6.0f ? 6.0f : v;
}

void sn_f32_conv2d_ref(const sn_conv2d_geometry *g, const float *input, const float *filter,
                       const float *bias, sn_activation act, float *output, int64_t row_begin,
                       int64_t row_end) {
    for (int64_t row = row_begin; row < row_end; row++) {
        int64_t n = row / g->out_h, oy = row % g->out_h;
        for (int64_t ox = 0; ox < g->out_w; ox++) {
            float *out = output + ((n * g->out_h + oy) * g->out_w + ox) * g->out_c;
            for (int64_t oc = 0; oc < g->out_c; oc++) out[oc] = bias ? bias[oc] : 0.0f;
            for (int64_t ky = 0; ky < g->kh; ky++) {
                int64_t iy = oy * g->stride_h - g->pad_top + ky * g->dilation_h;
                for (int64_t kx = 0; kx < g->kw; kx++) {
                    int64_t ix = ox * g->stride_w - g->pad_left + kx * g->dilation_w;
                    const float *w = filter + (ky * g->kw + kx) * g->in_c * g->out_c;
                    if (iy < 0 || iy >= g->in_h || ix < 0 || ix >= g->in_w) {
                        /* a tap on the padding reads a 0, which still
                         * carries a NaN or infinite weight into the sum
                         * (NaN), as the tile kernels' zero frame does, and
                         * TensorFlow's and PyTorch's zero padding */
                        for (int64_t ic = 0; ic < g->in_c; ic++)
                            for (int64_t oc = 0; oc < g->out_c; oc++)
                                out[oc] += 0.0f * w[ic * g->out_c + oc];
                        continue;
                    }
                    const float *in = input + ((n * g->in_h + iy) * g->in_w + ix) * g->in_c;
                    for (int64_t ic = 0; ic < g->in_c; ic++)
                        for (int64_t oc = 0; oc < g->out_c; oc++)
                            out[oc] += in[ic] * w[ic * g->out_c + oc];
                }
            }
            for (int64_t oc = 0; oc < g->out_c; oc++) out[oc] = activate(out[oc], act);
        }
    }
}

void sn_f32_matmul_ref(int64_t m, int64_t k, int64_t n, const float *a, int transpose_a,
                       const float *b, int transpose_b, const float *bias, sn_activation act,
                       float *c, int64_t row_begin, int64_t row_end) {
    (void)m;
    for (int64_t i = row_begin; i < row_end; i++)
        for (int64_t j = 0; j < n; j++) {
            float sum = bias ? bias[j] : 0.0f;
            for (int64_t p = 0; p < k; p++) {
                float x = transpose_a ? a[p * m + i] : a[i * k + p];
                float y = transpose_b ? b[j * k + p] : b[p * n + j];
                sum += x * y;
            }
            c[i * n + j] = activate(sum, act);
        }
}

void sn_f32_depthwise_conv2d_ref(const sn_conv2d_geometry *g, const float *input,
                                 const float *filter, const float *bias, sn_activation act,
                                 float *output, int64_t row_begin, int64_t row_end) {
    const int64_t multiplier = g->in_c ? g->out_c / g->in_c : 0;
    for (int64_t row = row_begin; row < row_end; row++) {
        int64_t n = row / g->out_h, oy = row % g->out_h;
        for (int64_t ox = 0; ox < g->out_w; ox++) {
            float *out = output + ((n * g->out_h + oy) * g->out_w + ox) * g->out_c;
            for (int64_t oc = 0; oc < g->out_c; oc++) out[oc] = bias ? bias[oc] : 0.0f;
            for (int64_t ky = 0; ky < g->kh; ky++) {
                int64_t iy = oy * g->stride_h - g->pad_top + ky * g->dilation_h;
                for (int64_t kx = 0; kx < g->kw; kx++) {
                    int64_t ix = ox * g->stride_w - g->pad_left + kx * g->dilation_w;
                    const float *w = filter + (ky * g->kw + kx) * g->out_c;
                    const bool inside = iy >= 0 && iy < g->in_h && ix >= 0 && ix < g->in_w;
                    const float *in =
                        inside ? input + ((n * g->in_h + iy) * g->in_w + ix) * g->in_c : NULL;
                    /* a tap on the padding reads a 0 (see sn_f32_conv2d_ref) */
                    for (int64_t oc = 0; oc < g->out_c; oc++)
                        out[oc] += (inside ? in[oc / multiplier] : 0.0f) * w[oc];
                }
            }
            for (int64_t oc = 0; oc < g->out_c; oc++) out[oc] = activate(out[oc], act);
        }
    }
}
