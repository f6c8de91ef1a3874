/* SPDX-License-Identifier: MIT */
/* store_internal.h - row loaders shared by the store's domain files. */
#ifndef CN_STORE_INTERNAL_H
#define CN_STORE_INTERNAL_H
#include "store/store.h"
#include "base/arena.h"

#define CN_RUN_COLUMNS                                                                             \
    "r.run_uuid, r.experiment_id, r.name, r.user_id, r.status, r.start_time, "                     \
    "r.end_time, r.lifecycle_stage, r.artifact_uri, e.artifact_location"

void cn_experiment_from_row(cairn_ctx *ctx, cn_stmt *st, cn_arena *a, cairn_experiment *exp);
cairn_status cn_experiment_load_tags(cairn_ctx *ctx, cn_arena *a, cairn_experiment *exp);
/* Fills info from a row of CN_RUN_COLUMNS (runs r JOIN experiments e). */
void cn_run_info_from_row(cairn_ctx *ctx, cn_stmt *st, cn_arena *a, cairn_run_info *info);
/* Loads latest metrics, params, tags and inputs for n records whose info is filled. */
cairn_status cn_run_load_data(cairn_ctx *ctx, cn_arena *a, cairn_run_record *recs, size_t n);
/* Page tokens are decimal offsets. */
cairn_status cn_page_token_parse(cairn_ctx *ctx, const char *token, int64_t *offset);
#endif
