/* SPDX-License-Identifier: MIT */
/* test_config.c - experiment-config.yaml: every key, the learner sub-tree, and the errors
 * (missing file, wrong type with line and column, unknown key, malformed YAML). */
#include <unistd.h>
#include "unit.h"
#include "core/core.h"
#include "formats/yaml.h"

static cairn_ctx *ctx;
static cn_config *cfg;

static cairn_status parse(const char *text)
{
    cn_config_free(cfg);
    cfg = NULL;
    return cn_config_parse(ctx, "x.yaml", text, strlen(text), &cfg);
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
    CHECK_STR(cfg->name, "baseline");
    CHECK_STR(cfg->experiment, "mnist");
    CHECK(cfg->n_command == 3);
    CHECK_STR(cfg->command[2], "--lr=${lr}");
    CHECK(cfg->n_params == 3);
    CHECK_STR(cfg->params[0].key, "lr");
    CHECK_STR(cfg->params[0].value, "0.01");
    CHECK_STR(cfg->params[2].value, "true");
    CHECK(cfg->n_inputs == 2);
    CHECK(cfg->has_seed && cfg->seed == 42);
    CHECK(cfg->n_tags == 1);
    CHECK_STR(cfg->tags[0].value, "vision");
    CHECK(cfg->n_metrics == 1);
    CHECK(cfg->n_artifacts == 1);
    CHECK_STR(cfg->artifacts[0], "out/model.bin");
    CHECK(cfg->learner_yaml == NULL);
}

TEST(command_string_is_split_on_spaces)
{
    CHECK(parse("command: python  train.py --epochs 3\n") == CAIRN_OK);
    CHECK(cfg->n_command == 4);
    CHECK_STR(cfg->command[0], "python");
    CHECK_STR(cfg->command[3], "3");
}

TEST(empty_and_null_values)
{
    CHECK(parse("") == CAIRN_OK);
    CHECK(cfg && cfg->n_command == 0 && !cfg->has_seed);
    CHECK(parse("# only a comment\n") == CAIRN_OK);
    CHECK(parse("params:\nseed: ~\ntags: null\n") == CAIRN_OK);
    CHECK(cfg->n_params == 0 && !cfg->has_seed);
}

TEST(learner_subtree_is_kept_as_yaml)
{
    CHECK(parse("learner:\n  type: xgboost\n  params: {max_depth: 3}\n  n: [1, 2]\n") == CAIRN_OK);
    CHECK(cfg->learner_yaml != NULL);
    /* Parses back: the text is YAML, with the same content. */
    const char *l = cfg->learner_yaml;
    CHECK(strstr(l, "type: xgboost") != NULL);
    CHECK(strstr(l, "max_depth: 3") != NULL);
    cn_config *again = NULL;
    cn_buf wrapped = CN_BUF_INIT;
    cn_buf_puts(&wrapped, "learner:\n");
    for (const char *p = l; *p; p++) {
        if (p == l || p[-1] == '\n')
            cn_buf_puts(&wrapped, "  ");
        cn_buf_putc(&wrapped, *p);
    }
    CHECK(cn_config_parse(ctx, "y", wrapped.data, wrapped.len, &again) == CAIRN_OK);
    CHECK(again && again->learner_yaml && strcmp(again->learner_yaml, l) == 0);
    cn_config_free(again);
    cn_buf_release(&wrapped);
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
    CHECK(parse("learner: &a [&b [&c [1, 1], *c], *b]\n") == CAIRN_OK);
}

TEST(missing_file)
{
    cn_config_free(cfg);
    CHECK(cn_config_load(ctx, "/nonexistent/x.yaml", &cfg) == CAIRN_ENOTFOUND);
    CHECK_STR(cairn_errmsg(ctx), "config '/nonexistent/x.yaml': No such file or directory");
    CHECK(cfg == NULL);
    char path[] = "/tmp/cairn-test-config-XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    CHECK(write(fd, "seed: 7\n", 8) == 8);
    close(fd);
    CHECK(cn_config_load(ctx, path, &cfg) == CAIRN_OK);
    CHECK(cfg && cfg->seed == 7);
    unlink(path);
}

TEST(teardown)
{
    cn_config_free(cfg);
    cfg = NULL;
    cairn_close(ctx);
}

UNIT_MAIN(UNIT_CASE(setup), UNIT_CASE(every_key), UNIT_CASE(command_string_is_split_on_spaces),
          UNIT_CASE(empty_and_null_values), UNIT_CASE(learner_subtree_is_kept_as_yaml),
          UNIT_CASE(wrong_type_names_line_column_and_value), UNIT_CASE(unknown_and_duplicate_keys),
          UNIT_CASE(malformed_yaml), UNIT_CASE(missing_file), UNIT_CASE(teardown))
