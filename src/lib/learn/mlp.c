/* SPDX-License-Identifier: MIT */
/* mlp.c - a multi-layer perceptron: dense layers with relu or tanh, softmax (classification)
 * or identity (regression) output, Adam or SGD with Nesterov momentum on mini-batches, L2
 * (alpha), inverted dropout, early stopping with patience. Loss and init follow scikit-learn's
 * MLPClassifier/MLPRegressor. Bit-for-bit deterministic under a seed: one RNG, fixed loop
 * order, OpenBLAS pinned to one thread. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "learn/learner.h"
#include "learn/linalg.h"
#include "core/core.h"
#include "base/rng.h"
#include "base/str.h"
#include "base/xmalloc.h"
#include "base/banned.h"

#define MLP_MAX_LAYERS 64
#define MLP_MAX_WIDTH 1000000

enum { ACT_RELU, ACT_TANH };

typedef struct mlp {
    cn_learner base;
    size_t n_layers; /* weight layers: hidden + output */
    size_t *sizes;   /* n_layers + 1 widths, sizes[0] = inputs */
    int activation;
    bool classify; /* softmax + cross-entropy; else identity + squared error / 2 */
    size_t n_params;
    double *theta;  /* per layer: W (in x out, row-major) then b (out) */
    bool int8;      /* weight matrices saved as int8, one scale per layer (cn_mlp_quantize) */
    bool sparse;    /* weight matrices saved as a bitmap and the nonzero values (cn_mlp_prune) */
    double *scales; /* int8: one per layer, kept so saving again writes the same bytes */
} mlp;

/* First u64 of a packed (int8 and/or sparse) payload; a plain one starts with the layer count. */
#define MLP_PACKED_MARK UINT64_C(0xC0DE51C8000000AA)

/* Buffers for one batch: activations per layer and their deltas. */
typedef struct work {
    size_t cap;    /* rows */
    double **a;    /* a[0] = input rows, a[l] = layer l output (cap x sizes[l]) */
    double **mask; /* dropout scale per hidden unit (NULL without dropout) */
    double **delta;
} work;

static size_t w_off(const mlp *m, size_t l)
{
    size_t off = 0;
    for (size_t i = 0; i < l; i++)
        off += (m->sizes[i] + 1) * m->sizes[i + 1];
    return off;
}

static void work_init(work *w, const mlp *m, size_t cap, bool dropout)
{
    size_t nl = m->n_layers;
    w->cap = cap;
    w->a = cn_xcalloc(nl + 1, sizeof *w->a);
    w->mask = cn_xcalloc(nl + 1, sizeof *w->mask);
    w->delta = cn_xcalloc(nl + 1, sizeof *w->delta);
    for (size_t l = 0; l <= nl; l++) {
        w->a[l] = cn_xmalloc(cap * m->sizes[l] * sizeof(double));
        w->delta[l] = cn_xmalloc(cap * m->sizes[l] * sizeof(double));
        if (dropout && l > 0 && l < nl)
            w->mask[l] = cn_xmalloc(cap * m->sizes[l] * sizeof(double));
    }
}

static void work_release(work *w, size_t nl)
{
    for (size_t l = 0; w->a && l <= nl; l++) {
        free(w->a[l]);
        free(w->delta[l]);
        free(w->mask[l]);
    }
    free(w->a);
    free(w->mask);
    free(w->delta);
}

/* Forward pass of b rows already in w->a[0]; dropout masks drawn from rng when p > 0. */
static void forward(const mlp *m, work *w, size_t b, double p, cn_rng *rng)
{
    for (size_t l = 1; l <= m->n_layers; l++) {
        size_t in = m->sizes[l - 1], out = m->sizes[l];
        const double *wl = m->theta + w_off(m, l - 1), *bl = wl + in * out;
        double *a = w->a[l];
        for (size_t i = 0; i < b; i++)
            memcpy(a + i * out, bl, out * sizeof *a);
        cn_gemm(false, false, b, out, in, 1.0, w->a[l - 1], in, wl, out, 1.0, a, out);
        if (l == m->n_layers) {
            if (m->classify)
                for (size_t i = 0; i < b; i++)
                    cn_softmax(a + i * out, out);
            break;
        }
        for (size_t j = 0; j < b * out; j++)
            a[j] = m->activation == ACT_RELU ? (a[j] > 0 ? a[j] : 0.0) : tanh(a[j]);
        if (p > 0 && w->mask[l]) {
            for (size_t j = 0; j < b * out; j++) {
                w->mask[l][j] = cn_rng_uniform(rng) < p ? 0.0 : 1.0 / (1.0 - p);
                a[j] *= w->mask[l][j];
            }
        }
    }
}

/* Sum over rows of s_i * loss_i for the output in w->a[L]. */
static double data_loss(const mlp *m, const work *w, const double *y, const double *soft,
                        const double *s, size_t b)
{
    size_t out = m->sizes[m->n_layers];
    const double *a = w->a[m->n_layers];
    double sum = 0;
    for (size_t i = 0; i < b; i++) {
        if (soft && m->classify) {
            for (size_t j = 0; j < out; j++) {
                double q = a[i * out + j], t = soft[i * out + j];
                sum += t > 0 ? s[i] * -t * log(q > 1e-300 ? q : 1e-300) : 0.0;
            }
        } else if (soft) {
            double e = a[i] - soft[i];
            sum += s[i] * 0.5 * e * e;
        } else if (m->classify) {
            double q = a[i * out + (size_t)y[i]];
            sum += s[i] * -log(q > 1e-300 ? q : 1e-300);
        } else {
            double e = a[i] - y[i];
            sum += s[i] * 0.5 * e * e;
        }
    }
    return sum;
}

static double sq_weights(const mlp *m)
{
    double sum = 0;
    for (size_t l = 0; l < m->n_layers; l++) {
        const double *wl = m->theta + w_off(m, l);
        for (size_t j = 0; j < m->sizes[l] * m->sizes[l + 1]; j++)
            sum += wl[j] * wl[j];
    }
    return sum;
}

/* Gradient of (sum s_i loss_i + alpha/2 ||W||^2) / b after forward() on the same rows. */
static void backward(const mlp *m, work *w, const double *y, const double *soft, const double *s,
                     size_t b, double alpha, double *grad)
{
    size_t nl = m->n_layers, out = m->sizes[nl];
    double *dl = w->delta[nl];
    const double *a = w->a[nl];
    for (size_t i = 0; i < b; i++)
        for (size_t j = 0; j < out; j++) {
            double target = soft          ? soft[i * out + j]
                            : m->classify ? (j == (size_t)y[i] ? 1.0 : 0.0)
                                          : y[i];
            dl[i * out + j] = s[i] * (a[i * out + j] - target) / (double)b;
        }
    for (size_t l = nl; l >= 1; l--) {
        size_t in = m->sizes[l - 1], o = m->sizes[l];
        size_t off = w_off(m, l - 1);
        const double *wl = m->theta + off;
        double *gw = grad + off, *gb = gw + in * o;
        /* gW = a^T delta + alpha W / b; gb = column sums of delta. */
        for (size_t j = 0; j < in * o; j++)
            gw[j] = alpha * wl[j] / (double)b;
        cn_gemm(true, false, in, o, b, 1.0, w->a[l - 1], in, w->delta[l], o, 1.0, gw, o);
        for (size_t j = 0; j < o; j++)
            gb[j] = 0;
        for (size_t i = 0; i < b; i++)
            for (size_t j = 0; j < o; j++)
                gb[j] += w->delta[l][i * o + j];
        if (l == 1)
            break;
        double *dp = w->delta[l - 1];
        const double *ap = w->a[l - 1], *mk = w->mask[l - 1];
        cn_gemm(false, true, b, in, o, 1.0, w->delta[l], o, wl, o, 0.0, dp, in);
        for (size_t j = 0; j < b * in; j++) {
            double scale = mk ? mk[j] : 1.0, deriv;
            if (scale == 0) {
                dp[j] = 0;
                continue;
            }
            double act = ap[j] / scale;
            deriv = m->activation == ACT_RELU ? (act > 0 ? 1.0 : 0.0) : 1.0 - act * act;
            dp[j] *= deriv * scale;
        }
    }
}

static void load_rows(work *w, const double *x, size_t d, const size_t *idx, size_t start, size_t b)
{
    for (size_t i = 0; i < b; i++)
        memcpy(w->a[0] + i * d, x + (idx ? idx[start + i] : start + i) * d, d * sizeof(double));
}

/* Loss (mean of s_i loss_i) and metric (accuracy or R^2) of rows, without dropout. */
static void evaluate(const mlp *m, work *w, const cn_rows *r, double *loss, double *metric)
{
    size_t d = m->sizes[0], out = m->sizes[m->n_layers];
    double sum = 0, hits = 0, sse = 0, mean = 0, sst = 0;
    for (size_t i = 0; i < r->n; i++)
        mean += r->y[i] / (double)r->n;
    for (size_t start = 0; start < r->n; start += w->cap) {
        size_t b = r->n - start < w->cap ? r->n - start : w->cap;
        load_rows(w, r->x, d, NULL, start, b);
        forward(m, w, b, 0, NULL);
        sum += data_loss(m, w, r->y + start, NULL, r->w + start, b);
        const double *a = w->a[m->n_layers];
        for (size_t i = 0; i < b; i++) {
            double y = r->y[start + i];
            if (m->classify) {
                size_t best = 0;
                for (size_t j = 1; j < out; j++)
                    best = a[i * out + j] > a[i * out + best] ? j : best;
                hits += best == (size_t)y;
            } else {
                sse += (a[i] - y) * (a[i] - y);
                sst += (y - mean) * (y - mean);
            }
        }
    }
    *loss = sum / (double)r->n;
    *metric = m->classify ? hits / (double)r->n : (sst > 0 ? 1 - sse / sst : NAN);
}

static cairn_status parse_hidden(cairn_ctx *ctx, const char *text, size_t *sizes, size_t *n)
{
    *n = 0;
    if (!*text)
        return CAIRN_OK; /* "" : no hidden layer */
    const char *p = text;
    while (*p) {
        char part[32];
        size_t len = strcspn(p, ",");
        int64_t v;
        if (len == 0 || len >= sizeof part || *n + 2 >= MLP_MAX_LAYERS)
            return cn_fail(ctx, CAIRN_EINVAL,
                           "param 'hidden': expected widths like '64,32', "
                           "got '%s'",
                           text);
        memcpy(part, p, len);
        part[len] = '\0';
        if (!cn_parse_int64(part, &v) || v < 1 || v > MLP_MAX_WIDTH)
            return cn_fail(ctx, CAIRN_EINVAL, "param 'hidden': width '%s' is not in [1, %d]", part,
                           MLP_MAX_WIDTH);
        sizes[1 + (*n)++] = (size_t)v;
        p += len;
        if (*p == ',')
            p++;
    }
    return CAIRN_OK;
}

static mlp *mlp_new(const size_t *sizes, size_t n_layers, int activation, bool classify)
{
    mlp *m = cn_xcalloc(1, sizeof *m);
    m->base.ops = &cn_mlp_ops;
    m->n_layers = n_layers;
    m->sizes = cn_xmemdup(sizes, (n_layers + 1) * sizeof *sizes);
    m->activation = activation;
    m->classify = classify;
    m->n_params = w_off(m, n_layers);
    m->theta = cn_xcalloc(m->n_params, sizeof *m->theta);
    return m;
}

typedef struct settings {
    double lr, momentum, alpha, dropout, tol, beta1, beta2, eps;
    int64_t epochs, batch, patience;
    int solver; /* 0 adam, 1 sgd */
    bool nesterov, early_stopping, shuffle;
} settings;

static const char *const solvers[] = {"adam", "sgd", NULL};
static const char *const acts[] = {"relu", "tanh", NULL};

static cairn_status read_settings(cairn_ctx *ctx, const cn_params *p, settings *s)
{
    cairn_status rc = cn_param_double(ctx, p, "learning_rate", 0.001, 1e-12, 1e6, &s->lr);
    if (rc == CAIRN_OK)
        rc = cn_param_double(ctx, p, "momentum", 0.9, 0.0, 1.0, &s->momentum);
    if (rc == CAIRN_OK)
        rc = cn_param_double(ctx, p, "alpha", 0.0001, 0.0, 1e12, &s->alpha);
    if (rc == CAIRN_OK)
        rc = cn_param_double(ctx, p, "dropout", 0.0, 0.0, 0.99, &s->dropout);
    if (rc == CAIRN_OK)
        rc = cn_param_double(ctx, p, "tol", 1e-4, 0.0, 1e12, &s->tol);
    if (rc == CAIRN_OK)
        rc = cn_param_double(ctx, p, "beta1", 0.9, 0.0, 0.999999, &s->beta1);
    if (rc == CAIRN_OK)
        rc = cn_param_double(ctx, p, "beta2", 0.999, 0.0, 0.999999999, &s->beta2);
    if (rc == CAIRN_OK)
        rc = cn_param_double(ctx, p, "epsilon", 1e-8, 0.0, 1.0, &s->eps);
    if (rc == CAIRN_OK)
        rc = cn_param_int(ctx, p, "epochs", 200, 1, 10000000, &s->epochs);
    if (rc == CAIRN_OK)
        rc = cn_param_int(ctx, p, "batch_size", 200, 1, 1000000, &s->batch);
    if (rc == CAIRN_OK)
        rc = cn_param_int(ctx, p, "patience", 10, 1, 1000000, &s->patience);
    if (rc == CAIRN_OK)
        rc = cn_param_choice(ctx, p, "solver", solvers, 0, &s->solver);
    if (rc == CAIRN_OK)
        rc = cn_param_bool(ctx, p, "nesterov", true, &s->nesterov);
    if (rc == CAIRN_OK)
        rc = cn_param_bool(ctx, p, "early_stopping", true, &s->early_stopping);
    if (rc == CAIRN_OK)
        rc = cn_param_bool(ctx, p, "shuffle", true, &s->shuffle);
    return rc;
}

/* Reads the params, checks the size and makes the network, its weights still zero. */
static cairn_status mlp_setup(cairn_ctx *ctx, const cn_fit_data *data, const cn_params *p,
                              settings *s, mlp **out)
{
    size_t sizes[MLP_MAX_LAYERS], nh;
    int activation;
    const char *hidden = cn_param_get(p, "hidden");
    cairn_status rc = parse_hidden(ctx, hidden ? hidden : "100", sizes, &nh);
    if (rc == CAIRN_OK)
        rc = cn_param_choice(ctx, p, "activation", acts, ACT_RELU, &activation);
    if (rc == CAIRN_OK)
        rc = read_settings(ctx, p, s);
    if (rc != CAIRN_OK)
        return rc;
    bool classify = data->task == CN_TASK_CLASSIFICATION;
    sizes[0] = data->d;
    sizes[nh + 1] = classify ? data->n_classes : 1;
    double width = 0;
    for (size_t l = 0; l <= nh; l++)
        width += ((double)sizes[l] + 1) * (double)sizes[l + 1];
    if (width > 5e8)
        return cn_fail(ctx, CAIRN_ELIMIT, "mlp: %.0f weights is too many (limit 5e8)", width);
    cn_linalg_single_thread();
    *out = mlp_new(sizes, nh + 1, activation, classify);
    return CAIRN_OK;
}

/* Glorot uniform for weights and biases, as scikit-learn. */
static void glorot_init(mlp *m, cn_rng *rng)
{
    for (size_t l = 0; l < m->n_layers; l++) {
        size_t in = m->sizes[l], o = m->sizes[l + 1];
        double bound = sqrt(6.0 / (double)(in + o));
        double *wl = m->theta + w_off(m, l);
        for (size_t j = 0; j < (in + 1) * o; j++)
            wl[j] = (2 * cn_rng_uniform(rng) - 1) * bound;
    }
}

/* The state of one fit across epochs. */
typedef struct trainer {
    mlp *m;
    const cn_fit_data *data;
    const settings *s;
    cn_rng *rng; /* shuffling and dropout draw from it, in that order each epoch */
    work w;      /* one batch */
    size_t batch;
    double *grad, *m1, *m2; /* n_params each; m1, m2: Adam's moments, or m1: SGD's velocity */
    double *best;           /* the weights of the best epoch on the validation rows */
    size_t *idx;            /* training rows in this epoch's order */
    double *yb, *sb;        /* batch targets and weights */
    double *softb;          /* batch soft targets (distillation), or NULL */
    int64_t t;              /* optimizer steps so far: Adam's bias correction */
    int64_t bad;            /* epochs in a row without an improvement of at least tol */
    int best_epoch;         /* the epoch whose weights `best` holds (0: none yet) */
    double best_loss, sst;  /* sst: total sum of squares of the training targets, for R^2 */
    double *gnorm;          /* n_layers: this epoch's mean per-layer weight-gradient norm */
} trainer;

static void trainer_init(trainer *tr, mlp *m, const cn_fit_data *data, const settings *s,
                         cn_rng *rng)
{
    size_t n = data->train.n, np = m->n_params;
    size_t batch = (size_t)s->batch < n ? (size_t)s->batch : n;
    *tr = (trainer){.m = m, .data = data, .s = s, .rng = rng, .batch = batch};
    work_init(&tr->w, m, batch, s->dropout > 0);
    tr->grad = cn_xmalloc(np * sizeof *tr->grad);
    tr->gnorm = cn_xcalloc(m->n_layers, sizeof *tr->gnorm);
    tr->m1 = cn_xcalloc(np, sizeof *tr->m1);
    tr->m2 = cn_xcalloc(np, sizeof *tr->m2);
    tr->best = cn_xmemdup(m->theta, np * sizeof *tr->best);
    tr->idx = cn_xmalloc(n * sizeof *tr->idx);
    tr->yb = cn_xmalloc(batch * sizeof *tr->yb);
    tr->sb = cn_xmalloc(batch * sizeof *tr->sb);
    if (data->soft)
        tr->softb = cn_xmalloc(batch * m->sizes[m->n_layers] * sizeof *tr->softb);
    for (size_t i = 0; i < n; i++)
        tr->idx[i] = i;
    tr->best_loss = INFINITY;
    double ymean = 0, sst = 0;
    for (size_t i = 0; i < n; i++)
        ymean += data->train.y[i] / (double)n;
    for (size_t i = 0; i < n; i++)
        sst += (data->train.y[i] - ymean) * (data->train.y[i] - ymean);
    tr->sst = sst;
}

static void trainer_release(trainer *tr)
{
    work_release(&tr->w, tr->m->n_layers);
    free(tr->grad);
    free(tr->gnorm);
    free(tr->m1);
    free(tr->m2);
    free(tr->best);
    free(tr->idx);
    free(tr->yb);
    free(tr->sb);
    free(tr->softb);
}

/* One Adam or SGD (optionally Nesterov) step along tr->grad. */
static void optimizer_step(trainer *tr)
{
    const settings *s = tr->s;
    double *theta = tr->m->theta, *grad = tr->grad, *m1 = tr->m1, *m2 = tr->m2;
    size_t np = tr->m->n_params;
    tr->t++;
    if (s->solver == 0) {
        double lr_t =
            s->lr * sqrt(1 - pow(s->beta2, (double)tr->t)) / (1 - pow(s->beta1, (double)tr->t));
        for (size_t j = 0; j < np; j++) {
            m1[j] = s->beta1 * m1[j] + (1 - s->beta1) * grad[j];
            m2[j] = s->beta2 * m2[j] + (1 - s->beta2) * grad[j] * grad[j];
            theta[j] -= lr_t * m1[j] / (sqrt(m2[j]) + s->eps);
        }
    } else {
        for (size_t j = 0; j < np; j++) {
            m1[j] = s->momentum * m1[j] - s->lr * grad[j];
            theta[j] += s->nesterov ? s->momentum * m1[j] - s->lr * grad[j] : m1[j];
        }
    }
}

/* Trains on the b rows at tr->idx[start..]; adds their loss, hits and squared errors (all
 * before the step) to the epoch's sums. */
static void train_batch(trainer *tr, size_t start, size_t b, double *loss_sum, double *hits,
                        double *sse)
{
    const mlp *m = tr->m;
    const cn_rows *r = &tr->data->train;
    double *yb = tr->yb, *sb = tr->sb;
    load_rows(&tr->w, r->x, m->sizes[0], tr->idx, start, b);
    size_t o = m->sizes[m->n_layers];
    for (size_t i = 0; i < b; i++) {
        yb[i] = r->y[tr->idx[start + i]];
        sb[i] = r->w[tr->idx[start + i]];
        if (tr->softb)
            memcpy(tr->softb + i * o, tr->data->soft + tr->idx[start + i] * o,
                   o * sizeof *tr->softb);
    }
    forward(m, &tr->w, b, tr->s->dropout, tr->rng);
    double bl = (data_loss(m, &tr->w, yb, tr->softb, sb, b) + 0.5 * tr->s->alpha * sq_weights(m)) /
                (double)b;
    *loss_sum += bl * (double)b;
    const double *a = tr->w.a[m->n_layers];
    for (size_t i = 0; i < b; i++) {
        if (m->classify) {
            size_t bi = 0;
            for (size_t j = 1; j < o; j++)
                bi = a[i * o + j] > a[i * o + bi] ? j : bi;
            *hits += bi == (size_t)yb[i];
        } else {
            *sse += (a[i] - yb[i]) * (a[i] - yb[i]);
        }
    }
    backward(m, &tr->w, yb, tr->softb, sb, b, tr->s->alpha, tr->grad);
    for (size_t l = 0; l < m->n_layers; l++) { /* the weights' gradient norm (diagnostics) */
        const double *gw = tr->grad + w_off(m, l);
        double sq = 0;
        for (size_t j = 0; j < m->sizes[l] * m->sizes[l + 1]; j++)
            sq += gw[j] * gw[j];
        tr->gnorm[l] += sqrt(sq);
    }
    optimizer_step(tr);
}

/* One pass over the training rows (reshuffled first); returns the epoch's training numbers. */
static cairn_epoch_info train_epoch(trainer *tr, int64_t epoch)
{
    size_t n = tr->data->train.n, batch = tr->batch;
    size_t *idx = tr->idx;
    if (tr->s->shuffle)
        for (size_t i = n - 1; i > 0; i--) {
            size_t j = (size_t)cn_rng_below(tr->rng, i + 1), tmp = idx[i];
            idx[i] = idx[j];
            idx[j] = tmp;
        }
    double loss_sum = 0, hits = 0, sse = 0;
    size_t n_batches = 0;
    for (size_t l = 0; l < tr->m->n_layers; l++)
        tr->gnorm[l] = 0;
    for (size_t start = 0; start < n; start += batch) {
        size_t b = n - start < batch ? n - start : batch;
        train_batch(tr, start, b, &loss_sum, &hits, &sse);
        n_batches++;
    }
    for (size_t l = 0; l < tr->m->n_layers; l++)
        tr->gnorm[l] /= (double)(n_batches ? n_batches : 1);
    double sst = tr->sst;
    cairn_epoch_info e = {.epoch = (int)epoch,
                          .train_loss = loss_sum / (double)n,
                          .val_loss = NAN,
                          .train_metric =
                              tr->m->classify ? hits / (double)n : (sst > 0 ? 1 - sse / sst : NAN),
                          .val_metric = NAN};
    e.grad_norms = tr->gnorm;
    e.n_layers = tr->m->n_layers;
    return e;
}

/* Early stopping bookkeeping: counts epochs without an improvement of at least tol in the
 * monitored loss and keeps the best weights when validation rows are monitored. */
static bool track_best(trainer *tr, double monitored, bool use_val)
{
    bool kept = false;
    if (monitored < tr->best_loss - tr->s->tol) {
        tr->bad = 0;
        if (use_val) {
            memcpy(tr->best, tr->m->theta, tr->m->n_params * sizeof *tr->best);
            kept = true;
        }
    } else {
        tr->bad++;
    }
    if (monitored < tr->best_loss)
        tr->best_loss = monitored;
    return kept;
}

static cairn_status mlp_fit(cairn_ctx *ctx, const cn_fit_data *data, const cn_params *p,
                            cn_learner **out)
{
    settings s;
    mlp *m = NULL;
    cairn_status rc = mlp_setup(ctx, data, p, &s, &m);
    if (rc != CAIRN_OK)
        return rc;
    cn_rng rng;
    cn_rng_seed(&rng, data->seed);
    glorot_init(m, &rng);
    trainer tr;
    trainer_init(&tr, m, data, &s, &rng);
    bool use_val = data->val.n > 0;
    for (int64_t epoch = 1; epoch <= s.epochs; epoch++) {
        cairn_epoch_info e = train_epoch(&tr, epoch);
        if (!isfinite(e.train_loss)) {
            if (data->on_epoch) /* the diverged epoch is evidence (cairn train's diagnosis) */
                (void)data->on_epoch(data->user, &e);
            rc = cn_fail(ctx, CAIRN_EINVAL,
                         "mlp: the training loss diverged at epoch %lld; "
                         "lower learning_rate",
                         (long long)epoch);
            break;
        }
        if (use_val) {
            work vw = {0};
            size_t cap = data->val.n < 256 ? data->val.n : 256;
            work_init(&vw, m, cap, false);
            evaluate(m, &vw, &data->val, &e.val_loss, &e.val_metric);
            work_release(&vw, m->n_layers);
        }
        if (track_best(&tr, use_val ? e.val_loss : e.train_loss, use_val))
            tr.best_epoch = (int)epoch;
        e.best_epoch = use_val && s.early_stopping ? tr.best_epoch : 0;
        if (data->on_epoch && data->on_epoch(data->user, &e) != 0)
            break;
        /* As sklearn: stop once more than `patience` epochs in a row brought no improvement. */
        if (s.early_stopping && tr.bad > s.patience)
            break;
    }
    if (use_val && s.early_stopping && isfinite(tr.best_loss))
        memcpy(m->theta, tr.best, m->n_params * sizeof *tr.best);
    trainer_release(&tr);
    if (rc != CAIRN_OK) {
        cn_mlp_ops.free(&m->base);
        return rc;
    }
    *out = &m->base;
    return CAIRN_OK;
}

static cairn_status mlp_predict(cairn_ctx *ctx, const cn_learner *l, const double *x, size_t n,
                                double *out)
{
    (void)ctx;
    const mlp *m = (const mlp *)l;
    size_t cap = n < 256 ? n : 256, d = m->sizes[0], o = m->sizes[m->n_layers];
    work w = {0};
    work_init(&w, m, cap, false);
    for (size_t start = 0; start < n; start += cap) {
        size_t b = n - start < cap ? n - start : cap;
        load_rows(&w, x, d, NULL, start, b);
        forward(m, &w, b, 0, NULL);
        memcpy(out + start * o, w.a[m->n_layers], b * o * sizeof *out);
    }
    work_release(&w, m->n_layers);
    return CAIRN_OK;
}

static void put_header(const mlp *m, cn_buf *payload)
{
    cn_put_u64(payload, m->n_layers);
    for (size_t i = 0; i <= m->n_layers; i++)
        cn_put_u64(payload, m->sizes[i]);
    cn_put_u64(payload, (uint64_t)m->activation);
    cn_put_u64(payload, m->classify);
}

/* Symmetric int8 scale of a layer: max |w| / 127 (1 when all are 0). */
static double layer_scale(const double *w, size_t n)
{
    double mx = 0;
    for (size_t j = 0; j < n; j++)
        mx = fabs(w[j]) > mx ? fabs(w[j]) : mx;
    return mx > 0 ? mx / 127.0 : 1.0;
}

static signed char quant(double w, double scale)
{
    double q = round(w / scale);
    return (signed char)(q > 127 ? 127 : q < -127 ? -127 : q);
}

void cn_mlp_quantize(cn_learner *l)
{
    mlp *m = (mlp *)l;
    if (m->int8)
        return;
    m->scales = cn_xcalloc(m->n_layers, sizeof *m->scales);
    for (size_t l2 = 0; l2 < m->n_layers; l2++) {
        size_t nw = m->sizes[l2] * m->sizes[l2 + 1];
        double *wl = m->theta + w_off(m, l2), scale = layer_scale(wl, nw);
        for (size_t j = 0; j < nw; j++)
            wl[j] = quant(wl[j], scale) * scale;
        m->scales[l2] = scale;
    }
    m->int8 = true;
}

static int cmp_abs_idx(const size_t *a, const size_t *b, const double *t)
{
    size_t i = *a, j = *b;
    double x = fabs(t[i]), y = fabs(t[j]);
    return x < y ? -1 : x > y ? 1 : (i > j) - (i < j);
}

/* Sorts indices by |theta| (ties by index), a merge sort: qsort_r is not portable. */
static void sort_by_abs(size_t *idx, size_t *tmp, size_t n, const double *theta)
{
    if (n < 2)
        return;
    size_t h = n / 2;
    sort_by_abs(idx, tmp, h, theta);
    sort_by_abs(idx + h, tmp, n - h, theta);
    size_t i = 0, j = h, k = 0;
    while (i < h && j < n)
        tmp[k++] = cmp_abs_idx(&idx[i], &idx[j], theta) <= 0 ? idx[i++] : idx[j++];
    while (i < h)
        tmp[k++] = idx[i++];
    while (j < n)
        tmp[k++] = idx[j++];
    memcpy(idx, tmp, n * sizeof *idx);
}

size_t cn_mlp_zero_weights(const cn_learner *l, size_t *total)
{
    const mlp *m = (const mlp *)l;
    size_t zeros = 0;
    *total = 0;
    for (size_t l2 = 0; l2 < m->n_layers; l2++) {
        size_t nw = m->sizes[l2] * m->sizes[l2 + 1];
        const double *wl = m->theta + w_off(m, l2);
        for (size_t j = 0; j < nw; j++)
            zeros += wl[j] == 0;
        *total += nw;
    }
    return zeros;
}

size_t cn_mlp_prune(cn_learner *l, double sparsity, size_t *total)
{
    mlp *m = (mlp *)l;
    size_t nw_all = 0;
    for (size_t l2 = 0; l2 < m->n_layers; l2++)
        nw_all += m->sizes[l2] * m->sizes[l2 + 1];
    size_t *idx = cn_xmalloc((nw_all ? nw_all : 1) * sizeof *idx);
    size_t *tmp = cn_xmalloc((nw_all ? nw_all : 1) * sizeof *tmp);
    size_t k = 0;
    for (size_t l2 = 0; l2 < m->n_layers; l2++) { /* positions of weights (not biases) in theta */
        size_t off = w_off(m, l2), nw = m->sizes[l2] * m->sizes[l2 + 1];
        for (size_t j = 0; j < nw; j++)
            idx[k++] = off + j;
    }
    sort_by_abs(idx, tmp, nw_all, m->theta);
    size_t cut = (size_t)llround(sparsity * (double)nw_all);
    for (size_t j = 0; j < cut && j < nw_all; j++)
        m->theta[idx[j]] = 0.0;
    free(idx);
    free(tmp);
    m->sparse = true;
    return cn_mlp_zero_weights(l, total);
}

static void put_layer(const mlp *m, size_t l2, cn_buf *payload)
{
    size_t nw = m->sizes[l2] * m->sizes[l2 + 1];
    const double *wl = m->theta + w_off(m, l2);
    double scale = m->int8 ? m->scales[l2] : 1.0;
    if (m->int8)
        cn_put_f64s(payload, &scale, 1);
    if (m->sparse) {
        for (size_t j = 0; j < nw; j += 8) {
            unsigned char byte = 0;
            for (size_t b = 0; b < 8 && j + b < nw; b++)
                byte |= (unsigned char)((wl[j + b] != 0) << b);
            cn_buf_append(payload, &byte, 1);
        }
    }
    for (size_t j = 0; j < nw; j++) {
        if (m->sparse && wl[j] == 0)
            continue;
        if (m->int8) {
            signed char q = quant(wl[j], scale);
            cn_buf_append(payload, &q, 1);
        } else {
            cn_put_f64s(payload, &wl[j], 1);
        }
    }
    cn_put_f64s(payload, wl + nw, m->sizes[l2 + 1]);
}

static void mlp_save(const cn_learner *l, cn_buf *payload)
{
    const mlp *m = (const mlp *)l;
    if (m->int8 || m->sparse) {
        cn_put_u64(payload, MLP_PACKED_MARK);
        put_header(m, payload);
        cn_put_u64(payload, (uint64_t)m->int8 | (uint64_t)m->sparse << 1);
        for (size_t l2 = 0; l2 < m->n_layers; l2++)
            put_layer(m, l2, payload);
        return;
    }
    put_header(m, payload);
    cn_put_f64s(payload, m->theta, m->n_params);
}

/* Reads one layer of a packed payload into m->theta; false when the payload is short. */
static bool get_layer(cn_reader *r, mlp *m, size_t l2)
{
    size_t nw = m->sizes[l2] * m->sizes[l2 + 1];
    double *wl = m->theta + w_off(m, l2), scale = 1.0;
    if (m->int8) {
        cn_get_f64s(r, &scale, 1);
        if (r->bad || !(scale > 0) || !isfinite(scale))
            return false;
        m->scales[l2] = scale;
    }
    const unsigned char *bits = NULL;
    if (m->sparse) {
        size_t nb = (nw + 7) / 8;
        if (r->len - r->pos < nb)
            return false;
        bits = r->p + r->pos;
        r->pos += nb;
    }
    for (size_t j = 0; j < nw; j++) {
        if (bits && !(bits[j / 8] >> (j % 8) & 1)) {
            wl[j] = 0.0;
            continue;
        }
        if (m->int8) {
            if (r->pos >= r->len)
                return false;
            wl[j] = (double)(signed char)r->p[r->pos++] * scale;
        } else {
            cn_get_f64s(r, &wl[j], 1);
        }
    }
    cn_get_f64s(r, wl + nw, m->sizes[l2 + 1]);
    return !r->bad;
}

static cairn_status mlp_load(cairn_ctx *ctx, const void *payload, size_t len, size_t d,
                             cn_task task, size_t n_classes, cn_learner **out)
{
    cn_reader r = {payload, len, 0, false};
    size_t sizes[MLP_MAX_LAYERS];
    uint64_t nl = cn_get_u64(&r);
    bool packed = nl == MLP_PACKED_MARK;
    if (packed)
        nl = cn_get_u64(&r);
    if (nl < 1 || nl >= MLP_MAX_LAYERS)
        return cn_fail(ctx, CAIRN_EINVAL, "mlp payload: bad layer count");
    double total = 0;
    for (size_t i = 0; i <= nl; i++) {
        uint64_t v = cn_get_u64(&r);
        if (v < 1 || v > MLP_MAX_WIDTH)
            return cn_fail(ctx, CAIRN_EINVAL, "mlp payload: bad layer width");
        sizes[i] = (size_t)v;
        if (i > 0)
            total += ((double)sizes[i - 1] + 1) * (double)sizes[i];
    }
    uint64_t act = cn_get_u64(&r), classify = cn_get_u64(&r);
    uint64_t flags = packed ? cn_get_u64(&r) : 0;
    bool is_cls = task == CN_TASK_CLASSIFICATION;
    if (r.bad || act > ACT_TANH || classify != is_cls || sizes[0] != d ||
        sizes[nl] != (is_cls ? n_classes : 1) || (packed && (flags == 0 || flags > 3)) ||
        (!packed && (total != (double)(len - r.pos) / 8 || (len - r.pos) % 8)))
        return cn_fail(ctx, CAIRN_EINVAL,
                       "mlp payload: does not match the model's inputs, "
                       "task or size");
    if (packed && total > (double)(len - r.pos) * 8 + 64) /* at least a bit per weight */
        return cn_fail(ctx, CAIRN_EINVAL, "mlp payload: shorter than its layers");
    mlp *m = mlp_new(sizes, (size_t)nl, (int)act, is_cls);
    if (!packed) {
        cn_get_f64s(&r, m->theta, m->n_params);
    } else {
        m->int8 = flags & 1;
        m->sparse = flags >> 1 & 1;
        if (m->int8)
            m->scales = cn_xcalloc(m->n_layers, sizeof *m->scales);
        bool ok = true;
        for (size_t l2 = 0; ok && l2 < m->n_layers; l2++)
            ok = get_layer(&r, m, l2);
        if (!ok || r.pos != r.len) {
            cn_mlp_ops.free(&m->base);
            return cn_fail(ctx, CAIRN_EINVAL,
                           "mlp packed payload: its layers do not fill it exactly");
        }
    }
    *out = &m->base;
    return CAIRN_OK;
}

/* d loss_i / d x_i: the output delta (p - onehot, or prediction - target) back through the
 * layers to the inputs. */
static cairn_status mlp_input_grad(cairn_ctx *ctx, const cn_learner *l, const double *x,
                                   const double *y, size_t n, double *grad_out)
{
    (void)ctx;
    const mlp *m = (const mlp *)l;
    size_t cap = n < 256 ? n : 256, d = m->sizes[0], h1 = m->sizes[1];
    work w = {0};
    work_init(&w, m, cap, false);
    double *ones = cn_xmalloc(cap * sizeof *ones), *grad = cn_xmalloc(m->n_params * sizeof *grad);
    for (size_t i = 0; i < cap; i++)
        ones[i] = 1.0;
    for (size_t start = 0; start < n; start += cap) {
        size_t b = n - start < cap ? n - start : cap;
        load_rows(&w, x, d, NULL, start, b);
        forward(m, &w, b, 0, NULL);
        backward(m, &w, y + start, NULL, ones, b, 0.0, grad); /* delta[1] holds dL/dz1 / b */
        cn_gemm(false, true, b, d, h1, (double)b, w.delta[1], h1, m->theta, h1, 0.0,
                grad_out + start * d, d);
    }
    free(ones);
    free(grad);
    work_release(&w, m->n_layers);
    return CAIRN_OK;
}

static void mlp_free(cn_learner *l)
{
    mlp *m = (mlp *)l;
    if (!m)
        return;
    free(m->sizes);
    free(m->theta);
    free(m->scales);
    free(m);
}

double *cn_mlp_params(cn_learner *l, size_t *n)
{
    mlp *m = (mlp *)l;
    *n = m->n_params;
    return m->theta;
}

double cn_mlp_loss_grad(const cn_learner *l, const double *x, const double *y, const double *s,
                        size_t n, double alpha, double *grad)
{
    const mlp *m = (const mlp *)l;
    work w = {0};
    work_init(&w, m, n, false);
    load_rows(&w, x, m->sizes[0], NULL, 0, n);
    forward(m, &w, n, 0, NULL);
    double loss = (data_loss(m, &w, y, NULL, s, n) + 0.5 * alpha * sq_weights(m)) / (double)n;
    if (grad)
        backward(m, &w, y, NULL, s, n, alpha, grad);
    work_release(&w, m->n_layers);
    return loss;
}

static const cairn_param_spec mlp_params[] = {
    {.name = "hidden",
     .type = CAIRN_PARAM_INT_LIST,
     .low = 1,
     .high = MLP_MAX_WIDTH,
     .default_value = "100",
     .log_scale = false,
     .help = "hidden layer widths, e.g. 64,32; empty for none"},
    {.name = "activation",
     .type = CAIRN_PARAM_CATEGORICAL,
     .default_value = "relu",
     .choices = acts,
     .help = "relu or tanh"},
    {.name = "solver",
     .type = CAIRN_PARAM_CATEGORICAL,
     .default_value = "adam",
     .choices = solvers,
     .help = "adam or sgd (with momentum)"},
    {.name = "learning_rate",
     .type = CAIRN_PARAM_FLOAT,
     .low = 1e-12,
     .high = 1e6,
     .default_value = "0.001",
     .log_scale = true,
     .help = "step size"},
    {.name = "momentum",
     .type = CAIRN_PARAM_FLOAT,
     .low = 0.0,
     .high = 1.0,
     .default_value = "0.9",
     .log_scale = false,
     .help = "sgd momentum"},
    CN_SPEC_BOOL("nesterov", "true", "Nesterov momentum (sgd)"),
    {.name = "alpha",
     .type = CAIRN_PARAM_FLOAT,
     .low = 0.0,
     .high = 1e12,
     .default_value = "0.0001",
     .log_scale = true,
     .help = "L2 strength"},
    {.name = "dropout",
     .type = CAIRN_PARAM_FLOAT,
     .low = 0.0,
     .high = 0.99,
     .default_value = "0",
     .log_scale = false,
     .help = "inverted dropout rate on hidden units while training"},
    {.name = "epochs",
     .type = CAIRN_PARAM_INT,
     .low = 1,
     .high = 10000000,
     .default_value = "200",
     .log_scale = true,
     .help = "passes over the training rows"},
    {.name = "batch_size",
     .type = CAIRN_PARAM_INT,
     .low = 1,
     .high = 1000000,
     .default_value = "200",
     .log_scale = true,
     .help = "rows per step (at most the training rows)"},
    CN_SPEC_BOOL("early_stopping", "true",
                 "stop after patience epochs without an improvement of tol"),
    {.name = "patience",
     .type = CAIRN_PARAM_INT,
     .low = 1,
     .high = 1000000,
     .default_value = "10",
     .log_scale = false,
     .help = "epochs without improvement before stopping"},
    {.name = "tol",
     .type = CAIRN_PARAM_FLOAT,
     .low = 0.0,
     .high = 1e12,
     .default_value = "1e-4",
     .log_scale = true,
     .help = "the improvement that counts"},
    {.name = "beta1",
     .type = CAIRN_PARAM_FLOAT,
     .low = 0.0,
     .high = 0.999999,
     .default_value = "0.9",
     .log_scale = false,
     .help = "Adam first-moment decay"},
    {.name = "beta2",
     .type = CAIRN_PARAM_FLOAT,
     .low = 0.0,
     .high = 0.999999999,
     .default_value = "0.999",
     .log_scale = false,
     .help = "Adam second-moment decay"},
    {.name = "epsilon",
     .type = CAIRN_PARAM_FLOAT,
     .low = 0.0,
     .high = 1.0,
     .default_value = "1e-8",
     .log_scale = true,
     .help = "Adam denominator term"},
    CN_SPEC_BOOL("shuffle", "true", "reshuffle rows each epoch"),
    CN_SPEC_TASK,
    CN_SPEC_STANDARDIZE,
};

const cn_learner_ops cn_mlp_ops = {
    .name = "mlp",
    .params = mlp_params,
    .n_params = CN_N_SPECS(mlp_params),
    .tasks = CN_TASK_REGRESSION | CN_TASK_CLASSIFICATION,
    .standardize = true,
    .fit = mlp_fit,
    .predict = mlp_predict,
    .save = mlp_save,
    .load = mlp_load,
    .free = mlp_free,
    .input_grad = mlp_input_grad,
    .soft_targets = true,
};
