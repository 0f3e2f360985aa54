/* Shapes and dtypes. */
#include "base/shape.h"

#include <stdio.h>

#include "base/checked.h"

int64_t sn_shape_elements(const sn_shape *s) {
    if (s->rank < 0 || s->rank > SN_MAX_RANK) return -1;
    int64_t n = 1;
    for (int i = 0; i < s->rank; i++) {
        int64_t d = s->dims[i];
        if (d < 0) return -1;
        /* no division: a 64-bit one is a library call on 32-bit ARM */
        if (!sn_mul_i64(n, d, &n)) return -1;
    }
    return n;
}

int sn_shape_too_large(const sn_shape *s) {
    int64_t n = 1;
    for (int i = 0; i < s->rank && i < SN_MAX_RANK; i++) {
        if (s->dims[i] < 0) continue; /* known at run time, and checked then */
        if (!sn_mul_i64(n, s->dims[i], &n) || n > SN_MAX_ELEMENTS) return i;
    }
    return -1;
}

void sn_shape_format(const sn_shape *s, char *buf, size_t size) {
    if (size == 0) return;
    if (s->rank < 0 || s->rank > SN_MAX_RANK) {
        snprintf(buf, size, "<unknown>");
        return;
    }
    size_t used = (size_t)snprintf(buf, size, "(");
    for (int i = 0; i < s->rank && used < size; i++) {
        const char *sep = i ? ", " : "";
        if (s->dims[i] < 0)
            used += (size_t)snprintf(buf + used, size - used, "%s?", sep);
        else
            used += (size_t)snprintf(buf + used, size - used, "%s%lld", sep, (long long)s->dims[i]);
    }
    if (used < size) snprintf(buf + used, size - used, ")");
}

bool sn_shape_equal(const sn_shape *a, const sn_shape *b) {
    if (a->rank != b->rank) return false;
    for (int i = 0; i < a->rank && i < SN_MAX_RANK; i++)
        if (a->dims[i] != b->dims[i]) return false;
    return true;
}

const char *sn_dtype_name(sn_dtype dtype) {
    static const char *const names[SN_DTYPE_COUNT] = {
        [SN_DTYPE_UNSPECIFIED] = "unspecified",
        [SN_F32] = "float32",
        [SN_F16] = "float16",
        [SN_BF16] = "bfloat16",
    };
    if ((unsigned)dtype >= SN_DTYPE_COUNT) return "unknown";
    return names[dtype];
}
