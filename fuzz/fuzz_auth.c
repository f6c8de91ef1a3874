/* SPDX-License-Identifier: MIT */
/* fuzz_auth.c - feeds arbitrary bytes to the authentication parsers: the first byte picks the
 * stored password hash text, the HTTP Authorization header, or base64; the rest is the input.
 * Checks what each promises: a parsed hash printed again parses to the same values, Basic
 * credentials hold no ':' in the username, and decoded base64 encodes back to bytes that decode
 * alike. */
#include <stdint.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include "auth/hash.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_hash(const char *s, size_t len)
{
    cn_auth_hash h;
    if (!cn_auth_hash_parse(s, len, &h))
        return;
    char salt[2 * CN_AUTH_FIELD_MAX_BYTES], key[2 * CN_AUTH_FIELD_MAX_BYTES], text[400];
    cn_auth_b64_encode(h.salt, h.salt_len, salt);
    cn_auth_b64_encode(h.key, h.key_len, key);
    int n =
        snprintf(text, sizeof text, "pbkdf2-sha256$%lld$%s$%s", (long long)h.iterations, salt, key);
    cn_auth_hash again;
    if (n < 0 || !cn_auth_hash_parse(text, (size_t)n, &again) || again.iterations != h.iterations ||
        again.salt_len != h.salt_len || again.key_len != h.key_len ||
        memcmp(again.salt, h.salt, h.salt_len) != 0 || memcmp(again.key, h.key, h.key_len) != 0)
        __builtin_trap();
}

static void check_header(const char *s, size_t len)
{
    cn_auth_credentials c;
    cn_auth_header_parse(s, len, &c);
    if (c.scheme == CN_AUTH_BASIC && (!c.username || !c.secret || strchr(c.username, ':')))
        __builtin_trap();
    if (c.scheme == CN_AUTH_BEARER && (!c.secret || c.username))
        __builtin_trap();
    if (c.scheme == CN_AUTH_NONE && (c.secret || c.username))
        __builtin_trap();
    cn_auth_credentials_release(&c);
}

static void check_b64(const char *s, size_t len)
{
    unsigned char raw[256], raw2[256];
    char text[4 * sizeof raw / 3 + 8];
    size_t n, n2;
    if (!cn_auth_b64_decode(s, len, raw, sizeof raw, &n))
        return;
    cn_auth_b64_encode(raw, n, text);
    if (!cn_auth_b64_decode(text, strlen(text), raw2, sizeof raw2, &n2) || n2 != n ||
        memcmp(raw, raw2, n) != 0)
        __builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    const char *s = (const char *)data + 1;
    size_t len = size - 1;
    switch (data[0] % 3) {
    case 0: check_hash(s, len); break;
    case 1: check_header(s, len); break;
    default: check_b64(s, len); break;
    }
    return 0;
}
