/* SPDX-License-Identifier: MIT */
/* train_internal.h - what train.c (cairn train) and evaluate.c (eval model/final/compare)
 * share: scoring predictions by metric name with bootstrap intervals, the pictures, the
 * predictions CSV, row hashes, and the run's train.json record. */
#ifndef CN_TRAIN_INTERNAL_H
#define CN_TRAIN_INTERNAL_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "cairn/train.h"
#include "cairn/tracking.h"
#include "base/buf.h"

/* Predictions of one model on n rows, ready for the scorer (cairn_score). */
typedef struct cn_scores {
    bool is_classification;
    size_t n, k;              /* rows; classes (0 for regression) */
    const char **classes;     /* k names borrowed from the model (the array is owned) */
    char **names;             /* k display names (class_names, else the code), or NULL */
    size_t *rows;             /* n row indices of the scored table (owned) */
    int32_t *y_true, *y_pred; /* classification: class indices */
    double *proba;            /* n x k */
    double *t, *p;            /* regression: true and predicted values */
    cairn_predictions pred;   /* the arrays above, as the scorer takes them */
} cn_scores;

void cn_scores_release(cn_scores *s);
/* The model meta key of the class names: a JSON object from class label to name
 * ({"0": "malignant", "1": "benign"}), written by cairn train from data.class_names. */
#define CN_META_CLASS_NAMES "cairn.class_names"
/* The display names of m's classes from CN_META_CLASS_NAMES, k strdup'ed strings (a class
 * without a name keeps its label), or NULL when the model has none (or they do not parse: a
 * warning). */
char **cn_model_class_names(cairn_ctx *ctx, const cairn_model *m);
/* Predicts rows[0..n) of t with m and fills s (which takes a copy of rows). A label that is
 * missing, or a class the model never saw, is EINVAL naming the row. The model's class names
 * (CN_META_CLASS_NAMES) become s->names, which s->pred (the pictures) shows instead of the
 * codes; the predictions CSV keeps the codes. */
cairn_status cn_scores_predict(cairn_ctx *ctx, const cairn_model *m, const cairn_table *t,
                               const size_t *rows, size_t n, cn_scores *s);
/* Each named metric (checked beforehand) with a percentile bootstrap interval (n_boot 0: none;
 * NaN bounds), through cairn_score(). A metric undefined on these rows is NaN (logged as a
 * warning), not a failure. out[i].name borrows names[i]. */
void cn_metrics_score(cairn_ctx *ctx, const cn_scores *s, char *const *names, size_t n_names,
                      size_t n_boot, uint64_t seed, cairn_scored_metric *out);
/* Logs one scoring of rows on a run: the metrics as <split>_<m>, <split>_<m>_ci_low and
 * <split>_<m>_ci_high (finite values only), the predictions as predictions/<split>.csv
 * (row,y_true,y_pred[,p_<class>...]) and SVG pictures into the run's plots/ folder, each name
 * prefixed with plot_prefix ("", "test_") and drawn as po says (NULL: defaults); the plots'
 * artifact paths are appended to *paths (strdup'ed). */
cairn_status cn_scores_log(cairn_ctx *ctx, cairn_run *run, const cn_scores *s, const char *split,
                           const cairn_scored_metric *m, size_t n, const char *plot_prefix,
                           const cairn_score_plot_opts *po, char ***paths, size_t *n_paths);
/* A picture's subtitle: "validation split, run 1a2b3c4d (name), mlp"; any part may be NULL.
 * Free with free(). */
char *cn_plot_subtitle(const char *split, const char *run_id, const char *run_name,
                       const char *model);

/* Row hashes (see cairn_model_row_hashes) over named features and a label column. */
cairn_status cn_row_hashes(cairn_ctx *ctx, const cairn_table *t, const char *const *features,
                           size_t n_features, const char *label, const size_t *rows, size_t n,
                           uint64_t *out);

/* What a training run records in its train.json artifact, read back by eval final. */
typedef struct cn_train_record {
    char *data_path;   /* absolute */
    char *data_sha256; /* of the file's bytes */
    char *label;
    char **numeric, **categorical; /* CSV column declarations */
    size_t n_numeric, n_categorical;
    char **metrics;
    size_t n_metrics;
    int64_t bootstrap;
    uint64_t seed;
    char *task;
    char *calibration;        /* plots.calibration: "uniform", "quantile"; NULL: uniform */
    int64_t calibration_bins; /* plots.bins; 0: the default */
} cn_train_record;
void cn_train_record_write(const cn_train_record *r, cn_buf *out);
cairn_status cn_train_record_parse(cairn_ctx *ctx, const char *text, size_t len,
                                   cn_train_record *out);
void cn_train_record_release(cn_train_record *r);

/* Reads a run's artifact file into out (EINVAL naming the run when it has none). */
/* report.md: one metric's table row "| name | value | [low, high] |" ("undefined" for NaN). */
void cn_report_metric_row(cn_buf *b, const cairn_scored_metric *m);
/* report.md's line while the test split is sealed; cairn eval final replaces it. */
#define CN_REPORT_SEALED_LINE                                                                      \
    "The test split is sealed: run `cairn eval final <run>` to score it once."

cairn_status cn_run_artifact_read(cairn_ctx *ctx, const char *run_id, const char *path,
                                  cn_buf *out);
/* The calibration picture's options of a config's plots: section, as a record holds them. */
void cn_train_record_plot_opts(const cn_train_record *r, cairn_score_plot_opts *po);
/* ---- what cairn automl and cairn ablate (src/lib/automl) share with cairn train ---- */

/* The config's learner: section does not apply (automl chooses the learner): learner.name is
 * optional, its params are ignored, and -p learner=NAME plus -p params say what to fit. */
#define CN_TRAIN_ANY_LEARNER 1u

/* Everything cairn train checks and builds before its run exists: the config, the -p
 * overrides, the data, the task, the metrics and the split (duplicates moved). Borrowed from
 * the prep; freed with cn_train_prep_free(). */
typedef struct cn_train_prep {
    const cairn_table *sub; /* the train rows [0, n_train), then the validation rows; no test */
    size_t n_train, n_val, n_test;
    const char *label;
    const char *const *features;
    size_t n_features;
    bool is_classification;
    const char *task_reason;
    const char *const *metrics; /* the config's, else the task's defaults; metrics[0] leads */
    size_t n_metrics;
    uint64_t seed;
    int64_t bootstrap;
    const char *class_weight;
    bool oversample;
    const char *learner; /* after -p learner=; "xgboost" under CN_TRAIN_ANY_LEARNER without */
    const char *const *param_keys;
    const char *const *param_values;
    size_t n_params;
    const char *name, *experiment; /* the config's, or NULL */
    const char *data_sha256, *train_sha256, *val_sha256, *test_sha256;
    const size_t *val_rows, *test_rows; /* rows of the CSV: n_val and n_test of them */
} cn_train_prep;
cairn_status cn_train_prepare(cairn_ctx *ctx, const cairn_train_opts *o, unsigned flags,
                              cn_train_prep **out);
void cn_train_prep_free(cn_train_prep *p); /* NULL is a no-op */
/* cairn_train with CN_TRAIN_* flags. */
cairn_status cn_train_with(cairn_ctx *ctx, const cairn_train_opts *o, unsigned flags,
                           cairn_train_result **out);

/* ---- training diagnostics (diagnose.c) ---- */

/* One per-epoch series: v[i] at the input's i-th epoch, NaN where there is no point. */
typedef struct cn_diag_series {
    const char *name;
    const double *v;
    size_t n;
} cn_diag_series;

typedef struct cn_diag_input {
    const char *run_id;
    size_t n;                                                      /* epochs */
    const int64_t *steps;                                          /* n epoch numbers; NULL: 1..n */
    cn_diag_series train_loss, val_loss, train_metric, val_metric; /* v NULL: none */
    bool metric_higher_better;
    const cn_diag_series *grad; /* per layer, first to last */
    size_t n_grad;
    int best_epoch; /* early stopping's, 0: none */
    bool has_baseline;
    double baseline; /* the train metric of a trivial model */
    /* the first non-finite loss logged, NULL: none */
    const char *nonfinite_key;
    double nonfinite_value;
    int nonfinite_epoch;
} cn_diag_input;

cairn_status cn_diagnose(cairn_ctx *ctx, const cn_diag_input *in, const cairn_diagnose_opts *o,
                         cairn_diagnosis **out);
/* Tags cairn.diagnosis (the problems' kinds, comma-separated, or "none"),
 * cairn.diagnosis.<kind>=true and cairn.diagnosis.<kind>.evidence. */
cairn_status cn_diagnose_tag(cairn_run *run, const cairn_diagnosis *d);
/* The report.md section "## Diagnostics". */
void cn_diagnose_report(cn_buf *b, const cairn_diagnosis *d);

#endif
