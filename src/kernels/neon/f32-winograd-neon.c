/* Winograd F(4x4, 3x3) transforms: winograd-f4x4.h, compiled with this kernel set's flags, which vectorize its channel loops. */
#include "kernels/winograd-f4x4.h"

SN_WINOGRAD_TRANSFORMS(sn_f32_winograd_input__neon, sn_f32_winograd_output__neon)
