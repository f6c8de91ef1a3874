/* SPDX-License-Identifier: MIT */
/* test_eval.c - libcairn's metrics, curves and statistical tests against scikit-learn 1.2 and
 * SciPy 1.10 (tests/data/eval/reference.json, made by gen_reference.py beside it), plus
 * properties of the resampling functions and the failures sklearn raises for, and the scorer
 * (cairn_score) by metric name against the same references. */
#include <jansson.h>
#include <stdint.h>
#include "cairn/eval.h"
#include "unit.h"
#include "base/banned.h"

static json_t *ref;

static json_t *reference(void)
{
    if (ref)
        return ref;
    const char *dir = getenv("CAIRN_TEST_DATA");
    char path[4096];
    snprintf(path, sizeof path, "%s/eval/reference.json", dir ? dir : "tests/data");
    json_error_t err;
    ref = json_load_file(path, 0, &err);
    if (!ref) {
        fprintf(stderr, "# cannot load %s: %s (line %d)\n", path, err.text, err.line);
        abort();
    }
    return ref;
}

/* Relative 1e-10 (with a tiny absolute floor for zeros); a JSON null expects NaN. */
static int close_to(double got, const json_t *want)
{
    if (json_is_null(want))
        return isnan(got);
    double w = json_number_value(want);
    return fabs(got - w) <= 1e-10 * fabs(w) + 1e-15;
}

#define CHECK_REF(got, want, what, name)                                                           \
    do {                                                                                           \
        double g_ = (got);                                                                         \
        const json_t *w_ = (want);                                                                 \
        if (!w_ || !close_to(g_, w_)) {                                                            \
            unit_failed = 1;                                                                       \
            fprintf(stderr, "# %s:%d: %s %s: got %.17g want %.17g\n", __FILE__, __LINE__, name,    \
                    what, g_, w_ ? json_number_value(w_) : -999.0);                                \
        }                                                                                          \
    } while (0)

static double *doubles(const json_t *a, size_t *n)
{
    *n = json_array_size(a);
    double *v = calloc(*n ? *n : 1, sizeof *v);
    for (size_t i = 0; i < *n; i++)
        v[i] = json_number_value(json_array_get(a, i));
    return v;
}

static int32_t *ints(const json_t *a, size_t *n)
{
    *n = json_array_size(a);
    int32_t *v = calloc(*n ? *n : 1, sizeof *v);
    for (size_t i = 0; i < *n; i++)
        v[i] = (int32_t)json_integer_value(json_array_get(a, i));
    return v;
}

static const json_t *exp_of(const json_t *c, const char *key)
{
    return json_object_get(json_object_get(c, "expected"), key);
}

static void check_curve(const cairn_curve *c, const json_t *want, const char *what,
                        const char *name, bool thresholds)
{
    const json_t *x = json_object_get(want, "x"), *y = json_object_get(want, "y");
    CHECK(c->n == json_array_size(x));
    if (c->n != json_array_size(x)) {
        fprintf(stderr, "# %s %s: %zu points, want %zu\n", name, what, c->n, json_array_size(x));
        return;
    }
    for (size_t i = 0; i < c->n; i++) {
        CHECK_REF(c->x[i], json_array_get(x, i), what, name);
        CHECK_REF(c->y[i], json_array_get(y, i), what, name);
    }
    if (thresholds) {
        const json_t *t = json_object_get(want, "thresholds");
        CHECK(c->n_thresholds == json_array_size(t));
        for (size_t i = 0; i < c->n_thresholds && i < json_array_size(t); i++)
            CHECK_REF(c->thresholds[i], json_array_get(t, i), what, name);
    }
}

TEST(classification_label_metrics_match_sklearn)
{
    cairn_ctx *ctx = cairn_ctx_new();
    const json_t *cases = json_object_get(reference(), "classification");
    CHECK(json_array_size(cases) >= 6);
    for (size_t c = 0; c < json_array_size(cases); c++) {
        const json_t *cs = json_array_get(cases, c);
        const char *name = json_string_value(json_object_get(cs, "name"));
        size_t n, n2, k = (size_t)json_integer_value(json_object_get(cs, "n_classes"));
        int32_t *yt = ints(json_object_get(cs, "y_true"), &n);
        int32_t *yp = ints(json_object_get(cs, "y_pred"), &n2);
        CHECK(n == n2);
        double v, p, r, f;
        CHECK(cairn_eval_accuracy(ctx, yt, yp, n, &v) == CAIRN_OK);
        CHECK_REF(v, exp_of(cs, "accuracy"), "accuracy", name);
        CHECK(cairn_eval_balanced_accuracy(ctx, yt, yp, n, k, &v) == CAIRN_OK);
        CHECK_REF(v, exp_of(cs, "balanced_accuracy"), "balanced_accuracy", name);
        int64_t *cm = calloc(k * k, sizeof *cm);
        CHECK(cairn_eval_confusion_matrix(ctx, yt, yp, n, k, cm) == CAIRN_OK);
        for (size_t i = 0; i < k * k; i++)
            CHECK(cm[i] == json_integer_value(json_array_get(exp_of(cs, "confusion"), i)));
        free(cm);
        double *pc = calloc(k, sizeof *pc), *rc = calloc(k, sizeof *rc),
               *fc = calloc(k, sizeof *fc);
        int64_t *sc = calloc(k, sizeof *sc);
        CHECK(cairn_eval_prf_per_class(ctx, yt, yp, n, k, pc, rc, fc, sc) == CAIRN_OK);
        for (size_t i = 0; i < k; i++) {
            CHECK_REF(pc[i], json_array_get(exp_of(cs, "precision"), i), "precision", name);
            CHECK_REF(rc[i], json_array_get(exp_of(cs, "recall"), i), "recall", name);
            CHECK_REF(fc[i], json_array_get(exp_of(cs, "f1"), i), "f1", name);
            CHECK(sc[i] == json_integer_value(json_array_get(exp_of(cs, "support"), i)));
        }
        free(pc);
        free(rc);
        free(fc);
        free(sc);
        static const char *const avg_names[] = {"macro", "weighted", "micro"};
        for (int a = 0; a < 3; a++) {
            char key[64];
            CHECK(cairn_eval_prf(ctx, yt, yp, n, k, (cairn_average)a, &p, &r, &f) == CAIRN_OK);
            snprintf(key, sizeof key, "precision_%s", avg_names[a]);
            CHECK_REF(p, exp_of(cs, key), key, name);
            snprintf(key, sizeof key, "recall_%s", avg_names[a]);
            CHECK_REF(r, exp_of(cs, key), key, name);
            snprintf(key, sizeof key, "f1_%s", avg_names[a]);
            CHECK_REF(f, exp_of(cs, key), key, name);
        }
        CHECK(cairn_eval_mcc(ctx, yt, yp, n, k, &v) == CAIRN_OK);
        CHECK_REF(v, exp_of(cs, "mcc"), "mcc", name);
        CHECK(cairn_eval_cohen_kappa(ctx, yt, yp, n, k, &v) == CAIRN_OK);
        CHECK_REF(v, exp_of(cs, "kappa"), "kappa", name);
        free(yt);
        free(yp);
    }
    cairn_close(ctx);
}

TEST(probability_metrics_match_sklearn)
{
    cairn_ctx *ctx = cairn_ctx_new();
    const json_t *cases = json_object_get(reference(), "classification");
    for (size_t c = 0; c < json_array_size(cases); c++) {
        const json_t *cs = json_array_get(cases, c);
        const char *name = json_string_value(json_object_get(cs, "name"));
        size_t n, np_, k = (size_t)json_integer_value(json_object_get(cs, "n_classes"));
        int32_t *yt = ints(json_object_get(cs, "y_true"), &n);
        double *proba = doubles(json_object_get(cs, "proba"), &np_);
        CHECK(np_ == n * k);
        double v;
        CHECK(cairn_eval_log_loss(ctx, yt, proba, n, k, 0, &v) == CAIRN_OK);
        CHECK_REF(v, exp_of(cs, "log_loss"), "log_loss", name);
        CHECK(cairn_eval_log_loss(ctx, yt, proba, n, k, 1e-15, &v) == CAIRN_OK);
        CHECK_REF(v, exp_of(cs, "log_loss_1e15"), "log_loss_1e15", name);
        CHECK(cairn_eval_brier_multiclass(ctx, yt, proba, n, k, &v) == CAIRN_OK);
        CHECK_REF(v, exp_of(cs, "brier_multiclass"), "brier_multiclass", name);
        if (k == 2) {
            double *pos = calloc(n, sizeof *pos);
            for (size_t i = 0; i < n; i++)
                pos[i] = proba[2 * i + 1];
            const json_t *want = exp_of(cs, "roc_auc");
            cairn_status st = cairn_eval_roc_auc(ctx, yt, proba, n, 2, CAIRN_MULTICLASS_OVR,
                                                 CAIRN_AVERAGE_MACRO, &v);
            if (json_is_null(want)) {
                CHECK(st == CAIRN_EINVAL);
                CHECK(strstr(cairn_errmsg(ctx), "only one class present") != NULL);
                CHECK(cairn_eval_roc_auc_binary(ctx, yt, pos, n, &v) == CAIRN_EINVAL);
            } else {
                CHECK(st == CAIRN_OK);
                CHECK_REF(v, want, "roc_auc", name);
                CHECK(cairn_eval_roc_auc_binary(ctx, yt, pos, n, &v) == CAIRN_OK);
                CHECK_REF(v, want, "roc_auc_binary", name);
            }
            CHECK(cairn_eval_average_precision(ctx, yt, pos, n, &v) == CAIRN_OK);
            CHECK_REF(v, exp_of(cs, "average_precision"), "average_precision", name);
            CHECK(cairn_eval_brier_binary(ctx, yt, pos, n, &v) == CAIRN_OK);
            CHECK_REF(v, exp_of(cs, "brier"), "brier", name);
            cairn_curve cv = CAIRN_CURVE_INIT;
            CHECK(cairn_eval_roc_curve(ctx, yt, pos, n, &cv) == CAIRN_OK);
            check_curve(&cv, exp_of(cs, "roc_curve"), "roc_curve", name, true);
            cairn_curve_release(&cv);
            CHECK(cairn_eval_pr_curve(ctx, yt, pos, n, &cv) == CAIRN_OK);
            check_curve(&cv, exp_of(cs, "pr_curve"), "pr_curve", name, true);
            cairn_curve_release(&cv);
            static const struct {
                const char *key;
                cairn_calibration_strategy s;
                size_t bins;
            } cal[] = {{"calibration_uniform_5", CAIRN_CALIBRATION_UNIFORM, 5},
                       {"calibration_uniform_10", CAIRN_CALIBRATION_UNIFORM, 10},
                       {"calibration_quantile_5", CAIRN_CALIBRATION_QUANTILE, 5},
                       {"calibration_quantile_10", CAIRN_CALIBRATION_QUANTILE, 10}};
            for (size_t i = 0; i < 4; i++) {
                CHECK(cairn_eval_calibration_curve(ctx, yt, pos, n, cal[i].bins, cal[i].s, &cv) ==
                      CAIRN_OK);
                check_curve(&cv, exp_of(cs, cal[i].key), cal[i].key, name, false);
                cairn_curve_release(&cv);
            }
            free(pos);
        } else {
            static const struct {
                const char *key;
                cairn_multiclass mc;
                cairn_average avg;
            } mcs[] = {{"roc_auc_ovr_macro", CAIRN_MULTICLASS_OVR, CAIRN_AVERAGE_MACRO},
                       {"roc_auc_ovr_weighted", CAIRN_MULTICLASS_OVR, CAIRN_AVERAGE_WEIGHTED},
                       {"roc_auc_ovo_macro", CAIRN_MULTICLASS_OVO, CAIRN_AVERAGE_MACRO},
                       {"roc_auc_ovo_weighted", CAIRN_MULTICLASS_OVO, CAIRN_AVERAGE_WEIGHTED}};
            for (size_t i = 0; i < 4; i++) {
                const json_t *want = exp_of(cs, mcs[i].key);
                cairn_status st =
                    cairn_eval_roc_auc(ctx, yt, proba, n, k, mcs[i].mc, mcs[i].avg, &v);
                if (json_is_null(want)) {
                    CHECK(st == CAIRN_EINVAL);
                } else {
                    CHECK(st == CAIRN_OK);
                    CHECK_REF(v, want, mcs[i].key, name);
                }
            }
        }
        free(yt);
        free(proba);
    }
    cairn_close(ctx);
}

TEST(regression_metrics_match_sklearn)
{
    cairn_ctx *ctx = cairn_ctx_new();
    const json_t *cases = json_object_get(reference(), "regression");
    CHECK(json_array_size(cases) == 4);
    for (size_t c = 0; c < json_array_size(cases); c++) {
        const json_t *cs = json_array_get(cases, c);
        const char *name = json_string_value(json_object_get(cs, "name"));
        size_t n, n2;
        double *yt = doubles(json_object_get(cs, "y_true"), &n);
        double *yp = doubles(json_object_get(cs, "y_pred"), &n2);
        cairn_regression_metrics m;
        CHECK(cairn_eval_regression(ctx, yt, yp, n, &m) == CAIRN_OK);
        CHECK_REF(m.mae, exp_of(cs, "mae"), "mae", name);
        CHECK_REF(m.mse, exp_of(cs, "mse"), "mse", name);
        CHECK_REF(m.rmse, exp_of(cs, "rmse"), "rmse", name);
        CHECK_REF(m.r2, exp_of(cs, "r2"), "r2", name);
        CHECK_REF(m.mape, exp_of(cs, "mape"), "mape", name);
        free(yt);
        free(yp);
    }
    cairn_close(ctx);
}

TEST(tests_match_scipy)
{
    cairn_ctx *ctx = cairn_ctx_new();
    const json_t *r = reference(), *cases = json_object_get(r, "ttest");
    cairn_test_result res;
    for (size_t c = 0; c < json_array_size(cases); c++) {
        const json_t *cs = json_array_get(cases, c);
        size_t n, n2;
        double *a = doubles(json_object_get(cs, "a"), &n);
        double *b = doubles(json_object_get(cs, "b"), &n2);
        CHECK(cairn_stats_ttest_paired(ctx, a, b, n, &res) == CAIRN_OK);
        CHECK_REF(res.statistic, json_object_get(cs, "statistic"), "t", "ttest");
        CHECK_REF(res.pvalue, json_object_get(cs, "pvalue"), "p", "ttest");
        CHECK(res.df == (double)(n - 1));
        free(a);
        free(b);
    }
    cases = json_object_get(r, "wilcoxon");
    int n_exact = 0;
    for (size_t c = 0; c < json_array_size(cases); c++) {
        const json_t *cs = json_array_get(cases, c);
        const char *name = json_string_value(json_object_get(cs, "name"));
        size_t n, n2;
        double *a = doubles(json_object_get(cs, "a"), &n);
        double *b = doubles(json_object_get(cs, "b"), &n2);
        CHECK(cairn_stats_wilcoxon(ctx, a, b, n, &res) == CAIRN_OK);
        CHECK_REF(res.statistic, json_object_get(cs, "statistic"), "T", name);
        CHECK_REF(res.pvalue, json_object_get(cs, "pvalue"), "p", name);
        CHECK(res.exact == (strncmp(name, "exact", 5) == 0));
        n_exact += res.exact;
        free(a);
        free(b);
    }
    CHECK(n_exact == 5);
    cases = json_object_get(r, "mcnemar");
    for (size_t c = 0; c < json_array_size(cases); c++) {
        const json_t *cs = json_array_get(cases, c);
        int64_t n01 = json_integer_value(json_object_get(cs, "n01"));
        int64_t n10 = json_integer_value(json_object_get(cs, "n10"));
        CHECK(cairn_stats_mcnemar(ctx, n01, n10, true, &res) == CAIRN_OK);
        CHECK_REF(res.statistic, json_object_get(cs, "exact_statistic"), "stat", "mcnemar");
        CHECK_REF(res.pvalue, json_object_get(cs, "exact_pvalue"), "exact p", "mcnemar");
        CHECK(cairn_stats_mcnemar(ctx, n01, n10, false, &res) == CAIRN_OK);
        CHECK_REF(res.statistic, json_object_get(cs, "chi2_statistic"), "chi2", "mcnemar");
        CHECK_REF(res.pvalue, json_object_get(cs, "chi2_pvalue"), "chi2 p", "mcnemar");
    }
    cairn_close(ctx);
}

TEST(distributions_match_scipy)
{
    const json_t *d = json_object_get(reference(), "distributions"), *row;
    size_t i;
#define ARG(k) json_number_value(json_array_get(row, k))
    json_array_foreach(json_object_get(d, "betainc"), i, row) CHECK_REF(
        cairn_stats_betainc(ARG(0), ARG(1), ARG(2)), json_array_get(row, 3), "betainc", "dist");
    json_array_foreach(json_object_get(d, "gammainc"), i, row)
    {
        CHECK_REF(cairn_stats_gammainc(ARG(0), ARG(1)), json_array_get(row, 2), "P", "dist");
        CHECK_REF(cairn_stats_gammaincc(ARG(0), ARG(1)), json_array_get(row, 3), "Q", "dist");
    }
    json_array_foreach(json_object_get(d, "t_cdf"), i, row)
        CHECK_REF(cairn_stats_t_cdf(ARG(0), ARG(1)), json_array_get(row, 2), "t_cdf", "dist");
    /* SciPy's t.ppf (cephes stdtri) is good to ~3e-9 only: t.cdf(t.ppf(0.9, 29), 29) is off by
     * 5.6e-10. Ours round-trips through the t CDF (which matches SciPy to 1e-10) exactly. */
    json_array_foreach(json_object_get(d, "t_ppf"), i, row)
    {
        double q = cairn_stats_t_quantile(ARG(0), ARG(1)), want = ARG(2);
        CHECK_NEAR(q, want, 1e-8 * fabs(want) + 1e-15);
        CHECK_NEAR(cairn_stats_t_cdf(q, ARG(1)), ARG(0), 1e-13 * ARG(0));
    }
    json_array_foreach(json_object_get(d, "norm_ppf"), i, row)
        CHECK_REF(cairn_stats_normal_quantile(ARG(0)), json_array_get(row, 1), "norm_ppf", "dist");
    json_array_foreach(json_object_get(d, "chi2_sf"), i, row)
        CHECK_REF(cairn_stats_chi2_sf(ARG(0), ARG(1)), json_array_get(row, 2), "chi2_sf", "dist");
#undef ARG
    CHECK(isnan(cairn_stats_normal_quantile(1.5)));
    CHECK(isnan(cairn_stats_betainc(-1, 1, 0.5)));
}

TEST(bad_input_fails_with_a_message)
{
    cairn_ctx *ctx = cairn_ctx_new();
    int32_t yt[] = {0, 1, 2, 1}, yp[] = {0, 1, 5, 1};
    double v;
    CHECK(cairn_eval_prf(ctx, yt, yp, 4, 3, CAIRN_AVERAGE_MACRO, &v, NULL, NULL) == CAIRN_EINVAL);
    CHECK(strstr(cairn_errmsg(ctx), "'y_pred'[2] = 5") != NULL);
    CHECK(cairn_eval_accuracy(ctx, yt, yp, 0, &v) == CAIRN_EINVAL);
    double proba[] = {0.2, 0.3, 0.4, 0.5, 0.5, 0, 0.1, 0.8, 0.1, 0, 1, 0};
    CHECK(cairn_eval_roc_auc(ctx, yt, proba, 4, 3, CAIRN_MULTICLASS_OVR, CAIRN_AVERAGE_MACRO, &v) ==
          CAIRN_EINVAL);
    CHECK(strstr(cairn_errmsg(ctx), "sums to 0.9") != NULL);
    double nan_score[] = {0.1, NAN, 0.3, 0.4};
    int32_t yb[] = {0, 1, 0, 1};
    CHECK(cairn_eval_roc_auc_binary(ctx, yb, nan_score, 4, &v) == CAIRN_EINVAL);
    double outside[] = {0.1, 1.2, 0.3, 0.4};
    CHECK(cairn_eval_brier_binary(ctx, yb, outside, 4, &v) == CAIRN_EINVAL);
    cairn_curve c;
    CHECK(cairn_eval_calibration_curve(ctx, yb, outside, 4, 5, CAIRN_CALIBRATION_UNIFORM, &c) ==
          CAIRN_EINVAL);
    CHECK(c.x == NULL);
    cairn_test_result res;
    double z[] = {1, 2, 3};
    CHECK(cairn_stats_wilcoxon(ctx, z, z, 3, &res) == CAIRN_EINVAL);
    CHECK(cairn_stats_ttest_paired(ctx, z, z, 1, &res) == CAIRN_EINVAL);
    CHECK(cairn_stats_ttest_paired(ctx, z, z, 3, &res) == CAIRN_OK);
    CHECK(isnan(res.statistic) && isnan(res.pvalue));
    CHECK(cairn_stats_mcnemar(ctx, -1, 2, true, &res) == CAIRN_EINVAL);
    int32_t fold[4];
    CHECK(cairn_stratified_kfold(ctx, yt, 4, 3, 5, 1, fold) == CAIRN_EINVAL);
    cairn_close(ctx);
}

TEST(stratified_kfold_balances_every_class)
{
    cairn_ctx *ctx = cairn_ctx_new();
    enum { N = 103, K = 4, F = 5 };
    int32_t y[N], fold[N], fold2[N];
    for (int i = 0; i < N; i++)
        y[i] = i % 7 == 0 ? 3 : i % 3; /* imbalanced */
    CHECK(cairn_stratified_kfold(ctx, y, N, K, F, 42, fold) == CAIRN_OK);
    CHECK(cairn_stratified_kfold(ctx, y, N, K, F, 42, fold2) == CAIRN_OK);
    CHECK(memcmp(fold, fold2, sizeof fold) == 0);
    CHECK(cairn_stratified_kfold(ctx, y, N, K, F, 43, fold2) == CAIRN_OK);
    CHECK(memcmp(fold, fold2, sizeof fold) != 0);
    int count[F][K] = {{0}}, size[F] = {0};
    for (int i = 0; i < N; i++) {
        CHECK(fold[i] >= 0 && fold[i] < F);
        count[fold[i]][y[i]]++;
        size[fold[i]]++;
    }
    for (int k = 0; k < K; k++) {
        int lo = N, hi = 0;
        for (int f = 0; f < F; f++) {
            lo = count[f][k] < lo ? count[f][k] : lo;
            hi = count[f][k] > hi ? count[f][k] : hi;
        }
        CHECK(hi - lo <= 1);
    }
    int lo = N, hi = 0;
    for (int f = 0; f < F; f++) {
        lo = size[f] < lo ? size[f] : lo;
        hi = size[f] > hi ? size[f] : hi;
    }
    CHECK(hi - lo <= 1);
    cairn_close(ctx);
}

typedef struct acc_data {
    const int32_t *y_true, *y_pred;
} acc_data;

static cairn_status acc_metric(cairn_ctx *ctx, const size_t *idx, size_t n, void *user, double *out)
{
    (void)ctx;
    acc_data *d = user;
    size_t hit = 0;
    for (size_t i = 0; i < n; i++)
        hit += d->y_true[idx[i]] == d->y_pred[idx[i]];
    *out = (double)hit / (double)n;
    return CAIRN_OK;
}

static cairn_status auc_metric(cairn_ctx *ctx, const size_t *idx, size_t n, void *user, double *out)
{
    const int32_t *y = user;
    int32_t yy[8];
    double s[8];
    for (size_t i = 0; i < n; i++) {
        yy[i] = y[idx[i]];
        s[i] = (double)idx[i];
    }
    return cairn_eval_roc_auc_binary(ctx, yy, s, n, out);
}

/* Defined only on resamples that start with row 0 (a quarter of them for n = 4). */
static cairn_status first_row_metric(cairn_ctx *ctx, const size_t *idx, size_t n, void *user,
                                     double *out)
{
    (void)user;
    (void)n;
    *out = 1;
    return idx[0] == 0 ? CAIRN_OK : cairn_eval_accuracy(ctx, NULL, NULL, 0, out);
}

TEST(bootstrap_intervals_cover_and_repeat)
{
    cairn_ctx *ctx = cairn_ctx_new();
    enum { N = 400 };
    int32_t yt[N], ya[N], yb[N];
    for (int i = 0; i < N; i++) {
        yt[i] = i % 2;
        ya[i] = i % 5 == 0 ? 1 - yt[i] : yt[i]; /* 80% right */
        yb[i] = i % 3 == 0 ? 1 - yt[i] : yt[i]; /* ~66.75% right */
    }
    acc_data a = {yt, ya}, b = {yt, yb};
    cairn_bootstrap_opts opts = CAIRN_BOOTSTRAP_OPTS_INIT;
    opts.seed = 7;
    cairn_interval ci, ci2;
    CHECK(cairn_bootstrap_ci(ctx, N, acc_metric, &a, &opts, &ci) == CAIRN_OK);
    CHECK_NEAR(ci.estimate, 0.8, 1e-12);
    CHECK(ci.low < 0.8 && ci.high > 0.8);
    CHECK(ci.low > 0.74 && ci.high < 0.86); /* se = 0.02, 95% half width ~0.04 */
    CHECK(ci.n_valid == 1000);
    CHECK(cairn_bootstrap_ci(ctx, N, acc_metric, &a, &opts, &ci2) == CAIRN_OK);
    CHECK(ci.low == ci2.low && ci.high == ci2.high);
    CHECK(cairn_bootstrap_paired_diff(ctx, N, acc_metric, &a, acc_metric, &b, &opts, &ci) ==
          CAIRN_OK);
    CHECK_NEAR(ci.estimate, 0.8 - 266.0 / 400, 1e-12);
    CHECK(ci.low > 0.03 && ci.high < 0.24 && ci.low < ci.estimate && ci.high > ci.estimate);
    /* AUC on 3 rows with one positive is undefined on a third of the resamples: skipped. */
    int32_t y3[] = {0, 0, 1};
    CHECK(cairn_bootstrap_ci(ctx, 3, auc_metric, y3, &opts, &ci) == CAIRN_OK);
    CHECK(ci.n_valid > 550 && ci.n_valid < 780);
    CHECK(ci.estimate == 1.0 && ci.low <= ci.high);
    /* Undefined on most resamples: the interval fails. */
    CHECK(cairn_bootstrap_ci(ctx, 4, first_row_metric, NULL, &opts, &ci) == CAIRN_EINVAL);
    CHECK(strstr(cairn_errmsg(ctx), "undefined on") != NULL);
    cairn_close(ctx);
}

TEST(mcnemar_from_predictions)
{
    cairn_ctx *ctx = cairn_ctx_new();
    int32_t y[] = {0, 1, 1, 0, 1, 0, 1, 1};
    int32_t a[] = {0, 1, 1, 0, 1, 0, 0, 1}; /* wrong at 6 */
    int32_t b[] = {1, 0, 1, 0, 0, 0, 1, 1}; /* wrong at 0, 1, 4 */
    cairn_test_result r, r2;
    CHECK(cairn_stats_mcnemar_predictions(ctx, y, a, b, 8, true, &r) == CAIRN_OK);
    CHECK(cairn_stats_mcnemar(ctx, 3, 1, true, &r2) == CAIRN_OK);
    CHECK(r.statistic == 1 && r.pvalue == r2.pvalue);
    CHECK_NEAR(r.pvalue, 0.625, 1e-14); /* 2 * (1 + 4) / 16 */
    cairn_close(ctx);
}

int main(void);
/* ---- the scorer (cairn_score): every metric by name against the same references ---- */

/* The reference key of each classification metric name (k: the case's class count). */
static const char *ref_key(const char *metric, size_t k)
{
    static const char *const map[][3] = {
        /* name, key for two classes, key for more */
        {"cohen_kappa", "kappa", "kappa"},
        {"roc_auc", "roc_auc", "roc_auc_ovr_macro"},
        {"roc_auc_ovr", "roc_auc", "roc_auc_ovr_macro"},
        {"roc_auc_ovo", "roc_auc", "roc_auc_ovo_macro"},
        {"brier", "brier", "brier_multiclass"},
    };
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (strcmp(map[i][0], metric) == 0)
            return map[i][k == 2 ? 1 : 2];
    return metric;
}

static cairn_predictions case_predictions(const json_t *cs, int32_t **yt, int32_t **yp,
                                          double **proba)
{
    cairn_predictions p = CAIRN_PREDICTIONS_INIT;
    size_t n2, np_;
    p.task = CAIRN_TASK_CLASSIFICATION;
    p.n_classes = (size_t)json_integer_value(json_object_get(cs, "n_classes"));
    *yt = ints(json_object_get(cs, "y_true"), &p.n);
    *yp = ints(json_object_get(cs, "y_pred"), &n2);
    *proba = doubles(json_object_get(cs, "proba"), &np_);
    p.y_true = *yt;
    p.y_pred = *yp;
    p.proba = *proba;
    return p;
}

TEST(scorer_matches_sklearn_for_every_metric_name)
{
    cairn_ctx *ctx = cairn_ctx_new();
    const json_t *cases = json_object_get(reference(), "classification");
    /* the metrics reference.json holds; tests/e2e/test_metrics_sklearn.py checks the rest */
    const char *names[] = {"accuracy",
                           "balanced_accuracy",
                           "precision_macro",
                           "recall_macro",
                           "f1_macro",
                           "f1_weighted",
                           "f1_micro",
                           "mcc",
                           "cohen_kappa",
                           "roc_auc",
                           "roc_auc_ovr",
                           "roc_auc_ovo",
                           "average_precision",
                           "log_loss",
                           "brier"};
    size_t n_names = sizeof names / sizeof names[0];
    size_t n_table = 0;
    while (cairn_score_metric_name(CAIRN_TASK_CLASSIFICATION, n_table))
        n_table++;
    CHECK(n_table > n_names);
    for (size_t i = 0; i < n_names; i++)
        CHECK(cairn_score_check_metrics(ctx, CAIRN_TASK_CLASSIFICATION, &names[i], 1) == CAIRN_OK);
    for (size_t c = 0; c < json_array_size(cases); c++) {
        const json_t *cs = json_array_get(cases, c);
        const char *name = json_string_value(json_object_get(cs, "name"));
        int32_t *yt, *yp;
        double *proba;
        cairn_predictions p = case_predictions(cs, &yt, &yp, &proba);
        cairn_score_opts o = CAIRN_SCORE_OPTS_INIT;
        o.metrics = names;
        o.n_metrics = n_names;
        cairn_score_result *r = NULL;
        CHECK(cairn_score(ctx, &p, &o, &r) == CAIRN_OK);
        CHECK(r->n_metrics == n_names);
        for (size_t i = 0; i < r->n_metrics; i++) {
            const cairn_scored_metric *m = &r->metrics[i];
            CHECK_STR(m->name, names[i]);
            CHECK(isnan(m->ci_low) && isnan(m->ci_high));
            if (strcmp(m->name, "average_precision") == 0 && p.n_classes != 2) {
                CHECK(isnan(m->value) && m->error && strstr(m->error, "two classes"));
                continue;
            }
            CHECK_REF(m->value, exp_of(cs, ref_key(m->name, p.n_classes)), m->name, name);
            CHECK((m->error != NULL) == isnan(m->value));
        }
        const json_t *cm = exp_of(cs, "confusion"), *sup = exp_of(cs, "support");
        for (size_t i = 0; i < p.n_classes * p.n_classes; i++)
            CHECK(r->confusion[i] == json_integer_value(json_array_get(cm, i)));
        for (size_t j = 0; j < p.n_classes; j++) {
            CHECK(r->support[j] == json_integer_value(json_array_get(sup, j)));
            CHECK_REF(r->precision[j], json_array_get(exp_of(cs, "precision"), j), "precision",
                      name);
        }
        double v;
        CHECK(cairn_score_metric(ctx, &p, "f1_micro", &v) == CAIRN_OK);
        CHECK_REF(v, exp_of(cs, "f1_micro"), "f1_micro", name);
        cairn_score_result_free(r);
        free(yt);
        free(yp);
        free(proba);
    }
    cairn_close(ctx);
}

TEST(scorer_regression_and_defaults)
{
    cairn_ctx *ctx = cairn_ctx_new();
    const json_t *cases = json_object_get(reference(), "regression");
    for (size_t c = 0; c < json_array_size(cases); c++) {
        const json_t *cs = json_array_get(cases, c);
        const char *name = json_string_value(json_object_get(cs, "name"));
        size_t n, n2;
        double *yt = doubles(json_object_get(cs, "y_true"), &n);
        double *yp = doubles(json_object_get(cs, "y_pred"), &n2);
        cairn_predictions p = CAIRN_PREDICTIONS_INIT;
        p.task = CAIRN_TASK_REGRESSION;
        p.n = n;
        p.target = yt;
        p.predicted = yp;
        cairn_score_result *r = NULL;
        static const char *const five[] = {"mae", "mse", "rmse", "r2", "mape"};
        cairn_score_opts o5 = CAIRN_SCORE_OPTS_INIT;
        o5.metrics = five;
        o5.n_metrics = 5;
        CHECK(cairn_score(ctx, &p, &o5, &r) == CAIRN_OK);
        CHECK(r->n_metrics == 5 && r->confusion == NULL && r->n_classes == 0);
        for (size_t i = 0; i < r->n_metrics; i++)
            CHECK_REF(r->metrics[i].value, exp_of(cs, r->metrics[i].name), r->metrics[i].name,
                      name);
        cairn_score_result_free(r);
        free(yt);
        free(yp);
    }
    const char *const *def = cairn_score_default_metrics(CAIRN_TASK_REGRESSION);
    CHECK_STR(def[0], "rmse");
    CHECK(cairn_score_check_metrics(ctx, CAIRN_TASK_CLASSIFICATION, def, 1) == CAIRN_EINVAL);
    CHECK(strstr(cairn_errmsg(ctx), "'rmse' is not a classification metric (it is a regression "
                                    "metric); known: accuracy"));
    const char *typo[] = {"acuracy"};
    CHECK(cairn_score_check_metrics(ctx, CAIRN_TASK_CLASSIFICATION, typo, 1) == CAIRN_EINVAL);
    CHECK(strstr(cairn_errmsg(ctx), "(did you mean 'accuracy'?)"));
    def = cairn_score_default_metrics(CAIRN_TASK_CLASSIFICATION);
    CHECK(cairn_score_check_metrics(ctx, CAIRN_TASK_CLASSIFICATION, def, 4) == CAIRN_OK);
    cairn_close(ctx);
}

TEST(scorer_full_list_intervals_and_errors)
{
    cairn_ctx *ctx = cairn_ctx_new();
    const json_t *cases = json_object_get(reference(), "classification");
    int32_t *yt, *yp;
    double *proba;
    cairn_predictions p = case_predictions(json_array_get(cases, 0), &yt, &yp, &proba);
    cairn_score_opts o = CAIRN_SCORE_OPTS_INIT;
    o.n_bootstrap = 200;
    o.seed = 5;
    o.headline_only_ci = true;
    cairn_score_result *r = NULL, *again = NULL;
    CHECK(cairn_score(ctx, &p, &o, &r) == CAIRN_OK);
    /* the full list: neither f1_micro nor roc_auc_ovr (repeats), no roc_auc_ovo (two classes) */
    static const char *const want[] = {"accuracy",
                                       "balanced_accuracy",
                                       "precision",
                                       "recall",
                                       "f1",
                                       "precision_macro",
                                       "precision_weighted",
                                       "recall_macro",
                                       "recall_weighted",
                                       "f1_macro",
                                       "f1_weighted",
                                       "jaccard",
                                       "jaccard_macro",
                                       "jaccard_micro",
                                       "jaccard_weighted",
                                       "mcc",
                                       "cohen_kappa",
                                       "kappa_linear",
                                       "kappa_quadratic",
                                       "positive_likelihood_ratio",
                                       "negative_likelihood_ratio",
                                       "roc_auc",
                                       "average_precision",
                                       "log_loss",
                                       "brier"};
    static const char *const headlines[] = {"accuracy", "balanced_accuracy", "f1_macro",
                                            "mcc",      "roc_auc",           "log_loss"};
    CHECK(r->n_metrics == 25);
    for (size_t i = 0; i < r->n_metrics && i < 25; i++) {
        CHECK_STR(r->metrics[i].name, want[i]);
        bool headline = false;
        for (size_t h = 0; h < 6; h++)
            headline |= strcmp(r->metrics[i].name, headlines[h]) == 0;
        CHECK(headline == !isnan(r->metrics[i].ci_low));
        if (headline)
            CHECK(r->metrics[i].ci_low <= r->metrics[i].value &&
                  r->metrics[i].value <= r->metrics[i].ci_high);
    }
    CHECK(r->has_proba && r->n_classes == 2 && r->confidence == 0.95);
    CHECK_STR(r->classes[1], "1");
    CHECK(cairn_score(ctx, &p, &o, &again) == CAIRN_OK);
    CHECK(again->metrics[0].ci_low == r->metrics[0].ci_low);
    cairn_score_result_free(again);
    cairn_score_result_free(r);
    /* without probabilities: the probability metrics are left out, or undefined when named */
    p.proba = NULL;
    CHECK(cairn_score(ctx, &p, NULL, &r) == CAIRN_OK);
    CHECK(r->n_metrics == 21 && !r->has_proba);
    cairn_score_result_free(r);
    static const char *const auc[] = {"roc_auc", "nope"};
    o.metrics = auc;
    o.n_metrics = 1;
    CHECK(cairn_score(ctx, &p, &o, &r) == CAIRN_OK);
    CHECK(isnan(r->metrics[0].value) && strstr(r->metrics[0].error, "probabilities"));
    cairn_score_result_free(r);
    o.n_metrics = 2;
    CHECK(cairn_score(ctx, &p, &o, &r) == CAIRN_EINVAL && r == NULL);
    CHECK(strstr(cairn_errmsg(ctx), "'nope' is not a classification metric"));
    p.y_pred = NULL;
    CHECK(cairn_score(ctx, &p, NULL, &r) == CAIRN_EINVAL);
    free(yt);
    free(yp);
    free(proba);
    cairn_close(ctx);
}

static cairn_table *table_of(cairn_ctx *ctx, const char *csv)
{
    const char *path = "/tmp/cairn-test-eval-predictions.csv";
    FILE *f = fopen(path, "w");
    fputs(csv, f);
    fclose(f);
    cairn_table *t = NULL;
    if (cairn_csv_read(ctx, path, NULL, &t) != CAIRN_OK)
        fprintf(stderr, "# %s\n", cairn_errmsg(ctx));
    remove(path);
    return t;
}

TEST(predictions_from_table_infer_task_and_classes)
{
    cairn_ctx *ctx = cairn_ctx_new();
    cairn_table *t = table_of(ctx, "y_true,y_pred,proba_10,proba_2\n10,2,0.7,0.3\n2,2,0.1,0.9\n");
    cairn_predictions *p = NULL;
    CHECK(cairn_predictions_from_table(ctx, t, CAIRN_TASK_AUTO, &p) == CAIRN_OK);
    CHECK(p->task == CAIRN_TASK_CLASSIFICATION && p->n == 2 && p->n_classes == 2);
    CHECK_STR(p->classes[0], "2"); /* numeric order: 2 < 10 */
    CHECK(p->y_true[0] == 1 && p->y_pred[0] == 0 && p->proba[0] == 0.3 && p->proba[1] == 0.7);
    cairn_predictions_free(p);
    cairn_table_free(t);
    t = table_of(ctx, "y_true,y_pred\n1.5,2\n3,2.25\n");
    CHECK(cairn_predictions_from_table(ctx, t, CAIRN_TASK_AUTO, &p) == CAIRN_OK);
    CHECK(p->task == CAIRN_TASK_REGRESSION && p->target[0] == 1.5 && p->predicted[1] == 2.25);
    cairn_predictions_free(p);
    CHECK(cairn_predictions_from_table(ctx, t, CAIRN_TASK_CLASSIFICATION, &p) == CAIRN_OK);
    CHECK(p->n_classes == 4);
    CHECK_STR(p->classes[3], "3");
    cairn_predictions_free(p);
    cairn_table_free(t);
    t = table_of(ctx, "y_true,y_pred,p_cat\ncat,dog,0.5\n");
    CHECK(cairn_predictions_from_table(ctx, t, CAIRN_TASK_AUTO, &p) == CAIRN_EINVAL && !p);
    CHECK(strstr(cairn_errmsg(ctx), "1 probability columns for 2 classes"));
    cairn_table_free(t);
    t = table_of(ctx, "truth,y_pred\n1,1\n");
    CHECK(cairn_predictions_from_table(ctx, t, CAIRN_TASK_AUTO, &p) == CAIRN_EINVAL);
    CHECK(strstr(cairn_errmsg(ctx), "y_true and y_pred"));
    cairn_table_free(t);
    cairn_close(ctx);
}

UNIT_MAIN(UNIT_CASE(classification_label_metrics_match_sklearn),
          UNIT_CASE(probability_metrics_match_sklearn), UNIT_CASE(regression_metrics_match_sklearn),
          UNIT_CASE(tests_match_scipy), UNIT_CASE(distributions_match_scipy),
          UNIT_CASE(bad_input_fails_with_a_message),
          UNIT_CASE(stratified_kfold_balances_every_class),
          UNIT_CASE(bootstrap_intervals_cover_and_repeat), UNIT_CASE(mcnemar_from_predictions),
          UNIT_CASE(scorer_matches_sklearn_for_every_metric_name),
          UNIT_CASE(scorer_regression_and_defaults),
          UNIT_CASE(scorer_full_list_intervals_and_errors),
          UNIT_CASE(predictions_from_table_infer_task_and_classes))
