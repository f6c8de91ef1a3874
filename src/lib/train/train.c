/* SPDX-License-Identifier: MIT */
/* train.c - `cairn train`: an experiment config to a tracked run. Reads the CSV, splits it,
 * hands the learner a table of the train and validation rows only (the test split stays
 * sealed), logs params, per-epoch metrics, the model with its training-row hashes, the split,
 * dataset inputs, validation metrics with bootstrap intervals, CV folds, predictions, plots
 * and a report. */
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cairn/eval.h"
#include "cairn/train.h"
#include "cairn/drift.h"
#include "core/core.h"
#include "tracking/runs.h"
#include "learn/learner.h"
#include "train/train_config.h"
#include "train/train_internal.h"
#include "base/buf.h"
#include "base/jsonw.h"
#include "base/sha256.h"
#include "base/str.h"
#include "base/xmalloc.h"
#include "base/banned.h"

typedef struct epoch_log {
    size_t n, cap;
    double *v[4];    /* train_loss, val_loss, train_score, val_score */
    int best_epoch;  /* the learner's last word on the epoch it keeps; 0: no early stopping */
    size_t n_layers; /* MLP: gradient norms per epoch, n x n_layers in g */
    double *g;
    int nonfinite_epoch; /* the first epoch with a non-finite training loss; 0: none */
    double nonfinite_loss;
} epoch_log;

typedef struct train_state {
    cairn_ctx *ctx;
    const cairn_train_opts *o;
    unsigned flags; /* CN_TRAIN_* */
    cn_train_config *cfg;
    const char *config_path;
    /* settings after -p overrides */
    const char *learner;
    uint64_t seed;
    int64_t bootstrap, cv;
    double test_frac, val_frac;
    const char **pkeys, **pvalues;
    size_t n_params;
    char **metrics;
    size_t n_metrics;
    char *cv_desc; /* "5 folds (stratified) x 3 repeats" for report.md; NULL without cv */
    /* data */
    cairn_table *t, *sub; /* the whole CSV; the train + validation rows only */
    char *data_abs;
    char file_sha[65], content_sha[65];
    const char **features;
    size_t n_features;
    bool is_classification;
    char task_reason[512]; /* why is_classification, and how to change it */
    bool task_inferred;    /* from the label's values (cairn_column_holds_classes) */
    cairn_split *split;
    size_t n_moved;
    size_t n_kept_duplicates; /* index-file splits stay as given, duplicates included */
    /* the run */
    cairn_run *run;
    epoch_log ep;
    cairn_diagnosis *diag;
    double diag_gap; /* -p diagnose.gap; 0: the default */
    cairn_train_result *res;
    char **plots;
    size_t n_plots;
    /* data expectations: the path checked, what failed (when overridden) */
    const char *expect_path;
    size_t n_expect_rules;
    char *expect_failed; /* "max,values": the rules that failed; NULL: all held */
    char *expect_json;   /* the findings, for expect/findings.json */
} train_state;

/* ---- settings ---- */

static cairn_status need(train_state *st, const void *v, const char *field)
{
    if (v)
        return CAIRN_OK;
    return cn_fail(st->ctx, CAIRN_EINVAL, "config '%s': '%s' is required for cairn train",
                   st->config_path, field);
}

/* Adds the config's name to a message that names neither the config nor the data, for the
 * checks made before the run exists (after it, the run's FAILED status carries it). */
static cairn_status in_config(train_state *st, cairn_status rc)
{
    if (rc != CAIRN_OK)
        cn_errctx(st->ctx, "config '%s'", st->config_path);
    return rc;
}

static void set_param(train_state *st, const char *key, const char *value)
{
    for (size_t i = 0; i < st->n_params; i++)
        if (strcmp(st->pkeys[i], key) == 0) {
            st->pvalues[i] = value;
            return;
        }
    st->pkeys = cn_xrealloc(st->pkeys, (st->n_params + 1) * sizeof *st->pkeys);
    st->pvalues = cn_xrealloc(st->pvalues, (st->n_params + 1) * sizeof *st->pvalues);
    st->pkeys[st->n_params] = key;
    st->pvalues[st->n_params] = value;
    st->n_params++;
}

static cairn_status override_num(train_state *st, const char *key, const char *v, double lo,
                                 double hi, bool integer, double *out)
{
    double x;
    if (!cn_parse_double(v, &x) || !(x >= lo && x <= hi) || (integer && x != floor(x)))
        return cn_fail(st->ctx, CAIRN_EINVAL, "-p %s=%s: expected %s in [%g, %g]", key, v,
                       integer ? "an integer" : "a number", lo, hi);
    *out = x;
    return CAIRN_OK;
}

static cairn_status settings(train_state *st)
{
    cn_train_config *cfg = st->cfg;
    cairn_status rc = need(st, cfg->has_data ? cfg->data.path : NULL, "data.path");
    if (rc == CAIRN_OK)
        rc = need(st, cfg->data.label, "data.label");
    bool any_learner = st->flags & CN_TRAIN_ANY_LEARNER;
    if (rc == CAIRN_OK && !any_learner)
        rc = need(st, cfg->has_learner ? cfg->learner.name : NULL, "learner.name");
    if (rc != CAIRN_OK)
        return rc;
    /* automl: the config's learner and its params do not apply; xgboost does both tasks, so
     * the task comes from task: or the label, as for any learner that does both */
    st->learner = any_learner ? "xgboost" : cfg->learner.name;
    st->seed = cfg->run.has_seed ? (uint64_t)cfg->run.seed : 0;
    st->bootstrap = cfg->bootstrap >= 0 ? cfg->bootstrap : 1000;
    st->cv = cfg->cv >= 0 ? cfg->cv : cfg->cvx.file ? -1 : 0; /* -1: the fold file's folds */
    st->test_frac = cfg->split.test >= 0 ? cfg->split.test : (cfg->split.test_idx ? 0 : 0.2);
    st->val_frac = cfg->split.val >= 0 ? cfg->split.val : (cfg->split.val_idx ? 0 : 0.2);
    for (size_t i = 0; i < cfg->learner.n_params && !any_learner; i++)
        set_param(st, cfg->learner.params[i].key, cfg->learner.params[i].value);
    for (size_t i = 0; i < st->o->n_params; i++) {
        const char *k = st->o->param_keys[i], *v = st->o->param_values[i];
        double x = 0;
        if (strcmp(k, "seed") == 0) {
            rc = override_num(st, k, v, 0, 9007199254740992.0, true, &x);
            st->seed = (uint64_t)x;
        } else if (strcmp(k, "bootstrap") == 0) {
            rc = override_num(st, k, v, 0, 1000000, true, &x);
            st->bootstrap = (int64_t)x;
        } else if (strcmp(k, "cv") == 0) {
            rc = override_num(st, k, v, 0, 100, true, &x);
            st->cv = (int64_t)x;
        } else if (strcmp(k, "split.test") == 0) {
            rc = override_num(st, k, v, 0, 0.99, false, &st->test_frac);
        } else if (strcmp(k, "split.val") == 0) {
            rc = override_num(st, k, v, 0, 0.99, false, &st->val_frac);
        } else if (strcmp(k, "diagnose.gap") == 0) {
            rc = override_num(st, k, v, 1e-9, 1, false, &st->diag_gap);
        } else if (strcmp(k, "learner") == 0) {
            st->learner = v;
        } else {
            set_param(st, k, v);
        }
        if (rc != CAIRN_OK)
            return in_config(st, rc);
    }
    if (st->cv == 1)
        return in_config(st, cn_fail(st->ctx, CAIRN_EINVAL,
                                     "cv: 1 fold is not cross-validation; use 0 or >= 2"));
    return CAIRN_OK;
}

/* ---- data ---- */

static cairn_status load_data(train_state *st)
{
    cn_train_config_data *d = &st->cfg->data;
    cairn_ctx *ctx = st->ctx;
    cairn_csv_opts co = CAIRN_CSV_OPTS_INIT;
    co.numeric = (const char *const *)d->numeric;
    co.n_numeric = d->n_numeric;
    co.categorical = (const char *const *)d->categorical;
    co.n_categorical = d->n_categorical;
    char *abs = realpath(d->path, NULL);
    if (!abs)
        return cn_fail_errno(ctx, CAIRN_EINVAL, "config '%s': data.path '%s'", st->config_path,
                             d->path);
    st->data_abs = cn_xstrdup(abs);
    free(abs);
    int64_t size;
    cairn_status rc = cairn_file_sha256(ctx, st->data_abs, st->file_sha, &size);
    if (rc == CAIRN_OK)
        rc = cairn_csv_read(ctx, d->path, &co, &st->t);
    if (rc == CAIRN_OK)
        rc = cairn_table_digest(st->t, st->content_sha);
    if (rc != CAIRN_OK)
        return in_config(st, rc);
    cn_buf cols = CN_BUF_INIT;
    for (size_t c = 0; c < st->t->n_cols; c++)
        cn_buf_printf(&cols, "%s%s", c ? ", " : "", st->t->cols[c].name);
    if (cairn_table_find(st->t, d->label) < 0) {
        rc = cn_fail(ctx, CAIRN_EINVAL,
                     "data '%s': label column '%s' is not in the data; columns: %s", d->path,
                     d->label, cn_buf_str(&cols));
        cn_buf_release(&cols);
        return rc;
    }
    if (d->n_features) {
        st->n_features = d->n_features;
        st->features = cn_xcalloc(d->n_features, sizeof *st->features);
        for (size_t f = 0; f < d->n_features; f++) {
            st->features[f] = d->features[f];
            if (cairn_table_find(st->t, d->features[f]) < 0) {
                rc = cn_fail(ctx, CAIRN_EINVAL,
                             "data '%s': feature '%s' (data.features) is not in the data; "
                             "columns: %s",
                             d->path, d->features[f], cn_buf_str(&cols));
                break;
            }
        }
    } else {
        st->features = cn_xcalloc(st->t->n_cols, sizeof *st->features);
        for (size_t c = 0; c < st->t->n_cols; c++)
            if (strcmp(st->t->cols[c].name, d->label) != 0)
                st->features[st->n_features++] = st->t->cols[c].name;
    }
    cn_buf_release(&cols);
    return rc;
}

/* The data against its expectations (docs/expectations.md): failing data is refused, naming
 * each rule with its rows, unless the caller gave a reason to override (recorded on the run). */
static cairn_status check_expect(train_state *st)
{
    st->expect_path = st->o->expect ? st->o->expect : st->cfg->data.expect;
    if (!st->expect_path)
        return CAIRN_OK;
    cairn_expect *e = NULL;
    cairn_expect_result *r = NULL;
    cairn_status rc = cairn_expect_load(st->ctx, st->expect_path, &e);
    if (rc == CAIRN_OK)
        rc = cairn_expect_check(st->ctx, e, st->t, &r);
    if (rc == CAIRN_OK && r->n_failed) {
        cn_buf rules = CN_BUF_INIT;
        for (size_t i = 0; i < r->n_failed; i++) {
            bool seen = false;
            for (size_t j = 0; j < i && !seen; j++)
                seen = strcmp(r->findings[j].rule, r->findings[i].rule) == 0;
            if (!seen)
                cn_buf_printf(&rules, "%s%s", rules.len ? "," : "", r->findings[i].rule);
        }
        st->expect_failed = cn_buf_detach(&rules);
        rc = cairn_expect_result_json(st->ctx, r, &st->expect_json);
        if (rc == CAIRN_OK && !(st->o->override_expect && *st->o->override_expect)) {
            char *text = cairn_expect_result_text(r);
            rc = cn_fail(st->ctx, CAIRN_EINVAL,
                         "data '%s' fails %zu of the %zu rules of expectations '%s':\n%sfix the "
                         "data or the expectations, or pass --override-expect \"REASON\" to "
                         "train anyway (the reason and the failed rules are recorded on the run)",
                         st->cfg->data.path, r->n_failed, r->n_rules, st->expect_path, text);
            cairn_free(text);
        }
    }
    if (r)
        st->n_expect_rules = r->n_rules;
    cairn_expect_result_free(r);
    cairn_expect_free(e);
    return rc;
}

/* Tags of the expectations check; with an override, the reason and the findings. */
static cairn_status log_expect(train_state *st)
{
    if (!st->expect_path)
        return CAIRN_OK;
    char buf[64];
    snprintf(buf, sizeof buf, "%zu", st->n_expect_rules);
    cairn_status rc = cairn_run_set_tag(st->run, "cairn.expect.rules", buf);
    if (rc == CAIRN_OK)
        rc = cairn_run_set_tag(st->run, "cairn.expect.file", st->expect_path);
    if (rc != CAIRN_OK || !st->expect_failed)
        return rc;
    rc = cairn_run_set_tag(st->run, "cairn.expect.override", st->o->override_expect);
    if (rc == CAIRN_OK)
        rc = cairn_run_set_tag(st->run, "cairn.expect.failed", st->expect_failed);
    if (rc == CAIRN_OK)
        rc = cairn_run_log_artifact_bytes(st->run, "expect/findings.json", st->expect_json,
                                          strlen(st->expect_json));
    if (rc == CAIRN_OK)
        cn_log(st->ctx, CAIRN_LOG_WARN, "train",
               "data fails expectations '%s' (%s); overridden: %s", st->expect_path,
               st->expect_failed, st->o->override_expect);
    return rc;
}

/* The task the learner will do, decided before fitting and handed to it (cairn_fit_opts.task):
 * a one-task learner's, else the "task" param's or the config's task: (which must agree),
 * else an xgboost objective's, else the one rule of cairn_column_holds_classes. */
static cairn_status pick_task(train_state *st)
{
    const cn_learner_ops *ops = cn_learner_find(st->learner);
    if (!ops)
        return cn_learner_unknown(st->ctx, "", st->learner);
    const char *cfg_task = st->cfg->task;
    if (ops->tasks != (CN_TASK_REGRESSION | CN_TASK_CLASSIFICATION)) {
        st->is_classification = ops->tasks == CN_TASK_CLASSIFICATION;
        const char *does = st->is_classification ? "classification" : "regression";
        if (cfg_task && strcmp(cfg_task, does) != 0)
            return cn_fail(st->ctx, CAIRN_EINVAL,
                           "task '%s' needs a learner that does %s; learner '%s' does %s only "
                           "(mlp and xgboost do both)",
                           cfg_task, cfg_task, st->learner, does);
        snprintf(st->task_reason, sizeof st->task_reason, "learner '%s' does %s only", st->learner,
                 does);
        return CAIRN_OK;
    }
    const char *task = NULL, *obj = NULL;
    for (size_t i = 0; i < st->n_params; i++) {
        if (strcmp(st->pkeys[i], "task") == 0)
            task = st->pvalues[i];
        if (strcmp(st->pkeys[i], "objective") == 0)
            obj = st->pvalues[i];
    }
    if (task && strcmp(task, "auto") == 0)
        task = NULL;
    if (task && cfg_task && strcmp(task, cfg_task) != 0)
        return cn_fail(st->ctx, CAIRN_EINVAL,
                       "learner param task=%s contradicts the config's 'task: %s'; drop one", task,
                       cfg_task);
    const cairn_column *lc = &st->t->cols[cairn_table_find(st->t, st->cfg->data.label)];
    char why[320];
    if (cfg_task) {
        st->is_classification = strcmp(cfg_task, "classification") == 0;
        snprintf(st->task_reason, sizeof st->task_reason, "set by the config's 'task: %s'",
                 cfg_task);
    } else if (task) {
        st->is_classification = strcmp(task, "classification") == 0;
        snprintf(st->task_reason, sizeof st->task_reason, "set by the learner param task=%s", task);
    } else if (obj && (cn_str_starts(obj, "binary:") || cn_str_starts(obj, "multi:"))) {
        st->is_classification = true;
        snprintf(st->task_reason, sizeof st->task_reason, "set by the learner param objective=%s",
                 obj);
    } else {
        st->is_classification = cairn_column_holds_classes(lc, st->t->n_rows, why, sizeof why);
        st->task_inferred = true;
        snprintf(st->task_reason, sizeof st->task_reason,
                 "inferred: %s; set 'task: %s' in the config to change it", why,
                 st->is_classification ? "regression" : "classification");
    }
    return CAIRN_OK;
}

/* Every class must have a label, and a classifier needs two classes in the data. */
static cairn_status check_label(train_state *st)
{
    const char *label = st->cfg->data.label, *path = st->cfg->data.path;
    const cairn_column *c = &st->t->cols[cairn_table_find(st->t, label)];
    if (st->t->n_rows == 0)
        return cn_fail(st->ctx, CAIRN_EINVAL, "data '%s' has no rows", path);
    for (size_t r = 0; r < st->t->n_rows; r++) {
        bool missing = c->type == CAIRN_COL_NUMERIC ? !isfinite(c->num[r]) : c->cat[r] < 0;
        if (missing)
            return cn_fail(st->ctx, CAIRN_EINVAL,
                           "data '%s' row %zu column '%s': the label is missing; drop the row",
                           path, r, label);
    }
    if (!st->is_classification)
        return CAIRN_OK;
    bool two = false;
    for (size_t r = 1; r < st->t->n_rows && !two; r++)
        two = c->type == CAIRN_COL_NUMERIC ? c->num[r] != c->num[0] : c->cat[r] != c->cat[0];
    if (!two) {
        char tmp[64];
        const char *v = tmp;
        if (c->type == CAIRN_COL_NUMERIC)
            cn_format_double(c->num[0], tmp, sizeof tmp);
        else
            v = c->levels[c->cat[0]];
        return cn_fail(st->ctx, CAIRN_EINVAL,
                       "data '%s' column '%s': the label has one class only ('%s'); a "
                       "classifier needs at least two",
                       path, label, v);
    }
    return CAIRN_OK;
}

/* The text of the label in row r: a level, or the number in its shortest form. */
static const char *label_text(const cairn_column *c, size_t r, char *tmp, size_t size)
{
    if (c->type != CAIRN_COL_NUMERIC)
        return c->levels[c->cat[r]];
    cn_format_double(c->num[r], tmp, size);
    return tmp;
}

/* data.class_names: a classifier's, and each key one of the label's values. */
static cairn_status check_class_names(train_state *st)
{
    const cn_train_config_data *d = &st->cfg->data;
    if (d->n_class_names == 0)
        return CAIRN_OK;
    if (!st->is_classification)
        return cn_fail(st->ctx, CAIRN_EINVAL,
                       "'data.class_names' names classes, but the task is regression (%s)",
                       st->task_reason);
    const cairn_column *c = &st->t->cols[cairn_table_find(st->t, d->label)];
    for (size_t i = 0; i < d->n_class_names; i++) {
        const char *key = d->class_names[i].key;
        char tmp[64];
        bool found = false;
        if (c->type == CAIRN_COL_NUMERIC) { /* "1" names 1, "1.0" nothing: as the data writes it */
            double x;
            if (cn_parse_double(key, &x) && isfinite(x)) {
                cn_format_double(x, tmp, sizeof tmp);
                for (size_t r = 0; r < st->t->n_rows && !found && strcmp(tmp, key) == 0; r++)
                    found = c->num[r] == x;
            }
        } else {
            for (size_t r = 0; r < st->t->n_rows && !found; r++)
                found = strcmp(c->levels[c->cat[r]], key) == 0;
        }
        if (found)
            continue;
        /* list the label's values (the first 20) */
        char seen[21][64];
        size_t n_seen = 0;
        cn_buf b = CN_BUF_INIT;
        for (size_t r = 0; r < st->t->n_rows && n_seen < 21; r++) {
            const char *v = label_text(c, r, tmp, sizeof tmp);
            size_t q = 0;
            while (q < n_seen && strcmp(seen[q], v) != 0)
                q++;
            if (q < n_seen)
                continue;
            snprintf(seen[n_seen], sizeof seen[n_seen], "%s", v);
            cn_buf_printf(&b, "%s%s", n_seen ? ", " : "", n_seen < 20 ? v : "...");
            n_seen++;
        }
        cairn_status rc = cn_fail(st->ctx, CAIRN_EINVAL,
                                  "'data.class_names' names class '%s', but label '%s' has no "
                                  "such value (its values: %s); write each key as one of these",
                                  key, d->label, b.data ? b.data : "");
        cn_buf_release(&b);
        return rc;
    }
    return CAIRN_OK;
}

static size_t *read_index(train_state *st, const char *path, size_t *n, cairn_status *rc)
{
    cn_buf text = CN_BUF_INIT;
    size_t *rows = NULL;
    *n = 0;
    FILE *f = fopen(path, "rb");
    if (!f) {
        *rc = cn_fail_errno(st->ctx, CAIRN_EINVAL, "config '%s': split index file '%s'",
                            st->config_path, path);
        return NULL;
    }
    char chunk[4096];
    size_t got;
    while ((got = fread(chunk, 1, sizeof chunk, f)) > 0)
        cn_buf_append(&text, chunk, got);
    fclose(f);
    *rc = cairn_index_parse(st->ctx, text.data ? text.data : "", text.len, st->t->n_rows, &rows, n);
    if (*rc != CAIRN_OK) {
        cn_errctx(st->ctx, "split index file '%s'", path);
        in_config(st, *rc);
    }
    cn_buf_release(&text);
    return rows;
}

static void split_digests(cairn_split *s)
{
    for (int p = 0; p < CAIRN_SPLIT_N_PARTS; p++) {
        char *text = cairn_index_format(s->rows[p], s->n[p]);
        cn_sha256_hex(text, strlen(text), s->sha256[p]);
        cairn_free(text);
    }
}

static int cmp_size(const void *a, const void *b)
{
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    return x < y ? -1 : x > y;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* The parts from index files, exactly as given; no row in two parts. */
static cairn_status index_split(train_state *st)
{
    cn_train_config_split *cs = &st->cfg->split;
    cairn_ctx *ctx = st->ctx;
    cairn_status rc = CAIRN_OK;
    if (cs->method)
        return cn_fail(ctx, CAIRN_EINVAL,
                       "config '%s': split has both a method and index files; use one",
                       st->config_path);
    st->split = cn_xcalloc(1, sizeof *st->split);
    st->split->n_rows = st->t->n_rows;
    st->split->seed = st->seed;
    st->split->method = CAIRN_SPLIT_RANDOM;
    const char *files[3] = {cs->train_idx, cs->val_idx, cs->test_idx};
    for (int p = 0; p < 3 && rc == CAIRN_OK; p++)
        if (files[p])
            st->split->rows[p] = read_index(st, files[p], &st->split->n[p], &rc);
    if (rc != CAIRN_OK)
        return rc;
    char *part = cn_xcalloc(st->t->n_rows ? st->t->n_rows : 1, 1);
    for (int p = 0; p < 3 && rc == CAIRN_OK; p++)
        for (size_t i = 0; i < st->split->n[p]; i++) {
            size_t r = st->split->rows[p][i];
            if (part[r]) {
                rc = cn_fail(ctx, CAIRN_EINVAL,
                             "split: row %zu is in both %s.idx and %s.idx; the parts must "
                             "not share rows",
                             r, cairn_split_part_name((cairn_split_part)(part[r] - 1)),
                             cairn_split_part_name((cairn_split_part)p));
                break;
            }
            part[r] = (char)(p + 1);
        }
    free(part);
    return in_config(st, rc);
}

static cairn_status method_split(train_state *st)
{
    cn_train_config_split *cs = &st->cfg->split;
    cairn_split_opts so = CAIRN_SPLIT_OPTS_INIT;
    const char *method = cs->method ? cs->method : st->is_classification ? "stratified" : "random";
    cairn_split_method_parse(method, &so.method);
    so.test_fraction = st->test_frac;
    so.val_fraction = st->val_frac;
    so.seed = st->seed;
    so.label = st->cfg->data.label;
    so.group = cs->group;
    so.time = cs->time;
    cairn_status rc = cairn_split_make(st->ctx, st->t, &so, &st->split);
    if (rc != CAIRN_OK)
        cn_errctx(st->ctx, "split");
    return in_config(st, rc);
}

/* Guardrail 1 at the source: a validation or test row with the same features and label as
 * a training row would be scored on what the model saw; it joins the training rows. Index
 * files are kept exactly as given (they exist to compare with another tool on the same
 * rows): their duplicates are counted and reported, and `eval final` refuses them. */
static cairn_status move_duplicates(train_state *st)
{
    cairn_ctx *ctx = st->ctx;
    bool move = st->cfg->split.train_idx == NULL;
    size_t n = st->t->n_rows;
    uint64_t *h = cn_xmalloc((n ? n : 1) * sizeof *h);
    cairn_status rc =
        cn_row_hashes(ctx, st->t, st->features, st->n_features, st->cfg->data.label, NULL, n, h);
    if (rc != CAIRN_OK) {
        free(h);
        return rc;
    }
    cairn_split *s = st->split;
    size_t nt = s->n[CAIRN_SPLIT_TRAIN];
    uint64_t *train_h = cn_xmalloc(nt * sizeof *train_h);
    for (size_t i = 0; i < nt; i++)
        train_h[i] = h[s->rows[CAIRN_SPLIT_TRAIN][i]];
    qsort(train_h, nt, sizeof *train_h, cmp_u64);
    for (int p = CAIRN_SPLIT_VAL; p <= CAIRN_SPLIT_TEST; p++) {
        size_t keep = 0;
        for (size_t i = 0; i < s->n[p]; i++) {
            size_t r = s->rows[p][i];
            if (!move && bsearch(&h[r], train_h, nt, sizeof *train_h, cmp_u64)) {
                st->n_kept_duplicates++;
                s->rows[p][keep++] = r;
            } else if (bsearch(&h[r], train_h, nt, sizeof *train_h, cmp_u64)) {
                s->rows[CAIRN_SPLIT_TRAIN] = cn_xrealloc(
                    s->rows[CAIRN_SPLIT_TRAIN], (s->n[CAIRN_SPLIT_TRAIN] + 1) * sizeof(size_t));
                s->rows[CAIRN_SPLIT_TRAIN][s->n[CAIRN_SPLIT_TRAIN]++] = r;
                st->n_moved++;
                cn_log(ctx, CAIRN_LOG_WARN, "train",
                       "%s row %zu has the same features and label as a training row; moved "
                       "to train",
                       cairn_split_part_name((cairn_split_part)p), r);
            } else {
                s->rows[p][keep++] = r;
            }
        }
        s->n[p] = keep;
    }
    if (st->n_kept_duplicates)
        cn_log(ctx, CAIRN_LOG_WARN, "train",
               "%zu validation/test rows have the same features and label as a training row; the "
               "index files are kept as given, so their scores include rows the model saw and "
               "'cairn eval final' will refuse an overlapping test set",
               st->n_kept_duplicates);
    qsort(s->rows[CAIRN_SPLIT_TRAIN], s->n[CAIRN_SPLIT_TRAIN], sizeof(size_t), cmp_size);
    free(train_h);
    free(h);
    split_digests(s);
    return CAIRN_OK;
}

static cairn_status make_split(train_state *st)
{
    cairn_status rc = st->cfg->split.train_idx ? index_split(st) : method_split(st);
    if (rc == CAIRN_OK && st->split->n[CAIRN_SPLIT_TRAIN] == 0)
        rc = in_config(st, cn_fail(st->ctx, CAIRN_EINVAL, "split: no training rows"));
    if (rc == CAIRN_OK)
        rc = in_config(st, move_duplicates(st));
    return rc;
}

/* Missing or infinite feature values in the rows the learner will see, named by row. */
static cairn_status check_features(train_state *st)
{
    const cn_learner_ops *ops = cn_learner_find(st->learner);
    for (int p = CAIRN_SPLIT_TRAIN; p <= CAIRN_SPLIT_VAL; p++)
        for (size_t i = 0; i < st->split->n[p]; i++) {
            size_t r = st->split->rows[p][i];
            for (size_t f = 0; f < st->n_features; f++) {
                const cairn_column *c = &st->t->cols[cairn_table_find(st->t, st->features[f])];
                bool missing = c->type == CAIRN_COL_NUMERIC ? isnan(c->num[r]) : c->cat[r] < 0;
                if (c->type == CAIRN_COL_NUMERIC && isinf(c->num[r]))
                    return cn_fail(st->ctx, CAIRN_EINVAL,
                                   "data '%s' row %zu column '%s': the feature is infinite",
                                   st->cfg->data.path, r, c->name);
                if (missing && !ops->allows_missing)
                    return cn_fail(st->ctx, CAIRN_EINVAL,
                                   "data '%s' row %zu column '%s': missing value (NaN) in a "
                                   "feature; learner '%s' needs complete rows: impute or drop "
                                   "the row",
                                   st->cfg->data.path, r, c->name, st->learner);
            }
        }
    return CAIRN_OK;
}

/* The table the learner sees: the train rows, then the validation rows; features and label
 * only. The test rows are not in it. */
static cairn_status make_sub(train_state *st)
{
    size_t nt = st->split->n[CAIRN_SPLIT_TRAIN], nv = st->split->n[CAIRN_SPLIT_VAL];
    size_t n = nt + nv;
    size_t *rows = cn_xmalloc((n ? n : 1) * sizeof *rows);
    memcpy(rows, st->split->rows[CAIRN_SPLIT_TRAIN], nt * sizeof *rows);
    if (nv)
        memcpy(rows + nt, st->split->rows[CAIRN_SPLIT_VAL], nv * sizeof *rows);
    st->sub = cairn_table_new(n);
    double *num = cn_xmalloc((n ? n : 1) * sizeof *num);
    int32_t *cat = cn_xmalloc((n ? n : 1) * sizeof *cat);
    cairn_status rc = CAIRN_OK;
    for (size_t f = 0; f <= st->n_features && rc == CAIRN_OK; f++) {
        const char *name = f < st->n_features ? st->features[f] : st->cfg->data.label;
        const cairn_column *c = &st->t->cols[cairn_table_find(st->t, name)];
        if (c->type == CAIRN_COL_NUMERIC) {
            for (size_t i = 0; i < n; i++)
                num[i] = c->num[rows[i]];
            rc = cairn_table_add_numeric(st->ctx, st->sub, name, num);
        } else {
            for (size_t i = 0; i < n; i++)
                cat[i] = c->cat[rows[i]];
            rc = cairn_table_add_categorical(st->ctx, st->sub, name, cat, c->levels, c->n_levels);
        }
    }
    free(num);
    free(cat);
    free(rows);
    return rc;
}

/* ---- the run ---- */

static cairn_status log_params(train_state *st)
{
    char buf[64];
    cairn_status rc = cairn_run_log_param(st->run, "learner", st->learner);
    for (size_t i = 0; i < st->n_params && rc == CAIRN_OK; i++)
        rc = cairn_run_log_param(st->run, st->pkeys[i], st->pvalues[i]);
    snprintf(buf, sizeof buf, "%llu", (unsigned long long)st->seed);
    if (rc == CAIRN_OK)
        rc = cairn_run_log_param(st->run, "seed", buf);
    if (rc == CAIRN_OK)
        rc = cairn_run_log_param(st->run, "data.path", st->data_abs);
    if (rc == CAIRN_OK)
        rc = cairn_run_log_param(st->run, "data.label", st->cfg->data.label);
    const char *method =
        st->cfg->split.train_idx ? "index-files" : cairn_split_method_name(st->split->method);
    if (rc == CAIRN_OK)
        rc = cairn_run_log_param(st->run, "split.method", method);
    if (!st->cfg->split.train_idx) {
        snprintf(buf, sizeof buf, "%g", st->test_frac);
        if (rc == CAIRN_OK)
            rc = cairn_run_log_param(st->run, "split.test", buf);
        snprintf(buf, sizeof buf, "%g", st->val_frac);
        if (rc == CAIRN_OK)
            rc = cairn_run_log_param(st->run, "split.val", buf);
    }
    if (rc == CAIRN_OK && st->cfg->learner.class_weight)
        rc = cairn_run_log_param(st->run, "class_weight", st->cfg->learner.class_weight);
    if (rc == CAIRN_OK)
        rc = cairn_run_log_param(st->run, "oversample",
                                 st->cfg->learner.oversample ? "true" : "false");
    snprintf(buf, sizeof buf, "%lld", (long long)st->bootstrap);
    if (rc == CAIRN_OK)
        rc = cairn_run_log_param(st->run, "bootstrap", buf);
    snprintf(buf, sizeof buf, "%lld", (long long)st->cv);
    if (rc == CAIRN_OK)
        rc = cairn_run_log_param(st->run, "cv", st->cv < 0 ? st->cfg->cvx.file : buf);
    const cn_train_config_cv *cv = &st->cfg->cvx;
    snprintf(buf, sizeof buf, "%lld", (long long)cv->repeats);
    if (rc == CAIRN_OK && st->cv > 0 && cv->repeats > 0)
        rc = cairn_run_log_param(st->run, "cv.repeats", buf);
    if (rc == CAIRN_OK && st->cv > 0 && cv->method)
        rc = cairn_run_log_param(st->run, "cv.method", cv->method);
    if (rc == CAIRN_OK && st->cv > 0 && cv->group)
        rc = cairn_run_log_param(st->run, "cv.group", cv->group);
    return rc;
}

static cairn_status log_inputs_and_tags(train_state *st)
{
    static const char *const contexts[] = {"training", "validation", "test"};
    const char *base = strrchr(st->data_abs, '/');
    base = base ? base + 1 : st->data_abs;
    cairn_status rc = CAIRN_OK;
    for (int p = 0; p < CAIRN_SPLIT_N_PARTS && rc == CAIRN_OK; p++) {
        cn_jsonw src; /* {"path": ..., "split": ..., "rows": N, "index_sha256": ...} */
        cn_jsonw_init(&src, NULL, 1);
        src.flat_from = 1;
        cn_jsonw_object_begin(&src);
        cn_jsonw_kstring(&src, "path", st->data_abs);
        cn_jsonw_kstring(&src, "split", cairn_split_part_name((cairn_split_part)p));
        cn_jsonw_kint(&src, "rows", (int64_t)st->split->n[p]);
        cn_jsonw_kstring(&src, "index_sha256", st->split->sha256[p]);
        cn_jsonw_object_end(&src);
        char *name = cn_asprintf("%s:%s", base, cairn_split_part_name((cairn_split_part)p));
        cairn_dataset_input in = {.name = name,
                                  .digest = st->file_sha,
                                  .source_type = "local",
                                  .source = cn_buf_str(&src.buf),
                                  .context = contexts[p]};
        rc = cairn_run_log_input(st->run, &in);
        free(name);
        cn_jsonw_release(&src);
    }
    char moved[32], kept[32];
    snprintf(moved, sizeof moved, "%zu", st->n_moved);
    snprintf(kept, sizeof kept, "%zu", st->n_kept_duplicates);
    cairn_tag tags[] = {
        {"cairn.source", "cairn train"},
        {"cairn.task", st->is_classification ? "classification" : "regression"},
        {"cairn.learner", st->learner},
        {"cairn.data.sha256", st->file_sha},
        {"cairn.data.content_sha256", st->content_sha},
        {"cairn.split.train.sha256", st->split->sha256[CAIRN_SPLIT_TRAIN]},
        {"cairn.split.val.sha256", st->split->sha256[CAIRN_SPLIT_VAL]},
        {"cairn.split.test.sha256", st->split->sha256[CAIRN_SPLIT_TEST]},
        {"cairn.split.moved_duplicates", moved},
        {"cairn.split.kept_duplicates", kept},
    };
    if (rc == CAIRN_OK)
        rc = cairn_run_log_batch(st->run, NULL, 0, NULL, 0, tags, CN_ARRAY_LEN(tags));
    return rc;
}

static int on_epoch(void *user, const cairn_epoch_info *e)
{
    train_state *st = user;
    epoch_log *ep = &st->ep;
    if (ep->n == ep->cap) {
        ep->cap = ep->cap ? ep->cap * 2 : 64;
        for (int j = 0; j < 4; j++)
            ep->v[j] = cn_xrealloc(ep->v[j], ep->cap * sizeof(double));
    }
    double v[4] = {e->train_loss, e->val_loss, e->train_metric, e->val_metric};
    ep->best_epoch = e->best_epoch;
    static const char *const keys[4] = {"train_loss", "val_loss", "train_score", "val_score"};
    for (int j = 0; j < 4; j++) {
        ep->v[j][ep->n] = v[j];
        if (isfinite(v[j]) || (j == 0 && !ep->nonfinite_epoch)) /* a diverged loss is evidence */
            (void)cairn_run_log_metric(st->run, keys[j], v[j], e->epoch);
    }
    if (!isfinite(v[0]) && !ep->nonfinite_epoch) {
        ep->nonfinite_epoch = e->epoch;
        ep->nonfinite_loss = v[0];
    }
    if (e->n_layers && e->grad_norms && (ep->n == 0 || ep->n_layers == e->n_layers)) {
        ep->n_layers = e->n_layers;
        ep->g = cn_xrealloc(ep->g, ep->cap * e->n_layers * sizeof *ep->g);
        for (size_t l = 0; l < e->n_layers; l++) {
            char key[64];
            snprintf(key, sizeof key, "grad_norm_layer_%zu", l + 1);
            ep->g[ep->n * e->n_layers + l] = e->grad_norms[l];
            (void)cairn_run_log_metric(st->run, key, e->grad_norms[l], e->epoch);
        }
    }
    ep->n++;
    return st->o->on_epoch ? st->o->on_epoch(st->o->user, e) : 0;
}

static cairn_status add_plot(train_state *st, const char *path, char *svg)
{
    cairn_status rc = cairn_run_log_artifact_bytes(st->run, path, svg, strlen(svg));
    cairn_free(svg);
    if (rc == CAIRN_OK) {
        st->plots = cn_xrealloc(st->plots, (st->n_plots + 1) * sizeof *st->plots);
        st->plots[st->n_plots++] = cn_xstrdup(path);
    }
    return rc;
}

/* "validation split, run 1a2b3c4d (name), mlp" (free()). */
static char *plot_subtitle(const train_state *st, const char *split)
{
    const char *name = st->o->name ? st->o->name : st->cfg->run.name;
    return cn_plot_subtitle(split, cairn_run_id(st->run), name, st->learner);
}

static void diagnose_training(train_state *st);

static cairn_status learning_curves(train_state *st)
{
    epoch_log *ep = &st->ep;
    if (ep->n == 0)
        return CAIRN_OK;
    static const char *const names[4] = {"train loss", "validation loss", "train score",
                                         "validation score"};
    cairn_plot_series series[4];
    size_t ns = 0;
    for (int j = 0; j < 4; j++) {
        bool any = false;
        for (size_t i = 0; i < ep->n; i++)
            any = any || isfinite(ep->v[j][i]);
        if (any)
            series[ns++] = (cairn_plot_series){names[j], NULL, ep->v[j], ep->n, j / 2};
    }
    if (ns == 0)
        return CAIRN_OK;
    bool logistic = strcmp(st->learner, "logistic") == 0;
    cairn_plot_opts po = CAIRN_PLOT_OPTS_INIT;
    po.title = logistic ? "Learning curve (solver objective)" : "Learning curves";
    po.x_label = strcmp(st->learner, "xgboost") == 0 ? "Boosting round"
                 : logistic                          ? "Solver iteration"
                                                     : "Epoch";
    po.y_label = logistic ? "Objective per row (log-loss + L2)" : "Loss";
    po.y2_label = st->is_classification ? "Accuracy" : "R\xc2\xb2";
    if (logistic)
        series[0].name = "training objective";
    char *sub = plot_subtitle(st, logistic ? "training split" : "train and validation splits");
    po.subtitle = sub;
    char mark[64];
    if (ep->best_epoch > 0) {
        snprintf(mark, sizeof mark, "best %s %d", po.x_label[0] == 'B' ? "round" : "epoch",
                 ep->best_epoch);
        po.mark_label = mark;
        po.mark_x = ep->best_epoch;
    }
    char mark2[64];
    diagnose_training(st); /* the plot marks where overfitting opened */
    for (size_t i = 0; st->diag && i < st->diag->n_findings; i++)
        if (strcmp(st->diag->findings[i].kind, "overfitting") == 0) {
            snprintf(mark2, sizeof mark2, "overfitting from %d", st->diag->findings[i].epoch);
            po.mark2_label = mark2;
            po.mark2_x = st->diag->findings[i].epoch;
        }
    char *svg = NULL;
    cairn_status rc = cairn_plot_learning_curves(st->ctx, series, ns, &po, &svg);
    free(sub);
    if (rc == CAIRN_OK && ep->best_epoch > 0) {
        char buf[32];
        snprintf(buf, sizeof buf, "%d", ep->best_epoch);
        rc = cairn_run_set_tag(st->run, "cairn.best_epoch", buf);
    }
    if (rc != CAIRN_OK) {
        cairn_free(svg);
        return rc;
    }
    return add_plot(st, "plots/learning_curves.svg", svg);
}

/* y[i]: the index among the model's classes of row i's label in st->sub, or nk for a class
 * only validation has. A regression model (no classes) leaves y as it is. */
static void cv_classes(const train_state *st, const cairn_model *m, int32_t *y)
{
    size_t n = st->sub->n_rows, nk = cairn_model_n_classes(m);
    const cairn_column *lc = &st->sub->cols[cairn_table_find(st->sub, st->cfg->data.label)];
    for (size_t i = 0; i < n && nk > 0; i++) {
        char tmp[64];
        const char *text = tmp;
        if (lc->type == CAIRN_COL_NUMERIC)
            cn_format_double(lc->num[i], tmp, sizeof tmp);
        else
            text = lc->levels[lc->cat[i]];
        y[i] = (int32_t)nk; /* a class only validation has */
        for (size_t j = 0; j < nk; j++)
            if (strcmp(cairn_model_class_label(m, j), text) == 0)
                y[i] = (int32_t)j;
    }
}

/* Fits on the used rows outside fold f (fold[i] = -2: the row takes no part; -1: always
 * trained on), scores fold f and logs cv_<metric> at step `step` (repeat * k + fold).
 * vals: n_metrics × total, row-major, NaN where a metric could not be computed; tr, te: n rows
 * of scratch each. */
static cairn_status cv_fold(train_state *st, const cairn_fit_opts *base, const int32_t *fold,
                            size_t f, size_t step, size_t total, size_t *tr, size_t *te,
                            double *vals)
{
    cairn_ctx *ctx = st->ctx;
    size_t n = st->sub->n_rows, ntr = 0, nte = 0;
    for (size_t i = 0; i < n; i++) {
        if (fold[i] == (int32_t)f)
            te[nte++] = i;
        else if (fold[i] != -2)
            tr[ntr++] = i;
    }
    cairn_fit_opts fo = *base;
    fo.train_rows = tr;
    fo.n_train = ntr;
    fo.val_rows = NULL;
    fo.n_val = 0;
    fo.on_epoch = NULL;
    cairn_model *fm = NULL;
    cairn_status rc = cairn_model_fit(ctx, st->sub, &fo, &fm);
    if (rc != CAIRN_OK) {
        cn_errctx(ctx, "cv fold %zu", step + 1);
        return rc;
    }
    cn_scores s;
    bool scored = cn_scores_predict(ctx, fm, st->sub, te, nte, &s) == CAIRN_OK;
    for (size_t j = 0; j < st->n_metrics; j++) {
        double v = NAN;
        if (scored && cairn_score_metric(ctx, &s.pred, st->metrics[j], &v) != CAIRN_OK)
            v = NAN;
        vals[j * total + step] = v;
        char *key = cn_asprintf("cv_%s", st->metrics[j]);
        if (isfinite(v))
            rc = cairn_run_log_metric(st->run, key, v, (int64_t)step);
        free(key);
    }
    if (scored)
        cn_scores_release(&s);
    cairn_model_free(fm);
    return rc;
}

/* Each metric's mean and sample standard deviation (ddof = 1) over the total fold scores (vals
 * as cv_fold fills it) into st->res, logged as cv_<metric>_mean and cv_<metric>_std. */
static cairn_status cv_summary(train_state *st, const double *vals, size_t total)
{
    cairn_status rc = CAIRN_OK;
    st->res->n_cv_folds = total;
    st->res->n_cv = st->n_metrics;
    st->res->cv = cn_xcalloc(st->n_metrics, sizeof *st->res->cv);
    for (size_t j = 0; j < st->n_metrics && rc == CAIRN_OK; j++) {
        double sum = 0, sq = 0;
        for (size_t f = 0; f < total; f++)
            sum += vals[j * total + f];
        double mean = sum / (double)total;
        for (size_t f = 0; f < total; f++)
            sq += (vals[j * total + f] - mean) * (vals[j * total + f] - mean);
        double sd = sqrt(sq / (double)(total - 1));
        st->res->cv[j] = (cairn_cv_metric){st->metrics[j], mean, sd};
        char *km = cn_asprintf("cv_%s_mean", st->metrics[j]);
        char *ks = cn_asprintf("cv_%s_std", st->metrics[j]);
        if (isfinite(mean))
            rc = cairn_run_log_metric(st->run, km, mean, 0);
        if (rc == CAIRN_OK && isfinite(sd))
            rc = cairn_run_log_metric(st->run, ks, sd, 0);
        free(km);
        free(ks);
    }
    return rc;
}

/* How cv: folds the rows: the method, folds k, repeats and the fold of every st->sub row per
 * repeat (fold[r * n + i]; -2 unused, -1 always trained on). */
typedef struct cv_plan {
    const char *method; /* "stratified", "kfold", "group", "stratified_group", "file" */
    size_t k, repeats;
    bool shuffle;
    int32_t *fold;
    size_t *csv_row; /* st->sub row i is CSV row csv_row[i] */
} cv_plan;

/* Tags the folds, repeats, method, the standard deviation's ddof and a digest of the fold
 * assignments, and stores them as the artifact cv/folds.csv (row,fold,repeat; CSV rows). */
static cairn_status cv_record(train_state *st, const cv_plan *pl)
{
    size_t n = st->sub->n_rows;
    /* The folds are the same for two runs when this digest is: same data, split and seed. */
    cn_sha256 *h = cn_sha256_new();
    cn_sha256_update(h, st->content_sha, 64);
    cn_sha256_update(h, st->split->sha256[CAIRN_SPLIT_TRAIN], 64);
    cn_sha256_update(h, st->split->sha256[CAIRN_SPLIT_VAL], 64);
    cn_buf csv = CN_BUF_INIT;
    cn_buf_printf(&csv, "row,fold,repeat\n");
    for (size_t r = 0; r < pl->repeats; r++)
        for (size_t i = 0; i < n; i++) {
            int32_t f = pl->fold[r * n + i];
            unsigned char b = (unsigned char)f;
            cn_sha256_update(h, &b, 1);
            if (f != -2)
                cn_buf_printf(&csv, "%zu,%d,%zu\n", pl->csv_row[i], (int)f, r);
        }
    char hex[65], kbuf[32], rbuf[32];
    cn_sha256_final(h, hex);
    snprintf(kbuf, sizeof kbuf, "%zu", pl->k);
    snprintf(rbuf, sizeof rbuf, "%zu", pl->repeats);
    cairn_tag tags[] = {
        {"cairn.cv.folds", kbuf},   {"cairn.cv.sha256", hex},
        {"cairn.cv.repeats", rbuf}, {"cairn.cv.method", pl->method},
        {"cairn.cv.std_ddof", "1"}, {"cairn.cv.shuffle", pl->shuffle ? "true" : "false"}};
    free(st->cv_desc);
    st->cv_desc = pl->repeats > 1
                      ? cn_asprintf("%zu folds (%s) x %zu repeats", pl->k, pl->method, pl->repeats)
                      : cn_asprintf("%zu folds (%s)", pl->k, pl->method);
    cairn_status rc = cairn_run_log_batch(st->run, NULL, 0, NULL, 0, tags, CN_ARRAY_LEN(tags));
    if (rc == CAIRN_OK)
        rc = cairn_run_log_artifact_bytes(st->run, "cv/folds.csv", csv.data, csv.len);
    cn_buf_release(&csv);
    return rc;
}

/* Reads cv.file into pl->fold: rows not in the file take no part; a sealed test row or a row
 * outside train and validation is refused, naming the line. */
static cairn_status cv_from_file(train_state *st, cv_plan *pl)
{
    cairn_ctx *ctx = st->ctx;
    const char *path = st->cfg->cvx.file;
    size_t n = st->sub->n_rows, n_rows = st->t->n_rows;
    FILE *f = fopen(path, "rb");
    if (!f)
        return cn_fail_errno(ctx, CAIRN_EINVAL, "cv: fold file '%s'", path);
    cn_buf text = CN_BUF_INIT;
    char chunk[4096];
    size_t got;
    while ((got = fread(chunk, 1, sizeof chunk, f)) > 0)
        cn_buf_append(&text, chunk, got);
    fclose(f);
    size_t *rows = NULL, m = 0, k = 0;
    int32_t *folds = NULL;
    cairn_status rc =
        cairn_folds_parse(ctx, text.data ? text.data : "", text.len, n_rows, &rows, &folds, &m, &k);
    cn_buf_release(&text);
    if (rc != CAIRN_OK) {
        cn_errctx(ctx, "cv: fold file '%s'", path);
        return rc;
    }
    size_t *sub_of = cn_xmalloc((n_rows ? n_rows : 1) * sizeof *sub_of);
    for (size_t r = 0; r < n_rows; r++)
        sub_of[r] = SIZE_MAX;
    for (size_t i = 0; i < n; i++)
        sub_of[pl->csv_row[i]] = i;
    bool *test = cn_xcalloc(n_rows ? n_rows : 1, sizeof *test);
    for (size_t i = 0; i < st->split->n[CAIRN_SPLIT_TEST]; i++)
        test[st->split->rows[CAIRN_SPLIT_TEST][i]] = true;
    for (size_t i = 0; i < n; i++)
        pl->fold[i] = -2;
    for (size_t j = 0; j < m && rc == CAIRN_OK; j++) {
        size_t r = rows[j];
        if (sub_of[r] == SIZE_MAX)
            rc = cn_fail(ctx, CAIRN_EINVAL,
                         "cv: fold file '%s': row %zu is %s; cross-validation uses only train "
                         "and validation rows: drop it from the fold file",
                         path, r,
                         test[r] ? "a sealed test row (the test split is looked at once, by "
                                   "cairn eval final)"
                                 : "in neither the train nor the validation split");
        else
            pl->fold[sub_of[r]] = folds[j];
    }
    for (size_t f2 = 0; f2 < k && rc == CAIRN_OK; f2++) {
        size_t out = 0; /* no fold is empty: cairn_folds_parse refuses gaps */
        for (size_t i = 0; i < n; i++)
            out += pl->fold[i] != (int32_t)f2 && pl->fold[i] != -2;
        if (out == 0)
            rc = cn_fail(ctx, CAIRN_EINVAL,
                         "cv: fold file '%s': fold %zu leaves no rows to train on", path, f2);
    }
    pl->k = k;
    free(sub_of);
    free(test);
    free(rows);
    free(folds);
    return rc;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Group ids 0..G-1 of the st->sub rows from column `name` of the data, in sorted order of the
 * values (numbers numerically, text by bytes), as numpy.unique; *n_groups = G. */
static cairn_status cv_groups(train_state *st, const cv_plan *pl, const char *name, int32_t *gid,
                              size_t *n_groups)
{
    int c = cairn_table_find(st->t, name);
    if (c < 0)
        return cn_fail(st->ctx, CAIRN_EINVAL,
                       "cv.group: column '%s' is not in the data '%s'; name a column of it", name,
                       st->cfg->data.path);
    const cairn_column *col = &st->t->cols[c];
    size_t n = st->sub->n_rows;
    double *key = cn_xmalloc((n ? n : 1) * sizeof *key);
    for (size_t i = 0; i < n; i++) {
        size_t r = pl->csv_row[i];
        bool missing = col->type == CAIRN_COL_NUMERIC ? isnan(col->num[r]) : col->cat[r] < 0;
        if (missing) {
            free(key);
            return cn_fail(st->ctx, CAIRN_EINVAL,
                           "cv.group: row %zu has no value in column '%s'; every row needs a "
                           "group",
                           r, name);
        }
        key[i] = col->type == CAIRN_COL_NUMERIC ? col->num[r] : (double)col->cat[r];
    }
    /* text: rank the levels by their bytes */
    double *rank = NULL;
    if (col->type != CAIRN_COL_NUMERIC) {
        rank = cn_xmalloc((col->n_levels ? col->n_levels : 1) * sizeof *rank);
        for (size_t a = 0; a < col->n_levels; a++) {
            size_t below = 0;
            for (size_t b = 0; b < col->n_levels; b++)
                below += strcmp(col->levels[b], col->levels[a]) < 0;
            rank[a] = (double)below;
        }
        for (size_t i = 0; i < n; i++)
            key[i] = rank[(size_t)key[i]];
    }
    double *sorted = cn_xmemdup(key, (n ? n : 1) * sizeof *key);
    qsort(sorted, n, sizeof *sorted, cmp_double);
    size_t g = 0;
    for (size_t i = 0; i < n; i++)
        if (i == 0 || sorted[i] != sorted[g - 1])
            sorted[g++] = sorted[i];
    for (size_t i = 0; i < n; i++) {
        size_t lo = 0, hi = g;
        while (lo + 1 < hi) {
            size_t mid = (lo + hi) / 2;
            if (sorted[mid] <= key[i])
                lo = mid;
            else
                hi = mid;
        }
        gid[i] = (int32_t)lo;
    }
    *n_groups = g;
    free(key);
    free(sorted);
    free(rank);
    return CAIRN_OK;
}

/* The folds of every repeat from the cv: settings. */
static cairn_status cv_assign(train_state *st, const cairn_model *m, cv_plan *pl)
{
    cairn_ctx *ctx = st->ctx;
    const cn_train_config_cv *c = &st->cfg->cvx;
    size_t n = st->sub->n_rows, nk = cairn_model_n_classes(m);
    if (c->file) {
        pl->method = "file";
        return cv_from_file(st, pl);
    }
    pl->method = c->method ? c->method : "stratified";
    bool grouped = strcmp(pl->method, "group") == 0;
    bool strat_group = strcmp(pl->method, "stratified_group") == 0;
    bool kfold = strcmp(pl->method, "kfold") == 0;
    /* stratified shuffles always (as cv: N always did); the others as sklearn: not unless asked */
    pl->shuffle = c->shuffle >= 0 ? c->shuffle == 1 : !(grouped || strat_group || kfold);
    if (strcmp(pl->method, "stratified") == 0 && c->shuffle == 0)
        return cn_fail(ctx, CAIRN_EINVAL,
                       "cv: method stratified always shuffles under the seed; drop 'shuffle: "
                       "false' or use method kfold");
    if (grouped && c->shuffle == 1)
        return cn_fail(ctx, CAIRN_EINVAL,
                       "cv: method group does not shuffle (GroupKFold); drop 'shuffle' or use "
                       "stratified_group");
    if (pl->repeats > 1 && !pl->shuffle)
        return cn_fail(ctx, CAIRN_EINVAL,
                       "cv: %zu repeats of method %s without shuffle would repeat the same folds; "
                       "set 'shuffle: true'%s",
                       pl->repeats, pl->method, grouped ? " with method stratified_group" : "");
    if ((strat_group || (!grouped && !kfold)) && nk == 0 && strcmp(pl->method, "stratified") != 0)
        return cn_fail(ctx, CAIRN_EINVAL,
                       "cv: method stratified_group needs classes; for regression use group");
    if (pl->k > n)
        return cn_fail(ctx, CAIRN_EINVAL, "cv: %zu folds but only %zu train and validation rows",
                       pl->k, n);
    int32_t *y = cn_xcalloc(n ? n : 1, sizeof *y), *gid = NULL;
    size_t n_groups = 0;
    cairn_status rc = CAIRN_OK;
    cv_classes(st, m, y);
    if (grouped || strat_group) {
        gid = cn_xmalloc((n ? n : 1) * sizeof *gid);
        rc = cv_groups(st, pl, c->group, gid, &n_groups);
    }
    for (size_t r = 0; r < pl->repeats && rc == CAIRN_OK; r++) {
        int32_t *fold = pl->fold + r * n;
        uint64_t seed = st->seed + r; /* repeat 0: the seed itself, as cv: N */
        if (kfold)
            rc = cairn_kfold(ctx, n, pl->k, pl->shuffle, seed, fold);
        else if (grouped)
            rc = cairn_group_kfold(ctx, gid, n, n_groups, pl->k, fold);
        else if (strat_group)
            rc = cairn_stratified_group_kfold(ctx, y, nk + 1, gid, n, n_groups, pl->k, pl->shuffle,
                                              seed, fold);
        else
            rc = cairn_stratified_kfold(ctx, y, n, nk + 1, pl->k, seed, fold);
    }
    if (rc != CAIRN_OK)
        cn_errctx(ctx, "cv");
    free(y);
    free(gid);
    return rc;
}

/* Cross-validation over the train + validation rows (of st->sub) as cv: says; logs cv_<m> per
 * fold at step repeat * k + fold, the summary, tags and the cv/folds.csv artifact. */
static cairn_status cross_validate(train_state *st, const cairn_fit_opts *base,
                                   const cairn_model *m)
{
    size_t n = st->sub->n_rows, nt = st->split->n[CAIRN_SPLIT_TRAIN];
    cv_plan pl = {0};
    pl.k = st->cv > 0 ? (size_t)st->cv : 5;
    pl.repeats = st->cfg->cvx.repeats > 0 ? (size_t)st->cfg->cvx.repeats : 1;
    if (st->cfg->cvx.file)
        pl.repeats = 1;
    pl.fold = cn_xcalloc((n ? n : 1) * pl.repeats, sizeof *pl.fold);
    pl.csv_row = cn_xmalloc((n ? n : 1) * sizeof *pl.csv_row);
    for (size_t i = 0; i < n; i++) /* st->sub: the train rows, then the validation rows */
        pl.csv_row[i] = i < nt ? st->split->rows[CAIRN_SPLIT_TRAIN][i]
                               : st->split->rows[CAIRN_SPLIT_VAL][i - nt];
    cairn_status rc = cv_assign(st, m, &pl);
    size_t total = pl.k * pl.repeats;
    double *vals = cn_xcalloc(st->n_metrics * total + 1, sizeof *vals);
    size_t *tr = cn_xmalloc((n ? n : 1) * sizeof *tr), *te = cn_xmalloc((n ? n : 1) * sizeof *te);
    for (size_t r = 0; r < pl.repeats && rc == CAIRN_OK; r++)
        for (size_t f = 0; f < pl.k && rc == CAIRN_OK; f++)
            rc = cv_fold(st, base, pl.fold + r * n, f, r * pl.k + f, total, tr, te, vals);
    if (rc == CAIRN_OK)
        rc = cv_summary(st, vals, total);
    if (rc == CAIRN_OK)
        rc = cv_record(st, &pl);
    free(vals);
    free(tr);
    free(te);
    free(pl.fold);
    free(pl.csv_row);
    return rc;
}

static cairn_status log_split(train_state *st)
{
    cairn_status rc = CAIRN_OK;
    const char *method =
        st->cfg->split.train_idx ? "index-files" : cairn_split_method_name(st->split->method);
    cn_jsonw w;
    cn_jsonw_init(&w, NULL, 2);
    w.flat_from = 3; /* one line per part */
    cn_jsonw_object_begin(&w);
    cn_jsonw_kstring(&w, "method", method);
    cn_jsonw_kuint(&w, "seed", st->seed);
    cn_jsonw_kint(&w, "n_rows", (int64_t)st->t->n_rows);
    cn_jsonw_kint(&w, "moved_duplicates", (int64_t)st->n_moved);
    cn_jsonw_kstring(&w, "data_sha256", st->file_sha);
    cn_jsonw_key(&w, "parts");
    cn_jsonw_object_begin(&w);
    for (int p = 0; p < CAIRN_SPLIT_N_PARTS && rc == CAIRN_OK; p++) {
        const char *part = cairn_split_part_name((cairn_split_part)p);
        char *text = cairn_index_format(st->split->rows[p], st->split->n[p]);
        char *path = cn_asprintf("split/%s.idx", part);
        char *file = cn_asprintf("%s.idx", part);
        rc = cairn_run_log_artifact_bytes(st->run, path, text, strlen(text));
        cn_jsonw_key(&w, part);
        cn_jsonw_object_begin(&w);
        cn_jsonw_kstring(&w, "file", file);
        cn_jsonw_kint(&w, "rows", (int64_t)st->split->n[p]);
        cn_jsonw_kstring(&w, "sha256", st->split->sha256[p]);
        cn_jsonw_object_end(&w);
        free(file);
        free(path);
        cairn_free(text);
    }
    cn_jsonw_object_end(&w);
    cn_jsonw_object_end(&w);
    cn_jsonw_finish(&w);
    if (rc == CAIRN_OK)
        rc = cairn_run_log_artifact_bytes(st->run, "split/split.json", w.buf.data, w.buf.len);
    cn_jsonw_release(&w);
    return rc;
}

static cairn_status log_record(train_state *st)
{
    cn_train_config_data *d = &st->cfg->data;
    cn_train_record r = {
        .data_path = st->data_abs,
        .data_sha256 = st->file_sha,
        .label = d->label,
        .numeric = d->numeric,
        .n_numeric = d->n_numeric,
        .categorical = d->categorical,
        .n_categorical = d->n_categorical,
        .metrics = st->metrics,
        .n_metrics = st->n_metrics,
        .bootstrap = st->bootstrap,
        .seed = st->seed,
        .task = st->is_classification ? "classification" : "regression",
        .calibration = st->cfg->plots.calibration,
        .calibration_bins = st->cfg->plots.bins > 0 ? st->cfg->plots.bins : 0,
    };
    cn_buf b = CN_BUF_INIT;
    cn_train_record_write(&r, &b);
    cairn_status rc = cairn_run_log_artifact_bytes(st->run, "train.json", b.data, b.len);
    cn_buf_release(&b);
    return rc;
}

void cn_report_metric_row(cn_buf *b, const cairn_scored_metric *m)
{
    if (!isfinite(m->value)) {
        cn_buf_printf(b, "| %s | undefined | |\n", m->name);
        return;
    }
    if (isfinite(m->ci_low))
        cn_buf_printf(b, "| %s | %.4f | [%.4f, %.4f] |\n", m->name, m->value, m->ci_low,
                      m->ci_high);
    else
        cn_buf_printf(b, "| %s | %.4f | |\n", m->name, m->value);
}

/* The train metric of a trivial model on the training rows: the majority class's share, or
 * R^2 0 (the mean predictor). */
static double trivial_baseline(const train_state *st)
{
    if (!st->is_classification)
        return 0;
    int li = cairn_table_find(st->sub, st->cfg->data.label);
    size_t nt = st->split->n[CAIRN_SPLIT_TRAIN];
    if (li < 0 || nt == 0)
        return NAN;
    const cairn_column *c = &st->sub->cols[li];
    double *v = cn_xmalloc(nt * sizeof *v);
    for (size_t i = 0; i < nt; i++)
        v[i] = c->type == CAIRN_COL_NUMERIC ? c->num[i] : (double)c->cat[i];
    qsort(v, nt, sizeof *v, cmp_double);
    size_t best = 0, run = 0;
    for (size_t i = 0; i < nt; i++) {
        run = i > 0 && v[i] == v[i - 1] ? run + 1 : 1;
        best = run > best ? run : best;
    }
    free(v);
    return (double)best / (double)nt;
}

/* Diagnoses the training from the epoch log (docs/diagnostics.md): tags on the run, and the
 * report's section. Runs after a failed fit too: a divergence is often why it failed. */
static void diagnose_training(train_state *st)
{
    epoch_log *ep = &st->ep;
    if (!st->run || ep->n == 0)
        return;
    static const char *const keys[4] = {"train_loss", "val_loss", "train_score", "val_score"};
    cn_diag_input in;
    memset(&in, 0, sizeof in);
    in.run_id = cairn_run_id(st->run);
    in.n = ep->n;
    cn_diag_series *slots[4] = {&in.train_loss, &in.val_loss, &in.train_metric, &in.val_metric};
    for (int j = 0; j < 4; j++)
        *slots[j] = (cn_diag_series){keys[j], ep->v[j], ep->n};
    in.metric_higher_better = true; /* accuracy, R^2 */
    cn_diag_series *g = cn_xcalloc(ep->n_layers ? ep->n_layers : 1, sizeof *g);
    double *gv = cn_xcalloc(ep->n * (ep->n_layers ? ep->n_layers : 1), sizeof *gv);
    for (size_t l = 0; l < ep->n_layers; l++) {
        for (size_t i = 0; i < ep->n; i++)
            gv[l * ep->n + i] = ep->g[i * ep->n_layers + l];
        g[l] = (cn_diag_series){"grad_norm", gv + l * ep->n, ep->n};
    }
    in.grad = g;
    in.n_grad = ep->n_layers;
    in.best_epoch = ep->best_epoch;
    in.baseline = trivial_baseline(st);
    in.has_baseline = isfinite(in.baseline);
    if (ep->nonfinite_epoch) {
        in.nonfinite_key = "train_loss";
        in.nonfinite_value = ep->nonfinite_loss;
        in.nonfinite_epoch = ep->nonfinite_epoch;
    }
    cairn_diagnose_opts o = CAIRN_DIAGNOSE_OPTS_INIT;
    o.gap = st->diag_gap;
    if (cn_diagnose(st->ctx, &in, &o, &st->diag) == CAIRN_OK) {
        char buf[32];
        if (in.has_baseline) {
            snprintf(buf, sizeof buf, "%.6g", in.baseline);
            (void)cairn_run_set_tag(st->run, "cairn.diagnosis.baseline", buf);
        }
        (void)cn_diagnose_tag(st->run, st->diag);
    }
    free(g);
    free(gv);
}

static cairn_status log_report(train_state *st)
{
    cn_buf b = CN_BUF_INIT;
    cairn_train_result *r = st->res;
    cn_buf_printf(&b, "# %s\n\nRun `%s`, %s with learner `%s`.\n\n## Data\n\n",
                  st->o->name         ? st->o->name
                  : st->cfg->run.name ? st->cfg->run.name
                                      : "cairn train",
                  r->run_id, r->task, st->learner);
    cn_buf_printf(&b, "Task: %s (%s).\n\n", r->task, st->task_reason);
    cn_buf_printf(&b, "- file: `%s`\n- SHA-256: `%s`\n- rows: %zu, label: `%s`, features: %zu\n",
                  st->data_abs, st->file_sha, st->t->n_rows, st->cfg->data.label, st->n_features);
    for (size_t i = 0; i < st->cfg->data.n_class_names; i++)
        cn_buf_printf(
            &b, "%s`%s` %s%s", i ? ", " : "- class names: ", st->cfg->data.class_names[i].key,
            st->cfg->data.class_names[i].value, i + 1 == st->cfg->data.n_class_names ? "\n" : "");
    cn_buf_printf(&b, "\n## Split\n\n| part | rows | index SHA-256 |\n|---|---|---|\n");
    for (int p = 0; p < CAIRN_SPLIT_N_PARTS; p++)
        cn_buf_printf(&b, "| %s | %zu | `%s` |\n", cairn_split_part_name((cairn_split_part)p),
                      st->split->n[p], st->split->sha256[p]);
    if (st->n_moved)
        cn_buf_printf(&b,
                      "\n%zu validation/test rows duplicated a training row and were moved "
                      "to train.\n",
                      st->n_moved);
    cn_buf_puts(&b, "\n" CN_REPORT_SEALED_LINE "\n");
    cn_buf_printf(&b, "\n## Learner\n\n`%s`, seed %llu", st->learner, (unsigned long long)st->seed);
    if (st->cfg->learner.class_weight)
        cn_buf_printf(&b, ", class_weight %s", st->cfg->learner.class_weight);
    if (st->cfg->learner.oversample)
        cn_buf_puts(&b, ", oversampled");
    cn_buf_puts(&b, "\n\n| param | value |\n|---|---|\n");
    for (size_t i = 0; i < st->n_params; i++)
        cn_buf_printf(&b, "| %s | %s |\n", st->pkeys[i], st->pvalues[i]);
    cn_buf_printf(&b,
                  "\n## Validation metrics (%zu rows, bootstrap %lld resamples, 95%% CI)\n\n"
                  "| metric | value | 95%% CI |\n|---|---|---|\n",
                  r->n_val, (long long)st->bootstrap);
    for (size_t i = 0; i < r->n_metrics; i++)
        cn_report_metric_row(&b, &r->metrics[i]);
    if (r->n_cv_folds) {
        if (st->cv_desc)
            cn_buf_printf(&b,
                          "\n## Cross-validation (%s on train + validation: %zu fold scores; "
                          "std is the sample standard deviation, ddof 1)\n\n",
                          st->cv_desc, r->n_cv_folds);
        else
            cn_buf_printf(&b, "\n## Cross-validation (%zu folds on train + validation)\n\n",
                          r->n_cv_folds);
        cn_buf_puts(&b, "| metric | mean | std |\n|---|---|---|\n");
        for (size_t i = 0; i < r->n_cv; i++)
            cn_buf_printf(&b, "| %s | %.4f | %.4f |\n", r->cv[i].name, r->cv[i].mean, r->cv[i].std);
    }
    if (st->diag)
        cn_diagnose_report(&b, st->diag);
    cn_buf_puts(&b, "\n## Plots\n\n");
    for (size_t i = 0; i < st->n_plots; i++)
        cn_buf_printf(&b, "- [%s](%s)\n", st->plots[i], st->plots[i]);
    cairn_status rc = cairn_run_log_artifact_bytes(st->run, "report.md", b.data, b.len);
    cn_buf_release(&b);
    return rc;
}

/* The drift reference profile of the training rows (and the model's predictions on them),
 * stored in the model file: what `cairn drift` and the model server compare traffic with
 * (guardrail 4). A failure only warns: the model is still good. */
static void attach_drift_profile(cairn_ctx *ctx, cairn_model *m, const cairn_table *t,
                                 const size_t *rows, size_t n)
{
    cairn_drift_reference_opts ro = CAIRN_DRIFT_REFERENCE_OPTS_INIT;
    cairn_drift_reference *ref = NULL;
    ro.model = m;
    ro.rows = rows;
    ro.n_rows = n;
    cairn_status rc = cairn_drift_reference_build(ctx, t, &ro, &ref);
    if (rc != CAIRN_OK) {
        ro.model = NULL; /* e.g. missing values the learner cannot predict on */
        rc = cairn_drift_reference_build(ctx, t, &ro, &ref);
    }
    if (rc == CAIRN_OK)
        rc = cairn_drift_reference_attach(ctx, m, ref);
    if (rc != CAIRN_OK)
        cn_log(ctx, CAIRN_LOG_WARN, "train", "no drift reference profile in the model: %s",
               cairn_errmsg(ctx));
    cairn_drift_reference_free(ref);
}

/* data.class_names into the model (CN_META_CLASS_NAMES), where every scoring of it finds
 * them: the validation pictures here, eval final's and eval model's. */
static void set_class_names(train_state *st, cairn_model *m)
{
    const cn_train_config_data *d = &st->cfg->data;
    if (d->n_class_names == 0 || cairn_model_n_classes(m) == 0)
        return;
    cn_jsonw w;
    cn_jsonw_init(&w, NULL, 0);
    cn_jsonw_object_begin(&w);
    for (size_t i = 0; i < d->n_class_names; i++)
        cn_jsonw_kstring(&w, d->class_names[i].key, d->class_names[i].value);
    cn_jsonw_object_end(&w);
    cn_buf_putc(&w.buf, '\0');
    cairn_model_set_meta(m, CN_META_CLASS_NAMES, w.buf.data);
    cn_jsonw_release(&w);
}

static cairn_status fit_and_log(train_state *st)
{
    cairn_ctx *ctx = st->ctx;
    cairn_train_result *r = st->res;
    size_t nt = st->split->n[CAIRN_SPLIT_TRAIN], nv = st->split->n[CAIRN_SPLIT_VAL];
    size_t *tr = cn_xmalloc(nt * sizeof *tr), *va = cn_xmalloc((nv ? nv : 1) * sizeof *va);
    for (size_t i = 0; i < nt; i++)
        tr[i] = i;
    for (size_t i = 0; i < nv; i++)
        va[i] = nt + i;
    cairn_fit_opts fo = CAIRN_FIT_OPTS_INIT;
    fo.learner = st->learner;
    fo.param_keys = st->pkeys;
    fo.param_values = st->pvalues;
    fo.n_params = st->n_params;
    fo.seed = st->seed;
    fo.label = st->cfg->data.label;
    fo.features = st->features;
    fo.n_features = st->n_features;
    fo.train_rows = tr;
    fo.n_train = nt;
    fo.val_rows = nv ? va : NULL;
    fo.n_val = nv;
    fo.class_weight = st->cfg->learner.class_weight;
    fo.oversample = st->cfg->learner.oversample;
    fo.on_epoch = on_epoch;
    fo.user = st;
    fo.task = st->is_classification ? "classification" : "regression";
    cairn_model *m = NULL;
    void *bytes = NULL;
    size_t len = 0;
    cn_scores s;
    bool have_scores = false;
    cairn_status rc = cairn_model_fit(ctx, st->sub, &fo, &m);
    if (rc == CAIRN_OK)
        rc = cairn_run_flush(st->run);
    if (rc == CAIRN_OK)
        rc = cairn_model_record_train_rows(ctx, m, st->sub, tr, nt);
    if (rc != CAIRN_OK)
        goto done;
    r->n_epochs = st->ep.n;
    cairn_model_set_meta(m, "cairn.run_id", r->run_id);
    cairn_model_set_meta(m, "cairn.data.sha256", st->file_sha);
    cairn_model_set_meta(m, "cairn.split.test.sha256", st->split->sha256[CAIRN_SPLIT_TEST]);
    set_class_names(st, m);
    attach_drift_profile(ctx, m, st->sub, tr, nt);
    rc = cairn_model_save_bytes(ctx, m, &bytes, &len);
    if (rc == CAIRN_OK)
        rc = cairn_run_log_artifact_bytes(st->run, "model/model.cairn", bytes, len);
    if (rc == CAIRN_OK)
        rc = learning_curves(st);
    if (rc != CAIRN_OK || nv == 0)
        goto cv;
    rc = cn_scores_predict(ctx, m, st->sub, va, nv, &s);
    if (rc != CAIRN_OK)
        goto done;
    have_scores = true;
    for (size_t i = 0; i < nv; i++)
        s.rows[i] = st->split->rows[CAIRN_SPLIT_VAL][i]; /* rows of the CSV */
    r->n_metrics = st->n_metrics;
    r->metrics = cn_xcalloc(st->n_metrics ? st->n_metrics : 1, sizeof *r->metrics);
    cn_metrics_score(ctx, &s, st->metrics, st->n_metrics, (size_t)st->bootstrap, st->seed,
                     r->metrics);
    cairn_score_plot_opts po = CAIRN_SCORE_PLOT_OPTS_INIT;
    cn_train_record plots_rec = {.calibration = st->cfg->plots.calibration,
                                 .calibration_bins = st->cfg->plots.bins};
    cn_train_record_plot_opts(&plots_rec, &po);
    char *sub = plot_subtitle(st, "validation split");
    po.subtitle = sub;
    rc = cn_scores_log(ctx, st->run, &s, "val", r->metrics, r->n_metrics, "", &po, &st->plots,
                       &st->n_plots);
    free(sub);
cv:
    if (rc == CAIRN_OK && (st->cv > 0 || (st->cfg->cvx.file && st->cv < 0))) {
        fo.user = NULL;
        rc = cross_validate(st, &fo, m);
    }
done:
    if (have_scores)
        cn_scores_release(&s);
    cairn_free(bytes);
    cairn_model_free(m);
    free(tr);
    free(va);
    return rc;
}

void cairn_train_result_free(cairn_train_result *r)
{
    if (!r)
        return;
    free((char *)r->run_id);
    free((char *)r->experiment_id);
    free((char *)r->artifact_dir);
    free((char *)r->learner);
    free((char *)r->task_reason);
    /* metric names point into the result's own copies */
    for (size_t i = 0; i < r->n_metrics; i++)
        free((char *)r->metrics[i].name);
    free(r->metrics);
    for (size_t i = 0; i < r->n_cv; i++)
        free((char *)r->cv[i].name);
    free(r->cv);
    for (size_t i = 0; i < r->n_plots; i++)
        free((char *)r->plots[i]);
    free(r->plots);
    free((char *)r->diagnosis);
    free(r);
}

static void state_release(train_state *st)
{
    cairn_run_free(st->run);
    cn_train_config_free(st->cfg);
    cairn_table_free(st->t);
    cairn_table_free(st->sub);
    cairn_split_free(st->split);
    free(st->pkeys);
    free(st->pvalues);
    free(st->metrics);
    free(st->cv_desc);
    free(st->data_abs);
    free(st->features);
    free(st->expect_failed);
    free(st->expect_json);
    for (int j = 0; j < 4; j++)
        free(st->ep.v[j]);
    free(st->ep.g);
    cairn_diagnosis_free(st->diag);
    for (size_t i = 0; i < st->n_plots; i++)
        free(st->plots[i]);
    free(st->plots);
}

/* The config's metrics, or the task's defaults; checked against the task. */
static cairn_status choose_metrics(train_state *st)
{
    if (st->cfg->run.n_metrics) {
        st->n_metrics = st->cfg->run.n_metrics;
        st->metrics = cn_xcalloc(st->n_metrics, sizeof *st->metrics);
        memcpy(st->metrics, st->cfg->run.metrics, st->n_metrics * sizeof *st->metrics);
    } else {
        const char *const *def = cairn_score_default_metrics(
            st->is_classification ? CAIRN_TASK_CLASSIFICATION : CAIRN_TASK_REGRESSION);
        while (def[st->n_metrics])
            st->n_metrics++;
        st->metrics = cn_xcalloc(st->n_metrics, sizeof *st->metrics);
        for (size_t i = 0; i < st->n_metrics; i++)
            st->metrics[i] = (char *)def[i];
    }
    cairn_status rc = cairn_score_check_metrics(
        st->ctx, st->is_classification ? CAIRN_TASK_CLASSIFICATION : CAIRN_TASK_REGRESSION,
        (const char *const *)st->metrics, st->n_metrics);
    if (rc != CAIRN_OK) {
        /* say why the task is what it is, and how to change it */
        char *msg = cn_xstrdup(cairn_errmsg(st->ctx));
        cn_fail(st->ctx, rc, "%s; the task is %s (%s)", msg,
                st->is_classification ? "classification" : "regression", st->task_reason);
        free(msg);
    }
    return rc;
}

/* Everything that can be refused is checked here, before a run exists: the config, the -p
 * overrides, the learner's params against its specs, the data, the split. A message that
 * names neither the config nor the data gets the config's name (in_config). */
static cairn_status prepare(train_state *st)
{
    cairn_status rc = cn_train_config_load(st->ctx, st->o->config, &st->cfg);
    if (rc == CAIRN_OK)
        rc = settings(st);
    if (rc == CAIRN_OK)
        rc = load_data(st);
    if (rc == CAIRN_OK)
        rc = check_expect(st);
    if (rc == CAIRN_OK)
        rc = in_config(st, pick_task(st));
    if (rc == CAIRN_OK)
        rc = in_config(st, cairn_learner_check_params(st->ctx, st->learner, st->pkeys, st->pvalues,
                                                      st->n_params));
    if (rc == CAIRN_OK)
        rc = in_config(st, choose_metrics(st));
    if (rc == CAIRN_OK)
        rc = check_label(st);
    if (rc == CAIRN_OK)
        rc = in_config(st, check_class_names(st));
    if (rc == CAIRN_OK)
        rc = make_split(st);
    if (rc == CAIRN_OK)
        rc = check_features(st);
    if (rc == CAIRN_OK)
        rc = in_config(st, make_sub(st));
    return rc;
}

static cairn_status start_run(train_state *st)
{
    cn_run_config *rc_cfg = &st->cfg->run;
    cairn_run_opts ro = CAIRN_RUN_OPTS_INIT;
    ro.experiment = st->o->experiment ? st->o->experiment : rc_cfg->experiment;
    ro.name = st->o->name ? st->o->name : rc_cfg->name;
    cairn_tag *tags = NULL;
    if (rc_cfg->n_tags) {
        tags = cn_xcalloc(rc_cfg->n_tags, sizeof *tags);
        for (size_t i = 0; i < rc_cfg->n_tags; i++)
            tags[i] = (cairn_tag){rc_cfg->tags[i].key, rc_cfg->tags[i].value};
        ro.tags = tags;
        ro.n_tags = rc_cfg->n_tags;
    }
    cairn_status rc = st->o->run_id ? cairn_run_attach(st->ctx, st->o->run_id, &st->run)
                                    : in_config(st, cairn_run_start(st->ctx, &ro, &st->run));
    free(tags);
    if (rc != CAIRN_OK)
        return rc;
    cairn_train_result *r = st->res = cn_xcalloc(1, sizeof *st->res);
    r->run_id = cn_xstrdup(cairn_run_id(st->run));
    r->experiment_id = cn_xstrdup(cairn_run_experiment_id(st->run));
    r->artifact_dir = cn_run_artifact_where(st->run);
    r->learner = cn_xstrdup(st->learner);
    r->task = st->is_classification ? "classification" : "regression";
    r->task_reason = cn_xstrdup(st->task_reason);
    r->n_train = st->split->n[CAIRN_SPLIT_TRAIN];
    r->n_val = st->split->n[CAIRN_SPLIT_VAL];
    r->n_test = st->split->n[CAIRN_SPLIT_TEST];
    r->n_moved_duplicates = st->n_moved;
    return CAIRN_OK;
}

/* ---- what automl and ablate share with cairn train (train_internal.h) ---- */

typedef struct prep_impl {
    cn_train_prep pub;
    train_state st;
} prep_impl;

cairn_status cn_train_prepare(cairn_ctx *ctx, const cairn_train_opts *o, unsigned flags,
                              cn_train_prep **out)
{
    *out = NULL;
    if (!o || !o->config)
        return cn_fail(ctx, CAIRN_EINVAL, "a config file is required");
    prep_impl *p = cn_xcalloc(1, sizeof *p);
    train_state *st = &p->st;
    st->ctx = ctx;
    st->o = o;
    st->flags = flags;
    st->config_path = o->config;
    cairn_status rc = prepare(st);
    if (rc != CAIRN_OK) {
        state_release(st);
        free(p);
        return rc;
    }
    cn_train_prep *r = &p->pub;
    r->sub = st->sub;
    r->n_train = st->split->n[CAIRN_SPLIT_TRAIN];
    r->n_val = st->split->n[CAIRN_SPLIT_VAL];
    r->n_test = st->split->n[CAIRN_SPLIT_TEST];
    r->label = st->cfg->data.label;
    r->features = st->features;
    r->n_features = st->n_features;
    r->is_classification = st->is_classification;
    r->task_reason = st->task_reason;
    r->metrics = (const char *const *)st->metrics;
    r->n_metrics = st->n_metrics;
    r->seed = st->seed;
    r->bootstrap = st->bootstrap;
    r->class_weight = st->cfg->learner.class_weight;
    r->oversample = st->cfg->learner.oversample;
    r->learner = st->learner;
    r->param_keys = st->pkeys;
    r->param_values = st->pvalues;
    r->n_params = st->n_params;
    r->name = st->cfg->run.name;
    r->experiment = st->cfg->run.experiment;
    r->data_sha256 = st->file_sha;
    r->train_sha256 = st->split->sha256[CAIRN_SPLIT_TRAIN];
    r->val_sha256 = st->split->sha256[CAIRN_SPLIT_VAL];
    r->test_sha256 = st->split->sha256[CAIRN_SPLIT_TEST];
    r->val_rows = st->split->rows[CAIRN_SPLIT_VAL];
    r->test_rows = st->split->rows[CAIRN_SPLIT_TEST];
    *out = r;
    return CAIRN_OK;
}

void cn_train_prep_free(cn_train_prep *p)
{
    if (!p)
        return;
    prep_impl *impl = (prep_impl *)p;
    state_release(&impl->st);
    free(impl);
}

cairn_status cairn_train(cairn_ctx *ctx, const cairn_train_opts *o, cairn_train_result **out)
{
    return cn_train_with(ctx, o, 0, out);
}

cairn_status cn_train_with(cairn_ctx *ctx, const cairn_train_opts *o, unsigned flags,
                           cairn_train_result **out)
{
    train_state st;
    memset(&st, 0, sizeof st);
    *out = NULL;
    if (!o || !o->config)
        return cn_fail(ctx, CAIRN_EINVAL, "cairn train: a config file is required");
    st.ctx = ctx;
    st.o = o;
    st.flags = flags;
    st.config_path = o->config;
    cairn_status rc = prepare(&st);
    if (rc == CAIRN_OK)
        rc = start_run(&st);
    if (rc != CAIRN_OK)
        goto done;
    cairn_train_result *r = st.res;
    rc = log_params(&st);
    if (rc == CAIRN_OK)
        rc = log_expect(&st);
    if (rc == CAIRN_OK)
        rc = log_inputs_and_tags(&st);
    if (rc == CAIRN_OK)
        rc = log_split(&st);
    if (rc == CAIRN_OK)
        rc = log_record(&st);
    if (rc == CAIRN_OK)
        rc = fit_and_log(&st);
    if (!st.diag)
        diagnose_training(&st); /* after a failed fit too: a divergence is often why */
    if (rc == CAIRN_OK)
        rc = log_report(&st);
    /* names owned by the result from here on */
    for (size_t i = 0; i < r->n_metrics; i++)
        r->metrics[i].name = cn_xstrdup(r->metrics[i].name);
    for (size_t i = 0; i < r->n_cv; i++)
        r->cv[i].name = cn_xstrdup(r->cv[i].name);
    if (rc == CAIRN_OK) {
        rc = o->run_id ? CAIRN_OK : cairn_run_finish(st.run, CAIRN_RUN_FINISHED);
    } else {
        char *msg = cn_xstrdup(cairn_errmsg(ctx));
        /* why, on the run itself: `runs show` prints it */
        (void)cairn_run_set_tag(st.run, "cairn.failure_reason", msg);
        if (!o->run_id)
            (void)cairn_run_finish(st.run, CAIRN_RUN_FAILED);
        cn_fail(ctx, rc, "%s", msg);
        free(msg);
    }
    if (rc == CAIRN_OK && st.diag) {
        cn_buf b = CN_BUF_INIT;
        for (size_t i = 0; i < st.diag->n_findings; i++)
            if (st.diag->findings[i].is_problem)
                cn_buf_printf(&b, "%s%s: %s", b.len ? "; " : "", st.diag->findings[i].kind,
                              st.diag->findings[i].evidence);
        r->diagnosis = b.len ? cn_buf_detach(&b) : cn_xstrdup("none");
        cn_buf_release(&b);
    }
    if (rc == CAIRN_OK) {
        r->plots = (const char **)st.plots;
        r->n_plots = st.n_plots;
        st.plots = NULL;
        st.n_plots = 0;
        *out = r;
        st.res = NULL;
    }
done:
    cairn_train_result_free(st.res);
    state_release(&st);
    return rc;
}
