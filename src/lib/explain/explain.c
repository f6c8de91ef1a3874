/* SPDX-License-Identifier: MIT */
/* explain.c - cairn explain: permutation importance (sklearn.inspection.permutation_importance's
 * definition), exact TreeSHAP through XGBoost (pred_contribs), partial dependence
 * (sklearn.inspection.partial_dependence, kind='average', method='brute', its grid rule) and
 * the primary metric by slice with a test of each slice against the rest, Holm-corrected.
 * Every score goes through the one scorer (cairn_score_metric). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cairn/eval.h"
#include "cairn/explain.h"
#include "cairn/learn.h"
#include "cairn/tracking.h"
#include "cairn/train.h"
#include "core/core.h"
#include "eval/evalint.h"
#include "explain/explain_internal.h"
#include "learn/model.h"
#include "train/train_internal.h"
#include "base/buf.h"
#include "base/fs.h"
#include "base/jsonw.h"
#include "base/rng.h"
#include "base/str.h"
#include "base/xmalloc.h"
#include "base/banned.h"

#define PD_GRID 20
#define SLICE_BINS 5
#define MAX_REPEATS 1000
#define SHAP_PLOT_FEATURES 12
/* explain.json keeps the permutations and the per-row SHAP values up to this many numbers
 * each (null beyond: the document would be too large to read back) */
#define MAX_JSON_VALUES 4000000u

typedef struct owned {
    char *run_id, *learner, *rows_text;
    char **strings; /* everything else the result points into */
    size_t n_strings;
} owned;

static const char *keep(owned *o, char *s)
{
    o->strings = cn_xrealloc(o->strings, (o->n_strings + 1) * sizeof *o->strings);
    o->strings[o->n_strings++] = s;
    return s;
}

void cairn_explain_result_free(cairn_explain_result *r)
{
    if (!r)
        return;
    owned *o = r->internal_;
    if (o) {
        for (size_t i = 0; i < o->n_strings; i++)
            free(o->strings[i]);
        free(o->strings);
        free(o);
    }
    free(r->importance);
    free(r->shap_features);
    free(r->shap_mean_abs);
    free(r->slices);
    free(r->json);
    free(r->artifacts);
    free(r);
}

static bool metric_maximize(const char *metric)
{
    static const char *const lower[] = {"log_loss", "brier", "mae", "mse", "rmse", "mape"};
    for (size_t i = 0; i < sizeof lower / sizeof lower[0]; i++)
        if (strcmp(metric, lower[i]) == 0)
            return false;
    return true;
}

/* ---- the explained rows and their scores ---- */

typedef struct job {
    cairn_ctx *ctx;
    const cairn_explain_opts *o;
    cairn_model *m;
    cairn_table *t;
    size_t *rows, n;
    const char *metric;
    bool maximize;
    uint64_t seed;
    size_t n_repeats, top, n_boot;
    char *subtitle;
    cn_jsonw w;
} job;

/* The metric of the model on the job's rows of the table as it is now. */
static cairn_status score_rows(job *j, double *out)
{
    cn_scores s;
    cairn_status rc = cn_scores_predict(j->ctx, j->m, j->t, j->rows, j->n, &s);
    if (rc != CAIRN_OK)
        return rc;
    rc = cairn_score_metric(j->ctx, &s.pred, j->metric, out);
    cn_scores_release(&s);
    return rc;
}

/* How much worse the metric got: positive when permuting hurt. */
static double drop(const job *j, double baseline, double permuted)
{
    return j->maximize ? baseline - permuted : permuted - baseline;
}

/* Column values of the job's rows, saved so a permutation can be undone. */
typedef struct saved_col {
    cairn_column *c;
    double *num;
    int32_t *cat;
} saved_col;

static void save_col(const job *j, cairn_column *c, saved_col *s)
{
    s->c = c;
    s->num = NULL;
    s->cat = NULL;
    if (c->type == CAIRN_COL_NUMERIC) {
        s->num = cn_xmalloc(j->n * sizeof *s->num);
        for (size_t i = 0; i < j->n; i++)
            s->num[i] = c->num[j->rows[i]];
    } else {
        s->cat = cn_xmalloc(j->n * sizeof *s->cat);
        for (size_t i = 0; i < j->n; i++)
            s->cat[i] = c->cat[j->rows[i]];
    }
}

/* Row position i gets the saved value of position perm[i] (NULL: its own). */
static void apply_col(const job *j, const saved_col *s, const size_t *perm)
{
    for (size_t i = 0; i < j->n; i++) {
        size_t from = perm ? perm[i] : i;
        if (s->num)
            s->c->num[j->rows[i]] = s->num[from];
        else
            s->c->cat[j->rows[i]] = s->cat[from];
    }
}

static void release_col(saved_col *s)
{
    free(s->num);
    free(s->cat);
}

/* ---- permutation importance ---- */

typedef struct importance {
    size_t feature;
    double mean, std, low, high;
    double *scores; /* n_repeats drops */
    size_t *perms;  /* n_repeats x n */
} importance;

static int cmp_importance(const void *a, const void *b)
{
    const importance *x = a, *y = b;
    if (x->mean != y->mean)
        return x->mean < y->mean ? 1 : -1;
    return x->feature < y->feature ? -1 : x->feature > y->feature;
}

static cairn_status permutation_importance(job *j, double baseline, importance *imp)
{
    size_t nf = cairn_model_n_features(j->m), r = j->n_repeats;
    cn_rng rng;
    cn_rng_seed(&rng, j->seed);
    cairn_status rc = CAIRN_OK;
    for (size_t f = 0; f < nf && rc == CAIRN_OK; f++) {
        importance *it = &imp[f];
        it->feature = f;
        it->scores = cn_xmalloc(r * sizeof *it->scores);
        bool keep_perms = (double)r * (double)j->n * (double)nf <= MAX_JSON_VALUES;
        size_t *work = keep_perms ? NULL : cn_xmalloc(j->n * sizeof *work);
        it->perms = keep_perms ? cn_xmalloc(r * j->n * sizeof *it->perms) : NULL;
        cairn_column *c = &j->t->cols[cairn_table_find(j->t, cairn_model_feature_name(j->m, f))];
        saved_col sc;
        save_col(j, c, &sc);
        for (size_t k = 0; k < r && rc == CAIRN_OK; k++) {
            size_t *perm = keep_perms ? it->perms + k * j->n : work;
            for (size_t i = 0; i < j->n; i++)
                perm[i] = i;
            for (size_t i = j->n; i > 1; i--) { /* Fisher-Yates */
                size_t x = (size_t)cn_rng_below(&rng, i), tmp = perm[i - 1];
                perm[i - 1] = perm[x];
                perm[x] = tmp;
            }
            apply_col(j, &sc, perm);
            double v;
            rc = score_rows(j, &v);
            it->scores[k] = rc == CAIRN_OK ? drop(j, baseline, v) : NAN;
        }
        apply_col(j, &sc, NULL);
        release_col(&sc);
        free(work);
        double sum = 0, ss = 0;
        for (size_t k = 0; k < r; k++)
            sum += it->scores[k];
        it->mean = sum / (double)r;
        for (size_t k = 0; k < r; k++)
            ss += (it->scores[k] - it->mean) * (it->scores[k] - it->mean);
        it->std = sqrt(ss / (double)r);
        if (r > 1) {
            double half = cairn_stats_t_quantile(0.975, (double)(r - 1)) *
                          sqrt(ss / (double)(r - 1)) / sqrt((double)r);
            it->low = it->mean - half;
            it->high = it->mean + half;
        } else {
            it->low = it->high = NAN;
        }
    }
    if (rc != CAIRN_OK)
        cn_errctx(j->ctx, "permutation importance");
    return rc;
}

/* ---- TreeSHAP ---- */

typedef struct shap {
    size_t n_groups;
    double *phi; /* n x groups x (n_features + 1): per model feature (one-hot summed), bias last */
    double *mean_abs; /* n_features: mean over rows and groups of |phi| summed over groups */
    size_t *order;    /* features by mean_abs, largest first */
} shap;

static const double *g_sort_key;
static int cmp_desc_key(const void *a, const void *b)
{
    double x = g_sort_key[*(const size_t *)a], y = g_sort_key[*(const size_t *)b];
    if (x != y)
        return x < y ? 1 : -1;
    return *(const size_t *)a < *(const size_t *)b ? -1 : 1;
}

static void order_by(const double *key, size_t n, size_t *order)
{
    for (size_t i = 0; i < n; i++)
        order[i] = i;
    g_sort_key = key;
    qsort(order, n, sizeof *order, cmp_desc_key);
    g_sort_key = NULL;
}

static cairn_status tree_shap(job *j, shap *sh)
{
    const cairn_model *m = j->m;
    size_t d = m->n_inputs, nf = m->n_features, n = j->n;
    double *x = cn_xmalloc((n * d > 0 ? n * d : 1) * sizeof *x), *raw = NULL;
    cairn_status rc = cn_model_encode(j->ctx, m, j->t, j->rows, n, x);
    if (rc == CAIRN_OK)
        rc = cn_xgb_contribs(j->ctx, cn_model_impl(m), x, n, &raw, &sh->n_groups);
    free(x);
    if (rc != CAIRN_OK)
        return rc;
    size_t g = sh->n_groups;
    sh->phi = cn_xcalloc(n * g * (nf + 1), sizeof *sh->phi);
    sh->mean_abs = cn_xcalloc(nf ? nf : 1, sizeof *sh->mean_abs);
    sh->order = cn_xmalloc((nf ? nf : 1) * sizeof *sh->order);
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < g; k++) {
            const double *src = raw + (i * g + k) * (d + 1);
            double *dst = sh->phi + (i * g + k) * (nf + 1);
            size_t off = 0;
            for (size_t f = 0; f < nf; f++) {
                const cn_feature *ft = &m->features[f];
                size_t span = ft->type == CAIRN_COL_NUMERIC || m->ops->ordinal ? 1 : ft->n_levels;
                for (size_t s = 0; s < span; s++)
                    dst[f] += src[off + s];
                off += span;
                sh->mean_abs[f] += fabs(dst[f]) / (double)n;
            }
            dst[nf] = src[d];
        }
    free(raw);
    order_by(sh->mean_abs, nf, sh->order);
    return CAIRN_OK;
}

static void shap_release(shap *sh)
{
    free(sh->phi);
    free(sh->mean_abs);
    free(sh->order);
}

/* ---- partial dependence ---- */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* scipy.stats.mstats.mquantiles(v, p) with alphap = betap = 0.4 (its defaults), v sorted. */
static double mquantile(const double *v, size_t n, double p)
{
    double m = 0.4 + p * (1.0 - 0.4 - 0.4);
    double aleph = (double)n * p + m;
    double k = floor(fmin(fmax(aleph, 1.0), (double)n - 1.0));
    double gamma = fmin(fmax(aleph - k, 0.0), 1.0);
    size_t ki = (size_t)k;
    return (1.0 - gamma) * v[ki - 1] + gamma * v[ki];
}

typedef struct pd {
    size_t feature;
    size_t n_grid;
    double *grid;        /* numeric values, or level numbers of a categorical feature */
    const char **levels; /* categorical: n_grid level texts (borrowed from the table) */
    int32_t *codes;      /* categorical: the table's codes */
    double *average;     /* n_grid x n_out */
} pd;

/* sklearn's grid (grid_resolution = 20, percentiles = (0.05, 0.95)): the sorted distinct
 * values when fewer than 20, else 20 evenly spaced points between the 5th and 95th
 * mquantiles. Categorical: the levels present. */
static void pd_grid(const job *j, const cairn_column *c, pd *p)
{
    size_t n = j->n;
    if (c->type == CAIRN_COL_CATEGORICAL) {
        bool *seen = cn_xcalloc(c->n_levels + 1, sizeof *seen);
        for (size_t i = 0; i < n; i++) {
            int32_t code = c->cat[j->rows[i]];
            if (code >= 0)
                seen[code] = true;
        }
        p->codes = cn_xmalloc((c->n_levels + 1) * sizeof *p->codes);
        p->levels = cn_xmalloc((c->n_levels + 1) * sizeof *p->levels);
        p->grid = cn_xmalloc((c->n_levels + 1) * sizeof *p->grid);
        for (size_t l = 0; l < c->n_levels; l++)
            if (seen[l]) {
                p->codes[p->n_grid] = (int32_t)l;
                p->levels[p->n_grid] = c->levels[l];
                p->grid[p->n_grid] = (double)p->n_grid;
                p->n_grid++;
            }
        free(seen);
        return;
    }
    double *v = cn_xmalloc(n * sizeof *v);
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (!isnan(c->num[j->rows[i]]))
            v[k++] = c->num[j->rows[i]];
    qsort(v, k, sizeof *v, cmp_double);
    size_t u = 0;
    for (size_t i = 0; i < k; i++)
        if (u == 0 || v[i] != v[u - 1])
            v[u++] = v[i];
    if (u < PD_GRID) {
        p->grid = cn_xmalloc((u ? u : 1) * sizeof *p->grid);
        memcpy(p->grid, v, u * sizeof *v);
        p->n_grid = u;
    } else {
        /* the quantiles are of all values (with repeats), as sklearn takes them */
        for (size_t i = 0, kk = 0; i < n; i++)
            if (!isnan(c->num[j->rows[i]]))
                v[kk++] = c->num[j->rows[i]];
        qsort(v, k, sizeof *v, cmp_double);
        double lo = mquantile(v, k, 0.05), hi = mquantile(v, k, 0.95);
        p->grid = cn_xmalloc(PD_GRID * sizeof *p->grid);
        for (size_t g = 0; g < PD_GRID; g++) /* numpy.linspace */
            p->grid[g] = g == PD_GRID - 1 ? hi : lo + (double)g * ((hi - lo) / (PD_GRID - 1));
        p->n_grid = PD_GRID;
    }
    free(v);
}

/* The mean prediction (a classifier's probabilities, K columns; a regressor's value) with the
 * feature set to each grid value on every row. */
static cairn_status partial_dependence(job *j, pd *p, size_t n_out)
{
    const char *name = cairn_model_feature_name(j->m, p->feature);
    cairn_column *c = &j->t->cols[cairn_table_find(j->t, name)];
    pd_grid(j, c, p);
    p->average = cn_xcalloc((p->n_grid ? p->n_grid : 1) * n_out, sizeof *p->average);
    saved_col sc;
    save_col(j, c, &sc);
    double *out = cn_xmalloc(j->n * n_out * sizeof *out);
    cairn_status rc = CAIRN_OK;
    bool classify = cairn_model_n_classes(j->m) > 0;
    for (size_t g = 0; g < p->n_grid && rc == CAIRN_OK; g++) {
        for (size_t i = 0; i < j->n; i++) {
            if (c->type == CAIRN_COL_NUMERIC)
                c->num[j->rows[i]] = p->grid[g];
            else
                c->cat[j->rows[i]] = p->codes[g];
        }
        rc = classify ? cairn_model_predict_proba(j->ctx, j->m, j->t, j->rows, j->n, out)
                      : cairn_model_predict(j->ctx, j->m, j->t, j->rows, j->n, out);
        for (size_t i = 0; rc == CAIRN_OK && i < j->n; i++)
            for (size_t k = 0; k < n_out; k++)
                p->average[g * n_out + k] += out[i * n_out + k] / (double)j->n;
    }
    apply_col(j, &sc, NULL);
    release_col(&sc);
    free(out);
    if (rc != CAIRN_OK)
        cn_errctx(j->ctx, "partial dependence of '%s'", name);
    return rc;
}

static void pd_release(pd *p)
{
    free(p->grid);
    free(p->levels);
    free(p->codes);
    free(p->average);
}

/* ---- slices ---- */

/* The metric over a subset of the scored rows: idx are positions into pos[]. */
typedef struct subset {
    cairn_ctx *ctx;
    const cn_scores *s;
    const char *metric;
    const size_t *pos; /* positions into s's rows */
    int32_t *yt, *yp;
    double *proba, *tv, *pv;
} subset;

static void subset_init(subset *u, cairn_ctx *ctx, const cn_scores *s, const char *metric)
{
    memset(u, 0, sizeof *u);
    u->ctx = ctx;
    u->s = s;
    u->metric = metric;
    size_t n = s->n ? s->n : 1, k = s->k ? s->k : 1;
    if (s->is_classification) {
        u->yt = cn_xmalloc(n * sizeof *u->yt);
        u->yp = cn_xmalloc(n * sizeof *u->yp);
        u->proba = s->proba ? cn_xmalloc(n * k * sizeof *u->proba) : NULL;
    } else {
        u->tv = cn_xmalloc(n * sizeof *u->tv);
        u->pv = cn_xmalloc(n * sizeof *u->pv);
    }
}

static void subset_release(subset *u)
{
    free(u->yt);
    free(u->yp);
    free(u->proba);
    free(u->tv);
    free(u->pv);
}

static cairn_status subset_metric(cairn_ctx *ctx, const size_t *idx, size_t n, void *user,
                                  double *out)
{
    subset *u = user;
    const cn_scores *s = u->s;
    cairn_predictions p = s->pred;
    p.n = n;
    for (size_t i = 0; i < n; i++) {
        size_t r = u->pos[idx ? idx[i] : i];
        if (s->is_classification) {
            u->yt[i] = s->y_true[r];
            u->yp[i] = s->y_pred[r];
            if (u->proba)
                memcpy(u->proba + i * s->k, s->proba + r * s->k, s->k * sizeof *u->proba);
        } else {
            u->tv[i] = s->t[r];
            u->pv[i] = s->p[r];
        }
    }
    if (s->is_classification) {
        p.y_true = u->yt;
        p.y_pred = u->yp;
        p.proba = u->proba;
    } else {
        p.target = u->tv;
        p.predicted = u->pv;
    }
    return cairn_score_metric(ctx, &p, u->metric, out);
}

typedef struct slice {
    size_t feature;
    char *label;
    size_t *pos, n; /* positions into the job's rows */
    size_t *rest, n_rest;
    double metric, low, high, rest_metric, p, p_holm;
    bool worse;
} slice;

static void slice_add(slice **v, size_t *n, size_t feature, char *label)
{
    *v = cn_xrealloc(*v, (*n + 1) * sizeof **v);
    slice *s = &(*v)[(*n)++];
    memset(s, 0, sizeof *s);
    s->feature = feature;
    s->label = label;
    s->metric = s->low = s->high = s->rest_metric = s->p = s->p_holm = NAN;
}

/* The slices of one feature: its categories, or SLICE_BINS quantile bins (numpy's linear
 * percentiles at 20, 40, 60, 80; equal edges merge; the last bin is closed). */
static void make_slices(const job *j, size_t f, slice **v, size_t *nv)
{
    const char *name = cairn_model_feature_name(j->m, f);
    const cairn_column *c = &j->t->cols[cairn_table_find(j->t, name)];
    size_t n = j->n, first = *nv;
    int32_t *which = cn_xmalloc((n ? n : 1) * sizeof *which);
    size_t n_groups = 0;
    if (c->type == CAIRN_COL_CATEGORICAL) {
        n_groups = c->n_levels + 1;
        for (size_t l = 0; l < c->n_levels; l++)
            slice_add(v, nv, f, cn_xstrdup(c->levels[l]));
        slice_add(v, nv, f, cn_xstrdup("(missing)"));
        for (size_t i = 0; i < n; i++) {
            int32_t code = c->cat[j->rows[i]];
            which[i] = code >= 0 ? code : (int32_t)c->n_levels;
        }
    } else {
        double *sorted = cn_xmalloc((n ? n : 1) * sizeof *sorted);
        size_t k = 0;
        for (size_t i = 0; i < n; i++)
            if (!isnan(c->num[j->rows[i]]))
                sorted[k++] = c->num[j->rows[i]];
        qsort(sorted, k, sizeof *sorted, cmp_double);
        double edges[SLICE_BINS + 1];
        size_t ne = 0;
        for (size_t b = 0; k > 0 && b <= SLICE_BINS; b++) {
            double e = cn_eval_percentile_sorted(sorted, k, 100.0 * (double)b / SLICE_BINS);
            if (ne == 0 || e > edges[ne - 1])
                edges[ne++] = e;
        }
        free(sorted);
        size_t nb = ne > 1 ? ne - 1 : (ne == 1 ? 1 : 0);
        for (size_t b = 0; b < nb; b++) {
            double lo = edges[b], hi = ne > 1 ? edges[b + 1] : edges[0];
            slice_add(v, nv, f, cn_asprintf(b + 1 == nb ? "[%.4g, %.4g]" : "[%.4g, %.4g)", lo, hi));
        }
        slice_add(v, nv, f, cn_xstrdup("(missing)"));
        n_groups = nb + 1;
        for (size_t i = 0; i < n; i++) {
            double x = c->num[j->rows[i]];
            size_t b = nb;
            if (!isnan(x)) {
                for (b = 0; b + 1 < nb && x >= edges[b + 1]; b++)
                    ;
            }
            which[i] = (int32_t)b;
        }
    }
    for (size_t g = 0; g < n_groups; g++) {
        slice *s = &(*v)[first + g];
        s->pos = cn_xmalloc((n ? n : 1) * sizeof *s->pos);
        s->rest = cn_xmalloc((n ? n : 1) * sizeof *s->rest);
        for (size_t i = 0; i < n; i++) {
            if ((size_t)which[i] == g)
                s->pos[s->n++] = i;
            else
                s->rest[s->n_rest++] = i;
        }
    }
    free(which);
    /* drop empty slices */
    size_t out = first;
    for (size_t g = first; g < *nv; g++) {
        if ((*v)[g].n == 0) {
            free((*v)[g].label);
            free((*v)[g].pos);
            free((*v)[g].rest);
            continue;
        }
        (*v)[out++] = (*v)[g];
    }
    *nv = out;
}

/* The slice against the rest: accuracy by the two-proportion z-test (pooled); any other
 * metric by a bootstrap of the difference (slice and rest resampled independently; p is
 * twice the smaller tail of the differences around 0). */
static void test_slice(job *j, const cn_scores *sc, slice *s)
{
    subset a, b;
    subset_init(&a, j->ctx, sc, j->metric);
    subset_init(&b, j->ctx, sc, j->metric);
    a.pos = s->pos;
    b.pos = s->rest;
    double v;
    if (subset_metric(j->ctx, NULL, s->n, &a, &v) == CAIRN_OK)
        s->metric = v;
    if (s->n_rest > 0 && subset_metric(j->ctx, NULL, s->n_rest, &b, &v) == CAIRN_OK)
        s->rest_metric = v;
    if (s->n >= 2) {
        cairn_bootstrap_opts bo = CAIRN_BOOTSTRAP_OPTS_INIT;
        bo.n_resamples = j->n_boot;
        bo.seed = j->seed;
        cairn_interval iv;
        if (cairn_bootstrap_ci(j->ctx, s->n, subset_metric, &a, &bo, &iv) == CAIRN_OK) {
            s->low = iv.low;
            s->high = iv.high;
        }
    }
    if (s->n >= 2 && s->n_rest >= 2 && isfinite(s->metric) && isfinite(s->rest_metric)) {
        if (strcmp(j->metric, "accuracy") == 0) {
            double n1 = (double)s->n, n2 = (double)s->n_rest;
            double pool = (s->metric * n1 + s->rest_metric * n2) / (n1 + n2);
            double se = sqrt(pool * (1 - pool) * (1 / n1 + 1 / n2));
            s->p = se > 0 ? 2 * (1 - cairn_stats_normal_cdf(fabs(s->metric - s->rest_metric) / se))
                          : 1.0;
        } else {
            cn_rng rng;
            cn_rng_seed(&rng, j->seed ^ 0x5eedULL);
            size_t *ia = cn_xmalloc(s->n * sizeof *ia), *ib = cn_xmalloc(s->n_rest * sizeof *ib);
            size_t le = 0, ge = 0, valid = 0;
            for (size_t r = 0; r < j->n_boot; r++) {
                for (size_t i = 0; i < s->n; i++)
                    ia[i] = (size_t)cn_rng_below(&rng, s->n);
                for (size_t i = 0; i < s->n_rest; i++)
                    ib[i] = (size_t)cn_rng_below(&rng, s->n_rest);
                double x, y;
                if (subset_metric(j->ctx, ia, s->n, &a, &x) != CAIRN_OK ||
                    subset_metric(j->ctx, ib, s->n_rest, &b, &y) != CAIRN_OK)
                    continue;
                valid++;
                le += x - y <= 0;
                ge += x - y >= 0;
            }
            free(ia);
            free(ib);
            if (valid > 0)
                s->p = fmin(1.0, 2.0 * (double)(le < ge ? le : ge) / (double)valid);
        }
    }
    subset_release(&a);
    subset_release(&b);
}

static int cmp_p(const void *x, const void *y)
{
    const slice *a = *(slice *const *)x, *b = *(slice *const *)y;
    if (a->p != b->p)
        return a->p < b->p ? -1 : 1;
    return a < b ? -1 : a > b;
}

/* Holm's step-down adjustment over the slices that have a p-value. */
static void holm(slice *v, size_t n, bool maximize)
{
    slice **p = cn_xmalloc((n ? n : 1) * sizeof *p);
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (!isnan(v[i].p))
            p[m++] = &v[i];
    qsort(p, m, sizeof *p, cmp_p);
    double run = 0;
    for (size_t i = 0; i < m; i++) {
        double adj = fmin(1.0, (double)(m - i) * p[i]->p);
        run = fmax(run, adj);
        p[i]->p_holm = run;
        bool lower = p[i]->metric < p[i]->rest_metric;
        p[i]->worse =
            run < 0.05 && (maximize ? lower : !lower && p[i]->metric != p[i]->rest_metric);
    }
    free(p);
}

/* ---- loading the run ---- */

static cairn_status read_index(cairn_ctx *ctx, const char *run_id, const char *artifact,
                               const char *file, size_t n_rows, size_t **rows, size_t *n)
{
    cn_buf text = CN_BUF_INIT;
    cairn_status rc;
    if (file)
        rc = cn_fs_read_file(file, &text, (size_t)1 << 30) == 0
                 ? CAIRN_OK
                 : cn_fail_errno(ctx, CAIRN_EIO, "cannot read index file '%s'", file);
    else
        rc = cn_run_artifact_read(ctx, run_id, artifact, &text);
    if (rc == CAIRN_OK)
        rc = cairn_index_parse(ctx, text.data ? text.data : "", text.len, n_rows, rows, n);
    if (rc != CAIRN_OK && file)
        cn_errctx(ctx, "--rows '%s'", file);
    else if (rc != CAIRN_OK)
        cn_errctx(ctx, "run %s: %s", run_id, artifact);
    cn_buf_release(&text);
    return rc;
}

/* Missing features, named with the fix. */
static cairn_status check_data(cairn_ctx *ctx, const cairn_model *m, const cairn_table *t,
                               const char *path)
{
    for (size_t f = 0; f < cairn_model_n_features(m); f++) {
        const char *name = cairn_model_feature_name(m, f);
        int c = cairn_table_find(t, name);
        bool num = cairn_model_feature_type(m, f) == CAIRN_COL_NUMERIC;
        if (c < 0)
            return cn_fail(ctx, CAIRN_EINVAL,
                           "data '%s' has no column '%s', a %s feature of the model; explain on "
                           "a file with the model's features",
                           path, name, num ? "numeric" : "categorical");
        if (t->cols[c].type != cairn_model_feature_type(m, f))
            return cn_fail(ctx, CAIRN_EINVAL,
                           "data '%s' column '%s' is %s; the model expects a %s feature", path,
                           name, num ? "categorical" : "numeric", num ? "numeric" : "categorical");
    }
    if (cairn_table_find(t, cairn_model_label(m)) < 0)
        return cn_fail(ctx, CAIRN_EINVAL,
                       "data '%s' has no label column '%s'; explain needs labelled rows", path,
                       cairn_model_label(m));
    return CAIRN_OK;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* --data: rows equal (features and label) to a row of the run's sealed test split are refused,
 * found by the row hashes the training-row guardrail uses. When the run's data file is gone
 * or changed, the test rows cannot be read: a warning says so. */
static cairn_status refuse_test_copies(job *j, const char *run_id, const cn_train_record *rec)
{
    cairn_ctx *ctx = j->ctx;
    char sha[65];
    int64_t size;
    if (cairn_file_sha256(ctx, rec->data_path, sha, &size) != CAIRN_OK ||
        strcmp(sha, rec->data_sha256) != 0) {
        cn_log(ctx, CAIRN_LOG_WARN, "explain",
               "run %s's data '%s' is gone or changed: --data rows were not checked against "
               "its sealed test split",
               run_id, rec->data_path);
        return CAIRN_OK;
    }
    cairn_csv_opts co = CAIRN_CSV_OPTS_INIT;
    co.numeric = (const char *const *)rec->numeric;
    co.n_numeric = rec->n_numeric;
    co.categorical = (const char *const *)rec->categorical;
    co.n_categorical = rec->n_categorical;
    cairn_table *orig = NULL;
    size_t *test = NULL, n_test = 0, overlap = 0, first = 0;
    uint64_t *th = NULL, *dh = NULL;
    cairn_status rc = cairn_csv_read(ctx, rec->data_path, &co, &orig);
    if (rc == CAIRN_OK)
        rc = read_index(ctx, run_id, "split/test.idx", NULL, orig->n_rows, &test, &n_test);
    if (rc == CAIRN_OK && n_test > 0) {
        th = cn_xmalloc(n_test * sizeof *th);
        dh = cn_xmalloc(j->n * sizeof *dh);
        rc = cairn_model_row_hashes(ctx, j->m, orig, test, n_test, th);
        if (rc == CAIRN_OK)
            rc = cairn_model_row_hashes(ctx, j->m, j->t, j->rows, j->n, dh);
        if (rc == CAIRN_OK) {
            qsort(th, n_test, sizeof *th, cmp_u64);
            for (size_t i = 0; i < j->n; i++)
                if (bsearch(&dh[i], th, n_test, sizeof *th, cmp_u64) && overlap++ == 0)
                    first = j->rows[i];
        }
    }
    if (rc == CAIRN_OK && overlap > 0)
        rc = cn_fail(ctx, CAIRN_EINVAL,
                     "--data '%s': %zu of its rows (row %zu first) equal rows of run %s's sealed "
                     "test split; explain on validation or other held-out rows",
                     j->o->data, overlap, first, run_id);
    free(th);
    free(dh);
    cairn_free(test);
    cairn_table_free(orig);
    return rc;
}

/* Rows of the run's data file: the validation split, or an index file refused when it touches
 * the sealed test split. */
static cairn_status pick_rows(job *j, const char *run_id, const cn_train_record *rec, owned *ow)
{
    cairn_ctx *ctx = j->ctx;
    const cairn_explain_opts *o = j->o;
    if (o->data) {
        cairn_status rc = cairn_model_read_csv(ctx, j->m, o->data, &j->t);
        if (rc == CAIRN_OK)
            rc = check_data(ctx, j->m, j->t, o->data);
        if (rc != CAIRN_OK)
            return rc;
        if (o->rows) {
            rc = read_index(ctx, run_id, NULL, o->rows, j->t->n_rows, &j->rows, &j->n);
            ow->rows_text = cn_asprintf("rows %s of file %s", o->rows, o->data);
        } else {
            j->n = j->t->n_rows;
            j->rows = cn_xmalloc((j->n ? j->n : 1) * sizeof *j->rows);
            for (size_t i = 0; i < j->n; i++)
                j->rows[i] = i;
            ow->rows_text = cn_asprintf("file %s", o->data);
        }
        if (rc == CAIRN_OK)
            rc = refuse_test_copies(j, run_id, rec);
        return rc;
    }
    char sha[65];
    int64_t size;
    cairn_status rc = cairn_file_sha256(ctx, rec->data_path, sha, &size);
    if (rc != CAIRN_OK) {
        cn_errctx(ctx, "run %s's data", run_id);
        return rc;
    }
    if (strcmp(sha, rec->data_sha256) != 0)
        return cn_fail(ctx, CAIRN_EINVAL,
                       "data '%s' changed since run %s was trained (SHA-256 %.12s..., was "
                       "%.12s...); its split no longer applies: pass --data FILE",
                       rec->data_path, run_id, sha, rec->data_sha256);
    cairn_csv_opts co = CAIRN_CSV_OPTS_INIT;
    co.numeric = (const char *const *)rec->numeric;
    co.n_numeric = rec->n_numeric;
    co.categorical = (const char *const *)rec->categorical;
    co.n_categorical = rec->n_categorical;
    rc = cairn_csv_read(ctx, rec->data_path, &co, &j->t);
    if (rc == CAIRN_OK)
        rc = check_data(ctx, j->m, j->t, rec->data_path);
    if (rc != CAIRN_OK)
        return rc;
    if (!o->rows) {
        rc = read_index(ctx, run_id, "split/val.idx", NULL, j->t->n_rows, &j->rows, &j->n);
        if (rc == CAIRN_OK && j->n == 0)
            return cn_fail(ctx, CAIRN_EINVAL,
                           "run %s has no validation rows (split.val was 0); pass --rows IDX "
                           "with held-out rows or --data FILE",
                           run_id);
        ow->rows_text = cn_xstrdup("validation");
        return rc;
    }
    rc = read_index(ctx, run_id, NULL, o->rows, j->t->n_rows, &j->rows, &j->n);
    size_t *test = NULL, n_test = 0;
    if (rc == CAIRN_OK)
        rc = read_index(ctx, run_id, "split/test.idx", NULL, j->t->n_rows, &test, &n_test);
    size_t overlap = 0, first = 0;
    for (size_t i = 0, k = 0; rc == CAIRN_OK && i < j->n; i++) {
        while (k < n_test && test[k] < j->rows[i])
            k++;
        if (k < n_test && test[k] == j->rows[i] && overlap++ == 0)
            first = j->rows[i];
    }
    cairn_free(test);
    if (rc == CAIRN_OK && overlap > 0)
        return cn_fail(ctx, CAIRN_EINVAL,
                       "--rows '%s': %zu of its rows (row %zu first) are in run %s's sealed test "
                       "split; explain on validation rows (the default) or other held-out rows",
                       o->rows, overlap, first, run_id);
    ow->rows_text = cn_asprintf("index file %s", o->rows);
    return rc;
}

/* ---- the report ---- */

static void write_json(job *j, const char *run_id, cairn_explain_result *r, const importance *imp,
                       const shap *sh, const pd *pds, size_t n_pd, const slice *sl, size_t n_sl,
                       const cn_scores *sc)
{
    cn_jsonw *w = &j->w;
    const cairn_model *m = j->m;
    size_t nf = m->n_features;
    cn_jsonw_init(w, NULL, 1);
    cn_jsonw_object_begin(w);
    cn_jsonw_kstring(w, "run_id", run_id);
    cn_jsonw_kstring(w, "learner", r->learner);
    cn_jsonw_kstring(w, "task", r->task);
    cn_jsonw_kstring(w, "metric", r->metric);
    cn_jsonw_kbool(w, "maximize", r->maximize);
    cn_jsonw_kstring(w, "rows_from", r->rows);
    cn_jsonw_key(w, "rows");
    cn_jsonw_flat(w);
    cn_jsonw_array_begin(w);
    for (size_t i = 0; i < j->n; i++)
        cn_jsonw_int(w, (int64_t)j->rows[i]);
    cn_jsonw_array_end(w);
    cn_jsonw_kuint(w, "seed", j->seed);
    cn_jsonw_kdouble(w, "baseline", r->baseline);
    cn_jsonw_key(w, "permutation_importance");
    cn_jsonw_object_begin(w);
    cn_jsonw_kint(w, "n_repeats", (int64_t)j->n_repeats);
    cn_jsonw_kstring(w, "definition",
                     "drop of the metric (baseline - permuted; permuted - baseline for a loss) "
                     "with the feature's values permuted among the rows; std ddof 0; 95% CI "
                     "mean +- t(0.975, n_repeats - 1) * sd(ddof 1) / sqrt(n_repeats)");
    cn_jsonw_kstring(w, "permutation",
                     "row position i takes the value of position perm[i] (positions into rows)");
    cn_jsonw_key(w, "features");
    cn_jsonw_array_begin(w);
    for (size_t i = 0; i < nf; i++) {
        const importance *it = &imp[i];
        cn_jsonw_object_begin(w);
        cn_jsonw_kstring(w, "feature", cairn_model_feature_name(m, it->feature));
        cn_jsonw_key(w, "mean");
        cn_jsonw_double_or_null(w, it->mean);
        cn_jsonw_key(w, "std");
        cn_jsonw_double_or_null(w, it->std);
        cn_jsonw_key(w, "ci_low");
        cn_jsonw_double_or_null(w, it->low);
        cn_jsonw_key(w, "ci_high");
        cn_jsonw_double_or_null(w, it->high);
        cn_jsonw_key(w, "scores");
        cn_jsonw_flat(w);
        cn_jsonw_array_begin(w);
        for (size_t k = 0; k < j->n_repeats; k++)
            cn_jsonw_double_or_null(w, it->scores[k]);
        cn_jsonw_array_end(w);
        cn_jsonw_key(w, "permutations");
        if (!it->perms) {
            cn_jsonw_null(w);
            cn_jsonw_object_end(w);
            continue;
        }
        cn_jsonw_array_begin(w);
        for (size_t k = 0; k < j->n_repeats; k++) {
            cn_jsonw_flat(w);
            cn_jsonw_array_begin(w);
            for (size_t i2 = 0; i2 < j->n; i2++)
                cn_jsonw_int(w, (int64_t)it->perms[k * j->n + i2]);
            cn_jsonw_array_end(w);
        }
        cn_jsonw_array_end(w);
        cn_jsonw_object_end(w);
    }
    cn_jsonw_array_end(w);
    cn_jsonw_object_end(w);

    cn_jsonw_key(w, "shap");
    if (!sh) {
        cn_jsonw_null(w);
    } else {
        cn_jsonw_object_begin(w);
        cn_jsonw_kstring(w, "method", "exact TreeSHAP (XGBoost pred_contribs), margin units");
        cn_jsonw_kint(w, "n_groups", (int64_t)sh->n_groups);
        cn_jsonw_key(w, "mean_abs");
        cn_jsonw_array_begin(w);
        for (size_t i = 0; i < nf; i++) {
            cn_jsonw_flat(w);
            cn_jsonw_object_begin(w);
            cn_jsonw_kstring(w, "feature", cairn_model_feature_name(m, sh->order[i]));
            cn_jsonw_kdouble(w, "value", sh->mean_abs[sh->order[i]]);
            cn_jsonw_object_end(w);
        }
        cn_jsonw_array_end(w);
        cn_jsonw_key(w, "features");
        cn_jsonw_flat(w);
        cn_jsonw_array_begin(w);
        for (size_t f = 0; f < nf; f++)
            cn_jsonw_string(w, cairn_model_feature_name(m, f));
        cn_jsonw_array_end(w);
        cn_jsonw_key(w, "values"); /* rows x groups x (features + bias) */
        bool all = (double)j->n * (double)sh->n_groups * (double)(nf + 1) <= MAX_JSON_VALUES;
        if (all)
            cn_jsonw_array_begin(w);
        else
            cn_jsonw_null(w);
        for (size_t i = 0; all && i < j->n; i++) {
            cn_jsonw_flat(w);
            cn_jsonw_array_begin(w);
            for (size_t g = 0; g < sh->n_groups; g++) {
                cn_jsonw_array_begin(w);
                for (size_t f = 0; f <= nf; f++)
                    cn_jsonw_double(w, sh->phi[(i * sh->n_groups + g) * (nf + 1) + f]);
                cn_jsonw_array_end(w);
            }
            cn_jsonw_array_end(w);
        }
        if (all)
            cn_jsonw_array_end(w);
        cn_jsonw_object_end(w);
    }

    size_t n_out = m->n_classes ? (m->n_classes == 2 ? 1 : m->n_classes) : 1;
    cn_jsonw_key(w, "partial_dependence");
    cn_jsonw_object_begin(w);
    cn_jsonw_kstring(w, "method",
                     "kind=average, method=brute; grid: sklearn's (grid_resolution 20, "
                     "percentiles 0.05-0.95)");
    cn_jsonw_key(w, "outputs");
    cn_jsonw_flat(w);
    cn_jsonw_array_begin(w);
    for (size_t k = 0; k < n_out; k++) {
        if (!m->n_classes)
            cn_jsonw_string(w, "prediction");
        else
            cn_jsonw_string(w, m->classes[m->n_classes == 2 ? 1 : k]);
    }
    cn_jsonw_array_end(w);
    cn_jsonw_key(w, "features");
    cn_jsonw_array_begin(w);
    for (size_t i = 0; i < n_pd; i++) {
        const pd *p = &pds[i];
        size_t k_all = m->n_classes ? m->n_classes : 1;
        cn_jsonw_object_begin(w);
        cn_jsonw_kstring(w, "feature", cairn_model_feature_name(m, p->feature));
        cn_jsonw_key(w, "grid");
        cn_jsonw_flat(w);
        cn_jsonw_array_begin(w);
        for (size_t g = 0; g < p->n_grid; g++) {
            if (p->levels)
                cn_jsonw_string(w, p->levels[g]);
            else
                cn_jsonw_double(w, p->grid[g]);
        }
        cn_jsonw_array_end(w);
        cn_jsonw_key(w, "average"); /* outputs x grid, as sklearn's pd['average'] */
        cn_jsonw_array_begin(w);
        for (size_t k = 0; k < n_out; k++) {
            size_t col = m->n_classes == 2 ? 1 : k;
            cn_jsonw_flat(w);
            cn_jsonw_array_begin(w);
            for (size_t g = 0; g < p->n_grid; g++)
                cn_jsonw_double(w, p->average[g * k_all + col]);
            cn_jsonw_array_end(w);
        }
        cn_jsonw_array_end(w);
        cn_jsonw_object_end(w);
    }
    cn_jsonw_array_end(w);
    cn_jsonw_object_end(w);

    cn_jsonw_key(w, "slices");
    cn_jsonw_object_begin(w);
    cn_jsonw_kstring(w, "test", r->test);
    cn_jsonw_kint(w, "n_bootstrap", (int64_t)j->n_boot);
    cn_jsonw_key(w, "slices");
    cn_jsonw_array_begin(w);
    for (size_t i = 0; i < n_sl; i++) {
        const slice *s = &sl[i];
        cn_jsonw_flat(w);
        cn_jsonw_object_begin(w);
        cn_jsonw_kstring(w, "feature", cairn_model_feature_name(m, s->feature));
        cn_jsonw_kstring(w, "slice", s->label);
        cn_jsonw_kint(w, "n", (int64_t)s->n);
        cn_jsonw_key(w, "metric");
        cn_jsonw_double_or_null(w, s->metric);
        cn_jsonw_key(w, "ci_low");
        cn_jsonw_double_or_null(w, s->low);
        cn_jsonw_key(w, "ci_high");
        cn_jsonw_double_or_null(w, s->high);
        cn_jsonw_key(w, "rest");
        cn_jsonw_double_or_null(w, s->rest_metric);
        cn_jsonw_key(w, "pvalue");
        cn_jsonw_double_or_null(w, s->p);
        cn_jsonw_key(w, "p_holm");
        cn_jsonw_double_or_null(w, s->p_holm);
        cn_jsonw_kbool(w, "worse", s->worse);
        cn_jsonw_object_end(w);
    }
    cn_jsonw_array_end(w);
    cn_jsonw_object_end(w);
    (void)sc;
    cn_jsonw_object_end(w);
    cn_jsonw_finish(w);
}

/* ---- pictures ---- */

typedef struct picture {
    const char *path;
    char *svg;
} picture;

static void make_pictures(job *j, const importance *imp, const shap *sh, const pd *pds, size_t n_pd,
                          const slice *sl, size_t n_sl, picture *pics, size_t *n_pics)
{
    const cairn_model *m = j->m;
    size_t nf = m->n_features;
    *n_pics = 0;
    cn_explain_interval *items = cn_xcalloc(nf + n_sl + 1, sizeof *items);
    for (size_t i = 0; i < nf; i++) {
        items[i].label = cairn_model_feature_name(m, imp[i].feature);
        items[i].value = imp[i].mean;
        items[i].low = imp[i].low;
        items[i].high = imp[i].high;
    }
    char *xl = cn_asprintf("drop in %s when permuted (mean, 95%% t CI over %zu repeats)", j->metric,
                           j->n_repeats);
    pics[*n_pics].path = "explain/permutation_importance.svg";
    pics[(*n_pics)++].svg =
        cn_explain_plot_intervals("Permutation importance", j->subtitle, xl, items, nf, 0.0);
    free(xl);
    if (sh) {
        size_t k = nf < SHAP_PLOT_FEATURES ? nf : SHAP_PLOT_FEATURES;
        const char **names = cn_xmalloc((k ? k : 1) * sizeof *names);
        double *phi = cn_xmalloc((k * j->n > 0 ? k * j->n : 1) * sizeof *phi);
        double *val = cn_xmalloc((k * j->n > 0 ? k * j->n : 1) * sizeof *val);
        double *proba = NULL;
        size_t g = sh->n_groups;
        if (g > 1) { /* multiclass: each row's predicted class */
            proba = cn_xmalloc(j->n * g * sizeof *proba);
            if (cairn_model_predict_proba(j->ctx, m, j->t, j->rows, j->n, proba) != CAIRN_OK)
                memset(proba, 0, j->n * g * sizeof *proba);
        }
        for (size_t a = 0; a < k; a++) {
            size_t f = sh->order[a];
            names[a] = cairn_model_feature_name(m, f);
            const cairn_column *c = &j->t->cols[cairn_table_find(j->t, names[a])];
            for (size_t i = 0; i < j->n; i++) {
                size_t grp = 0;
                for (size_t q = 1; proba && q < g; q++)
                    if (proba[i * g + q] > proba[i * g + grp])
                        grp = q;
                phi[a * j->n + i] = sh->phi[(i * g + grp) * (nf + 1) + f];
                val[a * j->n + i] = c->type == CAIRN_COL_NUMERIC ? c->num[j->rows[i]]
                                    : c->cat[j->rows[i]] >= 0    ? (double)c->cat[j->rows[i]]
                                                                 : NAN;
            }
        }
        pics[*n_pics].path = "explain/shap_summary.svg";
        pics[(*n_pics)++].svg = cn_explain_plot_shap(j->subtitle, names, k, phi, val, j->n);
        free(names);
        free(phi);
        free(val);
        free(proba);
    }
    if (n_pd > 0) {
        size_t k_all = m->n_classes ? m->n_classes : 1;
        size_t n_out = m->n_classes == 2 ? 1 : k_all;
        const char **names = cn_xmalloc(n_pd * sizeof *names);
        const double **grid = cn_xmalloc(n_pd * sizeof *grid);
        const double **avg = cn_xmalloc(n_pd * sizeof *avg);
        double **own = cn_xmalloc(n_pd * sizeof *own);
        size_t *ng = cn_xmalloc(n_pd * sizeof *ng);
        const char **outs = cn_xmalloc(n_out * sizeof *outs);
        for (size_t k = 0; k < n_out; k++)
            outs[k] = m->n_classes ? m->classes[m->n_classes == 2 ? 1 : k] : "prediction";
        for (size_t i = 0; i < n_pd; i++) {
            names[i] = cairn_model_feature_name(m, pds[i].feature);
            grid[i] = pds[i].grid;
            ng[i] = pds[i].n_grid;
            own[i] = cn_xmalloc((ng[i] * n_out > 0 ? ng[i] * n_out : 1) * sizeof **own);
            for (size_t g = 0; g < ng[i]; g++)
                for (size_t k = 0; k < n_out; k++)
                    own[i][g * n_out + k] = pds[i].average[g * k_all + (m->n_classes == 2 ? 1 : k)];
            avg[i] = own[i];
        }
        char *yl = m->n_classes == 2 ? cn_asprintf("mean probability of class %s", m->classes[1])
                   : m->n_classes    ? cn_xstrdup("mean predicted probability")
                                     : cn_xstrdup("mean prediction");
        pics[*n_pics].path = "explain/partial_dependence.svg";
        pics[(*n_pics)++].svg =
            cn_explain_plot_pd(j->subtitle, yl, names, n_pd, grid, ng, avg, n_out, outs);
        free(yl);
        for (size_t i = 0; i < n_pd; i++)
            free(own[i]);
        free(own);
        free(names);
        free(grid);
        free(avg);
        free(ng);
        free(outs);
    }
    if (n_sl > 0) {
        char **labels = cn_xmalloc(n_sl * sizeof *labels);
        for (size_t i = 0; i < n_sl; i++) {
            labels[i] = cn_asprintf("%s %s (n=%zu)", cairn_model_feature_name(m, sl[i].feature),
                                    sl[i].label, sl[i].n);
            items[i].label = labels[i];
            items[i].value = sl[i].metric;
            items[i].low = sl[i].low;
            items[i].high = sl[i].high;
            items[i].flagged = sl[i].worse;
        }
        char *x2 = cn_asprintf("%s by slice (bootstrap 95%% CI; red: worse than the rest, Holm)",
                               j->metric);
        double overall = NAN;
        (void)score_rows(j, &overall);
        pics[*n_pics].path = "explain/slices.svg";
        pics[(*n_pics)++].svg = cn_explain_plot_intervals("Error analysis by slice", j->subtitle,
                                                          x2, items, n_sl, overall);
        free(x2);
        for (size_t i = 0; i < n_sl; i++)
            free(labels[i]);
        free(labels);
    }
    free(items);
}

/* ---- the whole ---- */

cairn_status cairn_explain(cairn_ctx *ctx, const char *run_id, const cairn_explain_opts *opts,
                           cairn_explain_result **out)
{
    *out = NULL;
    cairn_explain_opts defaults = CAIRN_EXPLAIN_OPTS_INIT;
    const cairn_explain_opts *o = opts ? opts : &defaults;
    job j;
    memset(&j, 0, sizeof j);
    j.ctx = ctx;
    j.o = o;
    cairn_run_record *rr = NULL;
    cn_buf text = CN_BUF_INIT;
    cn_train_record rec;
    bool have_rec = false, have_scores = false;
    char *model_path = NULL;
    importance *imp = NULL;
    shap sh;
    bool have_shap = false;
    pd *pds = NULL;
    size_t n_pd = 0;
    slice *sl = NULL;
    size_t n_sl = 0;
    cn_scores sc;
    picture pics[4];
    size_t n_pics = 0;
    cairn_run *run = NULL;
    cairn_explain_result *r = cn_xcalloc(1, sizeof *r);
    owned *ow = cn_xcalloc(1, sizeof *ow);
    r->internal_ = ow;
    memset(&sh, 0, sizeof sh);
    cairn_status rc;

    if (o->n_repeats > MAX_REPEATS) {
        rc = cn_fail(ctx, CAIRN_EINVAL, "repeats %zu: at most %d permutations per feature",
                     o->n_repeats, MAX_REPEATS);
        goto done;
    }
    rc = cairn_run_get(ctx, run_id, &rr);
    if (rc != CAIRN_OK)
        goto done;
    rc = cairn_run_artifact_path(ctx, run_id, "model/model.cairn", &model_path);
    if (rc != CAIRN_OK || !cn_fs_exists(model_path)) {
        rc = cn_fail(ctx, CAIRN_EINVAL,
                     "run %s has no model artifact model/model.cairn; explain a run made by "
                     "`cairn train`",
                     run_id);
        goto done;
    }
    rc = cn_run_artifact_read(ctx, run_id, "train.json", &text);
    if (rc == CAIRN_OK)
        rc = cn_train_record_parse(ctx, text.data, text.len, &rec);
    if (rc != CAIRN_OK) {
        cn_errctx(ctx, "run %s (explain needs a run made by `cairn train`)", run_id);
        goto done;
    }
    have_rec = true;
    rc = cairn_model_load(ctx, model_path, &j.m);
    if (rc != CAIRN_OK) {
        cn_errctx(ctx, "run %s model", run_id);
        goto done;
    }
    rc = pick_rows(&j, run_id, &rec, ow);
    if (rc != CAIRN_OK)
        goto done;
    if (j.n < 2) {
        rc = cn_fail(ctx, CAIRN_EINVAL, "explain needs at least 2 rows; %zu given", j.n);
        goto done;
    }
    size_t overlap = 0;
    rc = cairn_model_count_train_overlap(ctx, j.m, j.t, j.rows, j.n, &overlap);
    if (rc == CAIRN_OK && overlap > 0)
        rc = cn_fail(ctx, CAIRN_EINVAL,
                     "refusing to explain: %zu of %zu rows were used to train run %s's model; "
                     "explain on held-out rows",
                     overlap, j.n, run_id);
    if (rc != CAIRN_OK)
        goto done;

    j.metric = rec.n_metrics ? rec.metrics[0]
                             : cairn_score_default_metrics(cairn_model_n_classes(j.m)
                                                               ? CAIRN_TASK_CLASSIFICATION
                                                               : CAIRN_TASK_REGRESSION)[0];
    j.maximize = metric_maximize(j.metric);
    j.seed = o->has_seed ? o->seed : rec.seed;
    j.n_repeats = o->n_repeats ? o->n_repeats : 10;
    j.top = o->top ? o->top : 5;
    j.n_boot = o->n_bootstrap ? o->n_bootstrap : 1000;
    const char *split = o->data   ? "explained file rows"
                        : o->rows ? "index-file rows"
                                  : "validation split";
    j.subtitle = cn_plot_subtitle(split, run_id, rr->info.run_name, cairn_model_learner(j.m));

    rc = cn_scores_predict(ctx, j.m, j.t, j.rows, j.n, &sc);
    if (rc != CAIRN_OK)
        goto done;
    have_scores = true;
    rc = cairn_score_metric(ctx, &sc.pred, j.metric, &r->baseline);
    if (rc != CAIRN_OK) {
        cn_errctx(ctx, "metric '%s' on the %zu rows", j.metric, j.n);
        goto done;
    }

    size_t nf = cairn_model_n_features(j.m);
    imp = cn_xcalloc(nf ? nf : 1, sizeof *imp);
    rc = permutation_importance(&j, r->baseline, imp);
    if (rc != CAIRN_OK)
        goto done;
    qsort(imp, nf, sizeof *imp, cmp_importance);

    if (strcmp(cairn_model_learner(j.m), "xgboost") == 0) {
        rc = tree_shap(&j, &sh);
        if (rc != CAIRN_OK)
            goto done;
        have_shap = true;
    }

    n_pd = j.top < nf ? j.top : nf;
    pds = cn_xcalloc(n_pd ? n_pd : 1, sizeof *pds);
    size_t k_all = cairn_model_n_classes(j.m) ? cairn_model_n_classes(j.m) : 1;
    for (size_t i = 0; i < n_pd && rc == CAIRN_OK; i++) {
        pds[i].feature = imp[i].feature;
        rc = partial_dependence(&j, &pds[i], k_all);
    }
    if (rc != CAIRN_OK)
        goto done;

    /* slices: --slices, else the categorical features and the top features */
    bool *by = cn_xcalloc(nf ? nf : 1, sizeof *by);
    if (o->n_slices) {
        for (size_t i = 0; i < o->n_slices; i++) {
            size_t f = 0;
            while (f < nf && strcmp(cairn_model_feature_name(j.m, f), o->slices[i]) != 0)
                f++;
            if (f == nf) {
                free(by);
                rc = cn_fail(ctx, CAIRN_EINVAL,
                             "--slices: '%s' is not a feature of the model; its features: %s%s",
                             o->slices[i], nf ? cairn_model_feature_name(j.m, 0) : "",
                             nf > 1 ? ", ..." : "");
                goto done;
            }
            by[f] = true;
        }
    } else {
        for (size_t f = 0; f < nf; f++)
            by[f] = cairn_model_feature_type(j.m, f) == CAIRN_COL_CATEGORICAL;
        for (size_t i = 0; i < n_pd; i++)
            by[imp[i].feature] = true;
    }
    for (size_t f = 0; f < nf; f++)
        if (by[f])
            make_slices(&j, f, &sl, &n_sl);
    free(by);
    for (size_t i = 0; i < n_sl; i++)
        test_slice(&j, &sc, &sl[i]);
    holm(sl, n_sl, j.maximize);

    /* the result */
    ow->run_id = cn_xstrdup(run_id);
    r->run_id = keep(ow, ow->run_id);
    r->learner = cairn_model_learner(j.m);
    r->learner = keep(ow, cn_xstrdup(r->learner));
    r->task = cairn_model_n_classes(j.m) ? "classification" : "regression";
    r->metric = keep(ow, cn_xstrdup(j.metric));
    r->maximize = j.maximize;
    r->rows = keep(ow, ow->rows_text);
    ow->rows_text = NULL;
    r->n_rows = j.n;
    r->n_repeats = j.n_repeats;
    r->n_features = nf;
    r->importance = cn_xcalloc(nf ? nf : 1, sizeof *r->importance);
    for (size_t i = 0; i < nf; i++) {
        r->importance[i].feature =
            keep(ow, cn_xstrdup(cairn_model_feature_name(j.m, imp[i].feature)));
        r->importance[i].mean = imp[i].mean;
        r->importance[i].std = imp[i].std;
        r->importance[i].ci_low = imp[i].low;
        r->importance[i].ci_high = imp[i].high;
    }
    if (have_shap) {
        r->has_shap = true;
        r->shap_features = cn_xcalloc(nf ? nf : 1, sizeof *r->shap_features);
        r->shap_mean_abs = cn_xcalloc(nf ? nf : 1, sizeof *r->shap_mean_abs);
        for (size_t i = 0; i < nf; i++) {
            r->shap_features[i] = keep(ow, cn_xstrdup(cairn_model_feature_name(j.m, sh.order[i])));
            r->shap_mean_abs[i] = sh.mean_abs[sh.order[i]];
        }
    }
    r->n_pd = n_pd;
    r->test = strcmp(j.metric, "accuracy") == 0
                  ? "two-proportion z-test (pooled) of the slice against the rest; Holm over "
                    "the slices"
                  : "bootstrap of the difference slice - rest (independent resamples), p = "
                    "twice the smaller tail; Holm over the slices";
    r->n_slices = n_sl;
    r->slices = cn_xcalloc(n_sl ? n_sl : 1, sizeof *r->slices);
    for (size_t i = 0; i < n_sl; i++) {
        cairn_explain_slice *s = &r->slices[i];
        s->feature = keep(ow, cn_xstrdup(cairn_model_feature_name(j.m, sl[i].feature)));
        s->slice = keep(ow, cn_xstrdup(sl[i].label));
        s->n = sl[i].n;
        s->metric = sl[i].metric;
        s->ci_low = sl[i].low;
        s->ci_high = sl[i].high;
        s->rest = sl[i].rest_metric;
        s->pvalue = sl[i].p;
        s->p_holm = sl[i].p_holm;
        s->worse = sl[i].worse;
    }
    write_json(&j, run_id, r, imp, have_shap ? &sh : NULL, pds, n_pd, sl, n_sl, &sc);
    r->json = cn_buf_detach(&j.w.buf);

    make_pictures(&j, imp, have_shap ? &sh : NULL, pds, n_pd, sl, n_sl, pics, &n_pics);
    r->artifacts = cn_xcalloc(n_pics + 1, sizeof *r->artifacts);
    if (!o->no_log) {
        rc = cairn_run_attach(ctx, run_id, &run);
        if (rc == CAIRN_OK)
            rc =
                cairn_run_log_artifact_bytes(run, "explain/explain.json", r->json, strlen(r->json));
        if (rc == CAIRN_OK)
            r->artifacts[r->n_artifacts++] = "explain/explain.json";
        for (size_t i = 0; rc == CAIRN_OK && i < n_pics; i++) {
            rc = cairn_run_log_artifact_bytes(run, pics[i].path, pics[i].svg, strlen(pics[i].svg));
            if (rc == CAIRN_OK)
                r->artifacts[r->n_artifacts++] = pics[i].path;
        }
        if (rc == CAIRN_OK)
            rc = cairn_run_flush(run);
        if (rc != CAIRN_OK)
            goto done;
    }
    *out = r;
    r = NULL;
done:
    for (size_t i = 0; i < n_pics; i++)
        free(pics[i].svg);
    cairn_run_free(run);
    for (size_t i = 0; imp && i < cairn_model_n_features(j.m); i++) {
        free(imp[i].scores);
        free(imp[i].perms);
    }
    free(imp);
    if (have_shap)
        shap_release(&sh);
    for (size_t i = 0; i < n_pd; i++)
        pd_release(&pds[i]);
    free(pds);
    for (size_t i = 0; i < n_sl; i++) {
        free(sl[i].label);
        free(sl[i].pos);
        free(sl[i].rest);
    }
    free(sl);
    if (have_scores)
        cn_scores_release(&sc);
    if (have_rec)
        cn_train_record_release(&rec);
    free(ow->rows_text);
    ow->rows_text = NULL;
    cn_jsonw_release(&j.w);
    free(j.subtitle);
    free(j.rows);
    cairn_table_free(j.t);
    cairn_model_free(j.m);
    cairn_free(model_path);
    cn_buf_release(&text);
    cairn_run_record_free(rr);
    cairn_explain_result_free(r);
    return rc;
}
