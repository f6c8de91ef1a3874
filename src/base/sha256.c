/* SPDX-License-Identifier: MIT */
/* sha256.c - the one home of libcrypto. */
#include <errno.h>
#include <stdlib.h>
#include <fcntl.h>
#include <unistd.h>
#include <openssl/evp.h>
#include "sha256.h"
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

int cn_sha256_file(const char *path, char hex_out[65], int64_t *size_out)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    cn_sha256 *h = cn_sha256_new();
    static _Thread_local unsigned char chunk[1 << 16];
    int64_t total = 0;
    for (;;) {
        ssize_t n = read(fd, chunk, sizeof chunk);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            int e = errno;
            close(fd);
            cn_sha256_final(h, hex_out);
            errno = e;
            return -1;
        }
        if (n == 0)
            break;
        cn_sha256_update(h, chunk, (size_t)n);
        total += n;
    }
    close(fd);
    cn_sha256_final(h, hex_out);
    if (size_out)
        *size_out = total;
    return 0;
}
