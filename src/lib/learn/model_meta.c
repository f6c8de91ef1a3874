/* SPDX-License-Identifier: MIT */
/* model_meta.c - the JSON metadata section of model files (learner, params, features and
 * their preprocessing, classes, digest, meta), written and parsed through formats/json.h. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "learn/model.h"
#include "core/core.h"
#include "formats/json.h"
#include "base/str.h"
#include "base/xmalloc.h"
#include "base/banned.h"

size_t cn_model_width(const cairn_model *m)
{
    size_t w = 0;
    for (size_t i = 0; i < m->n_features; i++)
        w += m->features[i].type == CAIRN_COL_CATEGORICAL && !m->ops->ordinal
                 ? m->features[i].n_levels
                 : 1;
    return w;
}

static cn_json *str_object(char **keys, char **values, size_t n)
{
    cn_json *o = cn_json_object_new();
    for (size_t i = 0; i < n; i++)
        cn_json_object_set(o, keys[i], cn_json_string_new(values[i]));
    return o;
}

char *cn_model_meta_dump(const cairn_model *m)
{
    cn_json *root = cn_json_object_new();
    cn_json_object_set(root, "format", cn_json_string_new("cairn-model"));
    cn_json_object_set(root, "format_version", cn_json_int_new(CN_MODEL_VERSION));
    cn_json_object_set(root, "learner", cn_json_string_new(m->ops->name));
    cn_json_object_set(
        root, "task",
        cn_json_string_new(m->task == CN_TASK_CLASSIFICATION ? "classification" : "regression"));
    cn_json_object_set(root, "label", cn_json_string_new(m->label));
    if (m->task == CN_TASK_CLASSIFICATION) {
        cn_json *classes = cn_json_array_new();
        for (size_t k = 0; k < m->n_classes; k++)
            cn_json_array_append(classes, cn_json_string_new(m->classes[k]));
        cn_json_object_set(root, "classes", classes);
    }
    cn_json_object_set(root, "params", str_object(m->param_keys, m->param_values, m->n_params));
    char seed[32];
    snprintf(seed, sizeof seed, "%llu", (unsigned long long)m->seed);
    cn_json_object_set(root, "seed", cn_json_string_new(seed));
    cn_json_object_set(root, "standardize", cn_json_bool_new(m->standardize));
    cn_json_object_set(root, "encoding",
                       cn_json_string_new(m->ops->ordinal ? "ordinal" : "onehot"));
    cn_json_object_set(root, "n_inputs", cn_json_int_new((int64_t)m->n_inputs));
    cn_json *features = cn_json_array_new();
    for (size_t f = 0; f < m->n_features; f++) {
        const cn_feature *ft = &m->features[f];
        cn_json *o = cn_json_object_new();
        cn_json_object_set(o, "name", cn_json_string_new(ft->name));
        if (ft->type == CAIRN_COL_NUMERIC) {
            cn_json_object_set(o, "type", cn_json_string_new("numeric"));
            cn_json_object_set(o, "mean", cn_json_real_new(ft->mean));
            cn_json_object_set(o, "scale", cn_json_real_new(ft->scale));
        } else {
            cn_json *levels = cn_json_array_new();
            for (size_t l = 0; l < ft->n_levels; l++)
                cn_json_array_append(levels, cn_json_string_new(ft->levels[l]));
            cn_json_object_set(o, "type", cn_json_string_new("categorical"));
            cn_json_object_set(o, "levels", levels);
        }
        cn_json_array_append(features, o);
    }
    cn_json_object_set(root, "features", features);
    cn_json_object_set(root, "data_digest", cn_json_string_new(m->digest));
    cn_json_object_set(root, "meta", str_object(m->meta_keys, m->meta_values, m->n_meta));
    /* Optional (files before it lack the key, and readers ignore keys they do not know): the
     * drift reference profile, one line of JSON kept as a string. */
    if (m->drift_profile)
        cn_json_object_set(root, "drift_profile", cn_json_string_new(m->drift_profile));
    char *text = cn_json_dump_indented(root);
    cn_json_free(root);
    return text;
}

static cairn_status bad(cairn_ctx *ctx, const char *what)
{
    return cn_fail(ctx, CAIRN_EINVAL, "model metadata: %s", what);
}

/* Copies an object of string values into keys/values. */
static cairn_status str_pairs(cairn_ctx *ctx, const cn_json *o, const char *name, char ***keys,
                              char ***values, size_t *n)
{
    if (cn_json_typeof(o) != CN_JSON_OBJECT)
        return cn_fail(ctx, CAIRN_EINVAL, "model metadata: '%s' is not an object", name);
    size_t cap = cn_json_object_size(o);
    *keys = cn_xcalloc(cap ? cap : 1, sizeof(char *));
    *values = cn_xcalloc(cap ? cap : 1, sizeof(char *));
    for (void *it = cn_json_object_iter(o); it; it = cn_json_object_next(o, it)) {
        const char *k = cn_json_iter_key(it), *v = cn_json_string(cn_json_iter_value(it));
        if (!v)
            return cn_fail(ctx, CAIRN_EINVAL, "model metadata: %s '%s' is not a string", name, k);
        (*keys)[*n] = cn_xstrdup(k);
        (*values)[*n] = cn_xstrdup(v);
        (*n)++;
    }
    return CAIRN_OK;
}

static bool is_number(const cn_json *j)
{
    cn_json_type t = cn_json_typeof(j);
    return t == CN_JSON_INT || t == CN_JSON_REAL;
}

static cairn_status parse_features(cairn_ctx *ctx, const cn_json *arr, cairn_model *m)
{
    if (cn_json_typeof(arr) != CN_JSON_ARRAY || cn_json_array_size(arr) == 0)
        return bad(ctx, "'features' is not a non-empty array");
    size_t nf = cn_json_array_size(arr);
    m->features = cn_xcalloc(nf, sizeof *m->features);
    for (size_t f = 0; f < nf; f++) {
        const cn_json *o = cn_json_array_get(arr, f);
        const char *name = cn_json_string(cn_json_object_get(o, "name"));
        const char *type = cn_json_string(cn_json_object_get(o, "type"));
        if (!name || !type)
            return bad(ctx, "a feature lacks a name or type");
        cn_feature *ft = &m->features[f];
        ft->name = cn_xstrdup(name);
        m->n_features = f + 1;
        if (strcmp(type, "numeric") == 0) {
            const cn_json *mean = cn_json_object_get(o, "mean");
            const cn_json *scale = cn_json_object_get(o, "scale");
            ft->type = CAIRN_COL_NUMERIC;
            if (!is_number(mean) || !is_number(scale))
                return cn_fail(ctx, CAIRN_EINVAL,
                               "model metadata: feature '%s' lacks mean or "
                               "scale",
                               ft->name);
            ft->mean = cn_json_number(mean);
            ft->scale = cn_json_number(scale);
            if (!isfinite(ft->mean) || !(ft->scale > 0) || !isfinite(ft->scale))
                return cn_fail(ctx, CAIRN_EINVAL,
                               "model metadata: feature '%s' has a bad "
                               "mean or scale",
                               ft->name);
        } else if (strcmp(type, "categorical") == 0) {
            const cn_json *levels = cn_json_object_get(o, "levels");
            ft->type = CAIRN_COL_CATEGORICAL;
            if (cn_json_typeof(levels) != CN_JSON_ARRAY)
                return cn_fail(ctx, CAIRN_EINVAL, "model metadata: feature '%s' lacks levels",
                               ft->name);
            size_t nl = cn_json_array_size(levels);
            ft->levels = cn_xcalloc(nl ? nl : 1, sizeof(char *));
            for (size_t l = 0; l < nl; l++) {
                const char *lv = cn_json_string(cn_json_array_get(levels, l));
                if (!lv)
                    return cn_fail(ctx, CAIRN_EINVAL,
                                   "model metadata: feature '%s' has a non-string level", ft->name);
                ft->levels[l] = cn_xstrdup(lv);
                ft->n_levels = l + 1;
            }
        } else {
            return cn_fail(ctx, CAIRN_EINVAL,
                           "model metadata: feature '%s' has unknown type "
                           "'%s'",
                           ft->name, type);
        }
    }
    return CAIRN_OK;
}

static cairn_status parse_root(cairn_ctx *ctx, const cn_json *root, cairn_model *m)
{
    if (cn_json_typeof(root) != CN_JSON_OBJECT)
        return bad(ctx, "not a JSON object");
    const char *format = cn_json_string(cn_json_object_get(root, "format"));
    if (!format || strcmp(format, "cairn-model") != 0)
        return bad(ctx, "'format' is not \"cairn-model\"");
    const char *learner = cn_json_string(cn_json_object_get(root, "learner"));
    if (!learner)
        return bad(ctx, "no learner");
    m->ops = cn_learner_find(learner);
    if (!m->ops)
        return cn_fail(ctx, CAIRN_EINVAL, "model metadata: unknown learner '%s'", learner);
    const char *task = cn_json_string(cn_json_object_get(root, "task"));
    if (task && strcmp(task, "classification") == 0)
        m->task = CN_TASK_CLASSIFICATION;
    else if (task && strcmp(task, "regression") == 0)
        m->task = CN_TASK_REGRESSION;
    else
        return bad(ctx, "'task' is not regression or classification");
    if (!(m->ops->tasks & m->task))
        return cn_fail(ctx, CAIRN_EINVAL, "model metadata: learner '%s' cannot do that task",
                       m->ops->name);
    const char *label = cn_json_string(cn_json_object_get(root, "label"));
    if (!label)
        return bad(ctx, "no label");
    m->label = cn_xstrdup(label);
    if (m->task == CN_TASK_CLASSIFICATION) {
        const cn_json *classes = cn_json_object_get(root, "classes");
        if (cn_json_typeof(classes) != CN_JSON_ARRAY || cn_json_array_size(classes) < 2)
            return bad(ctx, "a classifier needs at least two 'classes'");
        size_t k = cn_json_array_size(classes);
        m->classes = cn_xcalloc(k, sizeof(char *));
        for (size_t i = 0; i < k; i++) {
            const char *c = cn_json_string(cn_json_array_get(classes, i));
            if (!c)
                return bad(ctx, "a class label is not a string");
            m->classes[i] = cn_xstrdup(c);
            m->n_classes = i + 1;
        }
    }
    cairn_status rc = str_pairs(ctx, cn_json_object_get(root, "params"), "params", &m->param_keys,
                                &m->param_values, &m->n_params);
    if (rc != CAIRN_OK)
        return rc;
    rc = str_pairs(ctx, cn_json_object_get(root, "meta"), "meta", &m->meta_keys, &m->meta_values,
                   &m->n_meta);
    if (rc != CAIRN_OK)
        return rc;
    const cn_json *profile = cn_json_object_get(root, "drift_profile");
    if (profile) {
        if (!cn_json_string(profile))
            return bad(ctx, "'drift_profile' is not a string");
        m->drift_profile = cn_xstrdup(cn_json_string(profile));
    }
    const char *seed = cn_json_string(cn_json_object_get(root, "seed"));
    int64_t seed_v;
    if (!seed || !cn_parse_int64(seed, &seed_v)) {
        /* Seeds above INT64_MAX are written unsigned. */
        char *end = NULL;
        const char *s = seed ? seed : "";
        unsigned long long u = strtoull(s, &end, 10);
        if (!*s || *end || *s == '-')
            return bad(ctx, "'seed' is not an unsigned integer string");
        m->seed = u;
    } else {
        m->seed = (uint64_t)seed_v;
    }
    const cn_json *standardize = cn_json_object_get(root, "standardize");
    if (cn_json_typeof(standardize) != CN_JSON_BOOL)
        return bad(ctx, "'standardize' is not a boolean");
    m->standardize = cn_json_bool(standardize);
    const char *digest = cn_json_string(cn_json_object_get(root, "data_digest"));
    if (!digest || strlen(digest) != 64)
        return bad(ctx, "'data_digest' is not a SHA-256 hex string");
    cn_strlcpy(m->digest, digest, sizeof m->digest);
    rc = parse_features(ctx, cn_json_object_get(root, "features"), m);
    if (rc != CAIRN_OK)
        return rc;
    const cn_json *n_inputs = cn_json_object_get(root, "n_inputs");
    m->n_inputs = cn_model_width(m);
    if (cn_json_typeof(n_inputs) != CN_JSON_INT || cn_json_int(n_inputs) != (int64_t)m->n_inputs)
        return bad(ctx, "'n_inputs' does not match the features");
    return CAIRN_OK;
}

cairn_status cn_model_meta_parse(cairn_ctx *ctx, const char *text, size_t len, cairn_model *m)
{
    cn_json *root = NULL;
    cairn_status rc = cn_json_parse_strict(ctx, "model metadata", text, len, &root);
    if (rc == CAIRN_OK)
        rc = parse_root(ctx, root, m);
    cn_json_free(root);
    return rc;
}
