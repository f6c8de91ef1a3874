/* SPDX-License-Identifier: MIT */
/* hash.c - password hashes (PBKDF2-HMAC-SHA256 through libcrypto, RFC 8018), bearer tokens
 * from RAND_bytes, and base64. The parameters and the text form are in docs/auth.md. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include "core/core.h"
#include "auth/hash.h"
#include "base/sha256.h"
#include "base/str.h"
#include "base/xmalloc.h"
#include "base/banned.h"

#define SCHEME "pbkdf2-sha256"

/* ---- base64 ---- */

static const char b64url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

void cn_auth_b64_encode(const unsigned char *p, size_t n, char *out)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16;
        if (i + 1 < n)
            v |= (uint32_t)p[i + 1] << 8;
        if (i + 2 < n)
            v |= p[i + 2];
        out[o++] = b64url[(v >> 18) & 63];
        out[o++] = b64url[(v >> 12) & 63];
        if (i + 1 < n)
            out[o++] = b64url[(v >> 6) & 63];
        if (i + 2 < n)
            out[o++] = b64url[v & 63];
    }
    out[o] = '\0';
}

/* The 6-bit value of a base64 character in either alphabet; -1 for any other. */
static int b64_value(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+' || c == '-')
        return 62;
    if (c == '/' || c == '_')
        return 63;
    return -1;
}

bool cn_auth_b64_decode(const char *s, size_t len, unsigned char *out, size_t cap, size_t *n_out)
{
    *n_out = 0;
    /* Padding only at the end, at most two, and only to a multiple of four. */
    size_t pad = 0;
    while (pad < 2 && pad < len && s[len - 1 - pad] == '=')
        pad++;
    if (pad > 0 && len % 4 != 0)
        return false;
    len -= pad;
    if (len % 4 == 1)
        return false;
    size_t n = len / 4 * 3 + (len % 4 == 0 ? 0 : len % 4 - 1);
    if (n > cap)
        return false;
    uint32_t acc = 0;
    int bits = 0;
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        int v = b64_value((unsigned char)s[i]);
        if (v < 0)
            return false;
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (unsigned char)(acc >> bits);
            acc &= (1u << bits) - 1;
        }
    }
    /* Leftover bits must be zero, so each value has one encoding. */
    if (acc != 0)
        return false;
    *n_out = o;
    return true;
}

/* ---- password hashes ---- */

bool cn_auth_hash_parse(const char *s, size_t len, cn_auth_hash *out)
{
    memset(out, 0, sizeof *out);
    const char *end = s + len;
    const char *field[4];
    size_t flen[4];
    const char *p = s;
    for (int i = 0; i < 4; i++) {
        const char *dollar = memchr(p, '$', (size_t)(end - p));
        if ((dollar != NULL) != (i < 3))
            return false;
        field[i] = p;
        flen[i] = (size_t)((dollar ? dollar : end) - p);
        p = dollar ? dollar + 1 : end;
    }
    if (flen[0] != strlen(SCHEME) || memcmp(field[0], SCHEME, flen[0]) != 0)
        return false;
    char digits[12];
    if (flen[1] == 0 || flen[1] >= sizeof digits || field[1][0] == '0')
        return false;
    for (size_t i = 0; i < flen[1]; i++)
        if (field[1][i] < '0' || field[1][i] > '9')
            return false;
    memcpy(digits, field[1], flen[1]);
    digits[flen[1]] = '\0';
    if (!cn_parse_int64(digits, &out->iterations) || out->iterations < CN_AUTH_ITERATIONS_MIN ||
        out->iterations > CN_AUTH_ITERATIONS_MAX)
        return false;
    if (!cn_auth_b64_decode(field[2], flen[2], out->salt, sizeof out->salt, &out->salt_len) ||
        out->salt_len < 8)
        return false;
    if (!cn_auth_b64_decode(field[3], flen[3], out->key, sizeof out->key, &out->key_len) ||
        out->key_len < 16)
        return false;
    return true;
}

static bool derive(const char *password, const unsigned char *salt, size_t salt_len,
                   int64_t iterations, unsigned char *key, size_t key_len)
{
    return PKCS5_PBKDF2_HMAC(password, (int)strlen(password), salt, (int)salt_len, (int)iterations,
                             EVP_sha256(), (int)key_len, key) == 1;
}

cairn_status cn_auth_hash_password(cairn_ctx *ctx, const char *password, char **out)
{
    unsigned char salt[CN_AUTH_SALT_BYTES], key[CN_AUTH_KEY_BYTES];
    char salt_text[CN_AUTH_SALT_BYTES * 2], key_text[CN_AUTH_KEY_BYTES * 2];
    *out = NULL;
    if (RAND_bytes(salt, sizeof salt) != 1)
        return cn_fail(ctx, CAIRN_EINTERNAL, "no random bytes for a password salt (libcrypto)");
    if (!derive(password, salt, sizeof salt, CAIRN_AUTH_PBKDF2_ITERATIONS, key, sizeof key))
        return cn_fail(ctx, CAIRN_EINTERNAL, "PBKDF2 failed (libcrypto)");
    cn_auth_b64_encode(salt, sizeof salt, salt_text);
    cn_auth_b64_encode(key, sizeof key, key_text);
    *out = cn_asprintf(SCHEME "$%d$%s$%s", CAIRN_AUTH_PBKDF2_ITERATIONS, salt_text, key_text);
    OPENSSL_cleanse(key, sizeof key);
    return CAIRN_OK;
}

bool cn_auth_hash_verify(const char *password, const char *stored)
{
    cn_auth_hash h;
    unsigned char key[CN_AUTH_FIELD_MAX_BYTES];
    if (!stored || !cn_auth_hash_parse(stored, strlen(stored), &h)) {
        cn_auth_hash_burn(password);
        return false;
    }
    bool ok = derive(password, h.salt, h.salt_len, h.iterations, key, h.key_len) &&
              CRYPTO_memcmp(key, h.key, h.key_len) == 0;
    OPENSSL_cleanse(key, sizeof key);
    return ok;
}

void cn_auth_hash_burn(const char *password)
{
    static const unsigned char salt[CN_AUTH_SALT_BYTES] = "cairn-no-user..";
    unsigned char key[CN_AUTH_KEY_BYTES];
    derive(password ? password : "", salt, sizeof salt, CAIRN_AUTH_PBKDF2_ITERATIONS, key,
           sizeof key);
    OPENSSL_cleanse(key, sizeof key);
}

/* ---- tokens ---- */

cairn_status cn_auth_token_new(cairn_ctx *ctx, char *out)
{
    unsigned char bytes[CN_AUTH_TOKEN_BYTES];
    if (RAND_bytes(bytes, sizeof bytes) != 1)
        return cn_fail(ctx, CAIRN_EINTERNAL, "no random bytes for a token (libcrypto)");
    memcpy(out, CN_AUTH_TOKEN_PREFIX, strlen(CN_AUTH_TOKEN_PREFIX));
    cn_auth_b64_encode(bytes, sizeof bytes, out + strlen(CN_AUTH_TOKEN_PREFIX));
    OPENSSL_cleanse(bytes, sizeof bytes);
    return CAIRN_OK;
}

bool cn_auth_token_well_formed(const char *s)
{
    size_t plen = strlen(CN_AUTH_TOKEN_PREFIX);
    if (!s || strlen(s) != CN_AUTH_TOKEN_LEN || strncmp(s, CN_AUTH_TOKEN_PREFIX, plen) != 0)
        return false;
    for (const char *p = s + plen; *p; p++)
        if (!strchr(b64url, *p))
            return false;
    return true;
}

void cn_auth_token_digest(const char *token, char hex_out[65])
{
    cn_sha256_hex(token, strlen(token), hex_out);
}

/* ---- the Authorization header ---- */

static bool scheme_is(const char *s, size_t len, const char *scheme)
{
    size_t n = strlen(scheme);
    if (len <= n || s[n] != ' ')
        return false;
    for (size_t i = 0; i < n; i++)
        if ((s[i] | 0x20) != scheme[i])
            return false;
    return true;
}

void cn_auth_header_parse(const char *s, size_t len, cn_auth_credentials *out)
{
    memset(out, 0, sizeof *out);
    while (len > 0 && s[0] == ' ') {
        s++;
        len--;
    }
    while (len > 0 && s[len - 1] == ' ')
        len--;
    bool basic = scheme_is(s, len, "basic");
    bool bearer = !basic && scheme_is(s, len, "bearer");
    if (!basic && !bearer)
        return;
    size_t skip = basic ? 5 : 6;
    const char *v = s + skip;
    size_t vlen = len - skip;
    while (vlen > 0 && v[0] == ' ') {
        v++;
        vlen--;
    }
    if (vlen == 0 || memchr(v, '\0', vlen))
        return;
    if (bearer) {
        out->scheme = CN_AUTH_BEARER;
        out->secret = cn_xstrndup(v, vlen);
        return;
    }
    /* user:password, both bounded by what a user may have. */
    size_t cap = CAIRN_AUTH_USERNAME_MAX + 1 + CAIRN_AUTH_PASSWORD_MAX;
    unsigned char *raw = cn_xmalloc(cap + 1);
    size_t n;
    if (cn_auth_b64_decode(v, vlen, raw, cap, &n) && !memchr(raw, '\0', n)) {
        const unsigned char *colon = memchr(raw, ':', n);
        if (colon) {
            out->scheme = CN_AUTH_BASIC;
            out->username = cn_xstrndup((const char *)raw, (size_t)(colon - raw));
            out->secret = cn_xstrndup((const char *)colon + 1, n - (size_t)(colon - raw) - 1);
        }
    }
    OPENSSL_cleanse(raw, cap + 1);
    free(raw);
}

void cn_auth_credentials_release(cn_auth_credentials *c)
{
    if (c->secret)
        OPENSSL_cleanse(c->secret, strlen(c->secret));
    free(c->secret);
    free(c->username);
    memset(c, 0, sizeof *c);
}
