/* Checkpoints: the safetensors reader against valid, converted and hostile
 * files, and loading and saving graph variables by full name. Files are
 * built here byte by byte, small enough for qemu. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <dirent.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <unistd.h>

#include "scopenn.h"

static char tmpdir[256];

/* ---- helpers ------------------------------------------------------------- */

static void path_in(char *buf, size_t size, const char *name) {
    snprintf(buf, size, "%s/%s", tmpdir, name);
}

/* A safetensors file: the length of `header` (or `length` if not
 * UINT64_MAX), the header, then `data_size` bytes of `data` (or of a
 * pattern when `data` is NULL). Free with free(). */
static unsigned char *st_file_n(const char *header, uint64_t length, const void *data,
                                size_t data_size, size_t *size) {
    size_t n = strlen(header);
    if (length == UINT64_MAX) length = n;
    *size = 8 + n + data_size;
    unsigned char *bytes = malloc(*size ? *size : 1);
    assert_non_null(bytes);
    for (int i = 0; i < 8; i++) bytes[i] = (unsigned char)(length >> (8 * i));
    memcpy(bytes + 8, header, n);
    for (size_t i = 0; i < data_size; i++)
        bytes[8 + n + i] = data ? ((const unsigned char *)data)[i] : (unsigned char)(i * 7 + 1);
    return bytes;
}

static unsigned char *st_file(const char *header, const void *data, size_t data_size,
                              size_t *size) {
    return st_file_n(header, UINT64_MAX, data, data_size, size);
}

static void write_bytes(const char *path, const void *bytes, size_t size) {
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(bytes, 1, size, f), size);
    assert_int_equal(fclose(f), 0);
}

static size_t count_files(const char *dir) {
    DIR *d = opendir(dir);
    assert_non_null(d);
    size_t n = 0;
    for (struct dirent *e; (e = readdir(d)) != NULL;)
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) n++;
    closedir(d);
    return n;
}

static uint32_t bits_of(float f) {
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

/* Opening `bytes` must fail with `status` and a message containing every
 * given substring (NULL-terminated list). */
static void expect_open_fails_(const char *what, const void *bytes, size_t size, sn_status status,
                               ...) {
    sn_checkpoint *ck = NULL;
    sn_status got = sn_checkpoint_open_memory(bytes, size, &ck);
    assert_non_null(ck);
    const char *message = sn_checkpoint_error(ck);
    if (got != status) fail_msg("%s: status %d, want %d: %s", what, got, status, message);
    assert_int_equal(sn_checkpoint_tensor_count(ck), 0);
    va_list ap;
    va_start(ap, status);
    for (const char *want; (want = va_arg(ap, const char *)) != NULL;)
        if (!strstr(message, want))
            fail_msg("%s: message \"%s\" lacks \"%s\"", what, message, want);
    va_end(ap);
    assert_non_null(strstr(message, "checkpoint <memory>: "));
    assert_null(strchr(message, '\n'));
    sn_checkpoint_close(ck);
}
#define expect_open_fails(what, bytes, size, ...)                                                  \
    expect_open_fails_(what, bytes, size, __VA_ARGS__, (const char *)NULL)

/* ---- the reader ---------------------------------------------------------- */

static void test_valid_file_info_find_read(void **state) {
    (void)state;
    /* a scalar, an empty tensor, a vector; data in another order than the
     * header, and a metadata entry between tensors */
    const float a[3] = {1.5f, -2.0f, 3.25f}, s = 7.0f;
    unsigned char data[16];
    memcpy(data, &s, 4);
    memcpy(data + 4, a, 12);
    size_t size;
    unsigned char *bytes =
        st_file("{\"vec\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[4,16]},"
                "\"__metadata__\":{\"format\":\"pt\"},"
                "\"empty\":{\"dtype\":\"F16\",\"shape\":[0,3],\"data_offsets\":[4,4]},"
                "\"s\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[0,4]}}   ",
                data, sizeof data, &size);
    sn_checkpoint *ck = NULL;
    assert_int_equal(sn_checkpoint_open_memory(bytes, size, &ck), SN_OK);
    assert_string_equal(sn_checkpoint_error(ck), "");
    assert_int_equal(sn_checkpoint_tensor_count(ck), 3);

    sn_checkpoint_tensor info;
    assert_int_equal(sn_checkpoint_tensor_info(ck, 0, &info), SN_OK);
    assert_string_equal(info.name, "vec");
    assert_int_equal(info.dtype, SN_F32);
    assert_int_equal(info.shape.rank, 1);
    assert_int_equal(info.shape.dims[0], 3);
    assert_int_equal(info.nbytes, 12);
    assert_int_equal(sn_checkpoint_tensor_info(ck, 1, &info), SN_OK);
    assert_string_equal(info.name, "empty");
    assert_int_equal(info.dtype, SN_F16);
    assert_int_equal(info.shape.rank, 2);
    assert_int_equal(info.nbytes, 0);
    assert_int_equal(sn_checkpoint_tensor_info(ck, 2, &info), SN_OK);
    assert_string_equal(info.name, "s");
    assert_int_equal(info.shape.rank, 0);
    assert_int_equal(sn_checkpoint_tensor_info(ck, 3, &info), SN_ERR_NOT_FOUND);
    assert_int_equal(sn_checkpoint_tensor_info(ck, 0, NULL), SN_ERR_INVALID_ARGUMENT);

    assert_int_equal(sn_checkpoint_find(ck, "vec"), 0);
    assert_int_equal(sn_checkpoint_find(ck, "empty"), 1);
    assert_int_equal(sn_checkpoint_find(ck, "s"), 2);
    assert_int_equal(sn_checkpoint_find(ck, "__metadata__"), -1);
    assert_int_equal(sn_checkpoint_find(ck, "ve"), -1);
    assert_int_equal(sn_checkpoint_find(ck, NULL), -1);

    float out[3];
    assert_int_equal(sn_checkpoint_read_f32(ck, 0, out, 3), SN_OK);
    assert_memory_equal(out, a, sizeof a);
    assert_int_equal(sn_checkpoint_read_f32(ck, 2, out, 1), SN_OK);
    assert_true(out[0] == 7.0f);
    assert_int_equal(sn_checkpoint_read_f32(ck, 1, NULL, 0), SN_OK);
    assert_int_equal(sn_checkpoint_read_f32(ck, 0, out, 2), SN_ERR_SHAPE_MISMATCH);
    assert_int_equal(sn_checkpoint_read_f32(ck, 3, out, 3), SN_ERR_NOT_FOUND);
    assert_int_equal(sn_checkpoint_read_f32(ck, 0, NULL, 3), SN_ERR_INVALID_ARGUMENT);
    sn_checkpoint_close(ck);
    free(bytes);

    /* no tensors at all */
    bytes = st_file("{}", NULL, 0, &size);
    assert_int_equal(sn_checkpoint_open_memory(bytes, size, &ck), SN_OK);
    assert_int_equal(sn_checkpoint_tensor_count(ck), 0);
    assert_int_equal(sn_checkpoint_find(ck, "x"), -1);
    sn_checkpoint_close(ck);
    free(bytes);
}

static void test_null_arguments(void **state) {
    (void)state;
    sn_checkpoint *ck = NULL;
    assert_int_equal(sn_checkpoint_open(NULL, NULL), SN_ERR_INVALID_ARGUMENT);
    assert_int_equal(sn_checkpoint_open_memory("", 0, NULL), SN_ERR_INVALID_ARGUMENT);
    assert_int_equal(sn_checkpoint_open(NULL, &ck), SN_ERR_INVALID_ARGUMENT);
    assert_non_null(strstr(sn_checkpoint_error(ck), "NULL"));
    sn_checkpoint_close(ck);
    assert_int_equal(sn_checkpoint_open_memory(NULL, 16, &ck), SN_ERR_INVALID_ARGUMENT);
    sn_checkpoint_close(ck);
    sn_checkpoint_close(NULL);
    assert_int_equal(sn_checkpoint_tensor_count(NULL), 0);
    assert_int_equal(sn_checkpoint_find(NULL, "x"), -1);
    assert_string_equal(sn_checkpoint_error(NULL), "out of memory");
    sn_checkpoint_tensor info;
    assert_int_equal(sn_checkpoint_tensor_info(NULL, 0, &info), SN_ERR_INVALID_ARGUMENT);
    assert_int_equal(sn_checkpoint_read_f32(NULL, 0, NULL, 0), SN_ERR_INVALID_ARGUMENT);
}

/* Data at odd addresses (a header length that is not a multiple of 8, an
 * odd offset) is read with memcpy, not through a misaligned pointer. */
static void test_unaligned_data(void **state) {
    (void)state;
    const float v[2] = {0.1f, -1e30f};
    unsigned char data[9] = {0xee};
    memcpy(data + 1, v, 8);
    size_t size;
    unsigned char *bytes =
        st_file("{\"x\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[1,9]}}", data,
                sizeof data, &size);
    sn_checkpoint *ck;
    assert_int_equal(sn_checkpoint_open_memory(bytes, size, &ck), SN_OK);
    float out[2];
    assert_int_equal(sn_checkpoint_read_f32(ck, 0, out, 2), SN_OK);
    assert_memory_equal(out, v, sizeof v);
    sn_checkpoint_close(ck);
    free(bytes);
}

/* An independent decoding of binary16, by arithmetic, for finite values. */
static double f16_reference(uint16_t h) {
    int e = (h >> 10) & 0x1f, m = h & 0x3ff;
    double v = e == 0 ? ldexp(m, -24) : ldexp(1024 + m, e - 25);
    return h & 0x8000 ? -v : v;
}

/* A one-tensor file of `n` 16-bit values of `dtype` (F16 or BF16), read
 * back as float32 into `out`. */
static void read_16bit(const char *dtype, const uint16_t *v, size_t n, float *out) {
    unsigned char data[64];
    assert_true(2 * n <= sizeof data);
    for (size_t i = 0; i < n; i++) data[2 * i] = v[i] & 0xff, data[2 * i + 1] = v[i] >> 8;
    char header[128];
    snprintf(header, sizeof header,
             "{\"v\":{\"dtype\":\"%s\",\"shape\":[%zu],\"data_offsets\":[0,%zu]}}", dtype, n,
             2 * n);
    size_t size;
    unsigned char *bytes = st_file(header, data, 2 * n, &size);
    sn_checkpoint *ck;
    assert_int_equal(sn_checkpoint_open_memory(bytes, size, &ck), SN_OK);
    assert_int_equal(sn_checkpoint_read_f32(ck, 0, out, (int64_t)n), SN_OK);
    sn_checkpoint_close(ck);
    free(bytes);
}

static void test_f16_to_f32(void **state) {
    (void)state;
    static const uint16_t h[] = {0x3c00, 0xc000, 0x7bff, 0x0001, 0x03ff, 0x0400, 0x3555,
                                 0x8001, 0x7c00, 0xfc00, 0x7e00, 0x8000, 0x0000, 0x7d01};
    static const uint32_t want[] = {
        0x3f800000, /* 1 */
        0xc0000000, /* -2 */
        0x477fe000, /* 65504, the largest */
        0x33800000, /* 2^-24, the smallest subnormal */
        0x387fc000, /* 1023 x 2^-24, the largest subnormal */
        0x38800000, /* 2^-14, the smallest normal */
        0x3eaaa000, /* 0.333251953125 */
        0xb3800000, /* -2^-24 */
        0x7f800000, /* inf */
        0xff800000, /* -inf */
        0x7fc00000, /* quiet NaN */
        0x80000000, /* -0 */
        0x00000000, /* 0 */
        0x7fa02000, /* signaling NaN, payload kept */
    };
    enum { N = sizeof h / sizeof h[0] };
    float out[N];
    read_16bit("F16", h, N, out);
    for (size_t i = 0; i < N; i++)
        if (bits_of(out[i]) != want[i])
            fail_msg("F16 0x%04x: got 0x%08x, want 0x%08x", h[i], bits_of(out[i]), want[i]);

    /* every one of the 65536 values against the arithmetic decoding */
    size_t size;
    sn_checkpoint *ck;
    unsigned char *all = malloc(2 * 65536);
    float *values = malloc(sizeof(float) * 65536);
    assert_non_null(all);
    assert_non_null(values);
    for (unsigned i = 0; i < 65536; i++) all[2 * i] = i & 0xff, all[2 * i + 1] = (i >> 8) & 0xff;
    unsigned char *bytes =
        st_file("{\"all\":{\"dtype\":\"F16\",\"shape\":[256,256],\"data_offsets\":[0,131072]}}",
                all, 2 * 65536, &size);
    assert_int_equal(sn_checkpoint_open_memory(bytes, size, &ck), SN_OK);
    assert_int_equal(sn_checkpoint_read_f32(ck, 0, values, 65536), SN_OK);
    for (unsigned i = 0; i < 65536; i++) {
        uint32_t got = bits_of(values[i]);
        if (((i >> 10) & 0x1f) == 0x1f) { /* inf and NaN: sign, all-ones exponent, payload */
            uint32_t expect = (uint32_t)(i & 0x8000) << 16 | 0x7f800000u | (i & 0x3ffu) << 13;
            if (got != expect) fail_msg("F16 0x%04x: got 0x%08x", i, got);
        } else if ((double)values[i] != f16_reference((uint16_t)i) ||
                   (signbit(values[i]) != 0) != ((i & 0x8000) != 0)) {
            fail_msg("F16 0x%04x: got %.9g, want %.9g", i, values[i], f16_reference((uint16_t)i));
        }
    }
    sn_checkpoint_close(ck);
    free(bytes);
    free(values);
    free(all);
}

static void test_bf16_to_f32(void **state) {
    (void)state;
    static const uint16_t b[] = {0x3f80, 0xc049, 0x0001, 0x7f7f, 0x7f80,
                                 0xff80, 0x7fc1, 0x8000, 0x0080};
    enum { N = sizeof b / sizeof b[0] };
    float out[N];
    read_16bit("BF16", b, N, out);
    for (size_t i = 0; i < N; i++) assert_int_equal(bits_of(out[i]), (uint32_t)b[i] << 16);
    assert_true(out[0] == 1.0f);
    assert_true(out[1] == -3.140625f);
    assert_true(out[2] == ldexpf(1.0f, -133)); /* a float32 subnormal */
    assert_true(isinf(out[4]) && out[4] > 0);
    assert_true(isinf(out[5]) && out[5] < 0);
    assert_true(isnan(out[6]));
    assert_true(out[7] == 0.0f && signbit(out[7]));
    assert_true(out[8] == ldexpf(1.0f, -126)); /* the smallest normal */
}

/* One malformed header per case: the status and parts of the message. */
struct hostile {
    const char *what, *header;
    size_t data_size;
    sn_status status;
    const char *want1, *want2;
};

#define T(name, body) "{\"" name "\":" body "}"
#define Z10 "0000000000"
#define Z100 Z10 Z10 Z10 Z10 Z10 Z10 Z10 Z10 Z10 Z10
#define F32_8 "\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]"

static const struct hostile hostile[] = {
    {"header not JSON", "{\"a\": ", 0, SN_ERR_CORRUPT, "header is not JSON", NULL},
    {"header is text", "hello", 0, SN_ERR_CORRUPT, "header is not JSON", NULL},
    {"header JSON not an object", "[1, 2]", 0, SN_ERR_CORRUPT, "header is not a JSON object", NULL},
    {"header is a string", "\"abc\"", 0, SN_ERR_CORRUPT, "header is not a JSON object", NULL},
    {"empty header", "", 0, SN_ERR_CORRUPT, "header is not JSON", NULL},
    {"text after the object", "{} x", 0, SN_ERR_CORRUPT, "header is not JSON", NULL},
    {"two objects", "{}{}", 0, SN_ERR_CORRUPT, "text after the object", NULL},
    {"entry not an object", T("w", "[0, 8]"), 8, SN_ERR_CORRUPT,
     "tensor \"w\": ", "entry is not an object"},
    {"missing dtype", T("w", "{\"shape\":[2],\"data_offsets\":[0,8]}"), 8, SN_ERR_CORRUPT,
     "tensor \"w\": ", "missing \"dtype\""},
    {"missing shape", T("w", "{\"dtype\":\"F32\",\"data_offsets\":[0,8]}"), 8, SN_ERR_CORRUPT,
     "tensor \"w\": ", "missing \"shape\""},
    {"missing data_offsets", T("w", "{\"dtype\":\"F32\",\"shape\":[2]}"), 8, SN_ERR_CORRUPT,
     "tensor \"w\": ", "missing \"data_offsets\""},
    {"unknown field", T("w", "{" F32_8 ",\"extra\":1}"), 8, SN_ERR_CORRUPT,
     "tensor \"w\": ", "unknown field \"extra\""},
    {"field twice", T("w", "{" F32_8 ",\"dtype\":\"F32\"}"), 8, SN_ERR_CORRUPT,
     "tensor \"w\": ", "field \"dtype\" twice"},
    {"unknown dtype", T("w", "{\"dtype\":\"F33\",\"shape\":[2],\"data_offsets\":[0,8]}"), 8,
     SN_ERR_CORRUPT, "tensor \"w\": ", "unknown dtype \"F33\""},
    {"lowercase dtype", T("w", "{\"dtype\":\"f32\",\"shape\":[2],\"data_offsets\":[0,8]}"), 8,
     SN_ERR_CORRUPT, "tensor \"w\": ", "unknown dtype \"f32\""},
    {"dtype not a string", T("w", "{\"dtype\":32,\"shape\":[2],\"data_offsets\":[0,8]}"), 8,
     SN_ERR_CORRUPT, "tensor \"w\": ", "\"dtype\" is not a string"},
    {"shape not an array", T("w", "{\"dtype\":\"F32\",\"shape\":2,\"data_offsets\":[0,8]}"), 8,
     SN_ERR_CORRUPT, "tensor \"w\": ", "\"shape\" is not an array"},
    {"negative dim", T("w", "{\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,8]}"), 8,
     SN_ERR_CORRUPT, "tensor \"w\": ", "dimension 0 (-2) is negative"},
    {"fractional dim", T("w", "{\"dtype\":\"F32\",\"shape\":[1,2.5],\"data_offsets\":[0,8]}"), 8,
     SN_ERR_CORRUPT, "tensor \"w\": ", "dimension 1 (2.5) is not an integer"},
    {"huge dim", T("w", "{\"dtype\":\"F32\",\"shape\":[1e300],\"data_offsets\":[0,8]}"), 8,
     SN_ERR_CORRUPT, "tensor \"w\": ", "dimension 0 (1e+300) is too large"},
    {"dim 2^53", T("w", "{\"dtype\":\"F32\",\"shape\":[9007199254740993],\"data_offsets\":[0,8]}"),
     8, SN_ERR_CORRUPT, "tensor \"w\": ", "is too large"},
    {"dim a string", T("w", "{\"dtype\":\"F32\",\"shape\":[\"2\"],\"data_offsets\":[0,8]}"), 8,
     SN_ERR_CORRUPT, "tensor \"w\": ", "dimension 0 (a string) is not a number"},
    {"shape product overflow",
     T("w", "{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296],\"data_offsets\":[0,8]}"), 8,
     SN_ERR_CORRUPT,
     "tensor \"w\": ", "shape (4294967296, 4294967296) has more than 2^63 - 1 elements"},
    {"bytes overflow",
     T("w", "{\"dtype\":\"F32\",\"shape\":[1099511627776,4194304],\"data_offsets\":[0,8]}"), 8,
     SN_ERR_CORRUPT, "tensor \"w\": ", "shape (1099511627776, 4194304) x F32 overflows 64 bits"},
    {"offsets reversed", T("w", "{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,4]}"), 8,
     SN_ERR_CORRUPT, "tensor \"w\": ", "data_offsets [8, 4]: begin is after end"},
    {"offsets past end", T("w", "{\"dtype\":\"F32\",\"shape\":[100],\"data_offsets\":[0,400]}"), 16,
     SN_ERR_CORRUPT, "tensor \"w\": ", "data_offsets [0, 400] end past the 16 bytes"},
    {"offset negative", T("w", "{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[-8,0]}"), 8,
     SN_ERR_CORRUPT, "tensor \"w\": ", "data_offsets begin (-8) is negative"},
    {"offset fractional", T("w", "{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8.5]}"), 9,
     SN_ERR_CORRUPT, "tensor \"w\": ", "data_offsets end (8.5) is not an integer"},
    {"data_offsets of length 3",
     T("w", "{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,4,8]}"), 8, SN_ERR_CORRUPT,
     "tensor \"w\": ", "\"data_offsets\" has 3 elements"},
    {"data_offsets empty", T("w", "{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[]}"), 8,
     SN_ERR_CORRUPT, "tensor \"w\": ", "\"data_offsets\" has 0 elements"},
    {"size mismatch", T("w", "{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}"), 8,
     SN_ERR_CORRUPT, "tensor \"w\": ", "data_offsets [0, 8] do not match shape (3) x F32 = 12"},
    {"sub-byte size", T("w", "{\"dtype\":\"F4\",\"shape\":[3],\"data_offsets\":[0,2]}"), 8,
     SN_ERR_CORRUPT, "tensor \"w\": ", "shape (3) x F4 is not a whole number of bytes"},
    {"overlap",
     "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
     "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}",
     12, SN_ERR_CORRUPT, "tensor \"b\": ", "overlap those of tensor \"a\" [0, 8]"},
    {"same bytes twice",
     "{\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
     "\"a\":{\"dtype\":\"F16\",\"shape\":[4],\"data_offsets\":[0,8]}}",
     8, SN_ERR_CORRUPT, "overlap those of tensor", NULL},
    {"duplicate name",
     "{\"w\":{" F32_8 "},\"v\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[8,12]},"
     "\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[12,16]}}",
     16, SN_ERR_CORRUPT, "tensor \"w\": ", "duplicate name"},
    {"NUL in name", T("a\\u0000b", "{" F32_8 "}"), 8, SN_ERR_CORRUPT,
     "tensor name \"a\\u0000b\" contains NUL", NULL},
    {"NUL in dtype", T("w", "{\"dtype\":\"F32\\u0000\",\"shape\":[2],\"data_offsets\":[0,8]}"), 8,
     SN_ERR_CORRUPT, "header string \"F32\\u0000\" contains NUL", NULL},
    {"empty name", T("", "{" F32_8 "}"), 8, SN_ERR_CORRUPT, "tensor \"\": empty name", NULL},
    {"metadata not an object", "{\"__metadata__\":[\"format\",\"pt\"]}", 0, SN_ERR_CORRUPT,
     "\"__metadata__\" is not an object", NULL},
    {"metadata value not a string", "{\"__metadata__\":{\"format\":\"pt\",\"epoch\":3}}", 0,
     SN_ERR_CORRUPT, "\"__metadata__\" value \"epoch\" is not a string", NULL},
    {"metadata twice", "{\"__metadata__\":{},\"__metadata__\":{}}", 0, SN_ERR_CORRUPT,
     "\"__metadata__\" twice", NULL},
    {"invalid UTF-8 in a name", T("w\xff", "{" F32_8 "}"), 8, SN_ERR_CORRUPT, "invalid UTF-8",
     NULL},
    {"overlong UTF-8", T("w\xc0\xaf", "{" F32_8 "}"), 8, SN_ERR_CORRUPT, "invalid UTF-8", NULL},
    {"raw control character", T("w\n", "{" F32_8 "}"), 8, SN_ERR_CORRUPT,
     "control character in a string", NULL},
    {"bad \\u escape", T("w\\uZZZZ", "{" F32_8 "}"), 8, SN_ERR_CORRUPT, "invalid \\u escape", NULL},
    {"bad escape", T("w\\x41", "{" F32_8 "}"), 8, SN_ERR_CORRUPT, "invalid escape", NULL},
    {"number with plus", T("w", "{\"dtype\":\"F32\",\"shape\":[+2],\"data_offsets\":[0,8]}"), 8,
     SN_ERR_CORRUPT, "header is not JSON", NULL},
    {"number with leading zero",
     T("w", "{\"dtype\":\"F32\",\"shape\":[02],\"data_offsets\":[0,8]}"), 8, SN_ERR_CORRUPT,
     "invalid number", NULL},
    {"unterminated string", "{\"w", 0, SN_ERR_CORRUPT, "unterminated string", NULL},
    {"lone high surrogate", T("w\\ud800", "{" F32_8 "}"), 8, SN_ERR_CORRUPT,
     "unpaired UTF-16 surrogate", NULL},
    {"lone low surrogate", T("w\\udc00", "{" F32_8 "}"), 8, SN_ERR_CORRUPT,
     "unpaired UTF-16 surrogate", NULL},
    {"high surrogate then a letter", T("w\\ud800\\u0041", "{" F32_8 "}"), 8, SN_ERR_CORRUPT,
     "unpaired UTF-16 surrogate", NULL},
    {"surrogates reversed", T("w\\udc00\\ud800", "{" F32_8 "}"), 8, SN_ERR_CORRUPT,
     "unpaired UTF-16 surrogate", NULL},
    {"trailing comma in an object", "{\"w\":{" F32_8 "},}", 8, SN_ERR_CORRUPT,
     "header is not JSON: expected a name in quotes", NULL},
    {"trailing comma in an array",
     T("w", "{\"dtype\":\"F32\",\"shape\":[2,],\"data_offsets\":[0,8]}"), 8, SN_ERR_CORRUPT,
     "header is not JSON: expected a value", NULL},
    {"missing colon", "{\"w\" {" F32_8 "}}", 8, SN_ERR_CORRUPT, "header is not JSON: expected ':'",
     NULL},
    {"missing comma", T("w", "{\"dtype\":\"F32\" \"shape\":[2],\"data_offsets\":[0,8]}"), 8,
     SN_ERR_CORRUPT, "header is not JSON: expected ',' or '}'", NULL},
    {"brackets mismatched", T("w", "{\"dtype\":\"F32\",\"shape\":[2},\"data_offsets\":[0,8]}"), 8,
     SN_ERR_CORRUPT, "header is not JSON: expected ',' or ']'", NULL},
    {"unclosed object", "{\"w\":{" F32_8 "}", 8, SN_ERR_CORRUPT,
     "header is not JSON: unexpected end", NULL},
    {"a key not a string", "{1:{" F32_8 "}}", 8, SN_ERR_CORRUPT,
     "header is not JSON: expected a name in quotes", NULL},
    {"a lone comma", ",", 0, SN_ERR_CORRUPT, "header is not JSON: expected a value", NULL},
    {"a number of 301 digits",
     T("w", "{\"dtype\":\"F32\",\"shape\":[1" Z100 Z100 Z100 "],\"data_offsets\":[0,8]}"), 8,
     SN_ERR_CORRUPT, "dimension 0 (1e+300) is too large", NULL},
    {"a fraction of 400 digits",
     T("w", "{\"dtype\":\"F32\",\"shape\":[2.5" Z100 Z100 Z100 Z100 "1],\"data_offsets\":[0,8]}"),
     8, SN_ERR_CORRUPT, "dimension 0 (2.5) is not an integer", NULL},
    {"a huge exponent",
     T("w", "{\"dtype\":\"F32\",\"shape\":[1e99999999999999999999],\"data_offsets\":[0,8]}"), 8,
     SN_ERR_CORRUPT, "dimension 0 (inf) is too large", NULL},
    /* valid files scopenn does not read; corruption elsewhere wins */
    {"I64", T("step", "{\"dtype\":\"I64\",\"shape\":[],\"data_offsets\":[0,8]}"), 8,
     SN_ERR_UNSUPPORTED, "tensor \"step\": ", "dtype I64 is not supported"},
    {"F64", T("w", "{\"dtype\":\"F64\",\"shape\":[1],\"data_offsets\":[0,8]}"), 8,
     SN_ERR_UNSUPPORTED, "tensor \"w\": ", "dtype F64"},
    {"BOOL", T("m", "{\"dtype\":\"BOOL\",\"shape\":[8],\"data_offsets\":[0,8]}"), 8,
     SN_ERR_UNSUPPORTED, "tensor \"m\": ", "dtype BOOL"},
    {"F8_E4M3", T("q", "{\"dtype\":\"F8_E4M3\",\"shape\":[2,4],\"data_offsets\":[0,8]}"), 8,
     SN_ERR_UNSUPPORTED, "tensor \"q\": ", "dtype F8_E4M3"},
    {"rank 9", T("w", "{\"dtype\":\"F32\",\"shape\":[1,1,1,1,1,1,1,1,2],\"data_offsets\":[0,8]}"),
     8, SN_ERR_UNSUPPORTED, "tensor \"w\": ", "rank 9 is not supported"},
    {"rank 9 and wrong size",
     T("w", "{\"dtype\":\"F32\",\"shape\":[1,1,1,1,1,1,1,1,3,4],\"data_offsets\":[0,8]}"), 8,
     SN_ERR_CORRUPT, "shape (1, 1, 1, 1, 1, 1, 1, 1, ...) x F32 = 48 bytes", NULL},
    {"unsupported, then corrupt",
     "{\"step\":{\"dtype\":\"I64\",\"shape\":[],\"data_offsets\":[0,8]},"
     "\"w\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[8,16]}}",
     16, SN_ERR_CORRUPT, "tensor \"w\": ", "do not match"},
};

static void test_hostile_headers(void **state) {
    (void)state;
    for (size_t i = 0; i < sizeof hostile / sizeof hostile[0]; i++) {
        const struct hostile *h = &hostile[i];
        size_t size;
        unsigned char *bytes = st_file(h->header, NULL, h->data_size, &size);
        if (h->want2)
            expect_open_fails(h->what, bytes, size, h->status, h->want1, h->want2);
        else
            expect_open_fails(h->what, bytes, size, h->status, h->want1);
        free(bytes);
    }
}

/* Escapes and numbers as JSON spells them, read as they mean. */
static void test_json_spellings(void **state) {
    (void)state;
    size_t size;
    unsigned char *bytes = st_file(
        "{\"a\\u00e9\\ud83d\\ude00\\n\\t\\\"\\\\\\/\\b\\f\\r\\u0041z\" : { \"dtype\" : \"F32\" ,"
        "\"shape\":[ 2.0e0 , 1 ], \"data_offsets\":[0, 0.8E+1]},"
        "\"\\u00ff\":{\"dtype\":\"F32\",\"shape\":[-0],\"data_offsets\":[8,8]},"
        "\"b\":{\"dtype\":\"F32\",\"shape\":[1" Z10 Z10 Z10 "e-30],"
        "\"data_offsets\":[80e-1,12]},"
        "\"c\":{\"dtype\":\"F32\",\"shape\":[1" Z10 Z10 Z10 Z10 Z10 "e-50],"
        "\"data_offsets\":[12,16]}}\r\n\t ",
        NULL, 16, &size);
    sn_checkpoint *ck = NULL;
    assert_int_equal(sn_checkpoint_open_memory(bytes, size, &ck), SN_OK);
    assert_int_equal(sn_checkpoint_tensor_count(ck), 4);
    sn_checkpoint_tensor info;
    assert_int_equal(sn_checkpoint_tensor_info(ck, 0, &info), SN_OK);
    assert_string_equal(info.name, "a\xc3\xa9\xf0\x9f\x98\x80\n\t\"\\/\b\f\rAz");
    assert_int_equal(info.shape.rank, 2);
    assert_int_equal(info.shape.dims[0], 2);
    assert_int_equal(info.nbytes, 8);
    assert_int_equal(sn_checkpoint_tensor_info(ck, 1, &info), SN_OK);
    assert_string_equal(info.name, "\xc3\xbf");
    assert_int_equal(info.shape.dims[0], 0);
    assert_int_equal(sn_checkpoint_find(ck, "\xc3\xbf"), 1);
    assert_int_equal(sn_checkpoint_tensor_info(ck, 2, &info), SN_OK);
    assert_int_equal(info.shape.dims[0], 1);
    assert_int_equal(sn_checkpoint_tensor_info(ck, 3, &info), SN_OK);
    assert_int_equal(info.shape.dims[0], 1);
    sn_checkpoint_close(ck);
    free(bytes);
}

static void test_hostile_lengths(void **state) {
    (void)state;
    size_t size;
    unsigned char *bytes;
    expect_open_fails("empty file", "", 0, SN_ERR_CORRUPT, "file is 0 bytes, too short");
    expect_open_fails("7-byte file", "\x02\0\0\0\0\0\0", 7, SN_ERR_CORRUPT, "file is 7 bytes");
    /* the length says 100 bytes of header, the file has 10 */
    bytes = st_file_n("{}        ", 100, NULL, 0, &size);
    expect_open_fails("header length > file", bytes, size, SN_ERR_CORRUPT,
                      "header length 100 is past the end of the file (10 bytes after it)");
    free(bytes);
    /* all ones: 2^64 - 1 */
    bytes = st_file_n("{}", UINT64_MAX - 1, NULL, 0, &size);
    expect_open_fails("huge header length", bytes, size, SN_ERR_CORRUPT,
                      "header length 18446744073709551614 is over the limit");
    free(bytes);
    bytes = st_file_n("{}", 100000001, NULL, 0, &size);
    expect_open_fails("header length over the cap", bytes, size, SN_ERR_CORRUPT,
                      "over the limit of 100000000 bytes");
    free(bytes);
    /* a header cut short by its length: "{}" with length 1 */
    bytes = st_file_n("{}", 1, NULL, 0, &size);
    expect_open_fails("truncated header", bytes, size, SN_ERR_CORRUPT, "header is not JSON");
    free(bytes);
    /* the exact message of the issue */
    bytes = st_file("{\"conv1/weights\":{\"dtype\":\"F32\",\"shape\":[5,5,3,32],"
                    "\"data_offsets\":[0,100]}}",
                    NULL, 100, &size);
    sn_checkpoint *ck;
    assert_int_equal(sn_checkpoint_open_memory(bytes, size, &ck), SN_ERR_CORRUPT);
    assert_string_equal(sn_checkpoint_error(ck),
                        "checkpoint <memory>: tensor \"conv1/weights\": data_offsets [0, 100] do "
                        "not match shape (5, 5, 3, 32) x F32 = 9600 bytes");
    sn_checkpoint_close(ck);
    free(bytes);
}

/* Deep nesting, long names with control characters, many tensors: refused
 * or accepted, never a crash, and messages stay one bounded line. */
static void test_hostile_sizes(void **state) {
    (void)state;
    enum { DEPTH = 5000 };
    char *deep = malloc(2 * DEPTH + 16);
    assert_non_null(deep);
    strcpy(deep, "{\"w\":");
    size_t n = strlen(deep);
    for (int i = 0; i < DEPTH; i++) deep[n++] = '[';
    for (int i = 0; i < DEPTH; i++) deep[n++] = ']';
    strcpy(deep + n, "}");
    size_t size;
    unsigned char *bytes = st_file(deep, NULL, 0, &size);
    expect_open_fails("deep nesting", bytes, size, SN_ERR_CORRUPT, "header is not JSON");
    free(bytes);
    free(deep);

    /* a 3000-byte name of newlines, escaped: cut in the message */
    enum { HEADER = 64000 };
    char *header = malloc(HEADER);
    assert_non_null(header);
    strcpy(header, "{\"");
    for (int i = 0; i < 3000; i++) strcat(header, "\\n");
    strcat(header, "\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}");
    bytes = st_file(header, NULL, 8, &size);
    sn_checkpoint *ck;
    assert_int_equal(sn_checkpoint_open_memory(bytes, size, &ck), SN_ERR_CORRUPT);
    const char *message = sn_checkpoint_error(ck);
    assert_null(strchr(message, '\n'));
    assert_true(strlen(message) < 600);
    assert_non_null(strstr(message, "\\u000a\\u000a"));
    assert_non_null(strstr(message, "...\": data_offsets [0, 8] do not match"));
    sn_checkpoint_close(ck);
    free(bytes);

    /* 500 valid tensors, found by name */
    strcpy(header, "{");
    for (int i = 0; i < 500; i++)
        snprintf(header + strlen(header), HEADER - strlen(header),
                 "%s\"t%d\":{\"dtype\":\"F16\",\"shape\":[1],\"data_offsets\":[%d,%d]}",
                 i ? "," : "", 499 - i, 2 * i, 2 * i + 2);
    strcat(header, "}");
    bytes = st_file(header, NULL, 1000, &size);
    assert_int_equal(sn_checkpoint_open_memory(bytes, size, &ck), SN_OK);
    assert_int_equal(sn_checkpoint_tensor_count(ck), 500);
    for (int i = 0; i < 500; i++) {
        char name[16];
        snprintf(name, sizeof name, "t%d", i);
        assert_int_equal(sn_checkpoint_find(ck, name), 499 - i);
    }
    sn_checkpoint_close(ck);
    free(bytes);
    free(header);
}

static void test_open_file_errors(void **state) {
    (void)state;
    char path[512];
    sn_checkpoint *ck = NULL;

    path_in(path, sizeof path, "does-not-exist.safetensors");
    assert_int_equal(sn_checkpoint_open(path, &ck), SN_ERR_IO);
    assert_non_null(strstr(sn_checkpoint_error(ck), "does-not-exist.safetensors: cannot open"));
    sn_checkpoint_close(ck);

    assert_int_equal(sn_checkpoint_open(tmpdir, &ck), SN_ERR_IO);
    assert_non_null(strstr(sn_checkpoint_error(ck), "is a directory"));
    sn_checkpoint_close(ck);

    path_in(path, sizeof path, "empty.safetensors");
    write_bytes(path, "", 0);
    assert_int_equal(sn_checkpoint_open(path, &ck), SN_ERR_CORRUPT);
    assert_non_null(strstr(sn_checkpoint_error(ck), "empty.safetensors: file is 0 bytes"));
    sn_checkpoint_close(ck);
    unlink(path);

    path_in(path, sizeof path, "seven.safetensors");
    write_bytes(path, "\x02\0\0\0\0\0\0", 7);
    assert_int_equal(sn_checkpoint_open(path, &ck), SN_ERR_CORRUPT);
    assert_non_null(strstr(sn_checkpoint_error(ck), "seven.safetensors: file is 7 bytes"));
    sn_checkpoint_close(ck);
    unlink(path);

    /* a valid file, mapped */
    size_t size;
    const float v[2] = {4.0f, 5.0f};
    unsigned char *bytes = st_file("{\"w\":{" F32_8 "}}", v, 8, &size);
    path_in(path, sizeof path, "ok.safetensors");
    write_bytes(path, bytes, size);
    free(bytes);
    assert_int_equal(sn_checkpoint_open(path, &ck), SN_OK);
    float out[2];
    assert_int_equal(sn_checkpoint_read_f32(ck, 0, out, 2), SN_OK);
    assert_memory_equal(out, v, sizeof v);
    sn_checkpoint_close(ck);
    unlink(path);
}

/* A path that is not UTF-8 is named in the message with U+FFFD's escape
 * for each stray byte, and a long one is cut between characters, never
 * inside a character or an escape. */
static void test_messages_name_paths_in_utf8(void **state) {
    (void)state;
    char path[512];
    path_in(path, sizeof path, "a\xff\xc3(\xe2\x82\xf0\x9f\x98\x80\"\n.st");
    sn_checkpoint *ck = NULL;
    assert_int_equal(sn_checkpoint_open(path, &ck), SN_ERR_IO);
    assert_non_null(
        strstr(sn_checkpoint_error(ck),
               "/a\\ufffd\\ufffd(\\ufffd\\ufffd\xf0\x9f\x98\x80\\\"\\u000a.st: cannot open"));
    sn_checkpoint_close(ck);

    enum { LONG = 6000 };
    char *name = malloc(LONG + 1);
    assert_non_null(name);
    for (size_t cut = 0; cut < 8; cut++) { /* shifts the cut across a piece */
        size_t n = 0;
        for (size_t i = 0; i < cut; i++) name[n++] = 'x';
        while (n + 4 <= LONG) {
            memcpy(name + n, n % 3 ? "\xe2\x82\xac" : "\xff\n", n % 3 ? 3 : 2);
            n += n % 3 ? 3 : 2;
        }
        name[n] = '\0';
        assert_int_equal(sn_graph_load_checkpoint(NULL, name, false, NULL),
                         SN_ERR_INVALID_ARGUMENT);
        sn_graph *g = sn_graph_create(NULL);
        assert_non_null(g);
        assert_int_equal(sn_graph_load_checkpoint(g, name, false, NULL), SN_ERR_IO);
        const char *message = sn_graph_error(g);
        const char *dots = strstr(message, "...");
        assert_non_null(dots);
        /* what comes before "..." ends with a whole piece */
        const char *p = message + strlen("checkpoint ");
        while (p < dots) {
            if (*p == 'x')
                p += 1;
            else if (strncmp(p, "\xe2\x82\xac", 3) == 0)
                p += 3;
            else if (strncmp(p, "\\ufffd", 6) == 0 || strncmp(p, "\\u000a", 6) == 0)
                p += 6;
            else
                fail_msg("cut %zu: stray text at offset %zu of the message", cut,
                         (size_t)(p - message));
        }
        assert_ptr_equal(p, dots);
        sn_graph_destroy(g);
    }
    free(name);
}

/* ---- files that are not regular files --------------------------------------- */

static sn_graph *model(uint64_t seed, sn_initializer init);

/* A FIFO, a device, a directory and a socket are refused at once with
 * SN_ERR_IO, by open and load (no waiting for a FIFO's writer) and by save
 * (no waiting, nothing written, the special file left as it was). The
 * alarm turns a regression that blocks into a failure. */
static void expect_refused(const char *path, const char *kind) {
    sn_checkpoint *ck = NULL;
    assert_int_equal(sn_checkpoint_open(path, &ck), SN_ERR_IO);
    const char *message = sn_checkpoint_error(ck);
    if (kind && !strstr(message, kind))
        fail_msg("open %s: \"%s\" lacks \"%s\"", path, message, kind);
    assert_int_equal(sn_checkpoint_tensor_count(ck), 0);
    sn_checkpoint_close(ck);

    sn_graph *g = sn_graph_create(NULL);
    assert_non_null(g);
    sn_variable *v = sn_get_variable(g, "v", SN_SHAPE(2), sn_constant_initializer(3.0f));
    assert_non_null(v);
    sn_load_report *report = (sn_load_report *)&report; /* must be reset */
    assert_int_equal(sn_graph_load_checkpoint(g, path, false, &report), SN_ERR_IO);
    assert_null(report);
    if (kind && !strstr(sn_graph_error(g), kind))
        fail_msg("load %s: \"%s\" lacks \"%s\"", path, sn_graph_error(g), kind);
    assert_int_equal(sn_variable_version(v), 1);
    assert_true(sn_variable_value(v)[0] == 3.0f);
    sn_graph_destroy(g);
}

static void expect_save_refused(const char *path, const char *kind) {
    struct stat before, after;
    assert_int_equal(lstat(path, &before), 0);
    size_t files = count_files(tmpdir);
    sn_graph *g = model(3, SN_NO_INITIALIZER);
    assert_int_equal(sn_graph_save_checkpoint(g, path), SN_ERR_IO);
    if (!strstr(sn_graph_error(g), kind))
        fail_msg("save %s: \"%s\" lacks \"%s\"", path, sn_graph_error(g), kind);
    assert_non_null(strstr(sn_graph_error(g), "not a regular file"));
    sn_graph_destroy(g);
    assert_int_equal(count_files(tmpdir), files); /* no temporary file left */
    assert_int_equal(lstat(path, &after), 0);     /* the same file, untouched */
    assert_int_equal(after.st_ino, before.st_ino);
    assert_int_equal(after.st_mode, before.st_mode);
}

static void test_special_files(void **state) {
    (void)state;
    alarm(30);
    char path[512];

    path_in(path, sizeof path, "fifo");
    assert_int_equal(mkfifo(path, 0600), 0);
    expect_refused(path, "is a FIFO, not a regular file");
    expect_save_refused(path, "is a FIFO");
    unlink(path);

    expect_refused("/dev/null", "is a character device, not a regular file");
    expect_refused("/dev/zero", "is a character device, not a regular file");
    /* saving to a device, through a link so that a regression replaces the
     * link, never /dev/null */
    path_in(path, sizeof path, "null-link");
    assert_int_equal(symlink("/dev/null", path), 0);
    expect_refused(path, "is a character device");
    expect_save_refused(path, "is a character device");
    unlink(path);

    path_in(path, sizeof path, "dir");
    assert_int_equal(mkdir(path, 0700), 0);
    expect_refused(path, "is a directory, not a regular file");
    expect_save_refused(path, "is a directory");
    rmdir(path);

    /* a listening socket: open(2) itself fails (ENXIO) */
    struct sockaddr_un address = {.sun_family = AF_UNIX};
    path_in(path, sizeof path, "socket");
    if (strlen(path) < sizeof address.sun_path) {
        strcpy(address.sun_path, path);
        int fd = socket(AF_UNIX, SOCK_STREAM, 0);
        assert_true(fd >= 0);
        assert_int_equal(bind(fd, (const struct sockaddr *)&address, sizeof address), 0);
        assert_int_equal(listen(fd, 1), 0);
        expect_refused(path, NULL);
        expect_save_refused(path, "is a socket");
        close(fd);
        unlink(path);
    }
    assert_int_equal(count_files(tmpdir), 0);
    alarm(0);
}

/* ---- graphs -------------------------------------------------------------- */

static sn_graph *model(uint64_t seed, sn_initializer init) {
    sn_graph *g = sn_graph_create(&(sn_graph_options){.seed = seed});
    assert_non_null(g);
    SN_WITH_VARIABLE_SCOPE(g, "conv1") {
        sn_get_variable(g, "weights", SN_SHAPE(3, 3, 2, 4),
                        init.kind ? init : sn_random_normal_initializer(0.0f, 1.0f));
        sn_get_variable(g, "biases", SN_SHAPE(4), init.kind ? init : sn_constant_initializer(0.5f));
    }
    sn_get_variable(g, "scale", SN_SCALAR, init.kind ? init : sn_constant_initializer(2.0f));
    assert_int_equal(sn_graph_status(g), SN_OK);
    return g;
}

static void test_round_trip(void **state) {
    (void)state;
    char path[512];
    path_in(path, sizeof path, "model.safetensors");
    sn_graph *g = model(7, SN_NO_INITIALIZER);
    /* values a text format would lose */
    const float specials[4] = {NAN, -INFINITY, -0.0f, 1e-45f};
    assert_int_equal(sn_variable_assign(sn_graph_find_variable(g, "conv1/biases"), specials, 4),
                     SN_OK);
    assert_int_equal(sn_graph_save_checkpoint(g, path), SN_OK);
    assert_int_equal(count_files(tmpdir), 1); /* no temporary file left */

    /* the file as a safetensors reader sees it */
    sn_checkpoint *ck;
    assert_int_equal(sn_checkpoint_open(path, &ck), SN_OK);
    assert_int_equal(sn_checkpoint_tensor_count(ck), 3);
    const char *order[3] = {"conv1/weights", "conv1/biases", "scale"};
    for (size_t i = 0; i < 3; i++) {
        sn_checkpoint_tensor info;
        assert_int_equal(sn_checkpoint_tensor_info(ck, i, &info), SN_OK);
        assert_string_equal(info.name, order[i]);
        assert_int_equal(info.dtype, SN_F32);
    }
    sn_checkpoint_close(ck);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    unsigned char head[8];
    assert_int_equal(fread(head, 1, 8, f), 8);
    uint64_t length = 0;
    for (int i = 7; i >= 0; i--) length = length << 8 | head[i];
    assert_int_equal(length % 8, 0);
    char *json = calloc(1, (size_t)length + 1);
    assert_non_null(json);
    assert_int_equal(fread(json, 1, (size_t)length, f), length);
    fclose(f);
    assert_non_null(strstr(json, "\"__metadata__\":{\"format\":\"scopenn\"}"));
    assert_non_null(strstr(json, "\"conv1/weights\":{\"dtype\":\"F32\",\"shape\":[3,3,2,4],"
                                 "\"data_offsets\":[0,288]}"));
    free(json);

    /* into a fresh graph: every bit, and a new version for each variable */
    sn_graph *h = model(8, sn_zeros_initializer());
    sn_load_report *report = NULL;
    assert_int_equal(sn_graph_load_checkpoint(h, path, true, &report), SN_OK);
    assert_non_null(report);
    assert_int_equal(report->loaded, 3);
    assert_int_equal(report->missing_count, 0);
    assert_int_equal(report->unexpected_count, 0);
    sn_load_report_free(report);
    assert_int_equal(sn_graph_variable_count(h), 3);
    for (size_t i = 0; i < 3; i++) {
        const sn_variable *a = sn_graph_variable(g, i), *b = sn_graph_variable(h, i);
        assert_string_equal(sn_variable_name(a), sn_variable_name(b));
        assert_memory_equal(sn_variable_value(a), sn_variable_value(b),
                            sizeof(float) * (size_t)sn_variable_size(a));
        assert_int_equal(sn_variable_version(b), 2);
    }
    /* loading again bumps again; no report wanted */
    assert_int_equal(sn_graph_load_checkpoint(h, path, true, NULL), SN_OK);
    assert_int_equal(sn_variable_version(sn_graph_find_variable(h, "scale")), 3);

    /* saving over an existing file replaces it */
    assert_int_equal(sn_variable_assign(sn_graph_find_variable(g, "scale"), (float[]){-3.0f}, 1),
                     SN_OK);
    assert_int_equal(sn_graph_save_checkpoint(g, path), SN_OK);
    assert_int_equal(count_files(tmpdir), 1);
    assert_int_equal(sn_graph_load_checkpoint(h, path, true, NULL), SN_OK);
    assert_true(sn_variable_value(sn_graph_find_variable(h, "scale"))[0] == -3.0f);

    sn_graph_destroy(g);
    sn_graph_destroy(h);
    unlink(path);
}

/* A product whose weights fill whole pages: y = x w + b. */
enum { IN_DIM = 64, OUT_DIM = 64 };
struct product {
    sn_graph *g;
    sn_tensor *x, *y;
    sn_variable *w, *b;
};

static struct product product(uint64_t seed) {
    struct product m = {.g = sn_graph_create(&(sn_graph_options){.seed = seed})};
    assert_non_null(m.g);
    m.x = sn_placeholder(m.g, "x", SN_SHAPE(2, IN_DIM));
    m.w = sn_get_variable(m.g, "w", SN_SHAPE(IN_DIM, OUT_DIM), sn_random_normal_initializer(0, 1));
    m.b = sn_get_variable(m.g, "b", SN_SHAPE(OUT_DIM), sn_random_normal_initializer(0, 1));
    m.y = sn_bias_add(m.g, sn_matmul(m.g, m.x, sn_var(m.g, m.w), false, false, "mm"),
                      sn_var(m.g, m.b), "y");
    assert_int_equal(sn_graph_status(m.g), SN_OK);
    return m;
}

/* y for x = 1, 2, ... from the weights as they are now, in double. */
static void product_want(const struct product *m, float *want) {
    const float *w = sn_variable_value(m->w), *b = sn_variable_value(m->b);
    for (int r = 0; r < 2; r++)
        for (int o = 0; o < OUT_DIM; o++) {
            double sum = b[o];
            for (int i = 0; i < IN_DIM; i++) sum += (double)(r * IN_DIM + i + 1) * w[i * OUT_DIM + o];
            want[r * OUT_DIM + o] = (float)sum;
        }
}

static void product_check(const struct product *m, sn_session *s) {
    float x[2 * IN_DIM], want[2 * OUT_DIM];
    for (int i = 0; i < 2 * IN_DIM; i++) x[i] = (float)(i + 1);
    sn_feed feed = {m->x, x, SN_SHAPE(2, IN_DIM)};
    sn_output out;
    assert_int_equal(sn_session_run(s, &feed, 1, &out), SN_OK);
    product_want(m, want);
    for (int i = 0; i < 2 * OUT_DIM; i++)
        assert_true(fabsf(out.data[i] - want[i]) <= 1e-3f * (1.0f + fabsf(want[i])));
}

/* A checkpoint's whole-cache-line tensors are read where they lie in the
 * mapped file (no copy), and stay what S22 and S24 say: the current value,
 * readable after the file is gone or replaced; a new value (assign, another
 * load) goes where it must and repacks. Checked through a session's
 * results and the values themselves. */
static void test_values_read_in_place(void **state) {
    (void)state;
    char path[512], other[512];
    path_in(path, sizeof path, "in-place.safetensors");
    path_in(other, sizeof other, "other.safetensors");
    struct product a = product(1), b = product(2), c = product(3);
    assert_int_equal(sn_graph_save_checkpoint(a.g, path), SN_OK);
    assert_int_equal(sn_graph_save_checkpoint(b.g, other), SN_OK);

    /* whole-line tensors first, the data on a cache line */
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    unsigned char head[8];
    assert_int_equal(fread(head, 1, 8, f), 8);
    fclose(f);
    uint64_t length = 0;
    for (int i = 7; i >= 0; i--) length = length << 8 | head[i];
    assert_int_equal((8 + length) % 64, 0);

    assert_int_equal(sn_graph_load_checkpoint(c.g, path, true, NULL), SN_OK);
    const size_t wbytes = sizeof(float) * IN_DIM * OUT_DIM;
    assert_int_equal((uintptr_t)sn_variable_value(c.w) % 64, 0);
    assert_memory_equal(sn_variable_value(c.w), sn_variable_value(a.w), wbytes);
    sn_session *s = sn_session_create(c.g, SN_FETCH(c.y), NULL);
    assert_non_null(s);
    product_check(&c, s);
    /* packing let its pages go; they read back the same */
    assert_memory_equal(sn_variable_value(c.w), sn_variable_value(a.w), wbytes);

    /* the file replaced (as saving does: a new file renamed over it) and
     * removed: the values stay */
    assert_int_equal(sn_graph_save_checkpoint(b.g, path), SN_OK);
    unlink(path);
    assert_memory_equal(sn_variable_value(c.w), sn_variable_value(a.w), wbytes);
    product_check(&c, s);

    /* a new value by assign: the session repacks from it (S24) */
    const uint64_t version = sn_variable_version(c.w);
    assert_int_equal(sn_variable_assign(c.w, sn_variable_value(b.w), IN_DIM * OUT_DIM), SN_OK);
    assert_int_equal(sn_variable_version(c.w), version + 1);
    assert_memory_equal(sn_variable_value(c.w), sn_variable_value(b.w), wbytes);
    product_check(&c, s);

    /* and by another load, read in place again */
    assert_int_equal(sn_graph_load_checkpoint(c.g, other, true, NULL), SN_OK);
    unlink(other);
    assert_memory_equal(sn_variable_value(c.b), sn_variable_value(b.b), sizeof(float) * OUT_DIM);
    product_check(&c, s);
    /* saved from values that lie in a file, to that file's path */
    assert_int_equal(sn_graph_save_checkpoint(c.g, other), SN_OK);
    assert_int_equal(sn_graph_load_checkpoint(a.g, other, true, NULL), SN_OK);
    assert_memory_equal(sn_variable_value(a.w), sn_variable_value(b.w), wbytes);
    unlink(other);

    sn_session_destroy(s);
    sn_graph_destroy(a.g);
    sn_graph_destroy(b.g);
    sn_graph_destroy(c.g);
}

/* A variable's initializer runs at its first read, not at its creation,
 * with the seed the graph had then: the same bits (S17) whenever it is
 * read, and never for a value set first. */
static void test_initial_values_at_first_read(void **state) {
    (void)state;
    struct product early = product(9), late = product(9);
    const float *e = sn_variable_value(early.w); /* read at once */
    sn_session *s = sn_session_create(late.g, SN_FETCH(late.y), NULL); /* read by packing */
    assert_non_null(s);
    assert_memory_equal(sn_variable_value(late.w), e, sizeof(float) * IN_DIM * OUT_DIM);
    assert_int_equal(sn_variable_version(late.w), 1);
    product_check(&late, s);
    sn_session_destroy(s);
    /* set before any read: the value set, version 2 */
    struct product set = product(9);
    float ones[OUT_DIM];
    for (int i = 0; i < OUT_DIM; i++) ones[i] = 1.0f;
    assert_int_equal(sn_variable_assign(set.b, ones, OUT_DIM), SN_OK);
    assert_int_equal(sn_variable_version(set.b), 2);
    assert_memory_equal(sn_variable_value(set.b), ones, sizeof ones);
    sn_graph_destroy(early.g);
    sn_graph_destroy(late.g);
    sn_graph_destroy(set.g);
}

static void test_save_failures(void **state) {
    (void)state;
    char path[512];
    sn_graph *g = model(1, SN_NO_INITIALIZER);

    /* no such directory */
    path_in(path, sizeof path, "no-such-dir/m.safetensors");
    assert_int_equal(sn_graph_save_checkpoint(g, path), SN_ERR_IO);
    assert_int_equal(sn_graph_status(g), SN_ERR_IO);
    assert_non_null(strstr(sn_graph_error(g), "no-such-dir/m.safetensors: cannot create"));
    sn_graph_clear_error(g);

    /* the target is a directory: refused before anything is written */
    path_in(path, sizeof path, "a-directory");
    assert_int_equal(mkdir(path, 0700), 0);
    assert_int_equal(sn_graph_save_checkpoint(g, path), SN_ERR_IO);
    assert_non_null(strstr(sn_graph_error(g), "a-directory: is a directory, not a regular file"));
    assert_int_equal(count_files(tmpdir), 1);
    assert_int_equal(rmdir(path), 0);
    sn_graph_clear_error(g);

    /* sticky: after an error, save and load do nothing */
    assert_null(sn_get_variable(g, "bad name", SN_SHAPE(1), sn_zeros_initializer()));
    sn_status sticky = sn_graph_status(g);
    assert_int_not_equal(sticky, SN_OK);
    path_in(path, sizeof path, "m.safetensors");
    assert_int_equal(sn_graph_save_checkpoint(g, path), sticky);
    assert_int_equal(count_files(tmpdir), 0);
    sn_load_report *report = (sn_load_report *)&report; /* must be reset */
    assert_int_equal(sn_graph_load_checkpoint(g, path, false, &report), sticky);
    assert_null(report);

    assert_int_equal(sn_graph_save_checkpoint(NULL, path), SN_ERR_INVALID_ARGUMENT);
    assert_int_equal(sn_graph_load_checkpoint(NULL, path, false, NULL), SN_ERR_INVALID_ARGUMENT);
    sn_graph_clear_error(g);
    assert_int_equal(sn_graph_save_checkpoint(g, NULL), SN_ERR_INVALID_ARGUMENT);
    sn_graph_clear_error(g);
    assert_int_equal(sn_graph_load_checkpoint(g, NULL, false, NULL), SN_ERR_INVALID_ARGUMENT);
    sn_graph_destroy(g);
}

static void assert_names(const char *const *names, size_t count, const char *const *want,
                         size_t want_count) {
    assert_int_equal(count, want_count);
    for (size_t i = 0; i < count; i++) assert_string_equal(names[i], want[i]);
}

static void test_strict_and_non_strict(void **state) {
    (void)state;
    char path[512];
    path_in(path, sizeof path, "other.safetensors");
    /* the file: a, b, x, y; the graph: a, b, c */
    sn_graph *file = sn_graph_create(&(sn_graph_options){.seed = 3});
    sn_get_variable(file, "a", SN_SHAPE(2), sn_random_uniform_initializer(-1, 1));
    sn_get_variable(file, "x", SN_SHAPE(1), sn_zeros_initializer());
    sn_get_variable(file, "b", SN_SHAPE(2, 2), sn_random_uniform_initializer(-1, 1));
    sn_get_variable(file, "y", SN_SHAPE(1), sn_zeros_initializer());
    assert_int_equal(sn_graph_save_checkpoint(file, path), SN_OK);

    sn_graph *g = sn_graph_create(&(sn_graph_options){.seed = 4});
    sn_variable *a = sn_get_variable(g, "a", SN_SHAPE(2), sn_ones_initializer());
    sn_variable *b = sn_get_variable(g, "b", SN_SHAPE(2, 2), sn_ones_initializer());
    sn_variable *c = sn_get_variable(g, "c", SN_SHAPE(3), sn_ones_initializer());
    assert_int_equal(sn_graph_status(g), SN_OK);

    sn_load_report *report = NULL;
    assert_int_equal(sn_graph_load_checkpoint(g, path, true, &report), SN_ERR_NOT_FOUND);
    assert_int_equal(sn_graph_status(g), SN_ERR_NOT_FOUND);
    const char *message = sn_graph_error(g);
    assert_non_null(strstr(message, "other.safetensors: strict load: "));
    assert_non_null(
        strstr(message, "missing 1 variable (\"c\"); unexpected 2 tensors (\"x\", \"y\")"));
    assert_non_null(report);
    assert_int_equal(report->loaded, 0);
    assert_names(report->missing, report->missing_count, (const char *[]){"c"}, 1);
    assert_names(report->unexpected, report->unexpected_count, (const char *[]){"x", "y"}, 2);
    sn_load_report_free(report);
    /* nothing changed */
    assert_int_equal(sn_variable_version(a), 1);
    assert_int_equal(sn_variable_version(b), 1);
    assert_true(sn_variable_value(a)[0] == 1.0f);

    /* non-strict: what matches is loaded */
    sn_graph_clear_error(g);
    assert_int_equal(sn_graph_load_checkpoint(g, path, false, &report), SN_OK);
    assert_int_equal(report->loaded, 2);
    assert_names(report->missing, report->missing_count, (const char *[]){"c"}, 1);
    assert_names(report->unexpected, report->unexpected_count, (const char *[]){"x", "y"}, 2);
    sn_load_report_free(report);
    sn_load_report_free(NULL);
    assert_memory_equal(sn_variable_value(a), sn_variable_value(sn_graph_find_variable(file, "a")),
                        2 * sizeof(float));
    assert_memory_equal(sn_variable_value(b), sn_variable_value(sn_graph_find_variable(file, "b")),
                        4 * sizeof(float));
    assert_int_equal(sn_variable_version(a), 2);
    assert_int_equal(sn_variable_version(b), 2);
    assert_int_equal(sn_variable_version(c), 1);
    assert_true(sn_variable_value(c)[0] == 1.0f);

    /* many missing names: the message lists five, the report all */
    sn_graph *many = sn_graph_create(NULL);
    for (int i = 0; i < 8; i++) {
        char name[8];
        snprintf(name, sizeof name, "m%d", i);
        sn_get_variable(many, name, SN_SHAPE(1), sn_zeros_initializer());
    }
    assert_int_equal(sn_graph_load_checkpoint(many, path, true, &report), SN_ERR_NOT_FOUND);
    assert_non_null(strstr(sn_graph_error(many),
                           "missing 8 variables (\"m0\", \"m1\", \"m2\", \"m3\", \"m4\", and 3 "
                           "more); unexpected 4 tensors"));
    assert_int_equal(report->missing_count, 8);
    assert_string_equal(report->missing[7], "m7");
    sn_load_report_free(report);

    sn_graph_destroy(many);
    sn_graph_destroy(file);
    sn_graph_destroy(g);
    unlink(path);
}

static void test_shape_mismatch_changes_nothing(void **state) {
    (void)state;
    char path[512];
    path_in(path, sizeof path, "shapes.safetensors");
    sn_graph *file = sn_graph_create(NULL);
    sn_get_variable(file, "a", SN_SHAPE(2, 3), sn_constant_initializer(9.0f));
    sn_get_variable(file, "layer/b", SN_SHAPE(5), sn_constant_initializer(9.0f));
    assert_int_equal(sn_graph_save_checkpoint(file, path), SN_OK);

    sn_graph *g = sn_graph_create(NULL);
    sn_variable *a = sn_get_variable(g, "a", SN_SHAPE(2, 3), sn_ones_initializer());
    sn_variable *b = NULL;
    SN_WITH_VARIABLE_SCOPE(g, "layer")
    b = sn_get_variable(g, "b", SN_SHAPE(4), sn_ones_initializer());
    assert_int_equal(sn_graph_status(g), SN_OK);
    sn_load_report *report = NULL;
    assert_int_equal(sn_graph_load_checkpoint(g, path, false, &report), SN_ERR_SHAPE_MISMATCH);
    assert_int_equal(strncmp(sn_graph_error(g), "checkpoint ", 11), 0);
    assert_non_null(strstr(sn_graph_error(g), "shapes.safetensors: variable layer/b has shape (4), "
                                              "the file's tensor has shape (5)"));
    assert_non_null(report);
    assert_int_equal(report->loaded, 0);
    sn_load_report_free(report);
    /* "a" matched and came first, yet is untouched */
    assert_int_equal(sn_variable_version(a), 1);
    assert_int_equal(sn_variable_version(b), 1);
    for (int i = 0; i < 6; i++) assert_true(sn_variable_value(a)[i] == 1.0f);

    sn_graph_destroy(file);
    sn_graph_destroy(g);
    unlink(path);
}

/* A checkpoint written by another tool in F16 and BF16 loads converted. */
static void test_load_converts_f16_bf16(void **state) {
    (void)state;
    char path[512];
    path_in(path, sizeof path, "half.safetensors");
    const unsigned char data[] = {0x00, 0x3c, 0x01, 0x00, 0x00, 0xfc, 0x00, 0x80,  /* F16 */
                                  0x80, 0x3f, 0x49, 0xc0, 0xc0, 0x7f, 0x01, 0x00}; /* BF16 */
    size_t size;
    unsigned char *bytes =
        st_file("{\"__metadata__\":{\"format\":\"pt\"},"
                "\"h\":{\"dtype\":\"F16\",\"shape\":[2,2],\"data_offsets\":[0,8]},"
                "\"b\":{\"dtype\":\"BF16\",\"shape\":[4],\"data_offsets\":[8,16]}}",
                data, sizeof data, &size);
    write_bytes(path, bytes, size);
    free(bytes);

    sn_graph *g = sn_graph_create(NULL);
    sn_variable *b = sn_get_variable(g, "b", SN_SHAPE(4), sn_zeros_initializer());
    sn_variable *h = sn_get_variable(g, "h", SN_SHAPE(2, 2), sn_zeros_initializer());
    assert_int_equal(sn_graph_load_checkpoint(g, path, true, NULL), SN_OK);
    const uint32_t want_h[4] = {0x3f800000, 0x33800000, 0xff800000, 0x80000000};
    const uint32_t want_b[4] = {0x3f800000, 0xc0490000, 0x7fc00000, 0x00010000};
    for (int i = 0; i < 4; i++) {
        assert_int_equal(bits_of(sn_variable_value(h)[i]), want_h[i]);
        assert_int_equal(bits_of(sn_variable_value(b)[i]), want_b[i]);
    }
    assert_int_equal(sn_variable_version(h), 2);

    /* an unreadable file is reported on the graph, naming the file */
    path_in(path, sizeof path, "half.safetensors");
    bytes =
        st_file(T("h", "{\"dtype\":\"I64\",\"shape\":[],\"data_offsets\":[0,8]}"), NULL, 8, &size);
    write_bytes(path, bytes, size);
    free(bytes);
    sn_load_report *report = (sn_load_report *)&report;
    assert_int_equal(sn_graph_load_checkpoint(g, path, false, &report), SN_ERR_UNSUPPORTED);
    assert_null(report);
    assert_non_null(strstr(sn_graph_error(g), "half.safetensors: tensor \"h\": dtype I64"));
    assert_int_equal(sn_variable_version(h), 2);
    sn_graph_clear_error(g);
    path_in(path, sizeof path, "missing.safetensors");
    assert_int_equal(sn_graph_load_checkpoint(g, path, false, NULL), SN_ERR_IO);
    assert_non_null(strstr(sn_graph_error(g), "missing.safetensors: cannot open"));
    sn_graph_destroy(g);
    path_in(path, sizeof path, "half.safetensors");
    unlink(path);
}

/* ---- out of memory ------------------------------------------------------- */

struct counting {
    long live;       /* allocations not yet freed */
    long calls;      /* allocations asked for */
    long fail_after; /* fail every allocation after this many; -1: never */
};
static struct counting counter;

static bool refuse(void) {
    counter.calls++;
    return counter.fail_after >= 0 && counter.calls > counter.fail_after;
}
static void *count_allocate(void *user, size_t size) {
    (void)user;
    void *p = refuse() ? NULL : malloc(size);
    if (p) counter.live++;
    return p;
}
static void *count_reallocate(void *user, void *ptr, size_t size) {
    (void)user;
    return refuse() ? NULL : realloc(ptr, size);
}
static void count_free(void *user, void *ptr) {
    (void)user;
    counter.live--;
    free(ptr);
}
static void *count_allocate_aligned(void *user, size_t alignment, size_t size) {
    (void)user;
    void *p = NULL;
    if (refuse() || posix_memalign(&p, alignment, size) != 0) return NULL;
    counter.live++;
    return p;
}

/* Runs `call` with every allocation after the first n failing, for n = 0,
 * 1, ... until it succeeds; each failure must be SN_ERR_OUT_OF_MEMORY and
 * free what it made; the success may keep up to `kept` allocations (a load
 * leaves the graph holding the mapped file its variables read: the test's
 * end, which destroys the graphs, finds any leak). Returns the number of
 * allocations of a success. */
static long fail_each_allocation(sn_status (*call)(void *), void *arg, long kept) {
    for (long n = 0;; n++) {
        long live = counter.live;
        counter.calls = 0;
        counter.fail_after = n;
        sn_status status = call(arg);
        counter.fail_after = -1;
        if (counter.live < live || counter.live > live + (status == SN_OK ? kept : 0))
            fail_msg("failing allocation %ld: %ld allocations leaked", n + 1, counter.live - live);
        if (status == SN_OK) return n;
        if (status != SN_ERR_OUT_OF_MEMORY)
            fail_msg("failing allocation %ld: status %d, not out of memory", n + 1, status);
        assert_true(n < 10000);
    }
}

struct oom_case {
    const void *bytes;
    size_t size;
    const char *path;
    sn_graph *graph;
};

static sn_status oom_open_memory(void *arg) {
    struct oom_case *c = arg;
    sn_checkpoint *ck = (sn_checkpoint *)c; /* must be overwritten */
    sn_status status = sn_checkpoint_open_memory(c->bytes, c->size, &ck);
    if (status == SN_ERR_OUT_OF_MEMORY) assert_null(ck);
    if (status == SN_OK) assert_int_equal(sn_checkpoint_tensor_count(ck), 3);
    sn_checkpoint_close(ck);
    return status;
}

static sn_status oom_open_file(void *arg) {
    struct oom_case *c = arg;
    sn_checkpoint *ck = NULL;
    sn_status status = sn_checkpoint_open(c->path, &ck);
    if (status == SN_ERR_OUT_OF_MEMORY) assert_null(ck);
    sn_checkpoint_close(ck);
    return status;
}

static sn_status oom_load(void *arg) {
    struct oom_case *c = arg;
    sn_load_report *report = NULL;
    sn_status status = sn_graph_load_checkpoint(c->graph, c->path, true, &report);
    if (status == SN_OK) {
        assert_int_equal(report->loaded, 3);
    } else {
        assert_int_equal(sn_graph_status(c->graph), status);
        assert_null(report);
        for (size_t i = 0; i < sn_graph_variable_count(c->graph); i++)
            assert_int_equal(sn_variable_version(sn_graph_variable(c->graph, i)), 1);
        sn_graph_clear_error(c->graph);
    }
    sn_load_report_free(report);
    return status;
}

static sn_status oom_save(void *arg) {
    struct oom_case *c = arg;
    sn_status status = sn_graph_save_checkpoint(c->graph, c->path);
    assert_int_equal(count_files(tmpdir), 1); /* the file, never a temporary one */
    sn_graph_clear_error(c->graph);
    return status;
}

static void test_out_of_memory(void **state) {
    (void)state;
    static const sn_allocator counting = {count_allocate,         count_reallocate, count_free,
                                          count_allocate_aligned, count_free,       NULL};
    counter = (struct counting){0, 0, -1};
    assert_int_equal(sn_set_allocator(&counting), SN_OK);
    char path[512];
    path_in(path, sizeof path, "oom.safetensors");
    sn_graph *g = model(5, SN_NO_INITIALIZER);
    assert_int_equal(sn_graph_save_checkpoint(g, path), SN_OK);
    sn_graph *fresh = model(6, sn_zeros_initializer());

    size_t size;
    unsigned char *bytes =
        st_file("{\"__metadata__\":{\"a\":\"b\"},\"x\":{" F32_8 "},"
                "\"y\":{\"dtype\":\"F16\",\"shape\":[],\"data_offsets\":[8,10]},"
                "\"z\":{\"dtype\":\"BF16\",\"shape\":[1],\"data_offsets\":[10,12]}}",
                NULL, 12, &size);
    struct oom_case c = {bytes, size, path, fresh};
    assert_true(fail_each_allocation(oom_open_memory, &c, 0) > 3);
    assert_true(fail_each_allocation(oom_open_file, &c, 0) > 3);
    assert_true(fail_each_allocation(oom_load, &c, 1) > 3);
    c.graph = g;
    assert_true(fail_each_allocation(oom_save, &c, 0) > 0);
    /* a hostile file: the message needs memory too */
    bytes[size - 20] = 'Q';
    c.graph = fresh;
    for (long n = 0; n < 3; n++) {
        sn_checkpoint *ck = NULL;
        counter.calls = 0;
        counter.fail_after = n;
        sn_status status = sn_checkpoint_open_memory(bytes, size, &ck);
        counter.fail_after = -1;
        assert_true(status == SN_ERR_OUT_OF_MEMORY || status == SN_ERR_CORRUPT);
        assert_true(status == SN_ERR_OUT_OF_MEMORY ? ck == NULL : ck != NULL);
        sn_checkpoint_close(ck);
    }
    free(bytes);
    sn_graph_destroy(g);
    sn_graph_destroy(fresh);
    assert_int_equal(counter.live, 0);
    assert_int_equal(sn_set_allocator(NULL), SN_OK);
    unlink(path);
}

/* ---- setup ----------------------------------------------------------------- */

static int make_tmpdir(void **state) {
    (void)state;
    const char *base = getenv("TMPDIR");
    snprintf(tmpdir, sizeof tmpdir, "%s/scopenn-ckpt-XXXXXX", base && *base ? base : "/tmp");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int remove_tmpdir(void **state) {
    (void)state;
    DIR *d = opendir(tmpdir);
    if (!d) return -1;
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
        char path[512];
        path_in(path, sizeof path, e->d_name);
        unlink(path);
    }
    closedir(d);
    return rmdir(tmpdir);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_file_info_find_read),
        cmocka_unit_test(test_null_arguments),
        cmocka_unit_test(test_unaligned_data),
        cmocka_unit_test(test_f16_to_f32),
        cmocka_unit_test(test_bf16_to_f32),
        cmocka_unit_test(test_hostile_headers),
        cmocka_unit_test(test_json_spellings),
        cmocka_unit_test(test_hostile_lengths),
        cmocka_unit_test(test_hostile_sizes),
        cmocka_unit_test(test_open_file_errors),
        cmocka_unit_test(test_special_files),
        cmocka_unit_test(test_messages_name_paths_in_utf8),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_values_read_in_place),
        cmocka_unit_test(test_initial_values_at_first_read),
        cmocka_unit_test(test_save_failures),
        cmocka_unit_test(test_strict_and_non_strict),
        cmocka_unit_test(test_shape_mismatch_changes_nothing),
        cmocka_unit_test(test_load_converts_f16_bf16),
        cmocka_unit_test(test_out_of_memory),
    };
    return cmocka_run_group_tests(tests, make_tmpdir, remove_tmpdir);
}
