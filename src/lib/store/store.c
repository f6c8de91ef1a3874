/* SPDX-License-Identifier: MIT */
/* store.c - cairn_open()/cairn_close() picking a store implementation by URI scheme; the SQL
 * store's open (numbered migrations applied in one transaction), its operations table, and
 * the query, transaction and dialect helpers its domain files use. */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "core/core.h"
#include "store/db_pg.h"
#include "store/store.h"
#include "store/store_auth.h"
#include "store/store_experiments.h"
#include "store/store_logged_models.h"
#include "store/store_registry.h"
#include "store/store_rest.h"
#include "store/store_runs.h"
#include "store/store_studies.h"
#include "store/store_summary.h"
#include "base/embedded.h"
#include "base/fs.h"
#include "base/rng.h"
#include "base/str.h"
#include "base/time.h"
#include "base/xmalloc.h"
#include "base/banned.h"

extern const cn_embedded_file schema_files[];

cn_sql_store *cn_store_sql(cairn_ctx *ctx)
{
    CN_ASSERT(ctx->store && ctx->store->ops == &cn_store_sql_ops);
    return (cn_sql_store *)ctx->store;
}

#define STORE(ctx) cn_store_sql(ctx)
#define OPS(ctx) (cn_store_sql(ctx)->db_ops)
#define DB(ctx) (cn_store_sql(ctx)->db)

/* The absolute form of a path that may not exist yet (its parent must, or it is kept). */
static char *absolute_path(const char *path)
{
    if (path[0] == '/')
        return cn_xstrdup(path);
    char cwd[PATH_MAX];
    if (!getcwd(cwd, sizeof cwd))
        return cn_xstrdup(path);
    return cn_path_join(cwd, path);
}

/* The number a migration's file name starts with ("001_init.sql" is 1); 0 when none. */
static int64_t migration_number(const char *name)
{
    char num[16];
    size_t k = 0;
    int64_t version = 0;
    while (k < sizeof num - 1 && isdigit((unsigned char)name[k])) {
        num[k] = name[k];
        k++;
    }
    num[k] = '\0';
    return cn_parse_int64(num, &version) ? version : 0;
}

const cn_embedded_file *cn_store_migrations(const cn_db_ops *ops, const cn_embedded_file *after)
{
    size_t dlen = strlen(ops->name);
    for (const cn_embedded_file *f = after ? after + 1 : schema_files; f->path; f++)
        if (strncmp(f->path, ops->name, dlen) == 0 && f->path[dlen] == '/' &&
            migration_number(f->path + dlen + 1) > 0)
            return f;
    return NULL;
}

int64_t cn_store_migration_version(const cn_db_ops *ops, const cn_embedded_file *f)
{
    return migration_number(f->path + strlen(ops->name) + 1);
}

static int64_t known_version(const cn_db_ops *ops)
{
    int64_t known = 0;
    for (const cn_embedded_file *f = cn_store_migrations(ops, NULL); f;
         f = cn_store_migrations(ops, f))
        if (cn_store_migration_version(ops, f) > known)
            known = cn_store_migration_version(ops, f);
    return known;
}

void cn_schema_state_release(cn_schema_state *st)
{
    free(st->other_table);
    memset(st, 0, sizeof *st);
}

cairn_status cn_store_read_schema(cairn_ctx *ctx, cn_schema_state *out)
{
    cn_stmt *st = NULL;
    memset(out, 0, sizeof *out);
    out->known = known_version(OPS(ctx));
    cairn_status rc = cn_store_query(ctx, &st, OPS(ctx)->tables_sql, "");
    int r = rc == CAIRN_OK ? cn_store_step(ctx, st) : (int)rc;
    for (; r == CN_DB_ROW; r = cn_store_step(ctx, st)) {
        const char *name = cn_col_text(ctx, st, 0);
        out->n_tables++;
        if (strcmp(name, "cairn_schema") == 0)
            out->has_cairn_schema = true;
        else if (!out->other_table)
            out->other_table = cn_xstrdup(name);
    }
    cn_store_finalize(ctx, st);
    if (r != CN_DB_DONE)
        return (cairn_status)r;
    if (!out->has_cairn_schema)
        return CAIRN_OK;
    rc = cn_store_query(ctx, &st, "SELECT COALESCE(MAX(version), 0) FROM cairn_schema", "");
    r = rc == CAIRN_OK ? cn_store_step(ctx, st) : (int)rc;
    if (r == CN_DB_ROW)
        out->version = cn_col_int(ctx, st, 0);
    cn_store_finalize(ctx, st);
    return r == CN_DB_ROW ? CAIRN_OK : (cairn_status)r;
}

/* Refuses a store that is not cairn's, was written by a newer cairn, or needs migrations it
 * cannot get (read-only). shown names the store in messages. */
static cairn_status schema_verdict(cairn_ctx *ctx, const char *shown, const cn_schema_state *st,
                                   bool read_only)
{
    if (!st->has_cairn_schema && st->n_tables > 0)
        return cn_fail(ctx, CAIRN_EINVAL,
                       "store '%s' is not a cairn store: it holds other tables ('%s') and no "
                       "cairn_schema table; nothing was written to it",
                       shown, st->other_table);
    if (st->version > st->known)
        return cn_fail(ctx, CAIRN_EINVAL,
                       "store '%s' was written by a newer cairn (schema %lld, this cairn knows up "
                       "to %lld); upgrade cairn",
                       shown, (long long)st->version, (long long)st->known);
    if (read_only && st->version < st->known)
        return cn_fail(ctx, CAIRN_EINVAL,
                       "store '%s' needs an upgrade (schema %lld, this cairn applies up to %lld) "
                       "and is open read-only; open it writable once",
                       shown, (long long)st->version, (long long)st->known);
    return CAIRN_OK;
}

/* Applies the migrations past the store's version in one transaction, under a lock so two
 * processes opening a fresh store at once take turns. The version is read again under the
 * lock: another process may have migrated meanwhile. */
static cairn_status migrate(cairn_ctx *ctx, cn_sql_store *s, const char *shown)
{
    cairn_status rc = cn_store_begin(ctx);
    if (rc != CAIRN_OK)
        return rc;
    rc = s->db_ops->lock_key(s->db, 725371);
    if (rc == CAIRN_OK)
        rc = OPS(ctx)->exec(s->db, "CREATE TABLE IF NOT EXISTS cairn_schema ("
                                   "version INTEGER PRIMARY KEY, name TEXT NOT NULL, "
                                   "applied_time BIGINT NOT NULL)");
    cn_schema_state state;
    memset(&state, 0, sizeof state);
    if (rc == CAIRN_OK)
        rc = cn_store_read_schema(ctx, &state);
    if (rc == CAIRN_OK)
        rc = schema_verdict(ctx, shown, &state, false);
    for (const cn_embedded_file *f = cn_store_migrations(s->db_ops, NULL); rc == CAIRN_OK && f;
         f = cn_store_migrations(s->db_ops, f)) {
        int64_t version = cn_store_migration_version(s->db_ops, f);
        const char *name = f->path + strlen(s->db_ops->name) + 1;
        if (version <= state.version)
            continue;
        rc = OPS(ctx)->exec(s->db, (const char *)f->data);
        if (rc != CAIRN_OK) {
            cn_errctx(ctx, "migration %s", name);
            break;
        }
        rc = cn_store_run(ctx,
                          "INSERT INTO cairn_schema (version, name, applied_time) VALUES (?, ?, ?)",
                          "isi", version, name, cn_now_ms());
        if (rc == CAIRN_OK)
            cn_log(ctx, CAIRN_LOG_INFO, "store", "applied migration %s", name);
    }
    cn_schema_state_release(&state);
    if (rc != CAIRN_OK) {
        cn_store_rollback(ctx);
        return rc;
    }
    return cn_store_commit(ctx);
}

/* ---- the sqlite: URI and its options ---- */

/* Applies one "name=value" option of a sqlite: URI to opts. */
static cairn_status sqlite_option(cairn_ctx *ctx, const char *uri, const char *opt, size_t len,
                                  cairn_open_opts *opts)
{
    const char *eq = memchr(opt, '=', len);
    size_t nlen = eq ? (size_t)(eq - opt) : len;
    char value[32] = "";
    if (eq && (size_t)(opt + len - eq - 1) < sizeof value)
        memcpy(value, eq + 1, (size_t)(opt + len - eq - 1));
    int64_t n = 0;
    if (nlen == 4 && strncmp(opt, "mode", 4) == 0) {
        if (strcmp(value, "ro") == 0)
            opts->read_only = true;
        else if (strcmp(value, "rw") == 0)
            opts->must_exist = true;
        else if (strcmp(value, "rwc") != 0)
            return cn_fail(ctx, CAIRN_EINVAL,
                           "store '%s': option 'mode' must be ro, rw or rwc, not '%.*s'", uri,
                           (int)(len - nlen - (eq ? 1 : 0)), eq ? eq + 1 : "");
    } else if (nlen == 9 && strncmp(opt, "immutable", 9) == 0) {
        if (strcmp(value, "1") != 0 && strcmp(value, "0") != 0)
            return cn_fail(ctx, CAIRN_EINVAL, "store '%s': option 'immutable' must be 0 or 1", uri);
        opts->immutable = value[0] == '1';
    } else if (nlen == 15 && strncmp(opt, "busy_timeout_ms", 15) == 0) {
        if (!cn_parse_int64(value, &n) || n < 0 || n > INT_MAX)
            return cn_fail(ctx, CAIRN_EINVAL,
                           "store '%s': option 'busy_timeout_ms' must be a whole number of "
                           "milliseconds",
                           uri);
        opts->busy_timeout_ms = n > 0 ? (int)n : 1; /* 0 would mean the default */
    } else {
        return cn_fail(ctx, CAIRN_EINVAL,
                       "store '%s': unknown option '%.*s'; a sqlite: store takes mode=ro|rw|rwc, "
                       "immutable=1 and busy_timeout_ms=N",
                       uri, (int)nlen, opt);
    }
    return CAIRN_OK;
}

/* Splits a sqlite: URI into its file's absolute path (*path_out, caller frees) and opts (the
 * caller's, overridden by the URI's options). A bare path takes no options: '?' is part of
 * the file name there. */
static cairn_status sqlite_uri(cairn_ctx *ctx, const char *uri, cairn_open_opts *opts,
                               char **path_out)
{
    const char *target = uri;
    const char *query = NULL;
    *path_out = NULL;
    if (cn_str_starts(uri, "sqlite://"))
        target = uri + strlen("sqlite://");
    else if (cn_str_starts(uri, "sqlite:"))
        target = uri + strlen("sqlite:");
    if (target != uri)
        query = strchr(target, '?');
    size_t len = query ? (size_t)(query - target) : strlen(target);
    if (len == 0)
        return cn_fail(ctx, CAIRN_EINVAL, "store '%s': the SQLite path is empty", uri);
    for (const char *p = query ? query + 1 : NULL; p && *p;) {
        size_t n = strcspn(p, "&");
        if (n > 0) {
            cairn_status rc = sqlite_option(ctx, uri, p, n, opts);
            if (rc != CAIRN_OK)
                return rc;
        }
        p += n + (p[n] == '&');
    }
    if (opts->immutable)
        opts->read_only = true;
    char *rel = cn_xstrndup(target, len);
    *path_out = absolute_path(rel);
    free(rel);
    return CAIRN_OK;
}

/* True when the SQLite file at path is in WAL mode (header bytes 18 and 19 are 2). */
static bool sqlite_is_wal(const char *path)
{
    unsigned char header[20];
    FILE *f = fopen(path, "rb");
    bool wal = f && fread(header, 1, sizeof header, f) == sizeof header && header[18] == 2 &&
               header[19] == 2;
    if (f)
        fclose(f);
    return wal;
}

/* Decides how to open the SQLite file at path: a missing one is created (its folder too)
 * unless read-only or mode=rw; one that cannot be written, or whose folder cannot take the
 * journal, opens read-only; a WAL file in a read-only folder without a -shm file (so no
 * writer has it open) opens immutable, since SQLite could not create the -shm it needs. */
static cairn_status sqlite_access(cairn_ctx *ctx, const char *uri, const char *path,
                                  cairn_open_opts *opts)
{
    char *dir = cn_xstrdup(path);
    char *slash = strrchr(dir, '/');
    if (slash)
        *(slash == dir ? slash + 1 : slash) = '\0';
    cairn_status rc = CAIRN_OK;
    if (!cn_fs_exists(path)) {
        if (opts->read_only || opts->must_exist)
            rc = cn_fail(ctx, CAIRN_ENOTFOUND, "store '%s': no SQLite database at '%s'", uri, path);
        else if (!cn_fs_is_dir(dir) && cn_fs_mkdirs(dir, 0755) != 0)
            rc = cn_fail_errno(ctx, CAIRN_EIO, "store '%s': cannot create folder '%s'", uri, dir);
        goto done;
    }
    bool dir_writable = access(dir, W_OK) == 0;
    if (!opts->read_only && (access(path, W_OK) != 0 || !dir_writable)) {
        cn_log(ctx, CAIRN_LOG_INFO, "store", "'%s' is not writable: opening it read-only", path);
        opts->read_only = true;
    }
    if (opts->read_only && !opts->immutable && !dir_writable && sqlite_is_wal(path)) {
        char *shm = cn_asprintf("%s-shm", path);
        if (!cn_fs_exists(shm)) {
            cn_log(ctx, CAIRN_LOG_INFO, "store", "'%s' is read-only with no -shm: immutable", path);
            opts->immutable = true;
        }
        free(shm);
    }
done:
    free(dir);
    return rc;
}

/* Reads the schema, refuses what is not ours, then (writable) sets the writer up and
 * migrates: nothing is written before the store is known to be cairn's. */
static cairn_status check_and_migrate(cairn_ctx *ctx, cn_sql_store *s, const char *shown)
{
    cn_schema_state state;
    ctx->store = &s->base;
    cairn_status rc = cn_store_read_schema(ctx, &state);
    if (rc == CAIRN_OK)
        rc = schema_verdict(ctx, shown, &state, s->read_only);
    bool current = state.version == state.known;
    cn_schema_state_release(&state);
    if (rc == CAIRN_OK && !s->read_only)
        rc = s->db_ops->setup_writer(s->db);
    if (rc == CAIRN_OK && !s->read_only && !current)
        rc = migrate(ctx, s, shown);
    ctx->store = NULL;
    return rc;
}

/* Opens the driver connection of uri without reading or writing anything; *path_out is the
 * SQLite file (NULL for PostgreSQL), *shown how messages name the store. */
static cairn_status sql_connect(cairn_ctx *ctx, const char *uri, const cairn_open_opts *opts,
                                cn_sql_store **out, char **path_out, cn_buf *shown)
{
    cn_sql_store *s = cn_xcalloc(1, sizeof *s);
    cairn_open_opts o = CAIRN_OPEN_OPTS_INIT;
    cairn_status rc = CAIRN_OK;
    const char *target = uri;
    char *path = NULL;

    *out = NULL;
    *path_out = NULL;
    if (opts)
        o = *opts;
    s->base.ops = &cn_store_sql_ops;
    if (cn_str_starts(uri, "postgresql://") || cn_str_starts(uri, "postgres://")) {
        s->db_ops = &cn_db_pg_ops;
        cn_pg_redact_uri(shown, uri);
    } else {
        s->db_ops = &cn_db_sqlite_ops;
        rc = sqlite_uri(ctx, uri, &o, &path);
        if (rc == CAIRN_OK)
            rc = sqlite_access(ctx, uri, path, &o);
        target = path;
        cn_buf_clear(shown);
        cn_buf_puts(shown, path ? path : uri);
    }
    s->read_only = o.read_only;
    if (rc == CAIRN_OK)
        rc = s->db_ops->open(ctx, target, &o, &s->db);
    if (rc == CAIRN_OK) {
        *out = s;
        *path_out = path;
        return CAIRN_OK;
    }
    cn_store_sql_close(&s->base);
    free(path);
    return rc;
}

cairn_status cn_store_sql_open(cairn_ctx *ctx, const char *uri, const cairn_open_opts *opts,
                               cn_store **out, char **artifact_root_out)
{
    cn_sql_store *s = NULL;
    char *path = NULL, *root = NULL;
    cn_buf shown = CN_BUF_INIT;

    *out = NULL;
    *artifact_root_out = NULL;
    cairn_status rc = sql_connect(ctx, uri, opts, &s, &path, &shown);
    if (rc == CAIRN_OK)
        rc = check_and_migrate(ctx, s, cn_buf_str(&shown));
    if (rc != CAIRN_OK)
        goto done;
    const char *want_root =
        opts && opts->artifact_root ? opts->artifact_root : getenv("CAIRN_ARTIFACTS");
    if (want_root && *want_root)
        root = absolute_path(want_root);
    else if (s->db_ops->is_file && cn_str_ends(path, ".db"))
        root = cn_asprintf("%.*s-artifacts", (int)(strlen(path) - 3), path);
    else if (s->db_ops->is_file)
        root = cn_asprintf("%s-artifacts", path);
    else
        root = absolute_path("cairn-artifacts");
    *out = &s->base;
    *artifact_root_out = root;
    s = NULL;
    root = NULL;
done:
    cn_store_sql_close(s ? &s->base : NULL);
    cn_buf_release(&shown);
    free(root);
    free(path);
    return rc;
}

static void uri_scheme(const char *uri, char *out, size_t size);

cairn_status cn_store_sql_connect(cairn_ctx *ctx, const char *uri, cn_sql_store **out,
                                  cn_buf *shown)
{
    cairn_open_opts o = CAIRN_OPEN_OPTS_INIT;
    char *path = NULL, scheme[32];
    *out = NULL;
    uri_scheme(uri, scheme, sizeof scheme);
    bool is_sql = false;
    for (const char *const *sc = cn_store_sql_ops.schemes; *sc; sc++)
        is_sql = is_sql || strcmp(*sc, scheme) == 0;
    if (!is_sql)
        return cn_fail(ctx, CAIRN_EINVAL,
                       "store '%s': only sqlite: and postgresql: stores can "
                       "be checked",
                       uri);
    o.read_only = true;
    cairn_status rc = sql_connect(ctx, uri, &o, out, &path, shown);
    free(path);
    return rc;
}

void cn_store_sql_close(cn_store *base)
{
    cn_sql_store *s = (cn_sql_store *)base;
    if (!s)
        return;
    if (s->db)
        s->db_ops->close(s->db);
    free(s);
}

static const cn_store_ops *const store_impls[] = {&cn_store_sql_ops, &cn_store_rest_ops};

/* "sqlite", "postgresql", "http", ...; "" for a bare path. */
static void uri_scheme(const char *uri, char *out, size_t size)
{
    size_t n = 0;
    while (uri[n] && (isalnum((unsigned char)uri[n]) || uri[n] == '+'))
        n++;
    bool has_scheme = uri[n] == ':' && (strncmp(uri + n, "://", 3) == 0 ||
                                        (n == 6 && strncmp(uri, "sqlite", 6) == 0));
    if (!has_scheme || n >= size)
        n = 0;
    memcpy(out, uri, n);
    out[n] = '\0';
}

cairn_status cn_store_open_uri(cairn_ctx *ctx, const char *uri, const cairn_open_opts *opts,
                               cn_store **out, char **artifact_root_out)
{
    char scheme[32];
    *out = NULL;
    *artifact_root_out = NULL;
    /* "postgresql:/db" (one slash) would otherwise be a relative SQLite path, and the store
     * a file in a folder named "postgresql:". */
    static const char *const known[] = {"postgresql:", "postgres:", "http:", "https:", NULL};
    for (const char *const *k = known; *k; k++)
        if (strncmp(uri, *k, strlen(*k)) == 0 && strncmp(uri + strlen(*k), "//", 2) != 0)
            return cn_fail(ctx, CAIRN_EINVAL,
                           "store '%s': malformed URI; write %s//… (postgresql:///db?host=/run/"
                           "postgresql for a local socket, http://host:port for a server)",
                           uri, *k);
    uri_scheme(uri, scheme, sizeof scheme);
    for (size_t i = 0; i < CN_ARRAY_LEN(store_impls); i++)
        for (const char *const *sc = store_impls[i]->schemes; *sc; sc++)
            if (strcmp(*sc, scheme) == 0)
                return store_impls[i]->open(ctx, uri, opts, out, artifact_root_out);
    return cn_fail(ctx, CAIRN_EINVAL,
                   "store '%s': unknown scheme; use sqlite:///path/to/cairn.db, "
                   "postgresql://user@host/db or http://host:port (a tracking server)",
                   uri);
}

const char *cn_store_default_uri(const char *uri)
{
    if (!uri || !*uri)
        uri = getenv("CAIRN_STORE");
    return uri && *uri ? uri : "sqlite://cairn.db";
}

cairn_status cairn_open(const char *uri, const cairn_open_opts *opts, cairn_ctx **out)
{
    cairn_ctx *ctx = cairn_ctx_new();
    *out = ctx;
    uri = cn_store_default_uri(uri);
    ctx->uri = cn_xstrdup(uri);
    cn_store *s = NULL;
    char *root = NULL;
    cairn_status rc = cn_store_open_uri(ctx, uri, opts, &s, &root);
    if (rc != CAIRN_OK)
        return rc;
    ctx->store = s;
    ctx->artifact_root = root;
    /* Readers already report lost runs as KILLED; the first writer stores it. */
    int64_t n_reaped = 0;
    if (!(opts && opts->read_only) && s->ops->runs_reap(ctx, cn_now_ms(), &n_reaped) != CAIRN_OK)
        cn_log(ctx, CAIRN_LOG_WARN, "store", "cannot store lost runs as KILLED: %s",
               cairn_errmsg(ctx));
    else if (n_reaped)
        cn_log(ctx, CAIRN_LOG_INFO, "store", "stored %lld lost runs as KILLED (reason: lost)",
               (long long)n_reaped);
    return CAIRN_OK;
}

void cairn_close(cairn_ctx *ctx)
{
    if (!ctx)
        return;
    if (ctx->store)
        ctx->store->ops->close(ctx->store);
    free(ctx->uri);
    free(ctx->artifact_root);
    cn_buf_release(&ctx->err);
    free(ctx);
}

cairn_status cn_store_vquery(cairn_ctx *ctx, cn_stmt **out, const char *sql, const char *types,
                             va_list ap)
{
    cn_stmt *st = NULL;
    *out = NULL;
    cairn_status rc = cn_need_store(ctx);
    if (rc != CAIRN_OK)
        return rc;
    rc = OPS(ctx)->prepare(DB(ctx), sql, &st);
    if (rc != CAIRN_OK)
        return rc;
    int idx = 1;
    for (const char *t = types; *t && rc == CAIRN_OK; t++, idx++) {
        switch (*t) {
        case 's': {
            const char *v = va_arg(ap, const char *);
            rc = v ? OPS(ctx)->bind_text(st, idx, v, -1) : OPS(ctx)->bind_null(st, idx);
            break;
        }
        case 'i': rc = OPS(ctx)->bind_int64(st, idx, va_arg(ap, int64_t)); break;
        case 'd': rc = OPS(ctx)->bind_double(st, idx, va_arg(ap, double)); break;
        case 'n': rc = OPS(ctx)->bind_null(st, idx); break;
        default: CN_BUG("bad bind type");
        }
    }
    if (rc != CAIRN_OK) {
        OPS(ctx)->finalize(st);
        return rc;
    }
    *out = st;
    return CAIRN_OK;
}

cairn_status cn_store_query(cairn_ctx *ctx, cn_stmt **out, const char *sql, const char *types, ...)
{
    va_list ap;
    va_start(ap, types);
    cairn_status rc = cn_store_vquery(ctx, out, sql, types, ap);
    va_end(ap);
    return rc;
}

/* Runs a query for at most its first row. With first (NULL: no column is read), *first is that
 * row's first integer column, 0 and *found false when no row came back. */
static cairn_status vrun(cairn_ctx *ctx, const char *sql, const char *types, va_list ap,
                         int64_t *first, bool *found)
{
    cn_stmt *st = NULL;
    if (first) {
        *first = 0;
        *found = false;
    }
    cairn_status rc = cn_store_vquery(ctx, &st, sql, types, ap);
    if (rc != CAIRN_OK)
        return rc;
    int r = OPS(ctx)->step(st);
    if (r == CN_DB_ROW && first) {
        *first = OPS(ctx)->column_int64(st, 0);
        *found = true;
    }
    OPS(ctx)->finalize(st);
    if (r != CN_DB_DONE && r != CN_DB_ROW)
        return (cairn_status)r;
    return CAIRN_OK;
}

cairn_status cn_store_run(cairn_ctx *ctx, const char *sql, const char *types, ...)
{
    va_list ap;
    va_start(ap, types);
    cairn_status rc = vrun(ctx, sql, types, ap, NULL, NULL);
    va_end(ap);
    return rc;
}

cairn_status cn_store_query_int(cairn_ctx *ctx, int64_t *out, bool *found, const char *sql,
                                const char *types, ...)
{
    va_list ap;
    va_start(ap, types);
    cairn_status rc = vrun(ctx, sql, types, ap, out, found);
    va_end(ap);
    return rc;
}

cairn_status cn_store_prepare(cairn_ctx *ctx, const char *sql, cn_stmt **out)
{
    *out = NULL;
    cairn_status rc = cn_need_store(ctx);
    return rc == CAIRN_OK ? OPS(ctx)->prepare(DB(ctx), sql, out) : rc;
}

cairn_status cn_store_bind_text(cairn_ctx *ctx, cn_stmt *st, int idx, const char *v)
{
    return OPS(ctx)->bind_text(st, idx, v, -1);
}

cairn_status cn_store_bind_int(cairn_ctx *ctx, cn_stmt *st, int idx, int64_t v)
{
    return OPS(ctx)->bind_int64(st, idx, v);
}

cairn_status cn_store_bind_double(cairn_ctx *ctx, cn_stmt *st, int idx, double v)
{
    return OPS(ctx)->bind_double(st, idx, v);
}

cairn_status cn_store_bind_null(cairn_ctx *ctx, cn_stmt *st, int idx)
{
    return OPS(ctx)->bind_null(st, idx);
}

int cn_store_step(cairn_ctx *ctx, cn_stmt *st)
{
    return OPS(ctx)->step(st);
}

void cn_store_finalize(cairn_ctx *ctx, cn_stmt *st)
{
    if (st)
        OPS(ctx)->finalize(st);
}

const char *cn_col_text(cairn_ctx *ctx, cn_stmt *st, int col)
{
    const char *t = OPS(ctx)->column_text(st, col);
    return t ? t : "";
}

int64_t cn_col_int(cairn_ctx *ctx, cn_stmt *st, int col)
{
    return OPS(ctx)->column_int64(st, col);
}

double cn_col_double(cairn_ctx *ctx, cn_stmt *st, int col)
{
    return OPS(ctx)->column_double(st, col);
}

bool cn_col_is_null(cairn_ctx *ctx, cn_stmt *st, int col)
{
    return OPS(ctx)->column_is_null(st, col);
}

cairn_status cn_store_read_rows(cairn_ctx *ctx, cn_stmt *st, cn_arena *a, int64_t max, size_t size,
                                cn_row_fn from_row, void **items, size_t *n, bool *more)
{
    size_t cap = 0;
    int r;
    *more = false;
    while ((r = cn_store_step(ctx, st)) == CN_DB_ROW) {
        if ((int64_t)*n == max) {
            *more = true;
            return CAIRN_OK;
        }
        *items = cn_arena_grow(a, *items, *n, &cap, size);
        from_row(ctx, st, a, (char *)*items + (*n)++ * size);
    }
    return r == CN_DB_DONE ? CAIRN_OK : (cairn_status)r;
}

cairn_status cn_store_read_tags(cairn_ctx *ctx, cn_stmt *st, cn_arena *a, cairn_tag **tags,
                                size_t *n)
{
    size_t cap = 0;
    int r;
    while ((r = cn_store_step(ctx, st)) == CN_DB_ROW) {
        *tags = cn_arena_grow(a, *tags, *n, &cap, sizeof **tags);
        (*tags)[*n].key = cn_arena_strdup(a, cn_col_text(ctx, st, 0));
        (*tags)[*n].value = cn_arena_strdup(a, cn_col_text(ctx, st, 1));
        (*n)++;
    }
    cn_store_finalize(ctx, st);
    return r == CN_DB_DONE ? CAIRN_OK : (cairn_status)r;
}

cairn_status cn_store_read_one(cairn_ctx *ctx, cn_stmt *st, size_t size, cn_row_fn from_row,
                               cn_complete_fn complete, void **item, cn_arena **arena)
{
    *item = NULL;
    *arena = NULL;
    int r = cn_store_step(ctx, st);
    if (r != CN_DB_ROW) {
        cn_store_finalize(ctx, st);
        return r == CN_DB_DONE ? CAIRN_OK : (cairn_status)r;
    }
    cn_arena *a = cn_arena_new();
    void *x = cn_arena_alloc(a, size);
    from_row(ctx, st, a, x);
    cn_store_finalize(ctx, st);
    cairn_status rc = complete ? complete(ctx, a, x) : CAIRN_OK;
    if (rc != CAIRN_OK) {
        cn_arena_free(a);
        return rc;
    }
    *item = x;
    *arena = a;
    return CAIRN_OK;
}

cairn_status cn_store_begin(cairn_ctx *ctx)
{
    cairn_status rc = cn_need_store(ctx);
    if (rc != CAIRN_OK)
        return rc;
    cn_sql_store *s = STORE(ctx);
    if (s->in_txn++ > 0)
        return CAIRN_OK;
    s->txn_failed = false;
    rc = s->db_ops->begin(s->db);
    if (rc != CAIRN_OK)
        s->in_txn = 0;
    return rc;
}

cairn_status cn_store_commit(cairn_ctx *ctx)
{
    cn_sql_store *s = STORE(ctx);
    CN_ASSERT(s->in_txn > 0);
    if (--s->in_txn > 0)
        return CAIRN_OK;
    if (s->txn_failed) {
        s->db_ops->rollback(s->db);
        return cn_fail(ctx, CAIRN_EDB, "transaction rolled back after an earlier failure");
    }
    cairn_status rc = s->db_ops->commit(s->db);
    if (rc != CAIRN_OK) {
        /* Keep the commit's message: the rollback must not overwrite it. */
        s->db_ops->rollback(s->db);
    }
    return rc;
}

void cn_store_rollback(cairn_ctx *ctx)
{
    if (!ctx->store)
        return;
    cn_sql_store *s = STORE(ctx);
    if (s->in_txn == 0)
        return;
    if (--s->in_txn > 0) {
        s->txn_failed = true;
        return;
    }
    s->db_ops->rollback(s->db);
}

/* The next name of a comma-separated list at *p: its start, with *len set and *p moved past
 * it; NULL at the end. */
static const char *next_name(const char **p, size_t *len)
{
    const char *s = *p;
    while (*s == ' ' || *s == ',')
        s++;
    const char *e = s;
    while (*e && *e != ',' && *e != ' ')
        e++;
    *p = e;
    *len = (size_t)(e - s);
    return *len ? s : NULL;
}

static bool list_has(const char *list, const char *name, size_t len)
{
    size_t n;
    const char *item = next_name(&list, &n);
    for (; item; item = next_name(&list, &n))
        if (n == len && strncmp(item, name, len) == 0)
            return true;
    return false;
}

void cn_store_upsert_sql(cn_buf *out, const char *table, const char *cols, const char *keys,
                         const char *where)
{
    cn_buf_printf(out, "INSERT INTO %s (%s) VALUES (", table, cols);
    for (const char *p = cols; *p; p++)
        if (*p == ',')
            cn_buf_puts(out, "?, ");
    cn_buf_printf(out, "?) ON CONFLICT (%s) DO UPDATE SET ", keys);
    bool first = true;
    size_t len;
    const char *p = cols;
    for (const char *col = next_name(&p, &len); col; col = next_name(&p, &len)) {
        if (list_has(keys, col, len))
            continue;
        cn_buf_printf(out, "%s%.*s = excluded.%.*s", first ? "" : ", ", (int)len, col, (int)len,
                      col);
        first = false;
    }
    if (where)
        cn_buf_printf(out, " WHERE %s", where);
}

const char *cn_store_claim_suffix(cairn_ctx *ctx)
{
    return OPS(ctx)->claim_suffix;
}

/* FNV-1a over "table\0parent": the lock key of one sequence. */
static int64_t seq_lock_key(const char *table, const char *parent)
{
    uint64_t h = 1469598103934665603u;
    for (const char *p = table;; p++) {
        h = (h ^ (unsigned char)*p) * 1099511628211u;
        if (!*p)
            break;
    }
    for (const char *p = parent; *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211u;
    return (int64_t)(h >> 1);
}

cairn_status cn_store_next_seq(cairn_ctx *ctx, const char *table, const char *parent_col,
                               const char *parent, const char *seq_col, int64_t *out)
{
    cn_stmt *st = NULL;
    char sql[256];
    *out = 0;
    CN_ASSERT(STORE(ctx)->in_txn > 0);
    cairn_status rc = OPS(ctx)->lock_key(DB(ctx), seq_lock_key(table, parent));
    if (rc != CAIRN_OK)
        return rc;
    snprintf(sql, sizeof sql, "SELECT COALESCE(MAX(%s), 0) + 1 FROM %s WHERE %s = ?", seq_col,
             table, parent_col);
    rc = cn_store_query(ctx, &st, sql, "s", parent);
    if (rc != CAIRN_OK)
        return rc;
    int r = cn_store_step(ctx, st);
    if (r == CN_DB_ROW)
        *out = cn_col_int(ctx, st, 0);
    cn_store_finalize(ctx, st);
    return r == CN_DB_ROW ? CAIRN_OK : (cairn_status)r;
}

void cn_store_new_uuid(char out[33])
{
    unsigned char bytes[16];
    cn_random_bytes(bytes, sizeof bytes);
    bytes[6] = (unsigned char)((bytes[6] & 0x0f) | 0x40); /* version 4, as MLflow's uuid4().hex */
    bytes[8] = (unsigned char)((bytes[8] & 0x3f) | 0x80);
    cn_hex(bytes, sizeof bytes, out);
}

char *cn_store_run_artifact_dir(cairn_ctx *ctx, const char *experiment_location,
                                const char *experiment_id, const char *run_id)
{
    char *exp_dir = experiment_location && *experiment_location
                        ? cn_xstrdup(experiment_location)
                        : cn_path_join(cairn_artifact_root(ctx), experiment_id);
    if (cn_str_starts(exp_dir, "file://")) {
        char *stripped = cn_xstrdup(exp_dir + strlen("file://"));
        free(exp_dir);
        exp_dir = stripped;
    }
    char *dir = cn_asprintf("%s/%s/artifacts", exp_dir, run_id);
    free(exp_dir);
    return dir;
}

cairn_status cn_validate_run_id(cairn_ctx *ctx, const char *run_id)
{
    if (!run_id || !*run_id)
        return cn_fail(ctx, CAIRN_EINVAL, "missing run id");
    size_t len = strlen(run_id);
    bool ok = len <= 256 && isalnum((unsigned char)run_id[0]);
    for (size_t i = 0; ok && i < len; i++)
        ok = isalnum((unsigned char)run_id[i]) || run_id[i] == '_' || run_id[i] == '-';
    if (!ok)
        return cn_fail(ctx, CAIRN_EINVAL, "invalid run id '%.64s'", run_id);
    return CAIRN_OK;
}

cairn_status cn_validate_experiment_id(cairn_ctx *ctx, const char *id)
{
    int64_t v;
    if (!id || !cn_parse_int64(id, &v) || v < 0)
        return cn_fail(ctx, CAIRN_ENOTFOUND, "no experiment with id '%.64s'", id ? id : "");
    return CAIRN_OK;
}

static const char *const sql_schemes[] = {"sqlite", "postgresql", "postgres", "", NULL};

const cn_store_ops cn_store_sql_ops = {
    .name = "sql",
    .schemes = sql_schemes,
    .open = cn_store_sql_open,
    .close = cn_store_sql_close,
    .experiment_create = cn_store_experiment_create,
    .experiment_get = cn_store_experiment_get,
    .experiment_get_by_name = cn_store_experiment_get_by_name,
    .experiment_rename = cn_store_experiment_rename,
    .experiment_set_tag = cn_store_experiment_set_tag,
    .experiment_delete_tag = cn_store_experiment_delete_tag,
    .experiment_set_deleted = cn_store_experiment_set_deleted,
    .experiments_search = cn_store_experiments_search,
    .run_create = cn_store_run_create,
    .run_lookup = cn_store_run_lookup,
    .run_get = cn_store_run_get,
    .run_update = cn_store_run_update,
    .run_set_deleted = cn_store_run_set_deleted,
    .log_batch = cn_store_log_batch,
    .delete_tag = cn_store_delete_tag,
    .log_inputs = cn_store_log_inputs,
    .record_artifact = cn_store_record_artifact,
    .artifacts_list = cn_store_artifacts_list,
    .metric_history = cn_store_metric_history,
    .runs_search = cn_store_runs_search,
    .experiment_keys = cn_store_experiment_keys,
    .experiments_summary = cn_store_experiments_summary,
    .metric_span = cn_store_metric_span,
    .metric_scan = cn_store_metric_scan,
    .metric_blocks = cn_store_metric_blocks,
    .metrics_summarize = cn_store_metrics_summarize,
    .run_heartbeat = cn_store_run_heartbeat,
    .runs_reap = cn_store_runs_reap,
    .model_create = cn_store_model_create,
    .model_get = cn_store_model_get,
    .model_rename = cn_store_model_rename,
    .model_update = cn_store_model_update,
    .model_delete = cn_store_model_delete,
    .model_set_tag = cn_store_model_set_tag,
    .models_search = cn_store_models_search,
    .version_create = cn_store_version_create,
    .version_get = cn_store_version_get,
    .version_get_by_alias = cn_store_version_get_by_alias,
    .version_update = cn_store_version_update,
    .version_delete = cn_store_version_delete,
    .version_set_tag = cn_store_version_set_tag,
    .version_set_semver = cn_store_version_set_semver,
    .versions_search = cn_store_versions_search,
    .alias_move = cn_store_alias_move,
    .stage_transition = cn_store_stage_transition,
    .registry_history = cn_store_registry_history,
    .logged_model_create = cn_store_logged_model_create,
    .logged_model_get = cn_store_logged_model_get,
    .logged_model_finalize = cn_store_logged_model_finalize,
    .logged_model_set_tags = cn_store_logged_model_set_tags,
    .logged_model_delete_tag = cn_store_logged_model_delete_tag,
    .logged_model_log_params = cn_store_logged_model_log_params,
    .logged_model_log_metrics = cn_store_logged_model_log_metrics,
    .logged_model_delete = cn_store_logged_model_delete,
    .logged_models_search = cn_store_logged_models_search,
    .run_log_outputs = cn_store_run_log_outputs,
    /* ---- authentication (store_auth.c) ---- */
    .auth_user_create = cn_store_auth_user_create,
    .auth_user_delete = cn_store_auth_user_delete,
    .auth_user_update = cn_store_auth_user_update,
    .auth_user_get = cn_store_auth_user_get,
    .auth_users_list = cn_store_auth_users_list,
    .auth_token_create = cn_store_auth_token_create,
    .auth_token_lookup = cn_store_auth_token_lookup,
    .auth_token_revoke = cn_store_auth_token_revoke,
    .auth_tokens_list = cn_store_auth_tokens_list,
    .auth_permission_set = cn_store_auth_permission_set,
    .auth_permission_delete = cn_store_auth_permission_delete,
    .auth_permission_get = cn_store_auth_permission_get,
    .auth_permissions_list = cn_store_auth_permissions_list,
    .auth_permissions_move = cn_store_auth_permissions_move,
    .auth_resolve = cn_store_auth_resolve,
    .log_batches = cn_store_log_batches,
    /* ---- studies (store_studies.c) ---- */
    .study_create = cn_store_study_create,
    .study_get = cn_store_study_get,
    .studies_list = cn_store_studies_list,
    .study_delete = cn_store_study_delete,
    .trial_claim = cn_store_trial_claim,
    .trial_finish = cn_store_trial_finish,
    .trial_report = cn_store_trial_report,
    .trial_heartbeat = cn_store_trial_heartbeat,
    .trial_enqueue = cn_store_trial_enqueue,
    .trials_read = cn_store_trials_read,
};
