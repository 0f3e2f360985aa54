/* Graph internals shared by src/scope, src/graph and src/runtime. */
#ifndef SN_SCOPE_GRAPH_H
#define SN_SCOPE_GRAPH_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#include "base/map.h"
#include "base/shape.h"
#include "base/text.h"
#include "pack/pack.h"
#include "scopenn.h"

struct sn_scope {
    sn_graph *graph;
    char *name;                 /* full name; "" for the root */
    sn_reuse reuse;             /* SN_REUSE_FALSE (0), SN_REUSE_TRUE or SN_AUTO_REUSE */
    sn_initializer initializer; /* default; SN_INIT_VALUES points at `values` */
    float *values;              /* owned copy of a default SN_INIT_VALUES */
};

/* One entry of the stack of open scopes. A variable-scope frame also
 * carries the name scope it opened (S19); a name-scope frame keeps the
 * variable scope of the frame below. */
struct sn_frame {
    sn_scope *scope;        /* the current variable scope in this frame */
    const char *name_scope; /* the current name scope ("" at the top) */
    bool is_name_scope;     /* opened by sn_name_scope_open */
};

struct sn_variable {
    sn_graph *graph;
    char *name; /* "foo/v" */
    sn_shape shape;
    sn_dtype dtype;
    int64_t size;
    float *value; /* 64-byte aligned, `size` floats */
    uint64_t id, version;
    sn_tensor *tensor; /* the VariableV2 op's output: "foo/v:0", or "foo/v_1:0" if an op
                        * was named foo/v first (one namespace, S20) */
};

struct sn_graph {
    uint64_t seed;
    sn_status status;
    char *error; /* the first error's message, or NULL */

    sn_scope root;
    sn_scope **scopes; /* every scope object made, owned */
    size_t scope_count, scope_capacity;
    struct sn_frame *stack;
    size_t depth, stack_capacity;

    sn_map names_in_use; /* lowercased op and name-scope names -> use count */
    char **strings;      /* interned strings (name scopes), owned */
    size_t string_count, string_capacity;

    sn_variable **variables; /* creation order */
    size_t variable_count, variable_capacity;
    sn_map variables_by_name;

    struct sn_op **ops; /* creation order; see src/graph/op.h */
    size_t op_count, op_capacity;

    struct sn_pack_cache *packs; /* made by the first session; src/pack */
};

/* Records `status` and a printf-style message on the graph, unless an error
 * is already recorded (the first one wins). Returns `status`, so a failing
 * path can `return sn_graph_fail(...)`. */
sn_status sn_graph_fail(sn_graph *graph, sn_status status, const char *format, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* True if an error is recorded: builder calls then return NULL at once. */
bool sn_graph_failed(const sn_graph *graph);

/* A copy of `s` owned by the graph until it is destroyed; NULL (and an
 * SN_ERR_OUT_OF_MEMORY recorded) when out of memory. */
const char *sn_graph_intern(sn_graph *graph, const char *s);

/* The innermost frame, or a frame for the root when none is open. */
struct sn_frame sn_graph_top(const sn_graph *graph);

/* Validates an op, variable or scope name (S3): [A-Za-z0-9.][A-Za-z0-9_.\-/]*,
 * with no empty path component and no trailing "/". On failure records an
 * SN_ERR_INVALID_ARGUMENT naming `what` and the name, and returns false. */
bool sn_check_name(sn_graph *graph, const char *name, const char *what);

/* What sn_unique_name marked, so that a call that fails later can give
 * the name back (a failed builder call creates nothing, its name
 * included): the lowercased name and the generated one, or NULL. */
struct sn_name_claim {
    char *key, *candidate;
};

/* TensorFlow's Graph.unique_name: `name` (already prefixed by its name
 * scope) if unused, else name_1, name_2, ... (case-insensitively unique,
 * never handed out twice); marks the result used. Returns an interned
 * string, or NULL (error recorded, nothing marked) when out of memory.
 * With `claim`, the caller must end it with sn_name_release (the call
 * failed: the name is free again) or sn_name_keep; NULL keeps the name. */
const char *sn_unique_name(sn_graph *graph, const char *name, struct sn_name_claim *claim);
void sn_name_release(sn_graph *graph, struct sn_name_claim *claim);
void sn_name_keep(struct sn_name_claim *claim);

/* `name` escaped for a message (quotes, backslashes, control characters
 * and bytes that are not UTF-8: see base/text.h), in `buf`; returns buf. */
const char *sn_escape_name(char buf[SN_ESCAPED_NAME], const char *name);

/* "a/b" from "a" and "b"; "b" when `prefix` is empty. Heap string (sn_free),
 * or NULL when out of memory. */
char *sn_join_name(const char *prefix, const char *name);

/* Fills a variable's value from an initializer (never SN_INIT_NONE), with
 * the random stream of (graph seed, variable id): bit-identical on every
 * CPU (S17). */
void sn_initializer_fill(const sn_initializer *init, uint64_t seed, uint64_t id,
                         const sn_shape *shape, float *out, int64_t count);

/* The variable's value for writing in place, sn_variable_size() floats;
 * bumps its version (S24) as sn_variable_assign() does. For loaders that
 * convert straight into the variable's storage. */
float *sn_variable_begin_write(sn_variable *variable);

/* The variable as a source of packs (S23, S24): its identity, its version
 * (read again when a pack is refreshed), its value and its shape. */
struct sn_pack_source sn_variable_source(const sn_variable *variable);

#endif
