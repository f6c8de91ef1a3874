/* SPDX-License-Identifier: MIT */
/* tree.h - a generic document tree read from YAML (formats/yaml.c, libyaml's home) or JSON
 * (jansson through formats/json.c): maps with keys in source order, lists, and scalars, each
 * node with the line and column it starts at. Modules walk it with their own schema: the run
 * config (runner/run_config.c), `cairn train`'s sections (train/train_config.c), the
 * optimizer's search space. Errors read "config 'x.yaml' line 3 column 7: ...". */
#ifndef CN_FORMATS_TREE_H
#define CN_FORMATS_TREE_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "cairn/cairn.h"

/* Collections nested deeper than this are refused with the line and the limit. */
#define CN_TREE_MAX_DEPTH 64
/* Nodes a document may expand to through YAML aliases (a node shared by aliases counts once
 * per use): more is refused, so any full walk of a tree stays bounded. */
#define CN_TREE_MAX_NODES (16u << 20)
/* cn_tree_load refuses larger files. */
#define CN_TREE_MAX_BYTES (16u << 20)

typedef enum cn_node_kind { CN_NODE_SCALAR = 1, CN_NODE_LIST, CN_NODE_MAP } cn_node_kind;

typedef struct cn_node cn_node;
typedef struct cn_pair {
    const cn_node *key; /* any kind: YAML allows lists as keys; schemas refuse them */
    const cn_node *value;
    bool is_dup; /* a scalar key an earlier pair of the same map has */
} cn_pair;

/* Nodes belong to their tree and are read-only. A YAML alias is the anchored node itself, so
 * a tree may share nodes (never cycles). */
struct cn_node {
    cn_node_kind kind;
    bool is_plain;         /* scalar: unquoted YAML, or a JSON number, true, false or null */
    uint32_t line, column; /* 1-based, where the node starts */
    const char *text;      /* scalar: as written (JSON strings unescaped), NUL-terminated */
    size_t len;            /* scalar: bytes in text (text may hold a NUL before len) */
    size_t n;              /* list items or map pairs */
    cn_node **items;       /* list, in order */
    cn_pair *pairs;        /* map, in source order */
    size_t cap_, size_;    /* the builder's: capacity, nodes expanded (aliases per use) */
};

typedef enum cn_tree_format { CN_TREE_YAML = 0, CN_TREE_JSON } cn_tree_format;
typedef struct cn_tree cn_tree;

/* Reads text[0 .. len) as one YAML document or one JSON value. `what` and `label` name the
 * input in messages ("config", "x.yaml"). On success *out is freed with cn_tree_free(). */
cairn_status cn_tree_parse(cairn_ctx *ctx, const char *what, const char *label,
                           cn_tree_format format, const char *text, size_t len, cn_tree **out);
/* Reads a file: JSON when its name ends in ".json", else YAML ("config 'x.yaml': No such file
 * or directory" is ENOTFOUND; more than CN_TREE_MAX_BYTES is ELIMIT). */
cairn_status cn_tree_load(cairn_ctx *ctx, const char *what, const char *path, cn_tree **out);
void cn_tree_free(cn_tree *t);                 /* NULL is a no-op */
const cn_node *cn_tree_root(const cn_tree *t); /* NULL for an empty document */

/* Records "<what> '<label>' line L column C: <message>" (no position when at is NULL) and
 * returns EINVAL. */
cairn_status cn_tree_fail(cairn_ctx *ctx, const cn_tree *t, const cn_node *at, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
bool cn_node_is_null(const cn_node *n);          /* a plain "", "~", "null", "Null" or "NULL" */
const char *cn_node_kind_name(const cn_node *n); /* "a scalar", "a list", "a mapping" */
/* The value of the first pair whose scalar key is `key`, or NULL (a scan: walk the pairs to
 * read every key of a large map). */
const cn_node *cn_node_get(const cn_node *map, const char *key);

/* ---- schema walking: what each module's reader is made of ---- */

typedef struct cn_tree_walk {
    cairn_ctx *ctx;
    const cn_tree *tree;
    void *user; /* what the fields fill */
} cn_tree_walk;
typedef cairn_status (*cn_tree_field_fn)(const cn_tree_walk *w, const cn_node *key,
                                         const cn_node *value);
typedef struct cn_tree_field {
    const char *name;
    cn_tree_field_fn read; /* NULL: a known key read by another command */
} cn_tree_field;

/* Walks map's pairs in order against fields[0 .. n): keys must be scalars, appear once and be
 * known ("unknown key 'data.x'; allowed: path, label, ..."); a null value counts as absent.
 * `section` names the map in messages ("data"), NULL for the top level. */
cairn_status cn_tree_walk_map(const cn_tree_walk *w, const cn_node *map, const char *section,
                              const cn_tree_field *fields, size_t n_fields);

typedef struct cn_tree_kv {
    char *key;
    char *value; /* the scalar as written: "0.01", "adam", "true" */
} cn_tree_kv;

/* Typed values; `what` names the field in messages ("data.path"). Strings are new copies. */
cairn_status cn_tree_string(const cn_tree_walk *w, const char *what, const cn_node *n, char **out);
/* A list of scalars, or one scalar taken as a one-item list; appended to *list. */
cairn_status cn_tree_string_list(const cn_tree_walk *w, const char *what, const cn_node *n,
                                 char ***list, size_t *count);
/* A mapping of scalars, appended to *map in order. */
cairn_status cn_tree_string_map(const cn_tree_walk *w, const char *what, const cn_node *n,
                                cn_tree_kv **map, size_t *count);
cairn_status cn_tree_int(const cn_tree_walk *w, const char *what, const cn_node *n, int64_t lo,
                         int64_t hi, int64_t *out);
cairn_status cn_tree_bool(const cn_tree_walk *w, const char *what, const cn_node *n, bool *out);
void cn_tree_kv_free(cn_tree_kv *map, size_t n);
/* Room for item n of an array that holds n items of `size` bytes: doubles it when n is 0 or a
 * power of two, so appending n items costs O(n). */
void *cn_tree_grow(void *items, size_t n, size_t size);
void cn_tree_strv_free(char **list, size_t n);

/* ---- building, for the readers (yaml.c, the JSON reader in tree.c) ---- */

cn_node *cn_tree_node(cn_tree *t, cn_node_kind kind, size_t line, size_t column);
void cn_tree_set_text(cn_tree *t, cn_node *scalar, const char *text, size_t len, bool is_plain);
void cn_tree_add(cn_tree *t, cn_node *parent,
                 cn_node *item); /* a list item, or a key then its value */
/* Completes a list or map: marks duplicate scalar keys (a hash set, linear in the pairs) and
 * returns the nodes it expands to, aliases counted per use (saturating past
 * CN_TREE_MAX_NODES). */
size_t cn_tree_close(cn_tree *t, cn_node *node);
/* A table from names to nodes (YAML anchors), linear in its uses. */
typedef struct cn_tree_names cn_tree_names;
cn_tree_names *cn_tree_names_new(void);
void cn_tree_names_free(cn_tree_names *h);                                 /* NULL is a no-op */
void cn_tree_names_set(cn_tree_names *h, const char *name, cn_node *node); /* replaces */
cn_node *cn_tree_names_get(const cn_tree_names *h, const char *name);
void cn_tree_set_root(cn_tree *t, cn_node *root);
cairn_status cn_tree_fail_pos(cairn_ctx *ctx, const cn_tree *t, size_t line, size_t column,
                              const char *fmt, ...) __attribute__((format(printf, 5, 6)));
#endif
