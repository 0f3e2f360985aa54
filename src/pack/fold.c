/* Batch normalization folded into a product's packs (SEMANTICS.md S25):
 * conv(x, w) alpha + beta = conv(x, w alpha) + beta per output channel,
 * with alpha = scale / sqrt(variance + epsilon) and beta = offset - mean
 * alpha, as PyTorch's inference computes them. */
#include <math.h>

#include "base/shape.h"
#include "pack/pack.h"

/* alpha of channel c from the variance and the scale. */
static float alpha(const struct sn_pack_params *p, const struct sn_pack_source *variance,
                   const struct sn_pack_source *scale, size_t c) {
    return scale->data[c] / sqrtf(variance->data[c] + p->epsilon);
}

static size_t elements(const sn_shape *shape) { return (size_t)sn_shape_elements(shape); }

/* ---- weights: (weight, variance, scale) ---------------------------------- */

static size_t weights_floats(const struct sn_pack_params *p, const struct sn_pack_source *s,
                             size_t count, int nr) {
    (void)count;
    return p->inner->packed_floats(&s[0].shape, nr);
}

/* Whether the inner packer only moves the weight's floats, into [C / NR]
 * [K][NR] (C the channels, padded with zeros): the fold then scales the
 * pack in place, which gives the same floats (the same products, moved)
 * and needs scratch for the alphas only, not a copy of the weight (for a
 * 512x512 3x3 filter, 9 MB held by the pack cache, on top of every pack:
 * ResNet-18's peak memory). */
static bool moves_only(const struct sn_pack_params *p) {
    return p->inner == &sn_packer_blocked || p->inner == &sn_packer_blocked_transposed;
}

static size_t weights_scratch(const struct sn_pack_params *p, const struct sn_pack_source *s,
                              size_t count, int nr) {
    (void)count, (void)nr;
    return moves_only(p) ? (size_t)s[1].shape.dims[0] : elements(&s[0].shape);
}

/* The pack of the weight as it is, each channel's floats then times its
 * alpha. */
static void pack_then_scale(const struct sn_pack_params *p, const struct sn_pack_source *s, int nr,
                            float *alphas, float *dst) {
    const size_t total = elements(&s[0].shape), channels = (size_t)s[1].shape.dims[0],
                 rows = channels ? total / channels : 0, n = (size_t)nr;
    for (size_t c = 0; c < channels; c++) alphas[c] = alpha(p, &s[1], &s[2], c);
    p->inner->pack(s[0].data, &s[0].shape, nr, dst);
    for (size_t b = 0; b < channels; b += n) {
        const size_t width = channels - b < n ? channels - b : n;
        for (size_t r = 0; r < rows; r++, dst += n)
            for (size_t j = 0; j < width; j++) dst[j] *= alphas[b + j];
    }
}

/* Channels whose alphas a pass of weights_pack computes first: the
 * weight is then read and written in runs of this many floats, row after
 * row (channel by channel, a float in each row's cache line: ResNet-18's
 * folds took a quarter of its session create). */
enum { FOLD_CHANNELS = 256 };

static void weights_pack(const struct sn_pack_params *p, const struct sn_pack_source *s,
                         size_t count, int nr, float *scratch, float *dst) {
    (void)count;
    if (moves_only(p)) {
        pack_then_scale(p, s, nr, scratch, dst);
        return;
    }
    const size_t total = elements(&s[0].shape), channels = (size_t)s[1].shape.dims[0];
    const size_t other = channels ? total / channels : 0;
    const float *w = s[0].data;
    float a[FOLD_CHANNELS];
    for (size_t c0 = 0; c0 < channels; c0 += FOLD_CHANNELS) {
        const size_t n = channels - c0 < FOLD_CHANNELS ? channels - c0 : FOLD_CHANNELS;
        for (size_t c = 0; c < n; c++) a[c] = alpha(p, &s[1], &s[2], c0 + c);
        if (p->flags & SN_FOLD_ROWS)
            for (size_t c = 0; c < n; c++)
                for (size_t k = 0; k < other; k++)
                    scratch[(c0 + c) * other + k] = w[(c0 + c) * other + k] * a[c];
        else
            for (size_t k = 0; k < other; k++)
                for (size_t c = 0; c < n; c++)
                    scratch[k * channels + c0 + c] = w[k * channels + c0 + c] * a[c];
    }
    p->inner->pack(scratch, &s[0].shape, nr, dst);
}

const sn_packer sn_packer_fold_weights = {.name = "fold-batch-norm-weights",
                                          .packed_floats_sources = weights_floats,
                                          .scratch_floats = weights_scratch,
                                          .pack_sources = weights_pack};

/* ---- bias: (bias, mean, variance, offset, scale) or without the bias ----- */

/* The batch normalization's sources: the last four. */
static const struct sn_pack_source *norm(const struct sn_pack_source *s, size_t count) {
    return s + count - 4;
}

static size_t bias_floats(const struct sn_pack_params *p, const struct sn_pack_source *s,
                          size_t count, int nr) {
    return p->inner->packed_floats(&norm(s, count)[0].shape, nr);
}

static size_t bias_scratch(const struct sn_pack_params *p, const struct sn_pack_source *s,
                           size_t count, int nr) {
    (void)p, (void)nr;
    return elements(&norm(s, count)[0].shape);
}

static void bias_pack(const struct sn_pack_params *p, const struct sn_pack_source *s, size_t count,
                      int nr, float *scratch, float *dst) {
    const struct sn_pack_source *bn = norm(s, count);
    const size_t channels = (size_t)bn[0].shape.dims[0];
    for (size_t c = 0; c < channels; c++) {
        const float a = alpha(p, &bn[1], &bn[3], c), beta = bn[2].data[c] - bn[0].data[c] * a;
        scratch[c] = count == 5 ? s[0].data[c] * a + beta : beta;
    }
    p->inner->pack(scratch, &bn[0].shape, nr, dst);
}

const sn_packer sn_packer_fold_bias = {.name = "fold-batch-norm-bias",
                                       .packed_floats_sources = bias_floats,
                                       .scratch_floats = bias_scratch,
                                       .pack_sources = bias_pack};
