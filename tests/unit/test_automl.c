/* SPDX-License-Identifier: MIT */
/* test_automl.c - automl's search space (it parses; each param is active for its learner only
 * and its range lies inside that learner's param spec) and ablate's statistics (effects,
 * t-intervals, Holm's step-down adjustment, verdicts by the metric's direction) and plot. */
#include <math.h>
#include "unit.h"
#include "cairn/eval.h"
#include "cairn/hpo.h"
#include "cairn/learn.h"
#include "automl/automl_internal.h"

static void check_space(const char *const *learners, size_t n)
{
    cairn_ctx *ctx = cairn_ctx_new();
    cn_buf text = CN_BUF_INIT;
    cn_automl_space_text(learners, n, "cv_accuracy_mean", true, &text);
    cairn_space *sp = NULL;
    cairn_status rc = cairn_space_parse(ctx, "automl", CAIRN_SPACE_YAML, text.data, text.len, &sp);
    if (rc != CAIRN_OK)
        fprintf(stderr, "# %s\n%s", cairn_errmsg(ctx), text.data);
    CHECK(rc == CAIRN_OK);
    if (!sp)
        goto done;
    bool maximize = false;
    CHECK_STR(cairn_space_objective(sp, &maximize), "cv_accuracy_mean");
    CHECK(maximize);
    size_t np = cairn_space_n_params(sp);
    int64_t li = cairn_space_find(sp, "learner");
    CHECK(li == 0);
    double *x = calloc(np, sizeof *x);
    for (size_t l = 0; l < n; l++) {
        x[li] = (double)l;
        size_t prefix = strlen(learners[l]);
        for (size_t i = 1; i < np; i++) {
            cairn_param_info info;
            cairn_space_param(sp, i, &info);
            bool mine = strncmp(info.name, learners[l], prefix) == 0 && info.name[prefix] == '.';
            CHECK(cairn_space_is_active(sp, i, x) == mine);
            if (!mine)
                continue;
            /* the range is one the learner accepts */
            const cairn_param_spec *specs;
            size_t ns;
            CHECK(cairn_learner_params(learners[l], &specs, &ns) == CAIRN_OK);
            const cairn_param_spec *spec = NULL;
            for (size_t k = 0; k < ns; k++)
                if (strcmp(specs[k].name, info.name + prefix + 1) == 0)
                    spec = &specs[k];
            if (!spec) {
                unit_failed = 1;
                fprintf(stderr, "# %s: learner has no such param\n", info.name);
                continue;
            }
            if (info.type == CAIRN_SPACE_PARAM_FLOAT || info.type == CAIRN_SPACE_PARAM_INT) {
                CHECK(info.low >= spec->low && info.high <= spec->high);
                CHECK(!spec->low_open || info.low > spec->low);
            }
            const char *keys[1] = {spec->name};
            for (size_t c = 0; c < info.n_choices; c++) { /* categorical and const values */
                const char *values[1] = {info.choices[c]};
                if (info.type == CAIRN_SPACE_PARAM_CATEGORICAL)
                    CHECK(cairn_learner_check_params(ctx, learners[l], keys, values, 1) ==
                          CAIRN_OK);
            }
        }
    }
    free(x);
done:
    cairn_space_free(sp);
    cn_buf_release(&text);
    cairn_close(ctx);
}

TEST(space_fits_each_learner)
{
    const char *const cls[] = {"logistic", "mlp", "xgboost"};
    const char *const reg[] = {"linear", "ridge", "mlp", "xgboost"};
    const char *const one[] = {"xgboost"};
    check_space(cls, 3);
    check_space(reg, 4);
    check_space(one, 1);
}

TEST(metric_directions)
{
    CHECK(cn_automl_metric_maximize("accuracy"));
    CHECK(cn_automl_metric_maximize("r2"));
    CHECK(cn_automl_metric_maximize("roc_auc"));
    CHECK(!cn_automl_metric_maximize("log_loss"));
    CHECK(!cn_automl_metric_maximize("rmse"));
    CHECK(!cn_automl_metric_maximize("brier"));
}

/* Four factors over 6 seeds: a clear loss, a small gain, noise, and no change at all. */
TEST(ablate_statistics_and_holm)
{
    static double base[6] = {0.80, 0.82, 0.79, 0.81, 0.83, 0.80};
    static double arm_scores[4][6] = {
        {0.60, 0.63, 0.58, 0.61, 0.62, 0.59},
        {0.82, 0.83, 0.81, 0.83, 0.85, 0.81},
        {0.81, 0.80, 0.80, 0.82, 0.82, 0.81},
        {0.80, 0.82, 0.79, 0.81, 0.83, 0.80},
    };
    cairn_ablate_arm arms[5];
    memset(arms, 0, sizeof arms);
    arms[0].n = 6;
    arms[0].scores = base;
    for (int a = 1; a < 5; a++) {
        arms[a].n = 6;
        arms[a].scores = arm_scores[a - 1];
        arms[a].key = "k";
        arms[a].value = "v";
    }
    cairn_ablate_result r = {.name = "t",
                             .metric = "accuracy",
                             .maximize = true,
                             .unit = "seed",
                             .alpha = 0.05,
                             .n_arms = 5,
                             .arms = arms};
    cairn_ctx *ctx = cairn_ctx_new();
    CHECK(cn_ablate_analyse(ctx, &r) == CAIRN_OK);
    double p[4];
    for (int a = 1; a < 5; a++) {
        cairn_test_result t;
        double d[6], mean = 0, sq = 0;
        if (a < 4) {
            CHECK(cairn_stats_ttest_paired(ctx, arm_scores[a - 1], base, 6, &t) == CAIRN_OK);
            p[a - 1] = t.pvalue;
            CHECK_NEAR(arms[a].p_t, t.pvalue, 1e-15);
        }
        for (int i = 0; i < 6; i++)
            mean += (d[i] = arm_scores[a - 1][i] - base[i]) / 6;
        for (int i = 0; i < 6; i++)
            sq += (d[i] - mean) * (d[i] - mean);
        double half = cairn_stats_t_quantile(0.975, 5) * sqrt(sq / 5 / 6);
        CHECK_NEAR(arms[a].effect, mean, 1e-12);
        CHECK_NEAR(arms[a].ci_low, mean - half, 1e-12);
        CHECK_NEAR(arms[a].ci_high, mean + half, 1e-12);
    }
    /* Holm: p sorted ascending is p[0] < p[1] < p[2] here; NaN (all zero) counts as 1 */
    CHECK(p[0] < p[1] && p[1] < p[2]);
    CHECK_NEAR(arms[1].p_holm, fmin(1, 4 * p[0]), 1e-15);
    CHECK_NEAR(arms[2].p_holm, fmax(arms[1].p_holm, fmin(1, 3 * p[1])), 1e-15);
    CHECK_NEAR(arms[3].p_holm, fmax(arms[2].p_holm, fmin(1, 2 * p[2])), 1e-15);
    CHECK(isnan(arms[4].p_t) && isnan(arms[4].p_holm) && isnan(arms[4].p_wilcoxon));
    CHECK_STR(arms[1].verdict, "worse");
    CHECK_STR(arms[2].verdict, arms[2].p_holm < 0.05 ? "better" : "no evidence");
    CHECK_STR(arms[4].verdict, "no evidence");
    CHECK_NEAR(arms[0].mean, 0.8083333333333333, 1e-12);
    /* the same scores as a loss: the loss going down is better */
    r.maximize = false;
    CHECK(cn_ablate_analyse(ctx, &r) == CAIRN_OK);
    CHECK_STR(arms[1].verdict, "better");
    char *svg = NULL;
    CHECK(cairn_ablate_plot_svg(ctx, &r, &svg) == CAIRN_OK);
    CHECK(svg && strstr(svg, "<svg") && strstr(svg, "</svg>"));
    size_t circles = 0;
    for (const char *s = svg; (s = strstr(s, "<circle")); s++)
        circles++;
    CHECK(circles == 4);
    cairn_free(svg);
    cairn_close(ctx);
}

UNIT_MAIN(UNIT_CASE(space_fits_each_learner), UNIT_CASE(metric_directions),
          UNIT_CASE(ablate_statistics_and_holm))
