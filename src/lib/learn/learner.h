/* SPDX-License-Identifier: MIT */
/* learner.h - the interface every learner implements, the dense data it is fitted on, text
 * params, and the little-endian payload writer/reader of model files. model.c does the
 * preprocessing and calls a learner through its ops, looked up by name in learner.c. */
#ifndef CN_LEARN_LEARNER_H
#define CN_LEARN_LEARNER_H
#include <stdint.h>
#include "cairn/learn.h"
#include "base/buf.h"

typedef enum cn_task { CN_TASK_REGRESSION = 1, CN_TASK_CLASSIFICATION = 2 } cn_task;

/* Preprocessed rows: x row-major n x d; y the target, or the class index 0..n_classes-1;
 * w the sample weights (class weights folded in; 1 when unweighted). */
typedef struct cn_rows {
    size_t n;
    const double *x;
    const double *y;
    const double *w;
} cn_rows;

typedef struct cn_fit_data {
    size_t d; /* inputs per row after encoding */
    cn_task task;
    size_t n_classes; /* classification only */
    cn_rows train;
    cn_rows val; /* n == 0: no validation rows */
    /* Soft targets for the training rows (distillation), or NULL: train.n x n_classes
     * probabilities (classification) or train.n values (regression) that replace the one-hot
     * (or label) targets in the loss. Only learners with soft_targets read it. */
    const double *soft;
    uint64_t seed;
    cairn_fit_progress_fn on_epoch;
    void *user;
} cn_fit_data;

typedef struct cn_learner_ops cn_learner_ops;
typedef struct cn_params {
    const char *const *keys;
    const char *const *values;
    size_t n;
    const cn_learner_ops *ops; /* reading a param its specs lack is a bug (CN_ASSERT) */
} cn_params;

typedef struct cn_learner {
    const cn_learner_ops *ops; /* first member of every implementation */
} cn_learner;

struct cn_learner_ops {
    const char *name;               /* what users type */
    const cairn_param_spec *params; /* every param fit reads; others are refused */
    size_t n_params;
    unsigned tasks;      /* CN_TASK_* bits it supports */
    bool standardize;    /* numeric features standardised (param "standardize") */
    bool ordinal;        /* categories as codes, unseen -> NaN; else one-hot */
    bool allows_missing; /* NaN goes through as missing; else refused */
    cairn_status (*fit)(cairn_ctx *ctx, const cn_fit_data *data, const cn_params *p,
                        cn_learner **out);
    /* out: n x n_classes probabilities (classification) or n values (regression). */
    cairn_status (*predict)(cairn_ctx *ctx, const cn_learner *l, const double *x, size_t n,
                            double *out);
    void (*save)(const cn_learner *l, cn_buf *payload);
    /* Parses a payload written by save for inputs d, task and n_classes. */
    cairn_status (*load)(cairn_ctx *ctx, const void *payload, size_t len, size_t d, cn_task task,
                         size_t n_classes, cn_learner **out);
    void (*free)(cn_learner *l);
    /* Optional (NULL: not supported). Gradient of each row's loss with respect to its input,
     * in the encoded (standardised) space: x and grad_out n x d, y the class index or target. */
    cairn_status (*input_grad)(cairn_ctx *ctx, const cn_learner *l, const double *x,
                               const double *y, size_t n, double *grad_out);
    bool soft_targets; /* fit reads cn_fit_data.soft */
    /* NULL, or what a STRING param's value lacks ("expected scale, auto or a positive
     * number"), NULL when it is fine: lets a run be refused before it exists. */
    const char *(*check_string)(const char *key, const char *value);
    /* NULL: a classifier's predict gives class probabilities. Else whether this fitted
     * learner does (svc without probability=true gives one-hot rows of its vote). */
    bool (*has_proba)(const cn_learner *l);
};

extern const cn_learner_ops cn_linear_ops, cn_ridge_ops, cn_logistic_ops, cn_mlp_ops, cn_xgb_ops;
extern const cn_learner_ops cn_svc_ops, cn_nusvc_ops, cn_svr_ops, cn_nusvr_ops; /* svm.c */
extern const cn_learner_ops cn_tree_ops, cn_forest_ops, cn_knn_ops, cn_gnb_ops;

/* The learner named `name`, or NULL. */
const cn_learner_ops *cn_learner_find(const char *name);
/* EINVAL "PREFIXlearner 'NAME' is unknown; known: linear, ridge, ..." listing the registry. */
cairn_status cn_learner_unknown(cairn_ctx *ctx, const char *prefix, const char *name);
/* The spec of param `name`, or NULL. */
const cairn_param_spec *cn_learner_spec(const cn_learner_ops *ops, const char *name);
/* EINVAL naming the first key the learner does not know (and those it knows). */
cairn_status cn_params_check(cairn_ctx *ctx, const cn_learner_ops *ops, const cn_params *p);

/* Specs several learners share. */
#define CN_SPEC_BOOL(n, def, text)                                                                 \
    {                                                                                              \
        .name = (n), .type = CAIRN_PARAM_BOOL, .default_value = (def), .help = (text)              \
    }
#define CN_SPEC_FIT_INTERCEPT                                                                      \
    CN_SPEC_BOOL("fit_intercept", "true", "centre the data and fit an intercept")
#define CN_SPEC_STANDARDIZE CN_SPEC_BOOL("standardize", "true", "standardise numeric features")
extern const char *const cn_task_choices[]; /* auto, regression, classification */
#define CN_SPEC_TASK                                                                               \
    {                                                                                              \
        .name = "task", .type = CAIRN_PARAM_CATEGORICAL, .default_value = "auto",                  \
        .choices = cn_task_choices,                                                                \
        .help = "auto (a categorical label classifies), classification or regression"              \
    }
#define CN_N_SPECS(a) (sizeof(a) / sizeof((a)[0]))
const char *cn_param_get(const cn_params *p, const char *key); /* last one wins; NULL if absent */
cairn_status cn_param_double(cairn_ctx *ctx, const cn_params *p, const char *key, double def,
                             double lo, double hi, double *out);
cairn_status cn_param_int(cairn_ctx *ctx, const cn_params *p, const char *key, int64_t def,
                          int64_t lo, int64_t hi, int64_t *out);
cairn_status cn_param_bool(cairn_ctx *ctx, const cn_params *p, const char *key, bool def,
                           bool *out);
/* Index of the value among choices (NULL-terminated); def when absent. */
cairn_status cn_param_choice(cairn_ctx *ctx, const cn_params *p, const char *key,
                             const char *const *choices, int def, int *out);

/* Little-endian payload writing and bounds-checked reading. */
void cn_put_u64(cn_buf *b, uint64_t v);
void cn_put_f64s(cn_buf *b, const double *v, size_t n);
typedef struct cn_reader {
    const unsigned char *p;
    size_t len;
    size_t pos;
    bool bad; /* set by a read past the end; reads then return 0 */
} cn_reader;
uint64_t cn_get_u64(cn_reader *r);
void cn_get_f64s(cn_reader *r, double *v, size_t n);
/* True when n doubles remain (guards allocations sized by the payload). */
bool cn_reader_has(const cn_reader *r, size_t n_doubles);

/* Fitted weights, for tests: linear/ridge give d coefficients and the intercept; logistic
 * gives k_out x d coefficients and k_out intercepts (k_out = 1 for binary) and returns k_out. */
const double *cn_linear_weights(const cn_learner *l, double *intercept);
size_t cn_logistic_weights(const cn_learner *l, const double **coef, const double **intercept);

/* MLP internals for the gradient check: its parameter vector, and the batch loss
 * (sum s_i loss_i + alpha/2 ||W||^2) / n with its gradient (grad may be NULL), no dropout. */
double *cn_mlp_params(cn_learner *l, size_t *n);
double cn_mlp_loss_grad(const cn_learner *l, const double *x, const double *y, const double *s,
                        size_t n, double alpha, double *grad);

/* Compression (cairn/robust.h): int8 post-training quantization of the weights (symmetric;
 * logistic: one scale per class row, mlp: one scale per layer), kept through save and load,
 * predictions from the dequantized weights in double; and global magnitude pruning of the
 * MLP's weight matrices (biases kept), stored as a bitmap and the nonzero values. */
void cn_logistic_quantize(cn_learner *l);
void cn_mlp_quantize(cn_learner *l);
/* Zeroes the round(sparsity * weights) smallest |w| over all layers; returns how many weights
 * are zero and *total the weights (biases not counted). */
size_t cn_mlp_prune(cn_learner *l, double sparsity, size_t *total);
/* Zero weights and all weights (biases not counted) of an MLP. */
size_t cn_mlp_zero_weights(const cn_learner *l, size_t *total);
/* SVM internals for the comparison with scikit-learn: libsvm's decision values of n encoded
 * rows, out: n x width, width returned (classification: one per pair of the classes seen, in
 * libsvm's one-vs-one order, positive for the pair's first class; regression: 1, the value);
 * and the classes seen with their support vector counts (returns how many; 0 for regression). */
size_t cn_svm_decision(const cn_learner *l, const double *x, size_t n, double *out);
size_t cn_svm_support(const cn_learner *l, const int **labels, const int **n_support);
/* The learner's predict output (probabilities, one-hot vote or value) computed by libsvm's own
 * svm_predict_* per row: the reference for the blocked prediction path. */
void cn_svm_predict_libsvm(const cn_learner *l, const double *x, size_t n, double *out);
/* Exact TreeSHAP of an xgboost learner (XGBoost's pred_contribs) for n encoded rows x:
 * *out (free()) holds n x *n_groups x (d + 1) values, the last of each group the bias; one
 * group for regression and binary models (margin, log-odds), one per class otherwise. EINVAL
 * for another learner. */
cairn_status cn_xgb_contribs(cairn_ctx *ctx, const cn_learner *l, const double *x, size_t n,
                             double **out, size_t *n_groups);
/* Whether an xgboost learner predicts batches of up to 64 rows with its own tree walker
 * (xgb_walk.h) rather than XGBoost's predictor; false for another learner. */
bool cn_xgb_walks(const cn_learner *l);

/* Softmax of z[0..k) in place (max-shifted). */
void cn_softmax(double *z, size_t k);
#endif
