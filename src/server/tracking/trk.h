/* SPDX-License-Identifier: MIT */
/* trk.h - the tracking server: MLflow's REST API (and cairn's own /api/2.0/cairn routes) mapped
 * onto libcairn's public API. No SQL here: every route parses its request, calls cairn_* and
 * writes the answer. The routes are split by area (routes_*.c); this header is what they
 * share: the per-request call, the parameter readers and the entity writers. */
#ifndef TRK_H
#define TRK_H
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include "cairn/auth.h"
#include "cairn/cairn.h"
#include "cairn/registry.h"
#include "cairn/tracking.h"
#include "base/jsonw.h"
#include "http/http.h"
#include "tracking/server.h"

typedef struct trk_app trk_app;

/* One request being answered. */
typedef struct trk_call {
    trk_app *app;
    http_request *req;
    http_response *resp;
    cairn_ctx *ctx;   /* this worker thread's store connection */
    json_t *in;       /* the parameters: the JSON body, or the query string as an object */
    cn_jsonw w;       /* the answer's object, begun by the dispatcher */
    bool failed;      /* an error answer is set */
    const char *user; /* the authenticated user; NULL without --auth */
} trk_call;

typedef void (*trk_route_fn)(trk_call *c);

/* ---- errors (MLflow's error JSON and status table) ---- */

/* Answers {"error_code": code, "message": ...} with HTTP status `status`. Returns false. */
bool trk_fail(trk_call *c, int status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Answers the library's failure: EINVAL/ELIMIT 400 INVALID_PARAMETER_VALUE, ENOTFOUND 404
 * RESOURCE_DOES_NOT_EXIST, EEXIST 400 RESOURCE_ALREADY_EXISTS, EDB 503 TEMPORARILY_UNAVAILABLE
 * for a busy store, else 500 INTERNAL_ERROR; the message is cairn_errmsg(). Returns false. */
bool trk_fail_status(trk_call *c, cairn_status st);
/* The same with the message given (a failure recorded away from c->ctx). */
bool trk_fail_message(trk_call *c, cairn_status st, const char *msg);

/* ---- request parameters: MLflow's conventions (int64 as number or string, doubles as
 * numbers or "NaN"/"Infinity"/"-Infinity"/numeric strings, bools true/false or "true"/
 * "false", repeated fields as arrays or repeated query keys, unknown fields ignored). Each
 * returns false after answering 400 when the value is malformed or a required one is
 * missing; *present (may be NULL) says whether it was given. ---- */
bool trk_str(trk_call *c, const char *key, bool required, const char **out);
bool trk_int64(trk_call *c, const char *key, bool required, int64_t *out, bool *present);
bool trk_double(trk_call *c, const char *key, bool required, double *out);
bool trk_bool(trk_call *c, const char *key, bool *out, bool *present);
/* A repeated string field; *out is a new array of borrowed strings (free() it). */
bool trk_str_list(trk_call *c, const char *key, const char ***out, size_t *n);
/* Reads a double from a JSON value the same way (for metrics inside log-batch). */
bool trk_json_double(trk_call *c, json_t *v, const char *what, double *out);
bool trk_json_int64(trk_call *c, json_t *v, const char *what, int64_t *out);
/* A field of a nested object: a string, NULL when absent; fails on another type. */
bool trk_obj_str(trk_call *c, json_t *obj, const char *key, const char *what, bool required,
                 const char **out);
/* The run id of a request: run_id, else run_uuid (clients send both). */
bool trk_run_id(trk_call *c, const char **out);
/* key/value pairs of an array field ("tags": [{"key":..,"value":..}]); *out (free()) borrows. */
bool trk_kv_list(trk_call *c, json_t *arr, const char *what, cairn_tag **out, size_t *n);

/* ---- answers ---- */

/* Turns a local path under the artifact root into "mlflow-artifacts:/<rel>"; others as they
 * are. Returns a new string. */
char *trk_artifact_uri(const trk_app *app, const char *local);
void trk_write_tags(cn_jsonw *w, const char *key, const cairn_tag *tags, size_t n);
void trk_write_experiment(trk_call *c, const cairn_experiment *e);
void trk_write_run_info(trk_call *c, const cairn_run_info *info);
void trk_write_run(trk_call *c, const cairn_run_record *r);
void trk_write_registered_model(trk_call *c, const cairn_registered_model *m);
void trk_write_model_version(trk_call *c, const cairn_model_version *v);

/* ---- the server's state routes may read ---- */
const char *trk_artifact_root(const trk_app *app); /* absolute, resolved */
const trk_config *trk_app_config(const trk_app *app);

/* ---- route tables (one per area) ---- */
typedef struct trk_route {
    const char *path; /* after /api/2.0/ (or /ajax-api/2.0/): "mlflow/runs/create" */
    unsigned methods; /* TRK_GET | TRK_POST ... */
    trk_route_fn fn;
} trk_route;
enum { TRK_GET = 1, TRK_POST = 2, TRK_PATCH = 4, TRK_DELETE = 8, TRK_PUT = 16 };

extern const trk_route trk_tracking_routes[];
extern const size_t trk_n_tracking_routes;
extern const trk_route trk_registry_routes[];
extern const size_t trk_n_registry_routes;
extern const trk_route trk_ui_routes[]; /* routes_ui.c: what the web UI reads */
extern const size_t trk_n_ui_routes;

/* The mlflow-artifacts proxy (artifacts.c). */
bool trk_artifacts_begin(trk_app *app, http_request *req, http_response *resp);
void trk_artifacts_handle(trk_call *c, const char *rel);
void trk_artifacts_finish(trk_app *app, http_request *req, bool completed);
/* GET mlflow/artifacts/list (by run). */
void trk_route_artifacts_list(trk_call *c);
/* Writes "files": the entries directly under `path` of the local folder `dir` (which must lie
 * under the artifact root; nothing is written otherwise), paths prefixed with `path`. */
void trk_artifacts_list_local(trk_call *c, const char *dir, const char *path);

/* Authentication and permissions (auth.c), used only with --auth: c->user is then set. */
bool trk_auth_authenticate(trk_app *app, cairn_ctx *ctx, http_request *req, http_response *resp);
/* Checks the route's rule for c->user; answers 403 (or 404 for a missing resource) and
 * returns false when refused. */
bool trk_auth_authorize(trk_call *c, const char *suffix);
bool trk_auth_artifact_path(trk_call *c, const char *rel);
/* May c->user read the resource? (always without --auth) */
bool trk_auth_can_read(trk_call *c, cairn_auth_kind kind, const char *resource);
/* Gives the creator MANAGE on what they created. */
void trk_auth_created(trk_call *c, cairn_auth_kind kind, const char *resource);

/* Logged models (routes_logged_models.c): rest is what follows "mlflow/logged-models". */
void trk_logged_models_route(trk_call *c, const char *rest, unsigned method);
void trk_route_runs_outputs(trk_call *c);
#endif
