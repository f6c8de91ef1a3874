/* SPDX-License-Identifier: MIT */
/* hash.h - the crypto of authentication, libcrypto's one home in libcairn besides base/sha256:
 * salted PBKDF2-HMAC-SHA256 password hashes in a self-describing text form, random bearer
 * tokens, base64 both ways, and the Authorization header parser. Used by auth/auth.c. */
#ifndef CN_AUTH_HASH_H
#define CN_AUTH_HASH_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "cairn/auth.h"

#define CN_AUTH_SALT_BYTES 16
#define CN_AUTH_KEY_BYTES 32
/* The largest salt, key and iteration count a stored hash may name: bounds the work and the
 * memory one verify can cost, whatever the store holds. */
#define CN_AUTH_FIELD_MAX_BYTES 64
#define CN_AUTH_ITERATIONS_MIN 1000
#define CN_AUTH_ITERATIONS_MAX 10000000
/* "cairn_" and 43 base64url characters: 32 random bytes. */
#define CN_AUTH_TOKEN_PREFIX "cairn_"
#define CN_AUTH_TOKEN_BYTES 32
#define CN_AUTH_TOKEN_LEN (6 + 43)

/* A stored password hash, "pbkdf2-sha256$<iterations>$<salt>$<key>" (base64url, no padding). */
typedef struct cn_auth_hash {
    int64_t iterations;
    unsigned char salt[CN_AUTH_FIELD_MAX_BYTES];
    size_t salt_len;
    unsigned char key[CN_AUTH_FIELD_MAX_BYTES];
    size_t key_len;
} cn_auth_hash;

/* Parses s[0 .. len); false for anything but a well-formed hash within the bounds above. */
bool cn_auth_hash_parse(const char *s, size_t len, cn_auth_hash *out);
/* A new hash of password under a fresh random salt with CAIRN_AUTH_PBKDF2_ITERATIONS; *out
 * (the caller frees) is its text. EINTERNAL when the random source fails. */
cairn_status cn_auth_hash_password(cairn_ctx *ctx, const char *password, char **out);
/* Whether password matches stored (its text form), compared in constant time. A stored text
 * that does not parse matches nothing, after the same work as a real check. */
bool cn_auth_hash_verify(const char *password, const char *stored);
/* The work of a verify with nothing to match, so a missing user takes as long as a wrong
 * password. */
void cn_auth_hash_burn(const char *password);

/* A new bearer token into out (CN_AUTH_TOKEN_LEN + 1 bytes). EINTERNAL when the random source
 * fails. */
cairn_status cn_auth_token_new(cairn_ctx *ctx, char *out);
/* Whether s has a token's shape: the prefix and 43 base64url characters. */
bool cn_auth_token_well_formed(const char *s);
/* The hex SHA-256 of a token, which is all the store keeps. */
void cn_auth_token_digest(const char *token, char hex_out[65]);

/* base64url without padding of n bytes into out (4 * ceil(n / 3) + 1 bytes suffice). */
void cn_auth_b64_encode(const unsigned char *p, size_t n, char *out);
/* Decodes s[0 .. len) in either alphabet (standard or URL-safe), padding optional, into out of
 * cap bytes; *n_out is the length. False on a character outside the alphabet, misplaced
 * padding, a length no encoding has, or more than cap bytes. */
bool cn_auth_b64_decode(const char *s, size_t len, unsigned char *out, size_t cap, size_t *n_out);

/* What an Authorization header value carries. */
typedef enum cn_auth_scheme { CN_AUTH_NONE = 0, CN_AUTH_BASIC, CN_AUTH_BEARER } cn_auth_scheme;
typedef struct cn_auth_credentials {
    cn_auth_scheme scheme;
    char *username; /* Basic: before the first ':' */
    char *secret;   /* Basic: the password; Bearer: the token */
} cn_auth_credentials;
/* Parses s[0 .. len): "Basic <base64 of user:password>" or "Bearer <token>", the scheme's case
 * ignored, spaces around the value allowed. Anything else gives scheme CN_AUTH_NONE; never
 * fails. Release with cn_auth_credentials_release(). */
void cn_auth_header_parse(const char *s, size_t len, cn_auth_credentials *out);
/* Frees and wipes the secret. */
void cn_auth_credentials_release(cn_auth_credentials *c);
#endif
