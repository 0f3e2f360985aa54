/*
 * scopenn: fast CPU inference for x86-64 (AVX2, AVX-512) and ARM (NEON),
 * with TensorFlow 1.x-style variable scopes for building models in C.
 *
 * A first look: which kernel set will this process use, and why?
 *
 *     #include <scopenn.h>
 *     #include <stdio.h>
 *
 *     int main(void) {
 *         sn_cpu_info info;
 *         sn_cpu_info_get(&info);
 *         printf("scopenn %s on %s: isa %s (%s)\n", sn_version(),
 *                info.arch, sn_isa_name(info.isa), info.reason);
 *         // Use no more than AVX2, e.g. to compare kernel sets:
 *         if (sn_set_max_isa(SN_ISA_AVX2) != SN_OK)
 *             fprintf(stderr, "%s\n", sn_isa_reason());
 *         return 0;
 *     }
 *
 * The kernel set ("ISA") is chosen once per process from the CPU's features:
 * avx512 > avx2 > scalar on x86-64, neon > scalar on ARM. The environment
 * variable SCOPENN_ISA=scalar|avx2|avx512|neon, read once at first use, caps
 * the choice, as does sn_set_max_isa(). Asking for more than the CPU has is
 * never fatal: the best kernel set within the cap is used, with a warning.
 *
 * Thread safety: every function in this header may be called from any
 * thread unless its comment says otherwise.
 */
#ifndef SCOPENN_H
#define SCOPENN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Marks the library's API: the only symbols the shared library exports
 * (it is built with -fvisibility=hidden). */
#if defined(__GNUC__) || defined(__clang__)
#define SN_API __attribute__((visibility("default")))
#else
#define SN_API
#endif

/* ------------------------------------------------------------------------ */
/* Version                                                                  */
/* ------------------------------------------------------------------------ */

/* The version of this header. CMake reads the library version from here. */
#define SN_VERSION_MAJOR 0
#define SN_VERSION_MINOR 1
#define SN_VERSION_PATCH 0
/* One number that orders versions: 0.1.0 is 100, 1.2.3 is 10203. */
#define SN_VERSION_NUMBER (SN_VERSION_MAJOR * 10000 + SN_VERSION_MINOR * 100 + SN_VERSION_PATCH)

/* The version of the library linked in, "MAJOR.MINOR.PATCH". It may differ
 * from the SN_VERSION_* macros when the header and library do not match. */
SN_API const char *sn_version(void);

/* ------------------------------------------------------------------------ */
/* Status codes                                                             */
/* ------------------------------------------------------------------------ */

typedef enum sn_status {
    SN_OK = 0,
    /* A NULL pointer, an out-of-range enum value or a malformed name. */
    SN_ERR_INVALID_ARGUMENT,
    /* The request is valid but this CPU or build cannot honour it exactly;
     * the call did the closest thing it could and says what in its message. */
    SN_ERR_UNSUPPORTED,
    /* An allocation failed; nothing was changed. */
    SN_ERR_OUT_OF_MEMORY,
    /* S4: a variable with this full name exists and the scope does not reuse. */
    SN_ERR_ALREADY_EXISTS,
    /* S5: a reusing scope asked for a variable that does not exist; or a
     * name looked up (a variable, a checkpoint tensor) is not there. */
    SN_ERR_NOT_FOUND,
    /* S7 and op building: shapes that should agree do not. */
    SN_ERR_SHAPE_MISMATCH,
    /* S7: dtypes that should agree do not. */
    SN_ERR_DTYPE_MISMATCH,
    /* A call out of order, e.g. closing a scope that is not open. */
    SN_ERR_INVALID_STATE,
    /* A file could not be opened, read, mapped or written. */
    SN_ERR_IO,
    /* A file (a checkpoint) is malformed, truncated or hostile. */
    SN_ERR_CORRUPT,
    SN_STATUS_COUNT /* not a status: the number of codes */
} sn_status;

/* A short constant English description of a status, e.g. "invalid
 * argument". Never NULL: unknown values give "unknown status". */
SN_API const char *sn_status_string(sn_status status);

/* ------------------------------------------------------------------------ */
/* Memory                                                                   */
/* ------------------------------------------------------------------------ */

/* An allocator for the library's memory (an embedding app's pool, a
 * counting allocator in a test). Each function gets `user` first.
 * `allocate` and `reallocate` follow malloc and realloc (never called with
 * size 0); `allocate_aligned` returns `size` bytes aligned to `alignment`, a
 * power of two >= sizeof(void *), released by `free_aligned`. Any function
 * may return NULL: the call that needed it fails with SN_ERR_OUT_OF_MEMORY
 * and leaves nothing half-made.
 *
 * Every allocation scopenn's own code makes goes through it, and each is
 * freed through it. That includes checkpoints: their JSON headers are read
 * and written by scopenn itself, not by cJSON (whose allocator hooks are
 * process-wide, and belong to the host program if it uses cJSON), and
 * files are written without stdio (whose buffers come from malloc); and a
 * session's thread pool. What it does not see:
 *  - what the C library allocates for itself: a checkpoint file's mapping
 *    (mmap), and the translated text strerror() may load for an I/O error
 *    message under a locale other than C;
 *  - the worker threads themselves: their stacks and the C library's
 *    per-thread data, which pthread_create makes (threads - 1 of them for
 *    a session of `threads` > 1, until it is destroyed). */
typedef struct sn_allocator {
    void *(*allocate)(void *user, size_t size);
    void *(*reallocate)(void *user, void *ptr, size_t size);
    void (*free)(void *user, void *ptr);
    void *(*allocate_aligned)(void *user, size_t alignment, size_t size);
    void (*free_aligned)(void *user, void *ptr);
    void *user;
} sn_allocator;

/* Makes `allocator` (copied) the allocator of the whole process; NULL
 * restores the C library's. Every object must be freed under the allocator
 * it was made with: set it at start-up, before creating anything. Not
 * thread-safe: call it while no other thread uses the library. Returns
 * SN_ERR_INVALID_ARGUMENT (and changes nothing) if a function is NULL. */
SN_API sn_status sn_set_allocator(const sn_allocator *allocator);

/* ------------------------------------------------------------------------ */
/* Kernel sets and CPU features                                             */
/* ------------------------------------------------------------------------ */

/* A kernel set. Each is a rung on its architecture's ladder; SCALAR (the
 * portable C reference kernels) is on every ladder. */
typedef enum sn_isa {
    SN_ISA_SCALAR = 0,
    SN_ISA_AVX2,   /* x86-64: AVX2 + FMA, with the OS saving YMM state */
    SN_ISA_AVX512, /* x86-64: AVX-512F (+ AVX2, FMA), OS saving ZMM state */
    SN_ISA_NEON,   /* aarch64: ASIMD; armv7: NEON + VFPv4 (fused multiply-add) */
    SN_ISA_COUNT   /* not a kernel set: the number of them */
} sn_isa;

/* The lowercase name of a kernel set ("scalar", "avx2", "avx512", "neon"),
 * as SCOPENN_ISA spells it; "unknown" for values outside the enum. */
SN_API const char *sn_isa_name(sn_isa isa);

/* Parses a kernel set's name (case-insensitive). Returns SN_OK and sets *isa,
 * or SN_ERR_INVALID_ARGUMENT (and leaves *isa alone) for NULL or an unknown
 * name. */
SN_API sn_status sn_isa_from_name(const char *name, sn_isa *isa);

/* CPU features the library detects. The set that matters depends on the
 * architecture; the others are always reported absent. */
typedef enum sn_cpu_feature {
    /* x86-64 (CPUID, and XGETBV for what the OS saves on context switch) */
    SN_CPU_AVX2 = 0,
    SN_CPU_FMA,
    SN_CPU_AVX512F,
    SN_CPU_AVX512BW,
    SN_CPU_AVX512VL,
    SN_CPU_AVX512VNNI,
    SN_CPU_OS_YMM, /* XCR0: the OS saves SSE and AVX (YMM) state */
    SN_CPU_OS_ZMM, /* XCR0: the OS saves opmask and ZMM state */
    /* aarch64 (getauxval AT_HWCAP / AT_HWCAP2) */
    SN_CPU_ASIMD,
    SN_CPU_ASIMDDP,
    SN_CPU_FPHP,
    SN_CPU_ASIMDHP,
    SN_CPU_I8MM,
    /* armv7 (getauxval AT_HWCAP) */
    SN_CPU_NEON,
    SN_CPU_VFPV4,
    SN_CPU_FEATURE_COUNT /* not a feature: the number of them */
} sn_cpu_feature;

/* The lowercase name of a feature ("avx512f", "asimddp", "vfpv4", ...);
 * "unknown" for values outside the enum. */
SN_API const char *sn_cpu_feature_name(sn_cpu_feature feature);

/* What the library found and chose. Strings are static or owned by the
 * library and stay valid until the next sn_set_max_isa() call. */
typedef struct sn_cpu_info {
    const char *arch;       /* "x86_64", "aarch64", "arm" or "unknown" */
    sn_isa isa;             /* the kernel set in use now */
    sn_isa best_isa;        /* the best kernel set this CPU can run, uncapped */
    sn_isa max_isa;         /* the cap in force (SN_ISA_COUNT: no cap) */
    const char *cap_source; /* "SCOPENN_ISA", "sn_set_max_isa" or "none" */
    uint32_t features;      /* bit (1u << f) set for each detected sn_cpu_feature f */
    uint32_t isas;          /* bit (1u << i) set for each sn_isa this CPU can run */
    const char *reason;     /* one sentence: why `isa` was chosen */
} sn_cpu_info;

/* Fills *info with the detected features and the current choice. Detection
 * runs once per process, on first use of any function in this section. */
SN_API void sn_cpu_info_get(sn_cpu_info *info);

/* The kernel set in use now. */
SN_API sn_isa sn_cpu_isa(void);

/* Caps the kernel set for the whole process, overriding SCOPENN_ISA; the
 * cap SN_ISA_COUNT removes any cap (the environment's included). Later
 * sessions use the new choice; this does not reach into running ones.
 * Returns:
 *   SN_OK                    the CPU can run `max_isa`, which is now the
 *                            kernel set in use (or the cap was removed);
 *   SN_ERR_UNSUPPORTED       the CPU cannot run `max_isa`, or it belongs to
 *                            another architecture: the best kernel set below
 *                            the cap is used instead, and sn_isa_reason()
 *                            says which and why (the warning);
 *   SN_ERR_INVALID_ARGUMENT  `max_isa` is not an sn_isa; nothing changes.
 * Not meant to be raced with itself: call it from one thread at start-up. */
SN_API sn_status sn_set_max_isa(sn_isa max_isa);

/* One sentence saying why the current kernel set was chosen. Static or
 * library-owned; valid until the next sn_set_max_isa() call. */
SN_API const char *sn_isa_reason(void);

/* ------------------------------------------------------------------------ */
/* Shapes and dtypes                                                        */
/* ------------------------------------------------------------------------ */

#define SN_MAX_RANK 8

/* A shape: `rank` dimensions, outermost first. rank 0 is a scalar; rank
 * SN_RANK_UNKNOWN means "not given" where a call allows that. A dimension
 * of -1 means "unknown" (a placeholder's batch); variables never have one. */
typedef struct sn_shape {
    int rank;
    int64_t dims[SN_MAX_RANK];
} sn_shape;

#define SN_RANK_UNKNOWN (-1)

/* SN_SHAPE(2, 3) is the shape [2, 3]; up to SN_MAX_RANK dimensions. */
#define SN_SHAPE(...) ((sn_shape){.rank = SN__NARGS(__VA_ARGS__), .dims = {__VA_ARGS__}})
/* The shape of a scalar, [] (SN_SHAPE() cannot be written in C11). */
#define SN_SCALAR ((sn_shape){.rank = 0})
/* No shape given: take it from the stored variable or from the value. */
#define SN_SHAPE_UNKNOWN ((sn_shape){.rank = SN_RANK_UNKNOWN})
#define SN__NARGS(...) SN__NARGS_(__VA_ARGS__, 8, 7, 6, 5, 4, 3, 2, 1, 0)
#define SN__NARGS_(a1, a2, a3, a4, a5, a6, a7, a8, n, ...) n

/* Element types. Variables are float32 today; the others are read from
 * checkpoints (and converted) and are here so the enum need not change. */
typedef enum sn_dtype {
    SN_DTYPE_UNSPECIFIED = 0, /* in get_variable: float32 when creating, any when reusing */
    SN_F32,
    SN_F16,
    SN_BF16,
    SN_DTYPE_COUNT /* not a dtype: the number of them */
} sn_dtype;

/* TensorFlow's name of a dtype: "float32", "float16", "bfloat16";
 * "unspecified" for SN_DTYPE_UNSPECIFIED, "unknown" outside the enum. */
SN_API const char *sn_dtype_name(sn_dtype dtype);

/* ------------------------------------------------------------------------ */
/* Graphs                                                                   */
/* ------------------------------------------------------------------------ */

/* A graph owns everything built in it: variables, scopes, name scopes and
 * ops. Building a graph is single-threaded: no two calls on one graph (or on
 * anything it owns) may run at the same time. Reading a finished graph from
 * several threads is safe. */
typedef struct sn_graph sn_graph;

typedef struct sn_graph_options {
    /* Seed of the random initializers: the same seed and the same order of
     * variable creation give bit-identical values on every CPU and ISA. */
    uint64_t seed;
} sn_graph_options;

/* Creates an empty graph. `options` may be NULL (seed 0). Returns NULL only
 * when out of memory. Free it with sn_graph_destroy(). */
SN_API sn_graph *sn_graph_create(const sn_graph_options *options);

/* Frees the graph and everything it owns (variables, scopes, ops, tensors);
 * every handle from it becomes invalid. NULL is a no-op. */
SN_API void sn_graph_destroy(sn_graph *graph);

/* Errors are sticky, as in cairo: the first failing builder call (scope,
 * variable or op) records a status and a message naming the offending
 * object; every later builder call returns NULL and does nothing, keeping the
 * first message. A model builder can therefore check once, at the end.
 * Nothing is half-made: a failed call creates nothing. */

/* The graph's status: SN_OK or the first error. SN_ERR_INVALID_ARGUMENT for
 * a NULL graph. */
SN_API sn_status sn_graph_status(const sn_graph *graph);

/* The first error's message, e.g. "Variable conv1/weights already exists,
 * disallowed. Did you mean to set reuse=true or reuse=AUTO_REUSE in the
 * variable scope?"; "" when the status is SN_OK. Owned by the graph; valid
 * until the next call on it. */
SN_API const char *sn_graph_error(const sn_graph *graph);

/* Forgets the sticky error, so building can go on: a failed call left the
 * graph as it was before that call. Open scopes stay open. */
SN_API void sn_graph_clear_error(sn_graph *graph);

/* Records an error of the caller's own on the graph, as a failed builder
 * call does (sticky; the first error wins): for builders built on this API
 * (the model zoo, an app's layers). `status` is not SN_OK; `message` is
 * copied. Returns the status now recorded. */
SN_API sn_status sn_graph_record_error(sn_graph *graph, sn_status status, const char *message);

/* ------------------------------------------------------------------------ */
/* Initializers                                                             */
/* ------------------------------------------------------------------------ */

typedef enum sn_init_kind {
    SN_INIT_NONE = 0, /* none given: the scope's default, else glorot_uniform */
    SN_INIT_CONSTANT,
    SN_INIT_ZEROS,
    SN_INIT_ONES,
    SN_INIT_RANDOM_UNIFORM,
    SN_INIT_RANDOM_NORMAL,
    SN_INIT_TRUNCATED_NORMAL,
    SN_INIT_GLOROT_UNIFORM,
    SN_INIT_VALUES,
} sn_init_kind;

/* How a variable gets its first value; a small value type, made by the
 * functions below. A zeroed struct ({0}, SN_NO_INITIALIZER) means none. */
typedef struct sn_initializer {
    sn_init_kind kind;
    float a, b;          /* constant: a; uniform: [a, b); normals: mean a, stddev b */
    const float *values; /* SN_INIT_VALUES: borrowed, read during get_variable only */
    sn_shape shape;      /* SN_INIT_VALUES: the shape of `values` */
} sn_initializer;

#define SN_NO_INITIALIZER ((sn_initializer){.kind = SN_INIT_NONE})

SN_API sn_initializer sn_constant_initializer(float value);
SN_API sn_initializer sn_zeros_initializer(void);
SN_API sn_initializer sn_ones_initializer(void);
/* Uniform on [minval, maxval). */
SN_API sn_initializer sn_random_uniform_initializer(float minval, float maxval);
SN_API sn_initializer sn_random_normal_initializer(float mean, float stddev);
/* Normal, redrawn until within two standard deviations of the mean. */
SN_API sn_initializer sn_truncated_normal_initializer(float mean, float stddev);
/* Uniform on [-limit, limit), limit = sqrt(6 / (fan_in + fan_out)), fans as
 * TensorFlow computes them (conv kernels: receptive field x channels). The
 * default for float variables. */
SN_API sn_initializer sn_glorot_uniform_initializer(void);
/* The given values, in row-major order, with their shape: the variable's
 * shape may then be omitted (S14). `values` is copied by get_variable. */
SN_API sn_initializer sn_values_initializer(const float *values, sn_shape shape);

/* ------------------------------------------------------------------------ */
/* Variable scopes and name scopes                                          */
/* ------------------------------------------------------------------------ */

/* A variable scope. Each opening makes a new scope object, owned by the
 * graph and valid until the graph is destroyed, so a handle can be captured
 * and re-entered later from anywhere (S11). */
typedef struct sn_scope sn_scope;

/* reuse, as tf.variable_scope takes it. */
typedef enum sn_reuse {
    SN_REUSE_INHERIT = 0, /* TensorFlow's None: take the enclosing scope's */
    SN_REUSE_TRUE = 1,    /* get_variable returns existing variables only */
    SN_AUTO_REUSE = 2,    /* get_variable creates if missing, else returns */
} sn_reuse;
/* TensorFlow's reuse=False means the same as None: inherit (S8). */
#define SN_REUSE_FALSE SN_REUSE_INHERIT

/* Opens variable scope `name` inside the current one: variables created
 * in it are named "<current>/<name>/..." (S2). Also opens a name scope of
 * the same name, made unique ("name", "name_1", ...; S19, S20). `reuse`
 * INHERIT keeps the enclosing scope's reuse; once a scope reuses, every
 * sub-scope does (S8). The new scope inherits the enclosing default
 * initializer. Returns the new scope, or NULL on error (sticky): an invalid
 * name (S3) or an earlier error. */
SN_API sn_scope *sn_variable_scope_open(sn_graph *graph, const char *name, sn_reuse reuse);

/* tf.variable_scope(name, default_name): opens `name` if it is not NULL,
 * as sn_variable_scope_open(); else `default_name` made unique among the
 * variable scopes opened in the current one since it was opened (S26):
 * "conv", then "conv_1", "conv_2", ... A scope opened by an explicit name
 * counts too (after "conv", the default name "conv" gives "conv_1"); when
 * a scope closes, the counts of the scopes inside it start again, so a
 * block of default-named scopes opened again under reuse gets the same
 * names, hence the same variables. Errors (sticky): neither name given,
 * an invalid name (S3), or SN_REUSE_TRUE without a name (as TensorFlow:
 * there is nothing to reuse). */
SN_API sn_scope *sn_variable_scope_open_default(sn_graph *graph, const char *name,
                                                const char *default_name, sn_reuse reuse);

/* As sn_variable_scope_open(), and sets the scope's default initializer
 * (S16) unless `initializer` is SN_NO_INITIALIZER. */
SN_API sn_scope *sn_variable_scope_open_init(sn_graph *graph, const char *name, sn_reuse reuse,
                                      sn_initializer initializer);

/* Re-enters a captured scope (S11-S13): variables are named under the
 * captured scope's full name, wherever this is called. reuse is the
 * captured scope's unless `reuse` is SN_REUSE_TRUE or SN_AUTO_REUSE; the
 * default initializer is the captured one unless `initializer` is given. The
 * enclosing scope's reuse is not inherited, and the op name scope is left
 * as it is. Returns a new scope object (closed with
 * sn_variable_scope_close), or NULL on error (sticky). */
SN_API sn_scope *sn_variable_scope_reenter(sn_graph *graph, sn_scope *captured, sn_reuse reuse,
                                    sn_initializer initializer);

/* Closes `scope`, which must be open in `graph`, and with it any scope or
 * name scope opened inside it and still open (so a block left early by
 * `break` is closed by its enclosing scope's close). NULL is a no-op, which
 * lets a failed open be closed unconditionally. Works after an error too.
 * Returns SN_OK, or SN_ERR_INVALID_STATE (recorded on the graph) if `scope`
 * is not open. */
SN_API sn_status sn_variable_scope_close(sn_graph *graph, sn_scope *scope);

/* The innermost open variable scope; the root scope (name "") when none is
 * open. NULL only for a NULL graph. */
SN_API sn_scope *sn_current_scope(const sn_graph *graph);

/* A scope's full name ("foo/bar"; "" for the root). Owned by the graph. */
SN_API const char *sn_scope_name(const sn_scope *scope);

/* A scope's reuse: SN_REUSE_FALSE (not reusing), SN_REUSE_TRUE or
 * SN_AUTO_REUSE. */
SN_API sn_reuse sn_scope_reuse(const sn_scope *scope);

/* A scope's default initializer (kind SN_INIT_NONE when it has none). */
SN_API sn_initializer sn_scope_initializer(const sn_scope *scope);

/* Switches `scope` to reuse for the rest of its block and for every
 * sub-scope opened after (S9); nothing switches it back. */
SN_API void sn_scope_reuse_variables(sn_scope *scope);

/* Opens a name scope: op names only (S19). A name is made unique in the
 * graph ("bar", "bar_1", ...); a name ending in "/" re-enters that exact
 * name scope ("foo/bar/"), as TensorFlow does. Returns the name scope now
 * current ("foo/bar_1"), owned by the graph, or NULL on error (sticky). */
SN_API const char *sn_name_scope_open(sn_graph *graph, const char *name);

/* Closes the innermost name scope opened by sn_name_scope_open(). Returns
 * SN_ERR_INVALID_STATE (recorded on the graph) if the innermost open scope
 * is not a name scope. Works after an error too. */
SN_API sn_status sn_name_scope_close(sn_graph *graph);

/* The current name scope, "" at the top. Owned by the graph. */
SN_API const char *sn_current_name_scope(const sn_graph *graph);

/* "with" blocks. The statement or block after the macro runs once inside
 * the scope, which is closed when it ends normally or by `continue`:
 *
 *     SN_WITH_VARIABLE_SCOPE(g, "conv1") x = conv_relu(g, x, 5, 32);
 *     SN_WITH_VARIABLE_SCOPE_AS(g, "image_filters", SN_REUSE_INHERIT, scope) {
 *         r1 = my_image_filter(g, image1);
 *         sn_scope_reuse_variables(scope);
 *         r2 = my_image_filter(g, image2);
 *     }
 *
 * `break` leaves the block WITHOUT closing the scope, and so do `return`
 * and `goto` out of it: close it yourself first (sn_variable_scope_close
 * with sn_current_scope(g)), or let the enclosing scope's close do it. If
 * the open fails (sticky error), the block still runs once, and every
 * builder call in it returns NULL. */
#define SN_WITH_VARIABLE_SCOPE(g, name)                                                            \
    SN_WITH_VARIABLE_SCOPE_AS(g, name, SN_REUSE_INHERIT, SN__UNIQUE(sn__scope_))
#define SN_WITH_VARIABLE_SCOPE_REUSE(g, name, reuse)                                               \
    SN_WITH_VARIABLE_SCOPE_AS(g, name, reuse, SN__UNIQUE(sn__scope_))
#define SN_WITH_VARIABLE_SCOPE_AS(g, name, reuse, var)                                             \
    SN__WITH(g, var, sn_variable_scope_open((g), (name), (reuse)))
/* Re-enters captured scope `captured` for the block (S11). */
#define SN_WITH_CAPTURED_SCOPE(g, captured, reuse)                                                 \
    SN__WITH(g, SN__UNIQUE(sn__scope_),                                                            \
             sn_variable_scope_reenter((g), (captured), (reuse), SN_NO_INITIALIZER))
/* A name scope for the block; same rules for break, return and goto. */
#define SN_WITH_NAME_SCOPE(g, name)                                                                \
    for (int SN__UNIQUE(sn__w_) = (sn_name_scope_open((g), (name)) != NULL) + 1;                   \
         SN__UNIQUE(sn__w_);                                                                       \
         SN__UNIQUE(sn__w_) == 2 ? (void)sn_name_scope_close(g) : (void)0, SN__UNIQUE(sn__w_) = 0)

#define SN__WITH(g, var, opener)                                                                   \
    for (int SN__UNIQUE(sn__w_) = 1; SN__UNIQUE(sn__w_); SN__UNIQUE(sn__w_) = 0)                   \
        for (sn_scope *var = (opener); SN__UNIQUE(sn__w_);                                         \
             SN__UNIQUE(sn__w_) = 0, (void)sn_variable_scope_close((g), var))
#define SN__UNIQUE(prefix) SN__CAT(prefix, __LINE__)
#define SN__CAT(a, b) SN__CAT_(a, b)
#define SN__CAT_(a, b) a##b

/* ------------------------------------------------------------------------ */
/* Variables                                                                */
/* ------------------------------------------------------------------------ */

/* A variable: a named, shaped float32 value owned by its graph. Its
 * identity (the handle, and sn_variable_id) is stable for the graph's life;
 * its version changes whenever its value does, so packed copies of it can
 * be invalidated (S23, S24). */
typedef struct sn_variable sn_variable;

/* tf.get_variable: gets or creates the variable "<current scope>/<name>".
 *
 * In a scope that does not reuse it creates the variable, failing with
 * SN_ERR_ALREADY_EXISTS if the name exists (S4). With reuse it returns the
 * very same handle (S6), failing with SN_ERR_NOT_FOUND if there is none
 * (S5); with AUTO_REUSE it creates or returns. `shape` may be
 * SN_SHAPE_UNKNOWN when reusing, or when `initializer` carries values (their
 * shape is used; a different `shape` is an error). When reusing, a given
 * shape must equal the stored one (SN_ERR_SHAPE_MISMATCH, S7). The
 * initializer is the given one, else the scope's default, else
 * glorot_uniform (S15, S16); it is not used when reusing. Returns NULL on
 * error (sticky): invalid name (S3), negative or overflowing dimensions, a
 * rank above SN_MAX_RANK, or an earlier error. */
SN_API sn_variable *sn_get_variable(sn_graph *graph, const char *name, sn_shape shape,
                             sn_initializer initializer);

/* As sn_get_variable(), with a dtype: SN_DTYPE_UNSPECIFIED or SN_F32 create
 * a float32 variable; when reusing, a dtype other than the stored one is
 * SN_ERR_DTYPE_MISMATCH (S7). Creating other dtypes is SN_ERR_UNSUPPORTED. */
SN_API sn_variable *sn_get_variable_dtype(sn_graph *graph, const char *name, sn_shape shape,
                                   sn_dtype dtype, sn_initializer initializer);

/* The full name, "foo/v" (S1). Owned by the graph. */
SN_API const char *sn_variable_name(const sn_variable *variable);
/* The tensor name, "foo/v:0". Variables' ops share one namespace with
 * every other op (S20), as in TensorFlow: when an op already has the name
 * foo/v (case-insensitively), the variable's op is foo/v_1 and its tensor
 * "foo/v_1:0", while the variable keeps its name foo/v for reuse and
 * checkpoints. Owned by the graph. */
SN_API const char *sn_variable_tensor_name(const sn_variable *variable);
SN_API sn_shape sn_variable_shape(const sn_variable *variable);
SN_API sn_dtype sn_variable_dtype(const sn_variable *variable);
/* The number of elements (1 for a scalar). */
SN_API int64_t sn_variable_size(const sn_variable *variable);
/* The current value, row-major, sn_variable_size() floats, 64-byte aligned.
 * Owned by the graph; valid until the value is next set. */
SN_API const float *sn_variable_value(const sn_variable *variable);
/* A number unique to this variable within its graph, in creation order
 * (0, 1, 2, ...). */
SN_API uint64_t sn_variable_id(const sn_variable *variable);
/* Starts at 1 and grows by one each time the value is set. */
SN_API uint64_t sn_variable_version(const sn_variable *variable);

/* Sets the value from `count` floats (row-major). `count` must equal
 * sn_variable_size() (SN_ERR_SHAPE_MISMATCH otherwise; nothing changes);
 * `values` may be NULL only when `count` is 0 (SN_ERR_INVALID_ARGUMENT).
 * Bumps the version. Not a builder call: it works after a sticky error, and
 * its own errors are returned, not recorded. */
SN_API sn_status sn_variable_assign(sn_variable *variable, const float *values, int64_t count);

/* The graph's variables in creation order, each once (S21):
 * sn_graph_variable(graph, i) for i < sn_graph_variable_count(graph);
 * NULL for i out of range. */
SN_API size_t sn_graph_variable_count(const sn_graph *graph);
SN_API sn_variable *sn_graph_variable(const sn_graph *graph, size_t index);

/* The variable with full name `name` ("foo/v"), or whose tensor is named
 * `name` ("foo/v:0", or "foo/v_1:0": see sn_variable_tensor_name), or
 * NULL. */
SN_API sn_variable *sn_graph_find_variable(const sn_graph *graph, const char *name);

/* Sets the value of the variable named `name` (S22), checking the shape:
 * `shape` must equal the variable's (SN_ERR_SHAPE_MISMATCH), and the
 * variable must exist (SN_ERR_NOT_FOUND). `values` holds the shape's
 * number of floats. Returns the status; the graph's sticky state is not
 * touched. */
SN_API sn_status sn_graph_assign(sn_graph *graph, const char *name, sn_shape shape, const float *values);

/* ------------------------------------------------------------------------ */
/* Tensors and ops                                                          */
/* ------------------------------------------------------------------------ */

/* The output of an op, owned by its graph. Op builders take the graph, their
 * inputs and a `name`: NULL for the op type's default name (S18: "add",
 * "Relu", "Maximum", ...), or an explicit name (S3 rules). Either is put
 * under the current name scope and made unique ("foo/add", "foo/add_1").
 * Shapes are inferred as ops are added; a mismatch is an error at that op
 * naming the op and both shapes. A shape whose known dimensions hold more
 * elements than the target can address (2^61 - 16 floats on 64-bit
 * targets, 2^29 - 16 on 32-bit ones) is refused the same way, naming the
 * dimension (SN_ERR_INVALID_ARGUMENT). Builders return NULL on error
 * (sticky); a failed call takes no name. Names in messages are escaped:
 * quotes and backslashes as \" and \\, control characters as \u00XX,
 * each byte that is not UTF-8 as \ufffd, so a message is one line of
 * UTF-8 (and the body of a valid JSON string). */
typedef struct sn_tensor sn_tensor;

/* A value fed at run time. A dimension may be -1 (unknown, e.g. batch).
 * Default name "Placeholder". */
SN_API sn_tensor *sn_placeholder(sn_graph *graph, const char *name, sn_shape shape);

/* The tensor of a variable ("foo/v:0"); the same tensor each call. */
SN_API sn_tensor *sn_var(sn_graph *graph, sn_variable *variable);

/* A float32 scalar constant. Default name "Const". */
SN_API sn_tensor *sn_scalar(sn_graph *graph, float value, const char *name);

/* a + b with NumPy broadcasting (same shape, a scalar, a trailing vector,
 * ...). Default name "add". */
SN_API sn_tensor *sn_add(sn_graph *graph, sn_tensor *a, sn_tensor *b, const char *name);

/* max(a, b) elementwise, broadcasting as sn_add. Default name "Maximum". */
SN_API sn_tensor *sn_maximum(sn_graph *graph, sn_tensor *a, sn_tensor *b, const char *name);

/* a x b elementwise, broadcasting as sn_add (a per-channel [C] or
 * [N, 1, 1, C] scale, ...). Default name "mul" (op type "Mul"). IEEE 754's
 * product of each pair, the same bits on every kernel set: a NaN gives
 * NaN, -0 x 3 is -0, 0 x inf is NaN. */
SN_API sn_tensor *sn_multiply(sn_graph *graph, sn_tensor *a, sn_tensor *b, const char *name);

/* a - b elementwise, broadcasting as sn_add. Default name "sub" (op type
 * "Sub"). IEEE 754's difference of each pair, the same bits on every
 * kernel set, either operand broadcast: a NaN gives NaN, x - x is +0. */
SN_API sn_tensor *sn_subtract(sn_graph *graph, sn_tensor *a, sn_tensor *b, const char *name);

/* max(x, 0). Default name "Relu". */
SN_API sn_tensor *sn_relu(sn_graph *graph, sn_tensor *x, const char *name);

/* min(max(x, 0), 6). Default name "Relu6". */
SN_API sn_tensor *sn_relu6(sn_graph *graph, sn_tensor *x, const char *name);
/* 1 / (1 + exp(-x)). Default name "Sigmoid". */
SN_API sn_tensor *sn_sigmoid(sn_graph *graph, sn_tensor *x, const char *name);
/* tanh(x). Default name "Tanh". */
SN_API sn_tensor *sn_tanh(sn_graph *graph, sn_tensor *x, const char *name);
/* x sigmoid(x): tf.nn.swish, PyTorch's SiLU (EfficientNet). Default name
 * "swish" (op type "Swish"). In float, x * (1 / (1 + exp(-x))): x times
 * sn_sigmoid's value, within a few ULP of libm's (PyTorch computes
 * x / (1 + exp(-x))). -inf gives NaN (-inf x 0), as in PyTorch and
 * TensorFlow; a NaN gives NaN, -0 gives -0, and below about -88.7 the
 * sigmoid is 0 and the result -0. */
SN_API sn_tensor *sn_swish(sn_graph *graph, sn_tensor *x, const char *name);
/* relu6(x + 3) / 6: PyTorch's Hardsigmoid (MobileNetV3; Keras's
 * hard_sigmoid is 0.2 x + 0.5, another function). Default name
 * "hard_sigmoid" (op type "HardSigmoid"). In float, r * (1/6) with
 * r = min(max(x + 3, 0), 6) and 1/6 rounded to float (0x1.555556p-3):
 * within 1 ULP of PyTorch's r / 6, exactly 0, 1/2 and 1 where it is; the
 * same bits on every kernel set. A NaN gives NaN. */
SN_API sn_tensor *sn_hard_sigmoid(sn_graph *graph, sn_tensor *x, const char *name);
/* x relu6(x + 3) / 6: PyTorch's Hardswish (MobileNetV3). Default name
 * "hard_swish" (op type "HardSwish"). In float, (x * r) * (1/6), r and 1/6
 * as sn_hard_sigmoid's: within 1 ULP of PyTorch's (x * r) / 6 (not
 * x * sn_hard_sigmoid(x), which is 2 ULP away at times); the same bits on
 * every kernel set. As PyTorch's: x > FLT_MAX / 6 overflows to inf, a
 * finite x <= -3 gives -0, -inf gives NaN (-inf x 0), and NaN gives NaN. */
SN_API sn_tensor *sn_hard_swish(sn_graph *graph, sn_tensor *x, const char *name);
/* x if x >= 0, else alpha x: tf.nn.leaky_relu (TensorFlow's default alpha
 * is 0.2, PyTorch's 0.01). Default name "LeakyRelu". Any alpha (above 1
 * and negative ones too: not max(x, alpha x)). In float x < 0 ? alpha * x
 * : x, the same bits on every kernel set: a NaN passes through, and so
 * does -0. */
SN_API sn_tensor *sn_leaky_relu(sn_graph *graph, sn_tensor *x, float alpha, const char *name);
/* Softmax over the last axis. Default name "Softmax". */
SN_API sn_tensor *sn_softmax(sn_graph *graph, sn_tensor *logits, const char *name);

/* value + bias, `bias` a vector as long as value's last dimension. Default
 * name "BiasAdd". */
SN_API sn_tensor *sn_bias_add(sn_graph *graph, sn_tensor *value, sn_tensor *bias, const char *name);

/* The sum of `count` tensors of one shape (count >= 1). Default name
 * "AddN". */
SN_API sn_tensor *sn_add_n(sn_graph *graph, sn_tensor *const *inputs, size_t count, const char *name);

/* tf.concat: `count` tensors (1 to 1024) of one rank joined along `axis`
 * (negative counts from the end: -1 is the last, the channels of NHWC);
 * every other dimension must match. Default name "concat" (TensorFlow's
 * op type "ConcatV2"). A session lets each input's producer write straight
 * into its part of the output where it can (a conv or matmul before a
 * concat along channels, any op before a concat whose parts are
 * contiguous), so the concat copies only the other inputs. */
SN_API sn_tensor *sn_concat(sn_graph *graph, sn_tensor *const *values, size_t count, int axis,
                            const char *name);

/* a x b for matrices; either may be transposed first. Default name
 * "MatMul". */
SN_API sn_tensor *sn_matmul(sn_graph *graph, sn_tensor *a, sn_tensor *b, bool transpose_a,
                     bool transpose_b, const char *name);

/* Height and width of a stride, dilation or pooling window. */
typedef struct sn_hw {
    int h, w;
} sn_hw;
#define SN_HW(h, w) ((sn_hw){(h), (w)})
#define SN_STRIDES(h, w) SN_HW(h, w)

/* Padding as TensorFlow computes it. SAME: output = ceil(input / stride),
 * padded with zeros, the odd pixel at the bottom and right. VALID: no
 * padding; output = ceil((input - dilated kernel + 1) / stride). */
typedef enum sn_padding { SN_PADDING_SAME = 0, SN_PADDING_VALID = 1 } sn_padding;

/* Explicit padding (TensorFlow 1.15's padding="EXPLICIT" for conv2d; for
 * the pools an extension): rows added at the top and bottom, columns at
 * the left and right, each in [0, 2^20]. The output is (input + before +
 * after - dilated window) / stride + 1, rounded down: PyTorch's padding=p
 * is SN_PADS(p, p, p, p), and its ceil_mode pooling is p + (stride - 1) at
 * the bottom and right at most, so that the last window still starts
 * inside the input or its leading padding. */
typedef struct sn_pads {
    int top, bottom, left, right;
} sn_pads;
#define SN_PADS(top, bottom, left, right) ((sn_pads){(top), (bottom), (left), (right)})

/* 2-D convolution: input NHWC [batch, height, width, in_channels], filter
 * HWIO [kh, kw, in_channels, out_channels]. SAME padding's zeros meet the
 * weights like any input: a NaN or infinite weight on a tap in the padding
 * gives NaN (0 x inf), as in TensorFlow and PyTorch, on every kernel set.
 * With no input channels the output is 0 (then the fused bias and
 * activation). Default name "Conv2D". */
SN_API sn_tensor *sn_conv2d(sn_graph *graph, sn_tensor *input, sn_tensor *filter, sn_hw strides,
                     sn_padding padding, const char *name);
/* As sn_conv2d(), with dilations (atrous convolution). */
SN_API sn_tensor *sn_conv2d_dilated(sn_graph *graph, sn_tensor *input, sn_tensor *filter, sn_hw strides,
                             sn_padding padding, sn_hw dilations, const char *name);
/* As sn_conv2d_dilated(), with explicit padding (zeros). */
SN_API sn_tensor *sn_conv2d_explicit(sn_graph *graph, sn_tensor *input, sn_tensor *filter,
                                     sn_hw strides, sn_pads pads, sn_hw dilations,
                                     const char *name);

/* tf.nn.depthwise_conv2d: each input channel c convolved with its own
 * `multiplier` filters, filter [kh, kw, in_channels, multiplier]; output
 * channel c * multiplier + m. Strides, dilations and padding as
 * sn_conv2d_dilated() (a tap on the padding reads a 0, which carries a
 * NaN or infinite weight into the sum); a bias and relu or relu6 after it
 * are fused like conv2d's. Default name "depthwise" (op type
 * "DepthwiseConv2dNative"). */
SN_API sn_tensor *sn_depthwise_conv2d(sn_graph *graph, sn_tensor *input, sn_tensor *filter,
                                      sn_hw strides, sn_padding padding, sn_hw dilations,
                                      const char *name);
/* As sn_depthwise_conv2d(), with explicit padding (zeros). */
SN_API sn_tensor *sn_depthwise_conv2d_explicit(sn_graph *graph, sn_tensor *input,
                                               sn_tensor *filter, sn_hw strides, sn_pads pads,
                                               sn_hw dilations, const char *name);

/* tf.nn.batch_normalization at inference, per channel (x's last
 * dimension; mean, variance, offset and scale are vectors of as many):
 * x alpha + beta with alpha = scale / sqrt(variance + epsilon) and beta =
 * offset - mean alpha, as PyTorch's inference computes it (epsilon finite,
 * >= 0). Directly after a conv2d, depthwise conv or matmul (and its bias)
 * that nothing else reads, a session folds it into that op's packed
 * weights and bias: with all five (or six) of them variables, one pack of
 * each made once and made again once when any of them changes (S25).
 * Elsewhere it runs as a per-channel scale and shift. Default name
 * "FusedBatchNormV3" (its op type too). */
SN_API sn_tensor *sn_batch_normalization(sn_graph *graph, sn_tensor *x, sn_tensor *mean,
                                         sn_tensor *variance, sn_tensor *offset,
                                         sn_tensor *scale, float epsilon, const char *name);

/* Max and average pooling over NHWC windows. Average pooling with SAME
 * padding divides by the number of input pixels in the window, as
 * TensorFlow does. Max pooling: padding never wins (it is not 0); a window
 * of -inf only gives -inf; a NaN in a window gives NaN: the last one in
 * window order (rows, then columns), bit for bit, on every kernel set.
 * Ties give the first value (-0 before +0 gives -0). That is PyTorch's
 * max_pool2d; TensorFlow's CPU kernel starts from -FLT_MAX instead (so -inf
 * only gives -FLT_MAX there) and promises nothing for NaN. Every window
 * holds at least one input pixel (SAME pads less than a window), and a
 * window costs the pixels it covers, not ksize: a huge ksize is cheap.
 * Default names "MaxPool", "AvgPool". */
SN_API sn_tensor *sn_max_pool(sn_graph *graph, sn_tensor *input, sn_hw ksize, sn_hw strides,
                       sn_padding padding, const char *name);
SN_API sn_tensor *sn_avg_pool(sn_graph *graph, sn_tensor *input, sn_hw ksize, sn_hw strides,
                       sn_padding padding, const char *name);
/* The pools with explicit padding (an extension of TensorFlow's). Max
 * pooling's padding is -inf: it never wins. Average pooling divides by
 * the input pixels in the window, or with `count_include_pad` by the
 * pixels of the window inside the input padded by `pads` (PyTorch's
 * default count_include_pad=True; but with ceil_mode PyTorch counts only
 * up to its own padding, not the extra that ceil_mode adds, so the last
 * row or column of windows can differ there). A window wholly in the
 * padding gives -inf (max) or 0 (average). Default names "MaxPool",
 * "AvgPool". */
SN_API sn_tensor *sn_max_pool_explicit(sn_graph *graph, sn_tensor *input, sn_hw ksize,
                                       sn_hw strides, sn_pads pads, const char *name);
SN_API sn_tensor *sn_avg_pool_explicit(sn_graph *graph, sn_tensor *input, sn_hw ksize,
                                       sn_hw strides, sn_pads pads, bool count_include_pad,
                                       const char *name);

/* The same elements in a new shape; one dimension may be -1 (inferred).
 * Default name "Reshape". */
SN_API sn_tensor *sn_reshape(sn_graph *graph, sn_tensor *x, sn_shape shape, const char *name);

/* Local response normalization over the last axis, as
 * tf.nn.local_response_normalization: x / (bias + alpha * sum of x^2 over
 * channels c - depth_radius .. c + depth_radius) ^ beta. Default name
 * "LRN". */
SN_API sn_tensor *sn_lrn(sn_graph *graph, sn_tensor *x, int depth_radius, float bias, float alpha,
                  float beta, const char *name);

/* ------------------------------------------------------------------------ */
/* Layers, as tf.layers builds them                                         */
/* ------------------------------------------------------------------------ */

/* The activation a layer ends with (tf.layers' `activation`). */
typedef enum sn_layer_activation {
    SN_LAYER_LINEAR = 0, /* none */
    SN_LAYER_RELU,
    SN_LAYER_RELU6,
    SN_LAYER_SIGMOID,
    SN_LAYER_TANH,
    SN_LAYER_SWISH,
    SN_LAYER_HARD_SIGMOID,
    SN_LAYER_HARD_SWISH,
    SN_LAYER_ACTIVATION_COUNT /* not an activation: the number of them */
} sn_layer_activation;

/* What a layer takes besides its size; a zeroed struct (or NULL) means
 * every default. */
typedef struct sn_layer_options {
    sn_hw strides;       /* {0, 0}: (1, 1) */
    sn_padding padding;  /* SAME (the zero value; tf.layers' default is VALID) */
    bool explicit_pads;  /* pad by `pads` instead (sn_conv2d_explicit) */
    sn_pads pads;
    sn_hw dilations;      /* {0, 0}: (1, 1) */
    int depth_multiplier; /* depthwise: 0 means 1 */
    bool no_bias;         /* tf.layers' use_bias=False */
    sn_layer_activation activation;
    /* none (SN_INIT_NONE): the kernel gets sn_get_variable's default (the
     * scope's, else glorot_uniform), the bias zeros */
    sn_initializer kernel_initializer, bias_initializer;
    float epsilon; /* batch normalization: 0 means TensorFlow's 1e-3 */
    sn_reuse reuse;
} sn_layer_options;

/* tf.layers.conv2d: opens variable scope `name`, or the default name
 * "conv2d" made unique in the current scope (S26: conv2d, conv2d_1, ...),
 * creates (or, under reuse, finds) "kernel" [kh, kw, in_channels, filters]
 * and "bias" [filters] in it, and returns activation(conv2d(x, kernel) +
 * bias). NULL on error (sticky). */
SN_API sn_tensor *sn_layers_conv2d(sn_graph *graph, sn_tensor *x, int filters, sn_hw kernel_size,
                                   const sn_layer_options *options, const char *name);
/* A depthwise convolution layer (Keras's DepthwiseConv2D): default name
 * "depthwise_conv2d", variables "depthwise_kernel" [kh, kw, in_channels,
 * depth_multiplier] and "bias" [in_channels x depth_multiplier]. */
SN_API sn_tensor *sn_layers_depthwise_conv2d(sn_graph *graph, sn_tensor *x, sn_hw kernel_size,
                                             const sn_layer_options *options, const char *name);
/* tf.layers.dense on a matrix x [batch, in]: default name "dense",
 * variables "kernel" [in, units] and "bias" [units]. */
SN_API sn_tensor *sn_layers_dense(sn_graph *graph, sn_tensor *x, int units,
                                  const sn_layer_options *options, const char *name);
/* tf.layers.batch_normalization at inference, over x's last dimension:
 * default name "batch_normalization", variables "gamma" (ones), "beta"
 * (zeros), "moving_mean" (zeros) and "moving_variance" (ones), epsilon
 * from the options (1e-3 by default); then the activation. After a conv2d,
 * depthwise or dense layer with nothing else reading it, a session folds it
 * into that layer's packs (S25). */
SN_API sn_tensor *sn_layers_batch_normalization(sn_graph *graph, sn_tensor *x,
                                                const sn_layer_options *options,
                                                const char *name);
/* tf.reduce_mean: the mean over `axis_count` axes (each in [-rank, rank),
 * negative from the end; none repeated), kept as 1s if `keepdims`. Over
 * the height and width of NHWC ({1, 2}, keepdims) it is global average
 * pooling, whatever the image size. Default name "Mean".
 *
 * Each mean is the float32 sum of its n elements in index order (row-major
 * over the reduced axes) from the first one (a mean of -0s is -0), then
 * divided once by n as a float: the same floats on every kernel set and
 * thread count (any NaN for a NaN). A mean over no elements (a reduced
 * dimension of 0, such as an empty -1 batch) is NaN, 0 / 0, as in NumPy
 * and TensorFlow. PyTorch adds an image's pixels (its global average
 * pooling, in NCHW) in a cascade of partial sums, and TensorFlow may
 * vectorize along the reduced axes, so their means may differ from these
 * in the last bits: the order here errs by at most about n x 2^-24 of the
 * mean of |x| (a cascade by less for large n), far within a model's
 * tolerance. axis_count 0 reduces nothing (a copy, as
 * tf.reduce_mean(x, axis=[])), and `axes` may then be NULL: to average
 * every axis, list them all. An unknown (-1) dimension may be reduced: its
 * size comes at run time. Refused (SN_ERR_INVALID_ARGUMENT, naming the op
 * and x): axes NULL for axis_count > 0, axis_count outside [0, rank], an
 * axis out of range or repeated. */
SN_API sn_tensor *sn_reduce_mean(sn_graph *graph, sn_tensor *x, const int *axes, int axis_count,
                                 bool keepdims, const char *name);

/* tf.pad in constant mode: paddings[d][0] elements of `value` before
 * dimension d of x and paddings[d][1] after, for each of x's rank
 * dimensions (>= 0 each). Default name "Pad".
 *
 * The border holds `value` bit for bit (+0, -0, a NaN's payload), the
 * inside x's floats. An unknown (-1) dimension stays unknown, padded at
 * run time. With no padding at all the output is x's memory where the
 * session can (as a reshape's). Refused (SN_ERR_INVALID_ARGUMENT, naming
 * the op and x): paddings NULL (it may be for a scalar x), a negative
 * padding, a padded dimension past int64, a padded shape too large. */
SN_API sn_tensor *sn_pad(sn_graph *graph, sn_tensor *x, const int64_t (*paddings)[2], float value,
                         const char *name);

/* tf.transpose: output dimension d is x's dimension perm[d], for a
 * permutation of x's `rank` dimensions (rank must be x's). Default name
 * "transpose" (TensorFlow's op type "Transpose"). An unknown (-1)
 * dimension stays unknown, moved. The identity is x's memory where the
 * session can (as a reshape's); any other is a strided copy, a memcpy per
 * row when the last dimension stays last. Refused (SN_ERR_INVALID_ARGUMENT,
 * naming the op and x): rank not x's, perm NULL, an entry out of [0, rank)
 * or repeated. */
SN_API sn_tensor *sn_transpose(sn_graph *graph, sn_tensor *x, const int *perm, int rank,
                               const char *name);

/* tf.split(x, count, axis): `count` equal pieces of x along `axis`
 * (negative counts from the end: -1 is the channels of NHWC), into
 * outputs[0 .. count), in order. Returns SN_OK, or the graph's error with
 * every output NULL.
 *
 * A scopenn op has one output, so each piece is an op of its own (type
 * "Split"), named i under a name scope named `name` (default "split",
 * made unique as TensorFlow makes the op's name): TensorFlow's "split:1"
 * is "split/1:0" here, and a second split's scope is "split_1". Each piece
 * is a copy (one memcpy per row before the axis); a split into 1 is x's
 * memory where the session can. An unknown (-1) dimension along the axis
 * is split at run time, where a run whose size count does not divide
 * fails with the piece's name. Refused (SN_ERR_INVALID_ARGUMENT, naming
 * the op and x; nothing is built): outputs NULL, count outside [1, 1024],
 * axis out of range, a known dimension that count does not divide. */
SN_API sn_status sn_split(sn_graph *graph, sn_tensor *x, int count, int axis, sn_tensor **outputs,
                          const char *name);

/* tf.split(x, sizes, axis) (TensorFlow's SplitV): `count` pieces of
 * sizes[0 .. count) along `axis`, which must add up to x's dimension
 * there; one size may be -1, the rest of it. Named, returned and copied as
 * sn_split's. An unknown (-1) dimension along the axis is checked at run
 * time. Refused (SN_ERR_INVALID_ARGUMENT, naming the op and x; nothing is
 * built): outputs or sizes NULL, count outside [1, 1024], axis out of
 * range, a size below -1, two -1s, a sum past int64 or other than the
 * known dimension (more than it with a -1). */
SN_API sn_status sn_split_sizes(sn_graph *graph, sn_tensor *x, const int64_t *sizes, int count,
                                int axis, sn_tensor **outputs, const char *name);

/* "foo/add:0". Owned by the graph. */
SN_API const char *sn_tensor_name(const sn_tensor *tensor);
/* The op's unique name, "foo/add". Owned by the graph. */
SN_API const char *sn_tensor_op_name(const sn_tensor *tensor);
/* The op's type, as TensorFlow names it: "Placeholder", "VariableV2",
 * "Const", "Add", "Maximum", "Mul", "Sub", "Relu", "Conv2D", ... */
SN_API const char *sn_tensor_op_type(const sn_tensor *tensor);
SN_API sn_shape sn_tensor_shape(const sn_tensor *tensor);

/* The graph's ops in creation order (variables' ops included). */
SN_API size_t sn_graph_op_count(const sn_graph *graph);
/* The output of op `index`, or NULL if out of range. */
SN_API sn_tensor *sn_graph_op(const sn_graph *graph, size_t index);

/* ------------------------------------------------------------------------ */
/* Sessions                                                                 */
/* ------------------------------------------------------------------------ */

/* A compiled graph, ready to run: the ops needed for its fetches, with
 * conv2d/matmul + bias + relu/relu6 fused into one kernel call, weights
 * packed (once per variable, shared by all sessions of the graph: S23), and
 * one arena for every intermediate tensor, planned by liveness. A session
 * may be run from one thread at a time; several sessions of one graph may
 * run at once. Destroy sessions before their graph. Do not change a
 * variable's value while a session of its graph runs; the next run after a
 * change repacks it (S24). */
typedef struct sn_session sn_session;

typedef struct sn_session_options {
    /* Threads for one run: 0 means every online CPU, 1 runs on the
     * caller's thread with no pool; at most 32767. The caller's thread
     * is one of them and never waits for a worker that has not started
     * on the run's work (one descheduled by another process): on a busy
     * machine a run is about as fast as on 1 thread, not a scheduler
     * slice slower. Idle workers spin for up to 1 ms, then sleep. */
    int threads;
    /* The largest batch a run may feed where a placeholder's batch
     * dimension is -1; the arena is planned for it. 0 means 1. */
    int max_batch;
    /* If true, use no better kernel set than max_isa (as SCOPENN_ISA). */
    bool limit_isa;
    sn_isa max_isa;
    /* If true, every conv2d runs as a direct convolution. By default, on a
     * kernel set with tile kernels, a stride 1, dilation 1 conv runs as
     * Winograd when it has at least 16 channels in and 8 out: 3x3 as
     * F(4x4, 3x3) (4x fewer multiply-adds), 5x5 as F(2x2, 5x5) (2.8x
     * fewer); not when its 36 transformed weight matrices pass 24 MB and
     * the image is so small that the direct conv does fewer than 3.5
     * multiply-adds per byte of them streamed (a 7x7x512 3x3 layer, one
     * image or a -1 batch), at the price of a larger rounding error (a few 1e-6 of the
     * sum of |terms| against a few 1e-7 direct), of NaN where an
     * infinite input would give an infinite output (the transforms
     * subtract the infinity from itself; an infinite input spreads over
     * its whole output tile), and of overflow to inf or NaN where the
     * values pass about FLT_MAX / 1e4 (the transforms scale
     * them by up to about 1e4) though the direct sum stays finite. */
    bool direct_conv;
    /* If true, every matmul and 1x1 conv runs as a plain product. By
     * default, on a kernel set with tile kernels, a product [m][k] x
     * [k][n] with an even k >= 512, n >= 256, m >= 16 (a -1 batch counted
     * as 1), k n <= 2^20 and m k n >= 2^25 runs one level of
     * Strassen-Winograd: 7 products of half the size instead of 8 (1/8
     * fewer multiply-adds; dense_mm 1.09x faster), its weights packed as 7
     * matrices of a quarter of their size (7/4 of the plain pack), at the
     * price of a larger rounding error (about 5e-7 of the sum of |terms|
     * against 2e-7) and of NaN where an infinite input or weight would
     * give an infinite output. */
    bool direct_matmul;
    /* If true, each run times each node (sn_session_profile_get). Off, a
     * run reads no clock: profiling costs one branch per run. */
    bool profile;
} sn_session_options;

/* Creates a session computing `fetches` (`fetch_count` tensors of
 * `graph`); `options` may be NULL. Returns NULL on error, recorded on the
 * graph (sticky): a NULL or foreign fetch, a placeholder with an unknown
 * dimension other than the batch (dimension 0), options out of range
 * (SN_ERR_INVALID_ARGUMENT, more than 32767 threads included), out of
 * memory or threads (SN_ERR_OUT_OF_MEMORY: the system refused to start
 * one), or an earlier error. */
SN_API sn_session *sn_session_create(sn_graph *graph, sn_tensor *const *fetches, size_t fetch_count,
                              const sn_session_options *options);

/* SN_FETCH(a, b) expands to the two arguments `fetches, fetch_count` for
 * up to 8 tensors: sn_session_create(g, SN_FETCH(r1, r2), NULL). */
#define SN_FETCH(...) (sn_tensor *const[]){__VA_ARGS__}, (size_t)SN__NARGS(__VA_ARGS__)

/* Frees the session (not its graph, nor the shared packs). NULL is a
 * no-op. */
SN_API void sn_session_destroy(sn_session *session);

/* A value for a placeholder: `data` holds the elements of `shape`,
 * row-major; it is read during sn_session_run only. */
typedef struct sn_feed {
    const sn_tensor *placeholder;
    const float *data;
    sn_shape shape;
} sn_feed;

/* A fetched value: `data` points into the session (or at a variable's or
 * feed's memory) and is valid until the next run or sn_session_destroy. */
typedef struct sn_output {
    const float *data;
    sn_shape shape;
} sn_output;

/* Runs the session: every placeholder it needs fed once, each feed's shape
 * matching its placeholder (a -1 batch may take any size up to max_batch).
 * Fills outputs[i] for fetches[i]. Allocates nothing on the heap. Returns
 * SN_OK, SN_ERR_INVALID_ARGUMENT (a NULL, a missing, duplicate or unknown
 * feed), or SN_ERR_SHAPE_MISMATCH (a feed of the wrong shape);
 * sn_session_error() names the feed or op. Errors are not sticky: the
 * next run may succeed. */
SN_API sn_status sn_session_run(sn_session *session, const sn_feed *feeds, size_t feed_count,
                         sn_output *outputs);

/* The last run's error message, "" after a success. Owned by the session. */
SN_API const char *sn_session_error(const sn_session *session);

typedef struct sn_session_stats {
    size_t ops;           /* kernel calls per run, after fusion */
    size_t fused;         /* ops folded into another's kernel call */
    size_t packs_made;    /* weights this session packed (or repacked) */
    size_t packs_reused;  /* weights it found packed already */
    size_t packed_bytes;  /* bytes of the packs it uses, each counted once */
    double pack_ms;       /* time spent packing: at create, its threads together; each repack */
    size_t arena_bytes;   /* its intermediate tensors' and its ops' workspaces' memory */
    sn_isa isa;           /* the kernel set it runs */
    int threads;          /* threads a run uses */
    size_t winograd;      /* conv2d ops it runs as Winograd (direct_conv) */
    size_t strassen;      /* matmuls and 1x1 conv2ds it runs as Strassen (direct_matmul) */
    size_t views;         /* tensors that share another's memory: a reshape's output, or an
                           * elementwise op's written over its input where that dies */
    size_t workspace_bytes; /* the largest scratch one op takes in the arena while it runs */
} sn_session_stats;

/* Fills *stats. */
SN_API void sn_session_stats_get(const sn_session *session, sn_session_stats *stats);

/* One node of a profiled session: one kernel call per run, an op with the
 * ops the session folded into it. */
typedef struct sn_profile_node {
    const char *name; /* its first op's name, "conv1/Conv2D"; owned by the graph */
    /* its ops' types joined by '+', "Conv2D+BiasAdd+Relu" (one op:
     * "Conv2D"); owned by the session */
    const char *type;
    /* what its plan runs: "winograd", "direct" (convolution), "gemm",
     * "strassen", "kernel" (the kernel set's kernel for the op: an
     * elementwise op, a depthwise conv, a pooling), "reference" (the
     * scalar reference kernel) or "view" (nothing to compute); static */
    const char *algorithm;
    /* Floating-point operations of the last successful run, at its shapes: 2 per
     * multiply-add of a conv2d, depthwise conv2d or matmul counted as a
     * direct convolution (every filter tap, padding included: N*OH*OW*OC*
     * KH*KW*IC multiply-adds for a conv2d, N*OH*OW*C*KH*KW for a depthwise
     * one, M*K*N for a matmul) whatever algorithm runs it; one per output
     * element and window tap for a pooling, one per input element for a
     * mean, one per element and input after the first for an add_n, none
     * for a reshape, concat, split, transpose or pad, one per output
     * element for any other op (elementwise, softmax, LRN, batch norm);
     * plus one per output element for each op folded into it (a bias, a
     * batch norm, an activation). 0 for a node the run skipped (an empty
     * output). */
    int64_t flops;
    uint64_t ns;       /* the last successful run's wall time of the node, as the caller sees it */
    uint64_t total_ns; /* its wall time summed over the profile's runs */
} sn_profile_node;

typedef struct sn_profile {
    /* in run order; owned by the session, updated by each run, valid until
     * the session is destroyed */
    const sn_profile_node *nodes;
    size_t count;                 /* the nodes: sn_session_stats.ops */
    size_t runs;                  /* successful runs since create or the last reset */
    uint64_t run_ns;              /* the last successful run's wall time, all of it */
} sn_profile;

/* Fills *profile with the nodes' times (CLOCK_MONOTONIC, from just before
 * a node's output is placed to just after its kernel returns, its threads
 * done) and flops: of the last successful run (zeros before any) and
 * summed since the session was created or the profile reset (total_ns,
 * runs; a failed run is not counted). A node's time is that of its
 * kernel call with what its run prepares (shape inference, packing a
 * computed weight); the nodes' times sum to at most run_ns, which also
 * holds binding the feeds and repacking changed variables (S24). Returns
 * SN_OK; SN_ERR_INVALID_ARGUMENT (profile zeroed) if session or profile
 * is NULL or the session was created without sn_session_options.profile.
 * The same thread rules as sn_session_run. */
SN_API sn_status sn_session_profile_get(const sn_session *session, sn_profile *profile);

/* Starts the totals again: runs and every total_ns 0 (the last run's
 * times stay). SN_ERR_INVALID_ARGUMENT as sn_session_profile_get. */
SN_API sn_status sn_session_profile_reset(sn_session *session);

/* ------------------------------------------------------------------------ */
/* Checkpoints (safetensors)                                                */
/* ------------------------------------------------------------------------ */

/* A safetensors file opened for reading: an 8-byte little-endian header
 * length, a JSON header {"name": {"dtype", "shape", "data_offsets"}, ...,
 * "__metadata__": {...}}, then the tensor bytes. The file is mapped, not
 * read: tensors cost memory only when their data is read. Everything in the
 * header is validated when the file is opened (lengths, dtypes, shapes and
 * their products, offsets in range, not overlapping, and matching shape x
 * dtype size), so a truncated, malformed or hostile file is refused there
 * with a message naming the problem and the tensor. A checkpoint is
 * immutable once open and may be read from several threads at once. */
typedef struct sn_checkpoint sn_checkpoint;

/* A tensor of a checkpoint, as its header describes it. */
typedef struct sn_checkpoint_tensor {
    const char *name; /* owned by the checkpoint */
    sn_dtype dtype;   /* SN_F32, SN_F16 or SN_BF16 */
    sn_shape shape;
    uint64_t nbytes; /* bytes in the file */
} sn_checkpoint_tensor;

/* Opens and validates the safetensors file at `path`. As with sqlite3_open,
 * *checkpoint is set even on failure (except when out of memory, when it is
 * NULL): sn_checkpoint_error() then says what is wrong, and the handle must
 * still be closed. Returns SN_OK, SN_ERR_IO (cannot open or map, or not a
 * regular file: a directory, FIFO, device or socket is refused at once,
 * without waiting for a FIFO's writer),
 * SN_ERR_CORRUPT (not a valid safetensors file; the message names the
 * problem and the tensor), SN_ERR_UNSUPPORTED (a valid file with a dtype
 * scopenn does not read, e.g. I64, or a rank above SN_MAX_RANK; a corrupt
 * tensor anywhere in the file takes precedence), SN_ERR_OUT_OF_MEMORY or
 * SN_ERR_INVALID_ARGUMENT (NULL). A handle whose open failed holds no
 * tensors (sn_checkpoint_tensor_count() is 0). The header must be strict
 * UTF-8 JSON (trailing spaces allowed), names non-empty, unique and free of
 * NUL, entries exactly {dtype, shape, data_offsets}, "__metadata__" an
 * object of strings. Tensors need not be contiguous (gaps are allowed). A
 * mapped file must not be truncated by another process while open. */
SN_API sn_status sn_checkpoint_open(const char *path, sn_checkpoint **checkpoint);

/* As sn_checkpoint_open(), for a file already in memory (`size` bytes at
 * `data`, e.g. linked into the program). The memory is borrowed: it must
 * outlive the checkpoint. */
SN_API sn_status sn_checkpoint_open_memory(const void *data, size_t size, sn_checkpoint **checkpoint);

/* The message of a failed open ("" after a successful one): one line,
 * "checkpoint PATH: [tensor "NAME": ]PROBLEM", names escaped as in JSON and
 * cut if very long. "out of memory" for NULL (the handle of an open that
 * ran out of memory), as sqlite3_errmsg(NULL) does. */
SN_API const char *sn_checkpoint_error(const sn_checkpoint *checkpoint);

/* Unmaps and frees. NULL is a no-op. */
SN_API void sn_checkpoint_close(sn_checkpoint *checkpoint);

/* The tensors, in header order: index < sn_checkpoint_tensor_count(). */
SN_API size_t sn_checkpoint_tensor_count(const sn_checkpoint *checkpoint);
/* Fills *info for tensor `index`; SN_ERR_NOT_FOUND if out of range. */
SN_API sn_status sn_checkpoint_tensor_info(const sn_checkpoint *checkpoint, size_t index,
                                    sn_checkpoint_tensor *info);
/* The index of the tensor named `name`, or -1. */
SN_API int64_t sn_checkpoint_find(const sn_checkpoint *checkpoint, const char *name);
/* Reads tensor `index` as float32 into `out`, converting F16 and BF16
 * exactly (subnormals, infinities, NaN payloads and -0 kept); `count` must
 * equal its number of elements (SN_ERR_SHAPE_MISMATCH). SN_ERR_NOT_FOUND
 * if `index` is out of range; SN_ERR_INVALID_ARGUMENT for NULL (`out` may
 * be NULL when `count` is 0). */
SN_API sn_status sn_checkpoint_read_f32(const sn_checkpoint *checkpoint, size_t index, float *out,
                                 int64_t count);

/* What sn_graph_load_checkpoint() did, as PyTorch's load_state_dict reports
 * it. Names are owned by the report. */
typedef struct sn_load_report {
    size_t loaded;        /* variables whose value was set */
    size_t missing_count; /* graph variables the file lacks */
    const char *const *missing;
    size_t unexpected_count; /* file tensors no variable is named after */
    const char *const *unexpected;
} sn_load_report;

/* Sets graph variables from the safetensors file at `path`, matching a
 * tensor's name to a variable's full name ("conv1/weights"). Shapes must
 * match exactly (SN_ERR_SHAPE_MISMATCH, naming the variable). With
 * `strict`, any missing or unexpected name is an error (SN_ERR_NOT_FOUND);
 * without, what matches is loaded. Either way the load is all or nothing:
 * on error no variable changes. Each variable set gets a new version (S24).
 * If `report` is not NULL, *report receives a report (also on a strict
 * failure, to say which names, and on a shape mismatch; `loaded` is then
 * 0), freed with sn_load_report_free(); it is NULL when the file could not
 * be opened, when out of memory and after an earlier error. Errors
 * are recorded on the graph as a builder call's are (sticky; after an
 * earlier error this returns that error and does nothing); the message
 * names the file, the problem and the tensor or variable.
 *
 * The file is mapped, not read: an F32 tensor that lies 64-byte aligned in
 * it (as sn_graph_save_checkpoint and tools/export_torch.py lay out every
 * tensor of whole cache lines) becomes its variable's value where it lies,
 * with no copy, and a session that packs it lets its pages go; others are
 * converted into the variable's own memory. Loading a ResNet-18 so costs
 * about a millisecond, and a session of it holds its weights once, packed.
 * The graph keeps the file mapped while a variable's value lies in it: a
 * new value (sn_variable_assign, another load) replaces it as always, and
 * removing the file, or replacing it by renaming another over it (as
 * saving does), changes nothing. Do not write into the file in place
 * while the graph lives (truncating it makes a read of a value fault). */
SN_API sn_status sn_graph_load_checkpoint(sn_graph *graph, const char *path, bool strict,
                                   sn_load_report **report);

/* Frees a report. NULL is a no-op. */
SN_API void sn_load_report_free(sn_load_report *report);

/* Writes every variable of the graph, as F32 under its full name, to a
 * safetensors file at `path` (written to a temporary file beside it,
 * "PATH.tmp-XXXXXX", synced and renamed, so a failed save leaves no
 * half-written file). Tensors are in creation order, those whose bytes
 * fill whole 64-byte cache lines first, and the data starts on a cache
 * line, so that a load reads them in place (as safetensors allows no gaps
 * between tensors, the order makes the alignment); the header carries
 * "__metadata__": {"format": "scopenn"}, and the file keeps the mode of the
 * file it replaces (0644 for a new one). A `path` that exists and is not a
 * regular file (a directory, FIFO, device or socket, also through a
 * symbolic link) is refused with SN_ERR_IO before anything is written.
 * Returns SN_OK, SN_ERR_IO,
 * SN_ERR_OUT_OF_MEMORY or SN_ERR_INVALID_ARGUMENT (NULL), recorded on the
 * graph and sticky, as for a load. */
SN_API sn_status sn_graph_save_checkpoint(sn_graph *graph, const char *path);

#ifdef __cplusplus
}
#endif

#endif /* SCOPENN_H */
