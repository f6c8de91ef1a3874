/* SPDX-License-Identifier: MIT */
/* test_filter.c - the search filter and order_by parser (formats/filter.c) and its SQL
 * compilers (store/search_sql.c): SQL text and arguments of valid filters, every error message,
 * the parser's tree under a grammar of its own, and the compiled SQL run against a real SQLite
 * database built from the store's schema. */
#include <sqlite3.h>
#include <stdlib.h>
#include "unit.h"
#include "core/core.h"
#include "formats/filter.h"
#include "store/search_sql.h"
#include "base/buf.h"
#include "base/xmalloc.h"

static cairn_ctx *ctx_new(void)
{
    return cairn_ctx_new();
}

/* Released by hand (the context has no store), so the test needs no store module. */
static void ctx_free(cairn_ctx *ctx)
{
    cn_buf_release(&ctx->err);
    free(ctx);
}

static size_t count_marks(const char *sql)
{
    size_t n = 0;
    for (; *sql; sql++)
        n += *sql == '?';
    return n;
}

/* Compiles a runs/experiments filter and checks the SQL text exactly. */
static void check_sql(cn_search_target t, const char *filter, const char *want, cn_sql *out)
{
    cairn_ctx *ctx = ctx_new();
    cn_sql_init(out);
    cairn_status rc = cn_search_where_compile(ctx, t, filter, filter ? strlen(filter) : 0, out);
    if (rc != CAIRN_OK)
        fprintf(stderr, "# filter <%s>: %s\n", filter, cairn_errmsg(ctx));
    CHECK(rc == CAIRN_OK);
    CHECK_STR(cn_buf_str(&out->sql), want);
    CHECK(count_marks(cn_buf_str(&out->sql)) == out->n_args);
    ctx_free(ctx);
}

static void check_err(cn_search_target t, const char *filter, cairn_status want_rc,
                      const char *want_msg)
{
    cairn_ctx *ctx = ctx_new();
    cn_sql s;
    cn_sql_init(&s);
    cairn_status rc = cn_search_where_compile(ctx, t, filter, strlen(filter), &s);
    CHECK(rc == want_rc);
    if (!strstr(cairn_errmsg(ctx), want_msg)) {
        unit_failed = 1;
        fprintf(stderr, "# filter <%s>: message '%s' lacks '%s'\n", filter, cairn_errmsg(ctx),
                want_msg);
    }
    CHECK(s.sql.len == 0 && s.n_args == 0);
    cn_sql_release(&s);
    ctx_free(ctx);
}

static void check_order_err(cn_search_target t, const char *entry, const char *want_msg)
{
    cairn_ctx *ctx = ctx_new();
    cn_sql joins;
    cn_buf order = CN_BUF_INIT;
    cn_sql_init(&joins);
    const char *list[] = {t == CN_SEARCH_RUNS ? "start_time" : "name", entry};
    CHECK(cn_search_order_compile(ctx, t, list, 2, &joins, &order) == CAIRN_EINVAL);
    if (!strstr(cairn_errmsg(ctx), want_msg)) {
        unit_failed = 1;
        fprintf(stderr, "# order <%s>: message '%s' lacks '%s'\n", entry, cairn_errmsg(ctx),
                want_msg);
    }
    CHECK(joins.sql.len == 0 && joins.n_args == 0 && order.len == 0);
    cn_sql_release(&joins);
    cn_buf_release(&order);
    ctx_free(ctx);
}

#define METRIC_PRE                                                                                 \
    "EXISTS (SELECT 1 FROM latest_metrics m WHERE m.run_uuid = r.run_uuid AND "                    \
    "m.key = ? AND m.is_nan = 0 AND "
#define PARAM_PRE "EXISTS (SELECT 1 FROM params p WHERE p.run_uuid = r.run_uuid AND p.key = ? AND "
#define TAG_PRE "EXISTS (SELECT 1 FROM tags t WHERE t.run_uuid = r.run_uuid AND t.key = ? AND "
#define DATASET_PRE                                                                                \
    "EXISTS (SELECT 1 FROM inputs i JOIN datasets d ON d.dataset_uuid = "                          \
    "i.dataset_uuid WHERE i.run_uuid = r.run_uuid AND "

TEST(empty_filter_is_true)
{
    cn_sql s;
    check_sql(CN_SEARCH_RUNS, "", "1 = 1", &s);
    CHECK(s.n_args == 0);
    cn_sql_release(&s);
    check_sql(CN_SEARCH_RUNS, " \t\n ", "1 = 1", &s);
    cn_sql_release(&s);
    check_sql(CN_SEARCH_EXPERIMENTS, NULL, "1 = 1", &s);
    cn_sql_release(&s);
}

TEST(metric_clause)
{
    cn_sql s;
    check_sql(CN_SEARCH_RUNS, "metrics.acc > 0.9", "(" METRIC_PRE "m.value > ?))", &s);
    CHECK(s.n_args == 2);
    CHECK(s.args[0].type == CN_SQLARG_TEXT);
    CHECK_STR(s.args[0].text, "acc");
    CHECK(s.args[1].type == CN_SQLARG_REAL);
    CHECK(s.args[1].d == 0.9);
    cn_sql_release(&s);

    check_sql(CN_SEARCH_RUNS, "metric.`val/loss avg` <= -1.5e-3", "(" METRIC_PRE "m.value <= ?))",
              &s);
    CHECK_STR(s.args[0].text, "val/loss avg");
    CHECK(s.args[1].d == -1.5e-3);
    cn_sql_release(&s);

    const char *ops[][2] = {{"=", "="}, {"!=", "<>"}, {"<", "<"}, {">=", ">="}};
    for (size_t k = 0; k < 4; k++) {
        char f[64], want[256];
        snprintf(f, sizeof f, "metrics.x%s+2", ops[k][0]);
        snprintf(want, sizeof want, "(" METRIC_PRE "m.value %s ?))", ops[k][1]);
        check_sql(CN_SEARCH_RUNS, f, want, &s);
        CHECK(s.args[1].d == 2.0);
        cn_sql_release(&s);
    }
    check_sql(CN_SEARCH_RUNS, "metrics.\"a b\" = .5", "(" METRIC_PRE "m.value = ?))", &s);
    CHECK_STR(s.args[0].text, "a b");
    CHECK(s.args[1].d == 0.5);
    cn_sql_release(&s);
    check_sql(CN_SEARCH_RUNS, "`metrics`.'k''q' = 7.", "(" METRIC_PRE "m.value = ?))", &s);
    CHECK_STR(s.args[0].text, "k'q");
    CHECK(s.args[1].d == 7.0);
    cn_sql_release(&s);
    /* Unquoted keys may hold dots, slashes, dashes and colons. */
    check_sql(CN_SEARCH_RUNS, "METRICS.train/loss-2.x:y>1", "(" METRIC_PRE "m.value > ?))", &s);
    CHECK_STR(s.args[0].text, "train/loss-2.x:y");
    cn_sql_release(&s);
}

TEST(param_and_tag_clauses)
{
    cn_sql s;
    check_sql(CN_SEARCH_RUNS, "params.opt = 'adam'", "(" PARAM_PRE "p.value = ?))", &s);
    CHECK_STR(s.args[0].text, "opt");
    CHECK_STR(s.args[1].text, "adam");
    cn_sql_release(&s);
    check_sql(CN_SEARCH_RUNS, "parameter.opt like 'ad%'",
              "(" PARAM_PRE "p.value LIKE ? ESCAPE '\\'))", &s);
    CHECK_STR(s.args[1].text, "ad%");
    cn_sql_release(&s);
    check_sql(CN_SEARCH_RUNS, "param.opt ILike \"AD%\"",
              "(" PARAM_PRE "LOWER(p.value) LIKE LOWER(?) ESCAPE '\\'))", &s);
    CHECK_STR(s.args[1].text, "AD%");
    cn_sql_release(&s);
    check_sql(CN_SEARCH_RUNS, "parameters.opt not   in ('a', \"b\",'c')",
              "(" PARAM_PRE "p.value NOT IN (?, ?, ?)))", &s);
    CHECK(s.n_args == 4);
    CHECK_STR(s.args[3].text, "c");
    cn_sql_release(&s);
    check_sql(CN_SEARCH_RUNS, "tags.`mlflow.user` != 'it''s \"x\"'", "(" TAG_PRE "t.value <> ?))",
              &s);
    CHECK_STR(s.args[0].text, "mlflow.user");
    CHECK_STR(s.args[1].text, "it's \"x\"");
    cn_sql_release(&s);
    /* Backslash escapes: \' and \\ stand for themselves, other backslashes stay. */
    check_sql(CN_SEARCH_RUNS, "tag.k = 'a\\'b\\\\c\\%'", "(" TAG_PRE "t.value = ?))", &s);
    CHECK_STR(s.args[1].text, "a'b\\c\\%");
    cn_sql_release(&s);
    check_sql(CN_SEARCH_RUNS, "tag.k IN ('x')", "(" TAG_PRE "t.value IN (?)))", &s);
    cn_sql_release(&s);
}

TEST(attribute_clauses)
{
    cn_sql s;
    check_sql(CN_SEARCH_RUNS, "status = 'FINISHED'", "(r.status = ?)", &s);
    CHECK_STR(s.args[0].text, "FINISHED");
    cn_sql_release(&s);
    check_sql(CN_SEARCH_RUNS, "attributes.run_id IN ('a', 'b')", "(r.run_uuid IN (?, ?))", &s);
    cn_sql_release(&s);
    check_sql(CN_SEARCH_RUNS, "`Run Name` ILIKE '%x%'", "(LOWER(r.name) LIKE LOWER(?) ESCAPE '\\')",
              &s);
    cn_sql_release(&s);
    check_sql(CN_SEARCH_RUNS, "run.`run name` = 'x' and attr.\"Run name\" = 'y'",
              "(r.name = ? AND r.name = ?)", &s);
    cn_sql_release(&s);
    check_sql(CN_SEARCH_RUNS, "artifact_uri LIKE 'file:%' AND user_id != 'bob'",
              "(r.artifact_uri LIKE ? ESCAPE '\\' AND r.user_id <> ?)", &s);
    cn_sql_release(&s);
    check_sql(CN_SEARCH_RUNS, "start_time >= 1700000000000", "(r.start_time >= ?)", &s);
    CHECK(s.args[0].type == CN_SQLARG_INT);
    CHECK(s.args[0].i == 1700000000000);
    cn_sql_release(&s);
    check_sql(CN_SEARCH_RUNS, "created < 1.7e12 AND Created > -5 AND end_time != 3",
              "(r.start_time < ? AND r.start_time > ? AND r.end_time <> ?)", &s);
    CHECK(s.args[0].i == 1700000000000 && s.args[1].i == -5 && s.args[2].i == 3);
    cn_sql_release(&s);
    check_sql(CN_SEARCH_RUNS, "run_id NOT IN ('a')", "(r.run_uuid NOT IN (?))", &s);
    cn_sql_release(&s);
}

TEST(dataset_clauses)
{
    cn_sql s;
    check_sql(CN_SEARCH_RUNS, "dataset.name = 'train'", "(" DATASET_PRE "d.name = ?))", &s);
    CHECK(s.n_args == 1);
    cn_sql_release(&s);
    check_sql(CN_SEARCH_RUNS, "datasets.digest IN ('a','b') AND dataset.context LIKE 'tr%'",
              "(" DATASET_PRE "d.digest IN (?, ?)) AND " DATASET_PRE
              "i.context LIKE ? ESCAPE '\\'))",
              &s);
    cn_sql_release(&s);
}

TEST(and_or_parentheses)
{
    cn_sql s;
    check_sql(CN_SEARCH_RUNS, "status = 'a' OR status = 'b' AND status = 'c'",
              "(r.status = ? OR r.status = ? AND r.status = ?)", &s);
    cn_sql_release(&s);
    check_sql(CN_SEARCH_RUNS, "(status = 'a' OR status = 'b') AND status = 'c'",
              "((r.status = ? OR r.status = ?) AND r.status = ?)", &s);
    CHECK_STR(s.args[0].text, "a");
    CHECK_STR(s.args[2].text, "c");
    cn_sql_release(&s);
    check_sql(CN_SEARCH_RUNS, "((((status = 'a'))))", "(r.status = ?)", &s);
    cn_sql_release(&s);
    check_sql(CN_SEARCH_RUNS,
              "status='a' AND (status='b' OR (status='c' AND status='d')) AND status='e'",
              "(r.status = ? AND (r.status = ? OR r.status = ? AND r.status = ?) AND "
              "r.status = ?)",
              &s);
    for (size_t k = 0; k < 5; k++)
        CHECK(s.args[k].text[0] == (char)('a' + k));
    cn_sql_release(&s);
}

TEST(experiment_filters)
{
    cn_sql s;
    check_sql(CN_SEARCH_EXPERIMENTS, "name LIKE 'exp%' AND tags.team = 'x'",
              "(e.name LIKE ? ESCAPE '\\' AND EXISTS (SELECT 1 FROM experiment_tags t WHERE "
              "t.experiment_id = e.experiment_id AND t.key = ? AND t.value = ?))",
              &s);
    cn_sql_release(&s);
    check_sql(CN_SEARCH_EXPERIMENTS, "creation_time > 5 OR attribute.last_update_time <= 6",
              "(e.creation_time > ? OR e.last_update_time <= ?)", &s);
    CHECK(s.args[0].type == CN_SQLARG_INT && s.args[1].i == 6);
    cn_sql_release(&s);
}

TEST(appends_to_existing_sql)
{
    cairn_ctx *ctx = ctx_new();
    cn_sql s;
    cn_sql_init(&s);
    cn_buf_puts(&s.sql, "r.experiment_id = ? AND ");
    cn_sql_add_int(&s, 7);
    CHECK(cn_search_where_compile(ctx, CN_SEARCH_RUNS, "status = 'X'", 12, &s) == CAIRN_OK);
    CHECK_STR(cn_buf_str(&s.sql), "r.experiment_id = ? AND (r.status = ?)");
    CHECK(s.n_args == 2 && s.args[0].i == 7);
    CHECK_STR(s.args[1].text, "X");
    /* A failure leaves it as it was. */
    CHECK(cn_search_where_compile(ctx, CN_SEARCH_RUNS, "status = 1", 10, &s) == CAIRN_EINVAL);
    CHECK_STR(cn_buf_str(&s.sql), "r.experiment_id = ? AND (r.status = ?)");
    CHECK(s.n_args == 2);
    /* Text need not be NUL-terminated. */
    cn_buf_clear(&s.sql);
    s.n_args = 0;
    CHECK(cn_search_where_compile(ctx, CN_SEARCH_RUNS, "status = 'Y' garbage", 12, &s) == CAIRN_OK);
    CHECK_STR(s.args[0].text, "Y");
    cn_sql_release(&s);
    ctx_free(ctx);
}

TEST(syntax_errors)
{
    const cn_search_target R = CN_SEARCH_RUNS;
    check_err(R, "metrics.acc foo 1", CAIRN_EINVAL,
              "invalid filter at character 13: expected a comparator after 'metrics.acc', got "
              "'foo'");
    check_err(R, "metrics.val loss > 1", CAIRN_EINVAL,
              "expected a comparator after 'metrics.val', got 'loss'");
    check_err(R, "metrics.acc", CAIRN_EINVAL, "got end of input");
    check_err(R, "metrics.acc == 1", CAIRN_EINVAL,
              "at character 13: '==' is not a comparator; equality is a single '='");
    check_err(R, "metrics.acc =< 1", CAIRN_EINVAL,
              "at character 14: unexpected character after comparator '='");
    check_err(R, "metrics.acc <> 1", CAIRN_EINVAL, "unexpected character after comparator '<'");
    check_err(R, "metrics.acc ! 1", CAIRN_EINVAL, "got '!'");
    check_err(R, "params.a NOT LIKE 'x'", CAIRN_EINVAL,
              "at character 14: expected IN after NOT, got 'LIKE'");
    check_err(R, "params.a = 'x", CAIRN_EINVAL,
              "at character 12: unterminated string 'x (close it with ')");
    check_err(R, "params.a = 'x' OR", CAIRN_EINVAL,
              "at character 18: expected an identifier such as metrics.acc or status, got end "
              "of input");
    check_err(R, "params.a = 'x' AND AND", CAIRN_EINVAL,
              "at character 20: unknown attribute 'AND'");
    check_err(R, "(params.a = 'x'", CAIRN_EINVAL,
              "at character 16: expected AND, OR or ')' to close the '(' at character 1, got "
              "end of input");
    check_err(R, "params.a = 'x')", CAIRN_EINVAL, "at character 15: unmatched ')'");
    check_err(R, "()", CAIRN_EINVAL, "at character 2: expected an identifier");
    check_err(R, "params.a = 'x' params.b = 'y'", CAIRN_EINVAL,
              "at character 16: expected AND, OR or the end of the filter, got 'params.b'");
    check_err(R, "params.a = 'x' ANDparams.b = 'y'", CAIRN_EINVAL, "got 'ANDparams.b'");
    check_err(R, "params.a IN ()", CAIRN_EINVAL, "at character 14: empty list after IN");
    check_err(R, "params.a IN ('x' 'y')", CAIRN_EINVAL,
              "at character 18: expected ',' or ')' in the list after IN, got 'y'");
    check_err(R, "params.a IN ('x',)", CAIRN_EINVAL, "expected a quoted string for 'params.a'");
    check_err(R, "params.a IN 'x'", CAIRN_EINVAL, "expected '(' after IN, got 'x'");
    check_err(R, "params.a IN ('x'", CAIRN_EINVAL, "got end of input");
    check_err(R, "params.a = ('x')", CAIRN_EINVAL, "a list needs IN or NOT IN, not '='");
    check_err(R, "params.a = `x`", CAIRN_EINVAL,
              "expected a quoted string for 'params.a', got `x`");
    check_err(R, "metrics. = 1", CAIRN_EINVAL,
              "at character 9: expected a key after 'metrics.', got '='");
    check_err(R, "metrics.`` = 1", CAIRN_EINVAL, "at character 9: empty key in 'metrics.``'");
    check_err(R, "`` = 1", CAIRN_EINVAL, "at character 1: empty identifier");
    check_err(R, "= 1", CAIRN_EINVAL, "at character 1: expected an identifier");
}

TEST(rule_errors)
{
    const cn_search_target R = CN_SEARCH_RUNS;
    check_err(R, "params.lr > '1'", CAIRN_EINVAL,
              "at character 11: comparator '>' is not allowed for params (use = != LIKE ILIKE "
              "IN NOT IN)");
    check_err(R, "tags.x <= 'a'", CAIRN_EINVAL, "comparator '<=' is not allowed for tags");
    check_err(R, "metrics.acc LIKE '1'", CAIRN_EINVAL,
              "comparator 'LIKE' is not allowed for metrics (use = != < <= > >=)");
    check_err(R, "metrics.acc IN ('1')", CAIRN_EINVAL,
              "comparator 'IN' is not allowed for metrics");
    check_err(R, "start_time ilike '1'", CAIRN_EINVAL,
              "comparator 'ILIKE' is not allowed for attribute 'start_time'");
    check_err(R, "status > 'a'", CAIRN_EINVAL,
              "comparator '>' is not allowed for attribute 'status'");
    check_err(R, "dataset.name < 'a'", CAIRN_EINVAL, "not allowed for dataset fields");
    check_err(R, "metrics.acc > '0.9'", CAIRN_EINVAL,
              "at character 15: expected a number for 'metrics.acc' (numbers are not quoted), "
              "got '0.9'");
    check_err(R, "metrics.acc > abc", CAIRN_EINVAL,
              "expected a number for 'metrics.acc', got 'abc'");
    check_err(R, "metrics.acc > 1.2.3", CAIRN_EINVAL, "got '1.2.3'");
    check_err(R, "metrics.acc > 1e", CAIRN_EINVAL, "got '1e'");
    check_err(R, "metrics.acc > -", CAIRN_EINVAL, "got '-'");
    check_err(R, "metrics.acc > nan", CAIRN_EINVAL, "got 'nan'");
    check_err(R, "metrics.acc > 1e999", CAIRN_EINVAL, "number '1e999' is out of range");
    check_err(R, "params.lr = 0.01", CAIRN_EINVAL,
              "expected a quoted string for 'params.lr' (quote the value: '...'), got '0.01'");
    check_err(R, "status = FINISHED", CAIRN_EINVAL,
              "expected a quoted string for 'status', got 'FINISHED'");
    check_err(R, "start_time > 1.5", CAIRN_EINVAL,
              "'start_time' needs a whole number of milliseconds, got '1.5'");
    check_err(R, "end_time > 1e30", CAIRN_EINVAL, "needs a whole number");
    check_err(R, "start_time > '5'", CAIRN_EINVAL, "expected a number for 'start_time'");
    check_err(R, "foo.bar = 'x'", CAIRN_EINVAL,
              "at character 1: unknown entity type 'foo' in 'foo.bar' (use metrics, params, "
              "tags, attributes or datasets)");
    check_err(R, "nosuch = 'x'", CAIRN_EINVAL, "unknown attribute 'nosuch' (use run_id, run_name");
    check_err(R, "attributes.nosuch = 'x'", CAIRN_EINVAL,
              "at character 12: unknown attribute 'nosuch'");
    check_err(R, "dataset.foo = 'x'", CAIRN_EINVAL,
              "at character 9: unknown dataset field 'foo' (use name, digest, context)");
    check_err(R, "params.a LIKE 'x\\\\'", CAIRN_EINVAL,
              "LIKE pattern 'x\\\\' ends with the escape character");
    check_err(R, "params.a ILIKE 'x\\'", CAIRN_EINVAL, "unterminated string");
    const cn_search_target E = CN_SEARCH_EXPERIMENTS;
    check_err(E, "metrics.acc > 1", CAIRN_EINVAL,
              "'metrics.acc' cannot be used for experiments (use name, creation_time, "
              "last_update_time or tags.<key>)");
    check_err(E, "status = 'x'", CAIRN_EINVAL,
              "unknown attribute 'status' (use name, creation_time, last_update_time, "
              "tags.<key>)");
    check_err(E, "experiment_id = 1", CAIRN_EINVAL, "unknown attribute 'experiment_id'");
    check_err(E, "name > 'a'", CAIRN_EINVAL, "comparator '>' is not allowed for attribute 'name'");
    check_err(E, "creation_time = 'a'", CAIRN_EINVAL, "expected a number for 'creation_time'");
}

TEST(bad_bytes_and_positions)
{
    cairn_ctx *ctx = ctx_new();
    cn_sql s;
    cn_sql_init(&s);
    const char nul[] = "params.a = 'x\0y'";
    CHECK(cn_search_where_compile(ctx, CN_SEARCH_RUNS, nul, sizeof nul - 1, &s) == CAIRN_EINVAL);
    CHECK(strstr(cairn_errmsg(ctx), "at character 14: NUL byte") != NULL);
    CHECK(cn_search_where_compile(ctx, CN_SEARCH_RUNS, "params.a = '\xff'", 14, &s) ==
          CAIRN_EINVAL);
    CHECK(strstr(cairn_errmsg(ctx), "at character 13: invalid UTF-8 byte 0xff") != NULL);
    CHECK(cn_search_where_compile(ctx, CN_SEARCH_RUNS, "tags.a = '\xed\xa0\x80'", 13, &s) ==
          CAIRN_EINVAL);
    CHECK(strstr(cairn_errmsg(ctx), "invalid UTF-8 sequence") != NULL);
    CHECK(cn_search_where_compile(ctx, CN_SEARCH_RUNS, "tags.a = '\xc3", 11, &s) == CAIRN_EINVAL);
    CHECK(strstr(cairn_errmsg(ctx), "truncated UTF-8") != NULL);
    /* Positions count characters, not bytes: "é" is one. */
    const char *f = "tags.`\xc3\xa9t\xc3\xa9` = 'x' foo";
    CHECK(cn_search_where_compile(ctx, CN_SEARCH_RUNS, f, strlen(f), &s) == CAIRN_EINVAL);
    CHECK(strstr(cairn_errmsg(ctx), "at character 18: expected AND, OR or the end of the filter, "
                                    "got 'foo'") != NULL);
    /* Control bytes are shown escaped, long tokens cut. */
    f = "\x01x = 'a'";
    CHECK(cn_search_where_compile(ctx, CN_SEARCH_RUNS, f, strlen(f), &s) == CAIRN_EINVAL);
    CHECK(strstr(cairn_errmsg(ctx), "got '\\x01x'") != NULL);
    f = "status = 'a' aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    CHECK(cn_search_where_compile(ctx, CN_SEARCH_RUNS, f, strlen(f), &s) == CAIRN_EINVAL);
    CHECK(strstr(cairn_errmsg(ctx), "got 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...'") != NULL);
    CHECK(s.sql.len == 0 && s.n_args == 0);
    cn_sql_release(&s);
    ctx_free(ctx);
}

TEST(limits)
{
    cairn_ctx *ctx = ctx_new();
    cn_sql s;
    cn_buf f = CN_BUF_INIT;
    cn_sql_init(&s);

    for (int k = 0; k < CN_FILTER_MAX_DEPTH; k++)
        cn_buf_putc(&f, '(');
    cn_buf_puts(&f, "status = 'a'");
    for (int k = 0; k < CN_FILTER_MAX_DEPTH; k++)
        cn_buf_putc(&f, ')');
    CHECK(cn_search_where_compile(ctx, CN_SEARCH_RUNS, f.data, f.len, &s) == CAIRN_OK);
    CHECK_STR(cn_buf_str(&s.sql), "(r.status = ?)");
    cn_sql_release(&s);
    cn_buf_clear(&f);
    for (int k = 0; k <= CN_FILTER_MAX_DEPTH; k++)
        cn_buf_putc(&f, '(');
    cn_buf_puts(&f, "status = 'a'");
    CHECK(cn_search_where_compile(ctx, CN_SEARCH_RUNS, f.data, f.len, &s) == CAIRN_ELIMIT);
    CHECK(strstr(cairn_errmsg(ctx), "at character 101: parentheses nested deeper than 100"));

    cn_buf_clear(&f);
    for (int k = 0; k < CN_FILTER_MAX_CLAUSES; k++)
        cn_buf_printf(&f, "%smetrics.m%d > %d", k ? (k % 2 ? " OR " : " AND ") : "", k, k);
    CHECK(cn_search_where_compile(ctx, CN_SEARCH_RUNS, f.data, f.len, &s) == CAIRN_OK);
    CHECK(s.n_args == 2 * CN_FILTER_MAX_CLAUSES);
    CHECK(count_marks(cn_buf_str(&s.sql)) == s.n_args);
    cn_sql_release(&s);
    cn_buf_puts(&f, " AND status = 'x'");
    CHECK(cn_search_where_compile(ctx, CN_SEARCH_RUNS, f.data, f.len, &s) == CAIRN_ELIMIT);
    CHECK(strstr(cairn_errmsg(ctx), "more than 1000 comparisons"));

    cn_buf_clear(&f);
    cn_buf_puts(&f, "run_id IN (");
    for (int k = 0; k < CN_FILTER_MAX_IN_ITEMS; k++)
        cn_buf_printf(&f, "%s'%d'", k ? "," : "", k);
    cn_buf_puts(&f, ")");
    CHECK(cn_search_where_compile(ctx, CN_SEARCH_RUNS, f.data, f.len, &s) == CAIRN_OK);
    CHECK(s.n_args == CN_FILTER_MAX_IN_ITEMS);
    CHECK_STR(s.args[CN_FILTER_MAX_IN_ITEMS - 1].text, "9999");
    cn_sql_release(&s);
    cn_buf_puts(&f, " OR run_id IN ('x')");
    CHECK(cn_search_where_compile(ctx, CN_SEARCH_RUNS, f.data, f.len, &s) == CAIRN_ELIMIT);
    CHECK(strstr(cairn_errmsg(ctx), "more than 10000 values in IN lists"));

    cn_buf_clear(&f);
    cn_buf_puts(&f, "status = '");
    while (f.len <= CN_FILTER_MAX_LEN)
        cn_buf_puts(&f, "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
    cn_buf_puts(&f, "'");
    CHECK(cn_search_where_compile(ctx, CN_SEARCH_RUNS, f.data, f.len, &s) == CAIRN_ELIMIT);
    CHECK(strstr(cairn_errmsg(ctx), "longer than"));
    CHECK(s.sql.len == 0 && s.n_args == 0);
    cn_sql_release(&s);
    cn_buf_release(&f);
    ctx_free(ctx);
}

static void check_order(cn_search_target t, const char *const *list, size_t n,
                        const char *want_joins, const char *want_order, cn_sql *joins)
{
    cairn_ctx *ctx = ctx_new();
    cn_buf order = CN_BUF_INIT;
    cn_sql_init(joins);
    cairn_status rc = cn_search_order_compile(ctx, t, list, n, joins, &order);
    if (rc != CAIRN_OK)
        fprintf(stderr, "# order: %s\n", cairn_errmsg(ctx));
    CHECK(rc == CAIRN_OK);
    CHECK_STR(cn_buf_str(&joins->sql), want_joins);
    CHECK_STR(cn_buf_str(&order), want_order);
    CHECK(count_marks(cn_buf_str(&joins->sql)) == joins->n_args);
    CHECK(count_marks(cn_buf_str(&order)) == 0);
    cn_buf_release(&order);
    ctx_free(ctx);
}

TEST(order_sql)
{
    cn_sql j;
    check_order(CN_SEARCH_RUNS, NULL, 0, "", "r.start_time DESC, r.run_uuid ASC", &j);
    cn_sql_release(&j);
    const char *a[] = {"metrics.`val loss` desc", "params.opt", "tag.t ASC", "end_time DESC",
                       "attributes.`Run name`",   "created"};
    check_order(CN_SEARCH_RUNS, a, 6,
                " LEFT JOIN latest_metrics o0 ON o0.run_uuid = r.run_uuid AND o0.key = ?"
                " LEFT JOIN params o1 ON o1.run_uuid = r.run_uuid AND o1.key = ?"
                " LEFT JOIN tags o2 ON o2.run_uuid = r.run_uuid AND o2.key = ?",
                "CASE WHEN o0.run_uuid IS NULL THEN 2 WHEN o0.is_nan = 1 THEN 1 ELSE 0 END, "
                "o0.value DESC, CASE WHEN o1.run_uuid IS NULL THEN 1 ELSE 0 END, o1.value ASC, "
                "CASE WHEN o2.run_uuid IS NULL THEN 1 ELSE 0 END, o2.value ASC, "
                "CASE WHEN r.end_time IS NULL THEN 1 ELSE 0 END, r.end_time DESC, r.name ASC, "
                "r.start_time ASC, r.start_time DESC, r.run_uuid ASC",
                &j);
    CHECK(j.n_args == 3);
    CHECK_STR(j.args[0].text, "val loss");
    CHECK_STR(j.args[1].text, "opt");
    CHECK_STR(j.args[2].text, "t");
    cn_sql_release(&j);
    check_order(CN_SEARCH_EXPERIMENTS, NULL, 0, "", "e.creation_time DESC, e.experiment_id ASC",
                &j);
    cn_sql_release(&j);
    const char *e[] = {"name", "last_update_time DESC", "experiment_id"};
    check_order(CN_SEARCH_EXPERIMENTS, e, 3, "",
                "e.name ASC, e.last_update_time DESC, e.experiment_id ASC, e.experiment_id ASC",
                &j);
    cn_sql_release(&j);
}

TEST(order_errors)
{
    check_order_err(CN_SEARCH_RUNS, "metrics.acc DOWN",
                    "invalid order_by 'metrics.acc DOWN' at character 13: expected ASC or DESC "
                    "after 'metrics.acc', got 'DOWN'");
    check_order_err(CN_SEARCH_RUNS, "metrics.acc DESC ASC",
                    "at character 18: expected ASC or DESC");
    check_order_err(CN_SEARCH_RUNS, "dataset.name", "cannot order by 'dataset.name'");
    check_order_err(CN_SEARCH_RUNS, "  ", "at character 3: empty entry");
    check_order_err(CN_SEARCH_RUNS, "nosuch", "unknown attribute 'nosuch' (use run_id");
    check_order_err(CN_SEARCH_RUNS, "experiment_id", "unknown attribute 'experiment_id'");
    check_order_err(CN_SEARCH_RUNS, "metrics.`x", "unterminated string");
    check_order_err(CN_SEARCH_EXPERIMENTS, "tags.x", "cannot order experiments by 'tags.x'");
    check_order_err(CN_SEARCH_EXPERIMENTS, "status",
                    "unknown attribute 'status' (use name, "
                    "experiment_id, creation_time");
    check_order_err(CN_SEARCH_EXPERIMENTS, "metrics.acc", "cannot be used for experiments");

    cairn_ctx *ctx = ctx_new();
    cn_sql joins;
    cn_buf order = CN_BUF_INIT;
    cn_sql_init(&joins);
    const char *many[CN_ORDER_MAX_KEYS + 1];
    for (size_t k = 0; k <= CN_ORDER_MAX_KEYS; k++)
        many[k] = "metrics.a";
    CHECK(cn_search_order_compile(ctx, CN_SEARCH_RUNS, many, CN_ORDER_MAX_KEYS + 1, &joins,
                                  &order) == CAIRN_ELIMIT);
    CHECK(cn_search_order_compile(ctx, CN_SEARCH_RUNS, many, CN_ORDER_MAX_KEYS, &joins, &order) ==
          CAIRN_OK);
    CHECK(joins.n_args == CN_ORDER_MAX_KEYS);
    const char *null_entry[] = {NULL};
    cn_buf_clear(&order);
    CHECK(cn_search_order_compile(ctx, CN_SEARCH_RUNS, null_entry, 1, &joins, &order) ==
          CAIRN_EINVAL);
    CHECK(order.len == 0 && joins.n_args == CN_ORDER_MAX_KEYS);
    cn_sql_release(&joins);
    cn_buf_release(&order);
    ctx_free(ctx);
}

/* ---- the parser alone, with a grammar of its own ---- */

/* What a registered-model-versions search might allow: attributes and tags, nothing else. */
enum { MV_NAME, MV_VERSION, MV_RUN_ID, MV_SOURCE };
static const cn_filter_field mv_attrs[] = {
    {"name", CN_FILTER_STRING, true, MV_NAME},
    {"version_number", CN_FILTER_MS, true, MV_VERSION},
    {"run_id", CN_FILTER_STRING, true, MV_RUN_ID},
    {"source_path", CN_FILTER_STRING, false, MV_SOURCE},
};
static const cn_filter_grammar mv_grammar = {
    .target = "model versions",
    .kinds = CN_FILTER_BIT(CN_FILTER_TAG) | CN_FILTER_BIT(CN_FILTER_ATTR),
    .order_kinds = CN_FILTER_BIT(CN_FILTER_ATTR),
    .order_names_target = true,
    .attrs = mv_attrs,
    .n_attrs = CN_ARRAY_LEN(mv_attrs),
    .attrs_hint = "name, version_number, run_id, tags.<key>",
    .order_attrs_hint = "name, version_number, run_id, source_path",
    .unusable_hint = "name, version_number, run_id or tags.<key>",
    .dataset_hint = "",
    .order_hint = "name, version_number, run_id, source_path",
};

static void check_parse_err(const cn_filter_grammar *g, const char *filter, const char *want_msg)
{
    cairn_ctx *ctx = ctx_new();
    cn_filter *f = (cn_filter *)1;
    CHECK(cn_filter_parse(ctx, g, filter, strlen(filter), &f) == CAIRN_EINVAL);
    CHECK(f == NULL);
    if (!strstr(cairn_errmsg(ctx), want_msg)) {
        unit_failed = 1;
        fprintf(stderr, "# filter <%s>: message '%s' lacks '%s'\n", filter, cairn_errmsg(ctx),
                want_msg);
    }
    ctx_free(ctx);
}

TEST(parser_takes_the_callers_grammar)
{
    cairn_ctx *ctx = ctx_new();
    cn_filter *f = NULL;
    const char *text = "name = 'm' AND (version_number >= 3 OR tags.stage IN ('prod', 'qa'))";
    CHECK(cn_filter_parse(ctx, &mv_grammar, text, strlen(text), &f) == CAIRN_OK);
    const cn_filter_node *all = f->root;
    CHECK(all->kind == CN_FILTER_AND);
    const cn_filter_node *name = all->first, *either = name->next;
    CHECK(name->kind == CN_FILTER_CLAUSE && name->id.kind == CN_FILTER_ATTR);
    CHECK(name->id.field->id == MV_NAME && name->cmp == CN_FILTER_EQ);
    CHECK(name->val.kind == CN_FILTER_VAL_STRING);
    CHECK_STR(name->val.s, "m");
    CHECK(either->kind == CN_FILTER_OR && either->next == NULL);
    const cn_filter_node *version = either->first, *stage = version->next;
    CHECK(version->id.field->id == MV_VERSION && version->cmp == CN_FILTER_GE);
    CHECK(version->val.kind == CN_FILTER_VAL_INT && version->val.i == 3);
    CHECK(stage->id.kind == CN_FILTER_TAG && stage->cmp == CN_FILTER_IN);
    CHECK_STR(stage->id.key, "stage");
    CHECK(stage->val.kind == CN_FILTER_VAL_LIST);
    CHECK_STR(stage->val.items->s, "prod");
    CHECK_STR(stage->val.items->next->s, "qa");
    CHECK(stage->val.items->next->next == NULL);
    cn_filter_free(f);

    CHECK(cn_filter_parse(ctx, &mv_grammar, "  ", 2, &f) == CAIRN_OK);
    CHECK(f->root == NULL); /* blank: no tree */
    cn_filter_free(f);

    const char *list[] = {"version_number DESC", "source_path"};
    cn_order *o = NULL;
    CHECK(cn_order_parse(ctx, &mv_grammar, list, 2, &o) == CAIRN_OK);
    CHECK(o->n == 2 && o->keys[0].is_desc && !o->keys[1].is_desc);
    CHECK(o->keys[0].id.field->id == MV_VERSION && o->keys[1].id.field->id == MV_SOURCE);
    cn_order_free(o);
    const char *by_tag[] = {"tags.stage"};
    o = (cn_order *)1;
    CHECK(cn_order_parse(ctx, &mv_grammar, by_tag, 1, &o) == CAIRN_EINVAL);
    CHECK(o == NULL);
    CHECK(strstr(cairn_errmsg(ctx), "cannot order model versions by 'tags.stage'") != NULL);
    ctx_free(ctx);

    check_parse_err(&mv_grammar, "metrics.acc > 1",
                    "'metrics.acc' cannot be used for model versions (use name, version_number, "
                    "run_id or tags.<key>)");
    check_parse_err(&mv_grammar, "source_path = 'x'", "unknown attribute 'source_path'");
    check_parse_err(&mv_grammar, "version_number LIKE '1'",
                    "comparator 'LIKE' is not allowed for attribute 'version_number'");
    check_parse_err(&mv_grammar, "name > 'a'", "comparator '>' is not allowed for attribute");
}

/* ---- against a real SQLite database ---- */

static sqlite3 *db;

static void exec_sql(const char *sql)
{
    char *err = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK) {
        fprintf(stderr, "# sqlite: %s\n", err ? err : "?");
        unit_failed = 1;
    }
    sqlite3_free(err);
}

static void open_db(void)
{
    const char *src = getenv("CAIRN_SOURCE_DIR");
    char path[4096];
    snprintf(path, sizeof path, "%s/src/lib/store/schema/sqlite/001_init.sql", src ? src : ".");
    FILE *fp = fopen(path, "rb");
    CHECK(fp != NULL);
    if (!fp)
        exit(1);
    cn_buf schema = CN_BUF_INIT;
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, fp)) > 0)
        cn_buf_append(&schema, chunk, n);
    fclose(fp);
    CHECK(sqlite3_open(":memory:", &db) == SQLITE_OK);
    exec_sql("PRAGMA case_sensitive_like = ON");
    exec_sql(cn_buf_str(&schema));
    cn_buf_release(&schema);
    exec_sql(
        "INSERT INTO experiments VALUES (1, 'exp-a', '', 'active', 100, 500),"
        " (2, 'Exp-B', '', 'active', 200, 300), (3, 'other', '', 'active', 200, 100);"
        "INSERT INTO experiment_tags VALUES (1, 'team', 'vision'), (2, 'team', 'NLP');"
        "INSERT INTO runs (run_uuid, experiment_id, name, user_id, status, start_time, end_time,"
        " artifact_uri) VALUES"
        " ('r1', 1, 'alpha', 'ann', 'FINISHED', 1000, 2000, 'file:///a/r1'),"
        " ('r2', 1, 'beta', 'bob', 'FAILED', 2000, NULL, 's3://b/r2'),"
        " ('r3', 1, 'Alpha-2', 'ann', 'RUNNING', 3000, NULL, 'file:///a/r3'),"
        " ('r4', 1, 'gamma', 'cat', 'FINISHED', 4000, 5000, 'file:///a/r4');"
        "INSERT INTO latest_metrics VALUES ('r1', 'acc', 0.9, 1, 0, 0), ('r2', 'acc', 0.5, 1, 0, "
        "0),"
        " ('r3', 'acc', 0, 1, 0, 1), ('r1', 'val/loss avg', 0.3, 1, 0, 0),"
        " ('r2', 'val/loss avg', 0.1, 1, 0, 0);"
        "INSERT INTO params VALUES ('r1', 'opt', 'adam'), ('r1', 'lr', '0.01'),"
        " ('r2', 'opt', 'sgd'), ('r3', 'opt', 'Adam'), ('r4', 'opt', 'adamw'),"
        " ('r1', 'pct', '50x'), ('r4', 'pct', '50%');"
        "INSERT INTO tags VALUES ('r1', 'team', 'vision'), ('r2', 'team', 'nlp'),"
        " ('r3', 'stage', 'it''s');"
        "INSERT INTO datasets (dataset_uuid, experiment_id, name, digest) VALUES"
        " ('d1', 1, 'train', 'abc'), ('d2', 1, 'eval', 'def');"
        "INSERT INTO inputs VALUES ('r1', 'd1', 'training'), ('r2', 'd2', 'eval'),"
        " ('r4', 'd1', 'training');");
}

static void bind_args(sqlite3_stmt *st, const cn_sql *s, int *idx)
{
    for (size_t k = 0; k < s->n_args; k++) {
        const cn_sqlarg *a = &s->args[k];
        int rc = a->type == CN_SQLARG_TEXT
                     ? sqlite3_bind_text(st, ++*idx, a->text, -1, SQLITE_STATIC)
                 : a->type == CN_SQLARG_INT ? sqlite3_bind_int64(st, ++*idx, a->i)
                                            : sqlite3_bind_double(st, ++*idx, a->d);
        CHECK(rc == SQLITE_OK);
    }
}

/* Runs filter + order and compares the ids, comma-separated, with want. */
static void check_query(cn_search_target t, const char *filter, const char *const *order_by,
                        size_t n_order, const char *want)
{
    cairn_ctx *ctx = ctx_new();
    cn_sql where, joins;
    cn_buf order = CN_BUF_INIT, sql = CN_BUF_INIT, got = CN_BUF_INIT;
    cn_sql_init(&where);
    cn_sql_init(&joins);
    CHECK(cn_search_where_compile(ctx, t, filter, strlen(filter), &where) == CAIRN_OK);
    CHECK(cn_search_order_compile(ctx, t, order_by, n_order, &joins, &order) == CAIRN_OK);
    if (t == CN_SEARCH_RUNS)
        cn_buf_printf(&sql, "SELECT r.run_uuid FROM runs r%s WHERE %s ORDER BY %s",
                      cn_buf_str(&joins.sql), cn_buf_str(&where.sql), cn_buf_str(&order));
    else
        cn_buf_printf(&sql, "SELECT e.experiment_id FROM experiments e%s WHERE %s ORDER BY %s",
                      cn_buf_str(&joins.sql), cn_buf_str(&where.sql), cn_buf_str(&order));
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, sql.data, -1, &st, NULL) != SQLITE_OK) {
        fprintf(stderr, "# prepare: %s\n# %s\n", sqlite3_errmsg(db), sql.data);
        unit_failed = 1;
    } else {
        int idx = 0;
        bind_args(st, &joins, &idx);
        bind_args(st, &where, &idx);
        CHECK(idx == sqlite3_bind_parameter_count(st));
        int rc;
        while ((rc = sqlite3_step(st)) == SQLITE_ROW)
            cn_buf_printf(&got, "%s%s", got.len ? "," : "", sqlite3_column_text(st, 0));
        CHECK(rc == SQLITE_DONE);
    }
    sqlite3_finalize(st);
    if (strcmp(cn_buf_str(&got), want) != 0) {
        unit_failed = 1;
        fprintf(stderr, "# filter <%s>: got '%s', want '%s'\n", filter, cn_buf_str(&got), want);
    }
    cn_sql_release(&where);
    cn_sql_release(&joins);
    cn_buf_release(&order);
    cn_buf_release(&sql);
    cn_buf_release(&got);
    ctx_free(ctx);
}

#define Q(filter, want) check_query(CN_SEARCH_RUNS, filter, NULL, 0, want)

TEST(sqlite_run_filters)
{
    open_db();
    Q("", "r4,r3,r2,r1");
    Q("metrics.acc > 0.6", "r1");
    Q("metrics.acc >= 0", "r2,r1"); /* the NaN of r3 matches no comparison */
    Q("metrics.acc != 0.9", "r2");
    Q("metrics.`val/loss avg` < 0.2", "r2");
    Q("metrics.acc > 0.6 OR params.opt = 'sgd'", "r2,r1");
    Q("params.opt LIKE 'adam%'", "r4,r1"); /* case-sensitive: not 'Adam' */
    Q("params.opt ILIKE 'adam%'", "r4,r3,r1");
    Q("params.opt ILIKE 'ADAM'", "r3,r1");
    Q("params.pct LIKE '50%'", "r4,r1");
    Q("params.pct LIKE '50\\\\%'", "r4"); /* '50\\%' is the pattern 50\% */
    Q("params.pct LIKE '50\\%'", "r4");   /* an unknown escape keeps the backslash */
    Q("params.opt != 'adam'", "r4,r3,r2");
    Q("params.opt IN ('adam', 'sgd')", "r2,r1");
    Q("params.opt NOT IN ('adam', 'sgd')", "r4,r3");
    Q("params.lr = '0.01'", "r1");
    Q("(params.opt = 'adam' OR params.opt = 'sgd') AND metrics.acc < 0.8", "r2");
    Q("params.opt = 'adam' OR params.opt = 'sgd' AND metrics.acc > 0.8", "r1");
    Q("params.opt = 'sgd' OR (params.opt = 'Adam' OR tags.team = 'vision') AND run_id != 'r1'",
      "r3,r2");
    Q("tags.stage = 'it''s'", "r3");
    Q("tags.stage = \"it's\"", "r3");
    Q("tags.stage = 'it\\'s'", "r3");
    Q("tags.team LIKE '%i%'", "r1");
    Q("attributes.status IN ('FINISHED', 'FAILED')", "r4,r2,r1");
    Q("status NOT IN ('FINISHED')", "r3,r2");
    Q("run_name = 'alpha'", "r1");
    Q("`Run Name` ILIKE 'alpha%'", "r3,r1");
    Q("run_name LIKE 'alpha%'", "r1");
    Q("user_id = 'ann' AND status = 'RUNNING'", "r3");
    Q("artifact_uri LIKE 'file:%'", "r4,r3,r1");
    Q("start_time >= 2000 AND start_time < 4000", "r3,r2");
    Q("created < 2500", "r2,r1");
    Q("end_time > 1000", "r4,r1");
    Q("run_id = 'r3'", "r3");
    Q("run_id IN ('r3', 'r1', 'zz')", "r3,r1");
    Q("dataset.name = 'train'", "r4,r1");
    Q("dataset.context = 'eval'", "r2");
    Q("datasets.digest IN ('def')", "r2");
    Q("dataset.name ILIKE 'TR%' AND metrics.acc > 0", "r1");
    sqlite3_close(db);
    db = NULL;
}

TEST(sqlite_run_order)
{
    open_db();
    const char *acc_desc[] = {"metrics.acc DESC"};
    check_query(CN_SEARCH_RUNS, "", acc_desc, 1, "r1,r2,r3,r4"); /* NaN then missing last */
    const char *acc_asc[] = {"metrics.acc"};
    check_query(CN_SEARCH_RUNS, "", acc_asc, 1, "r2,r1,r3,r4");
    const char *lr[] = {"params.lr ASC"};
    check_query(CN_SEARCH_RUNS, "", lr, 1, "r1,r4,r3,r2");
    const char *lr_desc[] = {"params.lr DESC"};
    check_query(CN_SEARCH_RUNS, "", lr_desc, 1, "r1,r4,r3,r2");
    const char *end_asc[] = {"end_time ASC"};
    check_query(CN_SEARCH_RUNS, "", end_asc, 1, "r1,r4,r3,r2");
    const char *end_desc[] = {"end_time DESC"};
    check_query(CN_SEARCH_RUNS, "", end_desc, 1, "r4,r1,r3,r2");
    const char *name[] = {"run_name"};
    check_query(CN_SEARCH_RUNS, "", name, 1, "r3,r1,r2,r4");
    const char *tag_user[] = {"tags.team DESC", "user_id ASC"};
    check_query(CN_SEARCH_RUNS, "", tag_user, 2, "r1,r2,r3,r4");
    check_query(CN_SEARCH_RUNS, "params.opt ILIKE 'adam%'", acc_desc, 1, "r1,r3,r4");
    const char *two[] = {"status", "metrics.acc DESC"};
    check_query(CN_SEARCH_RUNS, "run_id != 'r9'", two, 2, "r2,r1,r4,r3");
    sqlite3_close(db);
    db = NULL;
}

TEST(sqlite_experiments)
{
    open_db();
    const cn_search_target E = CN_SEARCH_EXPERIMENTS;
    check_query(E, "", NULL, 0, "2,3,1,0");
    check_query(E, "name = 'exp-a'", NULL, 0, "1");
    check_query(E, "name LIKE 'exp%'", NULL, 0, "1");
    check_query(E, "name ILIKE 'exp%'", NULL, 0, "2,1");
    check_query(E, "tags.team = 'NLP' OR tag.team = 'vision'", NULL, 0, "2,1");
    check_query(E, "creation_time > 150", NULL, 0, "2,3");
    check_query(E, "last_update_time < 400 AND name != 'Default'", NULL, 0, "2,3");
    const char *by_name[] = {"name"};
    check_query(E, "", by_name, 1, "0,2,1,3");
    const char *by_update[] = {"last_update_time DESC"};
    check_query(E, "creation_time >= 0", by_update, 1, "1,2,3,0");
    const char *by_id[] = {"experiment_id DESC"};
    check_query(E, "", by_id, 1, "3,2,1,0");
    sqlite3_close(db);
    db = NULL;
}

UNIT_MAIN(UNIT_CASE(empty_filter_is_true), UNIT_CASE(metric_clause),
          UNIT_CASE(param_and_tag_clauses), UNIT_CASE(attribute_clauses),
          UNIT_CASE(dataset_clauses), UNIT_CASE(and_or_parentheses), UNIT_CASE(experiment_filters),
          UNIT_CASE(appends_to_existing_sql), UNIT_CASE(syntax_errors), UNIT_CASE(rule_errors),
          UNIT_CASE(bad_bytes_and_positions), UNIT_CASE(limits), UNIT_CASE(order_sql),
          UNIT_CASE(order_errors), UNIT_CASE(parser_takes_the_callers_grammar),
          UNIT_CASE(sqlite_run_filters), UNIT_CASE(sqlite_run_order), UNIT_CASE(sqlite_experiments))
