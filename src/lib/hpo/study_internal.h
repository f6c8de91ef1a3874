/* SPDX-License-Identifier: MIT */
/* study_internal.h - the study handle (study.c) and what the tuner (study_tune.c) uses of it. */
#ifndef CN_STUDY_INTERNAL_H
#define CN_STUDY_INTERNAL_H
#include "cairn/hpo.h"
#include "store/store_ops.h"

/* One trial in the handle's cache. absent: no trial of that number has been seen. */
typedef struct cn_study_trial {
    int64_t number;
    cairn_trial_state state;
    bool absent, has_value, has_params;
    double value;
    double *params; /* n_params */
    char run_id[33];
    int64_t retry_of, start_ms, end_ms;
    size_t n_steps, cap_steps;
    int64_t *steps;
    double *values;
} cn_study_trial;

struct cairn_study {
    cairn_ctx *ctx;
    cn_study_row row;
    bool created;
    char *sampler_spec, *pruner_spec;
    uint64_t seed;
    char *user;
    int max_retries;
    cairn_space *space;
    size_t n_params;
    cairn_sampler *sampler;
    cairn_pruner *pruner;
    cn_study_trial *trials; /* by number */
    size_t n_trials, cap_trials;
    int64_t frontier; /* every trial below it is final and cached */
    cairn_trial_record *records;
    size_t cap_records;
    cairn_trial *pub;
};

/* Reads the trials from the frontier on (and their values) into the cache. */
cairn_status cn_study_refresh(cairn_study *s);
/* tell and report with a reason and without logging to the run (the runner already did). */
cairn_status cn_study_tell(cairn_study *s, int64_t number, cairn_trial_state state, double value,
                           const char *reason, bool log_metric);
/* As cn_study_tell; a FAIL is also queued again as a WAITING copy (same params, retry_of)
 * while the retries of its line stay below retry_max; *retry_number (may be NULL) is the
 * copy's number, else -1. */
cairn_status cn_study_tell_retry(cairn_study *s, int64_t number, cairn_trial_state state,
                                 double value, const char *reason, bool log_metric, int retry_max,
                                 int64_t *retry_number);

/* Where a study stands against a target of finished trials (cn_study_ask_within). */
typedef struct cn_study_budget {
    bool full;         /* the target is reached: nothing was claimed */
    int64_t n_counted; /* trials counting toward it: finished (a retried FAIL counts once, as
                          its retry), RUNNING and WAITING */
    int64_t n_running; /* the study's RUNNING trials, any process's */
} cn_study_budget;
/* cairn_study_ask within a target (> 0; 0: none) checked under the study's lock in the
 * claim's transaction: when the trials that count already reach it, nothing is claimed,
 * out->number is -1 and budget->full is set (stale trials are still reaped). budget may be
 * NULL. */
cairn_status cn_study_ask_within(cairn_study *s, int64_t target, cairn_trial *out,
                                 cn_study_budget *budget);
cairn_status cn_study_report(cairn_study *s, int64_t number, int64_t step, double value,
                             bool log_metric);
#endif
