/* SPDX-License-Identifier: MIT */
/* store_runs.h - the SQL store's runs (store_runs.c, store_search.c) and the row loaders they
 * share; members of cn_store_sql_ops. */
#ifndef CN_STORE_RUNS_H
#define CN_STORE_RUNS_H
#include "store/store.h"
#include "base/arena.h"

/* The columns cn_run_info_from_row() reads, from runs r JOIN experiments e. The last ones
 * carry the heartbeat and the stored reason, so every reader can report a lost run. */
#define CN_RUN_COLUMNS                                                                             \
    "r.run_uuid, r.experiment_id, r.name, r.user_id, r.status, r.start_time, "                     \
    "r.end_time, r.lifecycle_stage, r.artifact_uri, e.artifact_location, r.heartbeat_ms, "         \
    "r.heartbeat_interval_ms, (SELECT rt.value FROM tags rt WHERE rt.run_uuid = r.run_uuid AND "   \
    "rt.key = '" CN_STATUS_REASON_TAG "')"

/* Fills info from a row of CN_RUN_COLUMNS (runs r JOIN experiments e). A RUNNING run whose
 * heartbeat is older than CAIRN_HEARTBEAT_MISSED_MAX intervals comes out KILLED, ended at its
 * last heartbeat, with status_reason "lost", whether or not a writer has stored that yet. */
void cn_run_info_from_row(cairn_ctx *ctx, cn_stmt *st, cn_arena *a, cairn_run_info *info);
/* True when a run that last beat at beat_ms, every interval_ms, is lost at now_ms. */
bool cn_heartbeat_is_lost(int64_t beat_ms, int64_t interval_ms, int64_t now_ms);
/* Loads latest metrics, params, tags and inputs for n records whose info is filled. */
cairn_status cn_run_load_data(cairn_ctx *ctx, cn_arena *a, cairn_run_record *recs, size_t n);

cairn_status cn_store_run_create(cairn_ctx *ctx, const cn_run_new *in, cn_run_row *out);
cairn_status cn_store_run_lookup(cairn_ctx *ctx, const char *run_id, cn_run_row *out);
cairn_status cn_store_run_get(cairn_ctx *ctx, const char *run_id, cairn_run_record **out);
cairn_status cn_store_run_update(cairn_ctx *ctx, const char *run_id, const cairn_run_update *u);
cairn_status cn_store_run_set_deleted(cairn_ctx *ctx, const char *run_id, bool deleted);
cairn_status cn_store_log_batch(cairn_ctx *ctx, const char *run_id, const cairn_metric *metrics,
                                size_t n_metrics, const cairn_param *params, size_t n_params,
                                const cairn_tag *tags, size_t n_tags);
cairn_status cn_store_log_batches(cairn_ctx *ctx, const cairn_run_batch *batches, size_t n,
                                  cairn_status *each, char **messages);
cairn_status cn_store_delete_tag(cairn_ctx *ctx, const char *run_id, const char *key);
cairn_status cn_store_log_inputs(cairn_ctx *ctx, const char *run_id,
                                 const cairn_dataset_input *inputs, size_t n);
cairn_status cn_store_record_artifact(cairn_ctx *ctx, const char *run_id, const char *path,
                                      int64_t size_bytes, const char *sha256);
cairn_status cn_store_artifacts_list(cairn_ctx *ctx, const char *run_id, const char *path,
                                     cairn_artifact_list **out);
cairn_status cn_store_metric_history(cairn_ctx *ctx, const char *run_id, const char *key,
                                     const char *page_token, int64_t max_results,
                                     cairn_metric_page **out);
cairn_status cn_store_run_heartbeat(cairn_ctx *ctx, const char *run_id, int64_t beat_ms,
                                    int64_t interval_ms);
cairn_status cn_store_runs_reap(cairn_ctx *ctx, int64_t now_ms, int64_t *n_reaped);
cairn_status cn_store_runs_search(cairn_ctx *ctx, const cairn_run_search *q, cairn_run_page **out);
cairn_status cn_store_experiment_keys(cairn_ctx *ctx, const char *const *experiment_ids, size_t n,
                                      cairn_view view, cairn_key_kind kind, cairn_key_list **out);
#endif
