/* SPDX-License-Identifier: MIT */
/* test_robust.c - the learners' input gradients against finite differences (logistic binary and
 * multiclass, MLP classification and regression), and the compressed payloads: int8 and pruned
 * models survive save and load with the same predictions, pruning zeroes exactly the share
 * asked, soft-target distillation fits. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cairn/learn.h"
#include "cairn/robust.h"
#include "learn/learner.h"
#include "learn/model.h"
#include "unit.h"

enum { N = 90, D = 3 };

typedef struct data {
    cairn_table t;
    cairn_column cols[D + 1];
    double v[D + 1][N];
} data;

/* Three numeric features; the label has k classes (k = 0: a regression target). */
static void make(data *g, size_t k)
{
    static const char *names[] = {"a", "b", "c", "y"};
    memset(g, 0, sizeof *g);
    unsigned s = 12345;
    for (size_t i = 0; i < N; i++) {
        for (size_t j = 0; j < D; j++) {
            s = s * 1103515245u + 12345u;
            g->v[j][i] = (double)(s >> 8 & 0xffff) / 65536.0 * 4 - 2 + (double)j;
        }
        double z = g->v[0][i] - 0.5 * g->v[1][i] + 0.3 * g->v[2][i];
        s = s * 1103515245u + 12345u;
        double noise = (double)(s >> 8 & 0xffff) / 65536.0 - 0.5;
        g->v[D][i] = k == 0 ? z + noise : (double)((size_t)fabs(floor(z + noise * 2)) % k);
    }
    for (size_t j = 0; j <= D; j++)
        g->cols[j] = (cairn_column){names[j], CAIRN_COL_NUMERIC, g->v[j], NULL, 0, NULL};
    g->t = (cairn_table){N, D + 1, g->cols, NULL};
}

static cairn_model *fit(cairn_ctx *ctx, const data *g, const char *learner, const char *const *kv,
                        size_t n_kv, const char *task)
{
    const char *keys[8], *values[8];
    for (size_t i = 0; i < n_kv; i++) {
        keys[i] = kv[2 * i];
        values[i] = kv[2 * i + 1];
    }
    cairn_fit_opts o = CAIRN_FIT_OPTS_INIT;
    o.learner = learner;
    o.param_keys = keys;
    o.param_values = values;
    o.n_params = n_kv;
    o.label = "y";
    o.seed = 3;
    o.task = task;
    cairn_model *m = NULL;
    if (cairn_model_fit(ctx, &g->t, &o, &m) != CAIRN_OK)
        fprintf(stderr, "# fit %s: %s\n", learner, cairn_errmsg(ctx));
    return m;
}

/* Loss of row x (d inputs) with target y: -log p_y, or (f - y)^2 / 2. */
static double row_loss(const cairn_model *m, const double *x, double y)
{
    double out[16];
    m->ops->predict(NULL, m->impl, x, 1, out);
    if (m->n_classes == 0)
        return 0.5 * (out[0] - y) * (out[0] - y);
    return -log(out[(size_t)y]);
}

static void check_input_grad(const cairn_model *m, const data *g)
{
    size_t d = m->n_inputs, n = 20;
    double *x = calloc(n * d, sizeof *x), *y = calloc(n, sizeof *y),
           *grad = calloc(n * d, sizeof *grad);
    CHECK(cn_model_encode(NULL, m, &g->t, NULL, n, x) == CAIRN_OK);
    for (size_t i = 0; i < n; i++)
        y[i] = g->v[D][i];
    CHECK(m->ops->input_grad != NULL);
    CHECK(m->ops->input_grad(NULL, m->impl, x, y, n, grad) == CAIRN_OK);
    double worst = 0;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < d; j++) {
            double *xi = x + i * d, keep = xi[j], h = 1e-6;
            xi[j] = keep + h;
            double up = row_loss(m, xi, y[i]);
            xi[j] = keep - h;
            double down = row_loss(m, xi, y[i]);
            xi[j] = keep;
            double num = (up - down) / (2 * h), an = grad[i * d + j];
            double rel = fabs(num - an) / fmax(fabs(num) + fabs(an), 1e-6);
            worst = rel > worst ? rel : worst;
        }
    if (worst >= 1e-5)
        fprintf(stderr, "# input gradient %s: worst relative error %g\n", m->ops->name, worst);
    CHECK(worst < 1e-5);
    free(x);
    free(y);
    free(grad);
}

TEST(logistic_input_grad_matches_finite_differences)
{
    cairn_ctx *ctx = cairn_ctx_new();
    for (size_t k = 2; k <= 3; k++) {
        data g;
        make(&g, k);
        cairn_model *m = fit(ctx, &g, "logistic", NULL, 0, NULL);
        CHECK(m && m->n_classes == k);
        if (m)
            check_input_grad(m, &g);
        cairn_model_free(m);
    }
    cairn_close(ctx);
}

TEST(mlp_input_grad_matches_finite_differences)
{
    cairn_ctx *ctx = cairn_ctx_new();
    const char *kv[] = {"hidden", "6,4", "activation", "tanh", "epochs", "20"};
    for (size_t k = 0; k <= 3; k += 3) {
        data g;
        make(&g, k);
        cairn_model *m = fit(ctx, &g, "mlp", kv, 3, k ? "classification" : "regression");
        CHECK(m != NULL);
        if (m)
            check_input_grad(m, &g);
        cairn_model_free(m);
    }
    cairn_close(ctx);
}

/* Saves and loads m; the loaded model predicts the same probabilities. */
static void check_round_trip(cairn_ctx *ctx, const cairn_model *m, const data *g)
{
    void *bytes = NULL;
    size_t len = 0, k = m->n_classes ? m->n_classes : 1;
    cairn_model *back = NULL;
    CHECK(cairn_model_save_bytes(ctx, m, &bytes, &len) == CAIRN_OK);
    CHECK(cairn_model_load_bytes(ctx, bytes, len, &back) == CAIRN_OK);
    double *a = calloc(N * k, sizeof *a), *b = calloc(N * k, sizeof *b);
    double *x = calloc(N * m->n_inputs, sizeof *x);
    cn_model_encode(ctx, m, &g->t, NULL, N, x);
    m->ops->predict(ctx, m->impl, x, N, a);
    if (back)
        back->ops->predict(ctx, back->impl, x, N, b);
    CHECK(back && memcmp(a, b, N * k * sizeof *a) == 0);
    free(a);
    free(b);
    free(x);
    free(bytes);
    cairn_model_free(back);
}

TEST(compressed_models_round_trip)
{
    cairn_ctx *ctx = cairn_ctx_new();
    data g;
    make(&g, 3);
    const char *kv[] = {"hidden", "8", "epochs", "30"};
    cairn_model *lr = fit(ctx, &g, "logistic", NULL, 0, NULL),
                *mlp = fit(ctx, &g, "mlp", kv, 2, NULL);
    CHECK(lr && mlp);
    if (lr && mlp) {
        cairn_compress_opts o = CAIRN_COMPRESS_OPTS_INIT;
        cairn_compress_report r;
        cairn_model *q = NULL;
        o.method = CAIRN_COMPRESS_INT8;
        CHECK(cairn_model_compress(ctx, lr, &g.t, &o, &q, &r) == CAIRN_OK);
        CHECK(r.payload_after < r.payload_before);
        if (q)
            check_round_trip(ctx, q, &g);
        cairn_model_free(q);
        cairn_compress_report_release(&r);
        o.method = CAIRN_COMPRESS_PRUNE;
        o.sparsity = 0.25;
        CHECK(cairn_model_compress(ctx, mlp, &g.t, &o, &q, &r) == CAIRN_OK);
        CHECK(r.weights == 3 * 8 + 8 * 3); /* inputs x hidden + hidden x classes */
        CHECK(r.zeros == 12);
        if (q)
            check_round_trip(ctx, q, &g);
        cairn_model_free(q);
        cairn_compress_report_release(&r);
        o.method = CAIRN_COMPRESS_INT8;
        CHECK(cairn_model_compress(ctx, lr, &g.t, &o, &q, &r) == CAIRN_OK);
        cairn_model_free(q);
        cairn_compress_report_release(&r);
        o.method = CAIRN_COMPRESS_PRUNE;
        CHECK(cairn_model_compress(ctx, lr, &g.t, &o, &q, &r) == CAIRN_EINVAL);
        CHECK(q == NULL);
        o.method = CAIRN_COMPRESS_DISTILL; /* no rows to fit on */
        CHECK(cairn_model_compress(ctx, lr, &g.t, &o, &q, &r) == CAIRN_EINVAL);
        size_t rows[N];
        for (size_t i = 0; i < N; i++)
            rows[i] = i;
        o.fit_rows = rows;
        o.n_fit = 60;
        o.eval_rows = rows + 60;
        o.n_eval = 30;
        o.hidden = "4";
        CHECK(cairn_model_compress(ctx, mlp, &g.t, &o, &q, &r) == CAIRN_OK);
        CHECK(q && strcmp(cairn_model_learner(q), "mlp") == 0 && r.n_eval == 30);
        CHECK(r.metric_after >= 0 && r.metric_after <= 1);
        cairn_model_free(q);
        cairn_compress_report_release(&r);
    }
    cairn_model_free(lr);
    cairn_model_free(mlp);
    cairn_close(ctx);
}

UNIT_MAIN(UNIT_CASE(logistic_input_grad_matches_finite_differences),
          UNIT_CASE(mlp_input_grad_matches_finite_differences),
          UNIT_CASE(compressed_models_round_trip))
