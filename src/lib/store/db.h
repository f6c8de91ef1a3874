/* SPDX-License-Identifier: MIT */
/* db.h - the narrow driver vtable under store.c: open, exec, prepare, bind, step, column,
 * finalize, begin, commit, rollback, and the few dialect differences (row locks, claims).
 * SQL is written once with '?' placeholders; the PostgreSQL driver rewrites them to $n.
 * Implementations: db_sqlite.c, db_pg.c, and db_faulty.c (fault injection for tests). */
#ifndef CN_DB_H
#define CN_DB_H
#include <stdbool.h>
#include <stdint.h>
#include "cairn/cairn.h"

typedef struct cn_db cn_db;
typedef struct cn_stmt cn_stmt;

/* What step() returns besides an error status. */
enum { CN_DB_ROW = 100, CN_DB_DONE = 101 };

typedef struct cn_db_ops {
    const char *name; /* "sqlite", "postgresql": also the schema folder's name */
    /* uri is what follows the scheme for sqlite (a path) and the whole URI for postgresql. */
    cairn_status (*open)(cairn_ctx *ctx, const char *uri, const cairn_open_opts *opts, cn_db **out);
    void (*close)(cn_db *db);
    /* Runs one or more statements without parameters (schema, pragmas). */
    cairn_status (*exec)(cn_db *db, const char *sql);
    cairn_status (*prepare)(cn_db *db, const char *sql, cn_stmt **out);
    /* idx is 1-based, as in SQLite. Text is copied. */
    cairn_status (*bind_int64)(cn_stmt *st, int idx, int64_t v);
    cairn_status (*bind_double)(cn_stmt *st, int idx, double v);
    cairn_status (*bind_text)(cn_stmt *st, int idx, const char *v, int len); /* len < 0: strlen */
    cairn_status (*bind_null)(cn_stmt *st, int idx);
    /* Runs or advances the statement: CN_DB_ROW, CN_DB_DONE, or a cairn_status error. */
    int (*step)(cn_stmt *st);
    int (*column_count)(cn_stmt *st);
    bool (*column_is_null)(cn_stmt *st, int col); /* col is 0-based */
    int64_t (*column_int64)(cn_stmt *st, int col);
    double (*column_double)(cn_stmt *st, int col);
    const char *(*column_text)(cn_stmt *st,
                               int col); /* valid until the next step/reset; NULL if null */
    /* Makes the statement ready to run again; bindings are cleared. */
    cairn_status (*reset)(cn_stmt *st);
    void (*finalize)(cn_stmt *st); /* NULL is a no-op */
    /* Write transactions take the write lock up front (BEGIN IMMEDIATE on SQLite), so a
     * second writer waits in the busy handler instead of failing with "database is locked". */
    cairn_status (*begin)(cn_db *db);
    cairn_status (*commit)(cn_db *db);
    cairn_status (*rollback)(cn_db *db); /* never fails in a way the caller can act on */

    /* ---- what differs between the dialects (store.h's helpers use these) ---- */
    /* Inside a write transaction, waits for and holds a lock on key until the transaction
     * ends: pg_advisory_xact_lock on PostgreSQL; nothing on SQLite, whose begin() already
     * took the only write lock. */
    cairn_status (*lock_key)(cn_db *db, int64_t key);
    /* Appended to a SELECT that claims rows for the current write transaction:
     * " FOR UPDATE SKIP LOCKED" on PostgreSQL, "" on SQLite (begin() locked the file). */
    const char *claim_suffix;
    /* The database is a local file (artifacts default to a folder beside it). */
    bool is_file;
    /* ---- opening and checking (store.c reads before it writes anything) ---- */
    /* Called once the store is known to be cairn's and writable, before migrations: the
     * settings that write to the database (SQLite's WAL journal). */
    cairn_status (*setup_writer)(cn_db *db);
    /* SQL giving one row per table of the store (its name in column 0). */
    const char *tables_sql;
    /* SQL giving the integrity problems of the database, one per row, or the single row "ok";
     * NULL when the backend has no such check. */
    const char *integrity_sql;
} cn_db_ops;

/* Every driver's handle starts with these. */
struct cn_db {
    const cn_db_ops *ops;
    cairn_ctx *ctx; /* errors are recorded here */
};

extern const cn_db_ops cn_db_sqlite_ops;
extern const cn_db_ops cn_db_pg_ops;
#endif
