/* SPDX-License-Identifier: MIT */
/* learner.c - the registry of learners by name, text params with range checks, and the
 * little-endian payload helpers that learners use to save and load their weights. */
#include <math.h>
#include <string.h>
#include "learn/learner.h"
#include "core/core.h"
#include "base/str.h"
#include "base/banned.h"

static const cn_learner_ops *const learners[] = {
    &cn_linear_ops, &cn_ridge_ops, &cn_logistic_ops, &cn_mlp_ops, &cn_xgb_ops,
};

const cn_learner_ops *cn_learner_find(const char *name)
{
    for (size_t i = 0; name && i < sizeof learners / sizeof learners[0]; i++)
        if (strcmp(learners[i]->name, name) == 0)
            return learners[i];
    return NULL;
}

/* "a, b, c" of a NULL-terminated list. */
static void join_names(cn_buf *out, const char *const *names)
{
    for (size_t i = 0; names[i]; i++)
        cn_buf_printf(out, "%s%s", i ? ", " : "", names[i]);
}

cairn_status cn_params_check(cairn_ctx *ctx, const cn_learner_ops *ops, const cn_params *p)
{
    for (size_t i = 0; i < p->n; i++) {
        if (cn_str_in(p->keys[i], ops->param_names))
            continue;
        cn_buf names = CN_BUF_INIT;
        join_names(&names, ops->param_names);
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
