/* SPDX-License-Identifier: MIT */
/* model_ref.c - what a MODEL argument names: a model file (or a folder holding model.cairn),
 * runs:/RUN_ID/PATH (a run's artifact), models:/NAME@ALIAS or models:/NAME/VERSION (the
 * registry, through the version's source). One resolver for `cairn serve`, `cairn model
 * profile` and whatever else takes a MODEL. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cairn/registry.h"
#include "core/core.h"
#include "base/fs.h"
#include "base/sha256.h"
#include "base/str.h"
#include "base/xmalloc.h"
#include "base/banned.h"

/* Fails with rc and "ref: <the message ctx holds>" (copied first: cn_fail writes where it
 * reads). */
static cairn_status fail_on(cairn_ctx *ctx, cairn_status rc, const char *prefix)
{
    char *msg = cn_xstrdup(cairn_errmsg(ctx));
    cn_fail(ctx, rc, "%s: %s", prefix, msg);
    free(msg);
    return rc;
}

/* The model file of an artifact of a run: the file itself, or model.cairn in a folder. */
static cairn_status run_model_path(cairn_ctx *ctx, const char *run_id, const char *path, char **out)
{
    char *p = NULL;
    cairn_status rc = cairn_run_artifact_path(ctx, run_id, path, &p);
    if (rc != CAIRN_OK)
        return rc;
    if (cn_fs_is_dir(p)) {
        *out = cn_path_join(p, "model.cairn");
        cairn_free(p);
    } else {
        *out = cn_xstrdup(p);
        cairn_free(p);
    }
    return CAIRN_OK;
}

static cairn_status from_run(cairn_ctx *ctx, const char *ref, cairn_model_ref *out)
{
    const char *id = ref + strlen("runs:/");
    size_t idlen = strcspn(id, "/");
    const char *art = id[idlen] ? id + idlen + 1 : "";
    if (idlen == 0 || !*art || *art == '/')
        return cn_fail(ctx, CAIRN_EINVAL, "'%s' names no artifact: write runs:/RUN_ID/model", ref);
    out->run_id = cn_xstrndup(id, idlen);
    cairn_status rc = run_model_path(ctx, out->run_id, art, &out->path);
    if (rc != CAIRN_OK)
        return fail_on(ctx, rc, ref);
    out->name = cn_asprintf("run-%.8s", out->run_id);
    out->version = cn_xstrdup(out->run_id);
    return CAIRN_OK;
}

static cairn_status from_registry(cairn_ctx *ctx, const char *ref, cairn_model_ref *out)
{
    const char *rest = ref + strlen("models:/");
    const char *at = strchr(rest, '@');
    const char *slash = strchr(rest, '/');
    cairn_model_version *mv = NULL;
    cairn_status rc;
    if (at && (!slash || at < slash)) {
        out->name = cn_xstrndup(rest, (size_t)(at - rest));
        rc = cairn_model_version_get_by_alias(ctx, out->name, at + 1, &mv);
    } else if (slash) {
        out->name = cn_xstrndup(rest, (size_t)(slash - rest));
        int64_t v;
        if (!cn_parse_int64(slash + 1, &v) || v <= 0)
            return cn_fail(ctx, CAIRN_EINVAL,
                           "'%s': the version must be a number (models:/NAME/3) or an alias "
                           "(models:/NAME@champion)",
                           ref);
        rc = cairn_model_version_get(ctx, out->name, v, &mv);
    } else {
        return cn_fail(ctx, CAIRN_EINVAL,
                       "'%s' names no version: write models:/NAME@ALIAS or models:/NAME/VERSION",
                       ref);
    }
    if (rc != CAIRN_OK)
        return fail_on(ctx, rc, ref);
    out->registry_version = mv->version;
    out->version = cn_asprintf("%lld", (long long)mv->version);
    const char *src = mv->source;
    if (cn_str_starts(src, "runs:/")) {
        const char *id = src + strlen("runs:/");
        size_t idlen = strcspn(id, "/");
        out->run_id = cn_xstrndup(id, idlen);
        rc = run_model_path(ctx, out->run_id, id[idlen] ? id + idlen + 1 : "model", &out->path);
        if (rc != CAIRN_OK) {
            char *where =
                cn_asprintf("%s (version %lld, source %s)", ref, (long long)mv->version, src);
            fail_on(ctx, rc, where);
            free(where);
        }
    } else {
        out->path = cn_fs_is_dir(src) ? cn_path_join(src, "model.cairn") : cn_xstrdup(src);
        if (mv->run_id && *mv->run_id)
            out->run_id = cn_xstrdup(mv->run_id);
    }
    cairn_model_version_free(mv);
    return rc;
}

static cairn_status from_file(cairn_ctx *ctx, const char *ref, cairn_model_ref *out)
{
    if (!cn_fs_exists(ref))
        return cn_fail(ctx, CAIRN_ENOTFOUND,
                       "model '%s' not found: give a model file, runs:/RUN_ID/model, "
                       "models:/NAME@ALIAS or models:/NAME/VERSION",
                       ref);
    out->path = cn_fs_is_dir(ref) ? cn_path_join(ref, "model.cairn") : cn_xstrdup(ref);
    const char *base = strrchr(ref, '/');
    base = base ? base + 1 : ref;
    if (!*base) /* "dir/" */
        base = "model";
    size_t n = strlen(base);
    if (cn_str_ends(base, ".cairn") && n > 6)
        n -= 6;
    out->name = cn_xstrndup(base, n);
    char hex[65];
    int64_t size;
    if (cn_sha256_file(out->path, hex, &size) != 0)
        cn_strlcpy(hex, "unknown", sizeof hex);
    out->version = cn_xstrndup(hex, 12);
    return CAIRN_OK;
}

cairn_status cairn_model_ref_resolve(cairn_ctx *ctx, const char *ref, cairn_model_ref *out)
{
    memset(out, 0, sizeof *out);
    if (!ref || !*ref)
        return cn_fail(ctx, CAIRN_EINVAL,
                       "no model given: a model file, runs:/RUN_ID/model or models:/NAME@ALIAS");
    cairn_status rc = cn_str_starts(ref, "runs:/")     ? from_run(ctx, ref, out)
                      : cn_str_starts(ref, "models:/") ? from_registry(ctx, ref, out)
                                                       : from_file(ctx, ref, out);
    if (rc != CAIRN_OK)
        cairn_model_ref_release(out);
    return rc;
}

void cairn_model_ref_release(cairn_model_ref *r)
{
    if (!r)
        return;
    free(r->path);
    free(r->name);
    free(r->version);
    free(r->run_id);
    memset(r, 0, sizeof *r);
}
