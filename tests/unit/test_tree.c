/* SPDX-License-Identifier: MIT */
/* test_tree.c - the generic YAML/JSON tree reader: the same tree from both with positions,
 * duplicate keys marked, aliases shared, 100k keys read in full, deep nesting refused with the
 * limit, and the config schemas over JSON (split fractions refused when not in [0, 1)). */
#include <stdlib.h>
#include <string.h>
#include "unit.h"
#include "core/core.h"
#include "formats/tree.h"
#include "train/train_config.h"
#include "base/buf.h"
#include "base/banned.h"

static cairn_ctx *ctx;

static cn_tree *parse(cn_tree_format f, const char *text)
{
    cn_tree *t = NULL;
    cairn_status rc = cn_tree_parse(ctx, "config", "x", f, text, strlen(text), &t);
    CHECK((rc == CAIRN_OK) == (t != NULL));
    return t;
}

TEST(setup)
{
    ctx = cairn_ctx_new();
    CHECK(ctx != NULL);
}

TEST(yaml_and_json_give_one_tree)
{
    cn_tree *y = parse(CN_TREE_YAML, "a: 1\nb: [x, \"2\"]\nc: {d: ~}\n");
    cn_tree *j = parse(CN_TREE_JSON, "{\"a\": 1,\n \"b\": [\"x\", \"2\"], \"c\": {\"d\": null}}");
    CHECK(y && j);
    if (!y || !j)
        return;
    const cn_tree *both[] = {y, j};
    for (int i = 0; i < 2; i++) {
        const cn_node *root = cn_tree_root(both[i]);
        CHECK(root->kind == CN_NODE_MAP && root->n == 3);
        CHECK_STR(cn_node_get(root, "a")->text, "1");
        CHECK(cn_node_get(root, "a")->is_plain);
        const cn_node *b = cn_node_get(root, "b");
        CHECK(b->kind == CN_NODE_LIST && b->n == 2 && !b->items[1]->is_plain);
        CHECK(cn_node_is_null(cn_node_get(cn_node_get(root, "c"), "d")));
    }
    /* positions: YAML's "b" list at line 2 column 4; JSON's "b" key at line 2 column 2 */
    CHECK(cn_node_get(cn_tree_root(y), "b")->line == 2);
    CHECK(cn_node_get(cn_tree_root(y), "b")->column == 4);
    CHECK(cn_tree_root(j)->pairs[1].key->line == 2 && cn_tree_root(j)->pairs[1].key->column == 2);
    CHECK(cn_tree_fail(ctx, j, cn_tree_root(j)->pairs[1].value, "bad") == CAIRN_EINVAL);
    CHECK_STR(cairn_errmsg(ctx), "config 'x' line 2 column 7: bad");
    cn_tree_free(y);
    cn_tree_free(j);
    CHECK(parse(CN_TREE_JSON, "{\"a\": 1, \"a\": 2}") == NULL);
    CHECK(strstr(cairn_errmsg(ctx), "config 'x' line 1") != NULL);
}

TEST(duplicates_marked_aliases_shared_cycles_refused)
{
    cn_tree *t = parse(CN_TREE_YAML, "k: 1\nj: &a [1]\nk: *a\n");
    CHECK(t && !cn_tree_root(t)->pairs[0].is_dup && cn_tree_root(t)->pairs[2].is_dup);
    CHECK(t && cn_tree_root(t)->pairs[1].value == cn_tree_root(t)->pairs[2].value);
    cn_tree_free(t);
    CHECK(parse(CN_TREE_YAML, "a: &x [*x]\n") == NULL);
    CHECK(strstr(cairn_errmsg(ctx), "line 1 column 8: an alias inside the node it names"));
    CHECK(parse(CN_TREE_YAML, "a: *nope\n") == NULL);
    CHECK(strstr(cairn_errmsg(ctx), "found undefined alias"));
}

/* n keys under a mapping at `indent`, after `head`. */
static char *many_keys(const char *head, const char *indent, size_t n)
{
    cn_buf b = CN_BUF_INIT;
    cn_buf_puts(&b, head);
    for (size_t i = 0; i < n; i++)
        cn_buf_printf(&b, "%sk%zu: %zu\n", indent, i, i);
    return cn_buf_detach(&b);
}

TEST(hundred_thousand_keys)
{
    char *text = many_keys("params:\n", "  ", 100000);
    cn_train_config *cfg = NULL;
    CHECK(cn_train_config_parse(ctx, "x", CN_TREE_YAML, text, strlen(text), &cfg) == CAIRN_OK);
    CHECK(cfg && cfg->run.n_params == 100000);
    CHECK(cfg && strcmp(cfg->run.params[99999].key, "k99999") == 0);
    CHECK(cfg && strcmp(cfg->run.params[99999].value, "99999") == 0);
    cn_train_config_free(cfg);
    free(text);
    text = many_keys("learner:\n  name: mlp\n  params:\n", "    ", 100000);
    CHECK(cn_train_config_parse(ctx, "x", CN_TREE_YAML, text, strlen(text), &cfg) == CAIRN_OK);
    CHECK(cfg && cfg->learner.n_params == 100000);
    cn_train_config_free(cfg);
    free(text);
    /* the last key repeats the first: found, with its line */
    text = many_keys("params:\n", "  ", 100000);
    cn_buf b = CN_BUF_INIT;
    cn_buf_printf(&b, "%s  k0: again\n", text);
    CHECK(cn_train_config_parse(ctx, "x", CN_TREE_YAML, b.data, b.len, &cfg) == CAIRN_EINVAL);
    CHECK(strstr(cairn_errmsg(ctx), "line 100002 column 3: 'params.k0' appears twice"));
    cn_buf_release(&b);
    free(text);
}

static void nest(cn_buf *b, const char *open, const char *close, size_t depth)
{
    cn_buf_puts(b, "x: ");
    for (size_t i = 0; i < depth; i++)
        cn_buf_puts(b, open);
    cn_buf_puts(b, "1");
    for (size_t i = 0; i < depth; i++)
        cn_buf_puts(b, close);
}

TEST(ten_thousand_deep_is_refused_with_the_limit)
{
    cn_buf b = CN_BUF_INIT;
    nest(&b, "[", "]", 10000);
    CHECK(parse(CN_TREE_YAML, b.data) == NULL);
    CHECK_STR(cairn_errmsg(ctx), "config 'x' line 1 column 67: nested deeper than 64 levels");
    cn_buf_release(&b);
    cn_buf_puts(&b, "{\"x\":");
    for (int i = 0; i < 10000; i++)
        cn_buf_puts(&b, "[");
    for (int i = 0; i < 10000; i++)
        cn_buf_puts(&b, "]");
    cn_buf_puts(&b, "}");
    CHECK(parse(CN_TREE_JSON, b.data) == NULL);
    CHECK_STR(cairn_errmsg(ctx), "config 'x' line 1 column 69: nested deeper than 64 levels");
    cn_buf_release(&b);
    /* block style too, and 63 levels under the top are fine */
    for (int i = 0; i < 10000; i++)
        cn_buf_printf(&b, "%*sk:\n", i, "");
    CHECK(parse(CN_TREE_YAML, b.data) == NULL);
    CHECK(strstr(cairn_errmsg(ctx), "line 65 column 65: nested deeper than 64 levels"));
    cn_buf_release(&b);
    nest(&b, "[", "]", 63);
    cn_tree *t = parse(CN_TREE_YAML, b.data);
    CHECK(t != NULL);
    cn_tree_free(t);
    cn_buf_release(&b);
}

static cairn_status train_cfg(cn_tree_format f, const char *text)
{
    cn_train_config *cfg = NULL;
    cairn_status rc = cn_train_config_parse(ctx, "x.yaml", f, text, strlen(text), &cfg);
    cn_train_config_free(cfg);
    return rc;
}

TEST(split_fractions_must_be_in_range)
{
    static const char *const bad[] = {".nan", ".NaN", ".inf", "-.inf", "-0.1", "1", "1.5", "nan"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char text[64];
        snprintf(text, sizeof text, "split: {test: %s}\n", bad[i]);
        CHECK(train_cfg(CN_TREE_YAML, text) == CAIRN_EINVAL);
        char want[96];
        snprintf(want, sizeof want,
                 "line 1 column 15: 'split.test' must be a fraction in [0, 1), "
                 "got '%s'",
                 bad[i]);
        CHECK(strstr(cairn_errmsg(ctx), want) != NULL);
    }
    CHECK(train_cfg(CN_TREE_YAML, "split: {val: .nan}\n") == CAIRN_EINVAL);
    CHECK(train_cfg(CN_TREE_YAML, "split: {test: 0, val: 0.5}\n") == CAIRN_OK);
    /* an index file without split.train would be ignored, and the test split with it */
    CHECK(train_cfg(CN_TREE_YAML, "split: {test: t.idx}\n") == CAIRN_EINVAL);
    CHECK(strstr(cairn_errmsg(ctx), "'split.test' is an index file ('t.idx'), which needs "
                                    "'split.train' too"));
    CHECK(train_cfg(CN_TREE_JSON, "{\"split\": {\"test\": -1e-3}}") == CAIRN_EINVAL);
    CHECK(strstr(cairn_errmsg(ctx), "'split.test' must be a fraction in [0, 1), got '-1e-3'"));
}

TEST(train_config_from_json)
{
    const char *text = "{\"name\": \"j\", \"seed\": 4,\n"
                       " \"data\": {\"path\": \"d.csv\", \"label\": \"y\"},\n"
                       " \"learner\": {\"name\": \"mlp\", \"params\": {\"hidden\": [8, 4]}},\n"
                       " \"bootstrap\": \"many\"}";
    CHECK(train_cfg(CN_TREE_JSON, text) == CAIRN_EINVAL);
    CHECK_STR(cairn_errmsg(ctx), "config 'x.yaml' line 4 column 15: 'bootstrap' must be an "
                                 "integer in 0..1000000, got 'many'");
    cn_train_config *cfg = NULL;
    const char *ok = "{\"name\": \"j\", \"seed\": 4, \"cv\": 0,\n"
                     " \"learner\": {\"name\": \"mlp\", \"params\": {\"hidden\": [8, 4], "
                     "\"alpha\": 0.1}}}";
    CHECK(cn_train_config_parse(ctx, "x.json", CN_TREE_JSON, ok, strlen(ok), &cfg) == CAIRN_OK);
    CHECK(cfg && cfg->run.seed == 4 && cfg->cv == 0);
    CHECK(cfg && strcmp(cfg->learner.params[0].value, "8,4") == 0);
    CHECK(cfg && strcmp(cfg->learner.params[1].value, "0.1") == 0);
    cn_train_config_free(cfg);
}

TEST(teardown)
{
    cairn_close(ctx);
}

UNIT_MAIN(UNIT_CASE(setup), UNIT_CASE(yaml_and_json_give_one_tree),
          UNIT_CASE(duplicates_marked_aliases_shared_cycles_refused),
          UNIT_CASE(hundred_thousand_keys), UNIT_CASE(ten_thousand_deep_is_refused_with_the_limit),
          UNIT_CASE(split_fractions_must_be_in_range), UNIT_CASE(train_config_from_json),
          UNIT_CASE(teardown))
