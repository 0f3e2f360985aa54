/* A string-keyed hash map (open addressing, linear probing) for the
 * graph's name tables. Keys are copied; values are borrowed pointers. */
#ifndef SN_BASE_MAP_H
#define SN_BASE_MAP_H

#include <stdbool.h>
#include <stddef.h>

typedef struct sn_map {
    char **keys;
    void **values;
    size_t count, capacity; /* capacity: 0 or a power of two */
} sn_map;

/* The value stored under `key`, or NULL. */
void *sn_map_get(const sn_map *map, const char *key);
/* Stores `value` under `key`, replacing any value there. Returns false
 * (and changes nothing) when out of memory; replacing the value of a key
 * already in the map allocates nothing, so cannot fail. */
bool sn_map_put(sn_map *map, const char *key, void *value);
/* Frees the keys and tables (not the values). */
void sn_map_free(sn_map *map);

#endif
