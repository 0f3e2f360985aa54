/* The graph object: ownership, sticky errors and names. */
#include "scope/graph.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/text.h"
#include "graph/op.h"
#include "pack/pack.h"

sn_graph *sn_graph_create(const sn_graph_options *options) {
    sn_graph *g = sn_calloc(1, sizeof *g);
    if (!g) return NULL;
    g->seed = options ? options->seed : 0;
    g->root.graph = g;
    g->root.name = sn_strdup("");
    if (!g->root.name) {
        sn_free(g);
        return NULL;
    }
    return g;
}

static void scope_free(sn_scope *s) {
    sn_free(s->name);
    sn_free(s->values);
}

void sn_graph_destroy(sn_graph *g) {
    if (!g) return;
    sn_pack_cache_destroy(g->packs);
    for (size_t i = 0; i < g->op_count; i++) sn_op_free(g->ops[i]);
    sn_free(g->ops);
    for (size_t i = 0; i < g->variable_count; i++) {
        sn_variable *v = g->variables[i];
        sn_free(v->name);
        sn_aligned_free(v->value);
        sn_free(v);
    }
    sn_free(g->variables);
    sn_map_free(&g->variables_by_name);
    sn_map_free(&g->names_in_use);
    for (size_t i = 0; i < g->scope_count; i++) {
        scope_free(g->scopes[i]);
        sn_free(g->scopes[i]);
    }
    sn_free(g->scopes);
    scope_free(&g->root);
    sn_free(g->stack);
    for (size_t i = 0; i < g->string_count; i++) sn_free(g->strings[i]);
    sn_free(g->strings);
    sn_free(g->error);
    sn_free(g);
}

sn_status sn_graph_status(const sn_graph *g) { return g ? g->status : SN_ERR_INVALID_ARGUMENT; }

const char *sn_graph_error(const sn_graph *g) {
    if (!g) return "graph is NULL";
    if (g->status == SN_OK) return "";
    return g->error ? g->error : sn_status_string(g->status);
}

void sn_graph_clear_error(sn_graph *g) {
    if (!g) return;
    g->status = SN_OK;
    sn_free(g->error);
    g->error = NULL;
}

sn_status sn_graph_fail(sn_graph *g, sn_status status, const char *format, ...) {
    if (!g || g->status != SN_OK) return status;
    g->status = status;
    va_list ap;
    va_start(ap, format);
    int n = vsnprintf(NULL, 0, format, ap);
    va_end(ap);
    if (n >= 0 && (g->error = sn_malloc((size_t)n + 1)) != NULL) {
        va_start(ap, format);
        vsnprintf(g->error, (size_t)n + 1, format, ap);
        va_end(ap);
    }
    return status; /* without memory for the message, the status string stands in */
}

bool sn_graph_failed(const sn_graph *g) { return g->status != SN_OK; }

const char *sn_graph_intern(sn_graph *g, const char *s) {
    char *copy = sn_strdup(s);
    if (!copy || !sn_ptr_push((void ***)&g->strings, &g->string_count, &g->string_capacity, copy)) {
        sn_free(copy);
        sn_graph_fail(g, SN_ERR_OUT_OF_MEMORY, "out of memory");
        return NULL;
    }
    return copy;
}

struct sn_frame sn_graph_top(const sn_graph *g) {
    if (g->depth == 0) return (struct sn_frame){(sn_scope *)&g->root, "", false};
    return g->stack[g->depth - 1];
}

/* ---- names ---------------------------------------------------------------- */

static bool name_char(char c, bool first) {
    if (isalnum((unsigned char)c) || c == '.') return true;
    return !first && (c == '_' || c == '-' || c == '/');
}

const char *sn_escape_name(char buf[SN_ESCAPED_NAME], const char *name) {
    buf[0] = '\0';
    sn_append_escaped(buf, SN_ESCAPED_NAME, name ? name : "");
    return buf;
}

bool sn_check_name(sn_graph *g, const char *name, const char *what) {
    if (!name) {
        sn_graph_fail(g, SN_ERR_INVALID_ARGUMENT, "%s name is NULL", what);
        return false;
    }
    if (!*name) {
        sn_graph_fail(g, SN_ERR_INVALID_ARGUMENT, "%s name is empty", what);
        return false;
    }
    for (size_t i = 0; name[i]; i++) {
        bool ok =
            name_char(name[i], i == 0) && !(name[i] == '/' && (name[i + 1] == '/' || !name[i + 1]));
        if (!ok) {
            char quoted[SN_ESCAPED_NAME], c[SN_ESCAPED_NAME];
            sn_graph_fail(g, SN_ERR_INVALID_ARGUMENT,
                          "%s name '%s' is not valid: names match [A-Za-z0-9.][A-Za-z0-9_.\\-/]* "
                          "(no empty or trailing '/' component); character %zu is '%s'",
                          what, sn_escape_name(quoted, name), i + 1,
                          sn_escape_name(c, (char[]){name[i], '\0'}));
            return false;
        }
    }
    return true;
}

char *sn_join_name(const char *prefix, const char *name) {
    size_t a = strlen(prefix), b = strlen(name);
    char *s = sn_malloc(a + b + 2);
    if (!s) return NULL;
    if (a) {
        memcpy(s, prefix, a);
        s[a++] = '/';
    }
    memcpy(s + a, name, b + 1);
    return s;
}

static char *lowercase(const char *s) {
    char *l = sn_strdup(s);
    if (l)
        for (char *p = l; *p; p++) *p = (char)tolower((unsigned char)*p);
    return l;
}

/* The use count of a lowercased name lives in the map as a pointer-sized
 * integer; 0 is the same as absent. */
static size_t uses(const sn_graph *g, const char *key) {
    return (size_t)(uintptr_t)sn_map_get(&g->names_in_use, key);
}

static bool set_uses(sn_graph *g, const char *key, size_t n) {
    return sn_map_put(&g->names_in_use, key, (void *)(uintptr_t)n);
}

const char *sn_unique_name(sn_graph *g, const char *name, struct sn_name_claim *claim) {
    struct sn_name_claim mark = {0}; /* what this call has marked so far */
    char *key = lowercase(name), *candidate = NULL, *result = NULL;
    const char *interned = NULL;
    size_t i = key ? uses(g, key) : 0;
    if (!key || !set_uses(g, key, i + 1)) goto error;
    mark.key = key, key = NULL;
    if (i == 0) {
        if (!(interned = sn_graph_intern(g, name))) goto error;
        goto done;
    }
    /* As TensorFlow: try key_i, key_(i+1), ... until unused; mark it used;
     * the result keeps the caller's capitalization. */
    size_t n = strlen(mark.key) + 24;
    if (!(candidate = sn_malloc(n)) || !(result = sn_malloc(strlen(name) + 24))) goto error;
    for (;; i++) {
        snprintf(candidate, n, "%s_%zu", mark.key, i);
        if (uses(g, candidate) == 0) break;
    }
    if (!set_uses(g, candidate, 1)) goto error;
    mark.candidate = candidate, candidate = NULL;
    snprintf(result, strlen(name) + 24, "%s_%zu", name, i);
    if (!(interned = sn_graph_intern(g, result))) goto error;
    goto done;
error:
    sn_name_release(g, &mark); /* nothing stays marked: a failed call takes no name */
    sn_graph_fail(g, SN_ERR_OUT_OF_MEMORY, "out of memory");
done:
    sn_free(key);
    sn_free(candidate);
    sn_free(result);
    if (claim)
        *claim = mark;
    else
        sn_name_keep(&mark);
    return interned;
}

/* Lowering the count of a key in the map allocates nothing, so cannot
 * fail. */
void sn_name_release(sn_graph *g, struct sn_name_claim *claim) {
    if (claim->candidate) set_uses(g, claim->candidate, 0);
    if (claim->key) set_uses(g, claim->key, uses(g, claim->key) - 1);
    sn_name_keep(claim);
}

void sn_name_keep(struct sn_name_claim *claim) {
    sn_free(claim->key);
    sn_free(claim->candidate);
    *claim = (struct sn_name_claim){0};
}
