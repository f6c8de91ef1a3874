/* SPDX-License-Identifier: MIT */
/* drift.h - data and prediction drift: two-sample statistics (Kolmogorov-Smirnov with SciPy's
 * exact and asymptotic p-values, chi-squared, two-proportion z, PSI, Jensen-Shannon distance,
 * Wasserstein-1), reference profiles stored in model files, and drift reports (JSON, SVG,
 * HTML). Conventions and defaults: docs/drift.md. */
#ifndef CAIRN_DRIFT_H
#define CAIRN_DRIFT_H

#include "cairn.h"
#include "data.h"
#include "learn.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- statistics on plain arrays ---- */

typedef enum cairn_ks_method {
    CAIRN_KS_AUTO = 0, /* exact when max(n1, n2) <= 10000, else asymptotic (SciPy's 'auto') */
    CAIRN_KS_EXACT,    /* SciPy 'exact' (falls back to asymptotic where SciPy does) */
    CAIRN_KS_ASYMP     /* SciPy 'asymp': kstwo.sf(d, round(n1 n2 / (n1 + n2))) */
} cairn_ks_method;

typedef struct cairn_ks_result {
    double statistic; /* sup |F1 - F2| */
    double pvalue;    /* two-sided */
    bool exact;       /* the p-value came from the exact distribution */
} cairn_ks_result;

/* scipy.stats.ks_2samp(a, b, alternative='two-sided', method=...). NaN values are dropped
 * first (SciPy would propagate them); a or b with no value left is EINVAL. */
CAIRN_API cairn_status cairn_drift_ks(cairn_ctx *ctx, const double *a, size_t n_a, const double *b,
                                      size_t n_b, cairn_ks_method method, cairn_ks_result *out);
/* The two-sided p-value of a two-sample statistic d for sample sizes n1, n2 (> 0), as
 * ks_2samp computes it; *exact tells which way was used (may be NULL). */
CAIRN_API double cairn_drift_ks_pvalue(size_t n1, size_t n2, double d, cairn_ks_method method,
                                       bool *exact);
/* scipy.stats.kstwo.sf(x, n): Pr(D_n > x) of the one-sample two-sided statistic. */
CAIRN_API double cairn_drift_kstwo_sf(size_t n, double x);

/* scipy.stats.chisquare(cur, expected) with expected = ref * sum(cur) / sum(ref): counts per
 * category, k of them. A category with expected 0 and observed > 0 (unseen in the reference)
 * gives statistic +inf and p-value 0. k < 2 gives statistic 0 and p-value 1. */
CAIRN_API void cairn_drift_chi2(const double *ref_counts, const double *cur_counts, size_t k,
                                double *statistic, double *pvalue);
/* Two-sided two-proportion z-test with a pooled proportion (Evidently's 'z'): hits out of n
 * in each sample; the p-value 2 * Phi(-|z|); 1 when both proportions are 0 or both 1. */
CAIRN_API double cairn_drift_ztest(double ref_hits, double n_ref, double cur_hits, double n_cur,
                                   double *z);
/* Population stability index sum((r - c) ln(r / c)) over shares r = ref/sum(ref),
 * c = cur/sum(cur), a zero share replaced by 1e-4 (in each array separately). */
CAIRN_API double cairn_drift_psi(const double *ref_counts, const double *cur_counts, size_t k);
/* scipy.spatial.distance.jensenshannon(p, q) (natural log): the distance, the square root of
 * the divergence; p and q are normalised first. */
CAIRN_API double cairn_drift_js(const double *p, const double *q, size_t k);
/* scipy.stats.wasserstein_distance(a, b) (equal weights); NaN values are dropped; NaN when
 * either side is empty. */
CAIRN_API double cairn_drift_wasserstein(const double *a, size_t n_a, const double *b, size_t n_b);

/* ---- reference profiles ---- */

/* A reference profile: per feature (and the model's prediction column, when made with a model)
 * what every test needs without the training rows: a sorted quantile sketch, moments and
 * reference-quantile bins for numeric columns, category counts for categorical ones.
 * Format: docs/drift.md ("reference profile"). */
typedef struct cairn_drift_reference cairn_drift_reference;

#define CAIRN_DRIFT_SKETCH_DEFAULT 2048
#define CAIRN_DRIFT_SKETCH_EXACT SIZE_MAX /* keep every value: KS and W1 as with the rows */

typedef struct cairn_drift_reference_opts {
    /* Values kept per numeric column: min(n, sketch_size) quantiles at i / (m - 1), which are
     * the sorted values themselves when n <= sketch_size. 0: CAIRN_DRIFT_SKETCH_DEFAULT. */
    size_t sketch_size;
    size_t n_bins; /* reference-quantile bins of numeric columns for PSI and JS; 0: 10 */
    /* When set: only the model's features are profiled, and the model's predictions on t
     * become the prediction column ("prediction": class labels or numbers). */
    const cairn_model *model;
    const char *const *ignore; /* columns to leave out */
    size_t n_ignore;
    const size_t *rows; /* profile only these rows of t (the training rows); NULL: all */
    size_t n_rows;
} cairn_drift_reference_opts;
#define CAIRN_DRIFT_REFERENCE_OPTS_INIT                                                            \
    {                                                                                              \
        0                                                                                          \
    }

/* Profiles the rows of t. On success *out is new (cairn_drift_reference_free). */
CAIRN_API cairn_status cairn_drift_reference_build(cairn_ctx *ctx, const cairn_table *t,
                                                   const cairn_drift_reference_opts *opts,
                                                   cairn_drift_reference **out);
/* The profile as one line of JSON (the caller frees with cairn_free). */
CAIRN_API cairn_status cairn_drift_reference_json(cairn_ctx *ctx, const cairn_drift_reference *r,
                                                  char **out);
/* Parses a profile written by cairn_drift_reference_json; EINVAL names what is wrong. */
CAIRN_API cairn_status cairn_drift_reference_parse(cairn_ctx *ctx, const char *text, size_t len,
                                                   cairn_drift_reference **out);
/* The profile stored in a model file; ENOTFOUND (with a message naming `cairn drift
 * reference`) when the model has none. */
CAIRN_API cairn_status cairn_drift_reference_from_model(cairn_ctx *ctx, const cairn_model *m,
                                                        cairn_drift_reference **out);
/* Stores r inside m (saved with the model file from then on). */
CAIRN_API cairn_status cairn_drift_reference_attach(cairn_ctx *ctx, cairn_model *m,
                                                    const cairn_drift_reference *r);
CAIRN_API size_t cairn_drift_reference_n_rows(const cairn_drift_reference *r);
CAIRN_API size_t cairn_drift_reference_n_features(const cairn_drift_reference *r);
/* Borrowed; NULL past the end. The prediction column is named "prediction". */
CAIRN_API const char *cairn_drift_reference_feature(const cairn_drift_reference *r, size_t i);
CAIRN_API bool cairn_drift_reference_has_prediction(const cairn_drift_reference *r);
CAIRN_API void cairn_drift_reference_free(cairn_drift_reference *r); /* NULL is a no-op */

/* ---- reports ---- */

typedef enum cairn_drift_test {
    CAIRN_DRIFT_AUTO = 0, /* Evidently's default choice (docs/drift.md) */
    CAIRN_DRIFT_KS,
    CAIRN_DRIFT_CHI2,
    CAIRN_DRIFT_Z,
    CAIRN_DRIFT_PSI,
    CAIRN_DRIFT_JS,
    CAIRN_DRIFT_WASSERSTEIN, /* W1 / max(std(ref), 0.001), as Evidently's wasserstein */
    CAIRN_DRIFT_MISSING      /* no comparable values on one side */
} cairn_drift_test;

typedef enum cairn_drift_decision {
    CAIRN_DRIFT_SHARE = 0,     /* dataset drift when drifted/n >= drift_share (Evidently) */
    CAIRN_DRIFT_BONFERRONI = 1 /* p-value tests at threshold / n; drift when any feature drifts
                                  (alibi-detect) */
} cairn_drift_decision;

CAIRN_API const char *cairn_drift_test_name(cairn_drift_test t); /* "ks", "chi2", ... */
CAIRN_API bool cairn_drift_test_parse(const char *name, cairn_drift_test *out);

typedef struct cairn_drift_opts {
    cairn_drift_test test; /* AUTO: per feature by Evidently's rule; else this test for all */
    double threshold;      /* 0: the test's default (p 0.05; distances 0.1; PSI 0.1) */
    double drift_share;    /* 0: 0.5 */
    cairn_drift_decision decision;
    cairn_ks_method ks_method;
    /* For the prediction column: the model whose predictions on the current rows are compared
     * with the reference's prediction column. */
    const cairn_model *model;
    /* Instead of a model: cur already holds the predictions, as a column named "prediction"
     * (class labels as a categorical column, else numbers), e.g. those a model server made. */
    bool predictions_in_cur;
    /* Called after each feature (done of total); may be NULL. */
    void (*progress)(void *user, size_t done, size_t total);
    void *progress_user;
} cairn_drift_opts;
#define CAIRN_DRIFT_OPTS_INIT                                                                      \
    {                                                                                              \
        0                                                                                          \
    }

typedef struct cairn_drift_feature {
    const char *name;
    cairn_col_type type;
    bool is_prediction;
    cairn_drift_test test; /* the deciding test */
    double statistic;      /* the test's statistic (KS D, chi2, z, PSI, JS, normed W1) */
    double pvalue;         /* p-value tests; NaN for distances */
    double score;          /* what is compared with the threshold: pvalue or statistic */
    double threshold;
    bool drifted;
    size_t n_ref, n_cur;             /* values compared (missing ones dropped) */
    size_t missing_ref, missing_cur; /* NaN, infinities, empty categories */
    size_t unseen_cur;               /* current values in categories the reference lacks */
    /* Every statistic that applies (NaN where it does not): */
    double ks, ks_pvalue, wasserstein, wasserstein_norm, psi, js, chi2, chi2_pvalue;
    /* The binned shares behind PSI and JS, for pictures: n_bins labels and shares. */
    size_t n_bins;
    const char **bin_labels;
    const double *ref_share, *cur_share;
} cairn_drift_feature;

typedef struct cairn_drift_report {
    size_t n_rows_ref, n_rows_cur;
    size_t n_features; /* the prediction column, when compared, is the last */
    cairn_drift_feature *features;
    size_t n_tested;  /* data features (prediction excluded) */
    size_t n_drifted; /* of them, drifted */
    double share;     /* n_drifted / n_tested */
    double drift_share;
    cairn_drift_decision decision;
    bool dataset_drift;
    bool has_prediction, prediction_drift;
    bool is_sketch; /* the reference was a sketch: KS and W1 approximate (docs/drift.md) */
    void *internal_;
} cairn_drift_report;

/* Compares the current rows with a reference. Every reference column must be in cur with the
 * same type (EINVAL names the first that is not); other columns of cur are ignored. */
CAIRN_API cairn_status cairn_drift_compare(cairn_ctx *ctx, const cairn_drift_reference *ref,
                                           const cairn_table *cur, const cairn_drift_opts *opts,
                                           cairn_drift_report **out);
/* The report as JSON (format in docs/drift.md); the caller frees with cairn_free. */
CAIRN_API cairn_status cairn_drift_report_json(cairn_ctx *ctx, const cairn_drift_report *r,
                                               char **out);
/* Reference and current shares of feature i overlaid as an SVG document. */
CAIRN_API cairn_status cairn_drift_feature_svg(cairn_ctx *ctx, const cairn_drift_report *r,
                                               size_t i, char **out);
/* One self-contained HTML page: the table and an inline SVG per drifted feature. */
CAIRN_API cairn_status cairn_drift_report_html(cairn_ctx *ctx, const cairn_drift_report *r,
                                               char **out);
/* True when the report calls for exit code 1: dataset or prediction drift. */
CAIRN_API bool cairn_drift_report_drifted(const cairn_drift_report *r);
CAIRN_API void cairn_drift_report_free(cairn_drift_report *r); /* NULL is a no-op */

#ifdef __cplusplus
}
#endif
#endif
