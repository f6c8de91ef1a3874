/* SPDX-License-Identifier: MIT */
/* store_experiments.h - the SQL store's experiments (store_experiments.c) and the row loaders
 * its search shares; members of cn_store_sql_ops. */
#ifndef CN_STORE_EXPERIMENTS_H
#define CN_STORE_EXPERIMENTS_H
#include "store/store.h"
#include "base/arena.h"

#define CN_EXPERIMENT_COLUMNS                                                                      \
    "e.experiment_id, e.name, e.artifact_location, e.lifecycle_stage, "                            \
    "e.creation_time, e.last_update_time"

/* Fills item, a cairn_experiment, from a row of CN_EXPERIMENT_COLUMNS (a cn_row_fn). */
void cn_experiment_from_row(cairn_ctx *ctx, cn_stmt *st, cn_arena *a, void *item);
/* Adds its tags to item, a cairn_experiment (a cn_complete_fn). */
cairn_status cn_experiment_load_tags(cairn_ctx *ctx, cn_arena *a, void *item);

cairn_status cn_store_experiment_create(cairn_ctx *ctx, const char *name, const char *location,
                                        const cairn_tag *tags, size_t n_tags, char **id_out);
cairn_status cn_store_experiment_get(cairn_ctx *ctx, const char *id, cairn_experiment **out);
cairn_status cn_store_experiment_get_by_name(cairn_ctx *ctx, const char *name,
                                             cairn_experiment **out);
cairn_status cn_store_experiment_rename(cairn_ctx *ctx, const char *id, const char *new_name);
cairn_status cn_store_experiment_set_tag(cairn_ctx *ctx, const char *id, const char *key,
                                         const char *value);
cairn_status cn_store_experiment_delete_tag(cairn_ctx *ctx, const char *id, const char *key);
cairn_status cn_store_experiment_set_deleted(cairn_ctx *ctx, const char *id, bool deleted);
cairn_status cn_store_experiments_search(cairn_ctx *ctx, const cairn_experiment_search *q,
                                         cairn_experiment_page **out);
#endif
