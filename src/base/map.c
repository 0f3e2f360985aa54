#include "base/map.h"

#include <stdint.h>
#include <string.h>

#include "base/alloc.h"

static uint64_t hash(const char *s) { /* FNV-1a */
    uint64_t h = 1469598103934665603u;
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211u;
    return h;
}

static size_t slot(const sn_map *m, const char *key) {
    size_t i = (size_t)hash(key) & (m->capacity - 1);
    while (m->keys[i] && strcmp(m->keys[i], key) != 0) i = (i + 1) & (m->capacity - 1);
    return i;
}

void *sn_map_get(const sn_map *m, const char *key) {
    if (m->capacity == 0) return NULL;
    size_t i = slot(m, key);
    return m->keys[i] ? m->values[i] : NULL;
}

static bool grow(sn_map *m) {
    size_t cap = m->capacity ? m->capacity * 2 : 16;
    sn_map bigger = {sn_calloc(cap, sizeof(char *)), sn_calloc(cap, sizeof(void *)), 0, cap};
    if (!bigger.keys || !bigger.values) {
        sn_free(bigger.keys);
        sn_free(bigger.values);
        return false;
    }
    for (size_t i = 0; i < m->capacity; i++) {
        if (!m->keys[i]) continue;
        size_t j = slot(&bigger, m->keys[i]);
        bigger.keys[j] = m->keys[i];
        bigger.values[j] = m->values[i];
        bigger.count++;
    }
    sn_free(m->keys);
    sn_free(m->values);
    *m = bigger;
    return true;
}

bool sn_map_put(sn_map *m, const char *key, void *value) {
    if (m->capacity) { /* a key already there takes its new value in place */
        size_t i = slot(m, key);
        if (m->keys[i]) {
            m->values[i] = value;
            return true;
        }
    }
    if ((m->count + 1) * 4 > m->capacity * 3 && !grow(m)) return false;
    size_t i = slot(m, key);
    if (!m->keys[i]) {
        char *copy = sn_strdup(key);
        if (!copy) return false;
        m->keys[i] = copy;
        m->count++;
    }
    m->values[i] = value;
    return true;
}

void sn_map_free(sn_map *m) {
    for (size_t i = 0; i < m->capacity; i++) sn_free(m->keys[i]);
    sn_free(m->keys);
    sn_free(m->values);
    *m = (sn_map){0};
}
