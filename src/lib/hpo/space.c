/* SPDX-License-Identifier: MIT */
/* space.c - search spaces: cairn's own schema (PRODUCT.md §5, docs/hpo.md) read from the
 * generic tree, the rules every parameter obeys whatever format it came from, conditions
 * (`when:`), and the value conversions samplers and stores share. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "hpo/hpo_internal.h"
#include "core/core.h"
#include "base/str.h"
#include "base/xmalloc.h"
#include "base/banned.h"

/* A condition as read, resolved by cn_space_finish once every parameter is known. */
typedef struct pending_cond {
    size_t child;
    char *parent;
    char **values;
    size_t n_values;
    const cn_node *at;
} pending_cond;

typedef struct space_builder {
    pending_cond *conds;
    size_t n_conds;
} space_builder;

/* The pending conditions live beside the space while it is built (the space is the first
 * member, so freeing the space frees both). */
typedef struct cairn_space_build {
    cairn_space sp;
    space_builder b;
} cairn_space_build;

cairn_space *cn_space_new(void)
{
    cairn_space_build *sb = cn_xcalloc(1, sizeof *sb);
    return &sb->sp;
}

static space_builder *builder(cairn_space *sp)
{
    return &((cairn_space_build *)sp)->b;
}

static void release_pending(space_builder *b)
{
    for (size_t i = 0; i < b->n_conds; i++) {
        free(b->conds[i].parent);
        for (size_t j = 0; j < b->conds[i].n_values; j++)
            free(b->conds[i].values[j]);
        free(b->conds[i].values);
    }
    free(b->conds);
    b->conds = NULL;
    b->n_conds = 0;
}

void cairn_space_free(cairn_space *sp)
{
    if (!sp)
        return;
    for (size_t i = 0; i < sp->n; i++) {
        cn_param *p = &sp->params[i];
        free(p->name);
        for (size_t j = 0; j < p->n_choices; j++)
            free(p->choices[j]);
        free(p->choices);
        for (size_t j = 0; j < p->n_conds; j++)
            free(p->conds[j].allowed);
        free(p->conds);
    }
    free(sp->params);
    free(sp->order);
    free(sp->objective);
    free(sp->strategy);
    release_pending(builder(sp));
    free(sp);
}

void cn_space_set_objective(cairn_space *sp, const char *name, bool maximize)
{
    free(sp->objective);
    sp->objective = cn_xstrdup(name);
    sp->maximize = maximize;
}

static bool is_integer(double v)
{
    return isfinite(v) && v == floor(v) && fabs(v) < 9007199254740992.0;
}

static cairn_status fail_at(cairn_ctx *ctx, const cn_tree *t, const cn_node *at, const char *fmt,
                            ...) __attribute__((format(printf, 4, 5)));
static cairn_status fail_at(cairn_ctx *ctx, const cn_tree *t, const cn_node *at, const char *fmt,
                            ...)
{
    va_list ap;
    cn_buf msg = CN_BUF_INIT;
    va_start(ap, fmt);
    cn_buf_vprintf(&msg, fmt, ap);
    va_end(ap);
    cairn_status rc =
        t ? cn_tree_fail(ctx, t, at, "%s", msg.data) : cn_fail(ctx, CAIRN_EINVAL, "%s", msg.data);
    cn_buf_release(&msg);
    return rc;
}

static bool valid_name(const char *s)
{
    if (!*s || strlen(s) > CAIRN_KEY_MAX)
        return false;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p < 0x20 || *p == 0x7f || *p == '=' || *p == ',')
            return false;
    return true;
}

cairn_status cn_space_add(cairn_ctx *ctx, const cn_tree *t, cairn_space *sp, const cn_raw_param *r)
{
    const char *nm = r->name;
    if (!valid_name(nm))
        return fail_at(ctx, t, r->at,
                       "parameter '%s': a name is 1 to %d characters without control "
                       "characters, '=' or ','",
                       nm, CAIRN_KEY_MAX);
    for (size_t i = 0; i < sp->n; i++)
        if (strcmp(sp->params[i].name, nm) == 0)
            return fail_at(ctx, t, r->at, "parameter '%s' appears twice", nm);
    if (sp->n >= CN_HPO_MAX_PARAMS)
        return cn_fail(ctx, CAIRN_ELIMIT, "search space: more than %d parameters",
                       CN_HPO_MAX_PARAMS);
    double low = r->low, high = r->high, step = r->step;
    if (r->type == CAIRN_SPACE_PARAM_FLOAT || r->type == CAIRN_SPACE_PARAM_INT) {
        if (!isfinite(low) || !isfinite(high))
            return fail_at(ctx, t, r->at, "parameter '%s': low and high must be finite numbers",
                           nm);
        if (low > high)
            return fail_at(ctx, t, r->at, "parameter '%s': low (%g) > high (%g)", nm, low, high);
        if (!isfinite(high - low))
            return fail_at(ctx, t, r->at, "parameter '%s': high - low must be a finite number", nm);
        if (r->log && step != 0)
            return fail_at(ctx, t, r->at,
                           "parameter '%s': log scale and step cannot be used together", nm);
        if (r->log && !(low > 0))
            return fail_at(ctx, t, r->at, "parameter '%s': log scale needs low > 0, got %g", nm,
                           low);
        if (!isfinite(step) || step < 0)
            return fail_at(ctx, t, r->at, "parameter '%s': step must be > 0, got %g", nm, step);
    }
    if (r->type == CAIRN_SPACE_PARAM_INT) {
        if (!is_integer(low) || !is_integer(high))
            return fail_at(ctx, t, r->at,
                           "parameter '%s': int bounds must be integers, got %g and %g", nm, low,
                           high);
        if (step == 0)
            step = 1;
        if (!is_integer(step))
            return fail_at(ctx, t, r->at,
                           "parameter '%s': int step must be an integer >= 1, got %g", nm, step);
    }
    if (step > 0) {
        /* Optuna's rule: high comes down to the last point of the grid low + k * step. */
        double k = floor((high - low) / step + 1e-9);
        if (k > 1e9)
            return fail_at(ctx, t, r->at,
                           "parameter '%s': more than 1e9 steps between low and high", nm);
        high = low + k * step;
    }
    if (r->type == CAIRN_SPACE_PARAM_CATEGORICAL || r->type == CAIRN_SPACE_PARAM_CONST) {
        if (r->n_choices == 0)
            return fail_at(ctx, t, r->at, "parameter '%s': categorical needs at least one value",
                           nm);
        if (r->n_choices > CN_HPO_MAX_CHOICES)
            return cn_fail(ctx, CAIRN_ELIMIT, "parameter '%s': more than %d values", nm,
                           CN_HPO_MAX_CHOICES);
        for (size_t i = 0; i < r->n_choices; i++)
            for (size_t j = 0; j < i; j++)
                if (strcmp(r->choices[i], r->choices[j]) == 0)
                    return fail_at(ctx, t, r->at, "parameter '%s': value '%s' appears twice", nm,
                                   r->choices[i]);
    }
    if (sp->n % 16 == 0)
        sp->params = cn_xrealloc(sp->params, (sp->n + 16) * sizeof *sp->params);
    cn_param *p = &sp->params[sp->n++];
    memset(p, 0, sizeof *p);
    p->name = cn_xstrdup(nm);
    p->type = r->type;
    p->low = low;
    p->high = high;
    p->step = step;
    p->log = r->log;
    if (r->n_choices) {
        p->n_choices = r->n_choices;
        p->choices = cn_xcalloc(r->n_choices, sizeof *p->choices);
        for (size_t i = 0; i < r->n_choices; i++)
            p->choices[i] = cn_xstrdup(r->choices[i]);
    }
    switch (p->type) {
    case CAIRN_SPACE_PARAM_FLOAT:
        if (p->log) {
            p->L = log(low);
            p->H = log(high);
        } else if (step > 0) {
            p->L = low - step / 2;
            p->H = high + step / 2;
            p->q = step;
        } else {
            p->L = low;
            p->H = high;
        }
        break;
    case CAIRN_SPACE_PARAM_INT:
        if (p->log) {
            p->L = log(low - 0.5);
            p->H = log(high + 0.5);
        } else {
            p->L = low - step / 2;
            p->H = high + step / 2;
            p->q = step;
        }
        break;
    default:
        p->L = 0;
        p->H = (double)p->n_choices;
        break;
    }
    return CAIRN_OK;
}

void cn_space_add_cond(cairn_space *sp, size_t child, const char *parent, const char *const *values,
                       size_t n_values, const cn_node *at)
{
    space_builder *b = builder(sp);
    if (b->n_conds % 8 == 0)
        b->conds = cn_xrealloc(b->conds, (b->n_conds + 8) * sizeof *b->conds);
    pending_cond *c = &b->conds[b->n_conds++];
    c->child = child;
    c->parent = cn_xstrdup(parent);
    c->n_values = n_values;
    c->values = cn_xcalloc(n_values ? n_values : 1, sizeof *c->values);
    for (size_t i = 0; i < n_values; i++)
        c->values[i] = cn_xstrdup(values[i]);
    c->at = at;
}

int64_t cairn_space_find(const cairn_space *sp, const char *name)
{
    for (size_t i = 0; i < sp->n; i++)
        if (strcmp(sp->params[i].name, name) == 0)
            return (int64_t)i;
    return -1;
}

cairn_status cn_space_finish(cairn_ctx *ctx, const cn_tree *t, cairn_space *sp)
{
    space_builder *b = builder(sp);
    cairn_status rc = CAIRN_OK;
    for (size_t i = 0; i < b->n_conds && rc == CAIRN_OK; i++) {
        pending_cond *c = &b->conds[i];
        cn_param *child = &sp->params[c->child];
        int64_t pi = cairn_space_find(sp, c->parent);
        if (pi < 0) {
            rc = fail_at(ctx, t, c->at, "parameter '%s': when: no parameter '%s'", child->name,
                         c->parent);
            break;
        }
        if ((size_t)pi == c->child) {
            rc = fail_at(ctx, t, c->at, "parameter '%s': when: a parameter cannot depend on itself",
                         child->name);
            break;
        }
        cn_param *parent = &sp->params[pi];
        if (parent->type != CAIRN_SPACE_PARAM_CATEGORICAL &&
            parent->type != CAIRN_SPACE_PARAM_CONST) {
            rc = fail_at(ctx, t, c->at,
                         "parameter '%s': when: '%s' must be a categorical or constant parameter",
                         child->name, parent->name);
            break;
        }
        cn_cond cond = {(size_t)pi, 0, cn_xcalloc(c->n_values ? c->n_values : 1, sizeof(size_t))};
        for (size_t j = 0; j < c->n_values && rc == CAIRN_OK; j++) {
            size_t k = 0;
            while (k < parent->n_choices && strcmp(parent->choices[k], c->values[j]) != 0)
                k++;
            if (k == parent->n_choices)
                rc = fail_at(ctx, t, c->at, "parameter '%s': when: '%s' is not a value of '%s'",
                             child->name, c->values[j], parent->name);
            else
                cond.allowed[cond.n_allowed++] = k;
        }
        if (rc == CAIRN_OK && cond.n_allowed == 0)
            rc = fail_at(ctx, t, c->at, "parameter '%s': when: '%s' needs at least one value",
                         child->name, parent->name);
        if (rc != CAIRN_OK) {
            free(cond.allowed);
            break;
        }
        child->conds = cn_xrealloc(child->conds, (child->n_conds + 1) * sizeof *child->conds);
        child->conds[child->n_conds++] = cond;
    }
    if (rc != CAIRN_OK)
        return rc;
    /* Kahn's order over parent -> child edges, source order among the ready ones. */
    free(sp->order);
    sp->order = cn_xcalloc(sp->n ? sp->n : 1, sizeof *sp->order);
    bool *done = cn_xcalloc(sp->n ? sp->n : 1, sizeof *done);
    size_t n_done = 0;
    while (n_done < sp->n) {
        bool progress = false;
        for (size_t i = 0; i < sp->n; i++) {
            if (done[i])
                continue;
            bool ready = true;
            for (size_t j = 0; j < sp->params[i].n_conds; j++)
                if (!done[sp->params[i].conds[j].parent])
                    ready = false;
            if (ready) {
                done[i] = true;
                sp->order[n_done++] = i;
                progress = true;
            }
        }
        if (!progress) {
            size_t i = 0;
            while (done[i])
                i++;
            free(done);
            return fail_at(ctx, t, NULL, "parameter '%s': when: conditions form a cycle",
                           sp->params[i].name);
        }
    }
    free(done);
    release_pending(b);
    return CAIRN_OK;
}

/* ---- cairn's own schema ---- */

static cairn_status num(cairn_ctx *ctx, const cn_tree *t, const char *pname, const char *key,
                        const cn_node *v, double *out)
{
    if (v->kind != CN_NODE_SCALAR || !v->is_plain || !cn_parse_double(v->text, out))
        return cn_tree_fail(ctx, t, v, "parameter '%s': '%s' must be a number, got '%s'", pname,
                            key, v->kind == CN_NODE_SCALAR ? v->text : cn_node_kind_name(v));
    return CAIRN_OK;
}

static cairn_status boolean(cairn_ctx *ctx, const cn_tree *t, const char *pname, const char *key,
                            const cn_node *v, bool *out)
{
    if (v->kind == CN_NODE_SCALAR && v->is_plain) {
        static const char *const yes[] = {"true", "True", "TRUE", NULL};
        static const char *const no[] = {"false", "False", "FALSE", NULL};
        if (cn_str_in(v->text, yes)) {
            *out = true;
            return CAIRN_OK;
        }
        if (cn_str_in(v->text, no)) {
            *out = false;
            return CAIRN_OK;
        }
    }
    return cn_tree_fail(ctx, t, v, "parameter '%s': '%s' must be true or false, got '%s'", pname,
                        key, v->kind == CN_NODE_SCALAR ? v->text : cn_node_kind_name(v));
}

/* Reads a scalar or a list of scalars into a NULL-free array of borrowed texts. */
static cairn_status scalars(cairn_ctx *ctx, const cn_tree *t, const char *pname, const char *key,
                            const cn_node *v, const char ***out, size_t *n)
{
    *out = NULL;
    *n = 0;
    if (v->kind == CN_NODE_SCALAR) {
        *out = cn_xcalloc(1, sizeof **out);
        (*out)[0] = v->text;
        *n = 1;
        return CAIRN_OK;
    }
    if (v->kind != CN_NODE_LIST)
        return cn_tree_fail(ctx, t, v, "parameter '%s': '%s' must be a list of values, got %s",
                            pname, key, cn_node_kind_name(v));
    if (v->n > CN_HPO_MAX_CHOICES)
        return cn_fail(ctx, CAIRN_ELIMIT, "parameter '%s': more than %d values", pname,
                       CN_HPO_MAX_CHOICES);
    *out = cn_xcalloc(v->n ? v->n : 1, sizeof **out);
    for (size_t i = 0; i < v->n; i++) {
        if (v->items[i]->kind != CN_NODE_SCALAR) {
            free(*out);
            *out = NULL;
            return cn_tree_fail(ctx, t, v->items[i],
                                "parameter '%s': '%s' values must be scalars, got %s", pname, key,
                                cn_node_kind_name(v->items[i]));
        }
        (*out)[i] = v->items[i]->text;
    }
    *n = v->n;
    return CAIRN_OK;
}

static cairn_status read_when(cairn_ctx *ctx, const cn_tree *t, cairn_space *sp, size_t child,
                              const char *pname, const cn_node *v)
{
    if (v->kind != CN_NODE_MAP)
        return cn_tree_fail(ctx, t, v,
                            "parameter '%s': when: must be a mapping of parameter: value(s), "
                            "got %s",
                            pname, cn_node_kind_name(v));
    for (size_t i = 0; i < v->n; i++) {
        const cn_node *k = v->pairs[i].key, *val = v->pairs[i].value;
        if (k->kind != CN_NODE_SCALAR || v->pairs[i].is_dup)
            return cn_tree_fail(ctx, t, k, "parameter '%s': when: keys must be distinct names",
                                pname);
        const char **vals = NULL;
        size_t n_vals = 0;
        cairn_status rc = scalars(ctx, t, pname, "when", val, &vals, &n_vals);
        if (rc != CAIRN_OK)
            return rc;
        cn_space_add_cond(sp, child, k->text, vals, n_vals, val);
        free(vals);
    }
    return CAIRN_OK;
}

static const char *const float_keys = "type, low, high, log, step, when";
static const char *const cat_keys = "type, values, when";

static cairn_status read_param(cairn_ctx *ctx, const cn_tree *t, cairn_space *sp,
                               const cn_node *key, const cn_node *v)
{
    const char *name = key->text;
    cn_raw_param r = {.name = name, .at = key};
    const char **vals = NULL;
    const cn_node *when = NULL;
    cairn_status rc = CAIRN_OK;
    if (v->kind == CN_NODE_SCALAR) {
        r.type = CAIRN_SPACE_PARAM_CONST;
        r.n_choices = 1;
        r.choices = &v->text;
        return cn_space_add(ctx, t, sp, &r);
    }
    if (v->kind != CN_NODE_MAP)
        return cn_tree_fail(ctx, t, v,
                            "parameter '%s': must be a mapping with a type, or a constant, got %s",
                            name, cn_node_kind_name(v));
    const cn_node *type = cn_node_get(v, "type");
    if (!type || type->kind != CN_NODE_SCALAR)
        return cn_tree_fail(ctx, t, v,
                            "parameter '%s': needs a type: float, int, categorical or const", name);
    if (strcmp(type->text, "float") == 0 || strcmp(type->text, "uniform") == 0)
        r.type = CAIRN_SPACE_PARAM_FLOAT;
    else if (strcmp(type->text, "int") == 0 || strcmp(type->text, "integer") == 0)
        r.type = CAIRN_SPACE_PARAM_INT;
    else if (strcmp(type->text, "categorical") == 0 || strcmp(type->text, "choice") == 0)
        r.type = CAIRN_SPACE_PARAM_CATEGORICAL;
    else if (strcmp(type->text, "const") == 0 || strcmp(type->text, "constant") == 0)
        r.type = CAIRN_SPACE_PARAM_CONST;
    else
        return cn_tree_fail(ctx, t, type,
                            "parameter '%s': unknown type '%s'; allowed: float, int, categorical, "
                            "const",
                            name, type->text);
    bool has_low = false, has_high = false;
    for (size_t i = 0; i < v->n && rc == CAIRN_OK; i++) {
        const cn_node *k = v->pairs[i].key, *val = v->pairs[i].value;
        if (k->kind != CN_NODE_SCALAR || v->pairs[i].is_dup) {
            rc = cn_tree_fail(ctx, t, k, "parameter '%s': keys must be distinct scalars", name);
            break;
        }
        const char *kt = k->text;
        bool numeric = r.type == CAIRN_SPACE_PARAM_FLOAT || r.type == CAIRN_SPACE_PARAM_INT;
        if (strcmp(kt, "type") == 0)
            continue;
        if (strcmp(kt, "when") == 0) {
            when = val;
        } else if (numeric && strcmp(kt, "low") == 0) {
            rc = num(ctx, t, name, kt, val, &r.low);
            has_low = true;
        } else if (numeric && strcmp(kt, "high") == 0) {
            rc = num(ctx, t, name, kt, val, &r.high);
            has_high = true;
        } else if (numeric && strcmp(kt, "step") == 0) {
            rc = num(ctx, t, name, kt, val, &r.step);
            if (rc == CAIRN_OK && !(r.step > 0))
                rc = cn_tree_fail(ctx, t, val, "parameter '%s': step must be > 0, got %s", name,
                                  val->text);
        } else if (numeric && strcmp(kt, "log") == 0) {
            rc = boolean(ctx, t, name, kt, val, &r.log);
        } else if (r.type == CAIRN_SPACE_PARAM_CATEGORICAL &&
                   (strcmp(kt, "values") == 0 || strcmp(kt, "choices") == 0)) {
            free(vals);
            rc = scalars(ctx, t, name, kt, val, &vals, &r.n_choices);
            if (rc == CAIRN_OK && val->kind != CN_NODE_LIST)
                rc = cn_tree_fail(ctx, t, val, "parameter '%s': values must be a list", name);
        } else if (r.type == CAIRN_SPACE_PARAM_CONST && strcmp(kt, "value") == 0) {
            if (val->kind != CN_NODE_SCALAR)
                rc = cn_tree_fail(ctx, t, val, "parameter '%s': value must be a scalar", name);
            free(vals);
            vals = cn_xcalloc(1, sizeof *vals);
            vals[0] = val->text;
            r.n_choices = 1;
        } else {
            rc = cn_tree_fail(ctx, t, k, "parameter '%s': unknown key '%s'; allowed: %s", name, kt,
                              numeric                                   ? float_keys
                              : r.type == CAIRN_SPACE_PARAM_CATEGORICAL ? cat_keys
                                                                        : "type, value, when");
        }
    }
    if (rc == CAIRN_OK && (r.type == CAIRN_SPACE_PARAM_FLOAT || r.type == CAIRN_SPACE_PARAM_INT) &&
        (!has_low || !has_high))
        rc = cn_tree_fail(ctx, t, v, "parameter '%s': %s needs low and high", name, type->text);
    if (rc == CAIRN_OK && r.type == CAIRN_SPACE_PARAM_CATEGORICAL && !vals)
        rc = cn_tree_fail(ctx, t, v, "parameter '%s': categorical needs values", name);
    if (rc == CAIRN_OK && r.type == CAIRN_SPACE_PARAM_CONST && !vals)
        rc = cn_tree_fail(ctx, t, v, "parameter '%s': const needs a value", name);
    if (rc == CAIRN_OK) {
        r.choices = vals;
        rc = cn_space_add(ctx, t, sp, &r);
    }
    if (rc == CAIRN_OK && when)
        rc = read_when(ctx, t, sp, sp->n - 1, name, when);
    free(vals);
    return rc;
}

static cairn_status read_objective(cairn_ctx *ctx, const cn_tree *t, cairn_space *sp,
                                   const cn_node *v)
{
    const cn_node *name = NULL, *goal = NULL, *strategy = NULL;
    if (v->kind == CN_NODE_SCALAR) {
        name = v;
    } else if (v->kind == CN_NODE_MAP) {
        for (size_t i = 0; i < v->n; i++) {
            const cn_node *k = v->pairs[i].key;
            if (k->kind == CN_NODE_SCALAR && strcmp(k->text, "name") == 0)
                name = v->pairs[i].value;
            else if (k->kind == CN_NODE_SCALAR &&
                     (strcmp(k->text, "goal") == 0 || strcmp(k->text, "direction") == 0))
                goal = v->pairs[i].value;
            else if (k->kind == CN_NODE_SCALAR && strcmp(k->text, "strategy") == 0)
                strategy = v->pairs[i].value;
            else
                return cn_tree_fail(ctx, t, k,
                                    "objective: unknown key '%s'; allowed: name, goal, strategy",
                                    k->kind == CN_NODE_SCALAR ? k->text : "?");
        }
    } else {
        return cn_tree_fail(ctx, t, v, "objective: must be a mapping {name, goal}, got %s",
                            cn_node_kind_name(v));
    }
    if (!name || name->kind != CN_NODE_SCALAR || !name->text[0])
        return cn_tree_fail(ctx, t, v, "objective: needs a name (the metric to optimize)");
    bool maximize = false;
    if (goal) {
        if (goal->kind == CN_NODE_SCALAR && strcmp(goal->text, "maximize") == 0)
            maximize = true;
        else if (!(goal->kind == CN_NODE_SCALAR && strcmp(goal->text, "minimize") == 0))
            return cn_tree_fail(ctx, t, goal, "objective: goal must be minimize or maximize");
    }
    static const char *const strategies[] = {"last", "min", "max", NULL};
    if (strategy && (strategy->kind != CN_NODE_SCALAR || !cn_str_in(strategy->text, strategies)))
        return cn_tree_fail(ctx, t, strategy, "objective: strategy must be last, min or max");
    cn_space_set_objective(sp, name->text, maximize);
    free(sp->strategy);
    sp->strategy = cn_xstrdup(strategy ? strategy->text : "last");
    return CAIRN_OK;
}

static cairn_status read_own(cairn_ctx *ctx, const cn_tree *t, cairn_space *sp)
{
    const cn_node *root = cn_tree_root(t);
    if (!root || root->kind != CN_NODE_MAP)
        return cn_tree_fail(ctx, t, root, "a search space is a mapping with 'parameters'");
    const cn_node *params = NULL;
    for (size_t i = 0; i < root->n; i++) {
        const cn_node *k = root->pairs[i].key, *v = root->pairs[i].value;
        if (k->kind != CN_NODE_SCALAR || root->pairs[i].is_dup)
            return cn_tree_fail(ctx, t, k, "top-level keys must be distinct scalars");
        if (strcmp(k->text, "parameters") == 0) {
            params = v;
        } else if (strcmp(k->text, "objective") == 0) {
            cairn_status rc = read_objective(ctx, t, sp, v);
            if (rc != CAIRN_OK)
                return rc;
        } else {
            return cn_tree_fail(ctx, t, k, "unknown key '%s'; allowed: objective, parameters",
                                k->text);
        }
    }
    if (!params || params->kind != CN_NODE_MAP)
        return cn_tree_fail(ctx, t, params ? params : root,
                            "'parameters' must be a mapping of name: definition");
    for (size_t i = 0; i < params->n; i++) {
        const cn_node *k = params->pairs[i].key;
        if (k->kind != CN_NODE_SCALAR)
            return cn_tree_fail(ctx, t, k, "parameter names must be scalars");
        cairn_status rc = read_param(ctx, t, sp, k, params->pairs[i].value);
        if (rc != CAIRN_OK)
            return rc;
    }
    return CAIRN_OK;
}

cairn_status cairn_space_parse(cairn_ctx *ctx, const char *label, cairn_space_format fmt,
                               const char *text, size_t len, cairn_space **out)
{
    cn_tree *t = NULL;
    cairn_space *sp = NULL;
    *out = NULL;
    cairn_status rc =
        cn_tree_parse(ctx, "search space", label ? label : "<input>",
                      fmt == CAIRN_SPACE_JSON ? CN_TREE_JSON : CN_TREE_YAML, text, len, &t);
    if (rc != CAIRN_OK)
        goto done;
    sp = cn_space_new();
    if (fmt == CAIRN_SPACE_WANDB)
        rc = cn_space_read_wandb(ctx, t, sp);
    else if (fmt == CAIRN_SPACE_NNI)
        rc = cn_space_read_nni(ctx, t, sp);
    else
        rc = read_own(ctx, t, sp);
    if (rc == CAIRN_OK)
        rc = cn_space_finish(ctx, t, sp);
    if (rc == CAIRN_OK && sp->n == 0)
        rc = cn_tree_fail(ctx, t, cn_tree_root(t), "the search space has no parameters");
    if (rc != CAIRN_OK)
        goto done;
    *out = sp;
    sp = NULL;
done:
    cairn_space_free(sp);
    cn_tree_free(t);
    return rc;
}

cairn_status cairn_space_load(cairn_ctx *ctx, const char *path, cairn_space_format fmt,
                              cairn_space **out)
{
    cn_buf text = CN_BUF_INIT;
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f)
        return cn_fail_errno(ctx, CAIRN_ENOTFOUND, "search space '%s'", path);
    char chunk[65536];
    size_t got;
    while ((got = fread(chunk, 1, sizeof chunk, f)) > 0) {
        cn_buf_append(&text, chunk, got);
        if (text.len > CN_TREE_MAX_BYTES) {
            fclose(f);
            cn_buf_release(&text);
            return cn_fail(ctx, CAIRN_ELIMIT, "search space '%s': larger than %u bytes", path,
                           CN_TREE_MAX_BYTES);
        }
    }
    bool bad = ferror(f);
    fclose(f);
    if (bad) {
        cn_buf_release(&text);
        return cn_fail(ctx, CAIRN_EIO, "search space '%s': read failed", path);
    }
    if (fmt == CAIRN_SPACE_AUTO && cn_str_ends(path, ".json"))
        fmt = CAIRN_SPACE_JSON;
    cairn_status rc = cairn_space_parse(ctx, path, fmt, cn_buf_str(&text), text.len, out);
    cn_buf_release(&text);
    return rc;
}

/* ---- reading a space ---- */

size_t cairn_space_n_params(const cairn_space *sp)
{
    return sp->n;
}

void cairn_space_param(const cairn_space *sp, size_t i, cairn_param_info *out)
{
    CN_ASSERT(i < sp->n);
    const cn_param *p = &sp->params[i];
    memset(out, 0, sizeof *out);
    out->name = p->name;
    out->type = p->type;
    out->low = p->low;
    out->high = p->high;
    out->step = p->step;
    out->log = p->log;
    out->n_choices = p->n_choices;
    out->choices = (const char *const *)p->choices;
    out->n_conditions = p->n_conds;
}

const char *cairn_space_objective(const cairn_space *sp, bool *maximize)
{
    if (maximize)
        *maximize = sp->maximize;
    return sp->objective;
}

const char *cairn_space_objective_strategy(const cairn_space *sp)
{
    return sp->objective ? (sp->strategy ? sp->strategy : "last") : NULL;
}

bool cn_space_active(const cairn_space *sp, size_t i, const double *params)
{
    const cn_param *p = &sp->params[i];
    for (size_t j = 0; j < p->n_conds; j++) {
        const cn_cond *c = &p->conds[j];
        double pv = params[c->parent];
        if (isnan(pv))
            return false;
        bool hit = false;
        for (size_t k = 0; k < c->n_allowed; k++)
            if ((double)c->allowed[k] == pv)
                hit = true;
        if (!hit)
            return false;
    }
    return true;
}

bool cairn_space_is_active(const cairn_space *sp, size_t i, const double *params)
{
    return i < sp->n && cn_space_active(sp, i, params);
}

static bool on_grid(double v, double low, double step)
{
    double k = (v - low) / step;
    return fabs(k - nearbyint(k)) <= 1e-9 * (fabs(k) + 1);
}

bool cairn_space_contains(const cairn_space *sp, const double *params)
{
    for (size_t i = 0; i < sp->n; i++) {
        const cn_param *p = &sp->params[i];
        double v = params[i];
        if (!cn_space_active(sp, i, params)) {
            if (!isnan(v))
                return false;
            continue;
        }
        if (isnan(v))
            return false;
        switch (p->type) {
        case CAIRN_SPACE_PARAM_FLOAT:
            if (!(v >= p->low && v <= p->high))
                return false;
            if (p->step > 0 && !on_grid(v, p->low, p->step))
                return false;
            break;
        case CAIRN_SPACE_PARAM_INT:
            if (!(v >= p->low && v <= p->high) || v != floor(v))
                return false;
            if (!on_grid(v, p->low, p->step))
                return false;
            break;
        default:
            if (!(v >= 0 && v < (double)p->n_choices) || v != floor(v))
                return false;
            break;
        }
    }
    return true;
}

void cairn_space_format_value(const cairn_space *sp, size_t i, double v, char *out, size_t size)
{
    CN_ASSERT(i < sp->n && size > 0);
    const cn_param *p = &sp->params[i];
    out[0] = '\0';
    if (isnan(v))
        return;
    switch (p->type) {
    case CAIRN_SPACE_PARAM_FLOAT: {
        char tmp[40];
        cn_format_double_short(v, tmp, sizeof tmp);
        cn_strlcpy(out, tmp, size);
        break;
    }
    case CAIRN_SPACE_PARAM_INT: snprintf(out, size, "%lld", (long long)v); break;
    default: {
        size_t k = v >= 0 && v < (double)p->n_choices ? (size_t)v : 0;
        cn_strlcpy(out, p->choices[k], size);
        break;
    }
    }
}

cairn_status cairn_space_parse_value(cairn_ctx *ctx, const cairn_space *sp, size_t i,
                                     const char *text, double *out)
{
    if (i >= sp->n)
        return cn_fail(ctx, CAIRN_EINVAL, "search space: no parameter number %zu", i);
    const cn_param *p = &sp->params[i];
    double v;
    switch (p->type) {
    case CAIRN_SPACE_PARAM_FLOAT:
    case CAIRN_SPACE_PARAM_INT:
        if (!cn_parse_double(text, &v) || !(v >= p->low && v <= p->high) ||
            (p->type == CAIRN_SPACE_PARAM_INT && v != floor(v)))
            return cn_fail(ctx, CAIRN_EINVAL, "parameter '%s': '%s' is not a value in [%g, %g]",
                           p->name, text, p->low, p->high);
        *out = v;
        return CAIRN_OK;
    default:
        for (size_t k = 0; k < p->n_choices; k++)
            if (strcmp(p->choices[k], text) == 0) {
                *out = (double)k;
                return CAIRN_OK;
            }
        return cn_fail(ctx, CAIRN_EINVAL, "parameter '%s': '%s' is not one of its values", p->name,
                       text);
    }
}

/* ---- coordinates ---- */

double cn_param_decode(const cn_param *p, double x)
{
    double v;
    switch (p->type) {
    case CAIRN_SPACE_PARAM_FLOAT:
        if (p->log) {
            v = exp(x);
        } else if (p->step > 0) {
            v = nearbyint((x - p->low) / p->step) * p->step + p->low;
        } else {
            v = x;
            /* Optuna: the upper bound of a continuous float is exclusive. */
            if (v >= p->high && p->high > p->low)
                v = nextafter(p->high, p->low);
        }
        break;
    case CAIRN_SPACE_PARAM_INT:
        if (p->log)
            v = nearbyint(exp(x));
        else
            v = nearbyint((x - p->low) / p->step) * p->step + p->low;
        break;
    default: {
        double k = floor(x);
        return k < 0 ? 0 : k >= (double)p->n_choices ? (double)p->n_choices - 1 : k;
    }
    }
    if (v < p->low)
        v = p->low;
    if (v > p->high)
        v = p->high;
    return v;
}

double cn_param_encode(const cn_param *p, double v)
{
    if ((p->type == CAIRN_SPACE_PARAM_FLOAT || p->type == CAIRN_SPACE_PARAM_INT) && p->log)
        return log(v);
    return v;
}

double cn_param_from_unit(const cn_param *p, double u)
{
    if (p->type == CAIRN_SPACE_PARAM_CONST)
        return 0;
    return cn_param_decode(p, p->L + u * (p->H - p->L));
}
