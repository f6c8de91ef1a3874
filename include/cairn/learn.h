/* SPDX-License-Identifier: MIT */
/* learn.h - built-in learners (linear, ridge, logistic, mlp, xgboost, ...): fit on a cairn_table,
 * predict, and save or load self-describing model files. Preprocessing (standardisation,
 * one-hot or ordinal encoding) is fitted on the training rows and stored inside the model. */
#ifndef CAIRN_LEARN_H
#define CAIRN_LEARN_H

#include "cairn.h"
#include "data.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct cairn_model cairn_model;

/* One epoch (MLP), boosting round (xgboost) or solver iteration (logistic: train_loss is the
 * penalised objective per training row) of training. NaN where a value does not apply (no
 * validation rows; no metric for the task). The metric is accuracy for classification and
 * R^2 for regression. */
typedef struct cairn_epoch_info {
    int epoch; /* 1-based */
    double train_loss;
    double val_loss;
    double train_metric;
    double val_metric;
    /* Early stopping on validation rows: the epoch whose model is kept if training ends now
     * (the best so far); 0 without early stopping. */
    int best_epoch;
    /* MLP: the L2 norm of each weight layer's gradient (its weights, not biases), the mean
     * over the epoch's batches, first (input) layer first; NULL and 0 for other learners.
     * Borrowed for the callback. */
    const double *grad_norms;
    size_t n_layers;
} cairn_epoch_info;

/* Called after every epoch; return nonzero to stop training early (the model keeps the
 * weights it has, or the best ones when early stopping is on). */
typedef int (*cairn_fit_progress_fn)(void *user, const cairn_epoch_info *e);

typedef struct cairn_fit_opts {
    const char *learner;           /* "linear", "xgboost", ... (cairn_learner_name lists them) */
    const char *const *param_keys; /* learner params as text, e.g. "C" = "1.0" */
    const char *const *param_values;
    size_t n_params;
    uint64_t seed;               /* every random choice derives from it */
    const char *label;           /* label column name (required) */
    const char *const *features; /* NULL: every column but the label */
    size_t n_features;
    const size_t *train_rows; /* NULL: all rows */
    size_t n_train;
    const size_t *val_rows; /* NULL: none (early stopping and val loss off) */
    size_t n_val;
    const char *class_weight;       /* NULL or "balanced" (classifiers) */
    bool oversample;                /* random oversampling of minority classes (train) */
    cairn_fit_progress_fn on_epoch; /* may be NULL */
    void *user;
    /* NULL or "auto": the learner's "task" param, else the label decides
     * (cairn_column_holds_classes on the rows of t); "classification" or "regression" settles
     * it for a learner that does both (a "task" param that disagrees is refused). */
    const char *task;
} cairn_fit_opts;
#define CAIRN_FIT_OPTS_INIT                                                                        \
    {                                                                                              \
        0                                                                                          \
    }

/* Fits a model on table t. On success *out is a new model freed with cairn_model_free(). On
 * failure *out is NULL and cairn_errmsg(ctx) says why (unknown learner or param, missing
 * feature values, a label with one class, ...). */
CAIRN_API cairn_status cairn_model_fit(cairn_ctx *ctx, const cairn_table *t,
                                       const cairn_fit_opts *o, cairn_model **out);

/* Predictions for rows (NULL: all n_rows of t, then n_rows must equal t->n_rows).
 * out has n_rows values: the regression value, or the index k of the predicted class
 * (its text is cairn_model_class_label(m, k)). The table needs the model's feature columns,
 * found by name and with the same type; extra columns are ignored. */
CAIRN_API cairn_status cairn_model_predict(cairn_ctx *ctx, const cairn_model *m,
                                           const cairn_table *t, const size_t *rows, size_t n_rows,
                                           double *out);
/* Class probabilities, out: n_rows x n_classes, row-major. EINVAL for a regression model. */
CAIRN_API cairn_status cairn_model_predict_proba(cairn_ctx *ctx, const cairn_model *m,
                                                 const cairn_table *t, const size_t *rows,
                                                 size_t n_rows, double *out);

/* Saves to a file (written atomically) or to memory (*data freed with cairn_free()). */
CAIRN_API cairn_status cairn_model_save(cairn_ctx *ctx, const cairn_model *m, const char *path);
CAIRN_API cairn_status cairn_model_save_bytes(cairn_ctx *ctx, const cairn_model *m, void **data,
                                              size_t *len);
/* Loads a model file; a corrupted, truncated or foreign file is refused with EINVAL. */
CAIRN_API cairn_status cairn_model_load(cairn_ctx *ctx, const char *path, cairn_model **out);
CAIRN_API cairn_status cairn_model_load_bytes(cairn_ctx *ctx, const void *data, size_t len,
                                              cairn_model **out);
CAIRN_API void cairn_model_free(cairn_model *m); /* NULL is a no-op */

/* ---- the learners' params: what each accepts, for checks, help and search spaces ---- */

typedef enum cairn_param_type {
    CAIRN_PARAM_FLOAT = 1,   /* a real number in [low, high] */
    CAIRN_PARAM_INT,         /* an integer in [low, high] */
    CAIRN_PARAM_BOOL,        /* true/false (or 1/0) */
    CAIRN_PARAM_CATEGORICAL, /* one of choices */
    CAIRN_PARAM_INT_LIST,    /* comma-separated integers, each in [low, high]; "" is empty */
    CAIRN_PARAM_STRING       /* free text checked by the learner at fit (xgboost's objective) */
} cairn_param_type;

/* One param a learner reads. Params are text; this says which text it accepts. */
typedef struct cairn_param_spec {
    const char *name;
    cairn_param_type type;
    double low, high;           /* float, int, int-list items: the range (+-HUGE_VAL: none) */
    bool low_open, high_open;   /* true: that bound itself is excluded */
    const char *default_value;  /* as text; NULL: decided at fit (xgboost's seed, objective) */
    bool log_scale;             /* spans orders of magnitude: search it on a log scale */
    const char *const *choices; /* categorical: NULL-terminated */
    const char *help;
} cairn_param_spec;

/* The learner named `learner` ("mlp"): its params, *specs[0 .. *n), static. ENOTFOUND (and
 * *specs NULL) for an unknown name. */
CAIRN_API cairn_status cairn_learner_params(const char *learner, const cairn_param_spec **specs,
                                            size_t *n);
/* The i-th built-in learner's name ("linear", ...), NULL past the end. */
CAIRN_API const char *cairn_learner_name(size_t i);
/* "float", "int", "bool", "categorical", "int-list", "string". */
CAIRN_API const char *cairn_param_type_name(cairn_param_type type);
/* Checks params as text against the learner's specs without fitting: EINVAL names the first
 * unknown key ("learner 'mlp': unknown param 'hiden' (did you mean 'hidden'?); known: ...") or
 * value out of its type or range. */
CAIRN_API cairn_status cairn_learner_check_params(cairn_ctx *ctx, const char *learner,
                                                  const char *const *keys,
                                                  const char *const *values, size_t n);

/* ---- what the model describes; strings are borrowed and live as long as m ---- */
CAIRN_API const char *cairn_model_learner(const cairn_model *m);
CAIRN_API size_t cairn_model_n_classes(const cairn_model *m); /* 0 for regression */
/* Whether cairn_model_predict_proba gives class probabilities: false for regression and for
 * an svc/nusvc fitted without probability=true (its rows are one-hot votes; probability
 * metrics, curves and columns are then left out). */
CAIRN_API bool cairn_model_has_proba(const cairn_model *m);
CAIRN_API const char *cairn_model_class_label(const cairn_model *m, size_t k); /* NULL past end */
CAIRN_API const char *cairn_model_label(const cairn_model *m); /* label column name */
CAIRN_API size_t cairn_model_n_features(const cairn_model *m);
CAIRN_API const char *cairn_model_feature_name(const cairn_model *m, size_t i);
CAIRN_API cairn_col_type cairn_model_feature_type(const cairn_model *m, size_t i);
/* A categorical feature's levels as seen in the training rows (j < n_levels); 0 and NULL for
 * a numeric feature or past the end. */
CAIRN_API size_t cairn_model_feature_n_levels(const cairn_model *m, size_t i);
CAIRN_API const char *cairn_model_feature_level(const cairn_model *m, size_t i, size_t j);
/* A numeric feature's standardisation, (x - mean) / scale (0 and 1 when not standardised);
 * false for a categorical feature or past the end. */
CAIRN_API bool cairn_model_feature_scaling(const cairn_model *m, size_t i, double *mean,
                                           double *scale);
/* The learner params as given at fit (i < n_params); false past the end. */
CAIRN_API size_t cairn_model_n_params(const cairn_model *m);
CAIRN_API bool cairn_model_param(const cairn_model *m, size_t i, const char **key,
                                 const char **value);
/* SHA-256 (hex) of the training rows as the learner saw them (features and label). */
CAIRN_API const char *cairn_model_data_digest(const cairn_model *m);
/* Free-form metadata saved with the model (metrics, run id, ...); set replaces a key. */
CAIRN_API void cairn_model_set_meta(cairn_model *m, const char *key, const char *value);
CAIRN_API const char *cairn_model_get_meta(const cairn_model *m, const char *key); /* or NULL */
/* The i-th metadata pair (i < n_meta), in the order set; false past the end. */
CAIRN_API size_t cairn_model_n_meta(const cairn_model *m);
CAIRN_API bool cairn_model_meta(const cairn_model *m, size_t i, const char **key,
                                const char **value);
/* The drift reference profile stored in the model file (cairn/drift.h makes and reads it):
 * its JSON text is copied; NULL removes it. The getter's result is borrowed, NULL if none. */
CAIRN_API void cairn_model_set_drift_profile(cairn_model *m, const char *json);
CAIRN_API const char *cairn_model_drift_profile(const cairn_model *m);
/* A linear model's weights by input name (linear, ridge, logistic). Inputs are the encoded
 * columns in the model's feature order: a numeric feature is one input named after it, a
 * categorical feature one input per training level, "color=red" (one-hot). Coefficients are
 * in the units the learner saw: standardised ((x - mean) / scale, see
 * cairn_model_feature_scaling) when `standardized`. */
typedef struct cairn_coefficients {
    size_t n_inputs;
    const char **names; /* n_inputs */
    /* 1 for linear, ridge and binary logistic (the weights of the second class, as
     * scikit-learn's coef_), else one row per class */
    size_t n_rows;
    const char **row_classes; /* n_rows class labels; NULL for a regression */
    double *coef;             /* n_rows x n_inputs */
    double *intercept;        /* n_rows */
    bool standardized;
    void *internal_;
} cairn_coefficients;
/* *out: cairn_coefficients_free(). EINVAL for a learner without coefficients (mlp,
 * xgboost), naming it. */
CAIRN_API cairn_status cairn_model_coefficients(cairn_ctx *ctx, const cairn_model *m,
                                                cairn_coefficients **out);
CAIRN_API void cairn_coefficients_free(cairn_coefficients *c); /* NULL: no-op */
/* The model file's JSON metadata section (learner, params, features, preprocessing, classes,
 * digest, meta). *json_out is freed with cairn_free(). */
CAIRN_API cairn_status cairn_model_describe(cairn_ctx *ctx, const cairn_model *m, char **json_out);

#ifdef __cplusplus
}
#endif
#endif
