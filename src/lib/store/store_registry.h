/* SPDX-License-Identifier: MIT */
/* store_registry.h - the SQL store's model registry (store_registry.c); members of
 * cn_store_sql_ops, called through cn_store_ops by registry/registry.c. */
#ifndef CN_STORE_REGISTRY_H
#define CN_STORE_REGISTRY_H
#include "store/store.h"

cairn_status cn_store_model_create(cairn_ctx *ctx, const char *name, const char *description,
                                   const cairn_tag *tags, size_t n_tags);
cairn_status cn_store_model_get(cairn_ctx *ctx, const char *name, cairn_registered_model **out);
cairn_status cn_store_model_rename(cairn_ctx *ctx, const char *name, const char *new_name);
cairn_status cn_store_model_update(cairn_ctx *ctx, const char *name, const char *description);
cairn_status cn_store_model_delete(cairn_ctx *ctx, const char *name);
cairn_status cn_store_model_set_tag(cairn_ctx *ctx, const char *name, const char *key,
                                    const char *value);
cairn_status cn_store_models_search(cairn_ctx *ctx, const cairn_registered_model_query *q,
                                    cairn_registered_model_page **out);
cairn_status cn_store_version_create(cairn_ctx *ctx, const cn_version_new *in,
                                     int64_t *version_out);
cairn_status cn_store_version_get(cairn_ctx *ctx, const char *name, int64_t version,
                                  cairn_model_version **out);
cairn_status cn_store_version_get_by_alias(cairn_ctx *ctx, const char *name, const char *alias,
                                           cairn_model_version **out);
cairn_status cn_store_version_update(cairn_ctx *ctx, const char *name, int64_t version,
                                     const char *description);
cairn_status cn_store_version_delete(cairn_ctx *ctx, const char *name, int64_t version,
                                     const cairn_registry_move_opts *mv);
cairn_status cn_store_version_set_tag(cairn_ctx *ctx, const char *name, int64_t version,
                                      const char *key, const char *value);
cairn_status cn_store_version_set_semver(cairn_ctx *ctx, const char *name, int64_t version,
                                         const char *semver);
cairn_status cn_store_versions_search(cairn_ctx *ctx, const cairn_model_version_query *q,
                                      cairn_model_version_page **out);
cairn_status cn_store_alias_move(cairn_ctx *ctx, const char *name, const char *alias,
                                 cn_alias_op op, int64_t version,
                                 const cairn_registry_move_opts *mv, int64_t *version_out);
cairn_status cn_store_stage_transition(cairn_ctx *ctx, const char *name, int64_t version,
                                       cairn_model_stage stage, bool archive_existing,
                                       const cairn_registry_move_opts *mv);
cairn_status cn_store_registry_history(cairn_ctx *ctx, const cairn_registry_history_query *q,
                                       cairn_registry_event_page **out);
#endif
