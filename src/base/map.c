/* SPDX-License-Identifier: MIT */
/* map.c - the string-keyed hash map of map.h: open addressing with linear probing, kept at
 * most half full, FNV-1a over the key bytes. No deletion: users build, look up, release. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "base/map.h"
#include "base/xmalloc.h"
#include "base/banned.h"

static uint64_t hash(const char *key, size_t len)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a 64 */
    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)key[i];
        h *= 1099511628211ull;
    }
    return h;
}

static cn_map_slot *find(const cn_map *m, const char *key, size_t len)
{
    size_t mask = m->cap - 1;
    for (size_t i = (size_t)hash(key, len) & mask;; i = (i + 1) & mask) {
        cn_map_slot *s = &m->slots[i];
        if (!s->key || (s->len == len && memcmp(s->key, key, len) == 0))
            return s;
    }
}

static void grow(cn_map *m)
{
    cn_map old = *m;
    m->cap = old.cap ? old.cap * 2 : 16;
    m->slots = cn_xcalloc(m->cap, sizeof *m->slots);
    for (size_t i = 0; i < old.cap; i++)
        if (old.slots[i].key)
            *find(m, old.slots[i].key, old.slots[i].len) = old.slots[i];
    free(old.slots);
}

static cn_map_slot *slot_for_insert(cn_map *m, const char *key, size_t len)
{
    if ((m->len + 1) * 2 > m->cap)
        grow(m);
    return find(m, key, len);
}

bool cn_map_put(cn_map *m, const char *key, size_t len, size_t value)
{
    cn_map_slot *s = slot_for_insert(m, key, len);
    bool is_new = s->key == NULL;
    if (is_new) {
        s->key = key;
        s->len = len;
        m->len++;
    }
    s->value = value;
    return is_new;
}

bool cn_map_add(cn_map *m, const char *key, size_t len, size_t value, size_t *existing)
{
    cn_map_slot *s = slot_for_insert(m, key, len);
    if (s->key) {
        if (existing)
            *existing = s->value;
        return false;
    }
    s->key = key;
    s->len = len;
    s->value = value;
    m->len++;
    return true;
}

bool cn_map_get(const cn_map *m, const char *key, size_t len, size_t *value)
{
    if (m->cap == 0)
        return false;
    const cn_map_slot *s = find(m, key, len);
    if (!s->key)
        return false;
    *value = s->value;
    return true;
}

void cn_map_release(cn_map *m)
{
    free(m->slots);
    m->slots = NULL;
    m->cap = m->len = 0;
}
