/* SPDX-License-Identifier: MIT */
/* store_rest_decode.c - MLflow REST JSON (spec §2.3: snake_case names, int64 as numbers or
 * strings, NaN and infinities as strings, empty fields omitted) into cairn's public result
 * types, strings copied into the result's arena. Missing members read as empty. */
#include <string.h>
#include "core/core.h"
#include "store/store_rest.h"
#include "base/banned.h"

static const char *str_or_empty(const cn_json *j, const char *key, cn_arena *a)
{
    const char *s = cn_json_member_str(j, key);
    return cn_arena_strdup(a, s ? s : "");
}

static const char *str_or_null(const cn_json *j, const char *key, cn_arena *a)
{
    const char *s = cn_json_member_str(j, key);
    return s ? cn_arena_strdup(a, s) : NULL;
}

static int64_t int_or_zero(const cn_json *j, const char *key)
{
    int64_t v;
    cn_json_member_int64(j, key, &v);
    return v;
}

void cn_rest_decode_tags(const cn_json *arr, cn_arena *a, cairn_tag **tags, size_t *n)
{
    size_t cap = 0;
    *tags = NULL;
    *n = 0;
    for (size_t i = 0; i < cn_json_array_size(arr); i++) {
        const cn_json *t = cn_json_array_get(arr, i);
        const char *key = cn_json_member_str(t, "key");
        if (!key)
            continue;
        *tags = cn_arena_grow(a, *tags, *n, &cap, sizeof **tags);
        (*tags)[*n].key = cn_arena_strdup(a, key);
        (*tags)[*n].value = str_or_empty(t, "value", a);
        (*n)++;
    }
}

void cn_rest_decode_array(const cn_json *obj, const char *key, cn_arena *a, size_t size,
                          cn_rest_decode_fn fn, void **items, size_t *n)
{
    const cn_json *arr = cn_json_object_get(obj, key);
    size_t count = cn_json_array_size(arr);
    *items = NULL;
    *n = 0;
    if (count == 0)
        return;
    *items = cn_arena_alloc(a, count * size);
    for (size_t i = 0; i < count; i++)
        fn(cn_json_array_get(arr, i), a, (char *)*items + i * size);
    *n = count;
}

void cn_rest_decode_experiment(const cn_json *j, cn_arena *a, cairn_experiment *out)
{
    memset(out, 0, sizeof *out);
    out->experiment_id = str_or_empty(j, "experiment_id", a);
    out->name = str_or_empty(j, "name", a);
    out->artifact_location = str_or_empty(j, "artifact_location", a);
    const char *stage = cn_json_member_str(j, "lifecycle_stage");
    out->is_deleted = stage && strcmp(stage, "deleted") == 0;
    out->creation_time_ms = int_or_zero(j, "creation_time");
    out->last_update_time_ms = int_or_zero(j, "last_update_time");
    cn_rest_decode_tags(cn_json_object_get(j, "tags"), a, &out->tags, &out->n_tags);
}

void cn_rest_decode_metric(const cn_json *j, cn_arena *a, cairn_metric *out)
{
    out->key = str_or_empty(j, "key", a);
    cn_json_member_double(j, "value", &out->value);
    out->timestamp_ms = int_or_zero(j, "timestamp");
    out->step = int_or_zero(j, "step");
}

static void decode_param(const cn_json *j, cn_arena *a, void *item)
{
    cairn_param *p = item;
    p->key = str_or_empty(j, "key", a);
    p->value = str_or_empty(j, "value", a);
}

static void decode_metric(const cn_json *j, cn_arena *a, void *item)
{
    cn_rest_decode_metric(j, a, item);
}

static void decode_input(const cn_json *j, cn_arena *a, void *item)
{
    cairn_dataset_input *in = item;
    const cn_json *d = cn_json_object_get(j, "dataset");
    in->name = str_or_empty(d, "name", a);
    in->digest = str_or_empty(d, "digest", a);
    in->source_type = str_or_empty(d, "source_type", a);
    in->source = str_or_empty(d, "source", a);
    in->schema = str_or_null(d, "schema", a);
    in->profile = str_or_null(d, "profile", a);
    const cn_json *tags = cn_json_object_get(j, "tags");
    for (size_t i = 0; i < cn_json_array_size(tags); i++) {
        const cn_json *t = cn_json_array_get(tags, i);
        const char *key = cn_json_member_str(t, "key");
        if (key && strcmp(key, "mlflow.data.context") == 0)
            in->context = str_or_null(t, "value", a);
        /* A digest shortened for MLflow's 36-character limit, whole again. */
        const char *full =
            key && strcmp(key, CN_REST_DIGEST_TAG) == 0 ? cn_json_member_str(t, "value") : NULL;
        if (full && strncmp(full, in->digest, strlen(in->digest)) == 0)
            in->digest = str_or_empty(t, "value", a);
    }
}

void cn_rest_decode_run(const cn_json *j, cn_arena *a, cairn_run_record *out)
{
    memset(out, 0, sizeof *out);
    const cn_json *info = cn_json_object_get(j, "info");
    const cn_json *data = cn_json_object_get(j, "data");
    cairn_run_info *ri = &out->info;
    const char *id = cn_json_member_str(info, "run_id");
    if (!id)
        id = cn_json_member_str(info, "run_uuid");
    ri->run_id = cn_arena_strdup(a, id ? id : "");
    ri->experiment_id = str_or_empty(info, "experiment_id", a);
    ri->run_name = str_or_empty(info, "run_name", a);
    ri->user_id = str_or_empty(info, "user_id", a);
    ri->artifact_uri = str_or_empty(info, "artifact_uri", a);
    const char *status = cn_json_member_str(info, "status");
    ri->status = CAIRN_RUN_RUNNING;
    for (int s = CAIRN_RUN_RUNNING; s <= CAIRN_RUN_KILLED; s++)
        if (status && strcmp(status, cairn_run_status_str((cairn_run_status)s)) == 0)
            ri->status = (cairn_run_status)s;
    ri->start_time_ms = int_or_zero(info, "start_time");
    ri->end_time_ms = int_or_zero(info, "end_time");
    const char *stage = cn_json_member_str(info, "lifecycle_stage");
    ri->is_deleted = stage && strcmp(stage, "deleted") == 0;
    cn_rest_decode_array(data, "metrics", a, sizeof(cairn_metric), decode_metric,
                         (void **)&out->metrics, &out->n_metrics);
    cn_rest_decode_array(data, "params", a, sizeof(cairn_param), decode_param,
                         (void **)&out->params, &out->n_params);
    cn_rest_decode_tags(cn_json_object_get(data, "tags"), a, &out->tags, &out->n_tags);
    for (size_t i = 0; i < out->n_tags; i++) {
        if (strcmp(out->tags[i].key, CN_STATUS_REASON_TAG) == 0)
            ri->status_reason = out->tags[i].value;
        if (!*ri->run_name && strcmp(out->tags[i].key, "mlflow.runName") == 0)
            ri->run_name = out->tags[i].value;
    }
    cn_rest_decode_array(cn_json_object_get(j, "inputs"), "dataset_inputs", a,
                         sizeof(cairn_dataset_input), decode_input, (void **)&out->inputs,
                         &out->n_inputs);
}

static cairn_model_stage stage_of(const char *text)
{
    for (int s = CAIRN_STAGE_NONE; text && s <= CAIRN_STAGE_ARCHIVED; s++)
        if (strcmp(text, cn_stage_names[s]) == 0)
            return (cairn_model_stage)s;
    return CAIRN_STAGE_NONE;
}

void cn_rest_decode_model(const cn_json *j, cn_arena *a, cairn_registered_model *out)
{
    memset(out, 0, sizeof *out);
    out->name = str_or_empty(j, "name", a);
    out->description = str_or_empty(j, "description", a);
    out->creation_time_ms = int_or_zero(j, "creation_timestamp");
    out->last_updated_time_ms = int_or_zero(j, "last_updated_timestamp");
    /* latest_versions holds the newest version of each stage: their maximum is the newest. */
    const cn_json *latest = cn_json_object_get(j, "latest_versions");
    for (size_t i = 0; i < cn_json_array_size(latest); i++) {
        int64_t v = int_or_zero(cn_json_array_get(latest, i), "version");
        if (v > out->latest_version)
            out->latest_version = v;
    }
    int64_t v;
    if (cn_json_member_int64(j, "latest_version", &v)) /* cairn's server says it outright */
        out->latest_version = v;
    cn_rest_decode_tags(cn_json_object_get(j, "tags"), a, &out->tags, &out->n_tags);
    const cn_json *aliases = cn_json_object_get(j, "aliases");
    size_t n = cn_json_array_size(aliases);
    if (n) {
        out->aliases = cn_arena_alloc(a, n * sizeof *out->aliases);
        for (size_t i = 0; i < n; i++) {
            const cn_json *al = cn_json_array_get(aliases, i);
            out->aliases[i].alias = str_or_empty(al, "alias", a);
            out->aliases[i].version = int_or_zero(al, "version");
        }
        out->n_aliases = n;
    }
}

void cn_rest_decode_version(const cn_json *j, cn_arena *a, cairn_model_version *out)
{
    memset(out, 0, sizeof *out);
    out->name = str_or_empty(j, "name", a);
    out->version = int_or_zero(j, "version");
    out->source = str_or_empty(j, "source", a);
    out->run_id = str_or_empty(j, "run_id", a);
    out->description = str_or_empty(j, "description", a);
    out->user_id = str_or_empty(j, "user_id", a);
    const char *status = cn_json_member_str(j, "status");
    out->status = cn_arena_strdup(a, status ? status : "READY");
    out->stage = stage_of(cn_json_member_str(j, "current_stage"));
    out->semver = str_or_null(j, "semver", a);
    if (out->semver && !*out->semver)
        out->semver = NULL;
    out->creation_time_ms = int_or_zero(j, "creation_timestamp");
    out->last_updated_time_ms = int_or_zero(j, "last_updated_timestamp");
    cn_rest_decode_tags(cn_json_object_get(j, "tags"), a, &out->tags, &out->n_tags);
    const cn_json *aliases = cn_json_object_get(j, "aliases");
    size_t n = cn_json_array_size(aliases);
    if (n) {
        out->aliases = cn_arena_alloc(a, n * sizeof *out->aliases);
        for (size_t i = 0; i < n; i++) {
            const char *al = cn_json_string(cn_json_array_get(aliases, i));
            out->aliases[out->n_aliases++] = cn_arena_strdup(a, al ? al : "");
        }
    }
}

/* An event as `cairn model history --json` writes one (docs/cli/cairn-model.md). */
void cn_rest_decode_event(const cn_json *j, cn_arena *a, cairn_registry_event *out)
{
    memset(out, 0, sizeof *out);
    out->name = str_or_empty(j, "name", a);
    out->seq = int_or_zero(j, "seq");
    const char *kind = cn_json_member_str(j, "kind");
    for (int k = CAIRN_EVENT_ALIAS_SET; kind && k <= CAIRN_EVENT_STAGE; k++)
        if (strcmp(kind, cairn_registry_event_kind_str((cairn_registry_event_kind)k)) == 0)
            out->kind = (cairn_registry_event_kind)k;
    out->alias = str_or_null(j, "alias", a);
    if (out->kind == CAIRN_EVENT_STAGE) {
        out->from_version = out->to_version = int_or_zero(j, "version");
        out->from_stage = stage_of(cn_json_member_str(j, "from_stage"));
        out->to_stage = stage_of(cn_json_member_str(j, "to_stage"));
    } else {
        out->from_version = int_or_zero(j, "from_version"); /* null: nowhere */
        out->to_version = int_or_zero(j, "to_version");
    }
    out->user = str_or_empty(j, "user", a);
    out->reason = str_or_empty(j, "reason", a);
    out->time_ms = int_or_zero(j, "timestamp");
}
