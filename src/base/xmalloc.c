/* SPDX-License-Identifier: MIT */
/* xmalloc.c - allocation that aborts with a message when memory runs out. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "xmalloc.h"
#include "banned.h"

static _Noreturn void oom(size_t n)
{
    fprintf(stderr, "cairn: fatal: out of memory allocating %zu bytes\n", n);
    abort();
}

void cn_assert_fail(const char *what, const char *file, int line)
{
    fprintf(stderr, "cairn: BUG: %s:%d: %s\n", file, line, what);
    abort();
}

void *cn_xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        oom(n);
    return p;
}

void *cn_xcalloc(size_t count, size_t size)
{
    void *p = calloc(count ? count : 1, size ? size : 1);
    if (!p)
        oom(count * size);
    return p;
}

void *cn_xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q)
        oom(n);
    return q;
}

char *cn_xstrdup(const char *s)
{
    if (!s)
        return NULL;
    return cn_xmemdup(s, strlen(s) + 1);
}

char *cn_xstrndup(const char *s, size_t n)
{
    char *p = cn_xmalloc(n + 1);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

void *cn_xmemdup(const void *src, size_t n)
{
    void *p = cn_xmalloc(n);
    if (n)
        memcpy(p, src, n);
    return p;
}
