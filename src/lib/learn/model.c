/* SPDX-License-Identifier: MIT */
/* model.c - cairn_model: label and feature preprocessing fitted on the training rows, class
 * weights and oversampling, calls into a learner's ops, prediction with feature checks, and
 * the model file (magic, version, JSON metadata, payload, trailing SHA-256). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "learn/model.h"
#include "learn/linalg.h"
#include "core/core.h"
#include "base/fs.h"
#include "base/rng.h"
#include "base/sha256.h"
#include "base/str.h"
#include "base/map.h"
#include "base/xmalloc.h"
#include "base/banned.h"

#define MODEL_FILE_MAX ((size_t)1 << 32) /* 4 GiB */

static const char *type_name(cairn_col_type type)
{
    return type == CAIRN_COL_NUMERIC ? "numeric" : "categorical";
}

static void free_strv(char **v, size_t n)
{
    for (size_t i = 0; v && i < n; i++)
        free(v[i]);
    free(v);
}

void cairn_model_free(cairn_model *m)
{
    if (!m)
        return;
    if (m->impl)
        m->ops->free(m->impl);
    free(m->label);
    free_strv(m->classes, m->n_classes);
    for (size_t i = 0; m->features && i < m->n_features; i++) {
        free(m->features[i].name);
        free_strv(m->features[i].levels, m->features[i].n_levels);
    }
    free(m->features);
    free_strv(m->param_keys, m->n_params);
    free_strv(m->param_values, m->n_params);
    free_strv(m->meta_keys, m->n_meta);
    free_strv(m->meta_values, m->n_meta);
    free(m->drift_profile);
    free(m);
}

const cn_learner *cn_model_impl(const cairn_model *m)
{
    return m->impl;
}

/* ---- encoding rows ---- */

/* For each level of a table column, the model's level index, or -1 when unseen. */
static int32_t *level_map(const cn_feature *f, const cairn_column *c)
{
    int32_t *map = cn_xmalloc((c->n_levels ? c->n_levels : 1) * sizeof *map);
    cn_map model_levels = CN_MAP_INIT; /* level text -> first index: O(levels), not O(levels²) */
    for (size_t b = 0; b < f->n_levels; b++)
        cn_map_add(&model_levels, f->levels[b], strlen(f->levels[b]), b, NULL);
    for (size_t a = 0; a < c->n_levels; a++) {
        size_t b;
        map[a] = c->levels[a] && cn_map_get(&model_levels, c->levels[a], strlen(c->levels[a]), &b)
                     ? (int32_t)b
                     : -1;
    }
    cn_map_release(&model_levels);
    return map;
}

/* Encodes rows of t for m into x (n x m->n_inputs). Checks the columns by name and type and
 * refuses missing values unless the learner takes them. */
static cairn_status encode(cairn_ctx *ctx, const cairn_model *m, const cairn_table *t,
                           const size_t *rows, size_t n, double *x)
{
    size_t width = m->n_inputs, off = 0;
    for (size_t f = 0; f < m->n_features; f++) {
        const cn_feature *ft = &m->features[f];
        int ci = cairn_table_find(t, ft->name);
        if (ci < 0)
            return cn_fail(ctx, CAIRN_EINVAL,
                           "model expects feature '%s' (%s); the data has no such column", ft->name,
                           type_name(ft->type));
        const cairn_column *c = &t->cols[ci];
        if (c->type != ft->type)
            return cn_fail(ctx, CAIRN_EINVAL,
                           "model expects feature '%s' (%s); the data's column is %s", ft->name,
                           type_name(ft->type), type_name(c->type));
        if (ft->type == CAIRN_COL_NUMERIC) {
            for (size_t i = 0; i < n; i++) {
                size_t r = rows ? rows[i] : i;
                double v = c->num[r];
                if (isnan(v) && !m->ops->allows_missing)
                    return cn_fail(ctx, CAIRN_EINVAL,
                                   "feature '%s' row %zu is missing; impute or drop it", ft->name,
                                   r);
                x[i * width + off] = (v - ft->mean) / ft->scale;
            }
            off++;
            continue;
        }
        int32_t *map = level_map(ft, c);
        size_t span = m->ops->ordinal ? 1 : ft->n_levels;
        for (size_t i = 0; i < n; i++) {
            size_t r = rows ? rows[i] : i;
            int32_t code = c->cat[r];
            if ((code < 0 || (size_t)code >= c->n_levels) && !m->ops->allows_missing) {
                free(map);
                return cn_fail(ctx, CAIRN_EINVAL,
                               "feature '%s' row %zu is missing; impute or drop it", ft->name, r);
            }
            int32_t level = code >= 0 && (size_t)code < c->n_levels ? map[code] : -1;
            double *xi = x + i * width + off;
            if (m->ops->ordinal) {
                xi[0] = level >= 0 ? (double)level : NAN;
            } else {
                for (size_t l = 0; l < span; l++)
                    xi[l] = 0.0;
                if (level >= 0)
                    xi[level] = 1.0; /* unseen levels stay all-zero */
            }
        }
        free(map);
        off += span;
    }
    return CAIRN_OK;
}

cairn_status cn_model_encode(cairn_ctx *ctx, const cairn_model *m, const cairn_table *t,
                             const size_t *rows, size_t n, double *x)
{
    return encode(ctx, m, t, rows, n, x);
}

void cn_model_numeric_columns(const cairn_model *m, bool *numeric)
{
    size_t off = 0;
    for (size_t f = 0; f < m->n_features; f++) {
        const cn_feature *ft = &m->features[f];
        size_t span = ft->type == CAIRN_COL_NUMERIC || m->ops->ordinal ? 1 : ft->n_levels;
        for (size_t j = 0; j < span && off + j < m->n_inputs; j++)
            numeric[off + j] = ft->type == CAIRN_COL_NUMERIC;
        off += span;
    }
}

/* ---- fitting ---- */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Class index of row r, or -1 when its class is not among m->classes. */
static long class_of(const cairn_model *m, const cairn_column *c, size_t r)
{
    char text[64];
    const char *s;
    if (c->type == CAIRN_COL_NUMERIC) {
        cn_format_double(c->num[r] + 0.0, text, sizeof text); /* -0 is class "0" */
        s = text;
    } else {
        if (c->cat[r] < 0 || (size_t)c->cat[r] >= c->n_levels)
            return -1;
        s = c->levels[c->cat[r]];
    }
    for (size_t k = 0; k < m->n_classes; k++)
        if (strcmp(m->classes[k], s) == 0)
            return (long)k;
    return -1;
}

/* Checks the label on rows and fixes m->classes (classification, sorted as sklearn does). */
static cairn_status fit_label(cairn_ctx *ctx, cairn_model *m, const cairn_column *c,
                              const size_t *rows, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        size_t r = rows[i];
        bool missing = c->type == CAIRN_COL_NUMERIC
                           ? !isfinite(c->num[r])
                           : c->cat[r] < 0 || (size_t)c->cat[r] >= c->n_levels;
        if (missing)
            return cn_fail(ctx, CAIRN_EINVAL, "label '%s' row %zu is missing; drop the row",
                           m->label, r);
        if (m->task == CN_TASK_CLASSIFICATION && c->type == CAIRN_COL_NUMERIC &&
            c->num[r] != floor(c->num[r]))
            return cn_fail(ctx, CAIRN_EINVAL,
                           "label '%s' row %zu is %g: classification needs integer or "
                           "categorical labels",
                           m->label, r, c->num[r]);
    }
    if (m->task == CN_TASK_REGRESSION) {
        if (c->type != CAIRN_COL_NUMERIC)
            return cn_fail(ctx, CAIRN_EINVAL,
                           "label '%s' is categorical; this learner does regression and needs a "
                           "numeric label",
                           m->label);
        return CAIRN_OK;
    }
    if (c->type == CAIRN_COL_NUMERIC) {
        double *v = cn_xmalloc((n ? n : 1) * sizeof *v);
        for (size_t i = 0; i < n; i++)
            v[i] = c->num[rows[i]];
        qsort(v, n, sizeof *v, cmp_double);
        m->classes = cn_xcalloc(n ? n : 1, sizeof *m->classes);
        for (size_t i = 0; i < n; i++) {
            if (i > 0 && v[i] == v[i - 1])
                continue;
            char text[64];
            cn_format_double(v[i] + 0.0, text, sizeof text);
            m->classes[m->n_classes++] = cn_xstrdup(text);
        }
        free(v);
    } else {
        bool *seen = cn_xcalloc(c->n_levels ? c->n_levels : 1, sizeof *seen);
        for (size_t i = 0; i < n; i++)
            seen[c->cat[rows[i]]] = true;
        m->classes = cn_xcalloc(c->n_levels ? c->n_levels : 1, sizeof *m->classes);
        for (size_t l = 0; l < c->n_levels; l++)
            if (seen[l])
                m->classes[m->n_classes++] = cn_xstrdup(c->levels[l]);
        free(seen);
        qsort(m->classes, m->n_classes, sizeof *m->classes, cmp_str);
    }
    if (m->n_classes < 2)
        return cn_fail(ctx, CAIRN_EINVAL,
                       "label '%s' has one class ('%s') in the training rows; a classifier "
                       "needs at least two",
                       m->label, m->n_classes ? m->classes[0] : "");
    return CAIRN_OK;
}

/* Mean and scale of numeric features, levels of categorical ones, on the training rows. */
static cairn_status fit_features(cairn_ctx *ctx, cairn_model *m, const cairn_table *t,
                                 const size_t *rows, size_t n)
{
    for (size_t f = 0; f < m->n_features; f++) {
        cn_feature *ft = &m->features[f];
        const cairn_column *c = &t->cols[cairn_table_find(t, ft->name)];
        ft->type = c->type;
        ft->mean = 0;
        ft->scale = 1;
        if (c->type == CAIRN_COL_NUMERIC) {
            double sum = 0, sq = 0;
            size_t cnt = 0;
            for (size_t i = 0; i < n; i++) {
                double v = c->num[rows[i]];
                if (isnan(v) && !m->ops->allows_missing)
                    return cn_fail(ctx, CAIRN_EINVAL,
                                   "feature '%s' row %zu is missing; impute or drop it", ft->name,
                                   rows[i]);
                if (isinf(v))
                    return cn_fail(ctx, CAIRN_EINVAL, "feature '%s' row %zu is infinite", ft->name,
                                   rows[i]);
                if (!isnan(v)) {
                    sum += v;
                    cnt++;
                }
            }
            if (!m->standardize || cnt == 0)
                continue;
            ft->mean = sum / (double)cnt;
            for (size_t i = 0; i < n; i++) {
                double v = c->num[rows[i]];
                if (!isnan(v))
                    sq += (v - ft->mean) * (v - ft->mean);
            }
            double sd = sqrt(sq / (double)cnt); /* population std, as StandardScaler */
            ft->scale = sd > 0 ? sd : 1.0;
            continue;
        }
        bool *seen = cn_xcalloc(c->n_levels ? c->n_levels : 1, sizeof *seen);
        for (size_t i = 0; i < n; i++) {
            int32_t code = c->cat[rows[i]];
            if (code >= 0 && (size_t)code < c->n_levels)
                seen[code] = true;
            else if (!m->ops->allows_missing) {
                free(seen);
                return cn_fail(ctx, CAIRN_EINVAL,
                               "feature '%s' row %zu is missing; impute or drop it", ft->name,
                               rows[i]);
            }
        }
        ft->levels = cn_xcalloc(c->n_levels ? c->n_levels : 1, sizeof *ft->levels);
        for (size_t l = 0; l < c->n_levels; l++)
            if (seen[l])
                ft->levels[ft->n_levels++] = cn_xstrdup(c->levels[l] ? c->levels[l] : "");
        free(seen);
    }
    return CAIRN_OK;
}

static void hash_value(cn_sha256_stream *hs, const cairn_column *c, size_t r)
{
    if (c->type == CAIRN_COL_NUMERIC) {
        uint64_t u;
        memcpy(&u, &c->num[r], 8);
        cn_sha256_stream_u64(hs, u);
    } else {
        const char *s =
            c->cat[r] >= 0 && (size_t)c->cat[r] < c->n_levels ? c->levels[c->cat[r]] : "";
        cn_sha256_stream_bytes(hs, s, strlen(s) + 1);
    }
}

/* SHA-256 over the names, types and values of the features and label on the training rows. */
static void digest(cairn_model *m, const cairn_table *t, const size_t *rows, size_t n)
{
    cn_sha256_stream *hs = cn_sha256_stream_new();
    const cairn_column *lc = &t->cols[cairn_table_find(t, m->label)];
    const cairn_column **cols = cn_xmalloc((m->n_features ? m->n_features : 1) * sizeof *cols);
    for (size_t f = 0; f < m->n_features; f++) {
        cols[f] = &t->cols[cairn_table_find(t, m->features[f].name)];
        cn_sha256_stream_bytes(hs, m->features[f].name, strlen(m->features[f].name) + 1);
    }
    cn_sha256_stream_bytes(hs, m->label, strlen(m->label) + 1);
    cn_sha256_stream_u64(hs, n);
    for (size_t i = 0; i < n; i++) {
        for (size_t f = 0; f < m->n_features; f++)
            hash_value(hs, cols[f], rows[i]);
        hash_value(hs, lc, rows[i]);
    }
    cn_sha256_stream_final(hs, m->digest);
    free(cols);
}

/* Targets (value or class index) of rows; EINVAL for a class unseen in training. */
static cairn_status targets(cairn_ctx *ctx, const cairn_model *m, const cairn_column *lc,
                            const size_t *rows, size_t n, double *y)
{
    for (size_t i = 0; i < n; i++) {
        if (m->task == CN_TASK_REGRESSION) {
            y[i] = lc->num[rows[i]];
            if (!isfinite(y[i]))
                return cn_fail(ctx, CAIRN_EINVAL, "label '%s' row %zu is missing; drop the row",
                               m->label, rows[i]);
            continue;
        }
        long k = class_of(m, lc, rows[i]);
        if (k < 0)
            return cn_fail(ctx, CAIRN_EINVAL,
                           "label '%s' row %zu: its class is missing or not in the training rows",
                           m->label, rows[i]);
        y[i] = (double)k;
    }
    return CAIRN_OK;
}

static cairn_status check_rows(cairn_ctx *ctx, const cairn_table *t, const size_t *rows, size_t n,
                               const char *what)
{
    for (size_t i = 0; rows && i < n; i++)
        if (rows[i] >= t->n_rows)
            return cn_fail(ctx, CAIRN_EINVAL, "%s row %zu is out of range (the table has %zu)",
                           what, rows[i], t->n_rows);
    return CAIRN_OK;
}

/* Picks the task from the learner, the "task" param, o->task and the label (the one rule of
 * cairn_column_holds_classes). */
static cairn_status pick_task(cairn_ctx *ctx, cairn_model *m, const cn_params *p,
                              const char *opt_task, const cairn_table *t, const cairn_column *lc)
{
    if (m->ops->tasks != (CN_TASK_REGRESSION | CN_TASK_CLASSIFICATION)) {
        m->task = (cn_task)m->ops->tasks;
        return CAIRN_OK;
    }
    static const char *const tasks[] = {"auto", "regression", "classification", NULL};
    int which, given = 0;
    cairn_status rc = cn_param_choice(ctx, p, "task", tasks, 0, &which);
    if (rc != CAIRN_OK)
        return rc;
    if (opt_task && strcmp(opt_task, "auto") != 0) {
        given = strcmp(opt_task, "classification") == 0 ? 2
                : strcmp(opt_task, "regression") == 0   ? 1
                                                        : -1;
        if (given < 0)
            return cn_fail(ctx, CAIRN_EINVAL,
                           "task '%s' is unknown; use classification or regression", opt_task);
        if (which != 0 && which != given)
            return cn_fail(ctx, CAIRN_EINVAL,
                           "param task=%s contradicts the task '%s'; drop one of them",
                           tasks[which], opt_task);
        which = given;
    }
    const char *obj = cn_learner_spec(m->ops, "objective") ? cn_param_get(p, "objective") : NULL;
    if (which == 0 && obj && (cn_str_starts(obj, "binary:") || cn_str_starts(obj, "multi:")))
        which = 2;
    if (which == 0)
        which = cairn_column_holds_classes(lc, t->n_rows, NULL, 0) ? 2 : 1;
    m->task = which == 2 ? CN_TASK_CLASSIFICATION : CN_TASK_REGRESSION;
    return CAIRN_OK;
}

/* Appends random draws from each minority class until every class has the majority's count. */
static size_t *oversample(const cairn_model *m, const double *y, const size_t *rows, size_t n,
                          uint64_t seed, size_t *n_out)
{
    size_t k = m->n_classes, most = 0, total = 0;
    size_t *count = cn_xcalloc(k, sizeof *count);
    for (size_t i = 0; i < n; i++)
        count[(size_t)y[i]]++;
    for (size_t c = 0; c < k; c++)
        most = count[c] > most ? count[c] : most;
    for (size_t c = 0; c < k; c++)
        total += most;
    size_t *out = cn_xmalloc((total ? total : 1) * sizeof *out), len = n;
    size_t *members = cn_xmalloc((n ? n : 1) * sizeof *members);
    memcpy(out, rows, n * sizeof *out);
    cn_rng rng;
    cn_rng_seed(&rng, seed ^ 0x6f76657273616d70ULL); /* "oversamp" */
    for (size_t c = 0; c < k; c++) {
        size_t nm = 0;
        for (size_t i = 0; i < n; i++)
            if ((size_t)y[i] == c)
                members[nm++] = rows[i];
        for (size_t extra = most - count[c]; extra > 0 && nm > 0; extra--)
            out[len++] = members[cn_rng_below(&rng, nm)];
    }
    free(members);
    free(count);
    *n_out = len;
    return out;
}

/* What fit_inner allocates, freed by cairn_model_fit whether or not the fit succeeded.
 * xt: n_train × n_inputs and xv: n_val × n_inputs, row-major. */
typedef struct fit_state {
    size_t *train;      /* training row indices: o->train_rows (or all rows), then oversampled */
    const double *soft; /* soft targets of the training rows, or NULL */
    size_t n_train, n_val;
    double *xt, *yt, *wt, *xv, *yv, *wv;
} fit_state;

/* Checks the params, reads "standardize", the label (its column index in *li) and the task. */
static cairn_status fit_setup(cairn_ctx *ctx, const cairn_table *t, const cairn_fit_opts *o,
                              cairn_model *m, const cn_params *p, int *li)
{
    cairn_status rc = cn_params_check(ctx, m->ops, p);
    if (rc != CAIRN_OK)
        return rc;
    if (m->ops->standardize)
        rc = cn_param_bool(ctx, p, "standardize", true, &m->standardize);
    if (rc != CAIRN_OK)
        return rc;
    if (!o->label)
        return cn_fail(ctx, CAIRN_EINVAL, "no label column given; name the column to predict");
    *li = cairn_table_find(t, o->label);
    if (*li < 0)
        return cn_fail(ctx, CAIRN_EINVAL, "label column '%s' is not in the data", o->label);
    m->label = cn_xstrdup(o->label);
    m->seed = o->seed;
    return pick_task(ctx, m, p, o->task, t, &t->cols[*li]);
}

/* Features: the named ones, or every column but the label (column li). */
static cairn_status pick_features(cairn_ctx *ctx, const cairn_table *t, const cairn_fit_opts *o,
                                  cairn_model *m, int li)
{
    cairn_status rc = CAIRN_OK;
    size_t nf = o->features ? o->n_features : t->n_cols - 1;
    m->features = cn_xcalloc(nf ? nf : 1, sizeof *m->features);
    cn_map seen = CN_MAP_INIT; /* feature names so far: a 100k-column table costs O(n) */
    for (size_t i = 0, j = 0; i < (o->features ? nf : t->n_cols); i++) {
        const char *name = o->features ? o->features[i] : t->cols[i].name;
        if (!o->features && (int)i == li)
            continue;
        if (cairn_table_find(t, name) < 0)
            rc = cn_fail(ctx, CAIRN_EINVAL, "feature '%s' is not in the data", name);
        else if (strcmp(name, o->label) == 0)
            rc = cn_fail(ctx, CAIRN_EINVAL, "feature '%s' is the label; leave it out", name);
        else if (!cn_map_add(&seen, name, strlen(name), j, NULL))
            rc = cn_fail(ctx, CAIRN_EINVAL, "feature '%s' is named twice", name);
        if (rc != CAIRN_OK)
            break;
        m->features[j++].name = cn_xstrdup(name);
        m->n_features = j;
    }
    cn_map_release(&seen);
    if (rc == CAIRN_OK && m->n_features == 0)
        rc = cn_fail(ctx, CAIRN_EINVAL, "no feature columns; the data has only the label");
    return rc;
}

/* The training rows (o->train_rows, or every row of t) into s->train; both row sets checked. */
static cairn_status pick_rows(cairn_ctx *ctx, const cairn_table *t, const cairn_fit_opts *o,
                              fit_state *s)
{
    size_t n_train = o->train_rows ? o->n_train : t->n_rows;
    cairn_status rc = check_rows(ctx, t, o->train_rows, o->n_train, "training");
    if (rc == CAIRN_OK)
        rc = check_rows(ctx, t, o->val_rows, o->n_val, "validation");
    if (rc != CAIRN_OK)
        return rc;
    if (n_train == 0)
        return cn_fail(ctx, CAIRN_EINVAL, "no training rows");
    s->train = cn_xmalloc(n_train * sizeof *s->train);
    for (size_t i = 0; i < n_train; i++)
        s->train[i] = o->train_rows ? o->train_rows[i] : i;
    s->n_train = n_train;
    s->n_val = o->val_rows ? o->n_val : 0;
    return CAIRN_OK;
}

/* Class weights (class_w: n_classes, all 1 unless o->class_weight), computed on the training
 * rows as given, then oversampling, which replaces s->train. */
static cairn_status weigh_classes(cairn_ctx *ctx, const cairn_model *m, const cairn_column *lc,
                                  const cairn_fit_opts *o, fit_state *s, double *class_w)
{
    size_t n_train = s->n_train;
    double *y0 = cn_xmalloc(n_train * sizeof *y0);
    cairn_status rc = targets(ctx, m, lc, s->train, n_train, y0);
    for (size_t k = 0; k < m->n_classes; k++)
        class_w[k] = 1.0;
    if (rc == CAIRN_OK && o->class_weight) {
        size_t *count = cn_xcalloc(m->n_classes, sizeof *count);
        for (size_t i = 0; i < n_train; i++)
            count[(size_t)y0[i]]++;
        for (size_t k = 0; k < m->n_classes; k++)
            class_w[k] = (double)n_train / ((double)m->n_classes * (double)count[k]);
        free(count);
    }
    if (rc == CAIRN_OK && o->oversample) {
        size_t n_over;
        size_t *over = oversample(m, y0, s->train, n_train, o->seed, &n_over);
        free(s->train);
        s->train = over;
        s->n_train = n_over;
    }
    free(y0);
    return rc;
}

/* Encodes the training and validation rows into s: inputs, targets and row weights. */
static cairn_status encode_rows(cairn_ctx *ctx, const cairn_model *m, const cairn_table *t,
                                const cairn_column *lc, const cairn_fit_opts *o, fit_state *s,
                                const double *class_w)
{
    size_t d = m->n_inputs, n_train = s->n_train, n_val = s->n_val;
    s->xt = cn_xmalloc((n_train * d > 0 ? n_train * d : 1) * sizeof *s->xt);
    s->yt = cn_xmalloc(n_train * sizeof *s->yt);
    s->wt = cn_xmalloc(n_train * sizeof *s->wt);
    s->xv = cn_xmalloc((n_val * d > 0 ? n_val * d : 1) * sizeof *s->xv);
    s->yv = cn_xmalloc((n_val ? n_val : 1) * sizeof *s->yv);
    s->wv = cn_xmalloc((n_val ? n_val : 1) * sizeof *s->wv);
    cairn_status rc = encode(ctx, m, t, s->train, n_train, s->xt);
    if (rc == CAIRN_OK)
        rc = targets(ctx, m, lc, s->train, n_train, s->yt);
    if (rc == CAIRN_OK)
        rc = encode(ctx, m, t, o->val_rows, n_val, s->xv);
    if (rc == CAIRN_OK)
        rc = targets(ctx, m, lc, o->val_rows, n_val, s->yv);
    for (size_t i = 0; rc == CAIRN_OK && i < n_train; i++)
        s->wt[i] = m->task == CN_TASK_CLASSIFICATION ? class_w[(size_t)s->yt[i]] : 1.0;
    for (size_t i = 0; rc == CAIRN_OK && i < n_val; i++)
        s->wv[i] = m->task == CN_TASK_CLASSIFICATION ? class_w[(size_t)s->yv[i]] : 1.0;
    return rc;
}

/* Calls the learner's fit on the encoded rows, then keeps a copy of the params in the model. */
static cairn_status run_learner(cairn_ctx *ctx, const cairn_fit_opts *o, const cn_params *p,
                                cairn_model *m, const fit_state *s)
{
    if (s->soft && (o->class_weight || o->oversample || !m->ops->soft_targets))
        return cn_fail(ctx, CAIRN_EINVAL,
                       "soft targets need a learner that takes them (mlp) and no class weights "
                       "or oversampling");
    cn_fit_data data = {
        .soft = s->soft,
        .d = m->n_inputs,
        .task = m->task,
        .n_classes = m->n_classes,
        .train = {s->n_train, s->xt, s->yt, s->wt},
        .val = {s->n_val, s->xv, s->yv, s->wv},
        .seed = o->seed,
        .on_epoch = o->on_epoch,
        .user = o->user,
    };
    cairn_status rc = m->ops->fit(ctx, &data, p, &m->impl);
    if (rc != CAIRN_OK)
        return rc;
    m->n_params = o->n_params;
    m->param_keys = cn_xcalloc(o->n_params ? o->n_params : 1, sizeof(char *));
    m->param_values = cn_xcalloc(o->n_params ? o->n_params : 1, sizeof(char *));
    for (size_t i = 0; i < o->n_params; i++) {
        m->param_keys[i] = cn_xstrdup(o->param_keys[i]);
        m->param_values[i] = cn_xstrdup(o->param_values[i]);
    }
    return CAIRN_OK;
}

static cairn_status fit_inner(cairn_ctx *ctx, const cairn_table *t, const cairn_fit_opts *o,
                              cairn_model *m, fit_state *s)
{
    cn_params p = {o->param_keys, o->param_values, o->n_params, m->ops};
    int li = -1;
    cairn_status rc = fit_setup(ctx, t, o, m, &p, &li);
    if (rc == CAIRN_OK)
        rc = pick_features(ctx, t, o, m, li);
    if (rc == CAIRN_OK)
        rc = pick_rows(ctx, t, o, s);
    if (rc != CAIRN_OK)
        return rc;
    const cairn_column *lc = &t->cols[li];
    rc = fit_label(ctx, m, lc, s->train, s->n_train);
    if (rc == CAIRN_OK)
        rc = fit_features(ctx, m, t, s->train, s->n_train);
    if (rc != CAIRN_OK)
        return rc;
    m->n_inputs = cn_model_width(m);
    digest(m, t, s->train, s->n_train);
    if (m->task == CN_TASK_REGRESSION && (o->class_weight || o->oversample))
        return cn_fail(ctx, CAIRN_EINVAL,
                       "class weights and oversampling need a classification label");
    if (o->class_weight && strcmp(o->class_weight, "balanced") != 0)
        return cn_fail(ctx, CAIRN_EINVAL, "class weight '%s': expected 'balanced'",
                       o->class_weight);
    double cw[4096]; /* most label sets fit: no allocation */
    double *class_w = m->n_classes <= 4096 ? cw : cn_xmalloc(m->n_classes * sizeof *class_w);
    rc = weigh_classes(ctx, m, lc, o, s, class_w);
    if (rc == CAIRN_OK)
        rc = encode_rows(ctx, m, t, lc, o, s, class_w);
    if (class_w != cw)
        free(class_w);
    if (rc != CAIRN_OK)
        return rc;
    return run_learner(ctx, o, &p, m, s);
}

static cairn_status model_fit(cairn_ctx *ctx, const cairn_table *t, const cairn_fit_opts *o,
                              const double *soft, cairn_model **out)
{
    *out = NULL;
    const cn_learner_ops *ops = cn_learner_find(o->learner);
    if (!ops)
        return cn_learner_unknown(ctx, "", o->learner);
    cn_linalg_single_thread(); /* fixed summation order: the same bits under a seed */
    cairn_model *m = cn_xcalloc(1, sizeof *m);
    m->ops = ops;
    fit_state s = {0};
    s.soft = soft;
    cairn_status rc = fit_inner(ctx, t, o, m, &s);
    free(s.train);
    free(s.xt);
    free(s.yt);
    free(s.wt);
    free(s.xv);
    free(s.yv);
    free(s.wv);
    if (rc != CAIRN_OK) {
        cn_errctx(ctx, "learner '%s'", ops->name);
        cairn_model_free(m);
        return rc;
    }
    *out = m;
    return CAIRN_OK;
}

cairn_status cairn_model_fit(cairn_ctx *ctx, const cairn_table *t, const cairn_fit_opts *o,
                             cairn_model **out)
{
    return model_fit(ctx, t, o, NULL, out);
}

cairn_status cn_model_fit_soft(cairn_ctx *ctx, const cairn_table *t, const cairn_fit_opts *o,
                               const double *soft, cairn_model **out)
{
    return model_fit(ctx, t, o, soft, out);
}

/* ---- prediction ---- */

static cairn_status raw_predict(cairn_ctx *ctx, const cairn_model *m, const cairn_table *t,
                                const size_t *rows, size_t n, double *out)
{
    if (!rows && n != t->n_rows)
        return cn_fail(ctx, CAIRN_EINVAL,
                       "predict: %zu rows asked without row indices, but "
                       "the table has %zu",
                       n, t->n_rows);
    cairn_status rc = check_rows(ctx, t, rows, n, "predict");
    if (rc != CAIRN_OK)
        return rc;
    size_t d = m->n_inputs;
    double *x = cn_xmalloc((n * d > 0 ? n * d : 1) * sizeof *x);
    cn_linalg_single_thread();
    rc = encode(ctx, m, t, rows, n, x);
    if (rc == CAIRN_OK && n > 0)
        rc = m->ops->predict(ctx, m->impl, x, n, out);
    free(x);
    return rc;
}

cairn_status cairn_model_predict(cairn_ctx *ctx, const cairn_model *m, const cairn_table *t,
                                 const size_t *rows, size_t n_rows, double *out)
{
    if (m->task == CN_TASK_REGRESSION)
        return raw_predict(ctx, m, t, rows, n_rows, out);
    size_t k = m->n_classes;
    double *proba = cn_xmalloc((n_rows * k > 0 ? n_rows * k : 1) * sizeof *proba);
    cairn_status rc = raw_predict(ctx, m, t, rows, n_rows, proba);
    for (size_t i = 0; rc == CAIRN_OK && i < n_rows; i++) {
        size_t best = 0;
        for (size_t c = 1; c < k; c++)
            if (proba[i * k + c] > proba[i * k + best])
                best = c;
        out[i] = (double)best;
    }
    free(proba);
    return rc;
}

cairn_status cairn_model_predict_proba(cairn_ctx *ctx, const cairn_model *m, const cairn_table *t,
                                       const size_t *rows, size_t n_rows, double *out)
{
    if (m->task != CN_TASK_CLASSIFICATION)
        return cn_fail(ctx, CAIRN_EINVAL,
                       "model predicts '%s' by regression; it has no class probabilities",
                       m->label);
    return raw_predict(ctx, m, t, rows, n_rows, out);
}

/* ---- accessors ---- */

const char *cairn_model_learner(const cairn_model *m)
{
    return m->ops->name;
}
size_t cairn_model_n_classes(const cairn_model *m)
{
    return m->n_classes;
}
bool cairn_model_has_proba(const cairn_model *m)
{
    return m->n_classes > 0 && (!m->ops->has_proba || m->ops->has_proba(m->impl));
}
const char *cairn_model_label(const cairn_model *m)
{
    return m->label;
}
size_t cairn_model_n_features(const cairn_model *m)
{
    return m->n_features;
}
size_t cairn_model_n_params(const cairn_model *m)
{
    return m->n_params;
}
const char *cairn_model_data_digest(const cairn_model *m)
{
    return m->digest;
}

const char *cairn_model_class_label(const cairn_model *m, size_t k)
{
    return k < m->n_classes ? m->classes[k] : NULL;
}

const char *cairn_model_feature_name(const cairn_model *m, size_t i)
{
    return i < m->n_features ? m->features[i].name : NULL;
}

cairn_col_type cairn_model_feature_type(const cairn_model *m, size_t i)
{
    return i < m->n_features ? m->features[i].type : CAIRN_COL_NUMERIC;
}

size_t cairn_model_feature_n_levels(const cairn_model *m, size_t i)
{
    return i < m->n_features && m->features[i].type == CAIRN_COL_CATEGORICAL
               ? m->features[i].n_levels
               : 0;
}

const char *cairn_model_feature_level(const cairn_model *m, size_t i, size_t j)
{
    return j < cairn_model_feature_n_levels(m, i) ? m->features[i].levels[j] : NULL;
}

bool cairn_model_feature_scaling(const cairn_model *m, size_t i, double *mean, double *scale)
{
    if (i >= m->n_features || m->features[i].type != CAIRN_COL_NUMERIC)
        return false;
    *mean = m->features[i].mean;
    *scale = m->features[i].scale;
    return true;
}

bool cairn_model_param(const cairn_model *m, size_t i, const char **key, const char **value)
{
    if (i >= m->n_params)
        return false;
    *key = m->param_keys[i];
    *value = m->param_values[i];
    return true;
}

void cairn_model_set_meta(cairn_model *m, const char *key, const char *value)
{
    for (size_t i = 0; i < m->n_meta; i++) {
        if (strcmp(m->meta_keys[i], key) == 0) {
            free(m->meta_values[i]);
            m->meta_values[i] = cn_xstrdup(value ? value : "");
            return;
        }
    }
    m->meta_keys = cn_xrealloc(m->meta_keys, (m->n_meta + 1) * sizeof(char *));
    m->meta_values = cn_xrealloc(m->meta_values, (m->n_meta + 1) * sizeof(char *));
    m->meta_keys[m->n_meta] = cn_xstrdup(key);
    m->meta_values[m->n_meta] = cn_xstrdup(value ? value : "");
    m->n_meta++;
}

void cairn_model_set_drift_profile(cairn_model *m, const char *json)
{
    free(m->drift_profile);
    m->drift_profile = json ? cn_xstrdup(json) : NULL;
}

const char *cairn_model_drift_profile(const cairn_model *m)
{
    return m->drift_profile;
}

const char *cairn_model_get_meta(const cairn_model *m, const char *key)
{
    for (size_t i = 0; i < m->n_meta; i++)
        if (strcmp(m->meta_keys[i], key) == 0)
            return m->meta_values[i];
    return NULL;
}

cairn_status cairn_model_describe(cairn_ctx *ctx, const cairn_model *m, char **json_out)
{
    (void)ctx;
    *json_out = cn_model_meta_dump(m);
    return CAIRN_OK;
}

/* ---- the file: "CAIRNMDL" | u32 version | u64 n | JSON | u64 n | payload | SHA-256 ---- */

static void put_u32(cn_buf *b, uint32_t v)
{
    unsigned char le[4] = {(unsigned char)v, (unsigned char)(v >> 8), (unsigned char)(v >> 16),
                           (unsigned char)(v >> 24)};
    cn_buf_append(b, le, 4);
}

static void sha256_raw(const void *p, size_t n, unsigned char out[32])
{
    char hex[65];
    cn_sha256_hex(p, n, hex);
    for (int i = 0; i < 32; i++) {
        int hi = hex[2 * i] <= '9' ? hex[2 * i] - '0' : hex[2 * i] - 'a' + 10;
        int lo = hex[2 * i + 1] <= '9' ? hex[2 * i + 1] - '0' : hex[2 * i + 1] - 'a' + 10;
        out[i] = (unsigned char)(hi * 16 + lo);
    }
}

cairn_status cairn_model_save_bytes(cairn_ctx *ctx, const cairn_model *m, void **data, size_t *len)
{
    (void)ctx;
    cn_buf b = CN_BUF_INIT, payload = CN_BUF_INIT;
    char *json = cn_model_meta_dump(m);
    m->ops->save(m->impl, &payload);
    cn_buf_append(&b, CN_MODEL_MAGIC, 8);
    put_u32(&b, CN_MODEL_VERSION);
    cn_put_u64(&b, strlen(json));
    cn_buf_puts(&b, json);
    cn_put_u64(&b, payload.len);
    cn_buf_append(&b, payload.data ? payload.data : "", payload.len);
    unsigned char sum[32];
    sha256_raw(b.data, b.len, sum);
    cn_buf_append(&b, sum, 32);
    free(json);
    cn_buf_release(&payload);
    *len = b.len;
    *data = cn_buf_detach(&b);
    return CAIRN_OK;
}

cairn_status cairn_model_save(cairn_ctx *ctx, const cairn_model *m, const char *path)
{
    void *data;
    size_t len;
    cairn_status rc = cairn_model_save_bytes(ctx, m, &data, &len);
    if (rc != CAIRN_OK)
        return rc;
    if (cn_fs_write_atomic(path, data, len) != 0)
        rc = cn_fail_errno(ctx, CAIRN_EIO, "model file '%s': cannot write", path);
    free(data);
    return rc;
}

cairn_status cairn_model_load_bytes(cairn_ctx *ctx, const void *data, size_t len, cairn_model **out)
{
    const unsigned char *p = data;
    *out = NULL;
    if (len < 8 || memcmp(p, CN_MODEL_MAGIC, 8) != 0)
        return cn_fail(ctx, CAIRN_EINVAL, "not a cairn model file (no CAIRNMDL header)");
    if (len < 8 + 4 + 8 + 8 + 32)
        return cn_fail(ctx, CAIRN_EINVAL, "checksum mismatch — the file is corrupted or truncated");
    unsigned char sum[32];
    sha256_raw(p, len - 32, sum);
    if (memcmp(sum, p + len - 32, 32) != 0)
        return cn_fail(ctx, CAIRN_EINVAL, "checksum mismatch — the file is corrupted or truncated");
    uint32_t version =
        (uint32_t)p[8] | (uint32_t)p[9] << 8 | (uint32_t)p[10] << 16 | (uint32_t)p[11] << 24;
    if (version != CN_MODEL_VERSION)
        return cn_fail(ctx, CAIRN_EINVAL,
                       "format version %u is not supported (this cairn reads version %u)", version,
                       CN_MODEL_VERSION);
    cn_reader r = {p, len - 32, 12, false};
    uint64_t json_len = cn_get_u64(&r);
    if (r.bad || json_len > r.len - r.pos)
        return cn_fail(ctx, CAIRN_EINVAL, "metadata length %llu runs past the end of the file",
                       (unsigned long long)json_len);
    const char *json = (const char *)p + r.pos;
    r.pos += (size_t)json_len;
    uint64_t payload_len = cn_get_u64(&r);
    if (r.bad || payload_len != r.len - r.pos)
        return cn_fail(ctx, CAIRN_EINVAL, "payload length %llu does not match the file size",
                       (unsigned long long)payload_len);
    cairn_model *m = cn_xcalloc(1, sizeof *m);
    cairn_status rc = cn_model_meta_parse(ctx, json, (size_t)json_len, m);
    if (rc == CAIRN_OK)
        rc = m->ops->load(ctx, p + r.pos, (size_t)payload_len, m->n_inputs, m->task, m->n_classes,
                          &m->impl);
    if (rc != CAIRN_OK) {
        cairn_model_free(m);
        return rc;
    }
    *out = m;
    return CAIRN_OK;
}

cairn_status cairn_model_load(cairn_ctx *ctx, const char *path, cairn_model **out)
{
    cn_buf text = CN_BUF_INIT;
    *out = NULL;
    if (cn_fs_read_file(path, &text, MODEL_FILE_MAX) != 0)
        return cn_fail_errno(ctx, CAIRN_EIO, "model file '%s': cannot read", path);
    cairn_status rc = cairn_model_load_bytes(ctx, text.data, text.len, out);
    if (rc != CAIRN_OK)
        cn_errctx(ctx, "model file '%s'", path);
    cn_buf_release(&text);
    return rc;
}

/* ---- coefficients ---- */

cairn_status cairn_model_coefficients(cairn_ctx *ctx, const cairn_model *m,
                                      cairn_coefficients **out)
{
    *out = NULL;
    bool is_linear = m->ops == &cn_linear_ops || m->ops == &cn_ridge_ops;
    if (!is_linear && m->ops != &cn_logistic_ops)
        return cn_fail(ctx, CAIRN_EINVAL,
                       "learner '%s' has no coefficients; linear, ridge and logistic have them "
                       "(see cairn explain for other learners)",
                       m->ops->name);
    size_t d = m->n_inputs;
    cairn_coefficients *c = cn_xcalloc(1, sizeof *c);
    c->n_inputs = d;
    c->names = cn_xcalloc(d ? d : 1, sizeof *c->names);
    c->standardized = m->standardize;
    size_t j = 0;
    for (size_t f = 0; f < m->n_features && j < d; f++) {
        const cn_feature *ft = &m->features[f];
        if (ft->type == CAIRN_COL_NUMERIC || m->ops->ordinal) {
            c->names[j++] = cn_xstrdup(ft->name);
            continue;
        }
        for (size_t l = 0; l < ft->n_levels && j < d; l++)
            c->names[j++] = cn_asprintf("%s=%s", ft->name, ft->levels[l]);
    }
    CN_ASSERT(j == d);
    if (is_linear) {
        double b0;
        const double *w = cn_linear_weights(m->impl, &b0);
        c->n_rows = 1;
        c->coef = cn_xmemdup(w, (d ? d : 1) * sizeof *w);
        c->intercept = cn_xmemdup(&b0, sizeof b0);
    } else {
        const double *w, *b0;
        size_t k_out = cn_logistic_weights(m->impl, &w, &b0);
        c->n_rows = k_out;
        c->coef = cn_xmemdup(w, (k_out * d > 0 ? k_out * d : 1) * sizeof *w);
        c->intercept = cn_xmemdup(b0, k_out * sizeof *b0);
        c->row_classes = cn_xcalloc(k_out, sizeof *c->row_classes);
        for (size_t r = 0; r < k_out; r++)
            c->row_classes[r] = cn_xstrdup(m->classes[k_out == 1 ? 1 : r]);
    }
    *out = c;
    return CAIRN_OK;
}

void cairn_coefficients_free(cairn_coefficients *c)
{
    if (!c)
        return;
    for (size_t j = 0; j < c->n_inputs; j++)
        free((char *)c->names[j]);
    free(c->names);
    for (size_t r = 0; c->row_classes && r < c->n_rows; r++)
        free((char *)c->row_classes[r]);
    free(c->row_classes);
    free(c->coef);
    free(c->intercept);
    free(c);
}

size_t cairn_model_n_meta(const cairn_model *m)
{
    return m->n_meta;
}

bool cairn_model_meta(const cairn_model *m, size_t i, const char **key, const char **value)
{
    if (i >= m->n_meta)
        return false;
    *key = m->meta_keys[i];
    *value = m->meta_values[i];
    return true;
}
