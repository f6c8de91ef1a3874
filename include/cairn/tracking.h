/* SPDX-License-Identifier: MIT */
/* tracking.h - experiments, runs, params, metrics, tags, artifacts, dataset inputs and search.
 * Entities and rules follow MLflow's tracking API so the REST server maps one to one. */
#ifndef CAIRN_TRACKING_H
#define CAIRN_TRACKING_H

#include "cairn.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Limits, as MLflow enforces them (mlflow/utils/validation.py). */
/* CAIRN_KEY_MAX (250: metric, param and tag keys) is in cairn.h, beside the key rule. */
#define CAIRN_PARAM_VALUE_MAX 6000    /* longer param values are truncated */
#define CAIRN_TAG_VALUE_MAX 8000      /* longer run tag values are truncated */
#define CAIRN_EXPERIMENT_TAG_MAX 5000 /* experiment tag values over this are refused */
#define CAIRN_EXPERIMENT_NAME_MAX 500
#define CAIRN_BATCH_METRICS_MAX 1000
#define CAIRN_BATCH_PARAMS_MAX 100
#define CAIRN_BATCH_TAGS_MAX 100
#define CAIRN_SEARCH_MAX_RESULTS 50000

typedef enum cairn_run_status {
    CAIRN_RUN_RUNNING = 1,
    CAIRN_RUN_SCHEDULED,
    CAIRN_RUN_FINISHED,
    CAIRN_RUN_FAILED,
    CAIRN_RUN_KILLED
} cairn_run_status;

/* "RUNNING", "FINISHED", ...; NULL for an unknown value. */
CAIRN_API const char *cairn_run_status_str(cairn_run_status st);
/* Parses "FINISHED" etc.; EINVAL naming the value otherwise. */
CAIRN_API cairn_status cairn_run_status_parse(cairn_ctx *ctx, const char *text,
                                              cairn_run_status *out);

/* Which lifecycle stages a listing or search covers. */
typedef enum cairn_view {
    CAIRN_VIEW_ACTIVE_ONLY = 0,
    CAIRN_VIEW_DELETED_ONLY,
    CAIRN_VIEW_ALL
} cairn_view;

/* Key/value pairs and metric points. As inputs they are borrowed for the call; inside the
 * result objects below they point into memory the result owns. */
typedef struct cairn_param {
    const char *key;
    const char *value;
} cairn_param;
typedef cairn_param cairn_tag;

typedef struct cairn_metric {
    const char *key;
    double value;         /* NaN and +-Inf are kept exactly */
    int64_t timestamp_ms; /* 0 in an input means now */
    int64_t step;
} cairn_metric;

typedef struct cairn_dataset_input {
    const char *name;
    const char *digest;      /* e.g. the SHA-256 of the whole file, hex */
    const char *source_type; /* "local", "http", ... */
    const char *source;      /* JSON text or a path */
    const char *schema;      /* JSON text, may be NULL */
    const char *profile;     /* JSON text, may be NULL */
    const char *context;     /* "training", "validation", "test", ... may be NULL */
} cairn_dataset_input;

/* ---- experiments ---- */

typedef struct cairn_experiment {
    const char *experiment_id;
    const char *name;
    const char *artifact_location;
    bool is_deleted; /* lifecycle_stage "deleted" */
    int64_t creation_time_ms;
    int64_t last_update_time_ms;
    size_t n_tags;
    cairn_tag *tags;
    void *internal_; /* owned memory; do not touch */
} cairn_experiment;

typedef struct cairn_experiment_page {
    size_t n;
    cairn_experiment *items;
    const char *next_page_token; /* NULL on the last page */
    void *internal_;
} cairn_experiment_page;

/* Creates an experiment; EEXIST if the name is taken (deleted ones included, as in MLflow).
 * artifact_location NULL means "<artifact root>/<id>". *id_out is freed with cairn_free(). */
CAIRN_API cairn_status cairn_experiment_create(cairn_ctx *ctx, const char *name,
                                               const char *artifact_location, const cairn_tag *tags,
                                               size_t n_tags, char **id_out);
/* Returns the id of experiment `name`, creating it when missing (the "Default" one is "0"). */
CAIRN_API cairn_status cairn_experiment_ensure(cairn_ctx *ctx, const char *name, char **id_out);
CAIRN_API cairn_status cairn_experiment_get(cairn_ctx *ctx, const char *experiment_id,
                                            cairn_experiment **out);
CAIRN_API cairn_status cairn_experiment_get_by_name(cairn_ctx *ctx, const char *name,
                                                    cairn_experiment **out);
CAIRN_API cairn_status cairn_experiment_rename(cairn_ctx *ctx, const char *experiment_id,
                                               const char *new_name);
CAIRN_API cairn_status cairn_experiment_set_tag(cairn_ctx *ctx, const char *experiment_id,
                                                const char *key, const char *value);
CAIRN_API cairn_status cairn_experiment_delete_tag(cairn_ctx *ctx, const char *experiment_id,
                                                   const char *key);
/* Soft delete: the experiment and its runs become "deleted"; restore brings both back. */
CAIRN_API cairn_status cairn_experiment_delete(cairn_ctx *ctx, const char *experiment_id);
CAIRN_API cairn_status cairn_experiment_restore(cairn_ctx *ctx, const char *experiment_id);
CAIRN_API void cairn_experiment_free(cairn_experiment *exp);

typedef struct cairn_experiment_search {
    const char *filter;          /* MLflow grammar plus OR and parentheses; NULL: all */
    const char *const *order_by; /* "name ASC", "creation_time DESC", ... */
    size_t n_order_by;
    int64_t max_results; /* 0: 1000 */
    const char *page_token;
    cairn_view view;
} cairn_experiment_search;
#define CAIRN_EXPERIMENT_SEARCH_INIT                                                               \
    {                                                                                              \
        0                                                                                          \
    }

CAIRN_API cairn_status cairn_experiments_search(cairn_ctx *ctx, const cairn_experiment_search *q,
                                                cairn_experiment_page **out);
CAIRN_API void cairn_experiment_page_free(cairn_experiment_page *page);

/* ---- runs: reading ---- */

typedef struct cairn_run_info {
    const char *run_id;
    const char *experiment_id;
    const char *run_name;
    const char *user_id;
    const char *artifact_uri; /* the run's artifact folder, absolute */
    cairn_run_status status;
    int64_t start_time_ms;
    int64_t end_time_ms; /* 0 while running */
    bool is_deleted;
    /* Why the run ended when cairn decided it, else NULL: "lost" when the process holding it
     * stopped heartbeating (see CAIRN_HEARTBEAT_MISSED_MAX); also tag cairn.status_reason. */
    const char *status_reason;
} cairn_run_info;

/* A logged model a run produced (cairn/logged_model.h, MLflow's ModelOutput). */
typedef struct cairn_run_output {
    const char *model_id;
    int64_t step;
} cairn_run_output;

/* A run as stored: info, latest metric values, params, tags, dataset inputs and the logged
 * models it output. */
typedef struct cairn_run_record {
    cairn_run_info info;
    size_t n_metrics;
    cairn_metric *metrics; /* the latest point of each key, by (step, timestamp, value) */
    size_t n_params;
    cairn_param *params;
    size_t n_tags;
    cairn_tag *tags;
    size_t n_inputs;
    cairn_dataset_input *inputs;
    void *internal_;
    size_t n_outputs;          /* filled by cairn_run_get(); 0 in search results */
    cairn_run_output *outputs; /* by model id */
} cairn_run_record;

typedef struct cairn_run_page {
    size_t n;
    cairn_run_record *items;
    const char *next_page_token; /* NULL on the last page */
    void *internal_;
} cairn_run_page;

CAIRN_API cairn_status cairn_run_get(cairn_ctx *ctx, const char *run_id, cairn_run_record **out);
/* A run id prefix needs at least this many characters (tables show 8). */
#define CAIRN_RUN_PREFIX_MIN 6
/* The one resolver of run references: the full id of the run whose id is id_or_prefix, or
 * starts with it (at least CAIRN_RUN_PREFIX_MIN characters of [0-9A-Za-z-]), deleted runs too,
 * on every store. *out is new (cairn_free). ENOTFOUND when no run matches ("run 'x' not
 * found", also for a prefix shorter than that); EINVAL when the prefix matches several runs (the
 * message names up to 10 of them: "run id prefix '7451aa' is ambiguous; it matches 7451aa3c...,
 * ..."). */
CAIRN_API cairn_status cairn_run_resolve(cairn_ctx *ctx, const char *id_or_prefix, char **out);
CAIRN_API void cairn_run_record_free(cairn_run_record *rec);

typedef struct cairn_run_search {
    const char *const *experiment_ids; /* n_experiment_ids == 0: every experiment */
    size_t n_experiment_ids;
    const char *filter; /* e.g. "metrics.acc > 0.9 AND (params.opt = 'adam' OR tags.x = 'y')" */
    const char *const *order_by; /* "metrics.`val loss` DESC", "start_time", ... */
    size_t n_order_by;
    int64_t max_results; /* 0: 1000; at most CAIRN_SEARCH_MAX_RESULTS */
    const char *page_token;
    cairn_view view;
    bool info_only; /* skip metrics, params, tags and inputs */
} cairn_run_search;
#define CAIRN_RUN_SEARCH_INIT                                                                      \
    {                                                                                              \
        0                                                                                          \
    }

/* Searches runs. A malformed filter is EINVAL with a message that quotes the offending token. */
CAIRN_API cairn_status cairn_runs_search(cairn_ctx *ctx, const cairn_run_search *q,
                                         cairn_run_page **out);
CAIRN_API void cairn_run_page_free(cairn_run_page *page);

typedef struct cairn_metric_page {
    size_t n;
    cairn_metric *items; /* ordered by (step, timestamp, value) */
    const char *next_page_token;
    void *internal_;
} cairn_metric_page;

/* Every point of one metric of one run, max_results (0: 25000) at a time. */
CAIRN_API cairn_status cairn_run_metric_history(cairn_ctx *ctx, const char *run_id, const char *key,
                                                const char *page_token, int64_t max_results,
                                                cairn_metric_page **out);
CAIRN_API void cairn_metric_page_free(cairn_metric_page *page);

CAIRN_API cairn_status cairn_run_delete(cairn_ctx *ctx, const char *run_id);
CAIRN_API cairn_status cairn_run_restore(cairn_ctx *ctx, const char *run_id);

/* What kind of key cairn_experiment_keys() lists. */
typedef enum cairn_key_kind { CAIRN_KEY_METRIC, CAIRN_KEY_PARAM, CAIRN_KEY_TAG } cairn_key_kind;

/* The most keys cairn_experiment_keys() returns; more sets cairn_key_list.truncated. */
#define CAIRN_KEYS_MAX 1000

typedef struct cairn_key_list {
    size_t n;
    const char **keys; /* sorted, distinct */
    bool truncated;    /* more than CAIRN_KEYS_MAX keys exist */
    void *internal_;
} cairn_key_list;

/* The distinct metric, param or tag keys that the runs of the experiments (n_experiment_ids
 * 0: every experiment) in view have, sorted, up to CAIRN_KEYS_MAX: what "did you mean" offers
 * for a misspelled name. *out is new (cairn_key_list_free). */
CAIRN_API cairn_status cairn_experiment_keys(cairn_ctx *ctx, const char *const *experiment_ids,
                                             size_t n_experiment_ids, cairn_view view,
                                             cairn_key_kind kind, cairn_key_list **out);
CAIRN_API void cairn_key_list_free(cairn_key_list *list); /* NULL is a no-op */

/* ---- artifacts ---- */

typedef struct cairn_artifact {
    const char *path; /* relative to the run's artifact root, '/'-separated */
    bool is_dir;
    int64_t size_bytes;
    const char *sha256; /* hex; NULL for folders */
} cairn_artifact;

typedef struct cairn_artifact_list {
    size_t n;
    cairn_artifact *items;
    void *internal_;
} cairn_artifact_list;

/* Lists the artifacts directly under `path` (NULL or "": the root). */
CAIRN_API cairn_status cairn_run_artifacts_list(cairn_ctx *ctx, const char *run_id,
                                                const char *path, cairn_artifact_list **out);
CAIRN_API void cairn_artifact_list_free(cairn_artifact_list *list);
/* The absolute local path of artifact `path` of a run, refusing anything that would leave the
 * run's artifact folder ("..", absolute paths, symlinks out). *out freed with cairn_free(). */
CAIRN_API cairn_status cairn_run_artifact_path(cairn_ctx *ctx, const char *run_id, const char *path,
                                               char **out);

/* Opens artifact `path` of a run for reading (the same checks as cairn_run_artifact_path);
 * *fd_out is a file descriptor the caller closes. EINVAL for a folder. */
CAIRN_API cairn_status cairn_run_artifact_open(cairn_ctx *ctx, const char *run_id, const char *path,
                                               int *fd_out);

/* The SHA-256 of a whole file (hex, 64 chars + NUL) and its size; EIO naming the file. */
CAIRN_API cairn_status cairn_file_sha256(cairn_ctx *ctx, const char *path, char hex_out[65],
                                         int64_t *size_bytes_out);

/* ---- runs: writing through a handle ---- */

/* Heartbeats. A run started with cairn_run_start() carries a heartbeat: the time its process
 * last said it is alive, written at the start and then every $CAIRN_HEARTBEAT_S seconds
 * (default 10, the interval is stored with the run). A RUNNING run whose last heartbeat is
 * more than CAIRN_HEARTBEAT_MISSED_MAX intervals old is lost: every reader reports it KILLED,
 * ended at its last heartbeat, with status_reason "lost" (and tag cairn.status_reason), and
 * the next cairn_open() for writing stores it so. Runs made by cairn_runs_create() (MLflow
 * clients) have no heartbeat and are never reaped; nor is a run whose handle was freed. */
#define CAIRN_HEARTBEAT_MISSED_MAX 3
#define CAIRN_HEARTBEAT_DEFAULT_S 10

typedef struct cairn_run cairn_run;

typedef struct cairn_run_opts {
    const char *experiment;    /* experiment name; created if missing; NULL with experiment_id NULL:
                                  "Default" */
    const char *experiment_id; /* used instead of `experiment` when set */
    const char *name;          /* display name; NULL: a generated one ("brave-owl-42") */
    const char *user;          /* NULL: the login name */
    int64_t start_ms;          /* 0 means now */
    const cairn_tag *tags;
    size_t n_tags;
    int flush_every; /* buffered metric points before a write; 0: 1000 */
    /* The oldest unflushed point waits at most this long, even if no more points come: a
     * timer thread flushes it (0: 1000). Negative: no timer thread at all; the caller flushes
     * with cairn_run_flush() and keeps the heartbeat with cairn_run_heartbeat(). */
    int flush_interval_ms;
} cairn_run_opts;
#define CAIRN_RUN_OPTS_INIT                                                                        \
    {                                                                                              \
        0                                                                                          \
    }

/* Starts a run in status RUNNING. On success *out is a new handle, freed with cairn_run_free().
 * On failure *out is NULL and cairn_errmsg(ctx) says why.
 *
 * Threads: unless opts->flush_interval_ms < 0, the handle owns a timer thread with its own
 * store connection (a second cairn_open() of the ctx's store, made here), which flushes
 * buffered points once the oldest is flush_interval_ms old and writes the heartbeat. So a
 * process killed at any moment loses at most flush_interval_ms of points (plus the one flush
 * under way), even when it logs nothing more. ctx itself is only ever used by the caller's
 * thread: the rule "one thread at a time per cairn_ctx" still holds. The handle's buffer is
 * guarded by a mutex, so the handle functions may be called while the timer works (they
 * wait for a flush under way); the handle itself is still used by one thread at a time.
 * Failures of the timer's writes leave the points buffered for the next flush, which reports
 * them. The thread blocks every signal. */
CAIRN_API cairn_status cairn_run_start(cairn_ctx *ctx, const cairn_run_opts *opts, cairn_run **out);
/* A handle on an existing active run (ENOTFOUND, or EINVAL if deleted). It flushes on a timer
 * as cairn_run_start()'s does but writes no heartbeat: the run's owner does. */
CAIRN_API cairn_status cairn_run_attach(cairn_ctx *ctx, const char *run_id, cairn_run **out);

CAIRN_API const char *cairn_run_id(const cairn_run *run);            /* borrowed */
CAIRN_API const char *cairn_run_experiment_id(const cairn_run *run); /* borrowed */
CAIRN_API const char *cairn_run_artifact_dir(const cairn_run *run);  /* borrowed, absolute */
CAIRN_API cairn_ctx *cairn_run_ctx(const cairn_run *run);

/* Buffers one metric point (timestamp now); points reach the store every flush_every points,
 * after flush_interval_ms, or on cairn_run_flush()/cairn_run_finish(). */
CAIRN_API cairn_status cairn_run_log_metric(cairn_run *run, const char *key, double value,
                                            int64_t step);
/* Buffers points with their own timestamps (0: now). */
CAIRN_API cairn_status cairn_run_log_metrics(cairn_run *run, const cairn_metric *points, size_t n);
CAIRN_API cairn_status cairn_run_flush(cairn_run *run);
/* Writes the run's heartbeat if an interval has passed since the last one; cheap otherwise.
 * Only needed with flush_interval_ms < 0 (no timer thread): call it from the poll loop. */
CAIRN_API cairn_status cairn_run_heartbeat(cairn_run *run);

/* Params are write-once: the same value again is fine, a different one is EINVAL. Values over
 * CAIRN_PARAM_VALUE_MAX characters are truncated. Written at once. */
CAIRN_API cairn_status cairn_run_log_param(cairn_run *run, const char *key, const char *value);
CAIRN_API cairn_status cairn_run_set_tag(cairn_run *run, const char *key, const char *value);
CAIRN_API cairn_status cairn_run_delete_tag(cairn_run *run, const char *key);
/* Metrics, params and tags in one transaction; all or nothing. Idempotent: re-sending the same
 * batch stores each point once. Within the batch, the last value of a tag wins. */
CAIRN_API cairn_status cairn_run_log_batch(cairn_run *run, const cairn_metric *metrics,
                                           size_t n_metrics, const cairn_param *params,
                                           size_t n_params, const cairn_tag *tags, size_t n_tags);
CAIRN_API cairn_status cairn_run_log_input(cairn_run *run, const cairn_dataset_input *input);
CAIRN_API cairn_status cairn_run_set_name(cairn_run *run, const char *name);
/* Sets status and end time (0: now for a terminal status, unchanged for RUNNING). */
CAIRN_API cairn_status cairn_run_set_status(cairn_run *run, cairn_run_status status,
                                            int64_t end_ms);
/* Copies a file or a folder (recursively) into the run's artifacts under artifact_path
 * (NULL: the root), recording each file's size and SHA-256. */
CAIRN_API cairn_status cairn_run_log_artifact(cairn_run *run, const char *local_path,
                                              const char *artifact_path);
/* Stores `len` bytes as artifact file `artifact_path` (e.g. "plots/loss.svg"). */
CAIRN_API cairn_status cairn_run_log_artifact_bytes(cairn_run *run, const char *artifact_path,
                                                    const void *data, size_t len);
/* Records a file the caller wrote itself under cairn_run_artifact_dir(run) (a log written as
 * it grows, say) as artifact `artifact_path`, with its current size and SHA-256; recording it
 * again after it changed updates both. The file must be a regular file inside the folder. */
CAIRN_API cairn_status cairn_run_record_artifact(cairn_run *run, const char *artifact_path);
/* Flushes buffered points, then sets the status and end time now. */
CAIRN_API cairn_status cairn_run_finish(cairn_run *run, cairn_run_status status);
/* Frees the handle: stops its timer thread and closes its connection. Unflushed points are
 * written if the store allows; a failure there is logged, not returned (call cairn_run_flush()
 * first to see it). A run still RUNNING loses its heartbeat here, so it is never reaped: only
 * a process that dies holding the handle leaves a lost run. NULL is a no-op. */
CAIRN_API void cairn_run_free(cairn_run *run);

/* ---- runs: writing by id (what a stateless caller such as a REST server uses) ---- */

/* Creates a run in status RUNNING from opts (experiment or experiment_id, name, user,
 * start_ms, tags; the flush fields are ignored) with the same defaults as cairn_run_start().
 * *run_id_out (32 hex characters) is freed with cairn_free(); NULL on failure. ENOTFOUND for
 * a missing experiment id, EINVAL for a deleted experiment or an invalid tag key. */
CAIRN_API cairn_status cairn_runs_create(cairn_ctx *ctx, const cairn_run_opts *opts,
                                         char **run_id_out);

typedef struct cairn_run_update {
    cairn_run_status status; /* 0: unchanged */
    int64_t end_ms;          /* 0: unchanged */
    const char *name;        /* NULL: unchanged; also sets tag mlflow.runName, as MLflow does */
} cairn_run_update;
#define CAIRN_RUN_UPDATE_INIT                                                                      \
    {                                                                                              \
        0                                                                                          \
    }

/* Changes a run's status, end time and name (MLflow's UpdateRun). ENOTFOUND for an unknown
 * run, EINVAL for an invalid status or an empty name; a deleted run's name cannot change. */
CAIRN_API cairn_status cairn_runs_update(cairn_ctx *ctx, const char *run_id,
                                         const cairn_run_update *u);
/* cairn_run_log_batch() by run id: one transaction, all or nothing, idempotent for metric
 * points; metrics, params and tags are borrowed for the call. ENOTFOUND for an unknown run,
 * EINVAL for a deleted run, an invalid key or a param that would change. */
CAIRN_API cairn_status cairn_runs_log_batch(cairn_ctx *ctx, const char *run_id,
                                            const cairn_metric *metrics, size_t n_metrics,
                                            const cairn_param *params, size_t n_params,
                                            const cairn_tag *tags, size_t n_tags);
/* One run's share of cairn_runs_log_batches(): what cairn_runs_log_batch() takes. */
typedef struct cairn_run_batch {
    const char *run_id;
    const cairn_metric *metrics;
    size_t n_metrics;
    const cairn_param *params;
    size_t n_params;
    const cairn_tag *tags;
    size_t n_tags;
} cairn_run_batch;
#define CAIRN_RUN_BATCH_INIT                                                                       \
    {                                                                                              \
        0                                                                                          \
    }

/* Logs n batches, each as cairn_runs_log_batch() would, in as few store transactions as it
 * can (one when nothing goes wrong): a group commit for servers that receive many small
 * batches at once. Each batch is all or nothing on its own: one that fails (an unknown or
 * deleted run, an invalid key, a param that would change) changes nothing and leaves the
 * others be. each[i] (n of them, required) is batch i's status, the one cairn_runs_log_batch()
 * would give; messages (may be NULL; else n entries) gets the message of each failed batch,
 * NULL for the others, each freed with cairn_free(). When every status is CAIRN_OK nothing was
 * lost: the points are committed. Returns CAIRN_OK when every batch succeeded, else the first
 * failed batch's status, with cairn_errmsg() naming it. Batches and their arrays are borrowed
 * for the call. */
CAIRN_API cairn_status cairn_runs_log_batches(cairn_ctx *ctx, const cairn_run_batch *batches,
                                              size_t n, cairn_status *each, char **messages);
/* Sets (or replaces) one tag; the errors of cairn_runs_log_batch(). */
CAIRN_API cairn_status cairn_runs_set_tag(cairn_ctx *ctx, const char *run_id, const char *key,
                                          const char *value);
/* Deletes one tag; a tag that is not there is not an error. ENOTFOUND for an unknown run. */
CAIRN_API cairn_status cairn_runs_delete_tag(cairn_ctx *ctx, const char *run_id, const char *key);
/* Records n dataset inputs of a run in one transaction (a dataset is stored once per
 * experiment, name and digest; logging it again replaces its context). EINVAL for an input
 * without name or digest, ENOTFOUND for an unknown run. */
CAIRN_API cairn_status cairn_runs_log_inputs(cairn_ctx *ctx, const char *run_id,
                                             const cairn_dataset_input *inputs, size_t n);

/* Records a file that is already in place under the run's artifact folder (an upload the
 * REST server streamed there) as artifact `path`, with the size and SHA-256 the caller
 * measured while writing it; recording it again updates both. EINVAL for an unsafe path,
 * ENOTFOUND for an unknown run. */
CAIRN_API cairn_status cairn_runs_record_artifact(cairn_ctx *ctx, const char *run_id,
                                                  const char *path, int64_t size_bytes,
                                                  const char *sha256);

/* Records that the process holding run_id is alive at beat_ms and beats every interval_ms
 * (beat_ms 0: the run has no heartbeat any more and is never reaped); what a remote client's
 * heartbeat becomes on the server. Only a RUNNING run is touched. ENOTFOUND for an unknown
 * run, EINVAL for a negative time or interval. */
CAIRN_API cairn_status cairn_runs_heartbeat(cairn_ctx *ctx, const char *run_id, int64_t beat_ms,
                                            int64_t interval_ms);

/* ---- context capture ---- */

typedef struct cairn_context_opts {
    const char *const *argv; /* the command line to record as cairn.command; may be NULL */
    size_t argc;
    const char *const *inputs; /* files to hash in full (SHA-256) and log as dataset inputs */
    size_t n_inputs;
    const char *const *env_names; /* environment variables to record beyond the default list */
    size_t n_env_names;
    bool has_seed;
    int64_t seed;
    const char *cwd; /* where to look for git; NULL: the current directory */
    bool skip_git;   /* do not run git */
} cairn_context_opts;
#define CAIRN_CONTEXT_OPTS_INIT                                                                    \
    {                                                                                              \
        0                                                                                          \
    }

/* Records where and how a run ran, as tags (MLflow's names where they exist: mlflow.source.*,
 * mlflow.user; cairn.* for the rest: cairn.git.dirty, cairn.host, cairn.os, cairn.cpu.model,
 * cairn.cpu.count, cairn.memory_bytes, cairn.gpus, cairn.cwd, cairn.command, cairn.seed,
 * cairn.env.<NAME>), the git diff against HEAD and the untracked files as artifacts
 * (context/git.diff, context/untracked.txt), and each input file's size and SHA-256 as a
 * dataset input (context "input") and as tags cairn.input.<path>.sha256 / .size_bytes.
 * Missing git or a folder outside a repository is not an error; an unreadable input is. */
CAIRN_API cairn_status cairn_run_capture_context(cairn_run *run, const cairn_context_opts *o);

/* ---- what the web UI reads: downsampled metric series, experiment summaries ---- */

/* The x axis of a metric series. */
typedef enum cairn_series_x { CAIRN_SERIES_X_STEP, CAIRN_SERIES_X_TIME } cairn_series_x;

#define CAIRN_DOWNSAMPLE_DEFAULT 2000
#define CAIRN_DOWNSAMPLE_MAX 100000

/* Picks at most max_points (>= 4) of points[0 .. n), which must be ordered by x (step, or
 * timestamp_ms for CAIRN_SERIES_X_TIME), so that the series keeps its shape: the x range is cut
 * into max_points / 4 buckets of equal width and every bucket keeps its first and last point
 * and its smallest and largest value (NaN is never an extreme; +-Inf are), the M4 idea. A
 * series of at most max_points is kept whole. Writes the kept indices, increasing, to
 * keep[0 .. returned count) (room for min(n, max_points) is enough). Cannot fail. */
CAIRN_API size_t cairn_series_downsample(const cairn_metric *points, size_t n, cairn_series_x x,
                                         size_t max_points, size_t *keep);

typedef struct cairn_metric_series {
    const char *run_id;
    const char *key;
    size_t total;        /* points in the whole series */
    bool is_downsampled; /* total > the points kept */
    size_t n;
    cairn_metric *points; /* ordered by x */
    void *internal_;
} cairn_metric_series;

typedef struct cairn_downsample_opts {
    size_t
        max_points; /* 0: CAIRN_DOWNSAMPLE_DEFAULT; EINVAL below 4 or over CAIRN_DOWNSAMPLE_MAX */
    cairn_series_x x;
} cairn_downsample_opts;
#define CAIRN_DOWNSAMPLE_OPTS_INIT                                                                 \
    {                                                                                              \
        0                                                                                          \
    }

/* Reads metric `key` of run `run_id` whole and keeps at most o->max_points of it with
 * cairn_series_downsample(). ENOTFOUND for an unknown run; an unknown key is an empty series.
 * *out is freed with cairn_metric_series_free(). */
CAIRN_API cairn_status cairn_run_metric_downsample(cairn_ctx *ctx, const char *run_id,
                                                   const char *key, const cairn_downsample_opts *o,
                                                   cairn_metric_series **out);
CAIRN_API void cairn_metric_series_free(cairn_metric_series *series); /* NULL is a no-op */

/* The latest step from which a metric series counts as long: from it on, its chart is made
 * from block summaries of 64 steps (docs/rest.md, "Downsampling"). */
#define CAIRN_SUMMARY_MIN_STEPS 128000
/* Computes and keeps the block summaries of up to max_series long series (latest step at least
 * CAIRN_SUMMARY_MIN_STEPS) that have none yet, so that their first chart reads no point; a
 * series whose points were being logged meanwhile is left for a later call. *n_kept: how many
 * were kept. `cairn server` calls it in the background; a read-only or remote store has
 * nothing to do (0). */
CAIRN_API cairn_status cairn_metrics_summarize(cairn_ctx *ctx, size_t max_series, size_t *n_kept);

typedef struct cairn_experiment_summary {
    const char *experiment_id;
    const char *name;
    bool is_deleted;
    int64_t creation_time_ms;
    int64_t last_update_time_ms;
    int64_t n_active_runs;
    int64_t n_deleted_runs;
    /* The latest start or end time of its runs, else the experiment's last update time. */
    int64_t last_activity_ms;
} cairn_experiment_summary;

typedef struct cairn_experiment_summary_list {
    size_t n;
    cairn_experiment_summary *items; /* by experiment id */
    void *internal_;
} cairn_experiment_summary_list;

/* Every experiment in view with its run counts and last activity, in one query.
 * *out is freed with cairn_experiment_summary_list_free(). */
CAIRN_API cairn_status cairn_experiments_summary(cairn_ctx *ctx, cairn_view view,
                                                 cairn_experiment_summary_list **out);
CAIRN_API void cairn_experiment_summary_list_free(cairn_experiment_summary_list *list);

#ifdef __cplusplus
}
#endif
#endif
