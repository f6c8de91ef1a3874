/* SPDX-License-Identifier: MIT */
/* store_rest_ops.c - cn_store_rest_ops: each store operation as MLflow REST requests
 * (reference: docs/remote.md, which lists the endpoint of every operation). Arguments arrive
 * validated by tracking/ and registry/; results are the public types in an arena of their own,
 * so the usual *_free functions release them. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/core.h"
#include "store/store_rest.h"
#include "base/fs.h"
#include "base/str.h"
#include "base/time.h"
#include "base/xmalloc.h"
#include "base/banned.h"

#define MLFLOW "/api/2.0/mlflow/"
#define CAIRN "/api/2.0/cairn/"
#define ARTIFACTS "/api/2.0/mlflow-artifacts/artifacts"

static const char *const view_names[] = {"ACTIVE_ONLY", "DELETED_ONLY", "ALL"};

/* ---- request shorthands ---- */

static void body_begin(cn_jsonw *w)
{
    cn_jsonw_init(w, NULL, 0);
    cn_jsonw_object_begin(w);
}

/* Ends the body object of w and sends it; w is released. */
static cairn_status send(cairn_ctx *ctx, const char *method, const char *path, cn_jsonw *w,
                         bool is_idempotent, cn_json **out)
{
    cn_jsonw_object_end(w);
    cn_rest_req req = {.method = method,
                       .path = path,
                       .body = cn_buf_str(&w->buf),
                       .is_idempotent = is_idempotent};
    cairn_status rc = cn_rest_call(ctx, &req, out);
    cn_jsonw_release(w);
    return rc;
}

/* A GET with the query q (released). */
static cairn_status get(cairn_ctx *ctx, const char *path, cn_buf *q, cn_json **out)
{
    cn_rest_req req = {
        .method = "GET", .path = path, .query = cn_buf_str(q), .is_idempotent = true};
    cairn_status rc = cn_rest_call(ctx, &req, out);
    cn_buf_release(q);
    return rc;
}

static void kversion(cn_jsonw *w, const char *key, int64_t version)
{
    char text[32];
    snprintf(text, sizeof text, "%lld", (long long)version);
    cn_jsonw_kstring(w, key, text); /* model versions are strings on the wire */
}

static void strings(cn_jsonw *w, const char *key, const char *const *v, size_t n)
{
    if (!n)
        return;
    cn_jsonw_key(w, key);
    cn_jsonw_strings(w, v, n);
}

/* Reads member key of j into a new arena-owned item of `size` bytes with fn; *out NULL and
 * EIO when the answer lacks it. */
static cairn_status one_item(cairn_ctx *ctx, cn_json *j, const char *key, size_t size,
                             size_t internal_off, cn_rest_decode_fn fn, void **out)
{
    const cn_json *v = cn_json_object_get(j, key);
    *out = NULL;
    if (cn_json_typeof(v) != CN_JSON_OBJECT) {
        cn_json_free(j);
        return cn_fail(ctx, CAIRN_EIO, "the tracking server at %s answered without '%s'",
                       cn_rest_shown(ctx), key);
    }
    cn_arena *a = cn_arena_new();
    void *item = cn_arena_alloc(a, size);
    fn(v, a, item);
    *(void **)((char *)item + internal_off) = a;
    cn_json_free(j);
    *out = item;
    return CAIRN_OK;
}

/* Reads array member key of j into a new page (every cairn_*_page: n, items,
 * next_page_token, internal_). */
typedef struct any_page {
    size_t n;
    void *items;
    const char *next_page_token;
    void *internal_;
} any_page;

static void *page_of(cn_json *j, const char *key, size_t size, cn_rest_decode_fn fn)
{
    cn_arena *a = cn_arena_new();
    any_page *p = cn_arena_alloc(a, sizeof *p);
    cn_rest_decode_array(j, key, a, size, fn, &p->items, &p->n);
    const char *token = cn_json_member_str(j, "next_page_token");
    p->next_page_token = token && *token ? cn_arena_strdup(a, token) : NULL;
    p->internal_ = a;
    cn_json_free(j);
    return p;
}

static void dec_experiment(const cn_json *j, cn_arena *a, void *item)
{
    cn_rest_decode_experiment(j, a, item);
}
static void dec_run(const cn_json *j, cn_arena *a, void *item)
{
    cn_rest_decode_run(j, a, item);
}
static void dec_metric(const cn_json *j, cn_arena *a, void *item)
{
    cn_rest_decode_metric(j, a, item);
}
static void dec_model(const cn_json *j, cn_arena *a, void *item)
{
    cn_rest_decode_model(j, a, item);
}
static void dec_version(const cn_json *j, cn_arena *a, void *item)
{
    cn_rest_decode_version(j, a, item);
}
static void dec_event(const cn_json *j, cn_arena *a, void *item)
{
    cn_rest_decode_event(j, a, item);
}

_Static_assert(offsetof(cairn_experiment_page, internal_) == offsetof(any_page, internal_) &&
                   offsetof(cairn_run_page, internal_) == offsetof(any_page, internal_) &&
                   offsetof(cairn_metric_page, internal_) == offsetof(any_page, internal_) &&
                   offsetof(cairn_registered_model_page, internal_) ==
                       offsetof(any_page, internal_) &&
                   offsetof(cairn_model_version_page, internal_) == offsetof(any_page, internal_) &&
                   offsetof(cairn_registry_event_page, internal_) == offsetof(any_page, internal_),
               "pages share one layout");

/* ---- experiments ---- */

static cairn_status experiment_create(cairn_ctx *ctx, const char *name, const char *location,
                                      const cairn_tag *tags, size_t n_tags, char **id_out)
{
    cn_jsonw w;
    cn_json *j = NULL;
    *id_out = NULL;
    body_begin(&w);
    cn_jsonw_kstring(&w, "name", name);
    if (location && *location)
        cn_jsonw_kstring(&w, "artifact_location", location);
    if (n_tags) {
        cn_jsonw_key(&w, "tags");
        cn_rest_write_tags(&w, tags, n_tags);
    }
    cairn_status rc = send(ctx, "POST", MLFLOW "experiments/create", &w, false, &j);
    if (rc == CAIRN_OK) {
        const char *id = cn_json_member_str(j, "experiment_id");
        if (id)
            *id_out = cn_xstrdup(id);
        else
            rc = cn_fail(ctx, CAIRN_EIO,
                         "the tracking server created experiment '%s' without "
                         "answering its id",
                         name);
    }
    cn_json_free(j);
    return rc;
}

static cairn_status experiment_get(cairn_ctx *ctx, const char *id, cairn_experiment **out)
{
    cn_buf q = CN_BUF_INIT;
    cn_json *j = NULL;
    *out = NULL;
    cn_rest_query_add(&q, "experiment_id", id);
    cairn_status rc = get(ctx, MLFLOW "experiments/get", &q, &j);
    return rc == CAIRN_OK
               ? one_item(ctx, j, "experiment", sizeof **out, offsetof(cairn_experiment, internal_),
                          dec_experiment, (void **)out)
               : rc;
}

static cairn_status experiment_get_by_name(cairn_ctx *ctx, const char *name, cairn_experiment **out)
{
    cn_buf q = CN_BUF_INIT;
    cn_json *j = NULL;
    *out = NULL;
    cn_rest_query_add(&q, "experiment_name", name);
    cairn_status rc = get(ctx, MLFLOW "experiments/get-by-name", &q, &j);
    return rc == CAIRN_OK
               ? one_item(ctx, j, "experiment", sizeof **out, offsetof(cairn_experiment, internal_),
                          dec_experiment, (void **)out)
               : rc;
}

static cairn_status experiment_rename(cairn_ctx *ctx, const char *id, const char *new_name)
{
    cn_jsonw w;
    body_begin(&w);
    cn_jsonw_kstring(&w, "experiment_id", id);
    cn_jsonw_kstring(&w, "new_name", new_name);
    return send(ctx, "POST", MLFLOW "experiments/update", &w, true, NULL);
}

static cairn_status experiment_set_tag(cairn_ctx *ctx, const char *id, const char *key,
                                       const char *value)
{
    cn_jsonw w;
    body_begin(&w);
    cn_jsonw_kstring(&w, "experiment_id", id);
    cn_jsonw_kstring(&w, "key", key);
    cn_jsonw_kstring(&w, "value", value);
    return send(ctx, "POST", MLFLOW "experiments/set-experiment-tag", &w, true, NULL);
}

static cairn_status experiment_delete_tag(cairn_ctx *ctx, const char *id, const char *key)
{
    cn_jsonw w;
    body_begin(&w);
    cn_jsonw_kstring(&w, "experiment_id", id);
    cn_jsonw_kstring(&w, "key", key);
    return send(ctx, "POST", MLFLOW "experiments/delete-experiment-tag", &w, true, NULL);
}

static cairn_status experiment_set_deleted(cairn_ctx *ctx, const char *id, bool deleted)
{
    cn_jsonw w;
    body_begin(&w);
    cn_jsonw_kstring(&w, "experiment_id", id);
    return send(ctx, "POST", deleted ? MLFLOW "experiments/delete" : MLFLOW "experiments/restore",
                &w, true, NULL);
}

static cairn_status experiments_search(cairn_ctx *ctx, const cairn_experiment_search *q,
                                       cairn_experiment_page **out)
{
    cn_jsonw w;
    cn_json *j = NULL;
    *out = NULL;
    body_begin(&w);
    cn_jsonw_kint(&w, "max_results", q->max_results > 0 ? q->max_results : 1000);
    if (q->page_token && *q->page_token)
        cn_jsonw_kstring(&w, "page_token", q->page_token);
    if (q->filter && *q->filter)
        cn_jsonw_kstring(&w, "filter", q->filter);
    strings(&w, "order_by", q->order_by, q->n_order_by);
    cn_jsonw_kstring(&w, "view_type", view_names[q->view]);
    cairn_status rc = send(ctx, "POST", MLFLOW "experiments/search", &w, true, &j);
    if (rc == CAIRN_OK)
        *out = page_of(j, "experiments", sizeof(cairn_experiment), dec_experiment);
    return rc;
}

/* ---- runs ---- */

static cairn_status fetch_run(cairn_ctx *ctx, const char *run_id, cairn_run_record **out)
{
    cn_buf q = CN_BUF_INIT;
    cn_json *j = NULL;
    *out = NULL;
    cn_rest_query_add(&q, "run_id", run_id);
    cn_rest_query_add(&q, "run_uuid", run_id);
    cairn_status rc = get(ctx, MLFLOW "runs/get", &q, &j);
    if (rc != CAIRN_OK)
        return rc;
    rc = one_item(ctx, j, "run", sizeof **out, offsetof(cairn_run_record, internal_), dec_run,
                  (void **)out);
    if (rc == CAIRN_OK)
        cn_rest_cache_artifact_uri(ctx, run_id, (*out)->info.artifact_uri);
    return rc;
}

static cairn_status run_heartbeat(cairn_ctx *ctx, const char *run_id, int64_t beat_ms,
                                  int64_t interval_ms);

/* The row of a run: its artifact folder is the local staging folder (created here). */
static void fill_row(cn_run_row *out, const char *run_id, const char *experiment_id,
                     bool is_deleted)
{
    cn_strlcpy(out->run_id, run_id, sizeof out->run_id);
    out->experiment_id = cn_xstrdup(experiment_id);
    out->artifact_dir = cn_rest_staging_dir(run_id);
    out->is_deleted = is_deleted;
    cn_fs_mkdirs(out->artifact_dir, 0700); /* a failure shows when a file is written there */
}

static bool has_tag(const cairn_tag *tags, size_t n, const char *key)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(tags[i].key, key) == 0)
            return true;
    return false;
}

/* Not retried once the request may have reached the server: a second runs/create would make
 * a second run (docs/remote.md). */
static cairn_status run_create(cairn_ctx *ctx, const cn_run_new *in, cn_run_row *out)
{
    cn_jsonw w;
    cn_json *j = NULL;
    memset(out, 0, sizeof *out);
    body_begin(&w);
    cn_jsonw_kstring(&w, "experiment_id", in->experiment_id);
    cn_jsonw_kstring(&w, "user_id", in->user);
    cn_jsonw_kstring(&w, "run_name", in->name);
    cn_jsonw_kint(&w, "start_time", in->start_ms);
    cn_jsonw_key(&w, "tags");
    cn_jsonw_array_begin(&w);
    cairn_tag std[2] = {{"mlflow.runName", in->name}, {"mlflow.user", in->user}};
    for (size_t i = 0; i < 2; i++)
        if (!has_tag(in->tags, in->n_tags, std[i].key)) {
            cn_jsonw_object_begin(&w);
            cn_jsonw_kstring(&w, "key", std[i].key);
            cn_jsonw_kstring(&w, "value", std[i].value);
            cn_jsonw_object_end(&w);
        }
    for (size_t i = 0; i < in->n_tags; i++) {
        cn_jsonw_object_begin(&w);
        cn_jsonw_kstring(&w, "key", in->tags[i].key);
        cn_jsonw_kstring(&w, "value", in->tags[i].value ? in->tags[i].value : "");
        cn_jsonw_object_end(&w);
    }
    cn_jsonw_array_end(&w);
    cairn_status rc = send(ctx, "POST", MLFLOW "runs/create", &w, false, &j);
    if (rc != CAIRN_OK)
        return rc;
    cairn_run_record *rec = NULL;
    rc = one_item(ctx, j, "run", sizeof *rec, offsetof(cairn_run_record, internal_), dec_run,
                  (void **)&rec);
    if (rc == CAIRN_OK && strlen(rec->info.run_id) >= sizeof out->run_id)
        rc = cn_fail(ctx, CAIRN_EIO,
                     "the tracking server gave run id '%.64s', longer than 32 "
                     "characters",
                     rec->info.run_id);
    if (rc == CAIRN_OK) {
        fill_row(out, rec->info.run_id, rec->info.experiment_id, false);
        cn_rest_cache_artifact_uri(ctx, rec->info.run_id, rec->info.artifact_uri);
        if (in->heartbeat_interval_ms > 0 &&
            run_heartbeat(ctx, out->run_id, cn_now_ms(), in->heartbeat_interval_ms) != CAIRN_OK)
            cn_log(ctx, CAIRN_LOG_WARN, "store", "run %s: no heartbeat: %s", out->run_id,
                   cairn_errmsg(ctx));
    }
    cairn_run_record_free(rec);
    return rc;
}

static cairn_status run_lookup(cairn_ctx *ctx, const char *run_id, cn_run_row *out)
{
    cairn_run_record *rec = NULL;
    memset(out, 0, sizeof *out);
    cairn_status rc = fetch_run(ctx, run_id, &rec);
    if (rc == CAIRN_OK && strlen(rec->info.run_id) >= sizeof out->run_id)
        rc = cn_fail(ctx, CAIRN_EINVAL, "run id '%.64s' is longer than 32 characters",
                     rec->info.run_id);
    if (rc == CAIRN_OK)
        fill_row(out, rec->info.run_id, rec->info.experiment_id, rec->info.is_deleted);
    cairn_run_record_free(rec);
    return rc;
}

static cairn_status run_get(cairn_ctx *ctx, const char *run_id, cairn_run_record **out)
{
    return fetch_run(ctx, run_id, out);
}

static cairn_status run_update(cairn_ctx *ctx, const char *run_id, const cairn_run_update *u)
{
    cn_jsonw w;
    body_begin(&w);
    cn_jsonw_kstring(&w, "run_id", run_id);
    cn_jsonw_kstring(&w, "run_uuid", run_id);
    if (u->status)
        cn_jsonw_kstring(&w, "status", cairn_run_status_str(u->status));
    if (u->end_ms)
        cn_jsonw_kint(&w, "end_time", u->end_ms);
    if (u->name)
        cn_jsonw_kstring(&w, "run_name", u->name);
    return send(ctx, "POST", MLFLOW "runs/update", &w, true, NULL);
}

static cairn_status run_set_deleted(cairn_ctx *ctx, const char *run_id, bool deleted)
{
    cn_jsonw w;
    body_begin(&w);
    cn_jsonw_kstring(&w, "run_id", run_id);
    return send(ctx, "POST", deleted ? MLFLOW "runs/delete" : MLFLOW "runs/restore", &w, true,
                NULL);
}

/* Split into requests within MLflow's limits. Each request is all or nothing on the server;
 * a failure leaves the earlier requests stored, and sending the whole batch again stores each
 * point once, so the caller's retry is safe. */
static cairn_status log_batch(cairn_ctx *ctx, const char *run_id, const cairn_metric *metrics,
                              size_t n_metrics, const cairn_param *params, size_t n_params,
                              const cairn_tag *tags, size_t n_tags)
{
    cn_buf body = CN_BUF_INIT;
    cairn_status rc = CAIRN_OK;
    while (rc == CAIRN_OK && (n_metrics || n_params || n_tags)) {
        size_t um, up, ut;
        cn_buf_clear(&body);
        cn_rest_batch_json(&body, run_id, metrics, n_metrics, params, n_params, tags, n_tags, &um,
                           &up, &ut);
        cn_rest_req req = {.method = "POST",
                           .path = MLFLOW "runs/log-batch",
                           .body = body.data,
                           .is_idempotent = true};
        rc = cn_rest_call(ctx, &req, NULL);
        metrics += um;
        n_metrics -= um;
        params += up;
        n_params -= up;
        tags += ut;
        n_tags -= ut;
    }
    cn_buf_release(&body);
    return rc;
}

static cairn_status delete_tag(cairn_ctx *ctx, const char *run_id, const char *key)
{
    cn_jsonw w;
    body_begin(&w);
    cn_jsonw_kstring(&w, "run_id", run_id);
    cn_jsonw_kstring(&w, "key", key);
    return send(ctx, "POST", MLFLOW "runs/delete-tag", &w, true, NULL);
}

static cairn_status log_inputs(cairn_ctx *ctx, const char *run_id, const cairn_dataset_input *in,
                               size_t n)
{
    cn_jsonw w;
    body_begin(&w);
    cn_jsonw_kstring(&w, "run_id", run_id);
    cn_jsonw_key(&w, "datasets");
    cn_jsonw_array_begin(&w);
    for (size_t i = 0; i < n; i++) {
        cn_jsonw_object_begin(&w);
        /* MLflow keeps at most 36 characters of a digest (cairn's are 64-hex SHA-256s): a
         * longer one travels as its first 36 characters plus the whole in the input tag
         * cairn.digest, and decode_input puts it back (docs/remote.md). */
        bool long_digest = in[i].digest && strlen(in[i].digest) > CN_REST_DIGEST_MAX;
        cairn_tag t[2];
        size_t nt = 0;
        if (in[i].context)
            t[nt++] = (cairn_tag){"mlflow.data.context", in[i].context};
        if (long_digest)
            t[nt++] = (cairn_tag){CN_REST_DIGEST_TAG, in[i].digest};
        if (nt) {
            cn_jsonw_key(&w, "tags");
            cn_rest_write_tags(&w, t, nt);
        }
        cn_jsonw_key(&w, "dataset");
        cn_jsonw_object_begin(&w);
        cn_jsonw_kstring(&w, "name", in[i].name);
        if (long_digest) {
            cn_jsonw_key(&w, "digest");
            cn_jsonw_string_len(&w, in[i].digest, CN_REST_DIGEST_MAX);
        } else
            cn_jsonw_kstring(&w, "digest", in[i].digest);
        cn_jsonw_kstring(&w, "source_type", in[i].source_type ? in[i].source_type : "local");
        cn_jsonw_kstring(&w, "source", in[i].source ? in[i].source : "");
        if (in[i].schema)
            cn_jsonw_kstring(&w, "schema", in[i].schema);
        if (in[i].profile)
            cn_jsonw_kstring(&w, "profile", in[i].profile);
        cn_jsonw_object_end(&w);
        cn_jsonw_object_end(&w);
    }
    cn_jsonw_array_end(&w);
    return send(ctx, "POST", MLFLOW "runs/log-inputs", &w, true, NULL);
}

/* ---- artifacts: the run's files go through the server's artifact proxy ---- */

/* The proxy path of run_id's artifact root ("1/<run>/artifacts") in a, or NULL with *rc set
 * (EINVAL when the server does not proxy artifacts). */
static const char *proxy_root(cairn_ctx *ctx, const char *run_id, cn_arena *a, cairn_status *rc)
{
    const char *uri = cn_rest_cached_artifact_uri(ctx, run_id);
    cairn_run_record *rec = NULL;
    *rc = CAIRN_OK;
    if (!uri) {
        *rc = fetch_run(ctx, run_id, &rec);
        if (*rc != CAIRN_OK)
            return NULL;
        uri = rec->info.artifact_uri;
    }
    const char *root = cn_rest_artifact_proxy_path(a, uri);
    if (!root)
        *rc = cn_fail(ctx, CAIRN_EINVAL,
                      "run '%s' keeps its artifacts at '%s', which the tracking server at %s does "
                      "not serve; start the server with artifact serving (mlflow-artifacts:)",
                      run_id, uri, cn_rest_shown(ctx));
    cairn_run_record_free(rec);
    return root;
}

/* The file was written under the run's staging folder (cn_rest_staging_dir, the handle's
 * artifact folder): send it. The server computes size and digest itself. */
static cairn_status record_artifact(cairn_ctx *ctx, const char *run_id, const char *path,
                                    int64_t size_bytes, const char *sha256)
{
    (void)size_bytes;
    (void)sha256;
    cn_arena *a = cn_arena_new();
    cairn_status rc;
    const char *root = proxy_root(ctx, run_id, a, &rc);
    if (root) {
        char *staging = cn_rest_staging_dir(run_id);
        char *local = cn_path_join(staging, path);
        cn_buf url = CN_BUF_INIT;
        cn_buf_puts(&url, ARTIFACTS "/");
        cn_rest_path_append(&url, root);
        cn_buf_putc(&url, '/');
        cn_rest_path_append(&url, path);
        cn_rest_req req = {
            .method = "PUT", .path = url.data, .upload_file = local, .is_idempotent = true};
        rc = cn_rest_call(ctx, &req, NULL);
        if (rc != CAIRN_OK)
            cn_errctx(ctx, "artifact '%s'", path);
        cn_buf_release(&url);
        free(local);
        free(staging);
    }
    cn_arena_free(a);
    return rc;
}

cairn_status cn_rest_fetch_artifact(cairn_ctx *ctx, const char *run_id, const char *path)
{
    cn_arena *a = cn_arena_new();
    cairn_status rc;
    const char *root = proxy_root(ctx, run_id, a, &rc);
    if (root) {
        cn_buf url = CN_BUF_INIT;
        const void *data = NULL;
        size_t len = 0;
        cn_buf_puts(&url, ARTIFACTS "/");
        cn_rest_path_append(&url, root);
        cn_buf_putc(&url, '/');
        cn_rest_path_append(&url, path);
        rc = cn_rest_get_bytes(ctx, url.data, &data, &len);
        if (rc == CAIRN_ENOTFOUND || (rc != CAIRN_OK && cn_rest_missing_route(ctx)))
            rc = cn_fail(ctx, CAIRN_ENOTFOUND, "run '%s' has no artifact '%s'", run_id, path);
        char *staging = cn_rest_staging_dir(run_id);
        char *local = cn_path_join(staging, path);
        char *parent = cn_xstrdup(local);
        char *slash = strrchr(parent, '/');
        if (slash)
            *slash = '\0';
        if (rc == CAIRN_OK &&
            (cn_fs_mkdirs(parent, 0700) != 0 || cn_fs_write_atomic(local, data, len) != 0))
            rc = cn_fail_errno(ctx, CAIRN_EIO, "artifact '%s': cannot write '%s'", path, local);
        if (rc == CAIRN_OK)
            cn_rest_note_fetched(ctx, run_id, path, local);
        free(parent);
        free(local);
        free(staging);
        cn_buf_release(&url);
    }
    cn_arena_free(a);
    return rc;
}

static int cmp_artifact(const void *x, const void *y)
{
    return strcmp(((const cairn_artifact *)x)->path, ((const cairn_artifact *)y)->path);
}

static cairn_status artifacts_list(cairn_ctx *ctx, const char *run_id, const char *path,
                                   cairn_artifact_list **out)
{
    cn_arena *a = cn_arena_new();
    cn_buf q = CN_BUF_INIT;
    cn_json *j = NULL;
    cairn_status rc;
    *out = NULL;
    char *prefix = cn_xstrdup(path ? path : "");
    size_t plen = strlen(prefix);
    while (plen && prefix[plen - 1] == '/')
        prefix[--plen] = '\0';
    const char *root = proxy_root(ctx, run_id, a, &rc);
    if (!root)
        goto done;
    char *full = plen ? cn_asprintf("%s/%s", root, prefix) : cn_xstrdup(root);
    cn_rest_query_add(&q, "path", full);
    free(full);
    rc = get(ctx, ARTIFACTS, &q, &j);
    if (rc != CAIRN_OK)
        goto done;
    cairn_artifact_list *list = cn_arena_alloc(a, sizeof *list);
    const cn_json *files = cn_json_object_get(j, "files");
    size_t n = cn_json_array_size(files);
    list->items = n ? cn_arena_alloc(a, n * sizeof *list->items) : NULL;
    for (size_t i = 0; i < n; i++) {
        const cn_json *f = cn_json_array_get(files, i);
        const char *name = cn_json_member_str(f, "path");
        if (!name || !*name)
            continue;
        const char *slash = strrchr(name, '/'); /* the proxy answers base names */
        name = slash ? slash + 1 : name;
        cairn_artifact *item = &list->items[list->n++];
        item->path = plen ? cn_arena_printf(a, "%s/%s", prefix, name) : cn_arena_strdup(a, name);
        item->is_dir = cn_json_bool(cn_json_object_get(f, "is_dir"));
        cn_json_member_int64(f, "file_size", &item->size_bytes);
        item->sha256 = NULL; /* not part of MLflow's listing */
    }
    if (list->n > 1)
        qsort(list->items, list->n, sizeof *list->items, cmp_artifact);
    list->internal_ = a;
    *out = list;
    a = NULL;
done:
    cn_json_free(j);
    cn_arena_free(a);
    free(prefix);
    return rc;
}

static int cmp_point(const void *x, const void *y)
{
    const cairn_metric *a = x, *b = y;
    if (a->step != b->step)
        return a->step < b->step ? -1 : 1;
    if (a->timestamp_ms != b->timestamp_ms)
        return a->timestamp_ms < b->timestamp_ms ? -1 : 1;
    return a->value < b->value ? -1 : a->value > b->value ? 1 : 0;
}

static cairn_status metric_history(cairn_ctx *ctx, const char *run_id, const char *key,
                                   const char *page_token, int64_t max_results,
                                   cairn_metric_page **out)
{
    cn_buf q = CN_BUF_INIT;
    cn_json *j = NULL;
    *out = NULL;
    cn_rest_query_add(&q, "run_id", run_id);
    cn_rest_query_add(&q, "run_uuid", run_id);
    cn_rest_query_add(&q, "metric_key", key);
    cn_rest_query_add_int(&q, "max_results", max_results > 0 ? max_results : 25000);
    if (page_token && *page_token)
        cn_rest_query_add(&q, "page_token", page_token);
    cairn_status rc = get(ctx, MLFLOW "metrics/get-history", &q, &j);
    if (rc != CAIRN_OK)
        return rc;
    *out = page_of(j, "metrics", sizeof(cairn_metric), dec_metric);
    /* MLflow 2.x answers in storage order; cairn promises (step, timestamp, value). */
    if ((*out)->n > 1)
        qsort((*out)->items, (*out)->n, sizeof *(*out)->items, cmp_point);
    return CAIRN_OK;
}

/* Every experiment id (deleted ones too): runs/search needs ids, and cairn's "every
 * experiment" has none. */
static cairn_status all_experiment_ids(cairn_ctx *ctx, cn_arena *a, const char ***ids, size_t *n)
{
    cairn_experiment_search q = CAIRN_EXPERIMENT_SEARCH_INIT;
    size_t cap = 0;
    char *token = NULL;
    cairn_status rc = CAIRN_OK;
    q.view = CAIRN_VIEW_ALL;
    *ids = NULL;
    *n = 0;
    do {
        cairn_experiment_page *page = NULL;
        q.page_token = token;
        rc = experiments_search(ctx, &q, &page);
        free(token);
        token = NULL;
        if (rc != CAIRN_OK)
            break;
        for (size_t i = 0; i < page->n; i++) {
            *ids = cn_arena_grow(a, (void *)*ids, *n, &cap, sizeof **ids);
            (*ids)[(*n)++] = cn_arena_strdup(a, page->items[i].experiment_id);
        }
        if (page->next_page_token && page->n)
            token = cn_xstrdup(page->next_page_token);
        cairn_experiment_page_free(page);
    } while (token);
    return rc;
}

static cairn_status runs_search(cairn_ctx *ctx, const cairn_run_search *q, cairn_run_page **out)
{
    cn_jsonw w;
    cn_json *j = NULL;
    cn_arena *a = cn_arena_new();
    const char *const *ids = q->experiment_ids;
    size_t n_ids = q->n_experiment_ids;
    cairn_status rc = CAIRN_OK;
    *out = NULL;
    if (n_ids == 0) {
        const char **all = NULL;
        rc = all_experiment_ids(ctx, a, &all, &n_ids);
        ids = all;
    }
    if (rc != CAIRN_OK)
        goto done;
    if (n_ids == 0) {
        *out = page_of(cn_json_object_new(), "runs", sizeof(cairn_run_record), dec_run);
        goto done;
    }
    body_begin(&w);
    strings(&w, "experiment_ids", ids, n_ids);
    if (q->filter && *q->filter)
        cn_jsonw_kstring(&w, "filter", q->filter);
    cn_jsonw_kstring(&w, "run_view_type", view_names[q->view]);
    cn_jsonw_kint(&w, "max_results", q->max_results > 0 ? q->max_results : 1000);
    strings(&w, "order_by", q->order_by, q->n_order_by);
    if (q->page_token && *q->page_token)
        cn_jsonw_kstring(&w, "page_token", q->page_token);
    rc = send(ctx, "POST", MLFLOW "runs/search", &w, true, &j);
    if (rc == CAIRN_OK)
        *out = page_of(j, "runs", sizeof(cairn_run_record), dec_run);
done:
    cn_arena_free(a);
    return rc;
}

static int cmp_key(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* MLflow has no route for the keys of an experiment: they are gathered from the runs' latest
 * values, params and tags, over at most KEYS_RUNS_MAX runs. */
#define KEYS_RUNS_MAX 10000

static cairn_status experiment_keys(cairn_ctx *ctx, const char *const *experiment_ids, size_t n,
                                    cairn_view view, cairn_key_kind kind, cairn_key_list **out)
{
    cn_arena *a = cn_arena_new();
    cairn_key_list *list = cn_arena_alloc(a, sizeof *list);
    size_t cap = 0, seen = 0;
    char *token = NULL;
    cairn_status rc = CAIRN_OK;
    *out = NULL;
    cairn_run_search q = CAIRN_RUN_SEARCH_INIT;
    q.experiment_ids = experiment_ids;
    q.n_experiment_ids = n;
    q.view = view;
    do {
        cairn_run_page *page = NULL;
        q.page_token = token;
        rc = runs_search(ctx, &q, &page);
        free(token);
        token = NULL;
        if (rc != CAIRN_OK)
            break;
        for (size_t i = 0; i < page->n; i++) {
            const cairn_run_record *r = &page->items[i];
            size_t m = kind == CAIRN_KEY_METRIC  ? r->n_metrics
                       : kind == CAIRN_KEY_PARAM ? r->n_params
                                                 : r->n_tags;
            for (size_t k = 0; k < m; k++) {
                const char *key = kind == CAIRN_KEY_METRIC  ? r->metrics[k].key
                                  : kind == CAIRN_KEY_PARAM ? r->params[k].key
                                                            : r->tags[k].key;
                list->keys =
                    cn_arena_grow(a, (void *)list->keys, list->n, &cap, sizeof *list->keys);
                list->keys[list->n++] = cn_arena_strdup(a, key);
            }
        }
        seen += page->n;
        if (page->next_page_token && page->n && seen < KEYS_RUNS_MAX)
            token = cn_xstrdup(page->next_page_token);
        cairn_run_page_free(page);
    } while (token);
    if (rc != CAIRN_OK) {
        cn_arena_free(a);
        return rc;
    }
    if (list->n)
        qsort(list->keys, list->n, sizeof *list->keys, cmp_key);
    size_t kept = 0;
    for (size_t i = 0; i < list->n; i++)
        if (kept == 0 || strcmp(list->keys[kept - 1], list->keys[i]) != 0)
            list->keys[kept++] = list->keys[i];
    list->n = kept;
    if (list->n > CAIRN_KEYS_MAX) {
        list->n = CAIRN_KEYS_MAX;
        list->truncated = true;
    }
    list->internal_ = a;
    *out = list;
    return CAIRN_OK;
}

/* ---- heartbeats: a cairn route; a plain MLflow server has none ---- */

static cairn_status run_heartbeat(cairn_ctx *ctx, const char *run_id, int64_t beat_ms,
                                  int64_t interval_ms)
{
    if (!cn_rest_has_heartbeat(ctx))
        return CAIRN_OK;
    cn_jsonw w;
    body_begin(&w);
    cn_jsonw_kstring(&w, "run_id", run_id);
    cn_jsonw_kint(&w, "beat_ms", beat_ms);
    cn_jsonw_kint(&w, "interval_ms", interval_ms);
    cn_jsonw_object_end(&w);
    cn_rest_req req = {.method = "POST",
                       .path = CAIRN "runs/heartbeat",
                       .body = cn_buf_str(&w.buf),
                       .is_idempotent = true};
    cairn_status rc = cn_rest_call(ctx, &req, NULL);
    cn_jsonw_release(&w);
    if (rc != CAIRN_OK && cn_rest_missing_route(ctx)) {
        /* The server cannot reap lost runs: heartbeats are pointless there, not an error. */
        cn_log(ctx, CAIRN_LOG_DEBUG, "store", "%s has no heartbeat route: runs are not reaped",
               cn_rest_shown(ctx));
        cn_rest_no_heartbeat(ctx);
        return CAIRN_OK;
    }
    return rc;
}

/* Reaping lost runs is the server's work (it sees every heartbeat). */
static cairn_status runs_reap(cairn_ctx *ctx, int64_t now_ms, int64_t *n_reaped)
{
    (void)ctx;
    (void)now_ms;
    if (n_reaped)
        *n_reaped = 0;
    return CAIRN_OK;
}

/* ---- model registry ---- */

static cairn_status model_create(cairn_ctx *ctx, const char *name, const char *description,
                                 const cairn_tag *tags, size_t n_tags)
{
    cn_jsonw w;
    body_begin(&w);
    cn_jsonw_kstring(&w, "name", name);
    if (description && *description)
        cn_jsonw_kstring(&w, "description", description);
    if (n_tags) {
        cn_jsonw_key(&w, "tags");
        cn_rest_write_tags(&w, tags, n_tags);
    }
    return send(ctx, "POST", MLFLOW "registered-models/create", &w, false, NULL);
}

static cairn_status model_get(cairn_ctx *ctx, const char *name, cairn_registered_model **out)
{
    cn_buf q = CN_BUF_INIT;
    cn_json *j = NULL;
    *out = NULL;
    cn_rest_query_add(&q, "name", name);
    cairn_status rc = get(ctx, MLFLOW "registered-models/get", &q, &j);
    return rc == CAIRN_OK
               ? one_item(ctx, j, "registered_model", sizeof **out,
                          offsetof(cairn_registered_model, internal_), dec_model, (void **)out)
               : rc;
}

static cairn_status model_rename(cairn_ctx *ctx, const char *name, const char *new_name)
{
    cn_jsonw w;
    body_begin(&w);
    cn_jsonw_kstring(&w, "name", name);
    cn_jsonw_kstring(&w, "new_name", new_name);
    return send(ctx, "POST", MLFLOW "registered-models/rename", &w, false, NULL);
}

static cairn_status model_update(cairn_ctx *ctx, const char *name, const char *description)
{
    cn_jsonw w;
    body_begin(&w);
    cn_jsonw_kstring(&w, "name", name);
    cn_jsonw_kstring(&w, "description", description ? description : "");
    return send(ctx, "PATCH", MLFLOW "registered-models/update", &w, true, NULL);
}

static cairn_status model_delete(cairn_ctx *ctx, const char *name)
{
    cn_jsonw w;
    body_begin(&w);
    cn_jsonw_kstring(&w, "name", name);
    return send(ctx, "DELETE", MLFLOW "registered-models/delete", &w, true, NULL);
}

static cairn_status model_set_tag(cairn_ctx *ctx, const char *name, const char *key,
                                  const char *value)
{
    cn_jsonw w;
    body_begin(&w);
    cn_jsonw_kstring(&w, "name", name);
    cn_jsonw_kstring(&w, "key", key);
    if (value)
        cn_jsonw_kstring(&w, "value", value);
    return value ? send(ctx, "POST", MLFLOW "registered-models/set-tag", &w, true, NULL)
                 : send(ctx, "DELETE", MLFLOW "registered-models/delete-tag", &w, true, NULL);
}

/* Appends "<lhs> <op> '<value>'" to a filter, the quote doubled inside (filter grammar). */
static void filter_clause(cn_buf *f, const char *lhs, const char *op, const char *value)
{
    cn_buf_printf(f, "%s%s %s '", f->len ? " AND " : "", lhs, op);
    for (const char *p = value; *p; p++) {
        if (*p == '\'')
            cn_buf_putc(f, '\'');
        cn_buf_putc(f, *p);
    }
    cn_buf_putc(f, '\'');
}

static void tag_clauses(cn_buf *f, const cairn_tag *tags, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        cn_buf lhs = CN_BUF_INIT;
        cn_buf_puts(&lhs, "tags.`");
        cn_buf_puts(&lhs, tags[i].key);
        cn_buf_putc(&lhs, '`');
        filter_clause(f, lhs.data, "=", tags[i].value ? tags[i].value : "");
        cn_buf_release(&lhs);
    }
}

static cairn_status models_search(cairn_ctx *ctx, const cairn_registered_model_query *q,
                                  cairn_registered_model_page **out)
{
    cn_buf qs = CN_BUF_INIT, filter = CN_BUF_INIT;
    cn_json *j = NULL;
    *out = NULL;
    if (q->name_like)
        filter_clause(&filter, "name", "LIKE", q->name_like);
    tag_clauses(&filter, q->tags, q->n_tags);
    if (filter.len)
        cn_rest_query_add(&qs, "filter", filter.data);
    cn_rest_query_add_int(&qs, "max_results", q->max_results > 0 ? q->max_results : 100);
    cn_rest_query_add(&qs, "order_by", "name ASC");
    if (q->page_token && *q->page_token)
        cn_rest_query_add(&qs, "page_token", q->page_token);
    cn_buf_release(&filter);
    cairn_status rc = get(ctx, MLFLOW "registered-models/search", &qs, &j);
    if (rc == CAIRN_OK)
        *out = page_of(j, "registered_models", sizeof(cairn_registered_model), dec_model);
    return rc;
}

static cairn_status version_set_semver(cairn_ctx *ctx, const char *name, int64_t version,
                                       const char *semver);

static cairn_status version_create(cairn_ctx *ctx, const cn_version_new *in, int64_t *version_out)
{
    cn_jsonw w;
    cn_json *j = NULL;
    *version_out = 0;
    body_begin(&w);
    cn_jsonw_kstring(&w, "name", in->name);
    cn_jsonw_kstring(&w, "source", in->source);
    if (in->run_id && *in->run_id)
        cn_jsonw_kstring(&w, "run_id", in->run_id);
    if (in->description && *in->description)
        cn_jsonw_kstring(&w, "description", in->description);
    if (in->n_tags) {
        cn_jsonw_key(&w, "tags");
        cn_rest_write_tags(&w, in->tags, in->n_tags);
    }
    cn_jsonw_kstring(&w, "user_id", in->user); /* an extra field, as user and reason below */
    cairn_status rc = send(ctx, "POST", MLFLOW "model-versions/create", &w, false, &j);
    if (rc == CAIRN_OK) {
        const cn_json *mv = cn_json_object_get(j, "model_version");
        if (!cn_json_member_int64(mv, "version", version_out) || *version_out <= 0)
            rc = cn_fail(ctx, CAIRN_EIO,
                         "the tracking server registered a version of '%s' without answering "
                         "its number",
                         in->name);
    }
    cn_json_free(j);
    if (rc == CAIRN_OK && in->semver)
        rc = version_set_semver(ctx, in->name, *version_out, in->semver);
    return rc;
}

static cairn_status version_get(cairn_ctx *ctx, const char *name, int64_t version,
                                cairn_model_version **out)
{
    cn_buf q = CN_BUF_INIT;
    cn_json *j = NULL;
    *out = NULL;
    cn_rest_query_add(&q, "name", name);
    cn_rest_query_add_int(&q, "version", version);
    cairn_status rc = get(ctx, MLFLOW "model-versions/get", &q, &j);
    return rc == CAIRN_OK
               ? one_item(ctx, j, "model_version", sizeof **out,
                          offsetof(cairn_model_version, internal_), dec_version, (void **)out)
               : rc;
}

static cairn_status version_get_by_alias(cairn_ctx *ctx, const char *name, const char *alias,
                                         cairn_model_version **out)
{
    cn_buf q = CN_BUF_INIT;
    cn_json *j = NULL;
    *out = NULL;
    cn_rest_query_add(&q, "name", name);
    cn_rest_query_add(&q, "alias", alias);
    cairn_status rc = get(ctx, MLFLOW "registered-models/alias", &q, &j);
    /* MLflow answers a missing alias with 400 "Registered model alias X not found." */
    if (rc == CAIRN_EINVAL && strstr(cairn_errmsg(ctx), "not found"))
        return cn_fail(ctx, CAIRN_ENOTFOUND, "model '%s' has no alias '%s'", name, alias);
    return rc == CAIRN_OK
               ? one_item(ctx, j, "model_version", sizeof **out,
                          offsetof(cairn_model_version, internal_), dec_version, (void **)out)
               : rc;
}

static cairn_status version_update(cairn_ctx *ctx, const char *name, int64_t version,
                                   const char *description)
{
    cn_jsonw w;
    body_begin(&w);
    cn_jsonw_kstring(&w, "name", name);
    kversion(&w, "version", version);
    cn_jsonw_kstring(&w, "description", description ? description : "");
    return send(ctx, "PATCH", MLFLOW "model-versions/update", &w, true, NULL);
}

/* mv->user and mv->reason ride along as extra fields: MLflow ignores unknown fields (spec
 * §2.3), a cairn server records them in the event. */
static void who(cn_jsonw *w, const cairn_registry_move_opts *mv)
{
    if (mv && mv->user)
        cn_jsonw_kstring(w, "user", mv->user);
    if (mv && mv->reason && *mv->reason)
        cn_jsonw_kstring(w, "reason", mv->reason);
}

static cairn_status version_delete(cairn_ctx *ctx, const char *name, int64_t version,
                                   const cairn_registry_move_opts *mv)
{
    cn_jsonw w;
    body_begin(&w);
    cn_jsonw_kstring(&w, "name", name);
    kversion(&w, "version", version);
    who(&w, mv);
    return send(ctx, "DELETE", MLFLOW "model-versions/delete", &w, true, NULL);
}

static cairn_status version_set_tag(cairn_ctx *ctx, const char *name, int64_t version,
                                    const char *key, const char *value)
{
    cn_jsonw w;
    body_begin(&w);
    cn_jsonw_kstring(&w, "name", name);
    kversion(&w, "version", version);
    cn_jsonw_kstring(&w, "key", key);
    if (value)
        cn_jsonw_kstring(&w, "value", value);
    return value ? send(ctx, "POST", MLFLOW "model-versions/set-tag", &w, true, NULL)
                 : send(ctx, "DELETE", MLFLOW "model-versions/delete-tag", &w, true, NULL);
}

static cairn_status version_set_semver(cairn_ctx *ctx, const char *name, int64_t version,
                                       const char *semver)
{
    cn_jsonw w;
    body_begin(&w);
    cn_jsonw_kstring(&w, "name", name);
    kversion(&w, "version", version);
    cn_jsonw_kstring(&w, "semver", semver ? semver : "");
    return send(ctx, "POST", CAIRN "model-versions/set-semver", &w, true, NULL);
}

static cairn_status versions_search(cairn_ctx *ctx, const cairn_model_version_query *q,
                                    cairn_model_version_page **out)
{
    cn_buf qs = CN_BUF_INIT, filter = CN_BUF_INIT;
    cn_json *j = NULL;
    *out = NULL;
    if (q->name)
        filter_clause(&filter, "name", "=", q->name);
    if (q->run_id)
        filter_clause(&filter, "run_id", "=", q->run_id);
    if (filter.len)
        cn_rest_query_add(&qs, "filter", filter.data);
    cn_rest_query_add_int(&qs, "max_results", q->max_results > 0 ? q->max_results : 100);
    cn_rest_query_add(&qs, "order_by", "name ASC");
    cn_rest_query_add(&qs, "order_by", "version_number DESC");
    if (q->page_token && *q->page_token)
        cn_rest_query_add(&qs, "page_token", q->page_token);
    cn_buf_release(&filter);
    cairn_status rc = get(ctx, MLFLOW "model-versions/search", &qs, &j);
    if (rc == CAIRN_OK)
        *out = page_of(j, "model_versions", sizeof(cairn_model_version), dec_version);
    return rc;
}

static cairn_status alias_move(cairn_ctx *ctx, const char *name, const char *alias, cn_alias_op op,
                               int64_t version, const cairn_registry_move_opts *mv,
                               int64_t *version_out)
{
    cn_jsonw w;
    cn_json *j = NULL;
    cairn_status rc;
    int64_t unused;
    if (!version_out)
        version_out = &unused;
    *version_out = 0;
    body_begin(&w);
    cn_jsonw_kstring(&w, "name", name);
    cn_jsonw_kstring(&w, "alias", alias);
    switch (op) {
    case CN_ALIAS_SET:
        kversion(&w, "version", version);
        who(&w, mv);
        rc = send(ctx, "POST", MLFLOW "registered-models/alias", &w, true, NULL);
        if (rc == CAIRN_OK)
            *version_out = version;
        return rc;
    case CN_ALIAS_DELETE:
        who(&w, mv);
        return send(ctx, "DELETE", MLFLOW "registered-models/alias", &w, true, NULL);
    case CN_ALIAS_ROLLBACK:
        who(&w, mv);
        /* Not retried after it may have reached the server: a second rollback undoes it. */
        rc = send(ctx, "POST", CAIRN "registry/rollback", &w, false, &j);
        if (rc == CAIRN_OK && !cn_json_member_int64(j, "version", version_out))
            rc = cn_fail(ctx, CAIRN_EIO,
                         "the tracking server rolled back alias '%s' without answering where it "
                         "points",
                         alias);
        cn_json_free(j);
        return rc;
    }
    cn_jsonw_release(&w);
    return cn_fail(ctx, CAIRN_EINTERNAL, "unknown alias operation %d", (int)op);
}

static cairn_status stage_transition(cairn_ctx *ctx, const char *name, int64_t version,
                                     cairn_model_stage stage, bool archive_existing,
                                     const cairn_registry_move_opts *mv)
{
    cn_jsonw w;
    body_begin(&w);
    cn_jsonw_kstring(&w, "name", name);
    kversion(&w, "version", version);
    cn_jsonw_kstring(&w, "stage", cn_stage_names[stage]);
    cn_jsonw_kbool(&w, "archive_existing_versions", archive_existing);
    who(&w, mv);
    return send(ctx, "POST", MLFLOW "model-versions/transition-stage", &w, true, NULL);
}

static cairn_status registry_history(cairn_ctx *ctx, const cairn_registry_history_query *q,
                                     cairn_registry_event_page **out)
{
    cn_buf qs = CN_BUF_INIT;
    cn_json *j = NULL;
    *out = NULL;
    cn_rest_query_add(&qs, "name", q->name);
    if (q->alias)
        cn_rest_query_add(&qs, "alias", q->alias);
    if (q->max_results > 0)
        cn_rest_query_add_int(&qs, "max_results", q->max_results);
    if (q->page_token && *q->page_token)
        cn_rest_query_add(&qs, "page_token", q->page_token);
    cairn_status rc = get(ctx, CAIRN "registry/history", &qs, &j);
    if (rc == CAIRN_OK)
        *out = page_of(j, "events", sizeof(cairn_registry_event), dec_event);
    return rc;
}

static const char *const rest_schemes[] = {"http", "https", NULL};

const cn_store_ops cn_store_rest_ops = {
    .name = "rest",
    .schemes = rest_schemes,
    .open = cn_rest_open,
    .close = cn_rest_close,
    .experiment_create = experiment_create,
    .experiment_get = experiment_get,
    .experiment_get_by_name = experiment_get_by_name,
    .experiment_rename = experiment_rename,
    .experiment_set_tag = experiment_set_tag,
    .experiment_delete_tag = experiment_delete_tag,
    .experiment_set_deleted = experiment_set_deleted,
    .experiments_search = experiments_search,
    .run_create = run_create,
    .run_lookup = run_lookup,
    .run_get = run_get,
    .run_update = run_update,
    .run_set_deleted = run_set_deleted,
    .log_batch = log_batch,
    .delete_tag = delete_tag,
    .log_inputs = log_inputs,
    .record_artifact = record_artifact,
    .artifacts_list = artifacts_list,
    .metric_history = metric_history,
    .runs_search = runs_search,
    .experiment_keys = experiment_keys,
    .run_heartbeat = run_heartbeat,
    .runs_reap = runs_reap,
    .model_create = model_create,
    .model_get = model_get,
    .model_rename = model_rename,
    .model_update = model_update,
    .model_delete = model_delete,
    .model_set_tag = model_set_tag,
    .models_search = models_search,
    .version_create = version_create,
    .version_get = version_get,
    .version_get_by_alias = version_get_by_alias,
    .version_update = version_update,
    .version_delete = version_delete,
    .version_set_tag = version_set_tag,
    .version_set_semver = version_set_semver,
    .versions_search = versions_search,
    .alias_move = alias_move,
    .stage_transition = stage_transition,
    .registry_history = registry_history,
};
