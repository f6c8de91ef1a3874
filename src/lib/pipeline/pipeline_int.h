/* SPDX-License-Identifier: MIT */
/* pipeline_int.h - the pipeline module's insides: a parsed pipeline.yaml (parse.c) and the
 * runner over it (run.c). */
#ifndef CN_PIPELINE_INT_H
#define CN_PIPELINE_INT_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
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
};

/* Every input file of stage s (its kind's and the declared ones), as written: appended to
 * *list (new strings). */
void cn_pipeline_stage_inputs(const cn_stage *s, char ***list, size_t *n);
/* The files stage s produces, relative to the pipeline folder (split: its index files in
 * the state folder; command: its declared outputs). */
void cn_pipeline_stage_outputs(const cairn_pipeline *p, const cn_stage *s, char ***list, size_t *n);
/* The state folder, relative to the pipeline folder. */
#define CN_PIPELINE_STATE_DIR ".cairn-pipeline"
#endif
