/* SPDX-License-Identifier: MIT */
/* train.h - tracked training and evaluation with the guardrails: `cairn train` fits a learner
 * from an experiment config on the train split, selects on validation, never reads the test
 * rows, and records everything as a run; evaluation refuses rows a model trained on; the test
 * split is looked at once on purpose (`eval final`); comparisons come with a significance test.
 * See docs/config.md, docs/cli/cairn-train.md, docs/cli/cairn-eval.md and docs/guardrails.md. */
#ifndef CAIRN_TRAIN_H
#define CAIRN_TRAIN_H

#include <stdio.h>
#include "cairn.h"
#include "data.h"
#include "eval.h" /* cairn_scored_metric */
#include "learn.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A cross-validated metric: mean and sample standard deviation over the folds. */
typedef struct cairn_cv_metric {
    const char *name;
    double mean, std;
} cairn_cv_metric;

typedef struct cairn_train_opts {
    const char *config; /* experiment-config.yaml (required) */
    /* -p overrides: "seed", "bootstrap", "cv", "split.test", "split.val", "learner" change
     * those settings; any other key is a learner param (replacing the config's value). */
    const char *const *param_keys;
    const char *const *param_values;
    size_t n_params;
    const char *experiment;         /* NULL: the config's, else "Default" */
    cairn_fit_progress_fn on_epoch; /* progress (after the run has logged the epoch); may be NULL */
    void *user;
    const char *name; /* the run's name; NULL: the config's name: */
    /* Log into this existing run instead of starting one (a study's trial: `cairn train` run by
     * `cairn tune` takes $CAIRN_RUN_ID); the run is left RUNNING for its owner to end. */
    const char *run_id;
    /* Data expectations (docs/expectations.md) the data must meet; NULL: the config's
     * data.expect, if any. Failing data is refused naming each rule and rows, unless
     * override_expect gives a reason: then the run is made and records the reason (tag
     * cairn.expect.override), the failed rules (tag cairn.expect.failed) and the findings
     * (artifact expect/findings.json). */
    const char *expect;
    const char *override_expect;
} cairn_train_opts;
#define CAIRN_TRAIN_OPTS_INIT                                                                      \
    {                                                                                              \
        0                                                                                          \
    }

typedef struct cairn_train_result {
    const char *run_id;
    const char *experiment_id;
    const char *artifact_dir; /* the run's artifact folder: model/, split/, plots/, report.md
                                 (a remote run: its artifact URI on the server) */
    const char *learner;
    const char *task; /* "classification" or "regression" */
    /* Why that task, and how to change it: "inferred: label 'target' has 3 distinct integer
     * values (0, 1, 2) in 178 rows; set 'task: regression' in the config to change it",
     * "set by the config's 'task:'", "learner 'logistic' does classification only". */
    const char *task_reason;
    size_t n_train, n_val, n_test;
    size_t n_moved_duplicates; /* val/test rows moved to train: same content as a train row */
    size_t n_epochs;           /* per-epoch callbacks seen */
    size_t n_metrics;
    cairn_scored_metric *metrics; /* on the validation rows */
    size_t n_cv_folds;            /* 0: no cross-validation */
    size_t n_cv;
    cairn_cv_metric *cv;
    size_t n_plots;
    const char **plots; /* artifact paths, "plots/confusion_matrix.svg", ... */
    void *internal_;
    /* The training diagnostics (docs/diagnostics.md): "none", or each problem with its
     * evidence, "overfitting: gap 12.3% from epoch 14 (...)", joined by "; "; NULL when there
     * were no epochs to diagnose. Also the run's tags cairn.diagnosis*. */
    const char *diagnosis;
} cairn_train_result;

/* Runs the experiment config as a tracked run (see docs/cli/cairn-train.md for what it logs).
 * The learner is fitted on a table holding only the train and validation rows, so the test
 * rows' features and labels never reach it. On success *out is new, freed with
 * cairn_train_result_free(). On failure *out is NULL, the run (if started) is FAILED, and
 * cairn_errmsg(ctx) names the config field, column or row at fault. */
CAIRN_API cairn_status cairn_train(cairn_ctx *ctx, const cairn_train_opts *o,
                                   cairn_train_result **out);
CAIRN_API void cairn_train_result_free(cairn_train_result *r); /* NULL is a no-op */

/* ---- guardrail 1: a model knows the rows it was trained on ---- */

/* 64-bit hashes of rows[0..n) of t (NULL rows: all), over the model's features (by name, in
 * the model's order) and its label as text; out has n values. Numeric values are hashed by
 * value (1.0 and 1 agree, all NaNs alike). EINVAL when t lacks a feature or the label. */
CAIRN_API cairn_status cairn_model_row_hashes(cairn_ctx *ctx, const cairn_model *m,
                                              const cairn_table *t, const size_t *rows, size_t n,
                                              uint64_t *out);
/* Records the training rows' hashes in the model's metadata (key "cairn.train_rows", sorted,
 * base64 little-endian), so every later evaluation can count overlapping rows. */
CAIRN_API cairn_status cairn_model_record_train_rows(cairn_ctx *ctx, cairn_model *m,
                                                     const cairn_table *t, const size_t *rows,
                                                     size_t n);
/* How many of rows[0..n) of t (NULL: all) equal a row the model was trained on. EINVAL when
 * the model holds no training-row record. */
CAIRN_API cairn_status cairn_model_count_train_overlap(cairn_ctx *ctx, const cairn_model *m,
                                                       const cairn_table *t, const size_t *rows,
                                                       size_t n, size_t *overlap_out);

/* ---- evaluation of saved models ---- */

typedef struct cairn_eval_opts {
    const char *data;       /* cairn_eval_model: the CSV to score (required) */
    int64_t bootstrap;      /* resamples for the intervals; 0: the run's or 1000; < 0: none */
    uint64_t seed;          /* bootstrap seed */
    bool log;               /* cairn_eval_model: record the metrics in a new run */
    const char *experiment; /* that run's experiment; NULL: the model's run's, else Default */
    /* cairn_eval_model: an index file (one 0-based row index a line, ascending, as the split
     * files train.idx, val.idx, test.idx); only those rows of data are scored. NULL: all */
    const char *rows;
} cairn_eval_opts;
#define CAIRN_EVAL_OPTS_INIT                                                                       \
    {                                                                                              \
        0                                                                                          \
    }

typedef struct cairn_eval_report {
    const char *model_run_id;  /* the run that trained the model, or NULL */
    const char *logged_run_id; /* the run the metrics went to, or NULL */
    const char *task;
    size_t n_rows;
    size_t n_metrics;
    cairn_scored_metric *metrics;
    /* cairn_eval_final only: */
    int64_t looks;            /* test evaluations of this run, this one included */
    int64_t previous_look_ms; /* when the test set was last looked at; 0 on the first look */
    const char *artifact_dir; /* the run's artifact folder (predictions/test.csv, plots/test_*;
                                 a remote run: its artifact URI on the server) */
    void *internal_;
} cairn_eval_report;

/* Scores a model (a run id, whose model/model.cairn is used, or a model file path) on a CSV.
 * Refuses with EINVAL, naming the count, when any row equals a row the model trained on:
 * "refusing to evaluate: 37 of 150 rows were used to train this model (run <id>); evaluate on
 * held-out rows". A CSV that lacks a feature, or holds it with another type, is EINVAL naming
 * the column. */
CAIRN_API cairn_status cairn_eval_model(cairn_ctx *ctx, const char *model, const cairn_eval_opts *o,
                                        cairn_eval_report **out);
/* Evaluates a trained run's model on its own sealed test split and records test_<m> (with
 * _ci_low/_ci_high), predictions/test.csv and tag cairn.test.looks. A second call still answers
 * but sets cairn.test.second_look=true and report->looks > 1. */
CAIRN_API cairn_status cairn_eval_final(cairn_ctx *ctx, const char *run_id,
                                        const cairn_eval_opts *o, cairn_eval_report **out);
CAIRN_API void cairn_eval_report_free(cairn_eval_report *r); /* NULL is a no-op */

/* ---- guardrail 6: comparisons come with statistics ---- */

/* One metric both runs logged (its latest value), side by side. */
typedef struct cairn_compared_metric {
    const char *name;
    double a, a_low, a_high; /* run A's value and 95% interval (NaN: the run logged none) */
    double b, b_low, b_high;
    double diff; /* a - b */
} cairn_compared_metric;

typedef struct cairn_compare_result {
    /* "test", "validation" or another split name (shared prediction rows), "cv" (shared
     * folds), "file" (cairn_compare_predictions), "scores" (cairn_compare_scores); NULL when
     * no test could run */
    const char *scope;
    const char *task;
    const char *metric;               /* what a and b are: "accuracy", "mse", or the CV metric */
    size_t n;                         /* shared rows or folds */
    double a, b;                      /* the metric of run A and run B on them */
    double diff, diff_low, diff_high; /* a - b with a 95% CI (paired bootstrap on rows, t over
                                         folds or scores); NaN: none */
    const char *test; /* "mcnemar-exact", "mcnemar-chi2", "wilcoxon", "paired-t", "corrected-t" */
    double statistic, pvalue;
    int64_t n01, n10;  /* McNemar: A right and B wrong, A wrong and B right */
    const char *test2; /* the second test ("wilcoxon" over folds or scores), or NULL */
    double statistic2, pvalue2;
    bool significant; /* pvalue < 0.05 */
    void *internal_;
    /* Added with cairn_eval_compare_runs: */
    bool has_test;           /* false: no test could run, no_test says why and what to do */
    const char *no_test;     /* or NULL */
    const char *predictions; /* the prediction artifact the rows came from, or NULL */
    const char *task_reason; /* why the task: "tag cairn.task", "inferred: ...", "set by --task" */
    size_t n_metrics;        /* runs: the metrics both logged, by name */
    cairn_compared_metric *metrics;
} cairn_compare_result;

typedef struct cairn_compare_opts {
    /* AUTO: the runs' cairn.task tags, else inferred from the predictions by the one rule of
     * cairn_predictions_infer_task() */
    cairn_task task;
    size_t n_bootstrap; /* paired-bootstrap resamples for the row CI; 0: 2000 */
    uint64_t seed;      /* bootstrap seed */
    /* Files: the column names, in order: y_true, pred_a, pred_b (cairn_compare_predictions) or
     * a, b (cairn_compare_scores); NULL: those names */
    const char *const *columns;
    size_t n_columns;
} cairn_compare_opts;
#define CAIRN_COMPARE_OPTS_INIT                                                                    \
    {                                                                                              \
        0                                                                                          \
    }

/* Compares any two runs (cairn train, cairn run, MLflow-client scripts, tune trials): the
 * metrics both logged side by side (latest values, with the NAME_ci_low/NAME_ci_high intervals
 * a run logged), and a significance test where they share something to pair: prediction rows
 * (predictions/<split>.csv artifacts, docs/eval.md: McNemar on correctness plus a
 * paired-bootstrap CI of the accuracy difference, or Wilcoxon on absolute errors plus a
 * paired-bootstrap CI of the MSE difference), else per-fold scores (metric cv_<name> at steps
 * 0..k-1: paired t-test and Wilcoxon). Without either, has_test is false and no_test says why
 * and how to make a test possible. Two cairn train runs scored on different rows and folds
 * are refused (EINVAL), as their scores are not comparable. o may be NULL. */
CAIRN_API cairn_status cairn_eval_compare_runs(cairn_ctx *ctx, const char *run_a, const char *run_b,
                                               const cairn_compare_opts *o,
                                               cairn_compare_result **out);
/* cairn_eval_compare_runs() with default options; EINVAL when no test can run. */
CAIRN_API cairn_status cairn_eval_compare(cairn_ctx *ctx, const char *run_a, const char *run_b,
                                          cairn_compare_result **out);
/* Paired predictions of two models on the same rows, from any tool: a table with columns
 * y_true, pred_a, pred_b (or o->columns). The task is o->task, else inferred by the one rule
 * (text or probability-free integer labels with few values: classification). Classification:
 * McNemar on correctness and a paired-bootstrap CI of the accuracy difference; regression:
 * Wilcoxon on absolute errors and a paired-bootstrap CI of the MSE difference. EINVAL naming
 * the column and row for a missing column, a missing or NaN value, a non-number (regression)
 * or fewer than 2 rows. */
CAIRN_API cairn_status cairn_compare_predictions(cairn_ctx *ctx, const cairn_table *t,
                                                 const cairn_compare_opts *o,
                                                 cairn_compare_result **out);
/* Paired scores of two models (one row per fold or seed): columns a, b (or o->columns), an
 * optional fold column is ignored. Paired t-test (test) and Wilcoxon (test2) of a - b, the
 * mean difference with its t 95% CI. EINVAL as cairn_compare_predictions(). */
CAIRN_API cairn_status cairn_compare_scores(cairn_ctx *ctx, const cairn_table *t,
                                            const cairn_compare_opts *o,
                                            cairn_compare_result **out);
CAIRN_API void cairn_compare_result_free(cairn_compare_result *r); /* NULL is a no-op */

/* ---- AutoML: a search across the learners (cairn automl, docs/automl.md) ---- */

/* Where a search stands; called after every finished trial (from one thread at a time). */
typedef struct cairn_automl_status {
    int64_t n_done, n_target; /* trials this call finished; what it will run */
    int64_t n_failed;
    int64_t number;      /* the trial that just finished */
    const char *learner; /* its learner */
    double value;        /* its CV mean (NaN: failed) */
    bool has_best;       /* over the whole study */
    double best_value;
    const char *best_learner;
    double elapsed_s;
} cairn_automl_status;
typedef void (*cairn_automl_progress_fn)(void *user, const cairn_automl_status *s);

typedef struct cairn_automl_opts {
    const char *config;          /* experiment-config.yaml: data, split, metrics (required) */
    const char *const *learners; /* NULL: every learner that does the task */
    size_t n_learners;
    int64_t n_trials;   /* the study's target of finished trials; 0: 30 */
    int64_t timeout_ms; /* no new trial after this long; 0: none */
    int n_folds;        /* K of the K-fold CV on the training rows; 0: 5 */
    bool has_seed;      /* else the config's seed */
    uint64_t seed;
    int n_jobs;             /* trials at once, each in a thread; 0: 1 */
    const char *study;      /* NULL: "automl-<config name>", the first free of -2, -3... */
    const char *experiment; /* the trials' and the final run's; NULL: the study's name */
    cairn_automl_progress_fn progress; /* may be NULL */
    void *user;
} cairn_automl_opts;
#define CAIRN_AUTOML_OPTS_INIT                                                                     \
    {                                                                                              \
        0                                                                                          \
    }

/* One configuration of the leaderboard: a COMPLETE trial. */
typedef struct cairn_automl_entry {
    int64_t number;
    const char *learner;
    size_t n_params; /* the learner's params as cairn train -p takes them */
    const char *const *param_keys;
    const char *const *param_values;
    double cv_mean, cv_std; /* of the leading metric over the folds */
    const char *run_id;
} cairn_automl_entry;

typedef struct cairn_automl_result {
    const char *study;
    const char *sampler; /* what the study's auto sampler chose */
    const char *task;
    const char *metric;    /* the leading metric (the config's first), e.g. "accuracy" */
    const char *objective; /* the study's objective, "cv_<metric>_mean" */
    bool maximize;
    size_t n_folds;
    size_t n_search_rows; /* the training rows the CV used; validation and test unseen */
    int64_t n_trials, n_complete, n_failed; /* the study's */
    size_t n_leaders;
    cairn_automl_entry *leaders; /* best first, at most 10 */
    /* the best configuration refit on all training rows by cairn train: its run, validation
     * metrics with their bootstrap intervals, model artifact */
    cairn_train_result *final;
    double score, ci_low, ci_high; /* the leading metric on the validation rows, 95% CI */
    void *internal_;
} cairn_automl_result;

/* Searches a conditional space over the learners (a categorical `learner`, each learner's
 * params under `when:`) as a study with the auto sampler; each trial is a run scored by K-fold
 * cross-validation (stratified for classification) on the training rows only. Then refits the
 * best with cairn_train on the training rows, scores it on the validation rows and tags that
 * run cairn.automl.role=final. A config without validation rows, an unknown learner or one of
 * the other task is EINVAL. *out: cairn_automl_result_free(). */
CAIRN_API cairn_status cairn_automl(cairn_ctx *ctx, const cairn_automl_opts *o,
                                    cairn_automl_result **out);
CAIRN_API void cairn_automl_result_free(cairn_automl_result *r); /* NULL is a no-op */

/* ---- ablation: one-factor changes against a baseline (cairn ablate, docs/automl.md) ---- */

typedef struct cairn_ablate_opts {
    const char *config;             /* the baseline experiment config (required) */
    const char *const *factor_keys; /* each factor: one key as cairn train -p takes it */
    const char *const *factor_values;
    size_t n_factors;
    int n_seeds;      /* seeds 0..n-1 added to the config's seed (split and learner); 0: 5 */
    int n_folds;      /* > 0: instead, K folds of CV on train + validation with the config's seed */
    double alpha;     /* 0: 0.05 */
    const char *name; /* the ablation's name (tag cairn.ablation); NULL: "ablate-<ms>" */
    const char *experiment; /* NULL: the config's, else Default */
} cairn_ablate_opts;
#define CAIRN_ABLATE_OPTS_INIT                                                                     \
    {                                                                                              \
        0                                                                                          \
    }

typedef struct cairn_ablate_arm {
    const char *key, *value; /* NULL for the baseline */
    size_t n;                /* scores: one per seed or fold, paired with the baseline's */
    double *scores;
    const char **run_ids; /* one per seed; folds: all the same run */
    double mean;
    /* factors only: the effect, mean(arm - baseline), with a paired-t 95% CI */
    double effect, ci_low, ci_high;
    double t, p_t;        /* paired t-test (primary) */
    double w, p_wilcoxon; /* Wilcoxon signed-rank; NaN when every difference is 0 */
    double p_holm;        /* p_t adjusted by Holm over the factors */
    const char *verdict;  /* "better", "worse", "no evidence" */
} cairn_ablate_arm;

typedef struct cairn_ablate_result {
    const char *name;
    const char *metric; /* the config's first metric */
    bool maximize;
    const char *unit; /* "seed" or "fold" */
    double alpha;
    size_t n_arms; /* arms[0] is the baseline */
    cairn_ablate_arm *arms;
    void *internal_;
} cairn_ablate_result;

/* Trains the baseline and each one-factor change as runs of cairn train (tag
 * cairn.ablation=<name>, cairn.ablation.arm), over the same seeds or folds, and tests each
 * factor's paired differences against the baseline. A factor key that changes the validation
 * rows (seed, split.*) or that cairn train does not know is EINVAL. *out:
 * cairn_ablate_result_free(). */
CAIRN_API cairn_status cairn_ablate(cairn_ctx *ctx, const cairn_ablate_opts *o,
                                    cairn_ablate_result **out);
CAIRN_API void cairn_ablate_result_free(cairn_ablate_result *r); /* NULL is a no-op */
/* A forest plot of the factors' effects with their intervals, as a standalone SVG document.
 * *svg_out: cairn_free(). */
CAIRN_API cairn_status cairn_ablate_plot_svg(cairn_ctx *ctx, const cairn_ablate_result *r,
                                             char **svg_out);

/* ---- inference profile (cairn model profile) ---- */

/* Reads a CSV for model m: its categorical features (and a classifier's label) read as
 * categorical, its numeric features as numeric, where the file has those columns. */
CAIRN_API cairn_status cairn_model_read_csv(cairn_ctx *ctx, const cairn_model *m, const char *path,
                                            cairn_table **out);

#define CAIRN_PROFILE_MAX_BATCHES 8

typedef struct cairn_profile_batch {
    size_t batch;                           /* rows a call */
    size_t n_calls;                         /* timed calls (after 3 untimed ones) */
    double p50_ms, p95_ms, p99_ms, mean_ms; /* latency of one call (nearest rank) */
    double rows_per_s;                      /* rows predicted over the timed calls' time */
} cairn_profile_batch;

typedef struct cairn_model_profile_opts {
    const size_t *batches; /* NULL: 1, 32 and 1024 rows */
    size_t n_batches;      /* at most CAIRN_PROFILE_MAX_BATCHES */
    double seconds;        /* time spent per batch size (at least 20 calls); 0: 1 */
} cairn_model_profile_opts;
#define CAIRN_MODEL_PROFILE_OPTS_INIT                                                              \
    {                                                                                              \
        0                                                                                          \
    }

typedef struct cairn_model_profile {
    size_t n_batches;
    cairn_profile_batch batches[CAIRN_PROFILE_MAX_BATCHES];
} cairn_model_profile;

/* Times cairn_model_predict (cairn_model_predict_proba for a classifier, as serving answers)
 * on batches of rows of t (the rows taken in turn, wrapping around), in this thread. t needs the
 * model's features with its types (EINVAL naming the column otherwise) and at least one row. */
CAIRN_API cairn_status cairn_model_profile_run(cairn_ctx *ctx, const cairn_model *m,
                                               const cairn_table *t,
                                               const cairn_model_profile_opts *o,
                                               cairn_model_profile *out);

/* ---- training diagnostics (cairn runs diagnose, docs/diagnostics.md) ---- */

typedef struct cairn_diagnose_opts {
    /* Overfitting: the train metric above the validation metric by more than this, in the
     * metric's units (0.05: five points of accuracy or R^2); 0: 0.05 */
    double gap;
    int window; /* divergence: a loss rising in each of the last `window` epochs; 0: 5 */
    /* Underfitting: the train metric a trivial model reaches (majority-class accuracy, R^2 0);
     * NaN or 0 with has_baseline false: the run's tag cairn.diagnosis.baseline, if any */
    bool has_baseline;
    double baseline;
} cairn_diagnose_opts;
#define CAIRN_DIAGNOSE_OPTS_INIT                                                                   \
    {                                                                                              \
        0                                                                                          \
    }

typedef struct cairn_diagnosis_finding {
    /* "overfitting", "underfitting", "divergence", "vanishing_gradients",
     * "exploding_gradients" (problems) or "best_epoch" (early stopping's kept epoch, or the
     * epoch of the lowest validation loss: information) */
    const char *kind;
    bool is_problem;
    int epoch;            /* where it opened or happened; 0: none */
    const char *evidence; /* "gap 12.3% from epoch 14 (train 1.000, val 0.877)" */
} cairn_diagnosis_finding;

typedef struct cairn_diagnosis {
    const char *run_id;
    size_t n_epochs; /* the longest series */
    /* the metric series used (NULL: none found) */
    const char *train_loss, *val_loss, *train_metric, *val_metric;
    size_t n_grad_layers; /* grad_norm_layer_1 .. _n series */
    double gap;
    size_t n_checks;
    const char **checks; /* what was checked and on what, or why not: one line each */
    size_t n_findings;
    cairn_diagnosis_finding *findings;
    size_t n_problems; /* findings with is_problem */
    void *internal_;
} cairn_diagnosis;

/* Diagnoses a run from its metric histories: any run whose metrics include a train and a
 * validation series (cairn train's train_loss, val_loss, train_score, val_score; loss and
 * val_loss; X_train and X_val; training_X and validation_X; X and val_X), and the MLP's
 * grad_norm_layer_<i>. Finds overfitting, underfitting, divergence, vanishing or exploding
 * gradients and the best epoch as docs/diagnostics.md defines them. A run without any
 * epoch series is EINVAL naming the metrics it has. o may be NULL. *out:
 * cairn_diagnosis_free(). */
CAIRN_API cairn_status cairn_runs_diagnose(cairn_ctx *ctx, const char *run_id,
                                           const cairn_diagnose_opts *o, cairn_diagnosis **out);
CAIRN_API void cairn_diagnosis_free(cairn_diagnosis *d); /* NULL is a no-op */

/* ---- batch prediction (cairn predict) ---- */

typedef struct cairn_predict_opts {
    const char *id_column; /* NULL: the 0-based row index is the row id */
    bool proba;            /* classifiers: p_<class> columns */
    /* a category the model never saw scores as the encoding does (no level set) instead of
     * being refused */
    bool allow_unseen;
    /* called after each chunk of rows (may be NULL) */
    void (*progress)(void *user, size_t done, size_t total);
    void *user;
} cairn_predict_opts;
#define CAIRN_PREDICT_OPTS_INIT                                                                    \
    {                                                                                              \
        0                                                                                          \
    }

/* Scores every row of t with m (the label may be absent) and writes CSV to out: the row id
 * (column o->id_column with its values, else "row" with the 0-based index), "prediction" (the
 * class label or the value) and, with o->proba, one p_<class> column per class. The features
 * are checked first: a missing feature, one of the wrong type, a missing value the learner
 * cannot take, or a category the model never saw (unless o->allow_unseen) is EINVAL naming
 * the column, row and value. o may be NULL. */
CAIRN_API cairn_status cairn_model_predict_csv(cairn_ctx *ctx, const cairn_model *m,
                                               const cairn_table *t, const cairn_predict_opts *o,
                                               FILE *out);

#ifdef __cplusplus
}
#endif
#endif
