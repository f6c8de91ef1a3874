/* SPDX-License-Identifier: MIT */
/* learner.c - the registry of learners by name, text params with range checks, and the
 * little-endian payload helpers that learners use to save and load their weights. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "learn/learner.h"
#include "core/core.h"
#include "base/str.h"
#include "base/xmalloc.h"
#include "base/banned.h"

static const cn_learner_ops *const learners[] = {
    &cn_linear_ops, &cn_ridge_ops, &cn_logistic_ops, &cn_mlp_ops,   &cn_xgb_ops,
    &cn_svc_ops,    &cn_nusvc_ops, &cn_svr_ops,      &cn_nusvr_ops, &cn_tree_ops,
    &cn_forest_ops, &cn_knn_ops,   &cn_gnb_ops,
};

const cn_learner_ops *cn_learner_find(const char *name)
{
    for (size_t i = 0; name && i < sizeof learners / sizeof learners[0]; i++)
        if (strcmp(learners[i]->name, name) == 0)
            return learners[i];
    return NULL;
}

cairn_status cn_learner_unknown(cairn_ctx *ctx, const char *prefix, const char *name)
{
    cn_buf names = CN_BUF_INIT;
    for (size_t i = 0; i < sizeof learners / sizeof learners[0]; i++)
        cn_buf_printf(&names, "%s%s", i ? ", " : "", learners[i]->name);
    cairn_status rc = cn_fail(ctx, CAIRN_EINVAL, "%slearner '%s' is unknown; known: %s", prefix,
                              name ? name : "", cn_buf_str(&names));
    cn_buf_release(&names);
    return rc;
}

const char *const cn_task_choices[] = {"auto", "regression", "classification", NULL};

/* "a, b, c" of a NULL-terminated list. */
static void join_names(cn_buf *out, const char *const *names)
{
    for (size_t i = 0; names[i]; i++)
        cn_buf_printf(out, "%s%s", i ? ", " : "", names[i]);
}

static void join_specs(cn_buf *out, const cn_learner_ops *ops)
{
    for (size_t i = 0; i < ops->n_params; i++)
        cn_buf_printf(out, "%s%s", i ? ", " : "", ops->params[i].name);
}

const cairn_param_spec *cn_learner_spec(const cn_learner_ops *ops, const char *name)
{
    for (size_t i = 0; i < ops->n_params; i++)
        if (strcmp(ops->params[i].name, name) == 0)
            return &ops->params[i];
    return NULL;
}

cairn_status cn_params_check(cairn_ctx *ctx, const cn_learner_ops *ops, const cn_params *p)
{
    for (size_t i = 0; i < p->n; i++) {
        if (cn_learner_spec(ops, p->keys[i]))
            continue;
        cn_buf names = CN_BUF_INIT;
        join_specs(&names, ops);
        cairn_status rc = cn_fail(ctx, CAIRN_EINVAL, "unknown param '%s' (known: %s)", p->keys[i],
                                  cn_buf_str(&names));
        cn_buf_release(&names);
        return rc;
    }
    return CAIRN_OK;
}

const char *cn_param_get(const cn_params *p, const char *key)
{
    const char *v = NULL;
    CN_ASSERT(!p->ops || cn_learner_spec(p->ops, key)); /* a param fit reads is in its specs */
    for (size_t i = 0; i < p->n; i++)
        if (strcmp(p->keys[i], key) == 0)
            v = p->values[i];
    return v;
}

cairn_status cn_param_double(cairn_ctx *ctx, const cn_params *p, const char *key, double def,
                             double lo, double hi, double *out)
{
    const char *v = cn_param_get(p, key);
    *out = def;
    if (!v)
        return CAIRN_OK;
    if (!cn_parse_double(v, out) || !(*out >= lo && *out <= hi))
        return cn_fail(ctx, CAIRN_EINVAL, "param '%s': expected a number in [%g, %g], got '%s'",
                       key, lo, hi, v);
    return CAIRN_OK;
}

cairn_status cn_param_int(cairn_ctx *ctx, const cn_params *p, const char *key, int64_t def,
                          int64_t lo, int64_t hi, int64_t *out)
{
    const char *v = cn_param_get(p, key);
    *out = def;
    if (!v)
        return CAIRN_OK;
    if (!cn_parse_int64(v, out) || *out < lo || *out > hi)
        return cn_fail(ctx, CAIRN_EINVAL,
                       "param '%s': expected an integer in [%lld, %lld], got '%s'", key,
                       (long long)lo, (long long)hi, v);
    return CAIRN_OK;
}

cairn_status cn_param_bool(cairn_ctx *ctx, const cn_params *p, const char *key, bool def, bool *out)
{
    const char *v = cn_param_get(p, key);
    *out = def;
    if (!v)
        return CAIRN_OK;
    if (strcmp(v, "true") == 0 || strcmp(v, "1") == 0)
        *out = true;
    else if (strcmp(v, "false") == 0 || strcmp(v, "0") == 0)
        *out = false;
    else
        return cn_fail(ctx, CAIRN_EINVAL, "param '%s': expected true or false, got '%s'", key, v);
    return CAIRN_OK;
}

cairn_status cn_param_choice(cairn_ctx *ctx, const cn_params *p, const char *key,
                             const char *const *choices, int def, int *out)
{
    const char *v = cn_param_get(p, key);
    *out = def;
    if (!v)
        return CAIRN_OK;
    for (int i = 0; choices[i]; i++) {
        if (strcmp(choices[i], v) == 0) {
            *out = i;
            return CAIRN_OK;
        }
    }
    cn_buf names = CN_BUF_INIT;
    join_names(&names, choices);
    cairn_status rc = cn_fail(ctx, CAIRN_EINVAL, "param '%s': expected one of %s, got '%s'", key,
                              cn_buf_str(&names), v);
    cn_buf_release(&names);
    return rc;
}

/* ---- specs: the public view and the check before a run ---- */

cairn_status cairn_learner_params(const char *learner, const cairn_param_spec **specs, size_t *n)
{
    const cn_learner_ops *ops = cn_learner_find(learner);
    *specs = ops ? ops->params : NULL;
    *n = ops ? ops->n_params : 0;
    return ops ? CAIRN_OK : CAIRN_ENOTFOUND;
}

const char *cairn_learner_name(size_t i)
{
    return i < sizeof learners / sizeof learners[0] ? learners[i]->name : NULL;
}

const char *cairn_param_type_name(cairn_param_type type)
{
    switch (type) {
    case CAIRN_PARAM_FLOAT: return "float";
    case CAIRN_PARAM_INT: return "int";
    case CAIRN_PARAM_BOOL: return "bool";
    case CAIRN_PARAM_CATEGORICAL: return "categorical";
    case CAIRN_PARAM_INT_LIST: return "int-list";
    case CAIRN_PARAM_STRING: return "string";
    }
    return "?";
}

static cairn_status unknown_param(cairn_ctx *ctx, const cn_learner_ops *ops, const char *key)
{
    const char **names = cn_xcalloc(ops->n_params + 1, sizeof *names);
    for (size_t i = 0; i < ops->n_params; i++)
        names[i] = ops->params[i].name;
    const char *near = cn_str_nearest(key, names, ops->n_params);
    free(names);
    cn_buf b = CN_BUF_INIT;
    cn_buf_printf(&b, "learner '%s': unknown param '%s'", ops->name, key);
    if (near)
        cn_buf_printf(&b, " (did you mean '%s'?)", near);
    cn_buf_puts(&b, "; known: ");
    join_specs(&b, ops);
    cairn_status rc = cn_fail(ctx, CAIRN_EINVAL, "%s", cn_buf_str(&b));
    cn_buf_release(&b);
    return rc;
}

static bool in_range(const cairn_param_spec *s, double x)
{
    return (s->low_open ? x > s->low : x >= s->low) && (s->high_open ? x < s->high : x <= s->high);
}

static bool int_in_range(const cairn_param_spec *s, const char *text)
{
    int64_t x;
    return cn_parse_int64(text, &x) && in_range(s, (double)x);
}

/* Each comma-separated item an integer in range; "" (no items) is fine. */
static bool int_list_ok(const cairn_param_spec *s, const char *v)
{
    if (!*v)
        return true;
    for (const char *p = v;;) {
        size_t len = strcspn(p, ",");
        char *item = cn_xstrndup(p, len);
        bool ok = int_in_range(s, item);
        free(item);
        if (!ok)
            return false;
        if (!p[len])
            return true;
        p += len + 1;
    }
}

static cairn_status bad_value(cairn_ctx *ctx, const cn_learner_ops *ops, const cairn_param_spec *s,
                              const char *v)
{
    cn_buf b = CN_BUF_INIT;
    cn_buf_printf(&b, "learner '%s': param '%s': expected ", ops->name, s->name);
    switch (s->type) {
    case CAIRN_PARAM_BOOL: cn_buf_puts(&b, "true or false"); break;
    case CAIRN_PARAM_CATEGORICAL:
        cn_buf_puts(&b, "one of ");
        join_names(&b, s->choices);
        break;
    default:
        cn_buf_printf(&b, "%s in %c%g, %g%c",
                      s->type == CAIRN_PARAM_FLOAT ? "a number"
                      : s->type == CAIRN_PARAM_INT ? "an integer"
                                                   : "comma-separated integers",
                      s->low_open ? '(' : '[', s->low, s->high, s->high_open ? ')' : ']');
    }
    cn_buf_printf(&b, ", got '%s'", v);
    cairn_status rc = cn_fail(ctx, CAIRN_EINVAL, "%s", cn_buf_str(&b));
    cn_buf_release(&b);
    return rc;
}

static bool value_ok(const cairn_param_spec *s, const char *v)
{
    double x;
    switch (s->type) {
    case CAIRN_PARAM_FLOAT: return cn_parse_double(v, &x) && in_range(s, x);
    case CAIRN_PARAM_INT: return int_in_range(s, v);
    case CAIRN_PARAM_BOOL:
        return strcmp(v, "true") == 0 || strcmp(v, "false") == 0 || strcmp(v, "1") == 0 ||
               strcmp(v, "0") == 0;
    case CAIRN_PARAM_CATEGORICAL: return cn_str_in(v, s->choices);
    case CAIRN_PARAM_INT_LIST: return int_list_ok(s, v);
    case CAIRN_PARAM_STRING: return true;
    }
    return false;
}

cairn_status cairn_learner_check_params(cairn_ctx *ctx, const char *learner,
                                        const char *const *keys, const char *const *values,
                                        size_t n)
{
    const cn_learner_ops *ops = cn_learner_find(learner);
    if (!ops)
        return cn_learner_unknown(ctx, "", learner);
    for (size_t i = 0; i < n; i++) {
        const cairn_param_spec *s = cn_learner_spec(ops, keys[i]);
        if (!s)
            return unknown_param(ctx, ops, keys[i]);
        if (!value_ok(s, values[i]))
            return bad_value(ctx, ops, s, values[i]);
        const char *why = s->type == CAIRN_PARAM_STRING && ops->check_string
                              ? ops->check_string(keys[i], values[i])
                              : NULL;
        if (why)
            return cn_fail(ctx, CAIRN_EINVAL, "learner '%s': param '%s': %s, got '%s'", ops->name,
                           keys[i], why, values[i]);
    }
    return CAIRN_OK;
}

void cn_put_u64(cn_buf *b, uint64_t v)
{
    unsigned char le[8];
    for (int i = 0; i < 8; i++)
        le[i] = (unsigned char)(v >> (8 * i));
    cn_buf_append(b, le, 8);
}

void cn_put_f64s(cn_buf *b, const double *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint64_t u;
        memcpy(&u, &v[i], 8);
        cn_put_u64(b, u);
    }
}

uint64_t cn_get_u64(cn_reader *r)
{
    if (r->bad || r->len - r->pos < 8) {
        r->bad = true;
        return 0;
    }
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v |= (uint64_t)r->p[r->pos + (size_t)i] << (8 * i);
    r->pos += 8;
    return v;
}

void cn_get_f64s(cn_reader *r, double *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint64_t u = cn_get_u64(r);
        memcpy(&v[i], &u, 8);
    }
}

bool cn_reader_has(const cn_reader *r, size_t n_doubles)
{
    return !r->bad && n_doubles <= (r->len - r->pos) / 8;
}

void cn_softmax(double *z, size_t k)
{
    double mx = z[0], sum = 0;
    for (size_t j = 1; j < k; j++)
        mx = z[j] > mx ? z[j] : mx;
    for (size_t j = 0; j < k; j++) {
        z[j] = exp(z[j] - mx);
        sum += z[j];
    }
    for (size_t j = 0; j < k; j++)
        z[j] /= sum;
}
