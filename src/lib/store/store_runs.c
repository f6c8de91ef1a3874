/* SPDX-License-Identifier: MIT */
/* store_runs.c - the SQL store's runs: create, read, update, lifecycle, batch logging of
 * metrics, params and tags (one transaction, idempotent), metric history, dataset inputs and
 * the artifact index. Writers take a run id; arguments arrive validated (tracking/runs.c). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/core.h"
#include "core/key.h"
#include "store/store.h"
#include "store/store_experiments.h"
#include "store/store_logged_models.h"
#include "store/store_runs.h"
#include "base/arena.h"
#include "base/fs.h"
#include "base/str.h"
#include "base/time.h"
#include "base/xmalloc.h"
#include "base/banned.h"

#define STR_(x) #x
#define STR(x) STR_(x)

static const char *const status_names[] = {NULL,       "RUNNING", "SCHEDULED",
                                           "FINISHED", "FAILED",  "KILLED"};

const char *cairn_run_status_str(cairn_run_status st)
{
    if ((int)st < 1 || (int)st > CAIRN_RUN_KILLED)
        return NULL;
    return status_names[st];
}

cairn_status cairn_run_status_parse(cairn_ctx *ctx, const char *text, cairn_run_status *out)
{
    for (int i = 1; i <= CAIRN_RUN_KILLED; i++)
        if (text && strcmp(text, status_names[i]) == 0) {
            *out = (cairn_run_status)i;
            return CAIRN_OK;
        }
    return cn_fail(ctx, CAIRN_EINVAL,
                   "invalid run status '%s' (use RUNNING, SCHEDULED, FINISHED, FAILED or KILLED)",
                   text ? text : "");
}

cairn_status cn_page_token_parse(cairn_ctx *ctx, const char *token, int64_t *offset)
{
    *offset = 0;
    if (!token || !*token)
        return CAIRN_OK;
    if (!cn_parse_int64(token, offset) || *offset < 0)
        return cn_fail(ctx, CAIRN_EINVAL, "invalid page token '%.40s'", token);
    return CAIRN_OK;
}

const char *cn_page_token_next(cn_arena *a, bool more, int64_t offset, int64_t max)
{
    return more ? cn_arena_printf(a, "%lld", (long long)(offset + max)) : NULL;
}

void cn_run_info_from_row(cairn_ctx *ctx, cn_stmt *st, cn_arena *a, cairn_run_info *info)
{
    char id[32];
    info->run_id = cn_arena_strdup(a, cn_col_text(ctx, st, 0));
    snprintf(id, sizeof id, "%lld", (long long)cn_col_int(ctx, st, 1));
    info->experiment_id = cn_arena_strdup(a, id);
    info->run_name = cn_arena_strdup(a, cn_col_text(ctx, st, 2));
    info->user_id = cn_arena_strdup(a, cn_col_text(ctx, st, 3));
    cairn_run_status status = CAIRN_RUN_RUNNING;
    const char *s = cn_col_text(ctx, st, 4);
    for (int i = 1; i <= CAIRN_RUN_KILLED; i++)
        if (strcmp(s, status_names[i]) == 0)
            status = (cairn_run_status)i;
    info->status = status;
    info->start_time_ms = cn_col_int(ctx, st, 5);
    info->end_time_ms = cn_col_is_null(ctx, st, 6) ? 0 : cn_col_int(ctx, st, 6);
    info->is_deleted = strcmp(cn_col_text(ctx, st, 7), "deleted") == 0;
    info->artifact_uri = cn_arena_strdup(a, cn_col_text(ctx, st, 8));
    info->status_reason =
        cn_col_is_null(ctx, st, 12) ? NULL : cn_arena_strdup(a, cn_col_text(ctx, st, 12));
    if (status == CAIRN_RUN_RUNNING && !cn_col_is_null(ctx, st, 10) &&
        !cn_col_is_null(ctx, st, 11) &&
        cn_heartbeat_is_lost(cn_col_int(ctx, st, 10), cn_col_int(ctx, st, 11), cn_now_ms())) {
        /* Its process died: report what the next writer will store (cn_store_runs_reap). */
        info->status = CAIRN_RUN_KILLED;
        info->end_time_ms = cn_col_int(ctx, st, 10);
        info->status_reason = "lost";
    }
}

bool cn_heartbeat_is_lost(int64_t beat_ms, int64_t interval_ms, int64_t now_ms)
{
    return interval_ms > 0 && beat_ms < now_ms - CAIRN_HEARTBEAT_MISSED_MAX * interval_ms;
}

static const char *find_tag(const cairn_tag *tags, size_t n, const char *key)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(tags[i].key, key) == 0)
            return tags[i].value;
    return NULL;
}

static cairn_run_record *find_rec(cairn_run_record *recs, size_t n, const char *run_id)
{
    /* Pages are at most a few thousand runs; searching linearly from a hint would be faster,
     * but rows come back grouped by run in the order of the IN list, so this stays cheap. */
    for (size_t i = 0; i < n; i++)
        if (strcmp(recs[i].info.run_id, run_id) == 0)
            return &recs[i];
    return NULL;
}

/* Appends "?, ?, ..." for n ids. */
static void in_list(cn_buf *sql, size_t n)
{
    for (size_t i = 0; i < n; i++)
        cn_buf_puts(sql, i ? ", ?" : "?");
}

static cairn_status bind_ids(cairn_ctx *ctx, cn_stmt *st, cairn_run_record *recs, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        cairn_status rc = cn_store_bind_text(ctx, st, (int)i + 1, recs[i].info.run_id);
        if (rc != CAIRN_OK)
            return rc;
    }
    return CAIRN_OK;
}

cairn_status cn_run_load_data(cairn_ctx *ctx, cn_arena *a, cairn_run_record *recs, size_t n)
{
    static const char *const queries[] = {
        "SELECT run_uuid, key, value, timestamp, step, is_nan FROM latest_metrics WHERE run_uuid "
        "IN (",
        "SELECT run_uuid, key, value FROM params WHERE run_uuid IN (",
        "SELECT run_uuid, key, value FROM tags WHERE run_uuid IN (",
        "SELECT i.run_uuid, d.name, d.digest, d.source_type, d.source, d.schema, d.profile, "
        "i.context "
        "FROM inputs i JOIN datasets d ON d.dataset_uuid = i.dataset_uuid WHERE i.run_uuid IN (",
    };
    cairn_status rc = CAIRN_OK;
    size_t *caps = cn_xcalloc(n ? n * 4 : 1, sizeof *caps);
    for (size_t start = 0; start < n && rc == CAIRN_OK; start += 500) {
        size_t chunk = n - start < 500 ? n - start : 500;
        for (int q = 0; q < 4 && rc == CAIRN_OK; q++) {
            cn_buf sql = CN_BUF_INIT;
            cn_stmt *st = NULL;
            cn_buf_puts(&sql, queries[q]);
            in_list(&sql, chunk);
            cn_buf_puts(&sql, q == 0 || q == 1 || q == 2 ? ") ORDER BY run_uuid, key"
                                                         : ") ORDER BY 1, 2");
            rc = cn_store_prepare(ctx, sql.data, &st);
            cn_buf_release(&sql);
            if (rc != CAIRN_OK)
                break;
            rc = bind_ids(ctx, st, recs + start, chunk);
            int r = CN_DB_DONE;
            while (rc == CAIRN_OK && (r = cn_store_step(ctx, st)) == CN_DB_ROW) {
                cairn_run_record *rec = find_rec(recs + start, chunk, cn_col_text(ctx, st, 0));
                if (!rec)
                    continue;
                size_t *cap = &caps[(size_t)(rec - recs) * 4 + (size_t)q];
                if (q == 0) {
                    rec->metrics =
                        cn_arena_grow(a, rec->metrics, rec->n_metrics, cap, sizeof *rec->metrics);
                    cairn_metric *m = &rec->metrics[rec->n_metrics++];
                    m->key = cn_arena_strdup(a, cn_col_text(ctx, st, 1));
                    m->value = cn_col_int(ctx, st, 5) ? NAN : cn_col_double(ctx, st, 2);
                    m->timestamp_ms = cn_col_int(ctx, st, 3);
                    m->step = cn_col_int(ctx, st, 4);
                } else if (q == 1 || q == 2) {
                    cairn_param **arr = q == 1 ? &rec->params : &rec->tags;
                    size_t *cnt = q == 1 ? &rec->n_params : &rec->n_tags;
                    *arr = cn_arena_grow(a, *arr, *cnt, cap, sizeof **arr);
                    (*arr)[*cnt].key = cn_arena_strdup(a, cn_col_text(ctx, st, 1));
                    (*arr)[*cnt].value = cn_arena_strdup(a, cn_col_text(ctx, st, 2));
                    (*cnt)++;
                } else {
                    rec->inputs =
                        cn_arena_grow(a, rec->inputs, rec->n_inputs, cap, sizeof *rec->inputs);
                    cairn_dataset_input *in = &rec->inputs[rec->n_inputs++];
                    in->name = cn_arena_strdup(a, cn_col_text(ctx, st, 1));
                    in->digest = cn_arena_strdup(a, cn_col_text(ctx, st, 2));
                    in->source_type = cn_arena_strdup(a, cn_col_text(ctx, st, 3));
                    in->source = cn_arena_strdup(a, cn_col_text(ctx, st, 4));
                    in->schema = cn_col_is_null(ctx, st, 5)
                                     ? NULL
                                     : cn_arena_strdup(a, cn_col_text(ctx, st, 5));
                    in->profile = cn_col_is_null(ctx, st, 6)
                                      ? NULL
                                      : cn_arena_strdup(a, cn_col_text(ctx, st, 6));
                    in->context = cn_arena_strdup(a, cn_col_text(ctx, st, 7));
                }
            }
            if (rc == CAIRN_OK && r != CN_DB_DONE)
                rc = (cairn_status)r;
            cn_store_finalize(ctx, st);
        }
    }
    /* A run reported lost but not stored so yet gets the tag the reap will write. */
    for (size_t i = 0; rc == CAIRN_OK && i < n; i++) {
        cairn_run_record *rec = &recs[i];
        if (!rec->info.status_reason ||
            find_tag(rec->tags, rec->n_tags, CN_STATUS_REASON_TAG) != NULL)
            continue;
        rec->tags = cn_arena_grow(a, rec->tags, rec->n_tags, &caps[i * 4 + 2], sizeof *rec->tags);
        rec->tags[rec->n_tags].key = CN_STATUS_REASON_TAG;
        rec->tags[rec->n_tags].value = rec->info.status_reason;
        rec->n_tags++;
    }
    free(caps);
    return rc;
}

cairn_status cn_store_run_get(cairn_ctx *ctx, const char *run_id, cairn_run_record **out)
{
    cn_stmt *st = NULL;
    *out = NULL;
    cairn_status rc = cn_need_store(ctx);
    if (rc == CAIRN_OK)
        rc = cn_validate_run_id(ctx, run_id);
    if (rc != CAIRN_OK)
        return rc;
    rc = cn_store_query(ctx, &st,
                        "SELECT " CN_RUN_COLUMNS " FROM runs r JOIN experiments e "
                        "ON e.experiment_id = r.experiment_id WHERE r.run_uuid = ?",
                        "s", run_id);
    if (rc != CAIRN_OK)
        return rc;
    int r = cn_store_step(ctx, st);
    if (r != CN_DB_ROW) {
        cn_store_finalize(ctx, st);
        return r == CN_DB_DONE ? cn_fail(ctx, CAIRN_ENOTFOUND, "no run with id '%s'", run_id)
                               : (cairn_status)r;
    }
    cn_arena *a = cn_arena_new();
    cairn_run_record *rec = cn_arena_alloc(a, sizeof *rec);
    cn_run_info_from_row(ctx, st, a, &rec->info);
    cn_store_finalize(ctx, st);
    rc = cn_run_load_data(ctx, a, rec, 1);
    if (rc == CAIRN_OK)
        rc = cn_store_run_outputs_load(ctx, a, rec);
    if (rc != CAIRN_OK) {
        cn_arena_free(a);
        return rc;
    }
    rec->internal_ = a;
    *out = rec;
    return CAIRN_OK;
}

CN_DEFINE_ARENA_FREE(cairn_run_record_free, cairn_run_record)

cairn_status cn_store_run_lookup(cairn_ctx *ctx, const char *run_id, cn_run_row *out)
{
    cn_stmt *st = NULL;
    memset(out, 0, sizeof *out);
    cairn_status rc = cn_need_store(ctx);
    if (rc == CAIRN_OK)
        rc = cn_validate_run_id(ctx, run_id);
    if (rc != CAIRN_OK)
        return rc;
    rc = cn_store_query(
        ctx, &st,
        "SELECT experiment_id, artifact_uri, lifecycle_stage FROM runs WHERE run_uuid = ?", "s",
        run_id);
    if (rc != CAIRN_OK)
        return rc;
    int r = cn_store_step(ctx, st);
    if (r == CN_DB_ROW) {
        cn_strlcpy(out->run_id, run_id, sizeof out->run_id);
        out->experiment_id = cn_asprintf("%lld", (long long)cn_col_int(ctx, st, 0));
        out->artifact_dir = cn_xstrdup(cn_col_text(ctx, st, 1));
        out->is_deleted = strcmp(cn_col_text(ctx, st, 2), "deleted") == 0;
    }
    cn_store_finalize(ctx, st);
    if (r == CN_DB_DONE)
        return cn_fail(ctx, CAIRN_ENOTFOUND, "no run with id '%s'", run_id);
    return r == CN_DB_ROW ? CAIRN_OK : (cairn_status)r;
}

void cn_run_row_release(cn_run_row *row)
{
    free(row->experiment_id);
    free(row->artifact_dir);
    row->experiment_id = row->artifact_dir = NULL;
}

cairn_status cn_store_run_set_deleted(cairn_ctx *ctx, const char *run_id, bool deleted)
{
    cn_run_row row;
    cairn_status rc = cn_store_run_lookup(ctx, run_id, &row);
    if (rc != CAIRN_OK)
        return rc;
    if (!deleted) {
        cairn_experiment *exp = NULL;
        rc = cn_store_experiment_get(ctx, row.experiment_id, &exp);
        if (rc == CAIRN_OK && exp->is_deleted)
            rc = cn_fail(ctx, CAIRN_EINVAL,
                         "run '%s' belongs to deleted experiment '%s'; restore the experiment",
                         run_id, exp->name);
        cairn_experiment_free(exp);
    }
    cn_run_row_release(&row);
    if (rc != CAIRN_OK)
        return rc;
    if (deleted)
        return cn_store_run(ctx,
                            "UPDATE runs SET lifecycle_stage = 'deleted', deleted_time = ? "
                            "WHERE run_uuid = ?",
                            "is", cn_now_ms(), run_id);
    return cn_store_run(ctx,
                        "UPDATE runs SET lifecycle_stage = 'active', deleted_time = NULL "
                        "WHERE run_uuid = ?",
                        "s", run_id);
}

/* ---- batch logging ---- */

/* Truncates over-long values as MLflow does; returns a pointer valid while `keep` lives. */
static const char *truncated(const char *value, size_t max, char **keep)
{
    if (strlen(value) <= max)
        return value;
    /* Do not cut a UTF-8 sequence in half. */
    size_t n = max;
    while (n > 0 && ((unsigned char)value[n] & 0xC0) == 0x80)
        n--;
    free(*keep);
    *keep = cn_xstrndup(value, n);
    return *keep;
}

static cairn_status log_params(cairn_ctx *ctx, const char *run_id, const cairn_param *params,
                               size_t n_params)
{
    char *keep = NULL;
    cairn_status rc = CAIRN_OK;
    for (size_t i = 0; i < n_params && rc == CAIRN_OK; i++) {
        const char *value = truncated(params[i].value, CAIRN_PARAM_VALUE_MAX, &keep);
        cn_stmt *st = NULL;
        rc = cn_store_query(ctx, &st, "SELECT value FROM params WHERE run_uuid = ? AND key = ?",
                            "ss", run_id, params[i].key);
        if (rc != CAIRN_OK)
            break;
        int r = cn_store_step(ctx, st);
        if (r == CN_DB_ROW) {
            const char *old = cn_col_text(ctx, st, 0);
            if (strcmp(old, value) != 0)
                rc = cn_fail(ctx, CAIRN_EINVAL,
                             "param '%s' of run '%s' is already '%.200s'; params are write-once, "
                             "so '%.200s' was refused (log a new run, or use a tag for a value "
                             "that changes)",
                             params[i].key, run_id, old, value);
            cn_store_finalize(ctx, st);
            continue;
        }
        cn_store_finalize(ctx, st);
        if (r != CN_DB_DONE) {
            rc = (cairn_status)r;
            break;
        }
        rc = cn_store_run(ctx, "INSERT INTO params (run_uuid, key, value) VALUES (?, ?, ?)", "sss",
                          run_id, params[i].key, value);
    }
    free(keep);
    return rc;
}

/* The upserts of the logging path, spelled out (cn_store_upsert_sql's output): they run for
 * every batch, so they are not built anew each time. */
static const char TAG_UPSERT[] =
    "INSERT INTO tags (run_uuid, key, value) VALUES (?, ?, ?) ON CONFLICT (run_uuid, key) DO "
    "UPDATE SET value = excluded.value";
/* The latest point of a run's key, replaced only by a point after it in MLflow's (step,
 * timestamp, value) order; and, whatever the point, the series' write count seq moves and,
 * when its block summaries are kept (schema 007), the batch's steps (lowest, highest) widen
 * the range whose summaries the next chart computes again (store_summary.c). */
#define LATEST_NEWER                                                                               \
    "(excluded.step, excluded.timestamp, excluded.value) > (latest_metrics.step, "                 \
    "latest_metrics.timestamp, latest_metrics.value)"
static const char LATEST_UPSERT[] =
    "INSERT INTO latest_metrics (run_uuid, key, value, timestamp, step, is_nan) VALUES (?, ?, ?, "
    "?, ?, ?) ON CONFLICT (run_uuid, key) DO UPDATE SET value = CASE WHEN " LATEST_NEWER
    " THEN excluded.value ELSE latest_metrics.value END, timestamp = CASE WHEN " LATEST_NEWER
    " THEN excluded.timestamp ELSE latest_metrics.timestamp END, step = CASE WHEN " LATEST_NEWER
    " THEN excluded.step ELSE latest_metrics.step END, is_nan = CASE WHEN " LATEST_NEWER
    " THEN excluded.is_nan ELSE latest_metrics.is_nan END, seq = latest_metrics.seq + 1, "
    "dirty_lo = CASE WHEN latest_metrics.blocks = 0 THEN NULL WHEN latest_metrics.dirty_lo IS "
    "NULL OR latest_metrics.dirty_lo > CAST(? AS BIGINT) THEN CAST(? AS BIGINT) ELSE "
    "latest_metrics.dirty_lo END, dirty_hi = CASE WHEN latest_metrics.blocks = 0 THEN NULL WHEN "
    "latest_metrics.dirty_hi IS NULL OR latest_metrics.dirty_hi < CAST(? AS BIGINT) THEN CAST(? "
    "AS BIGINT) ELSE latest_metrics.dirty_hi END";

static cairn_status log_tags(cairn_ctx *ctx, const char *run_id, const cairn_tag *tags,
                             size_t n_tags)
{
    char *keep = NULL;
    cairn_status rc = CAIRN_OK;
    for (size_t i = 0; i < n_tags && rc == CAIRN_OK; i++) {
        const char *value = truncated(tags[i].value, CAIRN_TAG_VALUE_MAX, &keep);
        rc = cn_store_run(ctx, TAG_UPSERT, "sss", run_id, tags[i].key, value);
        /* mlflow.runName mirrors the run's name, as in MLflow. */
        if (rc == CAIRN_OK && strcmp(tags[i].key, "mlflow.runName") == 0)
            rc = cn_store_run(ctx, "UPDATE runs SET name = ? WHERE run_uuid = ?", "ss", value,
                              run_id);
    }
    free(keep);
    return rc;
}

#define METRIC_ROWS_PER_INSERT 100

static cairn_status insert_metric_rows(cairn_ctx *ctx, const char *run_id, const cairn_metric *m,
                                       size_t n, int64_t now)
{
    cn_buf sql = CN_BUF_INIT;
    cn_buf_puts(&sql,
                "INSERT INTO metrics (run_uuid, key, step, timestamp, value, is_nan) VALUES ");
    for (size_t i = 0; i < n; i++)
        cn_buf_puts(&sql, i ? ", (?, ?, ?, ?, ?, ?)" : "(?, ?, ?, ?, ?, ?)");
    cn_buf_puts(&sql, " ON CONFLICT DO NOTHING");
    cn_stmt *st = NULL;
    cairn_status rc = cn_store_prepare(ctx, sql.data, &st);
    cn_buf_release(&sql);
    if (rc != CAIRN_OK)
        return rc;
    for (size_t i = 0; i < n && rc == CAIRN_OK; i++) {
        int b = (int)i * 6;
        bool is_nan = isnan(m[i].value);
        rc = cn_store_bind_text(ctx, st, b + 1, run_id);
        if (rc == CAIRN_OK)
            rc = cn_store_bind_text(ctx, st, b + 2, m[i].key);
        if (rc == CAIRN_OK)
            rc = cn_store_bind_int(ctx, st, b + 3, m[i].step);
        if (rc == CAIRN_OK)
            rc = cn_store_bind_int(ctx, st, b + 4, m[i].timestamp_ms ? m[i].timestamp_ms : now);
        if (rc == CAIRN_OK)
            rc = cn_store_bind_double(ctx, st, b + 5, is_nan ? 0.0 : m[i].value);
        if (rc == CAIRN_OK)
            rc = cn_store_bind_int(ctx, st, b + 6, is_nan);
    }
    if (rc == CAIRN_OK) {
        int r = cn_store_step(ctx, st);
        if (r != CN_DB_DONE)
            rc = (cairn_status)r;
    }
    cn_store_finalize(ctx, st);
    return rc;
}

/* True when point a comes after b in MLflow's (step, timestamp, value) order. */
static bool metric_after(const cairn_metric *a, int64_t a_ts, const cairn_metric *b, int64_t b_ts)
{
    if (a->step != b->step)
        return a->step > b->step;
    if (a_ts != b_ts)
        return a_ts > b_ts;
    double av = isnan(a->value) ? 0.0 : a->value, bv = isnan(b->value) ? 0.0 : b->value;
    return av > bv;
}

static cairn_status log_metrics(cairn_ctx *ctx, const char *run_id, const cairn_metric *metrics,
                                size_t n)
{
    if (n == 0)
        return CAIRN_OK;
    int64_t now = cn_now_ms();
    cairn_status rc = CAIRN_OK;
    for (size_t i = 0; i < n && rc == CAIRN_OK; i += METRIC_ROWS_PER_INSERT)
        rc = insert_metric_rows(ctx, run_id, metrics + i,
                                n - i < METRIC_ROWS_PER_INSERT ? n - i : METRIC_ROWS_PER_INSERT,
                                now);
    if (rc != CAIRN_OK)
        return rc;
    /* Per key of this batch: its latest point and its lowest and highest step; then one
     * upsert per key. */
    typedef struct key_span {
        size_t latest;
        int64_t lo, hi;
    } key_span;
    key_span *keys = cn_xmalloc(n * sizeof *keys);
    size_t n_keys = 0;
    for (size_t i = 0; i < n; i++) {
        size_t k;
        for (k = 0; k < n_keys; k++)
            if (strcmp(metrics[keys[k].latest].key, metrics[i].key) == 0)
                break;
        int64_t ts_i = metrics[i].timestamp_ms ? metrics[i].timestamp_ms : now;
        if (k == n_keys) {
            keys[n_keys++] = (key_span){i, metrics[i].step, metrics[i].step};
        } else {
            const cairn_metric *cur = &metrics[keys[k].latest];
            if (metric_after(&metrics[i], ts_i, cur, cur->timestamp_ms ? cur->timestamp_ms : now))
                keys[k].latest = i;
            if (metrics[i].step < keys[k].lo)
                keys[k].lo = metrics[i].step;
            if (metrics[i].step > keys[k].hi)
                keys[k].hi = metrics[i].step;
        }
    }
    for (size_t k = 0; k < n_keys && rc == CAIRN_OK; k++) {
        const cairn_metric *m = &metrics[keys[k].latest];
        bool is_nan = isnan(m->value);
        double v = is_nan ? 0.0 : m->value;
        rc = cn_store_run(ctx, LATEST_UPSERT, "ssdiiiiiii", run_id, m->key, v,
                          m->timestamp_ms ? m->timestamp_ms : now, m->step, (int64_t)is_nan,
                          keys[k].lo, keys[k].lo, keys[k].hi, keys[k].hi);
    }
    free(keys);
    return rc;
}

/* What a batch writes, inside a transaction (or a savepoint) the caller opened. *run_ok
 * says the run is known to exist and be active in this transaction (then it is not looked up
 * again); it is set when the lookup finds so. */
static cairn_status log_batch_writes(cairn_ctx *ctx, const cairn_run_batch *b, bool *run_ok)
{
    cairn_status rc = CAIRN_OK;
    if (!*run_ok) { /* the run exists and is not deleted: one small query, no row copied */
        int64_t deleted = 0;
        bool found = false;
        rc = cn_validate_run_id(ctx, b->run_id);
        if (rc == CAIRN_OK)
            rc = cn_store_query_int(ctx, &deleted, &found,
                                    "SELECT lifecycle_stage = 'deleted' FROM runs WHERE "
                                    "run_uuid = ?",
                                    "s", b->run_id);
        if (rc == CAIRN_OK && !found)
            rc = cn_fail(ctx, CAIRN_ENOTFOUND, "no run with id '%s'", b->run_id);
        if (rc == CAIRN_OK && deleted)
            rc = cn_fail(ctx, CAIRN_EINVAL, "run '%s' is deleted; restore it before logging to it",
                         b->run_id);
        *run_ok = rc == CAIRN_OK;
    }
    if (rc == CAIRN_OK)
        rc = log_params(ctx, b->run_id, b->params, b->n_params);
    if (rc == CAIRN_OK)
        rc = log_tags(ctx, b->run_id, b->tags, b->n_tags);
    if (rc == CAIRN_OK)
        rc = log_metrics(ctx, b->run_id, b->metrics, b->n_metrics);
    return rc;
}

static cairn_status log_batch_txn(cairn_ctx *ctx, const cairn_run_batch *b)
{
    cairn_status rc = cn_store_begin(ctx);
    if (rc != CAIRN_OK)
        return rc;
    bool run_ok = false;
    rc = log_batch_writes(ctx, b, &run_ok);
    if (rc != CAIRN_OK) {
        cn_store_rollback(ctx);
        return rc;
    }
    return cn_store_commit(ctx);
}

cairn_status cn_store_log_batch(cairn_ctx *ctx, const char *run_id, const cairn_metric *metrics,
                                size_t n_metrics, const cairn_param *params, size_t n_params,
                                const cairn_tag *tags, size_t n_tags)
{
    cairn_run_batch b = {run_id, metrics, n_metrics, params, n_params, tags, n_tags};
    return log_batch_txn(ctx, &b);
}

/* ---- group commit ---- */

typedef struct batch_order {
    const char *run_id;
    size_t index;
} batch_order;

static int batch_order_cmp(const void *a, const void *b)
{
    const batch_order *x = a, *y = b;
    int c = strcmp(x->run_id, y->run_id);
    if (c != 0)
        return c;
    return x->index < y->index ? -1 : x->index > y->index;
}

/* A failure a second try in a transaction of its own may cure: the store's, not the batch's. */
static bool worth_retry(cairn_status st)
{
    return st == CAIRN_EDB || st == CAIRN_EIO;
}

static void record(cairn_ctx *ctx, size_t i, cairn_status st, cairn_status *each, char **messages)
{
    each[i] = st;
    free(messages[i]);
    messages[i] = st == CAIRN_OK ? NULL : cn_xstrdup(cairn_errmsg(ctx));
}

/* One transaction for the whole group. The batches go in run id order, so two servers
 * committing groups on one PostgreSQL store take the runs' row locks in the same order.
 * First without savepoints (two statements per batch saved): batches rarely fail, and when
 * one does, the whole try is rolled back and *clean is false. Then, with savepoints, a savepoint
 * per batch: a batch that fails is rolled back alone and the others commit. Returns the
 * transaction's fate: not CAIRN_OK means nothing of it was committed (or, when the commit's
 * answer was lost, maybe all of it: every write is idempotent). */
static cairn_status group_txn(cairn_ctx *ctx, const cairn_run_batch *batches, size_t n,
                              const batch_order *order, bool savepoints, bool *clean,
                              cairn_status *each, char **messages)
{
    cairn_status rc = cn_store_begin(ctx);
    if (rc != CAIRN_OK)
        return rc;
    bool run_ok = false; /* the run of order[k - 1] was found active in this transaction */
    for (size_t k = 0; k < n && rc == CAIRN_OK; k++) {
        size_t i = order[k].index;
        if (k > 0 && strcmp(order[k - 1].run_id, order[k].run_id) != 0)
            run_ok = false;
        if (savepoints) {
            rc = cn_store_run(ctx, "SAVEPOINT cn_batch", "");
            if (rc != CAIRN_OK)
                break;
        }
        cairn_status st = log_batch_writes(ctx, &batches[i], &run_ok);
        if (st != CAIRN_OK && !savepoints) {
            *clean = false;
            cn_store_rollback(ctx);
            return st;
        }
        record(ctx, i, st, each, messages);
        if (!savepoints)
            continue;
        if (st != CAIRN_OK)
            rc = cn_store_run(ctx, "ROLLBACK TO SAVEPOINT cn_batch", "");
        if (rc == CAIRN_OK)
            rc = cn_store_run(ctx, "RELEASE SAVEPOINT cn_batch", "");
    }
    if (rc != CAIRN_OK) {
        cn_store_rollback(ctx);
        return rc;
    }
    return cn_store_commit(ctx);
}

cairn_status cn_store_log_batches(cairn_ctx *ctx, const cairn_run_batch *batches, size_t n,
                                  cairn_status *each, char **messages)
{
    if (n == 0)
        return CAIRN_OK;
    batch_order *order = cn_xmalloc(n * sizeof *order);
    for (size_t i = 0; i < n; i++) {
        order[i] = (batch_order){batches[i].run_id, i};
        each[i] = CAIRN_OK;
        messages[i] = NULL;
    }
    qsort(order, n, sizeof *order, batch_order_cmp);
    /* One batch needs no savepoint: its own transaction is the same thing. */
    bool grouped = false;
    if (n > 1) {
        bool clean = true;
        grouped = group_txn(ctx, batches, n, order, false, &clean, each, messages) == CAIRN_OK;
        if (!grouped && !clean) /* a batch failed: again, each batch in a savepoint */
            grouped = group_txn(ctx, batches, n, order, true, &clean, each, messages) == CAIRN_OK;
    }
    /* A group that failed as a whole, or batches that failed for the store's sake (a lost
     * connection, a deadlock victim), go again, each in a transaction of its own: what
     * cairn_runs_log_batch() would have done for them. */
    for (size_t k = 0; k < n; k++) {
        size_t i = order[k].index;
        if (!grouped || worth_retry(each[i]))
            record(ctx, i, log_batch_txn(ctx, &batches[i]), each, messages);
    }
    free(order);
    return CAIRN_OK;
}

/* ---- metric history ---- */

cairn_status cn_store_metric_history(cairn_ctx *ctx, const char *run_id, const char *key,
                                     const char *page_token, int64_t max_results,
                                     cairn_metric_page **out)
{
    cn_stmt *st = NULL;
    cn_run_row row;
    int64_t offset;
    *out = NULL;
    cairn_status rc = cn_store_run_lookup(ctx, run_id, &row);
    if (rc != CAIRN_OK)
        return rc;
    cn_run_row_release(&row);
    rc = cn_key_check(ctx, "metric", key);
    if (rc == CAIRN_OK)
        rc = cn_page_token_parse(ctx, page_token, &offset);
    if (rc != CAIRN_OK)
        return rc;
    if (max_results <= 0)
        max_results = 25000;
    if (max_results > 1000000)
        return cn_fail(ctx, CAIRN_ELIMIT, "max_results %lld is over the limit of 1000000",
                       (long long)max_results);
    rc = cn_store_query(ctx, &st,
                        "SELECT step, timestamp, value, is_nan FROM metrics WHERE run_uuid = ? AND "
                        "key = ? ORDER BY step, timestamp, value LIMIT ? OFFSET ?",
                        "ssii", run_id, key, max_results + 1, offset);
    if (rc != CAIRN_OK)
        return rc;
    cn_arena *a = cn_arena_new();
    cairn_metric_page *page = cn_arena_alloc(a, sizeof *page);
    size_t cap = 0;
    const char *key_copy = cn_arena_strdup(a, key);
    int r;
    bool more = false;
    while ((r = cn_store_step(ctx, st)) == CN_DB_ROW) {
        if ((int64_t)page->n == max_results) {
            more = true;
            break;
        }
        page->items = cn_arena_grow(a, page->items, page->n, &cap, sizeof *page->items);
        cairn_metric *m = &page->items[page->n++];
        m->key = key_copy;
        m->step = cn_col_int(ctx, st, 0);
        m->timestamp_ms = cn_col_int(ctx, st, 1);
        m->value = cn_col_int(ctx, st, 3) ? NAN : cn_col_double(ctx, st, 2);
    }
    cn_store_finalize(ctx, st);
    if (r != CN_DB_DONE && r != CN_DB_ROW) {
        cn_arena_free(a);
        return (cairn_status)r;
    }
    if (more)
        page->next_page_token = cn_arena_printf(a, "%lld", (long long)(offset + max_results));
    page->internal_ = a;
    *out = page;
    return CAIRN_OK;
}

CN_DEFINE_ARENA_FREE(cairn_metric_page_free, cairn_metric_page)

/* ---- artifacts index ---- */

cairn_status cn_store_record_artifact(cairn_ctx *ctx, const char *run_id, const char *path,
                                      int64_t size_bytes, const char *sha256)
{
    cn_buf sql = CN_BUF_INIT;
    cn_store_upsert_sql(&sql, "artifacts", "run_uuid, path, size_bytes, sha256, created_time",
                        "run_uuid, path", NULL);
    cairn_status rc =
        cn_store_run(ctx, sql.data, "ssisi", run_id, path, size_bytes, sha256, cn_now_ms());
    cn_buf_release(&sql);
    return rc;
}

cairn_status cn_store_artifacts_list(cairn_ctx *ctx, const char *run_id, const char *path,
                                     cairn_artifact_list **out)
{
    cn_run_row row;
    cn_stmt *st = NULL;
    *out = NULL;
    cairn_status rc = cn_store_run_lookup(ctx, run_id, &row);
    if (rc != CAIRN_OK)
        return rc;
    cn_run_row_release(&row);
    cn_buf prefix = CN_BUF_INIT;
    if (path && *path) {
        cn_buf_puts(&prefix, path);
        while (prefix.len && prefix.data[prefix.len - 1] == '/')
            prefix.data[--prefix.len] = '\0';
        cn_buf_putc(&prefix, '/');
    }
    rc = cn_store_query(ctx, &st,
                        "SELECT path, size_bytes, sha256 FROM artifacts WHERE run_uuid = ? AND "
                        "substr(path, 1, ?) = ? ORDER BY path",
                        "sis", run_id, (int64_t)prefix.len, cn_buf_str(&prefix));
    if (rc != CAIRN_OK) {
        cn_buf_release(&prefix);
        return rc;
    }
    cn_arena *a = cn_arena_new();
    cairn_artifact_list *list = cn_arena_alloc(a, sizeof *list);
    size_t cap = 0;
    int r;
    while ((r = cn_store_step(ctx, st)) == CN_DB_ROW) {
        const char *full = cn_col_text(ctx, st, 0);
        const char *rest = full + prefix.len;
        const char *slash = strchr(rest, '/');
        size_t name_len = slash ? (size_t)(slash - rest) : strlen(rest);
        char *rel = cn_arena_strndup(a, full, prefix.len + name_len);
        if (slash && list->n && list->items[list->n - 1].is_dir &&
            strcmp(list->items[list->n - 1].path, rel) == 0) {
            list->items[list->n - 1].size_bytes += cn_col_int(ctx, st, 1);
            continue;
        }
        list->items = cn_arena_grow(a, list->items, list->n, &cap, sizeof *list->items);
        cairn_artifact *item = &list->items[list->n++];
        item->path = rel;
        item->is_dir = slash != NULL;
        item->size_bytes = cn_col_int(ctx, st, 1);
        item->sha256 = slash ? NULL : cn_arena_strdup(a, cn_col_text(ctx, st, 2));
    }
    cn_store_finalize(ctx, st);
    cn_buf_release(&prefix);
    if (r != CN_DB_DONE) {
        cn_arena_free(a);
        return (cairn_status)r;
    }
    list->internal_ = a;
    *out = list;
    return CAIRN_OK;
}

CN_DEFINE_ARENA_FREE(cairn_artifact_list_free, cairn_artifact_list)

/* ---- writers by run id ---- */

/* <experiment location>/<run id>/artifacts, without a file:// prefix. */
static char *new_run_dir(const char *experiment_location, const char *run_id)
{
    char *dir = cn_path_join(experiment_location, run_id);
    char *full = cn_path_join(dir, "artifacts");
    free(dir);
    if (cn_str_starts(full, "file://")) {
        char *plain = cn_xstrdup(full + strlen("file://"));
        free(full);
        full = plain;
    }
    return full;
}

cairn_status cn_store_run_create(cairn_ctx *ctx, const cn_run_new *in, cn_run_row *out)
{
    cairn_experiment *exp = NULL;
    char *dir = NULL;
    memset(out, 0, sizeof *out);
    cairn_status rc = cn_store_experiment_get(ctx, in->experiment_id, &exp);
    if (rc != CAIRN_OK)
        return rc;
    if (exp->is_deleted) {
        rc = cn_fail(ctx, CAIRN_EINVAL,
                     "experiment '%s' is deleted; restore it before starting runs", exp->name);
        goto done;
    }
    cn_store_new_uuid(out->run_id);
    dir = new_run_dir(exp->artifact_location, out->run_id);
    rc = cn_store_begin(ctx);
    if (rc != CAIRN_OK)
        goto done;
    bool beats = in->heartbeat_interval_ms > 0;
    rc = cn_store_run(
        ctx,
        "INSERT INTO runs (run_uuid, experiment_id, name, user_id, status, start_time, "
        "lifecycle_stage, artifact_uri, heartbeat_ms, heartbeat_interval_ms) VALUES "
        "(?, ?, ?, ?, 'RUNNING', ?, 'active', ?, ?, ?)",
        beats ? "sissisii" : "sissisnn", out->run_id,
        (int64_t)strtoll(exp->experiment_id, NULL, 10), in->name, in->user, in->start_ms, dir,
        cn_now_ms(), in->heartbeat_interval_ms);
    if (rc == CAIRN_OK) {
        cairn_tag std[2] = {{"mlflow.runName", in->name}, {"mlflow.user", in->user}};
        rc = cn_store_log_batch(ctx, out->run_id, NULL, 0, NULL, 0, std, 2);
    }
    if (rc == CAIRN_OK && in->n_tags)
        rc = cn_store_log_batch(ctx, out->run_id, NULL, 0, NULL, 0, in->tags, in->n_tags);
    if (rc != CAIRN_OK) {
        cn_store_rollback(ctx);
        goto done;
    }
    rc = cn_store_commit(ctx);
    if (rc != CAIRN_OK)
        goto done;
    out->experiment_id = cn_xstrdup(exp->experiment_id);
    out->artifact_dir = dir;
    dir = NULL;
done:
    if (rc != CAIRN_OK)
        out->run_id[0] = '\0';
    cairn_experiment_free(exp);
    free(dir);
    return rc;
}

cairn_status cn_store_run_update(cairn_ctx *ctx, const char *run_id, const cairn_run_update *u)
{
    cn_run_row row;
    cairn_status rc = cn_store_begin(ctx);
    if (rc != CAIRN_OK)
        return rc;
    rc = cn_store_run_lookup(ctx, run_id, &row);
    if (rc == CAIRN_OK && u->name && row.is_deleted)
        rc = cn_fail(ctx, CAIRN_EINVAL, "run '%s' is deleted; restore it before logging to it",
                     run_id);
    if (rc == CAIRN_OK)
        cn_run_row_release(&row);
    if (rc == CAIRN_OK && u->name) {
        cairn_tag t = {"mlflow.runName", u->name};
        rc = log_tags(ctx, run_id, &t, 1);
    }
    const char *status = u->status ? cairn_run_status_str(u->status) : NULL;
    /* A status set by hand replaces the reason cairn recorded; RUNNING set by hand has no
     * process behind it that beats, so it loses the heartbeat (or it would be lost at once). */
    if (rc == CAIRN_OK && status)
        rc = cn_store_run(ctx, "DELETE FROM tags WHERE run_uuid = ? AND key = ?", "ss", run_id,
                          CN_STATUS_REASON_TAG);
    if (rc == CAIRN_OK && u->status == CAIRN_RUN_RUNNING)
        rc = cn_store_run(ctx,
                          "UPDATE runs SET heartbeat_ms = NULL, heartbeat_interval_ms = NULL "
                          "WHERE run_uuid = ?",
                          "s", run_id);
    if (rc == CAIRN_OK && status && u->end_ms)
        rc = cn_store_run(ctx, "UPDATE runs SET status = ?, end_time = ? WHERE run_uuid = ?", "sis",
                          status, u->end_ms, run_id);
    else if (rc == CAIRN_OK && status)
        rc = cn_store_run(ctx, "UPDATE runs SET status = ? WHERE run_uuid = ?", "ss", status,
                          run_id);
    else if (rc == CAIRN_OK && u->end_ms)
        rc = cn_store_run(ctx, "UPDATE runs SET end_time = ? WHERE run_uuid = ?", "is", u->end_ms,
                          run_id);
    if (rc != CAIRN_OK) {
        cn_run_row_release(&row);
        cn_store_rollback(ctx);
        return rc;
    }
    return cn_store_commit(ctx);
}

cairn_status cn_store_delete_tag(cairn_ctx *ctx, const char *run_id, const char *key)
{
    cn_run_row row;
    cairn_status rc = cn_store_run_lookup(ctx, run_id, &row);
    if (rc != CAIRN_OK)
        return rc;
    cn_run_row_release(&row);
    return cn_store_run(ctx, "DELETE FROM tags WHERE run_uuid = ? AND key = ?", "ss", run_id, key);
}

/* The dataset_uuid of (experiment, name, digest), inserting the dataset when it is new. */
static cairn_status dataset_uuid(cairn_ctx *ctx, int64_t exp_id, const cairn_dataset_input *in,
                                 char uuid[33])
{
    cn_stmt *st = NULL;
    cairn_status rc =
        cn_store_query(ctx, &st,
                       "SELECT dataset_uuid FROM datasets WHERE experiment_id = ? AND "
                       "name = ? AND digest = ?",
                       "iss", exp_id, in->name, in->digest);
    if (rc != CAIRN_OK)
        return rc;
    int r = cn_store_step(ctx, st);
    if (r == CN_DB_ROW)
        cn_strlcpy(uuid, cn_col_text(ctx, st, 0), 33);
    cn_store_finalize(ctx, st);
    if (r == CN_DB_ROW)
        return CAIRN_OK;
    if (r != CN_DB_DONE)
        return (cairn_status)r;
    cn_store_new_uuid(uuid);
    return cn_store_run(ctx,
                        "INSERT INTO datasets (dataset_uuid, experiment_id, name, digest, "
                        "source_type, source, schema, profile) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                        "sissssss", uuid, exp_id, in->name, in->digest,
                        in->source_type ? in->source_type : "", in->source ? in->source : "",
                        in->schema, in->profile);
}

cairn_status cn_store_log_inputs(cairn_ctx *ctx, const char *run_id,
                                 const cairn_dataset_input *inputs, size_t n)
{
    cn_run_row row;
    cn_buf upsert = CN_BUF_INIT;
    cairn_status rc = cn_store_begin(ctx);
    if (rc != CAIRN_OK)
        return rc;
    rc = cn_store_run_lookup(ctx, run_id, &row);
    if (rc != CAIRN_OK) {
        cn_store_rollback(ctx);
        return rc;
    }
    int64_t exp_id = strtoll(row.experiment_id, NULL, 10);
    cn_run_row_release(&row);
    cn_store_upsert_sql(&upsert, "inputs", "run_uuid, dataset_uuid, context",
                        "run_uuid, dataset_uuid", NULL);
    for (size_t i = 0; i < n && rc == CAIRN_OK; i++) {
        char uuid[33];
        rc = dataset_uuid(ctx, exp_id, &inputs[i], uuid);
        if (rc == CAIRN_OK)
            rc = cn_store_run(ctx, upsert.data, "sss", run_id, uuid,
                              inputs[i].context ? inputs[i].context : "");
    }
    cn_buf_release(&upsert);
    if (rc != CAIRN_OK) {
        cn_store_rollback(ctx);
        return rc;
    }
    return cn_store_commit(ctx);
}

/* ---- heartbeats ---- */

cairn_status cn_store_run_heartbeat(cairn_ctx *ctx, const char *run_id, int64_t beat_ms,
                                    int64_t interval_ms)
{
    if (beat_ms == 0)
        return cn_store_run(ctx,
                            "UPDATE runs SET heartbeat_ms = NULL, heartbeat_interval_ms = NULL "
                            "WHERE run_uuid = ? AND status = 'RUNNING'",
                            "s", run_id);
    return cn_store_run(ctx,
                        "UPDATE runs SET heartbeat_ms = ?, heartbeat_interval_ms = ? "
                        "WHERE run_uuid = ? AND status = 'RUNNING'",
                        "iis", beat_ms, interval_ms, run_id);
}

/* The lost runs: the same rule as cn_heartbeat_is_lost(), with now bound as the one '?'. */
#define LOST_RUNS                                                                                  \
    "status = 'RUNNING' AND heartbeat_ms IS NOT NULL AND heartbeat_interval_ms > 0 AND "           \
    "heartbeat_ms < ? - " STR(CAIRN_HEARTBEAT_MISSED_MAX) " * heartbeat_interval_ms"

cairn_status cn_store_runs_reap(cairn_ctx *ctx, int64_t now_ms, int64_t *n_reaped)
{
    cn_stmt *st = NULL;
    int64_t n = 0;
    if (n_reaped)
        *n_reaped = 0;
    /* Look before writing, so opening a store with nothing to reap takes no write lock. */
    cairn_status rc =
        cn_store_query(ctx, &st, "SELECT COUNT(*) FROM runs WHERE " LOST_RUNS, "i", now_ms);
    if (rc != CAIRN_OK)
        return rc;
    int r = cn_store_step(ctx, st);
    if (r == CN_DB_ROW)
        n = cn_col_int(ctx, st, 0);
    cn_store_finalize(ctx, st);
    if (r != CN_DB_ROW)
        return (cairn_status)r;
    if (n == 0)
        return CAIRN_OK;
    rc = cn_store_begin(ctx);
    if (rc != CAIRN_OK)
        return rc;
    /* The tag first: the UPDATE below changes the status the condition reads. SQLite needs the
     * WHERE to parse INSERT ... SELECT ... ON CONFLICT. */
    rc = cn_store_run(
        ctx,
        "INSERT INTO tags (run_uuid, key, value) SELECT run_uuid, '" CN_STATUS_REASON_TAG
        "', 'lost' FROM runs WHERE " LOST_RUNS
        " ON CONFLICT (run_uuid, key) DO UPDATE SET value = excluded.value",
        "i", now_ms);
    if (rc == CAIRN_OK)
        rc = cn_store_run(
            ctx, "UPDATE runs SET status = 'KILLED', end_time = heartbeat_ms WHERE " LOST_RUNS, "i",
            now_ms);
    if (rc != CAIRN_OK) {
        cn_store_rollback(ctx);
        return rc;
    }
    rc = cn_store_commit(ctx);
    if (rc == CAIRN_OK && n_reaped)
        *n_reaped = n;
    return rc;
}
