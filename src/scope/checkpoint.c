/* Graph variables from and to safetensors checkpoints, matched by full
 * variable name. Loading is all or nothing: every name and shape is checked
 * before the first variable is written. Saving writes a temporary file
 * beside the target and renames it over the target. */
#define _FILE_OFFSET_BITS 64

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/alloc.h"
#include "base/text.h"
#include "scope/scope.h"
#include "scope/safetensors.h"

/* The strict-load message lists at most this many names of each kind; the
 * report has them all. */
#define SN_NAMES_IN_MESSAGE 5

/* ---- load ------------------------------------------------------------------ */

/* One allocation: the struct, then the two name arrays, then the names. */
static sn_load_report *make_report(const sn_graph *graph, const sn_checkpoint *ck,
                                   const int64_t *match, const unsigned char *used) {
    size_t nv = sn_graph_variable_count(graph), nt = sn_checkpoint_tensor_count(ck);
    size_t missing = 0, unexpected = 0, bytes = sizeof(sn_load_report);
    sn_checkpoint_tensor info;
    for (size_t i = 0; i < nv; i++)
        if (match[i] < 0) {
            missing++;
            bytes += sizeof(char *) + strlen(sn_variable_name(sn_graph_variable(graph, i))) + 1;
        }
    for (size_t i = 0; i < nt; i++)
        if (!used[i] && sn_checkpoint_tensor_info(ck, i, &info) == SN_OK) {
            unexpected++;
            bytes += sizeof(char *) + strlen(info.name) + 1;
        }
    sn_load_report *report = sn_malloc(bytes);
    if (!report) return NULL;
    const char **names = (const char **)(report + 1);
    char *text = (char *)(names + missing + unexpected);
    *report = (sn_load_report){.missing_count = missing,
                               .missing = names,
                               .unexpected_count = unexpected,
                               .unexpected = names + missing};
    for (size_t i = 0; i < nv; i++)
        if (match[i] < 0) {
            const char *name = sn_variable_name(sn_graph_variable(graph, i));
            size_t len = strlen(name) + 1;
            *names++ = memcpy(text, name, len);
            text += len;
        }
    for (size_t i = 0; i < nt; i++)
        if (!used[i] && sn_checkpoint_tensor_info(ck, i, &info) == SN_OK) {
            size_t len = strlen(info.name) + 1;
            *names++ = memcpy(text, info.name, len);
            text += len;
        }
    return report;
}

/* Appends `what` and up to SN_NAMES_IN_MESSAGE of `names`, quoted, to buf:
 * `missing 2 variables ("a", "b")`. */
static void append_names(char *buf, size_t size, const char *what, const char *noun,
                         const char *const *names, size_t count) {
    size_t n = strlen(buf);
    snprintf(buf + n, size - n, "%s %zu %s%s (", what, count, noun, count == 1 ? "" : "s");
    for (size_t i = 0; i < count && i < SN_NAMES_IN_MESSAGE; i++) {
        char quoted[SN_NAME_BUFFER] = "";
        sn_append_escaped(quoted, sizeof quoted, names[i]);
        n = strlen(buf);
        snprintf(buf + n, size - n, "%s\"%s\"", i ? ", " : "", quoted);
    }
    n = strlen(buf);
    if (count > SN_NAMES_IN_MESSAGE)
        snprintf(buf + n, size - n, ", and %zu more)", count - SN_NAMES_IN_MESSAGE);
    else
        snprintf(buf + n, size - n, ")");
}

/* Loads variables by full name; the contract is in scopenn.h. */
sn_status sn_graph_load_checkpoint(sn_graph *graph, const char *path, bool strict,
                                   sn_load_report **report) {
    if (report) *report = NULL;
    if (!graph) return SN_ERR_INVALID_ARGUMENT;
    if (sn_graph_failed(graph)) return sn_graph_status(graph);
    if (!path) return sn_graph_fail(graph, SN_ERR_INVALID_ARGUMENT, "checkpoint path is NULL");

    sn_status status = SN_OK;
    sn_checkpoint *ck = NULL;
    int64_t *match = NULL;      /* per variable: its tensor's index, or -1 */
    unsigned char *used = NULL; /* per tensor: a variable has its name */
    sn_load_report *result = NULL;
    char source[SN_PATH_BUFFER] = "";
    sn_append_escaped(source, sizeof source, path);

    status = sn_checkpoint_open(path, &ck);
    if (status != SN_OK) {
        if (ck)
            sn_graph_fail(graph, status, "%s", sn_checkpoint_error(ck));
        else
            sn_graph_fail(graph, status, "checkpoint %s: out of memory", source);
        goto error;
    }
    size_t nv = sn_graph_variable_count(graph), nt = sn_checkpoint_tensor_count(ck);
    match = sn_malloc(sizeof *match * (nv ? nv : 1));
    used = sn_calloc(nt ? nt : 1, 1);
    if (!match || !used) {
        status = sn_graph_fail(graph, SN_ERR_OUT_OF_MEMORY, "checkpoint %s: out of memory", source);
        goto error;
    }
    for (size_t i = 0; i < nv; i++) {
        match[i] = sn_checkpoint_find(ck, sn_variable_name(sn_graph_variable(graph, i)));
        if (match[i] >= 0) used[match[i]] = 1;
    }
    result = make_report(graph, ck, match, used);
    if (!result) {
        status = sn_graph_fail(graph, SN_ERR_OUT_OF_MEMORY, "checkpoint %s: out of memory", source);
        goto error;
    }

    if (strict && (result->missing_count || result->unexpected_count)) {
        char message[2 * SN_NAMES_IN_MESSAGE * (SN_NAME_BUFFER + 4) + 128] = "";
        if (result->missing_count)
            append_names(message, sizeof message, "missing", "variable", result->missing,
                         result->missing_count);
        size_t n = strlen(message);
        if (result->missing_count && result->unexpected_count)
            snprintf(message + n, sizeof message - n, "; ");
        if (result->unexpected_count)
            append_names(message, sizeof message, "unexpected", "tensor", result->unexpected,
                         result->unexpected_count);
        status = sn_graph_fail(graph, SN_ERR_NOT_FOUND, "checkpoint %s: strict load: %s", source,
                               message);
        goto error;
    }

    for (size_t i = 0; i < nv; i++) {
        if (match[i] < 0) continue;
        const sn_variable *v = sn_graph_variable(graph, i);
        sn_checkpoint_tensor info;
        sn_checkpoint_tensor_info(ck, (size_t)match[i], &info);
        sn_shape shape = sn_variable_shape(v);
        if (!sn_shape_equal(&shape, &info.shape)) {
            char want[128], got[128];
            sn_shape_format(&shape, want, sizeof want);
            sn_shape_format(&info.shape, got, sizeof got);
            status = sn_graph_fail(graph, SN_ERR_SHAPE_MISMATCH,
                                   "checkpoint %s: variable %s has shape %s, the file's tensor "
                                   "has shape %s",
                                   source, sn_variable_name(v), want, got);
            goto error;
        }
    }

    /* Everything checked: from here nothing fails. */
    for (size_t i = 0; i < nv; i++) {
        if (match[i] < 0) continue;
        sn_variable *v = sn_graph_variable(graph, i);
        int64_t size = sn_variable_size(v);
        struct sn_mapped_file *file;
        const float *in_file = sn_checkpoint_f32_in_file(ck, (size_t)match[i], &file);
        if (in_file) { /* read where it lies: no copy (see sn_variable_set_in_file) */
            sn_variable_set_in_file(v, in_file, file);
            result->loaded++;
            continue;
        }
        status = sn_checkpoint_read_f32(ck, (size_t)match[i], sn_variable_begin_write(v), size);
        if (status != SN_OK) { /* not reached: the shapes matched */
            sn_graph_fail(graph, status, "checkpoint %s: cannot read %s", source,
                          sn_variable_name(v));
            goto error;
        }
        result->loaded++;
    }

error:
    if (report)
        *report = result;
    else
        sn_load_report_free(result);
    sn_free(used);
    sn_free(match);
    sn_checkpoint_close(ck);
    return status;
}

/* The report is one allocation. */
void sn_load_report_free(sn_load_report *report) { sn_free(report); }

/* ---- save ------------------------------------------------------------------ */

/* JSON text built in two passes: with buf NULL only `len` counts, so the
 * header is one allocation of the right size. The header is written here
 * rather than with cJSON: cJSON allocates through its own process-wide
 * hooks, which sn_set_allocator cannot reach (see safetensors.c). */
struct text {
    char *buf;
    size_t len;
};

static void put(struct text *t, const char *s, size_t n) {
    if (t->buf) memcpy(t->buf + t->len, s, n);
    t->len += n;
}

static void put_cstr(struct text *t, const char *s) { put(t, s, strlen(s)); }

/* An integer in digits: safetensors readers refuse exponents. */
static void put_integer(struct text *t, uint64_t value) {
    char digits[24];
    put(t, digits, (size_t)snprintf(digits, sizeof digits, "%llu", (unsigned long long)value));
}

/* A JSON string, escaped as messages escape names (base/text.h); variable
 * names are ASCII (sn_check_name), so nothing needs it today. */
static void put_string(struct text *t, const char *s) {
    put(t, "\"", 1);
    for (const unsigned char *p = (const unsigned char *)s; *p;) {
        char piece[8];
        size_t used;
        put(t, piece, sn_escape_next(p, piece, &used));
        p += used;
    }
    put(t, "\"", 1);
}

/* Whether a variable's bytes fill whole cache lines: those are laid out
 * first, and the data starts on a cache line, so that each of them lies
 * 64-byte aligned in the file, where a load reads it without a copy
 * (sn_checkpoint_f32_in_file). Safetensors allows no gaps between
 * tensors, hence this order rather than padding. */
static bool whole_lines(const sn_variable *v) { return sn_variable_size(v) % 16 == 0; }

/* The next variable in the file's order, from *at (0 at first): those of
 * whole cache lines, then the others, each in creation order; NULL after
 * the last. */
static const sn_variable *next_in_file(const sn_graph *graph, size_t *at) {
    const size_t n = sn_graph_variable_count(graph);
    while (*at < 2 * n) {
        const size_t pass = *at / n, j = *at % n;
        ++*at;
        const sn_variable *v = sn_graph_variable(graph, j);
        if (whole_lines(v) == (pass == 0)) return v;
    }
    return NULL;
}

/* The header for the graph's variables, in the file's order, laid out one
 * after the other. */
static void header_text(const sn_graph *graph, struct text *t) {
    put_cstr(t, "{\"__metadata__\":{\"format\":\"scopenn\"}");
    uint64_t offset = 0;
    size_t at = 0;
    for (const sn_variable *v; (v = next_in_file(graph, &at));) {
        sn_shape shape = sn_variable_shape(v);
        uint64_t nbytes = (uint64_t)sn_variable_size(v) * sizeof(float);
        put(t, ",", 1);
        put_string(t, sn_variable_name(v));
        put_cstr(t, ":{\"dtype\":\"F32\",\"shape\":[");
        for (int d = 0; d < shape.rank; d++) {
            if (d) put(t, ",", 1);
            put_integer(t, (uint64_t)shape.dims[d]);
        }
        put_cstr(t, "],\"data_offsets\":[");
        put_integer(t, offset);
        put(t, ",", 1);
        put_integer(t, offset + nbytes);
        put_cstr(t, "]}");
        offset += nbytes;
    }
    put(t, "}", 1);
}

/* The header, NUL-terminated; NULL when out of memory. */
static char *make_header(const sn_graph *graph) {
    struct text t = {NULL, 0};
    header_text(graph, &t);
    t.buf = sn_malloc(t.len + 1);
    if (!t.buf) return NULL;
    t.len = 0;
    header_text(graph, &t);
    t.buf[t.len] = '\0';
    return t.buf;
}

/* Output to a file descriptor through a buffer of our own: stdio (fdopen)
 * would allocate its buffer with malloc, out of the allocator hook's
 * sight. */
struct output {
    int fd;
    unsigned char *buf;
    size_t len, size;
};

/* Writes the whole buffer out; false with errno set on failure. */
static bool drain(struct output *o) {
    size_t done = 0;
    while (done < o->len) {
        ssize_t n = write(o->fd, o->buf + done, o->len - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            if (n == 0) errno = EIO;
            return false;
        }
        done += (size_t)n;
    }
    o->len = 0;
    return true;
}

static bool emit(struct output *o, const void *bytes, size_t n) {
    const unsigned char *p = bytes;
    while (n) {
        if (o->len == o->size && !drain(o)) return false;
        size_t k = o->size - o->len < n ? o->size - o->len : n;
        memcpy(o->buf + o->len, p, k);
        o->len += k, p += k, n -= k;
    }
    return true;
}

/* Writes the 8-byte length, the header padded with spaces so that the
 * data starts on a cache line (and so F32 data is aligned, as the
 * reference writer's multiple of 8 does), and the values. Returns false
 * with errno set on failure. */
static bool write_file(struct output *o, const sn_graph *graph, const char *header) {
    size_t n = strlen(header), padded = (8 + n + 63) / 64 * 64 - 8;
    unsigned char length[8];
    for (int i = 0; i < 8; i++) length[i] = (unsigned char)((uint64_t)padded >> (8 * i));
    if (!emit(o, length, 8) || !emit(o, header, n)) return false;
    for (size_t i = n; i < padded; i++)
        if (!emit(o, " ", 1)) return false;
    size_t at = 0;
    for (const sn_variable *v; (v = next_in_file(graph, &at));) {
        /* little-endian floats, as safetensors stores them (checked in
         * safetensors.c) */
        if (!emit(o, sn_variable_value(v), sizeof(float) * (size_t)sn_variable_size(v)))
            return false;
    }
    return drain(o);
}

/* Records a failed write, naming the file and errno's reason. */
static sn_status write_failed(sn_graph *graph, const char *source) {
    return sn_graph_fail(graph, SN_ERR_IO, "checkpoint %s: cannot write: %s", source,
                         strerror(errno));
}

/* Saves every variable as F32; the contract is in scopenn.h. */
sn_status sn_graph_save_checkpoint(sn_graph *graph, const char *path) {
    if (!graph) return SN_ERR_INVALID_ARGUMENT;
    if (sn_graph_failed(graph)) return sn_graph_status(graph);
    if (!path) return sn_graph_fail(graph, SN_ERR_INVALID_ARGUMENT, "checkpoint path is NULL");

    sn_status status = SN_OK;
    char *header = NULL, *temp = NULL;
    bool temp_exists = false;
    struct output out = {-1, NULL, 0, 64 * 1024};
    char source[SN_PATH_BUFFER] = "";
    sn_append_escaped(source, sizeof source, path);

    /* Only a regular file is replaced: the rename would put the checkpoint
     * in place of a FIFO or a device node (/dev/null, as root), and fail
     * on a directory only after the whole file was written. (A race with
     * another process changing the path between here and the rename is
     * not guarded against.) */
    struct stat st;
    bool exists = stat(path, &st) == 0;
    if (exists && !S_ISREG(st.st_mode)) {
        status = sn_graph_fail(graph, SN_ERR_IO, "checkpoint %s: is %s, not a regular file", source,
                               sn_file_kind(st.st_mode));
        goto error;
    }
    header = make_header(graph);
    temp = sn_malloc(strlen(path) + sizeof ".tmp-XXXXXX");
    out.buf = sn_malloc(out.size);
    if (!header || !temp || !out.buf) {
        status = sn_graph_fail(graph, SN_ERR_OUT_OF_MEMORY, "checkpoint %s: out of memory", source);
        goto error;
    }
    strcpy(temp, path);
    strcat(temp, ".tmp-XXXXXX");
    out.fd = mkstemp(temp);
    if (out.fd < 0) {
        status = sn_graph_fail(graph, SN_ERR_IO,
                               "checkpoint %s: cannot create a temporary file beside it: %s",
                               source, strerror(errno));
        goto error;
    }
    temp_exists = true;
    /* mkstemp makes the file 0600; give it the mode of the file it replaces,
     * or what open(2) gives under the usual umask. */
    (void)fchmod(out.fd, exists ? st.st_mode & 07777 : 0644);
    if (!write_file(&out, graph, header) || fsync(out.fd) != 0) {
        status = write_failed(graph, source);
        goto error;
    }
    int closed = close(out.fd);
    out.fd = -1;
    if (closed != 0) {
        status = write_failed(graph, source);
        goto error;
    }
    if (rename(temp, path) != 0) {
        status = sn_graph_fail(graph, SN_ERR_IO,
                               "checkpoint %s: cannot rename the temporary file to it: %s", source,
                               strerror(errno));
        goto error;
    }
    temp_exists = false;

error:
    if (out.fd >= 0) close(out.fd);
    if (temp_exists) unlink(temp);
    sn_free(out.buf);
    sn_free(temp);
    sn_free(header);
    return status;
}
