/* SPDX-License-Identifier: MIT */
/* store.h - the local SQL store (cn_store_sql_ops): a driver connection with the schema
 * migrated, and the helpers its domain files (store_experiments.c, store_runs.c,
 * store_search.c) use to run portable SQL with '?' placeholders. Nothing outside store/. */
#ifndef CN_STORE_H
#define CN_STORE_H
#include <stdarg.h>
#include "cairn/tracking.h"
#include "base/arena.h"
#include "base/buf.h"
#include "base/embedded.h"
#include "store/db.h"
#include "store/store_ops.h"

typedef struct cn_sql_store {
    cn_store base; /* base.ops == &cn_store_sql_ops */
    cn_db *db;
    const cn_db_ops *db_ops;
    int in_txn; /* nesting depth of cn_store_begin */
    bool txn_failed;
    bool read_only; /* asked for, or the file or its folder is not writable */
} cn_sql_store;

/* The SQL store behind a context (asserts it is one); only the SQL store's own code uses it. */
cn_sql_store *cn_store_sql(cairn_ctx *ctx);
/* Opens uri (sqlite://, postgresql://, or a bare path; a sqlite: URI's options parsed), reads
 * the schema without writing, refuses a foreign or newer store, then (writable) sets the
 * writer up and applies pending migrations in one transaction. */
cairn_status cn_store_sql_open(cairn_ctx *ctx, const char *uri, const cairn_open_opts *opts,
                               cn_store **out, char **artifact_root_out);
void cn_store_sql_close(cn_store *s);
/* Only the read-only driver connection of uri, for cairn_store_check: nothing is read or
 * refused yet. *shown is how messages name the store (a password as ***). */
cairn_status cn_store_sql_connect(cairn_ctx *ctx, const char *uri, cn_sql_store **out,
                                  cn_buf *shown);
/* The uri cairn_open() uses for uri: itself, else $CAIRN_STORE, else "sqlite://cairn.db". */
const char *cn_store_default_uri(const char *uri);

/* What the store's tables say, read without writing. */
typedef struct cn_schema_state {
    bool has_cairn_schema;
    size_t n_tables;
    char *other_table; /* the first table that is not cairn_schema, NULL when none */
    int64_t version;   /* the newest migration recorded in cairn_schema; 0: none */
    int64_t known;     /* the newest migration this cairn has for the dialect */
} cn_schema_state;
cairn_status cn_store_read_schema(cairn_ctx *ctx, cn_schema_state *out);
void cn_schema_state_release(cn_schema_state *st);
/* The embedded migrations of a dialect, in order: pass NULL for the first, then the last one
 * returned; NULL at the end. */
const cn_embedded_file *cn_store_migrations(const cn_db_ops *ops, const cn_embedded_file *after);
int64_t cn_store_migration_version(const cn_db_ops *ops, const cn_embedded_file *f);

/* Prepares sql and binds arguments described by types: 's' text (NULL binds NULL),
 * 'i' int64_t, 'd' double, 'n' NULL (no argument consumed). */
cairn_status cn_store_query(cairn_ctx *ctx, cn_stmt **out, const char *sql, const char *types, ...);
cairn_status cn_store_vquery(cairn_ctx *ctx, cn_stmt **out, const char *sql, const char *types,
                             va_list ap);
/* Runs a statement that returns no rows. */
cairn_status cn_store_run(cairn_ctx *ctx, const char *sql, const char *types, ...);
/* Runs a one-row, one-integer query: *out is the first column of the first row (0 when none),
 * *found says whether a row came back. */
cairn_status cn_store_query_int(cairn_ctx *ctx, int64_t *out, bool *found, const char *sql,
                                const char *types, ...);
/* Driver shorthands on the context's connection. */
cairn_status cn_store_prepare(cairn_ctx *ctx, const char *sql, cn_stmt **out);
cairn_status cn_store_bind_text(cairn_ctx *ctx, cn_stmt *st, int idx, const char *v);
cairn_status cn_store_bind_int(cairn_ctx *ctx, cn_stmt *st, int idx, int64_t v);
cairn_status cn_store_bind_double(cairn_ctx *ctx, cn_stmt *st, int idx, double v);
cairn_status cn_store_bind_null(cairn_ctx *ctx, cn_stmt *st, int idx);
int cn_store_step(cairn_ctx *ctx, cn_stmt *st);
void cn_store_finalize(cairn_ctx *ctx, cn_stmt *st);
const char *cn_col_text(cairn_ctx *ctx, cn_stmt *st, int col); /* "" for NULL */
int64_t cn_col_int(cairn_ctx *ctx, cn_stmt *st, int col);
double cn_col_double(cairn_ctx *ctx, cn_stmt *st, int col);
bool cn_col_is_null(cairn_ctx *ctx, cn_stmt *st, int col);

/* ---- reading rows into arenas, shared by the domain files' getters and page readers ---- */
/* Fills item (a cairn_experiment, a cairn_model_version, ...) from the current row of st,
 * copying strings into a. */
typedef void (*cn_row_fn)(cairn_ctx *ctx, cn_stmt *st, cn_arena *a, void *item);
/* Adds what a second query reads (tags, aliases) to an item filled by a cn_row_fn. */
typedef cairn_status (*cn_complete_fn)(cairn_ctx *ctx, cn_arena *a, void *item);
/* Steps st, appending rows to *items (*n of them, `size` bytes each, filled by from_row, grown
 * in a) until the rows end or *n reaches max; *more says whether a row beyond max exists. */
cairn_status cn_store_read_rows(cairn_ctx *ctx, cn_stmt *st, cn_arena *a, int64_t max, size_t size,
                                cn_row_fn from_row, void **items, size_t *n, bool *more);
/* Steps st once and finalizes it. On a row, *item is `size` bytes in a new arena *arena, filled
 * by from_row, then by complete (unless NULL) once st is finalized; the caller stores *arena in
 * the item's internal_. No row gives CAIRN_OK with both NULL (the caller words the ENOTFOUND);
 * a failure gives both NULL. */
cairn_status cn_store_read_one(cairn_ctx *ctx, cn_stmt *st, size_t size, cn_row_fn from_row,
                               cn_complete_fn complete, void **item, cn_arena **arena);
/* Steps st, appending its (key, value) rows to *tags (*n of them, grown in a), then finalizes
 * it. */
cairn_status cn_store_read_tags(cairn_ctx *ctx, cn_stmt *st, cn_arena *a, cairn_tag **tags,
                                size_t *n);
/* A page of rows read into an arena of its own, before it becomes a cairn_*_page. */
typedef struct cn_page_rows {
    cn_arena *arena;
    void *items; /* n items */
    size_t n;
    const char *next_page_token; /* in arena; NULL on the last page */
} cn_page_rows;
/* Hands rows over to *out, a new page of any cairn_*_page type (n, items, next_page_token,
 * internal_) allocated in the rows' arena, which the page then owns: set rows.arena = NULL. */
#define CN_PAGE_HAND_OVER(rows, out)                                                               \
    do {                                                                                           \
        *(out) = cn_arena_alloc((rows).arena, sizeof **(out));                                     \
        (*(out))->n = (rows).n;                                                                    \
        (*(out))->items = (rows).items;                                                            \
        (*(out))->next_page_token = (rows).next_page_token;                                        \
        (*(out))->internal_ = (rows).arena;                                                        \
    } while (0)

/* Write transactions; nested begin/commit pairs join the outer one. */
cairn_status cn_store_begin(cairn_ctx *ctx);
cairn_status cn_store_commit(cairn_ctx *ctx);
void cn_store_rollback(cairn_ctx *ctx);

/* ---- what differs between dialects, behind the driver's ops ---- */
/* Appends a portable upsert: "INSERT INTO table (cols) VALUES (?, ...) ON CONFLICT (keys) DO
 * UPDATE SET c = excluded.c" for each column of cols not in keys, then " WHERE where" when
 * where is not NULL. cols and keys are comma-separated column names written in our code. */
void cn_store_upsert_sql(cn_buf *out, const char *table, const char *cols, const char *keys,
                         const char *where);
/* The suffix that makes a SELECT claim its rows for the current write transaction, so two
 * workers never take the same one (" FOR UPDATE SKIP LOCKED" on PostgreSQL). */
const char *cn_store_claim_suffix(cairn_ctx *ctx);
/* Inside a write transaction: the next number of a per-parent sequence, max(seq_col) + 1 over
 * the rows of table whose parent_col = parent (1 for the first), taken under a lock on
 * (table, parent) that holds until the transaction ends, so concurrent callers get distinct
 * numbers. Names are our code's, never user text. */
cairn_status cn_store_next_seq(cairn_ctx *ctx, const char *table, const char *parent_col,
                               const char *parent, const char *seq_col, int64_t *out);

/* A new 32-hex-character id. */
void cn_store_new_uuid(char out[33]);
/* The artifact folder of a run: <root>/<experiment_id>/<run_id>/artifacts, unless the
 * experiment has its own artifact location. The caller frees. */
char *cn_store_run_artifact_dir(cairn_ctx *ctx, const char *experiment_location,
                                const char *experiment_id, const char *run_id);

/* Id rules shared by readers and writers. */
cairn_status cn_validate_run_id(cairn_ctx *ctx, const char *run_id);
cairn_status cn_validate_experiment_id(cairn_ctx *ctx, const char *id);
/* Page tokens are decimal offsets. */
cairn_status cn_page_token_parse(cairn_ctx *ctx, const char *token, int64_t *offset);
/* The token of the page after the one of max items at offset, in a; NULL unless more. */
const char *cn_page_token_next(cn_arena *a, bool more, int64_t offset, int64_t max);
#endif
