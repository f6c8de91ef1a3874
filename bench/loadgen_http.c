/* SPDX-License-Identifier: MIT */
/* loadgen_http.c - the HTTP/1.1 response parser of cairn-loadgen (see loadgen_http.h). */
#include "loadgen_http.h"

#include <string.h>
#include <strings.h>
#include "base/banned.h"

#define CHUNK_MAX ((uint64_t)1 << 40)

static const char *find_crlf(const char *p, const char *end)
{
    while (p + 1 < end) {
        const char *cr = memchr(p, '\r', (size_t)(end - p - 1));
        if (!cr)
            return NULL;
        if (cr[1] == '\n')
            return cr;
        p = cr + 1;
    }
    return NULL;
}

/* Is the header value v[0 .. n) a comma list holding token (case-insensitive)? */
static bool has_token(const char *v, size_t n, const char *token)
{
    size_t tlen = strlen(token);
    size_t i = 0;
    while (i < n) {
        while (i < n && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
            i++;
        size_t s = i;
        while (i < n && v[i] != ',')
            i++;
        size_t e = i;
        while (e > s && (v[e - 1] == ' ' || v[e - 1] == '\t'))
            e--;
        if (e - s == tlen && strncasecmp(v + s, token, tlen) == 0)
            return true;
    }
    return false;
}

static bool name_is(const char *p, size_t n, const char *name)
{
    return strlen(name) == n && strncasecmp(p, name, n) == 0;
}

/* Parses the head buf[r->start .. head_end) (head_end is just past the blank line). */
static int parse_head(lg_resp *r, const char *buf, size_t head_end, bool no_body)
{
    const char *p = buf + r->start;
    const char *end = buf + head_end;
    const char *eol = find_crlf(p, end);
    if (!eol || eol - p < 12 || memcmp(p, "HTTP/1.", 7) != 0 || (p[7] != '0' && p[7] != '1') ||
        p[8] != ' ')
        return -1;
    bool is_http10 = p[7] == '0';
    int status = 0;
    for (int i = 9; i < 12; i++) {
        if (p[i] < '0' || p[i] > '9')
            return -1;
        status = status * 10 + (p[i] - '0');
    }
    if (status < 100 || (eol - p > 12 && p[12] != ' '))
        return -1;
    bool has_length = false, is_chunked = false, is_close = is_http10, is_keep_alive = false;
    uint64_t length = 0;
    for (p = eol + 2; p < end - 2; p = eol + 2) {
        eol = find_crlf(p, end);
        if (!eol)
            return -1;
        const char *colon = memchr(p, ':', (size_t)(eol - p));
        if (!colon || colon == p)
            return -1;
        size_t nlen = (size_t)(colon - p);
        const char *v = colon + 1;
        while (v < eol && (*v == ' ' || *v == '\t'))
            v++;
        size_t vlen = (size_t)(eol - v);
        if (name_is(p, nlen, "content-length")) {
            uint64_t n = 0;
            size_t i = 0;
            for (; i < vlen && v[i] >= '0' && v[i] <= '9'; i++) {
                if (n > CHUNK_MAX)
                    return -1;
                n = n * 10 + (uint64_t)(v[i] - '0');
            }
            while (i < vlen && (v[i] == ' ' || v[i] == '\t'))
                i++;
            if (i == 0 || i != vlen || (has_length && n != length))
                return -1;
            has_length = true;
            length = n;
        } else if (name_is(p, nlen, "transfer-encoding")) {
            if (has_token(v, vlen, "chunked"))
                is_chunked = true;
        } else if (name_is(p, nlen, "connection")) {
            if (has_token(v, vlen, "close"))
                is_close = true;
            if (has_token(v, vlen, "keep-alive"))
                is_keep_alive = true;
        }
    }
    if (is_http10 && is_keep_alive)
        is_close = false;
    if (status < 200) {
        /* An interim response (100 Continue): the final one follows. */
        r->start = head_end;
        r->scan = head_end;
        return 0;
    }
    r->status = status;
    r->is_close = is_close;
    r->body = head_end;
    if (no_body || status == 204 || status == 304) {
        r->state = LG_DONE;
        r->end = head_end;
    } else if (is_chunked) {
        r->state = LG_BODY_CHUNKED;
        r->chunk = head_end;
    } else if (has_length) {
        r->state = LG_BODY_LENGTH;
        r->length = length;
    } else {
        r->state = LG_BODY_EOF;
        r->is_close = true;
    }
    return 0;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Walks chunks from r->chunk; returns 1 at the end of the trailers, 0 for more, -1 on junk. */
static int parse_chunks(lg_resp *r, const char *buf, size_t len)
{
    for (;;) {
        const char *p = buf + r->chunk;
        const char *eol = find_crlf(p, buf + len);
        if (!eol)
            return len - r->chunk > 1024 ? -1 : 0;
        if (r->in_trailers) {
            r->chunk = (size_t)(eol + 2 - buf);
            if (eol == p) {
                r->end = r->chunk;
                r->state = LG_DONE;
                return 1;
            }
            continue;
        }
        uint64_t size = 0;
        const char *q = p;
        for (; q < eol && hexval(*q) >= 0; q++) {
            size = size * 16 + (uint64_t)hexval(*q);
            if (size > CHUNK_MAX)
                return -1;
        }
        if (q == p || (q < eol && *q != ';' && *q != ' ' && *q != '\t'))
            return -1;
        size_t data = (size_t)(eol + 2 - buf);
        if (size == 0) {
            r->in_trailers = true;
            r->chunk = data;
            continue;
        }
        if (len < data || len - data < size + 2)
            return 0;
        if (buf[data + size] != '\r' || buf[data + size + 1] != '\n')
            return -1;
        r->chunk = data + (size_t)size + 2;
    }
}

int lg_resp_parse(lg_resp *r, const char *buf, size_t len, bool no_body)
{
    while (r->state == LG_HEAD) {
        size_t from = r->scan > r->start + 3 ? r->scan - 3 : r->start;
        const char *hit = NULL;
        for (const char *p = buf + from; p + 3 < buf + len; p++) {
            p = memchr(p, '\r', (size_t)(buf + len - 3 - p));
            if (!p)
                break;
            if (p[1] == '\n' && p[2] == '\r' && p[3] == '\n') {
                hit = p;
                break;
            }
        }
        if (!hit) {
            r->scan = len;
            return len - r->start > LG_HEAD_MAX ? -1 : 0;
        }
        size_t head_end = (size_t)(hit + 4 - buf);
        if (head_end - r->start > LG_HEAD_MAX)
            return -1;
        if (parse_head(r, buf, head_end, no_body) < 0)
            return -1;
    }
    switch (r->state) {
    case LG_DONE: return 1;
    case LG_BODY_LENGTH:
        if (len - r->body < r->length)
            return 0;
        r->end = r->body + (size_t)r->length;
        r->state = LG_DONE;
        return 1;
    case LG_BODY_CHUNKED: return parse_chunks(r, buf, len);
    case LG_BODY_EOF: return 0;
    case LG_HEAD: break;
    }
    return -1;
}

int lg_resp_eof(lg_resp *r, size_t len)
{
    if (r->state != LG_BODY_EOF)
        return r->state == LG_DONE ? 1 : -1;
    r->end = len;
    r->state = LG_DONE;
    return 1;
}
