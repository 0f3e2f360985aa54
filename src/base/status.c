#include "scopenn.h"

#define SN_STR2(x) #x
#define SN_STR(x) SN_STR2(x)

const char *sn_version(void) {
    return SN_STR(SN_VERSION_MAJOR) "." SN_STR(SN_VERSION_MINOR) "." SN_STR(SN_VERSION_PATCH);
}

const char *sn_status_string(sn_status status) {
    static const char *const strings[SN_STATUS_COUNT] = {
        [SN_OK] = "ok",
        [SN_ERR_INVALID_ARGUMENT] = "invalid argument",
        [SN_ERR_UNSUPPORTED] = "unsupported",
        [SN_ERR_OUT_OF_MEMORY] = "out of memory",
        [SN_ERR_ALREADY_EXISTS] = "already exists",
        [SN_ERR_NOT_FOUND] = "not found",
        [SN_ERR_SHAPE_MISMATCH] = "shape mismatch",
        [SN_ERR_DTYPE_MISMATCH] = "dtype mismatch",
        [SN_ERR_INVALID_STATE] = "invalid state",
        [SN_ERR_IO] = "input/output error",
        [SN_ERR_CORRUPT] = "corrupt file",
    };
    if ((unsigned)status >= SN_STATUS_COUNT) return "unknown status";
    return strings[status];
}
