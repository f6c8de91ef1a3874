/* SPDX-License-Identifier: MIT */
/* store.h - the store: a driver connection with the schema migrated, plus the helpers the
 * domain code (store_*.c, tracking/) uses to run portable SQL with '?' placeholders. */
#ifndef CN_STORE_H
#define CN_STORE_H
#include <stdarg.h>
#include "cairn/tracking.h"
#include "store/db.h"

typedef struct cn_store {
    cn_db *db;
    const cn_db_ops *ops;
    bool is_pg;
    int in_txn; /* nesting depth of cn_store_begin */
    bool txn_failed;
} cn_store;

/* Opens uri and applies pending migrations in one transaction. */
cairn_status cn_store_open(cairn_ctx *ctx, const char *uri, const cairn_open_opts *opts,
                           cn_store **out, char **artifact_root_out);
void cn_store_close(cn_store *s);

/* Prepares sql and binds arguments described by types: 's' text (NULL binds NULL),
 * 'i' int64_t, 'd' double, 'n' NULL (no argument consumed). */
cairn_status cn_store_query(cairn_ctx *ctx, cn_stmt **out, const char *sql, const char *types, ...);
cairn_status cn_store_vquery(cairn_ctx *ctx, cn_stmt **out, const char *sql, const char *types,
                             va_list ap);
/* Runs a statement that returns no rows. *changed may be NULL. */
cairn_status cn_store_run(cairn_ctx *ctx, const char *sql, const char *types, ...);
/* step/column shorthands on the context's driver. */
int cn_store_step(cairn_ctx *ctx, cn_stmt *st);
void cn_store_finalize(cairn_ctx *ctx, cn_stmt *st);
const char *cn_col_text(cairn_ctx *ctx, cn_stmt *st, int col); /* "" for NULL */
int64_t cn_col_int(cairn_ctx *ctx, cn_stmt *st, int col);
double cn_col_double(cairn_ctx *ctx, cn_stmt *st, int col);
bool cn_col_is_null(cairn_ctx *ctx, cn_stmt *st, int col);

/* Write transactions; nested begin/commit pairs join the outer one. */
cairn_status cn_store_begin(cairn_ctx *ctx);
cairn_status cn_store_commit(cairn_ctx *ctx);
void cn_store_rollback(cairn_ctx *ctx);

/* A new 32-hex-character id. */
void cn_store_new_uuid(char out[33]);
/* The artifact folder of a run: <root>/<experiment_id>/<run_id>/artifacts, unless the
 * experiment has its own artifact location. The caller frees. */
char *cn_store_run_artifact_dir(cairn_ctx *ctx, const char *experiment_location,
                                const char *experiment_id, const char *run_id);

/* Key and name rules shared by every writer (MLflow's validation.py). */
cairn_status cn_validate_key(cairn_ctx *ctx, const char *what, const char *key);
cairn_status cn_validate_run_id(cairn_ctx *ctx, const char *run_id);
cairn_status cn_validate_experiment_id(cairn_ctx *ctx, const char *id);

/* Runs: internal writers used by the handle API in tracking/. */
typedef struct cn_run_row {
    char run_id[33];
    char *experiment_id;
    char *artifact_dir;
    bool is_deleted;
} cn_run_row;
cairn_status cn_store_run_lookup(cairn_ctx *ctx, const char *run_id, cn_run_row *out);
void cn_run_row_release(cn_run_row *row);
cairn_status cn_store_log_batch(cairn_ctx *ctx, const char *run_id, const cairn_metric *metrics,
                                size_t n_metrics, const cairn_param *params, size_t n_params,
                                const cairn_tag *tags, size_t n_tags);
cairn_status cn_store_record_artifact(cairn_ctx *ctx, const char *run_id, const char *path,
                                      int64_t size_bytes, const char *sha256);
#endif
