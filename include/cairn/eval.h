/* SPDX-License-Identifier: MIT */
/* eval.h - evaluation metrics (scikit-learn 1.2 definitions), curves, resampling, statistical
 * tests (SciPy 1.10 / statsmodels definitions) and SVG pictures, all from plain arrays.
 * Classification labels are int32 class indices 0..K-1; probabilities are n x K row-major
 * (for K = 2, column 1 is the positive class). See docs/eval.md. */
#ifndef CAIRN_EVAL_H
#define CAIRN_EVAL_H

#include "cairn.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- classification: labels ------------------------------------------------------------- */

typedef enum cairn_average {
    CAIRN_AVERAGE_MACRO = 0, /* unweighted mean over the classes present in y_true or y_pred */
    CAIRN_AVERAGE_WEIGHTED,  /* mean weighted by each class's support in y_true */
    CAIRN_AVERAGE_MICRO      /* from the summed counts of all classes */
} cairn_average;

/* Every function below fails with CAIRN_EINVAL when n is 0, n_classes < 1 or a label lies
 * outside 0..n_classes-1. "Classes present" means those occurring in y_true or y_pred, which is
 * scikit-learn's labels=None: a class in neither array takes no part in macro averages. */
CAIRN_API cairn_status cairn_eval_accuracy(cairn_ctx *ctx, const int32_t *y_true,
                                           const int32_t *y_pred, size_t n, double *out);
/* Mean recall over the classes present in y_true (balanced_accuracy_score). */
CAIRN_API cairn_status cairn_eval_balanced_accuracy(cairn_ctx *ctx, const int32_t *y_true,
                                                    const int32_t *y_pred, size_t n,
                                                    size_t n_classes, double *out);
/* counts: n_classes x n_classes, row-major, rows = true class, columns = predicted class. */
CAIRN_API cairn_status cairn_eval_confusion_matrix(cairn_ctx *ctx, const int32_t *y_true,
                                                   const int32_t *y_pred, size_t n,
                                                   size_t n_classes, int64_t *counts);
/* Per-class precision, recall, F1 and support, each an array of n_classes (any may be NULL).
 * A zero denominator gives 0 (zero_division=0). */
CAIRN_API cairn_status cairn_eval_prf_per_class(cairn_ctx *ctx, const int32_t *y_true,
                                                const int32_t *y_pred, size_t n, size_t n_classes,
                                                double *precision, double *recall, double *f1,
                                                int64_t *support);
/* Averaged precision, recall and F1 (any output may be NULL), zero_division=0. */
CAIRN_API cairn_status cairn_eval_prf(cairn_ctx *ctx, const int32_t *y_true, const int32_t *y_pred,
                                      size_t n, size_t n_classes, cairn_average average,
                                      double *precision, double *recall, double *f1);
/* Matthews correlation coefficient, multiclass (Gorodkin's R_K); 0 when undefined. */
CAIRN_API cairn_status cairn_eval_mcc(cairn_ctx *ctx, const int32_t *y_true, const int32_t *y_pred,
                                      size_t n, size_t n_classes, double *out);
/* Cohen's kappa (unweighted); NaN when both raters use one and the same single class. */
CAIRN_API cairn_status cairn_eval_cohen_kappa(cairn_ctx *ctx, const int32_t *y_true,
                                              const int32_t *y_pred, size_t n, size_t n_classes,
                                              double *out);

/* ---- classification: scores and probabilities -------------------------------------------- */

typedef enum cairn_multiclass {
    CAIRN_MULTICLASS_OVR = 0, /* one-vs-rest */
    CAIRN_MULTICLASS_OVO      /* one-vs-one, Hand & Till (2001) */
} cairn_multiclass;

/* A curve: n points (x[i], y[i]) and n_thresholds thresholds, all owned by the struct.
 * ROC: x = false positive rate, y = true positive rate, n_thresholds = n (the first threshold
 * is max(score) + 1, as scikit-learn 1.2). Precision-recall: x = recall, y = precision,
 * n_thresholds = n - 1 (the last point (0, 1) has none). Calibration: x = mean predicted
 * probability, y = fraction of positives per non-empty bin, no thresholds. */
typedef struct cairn_curve {
    size_t n;
    double *x;
    double *y;
    size_t n_thresholds;
    double *thresholds;
} cairn_curve;
#define CAIRN_CURVE_INIT                                                                           \
    {                                                                                              \
        0, NULL, NULL, 0, NULL                                                                     \
    }
CAIRN_API void cairn_curve_release(cairn_curve *c); /* frees the arrays; NULL is a no-op */

/* Binary ROC AUC from y_true in {0, 1} and any real scores (higher = more positive).
 * CAIRN_EINVAL when y_true holds only one class (the AUC is undefined). */
CAIRN_API cairn_status cairn_eval_roc_auc_binary(cairn_ctx *ctx, const int32_t *y_true,
                                                 const double *score, size_t n, double *out);
/* ROC AUC from probabilities (n x n_classes). n_classes = 2: binary AUC on column 1.
 * n_classes > 2: every class must occur in y_true and each row must sum to 1 (within 1e-8,
 * as scikit-learn checks); average is MACRO or WEIGHTED (by prevalence). */
CAIRN_API cairn_status cairn_eval_roc_auc(cairn_ctx *ctx, const int32_t *y_true,
                                          const double *proba, size_t n, size_t n_classes,
                                          cairn_multiclass multiclass, cairn_average average,
                                          double *out);
/* roc_curve(drop_intermediate=True). On success *out owns new arrays. */
CAIRN_API cairn_status cairn_eval_roc_curve(cairn_ctx *ctx, const int32_t *y_true,
                                            const double *score, size_t n, cairn_curve *out);
/* precision_recall_curve. Without positives, recall is 1 at every threshold (as sklearn). */
CAIRN_API cairn_status cairn_eval_pr_curve(cairn_ctx *ctx, const int32_t *y_true,
                                           const double *score, size_t n, cairn_curve *out);
/* Average precision, the step sum sum_k (R_k - R_{k-1}) P_k (average_precision_score). */
CAIRN_API cairn_status cairn_eval_average_precision(cairn_ctx *ctx, const int32_t *y_true,
                                                    const double *score, size_t n, double *out);
/* Cross-entropy of probabilities (n x n_classes, n_classes >= 2; labels = 0..n_classes-1):
 * clipped to [eps, 1 - eps], rows renormalised, as log_loss. eps <= 0 means DBL_EPSILON,
 * scikit-learn 1.2's default ("auto" for float64); pass 1e-15 for its older default. */
CAIRN_API cairn_status cairn_eval_log_loss(cairn_ctx *ctx, const int32_t *y_true,
                                           const double *proba, size_t n, size_t n_classes,
                                           double eps, double *out);
/* Binary Brier score: mean (y_true - p)^2 with p the probability of class 1 (pos_label=1).
 * CAIRN_EINVAL when a probability lies outside [0, 1]. */
CAIRN_API cairn_status cairn_eval_brier_binary(cairn_ctx *ctx, const int32_t *y_true,
                                               const double *prob_pos, size_t n, double *out);
/* Multiclass Brier score: mean over rows of sum_k (onehot_k - p_k)^2 (twice the binary score
 * when n_classes = 2). */
CAIRN_API cairn_status cairn_eval_brier_multiclass(cairn_ctx *ctx, const int32_t *y_true,
                                                   const double *proba, size_t n, size_t n_classes,
                                                   double *out);

typedef enum cairn_calibration_strategy {
    CAIRN_CALIBRATION_UNIFORM = 0, /* n_bins equal-width bins on [0, 1] */
    CAIRN_CALIBRATION_QUANTILE     /* bin edges at the quantiles of prob_pos */
} cairn_calibration_strategy;
/* calibration_curve: y_true in {0, 1}, prob_pos in [0, 1]; empty bins are left out. */
CAIRN_API cairn_status cairn_eval_calibration_curve(cairn_ctx *ctx, const int32_t *y_true,
                                                    const double *prob_pos, size_t n, size_t n_bins,
                                                    cairn_calibration_strategy strategy,
                                                    cairn_curve *out);

/* ---- regression --------------------------------------------------------------------------- */

typedef struct cairn_regression_metrics {
    double mae, mse, rmse;
    double r2;   /* 1 - SS_res / SS_tot; constant y_true gives 1 if perfect, else 0 (sklearn) */
    double mape; /* mean |y - yhat| / max(|y|, DBL_EPSILON), a fraction, not per cent */
} cairn_regression_metrics;
CAIRN_API cairn_status cairn_eval_regression(cairn_ctx *ctx, const double *y_true,
                                             const double *y_pred, size_t n,
                                             cairn_regression_metrics *out);

/* ---- resampling --------------------------------------------------------------------------- */

/* Stratified k-fold: fold_of[i] in 0..n_folds-1 for each of the n rows, shuffled under seed.
 * Each class's rows are dealt round-robin, so per fold the count of every class differs by at
 * most one between folds, as StratifiedKFold. CAIRN_EINVAL when n_folds < 2 or n_folds > n. */
CAIRN_API cairn_status cairn_stratified_kfold(cairn_ctx *ctx, const int32_t *y, size_t n,
                                              size_t n_classes, size_t n_folds, uint64_t seed,
                                              int32_t *fold_of);

/* A metric over a resample: idx[0..n) are row indices (with repeats) into the caller's data.
 * Return CAIRN_EINVAL (via the ctx) when the metric is undefined on this resample: the
 * bootstrap skips it. */
typedef cairn_status (*cairn_metric_fn)(cairn_ctx *ctx, const size_t *idx, size_t n, void *user,
                                        double *out);

typedef struct cairn_bootstrap_opts {
    size_t n_resamples; /* 0: 1000 */
    double confidence;  /* 0: 0.95 */
    uint64_t seed;
} cairn_bootstrap_opts;
#define CAIRN_BOOTSTRAP_OPTS_INIT                                                                  \
    {                                                                                              \
        0, 0.0, 0                                                                                  \
    }

typedef struct cairn_interval {
    double estimate;  /* the metric on the original rows */
    double low, high; /* percentile interval (linear interpolation, numpy's default) */
    size_t n_valid;   /* resamples on which the metric was defined */
} cairn_interval;

/* Percentile bootstrap confidence interval of a metric over n rows. Fails when the metric
 * fails on the original rows or on more than half of the resamples. */
CAIRN_API cairn_status cairn_bootstrap_ci(cairn_ctx *ctx, size_t n, cairn_metric_fn metric,
                                          void *user, const cairn_bootstrap_opts *opts,
                                          cairn_interval *out);
/* Paired bootstrap of metric_a - metric_b: both evaluated on the same resampled rows. */
CAIRN_API cairn_status cairn_bootstrap_paired_diff(cairn_ctx *ctx, size_t n,
                                                   cairn_metric_fn metric_a, void *user_a,
                                                   cairn_metric_fn metric_b, void *user_b,
                                                   const cairn_bootstrap_opts *opts,
                                                   cairn_interval *out);

/* ---- statistical tests and distributions -------------------------------------------------- */

typedef struct cairn_test_result {
    double statistic; /* t, Wilcoxon's T = min(R+, R-), or McNemar's statistic */
    double pvalue;    /* two-sided */
    double df;        /* degrees of freedom (t-test: n - 1; chi-square: 1); else 0 */
    double z;         /* Wilcoxon normal approximation: the z statistic; else 0 */
    bool exact;       /* the p-value comes from an exact distribution */
} cairn_test_result;

/* Paired t-test of a - b (scipy.stats.ttest_rel). n >= 2. Zero variance gives t = +-inf and
 * p = 0, or NaN for both when all differences are 0 (as SciPy). */
CAIRN_API cairn_status cairn_stats_ttest_paired(cairn_ctx *ctx, const double *a, const double *b,
                                                size_t n, cairn_test_result *out);
/* Wilcoxon signed-rank test of a - b, two-sided, zero_method "wilcox", no continuity
 * correction, as scipy.stats.wilcoxon 1.10 with mode='auto': exact when n <= 50 and no
 * difference is zero (with ties, R+ is truncated to an integer, as SciPy does); otherwise the
 * normal approximation with zeros dropped and the tie correction. CAIRN_EINVAL if all are
 * zero. */
CAIRN_API cairn_status cairn_stats_wilcoxon(cairn_ctx *ctx, const double *a, const double *b,
                                            size_t n, cairn_test_result *out);
/* McNemar's test on the discordant counts: n01 = A right and B wrong, n10 = A wrong and B
 * right. exact: statistic = min(n01, n10), p = min(1, 2 * BinomCDF(min; n01 + n10, 1/2)).
 * Otherwise statistic = (|n01 - n10| - 1)^2 / (n01 + n10) and p = chi2_1 survival (as
 * statsmodels' mcnemar with correction=True); NaN for both when n01 + n10 = 0. */
CAIRN_API cairn_status cairn_stats_mcnemar(cairn_ctx *ctx, int64_t n01, int64_t n10, bool exact,
                                           cairn_test_result *out);
/* The same from two models' predictions on a shared test set. */
CAIRN_API cairn_status cairn_stats_mcnemar_predictions(cairn_ctx *ctx, const int32_t *y_true,
                                                       const int32_t *pred_a, const int32_t *pred_b,
                                                       size_t n, bool exact,
                                                       cairn_test_result *out);

CAIRN_API double cairn_stats_normal_cdf(double z);
CAIRN_API double cairn_stats_normal_quantile(double p); /* NaN outside (0, 1) */
CAIRN_API double cairn_stats_t_cdf(double t, double df);
CAIRN_API double cairn_stats_t_quantile(double p, double df); /* NaN outside (0, 1) */
CAIRN_API double cairn_stats_chi2_sf(double x, double df);
/* Regularized incomplete beta I_x(a, b) and lower incomplete gamma P(a, x); NaN when the
 * arguments are out of range. */
CAIRN_API double cairn_stats_betainc(double a, double b, double x);
CAIRN_API double cairn_stats_gammainc(double a, double x);
CAIRN_API double cairn_stats_gammaincc(double a, double x); /* Q(a, x) = 1 - P(a, x) */

/* ---- pictures (SVG) ----------------------------------------------------------------------- */
/* Each writes a standalone SVG document into *svg_out (free with cairn_free). Texts are
 * escaped; title and labels may be NULL for defaults. */

typedef struct cairn_plot_series {
    const char *name; /* legend entry */
    const double *x;  /* NULL: 1, 2, ..., n (epochs) */
    const double *y;  /* n values; NaN values leave a gap */
    size_t n;
    int panel; /* learning curves: 0 = left/top panel, 1 = second panel */
} cairn_plot_series;

typedef struct cairn_plot_opts {
    const char *title;
    const char *x_label;
    const char *y_label;  /* panel 0 */
    const char *y2_label; /* panel 1 (learning curves) */
    int width, height;    /* pixels; 0: defaults */
} cairn_plot_opts;
#define CAIRN_PLOT_OPTS_INIT                                                                       \
    {                                                                                              \
        NULL, NULL, NULL, NULL, 0, 0                                                               \
    }

/* Learning curves: several series over epochs, in one panel or, when any series has
 * panel = 1, two panels stacked (e.g. losses above, a metric below). */
CAIRN_API cairn_status cairn_plot_learning_curves(cairn_ctx *ctx, const cairn_plot_series *series,
                                                  size_t n_series, const cairn_plot_opts *opts,
                                                  char **svg_out);
/* Confusion-matrix heat map: counts (n_classes^2, rows = true) with row-normalised per cent;
 * labels: n_classes names (NULL: "0", "1", ...). */
CAIRN_API cairn_status cairn_plot_confusion_matrix(cairn_ctx *ctx, const int64_t *counts,
                                                   size_t n_classes, const char *const *labels,
                                                   const cairn_plot_opts *opts, char **svg_out);
/* ROC curves (x = FPR, y = TPR), one per series with its AUC in the legend, and a diagonal. */
CAIRN_API cairn_status cairn_plot_roc(cairn_ctx *ctx, const cairn_curve *curves,
                                      const char *const *names, const double *auc, size_t n_curves,
                                      const cairn_plot_opts *opts, char **svg_out);
/* Precision-recall curves (x = recall, y = precision) as steps, AP in the legend;
 * prevalence (may be NULL) draws the no-skill line per curve. */
CAIRN_API cairn_status cairn_plot_pr(cairn_ctx *ctx, const cairn_curve *curves,
                                     const char *const *names, const double *ap,
                                     const double *prevalence, size_t n_curves,
                                     const cairn_plot_opts *opts, char **svg_out);
/* Reliability diagram from calibration curves, with the perfect-calibration diagonal. */
CAIRN_API cairn_status cairn_plot_calibration(cairn_ctx *ctx, const cairn_curve *curves,
                                              const char *const *names, size_t n_curves,
                                              const cairn_plot_opts *opts, char **svg_out);
/* Regression: predicted (y) against true (x) values as dots, with the y = x diagonal. */
CAIRN_API cairn_status cairn_plot_predicted_vs_true(cairn_ctx *ctx, const double *y_true,
                                                    const double *y_pred, size_t n,
                                                    const cairn_plot_opts *opts, char **svg_out);
/* Optimization history: objective per trial (NaN = failed/pruned, not drawn) as dots and the
 * best-so-far line (minimize or maximize). */
CAIRN_API cairn_status cairn_plot_optimization_history(cairn_ctx *ctx, const double *objective,
                                                       size_t n_trials, bool maximize,
                                                       const cairn_plot_opts *opts, char **svg_out);

#ifdef __cplusplus
}
#endif
#endif
