/* SPDX-License-Identifier: MIT */
/* store_auth.h - the SQL store's authentication tables (store_auth.c); members of
 * cn_store_sql_ops, called through cn_store_ops by auth/auth.c. */
#ifndef CN_STORE_AUTH_H
#define CN_STORE_AUTH_H
#include "store/store.h"

cairn_status cn_store_auth_user_create(cairn_ctx *ctx, const char *username,
                                       const char *password_hash, bool is_admin);
cairn_status cn_store_auth_user_delete(cairn_ctx *ctx, const char *username);
cairn_status cn_store_auth_user_update(cairn_ctx *ctx, const char *username,
                                       const char *password_hash, int is_admin);
cairn_status cn_store_auth_user_get(cairn_ctx *ctx, const char *username, cairn_auth_user **out,
                                    char **password_hash_out);
cairn_status cn_store_auth_users_list(cairn_ctx *ctx, cairn_auth_user_list **out);
cairn_status cn_store_auth_token_create(cairn_ctx *ctx, const char *username,
                                        const char *token_sha256, const char *name,
                                        int64_t created_ms, int64_t expires_ms);
cairn_status cn_store_auth_token_lookup(cairn_ctx *ctx, const char *token_sha256, int64_t now_ms,
                                        char **username_out);
cairn_status cn_store_auth_token_revoke(cairn_ctx *ctx, const char *username, const char *name);
cairn_status cn_store_auth_tokens_list(cairn_ctx *ctx, const char *username,
                                       cairn_auth_token_list **out);
cairn_status cn_store_auth_permission_set(cairn_ctx *ctx, cairn_auth_kind kind,
                                          const char *resource, const char *username,
                                          cairn_perm perm);
cairn_status cn_store_auth_permission_delete(cairn_ctx *ctx, cairn_auth_kind kind,
                                             const char *resource, const char *username);
cairn_status cn_store_auth_permission_get(cairn_ctx *ctx, cairn_auth_kind kind,
                                          const char *resource, const char *username,
                                          cairn_perm *out, bool *found);
cairn_status cn_store_auth_permissions_list(cairn_ctx *ctx, const char *username,
                                            cairn_auth_permission_list **out);
cairn_status cn_store_auth_permissions_move(cairn_ctx *ctx, cairn_auth_kind kind,
                                            const char *resource, const char *new_name);
cairn_status cn_store_auth_resolve(cairn_ctx *ctx, const char *username, cairn_auth_kind kind,
                                   const char *const *resources, size_t n, bool *user_found,
                                   bool *is_admin, int *perms);
#endif
