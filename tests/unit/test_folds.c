/* SPDX-License-Identifier: MIT */
/* test_folds.c - cross-validation folds: the fold-file parser's results and messages, plain,
 * group and stratified-group k-fold invariants (sizes, groups whole, every fold used), and
 * the new metric functions' edge cases that the e2e sklearn comparison does not reach. */
#include <math.h>
#include <stdint.h>
#include "cairn/data.h"
#include "cairn/eval.h"
#include "unit.h"
#include "base/banned.h"

static cairn_ctx *ctx;

static cairn_status parse(const char *text, size_t n_rows, size_t **rows, int32_t **folds,
                          size_t *n, size_t *k)
{
    return cairn_folds_parse(ctx, text, strlen(text), n_rows, rows, folds, n, k);
}

TEST(fold_file_parses_and_sorts)
{
    size_t *rows = NULL, n = 0, k = 0;
    int32_t *folds = NULL;
    CHECK(parse("fold,row\r\n1,7\r\n0,3\r\n-1,5\r\n", 10, &rows, &folds, &n, &k) == CAIRN_OK);
    CHECK(n == 3 && k == 2);
    CHECK(rows[0] == 3 && rows[1] == 5 && rows[2] == 7);
    CHECK(folds[0] == 0 && folds[1] == -1 && folds[2] == 1);
    cairn_free(rows);
    cairn_free(folds);
}

TEST(fold_file_errors_name_the_line)
{
    static const struct {
        const char *text, *message;
    } cases[] = {
        {"", "the fold file is empty; it needs a row,fold header"},
        {"row\n1\n",
         "line 1: the header lacks the 'fold' column; a fold file's header is row,fold"},
        {"row,fold,repeat\n", "line 1: column 'repeat' is not row or fold; a fold file's header is "
                              "row,fold"},
        {"row,fold\n", "the fold file has a header but no rows"},
        {"row,fold\n0,0\n1,x\n", "line 3: fold 'x' is not an integer in -1..999 (-1: the row is "
                                 "only ever trained on)"},
        {"row,fold\n0,0\n-4,1\n", "line 3: row '-4' is not a row index (a non-negative integer)"},
        {"row,fold\n0,0\n1,1\n0,1\n", "line 4: row 0 is already in the file (line 2); a row has "
                                      "one fold"},
        {"row,fold\n0,0\n10,1\n", "line 3: row 10 is out of range: the data has 10 rows (rows are "
                                  "0-based)"},
        {"row,fold\n0,0\n1,2\n", "fold 1 has no rows; folds are numbered 0..2 without gaps (-1: "
                                 "rows only ever trained on)"},
        {"row,fold\n0,0\n1,0\n", "the fold file has one fold (0); cross-validation needs at least "
                                 "folds 0 and 1"},
        {"row,fold\n0,0\n\n1,1\n", "line 3: empty line; a fold file has one row,fold pair a line"},
        {"row,fold\n0,0,1\n", "line 2: more than the 2 cells of the header"},
        {"row,fold\n0\n", "line 2: 1 cells, the header has 2"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t *rows = NULL, n = 0, k = 0;
        int32_t *folds = NULL;
        CHECK(parse(cases[i].text, 10, &rows, &folds, &n, &k) == CAIRN_EINVAL);
        CHECK_STR(cairn_errmsg(ctx), cases[i].message);
        CHECK(rows == NULL && folds == NULL && n == 0);
    }
}

TEST(kfold_blocks_as_sklearn)
{
    int32_t f[10];
    CHECK(cairn_kfold(ctx, 10, 3, false, 0, f) == CAIRN_OK);
    static const int32_t want[10] = {0, 0, 0, 0, 1, 1, 1, 2, 2, 2}; /* KFold(3) on 10 rows */
    for (int i = 0; i < 10; i++)
        CHECK(f[i] == want[i]);
    CHECK(cairn_kfold(ctx, 10, 3, true, 4, f) == CAIRN_OK);
    size_t count[3] = {0};
    for (int i = 0; i < 10; i++)
        count[f[i]]++;
    CHECK(count[0] == 4 && count[1] == 3 && count[2] == 3);
    CHECK(cairn_kfold(ctx, 2, 3, false, 0, f) == CAIRN_EINVAL);
}

TEST(group_folds_keep_groups_whole)
{
    enum { N = 60, G = 12 };
    int32_t group[N], y[N], f[N], g2[N];
    for (int i = 0; i < N; i++) {
        group[i] = (i * 5) % G;
        y[i] = i % 3;
    }
    CHECK(cairn_group_kfold(ctx, group, N, G, 4, f) == CAIRN_OK);
    CHECK(cairn_stratified_group_kfold(ctx, y, 3, group, N, G, 4, true, 9, g2) == CAIRN_OK);
    int32_t seen[G], seen2[G];
    for (int j = 0; j < G; j++)
        seen[j] = seen2[j] = -1;
    size_t used[4] = {0};
    for (int i = 0; i < N; i++) {
        CHECK(seen[group[i]] < 0 || seen[group[i]] == f[i]);
        CHECK(seen2[group[i]] < 0 || seen2[group[i]] == g2[i]);
        seen[group[i]] = f[i];
        seen2[group[i]] = g2[i];
        used[f[i]]++;
    }
    for (int j = 0; j < 4; j++)
        CHECK(used[j] == 15); /* 12 groups of 5 rows into 4 folds: 3 groups each */
    CHECK(cairn_group_kfold(ctx, group, N, G, 13, f) == CAIRN_EINVAL);
    CHECK(strstr(cairn_errmsg(ctx), "13 folds need at least as many groups, and there are 12"));
}

TEST(metric_edge_cases)
{
    const double yt[] = {1, 2, 3}, yp[] = {1, 2, -1};
    double v;
    CHECK(cairn_eval_msle(ctx, yt, yp, 3, &v) == CAIRN_EINVAL);
    CHECK(strstr(cairn_errmsg(ctx), "row 3 has y_pred -1"));
    CHECK(cairn_eval_tweedie_deviance(ctx, yt, yt, 3, 0.5, &v) == CAIRN_EINVAL);
    CHECK(cairn_eval_tweedie_deviance(ctx, yt, yt, 3, 1.5, &v) == CAIRN_OK && v == 0);
    CHECK(cairn_eval_tweedie_deviance(ctx, yt, yp, 3, 0, &v) == CAIRN_OK);
    CHECK_NEAR(v, 16.0 / 3, 1e-12);
    CHECK(cairn_eval_median_absolute_error(ctx, yt, yp, 3, &v) == CAIRN_OK && v == 0);
    CHECK(cairn_eval_max_error(ctx, yt, yp, 3, &v) == CAIRN_OK && v == 4);
    const int32_t t[] = {0, 0, 1, 1}, p[] = {0, 0, 0, 1};
    double pos, neg;
    CHECK(cairn_eval_likelihood_ratios(ctx, t, p, 4, &pos, &neg) == CAIRN_OK);
    CHECK(isnan(pos)); /* no false positive: LR+ divides by zero */
    CHECK_NEAR(neg, 0.5, 1e-15);
    const double proba[] = {0.5, 0.5, 0.0, 0.2, 0.3, 0.5};
    const int32_t t2[] = {0, 1};
    CHECK(cairn_eval_top_k_accuracy(ctx, t2, proba, 2, 3, 1, &v) == CAIRN_OK);
    CHECK(v == 0.0); /* a tie ranks the higher class first: row 0's top-1 is class 1 */
    CHECK(cairn_eval_top_k_accuracy(ctx, t2, proba, 2, 3, 2, &v) == CAIRN_OK && v == 1.0);
}

static void setup(void)
{
    ctx = cairn_ctx_new();
}

static void teardown(void)
{
    cairn_close(ctx);
}

UNIT_MAIN(UNIT_CASE(setup), UNIT_CASE(fold_file_parses_and_sorts),
          UNIT_CASE(fold_file_errors_name_the_line), UNIT_CASE(kfold_blocks_as_sklearn),
          UNIT_CASE(group_folds_keep_groups_whole), UNIT_CASE(metric_edge_cases),
          UNIT_CASE(teardown))
