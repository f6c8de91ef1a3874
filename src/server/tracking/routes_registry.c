/* SPDX-License-Identifier: MIT */
/* routes_registry.c - MLflow's model registry routes, and cairn's own registry routes under
 * /api/2.0/cairn/ (promotion history, rollback, semantic versions). */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include "tracking/trk.h"
#include "base/str.h"
#include "base/xmalloc.h"
#include "base/banned.h"

static bool version_num(trk_call *c, int64_t *out)
{
    const char *v;
    json_t *raw = json_object_get(c->in, "version");
    if (raw && json_is_integer(raw)) {
        *out = (int64_t)json_integer_value(raw);
    } else {
        if (!trk_str(c, "version", true, &v))
            return false;
        if (!cn_parse_int64(v, out))
            return trk_fail(c, 400, "INVALID_PARAMETER_VALUE",
                            "Parameter 'version' must be an integer, got '%.50s'.", v);
    }
    if (*out < 1)
        return trk_fail(c, 400, "INVALID_PARAMETER_VALUE",
                        "Parameter 'version' must be a positive integer, got %lld.",
                        (long long)*out);
    return true;
}

static cairn_registry_move_opts mover(trk_call *c)
{
    cairn_registry_move_opts mv = CAIRN_REGISTRY_MOVE_OPTS_INIT;
    /* Who moved it: the authenticated user; without --auth, what the client says (cairn's
     * remote store sends "user"), else "anonymous". */
    json_t *u = json_object_get(c->in, "user");
    mv.user = c->user                                           ? c->user
              : u && json_is_string(u) && *json_string_value(u) ? json_string_value(u)
                                                                : "anonymous";
    const char *reason = NULL;
    json_t *r = json_object_get(c->in, "reason");
    if (r && json_is_string(r))
        reason = json_string_value(r);
    mv.reason = reason;
    return mv;
}

static bool write_model(trk_call *c, const char *key, const char *name)
{
    cairn_registered_model *m = NULL;
    cairn_status st = cairn_registry_get_model(c->ctx, name, &m);
    if (st != CAIRN_OK)
        return trk_fail_status(c, st);
    cn_jsonw_key(&c->w, key);
    trk_write_registered_model(c, m);
    cairn_registered_model_free(m);
    return true;
}

static bool write_version(trk_call *c, const char *name, int64_t version)
{
    cairn_model_version *v = NULL;
    cairn_status st = cairn_model_version_get(c->ctx, name, version, &v);
    if (st != CAIRN_OK)
        return trk_fail_status(c, st);
    cn_jsonw_key(&c->w, "model_version");
    trk_write_model_version(c, v);
    cairn_model_version_free(v);
    return true;
}

/* ---- registered models ---- */

static void models_create(trk_call *c)
{
    const char *name, *desc;
    cairn_tag *tags = NULL;
    size_t n = 0;
    if (!trk_str(c, "name", true, &name) || !trk_str(c, "description", false, &desc) ||
        !trk_kv_list(c, json_object_get(c->in, "tags"), "tags", &tags, &n))
        return;
    cairn_status st = cairn_registry_create_model(c->ctx, name, desc, tags, n);
    free(tags);
    if (st != CAIRN_OK) {
        trk_fail_status(c, st);
        return;
    }
    trk_auth_created(c, CAIRN_AUTH_MODEL, name);
    write_model(c, "registered_model", name);
}

static void models_get(trk_call *c)
{
    const char *name;
    if (trk_str(c, "name", true, &name))
        write_model(c, "registered_model", name);
}

static void models_update(trk_call *c)
{
    const char *name, *desc;
    if (!trk_str(c, "name", true, &name) || !trk_str(c, "description", false, &desc))
        return;
    cairn_status st = cairn_registry_update_model(c->ctx, name, desc ? desc : "");
    if (st != CAIRN_OK) {
        trk_fail_status(c, st);
        return;
    }
    write_model(c, "registered_model", name);
}

static void models_rename(trk_call *c)
{
    const char *name, *new_name;
    if (!trk_str(c, "name", true, &name) || !trk_str(c, "new_name", true, &new_name))
        return;
    cairn_status st = cairn_registry_rename_model(c->ctx, name, new_name);
    if (st != CAIRN_OK) {
        trk_fail_status(c, st);
        return;
    }
    /* Grants follow the model (a failure here leaves them on the old name: logged). */
    (void)cairn_auth_rename_model_permissions(c->ctx, name, new_name);
    write_model(c, "registered_model", new_name);
}

static void models_delete(trk_call *c)
{
    const char *name;
    if (!trk_str(c, "name", true, &name))
        return;
    cairn_status st = cairn_registry_delete_model(c->ctx, name);
    if (st != CAIRN_OK) {
        trk_fail_status(c, st);
        return;
    }
    /* A later model of the same name must not inherit the grants. */
    (void)cairn_auth_delete_model_permissions(c->ctx, name);
}

static void models_set_tag(trk_call *c)
{
    const char *name, *key, *value;
    if (!trk_str(c, "name", true, &name) || !trk_str(c, "key", true, &key) ||
        !trk_str(c, "value", false, &value))
        return;
    cairn_status st = cairn_registry_set_model_tag(c->ctx, name, key, value ? value : "");
    if (st != CAIRN_OK)
        trk_fail_status(c, st);
}

static void models_delete_tag(trk_call *c)
{
    const char *name, *key;
    if (!trk_str(c, "name", true, &name) || !trk_str(c, "key", true, &key))
        return;
    cairn_status st = cairn_registry_delete_model_tag(c->ctx, name, key);
    if (st != CAIRN_OK)
        trk_fail_status(c, st);
}

/* The newest version in each asked-for stage (every stage when none is named). */
static void models_get_latest_versions(trk_call *c)
{
    const char *name, **stages = NULL;
    size_t n_stages = 0;
    if (!trk_str(c, "name", true, &name) || !trk_str_list(c, "stages", &stages, &n_stages))
        return;
    bool want[4] = {n_stages == 0, n_stages == 0, n_stages == 0, n_stages == 0};
    for (size_t i = 0; i < n_stages; i++) {
        cairn_model_stage s;
        if (cairn_model_stage_parse(c->ctx, stages[i], &s) != CAIRN_OK) {
            trk_fail(c, 400, "INVALID_PARAMETER_VALUE",
                     "Invalid Model Version stage: %s. Value must be one of None, Staging, "
                     "Production, Archived.",
                     stages[i]);
            free(stages);
            return;
        }
        want[s] = true;
    }
    free(stages);
    cairn_registered_model *m = NULL;
    cairn_status st = cairn_registry_get_model(c->ctx, name, &m);
    if (st != CAIRN_OK) {
        trk_fail_status(c, st);
        return;
    }
    cairn_model_version *latest[4] = {0};
    int64_t top = m->latest_version;
    cairn_registered_model_free(m);
    for (int64_t v = top; v >= 1; v--) {
        cairn_model_version *mv = NULL;
        if (cairn_model_version_get(c->ctx, name, v, &mv) != CAIRN_OK)
            continue;
        if (!want[mv->stage] || latest[mv->stage])
            cairn_model_version_free(mv);
        else
            latest[mv->stage] = mv;
    }
    bool any = false;
    for (int s = 0; s < 4; s++)
        any |= latest[s] != NULL;
    if (any) {
        cn_jsonw_key(&c->w, "model_versions");
        cn_jsonw_array_begin(&c->w);
        for (int s = 0; s < 4; s++)
            if (latest[s]) {
                trk_write_model_version(c, latest[s]);
                cairn_model_version_free(latest[s]);
            }
        cn_jsonw_array_end(&c->w);
    }
}

/* ---- versions ---- */

/* True when s hides a NUL behind one or more rounds of %-escapes ("%00", "%2500"). */
static bool escaped_nul(const char *s)
{
    cn_buf cur = CN_BUF_INIT;
    cn_buf_puts(&cur, s);
    bool nul = false;
    for (int round = 0; round < 4 && !nul && strchr(cur.data, '%'); round++) {
        nul = strstr(cur.data, "%00") != NULL;
        cn_buf next = CN_BUF_INIT;
        int rc = http_percent_decode(cur.data, cur.len, false, &next);
        cn_buf_release(&cur);
        cur = next;
        if (rc != 0)
            break; /* a literal '%' that escapes nothing */
    }
    cn_buf_release(&cur);
    return nul;
}

/* A local source (a path or file: URI) is accepted only inside the named run's artifacts,
 * after resolving links: no version may point the server at /etc. */
static bool source_ok(trk_call *c, const char *source, const char *run_id)
{
    if (escaped_nul(source))
        return trk_fail(c, 400, "INVALID_PARAMETER_VALUE",
                        "Invalid model version source: '%.200s' holds an escaped NUL byte", source);
    const char *colon = strchr(source, ':');
    const char *slash = strchr(source, '/');
    bool has_scheme = colon && (!slash || colon < slash) && colon > source;
    const char *path = NULL;
    if (cn_str_starts(source, "file://"))
        path = source + 7;
    else if (cn_str_starts(source, "file:"))
        path = source + 5;
    else if (!has_scheme)
        path = source;
    if (!path)
        return true; /* runs:/, models:/, mlflow-artifacts:/, s3:// ...: checked by libcairn */
    if (!run_id || !*run_id)
        return trk_fail(c, 400, "INVALID_PARAMETER_VALUE",
                        "Invalid model version source: '%.200s'. A local source is accepted only "
                        "with a run_id and inside that run's artifacts; use runs:/<run_id>/<path>",
                        source);
    cairn_run_record *r = NULL;
    cairn_status st = cairn_run_get(c->ctx, run_id, &r);
    if (st != CAIRN_OK)
        return trk_fail_status(c, st);
    char run_real[PATH_MAX], real[PATH_MAX];
    bool ok = realpath(r->info.artifact_uri, run_real) && realpath(path, real) &&
              cn_str_starts(real, run_real) &&
              (real[strlen(run_real)] == '/' || real[strlen(run_real)] == '\0');
    cairn_run_record_free(r);
    if (!ok)
        return trk_fail(c, 400, "INVALID_PARAMETER_VALUE",
                        "Invalid model version source: '%.200s' is not inside the artifacts of "
                        "run %s",
                        source, run_id);
    return true;
}

static void versions_create(trk_call *c)
{
    cairn_model_version_opts o = CAIRN_MODEL_VERSION_OPTS_INIT;
    cairn_tag *tags = NULL;
    size_t n = 0;
    const char *semver = NULL;
    if (!trk_str(c, "name", true, &o.name) || !trk_str(c, "source", true, &o.source) ||
        !trk_str(c, "run_id", false, &o.run_id) ||
        !trk_str(c, "description", false, &o.description) ||
        !trk_str(c, "semver", false, &semver) ||
        !trk_kv_list(c, json_object_get(c->in, "tags"), "tags", &tags, &n))
        return;
    if (o.run_id && !*o.run_id)
        o.run_id = NULL;
    if (!source_ok(c, o.source, o.run_id)) {
        free(tags);
        return;
    }
    o.semver = semver && *semver ? semver : NULL;
    json_t *u = json_object_get(c->in, "user_id");
    o.user = c->user                                           ? c->user
             : u && json_is_string(u) && *json_string_value(u) ? json_string_value(u)
                                                               : "anonymous";
    o.tags = tags;
    o.n_tags = n;
    cairn_model_version *v = NULL;
    cairn_status st = cairn_model_version_create(c->ctx, &o, &v);
    free(tags);
    if (st != CAIRN_OK) {
        trk_fail_status(c, st);
        return;
    }
    cn_jsonw_key(&c->w, "model_version");
    trk_write_model_version(c, v);
    cairn_model_version_free(v);
}

static void versions_get(trk_call *c)
{
    const char *name;
    int64_t v;
    if (trk_str(c, "name", true, &name) && version_num(c, &v))
        write_version(c, name, v);
}

static void versions_update(trk_call *c)
{
    const char *name, *desc;
    int64_t v;
    if (!trk_str(c, "name", true, &name) || !version_num(c, &v) ||
        !trk_str(c, "description", false, &desc))
        return;
    cairn_status st = cairn_model_version_update(c->ctx, name, v, desc ? desc : "");
    if (st != CAIRN_OK) {
        trk_fail_status(c, st);
        return;
    }
    write_version(c, name, v);
}

static void versions_delete(trk_call *c)
{
    const char *name;
    int64_t v;
    if (!trk_str(c, "name", true, &name) || !version_num(c, &v))
        return;
    cairn_status st = cairn_model_version_delete(c->ctx, name, v);
    if (st != CAIRN_OK)
        trk_fail_status(c, st);
}

static void versions_download_uri(trk_call *c)
{
    const char *name;
    int64_t version;
    if (!trk_str(c, "name", true, &name) || !version_num(c, &version))
        return;
    cairn_model_version *v = NULL;
    cairn_status st = cairn_model_version_get(c->ctx, name, version, &v);
    if (st != CAIRN_OK) {
        trk_fail_status(c, st);
        return;
    }
    char *uri = NULL;
    if (cn_str_starts(v->source, "runs:/")) {
        /* runs:/RUN/path → the run's artifact folder + path */
        const char *id = v->source + 6;
        const char *slash = strchr(id, '/');
        char *run_id = slash ? cn_xstrndup(id, (size_t)(slash - id)) : cn_xstrdup(id);
        cairn_run_record *r = NULL;
        if (cairn_run_get(c->ctx, run_id, &r) == CAIRN_OK) {
            char *base = trk_artifact_uri(c->app, r->info.artifact_uri);
            uri = slash && slash[1] ? cn_asprintf("%s/%s", base, slash + 1) : cn_xstrdup(base);
            free(base);
        }
        cairn_run_record_free(r);
        free(run_id);
    }
    if (!uri)
        uri = trk_artifact_uri(c->app, v->source);
    cn_jsonw_kstring(&c->w, "artifact_uri", uri);
    free(uri);
    cairn_model_version_free(v);
}

static void versions_set_tag(trk_call *c)
{
    const char *name, *key, *value;
    int64_t v;
    if (!trk_str(c, "name", true, &name) || !version_num(c, &v) || !trk_str(c, "key", true, &key) ||
        !trk_str(c, "value", false, &value))
        return;
    cairn_status st = cairn_model_version_set_tag(c->ctx, name, v, key, value ? value : "");
    if (st != CAIRN_OK)
        trk_fail_status(c, st);
}

static void versions_delete_tag(trk_call *c)
{
    const char *name, *key;
    int64_t v;
    if (!trk_str(c, "name", true, &name) || !version_num(c, &v) || !trk_str(c, "key", true, &key))
        return;
    cairn_status st = cairn_model_version_delete_tag(c->ctx, name, v, key);
    if (st != CAIRN_OK)
        trk_fail_status(c, st);
}

static void versions_transition_stage(trk_call *c)
{
    const char *name, *stage_text;
    int64_t v;
    bool archive = false, has_archive;
    cairn_model_stage stage;
    if (!trk_str(c, "name", true, &name) || !version_num(c, &v) ||
        !trk_str(c, "stage", true, &stage_text) ||
        !trk_bool(c, "archive_existing_versions", &archive, &has_archive))
        return;
    if (cairn_model_stage_parse(c->ctx, stage_text, &stage) != CAIRN_OK) {
        trk_fail(c, 400, "INVALID_PARAMETER_VALUE",
                 "Invalid Model Version stage: %s. Value must be one of None, Staging, "
                 "Production, Archived.",
                 stage_text);
        return;
    }
    cairn_registry_move_opts mv = mover(c);
    cairn_status st = cairn_model_version_transition_stage(c->ctx, name, v, stage, archive, &mv);
    if (st != CAIRN_OK) {
        trk_fail_status(c, st);
        return;
    }
    write_version(c, name, v);
}

static void models_alias(trk_call *c)
{
    const char *name, *alias;
    if (!trk_str(c, "name", true, &name) || !trk_str(c, "alias", true, &alias))
        return;
    const char *m = c->req->method;
    cairn_registry_move_opts mv = mover(c);
    cairn_status st;
    if (strcmp(m, "POST") == 0) {
        int64_t v;
        if (!version_num(c, &v))
            return;
        st = cairn_registry_set_alias(c->ctx, name, alias, v, &mv);
    } else if (strcmp(m, "DELETE") == 0) {
        st = cairn_registry_delete_alias(c->ctx, name, alias, &mv);
    } else {
        cairn_model_version *v = NULL;
        st = cairn_model_version_get_by_alias(c->ctx, name, alias, &v);
        if (st == CAIRN_OK) {
            cn_jsonw_key(&c->w, "model_version");
            trk_write_model_version(c, v);
            cairn_model_version_free(v);
        }
    }
    if (st != CAIRN_OK)
        trk_fail_status(c, st);
}

/* ---- cairn's own ---- */

static void cairn_history(trk_call *c)
{
    cairn_registry_history_query q = CAIRN_REGISTRY_HISTORY_QUERY_INIT;
    bool present;
    if (!trk_str(c, "name", true, &q.name) || !trk_str(c, "alias", false, &q.alias) ||
        !trk_str(c, "page_token", false, &q.page_token) ||
        !trk_int64(c, "max_results", false, &q.max_results, &present))
        return;
    if (q.alias && !*q.alias)
        q.alias = NULL;
    if (q.page_token && !*q.page_token)
        q.page_token = NULL;
    cairn_registry_event_page *page = NULL;
    cairn_status st = cairn_registry_history(c->ctx, &q, &page);
    if (st != CAIRN_OK) {
        trk_fail_status(c, st);
        return;
    }
    cn_jsonw *w = &c->w;
    if (page->n) {
        cn_jsonw_key(w, "events");
        cn_jsonw_array_begin(w);
        for (size_t i = 0; i < page->n; i++) {
            const cairn_registry_event *e = &page->items[i];
            cn_jsonw_object_begin(w);
            cn_jsonw_kstring(w, "name", e->name);
            cn_jsonw_kint(w, "seq", e->seq);
            cn_jsonw_kstring(w, "kind", cairn_registry_event_kind_str(e->kind));
            if (e->alias)
                cn_jsonw_kstring(w, "alias", e->alias);
            if (e->kind == CAIRN_EVENT_STAGE) {
                cn_jsonw_kint(w, "version", e->to_version);
                cn_jsonw_kstring(w, "from_stage", cairn_model_stage_str(e->from_stage));
                cn_jsonw_kstring(w, "to_stage", cairn_model_stage_str(e->to_stage));
            } else {
                if (e->from_version)
                    cn_jsonw_kint(w, "from_version", e->from_version);
                if (e->to_version)
                    cn_jsonw_kint(w, "to_version", e->to_version);
            }
            cn_jsonw_kstring(w, "user", e->user);
            if (e->reason && *e->reason)
                cn_jsonw_kstring(w, "reason", e->reason);
            cn_jsonw_kint(w, "timestamp", e->time_ms);
            cn_jsonw_object_end(w);
        }
        cn_jsonw_array_end(w);
    }
    if (page->next_page_token)
        cn_jsonw_kstring(w, "next_page_token", page->next_page_token);
    cairn_registry_event_page_free(page);
}

static void cairn_rollback(trk_call *c)
{
    const char *name, *alias;
    if (!trk_str(c, "name", true, &name) || !trk_str(c, "alias", true, &alias))
        return;
    cairn_registry_move_opts mv = mover(c);
    int64_t v = 0;
    cairn_status st = cairn_registry_rollback(c->ctx, name, alias, &mv, &v);
    if (st != CAIRN_OK) {
        trk_fail_status(c, st);
        return;
    }
    char num[32];
    snprintf(num, sizeof num, "%lld", (long long)v);
    cn_jsonw_kstring(&c->w, "version", num);
}

static void cairn_set_semver(trk_call *c)
{
    const char *name, *semver;
    int64_t v;
    if (!trk_str(c, "name", true, &name) || !version_num(c, &v) ||
        !trk_str(c, "semver", false, &semver))
        return;
    cairn_status st =
        cairn_model_version_set_semver(c->ctx, name, v, semver && *semver ? semver : NULL);
    if (st != CAIRN_OK) {
        trk_fail_status(c, st);
        return;
    }
    write_version(c, name, v);
}

/* ---- search ---- */

/* The arguments both registry searches take: filter, page_token, max_results (1 to limit;
 * *max_results keeps its default when absent) and order_by (*order is the caller's to free).
 * An empty filter or page token reads as none. False when the call has failed. */
static bool search_args(trk_call *c, long long limit, const char **filter, const char **page_token,
                        int64_t *max_results, const char ***order, size_t *n_order)
{
    bool present;
    *order = NULL;
    *n_order = 0;
    if (!trk_str(c, "filter", false, filter) || !trk_str(c, "page_token", false, page_token) ||
        !trk_int64(c, "max_results", false, max_results, &present) ||
        !trk_str_list(c, "order_by", order, n_order))
        return false;
    if (present && (*max_results < 1 || *max_results > limit)) {
        free(*order);
        *order = NULL;
        trk_fail(c, 400, "INVALID_PARAMETER_VALUE",
                 "Invalid value for request parameter max_results. It must be at most %lld, "
                 "but got value %lld",
                 limit, (long long)*max_results);
        return false;
    }
    if (*filter && !**filter)
        *filter = NULL;
    if (*page_token && !**page_token)
        *page_token = NULL;
    return true;
}

static void models_search(trk_call *c)
{
    cairn_registered_model_query q = CAIRN_REGISTERED_MODEL_QUERY_INIT;
    const char **order;
    size_t n_order;
    q.max_results = 100;
    if (!search_args(c, 1000, &q.filter, &q.page_token, &q.max_results, &order, &n_order))
        return;
    q.order_by = order;
    q.n_order_by = n_order;
    cairn_registered_model_page *page = NULL;
    cairn_status st = cairn_registry_search_models(c->ctx, &q, &page);
    free(order);
    if (st != CAIRN_OK) {
        trk_fail_status(c, st);
        return;
    }
    /* Only what the user may read (everything without --auth); no empty list. */
    bool *keep = cn_xcalloc(page->n ? page->n : 1, sizeof *keep);
    size_t n_keep = 0;
    for (size_t i = 0; i < page->n; i++)
        n_keep += keep[i] = trk_auth_can_read(c, CAIRN_AUTH_MODEL, page->items[i].name);
    if (n_keep) {
        cn_jsonw_key(&c->w, "registered_models");
        cn_jsonw_array_begin(&c->w);
        for (size_t i = 0; i < page->n; i++)
            if (keep[i])
                trk_write_registered_model(c, &page->items[i]);
        cn_jsonw_array_end(&c->w);
    }
    free(keep);
    if (page->next_page_token)
        cn_jsonw_kstring(&c->w, "next_page_token", page->next_page_token);
    cairn_registered_model_page_free(page);
}

static void versions_search(trk_call *c)
{
    cairn_model_version_query q = CAIRN_MODEL_VERSION_QUERY_INIT;
    const char **order;
    size_t n_order;
    q.max_results = 10000;
    if (!search_args(c, 200000, &q.filter, &q.page_token, &q.max_results, &order, &n_order))
        return;
    q.order_by = order;
    q.n_order_by = n_order;
    cairn_model_version_page *page = NULL;
    cairn_status st = cairn_model_version_search(c->ctx, &q, &page);
    free(order);
    if (st != CAIRN_OK) {
        trk_fail_status(c, st);
        return;
    }
    /* Only what the user may read (everything without --auth); no empty list. */
    bool *keep = cn_xcalloc(page->n ? page->n : 1, sizeof *keep);
    size_t n_keep = 0;
    for (size_t i = 0; i < page->n; i++)
        n_keep += keep[i] = trk_auth_can_read(c, CAIRN_AUTH_MODEL, page->items[i].name);
    if (n_keep) {
        cn_jsonw_key(&c->w, "model_versions");
        cn_jsonw_array_begin(&c->w);
        for (size_t i = 0; i < page->n; i++)
            if (keep[i])
                trk_write_model_version(c, &page->items[i]);
        cn_jsonw_array_end(&c->w);
    }
    free(keep);
    if (page->next_page_token)
        cn_jsonw_kstring(&c->w, "next_page_token", page->next_page_token);
    cairn_model_version_page_free(page);
}

const trk_route trk_registry_routes[] = {
    {"mlflow/registered-models/search", TRK_GET | TRK_POST, models_search},
    {"mlflow/model-versions/search", TRK_GET | TRK_POST, versions_search},
    {"mlflow/registered-models/create", TRK_POST, models_create},
    {"mlflow/registered-models/get", TRK_GET, models_get},
    {"mlflow/registered-models/update", TRK_PATCH, models_update},
    {"mlflow/registered-models/rename", TRK_POST, models_rename},
    {"mlflow/registered-models/delete", TRK_DELETE, models_delete},
    {"mlflow/registered-models/set-tag", TRK_POST, models_set_tag},
    {"mlflow/registered-models/delete-tag", TRK_DELETE, models_delete_tag},
    {"mlflow/registered-models/get-latest-versions", TRK_POST | TRK_GET,
     models_get_latest_versions},
    {"mlflow/registered-models/alias", TRK_POST | TRK_DELETE | TRK_GET, models_alias},
    {"mlflow/model-versions/create", TRK_POST, versions_create},
    {"mlflow/model-versions/get", TRK_GET, versions_get},
    {"mlflow/model-versions/update", TRK_PATCH, versions_update},
    {"mlflow/model-versions/delete", TRK_DELETE, versions_delete},
    {"mlflow/model-versions/get-download-uri", TRK_GET, versions_download_uri},
    {"mlflow/model-versions/set-tag", TRK_POST, versions_set_tag},
    {"mlflow/model-versions/delete-tag", TRK_DELETE, versions_delete_tag},
    {"mlflow/model-versions/transition-stage", TRK_POST, versions_transition_stage},
    {"cairn/registry/history", TRK_GET, cairn_history},
    {"cairn/registry/rollback", TRK_POST, cairn_rollback},
    {"cairn/model-versions/set-semver", TRK_POST, cairn_set_semver},
};
const size_t trk_n_registry_routes = sizeof trk_registry_routes / sizeof trk_registry_routes[0];
