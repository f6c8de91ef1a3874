/* SPDX-License-Identifier: MIT */
/* pipeline_int.h - the pipeline module's insides: a parsed pipeline.yaml (parse.c) and the
 * runner over it (run.c). */
#ifndef CN_PIPELINE_INT_H
#define CN_PIPELINE_INT_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "cairn/pipeline.h"

typedef enum cn_stage_kind {
    CN_STAGE_VALIDATE = 0,
    CN_STAGE_SPLIT,
    CN_STAGE_TRAIN,
    CN_STAGE_TUNE,
    CN_STAGE_EVALUATE,
    CN_STAGE_REGISTER,
    CN_STAGE_PROMOTE,
    CN_STAGE_DEPLOY,
    CN_STAGE_MONITOR,
    CN_STAGE_COMMAND,
    CN_STAGE_CARD,
    CN_STAGE_N_KINDS
} cn_stage_kind;

extern const char *const cn_pipeline_kind_names[CN_STAGE_N_KINDS];

typedef struct cn_stage {
    char *name;
    cn_stage_kind kind;
    uint32_t line;
    char *data, *expect, *config, *model, *to, *alias, *label, *experiment, *space;
    char *template_path; /* card: the person-written sections (model-card.md) */
    int64_t trials;      /* tune: 0 when absent */
    int64_t port;        /* deploy: 0 (a free one) when absent */
    char **run;          /* command: argv */
    size_t n_run;
    char **inputs; /* declared files, besides the kind's own (data, expect, config, space,
                    * template) */
    size_t n_inputs;
    char **outputs; /* declared files */
    size_t n_outputs;
    char **after;
    size_t n_after;
    size_t *deps; /* stage indexes: after + producers of the inputs, no duplicates */
    size_t n_deps;
    char config_sha256[65]; /* the stage's mapping as written, canonical */
} cn_stage;

struct cairn_pipeline {
    char *label; /* the file, for messages */
    char *dir;   /* the folder paths are relative to */
    char *name;
    cn_stage *stages; /* file order */
    size_t n;
    size_t *order; /* topological, ties in file order */
    /* trigger: */
    char *trigger_data; /* on_drift.data: the new feed */
    char *trigger_monitor_run;
    int64_t trigger_every_s; /* schedule.every; 0 when absent */
    bool trigger_on_drift;   /* an on_drift: mapping was given */
    char *trigger_slice_by;  /* the column the gate slices the old rows by, or NULL */
};

/* Every input file of stage s (its kind's and the declared ones), as written: appended to
 * *list (new strings). */
void cn_pipeline_stage_inputs(const cn_stage *s, char ***list, size_t *n);
/* The files stage s produces, relative to the pipeline folder (split: its index files in
 * the state folder; command: its declared outputs). */
void cn_pipeline_stage_outputs(const cairn_pipeline *p, const cn_stage *s, char ***list, size_t *n);
/* ---- shared by run.c and continual.c ---- */

/* Runs argv (argv[0] through PATH, NULL-terminated) in dir with stdout and stderr to files;
 * *code is its exit status, or 128 + the signal that ended it. */
cairn_status cn_pipeline_spawn_wait(cairn_ctx *ctx, char *const *argv, const char *dir,
                                    const char *out_path, const char *err_path, int *code);
char *cn_pipeline_read_small(const char *path); /* a file's text (NUL-terminated), or NULL */
/* The last "cairn: error: ..." line of a log, else its last non-empty line, or NULL. */
char *cn_pipeline_last_error(const char *err_path);
/* True when pid_file names a live process (its pid in *pid_out, which may be NULL). */
bool cn_pipeline_pid_alive(const char *pid_file, pid_t *pid_out);
/* Starts a server (argv: a `cairn serve ...` command line) in its own session in dir, with
 * its pid in SDIR/serve.pid (stopping the one a pid there names first) and its output in
 * SDIR/serve.{out,err}; waits for its "listening on URL" line. *url_out is new. */
cairn_status cn_pipeline_start_server(cairn_ctx *ctx, char *const *argv, const char *dir,
                                      const char *sdir, const char *stage, char **url_out,
                                      pid_t *pid_out);

/* Holm's step-down adjustment of n p-values: adj[i] = max over the j-th smallest p-values up
 * to p[i] of min(1, (n - j) p_(j)) (j from 0). NaN p-values are left out (adj NaN) and do
 * not count in n. */
void cn_holm(const double *p, size_t n, double *adj);

/* The state folder, relative to the pipeline folder. */
#define CN_PIPELINE_STATE_DIR ".cairn-pipeline"
#endif
