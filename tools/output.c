/* What the tool prints for --json: one line of valid JSON. */
#include "output.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/text.h"

/* Replaces each string value under `item` by the same string escaped by
 * the library's message escaper, as raw JSON: cJSON copies the bytes of a
 * string as they are, so a file name that is not UTF-8 (or anything else
 * that is not) would make the output invalid JSON; the escaper writes
 * U+FFFD for such bytes and escapes quotes, backslashes and control
 * characters. Keys are the CLI's own ASCII words. Returns 0 when out of
 * memory. */
static int escape_strings(cJSON *item) {
    for (cJSON *child = item->child; child; child = child->next) {
        if (!cJSON_IsString(child)) {
            if (!escape_strings(child)) return 0;
            continue;
        }
        /* 6 bytes at most per byte ("\u001f"), the quotes and the NUL */
        size_t size = 6 * strlen(child->valuestring) + 8;
        char *text = cJSON_malloc(size);
        if (!text) return 0;
        strcpy(text, "\"");
        sn_append_escaped(text, size, child->valuestring);
        strcat(text, "\"");
        if (!(child->type & cJSON_IsReference)) cJSON_free(child->valuestring);
        child->valuestring = text; /* now owned, freed by cJSON_Delete */
        child->type = cJSON_Raw | (child->type & cJSON_StringIsConst);
    }
    return 1;
}

int sn_cli_print_json(cJSON *root, int ok, FILE *out, FILE *err) {
    char *text = ok && root && escape_strings(root) ? cJSON_PrintUnformatted(root) : NULL;
    cJSON_Delete(root);
    if (!text) {
        fprintf(err, "scopenn: out of memory formatting JSON\n");
        return 1;
    }
    fprintf(out, "%s\n", text);
    cJSON_free(text);
    return 0;
}

int sn_cli_add_dims(cJSON *o, const char *key, const int64_t *dims, int n) {
    cJSON *array = cJSON_CreateArray();
    if (!array || !cJSON_AddItemToObject(o, key, array)) {
        cJSON_Delete(array);
        return 0;
    }
    for (int i = 0; i < n; i++) {
        cJSON *d = cJSON_CreateNumber((double)dims[i]);
        if (!d || !cJSON_AddItemToArray(array, d)) {
            cJSON_Delete(d);
            return 0;
        }
    }
    return 1;
}

void sn_cli_print_dims(FILE *out, const int64_t *dims, int n) {
    fputc('(', out);
    for (int d = 0; d < n; d++) fprintf(out, "%s%lld", d ? ", " : "", (long long)dims[d]);
    fputc(')', out);
}

int sn_cli_parse_long(const char *s, long lo, long hi, long *out) {
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi) return 0;
    *out = v;
    return 1;
}

void sn_cli_print_name(FILE *out, const char *name) {
    for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
        if (*p == '\\')
            fputs("\\\\", out);
        else if (*p == '\t')
            fputs("\\t", out);
        else if (*p == '\n')
            fputs("\\n", out);
        else if (*p < 0x20 || *p == 0x7f)
            fprintf(out, "\\u%04x", *p);
        else
            fputc(*p, out);
    }
}

double sn_cli_now_seconds(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static int compare_doubles(const void *x, const void *y) {
    double a = *(const double *)x, b = *(const double *)y;
    return (a > b) - (a < b);
}

void sn_cli_sort(double *times, size_t n) { qsort(times, n, sizeof *times, compare_doubles); }

double sn_cli_median(const double *t, size_t n) {
    return n % 2 ? t[n / 2] : (t[n / 2 - 1] + t[n / 2]) / 2;
}

int sn_cli_ms_decimals(double ms) {
    int decimals = 3;
    for (double x = ms; x < 1.0 && decimals < 6; x *= 10) decimals++;
    for (double x = ms; x >= 10.0 && decimals > 0; x /= 10) decimals--;
    return decimals;
}

int sn_cli_parse_dims(const char *s, int count, int64_t max, int64_t *dims) {
    for (int i = 0; i < count; i++) {
        char *end;
        errno = 0;
        if (*s < '0' || *s > '9') return 0;
        long long v = strtoll(s, &end, 10);
        if (errno || end == s || v < 1 || v > max) return 0;
        dims[i] = v;
        if (*end != (i + 1 < count ? 'x' : '\0')) return 0;
        s = end + 1;
    }
    return 1;
}

int sn_cli_vcomplain(FILE *err, const char *command, void (*usage)(FILE *), const char *format,
                     va_list ap) {
    fprintf(err, "scopenn %s: ", command);
    vfprintf(err, format, ap);
    fputc('\n', err);
    if (!usage) return 1;
    fputc('\n', err);
    usage(err);
    return 2;
}
