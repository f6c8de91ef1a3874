/* SPDX-License-Identifier: MIT */
/* db_sqlite.c - the SQLite driver behind db.h: the one home of sqlite3. WAL journal, a busy
 * timeout so concurrent writers wait rather than fail, BEGIN IMMEDIATE for write transactions,
 * case-sensitive LIKE (MLflow's LIKE is case-sensitive), a per-connection statement cache. */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sqlite3.h>
#include "core/core.h"
#include "store/db.h"
#include "store/sqlite_vfs.h"
#include "base/buf.h"
#include "base/str.h"
#include "base/xmalloc.h"
#include "base/banned.h"

typedef struct cache_entry {
    char *sql;
    sqlite3_stmt *stmt;
    bool in_use;
} cache_entry;

#define CACHE_SIZE 64

/* One lock per database file, shared by every connection of this process: a writer waits on
 * it rather than in SQLite's busy handler, which sleeps in steps of up to 100 ms and so turns
 * contention between a server's worker threads into idle time. Other processes still meet
 * at SQLite's own lock (BEGIN IMMEDIATE and the busy timeout). */
typedef struct file_lock {
    char *key;
    pthread_mutex_t mu;
    int refs;
    struct file_lock *next;
} file_lock;
static pthread_mutex_t file_locks_mu = PTHREAD_MUTEX_INITIALIZER;
static file_lock *file_locks;

static file_lock *file_lock_get(const char *path)
{
    if (!path || !*path || strcmp(path, ":memory:") == 0)
        return NULL;
    char real[PATH_MAX];
    const char *key = realpath(path, real) ? real : path;
    pthread_mutex_lock(&file_locks_mu);
    file_lock *l = file_locks;
    while (l && strcmp(l->key, key) != 0)
        l = l->next;
    if (!l) {
        l = cn_xcalloc(1, sizeof *l);
        l->key = cn_xstrdup(key);
        pthread_mutex_init(&l->mu, NULL);
        l->next = file_locks;
        file_locks = l;
    }
    l->refs++;
    pthread_mutex_unlock(&file_locks_mu);
    return l;
}

static void file_lock_put(file_lock *l)
{
    if (!l)
        return;
    pthread_mutex_lock(&file_locks_mu);
    if (--l->refs == 0) {
        file_lock **pp = &file_locks;
        while (*pp != l)
            pp = &(*pp)->next;
        *pp = l->next;
        pthread_mutex_destroy(&l->mu);
        free(l->key);
        free(l);
    }
    pthread_mutex_unlock(&file_locks_mu);
}

/* The background checkpointer of a connection opened with opts->background_checkpoint: past
 * CHECKPOINT_PAGES pages of write-ahead log, the connection's commits wake this thread, which
 * copies the log back into the database (with its syncs) on a connection of its own while the
 * writer goes on (a PASSIVE checkpoint never blocks it). SQLite reuses the log from its start
 * only when a write begins with everything copied back, which a writer that never pauses
 * never sees: past CHECKPOINT_HARD_PAGES the writer checkpoints itself, copying the little the
 * thread has not copied yet, so the log stays bounded (about 32 MB) under any load.
 * A wide window costs the writer less: the server's hot pages (a run's last metrics page, the
 * latest values) are written to the log at each commit but copied back once per window, so
 * 4,000 pages rather than 1,000 took log-metric from 0.51 to 0.54-0.57 of the ceiling
 * (docs/bench.md). And when the commits stop for CHECKPOINT_IDLE_MS with pages in the log, the
 * thread copies those back too: the next burst of writes then starts the log afresh instead of
 * paying, in its first window, for the pages the burst before left. */
#define CHECKPOINT_PAGES 4000
#define CHECKPOINT_HARD_PAGES 8000
#define CHECKPOINT_IDLE_MS 100

typedef struct checkpointer {
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t wake; /* on CLOCK_MONOTONIC */
    bool wanted, stopping;
    bool idle_armed;       /* a commit left pages in the log since the last checkpoint */
    unsigned long commits; /* commits seen, to tell a quiet spell from a busy one */
    char *uri;             /* the database, as the writer opened it */
} checkpointer;

typedef struct sqlite_db {
    cn_db base;
    sqlite3 *h;
    checkpointer *ckpt; /* NULL: SQLite checkpoints on commit, as usual */
    char *path;
    file_lock *wlock; /* NULL for an in-memory or read-only database */
    bool holds_wlock;
    bool asked_read_only; /* the caller chose read-only (mode=ro, immutable, opts) */
    cache_entry cache[CACHE_SIZE];
    size_t n_cache;
    size_t next_evict; /* round-robin victim when the cache is full */
} sqlite_db;

static void release_wlock(sqlite_db *db)
{
    if (db->holds_wlock) {
        db->holds_wlock = false;
        pthread_mutex_unlock(&db->wlock->mu);
    }
}

struct cn_stmt {
    sqlite_db *db;
    sqlite3_stmt *stmt;
    cache_entry *cached; /* non-NULL when the statement belongs to the cache */
};

static void *checkpointer_main(void *arg)
{
    checkpointer *c = arg;
    sqlite3 *h = NULL;
    if (sqlite3_open_v2(c->uri, &h, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_URI,
                        cn_sqlite_vfs()) != SQLITE_OK) {
        sqlite3_close(h);
        h = NULL;
    } else {
        sqlite3_busy_timeout(h, 1000);
    }
    pthread_mutex_lock(&c->mu);
    for (;;) {
        while (!c->wanted && !c->stopping) {
            if (!c->idle_armed) {
                pthread_cond_wait(&c->wake, &c->mu);
                continue;
            }
            /* Pages wait in the log: copy them back once the commits have stopped. */
            unsigned long seen = c->commits;
            struct timespec ts;
            clock_gettime(CLOCK_MONOTONIC, &ts);
            ts.tv_nsec += CHECKPOINT_IDLE_MS * 1000000L;
            ts.tv_sec += ts.tv_nsec / 1000000000L;
            ts.tv_nsec %= 1000000000L;
            pthread_cond_timedwait(&c->wake, &c->mu, &ts);
            if (!c->wanted && !c->stopping && c->commits == seen) {
                c->idle_armed = false;
                c->wanted = true;
            }
        }
        if (c->stopping)
            break;
        c->wanted = false;
        pthread_mutex_unlock(&c->mu);
        /* A failure (a reader in the way, a full disk) leaves the log to the next try; the
         * last connection to close checkpoints it in any case. A connection that has read
         * nothing yet does not know the file is in WAL mode, and SQLite 3.40's checkpoint is
         * then a no-op: one read first (cheap, and it ends at once) opens the log. */
        if (h) {
            sqlite3_exec(h, "PRAGMA schema_version", NULL, NULL, NULL);
            sqlite3_wal_checkpoint_v2(h, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
        }
        pthread_mutex_lock(&c->mu);
    }
    pthread_mutex_unlock(&c->mu);
    sqlite3_close(h);
    return NULL;
}

/* sqlite3_wal_hook: after each commit, with the pages now in the log. */
static int on_wal_commit(void *arg, sqlite3 *h, const char *name, int pages)
{
    (void)name;
    checkpointer *c = arg;
    if (pages >= CHECKPOINT_HARD_PAGES)
        sqlite3_wal_checkpoint_v2(h, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
    pthread_mutex_lock(&c->mu);
    c->commits++;
    if (pages >= CHECKPOINT_PAGES && pages < CHECKPOINT_HARD_PAGES) {
        c->wanted = true;
        pthread_cond_signal(&c->wake);
    } else if (!c->idle_armed) {
        c->idle_armed = true; /* the thread starts watching for a quiet spell */
        pthread_cond_signal(&c->wake);
    }
    pthread_mutex_unlock(&c->mu);
    return SQLITE_OK;
}

static checkpointer *checkpointer_start(sqlite3 *h, const char *uri)
{
    checkpointer *c = cn_xcalloc(1, sizeof *c);
    c->uri = cn_xstrdup(uri);
    pthread_mutex_init(&c->mu, NULL);
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&c->wake, &attr);
    pthread_condattr_destroy(&attr);
    if (pthread_create(&c->thread, NULL, checkpointer_main, c) != 0) {
        pthread_cond_destroy(&c->wake);
        pthread_mutex_destroy(&c->mu);
        free(c->uri);
        free(c);
        return NULL; /* then the connection checkpoints itself, as usual */
    }
    sqlite3_wal_hook(h, on_wal_commit, c); /* replaces the automatic checkpoint */
    return c;
}

static void checkpointer_stop(checkpointer *c)
{
    if (!c)
        return;
    pthread_mutex_lock(&c->mu);
    c->stopping = true;
    pthread_cond_signal(&c->wake);
    pthread_mutex_unlock(&c->mu);
    pthread_join(c->thread, NULL);
    pthread_cond_destroy(&c->wake);
    pthread_mutex_destroy(&c->mu);
    free(c->uri);
    free(c);
}

/* Maps a SQLite result code to a status with a message that names the cause and the fix. */
static cairn_status fail(sqlite_db *db, int rc, const char *what)
{
    cairn_ctx *ctx = db->base.ctx;
    const char *msg = db->h ? sqlite3_errmsg(db->h) : sqlite3_errstr(rc);
    int primary = rc & 0xff;
    switch (primary) {
    case SQLITE_CONSTRAINT:
        if (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY)
            return cn_fail(ctx, CAIRN_EEXIST, "%s: %s", what, msg);
        return cn_fail(ctx, CAIRN_EDB, "%s: %s", what, msg);
    case SQLITE_FULL:
        return cn_fail(ctx, CAIRN_EIO,
                       "store '%s': the disk is full; free space and retry (nothing was written)",
                       db->path);
    case SQLITE_READONLY:
        if (db->asked_read_only)
            return cn_fail(ctx, CAIRN_EIO, "store '%s' is read-only (opened read-only)", db->path);
        return cn_fail(ctx, CAIRN_EIO,
                       "store '%s' is read-only; check the file and folder permissions", db->path);
    case SQLITE_CANTOPEN:
        return cn_fail(ctx, CAIRN_EIO, "store '%s': cannot open the database file (%s)", db->path,
                       msg);
    case SQLITE_CORRUPT:
        return cn_fail(ctx, CAIRN_EDB,
                       "store '%s' is corrupted (%s); run 'cairn store check --store %s' and "
                       "restore it from a backup",
                       db->path, msg, db->path);
    case SQLITE_NOTADB:
        return cn_fail(ctx, CAIRN_EDB,
                       "store '%s' is not a cairn SQLite database or is corrupted (%s); run "
                       "'cairn store check --store %s'",
                       db->path, msg, db->path);
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        return cn_fail(ctx, CAIRN_EDB,
                       "store '%s': still locked by another process after the busy timeout; "
                       "retry, or raise the timeout",
                       db->path);
    case SQLITE_IOERR: return cn_fail(ctx, CAIRN_EIO, "store '%s': i/o error (%s)", db->path, msg);
    default: return cn_fail(ctx, CAIRN_EDB, "%s: %s", what, msg);
    }
}

static cairn_status sq_exec(cn_db *base, const char *sql)
{
    sqlite_db *db = (sqlite_db *)base;
    char *err = NULL;
    int rc = sqlite3_exec(db->h, sql, NULL, NULL, &err);
    sqlite3_free(err);
    if (rc != SQLITE_OK)
        return fail(db, sqlite3_extended_errcode(db->h), "sqlite");
    return CAIRN_OK;
}

/* "file:" + path with '%', '?' and '#' escaped, for SQLite's URI filenames. */
static char *file_uri(const char *path, const char *query)
{
    cn_buf b = CN_BUF_INIT;
    cn_buf_puts(&b, "file:");
    for (const char *p = path; *p; p++) {
        if (*p == '%' || *p == '?' || *p == '#')
            cn_buf_printf(&b, "%%%02X", (unsigned char)*p);
        else
            cn_buf_putc(&b, *p);
    }
    cn_buf_puts(&b, query);
    return cn_buf_detach(&b);
}

/* Opens without writing anything: the journal mode is set by sq_setup_writer, once store.c
 * has read the schema and knows the file is cairn's. */
static cairn_status sq_open(cairn_ctx *ctx, const char *path, const cairn_open_opts *opts,
                            cn_db **out)
{
    sqlite_db *db = cn_xcalloc(1, sizeof *db);
    db->base.ops = &cn_db_sqlite_ops;
    db->base.ctx = ctx;
    db->path = cn_xstrdup(path);
    *out = NULL;
    bool immutable = opts && opts->immutable;
    db->asked_read_only = immutable || (opts && opts->read_only);
    int flags = db->asked_read_only        ? SQLITE_OPEN_READONLY
                : opts && opts->must_exist ? SQLITE_OPEN_READWRITE
                                           : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
    char *name = file_uri(path, immutable ? "?immutable=1" : "");
    int rc = sqlite3_open_v2(name, &db->h, flags | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_URI,
                             cn_sqlite_vfs());
    if (rc == SQLITE_OK && !db->asked_read_only && opts && opts->background_checkpoint)
        db->ckpt = checkpointer_start(db->h, name);
    free(name);
    cairn_status st = CAIRN_OK;
    if (rc != SQLITE_OK) {
        st = fail(db, rc, "sqlite open");
        goto done;
    }
    sqlite3_extended_result_codes(db->h, 1);
    int timeout = opts && opts->busy_timeout_ms > 0 ? opts->busy_timeout_ms : 60000;
    sqlite3_busy_timeout(db->h, timeout);
    st = sq_exec(&db->base, "PRAGMA foreign_keys = OFF; PRAGMA case_sensitive_like = ON;");
    if (st != CAIRN_OK)
        goto done;
    /* Tests cap the file size to exercise the full-disk path exactly as SQLITE_FULL. */
    const char *max_pages = getenv("CAIRN_SQLITE_MAX_PAGES");
    if (max_pages && *max_pages) {
        char pragma[64];
        snprintf(pragma, sizeof pragma, "PRAGMA max_page_count = %lld",
                 strtoll(max_pages, NULL, 10));
        st = sq_exec(&db->base, pragma);
        if (st != CAIRN_OK)
            goto done;
    }
    if (!db->asked_read_only)
        db->wlock = file_lock_get(path);
    *out = &db->base;
    db = NULL;
done:
    if (db) {
        sqlite3_close(db->h);
        checkpointer_stop(db->ckpt);
        free(db->path);
        free(db);
    }
    return st;
}

/* WAL lets readers run beside the writer; NORMAL sync in WAL never corrupts the file on a
 * crash (a kill -9 loses at most the last transactions not yet checkpointed to the WAL). */
static cairn_status sq_setup_writer(cn_db *base)
{
    return sq_exec(base, "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;");
}

static void sq_close(cn_db *base)
{
    sqlite_db *db = (sqlite_db *)base;
    if (!db)
        return;
    for (size_t i = 0; i < db->n_cache; i++) {
        sqlite3_finalize(db->cache[i].stmt);
        free(db->cache[i].sql);
    }
    sqlite3_close(db->h);
    checkpointer_stop(db->ckpt);
    release_wlock(db);
    file_lock_put(db->wlock);
    free(db->path);
    free(db);
}

static cairn_status sq_prepare(cn_db *base, const char *sql, cn_stmt **out)
{
    sqlite_db *db = (sqlite_db *)base;
    *out = NULL;
    /* Reuse a cached statement for SQL we have seen; store.c runs the same few statements
     * over and over, and preparing costs more than stepping. */
    for (size_t i = 0; i < db->n_cache; i++) {
        cache_entry *e = &db->cache[i];
        if (!e->in_use && strcmp(e->sql, sql) == 0) {
            e->in_use = true;
            cn_stmt *st = cn_xcalloc(1, sizeof *st);
            st->db = db;
            st->stmt = e->stmt;
            st->cached = e;
            *out = st;
            return CAIRN_OK;
        }
    }
    sqlite3_stmt *stmt = NULL;
    int rc = sqlite3_prepare_v2(db->h, sql, -1, &stmt, NULL);
    if (rc != SQLITE_OK)
        return fail(db, sqlite3_extended_errcode(db->h), "sqlite prepare");
    cn_stmt *st = cn_xcalloc(1, sizeof *st);
    st->db = db;
    st->stmt = stmt;
    if (strlen(sql) < 4096) {
        cache_entry *e = NULL;
        if (db->n_cache < CACHE_SIZE) {
            e = &db->cache[db->n_cache++];
        } else {
            /* Evict an idle entry so one-off search queries cannot pin the cache. */
            for (size_t k = 0; k < CACHE_SIZE && !e; k++) {
                cache_entry *c = &db->cache[(db->next_evict + k) % CACHE_SIZE];
                if (!c->in_use) {
                    e = c;
                    db->next_evict = (db->next_evict + k + 1) % CACHE_SIZE;
                }
            }
            if (e) {
                sqlite3_finalize(e->stmt);
                free(e->sql);
            }
        }
        if (e) {
            e->sql = cn_xstrdup(sql);
            e->stmt = stmt;
            e->in_use = true;
            st->cached = e;
        }
    }
    *out = st;
    return CAIRN_OK;
}

static cairn_status bind_rc(cn_stmt *st, int rc)
{
    if (rc != SQLITE_OK)
        return fail(st->db, rc, "sqlite bind");
    return CAIRN_OK;
}

static cairn_status sq_bind_int64(cn_stmt *st, int idx, int64_t v)
{
    return bind_rc(st, sqlite3_bind_int64(st->stmt, idx, v));
}

static cairn_status sq_bind_double(cn_stmt *st, int idx, double v)
{
    return bind_rc(st, sqlite3_bind_double(st->stmt, idx, v));
}

static cairn_status sq_bind_text(cn_stmt *st, int idx, const char *v, int len)
{
    return bind_rc(st, sqlite3_bind_text(st->stmt, idx, v, len, SQLITE_TRANSIENT));
}

static cairn_status sq_bind_null(cn_stmt *st, int idx)
{
    return bind_rc(st, sqlite3_bind_null(st->stmt, idx));
}

static int sq_step(cn_stmt *st)
{
    int rc = sqlite3_step(st->stmt);
    if (rc == SQLITE_ROW)
        return CN_DB_ROW;
    if (rc == SQLITE_DONE)
        return CN_DB_DONE;
    return (int)fail(st->db, sqlite3_extended_errcode(st->db->h), "sqlite");
}

static int sq_column_count(cn_stmt *st)
{
    return sqlite3_column_count(st->stmt);
}

static bool sq_column_is_null(cn_stmt *st, int col)
{
    return sqlite3_column_type(st->stmt, col) == SQLITE_NULL;
}

static int64_t sq_column_int64(cn_stmt *st, int col)
{
    return sqlite3_column_int64(st->stmt, col);
}

static double sq_column_double(cn_stmt *st, int col)
{
    return sqlite3_column_double(st->stmt, col);
}

static const char *sq_column_text(cn_stmt *st, int col)
{
    return (const char *)sqlite3_column_text(st->stmt, col);
}

static cairn_status sq_reset(cn_stmt *st)
{
    sqlite3_reset(st->stmt);
    sqlite3_clear_bindings(st->stmt);
    return CAIRN_OK;
}

static void sq_finalize(cn_stmt *st)
{
    if (!st)
        return;
    if (st->cached) {
        sqlite3_reset(st->stmt);
        sqlite3_clear_bindings(st->stmt);
        st->cached->in_use = false;
    } else {
        sqlite3_finalize(st->stmt);
    }
    free(st);
}

static cairn_status sq_begin(cn_db *base)
{
    sqlite_db *db = (sqlite_db *)base;
    if (db->wlock && !db->holds_wlock) {
        pthread_mutex_lock(&db->wlock->mu);
        db->holds_wlock = true;
    }
    cairn_status st = sq_exec(base, "BEGIN IMMEDIATE");
    if (st != CAIRN_OK)
        release_wlock(db);
    return st;
}

static cairn_status sq_commit(cn_db *base)
{
    sqlite_db *db = (sqlite_db *)base;
    cairn_status st = sq_exec(base, "COMMIT");
    if (st == CAIRN_OK || sqlite3_get_autocommit(db->h))
        release_wlock(db);
    return st;
}

static cairn_status sq_rollback(cn_db *base)
{
    sqlite_db *db = (sqlite_db *)base;
    if (!sqlite3_get_autocommit(db->h))
        sqlite3_exec(db->h, "ROLLBACK", NULL, NULL, NULL);
    release_wlock(db);
    return CAIRN_OK;
}

/* BEGIN IMMEDIATE already holds the database's only write lock. */
static cairn_status sq_lock_key(cn_db *db, int64_t key)
{
    (void)db;
    (void)key;
    return CAIRN_OK;
}

const cn_db_ops cn_db_sqlite_ops = {
    .name = "sqlite",
    .open = sq_open,
    .close = sq_close,
    .exec = sq_exec,
    .prepare = sq_prepare,
    .bind_int64 = sq_bind_int64,
    .bind_double = sq_bind_double,
    .bind_text = sq_bind_text,
    .bind_null = sq_bind_null,
    .step = sq_step,
    .column_count = sq_column_count,
    .column_is_null = sq_column_is_null,
    .column_int64 = sq_column_int64,
    .column_double = sq_column_double,
    .column_text = sq_column_text,
    .reset = sq_reset,
    .finalize = sq_finalize,
    .begin = sq_begin,
    .commit = sq_commit,
    .rollback = sq_rollback,
    .lock_key = sq_lock_key,
    .claim_suffix = "",
    .is_file = true,
    .setup_writer = sq_setup_writer,
    .tables_sql = "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name",
    /* foreign_key_check is not run: the schema declares no foreign keys. */
    .integrity_sql = "PRAGMA integrity_check(100)",
};
