/* SPDX-License-Identifier: MIT */
/* test_explain.c - cairn_explain on runs of cairn train: validation rows by default, the
 * importances ranked with intervals around their means, TreeSHAP only for xgboost, slices of
 * the categorical feature, the same result under the same seed, and the refusals (test rows,
 * training rows, repeats, unknown slice feature, a run without a model). The numbers are
 * checked against scikit-learn and XGBoost in tests/e2e/test_explain.py. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cairn/explain.h"
#include "cairn/train.h"
#include "base/buf.h"
#include "base/fs.h"
#include "base/str.h"
#include "base/xmalloc.h"
#include "store_fixture.h"
#include "unit.h"
#include "base/banned.h"

static cairn_ctx *ctx;
static char dir[300];

static void write_file(const char *name, const char *text)
{
    char *path = cn_path_join(dir, name);
    CHECK(cn_fs_write_atomic(path, text, strlen(text)) == 0);
    free(path);
}

/* 120 rows: the label follows x1 (strongly) and x2 (weakly); colour is noise. Rows 0-79 train,
 * 80-99 validation, 100-119 test. */
static void write_data(void)
{
    cn_buf b = CN_BUF_INIT, tr = CN_BUF_INIT, va = CN_BUF_INIT, te = CN_BUF_INIT;
    cn_buf_puts(&b, "x1,x2,colour,y\n");
    for (int i = 0; i < 120; i++) {
        double x1 = (double)((i * 37) % 120) / 15.0 - 4.0, x2 = (double)((i * 53) % 120) / 30.0 - 2;
        int y = 2 * x1 + x2 + ((i % 9 == 0) ? 2.5 : 0.0) > 0;
        const char *colour = i % 3 == 0 ? "red" : i % 3 == 1 ? "green" : "blue";
        cn_buf_printf(&b, "%.17g,%.17g,%s,%s\n", x1, x2, colour, y ? "yes" : "no");
        cn_buf_printf(i >= 100 ? &te : i >= 80 ? &va : &tr, "%d\n", i);
    }
    write_file("data.csv", cn_buf_str(&b));
    write_file("train.idx", cn_buf_str(&tr));
    write_file("val.idx", cn_buf_str(&va));
    write_file("test.idx", cn_buf_str(&te));
    cn_buf_release(&b);
    cn_buf_release(&tr);
    cn_buf_release(&va);
    cn_buf_release(&te);
}

static char *train(const char *learner, const char *params)
{
    char *cfg = cn_asprintf("name: t\nexperiment: %s\nseed: 3\n"
                            "data: {path: %s/data.csv, label: y}\n"
                            "split: {train: %s/train.idx, val: %s/val.idx, test: %s/test.idx}\n"
                            "learner: {name: %s, params: {%s}}\nbootstrap: 0\n",
                            fixture_name("unit-explain"), dir, dir, dir, dir, learner, params);
    write_file("cfg.yaml", cfg);
    free(cfg);
    cairn_train_opts o = CAIRN_TRAIN_OPTS_INIT;
    char *path = cn_path_join(dir, "cfg.yaml");
    o.config = path;
    cairn_train_result *r = NULL;
    if (cairn_train(ctx, &o, &r) != CAIRN_OK)
        fprintf(stderr, "# train: %s\n", cairn_errmsg(ctx));
    free(path);
    char *id = r ? cn_xstrdup(r->run_id) : NULL;
    cairn_train_result_free(r);
    return id;
}

static char *lr_run, *xgb_run;

TEST(setup)
{
    ctx = fixture_open();
    snprintf(dir, sizeof dir, "%s/work", fixture_dir);
    CHECK(cn_fs_mkdirs(dir, 0755) == 0);
    write_data();
    lr_run = train("logistic", "C: 1.0");
    xgb_run = train("xgboost", "max_depth: 2, num_round: 10");
    CHECK(lr_run && xgb_run);
}

TEST(logistic_on_validation_rows)
{
    cairn_explain_opts o = CAIRN_EXPLAIN_OPTS_INIT;
    o.n_repeats = 6;
    o.top = 2;
    cairn_explain_result *r = NULL;
    CHECK(cairn_explain(ctx, lr_run, &o, &r) == CAIRN_OK);
    if (!r)
        return;
    CHECK_STR(r->rows, "validation");
    CHECK(r->n_rows == 20);
    CHECK_STR(r->metric, "accuracy");
    CHECK(r->maximize);
    CHECK(r->n_features == 3);
    CHECK_STR(r->importance[0].feature, "x1");
    for (size_t i = 0; i < r->n_features; i++) {
        const cairn_explain_importance *it = &r->importance[i];
        CHECK(it->ci_low <= it->mean && it->mean <= it->ci_high);
        CHECK(it->std >= 0);
        if (i > 0)
            CHECK(r->importance[i - 1].mean >= it->mean);
    }
    CHECK(!r->has_shap);
    CHECK(r->n_pd == 2);
    /* slices: colour (categorical) and the two top features' bins */
    size_t colour = 0, n_colour = 0;
    for (size_t i = 0; i < r->n_slices; i++)
        if (strcmp(r->slices[i].feature, "colour") == 0) {
            colour++;
            n_colour += r->slices[i].n;
            CHECK(r->slices[i].p_holm >= r->slices[i].pvalue || isnan(r->slices[i].pvalue));
        }
    CHECK(colour == 3);
    CHECK(n_colour == 20);
    CHECK(r->n_artifacts == 4); /* json, importance, pd, slices */
    CHECK(strstr(r->json, "\"permutations\"") != NULL);
    /* the same seed gives the same document */
    cairn_explain_result *again = NULL;
    o.no_log = true;
    CHECK(cairn_explain(ctx, lr_run, &o, &again) == CAIRN_OK);
    CHECK(again && strcmp(again->json, r->json) == 0);
    CHECK(again && again->n_artifacts == 0);
    cairn_explain_result_free(again);
    cairn_explain_result_free(r);
}

TEST(xgboost_has_shap)
{
    cairn_explain_opts o = CAIRN_EXPLAIN_OPTS_INIT;
    o.n_repeats = 2;
    o.no_log = true;
    cairn_explain_result *r = NULL;
    CHECK(cairn_explain(ctx, xgb_run, &o, &r) == CAIRN_OK);
    if (!r)
        return;
    CHECK(r->has_shap);
    CHECK(r->shap_mean_abs[0] >= r->shap_mean_abs[1]);
    CHECK(r->shap_mean_abs[1] >= r->shap_mean_abs[2]);
    CHECK(strstr(r->json, "\"shap\": null") == NULL);
    cairn_explain_result_free(r);
}

TEST(refusals)
{
    cairn_explain_opts o = CAIRN_EXPLAIN_OPTS_INIT;
    cairn_explain_result *r = NULL;
    write_file("leak.idx", "85\n90\n101\n");
    char *leak = cn_path_join(dir, "leak.idx");
    o.rows = leak;
    CHECK(cairn_explain(ctx, lr_run, &o, &r) == CAIRN_EINVAL && !r);
    CHECK(strstr(cairn_errmsg(ctx), "1 of its rows (row 101 first) are in run") != NULL);
    CHECK(strstr(cairn_errmsg(ctx), "sealed test split") != NULL);
    free(leak);
    write_file("train_rows.idx", "1\n2\n3\n");
    char *tr = cn_path_join(dir, "train_rows.idx");
    o.rows = tr;
    CHECK(cairn_explain(ctx, lr_run, &o, &r) == CAIRN_EINVAL);
    CHECK(strstr(cairn_errmsg(ctx), "used to train") != NULL);
    free(tr);
    o.rows = NULL;
    o.n_repeats = 5000;
    CHECK(cairn_explain(ctx, lr_run, &o, &r) == CAIRN_EINVAL);
    CHECK(strstr(cairn_errmsg(ctx), "at most 1000") != NULL);
    o.n_repeats = 0;
    static const char *const nope[] = {"nope"};
    o.slices = nope;
    o.n_slices = 1;
    CHECK(cairn_explain(ctx, lr_run, &o, &r) == CAIRN_EINVAL);
    CHECK(strstr(cairn_errmsg(ctx), "'nope' is not a feature") != NULL);
    /* a run without a model */
    cairn_run *run = NULL;
    cairn_run_opts ro = CAIRN_RUN_OPTS_INIT;
    ro.experiment = fixture_name("unit-explain");
    CHECK(cairn_run_start(ctx, &ro, &run) == CAIRN_OK);
    CHECK(cairn_run_finish(run, CAIRN_RUN_FINISHED) == CAIRN_OK);
    CHECK(cairn_explain(ctx, cairn_run_id(run), NULL, &r) == CAIRN_EINVAL);
    CHECK(strstr(cairn_errmsg(ctx), "no model artifact") != NULL);
    cairn_run_free(run);
    CHECK(cairn_explain(ctx, "00000000000000000000000000000000", NULL, &r) != CAIRN_OK);
    CHECK(!r);
}

TEST(teardown)
{
    free(lr_run);
    free(xgb_run);
    cairn_close(ctx);
}

UNIT_MAIN(UNIT_CASE(setup), UNIT_CASE(logistic_on_validation_rows), UNIT_CASE(xgboost_has_shap),
          UNIT_CASE(refusals), UNIT_CASE(teardown))
