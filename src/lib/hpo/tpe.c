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

/* One parameter's observations sorted by (box coordinate, trial number), kept between asks: a
 * tell adds one observation, which the next ask merges in instead of sorting them all again. */
typedef struct tpe_order {
    size_t n;        /* observations it was built from, in trial-number order */
    int64_t *number; /* their trial numbers */
    double *value;   /* their values of the parameter (NaN: the trial lacks it) */
    double *mu;      /* the box coordinates of those values */
    uint64_t *key;   /* mu_key of the box coordinate, or KEY_NONE: the trial lacks it */
    size_t *sorted;  /* positions (into number order) of the holders, by (key, position) */
    size_t n_sorted;
    bool reusable; /* numbers rose when it was built: the next ask may merge into it */
} tpe_order;

typedef struct tpe {
    tpe_opts o;       /* first: the sampling code takes a const tpe_opts * */
    tpe_order *order; /* per parameter of the space */
    size_t n_order;
    struct {      /* the normalised weights of n observations and the prior, and their logs: */
        size_t n; /* [0] for below sets (at most 25), [1] for above ones */
        double *w, *logw;
    } wc[2];
} tpe;

static void order_release(tpe_order *c);

static cairn_status tpe_create(cairn_sampler *s, cn_spec *spec)
{
    tpe *st = cn_xcalloc(1, sizeof *st);
    tpe_opts *o = &st->o;
    s->impl = st;
    st->n_order = s->space->n;
    st->order = cn_xcalloc(st->n_order ? st->n_order : 1, sizeof *st->order);
    st->wc[0].n = st->wc[1].n = SIZE_MAX;
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
    tpe *st = s->impl;
    if (!st)
        return;
    for (size_t i = 0; i < st->n_order; i++)
        order_release(&st->order[i]);
    free(st->order);
    for (size_t i = 0; i < 2; i++) {
        free(st->wc[i].w);
        free(st->wc[i].logw);
    }
    free(st);
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

/* log(Φ(b) - Φ(a)) for a <= 0 <= b, the mass of a kernel on [L, H] around a centre inside:
 * log(1 - Q(b) - Q(-a)) with the upper tails Q, two erfc and a log1p (log_mass takes two
 * erfc, two logs, an exp and a log1p). A tail beyond 8.3 standard deviations is below 1e-16 of
 * the mass and left out. The same value within a few ulp. */
static double log_inner_mass(double a, double b)
{
    double qa = a < -8.3 ? 0 : 0.5 * erfc(-a / SQRT2), qb = b > 8.3 ? 0 : 0.5 * erfc(b / SQRT2);
    return log1p(-(qa + qb));
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
    double *inv;        /* continuous: 1 / sigma */
    double *norm;       /* numeric: log of the truncated mass on [L, H], plus log sigma for
                           continuous dimensions (density=normalized): per component */
    double *logp;       /* categorical: n_choices x n_comp, choice-major (a column per choice) */
} kdim;

typedef struct mixture {
    size_t n_comp; /* observations + the prior (last) */
    double *w;
    double *base; /* log w_i minus every numeric dimension's norm: the term before the kernels */
    size_t d;
    kdim *dims;
    bool all_cat; /* every dimension categorical: summed as before, see log_sum_exp_exact */
} mixture;

static void mixture_release(mixture *m)
{
    for (size_t j = 0; j < m->d; j++) {
        free(m->dims[j].mu);
        free(m->dims[j].sigma);
        free(m->dims[j].inv);
        free(m->dims[j].norm);
        free(m->dims[j].logp);
    }
    free(m->dims);
    free(m->w);
    free(m->base);
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

/* The normalised weights of n observations and the prior, and their logs: the same for every
 * mixture of that size, so the above mixtures of one ask (one per parameter in univariate
 * mode) compute them once. */
static void mixture_weights(tpe *st, size_t n, double *w, double *logw)
{
    size_t slot = n > 25;
    double *cw = st->wc[slot].w, *cl = st->wc[slot].logw;
    if (st->wc[slot].n != n) {
        cw = st->wc[slot].w = cn_xrealloc(cw, (n + 1) * sizeof *cw);
        cl = st->wc[slot].logw = cn_xrealloc(cl, (n + 1) * sizeof *cl);
        default_weights(n, cw);
        cw[n] = st->o.prior_weight;
        double sum = 0;
        for (size_t i = 0; i <= n; i++)
            sum += cw[i];
        for (size_t i = 0; i <= n; i++) {
            cw[i] /= sum;
            cl[i] = log(cw[i]);
        }
        st->wc[slot].n = n;
    }
    memcpy(w, cw, (n + 1) * sizeof *w);
    memcpy(logw, cl, (n + 1) * sizeof *logw);
}

typedef struct sort_mu {
    double mu;
    size_t i;
} sort_mu;

#define KEY_NONE UINT64_MAX /* no key of a number is all ones (that is a NaN's) */

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
 * the key of mu, skipping the bytes every key shares. qsort's callback was a quarter of TPE's
 * time at a thousand trials, a merge sort still an eighth; tpe_order keeps the order between
 * asks, so this runs when it is built afresh. */
static void sort_mus(sort_mu *a, size_t n)
{
    if (n < 2)
        return;
    uint64_t *key = cn_xmalloc(2 * n * sizeof *key), *kt = key + n;
    sort_mu *tmp = cn_xmalloc(n * sizeof *tmp), *src = a, *dst = tmp;
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

/* The neighbour-distance bandwidths of Optuna 3.1 from the k centres sorted by (mu, i). */
static void sorted_sigmas(const tpe_opts *o, const sort_mu *s, size_t k, double L, double H,
                          double *sigma)
{
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
}

/* The same, sorting the centres mu[0 .. k) (the prior centre takes part in the sort). */
static void neighbour_sigmas(const tpe_opts *o, const double *mu, size_t k, double L, double H,
                             double *sigma)
{
    sort_mu *s = cn_xmalloc(k * sizeof *s);
    for (size_t i = 0; i < k; i++) {
        s[i].mu = mu[i];
        s[i].i = i;
    }
    sort_mus(s, k);
    sorted_sigmas(o, s, k, L, H, sigma);
    free(s);
}

/* Fills value, mu and key of position b from the observation x. */
static void order_entry(const cn_param *p, size_t pi, const obs *x, double *value, double *mu,
                        uint64_t *key)
{
    *value = x->t->params[pi];
    *mu = isnan(*value) ? NAN : cn_param_encode(p, *value);
    *key = isnan(*value) ? KEY_NONE : mu_key(*mu);
}

static bool same_bits(double a, double b)
{
    return memcmp(&a, &b, sizeof a) == 0;
}

static void order_alloc(int64_t **number, double **value, double **mu, uint64_t **key,
                        size_t **sorted, size_t n)
{
    *number = cn_xmalloc((n + 1) * sizeof **number);
    *value = cn_xmalloc((n + 1) * sizeof **value);
    *mu = cn_xmalloc((n + 1) * sizeof **mu);
    *key = cn_xmalloc((n + 1) * sizeof **key);
    *sorted = cn_xmalloc((n + 1) * sizeof **sorted);
}

static void order_release(tpe_order *c)
{
    free(c->number);
    free(c->value);
    free(c->mu);
    free(c->key);
    free(c->sorted);
}

/* Builds the order of parameter pi afresh from ob[0 .. n_obs) (trial-number order). */
static void order_rebuild(tpe_order *c, const cn_param *p, size_t pi, const obs *ob, size_t n_obs,
                          bool reusable)
{
    order_release(c);
    order_alloc(&c->number, &c->value, &c->mu, &c->key, &c->sorted, n_obs);
    sort_mu *s = cn_xmalloc((n_obs + 1) * sizeof *s);
    size_t k = 0;
    for (size_t b = 0; b < n_obs; b++) {
        c->number[b] = ob[b].t->number;
        order_entry(p, pi, &ob[b], &c->value[b], &c->mu[b], &c->key[b]);
        if (c->key[b] != KEY_NONE)
            s[k++] = (sort_mu){c->mu[b], b};
    }
    sort_mus(s, k);
    for (size_t r = 0; r < k; r++)
        c->sorted[r] = s[r].i;
    free(s);
    c->n = n_obs;
    c->n_sorted = k;
    c->reusable = reusable;
}

/* Brings the order of parameter pi up to date with the observations ob[0 .. n_obs) (trial
 * number order): trials gone from the history are dropped and new ones merged in, O(n) for
 * the tell of one trial. A trial whose value changed, many new trials or numbers that repeat
 * build it afresh. */
static void order_update(tpe_order *c, const cn_param *p, size_t pi, const obs *ob, size_t n_obs)
{
    bool rising = true;
    for (size_t b = 1; b < n_obs && rising; b++)
        rising = ob[b].t->number > ob[b - 1].t->number;
    size_t old_n = c->reusable ? c->n : 0, old_sorted = c->reusable ? c->n_sorted : 0;
    if (!rising || n_obs < old_n || n_obs - old_n > 32) {
        order_rebuild(c, p, pi, ob, n_obs, rising);
        return;
    }
    tpe_order nw = {.n = n_obs, .reusable = true};
    order_alloc(&nw.number, &nw.value, &nw.mu, &nw.key, &nw.sorted, n_obs);
    size_t *newpos = cn_xmalloc((old_n + 1) * sizeof *newpos);
    size_t *fresh = cn_xmalloc((n_obs + 1) * sizeof *fresh), n_fresh = 0, a = 0;
    bool same = true;
    for (size_t b = 0; b < n_obs && same; b++) {
        nw.number[b] = ob[b].t->number;
        while (a < old_n && c->number[a] < nw.number[b])
            newpos[a++] = SIZE_MAX; /* gone */
        if (a < old_n && c->number[a] == nw.number[b]) {
            nw.value[b] = ob[b].t->params[pi];
            same = same_bits(c->value[a], nw.value[b]);
            nw.mu[b] = c->mu[a];
            nw.key[b] = c->key[a];
            newpos[a++] = b;
        } else {
            order_entry(p, pi, &ob[b], &nw.value[b], &nw.mu[b], &nw.key[b]);
            if (nw.key[b] != KEY_NONE)
                fresh[n_fresh++] = b;
        }
    }
    while (a < old_n)
        newpos[a++] = SIZE_MAX;
    if (!same || n_fresh > 32) {
        order_release(&nw);
        free(newpos);
        free(fresh);
        order_rebuild(c, p, pi, ob, n_obs, true);
        return;
    }
    /* the new ones by (key, position), then merged with the kept ones */
    const uint64_t *key = nw.key;
    for (size_t i = 1; i < n_fresh; i++) {
        size_t f = fresh[i], at = i;
        for (; at > 0 && key[fresh[at - 1]] > key[f]; at--)
            fresh[at] = fresh[at - 1];
        fresh[at] = f;
    }
    size_t m = 0, f = 0;
    for (size_t r = 0; r < old_sorted; r++) {
        size_t np = newpos[c->sorted[r]];
        if (np == SIZE_MAX)
            continue;
        while (f < n_fresh &&
               (key[fresh[f]] < key[np] || (key[fresh[f]] == key[np] && fresh[f] < np)))
            nw.sorted[m++] = fresh[f++];
        nw.sorted[m++] = np;
    }
    while (f < n_fresh)
        nw.sorted[m++] = fresh[f++];
    nw.n_sorted = m;
    order_release(c);
    free(newpos);
    free(fresh);
    *c = nw;
}

/* ---- the score: log l(x) - log g(x) over arrays of components ---- */

/* log sum_i e^t_i: a pass for the largest term, one for the exps and their sum, four components at
 * a time in vectors of the GNU C extension (on plain x86-64 the compiler makes each two SSE2
 * operations; scalar code elsewhere). e^x is computed inline, with no branch and no call:
 * Cody-Waite reduction x = k ln 2 + r, |r| <= ln 2 / 2, the Taylor polynomial of degree 12 for e^r
 * (its error below 2e-16 relative) and 2^k from the exponent bits, within a few ulp of exp(). Below
 * -708 it gives e^-708, which a sum holding 1 (the largest term's) does not notice. */
#define EXP_MIN (-708.0)
#define EXP_SHIFT 0x1.8p52 /* adding it rounds to an integer held in the low mantissa bits */
#define LOG2E 1.44269504088896338700
#define LN2_HI 6.93147180369123816490e-01 /* ln 2 in 32 bits: k * LN2_HI is exact */
#define LN2_LO 1.90821492927058770002e-10
#define EXP_POLY(p, r)                                                                             \
    do {                                                                                           \
        p = r * (1.0 / 479001600) + 1.0 / 39916800;                                                \
        p = p * r + 1.0 / 3628800;                                                                 \
        p = p * r + 1.0 / 362880;                                                                  \
        p = p * r + 1.0 / 40320;                                                                   \
        p = p * r + 1.0 / 5040;                                                                    \
        p = p * r + 1.0 / 720;                                                                     \
        p = p * r + 1.0 / 120;                                                                     \
        p = p * r + 1.0 / 24;                                                                      \
        p = p * r + 1.0 / 6;                                                                       \
        p = p * r + 0.5;                                                                           \
        p = p * r + 1.0;                                                                           \
        p = p * r + 1.0;                                                                           \
    } while (0)

typedef union bits64 {
    double d;
    uint64_t u;
} bits64;

static inline double exp_le0(double x)
{
    x = x < EXP_MIN ? EXP_MIN : x;
    double kd = x * LOG2E + EXP_SHIFT;
    bits64 k = {kd}, sc;
    kd -= EXP_SHIFT;
    double r = (x - kd * LN2_HI) - kd * LN2_LO, p;
    EXP_POLY(p, r);
    sc.u = (k.u + 1023) << 52;
    return p * sc.d;
}

/* The scoring loops run once per component per candidate: on x86-64 with AVX2 (the CPU is asked
 * at load time) a copy compiled for it does four components per instruction instead of two.
 * Not under ThreadSanitizer: the loader runs an ifunc resolver before the sanitizer's runtime
 * is up, and the instrumented resolver crashes every program that links libcairn. */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__) &&       \
    !defined(__SANITIZE_THREAD__)
#define SCORE_CLONES __attribute__((target_clones("arch=x86-64-v3", "default")))
#else
#define SCORE_CLONES
#endif

#if defined(__GNUC__)
typedef double v4d __attribute__((vector_size(32)));
typedef int64_t v4i __attribute__((vector_size(32)));  /* comparisons' masks */
typedef uint64_t v4u __attribute__((vector_size(32))); /* the exponent bits, shifted unsigned */

static inline double log_sum_exp(double *t, size_t n)
{
    double best = -INFINITY;
    size_t i = 0;
    if (n >= 4) {
        v4d m;
        memcpy(&m, t, sizeof m);
        for (i = 4; i + 4 <= n; i += 4) {
            v4d v;
            memcpy(&v, t + i, sizeof v);
            v4i gt = v > m;
            m = (v4d)(((v4i)v & gt) | ((v4i)m & ~gt));
        }
        for (size_t l = 0; l < 4; l++)
            best = m[l] > best ? m[l] : best;
    }
    for (; i < n; i++)
        best = t[i] > best ? t[i] : best;
    if (best == -INFINITY)
        return -INFINITY;
    v4d acc = {0, 0, 0, 0};
    for (i = 0; i + 4 <= n; i += 4) {
        v4d x;
        memcpy(&x, t + i, sizeof x);
        x -= best;
        v4i low = x < EXP_MIN;
        x = (v4d)(((v4i)x & ~low) | ((v4i)(x * 0 + EXP_MIN) & low));
        v4d kd = x * LOG2E + EXP_SHIFT;
        v4u k = (v4u)kd;
        kd -= EXP_SHIFT;
        v4d r = (x - kd * LN2_HI) - kd * LN2_LO, p;
        EXP_POLY(p, r);
        acc += p * (v4d)((k + 1023) << 52);
    }
    double sum = (acc[0] + acc[1]) + (acc[2] + acc[3]);
    for (; i < n; i++)
        sum += exp_le0(t[i] - best);
    return best + log(sum);
}
#else
static double log_sum_exp(double *t, size_t n)
{
    double best = -INFINITY;
    for (size_t i = 0; i < n; i++)
        best = t[i] > best ? t[i] : best;
    if (best == -INFINITY)
        return -INFINITY;
    double sum = 0;
    for (size_t i = 0; i < n; i++)
        sum += exp_le0(t[i] - best);
    return best + log(sum);
}
#endif

/* log sum_i e^t_i with libm's exp, term by term, leaving out terms 40 below the largest (each
 * adds less than 1e-17 of it). Categorical dimensions make mathematically equal scores (two
 * choices each observed once, in sets of equal weights): which of them wins is decided by
 * rounding, and this keeps the rounding of earlier versions, so that seeded studies propose
 * what they proposed before. The choices are few, and scores are kept per choice. */
static double log_sum_exp_exact(const double *t, size_t n)
{
    double best = -INFINITY;
    for (size_t i = 0; i < n; i++)
        if (t[i] > best)
            best = t[i];
    if (best == -INFINITY)
        return -INFINITY;
    double sum = 0, floor_t = best - 40;
    for (size_t i = 0; i < n; i++)
        if (t[i] > floor_t)
            sum += exp(t[i] - best);
    return best + log(sum);
}

/* Builds the mixture over the dimensions dims[0 .. d) from the observations of set (below or
 * above) that hold every one of them, in trial-number order. With neighbour bandwidths the
 * orders of st->order are up to date for those dimensions. */
static void mixture_build(tpe *st, const cairn_space *sp, const size_t *params, size_t d,
                          const obs *ob, size_t n_obs, bool below, mixture *m)
{
    const tpe_opts *o = &st->o;
    memset(m, 0, sizeof *m);
    size_t *use = cn_xmalloc((n_obs + 1) * sizeof *use); /* positions in ob */
    size_t n = 0;
    for (size_t i = 0; i < n_obs; i++) {
        if (ob[i].below != below)
            continue;
        bool has = true;
        for (size_t j = 0; j < d && has; j++)
            has = !isnan(ob[i].t->params[params[j]]);
        if (has)
            use[n++] = i;
    }
    size_t nc = m->n_comp = n + 1;
    m->w = cn_xmalloc(nc * sizeof *m->w);
    m->base = cn_xmalloc(nc * sizeof *m->base);
    mixture_weights(st, n, m->w, m->base);
    m->d = d;
    m->dims = cn_xcalloc(d ? d : 1, sizeof *m->dims);
    size_t *to_use = NULL; /* position in ob -> index in use */
    sort_mu *srt = NULL;
    if (!o->scott) {
        to_use = cn_xmalloc((n_obs + 1) * sizeof *to_use);
        for (size_t i = 0; i < n_obs; i++)
            to_use[i] = SIZE_MAX;
        for (size_t u = 0; u < n; u++)
            to_use[use[u]] = u;
        srt = cn_xmalloc(nc * sizeof *srt);
    }
    for (size_t j = 0; j < d; j++) {
        kdim *k = &m->dims[j];
        const cn_param *p = &sp->params[params[j]];
        k->p = p;
        k->index = params[j];
        k->is_cat = p->type == CAIRN_SPACE_PARAM_CATEGORICAL;
        if (k->is_cat) {
            size_t c = p->n_choices;
            k->logp = cn_xmalloc(c * nc * sizeof *k->logp);
            double w0 = o->prior_weight / (double)nc;
            double l_other = log((w0 + 0) / (1 + (double)c * w0));
            double l_obs = log((w0 + 1) / (1 + (double)c * w0));
            for (size_t x = 0; x < c; x++)
                for (size_t i = 0; i < n; i++)
                    k->logp[x * nc + i] =
                        (size_t)ob[use[i]].t->params[params[j]] == x ? l_obs : l_other;
            for (size_t x = 0; x < c; x++)
                k->logp[x * nc + n] = -log((double)c);
            continue;
        }
        double L = p->L, H = p->H;
        k->mu = cn_xmalloc(nc * sizeof *k->mu);
        k->sigma = cn_xmalloc(nc * sizeof *k->sigma);
        if (o->scott)
            for (size_t i = 0; i < n; i++)
                k->mu[i] = cn_param_encode(p, ob[use[i]].t->params[params[j]]);
        else /* the order holds them */
            for (size_t i = 0; i < n; i++)
                k->mu[i] = st->order[params[j]].mu[use[i]];
        k->mu[n] = L + 0.5 * (H - L);
        if (o->scott) {
            double sg = 0.2 * pow((double)(n > 1 ? n : 1), -1.0 / ((double)d + 4)) * (H - L);
            for (size_t i = 0; i < n; i++)
                k->sigma[i] = sg;
        } else {
            /* The kept order of all observations, filtered to this set, with the prior centre
             * after the centres equal to or below it: what sorting (mu, i) gives. */
            const tpe_order *c = &st->order[params[j]];
            uint64_t prior_key = mu_key(k->mu[n]);
            size_t ks = 0, seen = 0;
            bool prior_in = false;
            for (size_t r = 0; r < c->n_sorted && ks < nc; r++) {
                size_t u = to_use[c->sorted[r]];
                if (u == SIZE_MAX)
                    continue;
                if (!prior_in && c->key[c->sorted[r]] > prior_key) {
                    srt[ks++] = (sort_mu){k->mu[n], n};
                    prior_in = true;
                }
                if (ks < nc) {
                    srt[ks++] = (sort_mu){k->mu[u], u};
                    seen++;
                }
            }
            if (!prior_in && ks < nc) {
                srt[ks++] = (sort_mu){k->mu[n], n};
                prior_in = true;
            }
            if (prior_in && seen == n)
                sorted_sigmas(o, srt, nc, L, H, k->sigma);
            else /* the order does not cover this set: sort it here */
                neighbour_sigmas(o, k->mu, nc, L, H, k->sigma);
        }
        double maxs = H - L;
        double mins = o->magic_clip ? (H - L) / fmin(100.0, 1.0 + (double)nc) : 1e-12;
        for (size_t i = 0; i < n; i++)
            k->sigma[i] = k->sigma[i] < mins ? mins : k->sigma[i] > maxs ? maxs : k->sigma[i];
        k->sigma[n] = maxs;
        k->norm = cn_xmalloc(nc * sizeof *k->norm);
        double last_sigma = NAN, last_log = 0; /* most sigmas repeat (clip, Scott's rule) */
        for (size_t i = 0; i < nc; i++) {
            double a = (L - k->mu[i]) / k->sigma[i], b = (H - k->mu[i]) / k->sigma[i];
            /* Beyond 8.3 standard deviations on both sides the mass is 1 in doubles. */
            double lz = a < -8.3 && b > 8.3 ? 0
                        : a <= 0 && b >= 0  ? log_inner_mass(a, b)
                                            : log_mass(a, b);
            if (!(p->q > 0) && k->sigma[i] != last_sigma) {
                last_sigma = k->sigma[i];
                last_log = log(last_sigma);
            }
            k->norm[i] = lz + (p->q > 0 ? 0 : (o->unscaled ? 0 : last_log) + LOG_SQRT_2PI);
            m->base[i] -= k->norm[i];
        }
        if (!(p->q > 0)) {
            k->inv = cn_xmalloc(nc * sizeof *k->inv);
            for (size_t i = 0; i < nc; i++)
                k->inv[i] = 1 / k->sigma[i];
        }
    }
    m->all_cat = true;
    for (size_t j = 0; j < d; j++)
        m->all_cat = m->all_cat && m->dims[j].is_cat;
    free(srt);
    free(to_use);
    free(use);
}

/* Draws one coordinate vector y[0 .. d) from the mixture: one component for all dimensions. */
static void mixture_sample(const mixture *m, cn_rng *r, double *y)
{
    double u = cn_rng_uniform(r), acc = 0;
    size_t nc = m->n_comp, c = nc - 1;
    for (size_t i = 0; i < nc; i++) {
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
                a += exp(k->logp[i * nc + c]);
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

/* log sum_i w_i prod_j k_ij(y_j); terms is scratch room for n_comp doubles. Dimension by
 * dimension over all components, each a loop without branches (the compiler vectorises them):
 * the term of component i is base_i plus its kernels' log densities at y. */
SCORE_CLONES static double mixture_logpdf(const mixture *m, const double *y, double *terms)
{
    size_t n = m->n_comp;
    memcpy(terms, m->base, n * sizeof *terms);
    for (size_t j = 0; j < m->d; j++) {
        const kdim *k = &m->dims[j];
        const cn_param *p = k->p;
        if (k->is_cat) {
            const double *col = k->logp + (size_t)y[j] * n;
            for (size_t i = 0; i < n; i++)
                terms[i] += col[i];
        } else if (p->q > 0) {
            double lo = y[j] - p->q / 2, hi = y[j] + p->q / 2;
            lo = lo < p->L ? p->L : lo;
            hi = hi > p->H ? p->H : hi;
            const double *mu = k->mu, *sg = k->sigma;
            for (size_t i = 0; i < n; i++)
                terms[i] += log_mass((lo - mu[i]) / sg[i], (hi - mu[i]) / sg[i]);
        } else {
            const double *mu = k->mu, *inv = k->inv;
            double yj = y[j];
            for (size_t i = 0; i < n; i++) {
                double z = (yj - mu[i]) * inv[i];
                terms[i] -= 0.5 * z * z;
            }
        }
    }
    return m->all_cat ? log_sum_exp_exact(terms, n) : log_sum_exp(terms, n);
}

/* Samples the parameters params[0 .. d) jointly: n_ei candidates from l, the best ratio. */
static void sample_joint(tpe *st, const cairn_space *sp, const size_t *params, size_t d,
                         const obs *ob, size_t n_obs, cn_rng *r, double *out)
{
    const tpe_opts *o = &st->o;
    if (!o->scott)
        for (size_t j = 0; j < d; j++)
            if (sp->params[params[j]].type != CAIRN_SPACE_PARAM_CATEGORICAL)
                order_update(&st->order[params[j]], &sp->params[params[j]], params[j], ob, n_obs);
    mixture l, g;
    mixture_build(st, sp, params, d, ob, n_obs, true, &l);
    mixture_build(st, sp, params, d, ob, n_obs, false, &g);
    double *y = cn_xcalloc(d, sizeof *y), *best = cn_xcalloc(d, sizeof *best);
    double best_score = -INFINITY;
    double *terms = cn_xmalloc((l.n_comp > g.n_comp ? l.n_comp : g.n_comp) * sizeof *terms);
    /* One discrete dimension (categorical or stepped): candidates repeat values, whose score
     * is computed once. */
    bool memo = d == 1 && (sp->params[params[0]].type == CAIRN_SPACE_PARAM_CATEGORICAL ||
                           sp->params[params[0]].q > 0);
    double *seen_y = memo ? cn_xmalloc((size_t)o->n_ei * sizeof *seen_y) : NULL;
    double *seen_s = memo ? cn_xmalloc((size_t)o->n_ei * sizeof *seen_s) : NULL;
    size_t n_seen = 0;
    for (int64_t c = 0; c < o->n_ei; c++) {
        mixture_sample(&l, r, y);
        size_t at = 0;
        while (at < n_seen && !same_bits(seen_y[at], y[0]))
            at++;
        double score;
        if (memo && at < n_seen) {
            score = seen_s[at];
        } else {
            score = mixture_logpdf(&l, y, terms) - mixture_logpdf(&g, y, terms);
            if (memo) {
                seen_y[n_seen] = y[0];
                seen_s[n_seen++] = score;
            }
        }
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
    free(seen_y);
    free(seen_s);
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

/* Marks as below the n_below observations that come first by by_key (Optuna's split):
 * insertion into the few kept, instead of sorting them all. */
static void mark_below(obs *ob, size_t n_obs, size_t n_below)
{
    size_t *top = cn_xmalloc((n_below + 1) * sizeof *top), k = 0;
    for (size_t i = 0; i < n_obs; i++) {
        ob[i].below = false;
        if (k == n_below && (k == 0 || by_key(&ob[i], &ob[top[k - 1]]) >= 0))
            continue;
        size_t at = k < n_below ? k++ : k - 1; /* when full, the last drops out */
        for (; at > 0 && by_key(&ob[i], &ob[top[at - 1]]) < 0; at--)
            top[at] = top[at - 1];
        top[at] = i;
    }
    for (size_t r = 0; r < k; r++)
        ob[top[r]].below = true;
    free(top);
}

static cairn_status tpe_ask(cairn_sampler *s, const cairn_history *h, int64_t number,
                            double *params)
{
    tpe *st = s->impl;
    const tpe_opts *o = &st->o;
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
    size_t n_below = (size_t)ceil(0.1 * (double)n_fin);
    if (n_below > 25)
        n_below = 25;
    mark_below(ob, n_obs, n_below);

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
            sample_joint(st, sp, set, d, ob, n_obs, &r, joint);
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
            sample_joint(st, sp, set, d, ob, n_obs, &r, joint);
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
            sample_joint(st, sp, &i, 1, ob, n_obs, &r, params); /* independent */
    }
    free(joint);
    free(in_joint);
    free(set);
    free(ob);
    return CAIRN_OK;
}

const cn_sampler_ops cn_sampler_tpe_ops = {"tpe", tpe_create, tpe_ask, tpe_free};
