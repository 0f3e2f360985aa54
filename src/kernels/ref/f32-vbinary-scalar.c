#include <stddef.h>
#include <stdint.h>

#include "kernels/kernels.h"
#include "kernels/ref/ref.h"

/* The scalar kernel set's binary kernels are the reference
 * (f32-vbinary.inc), with the strides of each case: same shape, a scalar
 * second operand, a vector repeated over rows. */

static void same(sn_binary_op op, size_t n, const float *a, const float *b, float *y) {
    const int64_t dims[1] = {(int64_t)n}, strides[1] = {1};
    sn_f32_binary_ref(op, 1, dims, a, strides, b, strides, y);
}

static void scalar(sn_binary_op op, size_t n, const float *a, float b, float *y) {
    const int64_t dims[1] = {(int64_t)n}, as[1] = {1}, bs[1] = {0};
    sn_f32_binary_ref(op, 1, dims, a, as, &b, bs, y);
}

static void row(sn_binary_op op, size_t rows, size_t channels, const float *a, const float *b,
                float *y) {
    const int64_t dims[2] = {(int64_t)rows, (int64_t)channels};
    const int64_t as[2] = {(int64_t)channels, 1}, bs[2] = {0, 1};
    sn_f32_binary_ref(op, 2, dims, a, as, b, bs, y);
}

SN_VBINARY_ENTRY_POINTS(SN_BINARY_ADD, add, scalar)
SN_VBINARY_ENTRY_POINTS(SN_BINARY_SUB, sub, scalar)
SN_VBINARY_ENTRY_POINTS(SN_BINARY_MAX, max, scalar)
SN_VBINARY_ENTRY_POINTS(SN_BINARY_MUL, mul, scalar)
SN_VBINARY_ENTRY_POINTS(SN_BINARY_RSUB, rsub, scalar)
