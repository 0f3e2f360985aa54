/* tf.get_variable and the variable store (SEMANTICS.md S1, S3-S7, S14-S15,
 * S21-S22). */
#include <pthread.h>
#include <string.h>

#include "base/alloc.h"
#include "graph/op.h"
#include "ops/variable.h"
#include "scope/safetensors.h"
#include "scope/scope.h"

/* Checks a shape a caller gave for a variable; records the error. */
static bool check_shape(sn_graph *g, const char *full, const sn_shape *s) {
    char text[160];
    if (s->rank < 0 || s->rank > SN_MAX_RANK) {
        sn_graph_fail(g, SN_ERR_INVALID_ARGUMENT, "Variable %s: rank %d is not in [0, %d]", full,
                      s->rank, SN_MAX_RANK);
        return false;
    }
    for (int i = 0; i < s->rank; i++)
        if (s->dims[i] < 0) {
            sn_shape_format(s, text, sizeof text);
            sn_graph_fail(g, SN_ERR_INVALID_ARGUMENT,
                          "Variable %s: shape %s has a negative dimension; variables need a "
                          "fully defined shape",
                          full, text);
            return false;
        }
    int64_t n = sn_shape_elements(s);
    if (n < 0 || (uint64_t)n > SIZE_MAX / sizeof(float) / 2) {
        sn_shape_format(s, text, sizeof text);
        sn_graph_fail(g, SN_ERR_INVALID_ARGUMENT, "Variable %s: shape %s has too many elements",
                      full, text);
        return false;
    }
    return true;
}

static bool check_initializer(sn_graph *g, const char *full, const sn_initializer *init) {
    if ((unsigned)init->kind > SN_INIT_VALUES) {
        sn_graph_fail(g, SN_ERR_INVALID_ARGUMENT, "Variable %s: initializer kind %d is not valid",
                      full, (int)init->kind);
        return false;
    }
    if (init->kind == SN_INIT_VALUES) {
        if (!init->values) {
            sn_graph_fail(g, SN_ERR_INVALID_ARGUMENT,
                          "Variable %s: the values initializer has no values (NULL)", full);
            return false;
        }
        if (!check_shape(g, full, &init->shape)) return false;
    }
    if ((init->kind == SN_INIT_RANDOM_NORMAL || init->kind == SN_INIT_TRUNCATED_NORMAL) &&
        !(init->b >= 0.0f)) {
        sn_graph_fail(g, SN_ERR_INVALID_ARGUMENT, "Variable %s: stddev %g must be >= 0", full,
                      (double)init->b);
        return false;
    }
    if (init->kind == SN_INIT_RANDOM_UNIFORM && !(init->a <= init->b)) {
        sn_graph_fail(g, SN_ERR_INVALID_ARGUMENT,
                      "Variable %s: random_uniform needs minval <= maxval, got [%g, %g)", full,
                      (double)init->a, (double)init->b);
        return false;
    }
    return true;
}

/* S7: a reuse call's shape, if given, must equal the stored one. */
static bool check_shared(sn_graph *g, const sn_variable *v, const sn_shape *shape, sn_dtype dtype) {
    if (shape->rank != SN_RANK_UNKNOWN && !sn_shape_equal(shape, &v->shape)) {
        char want[160], found[160];
        sn_shape_format(shape, want, sizeof want);
        sn_shape_format(&v->shape, found, sizeof found);
        sn_graph_fail(g, SN_ERR_SHAPE_MISMATCH,
                      "Trying to share variable %s, but specified shape %s and found shape %s.",
                      v->name, want, found);
        return false;
    }
    if (dtype != SN_DTYPE_UNSPECIFIED && dtype != v->dtype) {
        sn_graph_fail(g, SN_ERR_DTYPE_MISMATCH,
                      "Trying to share variable %s, but specified dtype %s and found dtype %s.",
                      v->name, sn_dtype_name(dtype), sn_dtype_name(v->dtype));
        return false;
    }
    return true;
}

void sn_variable_free(sn_variable *v) {
    if (!v) return;
    sn_free(v->name);
    sn_aligned_free(v->own);
    sn_mapped_file_release(v->file);
    sn_free(v);
}

/* Whole cache lines, so that vector kernels may read the tail. */
static size_t value_bytes(const sn_variable *v) {
    return ((size_t)v->size * sizeof(float) + 63) & ~(size_t)63;
}

/* `own` as the value, its tail zeroed: the caller writes the rest. */
static float *own_value(sn_variable *v) {
    sn_mapped_file_release(v->file);
    v->file = NULL;
    memset(v->own + v->size, 0, value_bytes(v) - (size_t)v->size * sizeof(float));
    v->value = v->own;
    return v->own;
}

/* Serializes the filling of pending values, which sessions of one graph
 * made on several threads may read at once. */
static pthread_mutex_t fill_lock = PTHREAD_MUTEX_INITIALIZER;

const float *sn_variable_data(sn_variable *v) {
    if (atomic_load_explicit(&v->pending, memory_order_acquire)) {
        pthread_mutex_lock(&fill_lock);
        if (atomic_load_explicit(&v->pending, memory_order_relaxed)) {
            sn_initializer_fill(&v->init, v->seed, v->id, &v->shape, own_value(v), v->size);
            atomic_store_explicit(&v->pending, false, memory_order_release);
        }
        pthread_mutex_unlock(&fill_lock);
    }
    return v->value;
}

/* Creates variable `full`; the caller has checked that it does not exist. */
static sn_variable *create(sn_graph *g, char *full, sn_shape shape, sn_dtype dtype,
                           sn_initializer init) {
    const sn_scope *scope = sn_graph_top(g).scope;
    if (dtype != SN_DTYPE_UNSPECIFIED && dtype != SN_F32) {
        sn_graph_fail(g, SN_ERR_UNSUPPORTED,
                      "Variable %s: dtype %s variables are not supported; use float32", full,
                      sn_dtype_name(dtype));
        return NULL;
    }
    if (init.kind == SN_INIT_NONE) init = scope->initializer;              /* S16 */
    if (init.kind == SN_INIT_NONE) init = sn_glorot_uniform_initializer(); /* S15 */
    if (init.kind == SN_INIT_VALUES) { /* S14: the shape comes from the value */
        if (shape.rank == SN_RANK_UNKNOWN) {
            shape = init.shape;
        } else if (!sn_shape_equal(&shape, &init.shape)) {
            char want[160], given[160];
            sn_shape_format(&shape, want, sizeof want);
            sn_shape_format(&init.shape, given, sizeof given);
            sn_graph_fail(
                g, SN_ERR_SHAPE_MISMATCH,
                "Variable %s: specified shape %s but the initializer's value has shape %s", full,
                want, given);
            return NULL;
        }
    }
    if (shape.rank == SN_RANK_UNKNOWN) {
        sn_graph_fail(g, SN_ERR_INVALID_ARGUMENT,
                      "Variable %s: the shape must be given to create a variable (or the "
                      "initializer must carry values)",
                      full);
        return NULL;
    }
    if (!check_shape(g, full, &shape)) return NULL;

    struct sn_variable_store *st = g->store;
    int64_t n = sn_shape_elements(&shape);
    sn_variable *v = sn_calloc(1, sizeof *v);
    if (!v) goto oom;
    v->graph = g;
    v->shape = shape;
    v->dtype = SN_F32;
    v->size = n;
    v->id = st->variable_count;
    v->version = 1;
    if (!(v->name = sn_strdup(full))) goto oom;
    if (!(v->own = sn_aligned_alloc(64, value_bytes(v)))) goto oom;
    v->value = v->own;
    if (init.kind == SN_INIT_VALUES) { /* borrowed: read now */
        sn_initializer_fill(&init, g->seed, v->id, &shape, own_value(v), n);
    } else {
        v->init = init;
        v->seed = g->seed;
        atomic_store(&v->pending, true);
    }

    /* Register: list slot, name table, op. Each step undoes cleanly if a
     * later one fails, so nothing is half-made. */
    if (!sn_ptr_reserve((void ***)&st->variables, st->variable_count, &st->variable_capacity) ||
        !sn_map_put(&st->variables_by_name, full, v))
        goto oom;
    if (!(v->tensor = sn_op_make_variable(g, v, v->name, v->shape))) {
        sn_map_put(&st->variables_by_name, full, NULL);
        sn_variable_free(v);
        return NULL;
    }
    st->variables[st->variable_count++] = v;
    return v;
oom:
    sn_variable_free(v);
    sn_graph_fail(g, SN_ERR_OUT_OF_MEMORY, "out of memory creating variable %s", full);
    return NULL;
}

sn_variable *sn_get_variable_dtype(sn_graph *g, const char *name, sn_shape shape, sn_dtype dtype,
                                   sn_initializer init) {
    if (!g || sn_graph_failed(g)) return NULL;
    if (!sn_check_name(g, name, "Variable")) return NULL;
    if ((unsigned)dtype >= SN_DTYPE_COUNT) {
        sn_graph_fail(g, SN_ERR_INVALID_ARGUMENT, "Variable %s: dtype %d is not an sn_dtype", name,
                      (int)dtype);
        return NULL;
    }
    const sn_scope *scope = sn_graph_top(g).scope;
    char *full = sn_join_name(scope->name, name);
    sn_variable *v = NULL;
    if (!full) {
        sn_graph_fail(g, SN_ERR_OUT_OF_MEMORY, "out of memory creating variable %s", name);
        return NULL;
    }
    if (!check_initializer(g, full, &init)) goto done;
    if (shape.rank != SN_RANK_UNKNOWN && !check_shape(g, full, &shape)) goto done;

    sn_variable *found = sn_map_get(&g->store->variables_by_name, full);
    if (found) {
        if (scope->reuse == SN_REUSE_FALSE) { /* S4 */
            sn_graph_fail(g, SN_ERR_ALREADY_EXISTS,
                          "Variable %s already exists, disallowed. Did you mean to set "
                          "reuse=true or reuse=AUTO_REUSE in the variable scope?",
                          full);
            goto done;
        }
        /* A values initializer given on reuse states the shape too. */
        sn_shape wanted =
            shape.rank == SN_RANK_UNKNOWN && init.kind == SN_INIT_VALUES ? init.shape : shape;
        if (check_shared(g, found, &wanted, dtype)) v = found; /* S6, S7 */
        goto done;
    }
    if (scope->reuse == SN_REUSE_TRUE) { /* S5 */
        sn_graph_fail(g, SN_ERR_NOT_FOUND,
                      "Variable %s does not exist, or was not created with get_variable(). Did "
                      "you mean to set reuse=AUTO_REUSE in the variable scope?",
                      full);
        goto done;
    }
    v = create(g, full, shape, dtype, init);
done:
    sn_free(full);
    return v;
}

sn_variable *sn_get_variable(sn_graph *g, const char *name, sn_shape shape, sn_initializer init) {
    return sn_get_variable_dtype(g, name, shape, SN_DTYPE_UNSPECIFIED, init);
}

const char *sn_variable_name(const sn_variable *v) { return v ? v->name : ""; }
const char *sn_variable_tensor_name(const sn_variable *v) { return v ? v->tensor->name : ""; }
sn_shape sn_variable_shape(const sn_variable *v) { return v ? v->shape : SN_SHAPE_UNKNOWN; }
sn_dtype sn_variable_dtype(const sn_variable *v) { return v ? v->dtype : SN_DTYPE_UNSPECIFIED; }
int64_t sn_variable_size(const sn_variable *v) { return v ? v->size : 0; }
/* Logically const: a pending value is filled, as it would have been at
 * creation. */
const float *sn_variable_value(const sn_variable *v) {
    return v ? sn_variable_data((sn_variable *)v) : NULL;
}
uint64_t sn_variable_id(const sn_variable *v) { return v ? v->id : 0; }
uint64_t sn_variable_version(const sn_variable *v) { return v ? v->version : 0; }

struct sn_pack_source sn_variable_source(const sn_variable *v) {
    const float *data = sn_variable_value(v);
    return (struct sn_pack_source){
        .id = v->id, .version = &v->version, .data = data, .shape = v->shape, .value = &v->value};
}

void sn_variable_evict(const sn_variable *v) {
    if (v->file) sn_mapped_file_evict(v->value, (size_t)v->size * sizeof(float));
}

float *sn_variable_begin_write(sn_variable *v) {
    atomic_store(&v->pending, false);
    v->version++;
    return own_value(v);
}

void sn_variable_set_in_file(sn_variable *v, const float *values, struct sn_mapped_file *file) {
    atomic_store(&v->pending, false);
    sn_mapped_file_release(v->file);
    v->file = file;
    v->value = values;
    v->version++;
}

sn_status sn_variable_assign(sn_variable *v, const float *values, int64_t count) {
    if (!v || (!values && count != 0)) return SN_ERR_INVALID_ARGUMENT;
    if (count != v->size) return SN_ERR_SHAPE_MISMATCH;
    float *dst = sn_variable_begin_write(v);
    if (count) memmove(dst, values, (size_t)count * sizeof(float)); /* values may be NULL if 0 */
    return SN_OK;
}

sn_tensor *sn_var(sn_graph *g, sn_variable *v) {
    if (!g || sn_graph_failed(g)) return NULL;
    if (!v || v->graph != g) {
        sn_graph_fail(g, SN_ERR_INVALID_ARGUMENT, "sn_var: the variable is %s",
                      v ? "from another graph" : "NULL");
        return NULL;
    }
    return v->tensor;
}

size_t sn_graph_variable_count(const sn_graph *g) { return g ? g->store->variable_count : 0; }

sn_variable *sn_graph_variable(const sn_graph *g, size_t i) {
    return g && i < g->store->variable_count ? g->store->variables[i] : NULL;
}

sn_variable *sn_graph_find_variable(const sn_graph *g, const char *name) {
    if (!g || !name) return NULL;
    size_t n = strlen(name);
    const struct sn_variable_store *st = g->store;
    if (n > 2 && strcmp(name + n - 2, ":0") == 0) { /* a tensor name: "x_1:0" if an op was x */
        for (size_t i = 0; i < st->variable_count; i++)
            if (strcmp(st->variables[i]->tensor->name, name) == 0) return st->variables[i];
        return NULL;
    }
    return sn_map_get(&st->variables_by_name, name);
}

sn_status sn_graph_assign(sn_graph *g, const char *name, sn_shape shape, const float *values) {
    if (!g || !name || !values) return SN_ERR_INVALID_ARGUMENT;
    sn_variable *v = sn_graph_find_variable(g, name);
    if (!v) return SN_ERR_NOT_FOUND;
    if (!sn_shape_equal(&shape, &v->shape)) return SN_ERR_SHAPE_MISMATCH;
    return sn_variable_assign(v, values, v->size);
}
