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
/* Bytes on their way into a SHA-256 in chunks: one update per small value costs more than the
 * hashing itself. The digest does not depend on the chunking. */
typedef struct cn_sha256_stream cn_sha256_stream;
cn_sha256_stream *cn_sha256_stream_new(void);
void cn_sha256_stream_bytes(cn_sha256_stream *s, const void *p, size_t n);
void cn_sha256_stream_u64(cn_sha256_stream *s, uint64_t v);         /* 8 bytes, little-endian */
void cn_sha256_stream_final(cn_sha256_stream *s, char hex_out[65]); /* also frees s */
/* Hashes a whole file; -1 with errno set on failure. *size_out may be NULL. */
int cn_sha256_file(const char *path, char hex_out[65], int64_t *size_out);
#endif
