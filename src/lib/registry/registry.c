/* SPDX-License-Identifier: MIT */
/* registry.c - the public model registry functions (cairn/registry.h): validate names, tags,
 * aliases, semver labels and sources, fill in defaults (the user, runs:/ sources), then call
 * the context's store through its operations table (store/store_ops.h). No SQL here. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "core/core.h"
#include "core/text.h"
#include "core/key.h"
#include "store/store_ops.h"
#include "base/arena.h"
#include "base/buf.h"
#include "base/str.h"
#include "base/xmalloc.h"
#include "base/banned.h"

#define TAG_VALUE_MAX 5000 /* MLflow's registry tag value limit */
#define PAGE_DEFAULT 100
#define PAGE_MAX 1000           /* MLflow's SearchRegisteredModels limit */
#define VERSION_PAGE_MAX 200000 /* MLflow's SearchModelVersions limit */

const char *cairn_model_stage_str(cairn_model_stage stage)
{
    if ((int)stage < 0 || (int)stage >= (int)CN_ARRAY_LEN(cn_stage_names))
        return NULL;
    return cn_stage_names[stage];
}

cairn_status cairn_model_stage_parse(cairn_ctx *ctx, const char *text, cairn_model_stage *out)
{
    for (size_t i = 0; text && i < CN_ARRAY_LEN(cn_stage_names); i++)
        if (strcasecmp(text, cn_stage_names[i]) == 0) {
            *out = (cairn_model_stage)i;
            return CAIRN_OK;
        }
    return cn_fail(ctx, CAIRN_EINVAL,
                   "invalid stage '%s': expected None, Staging, Production or Archived",
                   text ? text : "");
}

const char *cairn_registry_event_kind_str(cairn_registry_event_kind kind)
{
    static const char *const names[] = {NULL, "alias_set", "alias_delete", "rollback", "stage"};
    if ((int)kind < 1 || (int)kind >= (int)CN_ARRAY_LEN(names))
        return NULL;
    return names[kind];
}

static cairn_status check_name(cairn_ctx *ctx, const char *name)
{
    cairn_status rc = cn_text_check_name(ctx, "model name", name, CAIRN_MODEL_NAME_MAX);
    if (rc != CAIRN_OK)
        return rc;
    for (const char *p = name; *p; p++)
        if (*p == '/' || iscntrl((unsigned char)*p))
            return cn_fail(ctx, CAIRN_EINVAL,
                           "invalid model name '%s': '/' and control characters are not allowed",
                           name);
    return CAIRN_OK;
}

static cairn_status check_version(cairn_ctx *ctx, const char *name, int64_t version)
{
    cairn_status rc = check_name(ctx, name);
    if (rc == CAIRN_OK && version < 1)
        return cn_fail(ctx, CAIRN_EINVAL, "invalid version %lld of model '%s': versions start at 1",
                       (long long)version, name);
    return rc;
}

static cairn_status check_tag(cairn_ctx *ctx, const char *key, const char *value)
{
    cairn_status rc = cn_key_check(ctx, "tag", key);
    if (rc != CAIRN_OK)
        return rc;
    if (!value)
        return cn_fail(ctx, CAIRN_EINVAL, "tag '%s': missing value", key);
    if (strlen(value) > TAG_VALUE_MAX)
        return cn_fail(ctx, CAIRN_EINVAL, "tag '%s': value longer than %d characters", key,
                       TAG_VALUE_MAX);
    return CAIRN_OK;
}

static cairn_status check_tags(cairn_ctx *ctx, const cairn_tag *tags, size_t n)
{
    cairn_status rc = CAIRN_OK;
    for (size_t i = 0; rc == CAIRN_OK && i < n; i++)
        rc = check_tag(ctx, tags[i].key, tags[i].value);
    return rc;
}

static cairn_status check_description(cairn_ctx *ctx, const char *description)
{
    if (description && strlen(description) > CAIRN_MODEL_DESCRIPTION_MAX)
        return cn_fail(ctx, CAIRN_EINVAL, "description longer than %d characters",
                       CAIRN_MODEL_DESCRIPTION_MAX);
    return CAIRN_OK;
}

/* MLflow refuses "latest" and "v<digits>": models:/NAME@latest and /NAME/v3 mean versions. */
cairn_status cairn_alias_check(cairn_ctx *ctx, const char *alias)
{
    if (!alias || !*alias)
        return cn_fail(ctx, CAIRN_EINVAL, "invalid alias: the alias is empty");
    size_t len = strlen(alias);
    if (len > CAIRN_ALIAS_MAX)
        return cn_fail(ctx, CAIRN_EINVAL, "invalid alias '%.40s...': longer than %d characters",
                       alias, CAIRN_ALIAS_MAX);
    for (const char *p = alias; *p; p++)
        if (!(islower((unsigned char)*p) || isdigit((unsigned char)*p) || *p == '_' || *p == '-'))
            return cn_fail(ctx, CAIRN_EINVAL,
                           "invalid alias '%s': only a-z, 0-9, '_' and '-' are allowed", alias);
    bool v_digits = len > 1 && alias[0] == 'v' && strspn(alias + 1, "0123456789") == len - 1;
    if (strcmp(alias, "latest") == 0 || v_digits)
        return cn_fail(ctx, CAIRN_EINVAL,
                       "invalid alias '%s': reserved ('latest' and 'v<number>' name versions)",
                       alias);
    return CAIRN_OK;
}

/* One dot-separated identifier list of a SemVer pre-release or build part, s[0 .. len).
 * Numeric identifiers may not have leading zeros in a pre-release (SemVer 2.0.0 §9). */
static bool semver_idents_ok(const char *s, size_t len, bool is_prerelease)
{
    size_t start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i < len && s[i] != '.') {
            if (!isalnum((unsigned char)s[i]) && s[i] != '-')
                return false;
            continue;
        }
        size_t n = i - start;
        if (n == 0)
            return false;
        bool numeric = strspn(s + start, "0123456789") >= n;
        if (is_prerelease && numeric && n > 1 && s[start] == '0')
            return false;
        start = i + 1;
    }
    return true;
}

/* A numeric MAJOR, MINOR or PATCH at *p: digits without a leading zero. */
static bool semver_number(const char **p)
{
    size_t n = strspn(*p, "0123456789");
    if (n == 0 || (n > 1 && (*p)[0] == '0'))
        return false;
    *p += n;
    return true;
}

cairn_status cairn_semver_check(cairn_ctx *ctx, const char *semver)
{
    if (!semver || !*semver)
        return cn_fail(ctx, CAIRN_EINVAL, "invalid semver: the label is empty");
    if (strlen(semver) > CAIRN_SEMVER_MAX)
        return cn_fail(ctx, CAIRN_EINVAL, "invalid semver '%.40s...': longer than %d characters",
                       semver, CAIRN_SEMVER_MAX);
    const char *p = semver;
    bool ok =
        semver_number(&p) && *p++ == '.' && semver_number(&p) && *p++ == '.' && semver_number(&p);
    if (ok && *p == '-') {
        size_t n = strcspn(p + 1, "+");
        ok = semver_idents_ok(p + 1, n, true);
        p += 1 + n;
    }
    if (ok && *p == '+') {
        size_t n = strlen(p + 1);
        ok = semver_idents_ok(p + 1, n, false);
        p += 1 + n;
    }
    if (!ok || *p)
        return cn_fail(ctx, CAIRN_EINVAL,
                       "invalid semver '%s': expected MAJOR.MINOR.PATCH[-PRERELEASE][+BUILD] "
                       "(SemVer 2.0.0, e.g. 1.4.0 or 2.0.0-rc.1)",
                       semver);
    return CAIRN_OK;
}

/* A source must not climb out of where it points: no ".." segment, even percent-encoded
 * (MLflow's _validate_non_local_source_contains_relative_paths). */
static cairn_status check_source(cairn_ctx *ctx, const char *source)
{
    if (!source || !*source)
        return cn_fail(ctx, CAIRN_EINVAL, "invalid model source: the source is empty");
    if (strlen(source) > CAIRN_MODEL_SOURCE_MAX)
        return cn_fail(ctx, CAIRN_EINVAL,
                       "invalid model source '%.40s...': longer than %d "
                       "characters",
                       source, CAIRN_MODEL_SOURCE_MAX);
    char *text = cn_xstrdup(source);
    cairn_status rc = CAIRN_OK;
    for (int round = 0; round < 4 && rc == CAIRN_OK; round++) {
        char *w = text;
        for (const char *r = text; *r; r++) {
            if (r[0] == '%' && isxdigit((unsigned char)r[1]) && isxdigit((unsigned char)r[2])) {
                char hex[3] = {r[1], r[2], 0};
                char c = (char)strtol(hex, NULL, 16);
                if (c == '\0') { /* an escaped NUL would end the text the checks see */
                    rc = cn_fail(ctx, CAIRN_EINVAL,
                                 "invalid model source '%s': an escaped NUL byte (%%00) is not "
                                 "allowed",
                                 source);
                    break;
                }
                *w++ = c;
                r += 2;
            } else {
                *w++ = *r;
            }
        }
        *w = '\0';
        for (const char *p = text; *p && rc == CAIRN_OK; p++) {
            bool at_start = p == text || p[-1] == '/' || p[-1] == '\\';
            if (iscntrl((unsigned char)*p) ||
                (at_start && p[0] == '.' && p[1] == '.' && (!p[2] || p[2] == '/' || p[2] == '\\')))
                rc = cn_fail(ctx, CAIRN_EINVAL,
                             "invalid model source '%s': '..' segments and control characters "
                             "are not allowed",
                             source);
        }
    }
    free(text);
    return rc;
}

/* mv with the user filled in; *user_buf (freed by the caller) holds a looked-up name. */
static cairn_registry_move_opts resolve_move(const cairn_registry_move_opts *mv, char **user_buf)
{
    cairn_registry_move_opts out = CAIRN_REGISTRY_MOVE_OPTS_INIT;
    *user_buf = NULL;
    if (mv)
        out = *mv;
    if (!out.user || !*out.user)
        out.user = *user_buf = cn_login_name();
    if (!out.reason)
        out.reason = "";
    return out;
}

/* Fills in the default page size (0 means PAGE_DEFAULT) and checks it against limit. */
static cairn_status check_page_size(cairn_ctx *ctx, int64_t *max_results, int64_t limit)
{
    if (*max_results == 0)
        *max_results = PAGE_DEFAULT;
    if (*max_results < 0 || *max_results > limit)
        return cn_fail(ctx, CAIRN_EINVAL, "max_results must be between 1 and %lld, got %lld",
                       (long long)limit, (long long)*max_results);
    return CAIRN_OK;
}

CN_DEFINE_ARENA_FREE(cairn_registered_model_free, cairn_registered_model)
CN_DEFINE_ARENA_FREE(cairn_model_version_free, cairn_model_version)
CN_DEFINE_ARENA_FREE(cairn_registered_model_page_free, cairn_registered_model_page)
CN_DEFINE_ARENA_FREE(cairn_model_version_page_free, cairn_model_version_page)
CN_DEFINE_ARENA_FREE(cairn_registry_event_page_free, cairn_registry_event_page)

/* ---- registered models ---- */

cairn_status cairn_registry_create_model(cairn_ctx *ctx, const char *name, const char *description,
                                         const cairn_tag *tags, size_t n_tags)
{
    cairn_status rc = cn_need_store(ctx);
    if (rc == CAIRN_OK)
        rc = check_name(ctx, name);
    if (rc == CAIRN_OK)
        rc = check_description(ctx, description);
    if (rc == CAIRN_OK)
        rc = check_tags(ctx, tags, n_tags);
    if (rc != CAIRN_OK)
        return rc;
    return CN_STORE_OPS(ctx)->model_create(ctx, name, description ? description : "", tags, n_tags);
}

cairn_status cairn_registry_get_model(cairn_ctx *ctx, const char *name,
                                      cairn_registered_model **out)
{
    *out = NULL;
    cairn_status rc = cn_need_store(ctx);
    if (rc == CAIRN_OK)
        rc = check_name(ctx, name);
    return rc == CAIRN_OK ? CN_STORE_OPS(ctx)->model_get(ctx, name, out) : rc;
}

cairn_status cairn_registry_rename_model(cairn_ctx *ctx, const char *name, const char *new_name)
{
    cairn_status rc = cn_need_store(ctx);
    if (rc == CAIRN_OK)
        rc = check_name(ctx, name);
    if (rc == CAIRN_OK)
        rc = check_name(ctx, new_name);
    return rc == CAIRN_OK ? CN_STORE_OPS(ctx)->model_rename(ctx, name, new_name) : rc;
}

cairn_status cairn_registry_update_model(cairn_ctx *ctx, const char *name, const char *description)
{
    cairn_status rc = cn_need_store(ctx);
    if (rc == CAIRN_OK)
        rc = check_name(ctx, name);
    if (rc == CAIRN_OK)
        rc = check_description(ctx, description);
    if (rc != CAIRN_OK)
        return rc;
    return CN_STORE_OPS(ctx)->model_update(ctx, name, description ? description : "");
}

cairn_status cairn_registry_delete_model(cairn_ctx *ctx, const char *name)
{
    cairn_status rc = cn_need_store(ctx);
    if (rc == CAIRN_OK)
        rc = check_name(ctx, name);
    return rc == CAIRN_OK ? CN_STORE_OPS(ctx)->model_delete(ctx, name) : rc;
}

cairn_status cairn_registry_set_model_tag(cairn_ctx *ctx, const char *name, const char *key,
                                          const char *value)
{
    cairn_status rc = cn_need_store(ctx);
    if (rc == CAIRN_OK)
        rc = check_name(ctx, name);
    if (rc == CAIRN_OK)
        rc = check_tag(ctx, key, value);
    return rc == CAIRN_OK ? CN_STORE_OPS(ctx)->model_set_tag(ctx, name, key, value) : rc;
}

cairn_status cairn_registry_delete_model_tag(cairn_ctx *ctx, const char *name, const char *key)
{
    cairn_status rc = cn_need_store(ctx);
    if (rc == CAIRN_OK)
        rc = check_name(ctx, name);
    if (rc == CAIRN_OK)
        rc = cn_key_check(ctx, "tag", key);
    return rc == CAIRN_OK ? CN_STORE_OPS(ctx)->model_set_tag(ctx, name, key, NULL) : rc;
}

cairn_status cairn_registry_search_models(cairn_ctx *ctx, const cairn_registered_model_query *q,
                                          cairn_registered_model_page **out)
{
    cairn_registered_model_query s = CAIRN_REGISTERED_MODEL_QUERY_INIT;
    *out = NULL;
    if (q)
        s = *q;
    cairn_status rc = cn_need_store(ctx);
    if (rc == CAIRN_OK)
        rc = check_page_size(ctx, &s.max_results, PAGE_MAX);
    if (rc == CAIRN_OK)
        rc = check_tags(ctx, s.tags, s.n_tags);
    if (rc == CAIRN_OK && s.n_order_by && !s.order_by)
        rc = cn_fail(ctx, CAIRN_EINVAL, "order_by is NULL but n_order_by is %zu", s.n_order_by);
    return rc == CAIRN_OK ? CN_STORE_OPS(ctx)->models_search(ctx, &s, out) : rc;
}

/* ---- model versions ---- */

/* The run id of a "runs:/RUN/path" source into out (size 257); "" for other sources. */
static void source_run_id(const char *source, char *out, size_t size)
{
    out[0] = '\0';
    if (!cn_str_starts(source, "runs:/"))
        return;
    const char *id = source + strlen("runs:/");
    size_t n = strcspn(id, "/");
    if (n < size)
        cn_strlcpy(out, id, n + 1);
}

/* Resolves the run and source of a new version: the run must exist; a runs:/ source names
 * the same run. *source_out is a new string when built from run and path. */
static cairn_status resolve_source(cairn_ctx *ctx, const cairn_model_version_opts *o,
                                   char from_source[257], const char **run_out, char **source_out)
{
    const char *run_id = o->run_id && *o->run_id ? o->run_id : NULL;
    *source_out = NULL;
    if (o->source) {
        source_run_id(o->source, from_source, 257);
        if (run_id && *from_source && strcmp(run_id, from_source) != 0)
            return cn_fail(ctx, CAIRN_EINVAL, "source '%s' names run '%s', not run '%s'", o->source,
                           from_source, run_id);
        if (!run_id && *from_source)
            run_id = from_source;
    } else if (!run_id) {
        return cn_fail(ctx, CAIRN_EINVAL, "model version of '%s': give a source or a run", o->name);
    } else {
        const char *path = o->path && *o->path ? o->path : "model/model.cairn";
        while (*path == '/')
            path++;
        *source_out = cn_asprintf("runs:/%s/%s", run_id, path);
    }
    cairn_status rc = check_source(ctx, o->source ? o->source : *source_out);
    if (rc == CAIRN_OK && run_id) {
        cn_run_row row = {0};
        rc = CN_STORE_OPS(ctx)->run_lookup(ctx, run_id, &row);
        cn_run_row_release(&row);
    }
    *run_out = run_id ? run_id : "";
    return rc;
}

cairn_status cairn_model_version_create(cairn_ctx *ctx, const cairn_model_version_opts *opts,
                                        cairn_model_version **out)
{
    char *source = NULL, *user = NULL, run_buf[257];
    cn_version_new in = {0};
    int64_t version = 0;
    if (out)
        *out = NULL;
    cairn_status rc = cn_need_store(ctx);
    if (rc == CAIRN_OK && !opts)
        rc = cn_fail(ctx, CAIRN_EINVAL, "model version: missing options");
    if (rc == CAIRN_OK)
        rc = check_name(ctx, opts->name);
    if (rc == CAIRN_OK)
        rc = check_description(ctx, opts->description);
    if (rc == CAIRN_OK)
        rc = check_tags(ctx, opts->tags, opts->n_tags);
    if (rc == CAIRN_OK && opts->semver && *opts->semver)
        rc = cairn_semver_check(ctx, opts->semver);
    if (rc == CAIRN_OK)
        rc = resolve_source(ctx, opts, run_buf, &in.run_id, &source);
    if (rc != CAIRN_OK)
        goto done;
    in.name = opts->name;
    in.source = source ? source : opts->source;
    in.description = opts->description ? opts->description : "";
    in.semver = opts->semver && *opts->semver ? opts->semver : NULL;
    in.user = opts->user && *opts->user ? opts->user : (user = cn_login_name());
    in.tags = opts->tags;
    in.n_tags = opts->n_tags;
    rc = CN_STORE_OPS(ctx)->version_create(ctx, &in, &version);
    if (rc == CAIRN_OK && out)
        rc = CN_STORE_OPS(ctx)->version_get(ctx, opts->name, version, out);
done:
    free(source);
    free(user);
    return rc;
}

cairn_status cairn_model_version_get(cairn_ctx *ctx, const char *name, int64_t version,
                                     cairn_model_version **out)
{
    *out = NULL;
    cairn_status rc = cn_need_store(ctx);
    if (rc == CAIRN_OK)
        rc = check_version(ctx, name, version);
    return rc == CAIRN_OK ? CN_STORE_OPS(ctx)->version_get(ctx, name, version, out) : rc;
}

cairn_status cairn_model_version_get_by_alias(cairn_ctx *ctx, const char *name, const char *alias,
                                              cairn_model_version **out)
{
    *out = NULL;
    cairn_status rc = cn_need_store(ctx);
    if (rc == CAIRN_OK)
        rc = check_name(ctx, name);
    if (rc == CAIRN_OK)
        rc = cairn_alias_check(ctx, alias);
    return rc == CAIRN_OK ? CN_STORE_OPS(ctx)->version_get_by_alias(ctx, name, alias, out) : rc;
}

cairn_status cairn_model_version_update(cairn_ctx *ctx, const char *name, int64_t version,
                                        const char *description)
{
    cairn_status rc = cn_need_store(ctx);
    if (rc == CAIRN_OK)
        rc = check_version(ctx, name, version);
    if (rc == CAIRN_OK)
        rc = check_description(ctx, description);
    if (rc != CAIRN_OK)
        return rc;
    return CN_STORE_OPS(ctx)->version_update(ctx, name, version, description ? description : "");
}

cairn_status cairn_model_version_delete(cairn_ctx *ctx, const char *name, int64_t version)
{
    char *user = NULL;
    cairn_status rc = cn_need_store(ctx);
    if (rc == CAIRN_OK)
        rc = check_version(ctx, name, version);
    if (rc != CAIRN_OK)
        return rc;
    cairn_registry_move_opts mv = resolve_move(NULL, &user);
    char reason[64];
    snprintf(reason, sizeof reason, "version %lld deleted", (long long)version);
    mv.reason = reason;
    rc = CN_STORE_OPS(ctx)->version_delete(ctx, name, version, &mv);
    free(user);
    return rc;
}

cairn_status cairn_model_version_set_tag(cairn_ctx *ctx, const char *name, int64_t version,
                                         const char *key, const char *value)
{
    cairn_status rc = cn_need_store(ctx);
    if (rc == CAIRN_OK)
        rc = check_version(ctx, name, version);
    if (rc == CAIRN_OK)
        rc = check_tag(ctx, key, value);
    return rc == CAIRN_OK ? CN_STORE_OPS(ctx)->version_set_tag(ctx, name, version, key, value) : rc;
}

cairn_status cairn_model_version_delete_tag(cairn_ctx *ctx, const char *name, int64_t version,
                                            const char *key)
{
    cairn_status rc = cn_need_store(ctx);
    if (rc == CAIRN_OK)
        rc = check_version(ctx, name, version);
    if (rc == CAIRN_OK)
        rc = cn_key_check(ctx, "tag", key);
    return rc == CAIRN_OK ? CN_STORE_OPS(ctx)->version_set_tag(ctx, name, version, key, NULL) : rc;
}

cairn_status cairn_model_version_set_semver(cairn_ctx *ctx, const char *name, int64_t version,
                                            const char *semver)
{
    cairn_status rc = cn_need_store(ctx);
    if (rc == CAIRN_OK)
        rc = check_version(ctx, name, version);
    if (semver && !*semver)
        semver = NULL;
    if (rc == CAIRN_OK && semver)
        rc = cairn_semver_check(ctx, semver);
    return rc == CAIRN_OK ? CN_STORE_OPS(ctx)->version_set_semver(ctx, name, version, semver) : rc;
}

cairn_status cairn_model_version_search(cairn_ctx *ctx, const cairn_model_version_query *q,
                                        cairn_model_version_page **out)
{
    cairn_model_version_query s = CAIRN_MODEL_VERSION_QUERY_INIT;
    *out = NULL;
    if (q)
        s = *q;
    cairn_status rc = cn_need_store(ctx);
    if (rc == CAIRN_OK)
        rc = check_page_size(ctx, &s.max_results, VERSION_PAGE_MAX);
    if (rc == CAIRN_OK && s.name)
        rc = check_name(ctx, s.name);
    if (rc == CAIRN_OK && s.n_order_by && !s.order_by)
        rc = cn_fail(ctx, CAIRN_EINVAL, "order_by is NULL but n_order_by is %zu", s.n_order_by);
    return rc == CAIRN_OK ? CN_STORE_OPS(ctx)->versions_search(ctx, &s, out) : rc;
}

/* ---- aliases, stages, history ---- */

static cairn_status move_alias(cairn_ctx *ctx, const char *name, const char *alias, cn_alias_op op,
                               int64_t version, const cairn_registry_move_opts *mv,
                               int64_t *version_out)
{
    char *user = NULL;
    cairn_status rc = cn_need_store(ctx);
    if (rc == CAIRN_OK)
        rc = op == CN_ALIAS_SET ? check_version(ctx, name, version) : check_name(ctx, name);
    if (rc == CAIRN_OK)
        rc = cairn_alias_check(ctx, alias);
    if (rc != CAIRN_OK)
        return rc;
    cairn_registry_move_opts who = resolve_move(mv, &user);
    rc = CN_STORE_OPS(ctx)->alias_move(ctx, name, alias, op, version, &who, version_out);
    free(user);
    return rc;
}

cairn_status cairn_registry_set_alias(cairn_ctx *ctx, const char *name, const char *alias,
                                      int64_t version, const cairn_registry_move_opts *mv)
{
    return move_alias(ctx, name, alias, CN_ALIAS_SET, version, mv, NULL);
}

cairn_status cairn_registry_delete_alias(cairn_ctx *ctx, const char *name, const char *alias,
                                         const cairn_registry_move_opts *mv)
{
    return move_alias(ctx, name, alias, CN_ALIAS_DELETE, 0, mv, NULL);
}

cairn_status cairn_registry_rollback(cairn_ctx *ctx, const char *name, const char *alias,
                                     const cairn_registry_move_opts *mv, int64_t *version_out)
{
    if (version_out)
        *version_out = 0;
    return move_alias(ctx, name, alias, CN_ALIAS_ROLLBACK, 0, mv, version_out);
}

cairn_status cairn_model_version_transition_stage(cairn_ctx *ctx, const char *name, int64_t version,
                                                  cairn_model_stage stage, bool archive_existing,
                                                  const cairn_registry_move_opts *mv)
{
    char *user = NULL;
    cairn_status rc = cn_need_store(ctx);
    if (rc == CAIRN_OK)
        rc = check_version(ctx, name, version);
    if (rc == CAIRN_OK && !cairn_model_stage_str(stage))
        rc = cn_fail(ctx, CAIRN_EINVAL, "invalid stage %d", (int)stage);
    if (rc != CAIRN_OK)
        return rc;
    cairn_registry_move_opts who = resolve_move(mv, &user);
    rc = CN_STORE_OPS(ctx)->stage_transition(ctx, name, version, stage, archive_existing, &who);
    free(user);
    return rc;
}

cairn_status cairn_registry_history(cairn_ctx *ctx, const cairn_registry_history_query *q,
                                    cairn_registry_event_page **out)
{
    cairn_registry_history_query s = CAIRN_REGISTRY_HISTORY_QUERY_INIT;
    *out = NULL;
    if (q)
        s = *q;
    cairn_status rc = cn_need_store(ctx);
    if (rc == CAIRN_OK)
        rc = check_name(ctx, s.name);
    if (rc == CAIRN_OK && s.alias)
        rc = cairn_alias_check(ctx, s.alias);
    if (rc == CAIRN_OK)
        rc = check_page_size(ctx, &s.max_results, PAGE_MAX);
    return rc == CAIRN_OK ? CN_STORE_OPS(ctx)->registry_history(ctx, &s, out) : rc;
}
