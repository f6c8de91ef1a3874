/* SPDX-License-Identifier: MIT */
/* store_ops.h - the store seam: one table of operations every public tracking function goes
 * through, looked up by the URI scheme of cairn_open(). The local SQL store (store.c over
 * db.h's drivers) is the first implementation; a remote one (http://) plugs in as another row.
 * No SQL type appears here. Callers (tracking/) validate arguments before calling. */
#ifndef CN_STORE_OPS_H
#define CN_STORE_OPS_H
#include "cairn/auth.h"
#include "cairn/hpo.h"
#include "cairn/logged_model.h"
#include "cairn/registry.h"
#include "cairn/tracking.h"

typedef struct cn_store cn_store;

/* A summary of the points of one metric whose steps share floor(step / 64) (a block of 64
 * steps, CN_METRIC_BLOCK_SHIFT): their number, the first and last in key order (step,
 * timestamp, value; a NaN is held as value 0 with nan set, as in the metrics table), the
 * lowest and highest value that is not NaN (has_value false: all NaN), ties to the first in
 * key order, and the earliest and latest by timestamp (t_first: ties to the first in key
 * order, t_last: to the last). */
#define CN_METRIC_BLOCK_SHIFT 6
typedef struct cn_block_point {
    int64_t step, ts;
    double value;
    bool nan;
} cn_block_point;
typedef struct cn_metric_block {
    int64_t block, n;
    cn_block_point first, last, lo, hi, t_first, t_last;
    bool has_value;
} cn_metric_block;
/* Key order of the metrics table: step, timestamp, value (0 for NaN), then NaN last. */
static inline bool cn_block_point_before(const cn_block_point *a, const cn_block_point *b)
{
    if (a->step != b->step)
        return a->step < b->step;
    if (a->ts != b->ts)
        return a->ts < b->ts;
    if (a->value != b->value)
        return a->value < b->value;
    return !a->nan && b->nan;
}

/* What the run handle needs to know of a run. */
typedef struct cn_run_row {
    char run_id[33];
    char *experiment_id;
    char *artifact_dir;
    bool is_deleted;
} cn_run_row;
void cn_run_row_release(cn_run_row *row);

/* A new run: every field resolved by the caller (experiment_id, name, user and start_ms set). */
typedef struct cn_run_new {
    const char *experiment_id;
    const char *name;
    const char *user;
    int64_t start_ms;
    const cairn_tag *tags; /* besides mlflow.runName and mlflow.user, which the store adds */
    size_t n_tags;
    int64_t heartbeat_interval_ms; /* > 0: the run starts with a heartbeat; 0: it has none */
} cn_run_new;

/* The tag that says why a run ended when cairn decided it ("lost": its heartbeat stopped). */
#define CN_STATUS_REASON_TAG "cairn.status_reason"

/* A new model version, every field resolved by the caller (source, user and run id set; run
 * id "" when there is none; semver NULL when there is none). */
typedef struct cn_version_new {
    const char *name;
    const char *source;
    const char *run_id;
    const char *description;
    const char *semver;
    const char *user;
    const cairn_tag *tags;
    size_t n_tags;
} cn_version_new;

/* What an alias operation does. */
typedef enum cn_alias_op { CN_ALIAS_SET, CN_ALIAS_DELETE, CN_ALIAS_ROLLBACK } cn_alias_op;

/* The stored names of the stages, indexed by cairn_model_stage ("None" ... "Archived"). */
extern const char *const cn_stage_names[4];
/* The stored names of the permissions, indexed by cairn_perm ("NO_PERMISSIONS" ... "MANAGE"). */
extern const char *const cn_perm_names[4];

/* ---- studies (store_studies.c; hpo/study.c resolves and validates) ---- */

/* A study as stored. Strings are owned (cn_study_row_release). */
typedef struct cn_study_row {
    int64_t study_id;
    char *name;
    char *experiment_id;
    char *space; /* the search space as written */
    int space_format;
    char *objective;
    bool maximize;
    char *strategy; /* last, min, max */
    char *sampler, *pruner;
    int64_t seed;
    int64_t heartbeat_interval_ms;
    int64_t creation_ms;
    /* Filled by studies_list only: counts by state and the best COMPLETE value. */
    int64_t n_trials, n_complete, n_pruned, n_fail, n_running;
    bool has_best;
    double best_value;
} cn_study_row;
void cn_study_row_release(cn_study_row *row);

/* One trial as read: borrowed for the callback. */
typedef struct cn_trial_row {
    int64_t number;
    cairn_trial_state state;
    bool has_value;
    double value;
    const char *params;                     /* internal values, comma-separated ("nan": inactive) */
    int64_t grid_index;                     /* -1: none */
    const char *run_id;                     /* "" when the trial has no run yet (WAITING) */
    int64_t retry_of;                       /* -1: none */
    int64_t start_ms, end_ms, heartbeat_ms; /* 0: none */
} cn_trial_row;
typedef cairn_status (*cn_trial_fn)(void *user, const cn_trial_row *row);
/* An intermediate value (NaN kept) of trial number at step, steps ascending per trial. */
typedef cairn_status (*cn_trial_value_fn)(void *user, int64_t number, int64_t step, double value);

/* What the caller proposes for the trial a claim takes. For a WAITING trial, params_text is
 * already set (waiting != NULL) and the proposal only names the run and its params. */
typedef struct cn_trial_proposal {
    const char *params_text; /* new trials: internal values, as cn_trial_row.params */
    int64_t grid_index;      /* -1: none */
    const char *run_name;
    const cairn_param *params; /* the run's params (external text) */
    size_t n_params;
} cn_trial_proposal;

typedef struct cn_trial_claim {
    int64_t study_id;
    const char *study_name;
    const char *experiment_id;     /* where the trial's run goes */
    int64_t heartbeat_interval_ms; /* the run's and the trial's */
    int64_t stale_before_ms;       /* a RUNNING trial that last beat before this is stale */
    int64_t from_number;           /* trials numbered from here are visited before the proposal */
    int64_t now_ms;
    int max_retries;  /* a stale trial is retried while its retries stay below this */
    const char *user; /* the run's user */
    /* > 0: the study's target of finished trials. Under the lock, the trials that count are
     * COMPLETE, PRUNED, FAIL (but not one a retry copy replaces), RUNNING and WAITING; a new
     * number is claimed only while they are fewer than target, a WAITING trial only while
     * those not WAITING are. Otherwise the claim takes nothing (out->number -1, out->full). */
    int64_t target;
    cn_trial_fn on_trial;
    cn_trial_value_fn on_value;
    /* Called once, inside the claim's transaction, after the visits: number is the trial
     * claimed; waiting is its stored params when it is a WAITING one, else NULL. Strings of
     * *out stay borrowed until the claim returns. */
    cairn_status (*propose)(void *user, int64_t number, const char *waiting,
                            cn_trial_proposal *out);
    void *user_data;
} cn_trial_claim;

/* What a claim took: the trial's number and run. */
typedef struct cn_trial_claimed {
    int64_t number; /* -1 when full */
    char run_id[33];
    int64_t retry_of;
    bool full;         /* the target is reached: nothing was claimed (stale trials were reaped) */
    int64_t n_counted; /* the trials that count toward the target (with a target) */
    int64_t n_running; /* the study's RUNNING trials (with a target) */
} cn_trial_claimed;

typedef struct cn_store_ops {
    const char *name;           /* "sql" */
    const char *const *schemes; /* URI schemes it serves, NULL-terminated; "" is a bare path */
    /* Opens uri; *artifact_root_out (caller frees) is where run artifacts go by default. */
    cairn_status (*open)(cairn_ctx *ctx, const char *uri, const cairn_open_opts *opts,
                         cn_store **out, char **artifact_root_out);
    void (*close)(cn_store *s); /* NULL is a no-op */

    /* ---- experiments ---- */
    cairn_status (*experiment_create)(cairn_ctx *ctx, const char *name, const char *location,
                                      const cairn_tag *tags, size_t n_tags, char **id_out);
    cairn_status (*experiment_get)(cairn_ctx *ctx, const char *id, cairn_experiment **out);
    cairn_status (*experiment_get_by_name)(cairn_ctx *ctx, const char *name,
                                           cairn_experiment **out);
    cairn_status (*experiment_rename)(cairn_ctx *ctx, const char *id, const char *new_name);
    cairn_status (*experiment_set_tag)(cairn_ctx *ctx, const char *id, const char *key,
                                       const char *value);
    cairn_status (*experiment_delete_tag)(cairn_ctx *ctx, const char *id, const char *key);
    /* Soft delete or restore, with the experiment's runs. */
    cairn_status (*experiment_set_deleted)(cairn_ctx *ctx, const char *id, bool deleted);
    cairn_status (*experiments_search)(cairn_ctx *ctx, const cairn_experiment_search *q,
                                       cairn_experiment_page **out);

    /* ---- runs: every writer takes a run id, so a stateless caller can log to any run ---- */
    cairn_status (*run_create)(cairn_ctx *ctx, const cn_run_new *in, cn_run_row *out);
    cairn_status (*run_lookup)(cairn_ctx *ctx, const char *run_id, cn_run_row *out);
    cairn_status (*run_get)(cairn_ctx *ctx, const char *run_id, cairn_run_record **out);
    cairn_status (*run_update)(cairn_ctx *ctx, const char *run_id, const cairn_run_update *u);
    cairn_status (*run_set_deleted)(cairn_ctx *ctx, const char *run_id, bool deleted);
    /* One transaction, all or nothing, idempotent for metric points. */
    cairn_status (*log_batch)(cairn_ctx *ctx, const char *run_id, const cairn_metric *metrics,
                              size_t n_metrics, const cairn_param *params, size_t n_params,
                              const cairn_tag *tags, size_t n_tags);
    cairn_status (*delete_tag)(cairn_ctx *ctx, const char *run_id, const char *key);
    cairn_status (*log_inputs)(cairn_ctx *ctx, const char *run_id,
                               const cairn_dataset_input *inputs, size_t n);
    cairn_status (*record_artifact)(cairn_ctx *ctx, const char *run_id, const char *path,
                                    int64_t size_bytes, const char *sha256);
    cairn_status (*artifacts_list)(cairn_ctx *ctx, const char *run_id, const char *path,
                                   cairn_artifact_list **out);
    cairn_status (*metric_history)(cairn_ctx *ctx, const char *run_id, const char *key,
                                   const char *page_token, int64_t max_results,
                                   cairn_metric_page **out);
    cairn_status (*runs_search)(cairn_ctx *ctx, const cairn_run_search *q, cairn_run_page **out);
    /* The distinct keys of one kind over the runs of the experiments in view (ids checked by
     * the caller), sorted, at most CAIRN_KEYS_MAX (then truncated). */
    cairn_status (*experiment_keys)(cairn_ctx *ctx, const char *const *experiment_ids, size_t n,
                                    cairn_view view, cairn_key_kind kind, cairn_key_list **out);
    /* Every experiment in view with its run counts and last activity (the web UI's list).
     * NULL where the store cannot say it in one request (then EINVAL to the caller). */
    cairn_status (*experiments_summary)(cairn_ctx *ctx, cairn_view view,
                                        cairn_experiment_summary_list **out);
    /* The first and last x (step, or timestamp for CAIRN_SERIES_X_TIME) of a run's metric;
     * *any false when it has no point. ENOTFOUND for an unknown run. NULL: not offered. */
    cairn_status (*metric_span)(cairn_ctx *ctx, const char *run_id, const char *key,
                                cairn_series_x x, bool *any, int64_t *first, int64_t *last);
    /* Visits every point of a run's metric with a step in [step_lo, step_hi] (INT64_MIN and
     * INT64_MAX: all), one at a time (no copy of the whole series), in key order (step,
     * timestamp, value), until fn returns false. NULL: not offered (read metric_history). */
    cairn_status (*metric_scan)(cairn_ctx *ctx, const char *run_id, const char *key,
                                int64_t step_lo, int64_t step_hi,
                                bool (*fn)(void *user, const cairn_metric *m), void *user);
    /* Visits the block summaries (cn_metric_block) of a run's metric in block order, until fn
     * returns false: one per 64 steps that hold a point, so a chart of a long series reads no
     * point. The store computes from the points the summaries it does not hold yet or that
     * points logged since have changed, and keeps them when no point of the series was logged
     * meanwhile (schema 007). ENOTFOUND for an unknown run. NULL: not offered (scan instead). */
    cairn_status (*metric_blocks)(cairn_ctx *ctx, const char *run_id, const char *key,
                                  bool (*fn)(void *user, const cn_metric_block *b), void *user);
    /* Computes and keeps the summaries of up to max series whose latest step is at least
     * min_step and which have none kept; *n_kept as cairn_metrics_summarize. NULL: none. */
    cairn_status (*metrics_summarize)(cairn_ctx *ctx, int64_t min_step, size_t max, size_t *n_kept);

    /* ---- heartbeats (see CAIRN_HEARTBEAT_MISSED_MAX in cairn/tracking.h) ---- */
    /* Records that the run's process is alive at beat_ms and beats every interval_ms; only a
     * RUNNING run is touched. beat_ms 0 clears the heartbeat: the run is never reaped. */
    cairn_status (*run_heartbeat)(cairn_ctx *ctx, const char *run_id, int64_t beat_ms,
                                  int64_t interval_ms);
    /* Stores every lost run (RUNNING, last beat more than CAIRN_HEARTBEAT_MISSED_MAX intervals
     * before now_ms) as KILLED, ended at its last beat, with tag CN_STATUS_REASON_TAG "lost".
     * Runs without a heartbeat are never touched. *n_reaped (may be NULL) counts them. */
    cairn_status (*runs_reap)(cairn_ctx *ctx, int64_t now_ms, int64_t *n_reaped);

    /* ---- model registry: arguments validated, users and reasons resolved (registry/) ---- */
    cairn_status (*model_create)(cairn_ctx *ctx, const char *name, const char *description,
                                 const cairn_tag *tags, size_t n_tags);
    cairn_status (*model_get)(cairn_ctx *ctx, const char *name, cairn_registered_model **out);
    cairn_status (*model_rename)(cairn_ctx *ctx, const char *name, const char *new_name);
    cairn_status (*model_update)(cairn_ctx *ctx, const char *name, const char *description);
    /* Deletes the model with its versions, tags, aliases and events. */
    cairn_status (*model_delete)(cairn_ctx *ctx, const char *name);
    /* value NULL deletes the tag. */
    cairn_status (*model_set_tag)(cairn_ctx *ctx, const char *name, const char *key,
                                  const char *value);
    cairn_status (*models_search)(cairn_ctx *ctx, const cairn_registered_model_query *q,
                                  cairn_registered_model_page **out);
    /* Allocates the next version number under the model's lock; *version_out is it. */
    cairn_status (*version_create)(cairn_ctx *ctx, const cn_version_new *in, int64_t *version_out);
    cairn_status (*version_get)(cairn_ctx *ctx, const char *name, int64_t version,
                                cairn_model_version **out);
    cairn_status (*version_get_by_alias)(cairn_ctx *ctx, const char *name, const char *alias,
                                         cairn_model_version **out);
    cairn_status (*version_update)(cairn_ctx *ctx, const char *name, int64_t version,
                                   const char *description);
    /* Soft delete; the version's aliases are removed as events by mv->user. */
    cairn_status (*version_delete)(cairn_ctx *ctx, const char *name, int64_t version,
                                   const cairn_registry_move_opts *mv);
    /* value NULL deletes the tag. */
    cairn_status (*version_set_tag)(cairn_ctx *ctx, const char *name, int64_t version,
                                    const char *key, const char *value);
    /* semver NULL clears the label. */
    cairn_status (*version_set_semver)(cairn_ctx *ctx, const char *name, int64_t version,
                                       const char *semver);
    cairn_status (*versions_search)(cairn_ctx *ctx, const cairn_model_version_query *q,
                                    cairn_model_version_page **out);
    /* Sets (to version), deletes or rolls back an alias and records the event, all in one
     * transaction under the model's lock; *version_out is where the alias points after. */
    cairn_status (*alias_move)(cairn_ctx *ctx, const char *name, const char *alias, cn_alias_op op,
                               int64_t version, const cairn_registry_move_opts *mv,
                               int64_t *version_out);
    cairn_status (*stage_transition)(cairn_ctx *ctx, const char *name, int64_t version,
                                     cairn_model_stage stage, bool archive_existing,
                                     const cairn_registry_move_opts *mv);
    cairn_status (*registry_history)(cairn_ctx *ctx, const cairn_registry_history_query *q,
                                     cairn_registry_event_page **out);

    /* ---- logged models (MLflow 3.x): arguments validated, defaults resolved (tracking/) ---- */
    /* Checks the experiment (ENOTFOUND, EINVAL when deleted) and the source run, then stores a
     * PENDING model with its params and tags in one transaction; opts->name and ->creator set. */
    cairn_status (*logged_model_create)(cairn_ctx *ctx, const cairn_logged_model_opts *opts,
                                        cairn_logged_model **out);
    /* Unknown and deleted models are ENOTFOUND, for this and every writer below. */
    cairn_status (*logged_model_get)(cairn_ctx *ctx, const char *model_id,
                                     cairn_logged_model **out);
    cairn_status (*logged_model_finalize)(cairn_ctx *ctx, const char *model_id,
                                          cairn_logged_model_status status,
                                          const char *status_message);
    cairn_status (*logged_model_set_tags)(cairn_ctx *ctx, const char *model_id,
                                          const cairn_tag *tags, size_t n);
    cairn_status (*logged_model_delete_tag)(cairn_ctx *ctx, const char *model_id, const char *key);
    /* Write-once, as a run's params. */
    cairn_status (*logged_model_log_params)(cairn_ctx *ctx, const char *model_id,
                                            const cairn_param *params, size_t n);
    cairn_status (*logged_model_log_metrics)(cairn_ctx *ctx, const char *model_id,
                                             const cairn_logged_model_metric *metrics, size_t n);
    cairn_status (*logged_model_delete)(cairn_ctx *ctx, const char *model_id);
    cairn_status (*logged_models_search)(cairn_ctx *ctx, const cairn_logged_model_query *q,
                                         cairn_logged_model_page **out);
    /* The run must be active, every model live; one transaction. */
    cairn_status (*run_log_outputs)(cairn_ctx *ctx, const char *run_id,
                                    const cairn_run_output *outputs, size_t n);

    /* ---- authentication (auth/auth.c): arguments validated, passwords already hashed,
     * tokens already reduced to their SHA-256 (hex); the permission tables of both kinds ---- */
    cairn_status (*auth_user_create)(cairn_ctx *ctx, const char *username,
                                     const char *password_hash, bool is_admin);
    /* Deletes the user with its tokens and permissions, in one transaction. */
    cairn_status (*auth_user_delete)(cairn_ctx *ctx, const char *username);
    /* password_hash NULL keeps the hash; is_admin < 0 keeps the flag. */
    cairn_status (*auth_user_update)(cairn_ctx *ctx, const char *username,
                                     const char *password_hash, int is_admin);
    /* *out (may be NULL) and *password_hash_out (may be NULL; the caller frees) are the
     * user's; ENOTFOUND when there is none. */
    cairn_status (*auth_user_get)(cairn_ctx *ctx, const char *username, cairn_auth_user **out,
                                  char **password_hash_out);
    cairn_status (*auth_users_list)(cairn_ctx *ctx, cairn_auth_user_list **out);
    cairn_status (*auth_token_create)(cairn_ctx *ctx, const char *username,
                                      const char *token_sha256, const char *name,
                                      int64_t created_ms, int64_t expires_ms);
    /* *username_out (the caller frees) owns the token unless it expired by now_ms; NULL when
     * none does. Records the use (at most once a minute, and not on a read-only store). */
    cairn_status (*auth_token_lookup)(cairn_ctx *ctx, const char *token_sha256, int64_t now_ms,
                                      char **username_out);
    cairn_status (*auth_token_revoke)(cairn_ctx *ctx, const char *username, const char *name);
    cairn_status (*auth_tokens_list)(cairn_ctx *ctx, const char *username,
                                     cairn_auth_token_list **out);
    cairn_status (*auth_permission_set)(cairn_ctx *ctx, cairn_auth_kind kind, const char *resource,
                                        const char *username, cairn_perm perm);
    cairn_status (*auth_permission_delete)(cairn_ctx *ctx, cairn_auth_kind kind,
                                           const char *resource, const char *username);
    /* *found says whether the user has an explicit permission on the resource. */
    cairn_status (*auth_permission_get)(cairn_ctx *ctx, cairn_auth_kind kind, const char *resource,
                                        const char *username, cairn_perm *out, bool *found);
    /* Every explicit permission of username (NULL: of everyone). */
    cairn_status (*auth_permissions_list)(cairn_ctx *ctx, const char *username,
                                          cairn_auth_permission_list **out);
    /* Moves the permissions on a resource to new_name, or drops them when new_name is NULL. */
    cairn_status (*auth_permissions_move)(cairn_ctx *ctx, cairn_auth_kind kind,
                                          const char *resource, const char *new_name);
    /* What the store knows of a user with respect to n resources of one kind, in two queries:
     * *user_found, *is_admin, and perms[i] the explicit permission on resources[i] or -1. */
    cairn_status (*auth_resolve)(cairn_ctx *ctx, const char *username, cairn_auth_kind kind,
                                 const char *const *resources, size_t n, bool *user_found,
                                 bool *is_admin, int *perms);

    /* ---- group commit ---- */
    /* Logs n batches (validated as for log_batch) in one transaction, each inside a savepoint
     * of its own, so one that fails leaves the others be; when the transaction fails as a
     * whole, or a batch fails for a reason a retry may cure (EDB, EIO), those batches are
     * logged again one transaction each. each[i] is batch i's status and messages[i] (never
     * NULL here) a new string (cairn_free) for a failed one, else NULL. Returns CAIRN_OK.
     * NULL in a store that cannot (the REST one): the batches then go one by one. */
    cairn_status (*log_batches)(cairn_ctx *ctx, const cairn_run_batch *batches, size_t n,
                                cairn_status *each, char **messages);

    /* ---- studies and trials (store_studies.c); NULL in a store that cannot (REST) ---- */
    /* Creates the study in->name unless it exists; *out is the stored row either way and
     * *created says which. */
    cairn_status (*study_create)(cairn_ctx *ctx, const cn_study_row *in, cn_study_row *out,
                                 bool *created);
    cairn_status (*study_get)(cairn_ctx *ctx, const char *name, cn_study_row *out);
    cairn_status (*studies_list)(cairn_ctx *ctx, cn_study_row **out, size_t *n);
    /* Deletes the study with its trials and values (the runs stay). */
    cairn_status (*study_delete)(cairn_ctx *ctx, const char *name);
    /* In one write transaction under the study's lock: stores stale trials as STALE (and
     * queues a WAITING copy of each while retries remain), visits the trials numbered from
     * in->from_number, then claims the lowest WAITING trial or the next number, creates its
     * run (tags cairn.study, cairn.trial, and cairn.retry_of for a retry) with the proposal's
     * params, and marks it RUNNING. */
    cairn_status (*trial_claim)(cairn_ctx *ctx, const cn_trial_claim *in, cn_trial_claimed *out);
    /* Ends a RUNNING trial (EINVAL otherwise) and its run; reason (may be NULL) is tagged. A
     * FAIL whose retries (stale and failed ones of its line) stay below retry_max also queues,
     * in the same transaction, a WAITING copy with its params and grid point (retry_of);
     * *retry_number (may be NULL) is the copy's number, else -1. */
    cairn_status (*trial_finish)(cairn_ctx *ctx, int64_t study_id, int64_t number,
                                 cairn_trial_state state, bool has_value, double value,
                                 const char *reason, int64_t now_ms, int retry_max,
                                 int64_t *retry_number);
    /* Stores an intermediate value and beats. */
    cairn_status (*trial_report)(cairn_ctx *ctx, int64_t study_id, int64_t number, int64_t step,
                                 double value, int64_t now_ms);
    cairn_status (*trial_heartbeat)(cairn_ctx *ctx, int64_t study_id, int64_t number,
                                    int64_t now_ms);
    /* Adds a WAITING trial with these internal values; *number_out is its number. */
    cairn_status (*trial_enqueue)(cairn_ctx *ctx, int64_t study_id, const char *params_text,
                                  int64_t grid_index, int64_t *number_out);
    /* Visits the trials numbered from from_number, then (on_value not NULL) their values. */
    cairn_status (*trials_read)(cairn_ctx *ctx, int64_t study_id, int64_t from_number,
                                cn_trial_fn on_trial, cn_trial_value_fn on_value, void *user);
} cn_store_ops;

/* The first member of every implementation's handle. */
struct cn_store {
    const cn_store_ops *ops;
};

extern const cn_store_ops cn_store_sql_ops;

/* Opens the store uri names, picking the implementation by its scheme. */
cairn_status cn_store_open_uri(cairn_ctx *ctx, const char *uri, const cairn_open_opts *opts,
                               cn_store **out, char **artifact_root_out);
/* The context's store operations; call after cn_need_store(). */
#define CN_STORE_OPS(ctx) ((ctx)->store->ops)
#endif
