/* Work items shared among the calls of a hand-off: see share.h. */
#include "algo/share.h"

enum { MOST = 65535 }; /* chunks in a range: 16 bits */

struct sn_share sn_share_init(struct sn_share_range *range, size_t ranges, size_t items,
                              size_t chunk) {
    struct sn_share w = {.items = items, .chunk = chunk, .range = range, .ranges = ranges};
    uint64_t chunks = ((uint64_t)items + w.chunk - 1) / w.chunk; /* 64 bits where size_t has 32 */
    while ((chunks + ranges - 1) / ranges > MOST)
        w.chunk *= 2, chunks = ((uint64_t)items + w.chunk - 1) / w.chunk;
    for (size_t k = 0; k < ranges; k++) {
        range[k].base = chunks * k / ranges;
        atomic_init(&range[k].span, (uint32_t)(chunks * (k + 1) / ranges - range[k].base));
    }
    return w;
}

bool sn_share_take(const struct sn_share *w, size_t k, size_t *begin, size_t *end) {
    for (size_t j = 0; j < w->ranges; j++) {
        struct sn_share_range *r = &w->range[(k + j) % w->ranges];
        uint32_t span = atomic_load_explicit(&r->span, memory_order_relaxed);
        for (;;) {
            const uint32_t first = span >> 16, stop = span & MOST;
            if (first >= stop) break;
            /* its own range from the front, the others' from the back; a
             * failed exchange reloads span */
            const uint32_t chunk = j == 0 ? first : stop - 1,
                           left = j == 0 ? (first + 1) << 16 | stop : first << 16 | (stop - 1);
            if (atomic_compare_exchange_weak_explicit(&r->span, &span, left, memory_order_relaxed,
                                                      memory_order_relaxed)) {
                *begin = (size_t)((r->base + chunk) * w->chunk);
                *end = w->items - *begin > w->chunk ? *begin + w->chunk : w->items;
                return true;
            }
        }
    }
    return false;
}
