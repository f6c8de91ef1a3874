/* SPDX-License-Identifier: MIT */
/* score.c - the one scorer (cairn_score): the table of metrics by name over the functions of
 * metrics.c, bootstrap intervals, per-class counts. Called by `cairn eval metrics`, by
 * train/score.c for `cairn train` and `cairn eval model|final`, and by any model server. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "eval/evalint.h"
#include "core/core.h"
#include "base/buf.h"
#include "base/str.h"
#include "base/xmalloc.h"
#include "base/banned.h"

#define CONFIDENCE 0.95

/* Rows being scored: a resample of the predictions copied into scratch arrays. */
typedef struct sample {
    const cairn_predictions *p;
    size_t n;         /* rows in this sample */
    int32_t *yt, *yp; /* classification labels */
    double *x, *y;    /* probabilities (n x K); regression target and predicted */
} sample;

typedef cairn_status (*metric_fn)(cairn_ctx *ctx, sample *s, double *out);

enum {
    M_PROBA = 1,      /* needs probabilities */
    M_BINARY = 2,     /* in the full list only with two classes */
    M_MULTI = 4,      /* in the full list only with more than two classes */
    M_HEADLINE = 8,   /* gets an interval under headline_only_ci */
    M_ON_REQUEST = 16 /* left out of the full list: it repeats another metric */
};

typedef struct metric_def {
    const char *name;
    cairn_task task;
    unsigned flags;
    metric_fn fn;
} metric_def;

#define YT s->yt, s->yp, s->n
#define K s->p->n_classes

static cairn_status m_accuracy(cairn_ctx *ctx, sample *s, double *out)
{
    return cairn_eval_accuracy(ctx, YT, out);
}

static cairn_status m_balanced(cairn_ctx *ctx, sample *s, double *out)
{
    return cairn_eval_balanced_accuracy(ctx, YT, K, out);
}

static cairn_status m_precision_macro(cairn_ctx *ctx, sample *s, double *out)
{
    return cairn_eval_prf(ctx, YT, K, CAIRN_AVERAGE_MACRO, out, NULL, NULL);
}

static cairn_status m_recall_macro(cairn_ctx *ctx, sample *s, double *out)
{
    return cairn_eval_prf(ctx, YT, K, CAIRN_AVERAGE_MACRO, NULL, out, NULL);
}

static cairn_status m_f1_macro(cairn_ctx *ctx, sample *s, double *out)
{
    return cairn_eval_prf(ctx, YT, K, CAIRN_AVERAGE_MACRO, NULL, NULL, out);
}

static cairn_status m_f1_weighted(cairn_ctx *ctx, sample *s, double *out)
{
    return cairn_eval_prf(ctx, YT, K, CAIRN_AVERAGE_WEIGHTED, NULL, NULL, out);
}

static cairn_status m_f1_micro(cairn_ctx *ctx, sample *s, double *out)
{
    return cairn_eval_prf(ctx, YT, K, CAIRN_AVERAGE_MICRO, NULL, NULL, out);
}

static cairn_status m_mcc(cairn_ctx *ctx, sample *s, double *out)
{
    return cairn_eval_mcc(ctx, YT, K, out);
}

static cairn_status m_kappa(cairn_ctx *ctx, sample *s, double *out)
{
    return cairn_eval_cohen_kappa(ctx, YT, K, out);
}

static cairn_status m_roc_auc_ovr(cairn_ctx *ctx, sample *s, double *out)
{
    return cairn_eval_roc_auc(ctx, s->yt, s->x, s->n, K, CAIRN_MULTICLASS_OVR, CAIRN_AVERAGE_MACRO,
                              out);
}

static cairn_status m_roc_auc_ovo(cairn_ctx *ctx, sample *s, double *out)
{
    return cairn_eval_roc_auc(ctx, s->yt, s->x, s->n, K, CAIRN_MULTICLASS_OVO, CAIRN_AVERAGE_MACRO,
                              out);
}

/* Moves the positive class's column (column 1 of two) to the front of s->x, in place. */
static cairn_status positive_column(cairn_ctx *ctx, sample *s, const char *name)
{
    if (K != 2)
        return cn_fail(ctx, CAIRN_EINVAL, "%s needs two classes, not %zu", name, K);
    for (size_t i = 0; i < s->n; i++)
        s->x[i] = s->x[2 * i + 1];
    return CAIRN_OK;
}

static cairn_status m_average_precision(cairn_ctx *ctx, sample *s, double *out)
{
    cairn_status rc = positive_column(ctx, s, "average_precision");
    return rc == CAIRN_OK ? cairn_eval_average_precision(ctx, s->yt, s->x, s->n, out) : rc;
}

static cairn_status m_log_loss(cairn_ctx *ctx, sample *s, double *out)
{
    return cairn_eval_log_loss(ctx, s->yt, s->x, s->n, K, 0, out);
}

/* Binary Brier score with two classes, the multiclass one otherwise. */
static cairn_status m_brier(cairn_ctx *ctx, sample *s, double *out)
{
    if (K != 2)
        return cairn_eval_brier_multiclass(ctx, s->yt, s->x, s->n, K, out);
    (void)positive_column(ctx, s, "brier");
    return cairn_eval_brier_binary(ctx, s->yt, s->x, s->n, out);
}

static cairn_status regression(cairn_ctx *ctx, sample *s, cairn_regression_metrics *m)
{
    return cairn_eval_regression(ctx, s->x, s->y, s->n, m);
}

#define REGRESSION_METRIC(field)                                                                   \
    static cairn_status m_##field(cairn_ctx *ctx, sample *s, double *out)                          \
    {                                                                                              \
        cairn_regression_metrics m;                                                                \
        cairn_status rc = regression(ctx, s, &m);                                                  \
        *out = rc == CAIRN_OK ? m.field : NAN;                                                     \
        return rc;                                                                                 \
    }
REGRESSION_METRIC(mae)
REGRESSION_METRIC(mse)
REGRESSION_METRIC(rmse)
REGRESSION_METRIC(r2)
REGRESSION_METRIC(mape)

#define CLS CAIRN_TASK_CLASSIFICATION
#define REG CAIRN_TASK_REGRESSION

/* The table, in the order reports list the metrics. */
static const metric_def metrics[] = {
    {"accuracy", CLS, M_HEADLINE, m_accuracy},
    {"balanced_accuracy", CLS, M_HEADLINE, m_balanced},
    {"precision_macro", CLS, 0, m_precision_macro},
    {"recall_macro", CLS, 0, m_recall_macro},
    {"f1_macro", CLS, M_HEADLINE, m_f1_macro},
    {"f1_weighted", CLS, 0, m_f1_weighted},
    {"f1_micro", CLS, M_ON_REQUEST, m_f1_micro},
    {"mcc", CLS, M_HEADLINE, m_mcc},
    {"cohen_kappa", CLS, 0, m_kappa},
    {"roc_auc", CLS, M_PROBA | M_HEADLINE, m_roc_auc_ovr},
    {"roc_auc_ovr", CLS, M_PROBA | M_ON_REQUEST, m_roc_auc_ovr},
    {"roc_auc_ovo", CLS, M_PROBA | M_MULTI, m_roc_auc_ovo},
    {"average_precision", CLS, M_PROBA | M_BINARY, m_average_precision},
    {"log_loss", CLS, M_PROBA | M_HEADLINE, m_log_loss},
    {"brier", CLS, M_PROBA, m_brier},
    {"mae", REG, M_HEADLINE, m_mae},
    {"mse", REG, 0, m_mse},
    {"rmse", REG, M_HEADLINE, m_rmse},
    {"r2", REG, M_HEADLINE, m_r2},
    {"mape", REG, 0, m_mape},
};

static const char *const class_default[] = {"accuracy", "f1_macro", "roc_auc_ovr", "log_loss",
                                            NULL};
static const char *const reg_default[] = {"rmse", "mae", "r2", NULL};

const char *cairn_task_name(cairn_task task)
{
    return task == CAIRN_TASK_CLASSIFICATION ? "classification"
           : task == CAIRN_TASK_REGRESSION   ? "regression"
                                             : "auto";
}

const char *cairn_score_metric_name(cairn_task task, size_t i)
{
    for (size_t j = 0; j < CN_ARRAY_LEN(metrics); j++)
        if (metrics[j].task == task && i-- == 0)
            return metrics[j].name;
    return NULL;
}

const char *const *cairn_score_default_metrics(cairn_task task)
{
    return task == CAIRN_TASK_REGRESSION ? reg_default : class_default;
}

static const metric_def *find_metric(cairn_task task, const char *name)
{
    for (size_t j = 0; j < CN_ARRAY_LEN(metrics); j++)
        if (metrics[j].task == task && strcmp(metrics[j].name, name) == 0)
            return &metrics[j];
    return NULL;
}

cairn_status cairn_score_check_metrics(cairn_ctx *ctx, cairn_task task, const char *const *names,
                                       size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (find_metric(task, names[i]))
            continue;
        cn_buf b = CN_BUF_INIT;
        const char *m, *cand[64] = {0};
        size_t n_cand = 0;
        for (size_t j = 0; (m = cairn_score_metric_name(task, j)) != NULL; j++) {
            cn_buf_printf(&b, "%s%s", j ? ", " : "", m);
            if (n_cand < 64)
                cand[n_cand++] = m;
        }
        cairn_task other =
            task == CAIRN_TASK_CLASSIFICATION ? CAIRN_TASK_REGRESSION : CAIRN_TASK_CLASSIFICATION;
        const char *near = cn_str_nearest(names[i], cand, n_cand);
        char hint[160] = "";
        if (find_metric(other, names[i]))
            snprintf(hint, sizeof hint, " (it is a %s metric)", cairn_task_name(other));
        else if (near)
            snprintf(hint, sizeof hint, " (did you mean '%s'?)", near);
        cairn_status rc =
            cn_fail(ctx, CAIRN_EINVAL, "metrics: '%s' is not a %s metric%s; known: %s", names[i],
                    cairn_task_name(task), hint, cn_buf_str(&b));
        cn_buf_release(&b);
        return rc;
    }
    return CAIRN_OK;
}

static cairn_status check_predictions(cairn_ctx *ctx, const cairn_predictions *p)
{
    if (!p || p->n == 0)
        return cn_fail(ctx, CAIRN_EINVAL, "no predictions to score");
    if (p->task == CAIRN_TASK_REGRESSION)
        return p->target && p->predicted
                   ? CAIRN_OK
                   : cn_fail(ctx, CAIRN_EINVAL, "regression needs target and predicted values");
    if (p->task != CAIRN_TASK_CLASSIFICATION)
        return cn_fail(ctx, CAIRN_EINVAL, "predictions need a task: classification or regression");
    if (!p->y_true || !p->y_pred)
        return cn_fail(ctx, CAIRN_EINVAL, "classification needs y_true and y_pred labels");
    if (p->n_classes < 2 || p->n_classes > CN_EVAL_MAX_CLASSES)
        return cn_fail(ctx, CAIRN_EINVAL, "classification needs 2 to %d classes, not %zu",
                       CN_EVAL_MAX_CLASSES, p->n_classes);
    cairn_status rc = cn_eval_check_labels(ctx, p->y_true, p->n, p->n_classes, "y_true");
    return rc == CAIRN_OK ? cn_eval_check_labels(ctx, p->y_pred, p->n, p->n_classes, "y_pred") : rc;
}

static void sample_init(sample *s, const cairn_predictions *p)
{
    memset(s, 0, sizeof *s);
    s->p = p;
    size_t width = p->task == CAIRN_TASK_CLASSIFICATION ? p->n_classes : 1;
    s->x = cn_xmalloc(p->n * width * sizeof *s->x);
    if (p->task == CAIRN_TASK_REGRESSION) {
        s->y = cn_xmalloc(p->n * sizeof *s->y);
    } else {
        s->yt = cn_xmalloc(p->n * sizeof *s->yt);
        s->yp = cn_xmalloc(p->n * sizeof *s->yp);
    }
}

static void sample_release(sample *s)
{
    free(s->yt);
    free(s->yp);
    free(s->x);
    free(s->y);
}

/* Copies rows idx[0..n) (idx NULL: all rows) into the scratch arrays. */
static void sample_take(sample *s, const size_t *idx, size_t n)
{
    const cairn_predictions *p = s->p;
    size_t k = p->n_classes;
    s->n = n;
    for (size_t i = 0; i < n; i++) {
        size_t r = idx ? idx[i] : i;
        if (p->task == CAIRN_TASK_REGRESSION) {
            s->x[i] = p->target[r];
            s->y[i] = p->predicted[r];
            continue;
        }
        s->yt[i] = p->y_true[r];
        s->yp[i] = p->y_pred[r];
        if (p->proba)
            memcpy(s->x + i * k, p->proba + r * k, k * sizeof *s->x);
    }
}

typedef struct metric_call {
    sample *s;
    const metric_def *def;
} metric_call;

static cairn_status metric_value(cairn_ctx *ctx, const size_t *idx, size_t n, void *user,
                                 double *out)
{
    metric_call *mc = user;
    *out = NAN;
    if ((mc->def->flags & M_PROBA) && !mc->s->p->proba)
        return cn_fail(ctx, CAIRN_EINVAL, "%s needs class probabilities", mc->def->name);
    sample_take(mc->s, idx, n);
    return mc->def->fn(ctx, mc->s, out);
}

cairn_status cairn_score_metric(cairn_ctx *ctx, const cairn_predictions *p, const char *name,
                                double *out)
{
    *out = NAN;
    cairn_status rc = check_predictions(ctx, p);
    if (rc != CAIRN_OK)
        return rc;
    const metric_def *def = find_metric(p->task, name);
    if (!def)
        return cairn_score_check_metrics(ctx, p->task, &name, 1);
    sample s;
    sample_init(&s, p);
    metric_call mc = {&s, def};
    rc = metric_value(ctx, NULL, p->n, &mc, out);
    sample_release(&s);
    return rc;
}

/* Whether the full list (no names asked for) holds def for these predictions. */
static bool applies(const metric_def *def, const cairn_predictions *p)
{
    if (def->task != p->task || (def->flags & M_ON_REQUEST))
        return false;
    if ((def->flags & M_PROBA) && !p->proba)
        return false;
    if ((def->flags & M_BINARY) && p->n_classes != 2)
        return false;
    return !(def->flags & M_MULTI) || p->n_classes > 2;
}

/* The metrics to score: the named ones (checked) or the full list. */
static cairn_status pick_metrics(cairn_ctx *ctx, const cairn_predictions *p,
                                 const cairn_score_opts *o, const metric_def ***out, size_t *n)
{
    *n = 0;
    *out = cn_xcalloc(o->metrics ? o->n_metrics + 1 : CN_ARRAY_LEN(metrics), sizeof **out);
    if (!o->metrics) {
        for (size_t j = 0; j < CN_ARRAY_LEN(metrics); j++)
            if (applies(&metrics[j], p))
                (*out)[(*n)++] = &metrics[j];
        return CAIRN_OK;
    }
    cairn_status rc = cairn_score_check_metrics(ctx, p->task, o->metrics, o->n_metrics);
    for (size_t i = 0; rc == CAIRN_OK && i < o->n_metrics; i++)
        (*out)[(*n)++] = find_metric(p->task, o->metrics[i]);
    return rc;
}

/* One metric: its value (NaN with the error when undefined) and, when asked, its interval. */
static void score_one(cairn_ctx *ctx, sample *s, const metric_def *def, const cairn_score_opts *o,
                      cairn_scored_metric *m)
{
    metric_call mc = {s, def};
    m->name = def->name;
    m->ci_low = m->ci_high = NAN;
    if (metric_value(ctx, NULL, s->p->n, &mc, &m->value) != CAIRN_OK) {
        m->error = cn_xstrdup(cairn_errmsg(ctx));
        m->value = NAN;
        cn_log(ctx, CAIRN_LOG_WARN, "eval", "metric '%s' is undefined here: %s", def->name,
               m->error);
        return;
    }
    if (o->n_bootstrap == 0 || (o->headline_only_ci && !(def->flags & M_HEADLINE)))
        return;
    cairn_bootstrap_opts bo = CAIRN_BOOTSTRAP_OPTS_INIT;
    bo.n_resamples = o->n_bootstrap;
    bo.seed = o->seed;
    bo.confidence = CONFIDENCE;
    cairn_interval iv;
    if (cairn_bootstrap_ci(ctx, s->p->n, metric_value, &mc, &bo, &iv) == CAIRN_OK) {
        m->ci_low = iv.low;
        m->ci_high = iv.high;
    } else {
        cn_log(ctx, CAIRN_LOG_WARN, "eval", "no interval for metric '%s': %s", def->name,
               cairn_errmsg(ctx));
    }
}

/* Confusion matrix and per-class precision, recall, F1 and support. */
static cairn_status per_class(cairn_ctx *ctx, const cairn_predictions *p, cairn_score_result *r)
{
    size_t k = p->n_classes;
    r->confusion = cn_xcalloc(k * k, sizeof *r->confusion);
    r->precision = cn_xcalloc(k, sizeof *r->precision);
    r->recall = cn_xcalloc(k, sizeof *r->recall);
    r->f1 = cn_xcalloc(k, sizeof *r->f1);
    r->support = cn_xcalloc(k, sizeof *r->support);
    cairn_status rc = cairn_eval_confusion_matrix(ctx, p->y_true, p->y_pred, p->n, k, r->confusion);
    if (rc == CAIRN_OK)
        rc = cairn_eval_prf_per_class(ctx, p->y_true, p->y_pred, p->n, k, r->precision, r->recall,
                                      r->f1, r->support);
    return rc;
}

static cairn_score_result *result_new(const cairn_predictions *p, const cairn_score_opts *o)
{
    cairn_score_result *r = cn_xcalloc(1, sizeof *r);
    r->task = p->task;
    r->n = p->n;
    r->has_proba = p->task == CAIRN_TASK_CLASSIFICATION && p->proba != NULL;
    r->n_bootstrap = o->n_bootstrap;
    r->seed = o->seed;
    r->confidence = CONFIDENCE;
    if (p->task != CAIRN_TASK_CLASSIFICATION)
        return r;
    r->n_classes = p->n_classes;
    r->classes = cn_xcalloc(p->n_classes, sizeof *r->classes);
    for (size_t j = 0; j < p->n_classes; j++) {
        char num[32];
        snprintf(num, sizeof num, "%zu", j);
        r->classes[j] = cn_xstrdup(p->classes ? p->classes[j] : num);
    }
    return r;
}

cairn_status cairn_score(cairn_ctx *ctx, const cairn_predictions *p, const cairn_score_opts *opts,
                         cairn_score_result **out)
{
    static const cairn_score_opts defaults = CAIRN_SCORE_OPTS_INIT;
    const cairn_score_opts *o = opts ? opts : &defaults;
    const metric_def **defs = NULL;
    cairn_score_result *r = NULL;
    size_t n_defs = 0;
    sample s;
    *out = NULL;
    cairn_status rc = check_predictions(ctx, p);
    if (rc != CAIRN_OK)
        return rc;
    rc = pick_metrics(ctx, p, o, &defs, &n_defs);
    if (rc != CAIRN_OK)
        goto done;
    r = result_new(p, o);
    if (p->task == CAIRN_TASK_CLASSIFICATION) {
        rc = per_class(ctx, p, r);
        if (rc != CAIRN_OK)
            goto done;
    }
    r->metrics = cn_xcalloc(n_defs ? n_defs : 1, sizeof *r->metrics);
    r->n_metrics = n_defs;
    sample_init(&s, p);
    for (size_t i = 0; i < n_defs; i++)
        score_one(ctx, &s, defs[i], o, &r->metrics[i]);
    sample_release(&s);
    *out = r;
    r = NULL;
done:
    cairn_score_result_free(r);
    free(defs);
    return rc;
}

void cairn_score_result_free(cairn_score_result *r)
{
    if (!r)
        return;
    for (size_t j = 0; j < r->n_classes; j++)
        free((char *)r->classes[j]);
    free(r->classes);
    for (size_t i = 0; i < r->n_metrics; i++)
        free((char *)r->metrics[i].error);
    free(r->metrics);
    free(r->confusion);
    free(r->precision);
    free(r->recall);
    free(r->f1);
    free(r->support);
    free(r);
}
