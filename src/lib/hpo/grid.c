/* SPDX-License-Identifier: MIT */
/* grid.c - the grid sampler: every combination of the parameters' values, with a parameter
 * left out where its condition does not hold (so no point repeats), each point once. The grid
 * is enumerated when the sampler is made; a trial takes a point no trial of the history holds,
 * chosen at random among them (as Optuna's GridSampler), and the index functions let a store
 * claim points atomically. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "hpo/hpo_internal.h"
#include "core/core.h"
#include "base/xmalloc.h"
#include "base/banned.h"

typedef struct grid {
    size_t n_params;
    size_t *n_values; /* per parameter */
    double **values;  /* per parameter, ascending for numbers */
    uint64_t n_points;
    int32_t *points; /* n_points x n_params value indices, -1 where inactive */
    size_t cap;
    uint64_t *slots; /* open addressing: point index + 1, 0 empty */
    size_t n_slots;
    bool overflow;
} grid;

static uint64_t hash_point(const int32_t *idx, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (uint32_t)idx[i]) * 0x100000001b3ULL;
    return h ^ (h >> 29);
}

static void enumerate(const cairn_space *sp, grid *g, size_t k, double *x, int32_t *idx)
{
    if (g->overflow)
        return;
    if (k == sp->n) {
        if ((g->n_points + 1) * (sp->n ? sp->n : 1) > CN_HPO_MAX_GRID_CELLS) {
            g->overflow = true;
            return;
        }
        if (g->n_points == g->cap) {
            g->cap = g->cap ? g->cap * 2 : 64;
            g->points = cn_xrealloc(g->points, g->cap * sp->n * sizeof *g->points);
        }
        memcpy(g->points + g->n_points * sp->n, idx, sp->n * sizeof *idx);
        g->n_points++;
        return;
    }
    size_t i = sp->order[k];
    if (!cn_space_active(sp, i, x)) {
        x[i] = NAN;
        idx[i] = -1;
        enumerate(sp, g, k + 1, x, idx);
        return;
    }
    for (size_t j = 0; j < g->n_values[i] && !g->overflow; j++) {
        x[i] = g->values[i][j];
        idx[i] = (int32_t)j;
        enumerate(sp, g, k + 1, x, idx);
    }
    x[i] = NAN;
}

static void grid_free(cairn_sampler *s)
{
    grid *g = s->impl;
    if (!g)
        return;
    for (size_t i = 0; i < g->n_params; i++)
        free(g->values[i]);
    free(g->values);
    free(g->n_values);
    free(g->points);
    free(g->slots);
    free(g);
}

static cairn_status grid_create(cairn_sampler *s, cn_spec *spec)
{
    const cairn_space *sp = s->space;
    int64_t points = 10;
    cairn_status rc = cn_spec_int(s->ctx, spec, "points", 1, 1000000, &points);
    if (rc == CAIRN_OK)
        rc = cn_spec_check_used(s->ctx, "sampler", spec, "points");
    if (rc != CAIRN_OK)
        return rc;
    grid *g = cn_xcalloc(1, sizeof *g);
    s->impl = g;
    g->n_params = sp->n;
    g->n_values = cn_xcalloc(sp->n, sizeof *g->n_values);
    g->values = cn_xcalloc(sp->n, sizeof *g->values);
    for (size_t i = 0; i < sp->n; i++) {
        const cn_param *p = &sp->params[i];
        double count;
        if (p->type == CAIRN_SPACE_PARAM_CATEGORICAL || p->type == CAIRN_SPACE_PARAM_CONST)
            count = (double)p->n_choices;
        else if (p->type == CAIRN_SPACE_PARAM_INT && p->log)
            count = p->high - p->low + 1;
        else if (p->step > 0)
            count = floor((p->high - p->low) / p->step + 0.5) + 1;
        else
            count = p->high > p->low ? (double)points : 1;
        if (count > (double)CN_HPO_MAX_GRID_CELLS)
            return cn_fail(s->ctx, CAIRN_ELIMIT,
                           "sampler 'grid': parameter '%s' has %.0f values; at most %u points "
                           "x parameters",
                           p->name, count, CN_HPO_MAX_GRID_CELLS);
        size_t n = (size_t)count;
        g->n_values[i] = n;
        g->values[i] = cn_xcalloc(n, sizeof(double));
        for (size_t j = 0; j < n; j++) {
            double v;
            if (p->type == CAIRN_SPACE_PARAM_CATEGORICAL || p->type == CAIRN_SPACE_PARAM_CONST)
                v = (double)j;
            else if (p->type == CAIRN_SPACE_PARAM_INT && p->log)
                v = p->low + (double)j;
            else if (p->step > 0)
                v = p->low + (double)j * p->step;
            else if (n == 1)
                v = p->low;
            else if (p->log)
                v = exp(log(p->low) + (log(p->high) - log(p->low)) * (double)j / (double)(n - 1));
            else
                v = p->low + (p->high - p->low) * (double)j / (double)(n - 1);
            if (p->type == CAIRN_SPACE_PARAM_FLOAT && !(p->step > 0)) {
                /* exp(log(x)) may miss the bounds by an ulp: the ends are exact. */
                if (j == 0)
                    v = p->low;
                if (j == n - 1 && n > 1)
                    v = p->high;
                v = v < p->low ? p->low : v > p->high ? p->high : v;
            }
            g->values[i][j] = v;
        }
    }
    double *x = cn_xcalloc(sp->n, sizeof *x);
    int32_t *idx = cn_xcalloc(sp->n, sizeof *idx);
    for (size_t i = 0; i < sp->n; i++)
        x[i] = NAN;
    enumerate(sp, g, 0, x, idx);
    free(x);
    free(idx);
    if (g->overflow)
        return cn_fail(s->ctx, CAIRN_ELIMIT,
                       "sampler 'grid': more than %u points x parameters; lower grid:points or "
                       "the ranges",
                       CN_HPO_MAX_GRID_CELLS);
    g->n_slots = 16;
    while (g->n_slots < g->n_points * 2)
        g->n_slots *= 2;
    g->slots = cn_xcalloc(g->n_slots, sizeof *g->slots);
    for (uint64_t k = 0; k < g->n_points; k++) {
        size_t h = hash_point(g->points + k * sp->n, sp->n) & (g->n_slots - 1);
        while (g->slots[h])
            h = (h + 1) & (g->n_slots - 1);
        g->slots[h] = k + 1;
    }
    return CAIRN_OK;
}

/* The value index of v for parameter i, -1 when v is none of them. */
static int32_t value_index(const grid *g, const cn_param *p, size_t i, double v)
{
    if (isnan(v))
        return -1;
    const double *vals = g->values[i];
    size_t n = g->n_values[i];
    size_t lo = 0, hi = n;
    while (lo < hi) { /* the first value >= v (with a relative tolerance) */
        size_t mid = (lo + hi) / 2;
        if (vals[mid] < v - 1e-12 * (fabs(v) + 1))
            lo = mid + 1;
        else
            hi = mid;
    }
    (void)p;
    if (lo < n && fabs(vals[lo] - v) <= 1e-9 * (fabs(v) + 1e-300) + 1e-300)
        return (int32_t)lo;
    return -2;
}

static bool find_point(const cairn_sampler *s, const double *params, uint64_t *out)
{
    const grid *g = s->impl;
    const cairn_space *sp = s->space;
    int32_t *idx = cn_xcalloc(sp->n ? sp->n : 1, sizeof *idx);
    bool ok = true;
    for (size_t i = 0; i < sp->n && ok; i++) {
        idx[i] = value_index(g, &sp->params[i], i, params[i]);
        if (idx[i] == -2)
            ok = false;
    }
    if (ok) {
        ok = false;
        size_t h = hash_point(idx, sp->n) & (g->n_slots - 1);
        while (g->slots[h]) {
            uint64_t k = g->slots[h] - 1;
            if (memcmp(g->points + k * sp->n, idx, sp->n * sizeof *idx) == 0) {
                *out = k;
                ok = true;
                break;
            }
            h = (h + 1) & (g->n_slots - 1);
        }
    }
    free(idx);
    return ok;
}

static void point_params(const cairn_sampler *s, uint64_t k, double *params)
{
    const grid *g = s->impl;
    const int32_t *idx = g->points + k * s->space->n;
    for (size_t i = 0; i < s->space->n; i++)
        params[i] = idx[i] < 0 ? NAN : g->values[i][idx[i]];
}

static cairn_status grid_ask(cairn_sampler *s, const cairn_history *h, int64_t number,
                             double *params)
{
    grid *g = s->impl;
    uint8_t *used = cn_xcalloc((size_t)(g->n_points / 8 + 1), 1);
    uint64_t n_used = 0, k;
    for (size_t t = 0; t < h->n_trials; t++) {
        const cairn_trial_record *tr = &h->trials[t];
        if (tr->number == number || !tr->params || !find_point(s, tr->params, &k))
            continue;
        if (!(used[k / 8] & (1u << (k % 8)))) {
            used[k / 8] |= (uint8_t)(1u << (k % 8));
            n_used++;
        }
    }
    if (n_used == g->n_points) {
        free(used);
        return cn_fail(s->ctx, CAIRN_ELIMIT,
                       "sampler 'grid': grid exhausted: all %llu points "
                       "were tried",
                       (unsigned long long)g->n_points);
    }
    cn_rng r;
    cn_hpo_rng(&r, s->seed, number, 1);
    uint64_t pick = cn_rng_below(&r, g->n_points - n_used);
    for (k = 0; k < g->n_points; k++) {
        if (used[k / 8] & (1u << (k % 8)))
            continue;
        if (pick-- == 0)
            break;
    }
    free(used);
    point_params(s, k, params);
    return CAIRN_OK;
}

const cn_sampler_ops cn_sampler_grid_ops = {"grid", grid_create, grid_ask, grid_free};

cairn_status cairn_sampler_grid_size(const cairn_sampler *s, uint64_t *n)
{
    if (s->ops != &cn_sampler_grid_ops)
        return cn_fail(s->ctx, CAIRN_EINVAL, "sampler '%s' is not a grid", s->ops->name);
    *n = ((const grid *)s->impl)->n_points;
    return CAIRN_OK;
}

cairn_status cairn_sampler_grid_point(const cairn_sampler *s, uint64_t i, double *params)
{
    if (s->ops != &cn_sampler_grid_ops)
        return cn_fail(s->ctx, CAIRN_EINVAL, "sampler '%s' is not a grid", s->ops->name);
    if (i >= ((const grid *)s->impl)->n_points)
        return cn_fail(s->ctx, CAIRN_EINVAL, "sampler 'grid': point %llu of %llu",
                       (unsigned long long)i,
                       (unsigned long long)((const grid *)s->impl)->n_points);
    point_params(s, i, params);
    return CAIRN_OK;
}

cairn_status cairn_sampler_grid_index(const cairn_sampler *s, const double *params, uint64_t *i)
{
    if (s->ops != &cn_sampler_grid_ops)
        return cn_fail(s->ctx, CAIRN_EINVAL, "sampler '%s' is not a grid", s->ops->name);
    if (!find_point(s, params, i))
        return cn_fail(s->ctx, CAIRN_ENOTFOUND, "sampler 'grid': the point is not on the grid");
    return CAIRN_OK;
}
