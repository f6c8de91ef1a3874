/* SPDX-License-Identifier: MIT */
/* store_summary.c - the SQL store's experiment summaries: every experiment in view with its
 * run counts and last activity, in one grouped query (no query per experiment, so that the
 * web UI's experiment list stays fast with 100,000 runs). */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/core.h"
#include "core/key.h"
#include "store/store.h"
#include "store/store_runs.h"
#include "store/store_summary.h"
#include "base/arena.h"
#include "base/buf.h"
#include "base/xmalloc.h"
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
                                  int64_t step_lo, int64_t step_hi,
                                  bool (*fn)(void *user, const cairn_metric *m), void *user)
{
    cn_stmt *st = NULL;
    cairn_status rc = run_known(ctx, run_id, key);
    if (rc != CAIRN_OK)
        return rc;
    /* In the primary key's order whatever the axis: no sort (the caller folds points by their
     * x, in any order). */
    bool all = step_lo == INT64_MIN && step_hi == INT64_MAX;
    rc = all ? cn_store_query(ctx, &st,
                              "SELECT step, timestamp, value, is_nan FROM metrics WHERE run_uuid = "
                              "? AND key = ? ORDER BY step, timestamp, value",
                              "ss", run_id, key)
             : cn_store_query(ctx, &st,
                              "SELECT step, timestamp, value, is_nan FROM metrics WHERE run_uuid = "
                              "? AND key = ? AND step >= ? AND step <= ? ORDER BY step, timestamp, "
                              "value",
                              "ssii", run_id, key, step_lo, step_hi);
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

/* ---- block summaries (schema 007): one per 64 steps of a long metric ---- */

/* Ties of lo and hi go to the point first in key order: same value, compare step, timestamp. */
static bool earlier(const cn_block_point *a, const cn_block_point *b)
{
    return a->step != b->step ? a->step < b->step : a->ts < b->ts;
}

void cn_metric_block_add(cn_metric_block *b, const cn_block_point *p)
{
    /* t_first: the earliest timestamp, ties to the first in key order; t_last: the latest,
     * ties to the last in key order. */
    if (b->n == 0 || p->ts < b->t_first.ts ||
        (p->ts == b->t_first.ts && cn_block_point_before(p, &b->t_first)))
        b->t_first = *p;
    if (b->n == 0 || p->ts > b->t_last.ts ||
        (p->ts == b->t_last.ts && cn_block_point_before(&b->t_last, p)))
        b->t_last = *p;
    if (b->n == 0 || cn_block_point_before(p, &b->first))
        b->first = *p;
    if (b->n == 0 || cn_block_point_before(&b->last, p))
        b->last = *p;
    b->n++;
    if (p->nan)
        return;
    if (!b->has_value || p->value < b->lo.value || (p->value == b->lo.value && earlier(p, &b->lo)))
        b->lo = *p;
    if (!b->has_value || p->value > b->hi.value || (p->value == b->hi.value && earlier(p, &b->hi)))
        b->hi = *p;
    b->has_value = true;
}

/* floor(step / 64), and the first and last step of a block, saturating at int64's ends. */
static int64_t block_of(int64_t step)
{
    return step >> CN_METRIC_BLOCK_SHIFT; /* arithmetic shift: floor, as gcc and clang do */
}

static int64_t block_first_step(int64_t block)
{
    if (block <= INT64_MIN >> CN_METRIC_BLOCK_SHIFT)
        return INT64_MIN;
    return (int64_t)((uint64_t)block << CN_METRIC_BLOCK_SHIFT);
}

static int64_t block_last_step(int64_t block)
{
    if (block >= INT64_MAX >> CN_METRIC_BLOCK_SHIFT)
        return INT64_MAX;
    return block_first_step(block) + ((int64_t)1 << CN_METRIC_BLOCK_SHIFT) - 1;
}

typedef struct block_vec {
    cn_metric_block *items;
    size_t n, cap;
} block_vec;

/* The summaries of the points with steps in [s0, s1], computed from the points (read in key
 * order, so each block is finished before the next begins). */
static cairn_status compute_blocks(cairn_ctx *ctx, const char *run_id, const char *key, int64_t s0,
                                   int64_t s1, block_vec *v)
{
    cn_stmt *st = NULL;
    cairn_status rc =
        cn_store_query(ctx, &st,
                       "SELECT step, timestamp, value, is_nan FROM metrics WHERE run_uuid = ? AND "
                       "key = ? AND step >= ? AND step <= ? ORDER BY step, timestamp, value",
                       "ssii", run_id, key, s0, s1);
    if (rc != CAIRN_OK)
        return rc;
    int r;
    while ((r = cn_store_step(ctx, st)) == CN_DB_ROW) {
        cn_block_point p = {cn_col_int(ctx, st, 0), cn_col_int(ctx, st, 1),
                            cn_col_double(ctx, st, 2), cn_col_int(ctx, st, 3) != 0};
        int64_t b = block_of(p.step);
        if (v->n == 0 || v->items[v->n - 1].block != b) {
            if (v->n == v->cap) {
                v->cap = v->cap ? 2 * v->cap : 256;
                v->items = cn_xrealloc(v->items, v->cap * sizeof *v->items);
            }
            memset(&v->items[v->n], 0, sizeof *v->items);
            v->items[v->n++].block = b;
        }
        cn_metric_block_add(&v->items[v->n - 1], &p);
    }
    cn_store_finalize(ctx, st);
    return r == CN_DB_DONE ? CAIRN_OK : (cairn_status)r;
}

static void read_point(cairn_ctx *ctx, cn_stmt *st, int col, cn_block_point *p, bool has_nan)
{
    p->step = cn_col_int(ctx, st, col);
    p->ts = cn_col_int(ctx, st, col + 1);
    p->value = cn_col_double(ctx, st, col + 2);
    p->nan = has_nan && cn_col_int(ctx, st, col + 3) != 0;
}

#define BLOCK_COLS                                                                                 \
    "block, n, f_step, f_ts, f_value, f_nan, l_step, l_ts, l_value, l_nan, lo_step, lo_ts, "       \
    "lo_value, hi_step, hi_ts, hi_value, tf_step, tf_ts, tf_value, tf_nan, tl_step, tl_ts, "       \
    "tl_value, tl_nan"
#define BLOCK_N_COLS 24
#define BLOCKS_PER_INSERT 64

/* Binds a point's step, timestamp, value and (with_nan) its NaN flag from *at on. */
static cairn_status bind_point(cairn_ctx *ctx, cn_stmt *st, int *at, const cn_block_point *p,
                               bool with_nan)
{
    cairn_status rc = cn_store_bind_int(ctx, st, (*at)++, p->step);
    if (rc == CAIRN_OK)
        rc = cn_store_bind_int(ctx, st, (*at)++, p->ts);
    if (rc == CAIRN_OK)
        rc = cn_store_bind_double(ctx, st, (*at)++, p->value);
    if (rc == CAIRN_OK && with_nan)
        rc = cn_store_bind_int(ctx, st, (*at)++, p->nan);
    return rc;
}

/* Binds one row of BLOCK_COLS (after run_uuid and key) in its column order. */
static cairn_status bind_block(cairn_ctx *ctx, cn_stmt *st, int at, const char *run_id,
                               const char *key, const cn_metric_block *b)
{
    cairn_status rc = cn_store_bind_text(ctx, st, at++, run_id);
    if (rc == CAIRN_OK)
        rc = cn_store_bind_text(ctx, st, at++, key);
    if (rc == CAIRN_OK)
        rc = cn_store_bind_int(ctx, st, at++, b->block);
    if (rc == CAIRN_OK)
        rc = cn_store_bind_int(ctx, st, at++, b->n);
    if (rc == CAIRN_OK)
        rc = bind_point(ctx, st, &at, &b->first, true);
    if (rc == CAIRN_OK)
        rc = bind_point(ctx, st, &at, &b->last, true);
    const cn_block_point *ext[2] = {&b->lo, &b->hi}; /* NULL when every point is NaN */
    for (int i = 0; i < 2 && rc == CAIRN_OK; i++) {
        if (b->has_value) {
            rc = bind_point(ctx, st, &at, ext[i], false);
            continue;
        }
        for (int k = 0; k < 3 && rc == CAIRN_OK; k++)
            rc = cn_store_bind_null(ctx, st, at++);
    }
    if (rc == CAIRN_OK)
        rc = bind_point(ctx, st, &at, &b->t_first, true);
    if (rc == CAIRN_OK)
        rc = bind_point(ctx, st, &at, &b->t_last, true);
    return rc;
}

/* Writes v's blocks, replacing those of blocks [b0, b1] (all of them when all is set). */
static cairn_status write_blocks(cairn_ctx *ctx, const char *run_id, const char *key,
                                 const block_vec *v, bool all, int64_t b0, int64_t b1)
{
    cairn_status rc =
        all ? cn_store_run(ctx, "DELETE FROM metric_blocks WHERE run_uuid = ? AND key = ?", "ss",
                           run_id, key)
            : cn_store_run(ctx,
                           "DELETE FROM metric_blocks WHERE run_uuid = ? AND key = ? AND block >= "
                           "? AND block <= ?",
                           "ssii", run_id, key, b0, b1);
    for (size_t i = 0; i < v->n && rc == CAIRN_OK; i += BLOCKS_PER_INSERT) {
        size_t n = v->n - i < BLOCKS_PER_INSERT ? v->n - i : BLOCKS_PER_INSERT;
        cn_buf sql = CN_BUF_INIT;
        cn_buf_puts(&sql, "INSERT INTO metric_blocks (run_uuid, key, " BLOCK_COLS ") VALUES ");
        for (size_t k = 0; k < n; k++) { /* run_uuid, key and the BLOCK_N_COLS columns */
            cn_buf_puts(&sql, k ? ", (?" : "(?");
            for (int c = 1; c < BLOCK_N_COLS + 2; c++)
                cn_buf_puts(&sql, ", ?");
            cn_buf_putc(&sql, ')');
        }
        cn_stmt *st = NULL;
        rc = cn_store_prepare(ctx, sql.data, &st);
        cn_buf_release(&sql);
        for (size_t k = 0; k < n && rc == CAIRN_OK; k++)
            rc =
                bind_block(ctx, st, (int)k * (BLOCK_N_COLS + 2) + 1, run_id, key, &v->items[i + k]);
        if (rc == CAIRN_OK) {
            int r = cn_store_step(ctx, st);
            if (r != CN_DB_DONE)
                rc = (cairn_status)r;
        }
        cn_store_finalize(ctx, st);
    }
    return rc;
}

/* Keeps the summaries computed from points read while the series' write count was seq0: only
 * if it still is (no point logged since), in one write transaction that also clears the dirty
 * range. On PostgreSQL the series' latest_metrics row is locked first, so a writer of the
 * series waits for the transaction; on SQLite the transaction holds the write lock. */
static bool keep_blocks(cairn_ctx *ctx, const char *run_id, const char *key, const block_vec *v,
                        bool all, int64_t b0, int64_t b1, int64_t seq0)
{
    cn_sql_store *s = cn_store_sql(ctx);
    if (s->read_only || s->in_txn)
        return false;
    bool pg = strcmp(s->db_ops->name, "postgresql") == 0;
    int64_t seq = 0;
    bool found = false;
    cairn_status rc = cn_store_begin(ctx);
    if (rc != CAIRN_OK)
        goto fail;
    rc = cn_store_query_int(ctx, &seq, &found,
                            pg ? "SELECT seq FROM latest_metrics WHERE run_uuid = ? AND key = ? "
                                 "FOR UPDATE"
                               : "SELECT seq FROM latest_metrics WHERE run_uuid = ? AND key = ?",
                            "ss", run_id, key);
    if (rc == CAIRN_OK && (!found || seq != seq0)) { /* points came meanwhile: the next read */
        cn_store_rollback(ctx);
        return false;
    }
    if (rc == CAIRN_OK)
        rc = write_blocks(ctx, run_id, key, v, all, b0, b1);
    if (rc == CAIRN_OK)
        rc = cn_store_run(ctx,
                          "UPDATE latest_metrics SET blocks = 1, dirty_lo = NULL, dirty_hi = NULL "
                          "WHERE run_uuid = ? AND key = ?",
                          "ss", run_id, key);
    if (rc == CAIRN_OK)
        rc = cn_store_commit(ctx);
    else
        cn_store_rollback(ctx);
    if (rc == CAIRN_OK)
        return true;
fail:
    /* Nothing is lost: the answer was computed from the points, and the next read computes the
     * summaries again (a busy or full store refuses the write). */
    cn_log(ctx, CAIRN_LOG_DEBUG, "store", "metric '%s' of run %s: summaries not kept: %s", key,
           run_id, ctx->err.data ? ctx->err.data : "");
    cn_buf_clear(&ctx->err);
    return false;
}

static cairn_status metric_blocks(cairn_ctx *ctx, const char *run_id, const char *key,
                                  bool (*fn)(void *user, const cn_metric_block *b), void *user,
                                  bool *kept_out)
{
    cairn_status rc = run_known(ctx, run_id, key);
    if (rc != CAIRN_OK)
        return rc;
    cn_stmt *st = NULL;
    rc = cn_store_query(ctx, &st,
                        "SELECT blocks, dirty_lo, dirty_hi, seq FROM latest_metrics WHERE "
                        "run_uuid = ? AND key = ?",
                        "ss", run_id, key);
    if (rc != CAIRN_OK)
        return rc;
    int r = cn_store_step(ctx, st);
    bool kept = false, dirty = false;
    int64_t lo = 0, hi = 0, seq0 = 0;
    if (r == CN_DB_ROW) {
        kept = cn_col_int(ctx, st, 0) != 0;
        dirty = !cn_col_is_null(ctx, st, 1);
        lo = cn_col_int(ctx, st, 1);
        hi = cn_col_int(ctx, st, 2);
        seq0 = cn_col_int(ctx, st, 3);
    }
    cn_store_finalize(ctx, st);
    if (r == CN_DB_DONE) /* no point logged */
        return CAIRN_OK;
    if (r != CN_DB_ROW)
        return (cairn_status)r;

    /* What must be computed from the points: everything when nothing is kept, else the
     * blocks the steps logged since touch. */
    block_vec v = {0};
    int64_t b0 = INT64_MIN, b1 = INT64_MAX;
    if (!kept || dirty) {
        if (kept) {
            b0 = block_of(lo);
            b1 = block_of(hi);
        }
        rc = compute_blocks(ctx, run_id, key, kept ? block_first_step(b0) : INT64_MIN,
                            kept ? block_last_step(b1) : INT64_MAX, &v);
        if (rc != CAIRN_OK)
            goto done;
        bool now_kept = keep_blocks(ctx, run_id, key, &v, !kept, b0, b1, seq0);
        if (kept_out)
            *kept_out = now_kept;
    }
    if (!kept) {
        for (size_t i = 0; i < v.n; i++)
            if (!fn(user, &v.items[i]))
                break;
        goto done;
    }
    /* The kept blocks outside [b0, b1] with the computed ones in their place. */
    rc = cn_store_query(ctx, &st,
                        "SELECT " BLOCK_COLS " FROM metric_blocks WHERE run_uuid = ? AND key = ? "
                        "AND (block < ? OR block > ?) ORDER BY block",
                        "ssii", run_id, key, dirty ? b0 : INT64_MAX, dirty ? b1 : INT64_MIN);
    if (rc != CAIRN_OK)
        goto done;
    size_t next = 0; /* the first computed block not yet visited */
    bool more = true;
    while (more && (r = cn_store_step(ctx, st)) == CN_DB_ROW) {
        cn_metric_block b = {0};
        b.block = cn_col_int(ctx, st, 0);
        b.n = cn_col_int(ctx, st, 1);
        read_point(ctx, st, 2, &b.first, true);
        read_point(ctx, st, 6, &b.last, true);
        b.has_value = !cn_col_is_null(ctx, st, 12);
        if (b.has_value) {
            read_point(ctx, st, 10, &b.lo, false);
            read_point(ctx, st, 13, &b.hi, false);
        }
        read_point(ctx, st, 16, &b.t_first, true);
        read_point(ctx, st, 20, &b.t_last, true);
        for (; more && next < v.n && v.items[next].block < b.block; next++)
            more = fn(user, &v.items[next]);
        if (more)
            more = fn(user, &b);
    }
    cn_store_finalize(ctx, st);
    if (more && r != CN_DB_ROW && r != CN_DB_DONE) {
        rc = (cairn_status)r;
        goto done;
    }
    for (; more && next < v.n; next++)
        more = fn(user, &v.items[next]);
done:
    free(v.items);
    return rc;
}

cairn_status cn_store_metric_blocks(cairn_ctx *ctx, const char *run_id, const char *key,
                                    bool (*fn)(void *user, const cn_metric_block *b), void *user)
{
    return metric_blocks(ctx, run_id, key, fn, user, NULL);
}

static bool no_block(void *user, const cn_metric_block *b)
{
    (void)user;
    (void)b;
    return false;
}

cairn_status cn_store_metrics_summarize(cairn_ctx *ctx, int64_t min_step, size_t max,
                                        size_t *n_kept)
{
    *n_kept = 0;
    if (cn_store_sql(ctx)->read_only || max == 0)
        return CAIRN_OK;
    /* The candidates first (a few rows), then each computed and kept on its own. */
    cn_stmt *st = NULL;
    cairn_status rc = cn_store_query(ctx, &st,
                                     "SELECT run_uuid, key FROM latest_metrics WHERE blocks = 0 "
                                     "AND step >= ? LIMIT ?",
                                     "ii", min_step, (int64_t)max);
    if (rc != CAIRN_OK)
        return rc;
    char **names = cn_xcalloc(2 * max, sizeof *names);
    size_t n = 0;
    int r;
    while (n < max && (r = cn_store_step(ctx, st)) == CN_DB_ROW) {
        names[2 * n] = cn_xstrdup(cn_col_text(ctx, st, 0));
        names[2 * n + 1] = cn_xstrdup(cn_col_text(ctx, st, 1));
        n++;
    }
    cn_store_finalize(ctx, st);
    for (size_t i = 0; i < n && rc == CAIRN_OK; i++) {
        bool kept = false;
        rc = metric_blocks(ctx, names[2 * i], names[2 * i + 1], no_block, NULL, &kept);
        if (rc == CAIRN_ENOTFOUND) /* the run went meanwhile */
            rc = CAIRN_OK;
        *n_kept += kept;
    }
    for (size_t i = 0; i < 2 * n; i++)
        free(names[i]);
    free(names);
    return rc;
}
