/* SPDX-License-Identifier: MIT */
/* tpe.c - the Tree-structured Parzen Estimator (Bergstra et al. 2011) as Optuna 3.1's
 * TPESampler: the good/bad split at gamma(n) = min(ceil(0.1 n), 25), Optuna's ranking of
 * pruned and running trials, its weights, prior and bandwidth rules (neighbour distances for
 * univariate, Scott's rule for multivariate), 24 candidates from l(x) scored by
 * log l(x) - log g(x), random start-up trials, the intersection space for multivariate mode,
 * group decomposition for conditional spaces and the constant liar for running trials.
 * Candidates and kernels are numbers in the sampling box of hpo_internal.h.
 * Candidates are scored as Optuna 3.1-3.4 score them (density=optuna, the default): each
 * continuous kernel's log density lacks its -log sigma (optuna#5109, fixed in 3.5), which
 * weights a kernel by its bandwidth, so lone observations and the prior count for more. It is
 * not the textbook density, but it finds better points: docs/hpo.md has the measurements, and
 * density=normalized gives the textbook one. */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "hpo/hpo_internal.h"
#include "core/core.h"
#include "base/xmalloc.h"
#include "base/banned.h"

#define SQRT2 1.41421356237309504880
#define LOG_SQRT_2PI 0.91893853320467274178

typedef struct tpe_opts {
    int64_t n_startup, n_ei;
    bool multivariate, group, liar, magic_clip, endpoints, scott;
    bool unscaled; /* density=optuna (the default): kernels scored without their 1/sigma */
    double prior_weight;
} tpe_opts;

static cairn_status tpe_create(cairn_sampler *s, cn_spec *spec)
{
    tpe_opts *o = cn_xcalloc(1, sizeof *o);
    s->impl = o;
    o->n_startup = 10;
    o->n_ei = 24;
    o->magic_clip = true;
    o->prior_weight = 1.0;
    o->unscaled = true;
    const char *bw = NULL;
    cairn_ctx *ctx = s->ctx;
    cairn_status rc = cn_spec_int(ctx, spec, "n_startup_trials", 0, 1000000, &o->n_startup);
    if (rc == CAIRN_OK)
        rc = cn_spec_int(ctx, spec, "n_ei_candidates", 1, 100000, &o->n_ei);
    if (rc == CAIRN_OK)
        rc = cn_spec_bool(ctx, spec, "multivariate", &o->multivariate);
    if (rc == CAIRN_OK)
        rc = cn_spec_bool(ctx, spec, "group", &o->group);
    if (rc == CAIRN_OK)
        rc = cn_spec_bool(ctx, spec, "constant_liar", &o->liar);
    if (rc == CAIRN_OK)
        rc = cn_spec_bool(ctx, spec, "magic_clip", &o->magic_clip);
    if (rc == CAIRN_OK)
        rc = cn_spec_bool(ctx, spec, "endpoints", &o->endpoints);
    if (rc == CAIRN_OK)
        rc = cn_spec_double(ctx, spec, "prior_weight", 1e-12, 1e12, &o->prior_weight);
    const char *density = cn_spec_str(spec, "density");
    if (rc == CAIRN_OK && density) {
        if (strcmp(density, "normalized") == 0)
            o->unscaled = false;
        else if (strcmp(density, "optuna") != 0)
            rc = cn_fail(ctx, CAIRN_EINVAL, "'tpe': density must be optuna or normalized, got '%s'",
                         density);
    }
    if (rc == CAIRN_OK && (bw = cn_spec_str(spec, "bandwidth")) != NULL) {
        if (strcmp(bw, "neighbor") != 0 && strcmp(bw, "scott") != 0)
            rc = cn_fail(ctx, CAIRN_EINVAL, "'tpe': bandwidth must be scott or neighbor, got '%s'",
                         bw);
    }
    if (rc == CAIRN_OK)
        rc = cn_spec_check_used(
            ctx, "sampler", spec,
            "n_startup_trials, n_ei_candidates, multivariate, group, "
            "constant_liar, magic_clip, endpoints, prior_weight, bandwidth, density");
    if (rc == CAIRN_OK && o->group && !o->multivariate)
        rc = cn_fail(ctx, CAIRN_EINVAL, "'tpe': group=true needs multivariate=true");
    /* Optuna 3.1: Scott's rule in multivariate mode; 5.0 uses the neighbour rule there too. */
    o->scott = o->multivariate && !(bw && strcmp(bw, "neighbor") == 0);
    return rc;
}

static void tpe_free(cairn_sampler *s)
{
    free(s->impl);
}

/* ---- the standard normal ---- */

static double ndtr(double z)
{
    return 0.5 * erfc(-z / SQRT2);
}

/* log Φ(z), accurate in the lower tail. */
static double log_ndtr(double z)
{
    if (z > 6)
        return log1p(-0.5 * erfc(z / SQRT2));
    if (z > -37)
        return log(0.5 * erfc(-z / SQRT2));
    /* Asymptotic series: Φ(z) ~ φ(z)/(-z) (1 - 1/z² + 3/z⁴). */
    double z2 = z * z;
    return -0.5 * z2 - LOG_SQRT_2PI - log(-z) + log1p(-1 / z2 + 3 / (z2 * z2));
}

/* log(Φ(b) - Φ(a)) for a < b, without cancellation in either tail. */
static double log_mass(double a, double b)
{
    if (!(b > a))
        return -INFINITY;
    double la, lb;
    if (a > 0) { /* both in the upper tail: Φ(b) - Φ(a) = Φ(-a) - Φ(-b) */
        la = log_ndtr(-a);
        lb = log_ndtr(-b);
    } else {
        la = log_ndtr(b);
        lb = log_ndtr(a);
    }
    if (lb == -INFINITY)
        return la;
    return la + log1p(-exp(lb - la));
}

/* Φ^-1(p): Acklam's rational approximation refined by one Halley step. */
double cn_hpo_ndtri(double p)
{
    static const double a[] = {-3.969683028665376e+01, 2.209460984245205e+02,
                               -2.759285104469687e+02, 1.383577518672690e+02,
                               -3.066479806614716e+01, 2.506628277459239e+00};
    static const double b[] = {-5.447609879822406e+01, 1.615858368580409e+02,
                               -1.556989798598866e+02, 6.680131188771972e+01,
                               -1.328068155288572e+01};
    static const double c[] = {-7.784894002430293e-03, -3.223964580411365e-01,
                               -2.400758277161838e+00, -2.549732539343734e+00,
                               4.374664141464968e+00,  2.938163982698783e+00};
    static const double d[] = {7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00,
                               3.754408661907416e+00};
    if (p <= 0)
        return -INFINITY;
    if (p >= 1)
        return INFINITY;
    double x;
    if (p < 0.02425) {
        double q = sqrt(-2 * log(p));
        x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
            ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
    } else if (p > 1 - 0.02425) {
        double q = sqrt(-2 * log1p(-p));
        x = -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
            ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
    } else {
        double q = p - 0.5, r = q * q;
        x = (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q /
            (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
    }
    double e = ndtr(x) - p;
    double u = e * 2.50662827463100050242 * exp(x * x / 2);
    return x - u / (1 + x * u / 2);
}

/* A draw of N(mu, sigma²) truncated to [lo, hi] by inverse CDF. mu lies in [lo, hi] (every
 * kernel centre is an observation or the prior centre), so the mass is never tiny. */
static double trunc_normal(cn_rng *r, double mu, double sigma, double lo, double hi)
{
    double a = (lo - mu) / sigma, b = (hi - mu) / sigma;
    double pa = ndtr(a), pb = ndtr(b);
    double p = pa + cn_rng_uniform(r) * (pb - pa);
    double x = mu + sigma * cn_hpo_ndtri(p);
    return x < lo ? lo : x > hi ? hi : x;
}

/* ---- observations and the split ---- */

typedef struct obs {
    const cairn_trial_record *t;
    double k1, k2; /* Optuna 3.1's sort key, ascending */
    size_t pos;    /* position in trial-number order, the tie-break */
    bool below;
} obs;

static int by_number(const void *a, const void *b)
{
    const obs *x = a, *y = b;
    return (x->t->number > y->t->number) - (x->t->number < y->t->number);
}

/* Histories usually come in trial order: check before sorting. */
static void sort_by_number(obs *ob, size_t n)
{
    for (size_t i = 1; i < n; i++)
        if (ob[i].t->number < ob[i - 1].t->number) {
            qsort(ob, n, sizeof *ob, by_number);
            return;
        }
}

static int by_key(const void *a, const void *b)
{
    const obs *x = a, *y = b;
    if (x->k1 != y->k1)
        return x->k1 < y->k1 ? -1 : 1;
    if (x->k2 != y->k2)
        return x->k2 < y->k2 ? -1 : 1;
    return (x->pos > y->pos) - (x->pos < y->pos);
}

static double nan_to_inf(double v)
{
    return isnan(v) ? INFINITY : v;
}

/* ---- Parzen estimators ---- */

typedef struct kdim {
    const cn_param *p;
    size_t index; /* the parameter's index in the space */
    bool is_cat;
    double *mu, *sigma; /* numeric: per component */
    double *norm;       /* numeric: log of the truncated mass on [L, H], plus log sigma for
                           continuous dimensions: per component, so scoring is flops only */
    double *logp;       /* categorical: n_comp x n_choices */
} kdim;

typedef struct mixture {
    size_t n_comp; /* observations + the prior (last) */
    double *w, *logw;
    size_t d;
    kdim *dims;
    bool plain; /* every dimension continuous (no step, no categorical) */
} mixture;

static void mixture_release(mixture *m)
{
    for (size_t j = 0; j < m->d; j++) {
        free(m->dims[j].mu);
        free(m->dims[j].sigma);
        free(m->dims[j].norm);
        free(m->dims[j].logp);
    }
    free(m->dims);
    free(m->w);
    free(m->logw);
    memset(m, 0, sizeof *m);
}

/* Optuna's default_weights: 1 for the newest 25, a ramp from 1/m to 1 before them. */
static void default_weights(size_t m, double *w)
{
    if (m < 25) {
        for (size_t i = 0; i < m; i++)
            w[i] = 1;
        return;
    }
    size_t n_ramp = m - 25;
    for (size_t i = 0; i < n_ramp; i++)
        w[i] = n_ramp == 1
                   ? 1.0 / (double)m
                   : 1.0 / (double)m + (1 - 1.0 / (double)m) * (double)i / (double)(n_ramp - 1);
    for (size_t i = n_ramp; i < m; i++)
        w[i] = 1;
}

typedef struct sort_mu {
    double mu;
    size_t i;
} sort_mu;

/* An order-preserving unsigned key of a double (-0 as +0, so that equal centres stay equal). */
static uint64_t mu_key(double x)
{
    uint64_t u;
    if (x == 0)
        x = 0;
    memcpy(&u, &x, sizeof u);
    return u >> 63 ? ~u : u | UINT64_C(0x8000000000000000);
}

/* Sorts a[] (given in ascending i) by (mu, i): a stable least-significant-digit radix sort on
 * the key of mu, skipping the bytes every key shares. This runs for every parameter of every
 * trial: qsort's callback was a quarter of TPE's time at a thousand trials, a merge sort still
 * an eighth. */
static void sort_mus(sort_mu *a, size_t n)
{
    if (n < 2)
        return;
    uint64_t *key = cn_xcalloc(2 * n, sizeof *key), *kt = key + n;
    sort_mu *tmp = cn_xcalloc(n, sizeof *tmp), *src = a, *dst = tmp;
    for (size_t i = 0; i < n; i++)
        key[i] = mu_key(a[i].mu);
    for (int shift = 0; shift < 64; shift += 8) {
        size_t count[257] = {0};
        for (size_t i = 0; i < n; i++)
            count[((key[i] >> shift) & 0xff) + 1]++;
        bool one = false;
        for (size_t b = 1; b <= 256 && !one; b++)
            one = count[b] == n;
        if (one)
            continue; /* every key has this byte: the order stays */
        for (size_t b = 1; b <= 256; b++)
            count[b] += count[b - 1];
        for (size_t i = 0; i < n; i++) {
            size_t at = count[(key[i] >> shift) & 0xff]++;
            dst[at] = src[i];
            kt[at] = key[i];
        }
        sort_mu *t = src;
        src = dst;
        dst = t;
        uint64_t *k2 = key;
        key = kt;
        kt = k2;
    }
    if (src != a)
        memcpy(a, src, n * sizeof *a);
    free(key < kt ? key : kt);
    free(tmp);
}

/* The neighbour-distance bandwidths of Optuna 3.1 (the prior centre takes part in the sort). */
static void neighbour_sigmas(const tpe_opts *o, const double *mu, size_t k, double L, double H,
                             double *sigma)
{
    sort_mu *s = cn_xcalloc(k, sizeof *s);
    for (size_t i = 0; i < k; i++) {
        s[i].mu = mu[i];
        s[i].i = i;
    }
    sort_mus(s, k);
    for (size_t r = 0; r < k; r++) {
        double left = s[r].mu - (r == 0 ? L : s[r - 1].mu);
        double right = (r + 1 == k ? H : s[r + 1].mu) - s[r].mu;
        double sg = left > right ? left : right;
        if (!o->endpoints && k >= 2) {
            if (r == 0)
                sg = right;
            else if (r + 1 == k)
                sg = left;
        }
        sigma[s[r].i] = sg;
    }
    free(s);
}

/* Builds the mixture over the dimensions dims[0 .. d) from the observations of set (below or
 * above) that hold every one of them, in trial-number order. */
static void mixture_build(const tpe_opts *o, const cairn_space *sp, const size_t *params, size_t d,
                          const obs *ob, size_t n_obs, bool below, mixture *m)
{
    memset(m, 0, sizeof *m);
    const cairn_trial_record **use = cn_xcalloc(n_obs + 1, sizeof *use);
    size_t n = 0;
    for (size_t i = 0; i < n_obs; i++) {
        if (ob[i].below != below)
            continue;
        bool has = true;
        for (size_t j = 0; j < d && has; j++)
            has = !isnan(ob[i].t->params[params[j]]);
        if (has)
            use[n++] = ob[i].t;
    }
    m->n_comp = n + 1;
    m->w = cn_xcalloc(m->n_comp, sizeof *m->w);
    m->logw = cn_xcalloc(m->n_comp, sizeof *m->logw);
    default_weights(n, m->w);
    m->w[n] = o->prior_weight;
    double sum = 0;
    for (size_t i = 0; i < m->n_comp; i++)
        sum += m->w[i];
    for (size_t i = 0; i < m->n_comp; i++) {
        m->w[i] /= sum;
        m->logw[i] = log(m->w[i]);
    }
    m->d = d;
    m->dims = cn_xcalloc(d ? d : 1, sizeof *m->dims);
    for (size_t j = 0; j < d; j++) {
        kdim *k = &m->dims[j];
        const cn_param *p = &sp->params[params[j]];
        k->p = p;
        k->index = params[j];
        k->is_cat = p->type == CAIRN_SPACE_PARAM_CATEGORICAL;
        if (k->is_cat) {
            size_t c = p->n_choices;
            k->logp = cn_xcalloc(m->n_comp * c, sizeof *k->logp);
            double w0 = o->prior_weight / (double)m->n_comp;
            for (size_t i = 0; i < n; i++) {
                size_t obs_k = (size_t)use[i]->params[params[j]];
                for (size_t x = 0; x < c; x++)
                    k->logp[i * c + x] = log((w0 + (x == obs_k)) / (1 + (double)c * w0));
            }
            for (size_t x = 0; x < c; x++)
                k->logp[n * c + x] = -log((double)c);
            continue;
        }
        double L = p->L, H = p->H;
        k->mu = cn_xcalloc(m->n_comp, sizeof *k->mu);
        k->sigma = cn_xcalloc(m->n_comp, sizeof *k->sigma);
        for (size_t i = 0; i < n; i++)
            k->mu[i] = cn_param_encode(p, use[i]->params[params[j]]);
        k->mu[n] = L + 0.5 * (H - L);
        if (o->scott) {
            double sg = 0.2 * pow((double)(n > 1 ? n : 1), -1.0 / ((double)d + 4)) * (H - L);
            for (size_t i = 0; i < n; i++)
                k->sigma[i] = sg;
        } else {
            neighbour_sigmas(o, k->mu, m->n_comp, L, H, k->sigma);
        }
        double maxs = H - L;
        double mins = o->magic_clip ? (H - L) / fmin(100.0, 1.0 + (double)m->n_comp) : 1e-12;
        for (size_t i = 0; i < n; i++)
            k->sigma[i] = k->sigma[i] < mins ? mins : k->sigma[i] > maxs ? maxs : k->sigma[i];
        k->sigma[n] = maxs;
        k->norm = cn_xcalloc(m->n_comp, sizeof *k->norm);
        double last_sigma = NAN, last_log = 0; /* most sigmas repeat (clip, Scott's rule) */
        for (size_t i = 0; i < m->n_comp; i++) {
            double a = (L - k->mu[i]) / k->sigma[i], b = (H - k->mu[i]) / k->sigma[i];
            /* Beyond 8.3 standard deviations on both sides the mass is 1 in doubles. */
            double lz = a < -8.3 && b > 8.3 ? 0 : log_mass(a, b);
            if (!(p->q > 0) && k->sigma[i] != last_sigma) {
                last_sigma = k->sigma[i];
                last_log = log(last_sigma);
            }
            k->norm[i] = lz + (p->q > 0 ? 0 : (o->unscaled ? 0 : last_log) + LOG_SQRT_2PI);
        }
    }
    free(use);
    m->plain = true;
    for (size_t j = 0; j < d; j++)
        m->plain = m->plain && !m->dims[j].is_cat && !(m->dims[j].p->q > 0);
}

/* Draws one coordinate vector y[0 .. d) from the mixture: one component for all dimensions. */
static void mixture_sample(const mixture *m, cn_rng *r, double *y)
{
    double u = cn_rng_uniform(r), acc = 0;
    size_t c = m->n_comp - 1;
    for (size_t i = 0; i < m->n_comp; i++) {
        acc += m->w[i];
        if (u < acc) {
            c = i;
            break;
        }
    }
    for (size_t j = 0; j < m->d; j++) {
        const kdim *k = &m->dims[j];
        const cn_param *p = k->p;
        if (k->is_cat) {
            size_t n_ch = p->n_choices;
            double v = cn_rng_uniform(r), a = 0;
            size_t x = n_ch - 1;
            for (size_t i = 0; i < n_ch; i++) {
                a += exp(k->logp[c * n_ch + i]);
                if (v < a) {
                    x = i;
                    break;
                }
            }
            y[j] = (double)x;
            continue;
        }
        double x = trunc_normal(r, k->mu[c], k->sigma[c], p->L, p->H);
        /* Stepped dimensions are scored on their grid point (its cell's mass). */
        y[j] = p->q > 0 ? cn_param_decode(p, x) : x;
    }
}

/* log w_i + sum_j log k_ij(y_j), the term of component i. */
static double comp_term(const mixture *m, size_t i, const double *y)
{
    double t = m->logw[i];
    for (size_t j = 0; j < m->d && t > -INFINITY; j++) {
        const kdim *k = &m->dims[j];
        const cn_param *p = k->p;
        if (k->is_cat) {
            t += k->logp[i * p->n_choices + (size_t)y[j]];
            continue;
        }
        double mu = k->mu[i], sg = k->sigma[i];
        if (p->q > 0) {
            double lo = y[j] - p->q / 2, hi = y[j] + p->q / 2;
            lo = lo < p->L ? p->L : lo;
            hi = hi > p->H ? p->H : hi;
            t += log_mass((lo - mu) / sg, (hi - mu) / sg) - k->norm[i];
        } else {
            double z = (y[j] - mu) / sg;
            t += -0.5 * z * z - k->norm[i];
        }
    }
    return t;
}

/* log sum_i w_i prod_j k_ij(y_j); terms is scratch room for n_comp doubles. Terms 40 below
 * the largest add less than 1e-17 of it each: their exp is skipped. */
static double mixture_logpdf(const mixture *m, const double *y, double *terms)
{
    size_t n = m->n_comp;
    double best = -INFINITY;
    if (m->plain) {
        /* The same arithmetic as comp_term, dimension by dimension over all components:
         * loops the compiler vectorises. */
        memcpy(terms, m->logw, n * sizeof *terms);
        for (size_t j = 0; j < m->d; j++) {
            const double *mu = m->dims[j].mu, *sg = m->dims[j].sigma, *nm = m->dims[j].norm;
            double yj = y[j];
            for (size_t i = 0; i < n; i++) {
                double z = (yj - mu[i]) / sg[i];
                terms[i] += -0.5 * z * z - nm[i];
            }
        }
        for (size_t i = 0; i < n; i++)
            best = terms[i] > best ? terms[i] : best;
    } else {
        for (size_t i = 0; i < n; i++) {
            double t = comp_term(m, i, y);
            terms[i] = t;
            if (t > best)
                best = t;
        }
    }
    if (best == -INFINITY)
        return -INFINITY;
    double sum = 0, floor_t = best - 40;
    for (size_t i = 0; i < n; i++)
        if (terms[i] > floor_t)
            sum += exp(terms[i] - best);
    return best + log(sum);
}

/* Samples the parameters params[0 .. d) jointly: n_ei candidates from l, the best ratio. */
static void sample_joint(const tpe_opts *o, const cairn_space *sp, const size_t *params, size_t d,
                         const obs *ob, size_t n_obs, cn_rng *r, double *out)
{
    mixture l, g;
    mixture_build(o, sp, params, d, ob, n_obs, true, &l);
    mixture_build(o, sp, params, d, ob, n_obs, false, &g);
    double *y = cn_xcalloc(d, sizeof *y), *best = cn_xcalloc(d, sizeof *best);
    double best_score = -INFINITY;
    double *terms = cn_xcalloc(l.n_comp > g.n_comp ? l.n_comp : g.n_comp, sizeof *terms);
    for (int64_t c = 0; c < o->n_ei; c++) {
        mixture_sample(&l, r, y);
        double score = mixture_logpdf(&l, y, terms) - mixture_logpdf(&g, y, terms);
        if (c == 0 || score > best_score) {
            best_score = score;
            memcpy(best, y, d * sizeof *y);
        }
    }
    for (size_t j = 0; j < d; j++) {
        const cn_param *p = &sp->params[params[j]];
        out[params[j]] = p->type == CAIRN_SPACE_PARAM_CATEGORICAL ? best[j]
                         : p->q > 0                               ? best[j]
                                                                  : cn_param_decode(p, best[j]);
    }
    free(terms);
    free(y);
    free(best);
    mixture_release(&l);
    mixture_release(&g);
}

static bool is_single(const cn_param *p)
{
    if (p->type == CAIRN_SPACE_PARAM_CONST || p->type == CAIRN_SPACE_PARAM_CATEGORICAL)
        return p->n_choices <= 1;
    return p->low == p->high;
}

static double single_value(const cn_param *p)
{
    return p->type == CAIRN_SPACE_PARAM_CONST || p->type == CAIRN_SPACE_PARAM_CATEGORICAL ? 0
                                                                                          : p->low;
}

/* Group decomposition (Optuna's _GroupDecomposedSearchSpace): each finished trial's parameter
 * set D splits every group G into G∩D and G∖D, and D minus all groups becomes a new group.
 * group_of[i] is the group of parameter i, or -1. Returns the number of groups. */
static size_t decompose(const cairn_space *sp, const obs *ob, size_t n_obs, int64_t *group_of)
{
    size_t n = sp->n, n_groups = 0;
    for (size_t i = 0; i < n; i++)
        group_of[i] = -1;
    int64_t *remap = cn_xcalloc(2 * n + 2, sizeof *remap);
    for (size_t t = 0; t < n_obs; t++) {
        const cairn_trial_record *tr = ob[t].t;
        if (tr->state != CAIRN_TRIAL_COMPLETE && tr->state != CAIRN_TRIAL_PRUNED)
            continue;
        /* New ids: (old group, in D) pairs. */
        for (size_t k = 0; k < 2 * n + 2; k++)
            remap[k] = -1;
        size_t next = 0;
        int64_t fresh = -1;
        for (size_t i = 0; i < n; i++) {
            bool in_d = !isnan(tr->params[i]);
            if (group_of[i] < 0) {
                if (!in_d)
                    continue;
                if (fresh < 0)
                    fresh = (int64_t)next++;
                group_of[i] = fresh;
                continue;
            }
            size_t key = (size_t)group_of[i] * 2 + in_d;
            if (remap[key] < 0)
                remap[key] = (int64_t)next++;
            group_of[i] = remap[key];
        }
        /* Each parameter's old id is read once, before it is overwritten, so old and new ids
         * never mix within a pass. */
        n_groups = next;
    }
    free(remap);
    return n_groups;
}

static cairn_status tpe_ask(cairn_sampler *s, const cairn_history *h, int64_t number,
                            double *params)
{
    const tpe_opts *o = s->impl;
    const cairn_space *sp = s->space;
    double sign = h->maximize ? -1 : 1;
    obs *ob = cn_xcalloc(h->n_trials + 1, sizeof *ob);
    size_t n_obs = 0, n_fin = 0;
    for (size_t i = 0; i < h->n_trials; i++) {
        const cairn_trial_record *t = &h->trials[i];
        if (t->number == number || !t->params)
            continue;
        obs *x = &ob[n_obs];
        x->t = t;
        if (t->state == CAIRN_TRIAL_COMPLETE) {
            x->k1 = -INFINITY;
            x->k2 = nan_to_inf(sign * t->value);
            n_fin++;
        } else if (t->state == CAIRN_TRIAL_PRUNED) {
            if (t->n_steps > 0) {
                x->k1 = -(double)t->steps[t->n_steps - 1];
                x->k2 = nan_to_inf(sign * t->values[t->n_steps - 1]);
            } else {
                x->k1 = 1;
                x->k2 = 0;
            }
            n_fin++;
        } else if (t->state == CAIRN_TRIAL_RUNNING && o->liar) {
            x->k1 = INFINITY;
            x->k2 = INFINITY;
        } else {
            continue;
        }
        n_obs++;
    }
    cn_rng r;
    if ((int64_t)n_fin < o->n_startup) {
        free(ob);
        cn_hpo_rng(&r, s->seed, number, 0);
        cn_random_fill(sp, &r, params);
        return CAIRN_OK;
    }
    sort_by_number(ob, n_obs);
    for (size_t i = 0; i < n_obs; i++)
        ob[i].pos = i;
    qsort(ob, n_obs, sizeof *ob, by_key);
    size_t n_below = (size_t)ceil(0.1 * (double)n_fin);
    if (n_below > 25)
        n_below = 25;
    /* back to trial-number order: each observation to its position */
    obs *by_num = cn_xcalloc(n_obs + 1, sizeof *by_num);
    for (size_t i = 0; i < n_obs; i++) {
        ob[i].below = i < n_below;
        by_num[ob[i].pos] = ob[i];
    }
    free(ob);
    ob = by_num;

    cn_hpo_rng(&r, s->seed, number, 3);
    size_t n = sp->n;
    double *joint = cn_xcalloc(n, sizeof *joint);
    bool *in_joint = cn_xcalloc(n, sizeof *in_joint);
    size_t *set = cn_xcalloc(n, sizeof *set);
    for (size_t i = 0; i < n; i++)
        joint[i] = NAN;
    if (o->group) {
        int64_t *group_of = cn_xcalloc(n, sizeof *group_of);
        size_t n_groups = decompose(sp, ob, n_obs, group_of);
        for (size_t gi = 0; gi < n_groups; gi++) {
            size_t d = 0;
            for (size_t i = 0; i < n; i++)
                if (group_of[i] == (int64_t)gi && !is_single(&sp->params[i]))
                    set[d++] = i;
            if (d == 0)
                continue;
            sample_joint(o, sp, set, d, ob, n_obs, &r, joint);
            for (size_t j = 0; j < d; j++)
                in_joint[set[j]] = true;
        }
        free(group_of);
    } else if (o->multivariate) {
        /* The intersection search space: parameters every finished trial holds. */
        size_t d = 0;
        for (size_t i = 0; i < n; i++) {
            if (is_single(&sp->params[i]))
                continue;
            bool all = true;
            for (size_t t = 0; t < n_obs && all; t++)
                if (ob[t].t->state != CAIRN_TRIAL_RUNNING)
                    all = !isnan(ob[t].t->params[i]);
            if (all)
                set[d++] = i;
        }
        if (d > 0) {
            sample_joint(o, sp, set, d, ob, n_obs, &r, joint);
            for (size_t j = 0; j < d; j++)
                in_joint[set[j]] = true;
        }
    }
    for (size_t i = 0; i < n; i++)
        params[i] = NAN;
    for (size_t k = 0; k < n; k++) {
        size_t i = sp->order[k];
        const cn_param *p = &sp->params[i];
        if (!cn_space_active(sp, i, params))
            continue;
        if (is_single(p))
            params[i] = single_value(p);
        else if (in_joint[i])
            params[i] = joint[i];
        else
            sample_joint(o, sp, &i, 1, ob, n_obs, &r, params); /* independent */
    }
    free(joint);
    free(in_joint);
    free(set);
    free(ob);
    return CAIRN_OK;
}

const cn_sampler_ops cn_sampler_tpe_ops = {"tpe", tpe_create, tpe_ask, tpe_free};
