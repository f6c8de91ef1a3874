/* SPDX-License-Identifier: MIT */
/* gnb.c - Gaussian naive Bayes as scikit-learn's GaussianNB: per-class means and variances
 * (weighted by the row weights), every variance raised by var_smoothing times the largest
 * feature variance, priors the classes' shares of the training weight. Inputs are not
 * standardised (the model is scale-aware only through var_smoothing). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "learn/learner.h"
#include "core/core.h"
#include "base/xmalloc.h"
#include "base/banned.h"

typedef struct gnb {
    cn_learner base;
    size_t d, k;
    double *theta; /* k x d means */
    double *var;   /* k x d variances, smoothed */
    double *prior; /* k */
} gnb;

static void gnb_free(cn_learner *l)
{
    gnb *m = (gnb *)l;
    if (!m)
        return;
    free(m->theta);
    free(m->var);
    free(m->prior);
    free(m);
}

static gnb *gnb_new(size_t d, size_t k)
{
    gnb *m = cn_xcalloc(1, sizeof *m);
    m->base.ops = &cn_gnb_ops;
    m->d = d;
    m->k = k;
    m->theta = cn_xcalloc(k * d > 0 ? k * d : 1, sizeof *m->theta);
    m->var = cn_xcalloc(k * d > 0 ? k * d : 1, sizeof *m->var);
    m->prior = cn_xcalloc(k, sizeof *m->prior);
    return m;
}

static cairn_status gnb_fit(cairn_ctx *ctx, const cn_fit_data *data, const cn_params *p,
                            cn_learner **out)
{
    double smoothing;
    cairn_status rc = cn_param_double(ctx, p, "var_smoothing", 1e-9, 0, HUGE_VAL, &smoothing);
    if (rc != CAIRN_OK)
        return rc;
    size_t n = data->train.n, d = data->d, k = data->n_classes;
    const double *x = data->train.x, *y = data->train.y, *w = data->train.w;
    if (n == 0)
        return cn_fail(ctx, CAIRN_EINVAL, "gnb: no training rows");
    /* epsilon: var_smoothing x the largest (unweighted) feature variance, as sklearn */
    double *mu = cn_xcalloc(d ? d : 1, sizeof *mu), widest = 0;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < d; j++)
            mu[j] += x[i * d + j];
    for (size_t j = 0; j < d; j++) {
        mu[j] /= (double)n;
        double sq = 0;
        for (size_t i = 0; i < n; i++)
            sq += (x[i * d + j] - mu[j]) * (x[i * d + j] - mu[j]);
        widest = fmax(widest, sq / (double)n);
    }
    free(mu);
    double eps = smoothing * widest;
    gnb *m = gnb_new(d, k);
    double total = 0;
    for (size_t c = 0; c < k; c++) {
        double wc = 0;
        double *th = m->theta + c * d, *va = m->var + c * d;
        for (size_t i = 0; i < n; i++) {
            if ((size_t)y[i] != c)
                continue;
            double wi = w ? w[i] : 1.0;
            wc += wi;
            for (size_t j = 0; j < d; j++)
                th[j] += wi * x[i * d + j];
        }
        m->prior[c] = wc;
        total += wc;
        if (wc <= 0)
            continue;
        for (size_t j = 0; j < d; j++)
            th[j] /= wc;
        for (size_t i = 0; i < n; i++) {
            if ((size_t)y[i] != c)
                continue;
            double wi = w ? w[i] : 1.0;
            for (size_t j = 0; j < d; j++)
                va[j] += wi * (x[i * d + j] - th[j]) * (x[i * d + j] - th[j]);
        }
        for (size_t j = 0; j < d; j++)
            va[j] = va[j] / wc + eps;
    }
    for (size_t c = 0; c < k; c++) {
        m->prior[c] /= total;
        for (size_t j = 0; j < d && m->prior[c] > 0; j++) {
            if (!(m->var[c * d + j] > 0)) {
                gnb_free(&m->base);
                return cn_fail(ctx, CAIRN_EINVAL,
                               "gnb: a feature has zero variance within a class and "
                               "var_smoothing adds nothing; raise var_smoothing or drop "
                               "constant features");
            }
        }
    }
    *out = &m->base;
    return CAIRN_OK;
}

static cairn_status gnb_predict(cairn_ctx *ctx, const cn_learner *l, const double *x, size_t n,
                                double *out)
{
    (void)ctx;
    const gnb *m = (const gnb *)l;
    size_t d = m->d, k = m->k;
    double *norm = cn_xmalloc(k * sizeof *norm); /* -1/2 sum log(2 pi var), per class */
    for (size_t c = 0; c < k; c++) {
        double logs = 0;
        for (size_t j = 0; j < d; j++)
            logs += log(2.0 * M_PI * m->var[c * d + j]);
        norm[c] = -0.5 * logs;
    }
    for (size_t i = 0; i < n; i++) {
        double *o = out + i * k, mx = -HUGE_VAL;
        for (size_t c = 0; c < k; c++) {
            if (!(m->prior[c] > 0)) {
                o[c] = -HUGE_VAL;
                continue;
            }
            double sq = 0;
            for (size_t j = 0; j < d; j++) {
                double diff = x[i * d + j] - m->theta[c * d + j];
                sq += diff * diff / m->var[c * d + j];
            }
            o[c] = log(m->prior[c]) + (norm[c] - 0.5 * sq);
            mx = fmax(mx, o[c]);
        }
        double sum = 0;
        for (size_t c = 0; c < k; c++)
            sum += exp(o[c] - mx);
        double lse = mx + log(sum);
        for (size_t c = 0; c < k; c++)
            o[c] = exp(o[c] - lse);
    }
    free(norm);
    return CAIRN_OK;
}

static void gnb_save(const cn_learner *l, cn_buf *payload)
{
    const gnb *m = (const gnb *)l;
    cn_put_u64(payload, m->d);
    cn_put_f64s(payload, m->prior, m->k);
    cn_put_f64s(payload, m->theta, m->k * m->d);
    cn_put_f64s(payload, m->var, m->k * m->d);
}

static cairn_status gnb_load(cairn_ctx *ctx, const void *payload, size_t len, size_t d,
                             cn_task task, size_t n_classes, cn_learner **out)
{
    cn_reader r = {payload, len, 0, false};
    size_t k = n_classes;
    bool ok = task == CN_TASK_CLASSIFICATION && k > 0 && cn_get_u64(&r) == d &&
              (d == 0 || k <= SIZE_MAX / 16 / (d + 1)) && cn_reader_has(&r, k * (2 * d + 1)) &&
              r.len - r.pos == 8 * k * (2 * d + 1);
    if (!ok)
        return cn_fail(ctx, CAIRN_EINVAL, "gnb payload: expected %zu classes of %zu inputs", k, d);
    gnb *m = gnb_new(d, k);
    cn_get_f64s(&r, m->prior, k);
    cn_get_f64s(&r, m->theta, k * d);
    cn_get_f64s(&r, m->var, k * d);
    double total = 0;
    for (size_t c = 0; ok && c < k; c++) {
        ok = m->prior[c] >= 0 && m->prior[c] <= 1;
        total += m->prior[c];
        for (size_t j = 0; ok && j < d; j++)
            ok = isfinite(m->theta[c * d + j]) && m->var[c * d + j] > 0 &&
                 isfinite(m->var[c * d + j]);
    }
    if (!ok || !(total > 0.5) || r.bad) {
        gnb_free(&m->base);
        return cn_fail(ctx, CAIRN_EINVAL, "gnb payload: priors or variances out of range");
    }
    *out = &m->base;
    return CAIRN_OK;
}

static const cairn_param_spec gnb_params[] = {
    {.name = "var_smoothing",
     .type = CAIRN_PARAM_FLOAT,
     .low = 0,
     .high = HUGE_VAL,
     .default_value = "1e-9",
     .log_scale = true,
     .help = "fraction of the largest feature variance added to every variance"},
};

const cn_learner_ops cn_gnb_ops = {
    .name = "gnb",
    .params = gnb_params,
    .n_params = CN_N_SPECS(gnb_params),
    .tasks = CN_TASK_CLASSIFICATION,
    .standardize = false,
    .fit = gnb_fit,
    .predict = gnb_predict,
    .save = gnb_save,
    .load = gnb_load,
    .free = gnb_free,
};
