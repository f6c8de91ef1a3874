/* SPDX-License-Identifier: MIT */
/* store.c - opening a store by URI, numbered migrations applied on open in one transaction,
 * and the query helpers every domain file uses. Also cairn_open()/cairn_close(). */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "core/core.h"
#include "store/store.h"
#include "base/embedded.h"
#include "base/fs.h"
#include "base/rng.h"
#include "base/str.h"
#include "base/time.h"
#include "base/xmalloc.h"
#include "base/banned.h"

extern const cn_embedded_file schema_files[];

#define STORE(ctx) ((ctx)->store)
#define OPS(ctx) ((ctx)->store->ops)
#define DB(ctx) ((ctx)->store->db)

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

static cairn_status migrate(cairn_ctx *ctx, cn_store *s)
{
    cairn_status rc = OPS(ctx)->exec(s->db, "CREATE TABLE IF NOT EXISTS cairn_schema ("
                                            "version INTEGER PRIMARY KEY, name TEXT NOT NULL, "
                                            "applied_time BIGINT NOT NULL)");
    if (rc != CAIRN_OK)
        return rc;
    rc = cn_store_begin(ctx);
    if (rc != CAIRN_OK)
        return rc;
    if (s->is_pg) {
        /* Two processes opening a fresh database at once: the second waits here. */
        rc = OPS(ctx)->exec(s->db, "SELECT pg_advisory_xact_lock(725371)");
        if (rc != CAIRN_OK)
            goto fail;
    }
    int64_t current = 0;
    cn_stmt *st = NULL;
    rc = cn_store_query(ctx, &st, "SELECT COALESCE(MAX(version), 0) FROM cairn_schema", "");
    if (rc != CAIRN_OK)
        goto fail;
    if (cn_store_step(ctx, st) == CN_DB_ROW)
        current = cn_col_int(ctx, st, 0);
    cn_store_finalize(ctx, st);
    const char *dialect = s->ops->name;
    size_t dlen = strlen(dialect);
    for (const cn_embedded_file *f = schema_files; f->path; f++) {
        if (strncmp(f->path, dialect, dlen) != 0 || f->path[dlen] != '/')
            continue;
        const char *name = f->path + dlen + 1;
        int64_t version = 0;
        char num[16];
        size_t k = 0;
        while (k < sizeof num - 1 && isdigit((unsigned char)name[k])) {
            num[k] = name[k];
            k++;
        }
        num[k] = '\0';
        if (!cn_parse_int64(num, &version))
            continue;
        if (version <= current)
            continue;
        rc = OPS(ctx)->exec(s->db, (const char *)f->data);
        if (rc != CAIRN_OK) {
            cn_errctx(ctx, "migration %s", name);
            goto fail;
        }
        rc = cn_store_run(ctx,
                          "INSERT INTO cairn_schema (version, name, applied_time) VALUES (?, ?, ?)",
                          "isi", version, name, cn_now_ms());
        if (rc != CAIRN_OK)
            goto fail;
        cn_log(ctx, CAIRN_LOG_INFO, "store", "applied migration %s", name);
    }
    return cn_store_commit(ctx);
fail:
    cn_store_rollback(ctx);
    return rc;
}

cairn_status cn_store_open(cairn_ctx *ctx, const char *uri, const cairn_open_opts *opts,
                           cn_store **out, char **artifact_root_out)
{
    cn_store *s = cn_xcalloc(1, sizeof *s);
    char *path = NULL, *root = NULL;
    cairn_status rc;
    const char *target;

    *out = NULL;
    *artifact_root_out = NULL;
    if (cn_str_starts(uri, "postgresql://") || cn_str_starts(uri, "postgres://")) {
        s->ops = &cn_db_pg_ops;
        s->is_pg = true;
        target = uri;
    } else if (cn_str_starts(uri, "http://") || cn_str_starts(uri, "https://")) {
        free(s);
        return cn_fail(ctx, CAIRN_EINVAL,
                       "store '%s': logging to a tracking server from the library is not "
                       "available in this version; use a sqlite:// or postgresql:// store",
                       uri);
    } else {
        s->ops = &cn_db_sqlite_ops;
        if (cn_str_starts(uri, "sqlite:///"))
            target = uri + strlen("sqlite://");
        else if (cn_str_starts(uri, "sqlite://"))
            target = uri + strlen("sqlite://");
        else if (cn_str_starts(uri, "sqlite:"))
            target = uri + strlen("sqlite:");
        else if (strstr(uri, "://")) {
            free(s);
            return cn_fail(ctx, CAIRN_EINVAL,
                           "store '%s': unknown scheme; use sqlite:///path/to/cairn.db or "
                           "postgresql://user@host/db",
                           uri);
        } else
            target = uri;
        if (!*target) {
            free(s);
            return cn_fail(ctx, CAIRN_EINVAL, "store '%s': the SQLite path is empty", uri);
        }
        path = absolute_path(target);
        target = path;
        char *slash = strrchr(path, '/');
        if (slash && slash != path) {
            *slash = '\0';
            bool parent_ok = cn_fs_is_dir(path);
            *slash = '/';
            if (!parent_ok && !(opts && opts->read_only)) {
                char *parent = cn_xstrndup(path, (size_t)(slash - path));
                int mk = cn_fs_mkdirs(parent, 0755);
                if (mk != 0) {
                    rc = cn_fail_errno(ctx, CAIRN_EIO, "store '%s': cannot create folder '%s'", uri,
                                       parent);
                    free(parent);
                    goto done;
                }
                free(parent);
            }
        }
    }
    rc = s->ops->open(ctx, target, opts, &s->db);
    if (rc != CAIRN_OK)
        goto done;
    ctx->store = s;
    if (!(opts && opts->read_only)) {
        rc = migrate(ctx, s);
        if (rc != CAIRN_OK) {
            ctx->store = NULL;
            goto done;
        }
    }
    ctx->store = NULL;

    const char *want_root =
        opts && opts->artifact_root ? opts->artifact_root : getenv("CAIRN_ARTIFACTS");
    if (want_root && *want_root) {
        root = absolute_path(want_root);
    } else if (!s->is_pg) {
        if (cn_str_ends(path, ".db"))
            root = cn_asprintf("%.*s-artifacts", (int)(strlen(path) - 3), path);
        else
            root = cn_asprintf("%s-artifacts", path);
    } else {
        root = absolute_path("cairn-artifacts");
    }
    *out = s;
    *artifact_root_out = root;
    s = NULL;
    root = NULL;
done:
    if (s) {
        if (s->db)
            s->ops->close(s->db);
        free(s);
    }
    free(root);
    free(path);
    return rc;
}

void cn_store_close(cn_store *s)
{
    if (!s)
        return;
    if (s->db)
        s->ops->close(s->db);
    free(s);
}

cairn_status cairn_open(const char *uri, const cairn_open_opts *opts, cairn_ctx **out)
{
    cairn_ctx *ctx = cairn_ctx_new();
    *out = ctx;
    if (!uri || !*uri)
        uri = getenv("CAIRN_STORE");
    if (!uri || !*uri)
        uri = "sqlite://cairn.db";
    ctx->uri = cn_xstrdup(uri);
    cn_store *s = NULL;
    char *root = NULL;
    cairn_status rc = cn_store_open(ctx, uri, opts, &s, &root);
    if (rc != CAIRN_OK)
        return rc;
    ctx->store = s;
    ctx->artifact_root = root;
    return CAIRN_OK;
}

void cairn_close(cairn_ctx *ctx)
{
    if (!ctx)
        return;
    cn_store_close(ctx->store);
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

cairn_status cn_store_run(cairn_ctx *ctx, const char *sql, const char *types, ...)
{
    cn_stmt *st = NULL;
    va_list ap;
    va_start(ap, types);
    cairn_status rc = cn_store_vquery(ctx, &st, sql, types, ap);
    va_end(ap);
    if (rc != CAIRN_OK)
        return rc;
    int r = OPS(ctx)->step(st);
    OPS(ctx)->finalize(st);
    if (r != CN_DB_DONE && r != CN_DB_ROW)
        return (cairn_status)r;
    return CAIRN_OK;
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

cairn_status cn_store_begin(cairn_ctx *ctx)
{
    cairn_status rc = cn_need_store(ctx);
    if (rc != CAIRN_OK)
        return rc;
    cn_store *s = STORE(ctx);
    if (s->in_txn++ > 0)
        return CAIRN_OK;
    s->txn_failed = false;
    rc = s->ops->begin(s->db);
    if (rc != CAIRN_OK)
        s->in_txn = 0;
    return rc;
}

cairn_status cn_store_commit(cairn_ctx *ctx)
{
    cn_store *s = STORE(ctx);
    CN_ASSERT(s->in_txn > 0);
    if (--s->in_txn > 0)
        return CAIRN_OK;
    if (s->txn_failed) {
        s->ops->rollback(s->db);
        return cn_fail(ctx, CAIRN_EDB, "transaction rolled back after an earlier failure");
    }
    cairn_status rc = s->ops->commit(s->db);
    if (rc != CAIRN_OK) {
        /* Keep the commit's message: the rollback must not overwrite it. */
        s->ops->rollback(s->db);
    }
    return rc;
}

void cn_store_rollback(cairn_ctx *ctx)
{
    cn_store *s = STORE(ctx);
    if (!s || s->in_txn == 0)
        return;
    if (--s->in_txn > 0) {
        s->txn_failed = true;
        return;
    }
    s->ops->rollback(s->db);
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

cairn_status cn_validate_key(cairn_ctx *ctx, const char *what, const char *key)
{
    if (!key || !*key)
        return cn_fail(ctx, CAIRN_EINVAL, "invalid %s name: the name is empty", what);
    size_t len = strlen(key);
    if (len > CAIRN_KEY_MAX)
        return cn_fail(ctx, CAIRN_EINVAL, "invalid %s name '%.40s...': longer than %d characters",
                       what, key, CAIRN_KEY_MAX);
    for (const unsigned char *p = (const unsigned char *)key; *p; p++) {
        if (isalnum(*p) || *p == '_' || *p == '-' || *p == '.' || *p == ' ' || *p == '/' ||
            *p == ':' || *p >= 0x80)
            continue;
        return cn_fail(ctx, CAIRN_EINVAL,
                       "invalid %s name '%s': character '%c' is not allowed (use letters, digits, "
                       "'_', '-', '.', ' ', ':' and '/')",
                       what, key, *p);
    }
    /* MLflow: posixpath.normpath(key) == key, not '.', not starting with '..' or '/'. */
    if (key[0] == '/' || strcmp(key, ".") == 0 || cn_str_starts(key, "..") || strstr(key, "//") ||
        strstr(key, "/./") || strstr(key, "/../") || cn_str_ends(key, "/..") ||
        cn_str_ends(key, "/.") || cn_str_starts(key, "./") || (len > 1 && key[len - 1] == '/'))
        return cn_fail(ctx, CAIRN_EINVAL,
                       "invalid %s name '%s': it must be a normalized relative path", what, key);
    return CAIRN_OK;
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
