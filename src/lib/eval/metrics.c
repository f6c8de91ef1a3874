/* SPDX-License-Identifier: MIT */
/* metrics.c - classification metrics from labels and probabilities, and regression metrics,
 * following scikit-learn 1.2's definitions (sklearn/metrics/_classification.py, _regression.py).
 * Called by the eval CLI, learners' reports and bootstrap callbacks. */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "cairn/eval.h"
#include "core/core.h"
#include "base/xmalloc.h"
#include "eval/evalint.h"
#include "base/banned.h"

cairn_status cn_eval_check_labels(cairn_ctx *ctx, const int32_t *y, size_t n, size_t n_classes,
                                  const char *what)
{
    if (n == 0)
        return cn_fail(ctx, CAIRN_EINVAL, "'%s' is empty; give at least one row", what);
    if (n_classes < 1)
        return cn_fail(ctx, CAIRN_EINVAL, "n_classes is 0; give at least one class");
    if (n_classes > CN_EVAL_MAX_CLASSES)
        return cn_fail(ctx, CAIRN_ELIMIT, "n_classes %zu exceeds the limit of %d", n_classes,
                       CN_EVAL_MAX_CLASSES);
    for (size_t i = 0; i < n; i++)
        if (y[i] < 0 || (size_t)y[i] >= n_classes)
            return cn_fail(ctx, CAIRN_EINVAL, "'%s'[%zu] = %d is not a class index in 0..%zu", what,
                           i, (int)y[i], n_classes - 1);
    return CAIRN_OK;
}

cairn_status cn_eval_check_finite(cairn_ctx *ctx, const double *v, size_t n, const char *what)
{
    if (n == 0)
        return cn_fail(ctx, CAIRN_EINVAL, "'%s' is empty; give at least one row", what);
    for (size_t i = 0; i < n; i++)
        if (!isfinite(v[i]))
            return cn_fail(ctx, CAIRN_EINVAL, "'%s'[%zu] is not a finite number", what, i);
    return CAIRN_OK;
}

static cairn_status check_pair(cairn_ctx *ctx, const int32_t *y_true, const int32_t *y_pred,
                               size_t n, size_t n_classes)
{
    cairn_status rc = cn_eval_check_labels(ctx, y_true, n, n_classes, "y_true");
    if (rc != CAIRN_OK)
        return rc;
    return cn_eval_check_labels(ctx, y_pred, n, n_classes, "y_pred");
}

/* K x K counts as doubles, allocated; rows = true class. */
static double *confusion(const int32_t *y_true, const int32_t *y_pred, size_t n, size_t k)
{
    double *c = cn_xcalloc(k * k, sizeof *c);
    for (size_t i = 0; i < n; i++)
        c[(size_t)y_true[i] * k + (size_t)y_pred[i]] += 1.0;
    return c;
}

cairn_status cairn_eval_accuracy(cairn_ctx *ctx, const int32_t *y_true, const int32_t *y_pred,
                                 size_t n, double *out)
{
    if (n == 0)
        return cn_fail(ctx, CAIRN_EINVAL, "'y_true' is empty; give at least one row");
    size_t hit = 0;
    for (size_t i = 0; i < n; i++)
        hit += y_true[i] == y_pred[i];
    *out = (double)hit / (double)n;
    return CAIRN_OK;
}

cairn_status cairn_eval_confusion_matrix(cairn_ctx *ctx, const int32_t *y_true,
                                         const int32_t *y_pred, size_t n, size_t n_classes,
                                         int64_t *counts)
{
    cairn_status rc = check_pair(ctx, y_true, y_pred, n, n_classes);
    if (rc != CAIRN_OK)
        return rc;
    memset(counts, 0, n_classes * n_classes * sizeof *counts);
    for (size_t i = 0; i < n; i++)
        counts[(size_t)y_true[i] * n_classes + (size_t)y_pred[i]]++;
    return CAIRN_OK;
}

cairn_status cairn_eval_balanced_accuracy(cairn_ctx *ctx, const int32_t *y_true,
                                          const int32_t *y_pred, size_t n, size_t n_classes,
                                          double *out)
{
    cairn_status rc = check_pair(ctx, y_true, y_pred, n, n_classes);
    if (rc != CAIRN_OK)
        return rc;
    double *c = confusion(y_true, y_pred, n, n_classes);
    double sum = 0;
    size_t m = 0;
    for (size_t k = 0; k < n_classes; k++) {
        double row = 0;
        for (size_t j = 0; j < n_classes; j++)
            row += c[k * n_classes + j];
        if (row > 0) {
            sum += c[k * n_classes + k] / row;
            m++;
        }
    }
    free(c);
    *out = sum / (double)m;
    return CAIRN_OK;
}

/* Per-class counts: tp, predicted, true; present[k] when the class occurs anywhere. */
typedef struct prf_counts {
    double *tp, *pred, *truth;
    bool *present;
} prf_counts;

static void prf_count(const int32_t *y_true, const int32_t *y_pred, size_t n, size_t k,
                      prf_counts *pc)
{
    pc->tp = cn_xcalloc(k, sizeof(double));
    pc->pred = cn_xcalloc(k, sizeof(double));
    pc->truth = cn_xcalloc(k, sizeof(double));
    pc->present = cn_xcalloc(k, sizeof(bool));
    for (size_t i = 0; i < n; i++) {
        pc->truth[y_true[i]] += 1;
        pc->pred[y_pred[i]] += 1;
        if (y_true[i] == y_pred[i])
            pc->tp[y_true[i]] += 1;
        pc->present[y_true[i]] = pc->present[y_pred[i]] = true;
    }
}

static void prf_release(prf_counts *pc)
{
    free(pc->tp);
    free(pc->pred);
    free(pc->truth);
    free(pc->present);
}

static double safe_div(double a, double b)
{
    return b == 0 ? 0.0 : a / b;
}

/* F1 as sklearn: 2 p r / (p + r) with the denominator set to 1 when it is 0. */
static double f1_of(double p, double r)
{
    double denom = p + r;
    if (denom == 0.0)
        denom = 1.0;
    return 2.0 * p * r / denom;
}

cairn_status cairn_eval_prf_per_class(cairn_ctx *ctx, const int32_t *y_true, const int32_t *y_pred,
                                      size_t n, size_t n_classes, double *precision, double *recall,
                                      double *f1, int64_t *support)
{
    cairn_status rc = check_pair(ctx, y_true, y_pred, n, n_classes);
    if (rc != CAIRN_OK)
        return rc;
    prf_counts pc;
    prf_count(y_true, y_pred, n, n_classes, &pc);
    for (size_t k = 0; k < n_classes; k++) {
        double p = safe_div(pc.tp[k], pc.pred[k]), r = safe_div(pc.tp[k], pc.truth[k]);
        if (precision)
            precision[k] = p;
        if (recall)
            recall[k] = r;
        if (f1)
            f1[k] = f1_of(p, r);
        if (support)
            support[k] = (int64_t)pc.truth[k];
    }
    prf_release(&pc);
    return CAIRN_OK;
}

cairn_status cairn_eval_prf(cairn_ctx *ctx, const int32_t *y_true, const int32_t *y_pred, size_t n,
                            size_t n_classes, cairn_average average, double *precision,
                            double *recall, double *f1)
{
    cairn_status rc = check_pair(ctx, y_true, y_pred, n, n_classes);
    if (rc != CAIRN_OK)
        return rc;
    if (average != CAIRN_AVERAGE_MACRO && average != CAIRN_AVERAGE_WEIGHTED &&
        average != CAIRN_AVERAGE_MICRO)
        return cn_fail(ctx, CAIRN_EINVAL, "average %d is not macro, weighted or micro",
                       (int)average);
    prf_counts pc;
    prf_count(y_true, y_pred, n, n_classes, &pc);
    double p = 0, r = 0, f = 0;
    if (average == CAIRN_AVERAGE_MICRO) {
        double tp = 0, pred = 0, truth = 0;
        for (size_t k = 0; k < n_classes; k++) {
            tp += pc.tp[k];
            pred += pc.pred[k];
            truth += pc.truth[k];
        }
        p = safe_div(tp, pred);
        r = safe_div(tp, truth);
        f = f1_of(p, r);
    } else {
        double wsum = 0;
        for (size_t k = 0; k < n_classes; k++) {
            if (!pc.present[k])
                continue;
            double w = average == CAIRN_AVERAGE_WEIGHTED ? pc.truth[k] : 1.0;
            double pk = safe_div(pc.tp[k], pc.pred[k]), rk = safe_div(pc.tp[k], pc.truth[k]);
            p += pk * w;
            r += rk * w;
            f += f1_of(pk, rk) * w;
            wsum += w;
        }
        p /= wsum;
        r /= wsum;
        f /= wsum;
    }
    prf_release(&pc);
    if (precision)
        *precision = p;
    if (recall)
        *recall = r;
    if (f1)
        *f1 = f;
    return CAIRN_OK;
}

cairn_status cairn_eval_mcc(cairn_ctx *ctx, const int32_t *y_true, const int32_t *y_pred, size_t n,
                            size_t n_classes, double *out)
{
    cairn_status rc = check_pair(ctx, y_true, y_pred, n, n_classes);
    if (rc != CAIRN_OK)
        return rc;
    size_t k = n_classes;
    double *c = confusion(y_true, y_pred, n, k);
    double correct = 0, samples = 0, tp_dot = 0, pp_dot = 0, tt_dot = 0;
    for (size_t i = 0; i < k; i++) {
        double t_sum = 0, p_sum = 0;
        for (size_t j = 0; j < k; j++) {
            t_sum += c[i * k + j];
            p_sum += c[j * k + i];
        }
        correct += c[i * k + i];
        samples += p_sum;
        tp_dot += t_sum * p_sum;
        pp_dot += p_sum * p_sum;
        tt_dot += t_sum * t_sum;
    }
    free(c);
    double cov_ytyp = correct * samples - tp_dot;
    double cov_ypyp = samples * samples - pp_dot;
    double cov_ytyt = samples * samples - tt_dot;
    *out = cov_ypyp * cov_ytyt == 0 ? 0.0 : cov_ytyp / sqrt(cov_ytyt * cov_ypyp);
    return CAIRN_OK;
}

cairn_status cairn_eval_cohen_kappa(cairn_ctx *ctx, const int32_t *y_true, const int32_t *y_pred,
                                    size_t n, size_t n_classes, double *out)
{
    cairn_status rc = check_pair(ctx, y_true, y_pred, n, n_classes);
    if (rc != CAIRN_OK)
        return rc;
    size_t k = n_classes;
    double *c = confusion(y_true, y_pred, n, k);
    double *sum0 = cn_xcalloc(k, sizeof *sum0), *sum1 = cn_xcalloc(k, sizeof *sum1);
    double total = 0;
    for (size_t i = 0; i < k; i++)
        for (size_t j = 0; j < k; j++) {
            sum0[j] += c[i * k + j];
            sum1[i] += c[i * k + j];
            total += c[i * k + j];
        }
    /* expected = outer(sum0, sum1) / total; kappa = 1 - sum(w C) / sum(w E), w = 1 - I. */
    double observed = 0, expected = 0;
    for (size_t i = 0; i < k; i++)
        for (size_t j = 0; j < k; j++) {
            if (i == j)
                continue;
            observed += c[i * k + j];
            expected += sum0[i] * sum1[j] / total;
        }
    free(c);
    free(sum0);
    free(sum1);
    *out = 1.0 - observed / expected; /* 0/0 = NaN when both use one class, as sklearn */
    return CAIRN_OK;
}

static cairn_status check_proba(cairn_ctx *ctx, const double *proba, size_t n, size_t n_classes)
{
    for (size_t i = 0; i < n * n_classes; i++)
        if (!isfinite(proba[i]))
            return cn_fail(ctx, CAIRN_EINVAL, "probability row %zu column %zu is not finite",
                           i / n_classes, i % n_classes);
    return CAIRN_OK;
}

cairn_status cairn_eval_log_loss(cairn_ctx *ctx, const int32_t *y_true, const double *proba,
                                 size_t n, size_t n_classes, double eps, double *out)
{
    cairn_status rc = cn_eval_check_labels(ctx, y_true, n, n_classes, "y_true");
    if (rc != CAIRN_OK)
        return rc;
    if (n_classes < 2)
        return cn_fail(ctx, CAIRN_EINVAL, "log loss needs at least two classes, got %zu",
                       n_classes);
    rc = check_proba(ctx, proba, n, n_classes);
    if (rc != CAIRN_OK)
        return rc;
    if (eps <= 0)
        eps = DBL_EPSILON;
    if (eps >= 0.5)
        return cn_fail(ctx, CAIRN_EINVAL, "log loss eps %g must be below 0.5", eps);
    double total = 0;
    for (size_t i = 0; i < n; i++) {
        const double *row = proba + i * n_classes;
        double sum = 0, mine = 0;
        for (size_t k = 0; k < n_classes; k++) {
            double p = row[k] < eps ? eps : row[k] > 1 - eps ? 1 - eps : row[k];
            sum += p;
            if ((size_t)y_true[i] == k)
                mine = p;
        }
        total += -log(mine / sum);
    }
    *out = total / (double)n;
    return CAIRN_OK;
}

cairn_status cairn_eval_brier_binary(cairn_ctx *ctx, const int32_t *y_true, const double *prob_pos,
                                     size_t n, double *out)
{
    cairn_status rc = cn_eval_check_labels(ctx, y_true, n, 2, "y_true");
    if (rc != CAIRN_OK)
        return rc;
    double sum = 0;
    for (size_t i = 0; i < n; i++) {
        if (!(prob_pos[i] >= 0 && prob_pos[i] <= 1))
            return cn_fail(ctx, CAIRN_EINVAL,
                           "probability %zu is %g, outside [0, 1]; give probabilities", i,
                           prob_pos[i]);
        double d = (double)y_true[i] - prob_pos[i];
        sum += d * d;
    }
    *out = sum / (double)n;
    return CAIRN_OK;
}

cairn_status cairn_eval_brier_multiclass(cairn_ctx *ctx, const int32_t *y_true, const double *proba,
                                         size_t n, size_t n_classes, double *out)
{
    cairn_status rc = cn_eval_check_labels(ctx, y_true, n, n_classes, "y_true");
    if (rc != CAIRN_OK)
        return rc;
    rc = check_proba(ctx, proba, n, n_classes);
    if (rc != CAIRN_OK)
        return rc;
    double sum = 0;
    for (size_t i = 0; i < n; i++) {
        double row = 0;
        for (size_t k = 0; k < n_classes; k++) {
            double d = ((size_t)y_true[i] == k ? 1.0 : 0.0) - proba[i * n_classes + k];
            row += d * d;
        }
        sum += row;
    }
    *out = sum / (double)n;
    return CAIRN_OK;
}

cairn_status cairn_eval_regression(cairn_ctx *ctx, const double *y_true, const double *y_pred,
                                   size_t n, cairn_regression_metrics *out)
{
    cairn_status rc = cn_eval_check_finite(ctx, y_true, n, "y_true");
    if (rc != CAIRN_OK)
        return rc;
    rc = cn_eval_check_finite(ctx, y_pred, n, "y_pred");
    if (rc != CAIRN_OK)
        return rc;
    double abs_sum = 0, sq_sum = 0, ape_sum = 0, mean = 0;
    for (size_t i = 0; i < n; i++) {
        double d = y_pred[i] - y_true[i];
        abs_sum += fabs(d);
        sq_sum += d * d;
        double denom = fabs(y_true[i]) > DBL_EPSILON ? fabs(y_true[i]) : DBL_EPSILON;
        ape_sum += fabs(d) / denom;
        mean += y_true[i];
    }
    mean /= (double)n;
    double tot = 0;
    for (size_t i = 0; i < n; i++)
        tot += (y_true[i] - mean) * (y_true[i] - mean);
    out->mae = abs_sum / (double)n;
    out->mse = sq_sum / (double)n;
    out->rmse = sqrt(out->mse);
    out->mape = ape_sum / (double)n;
    if (n < 2)
        out->r2 = NAN; /* sklearn warns and returns NaN */
    else if (tot == 0)
        out->r2 = sq_sum == 0 ? 1.0 : 0.0;
    else
        out->r2 = 1.0 - sq_sum / tot;
    return CAIRN_OK;
}
