/* Winograd F(4x4, 3x3) transforms (the reference): winograd-f4x4.h, compiled for scalar code. */
#include "kernels/winograd-f4x4.h"

SN_WINOGRAD_TRANSFORMS(sn_f32_winograd_input_ref, sn_f32_winograd_output_ref)
