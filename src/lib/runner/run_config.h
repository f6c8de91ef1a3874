/* SPDX-License-Identifier: MIT */
/* run_config.h - the run keys of experiment-config.yaml (or .json): name, experiment, command,
 * params, inputs, seed, tags, metrics, artifacts. The runner loads them; `cairn train` reads
 * them with its own sections added (train/train_config.c). */
#ifndef CN_RUNNER_RUN_CONFIG_H
#define CN_RUNNER_RUN_CONFIG_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "cairn/cairn.h"
#include "formats/tree.h"

typedef struct cn_run_config {
    char *name;       /* NULL when absent */
    char *experiment; /* NULL when absent */
    char **command;   /* argv; a string is split on spaces */
    size_t n_command;
    cn_tree_kv *params; /* in file order */
    size_t n_params;
    char **inputs; /* data files, hashed in full by the runner */
    size_t n_inputs;
    bool has_seed;
    int64_t seed;
    cn_tree_kv *tags;
    size_t n_tags;
    char **metrics; /* metric names to track */
    size_t n_metrics;
    char **artifacts; /* paths to keep after the run */
    size_t n_artifacts;
} cn_run_config;

/* Reads the top level of tree into cfg (zeroed by the caller). `extra` adds another command's
 * sections; their read functions get w->user == cfg, so a bigger config embeds cn_run_config
 * as its first member. With extra NULL, `cairn train`'s sections are known but not read. */
cairn_status cn_run_config_read(cairn_ctx *ctx, const cn_tree *tree, const cn_tree_field *extra,
                                size_t n_extra, cn_run_config *cfg);
/* Reads a config file for `cairn run` ("config 'x.yaml' line 3 column 7: 'seed' must be a
 * non-negative integer, got 'abc'"). On success *out is freed with cn_run_config_free(). */
cairn_status cn_run_config_load(cairn_ctx *ctx, const char *path, cn_run_config **out);
void cn_run_config_release(cn_run_config *cfg); /* frees what cfg holds */
void cn_run_config_free(cn_run_config *cfg);    /* NULL is a no-op */
#endif
