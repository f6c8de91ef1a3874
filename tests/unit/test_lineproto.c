/* SPDX-License-Identifier: MIT */
/* test_lineproto.c - the metric line protocol: every record kind, values, keys, errors and
 * the json, regex, katib and guild formats. */
#include <math.h>
#include "unit.h"
#include "runner/lineproto.h"

static cn_lp_record rec;

static const cn_lp_record *parse_fmt(const char *format, const char *line)
{
    cn_lineproto *lp = NULL;
    if (cn_lineproto_new(NULL, format, &lp) != CAIRN_OK) {
        fprintf(stderr, "# cannot compile format %s\n", format);
        exit(1);
    }
    cn_lineproto_parse(lp, line, strlen(line), &rec);
    cn_lineproto_free(lp);
    return &rec;
}

static const cn_lp_record *parse(const char *line)
{
    return parse_fmt("cairn", line);
}

TEST(intermediate_metrics_with_step)
{
    const cn_lp_record *r = parse("cairn: step=10 loss=0.51 val/acc=0.87");
    CHECK(r->is_record && !r->error);
    CHECK(r->has_step && r->step == 10);
    CHECK(r->n == 2);
    CHECK(r->items[0].kind == CN_LP_METRIC);
    CHECK_STR(r->items[0].key, "loss");
    CHECK_NEAR(r->items[0].value, 0.51, 1e-15);
    CHECK_STR(r->items[1].key, "val/acc");
    CHECK_NEAR(r->items[1].value, 0.87, 1e-15);
}

TEST(metrics_without_step_leave_it_to_the_caller)
{
    const cn_lp_record *r = parse("  cairn: loss=1");
    CHECK(r->is_record && !r->has_step && r->n == 1);
}

TEST(json_form_with_nested_kinds)
{
    const cn_lp_record *r = parse("cairn: {\"step\": 11, \"loss\": 0.49, \"acc\": \"nan\", "
                                  "\"final\": {\"best\": 1}, \"params\": {\"lr\": 0.1}, "
                                  "\"tags\": {\"t\": \"x y\"}, \"artifacts\": [\"a.bin\"]}");
    CHECK(r->is_record && !r->error);
    CHECK(r->has_step && r->step == 11);
    CHECK(r->n == 6);
    CHECK(r->items[0].kind == CN_LP_METRIC && r->items[0].value == 0.49);
    CHECK(r->items[1].kind == CN_LP_METRIC && isnan(r->items[1].value));
    CHECK(r->items[2].kind == CN_LP_FINAL);
    CHECK_STR(r->items[2].key, "best");
    CHECK(r->items[3].kind == CN_LP_PARAM);
    CHECK_STR(r->items[3].text, "0.1");
    CHECK(r->items[4].kind == CN_LP_TAG);
    CHECK_STR(r->items[4].text, "x y");
    CHECK(r->items[5].kind == CN_LP_ARTIFACT);
    CHECK_STR(r->items[5].text, "a.bin");
}

TEST(final_param_tag_artifact)
{
    const cn_lp_record *r = parse("cairn.final: val_loss=0.43");
    CHECK(r->n == 1 && r->items[0].kind == CN_LP_FINAL && r->items[0].value == 0.43);
    r = parse("cairn.param: optimizer=adam note=\"two \\\"words\\\"\"");
    CHECK(r->n == 2 && r->items[0].kind == CN_LP_PARAM);
    CHECK_STR(r->items[0].text, "adam");
    CHECK_STR(r->items[1].text, "two \"words\"");
    r = parse("cairn.tag: stage=warmup");
    CHECK(r->n == 1 && r->items[0].kind == CN_LP_TAG);
    CHECK_STR(r->items[0].key, "stage");
    r = parse("cairn.artifact: path=out/model.bin");
    CHECK(r->n == 1 && r->items[0].kind == CN_LP_ARTIFACT && !r->items[0].key);
    CHECK_STR(r->items[0].text, "out/model.bin");
    r = parse("cairn.artifact: plain/path.txt");
    CHECK(r->n == 1);
    CHECK_STR(r->items[0].text, "plain/path.txt");
}

TEST(special_values)
{
    const cn_lp_record *r = parse("cairn: a=nan b=inf c=-inf d=-1.5e-3 e=+2 f=NaN");
    CHECK(!r->error && r->n == 6);
    CHECK(isnan(r->items[0].value));
    CHECK(isinf(r->items[1].value) && r->items[1].value > 0);
    CHECK(isinf(r->items[2].value) && r->items[2].value < 0);
    CHECK_NEAR(r->items[3].value, -1.5e-3, 1e-18);
    CHECK(r->items[4].value == 2);
    CHECK(isnan(r->items[5].value));
}

TEST(non_numeric_value_is_an_error_naming_key_and_value)
{
    const cn_lp_record *r = parse("cairn: step=3 loss=0.5 acc=high");
    CHECK(r->is_record && r->error && r->n == 0);
    CHECK(r->error && strstr(r->error, "'acc'") && strstr(r->error, "'high'"));
    CHECK_STR(r->error_key, "acc");
    r = parse("cairn: {\"loss\": [1]}");
    CHECK(r->error && strstr(r->error, "'loss'"));
    r = parse("cairn: x=0x10");
    CHECK(r->error != NULL);
    r = parse("cairn: x=");
    CHECK(r->error != NULL);
    r = parse("cairn: step=-1 x=1");
    CHECK(r->error && strstr(r->error, "step"));
    r = parse("cairn: step=1.5 x=1");
    CHECK(r->error != NULL);
}

TEST(out_of_range_value_becomes_inf_with_a_warning)
{
    const cn_lp_record *r = parse("cairn: a=1 b=1e309 c=-1e400 d=1e-400");
    CHECK(r->is_record && !r->error && r->n == 4);
    if (r->n == 4) {
        CHECK(r->items[0].value == 1);
        CHECK(isinf(r->items[1].value) && r->items[1].value > 0);
        CHECK(isinf(r->items[2].value) && r->items[2].value < 0);
        CHECK(r->items[3].value >= 0 && r->items[3].value < 1e-300);
    }
    CHECK(r->warning && strstr(r->warning, "'b'") && strstr(r->warning, "out of range"));
    CHECK_STR(r->warning_key, "b");
    r = parse("cairn: a=inf b=1e308");
    CHECK(!r->error && !r->warning && r->n == 2);
    double v = 0;
    CHECK(cn_lp_parse_value("1e309", 5, &v) && isinf(v));
    CHECK(!cn_lp_parse_value("1e309x", 6, &v));
}

TEST(largest_step_parses)
{
    const cn_lp_record *r = parse("cairn: step=9223372036854775807 a=1");
    CHECK(!r->error && r->has_step && r->step == INT64_MAX);
    r = parse("cairn: step=9223372036854775808 a=1");
    CHECK(r->error && strstr(r->error, "step"));
}

TEST(key_rules)
{
    CHECK(cn_lp_key_valid("val/acc", 7));
    CHECK(cn_lp_key_valid("a b.c-d_e", 9));
    CHECK(!cn_lp_key_valid("", 0));
    CHECK(!cn_lp_key_valid("/abs", 4));
    CHECK(!cn_lp_key_valid("a/../b", 6));
    CHECK(!cn_lp_key_valid("..", 2));
    CHECK(!cn_lp_key_valid("a//b", 4));
    CHECK(!cn_lp_key_valid("a/", 2));
    CHECK(!cn_lp_key_valid("a$b", 3));
    char long_key[252];
    memset(long_key, 'k', sizeof long_key);
    CHECK(cn_lp_key_valid(long_key, 250));
    CHECK(!cn_lp_key_valid(long_key, 251));
    const cn_lp_record *r = parse("cairn: ../x=1");
    CHECK(r->error && strstr(r->error, "'../x'"));
    r = parse("cairn.param: a;b=1");
    CHECK(r->error != NULL);
}

TEST(plain_output_is_not_a_record)
{
    CHECK(!parse("epoch 1 done")->is_record);
    CHECK(!parse("cairn: run abc in experiment 'x'")->is_record);
    CHECK(!parse("cairn:")->is_record);
    CHECK(!parse("cairnx: a=1")->is_record);
    CHECK(!parse("cairn: {not json")->is_record);
    CHECK(!parse("")->is_record);
    /* The dotted prefixes are specific enough that a malformed line is an error. */
    CHECK(parse("cairn.final: nothing")->error != NULL);
    CHECK(parse("cairn.final:")->error != NULL);
    CHECK(parse("cairn.artifact: size=3")->error != NULL);
}

TEST(json_format)
{
    const cn_lp_record *r = parse_fmt("json", "{\"step\": 2, \"loss\": 1.25}");
    CHECK(r->is_record && r->has_step && r->step == 2 && r->n == 1);
    r = parse_fmt("json", "{\"step\": 3.0, \"loss\": -1}");
    CHECK(r->has_step && r->step == 3 && r->n == 1);
    r = parse_fmt("json", "{\"loss\": \"abc\"}");
    CHECK(r->error && strstr(r->error, "'abc'"));
    CHECK(!parse_fmt("json", "{oops")->is_record);
    CHECK(!parse_fmt("json", "loss=1")->is_record);
    CHECK(parse_fmt("json", "cairn.final: a=1")->n == 1);
}

TEST(regex_formats)
{
    const cn_lp_record *r = parse_fmt("regex:([a-z_]+)=([0-9.]+)", "epoch 2: loss=0.5 acc=0.75");
    CHECK(r->is_record && r->n == 2);
    CHECK_STR(r->items[1].key, "acc");
    CHECK(r->items[1].value == 0.75);
    r = parse_fmt("regex:([a-z]+) is ([^ ]+)", "step is 4 and loss is 0.1");
    CHECK(r->has_step && r->step == 4 && r->n == 1);
    r = parse_fmt("katib", "epoch=3 loss = 0.25 val/acc=.5");
    CHECK(r->n == 3 && r->items[2].value == 0.5);
    r = parse_fmt("guild", "loss: 0.125");
    CHECK(r->n == 1 && r->items[0].value == 0.125);
    CHECK(!parse_fmt("guild", "note: hello")->is_record);
    r = parse_fmt("regex:(x*)(y*)", "abc");
    CHECK(!r->is_record);
    cn_lineproto *lp = NULL;
    CHECK(cn_lineproto_new(NULL, "regex:(a", &lp) == CAIRN_EINVAL && !lp);
    CHECK(cn_lineproto_new(NULL, "regex:(a)", &lp) == CAIRN_EINVAL && !lp);
    CHECK(cn_lineproto_new(NULL, "yaml", &lp) == CAIRN_EINVAL && !lp);
}

TEST(metrics_file_lines)
{
    cn_lineproto_parse_file_line("{\"step\": 5, \"x\": 1}\r", 20, &rec);
    CHECK(rec.is_record && rec.step == 5 && rec.n == 1);
    const char *l = "cairn.tag: a=b";
    cn_lineproto_parse_file_line(l, strlen(l), &rec);
    CHECK(rec.n == 1 && rec.items[0].kind == CN_LP_TAG);
    l = "garbage";
    cn_lineproto_parse_file_line(l, strlen(l), &rec);
    CHECK(rec.error != NULL);
    cn_lineproto_parse_file_line("  ", 2, &rec);
    CHECK(!rec.is_record);
}

TEST(embedded_nul_and_long_values)
{
    const char line[] = "cairn: a=1\0b=2";
    cn_lineproto *lp = NULL;
    CHECK(cn_lineproto_new(NULL, NULL, &lp) == CAIRN_OK);
    cn_lineproto_parse(lp, line, sizeof line - 1, &rec);
    CHECK(rec.error != NULL || rec.n <= 2);
    char big[400];
    memset(big, '1', sizeof big);
    memcpy(big, "cairn: a=", 9);
    cn_lineproto_parse(lp, big, sizeof big, &rec);
    CHECK(rec.error && strstr(rec.error, "..."));
    cn_lineproto_free(lp);
    cn_lp_record_release(&rec);
}

UNIT_MAIN(UNIT_CASE(intermediate_metrics_with_step),
          UNIT_CASE(metrics_without_step_leave_it_to_the_caller),
          UNIT_CASE(json_form_with_nested_kinds), UNIT_CASE(final_param_tag_artifact),
          UNIT_CASE(special_values), UNIT_CASE(non_numeric_value_is_an_error_naming_key_and_value),
          UNIT_CASE(out_of_range_value_becomes_inf_with_a_warning), UNIT_CASE(largest_step_parses),
          UNIT_CASE(key_rules), UNIT_CASE(plain_output_is_not_a_record), UNIT_CASE(json_format),
          UNIT_CASE(regex_formats), UNIT_CASE(metrics_file_lines),
          UNIT_CASE(embedded_nul_and_long_values))
