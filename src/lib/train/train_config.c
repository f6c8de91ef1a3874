/* SPDX-License-Identifier: MIT */
/* train_config.c - the schema of `cairn train`'s sections over the generic tree: data:,
 * split: (fractions or index files), learner: (params as text), bootstrap:, cv:, task:, plots:. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "train/train_config.h"
#include "core/core.h"
#include "base/buf.h"
#include "base/str.h"
#include "base/xmalloc.h"
#include "base/banned.h"

#define CFG(w) ((cn_train_config *)(w)->user)

static cairn_status data_path(const cn_tree_walk *w, const cn_node *k, const cn_node *v)
{
    (void)k;
    return cn_tree_string(w, "data.path", v, &CFG(w)->data.path);
}

static cairn_status data_label(const cn_tree_walk *w, const cn_node *k, const cn_node *v)
{
    (void)k;
    return cn_tree_string(w, "data.label", v, &CFG(w)->data.label);
}

static cairn_status data_features(const cn_tree_walk *w, const cn_node *k, const cn_node *v)
{
    (void)k;
    cn_train_config_data *d = &CFG(w)->data;
    return cn_tree_string_list(w, "data.features", v, &d->features, &d->n_features);
}

static cairn_status data_numeric(const cn_tree_walk *w, const cn_node *k, const cn_node *v)
{
    (void)k;
    cn_train_config_data *d = &CFG(w)->data;
    return cn_tree_string_list(w, "data.numeric", v, &d->numeric, &d->n_numeric);
}

static cairn_status data_categorical(const cn_tree_walk *w, const cn_node *k, const cn_node *v)
{
    (void)k;
    cn_train_config_data *d = &CFG(w)->data;
    return cn_tree_string_list(w, "data.categorical", v, &d->categorical, &d->n_categorical);
}

/* class_names: {0: malignant, 1: benign}; names non-empty, printable and distinct. Whether
 * the keys are classes of the label train.c checks against the data. */
static cairn_status data_class_names(const cn_tree_walk *w, const cn_node *k, const cn_node *v)
{
    (void)k;
    cn_train_config_data *d = &CFG(w)->data;
    size_t first = d->n_class_names;
    cairn_status rc =
        cn_tree_string_map(w, "data.class_names", v, &d->class_names, &d->n_class_names);
    for (size_t i = first; rc == CAIRN_OK && i < d->n_class_names; i++) {
        const char *name = d->class_names[i].value;
        const cn_node *at = v->pairs[i - first].value;
        bool printable = *name != '\0';
        for (const unsigned char *c = (const unsigned char *)name; *c; c++)
            printable = printable && *c >= 0x20 && *c != 0x7f;
        if (!printable)
            return cn_tree_fail(w->ctx, w->tree, at,
                                "'data.class_names.%s' must be a non-empty name without control "
                                "characters",
                                d->class_names[i].key);
        for (size_t j = 0; j < i; j++)
            if (strcmp(d->class_names[j].value, name) == 0)
                return cn_tree_fail(w->ctx, w->tree, at,
                                    "'data.class_names': classes '%s' and '%s' are both named "
                                    "'%s'; give each class its own name",
                                    d->class_names[j].key, d->class_names[i].key, name);
    }
    return rc;
}

static cairn_status data_expect(const cn_tree_walk *w, const cn_node *k, const cn_node *v)
{
    (void)k;
    return cn_tree_string(w, "data.expect", v, &CFG(w)->data.expect);
}

static const cn_tree_field data_fields[] = {
    {"path", data_path},
    {"label", data_label},
    {"features", data_features},
    {"numeric", data_numeric},
    {"categorical", data_categorical},
    {"class_names", data_class_names},
    {"expect", data_expect},
};

static cairn_status split_method(const cn_tree_walk *w, const cn_node *k, const cn_node *v)
{
    (void)k;
    char **m = &CFG(w)->split.method;
    cairn_status rc = cn_tree_string(w, "split.method", v, m);
    if (rc == CAIRN_OK && strcmp(*m, "random") != 0 && strcmp(*m, "stratified") != 0 &&
        strcmp(*m, "group") != 0 && strcmp(*m, "time") != 0)
        rc = cn_tree_fail(w->ctx, w->tree, v,
                          "'split.method' must be random, stratified, group or time, got '%s'", *m);
    return rc;
}

/* A plain scalar YAML reads as a number, NaN and infinities included (".nan", "-.inf"). */
static bool is_number(const cn_node *v)
{
    static const char *const specials[] = {".nan", ".NaN", ".NAN", ".inf", ".Inf", ".INF", NULL};
    double x;
    if (!v->is_plain || v->kind != CN_NODE_SCALAR)
        return false;
    const char *t = v->text + (v->text[0] == '-' || v->text[0] == '+');
    return cn_parse_double(v->text, &x) || cn_str_in(t, specials);
}

/* test and val are fractions, or index files when given as paths. */
static cairn_status split_part(const cn_tree_walk *w, const cn_node *k, const cn_node *v)
{
    cn_train_config_split *s = &CFG(w)->split;
    bool is_test = k->text[0] == 't';
    const char *what = is_test ? "split.test" : "split.val";
    double x;
    if (!is_number(v))
        return cn_tree_string(w, what, v, is_test ? &s->test_idx : &s->val_idx);
    if (!cn_parse_double(v->text, &x) || !(x >= 0 && x < 1))
        return cn_tree_fail(w->ctx, w->tree, v, "'%s' must be a fraction in [0, 1), got '%s'", what,
                            v->text);
    *(is_test ? &s->test : &s->val) = x;
    return CAIRN_OK;
}

static cairn_status split_train(const cn_tree_walk *w, const cn_node *k, const cn_node *v)
{
    (void)k;
    return cn_tree_string(w, "split.train", v, &CFG(w)->split.train_idx);
}

static cairn_status split_group(const cn_tree_walk *w, const cn_node *k, const cn_node *v)
{
    (void)k;
    return cn_tree_string(w, "split.group", v, &CFG(w)->split.group);
}

static cairn_status split_time(const cn_tree_walk *w, const cn_node *k, const cn_node *v)
{
    (void)k;
    return cn_tree_string(w, "split.time", v, &CFG(w)->split.time);
}

static const cn_tree_field split_fields[] = {
    {"method", split_method}, {"test", split_part}, {"val", split_part},
    {"group", split_group},   {"time", split_time}, {"train", split_train},
};

/* learner.params values: scalars, or lists of scalars joined with ','. */
static cairn_status param_value(const cn_tree_walk *w, const char *key, const cn_node *v, cn_buf *b)
{
    if (v->kind == CN_NODE_LIST) {
        for (size_t i = 0; i < v->n; i++) {
            const cn_node *item = v->items[i];
            if (item->kind != CN_NODE_SCALAR)
                return cn_tree_fail(w->ctx, w->tree, item,
                                    "'learner.params.%s' items must be scalars, got %s", key,
                                    cn_node_kind_name(item));
            if (b->len)
                cn_buf_putc(b, ',');
            cn_buf_append(b, item->text, item->len);
        }
    } else if (v->kind == CN_NODE_SCALAR) {
        cn_buf_append(b, v->text, v->len);
    } else {
        return cn_tree_fail(w->ctx, w->tree, v,
                            "'learner.params.%s' must be a scalar or a list, got %s", key,
                            cn_node_kind_name(v));
    }
    if (memchr(b->data ? b->data : "", '\0', b->len))
        return cn_tree_fail(w->ctx, w->tree, v, "'learner.params.%s' holds a NUL character", key);
    return CAIRN_OK;
}

static cairn_status learner_params(const cn_tree_walk *w, const cn_node *k, const cn_node *n)
{
    (void)k;
    cn_train_config_learner *l = &CFG(w)->learner;
    if (n->kind != CN_NODE_MAP)
        return cn_tree_fail(w->ctx, w->tree, n, "'learner.params' must be a mapping, got %s",
                            cn_node_kind_name(n));
    for (size_t i = 0; i < n->n; i++) {
        char *key = NULL;
        cn_buf b = CN_BUF_INIT;
        cairn_status rc = cn_tree_string(w, "learner.params", n->pairs[i].key, &key);
        if (rc == CAIRN_OK && n->pairs[i].is_dup)
            rc = cn_tree_fail(w->ctx, w->tree, n->pairs[i].key, "'learner.params.%s' appears twice",
                              key);
        if (rc == CAIRN_OK)
            rc = param_value(w, key, n->pairs[i].value, &b);
        if (rc != CAIRN_OK) {
            free(key);
            cn_buf_release(&b);
            return rc;
        }
        l->params = cn_tree_grow(l->params, l->n_params, sizeof *l->params);
        l->params[l->n_params].key = key;
        l->params[l->n_params].value = b.len ? cn_buf_detach(&b) : cn_xstrdup("");
        cn_buf_release(&b);
        l->n_params++;
    }
    return CAIRN_OK;
}

static cairn_status learner_name(const cn_tree_walk *w, const cn_node *k, const cn_node *v)
{
    (void)k;
    return cn_tree_string(w, "learner.name", v, &CFG(w)->learner.name);
}

static cairn_status learner_class_weight(const cn_tree_walk *w, const cn_node *k, const cn_node *v)
{
    (void)k;
    char **cw = &CFG(w)->learner.class_weight;
    cairn_status rc = cn_tree_string(w, "learner.class_weight", v, cw);
    if (rc == CAIRN_OK && strcmp(*cw, "balanced") != 0)
        rc = cn_tree_fail(w->ctx, w->tree, v, "'learner.class_weight' must be balanced, got '%s'",
                          *cw);
    return rc;
}

static cairn_status learner_oversample(const cn_tree_walk *w, const cn_node *k, const cn_node *v)
{
    (void)k;
    return cn_tree_bool(w, "learner.oversample", v, &CFG(w)->learner.oversample);
}

static const cn_tree_field learner_fields[] = {
    {"name", learner_name},
    {"params", learner_params},
    {"class_weight", learner_class_weight},
    {"oversample", learner_oversample},
};

#define N(a) (sizeof(a) / sizeof((a)[0]))

static cairn_status read_learner(const cn_tree_walk *w, const cn_node *k, const cn_node *v)
{
    (void)k;
    CFG(w)->has_learner = true;
    return cn_tree_walk_map(w, v, "learner", learner_fields, N(learner_fields));
}

static cairn_status read_data(const cn_tree_walk *w, const cn_node *k, const cn_node *v)
{
    (void)k;
    CFG(w)->has_data = true;
    return cn_tree_walk_map(w, v, "data", data_fields, N(data_fields));
}

static cairn_status read_split(const cn_tree_walk *w, const cn_node *k, const cn_node *v)
{
    (void)k;
    cn_train_config_split *s = &CFG(w)->split;
    CFG(w)->has_split = true;
    cairn_status rc = cn_tree_walk_map(w, v, "split", split_fields, N(split_fields));
    if (rc != CAIRN_OK || s->train_idx || !(s->test_idx || s->val_idx))
        return rc;
    /* Without split.train an index file would be ignored, and the test split with it. */
    const char *part = s->test_idx ? "test" : "val";
    return cn_tree_fail(w->ctx, w->tree, cn_node_get(v, part),
                        "'split.%s' is an index file ('%s'), which needs 'split.train' too; a "
                        "fraction must be a number in [0, 1)",
                        part, s->test_idx ? s->test_idx : s->val_idx);
}

static cairn_status read_bootstrap(const cn_tree_walk *w, const cn_node *k, const cn_node *v)
{
    (void)k;
    return cn_tree_int(w, "bootstrap", v, 0, 1000000, &CFG(w)->bootstrap);
}

static cairn_status cv_folds(const cn_tree_walk *w, const cn_node *k, const cn_node *v)
{
    (void)k;
    cairn_status rc = cn_tree_int(w, "cv.folds", v, 2, 100, &CFG(w)->cv);
    return rc;
}

static cairn_status cv_repeats(const cn_tree_walk *w, const cn_node *k, const cn_node *v)
{
    (void)k;
    return cn_tree_int(w, "cv.repeats", v, 1, 100, &CFG(w)->cvx.repeats);
}

static cairn_status cv_method(const cn_tree_walk *w, const cn_node *k, const cn_node *v)
{
    (void)k;
    char **m = &CFG(w)->cvx.method;
    cairn_status rc = cn_tree_string(w, "cv.method", v, m);
    if (rc == CAIRN_OK && strcmp(*m, "stratified") != 0 && strcmp(*m, "kfold") != 0 &&
        strcmp(*m, "group") != 0 && strcmp(*m, "stratified_group") != 0)
        rc = cn_tree_fail(w->ctx, w->tree, v,
                          "'cv.method' must be stratified, kfold, group or stratified_group, "
                          "got '%s'",
                          *m);
    return rc;
}

static cairn_status cv_group(const cn_tree_walk *w, const cn_node *k, const cn_node *v)
{
    (void)k;
    return cn_tree_string(w, "cv.group", v, &CFG(w)->cvx.group);
}

static cairn_status cv_shuffle(const cn_tree_walk *w, const cn_node *k, const cn_node *v)
{
    (void)k;
    bool b;
    cairn_status rc = cn_tree_bool(w, "cv.shuffle", v, &b);
    CFG(w)->cvx.shuffle = b;
    return rc;
}

static cairn_status cv_file(const cn_tree_walk *w, const cn_node *k, const cn_node *v)
{
    (void)k;
    return cn_tree_string(w, "cv.file", v, &CFG(w)->cvx.file);
}

static const cn_tree_field cv_fields[] = {
    {"folds", cv_folds}, {"repeats", cv_repeats}, {"method", cv_method},
    {"group", cv_group}, {"shuffle", cv_shuffle}, {"file", cv_file},
};

/* cv: N (folds), cv: FILE (a row,fold file) or cv: {folds, repeats, method, group, shuffle,
 * file}. */
static cairn_status read_cv(const cn_tree_walk *w, const cn_node *k, const cn_node *v)
{
    (void)k;
    cn_train_config *cfg = CFG(w);
    cairn_status rc;
    if (v->kind == CN_NODE_MAP) {
        rc = cn_tree_walk_map(w, v, "cv", cv_fields, N(cv_fields));
        const char *m = cfg->cvx.method;
        bool grouped = m && (strcmp(m, "group") == 0 || strcmp(m, "stratified_group") == 0);
        if (rc == CAIRN_OK && grouped && !cfg->cvx.group)
            rc = cn_tree_fail(w->ctx, w->tree, v,
                              "'cv.method' %s needs 'cv.group', the column whose groups are "
                              "kept whole",
                              m);
        if (rc == CAIRN_OK && cfg->cvx.group && !grouped)
            rc = cn_tree_fail(w->ctx, w->tree, v,
                              "'cv.group' needs 'cv.method: group' or 'stratified_group'");
        if (rc == CAIRN_OK && cfg->cvx.file && (m || cfg->cv >= 0 || cfg->cvx.shuffle >= 0))
            rc = cn_tree_fail(w->ctx, w->tree, v,
                              "'cv.file' gives the folds itself; drop 'cv.folds', 'cv.method' "
                              "and 'cv.shuffle'");
        if (rc == CAIRN_OK && cfg->cvx.file && cfg->cvx.repeats > 1)
            rc = cn_tree_fail(w->ctx, w->tree, v,
                              "'cv.repeats' does not apply to a fold file: its folds are fixed");
        if (rc == CAIRN_OK && !cfg->cvx.file && cfg->cv < 0)
            cfg->cv = 5;
        return rc;
    }
    if (v->kind == CN_NODE_SCALAR && v->len > 0 && !(v->text[0] >= '0' && v->text[0] <= '9') &&
        v->text[0] != '-')
        return cn_tree_string(w, "cv", v, &cfg->cvx.file); /* folds.csv */
    rc = cn_tree_int(w, "cv", v, 0, 100, &cfg->cv);
    if (rc == CAIRN_OK && cfg->cv == 1)
        rc = cn_tree_fail(w->ctx, w->tree, v, "'cv' must be 0 (off) or at least 2 folds, got '1'");
    return rc;
}

static cairn_status read_task(const cn_tree_walk *w, const cn_node *k, const cn_node *v)
{
    (void)k;
    char **t = &CFG(w)->task;
    cairn_status rc = cn_tree_string(w, "task", v, t);
    if (rc == CAIRN_OK && strcmp(*t, "classification") != 0 && strcmp(*t, "regression") != 0)
        rc = cn_tree_fail(w->ctx, w->tree, v,
                          "'task' must be classification or regression, got '%s'", *t);
    return rc;
}

static cairn_status plots_calibration(const cn_tree_walk *w, const cn_node *k, const cn_node *v)
{
    (void)k;
    char **c = &CFG(w)->plots.calibration;
    cairn_status rc = cn_tree_string(w, "plots.calibration", v, c);
    if (rc == CAIRN_OK && strcmp(*c, "uniform") != 0 && strcmp(*c, "quantile") != 0)
        rc = cn_tree_fail(w->ctx, w->tree, v,
                          "'plots.calibration' must be uniform (bins of equal width) or quantile "
                          "(bins of equal row counts), got '%s'",
                          *c);
    return rc;
}

static cairn_status plots_bins(const cn_tree_walk *w, const cn_node *k, const cn_node *v)
{
    (void)k;
    return cn_tree_int(w, "plots.bins", v, 2, 100, &CFG(w)->plots.bins);
}

static const cn_tree_field plots_fields[] = {
    {"calibration", plots_calibration},
    {"bins", plots_bins},
};

static cairn_status read_plots(const cn_tree_walk *w, const cn_node *k, const cn_node *v)
{
    (void)k;
    return cn_tree_walk_map(w, v, "plots", plots_fields, N(plots_fields));
}

/* In the order `unknown key` messages list them, after the run keys. */
static const cn_tree_field train_fields[] = {
    {"learner", read_learner},     {"data", read_data}, {"split", read_split},
    {"bootstrap", read_bootstrap}, {"cv", read_cv},     {"task", read_task},
    {"plots", read_plots},         {"promotion", NULL}, /* cairn model promote's */
};

static cairn_status from_tree(cairn_ctx *ctx, cn_tree *tree, cn_train_config **out)
{
    cn_train_config *cfg = cn_xcalloc(1, sizeof *cfg);
    cfg->split.test = cfg->split.val = -1;
    cfg->bootstrap = cfg->cv = -1;
    cfg->cvx.repeats = -1;
    cfg->cvx.shuffle = -1;
    cfg->plots.bins = -1;
    cairn_status rc = cn_run_config_read(ctx, tree, train_fields, N(train_fields), &cfg->run);
    cn_tree_free(tree);
    if (rc != CAIRN_OK) {
        cn_train_config_free(cfg);
        return rc;
    }
    *out = cfg;
    return CAIRN_OK;
}

cairn_status cn_train_config_load(cairn_ctx *ctx, const char *path, cn_train_config **out)
{
    cn_tree *tree = NULL;
    *out = NULL;
    cairn_status rc = cn_tree_load(ctx, "config", path, &tree);
    return rc == CAIRN_OK ? from_tree(ctx, tree, out) : rc;
}

cairn_status cn_train_config_parse(cairn_ctx *ctx, const char *label, cn_tree_format format,
                                   const char *text, size_t len, cn_train_config **out)
{
    cn_tree *tree = NULL;
    *out = NULL;
    cairn_status rc = cn_tree_parse(ctx, "config", label, format, text, len, &tree);
    return rc == CAIRN_OK ? from_tree(ctx, tree, out) : rc;
}

void cn_train_config_free(cn_train_config *cfg)
{
    if (!cfg)
        return;
    cn_run_config_release(&cfg->run);
    free(cfg->data.path);
    free(cfg->data.label);
    cn_tree_strv_free(cfg->data.features, cfg->data.n_features);
    cn_tree_strv_free(cfg->data.numeric, cfg->data.n_numeric);
    cn_tree_strv_free(cfg->data.categorical, cfg->data.n_categorical);
    cn_tree_kv_free(cfg->data.class_names, cfg->data.n_class_names);
    free(cfg->data.expect);
    free(cfg->split.method);
    free(cfg->split.group);
    free(cfg->split.time);
    free(cfg->split.train_idx);
    free(cfg->split.val_idx);
    free(cfg->split.test_idx);
    free(cfg->learner.name);
    cn_tree_kv_free(cfg->learner.params, cfg->learner.n_params);
    free(cfg->learner.class_weight);
    free(cfg->task);
    free(cfg->plots.calibration);
    free(cfg->cvx.file);
    free(cfg->cvx.method);
    free(cfg->cvx.group);
    free(cfg);
}
