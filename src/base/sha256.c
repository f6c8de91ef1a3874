/* SPDX-License-Identifier: MIT */
/* sha256.c - the one home of libcrypto. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>
#include <openssl/evp.h>
#include "sha256.h"
#include "fs.h"
#include "str.h"
#include "xmalloc.h"
#include "banned.h"

struct cn_sha256 {
    EVP_MD_CTX *md;
};

cn_sha256 *cn_sha256_new(void)
{
    cn_sha256 *h = cn_xmalloc(sizeof *h);
    h->md = EVP_MD_CTX_new();
    if (!h->md || EVP_DigestInit_ex(h->md, EVP_sha256(), NULL) != 1)
        CN_BUG("EVP sha256 init failed");
    return h;
}

void cn_sha256_update(cn_sha256 *h, const void *p, size_t n)
{
    EVP_DigestUpdate(h->md, p, n);
}

void cn_sha256_final(cn_sha256 *h, char hex_out[65])
{
    unsigned char md[32];
    unsigned int len = 0;
    EVP_DigestFinal_ex(h->md, md, &len);
    cn_hex(md, 32, hex_out);
    EVP_MD_CTX_free(h->md);
    free(h);
}

void cn_sha256_hex(const void *p, size_t n, char hex_out[65])
{
    cn_sha256 *h = cn_sha256_new();
    cn_sha256_update(h, p, n);
    cn_sha256_final(h, hex_out);
}

struct cn_sha256_stream {
    cn_sha256 *h;
    size_t len;
    unsigned char buf[1 << 16];
};

cn_sha256_stream *cn_sha256_stream_new(void)
{
    cn_sha256_stream *s = cn_xmalloc(sizeof *s);
    s->h = cn_sha256_new();
    s->len = 0;
    return s;
}

void cn_sha256_stream_bytes(cn_sha256_stream *s, const void *p, size_t n)
{
    if (n > sizeof s->buf - s->len) {
        cn_sha256_update(s->h, s->buf, s->len);
        s->len = 0;
        if (n > sizeof s->buf) {
            cn_sha256_update(s->h, p, n);
            return;
        }
    }
    memcpy(s->buf + s->len, p, n);
    s->len += n;
}

void cn_sha256_stream_u64(cn_sha256_stream *s, uint64_t v)
{
    unsigned char le[8];
    for (int i = 0; i < 8; i++)
        le[i] = (unsigned char)(v >> (8 * i));
    cn_sha256_stream_bytes(s, le, 8);
}

void cn_sha256_stream_final(cn_sha256_stream *s, char hex_out[65])
{
    cn_sha256_update(s->h, s->buf, s->len);
    cn_sha256_final(s->h, hex_out);
    free(s);
}

typedef struct counted {
    cn_sha256 *h;
    int64_t total;
} counted;

static int update_counted(void *user, const void *p, size_t n)
{
    counted *c = user;
    cn_sha256_update(c->h, p, n);
    c->total += (int64_t)n;
    return 0;
}

int cn_sha256_file(const char *path, char hex_out[65], int64_t *size_out)
{
    int fd = cn_fs_open_regular(path, O_RDONLY);
    if (fd < 0)
        return -1;
    counted c = {cn_sha256_new(), 0};
    int rc = cn_fs_read_fd(fd, update_counted, &c);
    int e = errno;
    close(fd);
    cn_sha256_final(c.h, hex_out);
    errno = e;
    if (rc != 0)
        return -1;
    if (size_out)
        *size_out = c.total;
    return 0;
}
