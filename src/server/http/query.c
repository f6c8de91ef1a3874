/* SPDX-License-Identifier: MIT */
/* query.c - query strings and percent-decoding, on the bytes as the client sent them (the
 * server never lets libmicrohttpd decode for it, so repeated keys and every escape are seen). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "http/http.h"
#include "base/xmalloc.h"
#include "base/banned.h"

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int http_percent_decode(const char *in, size_t len, bool plus_space, cn_buf *out)
{
    cn_buf_grow(out, len);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)in[i];
        if (c == '%') {
            if (len - i < 3)
                return -1;
            int hi = hexval((unsigned char)in[i + 1]), lo = hexval((unsigned char)in[i + 2]);
            if (hi < 0 || lo < 0)
                return -1;
            c = (unsigned char)(hi * 16 + lo);
            i += 2;
        } else if (c == '+' && plus_space) {
            c = ' ';
        }
        if (c == '\0')
            return -1;
        cn_buf_putc(out, (char)c);
    }
    if (!out->data)
        cn_buf_puts(out, "");
    return 0;
}

bool http_text_ok(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s, *end = p + len;
    while (p < end) {
        unsigned c = *p;
        if (c < 0x80) {
            if ((c < 0x20 && c != '\t') || c == 0x7f)
                return false;
            p++;
            continue;
        }
        size_t n;
        unsigned cp;
        if ((c & 0xe0) == 0xc0) {
            n = 1;
            cp = c & 0x1f;
        } else if ((c & 0xf0) == 0xe0) {
            n = 2;
            cp = c & 0x0f;
        } else if ((c & 0xf8) == 0xf0) {
            n = 3;
            cp = c & 0x07;
        } else {
            return false;
        }
        if ((size_t)(end - p) <= n)
            return false;
        for (size_t k = 1; k <= n; k++) {
            if ((p[k] & 0xc0) != 0x80)
                return false;
            cp = (cp << 6) | (p[k] & 0x3f);
        }
        /* Overlong forms, surrogates and values past U+10FFFF are not UTF-8. */
        if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
            (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
            return false;
        p += n + 1;
    }
    return true;
}

int http_query_parse(const char *qs, size_t len, http_query *out, char *err, size_t errlen)
{
    size_t i = 0;
    while (i <= len) {
        size_t j = i;
        while (j < len && qs[j] != '&')
            j++;
        if (j > i) {
            const char *eq = memchr(qs + i, '=', j - i);
            size_t klen = eq ? (size_t)(eq - (qs + i)) : j - i;
            cn_buf k = CN_BUF_INIT, v = CN_BUF_INIT;
            int bad = http_percent_decode(qs + i, klen, true, &k);
            if (!bad && eq)
                bad = http_percent_decode(eq + 1, (size_t)(qs + j - eq - 1), true, &v);
            if (!bad && !v.data)
                cn_buf_puts(&v, "");
            if (!bad && (!http_text_ok(k.data, k.len) || !http_text_ok(v.data, v.len))) {
                snprintf(err, errlen,
                         "the query string holds invalid UTF-8 or a control "
                         "character");
                cn_buf_release(&k);
                cn_buf_release(&v);
                return -1;
            }
            if (bad) {
                snprintf(err, errlen,
                         "the query string holds a malformed %%-escape near "
                         "character %zu",
                         i + 1);
                cn_buf_release(&k);
                cn_buf_release(&v);
                return -1;
            }
            if (out->n >= HTTP_QUERY_MAX_PARAMS) {
                snprintf(err, errlen, "the query string has more than %d parameters",
                         HTTP_QUERY_MAX_PARAMS);
                cn_buf_release(&k);
                cn_buf_release(&v);
                return -1;
            }
            if (out->n == out->cap) {
                out->cap = out->cap ? out->cap * 2 : 8;
                out->items = cn_xrealloc(out->items, out->cap * sizeof *out->items);
            }
            out->items[out->n].key = cn_buf_detach(&k);
            out->items[out->n].value = cn_buf_detach(&v);
            out->n++;
        }
        i = j + 1;
    }
    return 0;
}

void http_query_release(http_query *q)
{
    for (size_t i = 0; i < q->n; i++) {
        free(q->items[i].key);
        free(q->items[i].value);
    }
    free(q->items);
    q->items = NULL;
    q->n = q->cap = 0;
}

const char *http_query_get(const http_query *q, const char *key)
{
    for (size_t i = 0; i < q->n; i++)
        if (strcmp(q->items[i].key, key) == 0)
            return q->items[i].value;
    return NULL;
}
