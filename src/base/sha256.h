/* SPDX-License-Identifier: MIT */
/* sha256.h - SHA-256 of memory and files through libcrypto (OpenSSL's EVP). */
#ifndef CN_SHA256_H
#define CN_SHA256_H
#include <stddef.h>
#include <stdint.h>

typedef struct cn_sha256 cn_sha256;

cn_sha256 *cn_sha256_new(void);
void cn_sha256_update(cn_sha256 *h, const void *p, size_t n);
void cn_sha256_final(cn_sha256 *h, char hex_out[65]); /* also frees h */
void cn_sha256_hex(const void *p, size_t n, char hex_out[65]);
/* Hashes a whole file; -1 with errno set on failure. *size_out may be NULL. */
int cn_sha256_file(const char *path, char hex_out[65], int64_t *size_out);
#endif
