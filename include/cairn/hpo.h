/* SPDX-License-Identifier: MIT */
/* hpo.h - the optimizer core, in memory: search spaces (cairn's YAML/JSON format, W&B sweeps,
 * NNI search spaces), samplers (random, grid, Sobol' QMC, TPE, CMA-ES) and pruners (median,
 * percentile, successive halving, Hyperband, threshold, patient). Samplers and pruners keep
 * no trial history of their own: the caller (a study store, `cairn tune`, a test) hands them
 * the history of trials on every call, so several processes sharing a store ask the same
 * questions and get the same answers. See docs/hpo.md. */
#ifndef CAIRN_HPO_H
#define CAIRN_HPO_H
#include "cairn/cairn.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- search spaces ---- */

typedef struct cairn_space cairn_space;

typedef enum cairn_space_format {
    CAIRN_SPACE_AUTO = 0, /* load: JSON when the name ends in ".json", else YAML; parse: YAML
                             (a superset of JSON) */
    CAIRN_SPACE_YAML,     /* cairn's own schema (docs/hpo.md), YAML or JSON text */
    CAIRN_SPACE_JSON,     /* cairn's own schema, JSON only */
    CAIRN_SPACE_WANDB,    /* a W&B sweep configuration (YAML or JSON) */
    CAIRN_SPACE_NNI       /* an NNI search-space JSON */
} cairn_space_format;

typedef enum cairn_param_type {
    CAIRN_PARAM_FLOAT = 1,
    CAIRN_PARAM_INT,
    CAIRN_PARAM_CATEGORICAL,
    CAIRN_PARAM_CONST /* one value, never sampled */
} cairn_param_type;

/* How a parameter reads; strings are borrowed from the space. */
typedef struct cairn_param_info {
    const char *name;
    cairn_param_type type;
    double low, high; /* FLOAT, INT: inclusive bounds */
    double step;      /* FLOAT: 0 = continuous; INT: >= 1 */
    bool log;         /* FLOAT, INT: sampled on a log scale */
    size_t n_choices; /* CATEGORICAL: the values as written; CONST: 1 */
    const char *const *choices;
    size_t n_conditions; /* active only when every condition holds (and its parent is active) */
} cairn_param_info;

/* A parameter's internal value, as samplers and histories hold it (Optuna's convention):
 * FLOAT the value, INT the integer as a double, CATEGORICAL the index into choices, CONST 0,
 * and NaN for a parameter that is not active in that trial (its `when:` does not hold). */

/* Reads a search space from text[0 .. len). Errors name the parameter and the rule
 * ("parameter 'lr': log scale needs low > 0") with the line and column. `label` names the
 * input in messages (a file name). On success *out is freed with cairn_space_free(). */
CAIRN_API cairn_status cairn_space_parse(cairn_ctx *ctx, const char *label, cairn_space_format fmt,
                                         const char *text, size_t len, cairn_space **out);
/* The same from a file (ENOTFOUND when it does not exist). */
CAIRN_API cairn_status cairn_space_load(cairn_ctx *ctx, const char *path, cairn_space_format fmt,
                                        cairn_space **out);
CAIRN_API void cairn_space_free(cairn_space *space); /* NULL is a no-op */

CAIRN_API size_t cairn_space_n_params(const cairn_space *space);
/* Fills *out for parameter i (< n_params); borrowed strings. */
CAIRN_API void cairn_space_param(const cairn_space *space, size_t i, cairn_param_info *out);
/* The index of the parameter named name, or -1. */
CAIRN_API int64_t cairn_space_find(const cairn_space *space, const char *name);
/* The objective the file names (`objective: {name: val_loss, goal: minimize}`): NULL when it
 * names none; *maximize is false unless the goal is maximize. */
CAIRN_API const char *cairn_space_objective(const cairn_space *space, bool *maximize);
/* Which of the metric's values is the trial's objective (`strategy: last|min|max`, PRODUCT.md
 * §2): "last" unless the file says; NULL when the file names no objective. */
CAIRN_API const char *cairn_space_objective_strategy(const cairn_space *space);
/* Whether parameter i is active given the other values of params (n_params internal values). */
CAIRN_API bool cairn_space_is_active(const cairn_space *space, size_t i, const double *params);
/* Whether params is a point of the space: every active parameter in its range, on its step,
 * an integer where it must be, and every inactive one NaN. */
CAIRN_API bool cairn_space_contains(const cairn_space *space, const double *params);
/* Writes the external text of parameter i's internal value v ("0.01", "adam", "64") to out
 * (size bytes, 32 is enough for numbers; a longer category is truncated). "" for NaN. */
CAIRN_API void cairn_space_format_value(const cairn_space *space, size_t i, double v, char *out,
                                        size_t size);
/* The reverse: the internal value of text for parameter i (EINVAL when not a value of it). */
CAIRN_API cairn_status cairn_space_parse_value(cairn_ctx *ctx, const cairn_space *space, size_t i,
                                               const char *text, double *out);

/* ---- trial histories, what samplers and pruners read ---- */

typedef enum cairn_trial_state {
    CAIRN_TRIAL_RUNNING = 0,
    CAIRN_TRIAL_COMPLETE,
    CAIRN_TRIAL_PRUNED,
    CAIRN_TRIAL_FAIL,
    CAIRN_TRIAL_WAITING
} cairn_trial_state;

/* One trial as the caller holds it; everything is borrowed for the call. */
typedef struct cairn_trial_record {
    int64_t number; /* 0, 1, 2, ... within the study */
    cairn_trial_state state;
    double value;         /* COMPLETE: the objective */
    const double *params; /* n_params internal values (NaN: not set); NULL: none yet */
    size_t n_steps;       /* intermediate values, steps ascending and distinct */
    const int64_t *steps;
    const double *values;
} cairn_trial_record;

typedef struct cairn_history {
    const cairn_trial_record *trials; /* in any order */
    size_t n_trials;
    bool maximize;          /* the objective's direction */
    const char *study_name; /* Hyperband assigns brackets by it; NULL is "" */
} cairn_history;

/* ---- samplers ---- */

typedef struct cairn_sampler cairn_sampler;

/* Creates a sampler for space from a spec, "name[:key=value[,key=value...]]":
 *   random
 *   grid[:points=N]            (N values of each continuous float, default 10)
 *   sobol[:scramble=true|false] (scrambled by default: linear matrix scramble + digital shift)
 *   tpe[:multivariate=B,group=B,constant_liar=B,n_startup_trials=N,n_ei_candidates=N,
 *       prior_weight=X,magic_clip=B,endpoints=B,bandwidth=scott|neighbor]
 *   cmaes[:popsize=N,sigma0=X,restart=ipop|none]  (numeric, unconditional parameters; the
 *       others at random)
 * docs/hpo.md gives the defaults. The sampler borrows space (it must outlive the sampler). An
 * unknown name or key is EINVAL naming the allowed ones. */
CAIRN_API cairn_status cairn_sampler_new(cairn_ctx *ctx, const cairn_space *space, const char *spec,
                                         uint64_t seed, cairn_sampler **out);
CAIRN_API void cairn_sampler_free(cairn_sampler *s); /* NULL is a no-op */
CAIRN_API const char *cairn_sampler_name(const cairn_sampler *s);
/* Writes the parameters of trial `number` to params[0 .. n_params), internal values (NaN for
 * inactive ones). Deterministic in (seed, number, history): the same inputs give the same
 * point in any process. A record with the same number in history is ignored. A grid whose
 * every point is taken by a trial of history is ELIMIT ("grid exhausted"). */
CAIRN_API cairn_status cairn_sampler_ask(cairn_sampler *s, const cairn_history *history,
                                         int64_t number, double *params);
/* Grid samplers only (EINVAL for the others): the number of grid points, point i, and the
 * index of a point (ENOTFOUND when params is not on the grid), so that a store can claim
 * points atomically. */
CAIRN_API cairn_status cairn_sampler_grid_size(const cairn_sampler *s, uint64_t *n);
CAIRN_API cairn_status cairn_sampler_grid_point(const cairn_sampler *s, uint64_t i, double *params);
CAIRN_API cairn_status cairn_sampler_grid_index(const cairn_sampler *s, const double *params,
                                                uint64_t *i);

/* ---- pruners ---- */

typedef struct cairn_pruner cairn_pruner;

/* Creates a pruner from a spec, "name[:key=value,...]", Optuna 3.1's pruners and defaults:
 *   none
 *   median[:n_startup_trials=5,n_warmup_steps=0,interval_steps=1,n_min_trials=1]
 *   percentile:percentile=P[,same keys as median]
 *   successive_halving[:min_resource=auto|N,reduction_factor=4,min_early_stopping_rate=0,
 *                      bootstrap_count=0]   (also "asha")
 *   hyperband[:min_resource=1,max_resource=auto|N,reduction_factor=3,bootstrap_count=0]
 *   threshold[:lower=X,upper=X,n_warmup_steps=0,interval_steps=1]
 *   patient:patience=N[,min_delta=X][/WRAPPED]  (WRAPPED: another spec; none: early stopping)
 * A pruner may learn a value once ("auto" resources) and keeps it, as Optuna's do. */
CAIRN_API cairn_status cairn_pruner_new(cairn_ctx *ctx, const char *spec, cairn_pruner **out);
CAIRN_API void cairn_pruner_free(cairn_pruner *p); /* NULL is a no-op */
CAIRN_API const char *cairn_pruner_name(const cairn_pruner *p);
/* Whether trial (RUNNING, with the intermediate values it reported so far) should stop now.
 * history holds the study's trials (trial itself may be among them; its record there is
 * ignored). Call it after every report: successive halving reads each trial's rung values
 * from its intermediate values at the first step at or after each rung. */
CAIRN_API cairn_status cairn_pruner_should_prune(cairn_pruner *p, const cairn_history *history,
                                                 const cairn_trial_record *trial, bool *prune);
/* Hyperband only: the bracket of trial `number` (the sampler of a Hyperband study should see
 * only the trials of the same bracket, as Optuna's does); -1 for other pruners or before the
 * pruner knows its brackets. */
CAIRN_API int cairn_pruner_bracket(const cairn_pruner *p, const char *study_name, int64_t number);

#ifdef __cplusplus
}
#endif
#endif
