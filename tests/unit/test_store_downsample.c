/* SPDX-License-Identifier: MIT */
/* test_store_downsample.c - cairn_run_metric_downsample() from the store's block summaries
 * (metric_blocks, schema 007): on an awkward stored series (negative and uneven steps, several
 * points a step, NaN, infinities, tied values, points logged out of order and twice) the answer
 * is exactly the one computed here from the points themselves by the documented rule (buckets
 * of k whole 64-step blocks, each keeping its first, last, lowest and highest point), on the
 * first read (summaries computed from the points, then kept), on the next (read from the kept
 * summaries), and after more points are logged (new steps, old steps, repeats: the blocks they
 * touch computed again); a read-only context answers the same and writes nothing. Runs on
 * SQLite and, with scripts/with-pg.sh, on PostgreSQL. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "cairn/tracking.h"
#include "store/store.h"
#include "store_fixture.h"
#include "unit.h"

static uint64_t rng_state = 0x2545F4914F6CDD1Dull;

static double uniform(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (double)(rng_state >> 11) / 9007199254740992.0;
}

static int64_t floor_div64(int64_t a)
{
    return a >= 0 ? a / 64 : -((-a + 63) / 64);
}

/* The metrics table's key order: step, timestamp, value (NaN as 0), NaN last. */
static int key_cmp(const cairn_metric *a, const cairn_metric *b)
{
    if (a->step != b->step)
        return a->step < b->step ? -1 : 1;
    if (a->timestamp_ms != b->timestamp_ms)
        return a->timestamp_ms < b->timestamp_ms ? -1 : 1;
    double av = isnan(a->value) ? 0.0 : a->value, bv = isnan(b->value) ? 0.0 : b->value;
    if (av != bv)
        return av < bv ? -1 : 1;
    return (int)isnan(a->value) - (int)isnan(b->value);
}

static int key_cmp_q(const void *a, const void *b)
{
    return key_cmp(a, b);
}

/* The expected answer, from the sorted distinct points: writes up to 4 per bucket. */
static size_t expected(const cairn_metric *p, size_t n, size_t max_points, cairn_metric *out)
{
    int64_t b0 = floor_div64(p[0].step), b1 = floor_div64(p[n - 1].step);
    int64_t n_blocks = b1 - b0 + 1, nb = (int64_t)max_points / 4;
    int64_t k = (n_blocks + nb - 1) / nb;
    size_t n_out = 0, start = 0;
    while (start < n) {
        int64_t bucket = (floor_div64(p[start].step) - b0) / k;
        size_t end = start, lo = SIZE_MAX, hi = SIZE_MAX;
        while (end < n && (floor_div64(p[end].step) - b0) / k == bucket) {
            double v = p[end].value;
            if (!isnan(v)) { /* the first in key order wins a tie */
                if (lo == SIZE_MAX || v < p[lo].value)
                    lo = end;
                if (hi == SIZE_MAX || v > p[hi].value)
                    hi = end;
            }
            end++;
        }
        size_t idx[4] = {start, lo, hi, end - 1}, m = 0, pick[4];
        for (int i = 0; i < 4; i++)
            if (idx[i] != SIZE_MAX)
                pick[m++] = idx[i];
        for (size_t i = 1; i < m; i++) /* ascending = key order (p is sorted) */
            for (size_t j = i; j > 0 && pick[j] < pick[j - 1]; j--) {
                size_t t = pick[j];
                pick[j] = pick[j - 1];
                pick[j - 1] = t;
            }
        for (size_t i = 0; i < m; i++)
            if (i == 0 || pick[i] != pick[i - 1])
                out[n_out++] = p[pick[i]];
        start = end;
    }
    return n_out;
}

static bool same_point(const cairn_metric *a, const cairn_metric *b)
{
    if (a->step != b->step || a->timestamp_ms != b->timestamp_ms)
        return false;
    if (isnan(a->value) || isnan(b->value))
        return isnan(a->value) && isnan(b->value);
    return a->value == b->value;
}

/* The expected answer against time, from the points in key order: max_points / 4 equal slices
 * of [earliest, latest timestamp], each keeping its earliest (ties: first in key order), latest
 * (ties: last), lowest and highest (ties: first) point, in (timestamp, key order). */
static size_t expected_time(const cairn_metric *p, size_t n, size_t max_points, cairn_metric *out)
{
    int64_t t0 = INT64_MAX, t1 = INT64_MIN;
    for (size_t i = 0; i < n; i++) {
        if (p[i].timestamp_ms < t0)
            t0 = p[i].timestamp_ms;
        if (p[i].timestamp_ms > t1)
            t1 = p[i].timestamp_ms;
    }
    size_t nb = max_points / 4;
    size_t(*pick)[4] = malloc(nb * sizeof *pick); /* first, lo, hi, last; SIZE_MAX: none */
    for (size_t b = 0; b < nb; b++)
        pick[b][0] = pick[b][1] = pick[b][2] = pick[b][3] = SIZE_MAX;
    double span = (double)t1 - (double)t0;
    for (size_t i = 0; i < n; i++) {
        size_t b = 0;
        if (span > 0) {
            double r = ((double)p[i].timestamp_ms - (double)t0) / span * (double)nb;
            b = r >= (double)nb ? nb - 1 : r > 0 ? (size_t)r : 0;
        }
        size_t *k = pick[b];
        int64_t ts = p[i].timestamp_ms;
        if (k[0] == SIZE_MAX || ts < p[k[0]].timestamp_ms)
            k[0] = i;
        if (k[3] == SIZE_MAX || ts >= p[k[3]].timestamp_ms)
            k[3] = i;
        if (!isnan(p[i].value)) {
            if (k[1] == SIZE_MAX || p[i].value < p[k[1]].value)
                k[1] = i;
            if (k[2] == SIZE_MAX || p[i].value > p[k[2]].value)
                k[2] = i;
        }
    }
    size_t n_out = 0;
    for (size_t b = 0; b < nb; b++) {
        size_t idx[4], m = 0;
        for (int j = 0; j < 4; j++)
            if (pick[b][j] != SIZE_MAX)
                idx[m++] = pick[b][j];
        for (size_t i = 1; i < m; i++) /* by timestamp, then key order */
            for (size_t j = i; j > 0 && (p[idx[j]].timestamp_ms < p[idx[j - 1]].timestamp_ms ||
                                         (p[idx[j]].timestamp_ms == p[idx[j - 1]].timestamp_ms &&
                                          idx[j] < idx[j - 1]));
                 j--) {
                size_t t = idx[j];
                idx[j] = idx[j - 1];
                idx[j - 1] = t;
            }
        for (size_t i = 0; i < m; i++)
            if (i == 0 || idx[i] != idx[i - 1])
                out[n_out++] = p[idx[i]];
    }
    free(pick);
    return n_out;
}

/* The answers for several max_points, checked against expected(); returns them for later. */
static void check_answers(cairn_ctx *ctx, const char *run_id, const cairn_metric *sorted, size_t n,
                          const size_t *maxes, size_t n_maxes, bool *all_blocks)
{
    cairn_metric *want = malloc(n * sizeof *want);
    *all_blocks = true;
    for (size_t t = 0; t < n_maxes; t++) {
        cairn_downsample_opts o = CAIRN_DOWNSAMPLE_OPTS_INIT;
        o.max_points = maxes[t];
        cairn_metric_series *s = NULL;
        CHECK(cairn_run_metric_downsample(ctx, run_id, "m", &o, &s) == CAIRN_OK);
        if (!s)
            continue;
        size_t n_want = expected(sorted, n, maxes[t], want);
        CHECK(s->total == n);
        CHECK(s->is_downsampled);
        CHECK(s->n <= maxes[t]);
        if (s->n != n_want) {
            printf("# max_points %zu: %zu points, expected %zu\n", maxes[t], s->n, n_want);
            *all_blocks = false;
        }
        CHECK(s->n == n_want);
        for (size_t i = 0; i < s->n && i < n_want; i++) {
            if (!same_point(&s->points[i], &want[i]))
                printf("# max_points %zu, point %zu: (%lld, %lld, %g) expected (%lld, %lld, %g)\n",
                       maxes[t], i, (long long)s->points[i].step,
                       (long long)s->points[i].timestamp_ms, s->points[i].value,
                       (long long)want[i].step, (long long)want[i].timestamp_ms, want[i].value);
            CHECK(same_point(&s->points[i], &want[i]));
        }
        cairn_metric_series_free(s);
        /* The same series against time. */
        o.x = CAIRN_SERIES_X_TIME;
        CHECK(cairn_run_metric_downsample(ctx, run_id, "m", &o, &s) == CAIRN_OK);
        if (!s)
            continue;
        n_want = expected_time(sorted, n, maxes[t], want);
        CHECK(s->total == n && s->n <= maxes[t]);
        if (s->n != n_want) {
            printf("# x=time, max_points %zu: %zu points, expected %zu\n", maxes[t], s->n, n_want);
            *all_blocks = false;
        }
        CHECK(s->n == n_want);
        for (size_t i = 0; i < s->n && i < n_want; i++) {
            if (!same_point(&s->points[i], &want[i]))
                printf("# x=time, max_points %zu, point %zu: (%lld, %lld, %g) expected (%lld, "
                       "%lld, %g)\n",
                       maxes[t], i, (long long)s->points[i].step,
                       (long long)s->points[i].timestamp_ms, s->points[i].value,
                       (long long)want[i].step, (long long)want[i].timestamp_ms, want[i].value);
            CHECK(same_point(&s->points[i], &want[i]));
        }
        cairn_metric_series_free(s);
    }
    free(want);
}

TEST(blocks_match_points)
{
    cairn_ctx *ctx = fixture_open();
    char *exp = NULL, *run_id = NULL;
    CHECK(cairn_experiment_create(ctx, fixture_name("blocks"), NULL, NULL, 0, &exp) == CAIRN_OK);
    cairn_run_opts ro = CAIRN_RUN_OPTS_INIT;
    ro.experiment = NULL;
    ro.experiment_id = exp;
    CHECK(cairn_runs_create(ctx, &ro, &run_id) == CAIRN_OK);

    size_t n = 30000;
    cairn_metric *p = calloc(n, sizeof *p);
    int64_t step = -3001;
    for (size_t i = 0; i < n; i++) {
        if (uniform() < 0.8) /* else a second point at the same step */
            step += 1 + (int64_t)(uniform() * 3);
        p[i].key = "m";
        p[i].step = step;
        p[i].timestamp_ms = 1700000000000 + (int64_t)i * 10;
        double u = uniform();
        p[i].value = u < 0.04   ? NAN
                     : u < 0.05 ? INFINITY
                     : u < 0.06 ? -INFINITY
                                : round(sin((double)i / 300.0) * 8.0) / 4.0; /* many ties */
        if (i == 12345)
            p[i].value = 1e6; /* a spike */
    }
    /* Logged shuffled, in batches, a tenth of the points twice. */
    cairn_metric *shuffled = malloc(n * sizeof *shuffled);
    memcpy(shuffled, p, n * sizeof *p);
    for (size_t i = n - 1; i > 0; i--) {
        size_t j = (size_t)(uniform() * (double)(i + 1));
        cairn_metric t = shuffled[i];
        shuffled[i] = shuffled[j];
        shuffled[j] = t;
    }
    for (size_t i = 0; i < n; i += 997) {
        size_t len = n - i < 997 ? n - i : 997;
        CHECK(cairn_runs_log_batch(ctx, run_id, shuffled + i, len, NULL, 0, NULL, 0) == CAIRN_OK);
    }
    CHECK(cairn_runs_log_batch(ctx, run_id, shuffled, n / 10, NULL, 0, NULL, 0) == CAIRN_OK);
    for (size_t i = 0; i < 50; i++) /* one at a time, as a training loop logs */
        CHECK(cairn_runs_log_batch(ctx, run_id, &shuffled[n / 2 + i], 1, NULL, 0, NULL, 0) ==
              CAIRN_OK);
    qsort(p, n, sizeof *p, key_cmp_q);

    /* ~690 blocks: max_points up to 4 * 690 / 4 is answered from the blocks. */
    static const size_t maxes[] = {4, 8, 40, 100, 300, 680};
    bool ok = false;
    check_answers(ctx, run_id, p, n, maxes, sizeof maxes / sizeof maxes[0], &ok);
    CHECK(ok);

    /* A short span (fewer than 4 blocks a bucket) is scanned: the M4 rule over the x range. */
    cairn_downsample_opts o = CAIRN_DOWNSAMPLE_OPTS_INIT;
    o.max_points = 4000;
    cairn_metric_series *s = NULL;
    CHECK(cairn_run_metric_downsample(ctx, run_id, "m", &o, &s) == CAIRN_OK);
    CHECK(s && s->total == n && s->n <= 4000 && s->n > 1000);
    cairn_metric_series_free(s);

    /* The first read kept the summaries; the second answered from them. */
    int64_t kept = 0, dirty = 1, n_blocks = 0;
    bool found = false;
    CHECK(cn_store_query_int(ctx, &kept, &found,
                             "SELECT blocks FROM latest_metrics WHERE run_uuid = ? AND key = 'm'",
                             "s", run_id) == CAIRN_OK &&
          found && kept == 1);
    CHECK(cn_store_query_int(ctx, &n_blocks, &found,
                             "SELECT count(*) FROM metric_blocks WHERE run_uuid = ? AND key = 'm'",
                             "s", run_id) == CAIRN_OK &&
          n_blocks > 600);
    check_answers(ctx, run_id, p, n, maxes, sizeof maxes / sizeof maxes[0], &ok);
    CHECK(ok);

    /* More points: past the end, before the start, inside (new and repeated), one at a time
     * and in a batch; each read after them matches the points again. */
    size_t n2 = n + 400;
    cairn_metric *q = calloc(n2 + 1, sizeof *q); /* + the read-only check's point */
    memcpy(q, p, n * sizeof *p);
    for (size_t i = 0; i < 400; i++) {
        cairn_metric *m = &q[n + i];
        m->key = "m";
        m->step = i < 100   ? p[n - 1].step + 1 + (int64_t)i * 7       /* new blocks at the end */
                  : i < 150 ? p[0].step - 500 + (int64_t)i             /* before the start */
                            : p[(size_t)(uniform() * (double)n)].step; /* inside */
        m->timestamp_ms = 1800000000000 + (int64_t)i;
        m->value = i == 200 ? -1e7 : i == 201 ? NAN : round(uniform() * 40.0) - 20.0;
    }
    for (size_t done = n; done < n2;) {
        size_t len = done < n + 120 ? 1 : 70;
        if (done + len > n2)
            len = n2 - done;
        CHECK(cairn_runs_log_batch(ctx, run_id, q + done, len, NULL, 0, NULL, 0) == CAIRN_OK);
        CHECK(cairn_runs_log_batch(ctx, run_id, q + done, 1, NULL, 0, NULL, 0) ==
              CAIRN_OK); /* a repeat: stored once */
        done += len;
        if (done == n + 120 || done == n2) {
            cairn_metric *sorted = malloc(done * sizeof *sorted);
            memcpy(sorted, q, done * sizeof *q);
            qsort(sorted, done, sizeof *sorted, key_cmp_q);
            check_answers(ctx, run_id, sorted, done, maxes, sizeof maxes / sizeof maxes[0], &ok);
            CHECK(ok);
            CHECK(cn_store_query_int(ctx, &dirty, &found,
                                     "SELECT count(*) FROM latest_metrics WHERE run_uuid = ? AND "
                                     "key = 'm' AND dirty_lo IS NULL AND blocks = 1",
                                     "s", run_id) == CAIRN_OK &&
                  dirty == 1); /* the recomputed blocks were kept */
            free(sorted);
        }
    }
    qsort(q, n2, sizeof *q, key_cmp_q);

    /* A read-only context answers from the points and what is kept, writing nothing. */
    cairn_metric extra = {
        .key = "m", .step = q[n2 - 1].step + 5000, .timestamp_ms = 1, .value = 3.5};
    CHECK(cairn_runs_log_batch(ctx, run_id, &extra, 1, NULL, 0, NULL, 0) == CAIRN_OK);
    q[n2++] = extra;
    cairn_ctx *ro_ctx = fixture_open_read_only();
    if (ro_ctx) {
        check_answers(ro_ctx, run_id, q, n2, maxes, sizeof maxes / sizeof maxes[0], &ok);
        CHECK(ok);
        cairn_close(ro_ctx);
        CHECK(cn_store_query_int(ctx, &dirty, &found,
                                 "SELECT count(*) FROM latest_metrics WHERE run_uuid = ? AND "
                                 "key = 'm' AND dirty_lo IS NOT NULL",
                                 "s", run_id) == CAIRN_OK &&
              dirty == 1); /* still to be computed again */
    }
    check_answers(ctx, run_id, q, n2, maxes, sizeof maxes / sizeof maxes[0], &ok);
    CHECK(ok);
    free(q);
    free(shuffled);
    free(p);
    cairn_free(exp);
    cairn_free(run_id);
    cairn_close(ctx);
}

/* A sparse series (few points over many blocks) comes whole: it fits in max_points. */
TEST(sparse_series_whole)
{
    cairn_ctx *ctx = fixture_open();
    char *exp = NULL, *run_id = NULL;
    CHECK(cairn_experiment_create(ctx, fixture_name("sparse"), NULL, NULL, 0, &exp) == CAIRN_OK);
    cairn_run_opts ro = CAIRN_RUN_OPTS_INIT;
    ro.experiment = NULL;
    ro.experiment_id = exp;
    CHECK(cairn_runs_create(ctx, &ro, &run_id) == CAIRN_OK);
    cairn_metric p[100];
    for (size_t i = 0; i < 100; i++)
        p[i] = (cairn_metric){
            .key = "m", .step = (int64_t)i * 100000, .timestamp_ms = 1, .value = (double)i};
    CHECK(cairn_runs_log_batch(ctx, run_id, p, 100, NULL, 0, NULL, 0) == CAIRN_OK);
    cairn_downsample_opts o = CAIRN_DOWNSAMPLE_OPTS_INIT;
    o.max_points = 100;
    cairn_metric_series *s = NULL;
    CHECK(cairn_run_metric_downsample(ctx, run_id, "m", &o, &s) == CAIRN_OK);
    CHECK(s && s->n == 100 && s->total == 100 && !s->is_downsampled);
    cairn_metric_series_free(s);
    o.max_points = 40; /* 20,000 blocks, 10 buckets: each keeps its 10 points' ends and extremes */
    CHECK(cairn_run_metric_downsample(ctx, run_id, "m", &o, &s) == CAIRN_OK);
    CHECK(s && s->total == 100 && s->is_downsampled && s->n == 20);
    CHECK(s && s->points[0].step == 0 && s->points[s->n - 1].step == 9900000);
    cairn_metric_series_free(s);
    cairn_free(exp);
    cairn_free(run_id);
    cairn_close(ctx);
}

UNIT_MAIN(UNIT_CASE(blocks_match_points), UNIT_CASE(sparse_series_whole))
