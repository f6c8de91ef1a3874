/* SPDX-License-Identifier: MIT */
/* xmalloc.h - allocation that aborts on failure (small, fixed-size allocations only; sizes
 * that come from input are checked against limits first and fail with CAIRN_ELIMIT). */
#ifndef CN_XMALLOC_H
#define CN_XMALLOC_H
#include <stddef.h>

void *cn_xmalloc(size_t n);
void *cn_xcalloc(size_t count, size_t size);
void *cn_xrealloc(void *p, size_t n);
char *cn_xstrdup(const char *s); /* NULL gives NULL */
char *cn_xstrndup(const char *s, size_t n);
void *cn_xmemdup(const void *p, size_t n);

#define CN_ASSERT(cond) ((cond) ? (void)0 : cn_assert_fail(#cond, __FILE__, __LINE__))
#define CN_BUG(msg) cn_assert_fail(msg, __FILE__, __LINE__)
_Noreturn void cn_assert_fail(const char *what, const char *file, int line);
#define CN_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#endif
