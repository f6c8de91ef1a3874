/* SPDX-License-Identifier: MIT */
/* forest.c - random forests as scikit-learn's RandomForestClassifier/Regressor: CART trees
 * (cart.h) on bootstrap samples (the draw counts become row weights, so min_samples_* count
 * distinct rows as sklearn does), max_features tried per split, the probability the mean of
 * the trees' leaf class fractions. Tree t draws from its own generator seeded by (seed, t), so
 * the forest is the same on one thread or two. */
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include "learn/cart.h"
#include "core/core.h"
#include "base/xmalloc.h"
#include "base/banned.h"

typedef struct forest {
    cn_learner base;
    size_t d, k, n_trees;
    cn_cart *trees;
} forest;

typedef struct job {
    const cn_fit_data *data;
    const cn_cart_opts *o;
    bool bootstrap;
    forest *m;
    size_t first, step; /* the trees first, first + step, ... */
} job;

static void *grow_trees(void *arg)
{
    job *j = arg;
    const cn_fit_data *data = j->data;
    size_t n = data->train.n;
    double *w = cn_xmalloc(n * sizeof *w);
    size_t *rows = cn_xmalloc(n * sizeof *rows);
    for (size_t t = j->first; t < j->m->n_trees; t += j->step) {
        cn_rng rng;
        cn_rng_seed(&rng, data->seed ^ (0x9e3779b97f4a7c15ULL * (uint64_t)(t + 1)));
        size_t nr = 0;
        if (j->bootstrap) {
            memset(w, 0, n * sizeof *w);
            for (size_t i = 0; i < n; i++)
                w[cn_rng_below(&rng, n)] += 1.0;
        } else {
            for (size_t i = 0; i < n; i++)
                w[i] = 1.0;
        }
        for (size_t i = 0; i < n; i++) {
            if (w[i] > 0)
                rows[nr++] = i;
            w[i] *= data->train.w ? data->train.w[i] : 1.0;
        }
        cn_cart_grow(&j->m->trees[t], j->o, data->d, j->m->k, data->train.x, data->train.y, w, rows,
                     nr, &rng);
    }
    free(w);
    free(rows);
    return NULL;
}

static cairn_status forest_fit(cairn_ctx *ctx, const cn_fit_data *data, const cn_params *p,
                               cn_learner **out)
{
    cn_cart_opts o;
    int64_t n_trees, n_jobs;
    bool bootstrap;
    cairn_status rc = cn_cart_read_opts(ctx, p, data->d, data->task, "auto", &o);
    if (rc == CAIRN_OK)
        rc = cn_param_int(ctx, p, "n_estimators", 100, 1, 100000, &n_trees);
    if (rc == CAIRN_OK)
        rc = cn_param_int(ctx, p, "n_jobs", 1, 1, 2, &n_jobs);
    if (rc == CAIRN_OK)
        rc = cn_param_bool(ctx, p, "bootstrap", true, &bootstrap);
    if (rc != CAIRN_OK)
        return rc;
    if (data->train.n == 0)
        return cn_fail(ctx, CAIRN_EINVAL, "forest: no training rows");
    forest *m = cn_xcalloc(1, sizeof *m);
    m->base.ops = &cn_forest_ops;
    m->d = data->d;
    m->k = data->task == CN_TASK_CLASSIFICATION ? data->n_classes : 1;
    m->n_trees = (size_t)n_trees;
    m->trees = cn_xcalloc(m->n_trees, sizeof *m->trees);
    job jobs[2];
    for (size_t i = 0; i < 2; i++)
        jobs[i] = (job){data, &o, bootstrap, m, i, (size_t)n_jobs};
    pthread_t th;
    bool threaded =
        n_jobs == 2 && m->n_trees > 1 && pthread_create(&th, NULL, grow_trees, &jobs[1]) == 0;
    if (!threaded)
        jobs[0].step = 1;
    grow_trees(&jobs[0]);
    if (threaded)
        pthread_join(th, NULL);
    *out = &m->base;
    return CAIRN_OK;
}

static cairn_status forest_predict(cairn_ctx *ctx, const cn_learner *l, const double *x, size_t n,
                                   double *out)
{
    (void)ctx;
    const forest *m = (const forest *)l;
    memset(out, 0, n * m->k * sizeof *out);
    for (size_t i = 0; i < n; i++) {
        double *o = out + i * m->k;
        for (size_t t = 0; t < m->n_trees; t++) {
            const double *v = cn_cart_leaf(&m->trees[t], x + i * m->d);
            for (size_t c = 0; c < m->k; c++)
                o[c] += v[c];
        }
        for (size_t c = 0; c < m->k; c++)
            o[c] /= (double)m->n_trees;
    }
    return CAIRN_OK;
}

static void forest_save(const cn_learner *l, cn_buf *payload)
{
    const forest *m = (const forest *)l;
    cn_put_u64(payload, m->d);
    cn_put_u64(payload, m->n_trees);
    for (size_t t = 0; t < m->n_trees; t++)
        cn_cart_save(&m->trees[t], payload);
}

static void forest_free(cn_learner *l)
{
    forest *m = (forest *)l;
    if (!m)
        return;
    for (size_t t = 0; t < m->n_trees; t++)
        cn_cart_release(&m->trees[t]);
    free(m->trees);
    free(m);
}

static cairn_status forest_load(cairn_ctx *ctx, const void *payload, size_t len, size_t d,
                                cn_task task, size_t n_classes, cn_learner **out)
{
    cn_reader r = {payload, len, 0, false};
    forest *m = cn_xcalloc(1, sizeof *m);
    m->base.ops = &cn_forest_ops;
    m->d = d;
    m->k = task == CN_TASK_CLASSIFICATION ? n_classes : 1;
    bool ok = cn_get_u64(&r) == d && m->k > 0;
    uint64_t nt = cn_get_u64(&r);
    /* every tree takes at least 5 doubles: bounds the allocation by the payload */
    ok = ok && nt > 0 && cn_reader_has(&r, (size_t)(nt < SIZE_MAX / 5 ? nt * 5 : SIZE_MAX));
    if (ok) {
        m->trees = cn_xcalloc((size_t)nt, sizeof *m->trees);
        for (; ok && m->n_trees < nt; m->n_trees++)
            ok = cn_cart_load(&m->trees[m->n_trees], &r, d, m->k);
    }
    if (!ok || r.bad || r.pos != r.len) {
        forest_free(&m->base);
        return cn_fail(ctx, CAIRN_EINVAL, "forest payload: not well-formed trees of %zu inputs", d);
    }
    *out = &m->base;
    return CAIRN_OK;
}

static const cairn_param_spec forest_params[] = {
    {.name = "n_estimators",
     .type = CAIRN_PARAM_INT,
     .low = 1,
     .high = 100000,
     .default_value = "100",
     .log_scale = true,
     .help = "trees in the forest"},
    CN_CART_SPEC_CRITERION,
    CN_CART_SPEC_MAX_DEPTH,
    CN_CART_SPEC_MIN_SPLIT,
    CN_CART_SPEC_MIN_LEAF,
    CN_CART_SPEC_MAX_FEATURES("auto"),
    CN_CART_SPEC_MIN_DECREASE,
    CN_SPEC_BOOL("bootstrap", "true", "grow each tree on a bootstrap sample of the rows"),
    {.name = "n_jobs",
     .type = CAIRN_PARAM_INT,
     .low = 1,
     .high = 2,
     .default_value = "1",
     .help = "threads growing trees (the forest is the same either way)"},
    CN_SPEC_TASK,
};

const cn_learner_ops cn_forest_ops = {
    .name = "forest",
    .params = forest_params,
    .n_params = CN_N_SPECS(forest_params),
    .tasks = CN_TASK_REGRESSION | CN_TASK_CLASSIFICATION,
    .standardize = false,
    .ordinal = true,
    .fit = forest_fit,
    .predict = forest_predict,
    .save = forest_save,
    .load = forest_load,
    .free = forest_free,
};
