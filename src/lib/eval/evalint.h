/* SPDX-License-Identifier: MIT */
/* evalint.h - what the eval module's files share: input checks, the binary classification
 * curve (scikit-learn's _binary_clf_curve), numpy's linear percentile and average ranks. */
#ifndef CN_EVALINT_H
#define CN_EVALINT_H
#include "cairn/eval.h"

/* Refuse class counts that would make K x K tables absurd. */
#define CN_EVAL_MAX_CLASSES 4096

/* Checks n > 0, 1 <= n_classes <= limit and every label in range; what names the array. */
cairn_status cn_eval_check_labels(cairn_ctx *ctx, const int32_t *y, size_t n, size_t n_classes,
                                  const char *what);
/* Checks n > 0 and that every value is finite. */
cairn_status cn_eval_check_finite(cairn_ctx *ctx, const double *v, size_t n, const char *what);

/* The distinct-threshold counts of a binary problem: scores sorted descending, one entry per
 * distinct score: fps[k], tps[k] = false/true positives at score >= thresholds[k]. Arrays are
 * allocated here (n_out entries each, freed with free()). y_true must be 0/1. */
void cn_eval_binary_clf_curve(const int32_t *y_true, const double *score, size_t n, double **fps,
                              double **tps, double **thresholds, size_t *n_out);
/* numpy.percentile(v, q) with the default linear method; sorted[0..n) ascending, q in [0, 100]. */
double cn_eval_percentile_sorted(const double *sorted, size_t n, double q);
/* scipy.stats.rankdata(v, method="average"): ranks 1..n, ties share the mean rank. */
void cn_eval_rankdata(const double *v, size_t n, double *ranks);
/* Sorts doubles ascending (NaN-free input). */
void cn_eval_sort(double *v, size_t n);
#endif
