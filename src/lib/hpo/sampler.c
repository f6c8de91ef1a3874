/* SPDX-License-Identifier: MIT */
/* sampler.c - the sampler registry and the public sampler calls (include/cairn/hpo.h), plus
 * the random sampler, which TPE also uses for its start-up trials. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "hpo/hpo_internal.h"
#include "core/core.h"
#include "base/xmalloc.h"
#include "base/banned.h"

static const cn_sampler_ops *const samplers[] = {
    &cn_sampler_random_ops, &cn_sampler_grid_ops,  &cn_sampler_sobol_ops,
    &cn_sampler_tpe_ops,    &cn_sampler_cmaes_ops,
};

static uint64_t splitmix(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

void cn_hpo_rng(cn_rng *r, uint64_t seed, int64_t number, uint64_t stream)
{
    cn_rng_seed(r, splitmix(splitmix(seed) ^ splitmix((uint64_t)number * 2 + 1) ^
                            splitmix(stream + 0x5bd1e995ULL)));
}

void cn_random_fill(const cairn_space *sp, cn_rng *r, double *params)
{
    for (size_t i = 0; i < sp->n; i++)
        params[i] = NAN;
    for (size_t k = 0; k < sp->n; k++) {
        size_t i = sp->order[k];
        const cn_param *p = &sp->params[i];
        double u = cn_rng_uniform(r); /* drawn for every parameter: the stream stays aligned */
        if (!cn_space_active(sp, i, params))
            continue;
        if (p->type == CAIRN_SPACE_PARAM_CATEGORICAL)
            params[i] = (double)cn_rng_below(r, p->n_choices);
        else
            params[i] = cn_param_from_unit(p, u);
    }
}

cairn_status cairn_sampler_new(cairn_ctx *ctx, const cairn_space *space, const char *spec,
                               uint64_t seed, cairn_sampler **out)
{
    cn_spec sp;
    *out = NULL;
    cairn_status rc = cn_spec_parse(ctx, "sampler", spec, &sp);
    if (rc != CAIRN_OK)
        return rc;
    if (strcmp(sp.name, "auto") == 0 && !sp.rest) {
        int64_t budget = 100;
        rc = cn_spec_int(ctx, &sp, "trials", 1, INT64_C(1000000000), &budget);
        if (rc == CAIRN_OK)
            rc = cn_spec_check_used(ctx, "sampler", &sp, "trials");
        cn_spec_release(&sp);
        if (rc != CAIRN_OK)
            return rc;
        char buf[CN_AUTO_SPEC_MAX];
        return cairn_sampler_new(
            ctx, space, cn_sampler_auto_choose(ctx, space, budget, buf, sizeof buf), seed, out);
    }
    const cn_sampler_ops *ops = NULL;
    for (size_t i = 0; i < CN_ARRAY_LEN(samplers); i++)
        if (strcmp(samplers[i]->name, sp.name) == 0)
            ops = samplers[i];
    if (!ops || sp.rest) {
        rc = cn_fail(ctx, CAIRN_EINVAL,
                     "unknown sampler '%s'; allowed: auto, random, grid, sobol, tpe, cmaes", spec);
        cn_spec_release(&sp);
        return rc;
    }
    cairn_sampler *s = cn_xcalloc(1, sizeof *s);
    s->ops = ops;
    s->ctx = ctx;
    s->space = space;
    s->seed = seed;
    rc = ops->create(s, &sp);
    cn_spec_release(&sp);
    if (rc != CAIRN_OK) {
        cairn_sampler_free(s);
        return rc;
    }
    *out = s;
    return CAIRN_OK;
}

void cairn_sampler_free(cairn_sampler *s)
{
    if (!s)
        return;
    if (s->ops->free)
        s->ops->free(s);
    free(s);
}

const char *cairn_sampler_name(const cairn_sampler *s)
{
    return s->ops->name;
}

cairn_status cairn_sampler_ask(cairn_sampler *s, const cairn_history *history, int64_t number,
                               double *params)
{
    static const cairn_history empty = {0};
    if (!history)
        history = &empty;
    if (number < 0)
        return cn_fail(s->ctx, CAIRN_EINVAL, "sampler: trial number %lld is negative",
                       (long long)number);
    return s->ops->ask(s, history, number, params);
}

/* ---- random ---- */

static cairn_status random_create(cairn_sampler *s, cn_spec *spec)
{
    return cn_spec_check_used(s->ctx, "sampler", spec, "");
}

static cairn_status random_ask(cairn_sampler *s, const cairn_history *h, int64_t number,
                               double *params)
{
    (void)h;
    cn_rng r;
    cn_hpo_rng(&r, s->seed, number, 0);
    cn_random_fill(s->space, &r, params);
    return CAIRN_OK;
}

const cn_sampler_ops cn_sampler_random_ops = {"random", random_create, random_ask, NULL};
