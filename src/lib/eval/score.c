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
    double param;     /* the metric's parameter: k, beta, a Tweedie power or a class index */
} sample;

typedef cairn_status (*metric_fn)(cairn_ctx *ctx, sample *s, double *out);

enum {
    M_PROBA = 1,       /* needs probabilities */
    M_BINARY = 2,      /* in the full list only with two classes */
    M_MULTI = 4,       /* in the full list only with more than two classes */
    M_HEADLINE = 8,    /* gets an interval under headline_only_ci */
    M_ON_REQUEST = 16, /* left out of the full list: it repeats another metric */
    M_NONNEG = 32,     /* in the full list only when y_true, y_pred >= 0 (MSLE) */
    M_POISSON = 64,    /* ... only when y_true >= 0 and y_pred > 0 */
    M_POSITIVE = 128,  /* ... only when y_true, y_pred > 0 (Gamma) */
    M_LOWER = 256      /* lower is better (a loss, error or deviance) */
};

typedef struct metric_def {
    const char *name;
    cairn_task task;
    unsigned flags;
    metric_fn fn;
    double param; /* fixed entries: the parameter they pass (top_k_accuracy: k = 2) */
} metric_def;

/* A family of names with a parameter inside: prefix, the parameter, suffix
 * ("top_<k>_accuracy", "f<beta>_macro", "tweedie_deviance_<power>", "roc_auc_class_<label>"). */
typedef enum param_kind { P_INT, P_NUMBER, P_CLASS } param_kind;
typedef struct metric_family {
    const char *prefix, *suffix, *pattern; /* pattern: how docs and messages show it */
    param_kind kind;
    metric_def def;
} metric_family;

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

static cairn_status prf_avg(cairn_ctx *ctx, sample *s, cairn_average avg, int which, double *out)
{
    double v[3];
    cairn_status rc = cairn_eval_prf(ctx, YT, K, avg, &v[0], &v[1], &v[2]);
    *out = v[which];
    return rc;
}

#define PRF_METRIC(fname, avg, which)                                                              \
    static cairn_status m_##fname(cairn_ctx *ctx, sample *s, double *out)                          \
    {                                                                                              \
        return prf_avg(ctx, s, avg, which, out);                                                   \
    }
PRF_METRIC(precision_micro, CAIRN_AVERAGE_MICRO, 0)
PRF_METRIC(precision_weighted, CAIRN_AVERAGE_WEIGHTED, 0)
PRF_METRIC(recall_micro, CAIRN_AVERAGE_MICRO, 1)
PRF_METRIC(recall_weighted, CAIRN_AVERAGE_WEIGHTED, 1)

/* Binary precision, recall, F1 and Jaccard of the positive class (the second, pos_label=1). */
static cairn_status binary_per_class(cairn_ctx *ctx, sample *s, const char *name, int which,
                                     double *out)
{
    if (K != 2)
        return cn_fail(ctx, CAIRN_EINVAL,
                       "%s is binary and needs two classes, not %zu; use %s_macro, %s_micro or "
                       "%s_weighted",
                       name, K, name, name, name);
    double v[4][2];
    cairn_status rc = cairn_eval_prf_per_class(ctx, YT, 2, v[0], v[1], v[2], NULL);
    if (rc == CAIRN_OK)
        rc = cairn_eval_jaccard_per_class(ctx, YT, 2, v[3]);
    *out = v[which][1];
    return rc;
}

static cairn_status m_precision(cairn_ctx *ctx, sample *s, double *out)
{
    return binary_per_class(ctx, s, "precision", 0, out);
}

static cairn_status m_recall(cairn_ctx *ctx, sample *s, double *out)
{
    return binary_per_class(ctx, s, "recall", 1, out);
}

static cairn_status m_f1(cairn_ctx *ctx, sample *s, double *out)
{
    return binary_per_class(ctx, s, "f1", 2, out);
}

static cairn_status m_jaccard(cairn_ctx *ctx, sample *s, double *out)
{
    return binary_per_class(ctx, s, "jaccard", 3, out);
}

#define JACCARD_METRIC(fname, avg)                                                                 \
    static cairn_status m_##fname(cairn_ctx *ctx, sample *s, double *out)                          \
    {                                                                                              \
        return cairn_eval_jaccard(ctx, YT, K, avg, out);                                           \
    }
JACCARD_METRIC(jaccard_macro, CAIRN_AVERAGE_MACRO)
JACCARD_METRIC(jaccard_micro, CAIRN_AVERAGE_MICRO)
JACCARD_METRIC(jaccard_weighted, CAIRN_AVERAGE_WEIGHTED)

#define FBETA_METRIC(fname, avg)                                                                   \
    static cairn_status m_##fname(cairn_ctx *ctx, sample *s, double *out)                          \
    {                                                                                              \
        return cairn_eval_fbeta(ctx, YT, K, avg, s->param, out);                                   \
    }
FBETA_METRIC(fbeta_macro, CAIRN_AVERAGE_MACRO)
FBETA_METRIC(fbeta_micro, CAIRN_AVERAGE_MICRO)
FBETA_METRIC(fbeta_weighted, CAIRN_AVERAGE_WEIGHTED)

static cairn_status m_kappa_linear(cairn_ctx *ctx, sample *s, double *out)
{
    return cairn_eval_cohen_kappa_weighted(ctx, YT, K, CAIRN_KAPPA_LINEAR, out);
}

static cairn_status m_kappa_quadratic(cairn_ctx *ctx, sample *s, double *out)
{
    return cairn_eval_cohen_kappa_weighted(ctx, YT, K, CAIRN_KAPPA_QUADRATIC, out);
}

static cairn_status m_hamming(cairn_ctx *ctx, sample *s, double *out)
{
    cairn_status rc = cairn_eval_accuracy(ctx, YT, out);
    *out = 1.0 - *out; /* hamming_loss and zero_one_loss of single-label rows */
    return rc;
}

static cairn_status likelihood_ratio(cairn_ctx *ctx, sample *s, bool positive, double *out)
{
    if (K != 2)
        return cn_fail(ctx, CAIRN_EINVAL, "likelihood ratios need two classes, not %zu", K);
    double lr[2];
    cairn_status rc = cairn_eval_likelihood_ratios(ctx, YT, &lr[0], &lr[1]);
    if (rc != CAIRN_OK)
        return rc;
    *out = positive ? lr[0] : lr[1];
    if (isnan(*out))
        return cn_fail(ctx, CAIRN_EINVAL,
                       "the %s likelihood ratio divides by zero here (%s); scikit-learn gives "
                       "NaN too",
                       positive ? "positive" : "negative",
                       positive ? "no false positives or no positives"
                                : "no true negatives or no positives");
    return CAIRN_OK;
}

static cairn_status m_lr_pos(cairn_ctx *ctx, sample *s, double *out)
{
    return likelihood_ratio(ctx, s, true, out);
}

static cairn_status m_lr_neg(cairn_ctx *ctx, sample *s, double *out)
{
    return likelihood_ratio(ctx, s, false, out);
}

static cairn_status m_roc_auc_ovr_weighted(cairn_ctx *ctx, sample *s, double *out)
{
    return cairn_eval_roc_auc(ctx, s->yt, s->x, s->n, K, CAIRN_MULTICLASS_OVR,
                              CAIRN_AVERAGE_WEIGHTED, out);
}

static cairn_status m_roc_auc_ovo_weighted(cairn_ctx *ctx, sample *s, double *out)
{
    return cairn_eval_roc_auc(ctx, s->yt, s->x, s->n, K, CAIRN_MULTICLASS_OVO,
                              CAIRN_AVERAGE_WEIGHTED, out);
}

static cairn_status m_roc_auc_class(cairn_ctx *ctx, sample *s, double *out)
{
    return cairn_eval_roc_auc_per_class(ctx, s->yt, s->x, s->n, K, (size_t)s->param, out);
}

#define AP_METRIC(fname, avg)                                                                      \
    static cairn_status m_##fname(cairn_ctx *ctx, sample *s, double *out)                          \
    {                                                                                              \
        return cairn_eval_average_precision_ovr(ctx, s->yt, s->x, s->n, K, avg, NULL, out);        \
    }
AP_METRIC(ap_macro, CAIRN_AVERAGE_MACRO)
AP_METRIC(ap_micro, CAIRN_AVERAGE_MICRO)
AP_METRIC(ap_weighted, CAIRN_AVERAGE_WEIGHTED)

static cairn_status m_ap_class(cairn_ctx *ctx, sample *s, double *out)
{
    size_t c = (size_t)s->param;
    int32_t *bin = cn_xmalloc(s->n * sizeof *bin);
    for (size_t i = 0; i < s->n; i++) {
        bin[i] = (size_t)s->yt[i] == c;
        s->x[i] = s->x[i * K + c]; /* in place: row i's column c is read before it is written */
    }
    cairn_status rc = cairn_eval_average_precision(ctx, bin, s->x, s->n, out);
    free(bin);
    return rc;
}

static cairn_status m_top_k(cairn_ctx *ctx, sample *s, double *out)
{
    return cairn_eval_top_k_accuracy(ctx, s->yt, s->x, s->n, K, (size_t)s->param, out);
}

#define REG_FN(fname, call)                                                                        \
    static cairn_status m_##fname(cairn_ctx *ctx, sample *s, double *out)                          \
    {                                                                                              \
        return call(ctx, s->x, s->y, s->n, out);                                                   \
    }
REG_FN(explained_variance, cairn_eval_explained_variance)
REG_FN(medae, cairn_eval_median_absolute_error)
REG_FN(max_error, cairn_eval_max_error)
REG_FN(msle, cairn_eval_msle)
REG_FN(d2_absolute_error, cairn_eval_d2_absolute_error)

static cairn_status m_rmsle(cairn_ctx *ctx, sample *s, double *out)
{
    cairn_status rc = cairn_eval_msle(ctx, s->x, s->y, s->n, out);
    *out = sqrt(*out);
    return rc;
}

static cairn_status m_tweedie(cairn_ctx *ctx, sample *s, double *out)
{
    return cairn_eval_tweedie_deviance(ctx, s->x, s->y, s->n, s->param, out);
}

static cairn_status m_d2_tweedie(cairn_ctx *ctx, sample *s, double *out)
{
    return cairn_eval_d2_tweedie(ctx, s->x, s->y, s->n, s->param, out);
}

#define CLS CAIRN_TASK_CLASSIFICATION
#define REG CAIRN_TASK_REGRESSION

/* The table, in the order reports list the metrics. */
static const metric_def metrics[] = {
    {"accuracy", CLS, M_HEADLINE, m_accuracy, 0},
    {"balanced_accuracy", CLS, M_HEADLINE, m_balanced, 0},
    {"precision", CLS, M_BINARY, m_precision, 0},
    {"recall", CLS, M_BINARY, m_recall, 0},
    {"f1", CLS, M_BINARY, m_f1, 0},
    {"precision_macro", CLS, 0, m_precision_macro, 0},
    {"precision_micro", CLS, M_ON_REQUEST, m_precision_micro, 0},
    {"precision_weighted", CLS, 0, m_precision_weighted, 0},
    {"recall_macro", CLS, 0, m_recall_macro, 0},
    {"recall_micro", CLS, M_ON_REQUEST, m_recall_micro, 0},
    {"recall_weighted", CLS, 0, m_recall_weighted, 0},
    {"f1_macro", CLS, M_HEADLINE, m_f1_macro, 0},
    {"f1_weighted", CLS, 0, m_f1_weighted, 0},
    {"f1_micro", CLS, M_ON_REQUEST, m_f1_micro, 0},
    {"jaccard", CLS, M_BINARY, m_jaccard, 0},
    {"jaccard_macro", CLS, 0, m_jaccard_macro, 0},
    {"jaccard_micro", CLS, 0, m_jaccard_micro, 0},
    {"jaccard_weighted", CLS, 0, m_jaccard_weighted, 0},
    {"mcc", CLS, M_HEADLINE, m_mcc, 0},
    {"matthews_corrcoef", CLS, M_ON_REQUEST, m_mcc, 0},
    {"cohen_kappa", CLS, 0, m_kappa, 0},
    {"kappa_linear", CLS, 0, m_kappa_linear, 0},
    {"kappa_quadratic", CLS, 0, m_kappa_quadratic, 0},
    {"hamming_loss", CLS, M_ON_REQUEST | M_LOWER, m_hamming, 0},
    {"zero_one_loss", CLS, M_ON_REQUEST | M_LOWER, m_hamming, 0},
    {"positive_likelihood_ratio", CLS, M_BINARY, m_lr_pos, 0},
    {"negative_likelihood_ratio", CLS, M_BINARY | M_LOWER, m_lr_neg, 0},
    {"roc_auc", CLS, M_PROBA | M_HEADLINE, m_roc_auc_ovr, 0},
    {"roc_auc_ovr", CLS, M_PROBA | M_ON_REQUEST, m_roc_auc_ovr, 0},
    {"roc_auc_ovr_weighted", CLS, M_PROBA | M_MULTI, m_roc_auc_ovr_weighted, 0},
    {"roc_auc_ovo", CLS, M_PROBA | M_MULTI, m_roc_auc_ovo, 0},
    {"roc_auc_ovo_weighted", CLS, M_PROBA | M_MULTI, m_roc_auc_ovo_weighted, 0},
    {"average_precision", CLS, M_PROBA | M_BINARY, m_average_precision, 0},
    {"average_precision_macro", CLS, M_PROBA | M_MULTI, m_ap_macro, 0},
    {"average_precision_weighted", CLS, M_PROBA | M_MULTI, m_ap_weighted, 0},
    {"average_precision_micro", CLS, M_PROBA | M_MULTI, m_ap_micro, 0},
    {"top_k_accuracy", CLS, M_PROBA | M_MULTI, m_top_k, 2},
    {"log_loss", CLS, M_PROBA | M_HEADLINE | M_LOWER, m_log_loss, 0},
    {"brier", CLS, M_PROBA | M_LOWER, m_brier, 0},
    {"mae", REG, M_HEADLINE | M_LOWER, m_mae, 0},
    {"mse", REG, M_LOWER, m_mse, 0},
    {"rmse", REG, M_HEADLINE | M_LOWER, m_rmse, 0},
    {"r2", REG, M_HEADLINE, m_r2, 0},
    {"mape", REG, M_LOWER, m_mape, 0},
    {"explained_variance", REG, 0, m_explained_variance, 0},
    {"median_absolute_error", REG, M_LOWER, m_medae, 0},
    {"max_error", REG, M_LOWER, m_max_error, 0},
    {"msle", REG, M_NONNEG | M_LOWER, m_msle, 0},
    {"rmsle", REG, M_NONNEG | M_LOWER, m_rmsle, 0},
    {"poisson_deviance", REG, M_POISSON | M_LOWER, m_tweedie, 1},
    {"gamma_deviance", REG, M_POSITIVE | M_LOWER, m_tweedie, 2},
    {"d2_absolute_error", REG, 0, m_d2_absolute_error, 0},
};

/* Names with a parameter; the full list holds the per-class ones (for three classes or more). */
static const metric_family families[] = {
    {"top_",
     "_accuracy",
     "top_<k>_accuracy",
     P_INT,
     {NULL, CLS, M_PROBA | M_ON_REQUEST, m_top_k, 0}},
    {"f", "_macro", "f<beta>_macro", P_NUMBER, {NULL, CLS, M_ON_REQUEST, m_fbeta_macro, 0}},
    {"f", "_micro", "f<beta>_micro", P_NUMBER, {NULL, CLS, M_ON_REQUEST, m_fbeta_micro, 0}},
    {"f",
     "_weighted",
     "f<beta>_weighted",
     P_NUMBER,
     {NULL, CLS, M_ON_REQUEST, m_fbeta_weighted, 0}},
    {"roc_auc_class_",
     "",
     "roc_auc_class_<label>",
     P_CLASS,
     {NULL, CLS, M_PROBA | M_MULTI, m_roc_auc_class, 0}},
    {"average_precision_class_",
     "",
     "average_precision_class_<label>",
     P_CLASS,
     {NULL, CLS, M_PROBA | M_MULTI, m_ap_class, 0}},
    {"tweedie_deviance_",
     "",
     "tweedie_deviance_<power>",
     P_NUMBER,
     {NULL, REG, M_ON_REQUEST | M_LOWER, m_tweedie, 0}},
    {"d2_tweedie_", "", "d2_tweedie_<power>", P_NUMBER, {NULL, REG, M_ON_REQUEST, m_d2_tweedie, 0}},
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

/* A metric resolved from its name: the definition and its parameter. */
typedef struct metric_call {
    sample *s;
    const metric_def *def;
    double param;
    const char *name;     /* as asked */
    const char *no_class; /* a per-class name whose label is not a class here; else NULL */
} metric_call;

/* The label of class j of p ("0", "1", ... without names) into buf. */
static const char *class_label(const cairn_predictions *p, size_t j, char *buf, size_t size)
{
    if (p->classes)
        return p->classes[j];
    snprintf(buf, size, "%zu", j);
    return buf;
}

/* Parses the parameter text of a family name; false when it is not one. */
static bool family_param(const metric_family *f, const char *text, size_t len,
                         const cairn_predictions *p, metric_call *mc)
{
    char tmp[64];
    if (len == 0 || len >= sizeof tmp)
        return false;
    memcpy(tmp, text, len);
    tmp[len] = '\0';
    if (f->kind == P_CLASS) {
        mc->param = -1;
        mc->no_class = "?";
        for (size_t j = 0; p && j < p->n_classes; j++) {
            char num[32];
            if (strcmp(class_label(p, j, num, sizeof num), tmp) == 0) {
                mc->param = (double)j;
                mc->no_class = NULL;
            }
        }
        return true;
    }
    char *end;
    double v = strtod(tmp, &end);
    if (*end != '\0' || !isfinite(v) || tmp[0] == ' ' || tmp[0] == '+')
        return false;
    if (f->kind == P_INT && (v != floor(v) || v < 1 || v > 1e6 || strchr(tmp, '.')))
        return false;
    mc->param = v;
    return true;
}

/* Resolves a name of a task (p, when given, supplies the class labels of per-class names). */
static bool resolve(cairn_task task, const char *name, const cairn_predictions *p, metric_call *mc)
{
    memset(mc, 0, sizeof *mc);
    mc->name = name;
    const metric_def *def = find_metric(task, name);
    if (def) {
        mc->def = def;
        mc->param = def->param;
        return true;
    }
    size_t len = strlen(name);
    for (size_t j = 0; j < CN_ARRAY_LEN(families); j++) {
        const metric_family *f = &families[j];
        size_t lp = strlen(f->prefix), ls = strlen(f->suffix);
        if (f->def.task != task || len <= lp + ls || strncmp(name, f->prefix, lp) != 0 ||
            strcmp(name + len - ls, f->suffix) != 0)
            continue;
        if (family_param(f, name + lp, len - lp - ls, p, mc)) {
            mc->def = &f->def;
            return true;
        }
    }
    return false;
}

cairn_status cairn_score_check_metrics(cairn_ctx *ctx, cairn_task task, const char *const *names,
                                       size_t n)
{
    for (size_t i = 0; i < n; i++) {
        metric_call mc;
        if (resolve(task, names[i], NULL, &mc))
            continue;
        cn_buf b = CN_BUF_INIT;
        const char *m, *cand[128] = {0};
        size_t n_cand = 0;
        for (size_t j = 0; (m = cairn_score_metric_name(task, j)) != NULL; j++) {
            cn_buf_printf(&b, "%s%s", j ? ", " : "", m);
            if (n_cand < CN_ARRAY_LEN(cand))
                cand[n_cand++] = m;
        }
        for (size_t j = 0; j < CN_ARRAY_LEN(families); j++)
            if (families[j].def.task == task) {
                cn_buf_printf(&b, ", %s", families[j].pattern);
                if (n_cand < CN_ARRAY_LEN(cand))
                    cand[n_cand++] = families[j].pattern;
            }
        cairn_task other =
            task == CAIRN_TASK_CLASSIFICATION ? CAIRN_TASK_REGRESSION : CAIRN_TASK_CLASSIFICATION;
        const char *near = cn_str_nearest(names[i], cand, n_cand);
        char hint[160] = "";
        if (resolve(other, names[i], NULL, &mc))
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

bool cairn_score_metric_lower_is_better(const char *name)
{
    metric_call mc;
    for (int t = CAIRN_TASK_CLASSIFICATION; t <= CAIRN_TASK_REGRESSION; t++)
        if (resolve((cairn_task)t, name, NULL, &mc))
            return (mc.def->flags & M_LOWER) != 0;
    return false;
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

static cairn_status metric_value(cairn_ctx *ctx, const size_t *idx, size_t n, void *user,
                                 double *out)
{
    metric_call *mc = user;
    *out = NAN;
    if ((mc->def->flags & M_PROBA) && !mc->s->p->proba)
        return cn_fail(ctx, CAIRN_EINVAL, "%s needs class probabilities", mc->name);
    if (mc->no_class)
        return cn_fail(ctx, CAIRN_EINVAL, "%s: the label is not one of the %zu classes here",
                       mc->name, mc->s->p->n_classes);
    sample_take(mc->s, idx, n);
    mc->s->param = mc->param;
    return mc->def->fn(ctx, mc->s, out);
}

cairn_status cairn_score_metric(cairn_ctx *ctx, const cairn_predictions *p, const char *name,
                                double *out)
{
    *out = NAN;
    cairn_status rc = check_predictions(ctx, p);
    if (rc != CAIRN_OK)
        return rc;
    metric_call mc;
    if (!resolve(p->task, name, p, &mc))
        return cairn_score_check_metrics(ctx, p->task, &name, 1);
    sample s;
    sample_init(&s, p);
    mc.s = &s;
    rc = metric_value(ctx, NULL, p->n, &mc, out);
    sample_release(&s);
    return rc;
}

/* Whether every regression row is in the domain a metric's flags ask for. */
static bool in_domain(unsigned flags, const cairn_predictions *p)
{
    for (size_t i = 0; i < p->n; i++) {
        double t = p->target[i], y = p->predicted[i];
        if ((flags & M_NONNEG) && (t < 0 || y < 0))
            return false;
        if ((flags & M_POISSON) && (t < 0 || y <= 0))
            return false;
        if ((flags & M_POSITIVE) && (t <= 0 || y <= 0))
            return false;
    }
    return true;
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
    if ((def->flags & (M_NONNEG | M_POISSON | M_POSITIVE)) && !in_domain(def->flags, p))
        return false;
    return !(def->flags & M_MULTI) || p->n_classes > 2;
}

/* The metrics to score: the named ones (checked) or the full list, whose per-class names
 * (roc_auc_class_<label>, ...) are made here and owned by *names. */
static cairn_status pick_metrics(cairn_ctx *ctx, const cairn_predictions *p,
                                 const cairn_score_opts *o, metric_call **out, size_t *n,
                                 char ***names, size_t *n_names)
{
    *n = *n_names = 0;
    *names = NULL;
    if (o->metrics) {
        *out = cn_xcalloc(o->n_metrics + 1, sizeof **out);
        cairn_status rc = cairn_score_check_metrics(ctx, p->task, o->metrics, o->n_metrics);
        for (size_t i = 0; rc == CAIRN_OK && i < o->n_metrics; i++)
            (void)resolve(p->task, o->metrics[i], p, &(*out)[(*n)++]);
        return rc;
    }
    size_t cap = CN_ARRAY_LEN(metrics) + CN_ARRAY_LEN(families) * p->n_classes;
    *out = cn_xcalloc(cap, sizeof **out);
    *names = cn_xcalloc(cap, sizeof **names);
    for (size_t j = 0; j < CN_ARRAY_LEN(metrics); j++)
        if (applies(&metrics[j], p))
            (void)resolve(p->task, metrics[j].name, p, &(*out)[(*n)++]);
    for (size_t j = 0; j < CN_ARRAY_LEN(families); j++) {
        const metric_family *f = &families[j];
        if (f->kind != P_CLASS || !applies(&f->def, p))
            continue;
        for (size_t c = 0; c < p->n_classes; c++) {
            char num[32];
            char *name =
                cn_asprintf("%s%s%s", f->prefix, class_label(p, c, num, sizeof num), f->suffix);
            (*names)[(*n_names)++] = name;
            metric_call *mc = &(*out)[(*n)++];
            memset(mc, 0, sizeof *mc);
            mc->def = &f->def;
            mc->param = (double)c;
            mc->name = name;
        }
    }
    return CAIRN_OK;
}

/* One metric: its value (NaN with the error when undefined) and, when asked, its interval. */
static void score_one(cairn_ctx *ctx, sample *s, metric_call *mc, const cairn_score_opts *o,
                      cairn_scored_metric *m)
{
    const metric_def *def = mc->def;
    mc->s = s;
    m->name = cn_xstrdup(mc->name);
    m->ci_low = m->ci_high = NAN;
    if (metric_value(ctx, NULL, s->p->n, mc, &m->value) != CAIRN_OK) {
        m->error = cn_xstrdup(cairn_errmsg(ctx));
        m->value = NAN;
        cn_log(ctx, CAIRN_LOG_WARN, "eval", "metric '%s' is undefined here: %s", m->name, m->error);
        return;
    }
    if (o->n_bootstrap == 0 || (o->headline_only_ci && !(def->flags & M_HEADLINE)))
        return;
    cairn_bootstrap_opts bo = CAIRN_BOOTSTRAP_OPTS_INIT;
    bo.n_resamples = o->n_bootstrap;
    bo.seed = o->seed;
    bo.confidence = CONFIDENCE;
    cairn_interval iv;
    if (cairn_bootstrap_ci(ctx, s->p->n, metric_value, mc, &bo, &iv) == CAIRN_OK) {
        m->ci_low = iv.low;
        m->ci_high = iv.high;
    } else {
        cn_log(ctx, CAIRN_LOG_WARN, "eval", "no interval for metric '%s': %s", m->name,
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
    metric_call *defs = NULL;
    cairn_score_result *r = NULL;
    char **names = NULL;
    size_t n_defs = 0, n_names = 0;
    sample s;
    *out = NULL;
    cairn_status rc = check_predictions(ctx, p);
    if (rc != CAIRN_OK)
        return rc;
    rc = pick_metrics(ctx, p, o, &defs, &n_defs, &names, &n_names);
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
        score_one(ctx, &s, &defs[i], o, &r->metrics[i]);
    sample_release(&s);
    *out = r;
    r = NULL;
done:
    cairn_score_result_free(r);
    free(defs);
    for (size_t i = 0; i < n_names; i++)
        free(names[i]);
    free(names);
    return rc;
}

void cairn_score_result_free(cairn_score_result *r)
{
    if (!r)
        return;
    for (size_t j = 0; j < r->n_classes; j++)
        free((char *)r->classes[j]);
    free(r->classes);
    for (size_t i = 0; i < r->n_metrics; i++) {
        free((char *)r->metrics[i].name);
        free((char *)r->metrics[i].error);
    }
    free(r->metrics);
    free(r->confusion);
    free(r->precision);
    free(r->recall);
    free(r->f1);
    free(r->support);
    free(r);
}
