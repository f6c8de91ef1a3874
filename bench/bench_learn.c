/* SPDX-License-Identifier: MIT */
/* bench_learn.c - fits logistic, mlp and xgboost on the bundled datasets with the train/test
 * split that bench_learn.py wrote, and prints "dataset learner fit_seconds test_metric" lines
 * (accuracy, or R^2 for diabetes). Run through bench/bench_learn.py, which runs scikit-learn
 * and python3-xgboost on the same rows and prints the ratios.
 * usage: bench_learn DATA_DIR SPLIT_DIR [REPEATS] */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "cairn/learn.h"

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

typedef struct setup {
    const char *learner;
    const char *keys[8], *values[8];
    size_t n;
} setup;

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: %s DATA_DIR SPLIT_DIR [REPEATS]\n", argv[0]);
        return 2;
    }
    int repeats = argc > 3 ? (int)strtol(argv[3], NULL, 10) : 3;
    static const char *const datasets[] = {"iris", "wine", "breast_cancer", "digits", "diabetes"};
    cairn_ctx *ctx = cairn_ctx_new();
    for (size_t di = 0; di < sizeof datasets / sizeof datasets[0]; di++) {
        const char *name = datasets[di];
        bool regression = strcmp(name, "diabetes") == 0;
        char path[4096];
        snprintf(path, sizeof path, "%s/%s.csv", argv[1], name);
        cairn_table *t = NULL;
        if (cairn_csv_read(ctx, path, NULL, &t) != CAIRN_OK) {
            fprintf(stderr, "bench_learn: %s\n", cairn_errmsg(ctx));
            return 1;
        }
        size_t n_train, n_test;
        snprintf(path, sizeof path, "%s/%s.train", argv[2], name);
        size_t *train = read_rows(path, &n_train);
        snprintf(path, sizeof path, "%s/%s.test", argv[2], name);
        size_t *test = read_rows(path, &n_test);
        const char *task = regression ? "regression" : "classification";
        setup setups[] = {
            {"logistic", {"C", "tol"}, {"1.0", "1e-4"}, 2},
            {"mlp", {"hidden", "epochs", "task"}, {"64", "200", task}, 3},
            {"xgboost",
             {"num_round", "max_depth", "eta", "tree_method", "nthread", "task"},
             {"100", "6", "0.3", "hist", "1", task},
             6},
            {"ridge", {"alpha"}, {"1.0"}, 1},
        };
        int li = cairn_table_find(t, "target");
        double *y = t->cols[li].num, *pred = malloc(n_test * sizeof *pred);
        for (size_t s = 0; s < sizeof setups / sizeof setups[0]; s++) {
            const setup *su = &setups[s];
            bool for_regression = strcmp(su->learner, "ridge") == 0,
                 for_classes = strcmp(su->learner, "logistic") == 0;
            if ((regression && for_classes) || (!regression && for_regression))
                continue;
            cairn_fit_opts o = CAIRN_FIT_OPTS_INIT;
            o.learner = su->learner;
            o.param_keys = su->keys;
            o.param_values = su->values;
            o.n_params = su->n;
            o.label = "target";
            o.train_rows = train;
            o.n_train = n_train;
            double best = INFINITY;
            cairn_model *m = NULL;
            for (int r = 0; r < repeats; r++) {
                cairn_model_free(m);
                double t0 = now_s();
                if (cairn_model_fit(ctx, t, &o, &m) != CAIRN_OK) {
                    fprintf(stderr, "bench_learn: %s %s: %s\n", name, su->learner,
                            cairn_errmsg(ctx));
                    return 1;
                }
                double dt = now_s() - t0;
                best = dt < best ? dt : best;
            }
            if (cairn_model_predict(ctx, m, t, test, n_test, pred) != CAIRN_OK) {
                fprintf(stderr, "bench_learn: %s\n", cairn_errmsg(ctx));
                return 1;
            }
            double metric = 0, mean = 0, sse = 0, sst = 0;
            for (size_t i = 0; i < n_test; i++)
                mean += y[test[i]] / (double)n_test;
            for (size_t i = 0; i < n_test; i++) {
                double truth = y[test[i]];
                if (regression) {
                    sse += (pred[i] - truth) * (pred[i] - truth);
                    sst += (truth - mean) * (truth - mean);
                } else {
                    /* pred is a class index; the class labels are the integer targets. */
                    metric += strtod(cairn_model_class_label(m, (size_t)pred[i]), NULL) == truth;
                }
            }
            metric = regression ? 1 - sse / sst : metric / (double)n_test;
            printf("%s %s %.6f %.6f\n", name, su->learner, best, metric);
            fflush(stdout);
            cairn_model_free(m);
        }
        free(pred);
        free(train);
        free(test);
        cairn_table_free(t);
    }
    cairn_close(ctx);
    return 0;
}
