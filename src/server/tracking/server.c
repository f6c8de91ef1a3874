/* SPDX-License-Identifier: MIT */
/* server.c - the tracking server's core: one store connection per worker thread, the request
 * checks every route shares (Host and Origin, content type, JSON body), the dispatch from
 * /api/2.0/ and /ajax-api/2.0/ paths to the route tables, and the graceful stop on SIGTERM. */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "tracking/group.h"
#include "tracking/summarize.h"
#include "tracking/trk.h"
#include "tracking/webui.h"
#include "base/fs.h"
#include "base/str.h"
#include "base/xmalloc.h"
#include "base/banned.h"

_Static_assert(CN_SERVER_CONN_LIMIT_MAX == HTTP_CONN_LIMIT_MAX, "one connection limit");

/* One worker per processor and one more: while a worker waits (for the group writer, for its
 * client), another has the processor. On 2 processors 3 workers answered log-metric 4% faster
 * than 4 and 15% faster than 2 (docs/bench.md). */
int trk_default_workers(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 3 : n > 63 ? 64 : (int)n + 1;
}

struct trk_app {
    trk_config cfg;
    char *root; /* the artifact root, absolute and resolved */
    pthread_key_t ctx_key;
    pthread_mutex_t lock; /* guards ctxs */
    cairn_ctx **ctxs;     /* every worker's connection, closed at the stop */
    size_t n_ctxs, cap_ctxs;
    char **allowed_hosts;
    size_t n_allowed_hosts;
    bool any_host;
    char **cors;
    size_t n_cors;
    trk_group *group; /* the log routes' group commit; NULL: none */
};

trk_group *trk_app_group(const trk_app *app)
{
    return app ? app->group : NULL; /* no app: a route run outside a server (the fuzz target) */
}

const char *trk_artifact_root(const trk_app *app)
{
    return app->root;
}

const trk_config *trk_app_config(const trk_app *app)
{
    return &app->cfg;
}

static void split_list(const char *s, char ***out, size_t *n)
{
    *out = NULL;
    *n = 0;
    if (!s)
        return;
    char *copy = cn_xstrdup(s), *save = NULL;
    for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        while (*t == ' ')
            t++;
        if (!*t)
            continue;
        *out = cn_xrealloc(*out, (*n + 1) * sizeof **out);
        (*out)[(*n)++] = cn_xstrdup(t);
    }
    free(copy);
}

/* This thread's store connection, opened on its first request. */
static cairn_ctx *thread_ctx(trk_app *app, char *err, size_t errlen)
{
    cairn_ctx *ctx = pthread_getspecific(app->ctx_key);
    if (ctx)
        return ctx;
    cairn_open_opts o = CAIRN_OPEN_OPTS_INIT;
    o.artifact_root = app->root;
    cairn_status st = cairn_open(app->cfg.store_uri, &o, &ctx);
    if (st != CAIRN_OK) {
        snprintf(err, errlen, "%s", ctx ? cairn_errmsg(ctx) : cairn_status_str(st));
        cairn_close(ctx);
        return NULL;
    }
    pthread_setspecific(app->ctx_key, ctx);
    pthread_mutex_lock(&app->lock);
    if (app->n_ctxs == app->cap_ctxs) {
        app->cap_ctxs = app->cap_ctxs ? app->cap_ctxs * 2 : 8;
        app->ctxs = cn_xrealloc(app->ctxs, app->cap_ctxs * sizeof *app->ctxs);
    }
    app->ctxs[app->n_ctxs++] = ctx;
    pthread_mutex_unlock(&app->lock);
    return ctx;
}

/* ---- answers outside a call ---- */

static void plain_error(http_response *resp, int status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void plain_error(http_response *resp, int status, const char *code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    cn_buf msg = CN_BUF_INIT;
    cn_buf_vprintf(&msg, fmt, ap);
    va_end(ap);
    cn_jsonw w;
    cn_jsonw_init(&w, NULL, 0);
    cn_jsonw_object_begin(&w);
    cn_jsonw_kstring(&w, "error_code", code);
    cn_jsonw_kstring(&w, "message", cn_buf_str(&msg));
    cn_jsonw_object_end(&w);
    cn_jsonw_finish(&w);
    cn_buf_release(&resp->body);
    resp->body = w.buf;
    w.buf = (cn_buf)CN_BUF_INIT;
    cn_jsonw_release(&w);
    cn_buf_release(&msg);
    resp->status = status;
    resp->content_type = "application/json";
}

static void plain_text(http_response *resp, int status, const char *text)
{
    cn_buf_release(&resp->body);
    cn_buf_puts(&resp->body, text);
    resp->status = status;
    resp->content_type = "text/plain; charset=utf-8";
}

/* ---- Host and Origin: against DNS rebinding and other sites' pages ---- */

static bool is_ip_literal(const char *h, size_t n)
{
    if (n >= 2 && h[0] == '[') /* [v6] */
        return h[n - 1] == ']';
    for (size_t i = 0; i < n; i++)
        if (!(h[i] == '.' || (h[i] >= '0' && h[i] <= '9')))
            return false;
    return n > 0;
}

/* The host part of "host[:port]" (v6 literals keep their brackets). */
static size_t host_part(const char *hp)
{
    if (hp[0] == '[') {
        const char *e = strchr(hp, ']');
        return e ? (size_t)(e - hp) + 1 : strlen(hp);
    }
    const char *colon = strrchr(hp, ':');
    return colon ? (size_t)(colon - hp) : strlen(hp);
}

static bool host_allowed(const trk_app *app, const char *hostport)
{
    if (app->any_host)
        return true;
    size_t n = host_part(hostport);
    if (is_ip_literal(hostport, n))
        return true;
    if (n == 9 && strncasecmp(hostport, "localhost", 9) == 0)
        return true;
    for (size_t i = 0; i < app->n_allowed_hosts; i++) {
        const char *a = app->allowed_hosts[i];
        if (strlen(a) == n && strncasecmp(a, hostport, n) == 0)
            return true;
        if (strcasecmp(a, hostport) == 0)
            return true;
    }
    return false;
}

static bool origin_allowed(const trk_app *app, const char *origin, const char *host)
{
    if (!origin || !*origin)
        return true;
    for (size_t i = 0; i < app->n_cors; i++)
        if (strcmp(app->cors[i], "*") == 0 || strcasecmp(app->cors[i], origin) == 0)
            return true;
    /* Same origin: "http://<the Host header>". */
    const char *p = strstr(origin, "://");
    return p && host && strcasecmp(p + 3, host) == 0;
}

/* ---- dispatch ---- */

static const char *api_suffix(const char *path)
{
    if (cn_str_starts(path, "/api/2.0/"))
        return path + 9;
    if (cn_str_starts(path, "/ajax-api/2.0/"))
        return path + 14;
    return NULL;
}

static unsigned method_bit(const char *m)
{
    if (strcmp(m, "GET") == 0 || strcmp(m, "HEAD") == 0)
        return TRK_GET;
    if (strcmp(m, "POST") == 0)
        return TRK_POST;
    if (strcmp(m, "PATCH") == 0)
        return TRK_PATCH;
    if (strcmp(m, "DELETE") == 0)
        return TRK_DELETE;
    if (strcmp(m, "PUT") == 0)
        return TRK_PUT;
    return 0;
}

static const trk_route *find_route(const char *suffix, unsigned *methods_seen)
{
    static const struct {
        const trk_route *routes;
        const size_t *n;
    } tables[] = {{trk_tracking_routes, &trk_n_tracking_routes},
                  {trk_registry_routes, &trk_n_registry_routes},
                  {trk_ui_routes, &trk_n_ui_routes}};
    *methods_seen = 0;
    for (size_t t = 0; t < sizeof tables / sizeof tables[0]; t++)
        for (size_t i = 0; i < *tables[t].n; i++)
            if (strcmp(tables[t].routes[i].path, suffix) == 0)
                return &tables[t].routes[i];
    return NULL;
}

#define ARTIFACTS_PREFIX "mlflow-artifacts/artifacts"

static bool app_begin(void *vapp, http_request *req, http_response *resp)
{
    trk_app *app = vapp;
    const char *host = http_header(req, "Host");
    if (host && !host_allowed(app, host)) {
        plain_error(resp, 403, "PERMISSION_DENIED",
                    "Host '%.100s' is not served here (a DNS-rebinding guard); a deployment "
                    "behind a proxy names its host names with --allowed-hosts",
                    host);
        return false;
    }
    const char *origin = http_header(req, "Origin");
    if (!origin_allowed(app, origin, host)) {
        plain_error(resp, 403, "PERMISSION_DENIED",
                    "requests from pages of origin '%.100s' are refused; allow it with "
                    "--cors-origins",
                    origin);
        return false;
    }
    if (!req->path) {
        plain_error(resp, 400, "INVALID_PARAMETER_VALUE",
                    "the request path holds a malformed %%-escape, a NUL byte or invalid UTF-8");
        return false;
    }
    if (req->query_bad) {
        plain_error(resp, 400, "INVALID_PARAMETER_VALUE", "%s", req->query_err);
        return false;
    }
    const char *suffix = api_suffix(req->path);
    if (app->cfg.auth && suffix) {
        char err[512];
        cairn_ctx *ctx = thread_ctx(app, err, sizeof err);
        if (!ctx) {
            plain_error(resp, 503, "TEMPORARILY_UNAVAILABLE", "the store cannot be opened: %s",
                        err);
            return false;
        }
        if (!trk_auth_authenticate(app, ctx, req, resp))
            return false;
        if (cn_str_starts(suffix, ARTIFACTS_PREFIX "/") && strcmp(req->method, "PUT") == 0) {
            trk_call c = {.app = app, .req = req, .resp = resp, .ctx = ctx, .user = req->user};
            cn_jsonw_init(&c.w, NULL, 0);
            bool ok = trk_auth_artifact_path(&c, suffix + strlen(ARTIFACTS_PREFIX "/"));
            if (!ok) {
                cn_jsonw_finish(&c.w);
                cn_buf_release(&resp->body);
                resp->body = c.w.buf;
                c.w.buf = (cn_buf)CN_BUF_INIT;
            }
            cn_jsonw_release(&c.w);
            if (!ok)
                return false;
        }
    }
    if (suffix && cn_str_starts(suffix, ARTIFACTS_PREFIX))
        return trk_artifacts_begin(app, req, resp);
    return true;
}

/* The parameters as one JSON object: the body of a POST/PATCH/DELETE, else the query string
 * (a repeated key becomes an array). */
static bool read_params(trk_call *c, unsigned method)
{
    http_request *req = c->req;
    if (req->body_too_large)
        return trk_fail(c, 413, "INVALID_PARAMETER_VALUE",
                        "the request body is over the server's limit of %zu bytes (the "
                        "--max-body option); split the request (log-batch takes 1000 metrics)",
                        c->app->cfg.max_body);
    if (method == TRK_GET) {
        c->in = json_object();
        for (size_t i = 0; i < req->query.n; i++) {
            const char *k = req->query.items[i].key, *v = req->query.items[i].value;
            json_t *old = json_object_get(c->in, k);
            if (!old) {
                json_object_set_new(c->in, k, json_string(v));
            } else if (json_is_array(old)) {
                json_array_append_new(old, json_string(v));
            } else {
                json_t *arr = json_array();
                json_array_append(arr, old);
                json_array_append_new(arr, json_string(v));
                json_object_set_new(c->in, k, arr);
            }
        }
        return true;
    }
    if (req->body.len == 0) {
        c->in = json_object();
        return true;
    }
    const char *ct = http_header(req, "Content-Type");
    if (!ct || strncasecmp(ct, "application/json", 16) != 0 ||
        (ct[16] != '\0' && ct[16] != ';' && ct[16] != ' '))
        return trk_fail(c, 400, "INVALID_PARAMETER_VALUE",
                        "Bad Request. Content-Type must be one of ['application/json'] (got "
                        "'%.80s')",
                        ct ? ct : "none");
    json_error_t jerr;
    c->in = json_loadb(req->body.data, req->body.len, 0, &jerr);
    if (!c->in)
        return trk_fail(c, 400, "INVALID_PARAMETER_VALUE",
                        "malformed JSON body at line %d column %d: %s (a bare NaN is not JSON: "
                        "send \"NaN\")",
                        jerr.line, jerr.column, jerr.text);
    if (!json_is_object(c->in))
        return trk_fail(c, 400, "INVALID_PARAMETER_VALUE",
                        "the JSON body must be an object of parameters");
    return true;
}

static void app_handle(void *vapp, http_request *req, http_response *resp)
{
    trk_app *app = vapp;
    const char *path = req->path;
    if (strcmp(path, "/health") == 0 || strcmp(path, "/ping") == 0) {
        plain_text(resp, 200, "OK");
        return;
    }
    if (strcmp(path, "/version") == 0) {
        plain_text(resp, 200, cairn_version());
        return;
    }
    const char *suffix = api_suffix(path);
    if (!suffix) {
        /* Not the API: the web UI's files, or its index.html for the client's routes. */
        bool api_like = cn_str_starts(path, "/api/") || cn_str_starts(path, "/ajax-api/");
        if (!api_like && trk_webui_serve(req, resp))
            return;
        plain_error(resp, 404, "ENDPOINT_NOT_FOUND", "no page at %.200s", path);
        return;
    }
    trk_call call = {.app = app, .req = req, .resp = resp};
    cn_jsonw_init(&call.w, NULL, 0);
    char err[512];
    call.ctx = thread_ctx(app, err, sizeof err);
    if (app->cfg.auth && req->user[0])
        call.user = req->user;
    unsigned method = method_bit(req->method);
    if (cn_str_starts(suffix, "mlflow-artifacts/mpu/")) {
        trk_fail(&call, 501, "NOT_IMPLEMENTED",
                 "Multipart upload is not supported for the current artifact repository; "
                 "upload with a single PUT");
    } else if (!call.ctx) {
        trk_fail(&call, 503, "TEMPORARILY_UNAVAILABLE", "the store cannot be opened: %s", err);
    } else if (cn_str_starts(suffix, ARTIFACTS_PREFIX)) {
        const char *rel = suffix + strlen(ARTIFACTS_PREFIX);
        if (*rel && *rel != '/') {
            trk_fail(&call, 404, "ENDPOINT_NOT_FOUND", "no API endpoint at %.200s", path);
        } else {
            /* The raw path, so that an escaped '/' or '..' is judged after one decoding. */
            const char *qpath = NULL;
            if (method == TRK_GET && !*rel && !read_params(&call, method)) {
                /* answered */
            } else if (call.user && method != TRK_PUT && !*rel &&
                       !trk_str(&call, "path", false, &qpath)) {
                /* answered */
            } else if (call.user && method != TRK_PUT &&
                       !trk_auth_artifact_path(&call, *rel    ? rel
                                                      : qpath ? qpath
                                                              : "")) {
                /* refused */
            } else {
                trk_artifacts_handle(&call, rel);
            }
        }
    } else if (cn_str_starts(suffix, "mlflow/logged-models") &&
               (suffix[20] == '\0' || suffix[20] == '/')) {
        if (read_params(&call, method) && trk_auth_authorize(&call, suffix)) {
            cn_jsonw_object_begin(&call.w);
            trk_logged_models_route(&call, suffix + 20, method);
            if (!call.failed)
                cn_jsonw_object_end(&call.w);
        }
    } else {
        unsigned seen;
        const trk_route *r = find_route(suffix, &seen);
        if (!r) {
            trk_fail(&call, 404, "ENDPOINT_NOT_FOUND", "no API endpoint at %.200s", path);
        } else if (!(r->methods & method)) {
            cn_buf takes = CN_BUF_INIT;
            static const struct {
                unsigned bit;
                const char *name;
            } names[] = {{TRK_GET, "GET"},
                         {TRK_POST, "POST"},
                         {TRK_PATCH, "PATCH"},
                         {TRK_DELETE, "DELETE"},
                         {TRK_PUT, "PUT"}};
            for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
                if (r->methods & names[i].bit)
                    cn_buf_printf(&takes, "%s%s", takes.len ? ", " : "", names[i].name);
            http_add_header(resp, "Allow", cn_buf_str(&takes));
            trk_fail(&call, 405, "BAD_REQUEST", "%.200s does not take %s (it takes %s)", path,
                     req->method, cn_buf_str(&takes));
            cn_buf_release(&takes);
        } else if (read_params(&call, method) && trk_auth_authorize(&call, suffix)) {
            cn_jsonw_object_begin(&call.w);
            r->fn(&call);
            if (!call.failed)
                cn_jsonw_object_end(&call.w);
        }
    }
    if (call.resp->fd < 0 && !call.resp->body.len) {
        cn_jsonw_finish(&call.w);
        resp->body = call.w.buf;
        call.w.buf = (cn_buf)CN_BUF_INIT;
        if (!resp->content_type)
            resp->content_type = "application/json";
    }
    cn_jsonw_release(&call.w);
    json_decref(call.in);
}

static void app_finish(void *vapp, http_request *req, bool completed)
{
    trk_artifacts_finish(vapp, req, completed);
}

/* The thread that waits for the stop signals, and the handler that hands it one another
 * thread received (pthread_kill is async-signal-safe). Atomic: the handler runs in a thread
 * that nothing orders after the store of it. */
static _Atomic(pthread_t) stop_waiter;

static void forward_stop(int sig)
{
    pthread_kill(atomic_load(&stop_waiter), sig);
}

static const http_app_ops app_ops = {app_begin, app_handle, app_finish};

int trk_serve(const trk_config *cfg)
{
    trk_app app = {.cfg = *cfg};
    FILE *out = cfg->out ? cfg->out : stdout;
    if (!app.cfg.max_body)
        app.cfg.max_body = 64u << 20;
    if (!app.cfg.max_artifact_bytes)
        app.cfg.max_artifact_bytes = 64ull << 30;
    if (!app.cfg.grace_ms)
        app.cfg.grace_ms = 10000;
    split_list(cfg->allowed_hosts, &app.allowed_hosts, &app.n_allowed_hosts);
    for (size_t i = 0; i < app.n_allowed_hosts; i++)
        app.any_host |= strcmp(app.allowed_hosts[i], "*") == 0;
    split_list(cfg->cors_origins, &app.cors, &app.n_cors);
    pthread_mutex_init(&app.lock, NULL);
    pthread_key_create(&app.ctx_key, NULL);

    /* Open the store once here: migrations run now, and a bad URI fails before listening. */
    cairn_open_opts o = CAIRN_OPEN_OPTS_INIT;
    o.artifact_root = cfg->artifact_root;
    cairn_ctx *ctx = NULL;
    int rc = 1;
    http_server *srv = NULL;
    trk_summarizer *summarizer = NULL;
    if (cairn_open(cfg->store_uri, &o, &ctx) != CAIRN_OK) {
        fprintf(stderr, "cairn: error: %s\n", ctx ? cairn_errmsg(ctx) : "cannot open the store");
        goto done;
    }
    const char *root = cairn_artifact_root(ctx);
    if (cn_fs_mkdirs(root, 0755) != 0) {
        fprintf(stderr,
                "cairn: error: cannot create the artifact root %s: %s; give a writable folder "
                "with --artifacts\n",
                root, strerror(errno));
        goto done;
    }
    char resolved[PATH_MAX];
    if (!realpath(root, resolved)) {
        fprintf(stderr, "cairn: error: cannot resolve the artifact root %s: %s\n", root,
                strerror(errno));
        goto done;
    }
    app.root = cn_xstrdup(resolved);

    /* Block the stop signals in every thread; this one waits for them. (`cairn serve` takes
     * them through http_stop_signals_install() instead: it predicts with OpenBLAS, whose
     * threads do not block them. The tracking server never starts those threads, and a
     * handler with a pipe left it deaf to SIGTERM under ThreadSanitizer.) */
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);
    /* Threads a library started before main (OpenBLAS's pool) do not block them: a stop signal
     * the kernel hands to one of those is passed on to this thread, instead of killing the
     * process by the default action. */
    atomic_store(&stop_waiter, pthread_self());
    struct sigaction fwd;
    memset(&fwd, 0, sizeof fwd);
    fwd.sa_handler = forward_stop;
    sigemptyset(&fwd.sa_mask);
    sigaction(SIGTERM, &fwd, NULL);
    sigaction(SIGINT, &fwd, NULL);
    signal(SIGPIPE, SIG_IGN);
    char err[512];

    http_config hc = {.host = cfg->host,
                      .port = cfg->port,
                      .workers = cfg->workers > 0 ? cfg->workers : trk_default_workers(),
                      .max_body = app.cfg.max_body,
                      .timeout_s = cfg->timeout_s,
                      .conn_limit = cfg->conn_limit,
                      .per_ip_limit = cfg->per_ip_limit,
                      .access_log = cfg->access_log};
    app.group = trk_group_start(cfg->store_uri, app.root, err, sizeof err);
    if (!app.group)
        fprintf(stderr, "cairn: warning: no group commit (%s); each write commits alone\n", err);
    summarizer = trk_summarizer_start(cfg->store_uri, app.root, err, sizeof err);
    if (!summarizer)
        fprintf(stderr, "cairn: warning: no background summaries (%s); charts compute them\n", err);
    srv = http_start(&hc, &app_ops, &app, err, sizeof err);
    if (!srv) {
        fprintf(stderr, "cairn: error: %s\n", err);
        goto done;
    }
    fprintf(out, "cairn server listening on http://%s:%d (store %s, artifacts %s%s)\n",
            cfg->host ? cfg->host : "127.0.0.1", http_port(srv), cairn_store_uri(ctx), app.root,
            cfg->auth ? ", auth on" : "");
    fflush(out);
    int sig = 0;
    sigwait(&stop, &sig);
    fprintf(stderr, "cairn: %s: finishing %d request(s) under way, then stopping\n",
            sig == SIGTERM ? "SIGTERM" : "SIGINT", http_in_flight(srv));
    http_stop(srv, app.cfg.grace_ms);
    srv = NULL;
    rc = 0;
done:
    http_stop(srv, 0);
    trk_summarizer_stop(summarizer);
    trk_group_stop(app.group); /* after http_stop: it answers what http_stop waits for */
    for (size_t i = 0; i < app.n_ctxs; i++)
        cairn_close(app.ctxs[i]);
    free(app.ctxs);
    cairn_close(ctx);
    for (size_t i = 0; i < app.n_allowed_hosts; i++)
        free(app.allowed_hosts[i]);
    free(app.allowed_hosts);
    for (size_t i = 0; i < app.n_cors; i++)
        free(app.cors[i]);
    free(app.cors);
    free(app.root);
    pthread_key_delete(app.ctx_key);
    pthread_mutex_destroy(&app.lock);
    return rc;
}
