/* SPDX-License-Identifier: MIT */
/* test_config.c - experiment-config.yaml: every key, the learner section, and the errors
 * (missing file, wrong type with line and column, unknown key, malformed YAML). */
#include <unistd.h>
#include "unit.h"
#include "core/core.h"
#include "train/train_config.h"

static cairn_ctx *ctx;
static cn_train_config *cfg;

static cairn_status parse(const char *text)
{
    cn_train_config_free(cfg);
    cfg = NULL;
    return cn_train_config_parse(ctx, "x.yaml", CN_TREE_YAML, text, strlen(text), &cfg);
}

TEST(setup)
{
    ctx = cairn_ctx_new();
    CHECK(ctx != NULL);
}

TEST(every_key)
{
    CHECK(parse("name: baseline\n"
                "experiment: mnist\n"
                "command: [python, train.py, \"--lr=${lr}\"]\n"
                "params: {lr: 0.01, optimizer: adam, flag: true}\n"
                "inputs: [data/train.csv, data/test.csv]\n"
                "seed: 42\n"
                "tags:\n  team: vision\n"
                "metrics: [val_loss]\n"
                "artifacts: out/model.bin\n") == CAIRN_OK);
    CHECK_STR(cfg->run.name, "baseline");
    CHECK_STR(cfg->run.experiment, "mnist");
    CHECK(cfg->run.n_command == 3);
    CHECK_STR(cfg->run.command[2], "--lr=${lr}");
    CHECK(cfg->run.n_params == 3);
    CHECK_STR(cfg->run.params[0].key, "lr");
    CHECK_STR(cfg->run.params[0].value, "0.01");
    CHECK_STR(cfg->run.params[2].value, "true");
    CHECK(cfg->run.n_inputs == 2);
    CHECK(cfg->run.has_seed && cfg->run.seed == 42);
    CHECK(cfg->run.n_tags == 1);
    CHECK_STR(cfg->run.tags[0].value, "vision");
    CHECK(cfg->run.n_metrics == 1);
    CHECK(cfg->run.n_artifacts == 1);
    CHECK_STR(cfg->run.artifacts[0], "out/model.bin");
    CHECK(!cfg->has_learner);
}

TEST(command_string_is_split_on_spaces)
{
    CHECK(parse("command: python  train.py --epochs 3\n") == CAIRN_OK);
    CHECK(cfg->run.n_command == 4);
    CHECK_STR(cfg->run.command[0], "python");
    CHECK_STR(cfg->run.command[3], "3");
}

TEST(empty_and_null_values)
{
    CHECK(parse("") == CAIRN_OK);
    CHECK(cfg && cfg->run.n_command == 0 && !cfg->run.has_seed);
    CHECK(parse("# only a comment\n") == CAIRN_OK);
    CHECK(parse("params:\nseed: ~\ntags: null\n") == CAIRN_OK);
    CHECK(cfg->run.n_params == 0 && !cfg->run.has_seed);
}

TEST(learner_subtree_is_read)
{
    CHECK(parse("learner:\n  name: xgboost\n  params: {max_depth: 3, hidden: [1, 2]}\n") ==
          CAIRN_OK);
    CHECK(cfg->has_learner);
    CHECK_STR(cfg->learner.name, "xgboost");
    CHECK(cfg->learner.n_params == 2);
    CHECK_STR(cfg->learner.params[0].value, "3");
    CHECK_STR(cfg->learner.params[1].value, "1,2");
}

TEST(wrong_type_names_line_column_and_value)
{
    CHECK(parse("name: a\nexperiment: b\nseed: abc\n") == CAIRN_EINVAL);
    CHECK_STR(cairn_errmsg(ctx),
              "config 'x.yaml' line 3 column 7: 'seed' must be a non-negative integer, got 'abc'");
    CHECK(parse("seed: \"42\"\n") == CAIRN_EINVAL);
    CHECK(parse("seed: -1\n") == CAIRN_EINVAL);
    CHECK(parse("params: [a, b]\n") == CAIRN_EINVAL);
    CHECK(strstr(cairn_errmsg(ctx), "line 1 column 9: 'params' must be a mapping, got a list"));
    CHECK(parse("params:\n  lr: {a: 1}\n") == CAIRN_EINVAL);
    CHECK(strstr(cairn_errmsg(ctx), "line 2 column 7: 'params.lr' must be a scalar"));
    CHECK(parse("name: [a]\n") == CAIRN_EINVAL);
    CHECK(parse("inputs: [[a]]\n") == CAIRN_EINVAL);
    CHECK(parse("- a\n") == CAIRN_EINVAL);
    CHECK(strstr(cairn_errmsg(ctx), "top level must be a mapping"));
    CHECK(cfg == NULL);
}

TEST(unknown_and_duplicate_keys)
{
    CHECK(parse("name: a\nnmae: b\n") == CAIRN_EINVAL);
    CHECK(strstr(cairn_errmsg(ctx), "line 2 column 1: unknown key 'nmae'; allowed: name,"));
    CHECK(strstr(cairn_errmsg(ctx), "learner"));
    CHECK(parse("name: a\nname: b\n") == CAIRN_EINVAL);
    CHECK(strstr(cairn_errmsg(ctx), "appears twice"));
    CHECK(parse("tags: {a: 1, a: 2}\n") == CAIRN_EINVAL);
}

TEST(malformed_yaml)
{
    CHECK(parse("name: \"unterminated\n") == CAIRN_EINVAL);
    CHECK(strstr(cairn_errmsg(ctx), "config 'x.yaml' line "));
    CHECK(parse("name: a\n---\nname: b\n") == CAIRN_EINVAL);
    CHECK(strstr(cairn_errmsg(ctx), "more than one YAML document"));
    CHECK(parse("learner: {name: mlp, params: &a {x: [1, 2]}}\n") == CAIRN_OK);
    CHECK(parse("learner: &a [&b [&c [1, 1], *c], *b]\n") == CAIRN_EINVAL);
    CHECK(strstr(cairn_errmsg(ctx), "'learner' must be a mapping, got a list"));
}

TEST(train_sections)
{
    CHECK(parse("name: iris-logistic\nexperiment: quickstart\nseed: 42\n"
                "data: {path: data/iris.csv, label: target, features: [a, b],\n"
                "       numeric: [a], categorical: [target]}\n"
                "split: {method: stratified, test: 0.2, val: 0.25}\n"
                "learner: {name: mlp, params: {hidden: [64, 32], alpha: 0.001},\n"
                "          class_weight: balanced, oversample: true}\n"
                "metrics: [accuracy, f1_macro]\nbootstrap: 200\ncv: 5\n") == CAIRN_OK);
    CHECK(cfg->has_data && cfg->has_split && cfg->has_learner);
    CHECK_STR(cfg->data.path, "data/iris.csv");
    CHECK_STR(cfg->data.label, "target");
    CHECK(cfg->data.n_features == 2 && cfg->data.n_numeric == 1 && cfg->data.n_categorical == 1);
    CHECK_STR(cfg->split.method, "stratified");
    CHECK_NEAR(cfg->split.test, 0.2, 1e-12);
    CHECK_NEAR(cfg->split.val, 0.25, 1e-12);
    CHECK_STR(cfg->learner.name, "mlp");
    CHECK(cfg->learner.n_params == 2);
    CHECK_STR(cfg->learner.params[0].key, "hidden");
    CHECK_STR(cfg->learner.params[0].value, "64,32");
    CHECK_STR(cfg->learner.class_weight, "balanced");
    CHECK(cfg->learner.oversample);
    CHECK(cfg->bootstrap == 200 && cfg->cv == 5 && cfg->run.n_metrics == 2);
    CHECK(parse("split: {train: idx/train.idx, val: idx/val.idx, test: idx/test.idx}\n") ==
          CAIRN_OK);
    CHECK_STR(cfg->split.train_idx, "idx/train.idx");
    CHECK_STR(cfg->split.test_idx, "idx/test.idx");
    CHECK(cfg->split.method == NULL && cfg->split.test < 0 && cfg->bootstrap == -1);
}

TEST(train_sections_bad_types)
{
    CHECK(parse("data: [a]\n") == CAIRN_EINVAL);
    CHECK_STR(cairn_errmsg(ctx), "config 'x.yaml' line 1 column 7: 'data' must be a mapping, "
                                 "got a list");
    CHECK(parse("data:\n  path: x.csv\n  label: [a]\n") == CAIRN_EINVAL);
    CHECK_STR(cairn_errmsg(ctx), "config 'x.yaml' line 3 column 10: 'data.label' must be a "
                                 "scalar, got a list");
    CHECK(parse("split: {test: 1.5}\n") == CAIRN_EINVAL);
    CHECK(strstr(cairn_errmsg(ctx), "line 1 column 15: 'split.test' must be a fraction in [0, 1), "
                                    "got '1.5'"));
    CHECK(parse("split: {method: shuffle}\n") == CAIRN_EINVAL);
    CHECK(strstr(cairn_errmsg(ctx), "'split.method' must be random, stratified, group or time"));
    CHECK(parse("learner: {name: mlp, oversample: maybe}\n") == CAIRN_EINVAL);
    CHECK(strstr(cairn_errmsg(ctx), "'learner.oversample' must be true or false, got 'maybe'"));
    CHECK(parse("learner: {name: mlp, depth: 3}\n") == CAIRN_EINVAL);
    CHECK(strstr(cairn_errmsg(ctx), "unknown key 'learner.depth'"));
    CHECK(parse("learner: {name: mlp, params: {a: {b: 1}}}\n") == CAIRN_EINVAL);
    CHECK(strstr(cairn_errmsg(ctx), "'learner.params.a' must be a scalar or a list"));
    CHECK(parse("learner: {name: mlp, class_weight: heavy}\n") == CAIRN_EINVAL);
    CHECK(parse("bootstrap: many\n") == CAIRN_EINVAL);
    CHECK(strstr(cairn_errmsg(ctx), "line 1 column 12: 'bootstrap' must be an integer in "
                                    "0..1000000, got 'many'"));
    CHECK(parse("cv: 1\n") == CAIRN_EINVAL);
    CHECK(strstr(cairn_errmsg(ctx), "'cv' must be 0 (off) or at least 2 folds"));
    CHECK(parse("data: {path: a, path: b}\n") == CAIRN_EINVAL);
    CHECK(strstr(cairn_errmsg(ctx), "'data.path' appears twice"));
    CHECK(cfg == NULL);
}

TEST(class_names_and_plots)
{
    CHECK(parse("data: {path: x.csv, label: y, class_names: {0: malignant, 1: benign}}\n"
                "plots: {calibration: quantile, bins: 12}\n") == CAIRN_OK);
    CHECK(cfg->data.n_class_names == 2);
    CHECK_STR(cfg->data.class_names[0].key, "0");
    CHECK_STR(cfg->data.class_names[1].value, "benign");
    CHECK_STR(cfg->plots.calibration, "quantile");
    CHECK(cfg->plots.bins == 12);
    CHECK(parse("seed: 1\n") == CAIRN_OK);
    CHECK(cfg->plots.calibration == NULL && cfg->plots.bins == -1 && cfg->data.n_class_names == 0);
    CHECK(parse("data: {class_names: {0: a, 1: a}}\n") == CAIRN_EINVAL);
    CHECK(strstr(cairn_errmsg(ctx), "line 1 column 31: 'data.class_names': classes '0' and '1' "
                                    "are both named 'a'"));
    CHECK(parse("data: {class_names: {0: \"tab\\there\"}}\n") == CAIRN_EINVAL);
    CHECK(strstr(cairn_errmsg(ctx), "'data.class_names.0' must be a non-empty name without "
                                    "control characters"));
    CHECK(parse("data: {class_names: [a, b]}\n") == CAIRN_EINVAL);
    CHECK(strstr(cairn_errmsg(ctx), "'data.class_names' must be a mapping, got a list"));
    CHECK(parse("plots: {calibration: isotonic}\n") == CAIRN_EINVAL);
    CHECK(strstr(cairn_errmsg(ctx), "'plots.calibration' must be uniform (bins of equal width) or "
                                    "quantile (bins of equal row counts), got 'isotonic'"));
    CHECK(parse("plots: {bins: 1}\n") == CAIRN_EINVAL);
    CHECK(strstr(cairn_errmsg(ctx), "'plots.bins' must be an integer in 2..100"));
    CHECK(parse("plots: {bin: 5}\n") == CAIRN_EINVAL);
    CHECK(strstr(cairn_errmsg(ctx), "unknown key 'plots.bin'"));
}

TEST(missing_file)
{
    cn_train_config_free(cfg);
    CHECK(cn_train_config_load(ctx, "/nonexistent/x.yaml", &cfg) == CAIRN_ENOTFOUND);
    CHECK_STR(cairn_errmsg(ctx), "config '/nonexistent/x.yaml': No such file or directory");
    CHECK(cfg == NULL);
    char path[] = "/tmp/cairn-test-config-XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    CHECK(write(fd, "seed: 7\n", 8) == 8);
    close(fd);
    CHECK(cn_train_config_load(ctx, path, &cfg) == CAIRN_OK);
    CHECK(cfg && cfg->run.seed == 7);
    unlink(path);
}

TEST(teardown)
{
    cn_train_config_free(cfg);
    cfg = NULL;
    cairn_close(ctx);
}

UNIT_MAIN(UNIT_CASE(setup), UNIT_CASE(every_key), UNIT_CASE(command_string_is_split_on_spaces),
          UNIT_CASE(empty_and_null_values), UNIT_CASE(learner_subtree_is_read),
          UNIT_CASE(wrong_type_names_line_column_and_value), UNIT_CASE(unknown_and_duplicate_keys),
          UNIT_CASE(malformed_yaml), UNIT_CASE(train_sections), UNIT_CASE(train_sections_bad_types),
          UNIT_CASE(class_names_and_plots), UNIT_CASE(missing_file), UNIT_CASE(teardown))
