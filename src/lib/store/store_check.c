/* SPDX-License-Identifier: MIT */
/* store_check.c - cairn_store_check: a read-only look at a store that may be damaged, foreign
 * or from another cairn version. It opens the driver connection only (store.c's open would
 * refuse such a store) and reports what it finds as problems, never writing. */
#include <ctype.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include "core/core.h"
#include "store/store.h"
#include "base/arena.h"
#include "base/buf.h"
#include "base/str.h"
#include "base/xmalloc.h"
#include "base/banned.h"

typedef struct report {
    cairn_store_report pub;
    cn_arena *mem;
    const char **problems;
    size_t cap;
} report;

static void add_problem(report *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void add_problem(report *r, const char *fmt, ...)
{
    cn_buf b = CN_BUF_INIT;
    va_list ap;
    va_start(ap, fmt);
    cn_buf_vprintf(&b, fmt, ap);
    va_end(ap);
    r->problems =
        cn_arena_grow(r->mem, r->problems, r->pub.n_problems, &r->cap, sizeof *r->problems);
    r->problems[r->pub.n_problems++] = cn_arena_strdup(r->mem, cn_buf_str(&b));
    cn_buf_release(&b);
}

/* The driver's integrity check (SQLite: pages, b-trees, indexes). False when the database
 * cannot even be read, which ends the check. */
static bool check_integrity(cairn_ctx *ctx, report *r)
{
    const char *sql = cn_store_sql(ctx)->db_ops->integrity_sql;
    cn_stmt *st = NULL;
    if (!sql)
        return true;
    cairn_status rc = cn_store_query(ctx, &st, sql, "");
    int step = rc == CAIRN_OK ? cn_store_step(ctx, st) : (int)rc;
    for (; step == CN_DB_ROW; step = cn_store_step(ctx, st)) {
        const char *text = cn_col_text(ctx, st, 0);
        if (strcmp(text, "ok") != 0)
            add_problem(r, "integrity: %s", text);
    }
    cn_store_finalize(ctx, st);
    if (step != CN_DB_DONE) {
        add_problem(r, "%s", cairn_errmsg(ctx));
        return false;
    }
    return true;
}

static bool has_table(cairn_ctx *ctx, const char *name)
{
    cn_stmt *st = NULL;
    bool found = false;
    if (cn_store_query(ctx, &st, cn_store_sql(ctx)->db_ops->tables_sql, "") != CAIRN_OK)
        return false;
    while (!found && cn_store_step(ctx, st) == CN_DB_ROW)
        found = strcmp(cn_col_text(ctx, st, 0), name) == 0;
    cn_store_finalize(ctx, st);
    return found;
}

/* Each "CREATE TABLE [IF NOT EXISTS] name" of a migration's SQL must exist. */
static void check_tables_of(cairn_ctx *ctx, report *r, const char *sql, const char *migration)
{
    static const char create[] = "CREATE TABLE ";
    for (const char *p = strstr(sql, create); p; p = strstr(p + 1, create)) {
        const char *name = p + strlen(create);
        if (cn_str_starts(name, "IF NOT EXISTS "))
            name += strlen("IF NOT EXISTS ");
        size_t n = 0;
        while (isalnum((unsigned char)name[n]) || name[n] == '_')
            n++;
        char table[64];
        if (n == 0 || n >= sizeof table)
            continue;
        memcpy(table, name, n);
        table[n] = '\0';
        if (!has_table(ctx, table))
            add_problem(r, "table '%s' (migration %s) is missing", table, migration);
    }
}

/* The migrations the store records against this cairn's, and their tables. */
static void check_migrations(cairn_ctx *ctx, report *r)
{
    const cn_db_ops *ops = cn_store_sql(ctx)->db_ops;
    for (const cn_embedded_file *f = cn_store_migrations(ops, NULL); f;
         f = cn_store_migrations(ops, f)) {
        int64_t version = cn_store_migration_version(ops, f);
        const char *name = f->path + strlen(ops->name) + 1;
        if (version > r->pub.schema_version)
            break;
        cn_stmt *st = NULL;
        if (cn_store_query(ctx, &st, "SELECT name FROM cairn_schema WHERE version = ?", "i",
                           version) != CAIRN_OK) {
            add_problem(r, "%s", cairn_errmsg(ctx));
            return;
        }
        int step = cn_store_step(ctx, st);
        if (step != CN_DB_ROW)
            add_problem(r, "migration %s is not recorded in cairn_schema", name);
        else if (strcmp(cn_col_text(ctx, st, 0), name) != 0)
            add_problem(r, "migration %lld is recorded as '%s', this cairn's is '%s'",
                        (long long)version, cn_col_text(ctx, st, 0), name);
        cn_store_finalize(ctx, st);
        check_tables_of(ctx, r, (const char *)f->data, name);
    }
}

/* Everything after the connection: integrity, then what the schema says. */
static void check_store(cairn_ctx *ctx, report *r)
{
    cn_schema_state state;
    if (!check_integrity(ctx, r))
        return;
    if (cn_store_read_schema(ctx, &state) != CAIRN_OK) {
        add_problem(r, "%s", cairn_errmsg(ctx));
        cn_schema_state_release(&state);
        return;
    }
    r->pub.schema_version = state.version;
    r->pub.schema_known = state.known;
    if (!state.has_cairn_schema && state.n_tables > 0)
        add_problem(r, "not a cairn store: it holds other tables ('%s') and no cairn_schema",
                    state.other_table);
    else if (!state.has_cairn_schema)
        add_problem(r, "no cairn schema yet: the store is empty");
    else if (state.version > state.known)
        add_problem(r, "written by a newer cairn (schema %lld, this cairn knows up to %lld)",
                    (long long)state.version, (long long)state.known);
    else if (state.version < state.known)
        add_problem(r,
                    "needs an upgrade (schema %lld, this cairn applies up to %lld); open it "
                    "writable once",
                    (long long)state.version, (long long)state.known);
    if (state.has_cairn_schema)
        check_migrations(ctx, r);
    cn_schema_state_release(&state);
}

cairn_status cairn_store_check(cairn_ctx *ctx, const char *uri, cairn_store_report **out)
{
    cn_sql_store *s = NULL;
    cn_buf shown = CN_BUF_INIT;
    *out = NULL;
    uri = cn_store_default_uri(uri);
    cn_store *saved = ctx->store;
    cairn_status rc = cn_store_sql_connect(ctx, uri, &s, &shown);
    if (rc != CAIRN_OK) {
        cn_buf_release(&shown);
        return rc;
    }
    report *r = cn_xcalloc(1, sizeof *r);
    r->mem = cn_arena_new();
    r->pub.uri = cn_arena_strdup(r->mem, cn_buf_str(&shown));
    ctx->store = &s->base; /* the helpers run on ctx's store: this connection, for now */
    check_store(ctx, r);
    ctx->store = saved;
    cn_store_sql_close(&s->base);
    r->pub.problems = r->problems;
    r->pub.internal_ = r;
    *out = &r->pub;
    cn_buf_release(&shown);
    return CAIRN_OK;
}

void cairn_store_report_free(cairn_store_report *report_)
{
    if (!report_)
        return;
    report *r = report_->internal_;
    cn_arena_free(r->mem);
    free(r);
}
