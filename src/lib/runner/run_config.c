/* SPDX-License-Identifier: MIT */
/* run_config.c - the schema of a config's run keys over the generic tree (formats/tree.h):
 * what `cairn run` needs, and what `cairn train` shares with it. */
#include <stdlib.h>
#include <string.h>
#include "runner/run_config.h"
#include "core/core.h"
#include "base/str.h"
#include "base/xmalloc.h"
#include "base/banned.h"

#define CFG(w) ((cn_run_config *)(w)->user)

static cairn_status read_name(const cn_tree_walk *w, const cn_node *k, const cn_node *v)
{
    (void)k;
    return cn_tree_string(w, "name", v, &CFG(w)->name);
}

static cairn_status read_experiment(const cn_tree_walk *w, const cn_node *k, const cn_node *v)
{
    (void)k;
    return cn_tree_string(w, "experiment", v, &CFG(w)->experiment);
}

static cairn_status read_command(const cn_tree_walk *w, const cn_node *k, const cn_node *v)
{
    (void)k;
    cn_run_config *cfg = CFG(w);
    if (v->kind != CN_NODE_SCALAR)
        return cn_tree_string_list(w, "command", v, &cfg->command, &cfg->n_command);
    /* A string is split on spaces: no shell, no quoting. Use a list for arguments with
     * spaces. */
    char *s = NULL;
    cairn_status rc = cn_tree_string(w, "command", v, &s);
    if (rc != CAIRN_OK)
        return rc;
    for (char *p = s; *p;) {
        while (*p == ' ' || *p == '\t' || *p == '\n')
            p++;
        char *start = p;
        while (*p && *p != ' ' && *p != '\t' && *p != '\n')
            p++;
        if (p > start) {
            cfg->command = cn_tree_grow(cfg->command, cfg->n_command, sizeof *cfg->command);
            cfg->command[cfg->n_command++] = cn_xstrndup(start, (size_t)(p - start));
        }
    }
    free(s);
    return CAIRN_OK;
}

static cairn_status read_params(const cn_tree_walk *w, const cn_node *k, const cn_node *v)
{
    (void)k;
    return cn_tree_string_map(w, "params", v, &CFG(w)->params, &CFG(w)->n_params);
}

static cairn_status read_inputs(const cn_tree_walk *w, const cn_node *k, const cn_node *v)
{
    (void)k;
    return cn_tree_string_list(w, "inputs", v, &CFG(w)->inputs, &CFG(w)->n_inputs);
}

static cairn_status read_seed(const cn_tree_walk *w, const cn_node *k, const cn_node *v)
{
    (void)k;
    int64_t seed;
    if (v->kind != CN_NODE_SCALAR || !v->is_plain || !cn_parse_int64(v->text, &seed) || seed < 0)
        return cn_tree_fail(w->ctx, w->tree, v, "'seed' must be a non-negative integer, got '%s'",
                            v->kind == CN_NODE_SCALAR ? v->text : cn_node_kind_name(v));
    CFG(w)->has_seed = true;
    CFG(w)->seed = seed;
    return CAIRN_OK;
}

static cairn_status read_tags(const cn_tree_walk *w, const cn_node *k, const cn_node *v)
{
    (void)k;
    return cn_tree_string_map(w, "tags", v, &CFG(w)->tags, &CFG(w)->n_tags);
}

static cairn_status read_metrics(const cn_tree_walk *w, const cn_node *k, const cn_node *v)
{
    (void)k;
    return cn_tree_string_list(w, "metrics", v, &CFG(w)->metrics, &CFG(w)->n_metrics);
}

static cairn_status read_artifacts(const cn_tree_walk *w, const cn_node *k, const cn_node *v)
{
    (void)k;
    return cn_tree_string_list(w, "artifacts", v, &CFG(w)->artifacts, &CFG(w)->n_artifacts);
}

static const cn_tree_field run_fields[] = {
    {"name", read_name},     {"experiment", read_experiment}, {"command", read_command},
    {"params", read_params}, {"inputs", read_inputs},         {"seed", read_seed},
    {"tags", read_tags},     {"metrics", read_metrics},       {"artifacts", read_artifacts},
};
#define N_RUN_FIELDS (sizeof run_fields / sizeof run_fields[0])

/* `cairn train`'s sections (train/train_config.c reads them): known to `cairn run`, unread. */
static const cn_tree_field train_sections[] = {
    {"learner", NULL}, {"data", NULL}, {"split", NULL}, {"bootstrap", NULL},
    {"cv", NULL},      {"task", NULL}, {"plots", NULL},
};

cairn_status cn_run_config_read(cairn_ctx *ctx, const cn_tree *tree, const cn_tree_field *extra,
                                size_t n_extra, cn_run_config *cfg)
{
    const cn_node *root = cn_tree_root(tree);
    if (!root || cn_node_is_null(root))
        return CAIRN_OK; /* an empty file is an empty config */
    if (!extra) {
        extra = train_sections;
        n_extra = sizeof train_sections / sizeof train_sections[0];
    }
    cn_tree_field *fields = cn_xcalloc(N_RUN_FIELDS + n_extra, sizeof *fields);
    memcpy(fields, run_fields, sizeof run_fields);
    memcpy(fields + N_RUN_FIELDS, extra, n_extra * sizeof *fields);
    cn_tree_walk w = {ctx, tree, cfg};
    cairn_status rc = cn_tree_walk_map(&w, root, NULL, fields, N_RUN_FIELDS + n_extra);
    free(fields);
    return rc;
}

cairn_status cn_run_config_load(cairn_ctx *ctx, const char *path, cn_run_config **out)
{
    cn_tree *tree = NULL;
    cn_run_config *cfg = cn_xcalloc(1, sizeof *cfg);
    cairn_status rc = cn_tree_load(ctx, "config", path, &tree);
    if (rc == CAIRN_OK)
        rc = cn_run_config_read(ctx, tree, NULL, 0, cfg);
    cn_tree_free(tree);
    if (rc != CAIRN_OK) {
        cn_run_config_free(cfg);
        cfg = NULL;
    }
    *out = cfg;
    return rc;
}

void cn_run_config_release(cn_run_config *cfg)
{
    free(cfg->name);
    free(cfg->experiment);
    cn_tree_strv_free(cfg->command, cfg->n_command);
    cn_tree_strv_free(cfg->inputs, cfg->n_inputs);
    cn_tree_strv_free(cfg->metrics, cfg->n_metrics);
    cn_tree_strv_free(cfg->artifacts, cfg->n_artifacts);
    cn_tree_kv_free(cfg->params, cfg->n_params);
    cn_tree_kv_free(cfg->tags, cfg->n_tags);
    memset(cfg, 0, sizeof *cfg);
}

void cn_run_config_free(cn_run_config *cfg)
{
    if (!cfg)
        return;
    cn_run_config_release(cfg);
    free(cfg);
}
