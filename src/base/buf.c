/* SPDX-License-Identifier: MIT */
/* buf.c - growable byte buffer. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "buf.h"
#include "xmalloc.h"
#include "banned.h"

void cn_buf_grow(cn_buf *b, size_t extra)
{
    size_t need = b->len + extra + 1;
    if (need <= b->cap)
        return;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need)
        cap *= 2;
    b->data = cn_xrealloc(b->data, cap);
    b->data[b->len] = '\0'; /* a fresh buffer is terminated too */
    b->cap = cap;
}

void cn_buf_append(cn_buf *b, const void *p, size_t n)
{
    cn_buf_grow(b, n);
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
}

void cn_buf_puts(cn_buf *b, const char *s)
{
    cn_buf_append(b, s, strlen(s));
}

void cn_buf_putc(cn_buf *b, char c)
{
    cn_buf_append(b, &c, 1);
}

void cn_buf_vprintf(cn_buf *b, const char *fmt, va_list ap)
{
    va_list ap2;
    va_copy(ap2, ap);
    cn_buf_grow(b, 64);
    int n = vsnprintf(b->data + b->len, b->cap - b->len, fmt, ap);
    if (n < 0) {
        va_end(ap2);
        return;
    }
    if ((size_t)n >= b->cap - b->len) {
        cn_buf_grow(b, (size_t)n);
        vsnprintf(b->data + b->len, b->cap - b->len, fmt, ap2);
    }
    va_end(ap2);
    b->len += (size_t)n;
}

void cn_buf_printf(cn_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    cn_buf_vprintf(b, fmt, ap);
    va_end(ap);
}

void cn_buf_clear(cn_buf *b)
{
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
}

void cn_buf_release(cn_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

char *cn_buf_detach(cn_buf *b)
{
    char *s = b->data ? b->data : cn_xstrdup("");
    b->data = NULL;
    b->len = b->cap = 0;
    return s;
}

const char *cn_buf_str(const cn_buf *b)
{
    return b->data ? b->data : "";
}

void cn_csv_put_field(cn_buf *b, const char *s, bool quote_blank)
{
    bool quote = strpbrk(s, ",\"\r\n") != NULL ||
                 (quote_blank && (*s == '\0' || s[0] == ' ' || s[strlen(s) - 1] == ' '));
    if (!quote) {
        cn_buf_puts(b, s);
        return;
    }
    cn_buf_putc(b, '"');
    for (; *s; s++) {
        if (*s == '"')
            cn_buf_putc(b, '"');
        cn_buf_putc(b, *s);
    }
    cn_buf_putc(b, '"');
}
