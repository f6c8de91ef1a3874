/* SPDX-License-Identifier: MIT */
/* map.h - a string-keyed hash map to size_t values (open addressing, linear probing, FNV-1a),
 * for name lookups that must stay O(1) on inputs with 100k keys: table columns, config keys.
 * Keys are borrowed: the caller keeps each key's bytes alive while the map holds it. */
#ifndef CN_MAP_H
#define CN_MAP_H
#include <stdbool.h>
#include <stddef.h>

typedef struct cn_map_slot {
    const char *key; /* NULL: empty */
    size_t len;
    size_t value;
} cn_map_slot;

typedef struct cn_map {
    cn_map_slot *slots;
    size_t cap; /* a power of two, or 0 */
    size_t len;
} cn_map;
#define CN_MAP_INIT                                                                                \
    {                                                                                              \
        NULL, 0, 0                                                                                 \
    }

/* Adds key -> value, or replaces the value when the key is there; returns true when it was
 * new. key[0 .. len) need not be NUL-terminated. */
bool cn_map_put(cn_map *m, const char *key, size_t len, size_t value);
/* Adds key -> value only when absent. Returns true when added; otherwise *existing (when not
 * NULL) gets the value already stored. */
bool cn_map_add(cn_map *m, const char *key, size_t len, size_t value, size_t *existing);
/* Looks key up; true and *value when found. */
bool cn_map_get(const cn_map *m, const char *key, size_t len, size_t *value);
void cn_map_release(cn_map *m); /* frees; m is CN_MAP_INIT afterwards */
#endif
