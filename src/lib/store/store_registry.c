/* SPDX-License-Identifier: MIT */
/* store_registry.c - the SQL store's model registry: registered models, versions numbered
 * under a per-model lock (cn_store_next_seq), tags, aliases, stages, semver labels, the
 * registry_events history, and the two searches (filters and order_by compiled by
 * search_sql.c). Arguments arrive validated (registry/registry.c). Every alias and
 * stage move takes the model's event lock first, so the "from" it records is what it moved. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/core.h"
#include "store/search_sql.h"
#include "store/store.h"
#include "store/store_registry.h"
#include "base/arena.h"
#include "base/buf.h"
#include "base/time.h"
#include "base/xmalloc.h"
#include "base/banned.h"

const char *const cn_stage_names[4] = {"None", "Staging", "Production", "Archived"};

#define DELETED_STAGE "Deleted_Internal"
#define LIVE "current_stage <> '" DELETED_STAGE "'"

#define MODEL_COLUMNS                                                                              \
    "m.name, m.description, m.creation_time, m.last_updated_time, "                                \
    "(SELECT COALESCE(MAX(v.version), 0) FROM model_versions v WHERE v.name = m.name AND "         \
    "v." LIVE ")"
#define VERSION_COLUMNS                                                                            \
    "v.name, v.version, v.source, v.run_id, v.description, v.user_id, v.status, "                  \
    "v.current_stage, v.semver, v.creation_time, v.last_updated_time"
#define EVENT_COLUMNS                                                                              \
    "name, seq, kind, alias, from_version, to_version, from_stage, to_stage, user_id, reason, "    \
    "time"

static const char *const event_kinds[] = {NULL, "alias_set", "alias_delete", "rollback", "stage"};

static cairn_model_stage stage_of(const char *text)
{
    for (int i = 0; i < 4; i++)
        if (strcmp(text, cn_stage_names[i]) == 0)
            return (cairn_model_stage)i;
    return CAIRN_STAGE_NONE;
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

static cairn_status require_model(cairn_ctx *ctx, const char *name)
{
    int64_t one;
    bool found;
    cairn_status rc = cn_store_query_int(
        ctx, &one, &found, "SELECT 1 FROM registered_models WHERE name = ?", "s", name);
    if (rc == CAIRN_OK && !found)
        return cn_fail(ctx, CAIRN_ENOTFOUND, "no registered model named '%s'", name);
    return rc;
}

/* Checks a live version exists; *stage (may be NULL) is its stage. */
static cairn_status require_version(cairn_ctx *ctx, const char *name, int64_t version,
                                    cairn_model_stage *stage)
{
    cn_stmt *st = NULL;
    cairn_status rc = require_model(ctx, name);
    if (rc == CAIRN_OK)
        rc = cn_store_query(ctx, &st,
                            "SELECT current_stage FROM model_versions WHERE name = ? AND "
                            "version = ? AND " LIVE,
                            "si", name, version);
    if (rc != CAIRN_OK)
        return rc;
    int r = cn_store_step(ctx, st);
    if (r == CN_DB_ROW && stage)
        *stage = stage_of(cn_col_text(ctx, st, 0));
    cn_store_finalize(ctx, st);
    if (r == CN_DB_DONE)
        return cn_fail(ctx, CAIRN_ENOTFOUND, "model '%s' has no version %lld", name,
                       (long long)version);
    return r == CN_DB_ROW ? CAIRN_OK : (cairn_status)r;
}

static cairn_status touch_model(cairn_ctx *ctx, const char *name, int64_t now)
{
    return cn_store_run(ctx, "UPDATE registered_models SET last_updated_time = ? WHERE name = ?",
                        "is", now, name);
}

/* One registry event; the fields of cairn_registry_event as stored. */
typedef struct event_row {
    cairn_registry_event_kind kind;
    const char *alias;
    int64_t from_version, to_version;
    const char *from_stage, *to_stage;
} event_row;

/* Appends an event under the model's event lock (taken by the first call in a transaction). */
static cairn_status add_event(cairn_ctx *ctx, const char *name, const event_row *e,
                              const cairn_registry_move_opts *mv, int64_t now)
{
    int64_t seq;
    cairn_status rc = cn_store_next_seq(ctx, "registry_events", "name", name, "seq", &seq);
    if (rc != CAIRN_OK)
        return rc;
    return cn_store_run(
        ctx,
        "INSERT INTO registry_events (" EVENT_COLUMNS ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        "sissiissssi", name, seq, event_kinds[e->kind], e->alias, e->from_version, e->to_version,
        e->from_stage, e->to_stage, mv->user ? mv->user : "", mv->reason ? mv->reason : "", now);
}

/* Takes the model's event lock before anything is read, so concurrent moves serialize. */
static cairn_status lock_events(cairn_ctx *ctx, const char *name)
{
    int64_t unused;
    return cn_store_next_seq(ctx, "registry_events", "name", name, "seq", &unused);
}

/* Checks the model exists, then takes its event lock (see lock_events). */
static cairn_status lock_model(cairn_ctx *ctx, const char *name)
{
    cairn_status rc = require_model(ctx, name);
    return rc == CAIRN_OK ? lock_events(ctx, name) : rc;
}

/* ---- loading rows ---- */

static cairn_status load_tags(cairn_ctx *ctx, cn_arena *a, const char *sql, const char *name,
                              int64_t version, cairn_tag **tags, size_t *n)
{
    cn_stmt *st = NULL;
    cairn_status rc = version ? cn_store_query(ctx, &st, sql, "si", name, version)
                              : cn_store_query(ctx, &st, sql, "s", name);
    return rc == CAIRN_OK ? cn_store_read_tags(ctx, st, a, tags, n) : rc;
}

static void model_from_row(cairn_ctx *ctx, cn_stmt *st, cn_arena *a, void *item)
{
    cairn_registered_model *m = item;
    m->name = cn_arena_strdup(a, cn_col_text(ctx, st, 0));
    m->description = cn_arena_strdup(a, cn_col_text(ctx, st, 1));
    m->creation_time_ms = cn_col_int(ctx, st, 2);
    m->last_updated_time_ms = cn_col_int(ctx, st, 3);
    m->latest_version = cn_col_int(ctx, st, 4);
}

/* Tags and aliases of a model read by model_from_row. */
static cairn_status model_complete(cairn_ctx *ctx, cn_arena *a, void *item)
{
    cairn_registered_model *m = item;
    cn_stmt *st = NULL;
    cairn_status rc = load_tags(
        ctx, a, "SELECT key, value FROM registered_model_tags WHERE name = ? ORDER BY key", m->name,
        0, &m->tags, &m->n_tags);
    if (rc == CAIRN_OK)
        rc = cn_store_query(ctx, &st,
                            "SELECT alias, version FROM registered_model_aliases WHERE name = ? "
                            "ORDER BY alias",
                            "s", m->name);
    if (rc != CAIRN_OK)
        return rc;
    size_t cap = 0;
    int r;
    while ((r = cn_store_step(ctx, st)) == CN_DB_ROW) {
        m->aliases = cn_arena_grow(a, m->aliases, m->n_aliases, &cap, sizeof *m->aliases);
        m->aliases[m->n_aliases].alias = cn_arena_strdup(a, cn_col_text(ctx, st, 0));
        m->aliases[m->n_aliases].version = cn_col_int(ctx, st, 1);
        m->n_aliases++;
    }
    cn_store_finalize(ctx, st);
    return r == CN_DB_DONE ? CAIRN_OK : (cairn_status)r;
}

static void version_from_row(cairn_ctx *ctx, cn_stmt *st, cn_arena *a, void *item)
{
    cairn_model_version *v = item;
    v->name = cn_arena_strdup(a, cn_col_text(ctx, st, 0));
    v->version = cn_col_int(ctx, st, 1);
    v->source = cn_arena_strdup(a, cn_col_text(ctx, st, 2));
    v->run_id = cn_arena_strdup(a, cn_col_text(ctx, st, 3));
    v->description = cn_arena_strdup(a, cn_col_text(ctx, st, 4));
    v->user_id = cn_arena_strdup(a, cn_col_text(ctx, st, 5));
    v->status = cn_arena_strdup(a, cn_col_text(ctx, st, 6));
    v->stage = stage_of(cn_col_text(ctx, st, 7));
    v->semver = cn_col_is_null(ctx, st, 8) ? NULL : cn_arena_strdup(a, cn_col_text(ctx, st, 8));
    v->creation_time_ms = cn_col_int(ctx, st, 9);
    v->last_updated_time_ms = cn_col_int(ctx, st, 10);
}

static cairn_status version_complete(cairn_ctx *ctx, cn_arena *a, void *item)
{
    cairn_model_version *v = item;
    cn_stmt *st = NULL;
    cairn_status rc = load_tags(ctx, a,
                                "SELECT key, value FROM model_version_tags WHERE name = ? AND "
                                "version = ? ORDER BY key",
                                v->name, v->version, &v->tags, &v->n_tags);
    if (rc == CAIRN_OK)
        rc = cn_store_query(ctx, &st,
                            "SELECT alias FROM registered_model_aliases WHERE name = ? AND "
                            "version = ? ORDER BY alias",
                            "si", v->name, v->version);
    if (rc != CAIRN_OK)
        return rc;
    size_t cap = 0;
    int r;
    while ((r = cn_store_step(ctx, st)) == CN_DB_ROW) {
        v->aliases = cn_arena_grow(a, v->aliases, v->n_aliases, &cap, sizeof *v->aliases);
        v->aliases[v->n_aliases++] = cn_arena_strdup(a, cn_col_text(ctx, st, 0));
    }
    cn_store_finalize(ctx, st);
    return r == CN_DB_DONE ? CAIRN_OK : (cairn_status)r;
}

/* ---- registered models ---- */

cairn_status cn_store_model_create(cairn_ctx *ctx, const char *name, const char *description,
                                   const cairn_tag *tags, size_t n_tags)
{
    cn_buf upsert = CN_BUF_INIT;
    int64_t now = cn_now_ms();
    cairn_status rc = cn_store_begin(ctx);
    if (rc != CAIRN_OK)
        return rc;
    rc = cn_store_run(ctx,
                      "INSERT INTO registered_models (name, creation_time, last_updated_time, "
                      "description) VALUES (?, ?, ?, ?)",
                      "siis", name, now, now, description ? description : "");
    if (rc == CAIRN_EEXIST)
        rc = cn_fail(ctx, CAIRN_EEXIST, "registered model '%s' already exists", name);
    cn_store_upsert_sql(&upsert, "registered_model_tags", "name, key, value", "name, key", NULL);
    for (size_t i = 0; rc == CAIRN_OK && i < n_tags; i++)
        rc = cn_store_run(ctx, upsert.data, "sss", name, tags[i].key, tags[i].value);
    cn_buf_release(&upsert);
    return end_txn(ctx, rc);
}

cairn_status cn_store_model_get(cairn_ctx *ctx, const char *name, cairn_registered_model **out)
{
    cn_stmt *st = NULL;
    cn_arena *a = NULL;
    void *item = NULL;
    *out = NULL;
    cairn_status rc = cn_store_query(
        ctx, &st, "SELECT " MODEL_COLUMNS " FROM registered_models m WHERE m.name = ?", "s", name);
    if (rc == CAIRN_OK)
        rc = cn_store_read_one(ctx, st, sizeof **out, model_from_row, model_complete, &item, &a);
    if (rc == CAIRN_OK && !item)
        return cn_fail(ctx, CAIRN_ENOTFOUND, "no registered model named '%s'", name);
    if (rc != CAIRN_OK)
        return rc;
    *out = item;
    (*out)->internal_ = a;
    return CAIRN_OK;
}

/* The tables whose rows name a model, besides registered_models. */
static const char *const child_tables[] = {"registered_model_tags", "model_versions",
                                           "model_version_tags", "registered_model_aliases",
                                           "registry_events"};

cairn_status cn_store_model_rename(cairn_ctx *ctx, const char *name, const char *new_name)
{
    char sql[128];
    cairn_status rc = cn_store_begin(ctx);
    if (rc != CAIRN_OK)
        return rc;
    rc = require_model(ctx, name);
    if (rc == CAIRN_OK)
        rc = cn_store_run(ctx,
                          "UPDATE registered_models SET name = ?, last_updated_time = ? "
                          "WHERE name = ?",
                          "sis", new_name, cn_now_ms(), name);
    if (rc == CAIRN_EEXIST)
        rc = cn_fail(ctx, CAIRN_EEXIST, "registered model '%s' already exists", new_name);
    for (size_t i = 0; rc == CAIRN_OK && i < CN_ARRAY_LEN(child_tables); i++) {
        snprintf(sql, sizeof sql, "UPDATE %s SET name = ? WHERE name = ?", child_tables[i]);
        rc = cn_store_run(ctx, sql, "ss", new_name, name);
    }
    return end_txn(ctx, rc);
}

cairn_status cn_store_model_update(cairn_ctx *ctx, const char *name, const char *description)
{
    cairn_status rc = require_model(ctx, name);
    if (rc != CAIRN_OK)
        return rc;
    return cn_store_run(ctx,
                        "UPDATE registered_models SET description = ?, last_updated_time = ? "
                        "WHERE name = ?",
                        "sis", description, cn_now_ms(), name);
}

cairn_status cn_store_model_delete(cairn_ctx *ctx, const char *name)
{
    char sql[128];
    cairn_status rc = cn_store_begin(ctx);
    if (rc != CAIRN_OK)
        return rc;
    rc = require_model(ctx, name);
    for (size_t i = 0; rc == CAIRN_OK && i < CN_ARRAY_LEN(child_tables); i++) {
        snprintf(sql, sizeof sql, "DELETE FROM %s WHERE name = ?", child_tables[i]);
        rc = cn_store_run(ctx, sql, "s", name);
    }
    if (rc == CAIRN_OK)
        rc = cn_store_run(ctx, "DELETE FROM registered_models WHERE name = ?", "s", name);
    return end_txn(ctx, rc);
}

cairn_status cn_store_model_set_tag(cairn_ctx *ctx, const char *name, const char *key,
                                    const char *value)
{
    cairn_status rc = require_model(ctx, name);
    if (rc != CAIRN_OK)
        return rc;
    if (!value)
        return cn_store_run(ctx, "DELETE FROM registered_model_tags WHERE name = ? AND key = ?",
                            "ss", name, key);
    cn_buf sql = CN_BUF_INIT;
    cn_store_upsert_sql(&sql, "registered_model_tags", "name, key, value", "name, key", NULL);
    rc = cn_store_run(ctx, sql.data, "sss", name, key, value);
    cn_buf_release(&sql);
    return rc;
}

/* Binds the arguments of s from *idx on. */
static cairn_status bind_sql(cairn_ctx *ctx, cn_stmt *st, const cn_sql *s, int *idx)
{
    cairn_status rc = CAIRN_OK;
    for (size_t i = 0; rc == CAIRN_OK && i < s->n_args; i++) {
        const cn_sqlarg *a = &s->args[i];
        if (a->type == CN_SQLARG_TEXT)
            rc = cn_store_bind_text(ctx, st, (*idx)++, a->text);
        else if (a->type == CN_SQLARG_INT)
            rc = cn_store_bind_int(ctx, st, (*idx)++, a->i);
        else
            rc = cn_store_bind_double(ctx, st, (*idx)++, a->d);
    }
    return rc;
}

/* Reads one page of a listing into rows: sql with the arguments of args bound, then LIMIT
 * max + 1 OFFSET offset (the extra row says whether another page follows, so a page is full
 * only when one does); items of `size` bytes filled by from_row, then, with the statement
 * finalized, by complete (NULL: nothing to add). */
static cairn_status list_page(cairn_ctx *ctx, const char *sql, const cn_sql *args, int64_t max,
                              int64_t offset, size_t size, cn_row_fn from_row,
                              cn_complete_fn complete, cn_page_rows *rows)
{
    cn_stmt *st = NULL;
    bool more = false;
    memset(rows, 0, sizeof *rows);
    cairn_status rc = cn_store_prepare(ctx, sql, &st);
    int idx = 1;
    if (rc == CAIRN_OK)
        rc = bind_sql(ctx, st, args, &idx);
    if (rc == CAIRN_OK)
        rc = cn_store_bind_int(ctx, st, idx++, max + 1);
    if (rc == CAIRN_OK)
        rc = cn_store_bind_int(ctx, st, idx, offset);
    if (rc == CAIRN_OK) {
        rows->arena = cn_arena_new();
        rc = cn_store_read_rows(ctx, st, rows->arena, max, size, from_row, &rows->items, &rows->n,
                                &more);
    }
    cn_store_finalize(ctx, st);
    for (size_t i = 0; rc == CAIRN_OK && complete && i < rows->n; i++)
        rc = complete(ctx, rows->arena, (char *)rows->items + i * size);
    if (rc != CAIRN_OK) {
        cn_arena_free(rows->arena);
        rows->arena = NULL;
        return rc;
    }
    rows->next_page_token = cn_page_token_next(rows->arena, more, offset, max);
    return CAIRN_OK;
}

/* A registry search: the page token, then the filter (ANDed to cond, which holds the older
 * query fields' conditions) and order_by compiled for target t into one statement,
 * "SELECT <select> <joins> WHERE <cond> AND <filter> ORDER BY <order> LIMIT ? OFFSET ?". */
static cairn_status registry_search(cairn_ctx *ctx, cn_search_target t, const char *select,
                                    cn_sql *cond, const char *filter, const char *const *order_by,
                                    size_t n_order_by, int64_t max, const char *page_token,
                                    size_t size, cn_row_fn from_row, cn_complete_fn complete,
                                    cn_page_rows *rows)
{
    cn_sql args;
    cn_buf order = CN_BUF_INIT, sql = CN_BUF_INIT;
    int64_t offset;

    cn_sql_init(&args);
    memset(rows, 0, sizeof *rows);
    cairn_status rc = cn_page_token_parse(ctx, page_token, &offset);
    if (rc == CAIRN_OK) {
        cn_buf_puts(&cond->sql, " AND ");
        rc = cn_search_where_compile(ctx, t, filter, filter ? strlen(filter) : 0, cond);
    }
    /* args: the joins' arguments (none for the registry's attribute-only order_by), then
     * cond's, in the order of their '?'s. */
    if (rc == CAIRN_OK)
        rc = cn_search_order_compile(ctx, t, order_by, n_order_by, &args, &order);
    if (rc == CAIRN_OK) {
        cn_buf_printf(&sql, "SELECT %s %s WHERE %s ORDER BY %s LIMIT ? OFFSET ?", select,
                      cn_buf_str(&args.sql), cn_buf_str(&cond->sql), cn_buf_str(&order));
        for (size_t i = 0; i < cond->n_args; i++) {
            const cn_sqlarg *a = &cond->args[i];
            if (a->type == CN_SQLARG_TEXT)
                cn_sql_add_text(&args, a->text, strlen(a->text));
            else if (a->type == CN_SQLARG_INT)
                cn_sql_add_int(&args, a->i);
            else
                cn_sql_add_real(&args, a->d);
        }
        rc = list_page(ctx, sql.data, &args, max, offset, size, from_row, complete, rows);
    }
    cn_sql_release(&args);
    cn_buf_release(&order);
    cn_buf_release(&sql);
    return rc;
}

cairn_status cn_store_models_search(cairn_ctx *ctx, const cairn_registered_model_query *q,
                                    cairn_registered_model_page **out)
{
    cn_sql cond;
    cn_page_rows rows = {0};

    *out = NULL;
    cn_sql_init(&cond);
    cn_buf_puts(&cond.sql, "1 = 1");
    if (q->name_like) {
        cn_buf_puts(&cond.sql, " AND m.name LIKE ? ESCAPE '\\'");
        cn_sql_add_text(&cond, q->name_like, strlen(q->name_like));
    }
    for (size_t i = 0; i < q->n_tags; i++) {
        cn_buf_puts(&cond.sql, " AND EXISTS (SELECT 1 FROM registered_model_tags t WHERE t.name = "
                               "m.name AND t.key = ? AND t.value = ?)");
        cn_sql_add_text(&cond, q->tags[i].key, strlen(q->tags[i].key));
        cn_sql_add_text(&cond, q->tags[i].value, strlen(q->tags[i].value));
    }
    cairn_status rc =
        registry_search(ctx, CN_SEARCH_MODELS, MODEL_COLUMNS " FROM registered_models m", &cond,
                        q->filter, q->order_by, q->n_order_by, q->max_results, q->page_token,
                        sizeof *(*out)->items, model_from_row, model_complete, &rows);
    if (rc == CAIRN_OK)
        CN_PAGE_HAND_OVER(rows, out);
    cn_sql_release(&cond);
    return rc;
}

/* ---- model versions ---- */

/* EEXIST unless semver is free among the model's versions other than `version`. */
static cairn_status semver_free(cairn_ctx *ctx, const char *name, int64_t version,
                                const char *semver)
{
    int64_t other;
    bool found;
    cairn_status rc =
        cn_store_query_int(ctx, &other, &found,
                           "SELECT version FROM model_versions WHERE name = ? AND semver = ? "
                           "AND version <> ?",
                           "ssi", name, semver, version);
    if (rc == CAIRN_OK && found)
        return cn_fail(ctx, CAIRN_EEXIST, "model '%s': version %lld is already labelled '%s'", name,
                       (long long)other, semver);
    return rc;
}

cairn_status cn_store_version_create(cairn_ctx *ctx, const cn_version_new *in, int64_t *version_out)
{
    cn_buf upsert = CN_BUF_INIT;
    int64_t version = 0, now = cn_now_ms();
    *version_out = 0;
    cairn_status rc = cn_store_begin(ctx);
    if (rc != CAIRN_OK)
        return rc;
    rc = require_model(ctx, in->name);
    if (rc == CAIRN_OK)
        rc = cn_store_next_seq(ctx, "model_versions", "name", in->name, "version", &version);
    if (rc == CAIRN_OK && in->semver)
        rc = semver_free(ctx, in->name, version, in->semver);
    if (rc == CAIRN_OK)
        rc = cn_store_run(ctx,
                          "INSERT INTO model_versions (name, version, creation_time, "
                          "last_updated_time, description, user_id, source, run_id, semver) "
                          "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                          "siiisssss", in->name, version, now, now, in->description, in->user,
                          in->source, *in->run_id ? in->run_id : NULL, in->semver);
    if (rc == CAIRN_EEXIST) /* a label taken between the check and the insert */
        rc = cn_fail(ctx, CAIRN_EEXIST, "model '%s': semver '%s' is taken", in->name,
                     in->semver ? in->semver : "");
    cn_store_upsert_sql(&upsert, "model_version_tags", "name, version, key, value",
                        "name, version, key", NULL);
    for (size_t i = 0; rc == CAIRN_OK && i < in->n_tags; i++)
        rc = cn_store_run(ctx, upsert.data, "siss", in->name, version, in->tags[i].key,
                          in->tags[i].value);
    cn_buf_release(&upsert);
    if (rc == CAIRN_OK)
        rc = touch_model(ctx, in->name, now);
    rc = end_txn(ctx, rc);
    if (rc == CAIRN_OK)
        *version_out = version;
    return rc;
}

/* Reads one live version where `where` (on alias v) holds, binding name and a second text
 * or integer; what names it in the ENOTFOUND message. */
static cairn_status version_where(cairn_ctx *ctx, const char *where, const char *types,
                                  const char *name, const char *text, int64_t num, const char *what,
                                  cairn_model_version **out)
{
    cn_stmt *st = NULL;
    cn_arena *a = NULL;
    void *item = NULL;
    char sql[768];
    *out = NULL;
    cairn_status rc = require_model(ctx, name);
    if (rc != CAIRN_OK)
        return rc;
    snprintf(sql, sizeof sql,
             "SELECT " VERSION_COLUMNS " FROM model_versions v WHERE %s AND v." LIVE, where);
    rc = types[1] == 's' ? cn_store_query(ctx, &st, sql, types, name, text)
                         : cn_store_query(ctx, &st, sql, types, name, num);
    if (rc == CAIRN_OK)
        rc =
            cn_store_read_one(ctx, st, sizeof **out, version_from_row, version_complete, &item, &a);
    if (rc == CAIRN_OK && !item)
        return cn_fail(ctx, CAIRN_ENOTFOUND, "model '%s' has no %s", name, what);
    if (rc != CAIRN_OK)
        return rc;
    *out = item;
    (*out)->internal_ = a;
    return CAIRN_OK;
}

cairn_status cn_store_version_get(cairn_ctx *ctx, const char *name, int64_t version,
                                  cairn_model_version **out)
{
    char what[48];
    snprintf(what, sizeof what, "version %lld", (long long)version);
    return version_where(ctx, "v.name = ? AND v.version = ?", "si", name, NULL, version, what, out);
}

cairn_status cn_store_version_get_by_alias(cairn_ctx *ctx, const char *name, const char *alias,
                                           cairn_model_version **out)
{
    cn_buf what = CN_BUF_INIT;
    cn_buf_printf(&what, "alias '%s'", alias);
    cairn_status rc = version_where(ctx,
                                    "v.name = ? AND v.version = (SELECT a.version FROM "
                                    "registered_model_aliases a WHERE a.name = v.name AND "
                                    "a.alias = ?)",
                                    "ss", name, alias, 0, what.data, out);
    cn_buf_release(&what);
    return rc;
}

cairn_status cn_store_version_update(cairn_ctx *ctx, const char *name, int64_t version,
                                     const char *description)
{
    cairn_status rc = require_version(ctx, name, version, NULL);
    if (rc != CAIRN_OK)
        return rc;
    return cn_store_run(ctx,
                        "UPDATE model_versions SET description = ?, last_updated_time = ? WHERE "
                        "name = ? AND version = ?",
                        "sisi", description, cn_now_ms(), name, version);
}

/* The aliases pointing at a version, as a NUL-separated list in out; *n is their count. */
static cairn_status aliases_of(cairn_ctx *ctx, const char *name, int64_t version, cn_buf *out,
                               size_t *n)
{
    cn_stmt *st = NULL;
    *n = 0;
    cairn_status rc = cn_store_query(
        ctx, &st,
        "SELECT alias FROM registered_model_aliases WHERE name = ? AND version = ? ORDER BY alias",
        "si", name, version);
    if (rc != CAIRN_OK)
        return rc;
    int r;
    while ((r = cn_store_step(ctx, st)) == CN_DB_ROW) {
        const char *alias = cn_col_text(ctx, st, 0);
        cn_buf_append(out, alias, strlen(alias) + 1);
        (*n)++;
    }
    cn_store_finalize(ctx, st);
    return r == CN_DB_DONE ? CAIRN_OK : (cairn_status)r;
}

cairn_status cn_store_version_delete(cairn_ctx *ctx, const char *name, int64_t version,
                                     const cairn_registry_move_opts *mv)
{
    cn_buf aliases = CN_BUF_INIT;
    size_t n_aliases = 0;
    int64_t now = cn_now_ms();
    cairn_status rc = cn_store_begin(ctx);
    if (rc != CAIRN_OK)
        return rc;
    rc = lock_events(ctx, name);
    if (rc == CAIRN_OK)
        rc = require_version(ctx, name, version, NULL);
    if (rc == CAIRN_OK)
        rc = aliases_of(ctx, name, version, &aliases, &n_aliases);
    const char *alias = aliases.data;
    for (size_t i = 0; rc == CAIRN_OK && i < n_aliases; i++, alias += strlen(alias) + 1) {
        event_row e = {.kind = CAIRN_EVENT_ALIAS_DELETE, .alias = alias, .from_version = version};
        rc = cn_store_run(ctx, "DELETE FROM registered_model_aliases WHERE name = ? AND alias = ?",
                          "ss", name, alias);
        if (rc == CAIRN_OK)
            rc = add_event(ctx, name, &e, mv, now);
    }
    if (rc == CAIRN_OK)
        rc = cn_store_run(ctx, "DELETE FROM model_version_tags WHERE name = ? AND version = ?",
                          "si", name, version);
    if (rc == CAIRN_OK)
        rc = cn_store_run(ctx,
                          "UPDATE model_versions SET current_stage = '" DELETED_STAGE
                          "', semver = NULL, last_updated_time = ? WHERE name = ? AND version = ?",
                          "isi", now, name, version);
    if (rc == CAIRN_OK)
        rc = touch_model(ctx, name, now);
    cn_buf_release(&aliases);
    return end_txn(ctx, rc);
}

cairn_status cn_store_version_set_tag(cairn_ctx *ctx, const char *name, int64_t version,
                                      const char *key, const char *value)
{
    cairn_status rc = require_version(ctx, name, version, NULL);
    if (rc != CAIRN_OK)
        return rc;
    if (!value)
        return cn_store_run(
            ctx, "DELETE FROM model_version_tags WHERE name = ? AND version = ? AND key = ?", "sis",
            name, version, key);
    cn_buf sql = CN_BUF_INIT;
    cn_store_upsert_sql(&sql, "model_version_tags", "name, version, key, value",
                        "name, version, key", NULL);
    rc = cn_store_run(ctx, sql.data, "siss", name, version, key, value);
    cn_buf_release(&sql);
    return rc;
}

cairn_status cn_store_version_set_semver(cairn_ctx *ctx, const char *name, int64_t version,
                                         const char *semver)
{
    cairn_status rc = cn_store_begin(ctx);
    if (rc != CAIRN_OK)
        return rc;
    rc = require_version(ctx, name, version, NULL);
    if (rc == CAIRN_OK && semver)
        rc = semver_free(ctx, name, version, semver);
    if (rc == CAIRN_OK)
        rc = cn_store_run(ctx,
                          "UPDATE model_versions SET semver = ?, last_updated_time = ? WHERE "
                          "name = ? AND version = ?",
                          "sisi", semver, cn_now_ms(), name, version);
    if (rc == CAIRN_EEXIST && semver) /* a label taken between the check and the update */
        rc = cn_fail(ctx, CAIRN_EEXIST, "model '%s': semver '%s' is taken", name, semver);
    return end_txn(ctx, rc);
}

cairn_status cn_store_versions_search(cairn_ctx *ctx, const cairn_model_version_query *q,
                                      cairn_model_version_page **out)
{
    cn_sql cond;
    cn_page_rows rows = {0};

    *out = NULL;
    cn_sql_init(&cond);
    cn_buf_puts(&cond.sql, "v." LIVE);
    if (q->name) {
        cn_buf_puts(&cond.sql, " AND v.name = ?");
        cn_sql_add_text(&cond, q->name, strlen(q->name));
    }
    if (q->run_id) {
        cn_buf_puts(&cond.sql, " AND v.run_id = ?");
        cn_sql_add_text(&cond, q->run_id, strlen(q->run_id));
    }
    cairn_status rc =
        registry_search(ctx, CN_SEARCH_MODEL_VERSIONS, VERSION_COLUMNS " FROM model_versions v",
                        &cond, q->filter, q->order_by, q->n_order_by, q->max_results, q->page_token,
                        sizeof *(*out)->items, version_from_row, version_complete, &rows);
    if (rc == CAIRN_OK)
        CN_PAGE_HAND_OVER(rows, out);
    cn_sql_release(&cond);
    return rc;
}

/* ---- aliases, stages, history ---- */

/* Where a rollback of alias goes: the "from" of its latest event. */
/* Where a rollback moves alias: back through its recorded history, an undo stack. Newest
 * first, each rollback event cancels the nearest older move not yet cancelled; the first move
 * left standing is undone, to the version it came from. So v1 -> v2 -> v3 rolls back to v2,
 * then to v1, then refuses (v1 came from no version). */
static cairn_status rollback_target(cairn_ctx *ctx, const char *name, const char *alias,
                                    int64_t *target)
{
    cn_stmt *st = NULL;
    cairn_status rc = cn_store_query(ctx, &st,
                                     "SELECT kind, from_version FROM registry_events WHERE name = "
                                     "? AND alias = ? ORDER BY seq DESC",
                                     "ss", name, alias);
    if (rc != CAIRN_OK)
        return rc;
    bool any = false, found = false;
    int64_t undone = 0;
    int r;
    while ((r = cn_store_step(ctx, st)) == CN_DB_ROW) {
        any = true;
        if (strcmp(cn_col_text(ctx, st, 0), "rollback") == 0) {
            undone++;
        } else if (undone > 0) {
            undone--;
        } else {
            *target = cn_col_int(ctx, st, 1);
            found = true;
            break;
        }
    }
    cn_store_finalize(ctx, st);
    if (r != CN_DB_ROW && r != CN_DB_DONE)
        return (cairn_status)r;
    if (!any)
        return cn_fail(ctx, CAIRN_ENOTFOUND, "alias '%s' of model '%s' has no history to roll back",
                       alias, name);
    if (!found || *target == 0)
        return cn_fail(ctx, CAIRN_EINVAL,
                       "alias '%s' of model '%s' is back at its first recorded version; nothing "
                       "older to roll back to (point it with 'cairn model alias')",
                       alias, name);
    rc = require_version(ctx, name, *target, NULL);
    if (rc == CAIRN_ENOTFOUND)
        cn_errctx(ctx, "cannot roll back alias '%s'", alias);
    return rc;
}

/* Where op moves alias from current, or *target = current for nothing to do. */
static cairn_status alias_target(cairn_ctx *ctx, const char *name, const char *alias,
                                 cn_alias_op op, int64_t version, int64_t current, int64_t *target)
{
    *target = current;
    switch (op) {
    case CN_ALIAS_SET: {
        cairn_status rc = require_version(ctx, name, version, NULL);
        if (rc == CAIRN_OK)
            *target = version;
        return rc;
    }
    case CN_ALIAS_DELETE:
        if (current == 0)
            return cn_fail(ctx, CAIRN_ENOTFOUND, "model '%s' has no alias '%s'", name, alias);
        *target = 0;
        return CAIRN_OK;
    case CN_ALIAS_ROLLBACK: return rollback_target(ctx, name, alias, target);
    }
    CN_BUG("bad alias op");
}

cairn_status cn_store_alias_move(cairn_ctx *ctx, const char *name, const char *alias,
                                 cn_alias_op op, int64_t version,
                                 const cairn_registry_move_opts *mv, int64_t *version_out)
{
    static const cairn_registry_event_kind kinds[] = {
        [CN_ALIAS_SET] = CAIRN_EVENT_ALIAS_SET,
        [CN_ALIAS_DELETE] = CAIRN_EVENT_ALIAS_DELETE,
        [CN_ALIAS_ROLLBACK] = CAIRN_EVENT_ROLLBACK,
    };
    int64_t current = 0, target = 0, now = cn_now_ms();
    bool found;
    if (version_out)
        *version_out = 0;
    cairn_status rc = cn_store_begin(ctx);
    if (rc != CAIRN_OK)
        return rc;
    rc = lock_model(ctx, name);
    if (rc == CAIRN_OK)
        rc = cn_store_query_int(
            ctx, &current, &found,
            "SELECT version FROM registered_model_aliases WHERE name = ? AND alias = ?", "ss", name,
            alias);
    if (rc == CAIRN_OK)
        rc = alias_target(ctx, name, alias, op, version, current, &target);
    if (rc == CAIRN_OK && target != current) {
        cn_buf sql = CN_BUF_INIT;
        cn_store_upsert_sql(&sql, "registered_model_aliases", "name, alias, version", "name, alias",
                            NULL);
        if (target == 0)
            rc = cn_store_run(ctx,
                              "DELETE FROM registered_model_aliases WHERE name = ? AND alias = ?",
                              "ss", name, alias);
        else
            rc = cn_store_run(ctx, sql.data, "ssi", name, alias, target);
        cn_buf_release(&sql);
        event_row e = {
            .kind = kinds[op], .alias = alias, .from_version = current, .to_version = target};
        if (rc == CAIRN_OK)
            rc = add_event(ctx, name, &e, mv, now);
        if (rc == CAIRN_OK)
            rc = touch_model(ctx, name, now);
    }
    rc = end_txn(ctx, rc);
    if (rc == CAIRN_OK && version_out)
        *version_out = target;
    return rc;
}

/* Moves one version from stage `from` to `to`, recording the move. */
static cairn_status move_stage(cairn_ctx *ctx, const char *name, int64_t version,
                               cairn_model_stage from, cairn_model_stage to,
                               const cairn_registry_move_opts *mv, int64_t now)
{
    event_row e = {.kind = CAIRN_EVENT_STAGE,
                   .from_version = version,
                   .to_version = version,
                   .from_stage = cn_stage_names[from],
                   .to_stage = cn_stage_names[to]};
    cairn_status rc = cn_store_run(ctx,
                                   "UPDATE model_versions SET current_stage = ?, "
                                   "last_updated_time = ? WHERE name = ? AND version = ?",
                                   "sisi", cn_stage_names[to], now, name, version);
    return rc == CAIRN_OK ? add_event(ctx, name, &e, mv, now) : rc;
}

cairn_status cn_store_stage_transition(cairn_ctx *ctx, const char *name, int64_t version,
                                       cairn_model_stage stage, bool archive_existing,
                                       const cairn_registry_move_opts *mv)
{
    cn_stmt *st = NULL;
    int64_t *others = NULL;
    size_t n_others = 0, cap = 0;
    cairn_model_stage old = CAIRN_STAGE_NONE;
    int64_t now = cn_now_ms();
    cairn_status rc = cn_store_begin(ctx);
    if (rc != CAIRN_OK)
        return rc;
    rc = lock_model(ctx, name);
    if (rc == CAIRN_OK)
        rc = require_version(ctx, name, version, &old);
    bool archive =
        archive_existing && (stage == CAIRN_STAGE_STAGING || stage == CAIRN_STAGE_PRODUCTION);
    if (rc == CAIRN_OK && archive)
        rc = cn_store_query(ctx, &st,
                            "SELECT version FROM model_versions WHERE name = ? AND "
                            "current_stage = ? AND version <> ? ORDER BY version",
                            "ssi", name, cn_stage_names[stage], version);
    if (rc == CAIRN_OK && archive) {
        int r;
        while ((r = cn_store_step(ctx, st)) == CN_DB_ROW) {
            if (n_others == cap) {
                cap = cap ? 2 * cap : 8;
                others = cn_xrealloc(others, cap * sizeof *others);
            }
            others[n_others++] = cn_col_int(ctx, st, 0);
        }
        if (r != CN_DB_DONE)
            rc = (cairn_status)r;
    }
    cn_store_finalize(ctx, st);
    for (size_t i = 0; rc == CAIRN_OK && i < n_others; i++)
        rc = move_stage(ctx, name, others[i], stage, CAIRN_STAGE_ARCHIVED, mv, now);
    if (rc == CAIRN_OK && old != stage)
        rc = move_stage(ctx, name, version, old, stage, mv, now);
    if (rc == CAIRN_OK)
        rc = touch_model(ctx, name, now);
    free(others);
    return end_txn(ctx, rc);
}

static void event_from_row(cairn_ctx *ctx, cn_stmt *st, cn_arena *a, void *item)
{
    cairn_registry_event *e = item;
    e->name = cn_arena_strdup(a, cn_col_text(ctx, st, 0));
    e->seq = cn_col_int(ctx, st, 1);
    const char *kind = cn_col_text(ctx, st, 2);
    for (int k = 1; k < (int)CN_ARRAY_LEN(event_kinds); k++)
        if (strcmp(kind, event_kinds[k]) == 0)
            e->kind = (cairn_registry_event_kind)k;
    e->alias = cn_col_is_null(ctx, st, 3) ? NULL : cn_arena_strdup(a, cn_col_text(ctx, st, 3));
    e->from_version = cn_col_int(ctx, st, 4);
    e->to_version = cn_col_int(ctx, st, 5);
    e->from_stage = stage_of(cn_col_text(ctx, st, 6));
    e->to_stage = stage_of(cn_col_text(ctx, st, 7));
    e->user = cn_arena_strdup(a, cn_col_text(ctx, st, 8));
    e->reason = cn_arena_strdup(a, cn_col_text(ctx, st, 9));
    e->time_ms = cn_col_int(ctx, st, 10);
}

cairn_status cn_store_registry_history(cairn_ctx *ctx, const cairn_registry_history_query *q,
                                       cairn_registry_event_page **out)
{
    cn_page_rows rows = {0};
    cn_sql args;
    int64_t offset;

    *out = NULL;
    cairn_status rc = cn_page_token_parse(ctx, q->page_token, &offset);
    if (rc == CAIRN_OK)
        rc = require_model(ctx, q->name);
    if (rc != CAIRN_OK)
        return rc;
    cn_sql_init(&args);
    cn_sql_add_text(&args, q->name, strlen(q->name));
    if (q->alias)
        cn_sql_add_text(&args, q->alias, strlen(q->alias));
    rc = list_page(ctx,
                   q->alias ? "SELECT " EVENT_COLUMNS " FROM registry_events WHERE name = ? "
                              "AND alias = ? ORDER BY seq DESC LIMIT ? OFFSET ?"
                            : "SELECT " EVENT_COLUMNS " FROM registry_events WHERE name = ? "
                              "ORDER BY seq DESC LIMIT ? OFFSET ?",
                   &args, q->max_results, offset, sizeof *(*out)->items, event_from_row, NULL,
                   &rows);
    if (rc == CAIRN_OK)
        CN_PAGE_HAND_OVER(rows, out);
    cn_sql_release(&args);
    return rc;
}
