/* SPDX-License-Identifier: MIT */
/* expect.c - data expectations (docs/expectations.md): the expectations.yaml schema over the
 * generic tree (formats/tree.h), the check of a table against it, and the expectations
 * `cairn init` derives from a table. `cairn data validate --expect`, `cairn train` and the
 * pipeline's validate stage call cairn_expect_check; fuzz/fuzz_expect.c fuzzes the reader. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cairn/data.h"
#include "core/core.h"
#include "data/data_internal.h"
#include "formats/tree.h"
#include "base/buf.h"
#include "base/jsonw.h"
#include "base/str.h"
#include "base/xmalloc.h"
#include "base/banned.h"

typedef enum etype { T_ANY = 0, T_NUMERIC, T_INTEGER, T_CATEGORICAL } etype;
static const char *const type_names[] = {"any", "numeric", "integer", "categorical"};

typedef struct ecol {
    char *name;
    uint32_t line;
    etype type;
    uint32_t type_line;
    bool has_min, has_max;
    double min, max;
    uint32_t min_line, max_line;
    char **values; /* allowed categories; NULL: any */
    size_t n_values;
    uint32_t values_line;
    bool has_missing;
    double max_missing;
    uint32_t missing_line;
    bool unique;
    uint32_t unique_line;
} ecol;

typedef struct eslice {
    char *column;
    int64_t min_rows;
    uint32_t line;
} eslice;

struct cairn_expect {
    char *file; /* the file's name, for fixes */
    int64_t min_rows;
    uint32_t min_rows_line;
    char *label;
    uint32_t label_line;
    double min_class_share; /* < 0: no class balance rule */
    uint32_t balance_line;
    ecol *cols;
    size_t n_cols;
    eslice *slices;
    size_t n_slices;
    char *sens_column; /* NULL: no sensitive attribute */
    double sens_min_share;
    char **sens_groups;
    size_t n_sens_groups;
    uint32_t sens_line;
    const char **categorical; /* names of the columns expected categorical (borrowed from cols) */
    size_t n_categorical;
};

typedef struct wstate {
    cairn_expect *e;
    ecol *col;         /* the column being read */
    eslice *slice;     /* the slice being read */
    bool has_min_rows; /* slice: min_rows was given */
} wstate;

#define ST(w) ((wstate *)(w)->user)

/* ---- reading ---- */

static cairn_status read_number(const cn_tree_walk *w, const char *what, const cn_node *v,
                                double *out)
{
    if (v->kind != CN_NODE_SCALAR)
        return cn_tree_fail(w->ctx, w->tree, v, "'%s' must be a number, got %s", what,
                            cn_node_kind_name(v));
    if (!cn_parse_double(v->text, out) || !isfinite(*out))
        return cn_tree_fail(w->ctx, w->tree, v, "'%s' must be a finite number, got '%s'", what,
                            v->text);
    return CAIRN_OK;
}

static cairn_status read_share(const cn_tree_walk *w, const char *what, const cn_node *v,
                               double *out)
{
    cairn_status rc = read_number(w, what, v, out);
    if (rc == CAIRN_OK && (*out < 0 || *out > 1))
        rc = cn_tree_fail(w->ctx, w->tree, v, "'%s' must be a share in [0, 1], got '%s'", what,
                          v->text);
    return rc;
}

/* what: "columns.<name>.<key>", freed by the caller. */
static char *col_what(const cn_tree_walk *w, const cn_node *k)
{
    return cn_asprintf("columns.%s.%s", ST(w)->col->name, k->text);
}

static cairn_status col_type(const cn_tree_walk *w, const cn_node *k, const cn_node *v)
{
    char *what = col_what(w, k), *s = NULL;
    cairn_status rc = cn_tree_string(w, what, v, &s);
    if (rc == CAIRN_OK) {
        ecol *c = ST(w)->col;
        c->type = T_ANY;
        for (int i = 1; i < 4; i++)
            if (strcmp(s, type_names[i]) == 0)
                c->type = (etype)i;
        c->type_line = v->line;
        if (c->type == T_ANY)
            rc = cn_tree_fail(w->ctx, w->tree, v,
                              "'%s' must be numeric, integer or categorical, got '%s'", what, s);
    }
    free(s);
    free(what);
    return rc;
}

static cairn_status col_min(const cn_tree_walk *w, const cn_node *k, const cn_node *v)
{
    char *what = col_what(w, k);
    ecol *c = ST(w)->col;
    cairn_status rc = read_number(w, what, v, &c->min);
    c->has_min = rc == CAIRN_OK;
    c->min_line = v->line;
    free(what);
    return rc;
}

static cairn_status col_max(const cn_tree_walk *w, const cn_node *k, const cn_node *v)
{
    char *what = col_what(w, k);
    ecol *c = ST(w)->col;
    cairn_status rc = read_number(w, what, v, &c->max);
    c->has_max = rc == CAIRN_OK;
    c->max_line = v->line;
    if (rc == CAIRN_OK && c->has_min && c->min > c->max)
        rc = cn_tree_fail(w->ctx, w->tree, v, "'%s' (%g) is below 'columns.%s.min' (%g)", what,
                          c->max, c->name, c->min);
    free(what);
    return rc;
}

static cairn_status col_values(const cn_tree_walk *w, const cn_node *k, const cn_node *v)
{
    char *what = col_what(w, k);
    ecol *c = ST(w)->col;
    cairn_status rc = CAIRN_OK;
    if (v->kind != CN_NODE_LIST)
        rc = cn_tree_fail(w->ctx, w->tree, v, "'%s' must be a list of categories, got %s", what,
                          cn_node_kind_name(v));
    else
        rc = cn_tree_string_list(w, what, v, &c->values, &c->n_values);
    c->values_line = v->line;
    free(what);
    return rc;
}

static cairn_status col_missing(const cn_tree_walk *w, const cn_node *k, const cn_node *v)
{
    char *what = col_what(w, k);
    ecol *c = ST(w)->col;
    cairn_status rc = read_share(w, what, v, &c->max_missing);
    c->has_missing = rc == CAIRN_OK;
    c->missing_line = v->line;
    free(what);
    return rc;
}

static cairn_status col_unique(const cn_tree_walk *w, const cn_node *k, const cn_node *v)
{
    char *what = col_what(w, k);
    ecol *c = ST(w)->col;
    cairn_status rc = cn_tree_bool(w, what, v, &c->unique);
    c->unique_line = v->line;
    free(what);
    return rc;
}

static const cn_tree_field col_fields[] = {
    {"type", col_type},           {"min", col_min},       {"max", col_max}, {"values", col_values},
    {"max_missing", col_missing}, {"unique", col_unique},
};

static cairn_status top_columns(const cn_tree_walk *w, const cn_node *k, const cn_node *v)
{
    (void)k;
    cairn_expect *e = ST(w)->e;
    if (v->kind != CN_NODE_MAP)
        return cn_tree_fail(w->ctx, w->tree, v,
                            "'columns' must be a mapping of column names to rules, got %s",
                            cn_node_kind_name(v));
    for (size_t i = 0; i < v->n; i++) {
        const cn_node *name = v->pairs[i].key, *rules = v->pairs[i].value;
        if (name->kind != CN_NODE_SCALAR || name->len != strlen(name->text) || name->len == 0)
            return cn_tree_fail(w->ctx, w->tree, name,
                                "'columns' keys must be column names, got %s",
                                name->kind == CN_NODE_SCALAR ? "an empty or NUL-holding name"
                                                             : cn_node_kind_name(name));
        if (v->pairs[i].is_dup)
            return cn_tree_fail(w->ctx, w->tree, name, "'columns.%s' appears twice", name->text);
        e->cols = cn_tree_grow(e->cols, e->n_cols, sizeof *e->cols);
        ecol *c = &e->cols[e->n_cols++];
        memset(c, 0, sizeof *c);
        c->name = cn_xstrdup(name->text);
        c->line = name->line;
        if (cn_node_is_null(rules))
            continue;
        char *section = cn_asprintf("columns.%s", c->name);
        ST(w)->col = c;
        cairn_status rc = cn_tree_walk_map(w, rules, section, col_fields, CN_ARRAY_LEN(col_fields));
        free(section);
        if (rc != CAIRN_OK)
            return rc;
        if (c->values && (c->type == T_NUMERIC || c->type == T_INTEGER))
            return cn_tree_fail(w->ctx, w->tree, rules,
                                "'columns.%s': 'values' lists categories, but the type is '%s'; "
                                "use min and max for numbers",
                                c->name, type_names[c->type]);
        if ((c->has_min || c->has_max) && c->type == T_CATEGORICAL)
            return cn_tree_fail(w->ctx, w->tree, rules,
                                "'columns.%s': min and max need a numeric or integer type, got "
                                "'categorical'",
                                c->name);
    }
    return CAIRN_OK;
}

static cairn_status top_min_rows(const cn_tree_walk *w, const cn_node *k, const cn_node *v)
{
    (void)k;
    ST(w)->e->min_rows_line = v->line;
    return cn_tree_int(w, "min_rows", v, 0, INT64_MAX, &ST(w)->e->min_rows);
}

static cairn_status top_label(const cn_tree_walk *w, const cn_node *k, const cn_node *v)
{
    (void)k;
    ST(w)->e->label_line = v->line;
    return cn_tree_string(w, "label", v, &ST(w)->e->label);
}

static cairn_status balance_min_share(const cn_tree_walk *w, const cn_node *k, const cn_node *v)
{
    (void)k;
    ST(w)->e->balance_line = v->line;
    return read_share(w, "class_balance.min_share", v, &ST(w)->e->min_class_share);
}

static const cn_tree_field balance_fields[] = {{"min_share", balance_min_share}};

static cairn_status top_class_balance(const cn_tree_walk *w, const cn_node *k, const cn_node *v)
{
    (void)k;
    return cn_tree_walk_map(w, v, "class_balance", balance_fields, 1);
}

static cairn_status slice_column(const cn_tree_walk *w, const cn_node *k, const cn_node *v)
{
    (void)k;
    return cn_tree_string(w, "slices.column", v, &ST(w)->slice->column);
}

static cairn_status slice_min_rows(const cn_tree_walk *w, const cn_node *k, const cn_node *v)
{
    (void)k;
    ST(w)->has_min_rows = true;
    return cn_tree_int(w, "slices.min_rows", v, 1, INT64_MAX, &ST(w)->slice->min_rows);
}

static const cn_tree_field slice_fields[] = {{"column", slice_column},
                                             {"min_rows", slice_min_rows}};

static cairn_status top_slices(const cn_tree_walk *w, const cn_node *k, const cn_node *v)
{
    (void)k;
    cairn_expect *e = ST(w)->e;
    if (v->kind != CN_NODE_LIST)
        return cn_tree_fail(w->ctx, w->tree, v,
                            "'slices' must be a list of {column, min_rows}, got %s",
                            cn_node_kind_name(v));
    for (size_t i = 0; i < v->n; i++) {
        e->slices = cn_tree_grow(e->slices, e->n_slices, sizeof *e->slices);
        eslice *s = &e->slices[e->n_slices++];
        memset(s, 0, sizeof *s);
        s->line = v->items[i]->line;
        ST(w)->slice = s;
        ST(w)->has_min_rows = false;
        cairn_status rc = cn_tree_walk_map(w, v->items[i], "slices", slice_fields, 2);
        if (rc != CAIRN_OK)
            return rc;
        if (!s->column || !ST(w)->has_min_rows)
            return cn_tree_fail(w->ctx, w->tree, v->items[i],
                                "'slices' item %zu needs both 'column' and 'min_rows'", i + 1);
    }
    return CAIRN_OK;
}

static cairn_status sens_column(const cn_tree_walk *w, const cn_node *k, const cn_node *v)
{
    (void)k;
    return cn_tree_string(w, "sensitive.column", v, &ST(w)->e->sens_column);
}

static cairn_status sens_share(const cn_tree_walk *w, const cn_node *k, const cn_node *v)
{
    (void)k;
    return read_share(w, "sensitive.min_share_per_group", v, &ST(w)->e->sens_min_share);
}

static cairn_status sens_groups(const cn_tree_walk *w, const cn_node *k, const cn_node *v)
{
    (void)k;
    cairn_expect *e = ST(w)->e;
    if (v->kind != CN_NODE_LIST)
        return cn_tree_fail(w->ctx, w->tree, v, "'sensitive.groups' must be a list, got %s",
                            cn_node_kind_name(v));
    return cn_tree_string_list(w, "sensitive.groups", v, &e->sens_groups, &e->n_sens_groups);
}

static const cn_tree_field sens_fields[] = {
    {"column", sens_column}, {"min_share_per_group", sens_share}, {"groups", sens_groups}};

static cairn_status top_sensitive(const cn_tree_walk *w, const cn_node *k, const cn_node *v)
{
    (void)k;
    cairn_expect *e = ST(w)->e;
    e->sens_line = v->line;
    e->sens_min_share = -1;
    cairn_status rc = cn_tree_walk_map(w, v, "sensitive", sens_fields, 3);
    if (rc == CAIRN_OK && (!e->sens_column || e->sens_min_share < 0))
        rc = cn_tree_fail(w->ctx, w->tree, v,
                          "'sensitive' needs 'column' and 'min_share_per_group'");
    return rc;
}

static const cn_tree_field top_fields[] = {
    {"min_rows", top_min_rows}, {"label", top_label},   {"class_balance", top_class_balance},
    {"columns", top_columns},   {"slices", top_slices}, {"sensitive", top_sensitive},
};

void cairn_expect_free(cairn_expect *e)
{
    if (!e)
        return;
    for (size_t i = 0; i < e->n_cols; i++) {
        free(e->cols[i].name);
        cn_tree_strv_free(e->cols[i].values, e->cols[i].n_values);
    }
    free(e->cols);
    for (size_t i = 0; i < e->n_slices; i++)
        free(e->slices[i].column);
    free(e->slices);
    free(e->sens_column);
    cn_tree_strv_free(e->sens_groups, e->n_sens_groups);
    free(e->categorical);
    free(e->label);
    free(e->file);
    free(e);
}

static cairn_status from_tree(cairn_ctx *ctx, const cn_tree *tree, const char *label,
                              cairn_expect **out)
{
    cairn_expect *e = cn_xcalloc(1, sizeof *e);
    e->file = cn_xstrdup(label);
    e->min_rows = -1;
    e->min_class_share = -1;
    wstate st = {e, NULL, NULL, false};
    cn_tree_walk w = {ctx, tree, &st};
    const cn_node *root = cn_tree_root(tree);
    cairn_status rc = CAIRN_OK;
    if (root)
        rc = cn_tree_walk_map(&w, root, NULL, top_fields, CN_ARRAY_LEN(top_fields));
    if (rc == CAIRN_OK && e->min_class_share >= 0 && !e->label)
        rc = cn_tree_fail(ctx, tree, cn_node_get(root, "class_balance"),
                          "'class_balance' needs 'label: COLUMN' at the top level");
    if (rc != CAIRN_OK) {
        cairn_expect_free(e);
        return rc;
    }
    e->categorical = cn_xcalloc(e->n_cols + 1, sizeof *e->categorical);
    for (size_t i = 0; i < e->n_cols; i++)
        if (e->cols[i].type == T_CATEGORICAL)
            e->categorical[e->n_categorical++] = e->cols[i].name;
    *out = e;
    return CAIRN_OK;
}

cairn_status cairn_expect_parse(cairn_ctx *ctx, const char *label, const char *text, size_t len,
                                cairn_expect **out)
{
    if (!out)
        return cn_fail(ctx, CAIRN_EINVAL, "cairn_expect_parse: out is required");
    *out = NULL;
    if (!text && len)
        return cn_fail(ctx, CAIRN_EINVAL, "cairn_expect_parse: text is NULL");
    if (!label)
        label = "input";
    cn_tree *tree = NULL;
    cairn_status rc =
        cn_tree_parse(ctx, "expectations", label, CN_TREE_YAML, text ? text : "", len, &tree);
    if (rc == CAIRN_OK)
        rc = from_tree(ctx, tree, label, out);
    cn_tree_free(tree);
    return rc;
}

cairn_status cairn_expect_load(cairn_ctx *ctx, const char *path, cairn_expect **out)
{
    if (!out || !path)
        return cn_fail(ctx, CAIRN_EINVAL, "cairn_expect_load: path and out are required");
    *out = NULL;
    cn_tree *tree = NULL;
    cairn_status rc = cn_tree_load(ctx, "expectations", path, &tree);
    if (rc == CAIRN_OK)
        rc = from_tree(ctx, tree, path, out);
    cn_tree_free(tree);
    return rc;
}

const char *const *cairn_expect_categorical(const cairn_expect *e, size_t *n_out)
{
    if (n_out)
        *n_out = e ? e->n_categorical : 0;
    return e ? e->categorical : NULL;
}

/* ---- checking ---- */

typedef struct cstate {
    const cairn_expect *e;
    const cairn_table *t;
    cairn_expect_result *r;
    size_t cap;
} cstate;

static cairn_expect_finding *finding(cstate *s, const char *rule, const char *column, uint32_t line)
{
    if (s->r->n_failed == s->cap) {
        s->cap = s->cap ? 2 * s->cap : 8;
        s->r->findings = cn_xrealloc(s->r->findings, s->cap * sizeof *s->r->findings);
    }
    cairn_expect_finding *f = &s->r->findings[s->r->n_failed++];
    memset(f, 0, sizeof *f);
    f->rule = rule;
    f->column = column ? cn_xstrdup(column) : NULL;
    f->line = line;
    return f;
}

static void add_row(cairn_expect_finding *f, size_t row)
{
    if (f->n_rows_listed < CAIRN_EXPECT_MAX_ROWS)
        f->rows[f->n_rows_listed++] = row;
    f->n_rows++;
}

/* The cell's text: a level, or a number in its shortest form; NULL when missing. */
static const char *cell_text(const cairn_column *c, size_t row, char *buf, size_t size)
{
    if (c->type == CAIRN_COL_CATEGORICAL)
        return c->cat[row] < 0 ? NULL : c->levels[c->cat[row]];
    if (isnan(c->num[row]))
        return NULL;
    cn_format_double_short(c->num[row], buf, size);
    return buf;
}

static bool is_missing(const cairn_column *c, size_t row)
{
    return c->type == CAIRN_COL_CATEGORICAL ? c->cat[row] < 0 : isnan(c->num[row]);
}

/* The distinct values of a column: names (as text), counts, and each row's group (-1: missing). */
typedef struct groups {
    size_t n;
    char **names;
    size_t *counts;
    int64_t *of_row;
} groups;

typedef struct vrow {
    double v;
    size_t row;
} vrow;

static int by_value(const void *a, const void *b)
{
    const vrow *x = a, *y = b;
    if (x->v != y->v)
        return x->v < y->v ? -1 : 1;
    return x->row < y->row ? -1 : 1;
}

static void groups_make(const cairn_column *c, size_t n_rows, groups *g)
{
    memset(g, 0, sizeof *g);
    g->of_row = cn_xcalloc(n_rows ? n_rows : 1, sizeof *g->of_row);
    if (c->type == CAIRN_COL_CATEGORICAL) {
        g->n = c->n_levels;
        g->names = cn_xcalloc(g->n + 1, sizeof *g->names);
        g->counts = cn_xcalloc(g->n + 1, sizeof *g->counts);
        for (size_t i = 0; i < g->n; i++)
            g->names[i] = cn_xstrdup(c->levels[i]);
        for (size_t r = 0; r < n_rows; r++) {
            g->of_row[r] = c->cat[r];
            if (c->cat[r] >= 0)
                g->counts[c->cat[r]]++;
        }
        return;
    }
    vrow *idx = cn_xcalloc(n_rows ? n_rows : 1, sizeof *idx);
    size_t m = 0;
    for (size_t r = 0; r < n_rows; r++) {
        g->of_row[r] = -1;
        if (!isnan(c->num[r]))
            idx[m++] = (vrow){c->num[r], r};
    }
    qsort(idx, m, sizeof *idx, by_value);
    g->names = cn_xcalloc(m + 1, sizeof *g->names);
    g->counts = cn_xcalloc(m + 1, sizeof *g->counts);
    for (size_t i = 0; i < m; i++) {
        if (i == 0 || idx[i].v != idx[i - 1].v) {
            char buf[32];
            cn_format_double_short(idx[i].v, buf, sizeof buf);
            g->names[g->n++] = cn_xstrdup(buf);
        }
        g->counts[g->n - 1]++;
        g->of_row[idx[i].row] = (int64_t)(g->n - 1);
    }
    free(idx);
}

static void groups_release(groups *g)
{
    for (size_t i = 0; i < g->n; i++)
        free(g->names[i]);
    free(g->names);
    free(g->counts);
    free(g->of_row);
}

static const cairn_column *need_column(cstate *s, const char *name, uint32_t line, const char *what)
{
    int i = cairn_table_find(s->t, name);
    if (i >= 0)
        return &s->t->cols[i];
    const char **names = cn_xcalloc(s->t->n_cols + 1, sizeof *names);
    for (size_t c = 0; c < s->t->n_cols; c++)
        names[c] = s->t->cols[c].name;
    const char *near = cn_str_nearest(name, names, s->t->n_cols);
    cairn_expect_finding *f = finding(s, "column-missing", name, line);
    f->message = cn_asprintf("%s column '%s' is not in the data%s%s%s", what, name,
                             near ? " (did you mean '" : "", near ? near : "", near ? "'?)" : "");
    f->fix = cn_asprintf("add the column to the data, or rename or remove it in '%s'", s->e->file);
    free(names);
    return NULL;
}

static void check_type(cstate *s, const ecol *ec, const cairn_column *c)
{
    size_t n = s->t->n_rows;
    cairn_expect_finding *f = NULL;
    char example[64] = "";
    if (ec->type == T_NUMERIC || ec->type == T_INTEGER) {
        for (size_t r = 0; r < n; r++) {
            bool bad;
            double v;
            if (c->type == CAIRN_COL_CATEGORICAL)
                bad = c->cat[r] >= 0 && !cn_parse_double(c->levels[c->cat[r]], &v);
            else
                bad = ec->type == T_INTEGER && isfinite(c->num[r]) && c->num[r] != floor(c->num[r]);
            if (!bad)
                continue;
            if (!f) {
                f = finding(s, "type", c->name, ec->type_line);
                char buf[32];
                snprintf(example, sizeof example, "%s", cell_text(c, r, buf, sizeof buf));
            }
            add_row(f, r);
        }
    }
    if (!f)
        return;
    f->message = cn_asprintf(
        "column '%s' should be %s, but %zu row%s hold%s %s such as '%s'", c->name,
        type_names[ec->type], f->n_rows, f->n_rows == 1 ? "" : "s", f->n_rows == 1 ? "s" : "",
        ec->type == T_INTEGER && c->type == CAIRN_COL_NUMERIC ? "fractions" : "text", example);
    f->fix = cn_asprintf("correct those rows, or change 'columns.%s.type' in '%s' if the column "
                         "really holds %s",
                         c->name, s->e->file,
                         c->type == CAIRN_COL_CATEGORICAL ? "categories" : "fractions");
}

static void check_range(cstate *s, const ecol *ec, const cairn_column *c, bool is_max)
{
    if (c->type != CAIRN_COL_NUMERIC || (is_max ? !ec->has_max : !ec->has_min))
        return;
    double bound = is_max ? ec->max : ec->min;
    cairn_expect_finding *f = NULL;
    double worst = bound;
    for (size_t r = 0; r < s->t->n_rows; r++) {
        double v = c->num[r];
        if (isnan(v) || (is_max ? !(v > bound) : !(v < bound)))
            continue;
        if (!f)
            f = finding(s, is_max ? "max" : "min", c->name, is_max ? ec->max_line : ec->min_line);
        if (is_max ? v > worst : v < worst)
            worst = v;
        add_row(f, r);
    }
    if (!f)
        return;
    f->message =
        cn_asprintf("column '%s': %zu row%s %s the %s %g (the %s is %g)", c->name, f->n_rows,
                    f->n_rows == 1 ? "" : "s", is_max ? "above" : "below",
                    is_max ? "maximum" : "minimum", bound, is_max ? "largest" : "smallest", worst);
    f->fix = cn_asprintf("correct or drop those rows, or widen 'columns.%s.%s' in '%s' if such "
                         "values are valid",
                         c->name, is_max ? "max" : "min", s->e->file);
}

static bool value_allowed(const ecol *ec, const cairn_column *c, size_t r)
{
    if (c->type == CAIRN_COL_CATEGORICAL) {
        const char *v = c->levels[c->cat[r]];
        for (size_t i = 0; i < ec->n_values; i++)
            if (strcmp(ec->values[i], v) == 0)
                return true;
        return false;
    }
    for (size_t i = 0; i < ec->n_values; i++) {
        double x;
        if (cn_parse_double(ec->values[i], &x) && x == c->num[r])
            return true;
    }
    return false;
}

static void check_values(cstate *s, const ecol *ec, const cairn_column *c)
{
    if (!ec->values)
        return;
    cairn_expect_finding *f = NULL;
    cn_buf seen = CN_BUF_INIT;
    size_t n_seen = 0;
    for (size_t r = 0; r < s->t->n_rows; r++) {
        if (is_missing(c, r) || value_allowed(ec, c, r))
            continue;
        if (!f)
            f = finding(s, "values", c->name, ec->values_line);
        add_row(f, r);
        char buf[32];
        const char *v = cell_text(c, r, buf, sizeof buf);
        if (n_seen < 3) {
            cn_buf_printf(&seen, "%s'%s'", n_seen ? ", " : "", v);
            n_seen++;
        }
    }
    if (f) {
        f->message = cn_asprintf("column '%s': %zu row%s hold%s values not in the allowed list "
                                 "(%s)",
                                 c->name, f->n_rows, f->n_rows == 1 ? "" : "s",
                                 f->n_rows == 1 ? "s" : "", cn_buf_str(&seen));
        f->fix = cn_asprintf("correct those rows, or add the values to 'columns.%s.values' in "
                             "'%s' if they are valid categories",
                             c->name, s->e->file);
    }
    cn_buf_release(&seen);
}

static void check_missing(cstate *s, const ecol *ec, const cairn_column *c)
{
    if (!ec->has_missing || s->t->n_rows == 0)
        return;
    size_t n_missing = 0;
    for (size_t r = 0; r < s->t->n_rows; r++)
        n_missing += is_missing(c, r);
    double share = (double)n_missing / (double)s->t->n_rows;
    if (share <= ec->max_missing)
        return;
    cairn_expect_finding *f = finding(s, "missing", c->name, ec->missing_line);
    for (size_t r = 0; r < s->t->n_rows; r++)
        if (is_missing(c, r))
            add_row(f, r);
    f->message = cn_asprintf("column '%s': %.1f%% of the rows are missing (%zu of %zu), above "
                             "the %.1f%% allowed",
                             c->name, 100 * share, n_missing, s->t->n_rows, 100 * ec->max_missing);
    f->fix = cn_asprintf("fill in or drop the missing values, or raise 'columns.%s.max_missing' "
                         "in '%s'",
                         c->name, s->e->file);
}

static void check_unique(cstate *s, const ecol *ec, const cairn_column *c)
{
    if (!ec->unique)
        return;
    groups g;
    groups_make(c, s->t->n_rows, &g);
    bool *first_seen = cn_xcalloc(g.n + 1, sizeof *first_seen);
    cairn_expect_finding *f = NULL;
    for (size_t r = 0; r < s->t->n_rows; r++) {
        int64_t k = g.of_row[r];
        if (k < 0)
            continue;
        if (!first_seen[k]) {
            first_seen[k] = true;
            continue;
        }
        if (!f)
            f = finding(s, "unique", c->name, ec->unique_line);
        add_row(f, r);
    }
    if (f) {
        f->message =
            cn_asprintf("column '%s' should be unique, but %zu row%s repeat%s an "
                        "earlier row's value",
                        c->name, f->n_rows, f->n_rows == 1 ? "" : "s", f->n_rows == 1 ? "s" : "");
        f->fix = cn_asprintf("remove the duplicate rows, or drop 'columns.%s.unique' in '%s'",
                             c->name, s->e->file);
    }
    free(first_seen);
    groups_release(&g);
}

static const ecol *find_ecol(const cairn_expect *e, const char *name)
{
    for (size_t i = 0; i < e->n_cols; i++)
        if (strcmp(e->cols[i].name, name) == 0)
            return &e->cols[i];
    return NULL;
}

/* Groups (by value) below a share or a count; declared[] (may be NULL) must all be present. */
static void check_groups(cstate *s, const cairn_column *c, const char *rule, uint32_t line,
                         double min_share, int64_t min_rows, char *const *declared,
                         size_t n_declared, bool also_present, const char *setting)
{
    size_t n = s->t->n_rows;
    groups g;
    groups_make(c, n, &g);
    cn_buf bad = CN_BUF_INIT;
    size_t n_bad = 0;
    bool *is_bad = cn_xcalloc(g.n + 1, sizeof *is_bad);
    bool *matched = cn_xcalloc(g.n + 1, sizeof *matched);
    if (!n_declared)
        also_present = true;
    /* the declared groups, then (also_present) the groups present that none of them names */
    for (size_t i = 0; i < n_declared + (also_present ? g.n : 0); i++) {
        size_t count = 0;
        if (i >= n_declared && matched[i - n_declared])
            continue;
        const char *name = i < n_declared ? declared[i] : g.names[i - n_declared];
        for (size_t k = 0; k < g.n; k++) {
            double x, y;
            bool same = strcmp(g.names[k], name) == 0 ||
                        (c->type == CAIRN_COL_NUMERIC && cn_parse_double(name, &x) &&
                         cn_parse_double(g.names[k], &y) && x == y);
            if (same) {
                matched[k] = true;
                count = g.counts[k];
                is_bad[k] = min_rows > 0 ? (int64_t)count < min_rows
                                         : (double)count < min_share * (double)n;
            }
        }
        bool below =
            min_rows > 0 ? (int64_t)count < min_rows : (double)count < min_share * (double)n;
        if (!below)
            continue;
        if (n_bad < 8)
            cn_buf_printf(&bad, "%s'%s' %zu row%s (%.1f%%)", n_bad ? ", " : "", name, count,
                          count == 1 ? "" : "s", n ? 100.0 * (double)count / (double)n : 0.0);
        n_bad++;
    }
    if (n_bad) {
        cairn_expect_finding *f = finding(s, rule, c->name, line);
        for (size_t r = 0; r < n; r++)
            if (g.of_row[r] >= 0 && is_bad[g.of_row[r]])
                add_row(f, r);
        if (strcmp(rule, "slice-rows") == 0) {
            f->message =
                cn_asprintf("slices of column '%s' with fewer than %lld rows: %s%s", c->name,
                            (long long)min_rows, cn_buf_str(&bad), n_bad > 8 ? ", ..." : "");
            f->fix = cn_asprintf("collect more rows of those slices (metrics on so few rows are "
                                 "noise), or lower %s in '%s'",
                                 setting, s->e->file);
        } else if (strcmp(rule, "class-balance") == 0) {
            f->message =
                cn_asprintf("label '%s': classes below the floor of %.1f%% of the rows: "
                            "%s%s",
                            c->name, 100 * min_share, cn_buf_str(&bad), n_bad > 8 ? ", ..." : "");
            f->fix = cn_asprintf("collect more rows of those classes (or use learner.class_weight: "
                                 "balanced in the config for a real imbalance), or lower %s in "
                                 "'%s'",
                                 setting, s->e->file);
        } else {
            f->message =
                cn_asprintf("sensitive attribute '%s': groups under %.1f%% of the rows: "
                            "%s%s",
                            c->name, 100 * min_share, cn_buf_str(&bad), n_bad > 8 ? ", ..." : "");
            f->fix = cn_asprintf("the data under-represents those groups: collect more of their "
                                 "rows before training, or change %s in '%s' with a reason",
                                 setting, s->e->file);
        }
    }
    free(is_bad);
    free(matched);
    cn_buf_release(&bad);
    groups_release(&g);
}

cairn_status cairn_expect_check(cairn_ctx *ctx, const cairn_expect *e, const cairn_table *t,
                                cairn_expect_result **out)
{
    if (!e || !t || !out)
        return cn_fail(ctx, CAIRN_EINVAL,
                       "cairn_expect_check: expectations, table and out are "
                       "required");
    cairn_expect_result *r = cn_xcalloc(1, sizeof *r);
    cstate s = {e, t, r, 0};
    if (e->min_rows >= 0) {
        r->n_rules++;
        if ((int64_t)t->n_rows < e->min_rows) {
            cairn_expect_finding *f = finding(&s, "min-rows", NULL, e->min_rows_line);
            f->message = cn_asprintf("the data has %zu rows, fewer than min_rows %lld", t->n_rows,
                                     (long long)e->min_rows);
            f->fix =
                cn_asprintf("check that the file is complete, or lower min_rows in '%s'", e->file);
        }
    }
    for (size_t i = 0; i < e->n_cols; i++) {
        const ecol *ec = &e->cols[i];
        r->n_rules += 1 + (ec->type != T_ANY) + ec->has_min + ec->has_max + (ec->values != NULL) +
                      ec->has_missing + ec->unique;
        const cairn_column *c = need_column(&s, ec->name, ec->line, "expected");
        if (!c)
            continue;
        check_type(&s, ec, c);
        check_range(&s, ec, c, false); /* numeric columns only: text has no range */
        check_range(&s, ec, c, true);
        check_values(&s, ec, c);
        check_missing(&s, ec, c);
        check_unique(&s, ec, c);
    }
    if (e->label && e->min_class_share >= 0) {
        r->n_rules++;
        const cairn_column *c = need_column(&s, e->label, e->label_line, "label");
        const ecol *ec = find_ecol(e, e->label);
        if (c)
            check_groups(&s, c, "class-balance", e->balance_line, e->min_class_share, 0,
                         ec ? ec->values : NULL, ec ? ec->n_values : 0, true,
                         "'class_balance.min_share'");
    }
    for (size_t i = 0; i < e->n_slices; i++) {
        r->n_rules++;
        const cairn_column *c = need_column(&s, e->slices[i].column, e->slices[i].line, "slice");
        if (c)
            check_groups(&s, c, "slice-rows", e->slices[i].line, 0, e->slices[i].min_rows, NULL, 0,
                         true, "the slice's 'min_rows'");
    }
    if (e->sens_column) {
        r->n_rules++;
        const cairn_column *c = need_column(&s, e->sens_column, e->sens_line, "sensitive");
        if (c)
            check_groups(&s, c, "sensitive-coverage", e->sens_line, e->sens_min_share, 0,
                         e->sens_groups, e->n_sens_groups, false,
                         "'sensitive.min_share_per_group'");
    }
    *out = r;
    return CAIRN_OK;
}

void cairn_expect_result_free(cairn_expect_result *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->n_failed; i++) {
        free((char *)r->findings[i].column);
        free((char *)r->findings[i].message);
        free((char *)r->findings[i].fix);
    }
    free(r->findings);
    free(r);
}

static void rows_text(cn_buf *b, const cairn_expect_finding *f)
{
    if (!f->n_rows)
        return;
    cn_buf_printf(b, "; row%s ", f->n_rows == 1 ? "" : "s");
    for (size_t i = 0; i < f->n_rows_listed; i++)
        cn_buf_printf(b, "%s%zu", i ? ", " : "", f->rows[i]);
    if (f->n_rows > f->n_rows_listed)
        cn_buf_printf(b, " and %zu more", f->n_rows - f->n_rows_listed);
}

char *cairn_expect_result_text(const cairn_expect_result *r)
{
    cn_buf b = CN_BUF_INIT;
    for (size_t i = 0; r && i < r->n_failed; i++) {
        const cairn_expect_finding *f = &r->findings[i];
        cn_buf_printf(&b, "rule '%s' (line %u): %s", f->rule, (unsigned)f->line, f->message);
        rows_text(&b, f);
        cn_buf_printf(&b, "\n  fix: %s\n", f->fix);
    }
    return cn_buf_detach(&b);
}

cairn_status cairn_expect_result_json(cairn_ctx *ctx, const cairn_expect_result *r, char **out)
{
    if (!r || !out)
        return cn_fail(ctx, CAIRN_EINVAL, "cairn_expect_result_json: result and out are required");
    cn_jsonw w;
    cn_jsonw_init(&w, NULL, 2);
    cn_jsonw_object_begin(&w);
    cn_jsonw_kbool(&w, "ok", r->n_failed == 0);
    cn_jsonw_kint(&w, "rules", (int64_t)r->n_rules);
    cn_jsonw_kint(&w, "failed", (int64_t)r->n_failed);
    cn_jsonw_key(&w, "findings");
    cn_jsonw_array_begin(&w);
    for (size_t i = 0; i < r->n_failed; i++) {
        const cairn_expect_finding *f = &r->findings[i];
        cn_jsonw_object_begin(&w);
        cn_jsonw_kstring(&w, "rule", f->rule);
        cn_jsonw_kstring(&w, "column", f->column);
        cn_jsonw_kint(&w, "line", f->line);
        cn_jsonw_kstring(&w, "message", f->message);
        cn_jsonw_kstring(&w, "fix", f->fix);
        cn_jsonw_kint(&w, "n_rows", (int64_t)f->n_rows);
        cn_jsonw_key(&w, "rows");
        cn_jsonw_flat(&w);
        cn_jsonw_array_begin(&w);
        for (size_t k = 0; k < f->n_rows_listed; k++)
            cn_jsonw_int(&w, (int64_t)f->rows[k]);
        cn_jsonw_array_end(&w);
        cn_jsonw_object_end(&w);
    }
    cn_jsonw_array_end(&w);
    cn_jsonw_object_end(&w);
    cn_jsonw_finish(&w);
    *out = cn_buf_detach(&w.buf);
    cn_jsonw_release(&w);
    return CAIRN_OK;
}

/* ---- deriving ---- */

static void put_quoted(cn_buf *b, const char *s)
{
    cn_json_quote(b, s, strlen(s)); /* a JSON string is a YAML double-quoted scalar */
}

/* v rounded outward (down for a low bound) to two significant digits of pad, written short;
 * the written number still lies outside the range when read back. */
static void put_bound(cn_buf *b, double v, double pad, bool is_low)
{
    char buf[64];
    double back, step = pad > 0 ? pow(10, floor(log10(pad)) - 1) : 0;
    double r = step > 0 && isfinite(step) ? (is_low ? floor(v / step) : ceil(v / step)) * step : v;
    snprintf(buf, sizeof buf, "%.12g", r);
    if (!cn_parse_double(buf, &back) || (is_low ? back > v : back < v))
        cn_format_double(v, buf, sizeof buf);
    cn_buf_puts(b, buf);
}

cairn_status cairn_expect_derive(cairn_ctx *ctx, const cairn_table *t,
                                 const cairn_expect_derive_opts *opts, char **out)
{
    cairn_expect_derive_opts o = CAIRN_EXPECT_DERIVE_OPTS_INIT;
    if (opts)
        o = *opts;
    if (!t || !out)
        return cn_fail(ctx, CAIRN_EINVAL, "cairn_expect_derive: table and out are required");
    *out = NULL;
    if (o.margin <= 0)
        o.margin = 0.1;
    const cairn_column *label = NULL;
    if (o.label) {
        int li = cairn_table_find(t, o.label);
        if (li < 0)
            return cn_fail(ctx, CAIRN_ENOTFOUND, "label column '%s' not found", o.label);
        label = &t->cols[li];
    }
    size_t n = t->n_rows;
    cn_buf b = CN_BUF_INIT;
    cn_buf_printf(&b,
                  "# Data expectations: 'cairn data validate DATA --expect expectations.yaml'"
                  " checks them,\n# and 'cairn train' refuses data that fails them (see "
                  "docs/expectations.md).\n# Derived by 'cairn init' from %zu rows: review "
                  "the ranges and shares.\nmin_rows: %zu\n",
                  n, n / 2 ? n / 2 : 1);
    if (label) {
        cn_buf_puts(&b, "label: ");
        put_quoted(&b, label->name);
        cn_buf_putc(&b, '\n');
    }
    if (label && o.is_classification && n) {
        groups g;
        groups_make(label, n, &g);
        size_t rare = n;
        for (size_t k = 0; k < g.n; k++)
            if (g.counts[k] && g.counts[k] < rare)
                rare = g.counts[k];
        double floor_share = floor(1000.0 * 0.5 * (double)rare / (double)n) / 1000.0;
        cn_buf_printf(&b, "class_balance: {min_share: %g}  # half the rarest class's share\n",
                      floor_share);
        groups_release(&g);
    }
    cn_buf_puts(&b, "columns:\n");
    for (size_t ci = 0; ci < t->n_cols; ci++) {
        const cairn_column *c = &t->cols[ci];
        bool is_label = c == label;
        size_t n_missing = 0;
        for (size_t r = 0; r < n; r++)
            n_missing += is_missing(c, r);
        double miss = n ? (double)n_missing / (double)n : 0;
        double max_missing = is_label ? 0 : fmin(1.0, ceil(100.0 * (miss + 0.05)) / 100.0);
        cn_buf_puts(&b, "  ");
        put_quoted(&b, c->name);
        cn_buf_puts(&b, ": {");
        groups g;
        groups_make(c, n, &g);
        bool categorical = c->type == CAIRN_COL_CATEGORICAL || (is_label && o.is_classification);
        bool integral = !categorical;
        if (categorical) {
            cn_buf_puts(&b, "type: categorical");
            if (g.n <= 50) {
                cn_buf_puts(&b, ", values: [");
                for (size_t k = 0; k < g.n; k++) {
                    if (k)
                        cn_buf_puts(&b, ", ");
                    put_quoted(&b, g.names[k]);
                }
                cn_buf_putc(&b, ']');
            }
        } else {
            double lo = INFINITY, hi = -INFINITY;
            for (size_t r = 0; r < n; r++) {
                double v = c->num[r];
                if (!isfinite(v))
                    continue;
                lo = fmin(lo, v);
                hi = fmax(hi, v);
                integral = integral && v == floor(v) && fabs(v) < 9e15;
            }
            cn_buf_printf(&b, "type: %s", integral ? "integer" : "numeric");
            if (lo <= hi) {
                double span = hi - lo,
                       pad = span > 0 ? o.margin * span : fmax(1.0, fabs(lo) * o.margin);
                double low = lo - pad, high = hi + pad;
                if (lo >= 0 && low < 0)
                    low = 0;
                if (integral) {
                    low = floor(low);
                    high = ceil(high);
                }
                cn_buf_puts(&b, ", min: ");
                put_bound(&b, low, integral ? 1 : pad, true);
                cn_buf_puts(&b, ", max: ");
                put_bound(&b, high, integral ? 1 : pad, false);
            }
        }
        cn_buf_printf(&b, ", max_missing: %g", max_missing);
        bool id_like = !is_label && n >= 20 && n_missing == 0 && g.n == n &&
                       (c->type == CAIRN_COL_CATEGORICAL || integral);
        if (id_like)
            cn_buf_puts(&b, ", unique: true");
        cn_buf_puts(&b, "}\n");
        groups_release(&g);
    }
    cn_buf_puts(&b, "# Representativeness: only a person knows which slices and groups matter.\n"
                    "# slices:                 # every value of the column needs min_rows rows\n"
                    "#   - {column: region, min_rows: 30}\n"
                    "# sensitive:              # each declared group needs this share of the rows\n"
                    "#   column: sex\n"
                    "#   min_share_per_group: 0.2\n"
                    "#   groups: [female, male]\n");
    *out = cn_buf_detach(&b);
    return CAIRN_OK;
}
