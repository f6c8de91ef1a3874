/* SPDX-License-Identifier: MIT */
/* store_logged_models.c - the SQL store's MLflow 3.x logged models: create (with params and
 * tags, one transaction), read with tags, params, metrics and registrations, finalize, tags,
 * write-once params, metric points, soft delete, search (the search grammar of formats/filter.h
 * with a descriptor of its own, compiled here to SQL with bound values) and the run outputs
 * of LogOutputs. Arguments arrive validated (tracking/logged_models.c). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/core.h"
#include "store/search_sql.h"
#include "store/store.h"
#include "store/store_experiments.h"
#include "store/store_logged_models.h"
#include "store/store_runs.h"
#include "base/arena.h"
#include "base/buf.h"
#include "base/str.h"
#include "base/time.h"
#include "base/xmalloc.h"
#include "base/banned.h"

#define LIVE "lifecycle_stage = 'active'"
#define MODEL_COLUMNS                                                                              \
    "m.model_id, m.experiment_id, m.name, m.model_type, m.source_run_id, m.status, "               \
    "m.status_message, m.creator_id, m.creation_time, m.last_updated_time, m.artifact_location"

static const char *const status_names[] = {NULL, "LOGGED_MODEL_PENDING", "LOGGED_MODEL_READY",
                                           "LOGGED_MODEL_UPLOAD_FAILED"};

const char *cairn_logged_model_status_str(cairn_logged_model_status st)
{
    if ((int)st < 1 || (int)st > CAIRN_LOGGED_MODEL_UPLOAD_FAILED)
        return NULL;
    return status_names[st];
}

cairn_status cairn_logged_model_status_parse(cairn_ctx *ctx, const char *text,
                                             cairn_logged_model_status *out)
{
    for (int i = 1; i <= CAIRN_LOGGED_MODEL_UPLOAD_FAILED; i++)
        if (text && strcmp(text, status_names[i]) == 0) {
            *out = (cairn_logged_model_status)i;
            return CAIRN_OK;
        }
    return cn_fail(ctx, CAIRN_EINVAL,
                   "invalid logged model status '%s' (use LOGGED_MODEL_PENDING, "
                   "LOGGED_MODEL_READY or LOGGED_MODEL_UPLOAD_FAILED)",
                   text ? text : "");
}

/* Ends a write transaction: commit when rc is CAIRN_OK, else roll back and keep rc. */
static cairn_status end_txn(cairn_ctx *ctx, cairn_status rc)
{
    if (rc != CAIRN_OK) {
        cn_store_rollback(ctx);
        return rc;
    }
    return cn_store_commit(ctx);
}

static cairn_status not_found(cairn_ctx *ctx, const char *model_id)
{
    return cn_fail(ctx, CAIRN_ENOTFOUND, "no logged model with id '%.64s'", model_id);
}

/* Checks the model exists and is not deleted. */
static cairn_status require_model(cairn_ctx *ctx, const char *model_id)
{
    int64_t one;
    bool found;
    cairn_status rc = cn_store_query_int(ctx, &one, &found,
                                         "SELECT 1 FROM logged_models WHERE model_id = ? AND " LIVE,
                                         "s", model_id);
    if (rc == CAIRN_OK && !found)
        return not_found(ctx, model_id);
    return rc;
}

static cairn_status touch(cairn_ctx *ctx, const char *model_id)
{
    return cn_store_run(ctx, "UPDATE logged_models SET last_updated_time = ? WHERE model_id = ?",
                        "is", cn_now_ms(), model_id);
}

/* ---- loading rows ---- */

static void model_from_row(cairn_ctx *ctx, cn_stmt *st, cn_arena *a, void *item)
{
    cairn_logged_model *m = item;
    m->model_id = cn_arena_strdup(a, cn_col_text(ctx, st, 0));
    m->experiment_id = cn_arena_printf(a, "%lld", (long long)cn_col_int(ctx, st, 1));
    m->name = cn_arena_strdup(a, cn_col_text(ctx, st, 2));
    m->model_type = cn_arena_strdup(a, cn_col_text(ctx, st, 3));
    m->source_run_id = cn_arena_strdup(a, cn_col_text(ctx, st, 4));
    const char *status = cn_col_text(ctx, st, 5);
    m->status = CAIRN_LOGGED_MODEL_PENDING;
    for (int i = 1; i <= CAIRN_LOGGED_MODEL_UPLOAD_FAILED; i++)
        if (strcmp(status, status_names[i]) == 0)
            m->status = (cairn_logged_model_status)i;
    m->status_message = cn_arena_strdup(a, cn_col_text(ctx, st, 6));
    m->creator_id = cn_arena_strdup(a, cn_col_text(ctx, st, 7));
    m->creation_time_ms = cn_col_int(ctx, st, 8);
    m->last_updated_time_ms = cn_col_int(ctx, st, 9);
    m->artifact_location = cn_arena_strdup(a, cn_col_text(ctx, st, 10));
}

static cairn_status load_pairs(cairn_ctx *ctx, cn_arena *a, const char *sql, const char *model_id,
                               cairn_tag **pairs, size_t *n)
{
    cn_stmt *st = NULL;
    cairn_status rc = cn_store_query(ctx, &st, sql, "s", model_id);
    return rc == CAIRN_OK ? cn_store_read_tags(ctx, st, a, pairs, n) : rc;
}

static cairn_status load_metrics(cairn_ctx *ctx, cn_arena *a, cairn_logged_model *m)
{
    cn_stmt *st = NULL;
    size_t cap = 0;
    cairn_status rc = cn_store_query(ctx, &st,
                                     "SELECT key, value, is_nan, timestamp, step, run_id, "
                                     "dataset_name, dataset_digest FROM logged_model_metrics "
                                     "WHERE model_id = ? ORDER BY key, step, timestamp, run_id, "
                                     "dataset_name, dataset_digest",
                                     "s", m->model_id);
    if (rc != CAIRN_OK)
        return rc;
    int r;
    while ((r = cn_store_step(ctx, st)) == CN_DB_ROW) {
        m->metrics = cn_arena_grow(a, m->metrics, m->n_metrics, &cap, sizeof *m->metrics);
        cairn_logged_model_metric *p = &m->metrics[m->n_metrics++];
        p->key = cn_arena_strdup(a, cn_col_text(ctx, st, 0));
        p->value = cn_col_int(ctx, st, 2) ? NAN : cn_col_double(ctx, st, 1);
        p->timestamp_ms = cn_col_int(ctx, st, 3);
        p->step = cn_col_int(ctx, st, 4);
        p->run_id = cn_arena_strdup(a, cn_col_text(ctx, st, 5));
        p->dataset_name = cn_arena_strdup(a, cn_col_text(ctx, st, 6));
        p->dataset_digest = cn_arena_strdup(a, cn_col_text(ctx, st, 7));
    }
    cn_store_finalize(ctx, st);
    return r == CN_DB_DONE ? CAIRN_OK : (cairn_status)r;
}

static cairn_status load_registrations(cairn_ctx *ctx, cn_arena *a, cairn_logged_model *m)
{
    cn_stmt *st = NULL;
    size_t cap = 0;
    cairn_status rc = cn_store_query(ctx, &st,
                                     "SELECT name, version FROM model_versions WHERE model_id = ? "
                                     "AND current_stage <> 'Deleted_Internal' ORDER BY name, "
                                     "version",
                                     "s", m->model_id);
    if (rc != CAIRN_OK)
        return rc;
    int r;
    while ((r = cn_store_step(ctx, st)) == CN_DB_ROW) {
        m->registrations =
            cn_arena_grow(a, m->registrations, m->n_registrations, &cap, sizeof *m->registrations);
        m->registrations[m->n_registrations].name = cn_arena_strdup(a, cn_col_text(ctx, st, 0));
        m->registrations[m->n_registrations].version = cn_col_int(ctx, st, 1);
        m->n_registrations++;
    }
    cn_store_finalize(ctx, st);
    return r == CN_DB_DONE ? CAIRN_OK : (cairn_status)r;
}

/* Tags, params, metrics and registrations of a model read by model_from_row. */
static cairn_status model_complete(cairn_ctx *ctx, cn_arena *a, void *item)
{
    cairn_logged_model *m = item;
    cairn_status rc = load_pairs(
        ctx, a, "SELECT key, value FROM logged_model_tags WHERE model_id = ? ORDER BY key",
        m->model_id, &m->tags, &m->n_tags);
    if (rc == CAIRN_OK)
        rc = load_pairs(
            ctx, a, "SELECT key, value FROM logged_model_params WHERE model_id = ? ORDER BY key",
            m->model_id, &m->params, &m->n_params);
    if (rc == CAIRN_OK)
        rc = load_metrics(ctx, a, m);
    if (rc == CAIRN_OK)
        rc = load_registrations(ctx, a, m);
    return rc;
}

cairn_status cn_store_logged_model_get(cairn_ctx *ctx, const char *model_id,
                                       cairn_logged_model **out)
{
    cn_stmt *st = NULL;
    cn_arena *a = NULL;
    void *item = NULL;
    *out = NULL;
    cairn_status rc = cn_store_query(
        ctx, &st, "SELECT " MODEL_COLUMNS " FROM logged_models m WHERE m.model_id = ? AND m." LIVE,
        "s", model_id);
    if (rc == CAIRN_OK)
        rc = cn_store_read_one(ctx, st, sizeof **out, model_from_row, model_complete, &item, &a);
    if (rc == CAIRN_OK && !item)
        return not_found(ctx, model_id);
    if (rc != CAIRN_OK)
        return rc;
    *out = item;
    (*out)->internal_ = a;
    return CAIRN_OK;
}

CN_DEFINE_ARENA_FREE(cairn_logged_model_free, cairn_logged_model)
CN_DEFINE_ARENA_FREE(cairn_logged_model_page_free, cairn_logged_model_page)

/* ---- writers ---- */

static cairn_status upsert_tags(cairn_ctx *ctx, const char *model_id, const cairn_tag *tags,
                                size_t n)
{
    cn_buf sql = CN_BUF_INIT;
    cairn_status rc = CAIRN_OK;
    cn_store_upsert_sql(&sql, "logged_model_tags", "model_id, key, value", "model_id, key", NULL);
    for (size_t i = 0; rc == CAIRN_OK && i < n; i++)
        rc = cn_store_run(ctx, sql.data, "sss", model_id, tags[i].key, tags[i].value);
    cn_buf_release(&sql);
    return rc;
}

static cairn_status insert_params(cairn_ctx *ctx, const char *model_id, const cairn_param *params,
                                  size_t n)
{
    cairn_status rc = CAIRN_OK;
    for (size_t i = 0; rc == CAIRN_OK && i < n; i++) {
        cn_stmt *st = NULL;
        rc = cn_store_query(ctx, &st,
                            "SELECT value FROM logged_model_params WHERE model_id = ? AND key = ?",
                            "ss", model_id, params[i].key);
        if (rc != CAIRN_OK)
            break;
        int r = cn_store_step(ctx, st);
        if (r == CN_DB_ROW) {
            const char *old = cn_col_text(ctx, st, 0);
            if (strcmp(old, params[i].value) != 0)
                rc = cn_fail(ctx, CAIRN_EINVAL,
                             "param '%s' of logged model '%s' is already '%.200s'; params are "
                             "write-once, so '%.200s' was refused (log a new model, or use a tag "
                             "for a value that changes)",
                             params[i].key, model_id, old, params[i].value);
            cn_store_finalize(ctx, st);
            continue;
        }
        cn_store_finalize(ctx, st);
        if (r != CN_DB_DONE) {
            rc = (cairn_status)r;
            break;
        }
        rc = cn_store_run(ctx,
                          "INSERT INTO logged_model_params (model_id, key, value) VALUES (?, ?, ?)",
                          "sss", model_id, params[i].key, params[i].value);
    }
    return rc;
}

/* <experiment location>/models/<model id>/artifacts, without a file:// prefix. */
static char *model_dir(const char *experiment_location, const char *model_id)
{
    const char *loc = experiment_location;
    if (cn_str_starts(loc, "file://"))
        loc += strlen("file://");
    size_t len = strlen(loc);
    while (len > 1 && loc[len - 1] == '/')
        len--;
    return cn_asprintf("%.*s/models/%s/artifacts", (int)len, loc, model_id);
}

cairn_status cn_store_logged_model_create(cairn_ctx *ctx, const cairn_logged_model_opts *opts,
                                          cairn_logged_model **out)
{
    cairn_experiment *exp = NULL;
    char *dir = NULL;
    char uuid[33], model_id[36];
    *out = NULL;
    cairn_status rc = cn_store_experiment_get(ctx, opts->experiment_id, &exp);
    if (rc != CAIRN_OK)
        return rc;
    if (exp->is_deleted) {
        rc = cn_fail(ctx, CAIRN_EINVAL,
                     "experiment '%s' is deleted; restore it before logging models to it",
                     exp->name);
        goto done;
    }
    if (opts->source_run_id && *opts->source_run_id) {
        cn_run_row run;
        rc = cn_store_run_lookup(ctx, opts->source_run_id, &run);
        cn_run_row_release(&run);
        if (rc != CAIRN_OK) {
            cn_errctx(ctx, "source run of logged model");
            goto done;
        }
    }
    cn_store_new_uuid(uuid);
    snprintf(model_id, sizeof model_id, "m-%s", uuid);
    dir = model_dir(exp->artifact_location, model_id);
    int64_t now = cn_now_ms();
    rc = cn_store_begin(ctx);
    if (rc != CAIRN_OK)
        goto done;
    rc = cn_store_run(ctx,
                      "INSERT INTO logged_models (model_id, experiment_id, name, model_type, "
                      "source_run_id, status, status_message, creator_id, creation_time, "
                      "last_updated_time, artifact_location, lifecycle_stage) VALUES "
                      "(?, ?, ?, ?, ?, ?, '', ?, ?, ?, ?, 'active')",
                      "sisssssiis", model_id, (int64_t)strtoll(exp->experiment_id, NULL, 10),
                      opts->name, opts->model_type ? opts->model_type : "",
                      opts->source_run_id && *opts->source_run_id ? opts->source_run_id : NULL,
                      status_names[CAIRN_LOGGED_MODEL_PENDING], opts->creator ? opts->creator : "",
                      now, now, dir);
    if (rc == CAIRN_OK)
        rc = insert_params(ctx, model_id, opts->params, opts->n_params);
    if (rc == CAIRN_OK)
        rc = upsert_tags(ctx, model_id, opts->tags, opts->n_tags);
    rc = end_txn(ctx, rc);
    if (rc == CAIRN_OK)
        rc = cn_store_logged_model_get(ctx, model_id, out);
done:
    cairn_experiment_free(exp);
    free(dir);
    return rc;
}

cairn_status cn_store_logged_model_finalize(cairn_ctx *ctx, const char *model_id,
                                            cairn_logged_model_status status,
                                            const char *status_message)
{
    cairn_status rc = require_model(ctx, model_id);
    if (rc != CAIRN_OK)
        return rc;
    return cn_store_run(ctx,
                        "UPDATE logged_models SET status = ?, status_message = ?, "
                        "last_updated_time = ? WHERE model_id = ?",
                        "ssis", status_names[status], status_message ? status_message : "",
                        cn_now_ms(), model_id);
}

cairn_status cn_store_logged_model_set_tags(cairn_ctx *ctx, const char *model_id,
                                            const cairn_tag *tags, size_t n)
{
    cairn_status rc = cn_store_begin(ctx);
    if (rc != CAIRN_OK)
        return rc;
    rc = require_model(ctx, model_id);
    if (rc == CAIRN_OK)
        rc = upsert_tags(ctx, model_id, tags, n);
    if (rc == CAIRN_OK)
        rc = touch(ctx, model_id);
    return end_txn(ctx, rc);
}

cairn_status cn_store_logged_model_delete_tag(cairn_ctx *ctx, const char *model_id, const char *key)
{
    cairn_status rc = cn_store_begin(ctx);
    if (rc != CAIRN_OK)
        return rc;
    rc = require_model(ctx, model_id);
    if (rc == CAIRN_OK)
        rc = cn_store_run(ctx, "DELETE FROM logged_model_tags WHERE model_id = ? AND key = ?", "ss",
                          model_id, key);
    if (rc == CAIRN_OK)
        rc = touch(ctx, model_id);
    return end_txn(ctx, rc);
}

cairn_status cn_store_logged_model_log_params(cairn_ctx *ctx, const char *model_id,
                                              const cairn_param *params, size_t n)
{
    cairn_status rc = cn_store_begin(ctx);
    if (rc != CAIRN_OK)
        return rc;
    rc = require_model(ctx, model_id);
    if (rc == CAIRN_OK)
        rc = insert_params(ctx, model_id, params, n);
    if (rc == CAIRN_OK)
        rc = touch(ctx, model_id);
    return end_txn(ctx, rc);
}

cairn_status cn_store_logged_model_log_metrics(cairn_ctx *ctx, const char *model_id,
                                               const cairn_logged_model_metric *metrics, size_t n)
{
    int64_t now = cn_now_ms();
    cairn_status rc = cn_store_begin(ctx);
    if (rc != CAIRN_OK)
        return rc;
    rc = require_model(ctx, model_id);
    for (size_t i = 0; rc == CAIRN_OK && i < n; i++) {
        const cairn_logged_model_metric *m = &metrics[i];
        bool is_nan = isnan(m->value);
        rc = cn_store_run(
            ctx,
            "INSERT INTO logged_model_metrics (model_id, key, step, timestamp, "
            "value, is_nan, run_id, dataset_name, dataset_digest) VALUES "
            "(?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
            "ssiidisss", model_id, m->key, m->step, m->timestamp_ms ? m->timestamp_ms : now,
            is_nan ? 0.0 : m->value, (int64_t)is_nan, m->run_id ? m->run_id : "",
            m->dataset_name ? m->dataset_name : "", m->dataset_digest ? m->dataset_digest : "");
    }
    if (rc == CAIRN_OK)
        rc = touch(ctx, model_id);
    return end_txn(ctx, rc);
}

cairn_status cn_store_logged_model_delete(cairn_ctx *ctx, const char *model_id)
{
    cairn_status rc = require_model(ctx, model_id);
    if (rc != CAIRN_OK)
        return rc;
    return cn_store_run(ctx,
                        "UPDATE logged_models SET lifecycle_stage = 'deleted', "
                        "last_updated_time = ? WHERE model_id = ?",
                        "is", cn_now_ms(), model_id);
}

/* ---- run outputs ---- */

cairn_status cn_store_run_log_outputs(cairn_ctx *ctx, const char *run_id,
                                      const cairn_run_output *outputs, size_t n)
{
    cn_run_row run;
    cn_buf sql = CN_BUF_INIT;
    cairn_status rc = cn_store_begin(ctx);
    if (rc != CAIRN_OK)
        return rc;
    rc = cn_store_run_lookup(ctx, run_id, &run);
    if (rc == CAIRN_OK && run.is_deleted)
        rc = cn_fail(ctx, CAIRN_EINVAL, "run '%s' is deleted; restore it before logging to it",
                     run_id);
    cn_run_row_release(&run);
    cn_store_upsert_sql(&sql, "run_outputs", "run_uuid, model_id, step", "run_uuid, model_id",
                        NULL);
    for (size_t i = 0; rc == CAIRN_OK && i < n; i++) {
        rc = require_model(ctx, outputs[i].model_id);
        if (rc == CAIRN_OK)
            rc = cn_store_run(ctx, sql.data, "ssi", run_id, outputs[i].model_id, outputs[i].step);
    }
    cn_buf_release(&sql);
    return end_txn(ctx, rc);
}

cairn_status cn_store_run_outputs_load(cairn_ctx *ctx, cn_arena *a, cairn_run_record *rec)
{
    cn_stmt *st = NULL;
    size_t cap = 0;
    cairn_status rc = cn_store_query(
        ctx, &st, "SELECT model_id, step FROM run_outputs WHERE run_uuid = ? ORDER BY model_id",
        "s", rec->info.run_id);
    if (rc != CAIRN_OK)
        return rc;
    int r;
    while ((r = cn_store_step(ctx, st)) == CN_DB_ROW) {
        rec->outputs = cn_arena_grow(a, rec->outputs, rec->n_outputs, &cap, sizeof *rec->outputs);
        rec->outputs[rec->n_outputs].model_id = cn_arena_strdup(a, cn_col_text(ctx, st, 0));
        rec->outputs[rec->n_outputs].step = cn_col_int(ctx, st, 1);
        rec->n_outputs++;
    }
    cn_store_finalize(ctx, st);
    return r == CN_DB_DONE ? CAIRN_OK : (cairn_status)r;
}

/* ---- search: the grammar, its SQL, the page ---- */

enum { COL_ID, COL_NAME, COL_TYPE, COL_STATUS, COL_RUN, COL_CREATED, COL_UPDATED };
static const char *const columns[] = {
    [COL_ID] = "m.model_id",
    [COL_NAME] = "m.name",
    [COL_TYPE] = "m.model_type",
    [COL_STATUS] = "m.status",
    [COL_RUN] = "m.source_run_id",
    [COL_CREATED] = "m.creation_time",
    [COL_UPDATED] = "m.last_updated_time",
};

static const cn_filter_field model_attrs[] = {
    {"model_id", CN_FILTER_STRING, true, COL_ID},
    {"name", CN_FILTER_STRING, true, COL_NAME},
    {"model_type", CN_FILTER_STRING, true, COL_TYPE},
    {"status", CN_FILTER_STRING, true, COL_STATUS},
    {"source_run_id", CN_FILTER_STRING, true, COL_RUN},
    {"creation_timestamp", CN_FILTER_MS, true, COL_CREATED},
    {"creation_time", CN_FILTER_MS, true, COL_CREATED},
    {"last_updated_timestamp", CN_FILTER_MS, true, COL_UPDATED},
    {"last_updated_time", CN_FILTER_MS, true, COL_UPDATED},
};
#define MODEL_ATTRS_TEXT                                                                           \
    "model_id, name, model_type, status, source_run_id, creation_timestamp, "                      \
    "last_updated_timestamp"

static const cn_filter_grammar model_grammar = {
    .target = "logged models",
    .kinds = CN_FILTER_BIT(CN_FILTER_PARAM) | CN_FILTER_BIT(CN_FILTER_TAG) |
             CN_FILTER_BIT(CN_FILTER_ATTR),
    .order_kinds = CN_FILTER_BIT(CN_FILTER_ATTR),
    .order_names_target = true,
    .attrs = model_attrs,
    .n_attrs = CN_ARRAY_LEN(model_attrs),
    .attrs_hint = MODEL_ATTRS_TEXT ", params.<key>, tags.<key>",
    .order_attrs_hint = MODEL_ATTRS_TEXT,
    .kinds_hint = NULL, /* an unknown prefix is "cannot be used for logged models" too */
    .unusable_hint = MODEL_ATTRS_TEXT ", params.<key> or tags.<key>",
    .dataset_hint = "",
    .order_hint = MODEL_ATTRS_TEXT,
};

static const char *const op_sql[] = {"=",  "<>",   "<",     "<=", ">",
                                     ">=", "LIKE", "ILIKE", "IN", "NOT IN"};

/* "<col> <op> <value>" with the value bound. */
static void gen_cmp(cn_sql *s, const char *col, const cn_filter_node *n)
{
    switch (n->cmp) {
    case CN_FILTER_LIKE: cn_buf_printf(&s->sql, "%s LIKE ? ESCAPE '\\'", col); break;
    case CN_FILTER_ILIKE: cn_buf_printf(&s->sql, "LOWER(%s) LIKE LOWER(?) ESCAPE '\\'", col); break;
    case CN_FILTER_IN:
    case CN_FILTER_NOT_IN:
        cn_buf_printf(&s->sql, "%s %s (", col, op_sql[n->cmp]);
        for (const cn_filter_item *it = n->val.items; it; it = it->next) {
            cn_buf_puts(&s->sql, it->next ? "?, " : "?");
            cn_sql_add_text(s, it->s, it->len);
        }
        cn_buf_putc(&s->sql, ')');
        return;
    default: cn_buf_printf(&s->sql, "%s %s ?", col, op_sql[n->cmp]); break;
    }
    if (n->val.kind == CN_FILTER_VAL_STRING)
        cn_sql_add_text(s, n->val.s, n->val.len);
    else if (n->val.kind == CN_FILTER_VAL_REAL)
        cn_sql_add_real(s, n->val.d);
    else
        cn_sql_add_int(s, n->val.i);
}

static void gen_node(cn_sql *s, const cn_filter_node *n)
{
    if (n->kind == CN_FILTER_CLAUSE) {
        const char *table =
            n->id.kind == CN_FILTER_TAG ? "logged_model_tags" : "logged_model_params";
        if (n->id.kind == CN_FILTER_ATTR) {
            const char *col = columns[n->id.field->id];
            /* A model without a source run matches != and NOT IN, as "" would. */
            if (n->id.field->id == COL_RUN)
                col = "COALESCE(m.source_run_id, '')";
            gen_cmp(s, col, n);
            return;
        }
        CN_ASSERT(n->id.kind == CN_FILTER_TAG || n->id.kind == CN_FILTER_PARAM);
        cn_buf_printf(&s->sql,
                      "EXISTS (SELECT 1 FROM %s k WHERE k.model_id = m.model_id AND k.key = ? AND ",
                      table);
        cn_sql_add_text(s, n->id.key, n->id.key_len);
        gen_cmp(s, "k.value", n);
        cn_buf_putc(&s->sql, ')');
        return;
    }
    for (const cn_filter_node *k = n->first; k; k = k->next) {
        if (k != n->first)
            cn_buf_puts(&s->sql, n->kind == CN_FILTER_AND ? " AND " : " OR ");
        bool wrap = k->kind != CN_FILTER_CLAUSE;
        if (wrap)
            cn_buf_putc(&s->sql, '(');
        gen_node(s, k);
        if (wrap)
            cn_buf_putc(&s->sql, ')');
    }
}

static cairn_status bind_args(cairn_ctx *ctx, cn_stmt *st, const cn_sql *s, int *idx)
{
    for (size_t i = 0; i < s->n_args; i++) {
        const cn_sqlarg *arg = &s->args[i];
        cairn_status rc;
        if (arg->type == CN_SQLARG_TEXT)
            rc = cn_store_bind_text(ctx, st, (*idx)++, arg->text);
        else if (arg->type == CN_SQLARG_INT)
            rc = cn_store_bind_int(ctx, st, (*idx)++, arg->i);
        else
            rc = cn_store_bind_double(ctx, st, (*idx)++, arg->d);
        if (rc != CAIRN_OK)
            return rc;
    }
    return CAIRN_OK;
}

/* Appends " AND m.experiment_id IN (...)" for the ids of q that can name an experiment; an
 * id that cannot (not a number) matches nothing, as an unknown one does. */
static void experiments_where(const cairn_logged_model_query *q, cn_sql *where)
{
    if (q->n_experiment_ids == 0)
        return;
    bool any = false;
    cn_buf_puts(&where->sql, " AND m.experiment_id IN (");
    for (size_t i = 0; i < q->n_experiment_ids; i++) {
        int64_t id;
        if (!q->experiment_ids[i] || !cn_parse_int64(q->experiment_ids[i], &id))
            continue;
        cn_buf_puts(&where->sql, any ? ", ?" : "?");
        cn_sql_add_int(where, id);
        any = true;
    }
    cn_buf_puts(&where->sql, any ? ")" : "NULL)");
}

/* Compiles q's filter and order_by into where (after "WHERE m.lifecycle_stage ...") and
 * order (the ORDER BY list). */
static cairn_status compile_query(cairn_ctx *ctx, const cairn_logged_model_query *q, cn_sql *where,
                                  cn_buf *order)
{
    cn_filter *f = NULL;
    cn_order *o = NULL;
    cairn_status rc =
        cn_filter_parse(ctx, &model_grammar, q->filter, q->filter ? strlen(q->filter) : 0, &f);
    if (rc == CAIRN_OK)
        rc = cn_order_parse(ctx, &model_grammar, q->order_by, q->n_order_by, &o);
    if (rc != CAIRN_OK)
        goto done;
    experiments_where(q, where);
    if (f->root) {
        cn_buf_puts(&where->sql, " AND (");
        gen_node(where, f->root);
        cn_buf_putc(&where->sql, ')');
    }
    for (size_t k = 0; k < o->n; k++)
        cn_buf_printf(order, "%s %s, ", columns[o->keys[k].id.field->id],
                      o->keys[k].is_desc ? "DESC" : "ASC");
    cn_buf_puts(order, o->n ? "m.model_id ASC" : "m.creation_time DESC, m.model_id ASC");
done:
    cn_filter_free(f);
    cn_order_free(o);
    return rc;
}

cairn_status cn_store_logged_models_search(cairn_ctx *ctx, const cairn_logged_model_query *q,
                                           cairn_logged_model_page **out)
{
    cn_sql where;
    cn_buf order = CN_BUF_INIT, sql = CN_BUF_INIT;
    cn_page_rows rows = {0};
    cn_stmt *st = NULL;
    int64_t offset;
    bool more = false;

    *out = NULL;
    cn_sql_init(&where);
    int64_t max = q->max_results ? q->max_results : CAIRN_LOGGED_MODEL_SEARCH_DEFAULT;
    cairn_status rc = CAIRN_OK;
    if (max < 1 || max > CAIRN_LOGGED_MODEL_SEARCH_MAX)
        rc = cn_fail(ctx, CAIRN_EINVAL, "max_results must be between 1 and %d, got %lld",
                     CAIRN_LOGGED_MODEL_SEARCH_MAX, (long long)q->max_results);
    if (rc == CAIRN_OK)
        rc = cn_page_token_parse(ctx, q->page_token, &offset);
    if (rc == CAIRN_OK)
        rc = compile_query(ctx, q, &where, &order);
    if (rc != CAIRN_OK)
        goto done;
    cn_buf_printf(&sql,
                  "SELECT " MODEL_COLUMNS " FROM logged_models m WHERE m." LIVE
                  "%s ORDER BY %s LIMIT ? OFFSET ?",
                  cn_buf_str(&where.sql), cn_buf_str(&order));
    rc = cn_store_prepare(ctx, sql.data, &st);
    int idx = 1;
    if (rc == CAIRN_OK)
        rc = bind_args(ctx, st, &where, &idx);
    if (rc == CAIRN_OK)
        rc = cn_store_bind_int(ctx, st, idx++, max + 1);
    if (rc == CAIRN_OK)
        rc = cn_store_bind_int(ctx, st, idx, offset);
    if (rc == CAIRN_OK) {
        rows.arena = cn_arena_new();
        rc = cn_store_read_rows(ctx, st, rows.arena, max, sizeof *(*out)->items, model_from_row,
                                &rows.items, &rows.n, &more);
    }
    cn_store_finalize(ctx, st);
    for (size_t i = 0; rc == CAIRN_OK && i < rows.n; i++)
        rc = model_complete(ctx, rows.arena, (cairn_logged_model *)rows.items + i);
    if (rc != CAIRN_OK)
        goto done;
    rows.next_page_token = cn_page_token_next(rows.arena, more, offset, max);
    CN_PAGE_HAND_OVER(rows, out);
    rows.arena = NULL;
done:
    cn_arena_free(rows.arena);
    cn_sql_release(&where);
    cn_buf_release(&order);
    cn_buf_release(&sql);
    return rc;
}
