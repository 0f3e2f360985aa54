/* exp(z) for z <= 0, as the x86 sigmoid kernels compute it for 1 / (1 +
 * exp(-x)) = (x > 0 ? 1 : e) / (1 + e), e = exp(-|x|): n = round(z /
 * ln 2), t = z - n ln 2 in two parts (Cody and Waite), e = 2^n p(t) with
 * p a degree-5 polynomial, minimax on [-ln 2 / 2, ln 2 / 2] (the
 * coefficients XNNPACK's f32 sigmoid kernels use, "rr2-p5"). Within 2 ULP
 * of exp; z is first raised to SN_SIGMOID_EXP_MIN, below which exp(z)
 * rounds to 0 in float (2^n p then does too), and e is 0 below
 * SN_SIGMOID_EXP_CUTOFF, -ln(FLT_MAX) rounded up: where the reference's
 * 1 / (1 + exp(-x)) overflows exp(-x) to inf and gives 0. */
#ifndef SN_KERNELS_SIGMOID_EXP_H
#define SN_KERNELS_SIGMOID_EXP_H

#define SN_SIGMOID_EXP_MIN (-104.0f)
#define SN_SIGMOID_EXP_CUTOFF (-0x1.62E42Ep+6f)
#define SN_SIGMOID_LOG2E 0x1.715476p+0f
#define SN_SIGMOID_MINUS_LN2_HI (-0x1.62E400p-1f)
#define SN_SIGMOID_MINUS_LN2_LO (-0x1.7F7D1Cp-20f)
#define SN_SIGMOID_C5 0x1.0F9F9Cp-7f
#define SN_SIGMOID_C4 0x1.573A1Ap-5f
#define SN_SIGMOID_C3 0x1.555A80p-3f
#define SN_SIGMOID_C2 0x1.FFFDC6p-2f
#define SN_SIGMOID_C1 0x1.FFFFF6p-1f

#endif
