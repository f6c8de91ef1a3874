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
#include "cairn/tracking.h"

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

typedef enum cairn_space_param_type {
    CAIRN_SPACE_PARAM_FLOAT = 1,
    CAIRN_SPACE_PARAM_INT,
    CAIRN_SPACE_PARAM_CATEGORICAL,
    CAIRN_SPACE_PARAM_CONST /* one value, never sampled */
} cairn_space_param_type;

/* How a parameter reads; strings are borrowed from the space. */
typedef struct cairn_param_info {
    const char *name;
    cairn_space_param_type type;
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
    CAIRN_TRIAL_WAITING,
    CAIRN_TRIAL_STALE /* a study's trial whose worker stopped heartbeating (retried as a copy);
                         samplers and pruners treat it as FAIL */
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
 *   auto[:trials=N]            (chooses by the space and the budget N, default 100: grid for a
 *       small all-discrete space; for 2+ unconditional numeric parameters CMA-ES warm-started
 *       by 20 TPE trials when N >= 50, plain CMA-ES when 30 <= N < 50; else TPE multivariate
 *       with groups and the constant liar; the sampler made is the chosen one,
 *       cairn_sampler_name() says which; docs/hpo.md gives the measurements)
 *   random
 *   grid[:points=N]            (N values of each continuous float, default 10)
 *   sobol[:scramble=true|false] (scrambled by default: linear matrix scramble + digital shift)
 *   tpe[:multivariate=B,group=B,constant_liar=B,n_startup_trials=N,n_ei_candidates=N,
 *       prior_weight=X,magic_clip=B,endpoints=B,bandwidth=scott|neighbor,
 *       density=optuna|normalized]
 *   cmaes[:popsize=N,sigma0=X,restart=ipop|none,warm_start=K,warm_sampler=tpe|tpe_mv]
 *       (numeric, unconditional parameters; the others at random; warm_start: the first K
 *       COMPLETE trials are TPE's and CMA-ES starts from their best points)
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

/* ---- studies: the optimizer over the store (docs/hpo.md "Studies") ---- */

/* A study lives in ctx's store (SQLite or PostgreSQL; not over REST): its search space as
 * written, objective (name, direction, strategy), sampler and pruner specs and seed. Trials
 * are numbered 0, 1, 2, ... and each is also a run of the study's experiment (its params,
 * the metrics it logs, tags cairn.study and cairn.trial, its status), so `cairn runs` works on
 * them. Any number of processes may open the same study and ask at once: a trial number (and
 * a grid point) is claimed atomically, never twice. A running trial beats; one whose worker
 * vanished (no beat for CAIRN_HEARTBEAT_MISSED_MAX intervals) becomes STALE at the next ask
 * and a WAITING copy of it (same params) is asked first. A handle is used by one thread. */
typedef struct cairn_study cairn_study;

typedef enum cairn_direction {
    CAIRN_DIRECTION_DEFAULT = 0, /* the space's goal, else minimize; on resume: the stored one */
    CAIRN_DIRECTION_MINIMIZE,
    CAIRN_DIRECTION_MAXIMIZE
} cairn_direction;

typedef struct cairn_study_opts {
    /* The search space as written (YAML or JSON, docs/hpo.md). Required to create a study; on
     * resume a different text is refused (NULL: the stored one). */
    const char *space_text;
    size_t space_len; /* 0: strlen(space_text) */
    cairn_space_format space_format;
    const char *space_label;   /* names the space in messages (its file); NULL: "space" */
    const char *objective;     /* metric name; NULL: the space's, else "value"; on resume a
                                  different one is refused */
    cairn_direction direction; /* on resume a different one is refused */
    const char *sampler;       /* spec (cairn_sampler_new); NULL: the stored one, "auto" when new */
    const char *pruner;        /* spec (cairn_pruner_new); NULL: the stored one, "none" when new */
    bool has_seed;             /* else the stored seed, random when new */
    uint64_t seed;
    const char *experiment;        /* the trials' experiment when new; NULL: the study's name */
    bool must_exist;               /* ENOTFOUND instead of creating */
    int64_t heartbeat_interval_ms; /* new studies; 0: $CAIRN_HEARTBEAT_S, else 10 s */
    int max_retries;               /* copies of a stale trial asked again; 0: 2; < 0: none */
} cairn_study_opts;
#define CAIRN_STUDY_OPTS_INIT                                                                      \
    {                                                                                              \
        0                                                                                          \
    }

/* Creates study `name` (1-250 characters) or loads it. On resume, a different space text,
 * objective or direction is EINVAL naming what differs; a different sampler, pruner or seed
 * applies to this handle only. *out is freed with cairn_study_free(). */
CAIRN_API cairn_status cairn_study_open(cairn_ctx *ctx, const char *name,
                                        const cairn_study_opts *opts, cairn_study **out);
CAIRN_API void cairn_study_free(cairn_study *study); /* NULL is a no-op */
CAIRN_API const char *cairn_study_name(const cairn_study *study);
CAIRN_API bool cairn_study_was_created(const cairn_study *study); /* by this open */
CAIRN_API const cairn_space *cairn_study_space(const cairn_study *study);
/* The objective's metric name; *maximize its direction; *strategy (may be NULL) last|min|max. */
CAIRN_API const char *cairn_study_objective(const cairn_study *study, bool *maximize,
                                            const char **strategy);
CAIRN_API const char *cairn_study_experiment_id(const cairn_study *study);
CAIRN_API const char *cairn_study_sampler_spec(const cairn_study *study);
CAIRN_API const char *cairn_study_pruner_spec(const cairn_study *study);
CAIRN_API uint64_t cairn_study_seed(const cairn_study *study);

/* A trial as the study holds it. Pointers are owned by the study and stay valid until it is
 * freed (params: n_params internal values in the space's order, NaN when inactive). */
typedef struct cairn_trial {
    int64_t number;
    cairn_trial_state state;
    double value; /* COMPLETE: the objective; else NaN */
    const double *params;
    size_t n_params;
    const char *run_id; /* "" for a WAITING trial */
    int64_t retry_of;   /* the STALE trial this one retries, else -1 */
    int64_t start_ms, end_ms;
    size_t n_steps; /* intermediate values, steps ascending */
    const int64_t *steps;
    const double *values;
} cairn_trial;

/* Claims the next trial and starts it (RUNNING, with its run): the lowest WAITING trial
 * (enqueued, or a stale trial's retry) first, else a new number whose params the sampler
 * draws from the study's history. A grid whose points are all held is ELIMIT. */
CAIRN_API cairn_status cairn_study_ask(cairn_study *study, cairn_trial *out);
/* Ends a RUNNING trial: COMPLETE with its objective value, PRUNED or FAIL (value ignored);
 * its run becomes FINISHED, KILLED or FAILED, and a COMPLETE value is logged to it as the
 * objective metric. A COMPLETE value that is NaN is stored as FAIL. EINVAL for another state
 * or a trial that is not RUNNING (already told, or STALE). */
CAIRN_API cairn_status cairn_study_tell(cairn_study *study, int64_t number, cairn_trial_state state,
                                        double value);
/* Stores an intermediate objective value at step (also a metric point of the trial's run)
 * and beats. */
CAIRN_API cairn_status cairn_study_report(cairn_study *study, int64_t number, int64_t step,
                                          double value);
/* Asks the study's pruner about a RUNNING trial, with the stored history. */
CAIRN_API cairn_status cairn_study_should_prune(cairn_study *study, int64_t number, bool *prune);
/* Says that the worker of a RUNNING trial is alive (cheap: call it every few seconds). */
CAIRN_API cairn_status cairn_study_heartbeat(cairn_study *study, int64_t number);
/* Queues a trial with fixed params ("name", "value as written"), asked before any new one;
 * parameters not given are drawn at random (seeded). *number_out (may be NULL) is its
 * number. EINVAL names an unknown parameter or a value outside the space. */
CAIRN_API cairn_status cairn_study_enqueue(cairn_study *study, const cairn_param *params,
                                           size_t n_params, int64_t *number_out);
/* The COMPLETE trial with the best value (the lowest number among equals); ENOTFOUND when
 * none has completed. */
CAIRN_API cairn_status cairn_study_best(cairn_study *study, cairn_trial *out);
/* Every trial, by number, read again from the store; *trials stays valid until the next call
 * on the study. */
CAIRN_API cairn_status cairn_study_trials(cairn_study *study, const cairn_trial **trials,
                                          size_t *n);
/* "RUNNING", "COMPLETE", "PRUNED", "FAIL", "WAITING", "STALE". */
CAIRN_API const char *cairn_trial_state_str(cairn_trial_state state);

/* The studies of a store, with their trial counts. */
typedef struct cairn_study_info {
    const char *name;
    const char *experiment_id;
    const char *objective;
    bool maximize;
    const char *strategy;
    const char *sampler, *pruner;
    const char *space; /* as written */
    uint64_t seed;
    int64_t creation_ms;
    int64_t n_trials, n_complete, n_pruned, n_failed, n_running; /* n_failed counts STALE too */
    bool has_best;
    double best_value;
} cairn_study_info;
typedef struct cairn_study_list {
    size_t n;
    cairn_study_info *items; /* by name */
    void *internal_;
} cairn_study_list;
CAIRN_API cairn_status cairn_studies_list(cairn_ctx *ctx, cairn_study_list **out);
CAIRN_API void cairn_study_list_free(cairn_study_list *list); /* NULL is a no-op */
/* Deletes a study with its trials; their runs stay (ENOTFOUND when there is none). */
CAIRN_API cairn_status cairn_study_delete(cairn_ctx *ctx, const char *name);

/* ---- tuning a command (cairn tune) ---- */

/* Where a tune stands; called on every finished trial and about once a second. */
typedef struct cairn_tune_status {
    int64_t n_done; /* trials this call finished */
    int64_t n_complete, n_pruned, n_failed, n_running;
    bool has_best; /* over the whole study */
    double best_value;
    int64_t best_number;
    const cairn_trial *finished; /* the trial that just ended, else NULL (a tick) */
    const char *reason;          /* why it did not complete ("pruned", "timeout", ...), or NULL */
    double elapsed_s;
} cairn_tune_status;
typedef void (*cairn_tune_progress_fn)(void *user, const cairn_tune_status *st);

typedef struct cairn_tune_opts {
    int64_t n_trials;         /* the study's target of finished trials (a resumed study runs
                                 only what is missing); 0: 20 unless timeout_ms is set */
    int64_t timeout_ms;       /* no new trial after this long; 0: none */
    int64_t trial_timeout_ms; /* a trial running longer is stopped and FAIL; 0: none */
    int n_jobs;               /* trials at once, each in a thread of its own; 0: 1 */
    const char *metrics_format;
    int kill_grace_ms;   /* the stop sequence's wait before SIGKILL; 0: 10000 */
    int out_fd, err_fd;  /* the trials' output passes through to these; 0: 1 and 2 */
    bool handle_signals; /* tiered: a first SIGINT starts no new trial and lets the running
                            ones finish; a second (or SIGTERM) stops them (FAIL, "cancelled");
                            a third ends the process at once (its trials go STALE) */
    cairn_tune_progress_fn progress; /* called from one thread at a time */
    void *user;
    /* Resources per trial (docs/hpo.md "Resources"), all optional. cpus_per_trial: each
     * running trial gets that many CPUs of its own (affinity, OMP/OpenBLAS/MKL thread counts);
     * n_jobs is lowered to what the CPUs allow. memory_per_trial_bytes: a trial whose
     * processes hold more resident memory is stopped and FAILs "memory-limit". gpus: device
     * numbers ("0,1"); each running trial gets gpus_per_trial (0: 1) of them, none shared, as
     * CUDA_VISIBLE_DEVICES; n_jobs is lowered to what the devices allow. */
    int cpus_per_trial;
    int64_t memory_per_trial_bytes;
    const char *gpus;
    int gpus_per_trial;
    /* A trial that FAILs (non-zero exit, a signal, no objective, its timeout; not a cancelled
     * one) is asked again with the same params, as a WAITING copy queued in the same
     * transaction (its retry_of; its run's tag cairn.retry_of), while its line has had fewer
     * than this many retries (stale retries count too); 0: none. */
    int max_retries;
    bool no_target; /* n_trials 0 means no target: run until timeout_ms, a grid's end or a
                       signal (cairn worker without --trials) */
} cairn_tune_opts;
#define CAIRN_TUNE_OPTS_INIT                                                                       \
    {                                                                                              \
        0                                                                                          \
    }

/* Runs trials of study over argv until the study (all its processes together) has n_trials
 * finished trials: the target is checked in each ask's transaction under the study's lock, so
 * any number of processes on one study finish exactly n_trials (COMPLETE, PRUNED or FAIL; a
 * retried FAIL counts once, as its retry). A process whose target is reached while other
 * trials still run waits for them (one may fail and be retried, or go stale). Argv is
 * exec'd directly (${args} appended when it holds no macro;
 * the macros and environment of cairn_run_command plus CAIRN_STUDY and CAIRN_TRIAL). Each
 * trial is the study's next ask, run as its run; the objective is the study's metric from a
 * `cairn.final:` line, else its last, min or max intermediate value (the strategy); every
 * intermediate value goes to the pruner, and a pruned trial is stopped (stop file, SIGTERM
 * to its process group, SIGKILL after the grace). A trial that exits non-zero, is stopped
 * by its timeout or reports no objective is FAIL with the reason tagged on its run. Returns
 * an error when the command cannot run at all or a signal interrupted the tune (nothing is
 * left RUNNING after the first two tiers), else CAIRN_OK. */
CAIRN_API cairn_status cairn_study_tune_command(cairn_study *study, const cairn_tune_opts *opts,
                                                int argc, const char *const *argv);

/* ---- insight: what a study's trials say (docs/hpo.md "Insight") ---- */

/* Parameter importance, first-order variance decomposition (fANOVA's main effects) estimated
 * without a surrogate: the objective's ranks over the COMPLETE trials are split by each
 * parameter (quantile bins of equal count for numbers, one bin per category, one bin for
 * "inactive") and the share of their variance between the bins, bias-corrected (omega
 * squared, so a parameter that does not matter scores about 0), is its importance. Ranks make
 * it indifferent to the objective's scale; there is no randomness. Interactions are not
 * counted. importance: n_params values in [0, 1]; a CONST parameter is 0. Fewer than 4
 * COMPLETE trials is EINVAL. */
CAIRN_API cairn_status cairn_insight_importance(cairn_ctx *ctx, const cairn_space *space,
                                                const cairn_trial *trials, size_t n_trials,
                                                double *importance);

typedef enum cairn_insight_plot {
    CAIRN_INSIGHT_HISTORY = 0, /* history.svg: each COMPLETE trial's value by number, best so far */
    CAIRN_INSIGHT_IMPORTANCE,  /* importance.svg: one bar per parameter, most important on top */
    CAIRN_INSIGHT_INTERMEDIATE, /* intermediate.svg: one line per trial that reported values */
    CAIRN_INSIGHT_SLICE,        /* slice.svg: the value against each parameter, one panel each */
    /* contour.svg: the objective over each pair of the (up to 4) most important numeric
     * parameters, interpolated between the trials (inverse-distance weighting) as a coloured
     * surface in <g class="surface"> with isolines in <g class="curves">, the trials as circles */
    CAIRN_INSIGHT_CONTOUR,
    CAIRN_INSIGHT_N_PLOTS
} cairn_insight_plot;
/* The file name of a plot ("history.svg", ...). */
CAIRN_API const char *cairn_insight_plot_file(cairn_insight_plot which);

/* Draws one plot of trials (any order; by number on the axes) as a standalone SVG document.
 * Data points are circles inside <g class="trials">, curves polylines inside <g class="curves">,
 * bars rects inside <g class="bars">. EINVAL when there is nothing to draw (no COMPLETE trial;
 * no intermediate values; importance with fewer than 4 COMPLETE trials). *svg_out: free(). */
CAIRN_API cairn_status cairn_insight_svg(cairn_ctx *ctx, const cairn_space *space,
                                         const cairn_trial *trials, size_t n_trials, bool maximize,
                                         cairn_insight_plot which, char **svg_out);
/* The same data as JSON: {"direction", "history": [{number, state, value, best}], "importance":
 * {name: x} or null, "intermediate": [{number, steps, values}], "slice": {name: [{number,
 * value, param}]}}. *json_out: free(). */
CAIRN_API cairn_status cairn_insight_json(cairn_ctx *ctx, const cairn_space *space,
                                          const cairn_trial *trials, size_t n_trials, bool maximize,
                                          char **json_out);
/* Writes the plots of a study into dir (created), as cairn_insight_plot_file() names them:
 * every plot in mask (bit 1 << which) that has something to draw; *written (may be NULL) gets
 * the bits of the files written. */
CAIRN_API cairn_status cairn_study_write_plots(cairn_study *study, const char *dir, unsigned mask,
                                               unsigned *written);

/* ---- Optuna interop: JournalStorage files (docs/hpo.md "Optuna interop") ---- */

/* The study as an Optuna 3.1 JournalStorage file (JournalFileStorage's format): the study with
 * its direction, user attributes cairn.space, cairn.space_format and cairn.objective (so that
 * an import gives the same space back), and one CREATE_TRIAL record per trial with its state
 * (STALE is FAIL), value, datetimes, params mapped to Float-, Int- and CategoricalDistribution
 * (a constant is a one-choice categorical) in Optuna's internal representation, inactive
 * params left out, intermediate values and the user attribute cairn.run_id. *text_out is
 * freed with free(); *len_out (may be NULL) is its length. */
CAIRN_API cairn_status cairn_study_journal_text(cairn_study *study, char **text_out,
                                                size_t *len_out);
/* The same written to path (replaced atomically). */
CAIRN_API cairn_status cairn_study_export_journal(cairn_study *study, const char *path);

typedef struct cairn_journal_import_opts {
    const char *study;      /* the journal's study to import; NULL: the only one (a journal
                               holding several is EINVAL naming them) */
    const char *name;       /* the new cairn study's name; NULL: the journal study's */
    const char *experiment; /* the trials' experiment; NULL: the study's name */
} cairn_journal_import_opts;
#define CAIRN_JOURNAL_IMPORT_OPTS_INIT                                                             \
    {                                                                                              \
        0                                                                                          \
    }

/* Reads an Optuna JournalStorage file (Optuna's own or cairn's), replaying its operations in
 * order, into a new study of ctx's store: the space is the one cairn exported, else built from
 * the distributions seen (one parameter per name, ranges joined; conflicting kinds, log scales,
 * steps or choices are EINVAL naming the parameter); each trial becomes a trial with its state,
 * value, datetimes and intermediate values, and a run of the study's experiment. The reader is
 * strict (errors name the file and the line; a truncated last record is an error) and bounded
 * (256 MiB a file, 1 MiB a line, 1,000,000 trials). A multi-objective study, an unknown
 * op code or a study that exists already in the store are refused; on any error nothing stays
 * imported. *out (may be NULL for "do not keep it") is the new study. */
CAIRN_API cairn_status cairn_study_import_journal(cairn_ctx *ctx, const char *path,
                                                  const cairn_journal_import_opts *opts,
                                                  cairn_study **out);

#ifdef __cplusplus
}
#endif
#endif
