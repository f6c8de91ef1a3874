/* SPDX-License-Identifier: MIT */
/* runs.c - the public run functions that take a run id (create, update, log a batch, tags,
 * inputs, read, search, delete): validate the arguments and apply the defaults, then call the
 * context's store through its operations table (store/store_ops.h). No SQL here. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/core.h"
#include "core/key.h"
#include "core/text.h"
#include "tracking/runs.h"
#include "base/arena.h"
#include "base/buf.h"
#include "base/fs.h"
#include "base/rng.h"
#include "base/str.h"
#include "base/time.h"
#include "base/xmalloc.h"
#include "base/banned.h"

static const char *const adjectives[] = {
    "brave", "calm",   "clever", "eager", "gentle", "bold",  "bright", "quiet", "swift", "wise",
    "amber", "silver", "rustic", "lucky", "merry",  "noble", "proud",  "sunny", "tidy",  "vivid"};
static const char *const nouns[] = {"owl",   "fox",   "heron",  "otter", "lynx",  "wren", "bison",
                                    "crane", "finch", "hare",   "ibex",  "koala", "lark", "marten",
                                    "newt",  "orca",  "puffin", "raven", "stoat", "yak"};

static char *generated_name(void)
{
    unsigned char r[3];
    cn_random_bytes(r, sizeof r);
    return cn_asprintf("%s-%s-%u", adjectives[r[0] % CN_ARRAY_LEN(adjectives)],
                       nouns[r[1] % CN_ARRAY_LEN(nouns)], (unsigned)r[2] % 100);
}

/* The experiment id opts names (experiment_id, else experiment, else "Default"), which must
 * exist and be active. */
static cairn_status resolve_experiment(cairn_ctx *ctx, const cairn_run_opts *opts, char **id_out)
{
    cairn_experiment *exp = NULL;
    char *exp_id = NULL;
    cairn_status rc;
    *id_out = NULL;
    if (opts->experiment_id) {
        rc = cairn_experiment_get(ctx, opts->experiment_id, &exp);
    } else {
        rc = cairn_experiment_ensure(ctx, opts->experiment ? opts->experiment : "Default", &exp_id);
        if (rc == CAIRN_OK)
            rc = cairn_experiment_get(ctx, exp_id, &exp);
    }
    if (rc == CAIRN_OK && exp->is_deleted)
        rc = cn_fail(ctx, CAIRN_EINVAL,
                     "experiment '%s' is deleted; restore it before starting runs", exp->name);
    if (rc == CAIRN_OK)
        *id_out = cn_xstrdup(exp->experiment_id);
    cairn_experiment_free(exp);
    free(exp_id);
    return rc;
}

/* A value of a keyed thing ("param 'lr' value"): valid UTF-8. The key was checked first. */
static cairn_status check_value(cairn_ctx *ctx, const char *kind, const char *key,
                                const char *value)
{
    char what[CAIRN_KEY_MAX + 32];
    snprintf(what, sizeof what, "%s '%s' value", kind, key);
    return cn_text_check(ctx, what, value);
}

/* Everything cn_runs_create writes, checked before anything (an experiment) is created. */
static cairn_status check_run_opts(cairn_ctx *ctx, const cairn_run_opts *opts)
{
    cairn_status rc = cn_text_check(ctx, "run name", opts->name);
    if (rc == CAIRN_OK)
        rc = cn_text_check(ctx, "run user", opts->user);
    if (rc == CAIRN_OK && !opts->experiment_id)
        rc = cn_text_check(ctx, "experiment name", opts->experiment);
    if (rc == CAIRN_OK)
        rc = cn_text_check(ctx, "experiment id", opts->experiment_id);
    for (size_t i = 0; rc == CAIRN_OK && i < opts->n_tags; i++) {
        rc = cn_key_check(ctx, "tag", opts->tags[i].key);
        if (rc == CAIRN_OK)
            rc = check_value(ctx, "tag", opts->tags[i].key, opts->tags[i].value);
    }
    return rc;
}

cairn_status cn_runs_create(cairn_ctx *ctx, const cairn_run_opts *opts,
                            int64_t heartbeat_interval_ms, cn_run_row *out)
{
    static const cairn_run_opts defaults = CAIRN_RUN_OPTS_INIT;
    char *exp_id = NULL, *name = NULL, *user = NULL;

    memset(out, 0, sizeof *out);
    if (!opts)
        opts = &defaults;
    cairn_status rc = cn_need_store(ctx);
    if (rc == CAIRN_OK)
        rc = check_run_opts(ctx, opts);
    if (rc == CAIRN_OK)
        rc = resolve_experiment(ctx, opts, &exp_id);
    if (rc != CAIRN_OK)
        goto done;
    name = opts->name && *opts->name ? cn_xstrdup(opts->name) : generated_name();
    user = opts->user ? cn_xstrdup(opts->user) : cn_login_name();
    cn_run_new in = {.experiment_id = exp_id,
                     .name = name,
                     .user = user,
                     .start_ms = opts->start_ms ? opts->start_ms : cn_now_ms(),
                     .tags = opts->tags,
                     .n_tags = opts->n_tags,
                     .heartbeat_interval_ms = heartbeat_interval_ms};
    rc = CN_STORE_OPS(ctx)->run_create(ctx, &in, out);
    if (rc == CAIRN_OK && cn_fs_mkdirs(out->artifact_dir, 0755) != 0)
        cn_log(ctx, CAIRN_LOG_WARN, "tracking", "cannot create artifact folder '%s': %s",
               out->artifact_dir, strerror(errno));
done:
    free(exp_id);
    free(name);
    free(user);
    return rc;
}

cairn_status cairn_runs_create(cairn_ctx *ctx, const cairn_run_opts *opts, char **run_id_out)
{
    cn_run_row row;
    *run_id_out = NULL;
    cairn_status rc = cn_runs_create(ctx, opts, 0, &row);
    if (rc == CAIRN_OK)
        *run_id_out = cn_xstrdup(row.run_id);
    cn_run_row_release(&row);
    return rc;
}

cairn_status cairn_runs_update(cairn_ctx *ctx, const char *run_id, const cairn_run_update *u)
{
    cairn_status rc = cn_need_store(ctx);
    if (rc != CAIRN_OK)
        return rc;
    if (u->status && !cairn_run_status_str(u->status))
        return cn_fail(ctx, CAIRN_EINVAL, "invalid run status %d", (int)u->status);
    if (u->name && !*u->name)
        return cn_fail(ctx, CAIRN_EINVAL, "run name is empty");
    rc = cn_text_check(ctx, "run name", u->name);
    if (rc != CAIRN_OK)
        return rc;
    if (u->end_ms < 0)
        return cn_fail(ctx, CAIRN_EINVAL, "run '%s': negative end time", run_id);
    return CN_STORE_OPS(ctx)->run_update(ctx, run_id, u);
}

static cairn_status check_batch(cairn_ctx *ctx, const cairn_metric *metrics, size_t n_metrics,
                                const cairn_param *params, size_t n_params, const cairn_tag *tags,
                                size_t n_tags)
{
    cairn_status rc;
    for (size_t i = 0; i < n_metrics; i++) {
        rc = cn_key_check(ctx, "metric", metrics[i].key);
        if (rc != CAIRN_OK)
            return rc;
        if (metrics[i].timestamp_ms < 0)
            return cn_fail(ctx, CAIRN_EINVAL, "metric '%s': negative timestamp %lld",
                           metrics[i].key, (long long)metrics[i].timestamp_ms);
    }
    for (size_t i = 0; i < n_params; i++) {
        rc = cn_key_check(ctx, "param", params[i].key);
        if (rc != CAIRN_OK)
            return rc;
        if (!params[i].value)
            return cn_fail(ctx, CAIRN_EINVAL, "param '%s': missing value", params[i].key);
        rc = check_value(ctx, "param", params[i].key, params[i].value);
        if (rc != CAIRN_OK)
            return rc;
        for (size_t j = 0; j < i; j++)
            if (strcmp(params[j].key, params[i].key) == 0 &&
                strcmp(params[j].value, params[i].value) != 0)
                return cn_fail(ctx, CAIRN_EINVAL,
                               "param '%s' appears twice in one batch with different values",
                               params[i].key);
    }
    for (size_t i = 0; i < n_tags; i++) {
        rc = cn_key_check(ctx, "tag", tags[i].key);
        if (rc != CAIRN_OK)
            return rc;
        if (!tags[i].value)
            return cn_fail(ctx, CAIRN_EINVAL, "tag '%s': missing value", tags[i].key);
        rc = check_value(ctx, "tag", tags[i].key, tags[i].value);
        if (rc != CAIRN_OK)
            return rc;
    }
    return CAIRN_OK;
}

cairn_status cairn_runs_log_batch(cairn_ctx *ctx, const char *run_id, const cairn_metric *metrics,
                                  size_t n_metrics, const cairn_param *params, size_t n_params,
                                  const cairn_tag *tags, size_t n_tags)
{
    cairn_status rc = check_batch(ctx, metrics, n_metrics, params, n_params, tags, n_tags);
    if (rc == CAIRN_OK)
        rc = cn_need_store(ctx);
    if (rc != CAIRN_OK)
        return rc;
    return CN_STORE_OPS(ctx)->log_batch(ctx, run_id, metrics, n_metrics, params, n_params, tags,
                                        n_tags);
}

cairn_status cairn_runs_log_batches(cairn_ctx *ctx, const cairn_run_batch *batches, size_t n,
                                    cairn_status *each, char **messages)
{
    char **msgs = messages ? messages : cn_xcalloc(n ? n : 1, sizeof *msgs);
    cairn_run_batch *valid = cn_xmalloc((n ? n : 1) * sizeof *valid);
    size_t *where = cn_xmalloc((n ? n : 1) * sizeof *where);
    cairn_status *valid_each = cn_xmalloc((n ? n : 1) * sizeof *valid_each);
    char **valid_msgs = cn_xcalloc(n ? n : 1, sizeof *valid_msgs);
    size_t n_valid = 0;
    cairn_status need = cn_need_store(ctx);
    for (size_t i = 0; i < n; i++) {
        const cairn_run_batch *b = &batches[i];
        cairn_status st = need;
        if (st == CAIRN_OK && !b->run_id)
            st = cn_fail(ctx, CAIRN_EINVAL, "batch %zu has no run id", i);
        if (st == CAIRN_OK)
            st = check_batch(ctx, b->metrics, b->n_metrics, b->params, b->n_params, b->tags,
                             b->n_tags);
        each[i] = st;
        msgs[i] = st == CAIRN_OK ? NULL : cn_xstrdup(cairn_errmsg(ctx));
        if (st == CAIRN_OK) {
            valid[n_valid] = *b;
            where[n_valid++] = i;
        }
    }
    cairn_status rc = CAIRN_OK;
    if (n_valid && CN_STORE_OPS(ctx)->log_batches) {
        rc = CN_STORE_OPS(ctx)->log_batches(ctx, valid, n_valid, valid_each, valid_msgs);
    } else { /* a store without group commit (the REST one): one batch after the other */
        for (size_t k = 0; k < n_valid; k++) {
            const cairn_run_batch *b = &valid[k];
            valid_each[k] =
                CN_STORE_OPS(ctx)->log_batch(ctx, b->run_id, b->metrics, b->n_metrics, b->params,
                                             b->n_params, b->tags, b->n_tags);
            if (valid_each[k] != CAIRN_OK)
                valid_msgs[k] = cn_xstrdup(cairn_errmsg(ctx));
        }
    }
    for (size_t k = 0; k < n_valid; k++) {
        if (rc != CAIRN_OK) { /* the store failed the call as a whole */
            free(valid_msgs[k]);
            valid_each[k] = rc;
            valid_msgs[k] = cn_xstrdup(cairn_errmsg(ctx));
        }
        each[where[k]] = valid_each[k];
        msgs[where[k]] = valid_msgs[k];
    }
    size_t n_failed = 0, first = n;
    for (size_t i = 0; i < n; i++)
        if (each[i] != CAIRN_OK) {
            n_failed++;
            if (first == n)
                first = i;
        }
    if (n_failed)
        rc = cn_fail(ctx, each[first], "%zu of %zu batches failed; batch %zu (run '%s'): %s",
                     n_failed, n, first, batches[first].run_id ? batches[first].run_id : "",
                     msgs[first] ? msgs[first] : cairn_status_str(each[first]));
    else
        rc = CAIRN_OK;
    if (!messages) {
        for (size_t i = 0; i < n; i++)
            free(msgs[i]);
        free(msgs);
    }
    free(valid);
    free(where);
    free(valid_each);
    free(valid_msgs);
    return rc;
}

cairn_status cairn_runs_set_tag(cairn_ctx *ctx, const char *run_id, const char *key,
                                const char *value)
{
    cairn_tag t = {key, value};
    return cairn_runs_log_batch(ctx, run_id, NULL, 0, NULL, 0, &t, 1);
}

cairn_status cairn_runs_delete_tag(cairn_ctx *ctx, const char *run_id, const char *key)
{
    cairn_status rc = cn_key_check(ctx, "tag", key);
    if (rc == CAIRN_OK)
        rc = cn_need_store(ctx);
    return rc == CAIRN_OK ? CN_STORE_OPS(ctx)->delete_tag(ctx, run_id, key) : rc;
}

cairn_status cairn_runs_heartbeat(cairn_ctx *ctx, const char *run_id, int64_t beat_ms,
                                  int64_t interval_ms)
{
    cairn_status rc = cn_need_store(ctx);
    if (rc != CAIRN_OK)
        return rc;
    if (beat_ms < 0 || interval_ms < 0 || (beat_ms > 0 && interval_ms == 0))
        return cn_fail(ctx, CAIRN_EINVAL,
                       "heartbeat of run '%s': beat_ms and interval_ms must be positive (beat_ms 0 "
                       "clears the heartbeat)",
                       run_id ? run_id : "");
    cn_run_row row;
    rc = CN_STORE_OPS(ctx)->run_lookup(ctx, run_id, &row);
    if (rc != CAIRN_OK)
        return rc;
    cn_run_row_release(&row);
    return CN_STORE_OPS(ctx)->run_heartbeat(ctx, run_id, beat_ms, interval_ms);
}

cairn_status cairn_runs_record_artifact(cairn_ctx *ctx, const char *run_id, const char *path,
                                        int64_t size_bytes, const char *sha256)
{
    cairn_status rc = cn_need_store(ctx);
    if (rc != CAIRN_OK)
        return rc;
    if (!path || !cn_path_is_safe_relative(path))
        return cn_fail(ctx, CAIRN_EINVAL,
                       "invalid artifact path '%s': use a relative path without '..' or '.' parts",
                       path ? path : "");
    if (!sha256 || strlen(sha256) != 64 || size_bytes < 0)
        return cn_fail(ctx, CAIRN_EINVAL, "artifact '%s': a size and a 64-hex SHA-256 are needed",
                       path);
    cn_run_row row;
    rc = CN_STORE_OPS(ctx)->run_lookup(ctx, run_id, &row);
    if (rc != CAIRN_OK)
        return rc;
    cn_run_row_release(&row);
    return CN_STORE_OPS(ctx)->record_artifact(ctx, run_id, path, size_bytes, sha256);
}

cairn_status cairn_runs_log_inputs(cairn_ctx *ctx, const char *run_id,
                                   const cairn_dataset_input *inputs, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const cairn_dataset_input *in = &inputs[i];
        if (!in->name || !*in->name || !in->digest || !*in->digest)
            return cn_fail(ctx, CAIRN_EINVAL, "dataset input needs a name and a digest");
        if (strlen(in->name) > 500)
            return cn_fail(ctx, CAIRN_EINVAL, "dataset name longer than 500 characters");
        const char *fields[] = {in->name,   in->digest,  in->source_type, in->source,
                                in->schema, in->profile, in->context};
        const char *names[] = {"name",   "digest",  "source type", "source",
                               "schema", "profile", "context"};
        for (size_t f = 0; f < CN_ARRAY_LEN(fields); f++) {
            char what[64];
            snprintf(what, sizeof what, "dataset input %s", names[f]);
            cairn_status rc = cn_text_check(ctx, what, fields[f]);
            if (rc != CAIRN_OK)
                return rc;
        }
    }
    cairn_status rc = cn_need_store(ctx);
    return rc == CAIRN_OK ? CN_STORE_OPS(ctx)->log_inputs(ctx, run_id, inputs, n) : rc;
}

/* ---- reading and lifecycle ---- */

cairn_status cairn_run_get(cairn_ctx *ctx, const char *run_id, cairn_run_record **out)
{
    *out = NULL;
    cairn_status rc = cn_need_store(ctx);
    return rc == CAIRN_OK ? CN_STORE_OPS(ctx)->run_get(ctx, run_id, out) : rc;
}

cairn_status cairn_runs_search(cairn_ctx *ctx, const cairn_run_search *q, cairn_run_page **out)
{
    *out = NULL;
    cairn_status rc = cn_need_store(ctx);
    return rc == CAIRN_OK ? CN_STORE_OPS(ctx)->runs_search(ctx, q, out) : rc;
}

cairn_status cairn_experiment_keys(cairn_ctx *ctx, const char *const *experiment_ids,
                                   size_t n_experiment_ids, cairn_view view, cairn_key_kind kind,
                                   cairn_key_list **out)
{
    *out = NULL;
    cairn_status rc = cn_need_store(ctx);
    if (rc != CAIRN_OK)
        return rc;
    if (kind != CAIRN_KEY_METRIC && kind != CAIRN_KEY_PARAM && kind != CAIRN_KEY_TAG)
        return cn_fail(ctx, CAIRN_EINVAL, "unknown key kind %d", (int)kind);
    for (size_t i = 0; i < n_experiment_ids; i++) {
        int64_t v;
        if (!experiment_ids[i] || !cn_parse_int64(experiment_ids[i], &v) || v < 0)
            return cn_fail(ctx, CAIRN_EINVAL, "invalid experiment id '%.64s'",
                           experiment_ids[i] ? experiment_ids[i] : "");
    }
    return CN_STORE_OPS(ctx)->experiment_keys(ctx, experiment_ids, n_experiment_ids, view, kind,
                                              out);
}

CN_DEFINE_ARENA_FREE(cairn_key_list_free, cairn_key_list)

/* Characters a run id prefix may hold: none of LIKE's wildcards or quotes. */
static bool is_prefix_safe(const char *s)
{
    for (; *s; s++)
        if (!(*s >= '0' && *s <= '9') && !(*s >= 'a' && *s <= 'z') && !(*s >= 'A' && *s <= 'Z') &&
            *s != '-')
            return false;
    return true;
}

#define RESOLVE_SHOWN 10

cairn_status cairn_run_resolve(cairn_ctx *ctx, const char *id_or_prefix, char **out)
{
    *out = NULL;
    const char *prefix = id_or_prefix;
    size_t len = strlen(prefix);
    if (len == 0)
        return cn_fail(ctx, CAIRN_EINVAL, "no run id given");
    if (!is_prefix_safe(prefix))
        return cn_fail(ctx, CAIRN_ENOTFOUND,
                       "run '%s' not found; a run id holds letters, digits and '-' only", prefix);
    if (len < CAIRN_RUN_PREFIX_MIN)
        return cn_fail(ctx, CAIRN_ENOTFOUND,
                       "run '%s' not found; a run id prefix needs at least %d characters", prefix,
                       CAIRN_RUN_PREFIX_MIN);
    char *filter = cn_asprintf("attributes.run_id LIKE '%s%%'", prefix);
    cairn_run_search q = CAIRN_RUN_SEARCH_INIT;
    q.filter = filter;
    q.view = CAIRN_VIEW_ALL;
    q.info_only = true;
    q.max_results = RESOLVE_SHOWN + 1;
    cairn_run_page *page = NULL;
    cairn_status rc = cairn_runs_search(ctx, &q, &page);
    free(filter);
    if (rc != CAIRN_OK)
        return rc;
    const char *found = NULL;
    for (size_t i = 0; i < page->n; i++)
        if (strcmp(page->items[i].info.run_id, prefix) == 0)
            found = page->items[i].info.run_id;
    if (!found && page->n == 1)
        found = page->items[0].info.run_id;
    if (found) {
        *out = cn_xstrdup(found);
    } else if (page->n == 0) {
        rc = cn_fail(ctx, CAIRN_ENOTFOUND, "run '%s' not found; 'cairn runs list' shows run ids",
                     prefix);
    } else {
        cn_buf b = CN_BUF_INIT;
        for (size_t i = 0; i < page->n && i < RESOLVE_SHOWN; i++)
            cn_buf_printf(&b, "%s%s", i ? ", " : "", page->items[i].info.run_id);
        if (page->n > RESOLVE_SHOWN || page->next_page_token)
            cn_buf_puts(&b, ", ...");
        rc = cn_fail(ctx, CAIRN_EINVAL,
                     "run id prefix '%s' is ambiguous; it matches %s; give more characters", prefix,
                     cn_buf_str(&b));
        cn_buf_release(&b);
    }
    cairn_run_page_free(page);
    return rc;
}

cairn_status cairn_run_metric_history(cairn_ctx *ctx, const char *run_id, const char *key,
                                      const char *page_token, int64_t max_results,
                                      cairn_metric_page **out)
{
    *out = NULL;
    cairn_status rc = cn_need_store(ctx);
    if (rc != CAIRN_OK)
        return rc;
    return CN_STORE_OPS(ctx)->metric_history(ctx, run_id, key, page_token, max_results, out);
}

cairn_status cairn_run_delete(cairn_ctx *ctx, const char *run_id)
{
    cairn_status rc = cn_need_store(ctx);
    return rc == CAIRN_OK ? CN_STORE_OPS(ctx)->run_set_deleted(ctx, run_id, true) : rc;
}

cairn_status cairn_run_restore(cairn_ctx *ctx, const char *run_id)
{
    cairn_status rc = cn_need_store(ctx);
    return rc == CAIRN_OK ? CN_STORE_OPS(ctx)->run_set_deleted(ctx, run_id, false) : rc;
}

cairn_status cairn_run_artifacts_list(cairn_ctx *ctx, const char *run_id, const char *path,
                                      cairn_artifact_list **out)
{
    *out = NULL;
    cairn_status rc = cn_need_store(ctx);
    return rc == CAIRN_OK ? CN_STORE_OPS(ctx)->artifacts_list(ctx, run_id, path, out) : rc;
}
