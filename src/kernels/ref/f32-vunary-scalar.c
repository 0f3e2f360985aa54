#include <stddef.h>

#include "kernels/kernels.h"
#include "kernels/ref/ref.h"

/* The scalar kernel set's unary kernels are the reference (f32-vunary.inc,
 * f32-vlrelu.inc). */
void sn_f32_vrelu6_ukernel__scalar(size_t n, const float *x, float *y) {
    sn_f32_unary_ref(SN_UNARY_RELU6, n, x, y);
}

void sn_f32_vsigmoid_ukernel__scalar(size_t n, const float *x, float *y) {
    sn_f32_unary_ref(SN_UNARY_SIGMOID, n, x, y);
}

void sn_f32_vtanh_ukernel__scalar(size_t n, const float *x, float *y) {
    sn_f32_unary_ref(SN_UNARY_TANH, n, x, y);
}

void sn_f32_vswish_ukernel__scalar(size_t n, const float *x, float *y) {
    sn_f32_unary_ref(SN_UNARY_SWISH, n, x, y);
}

void sn_f32_vhsigmoid_ukernel__scalar(size_t n, const float *x, float *y) {
    sn_f32_unary_ref(SN_UNARY_HARD_SIGMOID, n, x, y);
}

void sn_f32_vhswish_ukernel__scalar(size_t n, const float *x, float *y) {
    sn_f32_unary_ref(SN_UNARY_HARD_SWISH, n, x, y);
}

void sn_f32_vlrelu_ukernel__scalar(size_t n, const float *x, float alpha, float *y) {
    sn_f32_leaky_relu_ref(n, x, alpha, y);
}
