/* SPDX-License-Identifier: MIT */
/* import.c - search spaces written for other tools: W&B sweep configurations (YAML or JSON)
 * and NNI search-space JSON, mapped onto cairn's parameters (docs/hpo.md lists the mapping
 * and what has no equivalent, which is refused by name). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "hpo/hpo_internal.h"
#include "core/core.h"
#include "base/buf.h"
#include "base/str.h"
#include "base/xmalloc.h"
#include "base/banned.h"

static cairn_status number(cairn_ctx *ctx, const cn_tree *t, const char *pname, const char *key,
                           const cn_node *v, double *out)
{
    if (!v || v->kind != CN_NODE_SCALAR || !v->is_plain || !cn_parse_double(v->text, out) ||
        !isfinite(*out))
        return cn_tree_fail(ctx, t, v, "parameter '%s': '%s' must be a number", pname, key);
    return CAIRN_OK;
}

static bool plain_int(const cn_node *v)
{
    int64_t x;
    return v && v->kind == CN_NODE_SCALAR && v->is_plain && cn_parse_int64(v->text, &x);
}

static cairn_status list_texts(cairn_ctx *ctx, const cn_tree *t, const char *pname,
                               const cn_node *v, const char ***out)
{
    *out = NULL;
    if (!v || v->kind != CN_NODE_LIST || v->n == 0)
        return cn_tree_fail(ctx, t, v, "parameter '%s': values must be a non-empty list", pname);
    if (v->n > CN_HPO_MAX_CHOICES)
        return cn_fail(ctx, CAIRN_ELIMIT, "parameter '%s': more than %d values", pname,
                       CN_HPO_MAX_CHOICES);
    *out = cn_xcalloc(v->n, sizeof **out);
    for (size_t i = 0; i < v->n; i++) {
        if (v->items[i]->kind != CN_NODE_SCALAR) {
            free(*out);
            *out = NULL;
            return cn_tree_fail(ctx, t, v->items[i], "parameter '%s': values must be scalars",
                                pname);
        }
        (*out)[i] = v->items[i]->text;
    }
    return CAIRN_OK;
}

/* ---- W&B sweeps ---- */

static cairn_status wandb_params(cairn_ctx *ctx, const cn_tree *t, cairn_space *sp,
                                 const cn_node *params, const char *prefix, int depth);

static cairn_status wandb_param(cairn_ctx *ctx, const cn_tree *t, cairn_space *sp, const char *name,
                                const cn_node *key, const cn_node *v, int depth)
{
    cn_raw_param r = {.name = name, .at = key};
    if (v->kind != CN_NODE_MAP)
        return cn_tree_fail(ctx, t, v,
                            "parameter '%s': must be a mapping (value, values, "
                            "distribution, min, max, ...)",
                            name);
    const cn_node *value = NULL, *values = NULL, *dist = NULL, *min = NULL, *max = NULL, *q = NULL,
                  *nested = NULL;
    for (size_t i = 0; i < v->n; i++) {
        const cn_node *k = v->pairs[i].key, *val = v->pairs[i].value;
        const char *kt = k->kind == CN_NODE_SCALAR ? k->text : "";
        if (strcmp(kt, "value") == 0)
            value = val;
        else if (strcmp(kt, "values") == 0)
            values = val;
        else if (strcmp(kt, "distribution") == 0)
            dist = val;
        else if (strcmp(kt, "min") == 0)
            min = val;
        else if (strcmp(kt, "max") == 0)
            max = val;
        else if (strcmp(kt, "q") == 0)
            q = val;
        else if (strcmp(kt, "parameters") == 0)
            nested = val;
        else if (strcmp(kt, "probabilities") == 0 || strcmp(kt, "mu") == 0 ||
                 strcmp(kt, "sigma") == 0)
            continue; /* checked with the distribution below */
        else
            return cn_tree_fail(ctx, t, k,
                                "parameter '%s': unknown W&B key '%s'; allowed: value, values, "
                                "probabilities, distribution, min, max, q, mu, sigma, parameters",
                                name, kt);
    }
    if (nested) {
        if (depth >= 8)
            return cn_tree_fail(ctx, t, nested, "parameter '%s': nested deeper than 8 levels",
                                name);
        return wandb_params(ctx, t, sp, nested, name, depth + 1);
    }
    const char *d = dist && dist->kind == CN_NODE_SCALAR ? dist->text : NULL;
    if (!d) {
        if (value)
            d = "constant";
        else if (values)
            d = "categorical";
        else if (min && max)
            d = plain_int(min) && plain_int(max) ? "int_uniform" : "uniform";
        else
            return cn_tree_fail(ctx, t, v, "parameter '%s': needs value, values or min and max",
                                name);
    }
    cairn_status rc = CAIRN_OK;
    if (strcmp(d, "constant") == 0) {
        if (!value || value->kind != CN_NODE_SCALAR)
            return cn_tree_fail(ctx, t, v, "parameter '%s': constant needs a scalar value", name);
        r.type = CAIRN_SPACE_PARAM_CONST;
        r.n_choices = 1;
        r.choices = &value->text;
        return cn_space_add(ctx, t, sp, &r);
    }
    if (strcmp(d, "categorical") == 0) {
        const char **texts = NULL;
        rc = list_texts(ctx, t, name, values, &texts);
        if (rc != CAIRN_OK)
            return rc;
        r.type = CAIRN_SPACE_PARAM_CATEGORICAL;
        r.n_choices = values->n;
        r.choices = texts;
        rc = cn_space_add(ctx, t, sp, &r);
        free(texts);
        return rc;
    }
    static const char *const floats[] = {"uniform", "q_uniform", "log_uniform",
                                         "log_uniform_values", NULL};
    bool is_int = strcmp(d, "int_uniform") == 0;
    if (!is_int && !cn_str_in(d, floats))
        return cn_tree_fail(ctx, t, dist,
                            "parameter '%s': W&B distribution '%s' has no cairn equivalent "
                            "(supported: constant, categorical, int_uniform, uniform, q_uniform, "
                            "log_uniform, log_uniform_values)",
                            name, d);
    rc = number(ctx, t, name, "min", min ? min : v, &r.low);
    if (rc == CAIRN_OK)
        rc = number(ctx, t, name, "max", max ? max : v, &r.high);
    if (rc != CAIRN_OK)
        return rc;
    r.type = is_int ? CAIRN_SPACE_PARAM_INT : CAIRN_SPACE_PARAM_FLOAT;
    if (strcmp(d, "q_uniform") == 0) {
        r.step = 1;
        if (q && (rc = number(ctx, t, name, "q", q, &r.step)) != CAIRN_OK)
            return rc;
    } else if (strcmp(d, "log_uniform") == 0) {
        /* W&B's log_uniform takes the bounds as natural-log exponents. */
        r.low = exp(r.low);
        r.high = exp(r.high);
        r.log = true;
    } else if (strcmp(d, "log_uniform_values") == 0) {
        r.log = true;
    }
    return cn_space_add(ctx, t, sp, &r);
}

static cairn_status wandb_params(cairn_ctx *ctx, const cn_tree *t, cairn_space *sp,
                                 const cn_node *params, const char *prefix, int depth)
{
    if (params->kind != CN_NODE_MAP)
        return cn_tree_fail(ctx, t, params, "W&B sweep: 'parameters' must be a mapping");
    for (size_t i = 0; i < params->n; i++) {
        const cn_node *k = params->pairs[i].key;
        if (k->kind != CN_NODE_SCALAR)
            return cn_tree_fail(ctx, t, k, "W&B sweep: parameter names must be scalars");
        char *name = prefix ? cn_asprintf("%s.%s", prefix, k->text) : cn_xstrdup(k->text);
        cairn_status rc = wandb_param(ctx, t, sp, name, k, params->pairs[i].value, depth);
        free(name);
        if (rc != CAIRN_OK)
            return rc;
    }
    return CAIRN_OK;
}

cairn_status cn_space_read_wandb(cairn_ctx *ctx, const cn_tree *t, cairn_space *sp)
{
    const cn_node *root = cn_tree_root(t);
    if (!root || root->kind != CN_NODE_MAP)
        return cn_tree_fail(ctx, t, root, "W&B sweep: the top level must be a mapping");
    const cn_node *params = cn_node_get(root, "parameters");
    if (!params)
        return cn_tree_fail(ctx, t, root, "W&B sweep: no 'parameters'");
    const cn_node *metric = cn_node_get(root, "metric");
    if (metric && metric->kind == CN_NODE_MAP) {
        const cn_node *name = cn_node_get(metric, "name"), *goal = cn_node_get(metric, "goal");
        if (name && name->kind == CN_NODE_SCALAR && name->text[0])
            cn_space_set_objective(sp, name->text,
                                   goal && goal->kind == CN_NODE_SCALAR &&
                                       strcmp(goal->text, "maximize") == 0);
    }
    return wandb_params(ctx, t, sp, params, NULL, 0);
}

/* ---- NNI ---- */

static cairn_status nni_params(cairn_ctx *ctx, const cn_tree *t, cairn_space *sp,
                               const cn_node *obj, const char *prefix, int depth, size_t parent,
                               const char *parent_value);

static cairn_status nni_param(cairn_ctx *ctx, const cn_tree *t, cairn_space *sp, const char *name,
                              const cn_node *key, const cn_node *v, int depth)
{
    cn_raw_param r = {.name = name, .at = key};
    if (v->kind != CN_NODE_MAP)
        return cn_tree_fail(ctx, t, v, "parameter '%s': must be {\"_type\": ..., \"_value\": ...}",
                            name);
    const cn_node *type = cn_node_get(v, "_type"), *value = cn_node_get(v, "_value");
    if (!type || type->kind != CN_NODE_SCALAR || !value || value->kind != CN_NODE_LIST)
        return cn_tree_fail(
            ctx, t, v, "parameter '%s': needs \"_type\" (a string) and \"_value\" (a list)", name);
    const char *ty = type->text;
    cairn_status rc = CAIRN_OK;
    if (strcmp(ty, "choice") == 0) {
        if (value->n == 0)
            return cn_tree_fail(ctx, t, value, "parameter '%s': choice needs values", name);
        if (value->n > CN_HPO_MAX_CHOICES)
            return cn_fail(ctx, CAIRN_ELIMIT, "parameter '%s': more than %d values", name,
                           CN_HPO_MAX_CHOICES);
        const char **texts = cn_xcalloc(value->n, sizeof *texts);
        for (size_t i = 0; i < value->n && rc == CAIRN_OK; i++) {
            const cn_node *it = value->items[i];
            if (it->kind == CN_NODE_SCALAR) {
                texts[i] = it->text;
            } else if (it->kind == CN_NODE_MAP && cn_node_get(it, "_name") &&
                       cn_node_get(it, "_name")->kind == CN_NODE_SCALAR) {
                texts[i] = cn_node_get(it, "_name")->text; /* a nested, conditional choice */
            } else {
                rc = cn_tree_fail(ctx, t, it,
                                  "parameter '%s': a choice is a scalar or an object with "
                                  "\"_name\"",
                                  name);
            }
        }
        if (rc == CAIRN_OK) {
            r.type = CAIRN_SPACE_PARAM_CATEGORICAL;
            r.n_choices = value->n;
            r.choices = texts;
            rc = cn_space_add(ctx, t, sp, &r);
        }
        size_t self = sp->n - 1;
        for (size_t i = 0; i < value->n && rc == CAIRN_OK; i++) {
            const cn_node *it = value->items[i];
            if (it->kind != CN_NODE_MAP)
                continue;
            if (depth >= 8)
                rc = cn_tree_fail(ctx, t, it, "parameter '%s': nested deeper than 8 levels", name);
            else
                rc = nni_params(ctx, t, sp, it, name, depth + 1, self, texts[i]);
        }
        free(texts);
        return rc;
    }
    double a[3] = {0, 0, 0};
    size_t want = strcmp(ty, "quniform") == 0 ? 3 : 2;
    static const char *const known[] = {"randint", "uniform", "quniform", "loguniform", NULL};
    if (!cn_str_in(ty, known))
        return cn_tree_fail(ctx, t, type,
                            "parameter '%s': NNI type '%s' has no cairn equivalent (supported: "
                            "choice, randint, uniform, quniform, loguniform)",
                            name, ty);
    if (value->n != want)
        return cn_tree_fail(ctx, t, value, "parameter '%s': %s needs %zu numbers in \"_value\"",
                            name, ty, want);
    for (size_t i = 0; i < want; i++)
        if ((rc = number(ctx, t, name, "_value", value->items[i], &a[i])) != CAIRN_OK)
            return rc;
    r.low = a[0];
    r.high = a[1];
    if (strcmp(ty, "randint") == 0) {
        /* NNI's randint is [lower, upper): the upper bound is exclusive. */
        r.type = CAIRN_SPACE_PARAM_INT;
        r.high = a[1] - 1;
    } else {
        r.type = CAIRN_SPACE_PARAM_FLOAT;
        r.log = strcmp(ty, "loguniform") == 0;
        r.step = want == 3 ? a[2] : 0;
        if (want == 3 && !(r.step > 0))
            return cn_tree_fail(ctx, t, value, "parameter '%s': quniform's q must be > 0", name);
    }
    return cn_space_add(ctx, t, sp, &r);
}

static cairn_status nni_params(cairn_ctx *ctx, const cn_tree *t, cairn_space *sp,
                               const cn_node *obj, const char *prefix, int depth, size_t parent,
                               const char *parent_value)
{
    for (size_t i = 0; i < obj->n; i++) {
        const cn_node *k = obj->pairs[i].key;
        if (k->kind != CN_NODE_SCALAR)
            return cn_tree_fail(ctx, t, k, "NNI search space: names must be strings");
        if (prefix && strcmp(k->text, "_name") == 0)
            continue;
        /* A nested parameter is named after its branch: "optimizer.sgd.momentum". */
        char *name =
            prefix ? cn_asprintf("%s.%s.%s", prefix, parent_value, k->text) : cn_xstrdup(k->text);
        size_t before = sp->n;
        cairn_status rc = nni_param(ctx, t, sp, name, k, obj->pairs[i].value, depth);
        free(name);
        if (rc != CAIRN_OK)
            return rc;
        if (prefix) {
            const char *vals[1] = {parent_value};
            /* Only the parameters directly under this branch: deeper ones got their own
             * condition on their nearer parent. */
            cn_space_add_cond(sp, before, sp->params[parent].name, vals, 1, k);
        }
    }
    return CAIRN_OK;
}

cairn_status cn_space_read_nni(cairn_ctx *ctx, const cn_tree *t, cairn_space *sp)
{
    const cn_node *root = cn_tree_root(t);
    if (!root || root->kind != CN_NODE_MAP)
        return cn_tree_fail(ctx, t, root, "NNI search space: the top level must be an object");
    return nni_params(ctx, t, sp, root, NULL, 0, 0, NULL);
}
