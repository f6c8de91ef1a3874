/* SPDX-License-Identifier: MIT */
/* test_downsample.c - cairn_series_downsample()'s guarantees on awkward series (spikes, NaN and
 * infinities, repeated and uneven x, short series): at most max_points, x monotone, and every
 * bucket's first, last, lowest and highest point kept; then cairn_run_metric_downsample() on a
 * stored series of 1,000,000 points, timed. */
#include <math.h>
#include <stdint.h>
#include <time.h>
#include "cairn/tracking.h"
#include "store_fixture.h"
#include "unit.h"

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;

static double uniform(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (double)(rng_state >> 11) / 9007199254740992.0;
}

static double xv(const cairn_metric *m, cairn_series_x x)
{
    return x == CAIRN_SERIES_X_TIME ? (double)m->timestamp_ms : (double)m->step;
}

/* The bucket of a point, computed independently of the library (same definition: max/4
 * buckets of equal width over [x first, x last]). */
static size_t bucket_of(const cairn_metric *p, size_t n, size_t i, cairn_series_x x, size_t nb)
{
    double x0 = xv(&p[0], x), span = xv(&p[n - 1], x) - x0;
    if (!(span > 0))
        return 0;
    double f = (xv(&p[i], x) - x0) / span * (double)nb;
    return f >= (double)nb ? nb - 1 : (size_t)f;
}

/* Checks every guarantee of one downsampling; returns the number kept. */
static size_t check_shape(const cairn_metric *p, size_t n, cairn_series_x x, size_t max_points)
{
    size_t *keep = malloc((n ? n : 1) * sizeof *keep);
    size_t k = cairn_series_downsample(p, n, x, max_points, keep);
    if (n <= max_points) {
        CHECK(k == n);
        for (size_t i = 0; i < k; i++)
            CHECK(keep[i] == i);
        free(keep);
        return k;
    }
    CHECK(k <= max_points);
    CHECK(k >= 2);
    CHECK(keep[0] == 0);
    CHECK(keep[k - 1] == n - 1);
    for (size_t i = 1; i < k; i++) {
        CHECK(keep[i] > keep[i - 1]);
        CHECK(xv(&p[keep[i]], x) >= xv(&p[keep[i - 1]], x));
    }
    /* Per bucket: its first and last point are kept, and so are a lowest and a highest. */
    size_t nb = max_points / 4;
    unsigned char *kept = calloc(n, 1);
    for (size_t i = 0; i < k; i++)
        kept[keep[i]] = 1;
    size_t start = 0;
    while (start < n) {
        size_t b = bucket_of(p, n, start, x, nb), end = start;
        double lo = INFINITY, hi = -INFINITY, klo = INFINITY, khi = -INFINITY;
        bool any = false;
        while (end < n && bucket_of(p, n, end, x, nb) == b) {
            double v = p[end].value;
            if (!isnan(v)) {
                any = true;
                lo = fmin(lo, v);
                hi = fmax(hi, v);
                if (kept[end]) {
                    klo = fmin(klo, v);
                    khi = fmax(khi, v);
                }
            }
            end++;
        }
        CHECK(kept[start]);
        CHECK(kept[end - 1]);
        if (any) {
            CHECK(klo == lo);
            CHECK(khi == hi);
        }
        start = end;
    }
    free(kept);
    free(keep);
    return k;
}

static cairn_metric *series(size_t n)
{
    cairn_metric *p = calloc(n, sizeof *p);
    double y = 0;
    for (size_t i = 0; i < n; i++) {
        y += uniform() - 0.5;
        p[i].key = "loss";
        p[i].step = (int64_t)i;
        p[i].timestamp_ms = 1700000000000 + (int64_t)i * 7;
        p[i].value = y;
    }
    return p;
}

TEST(short_series_whole)
{
    cairn_metric *p = series(100);
    CHECK(check_shape(p, 100, CAIRN_SERIES_X_STEP, 100) == 100);
    CHECK(check_shape(p, 100, CAIRN_SERIES_X_STEP, 2000) == 100);
    CHECK(check_shape(p, 0, CAIRN_SERIES_X_STEP, 2000) == 0);
    CHECK(check_shape(p, 1, CAIRN_SERIES_X_STEP, 4) == 1);
    free(p);
}

TEST(spikes_survive)
{
    size_t n = 100000;
    cairn_metric *p = series(n);
    /* Single-point spikes up and down, far outside the walk. */
    p[12345].value = 1e6;
    p[54321].value = -1e6;
    p[99998].value = 5e5;
    size_t *keep = malloc(2000 * sizeof *keep);
    size_t k = cairn_series_downsample(p, n, CAIRN_SERIES_X_STEP, 2000, keep);
    bool up = false, down = false, last = false;
    for (size_t i = 0; i < k; i++) {
        up |= keep[i] == 12345;
        down |= keep[i] == 54321;
        last |= keep[i] == 99998;
    }
    CHECK(up && down && last);
    CHECK(k <= 2000 && k > 1900); /* a dense series fills nearly every bucket with 4 points */
    free(keep);
    check_shape(p, n, CAIRN_SERIES_X_STEP, 2000);
    check_shape(p, n, CAIRN_SERIES_X_TIME, 2000);
    check_shape(p, n, CAIRN_SERIES_X_STEP, 4);
    check_shape(p, n, CAIRN_SERIES_X_STEP, 7);
    check_shape(p, n, CAIRN_SERIES_X_STEP, 99999);
    free(p);
}

TEST(non_finite_values)
{
    size_t n = 5000;
    cairn_metric *p = series(n);
    for (size_t i = 0; i < n; i += 13)
        p[i].value = NAN;
    p[0].value = NAN; /* a bucket that starts with NaN */
    p[100].value = INFINITY;
    p[2000].value = -INFINITY;
    for (size_t i = 3000; i < 3200; i++) /* a run of NaN as long as several buckets */
        p[i].value = NAN;
    size_t *keep = malloc(400 * sizeof *keep);
    size_t k = cairn_series_downsample(p, n, CAIRN_SERIES_X_STEP, 400, keep);
    bool inf = false, ninf = false;
    for (size_t i = 0; i < k; i++) {
        inf |= keep[i] == 100;
        ninf |= keep[i] == 2000;
    }
    CHECK(inf && ninf);
    free(keep);
    check_shape(p, n, CAIRN_SERIES_X_STEP, 400);
    free(p);
}

TEST(uneven_and_repeated_x)
{
    size_t n = 20000;
    cairn_metric *p = series(n);
    /* Steps in clumps with big gaps, each step logged several times. */
    for (size_t i = 0; i < n; i++)
        p[i].step = (int64_t)(i / 5) * ((i / 5000) % 2 ? 1000 : 1);
    for (size_t i = 1; i < n; i++)
        if (p[i].step < p[i - 1].step)
            p[i].step = p[i - 1].step;
    size_t k = check_shape(p, n, CAIRN_SERIES_X_STEP, 1000);
    CHECK(k < 1000);
    /* Every point at one x: one bucket, its four points. */
    for (size_t i = 0; i < n; i++)
        p[i].step = 42;
    CHECK(check_shape(p, n, CAIRN_SERIES_X_STEP, 1000) <= 4);
    /* Wall-clock x with equal timestamps and a long pause. */
    for (size_t i = 0; i < n; i++)
        p[i].timestamp_ms = 1000 + (int64_t)(i / 3) + (i > n / 2 ? 86400000 : 0);
    check_shape(p, n, CAIRN_SERIES_X_TIME, 1000);
    free(p);
}

TEST(random_series_many_sizes)
{
    for (int round = 0; round < 200; round++) {
        size_t n = 1 + (size_t)(uniform() * 3000), max_points = 4 + (size_t)(uniform() * 500);
        cairn_metric *p = series(n);
        for (size_t i = 0; i < n; i++) {
            if (uniform() < 0.3)
                p[i].value = (uniform() - 0.5) * 1e3;
            if (i && uniform() < 0.5)
                p[i].step = p[i - 1].step + (int64_t)(uniform() * 3);
            else if (i)
                p[i].step = p[i - 1].step + 1;
        }
        check_shape(p, n, CAIRN_SERIES_X_STEP, max_points);
        check_shape(p, n, CAIRN_SERIES_X_TIME, max_points);
        free(p);
    }
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

TEST(stored_million_points)
{
    cairn_ctx *ctx = fixture_open();
    char *exp = NULL, *run_id = NULL;
    CHECK(cairn_experiment_create(ctx, fixture_name("ds"), NULL, NULL, 0, &exp) == CAIRN_OK);
    cairn_run_opts ro = CAIRN_RUN_OPTS_INIT;
    ro.experiment = NULL;
    ro.experiment_id = exp;
    CHECK(cairn_runs_create(ctx, &ro, &run_id) == CAIRN_OK);
    size_t n = 1000000, chunk = 100000;
    cairn_metric *p = series(n);
    p[777777].value = 1e9; /* one spike */
    for (size_t i = 0; i < n; i += chunk)
        CHECK(cairn_runs_log_batch(ctx, run_id, p + i, chunk, NULL, 0, NULL, 0) == CAIRN_OK);

    cairn_downsample_opts o = CAIRN_DOWNSAMPLE_OPTS_INIT;
    cairn_metric_series *s = NULL;
    double t0 = now_ms();
    CHECK(cairn_run_metric_downsample(ctx, run_id, "loss", &o, &s) == CAIRN_OK);
    double ms = now_ms() - t0;
    printf("# downsample of %zu stored points to %zu: %.1f ms\n", n, s ? s->n : 0, ms);
    if (s) {
        CHECK(s->total == n);
        CHECK(s->is_downsampled);
        CHECK(s->n <= CAIRN_DOWNSAMPLE_DEFAULT && s->n > 1900);
        CHECK(s->points[0].step == 0 && s->points[s->n - 1].step == (int64_t)n - 1);
        bool spike = false;
        for (size_t i = 0; i < s->n; i++)
            spike |= s->points[i].value == 1e9;
        CHECK(spike);
    }
    cairn_metric_series_free(s);

    o.x = CAIRN_SERIES_X_TIME;
    o.max_points = 100;
    CHECK(cairn_run_metric_downsample(ctx, run_id, "loss", &o, &s) == CAIRN_OK);
    CHECK(s && s->n <= 100);
    cairn_metric_series_free(s);

    /* Wall-clock x against steps: timestamps that fall as steps rise (a clock set back) come
     * from the store in step order; the result is the one of the series sorted by time. */
    size_t n_rev = 30000;
    cairn_metric *rev = series(n_rev), *by_time = malloc(n_rev * sizeof *by_time);
    for (size_t i = 0; i < n_rev; i++) {
        rev[i].key = "rev";
        rev[i].timestamp_ms = 1800000000000 - (int64_t)i * 5 + (int64_t)(i % 7) * 2;
    }
    CHECK(cairn_runs_log_batch(ctx, run_id, rev, n_rev, NULL, 0, NULL, 0) == CAIRN_OK);
    for (size_t i = 0; i < n_rev; i++)
        by_time[i] = rev[n_rev - 1 - i];
    for (size_t i = 1; i < n_rev; i++) /* insertion sort: nearly sorted already */
        for (size_t j = i; j > 0 && by_time[j - 1].timestamp_ms > by_time[j].timestamp_ms; j--) {
            cairn_metric t = by_time[j];
            by_time[j] = by_time[j - 1];
            by_time[j - 1] = t;
        }
    size_t keep[500];
    size_t k = cairn_series_downsample(by_time, n_rev, CAIRN_SERIES_X_TIME, 500, keep);
    o.x = CAIRN_SERIES_X_TIME;
    o.max_points = 500;
    CHECK(cairn_run_metric_downsample(ctx, run_id, "rev", &o, &s) == CAIRN_OK);
    CHECK(s && s->n == k && s->total == n_rev);
    for (size_t i = 0; s && i < k && i < s->n; i++) {
        CHECK(s->points[i].step == by_time[keep[i]].step);
        CHECK(s->points[i].timestamp_ms == by_time[keep[i]].timestamp_ms);
    }
    cairn_metric_series_free(s);
    o.max_points = 40000; /* whole, sorted by time */
    CHECK(cairn_run_metric_downsample(ctx, run_id, "rev", &o, &s) == CAIRN_OK);
    CHECK(s && s->n == n_rev && !s->is_downsampled);
    for (size_t i = 0; s && i < s->n; i++)
        CHECK(s->points[i].timestamp_ms == by_time[i].timestamp_ms);
    cairn_metric_series_free(s);
    free(rev);
    free(by_time);

    /* An unknown key is an empty series; an unknown run and a bad max_points are errors. */
    o.x = CAIRN_SERIES_X_STEP;
    CHECK(cairn_run_metric_downsample(ctx, run_id, "nothing", &o, &s) == CAIRN_OK);
    CHECK(s && s->total == 0 && s->n == 0 && !s->is_downsampled);
    cairn_metric_series_free(s);
    CHECK(cairn_run_metric_downsample(ctx, "0123456789abcdef0123456789abcdef", "loss", &o, &s) ==
          CAIRN_ENOTFOUND);
    CHECK(s == NULL);
    o.max_points = 3;
    CHECK(cairn_run_metric_downsample(ctx, run_id, "loss", &o, &s) == CAIRN_EINVAL);
    o.max_points = CAIRN_DOWNSAMPLE_MAX + 1;
    CHECK(cairn_run_metric_downsample(ctx, run_id, "loss", &o, &s) == CAIRN_EINVAL);
    free(p);
    cairn_free(exp);
    cairn_free(run_id);
    cairn_close(ctx);
}

UNIT_MAIN(UNIT_CASE(short_series_whole), UNIT_CASE(spikes_survive), UNIT_CASE(non_finite_values),
          UNIT_CASE(uneven_and_repeated_x), UNIT_CASE(random_series_many_sizes),
          UNIT_CASE(stored_million_points))
