/* The lane mask for an AVX-512 kernel's tail: lanes [0, n) of 16, all of
 * them for n of 16 or more, for the masked loads and stores, which read and
 * write nothing in the other lanes (and fault on none of their addresses). */
#ifndef SN_KERNELS_AVX512_MASK_AVX512_H
#define SN_KERNELS_AVX512_MASK_AVX512_H

#include <immintrin.h>
#include <stddef.h>

static inline __mmask16 sn_mask_avx512(size_t n) {
    return n >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << n) - 1);
}

#endif /* SN_KERNELS_AVX512_MASK_AVX512_H */
