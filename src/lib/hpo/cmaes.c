/* SPDX-License-Identifier: MIT */
/* cmaes.c - CMA-ES (Hansen's (mu/mu_w, lambda) with rank-one and rank-mu updates, as in his
 * purecma and the `cmaes` package Optuna uses) over the numeric, always-active parameters,
 * normalised to [0, 1]; categorical and conditional parameters are sampled at random, as
 * Optuna's CmaEsSampler does, or by the warm-start TPE (independent=warm). There is no state
 * outside the history: the optimizer is replayed from the COMPLETE trials, taken in trial-number
 * order, lambda at a time (one generation each), and trial n is drawn from the state after the last
 * full generation with its own random stream. A cache makes the replay incremental within a
 * process. IPOP restarts (lambda doubled, a random mean) follow the usual stopping rules; int and
 * stepped dimensions keep a floor on their marginal standard deviation so that each keeps about
 * alpha = 1/(d lambda) probability of leaving its grid value (the margin of CMA-ES with
 * Margin, Hamano et al. 2022, applied as a bound on the variance). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "hpo/hpo_internal.h"
#include "core/core.h"
#include "base/xmalloc.h"
#include "base/banned.h"

#define CMA_MAX_DIMS 200

typedef struct cma_state {
    size_t d, lambda, mu;
    double *w; /* mu weights */
    double mueff, cc, cs, c1, cmu, damps, chin;
    double *mean, sigma, *pc, *ps, *C; /* C: d x d */
    double *B, *D;                     /* C = B diag(D^2) B^T */
    int64_t gen;                       /* generations told since the last restart */
    int n_restarts;
    double *hist_best; /* best value of each recent generation, for the stall test */
    size_t n_hist, cap_hist;
} cma_state;

typedef struct cmaes {
    bool ipop;
    size_t d;
    size_t *dims; /* parameter index per dimension */
    double *qn;   /* normalised step per dimension, 0 for continuous */
    size_t lambda0;
    double sigma0;
    /* warm start: the first warm_start COMPLETE trials come from `warm` (TPE), and the first
     * generation's mean and step size from their best points */
    int64_t warm_start;
    cairn_sampler *warm;
    /* independent=warm: the parameters CMA-ES does not model (categorical, conditional) come
     * from the warm sampler's proposal instead of at random */
    bool indep_warm;
    /* the replay cache: state after n_told COMPLETE trials whose (number, value) hash is */
    cma_state cache;
    bool has_cache;
    size_t cache_told;
    uint64_t cache_hash;
} cmaes;

static void state_release(cma_state *s)
{
    free(s->w);
    free(s->mean);
    free(s->pc);
    free(s->ps);
    free(s->C);
    free(s->B);
    free(s->D);
    free(s->hist_best);
    memset(s, 0, sizeof *s);
}

/* A fresh state: lambda, the mean, sigma0, C = I, and Hansen's default constants. */
static void state_init(cma_state *s, size_t d, size_t lambda, const double *mean, double sigma0,
                       int n_restarts)
{
    state_release(s);
    s->d = d;
    s->lambda = lambda;
    s->mu = lambda / 2;
    s->w = cn_xcalloc(s->mu, sizeof *s->w);
    double sum = 0, sum2 = 0;
    for (size_t i = 0; i < s->mu; i++) {
        s->w[i] = log((double)s->mu + 0.5) - log((double)i + 1);
        sum += s->w[i];
    }
    for (size_t i = 0; i < s->mu; i++) {
        s->w[i] /= sum;
        sum2 += s->w[i] * s->w[i];
    }
    double n = (double)d;
    s->mueff = 1 / sum2;
    s->cc = (4 + s->mueff / n) / (n + 4 + 2 * s->mueff / n);
    s->cs = (s->mueff + 2) / (n + s->mueff + 5);
    s->c1 = 2 / ((n + 1.3) * (n + 1.3) + s->mueff);
    s->cmu = fmin(1 - s->c1, 2 * (s->mueff - 2 + 1 / s->mueff) / ((n + 2) * (n + 2) + s->mueff));
    s->damps = 1 + 2 * fmax(0, sqrt((s->mueff - 1) / (n + 1)) - 1) + s->cs;
    s->chin = sqrt(n) * (1 - 1 / (4 * n) + 1 / (21 * n * n));
    s->mean = cn_xmemdup(mean, d * sizeof *mean);
    s->sigma = sigma0;
    s->pc = cn_xcalloc(d, sizeof *s->pc);
    s->ps = cn_xcalloc(d, sizeof *s->ps);
    s->C = cn_xcalloc(d * d, sizeof *s->C);
    s->B = cn_xcalloc(d * d, sizeof *s->B);
    s->D = cn_xcalloc(d, sizeof *s->D);
    for (size_t i = 0; i < d; i++) {
        s->C[i * d + i] = 1;
        s->B[i * d + i] = 1;
        s->D[i] = 1;
    }
    s->n_restarts = n_restarts;
}

/* Eigen-decomposition of the symmetric C (d x d) by cyclic Jacobi rotations: C = B diag(ev)
 * B^T, B's columns the eigenvectors. */
static void eigen(const double *C, size_t d, double *B, double *ev)
{
    double *a = cn_xmemdup(C, d * d * sizeof *a);
    for (size_t i = 0; i < d * d; i++)
        B[i] = 0;
    for (size_t i = 0; i < d; i++)
        B[i * d + i] = 1;
    for (int sweep = 0; sweep < 64; sweep++) {
        double off = 0;
        for (size_t p = 0; p < d; p++)
            for (size_t q = p + 1; q < d; q++)
                off += a[p * d + q] * a[p * d + q];
        if (off < 1e-30)
            break;
        for (size_t p = 0; p < d; p++)
            for (size_t q = p + 1; q < d; q++) {
                double apq = a[p * d + q];
                if (fabs(apq) < 1e-300)
                    continue;
                double theta = (a[q * d + q] - a[p * d + p]) / (2 * apq);
                double t = (theta >= 0 ? 1 : -1) / (fabs(theta) + sqrt(theta * theta + 1));
                double c = 1 / sqrt(t * t + 1), s = t * c;
                for (size_t k = 0; k < d; k++) {
                    double akp = a[k * d + p], akq = a[k * d + q];
                    a[k * d + p] = c * akp - s * akq;
                    a[k * d + q] = s * akp + c * akq;
                }
                for (size_t k = 0; k < d; k++) {
                    double apk = a[p * d + k], aqk = a[q * d + k];
                    a[p * d + k] = c * apk - s * aqk;
                    a[q * d + k] = s * apk + c * aqk;
                }
                for (size_t k = 0; k < d; k++) {
                    double bkp = B[k * d + p], bkq = B[k * d + q];
                    B[k * d + p] = c * bkp - s * bkq;
                    B[k * d + q] = s * bkp + c * bkq;
                }
            }
    }
    for (size_t i = 0; i < d; i++)
        ev[i] = a[i * d + i];
    free(a);
}

static void update_eigen(cma_state *s)
{
    size_t d = s->d;
    /* Keep C exactly symmetric, then decompose. */
    for (size_t i = 0; i < d; i++)
        for (size_t j = i + 1; j < d; j++)
            s->C[j * d + i] = s->C[i * d + j];
    eigen(s->C, d, s->B, s->D);
    for (size_t i = 0; i < d; i++)
        s->D[i] = sqrt(fmax(s->D[i], 1e-300));
}

typedef struct told {
    double value;
    const double *x; /* normalised coordinates, d */
} told;

static double nan_to_big(double v)
{
    return isnan(v) ? HUGE_VAL : v;
}

static int by_value(const void *a, const void *b)
{
    const told *x = a, *y = b;
    return (x->value > y->value) - (x->value < y->value);
}

/* One generation's update from lambda told points (sorted inside). */
static void tell(cma_state *s, told *pop, const double *qn)
{
    size_t d = s->d;
    qsort(pop, s->lambda, sizeof *pop, by_value);
    double *old = cn_xmemdup(s->mean, d * sizeof *old);
    double *yw = cn_xcalloc(d, sizeof *yw), *z = cn_xcalloc(d, sizeof *z);
    for (size_t j = 0; j < d; j++) {
        double m = 0;
        for (size_t i = 0; i < s->mu; i++)
            m += s->w[i] * pop[i].x[j];
        s->mean[j] = m;
        yw[j] = (m - old[j]) / s->sigma;
    }
    /* C^-1/2 yw = B D^-1 B^T yw */
    for (size_t k = 0; k < d; k++) {
        double t = 0;
        for (size_t j = 0; j < d; j++)
            t += s->B[j * d + k] * yw[j];
        z[k] = t / s->D[k];
    }
    double norm_ps = 0;
    for (size_t j = 0; j < d; j++) {
        double t = 0;
        for (size_t k = 0; k < d; k++)
            t += s->B[j * d + k] * z[k];
        s->ps[j] = (1 - s->cs) * s->ps[j] + sqrt(s->cs * (2 - s->cs) * s->mueff) * t;
        norm_ps += s->ps[j] * s->ps[j];
    }
    norm_ps = sqrt(norm_ps);
    double gen = (double)s->gen + 1;
    bool hsig = norm_ps / sqrt(1 - pow(1 - s->cs, 2 * gen)) / s->chin < 1.4 + 2 / ((double)d + 1);
    for (size_t j = 0; j < d; j++)
        s->pc[j] =
            (1 - s->cc) * s->pc[j] + (hsig ? sqrt(s->cc * (2 - s->cc) * s->mueff) : 0) * yw[j];
    double c1a = s->c1 * (1 - (1 - hsig) * s->cc * (2 - s->cc));
    for (size_t i = 0; i < d; i++)
        for (size_t j = i; j < d; j++) {
            double rank_mu = 0;
            for (size_t k = 0; k < s->mu; k++)
                rank_mu += s->w[k] * (pop[k].x[i] - old[i]) * (pop[k].x[j] - old[j]);
            rank_mu /= s->sigma * s->sigma;
            s->C[i * d + j] = (1 - c1a - s->cmu) * s->C[i * d + j] + s->c1 * s->pc[i] * s->pc[j] +
                              s->cmu * rank_mu;
        }
    s->sigma *= exp(fmin(1.0, (s->cs / s->damps) * (norm_ps / s->chin - 1)));
    s->gen++;
    update_eigen(s);
    /* The margin: every discrete dimension keeps a marginal standard deviation of at least
     * (q/2) / Φ^-1(1 - alpha/2), alpha = 1/(d lambda), by scaling its row and column. */
    double alpha = 1.0 / ((double)d * (double)s->lambda);
    double zq = -cn_hpo_ndtri(alpha / 2);
    bool changed = false;
    for (size_t i = 0; i < d; i++) {
        if (!(qn[i] > 0))
            continue;
        double sd = s->sigma * sqrt(s->C[i * d + i]), floor_sd = qn[i] / 2 / zq;
        if (sd < floor_sd) {
            double f = floor_sd / sd;
            for (size_t k = 0; k < d; k++) {
                s->C[i * d + k] *= f;
                s->C[k * d + i] *= f;
            }
            changed = true;
        }
    }
    if (changed)
        update_eigen(s);
    free(old);
    free(yw);
    free(z);
}

/* Hansen's stopping rules that matter in a bounded, normalised box: tolfun (the best values of
 * the last 10 + 30d/lambda generations and this generation's values within 1e-12), tolx,
 * conditioncov (1e14) and tolxupsigma. Records this generation's best first. */
static bool should_stop(cma_state *s, double sigma0, const told *pop)
{
    size_t d = s->d;
    if (s->n_hist == s->cap_hist) {
        s->cap_hist = s->cap_hist ? s->cap_hist * 2 : 32;
        s->hist_best = cn_xrealloc(s->hist_best, s->cap_hist * sizeof *s->hist_best);
    }
    s->hist_best[s->n_hist++] = pop[0].value; /* pop is sorted by tell() */
    size_t need = 10 + (size_t)ceil(30.0 * (double)d / (double)s->lambda);
    if (s->n_hist >= need) {
        double lo = pop[0].value, hi = pop[s->lambda - 1].value;
        for (size_t i = s->n_hist - need; i < s->n_hist; i++) {
            lo = fmin(lo, s->hist_best[i]);
            hi = fmax(hi, s->hist_best[i]);
        }
        if (hi - lo < 1e-12)
            return true;
    }
    bool tiny = true;
    double dmax = 0, dmin = INFINITY;
    for (size_t i = 0; i < d; i++) {
        if (s->sigma * sqrt(s->C[i * d + i]) >= 1e-12 * sigma0 ||
            s->sigma * fabs(s->pc[i]) >= 1e-12 * sigma0)
            tiny = false;
        dmax = fmax(dmax, s->D[i]);
        dmin = fmin(dmin, s->D[i]);
    }
    return tiny || dmax * dmax > 1e14 * dmin * dmin || s->sigma * dmax > 1e4 * sigma0;
}

static void cmaes_free(cairn_sampler *smp)
{
    cmaes *c = smp->impl;
    if (!c)
        return;
    state_release(&c->cache);
    cairn_sampler_free(c->warm);
    free(c->dims);
    free(c->qn);
    free(c);
}

static cairn_status cmaes_create(cairn_sampler *smp, cn_spec *spec)
{
    const cairn_space *sp = smp->space;
    cmaes *c = cn_xcalloc(1, sizeof *c);
    smp->impl = c;
    c->ipop = true;
    c->dims = cn_xcalloc(sp->n ? sp->n : 1, sizeof *c->dims);
    c->qn = cn_xcalloc(sp->n ? sp->n : 1, sizeof *c->qn);
    for (size_t i = 0; i < sp->n; i++) {
        const cn_param *p = &sp->params[i];
        if ((p->type == CAIRN_SPACE_PARAM_FLOAT || p->type == CAIRN_SPACE_PARAM_INT) &&
            p->low < p->high && p->n_conds == 0) {
            c->qn[c->d] = p->q > 0 ? p->q / (p->H - p->L) : 0;
            c->dims[c->d++] = i;
        }
    }
    if (c->d > CMA_MAX_DIMS)
        return cn_fail(smp->ctx, CAIRN_ELIMIT,
                       "sampler 'cmaes': %zu numeric parameters; at most %d", c->d, CMA_MAX_DIMS);
    const char *restart = NULL, *warm = NULL, *indep = NULL, *wdens = NULL;
    int64_t popsize = 4 + (int64_t)floor(3 * log((double)(c->d ? c->d : 1)));
    c->sigma0 = 1.0 / 6;
    cairn_status rc = cn_spec_int(smp->ctx, spec, "popsize", 4, 100000, &popsize);
    if (rc == CAIRN_OK)
        rc = cn_spec_double(smp->ctx, spec, "sigma0", 1e-6, 1, &c->sigma0);
    if (rc == CAIRN_OK && (restart = cn_spec_str(spec, "restart")) != NULL) {
        if (strcmp(restart, "ipop") == 0)
            c->ipop = true;
        else if (strcmp(restart, "none") == 0)
            c->ipop = false;
        else
            rc = cn_fail(smp->ctx, CAIRN_EINVAL, "'cmaes': restart must be ipop or none, got '%s'",
                         restart);
    }
    if (rc == CAIRN_OK)
        rc = cn_spec_int(smp->ctx, spec, "warm_start", 0, 1000000, &c->warm_start);
    if (rc == CAIRN_OK && (warm = cn_spec_str(spec, "warm_sampler")) == NULL)
        warm = "tpe";
    if (rc == CAIRN_OK && strcmp(warm, "tpe") != 0 && strcmp(warm, "tpe_mv") != 0)
        rc = cn_fail(smp->ctx, CAIRN_EINVAL,
                     "'cmaes': warm_sampler must be tpe or tpe_mv, got '%s'", warm);
    if (rc == CAIRN_OK && (wdens = cn_spec_str(spec, "warm_density")) == NULL)
        wdens = "normalized";
    if (rc == CAIRN_OK && strcmp(wdens, "optuna") != 0 && strcmp(wdens, "normalized") != 0)
        rc = cn_fail(smp->ctx, CAIRN_EINVAL,
                     "'cmaes': warm_density must be optuna or normalized, got '%s'", wdens);
    if (rc == CAIRN_OK && (indep = cn_spec_str(spec, "independent")) == NULL)
        indep = "random";
    if (rc == CAIRN_OK && strcmp(indep, "random") != 0 && strcmp(indep, "warm") != 0)
        rc = cn_fail(smp->ctx, CAIRN_EINVAL,
                     "'cmaes': independent must be random or warm, got '%s'", indep);
    if (rc == CAIRN_OK)
        rc = cn_spec_check_used(smp->ctx, "sampler", spec,
                                "popsize, sigma0, restart, warm_start, warm_sampler, warm_density, "
                                "independent");
    c->lambda0 = (size_t)popsize;
    if (rc == CAIRN_OK && (c->warm_start > 0 || strcmp(indep, "warm") == 0)) {
        /* The warm start was measured with the textbook density (docs/hpo.md): on continuous
         * spaces Optuna's made CMA-ES's start worse. */
        char wspec[160];
        snprintf(wspec, sizeof wspec, "tpe:%sconstant_liar=true,density=%s",
                 strcmp(warm, "tpe") == 0 ? "" : "multivariate=true,group=true,", wdens);
        rc = cairn_sampler_new(smp->ctx, sp, wspec, smp->seed, &c->warm);
    }
    c->indep_warm = rc == CAIRN_OK && strcmp(indep, "warm") == 0;
    return rc;
}

static uint64_t mix(uint64_t h, uint64_t v)
{
    h ^= v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
    return h * 0x100000001b3ULL;
}

static int told_by_number(const void *a, const void *b)
{
    const cairn_trial_record *x = *(const cairn_trial_record *const *)a;
    const cairn_trial_record *y = *(const cairn_trial_record *const *)b;
    return (x->number > y->number) - (x->number < y->number);
}

/* The warm start's first mean: the weighted mean of the best quarter (at least 2) of the
 * warm-start trials, with CMA-ES's recombination weights; its step size: their root-mean-square
 * spread around it, within [0.02, sigma0]. */
static double warm_mean(const cmaes *c, const cairn_space *sp, const cairn_trial_record **done,
                        size_t k, double sign, double *mean)
{
    size_t d = c->d;
    told *pop = cn_xcalloc(k, sizeof *pop);
    double *xs = cn_xcalloc(k * d, sizeof *xs);
    for (size_t i = 0; i < k; i++) {
        for (size_t j = 0; j < d; j++) {
            const cn_param *p = &sp->params[c->dims[j]];
            xs[i * d + j] =
                (cn_param_encode(p, done[i]->params[c->dims[j]]) - p->L) / (p->H - p->L);
        }
        pop[i].x = &xs[i * d];
        pop[i].value = nan_to_big(sign * done[i]->value);
    }
    qsort(pop, k, sizeof *pop, by_value);
    size_t top = k / 4 < 2 ? (k < 2 ? k : 2) : k / 4;
    double *w = cn_xcalloc(top, sizeof *w), sum = 0;
    for (size_t i = 0; i < top; i++) {
        w[i] = log((double)top + 0.5) - log((double)i + 1);
        sum += w[i];
    }
    for (size_t j = 0; j < d; j++) {
        double m = 0;
        for (size_t i = 0; i < top; i++)
            m += w[i] / sum * pop[i].x[j];
        mean[j] = m;
    }
    double var = 0;
    for (size_t i = 0; i < top; i++)
        for (size_t j = 0; j < d; j++)
            var += w[i] / sum * (pop[i].x[j] - mean[j]) * (pop[i].x[j] - mean[j]);
    double sg = sqrt(var / (double)d);
    free(w);
    free(xs);
    free(pop);
    return sg < 0.02 ? 0.02 : sg > c->sigma0 ? c->sigma0 : sg;
}

/* Brings the cache up to date with the history's COMPLETE trials and returns it. */
static const cma_state *replay(cairn_sampler *smp, const cairn_history *h, int64_t number)
{
    cmaes *c = smp->impl;
    const cairn_space *sp = smp->space;
    size_t d = c->d;
    const cairn_trial_record **done = cn_xcalloc(h->n_trials + 1, sizeof *done);
    size_t n = 0;
    for (size_t i = 0; i < h->n_trials; i++) {
        const cairn_trial_record *t = &h->trials[i];
        if (t->state != CAIRN_TRIAL_COMPLETE || !t->params || t->number == number ||
            isnan(t->value))
            continue;
        bool ok = true;
        for (size_t j = 0; j < d && ok; j++)
            ok = !isnan(t->params[c->dims[j]]);
        if (ok)
            done[n++] = t;
    }
    qsort(done, n, sizeof *done, told_by_number);
    double sign = h->maximize ? -1 : 1;
    /* Resume from the cache when the history starts with the trials it told. */
    uint64_t hash = 0;
    size_t start = 0;
    if (c->has_cache && c->cache_told <= n) {
        for (size_t i = 0; i < c->cache_told; i++) {
            uint64_t bits;
            memcpy(&bits, &done[i]->value, sizeof bits);
            hash = mix(mix(hash, (uint64_t)done[i]->number), bits);
        }
        if (hash == c->cache_hash)
            start = c->cache_told;
    }
    if (start == 0) {
        double *mean = cn_xcalloc(d ? d : 1, sizeof *mean), sigma0 = c->sigma0;
        for (size_t j = 0; j < d; j++)
            mean[j] = 0.5;
        hash = 0;
        if (c->warm_start > 0 && (size_t)c->warm_start <= n) {
            start = (size_t)c->warm_start;
            sigma0 = warm_mean(c, sp, done, start, sign, mean);
            for (size_t i = 0; i < start; i++) {
                uint64_t bits;
                memcpy(&bits, &done[i]->value, sizeof bits);
                hash = mix(mix(hash, (uint64_t)done[i]->number), bits);
            }
        }
        state_init(&c->cache, d, c->lambda0, mean, sigma0, 0);
        free(mean);
    }
    cma_state *s = &c->cache;
    double *xs = cn_xcalloc((s->lambda ? s->lambda : 1) * (d ? d : 1), sizeof *xs);
    told *pop = cn_xcalloc(s->lambda ? s->lambda : 1, sizeof *pop);
    size_t cap = s->lambda;
    while (d > 0 && start + s->lambda <= n) {
        if (s->lambda > cap) {
            cap = s->lambda;
            xs = cn_xrealloc(xs, cap * d * sizeof *xs);
            pop = cn_xrealloc(pop, cap * sizeof *pop);
        }
        for (size_t k = 0; k < s->lambda; k++) {
            const cairn_trial_record *t = done[start + k];
            for (size_t j = 0; j < d; j++) {
                const cn_param *p = &sp->params[c->dims[j]];
                xs[k * d + j] = (cn_param_encode(p, t->params[c->dims[j]]) - p->L) / (p->H - p->L);
            }
            pop[k].x = &xs[k * d];
            pop[k].value = nan_to_big(sign * t->value);
            uint64_t bits;
            memcpy(&bits, &t->value, sizeof bits);
            hash = mix(mix(hash, (uint64_t)t->number), bits);
        }
        size_t lambda = s->lambda;
        tell(s, pop, c->qn);
        start += lambda;
        if (should_stop(s, c->sigma0, pop)) {
            if (!c->ipop) {
                /* Without restarts the run goes on from where it stopped. */
                continue;
            }
            cn_rng r;
            cn_hpo_rng(&r, smp->seed, -2 - s->n_restarts, 5);
            double *mean = cn_xcalloc(d, sizeof *mean);
            for (size_t j = 0; j < d; j++)
                mean[j] = cn_rng_uniform(&r);
            size_t next = lambda * 2 > 4096 ? 4096 : lambda * 2;
            state_init(s, d, next, mean, c->sigma0, s->n_restarts + 1);
            free(mean);
        }
    }
    free(xs);
    free(pop);
    free(done);
    c->has_cache = true;
    c->cache_told = start;
    c->cache_hash = hash;
    return s;
}

static cairn_status cmaes_ask(cairn_sampler *smp, const cairn_history *h, int64_t number,
                              double *params)
{
    cmaes *c = smp->impl;
    const cairn_space *sp = smp->space;
    cn_rng r;
    cn_hpo_rng(&r, smp->seed, number, 0);
    size_t d = c->d;
    if (d > 0 && c->warm && c->warm_start > 0) {
        size_t n_done = 0;
        for (size_t i = 0; i < h->n_trials; i++) {
            const cairn_trial_record *t = &h->trials[i];
            bool ok = t->state == CAIRN_TRIAL_COMPLETE && t->params && t->number != number &&
                      !isnan(t->value);
            for (size_t j = 0; j < d && ok; j++)
                ok = !isnan(t->params[c->dims[j]]);
            n_done += ok;
        }
        if (n_done < (size_t)c->warm_start)
            return cairn_sampler_ask(c->warm, h, number, params);
    }
    if (c->indep_warm) {
        /* categorical and conditional parameters from TPE, which models them; CMA-ES then
         * replaces the numeric ones */
        cairn_status rc = cairn_sampler_ask(c->warm, h, number, params);
        if (rc != CAIRN_OK)
            return rc;
    } else {
        cn_random_fill(sp, &r, params); /* categorical and conditional parameters */
    }
    if (d == 0)
        return CAIRN_OK;
    const cma_state *s = replay(smp, h, number);
    double *z = cn_xcalloc(d, sizeof *z), *x = cn_xcalloc(d, sizeof *x);
    cn_hpo_rng(&r, smp->seed, number, 4);
    /* Redraw up to 10 d times while outside the box, then clip (as Optuna). */
    for (size_t attempt = 0; attempt < 10 * d; attempt++) {
        for (size_t k = 0; k < d; k++)
            z[k] = s->D[k] * cn_rng_normal(&r);
        bool inside = true;
        for (size_t j = 0; j < d; j++) {
            double y = 0;
            for (size_t k = 0; k < d; k++)
                y += s->B[j * d + k] * z[k];
            x[j] = s->mean[j] + s->sigma * y;
            inside = inside && x[j] >= 0 && x[j] <= 1;
        }
        if (inside)
            break;
    }
    for (size_t j = 0; j < d; j++) {
        const cn_param *p = &sp->params[c->dims[j]];
        double u = x[j] < 0 ? 0 : x[j] > 1 ? 1 : x[j];
        params[c->dims[j]] = cn_param_decode(p, p->L + u * (p->H - p->L));
    }
    free(z);
    free(x);
    return CAIRN_OK;
}

const cn_sampler_ops cn_sampler_cmaes_ops = {"cmaes", cmaes_create, cmaes_ask, cmaes_free};
