/* SPDX-License-Identifier: MIT */
/* stats.c - the drift statistics besides KS: chi-squared goodness of fit against the
 * reference's proportions (scipy.stats.chisquare as Evidently calls it), the pooled
 * two-proportion z-test, PSI with a 1e-4 floor, the Jensen-Shannon distance
 * (scipy.spatial.distance.jensenshannon, natural log) and Wasserstein-1
 * (scipy.stats.wasserstein_distance). */
#include <math.h>
#include <stdlib.h>
#include "drift/drift_internal.h"
#include "cairn/eval.h"
#include "base/banned.h"

#define PSI_FLOOR 1e-4

void cairn_drift_chi2(const double *ref_counts, const double *cur_counts, size_t k,
                      double *statistic, double *pvalue)
{
    double n_ref = 0, n_cur = 0;
    for (size_t i = 0; i < k; i++) {
        n_ref += ref_counts[i];
        n_cur += cur_counts[i];
    }
    if (k < 2 || !(n_ref > 0) || !(n_cur > 0)) {
        *statistic = 0;
        *pvalue = 1;
        return;
    }
    double stat = 0;
    for (size_t i = 0; i < k; i++) {
        double expected = ref_counts[i] * (n_cur / n_ref);
        double diff = cur_counts[i] - expected;
        if (expected == 0) {
            if (cur_counts[i] > 0) {
                stat = INFINITY;
                break;
            }
            continue;
        }
        stat += diff * diff / expected;
    }
    *statistic = stat;
    *pvalue = isinf(stat) ? 0.0 : cairn_stats_chi2_sf(stat, (double)(k - 1));
}

double cairn_drift_ztest(double ref_hits, double n_ref, double cur_hits, double n_cur, double *z)
{
    double p1 = ref_hits / n_ref, p2 = cur_hits / n_cur;
    double pooled = (p1 * n_ref + p2 * n_cur) / (n_ref + n_cur);
    if (z)
        *z = 0;
    if (!(pooled > 0 && pooled < 1))
        return 1.0;
    double zz = (p1 - p2) / sqrt(pooled * (1 - pooled) * (1.0 / n_ref + 1.0 / n_cur));
    if (z)
        *z = zz;
    return erfc(fabs(zz) / sqrt(2.0));
}

double cairn_drift_psi(const double *ref_counts, const double *cur_counts, size_t k)
{
    double n_ref = 0, n_cur = 0, psi = 0;
    for (size_t i = 0; i < k; i++) {
        n_ref += ref_counts[i];
        n_cur += cur_counts[i];
    }
    if (!(n_ref > 0) || !(n_cur > 0))
        return NAN;
    for (size_t i = 0; i < k; i++) {
        double r = ref_counts[i] / n_ref, c = cur_counts[i] / n_cur;
        if (r == 0)
            r = PSI_FLOOR;
        if (c == 0)
            c = PSI_FLOOR;
        psi += (r - c) * log(r / c);
    }
    return psi;
}

/* scipy.special.rel_entr(x, y): x log(x / y), 0 at x = 0, inf where y = 0 < x. */
static double rel_entr(double x, double y)
{
    if (x == 0 && y >= 0)
        return 0;
    if (x > 0 && y > 0)
        return x * log(x / y);
    return INFINITY;
}

double cairn_drift_js(const double *p, const double *q, size_t k)
{
    double sp = 0, sq = 0;
    for (size_t i = 0; i < k; i++) {
        sp += p[i];
        sq += q[i];
    }
    if (!(sp > 0) || !(sq > 0))
        return NAN;
    double left = 0, right = 0;
    for (size_t i = 0; i < k; i++) {
        double a = p[i] / sp, b = q[i] / sq, m = (a + b) / 2.0;
        left += rel_entr(a, m);
        right += rel_entr(b, m);
    }
    double js = (left + right) / 2.0;
    return sqrt(js > 0 ? js : 0);
}

double cn_drift_w1_sorted(const double *a, size_t n_a, const double *b, size_t n_b)
{
    /* integral of |Fa - Fb| over the merged support */
    size_t i = 0, j = 0;
    double sum = 0, prev = 0;
    bool first = true;
    while (i < n_a || j < n_b) {
        double v = i < n_a && (j >= n_b || a[i] <= b[j]) ? a[i] : b[j];
        if (!first)
            sum += fabs((double)i / (double)n_a - (double)j / (double)n_b) * (v - prev);
        first = false;
        while (i < n_a && a[i] <= v)
            i++;
        while (j < n_b && b[j] <= v)
            j++;
        prev = v;
    }
    return sum;
}

double cairn_drift_wasserstein(const double *a, size_t n_a, const double *b, size_t n_b)
{
    size_t na, nb;
    double *sa = cn_drift_sorted_finite(a, n_a, &na), *sb = cn_drift_sorted_finite(b, n_b, &nb);
    double w = na && nb ? cn_drift_w1_sorted(sa, na, sb, nb) : NAN;
    free(sa);
    free(sb);
    return w;
}
