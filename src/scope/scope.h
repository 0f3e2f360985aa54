/* Variable scopes and variables, on top of the graph (src/graph): shared by
 * src/scope and the runtime, which reads variables' values. */
#ifndef SN_SCOPE_SCOPE_H
#define SN_SCOPE_SCOPE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/map.h"
#include "graph/graph.h"
#include "pack/pack.h"
#include "scopenn.h"

struct sn_scope {
    sn_graph *graph;
    char *name;                 /* full name; "" for the root */
    sn_reuse reuse;             /* SN_REUSE_FALSE (0), SN_REUSE_TRUE or SN_AUTO_REUSE */
    sn_initializer initializer; /* default; SN_INIT_VALUES points at `values` */
    float *values;              /* owned copy of a default SN_INIT_VALUES */
    sn_map *saved_counts;       /* a re-entered scope: the store's scope_counts to
                                 * restore when it closes (S26), owned */
};

struct sn_variable {
    sn_graph *graph;
    char *name; /* "foo/v" */
    sn_shape shape;
    sn_dtype dtype;
    int64_t size;
    /* The current value: `own`, or where a checkpoint's tensor lies in its
     * mapped file (read only, held by `file`). */
    const float *value;
    /* 64-byte aligned, `size` floats in whole cache lines; allocated at
     * creation and first touched by its first write, so that a value
     * that a checkpoint brings costs no memory. */
    float *own;
    struct sn_mapped_file *file;
    /* Until its first read, a new variable's value is its initializer's
     * (with the graph's seed then): filled at that read (S17's bits), not
     * at creation, so that one set before (a checkpoint) is made once. */
    atomic_bool pending;
    sn_initializer init;
    uint64_t seed;
    uint64_t id, version;
    sn_tensor *tensor; /* the VariableV2 op's output: "foo/v:0", or "foo/v_1:0" if an op
                        * was named foo/v first (one namespace, S20) */
};

/* What a graph holds for src/scope (graph->store): made and freed with the
 * graph by sn_graph_create() and sn_graph_destroy(). */
struct sn_variable_store {
    sn_scope root;     /* graph->root */
    sn_scope **scopes; /* every scope object made, owned */
    size_t scope_count, scope_capacity;
    /* full variable-scope name -> times opened since the scope around it
     * last closed (TensorFlow's variable_scopes_count): how default scope
     * names are made unique (S26) */
    sn_map scope_counts;

    sn_variable **variables; /* creation order */
    size_t variable_count, variable_capacity;
    sn_map variables_by_name;
};

/* Fills a variable's value from an initializer (never SN_INIT_NONE), with
 * the random stream of (graph seed, variable id): bit-identical on every
 * CPU (S17). */
void sn_initializer_fill(const sn_initializer *init, uint64_t seed, uint64_t id,
                         const sn_shape *shape, float *out, int64_t count);

/* The variable's value for writing in place, sn_variable_size() floats,
 * which the caller writes every one of; bumps its version (S24) as
 * sn_variable_assign() does. For loaders that convert straight into the
 * variable's storage. */
float *sn_variable_begin_write(sn_variable *variable);

/* Makes the variable's value the `size` floats at `values`, which lie in
 * `file` (sn_checkpoint_f32_in_file), taking over that hold; bumps its
 * version. */
void sn_variable_set_in_file(sn_variable *variable, const float *values,
                             struct sn_mapped_file *file);

/* The current value (the initializer's, filled now if not yet: thread-
 * safe), as sn_variable_value. */
const float *sn_variable_data(sn_variable *variable);

/* When the value lies in a mapped file, lets go of its pages
 * (sn_mapped_file_evict): for a weight just packed, which the process
 * then holds once, packed, not twice. */
void sn_variable_evict(const sn_variable *variable);

/* Frees what the variable owns. */
void sn_variable_free(sn_variable *variable);

/* The variable as a source of packs (S23, S24): its identity, its version
 * (read again when a pack is refreshed), its value and its shape. */
struct sn_pack_source sn_variable_source(const sn_variable *variable);

#endif
