/* SPDX-License-Identifier: MIT */
/* sampler_auto.c - the `auto` sampler's rule: which sampler a space and a trial budget get
 * (docs/hpo.md "auto", with the measurements of bench/bench_hpo_samplers.c behind it). auto
 * is resolved when the sampler is made: the sampler it makes is the chosen one (its name is
 * "grid", "cmaes" or "tpe"), so a grid chosen by auto is claimed point by point like any
 * grid. */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "hpo/hpo_internal.h"
#include "base/banned.h"

/* CMA-ES needs a population of a few generations to move: below this budget TPE decides. In
 * the measurements CMA-ES already matched or beat TPE at 30 trials on every continuous
 * problem (Branin, Rosenbrock 5-D and 10-D, shifted Ackley 5-D). */
#define AUTO_CMAES_MIN_TRIALS 30
#define AUTO_CMAES_MAX_DIMS 200
/* From this budget on, the first min(40, 40 % of the budget) trials are multivariate TPE's
 * (Optuna's density) and CMA-ES starts from the best of them. Optuna's density makes TPE the
 * better optimizer but its wide kernels need trials to concentrate: after 20 trials CMA-ES
 * started worse from it than from the textbook density's TPE, after 30-40 better than either
 * (docs/hpo.md "Why 40 trials with Optuna's density": seeds 20-59 at a budget of 200, and
 * budgets of 80 and 500). */
#define AUTO_WARM_MIN_TRIALS 50
#define AUTO_WARM_MAX 40
/* A space with categorical parameters and at least 2 numeric ones, from 100 trials: the first
 * 30 % of the budget (at least 40 trials) multivariate TPE (Optuna's density), then CMA-ES on
 * the numeric parameters while the TPE keeps proposing the categorical ones (Optuna's
 * CmaEsSampler with a TPE as its independent sampler). The TPE phase has to rank the
 * categories before CMA-ES narrows the numbers around one of them: once it has, the numbers
 * fit that category and the TPE keeps choosing it. On the benchmark's mixed space, 40 seeds
 * at 200 trials, a start of 20 trials left half the seeds on a wrong category, 40 left 14, 60
 * left 8, 80 left 5; CMA-ES still converged faster than TPE after any of them (docs/hpo.md).
 * Below 100 trials CMA-ES has too few generations left and multivariate TPE alone was
 * better. */
#define AUTO_MIXED_MIN_TRIALS 100
#define AUTO_MIXED_MIN_WARM 40
#define AUTO_MIXED_MAX_WARM 1000000 /* cmaes's largest warm_start */

const char *cn_sampler_auto_choose(cairn_ctx *ctx, const cairn_space *sp, int64_t budget, char *buf,
                                   size_t cap)
{
    bool all_discrete = true, cma_ok = true, any_cond = false;
    size_t n_free = 0, n_numeric = 0;
    for (size_t i = 0; i < sp->n; i++) {
        const cn_param *p = &sp->params[i];
        if (p->type == CAIRN_SPACE_PARAM_CONST ||
            (p->type != CAIRN_SPACE_PARAM_CATEGORICAL && p->low == p->high))
            continue;
        n_free++;
        if (p->type == CAIRN_SPACE_PARAM_FLOAT && p->step == 0)
            all_discrete = false;
        if (p->type == CAIRN_SPACE_PARAM_CATEGORICAL || p->n_conds > 0)
            cma_ok = false;
        else
            n_numeric++;
        any_cond = any_cond || p->n_conds > 0;
    }
    if (all_discrete) {
        /* every point once beats sampling with repeats when the budget covers the grid */
        cairn_sampler *g = NULL;
        uint64_t size = 0;
        bool small = false;
        if (cairn_sampler_new(ctx, sp, "grid", 0, &g) == CAIRN_OK &&
            cairn_sampler_grid_size(g, &size) == CAIRN_OK)
            small = size <= (uint64_t)budget;
        cairn_sampler_free(g);
        if (small)
            return "grid";
    }
    if (cma_ok && n_free >= 2 && n_free <= AUTO_CMAES_MAX_DIMS && budget >= AUTO_WARM_MIN_TRIALS) {
        int64_t warm = budget * 2 / 5 > AUTO_WARM_MAX ? AUTO_WARM_MAX : budget * 2 / 5;
        /* half the log term of Hansen's default population (4 + 3 ln d): the TPE start has
         * done the global search a large population buys, and a smaller one gets more
         * generations from the rest of the budget (docs/hpo.md "Why a smaller population") */
        int64_t popsize = 4 + (int64_t)floor(1.5 * log((double)n_free));
        snprintf(buf, cap,
                 "cmaes:warm_start=%lld,warm_sampler=tpe_mv,warm_density=optuna,popsize=%lld",
                 (long long)warm, (long long)popsize);
        return buf;
    }
    if (cma_ok && n_free >= 2 && n_free <= AUTO_CMAES_MAX_DIMS && budget >= AUTO_CMAES_MIN_TRIALS)
        return "cmaes";
    /* categorical parameters among numeric ones; conditional spaces stay TPE's (its groups
     * model them; the hybrid was not measured on one) */
    if (!cma_ok && !any_cond && n_numeric >= 2 && n_numeric <= AUTO_CMAES_MAX_DIMS &&
        budget >= AUTO_MIXED_MIN_TRIALS) {
        int64_t warm = budget * 3 / 10;
        warm = warm < AUTO_MIXED_MIN_WARM   ? AUTO_MIXED_MIN_WARM
               : warm > AUTO_MIXED_MAX_WARM ? AUTO_MIXED_MAX_WARM
                                            : warm;
        snprintf(buf, cap,
                 "cmaes:warm_start=%lld,warm_sampler=tpe_mv,warm_density=optuna,independent=warm",
                 (long long)warm);
        return buf;
    }
    return "tpe:multivariate=true,group=true,constant_liar=true";
}
