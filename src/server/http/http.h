/* SPDX-License-Identifier: MIT */
/* http.h - the servers' HTTP glue on libmicrohttpd (the one home of MHD_*): a thread pool that
 * reads a request (headers, query string, body buffered up to a limit or streamed to a file),
 * hands it to the application's handler and sends the response it fills in; limits against
 * oversized and slow clients; an access log; a graceful stop. The tracking server
 * (src/server/tracking) and later the model server build on it. */
#ifndef HTTP_H
#define HTTP_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "base/buf.h"

/* ---- query strings (query.c) ---- */

#define HTTP_QUERY_MAX_PARAMS 1024
/* Open connections at most: the workers watch their sockets with select(2), which takes
 * descriptors below FD_SETSIZE (1024), and the server keeps some of those for itself. */
#define HTTP_CONN_LIMIT_MAX 960

typedef struct http_param {
    char *key;
    char *value;
} http_param;

/* The parameters of a query string in order; a key may repeat (?run_id=a&run_id=b). */
typedef struct http_query {
    size_t n, cap;
    http_param *items;
} http_query;

/* Parses "a=1&b=x%20y&b=z" (no leading '?'): '+' is a space, %XX escapes decoded. Returns 0, or
 * -1 with a message in err for a bad escape, a NUL byte, invalid UTF-8 or more than
 * HTTP_QUERY_MAX_PARAMS parameters. "a" alone is a = "". */
int http_query_parse(const char *qs, size_t len, http_query *out, char *err, size_t errlen);
void http_query_release(http_query *q);
/* The first value of key, or NULL. */
const char *http_query_get(const http_query *q, const char *key);
/* Decodes %XX escapes of in[0..len) into out (appending); '+' becomes a space when plus_space.
 * Returns -1 for a malformed escape or a decoded NUL byte. */
int http_percent_decode(const char *in, size_t len, bool plus_space, cn_buf *out);
/* True when s[0..len) is valid UTF-8 without C0 control characters other than tab. */
bool http_text_ok(const char *s, size_t len);

/* ---- requests and responses ---- */

typedef struct http_request {
    const char *method; /* "GET", "POST", ... */
    char *raw_uri;      /* as sent: path and query */
    char *path;         /* the path, percent-decoded once; NULL when it did not decode */
    char *raw_path;     /* the path as sent, before decoding */
    http_query query;
    bool query_bad; /* the query string did not parse (query_err says why) */
    char query_err[160];
    cn_buf body; /* the body, when buffered */
    bool body_too_large;
    /* Streaming: begin() may set sink_fd to a file the body is written to instead of `body`
     * (an artifact upload); sink_bytes counts what arrived, sink_failed an I/O error. */
    int sink_fd;
    uint64_t sink_bytes;
    uint64_t sink_limit;
    int sink_errno;
    char remote[64]; /* the client's address */
    void *conn;      /* the MHD connection */
    int64_t start_ns;
    /* Set by the application for the access log. */
    char user[256];
    void *app_state; /* the application's per-request state */
    /* Filled by the glue after the response is queued. */
    int status;
    uint64_t resp_bytes;
} http_request;

/* A request header (case-insensitive name), or NULL; valid while the request is handled. */
const char *http_header(const http_request *req, const char *name);

#define HTTP_MAX_EXTRA_HEADERS 8

typedef struct http_response {
    int status;               /* 0 means 200 */
    const char *content_type; /* static string; NULL: application/json */
    cn_buf body;
    int fd; /* >= 0: send this file (fd_size bytes from offset 0) instead of body */
    uint64_t fd_size;
    size_t n_headers;
    char *headers[HTTP_MAX_EXTRA_HEADERS][2]; /* owned; added with http_add_header() */
} http_response;

void http_add_header(http_response *resp, const char *name, const char *value);

typedef struct http_app_ops {
    /* The headers have arrived, the body not yet. Return false to answer at once with what
     * resp holds (a refusal: the body is then not read). May set req->sink_fd (and
     * sink_limit) to stream the body to a file. */
    bool (*begin)(void *app, http_request *req, http_response *resp);
    /* The whole request has arrived: fill resp. */
    void (*handle)(void *app, http_request *req, http_response *resp);
    /* The request is over (completed true: the response was sent in full). Frees app_state,
     * closes and removes a sink the handler did not keep. May be NULL. */
    void (*finish)(void *app, http_request *req, bool completed);
} http_app_ops;

/* ---- answers that come later (a group commit, a queue) ----
 * A handler that cannot answer yet calls http_suspend() and returns; what it put in resp is
 * dropped. The connection's worker goes on serving its other connections meanwhile. Later,
 * from any thread, http_resume() gives the request its answer, and the worker sends it (the
 * worker's own thread resumes the connection, between two turns of its loop; a worker asleep
 * is woken, no system call otherwise). The
 * request (and its app_state, body, query) stays valid until then, and finish() runs after
 * the answer went out, as for any request. Every suspended request must be resumed exactly
 * once: http_stop() waits for that. */
typedef struct http_pending http_pending;
/* Suspends req's connection; call it only from handle(). */
http_pending *http_suspend(http_request *req);
/* Answers a suspended request with resp, whose contents move (resp is left empty), and
 * resumes its connection. p is gone after the call. */
void http_resume(http_pending *p, http_response *resp);
/* Answers n suspended requests at once (p[i] with resps[i]), as n calls of http_resume() would,
 * but wakes each worker concerned once, after all are handed over. */
void http_resume_many(http_pending **p, http_response *resps, size_t n);

typedef struct http_config {
    const char *host;      /* address to bind; NULL: 127.0.0.1 */
    int port;              /* 0: a free port */
    int workers;           /* threads; 0: 4 */
    size_t max_body;       /* a buffered body over this is refused with 413; 0: 64 MiB */
    unsigned timeout_s;    /* an idle connection is closed after this; 0: 30 */
    unsigned conn_limit;   /* open connections at most; 0: HTTP_CONN_LIMIT_MAX */
    unsigned per_ip_limit; /* open connections per client address; 0: 256 */
    size_t conn_memory;    /* per-connection memory for headers and the URI; 0: 64 KiB */
    FILE *access_log;      /* one line per request; NULL: none */
} http_config;

typedef struct http_server http_server;

/* Starts listening and serving. NULL on failure with the reason in err. */
http_server *http_start(const http_config *cfg, const http_app_ops *ops, void *app, char *err,
                        size_t errlen);
/* The port bound (useful with port 0). */
int http_port(const http_server *s);
/* Requests being handled right now. */
int http_in_flight(const http_server *s);
/* Stops accepting new connections; requests under way go on. */
void http_quiesce(http_server *s);
/* Waits up to grace_ms for requests under way to finish, and for as long as it takes for
 * suspended ones to be resumed, then stops every thread and closes every connection. NULL is a
 * no-op. */
void http_stop(http_server *s, int grace_ms);

/* ---- stop signals ----
 * SIGTERM and SIGINT go to a handler that writes to a pipe http_stop_signal_wait() reads.
 * Blocking them and sigwait() is not enough: threads that libraries start before main
 * (OpenBLAS, OpenMP) do not block them, and one of those would take the signal and die of it.
 * Returns false, with the reason in err, when the pipe cannot be made. */
bool http_stop_signals_install(char *err, size_t errlen);
/* Waits for SIGTERM or SIGINT and returns it. */
int http_stop_signal_wait(void);
/* Restores the default actions and closes the pipe. */
void http_stop_signals_remove(void);

/* Status text for a code ("Not Found"). */
const char *http_status_text(int status);
#endif
