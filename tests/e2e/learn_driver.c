/* SPDX-License-Identifier: MIT */
/* learn_driver.c - fits a learner through the public API and prints its raw predictions, for
 * tests/e2e/test_learners_more.py, which compares them with scikit-learn's.
 *     cairn_learn_fit CSV LABEL LEARNER ROWS SEED SAVE [KEY=VALUE ...]
 * CSV: the data; LABEL: the label column, read as categorical (classification) unless a
 * param task=regression is given. ROWS: a file of two lines, the training row indices and the
 * test row indices, space-separated. SAVE: a model file path: the model is saved there and
 * loaded back before predicting ("-": no round trip). Output: one line per test row: the
 * prediction, then (classification) the class probabilities, full precision. stderr gets
 * "fit_seconds=F predict_seconds=P" (bench/bench_learners.py reads it). */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include <stdbool.h>
#include <time.h>
#include "cairn/cairn.h"
#include "cairn/data.h"
#include "cairn/learn.h"

#define MAX_PARAMS 32

static size_t *read_line_rows(FILE *f, size_t *n)
{
    size_t cap = 1024, len = 0;
    size_t *rows = malloc(cap * sizeof *rows);
    int ch;
    unsigned long v;
    while (rows) {
        ch = fgetc(f);
        while (ch == ' ')
            ch = fgetc(f);
        if (ch == '\n' || ch == EOF)
            break;
        ungetc(ch, f);
        if (fscanf(f, "%lu", &v) != 1)
            break;
        if (len == cap) {
            size_t *grown = realloc(rows, 2 * cap * sizeof *rows);
            if (!grown) {
                free(rows);
                return NULL;
            }
            rows = grown;
            cap *= 2;
        }
        rows[len++] = v;
    }
    *n = len;
    return rows;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int fail(cairn_ctx *ctx, const char *what)
{
    fprintf(stderr, "learn_driver: %s: %s\n", what, cairn_errmsg(ctx));
    return 1;
}

int main(int argc, char **argv)
{
    if (argc < 7 || argc - 7 > MAX_PARAMS) {
        fprintf(stderr,
                "usage: cairn_learn_fit CSV LABEL LEARNER ROWS SEED SAVE [KEY=VALUE ...]\n");
        return 2;
    }
    const char *keys[MAX_PARAMS], *values[MAX_PARAMS];
    bool regression = false;
    size_t np = 0;
    for (int i = 7; i < argc; i++, np++) {
        char *eq = strchr(argv[i], '=');
        if (!eq) {
            fprintf(stderr, "learn_driver: '%s' is not KEY=VALUE\n", argv[i]);
            return 2;
        }
        *eq = '\0';
        keys[np] = argv[i];
        values[np] = eq + 1;
        regression =
            regression || (strcmp(keys[np], "task") == 0 && strcmp(eq + 1, "regression") == 0);
    }
    FILE *rf = fopen(argv[4], "r");
    if (!rf) {
        fprintf(stderr, "learn_driver: cannot open %s\n", argv[4]);
        return 1;
    }
    size_t n_train = 0, n_test = 0;
    size_t *train = read_line_rows(rf, &n_train), *test = read_line_rows(rf, &n_test);
    fclose(rf);
    cairn_ctx *ctx = cairn_ctx_new();
    cairn_csv_opts co = CAIRN_CSV_OPTS_INIT;
    const char *cat[] = {argv[2]};
    if (!regression) {
        co.categorical = cat;
        co.n_categorical = 1;
    }
    cairn_table *t = NULL;
    cairn_model *m = NULL;
    int rc = 0;
    if (cairn_csv_read(ctx, argv[1], &co, &t) != CAIRN_OK) {
        rc = fail(ctx, "csv");
        goto done;
    }
    cairn_fit_opts o = CAIRN_FIT_OPTS_INIT;
    o.learner = argv[3];
    o.param_keys = keys;
    o.param_values = values;
    o.n_params = np;
    o.seed = strtoull(argv[5], NULL, 10);
    o.label = argv[2];
    o.train_rows = train;
    o.n_train = n_train;
    /* $CAIRN_BENCH_REPEATS fits and predictions in this process, the fastest timed: warm
     * timings, as the reference's best-of-N in one Python process */
    const char *rep = getenv("CAIRN_BENCH_REPEATS");
    int repeats = rep && atoi(rep) > 0 ? atoi(rep) : 1;
    double t_fit = HUGE_VAL, t0;
    for (int r = 0; r < repeats; r++) {
        cairn_model_free(m);
        m = NULL;
        t0 = now();
        if (cairn_model_fit(ctx, t, &o, &m) != CAIRN_OK) {
            rc = fail(ctx, "fit");
            goto done;
        }
        t_fit = fmin(t_fit, now() - t0);
    }
    if (strcmp(argv[6], "-") != 0) {
        cairn_model *back = NULL;
        if (cairn_model_save(ctx, m, argv[6]) != CAIRN_OK ||
            cairn_model_load(ctx, argv[6], &back) != CAIRN_OK) {
            rc = fail(ctx, "save/load");
            goto done;
        }
        cairn_model_free(m);
        m = back;
    }
    size_t k = cairn_model_n_classes(m);
    double *pred = malloc((n_test ? n_test : 1) * sizeof *pred);
    double *prob = malloc((n_test * k > 0 ? n_test * k : 1) * sizeof *prob);
    double t_pred = HUGE_VAL;
    bool ok = pred && prob;
    for (int r = 0; ok && r < repeats; r++) {
        t0 = now();
        ok = cairn_model_predict(ctx, m, t, test, n_test, pred) == CAIRN_OK &&
             (!k || cairn_model_predict_proba(ctx, m, t, test, n_test, prob) == CAIRN_OK);
        t_pred = fmin(t_pred, now() - t0);
    }
    if (!ok) {
        rc = fail(ctx, "predict");
    } else {
        fprintf(stderr, "fit_seconds=%.6f predict_seconds=%.6f\n", t_fit, t_pred);
        for (size_t i = 0; i < n_test; i++) {
            printf("%s", k ? cairn_model_class_label(m, (size_t)pred[i]) : "");
            if (!k)
                printf("%.17g", pred[i]);
            for (size_t c = 0; c < k; c++)
                printf(" %.17g", prob[i * k + c]);
            printf("\n");
        }
    }
    free(pred);
    free(prob);
done:
    cairn_model_free(m);
    cairn_table_free(t);
    cairn_close(ctx);
    free(train);
    free(test);
    return rc;
}
