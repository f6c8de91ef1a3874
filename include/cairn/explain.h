/* SPDX-License-Identifier: MIT */
/* explain.h - why a trained model predicts what it does (`cairn explain`, docs/explain.md):
 * permutation importance with repeats and t intervals, exact TreeSHAP for xgboost models,
 * partial dependence of the top features, and the run's primary metric by slice of the data
 * with the slices significantly worse than the rest flagged. On a run of `cairn train`, on its
 * validation rows by default (never its sealed test rows), logged on the run under explain/. */
#ifndef CAIRN_EXPLAIN_H
#define CAIRN_EXPLAIN_H

#include "cairn.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct cairn_explain_opts {
    /* Another labelled CSV to explain on (all its rows, or rows): rows a model trained on are
     * refused. NULL: the run's own data file (checked against its recorded digest). */
    const char *data;
    /* An index file (one row number a line) of the rows to use. NULL: the run's validation
     * rows (split/val.idx), or every row of data. Rows in the run's sealed test split are
     * refused (EINVAL), and so are rows the model trained on. */
    const char *rows;
    size_t n_repeats;          /* permutations per feature; 0: 10 */
    size_t top;                /* features with partial dependence (and default slices); 0: 5 */
    const char *const *slices; /* features to slice by; NULL: categorical ones + the top */
    size_t n_slices;
    bool has_seed; /* else the run's seed */
    uint64_t seed;
    size_t n_bootstrap; /* resamples for slice intervals and tests; 0: 1000 */
    bool no_log;        /* true: do not log the artifacts on the run */
} cairn_explain_opts;
#define CAIRN_EXPLAIN_OPTS_INIT                                                                    \
    {                                                                                              \
        0                                                                                          \
    }

/* One feature's permutation importance: the drop in the metric (higher is more important;
 * for a loss the rise) over the repeats: mean, standard deviation (ddof 0, sklearn's
 * importances_std) and a 95% t interval over the repeats (sample sd, n_repeats - 1 df). */
typedef struct cairn_explain_importance {
    const char *feature;
    double mean, std, ci_low, ci_high;
} cairn_explain_importance;

/* One slice: the rows whose feature has one category or lies in one quantile bin. */
typedef struct cairn_explain_slice {
    const char *feature;
    const char *slice; /* "setosa", "[1.2, 3.4)" */
    size_t n;
    double metric, ci_low, ci_high; /* bootstrap 95% percentile interval; NaN: undefined */
    double rest;                    /* the metric on the other rows */
    double pvalue, p_holm;          /* slice against the rest; Holm over all slices */
    bool worse;                     /* significantly worse than the rest (p_holm < 0.05) */
} cairn_explain_slice;

typedef struct cairn_explain_result {
    const char *run_id;
    const char *learner;
    const char *task;   /* "classification", "regression" */
    const char *metric; /* the run's primary metric (its config's first) */
    bool maximize;
    const char *rows; /* "validation", "index file <path>", "file <path>" */
    size_t n_rows;
    double baseline; /* the metric on the rows, unpermuted */
    size_t n_repeats;
    size_t n_features;
    cairn_explain_importance *importance; /* most important first */
    bool has_shap;                        /* xgboost: mean |SHAP| per feature */
    const char **shap_features;           /* n_features, largest mean |SHAP| first */
    double *shap_mean_abs;
    size_t n_pd; /* features with partial dependence */
    size_t n_slices;
    cairn_explain_slice *slices;
    const char *test; /* how slices are tested against the rest */
    char *json;       /* the whole result as JSON (explain/explain.json) */
    size_t n_artifacts;
    const char **artifacts; /* logged paths: explain/explain.json, explain/NAME.svg */
    void *internal_;
} cairn_explain_result;

/* Explains the model of run run_id (a cairn train run: model/model.cairn, train.json and
 * split/). o may be NULL. EINVAL names the problem and the fix: a run without a model, data
 * missing a feature, rows in the test split, n_repeats out of [1, 1000]. *out:
 * cairn_explain_result_free(). */
CAIRN_API cairn_status cairn_explain(cairn_ctx *ctx, const char *run_id,
                                     const cairn_explain_opts *o, cairn_explain_result **out);
CAIRN_API void cairn_explain_result_free(cairn_explain_result *r); /* NULL is a no-op */

#ifdef __cplusplus
}
#endif
#endif
