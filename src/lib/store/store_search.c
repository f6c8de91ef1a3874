/* SPDX-License-Identifier: MIT */
/* store_search.c - searching runs and experiments: the filter and order_by are parsed
 * (formats/filter.c) and compiled to SQL with bound values (search_sql.c); paging by offset
 * tokens. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/core.h"
#include "store/search_sql.h"
#include "store/store.h"
#include "store/store_experiments.h"
#include "store/store_runs.h"
#include "base/arena.h"
#include "base/str.h"
#include "base/xmalloc.h"
#include "base/banned.h"

static cairn_status bind_args(cairn_ctx *ctx, cn_stmt *st, const cn_sql *s, int *idx)
{
    for (size_t i = 0; i < s->n_args; i++) {
        const cn_sqlarg *a = &s->args[i];
        cairn_status rc;
        if (a->type == CN_SQLARG_TEXT)
            rc = cn_store_bind_text(ctx, st, (*idx)++, a->text);
        else if (a->type == CN_SQLARG_INT)
            rc = cn_store_bind_int(ctx, st, (*idx)++, a->i);
        else
            rc = cn_store_bind_double(ctx, st, (*idx)++, a->d);
        if (rc != CAIRN_OK)
            return rc;
    }
    return CAIRN_OK;
}

static const char *view_clause(cairn_view view, const char *alias)
{
    switch (view) {
    case CAIRN_VIEW_DELETED_ONLY:
        return strcmp(alias, "r") == 0 ? "r.lifecycle_stage = 'deleted'"
                                       : "e.lifecycle_stage = 'deleted'";
    case CAIRN_VIEW_ALL: return "1 = 1";
    case CAIRN_VIEW_ACTIVE_ONLY:
    default:
        return strcmp(alias, "r") == 0 ? "r.lifecycle_stage = 'active'"
                                       : "e.lifecycle_stage = 'active'";
    }
}

/* What runs and experiments searches share: the page, the parsed order_by and the compiled
 * filter and order_by. */
typedef struct search {
    int64_t max_results, offset;
    cn_order *keys;
    cn_sql joins, where;
    cn_buf order;
} search;

static void search_init(search *s)
{
    memset(s, 0, sizeof *s);
    cn_sql_init(&s->joins);
    cn_sql_init(&s->where);
}

static void search_release(search *s)
{
    cn_order_free(s->keys);
    cn_sql_release(&s->joins);
    cn_sql_release(&s->where);
    cn_buf_release(&s->order);
}

/* Checks the store, max_results (0 means 1000) and the page token. */
static cairn_status search_page(cairn_ctx *ctx, search *s, int64_t max_results,
                                const char *page_token)
{
    s->max_results = max_results ? max_results : 1000;
    cairn_status rc = cn_need_store(ctx);
    if (rc == CAIRN_OK && (s->max_results < 0 || s->max_results > CAIRN_SEARCH_MAX_RESULTS))
        rc = cn_fail(ctx, CAIRN_EINVAL, "max_results must be between 1 and %d, got %lld",
                     CAIRN_SEARCH_MAX_RESULTS, (long long)s->max_results);
    if (rc == CAIRN_OK)
        rc = cn_page_token_parse(ctx, page_token, &s->offset);
    return rc;
}

static cairn_status search_compile(cairn_ctx *ctx, search *s, cn_search_target t,
                                   const char *filter, const char *const *order_by,
                                   size_t n_order_by)
{
    cairn_status rc =
        cn_search_where_compile(ctx, t, filter, filter ? strlen(filter) : 0, &s->where);
    if (rc == CAIRN_OK)
        rc = cn_order_parse(ctx, cn_search_grammar(t), order_by, n_order_by, &s->keys);
    if (rc == CAIRN_OK)
        cn_search_sql_order(t, s->keys->keys, s->keys->n, &s->joins, &s->order);
    return rc;
}

/* Binds the filter's values from *idx on, then LIMIT max+1 OFFSET, and appends up to
 * max_results rows to *items (*n of them, `size` bytes each, filled by from_row). *more says
 * whether a row beyond the page exists. */
static cairn_status fetch_page(cairn_ctx *ctx, cn_stmt *st, int idx, const search *s, cn_arena *a,
                               size_t size, cn_row_fn from_row, void **items, size_t *n, bool *more)
{
    cairn_status rc = bind_args(ctx, st, &s->where, &idx);
    if (rc == CAIRN_OK)
        rc = cn_store_bind_int(ctx, st, idx++, s->max_results + 1);
    if (rc == CAIRN_OK)
        rc = cn_store_bind_int(ctx, st, idx++, s->offset);
    *more = false;
    if (rc == CAIRN_OK)
        rc = cn_store_read_rows(ctx, st, a, s->max_results, size, from_row, items, n, more);
    return rc;
}

static void run_from_row(cairn_ctx *ctx, cn_stmt *st, cn_arena *a, void *item)
{
    cn_run_info_from_row(ctx, st, a, &((cairn_run_record *)item)->info);
}

/* Runs one page query of runs: binds the leading key (if any), the joins, the experiment ids,
 * then the filter and the page, and appends rows to page. */
static cairn_status fetch_runs(cairn_ctx *ctx, const char *sql, const char *key,
                               const cn_sql *joins, const cairn_run_search *q, const search *s,
                               cn_arena *a, cairn_run_page *page, bool *more)
{
    cn_stmt *st = NULL;
    cairn_status rc = cn_store_prepare(ctx, sql, &st);
    if (rc != CAIRN_OK)
        return rc;
    int idx = 1;
    if (key)
        rc = cn_store_bind_text(ctx, st, idx++, key);
    if (rc == CAIRN_OK)
        rc = bind_args(ctx, st, joins, &idx);
    for (size_t i = 0; rc == CAIRN_OK && i < q->n_experiment_ids; i++)
        rc = cn_store_bind_int(ctx, st, idx++, strtoll(q->experiment_ids[i], NULL, 10));
    void *items = page->items;
    if (rc == CAIRN_OK)
        rc = fetch_page(ctx, st, idx, s, a, sizeof *page->items, run_from_row, &items, &page->n,
                        more);
    page->items = items;
    cn_store_finalize(ctx, st);
    return rc;
}

/* Appends " WHERE <view> [AND r.experiment_id IN (?, ...)] AND <filter>". */
static void where_sql(cn_buf *sql, const cairn_run_search *q, const search *s, bool has_where)
{
    cn_buf_printf(sql, " %s %s", has_where ? "AND" : "WHERE", view_clause(q->view, "r"));
    if (q->n_experiment_ids) {
        cn_buf_puts(sql, " AND r.experiment_id IN (");
        for (size_t i = 0; i < q->n_experiment_ids; i++)
            cn_buf_puts(sql, i ? ", ?" : "?");
        cn_buf_puts(sql, ")");
    }
    cn_buf_printf(sql, " AND %s", cn_buf_str(&s->where.sql));
}

/* The fast path for "order by a metric, param or tag first": walk that table's (key, value)
 * index in order over runs that have the key (and a real value, for metrics), and stop after
 * the page. That page equals the general query's whenever a row beyond it exists (present
 * values sort before NaN and missing ones); otherwise *served stays false and the caller runs
 * the general query. */
static cairn_status try_metric_first(cairn_ctx *ctx, const cairn_run_search *q, const search *s,
                                     cn_arena *a, cairn_run_page *page, bool *served, bool *more)
{
    cn_sql joins;
    cn_buf order = CN_BUF_INIT, sql = CN_BUF_INIT;
    cairn_status rc = CAIRN_OK;

    *served = false;
    const cn_order_key *lead = s->keys->n ? &s->keys->keys[0] : NULL;
    const char *table = lead ? cn_search_run_key_table(lead) : NULL;
    if (!table)
        return CAIRN_OK;
    cn_sql_init(&joins);
    cn_search_sql_order(CN_SEARCH_RUNS, lead + 1, s->keys->n - 1, &joins, &order);
    cn_buf_printf(&sql,
                  "SELECT " CN_RUN_COLUMNS " FROM %s om JOIN runs r ON "
                  "r.run_uuid = om.run_uuid AND om.key = ?%s JOIN experiments e "
                  "ON e.experiment_id = r.experiment_id ",
                  table, lead->id.kind == CN_FILTER_METRIC ? " AND om.is_nan = 0" : "");
    cn_buf_puts(&sql, cn_buf_str(&joins.sql));
    cn_buf_puts(&sql, " WHERE 1 = 1");
    where_sql(&sql, q, s, true);
    cn_buf_printf(&sql, " ORDER BY om.value %s, %s LIMIT ? OFFSET ?",
                  lead->is_desc ? "DESC" : "ASC", cn_buf_str(&order));
    /* The key binds first: its '?' comes before the joins' ones in the statement. */
    rc = fetch_runs(ctx, sql.data, lead->id.key, &joins, q, s, a, page, more);
    if (rc == CAIRN_OK && *more)
        *served = true;
    else
        page->n = 0; /* not a full page: the general query decides */
    cn_sql_release(&joins);
    cn_buf_release(&order);
    cn_buf_release(&sql);
    return rc;
}

cairn_status cn_store_runs_search(cairn_ctx *ctx, const cairn_run_search *q, cairn_run_page **out)
{
    static const cairn_run_search defaults = CAIRN_RUN_SEARCH_INIT;
    search s;
    cn_buf sql = CN_BUF_INIT;
    cn_arena *a = NULL;
    cairn_status rc;

    *out = NULL;
    if (!q)
        q = &defaults;
    search_init(&s);
    rc = search_page(ctx, &s, q->max_results, q->page_token);
    for (size_t i = 0; rc == CAIRN_OK && i < q->n_experiment_ids; i++) {
        int64_t v;
        if (!q->experiment_ids[i] || !cn_parse_int64(q->experiment_ids[i], &v) || v < 0)
            rc = cn_fail(ctx, CAIRN_EINVAL, "invalid experiment id '%.64s'",
                         q->experiment_ids[i] ? q->experiment_ids[i] : "");
    }
    if (rc == CAIRN_OK)
        rc = search_compile(ctx, &s, CN_SEARCH_RUNS, q->filter, q->order_by, q->n_order_by);
    if (rc != CAIRN_OK)
        goto done;

    a = cn_arena_new();
    cairn_run_page *page = cn_arena_alloc(a, sizeof *page);
    bool served = false, more = false;
    rc = try_metric_first(ctx, q, &s, a, page, &served, &more);
    if (rc != CAIRN_OK)
        goto done;
    if (!served) {
        cn_buf_puts(&sql, "SELECT " CN_RUN_COLUMNS " FROM runs r JOIN experiments e ON "
                          "e.experiment_id = r.experiment_id ");
        cn_buf_puts(&sql, cn_buf_str(&s.joins.sql));
        where_sql(&sql, q, &s, false);
        cn_buf_printf(&sql, " ORDER BY %s LIMIT ? OFFSET ?", cn_buf_str(&s.order));
        rc = fetch_runs(ctx, sql.data, NULL, &s.joins, q, &s, a, page, &more);
        if (rc != CAIRN_OK)
            goto done;
    }
    if (!q->info_only) {
        rc = cn_run_load_data(ctx, a, page->items, page->n);
        if (rc != CAIRN_OK)
            goto done;
    }
    page->next_page_token = cn_page_token_next(a, more, s.offset, s.max_results);
    page->internal_ = a;
    a = NULL;
    *out = page;
done:
    cn_arena_free(a);
    search_release(&s);
    cn_buf_release(&sql);
    return rc;
}

CN_DEFINE_ARENA_FREE(cairn_run_page_free, cairn_run_page)

cairn_status cn_store_experiments_search(cairn_ctx *ctx, const cairn_experiment_search *q,
                                         cairn_experiment_page **out)
{
    static const cairn_experiment_search defaults = CAIRN_EXPERIMENT_SEARCH_INIT;
    search s;
    cn_buf sql = CN_BUF_INIT;
    cn_stmt *st = NULL;
    cn_page_rows rows = {0};
    bool more = false;
    cairn_status rc;

    *out = NULL;
    if (!q)
        q = &defaults;
    search_init(&s);
    rc = search_page(ctx, &s, q->max_results, q->page_token);
    if (rc == CAIRN_OK)
        rc = search_compile(ctx, &s, CN_SEARCH_EXPERIMENTS, q->filter, q->order_by, q->n_order_by);
    if (rc != CAIRN_OK)
        goto done;
    cn_buf_printf(&sql,
                  "SELECT " CN_EXPERIMENT_COLUMNS
                  " FROM experiments e %s WHERE %s AND %s ORDER BY %s "
                  "LIMIT ? OFFSET ?",
                  cn_buf_str(&s.joins.sql), view_clause(q->view, "e"), cn_buf_str(&s.where.sql),
                  cn_buf_str(&s.order));
    rc = cn_store_prepare(ctx, sql.data, &st);
    if (rc != CAIRN_OK)
        goto done;
    int idx = 1;
    rc = bind_args(ctx, st, &s.joins, &idx);
    rows.arena = cn_arena_new();
    if (rc == CAIRN_OK)
        rc = fetch_page(ctx, st, idx, &s, rows.arena, sizeof *(*out)->items, cn_experiment_from_row,
                        &rows.items, &rows.n, &more);
    for (size_t i = 0; rc == CAIRN_OK && i < rows.n; i++)
        rc = cn_experiment_load_tags(ctx, rows.arena, (cairn_experiment *)rows.items + i);
    if (rc != CAIRN_OK)
        goto done;
    rows.next_page_token = cn_page_token_next(rows.arena, more, s.offset, s.max_results);
    CN_PAGE_HAND_OVER(rows, out);
    rows.arena = NULL;
done:
    cn_store_finalize(ctx, st);
    cn_arena_free(rows.arena);
    search_release(&s);
    cn_buf_release(&sql);
    return rc;
}

CN_DEFINE_ARENA_FREE(cairn_experiment_page_free, cairn_experiment_page)

cairn_status cn_store_experiment_keys(cairn_ctx *ctx, const char *const *experiment_ids, size_t n,
                                      cairn_view view, cairn_key_kind kind, cairn_key_list **out)
{
    static const char *const tables[] = {"latest_metrics", "params", "tags"};
    cn_buf sql = CN_BUF_INIT;
    cn_stmt *st = NULL;
    *out = NULL;
    cairn_status rc = cn_need_store(ctx);
    if (rc != CAIRN_OK)
        return rc;
    cn_buf_printf(&sql,
                  "SELECT DISTINCT k.key FROM %s k JOIN runs r ON r.run_uuid = k.run_uuid "
                  "WHERE %s",
                  tables[kind], view_clause(view, "r"));
    if (n) {
        cn_buf_puts(&sql, " AND r.experiment_id IN (");
        for (size_t i = 0; i < n; i++)
            cn_buf_puts(&sql, i ? ", ?" : "?");
        cn_buf_puts(&sql, ")");
    }
    cn_buf_puts(&sql, " ORDER BY k.key LIMIT ?");
    rc = cn_store_prepare(ctx, sql.data, &st);
    cn_buf_release(&sql);
    if (rc != CAIRN_OK)
        return rc;
    int idx = 1;
    for (size_t i = 0; rc == CAIRN_OK && i < n; i++)
        rc = cn_store_bind_int(ctx, st, idx++, strtoll(experiment_ids[i], NULL, 10));
    if (rc == CAIRN_OK)
        rc = cn_store_bind_int(ctx, st, idx, CAIRN_KEYS_MAX + 1);
    if (rc != CAIRN_OK) {
        cn_store_finalize(ctx, st);
        return rc;
    }
    cn_arena *a = cn_arena_new();
    cairn_key_list *list = cn_arena_alloc(a, sizeof *list);
    size_t cap = 0;
    int r;
    while ((r = cn_store_step(ctx, st)) == CN_DB_ROW) {
        if (list->n == CAIRN_KEYS_MAX) {
            list->truncated = true;
            break;
        }
        list->keys = cn_arena_grow(a, (void *)list->keys, list->n, &cap, sizeof *list->keys);
        list->keys[list->n++] = cn_arena_strdup(a, cn_col_text(ctx, st, 0));
    }
    cn_store_finalize(ctx, st);
    if (r != CN_DB_DONE && r != CN_DB_ROW) {
        cn_arena_free(a);
        return (cairn_status)r;
    }
    list->internal_ = a;
    *out = list;
    return CAIRN_OK;
}
