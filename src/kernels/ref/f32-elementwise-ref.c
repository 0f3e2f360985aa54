#include <math.h>

#include "kernels/ref/ref.h"

void sn_f32_binary_ref(sn_binary_op op, int rank, const int64_t *dims, const float *a,
                       const int64_t *as, const float *b, const int64_t *bs, float *out) {
    int64_t index[8] = {0}, total = 1;
    for (int d = 0; d < rank; d++) total *= dims[d];
    int64_t ia = 0, ib = 0;
    for (int64_t i = 0; i < total; i++) {
        float x = a[ia], y = b[ib];
        switch (op) {
        case SN_BINARY_ADD: out[i] = x + y; break;
        case SN_BINARY_MAX: out[i] = x > y || x != x ? x : y; break;
        case SN_BINARY_SUB: out[i] = x - y; break;
        case SN_BINARY_MUL: out[i] = x * y; break;
        case SN_BINARY_RSUB: out[i] = y - x; break;
        default: break;
        }
        /* the next index, odometer style, moving both operands along */
        for (int d = rank - 1; d >= 0; d--) {
            ia += as[d];
            ib += bs[d];
            if (++index[d] < dims[d]) break;
            ia -= as[d] * dims[d];
            ib -= bs[d] * dims[d];
            index[d] = 0;
        }
    }
}

void sn_f32_bias_add_ref(size_t n, size_t channels, const float *x, const float *bias, float *y) {
    for (size_t i = 0; i < n; i++) y[i] = x[i] + bias[i % channels];
}

void sn_f32_add_n_ref(size_t n, size_t count, const float *const *inputs, float *y) {
    for (size_t i = 0; i < n; i++) {
        float sum = inputs[0][i];
        for (size_t j = 1; j < count; j++) sum += inputs[j][i];
        y[i] = sum;
    }
}

/* min(max(x + 3, 0), 6), NaN passing through (x + 3 is never -0) */
static float relu6_x3(float v) {
    float r = v + 3.0f;
    r = r < 0.0f ? 0.0f : r;
    return r > 6.0f ? 6.0f : r;
}

void sn_f32_unary_ref(sn_unary_op op, size_t n, const float *x, float *y) {
    const float sixth = 1.0f / 6.0f; /* rounded: 0x1.555556p-3 */
    for (size_t i = 0; i < n; i++) {
        float v = x[i];
        switch (op) {
        case SN_UNARY_RELU: y[i] = v < 0.0f ? 0.0f : v; break;
        case SN_UNARY_RELU6: y[i] = v < 0.0f ? 0.0f : (v > 6.0f ? 6.0f : v); break;
        case SN_UNARY_SIGMOID: y[i] = 1.0f / (1.0f + expf(-v)); break;
        case SN_UNARY_TANH: y[i] = tanhf(v); break;
        case SN_UNARY_SWISH: y[i] = v * (1.0f / (1.0f + expf(-v))); break;
        case SN_UNARY_HARD_SIGMOID: y[i] = relu6_x3(v) * sixth; break;
        case SN_UNARY_HARD_SWISH: y[i] = (v * relu6_x3(v)) * sixth; break;
        default: break;
        }
    }
}

void sn_f32_leaky_relu_ref(size_t n, const float *x, float alpha, float *y) {
    for (size_t i = 0; i < n; i++) y[i] = x[i] < 0.0f ? alpha * x[i] : x[i];
}

void sn_f32_softmax_ref(size_t rows, size_t cols, const float *x, float *y) {
    for (size_t r = 0; r < rows; r++, x += cols, y += cols) {
        float max = x[0];
        for (size_t c = 1; c < cols; c++) max = x[c] > max ? x[c] : max;
        float sum = 0.0f;
        for (size_t c = 0; c < cols; c++) sum += (y[c] = expf(x[c] - max));
        for (size_t c = 0; c < cols; c++) y[c] /= sum;
    }
}

void sn_f32_lrn_ref(size_t pixels, size_t channels, int radius, float bias, float alpha, float beta,
                    const float *x, float *y) {
    for (size_t p = 0; p < pixels; p++, x += channels, y += channels)
        for (size_t c = 0; c < channels; c++) {
            size_t lo = c >= (size_t)radius ? c - (size_t)radius : 0;
            size_t hi = c + (size_t)radius < channels ? c + (size_t)radius : channels - 1;
            float sum = 0.0f;
            for (size_t j = lo; j <= hi; j++) sum += x[j] * x[j];
            y[c] = x[c] / powf(bias + alpha * sum, beta);
        }
}
