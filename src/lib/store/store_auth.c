/* SPDX-License-Identifier: MIT */
/* store_auth.c - the SQL store's authentication tables (migration 005_auth): users with their
 * password hashes, tokens kept as their SHA-256, and the explicit permissions per experiment
 * and per registered model. Arguments arrive validated and hashed (auth/auth.c); nothing here
 * sees a password or a token. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/core.h"
#include "store/store.h"
#include "store/store_auth.h"
#include "base/arena.h"
#include "base/buf.h"
#include "base/time.h"
#include "base/xmalloc.h"
#include "base/banned.h"

const char *const cn_perm_names[4] = {"NO_PERMISSIONS", "READ", "EDIT", "MANAGE"};

/* How long a token's last use may lag: a busy token writes at most once a minute. */
#define LAST_USED_GRANULARITY_MS 60000

/* The permission table of a kind and the column naming its resource; our names, never user
 * text, so they may be pasted into SQL. */
typedef struct perm_table {
    const char *table;
    const char *column;
} perm_table;

static const perm_table perm_tables[2] = {
    [CAIRN_AUTH_EXPERIMENT] = {"experiment_permissions", "experiment_id"},
    [CAIRN_AUTH_MODEL] = {"registered_model_permissions", "name"},
};

static const perm_table *table_of(cairn_auth_kind kind)
{
    CN_ASSERT(kind == CAIRN_AUTH_EXPERIMENT || kind == CAIRN_AUTH_MODEL);
    return &perm_tables[kind];
}

/* A stored permission name as a cairn_perm; -1 for a name this cairn does not know. */
static int perm_of(const char *text)
{
    for (int i = 0; i < 4; i++)
        if (strcmp(text, cn_perm_names[i]) == 0)
            return i;
    return -1;
}

/* Ends a write transaction: commit when rc is CAIRN_OK, else roll back and keep rc. */
static cairn_status end_txn(cairn_ctx *ctx, cairn_status rc)
{
    if (rc != CAIRN_OK) {
        cn_store_rollback(ctx);
        return rc;
    }
    return cn_store_commit(ctx);
}

static cairn_status require_user(cairn_ctx *ctx, const char *username)
{
    int64_t one;
    bool found;
    cairn_status rc = cn_store_query_int(ctx, &one, &found,
                                         "SELECT 1 FROM users WHERE username = ?", "s", username);
    if (rc == CAIRN_OK && !found)
        return cn_fail(ctx, CAIRN_ENOTFOUND, "no user named '%s'", username);
    return rc;
}

/* ---- users ---- */

cairn_status cn_store_auth_user_create(cairn_ctx *ctx, const char *username,
                                       const char *password_hash, bool is_admin)
{
    int64_t now = cn_now_ms();
    cairn_status rc = cn_store_run(ctx,
                                   "INSERT INTO users (username, password_hash, is_admin, "
                                   "creation_time, last_updated_time) VALUES (?, ?, ?, ?, ?)",
                                   "ssiii", username, password_hash, (int64_t)is_admin, now, now);
    if (rc == CAIRN_EEXIST)
        return cn_fail(ctx, CAIRN_EEXIST, "user '%s' already exists", username);
    return rc;
}

cairn_status cn_store_auth_user_delete(cairn_ctx *ctx, const char *username)
{
    cairn_status rc = cn_store_begin(ctx);
    if (rc != CAIRN_OK)
        return rc;
    rc = require_user(ctx, username);
    if (rc == CAIRN_OK)
        rc = cn_store_run(ctx, "DELETE FROM tokens WHERE username = ?", "s", username);
    if (rc == CAIRN_OK)
        rc = cn_store_run(ctx, "DELETE FROM experiment_permissions WHERE username = ?", "s",
                          username);
    if (rc == CAIRN_OK)
        rc = cn_store_run(ctx, "DELETE FROM registered_model_permissions WHERE username = ?", "s",
                          username);
    if (rc == CAIRN_OK)
        rc = cn_store_run(ctx, "DELETE FROM users WHERE username = ?", "s", username);
    return end_txn(ctx, rc);
}

cairn_status cn_store_auth_user_update(cairn_ctx *ctx, const char *username,
                                       const char *password_hash, int is_admin)
{
    int64_t now = cn_now_ms();
    cairn_status rc = cn_store_begin(ctx);
    if (rc != CAIRN_OK)
        return rc;
    rc = require_user(ctx, username);
    if (rc == CAIRN_OK && password_hash)
        rc = cn_store_run(ctx,
                          "UPDATE users SET password_hash = ?, last_updated_time = ? WHERE "
                          "username = ?",
                          "sis", password_hash, now, username);
    if (rc == CAIRN_OK && is_admin >= 0)
        rc = cn_store_run(ctx,
                          "UPDATE users SET is_admin = ?, last_updated_time = ? WHERE username = ?",
                          "iis", (int64_t)(is_admin > 0), now, username);
    return end_txn(ctx, rc);
}

#define USER_COLUMNS "username, is_admin, creation_time, last_updated_time, password_hash"

static void user_from_row(cairn_ctx *ctx, cn_stmt *st, cn_arena *a, void *item)
{
    cairn_auth_user *u = item;
    u->username = cn_arena_strdup(a, cn_col_text(ctx, st, 0));
    u->is_admin = cn_col_int(ctx, st, 1) != 0;
    u->creation_time_ms = cn_col_int(ctx, st, 2);
    u->last_updated_time_ms = cn_col_int(ctx, st, 3);
}

cairn_status cn_store_auth_user_get(cairn_ctx *ctx, const char *username, cairn_auth_user **out,
                                    char **password_hash_out)
{
    cn_stmt *st = NULL;
    if (out)
        *out = NULL;
    if (password_hash_out)
        *password_hash_out = NULL;
    cairn_status rc = cn_store_query(
        ctx, &st, "SELECT " USER_COLUMNS " FROM users WHERE username = ?", "s", username);
    if (rc != CAIRN_OK)
        return rc;
    int r = cn_store_step(ctx, st);
    if (r == CN_DB_ROW) {
        if (password_hash_out)
            *password_hash_out = cn_xstrdup(cn_col_text(ctx, st, 4));
        if (out) {
            cn_arena *a = cn_arena_new();
            *out = cn_arena_alloc(a, sizeof **out);
            user_from_row(ctx, st, a, *out);
            (*out)->internal_ = a;
        }
    }
    cn_store_finalize(ctx, st);
    if (r == CN_DB_DONE)
        return cn_fail(ctx, CAIRN_ENOTFOUND, "no user named '%s'", username);
    return r == CN_DB_ROW ? CAIRN_OK : (cairn_status)r;
}

/* Reads every row of st (finalized here) into a new list of `size`-byte items; *arena owns the
 * items. The list types share their first three members (n, items, internal_). */
static cairn_status read_list(cairn_ctx *ctx, cn_stmt *st, size_t size, cn_row_fn from_row,
                              cn_arena **arena, void **items, size_t *n)
{
    bool more;
    cn_arena *a = cn_arena_new();
    *items = NULL;
    *n = 0;
    cairn_status rc = cn_store_read_rows(ctx, st, a, -1, size, from_row, items, n, &more);
    cn_store_finalize(ctx, st);
    if (rc != CAIRN_OK) {
        cn_arena_free(a);
        *items = NULL;
        *n = 0;
        a = NULL;
    }
    *arena = a;
    return rc;
}

cairn_status cn_store_auth_users_list(cairn_ctx *ctx, cairn_auth_user_list **out)
{
    cn_stmt *st = NULL;
    cn_arena *a = NULL;
    void *items;
    size_t n;
    *out = NULL;
    cairn_status rc =
        cn_store_query(ctx, &st, "SELECT " USER_COLUMNS " FROM users ORDER BY username", "");
    if (rc == CAIRN_OK)
        rc = read_list(ctx, st, sizeof(cairn_auth_user), user_from_row, &a, &items, &n);
    if (rc != CAIRN_OK)
        return rc;
    *out = cn_arena_alloc(a, sizeof **out);
    (*out)->n = n;
    (*out)->items = items;
    (*out)->internal_ = a;
    return CAIRN_OK;
}

/* ---- tokens ---- */

cairn_status cn_store_auth_token_create(cairn_ctx *ctx, const char *username,
                                        const char *token_sha256, const char *name,
                                        int64_t created_ms, int64_t expires_ms)
{
    cairn_status rc = cn_store_begin(ctx);
    if (rc != CAIRN_OK)
        return rc;
    rc = require_user(ctx, username);
    if (rc == CAIRN_OK) {
        rc = cn_store_run(ctx,
                          "INSERT INTO tokens (token_sha256, username, name, created, expires, "
                          "last_used) VALUES (?, ?, ?, ?, ?, 0)",
                          "sssii", token_sha256, username, name, created_ms, expires_ms);
        if (rc == CAIRN_EEXIST)
            rc = cn_fail(ctx, CAIRN_EEXIST,
                         "user '%s' already has a token named '%s'; pick another name or revoke "
                         "that token first",
                         username, name);
    }
    return end_txn(ctx, rc);
}

cairn_status cn_store_auth_token_lookup(cairn_ctx *ctx, const char *token_sha256, int64_t now_ms,
                                        char **username_out)
{
    cn_stmt *st = NULL;
    *username_out = NULL;
    cairn_status rc = cn_store_query(ctx, &st,
                                     "SELECT username, expires, last_used FROM tokens WHERE "
                                     "token_sha256 = ?",
                                     "s", token_sha256);
    if (rc != CAIRN_OK)
        return rc;
    char *username = NULL;
    int64_t expires = 0, last_used = 0;
    int r = cn_store_step(ctx, st);
    if (r == CN_DB_ROW) {
        username = cn_xstrdup(cn_col_text(ctx, st, 0));
        expires = cn_col_int(ctx, st, 1);
        last_used = cn_col_int(ctx, st, 2);
    }
    cn_store_finalize(ctx, st);
    if (r != CN_DB_ROW) {
        return r == CN_DB_DONE ? CAIRN_OK : (cairn_status)r;
    }
    if (expires > 0 && now_ms >= expires) {
        free(username);
        return CAIRN_OK;
    }
    /* The last use is a convenience: a read-only store or a failed write does not refuse a
     * valid token. */
    if (!cn_store_sql(ctx)->read_only && now_ms - last_used >= LAST_USED_GRANULARITY_MS) {
        rc = cn_store_run(ctx, "UPDATE tokens SET last_used = ? WHERE token_sha256 = ?", "is",
                          now_ms, token_sha256);
        if (rc != CAIRN_OK)
            cn_log(ctx, CAIRN_LOG_WARN, "auth", "could not record a token's use: %s",
                   cairn_errmsg(ctx));
    }
    *username_out = username;
    return CAIRN_OK;
}

cairn_status cn_store_auth_token_revoke(cairn_ctx *ctx, const char *username, const char *name)
{
    int64_t one;
    bool found;
    cairn_status rc = cn_store_begin(ctx);
    if (rc != CAIRN_OK)
        return rc;
    rc = cn_store_query_int(ctx, &one, &found,
                            "SELECT 1 FROM tokens WHERE username = ? AND name = ?", "ss", username,
                            name);
    if (rc == CAIRN_OK && !found)
        rc = cn_fail(ctx, CAIRN_ENOTFOUND, "user '%s' has no token named '%s'", username, name);
    if (rc == CAIRN_OK)
        rc = cn_store_run(ctx, "DELETE FROM tokens WHERE username = ? AND name = ?", "ss", username,
                          name);
    return end_txn(ctx, rc);
}

#define TOKEN_COLUMNS "username, name, created, expires, last_used"

static void token_from_row(cairn_ctx *ctx, cn_stmt *st, cn_arena *a, void *item)
{
    cairn_auth_token *t = item;
    t->username = cn_arena_strdup(a, cn_col_text(ctx, st, 0));
    t->name = cn_arena_strdup(a, cn_col_text(ctx, st, 1));
    t->created_ms = cn_col_int(ctx, st, 2);
    t->expires_ms = cn_col_int(ctx, st, 3);
    t->last_used_ms = cn_col_int(ctx, st, 4);
}

cairn_status cn_store_auth_tokens_list(cairn_ctx *ctx, const char *username,
                                       cairn_auth_token_list **out)
{
    cn_stmt *st = NULL;
    cn_arena *a = NULL;
    void *items;
    size_t n;
    *out = NULL;
    cairn_status rc =
        username
            ? cn_store_query(ctx, &st,
                             "SELECT " TOKEN_COLUMNS " FROM tokens WHERE username = ? ORDER "
                             "BY username, name",
                             "s", username)
            : cn_store_query(ctx, &st,
                             "SELECT " TOKEN_COLUMNS " FROM tokens ORDER BY username, name", "");
    if (rc == CAIRN_OK)
        rc = read_list(ctx, st, sizeof(cairn_auth_token), token_from_row, &a, &items, &n);
    if (rc != CAIRN_OK)
        return rc;
    *out = cn_arena_alloc(a, sizeof **out);
    (*out)->n = n;
    (*out)->items = items;
    (*out)->internal_ = a;
    return CAIRN_OK;
}

/* ---- permissions ---- */

cairn_status cn_store_auth_permission_set(cairn_ctx *ctx, cairn_auth_kind kind,
                                          const char *resource, const char *username,
                                          cairn_perm perm)
{
    const perm_table *t = table_of(kind);
    cn_buf cols = CN_BUF_INIT, keys = CN_BUF_INIT, sql = CN_BUF_INIT;
    cn_buf_printf(&cols, "%s, username, permission", t->column);
    cn_buf_printf(&keys, "%s, username", t->column);
    cn_store_upsert_sql(&sql, t->table, cols.data, keys.data, NULL);
    cairn_status rc = cn_store_begin(ctx);
    if (rc == CAIRN_OK) {
        rc = require_user(ctx, username);
        if (rc == CAIRN_OK)
            rc = cn_store_run(ctx, sql.data, "sss", resource, username, cn_perm_names[perm]);
        rc = end_txn(ctx, rc);
    }
    cn_buf_release(&cols);
    cn_buf_release(&keys);
    cn_buf_release(&sql);
    return rc;
}

cairn_status cn_store_auth_permission_get(cairn_ctx *ctx, cairn_auth_kind kind,
                                          const char *resource, const char *username,
                                          cairn_perm *out, bool *found)
{
    const perm_table *t = table_of(kind);
    cn_buf sql = CN_BUF_INIT;
    cn_stmt *st = NULL;
    *out = CAIRN_PERM_NONE;
    *found = false;
    cn_buf_printf(&sql, "SELECT permission FROM %s WHERE %s = ? AND username = ?", t->table,
                  t->column);
    cairn_status rc = cn_store_query(ctx, &st, sql.data, "ss", resource, username);
    cn_buf_release(&sql);
    if (rc != CAIRN_OK)
        return rc;
    int r = cn_store_step(ctx, st);
    if (r == CN_DB_ROW) {
        int perm = perm_of(cn_col_text(ctx, st, 0));
        *found = true;
        /* A name from a newer cairn grants nothing here rather than too much. */
        *out = perm < 0 ? CAIRN_PERM_NONE : (cairn_perm)perm;
    }
    cn_store_finalize(ctx, st);
    return r == CN_DB_ROW || r == CN_DB_DONE ? CAIRN_OK : (cairn_status)r;
}

cairn_status cn_store_auth_permission_delete(cairn_ctx *ctx, cairn_auth_kind kind,
                                             const char *resource, const char *username)
{
    const perm_table *t = table_of(kind);
    cn_buf sql = CN_BUF_INIT;
    cairn_perm perm;
    bool found;
    cairn_status rc = cn_store_begin(ctx);
    if (rc != CAIRN_OK)
        return rc;
    rc = cn_store_auth_permission_get(ctx, kind, resource, username, &perm, &found);
    if (rc == CAIRN_OK && !found)
        rc = cn_fail(ctx, CAIRN_ENOTFOUND, "user '%s' has no permission of its own on %s '%s'",
                     username, kind == CAIRN_AUTH_EXPERIMENT ? "experiment" : "registered model",
                     resource);
    if (rc == CAIRN_OK) {
        cn_buf_printf(&sql, "DELETE FROM %s WHERE %s = ? AND username = ?", t->table, t->column);
        rc = cn_store_run(ctx, sql.data, "ss", resource, username);
    }
    cn_buf_release(&sql);
    return end_txn(ctx, rc);
}

static void permission_from_row(cairn_ctx *ctx, cn_stmt *st, cn_arena *a, void *item)
{
    cairn_auth_permission *p = item;
    int perm = perm_of(cn_col_text(ctx, st, 3));
    p->kind = (cairn_auth_kind)cn_col_int(ctx, st, 0);
    p->resource = cn_arena_strdup(a, cn_col_text(ctx, st, 1));
    p->username = cn_arena_strdup(a, cn_col_text(ctx, st, 2));
    p->perm = perm < 0 ? CAIRN_PERM_NONE : (cairn_perm)perm;
}

cairn_status cn_store_auth_permissions_list(cairn_ctx *ctx, const char *username,
                                            cairn_auth_permission_list **out)
{
    cn_stmt *st = NULL;
    cn_arena *a = NULL;
    void *items;
    size_t n;
    *out = NULL;
    /* Experiment ids are decimal text: shorter ones sort first, so "9" comes before "10". */
    const char *where = username ? " WHERE username = ?" : "";
    cn_buf sql = CN_BUF_INIT;
    cn_buf_printf(&sql,
                  "SELECT 0, experiment_id, username, permission, LENGTH(experiment_id) FROM "
                  "experiment_permissions%s UNION ALL SELECT 1, name, username, permission, 0 "
                  "FROM registered_model_permissions%s ORDER BY 1, 5, 2, 3",
                  where, where);
    cairn_status rc = username ? cn_store_query(ctx, &st, sql.data, "ss", username, username)
                               : cn_store_query(ctx, &st, sql.data, "");
    cn_buf_release(&sql);
    if (rc == CAIRN_OK)
        rc = read_list(ctx, st, sizeof(cairn_auth_permission), permission_from_row, &a, &items, &n);
    if (rc != CAIRN_OK)
        return rc;
    *out = cn_arena_alloc(a, sizeof **out);
    (*out)->n = n;
    (*out)->items = items;
    (*out)->internal_ = a;
    return CAIRN_OK;
}

cairn_status cn_store_auth_permissions_move(cairn_ctx *ctx, cairn_auth_kind kind,
                                            const char *resource, const char *new_name)
{
    const perm_table *t = table_of(kind);
    cn_buf sql = CN_BUF_INIT;
    cairn_status rc;
    if (new_name) {
        cn_buf_printf(&sql, "UPDATE %s SET %s = ? WHERE %s = ?", t->table, t->column, t->column);
        rc = cn_store_run(ctx, sql.data, "ss", new_name, resource);
    } else {
        cn_buf_printf(&sql, "DELETE FROM %s WHERE %s = ?", t->table, t->column);
        rc = cn_store_run(ctx, sql.data, "s", resource);
    }
    cn_buf_release(&sql);
    if (rc == CAIRN_EEXIST)
        return cn_fail(ctx, CAIRN_EEXIST,
                       "permissions on '%s' already exist; delete them before moving those of "
                       "'%s' there",
                       new_name, resource);
    return rc;
}

/* One explicit permission of the user, for the lookup by resource. */
typedef struct held {
    const char *resource;
    int perm;
} held;

static int held_cmp(const void *a, const void *b)
{
    return strcmp(((const held *)a)->resource, ((const held *)b)->resource);
}

cairn_status cn_store_auth_resolve(cairn_ctx *ctx, const char *username, cairn_auth_kind kind,
                                   const char *const *resources, size_t n, bool *user_found,
                                   bool *is_admin, int *perms)
{
    const perm_table *t = table_of(kind);
    cn_buf sql = CN_BUF_INIT;
    cn_stmt *st = NULL;
    cn_arena *a = NULL;
    held *rows = NULL;
    size_t n_rows = 0, cap = 0;
    int64_t admin = 0;

    for (size_t i = 0; i < n; i++)
        perms[i] = -1;
    *is_admin = false;
    cairn_status rc = cn_store_query_int(
        ctx, &admin, user_found, "SELECT is_admin FROM users WHERE username = ?", "s", username);
    if (rc != CAIRN_OK || !*user_found || admin || n == 0) {
        *is_admin = admin != 0;
        return rc;
    }
    if (n == 1) {
        cairn_perm perm;
        bool found;
        rc = cn_store_auth_permission_get(ctx, kind, resources[0], username, &perm, &found);
        if (rc == CAIRN_OK && found)
            perms[0] = (int)perm;
        return rc;
    }
    /* A page of resources: read the user's rows of this kind once and match them here. */
    cn_buf_printf(&sql, "SELECT %s, permission FROM %s WHERE username = ?", t->column, t->table);
    rc = cn_store_query(ctx, &st, sql.data, "s", username);
    cn_buf_release(&sql);
    if (rc != CAIRN_OK)
        return rc;
    a = cn_arena_new();
    int r;
    while ((r = cn_store_step(ctx, st)) == CN_DB_ROW) {
        int perm = perm_of(cn_col_text(ctx, st, 1));
        rows = cn_arena_grow(a, rows, n_rows, &cap, sizeof *rows);
        rows[n_rows].resource = cn_arena_strdup(a, cn_col_text(ctx, st, 0));
        rows[n_rows].perm = perm < 0 ? (int)CAIRN_PERM_NONE : perm;
        n_rows++;
    }
    cn_store_finalize(ctx, st);
    if (r != CN_DB_DONE) {
        cn_arena_free(a);
        return (cairn_status)r;
    }
    if (n_rows > 0) {
        qsort(rows, n_rows, sizeof *rows, held_cmp);
        for (size_t i = 0; i < n; i++) {
            held key = {.resource = resources[i]};
            const held *hit = bsearch(&key, rows, n_rows, sizeof *rows, held_cmp);
            if (hit)
                perms[i] = hit->perm;
        }
    }
    cn_arena_free(a);
    return CAIRN_OK;
}
