/* SPDX-License-Identifier: MIT */
/* store_studies.h - the SQL store's studies and trials (store_studies.c); members of
 * cn_store_sql_ops, called through cn_store_ops by hpo/study.c. */
#ifndef CN_STORE_STUDIES_H
#define CN_STORE_STUDIES_H
#include "store/store.h"

/* "RUNNING", "COMPLETE", "PRUNED", "FAIL", "WAITING", "STALE". */
const char *cn_trial_state_name(cairn_trial_state st);

cairn_status cn_store_study_create(cairn_ctx *ctx, const cn_study_row *in, cn_study_row *out,
                                   bool *created);
cairn_status cn_store_study_get(cairn_ctx *ctx, const char *name, cn_study_row *out);
cairn_status cn_store_studies_list(cairn_ctx *ctx, cn_study_row **out, size_t *n);
cairn_status cn_store_study_delete(cairn_ctx *ctx, const char *name);
cairn_status cn_store_trial_claim(cairn_ctx *ctx, const cn_trial_claim *in, cn_trial_claimed *out);
cairn_status cn_store_trial_finish(cairn_ctx *ctx, int64_t study_id, int64_t number,
                                   cairn_trial_state state, bool has_value, double value,
                                   const char *reason, int64_t now_ms, int retry_max,
                                   int64_t *retry_number);
cairn_status cn_store_trial_report(cairn_ctx *ctx, int64_t study_id, int64_t number, int64_t step,
                                   double value, int64_t now_ms);
cairn_status cn_store_trial_heartbeat(cairn_ctx *ctx, int64_t study_id, int64_t number,
                                      int64_t now_ms);
cairn_status cn_store_trial_enqueue(cairn_ctx *ctx, int64_t study_id, const char *params_text,
                                    int64_t grid_index, int64_t *number_out);
cairn_status cn_store_trials_read(cairn_ctx *ctx, int64_t study_id, int64_t from_number,
                                  cn_trial_fn on_trial, cn_trial_value_fn on_value, void *user);
#endif
