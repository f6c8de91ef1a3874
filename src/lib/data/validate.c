/* SPDX-License-Identifier: MIT */
/* data_validate.c - the data quality report: schema, ranges, missing values, constant and
 * duplicate columns, duplicate rows, class balance, rows shared between splits. Findings are
 * warnings or errors in the report; `cairn data validate` and the pipeline's validate stage
 * render it. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cairn/data.h"
#include "core/core.h"
#include "data/data_internal.h"
#include "base/arena.h"
#include "base/jsonw.h"
#include "base/str.h"
#include "base/xmalloc.h"
#include "base/banned.h"

/* A numeric label with more distinct values than this is a regression target: no classes. */
#define MAX_CLASSES 100
#define RARE_CLASS_ROWS 5

typedef struct vstate {
    cairn_validate_report *r;
    cn_arena *arena;
    size_t cap_issues;
} vstate;

static void issue(vstate *v, cairn_issue_level level, const char *code, const char *column,
                  const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static void issue(vstate *v, cairn_issue_level level, const char *code, const char *column,
                  const char *fmt, ...)
{
    cairn_validate_report *r = v->r;
    if (r->n_issues == v->cap_issues) {
        v->cap_issues = v->cap_issues ? v->cap_issues * 2 : 16;
        r->issues = cn_xrealloc(r->issues, v->cap_issues * sizeof *r->issues);
    }
    cn_buf b = CN_BUF_INIT;
    va_list ap;
    va_start(ap, fmt);
    cn_buf_vprintf(&b, fmt, ap);
    va_end(ap);
    r->issues[r->n_issues++] = (cairn_data_issue){level, code, cn_arena_strdup(v->arena, column),
                                                  cn_arena_strdup(v->arena, cn_buf_str(&b))};
    cn_buf_release(&b);
    if (level == CAIRN_ISSUE_ERROR)
        r->n_errors++;
    else
        r->n_warnings++;
}

typedef struct hashed {
    uint64_t h;
    size_t i;
} hashed;

static int cmp_hashed(const void *a, const void *b)
{
    const hashed *x = a, *y = b;
    if (x->h != y->h)
        return x->h < y->h ? -1 : 1;
    return x->i < y->i ? -1 : x->i > y->i;
}

static uint64_t col_hash(const cairn_table *t, const cairn_column *c)
{
    uint64_t h = 1469598103934665603ull ^ (uint64_t)c->type;
    for (size_t r = 0; r < t->n_rows; r++) {
        uint64_t v;
        if (c->type == CAIRN_COL_NUMERIC) {
            double x = c->num[r];
            if (isnan(x))
                v = 1;
            else if (x == 0)
                v = 0;
            else
                memcpy(&v, &x, 8);
        } else {
            v = c->cat[r] < 0 ? 1 : 7;
            if (c->cat[r] >= 0)
                for (const char *s = c->levels[c->cat[r]]; *s; s++)
                    v = v * 131 + (unsigned char)*s;
        }
        h = (h ^ v) * 1099511628211ull;
        h ^= h >> 29;
    }
    return h;
}

static bool cols_equal(const cairn_table *t, const cairn_column *a, const cairn_column *b)
{
    if (a->type != b->type)
        return false;
    for (size_t r = 0; r < t->n_rows; r++) {
        if (a->type == CAIRN_COL_NUMERIC) {
            double x = a->num[r], y = b->num[r];
            if (!(x == y || (isnan(x) && isnan(y))))
                return false;
        } else {
            int32_t x = a->cat[r], y = b->cat[r];
            if ((x < 0) != (y < 0) || (x >= 0 && strcmp(a->levels[x], b->levels[y]) != 0))
                return false;
        }
    }
    return true;
}

static void check_columns(vstate *v, const cairn_table *t, const cairn_validate_opts *o)
{
    cairn_validate_report *r = v->r;
    double max_missing = o->max_missing_fraction > 0 ? o->max_missing_fraction : 0.5;
    size_t *seen = NULL;
    size_t cap_seen = 0;
    for (size_t c = 0; c < t->n_cols; c++) {
        const cairn_column *col = &t->cols[c];
        cairn_column_report *cr = &r->cols[c];
        cr->name = cn_arena_strdup(v->arena, col->name);
        cr->type = col->type;
        cr->duplicate_of = -1;
        cr->min = NAN;
        cr->max = NAN;
        size_t n_inf = 0, n_distinct = 0;
        if (col->type == CAIRN_COL_NUMERIC) {
            double first = NAN;
            for (size_t i = 0; i < t->n_rows; i++) {
                double x = col->num[i];
                if (isnan(x)) {
                    cr->n_missing++;
                    continue;
                }
                if (isinf(x))
                    n_inf++;
                if (isnan(cr->min) || x < cr->min)
                    cr->min = x;
                if (isnan(cr->max) || x > cr->max)
                    cr->max = x;
                if (isnan(first))
                    first = x;
                else if (x != first)
                    n_distinct = 2;
            }
            if (!isnan(first) && n_distinct == 0)
                n_distinct = 1;
        } else {
            if (col->n_levels > cap_seen) {
                cap_seen = col->n_levels;
                seen = cn_xrealloc(seen, cap_seen * sizeof *seen);
            }
            if (col->n_levels)
                memset(seen, 0, col->n_levels * sizeof *seen);
            for (size_t i = 0; i < t->n_rows; i++) {
                if (col->cat[i] < 0)
                    cr->n_missing++;
                else if (seen[col->cat[i]]++ == 0)
                    cr->n_levels++;
            }
            n_distinct = cr->n_levels;
        }
        cr->is_constant = n_distinct <= 1;
        if (t->n_rows == 0)
            continue;
        double frac = (double)cr->n_missing / (double)t->n_rows;
        if (cr->n_missing == t->n_rows)
            issue(v, CAIRN_ISSUE_ERROR, "all-missing", col->name,
                  "column '%s': every value is missing", col->name);
        else if (frac > max_missing)
            issue(v, CAIRN_ISSUE_ERROR, "missing-values", col->name,
                  "column '%s': %zu of %zu values missing (%.1f%%, over the %.0f%% limit)",
                  col->name, cr->n_missing, t->n_rows, 100 * frac, 100 * max_missing);
        else if (cr->n_missing)
            issue(v, CAIRN_ISSUE_WARN, "missing-values", col->name,
                  "column '%s': %zu of %zu values missing (%.1f%%)", col->name, cr->n_missing,
                  t->n_rows, 100 * frac);
        if (cr->is_constant && cr->n_missing < t->n_rows)
            issue(v, CAIRN_ISSUE_WARN, "constant-column", col->name,
                  "column '%s': a single value; it carries no information", col->name);
        if (n_inf)
            issue(v, CAIRN_ISSUE_WARN, "non-finite", col->name, "column '%s': %zu infinite values",
                  col->name, n_inf);
    }
    free(seen);

    /* Duplicate columns: equal content hashes, then a full comparison. */
    hashed *hc = cn_xmalloc((t->n_cols + 1) * sizeof *hc);
    for (size_t c = 0; c < t->n_cols; c++)
        hc[c] = (hashed){col_hash(t, &t->cols[c]), c};
    qsort(hc, t->n_cols, sizeof *hc, cmp_hashed);
    for (size_t i = 1; i < t->n_cols; i++) {
        for (size_t j = i; j-- > 0 && hc[j].h == hc[i].h;) {
            const cairn_column *a = &t->cols[hc[j].i], *b = &t->cols[hc[i].i];
            if (r->cols[hc[j].i].duplicate_of < 0 && cols_equal(t, a, b)) {
                r->cols[hc[i].i].duplicate_of = (int)hc[j].i;
                issue(v, CAIRN_ISSUE_WARN, "duplicate-column", b->name,
                      "column '%s' has the same values as column '%s'", b->name, a->name);
                break;
            }
        }
    }
    free(hc);
}

static void check_rows(vstate *v, const cairn_table *t, hashed *hr)
{
    size_t first = SIZE_MAX, n = t->n_rows;
    for (size_t i = 0; i < n; i++)
        hr[i] = (hashed){cn_table_row_hash(t, i), i};
    qsort(hr, n, sizeof *hr, cmp_hashed);
    for (size_t i = 1; i < n; i++) {
        for (size_t j = i; j-- > 0 && hr[j].h == hr[i].h;) {
            if (cn_table_rows_equal(t, hr[j].i, t, hr[i].i)) {
                v->r->n_duplicate_rows++;
                if (hr[i].i < first)
                    first = hr[i].i;
                break;
            }
        }
    }
    if (v->r->n_duplicate_rows)
        issue(v, CAIRN_ISSUE_WARN, "duplicate-rows", NULL,
              "%zu rows repeat an earlier row (the first at row %zu, 0-based)",
              v->r->n_duplicate_rows, first);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void check_label(vstate *v, const cairn_table *t, const cairn_column *col,
                        const cairn_validate_opts *o)
{
    cairn_validate_report *r = v->r;
    size_t n = t->n_rows, n_missing = 0;
    if (col->type == CAIRN_COL_CATEGORICAL) {
        size_t *count = cn_xcalloc(col->n_levels + 1, sizeof *count);
        for (size_t i = 0; i < n; i++) {
            if (col->cat[i] < 0)
                n_missing++;
            else
                count[col->cat[i]]++;
        }
        r->classes = cn_xcalloc(col->n_levels + 1, sizeof *r->classes);
        for (size_t l = 0; l < col->n_levels; l++)
            if (count[l])
                r->classes[r->n_classes++] =
                    (cairn_class_count){cn_arena_strdup(v->arena, col->levels[l]), count[l]};
        free(count);
    } else {
        double *vals = cn_xmalloc((n + 1) * sizeof *vals);
        size_t m = 0;
        for (size_t i = 0; i < n; i++) {
            if (isnan(col->num[i]))
                n_missing++;
            else
                vals[m++] = col->num[i];
        }
        qsort(vals, m, sizeof *vals, cmp_double);
        size_t distinct = 0;
        for (size_t i = 0; i < m; i++)
            if (i == 0 || vals[i] != vals[i - 1])
                distinct++;
        if (distinct <= MAX_CLASSES) {
            r->classes = cn_xcalloc(distinct + 1, sizeof *r->classes);
            for (size_t i = 0; i < m; i++) {
                if (i == 0 || vals[i] != vals[i - 1]) {
                    char num[40];
                    cn_format_double_short(vals[i], num, sizeof num);
                    r->classes[r->n_classes++] =
                        (cairn_class_count){cn_arena_strdup(v->arena, num), 0};
                }
                r->classes[r->n_classes - 1].count++;
            }
        }
        free(vals);
    }
    if (n_missing)
        issue(v, CAIRN_ISSUE_ERROR, "missing-label", col->name,
              "label column '%s': %zu rows have no label", col->name, n_missing);
    size_t lo = SIZE_MAX, hi = 0;
    const char *rare = NULL;
    size_t n_rare = 0;
    for (size_t k = 0; k < r->n_classes; k++) {
        size_t c = r->classes[k].count;
        lo = c < lo ? c : lo;
        hi = c > hi ? c : hi;
        if (c < RARE_CLASS_ROWS) {
            n_rare++;
            if (!rare)
                rare = r->classes[k].label;
        }
    }
    if (r->n_classes) {
        double max_ratio = o->max_imbalance_ratio > 0 ? o->max_imbalance_ratio : 10;
        r->imbalance_ratio = (double)hi / (double)lo;
        if (r->imbalance_ratio > max_ratio)
            issue(v, CAIRN_ISSUE_WARN, "class-imbalance", col->name,
                  "label column '%s': the largest class has %.1f times the rows of the smallest "
                  "(%zu vs %zu); consider a stratified split and class weights",
                  col->name, r->imbalance_ratio, hi, lo);
        if (r->n_classes == 1)
            issue(v, CAIRN_ISSUE_ERROR, "single-class", col->name,
                  "label column '%s': every row has the same class '%s'", col->name,
                  r->classes[0].label);
    }
    if (n_rare)
        issue(v, CAIRN_ISSUE_WARN, "rare-class", col->name,
              "label column '%s': %zu classes have fewer than %d rows (e.g. '%s')", col->name,
              n_rare, RARE_CLASS_ROWS, rare);
}

static size_t overlap(const size_t *a, size_t na, const size_t *b, size_t nb, size_t *first)
{
    size_t i = 0, j = 0, n = 0;
    *first = SIZE_MAX;
    while (i < na && j < nb) {
        if (a[i] < b[j]) {
            i++;
        } else if (a[i] > b[j]) {
            j++;
        } else {
            if (n++ == 0)
                *first = a[i];
            i++;
            j++;
        }
    }
    return n;
}

static cairn_status check_split(cairn_ctx *ctx, vstate *v, const cairn_table *t,
                                const cairn_split *s, const hashed *hr)
{
    static const int pairs[3][2] = {{CAIRN_SPLIT_TRAIN, CAIRN_SPLIT_VAL},
                                    {CAIRN_SPLIT_TRAIN, CAIRN_SPLIT_TEST},
                                    {CAIRN_SPLIT_VAL, CAIRN_SPLIT_TEST}};
    for (int p = 0; p < CAIRN_SPLIT_N_PARTS; p++)
        for (size_t i = 0; i < s->n[p]; i++)
            if (s->rows[p][i] >= t->n_rows)
                return cn_fail(ctx, CAIRN_EINVAL,
                               "split part '%s' names row %zu but the table "
                               "has %zu rows; was the split made from another file?",
                               cairn_split_part_name((cairn_split_part)p), s->rows[p][i],
                               t->n_rows);
    for (int k = 0; k < 3; k++) {
        int a = pairs[k][0], b = pairs[k][1];
        size_t first;
        v->r->split_overlap[k] = overlap(s->rows[a], s->n[a], s->rows[b], s->n[b], &first);
        if (v->r->split_overlap[k])
            issue(v, CAIRN_ISSUE_ERROR, "split-overlap", NULL,
                  "%zu rows are in both %s and %s (the first: row %zu)", v->r->split_overlap[k],
                  cairn_split_part_name((cairn_split_part)a),
                  cairn_split_part_name((cairn_split_part)b), first);
    }
    /* Rows of val/test whose values equal a train row: leakage through duplicated records. */
    unsigned char *in_train = cn_xcalloc(t->n_rows + 1, 1);
    for (size_t i = 0; i < s->n[CAIRN_SPLIT_TRAIN]; i++)
        in_train[s->rows[CAIRN_SPLIT_TRAIN][i]] = 1;
    size_t *pos = cn_xmalloc((t->n_rows + 1) * sizeof *pos); /* row -> index in hr */
    for (size_t i = 0; i < t->n_rows; i++)
        pos[hr[i].i] = i;
    for (int p = CAIRN_SPLIT_VAL; p <= CAIRN_SPLIT_TEST; p++) {
        size_t n_same = 0, first = SIZE_MAX;
        for (size_t i = 0; i < s->n[p]; i++) {
            size_t row = s->rows[p][i], at = pos[row];
            bool found = false;
            for (size_t j = at; j-- > 0 && hr[j].h == hr[at].h && !found;)
                found = in_train[hr[j].i] && cn_table_rows_equal(t, hr[j].i, t, row);
            for (size_t j = at + 1; j < t->n_rows && hr[j].h == hr[at].h && !found; j++)
                found = in_train[hr[j].i] && cn_table_rows_equal(t, hr[j].i, t, row);
            if (found && !in_train[row]) {
                if (n_same++ == 0)
                    first = row;
            }
        }
        if (n_same)
            issue(v, CAIRN_ISSUE_WARN, "split-content-overlap", NULL,
                  "%zu %s rows have the same values as a train row (the first: row %zu)", n_same,
                  cairn_split_part_name((cairn_split_part)p), first);
    }
    free(pos);
    free(in_train);
    return CAIRN_OK;
}

cairn_status cairn_validate(cairn_ctx *ctx, const cairn_table *t, const cairn_validate_opts *opts,
                            cairn_validate_report **out)
{
    cairn_validate_opts defaults = CAIRN_VALIDATE_OPTS_INIT;
    const cairn_validate_opts *o = opts ? opts : &defaults;
    if (!out)
        return cn_fail(ctx, CAIRN_EINVAL, "cairn_validate: out is NULL");
    *out = NULL;
    if (!t)
        return cn_fail(ctx, CAIRN_EINVAL, "cairn_validate: table is NULL");
    const cairn_column *label = NULL;
    if (o->label) {
        cairn_status rc = cn_table_need_col(ctx, t, o->label, "label", &label);
        if (rc != CAIRN_OK)
            return rc;
    }
    cairn_validate_report *r = cn_xcalloc(1, sizeof *r);
    vstate v = {r, cn_arena_new(), 0};
    r->internal_ = v.arena;
    r->n_rows = t->n_rows;
    r->n_cols = t->n_cols;
    r->label = o->label ? cn_arena_strdup(v.arena, o->label) : NULL;
    r->cols = cn_xcalloc(t->n_cols + 1, sizeof *r->cols);
    if (t->n_rows == 0)
        issue(&v, CAIRN_ISSUE_ERROR, "empty-table", NULL, "the table has no rows");
    for (size_t i = 0; i < o->n_expect; i++) {
        const char *want = o->expect_columns[i];
        int c = cairn_table_find(t, want);
        if (c < 0)
            issue(&v, CAIRN_ISSUE_ERROR, "schema-missing-column", want,
                  "expected column '%s' is missing", want);
        else if (o->expect_types && t->cols[c].type != o->expect_types[i])
            issue(&v, CAIRN_ISSUE_ERROR, "schema-type", want, "column '%s' is %s, expected %s",
                  want, t->cols[c].type == CAIRN_COL_NUMERIC ? "numeric" : "categorical",
                  o->expect_types[i] == CAIRN_COL_NUMERIC ? "numeric" : "categorical");
    }
    check_columns(&v, t, o);
    hashed *hr = cn_xmalloc((t->n_rows + 1) * sizeof *hr);
    check_rows(&v, t, hr);
    if (label)
        check_label(&v, t, label, o);
    cairn_status rc = CAIRN_OK;
    if (o->split)
        rc = check_split(ctx, &v, t, o->split, hr);
    free(hr);
    if (rc != CAIRN_OK) {
        cairn_validate_report_free(r);
        return rc;
    }
    *out = r;
    return CAIRN_OK;
}

void cairn_validate_report_free(cairn_validate_report *r)
{
    if (!r)
        return;
    free(r->cols);
    free(r->classes);
    free(r->issues);
    cn_arena_free(r->internal_);
    free(r);
}

static void column_json(cn_jsonw *w, const cairn_validate_report *r, size_t c)
{
    const cairn_column_report *cr = &r->cols[c];
    cn_jsonw_object_begin(w);
    cn_jsonw_kstring(w, "name", cr->name);
    cn_jsonw_kstring(w, "type", cr->type == CAIRN_COL_NUMERIC ? "numeric" : "categorical");
    cn_jsonw_kint(w, "missing", (int64_t)cr->n_missing);
    if (cr->type == CAIRN_COL_NUMERIC) {
        cn_jsonw_key(w, "min");
        cn_jsonw_double_or_null(w, cr->min);
        cn_jsonw_key(w, "max");
        cn_jsonw_double_or_null(w, cr->max);
    } else {
        cn_jsonw_kint(w, "levels", (int64_t)cr->n_levels);
    }
    cn_jsonw_kbool(w, "constant", cr->is_constant);
    cn_jsonw_kstring(w, "duplicate_of",
                     cr->duplicate_of >= 0 ? r->cols[cr->duplicate_of].name : NULL);
    cn_jsonw_object_end(w);
}

static void label_json(cn_jsonw *w, const cairn_validate_report *r)
{
    cn_jsonw_key(w, "label");
    if (!r->label) {
        cn_jsonw_null(w);
        return;
    }
    cn_jsonw_object_begin(w);
    cn_jsonw_kstring(w, "column", r->label);
    cn_jsonw_key(w, "classes");
    cn_jsonw_array_begin(w);
    for (size_t k = 0; k < r->n_classes; k++) {
        cn_jsonw_object_begin(w);
        cn_jsonw_kstring(w, "label", r->classes[k].label);
        cn_jsonw_kint(w, "count", (int64_t)r->classes[k].count);
        cn_jsonw_object_end(w);
    }
    cn_jsonw_array_end(w);
    cn_jsonw_key(w, "imbalance_ratio");
    cn_jsonw_double_or_null(w, r->n_classes ? r->imbalance_ratio : NAN);
    cn_jsonw_object_end(w);
}

cairn_status cairn_validate_json(cairn_ctx *ctx, const cairn_validate_report *r, char **out)
{
    if (!r || !out)
        return cn_fail(ctx, CAIRN_EINVAL, "cairn_validate_json: report and out are required");
    cn_jsonw w;
    cn_jsonw_init(&w, NULL, 2);
    w.flat_from = 3; /* one line per column, class and issue */
    cn_jsonw_object_begin(&w);
    cn_jsonw_kbool(&w, "ok", r->n_errors == 0);
    cn_jsonw_kint(&w, "n_rows", (int64_t)r->n_rows);
    cn_jsonw_kint(&w, "n_cols", (int64_t)r->n_cols);
    cn_jsonw_kint(&w, "n_errors", (int64_t)r->n_errors);
    cn_jsonw_kint(&w, "n_warnings", (int64_t)r->n_warnings);
    cn_jsonw_kint(&w, "duplicate_rows", (int64_t)r->n_duplicate_rows);
    cn_jsonw_key(&w, "columns");
    cn_jsonw_array_begin(&w);
    for (size_t c = 0; c < r->n_cols; c++)
        column_json(&w, r, c);
    cn_jsonw_array_end(&w);
    label_json(&w, r);
    cn_jsonw_key(&w, "split_overlap");
    cn_jsonw_flat(&w);
    cn_jsonw_object_begin(&w);
    cn_jsonw_kint(&w, "train_val", (int64_t)r->split_overlap[0]);
    cn_jsonw_kint(&w, "train_test", (int64_t)r->split_overlap[1]);
    cn_jsonw_kint(&w, "val_test", (int64_t)r->split_overlap[2]);
    cn_jsonw_object_end(&w);
    cn_jsonw_key(&w, "issues");
    cn_jsonw_array_begin(&w);
    for (size_t i = 0; i < r->n_issues; i++) {
        const cairn_data_issue *is = &r->issues[i];
        cn_jsonw_object_begin(&w);
        cn_jsonw_kstring(&w, "level", is->level == CAIRN_ISSUE_ERROR ? "error" : "warning");
        cn_jsonw_kstring(&w, "code", is->code);
        cn_jsonw_kstring(&w, "column", is->column);
        cn_jsonw_kstring(&w, "message", is->message);
        cn_jsonw_object_end(&w);
    }
    cn_jsonw_array_end(&w);
    cn_jsonw_object_end(&w);
    cn_jsonw_finish(&w);
    *out = cn_buf_detach(&w.buf);
    return CAIRN_OK;
}
