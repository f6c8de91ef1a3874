/* SPDX-License-Identifier: MIT */
/* journal.c - Optuna 3.1's JournalStorage file (include/cairn/hpo.h "Optuna interop"): the
 * writer turns a study into one journal; the reader replays a journal's operations (by op
 * code, in order) the way Optuna's JournalStorageReplayResult does, keeps one study, rebuilds
 * a cairn search space from the distributions it saw and imports the trials into the store.
 *
 * The file: one JSON object per line, {"op_code": N, "worker_id": "...", ...}; op codes 0
 * CREATE_STUDY, 1 DELETE_STUDY, 2/3 SET_STUDY_USER/SYSTEM_ATTR, 4 CREATE_TRIAL, 5
 * SET_TRIAL_PARAM, 6 SET_TRIAL_STATE_VALUES, 7 SET_TRIAL_INTERMEDIATE_VALUE, 8/9
 * SET_TRIAL_USER/SYSTEM_ATTR. Distributions are JSON text inside a JSON string; Python's json
 * writes NaN, Infinity and -Infinity as bare tokens; trial ids count over all studies, trial
 * numbers within one; datetimes are naive local ISO 8601. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "hpo/journal.h"
#include "hpo/hpo_internal.h"
#include "hpo/study_internal.h"
#include "core/core.h"
#include "core/text.h"
#include "formats/json.h"
#include "store/store_ops.h"
#include "base/buf.h"
#include "base/fs.h"
#include "base/jsonw.h"
#include "base/str.h"
#include "base/time.h"
#include "base/xmalloc.h"
#include "base/banned.h"

enum {
    OP_CREATE_STUDY = 0,
    OP_DELETE_STUDY,
    OP_SET_STUDY_USER_ATTR,
    OP_SET_STUDY_SYSTEM_ATTR,
    OP_CREATE_TRIAL,
    OP_SET_TRIAL_PARAM,
    OP_SET_TRIAL_STATE_VALUES,
    OP_SET_TRIAL_INTERMEDIATE_VALUE,
    OP_SET_TRIAL_USER_ATTR,
    OP_SET_TRIAL_SYSTEM_ATTR,
    OP_N
};

/* Optuna's TrialState values, and cairn's state for each. */
static const cairn_trial_state optuna_states[] = {CAIRN_TRIAL_RUNNING, CAIRN_TRIAL_COMPLETE,
                                                  CAIRN_TRIAL_PRUNED, CAIRN_TRIAL_FAIL,
                                                  CAIRN_TRIAL_WAITING};

static int optuna_state_of(cairn_trial_state st)
{
    switch (st) {
    case CAIRN_TRIAL_RUNNING: return 0;
    case CAIRN_TRIAL_COMPLETE: return 1;
    case CAIRN_TRIAL_PRUNED: return 2;
    case CAIRN_TRIAL_WAITING: return 4;
    case CAIRN_TRIAL_FAIL:
    case CAIRN_TRIAL_STALE: break;
    }
    return 3;
}

static bool state_finished(cairn_trial_state st)
{
    return st == CAIRN_TRIAL_COMPLETE || st == CAIRN_TRIAL_PRUNED || st == CAIRN_TRIAL_FAIL;
}

/* ---- datetimes ---- */

/* "2026-12-05T14:16:20.281521" (local time), the way Optuna writes them. */
static void format_datetime(int64_t ms, char *out, size_t size)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    if (!localtime_r(&t, &tm)) {
        cn_strlcpy(out, "1970-01-01T00:00:00.000000", size);
        return;
    }
    char head[40];
    strftime(head, sizeof head, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out, size, "%s.%06d", head, (int)(ms % 1000) * 1000);
}

static bool digits(const char *p, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9')
            return false;
        v = v * 10 + (p[i] - '0');
    }
    *out = v;
    return true;
}

/* Python's datetime.isoformat: date 'T' time[.fraction][Z|+HH:MM|-HH:MM]; naive is local
 * time. False when it is not one. */
static bool parse_datetime(const char *s, int64_t *ms)
{
    int Y, M, D, h, m, sec, frac_us = 0;
    size_t len = strlen(s);
    if (len < 19 || !digits(s, 4, &Y) || s[4] != '-' || !digits(s + 5, 2, &M) || s[7] != '-' ||
        !digits(s + 8, 2, &D) || (s[10] != 'T' && s[10] != ' ') || !digits(s + 11, 2, &h) ||
        s[13] != ':' || !digits(s + 14, 2, &m) || s[16] != ':' || !digits(s + 17, 2, &sec))
        return false;
    if (M < 1 || M > 12 || D < 1 || D > 31 || h > 23 || m > 59 || sec > 59 || Y < 1)
        return false;
    const char *p = s + 19;
    if (*p == '.') {
        p++;
        int n = 0;
        while (p[n] >= '0' && p[n] <= '9')
            n++;
        if (n == 0 || n > 9)
            return false;
        for (int i = 0; i < 6; i++)
            frac_us = frac_us * 10 + (i < n ? p[i] - '0' : 0);
        p += n;
    }
    struct tm tm = {.tm_year = Y - 1900,
                    .tm_mon = M - 1,
                    .tm_mday = D,
                    .tm_hour = h,
                    .tm_min = m,
                    .tm_sec = sec,
                    .tm_isdst = -1};
    time_t t;
    if (*p == '\0') {
        t = mktime(&tm);
    } else {
        int oh = 0, om = 0, sign = 1;
        if (p[0] == 'Z' && p[1] == '\0') {
            sign = 0;
        } else if ((p[0] == '+' || p[0] == '-') && strlen(p) == 6 && digits(p + 1, 2, &oh) &&
                   p[3] == ':' && digits(p + 4, 2, &om) && oh < 24 && om < 60) {
            sign = p[0] == '-' ? -1 : 1;
        } else {
            return false;
        }
        t = timegm(&tm) - (time_t)sign * (oh * 3600 + om * 60);
    }
    *ms = (int64_t)t * 1000 + frac_us / 1000;
    return true;
}

/* ---- the reader: replay ---- */

typedef struct jdist {
    int kind;               /* 1 float, 2 int, 3 categorical */
    double low, high, step; /* float step 0: none */
    bool log;
    size_t n_choices;
    char **choices; /* each choice's compact JSON text */
} jdist;

typedef struct jparam {
    char *name;
    jdist d;
    char *raw; /* the last distribution text seen, to skip parsing it again */
} jparam;

typedef struct jtrial {
    size_t study;
    int64_t number;
    int state; /* Optuna's */
    bool has_value;
    double value;
    int64_t start_ms, end_ms;
    size_t n_set, cap_set;
    size_t *pidx; /* the study's jparam index */
    double *pval; /* Optuna's internal value */
    size_t n_steps, cap_steps;
    int64_t *steps;
    double *values;
    char *run_id;
    size_t line; /* where it was created */
} jtrial;

typedef struct jstudy {
    char *name;
    size_t n_dirs;
    bool maximize, deleted;
    char *space_attr, *space_format_attr, *objective_attr;
    size_t n_params;
    jparam *params;
    int64_t n_trials;
} jstudy;

typedef struct replay {
    cairn_ctx *ctx;
    const char *label;
    size_t line;
    jstudy *studies;
    size_t n_studies;
    jtrial *trials;
    size_t n_trials;
} replay;

static void jdist_release(jdist *d)
{
    for (size_t i = 0; i < d->n_choices; i++)
        free(d->choices[i]);
    free(d->choices);
    memset(d, 0, sizeof *d);
}

static void replay_release(replay *r)
{
    for (size_t i = 0; i < r->n_studies; i++) {
        jstudy *s = &r->studies[i];
        for (size_t k = 0; k < s->n_params; k++) {
            free(s->params[k].name);
            free(s->params[k].raw);
            jdist_release(&s->params[k].d);
        }
        free(s->params);
        free(s->name);
        free(s->space_attr);
        free(s->space_format_attr);
        free(s->objective_attr);
    }
    free(r->studies);
    for (size_t i = 0; i < r->n_trials; i++) {
        jtrial *t = &r->trials[i];
        free(t->pidx);
        free(t->pval);
        free(t->steps);
        free(t->values);
        free(t->run_id);
    }
    free(r->trials);
}

static cairn_status bad(replay *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static cairn_status bad(replay *r, const char *fmt, ...)
{
    char msg[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return cn_fail(r->ctx, CAIRN_EINVAL, "optuna journal '%s' line %zu: %s", r->label, r->line,
                   msg);
}

/* A member that must be an integer in [lo, hi]. */
static cairn_status member_int(replay *r, const cn_json *rec, const char *key, int64_t lo,
                               int64_t hi, int64_t *out)
{
    const cn_json *v = cn_json_object_get(rec, key);
    if (!v)
        return bad(r, "'%s' is missing", key);
    if (cn_json_typeof(v) != CN_JSON_INT)
        return bad(r, "'%s' must be an integer", key);
    *out = cn_json_int(v);
    if (*out < lo || *out > hi)
        return bad(r, "'%s' is %lld, outside [%lld, %lld]", key, (long long)*out, (long long)lo,
                   (long long)hi);
    return CAIRN_OK;
}

/* A number (bare NaN and Infinity arrive as the strings "NaN", "Infinity", "-Infinity"). */
static bool json_double(const cn_json *v, double *out)
{
    cn_json_type t = cn_json_typeof(v);
    if (t == CN_JSON_INT || t == CN_JSON_REAL) {
        *out = cn_json_number(v);
        return true;
    }
    const char *s = cn_json_string(v);
    if (!s)
        return false;
    if (strcmp(s, "NaN") == 0)
        *out = NAN;
    else if (strcmp(s, "Infinity") == 0)
        *out = INFINITY;
    else if (strcmp(s, "-Infinity") == 0)
        *out = -INFINITY;
    else
        return false;
    return true;
}

static cairn_status member_double(replay *r, const cn_json *rec, const char *key, double *out)
{
    const cn_json *v = cn_json_object_get(rec, key);
    if (!v)
        return bad(r, "'%s' is missing", key);
    if (!json_double(v, out))
        return bad(r, "'%s' must be a number", key);
    return CAIRN_OK;
}

/* The optional datetime member key: *ms 0 when absent or null. */
static cairn_status member_datetime(replay *r, const cn_json *rec, const char *key, int64_t *ms)
{
    *ms = 0;
    const cn_json *v = cn_json_object_get(rec, key);
    if (!v || cn_json_typeof(v) == CN_JSON_NULL)
        return CAIRN_OK;
    const char *s = cn_json_string(v);
    if (!s || !parse_datetime(s, ms))
        return bad(r, "'%s' must be an ISO 8601 datetime such as \"2024-05-01T12:00:00.000000\"",
                   key);
    return CAIRN_OK;
}

static cairn_status find_study(replay *r, const cn_json *rec, jstudy **out)
{
    int64_t id = 0;
    cairn_status rc = member_int(r, rec, "study_id", 0, CN_JOURNAL_MAX_STUDIES, &id);
    if (rc != CAIRN_OK)
        return rc;
    if ((size_t)id >= r->n_studies || r->studies[id].deleted)
        return bad(r, "study_id %lld does not exist (no CREATE_STUDY before it, or deleted)",
                   (long long)id);
    *out = &r->studies[id];
    return CAIRN_OK;
}

/* The trial named by trial_id; NULL *out when it is finished (Optuna ignores updates then). */
static cairn_status find_trial(replay *r, const cn_json *rec, jtrial **out)
{
    int64_t id = 0;
    *out = NULL;
    cairn_status rc = member_int(r, rec, "trial_id", 0, CN_JOURNAL_MAX_TRIALS, &id);
    if (rc != CAIRN_OK)
        return rc;
    if ((size_t)id >= r->n_trials)
        return bad(r, "trial_id %lld does not exist (no CREATE_TRIAL before it)", (long long)id);
    jtrial *t = &r->trials[id];
    if (!state_finished(optuna_states[t->state]))
        *out = t;
    return CAIRN_OK;
}

/* A single-entry object {"key": value} (the attr ops). */
static cairn_status one_attr(replay *r, const cn_json *rec, const char *member, const char **key,
                             const cn_json **value)
{
    const cn_json *o = cn_json_object_get(rec, member);
    if (cn_json_typeof(o) != CN_JSON_OBJECT || cn_json_object_size(o) != 1)
        return bad(r, "'%s' must be an object with one key", member);
    void *it = cn_json_object_iter(o);
    *key = cn_json_iter_key(it);
    *value = cn_json_iter_value(it);
    return CAIRN_OK;
}

static void set_string(char **dst, const cn_json *v)
{
    free(*dst);
    *dst = cn_json_string(v) ? cn_xstrdup(cn_json_string(v)) : NULL;
}

static cairn_status op_create_study(replay *r, const cn_json *rec)
{
    const char *name = cn_json_member_str(rec, "study_name");
    if (!name)
        return bad(r, "'study_name' must be a string");
    const cn_json *dirs = cn_json_object_get(rec, "directions");
    size_t n = cn_json_array_size(dirs);
    if (cn_json_typeof(dirs) != CN_JSON_ARRAY || n == 0)
        return bad(r, "'directions' must be a non-empty list");
    bool maximize = false;
    for (size_t i = 0; i < n; i++) {
        const cn_json *d = cn_json_array_get(dirs, i);
        if (cn_json_typeof(d) != CN_JSON_INT || cn_json_int(d) < 0 || cn_json_int(d) > 2)
            return bad(r, "a direction must be 0 (not set), 1 (minimize) or 2 (maximize)");
        if (i == 0)
            maximize = cn_json_int(d) == 2;
    }
    for (size_t i = 0; i < r->n_studies; i++)
        if (!r->studies[i].deleted && strcmp(r->studies[i].name, name) == 0)
            return CAIRN_OK; /* Optuna ignores a second study of that name */
    if (r->n_studies >= CN_JOURNAL_MAX_STUDIES)
        return cn_fail(r->ctx, CAIRN_ELIMIT, "optuna journal '%s' line %zu: more than %d studies",
                       r->label, r->line, CN_JOURNAL_MAX_STUDIES);
    r->studies = cn_tree_grow(r->studies, r->n_studies, sizeof *r->studies);
    jstudy *s = &r->studies[r->n_studies++];
    memset(s, 0, sizeof *s);
    s->name = cn_xstrdup(name);
    s->n_dirs = n;
    s->maximize = maximize;
    return CAIRN_OK;
}

/* Parses a distribution's JSON text into *d (Optuna 3's names and the older ones). */
static cairn_status parse_dist(replay *r, const char *param, const char *text, jdist *d)
{
    cn_json *j = NULL;
    cn_json_error je;
    memset(d, 0, sizeof *d);
    if (!cn_json_parse_document(text, strlen(text), &j, &je))
        return bad(r, "parameter '%s': the distribution is not JSON (%s)", param, je.text);
    cairn_status rc = CAIRN_OK;
    const char *name = cn_json_member_str(j, "name");
    const cn_json *a = cn_json_object_get(j, "attributes");
    if (!name || cn_json_typeof(a) != CN_JSON_OBJECT) {
        rc = bad(r, "parameter '%s': a distribution needs 'name' and 'attributes'", param);
        goto done;
    }
    const cn_json *step = cn_json_object_get(a, "step");
    if (!step)
        step = cn_json_object_get(a, "q");
    const cn_json *log = cn_json_object_get(a, "log");
    if (strcmp(name, "CategoricalDistribution") == 0) {
        const cn_json *ch = cn_json_object_get(a, "choices");
        size_t n = cn_json_array_size(ch);
        if (cn_json_typeof(ch) != CN_JSON_ARRAY || n == 0) {
            rc = bad(r, "parameter '%s': 'choices' must be a non-empty list", param);
            goto done;
        }
        if (n > CN_HPO_MAX_CHOICES) {
            rc = bad(r, "parameter '%s': more than %d choices", param, CN_HPO_MAX_CHOICES);
            goto done;
        }
        d->kind = 3;
        d->choices = cn_xcalloc(n, sizeof *d->choices);
        for (size_t i = 0; i < n; i++) {
            const cn_json *c = cn_json_array_get(ch, i);
            cn_json_type t = cn_json_typeof(c);
            if (t == CN_JSON_ARRAY || t == CN_JSON_OBJECT) {
                rc = bad(r, "parameter '%s': choice %zu is not a scalar", param, i);
                goto done;
            }
            cn_buf b = CN_BUF_INIT;
            cn_json_dump(c, &b);
            d->choices[d->n_choices++] = cn_buf_detach(&b);
        }
        goto done;
    }
    bool is_float = strcmp(name, "FloatDistribution") == 0 ||
                    strcmp(name, "UniformDistribution") == 0 ||
                    strcmp(name, "LogUniformDistribution") == 0 ||
                    strcmp(name, "DiscreteUniformDistribution") == 0;
    bool is_int = strcmp(name, "IntDistribution") == 0 ||
                  strcmp(name, "IntUniformDistribution") == 0 ||
                  strcmp(name, "IntLogUniformDistribution") == 0;
    if (!is_float && !is_int) {
        rc = bad(r,
                 "parameter '%s': unknown distribution '%s'; known: FloatDistribution, "
                 "IntDistribution, CategoricalDistribution (and Optuna 2's names)",
                 param, name);
        goto done;
    }
    d->kind = is_float ? 1 : 2;
    if (!json_double(cn_json_object_get(a, "low"), &d->low) ||
        !json_double(cn_json_object_get(a, "high"), &d->high) || !isfinite(d->low) ||
        !isfinite(d->high) || d->low > d->high) {
        rc = bad(r, "parameter '%s': 'low' and 'high' must be finite numbers, low <= high", param);
        goto done;
    }
    d->log = cn_json_typeof(log) == CN_JSON_BOOL ? cn_json_bool(log) : strstr(name, "Log") != NULL;
    if (log && cn_json_typeof(log) != CN_JSON_BOOL) {
        rc = bad(r, "parameter '%s': 'log' must be true or false", param);
        goto done;
    }
    if (step && cn_json_typeof(step) != CN_JSON_NULL) {
        if (!json_double(step, &d->step) || !(d->step > 0) || !isfinite(d->step)) {
            rc = bad(r, "parameter '%s': 'step' must be a positive number or null", param);
            goto done;
        }
    }
    if (is_int) {
        if (d->step == 0)
            d->step = 1;
        if (d->low != floor(d->low) || d->high != floor(d->high) || d->step != floor(d->step)) {
            rc = bad(r, "parameter '%s': an IntDistribution has integer low, high and step", param);
            goto done;
        }
    }
    if (d->log && (d->low <= 0 || (is_float && d->step > 0) || (is_int && d->step != 1))) {
        rc = bad(r, "parameter '%s': a log distribution needs low > 0 and no step", param);
        goto done;
    }
done:
    cn_json_free(j);
    if (rc != CAIRN_OK)
        jdist_release(d);
    return rc;
}

/* Whether two distributions of one name can share a cairn parameter (Optuna's
 * check_distribution_compatibility, plus the same step: ranges may differ and are joined). */
static bool dist_compatible(const jdist *a, const jdist *b)
{
    if (a->kind != b->kind)
        return false;
    if (a->kind == 3) {
        if (a->n_choices != b->n_choices)
            return false;
        for (size_t i = 0; i < a->n_choices; i++)
            if (strcmp(a->choices[i], b->choices[i]) != 0)
                return false;
        return true;
    }
    return a->log == b->log && a->step == b->step;
}

static const char *dist_kind_name(const jdist *d)
{
    return d->kind == 1   ? "FloatDistribution"
           : d->kind == 2 ? "IntDistribution"
                          : "CategoricalDistribution";
}

/* Records distribution text for param `name` of study s; *index its slot. */
static cairn_status study_param(replay *r, jstudy *s, const char *name, const char *text,
                                size_t *index)
{
    size_t k = 0;
    while (k < s->n_params && strcmp(s->params[k].name, name) != 0)
        k++;
    *index = k;
    if (k < s->n_params && s->params[k].raw && strcmp(s->params[k].raw, text) == 0)
        return CAIRN_OK;
    jdist d;
    cairn_status rc = parse_dist(r, name, text, &d);
    if (rc != CAIRN_OK)
        return rc;
    if (k == s->n_params) {
        if (s->n_params >= CN_HPO_MAX_PARAMS) {
            jdist_release(&d);
            return cn_fail(r->ctx, CAIRN_ELIMIT,
                           "optuna journal '%s' line %zu: study '%s' has more than %d parameters",
                           r->label, r->line, s->name, CN_HPO_MAX_PARAMS);
        }
        s->params = cn_tree_grow(s->params, s->n_params, sizeof *s->params);
        s->params[k] = (jparam){.name = cn_xstrdup(name), .d = d, .raw = cn_xstrdup(text)};
        s->n_params++;
        return CAIRN_OK;
    }
    jparam *p = &s->params[k];
    if (!dist_compatible(&p->d, &d)) {
        cairn_status st =
            bad(r,
                "parameter '%s': conflicting distributions in study '%s' (%s%s%s, then %s%s%s); "
                "cairn keeps one distribution per parameter: import a journal whose trials "
                "agree",
                name, s->name, dist_kind_name(&p->d), p->d.log ? " log" : "",
                p->d.step > 0 && p->d.kind != 3 ? " with a step" : "", dist_kind_name(&d),
                d.log ? " log" : "", d.step > 0 && d.kind != 3 ? " with a step" : "");
        jdist_release(&d);
        return st;
    }
    if (d.kind != 3) {
        p->d.low = fmin(p->d.low, d.low);
        p->d.high = fmax(p->d.high, d.high);
    }
    jdist_release(&d);
    free(p->raw);
    p->raw = cn_xstrdup(text);
    return CAIRN_OK;
}

static cairn_status check_internal(replay *r, const jparam *p, double v)
{
    const jdist *d = &p->d;
    if (!isfinite(v))
        return bad(r, "parameter '%s': the value must be a finite number", p->name);
    if (d->kind == 3 && (v != floor(v) || v < 0 || v >= (double)d->n_choices))
        return bad(r, "parameter '%s': %.17g is not a choice index in [0, %zu)", p->name, v,
                   d->n_choices);
    if (d->kind == 2 && v != floor(v))
        return bad(r, "parameter '%s': %.17g is not an integer", p->name, v);
    return CAIRN_OK;
}

static void trial_set_param(jtrial *t, size_t idx, double v)
{
    for (size_t i = 0; i < t->n_set; i++)
        if (t->pidx[i] == idx) {
            t->pval[i] = v;
            return;
        }
    if (t->n_set == t->cap_set) {
        t->cap_set = t->cap_set ? t->cap_set * 2 : 8;
        t->pidx = cn_xrealloc(t->pidx, t->cap_set * sizeof *t->pidx);
        t->pval = cn_xrealloc(t->pval, t->cap_set * sizeof *t->pval);
    }
    t->pidx[t->n_set] = idx;
    t->pval[t->n_set++] = v;
}

static cairn_status trial_set_value(replay *r, jtrial *t, int64_t step, double v)
{
    for (size_t i = 0; i < t->n_steps; i++)
        if (t->steps[i] == step) {
            t->values[i] = v;
            return CAIRN_OK;
        }
    if (t->n_steps >= CN_JOURNAL_MAX_STEPS)
        return cn_fail(r->ctx, CAIRN_ELIMIT,
                       "optuna journal '%s' line %zu: more than %d intermediate values in a trial",
                       r->label, r->line, CN_JOURNAL_MAX_STEPS);
    if (t->n_steps == t->cap_steps) {
        t->cap_steps = t->cap_steps ? t->cap_steps * 2 : 8;
        t->steps = cn_xrealloc(t->steps, t->cap_steps * sizeof *t->steps);
        t->values = cn_xrealloc(t->values, t->cap_steps * sizeof *t->values);
    }
    size_t i = t->n_steps++;
    while (i > 0 && t->steps[i - 1] > step) { /* keep them ascending */
        t->steps[i] = t->steps[i - 1];
        t->values[i] = t->values[i - 1];
        i--;
    }
    t->steps[i] = step;
    t->values[i] = v;
    return CAIRN_OK;
}

/* "values": null or a list of one number (several: a multi-objective study). */
static cairn_status read_values(replay *r, const jstudy *s, const cn_json *rec, bool *has,
                                double *v)
{
    const cn_json *vals = cn_json_object_get(rec, "values");
    const cn_json *val = cn_json_object_get(rec, "value");
    *has = false;
    if (vals && cn_json_typeof(vals) != CN_JSON_NULL) {
        if (cn_json_typeof(vals) != CN_JSON_ARRAY)
            return bad(r, "'values' must be a list or null");
        size_t n = cn_json_array_size(vals);
        if (n > 1 || s->n_dirs > 1)
            return bad(r,
                       "study '%s' is multi-objective (%zu values); cairn studies have one "
                       "objective: import a single-objective study",
                       s->name, n > s->n_dirs ? n : s->n_dirs);
        if (n == 1) {
            if (!json_double(cn_json_array_get(vals, 0), v))
                return bad(r, "'values' must hold numbers");
            *has = true;
        }
    } else if (val && cn_json_typeof(val) != CN_JSON_NULL) {
        if (!json_double(val, v))
            return bad(r, "'value' must be a number or null");
        *has = true;
    }
    return CAIRN_OK;
}

static cairn_status user_attr(replay *r, jtrial *t, const char *key, const cn_json *v)
{
    (void)r;
    if (strcmp(key, "cairn.run_id") == 0)
        set_string(&t->run_id, v);
    return CAIRN_OK;
}

static cairn_status op_create_trial(replay *r, const cn_json *rec)
{
    jstudy *s = NULL;
    cairn_status rc = find_study(r, rec, &s);
    if (rc != CAIRN_OK)
        return rc;
    if (r->n_trials >= CN_JOURNAL_MAX_TRIALS)
        return cn_fail(r->ctx, CAIRN_ELIMIT, "optuna journal '%s' line %zu: more than %d trials",
                       r->label, r->line, CN_JOURNAL_MAX_TRIALS);
    r->trials = cn_tree_grow(r->trials, r->n_trials, sizeof *r->trials);
    jtrial *t = &r->trials[r->n_trials++];
    memset(t, 0, sizeof *t);
    t->study = (size_t)(s - r->studies);
    t->number = s->n_trials++;
    t->line = r->line;
    int64_t state = 0;
    if (cn_json_object_get(rec, "state")) {
        rc = member_int(r, rec, "state", 0, 4, &state);
        if (rc != CAIRN_OK)
            return rc;
    }
    t->state = (int)state;
    if (!cn_json_object_get(rec, "datetime_start"))
        return bad(r, "'datetime_start' is missing (null is allowed)");
    rc = member_datetime(r, rec, "datetime_start", &t->start_ms);
    if (rc == CAIRN_OK)
        rc = member_datetime(r, rec, "datetime_complete", &t->end_ms);
    if (rc == CAIRN_OK)
        rc = read_values(r, s, rec, &t->has_value, &t->value);
    if (rc != CAIRN_OK)
        return rc;
    const cn_json *dists = cn_json_object_get(rec, "distributions");
    const cn_json *params = cn_json_object_get(rec, "params");
    if ((dists && cn_json_typeof(dists) != CN_JSON_OBJECT) ||
        (params && cn_json_typeof(params) != CN_JSON_OBJECT))
        return bad(r, "'distributions' and 'params' must be objects");
    for (void *it = cn_json_object_iter(params); rc == CAIRN_OK && it;
         it = cn_json_object_next(params, it)) {
        const char *name = cn_json_iter_key(it);
        const char *text = cn_json_string(cn_json_object_get(dists, name));
        double v = 0;
        size_t k = 0;
        if (!text)
            return bad(r, "parameter '%s' has no distribution (a JSON string)", name);
        if (!json_double(cn_json_iter_value(it), &v))
            return bad(r, "parameter '%s': the value must be a number", name);
        rc = study_param(r, s, name, text, &k);
        if (rc == CAIRN_OK)
            rc = check_internal(r, &s->params[k], v);
        if (rc == CAIRN_OK)
            trial_set_param(t, k, v);
    }
    const cn_json *iv = cn_json_object_get(rec, "intermediate_values");
    if (iv && cn_json_typeof(iv) != CN_JSON_OBJECT)
        return bad(r, "'intermediate_values' must be an object");
    for (void *it = cn_json_object_iter(iv); rc == CAIRN_OK && it;
         it = cn_json_object_next(iv, it)) {
        int64_t step = 0;
        double v = 0;
        if (!cn_parse_int64(cn_json_iter_key(it), &step) || step < 0)
            return bad(r, "intermediate value step '%s' is not a non-negative integer",
                       cn_json_iter_key(it));
        if (!json_double(cn_json_iter_value(it), &v))
            return bad(r, "intermediate value at step %lld must be a number", (long long)step);
        rc = trial_set_value(r, t, step, v);
    }
    const cn_json *ua = cn_json_object_get(rec, "user_attrs");
    if (ua && cn_json_typeof(ua) != CN_JSON_OBJECT)
        return bad(r, "'user_attrs' must be an object");
    for (void *it = cn_json_object_iter(ua); rc == CAIRN_OK && it; it = cn_json_object_next(ua, it))
        rc = user_attr(r, t, cn_json_iter_key(it), cn_json_iter_value(it));
    return rc;
}

static cairn_status op_set_param(replay *r, const cn_json *rec)
{
    jtrial *t = NULL;
    cairn_status rc = find_trial(r, rec, &t);
    if (rc != CAIRN_OK || !t)
        return rc;
    const char *name = cn_json_member_str(rec, "param_name");
    const char *text = cn_json_member_str(rec, "distribution");
    double v = 0;
    if (!name || !text)
        return bad(r, "'param_name' and 'distribution' must be strings");
    rc = member_double(r, rec, "param_value_internal", &v);
    if (rc != CAIRN_OK)
        return rc;
    jstudy *s = &r->studies[t->study];
    size_t k = 0;
    rc = study_param(r, s, name, text, &k);
    if (rc == CAIRN_OK)
        rc = check_internal(r, &s->params[k], v);
    if (rc == CAIRN_OK)
        trial_set_param(t, k, v);
    return rc;
}

static cairn_status op_set_state(replay *r, const cn_json *rec)
{
    jtrial *t = NULL;
    int64_t state = 0;
    cairn_status rc = find_trial(r, rec, &t);
    if (rc == CAIRN_OK)
        rc = member_int(r, rec, "state", 0, 4, &state);
    if (rc != CAIRN_OK || !t)
        return rc;
    if (!cn_json_object_get(rec, "values"))
        return bad(r, "'values' is missing (null is allowed)");
    bool has = false;
    double v = NAN;
    rc = read_values(r, &r->studies[t->study], rec, &has, &v);
    if (rc != CAIRN_OK)
        return rc;
    if (state == 0 && t->state == 0)
        return CAIRN_OK;
    if (state == 0) {
        rc = member_datetime(r, rec, "datetime_start", &t->start_ms);
    } else if (state_finished(optuna_states[state])) {
        rc = member_datetime(r, rec, "datetime_complete", &t->end_ms);
    }
    t->state = (int)state;
    if (has) {
        t->has_value = true;
        t->value = v;
    }
    return rc;
}

static cairn_status op_set_value(replay *r, const cn_json *rec)
{
    jtrial *t = NULL;
    int64_t step = 0;
    double v = 0;
    cairn_status rc = find_trial(r, rec, &t);
    if (rc == CAIRN_OK)
        rc = member_int(r, rec, "step", 0, INT64_MAX, &step);
    if (rc == CAIRN_OK)
        rc = member_double(r, rec, "intermediate_value", &v);
    if (rc != CAIRN_OK || !t)
        return rc;
    return trial_set_value(r, t, step, v);
}

static cairn_status apply(replay *r, const cn_json *rec)
{
    if (cn_json_typeof(rec) != CN_JSON_OBJECT)
        return bad(r, "a record must be a JSON object");
    const cn_json *opj = cn_json_object_get(rec, "op_code");
    if (cn_json_typeof(opj) != CN_JSON_INT)
        return bad(r, "'op_code' is missing or not an integer");
    int64_t op = cn_json_int(opj);
    if (op < 0 || op >= OP_N)
        return bad(r,
                   "unknown op_code %lld (Optuna 3.1 writes 0-9; 10 is DISCARD_TRIALS of newer "
                   "Optuna and Rustuna, which cairn does not replay)",
                   (long long)op);
    if (!cn_json_member_str(rec, "worker_id"))
        return bad(r, "'worker_id' is missing or not a string");
    jstudy *s = NULL;
    jtrial *t = NULL;
    const char *key = NULL;
    const cn_json *value = NULL;
    cairn_status rc = CAIRN_OK;
    switch (op) {
    case OP_CREATE_STUDY: return op_create_study(r, rec);
    case OP_DELETE_STUDY:
        rc = find_study(r, rec, &s);
        if (rc == CAIRN_OK)
            s->deleted = true;
        return rc;
    case OP_SET_STUDY_USER_ATTR:
    case OP_SET_STUDY_SYSTEM_ATTR:
        rc = find_study(r, rec, &s);
        if (rc == CAIRN_OK)
            rc = one_attr(r, rec, op == OP_SET_STUDY_USER_ATTR ? "user_attr" : "system_attr", &key,
                          &value);
        if (rc == CAIRN_OK && op == OP_SET_STUDY_USER_ATTR) {
            if (strcmp(key, "cairn.space") == 0)
                set_string(&s->space_attr, value);
            else if (strcmp(key, "cairn.space_format") == 0)
                set_string(&s->space_format_attr, value);
            else if (strcmp(key, "cairn.objective") == 0)
                set_string(&s->objective_attr, value);
        }
        return rc;
    case OP_CREATE_TRIAL: return op_create_trial(r, rec);
    case OP_SET_TRIAL_PARAM: return op_set_param(r, rec);
    case OP_SET_TRIAL_STATE_VALUES: return op_set_state(r, rec);
    case OP_SET_TRIAL_INTERMEDIATE_VALUE: return op_set_value(r, rec);
    case OP_SET_TRIAL_USER_ATTR:
    case OP_SET_TRIAL_SYSTEM_ATTR:
        rc = find_trial(r, rec, &t);
        if (rc == CAIRN_OK)
            rc = one_attr(r, rec, op == OP_SET_TRIAL_USER_ATTR ? "user_attr" : "system_attr", &key,
                          &value);
        if (rc == CAIRN_OK && t && op == OP_SET_TRIAL_USER_ATTR)
            rc = user_attr(r, t, key, value);
        return rc;
    default: break;
    }
    return CAIRN_OK;
}

/* Python's json writes NaN, Infinity and -Infinity bare; jansson reads none of them: outside
 * strings they become the strings "NaN", "Infinity" and "-Infinity". */
static void quote_bare_numbers(const char *p, size_t len, cn_buf *out)
{
    bool in_string = false;
    cn_buf_clear(out);
    for (size_t i = 0; i < len; i++) {
        char c = p[i];
        if (in_string) {
            if (c == '\\' && i + 1 < len) {
                cn_buf_append(out, p + i, 2);
                i++;
                continue;
            }
            if (c == '"')
                in_string = false;
        } else if (c == '"') {
            in_string = true;
        } else {
            static const char *const tokens[] = {"NaN", "Infinity", "-Infinity"};
            bool done = false;
            for (size_t k = 0; k < 3 && !done; k++) {
                size_t n = strlen(tokens[k]);
                if (len - i >= n && memcmp(p + i, tokens[k], n) == 0) {
                    cn_buf_printf(out, "\"%s\"", tokens[k]);
                    i += n - 1;
                    done = true;
                }
            }
            if (done)
                continue;
        }
        cn_buf_putc(out, c);
    }
}

static cairn_status replay_text(replay *r, const char *text, size_t len)
{
    cn_buf line = CN_BUF_INIT;
    cairn_status rc = CAIRN_OK;
    size_t pos = 0;
    if (len > CN_JOURNAL_MAX_BYTES)
        return cn_fail(r->ctx, CAIRN_ELIMIT, "optuna journal '%s' is larger than %u MiB", r->label,
                       CN_JOURNAL_MAX_BYTES >> 20);
    while (rc == CAIRN_OK && pos < len) {
        const char *start = text + pos;
        const char *nl = memchr(start, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - start) : len - pos;
        pos += n + (nl ? 1 : 0);
        r->line++;
        if (n > CN_JOURNAL_MAX_LINE) {
            rc = cn_fail(r->ctx, CAIRN_ELIMIT, "optuna journal '%s' line %zu: longer than %u bytes",
                         r->label, r->line, CN_JOURNAL_MAX_LINE);
            break;
        }
        if (n > 0 && start[n - 1] == '\r')
            n--;
        if (memchr(start, '\0', n)) {
            rc = bad(r, "a NUL byte: this is not a journal file");
            break;
        }
        quote_bare_numbers(start, n, &line);
        cn_json *rec = NULL;
        cn_json_error je;
        if (!cn_json_parse_document(line.data ? line.data : "", line.len, &rec, &je)) {
            if (!nl)
                rc = bad(r,
                         "the last record is cut short (%s at column %d): the file is "
                         "truncated or still being written",
                         je.text, je.column);
            else
                rc = bad(r, "not a JSON record (%s at column %d)", je.text, je.column);
            break;
        }
        rc = apply(r, rec);
        cn_json_free(rec);
    }
    cn_buf_release(&line);
    if (rc == CAIRN_OK && r->line == 0)
        rc = cn_fail(r->ctx, CAIRN_EINVAL, "optuna journal '%s' is empty", r->label);
    return rc;
}

/* ---- the reader: one study into cairn's terms ---- */

static void space_value(cn_buf *b, const jdist *d, double v)
{
    char num[40];
    if (d->kind == 2)
        snprintf(num, sizeof num, "%.0f", v);
    else
        cn_json_format_double(v, num, sizeof num);
    cn_buf_puts(b, num);
}

/* A condition inferred for a parameter that some trials left out (Optuna's define-by-run):
 * parent is a categorical whose values in the trials that set it never occur in the finished
 * trials that did not; allowed[c] marks those values. parent SIZE_MAX: none. */
typedef struct jcond {
    size_t parent;
    bool *allowed;
} jcond;

static bool trial_get(const jtrial *t, size_t k, double *v)
{
    for (size_t i = 0; i < t->n_set; i++)
        if (t->pidx[i] == k) {
            *v = t->pval[i];
            return true;
        }
    return false;
}

static void infer_conditions(const replay *r, const jstudy *s, jcond *conds)
{
    for (size_t k = 0; k < s->n_params; k++) {
        conds[k].parent = SIZE_MAX;
        bool any_absent = false;
        for (size_t i = 0; i < r->n_trials && !any_absent; i++) {
            const jtrial *t = &r->trials[i];
            double v;
            any_absent = &r->studies[t->study] == s && t->n_set > 0 &&
                         state_finished(optuna_states[t->state]) && !trial_get(t, k, &v);
        }
        if (!any_absent)
            continue;
        for (size_t c = 0; c < k && conds[k].parent == SIZE_MAX; c++) {
            const jdist *pd = &s->params[c].d;
            if (pd->kind != 3)
                continue;
            bool *with = cn_xcalloc(pd->n_choices, sizeof *with);
            bool *without = cn_xcalloc(pd->n_choices, sizeof *without);
            bool ok = true;
            for (size_t i = 0; ok && i < r->n_trials; i++) {
                const jtrial *t = &r->trials[i];
                double v = 0, pv = 0;
                if (&r->studies[t->study] != s)
                    continue;
                bool has_p = trial_get(t, c, &pv);
                if (trial_get(t, k, &v)) {
                    ok = has_p;
                    if (ok)
                        with[(size_t)pv] = true;
                } else if (has_p && state_finished(optuna_states[t->state])) {
                    without[(size_t)pv] = true;
                }
            }
            for (size_t x = 0; ok && x < pd->n_choices; x++)
                ok = !(with[x] && without[x]);
            free(without);
            if (ok) {
                conds[k].parent = c;
                conds[k].allowed = with;
            } else {
                free(with);
            }
        }
    }
}

/* The cairn space (JSON) of the distributions seen: one parameter per name, ranges joined. */
static char *space_json(const jstudy *s, const char *objective, const jcond *conds)
{
    cn_buf b = CN_BUF_INIT;
    cn_buf_puts(&b, "{\"objective\": {\"name\": ");
    cn_json_quote(&b, objective, strlen(objective));
    cn_buf_printf(&b, ", \"goal\": \"%s\"},\n \"parameters\": {",
                  s->maximize ? "maximize" : "minimize");
    for (size_t k = 0; k < s->n_params; k++) {
        const jparam *p = &s->params[k];
        cn_buf_puts(&b, k ? ",\n  " : "\n  ");
        cn_json_quote(&b, p->name, strlen(p->name));
        if (p->d.kind == 3) {
            cn_buf_puts(&b, ": {\"type\": \"categorical\", \"values\": [");
            for (size_t i = 0; i < p->d.n_choices; i++)
                cn_buf_printf(&b, "%s%s", i ? ", " : "", p->d.choices[i]);
            cn_buf_puts(&b, "]");
        } else {
            cn_buf_printf(&b, ": {\"type\": \"%s\", \"low\": ", p->d.kind == 1 ? "float" : "int");
            space_value(&b, &p->d, p->d.low);
            cn_buf_puts(&b, ", \"high\": ");
            space_value(&b, &p->d, p->d.high);
            if (p->d.log)
                cn_buf_puts(&b, ", \"log\": true");
            if (p->d.step > 0 && !(p->d.kind == 2 && p->d.step == 1)) {
                cn_buf_puts(&b, ", \"step\": ");
                space_value(&b, &p->d, p->d.step);
            }
        }
        if (conds[k].parent != SIZE_MAX) {
            const jparam *parent = &s->params[conds[k].parent];
            cn_buf_puts(&b, ", \"when\": {");
            cn_json_quote(&b, parent->name, strlen(parent->name));
            cn_buf_puts(&b, ": [");
            for (size_t x = 0, n = 0; x < parent->d.n_choices; x++)
                if (conds[k].allowed[x])
                    cn_buf_printf(&b, "%s%s", n++ ? ", " : "", parent->d.choices[x]);
            cn_buf_puts(&b, "]}");
        }
        cn_buf_puts(&b, "}");
    }
    cn_buf_puts(&b, "\n }\n}\n");
    return cn_buf_detach(&b);
}

/* Whether the cairn space the journal carries fits every distribution seen: map[k] is the
 * space's index of journal parameter k. */
static bool space_fits(const cairn_space *sp, const jstudy *s, size_t *map)
{
    for (size_t k = 0; k < s->n_params; k++) {
        const jdist *d = &s->params[k].d;
        int64_t i = cairn_space_find(sp, s->params[k].name);
        if (i < 0)
            return false;
        cairn_param_info info;
        cairn_space_param(sp, (size_t)i, &info);
        bool ok = false;
        switch (info.type) {
        case CAIRN_SPACE_PARAM_FLOAT:
            ok = d->kind == 1 && d->log == info.log && d->step == info.step;
            break;
        case CAIRN_SPACE_PARAM_INT:
            ok = d->kind == 2 && d->log == info.log && d->step == info.step;
            break;
        case CAIRN_SPACE_PARAM_CATEGORICAL:
        case CAIRN_SPACE_PARAM_CONST: ok = d->kind == 3 && d->n_choices == info.n_choices; break;
        }
        if (!ok)
            return false;
        map[k] = (size_t)i;
    }
    return true;
}

static cairn_status build_journal(replay *r, const jstudy *s, cn_journal **out)
{
    for (size_t i = 0; i < r->n_trials; i++) {
        const jtrial *t = &r->trials[i];
        if (&r->studies[t->study] == s && optuna_states[t->state] == CAIRN_TRIAL_COMPLETE &&
            !t->has_value) {
            r->line = t->line;
            return bad(r, "trial %lld of study '%s' is COMPLETE without a value",
                       (long long)t->number, s->name);
        }
    }
    if (s->n_params == 0)
        return cn_fail(r->ctx, CAIRN_EINVAL,
                       "optuna journal '%s': no trial of study '%s' set a parameter, so there is "
                       "no search space to rebuild; import a study whose trials suggested values",
                       r->label, s->name);
    cn_journal *j = cn_xcalloc(1, sizeof *j);
    cairn_status rc = CAIRN_OK;
    size_t *map = cn_xcalloc(s->n_params ? s->n_params : 1, sizeof *map);
    j->study_name = cn_xstrdup(s->name);
    j->maximize = s->maximize;
    j->objective = s->objective_attr ? cn_xstrdup(s->objective_attr) : NULL;
    if (s->space_attr) {
        int64_t fmt = CAIRN_SPACE_YAML;
        if (s->space_format_attr &&
            (!cn_parse_int64(s->space_format_attr, &fmt) || fmt < 0 || fmt > CAIRN_SPACE_NNI))
            fmt = CAIRN_SPACE_YAML;
        cairn_space *sp = NULL;
        if (cairn_space_parse(r->ctx, "cairn.space", (cairn_space_format)fmt, s->space_attr,
                              strlen(s->space_attr), &sp) == CAIRN_OK &&
            space_fits(sp, s, map)) {
            j->space = sp;
            j->space_text = cn_xstrdup(s->space_attr);
            j->space_format = (cairn_space_format)fmt;
            j->from_cairn = true;
        } else {
            cairn_space_free(sp);
        }
    }
    if (!j->space) {
        jcond *conds = cn_xcalloc(s->n_params ? s->n_params : 1, sizeof *conds);
        infer_conditions(r, s, conds);
        j->space_format = CAIRN_SPACE_JSON;
        char label[300];
        snprintf(label, sizeof label, "the distributions of study '%s' in '%s'", s->name, r->label);
        /* With the inferred conditions, else (a condition cairn cannot state) without. */
        for (int pass = 0; pass < 2 && !j->space; pass++) {
            if (pass == 1)
                for (size_t k = 0; k < s->n_params; k++)
                    conds[k].parent = SIZE_MAX;
            free(j->space_text);
            j->space_text = space_json(s, j->objective ? j->objective : "value", conds);
            rc = cairn_space_parse(r->ctx, label, CAIRN_SPACE_JSON, j->space_text,
                                   strlen(j->space_text), &j->space);
        }
        for (size_t k = 0; k < s->n_params; k++)
            free(conds[k].allowed);
        free(conds);
        for (size_t k = 0; k < s->n_params; k++)
            map[k] = k;
    }
    size_t np = j->space ? cairn_space_n_params(j->space) : 0;
    j->trials = cn_xcalloc(s->n_trials ? (size_t)s->n_trials : 1, sizeof *j->trials);
    for (size_t i = 0; rc == CAIRN_OK && i < r->n_trials; i++) {
        jtrial *t = &r->trials[i];
        if (&r->studies[t->study] != s)
            continue;
        cn_journal_trial *o = &j->trials[j->n_trials++];
        o->number = t->number;
        o->state = optuna_states[t->state];
        o->has_value = t->has_value && (o->state == CAIRN_TRIAL_COMPLETE);
        o->value = o->has_value ? t->value : NAN;
        o->start_ms = t->start_ms;
        o->end_ms = t->end_ms;
        o->params = cn_xcalloc(np ? np : 1, sizeof *o->params);
        for (size_t k = 0; k < np; k++)
            o->params[k] = NAN;
        for (size_t k = 0; k < t->n_set; k++)
            o->params[map[t->pidx[k]]] = t->pval[k];
        o->n_steps = t->n_steps;
        o->steps = t->steps;
        o->values = t->values;
        t->steps = NULL;
        t->values = NULL;
        o->run_id = t->run_id;
        t->run_id = NULL;
    }
    free(map);
    if (rc != CAIRN_OK) {
        cn_journal_free(j);
        return rc;
    }
    *out = j;
    return CAIRN_OK;
}

cairn_status cn_journal_parse(cairn_ctx *ctx, const char *label, const char *text, size_t len,
                              const char *study, cn_journal **out)
{
    replay r = {.ctx = ctx, .label = label};
    *out = NULL;
    cairn_status rc = replay_text(&r, text, len);
    const jstudy *pick = NULL;
    size_t live = 0;
    for (size_t i = 0; rc == CAIRN_OK && i < r.n_studies; i++) {
        if (r.studies[i].deleted)
            continue;
        live++;
        if (!study || strcmp(r.studies[i].name, study) == 0)
            pick = &r.studies[i];
    }
    if (rc == CAIRN_OK && (!pick || (!study && live > 1))) {
        cn_buf names = CN_BUF_INIT;
        for (size_t i = 0, k = 0; i < r.n_studies && k < 10; i++)
            if (!r.studies[i].deleted)
                cn_buf_printf(&names, "%s'%s'", k++ ? ", " : "", r.studies[i].name);
        if (live == 0)
            rc = cn_fail(ctx, CAIRN_ENOTFOUND, "optuna journal '%s' holds no study", label);
        else if (!pick)
            rc = cn_fail(ctx, CAIRN_ENOTFOUND,
                         "optuna journal '%s' has no study '%s'; it holds %s%s", label, study,
                         cn_buf_str(&names), live > 10 ? ", ..." : "");
        else
            rc = cn_fail(ctx, CAIRN_EINVAL,
                         "optuna journal '%s' holds %zu studies (%s%s): pick one with --study NAME",
                         label, live, cn_buf_str(&names), live > 10 ? ", ..." : "");
        cn_buf_release(&names);
    }
    if (rc == CAIRN_OK && pick->n_dirs > 1)
        rc = cn_fail(ctx, CAIRN_EINVAL,
                     "optuna journal '%s': study '%s' is multi-objective (%zu directions); cairn "
                     "studies have one objective",
                     label, pick->name, pick->n_dirs);
    if (rc == CAIRN_OK)
        rc = build_journal(&r, pick, out);
    replay_release(&r);
    return rc;
}

void cn_journal_free(cn_journal *j)
{
    if (!j)
        return;
    for (size_t i = 0; i < j->n_trials; i++) {
        free(j->trials[i].params);
        free(j->trials[i].steps);
        free(j->trials[i].values);
        free(j->trials[i].run_id);
    }
    free(j->trials);
    cairn_space_free(j->space);
    free(j->space_text);
    free(j->objective);
    free(j->study_name);
    free(j);
}

/* ---- the writer ---- */

#define WORKER_ID "cairn-export"

/* A number as Python's json writes it: NaN, Infinity and -Infinity bare. */
static void put_num(cn_buf *b, double v)
{
    char num[40];
    if (isnan(v))
        cn_buf_puts(b, "NaN");
    else if (isinf(v))
        cn_buf_puts(b, v > 0 ? "Infinity" : "-Infinity");
    else {
        cn_json_format_double(v, num, sizeof num);
        cn_buf_puts(b, num);
    }
}

static void put_int(cn_buf *b, double v)
{
    cn_buf_printf(b, "%.0f", v);
}

/* A categorical value as the JSON scalar it most likely was: a number, true, false, null,
 * else a string. */
static void put_choice(cn_buf *b, const char *text)
{
    double d = 0;
    int64_t i = 0;
    if (strcmp(text, "true") == 0 || strcmp(text, "false") == 0 || strcmp(text, "null") == 0)
        cn_buf_puts(b, text);
    else if (cn_json_is_number(text) && cn_parse_int64(text, &i))
        cn_buf_printf(b, "%lld", (long long)i);
    else if (cn_json_is_number(text) && cn_parse_double(text, &d) && isfinite(d))
        put_num(b, d);
    else
        cn_json_quote(b, text, strlen(text));
}

/* Parameter i's Optuna distribution, as JSON text. */
static void dist_text(const cairn_space *sp, size_t i, cn_buf *b)
{
    cairn_param_info info;
    cairn_space_param(sp, i, &info);
    cn_buf_clear(b);
    switch (info.type) {
    case CAIRN_SPACE_PARAM_FLOAT:
        cn_buf_puts(b, "{\"name\": \"FloatDistribution\", \"attributes\": {\"step\": ");
        if (info.step > 0)
            put_num(b, info.step);
        else
            cn_buf_puts(b, "null");
        cn_buf_puts(b, ", \"low\": ");
        put_num(b, info.low);
        cn_buf_puts(b, ", \"high\": ");
        put_num(b, info.high);
        cn_buf_printf(b, ", \"log\": %s}}", info.log ? "true" : "false");
        break;
    case CAIRN_SPACE_PARAM_INT:
        cn_buf_printf(b, "{\"name\": \"IntDistribution\", \"attributes\": {\"log\": %s, \"step\": ",
                      info.log ? "true" : "false");
        put_int(b, info.step > 0 ? info.step : 1);
        cn_buf_puts(b, ", \"low\": ");
        put_int(b, info.low);
        cn_buf_puts(b, ", \"high\": ");
        put_int(b, info.high);
        cn_buf_puts(b, "}}");
        break;
    case CAIRN_SPACE_PARAM_CATEGORICAL:
    case CAIRN_SPACE_PARAM_CONST:
        cn_buf_puts(b, "{\"name\": \"CategoricalDistribution\", \"attributes\": {\"choices\": [");
        for (size_t k = 0; k < info.n_choices; k++) {
            if (k)
                cn_buf_puts(b, ", ");
            put_choice(b, info.choices[k]);
        }
        cn_buf_puts(b, "]}}");
        break;
    }
}

static void put_datetime(cn_buf *b, int64_t ms)
{
    char dt[64];
    format_datetime(ms, dt, sizeof dt);
    cn_buf_printf(b, "\"%s\"", dt);
}

static void put_user_attr(cn_buf *b, const char *key, const char *value)
{
    cn_buf_puts(b, "{\"op_code\": 2, \"worker_id\": \"" WORKER_ID "\", \"study_id\": 0, "
                   "\"user_attr\": {");
    cn_json_quote(b, key, strlen(key));
    cn_buf_puts(b, ": ");
    cn_json_quote(b, value, strlen(value));
    cn_buf_puts(b, "}}\n");
}

static void put_trial(cn_buf *b, const cairn_space *sp, const cairn_trial *t, cn_buf *dist)
{
    int state = optuna_state_of(t->state);
    cn_buf_puts(b, "{\"op_code\": 4, \"worker_id\": \"" WORKER_ID "\", \"study_id\": 0, "
                   "\"datetime_start\": ");
    if (t->start_ms > 0 && t->state != CAIRN_TRIAL_WAITING)
        put_datetime(b, t->start_ms);
    else
        cn_buf_puts(b, "null");
    cn_buf_printf(b, ", \"state\": %d, \"value\": ", state);
    if (t->state == CAIRN_TRIAL_COMPLETE)
        put_num(b, t->value);
    else
        cn_buf_puts(b, "null");
    cn_buf_puts(b, ", \"values\": null");
    if (state >= 1 && state <= 3 && t->end_ms > 0) {
        cn_buf_puts(b, ", \"datetime_complete\": ");
        put_datetime(b, t->end_ms);
    }
    cn_buf_puts(b, ", \"distributions\": {");
    bool first = true;
    for (size_t i = 0; i < t->n_params; i++) {
        if (isnan(t->params[i]))
            continue;
        cairn_param_info info;
        cairn_space_param(sp, i, &info);
        dist_text(sp, i, dist);
        cn_buf_puts(b, first ? "" : ", ");
        first = false;
        cn_json_quote(b, info.name, strlen(info.name));
        cn_buf_puts(b, ": ");
        cn_json_quote(b, cn_buf_str(dist), dist->len);
    }
    cn_buf_puts(b, "}, \"params\": {");
    first = true;
    for (size_t i = 0; i < t->n_params; i++) {
        if (isnan(t->params[i]))
            continue;
        cairn_param_info info;
        cairn_space_param(sp, i, &info);
        cn_buf_puts(b, first ? "" : ", ");
        first = false;
        cn_json_quote(b, info.name, strlen(info.name));
        cn_buf_puts(b, ": ");
        if (info.type == CAIRN_SPACE_PARAM_FLOAT)
            put_num(b, t->params[i]);
        else if (info.type == CAIRN_SPACE_PARAM_CONST)
            cn_buf_puts(b, "0");
        else
            put_int(b, t->params[i]);
    }
    cn_buf_puts(b, "}, \"user_attrs\": {");
    if (t->run_id && t->run_id[0]) {
        cn_buf_puts(b, "\"cairn.run_id\": ");
        cn_json_quote(b, t->run_id, strlen(t->run_id));
    }
    cn_buf_puts(b, "}, \"system_attrs\": {}, \"intermediate_values\": {");
    for (size_t k = 0; k < t->n_steps; k++) {
        cn_buf_printf(b, "%s\"%lld\": ", k ? ", " : "", (long long)t->steps[k]);
        put_num(b, t->values[k]);
    }
    cn_buf_puts(b, "}}\n");
}

cairn_status cairn_study_journal_text(cairn_study *s, char **text_out, size_t *len_out)
{
    *text_out = NULL;
    if (len_out)
        *len_out = 0;
    const cairn_trial *trials = NULL;
    size_t n = 0;
    cairn_status rc = cairn_study_trials(s, &trials, &n);
    if (rc != CAIRN_OK)
        return rc;
    cn_buf b = CN_BUF_INIT, dist = CN_BUF_INIT;
    char fmt[16];
    cn_buf_puts(&b, "{\"op_code\": 0, \"worker_id\": \"" WORKER_ID "\", \"study_name\": ");
    cn_json_quote(&b, s->row.name, strlen(s->row.name));
    cn_buf_printf(&b, ", \"directions\": [%d]}\n", s->row.maximize ? 2 : 1);
    put_user_attr(&b, "cairn.space", s->row.space);
    snprintf(fmt, sizeof fmt, "%d", s->row.space_format);
    put_user_attr(&b, "cairn.space_format", fmt);
    put_user_attr(&b, "cairn.objective", s->row.objective);
    for (size_t i = 0; i < n; i++)
        put_trial(&b, s->space, &trials[i], &dist);
    cn_buf_release(&dist);
    if (len_out)
        *len_out = b.len;
    *text_out = cn_buf_detach(&b);
    return CAIRN_OK;
}

cairn_status cairn_study_export_journal(cairn_study *s, const char *path)
{
    char *text = NULL;
    size_t len = 0;
    cairn_status rc = cairn_study_journal_text(s, &text, &len);
    if (rc == CAIRN_OK && cn_fs_write_atomic(path, text, len) != 0)
        rc = cn_fail(s->ctx, CAIRN_EIO, "cannot write the journal '%s': %s", path,
                     cn_fs_strerror(errno));
    free(text);
    return rc;
}

/* ---- the importer ---- */

typedef struct import_state {
    cairn_study *s;
    const cn_journal_trial *t;
    cn_buf text;  /* internal values */
    cn_buf names; /* the run's params, NUL-separated */
    cairn_param *ext;
    size_t n_ext;
    char run_name[300];
} import_state;

static cairn_status no_trial(void *user, const cn_trial_row *row)
{
    (void)user;
    (void)row;
    return CAIRN_OK;
}

static cairn_status no_value(void *user, int64_t number, int64_t step, double value)
{
    (void)user;
    (void)number;
    (void)step;
    (void)value;
    return CAIRN_OK;
}

static void params_text(const double *params, size_t n, cn_buf *out)
{
    char num[40];
    cn_buf_clear(out);
    for (size_t i = 0; i < n; i++) {
        if (isnan(params[i]))
            cn_strlcpy(num, "nan", sizeof num);
        else
            cn_format_double(params[i], num, sizeof num);
        cn_buf_printf(out, "%s%s", i ? "," : "", num);
    }
}

static cairn_status import_propose(void *user, int64_t number, const char *waiting,
                                   cn_trial_proposal *out)
{
    import_state *a = user;
    cairn_study *s = a->s;
    if (waiting || number != a->t->number)
        return cn_fail(s->ctx, CAIRN_EINTERNAL,
                       "study '%s': the import expected trial %lld, the store gave %lld%s",
                       s->row.name, (long long)a->t->number, (long long)number,
                       waiting ? " (a WAITING one)" : "");
    params_text(a->t->params, s->n_params, &a->text);
    char value[CAIRN_PARAM_VALUE_MAX + 1];
    size_t *offs = cn_xcalloc(s->n_params * 2 + 1, sizeof *offs);
    cn_buf_clear(&a->names);
    a->n_ext = 0;
    for (size_t i = 0; i < s->n_params; i++) {
        if (isnan(a->t->params[i]))
            continue;
        cairn_param_info info;
        cairn_space_param(s->space, i, &info);
        cairn_space_format_value(s->space, i, a->t->params[i], value, sizeof value);
        offs[a->n_ext * 2] = a->names.len;
        cn_buf_append(&a->names, info.name, strlen(info.name) + 1);
        offs[a->n_ext * 2 + 1] = a->names.len;
        cn_buf_append(&a->names, value, strlen(value) + 1);
        a->n_ext++;
    }
    a->ext = cn_xrealloc(a->ext, (a->n_ext ? a->n_ext : 1) * sizeof *a->ext);
    for (size_t k = 0; k < a->n_ext; k++)
        a->ext[k] = (cairn_param){a->names.data + offs[k * 2], a->names.data + offs[k * 2 + 1]};
    free(offs);
    out->params_text = cn_buf_str(&a->text);
    out->grid_index = -1;
    out->params = a->ext;
    out->n_params = a->n_ext;
    snprintf(a->run_name, sizeof a->run_name, "%s-%lld", s->row.name, (long long)number);
    out->run_name = a->run_name;
    return CAIRN_OK;
}

/* One trial into the store: claimed (its run made), its values reported, then finished. */
static cairn_status import_trial(cairn_study *s, import_state *a, const cn_journal_trial *t,
                                 bool waiting_before_later, char *run_id, size_t run_id_size)
{
    cairn_ctx *ctx = s->ctx;
    int64_t now = cn_now_ms();
    int64_t start = t->start_ms > 0 ? t->start_ms : t->end_ms > 0 ? t->end_ms : now;
    int64_t end = t->end_ms > 0 ? t->end_ms : start;
    int64_t number = -1;
    run_id[0] = '\0';
    if (t->state == CAIRN_TRIAL_WAITING && !waiting_before_later) {
        params_text(t->params, s->n_params, &a->text);
        cairn_status rc = CN_STORE_OPS(ctx)->trial_enqueue(ctx, s->row.study_id,
                                                           cn_buf_str(&a->text), -1, &number);
        if (rc == CAIRN_OK && number != t->number)
            rc = cn_fail(ctx, CAIRN_EINTERNAL,
                         "study '%s': the import expected trial %lld, got %lld", s->row.name,
                         (long long)t->number, (long long)number);
        return rc;
    }
    a->t = t;
    cn_trial_claim in = {.study_id = s->row.study_id,
                         .study_name = s->row.name,
                         .experiment_id = s->row.experiment_id,
                         .heartbeat_interval_ms = s->row.heartbeat_interval_ms,
                         .stale_before_ms = INT64_MIN,
                         .from_number = t->number,
                         .now_ms = start,
                         .max_retries = 0,
                         .user = s->user,
                         .on_trial = no_trial,
                         .on_value = no_value,
                         .propose = import_propose,
                         .user_data = a};
    cn_trial_claimed got;
    cairn_status rc = CN_STORE_OPS(ctx)->trial_claim(ctx, &in, &got);
    if (rc != CAIRN_OK)
        return rc;
    cn_strlcpy(run_id, got.run_id, run_id_size);
    cairn_metric *m = cn_xcalloc(t->n_steps + 1, sizeof *m);
    size_t nm = 0;
    for (size_t k = 0; rc == CAIRN_OK && k < t->n_steps; k++) {
        rc = CN_STORE_OPS(ctx)->trial_report(ctx, s->row.study_id, t->number, t->steps[k],
                                             t->values[k], start);
        m[nm++] = (cairn_metric){s->row.objective, t->values[k], start, t->steps[k]};
    }
    cairn_trial_state state = t->state;
    const char *reason = NULL;
    if (state == CAIRN_TRIAL_WAITING) {
        state = CAIRN_TRIAL_FAIL;
        reason = "WAITING in the Optuna journal before later trials";
    }
    if (state == CAIRN_TRIAL_COMPLETE)
        m[nm++] = (cairn_metric){s->row.objective, t->value, end,
                                 t->n_steps ? t->steps[t->n_steps - 1] : 0};
    if (rc == CAIRN_OK && nm)
        rc = cairn_runs_log_batch(ctx, run_id, m, nm, NULL, 0, NULL, 0);
    free(m);
    if (rc == CAIRN_OK && state != CAIRN_TRIAL_RUNNING)
        rc = CN_STORE_OPS(ctx)->trial_finish(ctx, s->row.study_id, t->number, state,
                                             state == CAIRN_TRIAL_COMPLETE, t->value, reason, end,
                                             0, NULL);
    return rc;
}

static cairn_status read_journal_file(cairn_ctx *ctx, const char *path, cn_buf *out)
{
    if (cn_fs_read_file(path, out, CN_JOURNAL_MAX_BYTES) == 0)
        return CAIRN_OK;
    int e = errno;
    if (e == E2BIG)
        return cn_fail(ctx, CAIRN_ELIMIT, "optuna journal '%s' is larger than %u MiB", path,
                       CN_JOURNAL_MAX_BYTES >> 20);
    return cn_fail(ctx, e == ENOENT ? CAIRN_ENOTFOUND : CAIRN_EIO,
                   "cannot read the optuna journal '%s': %s", path, cn_fs_strerror(e));
}

cairn_status cairn_study_import_journal(cairn_ctx *ctx, const char *path,
                                        const cairn_journal_import_opts *opts, cairn_study **out)
{
    static const cairn_journal_import_opts defaults = CAIRN_JOURNAL_IMPORT_OPTS_INIT;
    const cairn_journal_import_opts *o = opts ? opts : &defaults;
    cn_buf file = CN_BUF_INIT;
    cn_journal *j = NULL;
    cairn_study *s = NULL;
    char **runs = NULL;
    size_t n_runs = 0;
    if (out)
        *out = NULL;
    cairn_status rc = cn_need_store(ctx);
    if (rc == CAIRN_OK && !CN_STORE_OPS(ctx)->study_create)
        rc = cn_fail(ctx, CAIRN_EINVAL,
                     "studies are not supported over REST; open the SQLite or PostgreSQL store "
                     "itself (--store sqlite:///path or postgresql://...)");
    if (rc == CAIRN_OK)
        rc = read_journal_file(ctx, path, &file);
    if (rc == CAIRN_OK)
        rc = cn_journal_parse(ctx, path, file.data ? file.data : "", file.len, o->study, &j);
    cn_buf_release(&file);
    if (rc != CAIRN_OK)
        return rc;
    const char *name = o->name ? o->name : j->study_name;
    cn_study_row row;
    memset(&row, 0, sizeof row);
    rc = cn_text_check_name(ctx, "study name", name, CAIRN_KEY_MAX);
    if (rc == CAIRN_OK) {
        rc = CN_STORE_OPS(ctx)->study_get(ctx, name, &row);
        cn_study_row_release(&row);
        if (rc == CAIRN_OK)
            rc = cn_fail(ctx, CAIRN_EEXIST,
                         "study '%s' exists already in this store; nothing was imported: import "
                         "it under another name (--as NAME) or delete it first (`cairn study "
                         "delete %s`)",
                         name, name);
        else if (rc == CAIRN_ENOTFOUND)
            rc = CAIRN_OK;
    }
    const char *exp_name = o->experiment ? o->experiment : name;
    if (rc == CAIRN_OK) {
        cairn_study_opts so = CAIRN_STUDY_OPTS_INIT;
        so.space_text = j->space_text;
        so.space_format = j->space_format;
        so.space_label = path;
        so.objective = j->objective;
        so.direction = j->maximize ? CAIRN_DIRECTION_MAXIMIZE : CAIRN_DIRECTION_MINIMIZE;
        so.experiment = exp_name;
        rc = cairn_study_open(ctx, name, &so, &s);
        if (rc == CAIRN_OK && !cairn_study_was_created(s)) {
            cairn_study_free(s);
            s = NULL;
            rc = cn_fail(ctx, CAIRN_EEXIST,
                         "study '%s' was created by another process meanwhile; nothing was "
                         "imported",
                         name);
        }
    }
    if (rc != CAIRN_OK) {
        cn_journal_free(j);
        return rc;
    }
    /* From here on a failure removes what the import made: the study, and its trials' runs
     * (deleted, as `cairn runs delete` does). The experiment stays: a deleted one would keep
     * its name from the next import. */
    import_state a = {.s = s, .text = CN_BUF_INIT, .names = CN_BUF_INIT};
    runs = cn_xcalloc(j->n_trials ? j->n_trials : 1, sizeof *runs);
    size_t last_started = 0; /* one past the last trial that is not WAITING */
    for (size_t i = 0; i < j->n_trials; i++)
        if (j->trials[i].state != CAIRN_TRIAL_WAITING)
            last_started = i + 1;
    for (size_t i = 0; rc == CAIRN_OK && i < j->n_trials; i++) {
        char run_id[40];
        rc = import_trial(s, &a, &j->trials[i], i < last_started, run_id, sizeof run_id);
        if (run_id[0])
            runs[n_runs++] = cn_xstrdup(run_id);
        if (rc != CAIRN_OK)
            cn_errctx(ctx, "importing trial %lld of '%s'", (long long)j->trials[i].number, path);
    }
    free(a.ext);
    cn_buf_release(&a.text);
    cn_buf_release(&a.names);
    if (rc != CAIRN_OK) {
        /* Best effort, keeping the first error's message. */
        char *msg = cn_xstrdup(cairn_errmsg(ctx));
        bool clean = CN_STORE_OPS(ctx)->study_delete(ctx, s->row.name) == CAIRN_OK;
        for (size_t i = 0; i < n_runs; i++)
            clean = cairn_run_delete(ctx, runs[i]) == CAIRN_OK && clean;
        cn_fail(ctx, rc, "%s; %s", msg,
                clean ? "nothing was imported (what was written is removed again)"
                      : "removing what was written failed too: delete the study by hand");
        free(msg);
        cairn_study_free(s);
        s = NULL;
    }
    for (size_t i = 0; i < n_runs; i++)
        free(runs[i]);
    free(runs);
    cn_journal_free(j);
    if (out)
        *out = s;
    else
        cairn_study_free(s);
    return rc;
}
