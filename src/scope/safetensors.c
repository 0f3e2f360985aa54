/* Reading safetensors files: validation of the header, lazy reads of the
 * tensors, F16 and BF16 to F32 conversion.
 *
 * The layout: an 8-byte little-endian header length N, N bytes of UTF-8 JSON
 * (an object: tensor name -> {"dtype", "shape", "data_offsets": [begin,
 * end]}, plus an optional "__metadata__" object of strings), then the tensor
 * bytes; offsets count from the first byte after the header. Everything is
 * checked at open, so the reads afterwards need no checks beyond their
 * arguments. A lexer checks the header's tokens and its UTF-8, then a small
 * parser builds the tree (why not cJSON: see "the header's tree"). */
#define _FILE_OFFSET_BITS 64 /* files over 2 GiB on 32-bit ARM */

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/alloc.h"
#include "base/text.h"
#include "scope/safetensors.h"
#include "scopenn.h"

/* F32 tensors are copied byte for byte into floats. */
#if !defined(__BYTE_ORDER__) || !defined(__ORDER_LITTLE_ENDIAN__)
#error "scopenn needs __BYTE_ORDER__ (GCC or Clang) to check the byte order"
#elif __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "scopenn reads safetensors (little-endian) on little-endian CPUs only"
#endif

/* The reference implementation refuses headers above 100 MB; so do we. */
#define SN_ST_MAX_HEADER 100000000u
/* Dimensions and offsets must be integers a double holds exactly. */
#define SN_ST_MAX_INTEGER 9007199254740992.0 /* 2^53, excluded */

/* Every dtype safetensors defines, with its size in bits; only the first
 * three are read. */
static const struct st_dtype {
    const char *name;
    unsigned bits;
    sn_dtype dtype; /* SN_DTYPE_UNSPECIFIED: valid, not read by scopenn */
} st_dtypes[] = {
    {"F32", 32, SN_F32},
    {"F16", 16, SN_F16},
    {"BF16", 16, SN_BF16},
    {"F64", 64, SN_DTYPE_UNSPECIFIED},
    {"I64", 64, SN_DTYPE_UNSPECIFIED},
    {"U64", 64, SN_DTYPE_UNSPECIFIED},
    {"I32", 32, SN_DTYPE_UNSPECIFIED},
    {"U32", 32, SN_DTYPE_UNSPECIFIED},
    {"I16", 16, SN_DTYPE_UNSPECIFIED},
    {"U16", 16, SN_DTYPE_UNSPECIFIED},
    {"I8", 8, SN_DTYPE_UNSPECIFIED},
    {"U8", 8, SN_DTYPE_UNSPECIFIED},
    {"BOOL", 8, SN_DTYPE_UNSPECIFIED},
    {"F8_E5M2", 8, SN_DTYPE_UNSPECIFIED},
    {"F8_E4M3", 8, SN_DTYPE_UNSPECIFIED},
    {"F8_E8M0", 8, SN_DTYPE_UNSPECIFIED},
    {"F6_E2M3", 6, SN_DTYPE_UNSPECIFIED},
    {"F6_E3M2", 6, SN_DTYPE_UNSPECIFIED},
    {"F4", 4, SN_DTYPE_UNSPECIFIED},
    {"C64", 64, SN_DTYPE_UNSPECIFIED},
};

struct st_tensor {
    char *name;
    const struct st_dtype *dtype;
    sn_shape shape; /* valid when rank <= SN_MAX_RANK */
    int rank;       /* as in the file; may exceed SN_MAX_RANK */
    int64_t elements;
    uint64_t begin, end; /* bytes, from the start of the tensor data */
};

/* A mapped file, held by its checkpoint and by each variable whose value
 * lies in it (sn_checkpoint_f32_in_file): unmapped by the last release. */
struct sn_mapped_file {
    void *base;
    size_t size;
    atomic_size_t holds;
};

struct sn_checkpoint {
    char *source; /* the path, or "<memory>", for messages */
    char *error;  /* NULL: no error */
    struct sn_mapped_file *map; /* the mapped file, or NULL */
    const unsigned char *data; /* the tensor bytes */
    uint64_t data_size;
    struct st_tensor *tensors; /* header order */
    size_t count;
    struct st_tensor **by_name; /* sorted by name */
};

/* ---- messages ---------------------------------------------------------- */

/* What a file that is not a regular file is; see safetensors.h. */
const char *sn_file_kind(unsigned mode) {
    if (S_ISDIR(mode)) return "a directory";
    if (S_ISFIFO(mode)) return "a FIFO";
    if (S_ISCHR(mode)) return "a character device";
    if (S_ISBLK(mode)) return "a block device";
    if (S_ISSOCK(mode)) return "a socket";
    if (S_ISLNK(mode)) return "a symbolic link";
    return "a special file";
}

/* Sets the checkpoint's message to "checkpoint SOURCE: [tensor "NAME": ]..."
 * and returns `status`; SN_ERR_OUT_OF_MEMORY if the message cannot be
 * stored. `name` may be NULL. */
static sn_status fail(sn_checkpoint *ck, sn_status status, const char *name, const char *format,
                      ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;

static sn_status fail(sn_checkpoint *ck, sn_status status, const char *name, const char *format,
                      ...) {
    char quoted[SN_NAME_BUFFER] = "";
    if (name) sn_append_escaped(quoted, sizeof quoted, name);
    char source[SN_PATH_BUFFER] = "";
    sn_append_escaped(source, sizeof source, ck->source);
    va_list ap;
    va_start(ap, format);
    char detail[4 * SN_NAME_BUFFER + 256];
    vsnprintf(detail, sizeof detail, format, ap);
    va_end(ap);
    size_t size = strlen(source) + strlen(quoted) + strlen(detail) + 32;
    sn_free(ck->error);
    ck->error = sn_malloc(size);
    if (!ck->error) return SN_ERR_OUT_OF_MEMORY;
    snprintf(ck->error, size, "checkpoint %s: %s%s%s%s", source, name ? "tensor \"" : "", quoted,
             name ? "\": " : "", detail);
    return status;
}

/* The shortest "%.*g" that reads back as `v`: "2.5", "1e+300", "-1". */
static void format_number(double v, char *buf, size_t size) {
    for (int precision = 1; precision <= 17; precision++) {
        snprintf(buf, size, "%.*g", precision, v);
        if (strtod(buf, NULL) == v) return;
    }
}

/* "(5, 5, 3, 32)", as sn_shape_format() prints variable shapes; here for any
 * rank, since a file's shapes are checked before they become sn_shapes: past
 * SN_MAX_RANK dimensions (all `dims` holds) it ends with ", ...)". */
static void format_dims(const int64_t *dims, int rank, char *buf, size_t size) {
    size_t n = (size_t)snprintf(buf, size, "(");
    for (int i = 0; i < rank && i < SN_MAX_RANK && n < size; i++)
        n += (size_t)snprintf(buf + n, size - n, "%s%lld", i ? ", " : "", (long long)dims[i]);
    if (n < size) snprintf(buf + n, size - n, "%s)", rank > SN_MAX_RANK ? ", ..." : "");
}

/* ---- the header's tokens ------------------------------------------------- */

/* What the lexer found wrong, if anything. */
struct lex_result {
    const char *problem; /* NULL: the tokens are JSON */
    size_t at;           /* byte offset in the header */
    /* the first string holding an escaped NUL: the raw text between its
     * quotes, and whether it is an object key */
    size_t nul_begin, nul_end;
    int nul_found, nul_is_key;
    size_t values; /* strings, numbers, literals, arrays and objects */
};

static int is_hex(unsigned char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}
static int is_digit(unsigned char c) { return c >= '0' && c <= '9'; }

/* The value of 4 hex digits (checked by the caller). */
static unsigned hex4(const unsigned char *s) {
    unsigned v = 0;
    for (int i = 0; i < 4; i++)
        v = v << 4 | (unsigned)(is_digit(s[i]) ? s[i] - '0' : (s[i] | 0x20) - 'a' + 10);
    return v;
}

/* Whether s[0..n) starts with a \u escape of a UTF-16 low surrogate. */
static int low_surrogate_escape(const unsigned char *s, size_t n) {
    if (n < 6 || s[0] != '\\' || s[1] != 'u') return 0;
    for (int i = 2; i < 6; i++)
        if (!is_hex(s[i])) return 0;
    unsigned v = hex4(s + 2);
    return v >= 0xdc00 && v <= 0xdfff;
}

/* Checks the header's bytes as JSON tokens (strings, numbers, literals,
 * punctuation, whitespace) and UTF-8, leaving the structure to parse_json;
 * counts the values, for parse_json's nodes. */
static void lex_header(const unsigned char *h, size_t n, struct lex_result *r) {
    memset(r, 0, sizeof *r);
    size_t i = 0;
    while (i < n) {
        unsigned char c = h[i];
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '{' || c == '}' || c == '[' ||
            c == ']' || c == ':' || c == ',') {
            r->values += c == '{' || c == '[';
            i++;
        } else if (c == '"') {
            r->values++;
            size_t begin = ++i;
            int has_nul = 0;
            for (;;) {
                if (i >= n) {
                    r->problem = "unterminated string";
                    r->at = begin - 1;
                    return;
                }
                c = h[i];
                if (c == '"') break;
                if (c < 0x20) {
                    r->problem = "control character in a string";
                    r->at = i;
                    return;
                }
                if (c == '\\') {
                    if (i + 1 >= n || !strchr("\"\\/bfnrtu", h[i + 1]) || h[i + 1] == '\0') {
                        r->problem = "invalid escape in a string";
                        r->at = i;
                        return;
                    }
                    if (h[i + 1] == 'u') {
                        if (i + 6 > n || !is_hex(h[i + 2]) || !is_hex(h[i + 3]) ||
                            !is_hex(h[i + 4]) || !is_hex(h[i + 5])) {
                            r->problem = "invalid \\u escape in a string";
                            r->at = i;
                            return;
                        }
                        if (memcmp(h + i + 2, "0000", 4) == 0) has_nul = 1;
                        /* UTF-16 surrogates come in pairs: what a lone one
                         * stands for has no UTF-8 */
                        unsigned unit = hex4(h + i + 2);
                        if (unit >= 0xd800 && unit <= 0xdbff &&
                            low_surrogate_escape(h + i + 6, n - i - 6)) {
                            i += 12;
                        } else if (unit >= 0xd800 && unit <= 0xdfff) {
                            r->problem = "unpaired UTF-16 surrogate in a \\u escape";
                            r->at = i;
                            return;
                        } else {
                            i += 6;
                        }
                    } else {
                        i += 2;
                    }
                    continue;
                }
                size_t len = sn_utf8_length(h + i, n - i);
                if (len == 0) {
                    r->problem = "invalid UTF-8";
                    r->at = i;
                    return;
                }
                i += len;
            }
            if (has_nul && !r->nul_found) {
                r->nul_found = 1;
                r->nul_begin = begin;
                r->nul_end = i;
                size_t j = i + 1;
                while (j < n && (h[j] == ' ' || h[j] == '\t' || h[j] == '\n' || h[j] == '\r')) j++;
                r->nul_is_key = j < n && h[j] == ':';
            }
            i++; /* the closing quote */
        } else if (c == '-' || is_digit(c)) {
            /* -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
            r->values++;
            size_t begin = i;
            if (h[i] == '-') i++;
            if (i < n && h[i] == '0') {
                i++;
            } else if (i < n && is_digit(h[i])) {
                while (i < n && is_digit(h[i])) i++;
            } else {
                r->problem = "invalid number";
                r->at = begin;
                return;
            }
            if (i < n && h[i] == '.') {
                if (++i >= n || !is_digit(h[i])) {
                    r->problem = "invalid number";
                    r->at = begin;
                    return;
                }
                while (i < n && is_digit(h[i])) i++;
            }
            if (i < n && (h[i] == 'e' || h[i] == 'E')) {
                i++;
                if (i < n && (h[i] == '+' || h[i] == '-')) i++;
                if (i >= n || !is_digit(h[i])) {
                    r->problem = "invalid number";
                    r->at = begin;
                    return;
                }
                while (i < n && is_digit(h[i])) i++;
            }
            if (i < n && (is_digit(h[i]) || h[i] == '.' || h[i] == '+' || h[i] == '-' ||
                          h[i] == 'e' || h[i] == 'E')) {
                r->problem = "invalid number";
                r->at = begin;
                return;
            }
        } else if (n - i >= 4 && (memcmp(h + i, "true", 4) == 0 || memcmp(h + i, "null", 4) == 0)) {
            r->values++;
            i += 4;
        } else if (n - i >= 5 && memcmp(h + i, "false", 5) == 0) {
            r->values++;
            i += 5;
        } else {
            r->problem = c >= 0x80 && sn_utf8_length(h + i, n - i) == 0 ? "invalid UTF-8"
                                                                        : "unexpected character";
            r->at = i;
            return;
        }
    }
}

/* ---- the header's tree ----------------------------------------------------- */

/* The header as a tree, parsed here rather than by cJSON: cJSON allocates
 * through process-wide hooks (cJSON_InitHooks) that scopenn cannot point
 * at sn_set_allocator's allocator without taking them from a host program
 * that uses cJSON itself (its objects would then be freed by the wrong
 * allocator, and the hooks cannot be read back to restore them), and it
 * reports a failed allocation as a parse error. All nodes are one
 * allocation, sized by the lexer's count of values; strings are unescaped
 * in place in the header's copy. */
enum json_type { JSON_NULL, JSON_BOOL, JSON_NUMBER, JSON_STRING, JSON_ARRAY, JSON_OBJECT };

struct json {
    enum json_type type;
    const char *key;    /* a member of an object: its name */
    const char *string; /* JSON_STRING */
    double number;      /* JSON_NUMBER */
    size_t count;       /* arrays and objects: their members */
    struct json *child, *next, *last, *parent;
};

/* Deeper nesting is refused, as cJSON refused it; a valid header is 3
 * deep. */
#define SN_ST_MAX_DEPTH 1000

static size_t skip_space(const char *s, size_t n, size_t i) {
    while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r')) i++;
    return i;
}

/* Unescapes the string whose opening quote is at s[*at], in place (an
 * escape is never shorter than what it stands for), terminates it with NUL
 * where its closing quote was at the latest, and moves *at past it. The
 * lexer has checked the escapes and that surrogates are paired. */
static const char *unescape(char *s, size_t *at) {
    size_t i = *at + 1;
    char *begin = s + i, *w = begin;
    while (s[i] != '"') {
        if (s[i] != '\\') {
            *w++ = s[i++];
            continue;
        }
        char e = s[i + 1];
        i += 2;
        if (e != 'u') {
            *w++ = e == 'b'   ? '\b'
                   : e == 'f' ? '\f'
                   : e == 'n' ? '\n'
                   : e == 'r' ? '\r'
                   : e == 't' ? '\t'
                              : e;
            continue;
        }
        uint32_t cp = hex4((const unsigned char *)s + i);
        i += 4;
        if (cp >= 0xd800 && cp <= 0xdbff) { /* the lexer saw its low half */
            cp =
                0x10000 + ((cp - 0xd800) << 10) + (hex4((const unsigned char *)s + i + 2) - 0xdc00);
            i += 6;
        }
        if (cp < 0x80) {
            *w++ = (char)cp;
        } else if (cp < 0x800) {
            *w++ = (char)(0xc0 | cp >> 6);
            *w++ = (char)(0x80 | (cp & 0x3f));
        } else if (cp < 0x10000) {
            *w++ = (char)(0xe0 | cp >> 12);
            *w++ = (char)(0x80 | (cp >> 6 & 0x3f));
            *w++ = (char)(0x80 | (cp & 0x3f));
        } else {
            *w++ = (char)(0xf0 | cp >> 18);
            *w++ = (char)(0x80 | (cp >> 12 & 0x3f));
            *w++ = (char)(0x80 | (cp >> 6 & 0x3f));
            *w++ = (char)(0x80 | (cp & 0x3f));
        }
    }
    *w = '\0';
    *at = i + 1;
    return begin;
}

/* The double nearest a JSON number (checked by the lexer) of s[0..n),
 * without the locale: strtod reads a decimal point as LC_NUMERIC says, so
 * the number is handed over as "[-]DIGITSeEXPONENT", its first 40
 * significant digits (more than a double holds) and no point. */
static double number_value(const char *s, size_t n) {
    char buf[64];
    size_t k = 0, i = 0;
    long exponent = 0; /* of the digits kept, as an integer */
    int digits = 0, fraction = 0;
    if (s[i] == '-') buf[k++] = s[i++];
    for (; i < n && (is_digit((unsigned char)s[i]) || s[i] == '.'); i++) {
        if (s[i] == '.') {
            fraction = 1;
            continue;
        }
        if (digits == 0 && s[i] == '0') { /* a leading zero */
            exponent -= fraction;
        } else if (digits < 40) {
            buf[k++] = s[i];
            digits++;
            exponent -= fraction;
        } else {
            exponent += !fraction; /* a digit dropped from the integer part */
        }
    }
    if (i < n) { /* the exponent, saturated: beyond it the double is 0 or inf */
        i++;
        int negative = s[i] == '-';
        if (s[i] == '-' || s[i] == '+') i++;
        long e = 0;
        for (; i < n; i++) e = e < 100000 ? e * 10 + (s[i] - '0') : e;
        exponent += negative ? -e : e;
    }
    if (digits == 0) buf[k++] = '0';
    snprintf(buf + k, sizeof buf - k, "e%ld", exponent);
    return strtod(buf, NULL);
}

/* Reads a member's name and its colon at s[*at]; false with *problem set
 * if they are not there. */
static int read_key(char *s, size_t n, size_t *at, const char **key, const char **problem) {
    if (*at >= n || s[*at] != '"') {
        *problem = "expected a name in quotes";
        return 0;
    }
    *key = unescape(s, at);
    *at = skip_space(s, n, *at);
    if (*at >= n || s[*at] != ':') {
        *problem = "expected ':'";
        return 0;
    }
    *at = skip_space(s, n, *at + 1);
    return 1;
}

/* Parses the lexed JSON text s[0..n) into `nodes` (as many as the lexer
 * counted values), without recursion. Returns the root, with *end the
 * offset past it and its trailing spaces; or NULL, with *problem and *end
 * saying what is wrong where. */
static struct json *parse_json(char *s, size_t n, struct json *nodes, const char **problem,
                               size_t *end) {
    size_t i = skip_space(s, n, 0), used = 0;
    struct json *root = NULL, *parent = NULL;
    const char *key = NULL;
    int depth = 0;
    for (;;) {
        /* a value */
        if (i >= n) {
            *problem = "unexpected end";
            goto error;
        }
        char c = s[i];
        if (c != '{' && c != '[' && c != '"' && c != 't' && c != 'f' && c != 'n' && c != '-' &&
            !is_digit((unsigned char)c)) {
            *problem = "expected a value";
            goto error;
        }
        struct json *v = &nodes[used++];
        *v = (struct json){.key = key, .parent = parent};
        key = NULL;
        if (!parent)
            root = v;
        else {
            *(parent->last ? &parent->last->next : &parent->child) = v;
            parent->last = v;
            parent->count++;
        }
        if (c == '{' || c == '[') {
            v->type = c == '{' ? JSON_OBJECT : JSON_ARRAY;
            if (++depth > SN_ST_MAX_DEPTH) {
                *problem = "nested more than 1000 deep";
                goto error;
            }
            i = skip_space(s, n, i + 1);
            if (i < n && s[i] == (c == '{' ? '}' : ']')) { /* empty */
                depth--;
                i++;
            } else {
                parent = v;
                if (c == '{' && !read_key(s, n, &i, &key, problem)) goto error;
                continue;
            }
        } else if (c == '"') {
            v->type = JSON_STRING;
            v->string = unescape(s, &i);
        } else if (c == 't' || c == 'f' || c == 'n') { /* the lexer saw the whole word */
            v->type = c == 'n' ? JSON_NULL : JSON_BOOL;
            i += c == 'f' ? 5 : 4;
        } else {
            size_t begin = i;
            while (i < n && (is_digit((unsigned char)s[i]) || s[i] == '+' || s[i] == '-' ||
                             s[i] == '.' || s[i] == 'e' || s[i] == 'E'))
                i++;
            v->type = JSON_NUMBER;
            v->number = number_value(s + begin, i - begin);
        }
        /* after a value: the containers it closes, then a comma or the end */
        for (;;) {
            i = skip_space(s, n, i);
            if (!parent) {
                *end = i;
                return root;
            }
            char close = parent->type == JSON_OBJECT ? '}' : ']';
            if (i < n && s[i] == close) {
                depth--;
                i++;
                parent = parent->parent;
                continue;
            }
            if (i >= n || s[i] != ',') {
                *problem = i >= n                        ? "unexpected end"
                           : parent->type == JSON_OBJECT ? "expected ',' or '}'"
                                                         : "expected ',' or ']'";
                goto error;
            }
            i = skip_space(s, n, i + 1);
            if (parent->type == JSON_OBJECT && !read_key(s, n, &i, &key, problem)) goto error;
            break;
        }
    }
error:
    *end = i;
    return NULL;
}

/* ---- entries --------------------------------------------------------------- */

/* Reads a non-negative integer below 2^53 from `item`; on failure describes
 * the problem in `why` ("is negative", ...) and returns 0. */
static int read_integer(const struct json *item, uint64_t *value, const char **why) {
    if (item->type != JSON_NUMBER) {
        *why = "is not a number";
        return 0;
    }
    double v = item->number;
    if (v < 0) {
        *why = "is negative";
        return 0;
    }
    if (v >= SN_ST_MAX_INTEGER) {
        *why = "is too large";
        return 0;
    }
    if (floor(v) != v) {
        *why = "is not an integer";
        return 0;
    }
    *value = (uint64_t)v;
    return 1;
}

/* The text of a JSON number, or of a non-number's type, for messages. */
static void describe_item(const struct json *item, char *buf, size_t size) {
    switch (item->type) {
    case JSON_NUMBER: format_number(item->number, buf, size); break;
    case JSON_STRING: snprintf(buf, size, "a string"); break;
    case JSON_ARRAY: snprintf(buf, size, "an array"); break;
    case JSON_OBJECT: snprintf(buf, size, "an object"); break;
    case JSON_BOOL: snprintf(buf, size, "a boolean"); break;
    case JSON_NULL: snprintf(buf, size, "null"); break;
    }
}

/* Validates one tensor entry and fills *t (but not t->name). `unsupported`
 * is set when the entry is valid but scopenn cannot read it. */
static sn_status parse_entry(sn_checkpoint *ck, const char *name, const struct json *entry,
                             struct st_tensor *t, int *unsupported) {
    if (entry->type != JSON_OBJECT) return fail(ck, SN_ERR_CORRUPT, name, "entry is not an object");
    const struct json *dtype = NULL, *shape = NULL, *offsets = NULL;
    for (const struct json *field = entry->child; field; field = field->next) {
        const struct json **slot = strcmp(field->key, "dtype") == 0          ? &dtype
                                   : strcmp(field->key, "shape") == 0        ? &shape
                                   : strcmp(field->key, "data_offsets") == 0 ? &offsets
                                                                             : NULL;
        if (!slot) {
            char field_name[SN_NAME_BUFFER] = "";
            sn_append_escaped(field_name, sizeof field_name, field->key);
            return fail(ck, SN_ERR_CORRUPT, name,
                        "unknown field \"%s\" (expected dtype, shape, data_offsets)", field_name);
        }
        if (*slot) return fail(ck, SN_ERR_CORRUPT, name, "field \"%s\" twice", field->key);
        *slot = field;
    }
    if (!dtype) return fail(ck, SN_ERR_CORRUPT, name, "missing \"dtype\"");
    if (!shape) return fail(ck, SN_ERR_CORRUPT, name, "missing \"shape\"");
    if (!offsets) return fail(ck, SN_ERR_CORRUPT, name, "missing \"data_offsets\"");

    /* dtype */
    if (dtype->type != JSON_STRING)
        return fail(ck, SN_ERR_CORRUPT, name, "\"dtype\" is not a string");
    t->dtype = NULL;
    for (size_t i = 0; i < sizeof st_dtypes / sizeof st_dtypes[0]; i++)
        if (strcmp(dtype->string, st_dtypes[i].name) == 0) t->dtype = &st_dtypes[i];
    if (!t->dtype) {
        char dtype_name[SN_NAME_BUFFER] = "";
        sn_append_escaped(dtype_name, sizeof dtype_name, dtype->string);
        return fail(ck, SN_ERR_CORRUPT, name, "unknown dtype \"%s\"", dtype_name);
    }

    /* shape: dims checked one by one, then their product */
    if (shape->type != JSON_ARRAY)
        return fail(ck, SN_ERR_CORRUPT, name, "\"shape\" is not an array");
    int64_t dims[SN_MAX_RANK];
    int rank = 0, zero = 0;
    uint64_t elements = 1, product_overflow = 0;
    for (const struct json *d = shape->child; d; d = d->next) {
        uint64_t v;
        const char *why;
        if (!read_integer(d, &v, &why)) {
            char text[40];
            describe_item(d, text, sizeof text);
            return fail(ck, SN_ERR_CORRUPT, name, "dimension %d (%s) %s", rank, text, why);
        }
        if (rank < SN_MAX_RANK) dims[rank] = (int64_t)v;
        rank++; /* at most a few million: the header is at most 100 MB */
        if (v == 0)
            zero = 1;
        else if (elements > INT64_MAX / v)
            product_overflow = 1;
        else
            elements *= v;
    }
    t->rank = rank;
    if (zero)
        elements = 0;
    else if (product_overflow) {
        char text[256];
        format_dims(dims, rank, text, sizeof text);
        return fail(ck, SN_ERR_CORRUPT, name, "shape %s has more than 2^63 - 1 elements", text);
    }
    t->elements = (int64_t)elements;
    if (rank <= SN_MAX_RANK) {
        t->shape.rank = rank;
        memcpy(t->shape.dims, dims, sizeof(int64_t) * (size_t)rank);
    }

    /* data_offsets */
    if (offsets->type != JSON_ARRAY)
        return fail(ck, SN_ERR_CORRUPT, name, "\"data_offsets\" is not an array");
    if (offsets->count != 2)
        return fail(ck, SN_ERR_CORRUPT, name,
                    "\"data_offsets\" has %zu elements; expected [begin, end]", offsets->count);
    const struct json *items[2] = {offsets->child, offsets->child->next};
    uint64_t range[2];
    for (int i = 0; i < 2; i++) {
        const char *why;
        if (!read_integer(items[i], &range[i], &why)) {
            char text[40];
            describe_item(items[i], text, sizeof text);
            return fail(ck, SN_ERR_CORRUPT, name, "data_offsets %s (%s) %s",
                        i == 0 ? "begin" : "end", text, why);
        }
    }
    t->begin = range[0], t->end = range[1];
    if (t->begin > t->end)
        return fail(ck, SN_ERR_CORRUPT, name, "data_offsets [%llu, %llu]: begin is after end",
                    (unsigned long long)t->begin, (unsigned long long)t->end);
    if (t->end > ck->data_size)
        return fail(ck, SN_ERR_CORRUPT, name,
                    "data_offsets [%llu, %llu] end past the %llu bytes of tensor data",
                    (unsigned long long)t->begin, (unsigned long long)t->end,
                    (unsigned long long)ck->data_size);

    /* the size must be what the shape and dtype say */
    char shape_text[256];
    format_dims(dims, rank, shape_text, sizeof shape_text);
    uint64_t bits = elements * t->dtype->bits;
    if (elements != 0 && bits / elements != t->dtype->bits)
        return fail(ck, SN_ERR_CORRUPT, name, "shape %s x %s overflows 64 bits", shape_text,
                    t->dtype->name);
    if (bits % 8 != 0)
        return fail(ck, SN_ERR_CORRUPT, name, "shape %s x %s is not a whole number of bytes",
                    shape_text, t->dtype->name);
    if (t->end - t->begin != bits / 8)
        return fail(ck, SN_ERR_CORRUPT, name,
                    "data_offsets [%llu, %llu] do not match shape %s x %s = %llu bytes",
                    (unsigned long long)t->begin, (unsigned long long)t->end, shape_text,
                    t->dtype->name, (unsigned long long)(bits / 8));

    *unsupported = t->dtype->dtype == SN_DTYPE_UNSPECIFIED || rank > SN_MAX_RANK;
    return SN_OK;
}

static int by_name(const struct st_tensor *x, const struct st_tensor *y) {
    return strcmp(x->name, y->name);
}

static int by_offset(const struct st_tensor *x, const struct st_tensor *y) {
    if (x->begin != y->begin) return x->begin < y->begin ? -1 : 1;
    if (x->end != y->end) return x->end < y->end ? -1 : 1;
    return 0;
}

typedef int (*tensor_order)(const struct st_tensor *, const struct st_tensor *);

static void sift_down(struct st_tensor **a, size_t root, size_t n, tensor_order compare) {
    for (;;) {
        size_t child = 2 * root + 1;
        if (child >= n) return;
        if (child + 1 < n && compare(a[child], a[child + 1]) < 0) child++;
        if (compare(a[root], a[child]) >= 0) return;
        struct st_tensor *t = a[root];
        a[root] = a[child];
        a[child] = t;
        root = child;
    }
}

/* Sorts a[0..n) by `compare`, in place. Not qsort: glibc's allocates its
 * merge buffer with malloc (for arrays over 1 KiB), out of the allocator
 * hook's sight. A heapsort allocates nothing and needs no recursion. */
static void sort_tensors(struct st_tensor **a, size_t n, tensor_order compare) {
    for (size_t root = n / 2; root-- > 0;) sift_down(a, root, n, compare);
    for (size_t end = n; end-- > 1;) {
        struct st_tensor *t = a[0];
        a[0] = a[end];
        a[end] = t;
        sift_down(a, 0, end, compare);
    }
}

/* Checks a "__metadata__" entry: an object whose values are strings. */
static sn_status check_metadata(sn_checkpoint *ck, const struct json *metadata) {
    if (metadata->type != JSON_OBJECT)
        return fail(ck, SN_ERR_CORRUPT, NULL, "header: \"__metadata__\" is not an object");
    for (const struct json *m = metadata->child; m; m = m->next)
        if (m->type != JSON_STRING) {
            char key[SN_NAME_BUFFER] = "";
            sn_append_escaped(key, sizeof key, m->key);
            return fail(ck, SN_ERR_CORRUPT, NULL,
                        "header: \"__metadata__\" value \"%s\" is not a string", key);
        }
    return SN_OK;
}

/* Validates the whole file (`bytes`, `size`) and fills ck's tensor table.
 * On failure the table is left for the caller to free. */
static sn_status parse(sn_checkpoint *ck, const unsigned char *bytes, size_t size) {
    sn_status status = SN_OK;
    char *text = NULL;
    struct json *nodes = NULL;
    struct st_tensor **order = NULL;

    if (size < 8) {
        status = fail(ck, SN_ERR_CORRUPT, NULL,
                      "file is %zu bytes, too short for the 8-byte header length", size);
        goto error;
    }
    uint64_t header_size = 0;
    for (int i = 7; i >= 0; i--) header_size = header_size << 8 | bytes[i];
    if (header_size > SN_ST_MAX_HEADER) {
        status = fail(ck, SN_ERR_CORRUPT, NULL, "header length %llu is over the limit of %u bytes",
                      (unsigned long long)header_size, SN_ST_MAX_HEADER);
        goto error;
    }
    if (header_size > size - 8) {
        status = fail(ck, SN_ERR_CORRUPT, NULL,
                      "header length %llu is past the end of the file (%zu bytes after it)",
                      (unsigned long long)header_size, size - 8);
        goto error;
    }
    const unsigned char *header = bytes + 8;
    size_t n = (size_t)header_size;
    ck->data = header + n;
    ck->data_size = size - 8 - n;

    struct lex_result lex;
    lex_header(header, n, &lex);
    if (lex.problem) {
        status = fail(ck, SN_ERR_CORRUPT, NULL, "header is not JSON: %s at byte %zu", lex.problem,
                      lex.at);
        goto error;
    }
    /* A copy, since the strings are unescaped in place and the mapped file
     * is read-only. */
    text = sn_malloc(n + 1);
    nodes = sn_calloc(lex.values ? lex.values : 1, sizeof *nodes);
    if (!text || !nodes) {
        status = SN_ERR_OUT_OF_MEMORY;
        goto error;
    }
    memcpy(text, header, n);
    text[n] = '\0';
    const char *problem = NULL;
    size_t end = 0;
    const struct json *root = parse_json(text, n, nodes, &problem, &end);
    if (!root) {
        status = fail(ck, SN_ERR_CORRUPT, NULL, "header is not JSON: %s at byte %zu", problem, end);
        goto error;
    }
    if (end < n) {
        status = fail(ck, SN_ERR_CORRUPT, NULL,
                      "header is not JSON: text after the object at byte %zu", end);
        goto error;
    }
    if (root->type != JSON_OBJECT) {
        status = fail(ck, SN_ERR_CORRUPT, NULL, "header is not a JSON object");
        goto error;
    }
    if (lex.nul_found) {
        /* the string as written, cut on a UTF-8 boundary */
        size_t len = lex.nul_end - lex.nul_begin;
        if (len > SN_NAME_BUFFER - 8) len = SN_NAME_BUFFER - 8;
        while ((header[lex.nul_begin + len] & 0xc0) == 0x80) len--;
        status = fail(ck, SN_ERR_CORRUPT, NULL, "%s \"%.*s%s\" contains NUL (\\u0000)",
                      lex.nul_is_key ? "tensor name" : "header string", (int)len,
                      (const char *)header + lex.nul_begin,
                      lex.nul_end - lex.nul_begin > len ? "..." : "");
        goto error;
    }

    size_t entries = root->count;
    ck->tensors = sn_calloc(entries, sizeof *ck->tensors);
    order = sn_malloc(sizeof *order * (entries ? entries : 1));
    if (!ck->tensors || !order) {
        status = SN_ERR_OUT_OF_MEMORY;
        goto error;
    }
    int metadata_seen = 0;
    size_t unsupported = SIZE_MAX;
    for (const struct json *e = root->child; e; e = e->next) {
        if (strcmp(e->key, "__metadata__") == 0) {
            if (metadata_seen++) {
                status = fail(ck, SN_ERR_CORRUPT, NULL, "header: \"__metadata__\" twice");
                goto error;
            }
            if ((status = check_metadata(ck, e)) != SN_OK) goto error;
            continue;
        }
        if (e->key[0] == '\0') {
            status = fail(ck, SN_ERR_CORRUPT, "", "empty name");
            goto error;
        }
        struct st_tensor *t = &ck->tensors[ck->count];
        int is_unsupported = 0;
        if ((status = parse_entry(ck, e->key, e, t, &is_unsupported)) != SN_OK) goto error;
        if (!(t->name = sn_strdup(e->key))) {
            status = SN_ERR_OUT_OF_MEMORY;
            goto error;
        }
        if (is_unsupported && unsupported == SIZE_MAX) unsupported = ck->count;
        ck->count++;
    }

    /* duplicate names (the tree keeps every copy) */
    ck->by_name = sn_malloc(sizeof *ck->by_name * (ck->count ? ck->count : 1));
    if (!ck->by_name) {
        status = SN_ERR_OUT_OF_MEMORY;
        goto error;
    }
    for (size_t i = 0; i < ck->count; i++) ck->by_name[i] = order[i] = &ck->tensors[i];
    sort_tensors(ck->by_name, ck->count, by_name);
    for (size_t i = 1; i < ck->count; i++) {
        const char *name = ck->by_name[i]->name;
        if (strcmp(ck->by_name[i - 1]->name, name) == 0) {
            status = fail(ck, SN_ERR_CORRUPT, name, "duplicate name");
            goto error;
        }
    }

    /* overlapping data (empty tensors occupy no bytes) */
    sort_tensors(order, ck->count, by_offset);
    const struct st_tensor *last = NULL;
    for (size_t i = 0; i < ck->count; i++) {
        const struct st_tensor *t = order[i];
        if (t->begin == t->end) continue;
        if (last && t->begin < last->end) {
            char other[SN_NAME_BUFFER] = "";
            sn_append_escaped(other, sizeof other, last->name);
            status = fail(ck, SN_ERR_CORRUPT, t->name,
                          "data_offsets [%llu, %llu] overlap those of tensor \"%s\" [%llu, %llu]",
                          (unsigned long long)t->begin, (unsigned long long)t->end, other,
                          (unsigned long long)last->begin, (unsigned long long)last->end);
            goto error;
        }
        if (!last || t->end > last->end) last = t;
    }

    if (unsupported != SIZE_MAX) {
        const struct st_tensor *t = &ck->tensors[unsupported];
        if (t->dtype->dtype == SN_DTYPE_UNSPECIFIED)
            status =
                fail(ck, SN_ERR_UNSUPPORTED, t->name,
                     "dtype %s is not supported (scopenn reads F32, F16 and BF16)", t->dtype->name);
        else
            status = fail(ck, SN_ERR_UNSUPPORTED, t->name,
                          "rank %d is not supported (scopenn reads at most %d dimensions)", t->rank,
                          SN_MAX_RANK);
        goto error;
    }

error:
    sn_free(order);
    sn_free(nodes);
    sn_free(text);
    return status;
}

/* ---- handles ----------------------------------------------------------------- */

static void release_tensors(sn_checkpoint *ck) {
    for (size_t i = 0; i < ck->count; i++) sn_free(ck->tensors[i].name);
    sn_free(ck->tensors);
    sn_free(ck->by_name);
    ck->tensors = NULL;
    ck->by_name = NULL;
    ck->count = 0;
    sn_mapped_file_release(ck->map);
    ck->map = NULL;
    ck->data = NULL;
    ck->data_size = 0;
}

static sn_checkpoint *new_checkpoint(const char *source) {
    sn_checkpoint *ck = sn_calloc(1, sizeof *ck);
    if (!ck) return NULL;
    ck->source = sn_strdup(source);
    if (!ck->source) {
        sn_free(ck);
        return NULL;
    }
    return ck;
}

/* Ends an open: on failure the handle keeps only its message (or, when out
 * of memory, is freed and *out set to NULL, as the contract says). */
static sn_status finish_open(sn_checkpoint *ck, sn_status status, sn_checkpoint **out) {
    if (ck && status != SN_OK) release_tensors(ck);
    if (status == SN_ERR_OUT_OF_MEMORY) {
        sn_checkpoint_close(ck);
        ck = NULL;
    }
    *out = ck;
    return status;
}

/* Opens, checks and maps the file at `path`; the contract is in scopenn.h. */
sn_status sn_checkpoint_open(const char *path, sn_checkpoint **checkpoint) {
    if (!checkpoint) return SN_ERR_INVALID_ARGUMENT;
    sn_checkpoint *ck = new_checkpoint(path ? path : "(null)");
    if (!ck) return finish_open(NULL, SN_ERR_OUT_OF_MEMORY, checkpoint);
    sn_status status = SN_OK;
    int fd = -1;
    if (!path) {
        status = fail(ck, SN_ERR_INVALID_ARGUMENT, NULL, "the path is NULL");
        goto error;
    }
    /* O_NONBLOCK: without it, opening a FIFO waits for a writer (forever)
     * and a device's open may wait too, before fstat could refuse them; on
     * a regular file it changes nothing (mmap and reads never block). */
    fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    if (fd < 0) {
        status = fail(ck, SN_ERR_IO, NULL, "cannot open: %s", strerror(errno));
        goto error;
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        status = fail(ck, SN_ERR_IO, NULL, "cannot stat: %s", strerror(errno));
        goto error;
    }
    if (!S_ISREG(st.st_mode)) {
        status = fail(ck, SN_ERR_IO, NULL, "is %s, not a regular file", sn_file_kind(st.st_mode));
        goto error;
    }
    if ((uint64_t)st.st_size > SIZE_MAX) {
        status = fail(ck, SN_ERR_IO, NULL, "%lld bytes is too large to map on this system",
                      (long long)st.st_size);
        goto error;
    }
    size_t size = (size_t)st.st_size;
    if (size < 8) { /* mmap refuses 0 bytes; parse() says what is wrong */
        status = parse(ck, (const unsigned char *)"", size);
        goto error;
    }
    if (!(ck->map = sn_malloc(sizeof *ck->map))) {
        status = SN_ERR_OUT_OF_MEMORY;
        goto error;
    }
    void *map = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (map == MAP_FAILED) {
        sn_free(ck->map);
        ck->map = NULL;
        status = fail(ck, SN_ERR_IO, NULL, "cannot map: %s", strerror(errno));
        goto error;
    }
    ck->map->base = map;
    ck->map->size = (size_t)size;
    atomic_init(&ck->map->holds, 1);
    status = parse(ck, map, size);

error:
    if (fd >= 0) close(fd);
    return finish_open(ck, status, checkpoint);
}

/* Checks a file held in memory; the contract is in scopenn.h. */
sn_status sn_checkpoint_open_memory(const void *data, size_t size, sn_checkpoint **checkpoint) {
    if (!checkpoint) return SN_ERR_INVALID_ARGUMENT;
    sn_checkpoint *ck = new_checkpoint("<memory>");
    if (!ck) return finish_open(NULL, SN_ERR_OUT_OF_MEMORY, checkpoint);
    sn_status status = data ? parse(ck, data, size)
                            : fail(ck, SN_ERR_INVALID_ARGUMENT, NULL, "the data pointer is NULL");
    return finish_open(ck, status, checkpoint);
}

/* The open's message; "out of memory" for NULL, as sqlite3_errmsg(NULL). */
const char *sn_checkpoint_error(const sn_checkpoint *checkpoint) {
    if (!checkpoint) return "out of memory";
    return checkpoint->error ? checkpoint->error : "";
}

/* Frees everything the handle owns and unmaps the file. */
void sn_checkpoint_close(sn_checkpoint *checkpoint) {
    if (!checkpoint) return;
    release_tensors(checkpoint);
    sn_free(checkpoint->error);
    sn_free(checkpoint->source);
    sn_free(checkpoint);
}

/* 0 for NULL and for a handle whose open failed. */
size_t sn_checkpoint_tensor_count(const sn_checkpoint *checkpoint) {
    return checkpoint ? checkpoint->count : 0;
}

/* Describes tensor `index`; the name stays owned by the checkpoint. */
sn_status sn_checkpoint_tensor_info(const sn_checkpoint *checkpoint, size_t index,
                                    sn_checkpoint_tensor *info) {
    if (!checkpoint || !info) return SN_ERR_INVALID_ARGUMENT;
    if (index >= checkpoint->count) return SN_ERR_NOT_FOUND;
    const struct st_tensor *t = &checkpoint->tensors[index];
    info->name = t->name;
    info->dtype = t->dtype->dtype;
    info->shape = t->shape;
    info->nbytes = t->end - t->begin;
    return SN_OK;
}

/* Binary search of the names sorted at open. */
int64_t sn_checkpoint_find(const sn_checkpoint *checkpoint, const char *name) {
    if (!checkpoint || !name) return -1;
    size_t lo = 0, hi = checkpoint->count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const struct st_tensor *t = checkpoint->by_name[mid];
        int c = strcmp(name, t->name);
        if (c == 0) return (int64_t)(t - checkpoint->tensors);
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return -1;
}

/* ---- conversion ------------------------------------------------------------ */

/* IEEE binary16 to binary32 bits, exactly: subnormals become normals,
 * infinities stay, NaNs keep their sign and payload (shifted, so a signaling
 * NaN stays signaling). Works on bits, so no FPU conversion can quiet it. */
static uint32_t f16_to_f32_bits(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    uint32_t exponent = (h >> 10) & 0x1fu;
    uint32_t mantissa = h & 0x3ffu;
    if (exponent == 0x1f) return sign | 0x7f800000u | mantissa << 13;
    if (exponent != 0) return sign | (exponent + 112) << 23 | mantissa << 13;
    if (mantissa == 0) return sign;
    /* subnormal: mantissa x 2^-24; shift its leading 1 into bit 10 */
    uint32_t shift = 0;
    while (!(mantissa & 0x400u)) mantissa <<= 1, shift++;
    return sign | (113 - shift) << 23 | (mantissa & 0x3ffu) << 13;
}

void sn_mapped_file_release(struct sn_mapped_file *m) {
    if (!m || atomic_fetch_sub(&m->holds, 1) != 1) return;
    munmap(m->base, m->size);
    sn_free(m);
}

const float *sn_checkpoint_f32_in_file(const sn_checkpoint *ck, size_t index,
                                       struct sn_mapped_file **file) {
    *file = NULL;
    if (!ck || !ck->map || index >= ck->count) return NULL;
    const struct st_tensor *t = &ck->tensors[index];
    const unsigned char *data = ck->data + t->begin,
                        *base = (const unsigned char *)ck->map->base;
    const long page = sysconf(_SC_PAGESIZE);
    if (t->dtype->dtype != SN_F32 || t->elements == 0 || page <= 0 || (uintptr_t)data % 64)
        return NULL;
    /* the whole cache lines, up to where the last page of the map ends */
    const size_t lines = (t->end - t->begin + 63) / 64 * 64,
                 pages = (ck->map->size + (size_t)page - 1) / (size_t)page * (size_t)page;
    if ((size_t)(data - base) + lines > pages) return NULL;
    atomic_fetch_add(&ck->map->holds, 1);
    *file = ck->map;
    return (const float *)data;
}

void sn_mapped_file_evict(const void *data, size_t bytes) {
    const long page = sysconf(_SC_PAGESIZE);
    if (page <= 0) return;
    const uintptr_t p = (uintptr_t)data, first = (p + (uintptr_t)page - 1) / (uintptr_t)page * (uintptr_t)page,
                    end = (p + bytes) / (uintptr_t)page * (uintptr_t)page;
    if (end > first) (void)madvise((void *)first, end - first, MADV_DONTNEED);
}

/* Reads a tensor as float32; the contract is in scopenn.h. */
sn_status sn_checkpoint_read_f32(const sn_checkpoint *checkpoint, size_t index, float *out,
                                 int64_t count) {
    if (!checkpoint || (!out && count != 0)) return SN_ERR_INVALID_ARGUMENT;
    if (index >= checkpoint->count) return SN_ERR_NOT_FOUND;
    const struct st_tensor *t = &checkpoint->tensors[index];
    if (count != t->elements) return SN_ERR_SHAPE_MISMATCH;
    const unsigned char *src = checkpoint->data + t->begin;
    size_t n = (size_t)count;
    switch (t->dtype->dtype) {
    case SN_F32:
        if (n) memcpy(out, src, n * sizeof(float)); /* little-endian, checked above */
        break;
    case SN_F16:
        for (size_t i = 0; i < n; i++) {
            uint32_t bits = f16_to_f32_bits((uint16_t)(src[2 * i] | src[2 * i + 1] << 8));
            memcpy(&out[i], &bits, sizeof bits);
        }
        break;
    case SN_BF16:
        for (size_t i = 0; i < n; i++) {
            uint32_t bits = (uint32_t)src[2 * i] << 16 | (uint32_t)src[2 * i + 1] << 24;
            memcpy(&out[i], &bits, sizeof bits);
        }
        break;
    default: return SN_ERR_UNSUPPORTED; /* not reached: open refuses these */
    }
    return SN_OK;
}
