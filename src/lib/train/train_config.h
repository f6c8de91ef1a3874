/* SPDX-License-Identifier: MIT */
/* train_config.h - `cairn train`'s config: the run keys (runner/run_config.h) plus the data:,
 * split:, learner:, bootstrap:, cv:, task: and plots: sections, read from the generic tree
 * (formats/tree.h) of a YAML or JSON file. train.c loads it; fuzz/fuzz_config.c fuzzes it. */
#ifndef CN_TRAIN_CONFIG_H
#define CN_TRAIN_CONFIG_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "cairn/cairn.h"
#include "formats/tree.h"
#include "runner/run_config.h"

/* data: {path, label, features, numeric, categorical, class_names, expect} */
typedef struct cn_train_config_data {
    char *path;
    char *label;
    char **features; /* NULL: every column but the label */
    size_t n_features;
    char **numeric; /* columns declared numeric / categorical for the CSV reader */
    size_t n_numeric;
    char **categorical;
    size_t n_categorical;
    cn_tree_kv *class_names; /* label value ("0") -> name ("malignant"), in file order */
    size_t n_class_names;
    char *expect; /* expectations.yaml the data must meet (docs/expectations.md); NULL: none */
} cn_train_config_data;

/* split: {method, test, val, group, time} or {train, val, test} index files. */
typedef struct cn_train_config_split {
    char *method; /* "random", "stratified", "group", "time"; NULL with index files */
    double test;  /* fractions in [0, 1); -1 when absent */
    double val;
    char *group;                          /* method group: the group column */
    char *time;                           /* method time: the ordering column */
    char *train_idx, *val_idx, *test_idx; /* index files; NULL when absent */
} cn_train_config_split;

/* learner: {name, params, class_weight, oversample} */
typedef struct cn_train_config_learner {
    char *name;
    cn_tree_kv *params; /* in file order; a list value is joined with ',' ("64,32") */
    size_t n_params;
    char *class_weight; /* NULL or "balanced" */
    bool oversample;
} cn_train_config_learner;

/* plots: {calibration, bins} */
typedef struct cn_train_config_plots {
    char *calibration; /* "uniform", "quantile"; NULL when absent */
    int64_t bins;      /* calibration bins 2..100; -1 when absent */
} cn_train_config_plots;

/* cv: N, cv: FILE (row,fold) or cv: {folds, repeats, method, group, shuffle, file} */
typedef struct cn_train_config_cv {
    char *file;      /* a fold file (row,fold); NULL when absent */
    int64_t repeats; /* 1..100; -1 when absent */
    char *method;    /* "stratified", "kfold", "group", "stratified_group"; NULL when absent */
    char *group;     /* the group column (methods group and stratified_group) */
    int shuffle;     /* -1 absent, 0 false, 1 true */
} cn_train_config_cv;

typedef struct cn_train_config {
    cn_run_config run; /* first: the run keys' readers fill it through the same pointer */
    bool has_data, has_split, has_learner;
    cn_train_config_data data;
    cn_train_config_split split;
    cn_train_config_learner learner;
    cn_train_config_plots plots;
    int64_t bootstrap;      /* resamples for confidence intervals; -1 when absent */
    int64_t cv;             /* folds of cross-validation; -1 when absent */
    cn_train_config_cv cvx; /* cv: as a mapping or a fold file (cv then holds the folds) */
    char *task;             /* "classification", "regression"; NULL: inferred from the label */
} cn_train_config;

/* Reads a config file (JSON when it ends in ".json"). On success *out is freed with
 * cn_train_config_free(). */
cairn_status cn_train_config_load(cairn_ctx *ctx, const char *path, cn_train_config **out);
/* The same from text; `label` names it in messages ("config 'x.yaml' line 3 column 7: ..."). */
cairn_status cn_train_config_parse(cairn_ctx *ctx, const char *label, cn_tree_format format,
                                   const char *text, size_t len, cn_train_config **out);
void cn_train_config_free(cn_train_config *cfg); /* NULL is a no-op */
#endif
