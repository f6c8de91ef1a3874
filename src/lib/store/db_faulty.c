/* SPDX-License-Identifier: MIT */
/* db_faulty.c - the fault-injecting driver of db_faulty.h: every op forwards to the wrapped
 * driver; prepare, step, exec, begin and commit are counted and the Nth one fails before it
 * reaches the database, leaving the real connection as a crash of that call would. */
#include <stdlib.h>
#include "core/core.h"
#include "store/db_faulty.h"
#include "store/store.h"
#include "base/xmalloc.h"
#include "base/banned.h"

typedef struct faulty_db {
    cn_db base;
    cn_db *real;
    cn_db_faults *faults;
} faulty_db;

typedef struct cn_stmt {
    cn_stmt *real;
    faulty_db *db;
} faulty_stmt;

#define REAL_OPS(fdb) ((fdb)->real->ops)

/* Counts one call and fails it when it is the chosen one. */
static cairn_status inject(faulty_db *fdb, const char *call)
{
    cn_db_faults *f = fdb->faults;
    if (f->fail_at <= 0 || ++f->calls != f->fail_at)
        return CAIRN_OK;
    f->hit = true;
    if (f->kind == CN_FAULT_DISK_FULL)
        return cn_fail(fdb->base.ctx, CAIRN_EIO, "%s: database or disk is full (injected fault)",
                       call);
    return cn_fail(fdb->base.ctx, CAIRN_EDB, "%s: database is locked (injected fault)", call);
}

static cairn_status fa_open(cairn_ctx *ctx, const char *uri, const cairn_open_opts *opts,
                            cn_db **out)
{
    (void)uri;
    (void)opts;
    *out = NULL;
    return cn_fail(ctx, CAIRN_EINVAL, "the faulty driver only wraps an open connection");
}

static void fa_close(cn_db *db)
{
    faulty_db *fdb = (faulty_db *)db;
    if (!fdb)
        return;
    REAL_OPS(fdb)->close(fdb->real);
    free(fdb);
}

static cairn_status fa_exec(cn_db *db, const char *sql)
{
    faulty_db *fdb = (faulty_db *)db;
    cairn_status rc = inject(fdb, "exec");
    return rc == CAIRN_OK ? REAL_OPS(fdb)->exec(fdb->real, sql) : rc;
}

static cairn_status fa_prepare(cn_db *db, const char *sql, cn_stmt **out)
{
    faulty_db *fdb = (faulty_db *)db;
    cn_stmt *real = NULL;
    *out = NULL;
    cairn_status rc = inject(fdb, "prepare");
    if (rc == CAIRN_OK)
        rc = REAL_OPS(fdb)->prepare(fdb->real, sql, &real);
    if (rc != CAIRN_OK)
        return rc;
    faulty_stmt *st = cn_xcalloc(1, sizeof *st);
    st->real = real;
    st->db = fdb;
    *out = st;
    return CAIRN_OK;
}

static cairn_status fa_bind_int64(cn_stmt *st, int idx, int64_t v)
{
    return REAL_OPS(st->db)->bind_int64(st->real, idx, v);
}

static cairn_status fa_bind_double(cn_stmt *st, int idx, double v)
{
    return REAL_OPS(st->db)->bind_double(st->real, idx, v);
}

static cairn_status fa_bind_text(cn_stmt *st, int idx, const char *v, int len)
{
    return REAL_OPS(st->db)->bind_text(st->real, idx, v, len);
}

static cairn_status fa_bind_null(cn_stmt *st, int idx)
{
    return REAL_OPS(st->db)->bind_null(st->real, idx);
}

static int fa_step(cn_stmt *st)
{
    cairn_status rc = inject(st->db, "step");
    return rc == CAIRN_OK ? REAL_OPS(st->db)->step(st->real) : (int)rc;
}

static int fa_column_count(cn_stmt *st)
{
    return REAL_OPS(st->db)->column_count(st->real);
}

static bool fa_column_is_null(cn_stmt *st, int col)
{
    return REAL_OPS(st->db)->column_is_null(st->real, col);
}

static int64_t fa_column_int64(cn_stmt *st, int col)
{
    return REAL_OPS(st->db)->column_int64(st->real, col);
}

static double fa_column_double(cn_stmt *st, int col)
{
    return REAL_OPS(st->db)->column_double(st->real, col);
}

static const char *fa_column_text(cn_stmt *st, int col)
{
    return REAL_OPS(st->db)->column_text(st->real, col);
}

static cairn_status fa_reset(cn_stmt *st)
{
    return REAL_OPS(st->db)->reset(st->real);
}

static void fa_finalize(cn_stmt *st)
{
    if (!st)
        return;
    REAL_OPS(st->db)->finalize(st->real);
    free(st);
}

static cairn_status fa_begin(cn_db *db)
{
    faulty_db *fdb = (faulty_db *)db;
    cairn_status rc = inject(fdb, "begin");
    return rc == CAIRN_OK ? REAL_OPS(fdb)->begin(fdb->real) : rc;
}

static cairn_status fa_commit(cn_db *db)
{
    faulty_db *fdb = (faulty_db *)db;
    cairn_status rc = inject(fdb, "commit");
    return rc == CAIRN_OK ? REAL_OPS(fdb)->commit(fdb->real) : rc;
}

static cairn_status fa_rollback(cn_db *db)
{
    faulty_db *fdb = (faulty_db *)db;
    return REAL_OPS(fdb)->rollback(fdb->real);
}

static cairn_status fa_lock_key(cn_db *db, int64_t key)
{
    faulty_db *fdb = (faulty_db *)db;
    return REAL_OPS(fdb)->lock_key(fdb->real, key);
}

static cairn_status fa_setup_writer(cn_db *db)
{
    faulty_db *fdb = (faulty_db *)db;
    return REAL_OPS(fdb)->setup_writer(fdb->real);
}

const cn_db_ops cn_db_faulty_ops = {
    .name = "faulty",
    .open = fa_open,
    .close = fa_close,
    .exec = fa_exec,
    .prepare = fa_prepare,
    .bind_int64 = fa_bind_int64,
    .bind_double = fa_bind_double,
    .bind_text = fa_bind_text,
    .bind_null = fa_bind_null,
    .step = fa_step,
    .column_count = fa_column_count,
    .column_is_null = fa_column_is_null,
    .column_int64 = fa_column_int64,
    .column_double = fa_column_double,
    .column_text = fa_column_text,
    .reset = fa_reset,
    .finalize = fa_finalize,
    .begin = fa_begin,
    .commit = fa_commit,
    .rollback = fa_rollback,
    .lock_key = fa_lock_key,
    .claim_suffix = "",
    .is_file = false,
    .setup_writer = fa_setup_writer,
    /* Installed after open: the open-time checks never run through this driver. */
    .tables_sql = NULL,
    .integrity_sql = NULL,
};

cairn_status cn_db_faulty_install(cairn_ctx *ctx, cn_db_faults *f)
{
    cairn_status rc = cn_need_store(ctx);
    if (rc != CAIRN_OK)
        return rc;
    if (ctx->store->ops != &cn_store_sql_ops)
        return cn_fail(ctx, CAIRN_EINVAL, "fault injection needs the SQL store");
    cn_sql_store *s = (cn_sql_store *)ctx->store;
    faulty_db *fdb = cn_xcalloc(1, sizeof *fdb);
    fdb->base.ops = &cn_db_faulty_ops;
    fdb->base.ctx = s->db->ctx;
    fdb->real = s->db;
    fdb->faults = f;
    s->db = &fdb->base;
    s->db_ops = &cn_db_faulty_ops;
    return CAIRN_OK;
}
