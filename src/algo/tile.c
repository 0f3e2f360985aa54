#include "algo/tile.h"

#include <math.h>

void sn_tile_blocks(const struct sn_tile_task *t, const struct sn_conv_tile *base, const float *in,
                    float *out, size_t count, size_t first_block, size_t end_block) {
    if (first_block == end_block) return;
    struct sn_conv_tile tile = *base;
    const size_t nr = t->cc->nr, end = end_block * nr;
    tile.input = in;
    tile.weights = t->weights + first_block * t->block_floats;
    tile.bias = (t->bias ? t->bias : t->base.bias /* zeros */) + first_block * nr;
    tile.output = out + first_block * nr;
    /* one call for all the blocks (see struct sn_conv_tile) */
    (count > 1 || t->lone_by_tile ? t->cc->tile : t->cc->row)(
        count, (end < (size_t)t->out_c ? end : (size_t)t->out_c) - first_block * nr, &tile);
}

void sn_block_range(const struct sn_tile_task *t, size_t i, size_t *b0, size_t *b1) {
    size_t blocks = ((size_t)t->out_c + t->cc->nr - 1) / t->cc->nr, g = i % t->groups;
    *b0 = g * blocks / t->groups;
    *b1 = (g + 1) * blocks / t->groups;
}

struct sn_tile_task sn_product_task(const struct sn_conv_config *cc, const float *zeros, int64_t k,
                                    int64_t n) {
    return (struct sn_tile_task){.cc = cc,
                                 .out_c = n,
                                 .out_stride = n,
                                 .channels = k,
                                 .block_floats = (size_t)k * cc->nr,
                                 .base = {.pixel_stride = (size_t)k * sizeof(float),
                                          .kh = 1,
                                          .kw = 1,
                                          .kc = (size_t)k,
                                          .bias = zeros,
                                          .output_stride = (size_t)n * sizeof(float),
                                          .min = -INFINITY,
                                          .max = INFINITY}};
}

void sn_tile_post(const struct sn_tile_task *t, float *out, size_t count, size_t first_block,
                  size_t end_block) {
    if (!t->post) return;
    const size_t nr = t->cc->nr, c = (size_t)t->out_c, stride = (size_t)t->out_stride;
    const size_t c0 = first_block * nr, c1 = end_block * nr < c ? end_block * nr : c;
    if (c0 >= c1) return;
    if (c0 == 0 && c1 == c && stride == c) {
        t->post(count * c, out, out);
        return;
    }
    for (size_t p = 0; p < count; p++) t->post(c1 - c0, out + p * stride + c0, out + p * stride + c0);
}
