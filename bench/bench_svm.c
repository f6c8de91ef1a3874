/* SPDX-License-Identifier: MIT */
/* bench_svm.c - fits an SVM learner (svc, nusvc, svr, nusvr) on the training rows of a CSV
 * and predicts its test rows, best of REPEATS each, for bench/bench_svm.py, which times
 * scikit-learn on the same rows and compares. Prints one JSON object:
 *     {"fit_s": F, "predict_s": P, "pred": [...]}
 * pred: the class index (classification) or the value per test row, in the TEST_IDX order.
 * usage: bench_svm CSV LABEL LEARNER TRAIN_IDX TEST_IDX REPEATS [KEY=VALUE ...] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "cairn/learn.h"

#define MAX_PARAMS 32

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static size_t *read_rows(const char *path, size_t *n)
{
    FILE *f = fopen(path, "r");
    size_t cap = 256, *rows = malloc(cap * sizeof *rows);
    unsigned long long v;
    *n = 0;
    if (!f) {
        perror(path);
        exit(1);
    }
    while (fscanf(f, "%llu", &v) == 1) {
        if (*n == cap)
            rows = realloc(rows, (cap *= 2) * sizeof *rows);
        rows[(*n)++] = (size_t)v;
    }
    fclose(f);
    return rows;
}

int main(int argc, char **argv)
{
    if (argc < 7) {
        fprintf(stderr, "usage: %s CSV LABEL LEARNER TRAIN_IDX TEST_IDX REPEATS [KEY=VALUE ...]\n",
                argv[0]);
        return 2;
    }
    const char *keys[MAX_PARAMS], *values[MAX_PARAMS];
    char *own[MAX_PARAMS];
    size_t np = 0;
    for (int i = 7; i < argc && np < MAX_PARAMS; i++) {
        own[np] = strdup(argv[i]);
        char *eq = strchr(own[np], '=');
        if (!eq) {
            fprintf(stderr, "bench_svm: expected KEY=VALUE, got '%s'\n", argv[i]);
            return 2;
        }
        *eq = '\0';
        keys[np] = own[np];
        values[np++] = eq + 1;
    }
    int repeats = (int)strtol(argv[6], NULL, 10);
    size_t n_train, n_test;
    size_t *train = read_rows(argv[4], &n_train), *test = read_rows(argv[5], &n_test);
    cairn_ctx *ctx = cairn_ctx_new();
    cairn_table *t = NULL;
    if (cairn_csv_read(ctx, argv[1], NULL, &t) != CAIRN_OK) {
        fprintf(stderr, "bench_svm: %s\n", cairn_errmsg(ctx));
        return 1;
    }
    cairn_fit_opts o = CAIRN_FIT_OPTS_INIT;
    o.learner = argv[3];
    o.label = argv[2];
    o.param_keys = keys;
    o.param_values = values;
    o.n_params = np;
    o.train_rows = train;
    o.n_train = n_train;
    double fit_s = 1e300, pred_s = 1e300;
    double *pred = malloc((n_test ? n_test : 1) * sizeof *pred);
    cairn_model *m = NULL;
    for (int r = 0; r < (repeats > 0 ? repeats : 1); r++) {
        cairn_model_free(m);
        double t0 = now_s();
        if (cairn_model_fit(ctx, t, &o, &m) != CAIRN_OK) {
            fprintf(stderr, "bench_svm: %s\n", cairn_errmsg(ctx));
            return 1;
        }
        double t1 = now_s();
        if (cairn_model_predict(ctx, m, t, test, n_test, pred) != CAIRN_OK) {
            fprintf(stderr, "bench_svm: %s\n", cairn_errmsg(ctx));
            return 1;
        }
        double t2 = now_s();
        fit_s = t1 - t0 < fit_s ? t1 - t0 : fit_s;
        pred_s = t2 - t1 < pred_s ? t2 - t1 : pred_s;
    }
    printf("{\"fit_s\": %.9g, \"predict_s\": %.9g, \"pred\": [", fit_s, pred_s);
    for (size_t i = 0; i < n_test; i++)
        printf("%s%.17g", i ? ", " : "", pred[i]);
    printf("]}\n");
    cairn_model_free(m);
    cairn_table_free(t);
    cairn_close(ctx);
    free(pred);
    free(train);
    free(test);
    for (size_t i = 0; i < np; i++)
        free(own[i]);
    return 0;
}
