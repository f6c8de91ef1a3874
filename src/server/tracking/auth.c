/* SPDX-License-Identifier: MIT */
/* auth.c - `cairn server --auth`: who is asking (Basic or Bearer credentials, checked against
 * the store's users and tokens through cairn/auth.h) and whether they may (a rule per route:
 * which resource the request names and the permission it needs; docs/auth.md has the table).
 * Checked credentials are remembered for a minute by the SHA-256 of the header, so a client
 * sending Basic credentials on every request pays the slow password hash once a minute, not
 * on every call. Routes without a rule are for admins only: a new route is closed until it
 * is given one. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include "cairn/auth.h"
#include "cairn/hpo.h"
#include "cairn/logged_model.h"
#include "tracking/trk.h"
#include "base/sha256.h"
#include "base/str.h"
#include "base/time.h"
#include "base/xmalloc.h"
#include "base/banned.h"

#define CACHE_SLOTS 256
#define CACHE_TTL_MS 60000

typedef struct cache_slot {
    char key[65];
    char user[CAIRN_AUTH_USERNAME_MAX + 1];
    int64_t until_ms;
} cache_slot;

static pthread_mutex_t cache_mu = PTHREAD_MUTEX_INITIALIZER;
static cache_slot cache[CACHE_SLOTS];

static bool cache_get(const char *key, char *user, size_t size)
{
    bool hit = false;
    unsigned slot = (unsigned)strtoul((char[9]){key[0], key[1], key[2], key[3], key[4], key[5],
                                                key[6], key[7], 0},
                                      NULL, 16) %
                    CACHE_SLOTS;
    pthread_mutex_lock(&cache_mu);
    if (strcmp(cache[slot].key, key) == 0 && cache[slot].until_ms > cn_now_ms()) {
        cn_strlcpy(user, cache[slot].user, size);
        hit = true;
    }
    pthread_mutex_unlock(&cache_mu);
    return hit;
}

static void cache_put(const char *key, const char *user)
{
    unsigned slot = (unsigned)strtoul((char[9]){key[0], key[1], key[2], key[3], key[4], key[5],
                                                key[6], key[7], 0},
                                      NULL, 16) %
                    CACHE_SLOTS;
    pthread_mutex_lock(&cache_mu);
    cn_strlcpy(cache[slot].key, key, sizeof cache[slot].key);
    cn_strlcpy(cache[slot].user, user, sizeof cache[slot].user);
    cache[slot].until_ms = cn_now_ms() + CACHE_TTL_MS;
    pthread_mutex_unlock(&cache_mu);
}

static void unauthenticated(http_response *resp, const char *why)
{
    cn_jsonw w;
    cn_jsonw_init(&w, NULL, 0);
    cn_jsonw_object_begin(&w);
    cn_jsonw_kstring(&w, "error_code", "UNAUTHENTICATED");
    cn_jsonw_kstring(&w, "message", why);
    cn_jsonw_object_end(&w);
    cn_jsonw_finish(&w);
    cn_buf_release(&resp->body);
    resp->body = w.buf;
    w.buf = (cn_buf)CN_BUF_INIT;
    cn_jsonw_release(&w);
    resp->status = 401;
    resp->content_type = "application/json";
    http_add_header(resp, "WWW-Authenticate", "Basic realm=\"cairn\", Bearer realm=\"cairn\"");
}

bool trk_auth_authenticate(trk_app *app, cairn_ctx *ctx, http_request *req, http_response *resp)
{
    (void)app;
    const char *header = http_header(req, "Authorization");
    if (!header || !*header) {
        unauthenticated(resp, "this server requires credentials: send HTTP Basic (user and "
                              "password) or a Bearer token (cairn auth token create USER)");
        return false;
    }
    char key[65];
    cn_sha256_hex(header, strlen(header), key);
    if (cache_get(key, req->user, sizeof req->user))
        return true;
    char *user = NULL;
    cairn_status st = cairn_auth_authenticate(ctx, header, &user);
    if (st != CAIRN_OK) {
        cn_buf_release(&resp->body);
        cn_buf_printf(&resp->body,
                      "{\"error_code\":\"TEMPORARILY_UNAVAILABLE\",\"message\":\"credentials "
                      "cannot be checked: the store failed\"}\n");
        resp->status = 503;
        return false;
    }
    if (!user) {
        unauthenticated(resp, "invalid credentials: unknown user, wrong password, or a revoked "
                              "or expired token");
        return false;
    }
    cache_put(key, user);
    cn_strlcpy(req->user, user, sizeof req->user);
    cairn_free(user);
    return true;
}

/* ---- rules ---- */

typedef enum res_kind {
    RES_ANY,      /* any authenticated user (creates, searches that filter) */
    RES_EXP,      /* experiment_id */
    RES_EXP_NAME, /* experiment_name */
    RES_RUN,      /* run_id / run_uuid → its experiment */
    RES_MODEL,    /* name → the registered model */
    RES_STUDY,    /* name → the study's experiment */
    RES_ADMIN
} res_kind;

typedef struct rule {
    const char *path;
    res_kind kind;
    cairn_perm perm;
} rule;

static const rule rules[] = {
    {"mlflow/experiments/create", RES_ANY, CAIRN_PERM_NONE},
    {"mlflow/experiments/get", RES_EXP, CAIRN_PERM_READ},
    {"mlflow/experiments/get-by-name", RES_EXP_NAME, CAIRN_PERM_READ},
    {"mlflow/experiments/search", RES_ANY, CAIRN_PERM_NONE},
    {"mlflow/experiments/list", RES_ANY, CAIRN_PERM_NONE},
    {"mlflow/experiments/delete", RES_EXP, CAIRN_PERM_MANAGE},
    {"mlflow/experiments/restore", RES_EXP, CAIRN_PERM_MANAGE},
    {"mlflow/experiments/update", RES_EXP, CAIRN_PERM_MANAGE},
    {"mlflow/experiments/set-experiment-tag", RES_EXP, CAIRN_PERM_EDIT},
    {"mlflow/experiments/delete-experiment-tag", RES_EXP, CAIRN_PERM_EDIT},
    {"mlflow/runs/create", RES_EXP, CAIRN_PERM_EDIT},
    {"mlflow/runs/get", RES_RUN, CAIRN_PERM_READ},
    {"mlflow/runs/update", RES_RUN, CAIRN_PERM_EDIT},
    {"mlflow/runs/delete", RES_RUN, CAIRN_PERM_MANAGE},
    {"mlflow/runs/restore", RES_RUN, CAIRN_PERM_MANAGE},
    {"mlflow/runs/log-metric", RES_RUN, CAIRN_PERM_EDIT},
    {"mlflow/runs/log-parameter", RES_RUN, CAIRN_PERM_EDIT},
    {"mlflow/runs/log-batch", RES_RUN, CAIRN_PERM_EDIT},
    {"mlflow/runs/set-tag", RES_RUN, CAIRN_PERM_EDIT},
    {"mlflow/runs/delete-tag", RES_RUN, CAIRN_PERM_EDIT},
    {"mlflow/runs/search", RES_ANY, CAIRN_PERM_NONE},
    {"mlflow/runs/log-inputs", RES_RUN, CAIRN_PERM_EDIT},
    {"mlflow/runs/log-model", RES_RUN, CAIRN_PERM_EDIT},
    {"mlflow/runs/outputs", RES_RUN, CAIRN_PERM_EDIT},
    {"cairn/runs/heartbeat", RES_RUN, CAIRN_PERM_EDIT},
    {"mlflow/metrics/get-history", RES_RUN, CAIRN_PERM_READ},
    {"mlflow/metrics/get-history-bulk", RES_ANY, CAIRN_PERM_NONE},
    {"mlflow/metrics/get-history-bulk-interval", RES_ANY, CAIRN_PERM_NONE},
    {"mlflow/artifacts/list", RES_RUN, CAIRN_PERM_READ},
    {"mlflow/registered-models/create", RES_ANY, CAIRN_PERM_NONE},
    {"mlflow/registered-models/get", RES_MODEL, CAIRN_PERM_READ},
    {"mlflow/registered-models/search", RES_ANY, CAIRN_PERM_NONE},
    {"mlflow/registered-models/update", RES_MODEL, CAIRN_PERM_EDIT},
    {"mlflow/registered-models/rename", RES_MODEL, CAIRN_PERM_MANAGE},
    {"mlflow/registered-models/delete", RES_MODEL, CAIRN_PERM_MANAGE},
    {"mlflow/registered-models/set-tag", RES_MODEL, CAIRN_PERM_EDIT},
    {"mlflow/registered-models/delete-tag", RES_MODEL, CAIRN_PERM_EDIT},
    {"mlflow/registered-models/get-latest-versions", RES_MODEL, CAIRN_PERM_READ},
    {"mlflow/registered-models/alias", RES_MODEL, CAIRN_PERM_EDIT}, /* GET READ, DELETE MANAGE */
    {"mlflow/model-versions/create", RES_MODEL, CAIRN_PERM_EDIT},
    {"mlflow/model-versions/get", RES_MODEL, CAIRN_PERM_READ},
    {"mlflow/model-versions/update", RES_MODEL, CAIRN_PERM_EDIT},
    {"mlflow/model-versions/delete", RES_MODEL, CAIRN_PERM_MANAGE},
    {"mlflow/model-versions/search", RES_ANY, CAIRN_PERM_NONE},
    {"mlflow/model-versions/get-download-uri", RES_MODEL, CAIRN_PERM_READ},
    {"mlflow/model-versions/set-tag", RES_MODEL, CAIRN_PERM_EDIT},
    {"mlflow/model-versions/delete-tag", RES_MODEL, CAIRN_PERM_MANAGE},
    {"mlflow/model-versions/transition-stage", RES_MODEL, CAIRN_PERM_EDIT},
    {"cairn/registry/history", RES_MODEL, CAIRN_PERM_READ},
    {"cairn/registry/rollback", RES_MODEL, CAIRN_PERM_EDIT},
    {"cairn/model-versions/set-semver", RES_MODEL, CAIRN_PERM_EDIT},
    /* The web UI's reads (routes_ui.c); lists leave out what the user may not read. */
    {"cairn/experiments/summary", RES_ANY, CAIRN_PERM_NONE},
    {"cairn/studies/list", RES_ANY, CAIRN_PERM_NONE},
    {"cairn/studies/get", RES_STUDY, CAIRN_PERM_READ},
    {"cairn/studies/trials", RES_STUDY, CAIRN_PERM_READ},
    {"cairn/studies/importance", RES_STUDY, CAIRN_PERM_READ},
    {"cairn/model-versions/lineage", RES_MODEL, CAIRN_PERM_READ},
    {"cairn/model-versions/card", RES_MODEL, CAIRN_PERM_READ},
    /* the route checks READ on the monitoring run's experiment itself */
    {"cairn/monitoring/drift", RES_ANY, CAIRN_PERM_NONE},
    /* the route answers only about the signed-in user */
    {"cairn/permissions/mine", RES_ANY, CAIRN_PERM_NONE},
};

static bool forbidden(trk_call *c, const char *what, const char *resource, cairn_perm perm)
{
    return trk_fail(c, 403, "PERMISSION_DENIED",
                    "Permission denied: user '%s' lacks %s on %s '%.200s'; an admin or a user "
                    "with MANAGE can grant it (cairn auth grant)",
                    c->user, cairn_perm_str(perm), what, resource);
}

static bool need(trk_call *c, cairn_auth_kind kind, const char *resource, cairn_perm perm)
{
    bool ok = false;
    cairn_status st = cairn_auth_check(c->ctx, c->user, kind, resource, perm,
                                       trk_app_config(c->app)->default_permission, &ok);
    if (st != CAIRN_OK)
        return trk_fail_status(c, st);
    if (!ok)
        return forbidden(c, kind == CAIRN_AUTH_EXPERIMENT ? "experiment" : "registered model",
                         resource, perm);
    return true;
}

bool trk_auth_can_read(trk_call *c, cairn_auth_kind kind, const char *resource)
{
    if (!c->user)
        return true;
    bool ok = false;
    return cairn_auth_check(c->ctx, c->user, kind, resource, CAIRN_PERM_READ,
                            trk_app_config(c->app)->default_permission, &ok) == CAIRN_OK &&
           ok;
}

/* The experiment of a run: 404 for an unknown run, as the route itself would say. */
static bool run_experiment(trk_call *c, const char *run_id, char **exp_out)
{
    cairn_run_record *r = NULL;
    cairn_status st = cairn_run_get(c->ctx, run_id, &r);
    if (st != CAIRN_OK)
        return trk_fail_status(c, st);
    *exp_out = cn_xstrdup(r->info.experiment_id);
    cairn_run_record_free(r);
    return true;
}

bool trk_auth_authorize(trk_call *c, const char *suffix)
{
    if (!c->user)
        return true;
    const char *m = c->req->method;
    /* Logged models: the model's experiment (a create names it). */
    if (cn_str_starts(suffix, "mlflow/logged-models")) {
        const char *rest = suffix + strlen("mlflow/logged-models");
        if (!*rest || strcmp(rest, "/search") == 0) {
            const char *exp = NULL;
            if (!*rest && !trk_str(c, "experiment_id", true, &exp))
                return false;
            return !*rest ? need(c, CAIRN_AUTH_EXPERIMENT, exp, CAIRN_PERM_EDIT) : true;
        }
        const char *id0 = rest + 1, *slash = strchr(id0, '/');
        char *id = slash ? cn_xstrndup(id0, (size_t)(slash - id0)) : cn_xstrdup(id0);
        cairn_logged_model *lm = NULL;
        cairn_status st = cairn_logged_model_get(c->ctx, id, &lm);
        free(id);
        if (st != CAIRN_OK)
            return trk_fail_status(c, st);
        cairn_perm p = strcmp(m, "GET") == 0                ? CAIRN_PERM_READ
                       : strcmp(m, "DELETE") == 0 && !slash ? CAIRN_PERM_MANAGE
                                                            : CAIRN_PERM_EDIT;
        bool ok = need(c, CAIRN_AUTH_EXPERIMENT, lm->experiment_id, p);
        cairn_logged_model_free(lm);
        return ok;
    }
    /* The bulk histories name several runs: READ on each run's experiment. */
    if (strcmp(suffix, "mlflow/metrics/get-history-bulk") == 0 ||
        strcmp(suffix, "mlflow/metrics/get-history-bulk-interval") == 0 ||
        strcmp(suffix, "cairn/metrics/downsample") == 0 ||
        strcmp(suffix, "cairn/runs/compare") == 0) {
        const char **runs = NULL;
        size_t n = 0;
        bool ok = trk_str_list(
            c,
            strcmp(suffix, "mlflow/metrics/get-history-bulk-interval") == 0 ? "run_ids" : "run_id",
            &runs, &n);
        for (size_t i = 0; ok && i < n; i++) {
            char *exp = NULL;
            ok = run_experiment(c, runs[i], &exp) &&
                 need(c, CAIRN_AUTH_EXPERIMENT, exp, CAIRN_PERM_READ);
            free(exp);
        }
        free(runs);
        return ok;
    }
    const rule *r = NULL;
    for (size_t i = 0; i < sizeof rules / sizeof rules[0]; i++)
        if (strcmp(rules[i].path, suffix) == 0)
            r = &rules[i];
    if (!r || r->kind == RES_ADMIN) {
        cairn_auth_user *u = NULL;
        if (cairn_auth_user_get(c->ctx, c->user, &u) == CAIRN_OK && u->is_admin) {
            cairn_auth_user_free(u);
            return true;
        }
        cairn_auth_user_free(u);
        return trk_fail(c, 403, "PERMISSION_DENIED", "Permission denied: %s is for admins", suffix);
    }
    cairn_perm perm = r->perm;
    if (strcmp(r->path, "mlflow/registered-models/alias") == 0)
        perm = strcmp(m, "GET") == 0      ? CAIRN_PERM_READ
               : strcmp(m, "DELETE") == 0 ? CAIRN_PERM_MANAGE
                                          : CAIRN_PERM_EDIT;
    const char *v = NULL;
    switch (r->kind) {
    case RES_ANY: return true;
    case RES_EXP:
        if (!trk_str(c, "experiment_id", false, &v))
            return false;
        return need(c, CAIRN_AUTH_EXPERIMENT, v && *v ? v : "0", perm);
    case RES_EXP_NAME: {
        if (!trk_str(c, "experiment_name", true, &v))
            return false;
        cairn_experiment *e = NULL;
        cairn_status st = cairn_experiment_get_by_name(c->ctx, v, &e);
        if (st != CAIRN_OK)
            return trk_fail_status(c, st);
        bool ok = need(c, CAIRN_AUTH_EXPERIMENT, e->experiment_id, perm);
        cairn_experiment_free(e);
        return ok;
    }
    case RES_RUN: {
        char *exp = NULL;
        if (!trk_run_id(c, &v) || !run_experiment(c, v, &exp))
            return false;
        bool ok = need(c, CAIRN_AUTH_EXPERIMENT, exp, perm);
        free(exp);
        return ok;
    }
    case RES_MODEL:
        if (!trk_str(c, "name", true, &v))
            return false;
        return need(c, CAIRN_AUTH_MODEL, v, perm);
    case RES_STUDY: {
        if (!trk_str(c, "name", true, &v))
            return false;
        cairn_study_list *list = NULL;
        cairn_status st = cairn_studies_list(c->ctx, &list);
        if (st != CAIRN_OK)
            return trk_fail_status(c, st);
        char *exp = NULL;
        for (size_t i = 0; i < list->n; i++)
            if (strcmp(list->items[i].name, v) == 0)
                exp = cn_xstrdup(list->items[i].experiment_id);
        cairn_study_list_free(list);
        if (!exp)
            return trk_fail(c, 404, "RESOURCE_DOES_NOT_EXIST", "no study named '%.200s'", v);
        bool ok = need(c, CAIRN_AUTH_EXPERIMENT, exp, perm);
        free(exp);
        return ok;
    }
    default: return false;
    }
}

/* The proxy: the first path segment is the experiment; reads need READ, uploads EDIT,
 * deletes MANAGE. The root listing is for admins. */
bool trk_auth_artifact_path(trk_call *c, const char *rel)
{
    if (!c->user)
        return true;
    const char *m = c->req->method;
    cairn_perm perm = strcmp(m, "PUT") == 0      ? CAIRN_PERM_EDIT
                      : strcmp(m, "DELETE") == 0 ? CAIRN_PERM_MANAGE
                                                 : CAIRN_PERM_READ;
    while (*rel == '/')
        rel++;
    const char *slash = strchr(rel, '/');
    char *exp = slash ? cn_xstrndup(rel, (size_t)(slash - rel)) : cn_xstrdup(rel);
    bool ok;
    if (!*exp) {
        cairn_auth_user *u = NULL;
        ok = cairn_auth_user_get(c->ctx, c->user, &u) == CAIRN_OK && u->is_admin;
        cairn_auth_user_free(u);
        if (!ok)
            trk_fail(c, 403, "PERMISSION_DENIED",
                     "Permission denied: listing the artifact root is for admins");
    } else {
        ok = need(c, CAIRN_AUTH_EXPERIMENT, exp, perm);
    }
    free(exp);
    return ok;
}

void trk_auth_created(trk_call *c, cairn_auth_kind kind, const char *resource)
{
    if (c->user)
        (void)cairn_auth_grant_creator(c->ctx, c->user, kind, resource);
}
