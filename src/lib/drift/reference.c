/* SPDX-License-Identifier: MIT */
/* reference.c - reference profiles: built from the training rows (and a model's predictions
 * on them), written as one line of JSON, parsed back (fuzzed: fuzz/fuzz_drift_profile.c),
 * and stored in model files through cairn_model_set_drift_profile. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "drift/drift_internal.h"
#include "core/core.h"
#include "formats/json.h"
#include "base/jsonw.h"
#include "base/buf.h"
#include "base/map.h"
#include "base/xmalloc.h"
#include "base/banned.h"

#define REF_KIND "cairn.drift.reference"
#define REF_VERSION 1

static void col_release(cn_drift_col *c)
{
    free(c->name);
    free(c->sketch);
    free(c->edges);
    free(c->edge_counts);
    free(c->values);
    free(c->value_counts);
    for (size_t i = 0; c->levels && i < c->n_levels; i++)
        free(c->levels[i]);
    free(c->levels);
    free(c->level_counts);
}

void cairn_drift_reference_free(cairn_drift_reference *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->n_cols; i++)
        col_release(&r->cols[i]);
    free(r->cols);
    free(r);
}

size_t cairn_drift_reference_n_rows(const cairn_drift_reference *r)
{
    return r->n_rows;
}
size_t cairn_drift_reference_n_features(const cairn_drift_reference *r)
{
    return r->n_cols;
}
const char *cairn_drift_reference_feature(const cairn_drift_reference *r, size_t i)
{
    return i < r->n_cols ? r->cols[i].name : NULL;
}
bool cairn_drift_reference_has_prediction(const cairn_drift_reference *r)
{
    return r->n_cols > 0 && r->cols[r->n_cols - 1].is_prediction;
}

/* ---- building ---- */

static void profile_numeric(cn_drift_col *c, const double *v, size_t n_rows, size_t sketch_size,
                            size_t n_bins)
{
    double *s = cn_xmalloc((n_rows ? n_rows : 1) * sizeof *s);
    size_t n = 0;
    for (size_t i = 0; i < n_rows; i++)
        if (isfinite(v[i]))
            s[n++] = v[i];
    c->type = CAIRN_COL_NUMERIC;
    c->n_missing = n_rows - n;
    c->count = n;
    size_t n_sorted;
    double *sorted = cn_drift_sorted_finite(s, n, &n_sorted);
    free(s);
    c->mean = c->std = c->min = c->max = NAN;
    if (n > 0) {
        double sum = 0, ss = 0;
        for (size_t i = 0; i < n; i++)
            sum += sorted[i];
        c->mean = sum / (double)n;
        for (size_t i = 0; i < n; i++)
            ss += (sorted[i] - c->mean) * (sorted[i] - c->mean);
        c->std = sqrt(ss / (double)n);
        c->min = sorted[0];
        c->max = sorted[n - 1];
    }
    /* distinct values, up to DISCRETE_MAX + 1 */
    double *vals = cn_xmalloc((CN_DRIFT_DISCRETE_MAX + 1) * sizeof *vals);
    double *cnts = cn_xcalloc(CN_DRIFT_DISCRETE_MAX + 1, sizeof *cnts);
    size_t nd = 0;
    for (size_t i = 0; i < n && nd <= CN_DRIFT_DISCRETE_MAX; i++) {
        if (nd == 0 || sorted[i] != vals[nd - 1])
            vals[nd++] = sorted[i];
        if (nd <= CN_DRIFT_DISCRETE_MAX)
            cnts[nd - 1]++;
    }
    c->n_distinct = nd;
    if (nd <= CN_DRIFT_DISCRETE_MAX) {
        c->values = vals;
        c->value_counts = cnts;
    } else {
        free(vals);
        free(cnts);
    }
    /* the sketch: min(n, sketch_size) quantiles at i / (m - 1) */
    size_t m = n < sketch_size ? n : sketch_size;
    c->exact = m == n;
    c->n_sketch = m;
    if (c->exact) {
        c->sketch = sorted;
        sorted = NULL;
    } else {
        c->sketch = cn_xmalloc(m * sizeof *c->sketch);
        for (size_t i = 0; i < m; i++)
            c->sketch[i] = cairn_quantile_sorted(sorted, n, (double)i / (double)(m - 1));
    }
    const double *all = sorted ? sorted : c->sketch;
    /* reference-quantile bin edges, deduplicated, and the reference counts */
    if (n > 0) {
        c->edges = cn_xmalloc((n_bins + 1) * sizeof *c->edges);
        for (size_t j = 0; j <= n_bins; j++) {
            double e = cairn_quantile_sorted(all, n, (double)j / (double)n_bins);
            if (c->n_edges == 0 || e > c->edges[c->n_edges - 1])
                c->edges[c->n_edges++] = e;
        }
        size_t nb = c->n_edges > 1 ? c->n_edges - 1 : 0;
        c->edge_counts = cn_xcalloc(nb ? nb : 1, sizeof *c->edge_counts);
        size_t b = 0;
        for (size_t i = 0; i < n && nb > 0; i++) {
            while (b + 1 < nb && all[i] >= c->edges[b + 1])
                b++;
            c->edge_counts[b]++;
        }
    }
    free(sorted);
}

static void profile_categorical(cn_drift_col *c, const int32_t *codes, size_t n_rows,
                                const char *const *levels, size_t n_levels)
{
    c->type = CAIRN_COL_CATEGORICAL;
    c->mean = c->std = c->min = c->max = NAN;
    c->n_levels = n_levels;
    c->levels = cn_xcalloc(n_levels ? n_levels : 1, sizeof *c->levels);
    c->level_counts = cn_xcalloc(n_levels ? n_levels : 1, sizeof *c->level_counts);
    for (size_t l = 0; l < n_levels; l++)
        c->levels[l] = cn_xstrdup(levels[l] ? levels[l] : "");
    for (size_t r = 0; r < n_rows; r++) {
        if (codes[r] < 0 || (size_t)codes[r] >= n_levels)
            c->n_missing++;
        else
            c->level_counts[codes[r]]++;
    }
    c->count = n_rows - c->n_missing;
}

static bool ignored(const cairn_drift_reference_opts *o, const char *name)
{
    for (size_t i = 0; i < o->n_ignore; i++)
        if (o->ignore[i] && strcmp(o->ignore[i], name) == 0)
            return true;
    return false;
}

static void add_column(cairn_drift_reference *r, const cairn_column *col, size_t n_rows)
{
    cn_drift_col *c = &r->cols[r->n_cols++];
    c->name = cn_xstrdup(col->name);
    if (col->type == CAIRN_COL_NUMERIC)
        profile_numeric(c, col->num, n_rows, r->sketch_size, r->n_bins);
    else
        profile_categorical(c, col->cat, n_rows, col->levels, col->n_levels);
}

/* The model's predictions on every row of t as a column: class labels or numbers. */
cairn_status cn_drift_predict_column(cairn_ctx *ctx, const cairn_model *m, const cairn_table *t,
                                     cairn_table **out)
{
    *out = NULL;
    double *pred = cn_xmalloc((t->n_rows ? t->n_rows : 1) * sizeof *pred);
    cairn_status rc = cairn_model_predict(ctx, m, t, NULL, t->n_rows, pred);
    cairn_table *pt = NULL;
    if (rc == CAIRN_OK) {
        pt = cairn_table_new(t->n_rows);
        size_t k = cairn_model_n_classes(m);
        if (k == 0) {
            rc = cairn_table_add_numeric(ctx, pt, CN_DRIFT_PREDICTION, pred);
        } else {
            int32_t *codes = cn_xmalloc((t->n_rows ? t->n_rows : 1) * sizeof *codes);
            const char **levels = cn_xmalloc(k * sizeof *levels);
            for (size_t i = 0; i < k; i++)
                levels[i] = cairn_model_class_label(m, i);
            for (size_t i = 0; i < t->n_rows; i++)
                codes[i] = (int32_t)pred[i];
            rc = cairn_table_add_categorical(ctx, pt, CN_DRIFT_PREDICTION, codes, levels, k);
            free(codes);
            free(levels);
        }
    }
    free(pred);
    if (rc != CAIRN_OK) {
        cairn_table_free(pt);
        cn_errctx(ctx, "predicting for the prediction column");
        return rc;
    }
    *out = pt;
    return CAIRN_OK;
}

/* The rows of t named by rows[0 .. n) as a new table. */
static cairn_status gather(cairn_ctx *ctx, const cairn_table *t, const size_t *rows, size_t n,
                           cairn_table **out)
{
    cairn_table *g = cairn_table_new(n);
    cairn_status rc = CAIRN_OK;
    for (size_t i = 0; i < n; i++)
        if (rows[i] >= t->n_rows) {
            cairn_table_free(g);
            return cn_fail(ctx, CAIRN_EINVAL, "drift reference: row %zu is past the table's end",
                           rows[i]);
        }
    for (size_t c = 0; c < t->n_cols && rc == CAIRN_OK; c++) {
        const cairn_column *col = &t->cols[c];
        if (col->type == CAIRN_COL_NUMERIC) {
            double *v = cn_xmalloc((n ? n : 1) * sizeof *v);
            for (size_t i = 0; i < n; i++)
                v[i] = col->num[rows[i]];
            rc = cairn_table_add_numeric(ctx, g, col->name, v);
            free(v);
        } else {
            int32_t *v = cn_xmalloc((n ? n : 1) * sizeof *v);
            for (size_t i = 0; i < n; i++)
                v[i] = col->cat[rows[i]];
            rc = cairn_table_add_categorical(ctx, g, col->name, v, col->levels, col->n_levels);
            free(v);
        }
    }
    if (rc != CAIRN_OK) {
        cairn_table_free(g);
        return rc;
    }
    *out = g;
    return CAIRN_OK;
}

static cairn_status build(cairn_ctx *ctx, const cairn_table *t,
                          const cairn_drift_reference_opts *opts, cairn_drift_reference **out);

cairn_status cairn_drift_reference_build(cairn_ctx *ctx, const cairn_table *t,
                                         const cairn_drift_reference_opts *opts,
                                         cairn_drift_reference **out)
{
    *out = NULL;
    if (!t || !opts || !opts->rows)
        return build(ctx, t, opts, out);
    cairn_table *g = NULL;
    cairn_status rc = gather(ctx, t, opts->rows, opts->n_rows, &g);
    if (rc == CAIRN_OK)
        rc = build(ctx, g, opts, out);
    cairn_table_free(g);
    return rc;
}

static cairn_status build(cairn_ctx *ctx, const cairn_table *t,
                          const cairn_drift_reference_opts *opts, cairn_drift_reference **out)
{
    static const cairn_drift_reference_opts defaults = CAIRN_DRIFT_REFERENCE_OPTS_INIT;
    const cairn_drift_reference_opts *o = opts ? opts : &defaults;
    *out = NULL;
    if (!t)
        return cn_fail(ctx, CAIRN_EINVAL, "drift reference: no table");
    if (o->sketch_size == 1)
        return cn_fail(ctx, CAIRN_EINVAL, "drift reference: a sketch needs at least 2 values");
    if (o->n_bins > 1000)
        return cn_fail(ctx, CAIRN_EINVAL, "drift reference: %zu bins is too many (at most 1000)",
                       o->n_bins);
    cairn_drift_reference *r = cn_xcalloc(1, sizeof *r);
    r->n_rows = t->n_rows;
    r->sketch_size = o->sketch_size ? o->sketch_size : CAIRN_DRIFT_SKETCH_DEFAULT;
    r->n_bins = o->n_bins ? o->n_bins : 10;
    r->cols = cn_xcalloc(t->n_cols + 2, sizeof *r->cols);
    cairn_status rc = CAIRN_OK;
    if (o->model) {
        for (size_t f = 0; f < cairn_model_n_features(o->model); f++) {
            const char *name = cairn_model_feature_name(o->model, f);
            int ci = cairn_table_find(t, name);
            if (ci < 0) {
                rc = cn_fail(ctx, CAIRN_EINVAL,
                             "drift reference: the model's feature '%s' is not a column of the "
                             "data",
                             name);
                goto done;
            }
            if (t->cols[ci].type != cairn_model_feature_type(o->model, f)) {
                rc = cn_fail(
                    ctx, CAIRN_EINVAL,
                    "drift reference: feature '%s' is %s in the model but %s in the data", name,
                    cairn_model_feature_type(o->model, f) == CAIRN_COL_NUMERIC ? "numeric"
                                                                               : "categorical",
                    t->cols[ci].type == CAIRN_COL_NUMERIC ? "numeric" : "categorical");
                goto done;
            }
            if (!ignored(o, name))
                add_column(r, &t->cols[ci], t->n_rows);
        }
        cairn_table *pt = NULL;
        rc = cn_drift_predict_column(ctx, o->model, t, &pt);
        if (rc != CAIRN_OK)
            goto done;
        add_column(r, &pt->cols[0], pt->n_rows);
        r->cols[r->n_cols - 1].is_prediction = true;
        cairn_table_free(pt);
    } else {
        for (size_t c = 0; c < t->n_cols; c++)
            if (!ignored(o, t->cols[c].name))
                add_column(r, &t->cols[c], t->n_rows);
    }
    if (r->n_cols == 0)
        rc = cn_fail(ctx, CAIRN_EINVAL, "drift reference: no columns to profile");
done:
    if (rc != CAIRN_OK) {
        cairn_drift_reference_free(r);
        return rc;
    }
    *out = r;
    return CAIRN_OK;
}

/* ---- JSON ---- */

static void doubles(cn_jsonw *w, const char *key, const double *v, size_t n)
{
    cn_jsonw_key(w, key);
    cn_jsonw_array_begin(w);
    for (size_t i = 0; i < n; i++)
        cn_jsonw_double(w, v[i]);
    cn_jsonw_array_end(w);
}

static void col_json(cn_jsonw *w, const cn_drift_col *c)
{
    cn_jsonw_object_begin(w);
    cn_jsonw_kstring(w, "name", c->name);
    cn_jsonw_kstring(w, "type", c->type == CAIRN_COL_NUMERIC ? "numeric" : "categorical");
    cn_jsonw_kstring(w, "role", c->is_prediction ? "prediction" : "feature");
    cn_jsonw_kint(w, "count", (int64_t)c->count);
    cn_jsonw_kint(w, "missing", (int64_t)c->n_missing);
    if (c->type == CAIRN_COL_NUMERIC) {
        if (c->count > 0) {
            cn_jsonw_kdouble(w, "mean", c->mean);
            cn_jsonw_kdouble(w, "std", c->std);
        }
        cn_jsonw_kbool(w, "exact", c->exact);
        doubles(w, "sketch", c->sketch, c->n_sketch);
        doubles(w, "edges", c->edges, c->n_edges);
        doubles(w, "edge_counts", c->edge_counts, c->n_edges > 1 ? c->n_edges - 1 : 0);
        if (c->values) {
            doubles(w, "values", c->values, c->n_distinct);
            doubles(w, "value_counts", c->value_counts, c->n_distinct);
        }
    } else {
        cn_jsonw_key(w, "levels");
        cn_jsonw_strings(w, (const char *const *)c->levels, c->n_levels);
        doubles(w, "level_counts", c->level_counts, c->n_levels);
    }
    cn_jsonw_object_end(w);
}

cairn_status cairn_drift_reference_json(cairn_ctx *ctx, const cairn_drift_reference *r, char **out)
{
    if (!r || !out)
        return cn_fail(ctx, CAIRN_EINVAL, "cairn_drift_reference_json: reference and out needed");
    cn_jsonw w;
    cn_jsonw_init(&w, NULL, 0);
    cn_jsonw_object_begin(&w);
    cn_jsonw_kstring(&w, "kind", REF_KIND);
    cn_jsonw_kint(&w, "version", REF_VERSION);
    cn_jsonw_kint(&w, "n_rows", (int64_t)r->n_rows);
    cn_jsonw_kint(&w, "bins", (int64_t)r->n_bins);
    cn_jsonw_key(&w, "features");
    cn_jsonw_array_begin(&w);
    for (size_t i = 0; i < r->n_cols; i++)
        col_json(&w, &r->cols[i]);
    cn_jsonw_array_end(&w);
    cn_jsonw_object_end(&w);
    cn_jsonw_finish(&w);
    *out = cn_buf_detach(&w.buf);
    return CAIRN_OK;
}

/* ---- parsing ---- */

static cairn_status bad(cairn_ctx *ctx, const char *name, const char *what)
{
    if (name)
        return cn_fail(ctx, CAIRN_EINVAL, "drift reference: feature '%s': %s", name, what);
    return cn_fail(ctx, CAIRN_EINVAL, "drift reference: %s", what);
}

static bool get_count(const cn_json *o, const char *key, size_t *out)
{
    int64_t v;
    if (!cn_json_member_int64(o, key, &v) || v < 0 || v > (int64_t)1 << 52)
        return false;
    *out = (size_t)v;
    return true;
}

/* A finite number array of at most max entries (ascending when asked, strictly when strict);
 * counts must be whole and >= 0. */
static bool get_doubles(const cn_json *o, const char *key, size_t max, int order, bool counts,
                        double **out, size_t *n)
{
    const cn_json *a = cn_json_object_get(o, key);
    if (cn_json_typeof(a) != CN_JSON_ARRAY || cn_json_array_size(a) > max)
        return false;
    size_t k = cn_json_array_size(a);
    double *v = cn_xmalloc((k ? k : 1) * sizeof *v);
    for (size_t i = 0; i < k; i++) {
        const cn_json *e = cn_json_array_get(a, i);
        cn_json_type t = cn_json_typeof(e);
        double x = t == CN_JSON_INT || t == CN_JSON_REAL ? cn_json_number(e) : NAN;
        bool ok = isfinite(x) && (!counts || (x >= 0 && x == floor(x) && x <= 4503599627370496.0));
        if (ok && i > 0 && order == 1 && !(x >= v[i - 1]))
            ok = false;
        if (ok && i > 0 && order == 2 && !(x > v[i - 1]))
            ok = false;
        if (!ok) {
            free(v);
            return false;
        }
        v[i] = x;
    }
    *out = v;
    *n = k;
    return true;
}

static double sum(const double *v, size_t n)
{
    double s = 0;
    for (size_t i = 0; i < n; i++)
        s += v[i];
    return s;
}

static cairn_status parse_numeric(cairn_ctx *ctx, const cn_json *o, cn_drift_col *c)
{
    size_t n_counts = 0, n_vc = 0;
    const cn_json *exact = cn_json_object_get(o, "exact");
    if (cn_json_typeof(exact) != CN_JSON_BOOL)
        return bad(ctx, c->name, "'exact' is not a boolean");
    c->exact = cn_json_bool(exact);
    if (!get_doubles(o, "sketch", CN_DRIFT_MAX_SKETCH, 1, false, &c->sketch, &c->n_sketch))
        return bad(ctx, c->name, "'sketch' is not an ascending array of numbers");
    if ((c->n_sketch == 0) != (c->count == 0) || c->n_sketch > c->count ||
        (c->exact && c->n_sketch != c->count) || (!c->exact && c->n_sketch < 2 && c->count > 0))
        return bad(ctx, c->name, "'sketch' does not fit 'count' and 'exact'");
    if (!get_doubles(o, "edges", 100001, 2, false, &c->edges, &c->n_edges))
        return bad(ctx, c->name, "'edges' is not a strictly ascending array of numbers");
    if (!get_doubles(o, "edge_counts", 100000, 0, true, &c->edge_counts, &n_counts) ||
        n_counts != (c->n_edges > 1 ? c->n_edges - 1 : 0) ||
        (c->count > 0 && c->n_edges < 2 && !cn_json_object_get(o, "values")) ||
        sum(c->edge_counts, n_counts) > (double)c->count)
        return bad(ctx, c->name, "'edge_counts' does not match 'edges' and 'count'");
    if (c->count > 0) {
        if (!cn_json_member_double(o, "mean", &c->mean) || !isfinite(c->mean) ||
            !cn_json_member_double(o, "std", &c->std) || !(c->std >= 0) || !isfinite(c->std))
            return bad(ctx, c->name, "'mean' or 'std' is missing or not a finite number");
        c->min = c->sketch[0];
        c->max = c->sketch[c->n_sketch - 1];
    } else {
        c->mean = c->std = c->min = c->max = NAN;
    }
    c->n_distinct = CN_DRIFT_DISCRETE_MAX + 1;
    if (cn_json_object_get(o, "values")) {
        if (!get_doubles(o, "values", CN_DRIFT_DISCRETE_MAX, 2, false, &c->values,
                         &c->n_distinct) ||
            !get_doubles(o, "value_counts", CN_DRIFT_DISCRETE_MAX, 0, true, &c->value_counts,
                         &n_vc) ||
            n_vc != c->n_distinct || sum(c->value_counts, n_vc) != (double)c->count)
            return bad(ctx, c->name, "'values' and 'value_counts' do not match 'count'");
    }
    return CAIRN_OK;
}

static cairn_status parse_categorical(cairn_ctx *ctx, const cn_json *o, cn_drift_col *c)
{
    const cn_json *levels = cn_json_object_get(o, "levels");
    if (cn_json_typeof(levels) != CN_JSON_ARRAY || cn_json_array_size(levels) > 10000000)
        return bad(ctx, c->name, "'levels' is not an array");
    size_t k = cn_json_array_size(levels), nc = 0;
    c->levels = cn_xcalloc(k ? k : 1, sizeof *c->levels);
    cn_map seen = CN_MAP_INIT;
    cairn_status rc = CAIRN_OK;
    for (size_t i = 0; i < k; i++) {
        const char *s = cn_json_string(cn_json_array_get(levels, i));
        if (!s) {
            rc = bad(ctx, c->name, "a level is not a string");
            break;
        }
        if (!cn_map_add(&seen, s, strlen(s), i, NULL)) {
            rc = bad(ctx, c->name, "a level appears twice");
            break;
        }
        c->levels[i] = cn_xstrdup(s);
        c->n_levels = i + 1;
    }
    cn_map_release(&seen);
    if (rc != CAIRN_OK)
        return rc;
    if (!get_doubles(o, "level_counts", k, 0, true, &c->level_counts, &nc) || nc != k ||
        sum(c->level_counts, nc) != (double)c->count)
        return bad(ctx, c->name, "'level_counts' does not match 'levels' and 'count'");
    return CAIRN_OK;
}

static cairn_status parse_col(cairn_ctx *ctx, const cn_json *o, cn_drift_col *c, size_t n_rows)
{
    const char *name = cn_json_member_str(o, "name");
    const char *type = cn_json_member_str(o, "type");
    const char *role = cn_json_member_str(o, "role");
    if (!name || !type || !role)
        return bad(ctx, NULL, "a feature lacks 'name', 'type' or 'role'");
    c->name = cn_xstrdup(name);
    if (strcmp(role, "prediction") == 0)
        c->is_prediction = true;
    else if (strcmp(role, "feature") != 0)
        return bad(ctx, name, "'role' is neither \"feature\" nor \"prediction\"");
    if (!get_count(o, "count", &c->count) || !get_count(o, "missing", &c->n_missing) ||
        c->count + c->n_missing != n_rows)
        return bad(ctx, name, "'count' and 'missing' do not add up to 'n_rows'");
    if (strcmp(type, "numeric") == 0) {
        c->type = CAIRN_COL_NUMERIC;
        return parse_numeric(ctx, o, c);
    }
    if (strcmp(type, "categorical") == 0) {
        c->type = CAIRN_COL_CATEGORICAL;
        c->mean = c->std = c->min = c->max = NAN;
        return parse_categorical(ctx, o, c);
    }
    return bad(ctx, name, "'type' is neither \"numeric\" nor \"categorical\"");
}

static cairn_status parse_root(cairn_ctx *ctx, const cn_json *root, cairn_drift_reference *r)
{
    const char *kind = cn_json_member_str(root, "kind");
    int64_t version = 0;
    if (!kind || strcmp(kind, REF_KIND) != 0)
        return bad(ctx, NULL, "'kind' is not \"" REF_KIND "\"");
    if (!cn_json_member_int64(root, "version", &version) || version != REF_VERSION)
        return bad(ctx, NULL, "'version' is not 1 (made by a newer cairn?)");
    if (!get_count(root, "n_rows", &r->n_rows) || !get_count(root, "bins", &r->n_bins) ||
        r->n_bins == 0 || r->n_bins > 100000)
        return bad(ctx, NULL, "'n_rows' or 'bins' is not a valid count");
    const cn_json *features = cn_json_object_get(root, "features");
    size_t nf = cn_json_array_size(features);
    if (cn_json_typeof(features) != CN_JSON_ARRAY || nf == 0 || nf > CN_DRIFT_MAX_FEATURES)
        return bad(ctx, NULL, "'features' is not a non-empty array");
    r->cols = cn_xcalloc(nf, sizeof *r->cols);
    cn_map names = CN_MAP_INIT;
    cairn_status rc = CAIRN_OK;
    for (size_t i = 0; i < nf && rc == CAIRN_OK; i++) {
        const cn_json *o = cn_json_array_get(features, i);
        if (cn_json_typeof(o) != CN_JSON_OBJECT) {
            rc = bad(ctx, NULL, "a feature is not an object");
            break;
        }
        r->n_cols = i + 1;
        rc = parse_col(ctx, o, &r->cols[i], r->n_rows);
        if (rc == CAIRN_OK &&
            !cn_map_add(&names, r->cols[i].name, strlen(r->cols[i].name), i, NULL))
            rc = bad(ctx, r->cols[i].name, "the name appears twice");
        if (rc == CAIRN_OK && r->cols[i].is_prediction && i != nf - 1)
            rc = bad(ctx, r->cols[i].name, "the prediction column must come last");
    }
    cn_map_release(&names);
    return rc;
}

cairn_status cairn_drift_reference_parse(cairn_ctx *ctx, const char *text, size_t len,
                                         cairn_drift_reference **out)
{
    *out = NULL;
    cn_json *root = NULL;
    cairn_status rc = cn_json_parse_strict(ctx, "drift reference", text, len, &root);
    if (rc != CAIRN_OK)
        return rc;
    cairn_drift_reference *r = cn_xcalloc(1, sizeof *r);
    rc = cn_json_typeof(root) == CN_JSON_OBJECT ? parse_root(ctx, root, r)
                                                : bad(ctx, NULL, "not a JSON object");
    cn_json_free(root);
    if (rc != CAIRN_OK) {
        cairn_drift_reference_free(r);
        return rc;
    }
    r->sketch_size = CAIRN_DRIFT_SKETCH_DEFAULT;
    *out = r;
    return CAIRN_OK;
}

cairn_status cairn_drift_reference_from_model(cairn_ctx *ctx, const cairn_model *m,
                                              cairn_drift_reference **out)
{
    *out = NULL;
    const char *text = cairn_model_drift_profile(m);
    if (!text)
        return cn_fail(ctx, CAIRN_ENOTFOUND,
                       "the model has no drift reference profile; make one with 'cairn drift "
                       "reference --model M --data TRAIN.csv --write'");
    return cairn_drift_reference_parse(ctx, text, strlen(text), out);
}

cairn_status cairn_drift_reference_attach(cairn_ctx *ctx, cairn_model *m,
                                          const cairn_drift_reference *r)
{
    char *text = NULL;
    cairn_status rc = cairn_drift_reference_json(ctx, r, &text);
    if (rc == CAIRN_OK)
        cairn_model_set_drift_profile(m, text);
    free(text);
    return rc;
}
