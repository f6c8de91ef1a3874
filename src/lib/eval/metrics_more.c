/* SPDX-License-Identifier: MIT */
/* metrics_more.c - the rest of scikit-learn 1.2's label and score metrics: F-beta, Jaccard,
 * weighted kappa, likelihood ratios, top-k accuracy, one-vs-rest average precision, and the
 * regression metrics beyond cairn_eval_regression (explained variance, median and max error,
 * MSLE, Tweedie deviances, D^2). Definitions follow sklearn/metrics/_classification.py,
 * _ranking.py and _regression.py; the scorer (score.c) names them. */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "cairn/eval.h"
#include "core/core.h"
#include "base/xmalloc.h"
#include "eval/evalint.h"
#include "base/banned.h"

static cairn_status check_pair(cairn_ctx *ctx, const int32_t *y_true, const int32_t *y_pred,
                               size_t n, size_t n_classes)
{
    cairn_status rc = cn_eval_check_labels(ctx, y_true, n, n_classes, "y_true");
    return rc == CAIRN_OK ? cn_eval_check_labels(ctx, y_pred, n, n_classes, "y_pred") : rc;
}

static cairn_status check_average(cairn_ctx *ctx, cairn_average average)
{
    if (average == CAIRN_AVERAGE_MACRO || average == CAIRN_AVERAGE_WEIGHTED ||
        average == CAIRN_AVERAGE_MICRO)
        return CAIRN_OK;
    return cn_fail(ctx, CAIRN_EINVAL, "average %d is not macro, weighted or micro", (int)average);
}

/* Per-class true positives, predicted and true counts; present: in y_true or y_pred. */
typedef struct counts {
    double *tp, *pred, *truth;
} counts;

static void count(const int32_t *y_true, const int32_t *y_pred, size_t n, size_t k, counts *c)
{
    c->tp = cn_xcalloc(k, sizeof(double));
    c->pred = cn_xcalloc(k, sizeof(double));
    c->truth = cn_xcalloc(k, sizeof(double));
    for (size_t i = 0; i < n; i++) {
        c->truth[y_true[i]] += 1;
        c->pred[y_pred[i]] += 1;
        if (y_true[i] == y_pred[i])
            c->tp[y_true[i]] += 1;
    }
}

static void counts_release(counts *c)
{
    free(c->tp);
    free(c->pred);
    free(c->truth);
}

static double ratio(double a, double b)
{
    return b == 0 ? 0.0 : a / b; /* zero_division=0 */
}

/* F-beta as sklearn 1.2's _prf: (1 + b^2) p r / (b^2 p + r), denominator 0 -> 1. */
static double fbeta_of(double p, double r, double beta2)
{
    double denom = beta2 * p + r;
    return (1.0 + beta2) * p * r / (denom == 0.0 ? 1.0 : denom);
}

cairn_status cairn_eval_fbeta(cairn_ctx *ctx, const int32_t *y_true, const int32_t *y_pred,
                              size_t n, size_t n_classes, cairn_average average, double beta,
                              double *out)
{
    cairn_status rc = check_pair(ctx, y_true, y_pred, n, n_classes);
    if (rc == CAIRN_OK)
        rc = check_average(ctx, average);
    if (rc != CAIRN_OK)
        return rc;
    if (!(beta >= 0) || !isfinite(beta))
        return cn_fail(ctx, CAIRN_EINVAL, "fbeta: beta %g must be a finite number >= 0", beta);
    double b2 = beta * beta, sum = 0, wsum = 0;
    counts c;
    count(y_true, y_pred, n, n_classes, &c);
    if (average == CAIRN_AVERAGE_MICRO) {
        double tp = 0, pred = 0, truth = 0;
        for (size_t k = 0; k < n_classes; k++) {
            tp += c.tp[k];
            pred += c.pred[k];
            truth += c.truth[k];
        }
        sum = fbeta_of(ratio(tp, pred), ratio(tp, truth), b2);
        wsum = 1;
    } else {
        for (size_t k = 0; k < n_classes; k++) {
            if (c.truth[k] == 0 && c.pred[k] == 0)
                continue; /* labels=None: only classes present */
            double w = average == CAIRN_AVERAGE_WEIGHTED ? c.truth[k] : 1.0;
            sum += w * fbeta_of(ratio(c.tp[k], c.pred[k]), ratio(c.tp[k], c.truth[k]), b2);
            wsum += w;
        }
    }
    counts_release(&c);
    *out = wsum == 0 ? 0.0 : sum / wsum;
    return CAIRN_OK;
}

cairn_status cairn_eval_jaccard(cairn_ctx *ctx, const int32_t *y_true, const int32_t *y_pred,
                                size_t n, size_t n_classes, cairn_average average, double *out)
{
    cairn_status rc = check_pair(ctx, y_true, y_pred, n, n_classes);
    if (rc == CAIRN_OK)
        rc = check_average(ctx, average);
    if (rc != CAIRN_OK)
        return rc;
    counts c;
    count(y_true, y_pred, n, n_classes, &c);
    double sum = 0, wsum = 0;
    if (average == CAIRN_AVERAGE_MICRO) {
        double tp = 0, un = 0;
        for (size_t k = 0; k < n_classes; k++) {
            tp += c.tp[k];
            un += c.pred[k] + c.truth[k] - c.tp[k];
        }
        sum = ratio(tp, un);
        wsum = 1;
    } else {
        for (size_t k = 0; k < n_classes; k++) {
            if (c.truth[k] == 0 && c.pred[k] == 0)
                continue;
            double w = average == CAIRN_AVERAGE_WEIGHTED ? c.truth[k] : 1.0;
            sum += w * ratio(c.tp[k], c.pred[k] + c.truth[k] - c.tp[k]);
            wsum += w;
        }
    }
    counts_release(&c);
    *out = wsum == 0 ? 0.0 : sum / wsum;
    return CAIRN_OK;
}

cairn_status cairn_eval_jaccard_per_class(cairn_ctx *ctx, const int32_t *y_true,
                                          const int32_t *y_pred, size_t n, size_t n_classes,
                                          double *jaccard)
{
    cairn_status rc = check_pair(ctx, y_true, y_pred, n, n_classes);
    if (rc != CAIRN_OK)
        return rc;
    counts c;
    count(y_true, y_pred, n, n_classes, &c);
    for (size_t k = 0; k < n_classes; k++)
        jaccard[k] = ratio(c.tp[k], c.pred[k] + c.truth[k] - c.tp[k]);
    counts_release(&c);
    return CAIRN_OK;
}

cairn_status cairn_eval_cohen_kappa_weighted(cairn_ctx *ctx, const int32_t *y_true,
                                             const int32_t *y_pred, size_t n, size_t n_classes,
                                             cairn_kappa_weights weights, double *out)
{
    cairn_status rc = check_pair(ctx, y_true, y_pred, n, n_classes);
    if (rc != CAIRN_OK)
        return rc;
    if (weights != CAIRN_KAPPA_NONE && weights != CAIRN_KAPPA_LINEAR &&
        weights != CAIRN_KAPPA_QUADRATIC)
        return cn_fail(ctx, CAIRN_EINVAL, "kappa weights %d are not none, linear or quadratic",
                       (int)weights);
    /* sklearn's confusion matrix has a row per label present in y_true or y_pred, so the
     * weights |i - j| count positions among the present classes. */
    size_t k = n_classes, m = 0;
    int32_t *pos = cn_xmalloc(k * sizeof *pos);
    bool *present = cn_xcalloc(k, sizeof *present);
    for (size_t i = 0; i < n; i++)
        present[y_true[i]] = present[y_pred[i]] = true;
    for (size_t j = 0; j < k; j++)
        pos[j] = present[j] ? (int32_t)m++ : -1;
    double *c = cn_xcalloc(m * m, sizeof *c), *s0 = cn_xcalloc(m, sizeof *s0),
           *s1 = cn_xcalloc(m, sizeof *s1);
    for (size_t i = 0; i < n; i++)
        c[(size_t)pos[y_true[i]] * m + (size_t)pos[y_pred[i]]] += 1;
    for (size_t i = 0; i < m; i++)
        for (size_t j = 0; j < m; j++) {
            s0[j] += c[i * m + j];
            s1[i] += c[i * m + j];
        }
    double observed = 0, expected = 0;
    for (size_t i = 0; i < m; i++)
        for (size_t j = 0; j < m; j++) {
            double d = fabs((double)i - (double)j);
            double w = weights == CAIRN_KAPPA_NONE     ? (i != j)
                       : weights == CAIRN_KAPPA_LINEAR ? d
                                                       : d * d;
            observed += w * c[i * m + j];
            expected += w * s0[i] * s1[j] / (double)n;
        }
    /* sklearn: expected = outer(sum0, sum1) / sum(sum0), sum0 = column sums; same total. */
    *out = 1.0 - observed / expected;
    free(pos);
    free(present);
    free(c);
    free(s0);
    free(s1);
    return CAIRN_OK;
}

cairn_status cairn_eval_likelihood_ratios(cairn_ctx *ctx, const int32_t *y_true,
                                          const int32_t *y_pred, size_t n, double *positive,
                                          double *negative)
{
    cairn_status rc = check_pair(ctx, y_true, y_pred, n, 2);
    if (rc != CAIRN_OK)
        return rc;
    double tp = 0, fp = 0, tn = 0, fn = 0;
    for (size_t i = 0; i < n; i++) {
        if (y_true[i])
            *(y_pred[i] ? &tp : &fn) += 1;
        else
            *(y_pred[i] ? &fp : &tn) += 1;
    }
    /* class_likelihood_ratios: NaN (with a warning there) when a denominator is 0 */
    double pos = NAN, neg = NAN;
    if (tp + fn > 0) {
        if (fp > 0)
            pos = (tp / (tp + fn)) / (fp / (fp + tn));
        if (tn > 0)
            neg = (fn / (tp + fn)) / (tn / (fp + tn));
    }
    if (positive)
        *positive = pos;
    if (negative)
        *negative = neg;
    return CAIRN_OK;
}

cairn_status cairn_eval_top_k_accuracy(cairn_ctx *ctx, const int32_t *y_true, const double *proba,
                                       size_t n, size_t n_classes, size_t k, double *out)
{
    cairn_status rc = cn_eval_check_labels(ctx, y_true, n, n_classes, "y_true");
    if (rc == CAIRN_OK)
        rc = cn_eval_check_finite(ctx, proba, n * n_classes, "proba");
    if (rc != CAIRN_OK)
        return rc;
    if (k < 1)
        return cn_fail(ctx, CAIRN_EINVAL, "top-k accuracy needs k >= 1");
    size_t hits = 0;
    for (size_t i = 0; i < n; i++) {
        const double *row = proba + i * n_classes;
        size_t c = (size_t)y_true[i], rank = 0;
        if (n_classes == 2 && k == 1) {
            /* binary: sklearn thresholds the positive column at 0.5 (scores in [0, 1]) */
            hits += (row[1] > 0.5) == (c == 1);
            continue;
        }
        /* sklearn ranks with a stable ascending argsort reversed: among equal scores the
         * higher class index comes first. */
        for (size_t j = 0; j < n_classes; j++)
            rank += row[j] > row[c] || (row[j] == row[c] && j > c);
        hits += rank < k;
    }
    *out = (double)hits / (double)n;
    return CAIRN_OK;
}

cairn_status cairn_eval_average_precision_ovr(cairn_ctx *ctx, const int32_t *y_true,
                                              const double *proba, size_t n, size_t n_classes,
                                              cairn_average average, double *per_class, double *out)
{
    cairn_status rc = cn_eval_check_labels(ctx, y_true, n, n_classes, "y_true");
    if (rc == CAIRN_OK)
        rc = cn_eval_check_finite(ctx, proba, n * n_classes, "proba");
    if (rc == CAIRN_OK)
        rc = check_average(ctx, average);
    if (rc != CAIRN_OK)
        return rc;
    size_t k = n_classes;
    double *support = cn_xcalloc(k, sizeof *support);
    for (size_t i = 0; i < n; i++)
        support[y_true[i]] += 1;
    for (size_t c = 0; c < k; c++)
        if (support[c] == 0) {
            free(support);
            return cn_fail(ctx, CAIRN_EINVAL,
                           "class %zu never occurs in y_true; average precision over classes "
                           "needs every probability column's class present (scikit-learn "
                           "refuses it too)",
                           c);
        }
    double sum = 0, wsum = 0;
    if (average == CAIRN_AVERAGE_MICRO) {
        int32_t *bin = cn_xmalloc(n * k * sizeof *bin);
        for (size_t i = 0; i < n; i++)
            for (size_t c = 0; c < k; c++)
                bin[i * k + c] = (size_t)y_true[i] == c;
        rc = cairn_eval_average_precision(ctx, bin, proba, n * k, &sum);
        wsum = 1;
        free(bin);
    }
    if (average != CAIRN_AVERAGE_MICRO || per_class) {
        int32_t *bin = cn_xmalloc(n * sizeof *bin);
        double *col = cn_xmalloc(n * sizeof *col);
        for (size_t c = 0; c < k && rc == CAIRN_OK; c++) {
            for (size_t i = 0; i < n; i++) {
                bin[i] = (size_t)y_true[i] == c;
                col[i] = proba[i * k + c];
            }
            double ap;
            rc = cairn_eval_average_precision(ctx, bin, col, n, &ap);
            if (per_class)
                per_class[c] = ap;
            if (average != CAIRN_AVERAGE_MICRO) {
                double w = average == CAIRN_AVERAGE_WEIGHTED ? support[c] : 1.0;
                sum += w * ap;
                wsum += w;
            }
        }
        free(bin);
        free(col);
    }
    free(support);
    if (rc == CAIRN_OK)
        *out = sum / wsum;
    return rc;
}

cairn_status cairn_eval_roc_auc_per_class(cairn_ctx *ctx, const int32_t *y_true,
                                          const double *proba, size_t n, size_t n_classes,
                                          size_t cls, double *out)
{
    cairn_status rc = cn_eval_check_labels(ctx, y_true, n, n_classes, "y_true");
    if (rc == CAIRN_OK)
        rc = cn_eval_check_finite(ctx, proba, n * n_classes, "proba");
    if (rc != CAIRN_OK)
        return rc;
    if (cls >= n_classes)
        return cn_fail(ctx, CAIRN_EINVAL, "class %zu is not in 0..%zu", cls, n_classes - 1);
    int32_t *bin = cn_xmalloc(n * sizeof *bin);
    double *col = cn_xmalloc(n * sizeof *col);
    for (size_t i = 0; i < n; i++) {
        bin[i] = (size_t)y_true[i] == cls;
        col[i] = proba[i * n_classes + cls];
    }
    rc = cairn_eval_roc_auc_binary(ctx, bin, col, n, out);
    free(bin);
    free(col);
    return rc;
}

/* ---- regression ---------------------------------------------------------------------------- */

static cairn_status check_reg(cairn_ctx *ctx, const double *y_true, const double *y_pred, size_t n)
{
    cairn_status rc = cn_eval_check_finite(ctx, y_true, n, "y_true");
    return rc == CAIRN_OK ? cn_eval_check_finite(ctx, y_pred, n, "y_pred") : rc;
}

cairn_status cairn_eval_explained_variance(cairn_ctx *ctx, const double *y_true,
                                           const double *y_pred, size_t n, double *out)
{
    cairn_status rc = check_reg(ctx, y_true, y_pred, n);
    if (rc != CAIRN_OK)
        return rc;
    double md = 0, mt = 0;
    for (size_t i = 0; i < n; i++) {
        md += y_true[i] - y_pred[i];
        mt += y_true[i];
    }
    md /= (double)n;
    mt /= (double)n;
    double num = 0, den = 0;
    for (size_t i = 0; i < n; i++) {
        double d = y_true[i] - y_pred[i] - md, t = y_true[i] - mt;
        num += d * d;
        den += t * t;
    }
    /* force_finite=True: a constant y_true gives 1 when perfect, else 0 */
    *out = den == 0 ? (num == 0 ? 1.0 : 0.0) : 1.0 - (num / (double)n) / (den / (double)n);
    return CAIRN_OK;
}

static double median_of(double *v, size_t n)
{
    cn_eval_sort(v, n);
    return cn_eval_percentile_sorted(v, n, 50.0);
}

cairn_status cairn_eval_median_absolute_error(cairn_ctx *ctx, const double *y_true,
                                              const double *y_pred, size_t n, double *out)
{
    cairn_status rc = check_reg(ctx, y_true, y_pred, n);
    if (rc != CAIRN_OK)
        return rc;
    double *d = cn_xmalloc(n * sizeof *d);
    for (size_t i = 0; i < n; i++)
        d[i] = fabs(y_pred[i] - y_true[i]);
    *out = median_of(d, n);
    free(d);
    return CAIRN_OK;
}

cairn_status cairn_eval_max_error(cairn_ctx *ctx, const double *y_true, const double *y_pred,
                                  size_t n, double *out)
{
    cairn_status rc = check_reg(ctx, y_true, y_pred, n);
    if (rc != CAIRN_OK)
        return rc;
    double m = 0;
    for (size_t i = 0; i < n; i++)
        m = fmax(m, fabs(y_true[i] - y_pred[i]));
    *out = m;
    return CAIRN_OK;
}

cairn_status cairn_eval_msle(cairn_ctx *ctx, const double *y_true, const double *y_pred, size_t n,
                             double *out)
{
    cairn_status rc = check_reg(ctx, y_true, y_pred, n);
    if (rc != CAIRN_OK)
        return rc;
    double sum = 0;
    for (size_t i = 0; i < n; i++) {
        if (y_true[i] < 0 || y_pred[i] < 0)
            return cn_fail(ctx, CAIRN_EINVAL,
                           "mean squared log error needs values >= 0, but row %zu has %s %g; "
                           "use rmse or mae for targets that can be negative",
                           i + 1, y_true[i] < 0 ? "y_true" : "y_pred",
                           y_true[i] < 0 ? y_true[i] : y_pred[i]);
        double d = log1p(y_true[i]) - log1p(y_pred[i]);
        sum += d * d;
    }
    *out = sum / (double)n;
    return CAIRN_OK;
}

/* Checks the values a Tweedie power allows (sklearn's mean_tweedie_deviance). */
static cairn_status tweedie_domain(cairn_ctx *ctx, const double *y_true, const double *y_pred,
                                   size_t n, double power)
{
    if (!isfinite(power) || (power > 0 && power < 1))
        return cn_fail(ctx, CAIRN_EINVAL,
                       "Tweedie power %g is not allowed; use p <= 0 or p >= 1 (0 normal, 1 "
                       "Poisson, 2 Gamma)",
                       power);
    for (size_t i = 0; i < n; i++) {
        const char *bad = NULL;
        if (power < 0 && y_pred[i] <= 0)
            bad = "y_pred must be > 0";
        else if (power >= 1 && power < 2 && (y_true[i] < 0 || y_pred[i] <= 0))
            bad = "y_true must be >= 0 and y_pred > 0";
        else if (power >= 2 && (y_true[i] <= 0 || y_pred[i] <= 0))
            bad = "y_true and y_pred must be > 0";
        if (bad)
            return cn_fail(ctx, CAIRN_EINVAL,
                           "Tweedie deviance with power %g: %s, but row %zu has y_true %g and "
                           "y_pred %g; use a deviance whose domain fits the target",
                           power, bad, i + 1, y_true[i], y_pred[i]);
    }
    return CAIRN_OK;
}

/* The unit deviance of one row (sklearn's _mean_tweedie_deviance). */
static double tweedie_unit(double y, double mu, double p)
{
    if (p == 0)
        return (y - mu) * (y - mu);
    if (p == 1)
        return 2 * ((y == 0 ? 0.0 : y * log(y / mu)) - y + mu);
    if (p == 2)
        return 2 * (log(mu / y) + y / mu - 1);
    double yp = p < 0 ? fmax(y, 0.0) : y;
    return 2 * (pow(yp, 2 - p) / ((1 - p) * (2 - p)) - y * pow(mu, 1 - p) / (1 - p) +
                pow(mu, 2 - p) / (2 - p));
}

cairn_status cairn_eval_tweedie_deviance(cairn_ctx *ctx, const double *y_true, const double *y_pred,
                                         size_t n, double power, double *out)
{
    cairn_status rc = check_reg(ctx, y_true, y_pred, n);
    if (rc == CAIRN_OK)
        rc = tweedie_domain(ctx, y_true, y_pred, n, power);
    if (rc != CAIRN_OK)
        return rc;
    double sum = 0;
    for (size_t i = 0; i < n; i++)
        sum += tweedie_unit(y_true[i], y_pred[i], power);
    *out = sum / (double)n;
    return CAIRN_OK;
}

cairn_status cairn_eval_d2_tweedie(cairn_ctx *ctx, const double *y_true, const double *y_pred,
                                   size_t n, double power, double *out)
{
    cairn_status rc = check_reg(ctx, y_true, y_pred, n);
    if (rc == CAIRN_OK)
        rc = tweedie_domain(ctx, y_true, y_pred, n, power);
    if (rc != CAIRN_OK)
        return rc;
    if (n < 2) {
        *out = NAN; /* sklearn warns and returns NaN */
        return CAIRN_OK;
    }
    double mean = 0, num = 0, den = 0;
    for (size_t i = 0; i < n; i++)
        mean += y_true[i];
    mean /= (double)n;
    for (size_t i = 0; i < n; i++) {
        num += tweedie_unit(y_true[i], y_pred[i], power);
        den += tweedie_unit(y_true[i], mean, power);
    }
    *out = 1.0 - num / den;
    return CAIRN_OK;
}

cairn_status cairn_eval_d2_absolute_error(cairn_ctx *ctx, const double *y_true,
                                          const double *y_pred, size_t n, double *out)
{
    cairn_status rc = check_reg(ctx, y_true, y_pred, n);
    if (rc != CAIRN_OK)
        return rc;
    if (n < 2) {
        *out = NAN;
        return CAIRN_OK;
    }
    double *v = cn_xmemdup(y_true, n * sizeof *v);
    double med = median_of(v, n), num = 0, den = 0;
    free(v);
    for (size_t i = 0; i < n; i++) {
        num += fabs(y_true[i] - y_pred[i]);
        den += fabs(y_true[i] - med);
    }
    /* d2_pinball_score: a zero denominator gives 1 when perfect, else 0 */
    *out = den == 0 ? (num == 0 ? 1.0 : 0.0) : 1.0 - num / den;
    return CAIRN_OK;
}
