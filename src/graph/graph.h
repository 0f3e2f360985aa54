/* The graph: its sticky error, the strings and unique names it hands out,
 * the stack of open scopes, its ops and the pack cache its sessions share.
 *
 * Variable scopes and variables are src/scope's, which builds on this: the
 * graph keeps pointers to them (types it does not look into), and the
 * public sn_graph_create() and sn_graph_destroy() are there too, around
 * sn_graph_init() and sn_graph_release(). */
#ifndef SN_GRAPH_GRAPH_H
#define SN_GRAPH_GRAPH_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/map.h"
#include "base/shape.h"
#include "base/text.h"
#include "scopenn.h"

struct sn_op;             /* src/graph/op.h */
struct sn_pack_cache;     /* src/pack/pack.h */
struct sn_variable_store; /* src/scope/scope.h */

/* One entry of the stack of open scopes. A variable-scope frame also
 * carries the name scope it opened (S19); a name-scope frame keeps the
 * variable scope of the frame below. */
struct sn_frame {
    sn_scope *scope;        /* the current variable scope in this frame (src/scope) */
    const char *name_scope; /* the current name scope ("" at the top) */
    bool is_name_scope;     /* opened by sn_name_scope_open */
};

struct sn_graph {
    uint64_t seed;
    sn_status status;
    char *error; /* the first error's message, or NULL */

    struct sn_frame *stack;
    size_t depth, stack_capacity;
    sn_scope *root; /* the variable scope when no frame is open */

    sn_map names_in_use; /* lowercased op and name-scope names -> use count */
    char **strings;      /* interned strings (name scopes), owned */
    size_t string_count, string_capacity;

    struct sn_op **ops; /* creation order; see src/graph/op.h */
    size_t op_count, op_capacity;

    struct sn_pack_cache *packs; /* made by the first session; src/pack */

    struct sn_variable_store *store; /* variable scopes and variables: src/scope */
};

/* Sets up an empty graph in `graph` (zeroed memory) with the given seed,
 * root variable scope and variable store, which stay the caller's. */
void sn_graph_init(sn_graph *graph, uint64_t seed, sn_scope *root, struct sn_variable_store *store);

/* Frees what sn_graph_init() and the graph's use made (ops, names, the
 * stack, the pack cache, the error), not `graph` itself nor its root scope
 * and store. */
void sn_graph_release(sn_graph *graph);

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

/* Opens `frame` on top of the stack; false (nothing recorded) when out of
 * memory. */
bool sn_graph_push_frame(sn_graph *graph, struct sn_frame frame);

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

#endif
