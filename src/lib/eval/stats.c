/* SPDX-License-Identifier: MIT */
/* stats.c - distributions (normal, Student t, chi-square through our own regularized incomplete
 * beta and gamma functions) and the tests used to compare models: paired t-test, Wilcoxon
 * signed-rank and McNemar, with SciPy 1.10 / statsmodels definitions. */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "cairn/eval.h"
#include "core/core.h"
#include "base/xmalloc.h"
#include "eval/evalint.h"
#include "base/banned.h"

#define CF_MAX_ITER 10000
#define CF_EPS 1e-16
#define CF_TINY 1e-300

/* One step of the modified Lentz method with partial numerator num (denominator 1): updates
 * c and d and returns the factor that multiplies the fraction. */
static double lentz_step(double num, double *c, double *d)
{
    *d = 1.0 + num * *d;
    *c = 1.0 + num / *c;
    if (fabs(*d) < CF_TINY)
        *d = CF_TINY;
    if (fabs(*c) < CF_TINY)
        *c = CF_TINY;
    *d = 1.0 / *d;
    return *d * *c;
}

/* The continued fraction of I_x(a, b) by the modified Lentz method (its even and odd steps as
 * in Abramowitz & Stegun 26.5.8); converges fast for x < (a + 1) / (a + b + 2). */
static double beta_fraction(double a, double b, double x)
{
    double c = 1.0, d = 1.0 - (a + b) * x / (a + 1.0);
    if (fabs(d) < CF_TINY)
        d = CF_TINY;
    d = 1.0 / d;
    double h = d;
    for (int m = 1; m <= CF_MAX_ITER; m++) {
        double m2 = 2.0 * m;
        /* even step: d_{2m} = m (b - m) x / ((a + 2m - 1)(a + 2m)) */
        h *= lentz_step(m * (b - m) * x / ((a + m2 - 1.0) * (a + m2)), &c, &d);
        /* odd step: d_{2m+1} = -(a + m)(a + b + m) x / ((a + 2m)(a + 2m + 1)) */
        double delta = lentz_step(-(a + m) * (a + b + m) * x / ((a + m2) * (a + m2 + 1.0)), &c, &d);
        h *= delta;
        if (fabs(delta - 1.0) < CF_EPS)
            break;
    }
    return h;
}

double cairn_stats_betainc(double a, double b, double x)
{
    if (!(a > 0) || !(b > 0) || !(x >= 0 && x <= 1))
        return NAN;
    if (x == 0)
        return 0.0;
    if (x == 1)
        return 1.0;
    double log_front = lgamma(a + b) - lgamma(a) - lgamma(b) + a * log(x) + b * log1p(-x);
    if (x < (a + 1.0) / (a + b + 2.0))
        return exp(log_front) * beta_fraction(a, b, x) / a;
    /* symmetry I_x(a, b) = 1 - I_{1-x}(b, a) where the fraction converges */
    return 1.0 - exp(log_front) * beta_fraction(b, a, 1.0 - x) / b;
}

/* P(a, x) by its power series; for x < a + 1. */
static double gamma_series(double a, double x)
{
    double ap = a, sum = 1.0 / a, del = sum;
    for (int n = 0; n < CF_MAX_ITER; n++) {
        ap += 1.0;
        del *= x / ap;
        sum += del;
        if (fabs(del) < fabs(sum) * CF_EPS)
            break;
    }
    return sum * exp(-x + a * log(x) - lgamma(a));
}

/* Q(a, x) by its continued fraction (Lentz); for x >= a + 1. */
static double gamma_fraction(double a, double x)
{
    double b = x + 1.0 - a, c = 1.0 / CF_TINY, d = 1.0 / b, h = d;
    for (int i = 1; i <= CF_MAX_ITER; i++) {
        double an = -i * (i - a);
        b += 2.0;
        d = an * d + b;
        if (fabs(d) < CF_TINY)
            d = CF_TINY;
        c = b + an / c;
        if (fabs(c) < CF_TINY)
            c = CF_TINY;
        d = 1.0 / d;
        double delta = d * c;
        h *= delta;
        if (fabs(delta - 1.0) < CF_EPS)
            break;
    }
    return exp(-x + a * log(x) - lgamma(a)) * h;
}

/* P(a, x), or Q(a, x) = 1 - P(a, x) when upper: each from the series or the fraction, whichever
 * converges at x, the other one as its complement. */
static double gamma_regularized(double a, double x, bool upper)
{
    if (!(a > 0) || !(x >= 0))
        return NAN;
    if (x == 0)
        return upper ? 1.0 : 0.0;
    if (isinf(x))
        return upper ? 0.0 : 1.0;
    if (x < a + 1.0)
        return upper ? 1.0 - gamma_series(a, x) : gamma_series(a, x);
    return upper ? gamma_fraction(a, x) : 1.0 - gamma_fraction(a, x);
}

double cairn_stats_gammainc(double a, double x)
{
    return gamma_regularized(a, x, false);
}

double cairn_stats_gammaincc(double a, double x)
{
    return gamma_regularized(a, x, true);
}

double cairn_stats_chi2_sf(double x, double df)
{
    if (!(df > 0) || isnan(x))
        return NAN;
    if (x <= 0)
        return 1.0;
    return cairn_stats_gammaincc(df / 2.0, x / 2.0);
}

double cairn_stats_normal_cdf(double z)
{
    return 0.5 * erfc(-z / sqrt(2.0));
}

/* The two-sided tail 2 P(T > |t|) of Student's t with df degrees of freedom. */
static double t_two_sided(double t, double df)
{
    if (isinf(t))
        return 0.0;
    return cairn_stats_betainc(df / 2.0, 0.5, df / (df + t * t));
}

double cairn_stats_t_cdf(double t, double df)
{
    if (isnan(t) || !(df > 0))
        return NAN;
    double tail = 0.5 * t_two_sided(t, df);
    return t > 0 ? 1.0 - tail : tail;
}

/* Solves cdf(x) = p for an increasing cdf by Newton steps kept inside a bisection bracket. */
static double invert_cdf(double p, double (*cdf)(double, double), double (*pdf)(double, double),
                         double param)
{
    double lo = -1.0, hi = 1.0;
    while (cdf(lo, param) > p && lo > -1e300)
        lo *= 2;
    while (cdf(hi, param) < p && hi < 1e300)
        hi *= 2;
    double x = 0.5 * (lo + hi);
    for (int i = 0; i < 400; i++) {
        double f = cdf(x, param) - p;
        if (f == 0)
            return x;
        if (f < 0)
            lo = x;
        else
            hi = x;
        double dens = pdf(x, param), next = dens > 0 ? x - f / dens : NAN;
        if (!(next > lo && next < hi))
            next = 0.5 * (lo + hi);
        if (fabs(next - x) <= 4 * DBL_EPSILON * fabs(x) || hi - lo <= DBL_MIN) {
            x = next;
            break;
        }
        x = next;
    }
    return x;
}

static double normal_cdf2(double z, double unused)
{
    (void)unused;
    return cairn_stats_normal_cdf(z);
}

static double normal_pdf2(double z, double unused)
{
    (void)unused;
    return exp(-0.5 * z * z) / sqrt(2.0 * M_PI);
}

static double t_pdf(double t, double df)
{
    double lg = lgamma((df + 1) / 2) - lgamma(df / 2) - 0.5 * log(df * M_PI);
    return exp(lg - (df + 1) / 2 * log1p(t * t / df));
}

double cairn_stats_normal_quantile(double p)
{
    if (!(p > 0 && p < 1))
        return p == 0 ? -INFINITY : p == 1 ? INFINITY : NAN;
    if (p > 0.5)
        return -invert_cdf(1.0 - p, normal_cdf2, normal_pdf2, 0);
    return invert_cdf(p, normal_cdf2, normal_pdf2, 0);
}

double cairn_stats_t_quantile(double p, double df)
{
    if (!(df > 0))
        return NAN;
    if (!(p > 0 && p < 1))
        return p == 0 ? -INFINITY : p == 1 ? INFINITY : NAN;
    if (p > 0.5)
        return -invert_cdf(1.0 - p, cairn_stats_t_cdf, t_pdf, df);
    return invert_cdf(p, cairn_stats_t_cdf, t_pdf, df);
}

static void result_init(cairn_test_result *out)
{
    memset(out, 0, sizeof *out);
}

cairn_status cairn_stats_ttest_paired(cairn_ctx *ctx, const double *a, const double *b, size_t n,
                                      cairn_test_result *out)
{
    result_init(out);
    if (n < 2)
        return cn_fail(ctx, CAIRN_EINVAL, "paired t-test needs at least 2 pairs, got %zu", n);
    cairn_status rc = cn_eval_check_finite(ctx, a, n, "a");
    if (rc == CAIRN_OK)
        rc = cn_eval_check_finite(ctx, b, n, "b");
    if (rc != CAIRN_OK)
        return rc;
    double mean = 0;
    for (size_t i = 0; i < n; i++)
        mean += a[i] - b[i];
    mean /= (double)n;
    double ss = 0;
    for (size_t i = 0; i < n; i++) {
        double d = (a[i] - b[i]) - mean;
        ss += d * d;
    }
    double var = ss / (double)(n - 1), df = (double)(n - 1);
    double t = mean / sqrt(var / (double)n);
    out->statistic = t;
    out->df = df;
    out->pvalue = isnan(t) ? NAN : t_two_sided(t, df);
    return CAIRN_OK;
}

/* Counts of the signed-rank sum R+ over all 2^n sign patterns of ranks 1..n. */
static double *wilcoxon_counts(size_t n, size_t *n_sums)
{
    size_t max = n * (n + 1) / 2;
    double *c = cn_xcalloc(max + 1, sizeof *c);
    c[0] = 1;
    size_t top = 0;
    for (size_t k = 1; k <= n; k++) {
        top += k;
        for (size_t s = top; s >= k; s--)
            c[s] += c[s - k];
    }
    *n_sums = max + 1;
    return c;
}

cairn_status cairn_stats_wilcoxon(cairn_ctx *ctx, const double *a, const double *b, size_t n,
                                  cairn_test_result *out)
{
    result_init(out);
    cairn_status rc = cn_eval_check_finite(ctx, a, n, "a");
    if (rc == CAIRN_OK)
        rc = cn_eval_check_finite(ctx, b, n, "b");
    if (rc != CAIRN_OK)
        return rc;
    double *d = cn_xmalloc(n * sizeof *d), *r = cn_xmalloc(n * sizeof *r);
    size_t m = 0, zeros = 0;
    for (size_t i = 0; i < n; i++) {
        double v = a[i] - b[i];
        if (v == 0)
            zeros++;
        else
            d[m++] = v;
    }
    if (m == 0) {
        rc = cn_fail(ctx, CAIRN_EINVAL,
                     "wilcoxon test: every difference is zero; the test is undefined");
        goto done;
    }
    double *absd = cn_xmalloc(m * sizeof *absd);
    for (size_t i = 0; i < m; i++)
        absd[i] = fabs(d[i]);
    cn_eval_rankdata(absd, m, r);
    free(absd);
    double r_plus = 0, r_minus = 0;
    for (size_t i = 0; i < m; i++) {
        if (d[i] > 0)
            r_plus += r[i];
        else
            r_minus += r[i];
    }
    /* The tie correction of the normal approximation: sum of t^3 - t over tied groups. */
    double *sorted = cn_xmemdup(r, m * sizeof *sorted);
    cn_eval_sort(sorted, m);
    double tie_term = 0;
    for (size_t i = 0; i < m;) {
        size_t j = i;
        while (j + 1 < m && sorted[j + 1] == sorted[i])
            j++;
        double t = (double)(j - i + 1);
        if (t > 1)
            tie_term += t * (t * t - 1);
        i = j + 1;
    }
    free(sorted);
    double T = r_plus < r_minus ? r_plus : r_minus;
    out->statistic = T;
    /* SciPy 1.10's mode='auto': exact when n <= 50 and no difference is zero, ties included
     * (R+ truncated to an integer, as scipy.stats.wilcoxon does). */
    if (n <= 50 && zeros == 0) {
        size_t n_sums;
        double *c = wilcoxon_counts(m, &n_sums);
        size_t rp = (size_t)r_plus;
        double total = ldexp(1.0, (int)m);
        if (rp == (n_sums - 1) / 2) {
            out->pvalue = 1.0;
        } else {
            double less = 0, greater = 0;
            for (size_t s = 0; s <= rp; s++)
                less += c[s];
            for (size_t s = rp; s < n_sums; s++)
                greater += c[s];
            double p = 2 * (less < greater ? less : greater) / total;
            out->pvalue = p > 1 ? 1 : p;
        }
        out->exact = true;
        free(c);
    } else {
        double cnt = (double)m;
        double mn = cnt * (cnt + 1.0) * 0.25;
        double se = cnt * (cnt + 1.0) * (2.0 * cnt + 1.0);
        se -= 0.5 * tie_term;
        se = sqrt(se / 24);
        double z = (T - mn) / se;
        out->z = z;
        out->pvalue = 2.0 * (0.5 * erfc(fabs(z) / sqrt(2.0)));
    }
done:
    free(d);
    free(r);
    return rc;
}

cairn_status cairn_stats_mcnemar(cairn_ctx *ctx, int64_t n01, int64_t n10, bool exact,
                                 cairn_test_result *out)
{
    result_init(out);
    if (n01 < 0 || n10 < 0)
        return cn_fail(ctx, CAIRN_EINVAL, "mcnemar counts %lld and %lld must not be negative",
                       (long long)n01, (long long)n10);
    double n1 = (double)n01, n2 = (double)n10, total = n1 + n2;
    if (exact) {
        double k = n1 < n2 ? n1 : n2;
        out->statistic = k;
        out->exact = true;
        /* Binomial(total, 1/2) CDF at k = I_{1/2}(total - k, k + 1), as SciPy's bdtr. */
        double cdf = total - k <= 0 ? 1.0 : cairn_stats_betainc(total - k, k + 1, 0.5);
        double p = 2 * cdf;
        out->pvalue = p > 1 ? 1 : p;
        return CAIRN_OK;
    }
    out->df = 1;
    if (total == 0) {
        out->statistic = NAN;
        out->pvalue = NAN;
        return CAIRN_OK;
    }
    double diff = fabs(n1 - n2) - 1.0;
    out->statistic = diff * diff / total;
    out->pvalue = cairn_stats_chi2_sf(out->statistic, 1);
    return CAIRN_OK;
}

cairn_status cairn_stats_mcnemar_predictions(cairn_ctx *ctx, const int32_t *y_true,
                                             const int32_t *pred_a, const int32_t *pred_b, size_t n,
                                             bool exact, cairn_test_result *out)
{
    result_init(out);
    if (n == 0)
        return cn_fail(ctx, CAIRN_EINVAL, "'y_true' is empty; give at least one row");
    int64_t n01 = 0, n10 = 0;
    for (size_t i = 0; i < n; i++) {
        bool ra = pred_a[i] == y_true[i], rb = pred_b[i] == y_true[i];
        n01 += ra && !rb;
        n10 += !ra && rb;
    }
    return cairn_stats_mcnemar(ctx, n01, n10, exact, out);
}
