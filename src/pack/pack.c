#include "pack/pack.h"

#include <string.h>
#if defined(__SSE2__)
#include <immintrin.h>
#endif

#include "base/alloc.h"
#include "base/clock.h"
#include "base/shape.h"

static size_t reference_floats(const sn_shape *shape, int nr) {
    (void)nr;
    return (size_t)sn_shape_elements(shape);
}

static void reference_pack(const float *src, const sn_shape *shape, int nr, float *dst) {
    (void)nr;
    memcpy(dst, src, (size_t)sn_shape_elements(shape) * sizeof(float));
}

const sn_packer sn_packer_reference = {
    .name = "reference", .packed_floats = reference_floats, .pack = reference_pack};

/* A weight as rows x columns: the last dimension is the columns (output
 * channels), everything before it the rows (kh * kw * in_channels). */
static void rows_columns(const sn_shape *shape, size_t *rows, size_t *columns) {
    *rows = 1;
    for (int d = 0; d + 1 < shape->rank; d++) *rows *= (size_t)shape->dims[d];
    *columns = shape->rank ? (size_t)shape->dims[shape->rank - 1] : 1;
}

static size_t blocked_floats(const sn_shape *shape, int nr) {
    size_t rows, columns;
    rows_columns(shape, &rows, &columns);
    return (columns + (size_t)nr - 1) / (size_t)nr * (size_t)nr * rows;
}

/* [rows][columns] -> [columns / NR][rows][NR], the last block zero-padded.
 * Row by row, so the source is read once and in order (36 MB of 512
 * columns, NR 32, in memory already touched: 2.9 ms, against 4.0 block by
 * block). */
static void blocked_pack(const float *src, const sn_shape *shape, int nr, float *dst) {
    size_t rows, columns, n = (size_t)nr;
    rows_columns(shape, &rows, &columns);
    for (size_t r = 0; r < rows; r++)
        for (size_t b = 0; b < columns; b += n) {
            const size_t width = columns - b < n ? columns - b : n;
            float *d = dst + (b / n * rows + r) * n;
            memcpy(d, src + r * columns + b, width * sizeof(float));
            if (width < n) memset(d + width, 0, (n - width) * sizeof(float));
        }
}

/* A [columns, rows] matrix (MatMul's transposed B) in the same layout. */
static size_t transposed_floats(const sn_shape *shape, int nr) {
    size_t columns = (size_t)shape->dims[0], rows = (size_t)shape->dims[1], n = (size_t)nr;
    return (columns + n - 1) / n * n * rows;
}

static void transposed_pack(const float *src, const sn_shape *shape, int nr, float *dst) {
    size_t columns = (size_t)shape->dims[0], rows = (size_t)shape->dims[1], n = (size_t)nr;
    for (size_t b = 0; b < columns; b += n)
        for (size_t r = 0; r < rows; r++, dst += n)
            for (size_t j = 0; j < n; j++)
                dst[j] = b + j < columns ? src[(b + j) * rows + r] : 0.0f;
}

/* Interleaves the halves of every NR-float row of a blocked pack: a0 b0 a1
 * b1 ..., a the row's first NR / 2 floats and b the others, so that one
 * de-interleaving load (NEON's vld2q_f32 for NR = 8) gives a and b back. */
static void zip_halves(float *dst, size_t floats, int nr) {
    enum { MAX_NR = 64 };
    const size_t n = (size_t)nr, h = n / 2;
    float row[MAX_NR];
    if (n > MAX_NR || n % 2) return; /* no kernel set asks for such a layout */
    for (size_t r = 0; r < floats; r += n) {
        memcpy(row, dst + r, n * sizeof(float));
        for (size_t i = 0; i < h; i++) {
            dst[r + 2 * i] = row[i];
            dst[r + 2 * i + 1] = row[h + i];
        }
    }
}

static void blocked_zip_pack(const float *src, const sn_shape *shape, int nr, float *dst) {
    blocked_pack(src, shape, nr, dst);
    zip_halves(dst, blocked_floats(shape, nr), nr);
}

static void transposed_zip_pack(const float *src, const sn_shape *shape, int nr, float *dst) {
    transposed_pack(src, shape, nr, dst);
    zip_halves(dst, transposed_floats(shape, nr), nr);
}

/* Winograd weights (kernels.h, sn_winograd_geometry): a 3x3 (F(4x4, 3x3))
 * or 5x5 (F(2x2, 5x5)) filter [r][r][IC][OC] becomes U = G g G^T, 36
 * matrices [IC][OC], each in the blocked layout (zipped or not), one after
 * the other. G[j][k] = p_j^k / prod_{l != j} (p_j - p_l) at the points
 * 0, 1, -1, 1/2, -2 (the row of 1/2 times 1/4, as A^T's column of 1/2 is
 * times 4: kernels/winograd-f4x4.h), and the last row, infinity's, picks
 * g[r - 1]. U is summed in double and rounded once (G's thirds and
 * fifteenths are not floats). */
static size_t winograd_floats(const sn_shape *shape, int nr) {
    size_t ic = (size_t)shape->dims[2], oc = (size_t)shape->dims[3], n = (size_t)nr;
    return 36 * ((oc + n - 1) / n * n) * ic;
}

/* Stores a cache line of 16 floats (64-byte aligned) that nothing reads
 * soon: on x86, around the caches. A pack's 36 Winograd matrices lie
 * megabytes apart, so each store of the transform missed, and fetched a
 * line of fresh memory only to overwrite it: 25% of the packer's time was
 * its first store to each line. */
static inline void store_line(float *to, const float *line) {
#if defined(__SSE2__)
    for (int k = 0; k < 16; k += 4) _mm_stream_ps(to + k, _mm_loadu_ps(line + k));
#else
    memcpy(to, line, 16 * sizeof(float));
#endif
}

/* OB output channels of input channel i, which lie side by side in the
 * filter, through U = G g G^T (in double), stored in the 36 matrices'
 * blocks. Inlined for r = 3 and 5 apart, so that the compiler unrolls the
 * r-long sums. With r a variable and every store cached, ResNet-18's
 * session create spent about 53 ms in this packer; now 17-25 ms (perf
 * samples of 3 runs). */
enum { WINOGRAD_OB = 16 };

static inline __attribute__((always_inline)) void winograd_block(const float *src, const int r,
                                                                 const double (*G)[5], size_t ic,
                                                                 size_t oc, int nr, size_t chunk,
                                                                 size_t i, size_t o0, float *dst) {
    enum { OB = WINOGRAD_OB };
    const size_t ob = oc - o0 < OB ? oc - o0 : OB, n = (size_t)nr;
    _Static_assert(OB == 16, "store_line stores 16 floats");
    double g[5][5][OB], t[6][5][OB], u[OB];
    for (int y = 0; y < r; y++)
        for (int x = 0; x < r; x++) {
            const float *f = src + ((size_t)(y * r + x) * ic + i) * oc + o0;
            for (size_t j = 0; j < OB; j++) g[y][x][j] = j < ob ? f[j] : 0.0;
        }
    for (int a = 0; a < 6; a++) /* t = G g */
        for (int x = 0; x < r; x++)
            for (size_t j = 0; j < OB; j++) {
                double sum = 0;
                for (int k = 0; k < r; k++) sum += G[a][k] * g[k][x][j];
                t[a][x][j] = sum;
            }
    for (int a = 0; a < 6; a++) /* U = t G^T */
        for (int c = 0; c < 6; c++) {
            for (size_t j = 0; j < OB; j++) {
                double sum = 0;
                for (int k = 0; k < r; k++) sum += t[a][k][j] * G[c][k];
                u[j] = sum;
            }
            float *m = dst + (size_t)(a * 6 + c) * chunk, line[OB];
            /* where (i, o) sits in each matrix's blocks: [o / NR][i][o % NR] */
            for (size_t j = 0; j < OB; j++) line[j] = (float)u[j];
            if (ob == OB && n % OB == 0) {
                store_line(m + (o0 / n) * ic * n + i * n + o0 % n, line);
            } else { /* a part of a block, or blocks narrower than OB */
                for (size_t j = 0; j < ob; j++) {
                    const size_t o = o0 + j;
                    m[(o / n) * ic * n + i * n + o % n] = line[j];
                }
            }
        }
}

static void blocked_winograd_pack(const float *src, const sn_shape *shape, int nr, float *dst) {
    static const double G3[6][5] = {{1.0, 0, 0},
                                    {1.0 / 3, 1.0 / 3, 1.0 / 3},
                                    {-1.0 / 3, 1.0 / 3, -1.0 / 3},
                                    {-4.0 / 15, -2.0 / 15, -1.0 / 15},
                                    {1.0 / 15, -2.0 / 15, 4.0 / 15},
                                    {0, 0, 1.0}};
    static const double G5[6][5] = {{1.0, 0, 0, 0, 0},
                                    {1.0 / 3, 1.0 / 3, 1.0 / 3, 1.0 / 3, 1.0 / 3},
                                    {-1.0 / 3, 1.0 / 3, -1.0 / 3, 1.0 / 3, -1.0 / 3},
                                    {-4.0 / 15, -2.0 / 15, -1.0 / 15, -1.0 / 30, -1.0 / 60},
                                    {1.0 / 15, -2.0 / 15, 4.0 / 15, -8.0 / 15, 16.0 / 15},
                                    {0, 0, 0, 0, 1.0}};
    const size_t ic = (size_t)shape->dims[2], oc = (size_t)shape->dims[3], n = (size_t)nr,
                 chunk = winograd_floats(shape, nr) / 36;
    for (size_t i = 0; i < ic; i++)
        for (size_t o0 = 0; o0 < oc; o0 += WINOGRAD_OB) {
            if (shape->dims[0] == 3)
                winograd_block(src, 3, G3, ic, oc, nr, chunk, i, o0, dst);
            else
                winograd_block(src, 5, G5, ic, oc, nr, chunk, i, o0, dst);
        }
#if defined(__SSE2__)
    _mm_sfence(); /* the streamed stores before any later one */
#endif
    /* the padding of the last block: its columns past OC */
    if (oc % n)
        for (size_t m = 0; m < 36; m++)
            for (size_t i = 0; i < ic; i++)
                memset(dst + m * chunk + (oc / n) * ic * n + i * n + oc % n, 0,
                       (n - oc % n) * sizeof(float));
}

static void blocked_zip_winograd_pack(const float *src, const sn_shape *shape, int nr, float *dst) {
    blocked_winograd_pack(src, shape, nr, dst);
    zip_halves(dst, winograd_floats(shape, nr), nr);
}

/* Strassen-Winograd weights (see strassen_product in the session): a
 * weight seen as [K][N] (as the blocked layout sees it, or a transposed
 * [N][K]), zero-padded to [2 K2][2 N2] with K2 = ceil(K / 2) and N2 =
 * ceil(N / (2 NR)) NR, is four quadrants B11 B12 / B21 B22, and
 *     T1 = B12 - B11, T2 = B22 - T1, T3 = B22 - B12, T4 = T2 - B21;
 * the pack holds the seven products' weights, B11, B21, B22, T4, T1, T2,
 * T3, each [K2][N2] in the blocked layout (zipped or not), one after the
 * other. */
void sn_strassen_halves(size_t k, size_t n, int nr, size_t *k2, size_t *n2) {
    const size_t w = 2 * (size_t)nr;
    *k2 = (k + 1) / 2;
    *n2 = (n + w - 1) / w * (size_t)nr;
}

static void strassen_dims(const sn_shape *shape, int nr, bool transposed, size_t *k, size_t *n,
                          size_t *k2, size_t *n2) {
    if (transposed) {
        *n = (size_t)shape->dims[0], *k = (size_t)shape->dims[1];
    } else {
        rows_columns(shape, k, n);
    }
    sn_strassen_halves(*k, *n, nr, k2, n2);
}

static size_t strassen_floats_of(const sn_shape *shape, int nr, bool transposed) {
    size_t k, n, k2, n2;
    strassen_dims(shape, nr, transposed, &k, &n, &k2, &n2);
    return 7 * k2 * n2;
}

static size_t strassen_floats(const sn_shape *shape, int nr) {
    return strassen_floats_of(shape, nr, false);
}

static size_t strassen_transposed_floats(const sn_shape *shape, int nr) {
    return strassen_floats_of(shape, nr, true);
}

static void strassen_pack_of(const float *src, const sn_shape *shape, int nr, bool transposed,
                             bool zip, float *dst) {
    size_t k, n, k2, n2;
    strassen_dims(shape, nr, transposed, &k, &n, &k2, &n2);
    const size_t w = (size_t)nr, matrix = k2 * n2;
    for (size_t r = 0; r < k2; r++)
        for (size_t c = 0; c < n2; c++) {
            float b[2][2]; /* B11 B12 / B21 B22 at (r, c) */
            for (size_t i = 0; i < 2; i++)
                for (size_t j = 0; j < 2; j++) {
                    size_t row = i * k2 + r, col = j * n2 + c;
                    b[i][j] = row >= k || col >= n ? 0.0f
                              : transposed         ? src[col * k + row]
                                                   : src[row * n + col];
                }
            const float t1 = b[0][1] - b[0][0], t2 = b[1][1] - t1, t3 = b[1][1] - b[0][1],
                        t4 = t2 - b[1][0];
            const float op[7] = {b[0][0], b[1][0], b[1][1], t4, t1, t2, t3};
            const size_t at = (c / w) * k2 * w + r * w + c % w;
            for (size_t p = 0; p < 7; p++) dst[p * matrix + at] = op[p];
        }
    if (zip) zip_halves(dst, 7 * matrix, nr);
}

static void blocked_strassen_pack(const float *src, const sn_shape *shape, int nr, float *dst) {
    strassen_pack_of(src, shape, nr, false, false, dst);
}
static void blocked_strassen_transposed_pack(const float *src, const sn_shape *shape, int nr,
                                             float *dst) {
    strassen_pack_of(src, shape, nr, true, false, dst);
}
static void blocked_zip_strassen_pack(const float *src, const sn_shape *shape, int nr, float *dst) {
    strassen_pack_of(src, shape, nr, false, true, dst);
}
static void blocked_zip_strassen_transposed_pack(const float *src, const sn_shape *shape, int nr,
                                                 float *dst) {
    strassen_pack_of(src, shape, nr, true, true, dst);
}

const sn_packer sn_packer_blocked = {
    .name = "blocked", .packed_floats = blocked_floats, .pack = blocked_pack};
const sn_packer sn_packer_blocked_winograd = {
    .name = "blocked-winograd", .packed_floats = winograd_floats, .pack = blocked_winograd_pack};
const sn_packer sn_packer_blocked_zip_winograd = {.name = "blocked-zip-winograd",
                                                  .packed_floats = winograd_floats,
                                                  .pack = blocked_zip_winograd_pack};
const sn_packer sn_packer_blocked_transposed = {
    .name = "blocked-transposed", .packed_floats = transposed_floats, .pack = transposed_pack};
const sn_packer sn_packer_blocked_zip = {
    .name = "blocked-zip", .packed_floats = blocked_floats, .pack = blocked_zip_pack};
const sn_packer sn_packer_blocked_zip_transposed = {.name = "blocked-zip-transposed",
                                                    .packed_floats = transposed_floats,
                                                    .pack = transposed_zip_pack};
const sn_packer sn_packer_blocked_strassen = {
    .name = "blocked-strassen", .packed_floats = strassen_floats, .pack = blocked_strassen_pack};
const sn_packer sn_packer_blocked_strassen_transposed = {.name = "blocked-strassen-transposed",
                                                         .packed_floats =
                                                             strassen_transposed_floats,
                                                         .pack = blocked_strassen_transposed_pack};
const sn_packer sn_packer_blocked_zip_strassen = {.name = "blocked-zip-strassen",
                                                  .packed_floats = strassen_floats,
                                                  .pack = blocked_zip_strassen_pack};
const sn_packer sn_packer_blocked_zip_strassen_transposed = {
    .name = "blocked-zip-strassen-transposed",
    .packed_floats = strassen_transposed_floats,
    .pack = blocked_zip_strassen_transposed_pack};

struct sn_pack_cache *sn_pack_cache_create(void) {
    struct sn_pack_cache *c = sn_calloc(1, sizeof *c);
    if (c && pthread_mutex_init(&c->lock, NULL) != 0) {
        sn_free(c);
        return NULL;
    }
    return c;
}

static void pack_free(struct sn_pack *p) {
    if (!p) return;
    sn_aligned_free(p->data);
    sn_free(p->sources);
    sn_free(p->versions);
    sn_free(p);
}

void sn_pack_cache_destroy(struct sn_pack_cache *c) {
    if (!c) return;
    for (size_t i = 0; i < c->count; i++) pack_free(c->entries[i]);
    sn_free(c->entries);
    sn_aligned_free(c->scratch);
    pthread_mutex_destroy(&c->lock);
    sn_free(c);
}

size_t sn_packed_floats(const sn_packer *k, const struct sn_pack_params *params,
                        const struct sn_pack_source *s, size_t count, int nr) {
    return k->pack_sources ? k->packed_floats_sources(params, s, count, nr)
                           : k->packed_floats(&s[0].shape, nr);
}

size_t sn_pack_scratch_floats(const sn_packer *k, const struct sn_pack_params *params,
                              const struct sn_pack_source *s, size_t count, int nr) {
    return k->pack_sources && k->scratch_floats ? k->scratch_floats(params, s, count, nr) : 0;
}

void sn_pack_now(const sn_packer *k, const struct sn_pack_params *params,
                 const struct sn_pack_source *s, size_t count, int nr, float *scratch, float *dst) {
    if (k->pack_sources)
        k->pack_sources(params, s, count, nr, scratch, dst);
    else
        k->pack(s[0].data, &s[0].shape, nr, dst);
}

static void pack_with(struct sn_pack *p, float *scratch) {
    double start = sn_now_ms();
    for (size_t i = 0; i < p->source_count; i++)
        if (p->sources[i].value) p->sources[i].data = *p->sources[i].value;
    sn_pack_now(p->packer, &p->params, p->sources, p->source_count, p->nr,
                p->scratch_floats ? scratch : NULL, p->data);
    p->pack_ms = sn_now_ms() - start;
    for (size_t i = 0; i < p->source_count; i++) p->versions[i] = *p->sources[i].version;
    p->pending = false;
}

static void pack_now(const struct sn_pack_cache *c, struct sn_pack *p) { pack_with(p, c->scratch); }

void sn_pack_fill(struct sn_pack *p, float *scratch) {
    if (p->pending) pack_with(p, scratch);
}

float *sn_pack_cache_scratch(const struct sn_pack_cache *c) { return c->scratch; }

void sn_pack_lock(struct sn_pack_cache *c) { pthread_mutex_lock(&c->lock); }

void sn_pack_unlock(struct sn_pack_cache *c) { pthread_mutex_unlock(&c->lock); }

static bool refresh_locked(const struct sn_pack_cache *c, struct sn_pack *p) {
    size_t i = 0;
    while (!p->pending && i < p->source_count && p->versions[i] == *p->sources[i].version) i++;
    if (i == p->source_count) return false;
    pack_now(c, p);
    return true;
}

bool sn_pack_refresh(struct sn_pack_cache *c, struct sn_pack *p) {
    pthread_mutex_lock(&c->lock);
    bool repacked = refresh_locked(c, p);
    pthread_mutex_unlock(&c->lock);
    return repacked;
}

/* Whether entry `e` has the key (packer, nr, params, the sources' ids in
 * order). */
static bool same_key(const struct sn_pack *e, const sn_packer *packer, int nr,
                     const struct sn_pack_params *params, const struct sn_pack_source *sources,
                     size_t count) {
    if (e->packer != packer || e->nr != nr || e->source_count != count ||
        e->params.inner != params->inner || e->params.flags != params->flags ||
        memcmp(&e->params.epsilon, &params->epsilon, sizeof params->epsilon) != 0)
        return false;
    for (size_t i = 0; i < count; i++)
        if (e->sources[i].id != sources[i].id) return false;
    return true;
}

/* sn_pack_get, or sn_pack_reserve if `pending` is not NULL. */
static struct sn_pack *get(struct sn_pack_cache *c, const sn_packer *packer, int nr,
                           const struct sn_pack_params *params_or_null,
                           const struct sn_pack_source *sources, size_t count, bool *made,
                           bool *pending) {
    const struct sn_pack_params params =
        params_or_null ? *params_or_null : (struct sn_pack_params){0};
    struct sn_pack *p = NULL;
    pthread_mutex_lock(&c->lock);
    for (size_t i = 0; i < c->count; i++) {
        struct sn_pack *e = c->entries[i];
        if (same_key(e, packer, nr, &params, sources, count)) {
            if (e->pending && pending) /* reserved, by this session or another */
                *made = false, *pending = true;
            else
                *made = refresh_locked(c, e);
            p = e;
            goto done;
        }
    }
    const size_t floats = sn_packed_floats(packer, &params, sources, count, nr);
    size_t bytes = (floats * sizeof(float) + 63) & ~(size_t)63,
           scratch = sn_pack_scratch_floats(packer, &params, sources, count, nr);
    if (scratch > c->scratch_floats) {
        float *grown = sn_aligned_alloc(64, scratch * sizeof(float));
        if (!grown) goto done;
        sn_aligned_free(c->scratch);
        c->scratch = grown;
        c->scratch_floats = scratch;
    }
    if (!sn_ptr_reserve((void ***)&c->entries, c->count, &c->capacity) ||
        !(p = sn_calloc(1, sizeof *p)) || !(p->sources = sn_malloc(count * sizeof *p->sources)) ||
        !(p->versions = sn_calloc(count, sizeof *p->versions)) ||
        !(p->data = sn_aligned_alloc(64, bytes))) {
        pack_free(p);
        p = NULL;
        goto done;
    }
    /* every packer writes its floats (padding included): zero the rest */
    memset(p->data + floats, 0, bytes - floats * sizeof(float));
    memcpy(p->sources, sources, count * sizeof *p->sources);
    p->source_count = count;
    p->packer = packer;
    p->nr = nr;
    p->params = params;
    p->bytes = bytes;
    p->scratch_floats = scratch;
    p->pending = true;
    if (pending)
        *pending = true;
    else
        pack_now(c, p);
    c->entries[c->count++] = p;
    c->bytes += bytes;
    *made = true;
done:
    pthread_mutex_unlock(&c->lock);
    return p;
}

struct sn_pack *sn_pack_get(struct sn_pack_cache *c, const sn_packer *packer, int nr,
                            const struct sn_pack_params *params,
                            const struct sn_pack_source *sources, size_t count, bool *made) {
    return get(c, packer, nr, params, sources, count, made, NULL);
}

struct sn_pack *sn_pack_reserve(struct sn_pack_cache *c, const sn_packer *packer, int nr,
                                const struct sn_pack_params *params,
                                const struct sn_pack_source *sources, size_t count, bool *made,
                                bool *pending) {
    *pending = false;
    return get(c, packer, nr, params, sources, count, made, pending);
}
