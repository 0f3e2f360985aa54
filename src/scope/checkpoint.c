/* Graph variables from and to safetensors checkpoints, matched by full
 * variable name. Loading is all or nothing: every name and shape is checked
 * before the first variable is written. Saving writes a temporary file
 * beside the target and renames it over the target. */
#define _FILE_OFFSET_BITS 64

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "alloc.h"
#include "scope/graph.h"
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
        sn_checkpoint_append_name(quoted, sizeof quoted, names[i]);
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
    sn_checkpoint_append_name(source, sizeof source, path);

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

/* Adds an integer as raw JSON text: cJSON prints numbers of 1e15 and more
 * with an exponent, which safetensors readers refuse. */
static bool add_integer(cJSON *array, uint64_t value) {
    char text[24];
    snprintf(text, sizeof text, "%llu", (unsigned long long)value);
    cJSON *item = cJSON_CreateRaw(text);
    if (item && cJSON_AddItemToArray(array, item)) return true;
    cJSON_Delete(item);
    return false;
}

/* The JSON header for the graph's variables, in creation order, laid out
 * one after the other; NULL when out of memory. */
static char *make_header(const sn_graph *graph) {
    cJSON *root = cJSON_CreateObject();
    cJSON *metadata = cJSON_AddObjectToObject(root, "__metadata__");
    bool ok = metadata && cJSON_AddStringToObject(metadata, "format", "scopenn");
    uint64_t offset = 0;
    for (size_t i = 0; ok && i < sn_graph_variable_count(graph); i++) {
        const sn_variable *v = sn_graph_variable(graph, i);
        sn_shape shape = sn_variable_shape(v);
        uint64_t nbytes = (uint64_t)sn_variable_size(v) * sizeof(float);
        cJSON *entry = cJSON_AddObjectToObject(root, sn_variable_name(v));
        cJSON *dims = entry ? cJSON_CreateArray() : NULL;
        cJSON *offsets = dims ? cJSON_CreateArray() : NULL;
        ok = entry && cJSON_AddStringToObject(entry, "dtype", "F32");
        ok = ok && dims && cJSON_AddItemToObject(entry, "shape", dims);
        if (!ok) cJSON_Delete(dims);
        ok = ok && offsets && cJSON_AddItemToObject(entry, "data_offsets", offsets);
        if (!ok) cJSON_Delete(offsets);
        for (int d = 0; ok && d < shape.rank; d++) ok = add_integer(dims, (uint64_t)shape.dims[d]);
        ok = ok && add_integer(offsets, offset) && add_integer(offsets, offset + nbytes);
        offset += nbytes;
    }
    char *text = ok ? cJSON_PrintUnformatted(root) : NULL;
    cJSON_Delete(root);
    return text;
}

/* Writes the 8-byte length, the header padded with spaces to a multiple
 * of 8 (as the reference writer does, so F32 data is aligned), and the
 * values. Returns false with errno set on failure. */
static bool write_file(FILE *f, const sn_graph *graph, const char *header) {
    size_t n = strlen(header), padded = (n + 7) & ~(size_t)7;
    unsigned char length[8];
    for (int i = 0; i < 8; i++) length[i] = (unsigned char)((uint64_t)padded >> (8 * i));
    if (fwrite(length, 1, 8, f) != 8 || fwrite(header, 1, n, f) != n) return false;
    for (size_t i = n; i < padded; i++)
        if (fputc(' ', f) == EOF) return false;
    for (size_t i = 0; i < sn_graph_variable_count(graph); i++) {
        const sn_variable *v = sn_graph_variable(graph, i);
        size_t count = (size_t)sn_variable_size(v);
        /* little-endian floats, as safetensors stores them (checked in
         * safetensors.c) */
        if (count && fwrite(sn_variable_value(v), sizeof(float), count, f) != count) return false;
    }
    return true;
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
    FILE *f = NULL;
    int fd = -1;
    char source[SN_PATH_BUFFER] = "";
    sn_checkpoint_append_name(source, sizeof source, path);

    header = make_header(graph);
    temp = sn_malloc(strlen(path) + sizeof ".tmp-XXXXXX");
    if (!header || !temp) {
        status = sn_graph_fail(graph, SN_ERR_OUT_OF_MEMORY, "checkpoint %s: out of memory", source);
        goto error;
    }
    strcpy(temp, path);
    strcat(temp, ".tmp-XXXXXX");
    fd = mkstemp(temp);
    if (fd < 0) {
        status = sn_graph_fail(graph, SN_ERR_IO,
                               "checkpoint %s: cannot create a temporary file beside it: %s",
                               source, strerror(errno));
        goto error;
    }
    temp_exists = true;
    /* mkstemp makes the file 0600; give it the mode of the file it replaces,
     * or what open(2) gives under the usual umask. */
    struct stat st;
    (void)fchmod(fd, stat(path, &st) == 0 ? st.st_mode & 07777 : 0644);
    if (!(f = fdopen(fd, "wb"))) {
        status = write_failed(graph, source);
        goto error;
    }
    fd = -1; /* f owns it now */
    if (!write_file(f, graph, header) || fflush(f) != 0 || fsync(fileno(f)) != 0) {
        status = write_failed(graph, source);
        goto error;
    }
    int closed = fclose(f);
    f = NULL;
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
    if (f) fclose(f);
    if (fd >= 0) close(fd);
    if (temp_exists) unlink(temp);
    sn_free(temp);
    cJSON_free(header);
    return status;
}
