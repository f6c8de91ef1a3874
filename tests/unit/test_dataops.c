/* SPDX-License-Identifier: MIT */
/* test_dataops.c - dataset operations: splits (random, stratified within one row of the class
 * shares, grouped without a split group, time-ordered, seeded), index files, validation
 * findings, profiles against numpy (tests/data/gen_profile_ref.py) and file hashes. */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "unit.h"
#include "cairn/data.h"
#include "base/fs.h"
#include "base/rng.h"
#include "base/sha256.h"
#include "base/banned.h"

static cairn_ctx *ctx;

static const char *src_dir(void)
{
    const char *s = getenv("CAIRN_SOURCE_DIR");
    return s ? s : ".";
}

static cairn_table *read_csv(const char *rel)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", src_dir(), rel);
    cairn_table *t = NULL;
    if (cairn_csv_read(ctx, path, NULL, &t) != CAIRN_OK)
        fprintf(stderr, "# %s\n", cairn_errmsg(ctx));
    return t;
}

static cairn_table *parse(const char *text)
{
    cairn_table *t = NULL;
    if (cairn_csv_parse(ctx, text, strlen(text), NULL, &t) != CAIRN_OK)
        fprintf(stderr, "# %s\n", cairn_errmsg(ctx));
    return t;
}

/* Every row in exactly one part, each part sorted strictly ascending. */
static bool is_partition(const cairn_split *s, size_t n)
{
    unsigned char *seen = calloc(n + 1, 1);
    size_t total = 0;
    bool ok = true;
    for (int p = 0; p < CAIRN_SPLIT_N_PARTS; p++) {
        for (size_t i = 0; i < s->n[p]; i++) {
            size_t r = s->rows[p][i];
            ok = ok && r < n && !seen[r] && (i == 0 || r > s->rows[p][i - 1]);
            if (r < n)
                seen[r] = 1;
        }
        total += s->n[p];
    }
    free(seen);
    return ok && total == n;
}

/* A table with a label of classes 'a' (7 rows), 'b' (50), 'c' (143), shuffled, and groups. */
static cairn_table *synthetic(size_t *n_out)
{
    size_t n = 200;
    cn_rng rng;
    cn_rng_seed(&rng, 99);
    int32_t *label = malloc(n * sizeof *label), *group = malloc(n * sizeof *group);
    double *x = malloc(n * sizeof *x), *when = malloc(n * sizeof *when);
    for (size_t i = 0; i < n; i++) {
        label[i] = i < 7 ? 0 : i < 57 ? 1 : 2;
        x[i] = (double)i;
        when[i] = (double)((i * 7919) % n); /* a permutation of 0..n-1 */
    }
    for (size_t i = n; i > 1; i--) {
        size_t j = cn_rng_below(&rng, i);
        int32_t tmp = label[i - 1];
        label[i - 1] = label[j];
        label[j] = tmp;
    }
    /* Groups of sizes 1..12. */
    size_t g = 0, left = 0;
    char names[64][8];
    const char *levels[64];
    for (size_t i = 0; i < n; i++) {
        if (left == 0) {
            left = 1 + (g * 5) % 12;
            snprintf(names[g], sizeof names[g], "g%zu", g);
            levels[g] = names[g];
            g++;
        }
        group[i] = (int32_t)(g - 1);
        left--;
    }
    const char *lv[] = {"a", "b", "c"};
    cairn_table *t = cairn_table_new(n);
    CHECK(cairn_table_add_numeric(ctx, t, "x", x) == CAIRN_OK);
    CHECK(cairn_table_add_numeric(ctx, t, "when", when) == CAIRN_OK);
    CHECK(cairn_table_add_categorical(ctx, t, "label", label, lv, 3) == CAIRN_OK);
    CHECK(cairn_table_add_categorical(ctx, t, "group", group, levels, g) == CAIRN_OK);
    free(label);
    free(group);
    free(x);
    free(when);
    *n_out = n;
    return t;
}

TEST(random_split_counts_and_seed)
{
    size_t n;
    cairn_table *t = synthetic(&n);
    cairn_split_opts o = CAIRN_SPLIT_OPTS_INIT;
    o.test_fraction = 0.2;
    o.val_fraction = 0.1;
    o.seed = 5;
    cairn_split *a = NULL, *b = NULL, *c = NULL;
    CHECK(cairn_split_make(ctx, t, &o, &a) == CAIRN_OK);
    CHECK(cairn_split_make(ctx, t, &o, &b) == CAIRN_OK);
    o.seed = 6;
    CHECK(cairn_split_make(ctx, t, &o, &c) == CAIRN_OK);
    if (a && b && c) {
        CHECK(is_partition(a, n));
        CHECK(a->n[CAIRN_SPLIT_TEST] == 40 && a->n[CAIRN_SPLIT_VAL] == 20);
        CHECK(memcmp(a->rows[2], b->rows[2], a->n[2] * sizeof(size_t)) == 0);
        CHECK_STR(a->sha256[0], b->sha256[0]);
        CHECK(strcmp(a->sha256[2], c->sha256[2]) != 0);
    }
    cairn_split_free(a);
    cairn_split_free(b);
    cairn_split_free(c);
    o.test_fraction = 0.7;
    o.val_fraction = 0.3;
    CHECK(cairn_split_make(ctx, t, &o, &a) == CAIRN_EINVAL);
    CHECK(strstr(cairn_errmsg(ctx), "below 1") != NULL);
    o.test_fraction = -0.1;
    CHECK(cairn_split_make(ctx, t, &o, &a) == CAIRN_EINVAL);
    cairn_table_free(t);
}

static void check_stratified(const cairn_table *t, const char *label, double test, double val,
                             uint64_t seed)
{
    cairn_split_opts o = CAIRN_SPLIT_OPTS_INIT;
    o.method = CAIRN_SPLIT_STRATIFIED;
    o.label = label;
    o.test_fraction = test;
    o.val_fraction = val;
    o.seed = seed;
    cairn_split *s = NULL;
    CHECK(cairn_split_make(ctx, t, &o, &s) == CAIRN_OK);
    if (!s)
        return;
    CHECK(is_partition(s, t->n_rows));
    const cairn_column *col = &t->cols[cairn_table_find(t, label)];
    /* Class keys: categorical codes, or numeric values cast (labels here are small ints). */
    size_t total[16] = {0}, in_test[16] = {0}, in_val[16] = {0};
    for (size_t r = 0; r < t->n_rows; r++)
        total[col->type == CAIRN_COL_NUMERIC ? (size_t)col->num[r] : (size_t)col->cat[r]]++;
    for (int p = 1; p < 3; p++)
        for (size_t i = 0; i < s->n[p]; i++) {
            size_t r = s->rows[p][i];
            size_t k = col->type == CAIRN_COL_NUMERIC ? (size_t)col->num[r] : (size_t)col->cat[r];
            (p == CAIRN_SPLIT_TEST ? in_test : in_val)[k]++;
        }
    for (size_t k = 0; k < 16; k++) {
        if (!total[k])
            continue;
        CHECK(fabs((double)in_test[k] - test * (double)total[k]) < 1.0);
        CHECK(fabs((double)in_val[k] - val * (double)total[k]) < 1.0);
    }
    CHECK(s->n[CAIRN_SPLIT_TEST] == (size_t)floor(test * (double)t->n_rows + 0.5));
    cairn_split_free(s);
}

TEST(stratified_split_keeps_class_shares)
{
    size_t n;
    cairn_table *t = synthetic(&n);
    for (uint64_t seed = 0; seed < 5; seed++) {
        check_stratified(t, "label", 0.2, 0.1, seed);
        check_stratified(t, "label", 0.33, 0.17, seed);
    }
    cairn_table_free(t);
    cairn_table *iris = read_csv("data/iris.csv");
    if (iris) {
        check_stratified(iris, "target", 0.2, 0.1, 1);
        check_stratified(iris, "target", 0.25, 0, 2);
    }
    cairn_table_free(iris);
}

TEST(group_split_never_splits_a_group)
{
    size_t n;
    cairn_table *t = synthetic(&n);
    const cairn_column *g = &t->cols[cairn_table_find(t, "group")];
    for (uint64_t seed = 0; seed < 10; seed++) {
        cairn_split_opts o = CAIRN_SPLIT_OPTS_INIT;
        o.method = CAIRN_SPLIT_GROUP;
        o.group = "group";
        o.test_fraction = 0.2;
        o.val_fraction = 0.15;
        o.seed = seed;
        cairn_split *s = NULL;
        CHECK(cairn_split_make(ctx, t, &o, &s) == CAIRN_OK);
        if (!s)
            continue;
        CHECK(is_partition(s, n));
        int part_of_group[64];
        for (int k = 0; k < 64; k++)
            part_of_group[k] = -1;
        for (int p = 0; p < 3; p++)
            for (size_t i = 0; i < s->n[p]; i++) {
                int32_t k = g->cat[s->rows[p][i]];
                CHECK(part_of_group[k] == -1 || part_of_group[k] == p);
                part_of_group[k] = p;
            }
        CHECK(s->n[1] > 0 && s->n[2] > 0);
        CHECK(fabs((double)s->n[2] - 40) <= 12); /* within the largest group of the target */
        cairn_split_free(s);
    }
    /* One group cannot be split. */
    cairn_table *one = parse("g,x\na,1\na,2\na,3\n");
    cairn_split_opts o = CAIRN_SPLIT_OPTS_INIT;
    o.method = CAIRN_SPLIT_GROUP;
    o.group = "g";
    o.test_fraction = 0.3;
    cairn_split *s = NULL;
    CHECK(cairn_split_make(ctx, one, &o, &s) == CAIRN_EINVAL);
    CHECK(strstr(cairn_errmsg(ctx), "group column 'g'") != NULL);
    o.group = "nope";
    CHECK(cairn_split_make(ctx, one, &o, &s) == CAIRN_ENOTFOUND);
    CHECK_STR(cairn_errmsg(ctx), "group column 'nope' not found; columns are: g, x");
    cairn_table_free(one);
    cairn_table_free(t);
}

TEST(time_split_orders_parts)
{
    size_t n;
    cairn_table *t = synthetic(&n);
    const double *when = t->cols[cairn_table_find(t, "when")].num;
    cairn_split_opts o = CAIRN_SPLIT_OPTS_INIT;
    o.method = CAIRN_SPLIT_TIME;
    o.time = "when";
    o.test_fraction = 0.2;
    o.val_fraction = 0.1;
    cairn_split *s = NULL;
    CHECK(cairn_split_make(ctx, t, &o, &s) == CAIRN_OK);
    if (s) {
        CHECK(is_partition(s, n));
        double max_train = -1, min_val = 1e9, max_val = -1, min_test = 1e9;
        for (size_t i = 0; i < s->n[0]; i++)
            max_train = fmax(max_train, when[s->rows[0][i]]);
        for (size_t i = 0; i < s->n[1]; i++) {
            min_val = fmin(min_val, when[s->rows[1][i]]);
            max_val = fmax(max_val, when[s->rows[1][i]]);
        }
        for (size_t i = 0; i < s->n[2]; i++)
            min_test = fmin(min_test, when[s->rows[2][i]]);
        CHECK(max_train < min_val && max_val < min_test);
        CHECK(s->n[2] == 40 && s->n[1] == 20);
    }
    cairn_split_free(s);
    /* ISO dates as text sort as strings. */
    cairn_table *d = parse("day,v\n2024-03-01,1\n2023-12-31,2\n2024-01-15,3\n2024-02-01,4\n"
                           "2023-11-02,5\n");
    o.time = "day";
    o.test_fraction = 0.4;
    o.val_fraction = 0;
    CHECK(cairn_split_make(ctx, d, &o, &s) == CAIRN_OK);
    if (s) {
        CHECK(s->n[2] == 2 && s->rows[2][0] == 0 && s->rows[2][1] == 3);
    }
    cairn_split_free(s);
    cairn_table_free(d);
    cairn_table_free(t);
}

TEST(index_files_round_trip)
{
    size_t n;
    cairn_table *t = synthetic(&n);
    cairn_split_opts o = CAIRN_SPLIT_OPTS_INIT;
    o.test_fraction = 0.25;
    o.seed = 11;
    cairn_split *s = NULL, *back = NULL;
    CHECK(cairn_split_make(ctx, t, &o, &s) == CAIRN_OK);
    char dir[] = "/tmp/cairn-test-split-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char sub[256];
    snprintf(sub, sizeof sub, "%s/nested/out", dir);
    CHECK(cairn_split_write(ctx, s, sub) == CAIRN_OK);
    CHECK(cairn_split_read(ctx, sub, n, &back) == CAIRN_OK);
    if (s && back) {
        for (int p = 0; p < 3; p++) {
            CHECK(back->n[p] == s->n[p]);
            CHECK(s->n[p] == 0 || memcmp(back->rows[p], s->rows[p], s->n[p] * sizeof(size_t)) == 0);
            CHECK_STR(back->sha256[p], s->sha256[p]);
            char path[512], hex[65];
            snprintf(path, sizeof path, "%s/%s.idx", sub,
                     cairn_split_part_name((cairn_split_part)p));
            CHECK(cn_sha256_file(path, hex, NULL) == 0);
            CHECK_STR(hex, s->sha256[p]);
        }
        CHECK(back->n[CAIRN_SPLIT_VAL] == 0);
    }
    cairn_split_free(back);
    back = NULL;
    /* Reading against a smaller table names the file and the line. */
    CHECK(cairn_split_read(ctx, sub, 10, &back) == CAIRN_EINVAL);
    CHECK(strstr(cairn_errmsg(ctx), "train.idx': line ") != NULL);
    CHECK(strstr(cairn_errmsg(ctx), "out of range: the table has 10 rows") != NULL);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    CHECK(system(cmd) == 0);
    CHECK(cairn_split_read(ctx, sub, 0, &back) == CAIRN_ENOTFOUND);
    cairn_split_free(s);
    cairn_table_free(t);
}

TEST(index_parse_errors)
{
    size_t *rows = NULL, n = 0;
    CHECK(cairn_index_parse(ctx, "0\n2\r\n7\n", 7, 0, &rows, &n) == CAIRN_OK);
    CHECK(n == 3 && rows && rows[2] == 7);
    cairn_free(rows);
    CHECK(cairn_index_parse(ctx, "", 0, 0, &rows, &n) == CAIRN_OK && n == 0);
    cairn_free(rows);
    CHECK(cairn_index_parse(ctx, "1\n2\n1x\n", 7, 0, &rows, &n) == CAIRN_EINVAL);
    CHECK_STR(cairn_errmsg(ctx), "line 3: '1x' is not a row index (a non-negative integer)");
    CHECK(cairn_index_parse(ctx, "5\n3\n", 4, 0, &rows, &n) == CAIRN_EINVAL);
    CHECK(strstr(cairn_errmsg(ctx), "line 2: row index 3 does not follow 5") == cairn_errmsg(ctx));
    CHECK(cairn_index_parse(ctx, "1\n1\n", 4, 0, &rows, &n) == CAIRN_EINVAL);
    CHECK(cairn_index_parse(ctx, "1\n\n2\n", 5, 0, &rows, &n) == CAIRN_EINVAL);
    CHECK_STR(cairn_errmsg(ctx), "line 2: empty line; an index file has one row index a line");
    CHECK(cairn_index_parse(ctx, "-1\n", 3, 0, &rows, &n) == CAIRN_EINVAL);
    CHECK(cairn_index_parse(ctx, "99999999999999999999\n", 21, 0, &rows, &n) == CAIRN_EINVAL);
    CHECK(cairn_index_parse(ctx, "4\n", 2, 4, &rows, &n) == CAIRN_EINVAL);
    char *text = cairn_index_format((const size_t[]){0, 9, 10}, 3);
    CHECK_STR(text, "0\n9\n10\n");
    cairn_free(text);
}

static const cairn_data_issue *find_issue(const cairn_validate_report *r, const char *code)
{
    for (size_t i = 0; i < r->n_issues; i++)
        if (strcmp(r->issues[i].code, code) == 0)
            return &r->issues[i];
    return NULL;
}

TEST(validate_finds_problems)
{
    cairn_table *t = parse("id,a,b,copy,k,y\n"
                           "1,5,x,5,7,p\n"
                           "2,,y,,7,p\n"
                           "3,6,x,6,7,p\n"
                           "3,6,x,6,7,p\n"
                           "4,1e400,z,inf,7,q\n");
    CHECK(t != NULL);
    if (!t)
        return;
    cairn_validate_opts o = CAIRN_VALIDATE_OPTS_INIT;
    o.label = "y";
    o.max_imbalance_ratio = 3;
    const char *cols[] = {"id", "b", "ghost"};
    const cairn_col_type types[] = {CAIRN_COL_NUMERIC, CAIRN_COL_NUMERIC, CAIRN_COL_NUMERIC};
    o.expect_columns = cols;
    o.expect_types = types;
    o.n_expect = 3;
    cairn_validate_report *r = NULL;
    CHECK(cairn_validate(ctx, t, &o, &r) == CAIRN_OK);
    if (r) {
        CHECK(r->n_rows == 5 && r->n_cols == 6);
        /* "1e400" overflows: column a is categorical; copy has inf and is numeric. */
        const cairn_column_report *k = &r->cols[4];
        CHECK(k->is_constant && k->min == 7 && k->max == 7);
        CHECK(find_issue(r, "constant-column") != NULL);
        CHECK(r->n_duplicate_rows == 1);
        CHECK(find_issue(r, "duplicate-rows") != NULL);
        CHECK(r->cols[3].n_missing == 1 && isinf(r->cols[3].max));
        CHECK(find_issue(r, "non-finite") != NULL);
        CHECK(find_issue(r, "missing-values") != NULL);
        CHECK(r->n_classes == 2 && r->classes[0].count == 4 && r->classes[1].count == 1);
        CHECK(r->imbalance_ratio == 4);
        CHECK(find_issue(r, "class-imbalance") != NULL);
        CHECK(find_issue(r, "rare-class") != NULL);
        const cairn_data_issue *m = find_issue(r, "schema-missing-column");
        CHECK(m && m->level == CAIRN_ISSUE_ERROR && strcmp(m->column, "ghost") == 0);
        m = find_issue(r, "schema-type");
        CHECK(m && strcmp(m->message, "column 'b' is categorical, expected numeric") == 0);
        CHECK(r->n_errors == 2);
        char *json = NULL;
        CHECK(cairn_validate_json(ctx, r, &json) == CAIRN_OK);
        json_error_t err;
        json_t *doc = json_loads(json, 0, &err);
        CHECK(doc != NULL);
        CHECK(json_is_false(json_object_get(doc, "ok")));
        CHECK(json_array_size(json_object_get(doc, "issues")) == r->n_issues);
        CHECK(json_integer_value(json_object_get(doc, "duplicate_rows")) == 1);
        json_decref(doc);
        cairn_free(json);
    }
    cairn_validate_report_free(r);
    r = NULL;
    o.label = "nope";
    CHECK(cairn_validate(ctx, t, &o, &r) == CAIRN_ENOTFOUND && r == NULL);
    CHECK_STR(cairn_errmsg(ctx),
              "label column 'nope' not found; columns are: id, a, b, copy, k, y");
    cairn_table_free(t);
}

TEST(validate_duplicate_columns_and_splits)
{
    cairn_table *t = parse("a,b,c\n1,1,x\n2,2,y\n3,3,x\n4,4,y\n1,1,x\n6,6,y\n");
    CHECK(t != NULL);
    if (!t)
        return;
    size_t train[] = {0, 1, 2, 3}, test[] = {3, 4, 5};
    cairn_split s = {0};
    s.rows[CAIRN_SPLIT_TRAIN] = train;
    s.n[CAIRN_SPLIT_TRAIN] = 4;
    s.rows[CAIRN_SPLIT_TEST] = test;
    s.n[CAIRN_SPLIT_TEST] = 3;
    cairn_validate_opts o = CAIRN_VALIDATE_OPTS_INIT;
    o.split = &s;
    cairn_validate_report *r = NULL;
    CHECK(cairn_validate(ctx, t, &o, &r) == CAIRN_OK);
    if (r) {
        CHECK(r->cols[1].duplicate_of == 0 && r->cols[0].duplicate_of == -1);
        CHECK(find_issue(r, "duplicate-column") != NULL);
        CHECK(r->split_overlap[1] == 1 && r->split_overlap[0] == 0);
        const cairn_data_issue *m = find_issue(r, "split-overlap");
        CHECK(m && m->level == CAIRN_ISSUE_ERROR);
        CHECK(m && strcmp(m->message, "1 rows are in both train and test (the first: row 3)") == 0);
        /* Row 4 repeats row 0's values: leakage through content. */
        m = find_issue(r, "split-content-overlap");
        CHECK(m && strstr(m->message, "1 test rows") != NULL);
    }
    cairn_validate_report_free(r);
    size_t bad[] = {2, 60};
    s.rows[CAIRN_SPLIT_TEST] = bad;
    s.n[CAIRN_SPLIT_TEST] = 2;
    CHECK(cairn_validate(ctx, t, &o, &r) == CAIRN_EINVAL);
    CHECK(strstr(cairn_errmsg(ctx), "names row 60 but the table has 6 rows") != NULL);
    cairn_table_free(t);
}

static double expected(const cairn_table *e, const char *col, const char *stat, size_t idx)
{
    const cairn_column *c = &e->cols[0], *s = &e->cols[1];
    for (size_t r = 0; r < e->n_rows; r++)
        if (strcmp(c->levels[c->cat[r]], col) == 0 && strcmp(s->levels[s->cat[r]], stat) == 0 &&
            e->cols[2].num[r] == (double)idx)
            return e->cols[3].num[r];
    fprintf(stderr, "# no expected %s %s %zu\n", col, stat, idx);
    return NAN;
}

static void near(double got, double want)
{
    CHECK_NEAR(got, want, 1e-12 * fmax(1.0, fabs(want)));
}

TEST(profile_matches_numpy)
{
    cairn_table *t = read_csv("tests/data/profile_input.csv");
    cairn_table *e = read_csv("tests/data/profile_expected.csv");
    CHECK(t && e);
    if (!t || !e) {
        cairn_table_free(t);
        cairn_table_free(e);
        return;
    }
    cairn_profile *p = NULL;
    CHECK(cairn_profile_table(ctx, t, &p) == CAIRN_OK);
    for (size_t i = 0; p && i < p->n_features; i++) {
        const cairn_feature_profile *f = &p->features[i];
        CHECK(f->count == (size_t)expected(e, f->name, "count", 0));
        CHECK(f->n_missing == (size_t)expected(e, f->name, "missing", 0));
        near(f->mean, expected(e, f->name, "mean", 0));
        near(f->std, expected(e, f->name, "std", 0));
        CHECK(f->min == expected(e, f->name, "min", 0));
        CHECK(f->max == expected(e, f->name, "max", 0));
        for (size_t q = 0; q < CAIRN_PROFILE_N_QUANTILES; q++)
            near(f->quantiles[q], expected(e, f->name, "quantile", q));
        for (size_t k = 0; k <= CAIRN_PROFILE_N_BINS; k++)
            near(f->bin_edges[k], expected(e, f->name, "edge", k));
        for (size_t k = 0; k < CAIRN_PROFILE_N_BINS; k++)
            CHECK(f->bin_counts[k] == (size_t)expected(e, f->name, "bin", k));
    }
    char *json = NULL;
    CHECK(cairn_profile_json(ctx, p, &json) == CAIRN_OK);
    json_error_t err;
    json_t *doc = json ? json_loads(json, 0, &err) : NULL;
    CHECK(doc != NULL);
    json_t *f0 = json_array_get(json_object_get(doc, "features"), 0);
    CHECK(json_array_size(json_object_get(json_object_get(f0, "histogram"), "edges")) == 21);
    CHECK(json_array_size(json_object_get(json_object_get(f0, "histogram"), "counts")) == 20);
    CHECK(json_array_size(json_object_get(f0, "quantiles")) == 7);
    json_decref(doc);
    cairn_free(json);
    cairn_profile_free(p);
    cairn_table_free(t);
    cairn_table_free(e);
}

TEST(profile_categorical_levels)
{
    cairn_table *t = parse("c\nx\ny\nx\nNA\nx\n");
    cairn_profile *p = NULL;
    CHECK(t && cairn_profile_table(ctx, t, &p) == CAIRN_OK);
    if (p) {
        const cairn_feature_profile *f = &p->features[0];
        CHECK(f->type == CAIRN_COL_CATEGORICAL && f->count == 4 && f->n_missing == 1);
        CHECK(f->n_levels == 2 && f->level_counts[0] == 3 && f->level_counts[1] == 1);
        CHECK_STR(f->levels[1], "y");
    }
    cairn_profile_free(p);
    cairn_table_free(t);
    CHECK(isnan(cairn_quantile_sorted(NULL, 0, 0.5)));
    const double v[] = {1, 2, 3, 4};
    CHECK(cairn_quantile_sorted(v, 4, 0.5) == 2.5);
    CHECK(cairn_quantile_sorted(v, 4, 1) == 4);
}

TEST(hash_matches_sha256sums)
{
    char path[1024], sums[1024];
    snprintf(path, sizeof path, "%s/data/iris.csv", src_dir());
    snprintf(sums, sizeof sums, "%s/data/SHA256SUMS", src_dir());
    cairn_data_digest d;
    CHECK(cairn_data_hash(ctx, path, NULL, &d) == CAIRN_OK);
    CHECK(d.n_rows == 150 && d.n_cols == 5 && d.size_bytes > 0);
    cn_buf text = CN_BUF_INIT;
    CHECK(cn_fs_read_file(sums, &text, 0) == 0);
    char want[80];
    snprintf(want, sizeof want, "%s  iris.csv\n", d.file_sha256);
    CHECK(strstr(cn_buf_str(&text), want) != NULL);
    cn_buf_release(&text);
    cairn_table *t = read_csv("data/iris.csv");
    char hex[65];
    CHECK(t && cairn_table_digest(t, hex) == CAIRN_OK);
    CHECK_STR(hex, d.content_sha256);
    cairn_table_free(t);
    CHECK(cairn_data_hash(ctx, "/nonexistent/x.csv", NULL, &d) == CAIRN_ENOTFOUND);
}

static void setup(void)
{
    ctx = cairn_ctx_new();
}

UNIT_MAIN(UNIT_CASE(setup), UNIT_CASE(random_split_counts_and_seed),
          UNIT_CASE(stratified_split_keeps_class_shares),
          UNIT_CASE(group_split_never_splits_a_group), UNIT_CASE(time_split_orders_parts),
          UNIT_CASE(index_files_round_trip), UNIT_CASE(index_parse_errors),
          UNIT_CASE(validate_finds_problems), UNIT_CASE(validate_duplicate_columns_and_splits),
          UNIT_CASE(profile_matches_numpy), UNIT_CASE(profile_categorical_levels),
          UNIT_CASE(hash_matches_sha256sums))
