/* SPDX-License-Identifier: MIT */
/* experiments.c - the public experiment functions: validate the arguments, then call the
 * context's store through its operations table (store/store_ops.h). No SQL here. */
#include <stdio.h>
#include <string.h>
#include "core/core.h"
#include "core/key.h"
#include "core/text.h"
#include "store/store_ops.h"
#include "base/arena.h"
#include "base/xmalloc.h"
#include "base/banned.h"

static cairn_status check_name(cairn_ctx *ctx, const char *name)
{
    cairn_status rc = cn_text_check_name(ctx, "experiment name", name, CAIRN_EXPERIMENT_NAME_MAX);
    return rc == CAIRN_OK ? cn_text_check(ctx, "experiment name", name) : rc;
}

static cairn_status check_tag(cairn_ctx *ctx, const char *key, const char *value)
{
    cairn_status rc = cn_key_check(ctx, "tag", key);
    if (rc != CAIRN_OK)
        return rc;
    if (!value)
        return cn_fail(ctx, CAIRN_EINVAL, "tag '%s': missing value", key);
    if (strlen(value) > CAIRN_EXPERIMENT_TAG_MAX)
        return cn_fail(ctx, CAIRN_EINVAL, "experiment tag '%s': value longer than %d characters",
                       key, CAIRN_EXPERIMENT_TAG_MAX);
    char what[CAIRN_KEY_MAX + 32];
    snprintf(what, sizeof what, "experiment tag '%s' value", key);
    return cn_text_check(ctx, what, value);
}

cairn_status cairn_experiment_create(cairn_ctx *ctx, const char *name,
                                     const char *artifact_location, const cairn_tag *tags,
                                     size_t n_tags, char **id_out)
{
    *id_out = NULL;
    cairn_status rc = cn_need_store(ctx);
    if (rc == CAIRN_OK)
        rc = check_name(ctx, name);
    if (rc == CAIRN_OK)
        rc = cn_text_check(ctx, "artifact location", artifact_location);
    for (size_t i = 0; rc == CAIRN_OK && i < n_tags; i++)
        rc = check_tag(ctx, tags[i].key, tags[i].value);
    if (rc != CAIRN_OK)
        return rc;
    return CN_STORE_OPS(ctx)->experiment_create(ctx, name, artifact_location, tags, n_tags, id_out);
}

cairn_status cairn_experiment_ensure(cairn_ctx *ctx, const char *name, char **id_out)
{
    cairn_experiment *exp = NULL;
    *id_out = NULL;
    for (int attempt = 0; attempt < 3; attempt++) {
        cairn_status rc = cairn_experiment_get_by_name(ctx, name, &exp);
        if (rc == CAIRN_OK) {
            if (exp->is_deleted) {
                rc = cn_fail(ctx, CAIRN_EINVAL,
                             "experiment '%s' is deleted; restore it with 'cairn exp restore' "
                             "or use another name",
                             name);
                cairn_experiment_free(exp);
                return rc;
            }
            *id_out = cn_xstrdup(exp->experiment_id);
            cairn_experiment_free(exp);
            return CAIRN_OK;
        }
        if (rc != CAIRN_ENOTFOUND)
            return rc;
        rc = cairn_experiment_create(ctx, name, NULL, NULL, 0, id_out);
        if (rc != CAIRN_EEXIST)
            return rc; /* created, or failed for another reason */
        /* Another process created it between our read and write: read again. */
    }
    return cn_fail(ctx, CAIRN_EDB, "experiment '%s': could not create or read it", name);
}

cairn_status cairn_experiment_get(cairn_ctx *ctx, const char *experiment_id, cairn_experiment **out)
{
    *out = NULL;
    cairn_status rc = cn_need_store(ctx);
    return rc == CAIRN_OK ? CN_STORE_OPS(ctx)->experiment_get(ctx, experiment_id, out) : rc;
}

cairn_status cairn_experiment_get_by_name(cairn_ctx *ctx, const char *name, cairn_experiment **out)
{
    *out = NULL;
    cairn_status rc = cn_need_store(ctx);
    if (rc == CAIRN_OK)
        rc = cn_text_check(ctx, "experiment name", name);
    return rc == CAIRN_OK ? CN_STORE_OPS(ctx)->experiment_get_by_name(ctx, name, out) : rc;
}

CN_DEFINE_ARENA_FREE(cairn_experiment_free, cairn_experiment)

cairn_status cairn_experiment_rename(cairn_ctx *ctx, const char *experiment_id,
                                     const char *new_name)
{
    cairn_status rc = check_name(ctx, new_name);
    if (rc == CAIRN_OK)
        rc = cn_need_store(ctx);
    return rc == CAIRN_OK ? CN_STORE_OPS(ctx)->experiment_rename(ctx, experiment_id, new_name) : rc;
}

cairn_status cairn_experiment_set_tag(cairn_ctx *ctx, const char *experiment_id, const char *key,
                                      const char *value)
{
    cairn_status rc = check_tag(ctx, key, value);
    if (rc == CAIRN_OK)
        rc = cn_need_store(ctx);
    return rc == CAIRN_OK ? CN_STORE_OPS(ctx)->experiment_set_tag(ctx, experiment_id, key, value)
                          : rc;
}

cairn_status cairn_experiment_delete_tag(cairn_ctx *ctx, const char *experiment_id, const char *key)
{
    cairn_status rc = cn_need_store(ctx);
    return rc == CAIRN_OK ? CN_STORE_OPS(ctx)->experiment_delete_tag(ctx, experiment_id, key) : rc;
}

cairn_status cairn_experiment_delete(cairn_ctx *ctx, const char *experiment_id)
{
    cairn_status rc = cn_need_store(ctx);
    return rc == CAIRN_OK ? CN_STORE_OPS(ctx)->experiment_set_deleted(ctx, experiment_id, true)
                          : rc;
}

cairn_status cairn_experiment_restore(cairn_ctx *ctx, const char *experiment_id)
{
    cairn_status rc = cn_need_store(ctx);
    return rc == CAIRN_OK ? CN_STORE_OPS(ctx)->experiment_set_deleted(ctx, experiment_id, false)
                          : rc;
}

cairn_status cairn_experiments_search(cairn_ctx *ctx, const cairn_experiment_search *q,
                                      cairn_experiment_page **out)
{
    *out = NULL;
    cairn_status rc = cn_need_store(ctx);
    return rc == CAIRN_OK ? CN_STORE_OPS(ctx)->experiments_search(ctx, q, out) : rc;
}
