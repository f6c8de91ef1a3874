/* SPDX-License-Identifier: MIT */
/* automl.c - `cairn automl`: a conditional search space over the learners (a categorical
 * `learner` and each learner's main params under `when:`), run as a study with the auto
 * sampler. Each trial is scored by K-fold cross-validation on the training rows only (the
 * validation and test rows are never fitted, predicted or scored during the search); the best
 * configuration is then refit by cairn train on the training rows and scored on the validation
 * rows with a bootstrap interval. The ranges are documented in docs/automl.md. */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cairn/eval.h"
#include "cairn/hpo.h"
#include "cairn/learn.h"
#include "cairn/train.h"
#include "automl/automl_internal.h"
#include "core/core.h"
#include "learn/learner.h"
#include "train/train_internal.h"
#include "base/arena.h"
#include "base/buf.h"
#include "base/str.h"
#include "base/time.h"
#include "base/xmalloc.h"
#include "base/banned.h"

/* One searched param: its learner, name and the space entry (a flow mapping, docs/hpo.md). */
typedef struct knob {
    const char *learner, *name, *spec;
} knob;

/* The ranges scikit-learn and XGBoost users search (docs/automl.md explains each). */
static const knob knobs[] = {
    {"ridge", "alpha", "{type: float, low: 1.0e-4, high: 1.0e+3, log: true}"},
    {"logistic", "C", "{type: float, low: 1.0e-3, high: 1.0e+3, log: true}"},
    {"mlp", "hidden", "{type: categorical, values: ['32', '64', '128', '64,32']}"},
    {"mlp", "activation", "{type: categorical, values: [relu, tanh]}"},
    {"mlp", "alpha", "{type: float, low: 1.0e-6, high: 1.0e-1, log: true}"},
    {"mlp", "learning_rate", "{type: float, low: 1.0e-4, high: 3.0e-2, log: true}"},
    {"xgboost", "max_depth", "{type: int, low: 2, high: 10}"},
    {"xgboost", "eta", "{type: float, low: 0.01, high: 0.3, log: true}"},
    {"xgboost", "num_round", "{type: int, low: 20, high: 300, log: true}"},
    {"xgboost", "subsample", "{type: float, low: 0.5, high: 1.0}"},
    {"xgboost", "colsample_bytree", "{type: float, low: 0.5, high: 1.0}"},
    {"xgboost", "min_child_weight", "{type: float, low: 0.5, high: 20.0, log: true}"},
    {"xgboost", "lambda", "{type: float, low: 1.0e-3, high: 10.0, log: true}"},
    /* one thread per fit: trials run side by side (-j), and on small data XGBoost's thread
     * pool costs more than it saves (10x on wine) */
    {"xgboost", "nthread", "{type: const, value: 1}"},
    /* the learners searched only when --learners names them */
    {"svc", "C", "{type: float, low: 1.0e-2, high: 1.0e+3, log: true}"},
    {"svc", "gamma", "{type: categorical, values: [scale, auto]}"},
    {"svr", "C", "{type: float, low: 1.0e-2, high: 1.0e+3, log: true}"},
    {"svr", "epsilon", "{type: float, low: 1.0e-3, high: 1.0, log: true}"},
    {"tree", "max_depth", "{type: int, low: 2, high: 20}"},
    {"tree", "min_samples_leaf", "{type: int, low: 1, high: 20, log: true}"},
    {"forest", "n_estimators", "{type: int, low: 50, high: 300, log: true}"},
    {"forest", "min_samples_leaf", "{type: int, low: 1, high: 10, log: true}"},
    {"forest", "max_features", "{type: categorical, values: [sqrt, log2, none]}"},
    {"forest", "n_jobs", "{type: const, value: 1}"},
    {"knn", "n_neighbors", "{type: int, low: 1, high: 50, log: true}"},
    {"knn", "weights", "{type: categorical, values: [uniform, distance]}"},
    {"gnb", "var_smoothing", "{type: float, low: 1.0e-11, high: 1.0e-5, log: true}"},
};

static const char *const class_learners[] = {"logistic", "mlp", "xgboost", NULL};
static const char *const reg_learners[] = {"linear", "ridge", "mlp", "xgboost", NULL};

bool cn_automl_metric_maximize(const char *metric)
{
    return !cairn_score_metric_lower_is_better(metric);
}

/* "a, b, c": every built-in learner that does the task. */
static void task_learners(bool classify, cn_buf *out)
{
    unsigned bit = classify ? CN_TASK_CLASSIFICATION : CN_TASK_REGRESSION;
    size_t k = 0;
    for (size_t i = 0; cairn_learner_name(i); i++) {
        const cn_learner_ops *ops = cn_learner_find(cairn_learner_name(i));
        if (ops->tasks & bit)
            cn_buf_printf(out, "%s%s", k++ ? ", " : "", ops->name);
    }
}

/* The learners to search: the task's, or the chosen ones (each checked). */
static cairn_status pick_learners(cairn_ctx *ctx, const cairn_automl_opts *o, bool classify,
                                  const char *task_reason, const char ***out, size_t *n)
{
    const char *const *task_list = classify ? class_learners : reg_learners;
    const char *task = classify ? "classification" : "regression";
    *out = NULL;
    *n = 0;
    if (!o->learners || o->n_learners == 0) {
        while (task_list[*n])
            (*n)++;
        *out = cn_xcalloc(*n, sizeof **out);
        memcpy(*out, task_list, *n * sizeof **out);
        return CAIRN_OK;
    }
    const char **l = cn_xcalloc(o->n_learners, sizeof *l);
    for (size_t i = 0; i < o->n_learners; i++) {
        const cairn_param_spec *specs;
        size_t ns;
        const char *name = o->learners[i];
        if (cairn_learner_params(name, &specs, &ns) != CAIRN_OK) {
            free(l);
            return cn_learner_unknown(ctx, "--learners: ", name);
        }
        const cn_learner_ops *ops = cn_learner_find(name);
        if (!(ops->tasks & (classify ? CN_TASK_CLASSIFICATION : CN_TASK_REGRESSION))) {
            free(l);
            cn_buf names = CN_BUF_INIT;
            task_learners(classify, &names);
            cairn_status rc = cn_fail(
                ctx, CAIRN_EINVAL, "--learners: learner '%s' does not do %s (%s); for %s use: %s",
                name, task, task_reason, task, cn_buf_str(&names));
            cn_buf_release(&names);
            return rc;
        }
        for (size_t j = 0; j < *n; j++)
            if (strcmp(l[j], name) == 0) {
                free(l);
                return cn_fail(ctx, CAIRN_EINVAL, "--learners: learner '%s' is named twice", name);
            }
        l[(*n)++] = name;
    }
    *out = l;
    return CAIRN_OK;
}

void cn_automl_space_text(const char *const *learners, size_t n, const char *objective,
                          bool maximize, cn_buf *out)
{
    cn_buf_printf(out, "objective: {name: %s, goal: %s}\nparameters:\n", objective,
                  maximize ? "maximize" : "minimize");
    cn_buf_puts(out, "  learner: {type: categorical, values: [");
    for (size_t i = 0; i < n; i++)
        cn_buf_printf(out, "%s%s", i ? ", " : "", learners[i]);
    cn_buf_puts(out, "]}\n");
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < sizeof knobs / sizeof knobs[0]; k++) {
            if (strcmp(knobs[k].learner, learners[i]) != 0)
                continue;
            size_t len = strlen(knobs[k].spec);
            cn_buf_printf(out, "  %s.%s: %.*s, when: {learner: %s}}\n", learners[i], knobs[k].name,
                          (int)(len - 1), knobs[k].spec, learners[i]);
        }
}

/* ---- the search ---- */

typedef struct search {
    cairn_ctx *ctx; /* the caller's: store URI, artifact root and log sink for the workers */
    const cairn_automl_opts *o;
    const cn_train_prep *prep;
    const char *study_name;
    size_t k;
    int32_t *fold;  /* prep->n_train fold numbers */
    char **cv_keys; /* "cv_<m>" per metric */
    char **mean_keys, **std_keys;
    pthread_mutex_t mu;
    int64_t target, started, done, failed;
    int64_t deadline_ms; /* 0: none */
    double t0_s;
    bool stop;
    cairn_status err;
    char *errmsg;
    bool maximize, has_best;
    double best;
    char best_learner[32];
} search;

/* Fold numbers of the training rows: stratified by class (as train's CV), else shuffled. */
static cairn_status make_folds(cairn_ctx *ctx, search *S)
{
    const cn_train_prep *p = S->prep;
    size_t n = p->n_train;
    if (S->k > n)
        return cn_fail(ctx, CAIRN_EINVAL, "--folds %zu: only %zu training rows", S->k, n);
    int32_t *y = cn_xcalloc(n ? n : 1, sizeof *y);
    size_t n_classes = 1;
    if (p->is_classification) {
        const cairn_column *c = &p->sub->cols[cairn_table_find(p->sub, p->label)];
        double *seen = cn_xcalloc(n ? n : 1, sizeof *seen);
        n_classes = 0;
        for (size_t i = 0; i < n; i++) {
            double v = c->type == CAIRN_COL_NUMERIC ? c->num[i] : (double)c->cat[i];
            size_t j = 0;
            while (j < n_classes && seen[j] != v)
                j++;
            if (j == n_classes)
                seen[n_classes++] = v;
            y[i] = (int32_t)j;
        }
        free(seen);
    }
    S->fold = cn_xcalloc(n ? n : 1, sizeof *S->fold);
    cairn_status rc = cairn_stratified_kfold(ctx, y, n, n_classes, S->k, S->prep->seed, S->fold);
    free(y);
    return rc;
}

/* The trial's learner and its params as cairn train -p takes them (the "<learner>." prefix
 * dropped); the strings live in names. */
static const char *trial_learner(const cairn_space *space, const double *params, cn_buf *names,
                                 const char ***keys, const char ***values, size_t *n)
{
    size_t np = cairn_space_n_params(space);
    int64_t li = cairn_space_find(space, "learner");
    cairn_param_info info;
    cairn_space_param(space, (size_t)li, &info);
    const char *learner = info.choices[(size_t)params[li]];
    size_t *offs = cn_xcalloc(np * 2 + 1, sizeof *offs);
    size_t prefix = strlen(learner);
    *n = 0;
    cn_buf_clear(names);
    for (size_t i = 0; i < np; i++) {
        cairn_space_param(space, i, &info);
        if ((int64_t)i == li || isnan(params[i]) || strncmp(info.name, learner, prefix) != 0 ||
            info.name[prefix] != '.')
            continue;
        char value[256];
        cairn_space_format_value(space, i, params[i], value, sizeof value);
        offs[*n * 2] = names->len;
        cn_buf_append(names, info.name + prefix + 1, strlen(info.name + prefix + 1) + 1);
        offs[*n * 2 + 1] = names->len;
        cn_buf_append(names, value, strlen(value) + 1);
        (*n)++;
    }
    *keys = cn_xcalloc(*n + 1, sizeof **keys);
    *values = cn_xcalloc(*n + 1, sizeof **values);
    for (size_t i = 0; i < *n; i++) {
        (*keys)[i] = names->data + offs[i * 2];
        (*values)[i] = names->data + offs[i * 2 + 1];
    }
    free(offs);
    return learner;
}

/* K-fold CV of one configuration on the training rows [0, n_train) of prep->sub. vals:
 * n_metrics x k (NaN where a metric is undefined on a fold). */
static cairn_status cross_validate(cairn_ctx *ctx, const search *S, const char *learner,
                                   const char *const *keys, const char *const *values, size_t np,
                                   double *vals)
{
    const cn_train_prep *p = S->prep;
    size_t n = p->n_train;
    size_t *tr = cn_xmalloc((n ? n : 1) * sizeof *tr), *te = cn_xmalloc((n ? n : 1) * sizeof *te);
    cairn_status rc = CAIRN_OK;
    for (size_t f = 0; f < S->k && rc == CAIRN_OK; f++) {
        size_t ntr = 0, nte = 0;
        for (size_t i = 0; i < n; i++) {
            if ((size_t)S->fold[i] == f)
                te[nte++] = i;
            else
                tr[ntr++] = i;
        }
        cairn_fit_opts fo = CAIRN_FIT_OPTS_INIT;
        fo.learner = learner;
        fo.param_keys = keys;
        fo.param_values = values;
        fo.n_params = np;
        fo.seed = p->seed;
        fo.label = p->label;
        fo.features = p->features;
        fo.n_features = p->n_features;
        fo.train_rows = tr;
        fo.n_train = ntr;
        fo.class_weight = p->class_weight;
        fo.oversample = p->oversample;
        fo.task = p->is_classification ? "classification" : "regression";
        cairn_model *m = NULL;
        cn_scores s;
        rc = cairn_model_fit(ctx, p->sub, &fo, &m);
        if (rc == CAIRN_OK)
            rc = cn_scores_predict(ctx, m, p->sub, te, nte, &s);
        if (rc == CAIRN_OK) {
            for (size_t j = 0; j < p->n_metrics; j++) {
                double v = NAN;
                if (cairn_score_metric(ctx, &s.pred, p->metrics[j], &v) != CAIRN_OK)
                    v = NAN;
                vals[j * S->k + f] = v;
            }
            cn_scores_release(&s);
            if (!isfinite(vals[f]))
                rc = cn_fail(ctx, CAIRN_EINVAL, "%s is undefined on the held-out rows",
                             p->metrics[0]);
        }
        if (rc != CAIRN_OK)
            cn_errctx(ctx, "cv fold %zu", f + 1);
        cairn_model_free(m);
    }
    free(tr);
    free(te);
    return rc;
}

static void mean_sd(const double *v, size_t k, double *mean, double *sd)
{
    double sum = 0, sq = 0;
    for (size_t f = 0; f < k; f++)
        sum += v[f];
    *mean = sum / (double)k;
    for (size_t f = 0; f < k; f++)
        sq += (v[f] - *mean) * (v[f] - *mean);
    *sd = k > 1 ? sqrt(sq / (double)(k - 1)) : NAN;
}

/* Scores one trial and logs its folds, means and the guardrail tags on its run. */
static cairn_status evaluate(cairn_ctx *ctx, search *S, const cairn_space *space,
                             const cairn_trial *t, const char **learner_out, double *mean_out)
{
    const cn_train_prep *p = S->prep;
    cn_buf names = CN_BUF_INIT;
    const char **keys = NULL, **values = NULL;
    size_t np = 0;
    const char *learner = trial_learner(space, t->params, &names, &keys, &values, &np);
    *learner_out = learner;
    size_t k = S->k, nm = p->n_metrics;
    double *vals = cn_xcalloc(nm * k, sizeof *vals);
    cairn_status rc = cross_validate(ctx, S, learner, keys, values, np, vals);
    cairn_metric *pts = cn_xcalloc(nm * (k + 2), sizeof *pts);
    size_t n_pts = 0;
    *mean_out = NAN;
    for (size_t j = 0; j < nm && rc == CAIRN_OK; j++) {
        double mean, sd;
        mean_sd(vals + j * k, k, &mean, &sd);
        if (j == 0)
            *mean_out = mean; /* the objective: the study logs it at tell */
        for (size_t f = 0; f < k; f++)
            if (isfinite(vals[j * k + f]))
                pts[n_pts++] = (cairn_metric){S->cv_keys[j], vals[j * k + f], 0, (int64_t)f};
        if (j > 0 && isfinite(mean))
            pts[n_pts++] = (cairn_metric){S->mean_keys[j], mean, 0, 0};
        if (isfinite(sd))
            pts[n_pts++] = (cairn_metric){S->std_keys[j], sd, 0, 0};
    }
    char kbuf[32], nbuf[32];
    snprintf(kbuf, sizeof kbuf, "%zu", k);
    snprintf(nbuf, sizeof nbuf, "%zu", p->n_train);
    /* Guardrail: what the search saw. The CV rows are the training split (its digest); the
     * validation and test rows are not in them. */
    cairn_tag tags[] = {
        {"cairn.automl", S->study_name},
        {"cairn.automl.role", "trial"},
        {"cairn.automl.learner", learner},
        {"cairn.automl.cv_folds", kbuf},
        {"cairn.automl.search_rows", "train"},
        {"cairn.automl.n_search_rows", nbuf},
        {"cairn.split.train.sha256", p->train_sha256},
        {"cairn.split.val.sha256", p->val_sha256},
        {"cairn.split.test.sha256", p->test_sha256},
        {"cairn.status_reason", rc == CAIRN_OK ? NULL : cairn_errmsg(ctx)},
    };
    char *reason = rc == CAIRN_OK ? NULL : cn_xstrdup(cairn_errmsg(ctx));
    tags[9].value = reason;
    cairn_status lrc = cairn_runs_log_batch(ctx, t->run_id, pts, n_pts, NULL, 0, tags,
                                            sizeof tags / sizeof tags[0] - (reason ? 0 : 1));
    if (rc == CAIRN_OK)
        rc = lrc;
    else if (reason)
        cn_fail(ctx, rc, "%s", reason);
    free(reason);
    free(pts);
    free(vals);
    free(keys);
    free(values);
    cn_buf_release(&names);
    return rc;
}

static bool better(const search *S, double a, double b)
{
    return S->maximize ? a > b : a < b;
}

static void worker_fail(search *S, cairn_ctx *ctx, cairn_status rc)
{
    pthread_mutex_lock(&S->mu);
    if (S->err == CAIRN_OK) {
        S->err = rc;
        S->errmsg = cn_xstrdup(cairn_errmsg(ctx));
    }
    S->stop = true;
    pthread_mutex_unlock(&S->mu);
}

/* Asks, evaluates and tells until the target is met, the time is up or a worker failed. */
static void run_trials(search *S, cairn_ctx *ctx, cairn_study *study)
{
    const cairn_space *space = cairn_study_space(study);
    for (;;) {
        pthread_mutex_lock(&S->mu);
        bool go = !S->stop && S->started < S->target &&
                  !(S->deadline_ms && cn_now_ms() >= S->deadline_ms);
        if (go)
            S->started++;
        pthread_mutex_unlock(&S->mu);
        if (!go)
            return;
        cairn_trial t;
        cairn_status rc = cairn_study_ask(study, &t);
        if (rc != CAIRN_OK) {
            worker_fail(S, ctx, rc);
            return;
        }
        const char *learner = NULL;
        double mean = NAN;
        rc = evaluate(ctx, S, space, &t, &learner, &mean);
        bool ok = rc == CAIRN_OK && isfinite(mean);
        if (!ok)
            cn_log(ctx, CAIRN_LOG_INFO, "automl", "trial %lld (%s) failed: %s", (long long)t.number,
                   learner, cairn_errmsg(ctx));
        rc = cairn_study_tell(study, t.number, ok ? CAIRN_TRIAL_COMPLETE : CAIRN_TRIAL_FAIL,
                              ok ? mean : 0);
        if (rc != CAIRN_OK) {
            worker_fail(S, ctx, rc);
            return;
        }
        pthread_mutex_lock(&S->mu);
        S->done++;
        if (!ok)
            S->failed++;
        if (ok && (!S->has_best || better(S, mean, S->best))) {
            S->has_best = true;
            S->best = mean;
            cn_strlcpy(S->best_learner, learner, sizeof S->best_learner);
        }
        if (S->o->progress) {
            cairn_automl_status st = {
                .n_done = S->done,
                .n_target = S->target,
                .n_failed = S->failed,
                .number = t.number,
                .learner = learner,
                .value = ok ? mean : NAN,
                .has_best = S->has_best,
                .best_value = S->best,
                .best_learner = S->best_learner,
                .elapsed_s = (double)cn_mono_ns() / 1e9 - S->t0_s,
            };
            S->o->progress(S->o->user, &st);
        }
        pthread_mutex_unlock(&S->mu);
    }
}

typedef struct worker {
    search *S;
    pthread_t thread;
    bool started;
} worker;

static void *worker_main(void *arg)
{
    worker *w = arg;
    search *S = w->S;
    cairn_open_opts oo = CAIRN_OPEN_OPTS_INIT;
    oo.artifact_root = cairn_artifact_root(S->ctx);
    cairn_ctx *ctx = NULL;
    cairn_study *study = NULL;
    cairn_study_opts so = CAIRN_STUDY_OPTS_INIT;
    so.must_exist = true;
    cairn_status rc = cairn_open(cairn_store_uri(S->ctx), &oo, &ctx);
    if (rc == CAIRN_OK) {
        cairn_set_log(ctx, S->ctx->log_fn, S->ctx->log_user, S->ctx->log_max);
        rc = cairn_study_open(ctx, S->study_name, &so, &study);
    }
    if (rc == CAIRN_OK)
        run_trials(S, ctx, study);
    else
        worker_fail(S, ctx, rc);
    cairn_study_free(study);
    cairn_close(ctx);
    return NULL;
}

/* The default study name: "automl-<config name>", or the first free of -2, -3, ... */
static char *free_study_name(cairn_ctx *ctx, const char *base)
{
    cairn_study_list *list = NULL;
    char *name = cn_asprintf("automl-%s", base);
    if (cairn_studies_list(ctx, &list) != CAIRN_OK)
        return name;
    for (int i = 2;; i++) {
        bool taken = false;
        for (size_t j = 0; j < list->n && !taken; j++)
            taken = strcmp(list->items[j].name, name) == 0;
        if (!taken)
            break;
        free(name);
        name = cn_asprintf("automl-%s-%d", base, i);
    }
    cairn_study_list_free(list);
    return name;
}

static char *config_stem(const char *path)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    const char *dot = strrchr(base, '.');
    return dot && dot != base ? cn_xstrndup(base, (size_t)(dot - base)) : cn_xstrdup(base);
}

/* ---- the result ---- */

typedef struct automl_impl {
    cairn_automl_result pub;
    cn_arena *arena;
} automl_impl;

void cairn_automl_result_free(cairn_automl_result *r)
{
    if (!r)
        return;
    automl_impl *impl = (automl_impl *)r;
    cairn_train_result_free(r->final);
    cn_arena_free(impl->arena);
    free(impl);
}

static int cmp_trials_max(const void *a, const void *b)
{
    const cairn_trial *x = *(const cairn_trial *const *)a, *y = *(const cairn_trial *const *)b;
    if (x->value != y->value)
        return x->value > y->value ? -1 : 1;
    return x->number < y->number ? -1 : 1;
}

static int cmp_trials_min(const void *a, const void *b)
{
    const cairn_trial *x = *(const cairn_trial *const *)a, *y = *(const cairn_trial *const *)b;
    if (x->value != y->value)
        return x->value < y->value ? -1 : 1;
    return x->number < y->number ? -1 : 1;
}

/* The top COMPLETE trials, best first, with their CV standard deviation from their runs. */
static cairn_status leaderboard(cairn_ctx *ctx, cairn_study *study, const search *S,
                                automl_impl *impl)
{
    cairn_automl_result *r = &impl->pub;
    const cairn_trial *trials;
    size_t n;
    cairn_status rc = cairn_study_trials(study, &trials, &n);
    if (rc != CAIRN_OK)
        return rc;
    const cairn_trial **done = cn_xcalloc(n ? n : 1, sizeof *done);
    size_t nd = 0;
    r->n_trials = (int64_t)n;
    for (size_t i = 0; i < n; i++) {
        if (trials[i].state == CAIRN_TRIAL_COMPLETE)
            done[nd++] = &trials[i];
        else if (trials[i].state == CAIRN_TRIAL_FAIL || trials[i].state == CAIRN_TRIAL_STALE)
            r->n_failed++;
    }
    r->n_complete = (int64_t)nd;
    qsort(done, nd, sizeof *done, S->maximize ? cmp_trials_max : cmp_trials_min);
    size_t top = nd < 10 ? nd : 10;
    r->leaders = cn_arena_alloc(impl->arena, (top ? top : 1) * sizeof *r->leaders);
    const cairn_space *space = cairn_study_space(study);
    cn_buf names = CN_BUF_INIT;
    for (size_t i = 0; i < top; i++) {
        cairn_automl_entry *e = &r->leaders[i];
        const char **keys = NULL, **values = NULL;
        size_t np = 0;
        const char *learner = trial_learner(space, done[i]->params, &names, &keys, &values, &np);
        e->number = done[i]->number;
        e->learner = cn_arena_strdup(impl->arena, learner);
        e->n_params = np;
        const char **ak = cn_arena_alloc(impl->arena, (np + 1) * sizeof *ak);
        const char **av = cn_arena_alloc(impl->arena, (np + 1) * sizeof *av);
        for (size_t j = 0; j < np; j++) {
            ak[j] = cn_arena_strdup(impl->arena, keys[j]);
            av[j] = cn_arena_strdup(impl->arena, values[j]);
        }
        e->param_keys = ak;
        e->param_values = av;
        e->cv_mean = done[i]->value;
        e->cv_std = NAN;
        e->run_id = cn_arena_strdup(impl->arena, done[i]->run_id);
        cairn_run_record *rec = NULL;
        if (cairn_run_get(ctx, done[i]->run_id, &rec) == CAIRN_OK) {
            for (size_t m = 0; m < rec->n_metrics; m++)
                if (strcmp(rec->metrics[m].key, S->std_keys[0]) == 0)
                    e->cv_std = rec->metrics[m].value;
        }
        cairn_run_record_free(rec);
        free(keys);
        free(values);
        r->n_leaders++;
    }
    cn_buf_release(&names);
    free(done);
    return CAIRN_OK;
}

/* Refits the best configuration with cairn train (train rows; scored on validation). */
static cairn_status refit(cairn_ctx *ctx, const cairn_automl_opts *o, const cn_train_prep *p,
                          const char *experiment, automl_impl *impl)
{
    cairn_automl_result *r = &impl->pub;
    const cairn_automl_entry *best = &r->leaders[0];
    size_t n = best->n_params + 3, np = 0;
    const char **keys = cn_xcalloc(n, sizeof *keys), **values = cn_xcalloc(n, sizeof *values);
    char seed[32];
    keys[np] = "learner";
    values[np++] = best->learner;
    if (o->has_seed) {
        snprintf(seed, sizeof seed, "%llu", (unsigned long long)o->seed);
        keys[np] = "seed";
        values[np++] = seed;
    }
    if (p->bootstrap == 0) { /* the score comes with an interval */
        keys[np] = "bootstrap";
        values[np++] = "1000";
    }
    for (size_t i = 0; i < best->n_params; i++) {
        keys[np] = best->param_keys[i];
        values[np++] = best->param_values[i];
    }
    cairn_train_opts to = CAIRN_TRAIN_OPTS_INIT;
    to.config = o->config;
    to.param_keys = keys;
    to.param_values = values;
    to.n_params = np;
    to.experiment = experiment;
    char *name = cn_asprintf("%s-final", r->study);
    to.name = name;
    cairn_status rc = cn_train_with(ctx, &to, CN_TRAIN_ANY_LEARNER, &r->final);
    free(keys);
    free(values);
    free(name);
    if (rc != CAIRN_OK) {
        cn_errctx(ctx, "refitting the best configuration (trial %lld)", (long long)best->number);
        return rc;
    }
    r->score = r->ci_low = r->ci_high = NAN;
    for (size_t i = 0; i < r->final->n_metrics; i++)
        if (strcmp(r->final->metrics[i].name, r->metric) == 0) {
            r->score = r->final->metrics[i].value;
            r->ci_low = r->final->metrics[i].ci_low;
            r->ci_high = r->final->metrics[i].ci_high;
        }
    char num[32], mean[64];
    snprintf(num, sizeof num, "%lld", (long long)best->number);
    cn_format_double(best->cv_mean, mean, sizeof mean);
    cairn_tag tags[] = {{"cairn.automl", r->study},
                        {"cairn.automl.role", "final"},
                        {"cairn.automl.best_trial", num},
                        {"cairn.automl.best_trial_run", best->run_id},
                        {"cairn.automl.cv_mean", mean}};
    return cairn_runs_log_batch(ctx, r->final->run_id, NULL, 0, NULL, 0, tags,
                                sizeof tags / sizeof tags[0]);
}

cairn_status cairn_automl(cairn_ctx *ctx, const cairn_automl_opts *o, cairn_automl_result **out)
{
    *out = NULL;
    if (!o || !o->config)
        return cn_fail(ctx, CAIRN_EINVAL, "cairn automl: a config file is required");
    if (o->n_folds == 1 || o->n_folds < 0 || o->n_folds > 100)
        return cn_fail(ctx, CAIRN_EINVAL, "--folds %d: cross-validation needs 2 to 100 folds",
                       o->n_folds);
    if (o->n_trials < 0)
        return cn_fail(ctx, CAIRN_EINVAL, "--trials %lld: must be positive",
                       (long long)o->n_trials);
    cn_train_prep *prep = NULL;
    cairn_study *study = NULL;
    const char **learners = NULL;
    size_t n_learners = 0;
    char *study_name = NULL, *stem = NULL;
    cn_buf space = CN_BUF_INIT;
    search S;
    memset(&S, 0, sizeof S);
    pthread_mutex_init(&S.mu, NULL);
    automl_impl *impl = cn_xcalloc(1, sizeof *impl);
    impl->arena = cn_arena_new();
    cairn_automl_result *r = &impl->pub;
    worker *workers = NULL;
    int n_jobs = o->n_jobs > 0 ? o->n_jobs : 1;

    cairn_train_opts to = CAIRN_TRAIN_OPTS_INIT;
    char seed[32];
    const char *sk[] = {"seed"}, *sv[] = {seed};
    to.config = o->config;
    if (o->has_seed) {
        snprintf(seed, sizeof seed, "%llu", (unsigned long long)o->seed);
        to.param_keys = sk;
        to.param_values = sv;
        to.n_params = 1;
    }
    cairn_status rc = cn_train_prepare(ctx, &to, CN_TRAIN_ANY_LEARNER, &prep);
    if (rc != CAIRN_OK)
        goto done;
    if (prep->n_val == 0) {
        rc = cn_fail(ctx, CAIRN_EINVAL,
                     "config '%s' has no validation rows: automl searches on the training "
                     "rows and reports the refit model's score on the validation rows; set "
                     "split.val (e.g. 0.2)",
                     o->config);
        goto done;
    }
    rc = pick_learners(ctx, o, prep->is_classification, prep->task_reason, &learners, &n_learners);
    if (rc != CAIRN_OK)
        goto done;
    S.ctx = ctx;
    S.o = o;
    S.prep = prep;
    S.k = o->n_folds ? (size_t)o->n_folds : 5;
    S.maximize = cn_automl_metric_maximize(prep->metrics[0]);
    S.t0_s = (double)cn_mono_ns() / 1e9;
    S.deadline_ms = o->timeout_ms > 0 ? cn_now_ms() + o->timeout_ms : 0;
    rc = make_folds(ctx, &S);
    if (rc != CAIRN_OK)
        goto done;
    S.cv_keys = cn_xcalloc(prep->n_metrics, sizeof *S.cv_keys);
    S.mean_keys = cn_xcalloc(prep->n_metrics, sizeof *S.mean_keys);
    S.std_keys = cn_xcalloc(prep->n_metrics, sizeof *S.std_keys);
    for (size_t j = 0; j < prep->n_metrics; j++) {
        S.cv_keys[j] = cn_asprintf("cv_%s", prep->metrics[j]);
        S.mean_keys[j] = cn_asprintf("cv_%s_mean", prep->metrics[j]);
        S.std_keys[j] = cn_asprintf("cv_%s_std", prep->metrics[j]);
    }
    stem = prep->name ? cn_xstrdup(prep->name) : config_stem(o->config);
    study_name = o->study ? cn_xstrdup(o->study) : free_study_name(ctx, stem);
    S.study_name = study_name;
    cn_automl_space_text(learners, n_learners, S.mean_keys[0], S.maximize, &space);
    int64_t n_trials = o->n_trials ? o->n_trials : 30;
    char *sampler = cn_asprintf("auto:trials=%lld", (long long)n_trials);
    cairn_study_opts so = CAIRN_STUDY_OPTS_INIT;
    so.space_text = cn_buf_str(&space);
    so.space_label = "automl space";
    so.direction = S.maximize ? CAIRN_DIRECTION_MAXIMIZE : CAIRN_DIRECTION_MINIMIZE;
    so.sampler = sampler;
    so.has_seed = true;
    so.seed = prep->seed;
    so.experiment = o->experiment ? o->experiment : study_name;
    rc = cairn_study_open(ctx, study_name, &so, &study);
    free(sampler);
    if (rc != CAIRN_OK) {
        if (o->study && rc == CAIRN_EINVAL)
            cn_errctx(ctx,
                      "--study '%s' exists with another space (other --learners or "
                      "metric?); name a new study",
                      o->study);
        goto done;
    }
    /* A resumed study runs only what is missing of its target. */
    {
        const cairn_trial *trials;
        size_t n;
        rc = cairn_study_trials(study, &trials, &n);
        if (rc != CAIRN_OK)
            goto done;
        int64_t finished = 0;
        for (size_t i = 0; i < n; i++)
            finished +=
                trials[i].state != CAIRN_TRIAL_RUNNING && trials[i].state != CAIRN_TRIAL_WAITING;
        S.target = n_trials > finished ? n_trials - finished : 0;
    }
    r->study = cn_arena_strdup(impl->arena, study_name);
    r->sampler = cn_arena_strdup(impl->arena, cairn_study_sampler_spec(study));
    r->task = prep->is_classification ? "classification" : "regression";
    r->metric = cn_arena_strdup(impl->arena, prep->metrics[0]);
    r->objective = cn_arena_strdup(impl->arena, S.mean_keys[0]);
    r->maximize = S.maximize;
    r->n_folds = S.k;
    r->n_search_rows = prep->n_train;

    workers = cn_xcalloc((size_t)n_jobs, sizeof *workers);
    for (int j = 1; j < n_jobs; j++) {
        workers[j].S = &S;
        workers[j].started =
            pthread_create(&workers[j].thread, NULL, worker_main, &workers[j]) == 0;
    }
    run_trials(&S, ctx, study);
    for (int j = 1; j < n_jobs; j++)
        if (workers[j].started)
            pthread_join(workers[j].thread, NULL);
    if (S.err != CAIRN_OK) {
        rc = cn_fail(ctx, S.err, "%s", S.errmsg);
        goto done;
    }
    rc = leaderboard(ctx, study, &S, impl);
    if (rc != CAIRN_OK)
        goto done;
    if (r->n_leaders == 0) {
        rc = cn_fail(ctx, CAIRN_EINVAL,
                     "study '%s': no trial completed (%lld failed); `cairn study trials %s` and "
                     "`cairn runs show` on a trial give the reasons",
                     study_name, (long long)r->n_failed, study_name);
        goto done;
    }
    rc = refit(ctx, o, prep, so.experiment, impl);
done:
    if (rc == CAIRN_OK) {
        *out = r;
        impl = NULL;
    }
    cairn_automl_result_free(impl ? &impl->pub : NULL);
    free(workers);
    cairn_study_free(study);
    for (size_t j = 0; S.cv_keys && j < prep->n_metrics; j++) {
        free(S.cv_keys[j]);
        free(S.mean_keys[j]);
        free(S.std_keys[j]);
    }
    free(S.cv_keys);
    free(S.mean_keys);
    free(S.std_keys);
    free(S.fold);
    free(S.errmsg);
    pthread_mutex_destroy(&S.mu);
    cn_buf_release(&space);
    free(study_name);
    free(stem);
    free(learners);
    cn_train_prep_free(prep);
    return rc;
}
