/* SPDX-License-Identifier: MIT */
/* webui.h - the web UI's files, embedded at build time (tools/embed_web.c from web/), and their
 * serving by `cairn server`: / and unknown non-API paths answer index.html (the UI routes on
 * the client), /static/<file> the bundle's files, with a strict Content-Security-Policy. */
#ifndef TRK_WEBUI_H
#define TRK_WEBUI_H
#include <stdbool.h>
#include <stddef.h>
#include "http/http.h"

typedef struct trk_webui_file {
    const char *path;         /* relative to the bundle, '/'-separated; NULL ends the table */
    const char *content_type; /* from the extension */
    const char *etag;         /* quoted, from the content */
    const unsigned char *data;
    size_t len;
} trk_webui_file;

extern const trk_webui_file trk_webui_files[];
extern const size_t trk_webui_n_files;

/* Answers a GET or HEAD of a non-API path with the UI's file for it: "/" and unknown paths
 * get index.html, "/static/<f>" the file f (404 when absent). Returns false for a method the
 * UI does not take (resp then holds nothing). */
bool trk_webui_serve(const http_request *req, http_response *resp);

/* True when an If-None-Match header value (NULL: none) lists etag, weak or strong, or is
 * "*". etag is quoted, as in the table. */
bool trk_webui_etag_matches(const char *inm, const char *etag);
#endif
