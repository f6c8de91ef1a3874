/* SPDX-License-Identifier: MIT */
/* arena.c - bump allocator in chained blocks. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "arena.h"
#include "xmalloc.h"
#include "banned.h"

typedef struct block {
    struct block *next;
    size_t used, cap;
    _Alignas(16) unsigned char data[];
} block;

struct cn_arena {
    block *head;
};

cn_arena *cn_arena_new(void)
{
    return cn_xcalloc(1, sizeof(cn_arena));
}

void cn_arena_free(cn_arena *a)
{
    if (!a)
        return;
    block *b = a->head;
    while (b) {
        block *next = b->next;
        free(b);
        b = next;
    }
    free(a);
}

void *cn_arena_alloc(cn_arena *a, size_t n)
{
    n = (n + 15) & ~(size_t)15;
    if (!a->head || a->head->cap - a->head->used < n) {
        size_t cap = n > 8192 ? n : 8192;
        block *b = cn_xmalloc(sizeof(block) + cap);
        b->used = 0;
        b->cap = cap;
        b->next = a->head;
        a->head = b;
    }
    void *p = a->head->data + a->head->used;
    a->head->used += n;
    memset(p, 0, n);
    return p;
}

char *cn_arena_strndup(cn_arena *a, const char *s, size_t n)
{
    char *p = cn_arena_alloc(a, n + 1);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *cn_arena_strdup(cn_arena *a, const char *s)
{
    return s ? cn_arena_strndup(a, s, strlen(s)) : NULL;
}

void *cn_arena_grow(cn_arena *a, void *items, size_t n, size_t *cap, size_t size)
{
    if (n < *cap)
        return items;
    size_t ncap = *cap ? *cap * 2 : 8;
    void *bigger = cn_arena_alloc(a, ncap * size);
    if (n)
        memcpy(bigger, items, n * size);
    *cap = ncap;
    return bigger;
}

char *cn_arena_printf(cn_arena *a, const char *fmt, ...)
{
    va_list ap, ap2;
    va_start(ap, fmt);
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *p = cn_arena_alloc(a, n > 0 ? (size_t)n + 1 : 1);
    if (n > 0)
        vsnprintf(p, (size_t)n + 1, fmt, ap2);
    va_end(ap2);
    return p;
}
