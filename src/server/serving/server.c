/* SPDX-License-Identifier: MIT */
/* server.c - `cairn serve`: resolves the model (a file, runs:/RUN/PATH, models:/NAME@ALIAS or
 * models:/NAME/VERSION) and loads it once, refuses a model without a drift reference profile
 * unless told why, starts the monitoring run, the predicting threads and the monitor, and
 * routes requests: MLflow's scoring protocol (/invocations, /ping, /health, /version), Open
 * Inference Protocol V2 (/v2/...) and GET /metrics. The request path never touches the store. */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include "cairn/registry.h"
#include "serving/msv.h"
#include "base/fs.h"
#include "base/jsonw.h"
#include "base/sha256.h"
#include "base/str.h"
#include "base/time.h"
#include "base/xmalloc.h"
#include "base/banned.h"

/* One served version: its model, predicting threads and (for the primary) its monitoring.
 * refs counts the requests that hold it, plus one while it is served; a version the alias
 * moved away from is freed by the poller once refs reaches 0. */
typedef struct msv_slot {
    msv_model model;
    char *spec; /* models:/NAME/VERSION, or the MODEL argument */
    msv_batcher *batcher;
    msv_window *window;
    msv_monitor *monitor;
    atomic_int refs;
    unsigned weight; /* its share of the --route split */
    bool shadow;
    atomic_uint_fast64_t n_requests; /* routed to it (or, for the shadow, mirrored to it) */
    atomic_uint_fast64_t n_failed;   /* of those, refused or failed (4xx, 5xx) */
    struct msv_slot *next;           /* in the retired list */
} msv_slot;

typedef struct msv_app {
    msv_config cfg;
    msv_metrics metrics;
    http_server *srv;
    cairn_run *run;
    /* The served versions: routes[0] is the primary (monitored, named by the metadata). */
    pthread_rwlock_t slots_lock;
    msv_slot **routes;
    size_t n_routes;
    unsigned total_weight;
    msv_slot *shadow;
    msv_slot *retired; /* swapped out, freed when no request holds them (poller only) */
    atomic_uint_fast64_t n_pick;
    pthread_mutex_t shadow_mu;
    FILE *shadow_log;
    /* models:/NAME@ALIAS: the poller that follows the alias. */
    char *alias_model, *alias;
    pthread_t poller;
    bool poller_running, poller_stop;
    pthread_mutex_t poll_mu;
    pthread_cond_t poll_cv;
    pthread_key_t ctx_key;
    pthread_mutex_t lock; /* guards ctxs */
    cairn_ctx **ctxs;     /* each worker's context (for building tables), closed at the stop */
    size_t n_ctxs, cap_ctxs;
    atomic_uint_fast64_t n_v2; /* V2 requests, for ids the client did not give */
} msv_app;

/* This worker's context, made on its first request. */
static cairn_ctx *thread_ctx(msv_app *app)
{
    cairn_ctx *ctx = pthread_getspecific(app->ctx_key);
    if (ctx)
        return ctx;
    ctx = cairn_ctx_new();
    pthread_setspecific(app->ctx_key, ctx);
    pthread_mutex_lock(&app->lock);
    if (app->n_ctxs == app->cap_ctxs) {
        app->cap_ctxs = app->cap_ctxs ? 2 * app->cap_ctxs : 8;
        app->ctxs = cn_xrealloc(app->ctxs, app->cap_ctxs * sizeof *app->ctxs);
    }
    app->ctxs[app->n_ctxs++] = ctx;
    pthread_mutex_unlock(&app->lock);
    return ctx;
}

/* ---- choosing a version ---- */

static uint64_t mix64(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

static uint64_t fnv1a(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return mix64(h);
}

/* The version that answers req (weighted, or by the sticky header's hash), held. */
static msv_slot *slot_pick(msv_app *app, const http_request *req)
{
    pthread_rwlock_rdlock(&app->slots_lock);
    msv_slot *s = app->routes[0];
    if (app->n_routes > 1) {
        const char *sticky =
            app->cfg.sticky_header && req ? http_header(req, app->cfg.sticky_header) : NULL;
        uint64_t h = sticky ? fnv1a(sticky) : mix64(atomic_fetch_add(&app->n_pick, 1));
        uint64_t x = h % app->total_weight;
        for (size_t i = 0; i < app->n_routes; i++) {
            if (x < app->routes[i]->weight) {
                s = app->routes[i];
                break;
            }
            x -= app->routes[i]->weight;
        }
    }
    atomic_fetch_add(&s->refs, 1);
    pthread_rwlock_unlock(&app->slots_lock);
    return s;
}

/* The routed version whose number is v[0..n), held, or NULL. */
static msv_slot *slot_find(msv_app *app, const char *v, size_t n)
{
    msv_slot *found = NULL;
    pthread_rwlock_rdlock(&app->slots_lock);
    for (size_t i = 0; i < app->n_routes && !found; i++) {
        const char *have = app->routes[i]->model.version;
        if (strlen(have) == n && strncmp(have, v, n) == 0)
            found = app->routes[i];
    }
    if (found)
        atomic_fetch_add(&found->refs, 1);
    pthread_rwlock_unlock(&app->slots_lock);
    return found;
}

/* The primary version (metadata, /metrics, error headers), held. */
static msv_slot *slot_primary(msv_app *app)
{
    pthread_rwlock_rdlock(&app->slots_lock);
    msv_slot *s = app->routes[0];
    atomic_fetch_add(&s->refs, 1);
    pthread_rwlock_unlock(&app->slots_lock);
    return s;
}

static void slot_release(msv_slot *s)
{
    if (s)
        atomic_fetch_sub(&s->refs, 1);
}

/* The shadow predicts the rows too; its answer goes to the log, never to the client. */
static void shadow_predict(msv_app *app, cairn_ctx *ctx, const msv_slot *served,
                           const cairn_table *rows)
{
    msv_slot *sh = app->shadow;
    size_t n = rows->n_rows;
    atomic_fetch_add(&sh->n_requests, 1);
    double *pred = cn_xmalloc((n ? n : 1) * sizeof *pred);
    cairn_status rc = n ? cairn_model_predict(ctx, sh->model.model, rows, NULL, n, pred) : CAIRN_OK;
    if (rc == CAIRN_OK && sh->window)
        msv_window_add(sh->window, rows, pred);
    cn_buf line = CN_BUF_INIT;
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    cn_buf_printf(&line,
                  "{\"time\": %.3f, \"served_by\": ", (double)now.tv_sec + now.tv_nsec / 1e9);
    cn_json_quote(&line, served->model.ident, strlen(served->model.ident));
    cn_buf_puts(&line, ", \"shadow\": ");
    cn_json_quote(&line, sh->model.ident, strlen(sh->model.ident));
    cn_buf_printf(&line, ", \"rows\": %zu, ", n);
    if (rc == CAIRN_OK) {
        msv_job fake = {.kind = MSV_JOB_MLFLOW};
        cn_buf preds = CN_BUF_INIT;
        msv_encode_predictions(&sh->model, &fake, pred, n, &preds);
        /* {"predictions": [...]} without its braces */
        cn_buf_append(&line, preds.data + 1, preds.len - 2);
        cn_buf_release(&preds);
    } else {
        atomic_fetch_add(&sh->n_failed, 1);
        cn_buf_puts(&line, "\"error\": ");
        cn_json_quote(&line, cairn_errmsg(ctx), strlen(cairn_errmsg(ctx)));
    }
    cn_buf_puts(&line, "}\n");
    free(pred);
    if (!app->shadow_log) {
        cn_buf_release(&line);
        return;
    }
    pthread_mutex_lock(&app->shadow_mu);
    fwrite(line.data, 1, line.len, app->shadow_log);
    fflush(app->shadow_log);
    pthread_mutex_unlock(&app->shadow_mu);
    cn_buf_release(&line);
}

/* ---- routes ---- */

static void text(http_response *resp, int status, const char *content_type, const char *body)
{
    cn_buf_release(&resp->body);
    cn_buf_puts(&resp->body, body);
    resp->status = status;
    resp->content_type = content_type;
}

static void errorf(http_response *resp, msv_job_kind kind, int status, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void errorf(http_response *resp, msv_job_kind kind, int status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    cn_buf msg = CN_BUF_INIT;
    cn_buf_vprintf(&msg, fmt, ap);
    va_end(ap);
    msv_error(resp, kind, status, cn_buf_str(&msg));
    cn_buf_release(&msg);
}

static bool is_get(const http_request *req)
{
    return strcmp(req->method, "GET") == 0 || strcmp(req->method, "HEAD") == 0;
}

/* The route a path names, for metrics (set at begin, so refusals count too). */
static msv_route route_of(const char *path)
{
    if (!path)
        return MSV_R_OTHER;
    if (strcmp(path, "/invocations") == 0)
        return MSV_R_INVOCATIONS;
    if (strcmp(path, "/ping") == 0)
        return MSV_R_PING;
    if (strcmp(path, "/health") == 0)
        return MSV_R_HEALTH;
    if (strcmp(path, "/version") == 0)
        return MSV_R_VERSION;
    if (strcmp(path, "/metrics") == 0)
        return MSV_R_METRICS;
    if (cn_str_starts(path, "/v2/health/"))
        return MSV_R_V2_HEALTH;
    if (cn_str_starts(path, "/v2/models/") && cn_str_ends(path, "/infer"))
        return MSV_R_V2_INFER;
    if (strcmp(path, "/v2") == 0 || cn_str_starts(path, "/v2/models/"))
        return MSV_R_V2_METADATA;
    return MSV_R_OTHER;
}

static void method_not_allowed(http_response *resp, msv_job_kind kind, const char *path,
                               const char *method, const char *allow)
{
    http_add_header(resp, "Allow", allow);
    errorf(resp, kind, 405, "%.200s does not take %s (it takes %s)", path, method, allow);
}

/* Decodes, validates and queues a prediction request; answers refusals at once. */
/* pinned: the version the path named (held; taken over), or NULL to route the request. */
static void predict_route(msv_app *app, http_request *req, http_response *resp, msv_job_kind kind,
                          msv_slot *pinned)
{
    if (strcmp(req->method, "POST") != 0) {
        method_not_allowed(resp, kind, req->path, req->method, "POST");
        slot_release(pinned);
        return;
    }
    if (req->body_too_large) {
        errorf(resp, kind, 413,
               "the request body is over the server's limit of %zu bytes (--max-body); split "
               "the rows over several requests",
               app->cfg.max_body);
        slot_release(pinned);
        return;
    }
    cairn_ctx *ctx = thread_ctx(app);
    msv_slot *slot = pinned ? pinned : slot_pick(app, req);
    http_add_header(resp, "X-Cairn-Model", slot->model.ident);
    atomic_fetch_add(&slot->n_requests, 1);
    cairn_table *rows = NULL;
    char *id = NULL;
    cn_buf err = CN_BUF_INIT;
    int st;
    const char *body = req->body.data ? req->body.data : "";
    if (kind == MSV_JOB_MLFLOW) {
        msv_format fmt;
        st = msv_decode_invocations(ctx, &slot->model.schema, http_header(req, "Content-Type"),
                                    body, req->body.len, &rows, &fmt, &err);
    } else {
        st = msv_decode_v2(ctx, &slot->model.schema, body, req->body.len, &rows, &id, &err);
        if (!st && !id)
            id = cn_asprintf("%llu", (unsigned long long)atomic_fetch_add(&app->n_v2, 1) + 1);
    }
    if (st) {
        if (st == 415) { /* MLflow answers an unsupported content type in plain text */
            text(resp, 415, "text/plain; charset=utf-8", cn_buf_str(&err));
        } else {
            msv_error(resp, kind, st, cn_buf_str(&err));
        }
        atomic_fetch_add(&slot->n_failed, 1);
        cn_buf_release(&err);
        slot_release(slot);
        return;
    }
    cn_buf_release(&err);
    if (app->shadow)
        shadow_predict(app, ctx, slot, rows);
    msv_job *job = cn_xcalloc(1, sizeof *job);
    job->rows = rows;
    job->kind = kind;
    job->v2_id = id;
    if (msv_batcher_try_inline(slot->batcher, ctx, job, resp)) {
        if (resp->status >= 400)
            atomic_fetch_add(&slot->n_failed, 1);
        slot_release(slot);
        return;
    }
    job->hold = &slot->refs;
    job->pending = http_suspend(req);
    msv_batcher_submit(slot->batcher, job);
}

static void model_metadata(const msv_model *m, http_response *resp)
{
    cn_jsonw w;
    cn_jsonw_init(&w, NULL, 0);
    cn_jsonw_object_begin(&w);
    cn_jsonw_kstring(&w, "name", m->name);
    cn_jsonw_key(&w, "versions");
    cn_jsonw_array_begin(&w);
    cn_jsonw_string(&w, m->version);
    cn_jsonw_array_end(&w);
    cn_jsonw_kstring(&w, "platform", "cairn");
    cn_jsonw_kstring(&w, "learner", cairn_model_learner(m->model));
    cn_jsonw_key(&w, "inputs");
    cn_jsonw_array_begin(&w);
    for (size_t i = 0; i < m->schema.n_features; i++) {
        cn_jsonw_object_begin(&w);
        cn_jsonw_kstring(&w, "name", m->schema.names[i]);
        cn_jsonw_kstring(&w, "datatype",
                         m->schema.types[i] == CAIRN_COL_NUMERIC ? "FP64" : "BYTES");
        cn_jsonw_key(&w, "shape");
        cn_jsonw_array_begin(&w);
        cn_jsonw_int(&w, -1);
        cn_jsonw_array_end(&w);
        cn_jsonw_object_end(&w);
    }
    cn_jsonw_array_end(&w);
    cn_jsonw_key(&w, "outputs");
    cn_jsonw_array_begin(&w);
    cn_jsonw_object_begin(&w);
    cn_jsonw_kstring(&w, "name", "predict");
    cn_jsonw_kstring(&w, "datatype", m->n_classes ? "BYTES" : "FP64");
    cn_jsonw_key(&w, "shape");
    cn_jsonw_array_begin(&w);
    cn_jsonw_int(&w, -1);
    cn_jsonw_array_end(&w);
    cn_jsonw_object_end(&w);
    cn_jsonw_array_end(&w);
    cn_jsonw_object_end(&w);
    cn_jsonw_finish(&w);
    cn_buf_release(&resp->body);
    resp->body = w.buf;
    w.buf = (cn_buf)CN_BUF_INIT;
    cn_jsonw_release(&w);
    resp->content_type = "application/json";
}

/* /v2/models/NAME[/versions/V][/ready|/infer]; m is the primary version (held). */
static void v2_model_route(msv_app *app, const msv_model *m, http_request *req, http_response *resp)
{
    const char *rest = req->path + strlen("/v2/models/");
    size_t name_len = strcspn(rest, "/");
    msv_slot *pinned = NULL; /* /versions/V: that routed version, held */
    /* Every answer names a version: infer's the one that predicts, the others the version
     * the path names or the primary. */
    if (name_len != strlen(m->name) || strncmp(rest, m->name, name_len) != 0) {
        http_add_header(resp, "X-Cairn-Model", m->ident);
        errorf(resp, MSV_JOB_V2, 404, "model '%.*s' is not served here (this server serves '%s')",
               (int)(name_len < 200 ? name_len : 200), rest, m->name);
        return;
    }
    rest += name_len;
    if (cn_str_starts(rest, "/versions/")) {
        const char *v = rest + strlen("/versions/");
        size_t vlen = strcspn(v, "/");
        pinned = slot_find(app, v, vlen);
        if (!pinned) {
            http_add_header(resp, "X-Cairn-Model", m->ident);
            errorf(resp, MSV_JOB_V2, 404,
                   "version '%.*s' of model '%s' is not served here (this server serves "
                   "version '%s'%s)",
                   (int)(vlen < 200 ? vlen : 200), v, m->name, m->version,
                   app->n_routes > 1 ? " and the other --route versions" : "");
            return;
        }
        rest = v + vlen;
    }
    if (strcmp(rest, "/infer") == 0) {
        predict_route(app, req, resp, MSV_JOB_V2, pinned);
        return;
    }
    if (pinned)
        m = &pinned->model;
    http_add_header(resp, "X-Cairn-Model", m->ident);
    if (!is_get(req))
        method_not_allowed(resp, MSV_JOB_V2, req->path, req->method, "GET");
    else if (strcmp(rest, "/ready") == 0)
        text(resp, 200, "application/json", "");
    else if (*rest)
        errorf(resp, MSV_JOB_V2, 404, "no endpoint at %.200s", req->path);
    else
        model_metadata(m, resp);
    slot_release(pinned);
}

static bool app_begin(void *vapp, http_request *req, http_response *resp)
{
    msv_app *app = vapp;
    req->app_state = (void *)(uintptr_t)(route_of(req->path) + 1);
    if (!req->path) {
        msv_error(resp, MSV_JOB_MLFLOW, 400,
                  "the request path holds a malformed %-escape, a NUL byte or invalid UTF-8");
        msv_slot *primary = slot_primary(app);
        http_add_header(resp, "X-Cairn-Model", primary->model.ident);
        slot_release(primary);
        return false;
    }
    return true;
}

static void other_route(msv_app *app, const msv_model *model, http_request *req,
                        http_response *resp);

static void app_handle(void *vapp, http_request *req, http_response *resp)
{
    msv_app *app = vapp;
    const char *path = req->path;
    if (strcmp(path, "/invocations") == 0) {
        predict_route(app, req, resp, MSV_JOB_MLFLOW, NULL);
        return;
    }
    msv_slot *primary = slot_primary(app);
    if (cn_str_starts(path, "/v2/models/")) { /* it names the version that answers */
        v2_model_route(app, &primary->model, req, resp);
        slot_release(primary);
        return;
    }
    http_add_header(resp, "X-Cairn-Model", primary->model.ident);
    other_route(app, &primary->model, req, resp);
    slot_release(primary);
}

static void version_lines(msv_app *app, cn_buf *out)
{
    cn_buf_puts(out, "# HELP cairn_serve_version_requests_total Prediction requests by the "
                     "version that answered them (role route) or mirrored them (role "
                     "shadow).\n# TYPE cairn_serve_version_requests_total counter\n");
    cn_buf failed = CN_BUF_INIT;
    cn_buf_puts(&failed, "# HELP cairn_serve_version_errors_total Prediction requests refused or "
                         "failed, by version.\n# TYPE cairn_serve_version_errors_total "
                         "counter\n");
    pthread_rwlock_rdlock(&app->slots_lock);
    for (size_t i = 0; i <= app->n_routes; i++) {
        msv_slot *s = i < app->n_routes ? app->routes[i] : app->shadow;
        if (!s)
            continue;
        const char *role = s->shadow ? "shadow" : "route";
        cn_buf *bufs[2] = {out, &failed};
        const char *names[2] = {"cairn_serve_version_requests_total",
                                "cairn_serve_version_errors_total"};
        uint64_t vals[2] = {atomic_load(&s->n_requests), atomic_load(&s->n_failed)};
        for (int k = 0; k < 2; k++) {
            cn_buf_printf(bufs[k], "%s{model=\"", names[k]);
            msv_metrics_label(bufs[k], s->model.name);
            cn_buf_puts(bufs[k], "\",version=\"");
            msv_metrics_label(bufs[k], s->model.version);
            cn_buf_printf(bufs[k], "\",role=\"%s\"} %llu\n", role, (unsigned long long)vals[k]);
        }
    }
    pthread_rwlock_unlock(&app->slots_lock);
    cn_buf_append(out, failed.data, failed.len);
    cn_buf_release(&failed);
}

static void other_route(msv_app *app, const msv_model *model, http_request *req,
                        http_response *resp)
{
    const char *path = req->path;
    bool v2 = cn_str_starts(path, "/v2");
    msv_job_kind kind = v2 ? MSV_JOB_V2 : MSV_JOB_MLFLOW;
    bool known = strcmp(path, "/ping") == 0 || strcmp(path, "/health") == 0 ||
                 strcmp(path, "/version") == 0 || strcmp(path, "/metrics") == 0 ||
                 strcmp(path, "/v2") == 0 || strcmp(path, "/v2/health/live") == 0 ||
                 strcmp(path, "/v2/health/ready") == 0;
    if (!known) {
        errorf(resp, kind, 404, "no endpoint at %.200s", path);
        return;
    }
    if (!is_get(req)) {
        method_not_allowed(resp, kind, path, req->method, "GET");
        return;
    }
    if (strcmp(path, "/ping") == 0 || strcmp(path, "/health") == 0) {
        text(resp, 200, "application/json", "\n"); /* MLflow: "\n" once the model loaded */
    } else if (strcmp(path, "/version") == 0) {
        text(resp, 200, "application/json", cairn_version());
    } else if (strcmp(path, "/metrics") == 0) {
        cn_buf_release(&resp->body);
        msv_metrics_render(&app->metrics, model, app->srv ? http_in_flight(app->srv) : 0,
                           &resp->body);
        version_lines(app, &resp->body);
        resp->content_type = "text/plain; version=0.0.4; charset=utf-8";
    } else if (strcmp(path, "/v2") == 0) {
        cn_buf_release(&resp->body);
        cn_buf_puts(&resp->body, "{\"name\": \"cairn\", \"version\": ");
        cn_json_quote(&resp->body, cairn_version(), strlen(cairn_version()));
        cn_buf_puts(&resp->body, ", \"extensions\": []}");
        resp->content_type = "application/json";
    } else { /* live and ready: the model is loaded before the server listens */
        text(resp, 200, "application/json", "");
    }
}

static void app_finish(void *vapp, http_request *req, bool completed)
{
    (void)completed;
    msv_app *app = vapp;
    uintptr_t r = (uintptr_t)req->app_state;
    msv_route route = r ? (msv_route)(r - 1) : MSV_R_OTHER;
    msv_metrics_request(&app->metrics, route, req->status, cn_mono_ns() - req->start_ns);
    req->app_state = NULL;
}

static const http_app_ops app_ops = {app_begin, app_handle, app_finish};

/* ---- loading the model ---- */

static char *dup_n(const char *s, size_t n)
{
    char *out = cn_xmalloc(n + 1);
    memcpy(out, s, n);
    out[n] = '\0';
    return out;
}

/* Resolves MODEL to a local file, a default name and a version. Prints the error. */
static bool resolve(cairn_ctx *ctx, const char *spec, char **path, char **name, char **version)
{
    cairn_model_ref ref;
    *path = *name = *version = NULL;
    if (cairn_model_ref_resolve(ctx, spec, &ref) != CAIRN_OK) {
        fprintf(stderr, "cairn: error: %s\n", cairn_errmsg(ctx));
        return false;
    }
    *path = ref.path;
    *name = ref.name;
    *version = ref.version;
    free(ref.run_id);
    return true;
}

/* Whether the learner takes missing values: predict one row of them. */
static bool probe_missing(const msv_schema *s, cairn_model *m)
{
    cairn_ctx *ctx = cairn_ctx_new();
    cairn_table *t = cairn_table_new(1);
    double nan = NAN;
    int32_t none = -1;
    for (size_t f = 0; f < s->n_features; f++) {
        if (s->types[f] == CAIRN_COL_NUMERIC)
            cairn_table_add_numeric(ctx, t, s->names[f], &nan);
        else
            cairn_table_add_categorical(ctx, t, s->names[f], &none, NULL, 0);
    }
    double out;
    bool ok = cairn_model_predict(ctx, m, t, NULL, 1, &out) == CAIRN_OK;
    cairn_table_free(t);
    cairn_close(ctx);
    return ok;
}

static void model_release(msv_model *m)
{
    cairn_model_free(m->model);
    cairn_drift_reference_free(m->ref);
    msv_schema_release(&m->schema);
    for (size_t k = 0; m->label_json && k < m->n_classes; k++)
        free(m->label_json[k]);
    free(m->label_json);
    free(m->name);
    free(m->version);
    free(m->ident);
}

/* A label as JSON: a number when it reads as one (MLflow returns numeric classes as numbers). */
static char *label_json(const char *label)
{
    if (label && cn_json_is_number(label))
        return cn_xstrdup(label);
    cn_buf b = CN_BUF_INIT;
    cn_json_quote(&b, label ? label : "", label ? strlen(label) : 0);
    return cn_buf_detach(&b);
}

static bool load_model(cairn_ctx *ctx, const msv_config *cfg, msv_model *m)
{
    int64_t t0 = cn_mono_ns();
    char *path = NULL, *name = NULL, *version = NULL;
    if (!resolve(ctx, cfg->model, &path, &name, &version))
        return false;
    m->source = (char *)cfg->model;
    m->version = version;
    m->name = cfg->name ? cn_xstrdup(cfg->name) : name;
    if (cfg->name)
        free(name);
    if (cairn_model_load(ctx, path, &m->model) != CAIRN_OK) {
        fprintf(stderr, "cairn: error: model %s (%s): %s\n", cfg->model, path, cairn_errmsg(ctx));
        free(path);
        return false;
    }
    free(path);
    m->ident = cn_asprintf("%s/%s", m->name, m->version);
    size_t n = cairn_model_n_features(m->model);
    const char **names = cn_xcalloc(n ? n : 1, sizeof *names);
    cairn_col_type *types = cn_xcalloc(n ? n : 1, sizeof *types);
    for (size_t i = 0; i < n; i++) {
        names[i] = cairn_model_feature_name(m->model, i);
        types[i] = cairn_model_feature_type(m->model, i);
    }
    msv_schema_init(&m->schema, names, types, n, false, cairn_model_learner(m->model));
    free(names);
    free(types);
    m->schema.allows_missing = probe_missing(&m->schema, m->model);
    m->n_classes = cairn_model_n_classes(m->model);
    if (m->n_classes) {
        m->label_json = cn_xcalloc(m->n_classes, sizeof *m->label_json);
        for (size_t k = 0; k < m->n_classes; k++)
            m->label_json[k] = label_json(cairn_model_class_label(m->model, k));
    }
    cairn_status rc = cairn_drift_reference_from_model(ctx, m->model, &m->ref);
    if (rc != CAIRN_OK && !cfg->no_monitor) {
        fprintf(stderr,
                "cairn: error: model %s has no drift reference profile, and cairn serves no "
                "model without drift monitoring: add one with `cairn drift reference --data "
                "TRAINING.csv --model FILE --write` (models from `cairn train` carry one), or "
                "serve without monitoring with --no-monitor --reason TEXT\n",
                cfg->model);
        return false;
    }
    if (rc != CAIRN_OK)
        m->ref = NULL;
    m->load_s = (double)(cn_mono_ns() - t0) / 1e9;
    return true;
}

/* The monitoring run: where drift scores go, with the model and the monitoring decision. */
static cairn_run *start_run(cairn_ctx *ctx, const msv_config *cfg, const msv_model *m)
{
    char *exp =
        cfg->experiment ? cn_xstrdup(cfg->experiment) : cn_asprintf("monitoring/%s", m->name);
    char *run_name = cn_asprintf("serve %s", m->ident);
    cairn_tag tags[5];
    size_t n_tags = 0;
    tags[n_tags++] = (cairn_tag){"cairn.serve.model", m->ident};
    tags[n_tags++] = (cairn_tag){"cairn.serve.source", cfg->model};
    tags[n_tags++] = (cairn_tag){"cairn.serve.monitor", m->ref && !cfg->no_monitor ? "on" : "off"};
    if (cfg->no_monitor)
        tags[n_tags++] = (cairn_tag){"cairn.serve.no_monitor_reason", cfg->reason};
    cairn_run_opts o = CAIRN_RUN_OPTS_INIT;
    o.experiment = exp;
    o.name = run_name;
    o.tags = tags;
    o.n_tags = n_tags;
    cairn_run *run = NULL;
    if (cairn_run_start(ctx, &o, &run) != CAIRN_OK)
        fprintf(stderr, "cairn: error: cannot start the monitoring run in experiment '%s': %s\n",
                exp, cairn_errmsg(ctx));
    free(exp);
    free(run_name);
    return run;
}

/* ---- versions: loading, routing, the alias poller ---- */

static void slot_free(msv_slot *s)
{
    if (!s)
        return;
    msv_batcher_stop(s->batcher);
    msv_monitor_stop(s->monitor);
    msv_window_free(s->window);
    model_release(&s->model);
    free(s->spec);
    free(s);
}

/* Loads the version spec names into a new slot with its predicting threads (held once: it is
 * served). Prints the error. */
static msv_slot *slot_open(cairn_ctx *ctx, msv_app *app, const char *spec, unsigned weight,
                           bool shadow)
{
    msv_slot *s = cn_xcalloc(1, sizeof *s);
    s->spec = cn_xstrdup(spec);
    s->weight = weight;
    s->shadow = shadow;
    atomic_init(&s->refs, 1);
    msv_config c = app->cfg;
    c.model = s->spec;
    if (!load_model(ctx, &c, &s->model)) {
        slot_free(s);
        return NULL;
    }
    s->batcher = msv_batcher_start(&app->cfg, &s->model, NULL, &app->metrics);
    if (!s->batcher) {
        fprintf(stderr, "cairn: error: cannot start the predicting threads\n");
        slot_free(s);
        return NULL;
    }
    return s;
}

/* Drift monitoring of a version (every routed one and the shadow): the window its batcher
 * (the shadow: shadow_predict) fills, made before it serves... */
static void slot_window(msv_app *app, msv_slot *s)
{
    if (!s->model.ref || app->cfg.no_monitor)
        return;
    s->window = msv_window_new(&s->model.schema, app->cfg.window_rows);
    msv_batcher_stop(s->batcher); /* restarted with the window (nothing is queued yet) */
    s->batcher = msv_batcher_start(&app->cfg, &s->model, s->window, &app->metrics);
}

/* ... and the monitor that checks it. Its scores go to the monitoring run under "drift.KEY"
 * when one version is served, "drift.vVERSION.KEY" for each when several are (--route with
 * more than one, --shadow). */
static void slot_monitor(msv_app *app, msv_slot *s)
{
    if (!s->window || !app->run)
        return;
    char *prefix = app->n_routes > 1 || app->shadow ? cn_asprintf("drift.v%s.", s->model.version)
                                                    : cn_xstrdup("drift.");
    s->monitor =
        msv_monitor_start(&app->cfg, &s->model, s->window, &app->metrics, app->run, prefix);
    free(prefix);
}

/* A version as --route and --shadow write it: "v3", "3". */
static bool parse_version(const char *s, size_t n, int64_t *out)
{
    char buf[32];
    if (n && (s[0] == 'v' || s[0] == 'V')) {
        s++;
        n--;
    }
    if (!n || n >= sizeof buf)
        return false;
    memcpy(buf, s, n);
    buf[n] = '\0';
    return cn_parse_int64(buf, out) && *out > 0;
}

/* The registered name of MODEL (models:/NAME, models:/NAME/V or models:/NAME@ALIAS). */
static char *registered_name(const char *model)
{
    if (!cn_str_starts(model, "models:/"))
        return NULL;
    const char *rest = model + strlen("models:/");
    size_t n = strcspn(rest, "/@");
    return n ? dup_n(rest, n) : NULL;
}

/* Loads the versions --route names (or MODEL alone) and the --shadow. Prints the error. */
static bool open_versions(cairn_ctx *ctx, msv_app *app)
{
    const msv_config *cfg = &app->cfg;
    char *name = registered_name(cfg->model);
    if ((cfg->route || cfg->shadow) && !name) {
        fprintf(stderr,
                "cairn: error: --route and --shadow pick versions of a registered model: give "
                "MODEL as models:/NAME (not '%s')\n",
                cfg->model);
        return false;
    }
    bool ok = true;
    if (!cfg->route) {
        msv_slot *s = slot_open(ctx, app, cfg->model, 1, false);
        if (!s) {
            free(name);
            return false;
        }
        app->routes = cn_xcalloc(1, sizeof *app->routes);
        app->routes[app->n_routes++] = s;
        app->total_weight = 1;
    } else {
        const char *p = cfg->route;
        while (ok && *p) {
            size_t len = strcspn(p, ",");
            const char *eq = memchr(p, '=', len);
            int64_t v, w;
            char wbuf[16];
            size_t wlen = eq ? len - (size_t)(eq - p) - 1 : 0;
            if (eq && wlen > 0 && wlen < sizeof wbuf) {
                memcpy(wbuf, eq + 1, wlen);
                wbuf[wlen] = '\0';
            } else {
                wbuf[0] = '\0';
            }
            if (!eq || !parse_version(p, (size_t)(eq - p), &v) || !cn_parse_int64(wbuf, &w) ||
                w < 0 || w > 1000000) {
                fprintf(stderr,
                        "cairn: error: --route '%s': write VERSION=WEIGHT pairs separated by "
                        "commas, e.g. v3=90,v4=10 (weights 0 to 1000000)\n",
                        cfg->route);
                ok = false;
                break;
            }
            char *spec = cn_asprintf("models:/%s/%lld", name, (long long)v);
            msv_slot *s = slot_open(ctx, app, spec, (unsigned)w, false);
            free(spec);
            if (!s) {
                ok = false;
                break;
            }
            app->routes = cn_xrealloc(app->routes, (app->n_routes + 1) * sizeof *app->routes);
            app->routes[app->n_routes++] = s;
            app->total_weight += (unsigned)w;
            p += len;
            if (*p == ',')
                p++;
        }
        if (ok && app->total_weight == 0) {
            fprintf(stderr, "cairn: error: --route '%s' gives every version weight 0\n",
                    cfg->route);
            ok = false;
        }
    }
    if (ok && cfg->shadow) {
        int64_t v;
        if (!parse_version(cfg->shadow, strlen(cfg->shadow), &v)) {
            fprintf(stderr, "cairn: error: --shadow takes a version (v5 or 5), not '%s'\n",
                    cfg->shadow);
            ok = false;
        } else {
            char *spec = cn_asprintf("models:/%s/%lld", name, (long long)v);
            app->shadow = slot_open(ctx, app, spec, 0, true);
            free(spec);
            ok = app->shadow != NULL;
        }
    }
    free(name);
    return ok;
}

/* Frees the retired versions no request holds any more. */
static void free_retired(msv_app *app, bool all)
{
    msv_slot **pp = &app->retired;
    while (*pp) {
        msv_slot *s = *pp;
        if (all || atomic_load(&s->refs) == 0) {
            *pp = s->next;
            slot_free(s);
        } else {
            pp = &s->next;
        }
    }
}

/* models:/NAME@ALIAS: asks the registry where the alias points every poll interval and, when
 * it moved, loads that version and swaps it in. Requests under way finish on the old one. */
static void *poll_thread(void *arg)
{
    msv_app *app = arg;
    cairn_open_opts o = CAIRN_OPEN_OPTS_INIT;
    o.artifact_root = app->cfg.artifact_root;
    cairn_ctx *ctx = NULL;
    if (cairn_open(app->cfg.store_uri, &o, &ctx) != CAIRN_OK) {
        fprintf(stderr,
                "cairn: warning: the alias poller cannot open the store (%s); %s@%s "
                "stays on the version it started with\n",
                ctx ? cairn_errmsg(ctx) : "?", app->alias_model, app->alias);
        cairn_close(ctx);
        return NULL;
    }
    double interval = app->cfg.poll_interval > 0 ? app->cfg.poll_interval : 10;
    bool warned = false;
    int64_t last = cn_mono_ns();
    pthread_mutex_lock(&app->poll_mu);
    for (;;) {
        /* Wake every 50 ms while retired versions wait to be freed, else at the next poll. */
        double left = interval - (double)(cn_mono_ns() - last) / 1e9;
        double wait = app->retired && left > 0.05 ? 0.05 : left;
        if (wait > 0 && !app->poller_stop) {
            struct timespec until;
            clock_gettime(CLOCK_REALTIME, &until);
            long ns = until.tv_nsec + (long)((wait - (double)(long)wait) * 1e9);
            until.tv_sec += (time_t)wait + ns / 1000000000L;
            until.tv_nsec = ns % 1000000000L;
            pthread_cond_timedwait(&app->poll_cv, &app->poll_mu, &until);
        }
        if (app->poller_stop)
            break;
        pthread_mutex_unlock(&app->poll_mu);
        free_retired(app, false);
        if ((double)(cn_mono_ns() - last) / 1e9 < interval) {
            pthread_mutex_lock(&app->poll_mu);
            continue;
        }
        last = cn_mono_ns();
        cairn_model_version *mv = NULL;
        if (cairn_model_version_get_by_alias(ctx, app->alias_model, app->alias, &mv) != CAIRN_OK) {
            if (!warned)
                fprintf(stderr, "cairn: warning: polling %s@%s: %s (still serving %s)\n",
                        app->alias_model, app->alias, cairn_errmsg(ctx),
                        app->routes[0]->model.ident);
            warned = true;
            pthread_mutex_lock(&app->poll_mu);
            continue;
        }
        warned = false;
        char *now = cn_asprintf("%lld", (long long)mv->version);
        cairn_model_version_free(mv);
        msv_slot *cur = app->routes[0]; /* only this thread replaces it */
        if (strcmp(now, cur->model.version) != 0) {
            char *spec = cn_asprintf("models:/%s/%s", app->alias_model, now);
            msv_slot *s = slot_open(ctx, app, spec, 1, false);
            free(spec);
            if (s) {
                slot_window(app, s);
                pthread_rwlock_wrlock(&app->slots_lock);
                app->routes[0] = s;
                pthread_rwlock_unlock(&app->slots_lock);
                fprintf(stderr, "cairn: %s@%s moved: now serving %s (was %s)\n", app->alias_model,
                        app->alias, s->model.ident, cur->model.ident);
                msv_monitor_stop(cur->monitor); /* one last check of the old version */
                cur->monitor = NULL;
                slot_monitor(app, s);
                atomic_fetch_sub(&cur->refs, 1); /* no longer served */
                cur->next = app->retired;
                app->retired = cur;
                free_retired(app, false);
            } else {
                fprintf(stderr,
                        "cairn: warning: %s@%s moved to version %s, which does not "
                        "load; still serving %s\n",
                        app->alias_model, app->alias, now, cur->model.ident);
            }
        }
        free(now);
        pthread_mutex_lock(&app->poll_mu);
    }
    pthread_mutex_unlock(&app->poll_mu);
    cairn_close(ctx);
    return NULL;
}

/* Where the shadow's answers go: --shadow-log, or artifact shadow/predictions.jsonl of the
 * monitoring run. */
static bool open_shadow_log(msv_app *app)
{
    char *path = NULL;
    if (app->cfg.shadow_log) {
        path = cn_xstrdup(app->cfg.shadow_log);
    } else {
        /* Written as it grows, recorded as an artifact at the stop. */
        char *dir = cn_path_join(cairn_run_artifact_dir(app->run), "shadow");
        if (cn_fs_mkdirs(dir, 0755) != 0) {
            fprintf(stderr,
                    "cairn: error: cannot make the shadow log's folder '%s': %s (or "
                    "give --shadow-log FILE)\n",
                    dir, strerror(errno));
            free(dir);
            return false;
        }
        path = cn_path_join(dir, "predictions.jsonl");
        free(dir);
    }
    app->shadow_log = fopen(path, "a");
    if (!app->shadow_log)
        fprintf(stderr, "cairn: error: cannot open the shadow log '%s': %s\n", path,
                strerror(errno));
    free(path);
    return app->shadow_log != NULL;
}

int msv_serve(const msv_config *cfg)
{
#ifdef __GLIBC__
    /* A 1,000-row request allocates a few hundred KB (body, values, columns) and frees them:
     * with glibc's defaults the heap grows and is trimmed back (madvise, page faults) on every
     * request, which cost as much CPU as decoding the body. Keep the memory instead. */
    mallopt(M_MMAP_THRESHOLD, 64 << 20);
    mallopt(M_TRIM_THRESHOLD, 256 << 20);
#endif
    msv_app app = {.cfg = *cfg};
    FILE *out = cfg->out ? cfg->out : stdout;
    if (!app.cfg.max_body)
        app.cfg.max_body = 32u << 20;
    if (!app.cfg.grace_ms)
        app.cfg.grace_ms = 10000;
    if (!app.cfg.max_batch_rows)
        app.cfg.max_batch_rows = 4096;
    if (!app.cfg.window_rows)
        app.cfg.window_rows = 10000;
    char serr[256];
    if (!http_stop_signals_install(serr, sizeof serr)) {
        fprintf(stderr, "cairn: error: %s\n", serr);
        return 1;
    }
    pthread_mutex_init(&app.lock, NULL);
    pthread_mutex_init(&app.shadow_mu, NULL);
    pthread_mutex_init(&app.poll_mu, NULL);
    pthread_cond_init(&app.poll_cv, NULL);
    pthread_rwlock_init(&app.slots_lock, NULL);
    pthread_key_create(&app.ctx_key, NULL);
    msv_metrics_init(&app.metrics);
    int rc = 1;
    cairn_open_opts o = CAIRN_OPEN_OPTS_INIT;
    o.artifact_root = cfg->artifact_root;
    cairn_ctx *ctx = NULL;
    if (cairn_open(cfg->store_uri, &o, &ctx) != CAIRN_OK) {
        fprintf(stderr, "cairn: error: %s\n", ctx ? cairn_errmsg(ctx) : "cannot open the store");
        goto done;
    }
    const char *at = cn_str_starts(cfg->model, "models:/") ? strchr(cfg->model, '@') : NULL;
    if (at && cfg->route) {
        fprintf(stderr,
                "cairn: error: --route names versions; give MODEL as models:/NAME, not "
                "the alias '%s' (an alias is followed alone, with hot swap)\n",
                cfg->model);
        goto done;
    }
    if (!open_versions(ctx, &app))
        goto done;
    msv_model *primary = &app.routes[0]->model;
    app.run = start_run(ctx, &app.cfg, primary);
    if (!app.run)
        goto done;
    if (app.shadow && !open_shadow_log(&app))
        goto done;
    for (size_t i = 0; i <= app.n_routes; i++) {
        msv_slot *s = i < app.n_routes ? app.routes[i] : app.shadow;
        if (s) {
            slot_window(&app, s);
            slot_monitor(&app, s);
        }
    }
    if (!app.routes[0]->monitor)
        msv_metrics_set_drift(
            &app.metrics, &app,
            cn_asprintf("# HELP cairn_serve_monitoring_enabled 1 when drift monitoring is on.\n"
                        "# TYPE cairn_serve_monitoring_enabled gauge\n"
                        "cairn_serve_monitoring_enabled 0\n"));
    if (at) {
        app.alias_model = registered_name(cfg->model);
        app.alias = cn_xstrdup(at + 1);
        if (pthread_create(&app.poller, NULL, poll_thread, &app) == 0)
            app.poller_running = true;
    }

    http_config hc = {.host = cfg->host,
                      .port = cfg->port,
                      .workers = cfg->workers,
                      .max_body = app.cfg.max_body,
                      .timeout_s = cfg->timeout_s,
                      .access_log = cfg->access_log};
    char err[512];
    app.srv = http_start(&hc, &app_ops, &app, err, sizeof err);
    if (!app.srv) {
        fprintf(stderr, "cairn: error: %s\n", err);
        goto done;
    }
    cn_buf versions = CN_BUF_INIT;
    for (size_t i = 0; i < app.n_routes; i++) {
        if (app.n_routes > 1)
            cn_buf_printf(&versions, "%s%s=%u", i ? ", " : "", app.routes[i]->model.ident,
                          app.routes[i]->weight);
        else
            cn_buf_puts(&versions, app.routes[i]->model.ident);
    }
    if (app.shadow)
        cn_buf_printf(&versions, ", shadow %s", app.shadow->model.ident);
    if (app.alias)
        cn_buf_printf(&versions, ", following @%s", app.alias);
    fprintf(out,
            "cairn serve listening on http://%s:%d (model %s, %zu features, %s, monitoring %s, "
            "run %s)\n",
            cfg->host ? cfg->host : "127.0.0.1", http_port(app.srv), cn_buf_str(&versions),
            primary->schema.n_features, cairn_model_learner(primary->model),
            app.routes[0]->monitor ? "on" : "off", cairn_run_id(app.run));
    cn_buf_release(&versions);
    fflush(out);
    int sig = http_stop_signal_wait();
    fprintf(stderr, "cairn: %s: finishing %d request(s) under way, then stopping\n",
            sig == SIGTERM ? "SIGTERM" : "SIGINT", http_in_flight(app.srv));
    http_stop(app.srv, app.cfg.grace_ms);
    app.srv = NULL;
    rc = 0;
done:
    http_stop(app.srv, 0);
    if (app.poller_running) {
        pthread_mutex_lock(&app.poll_mu);
        app.poller_stop = true;
        pthread_cond_broadcast(&app.poll_cv);
        pthread_mutex_unlock(&app.poll_mu);
        pthread_join(app.poller, NULL);
    }
    /* After http_stop: the batchers answer what http_stop waits for. */
    for (size_t i = 0; i < app.n_routes; i++) {
        msv_batcher_stop(app.routes[i]->batcher);
        app.routes[i]->batcher = NULL;
        msv_monitor_stop(app.routes[i]->monitor);
        app.routes[i]->monitor = NULL;
    }
    if (app.shadow) {
        msv_monitor_stop(app.shadow->monitor);
        app.shadow->monitor = NULL;
    }
    free_retired(&app, true);
    if (app.shadow_log) {
        fclose(app.shadow_log);
        app.shadow_log = NULL;
        if (!cfg->shadow_log && app.run &&
            cairn_run_record_artifact(app.run, "shadow/predictions.jsonl") != CAIRN_OK)
            fprintf(stderr, "cairn: warning: the shadow log is not recorded as an artifact: %s\n",
                    cairn_errmsg(ctx));
    }
    if (app.run) {
        if (cairn_run_finish(app.run, rc == 0 ? CAIRN_RUN_FINISHED : CAIRN_RUN_FAILED) != CAIRN_OK)
            fprintf(stderr, "cairn: warning: the monitoring run did not finish cleanly: %s\n",
                    cairn_errmsg(ctx));
        cairn_run_free(app.run);
    }
    for (size_t i = 0; i < app.n_routes; i++)
        slot_free(app.routes[i]);
    free(app.routes);
    slot_free(app.shadow);
    free(app.alias_model);
    free(app.alias);
    for (size_t i = 0; i < app.n_ctxs; i++)
        cairn_close(app.ctxs[i]);
    free(app.ctxs);
    cairn_close(ctx);
    msv_metrics_release(&app.metrics);
    pthread_key_delete(app.ctx_key);
    pthread_rwlock_destroy(&app.slots_lock);
    pthread_cond_destroy(&app.poll_cv);
    pthread_mutex_destroy(&app.poll_mu);
    pthread_mutex_destroy(&app.shadow_mu);
    pthread_mutex_destroy(&app.lock);
    http_stop_signals_remove();
    return rc;
}
