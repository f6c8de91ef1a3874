/* SPDX-License-Identifier: MIT */
/* bench_learn.c - fits logistic, ridge, mlp and xgboost on the bundled datasets with the
 * train/test splits that bench_learn.py wrote (NAME.K.train / NAME.K.test), and prints
 * "dataset learner split seed fit_seconds test_metric [loss gradient]" lines (accuracy, or R^2
 * for diabetes; logistic adds its final objective and gradient max-norm, read from its debug
 * log). logistic, ridge and xgboost use split 0, best of REPEATS fits; mlp is fitted once per
 * split and seed. Run through bench/bench_learn.py, which runs scikit-learn and
 * python3-xgboost on the same rows and prints the ratios.
 * usage: bench_learn DATA_DIR SPLIT_DIR [REPEATS] [MLP_SPLITS] [MLP_SEEDS] */
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

/* The last logistic fit's "loss X, gradient Y" from its debug log line. */
static double last_loss = NAN, last_grad = NAN;

static void on_log(void *user, cairn_log_level level, const char *component, const char *msg)
{
    (void)user;
    (void)level;
    if (getenv("BENCH_VERBOSE"))
        fprintf(stderr, "%s: %s\n", component, msg);
    const char *p = strstr(msg, "loss ");
    if (strncmp(msg, "logistic:", 9) != 0 || !p)
        return;
    last_loss = strtod(p + 5, NULL);
    p = strstr(msg, "gradient ");
    last_grad = p ? strtod(p + 9, NULL) : NAN;
}

typedef struct setup {
    const char *learner;
    const char *keys[8], *values[8];
    size_t n;
} setup;

/* Fits one setup on split rows and prints its line; returns 0 or 1 on failure. */
static int run(cairn_ctx *ctx, cairn_table *t, const char *name, const setup *su, int split,
               uint64_t seed, int repeats, const size_t *train, size_t n_train, const size_t *test,
               size_t n_test, bool regression)
{
    cairn_fit_opts o = CAIRN_FIT_OPTS_INIT;
    o.learner = su->learner;
    o.param_keys = su->keys;
    o.param_values = su->values;
    o.n_params = su->n;
    o.label = "target";
    o.train_rows = train;
    o.n_train = n_train;
    o.seed = seed;
    double best = INFINITY, *pred = malloc(n_test * sizeof *pred);
    cairn_model *m = NULL;
    for (int r = 0; r < repeats; r++) {
        cairn_model_free(m);
        double t0 = now_s();
        if (cairn_model_fit(ctx, t, &o, &m) != CAIRN_OK) {
            fprintf(stderr, "bench_learn: %s %s: %s\n", name, su->learner, cairn_errmsg(ctx));
            return 1;
        }
        double dt = now_s() - t0;
        best = dt < best ? dt : best;
    }
    if (cairn_model_predict(ctx, m, t, test, n_test, pred) != CAIRN_OK) {
        fprintf(stderr, "bench_learn: %s\n", cairn_errmsg(ctx));
        return 1;
    }
    const double *y = t->cols[cairn_table_find(t, "target")].num;
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
    printf("%s %s %d %llu %.6f %.6f", name, su->learner, split, (unsigned long long)seed, best,
           metric);
    if (strcmp(su->learner, "logistic") == 0)
        printf(" %.17g %.6g", last_loss, last_grad);
    printf("\n");
    fflush(stdout);
    cairn_model_free(m);
    free(pred);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: %s DATA_DIR SPLIT_DIR [REPEATS] [MLP_SPLITS] [MLP_SEEDS]\n",
                argv[0]);
        return 2;
    }
    int repeats = argc > 3 ? (int)strtol(argv[3], NULL, 10) : 3;
    int n_splits = argc > 4 ? (int)strtol(argv[4], NULL, 10) : 5;
    int n_seeds = argc > 5 ? (int)strtol(argv[5], NULL, 10) : 5;
    static const char *const datasets[] = {"iris", "wine", "breast_cancer", "digits", "diabetes"};
    cairn_ctx *ctx = cairn_ctx_new();
    cairn_set_log(ctx, on_log, NULL, CAIRN_LOG_DEBUG);
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
        const char *task = regression ? "regression" : "classification";
        /* The same settings as bench_learn.py passes to scikit-learn and xgboost. */
        setup setups[] = {
            {"logistic", {"C", "tol", "max_iter", "solver"}, {"1.0", "1e-4", "1000", "auto"}, 4},
            {"mlp", {"task"}, {task}, 1}, /* sklearn's defaults on both sides */
            {"xgboost",
             {"num_round", "max_depth", "eta", "tree_method", "nthread", "task"},
             {"100", "6", "0.3", "hist", "1", task},
             6},
            {"ridge", {"alpha"}, {"1.0"}, 1},
        };
        const char *solver = getenv("BENCH_LOGISTIC_SOLVER");
        if (solver)
            setups[0].values[3] = solver;
        for (int split = 0; split < n_splits; split++) {
            size_t n_train, n_test;
            snprintf(path, sizeof path, "%s/%s.%d.train", argv[2], name, split);
            size_t *train = read_rows(path, &n_train);
            snprintf(path, sizeof path, "%s/%s.%d.test", argv[2], name, split);
            size_t *test = read_rows(path, &n_test);
            for (size_t s = 0; s < sizeof setups / sizeof setups[0]; s++) {
                const setup *su = &setups[s];
                bool mlp = strcmp(su->learner, "mlp") == 0;
                bool for_regression = strcmp(su->learner, "ridge") == 0,
                     for_classes = strcmp(su->learner, "logistic") == 0;
                const char *only = getenv("BENCH_ONLY"); /* one learner, for profiling */
                if ((regression && for_classes) || (!regression && for_regression) ||
                    (!mlp && split > 0) || (only && strcmp(only, su->learner) != 0))
                    continue;
                for (int seed = 0; seed < (mlp ? n_seeds : 1); seed++)
                    if (run(ctx, t, name, su, split, (uint64_t)seed, mlp ? 1 : repeats, train,
                            n_train, test, n_test, regression))
                        return 1;
            }
            free(train);
            free(test);
        }
        cairn_table_free(t);
    }
    cairn_close(ctx);
    return 0;
}
