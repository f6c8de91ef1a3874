/* SPDX-License-Identifier: MIT */
/* svm.c - support vector machines through libsvm (Debian's libsvm-dev, the library
 * scikit-learn's SVC and SVR wrap): C-SVC ("svc"), nu-SVC ("nusvc"), epsilon-SVR ("svr") and
 * nu-SVR ("nusvr") with linear, RBF, polynomial and sigmoid kernels, and Platt probabilities.
 * The fitted model is copied out of libsvm into arrays this file owns (support vectors dense,
 * d values each); predictions rebuild a struct svm_model over them. libsvm's only global state,
 * its print function and the rand() of its Platt cross-validation, sits behind one mutex. */
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <libsvm/svm.h>
#include "learn/learner.h"
#include "learn/linalg.h"
#include "core/core.h"
#include "base/str.h"
#include "base/xmalloc.h"
#include "base/banned.h"

typedef struct svm {
    cn_learner base;
    int svm_type, kernel, degree;
    double gamma, coef0;
    size_t d;
    size_t n_out;    /* classes of the model (outputs per row); 1 for regression */
    size_t nr_class; /* classes seen in training; 2 for regression */
    size_t l;        /* support vectors */
    bool prob;       /* probA/probB present (classification) */
    int *label;      /* nr_class class indices (classification) */
    int *nsv;        /* nr_class support vector counts (classification) */
    double *rho;     /* nr_class (nr_class - 1) / 2 */
    double *prob_a, *prob_b;
    double *coef;          /* (nr_class - 1) x l */
    double *sv;            /* l x d */
    struct svm_node *node; /* l x (d + 1): the support vectors as libsvm reads them */
    struct svm_node **sv_rows;
    double **coef_rows;
    struct svm_model model; /* points into the arrays above */
} svm;

/* Held around a fit with Platt probabilities: libsvm draws its folds with rand(), whose state
 * is the process's, so srand(seed) and the draws must not interleave with another fit's. */
static pthread_mutex_t svm_rand_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t svm_once = PTHREAD_ONCE_INIT;

static void quiet(const char *s)
{
    (void)s;
}

static void silence_libsvm(void)
{
    svm_set_print_string_function(quiet);
}

static const char *const kernel_choices[] = {"linear", "poly", "rbf", "sigmoid", NULL};
static const int kernel_codes[] = {LINEAR, POLY, RBF, SIGMOID};

static size_t n_pairs(size_t k)
{
    return k * (k - 1) / 2;
}

/* Row x (d values) as libsvm's sparse nodes into buf (d + 1 of them): the nonzero entries and
 * the terminator. Leaving zeros out changes no kernel value (each term they add is 0, or the
 * same square either way) and spares libsvm's index merge the work. */
static struct svm_node *row_nodes(const double *x, size_t d, struct svm_node *buf)
{
    size_t o = 0;
    for (size_t j = 0; j < d; j++) {
        if (x[j] == 0)
            continue;
        buf[o].index = (int)j + 1;
        buf[o++].value = x[j];
    }
    buf[o].index = -1;
    buf[o].value = 0;
    return buf;
}

/* Points m->model at m's arrays (after fit or load). */
static void wire(svm *m)
{
    size_t d = m->d, l = m->l, k = m->nr_class;
    m->node = cn_xmalloc((l * (d + 1) > 0 ? l * (d + 1) : 1) * sizeof *m->node);
    m->sv_rows = cn_xmalloc((l ? l : 1) * sizeof *m->sv_rows);
    m->coef_rows = cn_xmalloc((k - 1) * sizeof *m->coef_rows);
    for (size_t i = 0; i < l; i++) {
        m->sv_rows[i] = row_nodes(m->sv + i * d, d, m->node + i * (d + 1));
    }
    for (size_t c = 0; c + 1 < k; c++)
        m->coef_rows[c] = m->coef + c * l;
    struct svm_model *s = &m->model;
    memset(s, 0, sizeof *s);
    s->param.svm_type = m->svm_type;
    s->param.kernel_type = m->kernel;
    s->param.degree = m->degree;
    s->param.gamma = m->gamma;
    s->param.coef0 = m->coef0;
    s->param.probability = m->prob;
    s->nr_class = (int)k;
    s->l = (int)l;
    s->SV = m->sv_rows;
    s->sv_coef = m->coef_rows;
    s->rho = m->rho;
    s->probA = m->prob ? m->prob_a : NULL;
    s->probB = m->prob ? m->prob_b : NULL;
    s->label = m->label;
    s->nSV = m->nsv;
    s->free_sv = 0;
}

static bool svm_has_proba(const cn_learner *l)
{
    return ((const svm *)l)->prob;
}

static void svm_learner_free(cn_learner *l)
{
    svm *m = (svm *)l;
    if (!m)
        return;
    free(m->label);
    free(m->nsv);
    free(m->rho);
    free(m->prob_a);
    free(m->prob_b);
    free(m->coef);
    free(m->sv);
    free(m->node);
    free(m->sv_rows);
    free(m->coef_rows);
    free(m);
}

/* Copies a model libsvm trained (its SVs point into the problem) into arrays m owns. */
static svm *copy_model(const cn_learner_ops *ops, const struct svm_model *t, size_t d, size_t n_out)
{
    svm *m = cn_xcalloc(1, sizeof *m);
    m->base.ops = ops;
    m->n_out = n_out;
    m->svm_type = t->param.svm_type;
    m->kernel = t->param.kernel_type;
    m->degree = t->param.degree;
    m->gamma = t->param.gamma;
    m->coef0 = t->param.coef0;
    m->d = d;
    m->nr_class = (size_t)t->nr_class;
    m->l = (size_t)t->l;
    size_t k = m->nr_class, l = m->l, np = n_pairs(k);
    m->prob = t->probA && t->probB && (m->svm_type == C_SVC || m->svm_type == NU_SVC);
    if (t->label) {
        m->label = cn_xmemdup(t->label, k * sizeof *m->label);
        m->nsv = cn_xmemdup(t->nSV, k * sizeof *m->nsv);
    }
    m->rho = cn_xmemdup(t->rho, np * sizeof *m->rho);
    if (m->prob) {
        m->prob_a = cn_xmemdup(t->probA, np * sizeof *m->prob_a);
        m->prob_b = cn_xmemdup(t->probB, np * sizeof *m->prob_b);
    }
    m->coef = cn_xmalloc(((k - 1) * l > 0 ? (k - 1) * l : 1) * sizeof *m->coef);
    for (size_t c = 0; c + 1 < k; c++)
        memcpy(m->coef + c * l, t->sv_coef[c], l * sizeof *m->coef);
    m->sv = cn_xcalloc(l * d > 0 ? l * d : 1, sizeof *m->sv);
    for (size_t i = 0; i < l; i++)
        for (const struct svm_node *p = t->SV[i]; p->index != -1; p++)
            if (p->index >= 1 && (size_t)p->index <= d)
                m->sv[i * d + (size_t)p->index - 1] = p->value;
    wire(m);
    return m;
}

#define GAMMA_EXPECTED "expected scale, auto or a positive number"

/* gamma: "scale" (1 / (d * var(X)), sklearn's default), "auto" (1 / d) or a positive number. */
static cairn_status read_gamma(cairn_ctx *ctx, const cn_params *p, const cn_fit_data *data,
                               double *out)
{
    const char *v = cn_param_get(p, "gamma");
    size_t n = data->train.n, d = data->d;
    if (!v || strcmp(v, "scale") == 0) {
        double sum = 0, sq = 0, cnt = (double)n * (double)d;
        for (size_t i = 0; i < n * d; i++)
            sum += data->train.x[i];
        double mean = cnt > 0 ? sum / cnt : 0;
        for (size_t i = 0; i < n * d; i++)
            sq += (data->train.x[i] - mean) * (data->train.x[i] - mean);
        double var = cnt > 0 ? sq / cnt : 0;
        *out = var > 0 && d > 0 ? 1.0 / ((double)d * var) : 1.0;
        return CAIRN_OK;
    }
    if (strcmp(v, "auto") == 0) {
        *out = d > 0 ? 1.0 / (double)d : 1.0;
        return CAIRN_OK;
    }
    if (!cn_parse_double(v, out) || !(*out > 0) || !isfinite(*out))
        return cn_fail(ctx, CAIRN_EINVAL, "param 'gamma': %s, got '%s'", GAMMA_EXPECTED, v);
    return CAIRN_OK;
}

static const char *svm_check_string(const char *key, const char *value)
{
    double g;
    if (strcmp(key, "gamma") != 0 || strcmp(value, "scale") == 0 || strcmp(value, "auto") == 0)
        return NULL;
    return cn_parse_double(value, &g) && g > 0 && isfinite(g) ? NULL : GAMMA_EXPECTED;
}

/* The per-class weights folded into the row weights (class_weight), as libsvm's C_i = C w_i.
 * libsvm has no per-row weight, so weights that differ within a class are refused. */
static cairn_status class_weights(cairn_ctx *ctx, const char *name, const cn_fit_data *data,
                                  double *w, bool *seen)
{
    for (size_t k = 0; k < data->n_classes; k++) {
        w[k] = 1.0;
        seen[k] = false;
    }
    for (size_t i = 0; i < data->train.n; i++) {
        double wi = data->train.w ? data->train.w[i] : 1.0;
        if (data->task == CN_TASK_REGRESSION) {
            if (wi != 1.0)
                return cn_fail(ctx, CAIRN_EINVAL,
                               "%s: libsvm takes no row weights for regression; drop them", name);
            continue;
        }
        size_t k = (size_t)data->train.y[i];
        if (seen[k] && w[k] != wi)
            return cn_fail(ctx, CAIRN_EINVAL,
                           "%s: row weights differ within class %zu; libsvm weighs whole "
                           "classes only (use class_weight)",
                           name, k);
        seen[k] = true;
        w[k] = wi;
    }
    return CAIRN_OK;
}

static cairn_status svm_fit(cairn_ctx *ctx, const cn_learner_ops *ops, const cn_fit_data *data,
                            const cn_params *p, cn_learner **out)
{
    bool is_svc = data->task == CN_TASK_CLASSIFICATION;
    bool uses_nu = strcmp(ops->name, "nusvc") == 0 || strcmp(ops->name, "nusvr") == 0;
    struct svm_parameter par;
    memset(&par, 0, sizeof par);
    par.svm_type = is_svc ? (uses_nu ? NU_SVC : C_SVC) : (uses_nu ? NU_SVR : EPSILON_SVR);
    int kernel;
    int64_t degree;
    bool shrinking, probability = false;
    cairn_status rc = cn_param_choice(ctx, p, "kernel", kernel_choices, 2, &kernel);
    if (rc == CAIRN_OK)
        rc = cn_param_int(ctx, p, "degree", 3, 0, 1000, &degree);
    if (rc == CAIRN_OK)
        rc = read_gamma(ctx, p, data, &par.gamma);
    if (rc == CAIRN_OK)
        rc = cn_param_double(ctx, p, "coef0", 0.0, -1e300, 1e300, &par.coef0);
    if (rc == CAIRN_OK)
        rc = cn_param_double(ctx, p, "tol", 1e-3, 1e-300, 1e300, &par.eps);
    if (rc == CAIRN_OK)
        rc = cn_param_double(ctx, p, "cache_size", 200.0, 1e-3, 1e9, &par.cache_size);
    if (rc == CAIRN_OK)
        rc = cn_param_bool(ctx, p, "shrinking", true, &shrinking);
    if (rc == CAIRN_OK && par.svm_type != NU_SVC)
        rc = cn_param_double(ctx, p, "C", 1.0, 1e-300, 1e300, &par.C);
    if (rc == CAIRN_OK && uses_nu)
        rc = cn_param_double(ctx, p, "nu", 0.5, 1e-300, 1.0, &par.nu);
    if (rc == CAIRN_OK && par.svm_type == EPSILON_SVR)
        rc = cn_param_double(ctx, p, "epsilon", 0.1, 0.0, 1e300, &par.p);
    if (rc == CAIRN_OK && is_svc)
        rc = cn_param_bool(ctx, p, "probability", false, &probability);
    if (rc != CAIRN_OK)
        return rc;
    par.kernel_type = kernel_codes[kernel];
    par.degree = (int)degree;
    par.shrinking = shrinking;
    par.probability = probability;

    size_t n = data->train.n, d = data->d, k = is_svc ? data->n_classes : 0;
    if (n == 0)
        return cn_fail(ctx, CAIRN_EINVAL, "%s: no training rows", ops->name);
    if (n > (size_t)INT32_MAX / 2 || d >= (size_t)INT32_MAX)
        return cn_fail(ctx, CAIRN_EINVAL, "%s: %zu rows x %zu inputs is more than libsvm takes",
                       ops->name, n, d);
    double *cw = cn_xmalloc((k ? k : 1) * sizeof *cw);
    bool *seen = cn_xmalloc((k ? k : 1) * sizeof *seen);
    rc = class_weights(ctx, ops->name, data, cw, seen);
    size_t n_seen = 0;
    for (size_t c = 0; c < k; c++)
        n_seen += seen[c];
    if (rc == CAIRN_OK && is_svc && n_seen < 2)
        rc = cn_fail(ctx, CAIRN_EINVAL,
                     "%s: the training rows hold one class; a classifier needs two or more",
                     ops->name);
    if (rc != CAIRN_OK) {
        free(cw);
        free(seen);
        return rc;
    }

    /* Rows stably sorted by class, so libsvm (which orders classes by first appearance) sees
     * them in class order, as scikit-learn's patched copy does, within-class order kept. */
    size_t *order = cn_xmalloc(n * sizeof *order);
    if (is_svc) {
        size_t pos = 0;
        for (size_t c = 0; c < k; c++)
            for (size_t i = 0; i < n; i++)
                if ((size_t)data->train.y[i] == c)
                    order[pos++] = i;
    } else {
        for (size_t i = 0; i < n; i++)
            order[i] = i;
    }
    struct svm_node *nodes = cn_xmalloc(n * (d + 1) * sizeof *nodes);
    struct svm_node **rows = cn_xmalloc(n * sizeof *rows);
    double *y = cn_xmalloc(n * sizeof *y);
    for (size_t r = 0; r < n; r++) {
        size_t i = order[r];
        rows[r] = row_nodes(data->train.x + i * d, d, nodes + r * (d + 1));
        y[r] = data->train.y[i];
    }
    int *wl = cn_xmalloc((k ? k : 1) * sizeof *wl);
    double *wv = cn_xmalloc((k ? k : 1) * sizeof *wv);
    for (size_t c = 0; c < k; c++) {
        if (!seen[c] || cw[c] == 1.0)
            continue;
        wl[par.nr_weight] = (int)c;
        wv[par.nr_weight++] = cw[c];
    }
    if (par.svm_type == NU_SVC && par.nr_weight > 0) {
        cn_log(ctx, CAIRN_LOG_WARN, "learn",
               "nusvc: libsvm's nu-SVC has no class weights, so class_weight is ignored (as "
               "sklearn's NuSVC ignores it); use svc to weigh classes");
        par.nr_weight = 0;
    }
    par.weight_label = wl;
    par.weight = wv;
    struct svm_problem prob = {(int)n, y, rows};

    const char *bad = svm_check_parameter(&prob, &par);
    svm *m = NULL;
    if (bad) {
        rc = cn_fail(ctx, CAIRN_EINVAL, "%s: libsvm refuses the params: %s", ops->name, bad);
    } else {
        pthread_once(&svm_once, silence_libsvm);
        struct svm_model *t;
        if (par.probability) {
            pthread_mutex_lock(&svm_rand_lock);
            srand((unsigned)(data->seed ^ (data->seed >> 32))); /* Platt's internal 5-fold CV */
            t = svm_train(&prob, &par);
            pthread_mutex_unlock(&svm_rand_lock);
        } else {
            t = svm_train(&prob, &par); /* draws no random numbers */
        }
        m = copy_model(ops, t, d, is_svc ? k : 1);
        svm_free_and_destroy_model(&t);
        cn_log(ctx, CAIRN_LOG_DEBUG, "learn", "%s: %zu support vectors, gamma %.17g", ops->name,
               m->l, m->gamma);
        if (is_svc && !probability)
            cn_log(ctx, CAIRN_LOG_WARN, "learn",
                   "%s: probability=false, so the model gives no class probabilities (log "
                   "loss, ROC AUC, curves and probability columns are left out); set "
                   "probability=true for Platt probabilities",
                   ops->name);
    }
    free(order);
    free(nodes);
    free(rows);
    free(y);
    free(wl);
    free(wv);
    free(cw);
    free(seen);
    if (rc != CAIRN_OK)
        return rc;
    *out = &m->base;
    return CAIRN_OK;
}

void cn_svm_predict_libsvm(const cn_learner *l, const double *x, size_t n, double *out)
{
    const svm *m = (const svm *)l;
    size_t d = m->d, kc = m->nr_class;
    struct svm_node *buf = cn_xmalloc((d + 1) * sizeof *buf);
    double *pe = cn_xmalloc(kc * sizeof *pe);
    double *dec = cn_xmalloc((n_pairs(kc) ? n_pairs(kc) : 1) * sizeof *dec);
    bool classify = m->svm_type == C_SVC || m->svm_type == NU_SVC;
    for (size_t i = 0; i < n; i++) {
        const struct svm_node *row = row_nodes(x + i * d, d, buf);
        if (!classify) {
            out[i] = svm_predict_values(&m->model, row, dec);
            continue;
        }
        double *o = out + i * m->n_out;
        memset(o, 0, m->n_out * sizeof *o);
        if (m->prob) {
            svm_predict_probability(&m->model, row, pe);
            for (size_t c = 0; c < kc; c++)
                o[m->label[c]] = pe[c];
        } else {
            double lab = svm_predict_values(&m->model, row, dec);
            o[(size_t)lab] = 1.0;
        }
    }
    free(buf);
    free(pe);
    free(dec);
}

/* ---- prediction: libsvm's decision function and Platt coupling over dense blocks ----
 * libsvm's own svm_predict_* merge sparse index lists per kernel value; here a block of rows
 * gets its kernel values against every support vector at once (one BLAS product for the
 * linear, poly and sigmoid kernels, a dense loop for rbf), then the decision values, votes
 * and probabilities follow libsvm's code term for term and in its order of summation.
 * cn_svm_predict_libsvm keeps libsvm's path as the reference the tests compare with. */

/* base^times by squaring, as libsvm's powi. */
static double powi(double base, int times)
{
    double tmp = base, ret = 1.0;
    for (int t = times; t > 0; t /= 2) {
        if (t % 2 == 1)
            ret *= tmp;
        tmp = tmp * tmp;
    }
    return ret;
}

/* Kernel values of rows x (nb x d) against the support vectors into kv (nb x l). */
static void kernel_block(const svm *m, const double *x, size_t nb, double *kv)
{
    size_t d = m->d, l = m->l;
    if (m->kernel == RBF) {
        for (size_t i = 0; i < nb; i++)
            for (size_t t = 0; t < l; t++) {
                const double *a = x + i * d, *b = m->sv + t * d;
                double sum = 0;
                for (size_t j = 0; j < d; j++)
                    sum += (a[j] - b[j]) * (a[j] - b[j]);
                kv[i * l + t] = exp(-m->gamma * sum);
            }
        return;
    }
    cn_gemm(false, true, nb, l, d, 1.0, x, d, m->sv, d, 0.0, kv, l);
    for (size_t i = 0; i < nb * l; i++) {
        if (m->kernel == POLY)
            kv[i] = powi(m->gamma * kv[i] + m->coef0, m->degree);
        else if (m->kernel == SIGMOID)
            kv[i] = tanh(m->gamma * kv[i] + m->coef0);
    }
}

/* libsvm's svm_predict_values from one row's kernel values: the decision values (one per
 * class pair, or the regression value in dec[0]); returns the voted class index. */
static int decide(const svm *m, const double *kv, double *dec, int *vote)
{
    size_t k = m->nr_class, l = m->l;
    if (!m->label) {
        double sum = 0;
        for (size_t t = 0; t < l; t++)
            sum += m->coef[t] * kv[t];
        dec[0] = sum - m->rho[0];
        return 0;
    }
    size_t p = 0;
    for (size_t i = 0; i < k; i++)
        vote[i] = 0;
    for (size_t i = 0, si = 0; i < k; si += (size_t)m->nsv[i], i++)
        for (size_t j = i + 1, sj = si + (size_t)m->nsv[i]; j < k; sj += (size_t)m->nsv[j], j++) {
            const double *c1 = m->coef + (j - 1) * l, *c2 = m->coef + i * l;
            double sum = 0;
            for (size_t t = si; t < si + (size_t)m->nsv[i]; t++)
                sum += c1[t] * kv[t];
            for (size_t t = sj; t < sj + (size_t)m->nsv[j]; t++)
                sum += c2[t] * kv[t];
            dec[p] = sum - m->rho[p];
            vote[dec[p] > 0 ? i : j]++;
            p++;
        }
    size_t best = 0;
    for (size_t i = 1; i < k; i++)
        best = vote[i] > vote[best] ? i : best;
    return m->label[best];
}

/* libsvm's sigmoid_predict: 1 / (1 + exp(d A + B)) without cancellation. */
static double sigmoid_predict(double dv, double a, double b)
{
    double f = dv * a + b;
    return f >= 0 ? exp(-f) / (1.0 + exp(-f)) : 1.0 / (1 + exp(f));
}

/* libsvm's multiclass_probability: pairwise coupling (Wu, Lin and Weng 2004, method 2) of
 * r (k x k) into p (k); q is k x k scratch, qp k. */
static void couple(size_t k, const double *r, double *p, double *q, double *qp)
{
    size_t max_iter = k > 100 ? k : 100;
    double eps = 0.005 / (double)k;
    for (size_t t = 0; t < k; t++) {
        p[t] = 1.0 / (double)k;
        q[t * k + t] = 0;
        for (size_t j = 0; j < t; j++) {
            q[t * k + t] += r[j * k + t] * r[j * k + t];
            q[t * k + j] = q[j * k + t];
        }
        for (size_t j = t + 1; j < k; j++) {
            q[t * k + t] += r[j * k + t] * r[j * k + t];
            q[t * k + j] = -r[j * k + t] * r[t * k + j];
        }
    }
    for (size_t iter = 0; iter < max_iter; iter++) {
        double pqp = 0, max_error = 0;
        for (size_t t = 0; t < k; t++) {
            qp[t] = 0;
            for (size_t j = 0; j < k; j++)
                qp[t] += q[t * k + j] * p[j];
            pqp += p[t] * qp[t];
        }
        for (size_t t = 0; t < k; t++)
            max_error = fabs(qp[t] - pqp) > max_error ? fabs(qp[t] - pqp) : max_error;
        if (max_error < eps)
            break;
        for (size_t t = 0; t < k; t++) {
            double diff = (-qp[t] + pqp) / q[t * k + t];
            p[t] += diff;
            pqp = (pqp + diff * (diff * q[t * k + t] + 2 * qp[t])) / (1 + diff) / (1 + diff);
            for (size_t j = 0; j < k; j++) {
                qp[j] = (qp[j] + diff * q[t * k + j]) / (1 + diff);
                p[j] /= (1 + diff);
            }
        }
    }
}

/* libsvm's svm_predict_probability from the decision values: pe (k) per libsvm class. */
static void platt(const svm *m, const double *dec, double *pe, double *r, double *q, double *qp)
{
    size_t k = m->nr_class, p = 0;
    const double min_prob = 1e-7;
    for (size_t i = 0; i < k; i++)
        for (size_t j = i + 1; j < k; j++, p++) {
            double v = sigmoid_predict(dec[p], m->prob_a[p], m->prob_b[p]);
            v = v > min_prob ? v : min_prob;
            v = v < 1 - min_prob ? v : 1 - min_prob;
            r[i * k + j] = v;
            r[j * k + i] = 1 - v;
        }
    if (k == 2) {
        pe[0] = r[1];
        pe[1] = r[2];
    } else {
        couple(k, r, pe, q, qp);
    }
}

/* Rows per block: the block's kernel values stay within 8 MB. */
#define SVM_BLOCK_VALUES ((size_t)1 << 20)

/* Classification: probabilities (Platt) when fitted with probability, else a one-hot of
 * libsvm's one-vs-one vote; regression: the value. */
static cairn_status svm_predict_rows(cairn_ctx *ctx, const cn_learner *l, const double *x, size_t n,
                                     double *out)
{
    (void)ctx;
    const svm *m = (const svm *)l;
    size_t d = m->d, k = m->nr_class, sv = m->l ? m->l : 1;
    size_t nb = SVM_BLOCK_VALUES / sv > 256 ? 256 : SVM_BLOCK_VALUES / sv;
    nb = nb ? nb : 1;
    double *kv = cn_xmalloc(nb * sv * sizeof *kv);
    double *dec = cn_xmalloc((n_pairs(k) ? n_pairs(k) : 1) * sizeof *dec);
    double *pe = cn_xmalloc(k * sizeof *pe), *r = cn_xmalloc(k * k * sizeof *r);
    double *q = cn_xmalloc(k * k * sizeof *q), *qp = cn_xmalloc(k * sizeof *qp);
    int *vote = cn_xmalloc(k * sizeof *vote);
    for (size_t b = 0; b < n; b += nb) {
        size_t rows = n - b < nb ? n - b : nb;
        kernel_block(m, x + b * d, rows, kv);
        for (size_t i = 0; i < rows; i++) {
            int lab = decide(m, kv + i * m->l, dec, vote);
            if (!m->label) {
                out[b + i] = dec[0];
                continue;
            }
            double *o = out + (b + i) * m->n_out;
            memset(o, 0, m->n_out * sizeof *o);
            if (!m->prob) {
                o[lab] = 1.0;
                continue;
            }
            platt(m, dec, pe, r, q, qp);
            for (size_t c = 0; c < k; c++)
                o[m->label[c]] = pe[c];
        }
    }
    free(kv);
    free(dec);
    free(pe);
    free(r);
    free(q);
    free(qp);
    free(vote);
    return CAIRN_OK;
}

size_t cn_svm_decision(const cn_learner *l, const double *x, size_t n, double *out)
{
    const svm *m = (const svm *)l;
    size_t d = m->d, np = n_pairs(m->nr_class);
    bool classify = m->svm_type == C_SVC || m->svm_type == NU_SVC;
    size_t width = classify ? np : 1;
    struct svm_node *buf = cn_xmalloc((d + 1) * sizeof *buf);
    double *dec = cn_xmalloc((np ? np : 1) * sizeof *dec);
    for (size_t i = 0; i < n; i++) {
        double v = svm_predict_values(&m->model, row_nodes(x + i * d, d, buf), dec);
        if (classify)
            memcpy(out + i * width, dec, np * sizeof *dec);
        else
            out[i] = v;
    }
    free(buf);
    free(dec);
    return width;
}

size_t cn_svm_support(const cn_learner *l, const int **labels, const int **n_support)
{
    const svm *m = (const svm *)l;
    *labels = m->label;
    *n_support = m->nsv;
    return m->label ? m->nr_class : 0;
}

/* Payload: version, svm_type, kernel, degree, gamma, coef0, d, nr_class, l, prob; for
 * classification labels[nr_class] and nSV[nr_class]; rho; probA and probB (with prob);
 * sv_coef ((nr_class - 1) x l); the support vectors (l x d). */
enum { SVM_PAYLOAD_VERSION = 1 };

static void svm_save(const cn_learner *l, cn_buf *payload)
{
    const svm *m = (const svm *)l;
    size_t k = m->nr_class, np = n_pairs(k);
    double g[2] = {m->gamma, m->coef0};
    cn_put_u64(payload, SVM_PAYLOAD_VERSION);
    cn_put_u64(payload, (uint64_t)m->svm_type);
    cn_put_u64(payload, (uint64_t)m->kernel);
    cn_put_u64(payload, (uint64_t)m->degree);
    cn_put_f64s(payload, g, 2);
    cn_put_u64(payload, m->d);
    cn_put_u64(payload, k);
    cn_put_u64(payload, m->l);
    cn_put_u64(payload, m->prob);
    for (size_t c = 0; m->label && c < k; c++)
        cn_put_u64(payload, (uint64_t)m->label[c]);
    for (size_t c = 0; m->label && c < k; c++)
        cn_put_u64(payload, (uint64_t)m->nsv[c]);
    cn_put_f64s(payload, m->rho, np);
    if (m->prob) {
        cn_put_f64s(payload, m->prob_a, np);
        cn_put_f64s(payload, m->prob_b, np);
    }
    cn_put_f64s(payload, m->coef, (k - 1) * m->l);
    cn_put_f64s(payload, m->sv, m->l * m->d);
}

/* The bounds on what a payload may claim, checked before anything is sized by it. */
#define SVM_MAX_CLASSES 65536

static cairn_status svm_load_as(cairn_ctx *ctx, const cn_learner_ops *ops, int want_type,
                                const void *payload, size_t len, size_t d, cn_task task,
                                size_t n_classes, cn_learner **out)
{
    cn_reader r = {payload, len, 0, false};
    bool classify = want_type == C_SVC || want_type == NU_SVC;
    uint64_t version = cn_get_u64(&r), type = cn_get_u64(&r), kernel = cn_get_u64(&r);
    uint64_t degree = cn_get_u64(&r);
    double g[2];
    cn_get_f64s(&r, g, 2);
    uint64_t pd = cn_get_u64(&r), k = cn_get_u64(&r), l = cn_get_u64(&r), prob = cn_get_u64(&r);
    size_t np = (size_t)(k * (k - 1) / 2);
    bool ok = !r.bad && version == SVM_PAYLOAD_VERSION && type == (uint64_t)want_type &&
              kernel <= SIGMOID && degree <= 1000 && isfinite(g[0]) && isfinite(g[1]) && pd == d &&
              prob <= (classify ? 1u : 0u) &&
              (classify ? task == CN_TASK_CLASSIFICATION && k >= 2 && k <= n_classes &&
                              k <= SVM_MAX_CLASSES
                        : task == CN_TASK_REGRESSION && k == 2) &&
              l <= len / 8 && (d == 0 || l <= len / 8 / d) &&
              cn_reader_has(&r, (classify ? 2 * k : 0) + np * (prob ? 3 : 1) + (k - 1) * l + l * d);
    if (!ok)
        return cn_fail(ctx, CAIRN_EINVAL,
                       "%s payload: corrupt or does not match %zu inputs and %zu classes",
                       ops->name, d, n_classes);
    svm *m = cn_xcalloc(1, sizeof *m);
    m->base.ops = ops;
    m->svm_type = want_type;
    m->kernel = (int)kernel;
    m->degree = (int)degree;
    m->gamma = g[0];
    m->coef0 = g[1];
    m->d = d;
    m->n_out = classify ? n_classes : 1;
    m->nr_class = (size_t)k;
    m->l = (size_t)l;
    m->prob = prob != 0;
    if (classify) {
        m->label = cn_xmalloc((size_t)k * sizeof *m->label);
        m->nsv = cn_xmalloc((size_t)k * sizeof *m->nsv);
        bool *used = cn_xcalloc(n_classes, sizeof *used);
        uint64_t total = 0;
        for (size_t c = 0; c < k; c++) {
            uint64_t lab = cn_get_u64(&r);
            ok = ok && lab < n_classes && !used[lab];
            if (ok)
                used[lab] = true;
            m->label[c] = ok ? (int)lab : 0;
        }
        for (size_t c = 0; c < k; c++) {
            uint64_t cnt = cn_get_u64(&r);
            ok = ok && cnt <= l;
            total += ok ? cnt : 0;
            m->nsv[c] = ok ? (int)cnt : 0;
        }
        free(used);
        ok = ok && total == l;
    }
    m->rho = cn_xmalloc((np ? np : 1) * sizeof *m->rho);
    cn_get_f64s(&r, m->rho, np);
    if (m->prob) {
        m->prob_a = cn_xmalloc(np * sizeof *m->prob_a);
        m->prob_b = cn_xmalloc(np * sizeof *m->prob_b);
        cn_get_f64s(&r, m->prob_a, np);
        cn_get_f64s(&r, m->prob_b, np);
    }
    m->coef = cn_xmalloc(((k - 1) * l > 0 ? (size_t)((k - 1) * l) : 1) * sizeof *m->coef);
    m->sv = cn_xmalloc((l * d > 0 ? (size_t)l * d : 1) * sizeof *m->sv);
    cn_get_f64s(&r, m->coef, (size_t)((k - 1) * l));
    cn_get_f64s(&r, m->sv, (size_t)l * d);
    if (!ok || r.bad || r.pos != r.len) {
        svm_learner_free(&m->base);
        return cn_fail(ctx, CAIRN_EINVAL,
                       "%s payload: corrupt class labels, support counts or length", ops->name);
    }
    wire(m);
    *out = &m->base;
    return CAIRN_OK;
}

#define SVM_FIT(fn, ops)                                                                           \
    static cairn_status fn(cairn_ctx *ctx, const cn_fit_data *data, const cn_params *p,            \
                           cn_learner **out)                                                       \
    {                                                                                              \
        return svm_fit(ctx, &(ops), data, p, out);                                                 \
    }
SVM_FIT(svc_fit, cn_svc_ops)
SVM_FIT(nusvc_fit, cn_nusvc_ops)
SVM_FIT(svr_fit, cn_svr_ops)
SVM_FIT(nusvr_fit, cn_nusvr_ops)

#define SVM_LOADER(fn, ops, type)                                                                  \
    static cairn_status fn(cairn_ctx *ctx, const void *payload, size_t len, size_t d,              \
                           cn_task task, size_t n_classes, cn_learner **out)                       \
    {                                                                                              \
        return svm_load_as(ctx, &(ops), (type), payload, len, d, task, n_classes, out);            \
    }
SVM_LOADER(svc_load, cn_svc_ops, C_SVC)
SVM_LOADER(nusvc_load, cn_nusvc_ops, NU_SVC)
SVM_LOADER(svr_load, cn_svr_ops, EPSILON_SVR)
SVM_LOADER(nusvr_load, cn_nusvr_ops, NU_SVR)

/* ---- params, as scikit-learn's SVC, NuSVC, SVR and NuSVR name them ---- */

#define SPEC_C                                                                                     \
    {                                                                                              \
        .name = "C", .type = CAIRN_PARAM_FLOAT, .low = 0, .high = 1e300, .low_open = true,         \
        .default_value = "1.0", .log_scale = true,                                                 \
        .help = "penalty of the margin errors (per class: C times the class weight)"               \
    }
#define SPEC_COMMON                                                                                \
    {.name = "kernel",                                                                             \
     .type = CAIRN_PARAM_CATEGORICAL,                                                              \
     .default_value = "rbf",                                                                       \
     .choices = kernel_choices,                                                                    \
     .help = "linear, poly ((gamma x.y + coef0)^degree), rbf or sigmoid"},                         \
        {.name = "gamma",                                                                          \
         .type = CAIRN_PARAM_STRING,                                                               \
         .default_value = "scale",                                                                 \
         .help = "kernel coefficient: scale (1/(d var X)), auto (1/d) or a positive number"},      \
        {.name = "degree",                                                                         \
         .type = CAIRN_PARAM_INT,                                                                  \
         .low = 0,                                                                                 \
         .high = 1000,                                                                             \
         .default_value = "3",                                                                     \
         .help = "degree of the poly kernel"},                                                     \
        {.name = "coef0",                                                                          \
         .type = CAIRN_PARAM_FLOAT,                                                                \
         .low = -1e300,                                                                            \
         .high = 1e300,                                                                            \
         .default_value = "0.0",                                                                   \
         .help = "independent term of the poly and sigmoid kernels"},                              \
        {.name = "tol",                                                                            \
         .type = CAIRN_PARAM_FLOAT,                                                                \
         .low = 0,                                                                                 \
         .high = 1e300,                                                                            \
         .low_open = true,                                                                         \
         .default_value = "1e-3",                                                                  \
         .log_scale = true,                                                                        \
         .help = "stopping tolerance of the SMO solver"},                                          \
        CN_SPEC_BOOL("shrinking", "true", "use libsvm's shrinking heuristic"),                     \
        {.name = "cache_size",                                                                     \
         .type = CAIRN_PARAM_FLOAT,                                                                \
         .low = 1e-3,                                                                              \
         .high = 1e9,                                                                              \
         .default_value = "200",                                                                   \
         .help = "kernel cache in MB"},                                                            \
        CN_SPEC_STANDARDIZE
#define SPEC_NU                                                                                    \
    {                                                                                              \
        .name = "nu", .type = CAIRN_PARAM_FLOAT, .low = 0, .high = 1, .low_open = true,            \
        .default_value = "0.5",                                                                    \
        .help = "upper bound on the fraction of margin errors, lower bound on support vectors"     \
    }
#define SPEC_PROBABILITY                                                                           \
    CN_SPEC_BOOL("probability", "false",                                                           \
                 "Platt probabilities (5-fold CV inside libsvm); false: one-hot of the vote")

static const cairn_param_spec svc_params[] = {SPEC_C, SPEC_COMMON, SPEC_PROBABILITY};
static const cairn_param_spec nusvc_params[] = {SPEC_NU, SPEC_COMMON, SPEC_PROBABILITY};
static const cairn_param_spec svr_params[] = {
    SPEC_C,
    SPEC_COMMON,
    {.name = "epsilon",
     .type = CAIRN_PARAM_FLOAT,
     .low = 0,
     .high = 1e300,
     .default_value = "0.1",
     .help = "half-width of the tube inside which errors cost nothing"},
};
static const cairn_param_spec nusvr_params[] = {SPEC_C, SPEC_NU, SPEC_COMMON};

#define SVM_OPS(var, nm, specs, task, fitter, loader)                                              \
    const cn_learner_ops var = {                                                                   \
        .name = nm,                                                                                \
        .params = specs,                                                                           \
        .n_params = CN_N_SPECS(specs),                                                             \
        .tasks = task,                                                                             \
        .standardize = true,                                                                       \
        .fit = fitter,                                                                             \
        .predict = svm_predict_rows,                                                               \
        .save = svm_save,                                                                          \
        .load = loader,                                                                            \
        .free = svm_learner_free,                                                                  \
        .check_string = svm_check_string,                                                          \
        .has_proba = svm_has_proba,                                                                \
    };
SVM_OPS(cn_svc_ops, "svc", svc_params, CN_TASK_CLASSIFICATION, svc_fit, svc_load)
SVM_OPS(cn_nusvc_ops, "nusvc", nusvc_params, CN_TASK_CLASSIFICATION, nusvc_fit, nusvc_load)
SVM_OPS(cn_svr_ops, "svr", svr_params, CN_TASK_REGRESSION, svr_fit, svr_load)
SVM_OPS(cn_nusvr_ops, "nusvr", nusvr_params, CN_TASK_REGRESSION, nusvr_fit, nusvr_load)
