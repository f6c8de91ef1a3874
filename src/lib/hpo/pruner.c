/* SPDX-License-Identifier: MIT */
/* pruner.c - Optuna 3.1's pruners over a trial history (include/cairn/hpo.h): median and
 * percentile, asynchronous successive halving, Hyperband, threshold and patient. The rules and
 * their order follow the modules of optuna.pruners; docs/hpo.md says where cairn differs
 * (successive halving reads rung values from the intermediate values instead of system attributes).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "hpo/hpo_internal.h"
#include "core/core.h"
#include "base/str.h"
#include "base/xmalloc.h"
#include "base/banned.h"

typedef enum pruner_kind {
    P_NONE,
    P_PERCENTILE,
    P_SH,
    P_HYPERBAND,
    P_THRESHOLD,
    P_PATIENT
} pruner_kind;

#define MAX_BRACKETS 64

struct cairn_pruner {
    pruner_kind kind;
    const char *name;
    cairn_ctx *ctx;
    /* percentile, median */
    double percentile;
    int64_t n_startup, n_warmup, interval, n_min_trials;
    /* successive halving (and each Hyperband bracket) */
    int64_t min_resource; /* 0: "auto", not learnt yet */
    bool auto_min_resource;
    int64_t eta, min_early_stopping_rate, bootstrap;
    /* hyperband */
    int64_t max_resource; /* 0: "auto", not learnt yet */
    int n_brackets;       /* 0: not initialised */
    int64_t budgets[MAX_BRACKETS], total_budget;
    /* threshold */
    double lower, upper;
    /* patient */
    int64_t patience;
    double min_delta;
    cairn_pruner *wrapped;
};

/* ---- helpers over trial records ---- */

static bool value_at(const cairn_trial_record *t, int64_t step, double *v)
{
    size_t lo = 0, hi = t->n_steps;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (t->steps[mid] < step)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < t->n_steps && t->steps[lo] == step) {
        *v = t->values[lo];
        return true;
    }
    return false;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* numpy.nanpercentile(values, p) with the default linear method; NaN when nothing is left. */
static double nanpercentile(double *v, size_t n, double p)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (!isnan(v[i]))
            v[k++] = v[i];
    if (k == 0)
        return NAN;
    qsort(v, k, sizeof *v, cmp_double);
    double idx = p / 100.0 * (double)(k - 1);
    double lo_f = floor(idx);
    size_t lo = (size_t)lo_f, hi = lo + 1 < k ? lo + 1 : k - 1;
    double t = idx - lo_f, a = v[lo], b = v[hi], diff = b - a;
    return t >= 0.5 ? b - diff * (1 - t) : a + diff * t; /* numpy's _lerp */
}

/* Optuna's _is_first_in_interval_step. */
static bool first_in_interval(const cairn_trial_record *t, int64_t step, int64_t warmup,
                              int64_t interval)
{
    int64_t nearest = (step - warmup) / interval * interval + warmup;
    int64_t second_last = -1;
    for (size_t i = 0; i < t->n_steps; i++)
        if (t->steps[i] > second_last && t->steps[i] != step)
            second_last = t->steps[i];
    return second_last < nearest;
}

static double nan_best(const double *v, size_t n, bool maximize)
{
    double best = NAN;
    for (size_t i = 0; i < n; i++)
        if (!isnan(v[i]) && (isnan(best) || (maximize ? v[i] > best : v[i] < best)))
            best = v[i];
    return best;
}

/* ---- percentile and median ---- */

static bool percentile_prune(const cairn_pruner *p, const cairn_history *h,
                             const cairn_trial_record *trial)
{
    size_t n_complete = 0;
    for (size_t i = 0; i < h->n_trials; i++)
        if (h->trials[i].state == CAIRN_TRIAL_COMPLETE && h->trials[i].number != trial->number)
            n_complete++;
    if (n_complete == 0 || (int64_t)n_complete < p->n_startup)
        return false;
    if (trial->n_steps == 0)
        return false;
    int64_t step = trial->steps[trial->n_steps - 1];
    if (step < p->n_warmup)
        return false;
    if (!first_in_interval(trial, step, p->n_warmup, p->interval))
        return false;
    double best = nan_best(trial->values, trial->n_steps, h->maximize);
    if (isnan(best))
        return true;
    double *vals = cn_xcalloc(n_complete, sizeof *vals);
    size_t n = 0;
    for (size_t i = 0; i < h->n_trials; i++) {
        const cairn_trial_record *t = &h->trials[i];
        if (t->state == CAIRN_TRIAL_COMPLETE && t->number != trial->number &&
            value_at(t, step, &vals[n]))
            n++;
    }
    double ref = NAN;
    if ((int64_t)n >= p->n_min_trials)
        ref = nanpercentile(vals, n, h->maximize ? 100 - p->percentile : p->percentile);
    free(vals);
    if (isnan(ref))
        return false;
    return h->maximize ? best < ref : best > ref;
}

/* ---- successive halving ---- */

/* The value a trial recorded at rung k: its intermediate value at the first step at or after
 * the rung's promotion step (where a pruner called after every report saw it). */
static bool rung_value(const cairn_trial_record *t, int64_t promotion_step, double *v)
{
    for (size_t i = 0; i < t->n_steps; i++)
        if (t->steps[i] >= promotion_step) {
            *v = t->values[i];
            return !isnan(*v);
        }
    return false;
}

static int64_t ipow(int64_t b, int64_t e)
{
    int64_t r = 1;
    while (e-- > 0) {
        if (r > INT64_MAX / b)
            return INT64_MAX;
        r *= b;
    }
    return r;
}

static int64_t estimate_min_resource(const cairn_history *h)
{
    int64_t last = -1;
    for (size_t i = 0; i < h->n_trials; i++) {
        const cairn_trial_record *t = &h->trials[i];
        if (t->state == CAIRN_TRIAL_COMPLETE && t->n_steps > 0 && t->steps[t->n_steps - 1] > last)
            last = t->steps[t->n_steps - 1];
    }
    if (last < 0)
        return 0;
    return last / 100 > 1 ? last / 100 : 1;
}

/* keep(t): which trials compete (Hyperband: those of the same bracket). */
typedef bool (*keep_fn)(const cairn_pruner *hb, const cairn_history *h, int64_t number,
                        int bracket);

static bool sh_prune(cairn_pruner *p, int64_t min_resource, int64_t rate, const cairn_history *h,
                     const cairn_trial_record *trial, keep_fn keep, const cairn_pruner *hb,
                     int bracket)
{
    if (trial->n_steps == 0)
        return false;
    int64_t step = trial->steps[trial->n_steps - 1];
    double value = trial->values[trial->n_steps - 1];
    if (min_resource == 0) {
        p->min_resource = estimate_min_resource(h);
        if (p->min_resource == 0)
            return false;
        min_resource = p->min_resource;
    }
    /* The rungs this trial completed in earlier calls (one per report before this one). */
    int64_t rung = 0;
    if (trial->n_steps >= 2) {
        int64_t prev = trial->steps[trial->n_steps - 2];
        while (rung < 62 && ipow(p->eta, rate + rung) <= INT64_MAX / min_resource &&
               min_resource * ipow(p->eta, rate + rung) <= prev)
            rung++;
    }
    double *competing = cn_xcalloc(h->n_trials + 1, sizeof *competing);
    bool prune = false;
    for (;;) {
        int64_t e = ipow(p->eta, rate + rung);
        if (e > INT64_MAX / min_resource)
            break;
        int64_t promotion_step = min_resource * e;
        if (step < promotion_step)
            break;
        if (isnan(value)) {
            prune = true;
            break;
        }
        size_t n = 0;
        for (size_t i = 0; i < h->n_trials; i++) {
            const cairn_trial_record *t = &h->trials[i];
            if (t->number == trial->number || (keep && !keep(hb, h, t->number, bracket)))
                continue;
            /* A trial holds rung k only if it held every rung below it. */
            double v;
            bool held = true;
            for (int64_t k = 0; k <= rung && held; k++)
                held = rung_value(t, min_resource * ipow(p->eta, rate + k), &v);
            if (held)
                competing[n++] = v;
        }
        competing[n++] = value;
        if ((int64_t)n <= p->bootstrap) {
            prune = true;
            break;
        }
        int64_t idx = (int64_t)n / p->eta - 1;
        if (idx == -1)
            idx = 0;
        qsort(competing, n, sizeof *competing, cmp_double);
        bool promotable =
            h->maximize ? value >= competing[n - 1 - (size_t)idx] : value <= competing[idx];
        if (!promotable) {
            prune = true;
            break;
        }
        rung++;
    }
    free(competing);
    return prune;
}

/* ---- hyperband ---- */

static uint32_t crc32_bytes(const char *s, size_t n)
{
    uint32_t c = 0xffffffffu;
    for (size_t i = 0; i < n; i++) {
        c ^= (unsigned char)s[i];
        for (int k = 0; k < 8; k++)
            c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1u)));
    }
    return ~c;
}

static int bracket_of(const cairn_pruner *p, const char *study, int64_t number)
{
    if (p->n_brackets == 0)
        return 0;
    char *key = cn_asprintf("%s_%lld", study ? study : "", (long long)number);
    int64_t n = (int64_t)(crc32_bytes(key, strlen(key)) % (uint64_t)p->total_budget);
    free(key);
    for (int b = 0; b < p->n_brackets; b++) {
        n -= p->budgets[b];
        if (n < 0)
            return b;
    }
    CN_BUG("hyperband: no bracket");
}

static bool same_bracket(const cairn_pruner *hb, const cairn_history *h, int64_t number,
                         int bracket)
{
    return bracket_of(hb, h->study_name, number) == bracket;
}

static bool hyperband_init(cairn_pruner *p, const cairn_history *h)
{
    if (p->max_resource == 0) {
        int64_t last = -1;
        for (size_t i = 0; i < h->n_trials; i++) {
            const cairn_trial_record *t = &h->trials[i];
            if (t->state == CAIRN_TRIAL_COMPLETE && t->n_steps > 0 &&
                t->steps[t->n_steps - 1] > last)
                last = t->steps[t->n_steps - 1];
        }
        if (last < 0)
            return false;
        p->max_resource = last + 1;
    }
    /* As Python's math.log(x, base): log(x) / log(base). */
    double nb =
        floor(log((double)p->max_resource / (double)p->min_resource) / log((double)p->eta)) + 1;
    if (nb < 1)
        nb = 1;
    if (nb > MAX_BRACKETS)
        nb = MAX_BRACKETS;
    p->n_brackets = (int)nb;
    p->total_budget = 0;
    for (int b = 0; b < p->n_brackets; b++) {
        int64_t s = p->n_brackets - 1 - b;
        p->budgets[b] = (int64_t)ceil((double)(p->n_brackets * ipow(p->eta, s)) / (double)(s + 1));
        p->total_budget += p->budgets[b];
    }
    return true;
}

int cairn_pruner_bracket(const cairn_pruner *p, const char *study_name, int64_t number)
{
    if (!p || p->kind != P_HYPERBAND || p->n_brackets == 0)
        return -1;
    return bracket_of(p, study_name, number);
}

/* ---- threshold and patient ---- */

static bool threshold_prune(const cairn_pruner *p, const cairn_trial_record *trial)
{
    if (trial->n_steps == 0)
        return false;
    int64_t step = trial->steps[trial->n_steps - 1];
    if (step < p->n_warmup || !first_in_interval(trial, step, p->n_warmup, p->interval))
        return false;
    double v = trial->values[trial->n_steps - 1];
    return isnan(v) || v < p->lower || v > p->upper;
}

static cairn_status prune(cairn_pruner *p, const cairn_history *h, const cairn_trial_record *trial,
                          bool *out);

static cairn_status patient_prune(cairn_pruner *p, const cairn_history *h,
                                  const cairn_trial_record *trial, bool *out)
{
    *out = false;
    size_t n = trial->n_steps;
    if (n == 0 || (int64_t)n <= p->patience + 1)
        return CAIRN_OK;
    size_t split = n - (size_t)p->patience - 1;
    double before = nan_best(trial->values, split, h->maximize);
    double after = nan_best(trial->values + split, n - split, h->maximize);
    bool maybe = h->maximize ? before - p->min_delta > after : before + p->min_delta < after;
    if (!maybe)
        return CAIRN_OK;
    if (!p->wrapped) {
        *out = true;
        return CAIRN_OK;
    }
    return prune(p->wrapped, h, trial, out);
}

static cairn_status prune(cairn_pruner *p, const cairn_history *h, const cairn_trial_record *trial,
                          bool *out)
{
    *out = false;
    switch (p->kind) {
    case P_NONE: break;
    case P_PERCENTILE: *out = percentile_prune(p, h, trial); break;
    case P_SH:
        *out = sh_prune(p, p->min_resource, p->min_early_stopping_rate, h, trial, NULL, NULL, 0);
        break;
    case P_HYPERBAND: {
        if (p->n_brackets == 0 && !hyperband_init(p, h))
            break;
        int b = bracket_of(p, h->study_name, trial->number);
        *out = sh_prune(p, p->min_resource, b, h, trial, same_bracket, p, b);
        break;
    }
    case P_THRESHOLD: *out = threshold_prune(p, trial); break;
    case P_PATIENT: return patient_prune(p, h, trial, out);
    }
    return CAIRN_OK;
}

cairn_status cairn_pruner_should_prune(cairn_pruner *p, const cairn_history *history,
                                       const cairn_trial_record *trial, bool *out)
{
    static const cairn_history empty = {0};
    *out = false;
    if (!history)
        history = &empty;
    for (size_t i = 1; i < trial->n_steps; i++)
        if (trial->steps[i] <= trial->steps[i - 1])
            return cn_fail(p->ctx, CAIRN_EINVAL,
                           "pruner '%s': trial %lld: steps must be ascending and distinct", p->name,
                           (long long)trial->number);
    if (trial->n_steps > 0 && trial->steps[0] < 0)
        return cn_fail(p->ctx, CAIRN_EINVAL, "pruner '%s': trial %lld: steps must be >= 0", p->name,
                       (long long)trial->number);
    return prune(p, history, trial, out);
}

/* ---- creation ---- */

void cairn_pruner_free(cairn_pruner *p)
{
    if (!p)
        return;
    cairn_pruner_free(p->wrapped);
    free(p);
}

const char *cairn_pruner_name(const cairn_pruner *p)
{
    return p->name;
}

static cairn_status resource(cairn_ctx *ctx, cn_spec *s, const char *key, int64_t *out,
                             bool *is_auto)
{
    const char *v = cn_spec_str(s, key);
    if (!v)
        return CAIRN_OK;
    if (strcmp(v, "auto") == 0) {
        *out = 0;
        *is_auto = true;
        return CAIRN_OK;
    }
    int64_t x;
    char *end = NULL;
    x = strtoll(v, &end, 10);
    if (!*v || *end || x < 1)
        return cn_fail(ctx, CAIRN_EINVAL, "'%s': %s must be auto or an integer >= 1, got '%s'",
                       s->name, key, v);
    *out = x;
    *is_auto = false;
    return CAIRN_OK;
}

static cairn_status configure(cairn_ctx *ctx, cairn_pruner *p, cn_spec *s)
{
    cairn_status rc = CAIRN_OK;
    const char *name = s->name;
#define TRY(call)                                                                                  \
    do {                                                                                           \
        if (rc == CAIRN_OK)                                                                        \
            rc = (call);                                                                           \
    } while (0)
    if (strcmp(name, "none") == 0 || strcmp(name, "nop") == 0) {
        p->kind = P_NONE;
        p->name = "none";
        TRY(cn_spec_check_used(ctx, "pruner", s, ""));
    } else if (strcmp(name, "median") == 0 || strcmp(name, "percentile") == 0) {
        bool median = name[0] == 'm';
        p->kind = P_PERCENTILE;
        p->name = median ? "median" : "percentile";
        p->percentile = median ? 50 : NAN;
        p->n_startup = 5;
        p->interval = 1;
        p->n_min_trials = 1;
        if (!median)
            TRY(cn_spec_double(ctx, s, "percentile", 0, 100, &p->percentile));
        TRY(cn_spec_int(ctx, s, "n_startup_trials", 0, INT32_MAX, &p->n_startup));
        TRY(cn_spec_int(ctx, s, "n_warmup_steps", 0, INT32_MAX, &p->n_warmup));
        TRY(cn_spec_int(ctx, s, "interval_steps", 1, INT32_MAX, &p->interval));
        TRY(cn_spec_int(ctx, s, "n_min_trials", 1, INT32_MAX, &p->n_min_trials));
        TRY(cn_spec_check_used(ctx, "pruner", s,
                               median ? "n_startup_trials, n_warmup_steps, interval_steps, "
                                        "n_min_trials"
                                      : "percentile, n_startup_trials, n_warmup_steps, "
                                        "interval_steps, n_min_trials"));
        if (rc == CAIRN_OK && isnan(p->percentile))
            rc = cn_fail(ctx, CAIRN_EINVAL, "'percentile': needs percentile=P (0 to 100)");
    } else if (strcmp(name, "successive_halving") == 0 || strcmp(name, "asha") == 0 ||
               strcmp(name, "sha") == 0) {
        p->kind = P_SH;
        p->name = "successive_halving";
        p->auto_min_resource = true;
        p->eta = 4;
        TRY(resource(ctx, s, "min_resource", &p->min_resource, &p->auto_min_resource));
        TRY(cn_spec_int(ctx, s, "reduction_factor", 2, 1000000, &p->eta));
        TRY(cn_spec_int(ctx, s, "min_early_stopping_rate", 0, 60, &p->min_early_stopping_rate));
        TRY(cn_spec_int(ctx, s, "bootstrap_count", 0, INT32_MAX, &p->bootstrap));
        TRY(cn_spec_check_used(ctx, "pruner", s,
                               "min_resource, reduction_factor, min_early_stopping_rate, "
                               "bootstrap_count"));
        if (rc == CAIRN_OK && p->bootstrap > 0 && p->auto_min_resource)
            rc = cn_fail(ctx, CAIRN_EINVAL,
                         "'successive_halving': bootstrap_count > 0 needs a min_resource "
                         "(not auto)");
    } else if (strcmp(name, "hyperband") == 0) {
        bool is_auto = true, min_auto = false;
        p->kind = P_HYPERBAND;
        p->name = "hyperband";
        p->min_resource = 1;
        p->eta = 3;
        TRY(resource(ctx, s, "min_resource", &p->min_resource, &min_auto));
        TRY(resource(ctx, s, "max_resource", &p->max_resource, &is_auto));
        TRY(cn_spec_int(ctx, s, "reduction_factor", 2, 1000000, &p->eta));
        TRY(cn_spec_int(ctx, s, "bootstrap_count", 0, INT32_MAX, &p->bootstrap));
        TRY(cn_spec_check_used(ctx, "pruner", s,
                               "min_resource, max_resource, reduction_factor, bootstrap_count"));
        if (rc == CAIRN_OK && min_auto)
            rc = cn_fail(ctx, CAIRN_EINVAL, "'hyperband': min_resource must be an integer >= 1");
        if (rc == CAIRN_OK && p->max_resource != 0 && p->max_resource < p->min_resource)
            rc = cn_fail(ctx, CAIRN_EINVAL, "'hyperband': max_resource < min_resource");
    } else if (strcmp(name, "threshold") == 0) {
        p->kind = P_THRESHOLD;
        p->name = "threshold";
        p->lower = -INFINITY;
        p->upper = INFINITY;
        p->interval = 1;
        TRY(cn_spec_double(ctx, s, "lower", -INFINITY, INFINITY, &p->lower));
        TRY(cn_spec_double(ctx, s, "upper", -INFINITY, INFINITY, &p->upper));
        TRY(cn_spec_int(ctx, s, "n_warmup_steps", 0, INT32_MAX, &p->n_warmup));
        TRY(cn_spec_int(ctx, s, "interval_steps", 1, INT32_MAX, &p->interval));
        TRY(cn_spec_check_used(ctx, "pruner", s, "lower, upper, n_warmup_steps, interval_steps"));
        if (rc == CAIRN_OK && isinf(p->lower) && p->lower < 0 && isinf(p->upper) && p->upper > 0)
            rc = cn_fail(ctx, CAIRN_EINVAL, "'threshold': needs lower=X or upper=X (or both)");
        if (rc == CAIRN_OK && p->lower > p->upper)
            rc = cn_fail(ctx, CAIRN_EINVAL, "'threshold': lower > upper");
    } else if (strcmp(name, "patient") == 0) {
        p->kind = P_PATIENT;
        p->name = "patient";
        p->patience = -1;
        TRY(cn_spec_int(ctx, s, "patience", 0, INT32_MAX, &p->patience));
        TRY(cn_spec_double(ctx, s, "min_delta", 0, INFINITY, &p->min_delta));
        TRY(cn_spec_check_used(ctx, "pruner", s, "patience, min_delta"));
        if (rc == CAIRN_OK && p->patience < 0)
            rc = cn_fail(ctx, CAIRN_EINVAL, "'patient': needs patience=N (N >= 0)");
    } else {
        rc = cn_fail(ctx, CAIRN_EINVAL,
                     "unknown pruner '%s'; allowed: none, median, percentile, successive_halving, "
                     "hyperband, threshold, patient",
                     name);
    }
#undef TRY
    if (rc == CAIRN_OK && s->rest && p->kind != P_PATIENT)
        rc = cn_fail(ctx, CAIRN_EINVAL, "pruner '%s': only patient wraps another pruner ('/%s')",
                     name, s->rest);
    return rc;
}

cairn_status cairn_pruner_new(cairn_ctx *ctx, const char *spec, cairn_pruner **out)
{
    cn_spec s;
    *out = NULL;
    cairn_status rc = cn_spec_parse(ctx, "pruner", spec, &s);
    if (rc != CAIRN_OK)
        return rc;
    cairn_pruner *p = cn_xcalloc(1, sizeof *p);
    p->ctx = ctx;
    rc = configure(ctx, p, &s);
    if (rc == CAIRN_OK && p->kind == P_PATIENT && s.rest && strcmp(s.rest, "none") != 0)
        rc = cairn_pruner_new(ctx, s.rest, &p->wrapped);
    cn_spec_release(&s);
    if (rc != CAIRN_OK) {
        cairn_pruner_free(p);
        return rc;
    }
    *out = p;
    return CAIRN_OK;
}
