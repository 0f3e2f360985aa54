/* The reference reductions: a sum in float32 in index order, then one
 * division, which the SIMD mean kernels follow bit for bit. */
#include <string.h>

#include "kernels/ref/ref.h"

/* Row by row into the output, which holds the running sums: each channel
 * adds its rows in order, as the SIMD kernels do in registers, and the
 * input streams through once (a channel at a time would walk the rows
 * once per channel). */
void sn_f32_rdmean_ref(size_t rows, size_t channels, const float *input, size_t input_stride,
                       float divisor, float *output) {
    const char *row = (const char *)input;
    if (rows == 0)
        for (size_t c = 0; c < channels; c++) output[c] = 0.0f;
    else
        memcpy(output, input, channels * sizeof(float));
    for (size_t r = 1; r < rows; r++) {
        row += input_stride;
        const float *x = (const float *)row;
        for (size_t c = 0; c < channels; c++) output[c] += x[c];
    }
    for (size_t c = 0; c < channels; c++) output[c] /= divisor;
}

void sn_f32_mean_ref(int rank, const int64_t *dims, unsigned axes, const float *x, float *y,
                     int64_t out_begin, int64_t out_end) {
    enum { MAX_RANK = 8 };
    int64_t stride[MAX_RANK], count = 1, s = 1;
    int kept[MAX_RANK], reduced[MAX_RANK], nk = 0, nr = 0;
    for (int d = rank - 1; d >= 0; d--) {
        stride[d] = s;
        s *= dims[d];
    }
    for (int d = 0; d < rank; d++) {
        if ((axes >> d) & 1) {
            reduced[nr++] = d;
            count *= dims[d];
        } else {
            kept[nk++] = d;
        }
    }
    for (int64_t o = out_begin; o < out_end; o++) {
        /* the input offset of output o: its index over the kept dimensions */
        int64_t base = 0, rest = o;
        for (int k = nk - 1; k >= 0; k--) {
            const int d = kept[k];
            base += rest % dims[d] * stride[d];
            rest /= dims[d];
        }
        /* its reduced elements in index order, odometer style */
        int64_t at[MAX_RANK] = {0}, off = base;
        float sum = 0.0f;
        for (int64_t r = 0; r < count; r++) {
            sum = r ? sum + x[off] : x[off];
            for (int k = nr - 1; k >= 0; k--) {
                const int d = reduced[k];
                off += stride[d];
                if (++at[k] < dims[d]) break;
                off -= stride[d] * dims[d];
                at[k] = 0;
            }
        }
        y[o] = sum / (float)count;
    }
}
