/* SPDX-License-Identifier: MIT */
/* store_logged_models.h - the SQL store's MLflow 3.x logged models and run outputs
 * (store_logged_models.c); members of cn_store_sql_ops, called through cn_store_ops by
 * tracking/logged_models.c. */
#ifndef CN_STORE_LOGGED_MODELS_H
#define CN_STORE_LOGGED_MODELS_H
#include "store/store.h"
#include "base/arena.h"

cairn_status cn_store_logged_model_create(cairn_ctx *ctx, const cairn_logged_model_opts *opts,
                                          cairn_logged_model **out);
cairn_status cn_store_logged_model_get(cairn_ctx *ctx, const char *model_id,
                                       cairn_logged_model **out);
cairn_status cn_store_logged_model_finalize(cairn_ctx *ctx, const char *model_id,
                                            cairn_logged_model_status status,
                                            const char *status_message);
cairn_status cn_store_logged_model_set_tags(cairn_ctx *ctx, const char *model_id,
                                            const cairn_tag *tags, size_t n);
cairn_status cn_store_logged_model_delete_tag(cairn_ctx *ctx, const char *model_id,
                                              const char *key);
cairn_status cn_store_logged_model_log_params(cairn_ctx *ctx, const char *model_id,
                                              const cairn_param *params, size_t n);
cairn_status cn_store_logged_model_log_metrics(cairn_ctx *ctx, const char *model_id,
                                               const cairn_logged_model_metric *metrics, size_t n);
cairn_status cn_store_logged_model_delete(cairn_ctx *ctx, const char *model_id);
cairn_status cn_store_logged_models_search(cairn_ctx *ctx, const cairn_logged_model_query *q,
                                           cairn_logged_model_page **out);
cairn_status cn_store_run_log_outputs(cairn_ctx *ctx, const char *run_id,
                                      const cairn_run_output *outputs, size_t n);
/* Adds a run's outputs (run_outputs, by model id) to rec, whose info is filled (run_get). */
cairn_status cn_store_run_outputs_load(cairn_ctx *ctx, cn_arena *a, cairn_run_record *rec);
#endif
