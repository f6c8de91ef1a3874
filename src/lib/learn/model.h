/* SPDX-License-Identifier: MIT */
/* model.h - the insides of a cairn_model, shared by model.c (fit, predict, file format) and
 * model_meta.c (the JSON metadata section, through formats/json.h, and the encoded width).
 * Calls go one way: model.c uses model_meta.c, never the reverse. */
#ifndef CN_LEARN_MODEL_H
#define CN_LEARN_MODEL_H
#include "learn/learner.h"

#define CN_MODEL_MAGIC "CAIRNMDL"
#define CN_MODEL_VERSION 1u

/* One input column and how it is encoded. */
typedef struct cn_feature {
    char *name;
    cairn_col_type type;
    double mean, scale; /* numeric: (x - mean) / scale; 0 and 1 when not standardised */
    size_t n_levels;    /* categorical: the levels seen in the training rows */
    char **levels;
} cn_feature;

struct cairn_model {
    const cn_learner_ops *ops;
    cn_learner *impl;
    cn_task task;
    bool standardize;
    size_t n_inputs; /* width of the encoded rows */
    char *label;
    size_t n_classes; /* classification only */
    char **classes;
    size_t n_features;
    cn_feature *features;
    size_t n_params;
    char **param_keys, **param_values;
    uint64_t seed;
    char digest[65];
    size_t n_meta;
    char **meta_keys, **meta_values;
    char *drift_profile; /* the drift reference profile's JSON (cairn/drift.h), or NULL */
};

/* Width of the encoded rows for the model's features and its learner's encoding
 * (model_meta.c). */
size_t cn_model_width(const cairn_model *m);
/* The JSON metadata section; the caller frees. */
char *cn_model_meta_dump(const cairn_model *m);
/* Fills m (all fields but impl) from a metadata section; EINVAL names what is wrong. */
cairn_status cn_model_meta_parse(cairn_ctx *ctx, const char *text, size_t len, cairn_model *m);
/* Marks the encoded columns (m->n_inputs) that hold a numeric feature. */
void cn_model_numeric_columns(const cairn_model *m, bool *numeric);
/* cairn_model_fit with soft targets for the training rows (o->train_rows order, no class
 * weights or oversampling): n_train x n_classes probabilities or n_train values; the learner
 * must take soft targets. */
cairn_status cn_model_fit_soft(cairn_ctx *ctx, const cairn_table *t, const cairn_fit_opts *o,
                               const double *soft, cairn_model **out);
/* The fitted learner inside a model (tests read weights through it). */
const cn_learner *cn_model_impl(const cairn_model *m);
/* Encodes rows[0..n) of t (NULL: the first n) as the learner sees them into x (n x
 * m->n_inputs): standardised numbers, one-hot or ordinal levels (cairn explain's TreeSHAP). */
cairn_status cn_model_encode(cairn_ctx *ctx, const cairn_model *m, const cairn_table *t,
                             const size_t *rows, size_t n, double *x);
#endif
