/* SPDX-License-Identifier: MIT */
/* profile.c - how fast a model answers: latency percentiles and throughput of its predict call
 * at a few batch sizes (cairn model profile records them in the registry). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "cairn/train.h"
#include "cairn/learn.h"
#include "core/core.h"
#include "base/time.h"
#include "base/xmalloc.h"
#include "base/banned.h"

#define WARMUP_CALLS 3
#define MIN_CALLS 20
#define MAX_CALLS 200000

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Nearest-rank percentile of sorted v[0..n). */
static double rank(const double *v, size_t n, double q)
{
    size_t k = (size_t)ceil(q * (double)n);
    return v[k ? k - 1 : 0];
}

static cairn_status check_features(cairn_ctx *ctx, const cairn_model *m, const cairn_table *t)
{
    for (size_t f = 0; f < cairn_model_n_features(m); f++) {
        const char *name = cairn_model_feature_name(m, f);
        int c = cairn_table_find(t, name);
        cairn_col_type want = cairn_model_feature_type(m, f);
        if (c < 0)
            return cn_fail(ctx, CAIRN_EINVAL,
                           "the profile's data has no column '%s', a feature of the model; give "
                           "rows like the training data",
                           name);
        if (t->cols[c].type != want)
            return cn_fail(ctx, CAIRN_EINVAL,
                           "the profile's data column '%s' is %s; the model expects a %s feature",
                           name, t->cols[c].type == CAIRN_COL_NUMERIC ? "numeric" : "categorical",
                           want == CAIRN_COL_NUMERIC ? "numeric" : "categorical");
    }
    if (t->n_rows == 0)
        return cn_fail(ctx, CAIRN_EINVAL, "the profile's data has no rows");
    return CAIRN_OK;
}

static cairn_status one_batch(cairn_ctx *ctx, const cairn_model *m, const cairn_table *t,
                              size_t batch, double seconds, cairn_profile_batch *out)
{
    size_t k = cairn_model_n_classes(m);
    size_t *rows = cn_xmalloc(batch * sizeof *rows);
    double *pred = cn_xmalloc(batch * (k ? k : 1) * sizeof *pred);
    size_t cap = 1024, n = 0, next = 0;
    double *lat = cn_xmalloc(cap * sizeof *lat);
    int64_t budget = (int64_t)(seconds * 1e9), spent = 0;
    cairn_status rc = CAIRN_OK;
    for (size_t call = 0; rc == CAIRN_OK; call++) {
        if (call >= WARMUP_CALLS + MIN_CALLS && (spent >= budget || n >= MAX_CALLS))
            break;
        for (size_t i = 0; i < batch; i++) {
            rows[i] = next;
            next = next + 1 == t->n_rows ? 0 : next + 1;
        }
        int64_t t0 = cn_mono_ns();
        rc = k ? cairn_model_predict_proba(ctx, m, t, rows, batch, pred)
               : cairn_model_predict(ctx, m, t, rows, batch, pred);
        int64_t dt = cn_mono_ns() - t0;
        if (call < WARMUP_CALLS)
            continue;
        if (n == cap) {
            cap *= 2;
            lat = cn_xrealloc(lat, cap * sizeof *lat);
        }
        lat[n++] = (double)dt / 1e6;
        spent += dt;
    }
    if (rc == CAIRN_OK) {
        qsort(lat, n, sizeof *lat, cmp_double);
        double total = 0;
        for (size_t i = 0; i < n; i++)
            total += lat[i];
        *out = (cairn_profile_batch){.batch = batch,
                                     .n_calls = n,
                                     .p50_ms = rank(lat, n, 0.50),
                                     .p95_ms = rank(lat, n, 0.95),
                                     .p99_ms = rank(lat, n, 0.99),
                                     .mean_ms = total / (double)n,
                                     .rows_per_s = total > 0 ? (double)(n * batch) / (total / 1e3)
                                                             : INFINITY};
    }
    free(rows);
    free(pred);
    free(lat);
    return rc;
}

cairn_status cairn_model_profile_run(cairn_ctx *ctx, const cairn_model *m, const cairn_table *t,
                                     const cairn_model_profile_opts *o, cairn_model_profile *out)
{
    static const size_t defaults[] = {1, 32, 1024};
    memset(out, 0, sizeof *out);
    const size_t *batches = o && o->batches ? o->batches : defaults;
    size_t nb = o && o->batches ? o->n_batches : 3;
    double seconds = o && o->seconds > 0 ? o->seconds : 1.0;
    if (nb == 0 || nb > CAIRN_PROFILE_MAX_BATCHES)
        return cn_fail(ctx, CAIRN_EINVAL, "profile: 1 to %d batch sizes",
                       CAIRN_PROFILE_MAX_BATCHES);
    for (size_t i = 0; i < nb; i++)
        if (batches[i] < 1 || batches[i] > 1000000)
            return cn_fail(ctx, CAIRN_EINVAL, "profile: batch size %zu is not 1 to 1,000,000",
                           batches[i]);
    if (!(seconds <= 3600))
        return cn_fail(ctx, CAIRN_EINVAL, "profile: at most 3,600 seconds a batch size");
    cairn_status rc = check_features(ctx, m, t);
    for (size_t i = 0; i < nb && rc == CAIRN_OK; i++) {
        rc = one_batch(ctx, m, t, batches[i], seconds, &out->batches[i]);
        if (rc == CAIRN_OK)
            out->n_batches = i + 1;
    }
    return rc;
}
