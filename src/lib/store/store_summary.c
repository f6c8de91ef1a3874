/* SPDX-License-Identifier: MIT */
/* store_summary.c - the SQL store's experiment summaries: every experiment in view with its
 * run counts and last activity, in one grouped query (no query per experiment, so that the
 * web UI's experiment list stays fast with 100,000 runs). */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "core/core.h"
#include "core/key.h"
#include "store/store.h"
#include "store/store_runs.h"
#include "store/store_summary.h"
#include "base/arena.h"
#include "base/banned.h"

cairn_status cn_store_experiments_summary(cairn_ctx *ctx, cairn_view view,
                                          cairn_experiment_summary_list **out)
{
    static const char *const where[] = {"WHERE e.lifecycle_stage = 'active' ",
                                        "WHERE e.lifecycle_stage = 'deleted' ", ""};
    cn_stmt *st = NULL;
    char sql[768];
    *out = NULL;
    cairn_status rc = cn_need_store(ctx);
    if (rc != CAIRN_OK)
        return rc;
    if ((unsigned)view > CAIRN_VIEW_ALL)
        return cn_fail(ctx, CAIRN_EINVAL, "unknown view type %d", (int)view);
    snprintf(sql, sizeof sql,
             "SELECT e.experiment_id, e.name, e.lifecycle_stage, e.creation_time, "
             "e.last_update_time, COUNT(CASE WHEN r.lifecycle_stage = 'active' THEN 1 END), "
             "COUNT(CASE WHEN r.lifecycle_stage = 'deleted' THEN 1 END), MAX(r.start_time), "
             "MAX(r.end_time) FROM experiments e LEFT JOIN runs r ON r.experiment_id = "
             "e.experiment_id %sGROUP BY e.experiment_id, e.name, e.lifecycle_stage, "
             "e.creation_time, e.last_update_time ORDER BY e.experiment_id",
             where[view]);
    rc = cn_store_query(ctx, &st, sql, "");
    if (rc != CAIRN_OK)
        return rc;
    cn_arena *a = cn_arena_new();
    cairn_experiment_summary_list *list = cn_arena_alloc(a, sizeof *list);
    size_t cap = 0;
    int r;
    while ((r = cn_store_step(ctx, st)) == CN_DB_ROW) {
        list->items = cn_arena_grow(a, list->items, list->n, &cap, sizeof *list->items);
        cairn_experiment_summary *s = &list->items[list->n++];
        memset(s, 0, sizeof *s);
        s->experiment_id = cn_arena_printf(a, "%lld", (long long)cn_col_int(ctx, st, 0));
        s->name = cn_arena_strdup(a, cn_col_text(ctx, st, 1));
        s->is_deleted = strcmp(cn_col_text(ctx, st, 2), "deleted") == 0;
        s->creation_time_ms = cn_col_int(ctx, st, 3);
        s->last_update_time_ms = cn_col_int(ctx, st, 4);
        s->n_active_runs = cn_col_int(ctx, st, 5);
        s->n_deleted_runs = cn_col_int(ctx, st, 6);
        s->last_activity_ms = s->last_update_time_ms;
        for (int col = 7; col <= 8; col++)
            if (!cn_col_is_null(ctx, st, col) && cn_col_int(ctx, st, col) > s->last_activity_ms)
                s->last_activity_ms = cn_col_int(ctx, st, col);
    }
    cn_store_finalize(ctx, st);
    if (r != CN_DB_DONE) {
        cn_arena_free(a);
        return (cairn_status)r;
    }
    list->internal_ = a;
    *out = list;
    return CAIRN_OK;
}

/* ---- metric series, streamed for downsampling ---- */

static cairn_status run_known(cairn_ctx *ctx, const char *run_id, const char *key)
{
    cn_run_row row;
    cairn_status rc = cn_store_run_lookup(ctx, run_id, &row);
    if (rc != CAIRN_OK)
        return rc;
    cn_run_row_release(&row);
    return cn_key_check(ctx, "metric", key);
}

cairn_status cn_store_metric_span(cairn_ctx *ctx, const char *run_id, const char *key,
                                  cairn_series_x x, bool *any, int64_t *first, int64_t *last)
{
    /* For steps, one aggregate per query: both SQLite and PostgreSQL answer a lone MIN or MAX
     * of the primary key's next column from the index, without a scan. Timestamps take one. */
    char sql[160];
    *any = false;
    *first = *last = 0;
    cairn_status rc = run_known(ctx, run_id, key);
    bool by_time = x == CAIRN_SERIES_X_TIME;
    for (int k = 0; rc == CAIRN_OK && k < (by_time ? 1 : 2); k++) {
        snprintf(sql, sizeof sql, "SELECT %s FROM metrics WHERE run_uuid = ? AND key = ?",
                 by_time ? "MIN(timestamp), MAX(timestamp)"
                 : k     ? "MAX(step)"
                         : "MIN(step)");
        cn_stmt *st = NULL;
        rc = cn_store_query(ctx, &st, sql, "ss", run_id, key);
        if (rc != CAIRN_OK)
            break;
        int r = cn_store_step(ctx, st);
        if (r == CN_DB_ROW && !cn_col_is_null(ctx, st, 0)) {
            *any = true;
            if (by_time) {
                *first = cn_col_int(ctx, st, 0);
                *last = cn_col_int(ctx, st, 1);
            } else {
                *(k ? last : first) = cn_col_int(ctx, st, 0);
            }
        }
        cn_store_finalize(ctx, st);
        if (r != CN_DB_ROW && r != CN_DB_DONE)
            rc = (cairn_status)r;
    }
    return rc;
}

cairn_status cn_store_metric_scan(cairn_ctx *ctx, const char *run_id, const char *key,
                                  cairn_series_x x, bool (*fn)(void *user, const cairn_metric *m),
                                  void *user)
{
    cn_stmt *st = NULL;
    cairn_status rc = run_known(ctx, run_id, key);
    if (rc != CAIRN_OK)
        return rc;
    /* In the primary key's order whatever the axis: no sort (the caller folds points by their
     * x, in any order). */
    (void)x;
    rc = cn_store_query(ctx, &st,
                        "SELECT step, timestamp, value, is_nan FROM metrics WHERE run_uuid = ? AND "
                        "key = ? ORDER BY step, timestamp, value",
                        "ss", run_id, key);
    if (rc != CAIRN_OK)
        return rc;
    cairn_metric m = {.key = key};
    int r;
    while ((r = cn_store_step(ctx, st)) == CN_DB_ROW) {
        m.step = cn_col_int(ctx, st, 0);
        m.timestamp_ms = cn_col_int(ctx, st, 1);
        m.value = cn_col_int(ctx, st, 3) ? NAN : cn_col_double(ctx, st, 2);
        if (!fn(user, &m))
            break;
    }
    cn_store_finalize(ctx, st);
    return r == CN_DB_ROW || r == CN_DB_DONE ? CAIRN_OK : (cairn_status)r;
}
