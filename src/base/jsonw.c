/* SPDX-License-Identifier: MIT */
/* jsonw.c - the streaming JSON writer behind the CLI's --json output (see jsonw.h). Base code:
 * no jansson here, whose homes are the format parsers and the servers. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "base/jsonw.h"
#include "base/str.h"
#include "base/xmalloc.h"
#include "base/banned.h"

#define FLUSH_AT 16384

void cn_jsonw_init(cn_jsonw *w, FILE *out, int indent)
{
    memset(w, 0, sizeof *w);
    w->out = out;
    w->indent = indent < 0 ? 0 : indent;
}

void cn_jsonw_release(cn_jsonw *w)
{
    cn_buf_release(&w->buf);
}

static void flush(cn_jsonw *w)
{
    if (!w->out || w->buf.len == 0)
        return;
    if (fwrite(w->buf.data, 1, w->buf.len, w->out) != w->buf.len)
        w->failed = true;
    cn_buf_clear(&w->buf);
}

bool cn_jsonw_finish(cn_jsonw *w)
{
    CN_ASSERT(w->depth == 0 && !w->after_key);
    cn_buf_putc(&w->buf, '\n');
    flush(w);
    if (w->out && fflush(w->out) != 0)
        w->failed = true;
    return !w->failed;
}

/* Whether the items of the containers at depth are on one line. */
static bool is_flat(const cn_jsonw *w, int depth)
{
    return (w->flat_from > 0 && depth >= w->flat_from) || (w->flat_at > 0 && depth >= w->flat_at);
}

void cn_jsonw_flat(cn_jsonw *w)
{
    w->flat_next = true;
}

static void newline(cn_jsonw *w)
{
    if (!w->indent)
        return;
    if (is_flat(w, w->depth)) {
        if (w->has_items[w->depth])
            cn_buf_putc(&w->buf, ' '); /* after the comma */
        return;
    }
    cn_buf_putc(&w->buf, '\n');
    for (int i = 0; i < w->depth * w->indent; i++)
        cn_buf_putc(&w->buf, ' ');
}

/* Everything a value needs before it: a comma and a line break inside containers. */
static void before_value(cn_jsonw *w)
{
    if (w->after_key) {
        w->after_key = false;
        return;
    }
    if (w->depth > 0) {
        if (w->has_items[w->depth])
            cn_buf_putc(&w->buf, ',');
        newline(w);
    }
    w->has_items[w->depth] = true;
}

static void after_value(cn_jsonw *w)
{
    if (w->buf.len >= FLUSH_AT)
        flush(w);
}

static void container_open(cn_jsonw *w, char c)
{
    before_value(w);
    CN_ASSERT(w->depth < CN_JSONW_MAX_DEPTH);
    cn_buf_putc(&w->buf, c);
    w->depth++;
    w->has_items[w->depth] = false;
    if (w->flat_next && w->flat_at == 0)
        w->flat_at = w->depth;
    w->flat_next = false;
}

static void container_close(cn_jsonw *w, char c)
{
    CN_ASSERT(w->depth > 0 && !w->after_key);
    bool had = w->has_items[w->depth], flat = is_flat(w, w->depth);
    if (w->flat_at == w->depth)
        w->flat_at = 0;
    w->depth--;
    if (had && !flat)
        newline(w);
    cn_buf_putc(&w->buf, c);
    after_value(w);
}

void cn_jsonw_object_begin(cn_jsonw *w)
{
    container_open(w, '{');
}

void cn_jsonw_object_end(cn_jsonw *w)
{
    container_close(w, '}');
}

void cn_jsonw_array_begin(cn_jsonw *w)
{
    container_open(w, '[');
}

void cn_jsonw_array_end(cn_jsonw *w)
{
    container_close(w, ']');
}

void cn_jsonw_key(cn_jsonw *w, const char *key)
{
    CN_ASSERT(w->depth > 0 && !w->after_key);
    before_value(w);
    cn_json_quote(&w->buf, key, strlen(key));
    cn_buf_puts(&w->buf, w->indent ? ": " : ":");
    w->after_key = true;
}

void cn_jsonw_string_len(cn_jsonw *w, const char *s, size_t len)
{
    before_value(w);
    cn_json_quote(&w->buf, s, len);
    after_value(w);
}

void cn_jsonw_string(cn_jsonw *w, const char *s)
{
    if (!s) {
        cn_jsonw_null(w);
        return;
    }
    cn_jsonw_string_len(w, s, strlen(s));
}

void cn_jsonw_int(cn_jsonw *w, int64_t v)
{
    before_value(w);
    cn_buf_printf(&w->buf, "%lld", (long long)v);
    after_value(w);
}

void cn_jsonw_uint(cn_jsonw *w, uint64_t v)
{
    before_value(w);
    cn_buf_printf(&w->buf, "%llu", (unsigned long long)v);
    after_value(w);
}

/* A value already in JSON form (a number checked by cn_json_is_number). */
static void cn_jsonw_raw(cn_jsonw *w, const char *text)
{
    before_value(w);
    cn_buf_puts(&w->buf, text);
    after_value(w);
}

void cn_jsonw_double(cn_jsonw *w, double v)
{
    if (isnan(v)) {
        cn_jsonw_string(w, "NaN");
        return;
    }
    if (isinf(v)) {
        cn_jsonw_string(w, v > 0 ? "Infinity" : "-Infinity");
        return;
    }
    char text[32];
    cn_json_format_double(v, text, sizeof text);
    before_value(w);
    cn_buf_puts(&w->buf, text);
    after_value(w);
}

void cn_jsonw_double_or_null(cn_jsonw *w, double v)
{
    if (isfinite(v))
        cn_jsonw_double(w, v);
    else
        cn_jsonw_null(w);
}

void cn_jsonw_bool(cn_jsonw *w, bool v)
{
    before_value(w);
    cn_buf_puts(&w->buf, v ? "true" : "false");
    after_value(w);
}

void cn_jsonw_null(cn_jsonw *w)
{
    before_value(w);
    cn_buf_puts(&w->buf, "null");
    after_value(w);
}

void cn_jsonw_kstring(cn_jsonw *w, const char *key, const char *s)
{
    cn_jsonw_key(w, key);
    cn_jsonw_string(w, s);
}

void cn_jsonw_kint(cn_jsonw *w, const char *key, int64_t v)
{
    cn_jsonw_key(w, key);
    cn_jsonw_int(w, v);
}

void cn_jsonw_kuint(cn_jsonw *w, const char *key, uint64_t v)
{
    cn_jsonw_key(w, key);
    cn_jsonw_uint(w, v);
}

void cn_jsonw_kdouble(cn_jsonw *w, const char *key, double v)
{
    cn_jsonw_key(w, key);
    cn_jsonw_double(w, v);
}

void cn_jsonw_kbool(cn_jsonw *w, const char *key, bool v)
{
    cn_jsonw_key(w, key);
    cn_jsonw_bool(w, v);
}

void cn_jsonw_strings(cn_jsonw *w, const char *const *v, size_t n)
{
    cn_jsonw_array_begin(w);
    for (size_t i = 0; i < n; i++)
        cn_jsonw_string(w, v[i]);
    cn_jsonw_array_end(w);
}

bool cn_json_is_number(const char *s)
{
    /* The JSON grammar: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
    const char *p = s;
    if (*p == '-')
        p++;
    if (*p == '0')
        p++;
    else if (*p >= '1' && *p <= '9')
        while (*p >= '0' && *p <= '9')
            p++;
    else
        return false;
    if (*p == '.') {
        p++;
        if (!(*p >= '0' && *p <= '9'))
            return false;
        while (*p >= '0' && *p <= '9')
            p++;
    }
    if (*p == 'e' || *p == 'E') {
        p++;
        if (*p == '+' || *p == '-')
            p++;
        if (!(*p >= '0' && *p <= '9'))
            return false;
        while (*p >= '0' && *p <= '9')
            p++;
    }
    return *p == '\0';
}

void cn_json_write_map(cn_buf *out, const char *const *keys, const char *const *values, size_t n)
{
    cn_jsonw w;
    cn_jsonw_init(&w, NULL, 1);
    w.flat_from = 1;
    cn_jsonw_object_begin(&w);
    for (size_t i = 0; i < n; i++) {
        cn_jsonw_key(&w, keys[i]);
        if (cn_json_is_number(values[i])) {
            cn_jsonw_raw(&w, values[i]);
        } else {
            cn_jsonw_string(&w, values[i]);
        }
    }
    cn_jsonw_object_end(&w);
    cn_buf_append(out, w.buf.data, w.buf.len);
    cn_jsonw_release(&w);
}

/* Length of the valid UTF-8 sequence at p (at most n bytes), or 0 when invalid. In that case
 * *skip is the length of the maximal invalid subpart, replaced by one U+FFFD (Unicode 15,
 * section 3.9, "U+FFFD Substitution of Maximal Subparts"). */
static size_t utf8_seq(const unsigned char *p, size_t n, size_t *skip)
{
    unsigned char c = p[0];
    size_t len;
    unsigned char lo = 0x80, hi = 0xBF; /* allowed range of the second byte */
    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF) {
        len = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
        len = 3;
        if (c == 0xE0)
            lo = 0xA0; /* no overlong forms */
        else if (c == 0xED)
            hi = 0x9F; /* no surrogates */
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4;
        if (c == 0xF0)
            lo = 0x90;
        else if (c == 0xF4)
            hi = 0x8F; /* nothing above U+10FFFF */
    } else {
        *skip = 1;
        return 0;
    }
    for (size_t i = 1; i < len; i++) {
        unsigned char b = i < n ? p[i] : 0;
        bool ok = i < n && (i == 1 ? (b >= lo && b <= hi) : (b >= 0x80 && b <= 0xBF));
        if (!ok) {
            *skip = i;
            return 0;
        }
    }
    return len;
}

void cn_json_quote(cn_buf *b, const char *s, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    cn_buf_grow(b, len + 2);
    cn_buf_putc(b, '"');
    while (i < len) {
        unsigned char c = p[i];
        if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
            size_t j = i;
            while (j < len && p[j] >= 0x20 && p[j] < 0x80 && p[j] != '"' && p[j] != '\\')
                j++;
            cn_buf_append(b, p + i, j - i);
            i = j;
            continue;
        }
        if (c < 0x80) {
            char esc[7] = {'\\', 0, 0, 0, 0, 0, 0};
            switch (c) {
            case '"': esc[1] = '"'; break;
            case '\\': esc[1] = '\\'; break;
            case '\b': esc[1] = 'b'; break;
            case '\f': esc[1] = 'f'; break;
            case '\n': esc[1] = 'n'; break;
            case '\r': esc[1] = 'r'; break;
            case '\t': esc[1] = 't'; break;
            default:
                esc[1] = 'u';
                esc[2] = '0';
                esc[3] = '0';
                esc[4] = hex[c >> 4];
                esc[5] = hex[c & 15];
            }
            cn_buf_puts(b, esc);
            i++;
            continue;
        }
        size_t skip = 0;
        size_t n = utf8_seq(p + i, len - i, &skip);
        if (n) {
            cn_buf_append(b, p + i, n);
            i += n;
        } else {
            cn_buf_puts(b, "\xEF\xBF\xBD");
            i += skip;
        }
    }
    cn_buf_putc(b, '"');
}

void cn_json_format_double(double v, char *out, size_t size)
{
    CN_ASSERT(size >= 32 && isfinite(v));
    cn_format_double_short(v, out, size);
    if (!strpbrk(out, ".e")) {
        size_t n = strlen(out);
        if (n + 3 <= size)
            memcpy(out + n, ".0", 3);
    }
}
