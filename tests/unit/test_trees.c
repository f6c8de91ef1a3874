/* SPDX-License-Identifier: MIT */
/* test_trees.c - tree, forest, knn and gnb on tables small enough to check by hand: the CART
 * threshold at the midpoint, min_samples_leaf, a forest fixed by its seed, knn's choice among
 * equal distances, and gnb's posterior against its closed form. (The comparisons with
 * scikit-learn on real data are in tests/e2e/test_learners_more.py.) */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "unit.h"
#include "cairn/learn.h"
#include "base/banned.h"

static cairn_ctx *ctx;
static const char *const ab[] = {"a", "b"};

/* n rows: numeric x and a categorical y with levels a, b. */
static cairn_table *table(size_t n, const double *x, const int32_t *y)
{
    cairn_table *t = cairn_table_new(n);
    CHECK(cairn_table_add_numeric(ctx, t, "x", x) == CAIRN_OK);
    if (y)
        CHECK(cairn_table_add_categorical(ctx, t, "y", y, ab, 2) == CAIRN_OK);
    return t;
}

static cairn_model *fit(const cairn_table *t, const char *learner, const char *const *kv,
                        size_t n_kv, uint64_t seed)
{
    const char *k[8], *v[8];
    for (size_t i = 0; i < n_kv; i++) {
        k[i] = kv[2 * i];
        v[i] = kv[2 * i + 1];
    }
    cairn_fit_opts o = CAIRN_FIT_OPTS_INIT;
    o.learner = learner;
    o.label = "y";
    o.param_keys = k;
    o.param_values = v;
    o.n_params = n_kv;
    o.seed = seed;
    cairn_model *m = NULL;
    if (cairn_model_fit(ctx, t, &o, &m) != CAIRN_OK)
        fprintf(stderr, "# fit %s: %s\n", learner, cairn_errmsg(ctx));
    return m;
}

/* P(class b) at each query point. */
static void prob_b(const cairn_model *m, size_t n, const double *q, double *out)
{
    cairn_table *t = table(n, q, NULL);
    double *p = calloc(2 * n, sizeof *p);
    CHECK(cairn_model_predict_proba(ctx, m, t, NULL, n, p) == CAIRN_OK);
    for (size_t i = 0; i < n; i++)
        out[i] = p[2 * i + 1];
    free(p);
    cairn_table_free(t);
}

TEST(setup)
{
    ctx = cairn_ctx_new();
}

TEST(tree_splits_at_the_midpoint)
{
    static const double x[] = {1, 2, 3, 10, 11, 12};
    static const int32_t y[] = {0, 0, 0, 1, 1, 1};
    cairn_table *t = table(6, x, y);
    static const char *const kv[] = {"max_depth", "1"};
    cairn_model *m = fit(t, "tree", kv, 1, 0);
    static const double q[] = {6.4, 6.5, 6.6, -100, 100};
    double p[5];
    prob_b(m, 5, q, p);
    /* (3 + 10) / 2 = 6.5, and x <= threshold goes left */
    CHECK(p[0] == 0 && p[1] == 0 && p[2] == 1 && p[3] == 0 && p[4] == 1);
    cairn_model_free(m);
    cairn_table_free(t);
}

TEST(tree_keeps_min_samples_leaf)
{
    /* b a b a b b: with min_samples_leaf 3 the only split allowed is 3 | 3, {b a b} | {a b b},
     * both 2/3 b: no gain, so the root stays a leaf of 4/6 b. */
    static const double x[] = {1, 2, 3, 4, 5, 6};
    static const int32_t y[] = {1, 0, 1, 0, 1, 1};
    cairn_table *t = table(6, x, y);
    static const char *const kv[] = {"min_samples_leaf", "3", "min_impurity_decrease", "1e-9"};
    cairn_model *m = fit(t, "tree", kv, 2, 0);
    static const double q[] = {1, 6};
    double p[2];
    prob_b(m, 2, q, p);
    CHECK_NEAR(p[0], 4.0 / 6.0, 1e-15);
    CHECK_NEAR(p[1], 4.0 / 6.0, 1e-15);
    cairn_model_free(m);
    /* without the limit the tree grows until its leaves are pure */
    m = fit(t, "tree", NULL, 0, 0);
    prob_b(m, 2, q, p);
    CHECK(p[0] == 1 && p[1] == 1);
    cairn_model_free(m);
    cairn_table_free(t);
}

TEST(forest_is_fixed_by_its_seed)
{
    double x[60];
    int32_t y[60];
    for (int i = 0; i < 60; i++) {
        x[i] = (i * 37) % 60;
        y[i] = (x[i] > 25) ^ (i % 7 == 0);
    }
    cairn_table *t = table(60, x, y);
    static const char *const one[] = {"n_estimators", "8", "n_jobs", "1"};
    static const char *const two[] = {"n_estimators", "8", "n_jobs", "2"};
    cairn_model *a = fit(t, "forest", one, 2, 11), *b = fit(t, "forest", two, 2, 11);
    cairn_model *c = fit(t, "forest", one, 2, 12);
    static const double q[] = {3, 20, 26, 40, 59};
    double pa[5], pb[5], pc[5];
    prob_b(a, 5, q, pa);
    prob_b(b, 5, q, pb);
    prob_b(c, 5, q, pc);
    CHECK(memcmp(pa, pb, sizeof pa) == 0); /* threads do not matter */
    CHECK(memcmp(pa, pc, sizeof pa) != 0); /* the seed does */
    for (int i = 0; i < 5; i++)            /* a mean of 8 leaf fractions */
        CHECK(pa[i] >= 0 && pa[i] <= 1);
    CHECK(pa[0] < 0.5 && pa[4] > 0.5);
    cairn_model_free(a);
    cairn_model_free(b);
    cairn_model_free(c);
    cairn_table_free(t);
}

TEST(knn_keeps_the_earlier_row_among_equal_distances)
{
    /* query 1 is at distance 1 from row 0 (x 0, a) and row 1 (x 2, b) */
    static const double x[] = {0, 2, 10};
    static const int32_t y[] = {0, 1, 1};
    cairn_table *t = table(3, x, y);
    static const char *const k1[] = {"n_neighbors", "1", "standardize", "false"};
    cairn_model *m = fit(t, "knn", k1, 2, 0);
    static const double q[] = {1, 1.5, 0};
    double p[3];
    prob_b(m, 3, q, p);
    CHECK(p[0] == 0 && p[1] == 1 && p[2] == 0);
    cairn_model_free(m);
    /* distance weights: 1/1 for a, 1/1 for b, 1/9 for b at query 1 */
    static const char *const k3[] = {"n_neighbors", "3",       "standardize",
                                     "false",       "weights", "distance"};
    m = fit(t, "knn", k3, 3, 0);
    prob_b(m, 3, q, p);
    CHECK_NEAR(p[0], (1 + 1.0 / 9) / (2 + 1.0 / 9), 1e-15);
    CHECK(p[2] == 0); /* on a training row: only that row counts */
    cairn_model_free(m);
    static const char *const k4[] = {"n_neighbors", "4"};
    CHECK(fit(t, "knn", k4, 1, 0) == NULL);
    CHECK(strstr(cairn_errmsg(ctx), "n_neighbors=4 exceeds the 3 training rows") != NULL);
    cairn_table_free(t);
}

TEST(gnb_posterior_has_its_closed_form)
{
    /* a: x 0, 2 (mean 1, var 1); b: x 4, 6, 8 (mean 6, var 8/3); priors 2/5, 3/5 */
    static const double x[] = {0, 2, 4, 6, 8};
    static const int32_t y[] = {0, 0, 1, 1, 1};
    cairn_table *t = table(5, x, y);
    static const char *const kv[] = {"var_smoothing", "0"};
    cairn_model *m = fit(t, "gnb", kv, 1, 0);
    static const double q[] = {3};
    double p[1];
    prob_b(m, 1, q, p);
    double va = 1, vb = 8.0 / 3;
    double la = log(0.4) - 0.5 * log(2 * M_PI * va) - 0.5 * (3 - 1) * (3 - 1) / va;
    double lb = log(0.6) - 0.5 * log(2 * M_PI * vb) - 0.5 * (3 - 6) * (3 - 6) / vb;
    CHECK_NEAR(p[0], 1 / (1 + exp(la - lb)), 1e-14);
    cairn_model_free(m);
    cairn_table_free(t);
}

TEST(teardown)
{
    cairn_close(ctx);
}

UNIT_MAIN(UNIT_CASE(setup), UNIT_CASE(tree_splits_at_the_midpoint),
          UNIT_CASE(tree_keeps_min_samples_leaf), UNIT_CASE(forest_is_fixed_by_its_seed),
          UNIT_CASE(knn_keeps_the_earlier_row_among_equal_distances),
          UNIT_CASE(gnb_posterior_has_its_closed_form), UNIT_CASE(teardown))
