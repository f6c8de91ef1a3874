/* SPDX-License-Identifier: MIT */
/* robust.c - robustness curves: a model's metric (accuracy or R^2) on rows perturbed in the
 * encoded space at increasing strength: Gaussian noise and feature dropout on the numeric
 * inputs (averaged over seeded repeats, t interval), and FGSM / PGD attacks through the
 * learner's input gradient (L-inf, percentile-bootstrap interval over rows). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "robust/robust_int.h"
#include "learn/model.h"
#include "cairn/eval.h"
#include "core/core.h"
#include "base/buf.h"
#include "base/rng.h"
#include "base/str.h"
#include "base/xmalloc.h"
#include "base/jsonw.h"
#include "base/banned.h"

static const double default_noise[] = {0, 0.05, 0.1, 0.2, 0.5, 1.0};
static const double default_dropout[] = {0, 0.1, 0.2, 0.3, 0.4, 0.5};
static const double default_eps[] = {0, 0.05, 0.1, 0.2, 0.5};

cairn_status cn_robust_targets(cairn_ctx *ctx, const cairn_model *m, const cairn_table *t,
                               const size_t *rows, size_t n, double *y)
{
    const char *label = cairn_model_label(m);
    int li = cairn_table_find(t, label);
    if (li < 0)
        return cn_fail(ctx, CAIRN_EINVAL,
                       "the data has no label column '%s'; scoring needs the true labels", label);
    const cairn_column *c = &t->cols[li];
    size_t k = cairn_model_n_classes(m);
    for (size_t i = 0; i < n; i++) {
        size_t r = rows ? rows[i] : i;
        if (k == 0) {
            if (c->type != CAIRN_COL_NUMERIC || isnan(c->num[r]))
                return cn_fail(ctx, CAIRN_EINVAL,
                               "label '%s' row %zu is not a number; a regression model needs "
                               "numeric labels",
                               label, r);
            y[i] = c->num[r];
            continue;
        }
        char text[64];
        const char *s = NULL;
        if (c->type == CAIRN_COL_NUMERIC) {
            cn_format_double(c->num[r] + 0.0, text, sizeof text);
            s = text;
        } else if (c->cat[r] >= 0 && (size_t)c->cat[r] < c->n_levels) {
            s = c->levels[c->cat[r]];
        }
        size_t j = 0;
        while (s && j < k && strcmp(cairn_model_class_label(m, j), s) != 0)
            j++;
        if (!s || j == k)
            return cn_fail(ctx, CAIRN_EINVAL,
                           "label '%s' row %zu is '%s', a class the model does not know; drop "
                           "the row",
                           label, r, s ? s : "(missing)");
        y[i] = (double)j;
    }
    return CAIRN_OK;
}

double cn_robust_metric(bool classify, const double *y, const double *pred, const size_t *idx,
                        size_t n)
{
    if (n == 0)
        return NAN;
    if (classify) {
        size_t hits = 0;
        for (size_t i = 0; i < n; i++) {
            size_t r = idx ? idx[i] : i;
            hits += pred[r] == y[r];
        }
        return (double)hits / (double)n;
    }
    double mean = 0, sse = 0, sst = 0;
    for (size_t i = 0; i < n; i++)
        mean += y[idx ? idx[i] : i] / (double)n;
    for (size_t i = 0; i < n; i++) {
        size_t r = idx ? idx[i] : i;
        sse += (pred[r] - y[r]) * (pred[r] - y[r]);
        sst += (y[r] - mean) * (y[r] - mean);
    }
    return sst > 0 ? 1 - sse / sst : NAN;
}

/* The encoded rows and what perturbing them needs. */
typedef struct setup {
    const cairn_model *m;
    size_t n, d, k;
    bool classify;
    double *x;       /* n x d, clean */
    double *y;       /* n */
    bool *numeric;   /* d */
    double *mean;    /* d: the value dropout puts in (training mean in the encoded space) */
    double *sd;      /* d: one standardised unit in the encoded space */
    double *scratch; /* n x d */
    double *out;     /* n x max(k, 1) */
    double *pred;    /* n */
} setup;

static void setup_release(setup *s)
{
    free(s->x);
    free(s->y);
    free(s->numeric);
    free(s->mean);
    free(s->sd);
    free(s->scratch);
    free(s->out);
    free(s->pred);
}

static cairn_status setup_init(cairn_ctx *ctx, const cairn_model *m, const cairn_table *t,
                               const cairn_robust_opts *o, setup *s)
{
    size_t n = o->rows ? o->n_rows : t->n_rows, d = m->n_inputs, k = m->n_classes;
    *s = (setup){.m = m, .n = n, .d = d, .k = k, .classify = k > 0};
    if (n == 0)
        return cn_fail(ctx, CAIRN_EINVAL, "no rows to evaluate robustness on");
    s->x = cn_xmalloc(n * d * sizeof *s->x + 1);
    s->y = cn_xmalloc(n * sizeof *s->y);
    s->numeric = cn_xcalloc(d + 1, sizeof *s->numeric);
    s->mean = cn_xcalloc(d + 1, sizeof *s->mean);
    s->sd = cn_xcalloc(d + 1, sizeof *s->sd);
    s->scratch = cn_xmalloc(n * d * sizeof *s->scratch + 1);
    s->out = cn_xmalloc(n * (k ? k : 1) * sizeof *s->out);
    s->pred = cn_xmalloc(n * sizeof *s->pred);
    cairn_status rc = cn_model_encode(ctx, m, t, o->rows, n, s->x);
    if (rc == CAIRN_OK)
        rc = cn_robust_targets(ctx, m, t, o->rows, n, s->y);
    if (rc != CAIRN_OK)
        return rc;
    cn_model_numeric_columns(m, s->numeric);
    for (size_t j = 0; j < d; j++) {
        if (!s->numeric[j])
            continue;
        if (m->standardize) { /* the training standardisation: mean 0, sd 1 */
            s->mean[j] = 0.0;
            s->sd[j] = 1.0;
            continue;
        }
        double mu = 0, ss = 0; /* not standardised: the rows' own mean and sd */
        for (size_t i = 0; i < n; i++)
            mu += s->x[i * d + j] / (double)n;
        for (size_t i = 0; i < n; i++)
            ss += (s->x[i * d + j] - mu) * (s->x[i * d + j] - mu);
        s->mean[j] = mu;
        s->sd[j] = n > 1 && ss > 0 ? sqrt(ss / (double)(n - 1)) : 1.0;
    }
    return CAIRN_OK;
}

/* Predictions of x (n x d) into s->pred; returns the metric. */
static cairn_status score(cairn_ctx *ctx, setup *s, const double *x, double *metric)
{
    cairn_status rc = s->m->ops->predict(ctx, s->m->impl, x, s->n, s->out);
    if (rc != CAIRN_OK)
        return rc;
    for (size_t i = 0; i < s->n; i++) {
        if (!s->classify) {
            s->pred[i] = s->out[i];
            continue;
        }
        size_t best = 0;
        for (size_t c = 1; c < s->k; c++)
            best = s->out[i * s->k + c] > s->out[i * s->k + best] ? c : best;
        s->pred[i] = (double)best;
    }
    *metric = cn_robust_metric(s->classify, s->y, s->pred, NULL, s->n);
    return CAIRN_OK;
}

static void curve_init(cairn_robust_curve *c, const char *name, size_t n)
{
    c->perturbation = cn_xstrdup(name);
    c->n = n;
    c->strength = cn_xcalloc(n + 1, sizeof(double));
    c->metric = cn_xcalloc(n + 1, sizeof(double));
    c->low = cn_xcalloc(n + 1, sizeof(double));
    c->high = cn_xcalloc(n + 1, sizeof(double));
}

/* Noise (dropout false) or dropout at each level, repeats draws each, mean and t interval. */
static cairn_status random_curve(cairn_ctx *ctx, setup *s, const cairn_robust_opts *o, bool dropout,
                                 const double *levels, size_t n_levels, size_t repeats,
                                 cairn_robust_curve *c)
{
    curve_init(c, dropout ? "dropout" : "noise", n_levels);
    double *vals = cn_xmalloc(repeats * sizeof *vals);
    cairn_status rc = CAIRN_OK;
    for (size_t li = 0; rc == CAIRN_OK && li < n_levels; li++) {
        double level = levels[li];
        for (size_t r = 0; rc == CAIRN_OK && r < repeats; r++) {
            cn_rng rng;
            cn_rng_seed(&rng, o->seed * 1000003u + (dropout ? 500000u : 0u) + li * 1000u + r);
            memcpy(s->scratch, s->x, s->n * s->d * sizeof *s->x);
            for (size_t i = 0; level > 0 && i < s->n; i++)
                for (size_t j = 0; j < s->d; j++) {
                    if (!s->numeric[j])
                        continue;
                    double *v = &s->scratch[i * s->d + j];
                    if (dropout) {
                        if (cn_rng_uniform(&rng) < level)
                            *v = s->mean[j];
                    } else {
                        *v += level * s->sd[j] * cn_rng_normal(&rng);
                    }
                }
            rc = score(ctx, s, s->scratch, &vals[r]);
        }
        double mean = 0, var = 0;
        for (size_t r = 0; r < repeats; r++)
            mean += vals[r] / (double)repeats;
        for (size_t r = 0; r < repeats; r++)
            var += (vals[r] - mean) * (vals[r] - mean);
        c->strength[li] = level;
        c->metric[li] = mean;
        if (repeats > 1) {
            double half = cairn_stats_t_quantile(0.975, (double)(repeats - 1)) *
                          sqrt(var / (double)(repeats - 1) / (double)repeats);
            c->low[li] = mean - half;
            c->high[li] = mean + half;
        } else {
            c->low[li] = c->high[li] = NAN;
        }
    }
    free(vals);
    return rc;
}

static double sign(double v)
{
    return v > 0 ? 1.0 : v < 0 ? -1.0 : 0.0;
}

/* One signed-gradient step of size step on the numeric inputs of xa, then (radius > 0) the
 * projection into the L-inf ball of that radius around s->x. */
static cairn_status attack_step(cairn_ctx *ctx, setup *s, double *xa, double *g, double step,
                                double radius)
{
    cairn_status rc = s->m->ops->input_grad(ctx, s->m->impl, xa, s->y, s->n, g);
    for (size_t i = 0; rc == CAIRN_OK && i < s->n * s->d; i++) {
        if (!s->numeric[i % s->d])
            continue;
        xa[i] += step * sign(g[i]);
        if (radius > 0) {
            double lo = s->x[i] - radius, hi = s->x[i] + radius;
            xa[i] = xa[i] < lo ? lo : xa[i] > hi ? hi : xa[i];
        }
    }
    return rc;
}

typedef struct boot_user {
    const setup *s;
    const double *pred;
} boot_user;

static cairn_status boot_metric(cairn_ctx *ctx, const size_t *idx, size_t n, void *user,
                                double *out)
{
    const boot_user *u = user;
    *out = cn_robust_metric(u->s->classify, u->s->y, u->pred, idx, n);
    if (isnan(*out))
        return cn_fail(ctx, CAIRN_EINVAL, "metric undefined on this resample");
    return CAIRN_OK;
}

static cairn_status attack_curve(cairn_ctx *ctx, setup *s, const cairn_robust_opts *o, bool pgd,
                                 const double *eps, size_t n_eps, cairn_robust_curve *c)
{
    curve_init(c, pgd ? "pgd" : "fgsm", n_eps);
    size_t steps = o->pgd_steps ? o->pgd_steps : 10;
    double frac = o->pgd_step > 0 ? o->pgd_step : 2.5 / (double)steps;
    double *g = cn_xmalloc(s->n * s->d * sizeof *g + 1);
    cairn_status rc = CAIRN_OK;
    for (size_t e = 0; rc == CAIRN_OK && e < n_eps; e++) {
        double r = eps[e];
        memcpy(s->scratch, s->x, s->n * s->d * sizeof *s->x);
        if (r > 0 && !pgd) {
            rc = attack_step(ctx, s, s->scratch, g, r, 0);
        } else if (r > 0) {
            if (o->pgd_random_start) {
                cn_rng rng;
                cn_rng_seed(&rng, o->seed * 1000003u + 900000u + e);
                for (size_t i = 0; i < s->n * s->d; i++)
                    if (s->numeric[i % s->d])
                        s->scratch[i] += r * (2 * cn_rng_uniform(&rng) - 1);
            }
            for (size_t it = 0; rc == CAIRN_OK && it < steps; it++)
                rc = attack_step(ctx, s, s->scratch, g, frac * r, r);
        }
        double metric = NAN;
        if (rc == CAIRN_OK)
            rc = score(ctx, s, s->scratch, &metric);
        c->strength[e] = r;
        c->metric[e] = metric;
        c->low[e] = c->high[e] = NAN;
        if (rc == CAIRN_OK && s->n >= 2) {
            boot_user u = {s, s->pred};
            cairn_bootstrap_opts bo = CAIRN_BOOTSTRAP_OPTS_INIT;
            bo.n_resamples = 1000;
            bo.seed = o->seed;
            cairn_interval iv;
            if (cairn_bootstrap_ci(ctx, s->n, boot_metric, &u, &bo, &iv) == CAIRN_OK) {
                c->low[e] = iv.low;
                c->high[e] = iv.high;
            }
        }
    }
    free(g);
    return rc;
}

bool cairn_learner_has_input_grad(const char *learner)
{
    const cn_learner_ops *ops = learner ? cn_learner_find(learner) : NULL;
    return ops && ops->input_grad;
}

/* Names the learners with input gradients, for the refusal. */
static void grad_learners(char *out, size_t size)
{
    out[0] = 0;
    for (size_t i = 0; cairn_learner_name(i); i++) {
        if (!cairn_learner_has_input_grad(cairn_learner_name(i)))
            continue;
        size_t len = strlen(out);
        snprintf(out + len, size - len, "%s%s", len ? ", " : "", cairn_learner_name(i));
    }
}

static cairn_status check_levels(cairn_ctx *ctx, const char *what, const double *v, size_t n,
                                 double hi)
{
    for (size_t i = 0; i < n; i++)
        if (!isfinite(v[i]) || v[i] < 0 || v[i] > hi)
            return cn_fail(ctx, CAIRN_EINVAL, "%s level %g is out of range: expected 0 to %g", what,
                           v[i], hi);
    if (n == 0)
        return cn_fail(ctx, CAIRN_EINVAL, "%s: no levels given", what);
    return CAIRN_OK;
}

cairn_status cairn_robustness(cairn_ctx *ctx, const cairn_model *m, const cairn_table *t,
                              const cairn_robust_opts *o, cairn_robust_result **out)
{
    *out = NULL;
    bool has_grad = m->ops->input_grad != NULL;
    unsigned what = o->perturbations;
    if (what == 0)
        what = CAIRN_PERTURB_NOISE | CAIRN_PERTURB_DROPOUT |
               (has_grad ? CAIRN_PERTURB_FGSM | CAIRN_PERTURB_PGD : 0u);
    if ((what & (CAIRN_PERTURB_FGSM | CAIRN_PERTURB_PGD)) && !has_grad) {
        char names[200];
        grad_learners(names, sizeof names);
        return cn_fail(ctx, CAIRN_EINVAL,
                       "FGSM and PGD need the loss gradient with respect to the inputs, which "
                       "learner '%s' does not have; they apply to: %s (noise and dropout apply "
                       "to every learner)",
                       m->ops->name, names);
    }
    const double *noise = o->noise_levels ? o->noise_levels : default_noise;
    size_t n_noise = o->noise_levels ? o->n_noise : CN_ARRAY_LEN(default_noise);
    const double *drop = o->dropout_levels ? o->dropout_levels : default_dropout;
    size_t n_drop = o->dropout_levels ? o->n_dropout : CN_ARRAY_LEN(default_dropout);
    const double *eps = o->eps ? o->eps : default_eps;
    size_t n_eps = o->eps ? o->n_eps : CN_ARRAY_LEN(default_eps);
    cairn_status rc = check_levels(ctx, "noise", noise, n_noise, 1e6);
    if (rc == CAIRN_OK)
        rc = check_levels(ctx, "dropout", drop, n_drop, 1.0);
    if (rc == CAIRN_OK)
        rc = check_levels(ctx, "eps", eps, n_eps, 1e6);
    if (rc == CAIRN_OK && o->pgd_step < 0)
        rc = cn_fail(ctx, CAIRN_EINVAL, "PGD step %g is negative; give a fraction of eps",
                     o->pgd_step);
    if (rc != CAIRN_OK)
        return rc;
    setup s;
    rc = setup_init(ctx, m, t, o, &s);
    cairn_robust_result *r = cn_xcalloc(1, sizeof *r);
    r->metric = cn_xstrdup(s.classify ? "accuracy" : "r2");
    r->learner = cn_xstrdup(m->ops->name);
    r->n_rows = s.n;
    r->repeats = o->repeats ? o->repeats : 5;
    r->curves = cn_xcalloc(4, sizeof *r->curves);
    for (size_t j = 0; j < s.d; j++)
        r->n_numeric += s.numeric ? s.numeric[j] : 0;
    if (rc == CAIRN_OK)
        rc = score(ctx, &s, s.x, &r->clean);
    if (rc == CAIRN_OK && (what & CAIRN_PERTURB_NOISE))
        rc = random_curve(ctx, &s, o, false, noise, n_noise, r->repeats, &r->curves[r->n_curves++]);
    if (rc == CAIRN_OK && (what & CAIRN_PERTURB_DROPOUT))
        rc = random_curve(ctx, &s, o, true, drop, n_drop, r->repeats, &r->curves[r->n_curves++]);
    if (rc == CAIRN_OK && (what & CAIRN_PERTURB_FGSM))
        rc = attack_curve(ctx, &s, o, false, eps, n_eps, &r->curves[r->n_curves++]);
    if (rc == CAIRN_OK && (what & CAIRN_PERTURB_PGD))
        rc = attack_curve(ctx, &s, o, true, eps, n_eps, &r->curves[r->n_curves++]);
    setup_release(&s);
    if (rc != CAIRN_OK) {
        cairn_robust_result_free(r);
        return rc;
    }
    *out = r;
    return CAIRN_OK;
}

void cairn_robust_result_free(cairn_robust_result *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->n_curves; i++) {
        free(r->curves[i].perturbation);
        free(r->curves[i].strength);
        free(r->curves[i].metric);
        free(r->curves[i].low);
        free(r->curves[i].high);
    }
    free(r->curves);
    free(r->metric);
    free(r->learner);
    free(r);
}

static void put_num(cn_buf *b, double v)
{
    char text[40];
    if (!isfinite(v)) {
        cn_buf_puts(b, "null");
        return;
    }
    cn_json_format_double(v, text, sizeof text);
    cn_buf_puts(b, text);
}

cairn_status cairn_robustness_json(cairn_ctx *ctx, const cairn_robust_result *r, char **json)
{
    (void)ctx;
    cn_buf b = CN_BUF_INIT;
    cn_buf_puts(&b, "{\"learner\": ");
    cn_json_quote(&b, r->learner, strlen(r->learner));
    cn_buf_puts(&b, ", \"metric\": ");
    cn_json_quote(&b, r->metric, strlen(r->metric));
    cn_buf_puts(&b, ", \"clean\": ");
    put_num(&b, r->clean);
    char text[128];
    snprintf(text, sizeof text, ", \"rows\": %zu, \"repeats\": %zu, \"numeric_inputs\": %zu",
             r->n_rows, r->repeats, r->n_numeric);
    cn_buf_puts(&b, text);
    cn_buf_puts(&b, ",\n \"curves\": [");
    for (size_t i = 0; i < r->n_curves; i++) {
        const cairn_robust_curve *c = &r->curves[i];
        cn_buf_puts(&b, i ? ",\n  {\"perturbation\": " : "\n  {\"perturbation\": ");
        cn_json_quote(&b, c->perturbation, strlen(c->perturbation));
        cn_buf_puts(&b, ", \"points\": [");
        for (size_t j = 0; j < c->n; j++) {
            cn_buf_puts(&b, j ? ", {\"strength\": " : "{\"strength\": ");
            put_num(&b, c->strength[j]);
            cn_buf_puts(&b, ", \"metric\": ");
            put_num(&b, c->metric[j]);
            cn_buf_puts(&b, ", \"ci_low\": ");
            put_num(&b, c->low[j]);
            cn_buf_puts(&b, ", \"ci_high\": ");
            put_num(&b, c->high[j]);
            cn_buf_puts(&b, "}");
        }
        cn_buf_puts(&b, "]}");
    }
    cn_buf_puts(&b, "\n ]}\n");
    *json = cn_buf_detach(&b);
    return CAIRN_OK;
}

cairn_status cairn_robustness_svg(cairn_ctx *ctx, const cairn_robust_result *r,
                                  const char *subtitle, char **svg)
{
    cairn_plot_series *series = cn_xcalloc(r->n_curves + 1, sizeof *series);
    for (size_t i = 0; i < r->n_curves; i++)
        series[i] = (cairn_plot_series){r->curves[i].perturbation, r->curves[i].strength,
                                        r->curves[i].metric, r->curves[i].n, 0};
    char title[160], ylabel[64];
    snprintf(title, sizeof title, "Robustness of %s (%s against strength)", r->learner, r->metric);
    snprintf(ylabel, sizeof ylabel, "%s", strcmp(r->metric, "r2") == 0 ? "R^2" : "accuracy");
    cairn_plot_opts po = {0};
    po.title = title;
    po.x_label = "strength (standardised units; dropout: probability)";
    po.y_label = ylabel;
    po.subtitle = subtitle;
    cairn_status rc = cairn_plot_learning_curves(ctx, series, r->n_curves, &po, svg);
    free(series);
    return rc;
}
