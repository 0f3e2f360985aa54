/* The allocator hook, and out-of-memory at every allocation of a model
 * build and of checkpoint open, load and save: each failure is reported as
 * SN_ERR_OUT_OF_MEMORY, leaves nothing half-made, and nothing leaks. The
 * hook must see every allocation: each pointer it frees is one it made,
 * and (with glibc, outside the sanitizers) the C library's malloc is
 * watched, so that nothing of the library's goes around the hook. */
#define _GNU_SOURCE /* mkdtemp */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdbool.h>
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "scopenn.h"

#if defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) ||                         \
    __has_feature(memory_sanitizer)
#define SN_TEST_SANITIZED 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define SN_TEST_SANITIZED 1
#endif
#if defined(__GLIBC__) && !defined(SN_TEST_SANITIZED)
#define SN_TEST_WATCH_LIBC 1
#else
#define SN_TEST_WATCH_LIBC 0 /* the sanitizers own malloc */
#endif

/* ---- the C library's malloc, watched ----------------------------------------- */

#if SN_TEST_WATCH_LIBC
/* glibc lets a program replace malloc and its family; these count the
 * calls made while `watching` (by the library, or by anything it calls:
 * cJSON, stdio, qsort) and refuse them while `refusing`, then hand over to
 * glibc's own allocator. The hook below calls glibc's directly. */
extern void *__libc_malloc(size_t size);
extern void *__libc_calloc(size_t count, size_t size);
extern void *__libc_realloc(void *ptr, size_t size);
extern void *__libc_memalign(size_t alignment, size_t size);
extern void __libc_free(void *ptr);

/* volatile: GCC assumes that malloc writes no memory of the program */
static volatile struct {
    bool watching, refusing;
    long calls;
} libc_watch;

static bool libc_refuses(void) {
    if (!libc_watch.watching) return false;
    libc_watch.calls++;
    return libc_watch.refusing;
}
void *malloc(size_t size) { return libc_refuses() ? NULL : __libc_malloc(size); }
void *calloc(size_t count, size_t size) {
    return libc_refuses() ? NULL : __libc_calloc(count, size);
}
void *realloc(void *ptr, size_t size) { return libc_refuses() ? NULL : __libc_realloc(ptr, size); }
void *aligned_alloc(size_t alignment, size_t size) {
    return libc_refuses() ? NULL : __libc_memalign(alignment, size);
}
int posix_memalign(void **out, size_t alignment, size_t size) {
    if (libc_refuses()) return 12; /* ENOMEM */
    void *p = __libc_memalign(alignment, size);
    if (!p) return 12;
    *out = p;
    return 0;
}
#define REAL_MALLOC __libc_malloc
#define REAL_REALLOC __libc_realloc
#define REAL_MEMALIGN __libc_memalign
#define REAL_FREE __libc_free
/* Starts or stops watching; stop returns the calls seen. */
static void libc_watch_start(bool refusing) {
    libc_watch.calls = 0;
    libc_watch.refusing = refusing;
    libc_watch.watching = true;
}
static long libc_watch_stop(void) {
    libc_watch.watching = libc_watch.refusing = false;
    return libc_watch.calls;
}
#else
static void *real_memalign(size_t alignment, size_t size) {
    void *p = NULL;
    return posix_memalign(&p, alignment, size) == 0 ? p : NULL;
}
#define REAL_MALLOC malloc
#define REAL_REALLOC realloc
#define REAL_MEMALIGN real_memalign
#define REAL_FREE free
static void libc_watch_start(bool refusing) { (void)refusing; }
static long libc_watch_stop(void) { return 0; }
#endif

/* ---- the hook: counts, fails on demand, knows what it made ---------------------- */

/* The pointers a hook made and has not freed. */
struct made {
    void **p;
    size_t count, size;
};

struct counting {
    long live;       /* allocations not yet freed */
    long calls;      /* allocations asked for */
    long fail_after; /* fail every allocation after this many; -1: never */
    long foreign;    /* frees and reallocations of pointers this hook did not make */
    struct made made;
};

static void remember(struct made *m, void *p) {
    if (m->count == m->size) {
        size_t size = m->size ? 2 * m->size : 1024;
        void **grown = REAL_REALLOC(m->p, size * sizeof *grown);
        assert_non_null(grown);
        m->p = grown, m->size = size;
    }
    m->p[m->count++] = p;
}

/* Forgets p; false if the hook did not make it. */
static bool forget(struct made *m, void *p) {
    for (size_t i = m->count; i-- > 0;)
        if (m->p[i] == p) {
            m->p[i] = m->p[--m->count];
            return true;
        }
    return false;
}

static bool refuse(struct counting *c) {
    c->calls++;
    return c->fail_after >= 0 && c->calls > c->fail_after;
}

static void *count_allocate(void *user, size_t size) {
    struct counting *c = user;
    if (refuse(c)) return NULL;
    void *p = REAL_MALLOC(size);
    if (p) c->live++, remember(&c->made, p);
    return p;
}

static void *count_reallocate(void *user, void *ptr, size_t size) {
    struct counting *c = user;
    if (refuse(c)) return NULL;
    if (!forget(&c->made, ptr)) {
        c->foreign++;
        return NULL;
    }
    void *p = REAL_REALLOC(ptr, size);
    remember(&c->made, p ? p : ptr);
    return p;
}

static void count_free(void *user, void *ptr) {
    struct counting *c = user;
    if (!forget(&c->made, ptr)) {
        c->foreign++; /* not ours: leave it alone */
        return;
    }
    c->live--;
    REAL_FREE(ptr);
}

static void *count_allocate_aligned(void *user, size_t alignment, size_t size) {
    struct counting *c = user;
    if (refuse(c)) return NULL;
    void *p = REAL_MEMALIGN(alignment, size);
    if (p) c->live++, remember(&c->made, p);
    return p;
}

static struct counting counter;

/* Starts counting afresh; the table of pointers made is kept (empty when
 * nothing is live). */
static void reset(struct counting *c, long fail_after) {
    struct made made = c->made;
    *c = (struct counting){0, 0, fail_after, 0, made};
}
static const sn_allocator counting_allocator = {
    count_allocate, count_reallocate, count_free, count_allocate_aligned, count_free, &counter};

/* A bit of everything the builder does. */
static void build(sn_graph *g) {
    const float two[2] = {2, 2};
    sn_tensor *x = sn_placeholder(g, "x", SN_SHAPE(-1, 4));
    sn_scope *outer = sn_variable_scope_open_init(g, "outer", SN_REUSE_INHERIT,
                                                  sn_values_initializer(two, SN_SHAPE(2)));
    sn_get_variable(g, "from_default", SN_SHAPE_UNKNOWN, SN_NO_INITIALIZER);
    sn_variable_scope_close(g, outer);
    for (int i = 0; i < 3; i++)
        SN_WITH_VARIABLE_SCOPE_REUSE(g, "layer", i ? SN_REUSE_TRUE : SN_REUSE_INHERIT) {
            sn_variable *w =
                sn_get_variable(g, "w", SN_SHAPE(4), sn_random_normal_initializer(0, 1));
            sn_variable *b = sn_get_variable(g, "b", SN_SCALAR, sn_zeros_initializer());
            SN_WITH_NAME_SCOPE(g, "inner") x = sn_relu(g, sn_add(g, x, sn_var(g, w), NULL), NULL);
            x = sn_maximum(g, x, sn_var(g, b), "max");
        }
    SN_WITH_CAPTURED_SCOPE(g, outer, SN_AUTO_REUSE)
    sn_get_variable(g, "k", SN_SHAPE(3, 3, 2, 2), sn_glorot_uniform_initializer());
}

static void test_out_of_memory_everywhere(void **state) {
    (void)state;
    assert_int_equal(sn_set_allocator(&counting_allocator), SN_OK);
    long n;
    for (n = 0;; n++) {
        reset(&counter, n);
        sn_graph *g = sn_graph_create(NULL);
        if (!g) {
            assert_int_equal(counter.live, 0);
            continue;
        }
        build(g);
        sn_status st = sn_graph_status(g);
        if (st != SN_OK) {
            assert_int_equal(st, SN_ERR_OUT_OF_MEMORY);
            /* whatever was made is whole */
            sn_graph_clear_error(g);
            for (size_t i = 0; i < sn_graph_variable_count(g); i++) {
                sn_variable *v = sn_graph_variable(g, i);
                assert_ptr_equal(sn_graph_find_variable(g, sn_variable_name(v)), v);
                assert_non_null(sn_variable_value(v));
                assert_string_equal(sn_tensor_name(sn_var(g, v)), sn_variable_tensor_name(v));
            }
        }
        sn_graph_destroy(g);
        if (counter.live != 0)
            fail_msg("failing allocation %ld: %ld allocations leaked", n + 1, counter.live);
        if (st == SN_OK) break;
    }
    print_message("the build makes %ld allocations; each one failing was handled\n", n);
    assert_true(n > 20);
    assert_int_equal(sn_set_allocator(NULL), SN_OK);
}

static void test_hook_sees_every_allocation(void **state) {
    (void)state;
    reset(&counter, -1);
    assert_int_equal(sn_set_allocator(&counting_allocator), SN_OK);
    sn_graph *g = sn_graph_create(NULL);
    build(g);
    assert_int_equal(sn_graph_status(g), SN_OK);
    assert_true(counter.live > 0);
    sn_graph_destroy(g);
    assert_int_equal(counter.live, 0);
    sn_allocator broken = counting_allocator;
    broken.free = NULL;
    assert_int_equal(sn_set_allocator(&broken), SN_ERR_INVALID_ARGUMENT);
    assert_int_equal(sn_set_allocator(NULL), SN_OK);
}

/* ---- checkpoints ------------------------------------------------------------- */

static char tmpdir[256];

/* More than 128 variables: glibc's qsort would malloc its buffer. */
enum { MANY = 200 };

/* A graph of MANY small variables of values from `seed`. */
static sn_graph *many_variables(float seed) {
    sn_graph *g = sn_graph_create(NULL);
    if (!g) return NULL;
    SN_WITH_VARIABLE_SCOPE(g, "s")
    for (int i = 0; i < MANY; i++) {
        char name[32];
        snprintf(name, sizeof name, "v%03d", (i * 7) % MANY); /* not in name order */
        sn_get_variable(g, name, SN_SHAPE(2), sn_constant_initializer(seed + (float)i));
    }
    return g;
}

static size_t count_files(void) {
    DIR *d = opendir(tmpdir);
    assert_non_null(d);
    size_t n = 0;
    errno = 0;
    for (struct dirent *e; (e = readdir(d)) != NULL;)
        if (e->d_name[0] != '.') n++;
    if (errno) fail_msg("readdir %s: %s", tmpdir, strerror(errno));
    closedir(d);
    return n;
}

/* Every variable of g has version `version` and the value `seed` gave. */
static void assert_values(const sn_graph *g, float seed, uint64_t version) {
    assert_int_equal(sn_graph_variable_count(g), MANY);
    for (size_t i = 0; i < MANY; i++) {
        const sn_variable *v = sn_graph_variable(g, i);
        assert_int_equal(sn_variable_version(v), version);
        assert_true(sn_variable_value(v)[0] == seed + (float)i);
        assert_true(sn_variable_value(v)[1] == seed + (float)i);
    }
}

/* Whether the next library calls run with the C library's malloc refusing
 * (and counted in libc_calls); the checks around them may use it. */
static bool without_libc;
static long libc_calls;

static sn_status watched(sn_status status) {
    libc_calls += libc_watch_stop();
    return status;
}
#define WATCHED(call) (libc_watch_start(without_libc), watched(call))

struct checkpoint_case {
    char path[300];
    sn_graph *saved, *loaded;
    void *bytes;
    size_t size;
};

static sn_status open_file(struct checkpoint_case *c) {
    sn_checkpoint *ck = (sn_checkpoint *)c; /* must be overwritten */
    sn_status status = WATCHED(sn_checkpoint_open(c->path, &ck));
    if (status == SN_ERR_OUT_OF_MEMORY) assert_null(ck);
    if (status == SN_OK) assert_int_equal(sn_checkpoint_tensor_count(ck), MANY);
    WATCHED((sn_checkpoint_close(ck), SN_OK));
    return status;
}

static sn_status open_memory(struct checkpoint_case *c) {
    sn_checkpoint *ck = (sn_checkpoint *)c;
    sn_status status = WATCHED(sn_checkpoint_open_memory(c->bytes, c->size, &ck));
    if (status == SN_ERR_OUT_OF_MEMORY) assert_null(ck);
    if (status == SN_OK) assert_int_equal(sn_checkpoint_tensor_count(ck), MANY);
    WATCHED((sn_checkpoint_close(ck), SN_OK));
    return status;
}

/* A failed load changes no variable, and gives no report. */
static sn_status load(struct checkpoint_case *c) {
    sn_load_report *report = (sn_load_report *)c;
    uint64_t version = sn_variable_version(sn_graph_variable(c->loaded, 0));
    sn_status status = WATCHED(sn_graph_load_checkpoint(c->loaded, c->path, true, &report));
    if (status == SN_OK) {
        assert_int_equal(report->loaded, MANY);
        assert_values(c->loaded, 1.0f, version + 1);
        for (size_t i = 0; i < MANY; i++) { /* back as before, for the next round */
            const float before[2] = {100.0f + (float)i, 100.0f + (float)i};
            assert_int_equal(sn_variable_assign(sn_graph_variable(c->loaded, i), before, 2), SN_OK);
        }
    } else {
        assert_int_equal(sn_graph_status(c->loaded), status);
        assert_null(report);
        assert_values(c->loaded, 100.0f, version);
        sn_graph_clear_error(c->loaded);
    }
    WATCHED((sn_load_report_free(report), SN_OK));
    return status;
}

/* A failed save leaves the file it would replace as it was, and no
 * temporary file. */
static sn_status save(struct checkpoint_case *c) {
    struct stat before, after;
    assert_int_equal(stat(c->path, &before), 0);
    sn_status status = WATCHED(sn_graph_save_checkpoint(c->saved, c->path));
    assert_int_equal(count_files(), 1);
    if (status != SN_OK) {
        assert_int_equal(stat(c->path, &after), 0);
        assert_int_equal(after.st_ino, before.st_ino);
        sn_graph_clear_error(c->saved);
    }
    return status;
}

/* Runs `call` with every allocation after the first n failing, for n = 0,
 * 1, ... until it succeeds; each failure must be SN_ERR_OUT_OF_MEMORY and
 * free what it made. Returns the number of allocations of a success. */
static long fail_each_allocation(sn_status (*call)(struct checkpoint_case *),
                                 struct checkpoint_case *c) {
    for (long n = 0;; n++) {
        long live = counter.live;
        counter.calls = 0;
        counter.fail_after = n;
        sn_status status = call(c);
        counter.fail_after = -1;
        if (counter.live != live)
            fail_msg("failing allocation %ld: %ld allocations leaked", n + 1, counter.live - live);
        assert_int_equal(counter.foreign, 0);
        if (status == SN_OK) return n;
        if (status != SN_ERR_OUT_OF_MEMORY)
            fail_msg("failing allocation %ld: status %d (%s), not out of memory", n + 1, status,
                     sn_status_string(status));
        assert_true(n < 100000);
    }
}

/* The same calls with the C library's malloc refusing everything: they
 * must not need it. */
static void without_libc_malloc(sn_status (*call)(struct checkpoint_case *),
                                struct checkpoint_case *c, const char *what) {
    without_libc = true;
    libc_calls = 0;
    sn_status status = call(c);
    without_libc = false;
    if (libc_calls != 0 || status != SN_OK)
        fail_msg("%s: %ld calls to the C library's malloc, around the hook; status %s", what,
                 libc_calls, sn_status_string(status));
}

static void test_checkpoints_out_of_memory(void **state) {
    (void)state;
    reset(&counter, -1);
    assert_int_equal(sn_set_allocator(&counting_allocator), SN_OK);
#if SN_TEST_WATCH_LIBC
    /* the watch sees what the C library allocates for itself */
    libc_watch_start(false);
    char *volatile copy = strdup("watched"); /* volatile: not optimized away */
    assert_true(libc_watch_stop() >= 1);
    free(copy);
#endif
    struct checkpoint_case c;
    snprintf(c.path, sizeof c.path, "%s/m.safetensors", tmpdir);
    c.saved = many_variables(1.0f);
    c.loaded = many_variables(100.0f);
    assert_non_null(c.saved);
    assert_non_null(c.loaded);
    assert_int_equal(sn_graph_status(c.saved), SN_OK);
    assert_int_equal(sn_graph_save_checkpoint(c.saved, c.path), SN_OK);
    FILE *f = fopen(c.path, "rb");
    assert_non_null(f);
    c.bytes = REAL_MALLOC(1 << 20);
    c.size = fread(c.bytes, 1, 1 << 20, f);
    fclose(f);

    without_libc_malloc(open_file, &c, "open");
    without_libc_malloc(open_memory, &c, "open_memory");
    without_libc_malloc(load, &c, "load");
    without_libc_malloc(save, &c, "save");
    /* and the message of a failure: a corrupt copy, a missing file */
    unsigned char *corrupt = REAL_MALLOC(c.size);
    assert_non_null(corrupt);
    memcpy(corrupt, c.bytes, c.size);
    corrupt[20] = '[';
    sn_checkpoint *ck = NULL;
    libc_watch_start(true);
    sn_status status = sn_checkpoint_open_memory(corrupt, c.size, &ck);
    long calls = libc_watch_stop();
    assert_int_equal(status, SN_ERR_CORRUPT);
    assert_int_equal(calls, 0);
    sn_checkpoint_close(ck);
    REAL_FREE(corrupt);
    libc_watch_start(true);
    status = sn_checkpoint_open("/nonexistent/m.safetensors", &ck);
    calls = libc_watch_stop();
    assert_int_equal(status, SN_ERR_IO);
    assert_int_equal(calls, 0);
    sn_checkpoint_close(ck);

    print_message("open: %ld allocations, open_memory: %ld, load: %ld, save: %ld; each one "
                  "failing was handled\n",
                  fail_each_allocation(open_file, &c), fail_each_allocation(open_memory, &c),
                  fail_each_allocation(load, &c), fail_each_allocation(save, &c));
    assert_values(c.loaded, 100.0f, 1 + 2 * 2); /* two loads, each put back */

    REAL_FREE(c.bytes);
    sn_graph_destroy(c.saved);
    sn_graph_destroy(c.loaded);
    assert_int_equal(counter.live, 0);
    assert_int_equal(counter.foreign, 0);
    assert_int_equal(counter.made.count, 0);
    assert_int_equal(sn_set_allocator(NULL), SN_OK);
    unlink(c.path);
}

/* The hook may change between calls (with nothing live): each call
 * allocates through the hook in force, and frees through it, keeping no
 * memory of an earlier one. */
static struct counting other;

static void test_checkpoints_follow_the_hook_in_force(void **state) {
    (void)state;
    static const sn_allocator first = {count_allocate,         count_reallocate, count_free,
                                       count_allocate_aligned, count_free,       &counter};
    static const sn_allocator second = {count_allocate,         count_reallocate, count_free,
                                        count_allocate_aligned, count_free,       &other};
    char path[300];
    snprintf(path, sizeof path, "%s/m.safetensors", tmpdir);
    for (int round = 0; round < 2; round++) {
        struct counting *now = round ? &other : &counter, *before = round ? &counter : &other;
        reset(now, -1);
        long calls_before = before->calls;
        assert_int_equal(sn_set_allocator(round ? &second : &first), SN_OK);
        sn_graph *g = many_variables(1.0f);
        assert_non_null(g);
        if (round) assert_int_equal(sn_graph_load_checkpoint(g, path, true, NULL), SN_OK);
        assert_int_equal(sn_graph_save_checkpoint(g, path), SN_OK);
        sn_checkpoint *ck = NULL;
        assert_int_equal(sn_checkpoint_open(path, &ck), SN_OK);
        sn_checkpoint_close(ck);
        sn_graph_destroy(g);
        assert_int_equal(sn_set_allocator(NULL), SN_OK);
        assert_true(now->calls > MANY);
        assert_int_equal(now->live, 0);
        assert_int_equal(now->foreign, 0);
        assert_int_equal(before->calls, calls_before); /* the other hook is not called */
    }
    unlink(path);
}

static int make_tmpdir(void **state) {
    (void)state;
    const char *base = getenv("TMPDIR");
    snprintf(tmpdir, sizeof tmpdir, "%s/scopenn-alloc-XXXXXX", base && *base ? base : "/tmp");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int remove_tmpdir(void **state) {
    (void)state;
    return rmdir(tmpdir);
}

/* A builder call that runs out of memory at any of its allocations takes
 * no name: the same call made next, with memory, gets the name it would
 * have had (plain, or with the suffix of a name already taken). */
static void test_out_of_memory_takes_no_name(void **state) {
    (void)state;
    const char *want[4] = {"r", "r_1", "s", "s_1"};
    for (int call = 0; call < 4; call++) {
        long n;
        for (n = 0;; n++) {
            reset(&counter, -1);
            assert_int_equal(sn_set_allocator(&counting_allocator), SN_OK);
            sn_graph *g = sn_graph_create(NULL);
            sn_tensor *x = sn_placeholder(g, "x", SN_SHAPE(2));
            if (call == 1) sn_relu(g, x, "r");
            if (call == 3 && sn_name_scope_open(g, "s")) sn_name_scope_close(g);
            assert_int_equal(sn_graph_status(g), SN_OK);
            reset(&counter, n);
            const char *got =
                call < 2 ? sn_tensor_op_name(sn_relu(g, x, "r")) : sn_name_scope_open(g, "s");
            const bool failed = sn_graph_status(g) != SN_OK;
            if (failed) {
                assert_int_equal(sn_graph_status(g), SN_ERR_OUT_OF_MEMORY);
                sn_graph_clear_error(g);
                reset(&counter, -1);
                got = call < 2 ? sn_tensor_op_name(sn_relu(g, x, "r")) : sn_name_scope_open(g, "s");
            }
            assert_int_equal(sn_graph_status(g), SN_OK);
            if (strcmp(got, want[call]) != 0)
                fail_msg("call %d failing at allocation %ld: then named %s, not %s", call, n + 1,
                         got, want[call]);
            sn_graph_destroy(g);
            assert_int_equal(sn_set_allocator(NULL), SN_OK);
            if (!failed) break;
        }
        assert_true(n > 0);
    }
}

/* A session's allocations through the hook: counted for `threads`, or the
 * status of a create whose allocations fail after `fail_after`. */
static sn_status session_allocations(int threads, long fail_after, long *calls) {
    reset(&counter, -1);
    sn_graph *g = sn_graph_create(NULL);
    sn_tensor *x = sn_placeholder(g, "x", SN_SHAPE(1, 8, 8, 4));
    sn_tensor *y = sn_relu(g, x, NULL);
    assert_int_equal(sn_graph_status(g), SN_OK);
    const long live = counter.live;
    reset(&counter, fail_after);
    counter.live = live;
    sn_session *s = sn_session_create(g, SN_FETCH(y), &(sn_session_options){.threads = threads});
    *calls = counter.calls;
    counter.fail_after = -1;
    sn_status st = sn_graph_status(g);
    assert_int_equal(st, s ? SN_OK : SN_ERR_OUT_OF_MEMORY);
    sn_session_destroy(s);
    sn_graph_destroy(g);
    if (counter.live != 0) fail_msg("%d threads: %ld allocations leaked", threads, counter.live);
    return st;
}

/* The session's thread pool allocates through the hook too (the pool,
 * its ranges of work items, its workers), and a failure of any of its
 * allocations is reported as SN_ERR_OUT_OF_MEMORY, with nothing leaked. */
static void test_hook_sees_the_thread_pool(void **state) {
    (void)state;
    assert_int_equal(sn_set_allocator(&counting_allocator), SN_OK);
    long one, two;
    assert_int_equal(session_allocations(1, -1, &one), SN_OK);
    assert_int_equal(session_allocations(2, -1, &two), SN_OK);
    if (two < one + 3)
        fail_msg("a session on 2 threads made %ld allocations through the hook, on 1 %ld", two,
                 one);
    long calls;
    for (long n = 0; n < two; n++)
        assert_int_equal(session_allocations(2, n, &calls), SN_ERR_OUT_OF_MEMORY);
    assert_int_equal(session_allocations(2, two, &calls), SN_OK);
    assert_int_equal(sn_set_allocator(NULL), SN_OK);
}

/* Two 3x3 convs of 16 channels (Winograd packs, reserved one after the
 * other at create) on a graph of its own. */
static sn_graph *two_convs(sn_tensor **x, sn_tensor **y) {
    sn_graph *g = sn_graph_create(&(sn_graph_options){.seed = 5});
    sn_tensor *h = *x = sn_placeholder(g, "x", SN_SHAPE(1, 6, 5, 16));
    for (int k = 0; k < 2; k++) SN_WITH_VARIABLE_SCOPE(g, k ? "second" : "first") {
            sn_variable *w = sn_get_variable(g, "w", SN_SHAPE(3, 3, 16, 16), SN_NO_INITIALIZER);
            h = sn_relu(g, sn_conv2d(g, h, sn_var(g, w), SN_HW(1, 1), SN_PADDING_SAME, NULL), NULL);
        }
    *y = h;
    assert_int_equal(sn_graph_status(g), SN_OK);
    return g;
}

/* A session's output for the image, and how many packs its run made. */
static size_t run_session(sn_graph *g, sn_tensor *x, sn_tensor *y, const float *image, float *out) {
    sn_session *s = sn_session_create(g, SN_FETCH(y), &(sn_session_options){.threads = 1});
    assert_non_null(s);
    sn_session_stats before, after;
    sn_session_stats_get(s, &before);
    sn_output o;
    assert_int_equal(sn_session_run(s, &(sn_feed){x, image, SN_SHAPE(1, 6, 5, 16)}, 1, &o), SN_OK);
    sn_session_stats_get(s, &after);
    memcpy(out, o.data, sizeof(float) * 6 * 5 * 16);
    sn_session_destroy(s);
    return after.packs_made - before.packs_made;
}

/* A create that fails after reserving packs (sn_pack_reserve) leaves
 * them to the next session of the graph: whichever allocation fails, a
 * session created next computes what one on a fresh graph does, with
 * every pack made at its create, none at its run. */
static void test_failed_create_leaves_packs_to_the_next(void **state) {
    (void)state;
    float image[6 * 5 * 16], want[6 * 5 * 16], got[6 * 5 * 16];
    for (int i = 0; i < 6 * 5 * 16; i++) image[i] = (float)(i % 23) / 11.0f - 1.0f;
    sn_tensor *x, *y;
    sn_graph *g = two_convs(&x, &y);
    assert_int_equal(run_session(g, x, y, image, want), 0);
    sn_graph_destroy(g);
    assert_int_equal(sn_set_allocator(&counting_allocator), SN_OK);
    long n = 0;
    for (;; n++) {
        reset(&counter, -1);
        g = two_convs(&x, &y);
        const long live = counter.live;
        reset(&counter, n);
        counter.live = live;
        sn_session *bad = sn_session_create(g, SN_FETCH(y), &(sn_session_options){.threads = 2});
        counter.fail_after = -1;
        if (bad) {
            sn_session_destroy(bad);
            sn_graph_destroy(g);
            break;
        }
        assert_int_equal(sn_graph_status(g), SN_ERR_OUT_OF_MEMORY);
        sn_graph_clear_error(g);
        if (run_session(g, x, y, image, got) != 0)
            fail_msg("failing allocation %ld: the next session's run made packs", n + 1);
        assert_memory_equal(got, want, sizeof want);
        sn_graph_destroy(g);
        if (counter.live != 0)
            fail_msg("failing allocation %ld: %ld allocations leaked", n + 1, counter.live);
    }
    assert_true(n > 10);
    assert_int_equal(sn_set_allocator(NULL), SN_OK);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hook_sees_every_allocation),
        cmocka_unit_test(test_out_of_memory_everywhere),
        cmocka_unit_test(test_out_of_memory_takes_no_name),
        cmocka_unit_test(test_checkpoints_out_of_memory),
        cmocka_unit_test(test_checkpoints_follow_the_hook_in_force),
        cmocka_unit_test(test_hook_sees_the_thread_pool),
        cmocka_unit_test(test_failed_create_leaves_packs_to_the_next),
    };
    return cmocka_run_group_tests(tests, make_tmpdir, remove_tmpdir);
}
