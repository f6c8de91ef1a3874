/* SPDX-License-Identifier: MIT */
/* cli_robust_util.h - what `cairn eval robustness` and `cairn model compress` share: loading a
 * MODEL with its CSV, the rows the guardrail allows, and writing an artifact on a run. */
#ifndef CN_CLI_ROBUST_UTIL_H
#define CN_CLI_ROBUST_UTIL_H
#include "cli.h"
#include "cairn/registry.h"

typedef struct cli_model_data {
    cairn_ctx *ctx;
    cairn_model_ref ref;
    cairn_model *model;
    cairn_table *table;
    size_t *held_out; /* rows of table the model was not trained on */
    size_t n_held_out;
    size_t *trained; /* rows of table the model was trained on (per its record) */
    size_t n_trained;
    bool has_record; /* the model records its training rows */
} cli_model_data;

/* Opens the context, resolves spec, loads the model and the CSV and splits its rows into
 * trained and held-out (csv NULL: no table). Returns 0, or the exit code after printing the error.
 */
int cli_model_data_open(const char *spec, const char *csv, cli_model_data *d);
void cli_model_data_close(cli_model_data *d);
/* Writes bytes as artifact `path` of run_id; false after printing the error. */
bool cli_run_write_artifact(cairn_ctx *ctx, const char *run_id, const char *path, const void *data,
                            size_t len);
int cmd_eval_robustness(int argc, char **argv);
int cmd_model_compress(const char *usage, int argc, char **argv);

#define SYN_ROBUSTNESS                                                                             \
    "cairn eval robustness MODEL --data CSV [--rows IDX] [--perturb LIST] [--levels LIST] "        \
    "[--dropout-levels LIST] [--eps LIST] [--repeats N] [--pgd-steps N] [--pgd-step F] "           \
    "[--random-start] [--seed N] [--out DIR] [--json]"
/* Row numbers (one per line) from a file, or the run's artifact split/<name>.idx; NULL when
 * absent. */
size_t *cli_read_idx(const char *path, size_t n_rows, size_t *n, bool *bad);
size_t *cli_run_idx(cairn_ctx *ctx, const char *run_id, const char *name, size_t n_rows, size_t *n,
                    bool *bad);
/* The sealed test rows of the model's run when csv is the file that run trained on (same
 * SHA-256): they are scored once, by cairn eval final. NULL (and *n 0) otherwise; *run gets the
 * run id (borrowed) when there is one. */
size_t *cli_sealed_rows(cli_model_data *d, const char *csv, size_t *n, const char **run);
#endif
