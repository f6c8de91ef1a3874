/* SPDX-License-Identifier: MIT */
/* test_db.c - the storage drivers through the db.h vtable: SQLite in a temp file and, when
 * CAIRN_TEST_PG names a server (scripts/with-pg.sh sets it), PostgreSQL with and without
 * server-side prepared statements. Driver cases without a server print a TAP "# skip". */
#include <float.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "unit.h"
#include "base/buf.h"
#include "base/embedded.h"
#include "base/str.h"
#include "base/xmalloc.h"
#include "core/core.h"
#include "store/db.h"
#include "store/db_pg.h"

/* The migrations compiled into the library by tools/embed.c. */
extern const cn_embedded_file schema_files[];
extern const size_t schema_n_files;

typedef struct driver {
    const char *label;
    const cn_db_ops *ops;
    bool is_pg;
    bool prepared; /* PostgreSQL: server-side prepared statements */
} driver;

static const driver sqlite = {"sqlite", &cn_db_sqlite_ops, false, false};
static const driver pg_prepared = {"pg", &cn_db_pg_ops, true, true};
static const driver pg_unnamed = {"pg-unnamed", &cn_db_pg_ops, true, false};

static cairn_ctx *g_ctx;
static char g_tmpdir[64];
static int g_n_opened;

/* Opens a fresh database for d: a new SQLite file, or a new PostgreSQL schema. */
static cn_db *open_db(const driver *d)
{
    cn_db *db = NULL;
    cairn_open_opts opts = CAIRN_OPEN_OPTS_INIT;
    cn_buf uri = CN_BUF_INIT;

    if (d->is_pg) {
        setenv("CAIRN_PG_PREPARE", d->prepared ? "1" : "0", 1);
        cn_buf_puts(&uri, getenv("CAIRN_TEST_PG"));
    } else {
        cn_buf_printf(&uri, "%s/t%d.db", g_tmpdir, ++g_n_opened);
    }
    cairn_status rc = d->ops->open(g_ctx, uri.data, &opts, &db);
    if (rc != CAIRN_OK) {
        fprintf(stderr, "# open '%s': %s\n", uri.data, cairn_errmsg(g_ctx));
        CHECK(rc == CAIRN_OK);
        cn_buf_release(&uri);
        return NULL;
    }
    if (d->is_pg) {
        cn_buf sql = CN_BUF_INIT;
        int n = ++g_n_opened;
        cn_buf_printf(&sql,
                      "DROP SCHEMA IF EXISTS t%d_%d CASCADE; CREATE SCHEMA t%d_%d; "
                      "SET search_path TO t%d_%d",
                      (int)getpid(), n, (int)getpid(), n, (int)getpid(), n);
        CHECK(db->ops->exec(db, sql.data) == CAIRN_OK);
        cn_buf_release(&sql);
    }
    cn_buf_release(&uri);
    return db;
}

/* Runs sql (no parameters) and returns the first column of its only row. */
static int64_t query_int(cn_db *db, const char *sql)
{
    cn_stmt *st = NULL;
    int64_t v = -12345;
    if (db->ops->prepare(db, sql, &st) != CAIRN_OK) {
        fprintf(stderr, "# prepare '%s': %s\n", sql, cairn_errmsg(g_ctx));
        CHECK(0);
        return v;
    }
    int rc = db->ops->step(st);
    if (rc == CN_DB_ROW)
        v = db->ops->column_int64(st, 0);
    else
        fprintf(stderr, "# step '%s': %d %s\n", sql, rc, cairn_errmsg(g_ctx));
    CHECK(rc == CN_DB_ROW);
    CHECK(db->ops->step(st) == CN_DB_DONE);
    db->ops->finalize(st);
    return v;
}

static bool exec_ok(cn_db *db, const char *sql)
{
    cairn_status rc = db->ops->exec(db, sql);
    if (rc != CAIRN_OK)
        fprintf(stderr, "# exec '%s': %s\n", sql, cairn_errmsg(g_ctx));
    return rc == CAIRN_OK;
}

static bool same_bits(double a, double b)
{
    return memcmp(&a, &b, sizeof a) == 0;
}

/* ---- the rewriter, no server needed ---- */

static void expect_rewrite(const char *in, const char *want, int want_n)
{
    cn_buf out = CN_BUF_INIT;
    int n = -1;
    CHECK(cn_pg_rewrite_placeholders(in, strlen(in), &out, &n) == CAIRN_OK);
    CHECK_STR(cn_buf_str(&out), want);
    if (n != want_n)
        fprintf(stderr, "# '%s': %d placeholders, want %d\n", in, n, want_n);
    CHECK(n == want_n);
    cn_buf_release(&out);
}

static void rewrite_placeholders(void)
{
    expect_rewrite("SELECT 1", "SELECT 1", 0);
    expect_rewrite("", "", 0);
    expect_rewrite("?", "$1", 1);
    expect_rewrite("INSERT INTO t VALUES (?, ?,?)", "INSERT INTO t VALUES ($1, $2,$3)", 3);
    expect_rewrite("SELECT '?', ?", "SELECT '?', $1", 1);
    expect_rewrite("SELECT 'it''s ?' || ?", "SELECT 'it''s ?' || $1", 1);
    expect_rewrite("SELECT E'\\' ?', ?", "SELECT E'\\' ?', $1", 1);
    /* without E, a backslash is an ordinary character (standard_conforming_strings) */
    expect_rewrite("SELECT 'a\\', ?", "SELECT 'a\\', $1", 1);
    expect_rewrite("SELECT \"a?b\" FROM t WHERE x = ?", "SELECT \"a?b\" FROM t WHERE x = $1", 1);
    expect_rewrite("SELECT \"a\"\"?\" , ?", "SELECT \"a\"\"?\" , $1", 1);
    expect_rewrite("-- why?\nSELECT ?", "-- why?\nSELECT $1", 1);
    expect_rewrite("SELECT ? -- ?", "SELECT $1 -- ?", 1);
    expect_rewrite("/* ? /* ? */ ? */ SELECT ?", "/* ? /* ? */ ? */ SELECT $1", 1);
    expect_rewrite("SELECT $$ ? $$, $q$ '?' $q$, ?", "SELECT $$ ? $$, $q$ '?' $q$, $1", 1);
    expect_rewrite("SELECT a$b, ?", "SELECT a$b, $1", 1);
    expect_rewrite("x=?AND y=?", "x=$1AND y=$2", 2);
    expect_rewrite("SELECT 'h\xc3\xa9?' , ?", "SELECT 'h\xc3\xa9?' , $1", 1);
    /* unterminated: copied as is, the server reports it */
    expect_rewrite("SELECT '?", "SELECT '?", 0);
    expect_rewrite("SELECT ? /* ?", "SELECT $1 /* ?", 1);
    expect_rewrite("SELECT $a$ ?", "SELECT $a$ ?", 0);

    /* a length, not a C string */
    cn_buf out = CN_BUF_INIT;
    int n = 0;
    CHECK(cn_pg_rewrite_placeholders("? ?", 1, &out, &n) == CAIRN_OK);
    CHECK_STR(cn_buf_str(&out), "$1");
    CHECK(n == 1);

    /* the protocol's limit */
    cn_buf many = CN_BUF_INIT;
    for (int i = 0; i < CN_PG_MAX_PARAMS; i++)
        cn_buf_puts(&many, "?,");
    CHECK(cn_pg_rewrite_placeholders(many.data, many.len, &out, &n) == CAIRN_OK);
    CHECK(n == CN_PG_MAX_PARAMS);
    CHECK(cn_str_ends(out.data, ",$65535,"));
    cn_buf_puts(&many, "?");
    CHECK(cn_pg_rewrite_placeholders(many.data, many.len, &out, &n) == CAIRN_ELIMIT);
    cn_buf_release(&many);
    cn_buf_release(&out);
}

static void pg_open_errors(void)
{
    cn_db *db = (cn_db *)&db; /* must be set to NULL on failure */
    cairn_open_opts opts = CAIRN_OPEN_OPTS_INIT;

    CHECK(cn_db_pg_ops.open(g_ctx, "mysql://x/y", &opts, &db) == CAIRN_EINVAL);
    CHECK(db == NULL);
    CHECK(strstr(cairn_errmsg(g_ctx), "mysql://x/y") != NULL);

    db = (cn_db *)&db;
    CHECK(cn_db_pg_ops.open(g_ctx, "postgresql://alice:s3cret@/nodb?host=/nonexistent/dir", &opts,
                            &db) == CAIRN_EDB);
    CHECK(db == NULL);
    const char *msg = cairn_errmsg(g_ctx);
    CHECK(strstr(msg, "cannot connect") != NULL);
    CHECK(strstr(msg, "/nonexistent/dir") != NULL);
    CHECK(strstr(msg, "s3cret") == NULL);
    CHECK(strchr(msg, '\n') == NULL);

    db = (cn_db *)&db;
    CHECK(cn_db_pg_ops.open(g_ctx, "postgres:///nodb?host=/nonexistent&password=hush", &opts,
                            &db) == CAIRN_EDB);
    CHECK(db == NULL);
    CHECK(strstr(cairn_errmsg(g_ctx), "hush") == NULL);
    CHECK(strstr(cairn_errmsg(g_ctx), "password=***") != NULL);
}

/* ---- cases run on each driver ---- */

static void values_round_trip(const driver *d, cn_db *db)
{
    static const int64_t ints[] = {0, 1, -1, 42, INT64_MAX, INT64_MIN, 1700000000123};
    const double doubles[] = {0.0,     -0.0,   0.1,      1.0 / 3.0, 1e-300, -1e300,
                              DBL_MAX, 5e-324, INFINITY, -INFINITY, NAN,    123456789.125};
    static const char *const texts[] = {"",
                                        "plain",
                                        "it's \"quoted\" ? and '?' and \\",
                                        "h\xc3\xa9llo \xe2\x9c\x93 \xe6\x97\xa5\xe6\x9c\xac",
                                        "line\nbreak\ttab",
                                        "$1 ? $$"};
    cn_stmt *st = NULL;

    CHECK(exec_ok(db, "CREATE TABLE v (n BIGINT, i BIGINT, d DOUBLE PRECISION, s TEXT)"));
    CHECK(db->ops->prepare(db, "INSERT INTO v (n, i, d, s) VALUES (?, ?, ?, ?)", &st) == CAIRN_OK);
    int n_rows = 0;
    for (size_t i = 0; i < CN_ARRAY_LEN(ints); i++, n_rows++) {
        CHECK(db->ops->bind_int64(st, 1, n_rows) == CAIRN_OK);
        CHECK(db->ops->bind_int64(st, 2, ints[i]) == CAIRN_OK);
        CHECK(db->ops->step(st) == CN_DB_DONE);
        CHECK(db->ops->reset(st) == CAIRN_OK);
    }
    for (size_t i = 0; i < CN_ARRAY_LEN(doubles); i++, n_rows++) {
        CHECK(db->ops->bind_int64(st, 1, n_rows) == CAIRN_OK);
        CHECK(db->ops->bind_double(st, 3, doubles[i]) == CAIRN_OK);
        CHECK(db->ops->step(st) == CN_DB_DONE);
        CHECK(db->ops->reset(st) == CAIRN_OK);
    }
    for (size_t i = 0; i < CN_ARRAY_LEN(texts); i++, n_rows++) {
        CHECK(db->ops->bind_int64(st, 1, n_rows) == CAIRN_OK);
        CHECK(db->ops->bind_text(st, 4, texts[i], -1) == CAIRN_OK);
        CHECK(db->ops->step(st) == CN_DB_DONE);
        CHECK(db->ops->reset(st) == CAIRN_OK);
    }
    /* explicit NULLs and a text given by length */
    CHECK(db->ops->bind_int64(st, 1, n_rows++) == CAIRN_OK);
    CHECK(db->ops->bind_null(st, 2) == CAIRN_OK);
    CHECK(db->ops->bind_null(st, 3) == CAIRN_OK);
    CHECK(db->ops->bind_text(st, 4, "abcdef", 3) == CAIRN_OK);
    CHECK(db->ops->step(st) == CN_DB_DONE);
    db->ops->finalize(st);

    st = NULL;
    CHECK(db->ops->prepare(db, "SELECT n, i, d, s FROM v ORDER BY n", &st) == CAIRN_OK);
    int row = 0;
    for (size_t i = 0; i < CN_ARRAY_LEN(ints); i++, row++) {
        CHECK(db->ops->step(st) == CN_DB_ROW);
        CHECK(db->ops->column_count(st) == 4);
        CHECK(db->ops->column_int64(st, 0) == row);
        CHECK(db->ops->column_int64(st, 1) == ints[i]);
        CHECK(db->ops->column_is_null(st, 2));
        CHECK(db->ops->column_text(st, 3) == NULL);
    }
    for (size_t i = 0; i < CN_ARRAY_LEN(doubles); i++, row++) {
        CHECK(db->ops->step(st) == CN_DB_ROW);
        double got = db->ops->column_double(st, 2);
        if (isnan(doubles[i]) && !d->is_pg) {
            CHECK(db->ops->column_is_null(st, 2)); /* SQLite stores NaN as NULL */
        } else if (d->is_pg || doubles[i] != 0.0) {
            if (!same_bits(got, doubles[i]))
                fprintf(stderr, "# double %zu: got %.17g want %.17g\n", i, got, doubles[i]);
            CHECK(same_bits(got, doubles[i]) || (isnan(got) && isnan(doubles[i])));
        } else {
            CHECK(got == 0.0); /* SQLite keeps an integral REAL as an integer: -0 loses its sign */
        }
    }
    for (size_t i = 0; i < CN_ARRAY_LEN(texts); i++, row++) {
        CHECK(db->ops->step(st) == CN_DB_ROW);
        CHECK_STR(db->ops->column_text(st, 3), texts[i]);
        CHECK(!db->ops->column_is_null(st, 3));
    }
    CHECK(db->ops->step(st) == CN_DB_ROW);
    CHECK(db->ops->column_is_null(st, 1));
    CHECK(db->ops->column_is_null(st, 2));
    CHECK(db->ops->column_int64(st, 1) == 0);
    CHECK(db->ops->column_double(st, 2) == 0.0);
    CHECK_STR(db->ops->column_text(st, 3), "abc");
    CHECK(db->ops->step(st) == CN_DB_DONE);
    db->ops->finalize(st);

    /* a placeholder next to a '?' in a literal */
    st = NULL;
    CHECK(db->ops->prepare(db, "SELECT s FROM v WHERE s LIKE '%?%' AND n > ? ORDER BY n", &st) ==
          CAIRN_OK);
    CHECK(db->ops->bind_int64(st, 1, 0) == CAIRN_OK);
    CHECK(db->ops->step(st) == CN_DB_ROW);
    CHECK_STR(db->ops->column_text(st, 0), texts[2]);
    CHECK(db->ops->step(st) == CN_DB_ROW);
    CHECK_STR(db->ops->column_text(st, 0), texts[5]);
    CHECK(db->ops->step(st) == CN_DB_DONE);
    db->ops->finalize(st);
}

static void multi_row_and_reset(const driver *d, cn_db *db)
{
    cn_stmt *st = NULL;
    CHECK(exec_ok(db, "CREATE TABLE m (k BIGINT PRIMARY KEY, v DOUBLE PRECISION NOT NULL)"));
    CHECK(db->ops->begin(db) == CAIRN_OK);
    CHECK(db->ops->prepare(db, "INSERT INTO m (k, v) VALUES (?, ?)", &st) == CAIRN_OK);
    for (int i = 0; i < 500; i++) {
        CHECK(db->ops->bind_int64(st, 1, i) == CAIRN_OK);
        CHECK(db->ops->bind_double(st, 2, i * 0.5) == CAIRN_OK);
        CHECK(db->ops->step(st) == CN_DB_DONE);
        CHECK(db->ops->reset(st) == CAIRN_OK);
    }
    db->ops->finalize(st);
    CHECK(db->ops->commit(db) == CAIRN_OK);

    st = NULL;
    CHECK(db->ops->prepare(db, "SELECT k, v FROM m WHERE k >= ? AND k < ? ORDER BY k", &st) ==
          CAIRN_OK);
    for (int lo = 0; lo < 500; lo += 100) {
        CHECK(db->ops->bind_int64(st, 1, lo) == CAIRN_OK);
        CHECK(db->ops->bind_int64(st, 2, lo + 100) == CAIRN_OK);
        int n = 0, rc;
        while ((rc = db->ops->step(st)) == CN_DB_ROW) {
            CHECK(db->ops->column_int64(st, 0) == lo + n);
            CHECK(db->ops->column_double(st, 1) == (lo + n) * 0.5);
            n++;
        }
        CHECK(rc == CN_DB_DONE);
        CHECK(n == 100);
        if (d->is_pg) /* SQLite would run the statement again: its step() resets itself */
            CHECK(db->ops->step(st) == CN_DB_DONE);
        CHECK(db->ops->reset(st) == CAIRN_OK);
    }
    /* reset clears the bindings: unbound parameters are NULL, which matches nothing */
    CHECK(db->ops->step(st) == CN_DB_DONE);
    CHECK(db->ops->reset(st) == CAIRN_OK);
    /* reset half way through a result */
    CHECK(db->ops->bind_int64(st, 1, 10) == CAIRN_OK);
    CHECK(db->ops->bind_int64(st, 2, 20) == CAIRN_OK);
    CHECK(db->ops->step(st) == CN_DB_ROW);
    CHECK(db->ops->reset(st) == CAIRN_OK);
    CHECK(db->ops->bind_int64(st, 1, 499) == CAIRN_OK);
    CHECK(db->ops->bind_int64(st, 2, 1000) == CAIRN_OK);
    CHECK(db->ops->step(st) == CN_DB_ROW);
    CHECK(db->ops->column_int64(st, 0) == 499);
    CHECK(db->ops->step(st) == CN_DB_DONE);
    db->ops->finalize(st);
    db->ops->finalize(NULL);

    CHECK(query_int(db, "SELECT COUNT(*) FROM m") == 500);
    CHECK(query_int(db, "SELECT SUM(k) FROM m") == 499 * 500 / 2);
    if (d->is_pg) {
        /* the statements above are kept prepared on the server, or none are */
        int64_t n = query_int(db, "SELECT COUNT(*) FROM pg_prepared_statements");
        CHECK(d->prepared ? n >= 4 : n == 0);
    }
}

static void transactions(const driver *d, cn_db *db)
{
    CHECK(exec_ok(db, "CREATE TABLE x (k TEXT PRIMARY KEY)"));
    CHECK(db->ops->begin(db) == CAIRN_OK);
    CHECK(exec_ok(db, "INSERT INTO x VALUES ('a'); INSERT INTO x VALUES ('b')"));
    CHECK(query_int(db, "SELECT COUNT(*) FROM x") == 2);
    CHECK(db->ops->rollback(db) == CAIRN_OK);
    CHECK(query_int(db, "SELECT COUNT(*) FROM x") == 0);

    CHECK(db->ops->begin(db) == CAIRN_OK);
    CHECK(exec_ok(db, "INSERT INTO x VALUES ('c')"));
    CHECK(db->ops->commit(db) == CAIRN_OK);
    CHECK(query_int(db, "SELECT COUNT(*) FROM x") == 1);

    /* a statement prepared inside a rolled-back transaction still works afterwards */
    cn_stmt *st = NULL;
    CHECK(db->ops->begin(db) == CAIRN_OK);
    CHECK(db->ops->prepare(db, "SELECT COUNT(*) FROM x WHERE k <> ?", &st) == CAIRN_OK);
    CHECK(db->ops->rollback(db) == CAIRN_OK);
    CHECK(db->ops->bind_text(st, 1, "zz", -1) == CAIRN_OK);
    CHECK(db->ops->step(st) == CN_DB_ROW);
    CHECK(db->ops->column_int64(st, 0) == 1);
    db->ops->finalize(st);
    st = NULL;
    CHECK(db->ops->prepare(db, "SELECT COUNT(*) FROM x WHERE k <> ?", &st) == CAIRN_OK);
    CHECK(db->ops->bind_text(st, 1, "c", -1) == CAIRN_OK);
    CHECK(db->ops->step(st) == CN_DB_ROW);
    CHECK(db->ops->column_int64(st, 0) == 0);
    db->ops->finalize(st);

    if (d->is_pg) {
        /* a failed statement poisons a PostgreSQL transaction: COMMIT must not say ok */
        CHECK(db->ops->begin(db) == CAIRN_OK);
        CHECK(exec_ok(db, "INSERT INTO x VALUES ('d')"));
        CHECK(db->ops->exec(db, "INSERT INTO x VALUES ('c')") == CAIRN_EEXIST);
        CHECK(db->ops->commit(db) == CAIRN_EDB);
        CHECK(strstr(cairn_errmsg(g_ctx), "rolled back") != NULL);
        CHECK(query_int(db, "SELECT COUNT(*) FROM x") == 1);
        CHECK(db->ops->rollback(db) == CAIRN_OK); /* no transaction: a no-op */
    }
}

static void unique_violation(const driver *d, cn_db *db)
{
    cn_stmt *st = NULL;
    (void)d;
    CHECK(exec_ok(db, "CREATE TABLE u (k TEXT PRIMARY KEY, n BIGINT NOT NULL UNIQUE)"));
    CHECK(db->ops->prepare(db, "INSERT INTO u (k, n) VALUES (?, ?)", &st) == CAIRN_OK);
    CHECK(db->ops->bind_text(st, 1, "a", -1) == CAIRN_OK);
    CHECK(db->ops->bind_int64(st, 2, 1) == CAIRN_OK);
    CHECK(db->ops->step(st) == CN_DB_DONE);
    CHECK(db->ops->reset(st) == CAIRN_OK);
    CHECK(db->ops->bind_text(st, 1, "a", -1) == CAIRN_OK);
    CHECK(db->ops->bind_int64(st, 2, 2) == CAIRN_OK);
    CHECK(db->ops->step(st) == CAIRN_EEXIST);
    fprintf(stderr, "# %s: primary key: %s\n", d->label, cairn_errmsg(g_ctx));
    CHECK(db->ops->reset(st) == CAIRN_OK);
    CHECK(db->ops->bind_text(st, 1, "b", -1) == CAIRN_OK);
    CHECK(db->ops->bind_int64(st, 2, 1) == CAIRN_OK);
    CHECK(db->ops->step(st) == CAIRN_EEXIST);
    fprintf(stderr, "# %s: unique: %s\n", d->label, cairn_errmsg(g_ctx));
    CHECK(db->ops->reset(st) == CAIRN_OK);
    /* the statement stays usable */
    CHECK(db->ops->bind_text(st, 1, "b", -1) == CAIRN_OK);
    CHECK(db->ops->bind_int64(st, 2, 2) == CAIRN_OK);
    CHECK(db->ops->step(st) == CN_DB_DONE);
    db->ops->finalize(st);
    CHECK(query_int(db, "SELECT COUNT(*) FROM u") == 2);
    /* a NOT NULL violation is not "already exists" */
    CHECK(db->ops->exec(db, "INSERT INTO u (k, n) VALUES ('c', NULL)") == CAIRN_EDB);
}

static void errors(const driver *d, cn_db *db)
{
    cn_stmt *st = NULL;
    cairn_status rc = db->ops->prepare(db, "SELEC 1", &st);
    if (rc == CAIRN_OK) {
        rc = db->ops->step(st);
        db->ops->finalize(st);
    } else {
        CHECK(st == NULL);
    }
    CHECK(rc == CAIRN_EDB);
    CHECK(strstr(cairn_errmsg(g_ctx), "syntax error") != NULL);
    CHECK(strstr(cairn_errmsg(g_ctx), "SELEC") != NULL);
    fprintf(stderr, "# %s: %s\n", d->label, cairn_errmsg(g_ctx));

    CHECK(db->ops->exec(db, "SELECT 1; SELEC 2") == CAIRN_EDB);
    CHECK(strstr(cairn_errmsg(g_ctx), "syntax error") != NULL);
    CHECK(db->ops->exec(db, "SELECT * FROM no_such_table") == CAIRN_EDB);
    CHECK(strstr(cairn_errmsg(g_ctx), "no_such_table") != NULL);

    /* bind indexes out of range */
    st = NULL;
    CHECK(db->ops->prepare(db, "SELECT ?", &st) == CAIRN_OK);
    CHECK(db->ops->bind_int64(st, 0, 1) != CAIRN_OK);
    CHECK(db->ops->bind_int64(st, 2, 1) != CAIRN_OK);
    CHECK(db->ops->bind_text(st, 1, "ok", -1) == CAIRN_OK);
    CHECK(db->ops->step(st) == CN_DB_ROW);
    CHECK_STR(db->ops->column_text(st, 0), "ok");
    /* columns out of range read as NULL */
    CHECK(db->ops->column_text(st, 1) == NULL);
    CHECK(db->ops->column_text(st, -1) == NULL);
    db->ops->finalize(st);

    if (d->is_pg) {
        st = NULL;
        CHECK(db->ops->prepare(db, "SELECT ?", &st) == CAIRN_OK);
        CHECK(db->ops->bind_text(st, 1, "a\0b", 3) == CAIRN_EINVAL);
        CHECK(db->ops->bind_text(st, 1, "x", -1) == CAIRN_OK);
        CHECK(db->ops->step(st) == CN_DB_ROW);
        CHECK(db->ops->bind_text(st, 1, "y", -1) == CAIRN_EINVAL); /* running: reset first */
        db->ops->finalize(st);
        /* a type error is the server's message, on one line */
        CHECK(exec_ok(db, "CREATE TABLE e (n BIGINT)"));
        st = NULL;
        CHECK(db->ops->prepare(db, "INSERT INTO e VALUES (?)", &st) == CAIRN_OK);
        CHECK(db->ops->bind_text(st, 1, "not a number", -1) == CAIRN_OK);
        CHECK(db->ops->step(st) == CAIRN_EDB);
        CHECK(strstr(cairn_errmsg(g_ctx), "not a number") != NULL);
        CHECK(strchr(cairn_errmsg(g_ctx), '\n') == NULL);
        db->ops->finalize(st);
        /* booleans and numeric text read as numbers */
        CHECK(query_int(db, "SELECT 1 < 2") == 1);
        CHECK(query_int(db, "SELECT 1 > 2") == 0);
        CHECK(query_int(db, "SELECT AVG(x) FROM (VALUES (2), (3)) AS a (x)") == 2);
    }
}

/* Applies every migration of the driver's dialect, in order, on a fresh database. */
static void apply_migrations(const driver *d, cn_db *db)
{
    const char *dialect = d->ops->name;
    size_t n = 0, dlen = strlen(dialect);
    for (size_t i = 0; i < schema_n_files; i++) {
        if (strncmp(schema_files[i].path, dialect, dlen) != 0 || schema_files[i].path[dlen] != '/')
            continue;
        n++;
        if (!exec_ok(db, (const char *)schema_files[i].data)) {
            fprintf(stderr, "# migration %s failed\n", schema_files[i].path);
            CHECK(0);
        }
    }
    CHECK(n >= 1);
}

static void migrations(const driver *d, cn_db *db)
{
    apply_migrations(d, db);
    /* The tables of 001_init; later migrations add their own. */
#define INIT_TABLES                                                                                \
    "('experiments', 'experiment_tags', 'runs', 'params', 'tags', 'metrics', 'latest_metrics', "   \
    "'datasets', 'inputs', 'artifacts')"
    CHECK(query_int(db, d->is_pg
                            ? "SELECT COUNT(*) FROM information_schema.tables "
                              "WHERE table_schema = current_schema() AND table_name IN " INIT_TABLES
                            : "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' "
                              "AND name IN " INIT_TABLES) == 10);
    CHECK(query_int(db, "SELECT COUNT(*) FROM registered_models") == 0);
    CHECK(query_int(db, "SELECT COUNT(*) FROM experiments WHERE experiment_id = 0") == 1);
    /* the next experiment gets id 1 on both */
    cn_stmt *st = NULL;
    CHECK(db->ops->prepare(db,
                           "INSERT INTO experiments (name, creation_time, last_update_time) "
                           "VALUES (?, ?, ?) RETURNING experiment_id",
                           &st) == CAIRN_OK);
    CHECK(db->ops->bind_text(st, 1, "e1", -1) == CAIRN_OK);
    CHECK(db->ops->bind_int64(st, 2, 1700000000000) == CAIRN_OK);
    CHECK(db->ops->bind_int64(st, 3, 1700000000000) == CAIRN_OK);
    CHECK(db->ops->step(st) == CN_DB_ROW);
    CHECK(db->ops->column_int64(st, 0) == 1);
    CHECK(db->ops->reset(st) == CAIRN_OK);
    CHECK(db->ops->bind_text(st, 1, "e1", -1) == CAIRN_OK);
    CHECK(db->ops->bind_int64(st, 2, 1) == CAIRN_OK);
    CHECK(db->ops->bind_int64(st, 3, 1) == CAIRN_OK);
    CHECK(db->ops->step(st) == CAIRN_EEXIST);
    db->ops->finalize(st);
    if (d->is_pg) {
        /* metrics keep NaN and infinities, keyed with is_nan */
        CHECK(exec_ok(db, "INSERT INTO metrics VALUES ('r', 'loss', 0, 1, 'NaN', 1), "
                          "('r', 'loss', 1, 1, 'Infinity', 0), ('r', 'loss', 2, 1, 0.5, 0)"));
        CHECK(query_int(db, "SELECT COUNT(*) FROM metrics WHERE value = 'NaN'") == 1);
    }
}

/* One line per column, "table.column notnull pk", in table and column order: what both
 * dialects' schemas must agree on. Primary key columns count as NOT NULL (SQLite lets a
 * rowid table's non-integer key hold NULL, but store.c never writes one). */
static void describe_schema(cn_db *db, bool is_pg, cn_buf *out)
{
    const char *sql =
        is_pg ? "SELECT c.table_name, c.column_name, "
                "  CASE WHEN c.is_nullable = 'NO' THEN 1 ELSE 0 END, "
                "  COALESCE((SELECT k.ordinal_position FROM information_schema.key_column_usage k "
                "    JOIN information_schema.table_constraints t "
                "      ON t.constraint_name = k.constraint_name "
                "     AND t.table_schema = k.table_schema "
                "    WHERE t.constraint_type = 'PRIMARY KEY' AND k.table_schema = c.table_schema "
                "      AND k.table_name = c.table_name AND k.column_name = c.column_name), 0) "
                "FROM information_schema.columns c WHERE c.table_schema = current_schema() "
                "ORDER BY c.table_name, c.ordinal_position"
              : "SELECT m.name, p.name, p.\"notnull\", p.pk "
                "FROM sqlite_master m, pragma_table_info(m.name) p "
                "WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' ORDER BY m.name, p.cid";
    cn_stmt *st = NULL;
    int rc;
    CHECK(db->ops->prepare(db, sql, &st) == CAIRN_OK);
    while ((rc = db->ops->step(st)) == CN_DB_ROW) {
        int64_t pk = db->ops->column_int64(st, 3);
        cn_buf_printf(out, "%s.%s notnull=%d pk=%d\n", db->ops->column_text(st, 0),
                      db->ops->column_text(st, 1), (int)(db->ops->column_int64(st, 2) || pk > 0),
                      (int)pk);
    }
    CHECK(rc == CN_DB_DONE);
    db->ops->finalize(st);
    /* indexes besides those of primary keys and UNIQUE constraints */
    st = NULL;
    CHECK(db->ops->prepare(db,
                           is_pg ? "SELECT indexname FROM pg_indexes WHERE schemaname = "
                                   "current_schema() AND indexname NOT LIKE '%\\_pkey' "
                                   "AND indexname NOT LIKE '%\\_key' ORDER BY indexname"
                                 : "SELECT name FROM sqlite_master WHERE type = 'index' AND "
                                   "name NOT LIKE 'sqlite_%' ORDER BY name",
                           &st) == CAIRN_OK);
    while ((rc = db->ops->step(st)) == CN_DB_ROW)
        cn_buf_printf(out, "index %s\n", db->ops->column_text(st, 0));
    CHECK(rc == CN_DB_DONE);
    db->ops->finalize(st);
}

/* The PostgreSQL schema has the same tables, columns, keys and indexes as the SQLite one. */
static void schemas_match(const driver *d, cn_db *db)
{
    cn_db *lite = open_db(&sqlite);
    cn_buf want = CN_BUF_INIT, got = CN_BUF_INIT;
    if (!lite)
        return;
    apply_migrations(&sqlite, lite);
    apply_migrations(d, db);
    describe_schema(lite, false, &want);
    describe_schema(db, true, &got);
    CHECK(want.len > 500);
    if (strcmp(cn_buf_str(&want), cn_buf_str(&got)) != 0)
        fprintf(stderr, "# sqlite:\n%s# postgresql:\n%s", cn_buf_str(&want), cn_buf_str(&got));
    CHECK_STR(cn_buf_str(&got), cn_buf_str(&want));
    cn_buf_release(&want);
    cn_buf_release(&got);
    lite->ops->close(lite);
}

/* Another connection ends this one's backend: the driver resets the connection and goes on;
 * inside a transaction it fails instead, since the transaction died with the connection. */
static void pg_reconnects(const driver *d, cn_db *db)
{
    cn_db *killer = open_db(d);
    cn_stmt *kill = NULL, *st = NULL;
    if (!killer)
        return;
    CHECK(killer->ops->prepare(killer, "SELECT pg_terminate_backend(?::int)", &kill) == CAIRN_OK);
    CHECK(db->ops->prepare(db, "SELECT ? + 1", &st) == CAIRN_OK);

    for (int round = 0; round < 2; round++) {
        int64_t pid = query_int(db, "SELECT pg_backend_pid()");
        CHECK(killer->ops->bind_int64(kill, 1, pid) == CAIRN_OK);
        CHECK(killer->ops->step(kill) == CN_DB_ROW);
        CHECK(killer->ops->reset(kill) == CAIRN_OK);
        usleep(100 * 1000); /* let the backend exit */
        if (round == 0) {
            /* idle: the statement runs on a new connection */
            CHECK(db->ops->bind_int64(st, 1, 41) == CAIRN_OK);
            int rc = db->ops->step(st);
            if (rc != CN_DB_ROW)
                fprintf(stderr, "# step after kill: %d %s\n", rc, cairn_errmsg(g_ctx));
            CHECK(rc == CN_DB_ROW);
            CHECK(db->ops->column_int64(st, 0) == 42);
            CHECK(db->ops->reset(st) == CAIRN_OK);
            CHECK(query_int(db, "SELECT pg_backend_pid()") != pid);
            /* the same statement again: re-prepared on the new connection */
            CHECK(db->ops->bind_int64(st, 1, 1) == CAIRN_OK);
            CHECK(db->ops->step(st) == CN_DB_ROW);
            CHECK(db->ops->column_int64(st, 0) == 2);
            CHECK(db->ops->reset(st) == CAIRN_OK);
        } else {
            /* BEGIN finds the connection killed above and retries on a new one */
            CHECK(db->ops->begin(db) == CAIRN_OK);
            pid = query_int(db, "SELECT pg_backend_pid()");
            CHECK(killer->ops->bind_int64(kill, 1, pid) == CAIRN_OK);
            CHECK(killer->ops->step(kill) == CN_DB_ROW);
            CHECK(killer->ops->reset(kill) == CAIRN_OK);
            usleep(100 * 1000);
            CHECK(db->ops->bind_int64(st, 1, 1) == CAIRN_OK);
            CHECK(db->ops->step(st) == CAIRN_EDB);
            CHECK(strstr(cairn_errmsg(g_ctx), "inside a transaction") != NULL);
            CHECK(db->ops->rollback(db) == CAIRN_OK);
            CHECK(db->ops->reset(st) == CAIRN_OK);
            CHECK(db->ops->bind_int64(st, 1, 2) == CAIRN_OK);
            CHECK(db->ops->step(st) == CN_DB_ROW);
            CHECK(db->ops->column_int64(st, 0) == 3);
        }
    }
    db->ops->finalize(st);
    killer->ops->finalize(kill);
    killer->ops->close(killer);
}

/* A concurrent update under REPEATABLE READ fails with SQLSTATE 40001. */
static void pg_serialization_failure(const driver *d, cn_db *db)
{
    cn_db *other = open_db(d);
    if (!other)
        return;
    CHECK(exec_ok(db, "DROP TABLE IF EXISTS public.ser_test;"
                      "CREATE TABLE public.ser_test (k INT PRIMARY KEY, v INT);"
                      "INSERT INTO public.ser_test VALUES (1, 0)"));
    CHECK(exec_ok(db, "BEGIN ISOLATION LEVEL REPEATABLE READ"));
    CHECK(query_int(db, "SELECT v FROM public.ser_test WHERE k = 1") == 0);
    CHECK(exec_ok(other, "UPDATE public.ser_test SET v = 1 WHERE k = 1"));
    CHECK(db->ops->exec(db, "UPDATE public.ser_test SET v = 2 WHERE k = 1") == CAIRN_EDB);
    CHECK(strstr(cairn_errmsg(g_ctx), "serialization failure") != NULL);
    CHECK(strstr(cairn_errmsg(g_ctx), "retry") != NULL);
    CHECK(db->ops->rollback(db) == CAIRN_OK);
    CHECK(exec_ok(db, "DROP TABLE public.ser_test"));
    other->ops->close(other);
}

/* ---- the TAP runner ---- */

typedef void (*driver_case_fn)(const driver *d, cn_db *db);

typedef struct tap {
    int n;
    int n_failed;
} tap;

static void report(tap *t, const char *name, const char *label, const char *skip)
{
    t->n++;
    if (skip) {
        printf("ok %d - %s%s%s # skip %s\n", t->n, name, label ? " " : "", label ? label : "",
               skip);
        return;
    }
    printf("%s %d - %s%s%s\n", unit_failed ? "not ok" : "ok", t->n, name, label ? " " : "",
           label ? label : "");
    t->n_failed += unit_failed;
    fflush(stdout);
}

static void run_plain(tap *t, const char *name, void (*fn)(void))
{
    unit_failed = 0;
    fn();
    report(t, name, NULL, NULL);
}

static void run_on(tap *t, const char *name, driver_case_fn fn, const driver *d)
{
    if (d->is_pg && !getenv("CAIRN_TEST_PG")) {
        report(t, name, d->label, "CAIRN_TEST_PG is not set (scripts/with-pg.sh sets it)");
        return;
    }
    unit_failed = 0;
    cn_db *db = open_db(d);
    if (db) {
        fn(d, db);
        db->ops->close(db);
    }
    report(t, name, d->label, NULL);
}

#define N_PLAIN 2
#define N_ALL_DRIVERS 6
#define N_PG_ONLY 3

int main(void)
{
    const driver *drivers[] = {&sqlite, &pg_prepared, &pg_unnamed};
    const driver *pg_drivers[] = {&pg_prepared, &pg_unnamed};
    const struct {
        const char *name;
        driver_case_fn fn;
    } all[N_ALL_DRIVERS] =
        {
            {"values_round_trip", values_round_trip},
            {"multi_row_and_reset", multi_row_and_reset},
            {"transactions", transactions},
            {"unique_violation", unique_violation},
            {"errors", errors},
            {"migrations", migrations},
        },
      pg_only[N_PG_ONLY] = {
          {"schemas_match", schemas_match},
          {"pg_reconnects", pg_reconnects},
          {"pg_serialization_failure", pg_serialization_failure},
      };
    tap t = {0, 0};

    cn_strlcpy(g_tmpdir, "/tmp/cairn-test-db.XXXXXX", sizeof g_tmpdir);
    if (!mkdtemp(g_tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    g_ctx = cairn_ctx_new();
    printf("1..%d\n", N_PLAIN + N_ALL_DRIVERS * (int)CN_ARRAY_LEN(drivers) +
                          N_PG_ONLY * (int)CN_ARRAY_LEN(pg_drivers));
    run_plain(&t, "rewrite_placeholders", rewrite_placeholders);
    run_plain(&t, "pg_open_errors", pg_open_errors);
    for (size_t i = 0; i < N_ALL_DRIVERS; i++)
        for (size_t j = 0; j < CN_ARRAY_LEN(drivers); j++)
            run_on(&t, all[i].name, all[i].fn, drivers[j]);
    for (size_t i = 0; i < N_PG_ONLY; i++)
        for (size_t j = 0; j < CN_ARRAY_LEN(pg_drivers); j++)
            run_on(&t, pg_only[i].name, pg_only[i].fn, pg_drivers[j]);

    cairn_close(g_ctx);
    cn_buf rm = CN_BUF_INIT;
    cn_buf_printf(&rm, "rm -rf '%s'", g_tmpdir);
    if (system(rm.data) != 0)
        fprintf(stderr, "# could not remove %s\n", g_tmpdir);
    cn_buf_release(&rm);
    return t.n_failed ? 1 : 0;
}
