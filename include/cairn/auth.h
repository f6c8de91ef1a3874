/* SPDX-License-Identifier: MIT */
/* auth.h - optional authentication for the tracking server: users with salted, slow password
 * hashes, bearer tokens, and READ / EDIT / MANAGE permissions per experiment and per registered
 * model, as MLflow's basic-auth app has them. Everything lives in the store, so any number of
 * server replicas share it; nothing is cached in the context. See docs/auth.md. */
#ifndef CAIRN_AUTH_H
#define CAIRN_AUTH_H

#include "cairn.h"

#ifdef __cplusplus
extern "C" {
#endif

#define CAIRN_AUTH_USERNAME_MAX 255
#define CAIRN_AUTH_PASSWORD_MIN 8
#define CAIRN_AUTH_PASSWORD_MAX 1024
#define CAIRN_AUTH_TOKEN_NAME_MAX 100
/* PBKDF2-HMAC-SHA256 iterations of new password hashes (about 90 ms on the reference machine,
 * 2 cores; docs/auth.md). Stored hashes name their own count, so raising this breaks none. */
#define CAIRN_AUTH_PBKDF2_ITERATIONS 200000

/* Permissions, each including the ones before it (MLflow's permissions.py): READ reads, EDIT
 * also updates, MANAGE also deletes and manages others' permissions. */
typedef enum cairn_perm {
    CAIRN_PERM_NONE = 0, /* "NO_PERMISSIONS" */
    CAIRN_PERM_READ,
    CAIRN_PERM_EDIT,
    CAIRN_PERM_MANAGE
} cairn_perm;

/* "NO_PERMISSIONS", "READ", "EDIT", "MANAGE" (MLflow's names); NULL for an unknown value. */
CAIRN_API const char *cairn_perm_str(cairn_perm perm);
/* Parses a permission name, ignoring case; "NONE" is accepted for NO_PERMISSIONS. EINVAL
 * names the value and the choices. */
CAIRN_API cairn_status cairn_perm_parse(cairn_ctx *ctx, const char *text, cairn_perm *out);

/* The kinds of resource a permission is about. */
typedef enum cairn_auth_kind {
    CAIRN_AUTH_EXPERIMENT = 0, /* named by experiment id */
    CAIRN_AUTH_MODEL           /* named by registered model name */
} cairn_auth_kind;

/* ---- users ---- */

typedef struct cairn_auth_user {
    const char *username;
    bool is_admin;
    int64_t creation_time_ms;
    int64_t last_updated_time_ms; /* the last password or admin change */
    void *internal_;              /* owned memory; do not touch */
} cairn_auth_user;

typedef struct cairn_auth_user_list {
    size_t n;
    cairn_auth_user *items; /* by username */
    void *internal_;
} cairn_auth_user_list;

/* Checks a username: 1 to CAIRN_AUTH_USERNAME_MAX printable ASCII characters, no space and no
 * ':' (HTTP Basic credentials split at the first ':'). EINVAL says why. */
CAIRN_API cairn_status cairn_auth_username_check(cairn_ctx *ctx, const char *username);
/* Checks a password: CAIRN_AUTH_PASSWORD_MIN to CAIRN_AUTH_PASSWORD_MAX bytes of UTF-8. */
CAIRN_API cairn_status cairn_auth_password_check(cairn_ctx *ctx, const char *password);

/* Adds a user with a salted PBKDF2 hash of password. EEXIST when the name is taken. */
CAIRN_API cairn_status cairn_auth_user_create(cairn_ctx *ctx, const char *username,
                                              const char *password, bool is_admin);
/* Deletes a user with its tokens and permissions. ENOTFOUND when there is no such user. */
CAIRN_API cairn_status cairn_auth_user_delete(cairn_ctx *ctx, const char *username);
/* Replaces a user's password hash; the user's tokens stay valid (revoke them separately). */
CAIRN_API cairn_status cairn_auth_user_set_password(cairn_ctx *ctx, const char *username,
                                                    const char *password);
CAIRN_API cairn_status cairn_auth_user_set_admin(cairn_ctx *ctx, const char *username,
                                                 bool is_admin);
/* One user, freed with cairn_auth_user_free(). ENOTFOUND when there is no such user. */
CAIRN_API cairn_status cairn_auth_user_get(cairn_ctx *ctx, const char *username,
                                           cairn_auth_user **out);
/* Every user, by name; freed with cairn_auth_user_list_free(). */
CAIRN_API cairn_status cairn_auth_list_users(cairn_ctx *ctx, cairn_auth_user_list **out);
CAIRN_API void cairn_auth_user_free(cairn_auth_user *user);           /* NULL is a no-op */
CAIRN_API void cairn_auth_user_list_free(cairn_auth_user_list *list); /* NULL is a no-op */

/* Checks a password in constant time against the stored hash. *ok is true only when the user
 * exists and the password matches; an unknown user costs the same hashing, so the time taken
 * does not tell which users exist. Bad credentials are CAIRN_OK with *ok false; a failure
 * status means the store failed. */
CAIRN_API cairn_status cairn_auth_verify_password(cairn_ctx *ctx, const char *username,
                                                  const char *password, bool *ok);

/* ---- bearer tokens: "cairn_" and 43 characters of base64url (32 random bytes) ---- */

typedef struct cairn_auth_token {
    const char *username;
    const char *name;
    int64_t created_ms;
    int64_t expires_ms;   /* 0: never expires */
    int64_t last_used_ms; /* 0: never used; updated at most once a minute */
} cairn_auth_token;

typedef struct cairn_auth_token_list {
    size_t n;
    cairn_auth_token *items; /* by username, then name */
    void *internal_;
} cairn_auth_token_list;

/* Issues a token for an existing user. name (NULL: "token-" and the first 8 hex digits of its
 * hash) is unique per user, EEXIST otherwise; ttl_ms > 0 makes it expire then, 0 never. Only
 * its SHA-256 is stored: *token_out (the caller frees with cairn_free()) is the one copy. */
CAIRN_API cairn_status cairn_auth_token_create(cairn_ctx *ctx, const char *username,
                                               const char *name, int64_t ttl_ms, char **token_out);
/* Looks a token up by its SHA-256: *username_out (the caller frees) is its user, or NULL for
 * a malformed, unknown, revoked or expired token (still CAIRN_OK). Fast: no slow hash. */
CAIRN_API cairn_status cairn_auth_token_verify(cairn_ctx *ctx, const char *token,
                                               char **username_out);
/* Revokes a user's token by name. ENOTFOUND when the user has none of that name. */
CAIRN_API cairn_status cairn_auth_token_revoke(cairn_ctx *ctx, const char *username,
                                               const char *name);
/* The tokens of username (NULL: of everyone); never the tokens themselves. */
CAIRN_API cairn_status cairn_auth_list_tokens(cairn_ctx *ctx, const char *username,
                                              cairn_auth_token_list **out);
CAIRN_API void cairn_auth_token_list_free(cairn_auth_token_list *list); /* NULL is a no-op */

/* Reads an HTTP Authorization header value: "Basic base64(user:password)" is checked with
 * cairn_auth_verify_password(), "Bearer TOKEN" with cairn_auth_token_verify(). *username_out
 * (the caller frees) is the authenticated user, or NULL for a missing, malformed or wrong
 * credential (still CAIRN_OK: answer 401). A failure status means the store failed. */
CAIRN_API cairn_status cairn_auth_authenticate(cairn_ctx *ctx, const char *authorization,
                                               char **username_out);

/* ---- permissions per experiment and per registered model ---- */

/* Sets (adds or replaces) a user's permission on an existing experiment or model. ENOTFOUND
 * names what is missing: the user, the experiment, the model. */
CAIRN_API cairn_status cairn_auth_set_experiment_permission(cairn_ctx *ctx,
                                                            const char *experiment_id,
                                                            const char *username, cairn_perm perm);
CAIRN_API cairn_status cairn_auth_set_model_permission(cairn_ctx *ctx, const char *name,
                                                       const char *username, cairn_perm perm);
/* Removes an explicit permission; the user falls back to the default. ENOTFOUND when there
 * is none. */
CAIRN_API cairn_status cairn_auth_delete_experiment_permission(cairn_ctx *ctx,
                                                               const char *experiment_id,
                                                               const char *username);
CAIRN_API cairn_status cairn_auth_delete_model_permission(cairn_ctx *ctx, const char *name,
                                                          const char *username);
/* The explicit permission of a user on a resource. ENOTFOUND when there is none (the default
 * then applies). */
CAIRN_API cairn_status cairn_auth_get_experiment_permission(cairn_ctx *ctx,
                                                            const char *experiment_id,
                                                            const char *username, cairn_perm *out);
CAIRN_API cairn_status cairn_auth_get_model_permission(cairn_ctx *ctx, const char *name,
                                                       const char *username, cairn_perm *out);

/* Gives the creator of a new experiment or model MANAGE on it, as MLflow does after
 * CreateExperiment and CreateRegisteredModel; the server calls it right after the create. */
CAIRN_API cairn_status cairn_auth_grant_creator(cairn_ctx *ctx, const char *username,
                                                cairn_auth_kind kind, const char *resource);
/* Moves a model's permissions to its new name (call after a rename) and drops them (after a
 * delete), so a later model of the old name does not inherit them. */
CAIRN_API cairn_status cairn_auth_rename_model_permissions(cairn_ctx *ctx, const char *name,
                                                           const char *new_name);
CAIRN_API cairn_status cairn_auth_delete_model_permissions(cairn_ctx *ctx, const char *name);

/* What a user may do with a resource: MANAGE for an admin; else the user's explicit permission
 * on it; else default_perm (MLflow's default is READ). An unknown user gets NONE. */
CAIRN_API cairn_status cairn_auth_effective_permission(cairn_ctx *ctx, const char *username,
                                                       cairn_auth_kind kind, const char *resource,
                                                       cairn_perm default_perm, cairn_perm *out);
/* *allowed = the effective permission is at least needed. */
CAIRN_API cairn_status cairn_auth_check(cairn_ctx *ctx, const char *username, cairn_auth_kind kind,
                                        const char *resource, cairn_perm needed,
                                        cairn_perm default_perm, bool *allowed);
/* cairn_auth_check for n resources at once (a page of search results), in two store queries:
 * allowed[i] is for resources[i]. */
CAIRN_API cairn_status cairn_auth_check_many(cairn_ctx *ctx, const char *username,
                                             cairn_auth_kind kind, const char *const *resources,
                                             size_t n, cairn_perm needed, cairn_perm default_perm,
                                             bool *allowed);

typedef struct cairn_auth_permission {
    cairn_auth_kind kind;
    const char *resource; /* experiment id or model name */
    const char *username;
    cairn_perm perm;
} cairn_auth_permission;

typedef struct cairn_auth_permission_list {
    size_t n;
    cairn_auth_permission *items; /* experiments then models, each by resource then user */
    void *internal_;
} cairn_auth_permission_list;

/* The explicit permissions of username (NULL: of everyone). */
CAIRN_API cairn_status cairn_auth_list_permissions(cairn_ctx *ctx, const char *username,
                                                   cairn_auth_permission_list **out);
CAIRN_API void cairn_auth_permission_list_free(cairn_auth_permission_list *list);

#ifdef __cplusplus
}
#endif
#endif
