/* SPDX-License-Identifier: MIT */
/* linear.c - ordinary least squares (QR) and ridge regression (Cholesky on the centred normal
 * equations, or on the n x n kernel system when features outnumber rows; intercept not
 * penalised), as scikit-learn's LinearRegression and Ridge. */
#include <stdlib.h>
#include <string.h>
#include "learn/learner.h"
#include "learn/linalg.h"
#include "core/core.h"
#include "base/xmalloc.h"
#include "base/banned.h"

typedef struct linear {
    cn_learner base;
    size_t d;
    double intercept;
    double *coef; /* d */
} linear;

static cairn_status fit_any(cairn_ctx *ctx, const cn_fit_data *data, const cn_params *p,
                            bool is_ridge, cn_learner **out)
{
    size_t n = data->train.n, d = data->d;
    bool fit_intercept;
    double alpha = 0;
    cairn_status rc = cn_param_bool(ctx, p, "fit_intercept", true, &fit_intercept);
    if (rc == CAIRN_OK && is_ridge)
        rc = cn_param_double(ctx, p, "alpha", 1.0, 0.0, 1e300, &alpha);
    if (rc != CAIRN_OK)
        return rc;
    if (n == 0)
        return cn_fail(ctx, CAIRN_EINVAL, "no training rows");
    double *xc = cn_xmalloc((n * d > 0 ? n * d : 1) * sizeof *xc);
    double *yc = cn_xmalloc(n * sizeof *yc);
    double *xm = cn_xcalloc(d ? d : 1, sizeof *xm);
    double ym = 0;
    if (fit_intercept) {
        for (size_t i = 0; i < n; i++) {
            for (size_t j = 0; j < d; j++)
                xm[j] += data->train.x[i * d + j];
            ym += data->train.y[i];
        }
        for (size_t j = 0; j < d; j++)
            xm[j] /= (double)n;
        ym /= (double)n;
    }
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < d; j++)
            xc[i * d + j] = data->train.x[i * d + j] - xm[j];
        yc[i] = data->train.y[i] - ym;
    }
    linear *m = cn_xcalloc(1, sizeof *m);
    m->base.ops = is_ridge ? &cn_ridge_ops : &cn_linear_ops;
    m->d = d;
    m->coef = cn_xcalloc(d ? d : 1, sizeof *m->coef);
    int info = 0;
    bool dual = is_ridge && d > n && alpha > 0;
    if (d > 0 && !is_ridge) {
        info = cn_lstsq(n, d, xc, yc, m->coef);
    } else if (dual) {
        /* Kernel (dual) form, as scikit-learn's _solve_cholesky_kernel: (Xc Xc^T + alpha I) a =
         * yc, coef = Xc^T a. Same solution as the primal one, but n x n instead of d x d. */
        double *k = cn_xmalloc(n * n * sizeof *k);
        double *a = cn_xmemdup(yc, n * sizeof *a);
        cn_gram_rows(n, d, xc, k);
        for (size_t i = 0; i < n; i++)
            k[i * n + i] += alpha;
        info = cn_cholesky_solve(n, k, a);
        if (info == 0)
            cn_gemv(true, n, d, 1.0, xc, d, a, 0.0, m->coef);
        free(a);
        free(k);
    } else if (d > 0) {
        double *s = cn_xmalloc(d * d * sizeof *s);
        cn_gram(n, d, xc, s);
        for (size_t j = 0; j < d; j++)
            s[j * d + j] += alpha;
        cn_gemv(true, n, d, 1.0, xc, d, yc, 0.0, m->coef);
        info = cn_cholesky_solve(d, s, m->coef);
        free(s);
    }
    m->intercept = ym;
    for (size_t j = 0; j < d; j++)
        m->intercept -= xm[j] * m->coef[j];
    free(xc);
    free(yc);
    free(xm);
    if (info != 0) {
        free(m->coef);
        free(m);
        return cn_fail(ctx, CAIRN_EINVAL,
                       !is_ridge ? "linear: the least-squares solve did not converge (lapack "
                                   "info %d)"
                       : dual    ? "ridge: the kernel system is not positive definite; raise alpha"
                                 : "ridge: the normal equations are singular; use alpha > 0",
                       info);
    }
    *out = &m->base;
    return CAIRN_OK;
}

static cairn_status linear_fit(cairn_ctx *ctx, const cn_fit_data *data, const cn_params *p,
                               cn_learner **out)
{
    return fit_any(ctx, data, p, false, out);
}

static cairn_status ridge_fit(cairn_ctx *ctx, const cn_fit_data *data, const cn_params *p,
                              cn_learner **out)
{
    return fit_any(ctx, data, p, true, out);
}

static cairn_status linear_predict(cairn_ctx *ctx, const cn_learner *l, const double *x, size_t n,
                                   double *out)
{
    (void)ctx;
    const linear *m = (const linear *)l;
    for (size_t i = 0; i < n; i++)
        out[i] = m->intercept;
    cn_gemv(false, n, m->d, 1.0, x, m->d, m->coef, 1.0, out);
    return CAIRN_OK;
}

static void linear_save(const cn_learner *l, cn_buf *payload)
{
    const linear *m = (const linear *)l;
    cn_put_u64(payload, m->d);
    cn_put_f64s(payload, &m->intercept, 1);
    cn_put_f64s(payload, m->coef, m->d);
}

static cairn_status load_any(cairn_ctx *ctx, const void *payload, size_t len, size_t d,
                             const cn_learner_ops *ops, cn_learner **out)
{
    cn_reader r = {payload, len, 0, false};
    if (cn_get_u64(&r) != d || !cn_reader_has(&r, d + 1) || r.len - r.pos != 8 * (d + 1))
        return cn_fail(ctx, CAIRN_EINVAL, "%s payload: expected %zu weights", ops->name, d + 1);
    linear *m = cn_xcalloc(1, sizeof *m);
    m->base.ops = ops;
    m->d = d;
    m->coef = cn_xcalloc(d ? d : 1, sizeof *m->coef);
    cn_get_f64s(&r, &m->intercept, 1);
    cn_get_f64s(&r, m->coef, d);
    *out = &m->base;
    return CAIRN_OK;
}

static cairn_status linear_load(cairn_ctx *ctx, const void *payload, size_t len, size_t d,
                                cn_task task, size_t n_classes, cn_learner **out)
{
    (void)task;
    (void)n_classes;
    return load_any(ctx, payload, len, d, &cn_linear_ops, out);
}

static cairn_status ridge_load(cairn_ctx *ctx, const void *payload, size_t len, size_t d,
                               cn_task task, size_t n_classes, cn_learner **out)
{
    (void)task;
    (void)n_classes;
    return load_any(ctx, payload, len, d, &cn_ridge_ops, out);
}

static void linear_free(cn_learner *l)
{
    linear *m = (linear *)l;
    if (!m)
        return;
    free(m->coef);
    free(m);
}

static const cairn_param_spec linear_params[] = {CN_SPEC_FIT_INTERCEPT, CN_SPEC_STANDARDIZE};
static const cairn_param_spec ridge_params[] = {
    {.name = "alpha",
     .type = CAIRN_PARAM_FLOAT,
     .low = 0.0,
     .high = 1e300,
     .default_value = "1.0",
     .log_scale = true,
     .help = "L2 strength: minimises ||y - Xw - b||^2 + alpha ||w||^2"},
    CN_SPEC_FIT_INTERCEPT,
    CN_SPEC_STANDARDIZE,
};

const cn_learner_ops cn_linear_ops = {
    .name = "linear",
    .params = linear_params,
    .n_params = CN_N_SPECS(linear_params),
    .tasks = CN_TASK_REGRESSION,
    .standardize = true,
    .fit = linear_fit,
    .predict = linear_predict,
    .save = linear_save,
    .load = linear_load,
    .free = linear_free,
};
const cn_learner_ops cn_ridge_ops = {
    .name = "ridge",
    .params = ridge_params,
    .n_params = CN_N_SPECS(ridge_params),
    .tasks = CN_TASK_REGRESSION,
    .standardize = true,
    .fit = ridge_fit,
    .predict = linear_predict,
    .save = linear_save,
    .load = ridge_load,
    .free = linear_free,
};

const double *cn_linear_weights(const cn_learner *l, double *intercept)
{
    const linear *m = (const linear *)l;
    *intercept = m->intercept;
    return m->coef;
}
