/* A graph as the API hands it out: the graph (src/graph) and its variable
 * store, made and freed together. */
#include "base/alloc.h"
#include "scope/scope.h"

sn_graph *sn_graph_create(const sn_graph_options *options) {
    sn_graph *g = sn_calloc(1, sizeof *g);
    struct sn_variable_store *st = sn_calloc(1, sizeof *st);
    char *root_name = sn_strdup("");
    if (!g || !st || !root_name) {
        sn_free(g);
        sn_free(st);
        sn_free(root_name);
        return NULL;
    }
    st->root.graph = g;
    st->root.name = root_name;
    sn_graph_init(g, options ? options->seed : 0, &st->root, st);
    return g;
}

static void scope_free(sn_scope *s) {
    sn_free(s->name);
    sn_free(s->values);
    if (s->saved_counts) sn_map_free(s->saved_counts);
    sn_free(s->saved_counts);
}

void sn_graph_destroy(sn_graph *g) {
    if (!g) return;
    struct sn_variable_store *st = g->store;
    sn_graph_release(g);
    for (size_t i = 0; i < st->variable_count; i++) {
        sn_variable_free(st->variables[i]);
    }
    sn_free(st->variables);
    sn_map_free(&st->variables_by_name);
    sn_map_free(&st->scope_counts);
    for (size_t i = 0; i < st->scope_count; i++) {
        scope_free(st->scopes[i]);
        sn_free(st->scopes[i]);
    }
    sn_free(st->scopes);
    scope_free(&st->root);
    sn_free(st);
    sn_free(g);
}
