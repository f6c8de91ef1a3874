/* SPDX-License-Identifier: MIT */
/* knn.c - k-nearest neighbours by brute force, as scikit-learn's KNeighborsClassifier and
 * KNeighborsRegressor with algorithm='brute' and metric minkowski (p 1 or 2): among equal
 * distances the neighbours kept are the ones sklearn's heap keeps; uniform votes or 1/distance
 * weights (a query that sits on training rows takes only those); a tie in votes goes to the first
 * class. The model keeps its training rows: n x d doubles plus n targets. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "learn/learner.h"
#include "learn/linalg.h"
#include "core/core.h"
#include "base/xmalloc.h"
#include "base/banned.h"

typedef struct knn {
    cn_learner base;
    size_t d, n, k, n_out; /* n_out: classes, or 1 */
    int p;                 /* 1 or 2 */
    bool distance;         /* weights=distance */
    bool classify;
    double *x;    /* n x d */
    double *y;    /* n */
    double *norm; /* n: squared norms of the rows (p = 2) */
} knn;

static void set_norms(knn *m);

static const char *const weightings[] = {"uniform", "distance", NULL};

static cairn_status knn_fit(cairn_ctx *ctx, const cn_fit_data *data, const cn_params *p,
                            cn_learner **out)
{
    int64_t k, pw;
    int wi;
    cairn_status rc = cn_param_int(ctx, p, "n_neighbors", 5, 1, 1000000, &k);
    if (rc == CAIRN_OK)
        rc = cn_param_choice(ctx, p, "weights", weightings, 0, &wi);
    if (rc == CAIRN_OK)
        rc = cn_param_int(ctx, p, "p", 2, 1, 2, &pw);
    if (rc != CAIRN_OK)
        return rc;
    size_t n = data->train.n, d = data->d;
    if ((size_t)k > n)
        return cn_fail(ctx, CAIRN_EINVAL,
                       "knn: n_neighbors=%lld exceeds the %zu training rows; lower n_neighbors",
                       (long long)k, n);
    knn *m = cn_xcalloc(1, sizeof *m);
    m->base.ops = &cn_knn_ops;
    m->d = d;
    m->n = n;
    m->k = (size_t)k;
    m->p = (int)pw;
    m->distance = wi == 1;
    m->classify = data->task == CN_TASK_CLASSIFICATION;
    m->n_out = m->classify ? data->n_classes : 1;
    m->x = cn_xmemdup(data->train.x, (n * d > 0 ? n * d : 1) * sizeof *m->x);
    m->y = cn_xmemdup(data->train.y, n * sizeof *m->y);
    set_norms(m);
    *out = &m->base;
    return CAIRN_OK;
}

/* scikit-learn's heap_push (sklearn/utils/_heap.pyx): a max-heap of the k best, root the
 * worst; a distance equal to the worst is not taken. Which of several equal distances stay
 * follows from this exact sequence of pushes in training-row order, as sklearn's brute
 * ArgKmin does on one thread. */
static double dot(const double *a, const double *b, size_t d)
{
    double s = 0;
    for (size_t j = 0; j < d; j++)
        s += a[j] * b[j];
    return s;
}

static void set_norms(knn *m)
{
    m->norm = cn_xmalloc(m->n * sizeof *m->norm);
    for (size_t r = 0; r < m->n; r++)
        m->norm[r] = dot(m->x + r * m->d, m->x + r * m->d, m->d);
}

static void heap_push(double *v, size_t *idx, size_t size, double val, size_t val_idx)
{
    if (val >= v[0])
        return;
    size_t i = 0;
    for (;;) {
        size_t c1 = 2 * i + 1, c2 = c1 + 1, sw;
        if (c1 >= size)
            break;
        else if (c2 >= size) {
            if (v[c1] > val)
                sw = c1;
            else
                break;
        } else if (v[c1] >= v[c2]) {
            if (val < v[c1])
                sw = c1;
            else
                break;
        } else {
            if (val < v[c2])
                sw = c2;
            else
                break;
        }
        v[i] = v[sw];
        idx[i] = idx[sw];
        i = sw;
    }
    v[i] = val;
    idx[i] = val_idx;
}

static cairn_status knn_predict(cairn_ctx *ctx, const cn_learner *l, const double *x, size_t n,
                                double *out)
{
    (void)ctx;
    const knn *m = (const knn *)l;
    size_t k = m->k, d = m->d;
    double *bd = cn_xmalloc(k * sizeof *bd); /* the k best so far, ascending */
    size_t *bi = cn_xmalloc(k * sizeof *bi);
    double *wt = cn_xmalloc(k * sizeof *wt);
    /* p = 2: the products x.y of a block of queries with every training row by one GEMM */
    enum { BLOCK = 64 };
    double *dots = m->p == 2 && m->n ? cn_xmalloc(BLOCK * m->n * sizeof *dots) : NULL;
    for (size_t q = 0; q < n; q++) {
        const double *xq = x + q * d;
        if (dots && q % BLOCK == 0) {
            size_t nb = n - q < BLOCK ? n - q : BLOCK;
            cn_gemm(false, true, nb, m->n, d, 1.0, xq, d, m->x, d, 0.0, dots, m->n);
        }
        const double *g = dots ? dots + (q % BLOCK) * m->n : NULL;
        for (size_t a = 0; a < k; a++) {
            bd[a] = HUGE_VAL;
            bi[a] = 0;
        }
        for (size_t r = 0; r < m->n; r++) {
            const double *xr = m->x + r * d;
            double s = 0;
            if (m->p == 1)
                for (size_t j = 0; j < d; j++)
                    s += fabs(xq[j] - xr[j]);
            else /* sklearn's GEMM form: ||y||^2 - 2 x.y (||x||^2 added after) */
                s = m->norm[r] - 2.0 * g[r];
            heap_push(bd, bi, k, s, r);
        }
        if (m->p == 2) {
            double xn = dot(xq, xq, d);
            for (size_t a = 0; a < k; a++)
                bd[a] = fmax(bd[a] + xn, 0.0);
        }
        bool exact = false;
        for (size_t a = 0; a < k; a++)
            exact = exact || bd[a] == 0;
        for (size_t a = 0; a < k; a++) {
            double dist = m->p == 2 ? sqrt(bd[a]) : bd[a];
            wt[a] = !m->distance ? 1.0 : exact ? (bd[a] == 0 ? 1.0 : 0.0) : 1.0 / dist;
        }
        double *o = out + q * m->n_out;
        double total = 0;
        memset(o, 0, m->n_out * sizeof *o);
        for (size_t a = 0; a < k; a++) {
            total += wt[a];
            if (m->classify)
                o[(size_t)m->y[bi[a]]] += wt[a];
            else
                o[0] += wt[a] * m->y[bi[a]];
        }
        for (size_t c = 0; c < m->n_out; c++)
            o[c] /= total;
    }
    free(dots);
    free(bd);
    free(bi);
    free(wt);
    return CAIRN_OK;
}

static void knn_save(const cn_learner *l, cn_buf *payload)
{
    const knn *m = (const knn *)l;
    cn_put_u64(payload, m->d);
    cn_put_u64(payload, m->n);
    cn_put_u64(payload, m->k);
    cn_put_u64(payload, (uint64_t)m->p);
    cn_put_u64(payload, m->distance);
    cn_put_f64s(payload, m->x, m->n * m->d);
    cn_put_f64s(payload, m->y, m->n);
}

static void knn_free(cn_learner *l)
{
    knn *m = (knn *)l;
    if (!m)
        return;
    free(m->x);
    free(m->y);
    free(m->norm);
    free(m);
}

static cairn_status knn_load(cairn_ctx *ctx, const void *payload, size_t len, size_t d,
                             cn_task task, size_t n_classes, cn_learner **out)
{
    cn_reader r = {payload, len, 0, false};
    knn *m = cn_xcalloc(1, sizeof *m);
    m->base.ops = &cn_knn_ops;
    m->d = d;
    m->classify = task == CN_TASK_CLASSIFICATION;
    m->n_out = m->classify ? n_classes : 1;
    bool ok = cn_get_u64(&r) == d;
    uint64_t n = cn_get_u64(&r), k = cn_get_u64(&r), p = cn_get_u64(&r), dist = cn_get_u64(&r);
    ok = ok && m->n_out > 0 && n > 0 && k >= 1 && k <= n && (p == 1 || p == 2) && dist <= 1 &&
         (d == 0 || n <= SIZE_MAX / 8 / (d + 1)) && cn_reader_has(&r, (size_t)n * (d + 1)) &&
         r.len - r.pos == 8 * (size_t)n * (d + 1);
    if (ok) {
        m->n = (size_t)n;
        m->k = (size_t)k;
        m->p = (int)p;
        m->distance = dist == 1;
        m->x = cn_xmalloc((m->n * d > 0 ? m->n * d : 1) * sizeof *m->x);
        m->y = cn_xmalloc(m->n * sizeof *m->y);
        cn_get_f64s(&r, m->x, m->n * d);
        cn_get_f64s(&r, m->y, m->n);
        set_norms(m);
        for (size_t i = 0; ok && i < m->n * d; i++)
            ok = isfinite(m->x[i]);
        for (size_t i = 0; ok && i < m->n; i++)
            ok = isfinite(m->y[i]) &&
                 (!m->classify ||
                  (m->y[i] >= 0 && m->y[i] < (double)m->n_out && m->y[i] == floor(m->y[i])));
    }
    if (!ok || r.bad) {
        knn_free(&m->base);
        return cn_fail(ctx, CAIRN_EINVAL, "knn payload: not the training rows of %zu inputs", d);
    }
    *out = &m->base;
    return CAIRN_OK;
}

static const cairn_param_spec knn_params[] = {
    {.name = "n_neighbors",
     .type = CAIRN_PARAM_INT,
     .low = 1,
     .high = 1000000,
     .default_value = "5",
     .log_scale = true,
     .help = "neighbours that vote (at most the training rows)"},
    {.name = "weights",
     .type = CAIRN_PARAM_CATEGORICAL,
     .default_value = "uniform",
     .choices = weightings,
     .help = "uniform votes, or distance: each neighbour weighs 1/distance"},
    {.name = "p",
     .type = CAIRN_PARAM_INT,
     .low = 1,
     .high = 2,
     .default_value = "2",
     .help = "Minkowski power: 1 Manhattan, 2 Euclidean"},
    CN_SPEC_STANDARDIZE,
    CN_SPEC_TASK,
};

const cn_learner_ops cn_knn_ops = {
    .name = "knn",
    .params = knn_params,
    .n_params = CN_N_SPECS(knn_params),
    .tasks = CN_TASK_REGRESSION | CN_TASK_CLASSIFICATION,
    .standardize = true,
    .fit = knn_fit,
    .predict = knn_predict,
    .save = knn_save,
    .load = knn_load,
    .free = knn_free,
};
