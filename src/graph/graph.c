/* The graph object: sticky errors, interned strings, unique names and name
 * scopes (SEMANTICS.md S19, S20). */
#include "graph/graph.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/text.h"
#include "graph/op.h"
#include "pack/pack.h"

void sn_graph_init(sn_graph *g, uint64_t seed, sn_scope *root, struct sn_variable_store *store) {
    *g = (sn_graph){.seed = seed, .root = root, .store = store};
}

void sn_graph_release(sn_graph *g) {
    sn_pack_cache_destroy(g->packs);
    for (size_t i = 0; i < g->op_count; i++) sn_op_free(g->ops[i]);
    sn_free(g->ops);
    sn_map_free(&g->names_in_use);
    sn_free(g->stack);
    for (size_t i = 0; i < g->string_count; i++) sn_free(g->strings[i]);
    sn_free(g->strings);
    sn_free(g->error);
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

sn_status sn_graph_record_error(sn_graph *g, sn_status status, const char *message) {
    if (!g) return SN_ERR_INVALID_ARGUMENT;
    if (status == SN_OK) status = SN_ERR_INVALID_ARGUMENT;
    sn_graph_fail(g, status, "%s", message ? message : "(no message)");
    return g->status;
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
    if (g->depth == 0) return (struct sn_frame){g->root, "", false};
    return g->stack[g->depth - 1];
}

bool sn_graph_push_frame(sn_graph *g, struct sn_frame f) {
    if (g->depth == g->stack_capacity) {
        size_t cap = g->stack_capacity ? g->stack_capacity * 2 : 8;
        struct sn_frame *grown = sn_realloc(g->stack, cap * sizeof *grown);
        if (!grown) return false;
        g->stack = grown;
        g->stack_capacity = cap;
    }
    g->stack[g->depth++] = f;
    return true;
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

/* ---- name scopes ---------------------------------------------------------- */

const char *sn_name_scope_open(sn_graph *g, const char *name) {
    if (!g || sn_graph_failed(g)) return NULL;
    struct sn_frame top = sn_graph_top(g);
    size_t n = name ? strlen(name) : 0;
    const char *ns;
    struct sn_name_claim claim = {0};
    if (n > 1 && name[n - 1] == '/') {
        /* "foo/bar/": re-enter that exact name scope, as TensorFlow does. */
        char *exact = sn_strdup(name);
        if (!exact) {
            sn_graph_fail(g, SN_ERR_OUT_OF_MEMORY, "out of memory opening name scope %s", name);
            return NULL;
        }
        exact[n - 1] = '\0';
        bool ok = sn_check_name(g, exact, "name scope");
        ns = ok ? sn_graph_intern(g, exact) : NULL;
        sn_free(exact);
    } else {
        if (!sn_check_name(g, name, "name scope")) return NULL;
        char *wanted = sn_join_name(top.name_scope, name);
        ns = wanted ? sn_unique_name(g, wanted, &claim) : NULL;
        if (!wanted)
            sn_graph_fail(g, SN_ERR_OUT_OF_MEMORY, "out of memory opening name scope %s", name);
        sn_free(wanted);
    }
    if (!ns) return NULL;
    if (!sn_graph_push_frame(g, (struct sn_frame){top.scope, ns, true})) {
        sn_graph_fail(g, SN_ERR_OUT_OF_MEMORY, "out of memory opening name scope %s", name);
        sn_name_release(g, &claim);
        return NULL;
    }
    sn_name_keep(&claim);
    return ns;
}

sn_status sn_name_scope_close(sn_graph *g) {
    if (!g) return SN_ERR_INVALID_ARGUMENT;
    if (g->depth == 0 || !g->stack[g->depth - 1].is_name_scope) {
        sn_status st = SN_ERR_INVALID_STATE;
        sn_graph_fail(g, st, "closing a name scope, but the innermost open scope is %s",
                      g->depth == 0 ? "none" : "a variable scope");
        return st;
    }
    g->depth--;
    return SN_OK;
}

const char *sn_current_name_scope(const sn_graph *g) { return g ? sn_graph_top(g).name_scope : ""; }
