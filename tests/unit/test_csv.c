/* SPDX-License-Identifier: MIT */
/* test_csv.c - the CSV reader: RFC 4180 quoting, CRLF, BOM, missing values, type inference
 * and declared types, error messages that name line and column, a larger file, writing back,
 * the content digest and the fast number parser against strtod. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "unit.h"
#include "cairn/data.h"
#include "data/data_internal.h"
#include "base/buf.h"
#include "base/rng.h"
#include "base/banned.h"

static cairn_ctx *ctx;

static cairn_table *parse(const char *text, const cairn_csv_opts *o)
{
    cairn_table *t = NULL;
    cairn_status rc = cairn_csv_parse(ctx, text, strlen(text), o, &t);
    if (rc != CAIRN_OK)
        fprintf(stderr, "# parse failed: %s\n", cairn_errmsg(ctx));
    return t;
}

/* Parses text expecting failure; returns the message (owned by ctx). */
static const char *parse_err(const char *text, const cairn_csv_opts *o)
{
    cairn_table *t = NULL;
    cairn_status rc = cairn_csv_parse(ctx, text, strlen(text), o, &t);
    if (rc == CAIRN_OK) {
        cairn_table_free(t);
        return "(parsed)";
    }
    CHECK(t == NULL);
    return cairn_errmsg(ctx);
}

static const char *level(const cairn_table *t, size_t c, size_t r)
{
    int32_t k = t->cols[c].cat[r];
    return k < 0 ? "(missing)" : t->cols[c].levels[k];
}

TEST(reads_numbers_and_header)
{
    cairn_table *t = parse("a,b,c\n1,2.5,-3e2\n4,5,6\n", NULL);
    CHECK(t != NULL);
    if (!t)
        return;
    CHECK(t->n_rows == 2 && t->n_cols == 3);
    CHECK_STR(t->cols[1].name, "b");
    CHECK(t->cols[2].type == CAIRN_COL_NUMERIC);
    CHECK(t->cols[1].num[0] == 2.5 && t->cols[2].num[0] == -300 && t->cols[0].num[1] == 4);
    CHECK(cairn_table_find(t, "c") == 2 && cairn_table_find(t, "z") == -1);
    cairn_table_free(t);
}

TEST(quoting_rfc4180)
{
    const char *text = "name,note,x\n"
                       "\"Smith, J\",\"said \"\"hi\"\"\",1\n"
                       "\"multi\nline\",\"\",2\n"
                       "plain,\"a,b\nc\"\"\",3\n";
    cairn_table *t = parse(text, NULL);
    CHECK(t != NULL);
    if (!t)
        return;
    CHECK(t->n_rows == 3);
    CHECK_STR(level(t, 0, 0), "Smith, J");
    CHECK_STR(level(t, 1, 0), "said \"hi\"");
    CHECK_STR(level(t, 0, 1), "multi\nline");
    CHECK_STR(level(t, 1, 1), "(missing)");
    CHECK_STR(level(t, 1, 2), "a,b\nc\"");
    CHECK(t->cols[2].type == CAIRN_COL_NUMERIC && t->cols[2].num[2] == 3);
    cairn_table_free(t);
}

TEST(crlf_bom_and_no_final_newline)
{
    cairn_table *t = parse("\xEF\xBB\xBF"
                           "id,v\r\n1,x\r\n2,y",
                           NULL);
    CHECK(t != NULL);
    if (!t)
        return;
    CHECK_STR(t->cols[0].name, "id");
    CHECK(t->n_rows == 2);
    CHECK_STR(level(t, 1, 0), "x");
    CHECK_STR(level(t, 1, 1), "y");
    cairn_table_free(t);
}

TEST(missing_values)
{
    cairn_table *t = parse("a,b\n1,x\n,NA\nNA,N/A\nnan,null\n?,?\nNULL,y\n5, \n", NULL);
    CHECK(t != NULL);
    if (!t)
        return;
    CHECK(t->n_rows == 7);
    CHECK(t->cols[0].type == CAIRN_COL_NUMERIC);
    CHECK(t->cols[0].num[0] == 1 && t->cols[0].num[6] == 5);
    for (size_t r = 1; r < 6; r++)
        CHECK(isnan(t->cols[0].num[r]));
    CHECK(t->cols[1].type == CAIRN_COL_CATEGORICAL);
    CHECK(t->cols[1].n_levels == 2);
    for (size_t r = 1; r < 5; r++)
        CHECK(t->cols[1].cat[r] == -1);
    CHECK(t->cols[1].cat[6] == -1);
    CHECK_STR(level(t, 1, 5), "y");
    cairn_table_free(t);
}

TEST(inference_flips_late_to_categorical)
{
    /* Numbers for many rows, then text: the column is re-read as categorical. */
    cn_buf b = CN_BUF_INIT;
    cn_buf_puts(&b, "x,y\n");
    for (int i = 0; i < 3000; i++)
        cn_buf_printf(&b, "%d,%d\n", i % 7, i);
    cn_buf_puts(&b, "seven,3000\n");
    cairn_table *t = parse(b.data, NULL);
    CHECK(t != NULL);
    if (t) {
        CHECK(t->n_rows == 3001);
        CHECK(t->cols[0].type == CAIRN_COL_CATEGORICAL);
        CHECK(t->cols[0].n_levels == 8);
        CHECK_STR(level(t, 0, 3), "3");
        CHECK_STR(level(t, 0, 3000), "seven");
        CHECK(t->cols[1].type == CAIRN_COL_NUMERIC && t->cols[1].num[3000] == 3000);
    }
    cairn_table_free(t);
    cn_buf_release(&b);
}

TEST(declared_types)
{
    const char *cat[] = {"code"};
    const char *num[] = {"age"};
    cairn_csv_opts o = CAIRN_CSV_OPTS_INIT;
    o.categorical = cat;
    o.n_categorical = 1;
    o.numeric = num;
    o.n_numeric = 1;
    cairn_table *t = parse("code,age\n10,1\n20,NA\n10,3\n", &o);
    CHECK(t != NULL);
    if (!t)
        return;
    CHECK(t->cols[0].type == CAIRN_COL_CATEGORICAL && t->cols[0].n_levels == 2);
    CHECK(t->cols[0].cat[2] == 0);
    CHECK(t->cols[1].type == CAIRN_COL_NUMERIC && isnan(t->cols[1].num[1]));
    cairn_table_free(t);
    const char *ghost[] = {"nope"};
    o.numeric = ghost;
    CHECK(strstr(parse_err("code,age\n1,2\n", &o), "'nope' is not in the header") != NULL);
    o.numeric = cat;
    CHECK(strstr(parse_err("code,age\n1,2\n", &o), "both numeric and categorical") != NULL);
}

TEST(delimiter_and_no_header)
{
    cairn_csv_opts o = CAIRN_CSV_OPTS_INIT;
    o.delimiter = ';';
    o.no_header = true;
    cairn_table *t = parse("1;2,5\n3;x\n", &o);
    CHECK(t != NULL);
    if (!t)
        return;
    CHECK(t->n_rows == 2 && t->n_cols == 2);
    CHECK_STR(t->cols[0].name, "col1");
    CHECK_STR(t->cols[1].name, "col2");
    CHECK_STR(level(t, 1, 0), "2,5");
    cairn_table_free(t);
    o.delimiter = '\t';
    o.no_header = false;
    t = parse("a\tb\n1\t2\n", &o);
    CHECK(t && t->n_cols == 2 && t->cols[1].num[0] == 2);
    cairn_table_free(t);
}

TEST(blank_lines_and_empty_header_names)
{
    cairn_table *t = parse(",b\n\n1,2\n\n3,4\n\n", NULL);
    CHECK(t != NULL);
    if (!t)
        return;
    CHECK(t->n_rows == 2);
    CHECK_STR(t->cols[0].name, "col1");
    cairn_table_free(t);
    /* One column: an empty line is a missing value. */
    t = parse("a\n1\n\n3\n", NULL);
    CHECK(t && t->n_rows == 3 && isnan(t->cols[0].num[1]));
    cairn_table_free(t);
}

TEST(errors_name_line_and_column)
{
    const char *m = parse_err("a,b,c,d,e\n1,2,3,4,5\n1,2,3,4\n", NULL);
    CHECK_STR(m, "input line 3: expected 5 fields, got 4");
    m = parse_err("a,b\n1,2\n3,4,5\n", NULL);
    CHECK_STR(m, "input line 3: expected 2 fields, got 3");
    m = parse_err("a,b\n1,\"open\n2,3\n", NULL);
    CHECK_STR(m, "input line 2 column 'b': unterminated quoted field");
    m = parse_err("a,b\n1,\"x\"y\n", NULL);
    CHECK(strstr(m, "input line 2 column 'b': unexpected 'y' after a closing quote") == m);
    /* Line numbers count the newlines inside quoted fields. */
    m = parse_err("a,b\n\"x\ny\",1\n2\n", NULL);
    CHECK_STR(m, "input line 4: expected 2 fields, got 1");
    const char *num[] = {"age"};
    cairn_csv_opts o = CAIRN_CSV_OPTS_INIT;
    o.numeric = num;
    o.n_numeric = 1;
    m = parse_err("name,age\nx,1\ny,2\nz,abc\n", &o);
    CHECK_STR(m, "input line 4 column 'age': 'abc' is not a number");
    m = parse_err("", NULL);
    CHECK(strstr(m, "empty input") != NULL);
    o.numeric = NULL;
    o.n_numeric = 0;
    o.delimiter = '"';
    CHECK(strstr(parse_err("a\n1\n", &o), "delimiter") != NULL);
    /* Through a file, the message names the file. */
    char path[] = "/tmp/cairn-test-csv-XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    const char *bad = "a,b,c\n1,2,3\n4,5\n";
    CHECK(write(fd, bad, strlen(bad)) == (ssize_t)strlen(bad));
    close(fd);
    cairn_table *t = NULL;
    CHECK(cairn_csv_read(ctx, path, NULL, &t) == CAIRN_EINVAL);
    char want[128];
    snprintf(want, sizeof want, "%s line 3: expected 3 fields, got 2", path);
    CHECK_STR(cairn_errmsg(ctx), want);
    cairn_csv_opts small = CAIRN_CSV_OPTS_INIT;
    small.max_bytes = 4;
    CHECK(cairn_csv_read(ctx, path, &small, &t) == CAIRN_ELIMIT);
    unlink(path);
    CHECK(cairn_csv_read(ctx, path, NULL, &t) == CAIRN_ENOTFOUND);
    CHECK(strstr(cairn_errmsg(ctx), path) != NULL);
}

TEST(fast_parser_matches_strtod)
{
    static const char *cases[] = {
        "0",
        "-0",
        "1",
        "0.1",
        "3.14159",
        "1e10",
        "1E-5",
        "123456789012345678",
        "1234567890123456789",
        "12345678901234567890",
        "9007199254740993",
        "0.000001",
        "1.7976931348623157e308",
        "2.2250738585072014e-308",
        "4.9e-324",
        "1e22",
        "1e23",
        "+5",
        ".5",
        "5.",
        "-.5e1",
        "  7 ",
        "inf",
        "-Infinity",
        "0.1e-22",
        "123.456e-20",
        "9999999999999999999e-3",
        "0.30000000000000004",
        "1.00000000000000011102230246251565",
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        double a, b = strtod(cases[i], NULL);
        CHECK(cn_csv_parse_double(cases[i], strlen(cases[i]), &a));
        CHECK(memcmp(&a, &b, sizeof a) == 0);
    }
    static const char *bad[] = {"", "abc", "1e", "0x10", "1.2.3", "--1", "1e400", "e5", "."};
    double v;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECK(!cn_csv_parse_double(bad[i], strlen(bad[i]), &v));
    /* Random decimals of up to 17 digits with random exponents. */
    cn_rng rng;
    cn_rng_seed(&rng, 42);
    char text[64];
    for (int i = 0; i < 200000; i++) {
        int digits = 1 + (int)cn_rng_below(&rng, 17);
        uint64_t mod = 1;
        for (int k = 0; k < digits; k++)
            mod *= 10;
        uint64_t m = cn_rng_u64(&rng) % mod;
        int e = (int)cn_rng_below(&rng, 60) - 30;
        int point = (int)cn_rng_below(&rng, 4);
        if (point == 0)
            snprintf(text, sizeof text, "%llue%d", (unsigned long long)m, e);
        else if (point == 1)
            snprintf(text, sizeof text, "%llu", (unsigned long long)m);
        else
            snprintf(text, sizeof text, "%llu.%llue%d", (unsigned long long)(m / 1000),
                     (unsigned long long)(m % 1000), e);
        double a = 0, b = strtod(text, NULL);
        CHECK(cn_csv_parse_double(text, strlen(text), &a));
        if (memcmp(&a, &b, sizeof a) != 0) {
            fprintf(stderr, "# %s: %.17g vs %.17g\n", text, a, b);
            CHECK(0);
            break;
        }
    }
}

TEST(large_file_round_trip_and_digest)
{
    char path[] = "/tmp/cairn-test-csv-XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    close(fd);
    cn_rng rng;
    cn_rng_seed(&rng, 7);
    size_t n = 200000;
    double *x = malloc(n * sizeof *x), *y = malloc(n * sizeof *y);
    int32_t *g = malloc(n * sizeof *g);
    for (size_t i = 0; i < n; i++) {
        x[i] = cn_rng_normal(&rng) * 1e3;
        y[i] = i % 97 == 0 ? NAN : (double)(i % 1000) / 8;
        g[i] = i % 13 == 0 ? -1 : (int32_t)(i % 4);
    }
    const char *levels[] = {"red", "green, dark", "blue \"b\"", "x\ny"};
    cairn_table *t = cairn_table_new(n);
    CHECK(cairn_table_add_numeric(ctx, t, "x", x) == CAIRN_OK);
    CHECK(cairn_table_add_numeric(ctx, t, "y", y) == CAIRN_OK);
    CHECK(cairn_table_add_categorical(ctx, t, "g", g, levels, 4) == CAIRN_OK);
    int32_t badcode[1] = {9};
    cairn_table *t1 = cairn_table_new(1);
    CHECK(cairn_table_add_categorical(ctx, t1, "bad", badcode, levels, 4) == CAIRN_EINVAL);
    cairn_table_free(t1);
    CHECK(cairn_csv_write(ctx, t, path) == CAIRN_OK);
    cairn_table *u = NULL;
    CHECK(cairn_csv_read(ctx, path, NULL, &u) == CAIRN_OK);
    if (u) {
        CHECK(u->n_rows == n && u->n_cols == 3);
        bool same = true;
        for (size_t i = 0; i < n && same; i++)
            same = (x[i] == u->cols[0].num[i]) &&
                   (isnan(y[i]) ? isnan(u->cols[1].num[i]) : y[i] == u->cols[1].num[i]);
        CHECK(same);
        char d1[65], d2[65];
        CHECK(cairn_table_digest(t, d1) == CAIRN_OK);
        CHECK(cairn_table_digest(u, d2) == CAIRN_OK);
        CHECK_STR(d1, d2);
        u->cols[0].num[5] += 1;
        CHECK(cairn_table_digest(u, d2) == CAIRN_OK);
        CHECK(strcmp(d1, d2) != 0);
    }
    cairn_table_free(u);
    cairn_table_free(t);
    free(x);
    free(y);
    free(g);
    unlink(path);
}

TEST(digest_ignores_number_format)
{
    cairn_table *a = parse("v,w\n1.0,x\n2,y\n", NULL);
    cairn_table *b = parse("v,w\n1,x\n2.000,\"y\"\n", NULL);
    cairn_table *c = parse("v,w\n1,x\n2,z\n", NULL);
    char da[65], db[65], dc[65];
    CHECK(a && b && c);
    if (a && b && c) {
        cairn_table_digest(a, da);
        cairn_table_digest(b, db);
        cairn_table_digest(c, dc);
        CHECK_STR(da, db);
        CHECK(strcmp(da, dc) != 0);
        CHECK(strlen(da) == 64);
    }
    cairn_table_free(a);
    cairn_table_free(b);
    cairn_table_free(c);
}

TEST(bundled_datasets_parse)
{
    const char *src = getenv("CAIRN_SOURCE_DIR");
    if (!src)
        src = ".";
    static const struct {
        const char *name;
        size_t rows, cols;
    } sets[] = {{"iris", 150, 5},
                {"wine", 178, 14},
                {"breast_cancer", 569, 31},
                {"digits", 1797, 65},
                {"diabetes", 442, 11}};
    for (size_t i = 0; i < sizeof sets / sizeof sets[0]; i++) {
        char path[1024];
        snprintf(path, sizeof path, "%s/data/%s.csv", src, sets[i].name);
        cairn_table *t = NULL;
        CHECK(cairn_csv_read(ctx, path, NULL, &t) == CAIRN_OK);
        if (!t)
            continue;
        CHECK(t->n_rows == sets[i].rows && t->n_cols == sets[i].cols);
        CHECK_STR(t->cols[t->n_cols - 1].name, "target");
        for (size_t c = 0; c < t->n_cols; c++)
            CHECK(t->cols[c].type == CAIRN_COL_NUMERIC);
        cairn_table_free(t);
    }
}

TEST(bundled_datasets_match_sha256sums)
{
    const char *src = getenv("CAIRN_SOURCE_DIR");
    if (!src)
        src = ".";
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "cd '%s/data' && sha256sum --quiet -c SHA256SUMS", src);
    CHECK(system(cmd) == 0);
}

static void setup(void)
{
    ctx = cairn_ctx_new();
}

UNIT_MAIN(UNIT_CASE(setup), UNIT_CASE(reads_numbers_and_header), UNIT_CASE(quoting_rfc4180),
          UNIT_CASE(crlf_bom_and_no_final_newline), UNIT_CASE(missing_values),
          UNIT_CASE(inference_flips_late_to_categorical), UNIT_CASE(declared_types),
          UNIT_CASE(delimiter_and_no_header), UNIT_CASE(blank_lines_and_empty_header_names),
          UNIT_CASE(errors_name_line_and_column), UNIT_CASE(fast_parser_matches_strtod),
          UNIT_CASE(large_file_round_trip_and_digest), UNIT_CASE(digest_ignores_number_format),
          UNIT_CASE(bundled_datasets_parse), UNIT_CASE(bundled_datasets_match_sha256sums))
