/* SPDX-License-Identifier: MIT */
/* test_train.c - cairn train and the guarded evaluation: row-hash overlap counting, the
 * sealed test split (poisoned test rows change nothing), same seed same model, eval model
 * refusing training rows, eval final counting looks, compare on shared rows, config errors. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cairn/train.h"
#include "base/buf.h"
#include "base/fs.h"
#include "base/str.h"
#include "store_fixture.h"
#include "unit.h"
#include "base/banned.h"

static cairn_ctx *ctx;
static char dir[300];
static const char *experiment;

/* 80 rows: x1, x2, a category and a binary label that mostly follows x1 + x2. When poison is
 * set, the rows listed in test.idx get other features and flipped labels. */
static void write_data(const char *name, bool poison)
{
    cn_buf b = CN_BUF_INIT;
    cn_buf_puts(&b, "x1,x2,colour,y\n");
    for (int i = 0; i < 80; i++) {
        double x1 = (double)((i * 37) % 80) / 10.0 - 4.0, x2 = (double)((i * 53) % 80) / 20.0 - 2;
        int y = x1 + x2 + ((i % 7 == 0) ? 3.0 : 0.0) > 0;
        const char *colour = i % 3 == 0 ? "red" : i % 3 == 1 ? "green" : "blue";
        if (poison && i >= 64) {
            x1 = 1000.0 + i;
            x2 = -1000.0;
            y = !y;
            colour = "red";
        }
        cn_buf_printf(&b, "%.17g,%.17g,%s,%s\n", x1, x2, colour, y ? "yes" : "no");
    }
    char *path = cn_path_join(dir, name);
    CHECK(cn_fs_write_atomic(path, b.data, b.len) == 0);
    free(path);
    cn_buf_release(&b);
}

static void write_file(const char *name, const char *text)
{
    char *path = cn_path_join(dir, name);
    CHECK(cn_fs_write_atomic(path, text, strlen(text)) == 0);
    free(path);
}

static void write_index_files(void)
{
    cn_buf tr = CN_BUF_INIT, va = CN_BUF_INIT, te = CN_BUF_INIT;
    for (int i = 0; i < 80; i++)
        cn_buf_printf(i >= 64 ? &te : i >= 48 ? &va : &tr, "%d\n", i);
    write_file("train.idx", cn_buf_str(&tr));
    write_file("val.idx", cn_buf_str(&va));
    write_file("test.idx", cn_buf_str(&te));
    cn_buf_release(&tr);
    cn_buf_release(&va);
    cn_buf_release(&te);
}

/* Writes a config for data file `data` and learner `learner`; returns its path (free it). */
static char *config(const char *name, const char *data, const char *learner, const char *extra)
{
    char *cfg = cn_asprintf("name: t\nexperiment: unit-train\nseed: 7\n"
                            "data: {path: %s/%s, label: y}\n"
                            "split: {train: %s/train.idx, val: %s/val.idx, test: %s/test.idx}\n"
                            "learner: {name: %s}\nbootstrap: 50\n%s",
                            dir, data, dir, dir, dir, learner, extra ? extra : "");
    write_file(name, cfg);
    free(cfg);
    return cn_path_join(dir, name);
}

static cairn_train_result *train(const char *cfg_path, const char *const *k, const char *const *v,
                                 size_t n)
{
    cairn_train_opts o = CAIRN_TRAIN_OPTS_INIT;
    o.config = cfg_path;
    o.experiment = experiment;
    o.param_keys = k;
    o.param_values = v;
    o.n_params = n;
    cairn_train_result *r = NULL;
    cairn_status st = cairn_train(ctx, &o, &r);
    if (st != CAIRN_OK)
        fprintf(stderr, "# train: %s\n", cairn_errmsg(ctx));
    return r;
}

/* The model's bytes with the run-specific metadata blanked. */
static void model_bytes(const cairn_train_result *r, cn_buf *out)
{
    char *path = cn_path_join(r->artifact_dir, "model/model.cairn");
    cairn_model *m = NULL;
    CHECK(cairn_model_load(ctx, path, &m) == CAIRN_OK);
    free(path);
    if (!m)
        return;
    cairn_model_set_meta(m, "cairn.run_id", "-");
    cairn_model_set_meta(m, "cairn.data.sha256", "-");
    void *p = NULL;
    size_t len = 0;
    CHECK(cairn_model_save_bytes(ctx, m, &p, &len) == CAIRN_OK);
    cn_buf_append(out, p, len);
    cairn_free(p);
    cairn_model_free(m);
}

TEST(setup)
{
    ctx = fixture_open();
    experiment = fixture_name("unit-train");
    snprintf(dir, sizeof dir, "%s/work", fixture_dir);
    CHECK(cn_fs_mkdirs(dir, 0755) == 0);
    write_data("data.csv", false);
    write_data("poisoned.csv", true);
    write_index_files();
}

TEST(row_hash_overlap_counting)
{
    const char *csv_a = "a,b,y\n1,x,0\n2,y,1\n3,x,0\n4,y,1\n5,x,1\n6,y,0\n";
    /* the same rows written differently, plus two new ones: 1.0 == 1, label "0" as text */
    const char *csv_b = "y,a,b\n0,1.0,x\n1,2.00,y\n1,9,x\n0,3e0,x\n0,8,y\n";
    cairn_table *ta = NULL, *tb = NULL;
    CHECK(cairn_csv_parse(ctx, csv_a, strlen(csv_a), NULL, &ta) == CAIRN_OK);
    static const char *const cat[] = {"y"};
    cairn_csv_opts co = CAIRN_CSV_OPTS_INIT;
    co.categorical = cat;
    co.n_categorical = 1;
    CHECK(cairn_csv_parse(ctx, csv_b, strlen(csv_b), &co, &tb) == CAIRN_OK);
    cairn_fit_opts fo = CAIRN_FIT_OPTS_INIT;
    fo.learner = "logistic";
    fo.label = "y";
    size_t train_rows[] = {0, 1, 2, 3};
    fo.train_rows = train_rows;
    fo.n_train = 4;
    cairn_model *m = NULL;
    CHECK(cairn_model_fit(ctx, ta, &fo, &m) == CAIRN_OK);
    size_t overlap = 99;
    CHECK(cairn_model_count_train_overlap(ctx, m, ta, NULL, 0, &overlap) == CAIRN_EINVAL);
    CHECK(strstr(cairn_errmsg(ctx), "no record of its training rows") != NULL);
    CHECK(cairn_model_record_train_rows(ctx, m, ta, train_rows, 4) == CAIRN_OK);
    CHECK(cairn_model_count_train_overlap(ctx, m, ta, NULL, 0, &overlap) == CAIRN_OK);
    CHECK(overlap == 4);
    size_t held_out[] = {4, 5};
    CHECK(cairn_model_count_train_overlap(ctx, m, ta, held_out, 2, &overlap) == CAIRN_OK);
    CHECK(overlap == 0);
    /* rows 0, 1 and 3 of csv_b equal training rows 0, 1 and 2 of csv_a */
    CHECK(cairn_model_count_train_overlap(ctx, m, tb, NULL, 0, &overlap) == CAIRN_OK);
    CHECK(overlap == 3);
    /* the record survives a save and load */
    void *p = NULL;
    size_t len = 0;
    cairn_model *back = NULL;
    CHECK(cairn_model_save_bytes(ctx, m, &p, &len) == CAIRN_OK);
    CHECK(cairn_model_load_bytes(ctx, p, len, &back) == CAIRN_OK);
    CHECK(cairn_model_count_train_overlap(ctx, back, tb, NULL, 0, &overlap) == CAIRN_OK);
    CHECK(overlap == 3);
    /* a table without a feature is refused, naming it */
    const char *csv_c = "a,y\n1,0\n";
    cairn_table *tc = NULL;
    CHECK(cairn_csv_parse(ctx, csv_c, strlen(csv_c), NULL, &tc) == CAIRN_OK);
    CHECK(cairn_model_count_train_overlap(ctx, m, tc, NULL, 0, &overlap) == CAIRN_EINVAL);
    CHECK(strstr(cairn_errmsg(ctx), "feature 'b' is not in the data") != NULL);
    cairn_free(p);
    cairn_model_free(back);
    cairn_model_free(m);
    cairn_table_free(ta);
    cairn_table_free(tb);
    cairn_table_free(tc);
}

TEST(sealed_test_split_is_never_read)
{
    /* Poisoned test rows (other features, flipped labels) leave the model, its epochs and its
     * validation metrics exactly as they were: the learner never saw them. */
    static const char *const learners[] = {"logistic", "mlp", "xgboost"};
    for (size_t l = 0; l < 3; l++) {
        char *clean = config("clean.yaml", "data.csv", learners[l], NULL);
        char *poison = config("poison.yaml", "poisoned.csv", learners[l], NULL);
        cairn_train_result *a = train(clean, NULL, NULL, 0), *b = train(poison, NULL, NULL, 0);
        CHECK(a && b);
        if (a && b) {
            CHECK(a->n_test == 16 && b->n_test == 16 && a->n_train == 48 && a->n_val == 16);
            cn_buf ba = CN_BUF_INIT, bb = CN_BUF_INIT;
            model_bytes(a, &ba);
            model_bytes(b, &bb);
            CHECK(ba.len > 0 && ba.len == bb.len && memcmp(ba.data, bb.data, ba.len) == 0);
            CHECK(a->n_epochs == b->n_epochs);
            for (size_t i = 0; i < a->n_metrics; i++)
                CHECK(a->metrics[i].value == b->metrics[i].value ||
                      (isnan(a->metrics[i].value) && isnan(b->metrics[i].value)));
            cn_buf_release(&ba);
            cn_buf_release(&bb);
        }
        cairn_train_result_free(a);
        cairn_train_result_free(b);
        free(clean);
        free(poison);
    }
}

TEST(same_seed_same_model_bytes)
{
    char *cfg = config("det.yaml", "data.csv", "mlp", NULL);
    static const char *const k[] = {"seed"};
    static const char *const v8[] = {"8"};
    cairn_train_result *a = train(cfg, NULL, NULL, 0), *b = train(cfg, NULL, NULL, 0);
    cairn_train_result *c = train(cfg, k, v8, 1);
    CHECK(a && b && c);
    if (a && b && c) {
        cn_buf ba = CN_BUF_INIT, bb = CN_BUF_INIT, bc = CN_BUF_INIT;
        model_bytes(a, &ba);
        model_bytes(b, &bb);
        model_bytes(c, &bc);
        CHECK(ba.len == bb.len && memcmp(ba.data, bb.data, ba.len) == 0);
        CHECK(ba.len != bc.len || memcmp(ba.data, bc.data, ba.len) != 0);
        cn_buf_release(&ba);
        cn_buf_release(&bb);
        cn_buf_release(&bc);
    }
    cairn_train_result_free(a);
    cairn_train_result_free(b);
    cairn_train_result_free(c);
    free(cfg);
}

TEST(eval_model_refuses_training_rows)
{
    char *cfg = config("evm.yaml", "data.csv", "logistic", NULL);
    cairn_train_result *r = train(cfg, NULL, NULL, 0);
    CHECK(r != NULL);
    if (!r) {
        free(cfg);
        return;
    }
    cairn_eval_opts eo = CAIRN_EVAL_OPTS_INIT;
    char *data = cn_path_join(dir, "data.csv");
    eo.data = data;
    cairn_eval_report *rep = NULL;
    CHECK(cairn_eval_model(ctx, r->run_id, &eo, &rep) == CAIRN_EINVAL);
    char *want = cn_asprintf("refusing to evaluate: 48 of 80 rows were used to train this model "
                             "(run %s); evaluate on held-out rows",
                             r->run_id);
    CHECK_STR(cairn_errmsg(ctx), want);
    free(want);
    CHECK(rep == NULL);
    /* held-out rows only: scored, and logged to a new run */
    cn_buf held = CN_BUF_INIT;
    cn_buf_puts(&held, "x1,x2,colour,y\n1.5,0.5,red,yes\n-3,-1,blue,no\n2,1,green,yes\n");
    write_file("held.csv", cn_buf_str(&held));
    cn_buf_release(&held);
    char *held_path = cn_path_join(dir, "held.csv");
    eo.data = held_path;
    eo.log = true;
    CHECK(cairn_eval_model(ctx, r->run_id, &eo, &rep) == CAIRN_OK);
    CHECK(rep && rep->n_rows == 3 && rep->logged_run_id && rep->n_metrics == 4);
    cairn_eval_report_free(rep);
    free(held_path);
    free(data);
    cairn_train_result_free(r);
    free(cfg);
}

/* A model file whose training-row record was edited and re-sealed (a valid file, checksum and
 * all) must not pass the overlap check: the store's record of the logged file is checked too. */
TEST(eval_model_refuses_a_resealed_model)
{
    char *cfg = config("reseal.yaml", "data.csv", "logistic", NULL);
    cairn_train_result *r = train(cfg, NULL, NULL, 0);
    CHECK(r != NULL);
    if (!r) {
        free(cfg);
        return;
    }
    char *path = cn_path_join(r->artifact_dir, "model/model.cairn");
    cairn_model *m = NULL;
    CHECK(cairn_model_load(ctx, path, &m) == CAIRN_OK);
    /* Claim the model trained on three other rows only, and seal the file again. */
    write_file("other.csv", "x1,x2,colour,y\n9,9,red,yes\n8,8,blue,no\n7,7,green,yes\n");
    char *other = cn_path_join(dir, "other.csv");
    cairn_table *t = NULL;
    CHECK(cairn_csv_read(ctx, other, NULL, &t) == CAIRN_OK);
    CHECK(m && t && cairn_model_record_train_rows(ctx, m, t, NULL, 0) == CAIRN_OK);
    CHECK(cairn_model_save(ctx, m, path) == CAIRN_OK);
    cairn_model *back = NULL;
    CHECK(cairn_model_load(ctx, path, &back) == CAIRN_OK); /* a valid, sealed file */

    cairn_eval_opts eo = CAIRN_EVAL_OPTS_INIT;
    char *data = cn_path_join(dir, "data.csv");
    eo.data = data;
    cairn_eval_report *rep = NULL;
    CHECK(cairn_eval_model(ctx, r->run_id, &eo, &rep) == CAIRN_EINVAL);
    CHECK(strstr(cairn_errmsg(ctx), "changed since run") != NULL);
    CHECK(rep == NULL);
    /* The same file given by path names its run, and is refused the same way. */
    CHECK(cairn_eval_model(ctx, path, &eo, &rep) == CAIRN_EINVAL);
    CHECK(strstr(cairn_errmsg(ctx), "changed since run") != NULL);
    cairn_model_free(back);
    cairn_table_free(t);
    cairn_model_free(m);
    free(other);
    free(data);
    free(path);
    cairn_train_result_free(r);
    free(cfg);
}

static const char *tag(const cairn_run_record *rec, const char *key)
{
    for (size_t i = 0; i < rec->n_tags; i++)
        if (strcmp(rec->tags[i].key, key) == 0)
            return rec->tags[i].value;
    return NULL;
}

TEST(eval_final_counts_looks)
{
    char *cfg = config("fin.yaml", "data.csv", "logistic", NULL);
    cairn_train_result *r = train(cfg, NULL, NULL, 0);
    CHECK(r != NULL);
    if (!r) {
        free(cfg);
        return;
    }
    cairn_run_record *rec = NULL;
    CHECK(cairn_run_get(ctx, r->run_id, &rec) == CAIRN_OK);
    CHECK(tag(rec, "cairn.test.looks") == NULL);
    cairn_run_record_free(rec);
    cairn_eval_report *a = NULL, *b = NULL;
    CHECK(cairn_eval_final(ctx, r->run_id, NULL, &a) == CAIRN_OK);
    CHECK(a && a->looks == 1 && a->previous_look_ms == 0 && a->n_rows == 16);
    CHECK(cairn_run_get(ctx, r->run_id, &rec) == CAIRN_OK);
    CHECK_STR(tag(rec, "cairn.test.looks"), "1");
    CHECK(tag(rec, "cairn.test.second_look") == NULL);
    bool has_test_metric = false;
    for (size_t i = 0; i < rec->n_metrics; i++)
        has_test_metric = has_test_metric || strcmp(rec->metrics[i].key, "test_accuracy") == 0;
    CHECK(has_test_metric);
    cairn_run_record_free(rec);
    CHECK(cairn_eval_final(ctx, r->run_id, NULL, &b) == CAIRN_OK);
    CHECK(b && b->looks == 2 && b->previous_look_ms > 0);
    CHECK(a && b && a->metrics[0].value == b->metrics[0].value);
    CHECK(cairn_run_get(ctx, r->run_id, &rec) == CAIRN_OK);
    CHECK_STR(tag(rec, "cairn.test.looks"), "2");
    CHECK_STR(tag(rec, "cairn.test.second_look"), "true");
    cairn_run_record_free(rec);
    cairn_eval_report_free(a);
    cairn_eval_report_free(b);
    cairn_train_result_free(r);
    free(cfg);
}

TEST(compare_same_rows_and_refusal)
{
    char *cfg = config("cmp.yaml", "data.csv", "logistic", NULL);
    char *cfg2 = config("cmp2.yaml", "data.csv", "xgboost", NULL);
    cairn_train_result *a = train(cfg, NULL, NULL, 0), *b = train(cfg, NULL, NULL, 0);
    cairn_train_result *c = train(cfg2, NULL, NULL, 0);
    CHECK(a && b && c);
    cairn_compare_result *cr = NULL;
    if (a && b && c) {
        CHECK(cairn_eval_compare(ctx, a->run_id, b->run_id, &cr) == CAIRN_OK);
        CHECK(cr && cr->n == 16 && cr->n01 == 0 && cr->n10 == 0 && cr->pvalue == 1.0 &&
              !cr->significant);
        CHECK_STR(cr ? cr->scope : NULL, "validation");
        CHECK_STR(cr ? cr->test : NULL, "mcnemar-exact");
        cairn_compare_result_free(cr);
        cr = NULL;
        CHECK(cairn_eval_compare(ctx, a->run_id, c->run_id, &cr) == CAIRN_OK);
        CHECK(cr && cr->pvalue > 0 && cr->pvalue <= 1);
        cairn_compare_result_free(cr);
        cr = NULL;
    }
    /* another split: refused */
    char *other = cn_asprintf("name: o\nexperiment: unit-train\nseed: 3\n"
                              "data: {path: %s/data.csv, label: y}\nlearner: {name: logistic}\n"
                              "bootstrap: 0\n",
                              dir);
    write_file("other.yaml", other);
    free(other);
    char *other_path = cn_path_join(dir, "other.yaml");
    cairn_train_result *d = train(other_path, NULL, NULL, 0);
    CHECK(d != NULL);
    if (a && d) {
        CHECK(cairn_eval_compare(ctx, a->run_id, d->run_id, &cr) == CAIRN_EINVAL);
        CHECK(strstr(cairn_errmsg(ctx), "they were scored on different rows") != NULL);
        CHECK(cr == NULL);
    }
    cairn_train_result_free(a);
    cairn_train_result_free(b);
    cairn_train_result_free(c);
    cairn_train_result_free(d);
    free(other_path);
    free(cfg);
    free(cfg2);
}

TEST(config_and_data_errors)
{
    cairn_train_result *r = NULL;
    write_file("nodata.yaml", "learner: {name: logistic}\n");
    char *p = cn_path_join(dir, "nodata.yaml");
    CHECK(train(p, NULL, NULL, 0) == NULL);
    CHECK(strstr(cairn_errmsg(ctx), "'data.path' is required for cairn train") != NULL);
    free(p);
    char *cfg = config("badlabel.yaml", "data.csv", "logistic", NULL);
    /* an unknown learner and an unknown metric name their field */
    static const char *const k[] = {"learner"};
    static const char *const v[] = {"catboost"};
    CHECK((r = train(cfg, k, v, 1)) == NULL);
    CHECK(strstr(cairn_errmsg(ctx), "learner 'catboost' is unknown") != NULL);
    free(cfg);
    cfg = config("badmetric.yaml", "data.csv", "logistic", "metrics: [accuracy, rmse]\n");
    CHECK((r = train(cfg, NULL, NULL, 0)) == NULL);
    CHECK(strstr(cairn_errmsg(ctx), "metrics: 'rmse' is not a classification metric") != NULL);
    free(cfg);
    /* a NaN feature in a training row names the row and column */
    write_file("nan.csv", "x1,x2,colour,y\n1,2,red,yes\n2,NaN,red,no\n3,1,blue,yes\n4,0,red,no\n");
    write_file("nan.yaml", "");
    char *text = cn_asprintf("data: {path: %s/nan.csv, label: y}\nlearner: {name: logistic}\n"
                             "split: {method: random, test: 0, val: 0}\n",
                             dir);
    write_file("nan.yaml", text);
    free(text);
    p = cn_path_join(dir, "nan.yaml");
    CHECK(train(p, NULL, NULL, 0) == NULL);
    CHECK(strstr(cairn_errmsg(ctx), "row 1 column 'x2': missing value (NaN) in a feature") != NULL);
    free(p);
}

static size_t count_runs(void)
{
    cairn_run_search q = CAIRN_RUN_SEARCH_INIT;
    q.info_only = true;
    cairn_run_page *page = NULL;
    CHECK(cairn_runs_search(ctx, &q, &page) == CAIRN_OK);
    size_t n = page ? page->n : 0;
    cairn_run_page_free(page);
    return n;
}

TEST(misspelled_learner_param_creates_no_run)
{
    size_t before = count_runs();
    char *cfg = config("typo.yaml", "data.csv", "logistic", NULL);
    static const char *const k[] = {"Cee"};
    static const char *const v[] = {"0.5"};
    CHECK(train(cfg, k, v, 1) == NULL);
    CHECK(strstr(cairn_errmsg(ctx), "learner 'logistic': unknown param 'Cee' (did you mean "
                                    "'C'?); known: C, tol,") != NULL);
    static const char *const k2[] = {"max_iter"};
    static const char *const v2[] = {"0"};
    CHECK(train(cfg, k2, v2, 1) == NULL);
    CHECK(strstr(cairn_errmsg(ctx), "param 'max_iter': expected an integer in [1, 1e+06], got "
                                    "'0'") != NULL);
    CHECK(count_runs() == before);
    free(cfg);
}

TEST(teardown)
{
    cairn_close(ctx);
}

UNIT_MAIN(UNIT_CASE(setup), UNIT_CASE(misspelled_learner_param_creates_no_run),
          UNIT_CASE(row_hash_overlap_counting), UNIT_CASE(sealed_test_split_is_never_read),
          UNIT_CASE(same_seed_same_model_bytes), UNIT_CASE(eval_model_refuses_training_rows),
          UNIT_CASE(eval_model_refuses_a_resealed_model), UNIT_CASE(eval_final_counts_looks),
          UNIT_CASE(compare_same_rows_and_refusal), UNIT_CASE(config_and_data_errors),
          UNIT_CASE(teardown))
