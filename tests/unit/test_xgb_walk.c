/* SPDX-License-Identifier: MIT */
/* test_xgb_walk.c - the xgboost learner's own tree walker (learn/xgb_walk.c, batches of up to
 * 64 rows) against XGBoost's predictor, through the public API: one row at a time (walked)
 * against all rows at once (over 64: a DMatrix and XGBoost's CPU predictor), bit for bit, on
 * every bundled dataset, on random rows with missing values, for each objective the walker
 * takes, after early stopping and after a save and load; and against XGBoost's in-place
 * prediction of the same small batches (CAIRN_XGB_WALK=0). Boosters it does not reproduce
 * (gblinear, dart) get no walker and still predict. */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cairn/data.h"
#include "cairn/learn.h"
#include "learn/learner.h"
#include "learn/model.h"
#include "learn/xgb_walk.h"
#include "unit.h"

static cairn_table *read_data(cairn_ctx *ctx, const char *name)
{
    const char *dir = getenv("CAIRN_SOURCE_DIR");
    char path[4096];
    snprintf(path, sizeof path, "%s/data/%s", dir ? dir : ".", name);
    cairn_table *t = NULL;
    if (cairn_csv_read(ctx, path, NULL, &t) != CAIRN_OK) {
        fprintf(stderr, "# %s: %s\n", path, cairn_errmsg(ctx));
        exit(1);
    }
    return t;
}

/* Fits xgboost on t (label "target") with kv params (key, value pairs, NULL-terminated);
 * the last n_val rows are validation rows when n_val > 0. */
static cairn_model *fit(cairn_ctx *ctx, const cairn_table *t, const char *task,
                        const char *const *kv, size_t n_val)
{
    const char *keys[32], *values[32];
    size_t n_kv = 0;
    for (; kv && kv[2 * n_kv]; n_kv++) {
        keys[n_kv] = kv[2 * n_kv];
        values[n_kv] = kv[2 * n_kv + 1];
    }
    keys[n_kv] = "nthread"; /* OpenMP teams on a busy machine wait more than they work */
    values[n_kv++] = "1";
    size_t *rows = malloc(t->n_rows * sizeof *rows);
    for (size_t i = 0; i < t->n_rows; i++)
        rows[i] = i;
    cairn_fit_opts o = CAIRN_FIT_OPTS_INIT;
    o.learner = "xgboost";
    o.label = "target";
    o.task = task;
    o.seed = 11;
    o.param_keys = keys;
    o.param_values = values;
    o.n_params = n_kv;
    if (n_val) {
        o.train_rows = rows;
        o.n_train = t->n_rows - n_val;
        o.val_rows = rows + o.n_train;
        o.n_val = n_val;
    }
    cairn_model *m = NULL;
    if (cairn_model_fit(ctx, t, &o, &m) != CAIRN_OK)
        fprintf(stderr, "# fit: %s\n", cairn_errmsg(ctx));
    free(rows);
    return m;
}

static size_t width(const cairn_model *m)
{
    return cairn_model_n_classes(m) ? cairn_model_n_classes(m) : 1;
}

/* All rows of t in one call (n_rows > 64: XGBoost's predictor on a DMatrix), into a new array
 * of n_rows x width(m) values. */
static double *predict_all(cairn_ctx *ctx, const cairn_model *m, const cairn_table *t)
{
    double *out = malloc(t->n_rows * width(m) * sizeof *out);
    cairn_status rc = cairn_model_n_classes(m)
                          ? cairn_model_predict_proba(ctx, m, t, NULL, t->n_rows, out)
                          : cairn_model_predict(ctx, m, t, NULL, t->n_rows, out);
    CHECK(rc == CAIRN_OK);
    return out;
}

/* Rows [from, from + n) of t in calls of `batch` rows (the walker when it has one). */
static void predict_batches(cairn_ctx *ctx, const cairn_model *m, const cairn_table *t,
                            size_t batch, double *out)
{
    size_t w = width(m);
    for (size_t i = 0; i < t->n_rows; i += batch) {
        size_t n = t->n_rows - i < batch ? t->n_rows - i : batch;
        size_t *rows = malloc(n * sizeof *rows);
        for (size_t k = 0; k < n; k++)
            rows[k] = i + k;
        cairn_status rc = cairn_model_n_classes(m)
                              ? cairn_model_predict_proba(ctx, m, t, rows, n, out + i * w)
                              : cairn_model_predict(ctx, m, t, rows, n, out + i * w);
        CHECK(rc == CAIRN_OK);
        free(rows);
    }
}

/* The walker's predictions of t, in batches of 1 and of 64 rows, are XGBoost's bits. */
static void check_same(cairn_ctx *ctx, const cairn_model *m, const cairn_table *t, const char *what)
{
    CHECK(t->n_rows > 64);
    size_t n = t->n_rows * width(m);
    double *want = predict_all(ctx, m, t), *got = malloc(n * sizeof *got);
    static const size_t batches[] = {1, 64};
    for (size_t b = 0; b < 2; b++) {
        memset(got, 0, n * sizeof *got);
        predict_batches(ctx, m, t, batches[b], got);
        double max_diff = 0;
        size_t differ = 0;
        for (size_t i = 0; i < n; i++) {
            double d = fabs(got[i] - want[i]);
            max_diff = d > max_diff ? d : max_diff;
            differ += memcmp(&got[i], &want[i], sizeof *got) != 0;
        }
        if (differ)
            fprintf(stderr, "# %s, batches of %zu: %zu of %zu values differ, by up to %g\n", what,
                    batches[b], differ, n, max_diff);
        CHECK(differ == 0);
    }
    free(got);
    free(want);
}

static bool walks(const cairn_model *m)
{
    return m && cn_xgb_walks(cn_model_impl(m));
}

/* The model must have a walker: without one these tests would compare XGBoost with itself.
 * A new XGBoost turns the walker off (xgb_walk.c copies 1.7's arithmetic) and fails here. */
#define CHECK_WALKS(m)                                                                             \
    do {                                                                                           \
        if (!walks(m))                                                                             \
            fprintf(stderr, "# no tree walker (CAIRN_LOG=debug says why; a new XGBoost? check "    \
                            "learn/xgb_walk.c against it)\n");                                     \
        CHECK(walks(m));                                                                           \
    } while (0)

/* A table of n rows drawn from t's, each value missing (NaN) with probability 1/4 and taken
 * from another row with probability 1/8; the label column is copied from the drawn row. */
static cairn_table *shuffled_with_nan(cairn_ctx *ctx, const cairn_table *t, size_t n, uint64_t seed)
{
    cairn_table *out = cairn_table_new(n);
    double *col = malloc(n * sizeof *col);
    size_t *pick = malloc(n * sizeof *pick);
    uint64_t s = seed;
#define NEXT() (s = s * 6364136223846793005ULL + 1442695040888963407ULL, s >> 33)
    for (size_t i = 0; i < n; i++)
        pick[i] = NEXT() % t->n_rows;
    for (size_t j = 0; j < t->n_cols; j++) {
        bool label = strcmp(t->cols[j].name, "target") == 0;
        for (size_t i = 0; i < n; i++) {
            uint64_t r = NEXT() % 8;
            col[i] = t->cols[j].num[pick[i]];
            if (!label && r < 2)
                col[i] = NAN;
            else if (!label && r == 2)
                col[i] = t->cols[j].num[NEXT() % t->n_rows];
        }
        CHECK(cairn_table_add_numeric(ctx, out, t->cols[j].name, col) == CAIRN_OK);
    }
#undef NEXT
    free(pick);
    free(col);
    return out;
}

static void check_dataset(const char *file, const char *task, const char *const *kv)
{
    cairn_ctx *ctx = cairn_ctx_new();
    cairn_table *t = read_data(ctx, file);
    cairn_model *m = fit(ctx, t, task, kv, 0);
    CHECK_WALKS(m);
    if (m) {
        check_same(ctx, m, t, file);
        cairn_table *nan_rows = shuffled_with_nan(ctx, t, 1000, 42);
        check_same(ctx, m, nan_rows, file);
        cairn_table_free(nan_rows);
    }
    cairn_model_free(m);
    cairn_table_free(t);
    cairn_close(ctx);
}

static const char *const small_trees[] = {"num_round", "30",  "max_depth", "4",
                                          "subsample", "0.8", NULL};

TEST(binary_breast_cancer)
{
    check_dataset("breast_cancer.csv", "classification", small_trees);
}

TEST(multiclass_iris_wine_digits)
{
    check_dataset("iris.csv", "classification", small_trees);
    check_dataset("wine.csv", "classification", small_trees);
    static const char *const digits[] = {"num_round", "5", "max_depth", "3", NULL};
    check_dataset("digits.csv", "classification", digits);
}

TEST(regression_diabetes)
{
    static const char *const deep[] = {"num_round", "60", "max_depth", "8", "eta", "0.1", NULL};
    check_dataset("diabetes.csv", "regression", deep);
}

/* Every objective the walker takes, and base_score away from its default. */
TEST(objectives_and_base_scores)
{
    static const char *const regression[] = {
        "reg:squarederror", "reg:squaredlogerror", "reg:pseudohubererror", "reg:absoluteerror",
        "count:poisson",    "reg:gamma",           "reg:tweedie",
    };
    cairn_ctx *ctx = cairn_ctx_new();
    cairn_table *diabetes = read_data(ctx, "diabetes.csv");
    cairn_table *cancer = read_data(ctx, "breast_cancer.csv");
    for (size_t i = 0; i < sizeof regression / sizeof regression[0]; i++) {
        const char *kv[] = {"num_round", "20", "objective", regression[i], NULL};
        cairn_model *m = fit(ctx, diabetes, "regression", kv, 0);
        CHECK_WALKS(m);
        if (m)
            check_same(ctx, m, diabetes, regression[i]);
        cairn_model_free(m);
    }
    /* 0/1 labels: the logistic objectives, with base_scores whose margins are not 0 (1.5e-38:
     * margins near -88.7, where XGBoost's sigmoid clamps its exponent). */
    static const char *const logistic[][3] = {
        {"reg:logistic", "regression", "0.5"},
        {"binary:logistic", "classification", "0.3"},
        {"binary:logistic", "classification", "1.5e-38"},
        {"binary:logitraw", "classification", "0.8"},
        {"reg:squarederror", "regression", "-3.25"},
    };
    for (size_t i = 0; i < sizeof logistic / sizeof logistic[0]; i++) {
        const char *kv[] = {"num_round",  "20",           "objective", logistic[i][0],
                            "base_score", logistic[i][2], NULL};
        cairn_model *m = fit(ctx, cancer, logistic[i][1], kv, 0);
        CHECK_WALKS(m);
        if (m)
            check_same(ctx, m, cancer, logistic[i][0]);
        cairn_model_free(m);
    }
    cairn_table_free(cancer);
    cairn_table_free(diabetes);
    cairn_close(ctx);
}

/* Early stopping keeps the trees up to the best round (a sliced booster); saved and loaded,
 * the model walks the same trees; with CAIRN_XGB_WALK=0 it has no walker and XGBoost predicts
 * the small batches in place, with the same bits. */
TEST(early_stopping_save_load_and_the_switch)
{
    cairn_ctx *ctx = cairn_ctx_new();
    cairn_table *wine = read_data(ctx, "wine.csv");
    cairn_table *t = shuffled_with_nan(ctx, wine, 400, 7); /* the classes mixed, as rows go */
    cairn_table_free(wine);
    static const char *const kv[] = {"num_round", "200", "early_stopping_rounds", "5", "eta",
                                     "0.5",       NULL};
    cairn_model *m = fit(ctx, t, "classification", kv, 100), *back = NULL, *off = NULL;
    CHECK_WALKS(m);
    void *bytes = NULL;
    size_t len = 0;
    CHECK(m && cairn_model_save_bytes(ctx, m, &bytes, &len) == CAIRN_OK);
    CHECK(cairn_model_load_bytes(ctx, bytes, len, &back) == CAIRN_OK);
    CHECK_WALKS(back);
    setenv("CAIRN_XGB_WALK", "0", 1);
    CHECK(cairn_model_load_bytes(ctx, bytes, len, &off) == CAIRN_OK);
    unsetenv("CAIRN_XGB_WALK");
    CHECK(off && !walks(off));
    if (m && back && off) {
        check_same(ctx, m, t, "early stopping");
        check_same(ctx, back, t, "loaded");
        size_t n = t->n_rows * width(m);
        double *walked = malloc(n * sizeof *walked), *inplace = malloc(n * sizeof *inplace);
        predict_batches(ctx, back, t, 1, walked);
        predict_batches(ctx, off, t, 1, inplace);
        CHECK(memcmp(walked, inplace, n * sizeof *walked) == 0);
        free(walked);
        free(inplace);
    }
    cairn_free(bytes);
    cairn_model_free(off);
    cairn_model_free(back);
    cairn_model_free(m);
    cairn_table_free(t);
    cairn_close(ctx);
}

/* Boosters the walker does not reproduce get none; XGBoost predicts them as before. */
TEST(gblinear_and_dart_are_left_to_xgboost)
{
    cairn_ctx *ctx = cairn_ctx_new();
    cairn_table *t = read_data(ctx, "iris.csv");
    static const char *const boosters[] = {"gblinear", "dart"};
    for (size_t i = 0; i < 2; i++) {
        const char *kv[] = {"num_round", "10", "booster", boosters[i], NULL};
        cairn_model *m = fit(ctx, t, "classification", kv, 0);
        CHECK(m && !walks(m));
        if (m) {
            /* XGBoost's own paths: gblinear's one-row predictions take a DMatrix too (it has
             * no in-place prediction) and match to the bit; dart's in-place and DMatrix
             * predictions differ in the last bit of a float. */
            size_t n = t->n_rows * width(m);
            double *want = predict_all(ctx, m, t), *got = malloc(n * sizeof *got);
            predict_batches(ctx, m, t, 1, got);
            for (size_t k = 0; k < n; k++)
                if (i == 0)
                    CHECK(memcmp(&got[k], &want[k], sizeof *got) == 0);
                else
                    CHECK_NEAR(got[k], want[k], 2.5e-7);
            free(want);
            free(got);
        }
        cairn_model_free(m);
    }
    cairn_table_free(t);
    cairn_close(ctx);
}

/* Several threads predicting one row at a time with one model (as cairn serve's workers do)
 * all get XGBoost's bits. */
typedef struct worker {
    const cairn_model *m;
    const cairn_table *t;
    const double *want;
    int differ;
} worker;

static void *work(void *arg)
{
    worker *w = arg;
    cairn_ctx *ctx = cairn_ctx_new();
    double one[2];
    for (int round = 0; round < 5; round++)
        for (size_t i = 0; i < w->t->n_rows; i++) {
            if (cairn_model_predict_proba(ctx, w->m, w->t, &i, 1, one) != CAIRN_OK ||
                memcmp(one, &w->want[2 * i], sizeof one) != 0)
                w->differ++;
        }
    cairn_close(ctx);
    return NULL;
}

TEST(threads_share_one_walker)
{
    cairn_ctx *ctx = cairn_ctx_new();
    cairn_table *t = read_data(ctx, "breast_cancer.csv");
    cairn_model *m = fit(ctx, t, "classification", small_trees, 0);
    CHECK_WALKS(m);
    if (m) {
        double *want = predict_all(ctx, m, t);
        worker w[4];
        pthread_t th[4];
        for (int k = 0; k < 4; k++) {
            w[k] = (worker){m, t, want, 0};
            CHECK(pthread_create(&th[k], NULL, work, &w[k]) == 0);
        }
        for (int k = 0; k < 4; k++) {
            pthread_join(th[k], NULL);
            CHECK(w[k].differ == 0);
        }
        free(want);
    }
    cairn_model_free(m);
    cairn_table_free(t);
    cairn_close(ctx);
}

/* ---- the builder, on booster JSON written by hand ---- */

/* One tree on feature 1 of 3: x1 < 0.5 (or missing) -> -0.25, else 0.75; base_score 0.5. */
static char *booster_json(const char *version, const char *objective, const char *booster,
                          const char *left, const char *feature, const char *split_type)
{
    static const char fmt[] =
        "{\"learner\": {\"attributes\": {}, \"feature_names\": [], \"feature_types\": [], "
        "\"gradient_booster\": {\"model\": {\"gbtree_model_param\": {\"num_parallel_tree\": "
        "\"1\", \"num_trees\": \"1\", \"size_leaf_vector\": \"0\"}, \"tree_info\": [0], "
        "\"trees\": [{\"base_weights\": [0, 0, 0], \"categories\": [], \"categories_nodes\": "
        "[], \"categories_segments\": [], \"categories_sizes\": [], \"default_left\": [1, 0, 0], "
        "\"id\": 0, \"left_children\": %s, \"loss_changes\": [0, 0, 0], \"parents\": "
        "[2147483647, 0, 0], \"right_children\": [2, -1, -1], \"split_conditions\": [5E-1, "
        "-2.5E-1, 7.5E-1], \"split_indices\": %s, \"split_type\": %s, \"sum_hessian\": [1, 1, "
        "1], \"tree_param\": {\"num_deleted\": \"0\", \"num_feature\": \"3\", \"num_nodes\": "
        "\"3\", \"size_leaf_vector\": \"0\"}}]}, \"name\": \"%s\"}, \"learner_model_param\": "
        "{\"base_score\": \"5E-1\", \"boost_from_average\": \"1\", \"num_class\": \"0\", "
        "\"num_feature\": \"3\", \"num_target\": \"1\"}, \"objective\": {\"name\": \"%s\"}}, "
        "\"version\": %s}";
    size_t len = sizeof fmt + strlen(version) + strlen(objective) + strlen(booster) + strlen(left) +
                 strlen(feature) + strlen(split_type);
    char *s = malloc(len);
    snprintf(s, len, fmt, left, feature, split_type, booster, objective, version);
    return s;
}

static const char *refusal(const char *version, const char *objective, const char *booster,
                           const char *left, const char *feature, const char *split_type)
{
    char *json = booster_json(version, objective, booster, left, feature, split_type);
    const char *why = NULL;
    cn_xgb_walk *w = cn_xgb_walk_new(json, strlen(json), 3, &why);
    free(json);
    if (w) {
        cn_xgb_walk_free(w);
        return NULL;
    }
    return why;
}

TEST(builder_walks_what_it_reads_and_refuses_the_rest)
{
    char *json = booster_json("[1, 7, 4]", "reg:squarederror", "gbtree", "[1, -1, -1]", "[1, 0, 0]",
                              "[0, 0, 0]");
    const char *why = NULL;
    cn_xgb_walk *w = cn_xgb_walk_new(json, strlen(json), 3, &why);
    CHECK(w != NULL && cn_xgb_walk_n_out(w) == 1);
    if (w) {
        const double x[] = {9, 0.25, 9, 9, 0.5, 9, 9, NAN, 9};
        float out[3];
        cn_xgb_walk_predict(w, x, 3, out);
        CHECK(out[0] == 0.25f && out[1] == 1.25f && out[2] == 0.25f);
    }
    cn_xgb_walk_free(w);
    CHECK(cn_xgb_walk_new(json, strlen(json), 4, &why) == NULL);
    CHECK_STR(why, "a booster of another width");
    CHECK(cn_xgb_walk_new(json, strlen(json) - 1, 3, &why) == NULL);
    CHECK_STR(why, "the booster is not valid JSON");
    free(json);
    const char *v17 = "[1, 7, 4]", *obj = "reg:squarederror", *gb = "gbtree";
    const char *left = "[1, -1, -1]", *f1 = "[1, 0, 0]", *num = "[0, 0, 0]";
    CHECK(refusal(v17, obj, gb, left, f1, num) == NULL);
    CHECK_STR(refusal("[2, 0, 0]", obj, gb, left, f1, num),
              "an XGBoost other than 1.7 (the walker copies 1.7's arithmetic)");
    CHECK_STR(refusal(v17, "survival:cox", gb, left, f1, num),
              "an objective the walker has no transform for");
    CHECK_STR(refusal(v17, "multi:softprob", gb, left, f1, num),
              "num_class does not fit the objective");
    CHECK_STR(refusal(v17, obj, "dart", left, f1, num), "a booster other than gbtree");
    CHECK_STR(refusal(v17, obj, gb, left, f1, "[1, 0, 0]"), "categorical splits");
    CHECK_STR(refusal(v17, obj, gb, left, "[3, 0, 0]", num),
              "a split on a feature past the model's");
    CHECK_STR(refusal(v17, obj, gb, "[1, 3, -1]", f1, num), "a tree's arrays are not XGBoost's");
    CHECK_STR(refusal(v17, obj, gb, "[1, 0, -1]", f1, num), "a node has one child");
    CHECK_STR(refusal(v17, obj, gb, "[0, -1, -1]", f1, num), "a tree's nodes do not form a tree");
}

UNIT_MAIN(UNIT_CASE(builder_walks_what_it_reads_and_refuses_the_rest),
          UNIT_CASE(binary_breast_cancer), UNIT_CASE(multiclass_iris_wine_digits),
          UNIT_CASE(regression_diabetes), UNIT_CASE(objectives_and_base_scores),
          UNIT_CASE(early_stopping_save_load_and_the_switch),
          UNIT_CASE(gblinear_and_dart_are_left_to_xgboost), UNIT_CASE(threads_share_one_walker))
