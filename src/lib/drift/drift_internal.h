/* SPDX-License-Identifier: MIT */
/* drift_internal.h - what the drift module's files share: the reference profile's insides
 * (reference.c builds, writes and parses it; compare.c reads it), the KS statistic and
 * sorting helpers (ks.c). */
#ifndef CN_DRIFT_INTERNAL_H
#define CN_DRIFT_INTERNAL_H
#include "cairn/drift.h"

#define CN_DRIFT_PREDICTION "prediction"
#define CN_DRIFT_DISCRETE_MAX 20 /* numeric columns with at most this many values: one bin each */
#define CN_DRIFT_MAX_FEATURES 100000
#define CN_DRIFT_MAX_SKETCH 10000000

/* One profiled column. Numeric: values are the finite, non-NaN ones. */
typedef struct cn_drift_col {
    char *name;
    cairn_col_type type;
    bool is_prediction;
    size_t count, n_missing;
    /* NUMERIC */
    double mean, std; /* std: population (ddof 0), as numpy.std and Evidently */
    double min, max;
    size_t n_sketch; /* sorted; the values themselves when exact */
    double *sketch;
    bool exact;
    size_t n_distinct; /* distinct values, counted up to CN_DRIFT_DISCRETE_MAX + 1 */
    size_t n_edges;    /* reference-quantile bin edges (deduplicated), n_edges - 1 bins */
    double *edges;
    double *edge_counts; /* n_edges - 1 counts: [e_i, e_i+1), the last closed */
    double *values;      /* n_distinct <= DISCRETE_MAX: the distinct values, ascending */
    double *value_counts;
    /* CATEGORICAL */
    size_t n_levels;
    char **levels;
    double *level_counts;
} cn_drift_col;

struct cairn_drift_reference {
    size_t n_rows;
    size_t n_bins, sketch_size;
    size_t n_cols;
    cn_drift_col *cols;
};

/* D = sup |Fa - Fb| of two sorted samples (ks_2samp's searchsorted form). */
double cn_drift_ks_stat(const double *a, size_t n_a, const double *b, size_t n_b);
/* ks_2samp's p-value for d; in exact mode *d becomes h / lcm as SciPy reports it. */
double cn_drift_ks_pvalue_d(size_t n1, size_t n2, double *d, cairn_ks_method method, bool *exact);
/* Sorts v[0 .. n) ascending (no NaN in it). */
void cn_drift_sort(double *v, size_t n);
/* The non-NaN values of v sorted ascending (a new array; *n_out of them). */
double *cn_drift_sorted_finite(const double *v, size_t n, size_t *n_out);
/* The model's predictions on every row of t as a one-column table named "prediction". */
cairn_status cn_drift_predict_column(cairn_ctx *ctx, const cairn_model *m, const cairn_table *t,
                                     cairn_table **out);
/* W1 between two sorted samples. */
double cn_drift_w1_sorted(const double *a, size_t n_a, const double *b, size_t n_b);
#endif
