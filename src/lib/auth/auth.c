/* SPDX-License-Identifier: MIT */
/* auth.c - the public authentication functions (cairn/auth.h): check names and passwords,
 * hash them (auth/hash.c), then call the context's store through its operations table
 * (store/store_ops.h); and the permission rule: admin, else the explicit permission, else the
 * caller's default. Stateless: every answer comes from the store. No SQL here. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "core/core.h"
#include "core/text.h"
#include "auth/hash.h"
#include "cairn/registry.h"
#include "cairn/tracking.h"
#include "store/store_ops.h"
#include "base/arena.h"
#include "base/str.h"
#include "base/time.h"
#include "base/xmalloc.h"
#include "base/banned.h"

#define OPS(ctx) CN_STORE_OPS(ctx)

const char *cairn_perm_str(cairn_perm perm)
{
    if ((int)perm < 0 || (int)perm >= (int)CN_ARRAY_LEN(cn_perm_names))
        return NULL;
    return cn_perm_names[perm];
}

cairn_status cairn_perm_parse(cairn_ctx *ctx, const char *text, cairn_perm *out)
{
    for (size_t i = 0; text && i < CN_ARRAY_LEN(cn_perm_names); i++)
        if (strcasecmp(text, cn_perm_names[i]) == 0) {
            *out = (cairn_perm)i;
            return CAIRN_OK;
        }
    if (text && strcasecmp(text, "NONE") == 0) {
        *out = CAIRN_PERM_NONE;
        return CAIRN_OK;
    }
    return cn_fail(ctx, CAIRN_EINVAL,
                   "invalid permission '%s': expected READ, EDIT, MANAGE or NO_PERMISSIONS",
                   text ? text : "");
}

static bool perm_valid(cairn_perm perm)
{
    return (int)perm >= (int)CAIRN_PERM_NONE && (int)perm <= (int)CAIRN_PERM_MANAGE;
}

static cairn_status check_perm(cairn_ctx *ctx, const char *what, cairn_perm perm)
{
    if (!perm_valid(perm))
        return cn_fail(ctx, CAIRN_EINVAL,
                       "invalid %s %d: expected CAIRN_PERM_NONE, _READ, _EDIT or _MANAGE", what,
                       (int)perm);
    return CAIRN_OK;
}

/* ---- rules ---- */

cairn_status cairn_auth_username_check(cairn_ctx *ctx, const char *username)
{
    if (!username || !*username)
        return cn_fail(ctx, CAIRN_EINVAL, "invalid username: the name is empty");
    size_t len = strlen(username);
    if (len > CAIRN_AUTH_USERNAME_MAX)
        return cn_fail(ctx, CAIRN_EINVAL,
                       "invalid username '%.40s...': longer than %d characters; pick a shorter "
                       "one",
                       username, CAIRN_AUTH_USERNAME_MAX);
    for (const char *p = username; *p; p++)
        if (*p <= ' ' || *p >= 0x7f || *p == ':')
            return cn_fail(ctx, CAIRN_EINVAL,
                           "invalid username '%s': use printable ASCII letters, digits and "
                           "punctuation, without spaces or ':'",
                           cn_text_valid(username) ? username : "(not UTF-8)");
    return CAIRN_OK;
}

cairn_status cairn_auth_password_check(cairn_ctx *ctx, const char *password)
{
    if (!password)
        return cn_fail(ctx, CAIRN_EINVAL, "missing password");
    size_t len = strlen(password);
    if (len < CAIRN_AUTH_PASSWORD_MIN)
        return cn_fail(ctx, CAIRN_EINVAL,
                       "password too short (%zu characters): use at least %d characters", len,
                       CAIRN_AUTH_PASSWORD_MIN);
    if (len > CAIRN_AUTH_PASSWORD_MAX)
        return cn_fail(ctx, CAIRN_EINVAL, "password too long (%zu bytes): use at most %d bytes",
                       len, CAIRN_AUTH_PASSWORD_MAX);
    if (!cn_text_valid(password))
        return cn_fail(ctx, CAIRN_EINVAL, "password is not valid UTF-8: type it as UTF-8 text");
    return CAIRN_OK;
}

static cairn_status check_token_name(cairn_ctx *ctx, const char *name)
{
    if (!name || !*name)
        return cn_fail(ctx, CAIRN_EINVAL, "invalid token name: the name is empty");
    if (strlen(name) > CAIRN_AUTH_TOKEN_NAME_MAX)
        return cn_fail(ctx, CAIRN_EINVAL,
                       "invalid token name '%.40s...': longer than %d characters", name,
                       CAIRN_AUTH_TOKEN_NAME_MAX);
    for (const char *p = name; *p; p++)
        if (*p <= ' ' || *p >= 0x7f)
            return cn_fail(ctx, CAIRN_EINVAL,
                           "invalid token name '%s': use printable ASCII without spaces",
                           cn_text_valid(name) ? name : "(not UTF-8)");
    return CAIRN_OK;
}

/* A resource name of its kind: a decimal experiment id, or a model name. */
static cairn_status check_resource(cairn_ctx *ctx, cairn_auth_kind kind, const char *resource)
{
    if (kind == CAIRN_AUTH_EXPERIMENT) {
        int64_t id;
        if (!resource || !cn_parse_int64(resource, &id) || id < 0)
            return cn_fail(ctx, CAIRN_EINVAL, "invalid experiment id '%.64s': expected a number",
                           resource ? resource : "");
        return CAIRN_OK;
    }
    if (kind == CAIRN_AUTH_MODEL) {
        cairn_status rc = cn_text_check_name(ctx, "model name", resource, CAIRN_MODEL_NAME_MAX);
        return rc == CAIRN_OK ? cn_text_check(ctx, "model name", resource) : rc;
    }
    return cn_fail(ctx, CAIRN_EINVAL,
                   "invalid resource kind %d: expected CAIRN_AUTH_EXPERIMENT or CAIRN_AUTH_MODEL",
                   (int)kind);
}

/* ENOTFOUND (the store's message) unless the experiment or model exists. */
static cairn_status require_resource(cairn_ctx *ctx, cairn_auth_kind kind, const char *resource)
{
    if (kind == CAIRN_AUTH_EXPERIMENT) {
        cairn_experiment *exp = NULL;
        cairn_status rc = OPS(ctx)->experiment_get(ctx, resource, &exp);
        cairn_experiment_free(exp);
        return rc;
    }
    cairn_registered_model *model = NULL;
    cairn_status rc = OPS(ctx)->model_get(ctx, resource, &model);
    cairn_registered_model_free(model);
    return rc;
}

/* ---- users ---- */

cairn_status cairn_auth_user_create(cairn_ctx *ctx, const char *username, const char *password,
                                    bool is_admin)
{
    char *hash = NULL;
    cairn_status rc = cn_need_store(ctx);
    if (rc == CAIRN_OK)
        rc = cairn_auth_username_check(ctx, username);
    if (rc == CAIRN_OK)
        rc = cairn_auth_password_check(ctx, password);
    if (rc == CAIRN_OK)
        rc = cn_auth_hash_password(ctx, password, &hash);
    if (rc == CAIRN_OK)
        rc = OPS(ctx)->auth_user_create(ctx, username, hash, is_admin);
    free(hash);
    return rc;
}

cairn_status cairn_auth_user_delete(cairn_ctx *ctx, const char *username)
{
    cairn_status rc = cn_need_store(ctx);
    if (rc == CAIRN_OK)
        rc = cairn_auth_username_check(ctx, username);
    return rc == CAIRN_OK ? OPS(ctx)->auth_user_delete(ctx, username) : rc;
}

cairn_status cairn_auth_user_set_password(cairn_ctx *ctx, const char *username,
                                          const char *password)
{
    char *hash = NULL;
    cairn_status rc = cn_need_store(ctx);
    if (rc == CAIRN_OK)
        rc = cairn_auth_username_check(ctx, username);
    if (rc == CAIRN_OK)
        rc = cairn_auth_password_check(ctx, password);
    if (rc == CAIRN_OK)
        rc = cn_auth_hash_password(ctx, password, &hash);
    if (rc == CAIRN_OK)
        rc = OPS(ctx)->auth_user_update(ctx, username, hash, -1);
    free(hash);
    return rc;
}

cairn_status cairn_auth_user_set_admin(cairn_ctx *ctx, const char *username, bool is_admin)
{
    cairn_status rc = cn_need_store(ctx);
    if (rc == CAIRN_OK)
        rc = cairn_auth_username_check(ctx, username);
    return rc == CAIRN_OK ? OPS(ctx)->auth_user_update(ctx, username, NULL, is_admin) : rc;
}

cairn_status cairn_auth_user_get(cairn_ctx *ctx, const char *username, cairn_auth_user **out)
{
    *out = NULL;
    cairn_status rc = cn_need_store(ctx);
    if (rc == CAIRN_OK)
        rc = cairn_auth_username_check(ctx, username);
    return rc == CAIRN_OK ? OPS(ctx)->auth_user_get(ctx, username, out, NULL) : rc;
}

cairn_status cairn_auth_list_users(cairn_ctx *ctx, cairn_auth_user_list **out)
{
    *out = NULL;
    cairn_status rc = cn_need_store(ctx);
    return rc == CAIRN_OK ? OPS(ctx)->auth_users_list(ctx, out) : rc;
}

CN_DEFINE_ARENA_FREE(cairn_auth_user_free, cairn_auth_user)
CN_DEFINE_ARENA_FREE(cairn_auth_user_list_free, cairn_auth_user_list)
CN_DEFINE_ARENA_FREE(cairn_auth_token_list_free, cairn_auth_token_list)
CN_DEFINE_ARENA_FREE(cairn_auth_permission_list_free, cairn_auth_permission_list)

cairn_status cairn_auth_verify_password(cairn_ctx *ctx, const char *username, const char *password,
                                        bool *ok)
{
    char *stored = NULL;
    *ok = false;
    cairn_status rc = cn_need_store(ctx);
    if (rc != CAIRN_OK)
        return rc;
    /* A malformed name or password is a wrong credential, and costs the same time. */
    if (cairn_auth_username_check(ctx, username) != CAIRN_OK || !password ||
        strlen(password) > CAIRN_AUTH_PASSWORD_MAX) {
        cn_auth_hash_burn(password && strlen(password) <= CAIRN_AUTH_PASSWORD_MAX ? password : "");
        return CAIRN_OK;
    }
    rc = OPS(ctx)->auth_user_get(ctx, username, NULL, &stored);
    if (rc == CAIRN_ENOTFOUND) {
        cn_auth_hash_burn(password);
        return CAIRN_OK;
    }
    if (rc != CAIRN_OK)
        return rc;
    *ok = cn_auth_hash_verify(password, stored);
    free(stored);
    return CAIRN_OK;
}

/* ---- tokens ---- */

cairn_status cairn_auth_token_create(cairn_ctx *ctx, const char *username, const char *name,
                                     int64_t ttl_ms, char **token_out)
{
    char token[CN_AUTH_TOKEN_LEN + 1], digest[65], default_name[16];
    *token_out = NULL;
    cairn_status rc = cn_need_store(ctx);
    if (rc == CAIRN_OK)
        rc = cairn_auth_username_check(ctx, username);
    if (rc == CAIRN_OK && name)
        rc = check_token_name(ctx, name);
    if (rc == CAIRN_OK && ttl_ms < 0)
        rc = cn_fail(ctx, CAIRN_EINVAL,
                     "invalid token lifetime %lld ms: use a positive lifetime, or 0 for none",
                     (long long)ttl_ms);
    if (rc == CAIRN_OK)
        rc = cn_auth_token_new(ctx, token);
    if (rc != CAIRN_OK)
        return rc;
    cn_auth_token_digest(token, digest);
    if (!name) {
        snprintf(default_name, sizeof default_name, "token-%.8s", digest);
        name = default_name;
    }
    int64_t now = cn_now_ms();
    int64_t expires = ttl_ms > 0 ? (ttl_ms > INT64_MAX - now ? INT64_MAX : now + ttl_ms) : 0;
    rc = OPS(ctx)->auth_token_create(ctx, username, digest, name, now, expires);
    if (rc == CAIRN_OK)
        *token_out = cn_xstrdup(token);
    memset(token, 0, sizeof token);
    return rc;
}

cairn_status cairn_auth_token_verify(cairn_ctx *ctx, const char *token, char **username_out)
{
    char digest[65];
    *username_out = NULL;
    cairn_status rc = cn_need_store(ctx);
    if (rc != CAIRN_OK || !cn_auth_token_well_formed(token))
        return rc;
    cn_auth_token_digest(token, digest);
    return OPS(ctx)->auth_token_lookup(ctx, digest, cn_now_ms(), username_out);
}

cairn_status cairn_auth_token_revoke(cairn_ctx *ctx, const char *username, const char *name)
{
    cairn_status rc = cn_need_store(ctx);
    if (rc == CAIRN_OK)
        rc = cairn_auth_username_check(ctx, username);
    if (rc == CAIRN_OK)
        rc = check_token_name(ctx, name);
    return rc == CAIRN_OK ? OPS(ctx)->auth_token_revoke(ctx, username, name) : rc;
}

cairn_status cairn_auth_list_tokens(cairn_ctx *ctx, const char *username,
                                    cairn_auth_token_list **out)
{
    *out = NULL;
    cairn_status rc = cn_need_store(ctx);
    if (rc == CAIRN_OK && username)
        rc = cairn_auth_username_check(ctx, username);
    return rc == CAIRN_OK ? OPS(ctx)->auth_tokens_list(ctx, username, out) : rc;
}

cairn_status cairn_auth_authenticate(cairn_ctx *ctx, const char *authorization, char **username_out)
{
    cn_auth_credentials cred;
    bool ok = false;
    *username_out = NULL;
    cairn_status rc = cn_need_store(ctx);
    if (rc != CAIRN_OK || !authorization)
        return rc;
    cn_auth_header_parse(authorization, strlen(authorization), &cred);
    if (cred.scheme == CN_AUTH_BEARER) {
        rc = cairn_auth_token_verify(ctx, cred.secret, username_out);
    } else if (cred.scheme == CN_AUTH_BASIC) {
        rc = cairn_auth_verify_password(ctx, cred.username, cred.secret, &ok);
        if (rc == CAIRN_OK && ok)
            *username_out = cn_xstrdup(cred.username);
    }
    cn_auth_credentials_release(&cred);
    return rc;
}

/* ---- permissions ---- */

static cairn_status set_permission(cairn_ctx *ctx, cairn_auth_kind kind, const char *resource,
                                   const char *username, cairn_perm perm)
{
    cairn_status rc = cn_need_store(ctx);
    if (rc == CAIRN_OK)
        rc = check_resource(ctx, kind, resource);
    if (rc == CAIRN_OK)
        rc = cairn_auth_username_check(ctx, username);
    if (rc == CAIRN_OK)
        rc = check_perm(ctx, "permission", perm);
    if (rc == CAIRN_OK)
        rc = require_resource(ctx, kind, resource);
    return rc == CAIRN_OK ? OPS(ctx)->auth_permission_set(ctx, kind, resource, username, perm) : rc;
}

static cairn_status delete_permission(cairn_ctx *ctx, cairn_auth_kind kind, const char *resource,
                                      const char *username)
{
    cairn_status rc = cn_need_store(ctx);
    if (rc == CAIRN_OK)
        rc = check_resource(ctx, kind, resource);
    if (rc == CAIRN_OK)
        rc = cairn_auth_username_check(ctx, username);
    return rc == CAIRN_OK ? OPS(ctx)->auth_permission_delete(ctx, kind, resource, username) : rc;
}

static cairn_status get_permission(cairn_ctx *ctx, cairn_auth_kind kind, const char *resource,
                                   const char *username, cairn_perm *out)
{
    bool found = false;
    *out = CAIRN_PERM_NONE;
    cairn_status rc = cn_need_store(ctx);
    if (rc == CAIRN_OK)
        rc = check_resource(ctx, kind, resource);
    if (rc == CAIRN_OK)
        rc = cairn_auth_username_check(ctx, username);
    if (rc == CAIRN_OK)
        rc = OPS(ctx)->auth_permission_get(ctx, kind, resource, username, out, &found);
    if (rc == CAIRN_OK && !found)
        return cn_fail(ctx, CAIRN_ENOTFOUND,
                       "user '%s' has no permission of its own on %s '%s' (the default applies)",
                       username, kind == CAIRN_AUTH_EXPERIMENT ? "experiment" : "registered model",
                       resource);
    return rc;
}

cairn_status cairn_auth_set_experiment_permission(cairn_ctx *ctx, const char *experiment_id,
                                                  const char *username, cairn_perm perm)
{
    return set_permission(ctx, CAIRN_AUTH_EXPERIMENT, experiment_id, username, perm);
}

cairn_status cairn_auth_set_model_permission(cairn_ctx *ctx, const char *name, const char *username,
                                             cairn_perm perm)
{
    return set_permission(ctx, CAIRN_AUTH_MODEL, name, username, perm);
}

cairn_status cairn_auth_delete_experiment_permission(cairn_ctx *ctx, const char *experiment_id,
                                                     const char *username)
{
    return delete_permission(ctx, CAIRN_AUTH_EXPERIMENT, experiment_id, username);
}

cairn_status cairn_auth_delete_model_permission(cairn_ctx *ctx, const char *name,
                                                const char *username)
{
    return delete_permission(ctx, CAIRN_AUTH_MODEL, name, username);
}

cairn_status cairn_auth_get_experiment_permission(cairn_ctx *ctx, const char *experiment_id,
                                                  const char *username, cairn_perm *out)
{
    return get_permission(ctx, CAIRN_AUTH_EXPERIMENT, experiment_id, username, out);
}

cairn_status cairn_auth_get_model_permission(cairn_ctx *ctx, const char *name, const char *username,
                                             cairn_perm *out)
{
    return get_permission(ctx, CAIRN_AUTH_MODEL, name, username, out);
}

cairn_status cairn_auth_grant_creator(cairn_ctx *ctx, const char *username, cairn_auth_kind kind,
                                      const char *resource)
{
    return set_permission(ctx, kind, resource, username, CAIRN_PERM_MANAGE);
}

cairn_status cairn_auth_rename_model_permissions(cairn_ctx *ctx, const char *name,
                                                 const char *new_name)
{
    cairn_status rc = cn_need_store(ctx);
    if (rc == CAIRN_OK)
        rc = check_resource(ctx, CAIRN_AUTH_MODEL, name);
    if (rc == CAIRN_OK)
        rc = check_resource(ctx, CAIRN_AUTH_MODEL, new_name);
    return rc == CAIRN_OK ? OPS(ctx)->auth_permissions_move(ctx, CAIRN_AUTH_MODEL, name, new_name)
                          : rc;
}

cairn_status cairn_auth_delete_model_permissions(cairn_ctx *ctx, const char *name)
{
    cairn_status rc = cn_need_store(ctx);
    if (rc == CAIRN_OK)
        rc = check_resource(ctx, CAIRN_AUTH_MODEL, name);
    return rc == CAIRN_OK ? OPS(ctx)->auth_permissions_move(ctx, CAIRN_AUTH_MODEL, name, NULL) : rc;
}

cairn_status cairn_auth_check_many(cairn_ctx *ctx, const char *username, cairn_auth_kind kind,
                                   const char *const *resources, size_t n, cairn_perm needed,
                                   cairn_perm default_perm, bool *allowed)
{
    bool user_found = false, is_admin = false;
    for (size_t i = 0; i < n; i++)
        allowed[i] = false;
    cairn_status rc = cn_need_store(ctx);
    if (rc == CAIRN_OK)
        rc = check_perm(ctx, "needed permission", needed);
    if (rc == CAIRN_OK)
        rc = check_perm(ctx, "default permission", default_perm);
    if (rc == CAIRN_OK && kind != CAIRN_AUTH_EXPERIMENT && kind != CAIRN_AUTH_MODEL)
        rc = check_resource(ctx, kind, NULL);
    for (size_t i = 0; rc == CAIRN_OK && i < n; i++)
        if (!resources[i])
            rc = cn_fail(ctx, CAIRN_EINVAL, "resource %zu of %zu is NULL", i, n);
    /* A malformed name is no user's, so it may do nothing. */
    if (rc != CAIRN_OK || !username || cairn_auth_username_check(ctx, username) != CAIRN_OK)
        return rc;
    int *perms = cn_xcalloc(n ? n : 1, sizeof *perms);
    rc = OPS(ctx)->auth_resolve(ctx, username, kind, resources, n, &user_found, &is_admin, perms);
    for (size_t i = 0; rc == CAIRN_OK && user_found && i < n; i++) {
        cairn_perm have = is_admin        ? CAIRN_PERM_MANAGE
                          : perms[i] >= 0 ? (cairn_perm)perms[i]
                                          : default_perm;
        allowed[i] = have >= needed;
    }
    free(perms);
    return rc;
}

cairn_status cairn_auth_effective_permission(cairn_ctx *ctx, const char *username,
                                             cairn_auth_kind kind, const char *resource,
                                             cairn_perm default_perm, cairn_perm *out)
{
    *out = CAIRN_PERM_NONE;
    cairn_status rc = cn_need_store(ctx);
    if (rc == CAIRN_OK && !resource)
        rc = cn_fail(ctx, CAIRN_EINVAL, "missing resource name");
    if (rc == CAIRN_OK)
        rc = check_perm(ctx, "default permission", default_perm);
    if (rc != CAIRN_OK || !username || cairn_auth_username_check(ctx, username) != CAIRN_OK)
        return rc;
    bool user_found = false, is_admin = false;
    int perm = -1;
    if (kind != CAIRN_AUTH_EXPERIMENT && kind != CAIRN_AUTH_MODEL)
        return check_resource(ctx, kind, resource);
    rc = OPS(ctx)->auth_resolve(ctx, username, kind, &resource, 1, &user_found, &is_admin, &perm);
    if (rc == CAIRN_OK && user_found)
        *out = is_admin ? CAIRN_PERM_MANAGE : perm >= 0 ? (cairn_perm)perm : default_perm;
    return rc;
}

cairn_status cairn_auth_check(cairn_ctx *ctx, const char *username, cairn_auth_kind kind,
                              const char *resource, cairn_perm needed, cairn_perm default_perm,
                              bool *allowed)
{
    *allowed = false;
    if (!resource)
        return cn_fail(ctx, CAIRN_EINVAL, "missing resource name");
    return cairn_auth_check_many(ctx, username, kind, &resource, 1, needed, default_perm, allowed);
}

cairn_status cairn_auth_list_permissions(cairn_ctx *ctx, const char *username,
                                         cairn_auth_permission_list **out)
{
    *out = NULL;
    cairn_status rc = cn_need_store(ctx);
    if (rc == CAIRN_OK && username)
        rc = cairn_auth_username_check(ctx, username);
    return rc == CAIRN_OK ? OPS(ctx)->auth_permissions_list(ctx, username, out) : rc;
}
