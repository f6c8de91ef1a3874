/* SPDX-License-Identifier: MIT */
/* arena.h - a bump allocator for memory that dies together: a request, a trial, a result
 * object (nginx pools, ggml contexts). Freed at once with cn_arena_free(). */
#ifndef CN_ARENA_H
#define CN_ARENA_H
#include <stddef.h>

typedef struct cn_arena cn_arena;

cn_arena *cn_arena_new(void);
void cn_arena_free(cn_arena *a);                   /* NULL is a no-op */
void *cn_arena_alloc(cn_arena *a, size_t n);       /* zeroed, 16-byte aligned; aborts on OOM */
char *cn_arena_strdup(cn_arena *a, const char *s); /* NULL gives NULL */
char *cn_arena_strndup(cn_arena *a, const char *s, size_t n);
/* Makes room for item n of a growable array of `size`-byte items in the arena that has room for
 * *cap: returns items, or a copy in a block twice as large (8 items at first) when it is full. */
void *cn_arena_grow(cn_arena *a, void *items, size_t n, size_t *cap, size_t size);
char *cn_arena_printf(cn_arena *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#endif
