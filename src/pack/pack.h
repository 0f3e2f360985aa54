/* Weight packers and the pack cache (SEMANTICS.md S23-S25).
 *
 * A kernel reads its weights in the layout its packer makes; the two are
 * chosen together. A pack is made by a packer from a list of sources, and
 * the cache keys it by (packer, NR, the sources' identities): whoever owns
 * the cache (a graph) asks for a weight used by any number of ops, images
 * or sessions, and it is packed once. An entry remembers each source's
 * version when it was packed; when any of them changes, the next compile or
 * run repacks it, once, in place (same size, no allocation). The cache
 * knows sources, not what they are (variables, in a graph). */
#ifndef SN_PACK_PACK_H
#define SN_PACK_PACK_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "scopenn.h"

/* One source of a pack: its identity and version, which the cache reads,
 * and its value, which the packer reads. The pointers are the owner's and
 * must stay valid (the value at the same place) as long as the cache. */
struct sn_pack_source {
    uint64_t id;             /* identity, unique among the cache's sources */
    const uint64_t *version; /* changes with each new value; read at each refresh */
    const float *data;       /* row-major, `shape` */
    sn_shape shape;
    /* A variable's: where its current value is (a new value may lie
     * elsewhere: S22), read into `data` at each packing; or NULL. */
    const float *const *value;
};

/* A multi-source packer's parameters, part of a pack's key: the packer of
 * one weight it ends with, and what it folds (batch normalization: its
 * epsilon, and whether the channels are the weight's rows). All zero for a
 * packer that takes none. */
struct sn_pack_params {
    const struct sn_packer *inner;
    float epsilon;
    unsigned flags; /* SN_FOLD_ROWS */
};
enum { SN_FOLD_ROWS = 1 }; /* a [C, K] weight (MatMul with transpose_b), not [K, C] */

typedef struct sn_packer {
    const char *name;
    /* A packer of one weight (each of those below) gives these two: the
     * floats the packed form of a weight of `shape` takes, for block NR,
     * and the packing of `src` (row-major, `shape`) into `dst`. They serve
     * a weight that is not in the cache too (one computed at run time). */
    size_t (*packed_floats)(const sn_shape *shape, int nr);
    void (*pack)(const float *src, const sn_shape *shape, int nr, float *dst);
    /* A packer that makes one pack from several sources (a filter folded
     * with the batch normalization after it, S25) gives these instead,
     * over the list of `count` sources and its parameters, and leaves the
     * two above NULL: the floats of the pack, the floats of scratch its
     * packing needs (NULL: none), and the packing. */
    size_t (*packed_floats_sources)(const struct sn_pack_params *params,
                                    const struct sn_pack_source *sources, size_t count, int nr);
    size_t (*scratch_floats)(const struct sn_pack_params *params,
                             const struct sn_pack_source *sources, size_t count, int nr);
    void (*pack_sources)(const struct sn_pack_params *params, const struct sn_pack_source *sources,
                         size_t count, int nr, float *scratch, float *dst);
} sn_packer;

/* The floats of the pack `packer` makes from these sources, and of the
 * scratch that packing needs (either kind of packer). */
size_t sn_packed_floats(const sn_packer *packer, const struct sn_pack_params *params,
                        const struct sn_pack_source *sources, size_t count, int nr);
size_t sn_pack_scratch_floats(const sn_packer *packer, const struct sn_pack_params *params,
                              const struct sn_pack_source *sources, size_t count, int nr);
/* Packs the sources into dst (either kind of packer), with `scratch` of
 * sn_pack_scratch_floats() floats. */
void sn_pack_now(const sn_packer *packer, const struct sn_pack_params *params,
                 const struct sn_pack_source *sources, size_t count, int nr, float *scratch,
                 float *dst);

/* Batch normalization folded into a product's weights and bias (S25):
 * alpha = scale / sqrt(variance + epsilon) and beta = offset - mean alpha
 * per channel, as PyTorch's inference computes them.
 *   - weights: sources (weight, variance, scale), what alpha reads: the
 *     weight seen as [K][C] (or [C][K] with SN_FOLD_ROWS) times alpha per
 *     channel, then packed by params->inner;
 *   - bias: sources (bias, mean, variance, offset, scale) or (mean,
 *     variance, offset, scale) for a product without a bias; bias alpha +
 *     beta, packed by params->inner. */
extern const sn_packer sn_packer_fold_weights;
extern const sn_packer sn_packer_fold_bias;

/* The reference layout: the weight as it is (HWIO filters, [k, n]
 * matrices, bias vectors). */
extern const sn_packer sn_packer_reference;

/* Output-channel blocks: a weight [..., N] seen as [K][N] (K the product
 * of the other dimensions: kh * kw * in_channels for an HWIO filter, 1 for
 * a bias) becomes [ceil(N / NR)][K][NR], the last block zero-padded. */
extern const sn_packer sn_packer_blocked;
/* The same layout from a [N, K] matrix (MatMul with transpose_b). */
extern const sn_packer sn_packer_blocked_transposed;
/* The blocked layouts with the two halves of every NR-float row
 * interleaved (a0 b0 a1 b1 ...), for kernels that load a row with one
 * de-interleaving load (armv7 NEON: vld2q_f32). */
extern const sn_packer sn_packer_blocked_zip;
extern const sn_packer sn_packer_blocked_zip_transposed;
/* A 3x3 or 5x5 filter [r][r][IC][OC] for Winograd F(4x4, 3x3) or F(2x2,
 * 5x5): U = G g G^T, 36 matrices [IC][OC] one after the other, each in the
 * blocked (or blocked_zip) layout (see sn_winograd_geometry in
 * kernels/kernels.h). */
extern const sn_packer sn_packer_blocked_winograd;
extern const sn_packer sn_packer_blocked_zip_winograd;
/* A matmul's [K][N] weights (or [N][K], transposed; or a 1x1 filter) for one
 * level of Strassen-Winograd: the seven products' [ceil(K / 2)][ceil(N /
 * 2NR) NR] weights, each in the blocked (or blocked_zip) layout (see
 * algo/strassen.c). */
extern const sn_packer sn_packer_blocked_strassen;
extern const sn_packer sn_packer_blocked_strassen_transposed;
extern const sn_packer sn_packer_blocked_zip_strassen;
extern const sn_packer sn_packer_blocked_zip_strassen_transposed;
/* Those packs' quadrants for a [K][N] product: K2 = ceil(K / 2) rows and
 * N2 = ceil(N / (2 NR)) NR columns, the width of whole NR blocks. */
void sn_strassen_halves(size_t k, size_t n, int nr, size_t *k2, size_t *n2);

struct sn_pack {
    const sn_packer *packer;
    int nr;
    struct sn_pack_params params;
    struct sn_pack_source *sources; /* copies of the key's sources, in order */
    uint64_t *versions;             /* each source's version when packed */
    size_t source_count;
    float *data;           /* 64-byte aligned */
    size_t scratch_floats; /* what the packing needs of the cache's scratch */
    size_t bytes;
    double pack_ms; /* how long the last packing took */
    bool pending;   /* made by sn_pack_reserve, not yet packed: see sn_pack_fill */
};

struct sn_pack_cache {
    pthread_mutex_t lock;
    struct sn_pack **entries;
    size_t count, capacity;
    size_t bytes; /* held by all entries */
    /* One scratch for every packing, as large as the largest needs: held,
     * so that a repack allocates nothing, but once, not once per pack (a
     * pack folding a batch norm needs as many floats as its weight). */
    float *scratch;
    size_t scratch_floats;
};

/* A new, empty cache; NULL when out of memory. */
struct sn_pack_cache *sn_pack_cache_create(void);
void sn_pack_cache_destroy(struct sn_pack_cache *cache);

/* The pack of (packer, nr, params, the ids of sources[0..count)) (params
 * may be NULL: all zero), made now if there
 * is none (*made = true) or brought up to date with its sources' versions
 * (*made = true if that repacked, false if the pack was reused as it was).
 * The order of the sources counts; `count` is 1 for a packer of one weight,
 * at least 1 for the others. The sources are copied: the array need not
 * outlive the call. NULL when out of memory. Thread-safe. */
struct sn_pack *sn_pack_get(struct sn_pack_cache *cache, const sn_packer *packer, int nr,
                            const struct sn_pack_params *params,
                            const struct sn_pack_source *sources, size_t count, bool *made);

/* As sn_pack_get, but a pack it makes is left unpacked, *pending set: the
 * caller packs it with sn_pack_fill, holding the cache's lock, before
 * anything reads it. A pending pack found (reserved before, by this
 * session or another being created) is returned as it is, *pending set
 * and *made not: each of its sessions fills it (the first does the
 * packing). So a session packs its new weights on its threads together,
 * once it has found them all. sn_pack_get packs a pending pack it finds. */
struct sn_pack *sn_pack_reserve(struct sn_pack_cache *cache, const sn_packer *packer, int nr,
                                const struct sn_pack_params *params,
                                const struct sn_pack_source *sources, size_t count, bool *made,
                                bool *pending);

/* The cache's lock, held while its pending packs are filled: a thread
 * that holds it may have other threads fill them. */
void sn_pack_lock(struct sn_pack_cache *cache);
void sn_pack_unlock(struct sn_pack_cache *cache);

/* Packs a pending pack (a no-op if it is not: another session packed it
 * first), with `scratch` of its scratch_floats floats (or NULL if none),
 * while some thread holds the cache's lock. Distinct packs may be filled
 * at the same time, each with its own scratch; the cache's own is
 * sn_pack_cache_scratch's, as large as any entry needs. */
void sn_pack_fill(struct sn_pack *pack, float *scratch);
float *sn_pack_cache_scratch(const struct sn_pack_cache *cache);

/* Repacks in place, once, if the version of any of the pack's sources
 * changed since it was packed; returns whether it did. Allocates nothing.
 * Thread-safe. */
bool sn_pack_refresh(struct sn_pack_cache *cache, struct sn_pack *pack);

#endif
