/* SPDX-License-Identifier: MIT */
/* bench_webui_seed.c - fills a store for bench/bench_webui.py through the public API: an
 * experiment of N_RUNS runs (3 params, 3 metrics, 2 tags each) and one run holding a metric of
 * N_POINTS points. Runs are made with cairn_runs_create() and their data logged with
 * cairn_runs_log_batches() 1000 runs to a transaction: the store's own group commit, the
 * fastest honest way in (no SQL from outside the store).
 *   bench_webui_seed STORE N_RUNS N_POINTS   -> prints "EXP_ID LONG_RUN_ID" */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cairn/tracking.h"

static void die(const char *what, cairn_ctx *ctx)
{
    fprintf(stderr, "bench_webui_seed: %s: %s\n", what, ctx ? cairn_errmsg(ctx) : "");
    exit(1);
}

#define GROUP 1000

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: bench_webui_seed STORE N_RUNS N_POINTS\n");
        return 2;
    }
    long n_runs = atol(argv[2]), n_points = atol(argv[3]);
    cairn_ctx *ctx = NULL;
    if (cairn_open(argv[1], NULL, &ctx) != CAIRN_OK)
        die("open", ctx);
    char *exp_id = NULL;
    if (cairn_experiment_create(ctx, "bench-webui", NULL, NULL, 0, &exp_id) != CAIRN_OK)
        die("experiment", ctx);
    srand48(42);
    static char ids[GROUP][33], pv[GROUP][3][24], tv[GROUP][2][16];
    static cairn_metric m[GROUP][3];
    static cairn_param p[GROUP][3];
    static cairn_tag t[GROUP][2];
    static cairn_run_batch b[GROUP];
    static cairn_status each[GROUP];
    const int64_t t0 = 1700000000000;
    for (long base = 0; base < n_runs; base += GROUP) {
        long n = n_runs - base < GROUP ? n_runs - base : GROUP;
        for (long j = 0; j < n; j++) {
            long i = base + j;
            char name[32];
            snprintf(name, sizeof name, "run-%06ld", i);
            cairn_run_opts o = CAIRN_RUN_OPTS_INIT;
            o.experiment_id = exp_id;
            o.name = name;
            o.start_ms = t0 + i * 1000;
            char *id = NULL;
            if (cairn_runs_create(ctx, &o, &id) != CAIRN_OK)
                die("create", ctx);
            snprintf(ids[j], sizeof ids[j], "%s", id);
            cairn_free(id);
            snprintf(pv[j][0], sizeof pv[j][0], "%g", 0.001 * (double)(1 + i % 10));
            snprintf(pv[j][1], sizeof pv[j][1], "%ld", 2 + i % 8);
            snprintf(pv[j][2], sizeof pv[j][2], "%s", i % 3 ? "adam" : "sgd");
            snprintf(tv[j][0], sizeof tv[j][0], "team-%ld", i % 5);
            snprintf(tv[j][1], sizeof tv[j][1], "g%ld", i % 7);
            m[j][0] = (cairn_metric){"loss", drand48(), t0 + i * 1000, 0};
            m[j][1] = (cairn_metric){"accuracy", drand48(), t0 + i * 1000, 0};
            m[j][2] = (cairn_metric){"f1", drand48(), t0 + i * 1000, 0};
            p[j][0] = (cairn_param){"lr", pv[j][0]};
            p[j][1] = (cairn_param){"depth", pv[j][1]};
            p[j][2] = (cairn_param){"optimizer", pv[j][2]};
            t[j][0] = (cairn_tag){"team", tv[j][0]};
            t[j][1] = (cairn_tag){"group", tv[j][1]};
            b[j] = (cairn_run_batch){ids[j], m[j], 3, p[j], 3, t[j], 2};
        }
        if (cairn_runs_log_batches(ctx, b, (size_t)n, each, NULL) != CAIRN_OK)
            die("log", ctx);
    }
    /* The long series: a noisy decaying curve, 1000 points to a batch, GROUP batches a call. */
    cairn_run_opts o = CAIRN_RUN_OPTS_INIT;
    o.experiment_id = exp_id;
    o.name = "long-series";
    o.start_ms = t0 + n_runs * 1000;
    char *long_id = NULL;
    if (cairn_runs_create(ctx, &o, &long_id) != CAIRN_OK)
        die("create", ctx);
    cairn_metric *pts = malloc((size_t)n_points * sizeof *pts);
    if (!pts)
        return 1;
    for (long i = 0; i < n_points; i++)
        pts[i] = (cairn_metric){"loss", 1.0 / (1.0 + (double)i / 1000.0) + 0.05 * drand48(),
                                t0 + i * 10, i};
    long n_batches = (n_points + 999) / 1000;
    cairn_run_batch *lb = calloc((size_t)n_batches, sizeof *lb);
    cairn_status *lst = calloc((size_t)n_batches, sizeof *lst);
    for (long k = 0; k < n_batches; k++) {
        long n = n_points - k * 1000 < 1000 ? n_points - k * 1000 : 1000;
        lb[k] = (cairn_run_batch){long_id, pts + k * 1000, (size_t)n, NULL, 0, NULL, 0};
    }
    for (long k = 0; k < n_batches; k += 100) {
        long n = n_batches - k < 100 ? n_batches - k : 100;
        if (cairn_runs_log_batches(ctx, lb + k, (size_t)n, lst + k, NULL) != CAIRN_OK)
            die("log series", ctx);
    }
    printf("%s %s\n", exp_id, long_id);
    free(lb);
    free(lst);
    free(pts);
    cairn_free(long_id);
    cairn_free(exp_id);
    cairn_close(ctx);
    return 0;
}
