/* SPDX-License-Identifier: MIT */
/* buf.h - a growable byte buffer, always NUL-terminated (git's strbuf). */
#ifndef CN_BUF_H
#define CN_BUF_H
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

typedef struct cn_buf {
    char *data; /* NUL-terminated when non-NULL */
    size_t len;
    size_t cap;
} cn_buf;
#define CN_BUF_INIT                                                                                \
    {                                                                                              \
        NULL, 0, 0                                                                                 \
    }

void cn_buf_grow(cn_buf *b, size_t extra);
void cn_buf_append(cn_buf *b, const void *p, size_t n);
void cn_buf_puts(cn_buf *b, const char *s);
void cn_buf_putc(cn_buf *b, char c);
void cn_buf_printf(cn_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void cn_buf_vprintf(cn_buf *b, const char *fmt, va_list ap);
void cn_buf_clear(cn_buf *b);            /* len = 0, keeps the memory */
void cn_buf_release(cn_buf *b);          /* frees; b is CN_BUF_INIT afterwards */
char *cn_buf_detach(cn_buf *b);          /* the caller owns the string (never NULL) */
const char *cn_buf_str(const cn_buf *b); /* "" when empty */
/* Appends s as one CSV field, quoted (with "" for ") when it holds a comma, a quote or a line
 * break, and with quote_blank also when it is empty or starts or ends with a space. */
void cn_csv_put_field(cn_buf *b, const char *s, bool quote_blank);
#endif
