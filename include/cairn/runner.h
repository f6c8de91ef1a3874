/* SPDX-License-Identifier: MIT */
/* runner.h - runs any command as a tracked run: macros and environment for the child, its
 * output passed through and scanned for metric lines, $CAIRN_METRICS_FILE tailed, signals
 * forwarded, the exit status mapped to the run's status; and code/environment capture. */
#ifndef CAIRN_RUNNER_H
#define CAIRN_RUNNER_H

#include "cairn.h"
#include "tracking.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- running a command ---- */

typedef struct cairn_run_result cairn_run_result;

/* Called once the run exists, before the command starts (e.g. to print its id). */
typedef void (*cairn_runner_start_fn)(void *user, const cairn_run_result *res);

typedef struct cairn_runner_opts {
    const char *config;        /* experiment-config.yaml; NULL: none */
    const char *experiment;    /* overrides the config's; NULL and none there: "Default" */
    const char *name;          /* run name; overrides the config's */
    const char *const *params; /* "key=value" overrides of the config's params */
    size_t n_params;
    const char *const *inputs; /* more input files, after the config's */
    size_t n_inputs;
    const cairn_tag *tags; /* more tags, after the config's */
    size_t n_tags;
    const char *const *env_names; /* more environment variables to record */
    size_t n_env_names;
    bool has_seed; /* else the config's seed, else a random one (always recorded) */
    int64_t seed;
    const char *metrics_format; /* NULL: "cairn"; also "json", "katib", "guild", "regex:RE" */
    int kill_grace_ms;          /* after SIGTERM, wait this long before SIGKILL; 0: 30000 */
    bool append_args;           /* append ${args} when the command holds no macro (cairn tune) */
    bool forward_signals;       /* catch SIGINT/SIGTERM while the child runs and stop it (CLI) */
    bool skip_git;              /* no git capture */
    int out_fd;                 /* the child's stdout passes through to this; 0: 1 */
    int err_fd;                 /* the child's stderr passes through to this; 0: 2 */
    cairn_runner_start_fn on_start;
    void *user;
    /* Metric points reach the store at most this long after the command printed them (and at
     * once every 1000 points), so a killed cairn loses at most this much; 0: 1000. A failed
     * write is retried with exponential backoff (up to 5 s apart) while output keeps flowing. */
    int flush_interval_ms;
    /* For a tuner (cairn tune), all optional: */
    const char *run_id; /* run the command as this existing run (a study's trial) instead of
                           starting one; its params and tags stay */
    /* Called for every metric value the command reports, as it arrives; is_final for
     * cairn.final values (a final without a step arrives once the command has ended). */
    void (*on_metric)(void *user, const char *key, double value, int64_t step, bool is_final);
    /* Polled about every 100 ms while the command runs: a non-NULL reason ("pruned",
     * "cancelled", static text) stops it with the stop sequence, and is the result's
     * stop_reason and the run's tag cairn.stop_reason. */
    const char *(*should_stop)(void *user);
    int64_t timeout_ms;     /* > 0: stopped after this long, reason "timeout" */
    const char *const *env; /* more "NAME=value" variables for the command (CAIRN_TRIAL=3) */
    size_t n_env;
    const char *const *macros; /* more "NAME=value" macros for the command (trial=3) */
    size_t n_macros;
    /* Resources, all optional. memory_limit_bytes > 0: the command's process group is stopped
     * once its resident memory passes this (reason "memory-limit"; polled every 20 ms, with
     * RLIMIT_AS at 4 times the limit as a backstop). cpus: the CPU numbers the command may run
     * on (sched_setaffinity), its thread-count variables (OMP_NUM_THREADS, OPENBLAS_NUM_THREADS,
     * MKL_NUM_THREADS) set to how many. cuda_devices: CUDA_VISIBLE_DEVICES for the command. */
    int64_t memory_limit_bytes;
    const int *cpus;
    size_t n_cpus;
    const char *cuda_devices;
} cairn_runner_opts;
#define CAIRN_RUNNER_OPTS_INIT                                                                     \
    {                                                                                              \
        0                                                                                          \
    }

/* What happened. Borrowed strings live as long as the result. */
struct cairn_run_result {
    const char *run_id;
    const char *experiment_id;
    const char *experiment; /* its name */
    const char *run_name;   /* NULL when the store chose none */
    const char *artifact_dir;
    cairn_run_status status; /* FINISHED, FAILED or KILLED (RUNNING inside on_start) */
    int exit_code;           /* the child's exit code, 128+signal, or 127 if it never ran */
    int term_signal;         /* the signal that ended the child, else 0 */
    const char *error;       /* why the command could not run (not found, ...), else NULL */
    size_t n_metrics;        /* the last value of each metric key, in first-seen order */
    const char *const *metric_keys;
    const double *metric_values;
    const int64_t *metric_steps;
    size_t n_metric_errors; /* metric lines that could not be parsed or applied */
    const char *first_metric_error;
    void *internal_;
    const char *stop_reason; /* why cairn stopped the command (should_stop, timeout), else NULL */
};

/* Runs argv[0 .. argc) (exec'd directly, no shell; argc 0 takes the config's command) as a
 * tracked run in ctx's store. Macros in argv: ${args} ${args_no_equals} ${args_hydra}
 * ${args_p} ${args_json} ${params_file} ${run_id} ${run_dir} ${seed}, ${NAME} for a param and
 * opts->macros. append_args appends ${args}, or ${args_p} when the command is `cairn train`. The
 * child gets CAIRN_RUN_ID, CAIRN_RUN_DIR, CAIRN_METRICS_FILE, CAIRN_STOP_FILE, CAIRN_PARAMS_FILE,
 * CAIRN_PARAM_<NAME>, CAIRN_SEED and CAIRN_STORE. Returns CAIRN_OK once the run is recorded
 * (whatever the command did: see res->status and res->exit_code); an error before the run
 * starts (bad config, missing input, unknown macro, no command) returns its status and sets
 * *out to NULL. Free *out with cairn_run_result_free(). */
CAIRN_API cairn_status cairn_run_command(cairn_ctx *ctx, const cairn_runner_opts *opts, int argc,
                                         const char *const *argv, cairn_run_result **out);
CAIRN_API void cairn_run_result_free(cairn_run_result *res); /* NULL is a no-op */

#ifdef __cplusplus
}
#endif
#endif
