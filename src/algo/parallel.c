#include "algo/parallel.h"

void sn_parallel(const struct sn_threads *th, sn_pool_fn fn, void *context, size_t count) {
    if (count == 0) return;
    if (!th->pool) {
        fn(context, 0, count);
        return;
    }
    size_t tile = count / (th->count * 4);
    sn_pool_run(th->pool, fn, context, count, tile ? tile : 1);
}

struct sn_share sn_threads_share(const struct sn_threads *th, size_t items, size_t chunk) {
    return sn_share_init(th->ranges, th->count, items, chunk);
}

size_t sn_block_groups(const struct sn_threads *th, size_t rows, size_t out_c, size_t nr) {
    size_t threads = th->count, blocks = (out_c + nr - 1) / nr;
    if (threads == 1 || rows >= 4 * threads) return 1;
    size_t want = (4 * threads + rows - 1) / (rows ? rows : 1);
    return want < blocks ? want : blocks;
}

size_t sn_part_stride(size_t floats, size_t threads) {
    return threads > 1 && floats ? (floats + 1023) / 1024 * 1024 + 65536 : floats;
}
