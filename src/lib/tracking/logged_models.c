/* SPDX-License-Identifier: MIT */
/* logged_models.c - the public logged model functions (cairn/logged_model.h) and run outputs:
 * validate the arguments (key rules of core/key.c, UTF-8 of core/text.c, MLflow's name rule)
 * and apply the defaults, then call the context's store through its operations table
 * (store/store_ops.h). No SQL here. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/core.h"
#include "core/key.h"
#include "core/text.h"
#include "store/store_ops.h"
#include "base/fs.h"
#include "base/rng.h"
#include "base/str.h"
#include "base/xmalloc.h"
#include "base/banned.h"

/* A model's id: present and valid UTF-8 (whether it exists is the store's to say). */
static cairn_status check_id(cairn_ctx *ctx, const char *model_id)
{
    if (!model_id || !*model_id)
        return cn_fail(ctx, CAIRN_EINVAL, "missing logged model id");
    return cn_text_check(ctx, "logged model id", model_id);
}

/* The store, and the id of the model a call names. */
static cairn_status check_call(cairn_ctx *ctx, const char *model_id)
{
    cairn_status rc = cn_need_store(ctx);
    return rc == CAIRN_OK ? check_id(ctx, model_id) : rc;
}

static cairn_status check_count(cairn_ctx *ctx, const char *what, size_t n)
{
    if (n > CAIRN_LOGGED_MODEL_BATCH_MAX)
        return cn_fail(ctx, CAIRN_EINVAL, "%zu %s in one call; at most %d are allowed", n, what,
                       CAIRN_LOGGED_MODEL_BATCH_MAX);
    return CAIRN_OK;
}

/* A keyed value: a valid key, a value of valid UTF-8 of at most max bytes. */
static cairn_status check_pair(cairn_ctx *ctx, const char *kind, const cairn_param *p, size_t max)
{
    char what[CAIRN_KEY_MAX + 32];
    cairn_status rc = cn_key_check(ctx, kind, p->key);
    if (rc != CAIRN_OK)
        return rc;
    if (!p->value)
        return cn_fail(ctx, CAIRN_EINVAL, "%s '%s': missing value", kind, p->key);
    snprintf(what, sizeof what, "%s '%s' value", kind, p->key);
    rc = cn_text_check(ctx, what, p->value);
    if (rc == CAIRN_OK && strlen(p->value) > max)
        rc = cn_fail(ctx, CAIRN_EINVAL, "%s '%s': value longer than %zu characters", kind, p->key,
                     max);
    return rc;
}

static cairn_status check_params(cairn_ctx *ctx, const cairn_param *params, size_t n)
{
    cairn_status rc = check_count(ctx, "params", n);
    for (size_t i = 0; rc == CAIRN_OK && i < n; i++) {
        rc = check_pair(ctx, "param", &params[i], CAIRN_PARAM_VALUE_MAX);
        for (size_t j = 0; rc == CAIRN_OK && j < i; j++)
            if (strcmp(params[j].key, params[i].key) == 0 &&
                strcmp(params[j].value, params[i].value) != 0)
                rc = cn_fail(ctx, CAIRN_EINVAL,
                             "param '%s' appears twice in one call with different values",
                             params[i].key);
    }
    return rc;
}

static cairn_status check_tags(cairn_ctx *ctx, const cairn_tag *tags, size_t n)
{
    cairn_status rc = check_count(ctx, "tags", n);
    for (size_t i = 0; rc == CAIRN_OK && i < n; i++)
        rc = check_pair(ctx, "tag", &tags[i], CAIRN_TAG_VALUE_MAX);
    return rc;
}

/* MLflow's rule for logged model names: a 3.x client finds a model by the first segment of
 * an artifact path, so no separators or quotes. */
static cairn_status check_name(cairn_ctx *ctx, const char *name)
{
    cairn_status rc = cn_text_check(ctx, "logged model name", name);
    if (rc == CAIRN_OK)
        rc = cn_text_check_name(ctx, "logged model name", name, CAIRN_LOGGED_MODEL_NAME_MAX);
    if (rc == CAIRN_OK && name[strcspn(name, "/:.%\"'")] != '\0')
        rc = cn_fail(ctx, CAIRN_EINVAL,
                     "invalid logged model name '%.64s': it may not hold '/', ':', '.', '%%', "
                     "'\"' or '''",
                     name);
    return rc;
}

static cairn_status check_opts(cairn_ctx *ctx, const cairn_logged_model_opts *o)
{
    if (!o->experiment_id || !*o->experiment_id)
        return cn_fail(ctx, CAIRN_EINVAL, "a logged model needs an experiment id");
    cairn_status rc = cn_text_check(ctx, "experiment id", o->experiment_id);
    if (rc == CAIRN_OK && o->name && *o->name)
        rc = check_name(ctx, o->name);
    if (rc == CAIRN_OK)
        rc = cn_text_check(ctx, "logged model type", o->model_type);
    if (rc == CAIRN_OK)
        rc = cn_text_check(ctx, "source run id", o->source_run_id);
    if (rc == CAIRN_OK)
        rc = cn_text_check(ctx, "logged model creator", o->creator);
    if (rc == CAIRN_OK)
        rc = check_params(ctx, o->params, o->n_params);
    if (rc == CAIRN_OK)
        rc = check_tags(ctx, o->tags, o->n_tags);
    return rc;
}

cairn_status cairn_logged_model_create(cairn_ctx *ctx, const cairn_logged_model_opts *opts,
                                       cairn_logged_model **out)
{
    static const cairn_logged_model_opts defaults = CAIRN_LOGGED_MODEL_OPTS_INIT;
    char *name = NULL, *creator = NULL;
    *out = NULL;
    if (!opts)
        opts = &defaults;
    cairn_status rc = cn_need_store(ctx);
    if (rc == CAIRN_OK)
        rc = check_opts(ctx, opts);
    if (rc != CAIRN_OK)
        return rc;
    cairn_logged_model_opts o = *opts;
    if (!o.name || !*o.name) {
        unsigned char r[4];
        char hex[9];
        cn_random_bytes(r, sizeof r);
        cn_hex(r, sizeof r, hex);
        o.name = name = cn_asprintf("model-%s", hex);
    }
    if (!o.creator)
        o.creator = creator = cn_login_name();
    rc = CN_STORE_OPS(ctx)->logged_model_create(ctx, &o, out);
    if (rc == CAIRN_OK && cn_fs_mkdirs((*out)->artifact_location, 0755) != 0)
        cn_log(ctx, CAIRN_LOG_WARN, "tracking", "cannot create artifact folder '%s': %s",
               (*out)->artifact_location, strerror(errno));
    free(name);
    free(creator);
    return rc;
}

cairn_status cairn_logged_model_get(cairn_ctx *ctx, const char *model_id, cairn_logged_model **out)
{
    *out = NULL;
    cairn_status rc = check_call(ctx, model_id);
    return rc == CAIRN_OK ? CN_STORE_OPS(ctx)->logged_model_get(ctx, model_id, out) : rc;
}

cairn_status cairn_logged_model_finalize(cairn_ctx *ctx, const char *model_id,
                                         cairn_logged_model_status status,
                                         const char *status_message)
{
    cairn_status rc = check_call(ctx, model_id);
    if (rc != CAIRN_OK)
        return rc;
    if (!cairn_logged_model_status_str(status))
        return cn_fail(ctx, CAIRN_EINVAL, "invalid logged model status %d", (int)status);
    rc = cn_text_check(ctx, "logged model status message", status_message);
    if (rc != CAIRN_OK)
        return rc;
    return CN_STORE_OPS(ctx)->logged_model_finalize(ctx, model_id, status, status_message);
}

cairn_status cairn_logged_model_set_tags(cairn_ctx *ctx, const char *model_id,
                                         const cairn_tag *tags, size_t n)
{
    cairn_status rc = check_call(ctx, model_id);
    if (rc == CAIRN_OK)
        rc = check_tags(ctx, tags, n);
    return rc == CAIRN_OK ? CN_STORE_OPS(ctx)->logged_model_set_tags(ctx, model_id, tags, n) : rc;
}

cairn_status cairn_logged_model_delete_tag(cairn_ctx *ctx, const char *model_id, const char *key)
{
    cairn_status rc = check_call(ctx, model_id);
    if (rc == CAIRN_OK)
        rc = cn_key_check(ctx, "tag", key);
    return rc == CAIRN_OK ? CN_STORE_OPS(ctx)->logged_model_delete_tag(ctx, model_id, key) : rc;
}

cairn_status cairn_logged_model_log_params(cairn_ctx *ctx, const char *model_id,
                                           const cairn_param *params, size_t n)
{
    cairn_status rc = check_call(ctx, model_id);
    if (rc == CAIRN_OK)
        rc = check_params(ctx, params, n);
    return rc == CAIRN_OK ? CN_STORE_OPS(ctx)->logged_model_log_params(ctx, model_id, params, n)
                          : rc;
}

cairn_status cairn_logged_model_log_metrics(cairn_ctx *ctx, const char *model_id,
                                            const cairn_logged_model_metric *metrics, size_t n)
{
    cairn_status rc = check_call(ctx, model_id);
    if (rc == CAIRN_OK)
        rc = check_count(ctx, "metrics", n);
    for (size_t i = 0; rc == CAIRN_OK && i < n; i++) {
        const cairn_logged_model_metric *m = &metrics[i];
        rc = cn_key_check(ctx, "metric", m->key);
        if (rc == CAIRN_OK && m->timestamp_ms < 0)
            rc = cn_fail(ctx, CAIRN_EINVAL, "metric '%s': negative timestamp %lld", m->key,
                         (long long)m->timestamp_ms);
        if (rc == CAIRN_OK)
            rc = cn_text_check(ctx, "metric run id", m->run_id);
        if (rc == CAIRN_OK)
            rc = cn_text_check(ctx, "metric dataset name", m->dataset_name);
        if (rc == CAIRN_OK)
            rc = cn_text_check(ctx, "metric dataset digest", m->dataset_digest);
    }
    return rc == CAIRN_OK ? CN_STORE_OPS(ctx)->logged_model_log_metrics(ctx, model_id, metrics, n)
                          : rc;
}

cairn_status cairn_logged_model_delete(cairn_ctx *ctx, const char *model_id)
{
    cairn_status rc = check_call(ctx, model_id);
    return rc == CAIRN_OK ? CN_STORE_OPS(ctx)->logged_model_delete(ctx, model_id) : rc;
}

cairn_status cairn_logged_models_search(cairn_ctx *ctx, const cairn_logged_model_query *q,
                                        cairn_logged_model_page **out)
{
    static const cairn_logged_model_query defaults = CAIRN_LOGGED_MODEL_QUERY_INIT;
    *out = NULL;
    if (!q)
        q = &defaults;
    cairn_status rc = cn_need_store(ctx);
    if (rc == CAIRN_OK &&
        ((q->n_experiment_ids && !q->experiment_ids) || (q->n_order_by && !q->order_by)))
        rc = cn_fail(ctx, CAIRN_EINVAL, "logged model search: a count without its array");
    if (rc == CAIRN_OK)
        rc = cn_text_check(ctx, "filter", q->filter);
    for (size_t i = 0; rc == CAIRN_OK && i < q->n_experiment_ids; i++)
        rc = cn_text_check(ctx, "experiment id", q->experiment_ids[i]);
    return rc == CAIRN_OK ? CN_STORE_OPS(ctx)->logged_models_search(ctx, q, out) : rc;
}

cairn_status cairn_runs_log_outputs(cairn_ctx *ctx, const char *run_id,
                                    const cairn_run_output *outputs, size_t n)
{
    cairn_status rc = cn_need_store(ctx);
    if (rc == CAIRN_OK)
        rc = check_count(ctx, "outputs", n);
    for (size_t i = 0; rc == CAIRN_OK && i < n; i++)
        rc = check_id(ctx, outputs[i].model_id);
    return rc == CAIRN_OK ? CN_STORE_OPS(ctx)->run_log_outputs(ctx, run_id, outputs, n) : rc;
}
