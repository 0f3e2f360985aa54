#include <stddef.h>

#include "kernels/kernels.h"

/* The reference: y = x < 0 ? 0 : x, so NaN passes through (as TensorFlow's
 * Relu does) and -0.0 stays -0.0. */
void sn_f32_vrelu_ukernel__scalar(size_t n, const float *x, float *y) {
    for (size_t i = 0; i < n; i++) y[i] = x[i] < 0.0f ? 0.0f : x[i];
}
