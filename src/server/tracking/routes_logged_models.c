/* SPDX-License-Identifier: MIT */
/* routes_logged_models.c - MLflow 3.x logged models (/api/2.0/mlflow/logged-models...) and
 * runs/outputs, over cairn/logged_model.h. Their paths carry the model id, so they are matched
 * here rather than in a fixed table. */
#include <stdlib.h>
#include <string.h>
#include "cairn/logged_model.h"
#include "tracking/trk.h"
#include "base/str.h"
#include "base/xmalloc.h"
#include "base/banned.h"

static void write_model(trk_call *c, const cairn_logged_model *m)
{
    cn_jsonw *w = &c->w;
    cn_jsonw_object_begin(w);
    cn_jsonw_key(w, "info");
    cn_jsonw_object_begin(w);
    cn_jsonw_kstring(w, "model_id", m->model_id);
    cn_jsonw_kstring(w, "experiment_id", m->experiment_id);
    cn_jsonw_kstring(w, "name", m->name);
    cn_jsonw_kint(w, "creation_timestamp_ms", m->creation_time_ms);
    cn_jsonw_kint(w, "last_updated_timestamp_ms", m->last_updated_time_ms);
    char *uri = trk_artifact_uri(c->app, m->artifact_location);
    cn_jsonw_kstring(w, "artifact_uri", uri);
    free(uri);
    cn_jsonw_kstring(w, "status", cairn_logged_model_status_str(m->status));
    if (m->model_type && *m->model_type)
        cn_jsonw_kstring(w, "model_type", m->model_type);
    if (m->source_run_id && *m->source_run_id)
        cn_jsonw_kstring(w, "source_run_id", m->source_run_id);
    if (m->status_message && *m->status_message)
        cn_jsonw_kstring(w, "status_message", m->status_message);
    trk_write_tags(w, "tags", m->tags, m->n_tags);
    if (m->n_registrations) {
        cn_jsonw_key(w, "registrations");
        cn_jsonw_array_begin(w);
        for (size_t i = 0; i < m->n_registrations; i++) {
            char num[32];
            snprintf(num, sizeof num, "%lld", (long long)m->registrations[i].version);
            cn_jsonw_object_begin(w);
            cn_jsonw_kstring(w, "name", m->registrations[i].name);
            cn_jsonw_kstring(w, "version", num);
            cn_jsonw_object_end(w);
        }
        cn_jsonw_array_end(w);
    }
    cn_jsonw_object_end(w);
    cn_jsonw_key(w, "data");
    cn_jsonw_object_begin(w);
    trk_write_tags(w, "params", m->params, m->n_params);
    if (m->n_metrics) {
        cn_jsonw_key(w, "metrics");
        cn_jsonw_array_begin(w);
        for (size_t i = 0; i < m->n_metrics; i++) {
            const cairn_logged_model_metric *x = &m->metrics[i];
            cn_jsonw_object_begin(w);
            cn_jsonw_kstring(w, "key", x->key);
            cn_jsonw_kdouble(w, "value", x->value);
            cn_jsonw_kint(w, "timestamp", x->timestamp_ms);
            cn_jsonw_kint(w, "step", x->step);
            if (x->run_id && *x->run_id)
                cn_jsonw_kstring(w, "run_id", x->run_id);
            if (x->dataset_name && *x->dataset_name)
                cn_jsonw_kstring(w, "dataset_name", x->dataset_name);
            if (x->dataset_digest && *x->dataset_digest)
                cn_jsonw_kstring(w, "dataset_digest", x->dataset_digest);
            cn_jsonw_kstring(w, "model_id", m->model_id);
            cn_jsonw_object_end(w);
        }
        cn_jsonw_array_end(w);
    }
    cn_jsonw_object_end(w);
    cn_jsonw_object_end(w);
}

static bool write_model_by_id(trk_call *c, const char *id)
{
    cairn_logged_model *m = NULL;
    cairn_status st = cairn_logged_model_get(c->ctx, id, &m);
    if (st != CAIRN_OK)
        return trk_fail_status(c, st);
    cn_jsonw_key(&c->w, "model");
    write_model(c, m);
    cairn_logged_model_free(m);
    return true;
}

static void create(trk_call *c)
{
    cairn_logged_model_opts o = CAIRN_LOGGED_MODEL_OPTS_INIT;
    cairn_tag *tags = NULL, *params = NULL;
    size_t n_tags = 0, n_params = 0;
    if (!trk_str(c, "experiment_id", true, &o.experiment_id) ||
        !trk_str(c, "name", false, &o.name) || !trk_str(c, "model_type", false, &o.model_type) ||
        !trk_str(c, "source_run_id", false, &o.source_run_id) ||
        !trk_kv_list(c, json_object_get(c->in, "tags"), "tags", &tags, &n_tags) ||
        !trk_kv_list(c, json_object_get(c->in, "params"), "params", &params, &n_params))
        goto done;
    if (o.source_run_id && !*o.source_run_id)
        o.source_run_id = NULL;
    o.creator = c->user;
    o.tags = tags;
    o.n_tags = n_tags;
    o.params = params;
    o.n_params = n_params;
    cairn_logged_model *m = NULL;
    cairn_status st = cairn_logged_model_create(c->ctx, &o, &m);
    if (st != CAIRN_OK) {
        trk_fail_status(c, st);
        goto done;
    }
    cn_jsonw_key(&c->w, "model");
    write_model(c, m);
    cairn_logged_model_free(m);
done:
    free(tags);
    free(params);
}

static void search(trk_call *c)
{
    cairn_logged_model_query q = CAIRN_LOGGED_MODEL_QUERY_INIT;
    const char **exps = NULL;
    size_t n_exps = 0;
    char **order = NULL;
    size_t n_order = 0;
    bool present;
    if (!trk_str_list(c, "experiment_ids", &exps, &n_exps) ||
        !trk_str(c, "filter", false, &q.filter) ||
        !trk_str(c, "page_token", false, &q.page_token) ||
        !trk_int64(c, "max_results", false, &q.max_results, &present))
        goto done;
    json_t *ds = json_object_get(c->in, "datasets");
    if (ds && json_is_array(ds) && json_array_size(ds) > 0) {
        trk_fail(c, 400, "INVALID_PARAMETER_VALUE",
                 "searching logged models by dataset is not supported by this server");
        goto done;
    }
    json_t *ob = json_object_get(c->in, "order_by");
    if (ob && json_is_array(ob)) {
        size_t n = json_array_size(ob);
        order = cn_xcalloc(n ? n : 1, sizeof *order);
        for (size_t i = 0; i < n; i++) {
            json_t *e = json_array_get(ob, i);
            const char *field = NULL;
            if (json_is_string(e)) {
                order[n_order++] = cn_xstrdup(json_string_value(e));
                continue;
            }
            if (!json_is_object(e) || !trk_obj_str(c, e, "field_name", "order_by", true, &field))
                goto done;
            json_t *asc = json_object_get(e, "ascending");
            bool up = !asc || json_is_true(asc);
            order[n_order++] = cn_asprintf("%s %s", field, up ? "ASC" : "DESC");
        }
    }
    if (q.filter && !*q.filter)
        q.filter = NULL;
    if (q.page_token && !*q.page_token)
        q.page_token = NULL;
    q.experiment_ids = exps;
    q.n_experiment_ids = n_exps;
    q.order_by = (const char *const *)order;
    q.n_order_by = n_order;
    cairn_logged_model_page *page = NULL;
    cairn_status st = cairn_logged_models_search(c->ctx, &q, &page);
    if (st != CAIRN_OK) {
        trk_fail_status(c, st);
        goto done;
    }
    /* Only what the user may read (everything without --auth); no empty list. */
    bool *keep = cn_xcalloc(page->n ? page->n : 1, sizeof *keep);
    size_t n_keep = 0;
    for (size_t i = 0; i < page->n; i++)
        n_keep += keep[i] =
            trk_auth_can_read(c, CAIRN_AUTH_EXPERIMENT, page->items[i].experiment_id);
    if (n_keep) {
        cn_jsonw_key(&c->w, "models");
        cn_jsonw_array_begin(&c->w);
        for (size_t i = 0; i < page->n; i++)
            if (keep[i])
                write_model(c, &page->items[i]);
        cn_jsonw_array_end(&c->w);
    }
    free(keep);
    if (page->next_page_token)
        cn_jsonw_kstring(&c->w, "next_page_token", page->next_page_token);
    cairn_logged_model_page_free(page);
done:
    free(exps);
    for (size_t i = 0; i < n_order; i++)
        free(order[i]);
    free(order);
}

static void finalize(trk_call *c, const char *id)
{
    const char *status, *msg;
    if (!trk_str(c, "status", true, &status) || !trk_str(c, "status_message", false, &msg))
        return;
    cairn_logged_model_status s;
    if (cairn_logged_model_status_parse(c->ctx, status, &s) != CAIRN_OK) {
        trk_fail_status(c, CAIRN_EINVAL);
        return;
    }
    cairn_status st = cairn_logged_model_finalize(c->ctx, id, s, msg);
    if (st != CAIRN_OK) {
        trk_fail_status(c, st);
        return;
    }
    write_model_by_id(c, id);
}

static void set_tags(trk_call *c, const char *id)
{
    cairn_tag *tags = NULL;
    size_t n = 0;
    if (!trk_kv_list(c, json_object_get(c->in, "tags"), "tags", &tags, &n))
        return;
    cairn_status st = cairn_logged_model_set_tags(c->ctx, id, tags, n);
    free(tags);
    if (st != CAIRN_OK)
        trk_fail_status(c, st);
}

static void log_params(trk_call *c, const char *id)
{
    cairn_tag *params = NULL;
    size_t n = 0;
    if (!trk_kv_list(c, json_object_get(c->in, "params"), "params", &params, &n))
        return;
    cairn_status st = cairn_logged_model_log_params(c->ctx, id, params, n);
    free(params);
    if (st != CAIRN_OK)
        trk_fail_status(c, st);
}

static void directories(trk_call *c, const char *id)
{
    const char *path;
    if (!trk_str(c, "path", false, &path))
        return;
    cairn_logged_model *m = NULL;
    cairn_status st = cairn_logged_model_get(c->ctx, id, &m);
    if (st != CAIRN_OK) {
        trk_fail_status(c, st);
        return;
    }
    trk_artifacts_list_local(c, m->artifact_location, path);
    cairn_logged_model_free(m);
}

void trk_logged_models_route(trk_call *c, const char *rest, unsigned method)
{
    /* rest: "" | "/search" | "/<id>" | "/<id>/tags" | "/<id>/tags/<key>" | "/<id>/params" |
     * "/<id>/artifacts/directories" */
    if (!*rest) {
        if (method == TRK_POST)
            create(c);
        else
            trk_fail(c, 405, "ENDPOINT_NOT_FOUND", "logged-models takes POST to create");
        return;
    }
    if (strcmp(rest, "/search") == 0) {
        if (method == TRK_POST || method == TRK_GET)
            search(c);
        else
            trk_fail(c, 405, "ENDPOINT_NOT_FOUND", "logged-models/search takes POST");
        return;
    }
    const char *id0 = rest + 1, *slash = strchr(id0, '/');
    char *id = slash ? cn_xstrndup(id0, (size_t)(slash - id0)) : cn_xstrdup(id0);
    const char *sub = slash ? slash : "";
    if (!*id) {
        trk_fail(c, 404, "ENDPOINT_NOT_FOUND", "no API endpoint here: a model id is missing");
    } else if (!*sub && method == TRK_GET) {
        write_model_by_id(c, id);
    } else if (!*sub && method == TRK_PATCH) {
        finalize(c, id);
    } else if (!*sub && method == TRK_DELETE) {
        cairn_status st = cairn_logged_model_delete(c->ctx, id);
        if (st != CAIRN_OK)
            trk_fail_status(c, st);
    } else if (strcmp(sub, "/tags") == 0 && (method == TRK_PATCH || method == TRK_POST)) {
        set_tags(c, id);
    } else if (cn_str_starts(sub, "/tags/") && sub[6] && method == TRK_DELETE) {
        cairn_status st = cairn_logged_model_delete_tag(c->ctx, id, sub + 6);
        if (st != CAIRN_OK)
            trk_fail_status(c, st);
    } else if (strcmp(sub, "/params") == 0 && method == TRK_POST) {
        log_params(c, id);
    } else if (strcmp(sub, "/artifacts/directories") == 0 && method == TRK_GET) {
        directories(c, id);
    } else {
        trk_fail(c, 404, "ENDPOINT_NOT_FOUND", "no API endpoint at %.200s", c->req->path);
    }
    free(id);
}

/* POST runs/outputs: links logged models to the run (3.x log_model). */
void trk_route_runs_outputs(trk_call *c)
{
    const char *id;
    if (!trk_run_id(c, &id))
        return;
    json_t *arr = json_object_get(c->in, "models");
    if (arr && !json_is_array(arr)) {
        trk_fail(c, 400, "INVALID_PARAMETER_VALUE", "'models' must be a list");
        return;
    }
    size_t n = arr ? json_array_size(arr) : 0;
    cairn_run_output *out = cn_xcalloc(n ? n : 1, sizeof *out);
    for (size_t i = 0; i < n; i++) {
        json_t *e = json_array_get(arr, i), *step;
        if (!json_is_object(e) || !trk_obj_str(c, e, "model_id", "models", true, &out[i].model_id))
            goto done;
        if ((step = json_object_get(e, "step")) && !json_is_null(step) &&
            !trk_json_int64(c, step, "step", &out[i].step))
            goto done;
    }
    cairn_status st = cairn_runs_log_outputs(c->ctx, id, out, n);
    if (st != CAIRN_OK)
        trk_fail_status(c, st);
done:
    free(out);
}
