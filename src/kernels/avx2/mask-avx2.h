/* The lane mask for an AVX2 kernel's tail: lanes [0, n) of 8, for
 * _mm256_maskload_ps and _mm256_maskstore_ps, which read and write nothing
 * in the other lanes (and fault on none of their addresses). */
#ifndef SN_KERNELS_AVX2_MASK_AVX2_H
#define SN_KERNELS_AVX2_MASK_AVX2_H

#include <immintrin.h>
#include <stddef.h>
#include <stdint.h>

static inline __m256i sn_mask_avx2(size_t n) {
    static const int32_t lanes[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};
    return _mm256_loadu_si256((const __m256i *)&lanes[8 - (n < 8 ? n : 8)]);
}

#endif /* SN_KERNELS_AVX2_MASK_AVX2_H */
