/* SPDX-License-Identifier: MIT */
/* resample.c - seeded resampling for evaluation: stratified k-fold assignment and percentile
 * bootstrap confidence intervals of any metric (given as a callback over row indices),
 * alone or as a paired difference of two models. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "cairn/eval.h"
#include "core/core.h"
#include "base/rng.h"
#include "base/xmalloc.h"
#include "eval/evalint.h"
#include "base/banned.h"

#define MAX_RESAMPLES 10000000u

cairn_status cairn_stratified_kfold(cairn_ctx *ctx, const int32_t *y, size_t n, size_t n_classes,
                                    size_t n_folds, uint64_t seed, int32_t *fold_of)
{
    cairn_status rc = cn_eval_check_labels(ctx, y, n, n_classes, "y");
    if (rc != CAIRN_OK)
        return rc;
    if (n_folds < 2 || n_folds > n || n_folds > INT32_MAX)
        return cn_fail(ctx, CAIRN_EINVAL, "n_folds %zu must be at least 2 and at most the %zu rows",
                       n_folds, n);
    cn_rng rng;
    cn_rng_seed(&rng, seed);
    size_t *rows = cn_xmalloc(n * sizeof *rows);
    size_t offset = 0;
    for (size_t k = 0; k < n_classes; k++) {
        size_t m = 0;
        for (size_t i = 0; i < n; i++)
            if ((size_t)y[i] == k)
                rows[m++] = i;
        for (size_t i = m; i > 1; i--) { /* Fisher-Yates */
            size_t j = (size_t)cn_rng_below(&rng, i);
            size_t t = rows[i - 1];
            rows[i - 1] = rows[j];
            rows[j] = t;
        }
        /* Deal round-robin, continuing where the previous class stopped, so every class is
         * split as evenly as possible and the fold sizes differ by at most one too. */
        for (size_t i = 0; i < m; i++)
            fold_of[rows[i]] = (int32_t)((offset + i) % n_folds);
        offset = (offset + m) % n_folds;
    }
    free(rows);
    return CAIRN_OK;
}

static void opts_resolve(const cairn_bootstrap_opts *opts, size_t *b, double *conf, uint64_t *seed)
{
    *b = opts && opts->n_resamples ? opts->n_resamples : 1000;
    *conf = opts && opts->confidence > 0 ? opts->confidence : 0.95;
    *seed = opts ? opts->seed : 0;
}

static cairn_status bootstrap(cairn_ctx *ctx, size_t n, cairn_metric_fn fa, void *ua,
                              cairn_metric_fn fb, void *ub, const cairn_bootstrap_opts *opts,
                              cairn_interval *out)
{
    size_t b_total;
    double conf;
    uint64_t seed;
    opts_resolve(opts, &b_total, &conf, &seed);
    memset(out, 0, sizeof *out);
    if (n == 0)
        return cn_fail(ctx, CAIRN_EINVAL, "bootstrap needs at least one row");
    if (!(conf > 0 && conf < 1))
        return cn_fail(ctx, CAIRN_EINVAL, "bootstrap confidence %g must be in (0, 1)", conf);
    if (b_total > MAX_RESAMPLES)
        return cn_fail(ctx, CAIRN_ELIMIT, "bootstrap resamples %zu exceed the limit of %u", b_total,
                       MAX_RESAMPLES);
    size_t *idx = cn_xmalloc(n * sizeof *idx);
    double *values = cn_xmalloc(b_total * sizeof *values);
    cairn_status rc;
    double va, vb = 0;
    for (size_t i = 0; i < n; i++)
        idx[i] = i;
    rc = fa(ctx, idx, n, ua, &va);
    if (rc == CAIRN_OK && fb)
        rc = fb(ctx, idx, n, ub, &vb);
    if (rc != CAIRN_OK) {
        cn_errctx(ctx, "bootstrap: metric on the original rows");
        goto done;
    }
    out->estimate = va - vb;
    cn_rng rng;
    cn_rng_seed(&rng, seed);
    size_t valid = 0;
    for (size_t r = 0; r < b_total; r++) {
        for (size_t i = 0; i < n; i++)
            idx[i] = (size_t)cn_rng_below(&rng, n);
        rc = fa(ctx, idx, n, ua, &va);
        if (rc == CAIRN_OK && fb)
            rc = fb(ctx, idx, n, ub, &vb);
        if (rc == CAIRN_EINVAL)
            continue; /* undefined on this resample (e.g. one class only) */
        if (rc != CAIRN_OK)
            goto done;
        if (isnan(va - vb))
            continue;
        values[valid++] = va - vb;
    }
    rc = CAIRN_OK;
    if (valid * 2 < b_total || valid == 0) {
        rc = cn_fail(ctx, CAIRN_EINVAL,
                     "bootstrap: the metric is undefined on %zu of %zu resamples; too few rows",
                     b_total - valid, b_total);
        goto done;
    }
    cn_eval_sort(values, valid);
    out->low = cn_eval_percentile_sorted(values, valid, (1 - conf) / 2 * 100);
    out->high = cn_eval_percentile_sorted(values, valid, (1 + conf) / 2 * 100);
    out->n_valid = valid;
done:
    free(idx);
    free(values);
    return rc;
}

cairn_status cairn_bootstrap_ci(cairn_ctx *ctx, size_t n, cairn_metric_fn metric, void *user,
                                const cairn_bootstrap_opts *opts, cairn_interval *out)
{
    return bootstrap(ctx, n, metric, user, NULL, NULL, opts, out);
}

cairn_status cairn_bootstrap_paired_diff(cairn_ctx *ctx, size_t n, cairn_metric_fn metric_a,
                                         void *user_a, cairn_metric_fn metric_b, void *user_b,
                                         const cairn_bootstrap_opts *opts, cairn_interval *out)
{
    return bootstrap(ctx, n, metric_a, user_a, metric_b, user_b, opts, out);
}
