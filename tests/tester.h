/* What the kernel testers share: whether this CPU runs a kernel set, and a
 * float's bits. */
#ifndef SN_TESTS_TESTER_H
#define SN_TESTS_TESTER_H

#include <stdint.h>
#include <string.h>

#include "scopenn.h"

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* Whether this CPU can run kernel set `isa`. */
static inline int runnable(sn_isa isa) {
    sn_cpu_info info;
    sn_cpu_info_get(&info);
    return (info.isas >> isa) & 1;
}

static inline uint32_t to_bits(float f) {
    uint32_t bits;
    memcpy(&bits, &f, sizeof bits);
    return bits;
}

static inline float from_bits(uint32_t bits) {
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

#endif
