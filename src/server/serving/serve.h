/* SPDX-License-Identifier: MIT */
/* serve.h - `cairn serve`: the model server's entry point, what the CLI calls
 * (src/cli/cmd_serve.c). Documented in docs/serving.md and docs/cli/cairn-serve.md. */
#ifndef MSV_SERVE_H
#define MSV_SERVE_H
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

typedef struct msv_config {
    const char *model;         /* a model file, runs:/RUN/PATH, models:/NAME@ALIAS or /VERSION */
    const char *name;          /* the served model's name; NULL: from the model URI */
    const char *store_uri;     /* NULL: the default store */
    const char *artifact_root; /* NULL: the store's */
    const char *host;          /* NULL: 127.0.0.1 */
    int port;                  /* 0: a free one */
    int workers;               /* HTTP threads; 0: 4 */
    int predict_threads;       /* threads that predict batches; 0: 1 */
    size_t max_batch_rows;     /* rows of one prediction batch; 0: 4096 */
    int batch_delay_us;        /* wait this long for more requests to batch; 0: none */
    size_t max_body;           /* request bodies; 0: 32 MiB */
    unsigned timeout_s;        /* idle connections; 0: 30 */
    FILE *access_log;          /* NULL: none */
    FILE *out;                 /* where the "listening on" line goes (stdout) */
    int grace_ms;              /* how long SIGTERM waits for requests under way; 0: 10000 */
    /* Monitoring. */
    bool no_monitor;         /* serve without a reference profile (reason required) */
    const char *reason;      /* why; recorded as a tag of the monitoring run */
    double monitor_interval; /* seconds between drift checks; 0: 60 */
    size_t window_rows;      /* the rows a check compares; 0: 10000 */
    size_t min_rows;         /* rows needed before a check; 0: 50 */
    const char *experiment;  /* the monitoring run's experiment; NULL: "monitoring/<name>" */
    /* Several versions (models:/NAME/... only). */
    const char *route;         /* "v3=90,v4=10": weighted split over versions; NULL: MODEL alone */
    const char *sticky_header; /* requests with this header keep to one version; NULL: none */
    const char *shadow;        /* a version that also predicts every request, logged only */
    const char *shadow_log;    /* its JSONL log; NULL: artifact shadow/predictions.jsonl */
    double poll_interval;      /* models:/NAME@ALIAS: seconds between registry polls; 0: 10 */
} msv_config;

/* Serves until SIGTERM or SIGINT; returns the exit code (0 after a clean stop), having printed
 * any error to stderr. */
int msv_serve(const msv_config *cfg);
#endif
