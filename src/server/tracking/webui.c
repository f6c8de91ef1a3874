/* SPDX-License-Identifier: MIT */
/* webui.c - serves the embedded web UI (webui.h). The bundle's file names carry a hash of
 * their content (web/build.mjs), so /static/ files are cached for good and index.html, which
 * names them, is revalidated on every load (its ETag makes that a 304). index.html holds the
 * boot script and the stylesheet inline; the bundle's csp.txt (never served) gives their
 * SHA-256 hashes, which the Content-Security-Policy allows by name, not 'unsafe-inline'. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include "tracking/webui.h"
#include "base/str.h"
#include "base/banned.h"

#define WEBUI_CSP_FMT                                                                              \
    "default-src 'self'; script-src 'self'%s%.*s; style-src 'self'%s%.*s; "                        \
    "img-src 'self' data: blob:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
#define WEBUI_CSP_HASHES "csp.txt" /* line 1: the inline script's hash, line 2: the style's */
#define WEBUI_CSP_MAX_HASHES 256

static const trk_webui_file *find_file(const char *rel)
{
    for (size_t i = 0; i < trk_webui_n_files; i++)
        if (strcmp(trk_webui_files[i].path, rel) == 0)
            return &trk_webui_files[i];
    return NULL;
}

bool trk_webui_etag_matches(const char *inm, const char *etag)
{
    if (!inm)
        return false;
    size_t n = strlen(etag);
    for (const char *p = inm; *p;) {
        while (*p == ' ' || *p == ',')
            p++;
        if (*p == '*')
            return true;
        if (p[0] == 'W' && p[1] == '/')
            p += 2;
        if (strncmp(p, etag, n) == 0 && (p[n] == '\0' || p[n] == ',' || p[n] == ' '))
            return true;
        while (*p && *p != ',')
            p++;
    }
    return false;
}

/* The line-th line (0-based) of the bundle's csp.txt: its start and length (0 when absent or
 * not made of hash sources, so that nothing but 'sha256-...' words reach the header). */
static const char *csp_line(int line, int *len)
{
    *len = 0;
    const trk_webui_file *f = find_file(WEBUI_CSP_HASHES);
    if (!f)
        return "";
    const char *p = (const char *)f->data, *end = p + f->len;
    for (int i = 0; i < line && p < end; i++) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        p = nl ? nl + 1 : end;
    }
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    size_t n = (size_t)((nl ? nl : end) - p);
    if (n == 0 || n > WEBUI_CSP_MAX_HASHES || strncmp(p, "'sha256-", 8) != 0)
        return "";
    for (size_t i = 0; i < n; i++)
        if (p[i] == ';' || p[i] == ',' || (unsigned char)p[i] < 0x20)
            return "";
    *len = (int)n;
    return p;
}

/* The Content-Security-Policy, built once from the embedded csp.txt (which cannot change while
 * the server runs) on the first response that needs it and then shared by every response. */
static char csp_header[512 + 2 * WEBUI_CSP_MAX_HASHES];
static pthread_once_t csp_once = PTHREAD_ONCE_INIT;

static void build_csp(void)
{
    int script_n, style_n;
    const char *script = csp_line(0, &script_n), *style = csp_line(1, &style_n);
    snprintf(csp_header, sizeof csp_header, WEBUI_CSP_FMT, script_n ? " " : "", script_n, script,
             style_n ? " " : "", style_n, style);
}

static void security_headers(http_response *resp)
{
    pthread_once(&csp_once, build_csp);
    http_add_header(resp, "Content-Security-Policy", csp_header);
    http_add_header(resp, "X-Content-Type-Options", "nosniff");
    http_add_header(resp, "Referrer-Policy", "no-referrer");
}

bool trk_webui_serve(const http_request *req, http_response *resp)
{
    if (strcmp(req->method, "GET") != 0 && strcmp(req->method, "HEAD") != 0)
        return false;
    const char *path = req->path;
    const trk_webui_file *f = NULL;
    bool is_static = cn_str_starts(path, "/static/");
    if (is_static)
        f = find_file(path + 1);
    else
        f = find_file("index.html"); /* "/" and the client's routes */
    security_headers(resp);
    cn_buf_release(&resp->body);
    if (!f) {
        resp->status = 404;
        resp->content_type = "text/plain; charset=utf-8";
        cn_buf_puts(&resp->body, is_static ? "no such file in the web UI's bundle\n"
                                           : "this cairn was built without its web UI\n");
        return true;
    }
    http_add_header(resp, "ETag", f->etag);
    http_add_header(resp, "Cache-Control",
                    is_static ? "public, max-age=31536000, immutable" : "no-cache");
    if (trk_webui_etag_matches(http_header(req, "If-None-Match"), f->etag)) {
        resp->status = 304;
        resp->content_type = f->content_type;
        return true;
    }
    resp->status = 200;
    resp->content_type = f->content_type;
    cn_buf_append(&resp->body, f->data, f->len);
    return true;
}
