/* SPDX-License-Identifier: MIT */
/* filter.h - parses search filters ("metrics.acc > 0.9 AND (params.opt = 'adam' OR ...)") and
 * order_by entries ("metrics.`val loss` DESC") into an AST, checked against a grammar
 * descriptor the caller passes in (which entity kinds and attributes a search target has).
 * No SQL here: store/search_sql.c compiles the AST for runs, experiments, registered models
 * and model versions. The grammar is docs/search.md. */
#ifndef CN_FILTER_H
#define CN_FILTER_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "cairn/cairn.h"
#include "base/arena.h"

/* Limits; exceeding one fails with CAIRN_ELIMIT. */
#define CN_FILTER_MAX_LEN (1u << 20) /* bytes of filter text */
#define CN_FILTER_MAX_DEPTH 100      /* nested parentheses */
#define CN_FILTER_MAX_CLAUSES 1000   /* comparisons in one filter */
#define CN_FILTER_MAX_IN_ITEMS 10000 /* values in all IN / NOT IN lists of one filter */
#define CN_ORDER_MAX_KEYS 100        /* order_by entries */

/* What an identifier names. Metrics, params and tags take any key after their prefix
 * ("metrics." "metric."; "params." "param." "parameter." "parameters."; "tags." "tag.");
 * attributes are bare names or follow "attributes." "attribute." "attr." "run."; dataset
 * fields follow "dataset." "datasets.". Prefixes are case-insensitive, names and keys not. */
typedef enum cn_filter_kind {
    CN_FILTER_METRIC, /* value: a finite number */
    CN_FILTER_PARAM,  /* value: a string or list */
    CN_FILTER_TAG,    /* value: a string or list */
    CN_FILTER_ATTR,   /* one of the grammar's attrs */
    CN_FILTER_DATASET /* one of the grammar's dataset fields */
} cn_filter_kind;
#define CN_FILTER_BIT(kind) (1u << (kind))

/* The type of an attribute or dataset field: which comparators and values it takes. */
typedef enum cn_filter_type {
    CN_FILTER_STRING,       /* = != LIKE ILIKE IN NOT IN; a quoted string or a list */
    CN_FILTER_MS,           /* = != < <= > >=; a whole number (of milliseconds), stored as int64 */
    CN_FILTER_INT,          /* = != < <= > >=; a plain whole number (a version number), stored
                             * as int64; it may also be quoted ('3'), as MLflow's store takes it */
    CN_FILTER_STRING_SCALAR /* = != LIKE ILIKE; a quoted string, never a list */
} cn_filter_type;

/* One attribute or dataset field. Synonyms ("run_name", "`Run Name`") are rows of their own
 * sharing an id. */
typedef struct cn_filter_field {
    const char *name; /* as users type it */
    cn_filter_type type;
    bool is_filterable; /* false: order_by only */
    int id;             /* the caller's meaning (the store: which column); never read here */
} cn_filter_field;

/* A search target's grammar: what its filters and order_by entries may name, and the "use ..."
 * hints of its error messages. Static data owned by the caller. */
typedef struct cn_filter_grammar {
    const char *target;      /* plural noun for messages: "experiments" */
    unsigned kinds;          /* CN_FILTER_BIT of every kind a filter may name */
    unsigned order_kinds;    /* the kinds an order_by entry may name (a subset of kinds) */
    bool order_names_target; /* say "cannot order <target> by" rather than "cannot order by" */
    const cn_filter_field *attrs;
    size_t n_attrs;
    const cn_filter_field *dataset_fields;
    size_t n_dataset_fields;
    const char *attrs_hint;       /* an unknown attribute in a filter */
    const char *order_attrs_hint; /* an unknown attribute in order_by */
    const char *kinds_hint;       /* an unknown "type." prefix; NULL: reported as unusable */
    const char *unusable_hint;    /* "'metrics.x' cannot be used for <target> (use ...)" */
    const char *dataset_hint;     /* an unknown dataset field */
    const char *order_hint;       /* a kind order_by cannot name */
    /* What tag values take: CN_FILTER_STRING (the default, 0) or CN_FILTER_STRING_SCALAR. */
    cn_filter_type tag_type;
    /* Examples in "expected an identifier such as ..."; NULL: "metrics.acc or status". */
    const char *ident_example;
} cn_filter_grammar;

/* ---- the AST; everything lives in the owning cn_filter's or cn_order's arena ---- */

typedef enum cn_filter_op {
    CN_FILTER_EQ,
    CN_FILTER_NE,
    CN_FILTER_LT,
    CN_FILTER_LE,
    CN_FILTER_GT,
    CN_FILTER_GE,
    CN_FILTER_LIKE,
    CN_FILTER_ILIKE,
    CN_FILTER_IN,
    CN_FILTER_NOT_IN
} cn_filter_op;

typedef struct cn_filter_ident {
    cn_filter_kind kind;
    const char *key; /* metric/param/tag key (NUL-terminated copy) */
    size_t key_len;
    const cn_filter_field *field; /* attributes and dataset fields: a row of the grammar */
    const char *text;             /* as typed, for messages */
    size_t pos;                   /* byte offset of its start */
} cn_filter_ident;

typedef struct cn_filter_item {
    const char *s; /* unescaped, NUL-terminated */
    size_t len;
    struct cn_filter_item *next;
} cn_filter_item;

typedef enum cn_filter_value_kind {
    CN_FILTER_VAL_STRING, /* s, len: unescaped, NUL-terminated */
    CN_FILTER_VAL_REAL,   /* d: metrics */
    CN_FILTER_VAL_INT,    /* i: CN_FILTER_MS and CN_FILTER_INT fields */
    CN_FILTER_VAL_LIST    /* items: IN and NOT IN */
} cn_filter_value_kind;

typedef struct cn_filter_value {
    cn_filter_value_kind kind;
    const char *s;
    size_t len;
    double d;
    int64_t i;
    cn_filter_item *items;
} cn_filter_value;

typedef enum cn_filter_node_kind {
    CN_FILTER_AND,
    CN_FILTER_OR,
    CN_FILTER_CLAUSE
} cn_filter_node_kind;

/* AND and OR have two or more children (first, linked by next); a clause compares id with
 * val by cmp. */
typedef struct cn_filter_node {
    cn_filter_node_kind kind;
    struct cn_filter_node *first, *next;
    cn_filter_ident id;
    cn_filter_op cmp;
    cn_filter_value val;
} cn_filter_node;

typedef struct cn_filter {
    const cn_filter_node *root; /* NULL: an empty or blank filter (matches everything) */
    cn_arena *mem;
} cn_filter;

/* Parses filter text (text, len; need not be NUL-terminated; NULL with len 0 is fine) for the
 * grammar g. On success *out (freed with cn_filter_free) holds the tree. Fails with
 * CAIRN_EINVAL (the message quotes the offending token and its 1-based character position) or
 * CAIRN_ELIMIT, *out NULL. */
cairn_status cn_filter_parse(cairn_ctx *ctx, const cn_filter_grammar *g, const char *text,
                             size_t len, cn_filter **out);
void cn_filter_free(cn_filter *f); /* NULL is a no-op */

/* One order_by entry "<identifier> [ASC|DESC]": never a dataset field or a kind g->order_kinds
 * lacks. */
typedef struct cn_order_key {
    cn_filter_ident id;
    bool is_desc;
} cn_order_key;

typedef struct cn_order {
    cn_order_key *keys; /* keys[0 .. n), in the order given */
    size_t n;
    cn_arena *mem;
} cn_order;

/* Parses order_by entries (NUL-terminated strings; at most CN_ORDER_MAX_KEYS). On success
 * *out (freed with cn_order_free) holds one key per entry. Fails with CAIRN_EINVAL or
 * CAIRN_ELIMIT, *out NULL; the message names the entry ("invalid order_by 'x DOWN' at ..."). */
cairn_status cn_order_parse(cairn_ctx *ctx, const cn_filter_grammar *g, const char *const *order_by,
                            size_t n, cn_order **out);
void cn_order_free(cn_order *o); /* NULL is a no-op */
#endif
