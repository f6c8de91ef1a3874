/* SPDX-License-Identifier: MIT */
/* http.c - libmicrohttpd glue: a pool of threads, each running a daemon of its own from its own
 * loop (select(2) over the daemon's sockets and a wake-up eventfd); a request is read in full (or
 * streamed to the application's file), then handled on the same thread. Responses are queued only
 * once the body is consumed: libmicrohttpd 0.9.75 closes the connection after a response queued in
 * the first call of a request, which costs keep-alive. The first call is where refusals (limits, a
 * foreign Host) are queued, on purpose. A handler may suspend its request (http_suspend);
 * http_resume, from any thread, puts the answer in the request's state and the request on its
 * worker's list of answered requests; the worker resumes them between two turns of its loop
 * (libmicrohttpd calls the access handler again, which queues the answer). Only a worker asleep in
 * select(2) is woken, once. */
#include "http/http.h"
#include <arpa/inet.h>
#include <errno.h>
#include <malloc.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include "base/str.h"
#include "base/time.h"
#include "base/xmalloc.h"
#include "base/banned.h"

/* One single-threaded daemon per worker, each with a listening socket of its own on the same
 * port (SO_REUSEPORT): the kernel spreads new connections evenly across them. One daemon with a
 * thread pool shares one socket, and whichever thread wakes first accepts a burst of
 * connections, so a few threads end up serving every client while the others idle. */
#define HTTP_MAX_WORKERS 256
/* malloc's fixed thresholds (see http_start). */
#define HTTP_MALLOC_MMAP (1 << 20)
#define HTTP_MALLOC_TRIM (8 << 20)

/* Open connections per client address, counted across the daemons (each daemon would only
 * count its own). */
typedef struct ip_count {
    unsigned char addr[16];
    int family;
    unsigned n;
} ip_count;

typedef struct http_conn_state http_conn_state;

/* A worker: one daemon in external-polling mode, run by one thread. Without an internal thread
 * libmicrohttpd makes no inter-thread channel, so MHD_resume_connection costs no system call;
 * it must then run on the worker's own thread, which takes the answered requests from `done`. */
typedef struct http_worker {
    struct http_server *s;
    struct MHD_Daemon *d;
    pthread_t thread;
    bool running;       /* the thread was started */
    int wake_fd;        /* an eventfd: written to wake the thread from select(2) */
    atomic_bool asleep; /* in select(2), or about to be: whoever clears it writes wake_fd */
    _Atomic(http_conn_state *) done; /* answered suspended requests, newest first */
    atomic_bool quiesce;             /* asked to stop accepting */
    atomic_bool quiesced;            /* and done so */
    atomic_bool stop;
} http_worker;

struct http_server {
    http_worker w[HTTP_MAX_WORKERS];
    int n_d;
    pthread_mutex_t conn_mu; /* guards the counts below */
    unsigned n_conns;
    ip_count *ips;
    size_t n_ips, cap_ips;
    const http_app_ops *ops;
    void *app;
    http_config cfg;
    int port;
    atomic_int in_flight;
    atomic_int n_suspended;
    /* Threads inside http_resume_many: they touch the workers (wake_sleepers) after their
     * last request is pushed, when its worker may already have resumed it; http_stop waits
     * for them before it frees the workers. */
    atomic_int n_resuming;
};

struct http_conn_state {
    http_request req; /* first: http_suspend finds the state from the request */
    http_server *server;
    http_worker *w;             /* the worker whose daemon holds the connection */
    http_conn_state *next_done; /* on w->done */
    bool started;               /* begin() ran */
    bool answered;
    bool suspended;      /* by http_suspend, until the answer is queued */
    atomic_bool resumed; /* http_resume handed over `later` (release; read with acquire) */
    http_response later; /* that answer */
};

const char *http_status_text(int status)
{
    switch (status) {
    case 200: return "OK";
    case 201: return "Created";
    case 204: return "No Content";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 409: return "Conflict";
    case 411: return "Length Required";
    case 413: return "Payload Too Large";
    case 414: return "URI Too Long";
    case 415: return "Unsupported Media Type";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 503: return "Service Unavailable";
    case 507: return "Insufficient Storage";
    default: return "Unknown";
    }
}

const char *http_header(const http_request *req, const char *name)
{
    return MHD_lookup_connection_value((struct MHD_Connection *)req->conn, MHD_HEADER_KIND, name);
}

void http_add_header(http_response *resp, const char *name, const char *value)
{
    if (resp->n_headers >= HTTP_MAX_EXTRA_HEADERS)
        return;
    resp->headers[resp->n_headers][0] = cn_xstrdup(name);
    resp->headers[resp->n_headers][1] = cn_xstrdup(value);
    resp->n_headers++;
}

static void response_release(http_response *resp)
{
    cn_buf_release(&resp->body);
    for (size_t i = 0; i < resp->n_headers; i++) {
        free(resp->headers[i][0]);
        free(resp->headers[i][1]);
    }
    resp->n_headers = 0;
    if (resp->fd >= 0)
        close(resp->fd);
    resp->fd = -1;
}

/* Queues resp on the connection; the response's memory passes to libmicrohttpd. */
static enum MHD_Result queue(http_conn_state *cs, http_response *resp)
{
    struct MHD_Connection *conn = cs->req.conn;
    struct MHD_Response *r;
    uint64_t bytes;
    if (resp->fd >= 0) {
        r = MHD_create_response_from_fd64(resp->fd_size, resp->fd);
        bytes = resp->fd_size;
        if (r)
            resp->fd = -1; /* libmicrohttpd closes it */
    } else {
        bytes = resp->body.len;
        char *data = resp->body.len ? cn_buf_detach(&resp->body) : NULL;
        r = MHD_create_response_from_buffer(bytes, data,
                                            data ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
    }
    if (!r) {
        response_release(resp);
        return MHD_NO;
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
                            resp->content_type ? resp->content_type : "application/json");
    for (size_t i = 0; i < resp->n_headers; i++)
        MHD_add_response_header(r, resp->headers[i][0], resp->headers[i][1]);
    int status = resp->status ? resp->status : 200;
    enum MHD_Result ok = MHD_queue_response(conn, (unsigned)status, r);
    MHD_destroy_response(r);
    response_release(resp);
    cs->req.status = status;
    cs->req.resp_bytes = bytes;
    cs->answered = true;
    return ok;
}

static void *on_uri(void *cls, const char *uri, struct MHD_Connection *conn)
{
    http_worker *w = cls;
    http_server *s = w->s;
    http_conn_state *cs = cn_xcalloc(1, sizeof *cs);
    cs->server = s;
    cs->w = w;
    cs->later.fd = -1;
    http_request *req = &cs->req;
    req->raw_uri = cn_xstrdup(uri ? uri : "");
    /* The query is parsed here (query.c), from the copy above. libmicrohttpd would split it
     * again into its per-connection memory, where a few thousand parameters run out of room
     * and the request is then never answered: empty it in libmicrohttpd's own (writable) line
     * buffer, which 0.9.75 parses right after this callback. */
    char *mhd_q = uri ? strchr((char *)(uintptr_t)uri, '?') : NULL;
    if (mhd_q && mhd_q[1])
        mhd_q[1] = '\0';
    req->conn = conn;
    req->sink_fd = -1;
    req->start_ns = cn_mono_ns();
    atomic_fetch_add(&s->in_flight, 1);

    const char *q = strchr(req->raw_uri, '?');
    size_t plen = q ? (size_t)(q - req->raw_uri) : strlen(req->raw_uri);
    /* A fragment is never sent by a browser; from anyone else it is part of nothing. */
    req->raw_path = cn_xmalloc(plen + 1);
    memcpy(req->raw_path, req->raw_uri, plen);
    req->raw_path[plen] = '\0';
    cn_buf path = CN_BUF_INIT;
    if (http_percent_decode(req->raw_path, plen, false, &path) == 0 &&
        http_text_ok(path.data ? path.data : "", path.len))
        req->path = cn_buf_detach(&path);
    else
        cn_buf_release(&path);
    if (q && http_query_parse(q + 1, strlen(q + 1), &req->query, req->query_err,
                              sizeof req->query_err) != 0)
        req->query_bad = true;

    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (ci && ci->client_addr) {
        const struct sockaddr *sa = ci->client_addr;
        if (sa->sa_family == AF_INET)
            inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr,
                      req->remote, sizeof req->remote);
        else if (sa->sa_family == AF_INET6)
            inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr,
                      req->remote, sizeof req->remote);
    }
    if (!req->remote[0])
        cn_strlcpy(req->remote, "-", sizeof req->remote);
    return cs;
}

static int sink_write(http_request *req, const char *data, size_t n)
{
    if (req->sink_errno)
        return 0;
    if (req->sink_limit && req->sink_bytes + n > req->sink_limit) {
        req->body_too_large = true;
        return 0;
    }
    while (n > 0) {
        ssize_t w = write(req->sink_fd, data, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            req->sink_errno = errno;
            return -1;
        }
        data += w;
        n -= (size_t)w;
        req->sink_bytes += (uint64_t)w;
    }
    return 0;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload,
                                  size_t *upload_size, void **con_cls)
{
    (void)url;
    (void)version;
    http_server *s = cls;
    http_conn_state *cs = *con_cls;
    if (!cs) /* no URI callback ran: cannot happen, but never crash on it */
        return MHD_NO;
    http_request *req = &cs->req;
    req->conn = conn;
    req->method = method;
    if (cs->suspended) { /* resumed: queue the answer http_resume handed over */
        if (!atomic_load_explicit(&cs->resumed, memory_order_acquire))
            return MHD_YES; /* cannot happen: libmicrohttpd calls back only once resumed */
        http_response later = cs->later;
        cs->later = (http_response){.fd = -1};
        cs->suspended = false;
        atomic_fetch_sub(&s->n_suspended, 1);
        return queue(cs, &later);
    }
    if (cs->answered) { /* a refusal went out; swallow the rest of the body */
        *upload_size = 0;
        return MHD_YES;
    }
    if (!cs->started) {
        cs->started = true;
        http_response resp = {.fd = -1};
        if (!s->ops->begin(s->app, req, &resp))
            return queue(cs, &resp);
        response_release(&resp);
        return MHD_YES;
    }
    if (*upload_size > 0) {
        if (req->sink_fd >= 0) {
            sink_write(req, upload, *upload_size);
        } else if (!req->body_too_large) {
            if (req->body.len + *upload_size > s->cfg.max_body) {
                req->body_too_large = true;
                cn_buf_release(&req->body);
            } else {
                cn_buf_append(&req->body, upload, *upload_size);
            }
        }
        *upload_size = 0;
        return MHD_YES;
    }
    http_response resp = {.fd = -1};
    s->ops->handle(s->app, req, &resp);
    if (cs->suspended) { /* the answer comes with http_resume */
        response_release(&resp);
        return MHD_YES;
    }
    return queue(cs, &resp);
}

http_pending *http_suspend(http_request *req)
{
    http_conn_state *cs = (http_conn_state *)req;
    CN_ASSERT(!cs->suspended && !cs->answered);
    atomic_fetch_add(&cs->server->n_suspended, 1);
    cs->suspended = true;
    MHD_suspend_connection(req->conn);
    return (http_pending *)cs;
}

static void worker_wake(http_worker *w)
{
    uint64_t one = 1;
    ssize_t n = write(w->wake_fd, &one, sizeof one);
    (void)n; /* a counter at its maximum already wakes the thread */
}

/* Wakes each of the n workers that sleeps. */
static void wake_sleepers(http_worker **w, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (atomic_exchange(&w[i]->asleep, false))
            worker_wake(w[i]);
}

void http_resume_many(http_pending **p, http_response *resps, size_t n)
{
    /* Each request goes onto its worker's list (a stack: the worker takes it whole); then each
     * worker that sleeps is woken, once, after all are queued: a worker woken at the first
     * answer would take that one alone. The pushes and the exchange of `asleep` are
     * sequentially consistent, as are the worker's store to `asleep` and its look at the list
     * before it sleeps: either it sees the request or we see it asleep. A request is not
     * touched once pushed (its worker may be done with it already). */
    if (n == 0)
        return;
    http_server *srv = ((http_conn_state *)p[0])->server;
    atomic_fetch_add(&srv->n_resuming, 1); /* before any push: see http_stop */
    http_worker *seen[16];
    size_t n_seen = 0;
    for (size_t i = 0; i < n; i++) {
        http_conn_state *cs = (http_conn_state *)p[i];
        http_worker *w = cs->w;
        CN_ASSERT(cs->server == srv);
        CN_ASSERT(!atomic_load_explicit(&cs->resumed, memory_order_relaxed));
        cs->later = resps[i];
        atomic_store_explicit(&cs->resumed, true, memory_order_release);
        resps[i] = (http_response){.fd = -1};
        size_t k = 0;
        while (k < n_seen && seen[k] != w)
            k++;
        if (k == n_seen) {
            if (n_seen == sizeof seen / sizeof *seen) {
                wake_sleepers(seen, n_seen);
                n_seen = 0;
            }
            seen[n_seen++] = w;
        }
        http_conn_state *head = atomic_load(&w->done);
        do
            cs->next_done = head;
        while (!atomic_compare_exchange_weak(&w->done, &head, cs));
    }
    wake_sleepers(seen, n_seen);
    atomic_fetch_sub(&srv->n_resuming, 1); /* the last touch of srv */
}

void http_resume(http_pending *p, http_response *resp)
{
    http_resume_many(&p, resp, 1);
}

/* Resumes the requests answered since the last turn, on the worker's thread. True if any. */
static bool resume_done(http_worker *w)
{
    http_conn_state *cs = atomic_exchange(&w->done, NULL);
    if (!cs)
        return false;
    for (http_conn_state *next; cs; cs = next) {
        next = cs->next_done;
        MHD_resume_connection(cs->req.conn);
    }
    return true;
}

/* The worker's loop: resume what was answered, wait for the daemon's sockets (and a wake-up) at
 * most until its next connection timeout, let the daemon process what is ready. */
static void *worker_main(void *arg)
{
    http_worker *w = arg;
    for (;;) {
        bool resumed = resume_done(w);
        if (resumed) {
            /* Without waiting: a turn with nothing ready lets the daemon take the resumed
             * requests back and queue their answers (the access handler), then a turn with
             * every connection that has something to send marked writable sends it: the
             * sockets do not block, and a full one just waits for the next select(2). */
            fd_set rs, ws, es;
            FD_ZERO(&rs);
            FD_ZERO(&ws);
            FD_ZERO(&es);
            MHD_run_from_select(w->d, &rs, &ws, &es);
            MHD_socket max = -1;
            MHD_get_fdset2(w->d, &rs, &ws, &es, &max, FD_SETSIZE);
            FD_ZERO(&rs);
            FD_ZERO(&es);
            MHD_run_from_select(w->d, &rs, &ws, &es);
        }
        if (atomic_load(&w->quiesce) && !atomic_load(&w->quiesced)) {
            MHD_socket fd = MHD_quiesce_daemon(w->d);
            if (fd != MHD_INVALID_SOCKET)
                close(fd);
            atomic_store(&w->quiesced, true);
        }
        if (atomic_load(&w->stop))
            break;
        fd_set rs, ws, es;
        FD_ZERO(&rs);
        FD_ZERO(&ws);
        FD_ZERO(&es);
        MHD_socket max = w->wake_fd;
        FD_SET(w->wake_fd, &rs);
        MHD_get_fdset2(w->d, &rs, &ws, &es, &max, FD_SETSIZE);
        struct timeval tv = {0, 0}, *tvp = &tv;
        MHD_UNSIGNED_LONG_LONG ms = 0;
        if (MHD_get_timeout(w->d, &ms) == MHD_YES) {
            tv.tv_sec = (time_t)(ms / 1000);
            tv.tv_usec = (suseconds_t)(ms % 1000) * 1000;
        } else {
            tvp = NULL;
        }
        bool sleeps = !tvp || tv.tv_sec || tv.tv_usec;
        if (sleeps) {
            atomic_store(&w->asleep, true);
            if (atomic_load(&w->done) || atomic_load(&w->stop) ||
                atomic_load(&w->quiesce) != atomic_load(&w->quiesced)) {
                atomic_store(&w->asleep, false);
                tv = (struct timeval){0, 0};
                tvp = &tv;
            }
        }
        int n = select(max + 1, &rs, &ws, &es, tvp);
        if (sleeps)
            atomic_store(&w->asleep, false);
        if (n < 0) { /* EINTR: nothing is ready; the daemon still checks its timeouts */
            FD_ZERO(&rs);
            FD_ZERO(&ws);
            FD_ZERO(&es);
        } else if (FD_ISSET(w->wake_fd, &rs)) {
            uint64_t v;
            ssize_t r = read(w->wake_fd, &v, sizeof v);
            (void)r;
        }
        MHD_run_from_select(w->d, &rs, &ws, &es);
    }
    return NULL;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)conn;
    http_server *s = cls;
    http_conn_state *cs = *con_cls;
    if (!cs)
        return;
    *con_cls = NULL;
    http_request *req = &cs->req;
    bool completed = toe == MHD_REQUEST_TERMINATED_COMPLETED_OK;
    if (s->ops->finish)
        s->ops->finish(s->app, req, completed);
    if (s->cfg.access_log && req->method) {
        double ms = (double)(cn_mono_ns() - req->start_ns) / 1e6;
        char when[32];
        time_t now = time(NULL);
        struct tm tm;
        gmtime_r(&now, &tm);
        strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
        /* The path as sent, cut short: a log line is no place for a megabyte of query. */
        fprintf(s->cfg.access_log, "%s %s %s \"%s %.200s\" %d %llu %.1fms%s\n", when, req->remote,
                req->user[0] ? req->user : "-", req->method, req->raw_uri,
                req->status ? req->status : 0, (unsigned long long)req->resp_bytes, ms,
                completed ? "" : " aborted");
    }
    if (req->sink_fd >= 0)
        close(req->sink_fd);
    free(req->raw_uri);
    free(req->raw_path);
    free(req->path);
    http_query_release(&req->query);
    cn_buf_release(&req->body);
    free(cs);
    atomic_fetch_sub(&s->in_flight, 1);
}

/* The address bytes of sa, for counting; false for a family we do not count. */
static bool addr_key(const struct sockaddr *sa, unsigned char key[16], int *family)
{
    memset(key, 0, 16);
    *family = sa ? sa->sa_family : 0;
    if (*family == AF_INET) {
        memcpy(key, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, 4);
        return true;
    }
    if (*family == AF_INET6) {
        memcpy(key, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, 16);
        return true;
    }
    return false;
}

/* The count of an address (under conn_mu); NULL when it has none and add is false. */
static ip_count *ip_find(http_server *s, const unsigned char key[16], int family, bool add)
{
    for (size_t i = 0; i < s->n_ips; i++)
        if (s->ips[i].family == family && memcmp(s->ips[i].addr, key, 16) == 0)
            return &s->ips[i];
    if (!add)
        return NULL;
    if (s->n_ips == s->cap_ips) {
        s->cap_ips = s->cap_ips ? 2 * s->cap_ips : 16;
        s->ips = cn_xrealloc(s->ips, s->cap_ips * sizeof *s->ips);
    }
    ip_count *c = &s->ips[s->n_ips++];
    memcpy(c->addr, key, 16);
    c->family = family;
    c->n = 0;
    return c;
}

/* Refuses a new connection over the server's limits (all daemons together). A few accepted
 * at the same instant by different daemons may pass the limit by one each: the count grows
 * once libmicrohttpd has set the connection up (on_connection). */
static enum MHD_Result on_accept(void *cls, const struct sockaddr *addr, socklen_t addrlen)
{
    (void)addrlen;
    http_server *s = cls;
    unsigned char key[16];
    int family;
    bool ok = true;
    pthread_mutex_lock(&s->conn_mu);
    if (s->n_conns >= s->cfg.conn_limit) {
        ok = false;
    } else if (addr_key(addr, key, &family)) {
        ip_count *c = ip_find(s, key, family, false);
        ok = !c || c->n < s->cfg.per_ip_limit;
    }
    pthread_mutex_unlock(&s->conn_mu);
    return ok ? MHD_YES : MHD_NO;
}

static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
                          enum MHD_ConnectionNotificationCode code)
{
    (void)socket_context;
    http_server *s = cls;
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    unsigned char key[16];
    int family;
    bool keyed = ci && addr_key(ci->client_addr, key, &family);
    pthread_mutex_lock(&s->conn_mu);
    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
        s->n_conns++;
        if (keyed)
            ip_find(s, key, family, true)->n++;
    } else if (code == MHD_CONNECTION_NOTIFY_CLOSED) {
        if (s->n_conns > 0)
            s->n_conns--;
        ip_count *c = keyed ? ip_find(s, key, family, false) : NULL;
        if (c && --c->n == 0) /* forget it: the table stays as small as the clients */
            *c = s->ips[--s->n_ips];
    }
    pthread_mutex_unlock(&s->conn_mu);
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    (void)fmt;
    (void)ap; /* libmicrohttpd's own complaints (a client that went away) are not ours */
}

/* External polling (the worker's loop, select(2)), not epoll: a suspended connection leaves
 * epoll's set and a resumed one rejoins it, two epoll_ctl calls per suspended request (every
 * log-metric and log-batch), about 5 µs of CPU per request on the machines measured
 * (docs/bench.md); the select set is rebuilt per turn from the daemon's own few connections
 * (the connections are spread over the daemons). And no internal thread: see http_worker.
 * select(2) means a connection whose descriptor is FD_SETSIZE (1024) or more is refused; the
 * default limit on open files is 1024 as well. */
static struct MHD_Daemon *start_daemon(http_worker *w, const struct addrinfo *ai)
{
    http_server *s = w->s;
    unsigned flags = MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;
    if (ai->ai_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    return MHD_start_daemon(
        flags, (uint16_t)s->cfg.port, on_accept, s, on_request, s, MHD_OPTION_SOCK_ADDR,
        ai->ai_addr, MHD_OPTION_LISTENING_ADDRESS_REUSE, 1u, MHD_OPTION_CONNECTION_TIMEOUT,
        s->cfg.timeout_s, MHD_OPTION_CONNECTION_LIMIT, s->cfg.conn_limit,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, s->cfg.conn_memory, MHD_OPTION_URI_LOG_CALLBACK, on_uri,
        w, MHD_OPTION_NOTIFY_COMPLETED, on_completed, s, MHD_OPTION_NOTIFY_CONNECTION,
        on_connection, s, MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, NULL,
        MHD_OPTION_LISTEN_BACKLOG_SIZE, 1024u, MHD_OPTION_END);
}

/* True when a socket without SO_REUSEPORT can bind the address: nobody listens there. */
static bool port_free(const struct addrinfo *ai)
{
    int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return true; /* let libmicrohttpd report it */
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one); /* TIME_WAIT is no listener */
    bool ok = bind(fd, ai->ai_addr, ai->ai_addrlen) == 0;
    close(fd);
    return ok;
}

/* Ends the workers' threads, then stops their daemons (closing every connection) on this one. */
static void stop_workers(http_server *s)
{
    for (int i = 0; i < s->n_d; i++) {
        atomic_store(&s->w[i].stop, true);
        worker_wake(&s->w[i]);
    }
    for (int i = 0; i < s->n_d; i++) {
        http_worker *w = &s->w[i];
        if (w->running)
            pthread_join(w->thread, NULL);
        w->running = false;
        if (w->d)
            MHD_stop_daemon(w->d);
        w->d = NULL;
        close(w->wake_fd);
    }
    s->n_d = 0;
}

static void http_fail_start(http_server *s, char *err, size_t errlen)
{
    snprintf(err, errlen,
             "cannot listen on %s port %d (in use, or not an address of this machine); "
             "pick another with --host/--port, or --port 0 for a free one",
             s->cfg.host, s->cfg.port);
    pthread_mutex_destroy(&s->conn_mu);
    free(s);
}

http_server *http_start(const http_config *cfg, const http_app_ops *ops, void *app, char *err,
                        size_t errlen)
{
    /* glibc's malloc adapts its thresholds to what was freed before: depending on that
     * history, a worker that frees a log-batch body and its JSON tree (a few hundred KB) gave
     * the memory back to the system (madvise) and took it again at every request, which cost
     * up to a third of the request's CPU (docs/bench.md). Fixed thresholds keep the memory of
     * up to HTTP_MALLOC_TRIM per thread's arena; blocks over HTTP_MALLOC_MMAP are mapped. */
    mallopt(M_MMAP_THRESHOLD, HTTP_MALLOC_MMAP);
    mallopt(M_TRIM_THRESHOLD, HTTP_MALLOC_TRIM);
    http_server *s = cn_xcalloc(1, sizeof *s);
    pthread_mutex_init(&s->conn_mu, NULL);
    s->cfg = *cfg;
    s->ops = ops;
    s->app = app;
    if (!s->cfg.host || !*s->cfg.host)
        s->cfg.host = "127.0.0.1";
    if (s->cfg.workers <= 0)
        s->cfg.workers = 4;
    if (!s->cfg.max_body)
        s->cfg.max_body = 64u << 20;
    if (!s->cfg.timeout_s)
        s->cfg.timeout_s = 30;
    if (!s->cfg.conn_limit || s->cfg.conn_limit > HTTP_CONN_LIMIT_MAX)
        s->cfg.conn_limit = HTTP_CONN_LIMIT_MAX;
    if (!s->cfg.per_ip_limit)
        s->cfg.per_ip_limit = 256;
    if (!s->cfg.conn_memory)
        s->cfg.conn_memory = 16u << 10;

    struct addrinfo hints = {
        .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV};
    struct addrinfo *ai = NULL;
    char portstr[16];
    snprintf(portstr, sizeof portstr, "%d", s->cfg.port);
    const char *host = s->cfg.host;
    char host6[128];
    if (host[0] == '[') { /* [::1] */
        cn_strlcpy(host6, host + 1, sizeof host6);
        char *end = strchr(host6, ']');
        if (end)
            *end = '\0';
        host = host6;
    }
    int gai = getaddrinfo(host, portstr, &hints, &ai);
    if (gai != 0 || !ai) {
        snprintf(err, errlen, "cannot resolve --host '%s': %s", s->cfg.host, gai_strerror(gai));
        pthread_mutex_destroy(&s->conn_mu);
        free(s);
        return NULL;
    }
    if (ai->ai_family == AF_INET)
        ((struct sockaddr_in *)(void *)ai->ai_addr)->sin_port = htons((uint16_t)s->cfg.port);
    else if (ai->ai_family == AF_INET6)
        ((struct sockaddr_in6 *)(void *)ai->ai_addr)->sin6_port = htons((uint16_t)s->cfg.port);
    /* SO_REUSEPORT would let a second server on the same port share it silently: make sure
     * nobody listens there first (a socket without the option cannot bind next to one). */
    if (s->cfg.port != 0 && !port_free(ai)) {
        freeaddrinfo(ai);
        http_fail_start(s, err, errlen);
        return NULL;
    }
    int n = s->cfg.workers < HTTP_MAX_WORKERS ? s->cfg.workers : HTTP_MAX_WORKERS;
    bool ok = true;
    for (int i = 0; i < n && ok; i++) {
        http_worker *w = &s->w[i];
        w->s = s;
        w->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (w->wake_fd < 0)
            break;
        if (w->wake_fd >= FD_SETSIZE) { /* select(2) could not watch it */
            close(w->wake_fd);
            break;
        }
        s->n_d++;
        w->d = start_daemon(w, ai);
        if (!w->d) {
            ok = false;
            break;
        }
        if (i == 0) { /* --port 0: the others bind the port the first was given */
            const union MHD_DaemonInfo *di = MHD_get_daemon_info(w->d, MHD_DAEMON_INFO_BIND_PORT);
            s->port = di ? di->port : s->cfg.port;
            if (ai->ai_family == AF_INET)
                ((struct sockaddr_in *)(void *)ai->ai_addr)->sin_port = htons((uint16_t)s->port);
            else
                ((struct sockaddr_in6 *)(void *)ai->ai_addr)->sin6_port = htons((uint16_t)s->port);
        }
    }
    freeaddrinfo(ai);
    ok = ok && s->n_d == n;
    for (int i = 0; i < s->n_d && ok; i++) {
        if (pthread_create(&s->w[i].thread, NULL, worker_main, &s->w[i]) != 0)
            ok = false;
        else
            s->w[i].running = true;
    }
    if (!ok) {
        stop_workers(s);
        http_fail_start(s, err, errlen);
        return NULL;
    }
    return s;
}

int http_port(const http_server *s)
{
    return s->port;
}

int http_in_flight(const http_server *s)
{
    return atomic_load(&((http_server *)s)->in_flight);
}

/* Stops accepting on every daemon; each worker quiesces its own (libmicrohttpd's state is its
 * thread's), and this waits until all have. */
void http_quiesce(http_server *s)
{
    if (!s)
        return;
    for (int i = 0; i < s->n_d; i++) {
        atomic_store(&s->w[i].quiesce, true);
        worker_wake(&s->w[i]);
    }
    for (int i = 0; i < s->n_d; i++)
        while (s->w[i].running && !atomic_load(&s->w[i].quiesced)) {
            struct timespec ts = {0, 1000000};
            nanosleep(&ts, NULL);
        }
}

void http_stop(http_server *s, int grace_ms)
{
    if (!s)
        return;
    http_quiesce(s);
    int64_t deadline = cn_mono_ns() + (int64_t)grace_ms * 1000000;
    /* Suspended requests are waited for past the grace: libmicrohttpd must not stop with a
     * connection suspended, and their application answers each of them. */
    /* n_resuming is read after n_suspended is seen at 0: a resumer counts itself before it
     * pushes the request whose resumption brings n_suspended to 0. */
    while ((atomic_load(&s->in_flight) > 0 && cn_mono_ns() < deadline) ||
           atomic_load(&s->n_suspended) > 0 || atomic_load(&s->n_resuming) > 0) {
        struct timespec ts = {0, 10 * 1000000};
        nanosleep(&ts, NULL);
    }
    stop_workers(s);
    pthread_mutex_destroy(&s->conn_mu);
    free(s->ips);
    free(s);
}

static int stop_pipe[2] = {-1, -1};

static void on_stop_signal(int sig)
{
    int saved = errno;
    unsigned char b = (unsigned char)sig;
    ssize_t w = write(stop_pipe[1], &b, 1);
    (void)w; /* a full pipe already holds a stop */
    errno = saved;
}

bool http_stop_signals_install(char *err, size_t errlen)
{
    if (pipe(stop_pipe) != 0) {
        snprintf(err, errlen, "cannot make a pipe for the stop signals: %s", strerror(errno));
        return false;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    return true;
}

int http_stop_signal_wait(void)
{
    unsigned char sig = 0;
    while (read(stop_pipe[0], &sig, 1) < 0 && errno == EINTR)
        continue;
    return sig;
}

void http_stop_signals_remove(void)
{
    signal(SIGTERM, SIG_DFL);
    signal(SIGINT, SIG_DFL);
    if (stop_pipe[0] >= 0) {
        close(stop_pipe[0]);
        close(stop_pipe[1]);
    }
    stop_pipe[0] = stop_pipe[1] = -1;
}
