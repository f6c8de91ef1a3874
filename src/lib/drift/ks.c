/* SPDX-License-Identifier: MIT */
/* ks.c - the two-sample Kolmogorov-Smirnov test as scipy.stats.ks_2samp computes it: the
 * statistic by a merge of the sorted samples, the exact p-value by lattice-path counting
 * (Hodges 1958; the inside-method recursion of Viehmann 2021 for n1 != n2), and the asymptotic
 * one from the distribution of the one-sample statistic kstwo(round(n1 n2 / (n1 + n2))),
 * computed as Simard and L'Ecuyer (2011) choose between Ruben-Gambino, Durbin's matrix
 * (Marsaglia-Tsang-Wang 2003), Pomeranz's recursion, Pelz-Good and Smirnov's formula. */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "drift/drift_internal.h"
#include "core/core.h"
#include "base/xmalloc.h"
#include "base/banned.h"

#define KS_MAX_AUTO_N 10000
#define SCALE_EXP 128

static const double PI = 3.14159265358979323846;

/* ---- the statistic ---- */

double cn_drift_ks_stat(const double *a, size_t n_a, const double *b, size_t n_b)
{
    size_t i = 0, j = 0;
    double max_s = 0, min_s = 0; /* max of cdf_a - cdf_b and of cdf_b - cdf_a */
    while (i < n_a || j < n_b) {
        double v = i < n_a && (j >= n_b || a[i] <= b[j]) ? a[i] : b[j];
        while (i < n_a && a[i] <= v)
            i++;
        while (j < n_b && b[j] <= v)
            j++;
        double diff = (double)i / (double)n_a - (double)j / (double)n_b;
        if (diff > max_s)
            max_s = diff;
        if (-diff > min_s)
            min_s = -diff;
    }
    return min_s > max_s ? min_s : max_s;
}

/* ---- exact p-values ---- */

static size_t gcd(size_t a, size_t b)
{
    while (b) {
        size_t t = a % b;
        a = b;
        b = t;
    }
    return a;
}

/* Pr(D_{n,n} >= h/n) = 2 (A0 (1 - A1 (1 - A2 (...)))), each Ai a ratio of binomials. */
static double prob_outside_square(size_t n, size_t h)
{
    double p = 0;
    for (long k = (long)(n / h); k >= 0; k--) {
        double p1 = 1.0;
        for (size_t j = 0; j < h; j++)
            p1 = ((double)n - (double)k * (double)h - (double)j) * p1 /
                 ((double)n + (double)k * (double)h + (double)j + 1);
        p = p1 * (1.0 - p);
    }
    return 2 * p;
}

/* The share of lattice paths from (0,0) to (m,n) that leave the band |x/m - y/n| < h/lcm,
 * computed directly as 1 - (inside share) column by column over a sliding window. */
static double outer_prob_inside(size_t m, size_t n, size_t g, size_t h)
{
    if (m < n) {
        size_t t = m;
        m = n;
        n = t;
    }
    double mg = (double)(m / g), ng = (double)(n / g), hd = (double)h;
    long minj = 0, maxj = (long)ceil(hd / mg);
    if (maxj > (long)n + 1)
        maxj = (long)n + 1;
    long curlen = maxj - minj;
    long len_a = 2 * maxj + 2 < (long)n + 1 ? 2 * maxj + 2 : (long)n + 1;
    double *a = cn_xmalloc((size_t)(len_a > 0 ? len_a : 1) * sizeof *a);
    for (long k = 0; k < len_a; k++)
        a[k] = 1.0;
    for (long k = minj; k < maxj && k < len_a; k++)
        a[k] = 0.0;
    for (size_t i = 1; i <= m; i++) {
        long lastminj = minj, lastlen = curlen;
        minj = (long)floor((ng * (double)i - hd) / mg) + 1;
        if (minj < 0)
            minj = 0;
        if (minj > (long)n)
            minj = (long)n;
        maxj = (long)ceil((ng * (double)i + hd) / mg);
        if (maxj > (long)n + 1)
            maxj = (long)n + 1;
        if (maxj <= minj) {
            free(a);
            return 1.0;
        }
        double val = minj == 0 ? 0.0 : 1.0;
        for (long jj = 0; jj < maxj - minj; jj++) {
            long j = jj + minj;
            long src = jj + minj - lastminj;
            double prev = src >= 0 && src < len_a ? a[src] : 1.0;
            val = (prev * (double)i + val * (double)j) / ((double)i + (double)j);
            if (jj < len_a)
                a[jj] = val;
        }
        curlen = maxj - minj;
        for (long k = maxj - minj; k < maxj - minj + (lastlen - curlen) && k < len_a; k++)
            a[k] = 1.0;
    }
    double r = a[maxj - minj - 1];
    free(a);
    return r;
}

/* ---- the one-sample two-sided distribution (scipy.stats.kstwo) ---- */

static double smirnov(size_t n, double x)
{
    /* Birnbaum-Tingey: Pr(D+_n >= x) = x sum_{v=0}^{floor(n(1-x))} C(n,v) (x+v/n)^(v-1)
     * (1-x-v/n)^(n-v), each term in logarithms. */
    if (!(x >= 0 && x <= 1))
        return NAN;
    if (x == 0)
        return 1.0;
    if (x == 1)
        return 0.0;
    double nd = (double)n;
    size_t top = (size_t)floor(nd * (1.0 - x));
    double lg_n1 = lgamma(nd + 1), p = 0;
    for (size_t v = 0; v <= top; v++) {
        double evn = x + (double)v / nd, omevn = 1.0 - evn;
        if (!(omevn > 0) && v != n)
            continue;
        double t = lg_n1 - lgamma((double)v + 1) - lgamma(nd - (double)v + 1) +
                   ((double)v - 1) * log(evn) + (v == n ? 0 : (nd - (double)v) * log(omevn));
        p += exp(t);
    }
    p *= x;
    return p < 0 ? 0 : p > 1 ? 1 : p;
}

static void matmul(const double *a, const double *b, double *out, size_t m)
{
    for (size_t i = 0; i < m; i++)
        for (size_t j = 0; j < m; j++) {
            double s = 0;
            for (size_t k = 0; k < m; k++)
                s += a[i * m + k] * b[k * m + j];
            out[i * m + j] = s;
        }
}

/* Pr(D_n <= d) by Durbin's matrix with Marsaglia-Tsang-Wang's scaling. */
static double kolmogn_dmtw(size_t n, double d)
{
    if (d >= 1.0)
        return 1.0;
    double nd = (double)n * d;
    if (nd <= 0.5)
        return 0.0;
    size_t k = (size_t)ceil(nd), m = 2 * k - 1;
    double h = (double)k - nd;
    double *hm = cn_xcalloc(m * m, sizeof *hm), *pw = cn_xcalloc(m * m, sizeof *pw);
    double *tmp = cn_xmalloc(m * m * sizeof *tmp), *v = cn_xmalloc(m * sizeof *v),
           *w = cn_xmalloc(m * sizeof *w);
    double fac = 1.0;
    for (size_t j = 1; j <= m; j++) {
        w[j - 1] = fac;
        fac /= (double)j;
        v[j - 1] = (1.0 - pow(h, (double)j)) * fac;
    }
    double base = 2 * h - 1.0 > 0 ? 2 * h - 1.0 : 0;
    double tt = pow(base, (double)m) - 2 * pow(h, (double)m);
    v[m - 1] = (1.0 + tt) * fac;
    for (size_t i = 1; i < m; i++)
        for (size_t r = i - 1; r < m; r++)
            hm[r * m + i] = w[r - (i - 1)];
    for (size_t r = 0; r < m; r++)
        hm[r * m] = v[r];
    for (size_t c = 0; c < m; c++)
        hm[(m - 1) * m + c] = v[m - 1 - c];
    for (size_t i = 0; i < m; i++)
        pw[i * m + i] = 1.0;
    const double ep = ldexp(1.0, SCALE_EXP), em = ldexp(1.0, -SCALE_EXP);
    long expnt = 0, hexpnt = 0;
    for (size_t nn = n; nn > 0; nn /= 2) {
        if (nn % 2) {
            matmul(pw, hm, tmp, m);
            memcpy(pw, tmp, m * m * sizeof *tmp);
            expnt += hexpnt;
        }
        matmul(hm, hm, tmp, m);
        memcpy(hm, tmp, m * m * sizeof *tmp);
        hexpnt *= 2;
        if (fabs(hm[(k - 1) * m + (k - 1)]) > ep) {
            for (size_t i = 0; i < m * m; i++)
                hm[i] /= ep;
            hexpnt += SCALE_EXP;
        }
    }
    double p = pw[(k - 1) * m + (k - 1)];
    for (size_t i = 1; i <= n; i++) {
        p = (double)i * p / (double)n;
        if (fabs(p) < em) {
            p *= ep;
            expnt -= SCALE_EXP;
        }
    }
    if (expnt != 0)
        p = ldexp(p, (int)expnt);
    free(hm);
    free(pw);
    free(tmp);
    free(v);
    free(w);
    return p < 0 ? 0 : p > 1 ? 1 : p;
}

static void pomeranz_j1j2(long i, long n, long ll, long ceilf, long roundf, long *j1, long *j2)
{
    long a, b;
    if (i == 0) {
        a = -ll - ceilf - 1;
        b = ll + ceilf - 1;
    } else {
        long half = (i + 1) / 2, odd = (i + 1) % 2 == 0;
        if (odd) {
            if (half == n + 1) {
                a = n - ll - ceilf - 1;
                b = n + ll + ceilf - 1;
            } else {
                a = half - 1 - ll - roundf - 1;
                b = half + ll - 1 + ceilf - 1;
            }
        } else {
            a = half - 1 - ll - 1;
            b = half + ll + roundf - 1;
        }
    }
    *j1 = a + 2 > 0 ? a + 2 : 0;
    *j2 = b < n ? b : n;
}

/* Pr(D_n <= x) by Pomeranz's recursion (1974). */
static double kolmogn_pomeranz(size_t nn, double x)
{
    long n = (long)nn;
    double t = (double)n * x;
    long ll = (long)floor(t);
    double f = t - (double)ll, g = f < 1.0 - f ? f : 1.0 - f;
    long ceilf = f > 0, roundf = f > 0.5;
    long npw = 2 * (ll + 1);
    double *gp = cn_xmalloc((size_t)npw * sizeof *gp), *g2 = cn_xmalloc((size_t)npw * sizeof *g2),
           *g12 = cn_xmalloc((size_t)npw * sizeof *g12);
    double *v0 = cn_xcalloc((size_t)npw, sizeof *v0), *v1 = cn_xcalloc((size_t)npw, sizeof *v1);
    gp[0] = g2[0] = g12[0] = 1.0;
    double a1 = g / (double)n, a2 = 2 * g / (double)n, a3 = (1 - 2 * g) / (double)n;
    for (long m = 1; m < npw; m++) {
        gp[m] = gp[m - 1] * a1 / (double)m;
        g2[m] = g2[m - 1] * a2 / (double)m;
        g12[m] = g12[m - 1] * a3 / (double)m;
    }
    const double ep = ldexp(1.0, SCALE_EXP), em = ldexp(1.0, -SCALE_EXP);
    long expnt = 0, v0s = 0, v1s = 0, j1, j2;
    v1[0] = 1;
    pomeranz_j1j2(0, n, ll, ceilf, roundf, &j1, &j2);
    for (long i = 1; i < 2 * n + 2; i++) {
        long k1 = j1;
        double *sw = v0;
        v0 = v1;
        v1 = sw;
        long ts = v0s;
        v0s = v1s;
        v1s = ts;
        memset(v1, 0, (size_t)npw * sizeof *v1);
        pomeranz_j1j2(i, n, ll, ceilf, roundf, &j1, &j2);
        const double *pw = i == 1 || i == 2 * n + 1 ? gp : i % 2 ? g2 : g12;
        long ln2 = j2 - k1 + 1;
        if (ln2 <= 0)
            continue;
        long off = k1 - v0s, conv_start = j1 - k1, conv_len = j2 - j1 + 1;
        double vmax = 0;
        for (long s = 0; s < conv_len && s < npw; s++) {
            long q = s + conv_start; /* index into the full convolution */
            double sum = 0;
            for (long p = 0; p < ln2 && p <= q; p++) {
                long ai = off + p, pi = q - p;
                if (ai < 0 || ai >= npw || pi >= ln2 || pi >= npw)
                    continue;
                sum += v0[ai] * pw[pi];
            }
            v1[s] = sum;
            if (sum > vmax)
                vmax = sum;
        }
        if (vmax > 0 && vmax < em) {
            for (long s = 0; s < npw; s++)
                v1[s] *= ep;
            expnt -= SCALE_EXP;
        }
        v1s = v0s + j1 - k1;
    }
    long idx = n - v1s;
    double ans = idx >= 0 && idx < npw ? v1[idx] : 0;
    for (long m = 1; m <= n; m++) {
        if (fabs(ans) > ep) {
            ans *= em;
            expnt += SCALE_EXP;
        }
        ans *= (double)m;
    }
    if (expnt != 0)
        ans = ldexp(ans, (int)expnt);
    free(gp);
    free(g2);
    free(g12);
    free(v0);
    free(v1);
    return ans < 0 ? 0 : ans > 1 ? 1 : ans;
}

/* Pr(D_n <= x) by Pelz and Good's (1976) series. */
static double kolmogn_pelz_good(size_t nn, double x)
{
    if (x <= 0.0)
        return 0.0;
    if (x >= 1.0)
        return 1.0;
    double n = (double)nn, z = sqrt(n) * x;
    double z2 = z * z, z3 = z2 * z, z4 = z2 * z2, z6 = z4 * z2;
    double pi2 = PI * PI, pi4 = pi2 * pi2, pi6 = pi4 * pi2;
    double qlog = -pi2 / 8 / z2;
    if (qlog < -708)
        return 0.0;
    double q = exp(qlog);
    double k1a = -z2, k1b = pi2 / 4;
    double k2a = 6 * z6 + 2 * z4, k2b = (2 * z4 - 5 * z2) * pi2 / 4, k2c = pi4 * (1 - 2 * z2) / 16;
    double k3d = pi6 * (5 - 30 * z2) / 64, k3c = pi4 * (-60 * z2 + 212 * z4) / 16;
    double k3b = pi2 * (135 * z4 - 96 * z6) / 4, k3a = -30 * z6 - 90 * z4 * z4;
    double kk[4] = {0, 0, 0, 0};
    long maxk = (long)ceil(16 * z / PI);
    for (long k = maxk; k > 0; k--) {
        double m = 2.0 * (double)k - 1, m2 = m * m, m4 = m2 * m2, m6 = m4 * m2;
        double qp = pow(q, 8.0 * (double)k);
        double c[4] = {1.0, k1a + k1b * m2, k2a + k2b * m2 + k2c * m4,
                       k3a + k3b * m2 + k3c * m4 + k3d * m6};
        for (int t = 0; t < 4; t++)
            kk[t] = kk[t] * qp + c[t];
    }
    double s2pi = sqrt(2 * PI);
    double den[4] = {z, 6 * z4, 72 * pow(z, 7), 6480 * pow(z, 10)};
    for (int t = 0; t < 4; t++)
        kk[t] = kk[t] * q * s2pi / den[t];
    double q2 = exp(-pi2 / 2 / z2), e2 = 0, e3 = 0, s3z = sqrt(3.0) * z;
    for (long k = maxk; k > 0; k--) {
        double kd = (double)k, ks = kd * kd, qpw = pow(q2, ks), kpi = PI * kd;
        e2 += ks * qpw;
        e3 += (s3z + kpi) * (s3z - kpi) * ks * qpw;
    }
    kk[2] += e2 * pi2 * s2pi / (-36 * z3);
    kk[3] += e3 * pi2 * s2pi / (216 * z6);
    double sum = 0;
    for (int t = 0; t < 4; t++)
        sum += kk[t] / pow(n, (double)t / 2.0);
    return sum;
}

static double log_nfact_div_npown(double n)
{
    static const double c[] = {-2.955065359477124183e-2,  6.4102564102564102564e-3,
                               -1.9175269175269175269e-3, 8.4175084175084175084e-4,
                               -5.952380952380952381e-4,  7.9365079365079365079e-4,
                               -2.7777777777777777778e-3, 8.3333333333333333333e-2};
    double rn = 1.0 / n, x = rn / n, poly = 0;
    for (size_t i = 0; i < sizeof c / sizeof c[0]; i++)
        poly = poly * x + c[i];
    return log(n) / 2 - n + log(2 * PI) / 2 + rn * poly;
}

static double clip01(double p)
{
    return p < 0 ? 0 : p > 1 ? 1 : p;
}

double cairn_drift_kstwo_sf(size_t n, double x)
{
    if (n == 0 || isnan(x))
        return NAN;
    if (x >= 1.0)
        return 0.0;
    if (x <= 0.0)
        return 1.0;
    double nd = (double)n, t = nd * x;
    if (t <= 1.0) {
        if (t <= 0.5)
            return 1.0;
        double prob;
        if (n <= 140) {
            prob = 1.0;
            for (size_t i = 1; i <= n; i++)
                prob *= (double)i * (1.0 / nd) * (2 * t - 1);
        } else {
            prob = exp(log_nfact_div_npown(nd) + nd * log(2 * t - 1));
        }
        return clip01(1.0 - prob);
    }
    if (t >= nd - 1)
        return clip01(2 * pow(1.0 - x, nd));
    if (x >= 0.5)
        return clip01(2 * smirnov(n, x));
    double nxsq = t * x;
    if (n <= 140) {
        if (nxsq <= 0.754693)
            return clip01(1.0 - kolmogn_dmtw(n, x));
        if (nxsq <= 4)
            return clip01(1.0 - kolmogn_pomeranz(n, x));
        return clip01(2 * smirnov(n, x));
    }
    if (nxsq >= 370.0)
        return 0.0;
    if (nxsq >= 2.2)
        return clip01(2 * smirnov(n, x));
    double cdf;
    if (n <= 100000 && nd * pow(x, 1.5) <= 1.4)
        cdf = kolmogn_dmtw(n, x);
    else
        cdf = kolmogn_pelz_good(n, x);
    return clip01(1.0 - clip01(cdf));
}

static double asymp_pvalue(size_t n1, size_t n2, double d)
{
    double m = (double)(n1 > n2 ? n1 : n2), n = (double)(n1 > n2 ? n2 : n1);
    double en = nearbyint(m * n / (m + n)); /* numpy.round: half to even */
    if (en < 1)
        return NAN;
    return clip01(cairn_drift_kstwo_sf((size_t)en, d));
}

/* ks_2samp's _attempt_exact_2kssamp: false when the count overflowed. *d is rounded to a
 * multiple of 1/lcm(n1, n2), as SciPy reports it. */
static bool exact_pvalue(size_t n1, size_t n2, double *d, double *p)
{
    size_t g = gcd(n1, n2);
    double lcm = (double)(n1 / g) * (double)n2;
    double h = nearbyint(*d * lcm);
    *d = h / lcm;
    if (h == 0) {
        *p = 1.0;
        return true;
    }
    double prob =
        n1 == n2 ? prob_outside_square(n1, (size_t)h) : outer_prob_inside(n1, n2, g, (size_t)h);
    if (!isfinite(prob) || prob < 0 || prob > 1)
        return false;
    *p = prob;
    return true;
}

/* ks_2samp's method choice and p-value for a statistic d; *d may be rounded (exact). */
double cn_drift_ks_pvalue_d(size_t n1, size_t n2, double *d, cairn_ks_method method, bool *exact)
{
    bool use_exact = false;
    if (method == CAIRN_KS_AUTO)
        use_exact = n1 <= KS_MAX_AUTO_N && n2 <= KS_MAX_AUTO_N;
    else if (method == CAIRN_KS_EXACT) {
        size_t g = gcd(n1, n2);
        use_exact = !((double)(n1 / g) >= (double)INT32_MAX / (double)(n2 / g));
    }
    double p = NAN;
    if (use_exact && !exact_pvalue(n1, n2, d, &p))
        use_exact = false;
    if (!use_exact)
        p = asymp_pvalue(n1, n2, *d);
    if (exact)
        *exact = use_exact;
    return clip01(p);
}

double cairn_drift_ks_pvalue(size_t n1, size_t n2, double d, cairn_ks_method method, bool *exact)
{
    if (n1 == 0 || n2 == 0 || isnan(d))
        return NAN;
    return cn_drift_ks_pvalue_d(n1, n2, &d, method, exact);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* A double's bits mapped so that unsigned order is numeric order (-0.0 just before 0.0). */
static uint64_t sort_key(double v)
{
    uint64_t u;
    memcpy(&u, &v, sizeof u);
    return u >> 63 ? ~u : u | (UINT64_C(1) << 63);
}

void cn_drift_sort(double *v, size_t n)
{
    if (n < 256) {
        qsort(v, n, sizeof *v, cmp_double);
        return;
    }
    /* LSD radix sort, 8 passes of 8 bits; a pass where every key has the same byte is
     * skipped. O(n), against qsort's n log n calls through a pointer (the live drift check
     * sorts a 10,000-row window per feature). */
    uint64_t *a = cn_xmalloc(n * sizeof *a), *b = cn_xmalloc(n * sizeof *b);
    size_t(*count)[256] = cn_xcalloc(8, sizeof *count);
    for (size_t i = 0; i < n; i++) {
        a[i] = sort_key(v[i]);
        for (int p = 0; p < 8; p++)
            count[p][(a[i] >> (8 * p)) & 0xff]++;
    }
    for (int p = 0; p < 8; p++) {
        if (count[p][(a[0] >> (8 * p)) & 0xff] == n)
            continue;
        size_t at = 0;
        for (int k = 0; k < 256; k++) {
            size_t c = count[p][k];
            count[p][k] = at;
            at += c;
        }
        for (size_t i = 0; i < n; i++)
            b[count[p][(a[i] >> (8 * p)) & 0xff]++] = a[i];
        uint64_t *t = a;
        a = b;
        b = t;
    }
    for (size_t i = 0; i < n; i++) {
        uint64_t u = a[i] >> 63 ? a[i] & ~(UINT64_C(1) << 63) : ~a[i];
        memcpy(&v[i], &u, sizeof u);
    }
    free(count);
    free(a);
    free(b);
}

double *cn_drift_sorted_finite(const double *v, size_t n, size_t *n_out)
{
    double *s = cn_xmalloc((n ? n : 1) * sizeof *s);
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (!isnan(v[i]))
            s[k++] = v[i];
    cn_drift_sort(s, k);
    *n_out = k;
    return s;
}

cairn_status cairn_drift_ks(cairn_ctx *ctx, const double *a, size_t n_a, const double *b,
                            size_t n_b, cairn_ks_method method, cairn_ks_result *out)
{
    size_t na, nb;
    double *sa = cn_drift_sorted_finite(a, n_a, &na), *sb = cn_drift_sorted_finite(b, n_b, &nb);
    cairn_status rc = CAIRN_OK;
    if (na == 0 || nb == 0) {
        rc = cn_fail(ctx, CAIRN_EINVAL, "ks: a sample has no values (after dropping NaN)");
    } else {
        double d = cn_drift_ks_stat(sa, na, sb, nb);
        out->pvalue = cn_drift_ks_pvalue_d(na, nb, &d, method, &out->exact);
        out->statistic = d;
    }
    free(sa);
    free(sb);
    return rc;
}
