/* SPDX-License-Identifier: MIT */
/* test_learner_params.c - each learner's param specs: defaults parse and lie in range,
 * categorical defaults are among the choices, names are unique, a fit with every default
 * given explicitly succeeds (the table covers what fit reads, and fit agrees with it), and
 * the check before a run names unknown params with a suggestion and bad values with the range. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "unit.h"
#include "cairn/learn.h"
#include "base/str.h"
#include "base/banned.h"

static cairn_ctx *ctx;

TEST(setup)
{
    ctx = cairn_ctx_new();
    CHECK(ctx != NULL);
}

TEST(defaults_are_valid_and_in_range)
{
    size_t n_learners = 0;
    for (size_t l = 0; cairn_learner_name(l); l++, n_learners++) {
        const char *name = cairn_learner_name(l);
        const cairn_param_spec *specs;
        size_t n;
        CHECK(cairn_learner_params(name, &specs, &n) == CAIRN_OK && n > 0);
        for (size_t i = 0; i < n; i++) {
            const cairn_param_spec *s = &specs[i];
            CHECK(s->name && s->help && *s->help);
            for (size_t j = 0; j < i; j++)
                CHECK(strcmp(specs[j].name, s->name) != 0);
            if (s->type == CAIRN_PARAM_FLOAT || s->type == CAIRN_PARAM_INT ||
                s->type == CAIRN_PARAM_INT_LIST)
                CHECK(s->low < s->high);
            if (s->type == CAIRN_PARAM_CATEGORICAL)
                CHECK(s->choices && s->default_value && cn_str_in(s->default_value, s->choices));
            if (s->log_scale)
                CHECK(s->type == CAIRN_PARAM_FLOAT || s->type == CAIRN_PARAM_INT);
            if (!s->default_value)
                continue;
            /* the default passes the check the learner's own values pass */
            const char *k[] = {s->name}, *v[] = {s->default_value};
            CHECK(cairn_learner_check_params(ctx, name, k, v, 1) == CAIRN_OK);
        }
    }
    CHECK(n_learners == 13);
    const cairn_param_spec *specs;
    size_t n;
    CHECK(cairn_learner_params("catboost", &specs, &n) == CAIRN_ENOTFOUND && specs == NULL);
}

/* 40 rows: x and a binary label y that follows it, or a numeric target for regressors. */
static cairn_table *table(bool classify)
{
    cairn_table *t = cairn_table_new(40);
    double x[40], y[40];
    int32_t cls[40];
    for (int i = 0; i < 40; i++) {
        x[i] = (i * 7 % 40) / 4.0;
        y[i] = 2 * x[i] + (i % 3);
        cls[i] = x[i] + (i % 5 == 0) > 5;
    }
    static const char *const levels[] = {"no", "yes"};
    CHECK(cairn_table_add_numeric(ctx, t, "x", x) == CAIRN_OK);
    if (classify)
        CHECK(cairn_table_add_categorical(ctx, t, "y", cls, levels, 2) == CAIRN_OK);
    else
        CHECK(cairn_table_add_numeric(ctx, t, "y", y) == CAIRN_OK);
    return t;
}

TEST(fit_with_every_default_given)
{
    cairn_table *cls = table(true), *reg = table(false);
    for (size_t l = 0; cairn_learner_name(l); l++) {
        const char *name = cairn_learner_name(l);
        const cairn_param_spec *specs;
        size_t n, m = 0;
        CHECK(cairn_learner_params(name, &specs, &n) == CAIRN_OK);
        const char **k = calloc(n, sizeof *k), **v = calloc(n, sizeof *v);
        for (size_t i = 0; i < n; i++)
            if (specs[i].default_value) {
                k[m] = specs[i].name;
                v[m++] = specs[i].default_value;
            }
        cairn_fit_opts o = CAIRN_FIT_OPTS_INIT;
        o.learner = name;
        o.label = "y";
        o.param_keys = k;
        o.param_values = v;
        o.n_params = m;
        cairn_model *model = NULL;
        bool regressor = strcmp(name, "linear") == 0 || strcmp(name, "ridge") == 0 ||
                         strcmp(name, "svr") == 0 || strcmp(name, "nusvr") == 0;
        CHECK(cairn_model_fit(ctx, regressor ? reg : cls, &o, &model) == CAIRN_OK);
        cairn_model_free(model);
        free(k);
        free(v);
    }
    cairn_table_free(cls);
    cairn_table_free(reg);
}

TEST(check_names_unknown_and_bad_values)
{
    const char *k[] = {"hiden"}, *v[] = {"64"};
    CHECK(cairn_learner_check_params(ctx, "mlp", k, v, 1) == CAIRN_EINVAL);
    CHECK(strstr(cairn_errmsg(ctx), "learner 'mlp': unknown param 'hiden' (did you mean "
                                    "'hidden'?); known: hidden, activation,") != NULL);
    const char *k2[] = {"zzzzzz"};
    CHECK(cairn_learner_check_params(ctx, "mlp", k2, v, 1) == CAIRN_EINVAL);
    CHECK(strstr(cairn_errmsg(ctx), "did you mean") == NULL);
    const char *k3[] = {"C"}, *v3[] = {"-1"};
    CHECK(cairn_learner_check_params(ctx, "logistic", k3, v3, 1) == CAIRN_EINVAL);
    CHECK_STR(cairn_errmsg(ctx), "learner 'logistic': param 'C': expected a number in "
                                 "[1e-300, 1e+300], got '-1'");
    const char *k4[] = {"hidden", "activation"}, *v4[] = {"64,0", "relu"};
    CHECK(cairn_learner_check_params(ctx, "mlp", k4, v4, 2) == CAIRN_EINVAL);
    const char *v5[] = {"", "sigmoid"};
    CHECK(cairn_learner_check_params(ctx, "mlp", k4, v5, 2) == CAIRN_EINVAL);
    CHECK(strstr(cairn_errmsg(ctx), "param 'activation': expected one of relu, tanh, got "
                                    "'sigmoid'") != NULL);
    const char *k6[] = {"max_depth", "objective"}, *v6[] = {"3", "binary:logistic"};
    CHECK(cairn_learner_check_params(ctx, "xgboost", k6, v6, 2) == CAIRN_OK);
}

TEST(teardown)
{
    cairn_close(ctx);
}

UNIT_MAIN(UNIT_CASE(setup), UNIT_CASE(defaults_are_valid_and_in_range),
          UNIT_CASE(fit_with_every_default_given), UNIT_CASE(check_names_unknown_and_bad_values),
          UNIT_CASE(teardown))
