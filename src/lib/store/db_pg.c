/* SPDX-License-Identifier: MIT */
/* db_pg.c - the PostgreSQL driver behind db.h, on libpq (libpq's only home in cairn). store.c's
 * '?' placeholders become $n; parameters go as text and results come back as text. Each distinct
 * statement is prepared on the server once per connection and reused (CAIRN_PG_PREPARE=0 turns
 * that off, e.g. behind a pooler in transaction mode). A dropped connection is reset once. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <libpq-fe.h>
#include "core/core.h"
#include "store/db.h"
#include "store/db_pg.h"
#include "base/buf.h"
#include "base/str.h"
#include "base/xmalloc.h"
#include "base/banned.h"

#define PG_CACHE_MAX 256 /* statements kept prepared per connection; past that, unnamed ones */
#define PG_NAME_MAX 24

typedef struct pg_cached {
    char *sql; /* the rewritten text: the key */
    uint64_t hash;
    char name[PG_NAME_MAX];
} pg_cached;

typedef struct pg_db {
    cn_db base;
    PGconn *conn;
    bool use_prepared;
    bool read_only;
    int lock_timeout_ms;
    unsigned generation; /* bumped by each reconnect: the server forgot its prepared statements */
    pg_cached *cache;    /* PG_CACHE_MAX slots, allocated on first use */
    size_t n_cache;
    unsigned long next_name;
} pg_db;

struct cn_stmt {
    pg_db *db;
    char *sql; /* rewritten: $n placeholders */
    uint64_t hash;
    int n_params;
    char **values;          /* n_params texts, NULL for SQL NULL */
    char name[PG_NAME_MAX]; /* server-side statement, "" for unnamed */
    unsigned generation;    /* db->generation when name was prepared */
    PGresult *res;
    int row;
    int n_rows;
    bool has_run;
};

/* ---- the placeholder rewriter ---- */

static bool is_ident_char(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '$' || c >= 0x80;
}

static bool is_tag_start(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c >= 0x80;
}

/* The end of a quoted run that opens at s[i] with q: doubled q is an escaped q; with
 * backslashes on (E'...'), a backslash escapes the next byte. len when unterminated. */
static size_t skip_quoted(const char *s, size_t len, size_t i, char q, bool backslashes)
{
    size_t j = i + 1;
    while (j < len) {
        if (backslashes && s[j] == '\\') {
            j += 2;
        } else if (s[j] == q) {
            if (j + 1 < len && s[j + 1] == q)
                j += 2;
            else
                return j + 1;
        } else {
            j++;
        }
    }
    return len;
}

/* PostgreSQL block comments nest. */
static size_t skip_block_comment(const char *s, size_t len, size_t i)
{
    size_t j = i + 2;
    int depth = 1;
    while (j < len) {
        if (s[j] == '/' && j + 1 < len && s[j + 1] == '*') {
            depth++;
            j += 2;
        } else if (s[j] == '*' && j + 1 < len && s[j + 1] == '/') {
            j += 2;
            if (--depth == 0)
                return j;
        } else {
            j++;
        }
    }
    return len;
}

/* The length of a dollar-quote delimiter ($$ or $tag$) at s[i], 0 if there is none ($1 is a
 * parameter: a tag cannot start with a digit). */
static size_t dollar_tag_len(const char *s, size_t len, size_t i)
{
    size_t j = i + 1;
    if (j < len && s[j] == '$')
        return 2;
    if (j >= len || !is_tag_start((unsigned char)s[j]))
        return 0;
    while (j < len && s[j] != '$' && is_ident_char((unsigned char)s[j]))
        j++;
    return j < len && s[j] == '$' ? j - i + 1 : 0;
}

static size_t skip_dollar_quoted(const char *s, size_t len, size_t i, size_t tag_len)
{
    for (size_t j = i + tag_len; j + tag_len <= len; j++)
        if (s[j] == '$' && memcmp(s + j, s + i, tag_len) == 0)
            return j + tag_len;
    return len;
}

cairn_status cn_pg_rewrite_placeholders(const char *sql, size_t len, cn_buf *out, int *n_params)
{
    size_t i = 0;
    int n = 0;

    cn_buf_clear(out);
    cn_buf_grow(out, len + 1);
    cn_buf_append(out, "", 0); /* terminated even when nothing follows */
    *n_params = 0;
    while (i < len) {
        char c = sql[i];
        bool after_ident = i > 0 && is_ident_char((unsigned char)sql[i - 1]);
        size_t end = i + 1, tag_len;
        if (c == '?') {
            if (n == CN_PG_MAX_PARAMS) {
                *n_params = n;
                return CAIRN_ELIMIT;
            }
            cn_buf_printf(out, "$%d", ++n);
            i++;
            continue;
        }
        if (c == '\'') {
            /* E'...' (or e'...') standing alone takes C-style backslash escapes. */
            bool escapes = i > 0 && (sql[i - 1] == 'E' || sql[i - 1] == 'e') &&
                           (i < 2 || !is_ident_char((unsigned char)sql[i - 2]));
            end = skip_quoted(sql, len, i, '\'', escapes);
        } else if (c == '"') {
            end = skip_quoted(sql, len, i, '"', false);
        } else if (c == '-' && i + 1 < len && sql[i + 1] == '-') {
            const char *nl = memchr(sql + i, '\n', len - i);
            end = nl ? (size_t)(nl - sql) + 1 : len;
        } else if (c == '/' && i + 1 < len && sql[i + 1] == '*') {
            end = skip_block_comment(sql, len, i);
        } else if (c == '$' && !after_ident) {
            tag_len = dollar_tag_len(sql, len, i);
            if (tag_len > 0)
                end = skip_dollar_quoted(sql, len, i, tag_len);
        }
        cn_buf_append(out, sql + i, end - i);
        i = end;
    }
    *n_params = n;
    return CAIRN_OK;
}

/* ---- errors ---- */

/* Appends s with each run of white space that holds a line break made one space, and trailing
 * white space and a final period dropped: libpq's messages end in "\n" and detail lines in ".". */
static void put_oneline(cn_buf *b, const char *s)
{
    size_t start = b->len;
    for (const char *p = s; *p; p++) {
        if (*p == '\n' || *p == '\r' || *p == '\t') {
            if (b->len > start && b->data[b->len - 1] != ' ')
                cn_buf_putc(b, ' ');
        } else {
            cn_buf_putc(b, *p);
        }
    }
    while (b->len > start && (b->data[b->len - 1] == ' ' || b->data[b->len - 1] == '.'))
        b->data[--b->len] = '\0';
}

/* Records the failure of a call that gave res (NULL: libpq gave no result) on the context. */
static cairn_status fail_result(pg_db *db, const PGresult *res)
{
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    const char *primary = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    const char *detail = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL) : NULL;
    cairn_status st = CAIRN_EDB;
    cn_buf msg = CN_BUF_INIT;

    if (state && strcmp(state, "23505") == 0) {
        st = CAIRN_EEXIST;
    } else if (state && strcmp(state, "40001") == 0) {
        cn_buf_puts(&msg, "serialization failure, retry the transaction: ");
    } else if (state && strcmp(state, "40P01") == 0) {
        cn_buf_puts(&msg, "deadlock, retry the transaction: ");
    }
    if (primary) {
        put_oneline(&msg, primary);
        if (detail) {
            cn_buf_puts(&msg, " (");
            put_oneline(&msg, detail);
            cn_buf_puts(&msg, ")");
        }
    } else {
        const char *text = res ? PQresultErrorMessage(res) : "";
        put_oneline(&msg, *text ? text : PQerrorMessage(db->conn));
    }
    if (msg.len == 0 && res)
        cn_buf_printf(&msg, "unexpected result '%s'", PQresStatus(PQresultStatus(res)));
    st = cn_fail(db->base.ctx, st, "postgresql: %s", cn_buf_str(&msg));
    cn_buf_release(&msg);
    return st;
}

void cn_pg_redact_uri(cn_buf *b, const char *uri)
{
    const char *p = strstr(uri, "://");
    cn_buf_clear(b);
    if (!p) {
        cn_buf_puts(b, uri);
        return;
    }
    p += 3;
    size_t auth_len = strcspn(p, "/?");
    const char *at = NULL;
    for (const char *q = p; q < p + auth_len; q++)
        if (*q == '@')
            at = q;
    const char *colon = at ? memchr(p, ':', (size_t)(at - p)) : NULL;
    if (colon) {
        cn_buf_append(b, uri, (size_t)(colon + 1 - uri));
        cn_buf_puts(b, "***");
        p = at;
    } else {
        cn_buf_append(b, uri, (size_t)(p - uri));
    }
    /* password=... among the query parameters */
    const char *rest = p;
    const char *pw;
    while ((pw = strstr(rest, "password=")) != NULL) {
        if (pw == rest || (pw[-1] != '?' && pw[-1] != '&')) {
            cn_buf_append(b, rest, (size_t)(pw - rest) + 9);
            rest = pw + 9;
            continue;
        }
        cn_buf_append(b, rest, (size_t)(pw - rest) + 9);
        cn_buf_puts(b, "***");
        rest = pw + 9 + strcspn(pw + 9, "&");
    }
    cn_buf_puts(b, rest);
}

/* ---- the connection ---- */

static void notice_to_log(void *arg, const char *message)
{
    pg_db *db = arg;
    cn_buf b = CN_BUF_INIT;
    put_oneline(&b, message);
    cn_log(db->base.ctx, cn_str_starts(message, "WARNING") ? CAIRN_LOG_WARN : CAIRN_LOG_DEBUG, "pg",
           "%s", cn_buf_str(&b));
    cn_buf_release(&b);
}

/* Session settings, after every (re)connect. standard_conforming_strings keeps the lexer above
 * right about backslashes; extra_float_digits=3 makes servers older than 12 send exact doubles. */
static cairn_status session_setup(pg_db *db)
{
    cn_buf sql = CN_BUF_INIT;
    cairn_status rc = CAIRN_OK;

    cn_buf_printf(&sql,
                  "SET client_encoding = 'UTF8'; SET standard_conforming_strings = on; "
                  "SET extra_float_digits = 3; SET lock_timeout = %d;",
                  db->lock_timeout_ms);
    if (db->read_only)
        cn_buf_puts(&sql, " SET default_transaction_read_only = on;");
    PGresult *res = PQexec(db->conn, sql.data);
    if (PQresultStatus(res) != PGRES_COMMAND_OK)
        rc = fail_result(db, res);
    PQclear(res);
    cn_buf_release(&sql);
    return rc;
}

static void cache_clear(pg_db *db)
{
    for (size_t i = 0; i < db->n_cache; i++)
        free(db->cache[i].sql);
    db->n_cache = 0;
}

/* Reconnects with the same parameters; the server-side statements are gone afterwards. */
static cairn_status reconnect(pg_db *db)
{
    cache_clear(db);
    db->generation++;
    PQreset(db->conn);
    if (PQstatus(db->conn) != CONNECTION_OK) {
        cn_buf msg = CN_BUF_INIT;
        put_oneline(&msg, PQerrorMessage(db->conn));
        cairn_status rc =
            cn_fail(db->base.ctx, CAIRN_EDB,
                    "postgresql: connection lost and reconnecting failed: %s", cn_buf_str(&msg));
        cn_buf_release(&msg);
        return rc;
    }
    cn_log(db->base.ctx, CAIRN_LOG_WARN, "pg", "connection to the server lost; reconnected");
    return session_setup(db);
}

enum pg_call_kind { CALL_EXEC, CALL_PREPARE, CALL_PARAMS, CALL_PREPARED };

typedef struct pg_call {
    enum pg_call_kind kind;
    const char *sql;  /* every kind has it: a lost statement name falls back to the text */
    const char *name; /* CALL_PREPARE, CALL_PREPARED */
    int n_params;
    const char *const *values;
} pg_call;

static PGresult *call_once(pg_db *db, const pg_call *c)
{
    switch (c->kind) {
    case CALL_EXEC: return PQexec(db->conn, c->sql);
    case CALL_PREPARE: return PQprepare(db->conn, c->name, c->sql, c->n_params, NULL);
    case CALL_PARAMS:
        return PQexecParams(db->conn, c->sql, c->n_params, NULL, c->values, NULL, NULL, 0);
    case CALL_PREPARED:
        return PQexecPrepared(db->conn, c->name, c->n_params, c->values, NULL, NULL, 0);
    }
    CN_BUG("bad pg_call kind");
}

/* Runs one libpq call. A connection found dead is reset once; the call is then sent again
 * only if no transaction was open (an open one died with the connection). On success *out is
 * the result (the caller clears it). */
static cairn_status call(pg_db *db, const pg_call *c, PGresult **out)
{
    pg_call again = *c;
    PGresult *res;
    cairn_status rc;

    *out = NULL;
    if (PQstatus(db->conn) == CONNECTION_BAD) {
        rc = reconnect(db);
        if (rc != CAIRN_OK)
            return rc;
        if (again.kind == CALL_PREPARED)
            again.kind = CALL_PARAMS;
    }
    bool was_idle = PQtransactionStatus(db->conn) == PQTRANS_IDLE;
    res = call_once(db, &again);
    if (PQstatus(db->conn) == CONNECTION_BAD) {
        PQclear(res);
        rc = reconnect(db);
        if (rc != CAIRN_OK)
            return rc;
        if (!was_idle)
            return cn_fail(db->base.ctx, CAIRN_EDB,
                           "postgresql: connection lost inside a transaction, which was rolled "
                           "back; retry the transaction");
        if (again.kind == CALL_PREPARED)
            again.kind = CALL_PARAMS;
        res = call_once(db, &again);
    }
    switch (PQresultStatus(res)) {
    case PGRES_COMMAND_OK:
    case PGRES_TUPLES_OK:
    case PGRES_EMPTY_QUERY: *out = res; return CAIRN_OK;
    default:
        rc = fail_result(db, res);
        PQclear(res);
        return rc;
    }
}

static cairn_status pg_open(cairn_ctx *ctx, const char *uri, const cairn_open_opts *opts,
                            cn_db **out)
{
    cn_buf shown = CN_BUF_INIT;
    pg_db *db = NULL;
    cairn_status rc = CAIRN_OK;

    *out = NULL;
    cn_pg_redact_uri(&shown, uri);
    if (!cn_str_starts(uri, "postgresql://") && !cn_str_starts(uri, "postgres://")) {
        rc = cn_fail(ctx, CAIRN_EINVAL, "store uri '%s': not a postgresql:// or postgres:// uri",
                     shown.data);
        goto done;
    }
    db = cn_xcalloc(1, sizeof *db);
    db->base.ops = &cn_db_pg_ops;
    db->base.ctx = ctx;
    db->read_only = opts && opts->read_only;
    db->lock_timeout_ms = opts && opts->busy_timeout_ms > 0 ? opts->busy_timeout_ms : 60000;
    const char *env = getenv("CAIRN_PG_PREPARE");
    db->use_prepared = !(env && strcmp(env, "0") == 0);
    db->conn = PQconnectdb(uri);
    if (!db->conn) {
        rc = cn_fail(ctx, CAIRN_EDB, "postgresql: out of memory connecting to '%s'", shown.data);
        goto done;
    }
    if (PQstatus(db->conn) != CONNECTION_OK) {
        cn_buf msg = CN_BUF_INIT;
        put_oneline(&msg, PQerrorMessage(db->conn));
        rc = cn_fail(ctx, CAIRN_EDB, "cannot connect to postgresql store '%s': %s", shown.data,
                     cn_buf_str(&msg));
        cn_buf_release(&msg);
        goto done;
    }
    PQsetNoticeProcessor(db->conn, notice_to_log, db);
    rc = session_setup(db);
    if (rc != CAIRN_OK)
        goto done;
    cn_log(ctx, CAIRN_LOG_DEBUG, "pg", "connected to '%s' (server %d, prepared statements %s)",
           shown.data, PQserverVersion(db->conn), db->use_prepared ? "on" : "off");
    *out = &db->base;
    db = NULL;
done:
    if (db) {
        PQfinish(db->conn);
        free(db);
    }
    cn_buf_release(&shown);
    return rc;
}

static void pg_close(cn_db *base)
{
    pg_db *db = (pg_db *)base;
    if (!db)
        return;
    cache_clear(db);
    free(db->cache);
    PQfinish(db->conn);
    free(db);
}

static cairn_status pg_exec(cn_db *base, const char *sql)
{
    pg_db *db = (pg_db *)base;
    pg_call c = {.kind = CALL_EXEC, .sql = sql};
    PGresult *res;
    cairn_status rc = call(db, &c, &res);
    PQclear(res);
    return rc;
}

/* FNV-1a: a quick filter before comparing cached statement texts. */
static uint64_t hash_text(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ULL;
    }
    return h;
}

/* Gives st the name of a server-side statement for its text, preparing one if this connection
 * has none yet. Leaves the name empty (run unnamed) when caching is off or the cache is full. */
static cairn_status use_cached(pg_db *db, cn_stmt *st)
{
    st->name[0] = '\0';
    st->generation = db->generation;
    if (!db->use_prepared)
        return CAIRN_OK;
    for (size_t i = 0; i < db->n_cache; i++) {
        if (db->cache[i].hash == st->hash && strcmp(db->cache[i].sql, st->sql) == 0) {
            memcpy(st->name, db->cache[i].name, PG_NAME_MAX);
            return CAIRN_OK;
        }
    }
    if (db->n_cache == PG_CACHE_MAX)
        return CAIRN_OK;
    if (!db->cache)
        db->cache = cn_xcalloc(PG_CACHE_MAX, sizeof *db->cache);
    char name[PG_NAME_MAX];
    snprintf(name, sizeof name, "cn_%lu", ++db->next_name);
    pg_call c = {.kind = CALL_PREPARE, .sql = st->sql, .name = name, .n_params = st->n_params};
    PGresult *res;
    cairn_status rc = call(db, &c, &res);
    PQclear(res);
    if (rc != CAIRN_OK)
        return rc;
    pg_cached *e = &db->cache[db->n_cache++];
    e->sql = cn_xstrdup(st->sql);
    e->hash = st->hash;
    memcpy(e->name, name, PG_NAME_MAX);
    memcpy(st->name, name, PG_NAME_MAX);
    st->generation = db->generation; /* call() may have reconnected */
    return CAIRN_OK;
}

static void stmt_free(cn_stmt *st)
{
    if (!st)
        return;
    PQclear(st->res);
    for (int i = 0; i < st->n_params; i++)
        free(st->values[i]);
    free(st->values);
    free(st->sql);
    free(st);
}

static cairn_status pg_prepare(cn_db *base, const char *sql, cn_stmt **out)
{
    pg_db *db = (pg_db *)base;
    cn_buf text = CN_BUF_INIT;
    cn_stmt *st = NULL;
    int n = 0;
    cairn_status rc;

    *out = NULL;
    rc = cn_pg_rewrite_placeholders(sql, strlen(sql), &text, &n);
    if (rc != CAIRN_OK) {
        rc = cn_fail(db->base.ctx, rc, "sql: more than %d placeholders, postgresql's limit",
                     CN_PG_MAX_PARAMS);
        goto done;
    }
    st = cn_xcalloc(1, sizeof *st);
    st->db = db;
    st->sql = cn_buf_detach(&text);
    st->hash = hash_text(st->sql);
    st->n_params = n;
    st->values = cn_xcalloc(n > 0 ? (size_t)n : 1, sizeof *st->values);
    st->row = -1;
    rc = use_cached(db, st);
    if (rc != CAIRN_OK)
        goto done;
    *out = st;
    st = NULL;
done:
    stmt_free(st);
    cn_buf_release(&text);
    return rc;
}

/* Stores a bound value's text (NULL for SQL NULL), taking ownership of v. */
static cairn_status bind_value(cn_stmt *st, int idx, char *v)
{
    if (idx < 1 || idx > st->n_params) {
        free(v);
        return cn_fail(st->db->base.ctx, CAIRN_EINVAL,
                       "bind index %d: out of range, the statement has %d parameters", idx,
                       st->n_params);
    }
    if (st->has_run) {
        free(v);
        return cn_fail(st->db->base.ctx, CAIRN_EINVAL,
                       "bind index %d: the statement has run; reset it first", idx);
    }
    free(st->values[idx - 1]);
    st->values[idx - 1] = v;
    return CAIRN_OK;
}

static cairn_status pg_bind_int64(cn_stmt *st, int idx, int64_t v)
{
    return bind_value(st, idx, cn_asprintf("%lld", (long long)v));
}

static cairn_status pg_bind_double(cn_stmt *st, int idx, double v)
{
    if (isnan(v))
        return bind_value(st, idx, cn_xstrdup("NaN"));
    if (isinf(v))
        return bind_value(st, idx, cn_xstrdup(v > 0 ? "Infinity" : "-Infinity"));
    return bind_value(st, idx, cn_asprintf("%.17g", v));
}

static cairn_status pg_bind_text(cn_stmt *st, int idx, const char *v, int len)
{
    size_t n = len < 0 ? strlen(v) : (size_t)len;
    if (memchr(v, '\0', n))
        return cn_fail(st->db->base.ctx, CAIRN_EINVAL,
                       "bind index %d: text holds a NUL byte, which postgresql cannot store", idx);
    return bind_value(st, idx, cn_xstrndup(v, n));
}

static cairn_status pg_bind_null(cn_stmt *st, int idx)
{
    return bind_value(st, idx, NULL);
}

static int pg_step(cn_stmt *st)
{
    pg_db *db = st->db;
    if (!st->has_run) {
        cairn_status rc;
        PQclear(st->res);
        st->res = NULL;
        if (st->name[0] && st->generation != db->generation) {
            rc = use_cached(db, st); /* the connection was reset since prepare */
            if (rc != CAIRN_OK)
                return (int)rc;
        }
        pg_call c = {.kind = st->name[0] ? CALL_PREPARED : CALL_PARAMS,
                     .sql = st->sql,
                     .name = st->name,
                     .n_params = st->n_params,
                     .values = (const char *const *)st->values};
        rc = call(db, &c, &st->res);
        if (rc != CAIRN_OK)
            return (int)rc;
        st->has_run = true;
        st->row = -1;
        st->n_rows = PQresultStatus(st->res) == PGRES_TUPLES_OK ? PQntuples(st->res) : 0;
    }
    if (st->row < st->n_rows)
        st->row++;
    return st->row < st->n_rows ? CN_DB_ROW : CN_DB_DONE;
}

static int pg_column_count(cn_stmt *st)
{
    return st->res ? PQnfields(st->res) : 0;
}

/* The text of col on the current row, NULL when it is NULL or there is no such cell. */
static const char *cell(cn_stmt *st, int col)
{
    if (!st->res || st->row < 0 || st->row >= st->n_rows || col < 0 || col >= PQnfields(st->res))
        return NULL;
    if (PQgetisnull(st->res, st->row, col))
        return NULL;
    return PQgetvalue(st->res, st->row, col);
}

static bool pg_column_is_null(cn_stmt *st, int col)
{
    return cell(st, col) == NULL;
}

static double parse_double(const char *s)
{
    if (!s)
        return 0.0;
    if (strcmp(s, "NaN") == 0)
        return NAN;
    if (strcmp(s, "Infinity") == 0)
        return INFINITY;
    if (strcmp(s, "-Infinity") == 0)
        return -INFINITY;
    if (strcmp(s, "t") == 0) /* boolean */
        return 1.0;
    return strtod(s, NULL);
}

static int64_t pg_column_int64(cn_stmt *st, int col)
{
    const char *s = cell(st, col);
    char *end;
    if (!s)
        return 0;
    if (strcmp(s, "t") == 0) /* boolean, as SQLite would store it */
        return 1;
    long long v = strtoll(s, &end, 10);
    if (*end == '.' || *end == 'e' || *end == 'E' || *end == 'N' || *end == 'I') {
        /* numeric or double text, truncated as SQLite does; NaN gives 0 */
        double d = parse_double(s);
        if (isnan(d))
            return 0;
        if (d >= 9223372036854775807.0)
            return INT64_MAX;
        if (d <= -9223372036854775808.0)
            return INT64_MIN;
        return (int64_t)d;
    }
    return (int64_t)v;
}

static double pg_column_double(cn_stmt *st, int col)
{
    return parse_double(cell(st, col));
}

static const char *pg_column_text(cn_stmt *st, int col)
{
    return cell(st, col);
}

static cairn_status pg_reset(cn_stmt *st)
{
    PQclear(st->res);
    st->res = NULL;
    st->has_run = false;
    st->row = -1;
    st->n_rows = 0;
    for (int i = 0; i < st->n_params; i++) {
        free(st->values[i]);
        st->values[i] = NULL;
    }
    return CAIRN_OK;
}

static void pg_finalize(cn_stmt *st)
{
    stmt_free(st);
}

static cairn_status pg_begin(cn_db *base)
{
    return pg_exec(base, "BEGIN");
}

static cairn_status pg_commit(cn_db *base)
{
    pg_db *db = (pg_db *)base;
    pg_call c = {.kind = CALL_EXEC, .sql = "COMMIT"};
    PGresult *res;
    cairn_status rc = call(db, &c, &res);
    /* COMMIT of a transaction that had failed succeeds but says ROLLBACK. */
    if (rc == CAIRN_OK && strcmp(PQcmdStatus(res), "ROLLBACK") == 0)
        rc = cn_fail(db->base.ctx, CAIRN_EDB,
                     "postgresql: commit failed: an earlier statement failed, so the "
                     "transaction was rolled back");
    PQclear(res);
    return rc;
}

static cairn_status pg_rollback(cn_db *base)
{
    pg_db *db = (pg_db *)base;
    /* No transaction, or one that died with its connection: nothing to roll back. */
    if (PQstatus(db->conn) == CONNECTION_BAD || PQtransactionStatus(db->conn) == PQTRANS_IDLE)
        return CAIRN_OK;
    return pg_exec(base, "ROLLBACK");
}

static cairn_status pg_lock_key(cn_db *db, int64_t key)
{
    char sql[64];
    snprintf(sql, sizeof sql, "SELECT pg_advisory_xact_lock(%lld)", (long long)key);
    return pg_exec(db, sql);
}

/* Nothing to set: the server owns its journal. */
static cairn_status pg_setup_writer(cn_db *db)
{
    (void)db;
    return CAIRN_OK;
}

const cn_db_ops cn_db_pg_ops = {
    .name = "postgresql",
    .open = pg_open,
    .close = pg_close,
    .exec = pg_exec,
    .prepare = pg_prepare,
    .bind_int64 = pg_bind_int64,
    .bind_double = pg_bind_double,
    .bind_text = pg_bind_text,
    .bind_null = pg_bind_null,
    .step = pg_step,
    .column_count = pg_column_count,
    .column_is_null = pg_column_is_null,
    .column_int64 = pg_column_int64,
    .column_double = pg_column_double,
    .column_text = pg_column_text,
    .reset = pg_reset,
    .finalize = pg_finalize,
    .begin = pg_begin,
    .commit = pg_commit,
    .rollback = pg_rollback,
    .lock_key = pg_lock_key,
    .claim_suffix = " FOR UPDATE SKIP LOCKED",
    .is_file = false,
    .setup_writer = pg_setup_writer,
    .tables_sql = "SELECT table_name FROM information_schema.tables WHERE table_schema = "
                  "current_schema() ORDER BY table_name",
    .integrity_sql = NULL, /* amcheck is an extension cairn cannot count on */
};
