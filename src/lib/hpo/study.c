/* SPDX-License-Identifier: MIT */
/* study.c - studies in the store (include/cairn/hpo.h "studies"): open or create, ask, tell,
 * report, should-prune, enqueue, best, trials. The handle caches the trials it has seen
 * finish (they never change again), so an ask reads only the trials from the first unfinished
 * one on: a sequential study pays for one or two rows per ask, not its whole history. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "hpo/hpo_internal.h"
#include "hpo/study_internal.h"
#include "core/core.h"
#include "core/text.h"
#include "store/store_ops.h"
#include "base/buf.h"
#include "base/rng.h"
#include "base/str.h"
#include "base/time.h"
#include "base/xmalloc.h"
#include "base/banned.h"

#define DEFAULT_SAMPLER "auto"
#define DEFAULT_PRUNER "none"
#define DEFAULT_RETRIES 2

static const char *const state_strs[] = {"RUNNING", "COMPLETE", "PRUNED",
                                         "FAIL",    "WAITING",  "STALE"};

const char *cairn_trial_state_str(cairn_trial_state state)
{
    return (int)state >= 0 && (size_t)state < CN_ARRAY_LEN(state_strs) ? state_strs[state] : NULL;
}

static bool is_final(cairn_trial_state st)
{
    return st == CAIRN_TRIAL_COMPLETE || st == CAIRN_TRIAL_PRUNED || st == CAIRN_TRIAL_FAIL ||
           st == CAIRN_TRIAL_STALE;
}

/* ---- the cache ---- */

static cn_study_trial *slot(cairn_study *s, int64_t number)
{
    if ((size_t)number >= s->n_trials) {
        size_t n = (size_t)number + 1;
        if (n > s->cap_trials) {
            size_t cap = s->cap_trials ? s->cap_trials : 16;
            while (cap < n)
                cap *= 2;
            s->trials = cn_xrealloc(s->trials, cap * sizeof *s->trials);
            memset(s->trials + s->cap_trials, 0, (cap - s->cap_trials) * sizeof *s->trials);
            s->cap_trials = cap;
        }
        for (size_t i = s->n_trials; i < n; i++) {
            s->trials[i].number = (int64_t)i;
            s->trials[i].state = CAIRN_TRIAL_WAITING;
            s->trials[i].absent = true;
        }
        s->n_trials = n;
    }
    return &s->trials[number];
}

/* Internal values from their text ("0.1,nan,3"); false when it does not hold n of them. */
static bool parse_params(const char *text, double *out, size_t n)
{
    const char *p = text;
    for (size_t i = 0; i < n; i++) {
        char *end = NULL;
        out[i] = strtod(p, &end);
        if (end == p)
            return false;
        p = end;
        if (i + 1 < n) {
            if (*p != ',')
                return false;
            p++;
        }
    }
    return *p == '\0';
}

static void format_params(const double *params, size_t n, cn_buf *out)
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

static cairn_status on_trial(void *user, const cn_trial_row *row)
{
    cairn_study *s = user;
    cn_study_trial *t = slot(s, row->number);
    t->absent = false;
    t->state = row->state;
    t->value = row->has_value ? row->value : NAN;
    t->has_value = row->has_value;
    if (!t->params)
        t->params = cn_xcalloc(s->n_params ? s->n_params : 1, sizeof *t->params);
    t->has_params = row->params[0] && parse_params(row->params, t->params, s->n_params);
    if (!t->has_params)
        for (size_t i = 0; i < s->n_params; i++)
            t->params[i] = NAN;
    cn_strlcpy(t->run_id, row->run_id, sizeof t->run_id);
    t->retry_of = row->retry_of;
    t->start_ms = row->start_ms;
    t->end_ms = row->end_ms;
    t->n_steps = 0; /* the values that follow are all of them */
    return CAIRN_OK;
}

static cairn_status on_value(void *user, int64_t number, int64_t step, double value)
{
    cairn_study *s = user;
    if (number < 0 || (size_t)number >= s->n_trials)
        return CAIRN_OK;
    cn_study_trial *t = &s->trials[number];
    if (t->n_steps == t->cap_steps) {
        t->cap_steps = t->cap_steps ? t->cap_steps * 2 : 8;
        t->steps = cn_xrealloc(t->steps, t->cap_steps * sizeof *t->steps);
        t->values = cn_xrealloc(t->values, t->cap_steps * sizeof *t->values);
    }
    t->steps[t->n_steps] = step;
    t->values[t->n_steps++] = value;
    return CAIRN_OK;
}

/* After a visit: the first trial not yet final is where the next read starts. */
static void advance_frontier(cairn_study *s)
{
    while ((size_t)s->frontier < s->n_trials && !s->trials[s->frontier].absent &&
           is_final(s->trials[s->frontier].state))
        s->frontier++;
}

cairn_status cn_study_refresh(cairn_study *s)
{
    cairn_status rc = CN_STORE_OPS(s->ctx)->trials_read(s->ctx, s->row.study_id, s->frontier,
                                                        on_trial, on_value, s);
    if (rc == CAIRN_OK)
        advance_frontier(s);
    return rc;
}

/* The history samplers and pruners read, built from the cache. */
static void build_history(cairn_study *s, cairn_history *h)
{
    if (s->cap_records < s->n_trials) {
        s->cap_records = s->cap_trials;
        s->records = cn_xrealloc(s->records, s->cap_records * sizeof *s->records);
    }
    size_t n = 0;
    for (size_t i = 0; i < s->n_trials; i++) {
        const cn_study_trial *t = &s->trials[i];
        if (t->absent)
            continue;
        cairn_trial_record *r = &s->records[n++];
        r->number = t->number;
        r->state = t->state == CAIRN_TRIAL_STALE ? CAIRN_TRIAL_FAIL : t->state;
        r->value = t->value;
        r->params = t->has_params ? t->params : NULL;
        r->n_steps = t->n_steps;
        r->steps = t->steps;
        r->values = t->values;
    }
    h->trials = s->records;
    h->n_trials = n;
    h->maximize = s->row.maximize;
    h->study_name = s->row.name;
}

static void fill_trial(const cairn_study *s, const cn_study_trial *t, cairn_trial *out)
{
    memset(out, 0, sizeof *out);
    out->number = t->number;
    out->state = t->state;
    out->value = t->state == CAIRN_TRIAL_COMPLETE ? t->value : NAN;
    out->params = t->params;
    out->n_params = s->n_params;
    out->run_id = t->run_id;
    out->retry_of = t->retry_of;
    out->start_ms = t->start_ms;
    out->end_ms = t->end_ms;
    out->n_steps = t->n_steps;
    out->steps = t->steps;
    out->values = t->values;
}

/* ---- open ---- */

static cairn_status need_studies(cairn_ctx *ctx)
{
    cairn_status rc = cn_need_store(ctx);
    if (rc == CAIRN_OK && !CN_STORE_OPS(ctx)->study_create)
        rc = cn_fail(ctx, CAIRN_EINVAL,
                     "studies are not supported over REST; open the SQLite or PostgreSQL store "
                     "itself (--store sqlite:///path or postgresql://...)");
    return rc;
}

static char *space_text_copy(const cairn_study_opts *o)
{
    size_t len = o->space_len ? o->space_len : strlen(o->space_text);
    return cn_xstrndup(o->space_text, len);
}

/* Makes the space, sampler and pruner of a study row with this handle's specs. */
static cairn_status build(cairn_study *s, const char *label)
{
    cairn_status rc = cairn_space_parse(s->ctx, label, (cairn_space_format)s->row.space_format,
                                        s->row.space, strlen(s->row.space), &s->space);
    if (rc != CAIRN_OK)
        return rc;
    s->n_params = cairn_space_n_params(s->space);
    rc = cairn_sampler_new(s->ctx, s->space, s->sampler_spec, s->seed, &s->sampler);
    if (rc == CAIRN_OK)
        rc = cairn_pruner_new(s->ctx, s->pruner_spec, &s->pruner);
    return rc;
}

/* A resumed study must keep its space, objective and direction. */
static cairn_status check_resume(cairn_study *s, const cairn_study_opts *o, const char *objective,
                                 bool maximize, bool has_direction)
{
    const char *name = s->row.name;
    if (o->space_text) {
        char *text = space_text_copy(o);
        bool same = strcmp(text, s->row.space) == 0;
        free(text);
        if (!same)
            return cn_fail(s->ctx, CAIRN_EINVAL,
                           "study '%s' exists with a different search space; nothing was "
                           "changed: resume it with the same space (`cairn study show %s` "
                           "prints it) or start a new study with another --study name",
                           name, name);
    }
    if (objective && strcmp(objective, s->row.objective) != 0)
        return cn_fail(s->ctx, CAIRN_EINVAL,
                       "study '%s' exists with objective '%s', not '%s'; nothing was changed: "
                       "use --metric %s or another --study name",
                       name, s->row.objective, objective, s->row.objective);
    if (has_direction && maximize != s->row.maximize)
        return cn_fail(s->ctx, CAIRN_EINVAL,
                       "study '%s' exists with direction %s, not %s; nothing was changed: use "
                       "--direction %s or another --study name",
                       name, s->row.maximize ? "maximize" : "minimize",
                       maximize ? "maximize" : "minimize",
                       s->row.maximize ? "maximize" : "minimize");
    return CAIRN_OK;
}

/* $CAIRN_HEARTBEAT_S (as runs read it), else CAIRN_HEARTBEAT_DEFAULT_S. */
static int64_t default_heartbeat_ms(void)
{
    const char *v = getenv("CAIRN_HEARTBEAT_S");
    double s = 0;
    if (v && cn_parse_double(v, &s) && s > 0 && s < 86400)
        return (int64_t)(s * 1000);
    return CAIRN_HEARTBEAT_DEFAULT_S * 1000;
}

cairn_status cairn_study_open(cairn_ctx *ctx, const char *name, const cairn_study_opts *opts,
                              cairn_study **out)
{
    static const cairn_study_opts defaults = CAIRN_STUDY_OPTS_INIT;
    const cairn_study_opts *o = opts ? opts : &defaults;
    cairn_space *space = NULL;
    char *exp_id = NULL;
    *out = NULL;
    cairn_status rc = need_studies(ctx);
    if (rc == CAIRN_OK)
        rc = cn_text_check_name(ctx, "study name", name, CAIRN_KEY_MAX);
    if (rc != CAIRN_OK)
        return rc;
    const char *label = o->space_label ? o->space_label : "space";
    cairn_study *s = cn_xcalloc(1, sizeof *s);
    s->ctx = ctx;
    s->user = cn_login_name();
    s->max_retries = o->max_retries == 0  ? DEFAULT_RETRIES
                     : o->max_retries < 0 ? 0
                                          : o->max_retries;

    /* The objective and direction asked for: the options, else the space's. */
    const char *objective = o->objective;
    bool maximize = o->direction == CAIRN_DIRECTION_MAXIMIZE;
    bool has_direction = o->direction != CAIRN_DIRECTION_DEFAULT;
    const char *strategy = "last";
    if (o->space_text) {
        size_t len = o->space_len ? o->space_len : strlen(o->space_text);
        rc = cairn_space_parse(ctx, label, o->space_format, o->space_text, len, &space);
        if (rc != CAIRN_OK)
            goto done;
        bool space_max = false;
        const char *space_obj = cairn_space_objective(space, &space_max);
        if (!objective)
            objective = space_obj;
        if (!has_direction && space_obj) {
            maximize = space_max;
            has_direction = true;
        }
        if (space_obj)
            strategy = cairn_space_objective_strategy(space);
    }

    bool found = false;
    rc = CN_STORE_OPS(ctx)->study_get(ctx, name, &s->row);
    if (rc == CAIRN_OK)
        found = true;
    else if (rc != CAIRN_ENOTFOUND)
        goto done;
    if (!found && o->must_exist) {
        rc = cn_fail(ctx, CAIRN_ENOTFOUND, "study '%s' not found; `cairn study list` shows them",
                     name);
        goto done;
    }
    if (!found && !o->space_text) {
        rc = cn_fail(ctx, CAIRN_EINVAL,
                     "study '%s' does not exist: give its search space to create it", name);
        goto done;
    }
    if (!found) {
        rc = cairn_experiment_ensure(ctx, o->experiment ? o->experiment : name, &exp_id);
        if (rc != CAIRN_OK)
            goto done;
        uint64_t seed = o->seed;
        if (!o->has_seed) {
            cn_random_bytes(&seed, sizeof seed);
            seed &= 0x7fffffffffffffffULL;
        }
        char *text = space_text_copy(o);
        cn_study_row in = {.name = (char *)name,
                           .experiment_id = exp_id,
                           .space = text,
                           .space_format = (int)o->space_format,
                           .objective = (char *)(objective ? objective : "value"),
                           .maximize = maximize,
                           .strategy = (char *)strategy,
                           .sampler = (char *)(o->sampler ? o->sampler : DEFAULT_SAMPLER),
                           .pruner = (char *)(o->pruner ? o->pruner : DEFAULT_PRUNER),
                           .seed = (int64_t)(seed & 0x7fffffffffffffffULL),
                           .heartbeat_interval_ms = o->heartbeat_interval_ms > 0
                                                        ? o->heartbeat_interval_ms
                                                        : default_heartbeat_ms(),
                           .creation_ms = cn_now_ms()};
        /* Check the specs before anything is stored. */
        cairn_sampler *probe_s = NULL;
        cairn_pruner *probe_p = NULL;
        rc = cairn_sampler_new(ctx, space, in.sampler, 0, &probe_s);
        if (rc == CAIRN_OK)
            rc = cairn_pruner_new(ctx, in.pruner, &probe_p);
        cairn_sampler_free(probe_s);
        cairn_pruner_free(probe_p);
        if (rc == CAIRN_OK)
            rc = CN_STORE_OPS(ctx)->study_create(ctx, &in, &s->row, &s->created);
        free(text);
        if (rc != CAIRN_OK)
            goto done;
        if (!s->created) /* another process made it first: it must agree with ours */
            found = true;
    }
    if (found) {
        rc = check_resume(s, o, objective, maximize, has_direction);
        if (rc != CAIRN_OK)
            goto done;
    }
    s->sampler_spec = cn_xstrdup(o->sampler ? o->sampler : s->row.sampler);
    s->pruner_spec = cn_xstrdup(o->pruner ? o->pruner : s->row.pruner);
    s->seed = o->has_seed ? o->seed : (uint64_t)s->row.seed;
    rc = build(s, label);
    if (rc != CAIRN_OK)
        goto done;
    *out = s;
    s = NULL;
done:
    cairn_space_free(space);
    free(exp_id);
    cairn_study_free(s);
    return rc;
}

void cairn_study_free(cairn_study *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n_trials; i++) {
        free(s->trials[i].params);
        free(s->trials[i].steps);
        free(s->trials[i].values);
    }
    free(s->trials);
    free(s->records);
    free(s->pub);
    cairn_sampler_free(s->sampler);
    cairn_pruner_free(s->pruner);
    cairn_space_free(s->space);
    cn_study_row_release(&s->row);
    free(s->sampler_spec);
    free(s->pruner_spec);
    free(s->user);
    free(s);
}

const char *cairn_study_name(const cairn_study *s)
{
    return s->row.name;
}

bool cairn_study_was_created(const cairn_study *s)
{
    return s->created;
}

const cairn_space *cairn_study_space(const cairn_study *s)
{
    return s->space;
}

const char *cairn_study_objective(const cairn_study *s, bool *maximize, const char **strategy)
{
    if (maximize)
        *maximize = s->row.maximize;
    if (strategy)
        *strategy = s->row.strategy;
    return s->row.objective;
}

const char *cairn_study_experiment_id(const cairn_study *s)
{
    return s->row.experiment_id;
}

const char *cairn_study_sampler_spec(const cairn_study *s)
{
    return s->sampler_spec;
}

const char *cairn_study_pruner_spec(const cairn_study *s)
{
    return s->pruner_spec;
}

uint64_t cairn_study_seed(const cairn_study *s)
{
    return s->seed;
}

/* ---- ask ---- */

typedef struct ask_state {
    cairn_study *s;
    double *params;
    cn_buf text;
    cn_buf names;     /* the run's params, external text, NUL-separated */
    cairn_param *ext; /* n_params entries pointing into names (built after) */
    size_t n_ext;
    char run_name[300];
} ask_state;

/* The run's params: each active parameter's external text. */
static void external_params(ask_state *a)
{
    cairn_study *s = a->s;
    char value[CAIRN_PARAM_VALUE_MAX + 1];
    size_t *offs = cn_xcalloc(s->n_params * 2 + 1, sizeof *offs);
    cn_buf_clear(&a->names);
    a->n_ext = 0;
    for (size_t i = 0; i < s->n_params; i++) {
        cairn_param_info info;
        cairn_space_param(s->space, i, &info);
        if (isnan(a->params[i]))
            continue;
        cairn_space_format_value(s->space, i, a->params[i], value, sizeof value);
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
}

static cairn_status ask_on_trial(void *user, const cn_trial_row *row)
{
    return on_trial(((ask_state *)user)->s, row);
}

static cairn_status ask_on_value(void *user, int64_t number, int64_t step, double value)
{
    return on_value(((ask_state *)user)->s, number, step, value);
}

static cairn_status propose(void *user, int64_t number, const char *waiting, cn_trial_proposal *out)
{
    ask_state *a = user;
    cairn_study *s = a->s;
    cairn_status rc = CAIRN_OK;
    advance_frontier(s);
    out->grid_index = -1;
    if (waiting) {
        if (!parse_params(waiting, a->params, s->n_params))
            return cn_fail(s->ctx, CAIRN_EINVAL,
                           "study '%s': trial %lld holds params that do not fit the space",
                           s->row.name, (long long)number);
        /* Parameters an enqueue left out are drawn at random (seeded by the number). */
        bool missing = false;
        for (size_t i = 0; i < s->n_params; i++)
            missing =
                missing || (isnan(a->params[i]) && cairn_space_is_active(s->space, i, a->params));
        if (missing) {
            double *fill = cn_xcalloc(s->n_params ? s->n_params : 1, sizeof *fill);
            cn_rng r;
            cn_hpo_rng(&r, s->seed, number, 77);
            cn_random_fill(s->space, &r, fill);
            for (size_t k = 0; k < s->n_params; k++) {
                size_t i = s->space->order[k];
                if (isnan(a->params[i]) && cairn_space_is_active(s->space, i, a->params))
                    a->params[i] = fill[i];
            }
            free(fill);
        }
    } else {
        cairn_history h;
        build_history(s, &h);
        rc = cairn_sampler_ask(s->sampler, &h, number, a->params);
        if (rc != CAIRN_OK)
            return rc;
        uint64_t gi = 0;
        if (strcmp(cairn_sampler_name(s->sampler), "grid") == 0 &&
            cairn_sampler_grid_index(s->sampler, a->params, &gi) == CAIRN_OK)
            out->grid_index = (int64_t)gi;
    }
    format_params(a->params, s->n_params, &a->text);
    out->params_text = cn_buf_str(&a->text);
    external_params(a);
    out->params = a->ext;
    out->n_params = a->n_ext;
    snprintf(a->run_name, sizeof a->run_name, "%s-%lld", s->row.name, (long long)number);
    out->run_name = a->run_name;
    return CAIRN_OK;
}

cairn_status cairn_study_ask(cairn_study *s, cairn_trial *out)
{
    return cn_study_ask_within(s, 0, out, NULL);
}

cairn_status cn_study_ask_within(cairn_study *s, int64_t target, cairn_trial *out,
                                 cn_study_budget *budget)
{
    ask_state a = {.s = s, .text = CN_BUF_INIT, .names = CN_BUF_INIT};
    cn_trial_claimed got;
    memset(out, 0, sizeof *out);
    out->number = -1;
    if (budget)
        memset(budget, 0, sizeof *budget);
    a.params = cn_xcalloc(s->n_params ? s->n_params : 1, sizeof *a.params);
    int64_t now = cn_now_ms();
    cn_trial_claim in = {.study_id = s->row.study_id,
                         .study_name = s->row.name,
                         .experiment_id = s->row.experiment_id,
                         .heartbeat_interval_ms = s->row.heartbeat_interval_ms,
                         .stale_before_ms =
                             now - CAIRN_HEARTBEAT_MISSED_MAX * s->row.heartbeat_interval_ms,
                         .from_number = s->frontier,
                         .now_ms = now,
                         .max_retries = s->max_retries,
                         .user = s->user,
                         .on_trial = ask_on_trial,
                         .on_value = ask_on_value,
                         .propose = propose,
                         .user_data = &a,
                         .target = target};
    cairn_status rc = CN_STORE_OPS(s->ctx)->trial_claim(s->ctx, &in, &got);
    if (rc == CAIRN_OK && budget) {
        budget->full = got.full;
        budget->n_counted = got.n_counted;
        budget->n_running = got.n_running;
    }
    if (rc == CAIRN_OK && got.full) {
        advance_frontier(s);
    } else if (rc == CAIRN_OK) {
        cn_study_trial *t = slot(s, got.number);
        t->absent = false;
        t->state = CAIRN_TRIAL_RUNNING;
        t->value = NAN;
        t->has_value = false;
        if (!t->params)
            t->params = cn_xcalloc(s->n_params ? s->n_params : 1, sizeof *t->params);
        memcpy(t->params, a.params, s->n_params * sizeof *t->params);
        t->has_params = true;
        cn_strlcpy(t->run_id, got.run_id, sizeof t->run_id);
        t->retry_of = got.retry_of;
        t->start_ms = now;
        t->end_ms = 0;
        t->n_steps = 0;
        fill_trial(s, t, out);
    } else {
        /* The claim rolled back: what the visit read may be half-applied; read it again. */
        s->frontier = 0;
        cn_errctx(s->ctx, "study '%s'", s->row.name);
    }
    free(a.params);
    free(a.ext);
    cn_buf_release(&a.text);
    cn_buf_release(&a.names);
    return rc;
}

/* ---- tell, report, prune ---- */

cairn_status cn_study_tell(cairn_study *s, int64_t number, cairn_trial_state state, double value,
                           const char *reason, bool log_metric)
{
    return cn_study_tell_retry(s, number, state, value, reason, log_metric, 0, NULL);
}

cairn_status cn_study_tell_retry(cairn_study *s, int64_t number, cairn_trial_state state,
                                 double value, const char *reason, bool log_metric, int retry_max,
                                 int64_t *retry_number)
{
    if (retry_number)
        *retry_number = -1;
    if (state != CAIRN_TRIAL_COMPLETE && state != CAIRN_TRIAL_PRUNED && state != CAIRN_TRIAL_FAIL)
        return cn_fail(
            s->ctx, CAIRN_EINVAL, "trial %lld: a trial ends COMPLETE, PRUNED or FAIL, not %s",
            (long long)number, cairn_trial_state_str(state) ? cairn_trial_state_str(state) : "?");
    bool has_value = state == CAIRN_TRIAL_COMPLETE;
    if (has_value && isnan(value)) {
        state = CAIRN_TRIAL_FAIL;
        has_value = false;
        reason = "the objective is NaN";
    }
    int64_t now = cn_now_ms();
    cairn_status rc = CN_STORE_OPS(s->ctx)->trial_finish(
        s->ctx, s->row.study_id, number, state, has_value, value, reason, now,
        state == CAIRN_TRIAL_FAIL ? retry_max : 0, retry_number);
    if (rc != CAIRN_OK) {
        cn_errctx(s->ctx, "study '%s'", s->row.name);
        return rc;
    }
    cn_study_trial *t = slot(s, number);
    if (!t->absent) {
        t->state = state;
        t->value = has_value ? value : NAN;
        t->has_value = has_value;
        t->end_ms = now;
    }
    if (log_metric && has_value && t->run_id[0]) {
        int64_t step = t->n_steps ? t->steps[t->n_steps - 1] : 0;
        cairn_metric m = {s->row.objective, value, now, step};
        rc = cairn_runs_log_batch(s->ctx, t->run_id, &m, 1, NULL, 0, NULL, 0);
    }
    return rc;
}

cairn_status cairn_study_tell(cairn_study *s, int64_t number, cairn_trial_state state, double value)
{
    return cn_study_tell(s, number, state, value, NULL, true);
}

cairn_status cn_study_report(cairn_study *s, int64_t number, int64_t step, double value,
                             bool log_metric)
{
    cairn_status rc = CN_STORE_OPS(s->ctx)->trial_report(s->ctx, s->row.study_id, number, step,
                                                         value, cn_now_ms());
    if (rc == CAIRN_OK && number >= 0 && (size_t)number < s->n_trials) {
        cn_study_trial *t = &s->trials[number];
        on_value(s, number, step, value); /* the cache stays sorted when steps come in order */
        if (t->n_steps >= 2 && t->steps[t->n_steps - 2] >= step) {
            /* out of order or repeated: keep the cache exact by reading it again */
            t->n_steps = 0;
            if (s->frontier > number)
                s->frontier = number;
        }
        if (log_metric && t->run_id[0]) {
            cairn_metric m = {s->row.objective, value, 0, step};
            rc = cairn_runs_log_batch(s->ctx, t->run_id, &m, 1, NULL, 0, NULL, 0);
        }
    }
    return rc;
}

cairn_status cairn_study_report(cairn_study *s, int64_t number, int64_t step, double value)
{
    return cn_study_report(s, number, step, value, true);
}

cairn_status cairn_study_should_prune(cairn_study *s, int64_t number, bool *prune)
{
    *prune = false;
    cairn_status rc = cn_study_refresh(s);
    if (rc != CAIRN_OK)
        return rc;
    if (number < 0 || (size_t)number >= s->n_trials || s->trials[number].absent)
        return cn_fail(s->ctx, CAIRN_ENOTFOUND, "study '%s': trial %lld not found", s->row.name,
                       (long long)number);
    const cn_study_trial *t = &s->trials[number];
    if (t->state != CAIRN_TRIAL_RUNNING)
        return CAIRN_OK;
    cairn_history h;
    build_history(s, &h);
    cairn_trial_record rec = {.number = t->number,
                              .state = CAIRN_TRIAL_RUNNING,
                              .value = NAN,
                              .params = t->params,
                              .n_steps = t->n_steps,
                              .steps = t->steps,
                              .values = t->values};
    return cairn_pruner_should_prune(s->pruner, &h, &rec, prune);
}

cairn_status cairn_study_heartbeat(cairn_study *s, int64_t number)
{
    return CN_STORE_OPS(s->ctx)->trial_heartbeat(s->ctx, s->row.study_id, number, cn_now_ms());
}

cairn_status cairn_study_enqueue(cairn_study *s, const cairn_param *params, size_t n_params,
                                 int64_t *number_out)
{
    double *v = cn_xcalloc(s->n_params ? s->n_params : 1, sizeof *v);
    cn_buf text = CN_BUF_INIT;
    int64_t number = -1;
    cairn_status rc = CAIRN_OK;
    if (number_out)
        *number_out = -1;
    for (size_t i = 0; i < s->n_params; i++)
        v[i] = NAN;
    for (size_t k = 0; rc == CAIRN_OK && k < n_params; k++) {
        int64_t i = cairn_space_find(s->space, params[k].key);
        if (i < 0)
            rc = cn_fail(s->ctx, CAIRN_EINVAL, "enqueue: '%s' is not a parameter of study '%s'",
                         params[k].key, s->row.name);
        else
            rc = cairn_space_parse_value(s->ctx, s->space, (size_t)i, params[k].value, &v[i]);
    }
    if (rc == CAIRN_OK) {
        format_params(v, s->n_params, &text);
        rc = CN_STORE_OPS(s->ctx)->trial_enqueue(s->ctx, s->row.study_id, cn_buf_str(&text), -1,
                                                 &number);
    }
    if (rc == CAIRN_OK && number_out)
        *number_out = number;
    free(v);
    cn_buf_release(&text);
    return rc;
}

cairn_status cairn_study_trials(cairn_study *s, const cairn_trial **trials, size_t *n)
{
    *trials = NULL;
    *n = 0;
    cairn_status rc = cn_study_refresh(s);
    if (rc != CAIRN_OK)
        return rc;
    s->pub = cn_xrealloc(s->pub, (s->n_trials ? s->n_trials : 1) * sizeof *s->pub);
    size_t k = 0;
    for (size_t i = 0; i < s->n_trials; i++)
        if (!s->trials[i].absent)
            fill_trial(s, &s->trials[i], &s->pub[k++]);
    *trials = s->pub;
    *n = k;
    return CAIRN_OK;
}

cairn_status cairn_study_best(cairn_study *s, cairn_trial *out)
{
    memset(out, 0, sizeof *out);
    cairn_status rc = cn_study_refresh(s);
    if (rc != CAIRN_OK)
        return rc;
    const cn_study_trial *best = NULL;
    for (size_t i = 0; i < s->n_trials; i++) {
        const cn_study_trial *t = &s->trials[i];
        if (t->absent || t->state != CAIRN_TRIAL_COMPLETE || isnan(t->value))
            continue;
        if (!best || (s->row.maximize ? t->value > best->value : t->value < best->value))
            best = t;
    }
    if (!best)
        return cn_fail(s->ctx, CAIRN_ENOTFOUND, "study '%s' has no COMPLETE trial yet",
                       s->row.name);
    fill_trial(s, best, out);
    return CAIRN_OK;
}

/* ---- listing and deleting ---- */

typedef struct list_box {
    cairn_study_list pub;
    cn_study_row *rows;
    size_t n;
} list_box;

cairn_status cairn_studies_list(cairn_ctx *ctx, cairn_study_list **out)
{
    *out = NULL;
    cairn_status rc = need_studies(ctx);
    if (rc != CAIRN_OK)
        return rc;
    list_box *box = cn_xcalloc(1, sizeof *box);
    rc = CN_STORE_OPS(ctx)->studies_list(ctx, &box->rows, &box->n);
    if (rc != CAIRN_OK) {
        free(box);
        return rc;
    }
    box->pub.n = box->n;
    box->pub.items = cn_xcalloc(box->n ? box->n : 1, sizeof *box->pub.items);
    box->pub.internal_ = box;
    for (size_t i = 0; i < box->n; i++) {
        const cn_study_row *r = &box->rows[i];
        box->pub.items[i] = (cairn_study_info){.name = r->name,
                                               .experiment_id = r->experiment_id,
                                               .objective = r->objective,
                                               .maximize = r->maximize,
                                               .strategy = r->strategy,
                                               .sampler = r->sampler,
                                               .pruner = r->pruner,
                                               .space = r->space,
                                               .seed = (uint64_t)r->seed,
                                               .creation_ms = r->creation_ms,
                                               .n_trials = r->n_trials,
                                               .n_complete = r->n_complete,
                                               .n_pruned = r->n_pruned,
                                               .n_failed = r->n_fail,
                                               .n_running = r->n_running,
                                               .has_best = r->has_best,
                                               .best_value = r->best_value};
    }
    *out = &box->pub;
    return CAIRN_OK;
}

void cairn_study_list_free(cairn_study_list *list)
{
    if (!list)
        return;
    list_box *box = list->internal_;
    for (size_t i = 0; i < box->n; i++)
        cn_study_row_release(&box->rows[i]);
    free(box->rows);
    free(box->pub.items);
    free(box);
}

cairn_status cairn_study_delete(cairn_ctx *ctx, const char *name)
{
    cairn_status rc = need_studies(ctx);
    return rc == CAIRN_OK ? CN_STORE_OPS(ctx)->study_delete(ctx, name) : rc;
}
