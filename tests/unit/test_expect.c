/* SPDX-License-Identifier: MIT */
/* test_expect.c - data expectations: the reader's errors (file, line, key), each column rule
 * and dataset rule failing on the rows that break it and holding on the rows that do not,
 * integer class codes compared as text, the JSON and text forms, and derived expectations
 * that their own data passes (on every bundled dataset). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "unit.h"
#include "cairn/data.h"
#include "base/banned.h"

static cairn_ctx *ctx;

static cairn_expect *parse(const char *yaml)
{
    cairn_expect *e = NULL;
    if (cairn_expect_parse(ctx, "e.yaml", yaml, strlen(yaml), &e) != CAIRN_OK)
        fprintf(stderr, "# parse failed: %s\n", cairn_errmsg(ctx));
    return e;
}

static const char *parse_err(const char *yaml)
{
    cairn_expect *e = NULL;
    if (cairn_expect_parse(ctx, "e.yaml", yaml, strlen(yaml), &e) == CAIRN_OK) {
        cairn_expect_free(e);
        return "(parsed)";
    }
    CHECK(e == NULL);
    return cairn_errmsg(ctx);
}

static cairn_table *csv(const char *text)
{
    cairn_table *t = NULL;
    if (cairn_csv_parse(ctx, text, strlen(text), NULL, &t) != CAIRN_OK)
        fprintf(stderr, "# csv failed: %s\n", cairn_errmsg(ctx));
    return t;
}

static cairn_expect_result *check(const char *yaml, const char *data)
{
    cairn_expect *e = parse(yaml);
    cairn_table *t = csv(data);
    cairn_expect_result *r = NULL;
    CHECK(e && t);
    if (e && t)
        CHECK(cairn_expect_check(ctx, e, t, &r) == CAIRN_OK);
    cairn_expect_free(e);
    cairn_table_free(t);
    return r;
}

static const cairn_expect_finding *find(const cairn_expect_result *r, const char *rule)
{
    for (size_t i = 0; r && i < r->n_failed; i++)
        if (strcmp(r->findings[i].rule, rule) == 0)
            return &r->findings[i];
    return NULL;
}

static bool contains(const char *s, const char *part)
{
    bool ok = s && strstr(s, part);
    if (!ok)
        fprintf(stderr, "# '%s' does not contain '%s'\n", s ? s : "(null)", part);
    return ok;
}

TEST(reader_errors_name_file_line_and_key)
{
    CHECK(contains(parse_err("min_rows: 3\nmax_rows: 9\n"),
                   "expectations 'e.yaml' line 2 column 1: unknown key 'max_rows'"));
    CHECK(contains(parse_err("columns:\n  age: {type: number}\n"),
                   "line 2 column 15: 'columns.age.type' must be numeric, integer or categorical"));
    CHECK(contains(parse_err("columns:\n  age: {min: low}\n"),
                   "line 2 column 14: 'columns.age.min' must be a finite number, got 'low'"));
    CHECK(contains(parse_err("columns:\n  age: {mni: 1}\n"), "unknown key 'columns.age.mni'"));
    CHECK(contains(parse_err("columns:\n  age: {max_missing: 1.5}\n"),
                   "'columns.age.max_missing' must be a share in [0, 1]"));
    CHECK(contains(parse_err("columns:\n  age: {min: 5, max: 1}\n"), "is below"));
    CHECK(contains(parse_err("columns:\n  a: {type: numeric, values: [x]}\n"),
                   "'values' lists categories"));
    CHECK(contains(parse_err("columns: [a, b]\n"), "'columns' must be a mapping"));
    CHECK(contains(parse_err("min_rows: -1\n"), "min_rows"));
    CHECK(contains(parse_err("class_balance: {min_share: 0.1}\n"), "needs 'label: COLUMN'"));
    CHECK(contains(parse_err("slices: [{column: a}]\n"), "needs both 'column' and 'min_rows'"));
    CHECK(contains(parse_err("slices: {column: a}\n"), "'slices' must be a list"));
    CHECK(contains(parse_err("sensitive: {column: sex}\n"), "min_share_per_group"));
    CHECK(contains(parse_err("sensitive: {column: s, min_share_per_group: 0.1, groups: a}\n"),
                   "'sensitive.groups' must be a list"));
    CHECK(contains(parse_err("columns:\n  a: {}\n  a: {}\n"), "'columns.a' appears twice"));
    CHECK(contains(parse_err("unique: [\n"), "e.yaml"));
    cairn_expect *e = NULL;
    CHECK(cairn_expect_load(ctx, "/nonexistent/e.yaml", &e) == CAIRN_ENOTFOUND);
    CHECK(e == NULL);
    /* an empty document is no rules */
    e = parse("");
    CHECK(e != NULL);
    cairn_expect_free(e);
    cairn_expect_free(NULL);
    cairn_expect_result_free(NULL);
}

TEST(column_rules_name_the_rows)
{
    const char *yaml = "columns:\n"
                       "  age: {type: integer, min: 0, max: 90, max_missing: 0.2}\n"
                       "  city: {type: categorical, values: [Oslo, Rome]}\n"
                       "  id: {unique: true}\n"
                       "  gone: {type: numeric}\n";
    const char *data = "id,age,city\n1,30,Oslo\n2,95,Rome\n3,,Paris\n3,-1,Oslo\n5,,Oslo\n"
                       "6,40.5,Rome\n";
    cairn_expect_result *r = check(yaml, data);
    CHECK(r != NULL);
    if (!r)
        return;
    CHECK(r->n_failed == 7);
    const cairn_expect_finding *f = find(r, "max");
    CHECK(f && f->n_rows == 1 && f->rows[0] == 1 && f->line == 2);
    f = find(r, "min");
    CHECK(f && f->n_rows == 1 && f->rows[0] == 3);
    f = find(r, "type"); /* 40.5 is not an integer */
    CHECK(f && f->n_rows == 1 && f->rows[0] == 5 && contains(f->message, "40.5"));
    f = find(r, "missing"); /* 2 of 6 = 33% > 20% */
    CHECK(f && f->n_rows == 2 && f->rows[0] == 2 && f->rows[1] == 4);
    f = find(r, "values");
    CHECK(f && f->n_rows == 1 && f->rows[0] == 2 && contains(f->message, "'Paris'") &&
          f->line == 3);
    f = find(r, "unique");
    CHECK(f && f->n_rows == 1 && f->rows[0] == 3);
    f = find(r, "column-missing");
    CHECK(f && contains(f->message, "'gone'") && contains(f->fix, "e.yaml"));
    char *text = cairn_expect_result_text(r);
    CHECK(contains(text, "rule 'max' (line 2): column 'age': 1 row above the maximum 90"));
    CHECK(contains(text, "fix: "));
    cairn_free(text);
    char *json = NULL;
    CHECK(cairn_expect_result_json(ctx, r, &json) == CAIRN_OK);
    CHECK(contains(json, "\"ok\": false"));
    CHECK(contains(json, "\"rule\": \"unique\""));
    cairn_free(json);
    cairn_expect_result_free(r);

    /* the same rules hold on clean rows */
    r = check("columns:\n  age: {type: integer, min: 0, max: 90, max_missing: 0}\n"
              "  city: {type: categorical, values: [Oslo, Rome]}\n  id: {unique: true}\n",
              "id,age,city\n1,30,Oslo\n2,90,Rome\n3,0,Oslo\n");
    CHECK(r && r->n_failed == 0 && r->n_rules == 10);
    cairn_expect_result_free(r);
}

TEST(many_rows_listed_and_counted)
{
    char data[4096] = "x\n";
    for (int i = 0; i < 100; i++)
        snprintf(data + strlen(data), sizeof data - strlen(data), "%d\n", i);
    cairn_expect_result *r = check("columns:\n  x: {max: 89}\n", data);
    const cairn_expect_finding *f = find(r, "max");
    CHECK(f && f->n_rows == 10 && f->n_rows_listed == CAIRN_EXPECT_MAX_ROWS && f->rows[0] == 90 &&
          f->rows[4] == 94);
    char *text = cairn_expect_result_text(r);
    CHECK(contains(text, "rows 90, 91, 92, 93, 94 and 5 more"));
    cairn_free(text);
    cairn_expect_result_free(r);
}

TEST(text_in_a_numeric_column_is_a_type_failure)
{
    cairn_expect_result *r = check("columns:\n  x: {type: numeric, min: 0}\n", "x\n1\nabc\n3\n");
    const cairn_expect_finding *f = find(r, "type");
    CHECK(f && f->n_rows == 1 && f->rows[0] == 1 && contains(f->message, "'abc'"));
    CHECK(r && r->n_failed == 1); /* no range check on a column that is not numeric */
    cairn_expect_result_free(r);
}

TEST(integer_class_codes_compare_as_text)
{
    const char *yaml = "label: y\nclass_balance: {min_share: 0.3}\n"
                       "columns:\n  y: {type: categorical, values: [\"0\", \"1\"]}\n";
    cairn_expect_result *r = check(yaml, "y\n0\n1\n1\n0\n");
    CHECK(r && r->n_failed == 0);
    cairn_expect_result_free(r);
    r = check(yaml, "y\n0\n1\n1\n1\n1\n2\n");
    const cairn_expect_finding *f = find(r, "values");
    CHECK(f && f->n_rows == 1 && f->rows[0] == 5);
    f = find(r, "class-balance"); /* class 0 and class 2 each have 1 of 6 rows < 30% */
    CHECK(f && contains(f->message, "'0' 1 row") && contains(f->message, "'2' 1 row") &&
          f->n_rows == 2);
    cairn_expect_result_free(r);
    /* a declared class with no rows at all is below any floor */
    r = check("label: y\nclass_balance: {min_share: 0.1}\n"
              "columns:\n  y: {values: [a, b, c]}\n",
              "y\na\nb\na\nb\n");
    f = find(r, "class-balance");
    CHECK(f && contains(f->message, "'c' 0 rows"));
    cairn_expect_result_free(r);
}

TEST(dataset_rules)
{
    const char *data = "sex,region,y\nF,n,1\nM,n,0\nM,s,1\nM,n,0\nM,n,1\nM,s,0\nM,n,1\nM,n,0\n";
    cairn_expect_result *r = check("min_rows: 10\n"
                                   "slices:\n  - {column: region, min_rows: 3}\n"
                                   "sensitive: {column: sex, min_share_per_group: 0.2, groups: "
                                   "[F, M, X]}\n",
                                   data);
    CHECK(r && r->n_failed == 3 && r->n_rules == 3);
    const cairn_expect_finding *f = find(r, "min-rows");
    CHECK(f && contains(f->message, "8 rows, fewer than min_rows 10"));
    f = find(r, "slice-rows");
    CHECK(f && contains(f->message, "'s' 2 rows") && f->n_rows == 2 && f->rows[0] == 2 &&
          f->rows[1] == 5);
    f = find(r, "sensitive-coverage");
    CHECK(f && contains(f->message, "'F' 1 row (12.5%)") && contains(f->message, "'X' 0 rows") &&
          strstr(f->message, "'M'") == NULL);
    cairn_expect_result_free(r);
    r = check("min_rows: 8\nslices:\n  - {column: region, min_rows: 2}\n"
              "sensitive: {column: sex, min_share_per_group: 0.1}\n",
              data);
    CHECK(r && r->n_failed == 0);
    cairn_expect_result_free(r);
    r = check("slices:\n  - {column: regio, min_rows: 2}\n", data);
    const cairn_expect_finding *m = find(r, "column-missing");
    CHECK(m && contains(m->message, "did you mean 'region'"));
    cairn_expect_result_free(r);
}

static void derive_and_check(const char *path, const char *label, bool is_classification)
{
    cairn_table *t = NULL;
    CHECK(cairn_csv_read(ctx, path, NULL, &t) == CAIRN_OK);
    if (!t)
        return;
    cairn_expect_derive_opts o = CAIRN_EXPECT_DERIVE_OPTS_INIT;
    o.label = label;
    o.is_classification = is_classification;
    char *yaml = NULL;
    CHECK(cairn_expect_derive(ctx, t, &o, &yaml) == CAIRN_OK);
    cairn_expect *e = yaml ? parse(yaml) : NULL;
    cairn_expect_result *r = NULL;
    CHECK(e && cairn_expect_check(ctx, e, t, &r) == CAIRN_OK);
    CHECK(r && r->n_failed == 0 && r->n_rules > t->n_cols);
    if (r && r->n_failed) {
        char *text = cairn_expect_result_text(r);
        fprintf(stderr, "# %s: %s", path, text);
        cairn_free(text);
    }
    cairn_expect_result_free(r);
    cairn_expect_free(e);
    cairn_free(yaml);
    cairn_table_free(t);
}

TEST(derived_expectations_hold_on_their_data)
{
    const char *src = getenv("CAIRN_SOURCE_DIR");
    static const char *const sets[] = {"iris", "wine", "breast_cancer", "digits", "diabetes"};
    for (size_t i = 0; src && i < 5; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/data/%s.csv", src, sets[i]);
        derive_and_check(path, "target", strcmp(sets[i], "diabetes") != 0);
    }
    CHECK(src != NULL);
    /* text, missing values, an id column, negative and constant numbers */
    cairn_table *t =
        csv("id,city,v,c,y\n1,Oslo,-1.5,7,a\n2,,2.25,7,b\n3,Rome,,7,a\n4,Oslo,3,7,b\n");
    cairn_expect_derive_opts o = CAIRN_EXPECT_DERIVE_OPTS_INIT;
    o.label = "y";
    o.is_classification = true;
    char *yaml = NULL;
    CHECK(t && cairn_expect_derive(ctx, t, &o, &yaml) == CAIRN_OK);
    CHECK(contains(yaml, "\"city\": {type: categorical, values: [\"Oslo\", \"Rome\"], "
                         "max_missing: 0.3}"));
    CHECK(contains(yaml, "\"y\": {type: categorical, values: [\"a\", \"b\"], max_missing: 0}"));
    CHECK(contains(yaml, "\"c\": {type: integer, min: 6, max: 8"));
    CHECK(contains(yaml, "class_balance: {min_share: 0.25}"));
    cairn_expect *e = yaml ? parse(yaml) : NULL;
    cairn_expect_result *r = NULL;
    CHECK(e && cairn_expect_check(ctx, e, t, &r) == CAIRN_OK && r->n_failed == 0);
    cairn_expect_result_free(r);
    cairn_expect_free(e);
    cairn_free(yaml);
    o.label = "nope";
    yaml = NULL;
    CHECK(cairn_expect_derive(ctx, t, &o, &yaml) == CAIRN_ENOTFOUND && yaml == NULL);
    cairn_table_free(t);
}

TEST(categorical_list_for_the_reader)
{
    cairn_expect *e = parse("columns:\n  a: {type: categorical}\n  b: {type: numeric}\n"
                            "  c: {type: categorical}\n");
    size_t n = 0;
    const char *const *cats = cairn_expect_categorical(e, &n);
    CHECK(n == 2 && cats && strcmp(cats[0], "a") == 0 && strcmp(cats[1], "c") == 0);
    cairn_expect_free(e);
    CHECK(cairn_expect_categorical(NULL, &n) == NULL && n == 0);
}

static void setup(void)
{
    ctx = cairn_ctx_new();
}

int main(void)
{
    setup();
    static const unit_case cases[] = {
        UNIT_CASE(reader_errors_name_file_line_and_key),
        UNIT_CASE(column_rules_name_the_rows),
        UNIT_CASE(many_rows_listed_and_counted),
        UNIT_CASE(text_in_a_numeric_column_is_a_type_failure),
        UNIT_CASE(integer_class_codes_compare_as_text),
        UNIT_CASE(dataset_rules),
        UNIT_CASE(derived_expectations_hold_on_their_data),
        UNIT_CASE(categorical_list_for_the_reader),
    };
    int n = (int)(sizeof cases / sizeof cases[0]), bad = 0;
    printf("1..%d\n", n);
    for (int i = 0; i < n; i++) {
        unit_failed = 0;
        cases[i].fn();
        printf("%s %d - %s\n", unit_failed ? "not ok" : "ok", i + 1, cases[i].name);
        bad += unit_failed;
    }
    cairn_close(ctx);
    return bad ? 1 : 0;
}
