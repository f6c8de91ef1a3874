/* SPDX-License-Identifier: MIT */
/* store_rest.c - the remote store's transport, and libcurl's one home in libcairn: open and
 * close (one keep-alive CURL easy handle per store), requests with timeouts, bearer or basic
 * auth, bounded retries with exponential backoff and jitter, and the mapping of HTTP and
 * MLflow errors to cairn_status. The operations are in store_rest_ops.c. */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <curl/curl.h>
#include "core/core.h"
#include "store/store_rest.h"
#include "base/arena.h"
#include "base/map.h"
#include "base/rng.h"
#include "base/str.h"
#include "base/xmalloc.h"
#include "base/banned.h"

#define STR_(x) #x
#define STR(x) STR_(x)
#define USER_AGENT                                                                                 \
    "cairn/" STR(CAIRN_VERSION_MAJOR) "." STR(CAIRN_VERSION_MINOR) "." STR(CAIRN_VERSION_PATCH)
#define CONNECT_TIMEOUT_MS 5000
#define TIMEOUT_DEFAULT_S 30
#define RETRIES_DEFAULT 4          /* 5 tries in all: about 7.5 s of waiting */
#define BODY_MAX ((size_t)1 << 30) /* a larger answer is refused */

/* A file downloaded into a run's staging folder (cn_rest_note_fetched), as it was written. */
typedef struct cn_fetched {
    const char *local; /* the file */
    const char *top;   /* $TMPDIR/cairn-<run_id> */
    off_t size;
    struct timespec mtime;
} cn_fetched;

struct cn_rest_store {
    cn_store base; /* base.ops == &cn_store_rest_ops */
    CURL *curl;    /* one handle: its connection is kept alive between requests */
    char *base_url;
    char *shown;
    char *token; /* bearer token, or NULL */
    char *user;  /* basic auth, or NULL */
    char *password;
    long timeout_ms;
    int retries;
    bool no_heartbeat;  /* the server has no heartbeat route */
    bool missing_route; /* the last request failed for want of its route */
    char cached_run[33];
    char *cached_artifact_uri;
    /* Artifact files downloaded into runs' staging folders (cn_rest_note_fetched): key
     * "<run_id>/<path>" -> index into fetched[]. Removed at close unless changed since. */
    cn_map fetched_by_key;
    cn_fetched *fetched;
    size_t n_fetched, cap_fetched;
    cn_arena *fetched_mem;
    cn_buf body;
    char errbuf[CURL_ERROR_SIZE];
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static void curl_init_once(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
}

cn_rest_store *cn_rest_store_of(cairn_ctx *ctx)
{
    CN_ASSERT(ctx->store && ctx->store->ops == &cn_store_rest_ops);
    return (cn_rest_store *)ctx->store;
}

const char *cn_rest_shown(cairn_ctx *ctx)
{
    return cn_rest_store_of(ctx)->shown;
}

bool cn_rest_missing_route(cairn_ctx *ctx)
{
    return cn_rest_store_of(ctx)->missing_route;
}

bool cn_rest_has_heartbeat(cairn_ctx *ctx)
{
    return !cn_rest_store_of(ctx)->no_heartbeat;
}

void cn_rest_no_heartbeat(cairn_ctx *ctx)
{
    cn_rest_store_of(ctx)->no_heartbeat = true;
}

const char *cn_rest_cached_artifact_uri(cairn_ctx *ctx, const char *run_id)
{
    cn_rest_store *s = cn_rest_store_of(ctx);
    return s->cached_artifact_uri && strcmp(s->cached_run, run_id) == 0 ? s->cached_artifact_uri
                                                                        : NULL;
}

void cn_rest_cache_artifact_uri(cairn_ctx *ctx, const char *run_id, const char *uri)
{
    cn_rest_store *s = cn_rest_store_of(ctx);
    free(s->cached_artifact_uri);
    s->cached_artifact_uri = cn_xstrdup(uri);
    cn_strlcpy(s->cached_run, run_id, sizeof s->cached_run);
}

char *cn_rest_staging_dir(const char *run_id)
{
    const char *tmp = getenv("TMPDIR");
    return cn_asprintf("%s/cairn-%s/artifacts", tmp && *tmp ? tmp : "/tmp", run_id);
}

/* ---- pure helpers ---- */

cairn_status cn_rest_parse_uri(cairn_ctx *ctx, const char *uri, char **base_out, char **shown_out)
{
    *base_out = NULL;
    *shown_out = NULL;
    size_t skip = cn_str_starts(uri, "http://")    ? strlen("http://")
                  : cn_str_starts(uri, "https://") ? strlen("https://")
                                                   : 0;
    const char *host = uri + skip;
    size_t host_len = strcspn(host, "/?#");
    if (skip == 0 || host_len == 0 || host[host_len] == '?' || host[host_len] == '#' ||
        strpbrk(uri, " \t\r\n?#"))
        return cn_fail(ctx, CAIRN_EINVAL,
                       "store '%s': a tracking server URL looks like http://host:port or "
                       "https://host/prefix (no query or fragment)",
                       uri);
    char *base = cn_xstrdup(uri);
    size_t len = strlen(base);
    while (len > skip + host_len && base[len - 1] == '/')
        base[--len] = '\0';
    /* user:password@ stays in the URL curl uses, never in messages. */
    const char *at = memchr(host, '@', host_len);
    char *shown =
        at ? cn_asprintf("%.*s%s", (int)skip, uri, base + (at + 1 - uri)) : cn_xstrdup(base);
    *base_out = base;
    *shown_out = shown;
    return CAIRN_OK;
}

static bool is_unreserved(unsigned char c)
{
    return isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~';
}

static void percent_encode(cn_buf *out, const char *s, bool keep_slash)
{
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (is_unreserved(*p) || (keep_slash && *p == '/')) {
            cn_buf_putc(out, (char)*p);
        } else {
            cn_buf_putc(out, '%');
            cn_buf_putc(out, hex[*p >> 4]);
            cn_buf_putc(out, hex[*p & 15]);
        }
    }
}

void cn_rest_query_add(cn_buf *q, const char *key, const char *value)
{
    if (!value)
        return;
    if (q->len)
        cn_buf_putc(q, '&');
    percent_encode(q, key, false);
    cn_buf_putc(q, '=');
    percent_encode(q, value, false);
}

void cn_rest_query_add_int(cn_buf *q, const char *key, int64_t value)
{
    char text[32];
    snprintf(text, sizeof text, "%lld", (long long)value);
    cn_rest_query_add(q, key, text);
}

void cn_rest_path_append(cn_buf *out, const char *path)
{
    percent_encode(out, path, true);
}

cairn_status cn_rest_status_for(long http_status, const char *error_code)
{
    static const struct {
        const char *code;
        cairn_status st;
    } codes[] = {
        {"RESOURCE_DOES_NOT_EXIST", CAIRN_ENOTFOUND},
        {"NOT_FOUND", CAIRN_ENOTFOUND},
        {"RESOURCE_ALREADY_EXISTS", CAIRN_EEXIST},
        {"ALREADY_EXISTS", CAIRN_EEXIST},
        {"ENDPOINT_NOT_FOUND", CAIRN_EINVAL},
        {"INVALID_PARAMETER_VALUE", CAIRN_EINVAL},
        {"BAD_REQUEST", CAIRN_EINVAL},
        {"INVALID_STATE", CAIRN_EINVAL},
        {"RESOURCE_CONFLICT", CAIRN_EINVAL},
        {"UNAUTHENTICATED", CAIRN_EINVAL},
        {"PERMISSION_DENIED", CAIRN_EINVAL},
        {"CUSTOMER_UNAUTHORIZED", CAIRN_EINVAL},
        {"NOT_IMPLEMENTED", CAIRN_EINVAL},
        {"REQUEST_LIMIT_EXCEEDED", CAIRN_ELIMIT},
        {"RESOURCE_EXHAUSTED", CAIRN_ELIMIT},
    };
    for (size_t i = 0; error_code && i < CN_ARRAY_LEN(codes); i++)
        if (strcmp(error_code, codes[i].code) == 0)
            return codes[i].st;
    if (http_status == 404 || http_status == 400 || http_status == 401 || http_status == 403 ||
        http_status == 405 || http_status == 409 || http_status == 413 || http_status == 501)
        return http_status == 413 ? CAIRN_ELIMIT : CAIRN_EINVAL;
    return CAIRN_EIO;
}

bool cn_rest_is_missing_route(long http_status, const char *error_code)
{
    return http_status == 404 && (!error_code || strcmp(error_code, "ENDPOINT_NOT_FOUND") == 0);
}

bool cn_rest_should_retry(int kind, long http_status, bool is_idempotent)
{
    if (kind == 0)
        return true; /* nothing reached the server */
    if (kind == 1)
        return is_idempotent;
    if (http_status == 429)
        return true; /* the server refused before doing anything */
    return is_idempotent && (http_status == 502 || http_status == 503 || http_status == 504);
}

int64_t cn_rest_backoff_ms(int attempt, double jitter01)
{
    int64_t ms = 500;
    for (int i = 1; i < attempt && ms < 4000; i++)
        ms *= 2;
    if (ms > 4000)
        ms = 4000;
    return (int64_t)((double)ms * (0.5 + jitter01));
}

const char *cn_rest_artifact_proxy_path(cn_arena *a, const char *artifact_uri)
{
    static const char scheme[] = "mlflow-artifacts:";
    if (!artifact_uri || !cn_str_starts(artifact_uri, scheme))
        return NULL;
    const char *p = artifact_uri + strlen(scheme);
    if (cn_str_starts(p, "//")) {
        p = strchr(p + 2, '/');
        if (!p)
            return cn_arena_strdup(a, "");
    }
    while (*p == '/')
        p++;
    size_t len = strlen(p);
    while (len && p[len - 1] == '/')
        len--;
    return cn_arena_strndup(a, p, len);
}

void cn_rest_write_tags(cn_jsonw *w, const cairn_tag *tags, size_t n)
{
    cn_jsonw_array_begin(w);
    for (size_t i = 0; i < n; i++) {
        cn_jsonw_object_begin(w);
        cn_jsonw_kstring(w, "key", tags[i].key);
        cn_jsonw_kstring(w, "value", tags[i].value ? tags[i].value : "");
        cn_jsonw_object_end(w);
    }
    cn_jsonw_array_end(w);
}

void cn_rest_batch_json(cn_buf *out, const char *run_id, const cairn_metric *metrics,
                        size_t n_metrics, const cairn_param *params, size_t n_params,
                        const cairn_tag *tags, size_t n_tags, size_t *used_metrics,
                        size_t *used_params, size_t *used_tags)
{
    size_t nm = n_metrics < CN_REST_BATCH_METRICS ? n_metrics : CN_REST_BATCH_METRICS;
    size_t np = n_params < CN_REST_BATCH_PARAMS ? n_params : CN_REST_BATCH_PARAMS;
    size_t nt = n_tags < CN_REST_BATCH_TAGS ? n_tags : CN_REST_BATCH_TAGS;
    /* The total is capped too: params and tags first (few), metrics fill the rest. */
    size_t room = CN_REST_BATCH_ENTITIES - np - nt;
    if (nm > room)
        nm = room;
    cn_jsonw w;
    cn_jsonw_init(&w, NULL, 0);
    cn_jsonw_object_begin(&w);
    cn_jsonw_kstring(&w, "run_id", run_id);
    if (nm) {
        cn_jsonw_key(&w, "metrics");
        cn_jsonw_array_begin(&w);
        for (size_t i = 0; i < nm; i++) {
            cn_jsonw_object_begin(&w);
            cn_jsonw_kstring(&w, "key", metrics[i].key);
            cn_jsonw_kdouble(&w, "value", metrics[i].value); /* NaN, ±Inf as strings */
            cn_jsonw_kint(&w, "timestamp", metrics[i].timestamp_ms);
            cn_jsonw_kint(&w, "step", metrics[i].step);
            cn_jsonw_object_end(&w);
        }
        cn_jsonw_array_end(&w);
    }
    if (np) {
        cn_jsonw_key(&w, "params");
        cn_rest_write_tags(&w, params, np);
    }
    if (nt) {
        cn_jsonw_key(&w, "tags");
        cn_rest_write_tags(&w, tags, nt);
    }
    cn_jsonw_object_end(&w);
    cn_buf_append(out, w.buf.data, w.buf.len);
    cn_jsonw_release(&w);
    *used_metrics = nm;
    *used_params = np;
    *used_tags = nt;
}

/* ---- open and close ---- */

static const char *env_first(const char *a, const char *b)
{
    const char *v = getenv(a);
    if (!v || !*v)
        v = getenv(b);
    return v && *v ? v : NULL;
}

/* Whether the downloaded file is still there as it was written. */
static bool fetched_unchanged(const cn_fetched *f)
{
    struct stat st;
    return lstat(f->local, &st) == 0 && S_ISREG(st.st_mode) && st.st_size == f->size &&
           st.st_mtim.tv_sec == f->mtime.tv_sec && st.st_mtim.tv_nsec == f->mtime.tv_nsec;
}

static void remove_fetched(cn_rest_store *s)
{
    for (size_t i = 0; i < s->n_fetched; i++) {
        const cn_fetched *f = &s->fetched[i];
        if (!fetched_unchanged(f) || unlink(f->local) != 0)
            continue; /* gone already (the run handle took the folder), or changed: kept */
        /* Then the folders it left empty, up to and including $TMPDIR/cairn-<run_id>. */
        char *dir = cn_xstrdup(f->local);
        size_t top_len = strlen(f->top);
        for (char *slash = strrchr(dir, '/'); slash && (size_t)(slash - dir) >= top_len;
             slash = strrchr(dir, '/')) {
            *slash = '\0';
            if (rmdir(dir) != 0)
                break;
        }
        free(dir);
    }
}

void cn_rest_note_fetched(cairn_ctx *ctx, const char *run_id, const char *path, const char *local)
{
    cn_rest_store *s = cn_rest_store_of(ctx);
    struct stat st;
    if (stat(local, &st) != 0)
        return;
    if (!s->fetched_mem)
        s->fetched_mem = cn_arena_new();
    char *key = cn_arena_printf(s->fetched_mem, "%s/%s", run_id, path);
    size_t at;
    if (!cn_map_add(&s->fetched_by_key, key, strlen(key), s->n_fetched, &at)) {
        s->fetched[at].size = st.st_size; /* fetched again: the newer copy's stamp */
        s->fetched[at].mtime = st.st_mtim;
        return;
    }
    s->fetched = cn_arena_grow(s->fetched_mem, s->fetched, s->n_fetched, &s->cap_fetched,
                               sizeof *s->fetched);
    char *staging = cn_rest_staging_dir(run_id);
    char *slash = strrchr(staging, '/'); /* $TMPDIR/cairn-<run_id>, above artifacts/ */
    if (slash)
        *slash = '\0';
    s->fetched[s->n_fetched++] = (cn_fetched){
        .local = cn_arena_strdup(s->fetched_mem, local),
        .top = cn_arena_strdup(s->fetched_mem, staging),
        .size = st.st_size,
        .mtime = st.st_mtim,
    };
    free(staging);
}

bool cn_rest_fetched_unchanged(cairn_ctx *ctx, const char *run_id, const char *path)
{
    cn_rest_store *s = cn_rest_store_of(ctx);
    char key[PATH_MAX + 40];
    int n = snprintf(key, sizeof key, "%s/%s", run_id, path);
    size_t at;
    if (n < 0 || (size_t)n >= sizeof key || !cn_map_get(&s->fetched_by_key, key, (size_t)n, &at))
        return false;
    return fetched_unchanged(&s->fetched[at]);
}

static void rest_close(cn_store *base)
{
    cn_rest_store *s = (cn_rest_store *)base;
    if (!s)
        return;
    remove_fetched(s);
    cn_map_release(&s->fetched_by_key);
    cn_arena_free(s->fetched_mem);
    if (s->curl)
        curl_easy_cleanup(s->curl);
    free(s->base_url);
    free(s->shown);
    free(s->token);
    free(s->user);
    free(s->password);
    free(s->cached_artifact_uri);
    cn_buf_release(&s->body);
    free(s);
}

/* Nothing is sent here: the first operation reaches the server (and says so if it cannot),
 * so opening a context for a run's timer costs no round trip. */
static cairn_status rest_open(cairn_ctx *ctx, const char *uri, const cairn_open_opts *opts,
                              cn_store **out, char **artifact_root_out)
{
    (void)opts;
    *out = NULL;
    *artifact_root_out = NULL;
    cn_rest_store *s = cn_xcalloc(1, sizeof *s);
    s->base.ops = &cn_store_rest_ops;
    cairn_status rc = cn_rest_parse_uri(ctx, uri, &s->base_url, &s->shown);
    if (rc != CAIRN_OK) {
        rest_close(&s->base);
        return rc;
    }
    int64_t n = TIMEOUT_DEFAULT_S;
    const char *env = getenv("CAIRN_HTTP_TIMEOUT_S");
    if (env && *env && (!cn_parse_int64(env, &n) || n < 1 || n > 86400)) {
        cn_log(ctx, CAIRN_LOG_WARN, "store",
               "ignoring CAIRN_HTTP_TIMEOUT_S='%.20s': use whole seconds from 1 to 86400", env);
        n = TIMEOUT_DEFAULT_S;
    }
    s->timeout_ms = (long)n * 1000;
    n = RETRIES_DEFAULT;
    env = getenv("CAIRN_HTTP_RETRIES");
    if (env && *env && (!cn_parse_int64(env, &n) || n < 0 || n > 20)) {
        cn_log(ctx, CAIRN_LOG_WARN, "store",
               "ignoring CAIRN_HTTP_RETRIES='%.20s': use a whole number from 0 to 20", env);
        n = RETRIES_DEFAULT;
    }
    s->retries = (int)n;
    const char *token = env_first("CAIRN_TRACKING_TOKEN", "MLFLOW_TRACKING_TOKEN");
    const char *user = env_first("CAIRN_TRACKING_USERNAME", "MLFLOW_TRACKING_USERNAME");
    const char *password = env_first("CAIRN_TRACKING_PASSWORD", "MLFLOW_TRACKING_PASSWORD");
    if (token)
        s->token = cn_asprintf("Authorization: Bearer %s", token);
    else if (user) {
        s->user = cn_xstrdup(user);
        s->password = cn_xstrdup(password ? password : "");
    }
    pthread_once(&curl_once, curl_init_once);
    s->curl = curl_easy_init();
    if (!s->curl) {
        rest_close(&s->base);
        return cn_fail(ctx, CAIRN_EINTERNAL, "store '%s': cannot start libcurl", uri);
    }
    *out = &s->base;
    *artifact_root_out = cn_xstrdup(s->shown);
    return CAIRN_OK;
}

/* ---- requests ---- */

typedef struct body_sink {
    cn_buf *buf;
    bool too_big;
} body_sink;

static size_t on_body(char *p, size_t size, size_t n, void *user)
{
    body_sink *sink = user;
    if (sink->buf->len + size * n > BODY_MAX) {
        sink->too_big = true;
        return 0;
    }
    cn_buf_append(sink->buf, p, size * n);
    return size * n;
}

static void sleep_ms(int64_t ms)
{
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

static double jitter(void)
{
    uint32_t r;
    cn_random_bytes(&r, sizeof r);
    return (double)r / 4294967296.0;
}

/* 0: the connection was never made; 1: the request may have reached the server. */
static int curl_kind(CURLcode cc)
{
    switch (cc) {
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY: return 0;
    default: return 1;
    }
}

static bool curl_retryable(CURLcode cc)
{
    switch (cc) {
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE: return true;
    default: return false;
    }
}

/* One attempt: *cc the transfer's result, *http the status (0 without an answer). */
static void attempt(cn_rest_store *s, const cn_rest_req *req, const char *url, FILE *upload,
                    int64_t upload_size, CURLcode *cc, long *http, bool *too_big)
{
    CURL *c = s->curl;
    struct curl_slist *headers = NULL;
    body_sink sink = {&s->body, false};
    curl_easy_reset(c); /* keeps the live connection */
    cn_buf_clear(&s->body);
    s->errbuf[0] = '\0';
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)CONNECT_TIMEOUT_MS);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, s->timeout_ms);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, s->errbuf);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &sink);
    curl_easy_setopt(c, CURLOPT_USERAGENT, USER_AGENT);
    curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
    headers = curl_slist_append(headers, "Accept: application/json");
    if (s->token)
        headers = curl_slist_append(headers, s->token);
    if (s->user) {
        curl_easy_setopt(c, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
        curl_easy_setopt(c, CURLOPT_USERNAME, s->user);
        curl_easy_setopt(c, CURLOPT_PASSWORD, s->password);
    }
    if (upload) {
        headers = curl_slist_append(headers, "Content-Type: application/octet-stream");
        headers = curl_slist_append(headers, "Expect:");
        curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
        curl_easy_setopt(c, CURLOPT_READDATA, upload); /* the default reader fread()s it */
        curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, (curl_off_t)upload_size);
    } else if (req->body) {
        headers = curl_slist_append(headers, "Content-Type: application/json");
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, req->body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(req->body));
        if (strcmp(req->method, "POST") != 0)
            curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, req->method);
    } else if (strcmp(req->method, "GET") != 0) {
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, req->method);
    }
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
    *cc = curl_easy_perform(c);
    *http = 0;
    if (*cc == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, http);
    *too_big = sink.too_big;
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, NULL);
    curl_slist_free_all(headers);
}

/* The failure of an HTTP error answer, with the server's message. */
static cairn_status fail_answer(cairn_ctx *ctx, cn_rest_store *s, const cn_rest_req *req, long http)
{
    cn_json *j = NULL;
    const char *code = NULL, *msg = NULL;
    if (s->body.len && cn_json_parse_object(ctx, s->body.data, s->body.len, &j) == CAIRN_OK) {
        code = cn_json_member_str(j, "error_code");
        msg = cn_json_member_str(j, "message");
    }
    cairn_status st = cn_rest_status_for(http, code);
    s->missing_route = cn_rest_is_missing_route(http, code);
    if (s->missing_route)
        cn_fail(ctx, st, "the tracking server at %s does not support %s %s (HTTP 404%s%s)%s",
                s->shown, req->method, req->path, code ? " " : "", code ? code : "",
                cn_str_starts(req->path, "/api/2.0/cairn/")
                    ? "; it is a cairn route: use a cairn server (`cairn server`)"
                    : "");
    else if (http == 401 || http == 403)
        cn_fail(ctx, st,
                "the tracking server at %s refused the request (HTTP %ld): %s; set "
                "CAIRN_TRACKING_TOKEN, or CAIRN_TRACKING_USERNAME and CAIRN_TRACKING_PASSWORD",
                s->shown, http, msg ? msg : "unauthorized");
    else if (msg && *msg && http < 500)
        cn_fail(ctx, st, "%s", msg);
    else
        cn_fail(ctx, st, "the tracking server at %s failed: HTTP %ld%s%s%s%s", s->shown, http,
                code ? " " : "", code ? code : "", msg ? ": " : "", msg ? msg : "");
    cn_json_free(j);
    return st;
}

/* The failure of a transfer that got no answer. */
static cairn_status fail_transfer(cairn_ctx *ctx, cn_rest_store *s, CURLcode cc, int tries)
{
    const char *why = s->errbuf[0] ? s->errbuf : curl_easy_strerror(cc);
    char after[48] = "";
    if (tries > 1)
        snprintf(after, sizeof after, " (%d tries)", tries);
    if (curl_kind(cc) == 0)
        return cn_fail(ctx, CAIRN_EIO,
                       "cannot reach the tracking server at %s: %s%s; start it with `cairn "
                       "server` or check CAIRN_STORE",
                       s->shown, why, after);
    return cn_fail(ctx, CAIRN_EIO, "the tracking server at %s did not answer: %s%s", s->shown, why,
                   after);
}

cairn_status cn_rest_call(cairn_ctx *ctx, const cn_rest_req *req, cn_json **out)
{
    cn_rest_store *s = cn_rest_store_of(ctx);
    cn_buf url = CN_BUF_INIT;
    FILE *upload = NULL;
    int64_t upload_size = 0;
    cairn_status rc = CAIRN_OK;

    if (out)
        *out = NULL;
    s->missing_route = false;
    cn_buf_printf(&url, "%s%s", s->base_url, req->path);
    if (req->query && *req->query)
        cn_buf_printf(&url, "?%s", req->query);
    if (req->upload_file) {
        upload = fopen(req->upload_file, "rb");
        if (!upload || fseek(upload, 0, SEEK_END) != 0 || (upload_size = ftell(upload)) < 0) {
            rc = cn_fail_errno(ctx, CAIRN_EIO, "cannot read '%s'", req->upload_file);
            goto done;
        }
    }
    int tries = 0;
    for (;;) {
        CURLcode cc;
        long http;
        bool too_big;
        if (upload)
            rewind(upload);
        tries++;
        cn_log(ctx, CAIRN_LOG_DEBUG, "store", "%s %s%s%s", req->method, req->path,
               req->query ? "?" : "", req->query ? req->query : "");
        attempt(s, req, url.data, upload, upload_size, &cc, &http, &too_big);
        if (too_big) {
            rc = cn_fail(ctx, CAIRN_ELIMIT, "the tracking server at %s sent more than %zu bytes",
                         s->shown, BODY_MAX);
            goto done;
        }
        bool again = false;
        if (cc != CURLE_OK)
            again =
                curl_retryable(cc) && cn_rest_should_retry(curl_kind(cc), 0, req->is_idempotent);
        else if (http < 200 || http >= 300)
            again = cn_rest_should_retry(2, http, req->is_idempotent);
        if (again && tries <= s->retries) {
            int64_t wait = cn_rest_backoff_ms(tries, jitter());
            cn_log(ctx, CAIRN_LOG_INFO, "store", "%s %s: %s; trying again in %lld ms", req->method,
                   req->path,
                   cc != CURLE_OK ? (s->errbuf[0] ? s->errbuf : curl_easy_strerror(cc))
                                  : "server busy",
                   (long long)wait);
            sleep_ms(wait);
            continue;
        }
        if (cc != CURLE_OK) {
            rc = fail_transfer(ctx, s, cc, tries);
            goto done;
        }
        if (http < 200 || http >= 300) {
            rc = fail_answer(ctx, s, req, http);
            goto done;
        }
        break;
    }
    if (out) {
        if (s->body.len == 0)
            *out = cn_json_object_new();
        else if (cn_json_parse_object(ctx, s->body.data, s->body.len, out) != CAIRN_OK)
            rc = cn_fail(ctx, CAIRN_EIO,
                         "the tracking server at %s answered %s %s with something that is not "
                         "a JSON object; is it an MLflow or cairn server?",
                         s->shown, req->method, req->path);
    }
done:
    if (upload)
        fclose(upload);
    cn_buf_release(&url);
    return rc;
}

cairn_status cn_rest_get_bytes(cairn_ctx *ctx, const char *path, const void **data, size_t *len)
{
    cn_rest_req req = {.method = "GET", .path = path, .is_idempotent = true};
    *data = NULL;
    *len = 0;
    cairn_status rc = cn_rest_call(ctx, &req, NULL);
    if (rc != CAIRN_OK)
        return rc;
    cn_rest_store *s = cn_rest_store_of(ctx);
    *data = s->body.data ? s->body.data : "";
    *len = s->body.len;
    return CAIRN_OK;
}

cairn_status cn_rest_open(cairn_ctx *ctx, const char *uri, const cairn_open_opts *opts,
                          cn_store **out, char **artifact_root_out)
{
    return rest_open(ctx, uri, opts, out, artifact_root_out);
}

void cn_rest_close(cn_store *s)
{
    rest_close(s);
}
