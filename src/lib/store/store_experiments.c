/* SPDX-License-Identifier: MIT */
/* store_experiments.c - the SQL store's experiments: create, get, rename, tags, soft delete
 * and restore. Arguments arrive validated (tracking/experiments.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/core.h"
#include "store/store.h"
#include "store/store_experiments.h"
#include "base/arena.h"
#include "base/str.h"
#include "base/time.h"
#include "base/xmalloc.h"
#include "base/banned.h"

void cn_experiment_from_row(cairn_ctx *ctx, cn_stmt *st, cn_arena *a, void *item)
{
    cairn_experiment *exp = item;
    char id[32];
    snprintf(id, sizeof id, "%lld", (long long)cn_col_int(ctx, st, 0));
    exp->experiment_id = cn_arena_strdup(a, id);
    exp->name = cn_arena_strdup(a, cn_col_text(ctx, st, 1));
    const char *loc = cn_col_text(ctx, st, 2);
    exp->artifact_location =
        *loc ? cn_arena_strdup(a, loc) : cn_arena_printf(a, "%s/%s", cairn_artifact_root(ctx), id);
    exp->is_deleted = strcmp(cn_col_text(ctx, st, 3), "deleted") == 0;
    exp->creation_time_ms = cn_col_int(ctx, st, 4);
    exp->last_update_time_ms = cn_col_int(ctx, st, 5);
}

cairn_status cn_experiment_load_tags(cairn_ctx *ctx, cn_arena *a, void *item)
{
    cairn_experiment *exp = item;
    cn_stmt *st = NULL;
    cairn_status rc =
        cn_store_query(ctx, &st,
                       "SELECT key, value FROM experiment_tags WHERE experiment_id = ? "
                       "ORDER BY key",
                       "i", (int64_t)strtoll(exp->experiment_id, NULL, 10));
    return rc == CAIRN_OK ? cn_store_read_tags(ctx, st, a, &exp->tags, &exp->n_tags) : rc;
}

static cairn_status get_where(cairn_ctx *ctx, const char *where, const char *types, const void *arg,
                              const char *what, cairn_experiment **out)
{
    cn_arena *a = NULL;
    cn_stmt *st = NULL;
    void *item = NULL;
    char sql[256];
    *out = NULL;
    cairn_status rc = cn_need_store(ctx);
    if (rc != CAIRN_OK)
        return rc;
    snprintf(sql, sizeof sql, "SELECT " CN_EXPERIMENT_COLUMNS " FROM experiments e WHERE %s",
             where);
    if (types[0] == 'i')
        rc = cn_store_query(ctx, &st, sql, types, *(const int64_t *)arg);
    else
        rc = cn_store_query(ctx, &st, sql, types, (const char *)arg);
    if (rc == CAIRN_OK)
        rc = cn_store_read_one(ctx, st, sizeof **out, cn_experiment_from_row,
                               cn_experiment_load_tags, &item, &a);
    if (rc == CAIRN_OK && !item)
        return cn_fail(ctx, CAIRN_ENOTFOUND, "no experiment %s", what);
    if (rc != CAIRN_OK)
        return rc;
    *out = item;
    (*out)->internal_ = a;
    return CAIRN_OK;
}

cairn_status cn_store_experiment_get(cairn_ctx *ctx, const char *experiment_id,
                                     cairn_experiment **out)
{
    *out = NULL;
    cairn_status rc = cn_validate_experiment_id(ctx, experiment_id);
    if (rc != CAIRN_OK)
        return rc;
    int64_t id = strtoll(experiment_id, NULL, 10);
    char what[96];
    snprintf(what, sizeof what, "with id '%s'", experiment_id);
    return get_where(ctx, "e.experiment_id = ?", "i", &id, what, out);
}

cairn_status cn_store_experiment_get_by_name(cairn_ctx *ctx, const char *name,
                                             cairn_experiment **out)
{
    *out = NULL;
    if (!name || !*name)
        return cn_fail(ctx, CAIRN_EINVAL, "missing experiment name");
    cn_buf what = CN_BUF_INIT;
    cn_buf_printf(&what, "named '%s'", name);
    cairn_status rc = get_where(ctx, "e.name = ?", "s", name, what.data, out);
    cn_buf_release(&what);
    return rc;
}

cairn_status cn_store_experiment_create(cairn_ctx *ctx, const char *name,
                                        const char *artifact_location, const cairn_tag *tags,
                                        size_t n_tags, char **id_out)
{
    cn_stmt *st = NULL;
    cn_buf upsert = CN_BUF_INIT;
    *id_out = NULL;
    cairn_status rc = cn_store_begin(ctx);
    if (rc != CAIRN_OK)
        return rc;
    rc = cn_store_query(ctx, &st, "SELECT lifecycle_stage FROM experiments WHERE name = ?", "s",
                        name);
    if (rc != CAIRN_OK)
        goto fail;
    int r = cn_store_step(ctx, st);
    if (r == CN_DB_ROW) {
        bool deleted = strcmp(cn_col_text(ctx, st, 0), "deleted") == 0;
        cn_store_finalize(ctx, st);
        st = NULL;
        rc = cn_fail(
            ctx, CAIRN_EEXIST,
            deleted ? "experiment '%s' already exists (deleted); restore it or pick another name"
                    : "experiment '%s' already exists",
            name);
        goto fail;
    }
    cn_store_finalize(ctx, st);
    st = NULL;
    if (r != CN_DB_DONE) {
        rc = (cairn_status)r; /* the name check itself failed: do not insert blindly */
        goto fail;
    }
    int64_t now = cn_now_ms();
    rc = cn_store_query(ctx, &st,
                        "INSERT INTO experiments (name, artifact_location, lifecycle_stage, "
                        "creation_time, last_update_time) VALUES (?, ?, 'active', ?, ?) "
                        "RETURNING experiment_id",
                        "ssii", name, artifact_location ? artifact_location : "", now, now);
    if (rc != CAIRN_OK)
        goto fail;
    r = cn_store_step(ctx, st);
    if (r == CN_DB_DONE)
        rc = cn_fail(ctx, CAIRN_EINTERNAL, "experiment insert returned no id");
    else if (r == CAIRN_EEXIST) /* another process took the name since our check */
        rc = cn_fail(ctx, CAIRN_EEXIST, "experiment '%s' already exists", name);
    else if (r != CN_DB_ROW)
        rc = (cairn_status)r;
    if (rc != CAIRN_OK)
        goto fail;
    int64_t id = cn_col_int(ctx, st, 0);
    cn_store_finalize(ctx, st);
    st = NULL;
    cn_store_upsert_sql(&upsert, "experiment_tags", "experiment_id, key, value",
                        "experiment_id, key", NULL);
    for (size_t i = 0; i < n_tags; i++) {
        rc = cn_store_run(ctx, upsert.data, "iss", id, tags[i].key, tags[i].value);
        if (rc != CAIRN_OK)
            goto fail;
    }
    cn_buf_release(&upsert);
    rc = cn_store_commit(ctx);
    if (rc != CAIRN_OK)
        return rc;
    *id_out = cn_asprintf("%lld", (long long)id);
    return CAIRN_OK;
fail:
    cn_buf_release(&upsert);
    cn_store_finalize(ctx, st);
    cn_store_rollback(ctx);
    return rc;
}

/* Runs an update on one experiment and turns "no row changed" into ENOTFOUND. */
static cairn_status require_experiment(cairn_ctx *ctx, const char *experiment_id, int64_t *id,
                                       bool *is_deleted)
{
    cairn_experiment *exp = NULL;
    cairn_status rc = cn_store_experiment_get(ctx, experiment_id, &exp);
    if (rc != CAIRN_OK)
        return rc;
    *id = strtoll(exp->experiment_id, NULL, 10);
    if (is_deleted)
        *is_deleted = exp->is_deleted;
    cairn_experiment_free(exp);
    return CAIRN_OK;
}

/* require_experiment for a change the experiment must be active for: EINVAL "experiment 'X' is
 * deleted; restore it before <doing>" when it is deleted. */
static cairn_status require_active_experiment(cairn_ctx *ctx, const char *experiment_id,
                                              const char *doing, int64_t *id)
{
    bool deleted;
    cairn_status rc = require_experiment(ctx, experiment_id, id, &deleted);
    if (rc == CAIRN_OK && deleted)
        return cn_fail(ctx, CAIRN_EINVAL, "experiment '%s' is deleted; restore it before %s",
                       experiment_id, doing);
    return rc;
}

cairn_status cn_store_experiment_rename(cairn_ctx *ctx, const char *experiment_id,
                                        const char *new_name)
{
    int64_t id;
    cairn_status rc = require_active_experiment(ctx, experiment_id, "renaming", &id);
    if (rc != CAIRN_OK)
        return rc;
    rc = cn_store_run(
        ctx, "UPDATE experiments SET name = ?, last_update_time = ? WHERE experiment_id = ?", "sii",
        new_name, cn_now_ms(), id);
    if (rc == CAIRN_EEXIST)
        return cn_fail(ctx, CAIRN_EEXIST, "experiment '%s' already exists", new_name);
    return rc;
}

cairn_status cn_store_experiment_set_tag(cairn_ctx *ctx, const char *experiment_id, const char *key,
                                         const char *value)
{
    int64_t id;
    cairn_status rc = require_active_experiment(ctx, experiment_id, "tagging", &id);
    if (rc != CAIRN_OK)
        return rc;
    cn_buf sql = CN_BUF_INIT;
    cn_store_upsert_sql(&sql, "experiment_tags", "experiment_id, key, value", "experiment_id, key",
                        NULL);
    rc = cn_store_run(ctx, sql.data, "iss", id, key, value);
    cn_buf_release(&sql);
    return rc;
}

cairn_status cn_store_experiment_delete_tag(cairn_ctx *ctx, const char *experiment_id,
                                            const char *key)
{
    int64_t id;
    cairn_status rc = require_experiment(ctx, experiment_id, &id, NULL);
    if (rc != CAIRN_OK)
        return rc;
    return cn_store_run(ctx, "DELETE FROM experiment_tags WHERE experiment_id = ? AND key = ?",
                        "is", id, key);
}

cairn_status cn_store_experiment_set_deleted(cairn_ctx *ctx, const char *experiment_id,
                                             bool deleted)
{
    int64_t id;
    cairn_status rc = require_experiment(ctx, experiment_id, &id, NULL);
    if (rc != CAIRN_OK)
        return rc;
    if (id == 0 && deleted)
        return cn_fail(ctx, CAIRN_EINVAL, "the Default experiment (id 0) cannot be deleted");
    int64_t now = cn_now_ms();
    rc = cn_store_begin(ctx);
    if (rc != CAIRN_OK)
        return rc;
    rc = cn_store_run(ctx,
                      "UPDATE experiments SET lifecycle_stage = ?, last_update_time = ? "
                      "WHERE experiment_id = ?",
                      "sii", deleted ? "deleted" : "active", now, id);
    if (rc == CAIRN_OK) {
        /* A deleted experiment's runs are deleted with it, and restored with it. */
        if (deleted)
            rc = cn_store_run(ctx,
                              "UPDATE runs SET lifecycle_stage = 'deleted', deleted_time = ? "
                              "WHERE experiment_id = ? AND lifecycle_stage = 'active'",
                              "ii", now, id);
        else
            rc = cn_store_run(ctx,
                              "UPDATE runs SET lifecycle_stage = 'active', deleted_time = NULL "
                              "WHERE experiment_id = ? AND lifecycle_stage = 'deleted'",
                              "i", id);
    }
    if (rc != CAIRN_OK) {
        cn_store_rollback(ctx);
        return rc;
    }
    return cn_store_commit(ctx);
}
