/* SPDX-License-Identifier: MIT */
/* test_plot_averages.c - the micro and macro averaged one-vs-rest curves the multiclass ROC and
 * precision-recall pictures draw (cairn_eval_roc_curve_average, cairn_eval_pr_curve_average),
 * against values worked out by hand on 4 rows of 3 classes (and checked once with
 * scikit-learn 1.2: roc_auc_score 0.78125 micro and 29/36 macro-ovr, average_precision_score
 * 0.7875 micro and 7/9 macro, roc_curve of the raveled pairs as below).
 *
 *   row  y  p0    p1    p2
 *   0    0  0.6   0.3   0.1
 *   1    1  0.2   0.5   0.3
 *   2    2  0.1   0.2   0.7
 *   3    0  0.15  0.55  0.3
 *
 * Micro: 4 positive pairs (0.7, 0.6, 0.5, 0.15) and 8 negative ones (0.55, 0.3 x3, 0.2 x2,
 * 0.1 x2). AUC = (8 + 8 + 7 + 2) / 32; AP = 0.25 (1 + 1 + 0.75 + 0.4). ROC points in counts
 * (fp, tp), thresholds 0.7 .. 0.1: (0,1) (0,2) (1,2) (1,3) (4,3) (6,3) (6,4) (8,4), every one a
 * bend, after (0, 0).
 * Macro ROC: class 0 (0,0) (0,.5) (.5,.5) (.5,1) (1,1), AUC 3/4; class 1 (0,0) (1/3,0) (1/3,1)
 * (1,1), AUC 2/3; class 2 (0,0) (0,1) (2/3,1) (1,1), AUC 1. On the union of false positive
 * rates {0, 1/3, 1/2, 2/3, 1} the interpolated true positive rates (at a repeated x, the last
 * point's) average to .5, 5/6, 1, 1, 1.
 * Macro PR: per-class APs 5/6, 1/2, 1 (mean 7/9); the step precisions at recalls {1, .5, 0}
 * average to 13/18, 5/6, 1, and the curve ends at (0, 1). */
#include <math.h>
#include "cairn/eval.h"
#include "unit.h"
#include "base/banned.h"

static cairn_ctx *ctx;
static const int32_t y[4] = {0, 1, 2, 0};
static const double proba[12] = {0.6, 0.3, 0.1, 0.2, 0.5, 0.3, 0.1, 0.2, 0.7, 0.15, 0.55, 0.3};

static void check_curve(const cairn_curve *c, const double *x, const double *yv, size_t n)
{
    CHECK(c->n == n);
    for (size_t i = 0; i < n && i < c->n; i++) {
        CHECK_NEAR(c->x[i], x[i], 1e-12);
        CHECK_NEAR(c->y[i], yv[i], 1e-12);
    }
}

TEST(setup)
{
    ctx = cairn_ctx_new();
    CHECK(ctx != NULL);
}

TEST(roc_micro)
{
    cairn_curve c = CAIRN_CURVE_INIT;
    double auc = NAN;
    CHECK(cairn_eval_roc_curve_average(ctx, y, proba, 4, 3, CAIRN_AVERAGE_MICRO, &c, &auc) ==
          CAIRN_OK);
    CHECK_NEAR(auc, 25.0 / 32, 1e-12);
    static const double x[] = {0, 0, 0, 0.125, 0.125, 0.5, 0.75, 0.75, 1};
    static const double tpr[] = {0, 0.25, 0.5, 0.5, 0.75, 0.75, 0.75, 1, 1};
    check_curve(&c, x, tpr, 9);
    cairn_curve_release(&c);
}

TEST(roc_macro)
{
    cairn_curve c = CAIRN_CURVE_INIT;
    double auc = NAN;
    CHECK(cairn_eval_roc_curve_average(ctx, y, proba, 4, 3, CAIRN_AVERAGE_MACRO, &c, &auc) ==
          CAIRN_OK);
    CHECK_NEAR(auc, 29.0 / 36, 1e-12);
    static const double x[] = {0, 1.0 / 3, 0.5, 2.0 / 3, 1};
    static const double tpr[] = {0.5, 5.0 / 6, 1, 1, 1};
    check_curve(&c, x, tpr, 5);
    cairn_curve_release(&c);
    /* the value is optional */
    CHECK(cairn_eval_roc_curve_average(ctx, y, proba, 4, 3, CAIRN_AVERAGE_MACRO, &c, NULL) ==
          CAIRN_OK);
    CHECK(c.n == 5);
    cairn_curve_release(&c);
}

TEST(pr_micro)
{
    cairn_curve c = CAIRN_CURVE_INIT;
    double ap = NAN;
    CHECK(cairn_eval_pr_curve_average(ctx, y, proba, 4, 3, CAIRN_AVERAGE_MICRO, &c, &ap) ==
          CAIRN_OK);
    CHECK_NEAR(ap, 0.7875, 1e-12);
    /* thresholds from the lowest (0.1) up, then (recall 0, precision 1) */
    static const double recall[] = {1, 1, 0.75, 0.75, 0.75, 0.5, 0.5, 0.25, 0};
    static const double precision[] = {4.0 / 12, 0.4, 3.0 / 9, 3.0 / 7, 0.75, 2.0 / 3, 1, 1, 1};
    check_curve(&c, recall, precision, 9);
    cairn_curve_release(&c);
}

TEST(pr_macro)
{
    cairn_curve c = CAIRN_CURVE_INIT;
    double ap = NAN;
    CHECK(cairn_eval_pr_curve_average(ctx, y, proba, 4, 3, CAIRN_AVERAGE_MACRO, &c, &ap) ==
          CAIRN_OK);
    CHECK_NEAR(ap, 7.0 / 9, 1e-12);
    static const double recall[] = {1, 0.5, 0, 0};
    static const double precision[] = {13.0 / 18, 5.0 / 6, 1, 1};
    check_curve(&c, recall, precision, 4);
    cairn_curve_release(&c);
}

TEST(two_classes_micro_is_the_pooled_curve)
{
    /* with K = 2 the micro average pools both columns: p and 1 - p, so it is symmetric */
    static const int32_t y2[4] = {0, 1, 1, 0};
    static const double p2[8] = {0.8, 0.2, 0.3, 0.7, 0.6, 0.4, 0.4, 0.6};
    cairn_curve c = CAIRN_CURVE_INIT;
    double auc = NAN, binary = NAN;
    static const int32_t y1[4] = {0, 1, 1, 0};
    static const double s1[4] = {0.2, 0.7, 0.4, 0.6};
    CHECK(cairn_eval_roc_curve_average(ctx, y2, p2, 4, 2, CAIRN_AVERAGE_MICRO, &c, &auc) ==
          CAIRN_OK);
    CHECK(cairn_eval_roc_auc_binary(ctx, y1, s1, 4, &binary) == CAIRN_OK);
    CHECK_NEAR(binary, 0.75, 1e-12); /* 0.7 beats both, 0.4 beats 0.2 only */
    CHECK_NEAR(auc, 0.75, 1e-12);    /* each pair appears twice, mirrored */
    cairn_curve_release(&c);
}

TEST(refusals)
{
    cairn_curve c = CAIRN_CURVE_INIT;
    static const int32_t bad[4] = {0, 1, 3, 0};
    CHECK(cairn_eval_roc_curve_average(ctx, bad, proba, 4, 3, CAIRN_AVERAGE_MICRO, &c, NULL) ==
          CAIRN_EINVAL);
    CHECK(c.n == 0 && c.x == NULL);
    CHECK(cairn_eval_pr_curve_average(ctx, y, proba, 4, 1, CAIRN_AVERAGE_MICRO, &c, NULL) ==
          CAIRN_EINVAL);
    CHECK(strstr(cairn_errmsg(ctx), "2 classes or more") != NULL ||
          strstr(cairn_errmsg(ctx), "y_true") != NULL);
    double nan_p[12];
    memcpy(nan_p, proba, sizeof nan_p);
    nan_p[4] = NAN;
    CHECK(cairn_eval_roc_curve_average(ctx, y, nan_p, 4, 3, CAIRN_AVERAGE_MACRO, &c, NULL) ==
          CAIRN_EINVAL);
    /* macro ROC needs every class in y_true (as roc_auc_score's ovr) */
    static const int32_t no2[4] = {0, 1, 1, 0};
    CHECK(cairn_eval_roc_curve_average(ctx, no2, proba, 4, 3, CAIRN_AVERAGE_MACRO, &c, NULL) ==
          CAIRN_EINVAL);
    CHECK(strstr(cairn_errmsg(ctx), "class 2") != NULL);
    CHECK(cairn_eval_roc_curve_average(ctx, y, proba, 4, 3, (cairn_average)42, &c, NULL) ==
          CAIRN_EINVAL);
}

TEST(teardown)
{
    cairn_close(ctx);
}

UNIT_MAIN(UNIT_CASE(setup), UNIT_CASE(roc_micro), UNIT_CASE(roc_macro), UNIT_CASE(pr_micro),
          UNIT_CASE(pr_macro), UNIT_CASE(two_classes_micro_is_the_pooled_curve),
          UNIT_CASE(refusals), UNIT_CASE(teardown))
