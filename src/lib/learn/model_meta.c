/* SPDX-License-Identifier: MIT */
/* model_meta.c - the JSON metadata section of model files (learner, params, features and
 * their preprocessing, classes, digest, meta), written and parsed with jansson. It lives here
 * until src/lib/formats/json.c offers the helpers it needs. */
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "learn/model.h"
#include "core/core.h"
#include "base/str.h"
#include "base/xmalloc.h"
#include "base/banned.h"

static json_t *str_object(char **keys, char **values, size_t n)
{
    json_t *o = json_object();
    for (size_t i = 0; i < n; i++)
        json_object_set_new(o, keys[i], json_string(values[i]));
    return o;
}

char *cn_model_meta_dump(const cairn_model *m)
{
    json_t *root = json_object();
    json_object_set_new(root, "format", json_string("cairn-model"));
    json_object_set_new(root, "format_version", json_integer(CN_MODEL_VERSION));
    json_object_set_new(root, "learner", json_string(m->ops->name));
    json_object_set_new(
        root, "task",
        json_string(m->task == CN_TASK_CLASSIFICATION ? "classification" : "regression"));
    json_object_set_new(root, "label", json_string(m->label));
    if (m->task == CN_TASK_CLASSIFICATION) {
        json_t *classes = json_array();
        for (size_t k = 0; k < m->n_classes; k++)
            json_array_append_new(classes, json_string(m->classes[k]));
        json_object_set_new(root, "classes", classes);
    }
    json_object_set_new(root, "params", str_object(m->param_keys, m->param_values, m->n_params));
    char seed[32];
    snprintf(seed, sizeof seed, "%llu", (unsigned long long)m->seed);
    json_object_set_new(root, "seed", json_string(seed));
    json_object_set_new(root, "standardize", json_boolean(m->standardize));
    json_object_set_new(root, "encoding", json_string(m->ops->ordinal ? "ordinal" : "onehot"));
    json_object_set_new(root, "n_inputs", json_integer((json_int_t)m->n_inputs));
    json_t *features = json_array();
    for (size_t f = 0; f < m->n_features; f++) {
        const cn_feature *ft = &m->features[f];
        json_t *o = json_object();
        json_object_set_new(o, "name", json_string(ft->name));
        if (ft->type == CAIRN_COL_NUMERIC) {
            json_object_set_new(o, "type", json_string("numeric"));
            json_object_set_new(o, "mean", json_real(ft->mean));
            json_object_set_new(o, "scale", json_real(ft->scale));
        } else {
            json_t *levels = json_array();
            for (size_t l = 0; l < ft->n_levels; l++)
                json_array_append_new(levels, json_string(ft->levels[l]));
            json_object_set_new(o, "type", json_string("categorical"));
            json_object_set_new(o, "levels", levels);
        }
        json_array_append_new(features, o);
    }
    json_object_set_new(root, "features", features);
    json_object_set_new(root, "data_digest", json_string(m->digest));
    json_object_set_new(root, "meta", str_object(m->meta_keys, m->meta_values, m->n_meta));
    char *text = json_dumps(root, JSON_INDENT(1) | JSON_REAL_PRECISION(17));
    json_decref(root);
    CN_ASSERT(text != NULL); /* only fails on memory or on invalid UTF-8 we never store */
    char *copy = cn_xstrdup(text);
    free(text);
    return copy;
}

static cairn_status bad(cairn_ctx *ctx, const char *what)
{
    return cn_fail(ctx, CAIRN_EINVAL, "model metadata: %s", what);
}

/* Copies an object of string values into keys/values. */
static cairn_status str_pairs(cairn_ctx *ctx, json_t *o, const char *name, char ***keys,
                              char ***values, size_t *n)
{
    if (!json_is_object(o))
        return cn_fail(ctx, CAIRN_EINVAL, "model metadata: '%s' is not an object", name);
    size_t cap = json_object_size(o);
    *keys = cn_xcalloc(cap ? cap : 1, sizeof(char *));
    *values = cn_xcalloc(cap ? cap : 1, sizeof(char *));
    const char *k;
    json_t *v;
    json_object_foreach(o, k, v)
    {
        if (!json_is_string(v))
            return cn_fail(ctx, CAIRN_EINVAL, "model metadata: %s '%s' is not a string", name, k);
        (*keys)[*n] = cn_xstrdup(k);
        (*values)[*n] = cn_xstrdup(json_string_value(v));
        (*n)++;
    }
    return CAIRN_OK;
}

static cairn_status parse_features(cairn_ctx *ctx, json_t *arr, cairn_model *m)
{
    if (!json_is_array(arr) || json_array_size(arr) == 0)
        return bad(ctx, "'features' is not a non-empty array");
    size_t nf = json_array_size(arr);
    m->features = cn_xcalloc(nf, sizeof *m->features);
    for (size_t f = 0; f < nf; f++) {
        json_t *o = json_array_get(arr, f);
        json_t *name = json_object_get(o, "name"), *type = json_object_get(o, "type");
        if (!json_is_string(name) || !json_is_string(type))
            return bad(ctx, "a feature lacks a name or type");
        cn_feature *ft = &m->features[f];
        ft->name = cn_xstrdup(json_string_value(name));
        m->n_features = f + 1;
        if (strcmp(json_string_value(type), "numeric") == 0) {
            json_t *mean = json_object_get(o, "mean"), *scale = json_object_get(o, "scale");
            ft->type = CAIRN_COL_NUMERIC;
            if (!json_is_number(mean) || !json_is_number(scale))
                return cn_fail(ctx, CAIRN_EINVAL,
                               "model metadata: feature '%s' lacks mean or "
                               "scale",
                               ft->name);
            ft->mean = json_number_value(mean);
            ft->scale = json_number_value(scale);
            if (!isfinite(ft->mean) || !(ft->scale > 0) || !isfinite(ft->scale))
                return cn_fail(ctx, CAIRN_EINVAL,
                               "model metadata: feature '%s' has a bad "
                               "mean or scale",
                               ft->name);
        } else if (strcmp(json_string_value(type), "categorical") == 0) {
            json_t *levels = json_object_get(o, "levels");
            ft->type = CAIRN_COL_CATEGORICAL;
            if (!json_is_array(levels))
                return cn_fail(ctx, CAIRN_EINVAL, "model metadata: feature '%s' lacks levels",
                               ft->name);
            size_t nl = json_array_size(levels);
            ft->levels = cn_xcalloc(nl ? nl : 1, sizeof(char *));
            for (size_t l = 0; l < nl; l++) {
                json_t *lv = json_array_get(levels, l);
                if (!json_is_string(lv))
                    return cn_fail(ctx, CAIRN_EINVAL,
                                   "model metadata: feature '%s' has a non-string level", ft->name);
                ft->levels[l] = cn_xstrdup(json_string_value(lv));
                ft->n_levels = l + 1;
            }
        } else {
            return cn_fail(ctx, CAIRN_EINVAL,
                           "model metadata: feature '%s' has unknown type "
                           "'%s'",
                           ft->name, json_string_value(type));
        }
    }
    return CAIRN_OK;
}

static cairn_status parse_root(cairn_ctx *ctx, json_t *root, cairn_model *m)
{
    if (!json_is_object(root))
        return bad(ctx, "not a JSON object");
    json_t *format = json_object_get(root, "format");
    if (!json_is_string(format) || strcmp(json_string_value(format), "cairn-model") != 0)
        return bad(ctx, "'format' is not \"cairn-model\"");
    json_t *learner = json_object_get(root, "learner");
    if (!json_is_string(learner))
        return bad(ctx, "no learner");
    m->ops = cn_learner_find(json_string_value(learner));
    if (!m->ops)
        return cn_fail(ctx, CAIRN_EINVAL, "model metadata: unknown learner '%s'",
                       json_string_value(learner));
    json_t *task = json_object_get(root, "task");
    if (json_is_string(task) && strcmp(json_string_value(task), "classification") == 0)
        m->task = CN_TASK_CLASSIFICATION;
    else if (json_is_string(task) && strcmp(json_string_value(task), "regression") == 0)
        m->task = CN_TASK_REGRESSION;
    else
        return bad(ctx, "'task' is not regression or classification");
    if (!(m->ops->tasks & m->task))
        return cn_fail(ctx, CAIRN_EINVAL, "model metadata: learner '%s' cannot do that task",
                       m->ops->name);
    json_t *label = json_object_get(root, "label");
    if (!json_is_string(label))
        return bad(ctx, "no label");
    m->label = cn_xstrdup(json_string_value(label));
    if (m->task == CN_TASK_CLASSIFICATION) {
        json_t *classes = json_object_get(root, "classes");
        if (!json_is_array(classes) || json_array_size(classes) < 2)
            return bad(ctx, "a classifier needs at least two 'classes'");
        size_t k = json_array_size(classes);
        m->classes = cn_xcalloc(k, sizeof(char *));
        for (size_t i = 0; i < k; i++) {
            json_t *c = json_array_get(classes, i);
            if (!json_is_string(c))
                return bad(ctx, "a class label is not a string");
            m->classes[i] = cn_xstrdup(json_string_value(c));
            m->n_classes = i + 1;
        }
    }
    cairn_status rc = str_pairs(ctx, json_object_get(root, "params"), "params", &m->param_keys,
                                &m->param_values, &m->n_params);
    if (rc != CAIRN_OK)
        return rc;
    rc = str_pairs(ctx, json_object_get(root, "meta"), "meta", &m->meta_keys, &m->meta_values,
                   &m->n_meta);
    if (rc != CAIRN_OK)
        return rc;
    json_t *seed = json_object_get(root, "seed");
    int64_t seed_v;
    if (!json_is_string(seed) || !cn_parse_int64(json_string_value(seed), &seed_v)) {
        /* Seeds above INT64_MAX are written unsigned. */
        char *end = NULL;
        const char *s = json_is_string(seed) ? json_string_value(seed) : "";
        unsigned long long u = strtoull(s, &end, 10);
        if (!*s || *end || *s == '-')
            return bad(ctx, "'seed' is not an unsigned integer string");
        m->seed = u;
    } else {
        m->seed = (uint64_t)seed_v;
    }
    json_t *standardize = json_object_get(root, "standardize");
    if (!json_is_boolean(standardize))
        return bad(ctx, "'standardize' is not a boolean");
    m->standardize = json_is_true(standardize);
    json_t *digest = json_object_get(root, "data_digest");
    if (!json_is_string(digest) || strlen(json_string_value(digest)) != 64)
        return bad(ctx, "'data_digest' is not a SHA-256 hex string");
    cn_strlcpy(m->digest, json_string_value(digest), sizeof m->digest);
    rc = parse_features(ctx, json_object_get(root, "features"), m);
    if (rc != CAIRN_OK)
        return rc;
    json_t *n_inputs = json_object_get(root, "n_inputs");
    m->n_inputs = cn_model_width(m);
    if (!json_is_integer(n_inputs) || json_integer_value(n_inputs) != (json_int_t)m->n_inputs)
        return bad(ctx, "'n_inputs' does not match the features");
    return CAIRN_OK;
}

cairn_status cn_model_meta_parse(cairn_ctx *ctx, const char *text, size_t len, cairn_model *m)
{
    json_error_t err;
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &err);
    if (!root)
        return cn_fail(ctx, CAIRN_EINVAL, "model metadata: invalid JSON at line %d column %d: %s",
                       err.line, err.column, err.text);
    cairn_status rc = parse_root(ctx, root, m);
    json_decref(root);
    return rc;
}

bool cn_json_well_formed(const void *p, size_t len)
{
    json_error_t err;
    json_t *root = json_loadb(p, len, 0, &err);
    json_decref(root);
    return root != NULL;
}
