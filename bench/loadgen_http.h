/* SPDX-License-Identifier: MIT */
/* loadgen_http.h - an incremental HTTP/1.1 response parser for cairn-loadgen (bench/loadgen.c):
 * finds where one response ends (Content-Length, chunked, or the connection's close) and reads
 * its status and Connection header. The buffer holds the whole response; the parser keeps
 * offsets into it, so the caller may append bytes and call again. Fuzzed by
 * fuzz/fuzz_loadgen_http.c. libc only. */
#ifndef LG_HTTP_H
#define LG_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LG_HEAD_MAX 65536 /* bytes of status line and headers */

enum lg_resp_state { LG_HEAD, LG_BODY_LENGTH, LG_BODY_CHUNKED, LG_BODY_EOF, LG_DONE };

typedef struct lg_resp {
    enum lg_resp_state state;
    int status;       /* the final (non-1xx) status code */
    bool is_close;    /* the server closes the connection after this response */
    size_t start;     /* offset where the current head starts (moves past 1xx heads) */
    size_t scan;      /* where the search for the end of the head resumes */
    size_t body;      /* offset of the first body byte */
    uint64_t length;  /* Content-Length */
    size_t chunk;     /* offset of the next chunk-size line, or of the trailers */
    bool in_trailers; /* the last (zero) chunk was seen */
    size_t end;       /* when done: offset just past the response */
} lg_resp;

#define LG_RESP_INIT                                                                               \
    {                                                                                              \
        LG_HEAD, 0, false, 0, 0, 0, 0, 0, false, 0                                                 \
    }

/* Parses buf[0 .. len), which starts with the response and grows between calls.
 * no_body: the request was HEAD (the response has a head only).
 * Returns 1 when the response is complete (r->end, r->status set), 0 when more bytes are
 * needed, -1 when the bytes are not an HTTP/1.x response. */
int lg_resp_parse(lg_resp *r, const char *buf, size_t len, bool no_body);

/* The peer closed the connection after len bytes. Returns 1 when that completes the response
 * (a body delimited by the close), else -1. */
int lg_resp_eof(lg_resp *r, size_t len);

#endif
