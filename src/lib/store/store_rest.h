/* SPDX-License-Identifier: MIT */
/* store_rest.h - the remote store (cn_store_rest_ops, schemes http and https): every store
 * operation as a request to an MLflow-compatible tracking server (`cairn server` or MLflow's
 * own), over one keep-alive libcurl handle per store. store_rest.c is the transport (requests,
 * retries, auth, error mapping) and the only home of libcurl; store_rest_decode.c turns
 * response JSON into the public result types; store_rest_ops.c holds the operations. The pure
 * helpers below are declared here for tests/unit/test_rest_store.c. See docs/remote.md. */
#ifndef CN_STORE_REST_H
#define CN_STORE_REST_H
#include <stdbool.h>
#include <stdio.h>
#include "cairn/registry.h"
#include "cairn/tracking.h"
#include "formats/json.h"
#include "base/arena.h"
#include "base/buf.h"
#include "store/store_ops.h"

extern const cn_store_ops cn_store_rest_ops;

/* Limits of one log-batch request (MLflow's, spec §4); bigger batches are split. */
#define CN_REST_BATCH_METRICS 1000
#define CN_REST_BATCH_PARAMS 100
#define CN_REST_BATCH_TAGS 100
#define CN_REST_BATCH_ENTITIES 1000

typedef struct cn_rest_store cn_rest_store;

/* One request. path starts with "/" ("/api/2.0/mlflow/runs/get"); query is encoded, without
 * the '?', or NULL; body is JSON text or NULL (a GET has none). */
typedef struct cn_rest_req {
    const char *method; /* "GET", "POST", "PATCH", "DELETE", "PUT" */
    const char *path;
    const char *query;
    const char *body;
    const char *upload_file; /* PUT: the local file sent as the raw body */
    /* May be sent again after it may have reached the server: log-batch, reads, updates. A
     * create (runs/create, experiments/create, ...) is not: it is retried only when the
     * connection was never made or the server answered 429 (it did nothing). */
    bool is_idempotent;
} cn_rest_req;

/* Sends req, retrying as docs/remote.md says. On a 2xx answer *out (may be NULL when the
 * answer is not wanted) is its JSON object ({} for an empty body); otherwise the error is
 * mapped to a cairn_status with the server's message (cn_rest_status_for). */
cairn_status cn_rest_call(cairn_ctx *ctx, const cn_rest_req *req, cn_json **out);
/* A GET whose answer is raw bytes (an artifact): *data (len bytes) is borrowed until the next
 * request on ctx. */
cairn_status cn_rest_get_bytes(cairn_ctx *ctx, const char *path, const void **data, size_t *len);
/* Downloads artifact file `path` of a remote run into the run's staging folder
 * (cn_rest_staging_dir), replacing what is there, so cairn_run_artifact_path() can hand out a
 * local path. ENOTFOUND when the server has no such file. */
cairn_status cn_rest_fetch_artifact(cairn_ctx *ctx, const char *run_id, const char *path);
/* A file fetched so: its copy in the staging folder is the server's and is removed when the
 * store closes (with the folders it leaves empty, up to $TMPDIR/cairn-<run_id>), unless it was
 * changed since (size or modification time): then it is kept, as a file never sent would be. */
void cn_rest_note_fetched(cairn_ctx *ctx, const char *run_id, const char *path, const char *local);
/* Whether artifact `path` of run_id was fetched by this store and is unchanged since: the
 * server has it, so a run handle need not keep its staging folder for it. */
bool cn_rest_fetched_unchanged(cairn_ctx *ctx, const char *run_id, const char *path);
/* The table's open and close (store_rest.c). */
cairn_status cn_rest_open(cairn_ctx *ctx, const char *uri, const cairn_open_opts *opts,
                          cn_store **out, char **artifact_root_out);
void cn_rest_close(cn_store *s);
/* The rest store behind ctx (asserts it is one). */
cn_rest_store *cn_rest_store_of(cairn_ctx *ctx);
/* The local folder where a run's artifacts are staged before upload:
 * $TMPDIR/cairn-<run_id>/artifacts (the caller frees). */
char *cn_rest_staging_dir(const char *run_id);
/* True when the last request failed because the server has no such route (a plain MLflow
 * server asked for a cairn route). */
bool cn_rest_missing_route(cairn_ctx *ctx);
/* Per-store memory of what the server can do and of the last run's artifact location. */
bool cn_rest_has_heartbeat(cairn_ctx *ctx);
void cn_rest_no_heartbeat(cairn_ctx *ctx);
const char *cn_rest_cached_artifact_uri(cairn_ctx *ctx, const char *run_id);
void cn_rest_cache_artifact_uri(cairn_ctx *ctx, const char *run_id, const char *uri);
/* The server's URL for messages (credentials removed). */
const char *cn_rest_shown(cairn_ctx *ctx);

/* ---- pure helpers (unit-tested) ---- */

/* Checks an http(s) store URI and splits it: *base_out is the URL without a trailing '/',
 * *shown_out the same with any user:password@ removed. EINVAL naming the URI. */
cairn_status cn_rest_parse_uri(cairn_ctx *ctx, const char *uri, char **base_out, char **shown_out);
/* Appends "&key=value" ("key=value" on an empty buffer) percent-encoded (RFC 3986
 * unreserved characters kept). value NULL appends nothing. */
void cn_rest_query_add(cn_buf *q, const char *key, const char *value);
void cn_rest_query_add_int(cn_buf *q, const char *key, int64_t value);
/* Appends path percent-encoded segment by segment ('/' kept). */
void cn_rest_path_append(cn_buf *out, const char *path);
/* The cairn_status of an error answer: by MLflow error_code when there is one (NULL
 * otherwise), else by HTTP status. ENDPOINT_NOT_FOUND (or a 404 without JSON) is EINVAL:
 * the server does not have that route. */
cairn_status cn_rest_status_for(long http_status, const char *error_code);
/* True when an answer means the route is missing (a plain MLflow server asked for a cairn
 * route): 404 with ENDPOINT_NOT_FOUND or without an error code. */
bool cn_rest_is_missing_route(long http_status, const char *error_code);
/* Whether to send a request again after a failure: kind 0 = the connection was never made,
 * 1 = the request may have reached the server (timeout, reset), 2 = an HTTP answer with
 * http_status. */
bool cn_rest_should_retry(int kind, long http_status, bool is_idempotent);
/* The wait before retry number attempt (1, 2, ...) in ms: 500 * 2^(attempt-1) capped at
 * 4000, times jitter in [0.5, 1.5) (jitter01 in [0, 1)). */
int64_t cn_rest_backoff_ms(int attempt, double jitter01);
/* The path below the artifact proxy of an artifact URI the server gave:
 * "mlflow-artifacts:/1/abc/artifacts" and "mlflow-artifacts://host:5000/1/abc/artifacts" give
 * "1/abc/artifacts". NULL for any other scheme (the server does not proxy artifacts). In a. */
const char *cn_rest_artifact_proxy_path(cn_arena *a, const char *artifact_uri);
/* Writes the body of one log-batch request for run_id, taking metrics, params and tags from
 * the front of each list within the per-request limits; *used_* say how many were taken. */
void cn_rest_batch_json(cn_buf *out, const char *run_id, const cairn_metric *metrics,
                        size_t n_metrics, const cairn_param *params, size_t n_params,
                        const cairn_tag *tags, size_t n_tags, size_t *used_metrics,
                        size_t *used_params, size_t *used_tags);

/* ---- response decoders (store_rest_decode.c): strings copied into a ---- */
void cn_rest_decode_experiment(const cn_json *j, cn_arena *a, cairn_experiment *out);
void cn_rest_decode_run(const cn_json *j, cn_arena *a, cairn_run_record *out);
void cn_rest_decode_metric(const cn_json *j, cn_arena *a, cairn_metric *out);
void cn_rest_decode_model(const cn_json *j, cn_arena *a, cairn_registered_model *out);
void cn_rest_decode_version(const cn_json *j, cn_arena *a, cairn_model_version *out);
void cn_rest_decode_event(const cn_json *j, cn_arena *a, cairn_registry_event *out);
/* [{key, value}, ...] */
void cn_rest_decode_tags(const cn_json *arr, cn_arena *a, cairn_tag **tags, size_t *n);
/* Reads array member key of obj into *items (n of them, `size` bytes each, in a) with fn. */
typedef void (*cn_rest_decode_fn)(const cn_json *j, cn_arena *a, void *item);
void cn_rest_decode_array(const cn_json *obj, const char *key, cn_arena *a, size_t size,
                          cn_rest_decode_fn fn, void **items, size_t *n);
/* Writes [{"key": k, "value": v}, ...] as the value of the next member. */
void cn_rest_write_tags(cn_jsonw *w, const cairn_tag *tags, size_t n);
/* MLflow's limit on a dataset digest, and the input tag that carries a longer one whole. */
#define CN_REST_DIGEST_MAX 36
#define CN_REST_DIGEST_TAG "cairn.digest"

#endif
