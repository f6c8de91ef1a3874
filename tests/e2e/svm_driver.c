/* SPDX-License-Identifier: MIT */
/* svm_driver.c - fits an SVM learner on every row of a CSV and prints what
 * tests/e2e/test_svm.py compares with scikit-learn, as one JSON object:
 *     cairn_svm_driver CSV LABEL LEARNER [KEY=VALUE ...] [--balanced] [--seed N] [--save PATH]
 * {"classes": [...], "labels": [...], "n_support": [...], "decision": [[...], ...],
 *  "predict": [...], "proba": [[...], ...], "reference": [[...], ...], "roundtrip": true}
 * decision: libsvm's values per row (cn_svm_decision: one per class pair, positive for the
 * pair's first class; regression: the prediction); predict and proba through the public API;
 * reference: what predict_proba (or predict, for regression) gives, computed by libsvm's own
 * svm_predict_* per row (cn_svm_predict_libsvm) instead of cairn's blocked path;
 * roundtrip: the model saved to bytes and loaded again predicts the same bits. The encoding
 * for decision is the model's own standardisation (numeric features only). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cairn/learn.h"
#include "learn/learner.h"
#include "learn/model.h"

#define MAX_PARAMS 32

static int fail(cairn_ctx *ctx, const char *what)
{
    fprintf(stderr, "svm_driver: %s: %s\n", what, ctx ? cairn_errmsg(ctx) : "");
    return 1;
}

static void print_row(const double *v, size_t k)
{
    putchar('[');
    for (size_t j = 0; j < k; j++)
        printf("%s%.17g", j ? ", " : "", v[j]);
    putchar(']');
}

static void print_matrix(const char *name, const double *v, size_t n, size_t k)
{
    printf(", \"%s\": [", name);
    for (size_t i = 0; i < n; i++) {
        if (i)
            printf(", ");
        print_row(v + i * k, k);
    }
    putchar(']');
}

/* The model's encoding of the numeric features of every row of t (n x d). */
static double *encode(const cairn_model *m, const cairn_table *t)
{
    size_t n = t->n_rows, d = m->n_inputs;
    if (d != m->n_features)
        return NULL;
    double *x = malloc((n * d > 0 ? n * d : 1) * sizeof *x);
    for (size_t j = 0; j < d; j++) {
        const cn_feature *f = &m->features[j];
        int c = cairn_table_find(t, f->name);
        if (c < 0 || f->type != CAIRN_COL_NUMERIC) {
            free(x);
            return NULL;
        }
        for (size_t i = 0; i < n; i++)
            x[i * d + j] = (t->cols[c].num[i] - f->mean) / f->scale;
    }
    return x;
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: cairn_svm_driver CSV LABEL LEARNER [KEY=VALUE ...] [--balanced] "
                        "[--seed N] [--save PATH]\n");
        return 2;
    }
    const char *keys[MAX_PARAMS], *values[MAX_PARAMS], *save = NULL;
    char *own[MAX_PARAMS];
    size_t np = 0;
    cairn_fit_opts o = CAIRN_FIT_OPTS_INIT;
    o.learner = argv[3];
    o.label = argv[2];
    for (int i = 4; i < argc; i++) {
        if (strcmp(argv[i], "--balanced") == 0) {
            o.class_weight = "balanced";
        } else if (strcmp(argv[i], "--seed") == 0 && i + 1 < argc) {
            o.seed = strtoull(argv[++i], NULL, 10);
        } else if (strcmp(argv[i], "--save") == 0 && i + 1 < argc) {
            save = argv[++i];
        } else if (strchr(argv[i], '=') && np < MAX_PARAMS) {
            own[np] = strdup(argv[i]);
            char *eq = strchr(own[np], '=');
            *eq = '\0';
            keys[np] = own[np];
            values[np] = eq + 1;
            np++;
        } else {
            fprintf(stderr, "svm_driver: bad argument '%s'\n", argv[i]);
            return 2;
        }
    }
    o.param_keys = keys;
    o.param_values = values;
    o.n_params = np;
    cairn_ctx *ctx = cairn_ctx_new();
    cairn_table *t = NULL;
    cairn_model *m = NULL, *back = NULL;
    void *bytes = NULL;
    size_t len = 0;
    int rc = 1;
    if (cairn_csv_read(ctx, argv[1], NULL, &t) != CAIRN_OK) {
        rc = fail(ctx, "read");
        goto out;
    }
    if (cairn_model_fit(ctx, t, &o, &m) != CAIRN_OK) {
        rc = fail(ctx, "fit");
        goto out;
    }
    if (save && cairn_model_save(ctx, m, save) != CAIRN_OK) {
        rc = fail(ctx, "save");
        goto out;
    }
    if (cairn_model_save_bytes(ctx, m, &bytes, &len) != CAIRN_OK ||
        cairn_model_load_bytes(ctx, bytes, len, &back) != CAIRN_OK) {
        rc = fail(ctx, "round trip");
        goto out;
    }
    size_t n = t->n_rows, k = cairn_model_n_classes(m), w = k ? k : 1;
    double *pred = malloc(n * sizeof *pred), *pred2 = malloc(n * sizeof *pred2);
    double *proba = malloc(n * w * sizeof *proba), *proba2 = malloc(n * w * sizeof *proba2);
    double *x = encode(m, t);
    double *dec = malloc((n * (w * (w - 1) / 2 + 1)) * sizeof *dec);
    bool ok = x && cairn_model_predict(ctx, m, t, NULL, n, pred) == CAIRN_OK &&
              cairn_model_predict(ctx, back, t, NULL, n, pred2) == CAIRN_OK &&
              (!k || (cairn_model_predict_proba(ctx, m, t, NULL, n, proba) == CAIRN_OK &&
                      cairn_model_predict_proba(ctx, back, t, NULL, n, proba2) == CAIRN_OK));
    if (ok) {
        size_t width = cn_svm_decision(cn_model_impl(m), x, n, dec);
        double *ref = malloc(n * w * sizeof *ref);
        cn_svm_predict_libsvm(cn_model_impl(m), x, n, ref);
        const int *labels, *nsv;
        size_t kc = cn_svm_support(cn_model_impl(m), &labels, &nsv);
        printf("{\"classes\": [");
        for (size_t c = 0; c < k; c++)
            printf("%s\"%s\"", c ? ", " : "", cairn_model_class_label(m, c));
        printf("], \"labels\": [");
        for (size_t c = 0; c < kc; c++)
            printf("%s%d", c ? ", " : "", labels[c]);
        printf("], \"n_support\": [");
        for (size_t c = 0; c < kc; c++)
            printf("%s%d", c ? ", " : "", nsv[c]);
        putchar(']');
        print_matrix("decision", dec, n, width);
        printf(", \"predict\": ");
        print_row(pred, n);
        if (k)
            print_matrix("proba", proba, n, k);
        print_matrix("reference", ref, n, w);
        free(ref);
        bool same = memcmp(pred, pred2, n * sizeof *pred) == 0 &&
                    (!k || memcmp(proba, proba2, n * k * sizeof *proba) == 0);
        printf(", \"roundtrip\": %s}\n", same ? "true" : "false");
        rc = 0;
    } else {
        rc = fail(ctx, x ? "predict" : "encode (numeric features only)");
    }
    free(pred);
    free(pred2);
    free(proba);
    free(proba2);
    free(x);
    free(dec);
out:
    for (size_t i = 0; i < np; i++)
        free(own[i]);
    cairn_free(bytes);
    cairn_model_free(back);
    cairn_model_free(m);
    cairn_table_free(t);
    cairn_close(ctx);
    return rc;
}
