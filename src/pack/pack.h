/* Weight packers and the pack cache (SEMANTICS.md S23, S24).
 *
 * A kernel reads its weights in the layout its packer makes; the two are
 * chosen together. The cache belongs to the graph, so a variable used by
 * any number of ops, images or sessions is packed once per (packer, NR). An
 * entry remembers the variable version it was packed from; when the value
 * changes, the next compile or run repacks it, once, in place (same size,
 * no allocation). */
#ifndef SN_PACK_PACK_H
#define SN_PACK_PACK_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

#include "scopenn.h"

typedef struct sn_packer {
    const char *name;
    /* Floats the packed form of a weight of `shape` takes, for block NR. */
    size_t (*packed_floats)(const sn_shape *shape, int nr);
    /* Packs `src` (row-major, `shape`) into `dst`. */
    void (*pack)(const float *src, const sn_shape *shape, int nr, float *dst);
} sn_packer;

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
 * strassen_product in runtime/session.c). */
extern const sn_packer sn_packer_blocked_strassen;
extern const sn_packer sn_packer_blocked_strassen_transposed;
extern const sn_packer sn_packer_blocked_zip_strassen;
extern const sn_packer sn_packer_blocked_zip_strassen_transposed;
/* Those packs' quadrants for a [K][N] product: K2 = ceil(K / 2) rows and
 * N2 = ceil(N / (2 NR)) NR columns, the width of whole NR blocks. */
void sn_strassen_halves(size_t k, size_t n, int nr, size_t *k2, size_t *n2);

struct sn_pack {
    sn_variable *variable;
    const sn_packer *packer;
    int nr;
    uint64_t version; /* of the variable when packed */
    float *data;      /* 64-byte aligned */
    size_t bytes;
    double pack_ms; /* how long the last packing took */
};

struct sn_pack_cache {
    pthread_mutex_t lock;
    struct sn_pack **entries;
    size_t count, capacity;
    size_t bytes; /* held by all entries */
};

/* A new, empty cache; NULL when out of memory. */
struct sn_pack_cache *sn_pack_cache_create(void);
void sn_pack_cache_destroy(struct sn_pack_cache *cache);

/* The pack of (variable, packer, nr), made now if there is none (*made =
 * true) or brought up to date with the variable's value (*made = true if
 * that repacked, false if the pack was reused as it was). NULL when out of
 * memory. Thread-safe. */
struct sn_pack *sn_pack_get(struct sn_pack_cache *cache, sn_variable *variable,
                            const sn_packer *packer, int nr, bool *made);

/* Repacks in place if the variable's value changed since; returns whether
 * it did. Allocates nothing. Thread-safe. */
bool sn_pack_refresh(struct sn_pack_cache *cache, struct sn_pack *pack);

#endif
