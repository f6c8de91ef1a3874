/* SPDX-License-Identifier: MIT */
/* test_hpo_space.c - search spaces: cairn's schema in YAML and JSON, every rule's message,
 * conditions, the W&B and NNI importers, value text round trips. */
#include <math.h>
#include "unit.h"
#include "cairn/hpo.h"

static const char product_yaml[] =
    "objective: {name: val_loss, goal: minimize}\n"
    "parameters:\n"
    "  lr:        {type: float, low: 1.0e-5, high: 1.0e-1, log: true}\n"
    "  layers:    {type: int, low: 1, high: 8}            # bounds inclusive\n"
    "  width:     {type: int, low: 64, high: 1024, step: 64}\n"
    "  optimizer: {type: categorical, values: [adam, sgd]}\n"
    "  momentum:  {type: float, low: 0.5, high: 0.99, when: {optimizer: sgd}}   # conditional\n"
    "  epochs:    30                                      # constant\n";

static cairn_space *parse(cairn_ctx *ctx, cairn_space_format fmt, const char *text)
{
    cairn_space *sp = NULL;
    if (cairn_space_parse(ctx, "t.yaml", fmt, text, strlen(text), &sp) != CAIRN_OK)
        fprintf(stderr, "# parse failed: %s\n", cairn_errmsg(ctx));
    return sp;
}

/* Expects text to fail with a message containing want. */
static void expect_error(cairn_space_format fmt, const char *text, const char *want)
{
    cairn_ctx *ctx = cairn_ctx_new();
    cairn_space *sp = NULL;
    cairn_status rc = cairn_space_parse(ctx, "t.yaml", fmt, text, strlen(text), &sp);
    CHECK(rc != CAIRN_OK);
    CHECK(sp == NULL);
    if (!strstr(cairn_errmsg(ctx), want)) {
        unit_failed = 1;
        fprintf(stderr, "# message '%s' lacks '%s'\n", cairn_errmsg(ctx), want);
    }
    cairn_close(ctx);
}

TEST(reads_the_product_example)
{
    cairn_ctx *ctx = cairn_ctx_new();
    cairn_space *sp = parse(ctx, CAIRN_SPACE_YAML, product_yaml);
    CHECK(sp != NULL);
    if (!sp)
        goto done;
    CHECK(cairn_space_n_params(sp) == 6);
    bool maximize = true;
    CHECK_STR(cairn_space_objective(sp, &maximize), "val_loss");
    CHECK(!maximize);
    CHECK_STR(cairn_space_objective_strategy(sp), "last");
    cairn_param_info p;
    cairn_space_param(sp, 0, &p);
    CHECK_STR(p.name, "lr");
    CHECK(p.type == CAIRN_SPACE_PARAM_FLOAT && p.log && p.low == 1e-5 && p.high == 0.1 &&
          p.step == 0);
    cairn_space_param(sp, 1, &p);
    CHECK(p.type == CAIRN_SPACE_PARAM_INT && p.low == 1 && p.high == 8 && p.step == 1 && !p.log);
    cairn_space_param(sp, 2, &p);
    CHECK(p.type == CAIRN_SPACE_PARAM_INT && p.step == 64 && p.high == 1024);
    cairn_space_param(sp, 3, &p);
    CHECK(p.type == CAIRN_SPACE_PARAM_CATEGORICAL && p.n_choices == 2);
    CHECK_STR(p.choices[1], "sgd");
    cairn_space_param(sp, 4, &p);
    CHECK(p.n_conditions == 1);
    cairn_space_param(sp, 5, &p);
    CHECK(p.type == CAIRN_SPACE_PARAM_CONST && p.n_choices == 1);
    CHECK_STR(p.choices[0], "30");
    CHECK(cairn_space_find(sp, "momentum") == 4 && cairn_space_find(sp, "nope") == -1);

    /* momentum is active only with sgd; contains() wants NaN where inactive. */
    double x[6] = {0.01, 3, 128, 0, NAN, 0};
    CHECK(!cairn_space_is_active(sp, 4, x));
    CHECK(cairn_space_contains(sp, x));
    x[4] = 0.6;
    CHECK(!cairn_space_contains(sp, x));
    x[3] = 1;
    CHECK(cairn_space_is_active(sp, 4, x));
    CHECK(cairn_space_contains(sp, x));
    x[2] = 100; /* off the step */
    CHECK(!cairn_space_contains(sp, x));
    x[2] = 128;
    x[1] = 2.5; /* not an integer */
    CHECK(!cairn_space_contains(sp, x));
    x[1] = 2;
    x[0] = 0.2; /* out of range */
    CHECK(!cairn_space_contains(sp, x));
done:
    cairn_space_free(sp);
    cairn_close(ctx);
}

TEST(json_reads_the_same)
{
    const char *json = "{\"parameters\": {\"lr\": {\"type\": \"float\", \"low\": 1e-5, \"high\": "
                       "0.1, \"log\": true}, \"opt\": {\"type\": \"categorical\", \"values\": "
                       "[\"adam\", \"sgd\"]}, \"mom\": {\"type\": \"float\", \"low\": 0.5, "
                       "\"high\": 0.9, \"when\": {\"opt\": [\"sgd\"]}}}}";
    cairn_ctx *ctx = cairn_ctx_new();
    cairn_space *sp = parse(ctx, CAIRN_SPACE_JSON, json);
    CHECK(sp && cairn_space_n_params(sp) == 3);
    CHECK(sp && cairn_space_objective(sp, NULL) == NULL);
    CHECK(sp && cairn_space_objective_strategy(sp) == NULL);
    cairn_space_free(sp);
    cairn_close(ctx);
}

TEST(rules_name_the_parameter)
{
    expect_error(CAIRN_SPACE_YAML, "parameters:\n  lr: {type: float, low: 0, high: 1, log: true}\n",
                 "parameter 'lr': log scale needs low > 0");
    expect_error(CAIRN_SPACE_YAML,
                 "parameters:\n  lr: {type: float, low: 0.1, high: 1, log: true, step: 0.1}\n",
                 "parameter 'lr': log scale and step cannot be used together");
    expect_error(CAIRN_SPACE_YAML, "parameters:\n  a: {type: int, low: 5, high: 1}\n",
                 "parameter 'a': low (5) > high (1)");
    expect_error(CAIRN_SPACE_YAML, "parameters:\n  a: {type: int, low: 0.5, high: 1}\n",
                 "parameter 'a': int bounds must be integers");
    expect_error(CAIRN_SPACE_YAML, "parameters:\n  a: {type: floaty, low: 0, high: 1}\n",
                 "parameter 'a': unknown type 'floaty'");
    expect_error(CAIRN_SPACE_YAML, "parameters:\n  a: {type: float, low: 0, hi: 1}\n",
                 "parameter 'a': unknown key 'hi'");
    expect_error(CAIRN_SPACE_YAML, "parameters:\n  a: {type: float, low: 0}\n",
                 "parameter 'a': float needs low and high");
    expect_error(CAIRN_SPACE_YAML, "parameters:\n  a: {type: float, low: x, high: 1}\n",
                 "parameter 'a': 'low' must be a number");
    expect_error(CAIRN_SPACE_YAML, "parameters:\n  a: {type: float, low: 0, high: 1, step: -1}\n",
                 "parameter 'a': step must be > 0");
    expect_error(CAIRN_SPACE_YAML, "parameters:\n  c: {type: categorical, values: []}\n",
                 "parameter 'c': categorical needs at least one value");
    expect_error(CAIRN_SPACE_YAML, "parameters:\n  c: {type: categorical, values: [a, a]}\n",
                 "parameter 'c': value 'a' appears twice");
    expect_error(CAIRN_SPACE_YAML,
                 "parameters:\n  m: {type: float, low: 0, high: 1, when: {opt: sgd}}\n",
                 "parameter 'm': when: no parameter 'opt'");
    expect_error(CAIRN_SPACE_YAML,
                 "parameters:\n  opt: {type: categorical, values: [a, b]}\n"
                 "  m: {type: float, low: 0, high: 1, when: {opt: c}}\n",
                 "parameter 'm': when: 'c' is not a value of 'opt'");
    expect_error(CAIRN_SPACE_YAML,
                 "parameters:\n  n: {type: int, low: 0, high: 3}\n"
                 "  m: {type: float, low: 0, high: 1, when: {n: 1}}\n",
                 "parameter 'm': when: 'n' must be a categorical or constant parameter");
    expect_error(CAIRN_SPACE_YAML,
                 "parameters:\n  a: {type: categorical, values: [x, y], when: {b: x}}\n"
                 "  b: {type: categorical, values: [x, y], when: {a: x}}\n",
                 "when: conditions form a cycle");
    expect_error(CAIRN_SPACE_YAML, "parameters:\n  a: 1\n  a: 2\n", "appears twice");
    expect_error(CAIRN_SPACE_YAML, "params:\n  a: 1\n", "unknown key 'params'");
    expect_error(CAIRN_SPACE_YAML, "parameters: {}\n", "no parameters");
    expect_error(CAIRN_SPACE_YAML, "objective: {name: x, goal: up}\nparameters: {a: 1}\n",
                 "goal must be minimize or maximize");
    expect_error(CAIRN_SPACE_YAML, "objective: {name: x, strategy: mean}\nparameters: {a: 1}\n",
                 "strategy must be last, min or max");
    expect_error(CAIRN_SPACE_YAML, "parameters:\n  a: [1, 2]\n",
                 "parameter 'a': must be a mapping");
    expect_error(CAIRN_SPACE_YAML, "parameters:\n  'a=b': 1\n", "parameter 'a=b': a name is");
    /* Messages carry the place. */
    expect_error(CAIRN_SPACE_YAML, "parameters:\n  lr: {type: float, low: 0, high: 1, log: true}\n",
                 "line 2");
}

TEST(steps_come_down_to_the_grid)
{
    cairn_ctx *ctx = cairn_ctx_new();
    cairn_space *sp = parse(ctx, CAIRN_SPACE_YAML,
                            "parameters:\n  a: {type: float, low: 0, high: 1, step: 0.3}\n"
                            "  b: {type: int, low: 1, high: 10, step: 4}\n");
    cairn_param_info p;
    if (sp) {
        cairn_space_param(sp, 0, &p);
        CHECK_NEAR(p.high, 0.9, 1e-12);
        cairn_space_param(sp, 1, &p);
        CHECK(p.high == 9);
    }
    CHECK(sp != NULL);
    cairn_space_free(sp);
    cairn_close(ctx);
}

TEST(values_round_trip_as_text)
{
    cairn_ctx *ctx = cairn_ctx_new();
    cairn_space *sp = parse(ctx, CAIRN_SPACE_YAML, product_yaml);
    char buf[64];
    double v = 0;
    if (!sp)
        goto done;
    cairn_space_format_value(sp, 0, 0.001, buf, sizeof buf);
    CHECK_STR(buf, "0.001");
    CHECK(cairn_space_parse_value(ctx, sp, 0, buf, &v) == CAIRN_OK && v == 0.001);
    cairn_space_format_value(sp, 1, 7, buf, sizeof buf);
    CHECK_STR(buf, "7");
    cairn_space_format_value(sp, 3, 1, buf, sizeof buf);
    CHECK_STR(buf, "sgd");
    CHECK(cairn_space_parse_value(ctx, sp, 3, "adam", &v) == CAIRN_OK && v == 0);
    CHECK(cairn_space_parse_value(ctx, sp, 3, "rmsprop", &v) == CAIRN_EINVAL);
    CHECK(strstr(cairn_errmsg(ctx), "parameter 'optimizer'") != NULL);
    CHECK(cairn_space_parse_value(ctx, sp, 1, "9", &v) == CAIRN_EINVAL);
    cairn_space_format_value(sp, 5, 0, buf, sizeof buf);
    CHECK_STR(buf, "30");
    cairn_space_format_value(sp, 4, NAN, buf, sizeof buf);
    CHECK_STR(buf, "");
done:
    CHECK(sp != NULL);
    cairn_space_free(sp);
    cairn_close(ctx);
}

TEST(imports_a_wandb_sweep)
{
    const char *sweep = "program: train.py\n"
                        "method: bayes\n"
                        "metric: {name: val_acc, goal: maximize}\n"
                        "parameters:\n"
                        "  lr: {distribution: log_uniform_values, min: 0.0001, max: 0.1}\n"
                        "  batch: {values: [16, 32, 64]}\n"
                        "  epochs: {value: 10}\n"
                        "  layers: {min: 1, max: 4}\n"
                        "  dropout: {min: 0.0, max: 0.5}\n"
                        "  wd: {distribution: q_uniform, min: 0, max: 1, q: 0.25}\n"
                        "  ll: {distribution: log_uniform, min: -3, max: 0}\n"
                        "  opt:\n"
                        "    parameters:\n"
                        "      beta: {distribution: uniform, min: 0.8, max: 0.99}\n";
    cairn_ctx *ctx = cairn_ctx_new();
    cairn_space *sp = parse(ctx, CAIRN_SPACE_WANDB, sweep);
    CHECK(sp != NULL);
    if (sp) {
        cairn_param_info p;
        bool maximize = false;
        CHECK_STR(cairn_space_objective(sp, &maximize), "val_acc");
        CHECK(maximize);
        CHECK(cairn_space_n_params(sp) == 8);
        cairn_space_param(sp, 0, &p);
        CHECK(p.type == CAIRN_SPACE_PARAM_FLOAT && p.log && p.low == 0.0001);
        cairn_space_param(sp, 1, &p);
        CHECK(p.type == CAIRN_SPACE_PARAM_CATEGORICAL && p.n_choices == 3);
        cairn_space_param(sp, 2, &p);
        CHECK(p.type == CAIRN_SPACE_PARAM_CONST);
        cairn_space_param(sp, 3, &p);
        CHECK(p.type == CAIRN_SPACE_PARAM_INT && p.low == 1 && p.high == 4);
        cairn_space_param(sp, 4, &p);
        CHECK(p.type == CAIRN_SPACE_PARAM_FLOAT && !p.log);
        cairn_space_param(sp, 5, &p);
        CHECK(p.step == 0.25);
        cairn_space_param(sp, 6, &p);
        CHECK(p.log);
        CHECK_NEAR(p.low, exp(-3), 1e-15);
        cairn_space_param(sp, 7, &p);
        CHECK_STR(p.name, "opt.beta");
    }
    cairn_space_free(sp);
    cairn_close(ctx);
    expect_error(CAIRN_SPACE_WANDB, "parameters:\n  x: {distribution: normal, mu: 0, sigma: 1}\n",
                 "parameter 'x': W&B distribution 'normal' has no cairn equivalent");
}

TEST(imports_an_nni_space_with_nested_choices)
{
    const char *nni = "{\"lr\": {\"_type\": \"loguniform\", \"_value\": [0.0001, 0.1]},"
                      " \"n\": {\"_type\": \"randint\", \"_value\": [1, 9]},"
                      " \"d\": {\"_type\": \"quniform\", \"_value\": [0, 1, 0.1]},"
                      " \"opt\": {\"_type\": \"choice\", \"_value\": ["
                      "   {\"_name\": \"sgd\", \"momentum\": {\"_type\": \"uniform\", \"_value\": "
                      "[0.5, 0.99]}},"
                      "   {\"_name\": \"adam\"}]}}";
    cairn_ctx *ctx = cairn_ctx_new();
    cairn_space *sp = parse(ctx, CAIRN_SPACE_NNI, nni);
    CHECK(sp != NULL);
    if (sp) {
        cairn_param_info p;
        CHECK(cairn_space_n_params(sp) == 5);
        cairn_space_param(sp, 1, &p);
        CHECK(p.type == CAIRN_SPACE_PARAM_INT && p.low == 1 && p.high == 8); /* upper exclusive */
        cairn_space_param(sp, 2, &p);
        CHECK(p.step == 0.1);
        int64_t m = cairn_space_find(sp, "opt.sgd.momentum");
        CHECK(m == 4);
        double x[5] = {0.01, 3, 0.5, 1, NAN}; /* adam: no momentum */
        CHECK(m == 4 && !cairn_space_is_active(sp, 4, x));
        x[3] = 0;
        CHECK(m == 4 && cairn_space_is_active(sp, 4, x));
    }
    cairn_space_free(sp);
    cairn_close(ctx);
    expect_error(CAIRN_SPACE_NNI, "{\"x\": {\"_type\": \"normal\", \"_value\": [0, 1]}}",
                 "parameter 'x': NNI type 'normal' has no cairn equivalent");
}

TEST(loads_a_file_by_its_extension)
{
    char path[] = "/tmp/cairn_hpo_spaceXXXXXX.json";
    int fd = mkstemps(path, 5);
    CHECK(fd >= 0);
    if (fd < 0)
        return;
    const char *json = "{\"parameters\": {\"x\": {\"type\": \"float\", \"low\": 0, \"high\": 1}}}";
    FILE *f = fdopen(fd, "w");
    fputs(json, f);
    fclose(f);
    cairn_ctx *ctx = cairn_ctx_new();
    cairn_space *sp = NULL;
    CHECK(cairn_space_load(ctx, path, CAIRN_SPACE_AUTO, &sp) == CAIRN_OK);
    CHECK(sp && cairn_space_n_params(sp) == 1);
    cairn_space_free(sp);
    remove(path);
    CHECK(cairn_space_load(ctx, path, CAIRN_SPACE_AUTO, &sp) == CAIRN_ENOTFOUND);
    cairn_close(ctx);
}

UNIT_MAIN(UNIT_CASE(reads_the_product_example), UNIT_CASE(json_reads_the_same),
          UNIT_CASE(rules_name_the_parameter), UNIT_CASE(steps_come_down_to_the_grid),
          UNIT_CASE(values_round_trip_as_text), UNIT_CASE(imports_a_wandb_sweep),
          UNIT_CASE(imports_an_nni_space_with_nested_choices),
          UNIT_CASE(loads_a_file_by_its_extension))
