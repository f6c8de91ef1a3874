/* SPDX-License-Identifier: MIT */
/* test_drift.c - the drift statistics against values SciPy computed (drift_scipy_cases.h,
 * made by drift_scipy_cases.py), PSI and JS against closed forms, ties, tiny samples,
 * constant columns, unseen categories, NaN, the sketch's error bound, the profile's JSON
 * round trip and its parser's refusals. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "unit.h"
#include "cairn/drift.h"
#include "drift_scipy_cases.h"

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

static bool rel_close(double a, double b, double rtol, double atol)
{
    return fabs(a - b) <= atol + rtol * fabs(b);
}

TEST(ks_matches_scipy)
{
    cairn_ctx *ctx = cairn_ctx_new();
    for (size_t i = 0; i < N_OF(ks_cases); i++) {
        const ks_case *c = &ks_cases[i];
        cairn_ks_result r;
        CHECK(cairn_drift_ks(ctx, c->a, c->n1, c->b, c->n2, (cairn_ks_method)c->method, &r) ==
              CAIRN_OK);
        if (!rel_close(r.statistic, c->d, 0, 1e-12) || !rel_close(r.pvalue, c->p, 1e-9, 1e-15)) {
            fprintf(stderr, "# %s: D %.17g vs %.17g, p %.17g vs %.17g\n", c->name, r.statistic,
                    c->d, r.pvalue, c->p);
            CHECK(0);
        }
    }
    cairn_close(ctx);
}

TEST(kstwo_sf_matches_scipy)
{
    for (size_t i = 0; i < N_OF(kstwo_cases); i++) {
        const kstwo_case *c = &kstwo_cases[i];
        double p = cairn_drift_kstwo_sf(c->n, c->x);
        if (!rel_close(p, c->sf, 1e-9, 1e-15)) {
            fprintf(stderr, "# kstwo.sf(%g, %zu): %.17g vs %.17g\n", c->x, c->n, p, c->sf);
            CHECK(0);
        }
    }
}

TEST(ks_drops_nan_and_refuses_empty)
{
    cairn_ctx *ctx = cairn_ctx_new();
    const double a[] = {1, NAN, 2, 3}, a2[] = {1, 2, 3}, b[] = {2.5, 4, NAN, 5};
    const double b2[] = {2.5, 4, 5}, none[] = {NAN, NAN};
    cairn_ks_result r1, r2;
    CHECK(cairn_drift_ks(ctx, a, 4, b, 4, CAIRN_KS_AUTO, &r1) == CAIRN_OK);
    CHECK(cairn_drift_ks(ctx, a2, 3, b2, 3, CAIRN_KS_AUTO, &r2) == CAIRN_OK);
    CHECK(r1.statistic == r2.statistic && r1.pvalue == r2.pvalue && r1.exact);
    CHECK(cairn_drift_ks(ctx, a, 4, none, 2, CAIRN_KS_AUTO, &r1) == CAIRN_EINVAL);
    cairn_close(ctx);
}

TEST(chi2_and_js_match_scipy)
{
    for (size_t i = 0; i < N_OF(count_cases); i++) {
        const count_case *c = &count_cases[i];
        double stat, p;
        cairn_drift_chi2(c->ref, c->cur, c->k, &stat, &p);
        CHECK(rel_close(stat, c->chi2, 1e-12, 1e-12));
        CHECK(rel_close(p, c->chi2_p, 1e-9, 1e-14));
        CHECK(rel_close(cairn_drift_js(c->ref, c->cur, c->k), c->js, 1e-12, 1e-14));
    }
}

TEST(chi2_unseen_category_is_drift)
{
    const double ref[] = {10, 10, 0}, cur[] = {10, 9, 1};
    double stat, p;
    cairn_drift_chi2(ref, cur, 3, &stat, &p);
    CHECK(isinf(stat) && p == 0);
    const double one_r[] = {5}, one_c[] = {7}; /* a single category: nothing to test */
    cairn_drift_chi2(one_r, one_c, 1, &stat, &p);
    CHECK(stat == 0 && p == 1);
}

TEST(psi_closed_forms)
{
    const double r[] = {50, 50}, c[] = {80, 20};
    double want = (0.5 - 0.8) * log(0.5 / 0.8) + (0.5 - 0.2) * log(0.5 / 0.2);
    CHECK_NEAR(cairn_drift_psi(r, c, 2), want, 1e-15);
    CHECK_NEAR(cairn_drift_psi(r, r, 2), 0, 0);
    const double r0[] = {100, 0}, c0[] = {50, 50}; /* an empty bin counts as 1e-4 */
    want = (1 - 0.5) * log(1 / 0.5) + (1e-4 - 0.5) * log(1e-4 / 0.5);
    CHECK_NEAR(cairn_drift_psi(r0, c0, 2), want, 1e-14);
    /* symmetric in its arguments */
    CHECK_NEAR(cairn_drift_psi(c, r, 2), cairn_drift_psi(r, c, 2), 1e-15);
}

TEST(js_closed_forms)
{
    const double p[] = {1, 0}, q[] = {0, 1}, u[] = {2, 2};
    CHECK_NEAR(cairn_drift_js(p, q, 2), sqrt(log(2.0)), 1e-15); /* disjoint: sqrt(ln 2) */
    CHECK_NEAR(cairn_drift_js(u, u, 2), 0, 0);
    /* p = (1, 0), q = (1/2, 1/2): m = (3/4, 1/4) */
    double want = sqrt((log(1 / 0.75) + 0.5 * log(0.5 / 0.75) + 0.5 * log(0.5 / 0.25)) / 2);
    CHECK_NEAR(cairn_drift_js(p, u, 2), want, 1e-15);
}

TEST(wasserstein_matches_scipy)
{
    for (size_t i = 0; i < N_OF(w_cases); i++) {
        const w_case *c = &w_cases[i];
        CHECK(rel_close(cairn_drift_wasserstein(c->a, c->n1, c->b, c->n2), c->w, 1e-12, 1e-14));
    }
    const double a[] = {NAN};
    CHECK(isnan(cairn_drift_wasserstein(a, 1, a, 1)));
}

TEST(ztest_pooled)
{
    double z;
    /* 30/100 vs 50/100: pooled 0.4 */
    double want_z = (0.3 - 0.5) / sqrt(0.4 * 0.6 * (0.02));
    double p = cairn_drift_ztest(30, 100, 50, 100, &z);
    CHECK_NEAR(z, want_z, 1e-12);
    CHECK_NEAR(p, erfc(fabs(want_z) / sqrt(2.0)), 1e-15);
    CHECK(cairn_drift_ztest(10, 10, 5, 5, &z) == 1.0); /* one value on both sides */
}

/* A table of n rows: x ~ shifted sawtooth, c categorical, k constant, m all missing. */
static cairn_table *table(cairn_ctx *ctx, size_t n, double shift, const char *extra_level)
{
    cairn_table *t = cairn_table_new(n);
    double *x = malloc(n * sizeof *x), *k = malloc(n * sizeof *k), *m = malloc(n * sizeof *m);
    int32_t *c = malloc(n * sizeof *c);
    const char *levels[] = {"a", "b", "c", extra_level ? extra_level : "d"};
    for (size_t i = 0; i < n; i++) {
        x[i] = (double)((i * 7919) % 1000) / 10.0 + shift;
        k[i] = 3.0;
        m[i] = NAN;
        c[i] = (int32_t)(i % 3);
        if (extra_level && i % 10 == 0)
            c[i] = 3;
        if (i % 50 == 0)
            x[i] = NAN;
    }
    CHECK(cairn_table_add_numeric(ctx, t, "x", x) == CAIRN_OK);
    CHECK(cairn_table_add_numeric(ctx, t, "k", k) == CAIRN_OK);
    CHECK(cairn_table_add_numeric(ctx, t, "m", m) == CAIRN_OK);
    CHECK(cairn_table_add_categorical(ctx, t, "c", c, levels, 4) == CAIRN_OK);
    free(x);
    free(k);
    free(m);
    free(c);
    return t;
}

static const cairn_drift_feature *feature(const cairn_drift_report *r, const char *name)
{
    for (size_t i = 0; i < r->n_features; i++)
        if (strcmp(r->features[i].name, name) == 0)
            return &r->features[i];
    return NULL;
}

TEST(report_on_constant_unseen_and_missing_columns)
{
    cairn_ctx *ctx = cairn_ctx_new();
    cairn_table *ref_t = table(ctx, 600, 0, NULL), *same = table(ctx, 500, 0, NULL);
    cairn_table *moved = table(ctx, 500, 30, "zzz");
    cairn_drift_reference *ref = NULL;
    CHECK(cairn_drift_reference_build(ctx, ref_t, NULL, &ref) == CAIRN_OK);
    cairn_drift_report *r = NULL;
    CHECK(cairn_drift_compare(ctx, ref, same, NULL, &r) == CAIRN_OK);
    CHECK(r->n_tested == 4);
    const cairn_drift_feature *x = feature(r, "x"), *k = feature(r, "k"), *m = feature(r, "m");
    CHECK(x->test == CAIRN_DRIFT_KS && !x->drifted && x->missing_ref == 12);
    CHECK(k->test == CAIRN_DRIFT_Z && k->pvalue == 1.0 && !k->drifted); /* constant */
    CHECK(m->test == CAIRN_DRIFT_MISSING && !m->drifted);               /* all missing */
    CHECK(feature(r, "c")->test == CAIRN_DRIFT_CHI2 && !feature(r, "c")->drifted);
    CHECK(!cairn_drift_report_drifted(r));
    cairn_drift_report_free(r);
    CHECK(cairn_drift_compare(ctx, ref, moved, NULL, &r) == CAIRN_OK);
    const cairn_drift_feature *c = feature(r, "c");
    CHECK(c->unseen_cur == 50 && c->drifted && c->pvalue == 0);
    CHECK(feature(r, "x")->drifted);
    CHECK(r->n_drifted == 2 && r->share == 0.5 && r->dataset_drift);
    char *html = NULL, *json = NULL, *svg = NULL;
    CHECK(cairn_drift_report_html(ctx, r, &html) == CAIRN_OK);
    CHECK(strstr(html, "zzz") != NULL && strstr(html, "<script") == NULL);
    CHECK(cairn_drift_report_json(ctx, r, &json) == CAIRN_OK);
    CHECK(strstr(json, "\"dataset_drift\": true") != NULL);
    CHECK(cairn_drift_feature_svg(ctx, r, 0, &svg) == CAIRN_OK);
    CHECK(strncmp(svg, "<?xml", 5) == 0);
    cairn_free(html);
    cairn_free(json);
    cairn_free(svg);
    cairn_drift_report_free(r);
    /* a forced test, and Bonferroni */
    cairn_drift_opts o = CAIRN_DRIFT_OPTS_INIT;
    o.test = CAIRN_DRIFT_PSI;
    o.decision = CAIRN_DRIFT_BONFERRONI;
    CHECK(cairn_drift_compare(ctx, ref, moved, &o, &r) == CAIRN_OK);
    CHECK(feature(r, "x")->test == CAIRN_DRIFT_PSI && feature(r, "x")->drifted);
    CHECK(r->dataset_drift);
    cairn_drift_report_free(r);
    cairn_drift_reference_free(ref);
    cairn_table_free(ref_t);
    cairn_table_free(same);
    cairn_table_free(moved);
    cairn_close(ctx);
}

TEST(profile_round_trips_and_compare_agrees)
{
    cairn_ctx *ctx = cairn_ctx_new();
    cairn_table *ref_t = table(ctx, 3000, 0, NULL), *cur = table(ctx, 700, 2, "e");
    cairn_drift_reference_opts ro = CAIRN_DRIFT_REFERENCE_OPTS_INIT;
    ro.sketch_size = CAIRN_DRIFT_SKETCH_EXACT;
    cairn_drift_reference *ref = NULL, *back = NULL;
    CHECK(cairn_drift_reference_build(ctx, ref_t, &ro, &ref) == CAIRN_OK);
    char *text = NULL, *again = NULL;
    CHECK(cairn_drift_reference_json(ctx, ref, &text) == CAIRN_OK);
    CHECK(cairn_drift_reference_parse(ctx, text, strlen(text), &back) == CAIRN_OK);
    CHECK(cairn_drift_reference_json(ctx, back, &again) == CAIRN_OK);
    CHECK_STR(again, text);
    cairn_drift_report *r1 = NULL, *r2 = NULL;
    CHECK(cairn_drift_compare(ctx, ref, cur, NULL, &r1) == CAIRN_OK);
    CHECK(cairn_drift_compare(ctx, back, cur, NULL, &r2) == CAIRN_OK);
    for (size_t i = 0; i < r1->n_features; i++) {
        CHECK(r1->features[i].drifted == r2->features[i].drifted);
        CHECK(r1->features[i].ks == r2->features[i].ks || isnan(r1->features[i].ks));
    }
    cairn_drift_report_free(r1);
    cairn_drift_report_free(r2);
    cairn_free(text);
    cairn_free(again);
    cairn_drift_reference_free(ref);
    cairn_drift_reference_free(back);
    cairn_table_free(ref_t);
    cairn_table_free(cur);
    cairn_close(ctx);
}

TEST(sketch_error_within_bound)
{
    /* D from an m-point sketch of n values is within 1/(m-1) + 1/n of the exact D. */
    cairn_ctx *ctx = cairn_ctx_new();
    const size_t n = 20000, m = 101;
    double *x = malloc(n * sizeof *x), *y = malloc(n * sizeof *y);
    uint64_t s = 88172645463325252ull;
    for (size_t i = 0; i < n; i++) {
        double u = 0;
        for (int k = 0; k < 12; k++) { /* Irwin-Hall: roughly normal */
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            u += (double)(s >> 11) / 9007199254740992.0;
        }
        x[i] = u - 6;
        y[i] = (u - 6) * 1.1 + 0.05;
    }
    cairn_table *a = cairn_table_new(n), *b = cairn_table_new(n);
    CHECK(cairn_table_add_numeric(ctx, a, "v", x) == CAIRN_OK);
    CHECK(cairn_table_add_numeric(ctx, b, "v", y) == CAIRN_OK);
    cairn_drift_reference_opts ro = CAIRN_DRIFT_REFERENCE_OPTS_INIT;
    ro.sketch_size = m;
    cairn_drift_reference *ref = NULL;
    CHECK(cairn_drift_reference_build(ctx, a, &ro, &ref) == CAIRN_OK);
    cairn_drift_report *r = NULL;
    CHECK(cairn_drift_compare(ctx, ref, b, NULL, &r) == CAIRN_OK);
    cairn_ks_result exact;
    CHECK(cairn_drift_ks(ctx, x, n, y, n, CAIRN_KS_AUTO, &exact) == CAIRN_OK);
    CHECK(r->is_sketch);
    CHECK(fabs(r->features[0].ks - exact.statistic) <= 1.0 / (double)(m - 1) + 1.0 / (double)n);
    cairn_drift_report_free(r);
    cairn_drift_reference_free(ref);
    cairn_table_free(a);
    cairn_table_free(b);
    free(x);
    free(y);
    cairn_close(ctx);
}

TEST(ks_statistic_over_radix_sorted_samples)
{
    /* Samples past the radix sort's threshold (256 values): both signs, zeros of both signs,
     * ties, denormals, infinities and huge values; D against a brute-force sup |Fa - Fb|. */
    cairn_ctx *ctx = cairn_ctx_new();
    enum { NA = 700, NB = 523 };
    static const double special[] = {0.0,      -0.0,      4.9e-324, -4.9e-324, 1e308, -1e308,
                                     INFINITY, -INFINITY, 1.0,      -1.0,      2.5,   2.5};
    double a[NA], b[NB];
    uint64_t s = 2463534242ull;
    for (size_t i = 0; i < NA + NB; i++) {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        double v = (s % 5 == 0) ? special[(s >> 8) % 12]
                                : ((double)(s >> 11) / 9007199254740992.0 - 0.5) *
                                      pow(10.0, (double)((s >> 3) % 9) - 4.0);
        if (i < NA)
            a[i] = v;
        else
            b[i - NA] = v * 1.3 + (i % 3 ? 0.0 : 0.01);
    }
    double d = 0;
    for (size_t k = 0; k < NA + NB; k++) {
        double x = k < NA ? a[k] : b[k - NA];
        size_t ca = 0, cb = 0;
        for (size_t i = 0; i < NA; i++)
            ca += a[i] <= x;
        for (size_t i = 0; i < NB; i++)
            cb += b[i] <= x;
        double g = fabs((double)ca / NA - (double)cb / NB);
        d = g > d ? g : d;
    }
    cairn_ks_result r;
    CHECK(cairn_drift_ks(ctx, a, NA, b, NB, CAIRN_KS_ASYMP, &r) == CAIRN_OK);
    CHECK(fabs(r.statistic - d) < 1e-12);
    cairn_close(ctx);
}

TEST(parser_refuses_bad_profiles)
{
    cairn_ctx *ctx = cairn_ctx_new();
    static const char *const bad[] = {
        "",
        "[]",
        "{\"kind\":\"x\",\"version\":1}",
        "{\"kind\":\"cairn.drift.reference\",\"version\":2,\"n_rows\":1,\"bins\":10,"
        "\"features\":[]}",
        "{\"kind\":\"cairn.drift.reference\",\"version\":1,\"n_rows\":2,\"bins\":10,"
        "\"features\":[{\"name\":\"x\",\"type\":\"numeric\",\"role\":\"feature\",\"count\":2,"
        "\"missing\":0,\"mean\":1,\"std\":0,\"exact\":true,\"sketch\":[2,1],\"edges\":[1,2],"
        "\"edge_counts\":[2]}]}",
        "{\"kind\":\"cairn.drift.reference\",\"version\":1,\"n_rows\":2,\"bins\":10,"
        "\"features\":[{\"name\":\"c\",\"type\":\"categorical\",\"role\":\"feature\",\"count\":2,"
        "\"missing\":0,\"levels\":[\"a\",\"a\"],\"level_counts\":[1,1]}]}",
        "{\"kind\":\"cairn.drift.reference\",\"version\":1,\"n_rows\":3,\"bins\":10,"
        "\"features\":[{\"name\":\"c\",\"type\":\"categorical\",\"role\":\"feature\",\"count\":2,"
        "\"missing\":0,\"levels\":[\"a\",\"b\"],\"level_counts\":[1,1]}]}",
    };
    for (size_t i = 0; i < N_OF(bad); i++) {
        cairn_drift_reference *r = (cairn_drift_reference *)1;
        CHECK(cairn_drift_reference_parse(ctx, bad[i], strlen(bad[i]), &r) == CAIRN_EINVAL);
        CHECK(r == NULL);
        CHECK(strstr(cairn_errmsg(ctx), "drift reference") != NULL);
    }
    cairn_close(ctx);
}

UNIT_MAIN(UNIT_CASE(ks_matches_scipy), UNIT_CASE(kstwo_sf_matches_scipy),
          UNIT_CASE(ks_drops_nan_and_refuses_empty), UNIT_CASE(chi2_and_js_match_scipy),
          UNIT_CASE(chi2_unseen_category_is_drift), UNIT_CASE(psi_closed_forms),
          UNIT_CASE(js_closed_forms), UNIT_CASE(wasserstein_matches_scipy), UNIT_CASE(ztest_pooled),
          UNIT_CASE(report_on_constant_unseen_and_missing_columns),
          UNIT_CASE(profile_round_trips_and_compare_agrees), UNIT_CASE(sketch_error_within_bound),
          UNIT_CASE(ks_statistic_over_radix_sorted_samples), UNIT_CASE(parser_refuses_bad_profiles))
