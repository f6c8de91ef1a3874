/* SPDX-License-Identifier: MIT */
/* msv.h - the model server's internals shared by its files: the served model, the batch
 * queue (batch.c), the monitoring window and drift checks (monitor.c), the counters behind
 * GET /metrics (metrics.c), and the app that routes requests (server.c). */
#ifndef MSV_H
#define MSV_H
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include "cairn/drift.h"
#include "cairn/learn.h"
#include "cairn/tracking.h"
#include "http/http.h"
#include "serving/decode.h"
#include "serving/serve.h"

/* ---- the served model ---- */

typedef struct msv_model {
    cairn_model *model;
    cairn_drift_reference *ref; /* NULL with --no-monitor and no profile */
    msv_schema schema;
    char *name;    /* as /v2/models/NAME names it */
    char *version; /* registry version, run id, or the file's SHA-256 prefix */
    char *ident;   /* "name/version": the X-Cairn-Model header */
    char *source;  /* the MODEL argument */
    double load_s; /* time to resolve and load */
    size_t n_classes;
    char **label_json; /* classifiers: each class as a JSON value (a number when it is one) */
} msv_model;

/* ---- metrics (metrics.c) ---- */

typedef enum msv_route {
    MSV_R_INVOCATIONS = 0,
    MSV_R_V2_INFER,
    MSV_R_PING,
    MSV_R_HEALTH,
    MSV_R_VERSION,
    MSV_R_METRICS,
    MSV_R_V2_HEALTH,
    MSV_R_V2_METADATA,
    MSV_R_OTHER,
    MSV_R_COUNT
} msv_route;

#define MSV_N_CODES 10
#define MSV_N_LAT_BUCKETS 15
#define MSV_N_BATCH_BUCKETS 14

typedef struct msv_metrics {
    atomic_uint_fast64_t requests[MSV_R_COUNT][MSV_N_CODES];
    atomic_uint_fast64_t lat_bucket[MSV_R_COUNT][MSV_N_LAT_BUCKETS];
    atomic_uint_fast64_t lat_count[MSV_R_COUNT];
    atomic_uint_fast64_t lat_sum_ns[MSV_R_COUNT];
    atomic_uint_fast64_t batch_bucket[MSV_N_BATCH_BUCKETS];
    atomic_uint_fast64_t batch_count, batch_rows, batch_requests;
    atomic_uint_fast64_t rows_predicted;
    /* Drift, as each version's last check left it: Prometheus text per owner (a monitor, or
     * the app), swapped under drift_mu and merged by metric family when rendered. */
    pthread_mutex_t drift_mu;
    const void **drift_owner;
    char **drift_text;
    size_t n_drift;
} msv_metrics;

void msv_metrics_init(msv_metrics *m);
void msv_metrics_release(msv_metrics *m);
/* Counts a finished request. */
void msv_metrics_request(msv_metrics *m, msv_route r, int status, int64_t ns);
void msv_metrics_batch(msv_metrics *m, size_t rows, size_t requests);
/* Replaces owner's drift lines (text is taken over; NULL removes them). Each owner's text
 * is whole families (# HELP, # TYPE, samples); families several owners share are rendered
 * once, with every owner's samples. */
void msv_metrics_set_drift(msv_metrics *m, const void *owner, char *text);
/* Appends every metric in Prometheus text format 0.0.4. */
void msv_metrics_render(msv_metrics *m, const msv_model *model, int in_flight, cn_buf *out);
/* Escapes a label value (backslash, quote, newline). */
void msv_metrics_label(cn_buf *out, const char *s);

/* ---- the monitoring window (monitor.c) ---- */

typedef struct msv_window msv_window;
msv_window *msv_window_new(const msv_schema *s, size_t rows);
void msv_window_free(msv_window *w);
/* Records the rows of t (the schema's features in order) and their predictions; called by the
 * predicting threads, never waits on a lock. */
void msv_window_add(msv_window *w, const cairn_table *t, const double *pred);
/* Rows recorded since the start. */
uint64_t msv_window_total(const msv_window *w);

typedef struct msv_monitor msv_monitor;
/* Starts the thread that checks the window every interval and records the scores on run
 * (may be NULL: no store writes) under metric keys that start with key_prefix ("drift." or
 * "drift.v4."). */
msv_monitor *msv_monitor_start(const msv_config *cfg, msv_model *model, msv_window *w,
                               msv_metrics *metrics, cairn_run *run, const char *key_prefix);
/* Stops it after one last check and takes its lines out of /metrics. NULL is a no-op. */
void msv_monitor_stop(msv_monitor *m);

/* ---- the batch queue (batch.c) ---- */

typedef enum msv_job_kind { MSV_JOB_MLFLOW = 0, MSV_JOB_V2 } msv_job_kind;

typedef struct msv_job {
    struct msv_job *next;
    http_pending *pending;
    cairn_table *rows; /* the schema's features in order */
    msv_job_kind kind;
    char *v2_id;
    atomic_int *hold; /* the served version's reference count, dropped once answered (or NULL) */
} msv_job;

typedef struct msv_batcher msv_batcher;
msv_batcher *msv_batcher_start(const msv_config *cfg, const msv_model *model, msv_window *w,
                               msv_metrics *metrics);
/* When no prediction is under way, predicts job at once on the caller's thread into resp
 * and frees it (true); else false and the job is the caller's still. */
bool msv_batcher_try_inline(msv_batcher *b, cairn_ctx *ctx, msv_job *job, http_response *resp);
/* Takes the job over; its request is answered (resumed) by a predicting thread. */
void msv_batcher_submit(msv_batcher *b, msv_job *job);
/* Answers what is queued, then stops the threads. NULL is a no-op. */
void msv_batcher_stop(msv_batcher *b);

/* Writes the answer of a job's rows: {"predictions": [...]} or the V2 response. */
void msv_encode_predictions(const msv_model *model, const msv_job *job, const double *pred,
                            size_t n, cn_buf *out);
/* An error answer in the route's shape: MLflow {"error_code", "message"} or V2 {"error"}. */
void msv_error(http_response *resp, msv_job_kind kind, int status, const char *msg);
#endif
