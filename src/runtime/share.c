/* Work items shared among the calls of a hand-off: see share.h. */
#include "runtime/share.h"

struct sn_share sn_share_init(struct sn_share_range *range, size_t ranges, size_t items,
                              size_t chunk) {
    struct sn_share w = {.items = items, .chunk = chunk, .range = range, .ranges = ranges};
    /* 64 bits, also where size_t has 32 */
    while (((uint64_t)items + w.chunk - 1) / w.chunk > UINT32_MAX) w.chunk *= 2;
    const uint64_t chunks = ((uint64_t)items + w.chunk - 1) / w.chunk;
    for (size_t k = 0; k < ranges; k++)
        atomic_init(&range[k].span, chunks * k / ranges << 32 | chunks * (k + 1) / ranges);
    return w;
}

bool sn_share_take(const struct sn_share *w, size_t k, size_t *begin, size_t *end) {
    for (size_t j = 0; j < w->ranges; j++) {
        struct sn_share_range *r = &w->range[(k + j) % w->ranges];
        uint64_t span = atomic_load_explicit(&r->span, memory_order_relaxed);
        for (;;) {
            const uint64_t first = span >> 32, stop = span & UINT32_MAX;
            if (first >= stop) break;
            /* its own range from the front, the others' from the back; a
             * failed exchange reloads span */
            const uint64_t chunk = j == 0 ? first : stop - 1,
                           left = j == 0 ? (first + 1) << 32 | stop : first << 32 | (stop - 1);
            if (atomic_compare_exchange_weak_explicit(&r->span, &span, left, memory_order_relaxed,
                                                      memory_order_relaxed)) {
                *begin = (size_t)chunk * w->chunk;
                *end = w->items - *begin > w->chunk ? *begin + w->chunk : w->items;
                return true;
            }
        }
    }
    return false;
}
