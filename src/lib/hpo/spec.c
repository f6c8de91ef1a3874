/* SPDX-License-Identifier: MIT */
/* spec.c - the "name:key=value,key=value/rest" strings that choose and configure a sampler or
 * a pruner (`cairn tune --sampler tpe:multivariate=true`), with typed readers that name the
 * key and the allowed range in their messages. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "hpo/hpo_internal.h"
#include "core/core.h"
#include "base/str.h"
#include "base/xmalloc.h"
#include "base/banned.h"

void cn_spec_release(cn_spec *s)
{
    free(s->name);
    for (size_t i = 0; i < s->n; i++) {
        free(s->kv[i].key);
        free(s->kv[i].value);
    }
    free(s->kv);
    free(s->rest);
    memset(s, 0, sizeof *s);
}

cairn_status cn_spec_parse(cairn_ctx *ctx, const char *what, const char *text, cn_spec *out)
{
    memset(out, 0, sizeof *out);
    if (!text || !*text)
        return cn_fail(ctx, CAIRN_EINVAL, "%s: empty name", what);
    if (strlen(text) > 4096)
        return cn_fail(ctx, CAIRN_ELIMIT, "%s: longer than 4096 characters", what);
    const char *slash = strchr(text, '/');
    size_t len = slash ? (size_t)(slash - text) : strlen(text);
    if (slash)
        out->rest = cn_xstrdup(slash + 1);
    const char *colon = memchr(text, ':', len);
    size_t name_len = colon ? (size_t)(colon - text) : len;
    out->name = cn_xstrndup(text, name_len);
    if (!colon)
        return CAIRN_OK;
    const char *p = colon + 1, *end = text + len;
    while (p < end) {
        const char *comma = memchr(p, ',', (size_t)(end - p));
        const char *item_end = comma ? comma : end;
        const char *eq = memchr(p, '=', (size_t)(item_end - p));
        if (!eq || eq == p) {
            char *item = cn_xstrndup(p, (size_t)(item_end - p));
            cairn_status rc = cn_fail(ctx, CAIRN_EINVAL, "%s '%s': option '%s' is not key=value",
                                      what, out->name, item);
            free(item);
            cn_spec_release(out);
            return rc;
        }
        out->kv = cn_xrealloc(out->kv, (out->n + 1) * sizeof *out->kv);
        out->kv[out->n].key = cn_xstrndup(p, (size_t)(eq - p));
        out->kv[out->n].value = cn_xstrndup(eq + 1, (size_t)(item_end - eq - 1));
        out->n++;
        p = comma ? comma + 1 : end;
    }
    return CAIRN_OK;
}

/* Finds key and marks it read (its key becomes ""), so cn_spec_check_used sees only the
 * options nobody read. */
static cn_spec_kv *take(cn_spec *s, const char *key)
{
    cn_spec_kv *found = NULL;
    for (size_t i = 0; i < s->n; i++)
        if (s->kv[i].key[0] && strcmp(s->kv[i].key, key) == 0)
            found = &s->kv[i];
    if (found) /* the last one wins; earlier repeats stay and are reported as unknown */
        found->key[0] = '\0';
    return found;
}

const char *cn_spec_str(cn_spec *s, const char *key)
{
    cn_spec_kv *kv = take(s, key);
    return kv ? kv->value : NULL;
}

cairn_status cn_spec_bool(cairn_ctx *ctx, cn_spec *s, const char *key, bool *out)
{
    cn_spec_kv *kv = take(s, key);
    if (!kv)
        return CAIRN_OK;
    if (strcmp(kv->value, "true") == 0 || strcmp(kv->value, "1") == 0)
        *out = true;
    else if (strcmp(kv->value, "false") == 0 || strcmp(kv->value, "0") == 0)
        *out = false;
    else
        return cn_fail(ctx, CAIRN_EINVAL, "'%s': %s must be true or false, got '%s'", s->name, key,
                       kv->value);
    return CAIRN_OK;
}

cairn_status cn_spec_int(cairn_ctx *ctx, cn_spec *s, const char *key, int64_t lo, int64_t hi,
                         int64_t *out)
{
    cn_spec_kv *kv = take(s, key);
    if (!kv)
        return CAIRN_OK;
    int64_t v;
    if (!cn_parse_int64(kv->value, &v) || v < lo || v > hi)
        return cn_fail(ctx, CAIRN_EINVAL, "'%s': %s must be an integer in [%lld, %lld], got '%s'",
                       s->name, key, (long long)lo, (long long)hi, kv->value);
    *out = v;
    return CAIRN_OK;
}

cairn_status cn_spec_double(cairn_ctx *ctx, cn_spec *s, const char *key, double lo, double hi,
                            double *out)
{
    cn_spec_kv *kv = take(s, key);
    if (!kv)
        return CAIRN_OK;
    double v;
    if (!cn_parse_double(kv->value, &v) || isnan(v) || v < lo || v > hi)
        return cn_fail(ctx, CAIRN_EINVAL, "'%s': %s must be a number in [%g, %g], got '%s'",
                       s->name, key, lo, hi, kv->value);
    *out = v;
    return CAIRN_OK;
}

cairn_status cn_spec_check_used(cairn_ctx *ctx, const char *what, const cn_spec *s,
                                const char *allowed)
{
    for (size_t i = 0; i < s->n; i++)
        if (s->kv[i].key[0])
            return cn_fail(ctx, CAIRN_EINVAL,
                           "%s '%s': unknown or repeated option '%s'; allowed: %s", what, s->name,
                           s->kv[i].key, allowed[0] ? allowed : "none");
    return CAIRN_OK;
}
