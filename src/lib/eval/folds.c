/* SPDX-License-Identifier: MIT */
/* folds.c - k-fold assignments besides cairn_stratified_kfold (resample.c): plain k-fold,
 * group k-fold and stratified group k-fold, as scikit-learn 1.2's KFold, GroupKFold and
 * StratifiedGroupKFold. Used by `cairn train`'s cv:. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "cairn/eval.h"
#include "core/core.h"
#include "base/rng.h"
#include "base/xmalloc.h"
#include "eval/evalint.h"
#include "base/banned.h"

static void shuffle_sizes(size_t *a, size_t n, cn_rng *rng)
{
    for (size_t i = n; i > 1; i--) { /* Fisher-Yates */
        size_t j = (size_t)cn_rng_below(rng, i);
        size_t t = a[i - 1];
        a[i - 1] = a[j];
        a[j] = t;
    }
}

cairn_status cairn_kfold(cairn_ctx *ctx, size_t n, size_t n_folds, bool shuffle, uint64_t seed,
                         int32_t *fold_of)
{
    if (n_folds < 2 || n_folds > n || n_folds > INT32_MAX)
        return cn_fail(ctx, CAIRN_EINVAL, "n_folds %zu must be at least 2 and at most the %zu rows",
                       n_folds, n);
    size_t *order = cn_xmalloc(n * sizeof *order);
    for (size_t i = 0; i < n; i++)
        order[i] = i;
    if (shuffle) {
        cn_rng rng;
        cn_rng_seed(&rng, seed);
        shuffle_sizes(order, n, &rng);
    }
    /* KFold: consecutive blocks, the first n % k one row larger */
    size_t at = 0;
    for (size_t f = 0; f < n_folds; f++) {
        size_t size = n / n_folds + (f < n % n_folds);
        for (size_t i = 0; i < size; i++)
            fold_of[order[at++]] = (int32_t)f;
    }
    free(order);
    return CAIRN_OK;
}

static cairn_status check_groups(cairn_ctx *ctx, const int32_t *group, size_t n, size_t n_groups,
                                 size_t n_folds)
{
    if (n == 0)
        return cn_fail(ctx, CAIRN_EINVAL, "no rows to fold");
    for (size_t i = 0; i < n; i++)
        if (group[i] < 0 || (size_t)group[i] >= n_groups)
            return cn_fail(ctx, CAIRN_EINVAL, "group[%zu] = %d is not a group id in 0..%zu", i,
                           (int)group[i], n_groups ? n_groups - 1 : 0);
    if (n_folds < 2 || n_folds > n_groups)
        return cn_fail(ctx, CAIRN_EINVAL,
                       "%zu folds need at least as many groups, and there are %zu; use fewer "
                       "folds",
                       n_folds, n_groups);
    return CAIRN_OK;
}

typedef struct sized {
    size_t count, id;
} sized;

static int cmp_sized_desc(const void *a, const void *b)
{
    const sized *x = a, *y = b;
    if (x->count != y->count)
        return x->count > y->count ? -1 : 1;
    return x->id < y->id ? -1 : x->id > y->id; /* ties: lower group id first */
}

cairn_status cairn_group_kfold(cairn_ctx *ctx, const int32_t *group, size_t n, size_t n_groups,
                               size_t n_folds, int32_t *fold_of)
{
    cairn_status rc = check_groups(ctx, group, n, n_groups, n_folds);
    if (rc != CAIRN_OK)
        return rc;
    sized *g = cn_xcalloc(n_groups, sizeof *g);
    for (size_t j = 0; j < n_groups; j++)
        g[j].id = j;
    for (size_t i = 0; i < n; i++)
        g[group[i]].count++;
    qsort(g, n_groups, sizeof *g, cmp_sized_desc);
    /* GroupKFold: largest groups first, each into the fold with the fewest rows so far */
    size_t *fold_size = cn_xcalloc(n_folds, sizeof *fold_size);
    int32_t *fold_of_group = cn_xmalloc(n_groups * sizeof *fold_of_group);
    for (size_t j = 0; j < n_groups; j++) {
        size_t best = 0;
        for (size_t f = 1; f < n_folds; f++)
            if (fold_size[f] < fold_size[best])
                best = f;
        fold_size[best] += g[j].count;
        fold_of_group[g[j].id] = (int32_t)best;
    }
    for (size_t i = 0; i < n; i++)
        fold_of[i] = fold_of_group[group[i]];
    free(g);
    free(fold_size);
    free(fold_of_group);
    return CAIRN_OK;
}

typedef struct spread {
    double sd;
    size_t id;
} spread;

static int cmp_spread_desc(const void *a, const void *b)
{
    const spread *x = a, *y = b;
    if (x->sd != y->sd)
        return x->sd > y->sd ? -1 : 1;
    return x->id < y->id ? -1 : x->id > y->id; /* stable, as numpy's kind="stable" */
}

/* numpy.isclose(a, b): |a - b| <= 1e-8 + 1e-5 |b| (false for b infinite and a finite). */
static bool is_close(double a, double b)
{
    return isfinite(b) && fabs(a - b) <= 1e-8 + 1e-5 * fabs(b);
}

cairn_status cairn_stratified_group_kfold(cairn_ctx *ctx, const int32_t *y, size_t n_classes,
                                          const int32_t *group, size_t n, size_t n_groups,
                                          size_t n_folds, bool shuffle, uint64_t seed,
                                          int32_t *fold_of)
{
    cairn_status rc = check_groups(ctx, group, n, n_groups, n_folds);
    if (rc == CAIRN_OK)
        rc = cn_eval_check_labels(ctx, y, n, n_classes, "y");
    if (rc != CAIRN_OK)
        return rc;
    /* only the classes present in y count, as numpy.unique(y) there */
    size_t G = n_groups, F = n_folds, k = 0;
    int32_t *cls = cn_xmalloc(n_classes * sizeof *cls);
    bool *seen = cn_xcalloc(n_classes, sizeof *seen);
    for (size_t i = 0; i < n; i++)
        seen[y[i]] = true;
    for (size_t a = 0; a < n_classes; a++)
        cls[a] = seen[a] ? (int32_t)k++ : -1;
    double *per_group = cn_xcalloc(G * k, sizeof *per_group), *total = cn_xcalloc(k, sizeof *total);
    for (size_t i = 0; i < n; i++) {
        per_group[(size_t)group[i] * k + (size_t)cls[y[i]]] += 1;
        total[cls[y[i]]] += 1;
    }
    free(cls);
    free(seen);
    /* StratifiedGroupKFold: groups (shuffled first when asked) sorted stably by the standard
     * deviation of their class counts, largest first; each goes to the fold where the mean over
     * classes of the spread of per-fold class shares is smallest, ties to the smaller fold. */
    size_t *order = cn_xmalloc(G * sizeof *order);
    for (size_t j = 0; j < G; j++)
        order[j] = j;
    if (shuffle) {
        cn_rng rng;
        cn_rng_seed(&rng, seed);
        shuffle_sizes(order, G, &rng);
    }
    spread *sp = cn_xmalloc(G * sizeof *sp);
    for (size_t j = 0; j < G; j++) {
        const double *c = per_group + order[j] * k;
        double m = 0, v = 0;
        for (size_t a = 0; a < k; a++)
            m += c[a];
        m /= (double)k;
        for (size_t a = 0; a < k; a++)
            v += (c[a] - m) * (c[a] - m);
        sp[j] = (spread){sqrt(v / (double)k), j};
    }
    qsort(sp, G, sizeof *sp, cmp_spread_desc);
    double *per_fold = cn_xcalloc(F * k, sizeof *per_fold);
    int32_t *fold_of_group = cn_xmalloc(G * sizeof *fold_of_group);
    for (size_t j = 0; j < G; j++) {
        size_t g = order[sp[j].id];
        const double *gc = per_group + g * k;
        double min_eval = INFINITY, min_size = INFINITY;
        size_t best = 0;
        for (size_t f = 0; f < F; f++) {
            for (size_t a = 0; a < k; a++)
                per_fold[f * k + a] += gc[a];
            double eval = 0;
            for (size_t a = 0; a < k; a++) {
                double m = 0, v = 0;
                for (size_t h = 0; h < F; h++)
                    m += total[a] > 0 ? per_fold[h * k + a] / total[a] : 0;
                m /= (double)F;
                for (size_t h = 0; h < F; h++) {
                    double r = total[a] > 0 ? per_fold[h * k + a] / total[a] : 0;
                    v += (r - m) * (r - m);
                }
                eval += sqrt(v / (double)F);
            }
            eval /= (double)k;
            double size = 0;
            for (size_t a = 0; a < k; a++) {
                per_fold[f * k + a] -= gc[a];
                size += per_fold[f * k + a];
            }
            if (eval < min_eval || (is_close(eval, min_eval) && size < min_size)) {
                min_eval = eval;
                min_size = size;
                best = f;
            }
        }
        for (size_t a = 0; a < k; a++)
            per_fold[best * k + a] += gc[a];
        fold_of_group[g] = (int32_t)best;
    }
    for (size_t i = 0; i < n; i++)
        fold_of[i] = fold_of_group[group[i]];
    free(per_group);
    free(total);
    free(order);
    free(sp);
    free(per_fold);
    free(fold_of_group);
    return CAIRN_OK;
}
