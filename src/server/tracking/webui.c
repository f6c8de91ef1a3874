/* SPDX-License-Identifier: MIT */
/* webui.c - serves the embedded web UI (webui.h). The bundle's file names carry a hash of
 * their content (web/build.mjs), so /static/ files are cached for good and index.html, which
 * names them, is revalidated on every load (its ETag makes that a 304). */
#include <string.h>
#include <strings.h>
#include "tracking/webui.h"
#include "base/str.h"
#include "base/banned.h"

#define WEBUI_CSP                                                                                  \
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "        \
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'"

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

static void security_headers(http_response *resp)
{
    http_add_header(resp, "Content-Security-Policy", WEBUI_CSP);
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
