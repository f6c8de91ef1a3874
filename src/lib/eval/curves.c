/* SPDX-License-Identifier: MIT */
/* curves.c - ranking metrics: ROC and precision-recall curves, ROC AUC (binary, one-vs-rest,
 * one-vs-one), average precision and the calibration curve, following scikit-learn 1.2
 * (sklearn/metrics/_ranking.py, sklearn/calibration.py) step for step so ties and edge cases
 * give its answers. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "cairn/eval.h"
#include "core/core.h"
#include "base/xmalloc.h"
#include "eval/evalint.h"
#include "base/banned.h"

typedef struct scored {
    double score;
    int32_t label;
} scored;

static int by_score_desc(const void *pa, const void *pb)
{
    const scored *a = pa, *b = pb;
    return a->score < b->score ? 1 : a->score > b->score ? -1 : 0;
}

void cn_eval_binary_clf_curve(const int32_t *y_true, const double *score, size_t n, double **fps,
                              double **tps, double **thresholds, size_t *n_out)
{
    scored *s = cn_xmalloc(n * sizeof *s);
    for (size_t i = 0; i < n; i++) {
        s[i].score = score[i];
        s[i].label = y_true[i];
    }
    qsort(s, n, sizeof *s, by_score_desc);
    double *f = cn_xmalloc(n * sizeof *f), *t = cn_xmalloc(n * sizeof *t);
    double *th = cn_xmalloc(n * sizeof *th);
    size_t m = 0;
    double cum = 0;
    for (size_t i = 0; i < n; i++) {
        cum += s[i].label == 1 ? 1.0 : 0.0;
        /* A threshold at the last row of every run of equal scores. */
        if (i + 1 == n || s[i + 1].score != s[i].score) {
            t[m] = cum;
            f[m] = (double)(i + 1) - cum;
            th[m] = s[i].score;
            m++;
        }
    }
    free(s);
    *fps = f;
    *tps = t;
    *thresholds = th;
    *n_out = m;
}

static cairn_status check_binary(cairn_ctx *ctx, const int32_t *y_true, const double *score,
                                 size_t n)
{
    cairn_status rc = cn_eval_check_labels(ctx, y_true, n, 2, "y_true");
    if (rc != CAIRN_OK)
        return rc;
    return cn_eval_check_finite(ctx, score, n, "score");
}

void cairn_curve_release(cairn_curve *c)
{
    if (!c)
        return;
    free(c->x);
    free(c->y);
    free(c->thresholds);
    free(c->counts);
    memset(c, 0, sizeof *c);
}

/* roc_curve(drop_intermediate=True) without input checks. */
static void roc_points(const int32_t *y_true, const double *score, size_t n, cairn_curve *out)
{
    double *fps, *tps, *th;
    size_t m;
    cn_eval_binary_clf_curve(y_true, score, n, &fps, &tps, &th, &m);
    /* Keep the ends and every point where the curve bends (second difference non-zero). */
    size_t kept = 0;
    for (size_t j = 0; j < m; j++) {
        bool keep = m <= 2 || j == 0 || j + 1 == m ||
                    (fps[j + 1] - fps[j]) - (fps[j] - fps[j - 1]) != 0 ||
                    (tps[j + 1] - tps[j]) - (tps[j] - tps[j - 1]) != 0;
        if (keep) {
            fps[kept] = fps[j];
            tps[kept] = tps[j];
            th[kept] = th[j];
            kept++;
        }
    }
    out->n = kept + 1;
    out->n_thresholds = kept + 1;
    out->x = cn_xmalloc(out->n * sizeof(double));
    out->y = cn_xmalloc(out->n * sizeof(double));
    out->thresholds = cn_xmalloc(out->n * sizeof(double));
    double fmax = fps[kept - 1], tmax = tps[kept - 1];
    out->x[0] = fmax > 0 ? 0.0 : NAN;
    out->y[0] = tmax > 0 ? 0.0 : NAN;
    out->thresholds[0] = th[0] + 1; /* scikit-learn 1.2; 1.3 uses +inf */
    for (size_t j = 0; j < kept; j++) {
        out->x[j + 1] = fmax > 0 ? fps[j] / fmax : NAN;
        out->y[j + 1] = tmax > 0 ? tps[j] / tmax : NAN;
        out->thresholds[j + 1] = th[j];
    }
    free(fps);
    free(tps);
    free(th);
}

cairn_status cairn_eval_roc_curve(cairn_ctx *ctx, const int32_t *y_true, const double *score,
                                  size_t n, cairn_curve *out)
{
    memset(out, 0, sizeof *out);
    cairn_status rc = check_binary(ctx, y_true, score, n);
    if (rc != CAIRN_OK)
        return rc;
    roc_points(y_true, score, n, out);
    return CAIRN_OK;
}

/* Trapezoid area, as numpy.trapz. */
static double trapz(const double *x, const double *y, size_t n)
{
    double area = 0;
    for (size_t i = 0; i + 1 < n; i++)
        area += (x[i + 1] - x[i]) * (y[i + 1] + y[i]) / 2.0;
    return area;
}

/* Binary AUC with labels already checked; EINVAL when one class is missing. */
static cairn_status auc_binary(cairn_ctx *ctx, const int32_t *y_true, const double *score, size_t n,
                               double *out)
{
    size_t pos = 0;
    for (size_t i = 0; i < n; i++)
        pos += y_true[i] == 1;
    if (pos == 0 || pos == n)
        return cn_fail(ctx, CAIRN_EINVAL,
                       "only one class present in y_true; roc auc is not defined in that case");
    cairn_curve c = CAIRN_CURVE_INIT;
    roc_points(y_true, score, n, &c);
    *out = trapz(c.x, c.y, c.n);
    cairn_curve_release(&c);
    return CAIRN_OK;
}

cairn_status cairn_eval_roc_auc_binary(cairn_ctx *ctx, const int32_t *y_true, const double *score,
                                       size_t n, double *out)
{
    cairn_status rc = check_binary(ctx, y_true, score, n);
    if (rc != CAIRN_OK)
        return rc;
    return auc_binary(ctx, y_true, score, n, out);
}

cairn_status cairn_eval_roc_auc(cairn_ctx *ctx, const int32_t *y_true, const double *proba,
                                size_t n, size_t n_classes, cairn_multiclass multiclass,
                                cairn_average average, double *out)
{
    cairn_status rc = cn_eval_check_labels(ctx, y_true, n, n_classes, "y_true");
    if (rc != CAIRN_OK)
        return rc;
    rc = cn_eval_check_finite(ctx, proba, n * n_classes, "proba");
    if (rc != CAIRN_OK)
        return rc;
    if (n_classes < 2)
        return cn_fail(ctx, CAIRN_EINVAL, "roc auc needs at least two classes, got %zu", n_classes);
    double *col = cn_xmalloc(n * sizeof *col);
    int32_t *bin = cn_xmalloc(n * sizeof *bin);
    size_t *support = cn_xcalloc(n_classes, sizeof *support);
    if (n_classes == 2) {
        for (size_t i = 0; i < n; i++)
            col[i] = proba[i * 2 + 1];
        rc = auc_binary(ctx, y_true, col, n, out);
        goto done;
    }
    if (average != CAIRN_AVERAGE_MACRO && average != CAIRN_AVERAGE_WEIGHTED) {
        rc = cn_fail(ctx, CAIRN_EINVAL, "multiclass roc auc averages macro or weighted only");
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        double s = 0;
        for (size_t k = 0; k < n_classes; k++)
            s += proba[i * n_classes + k];
        /* numpy.allclose(1, s): |1 - s| <= 1e-8 + 1e-5 |s| */
        if (!(fabs(1.0 - s) <= 1e-8 + 1e-5 * fabs(s))) {
            rc = cn_fail(ctx, CAIRN_EINVAL,
                         "probability row %zu sums to %.10g; multiclass roc auc needs "
                         "probabilities that sum to 1 over classes",
                         i, s);
            goto done;
        }
        support[y_true[i]]++;
    }
    for (size_t k = 0; k < n_classes; k++)
        if (support[k] == 0) {
            rc = cn_fail(ctx, CAIRN_EINVAL,
                         "class %zu never occurs in y_true; multiclass roc auc needs every one "
                         "of the %zu probability columns present",
                         k, n_classes);
            goto done;
        }
    double sum = 0, wsum = 0;
    if (multiclass == CAIRN_MULTICLASS_OVR) {
        for (size_t k = 0; k < n_classes; k++) {
            for (size_t i = 0; i < n; i++) {
                bin[i] = (size_t)y_true[i] == k;
                col[i] = proba[i * n_classes + k];
            }
            double auc;
            rc = auc_binary(ctx, bin, col, n, &auc);
            if (rc != CAIRN_OK)
                goto done;
            double w = average == CAIRN_AVERAGE_WEIGHTED ? (double)support[k] : 1.0;
            sum += auc * w;
            wsum += w;
        }
    } else if (multiclass == CAIRN_MULTICLASS_OVO) {
        /* Hand & Till: mean over class pairs (a, b) of the two AUCs computed on the rows of
         * a or b, scoring with column a then column b. */
        for (size_t a = 0; a < n_classes; a++)
            for (size_t b = a + 1; b < n_classes; b++) {
                double auc_a, auc_b, pair = 0;
                for (int side = 0; side < 2; side++) {
                    size_t cls = side == 0 ? a : b, m = 0;
                    for (size_t i = 0; i < n; i++) {
                        if ((size_t)y_true[i] != a && (size_t)y_true[i] != b)
                            continue;
                        bin[m] = (size_t)y_true[i] == cls;
                        col[m] = proba[i * n_classes + cls];
                        m++;
                    }
                    rc = auc_binary(ctx, bin, col, m, side == 0 ? &auc_a : &auc_b);
                    if (rc != CAIRN_OK)
                        goto done;
                    pair = (double)m;
                }
                double w = average == CAIRN_AVERAGE_WEIGHTED ? pair / (double)n : 1.0;
                sum += (auc_a + auc_b) / 2 * w;
                wsum += w;
            }
    } else {
        rc =
            cn_fail(ctx, CAIRN_EINVAL, "multiclass strategy %d is not ovr or ovo", (int)multiclass);
        goto done;
    }
    *out = sum / wsum;
done:
    free(col);
    free(bin);
    free(support);
    return rc;
}

cairn_status cairn_eval_pr_curve(cairn_ctx *ctx, const int32_t *y_true, const double *score,
                                 size_t n, cairn_curve *out)
{
    memset(out, 0, sizeof *out);
    cairn_status rc = check_binary(ctx, y_true, score, n);
    if (rc != CAIRN_OK)
        return rc;
    double *fps, *tps, *th;
    size_t m;
    cn_eval_binary_clf_curve(y_true, score, n, &fps, &tps, &th, &m);
    out->n = m + 1;
    out->n_thresholds = m;
    out->x = cn_xmalloc(out->n * sizeof(double));
    out->y = cn_xmalloc(out->n * sizeof(double));
    out->thresholds = cn_xmalloc(m * sizeof(double));
    double tmax = tps[m - 1];
    /* Reversed so recall decreases; the last point is (recall 0, precision 1). */
    for (size_t j = 0; j < m; j++) {
        size_t s = m - 1 - j;
        double ps = tps[s] + fps[s];
        out->y[j] = ps != 0 ? tps[s] / ps : 0.0;
        out->x[j] = tmax == 0 ? 1.0 : tps[s] / tmax;
        out->thresholds[j] = th[s];
    }
    out->x[m] = 0.0;
    out->y[m] = 1.0;
    free(fps);
    free(tps);
    free(th);
    return CAIRN_OK;
}

cairn_status cairn_eval_average_precision(cairn_ctx *ctx, const int32_t *y_true,
                                          const double *score, size_t n, double *out)
{
    cairn_curve c = CAIRN_CURVE_INIT;
    cairn_status rc = cairn_eval_pr_curve(ctx, y_true, score, n, &c);
    if (rc != CAIRN_OK)
        return rc;
    double ap = 0;
    for (size_t j = 0; j + 1 < c.n; j++)
        ap += (c.x[j + 1] - c.x[j]) * c.y[j];
    *out = -ap;
    cairn_curve_release(&c);
    return CAIRN_OK;
}

static int cmp_double(const void *pa, const void *pb)
{
    double a = *(const double *)pa, b = *(const double *)pb;
    return a < b ? -1 : a > b ? 1 : 0;
}

void cn_eval_sort(double *v, size_t n)
{
    qsort(v, n, sizeof *v, cmp_double);
}

double cn_eval_percentile_sorted(const double *sorted, size_t n, double q)
{
    double frac = q / 100.0;
    double vi = (double)(n - 1) * frac;
    if (vi >= (double)(n - 1))
        return sorted[n - 1];
    if (vi < 0)
        return sorted[0];
    double prev = floor(vi);
    size_t i = (size_t)prev;
    double a = sorted[i], b = sorted[i + 1], t = vi - prev, diff = b - a;
    return t >= 0.5 ? b - diff * (1 - t) : a + diff * t; /* numpy's _lerp */
}

cairn_status cairn_eval_calibration_curve(cairn_ctx *ctx, const int32_t *y_true,
                                          const double *prob_pos, size_t n, size_t n_bins,
                                          cairn_calibration_strategy strategy, cairn_curve *out)
{
    memset(out, 0, sizeof *out);
    cairn_status rc = check_binary(ctx, y_true, prob_pos, n);
    if (rc != CAIRN_OK)
        return rc;
    if (n_bins < 1 || n_bins > 100000)
        return cn_fail(ctx, CAIRN_EINVAL, "n_bins %zu must be in 1..100000", n_bins);
    if (strategy != CAIRN_CALIBRATION_UNIFORM && strategy != CAIRN_CALIBRATION_QUANTILE)
        return cn_fail(ctx, CAIRN_EINVAL, "calibration strategy %d is not uniform or quantile",
                       (int)strategy);
    for (size_t i = 0; i < n; i++)
        if (prob_pos[i] < 0 || prob_pos[i] > 1)
            return cn_fail(ctx, CAIRN_EINVAL, "prob_pos[%zu] = %g is outside [0, 1]", i,
                           prob_pos[i]);
    double *bins = cn_xmalloc((n_bins + 1) * sizeof *bins);
    double step = 1.0 / (double)n_bins; /* numpy.linspace(0, 1, n_bins + 1) */
    double *lin = cn_xmalloc((n_bins + 1) * sizeof *lin);
    for (size_t i = 0; i <= n_bins; i++)
        lin[i] = (double)i * step;
    lin[n_bins] = 1.0;
    if (strategy == CAIRN_CALIBRATION_UNIFORM) {
        memcpy(bins, lin, (n_bins + 1) * sizeof *bins);
    } else {
        double *sorted = cn_xmemdup(prob_pos, n * sizeof *sorted);
        cn_eval_sort(sorted, n);
        for (size_t i = 0; i <= n_bins; i++)
            bins[i] = cn_eval_percentile_sorted(sorted, n, lin[i] * 100);
        free(sorted);
    }
    free(lin);
    double *sum = cn_xcalloc(n_bins, sizeof *sum), *pos = cn_xcalloc(n_bins, sizeof *pos);
    double *total = cn_xcalloc(n_bins, sizeof *total);
    for (size_t i = 0; i < n; i++) {
        /* numpy.searchsorted(bins[1:-1], p, side="left"): the inner edges below p */
        size_t lo = 0, hi = n_bins - 1;
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            if (bins[1 + mid] < prob_pos[i])
                lo = mid + 1;
            else
                hi = mid;
        }
        sum[lo] += prob_pos[i];
        pos[lo] += y_true[i] == 1 ? 1.0 : 0.0;
        total[lo] += 1;
    }
    size_t m = 0;
    for (size_t b = 0; b < n_bins; b++)
        m += total[b] != 0;
    out->n = m;
    out->x = cn_xmalloc((m ? m : 1) * sizeof(double));
    out->y = cn_xmalloc((m ? m : 1) * sizeof(double));
    out->counts = cn_xmalloc((m ? m : 1) * sizeof(int64_t));
    m = 0;
    for (size_t b = 0; b < n_bins; b++) {
        if (total[b] == 0)
            continue;
        out->x[m] = sum[b] / total[b];
        out->y[m] = pos[b] / total[b];
        out->counts[m] = (int64_t)total[b];
        m++;
    }
    free(bins);
    free(sum);
    free(pos);
    free(total);
    return CAIRN_OK;
}

/* ---- averaged one-vs-rest curves ---- */

static cairn_status check_average(cairn_ctx *ctx, const int32_t *y_true, const double *proba,
                                  size_t n, size_t k, cairn_average average)
{
    cairn_status rc = cn_eval_check_labels(ctx, y_true, n, k, "y_true");
    if (rc == CAIRN_OK && k < 2)
        rc = cn_fail(ctx, CAIRN_EINVAL, "averaged curves need 2 classes or more, got %zu", k);
    if (rc == CAIRN_OK && n > SIZE_MAX / k)
        rc =
            cn_fail(ctx, CAIRN_ELIMIT, "averaged curves: %zu rows x %zu classes is too many", n, k);
    if (rc == CAIRN_OK)
        rc = cn_eval_check_finite(ctx, proba, n * k, "proba");
    if (rc == CAIRN_OK && average != CAIRN_AVERAGE_MICRO && average != CAIRN_AVERAGE_MACRO)
        rc = cn_fail(ctx, CAIRN_EINVAL, "averaged curves: average %d is not micro or macro",
                     (int)average);
    return rc;
}

/* label_binarize(y).ravel() and proba.ravel(), or one class's column (cls < k). */
static void binarize(const int32_t *y_true, const double *proba, size_t n, size_t k, size_t cls,
                     int32_t *yb, double *sb)
{
    if (cls < k) {
        for (size_t i = 0; i < n; i++) {
            yb[i] = (size_t)y_true[i] == cls;
            sb[i] = proba[i * k + cls];
        }
        return;
    }
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < k; j++) {
            yb[i * k + j] = (size_t)y_true[i] == j;
            sb[i * k + j] = proba[i * k + j];
        }
}

static int cmp_desc(const void *pa, const void *pb)
{
    double a = *(const double *)pa, b = *(const double *)pb;
    return a > b ? -1 : a < b ? 1 : 0;
}

/* Sorted distinct values of all curves' x (ascending, or descending when desc). */
static double *union_grid(const cairn_curve *c, size_t k, bool desc, size_t *n_out)
{
    size_t total = 0;
    for (size_t j = 0; j < k; j++)
        total += c[j].n;
    double *g = cn_xmalloc((total ? total : 1) * sizeof *g);
    size_t m = 0;
    for (size_t j = 0; j < k; j++)
        for (size_t i = 0; i < c[j].n; i++)
            if (isfinite(c[j].x[i]))
                g[m++] = c[j].x[i];
    qsort(g, m, sizeof *g, desc ? cmp_desc : cmp_double);
    size_t u = 0;
    for (size_t i = 0; i < m; i++)
        if (u == 0 || g[i] != g[u - 1])
            g[u++] = g[i];
    *n_out = u;
    return g;
}

/* numpy.interp(x, xp, fp) for ascending xp (ties: the last of them). */
static double interp(double x, const double *xp, const double *fp, size_t n)
{
    if (x < xp[0])
        return fp[0];
    size_t lo = 0, hi = n; /* the last j with xp[j] <= x */
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (xp[mid] <= x)
            lo = mid;
        else
            hi = mid;
    }
    if (lo + 1 >= n)
        return fp[n - 1];
    return fp[lo] + (fp[lo + 1] - fp[lo]) * (x - xp[lo]) / (xp[lo + 1] - xp[lo]);
}

/* A PR curve's step precision at recall r: y[j] of the last j with x[j] >= r (x descending). */
static double step_precision(const cairn_curve *c, double r)
{
    size_t best = 0;
    for (size_t j = 0; j < c->n && c->x[j] >= r; j++)
        best = j;
    return c->y[best];
}

static cairn_status curve_average(cairn_ctx *ctx, bool roc, const int32_t *y_true,
                                  const double *proba, size_t n, size_t k, cairn_average average,
                                  cairn_curve *out, double *value)
{
    memset(out, 0, sizeof *out);
    cairn_status rc = check_average(ctx, y_true, proba, n, k, average);
    if (rc != CAIRN_OK)
        return rc;
    double v = NAN;
    if (average == CAIRN_AVERAGE_MICRO) {
        int32_t *yb = cn_xmalloc(n * k * sizeof *yb);
        double *sb = cn_xmalloc(n * k * sizeof *sb);
        binarize(y_true, proba, n, k, k, yb, sb);
        rc = roc ? cairn_eval_roc_curve(ctx, yb, sb, n * k, out)
                 : cairn_eval_pr_curve(ctx, yb, sb, n * k, out);
        if (rc == CAIRN_OK)
            rc = roc ? auc_binary(ctx, yb, sb, n * k, &v)
                     : cairn_eval_average_precision(ctx, yb, sb, n * k, &v);
        free(yb);
        free(sb);
        if (rc != CAIRN_OK)
            cairn_curve_release(out);
        else if (value)
            *value = v;
        return rc;
    }
    cairn_curve *per = cn_xcalloc(k, sizeof *per);
    int32_t *yb = cn_xmalloc(n * sizeof *yb);
    double *sb = cn_xmalloc(n * sizeof *sb), sum = 0;
    for (size_t j = 0; j < k && rc == CAIRN_OK; j++) {
        double one = 0;
        binarize(y_true, proba, n, k, j, yb, sb);
        if (roc) {
            rc = auc_binary(ctx, yb, sb, n, &one);
            if (rc != CAIRN_OK)
                cn_errctx(ctx, "macro-average ROC: class %zu", j);
            else
                roc_points(yb, sb, n, &per[j]);
        } else {
            rc = cairn_eval_pr_curve(ctx, yb, sb, n, &per[j]);
            if (rc == CAIRN_OK)
                rc = cairn_eval_average_precision(ctx, yb, sb, n, &one);
        }
        sum += one;
    }
    if (rc == CAIRN_OK) {
        size_t m;
        double *g = union_grid(per, k, !roc, &m);
        out->n = roc ? m : m + 1;
        out->x = cn_xmalloc(out->n * sizeof(double));
        out->y = cn_xmalloc(out->n * sizeof(double));
        for (size_t i = 0; i < m; i++) {
            double mean = 0;
            for (size_t j = 0; j < k; j++)
                mean += roc ? interp(g[i], per[j].x, per[j].y, per[j].n)
                            : (g[i] > 0 ? step_precision(&per[j], g[i]) : 1.0);
            out->x[i] = g[i];
            out->y[i] = mean / (double)k;
        }
        if (!roc) { /* the last point (recall 0, precision 1), as each class's curve ends */
            out->x[m] = 0.0;
            out->y[m] = 1.0;
        }
        free(g);
        if (value)
            *value = sum / (double)k;
    }
    for (size_t j = 0; j < k; j++)
        cairn_curve_release(&per[j]);
    free(per);
    free(yb);
    free(sb);
    return rc;
}

cairn_status cairn_eval_roc_curve_average(cairn_ctx *ctx, const int32_t *y_true,
                                          const double *proba, size_t n, size_t n_classes,
                                          cairn_average average, cairn_curve *out, double *value)
{
    return curve_average(ctx, true, y_true, proba, n, n_classes, average, out, value);
}

cairn_status cairn_eval_pr_curve_average(cairn_ctx *ctx, const int32_t *y_true, const double *proba,
                                         size_t n, size_t n_classes, cairn_average average,
                                         cairn_curve *out, double *value)
{
    return curve_average(ctx, false, y_true, proba, n, n_classes, average, out, value);
}

void cn_eval_rankdata(const double *v, size_t n, double *ranks)
{
    size_t *order = cn_xmalloc(n * sizeof *order);
    for (size_t i = 0; i < n; i++)
        order[i] = i;
    /* Insertion-free: sort indices by value with a small merge sort for stability. */
    size_t *tmp = cn_xmalloc(n * sizeof *tmp);
    for (size_t width = 1; width < n; width *= 2) {
        for (size_t lo = 0; lo < n; lo += 2 * width) {
            size_t mid = lo + width < n ? lo + width : n;
            size_t hi = lo + 2 * width < n ? lo + 2 * width : n;
            size_t a = lo, b = mid, k = lo;
            while (a < mid && b < hi)
                tmp[k++] = v[order[b]] < v[order[a]] ? order[b++] : order[a++];
            while (a < mid)
                tmp[k++] = order[a++];
            while (b < hi)
                tmp[k++] = order[b++];
        }
        memcpy(order, tmp, n * sizeof *order);
    }
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j + 1 < n && v[order[j + 1]] == v[order[i]])
            j++;
        double r = ((double)(i + 1) + (double)(j + 1)) / 2.0;
        for (size_t k = i; k <= j; k++)
            ranks[order[k]] = r;
        i = j + 1;
    }
    free(order);
    free(tmp);
}
