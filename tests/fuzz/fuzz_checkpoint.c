/* libFuzzer target: the safetensors reader on arbitrary bytes. An open
 * either fails with a one-line message and no tensors, or succeeds and
 * every tensor it lists can be described, found by name and read. Any
 * broken promise traps, which the fuzzer reports as a crash. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "scopenn.h"

/* Tensors above this many elements are described but not read. */
#define FUZZ_MAX_ELEMENTS ((int64_t)1 << 20)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int ok) {
    if (!ok) __builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    sn_checkpoint *ck = NULL;
    sn_status status = sn_checkpoint_open_memory(data, size, &ck);
    if (!ck) {
        check(status == SN_ERR_OUT_OF_MEMORY);
        return 0;
    }
    const char *message = sn_checkpoint_error(ck);
    check((status == SN_OK) == (message[0] == '\0'));
    check(strchr(message, '\n') == NULL);
    check(status == SN_OK || status == SN_ERR_CORRUPT || status == SN_ERR_UNSUPPORTED);
    size_t count = sn_checkpoint_tensor_count(ck);
    check(status == SN_OK || count == 0);
    for (size_t i = 0; i < count; i++) {
        sn_checkpoint_tensor info;
        check(sn_checkpoint_tensor_info(ck, i, &info) == SN_OK);
        check(sn_checkpoint_find(ck, info.name) == (int64_t)i);
        check(info.dtype == SN_F32 || info.dtype == SN_F16 || info.dtype == SN_BF16);
        check(info.shape.rank >= 0 && info.shape.rank <= SN_MAX_RANK);
        int64_t elements = 1;
        for (int d = 0; d < info.shape.rank; d++) {
            check(info.shape.dims[d] >= 0);
            elements = info.shape.dims[d] == 0 || elements == 0 ? 0 : elements * info.shape.dims[d];
        }
        check(info.nbytes == (uint64_t)elements * (info.dtype == SN_F32 ? 4 : 2));
        check(info.nbytes <= size);
        if (elements > FUZZ_MAX_ELEMENTS) continue;
        float *out = malloc(sizeof(float) * (size_t)(elements ? elements : 1));
        if (!out) continue;
        check(sn_checkpoint_read_f32(ck, i, out, elements) == SN_OK);
        check(sn_checkpoint_read_f32(ck, i, out, elements + 1) == SN_ERR_SHAPE_MISMATCH);
        free(out);
    }
    check(sn_checkpoint_tensor_info(ck, count, &(sn_checkpoint_tensor){0}) == SN_ERR_NOT_FOUND);
    sn_checkpoint_close(ck);
    return 0;
}
