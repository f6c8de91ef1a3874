/* SPDX-License-Identifier: MIT */
/* data_profile.c - reference profiles: per numeric feature count, missing, mean, std, min,
 * quantiles, max and a 20-bin histogram (edges and counts, what PSI and KS need); per
 * categorical feature the level frequencies. Stored with a model version; the model server
 * compares live traffic with it. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cairn/data.h"
#include "core/core.h"
#include "data/data_internal.h"
#include "base/arena.h"
#include "base/jsonw.h"
#include "base/xmalloc.h"
#include "base/banned.h"

const double cairn_profile_quantile_levels[CAIRN_PROFILE_N_QUANTILES] = {
    0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99,
};

/* numpy's _lerp: a + (b - a) * t, computed from b's side when t >= 0.5, so that results are
 * monotonic and equal numpy.quantile(method="linear") bit for bit. */
static double lerp(double a, double b, double t)
{
    double diff = b - a;
    return t >= 0.5 ? b - diff * (1 - t) : a + diff * t;
}

double cairn_quantile_sorted(const double *sorted, size_t n, double q)
{
    if (n == 0 || !(q >= 0 && q <= 1))
        return NAN;
    double virt = (double)(n - 1) * q;
    double prev = floor(virt);
    size_t lo = (size_t)prev, hi = lo + 1 < n ? lo + 1 : n - 1;
    double gamma = virt - prev;
    return lerp(sorted[lo], sorted[hi], gamma);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* numpy.histogram(values, bins=20) over the finite values: equal-width edges from
 * numpy.linspace, the index computed as numpy does, then corrected against the edges. */
static void histogram(const double *sorted, size_t n, cairn_feature_profile *f)
{
    size_t lo_i = 0, hi_i = n;
    while (lo_i < n && isinf(sorted[lo_i]))
        lo_i++;
    while (hi_i > lo_i && isinf(sorted[hi_i - 1]))
        hi_i--;
    memset(f->bin_counts, 0, sizeof f->bin_counts);
    if (lo_i == hi_i) {
        for (int i = 0; i <= CAIRN_PROFILE_N_BINS; i++)
            f->bin_edges[i] = NAN;
        return;
    }
    double first = sorted[lo_i], last = sorted[hi_i - 1];
    if (first == last) {
        first -= 0.5;
        last += 0.5;
    }
    const int nb = CAIRN_PROFILE_N_BINS;
    double step = (last - first) / nb;
    for (int i = 0; i < nb; i++)
        f->bin_edges[i] = (double)i * step + first;
    f->bin_edges[nb] = last;
    double norm = nb / (last - first);
    for (size_t k = lo_i; k < hi_i; k++) {
        double x = sorted[k];
        long idx = (long)((x - first) * norm);
        if (idx >= nb)
            idx = nb - 1;
        if (idx < 0)
            idx = 0;
        if (x < f->bin_edges[idx] && idx > 0)
            idx--;
        else if (idx != nb - 1 && x >= f->bin_edges[idx + 1])
            idx++;
        f->bin_counts[idx]++;
    }
}

static void profile_numeric(const cairn_table *t, const cairn_column *col, cairn_feature_profile *f)
{
    double *v = cn_xmalloc((t->n_rows + 1) * sizeof *v);
    size_t n = 0;
    for (size_t r = 0; r < t->n_rows; r++) {
        if (isnan(col->num[r]))
            f->n_missing++;
        else
            v[n++] = col->num[r];
    }
    f->count = n;
    qsort(v, n, sizeof *v, cmp_double);
    if (n == 0) {
        f->mean = f->std = f->min = f->max = NAN;
        for (int q = 0; q < CAIRN_PROFILE_N_QUANTILES; q++)
            f->quantiles[q] = NAN;
        histogram(v, 0, f);
        free(v);
        return;
    }
    double sum = 0;
    for (size_t i = 0; i < n; i++)
        sum += v[i];
    f->mean = sum / (double)n;
    double ss = 0;
    for (size_t i = 0; i < n; i++)
        ss += (v[i] - f->mean) * (v[i] - f->mean);
    f->std = n > 1 ? sqrt(ss / (double)(n - 1)) : 0;
    f->min = v[0];
    f->max = v[n - 1];
    for (int q = 0; q < CAIRN_PROFILE_N_QUANTILES; q++)
        f->quantiles[q] = cairn_quantile_sorted(v, n, cairn_profile_quantile_levels[q]);
    histogram(v, n, f);
    free(v);
}

cairn_status cairn_profile_table(cairn_ctx *ctx, const cairn_table *t, cairn_profile **out)
{
    if (!out)
        return cn_fail(ctx, CAIRN_EINVAL, "cairn_profile_table: out is NULL");
    *out = NULL;
    if (!t)
        return cn_fail(ctx, CAIRN_EINVAL, "cairn_profile_table: table is NULL");
    cairn_profile *p = cn_xcalloc(1, sizeof *p);
    cn_arena *arena = cn_arena_new();
    p->internal_ = arena;
    p->n_rows = t->n_rows;
    p->n_features = t->n_cols;
    p->features = cn_xcalloc(t->n_cols + 1, sizeof *p->features);
    for (size_t c = 0; c < t->n_cols; c++) {
        const cairn_column *col = &t->cols[c];
        cairn_feature_profile *f = &p->features[c];
        f->name = cn_arena_strdup(arena, col->name);
        f->type = col->type;
        if (col->type == CAIRN_COL_NUMERIC) {
            profile_numeric(t, col, f);
            continue;
        }
        f->mean = f->std = f->min = f->max = NAN;
        for (int q = 0; q < CAIRN_PROFILE_N_QUANTILES; q++)
            f->quantiles[q] = NAN;
        for (int i = 0; i <= CAIRN_PROFILE_N_BINS; i++)
            f->bin_edges[i] = NAN;
        f->n_levels = col->n_levels;
        f->levels = cn_arena_alloc(arena, (col->n_levels + 1) * sizeof *f->levels);
        f->level_counts = cn_arena_alloc(arena, (col->n_levels + 1) * sizeof *f->level_counts);
        for (size_t l = 0; l < col->n_levels; l++)
            f->levels[l] = cn_arena_strdup(arena, col->levels[l]);
        for (size_t r = 0; r < t->n_rows; r++) {
            if (col->cat[r] < 0)
                f->n_missing++;
            else
                f->level_counts[col->cat[r]]++;
        }
        f->count = t->n_rows - f->n_missing;
    }
    *out = p;
    return CAIRN_OK;
}

void cairn_profile_free(cairn_profile *p)
{
    if (!p)
        return;
    free(p->features);
    cn_arena_free(p->internal_);
    free(p);
}

static void num_array(cn_jsonw *w, const char *key, const double *v, size_t n)
{
    cn_jsonw_key(w, key);
    cn_jsonw_flat(w);
    cn_jsonw_array_begin(w);
    for (size_t i = 0; i < n; i++)
        cn_jsonw_double_or_null(w, v[i]);
    cn_jsonw_array_end(w);
}

static void numeric_json(cn_jsonw *w, const cairn_feature_profile *f)
{
    const struct {
        const char *k;
        double v;
    } stats[] = {{"mean", f->mean}, {"std", f->std}, {"min", f->min}, {"max", f->max}};
    for (size_t s = 0; s < CN_ARRAY_LEN(stats); s++) {
        cn_jsonw_key(w, stats[s].k);
        cn_jsonw_double_or_null(w, stats[s].v);
    }
    num_array(w, "quantiles", f->quantiles, CAIRN_PROFILE_N_QUANTILES);
    cn_jsonw_key(w, "histogram");
    cn_jsonw_object_begin(w);
    num_array(w, "edges", f->bin_edges, CAIRN_PROFILE_N_BINS + 1);
    cn_jsonw_key(w, "counts");
    cn_jsonw_array_begin(w);
    for (int k = 0; k < CAIRN_PROFILE_N_BINS; k++)
        cn_jsonw_int(w, (int64_t)f->bin_counts[k]);
    cn_jsonw_array_end(w);
    cn_jsonw_object_end(w);
}

static void feature_json(cn_jsonw *w, const cairn_feature_profile *f)
{
    cn_jsonw_object_begin(w);
    cn_jsonw_kstring(w, "name", f->name);
    cn_jsonw_kstring(w, "type", f->type == CAIRN_COL_NUMERIC ? "numeric" : "categorical");
    cn_jsonw_kint(w, "count", (int64_t)f->count);
    cn_jsonw_kint(w, "missing", (int64_t)f->n_missing);
    if (f->type == CAIRN_COL_NUMERIC) {
        numeric_json(w, f);
    } else {
        cn_jsonw_key(w, "levels");
        cn_jsonw_array_begin(w);
        for (size_t l = 0; l < f->n_levels; l++) {
            cn_jsonw_object_begin(w);
            cn_jsonw_kstring(w, "value", f->levels[l]);
            cn_jsonw_kint(w, "count", (int64_t)f->level_counts[l]);
            cn_jsonw_object_end(w);
        }
        cn_jsonw_array_end(w);
    }
    cn_jsonw_object_end(w);
}

cairn_status cairn_profile_json(cairn_ctx *ctx, const cairn_profile *p, char **out)
{
    if (!p || !out)
        return cn_fail(ctx, CAIRN_EINVAL, "cairn_profile_json: profile and out are required");
    cn_jsonw w;
    cn_jsonw_init(&w, NULL, 2);
    w.flat_from = 3; /* one line per feature */
    cn_jsonw_object_begin(&w);
    cn_jsonw_kstring(&w, "kind", "cairn.profile");
    cn_jsonw_kint(&w, "version", 1);
    cn_jsonw_kint(&w, "n_rows", (int64_t)p->n_rows);
    num_array(&w, "quantile_levels", cairn_profile_quantile_levels, CAIRN_PROFILE_N_QUANTILES);
    cn_jsonw_key(&w, "features");
    cn_jsonw_array_begin(&w);
    for (size_t i = 0; i < p->n_features; i++)
        feature_json(&w, &p->features[i]);
    cn_jsonw_array_end(&w);
    cn_jsonw_object_end(&w);
    cn_jsonw_finish(&w);
    *out = cn_buf_detach(&w.buf);
    return CAIRN_OK;
}
