/* Variable scopes (SEMANTICS.md S2, S8-S13, S16, S19, S26). */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "base/alloc.h"
#include "scope/scope.h"

/* Makes a scope object owned by the graph, with a copy of the default
 * initializer's values if it has any. NULL (error recorded) when out of
 * memory or when a values initializer is malformed. */
static sn_scope *new_scope(sn_graph *g, const char *name, sn_reuse reuse, sn_initializer init) {
    struct sn_variable_store *st = g->store;
    sn_scope *s = sn_calloc(1, sizeof *s);
    if (!s) goto oom;
    s->graph = g;
    s->reuse = reuse;
    s->initializer = init;
    if (!(s->name = sn_strdup(name))) goto oom;
    if (init.kind == SN_INIT_VALUES) {
        int64_t n = sn_shape_elements(&init.shape);
        if (n < 0 || !init.values) {
            sn_graph_fail(g, SN_ERR_INVALID_ARGUMENT,
                          "variable scope %s: the default values initializer has %s", name,
                          init.values ? "an invalid shape" : "no values (NULL)");
            goto error;
        }
        if (!(s->values = sn_malloc((size_t)n * sizeof(float)))) goto oom;
        memcpy(s->values, init.values, (size_t)n * sizeof(float));
        s->initializer.values = s->values;
    }
    if (!sn_ptr_push((void ***)&st->scopes, &st->scope_count, &st->scope_capacity, s)) goto oom;
    return s;
oom:
    sn_graph_fail(g, SN_ERR_OUT_OF_MEMORY, "out of memory opening variable scope %s", name);
error:
    if (s) {
        sn_free(s->name);
        sn_free(s->values);
        sn_free(s);
    }
    return NULL;
}

/* The last scope made is not wanted after all (a later step failed). */
static void drop_last_scope(sn_graph *g) {
    sn_scope *s = g->store->scopes[--g->store->scope_count];
    sn_free(s->name);
    sn_free(s->values);
    if (s->saved_counts) sn_map_free(s->saved_counts);
    sn_free(s->saved_counts);
    sn_free(s);
}

/* ---- how often each scope name was opened (S26) --------------------------
 * TensorFlow's variable_scopes_count: opening a scope counts its full
 * name; closing a scope opened by name starts the counts of the scopes
 * inside it again; closing a re-entered scope puts back the counts it
 * found. */

static size_t opened(const sn_graph *g, const char *full) {
    return (size_t)(uintptr_t)sn_map_get(&g->store->scope_counts, full);
}

/* Makes sure `full` has a count, so that counting it cannot fail later. */
static bool reserve_count(sn_graph *g, const char *full) {
    if (sn_map_put(&g->store->scope_counts, full, (void *)(uintptr_t)opened(g, full))) return true;
    sn_graph_fail(g, SN_ERR_OUT_OF_MEMORY, "out of memory opening variable scope %s", full);
    return false;
}

/* Counts an opening of `full` (reserved: allocates nothing). */
static void count_open(sn_graph *g, const char *full) {
    sn_map_put(&g->store->scope_counts, full, (void *)(uintptr_t)(opened(g, full) + 1));
}

/* Scope `s` closes. */
static void count_close(sn_graph *g, sn_scope *s) {
    sn_map *counts = &g->store->scope_counts;
    if (s->saved_counts) {
        sn_map_free(counts);
        *counts = *s->saved_counts;
        sn_free(s->saved_counts);
        s->saved_counts = NULL;
        return;
    }
    const size_t len = strlen(s->name);
    for (size_t i = 0; i < counts->capacity; i++) {
        const char *k = counts->keys[i];
        if (k && strncmp(k, s->name, len) == 0 && k[len] == '/') counts->values[i] = NULL;
    }
}

/* A copy of the counts, for a re-entered scope to put back; NULL (error
 * recorded) when out of memory. */
static sn_map *copy_counts(sn_graph *g) {
    const sn_map *counts = &g->store->scope_counts;
    sn_map *copy = sn_calloc(1, sizeof *copy);
    for (size_t i = 0; copy && i < counts->capacity; i++)
        if (counts->keys[i] && !sn_map_put(copy, counts->keys[i], counts->values[i])) {
            sn_map_free(copy);
            sn_free(copy);
            copy = NULL;
        }
    if (!copy) sn_graph_fail(g, SN_ERR_OUT_OF_MEMORY, "out of memory re-entering a variable scope");
    return copy;
}

static bool valid_reuse(sn_graph *g, sn_reuse reuse, const char *name) {
    if (reuse == SN_REUSE_INHERIT || reuse == SN_REUSE_TRUE || reuse == SN_AUTO_REUSE) return true;
    sn_graph_fail(g, SN_ERR_INVALID_ARGUMENT, "variable scope %s: reuse %d is not an sn_reuse",
                  name ? name : "(captured)", (int)reuse);
    return false;
}

static bool valid_initializer(sn_graph *g, sn_initializer init, const char *name) {
    if ((unsigned)init.kind <= SN_INIT_VALUES) return true;
    sn_graph_fail(g, SN_ERR_INVALID_ARGUMENT, "variable scope %s: initializer kind %d is not valid",
                  name, (int)init.kind);
    return false;
}

sn_scope *sn_variable_scope_open_init(sn_graph *g, const char *name, sn_reuse reuse,
                                      sn_initializer init) {
    if (!g || sn_graph_failed(g)) return NULL;
    if (!sn_check_name(g, name, "variable scope") || !valid_reuse(g, reuse, name) ||
        !valid_initializer(g, init, name))
        return NULL;
    struct sn_frame top = sn_graph_top(g);
    char *full = sn_join_name(top.scope->name, name);
    char *ns_wanted = sn_join_name(top.name_scope, name);
    sn_scope *s = NULL;
    if (!full || !ns_wanted) {
        sn_graph_fail(g, SN_ERR_OUT_OF_MEMORY, "out of memory opening variable scope %s", name);
        goto done;
    }
    /* TensorFlow: reuse = reuse or parent.reuse, so TRUE and AUTO_REUSE
     * override and inherit (False, None) takes the parent's (S8); the
     * default initializer is the parent's unless one is given (S16). */
    sn_reuse effective = reuse != SN_REUSE_INHERIT ? reuse : top.scope->reuse;
    sn_initializer effective_init = init.kind != SN_INIT_NONE ? init : top.scope->initializer;
    if (!reserve_count(g, full) || !(s = new_scope(g, full, effective, effective_init))) goto done;
    /* Also a name scope of the same name, made unique (S19, S20). */
    struct sn_name_claim claim;
    const char *ns = sn_unique_name(g, ns_wanted, &claim);
    if (!ns || !sn_graph_push_frame(g, (struct sn_frame){s, ns, false})) {
        sn_graph_fail(g, SN_ERR_OUT_OF_MEMORY, "out of memory opening variable scope %s", name);
        sn_name_release(g, &claim);
        drop_last_scope(g);
        s = NULL;
    } else {
        sn_name_keep(&claim);
        count_open(g, full);
    }
done:
    sn_free(full);
    sn_free(ns_wanted);
    return s;
}

sn_scope *sn_variable_scope_open(sn_graph *g, const char *name, sn_reuse reuse) {
    return sn_variable_scope_open_init(g, name, reuse, SN_NO_INITIALIZER);
}

sn_scope *sn_variable_scope_reenter(sn_graph *g, sn_scope *captured, sn_reuse reuse,
                                    sn_initializer init) {
    if (!g || sn_graph_failed(g)) return NULL;
    if (!captured || captured->graph != g) {
        sn_graph_fail(g, SN_ERR_INVALID_ARGUMENT, "re-entering a variable scope: the handle is %s",
                      captured ? "from another graph" : "NULL");
        return NULL;
    }
    if (!valid_reuse(g, reuse, captured->name) || !valid_initializer(g, init, captured->name))
        return NULL;
    /* S11-S13: the captured name and, unless asked otherwise, its reuse and
     * default initializer; not the enclosing scope's reuse; the name scope
     * stays as it is. */
    sn_reuse effective = reuse != SN_REUSE_INHERIT ? reuse : captured->reuse;
    sn_initializer effective_init = init.kind != SN_INIT_NONE ? init : captured->initializer;
    if (!reserve_count(g, captured->name)) return NULL;
    sn_scope *s = new_scope(g, captured->name, effective, effective_init);
    if (!s) return NULL;
    if (!(s->saved_counts = copy_counts(g))) {
        drop_last_scope(g);
        return NULL;
    }
    if (!sn_graph_push_frame(g, (struct sn_frame){s, sn_graph_top(g).name_scope, false})) {
        sn_graph_fail(g, SN_ERR_OUT_OF_MEMORY, "out of memory re-entering variable scope %s",
                      captured->name);
        drop_last_scope(g);
        return NULL;
    }
    /* counted in the counts it puts back too, as TensorFlow's snapshot is
     * taken after the count (the key is in both: this allocates nothing) */
    count_open(g, captured->name);
    sn_map_put(
        s->saved_counts, captured->name,
        (void *)(uintptr_t)((size_t)(uintptr_t)sn_map_get(s->saved_counts, captured->name) + 1));
    return s;
}

sn_status sn_variable_scope_close(sn_graph *g, sn_scope *scope) {
    if (!g) return SN_ERR_INVALID_ARGUMENT;
    if (!scope) return SN_OK;
    /* Find the frame that opened `scope`: name-scope frames carry their
     * variable scope down from below, so skip them. */
    size_t i = g->depth;
    while (i > 0 && (g->stack[i - 1].scope != scope || g->stack[i - 1].is_name_scope)) i--;
    if (i == 0) {
        sn_status st = SN_ERR_INVALID_STATE;
        sn_graph_fail(g, st, "closing variable scope '%s', which is not open", scope->name);
        return st;
    }
    /* and everything opened inside it and left open, innermost first */
    for (; g->depth >= i; g->depth--)
        if (!g->stack[g->depth - 1].is_name_scope) count_close(g, g->stack[g->depth - 1].scope);
    return SN_OK;
}

sn_scope *sn_variable_scope_open_default(sn_graph *g, const char *name, const char *default_name,
                                         sn_reuse reuse) {
    if (name) return sn_variable_scope_open(g, name, reuse);
    if (!g || sn_graph_failed(g)) return NULL;
    if (!default_name) {
        sn_graph_fail(g, SN_ERR_INVALID_ARGUMENT, "variable scope: no name and no default name");
        return NULL;
    }
    if (!sn_check_name(g, default_name, "variable scope")) return NULL;
    if (reuse == SN_REUSE_TRUE) {
        sn_graph_fail(g, SN_ERR_INVALID_ARGUMENT,
                      "variable scope %s: reuse=True cannot be used without a name", default_name);
        return NULL;
    }
    /* default_name, or default_name_1, _2, ...: the first not opened yet */
    char *full = sn_join_name(sn_graph_top(g).scope->name, default_name);
    size_t len = full ? strlen(full) : 0, taken = len + 24;
    char *candidate = full ? sn_malloc(taken) : NULL;
    sn_scope *s = NULL;
    if (!candidate) {
        sn_graph_fail(g, SN_ERR_OUT_OF_MEMORY, "out of memory opening variable scope %s",
                      default_name);
    } else {
        strcpy(candidate, full);
        for (unsigned long long k = 1; opened(g, candidate) > 0; k++)
            snprintf(candidate, taken, "%s_%llu", full, k);
        s = sn_variable_scope_open(g, candidate + (len - strlen(default_name)), reuse);
    }
    sn_free(full);
    sn_free(candidate);
    return s;
}

sn_scope *sn_current_scope(const sn_graph *g) { return g ? sn_graph_top(g).scope : NULL; }

const char *sn_scope_name(const sn_scope *s) { return s ? s->name : ""; }

sn_reuse sn_scope_reuse(const sn_scope *s) { return s ? s->reuse : SN_REUSE_FALSE; }

sn_initializer sn_scope_initializer(const sn_scope *s) {
    return s ? s->initializer : SN_NO_INITIALIZER;
}

void sn_scope_reuse_variables(sn_scope *s) {
    if (s) s->reuse = SN_REUSE_TRUE;
}
