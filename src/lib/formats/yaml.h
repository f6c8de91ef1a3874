/* SPDX-License-Identifier: MIT */
/* yaml.h - experiment-config.yaml, read with libyaml (whose only home is yaml.c): the run's
 * name, experiment, command, params, inputs, seed, tags, tracked metrics, kept artifacts, and
 * for `cairn train` the data:, split:, learner:, bootstrap: and cv: sections. The runner and
 * train/ load it; fuzz/fuzz_config.c fuzzes it. */
#ifndef CN_YAML_H
#define CN_YAML_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "cairn/cairn.h"

typedef struct cn_config_kv {
    char *key;
    char *value; /* the scalar as written: "0.01", "adam", "true" */
} cn_config_kv;

/* data: {path, label, features, numeric, categorical} */
typedef struct cn_config_data {
    char *path;
    char *label;
    char **features; /* NULL: every column but the label */
    size_t n_features;
    char **numeric; /* columns declared numeric / categorical for the CSV reader */
    size_t n_numeric;
    char **categorical;
    size_t n_categorical;
} cn_config_data;

/* split: {method, test, val, group, time} or {train, val, test} index files. */
typedef struct cn_config_split {
    char *method; /* "random", "stratified", "group", "time"; NULL with index files */
    double test;  /* fractions; -1 when absent */
    double val;
    char *group;                          /* method group: the group column */
    char *time;                           /* method time: the ordering column */
    char *train_idx, *val_idx, *test_idx; /* index files; NULL when absent */
} cn_config_split;

/* learner: {name, params, class_weight, oversample} */
typedef struct cn_config_learner {
    char *name;
    cn_config_kv *params; /* in file order; a list value is joined with ',' ("64,32") */
    size_t n_params;
    char *class_weight; /* NULL or "balanced" */
    bool oversample;
} cn_config_learner;

typedef struct cn_config {
    char *name;       /* NULL when absent */
    char *experiment; /* NULL when absent */
    char **command;   /* argv; a string is split on spaces */
    size_t n_command;
    cn_config_kv *params; /* in file order */
    size_t n_params;
    char **inputs; /* data files, hashed in full by the runner */
    size_t n_inputs;
    bool has_seed;
    int64_t seed;
    cn_config_kv *tags;
    size_t n_tags;
    char **metrics; /* metric names to track */
    size_t n_metrics;
    char **artifacts; /* paths to keep after the run */
    size_t n_artifacts;
    char *learner_yaml; /* the learner: sub-tree re-emitted as YAML text; NULL when absent */
    bool has_data, has_split, has_learner;
    cn_config_data data;
    cn_config_split split;
    cn_config_learner learner;
    int64_t bootstrap; /* resamples for confidence intervals; -1 when absent */
    int64_t cv;        /* folds of cross-validation; -1 when absent */
} cn_config;

/* Parses text[0 .. len); `label` names the file in messages ("config 'x.yaml' line 3 column 7:
 * 'seed' must be an integer, got 'abc'"). On success *out is freed with cn_config_free(). */
cairn_status cn_config_parse(cairn_ctx *ctx, const char *label, const char *text, size_t len,
                             cn_config **out);
/* Reads and parses a file ("config 'x.yaml': No such file or directory"). */
cairn_status cn_config_load(cairn_ctx *ctx, const char *path, cn_config **out);
void cn_config_free(cn_config *cfg); /* NULL is a no-op */
#endif
