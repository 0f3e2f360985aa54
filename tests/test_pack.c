/* The pack cache on its own (src/pack): a pack made from several variables
 * (S25) is made once and reused (S23), repacked exactly once when any of
 * its sources gets a new value (S24), and its key is (packer, NR, the list
 * of sources): another list, NR or packer is another pack. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "pack/pack.h"
#include "scope/scope.h"
#include "scopenn.h"

enum { N = 6 }; /* elements of each variable, [2, 3] */

/* A toy fold of several sources into one pack: the elementwise product of
 * all of them (one source: a copy), plus NR, so that NR shows in the
 * bytes. */
static size_t product_floats(const struct sn_pack_params *params,
                             const struct sn_pack_source *sources, size_t count, int nr) {
    (void)params, (void)count, (void)nr;
    return (size_t)(sources[0].shape.dims[0] * sources[0].shape.dims[1]);
}

static void product_pack(const struct sn_pack_params *params, const struct sn_pack_source *sources,
                         size_t count, int nr, float *scratch, float *dst) {
    (void)scratch;
    size_t n = product_floats(params, sources, count, nr);
    for (size_t i = 0; i < n; i++) {
        float x = (float)nr;
        for (size_t s = 0; s < count; s++) x *= sources[s].data[i];
        dst[i] = x;
    }
}

static const sn_packer product = {
    .name = "test-product", .packed_floats_sources = product_floats, .pack_sources = product_pack};
/* The same layout under another name: another packer. */
static const sn_packer product_again = {.name = "test-product-again",
                                        .packed_floats_sources = product_floats,
                                        .pack_sources = product_pack};

struct fixture {
    sn_graph *graph;
    sn_variable *a, *b;
    struct sn_pack_cache *cache;
};

static void set_up(struct fixture *f) {
    f->graph = sn_graph_create(NULL);
    assert_non_null(f->graph);
    f->a = sn_get_variable(f->graph, "a", SN_SHAPE(2, 3), sn_random_uniform_initializer(-2, 2));
    f->b = sn_get_variable(f->graph, "b", SN_SHAPE(2, 3), sn_random_uniform_initializer(-2, 2));
    assert_non_null(f->a);
    assert_non_null(f->b);
    f->cache = sn_pack_cache_create();
    assert_non_null(f->cache);
}

static void tear_down(struct fixture *f) {
    sn_pack_cache_destroy(f->cache);
    sn_graph_destroy(f->graph);
}

/* The pack holds nr x the product of the variables' current values. */
static void check_product(const struct sn_pack *p, int nr, const sn_variable *x,
                          const sn_variable *y) {
    const float *xv = sn_variable_value(x), *yv = y ? sn_variable_value(y) : NULL;
    for (int i = 0; i < N; i++) {
        float want = (float)nr * xv[i];
        if (yv) want *= yv[i];
        if (p->data[i] != want)
            fail_msg("element %d: packed %g, want %g (%s%s%s)", i, (double)p->data[i], (double)want,
                     sn_variable_name(x), y ? " x " : "", y ? sn_variable_name(y) : "");
    }
}

static void assign(sn_variable *v, float base) {
    float values[N];
    for (int i = 0; i < N; i++) values[i] = base + 0.25f * (float)i;
    assert_int_equal(sn_variable_assign(v, values, N), SN_OK);
}

static void test_made_once_and_reused(void **state) {
    (void)state;
    struct fixture f;
    set_up(&f);
    const struct sn_pack_source ab[2] = {sn_variable_source(f.a), sn_variable_source(f.b)};
    bool made = false;
    struct sn_pack *p = sn_pack_get(f.cache, &product, 4, NULL, ab, 2, &made);
    assert_non_null(p);
    assert_true(made);
    assert_int_equal(p->source_count, 2);
    check_product(p, 4, f.a, f.b);

    /* The same key again, from a fresh array of sources: the same pack. */
    struct sn_pack_source again[2] = {sn_variable_source(f.a), sn_variable_source(f.b)};
    made = true;
    assert_ptr_equal(sn_pack_get(f.cache, &product, 4, NULL, again, 2, &made), p);
    assert_false(made);
    assert_int_equal(f.cache->count, 1);
    assert_int_equal(f.cache->bytes, 64); /* 6 floats, rounded up to a cache line */
    assert_false(sn_pack_refresh(f.cache, p));
    check_product(p, 4, f.a, f.b);
    tear_down(&f);
}

/* A new value for either source repacks the pack once, in place. */
static void test_repacked_once_per_change(void **state) {
    (void)state;
    struct fixture f;
    set_up(&f);
    const struct sn_pack_source ab[2] = {sn_variable_source(f.a), sn_variable_source(f.b)};
    bool made = false;
    struct sn_pack *p = sn_pack_get(f.cache, &product, 1, NULL, ab, 2, &made);
    assert_non_null(p);
    float *data = p->data;

    assign(f.a, 3.0f);
    assert_true(sn_pack_refresh(f.cache, p));
    check_product(p, 1, f.a, f.b);
    assert_false(sn_pack_refresh(f.cache, p));

    assign(f.b, -1.5f);
    assert_true(sn_pack_refresh(f.cache, p));
    check_product(p, 1, f.a, f.b);
    assert_false(sn_pack_refresh(f.cache, p));

    /* Both at once: still once. */
    assign(f.a, 0.5f);
    assign(f.b, 2.0f);
    assert_true(sn_pack_refresh(f.cache, p));
    check_product(p, 1, f.a, f.b);
    assert_false(sn_pack_refresh(f.cache, p));

    /* A get after a change repacks too (made), and a refresh then has
     * nothing left to do. */
    assign(f.b, 7.0f);
    made = false;
    assert_ptr_equal(sn_pack_get(f.cache, &product, 1, NULL, ab, 2, &made), p);
    assert_true(made);
    check_product(p, 1, f.a, f.b);
    assert_false(sn_pack_refresh(f.cache, p));

    assert_ptr_equal(p->data, data); /* in place */
    assert_int_equal(f.cache->count, 1);
    tear_down(&f);
}

/* (A, B), (A) alone, (B, A), another NR and another packer: five packs. */
static void test_key(void **state) {
    (void)state;
    struct fixture f;
    set_up(&f);
    const struct sn_pack_source ab[2] = {sn_variable_source(f.a), sn_variable_source(f.b)};
    const struct sn_pack_source ba[2] = {ab[1], ab[0]};
    bool made = false;
    struct sn_pack *both = sn_pack_get(f.cache, &product, 2, NULL, ab, 2, &made);
    struct sn_pack *alone = sn_pack_get(f.cache, &product, 2, NULL, ab, 1, &made);
    assert_true(made);
    struct sn_pack *reversed = sn_pack_get(f.cache, &product, 2, NULL, ba, 2, &made);
    assert_true(made);
    struct sn_pack *nr = sn_pack_get(f.cache, &product, 3, NULL, ab, 2, &made);
    assert_true(made);
    struct sn_pack *other = sn_pack_get(f.cache, &product_again, 2, NULL, ab, 2, &made);
    assert_true(made);
    struct sn_pack *all[] = {both, alone, reversed, nr, other};
    for (int i = 0; i < 5; i++) {
        assert_non_null(all[i]);
        for (int j = 0; j < i; j++) assert_ptr_not_equal(all[i], all[j]);
    }
    assert_int_equal(f.cache->count, 5);
    check_product(both, 2, f.a, f.b);
    check_product(alone, 2, f.a, NULL);
    check_product(reversed, 2, f.b, f.a);
    check_product(nr, 3, f.a, f.b);
    check_product(other, 2, f.a, f.b);

    /* B's new value invalidates exactly the packs made from B. */
    assign(f.b, 1.25f);
    assert_true(sn_pack_refresh(f.cache, both));
    assert_false(sn_pack_refresh(f.cache, alone));
    assert_true(sn_pack_refresh(f.cache, reversed));
    assert_true(sn_pack_refresh(f.cache, nr));
    assert_true(sn_pack_refresh(f.cache, other));
    check_product(both, 2, f.a, f.b);
    check_product(alone, 2, f.a, NULL);
    check_product(reversed, 2, f.b, f.a);
    tear_down(&f);
}

/* A packer of one weight (the kernels' layouts) through the same cache. */
static void test_one_weight_packer(void **state) {
    (void)state;
    struct fixture f;
    set_up(&f);
    const struct sn_pack_source a = sn_variable_source(f.a);
    bool made = false;
    struct sn_pack *p = sn_pack_get(f.cache, &sn_packer_reference, 1, NULL, &a, 1, &made);
    assert_non_null(p);
    assert_true(made);
    assert_memory_equal(p->data, sn_variable_value(f.a), N * sizeof(float));
    assert_ptr_equal(sn_pack_get(f.cache, &sn_packer_reference, 1, NULL, &a, 1, &made), p);
    assert_false(made);
    assign(f.a, -4.0f);
    assert_true(sn_pack_refresh(f.cache, p));
    assert_false(sn_pack_refresh(f.cache, p));
    assert_memory_equal(p->data, sn_variable_value(f.a), N * sizeof(float));
    tear_down(&f);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_made_once_and_reused),
        cmocka_unit_test(test_repacked_once_per_change),
        cmocka_unit_test(test_key),
        cmocka_unit_test(test_one_weight_packer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
