/* SPDX-License-Identifier: MIT */
/* write.c - entities as MLflow's JSON: proto field names, int64 as numbers, empty fields
 * omitted, NaN and infinities as the strings "NaN", "Infinity", "-Infinity". */
#include <stdlib.h>
#include <string.h>
#include "tracking/trk.h"
#include "base/str.h"
#include "base/xmalloc.h"
#include "base/banned.h"

char *trk_artifact_uri(const trk_app *app, const char *local)
{
    const char *root = trk_artifact_root(app);
    size_t n = strlen(root);
    if (local && strncmp(local, root, n) == 0 && (local[n] == '/' || local[n] == '\0')) {
        const char *rel = local + n;
        while (*rel == '/')
            rel++;
        return cn_asprintf("mlflow-artifacts:/%s", rel);
    }
    return cn_xstrdup(local ? local : "");
}

void trk_write_tags(cn_jsonw *w, const char *key, const cairn_tag *tags, size_t n)
{
    if (n == 0)
        return;
    cn_jsonw_key(w, key);
    cn_jsonw_array_begin(w);
    for (size_t i = 0; i < n; i++) {
        cn_jsonw_object_begin(w);
        cn_jsonw_kstring(w, "key", tags[i].key);
        cn_jsonw_kstring(w, "value", tags[i].value ? tags[i].value : "");
        cn_jsonw_object_end(w);
    }
    cn_jsonw_array_end(w);
}

void trk_write_experiment(trk_call *c, const cairn_experiment *e)
{
    cn_jsonw *w = &c->w;
    cn_jsonw_object_begin(w);
    cn_jsonw_kstring(w, "experiment_id", e->experiment_id);
    cn_jsonw_kstring(w, "name", e->name);
    char *loc = trk_artifact_uri(c->app, e->artifact_location);
    cn_jsonw_kstring(w, "artifact_location", loc);
    free(loc);
    cn_jsonw_kstring(w, "lifecycle_stage", e->is_deleted ? "deleted" : "active");
    cn_jsonw_kint(w, "last_update_time", e->last_update_time_ms);
    cn_jsonw_kint(w, "creation_time", e->creation_time_ms);
    trk_write_tags(w, "tags", e->tags, e->n_tags);
    cn_jsonw_object_end(w);
}

void trk_write_run_info(trk_call *c, const cairn_run_info *info)
{
    cn_jsonw *w = &c->w;
    cn_jsonw_object_begin(w);
    cn_jsonw_kstring(w, "run_id", info->run_id);
    cn_jsonw_kstring(w, "run_uuid", info->run_id);
    if (info->run_name && *info->run_name)
        cn_jsonw_kstring(w, "run_name", info->run_name);
    cn_jsonw_kstring(w, "experiment_id", info->experiment_id);
    if (info->user_id && *info->user_id)
        cn_jsonw_kstring(w, "user_id", info->user_id);
    cn_jsonw_kstring(w, "status", cairn_run_status_str(info->status));
    cn_jsonw_kint(w, "start_time", info->start_time_ms);
    if (info->end_time_ms)
        cn_jsonw_kint(w, "end_time", info->end_time_ms);
    char *uri = trk_artifact_uri(c->app, info->artifact_uri);
    cn_jsonw_kstring(w, "artifact_uri", uri);
    free(uri);
    cn_jsonw_kstring(w, "lifecycle_stage", info->is_deleted ? "deleted" : "active");
    cn_jsonw_object_end(w);
}

void trk_write_run(trk_call *c, const cairn_run_record *r)
{
    cn_jsonw *w = &c->w;
    cn_jsonw_object_begin(w);
    cn_jsonw_key(w, "info");
    trk_write_run_info(c, &r->info);
    cn_jsonw_key(w, "data");
    cn_jsonw_object_begin(w);
    if (r->n_metrics) {
        cn_jsonw_key(w, "metrics");
        cn_jsonw_array_begin(w);
        for (size_t i = 0; i < r->n_metrics; i++) {
            const cairn_metric *m = &r->metrics[i];
            cn_jsonw_object_begin(w);
            cn_jsonw_kstring(w, "key", m->key);
            cn_jsonw_kdouble(w, "value", m->value);
            cn_jsonw_kint(w, "timestamp", m->timestamp_ms);
            cn_jsonw_kint(w, "step", m->step);
            cn_jsonw_object_end(w);
        }
        cn_jsonw_array_end(w);
    }
    trk_write_tags(w, "params", r->params, r->n_params);
    trk_write_tags(w, "tags", r->tags, r->n_tags);
    cn_jsonw_object_end(w);
    cn_jsonw_key(w, "inputs");
    cn_jsonw_object_begin(w);
    if (r->n_inputs) {
        cn_jsonw_key(w, "dataset_inputs");
        cn_jsonw_array_begin(w);
        for (size_t i = 0; i < r->n_inputs; i++) {
            const cairn_dataset_input *d = &r->inputs[i];
            cn_jsonw_object_begin(w);
            if (d->context && *d->context) {
                cairn_tag t = {"mlflow.data.context", d->context};
                trk_write_tags(w, "tags", &t, 1);
            }
            cn_jsonw_key(w, "dataset");
            cn_jsonw_object_begin(w);
            cn_jsonw_kstring(w, "name", d->name);
            cn_jsonw_kstring(w, "digest", d->digest);
            if (d->source_type && *d->source_type)
                cn_jsonw_kstring(w, "source_type", d->source_type);
            if (d->source && *d->source)
                cn_jsonw_kstring(w, "source", d->source);
            if (d->schema && *d->schema)
                cn_jsonw_kstring(w, "schema", d->schema);
            if (d->profile && *d->profile)
                cn_jsonw_kstring(w, "profile", d->profile);
            cn_jsonw_object_end(w);
            cn_jsonw_object_end(w);
        }
        cn_jsonw_array_end(w);
    }
    cn_jsonw_object_end(w);
    cn_jsonw_object_end(w);
}

static void write_version_fields(trk_call *c, const cairn_model_version *v, bool aliases)
{
    cn_jsonw *w = &c->w;
    char num[32];
    snprintf(num, sizeof num, "%lld", (long long)v->version);
    cn_jsonw_kstring(w, "name", v->name);
    cn_jsonw_kstring(w, "version", num);
    cn_jsonw_kint(w, "creation_timestamp", v->creation_time_ms);
    cn_jsonw_kint(w, "last_updated_timestamp", v->last_updated_time_ms);
    if (v->user_id && *v->user_id)
        cn_jsonw_kstring(w, "user_id", v->user_id);
    cn_jsonw_kstring(w, "current_stage", cairn_model_stage_str(v->stage));
    cn_jsonw_kstring(w, "description", v->description ? v->description : "");
    char *src = trk_artifact_uri(c->app, v->source);
    cn_jsonw_kstring(w, "source", src);
    free(src);
    if (v->run_id && *v->run_id)
        cn_jsonw_kstring(w, "run_id", v->run_id);
    cn_jsonw_kstring(w, "status", v->status ? v->status : "READY");
    cn_jsonw_kstring(w, "run_link", "");
    trk_write_tags(w, "tags", v->tags, v->n_tags);
    if (aliases && v->n_aliases) {
        cn_jsonw_key(w, "aliases");
        cn_jsonw_strings(w, v->aliases, v->n_aliases);
    }
    if (v->semver) /* cairn's own field; MLflow clients ignore unknown fields */
        cn_jsonw_kstring(w, "semver", v->semver);
}

void trk_write_model_version(trk_call *c, const cairn_model_version *v)
{
    cn_jsonw_object_begin(&c->w);
    write_version_fields(c, v, true);
    cn_jsonw_object_end(&c->w);
}

void trk_write_registered_model(trk_call *c, const cairn_registered_model *m)
{
    cn_jsonw *w = &c->w;
    cn_jsonw_object_begin(w);
    cn_jsonw_kstring(w, "name", m->name);
    cn_jsonw_kint(w, "creation_timestamp", m->creation_time_ms);
    cn_jsonw_kint(w, "last_updated_timestamp", m->last_updated_time_ms);
    if (m->description && *m->description)
        cn_jsonw_kstring(w, "description", m->description);
    /* latest_versions: the newest version of each stage, as MLflow lists them. */
    if (m->latest_version > 0 && c->ctx) {
        cairn_model_version *latest[4] = {0};
        for (int64_t v = m->latest_version; v >= 1; v--) {
            cairn_model_version *mv = NULL;
            if (cairn_model_version_get(c->ctx, m->name, v, &mv) != CAIRN_OK)
                continue;
            if (strcmp(mv->status ? mv->status : "READY", "DELETED") == 0 || latest[mv->stage]) {
                cairn_model_version_free(mv);
            } else {
                latest[mv->stage] = mv;
            }
            if (latest[0] && latest[1] && latest[2] && latest[3])
                break;
            if (m->latest_version - v > 64) /* bounded: old stages are found by search */
                break;
        }
        bool any = false;
        for (int s = 0; s < 4; s++)
            any |= latest[s] != NULL;
        if (any) {
            cn_jsonw_key(w, "latest_versions");
            cn_jsonw_array_begin(w);
            for (int s = 0; s < 4; s++) {
                if (!latest[s])
                    continue;
                trk_write_model_version(c, latest[s]);
                cairn_model_version_free(latest[s]);
            }
            cn_jsonw_array_end(w);
        }
    }
    trk_write_tags(w, "tags", m->tags, m->n_tags);
    if (m->n_aliases) {
        cn_jsonw_key(w, "aliases");
        cn_jsonw_array_begin(w);
        for (size_t i = 0; i < m->n_aliases; i++) {
            char num[32];
            snprintf(num, sizeof num, "%lld", (long long)m->aliases[i].version);
            cn_jsonw_object_begin(w);
            cn_jsonw_kstring(w, "alias", m->aliases[i].alias);
            cn_jsonw_kstring(w, "version", num);
            cn_jsonw_object_end(w);
        }
        cn_jsonw_array_end(w);
    }
    cn_jsonw_object_end(w);
}
