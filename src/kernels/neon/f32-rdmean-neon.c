/* The mean over rows for NEON, one source for aarch64 and armv7,
 * vectorized across channels: blocks of 4 x ACCS channels (8 q
 * accumulators on aarch64's 32 registers; 4 on armv7's 16, beside the
 * loads and the tiny check) down all the rows, then the remaining whole
 * vectors in one more pass (a channel's sum is a chain of dependent adds,
 * one per row: a pass costs about rows x the add's latency whatever its
 * width), then the last 1 to 3 channels through the reference. Each
 * channel adds its rows in order from row 0 and is divided once, as the
 * reference, so the floats are the reference's bit for bit (any NaN for a
 * NaN: armv7's NEON gives the default NaN).
 *
 * armv7 has no vector division: the sums are divided lane by lane in VFP,
 * once per output float. And a block whose rows hold a tiny number, where
 * flush to zero could change a sum, is done again by the reference, in
 * VFP (ieee-neon.h). */
#include <arm_neon.h>
#include <stddef.h>

#include "kernels/kernels.h"
#include "kernels/neon/ieee-neon.h"

#if SN_ARCH_ARM64
enum { ACCS = 8 };
#else
enum { ACCS = 4 };
#endif

static inline void store(float *y, float32x4_t sum, float divisor) {
#if SN_ARCH_ARM64
    vst1q_f32(y, vdivq_f32(sum, vdupq_n_f32(divisor)));
#else
    vst1q_f32(y, sum);
    for (int i = 0; i < 4; i++) y[i] /= divisor;
#endif
}

/* Channels [0, 4 k) of output from input (rows `input_stride` bytes
 * apart), k <= ACCS a constant where it is called: the accumulators live
 * in registers. */
static inline __attribute__((always_inline)) void
block(size_t rows, const float *input, size_t input_stride, int k, float divisor, float *output) {
    float32x4_t a[ACCS];
    uint32x4_t tiny = sn_tiny_none_neon();
    const char *p = (const char *)input;
    for (int j = 0; j < k; j++) a[j] = vdupq_n_f32(0.0f);
    for (size_t r = 0; r < rows; r++, p += input_stride)
        for (int j = 0; j < k; j++) {
            const float32x4_t v = vld1q_f32((const float *)p + 4 * j);
            tiny = sn_tiny_add_neon(tiny, v);
            a[j] = r ? vaddq_f32(a[j], v) : v;
        }
    if (sn_tiny_any_neon(tiny)) {
        sn_f32_rdmean_ref(rows, 4 * (size_t)k, input, input_stride, divisor, output);
        return;
    }
    for (int j = 0; j < k; j++) store(output + 4 * j, a[j], divisor);
}

void sn_f32_rdmean_ukernel__neon(size_t rows, size_t channels, const float *input,
                                 size_t input_stride, float divisor, float *output) {
    size_t c = 0;
    for (; c + 4 * ACCS <= channels; c += 4 * ACCS)
        block(rows, input + c, input_stride, ACCS, divisor, output + c);
    switch ((channels - c) / 4) {
    case 0: break;
    case 1: block(rows, input + c, input_stride, 1, divisor, output + c); break;
    case 2: block(rows, input + c, input_stride, 2, divisor, output + c); break;
    case 3: block(rows, input + c, input_stride, 3, divisor, output + c); break;
#if SN_ARCH_ARM64
    case 4: block(rows, input + c, input_stride, 4, divisor, output + c); break;
    case 5: block(rows, input + c, input_stride, 5, divisor, output + c); break;
    case 6: block(rows, input + c, input_stride, 6, divisor, output + c); break;
    default: block(rows, input + c, input_stride, 7, divisor, output + c); break;
#endif
    }
    c += (channels - c) / 4 * 4;
    if (c < channels)
        sn_f32_rdmean_ref(rows, channels - c, input + c, input_stride, divisor, output + c);
}
