/* SPDX-License-Identifier: MIT */
/* test_compare.c - the paired tests on tables made by any tool (cairn_compare_predictions,
 * cairn_compare_scores): McNemar, Wilcoxon and the paired t-test with values worked by hand
 * or from SciPy 1.10, and the errors that name the column and row. */
#include "cairn/train.h"
#include "unit.h"

static cairn_table *parse(cairn_ctx *ctx, const char *text)
{
    cairn_table *t = NULL;
    CHECK(cairn_csv_parse(ctx, text, strlen(text), NULL, &t) == CAIRN_OK);
    return t;
}

TEST(mcnemar_on_paired_labels)
{
    cairn_ctx *ctx = cairn_ctx_new();
    /* 5 rows A right and B wrong, 1 row A wrong and B right, 4 rows both right */
    cairn_table *t = parse(ctx, "truth,m1,m2\n"
                                "cat,cat,dog\ncat,cat,dog\ndog,dog,cat\ndog,dog,cat\neel,eel,cat\n"
                                "eel,cat,eel\n"
                                "cat,cat,cat\ndog,dog,dog\neel,eel,eel\ncat,cat,cat\n");
    static const char *const names[] = {"truth", "m1", "m2"};
    cairn_compare_opts o = CAIRN_COMPARE_OPTS_INIT;
    o.columns = names;
    o.n_columns = 3;
    cairn_compare_result *r = NULL;
    CHECK(cairn_compare_predictions(ctx, t, &o, &r) == CAIRN_OK);
    if (r) {
        CHECK_STR(r->task, "classification");
        CHECK_STR(r->test, "mcnemar-exact");
        CHECK(r->n == 10 && r->n01 == 5 && r->n10 == 1 && r->has_test);
        CHECK_NEAR(r->pvalue, 14.0 / 64.0, 1e-12); /* 2 * P(X <= 1; 6, 1/2) */
        CHECK_NEAR(r->a, 0.9, 1e-12);
        CHECK_NEAR(r->b, 0.5, 1e-12);
        CHECK(r->diff_low <= r->diff && r->diff <= r->diff_high);
        CHECK(strstr(r->task_reason, "'truth' holds text values") != NULL);
    }
    cairn_compare_result_free(r);
    cairn_table_free(t);
    cairn_close(ctx);
}

TEST(wilcoxon_on_paired_regression)
{
    cairn_ctx *ctx = cairn_ctx_new();
    /* absolute errors A 0.5 1 2 0.25 3, B 1 0.75 2.5 1 3.5: scipy W = 1, p = 0.125 */
    cairn_table *t = parse(ctx, "y_true,pred_a,pred_b\n10,10.5,9\n20,21,20.75\n30,28,32.5\n"
                                "40,40.25,41\n50,53,46.5\n");
    cairn_compare_result *r = NULL;
    CHECK(cairn_compare_predictions(ctx, t, NULL, &r) == CAIRN_OK);
    if (r) {
        CHECK_STR(r->task, "regression");
        CHECK_STR(r->test, "wilcoxon");
        CHECK_NEAR(r->statistic, 1.0, 1e-12);
        CHECK_NEAR(r->pvalue, 0.125, 1e-12);
        CHECK_NEAR(r->a, (0.25 + 1 + 4 + 0.0625 + 9) / 5, 1e-12);
    }
    cairn_compare_result_free(r);
    cairn_table_free(t);
    cairn_close(ctx);
}

TEST(paired_t_on_scores)
{
    cairn_ctx *ctx = cairn_ctx_new();
    cairn_table *t = parse(ctx, "fold,a,b\n0,1,0\n1,2,2\n2,3,1\n3,4,1\n");
    cairn_compare_result *r = NULL;
    CHECK(cairn_compare_scores(ctx, t, NULL, &r) == CAIRN_OK);
    if (r) {
        CHECK_STR(r->test, "paired-t");
        CHECK_STR(r->test2, "wilcoxon");
        CHECK_NEAR(r->statistic, 2.32379000772445, 1e-9); /* scipy.stats.ttest_rel */
        CHECK_NEAR(r->pvalue, 0.10272807885839903, 1e-9);
        CHECK_NEAR(r->diff, 1.5, 1e-12);
        CHECK_NEAR(r->diff_high - r->diff, 2.054260256760879, 1e-9); /* t.ppf(.975, 3) se */
        CHECK(!r->significant);
    }
    cairn_compare_result_free(r);
    cairn_table_free(t);
    cairn_close(ctx);
}

TEST(bad_tables_name_the_column_and_row)
{
    cairn_ctx *ctx = cairn_ctx_new();
    cairn_compare_result *r = NULL;
    cairn_table *t = parse(ctx, "y_true,a,b\n1,1,0\n0,0,0\n");
    CHECK(cairn_compare_predictions(ctx, t, NULL, &r) == CAIRN_ENOTFOUND && !r);
    CHECK(strstr(cairn_errmsg(ctx), "no column 'pred_a' (the columns are 'y_true', 'a', 'b')"));
    cairn_table_free(t);
    t = parse(ctx, "a,b\n0.5,0.4\n");
    CHECK(cairn_compare_scores(ctx, t, NULL, &r) == CAIRN_EINVAL && !r);
    CHECK_STR(cairn_errmsg(ctx), "has 1 row; a paired test needs at least 2");
    cairn_table_free(t);
    t = parse(ctx, "a,b\n0.5,0.4\n0.3,nan\n");
    CHECK(cairn_compare_scores(ctx, t, NULL, &r) == CAIRN_EINVAL && !r);
    CHECK(strstr(cairn_errmsg(ctx), "column 'b' row 2 is empty or NaN"));
    cairn_table_free(t);
    t = parse(ctx, "a,b\n0.5,0.4\n0.3,x\n");
    CHECK(cairn_compare_scores(ctx, t, NULL, &r) == CAIRN_EINVAL && !r);
    CHECK(strstr(cairn_errmsg(ctx), "column 'b' row 2: 'x' is not a number"));
    cairn_table_free(t);
    static const char *const two[] = {"a", "b"};
    cairn_compare_opts o = CAIRN_COMPARE_OPTS_INIT;
    o.columns = two;
    o.n_columns = 2;
    t = parse(ctx, "a,b\n1,2\n3,4\n");
    CHECK(cairn_compare_predictions(ctx, t, &o, &r) == CAIRN_EINVAL && !r);
    cairn_table_free(t);
    cairn_close(ctx);
}

UNIT_MAIN(UNIT_CASE(mcnemar_on_paired_labels), UNIT_CASE(wilcoxon_on_paired_regression),
          UNIT_CASE(paired_t_on_scores), UNIT_CASE(bad_tables_name_the_column_and_row))
