/* SPDX-License-Identifier: MIT */
/* tree.c - the generic document tree: building (for yaml.c and the JSON reader here), the
 * JSON reader (jansson parses through formats/json.c; a scan of the text places each node),
 * loading a file by its extension, and the schema-walking helpers modules share. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "formats/tree.h"
#include "formats/json.h"
#include "formats/yaml.h"
#include "core/core.h"
#include "base/arena.h"
#include "base/buf.h"
#include "base/fs.h"
#include "base/str.h"
#include "base/xmalloc.h"
#include "base/banned.h"

struct cn_tree {
    cn_arena *arena;
    char *what, *label;
    cn_node *root;
};

static uint64_t hash_bytes(const char *p, size_t len)
{
    uint64_t h = 0xcbf29ce484222325ULL; /* FNV-1a */
    for (size_t i = 0; i < len; i++)
        h = (h ^ (unsigned char)p[i]) * 0x100000001b3ULL;
    return h;
}

static size_t pow2_at_least(size_t n)
{
    size_t cap = 8;
    while (cap < n)
        cap *= 2;
    return cap;
}

/* ---- building ---- */

cn_node *cn_tree_node(cn_tree *t, cn_node_kind kind, size_t line, size_t column)
{
    cn_node *n = cn_arena_alloc(t->arena, sizeof *n);
    n->kind = kind;
    n->line = (uint32_t)line;
    n->column = (uint32_t)column;
    n->text = "";
    n->size_ = 1;
    return n;
}

void cn_tree_set_text(cn_tree *t, cn_node *scalar, const char *text, size_t len, bool is_plain)
{
    scalar->text = cn_arena_strndup(t->arena, text ? text : "", len);
    scalar->len = len;
    scalar->is_plain = is_plain;
}

void cn_tree_add(cn_tree *t, cn_node *parent, cn_node *item)
{
    if (parent->kind == CN_NODE_LIST) {
        parent->items =
            cn_arena_grow(t->arena, parent->items, parent->n, &parent->cap_, sizeof *parent->items);
        parent->items[parent->n++] = item;
        return;
    }
    CN_ASSERT(parent->kind == CN_NODE_MAP);
    /* A key opens a pair (its value still NULL); the next node is its value. */
    if (parent->n > 0 && parent->pairs[parent->n - 1].value == NULL) {
        parent->pairs[parent->n - 1].value = item;
        return;
    }
    parent->pairs =
        cn_arena_grow(t->arena, parent->pairs, parent->n, &parent->cap_, sizeof *parent->pairs);
    parent->pairs[parent->n++] = (cn_pair){.key = item};
}

static size_t add_size(size_t a, size_t b)
{
    return a + b > CN_TREE_MAX_NODES ? CN_TREE_MAX_NODES + 1 : a + b;
}

size_t cn_tree_close(cn_tree *t, cn_node *node)
{
    (void)t;
    size_t size = 1;
    if (node->kind == CN_NODE_LIST) {
        for (size_t i = 0; i < node->n; i++)
            size = add_size(size, node->items[i]->size_);
        node->size_ = size;
        return size;
    }
    if (node->kind != CN_NODE_MAP)
        return node->size_;
    size_t cap = pow2_at_least(2 * node->n), *slot = cn_xmalloc(cap * sizeof *slot);
    for (size_t i = 0; i < cap; i++)
        slot[i] = SIZE_MAX;
    for (size_t i = 0; i < node->n; i++) {
        cn_pair *p = &node->pairs[i];
        size = add_size(size, p->key->size_ + (p->value ? p->value->size_ : 0));
        if (p->key->kind != CN_NODE_SCALAR)
            continue;
        size_t h = (size_t)hash_bytes(p->key->text, p->key->len) & (cap - 1);
        for (; slot[h] != SIZE_MAX; h = (h + 1) & (cap - 1)) {
            const cn_node *k = node->pairs[slot[h]].key;
            if (k->len == p->key->len && memcmp(k->text, p->key->text, k->len) == 0) {
                p->is_dup = true;
                break;
            }
        }
        if (!p->is_dup)
            slot[h] = i;
    }
    free(slot);
    node->size_ = size;
    return size;
}

void cn_tree_set_root(cn_tree *t, cn_node *root)
{
    t->root = root;
}

struct cn_tree_names {
    size_t n, cap;
    char **names;
    cn_node **nodes;
};

cn_tree_names *cn_tree_names_new(void)
{
    cn_tree_names *h = cn_xcalloc(1, sizeof *h);
    h->cap = 16;
    h->names = cn_xcalloc(h->cap, sizeof *h->names);
    h->nodes = cn_xcalloc(h->cap, sizeof *h->nodes);
    return h;
}

void cn_tree_names_free(cn_tree_names *h)
{
    if (!h)
        return;
    for (size_t i = 0; i < h->cap; i++)
        free(h->names[i]);
    free(h->names);
    free(h->nodes);
    free(h);
}

static size_t names_slot(const cn_tree_names *h, const char *name)
{
    size_t i = (size_t)hash_bytes(name, strlen(name)) & (h->cap - 1);
    while (h->names[i] && strcmp(h->names[i], name) != 0)
        i = (i + 1) & (h->cap - 1);
    return i;
}

void cn_tree_names_set(cn_tree_names *h, const char *name, cn_node *node)
{
    if (2 * (h->n + 1) > h->cap) {
        cn_tree_names old = *h;
        h->cap *= 2;
        h->names = cn_xcalloc(h->cap, sizeof *h->names);
        h->nodes = cn_xcalloc(h->cap, sizeof *h->nodes);
        for (size_t i = 0; i < old.cap; i++)
            if (old.names[i]) {
                size_t s = names_slot(h, old.names[i]);
                h->names[s] = old.names[i];
                h->nodes[s] = old.nodes[i];
            }
        free(old.names);
        free(old.nodes);
    }
    size_t s = names_slot(h, name);
    if (!h->names[s]) {
        h->names[s] = cn_xstrdup(name);
        h->n++;
    }
    h->nodes[s] = node;
}

cn_node *cn_tree_names_get(const cn_tree_names *h, const char *name)
{
    return h->nodes[names_slot(h, name)];
}

/* ---- messages ---- */

static cairn_status vfail(cairn_ctx *ctx, const cn_tree *t, size_t line, size_t column,
                          const char *fmt, va_list ap)
{
    cn_buf b = CN_BUF_INIT;
    cn_buf_printf(&b, "%s '%s'", t->what, t->label);
    if (line)
        cn_buf_printf(&b, " line %zu column %zu", line, column);
    cn_buf_puts(&b, ": ");
    cn_buf_vprintf(&b, fmt, ap);
    cairn_status rc = cn_fail(ctx, CAIRN_EINVAL, "%s", cn_buf_str(&b));
    cn_buf_release(&b);
    return rc;
}

cairn_status cn_tree_fail_pos(cairn_ctx *ctx, const cn_tree *t, size_t line, size_t column,
                              const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    cairn_status rc = vfail(ctx, t, line, column, fmt, ap);
    va_end(ap);
    return rc;
}

cairn_status cn_tree_fail(cairn_ctx *ctx, const cn_tree *t, const cn_node *at, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    cairn_status rc = vfail(ctx, t, at ? at->line : 0, at ? at->column : 0, fmt, ap);
    va_end(ap);
    return rc;
}

/* ---- JSON: jansson parses; a scan of the (then valid) text gives each node its place ---- */

typedef struct jscan {
    const char *p, *end, *line_start;
    size_t line;
} jscan;

static void scan_ws(jscan *s)
{
    for (; s->p < s->end; s->p++) {
        if (*s->p == '\n') {
            s->line++;
            s->line_start = s->p + 1;
        } else if (*s->p != ' ' && *s->p != '\t' && *s->p != '\r') {
            return;
        }
    }
}

static void scan_string(jscan *s)
{
    for (s->p++; s->p < s->end && *s->p != '"'; s->p++)
        if (*s->p == '\\')
            s->p++;
    s->p++;
}

static void scan_token(jscan *s)
{
    while (s->p < s->end && !strchr(",]}: \t\r\n", *s->p))
        s->p++;
}

/* Refuses nesting past the limit before jansson sees the text (whose own limit is deeper). */
static cairn_status json_depth(cairn_ctx *ctx, const cn_tree *t, const char *text, size_t len)
{
    jscan s = {text, text + len, text, 1};
    int depth = 0;
    for (; s.p < s.end; s.p++) {
        if (*s.p == '"') {
            scan_string(&s);
            s.p--;
        } else if (*s.p == '\n') {
            s.line++;
            s.line_start = s.p + 1;
        } else if (*s.p == '[' || *s.p == '{') {
            if (++depth > CN_TREE_MAX_DEPTH)
                return cn_tree_fail_pos(ctx, t, s.line, (size_t)(s.p - s.line_start) + 1,
                                        "nested deeper than %d levels", CN_TREE_MAX_DEPTH);
        } else if (*s.p == ']' || *s.p == '}') {
            depth--;
        }
    }
    return CAIRN_OK;
}

static cn_node *json_node(cn_tree *t, jscan *s, const cn_json *v)
{
    scan_ws(s);
    size_t line = s->line, column = (size_t)(s->p - s->line_start) + 1;
    cn_json_type type = cn_json_typeof(v);
    if (type == CN_JSON_OBJECT || type == CN_JSON_ARRAY) {
        cn_node *n =
            cn_tree_node(t, type == CN_JSON_OBJECT ? CN_NODE_MAP : CN_NODE_LIST, line, column);
        s->p++; /* { or [ */
        if (type == CN_JSON_ARRAY) {
            for (size_t i = 0; i < cn_json_array_size(v); i++) {
                cn_tree_add(t, n, json_node(t, s, cn_json_array_get(v, i)));
                scan_ws(s);
                s->p++; /* , or ] */
            }
        } else {
            for (void *it = cn_json_object_iter(v); it; it = cn_json_object_next(v, it)) {
                scan_ws(s);
                cn_node *k =
                    cn_tree_node(t, CN_NODE_SCALAR, s->line, (size_t)(s->p - s->line_start) + 1);
                const char *key = cn_json_iter_key(it);
                cn_tree_set_text(t, k, key, strlen(key), false);
                scan_string(s);
                scan_ws(s);
                s->p++; /* : */
                cn_tree_add(t, n, k);
                cn_tree_add(t, n, json_node(t, s, cn_json_iter_value(it)));
                scan_ws(s);
                s->p++; /* , or } */
            }
        }
        if (cn_json_array_size(v) == 0 && cn_json_object_size(v) == 0) {
            scan_ws(s);
            s->p++; /* the closing bracket of an empty one */
        }
        cn_tree_close(t, n);
        return n;
    }
    cn_node *n = cn_tree_node(t, CN_NODE_SCALAR, line, column);
    if (type == CN_JSON_STRING) {
        cn_tree_set_text(t, n, cn_json_string(v), cn_json_string_len(v), false);
        scan_string(s);
    } else { /* numbers, true, false, null: as written */
        const char *start = s->p;
        scan_token(s);
        cn_tree_set_text(t, n, start, (size_t)(s->p - start), true);
    }
    return n;
}

static cairn_status json_read(cairn_ctx *ctx, cn_tree *t, const char *text, size_t len)
{
    cn_json *v = NULL;
    cn_json_error err;
    cairn_status rc = json_depth(ctx, t, text, len);
    if (rc != CAIRN_OK)
        return rc;
    if (!cn_json_parse_document(text, len, &v, &err))
        return cn_tree_fail_pos(ctx, t, (size_t)(err.line > 0 ? err.line : 1),
                                (size_t)(err.column > 0 ? err.column : 1), "%s", err.text);
    jscan s = {text, text + len, text, 1};
    cn_tree_set_root(t, json_node(t, &s, v));
    cn_json_free(v);
    return CAIRN_OK;
}

/* ---- entry points ---- */

cairn_status cn_tree_parse(cairn_ctx *ctx, const char *what, const char *label,
                           cn_tree_format format, const char *text, size_t len, cn_tree **out)
{
    cn_tree *t = cn_xcalloc(1, sizeof *t);
    t->arena = cn_arena_new();
    t->what = cn_xstrdup(what ? what : "input");
    t->label = cn_xstrdup(label ? label : "<text>");
    cairn_status rc = format == CN_TREE_JSON ? json_read(ctx, t, text ? text : "", len)
                                             : cn_yaml_read(ctx, t, text ? text : "", len);
    *out = NULL;
    if (rc != CAIRN_OK) {
        cn_tree_free(t);
        return rc;
    }
    *out = t;
    return CAIRN_OK;
}

cairn_status cn_tree_load(cairn_ctx *ctx, const char *what, const char *path, cn_tree **out)
{
    cn_buf text = CN_BUF_INIT;
    cairn_status rc;
    *out = NULL;
    if (cn_fs_read_file(path, &text, CN_TREE_MAX_BYTES) != 0) {
        rc = errno == E2BIG ? cn_fail(ctx, CAIRN_ELIMIT, "%s '%s': larger than %u bytes", what,
                                      path, CN_TREE_MAX_BYTES)
                            : cn_fail_errno(ctx, errno == ENOENT ? CAIRN_ENOTFOUND : CAIRN_EIO,
                                            "%s '%s'", what, path);
        cn_buf_release(&text);
        return rc;
    }
    size_t n = strlen(path);
    bool json = n >= 5 && strcmp(path + n - 5, ".json") == 0;
    rc = cn_tree_parse(ctx, what, path, json ? CN_TREE_JSON : CN_TREE_YAML, text.data, text.len,
                       out);
    cn_buf_release(&text);
    return rc;
}

void cn_tree_free(cn_tree *t)
{
    if (!t)
        return;
    cn_arena_free(t->arena);
    free(t->what);
    free(t->label);
    free(t);
}

const cn_node *cn_tree_root(const cn_tree *t)
{
    return t->root;
}

bool cn_node_is_null(const cn_node *n)
{
    if (n->kind != CN_NODE_SCALAR || !n->is_plain)
        return false;
    const char *v = n->text;
    return n->len == 0 || strcmp(v, "~") == 0 || strcmp(v, "null") == 0 || strcmp(v, "Null") == 0 ||
           strcmp(v, "NULL") == 0;
}

const char *cn_node_kind_name(const cn_node *n)
{
    switch (n->kind) {
    case CN_NODE_SCALAR: return "a scalar";
    case CN_NODE_LIST: return "a list";
    case CN_NODE_MAP: return "a mapping";
    }
    return "nothing";
}

const cn_node *cn_node_get(const cn_node *map, const char *key)
{
    for (size_t i = 0; map && map->kind == CN_NODE_MAP && i < map->n; i++)
        if (map->pairs[i].key->kind == CN_NODE_SCALAR && strcmp(map->pairs[i].key->text, key) == 0)
            return map->pairs[i].value;
    return NULL;
}

/* ---- schema walking ---- */

cairn_status cn_tree_walk_map(const cn_tree_walk *w, const cn_node *map, const char *section,
                              const cn_tree_field *fields, size_t n_fields)
{
    if (map->kind != CN_NODE_MAP)
        return section
                   ? cn_tree_fail(w->ctx, w->tree, map, "'%s' must be a mapping, got %s", section,
                                  cn_node_kind_name(map))
                   : cn_tree_fail(w->ctx, w->tree, map, "the top level must be a mapping, got %s",
                                  cn_node_kind_name(map));
    for (size_t i = 0; i < map->n; i++) {
        const cn_node *k = map->pairs[i].key, *v = map->pairs[i].value;
        if (k->kind != CN_NODE_SCALAR)
            return section ? cn_tree_fail(w->ctx, w->tree, k, "'%s' keys must be scalars, got %s",
                                          section, cn_node_kind_name(k))
                           : cn_tree_fail(w->ctx, w->tree, k, "keys must be scalars, got %s",
                                          cn_node_kind_name(k));
        if (map->pairs[i].is_dup)
            return section
                       ? cn_tree_fail(w->ctx, w->tree, k, "'%s.%s' appears twice", section, k->text)
                       : cn_tree_fail(w->ctx, w->tree, k, "key '%s' appears twice", k->text);
        /* Inside a section a null value is skipped before its key is looked at; at the top
         * level an unknown key is refused whatever its value. */
        if (section && cn_node_is_null(v))
            continue;
        const cn_tree_field *f = NULL;
        for (size_t j = 0; j < n_fields && !f; j++)
            if (strcmp(fields[j].name, k->text) == 0)
                f = &fields[j];
        if (!f) {
            cn_buf allowed = CN_BUF_INIT;
            for (size_t j = 0; j < n_fields; j++)
                cn_buf_printf(&allowed, "%s%s", j ? ", " : "", fields[j].name);
            cairn_status rc =
                section ? cn_tree_fail(w->ctx, w->tree, k, "unknown key '%s.%s'; allowed: %s",
                                       section, k->text, cn_buf_str(&allowed))
                        : cn_tree_fail(w->ctx, w->tree, k, "unknown key '%s'; allowed: %s", k->text,
                                       cn_buf_str(&allowed));
            cn_buf_release(&allowed);
            return rc;
        }
        if (cn_node_is_null(v) || !f->read)
            continue;
        cairn_status rc = f->read(w, k, v);
        if (rc != CAIRN_OK)
            return rc;
    }
    return CAIRN_OK;
}

cairn_status cn_tree_string(const cn_tree_walk *w, const char *what, const cn_node *n, char **out)
{
    if (n->kind != CN_NODE_SCALAR)
        return cn_tree_fail(w->ctx, w->tree, n, "'%s' must be a scalar, got %s", what,
                            cn_node_kind_name(n));
    if (memchr(n->text, '\0', n->len))
        return cn_tree_fail(w->ctx, w->tree, n, "'%s' holds a NUL character", what);
    free(*out);
    *out = cn_xstrndup(n->text, n->len);
    return CAIRN_OK;
}

void *cn_tree_grow(void *items, size_t n, size_t size)
{
    if (n == 0 || (n & (n - 1)) == 0)
        return cn_xrealloc(items, (n ? 2 * n : 1) * size);
    return items;
}

static void push_str(char ***list, size_t *n, char *s)
{
    *list = cn_tree_grow(*list, *n, sizeof **list);
    (*list)[(*n)++] = s;
}

cairn_status cn_tree_string_list(const cn_tree_walk *w, const char *what, const cn_node *n,
                                 char ***list, size_t *count)
{
    if (cn_node_is_null(n))
        return CAIRN_OK;
    if (n->kind == CN_NODE_SCALAR) {
        char *s = NULL;
        cairn_status rc = cn_tree_string(w, what, n, &s);
        if (rc == CAIRN_OK)
            push_str(list, count, s);
        return rc;
    }
    if (n->kind != CN_NODE_LIST)
        return cn_tree_fail(w->ctx, w->tree, n, "'%s' must be a list, got %s", what,
                            cn_node_kind_name(n));
    for (size_t i = 0; i < n->n; i++) {
        const cn_node *item = n->items[i];
        char *s = NULL;
        if (item->kind != CN_NODE_SCALAR)
            return cn_tree_fail(w->ctx, w->tree, item, "'%s' items must be scalars, got %s", what,
                                cn_node_kind_name(item));
        cairn_status rc = cn_tree_string(w, what, item, &s);
        if (rc != CAIRN_OK)
            return rc;
        push_str(list, count, s);
    }
    return CAIRN_OK;
}

cairn_status cn_tree_string_map(const cn_tree_walk *w, const char *what, const cn_node *n,
                                cn_tree_kv **map, size_t *count)
{
    if (cn_node_is_null(n))
        return CAIRN_OK;
    if (n->kind != CN_NODE_MAP)
        return cn_tree_fail(w->ctx, w->tree, n, "'%s' must be a mapping, got %s", what,
                            cn_node_kind_name(n));
    for (size_t i = 0; i < n->n; i++) {
        const cn_node *k = n->pairs[i].key, *v = n->pairs[i].value;
        char *key = NULL, *value = NULL;
        cairn_status rc = cn_tree_string(w, what, k, &key);
        if (rc == CAIRN_OK && n->pairs[i].is_dup)
            rc = cn_tree_fail(w->ctx, w->tree, k, "'%s.%s' appears twice", what, key);
        if (rc == CAIRN_OK && v->kind != CN_NODE_SCALAR)
            rc = cn_tree_fail(w->ctx, w->tree, v, "'%s.%s' must be a scalar, got %s", what, key,
                              cn_node_kind_name(v));
        if (rc == CAIRN_OK)
            rc = cn_tree_string(w, what, v, &value);
        if (rc != CAIRN_OK) {
            free(key);
            return rc;
        }
        *map = cn_tree_grow(*map, *count, sizeof **map);
        (*map)[*count] = (cn_tree_kv){key, value};
        (*count)++;
    }
    return CAIRN_OK;
}

static const char *text_or_kind(const cn_node *n)
{
    return n->kind == CN_NODE_SCALAR ? n->text : cn_node_kind_name(n);
}

cairn_status cn_tree_int(const cn_tree_walk *w, const char *what, const cn_node *n, int64_t lo,
                         int64_t hi, int64_t *out)
{
    int64_t x;
    if (n->kind != CN_NODE_SCALAR || !n->is_plain || !cn_parse_int64(n->text, &x) || x < lo ||
        x > hi)
        return cn_tree_fail(w->ctx, w->tree, n, "'%s' must be an integer in %lld..%lld, got '%s'",
                            what, (long long)lo, (long long)hi, text_or_kind(n));
    *out = x;
    return CAIRN_OK;
}

cairn_status cn_tree_bool(const cn_tree_walk *w, const char *what, const cn_node *n, bool *out)
{
    const char *t = n->kind == CN_NODE_SCALAR ? n->text : "";
    if (n->kind == CN_NODE_SCALAR && n->is_plain) {
        if (strcmp(t, "true") == 0 || strcmp(t, "True") == 0 || strcmp(t, "yes") == 0) {
            *out = true;
            return CAIRN_OK;
        }
        if (strcmp(t, "false") == 0 || strcmp(t, "False") == 0 || strcmp(t, "no") == 0) {
            *out = false;
            return CAIRN_OK;
        }
    }
    return cn_tree_fail(w->ctx, w->tree, n, "'%s' must be true or false, got '%s'", what,
                        text_or_kind(n));
}

void cn_tree_kv_free(cn_tree_kv *map, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(map[i].key);
        free(map[i].value);
    }
    free(map);
}

void cn_tree_strv_free(char **list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(list[i]);
    free(list);
}
