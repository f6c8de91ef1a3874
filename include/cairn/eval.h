/* SPDX-License-Identifier: MIT */
/* eval.h - evaluation metrics (scikit-learn 1.2 definitions), curves, resampling, statistical
 * tests (SciPy 1.10 / statsmodels definitions) and SVG pictures, all from plain arrays.
 * Classification labels are int32 class indices 0..K-1; probabilities are n x K row-major
 * (for K = 2, column 1 is the positive class). See docs/eval.md. */
#ifndef CAIRN_EVAL_H
#define CAIRN_EVAL_H

#include "cairn.h"
#include "data.h"

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

/* F-beta score averaged (zero_division=0): (1 + beta^2) p r / (beta^2 p + r) per class, or
 * from summed counts with MICRO (fbeta_score). beta >= 0; beta = 1 is F1. */
CAIRN_API cairn_status cairn_eval_fbeta(cairn_ctx *ctx, const int32_t *y_true,
                                        const int32_t *y_pred, size_t n, size_t n_classes,
                                        cairn_average average, double beta, double *out);
/* Jaccard index tp / (tp + fp + fn), averaged as jaccard_score (zero_division=0). */
CAIRN_API cairn_status cairn_eval_jaccard(cairn_ctx *ctx, const int32_t *y_true,
                                          const int32_t *y_pred, size_t n, size_t n_classes,
                                          cairn_average average, double *out);
/* Per-class Jaccard index, n_classes values (0 for a class in neither array). */
CAIRN_API cairn_status cairn_eval_jaccard_per_class(cairn_ctx *ctx, const int32_t *y_true,
                                                    const int32_t *y_pred, size_t n,
                                                    size_t n_classes, double *jaccard);

typedef enum cairn_kappa_weights {
    CAIRN_KAPPA_NONE = 0, /* Cohen's kappa */
    CAIRN_KAPPA_LINEAR,   /* weights |i - j| */
    CAIRN_KAPPA_QUADRATIC /* weights (i - j)^2 */
} cairn_kappa_weights;
/* Weighted Cohen's kappa (cohen_kappa_score(weights=...)). i and j are positions among the
 * classes present in y_true or y_pred, in class order, as scikit-learn's confusion matrix. */
CAIRN_API cairn_status cairn_eval_cohen_kappa_weighted(cairn_ctx *ctx, const int32_t *y_true,
                                                       const int32_t *y_pred, size_t n,
                                                       size_t n_classes,
                                                       cairn_kappa_weights weights, double *out);
/* Binary likelihood ratios LR+ = TPR / FPR and LR- = FNR / TNR (class_likelihood_ratios, class
 * 1 positive); NaN where a denominator is 0 or y_true has no positive. Either output may be
 * NULL. */
CAIRN_API cairn_status cairn_eval_likelihood_ratios(cairn_ctx *ctx, const int32_t *y_true,
                                                    const int32_t *y_pred, size_t n,
                                                    double *positive, double *negative);

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
    int64_t *counts; /* calibration: the rows in each point's bin (n of them); else NULL */
} cairn_curve;
#define CAIRN_CURVE_INIT                                                                           \
    {                                                                                              \
        0, NULL, NULL, 0, NULL, NULL                                                               \
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
/* calibration_curve: y_true in {0, 1}, prob_pos in [0, 1]; empty bins are left out. out->counts
 * holds the rows of each point's bin (with QUANTILE and distinct probabilities they differ by
 * at most one). */
CAIRN_API cairn_status cairn_eval_calibration_curve(cairn_ctx *ctx, const int32_t *y_true,
                                                    const double *prob_pos, size_t n, size_t n_bins,
                                                    cairn_calibration_strategy strategy,
                                                    cairn_curve *out);

/* Averaged one-vs-rest curves of K >= 2 classes from probabilities (n x n_classes), as
 * scikit-learn's multiclass examples draw them. MICRO: the curve of all n * K (row, class)
 * pairs, label_binarize(y).ravel() against proba.ravel(); *value is roc_auc_score /
 * average_precision_score with average='micro'. MACRO: ROC is the mean of the per-class true
 * positive rates interpolated on the union of their false positive rates, and PR the mean of
 * the per-class step precisions on the union of their recalls; *value is the mean of the
 * per-class AUCs (roc_auc_score(average='macro', multi_class='ovr'): every class must occur in
 * y_true) or APs (average_precision_score(average='macro')). value may be NULL. */
CAIRN_API cairn_status cairn_eval_roc_curve_average(cairn_ctx *ctx, const int32_t *y_true,
                                                    const double *proba, size_t n, size_t n_classes,
                                                    cairn_average average, cairn_curve *out,
                                                    double *value);
CAIRN_API cairn_status cairn_eval_pr_curve_average(cairn_ctx *ctx, const int32_t *y_true,
                                                   const double *proba, size_t n, size_t n_classes,
                                                   cairn_average average, cairn_curve *out,
                                                   double *value);

/* Top-k accuracy from probabilities (n x n_classes): the share of rows whose true class is
 * among the k highest scores; equal scores rank the higher class index first, as
 * top_k_accuracy_score (its stable argsort reversed). Two classes with k = 1: column 1 > 0.5. */
CAIRN_API cairn_status cairn_eval_top_k_accuracy(cairn_ctx *ctx, const int32_t *y_true,
                                                 const double *proba, size_t n, size_t n_classes,
                                                 size_t k, double *out);
/* One-vs-rest average precision over the classes: MACRO, WEIGHTED (by support) or MICRO
 * (all n * K (row, class) pairs), as average_precision_score on label_binarize(y_true).
 * Every class must occur in y_true. per_class (K values) may be NULL. */
CAIRN_API cairn_status cairn_eval_average_precision_ovr(cairn_ctx *ctx, const int32_t *y_true,
                                                        const double *proba, size_t n,
                                                        size_t n_classes, cairn_average average,
                                                        double *per_class, double *out);
/* ROC AUC of one class against the rest: column cls of proba against y_true == cls. */
CAIRN_API cairn_status cairn_eval_roc_auc_per_class(cairn_ctx *ctx, const int32_t *y_true,
                                                    const double *proba, size_t n, size_t n_classes,
                                                    size_t cls, double *out);

/* ---- regression --------------------------------------------------------------------------- */

typedef struct cairn_regression_metrics {
    double mae, mse, rmse;
    double r2;   /* 1 - SS_res / SS_tot; constant y_true gives 1 if perfect, else 0 (sklearn) */
    double mape; /* mean |y - yhat| / max(|y|, DBL_EPSILON), a fraction, not per cent */
} cairn_regression_metrics;
CAIRN_API cairn_status cairn_eval_regression(cairn_ctx *ctx, const double *y_true,
                                             const double *y_pred, size_t n,
                                             cairn_regression_metrics *out);

/* explained_variance_score: 1 - Var(y - yhat) / Var(y); constant y_true gives 1 if the
 * residual is constant too, else 0 (force_finite). */
CAIRN_API cairn_status cairn_eval_explained_variance(cairn_ctx *ctx, const double *y_true,
                                                     const double *y_pred, size_t n, double *out);
CAIRN_API cairn_status cairn_eval_median_absolute_error(cairn_ctx *ctx, const double *y_true,
                                                        const double *y_pred, size_t n,
                                                        double *out);
CAIRN_API cairn_status cairn_eval_max_error(cairn_ctx *ctx, const double *y_true,
                                            const double *y_pred, size_t n, double *out);
/* Mean squared logarithmic error, mean (log1p(y) - log1p(yhat))^2. EINVAL naming the row when
 * a value is negative (scikit-learn refuses them too). */
CAIRN_API cairn_status cairn_eval_msle(cairn_ctx *ctx, const double *y_true, const double *y_pred,
                                       size_t n, double *out);
/* Mean Tweedie deviance with a power p (mean_tweedie_deviance): p = 0 squared error, 1
 * Poisson, 2 Gamma; 0 < p < 1 is refused, as are values outside the power's domain (p < 0:
 * yhat > 0; 1 <= p < 2: y >= 0, yhat > 0; p >= 2: both > 0), naming the row. */
CAIRN_API cairn_status cairn_eval_tweedie_deviance(cairn_ctx *ctx, const double *y_true,
                                                   const double *y_pred, size_t n, double power,
                                                   double *out);
/* D^2 Tweedie score: 1 - deviance(y, yhat) / deviance(y, mean y) (d2_tweedie_score); NaN for
 * one row. */
CAIRN_API cairn_status cairn_eval_d2_tweedie(cairn_ctx *ctx, const double *y_true,
                                             const double *y_pred, size_t n, double power,
                                             double *out);
/* D^2 absolute error: 1 - sum |y - yhat| / sum |y - median y| (d2_absolute_error_score). */
CAIRN_API cairn_status cairn_eval_d2_absolute_error(cairn_ctx *ctx, const double *y_true,
                                                    const double *y_pred, size_t n, double *out);

/* ---- resampling --------------------------------------------------------------------------- */

/* Stratified k-fold: fold_of[i] in 0..n_folds-1 for each of the n rows, shuffled under seed.
 * Each class's rows are dealt round-robin, so per fold the count of every class differs by at
 * most one between folds, as StratifiedKFold. CAIRN_EINVAL when n_folds < 2 or n_folds > n. */
CAIRN_API cairn_status cairn_stratified_kfold(cairn_ctx *ctx, const int32_t *y, size_t n,
                                              size_t n_classes, size_t n_folds, uint64_t seed,
                                              int32_t *fold_of);

/* Plain k-fold (KFold): consecutive blocks of the rows, shuffled under seed first when asked;
 * the first n % n_folds folds hold one row more. */
CAIRN_API cairn_status cairn_kfold(cairn_ctx *ctx, size_t n, size_t n_folds, bool shuffle,
                                   uint64_t seed, int32_t *fold_of);
/* Group k-fold (GroupKFold): group[i] in 0..n_groups-1; groups are never split. Largest group
 * first (ties: lower id), each into the fold with the fewest rows so far. Needs n_groups >=
 * n_folds. */
CAIRN_API cairn_status cairn_group_kfold(cairn_ctx *ctx, const int32_t *group, size_t n,
                                         size_t n_groups, size_t n_folds, int32_t *fold_of);
/* Stratified group k-fold, scikit-learn 1.2's StratifiedGroupKFold algorithm: groups (in id
 * order, shuffled under seed when asked) sorted stably by the standard deviation of their class
 * counts, largest first; each goes to the fold that minimises the mean over classes of the
 * standard deviation across folds of the fold's share of the class, ties (numpy.isclose) to
 * the fold with fewer rows, then the lower fold. Give group ids in sorted order of the group
 * values (numpy.unique) and shuffle false to get scikit-learn's folds. */
CAIRN_API cairn_status cairn_stratified_group_kfold(cairn_ctx *ctx, const int32_t *y,
                                                    size_t n_classes, const int32_t *group,
                                                    size_t n, size_t n_groups, size_t n_folds,
                                                    bool shuffle, uint64_t seed, int32_t *fold_of);

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

/* ---- scoring predictions ------------------------------------------------------------------ */
/* The one scorer: a table of metrics by name (the definitions above), each with an optional
 * percentile-bootstrap interval. `cairn eval metrics`, `cairn train`, `cairn eval model|final`
 * and a model server all call it, so they agree on names, values and intervals. Metrics
 * (the table with their scikit-learn equivalents is in docs/eval.md): the classification and
 * regression scorers of scikit-learn 1.2 that apply to labels and scores, by fixed names
 * (accuracy, f1_macro, roc_auc_ovr_weighted, kappa_quadratic, msle, ...) and by names with a
 * parameter: top_<k>_accuracy, f<beta>_macro|micro|weighted, roc_auc_class_<label>,
 * average_precision_class_<label>, tweedie_deviance_<power>, d2_tweedie_<power>. */

typedef enum cairn_task {
    CAIRN_TASK_AUTO = 0, /* cairn_predictions_from_table only: inferred from the columns */
    CAIRN_TASK_CLASSIFICATION,
    CAIRN_TASK_REGRESSION
} cairn_task;
CAIRN_API const char *cairn_task_name(cairn_task task); /* "classification", "regression" */

/* Predictions of n rows. Filled by the caller, it borrows the caller's arrays. */
typedef struct cairn_predictions {
    cairn_task task; /* CLASSIFICATION or REGRESSION */
    size_t n;        /* rows */
    /* classification */
    size_t n_classes;               /* K >= 2 */
    const char *const *classes;     /* K names, or NULL ("0", "1", ...) */
    const int32_t *y_true, *y_pred; /* n class indices 0..K-1 */
    const double *proba;            /* n x K, row-major, or NULL (no probability metrics) */
    /* regression */
    const double *target, *predicted; /* n values each */
} cairn_predictions;
#define CAIRN_PREDICTIONS_INIT                                                                     \
    {                                                                                              \
        CAIRN_TASK_AUTO, 0, 0, NULL, NULL, NULL, NULL, NULL, NULL                                  \
    }

/* Predictions from a table with columns y_true and y_pred (class labels or numbers) and, for
 * classification, optionally one probability column per class named proba_<class>,
 * prob_<class>, p_<class> or p<i> (p0, p1, ...: with numeric labels class "<i>", with text
 * labels the i-th class in sorted order, as predict_proba's columns). Classes are every label
 * seen and every probability column's class, sorted numerically when all are numbers, else as
 * text; numbers are named in their shortest form ("1", not "1.0"; proba_1.0 is class "1"). A
 * column whose name looks like probabilities (proba, y_score, probability, ...) but maps to no
 * class is named in a warning on the ctx's log. With task AUTO the task is
 * cairn_predictions_infer_task()'s. Fails with EINVAL naming the row or column when a value is
 * missing, there is one class, two columns are for one class, or the probability columns do not
 * match the classes. On success *out is new and owns its arrays: free it with
 * cairn_predictions_free(). */
CAIRN_API cairn_status cairn_predictions_from_table(cairn_ctx *ctx, const cairn_table *t,
                                                    cairn_task task, cairn_predictions **out);
/* The task of a predictions table when none is given: classification when there are
 * probability columns or y_true or y_pred holds text; regression when y_pred has non-integer
 * values; else the one rule of cairn_column_holds_classes() on y_true (as `cairn train` infers
 * it from the label). Writes the reason to why (size why_size; NULL for none). A table
 * without y_true or y_pred is classification, with a reason saying so. */
CAIRN_API cairn_task cairn_predictions_infer_task(const cairn_table *t, char *why, size_t why_size);
/* Frees what cairn_predictions_from_table() made; NULL is a no-op. */
CAIRN_API void cairn_predictions_free(cairn_predictions *p);

/* A metric with its percentile-bootstrap confidence interval. */
typedef struct cairn_scored_metric {
    const char *name;       /* "accuracy", "f1_macro", "roc_auc_ovr", "rmse", ... (owned) */
    double value;           /* NaN when undefined on these rows */
    double ci_low, ci_high; /* NaN when there is no interval */
    const char *error; /* why value is NaN (from cairn_score(), owned by its result); or NULL */
} cairn_scored_metric;

typedef struct cairn_score_opts {
    /* The metrics to score, in this order (unknown names fail with EINVAL; one that is undefined
     * on these predictions is NaN with its error). NULL: every metric the predictions allow,
     * in the table's order, except f1_micro and roc_auc_ovr, which repeat accuracy and
     * roc_auc and are scored only when named. */
    const char *const *metrics;
    size_t n_metrics;
    size_t n_bootstrap;    /* resamples per interval; 0: no intervals */
    uint64_t seed;         /* bootstrap seed: the same for every metric */
    bool headline_only_ci; /* intervals only for the headline metrics: accuracy,
                              balanced_accuracy, f1_macro, mcc, roc_auc, log_loss; mae, rmse, r2 */
} cairn_score_opts;
#define CAIRN_SCORE_OPTS_INIT                                                                      \
    {                                                                                              \
        NULL, 0, 0, 0, false                                                                       \
    }

typedef struct cairn_score_result {
    cairn_task task;
    size_t n;             /* rows scored */
    size_t n_classes;     /* classification: K; regression: 0 */
    const char **classes; /* K names (owned) */
    bool has_proba;       /* probability metrics were possible */
    size_t n_bootstrap;   /* as asked */
    uint64_t seed;
    double confidence; /* of the intervals: 0.95 */
    size_t n_metrics;
    cairn_scored_metric *metrics; /* names and errors are owned */
    /* classification only, else NULL: */
    int64_t *confusion;              /* K x K, rows = true class, columns = predicted */
    double *precision, *recall, *f1; /* K each, zero_division=0 */
    int64_t *support;                /* K */
} cairn_score_result;

/* Scores predictions. Fails (EINVAL) only on malformed predictions or an unknown metric name;
 * a metric undefined on these rows (AUC with one class present, ...) is NaN with its error
 * and a warning on the ctx's log. On success *out is new: free it with
 * cairn_score_result_free(). */
CAIRN_API cairn_status cairn_score(cairn_ctx *ctx, const cairn_predictions *p,
                                   const cairn_score_opts *opts, cairn_score_result **out);
CAIRN_API void cairn_score_result_free(cairn_score_result *r); /* NULL is a no-op */
/* One metric on all rows, without an interval; fails when it is undefined here. */
CAIRN_API cairn_status cairn_score_metric(cairn_ctx *ctx, const cairn_predictions *p,
                                          const char *name, double *out);
/* The i-th metric name of a task (static text), or NULL past the last: the whole table. */
CAIRN_API const char *cairn_score_metric_name(cairn_task task, size_t i);
/* What `cairn train` and `cairn eval model` score when not told: a NULL-terminated static
 * list (accuracy, f1_macro, roc_auc_ovr, log_loss; rmse, mae, r2). */
CAIRN_API const char *const *cairn_score_default_metrics(cairn_task task);
/* Whether a metric name (of either task) is a loss, error or deviance (lower is better). */
CAIRN_API bool cairn_score_metric_lower_is_better(const char *name);
/* EINVAL naming the first of names[0..n) that is not a metric of the task, and the known ones:
 * "metrics: 'rmse' is not a classification metric; known: accuracy, ...". */
CAIRN_API cairn_status cairn_score_check_metrics(cairn_ctx *ctx, cairn_task task,
                                                 const char *const *names, size_t n);

/* One picture of scored predictions: an SVG document (free with cairn_free()). */
typedef struct cairn_score_plot {
    const char *name; /* "confusion_matrix", "roc", "pr", "calibration", "predicted_vs_true" */
    char *svg;
} cairn_score_plot;
/* The pictures of predictions: classification the confusion matrix and, with probabilities,
 * ROC, precision-recall and calibration curves one-vs-rest per class (only the positive
 * class's with two classes; a class absent from the rows has none), named after the classes;
 * regression predicted against true values. On success *out holds *n_out pictures, freed with
 * cairn_score_plots_free(). */
CAIRN_API cairn_status cairn_score_plots(cairn_ctx *ctx, const cairn_predictions *p,
                                         cairn_score_plot **out, size_t *n_out);
/* How cairn_score_plots_with() draws. */
typedef struct cairn_score_plot_opts {
    const char *subtitle; /* under every title: the split, run and model ("validation split,
                             run 1a2b3c4d (bc-mlp), mlp"); NULL: none */
    cairn_calibration_strategy calibration; /* calibration bins: UNIFORM or QUANTILE */
    size_t calibration_bins;                /* 0: 10 */
} cairn_score_plot_opts;
#define CAIRN_SCORE_PLOT_OPTS_INIT                                                                 \
    {                                                                                              \
        NULL, CAIRN_CALIBRATION_UNIFORM, 0                                                         \
    }
/* cairn_score_plots() with options (NULL: the defaults). With three classes or more, ROC and
 * precision-recall also draw the micro and macro averages (cairn_eval_*_curve_average). */
CAIRN_API cairn_status cairn_score_plots_with(cairn_ctx *ctx, const cairn_predictions *p,
                                              const cairn_score_plot_opts *opts,
                                              cairn_score_plot **out, size_t *n_out);
CAIRN_API void cairn_score_plots_free(cairn_score_plot *plots, size_t n); /* NULL: a no-op */

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
    int width, height;    /* pixels; 0: defaults (a legend that would cover data goes beside the
                             plot and widens the picture) */
    const char *subtitle; /* a smaller second title line, e.g. the split, run and model */
    /* learning curves: a dashed vertical line at x = mark_x labelled mark_label (e.g. "best
     * epoch 12", the epoch whose model training kept); mark_label NULL: none */
    const char *mark_label;
    double mark_x;
    /* ROC and PR: the last n_averages curves (at most 2: micro, then macro) are averages,
     * drawn thick and dark above thin per-class curves and listed first in the legend */
    size_t n_averages;
    /* learning curves: a second dashed line, e.g. "overfitting from epoch 14"; NULL: none */
    const char *mark2_label;
    double mark2_x;
} cairn_plot_opts;
#define CAIRN_PLOT_OPTS_INIT                                                                       \
    {                                                                                              \
        NULL, NULL, NULL, NULL, 0, 0, NULL, NULL, 0.0, 0, NULL, 0.0                                \
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
/* Reliability diagram from calibration curves, with the perfect-calibration diagonal; a curve
 * with counts also gets a strip of its bins' row counts under the plot. */
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
