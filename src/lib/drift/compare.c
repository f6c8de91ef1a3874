/* SPDX-License-Identifier: MIT */
/* compare.c - a drift report: each reference column against the current rows (the model's
 * predictions for the prediction column), the deciding test chosen by Evidently's default
 * rule or by the caller, and the dataset decision (drift share or Bonferroni). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "drift/drift_internal.h"
#include "core/core.h"
#include "base/arena.h"
#include "base/map.h"
#include "base/str.h"
#include "base/xmalloc.h"
#include "base/banned.h"

#define AUTO_SMALL_ROWS 1000 /* Evidently: reference rows <= 1000 -> p-value tests */
#define AUTO_FEW_VALUES 5    /* numeric columns with <= 5 values are tested as categories */

static const char *const test_names[] = {"auto", "ks", "chi2",        "z",
                                         "psi",  "js", "wasserstein", "missing"};

const char *cairn_drift_test_name(cairn_drift_test t)
{
    return (size_t)t < sizeof test_names / sizeof test_names[0] ? test_names[t] : "?";
}

bool cairn_drift_test_parse(const char *name, cairn_drift_test *out)
{
    for (size_t i = 0; i + 1 < sizeof test_names / sizeof test_names[0]; i++)
        if (name && strcmp(name, test_names[i]) == 0) {
            *out = (cairn_drift_test)i;
            return true;
        }
    return false;
}

static bool is_pvalue_test(cairn_drift_test t)
{
    return t == CAIRN_DRIFT_KS || t == CAIRN_DRIFT_CHI2 || t == CAIRN_DRIFT_Z;
}

static double default_threshold(cairn_drift_test t)
{
    return is_pvalue_test(t) ? 0.05 : 0.1;
}

/* Binned counts of one column: labels, reference and current counts. */
typedef struct bins {
    size_t n, cap;
    const char **labels;
    double *ref, *cur;
} bins;

static void bins_add(cn_arena *a, bins *b, const char *label, double ref)
{
    if (b->n == b->cap) {
        size_t cap = b->cap ? 2 * b->cap : 16;
        const char **l = cn_arena_alloc(a, cap * sizeof *l);
        double *r = cn_arena_alloc(a, cap * sizeof *r), *c = cn_arena_alloc(a, cap * sizeof *c);
        if (b->n) {
            memcpy(l, b->labels, b->n * sizeof *l);
            memcpy(r, b->ref, b->n * sizeof *r);
            memcpy(c, b->cur, b->n * sizeof *c);
        }
        b->labels = l;
        b->ref = r;
        b->cur = c;
        b->cap = cap;
    }
    b->labels[b->n] = label;
    b->ref[b->n] = ref;
    b->cur[b->n] = 0;
    b->n++;
}

static char *num_label(cn_arena *a, double v)
{
    char text[40];
    cn_format_double_short(v, text, sizeof text);
    return cn_arena_strdup(a, text);
}

static int cmp_double(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return a < b ? -1 : a > b;
}

/* Discrete numeric column: one bin per value of the union, ascending. */
static void bins_discrete(cn_arena *a, const cn_drift_col *c, const double *cur, size_t n_cur,
                          bins *b)
{
    double *u = cn_xmalloc((c->n_distinct + n_cur + 1) * sizeof *u);
    size_t nu = 0;
    for (size_t i = 0; i < c->n_distinct; i++)
        u[nu++] = c->values[i];
    for (size_t i = 0; i < n_cur; i++)
        if (i == 0 || cur[i] != cur[i - 1])
            u[nu++] = cur[i];
    qsort(u, nu, sizeof *u, cmp_double);
    size_t k = 0, ri = 0, ci = 0;
    for (size_t i = 0; i < nu; i++) {
        if (k > 0 && u[i] == u[k - 1])
            continue;
        u[k++] = u[i];
        double r = 0;
        while (ri < c->n_distinct && c->values[ri] < u[i])
            ri++;
        if (ri < c->n_distinct && c->values[ri] == u[i])
            r = c->value_counts[ri];
        bins_add(a, b, num_label(a, u[i]), r);
        while (ci < n_cur && cur[ci] < u[i])
            ci++;
        while (ci < n_cur && cur[ci] == u[i]) {
            b->cur[b->n - 1]++;
            ci++;
        }
    }
    free(u);
}

/* Continuous numeric column: (-inf, e0), [e0, e1), ..., [e_k-1, e_k], (e_k, inf). */
static void bins_edges(cn_arena *a, const cn_drift_col *c, const double *cur, size_t n_cur, bins *b)
{
    size_t ne = c->n_edges, nb = ne > 1 ? ne - 1 : 0;
    char lo[40], hi[40];
    cn_format_double_short(c->edges[0], lo, sizeof lo);
    bins_add(a, b, cn_arena_printf(a, "< %s", lo), 0);
    for (size_t i = 0; i < nb; i++) {
        cn_format_double_short(c->edges[i], lo, sizeof lo);
        cn_format_double_short(c->edges[i + 1], hi, sizeof hi);
        bins_add(a, b, cn_arena_printf(a, "[%s, %s%s", lo, hi, i + 1 == nb ? "]" : ")"),
                 c->edge_counts[i]);
    }
    cn_format_double_short(c->edges[ne - 1], hi, sizeof hi);
    bins_add(a, b, cn_arena_printf(a, "> %s", hi), 0);
    size_t bi = 0; /* the middle bin of the last value: cur is sorted, so walk them once */
    for (size_t i = 0; i < n_cur; i++) {
        double v = cur[i];
        if (v < c->edges[0]) {
            b->cur[0]++;
        } else if (v > c->edges[ne - 1] || nb == 0) {
            b->cur[nb + 1]++;
        } else {
            while (bi + 1 < nb && v >= c->edges[bi + 1])
                bi++;
            b->cur[1 + bi]++;
        }
    }
}

/* Categorical column: the reference's levels, then the current's unseen ones. */
static void bins_categorical(cn_arena *a, const cn_drift_col *c, const cairn_column *col,
                             size_t n_rows, bins *b, size_t *n_cur, size_t *missing, size_t *unseen)
{
    cn_map index = CN_MAP_INIT;
    for (size_t l = 0; l < c->n_levels; l++) {
        cn_map_add(&index, c->levels[l], strlen(c->levels[l]), l, NULL);
        bins_add(a, b, c->levels[l], c->level_counts[l]);
    }
    size_t *map = cn_xmalloc((col->n_levels ? col->n_levels : 1) * sizeof *map);
    for (size_t l = 0; l < col->n_levels; l++) {
        const char *s = col->levels[l] ? col->levels[l] : "";
        size_t at;
        if (!cn_map_get(&index, s, strlen(s), &at)) {
            at = b->n;
            cn_map_add(&index, s, strlen(s), at, NULL);
            bins_add(a, b, cn_arena_strdup(a, s), 0);
        }
        map[l] = at;
    }
    for (size_t r = 0; r < n_rows; r++) {
        int32_t code = col->cat[r];
        if (code < 0 || (size_t)code >= col->n_levels) {
            (*missing)++;
            continue;
        }
        b->cur[map[code]]++;
        (*n_cur)++;
        if (map[code] >= c->n_levels)
            (*unseen)++;
    }
    free(map);
    cn_map_release(&index);
}

static void decide(cairn_drift_feature *f, double threshold)
{
    f->threshold = threshold;
    switch (f->test) {
    case CAIRN_DRIFT_KS:
        f->statistic = f->ks;
        f->pvalue = f->ks_pvalue;
        f->score = f->pvalue;
        f->drifted = f->pvalue <= threshold; /* Evidently: p <= threshold for KS */
        break;
    case CAIRN_DRIFT_CHI2:
    case CAIRN_DRIFT_Z:
        if (f->test == CAIRN_DRIFT_CHI2) {
            f->statistic = f->chi2;
            f->pvalue = f->chi2_pvalue;
        }
        f->score = f->pvalue;
        f->drifted = f->pvalue < threshold;
        break;
    case CAIRN_DRIFT_PSI:
        f->statistic = f->score = f->psi;
        f->drifted = f->psi >= threshold;
        break;
    case CAIRN_DRIFT_JS:
        f->statistic = f->score = f->js;
        f->drifted = f->js >= threshold;
        break;
    case CAIRN_DRIFT_WASSERSTEIN:
        f->statistic = f->score = f->wasserstein_norm;
        f->drifted = f->wasserstein_norm >= threshold;
        break;
    default: break;
    }
}

/* Evidently's _get_default_stattest, with the forced test where it applies. */
static cairn_drift_test choose(const cairn_drift_opts *o, cairn_col_type type, size_t n_ref,
                               size_t n_values)
{
    bool categorical = type == CAIRN_COL_CATEGORICAL || n_values <= AUTO_FEW_VALUES;
    cairn_drift_test t = o->test;
    if ((t == CAIRN_DRIFT_KS || t == CAIRN_DRIFT_WASSERSTEIN) && type == CAIRN_COL_CATEGORICAL)
        t = CAIRN_DRIFT_AUTO;
    if (t == CAIRN_DRIFT_Z && n_values > 2)
        t = CAIRN_DRIFT_CHI2;
    if (t != CAIRN_DRIFT_AUTO)
        return t;
    if (n_ref <= AUTO_SMALL_ROWS) {
        if (!categorical)
            return CAIRN_DRIFT_KS;
        return n_values > 2 ? CAIRN_DRIFT_CHI2 : CAIRN_DRIFT_Z;
    }
    return categorical ? CAIRN_DRIFT_JS : CAIRN_DRIFT_WASSERSTEIN;
}

static void nan_stats(cairn_drift_feature *f)
{
    f->statistic = f->pvalue = f->score = NAN;
    f->ks = f->ks_pvalue = f->wasserstein = f->wasserstein_norm = NAN;
    f->psi = f->js = f->chi2 = f->chi2_pvalue = NAN;
}

/* The z-test on a two-bin split: the first bin against the rest. */
static double ztest_bins(const bins *b, double *z)
{
    double r0 = b->n ? b->ref[0] : 0, c0 = b->n ? b->cur[0] : 0, nr = 0, nc = 0;
    for (size_t i = 0; i < b->n; i++) {
        nr += b->ref[i];
        nc += b->cur[i];
    }
    return cairn_drift_ztest(r0, nr, c0, nc, z);
}

static void compare_col(cn_arena *a, const cn_drift_col *c, const cairn_column *col, size_t n_rows,
                        const cairn_drift_opts *o, cairn_drift_feature *f)
{
    bins b = {0};
    nan_stats(f);
    f->name = c->name;
    f->type = c->type;
    f->is_prediction = c->is_prediction;
    f->n_ref = c->count;
    f->missing_ref = c->n_missing;
    size_t n_values = 0;
    double *cur = NULL;
    size_t n_cur = 0;
    if (c->type == CAIRN_COL_NUMERIC) {
        cur = cn_xmalloc((n_rows ? n_rows : 1) * sizeof *cur);
        for (size_t r = 0; r < n_rows; r++)
            if (isfinite(col->num[r]))
                cur[n_cur++] = col->num[r];
        cn_drift_sort(cur, n_cur);
        f->n_cur = n_cur;
        f->missing_cur = n_rows - n_cur;
        if (c->count > 0 && n_cur > 0) {
            double d = cn_drift_ks_stat(c->sketch, c->n_sketch, cur, n_cur);
            f->ks_pvalue = cn_drift_ks_pvalue_d(c->count, n_cur, &d, o->ks_method, NULL);
            f->ks = d;
            f->wasserstein = cn_drift_w1_sorted(c->sketch, c->n_sketch, cur, n_cur);
            f->wasserstein_norm = f->wasserstein / (c->std > 0.001 ? c->std : 0.001);
            if (c->values)
                bins_discrete(a, c, cur, n_cur, &b);
            else
                bins_edges(a, c, cur, n_cur, &b);
            n_values = c->values ? b.n : CN_DRIFT_DISCRETE_MAX + 1;
        }
    } else {
        size_t unseen = 0, missing = 0;
        bins_categorical(a, c, col, n_rows, &b, &n_cur, &missing, &unseen);
        f->n_cur = n_cur;
        f->missing_cur = missing;
        f->unseen_cur = unseen;
        n_values = 0;
        for (size_t i = 0; i < b.n; i++)
            n_values += b.ref[i] > 0 || b.cur[i] > 0;
    }
    free(cur);
    if (f->n_ref == 0 || f->n_cur == 0) {
        f->test = CAIRN_DRIFT_MISSING;
        f->drifted = (f->n_ref == 0) != (f->n_cur == 0);
        f->threshold = NAN;
        return;
    }
    f->psi = cairn_drift_psi(b.ref, b.cur, b.n);
    f->js = cairn_drift_js(b.ref, b.cur, b.n);
    cairn_drift_chi2(b.ref, b.cur, b.n, &f->chi2, &f->chi2_pvalue);
    f->test = choose(o, c->type, c->count, n_values);
    if (f->test == CAIRN_DRIFT_Z) {
        double z;
        f->pvalue = ztest_bins(&b, &z);
        f->statistic = z;
    }
    f->n_bins = b.n;
    f->bin_labels = b.labels;
    double *rs = cn_arena_alloc(a, (b.n + 1) * sizeof *rs),
           *cs = cn_arena_alloc(a, (b.n + 1) * sizeof *cs);
    for (size_t i = 0; i < b.n; i++) {
        rs[i] = b.ref[i] / (double)f->n_ref;
        cs[i] = b.cur[i] / (double)f->n_cur;
    }
    f->ref_share = rs;
    f->cur_share = cs;
}

static const char *type_name(cairn_col_type t)
{
    return t == CAIRN_COL_NUMERIC ? "numeric" : "categorical";
}

cairn_status cairn_drift_compare(cairn_ctx *ctx, const cairn_drift_reference *ref,
                                 const cairn_table *cur, const cairn_drift_opts *opts,
                                 cairn_drift_report **out)
{
    static const cairn_drift_opts defaults = CAIRN_DRIFT_OPTS_INIT;
    const cairn_drift_opts *o = opts ? opts : &defaults;
    *out = NULL;
    if (!ref || !cur)
        return cn_fail(ctx, CAIRN_EINVAL, "drift: a reference and current rows are required");
    if (o->threshold < 0 || o->drift_share < 0 || o->drift_share > 1)
        return cn_fail(ctx, CAIRN_EINVAL,
                       "drift: threshold and drift share must be >= 0 (share <= 1)");
    /* check every column first: a mismatch is a usage error, before any work */
    for (size_t i = 0; i < ref->n_cols; i++) {
        const cn_drift_col *c = &ref->cols[i];
        if (c->is_prediction && !o->predictions_in_cur) {
            if (!o->model)
                continue;
            if ((cairn_model_n_classes(o->model) == 0) != (c->type == CAIRN_COL_NUMERIC))
                return cn_fail(ctx, CAIRN_EINVAL,
                               "drift: the reference's prediction column is %s but the model "
                               "predicts %s values",
                               type_name(c->type),
                               cairn_model_n_classes(o->model) ? "categorical" : "numeric");
            continue;
        }
        int ci = cairn_table_find(cur, c->name);
        if (ci < 0)
            return cn_fail(ctx, CAIRN_EINVAL,
                           "drift: column '%s' of the reference is not in the current data "
                           "(leave it out with --ignore)",
                           c->name);
        if (cur->cols[ci].type != c->type)
            return cn_fail(ctx, CAIRN_EINVAL,
                           "drift: column '%s' is %s in the reference but %s in the current data "
                           "(declare it with --numeric or --categorical)",
                           c->name, type_name(c->type), type_name(cur->cols[ci].type));
    }
    cairn_table *pred = NULL;
    bool want_pred =
        cairn_drift_reference_has_prediction(ref) && o->model && !o->predictions_in_cur;
    if (want_pred) {
        cairn_status rc = cn_drift_predict_column(ctx, o->model, cur, &pred);
        if (rc != CAIRN_OK)
            return rc;
    }
    cn_arena *a = cn_arena_new();
    cairn_drift_report *r = cn_arena_alloc(a, sizeof *r);
    r->internal_ = a;
    r->n_rows_ref = ref->n_rows;
    r->n_rows_cur = cur->n_rows;
    r->decision = o->decision;
    r->drift_share = o->drift_share > 0 ? o->drift_share : 0.5;
    r->features = cn_arena_alloc(a, (ref->n_cols + 1) * sizeof *r->features);
    size_t n_data = 0;
    for (size_t i = 0; i < ref->n_cols; i++)
        n_data += !ref->cols[i].is_prediction;
    for (size_t i = 0; i < ref->n_cols; i++) {
        const cn_drift_col *c = &ref->cols[i];
        if (!c->exact && c->type == CAIRN_COL_NUMERIC)
            r->is_sketch = true;
        const cairn_column *col;
        if (c->is_prediction && !o->predictions_in_cur) {
            if (!pred)
                continue;
            col = &pred->cols[0];
        } else {
            col = &cur->cols[cairn_table_find(cur, c->name)];
        }
        cairn_drift_feature *f = &r->features[r->n_features++];
        compare_col(a, c, col, cur->n_rows, o, f);
        if (f->test != CAIRN_DRIFT_MISSING) {
            double thr = o->threshold > 0 ? o->threshold : default_threshold(f->test);
            if (o->decision == CAIRN_DRIFT_BONFERRONI && is_pvalue_test(f->test) &&
                !f->is_prediction && n_data > 0)
                thr /= (double)n_data;
            decide(f, thr);
        }
        if (f->is_prediction) {
            r->has_prediction = true;
            r->prediction_drift = f->drifted;
        } else {
            r->n_tested++;
            r->n_drifted += f->drifted;
        }
        if (o->progress)
            o->progress(o->progress_user, i + 1, ref->n_cols);
    }
    cairn_table_free(pred);
    r->share = r->n_tested ? (double)r->n_drifted / (double)r->n_tested : 0;
    r->dataset_drift = o->decision == CAIRN_DRIFT_BONFERRONI
                           ? r->n_drifted > 0
                           : r->n_tested > 0 && r->share >= r->drift_share;
    *out = r;
    return CAIRN_OK;
}

bool cairn_drift_report_drifted(const cairn_drift_report *r)
{
    return r && (r->dataset_drift || r->prediction_drift);
}

CN_DEFINE_ARENA_FREE(cairn_drift_report_free, cairn_drift_report)
