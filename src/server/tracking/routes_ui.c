/* SPDX-License-Identifier: MIT */
/* routes_ui.c - the read-only cairn/ routes the web UI draws from (docs/rest.md, "cairn UI
 * routes"): downsampled metric series, experiment summaries and studies. Each one is a single
 * call of the public API; permissions are checked by auth.c (READ on the experiment of each run
 * or study; lists leave out what the user may not read). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cairn/hpo.h"
#include "cairn/train.h"
#include "tracking/trk.h"
#include "base/buf.h"
#include "base/xmalloc.h"
#include "base/sha256.h"
#include "base/banned.h"

/* ---- GET cairn/metrics/downsample ---- */

static void write_series_fields(cn_jsonw *w, const cairn_metric_series *s)
{
    cn_jsonw_kstring(w, "run_id", s->run_id);
    cn_jsonw_kstring(w, "metric_key", s->key);
    cn_jsonw_kint(w, "total", (int64_t)s->total);
    cn_jsonw_kbool(w, "downsampled", s->is_downsampled);
    cn_jsonw_key(w, "points");
    cn_jsonw_array_begin(w);
    for (size_t i = 0; i < s->n; i++) {
        const cairn_metric *m = &s->points[i];
        cn_jsonw_object_begin(w);
        cn_jsonw_kint(w, "step", m->step);
        cn_jsonw_kint(w, "timestamp", m->timestamp_ms);
        cn_jsonw_kdouble(w, "value", m->value); /* NaN, Infinity: MLflow's strings */
        cn_jsonw_object_end(w);
    }
    cn_jsonw_array_end(w);
}

static void ui_downsample(trk_call *c)
{
    const char **runs = NULL, *key = NULL, *x = NULL;
    size_t n_runs = 0;
    int64_t max_points = CAIRN_DOWNSAMPLE_DEFAULT;
    bool has_max = false;
    cairn_metric_series **series = NULL;
    if (!trk_str_list(c, "run_id", &runs, &n_runs) || !trk_str(c, "metric_key", true, &key) ||
        !trk_int64(c, "max_points", false, &max_points, &has_max) || !trk_str(c, "x", false, &x))
        goto done;
    if (n_runs == 0) {
        trk_fail(c, 400, "INVALID_PARAMETER_VALUE",
                 "missing value for required parameter 'run_id' (repeat it to overlay runs)");
        goto done;
    }
    if (n_runs > 100) {
        trk_fail(c, 400, "INVALID_PARAMETER_VALUE",
                 "%zu run_id values; at most 100 series are drawn at once", n_runs);
        goto done;
    }
    if (max_points < 4 || max_points > CAIRN_DOWNSAMPLE_MAX) {
        trk_fail(c, 400, "INVALID_PARAMETER_VALUE",
                 "max_points %lld is out of range; give 4 to %d (default %d)",
                 (long long)max_points, CAIRN_DOWNSAMPLE_MAX, CAIRN_DOWNSAMPLE_DEFAULT);
        goto done;
    }
    cairn_downsample_opts o = CAIRN_DOWNSAMPLE_OPTS_INIT;
    o.max_points = (size_t)max_points;
    if (!x || strcmp(x, "step") == 0) {
        o.x = CAIRN_SERIES_X_STEP;
    } else if (strcmp(x, "time") == 0) {
        o.x = CAIRN_SERIES_X_TIME;
    } else {
        trk_fail(c, 400, "INVALID_PARAMETER_VALUE", "x '%.40s' is not an axis; use step or time",
                 x);
        goto done;
    }
    series = cn_xcalloc(n_runs, sizeof *series);
    for (size_t i = 0; i < n_runs; i++) {
        cairn_status st = cairn_run_metric_downsample(c->ctx, runs[i], key, &o, &series[i]);
        if (st != CAIRN_OK) {
            trk_fail_status(c, st);
            goto done;
        }
    }
    if (n_runs == 1) { /* one run: the series' fields at the top level */
        write_series_fields(&c->w, series[0]);
    } else {
        cn_jsonw_key(&c->w, "series");
        cn_jsonw_array_begin(&c->w);
        for (size_t i = 0; i < n_runs; i++) {
            cn_jsonw_object_begin(&c->w);
            write_series_fields(&c->w, series[i]);
            cn_jsonw_object_end(&c->w);
        }
        cn_jsonw_array_end(&c->w);
    }
done:
    for (size_t i = 0; series && i < n_runs; i++)
        cairn_metric_series_free(series[i]);
    free(series);
    free(runs);
}

/* ---- GET cairn/experiments/summary ---- */

static bool view_param(trk_call *c, cairn_view *out)
{
    const char *v = NULL;
    if (!trk_str(c, "view_type", false, &v))
        return false;
    if (!v || strcmp(v, "ACTIVE_ONLY") == 0)
        *out = CAIRN_VIEW_ACTIVE_ONLY;
    else if (strcmp(v, "DELETED_ONLY") == 0)
        *out = CAIRN_VIEW_DELETED_ONLY;
    else if (strcmp(v, "ALL") == 0)
        *out = CAIRN_VIEW_ALL;
    else
        return trk_fail(c, 400, "INVALID_PARAMETER_VALUE",
                        "view_type '%.40s' is not one of ACTIVE_ONLY, DELETED_ONLY, ALL", v);
    return true;
}

static void ui_experiments_summary(trk_call *c)
{
    cairn_view view = CAIRN_VIEW_ACTIVE_ONLY;
    cairn_experiment_summary_list *list = NULL;
    if (!view_param(c, &view))
        return;
    cairn_status st = cairn_experiments_summary(c->ctx, view, &list);
    if (st != CAIRN_OK) {
        trk_fail_status(c, st);
        return;
    }
    cn_jsonw_key(&c->w, "experiments");
    cn_jsonw_array_begin(&c->w);
    for (size_t i = 0; i < list->n; i++) {
        const cairn_experiment_summary *e = &list->items[i];
        if (!trk_auth_can_read(c, CAIRN_AUTH_EXPERIMENT, e->experiment_id))
            continue;
        cn_jsonw_object_begin(&c->w);
        cn_jsonw_kstring(&c->w, "experiment_id", e->experiment_id);
        cn_jsonw_kstring(&c->w, "name", e->name);
        cn_jsonw_kstring(&c->w, "lifecycle_stage", e->is_deleted ? "deleted" : "active");
        cn_jsonw_kint(&c->w, "creation_time", e->creation_time_ms);
        cn_jsonw_kint(&c->w, "last_update_time", e->last_update_time_ms);
        cn_jsonw_kint(&c->w, "active_runs", e->n_active_runs);
        cn_jsonw_kint(&c->w, "deleted_runs", e->n_deleted_runs);
        cn_jsonw_kint(&c->w, "last_activity", e->last_activity_ms);
        cn_jsonw_object_end(&c->w);
    }
    cn_jsonw_array_end(&c->w);
    cairn_experiment_summary_list_free(list);
}

/* ---- studies ---- */

static void write_counts(cn_jsonw *w, const cairn_study_info *s)
{
    cn_jsonw_key(w, "counts");
    cn_jsonw_object_begin(w);
    cn_jsonw_kint(w, "total", s->n_trials);
    cn_jsonw_kint(w, "complete", s->n_complete);
    cn_jsonw_kint(w, "pruned", s->n_pruned);
    cn_jsonw_kint(w, "fail", s->n_failed);
    cn_jsonw_kint(w, "running", s->n_running);
    cn_jsonw_kint(w, "waiting",
                  s->n_trials - s->n_complete - s->n_pruned - s->n_failed - s->n_running);
    cn_jsonw_object_end(w);
}

static void write_study_info(cn_jsonw *w, const cairn_study_info *s)
{
    cn_jsonw_kstring(w, "name", s->name);
    cn_jsonw_kstring(w, "experiment_id", s->experiment_id);
    cn_jsonw_kstring(w, "objective", s->objective);
    cn_jsonw_kstring(w, "direction", s->maximize ? "MAXIMIZE" : "MINIMIZE");
    cn_jsonw_kstring(w, "strategy", s->strategy);
    cn_jsonw_kstring(w, "sampler", s->sampler);
    cn_jsonw_kstring(w, "pruner", s->pruner);
    cn_jsonw_kint(w, "creation_time", s->creation_ms);
    write_counts(w, s);
    cn_jsonw_key(w, "best_value");
    if (s->has_best)
        cn_jsonw_double(w, s->best_value);
    else
        cn_jsonw_null(w);
}

static void ui_studies_list(trk_call *c)
{
    cairn_study_list *list = NULL;
    cairn_status st = cairn_studies_list(c->ctx, &list);
    if (st != CAIRN_OK) {
        trk_fail_status(c, st);
        return;
    }
    cn_jsonw_key(&c->w, "studies");
    cn_jsonw_array_begin(&c->w);
    for (size_t i = 0; i < list->n; i++) {
        if (!trk_auth_can_read(c, CAIRN_AUTH_EXPERIMENT, list->items[i].experiment_id))
            continue;
        cn_jsonw_object_begin(&c->w);
        write_study_info(&c->w, &list->items[i]);
        cn_jsonw_object_end(&c->w);
    }
    cn_jsonw_array_end(&c->w);
    cairn_study_list_free(list);
}

/* The named study, opened without creating it. */
static cairn_study *open_study(trk_call *c)
{
    const char *name = NULL;
    if (!trk_str(c, "name", true, &name))
        return NULL;
    cairn_study_opts o = CAIRN_STUDY_OPTS_INIT;
    o.must_exist = true;
    cairn_study *study = NULL;
    cairn_status st = cairn_study_open(c->ctx, name, &o, &study);
    if (st != CAIRN_OK) {
        trk_fail_status(c, st);
        return NULL;
    }
    return study;
}

static void write_trial(cn_jsonw *w, const cairn_space *space, const cairn_trial *t)
{
    char text[CAIRN_PARAM_VALUE_MAX + 1];
    cn_jsonw_object_begin(w);
    cn_jsonw_kint(w, "number", t->number);
    cn_jsonw_kstring(w, "state", cairn_trial_state_str(t->state));
    cn_jsonw_key(w, "value");
    if (t->state == CAIRN_TRIAL_COMPLETE)
        cn_jsonw_double(w, t->value);
    else
        cn_jsonw_null(w);
    cn_jsonw_kstring(w, "run_id", t->run_id);
    cn_jsonw_kint(w, "start_time", t->start_ms);
    cn_jsonw_kint(w, "end_time", t->end_ms);
    if (t->retry_of >= 0)
        cn_jsonw_kint(w, "retry_of", t->retry_of);
    cn_jsonw_key(w, "params");
    cn_jsonw_object_begin(w);
    for (size_t i = 0; t->params && i < t->n_params; i++) {
        if (isnan(t->params[i]))
            continue; /* inactive in this trial */
        cairn_param_info info;
        cairn_space_param(space, i, &info);
        /* As `cairn study trials --json`: numbers as numbers, categories as written. */
        cn_jsonw_key(w, info.name);
        if (info.type == CAIRN_SPACE_PARAM_INT) {
            cn_jsonw_int(w, (int64_t)t->params[i]);
        } else if (info.type == CAIRN_SPACE_PARAM_FLOAT) {
            cn_jsonw_double(w, t->params[i]);
        } else {
            cairn_space_format_value(space, i, t->params[i], text, sizeof text);
            cn_jsonw_string(w, text);
        }
    }
    cn_jsonw_object_end(w);
    cn_jsonw_key(w, "intermediate");
    cn_jsonw_array_begin(w);
    for (size_t i = 0; i < t->n_steps; i++) {
        cn_jsonw_object_begin(w);
        cn_jsonw_kint(w, "step", t->steps[i]);
        cn_jsonw_kdouble(w, "value", t->values[i]);
        cn_jsonw_object_end(w);
    }
    cn_jsonw_array_end(w);
    cn_jsonw_object_end(w);
}

static void ui_studies_get(trk_call *c)
{
    cairn_study *study = open_study(c);
    cairn_study_list *list = NULL;
    if (!study)
        return;
    cairn_status st = cairn_studies_list(c->ctx, &list);
    if (st != CAIRN_OK) {
        trk_fail_status(c, st);
        goto done;
    }
    const cairn_study_info *info = NULL;
    for (size_t i = 0; i < list->n; i++)
        if (strcmp(list->items[i].name, cairn_study_name(study)) == 0)
            info = &list->items[i];
    if (!info) {
        trk_fail(c, 404, "RESOURCE_DOES_NOT_EXIST", "study '%.200s' is gone",
                 cairn_study_name(study));
        goto done;
    }
    cn_jsonw_key(&c->w, "study");
    cn_jsonw_object_begin(&c->w);
    write_study_info(&c->w, info);
    cn_jsonw_kuint(&c->w, "seed", info->seed);
    cn_jsonw_kstring(&c->w, "space", info->space);
    cn_jsonw_key(&c->w, "best_trial");
    cairn_trial best;
    st = cairn_study_best(study, &best);
    if (st == CAIRN_OK) {
        write_trial(&c->w, cairn_study_space(study), &best);
    } else if (st == CAIRN_ENOTFOUND) {
        cn_jsonw_null(&c->w);
    } else {
        trk_fail_status(c, st);
        goto done;
    }
    cn_jsonw_object_end(&c->w);
done:
    cairn_study_list_free(list);
    cairn_study_free(study);
}

static void ui_studies_trials(trk_call *c)
{
    int64_t since = 0;
    if (!trk_int64(c, "since_trial", false, &since, NULL))
        return;
    if (since < 0) {
        trk_fail(c, 400, "INVALID_PARAMETER_VALUE", "since_trial %lld is negative",
                 (long long)since);
        return;
    }
    cairn_study *study = open_study(c);
    if (!study)
        return;
    const cairn_trial *trials = NULL;
    size_t n = 0;
    cairn_status st = cairn_study_trials(study, &trials, &n);
    if (st != CAIRN_OK) {
        trk_fail_status(c, st);
        cairn_study_free(study);
        return;
    }
    /* The lowest trial still open: a poller asks again from it to see the states change. */
    int64_t open_from = -1;
    for (size_t i = 0; i < n; i++)
        if ((trials[i].state == CAIRN_TRIAL_RUNNING || trials[i].state == CAIRN_TRIAL_WAITING) &&
            (open_from < 0 || trials[i].number < open_from))
            open_from = trials[i].number;
    cn_jsonw_kint(&c->w, "n_trials", (int64_t)n);
    cn_jsonw_kint(&c->w, "next_since_trial",
                  open_from >= 0 ? open_from : (n ? trials[n - 1].number + 1 : since));
    cn_jsonw_key(&c->w, "trials");
    cn_jsonw_array_begin(&c->w);
    for (size_t i = 0; i < n; i++)
        if (trials[i].number >= since)
            write_trial(&c->w, cairn_study_space(study), &trials[i]);
    cn_jsonw_array_end(&c->w);
    cairn_study_free(study);
}

static void ui_studies_importance(trk_call *c)
{
    cairn_study *study = open_study(c);
    if (!study)
        return;
    const cairn_trial *trials = NULL;
    size_t n = 0;
    const cairn_space *space = cairn_study_space(study);
    size_t n_params = cairn_space_n_params(space);
    double *imp = cn_xcalloc(n_params ? n_params : 1, sizeof *imp);
    cairn_status st = cairn_study_trials(study, &trials, &n);
    if (st != CAIRN_OK) {
        trk_fail_status(c, st);
        goto done;
    }
    size_t n_complete = 0;
    for (size_t i = 0; i < n; i++)
        n_complete += trials[i].state == CAIRN_TRIAL_COMPLETE;
    cn_jsonw_kstring(&c->w, "method",
                     "omega squared of the objective's ranks by parameter bin (first-order "
                     "variance decomposition)");
    cn_jsonw_kint(&c->w, "n_complete", (int64_t)n_complete);
    st = cairn_insight_importance(c->ctx, space, trials, n, imp);
    if (st == CAIRN_EINVAL) { /* too few trials yet: not an error for a page that polls */
        cn_jsonw_kstring(&c->w, "reason", cairn_errmsg(c->ctx));
        cn_jsonw_key(&c->w, "importance");
        cn_jsonw_array_begin(&c->w);
        cn_jsonw_array_end(&c->w);
        goto done;
    }
    if (st != CAIRN_OK) {
        trk_fail_status(c, st);
        goto done;
    }
    /* Most important first (selection order: the lists are short). */
    bool *done_ = cn_xcalloc(n_params ? n_params : 1, sizeof *done_);
    cn_jsonw_key(&c->w, "importance");
    cn_jsonw_array_begin(&c->w);
    for (size_t k = 0; k < n_params; k++) {
        size_t best = n_params;
        for (size_t i = 0; i < n_params; i++)
            if (!done_[i] && (best == n_params || imp[i] > imp[best]))
                best = i;
        done_[best] = true;
        cairn_param_info info;
        cairn_space_param(space, best, &info);
        cn_jsonw_object_begin(&c->w);
        cn_jsonw_kstring(&c->w, "name", info.name);
        cn_jsonw_kdouble(&c->w, "importance", imp[best]);
        cn_jsonw_object_end(&c->w);
    }
    cn_jsonw_array_end(&c->w);
    free(done_);
done:
    free(imp);
    cairn_study_free(study);
}

/* ---- registry: a version's lineage and model card ---- */

static cairn_model_version *get_version(trk_call *c)
{
    const char *name = NULL;
    int64_t version = 0;
    if (!trk_str(c, "name", true, &name) || !trk_int64(c, "version", true, &version, NULL))
        return NULL;
    cairn_model_version *v = NULL;
    cairn_status st = cairn_model_version_get(c->ctx, name, version, &v);
    if (st != CAIRN_OK) {
        trk_fail_status(c, st);
        return NULL;
    }
    return v;
}

/* The version's run when there is one and the user may read it; else NULL (nothing answered). */
static cairn_run_record *version_run(trk_call *c, const cairn_model_version *v, bool *hidden)
{
    cairn_run_record *r = NULL;
    *hidden = false;
    if (!v->run_id || !*v->run_id || cairn_run_get(c->ctx, v->run_id, &r) != CAIRN_OK)
        return NULL;
    if (!trk_auth_can_read(c, CAIRN_AUTH_EXPERIMENT, r->info.experiment_id)) {
        *hidden = true;
        cairn_run_record_free(r);
        return NULL;
    }
    return r;
}

static void ui_version_lineage(trk_call *c)
{
    cairn_model_version *v = get_version(c);
    if (!v)
        return;
    bool hidden = false;
    cairn_run_record *r = version_run(c, v, &hidden);
    cn_jsonw_key(&c->w, "model_version");
    cn_jsonw_object_begin(&c->w);
    cn_jsonw_kstring(&c->w, "name", v->name);
    cn_jsonw_kint(&c->w, "version", v->version);
    cn_jsonw_kstring(&c->w, "semver", v->semver);
    cn_jsonw_kstring(&c->w, "stage", cairn_model_stage_str(v->stage));
    cn_jsonw_key(&c->w, "aliases");
    cn_jsonw_strings(&c->w, v->aliases, v->n_aliases);
    cn_jsonw_kstring(&c->w, "source", v->source);
    cn_jsonw_kstring(&c->w, "run_id", v->run_id);
    cn_jsonw_kstring(&c->w, "user_id", v->user_id);
    cn_jsonw_kint(&c->w, "creation_timestamp", v->creation_time_ms);
    cn_jsonw_object_end(&c->w);
    cn_jsonw_kbool(&c->w, "run_hidden", hidden);
    cn_jsonw_key(&c->w, "run");
    if (!r) {
        cn_jsonw_null(&c->w);
    } else {
        cn_jsonw_object_begin(&c->w);
        cn_jsonw_kstring(&c->w, "run_id", r->info.run_id);
        cn_jsonw_kstring(&c->w, "experiment_id", r->info.experiment_id);
        cn_jsonw_kstring(&c->w, "run_name", r->info.run_name);
        cn_jsonw_kstring(&c->w, "status", cairn_run_status_str(r->info.status));
        cn_jsonw_kint(&c->w, "start_time", r->info.start_time_ms);
        cn_jsonw_kint(&c->w, "end_time", r->info.end_time_ms);
        cn_jsonw_kstring(&c->w, "lifecycle_stage", r->info.is_deleted ? "deleted" : "active");
        cn_jsonw_object_end(&c->w);
    }
    cn_jsonw_key(&c->w, "datasets");
    cn_jsonw_array_begin(&c->w);
    for (size_t i = 0; r && i < r->n_inputs; i++) {
        const cairn_dataset_input *d = &r->inputs[i];
        cn_jsonw_object_begin(&c->w);
        cn_jsonw_kstring(&c->w, "name", d->name);
        cn_jsonw_kstring(&c->w, "digest", d->digest);
        cn_jsonw_kstring(&c->w, "source_type", d->source_type);
        cn_jsonw_kstring(&c->w, "source", d->source);
        cn_jsonw_kstring(&c->w, "context", d->context);
        cn_jsonw_object_end(&c->w);
    }
    cn_jsonw_array_end(&c->w);
    cairn_run_record_free(r);
    cairn_model_version_free(v);
}

#define CARD_TAG "cairn.model_card"
#define CARD_FILE "model-card.md"
#define CARD_MAX_BYTES (1 << 20)

/* Reads artifact `path` of a run whole (at most CARD_MAX_BYTES); false when it is not there. */
static bool read_artifact(trk_call *c, const char *run_id, const char *path, cn_buf *out)
{
    int fd = -1;
    if (cairn_run_artifact_open(c->ctx, run_id, path, &fd) != CAIRN_OK)
        return false;
    char chunk[65536];
    ssize_t got;
    while ((got = read(fd, chunk, sizeof chunk)) > 0 && out->len < CARD_MAX_BYTES)
        cn_buf_append(out, chunk, (size_t)got);
    close(fd);
    return got >= 0;
}

static void ui_version_card(trk_call *c)
{
    cairn_model_version *v = get_version(c);
    cn_buf text = CN_BUF_INIT;
    char *path = NULL;
    if (!v)
        return;
    const char *from = NULL, *stored = NULL;
    bool has_sha = false;
    for (size_t i = 0; i < v->n_tags; i++)
        if (strcmp(v->tags[i].key, CARD_TAG) == 0)
            stored = v->tags[i].value;
        else if (strcmp(v->tags[i].key, CARD_TAG ".sha256") == 0)
            has_sha = true;
    /* `cairn model card` stores the card as an artifact of the run and names it in the tag
     * (with its SHA-256 beside it); a tag without the SHA-256 holds the Markdown itself. */
    if (stored && !has_sha) {
        cn_buf_puts(&text, stored);
        from = "tag";
    }
    bool hidden = false;
    const char *card_path = NULL; /* the card's artifact path in the run */
    cairn_run_record *r = from ? NULL : version_run(c, v, &hidden);
    if (r && stored && has_sha && read_artifact(c, r->info.run_id, stored, &text)) {
        from = "artifact";
        card_path = stored;
    } else if (r) {
        text.len = 0;
        /* Beside the model in the run (the source's folder), else at the run's root. */
        const char *src = v->source, *prefix = "runs:/";
        if (strncmp(src, prefix, strlen(prefix)) == 0) {
            const char *rel = strchr(src + strlen(prefix), '/');
            const char *slash = rel ? strrchr(rel + 1, '/') : NULL;
            if (rel && slash) {
                size_t n = (size_t)(slash - (rel + 1));
                path = cn_xmalloc(n + sizeof "/" CARD_FILE);
                memcpy(path, rel + 1, n);
                memcpy(path + n, "/" CARD_FILE, sizeof "/" CARD_FILE);
            }
        }
        if (path && read_artifact(c, r->info.run_id, path, &text)) {
            from = "artifact";
            card_path = path;
        } else {
            text.len = 0;
            if (read_artifact(c, r->info.run_id, CARD_FILE, &text)) {
                from = "artifact";
                card_path = CARD_FILE;
            }
        }
    }
    if (!from) {
        trk_fail(c, 404, "RESOURCE_DOES_NOT_EXIST",
                 "model '%.200s' version %lld has no model card (no tag " CARD_TAG
                 " and no " CARD_FILE " artifact in its run%s); write one with cairn model card",
                 v->name, (long long)v->version, hidden ? " you may read" : "");
    } else {
        cn_jsonw_kstring(&c->w, "name", v->name);
        cn_jsonw_kint(&c->w, "version", v->version);
        cn_jsonw_kstring(&c->w, "from", from);
        cn_jsonw_kbool(&c->w, "truncated", text.len >= CARD_MAX_BYTES);
        if (card_path) { /* where relative pictures in the card are, and whether it changed */
            cn_jsonw_kstring(&c->w, "run_id", r->info.run_id);
            cn_jsonw_kstring(&c->w, "path", card_path);
            if (card_path == stored && text.len < CARD_MAX_BYTES) {
                char hex[65];
                cn_sha256_hex(text.data ? text.data : "", text.len, hex);
                const char *want = NULL;
                for (size_t i = 0; i < v->n_tags; i++)
                    if (strcmp(v->tags[i].key, CARD_TAG ".sha256") == 0)
                        want = v->tags[i].value;
                cn_jsonw_kbool(&c->w, "sha256_ok", want && strcmp(hex, want) == 0);
            }
        }
        cn_jsonw_key(&c->w, "markdown");
        cn_jsonw_string_len(&c->w, text.data ? text.data : "",
                            text.len > CARD_MAX_BYTES ? CARD_MAX_BYTES : text.len);
    }
    free(path);
    cn_buf_release(&text);
    cairn_run_record_free(r);
    cairn_model_version_free(v);
}

/* ---- monitoring: drift scores over time, from `cairn serve`'s monitoring run ---- */

/* The metric history of one key, whole. */
static cairn_status history(trk_call *c, const char *run_id, const char *key,
                            cairn_metric_page **out)
{
    return cairn_run_metric_history(c->ctx, run_id, key, NULL, 1000000, out);
}

/* The monitoring run of model `name` version `version` (docs/serving.md "Monitoring"): the
 * newest run of experiment monitoring/NAME that holds drift.vV.* keys (several versions
 * served) or is named "serve NAME/V" (drift.* keys). *prefix_out: the keys' prefix. */
static cairn_run_record *find_monitoring_run(trk_call *c, const char *name, int64_t version,
                                             char **prefix_out)
{
    cn_buf b = CN_BUF_INIT, want = CN_BUF_INIT, vprefix = CN_BUF_INIT;
    cairn_experiment *e = NULL;
    cairn_run_page *page = NULL;
    cairn_run_record *found = NULL;
    cn_buf_printf(&b, "monitoring/%s", name);
    cairn_status st = cairn_experiment_get_by_name(c->ctx, cn_buf_str(&b), &e);
    if (st != CAIRN_OK) {
        trk_fail(c, 404, "RESOURCE_DOES_NOT_EXIST",
                 "model '%.200s' has no monitoring runs (no experiment '%.200s'): serve it with "
                 "cairn serve and drift monitoring on",
                 name, cn_buf_str(&b));
        goto done;
    }
    const char *ids[] = {e->experiment_id};
    const char *order[] = {"start_time DESC"};
    cairn_run_search q = CAIRN_RUN_SEARCH_INIT;
    q.experiment_ids = ids;
    q.n_experiment_ids = 1;
    q.order_by = order;
    q.n_order_by = 1;
    q.max_results = 200;
    st = cairn_runs_search(c->ctx, &q, &page);
    if (st != CAIRN_OK) {
        trk_fail_status(c, st);
        goto done;
    }
    cn_buf_printf(&want, "serve %s/%lld", name, (long long)version);
    cn_buf_printf(&vprefix, "drift.v%lld.", (long long)version);
    for (size_t i = 0; i < page->n && !found; i++) {
        const cairn_run_record *r = &page->items[i];
        bool has_v = false;
        for (size_t k = 0; k < r->n_metrics && !has_v; k++)
            has_v = strncmp(r->metrics[k].key, cn_buf_str(&vprefix), vprefix.len) == 0;
        if (has_v || strcmp(r->info.run_name, cn_buf_str(&want)) == 0) {
            *prefix_out = cn_xstrdup(has_v ? cn_buf_str(&vprefix) : "drift.");
            if (cairn_run_get(c->ctx, r->info.run_id, &found) != CAIRN_OK)
                found = NULL;
        }
    }
    if (!found)
        trk_fail(c, 404, "RESOURCE_DOES_NOT_EXIST",
                 "no monitoring run of model '%.200s' version %lld in experiment '%.200s'", name,
                 (long long)version, cn_buf_str(&b));
done:
    cairn_run_page_free(page);
    cairn_experiment_free(e);
    cn_buf_release(&b);
    cn_buf_release(&want);
    cn_buf_release(&vprefix);
    return found;
}

static void ui_monitoring_drift(trk_call *c)
{
    const char *run_id = NULL, *model = NULL;
    int64_t version = 0;
    bool has_version = false;
    char *prefix = NULL;
    cairn_run_record *run = NULL;
    cn_buf key = CN_BUF_INIT, score_prefix = CN_BUF_INIT;
    if (!trk_str(c, "run_id", false, &run_id) || !trk_str(c, "model", false, &model) ||
        !trk_int64(c, "version", false, &version, &has_version))
        goto done;
    if (run_id) {
        cairn_status st = cairn_run_get(c->ctx, run_id, &run);
        if (st != CAIRN_OK) {
            trk_fail_status(c, st);
            goto done;
        }
        /* One version of several served: its keys carry its number. */
        if (has_version)
            cn_buf_printf(&key, "drift.v%lld.", (long long)version);
        prefix = cn_xstrdup(has_version ? cn_buf_str(&key) : "drift.");
    } else if (model && has_version) {
        run = find_monitoring_run(c, model, version, &prefix);
        if (!run)
            goto done;
    } else {
        trk_fail(c, 400, "INVALID_PARAMETER_VALUE",
                 "name the monitoring run (run_id) or the served model (model and version)");
        goto done;
    }
    if (!trk_auth_can_read(c, CAIRN_AUTH_EXPERIMENT, run->info.experiment_id)) {
        trk_fail(c, 403, "PERMISSION_DENIED",
                 "Permission denied: user '%s' lacks READ on experiment '%.200s' (the "
                 "monitoring run's)",
                 c->user, run->info.experiment_id);
        goto done;
    }
    cn_jsonw_kstring(&c->w, "run_id", run->info.run_id);
    cn_jsonw_kstring(&c->w, "key_prefix", prefix);
    cn_buf_printf(&score_prefix, "%sscore.", prefix);
    cn_jsonw_key(&c->w, "features");
    cn_jsonw_array_begin(&c->w);
    for (size_t k = 0; k < run->n_metrics; k++) {
        const char *mk = run->metrics[k].key;
        if (strncmp(mk, cn_buf_str(&score_prefix), score_prefix.len) != 0)
            continue;
        const char *feature = mk + score_prefix.len;
        cairn_metric_page *scores = NULL, *drifted = NULL, *thresholds = NULL;
        if (history(c, run->info.run_id, mk, &scores) != CAIRN_OK) {
            trk_fail_status(c, CAIRN_EIO);
            goto done;
        }
        cn_buf_clear(&key);
        cn_buf_printf(&key, "%sdrifted.%s", prefix, feature);
        (void)history(c, run->info.run_id, cn_buf_str(&key), &drifted);
        cn_buf_clear(&key);
        cn_buf_printf(&key, "%sthreshold.%s", prefix, feature);
        (void)history(c, run->info.run_id, cn_buf_str(&key), &thresholds);
        cn_jsonw_object_begin(&c->w);
        cn_jsonw_kstring(&c->w, "name", feature);
        /* The threshold when the monitoring run records it, else null (the run's drifted
         * flags are the test's decisions either way). */
        cn_jsonw_key(&c->w, "threshold");
        if (thresholds && thresholds->n)
            cn_jsonw_double(&c->w, thresholds->items[thresholds->n - 1].value);
        else
            cn_jsonw_null(&c->w);
        cn_jsonw_key(&c->w, "points");
        cn_jsonw_array_begin(&c->w);
        size_t j = 0;
        for (size_t i = 0; i < scores->n; i++) {
            const cairn_metric *m = &scores->items[i];
            while (drifted && j < drifted->n && drifted->items[j].step < m->step)
                j++;
            cn_jsonw_object_begin(&c->w);
            cn_jsonw_kint(&c->w, "step", m->step);
            cn_jsonw_kint(&c->w, "timestamp", m->timestamp_ms);
            cn_jsonw_kdouble(&c->w, "score", m->value);
            cn_jsonw_key(&c->w, "drifted");
            if (drifted && j < drifted->n && drifted->items[j].step == m->step)
                cn_jsonw_bool(&c->w, drifted->items[j].value != 0);
            else
                cn_jsonw_null(&c->w);
            cn_jsonw_object_end(&c->w);
        }
        cn_jsonw_array_end(&c->w);
        cn_jsonw_object_end(&c->w);
        cairn_metric_page_free(scores);
        cairn_metric_page_free(drifted);
        cairn_metric_page_free(thresholds);
    }
    cn_jsonw_array_end(&c->w);
done:
    free(prefix);
    cairn_run_record_free(run);
    cn_buf_release(&key);
    cn_buf_release(&score_prefix);
}

/* ---- compare two runs: params and metrics side by side, and the paired test ---- */

static const char *param_of(const cairn_run_record *r, const char *key)
{
    for (size_t i = 0; i < r->n_params; i++)
        if (strcmp(r->params[i].key, key) == 0)
            return r->params[i].value;
    return NULL;
}

static void write_param_row(trk_call *c, const char *key, const char *a, const char *b)
{
    cn_jsonw_object_begin(&c->w);
    cn_jsonw_kstring(&c->w, "key", key);
    cn_jsonw_kstring(&c->w, "a", a);
    cn_jsonw_kstring(&c->w, "b", b);
    cn_jsonw_kbool(&c->w, "differs", !a || !b || strcmp(a, b) != 0);
    cn_jsonw_object_end(&c->w);
}

static void ui_runs_compare(trk_call *c)
{
    const char **runs = NULL;
    size_t n = 0;
    cairn_run_record *ra = NULL, *rb = NULL;
    cairn_compare_result *cmp = NULL;
    if (!trk_str_list(c, "run_id", &runs, &n))
        goto done;
    if (n != 2) {
        trk_fail(c, 400, "INVALID_PARAMETER_VALUE",
                 "give exactly two run_id values to compare (got %zu)", n);
        goto done;
    }
    cairn_status st = cairn_run_get(c->ctx, runs[0], &ra);
    if (st == CAIRN_OK)
        st = cairn_run_get(c->ctx, runs[1], &rb);
    if (st != CAIRN_OK) {
        trk_fail_status(c, st);
        goto done;
    }
    cn_jsonw_key(&c->w, "run_ids");
    cn_jsonw_strings(&c->w, runs, 2);
    /* Params: every key of either run, A's order first, then B's others. */
    cn_jsonw_key(&c->w, "params");
    cn_jsonw_array_begin(&c->w);
    for (size_t i = 0; i < ra->n_params; i++)
        write_param_row(c, ra->params[i].key, ra->params[i].value, param_of(rb, ra->params[i].key));
    for (size_t i = 0; i < rb->n_params; i++)
        if (!param_of(ra, rb->params[i].key))
            write_param_row(c, rb->params[i].key, NULL, rb->params[i].value);
    cn_jsonw_array_end(&c->w);
    st = cairn_eval_compare_runs(c->ctx, runs[0], runs[1], NULL, &cmp);
    if (st != CAIRN_OK && st != CAIRN_EINVAL) {
        trk_fail_status(c, st);
        goto done;
    }
    cn_jsonw_key(&c->w, "metrics");
    cn_jsonw_array_begin(&c->w);
    for (size_t i = 0; cmp && i < cmp->n_metrics; i++) {
        const cairn_compared_metric *m = &cmp->metrics[i];
        cn_jsonw_object_begin(&c->w);
        cn_jsonw_kstring(&c->w, "name", m->name);
        cn_jsonw_kdouble(&c->w, "a", m->a);
        cn_jsonw_kdouble(&c->w, "a_low", m->a_low);
        cn_jsonw_kdouble(&c->w, "a_high", m->a_high);
        cn_jsonw_kdouble(&c->w, "b", m->b);
        cn_jsonw_kdouble(&c->w, "b_low", m->b_low);
        cn_jsonw_kdouble(&c->w, "b_high", m->b_high);
        cn_jsonw_kdouble(&c->w, "diff", m->diff);
        cn_jsonw_object_end(&c->w);
    }
    cn_jsonw_array_end(&c->w);
    cn_jsonw_key(&c->w, "test");
    if (!cmp || !cmp->has_test) {
        cn_jsonw_null(&c->w);
        /* Why not, and what would make a test possible. */
        cn_jsonw_kstring(&c->w, "no_test",
                         cmp && cmp->no_test ? cmp->no_test : cairn_errmsg(c->ctx));
    } else {
        cn_jsonw_object_begin(&c->w);
        cn_jsonw_kstring(&c->w, "scope", cmp->scope);
        cn_jsonw_kstring(&c->w, "task", cmp->task);
        cn_jsonw_kstring(&c->w, "metric", cmp->metric);
        cn_jsonw_kint(&c->w, "n", (int64_t)cmp->n);
        cn_jsonw_kdouble(&c->w, "a", cmp->a);
        cn_jsonw_kdouble(&c->w, "b", cmp->b);
        cn_jsonw_kdouble(&c->w, "diff", cmp->diff);
        cn_jsonw_kdouble(&c->w, "diff_ci_low", cmp->diff_low);
        cn_jsonw_kdouble(&c->w, "diff_ci_high", cmp->diff_high);
        cn_jsonw_kstring(&c->w, "method", cmp->test);
        cn_jsonw_kdouble(&c->w, "statistic", cmp->statistic);
        cn_jsonw_kdouble(&c->w, "p_value", cmp->pvalue);
        if (cmp->test2) {
            cn_jsonw_kstring(&c->w, "method2", cmp->test2);
            cn_jsonw_kdouble(&c->w, "statistic2", cmp->statistic2);
            cn_jsonw_kdouble(&c->w, "p_value2", cmp->pvalue2);
        }
        cn_jsonw_kbool(&c->w, "significant", cmp->significant);
        cn_jsonw_kstring(&c->w, "predictions", cmp->predictions);
        cn_jsonw_object_end(&c->w);
    }
done:
    cairn_compare_result_free(cmp);
    cairn_run_record_free(ra);
    cairn_run_record_free(rb);
    free(runs);
}

/* ---- GET cairn/permissions/mine: what the signed-in user may do (the UI disables what is
 * not allowed instead of failing on click). Without --auth there are no users and everything
 * is MANAGE. ---- */

static void ui_permissions_mine(trk_call *c)
{
    const char *exp = NULL, *model = NULL;
    if (!trk_str(c, "experiment_id", false, &exp) ||
        !trk_str(c, "registered_model_name", false, &model))
        return;
    if (exp && model) {
        trk_fail(c, 400, "INVALID_PARAMETER_VALUE",
                 "give experiment_id or registered_model_name, not both (one permission at "
                 "a time)");
        return;
    }
    cairn_status st = CAIRN_OK;
    if (exp) {
        cairn_experiment *e = NULL;
        st = cairn_experiment_get(c->ctx, exp, &e);
        cairn_experiment_free(e);
    } else if (model) {
        cairn_registered_model *m = NULL;
        st = cairn_registry_get_model(c->ctx, model, &m);
        cairn_registered_model_free(m);
    }
    if (st != CAIRN_OK) {
        trk_fail_status(c, st);
        return;
    }
    bool admin = false;
    cairn_perm perm = CAIRN_PERM_MANAGE;
    if (c->user) {
        cairn_auth_user *u = NULL;
        st = cairn_auth_user_get(c->ctx, c->user, &u);
        if (st == CAIRN_OK)
            admin = u->is_admin;
        cairn_auth_user_free(u);
        if (st == CAIRN_OK && (exp || model))
            st = cairn_auth_effective_permission(
                c->ctx, c->user, exp ? CAIRN_AUTH_EXPERIMENT : CAIRN_AUTH_MODEL, exp ? exp : model,
                trk_app_config(c->app)->default_permission, &perm);
        if (st != CAIRN_OK) {
            trk_fail_status(c, st);
            return;
        }
    }
    cn_jsonw_kbool(&c->w, "auth", c->user != NULL);
    cn_jsonw_kstring(&c->w, "user", c->user); /* null without --auth */
    cn_jsonw_kbool(&c->w, "is_admin", admin);
    if (exp)
        cn_jsonw_kstring(&c->w, "experiment_id", exp);
    if (model)
        cn_jsonw_kstring(&c->w, "registered_model_name", model);
    if (exp || model)
        cn_jsonw_kstring(&c->w, "permission", cairn_perm_str(perm));
}

const trk_route trk_ui_routes[] = {
    {"cairn/metrics/downsample", TRK_GET, ui_downsample},
    {"cairn/experiments/summary", TRK_GET, ui_experiments_summary},
    {"cairn/studies/list", TRK_GET, ui_studies_list},
    {"cairn/studies/get", TRK_GET, ui_studies_get},
    {"cairn/studies/trials", TRK_GET, ui_studies_trials},
    {"cairn/studies/importance", TRK_GET, ui_studies_importance},
    {"cairn/model-versions/lineage", TRK_GET, ui_version_lineage},
    {"cairn/model-versions/card", TRK_GET, ui_version_card},
    {"cairn/monitoring/drift", TRK_GET, ui_monitoring_drift},
    {"cairn/runs/compare", TRK_GET, ui_runs_compare},
    {"cairn/permissions/mine", TRK_GET, ui_permissions_mine},
};
const size_t trk_n_ui_routes = sizeof trk_ui_routes / sizeof trk_ui_routes[0];
