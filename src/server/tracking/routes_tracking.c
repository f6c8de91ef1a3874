/* SPDX-License-Identifier: MIT */
/* routes_tracking.c - experiments, runs, metrics, params, tags, inputs and search (MLflow's
 * tracking service), each a thin map from the request to one cairn_* call. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "cairn/logged_model.h"
#include "tracking/group.h"
#include "tracking/trk.h"
#include "base/map.h"
#include "base/str.h"
#include "base/time.h"
#include "base/xmalloc.h"
#include "base/banned.h"

/* ---- shared ---- */

static bool view_type(trk_call *c, const char *key, cairn_view *out)
{
    const char *v;
    *out = CAIRN_VIEW_ACTIVE_ONLY;
    if (!trk_str(c, key, false, &v) || !v)
        return !c->failed;
    if (strcmp(v, "ACTIVE_ONLY") == 0)
        *out = CAIRN_VIEW_ACTIVE_ONLY;
    else if (strcmp(v, "DELETED_ONLY") == 0)
        *out = CAIRN_VIEW_DELETED_ONLY;
    else if (strcmp(v, "ALL") == 0)
        *out = CAIRN_VIEW_ALL;
    else
        return trk_fail(c, 400, "INVALID_PARAMETER_VALUE",
                        "Invalid value '%s' for parameter '%s': use ACTIVE_ONLY, DELETED_ONLY or "
                        "ALL",
                        v, key);
    return true;
}

static bool max_results(trk_call *c, int64_t dflt, int64_t max, int64_t *out)
{
    bool present;
    *out = dflt;
    if (!trk_int64(c, "max_results", false, out, &present))
        return false;
    if (present && (*out <= 0 || *out > max))
        return trk_fail(c, 400, "INVALID_PARAMETER_VALUE",
                        "Invalid value %lld for parameter 'max_results' supplied: it must be "
                        "between 1 and %lld",
                        (long long)*out, (long long)max);
    return true;
}

static json_t *body_field(trk_call *c, const char *key)
{
    json_t *v = json_object_get(c->in, key);
    return v && !json_is_null(v) ? v : NULL;
}

/* ---- experiments ---- */

static void experiments_create(trk_call *c)
{
    const char *name, *loc;
    cairn_tag *tags = NULL;
    size_t n_tags = 0;
    char *id = NULL;
    if (!trk_str(c, "name", true, &name) || !trk_str(c, "artifact_location", false, &loc) ||
        !trk_kv_list(c, body_field(c, "tags"), "tags", &tags, &n_tags))
        return;
    if (loc && *loc) {
        free(tags);
        trk_fail(c, 400, "INVALID_PARAMETER_VALUE",
                 "artifact_location '%.200s' refused: this server assigns every experiment a "
                 "location under its artifact root; create the experiment without one",
                 loc);
        return;
    }
    cairn_status st = cairn_experiment_create(c->ctx, name, NULL, tags, n_tags, &id);
    free(tags);
    if (st != CAIRN_OK) {
        trk_fail_status(c, st);
        return;
    }
    trk_auth_created(c, CAIRN_AUTH_EXPERIMENT, id);
    cn_jsonw_kstring(&c->w, "experiment_id", id);
    cairn_free(id);
}

/* {"experiment": ...} from a lookup's result, or its error. */
static void answer_experiment(trk_call *c, cairn_status st, cairn_experiment **ep)
{
    cairn_experiment *e = *ep; /* read after the lookup filled it */
    if (st != CAIRN_OK) {
        trk_fail_status(c, st);
        return;
    }
    cn_jsonw_key(&c->w, "experiment");
    trk_write_experiment(c, e);
    cairn_experiment_free(e);
}

static void experiments_get(trk_call *c)
{
    const char *id;
    cairn_experiment *e = NULL;
    if (trk_str(c, "experiment_id", true, &id))
        answer_experiment(c, cairn_experiment_get(c->ctx, id, &e), &e);
}

static void experiments_get_by_name(trk_call *c)
{
    const char *name;
    cairn_experiment *e = NULL;
    if (trk_str(c, "experiment_name", true, &name))
        answer_experiment(c, cairn_experiment_get_by_name(c->ctx, name, &e), &e);
}

static void experiments_search(trk_call *c)
{
    cairn_experiment_search q = CAIRN_EXPERIMENT_SEARCH_INIT;
    const char **order = NULL;
    size_t n_order = 0;
    cairn_experiment_page *page = NULL;
    if (!max_results(c, 1000, CAIRN_SEARCH_MAX_RESULTS, &q.max_results) ||
        !trk_str(c, "page_token", false, &q.page_token) ||
        !trk_str(c, "filter", false, &q.filter) || !view_type(c, "view_type", &q.view) ||
        !trk_str_list(c, "order_by", &order, &n_order))
        return;
    if (q.filter && !*q.filter)
        q.filter = NULL;
    if (q.page_token && !*q.page_token)
        q.page_token = NULL;
    q.order_by = order;
    q.n_order_by = n_order;
    cairn_status st = cairn_experiments_search(c->ctx, &q, &page);
    free(order);
    if (st != CAIRN_OK) {
        trk_fail_status(c, st);
        return;
    }
    /* Only what the user may read (everything without --auth); no empty list. */
    bool *keep = cn_xcalloc(page->n ? page->n : 1, sizeof *keep);
    size_t n_keep = 0;
    for (size_t i = 0; i < page->n; i++)
        n_keep += keep[i] =
            trk_auth_can_read(c, CAIRN_AUTH_EXPERIMENT, page->items[i].experiment_id);
    if (n_keep) {
        cn_jsonw_key(&c->w, "experiments");
        cn_jsonw_array_begin(&c->w);
        for (size_t i = 0; i < page->n; i++)
            if (keep[i])
                trk_write_experiment(c, &page->items[i]);
        cn_jsonw_array_end(&c->w);
    }
    free(keep);
    if (page->next_page_token)
        cn_jsonw_kstring(&c->w, "next_page_token", page->next_page_token);
    cairn_experiment_page_free(page);
}

static void experiments_delete(trk_call *c)
{
    const char *id;
    if (!trk_str(c, "experiment_id", true, &id))
        return;
    cairn_status st = cairn_experiment_delete(c->ctx, id);
    if (st != CAIRN_OK)
        trk_fail_status(c, st);
}

static void experiments_restore(trk_call *c)
{
    const char *id;
    if (!trk_str(c, "experiment_id", true, &id))
        return;
    cairn_status st = cairn_experiment_restore(c->ctx, id);
    if (st != CAIRN_OK)
        trk_fail_status(c, st);
}

static void experiments_update(trk_call *c)
{
    const char *id, *name;
    if (!trk_str(c, "experiment_id", true, &id) || !trk_str(c, "new_name", true, &name))
        return;
    cairn_status st = cairn_experiment_rename(c->ctx, id, name);
    if (st != CAIRN_OK)
        trk_fail_status(c, st);
}

static void experiments_set_tag(trk_call *c)
{
    const char *id, *key, *value;
    if (!trk_str(c, "experiment_id", true, &id) || !trk_str(c, "key", true, &key) ||
        !trk_str(c, "value", false, &value))
        return;
    cairn_status st = cairn_experiment_set_tag(c->ctx, id, key, value ? value : "");
    if (st != CAIRN_OK)
        trk_fail_status(c, st);
}

static void experiments_delete_tag(trk_call *c)
{
    const char *id, *key;
    if (!trk_str(c, "experiment_id", true, &id) || !trk_str(c, "key", true, &key))
        return;
    cairn_status st = cairn_experiment_delete_tag(c->ctx, id, key);
    if (st != CAIRN_OK)
        trk_fail_status(c, st);
}

/* ---- runs ---- */

static bool write_run_by_id(trk_call *c, const char *key, const char *run_id, bool info_only)
{
    cairn_run_record *r = NULL;
    cairn_status st = cairn_run_get(c->ctx, run_id, &r);
    if (st != CAIRN_OK)
        return trk_fail_status(c, st);
    cn_jsonw_key(&c->w, key);
    if (info_only)
        trk_write_run_info(c, &r->info);
    else
        trk_write_run(c, r);
    cairn_run_record_free(r);
    return true;
}

static void runs_create(trk_call *c)
{
    cairn_run_opts o = CAIRN_RUN_OPTS_INIT;
    cairn_tag *tags = NULL;
    size_t n_tags = 0;
    bool has_start;
    if (!trk_str(c, "experiment_id", false, &o.experiment_id) ||
        !trk_str(c, "user_id", false, &o.user) || !trk_str(c, "run_name", false, &o.name) ||
        !trk_int64(c, "start_time", false, &o.start_ms, &has_start) ||
        !trk_kv_list(c, body_field(c, "tags"), "tags", &tags, &n_tags))
        return;
    if (!o.experiment_id || !*o.experiment_id)
        o.experiment_id = "0";
    /* The store writes mlflow.runName and mlflow.user itself: take them from the tags when the
     * fields are not given, and never twice. */
    size_t keep = 0;
    for (size_t i = 0; i < n_tags; i++) {
        if (strcmp(tags[i].key, "mlflow.runName") == 0) {
            if (!o.name || !*o.name)
                o.name = tags[i].value;
            else if (strcmp(o.name, tags[i].value) != 0) {
                trk_fail(c, 400, "INVALID_PARAMETER_VALUE",
                         "run_name '%s' and tag mlflow.runName '%s' differ; send one of them",
                         o.name, tags[i].value);
                free(tags);
                return;
            }
            continue;
        }
        if (strcmp(tags[i].key, "mlflow.user") == 0) {
            if (!o.user || !*o.user)
                o.user = tags[i].value;
            continue;
        }
        tags[keep++] = tags[i];
    }
    if ((!o.user || !*o.user) && c->user)
        o.user = c->user;
    if (!o.user)
        o.user = "";
    o.tags = tags;
    o.n_tags = keep;
    char *id = NULL;
    cairn_status st = cairn_runs_create(c->ctx, &o, &id);
    free(tags);
    if (st != CAIRN_OK) {
        trk_fail_status(c, st);
        return;
    }
    write_run_by_id(c, "run", id, false);
    cairn_free(id);
}

static void runs_get(trk_call *c)
{
    const char *id;
    if (trk_run_id(c, &id))
        write_run_by_id(c, "run", id, false);
}

static void runs_update(trk_call *c)
{
    const char *id, *status;
    cairn_run_update u = CAIRN_RUN_UPDATE_INIT;
    bool has_end;
    if (!trk_run_id(c, &id) || !trk_str(c, "status", false, &status) ||
        !trk_int64(c, "end_time", false, &u.end_ms, &has_end) ||
        !trk_str(c, "run_name", false, &u.name))
        return;
    if (u.name && !*u.name)
        u.name = NULL;
    if (status && *status && cairn_run_status_parse(c->ctx, status, &u.status) != CAIRN_OK) {
        trk_fail(c, 400, "INVALID_PARAMETER_VALUE",
                 "Invalid value '%s' for parameter 'status': use RUNNING, SCHEDULED, FINISHED, "
                 "FAILED or KILLED",
                 status);
        return;
    }
    cairn_status st = cairn_runs_update(c->ctx, id, &u);
    if (st != CAIRN_OK) {
        trk_fail_status(c, st);
        return;
    }
    write_run_by_id(c, "run_info", id, true);
}

static void runs_delete(trk_call *c)
{
    const char *id;
    if (!trk_run_id(c, &id))
        return;
    cairn_status st = cairn_run_delete(c->ctx, id);
    if (st != CAIRN_OK)
        trk_fail_status(c, st);
}

static void runs_restore(trk_call *c)
{
    const char *id;
    if (!trk_run_id(c, &id))
        return;
    cairn_status st = cairn_run_restore(c->ctx, id);
    if (st != CAIRN_OK)
        trk_fail_status(c, st);
}

static bool metric_from(trk_call *c, json_t *obj, bool need_ts, cairn_metric *m)
{
    json_t *v;
    memset(m, 0, sizeof *m);
    if (!trk_obj_str(c, obj, "key", "metric", true, &m->key))
        return false;
    v = json_object_get(obj, "value");
    if (!v || json_is_null(v))
        return trk_fail(c, 400, "INVALID_PARAMETER_VALUE",
                        "Missing value for required parameter 'value' of metric '%s'", m->key);
    if (!trk_json_double(c, v, "value", &m->value))
        return false;
    v = json_object_get(obj, "timestamp");
    if (!v || json_is_null(v)) {
        if (need_ts)
            return trk_fail(c, 400, "INVALID_PARAMETER_VALUE",
                            "Missing value for required parameter 'timestamp' of metric '%s'",
                            m->key);
        m->timestamp_ms = cn_now_ms();
    } else if (!trk_json_int64(c, v, "timestamp", &m->timestamp_ms)) {
        return false;
    }
    if (m->timestamp_ms < 0)
        return trk_fail(c, 400, "INVALID_PARAMETER_VALUE",
                        "metric '%s': timestamp %lld is negative", m->key,
                        (long long)m->timestamp_ms);
    v = json_object_get(obj, "step");
    if (v && !json_is_null(v) && !trk_json_int64(c, v, "step", &m->step))
        return false;
    return true;
}

static void runs_log_metric(trk_call *c)
{
    const char *id;
    cairn_metric m;
    if (!trk_run_id(c, &id) || !metric_from(c, c->in, true, &m))
        return;
    const char *model_id, *ds_name, *ds_digest;
    if (!trk_str(c, "model_id", false, &model_id) || !trk_str(c, "dataset_name", false, &ds_name) ||
        !trk_str(c, "dataset_digest", false, &ds_digest))
        return;
    cairn_run_batch b = {.run_id = id, .metrics = &m, .n_metrics = 1};
    if (!(model_id && *model_id) && trk_group_submit(c, &b))
        return; /* answered once committed with others */
    cairn_status st = cairn_runs_log_batch(c->ctx, id, &m, 1, NULL, 0, NULL, 0);
    if (st == CAIRN_OK && model_id && *model_id) {
        /* 3.x: a metric of a logged model is also recorded on the model. */
        cairn_logged_model_metric lm = {m.key, m.value, m.timestamp_ms, m.step,
                                        id,    ds_name, ds_digest};
        st = cairn_logged_model_log_metrics(c->ctx, model_id, &lm, 1);
    }
    if (st != CAIRN_OK)
        trk_fail_status(c, st);
}

static void runs_log_parameter(trk_call *c)
{
    const char *id;
    cairn_param p;
    if (!trk_run_id(c, &id) || !trk_str(c, "key", true, &p.key) ||
        !trk_str(c, "value", false, &p.value))
        return;
    if (!p.value)
        p.value = "";
    cairn_status st = cairn_runs_log_batch(c->ctx, id, NULL, 0, &p, 1, NULL, 0);
    if (st != CAIRN_OK)
        trk_fail_status(c, st);
}

static void runs_log_batch(trk_call *c)
{
    const char *id;
    cairn_metric *metrics = NULL;
    cairn_param *params = NULL;
    cairn_tag *tags = NULL;
    size_t n_params = 0, n_tags = 0, n_metrics = 0;
    if (!trk_run_id(c, &id))
        return;
    json_t *arr = body_field(c, "metrics");
    if (arr && !json_is_array(arr)) {
        trk_fail(c, 400, "INVALID_PARAMETER_VALUE",
                 "Invalid value for parameter 'metrics': expected a list of metrics");
        return;
    }
    size_t n = arr ? json_array_size(arr) : 0;
    if (n > CAIRN_BATCH_METRICS_MAX) {
        trk_fail(c, 400, "INVALID_PARAMETER_VALUE",
                 "A batch logging request can contain at most %d metrics. Got %zu metrics. "
                 "Please split up metrics across multiple requests and try again.",
                 CAIRN_BATCH_METRICS_MAX, n);
        return;
    }
    metrics = cn_xcalloc(n ? n : 1, sizeof *metrics);
    for (size_t i = 0; i < n; i++) {
        json_t *e = json_array_get(arr, i);
        if (!json_is_object(e)) {
            trk_fail(c, 400, "INVALID_PARAMETER_VALUE",
                     "Invalid value for parameter 'metrics': item %zu is not an object", i);
            goto done;
        }
        if (!metric_from(c, e, true, &metrics[n_metrics++]))
            goto done;
    }
    if (!trk_kv_list(c, body_field(c, "params"), "params", &params, &n_params) ||
        !trk_kv_list(c, body_field(c, "tags"), "tags", &tags, &n_tags))
        goto done;
    if (n_params > CAIRN_BATCH_PARAMS_MAX || n_tags > CAIRN_BATCH_TAGS_MAX) {
        trk_fail(c, 400, "INVALID_PARAMETER_VALUE",
                 "A batch logging request can contain at most %d params and %d tags. Got %zu "
                 "params and %zu tags. Please split them across multiple requests.",
                 CAIRN_BATCH_PARAMS_MAX, CAIRN_BATCH_TAGS_MAX, n_params, n_tags);
        goto done;
    }
    /* Duplicate param keys in one batch are an error in MLflow, even with equal values. */
    if (n_params > 1) {
        cn_map seen = CN_MAP_INIT;
        for (size_t i = 0; i < n_params; i++) {
            size_t prev;
            if (!cn_map_add(&seen, params[i].key, strlen(params[i].key), i, &prev) &&
                strcmp(params[prev].value, params[i].value) != 0) {
                cn_map_release(&seen);
                trk_fail(c, 400, "INVALID_PARAMETER_VALUE",
                         "Duplicate parameter keys have been submitted: '%s' with different "
                         "values. Please ensure the request contains only one param value per "
                         "param key.",
                         params[i].key);
                goto done;
            }
        }
        cn_map_release(&seen);
    }
    cairn_run_batch b = {id, metrics, n_metrics, params, n_params, tags, n_tags};
    if (!trk_group_submit(c, &b)) {
        cairn_status st =
            cairn_runs_log_batch(c->ctx, id, metrics, n_metrics, params, n_params, tags, n_tags);
        if (st != CAIRN_OK)
            trk_fail_status(c, st);
    }
done:
    free(metrics);
    free(params);
    free(tags);
}

static void runs_set_tag(trk_call *c)
{
    const char *id, *key, *value;
    if (!trk_run_id(c, &id) || !trk_str(c, "key", true, &key) ||
        !trk_str(c, "value", false, &value))
        return;
    cairn_status st = cairn_runs_set_tag(c->ctx, id, key, value ? value : "");
    if (st != CAIRN_OK)
        trk_fail_status(c, st);
}

static void runs_delete_tag(trk_call *c)
{
    const char *id, *key;
    if (!trk_run_id(c, &id) || !trk_str(c, "key", true, &key))
        return;
    /* MLflow answers 404 for a tag that is not there. */
    cairn_run_record *r = NULL;
    cairn_status st = cairn_run_get(c->ctx, id, &r);
    if (st != CAIRN_OK) {
        trk_fail_status(c, st);
        return;
    }
    bool found = false;
    for (size_t i = 0; i < r->n_tags; i++)
        found |= strcmp(r->tags[i].key, key) == 0;
    bool deleted = r->info.is_deleted;
    cairn_run_record_free(r);
    if (deleted) {
        trk_fail(c, 400, "INVALID_PARAMETER_VALUE",
                 "The run %s must be in the 'active' state. Current state is deleted.", id);
        return;
    }
    if (!found) {
        trk_fail(c, 404, "RESOURCE_DOES_NOT_EXIST", "No tag with name: %s in run with id %s", key,
                 id);
        return;
    }
    st = cairn_runs_delete_tag(c->ctx, id, key);
    if (st != CAIRN_OK)
        trk_fail_status(c, st);
}

static void runs_search(trk_call *c)
{
    cairn_run_search q = CAIRN_RUN_SEARCH_INIT;
    const char **exps = NULL, **order = NULL;
    size_t n_exps = 0, n_order = 0;
    cairn_run_page *page = NULL;
    if (!trk_str_list(c, "experiment_ids", &exps, &n_exps))
        return;
    if (!max_results(c, 1000, CAIRN_SEARCH_MAX_RESULTS, &q.max_results) ||
        !trk_str(c, "page_token", false, &q.page_token) ||
        !trk_str(c, "filter", false, &q.filter) || !view_type(c, "run_view_type", &q.view) ||
        !trk_str_list(c, "order_by", &order, &n_order))
        goto done;
    if (c->user) { /* only the experiments the user may read */
        size_t keep = 0;
        for (size_t i = 0; i < n_exps; i++)
            if (trk_auth_can_read(c, CAIRN_AUTH_EXPERIMENT, exps[i]))
                exps[keep++] = exps[i];
        n_exps = keep;
    }
    if (n_exps == 0) /* MLflow: no experiments, no runs */
        goto done;
    if (q.filter && !*q.filter)
        q.filter = NULL;
    if (q.page_token && !*q.page_token)
        q.page_token = NULL;
    q.experiment_ids = exps;
    q.n_experiment_ids = n_exps;
    q.order_by = order;
    q.n_order_by = n_order;
    cairn_status st = cairn_runs_search(c->ctx, &q, &page);
    if (st != CAIRN_OK) {
        trk_fail_status(c, st);
        goto done;
    }
    if (page->n) {
        cn_jsonw_key(&c->w, "runs");
        cn_jsonw_array_begin(&c->w);
        for (size_t i = 0; i < page->n; i++)
            trk_write_run(c, &page->items[i]);
        cn_jsonw_array_end(&c->w);
    }
    if (page->next_page_token)
        cn_jsonw_kstring(&c->w, "next_page_token", page->next_page_token);
    cairn_run_page_free(page);
done:
    free(exps);
    free(order);
}

static void write_point(cn_jsonw *w, const cairn_metric *m, const char *key, const char *run_id)
{
    cn_jsonw_object_begin(w);
    cn_jsonw_kstring(w, "key", key);
    cn_jsonw_kdouble(w, "value", m->value);
    cn_jsonw_kint(w, "timestamp", m->timestamp_ms);
    cn_jsonw_kint(w, "step", m->step);
    if (run_id)
        cn_jsonw_kstring(w, "run_id", run_id);
    cn_jsonw_object_end(w);
}

static void metrics_get_history(trk_call *c)
{
    const char *id, *key, *token;
    int64_t max = 25000;
    cairn_metric_page *page = NULL;
    if (!trk_run_id(c, &id) || !trk_str(c, "metric_key", true, &key) ||
        !trk_str(c, "page_token", false, &token) || !max_results(c, 25000, 1000000, &max))
        return;
    if (token && !*token)
        token = NULL;
    cairn_status st = cairn_run_metric_history(c->ctx, id, key, token, max, &page);
    if (st != CAIRN_OK) {
        trk_fail_status(c, st);
        return;
    }
    if (page->n) {
        cn_jsonw_key(&c->w, "metrics");
        cn_jsonw_array_begin(&c->w);
        for (size_t i = 0; i < page->n; i++)
            write_point(&c->w, &page->items[i], key, NULL);
        cn_jsonw_array_end(&c->w);
    }
    if (page->next_page_token)
        cn_jsonw_kstring(&c->w, "next_page_token", page->next_page_token);
    cairn_metric_page_free(page);
}

/* Every point of (run, key), page after page; *pts grows. */
typedef struct series {
    const char *run_id;
    cairn_metric *pts;
    size_t n, cap;
} series;

static bool read_series(trk_call *c, const char *run_id, const char *key, size_t limit, series *s)
{
    char *token = NULL;
    s->run_id = run_id;
    for (;;) {
        cairn_metric_page *page = NULL;
        cairn_status st = cairn_run_metric_history(c->ctx, run_id, key, token, 25000, &page);
        free(token);
        token = NULL;
        if (st != CAIRN_OK)
            return trk_fail_status(c, st);
        if (s->n + page->n > limit) {
            cairn_metric_page_free(page);
            return trk_fail(c, 400, "INVALID_PARAMETER_VALUE",
                            "metric '%s' of run %s has more than %zu points; ask for a step "
                            "range or fewer runs",
                            key, run_id, limit);
        }
        if (s->n + page->n > s->cap) {
            s->cap = (s->n + page->n) * 2;
            s->pts = cn_xrealloc(s->pts, s->cap * sizeof *s->pts);
        }
        for (size_t i = 0; i < page->n; i++) {
            s->pts[s->n] = page->items[i];
            s->pts[s->n++].key = NULL; /* the key string belongs to the page */
        }
        if (page->next_page_token)
            token = cn_xstrdup(page->next_page_token);
        cairn_metric_page_free(page);
        if (!token)
            return true;
    }
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static bool has_step(const int64_t *steps, size_t n, int64_t step)
{
    return bsearch(&step, steps, n, sizeof *steps, cmp_i64) != NULL;
}

/* MLflow's sampled history: the steps logged across the runs within [start, end]; over
 * max_results of them, max_results evenly spaced ones plus each run's first and last; then
 * every point at a kept step. */
static void metrics_get_history_bulk_interval(trk_call *c)
{
    const char **runs = NULL, *key;
    size_t n_runs = 0;
    int64_t start = 0, end = 0, max = 2500;
    bool has_start, has_end;
    series *ss = NULL;
    int64_t *steps = NULL, *keep = NULL;
    size_t n_steps = 0, n_keep = 0;
    if (!trk_str_list(c, "run_ids", &runs, &n_runs))
        return;
    if (!trk_str(c, "metric_key", true, &key) ||
        !trk_int64(c, "start_step", false, &start, &has_start) ||
        !trk_int64(c, "end_step", false, &end, &has_end) || !max_results(c, 2500, 2500, &max))
        goto done;
    if (n_runs == 0) {
        trk_fail(c, 400, "INVALID_PARAMETER_VALUE",
                 "Missing value for required parameter 'run_ids'");
        goto done;
    }
    if (n_runs > 100) {
        trk_fail(c, 400, "INVALID_PARAMETER_VALUE",
                 "GetMetricHistoryBulkInterval request must specify at most 100 run_ids. "
                 "Received %zu run_ids.",
                 n_runs);
        goto done;
    }
    if (has_start != has_end) {
        trk_fail(c, 400, "INVALID_PARAMETER_VALUE",
                 "If either start step or end step are specified, both must be specified.");
        goto done;
    }
    if (has_start && end < start) {
        trk_fail(c, 400, "INVALID_PARAMETER_VALUE", "end_step %lld is before start_step %lld",
                 (long long)end, (long long)start);
        goto done;
    }
    ss = cn_xcalloc(n_runs, sizeof *ss);
    size_t total = 0;
    for (size_t r = 0; r < n_runs; r++) {
        if (!read_series(c, runs[r], key, 10000000, &ss[r]))
            goto done;
        total += ss[r].n;
    }
    steps = cn_xmalloc((total ? total : 1) * sizeof *steps);
    for (size_t r = 0; r < n_runs; r++)
        for (size_t i = 0; i < ss[r].n; i++)
            if (!has_start || (ss[r].pts[i].step >= start && ss[r].pts[i].step <= end))
                steps[n_steps++] = ss[r].pts[i].step;
    qsort(steps, n_steps, sizeof *steps, cmp_i64);
    size_t u = 0;
    for (size_t i = 0; i < n_steps; i++)
        if (u == 0 || steps[i] != steps[u - 1])
            steps[u++] = steps[i];
    n_steps = u;
    keep = cn_xmalloc((n_steps + 2 * n_runs + 1) * sizeof *keep);
    if (n_steps <= (size_t)max) {
        memcpy(keep, steps, n_steps * sizeof *keep);
        n_keep = n_steps;
    } else {
        for (int64_t i = 0; i < max; i++) {
            size_t at = (size_t)((double)i * (double)(n_steps - 1) / (double)(max - 1) + 0.5);
            keep[n_keep++] = steps[at];
        }
        for (size_t r = 0; r < n_runs; r++) {
            int64_t lo = INT64_MAX, hi = INT64_MIN;
            for (size_t i = 0; i < ss[r].n; i++) {
                int64_t st = ss[r].pts[i].step;
                if (has_start && (st < start || st > end))
                    continue;
                lo = st < lo ? st : lo;
                hi = st > hi ? st : hi;
            }
            if (lo <= hi) {
                keep[n_keep++] = lo;
                keep[n_keep++] = hi;
            }
        }
        qsort(keep, n_keep, sizeof *keep, cmp_i64);
        u = 0;
        for (size_t i = 0; i < n_keep; i++)
            if (u == 0 || keep[i] != keep[u - 1])
                keep[u++] = keep[i];
        n_keep = u;
    }
    cn_jsonw_key(&c->w, "metrics");
    cn_jsonw_array_begin(&c->w);
    for (size_t r = 0; r < n_runs; r++)
        for (size_t i = 0; i < ss[r].n; i++)
            if (has_step(keep, n_keep, ss[r].pts[i].step))
                write_point(&c->w, &ss[r].pts[i], key, ss[r].run_id);
    cn_jsonw_array_end(&c->w);
done:
    for (size_t r = 0; ss && r < n_runs; r++)
        free(ss[r].pts);
    free(ss);
    free(steps);
    free(keep);
    free(runs);
}

/* The UI's older bulk history: every point of up to 100 runs, at most 25,000 in all. */
static void metrics_get_history_bulk(trk_call *c)
{
    const char **runs = NULL, *key;
    size_t n_runs = 0;
    if (!trk_str_list(c, "run_id", &runs, &n_runs))
        return;
    if (!trk_str(c, "metric_key", true, &key))
        goto out;
    if (n_runs == 0 || n_runs > 100) {
        trk_fail(c, 400, "INVALID_PARAMETER_VALUE",
                 "GetMetricHistoryBulk takes 1 to 100 run_id parameters (got %zu)", n_runs);
        goto out;
    }
    cn_jsonw_key(&c->w, "metrics");
    cn_jsonw_array_begin(&c->w);
    size_t left = 25000;
    for (size_t r = 0; r < n_runs && left > 0; r++) {
        series s = {0};
        if (!read_series(c, runs[r], key, 10000000, &s)) {
            free(s.pts);
            goto out;
        }
        for (size_t i = 0; i < s.n && left > 0; i++, left--)
            write_point(&c->w, &s.pts[i], key, runs[r]);
        free(s.pts);
    }
    cn_jsonw_array_end(&c->w);
out:
    free(runs);
}

static void runs_log_inputs(trk_call *c)
{
    const char *id;
    if (!trk_run_id(c, &id))
        return;
    json_t *arr = body_field(c, "datasets");
    if (arr && !json_is_array(arr)) {
        trk_fail(c, 400, "INVALID_PARAMETER_VALUE",
                 "Invalid value for parameter 'datasets': expected a list");
        return;
    }
    size_t n = arr ? json_array_size(arr) : 0;
    cairn_dataset_input *in = cn_xcalloc(n ? n : 1, sizeof *in);
    for (size_t i = 0; i < n; i++) {
        json_t *e = json_array_get(arr, i), *d;
        if (!json_is_object(e) || !json_is_object(d = json_object_get(e, "dataset"))) {
            trk_fail(c, 400, "INVALID_PARAMETER_VALUE",
                     "datasets[%zu] must be an object with a 'dataset' object", i);
            goto done;
        }
        cairn_dataset_input *x = &in[i];
        if (!trk_obj_str(c, d, "name", "dataset", true, &x->name) ||
            !trk_obj_str(c, d, "digest", "dataset", true, &x->digest) ||
            !trk_obj_str(c, d, "source_type", "dataset", false, &x->source_type) ||
            !trk_obj_str(c, d, "source", "dataset", false, &x->source) ||
            !trk_obj_str(c, d, "schema", "dataset", false, &x->schema) ||
            !trk_obj_str(c, d, "profile", "dataset", false, &x->profile))
            goto done;
        cairn_tag *tags = NULL;
        size_t n_tags = 0;
        if (!trk_kv_list(c, json_object_get(e, "tags"), "dataset tags", &tags, &n_tags))
            goto done;
        for (size_t k = 0; k < n_tags; k++) {
            if (strcmp(tags[k].key, "mlflow.data.context") == 0)
                x->context = tags[k].value;
            /* A digest cut to MLflow's 36 characters by a client (cairn's remote store), with
             * the whole in this tag: this server keeps digests whole (docs/rest.md). */
            if (strcmp(tags[k].key, "cairn.digest") == 0 &&
                strncmp(tags[k].value, x->digest, strlen(x->digest)) == 0)
                x->digest = tags[k].value;
        }
        free(tags);
    }
    cairn_status st = n ? cairn_runs_log_inputs(c->ctx, id, in, n) : CAIRN_OK;
    if (st == CAIRN_OK && n == 0) { /* still 404 for an unknown run */
        cairn_run_record *r = NULL;
        st = cairn_run_get(c->ctx, id, &r);
        cairn_run_record_free(r);
    }
    if (st != CAIRN_OK)
        trk_fail_status(c, st);
done:
    free(in);
}

/* 2.x log_model: appends the model's JSON to the tag mlflow.log-model.history. */
static void runs_log_model(trk_call *c)
{
    const char *id, *model;
    if (!trk_run_id(c, &id) || !trk_str(c, "model_json", true, &model))
        return;
    json_error_t jerr;
    json_t *m = json_loads(model, 0, &jerr);
    if (!m || !json_is_object(m)) {
        json_decref(m);
        trk_fail(c, 400, "INVALID_PARAMETER_VALUE", "model_json is not a JSON object: %s",
                 m ? "another type" : jerr.text);
        return;
    }
    cairn_run_record *r = NULL;
    cairn_status st = cairn_run_get(c->ctx, id, &r);
    if (st != CAIRN_OK) {
        json_decref(m);
        trk_fail_status(c, st);
        return;
    }
    json_t *hist = NULL;
    for (size_t i = 0; i < r->n_tags; i++)
        if (strcmp(r->tags[i].key, "mlflow.log-model.history") == 0)
            hist = json_loads(r->tags[i].value, 0, NULL);
    cairn_run_record_free(r);
    if (!hist || !json_is_array(hist)) {
        json_decref(hist);
        hist = json_array();
    }
    json_array_append_new(hist, m);
    char *text = json_dumps(hist, JSON_COMPACT);
    json_decref(hist);
    st = cairn_runs_set_tag(c->ctx, id, "mlflow.log-model.history", text);
    free(text);
    if (st != CAIRN_OK)
        trk_fail_status(c, st);
}

/* cairn's own: a remote run handle's heartbeat (docs/remote.md), so the server's store can
 * report a run whose process died as lost. */
static void cairn_runs_heartbeat_route(trk_call *c)
{
    const char *id;
    int64_t beat = 0, interval = 0;
    if (!trk_run_id(c, &id) || !trk_int64(c, "beat_ms", true, &beat, NULL) ||
        !trk_int64(c, "interval_ms", false, &interval, NULL))
        return;
    cairn_status st = cairn_runs_heartbeat(c->ctx, id, beat, interval);
    if (st != CAIRN_OK)
        trk_fail_status(c, st);
}

const trk_route trk_tracking_routes[] = {
    {"mlflow/experiments/create", TRK_POST, experiments_create},
    {"mlflow/experiments/get", TRK_GET, experiments_get},
    {"mlflow/experiments/get-by-name", TRK_GET, experiments_get_by_name},
    {"mlflow/experiments/search", TRK_GET | TRK_POST, experiments_search},
    {"mlflow/experiments/list", TRK_GET, experiments_search},
    {"mlflow/experiments/delete", TRK_POST, experiments_delete},
    {"mlflow/experiments/restore", TRK_POST, experiments_restore},
    {"mlflow/experiments/update", TRK_POST, experiments_update},
    {"mlflow/experiments/set-experiment-tag", TRK_POST, experiments_set_tag},
    {"mlflow/experiments/delete-experiment-tag", TRK_POST, experiments_delete_tag},
    {"mlflow/runs/create", TRK_POST, runs_create},
    {"mlflow/runs/get", TRK_GET, runs_get},
    {"mlflow/runs/update", TRK_POST, runs_update},
    {"mlflow/runs/delete", TRK_POST, runs_delete},
    {"mlflow/runs/restore", TRK_POST, runs_restore},
    {"mlflow/runs/log-metric", TRK_POST, runs_log_metric},
    {"mlflow/runs/log-parameter", TRK_POST, runs_log_parameter},
    {"mlflow/runs/log-batch", TRK_POST, runs_log_batch},
    {"mlflow/runs/set-tag", TRK_POST, runs_set_tag},
    {"mlflow/runs/delete-tag", TRK_POST, runs_delete_tag},
    {"mlflow/runs/search", TRK_POST | TRK_GET, runs_search},
    {"mlflow/runs/log-inputs", TRK_POST, runs_log_inputs},
    {"mlflow/runs/log-model", TRK_POST, runs_log_model},
    {"mlflow/metrics/get-history", TRK_GET, metrics_get_history},
    {"mlflow/metrics/get-history-bulk", TRK_GET, metrics_get_history_bulk},
    {"mlflow/metrics/get-history-bulk-interval", TRK_GET, metrics_get_history_bulk_interval},
    {"mlflow/artifacts/list", TRK_GET, trk_route_artifacts_list},
    {"mlflow/runs/outputs", TRK_POST, trk_route_runs_outputs},
    {"cairn/runs/heartbeat", TRK_POST, cairn_runs_heartbeat_route},
};
const size_t trk_n_tracking_routes = sizeof trk_tracking_routes / sizeof trk_tracking_routes[0];
