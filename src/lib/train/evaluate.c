/* SPDX-License-Identifier: MIT */
/* evaluate.c - evaluation with the guardrails: `eval model` scores a saved model on a CSV and
 * refuses rows it trained on; `eval final` opens a run's sealed test split and counts the
 * looks. `eval compare` is in compare.c. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "cairn/eval.h"
#include "cairn/train.h"
#include "core/core.h"
#include "tracking/runs.h"
#include "train/train_internal.h"
#include "base/buf.h"
#include "base/fs.h"
#include "base/sha256.h"
#include "base/str.h"
#include "base/time.h"
#include "base/xmalloc.h"
#include "base/map.h"
#include "base/banned.h"

/* ---- shared pieces ---- */

static const char *tag_of(const cairn_run_record *rec, const char *key)
{
    for (size_t i = 0; i < rec->n_tags; i++)
        if (strcmp(rec->tags[i].key, key) == 0)
            return rec->tags[i].value;
    return NULL;
}

/* The model file's record in the store must match the file: a file whose training-row record
 * was edited and re-sealed is a valid model file, so only the SHA-256 the run logged with it
 * tells it apart. Runs this store does not know (a file from elsewhere) are not checked. */
static cairn_status check_logged(cairn_ctx *ctx, const char *path, const char *run_id)
{
    cairn_artifact_list *list = NULL;
    if (cairn_run_artifacts_list(ctx, run_id, "model", &list) != CAIRN_OK)
        return CAIRN_OK; /* not a run of this store */
    const char *logged = NULL;
    for (size_t i = 0; i < list->n; i++)
        if (strcmp(list->items[i].path, "model/model.cairn") == 0)
            logged = list->items[i].sha256;
    char sha[65];
    int64_t size = 0;
    cairn_status rc = logged ? cairn_file_sha256(ctx, path, sha, &size) : CAIRN_OK;
    if (rc != CAIRN_OK)
        cn_errctx(ctx, "model file '%s'", path);
    else if (logged && strcmp(sha, logged) != 0)
        rc = cn_fail(ctx, CAIRN_EINVAL,
                     "refusing to evaluate: model file '%s' changed since run %s logged it "
                     "(sha256 %.12s..., the store records %.12s...); its record of the training "
                     "rows cannot be trusted: evaluate the logged model or train again",
                     path, run_id, sha, logged);
    cairn_artifact_list_free(list);
    return rc;
}

/* A model file path, or a run id whose model/model.cairn is loaded. */
static cairn_status load_model(cairn_ctx *ctx, const char *spec, cairn_model **m, char **run_id)
{
    *m = NULL;
    *run_id = NULL;
    char *path = NULL;
    cairn_status rc;
    bool is_file = cn_fs_exists(spec) && !cn_fs_is_dir(spec);
    if (is_file) {
        path = cn_xstrdup(spec);
    } else {
        rc = cairn_run_artifact_path(ctx, spec, "model/model.cairn", &path);
        if (rc != CAIRN_OK || !cn_fs_exists(path)) {
            cairn_free(path);
            return cn_fail(ctx, CAIRN_ENOTFOUND,
                           "'%s' is neither a model file nor a run with a model/model.cairn "
                           "artifact",
                           spec);
        }
    }
    rc = cairn_model_load(ctx, path, m);
    if (rc != CAIRN_OK) {
        if (is_file)
            cn_errctx(ctx, "model file '%s'", spec);
        else
            cn_errctx(ctx, "run '%s' model", spec);
        free(path);
        return rc;
    }
    const char *rid = is_file ? cairn_model_get_meta(*m, "cairn.run_id") : spec;
    *run_id = rid ? cn_xstrdup(rid) : NULL;
    rc = *run_id ? check_logged(ctx, path, *run_id) : CAIRN_OK;
    free(path);
    if (rc != CAIRN_OK) {
        cairn_model_free(*m);
        *m = NULL;
        free(*run_id);
        *run_id = NULL;
    }
    return rc;
}

/* Appends name to list (room for it is there) unless seen already holds it. */
static void add_name(cn_map *seen, const char **list, size_t *n, const char *name)
{
    if (cn_map_add(seen, name, strlen(name), *n, NULL))
        list[(*n)++] = name;
}

/* Reads a CSV for a model: its categorical features (and a classifier's label) are declared
 * categorical, its numeric features numeric, where the file has those columns. */
cairn_status cairn_model_read_csv(cairn_ctx *ctx, const cairn_model *m, const char *path,
                                  cairn_table **out)
{
    cairn_table *t = NULL;
    cairn_status rc = cairn_csv_read(ctx, path, NULL, &t);
    if (rc != CAIRN_OK)
        return rc;
    size_t n_features = cairn_model_n_features(m), n_num = 0, n_cat = 0;
    const char **num = cn_xcalloc(n_features + 1, sizeof *num);
    const char **cat = cn_xcalloc(n_features + 1, sizeof *cat);
    cn_map seen_num = CN_MAP_INIT, seen_cat = CN_MAP_INIT;
    for (size_t f = 0; f < n_features; f++) {
        const char *name = cairn_model_feature_name(m, f);
        if (cairn_table_find(t, name) < 0)
            continue;
        if (cairn_model_feature_type(m, f) == CAIRN_COL_CATEGORICAL)
            add_name(&seen_cat, cat, &n_cat, name);
        else
            add_name(&seen_num, num, &n_num, name);
    }
    if (cairn_model_n_classes(m) > 0 && cairn_table_find(t, cairn_model_label(m)) >= 0)
        add_name(&seen_cat, cat, &n_cat, cairn_model_label(m));
    cn_map_release(&seen_num);
    cn_map_release(&seen_cat);
    cairn_table_free(t);
    t = NULL;
    cairn_csv_opts co = CAIRN_CSV_OPTS_INIT;
    co.numeric = num;
    co.n_numeric = n_num;
    co.categorical = cat;
    co.n_categorical = n_cat;
    rc = cairn_csv_read(ctx, path, &co, out);
    free(num);
    free(cat);
    return rc;
}

/* Features present with the model's types, and the label: named errors before predicting. */
static cairn_status check_columns(cairn_ctx *ctx, const cairn_model *m, const cairn_table *t,
                                  const char *path)
{
    for (size_t f = 0; f < cairn_model_n_features(m); f++) {
        const char *name = cairn_model_feature_name(m, f);
        int c = cairn_table_find(t, name);
        cairn_col_type want = cairn_model_feature_type(m, f);
        const char *tn = want == CAIRN_COL_NUMERIC ? "numeric" : "categorical";
        if (c < 0)
            return cn_fail(ctx, CAIRN_EINVAL,
                           "data '%s' has no column '%s', a %s feature of the model; the model "
                           "was trained on another feature set",
                           path, name, tn);
        if (t->cols[c].type != want)
            return cn_fail(
                ctx, CAIRN_EINVAL, "data '%s' column '%s' is %s; the model expects a %s feature",
                path, name, t->cols[c].type == CAIRN_COL_NUMERIC ? "numeric" : "categorical", tn);
    }
    if (cairn_table_find(t, cairn_model_label(m)) < 0)
        return cn_fail(ctx, CAIRN_EINVAL, "data '%s' has no label column '%s'", path,
                       cairn_model_label(m));
    return CAIRN_OK;
}

static cairn_status refuse_overlap(cairn_ctx *ctx, const cairn_model *m, const cairn_table *t,
                                   const size_t *rows, size_t n, const char *run_id)
{
    size_t overlap = 0;
    cairn_status rc = cairn_model_count_train_overlap(ctx, m, t, rows, n, &overlap);
    if (rc != CAIRN_OK)
        return rc;
    if (overlap > 0)
        return cn_fail(ctx, CAIRN_EINVAL,
                       "refusing to evaluate: %zu of %zu rows were used to train this model "
                       "(run %s); evaluate on held-out rows",
                       overlap, n, run_id ? run_id : "unknown");
    return CAIRN_OK;
}

static cairn_eval_report *report_new(const cn_scores *s, char *const *names, size_t n_names)
{
    cairn_eval_report *r = cn_xcalloc(1, sizeof *r);
    r->task = s->is_classification ? "classification" : "regression";
    r->n_rows = s->n;
    r->n_metrics = n_names;
    r->metrics = cn_xcalloc(n_names ? n_names : 1, sizeof *r->metrics);
    (void)names;
    return r;
}

void cairn_eval_report_free(cairn_eval_report *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->n_metrics; i++)
        free((char *)r->metrics[i].name);
    free(r->metrics);
    free((char *)r->model_run_id);
    free((char *)r->logged_run_id);
    free((char *)r->artifact_dir);
    free(r);
}

static void own_names(cairn_eval_report *r)
{
    for (size_t i = 0; i < r->n_metrics; i++)
        r->metrics[i].name = cn_xstrdup(r->metrics[i].name);
}

static size_t n_boot_of(const cairn_eval_opts *o, int64_t recorded)
{
    if (o && o->bootstrap < 0)
        return 0;
    if (o && o->bootstrap > 0)
        return (size_t)o->bootstrap;
    return recorded > 0 ? (size_t)recorded : recorded == 0 ? 0 : 1000;
}

/* Logs an evaluation as a new run: the data as an input, the model and data as params, the
 * metrics, predictions and pictures. *run is the new run's handle (the caller frees it). */
static cairn_status log_eval_run(cairn_ctx *ctx, const cairn_eval_opts *o, const char *model,
                                 const char *run_id, const cairn_model *m, cn_scores *s,
                                 cairn_eval_report *r, cairn_run **run_out)
{
    cairn_run *run = NULL;
    cairn_status rc;
    *run_out = NULL;
    cairn_run_opts ro = CAIRN_RUN_OPTS_INIT;
    cairn_run_record *src = NULL;
    if (!o->experiment && run_id && cairn_run_get(ctx, run_id, &src) == CAIRN_OK)
        ro.experiment_id = src->info.experiment_id;
    ro.experiment = o->experiment;
    char *name = cn_asprintf("eval-%s", cairn_model_learner(m));
    ro.name = name;
    rc = cairn_run_start(ctx, &ro, &run);
    free(name);
    cairn_run_record_free(src);
    if (rc != CAIRN_OK)
        return rc;
    char sha[65];
    int64_t size;
    rc = cairn_file_sha256(ctx, o->data, sha, &size);
    cairn_dataset_input in = {.name = o->data,
                              .digest = sha,
                              .source_type = "local",
                              .source = o->data,
                              .context = "evaluation"};
    if (rc == CAIRN_OK)
        rc = cairn_run_log_input(run, &in);
    if (rc == CAIRN_OK)
        rc = cairn_run_log_param(run, "model", model);
    if (rc == CAIRN_OK)
        rc = cairn_run_log_param(run, "data.path", o->data);
    if (rc == CAIRN_OK && run_id)
        rc = cairn_run_set_tag(run, "cairn.eval.model_run", run_id);
    char **paths = NULL;
    size_t n_paths = 0;
    const char *base = strrchr(o->data, '/');
    char *split = cn_asprintf("rows of %s", base ? base + 1 : o->data);
    cairn_score_plot_opts po = CAIRN_SCORE_PLOT_OPTS_INIT;
    char *sub = cn_plot_subtitle(split, run_id, NULL, cairn_model_learner(m));
    po.subtitle = sub;
    if (rc == CAIRN_OK)
        rc = cn_scores_log(ctx, run, s, "eval", r->metrics, r->n_metrics, "eval_", &po, &paths,
                           &n_paths);
    free(sub);
    free(split);
    for (size_t i = 0; i < n_paths; i++)
        free(paths[i]);
    free(paths);
    if (rc == CAIRN_OK)
        rc = cairn_run_finish(run, CAIRN_RUN_FINISHED);
    else
        (void)cairn_run_set_status(run, CAIRN_RUN_FAILED, 0);
    r->logged_run_id = cn_xstrdup(cairn_run_id(run));
    r->artifact_dir = cn_run_artifact_where(run);
    *run_out = run;
    return rc;
}

/* ---- eval model ---- */

/* The rows to score: o->rows' index file, else all n of them. */
static cairn_status eval_rows(cairn_ctx *ctx, const cairn_eval_opts *o, size_t n, size_t **rows,
                              size_t *n_rows)
{
    *rows = NULL;
    *n_rows = 0;
    if (!o->rows) {
        *rows = cn_xmalloc((n ? n : 1) * sizeof **rows);
        for (size_t i = 0; i < n; i++)
            (*rows)[i] = i;
        *n_rows = n;
        return CAIRN_OK;
    }
    cn_buf text = CN_BUF_INIT;
    if (cn_fs_read_file(o->rows, &text, (size_t)1 << 30) != 0)
        return cn_fail_errno(ctx, CAIRN_EINVAL, "--rows '%s'", o->rows);
    cairn_status rc = cairn_index_parse(ctx, text.data ? text.data : "", text.len, n, rows, n_rows);
    cn_buf_release(&text);
    if (rc != CAIRN_OK) {
        cn_errctx(ctx, "--rows '%s' (row indices of '%s', %zu rows)", o->rows, o->data, n);
        return rc;
    }
    if (*n_rows == 0) {
        free(*rows);
        *rows = NULL;
        return cn_fail(ctx, CAIRN_EINVAL, "--rows '%s' lists no rows; nothing to evaluate",
                       o->rows);
    }
    return CAIRN_OK;
}

cairn_status cairn_eval_model(cairn_ctx *ctx, const char *model, const cairn_eval_opts *o,
                              cairn_eval_report **out)
{
    *out = NULL;
    if (!model || !o || !o->data)
        return cn_fail(ctx, CAIRN_EINVAL, "eval model: a model and --data CSV are required");
    cairn_model *m = NULL;
    char *run_id = NULL;
    cairn_table *t = NULL;
    cn_scores s;
    bool have_scores = false;
    cn_train_record rec;
    bool have_rec = false;
    cairn_eval_report *r = NULL;
    cairn_run *run = NULL;
    cn_buf text = CN_BUF_INIT;
    char **names = NULL;
    size_t n_names = 0;
    int64_t recorded_boot = -1;
    cairn_status rc = load_model(ctx, model, &m, &run_id);
    if (rc == CAIRN_OK)
        rc = cairn_model_read_csv(ctx, m, o->data, &t);
    if (rc == CAIRN_OK)
        rc = check_columns(ctx, m, t, o->data);
    size_t *all = NULL, n_all = 0;
    if (rc == CAIRN_OK)
        rc = eval_rows(ctx, o, t->n_rows, &all, &n_all);
    if (rc == CAIRN_OK)
        rc = refuse_overlap(ctx, m, t, all, n_all, run_id);
    if (rc != CAIRN_OK) {
        free(all);
        goto done;
    }
    rc = cn_scores_predict(ctx, m, t, all, n_all, &s);
    free(all);
    if (rc != CAIRN_OK) {
        cn_errctx(ctx, "data '%s'", o->data);
        goto done;
    }
    have_scores = true;
    /* the metrics the training run chose, else the task's defaults */
    if (run_id && cn_run_artifact_read(ctx, run_id, "train.json", &text) == CAIRN_OK &&
        cn_train_record_parse(ctx, text.data, text.len, &rec) == CAIRN_OK) {
        have_rec = true;
        names = rec.metrics;
        n_names = rec.n_metrics;
        recorded_boot = rec.bootstrap;
    } else {
        const char *const *def = cairn_score_default_metrics(s.pred.task);
        while (def[n_names])
            n_names++;
        names = (char **)def;
    }
    r = report_new(&s, names, n_names);
    cn_metrics_score(ctx, &s, names, n_names, n_boot_of(o, recorded_boot), o->seed, r->metrics);
    own_names(r);
    r->model_run_id = run_id ? cn_xstrdup(run_id) : NULL;
    if (o->log)
        rc = log_eval_run(ctx, o, model, run_id, m, &s, r, &run);
    if (rc == CAIRN_OK) {
        *out = r;
        r = NULL;
    }
done:
    cairn_run_free(run);
    cairn_eval_report_free(r);
    if (have_rec)
        cn_train_record_release(&rec);
    if (have_scores)
        cn_scores_release(&s);
    cn_buf_release(&text);
    cairn_table_free(t);
    cairn_model_free(m);
    free(run_id);
    return rc;
}

/* Opens the seal of a run's test split: the data file must have the digest recorded at
 * training and split/test.idx the digest tagged on the run; reads the table and the rows. */
static cairn_status open_sealed_test(cairn_ctx *ctx, const char *run_id, const cairn_run_record *rr,
                                     const cn_train_record *rec, cn_buf *idx, cairn_table **t,
                                     size_t **rows, size_t *n_rows)
{
    cairn_status rc;
    char sha[65];
    int64_t size;
    rc = cairn_file_sha256(ctx, rec->data_path, sha, &size);
    if (rc != CAIRN_OK)
        return rc;
    if (strcmp(sha, rec->data_sha256) != 0)
        return cn_fail(ctx, CAIRN_EINVAL,
                       "data '%s' changed since run %s was trained (SHA-256 %.12s..., was "
                       "%.12s...); its sealed test split no longer applies",
                       rec->data_path, run_id, sha, rec->data_sha256);
    cairn_csv_opts co = CAIRN_CSV_OPTS_INIT;
    co.numeric = (const char *const *)rec->numeric;
    co.n_numeric = rec->n_numeric;
    co.categorical = (const char *const *)rec->categorical;
    co.n_categorical = rec->n_categorical;
    rc = cairn_csv_read(ctx, rec->data_path, &co, t);
    if (rc == CAIRN_OK)
        rc = cn_run_artifact_read(ctx, run_id, "split/test.idx", idx);
    if (rc == CAIRN_OK)
        rc = cairn_index_parse(ctx, idx->data ? idx->data : "", idx->len, (*t)->n_rows, rows,
                               n_rows);
    if (rc != CAIRN_OK)
        return rc;
    char idx_sha[65];
    cn_sha256_hex(idx->data ? idx->data : "", idx->len, idx_sha);
    const char *want = tag_of(rr, "cairn.split.test.sha256");
    if (want && strcmp(want, idx_sha) != 0)
        return cn_fail(ctx, CAIRN_EINVAL,
                       "run %s: split/test.idx does not match the digest recorded at training",
                       run_id);
    if (*n_rows == 0)
        return cn_fail(ctx, CAIRN_EINVAL,
                       "run %s has an empty test split (split.test was 0); nothing to evaluate",
                       run_id);
    return CAIRN_OK;
}

/* ---- eval final ---- */

/* report.md after a look at the test split: the sealed line says it was opened, and a "Test
 * metrics" section (replacing the one an earlier look wrote) holds the scores. A run without
 * report.md (made by an older cairn) is left as it is. */
static cairn_status update_report(cairn_ctx *ctx, cairn_run *run, const char *run_id,
                                  const cairn_eval_report *r, size_t n_boot)
{
    cn_buf old = CN_BUF_INIT, b = CN_BUF_INIT;
    if (cn_run_artifact_read(ctx, run_id, "report.md", &old) != CAIRN_OK) {
        cn_buf_release(&old);
        return CAIRN_OK;
    }
    char when[32];
    time_t now = (time_t)(cn_now_ms() / 1000);
    struct tm tm;
    strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S UTC", gmtime_r(&now, &tm));
    const char *text = old.data ? old.data : "";
    const char *sec = strstr(text, "\n## Test metrics");
    size_t keep = sec ? (size_t)(sec - text) + 1 : strlen(text);
    const char *after = NULL;
    if (sec) { /* the section ends at the next heading */
        after = strstr(sec + 1, "\n## ");
        after = after ? after + 1 : NULL;
    }
    const char *sealed = strstr(text, CN_REPORT_SEALED_LINE);
    for (size_t i = 0; i < keep; i++) {
        if (sealed && text + i == sealed) {
            cn_buf_printf(&b,
                          "The test split was opened by `cairn eval final` (look %lld, %s): "
                          "see \"Test metrics\".",
                          (long long)r->looks, when);
            i += strlen(CN_REPORT_SEALED_LINE) - 1;
            continue;
        }
        cn_buf_putc(&b, text[i]);
    }
    if (after)
        cn_buf_puts(&b, after);
    if (b.len && b.data[b.len - 1] != '\n')
        cn_buf_putc(&b, '\n');
    cn_buf_printf(&b,
                  "\n## Test metrics (%zu rows, bootstrap %lld resamples, 95%% CI; look %lld, "
                  "%s)\n\n| metric | value | 95%% CI |\n|---|---|---|\n",
                  r->n_rows, (long long)n_boot, (long long)r->looks, when);
    for (size_t i = 0; i < r->n_metrics; i++)
        cn_report_metric_row(&b, &r->metrics[i]);
    if (r->looks > 1)
        cn_buf_puts(&b, "\nThe test split had been looked at before: these scores no longer "
                        "estimate performance on unseen data.\n");
    cairn_status rc = cairn_run_log_artifact_bytes(run, "report.md", b.data, b.len);
    cn_buf_release(&old);
    cn_buf_release(&b);
    return rc;
}

cairn_status cairn_eval_final(cairn_ctx *ctx, const char *run_id, const cairn_eval_opts *o,
                              cairn_eval_report **out)
{
    *out = NULL;
    cairn_run_record *rr = NULL;
    cn_buf text = CN_BUF_INIT, idx = CN_BUF_INIT;
    cn_train_record rec;
    bool have_rec = false, have_scores = false;
    cairn_model *m = NULL;
    char *model_run = NULL;
    cairn_table *t = NULL;
    size_t *rows = NULL, n_rows = 0;
    cn_scores s;
    cairn_run *run = NULL;
    cairn_eval_report *r = NULL;
    cairn_status rc = cairn_run_get(ctx, run_id, &rr);
    if (rc != CAIRN_OK)
        goto done;
    rc = cn_run_artifact_read(ctx, run_id, "train.json", &text);
    if (rc == CAIRN_OK)
        rc = cn_train_record_parse(ctx, text.data, text.len, &rec);
    if (rc != CAIRN_OK)
        goto done;
    have_rec = true;
    rc = load_model(ctx, run_id, &m, &model_run);
    if (rc != CAIRN_OK)
        goto done;
    rc = open_sealed_test(ctx, run_id, rr, &rec, &idx, &t, &rows, &n_rows);
    if (rc != CAIRN_OK)
        goto done;
    rc = refuse_overlap(ctx, m, t, rows, n_rows, run_id);
    if (rc == CAIRN_OK)
        rc = cn_scores_predict(ctx, m, t, rows, n_rows, &s);
    if (rc != CAIRN_OK)
        goto done;
    have_scores = true;
    r = report_new(&s, rec.metrics, rec.n_metrics);
    cn_metrics_score(ctx, &s, rec.metrics, rec.n_metrics, n_boot_of(o, rec.bootstrap),
                     o && o->seed ? o->seed : rec.seed, r->metrics);
    own_names(r);
    r->model_run_id = cn_xstrdup(run_id);
    /* Count the looks: a second one is flagged on the run, not refused. */
    const char *looks_text = tag_of(rr, "cairn.test.looks");
    const char *last_text = tag_of(rr, "cairn.test.last_look_ms");
    int64_t looks = 0, last = 0;
    if (looks_text)
        (void)cn_parse_int64(looks_text, &looks);
    if (last_text)
        (void)cn_parse_int64(last_text, &last);
    r->looks = looks + 1;
    r->previous_look_ms = looks > 0 ? last : 0;
    rc = cairn_run_attach(ctx, run_id, &run);
    if (rc != CAIRN_OK)
        goto done;
    char lbuf[32], tbuf[32];
    snprintf(lbuf, sizeof lbuf, "%lld", (long long)r->looks);
    snprintf(tbuf, sizeof tbuf, "%lld", (long long)cn_now_ms());
    cairn_tag tags[3] = {{"cairn.test.looks", lbuf},
                         {"cairn.test.last_look_ms", tbuf},
                         {"cairn.test.second_look", "true"}};
    rc = cairn_run_log_batch(run, NULL, 0, NULL, 0, tags, r->looks > 1 ? 3 : 2);
    char **paths = NULL;
    size_t n_paths = 0;
    cairn_score_plot_opts po = CAIRN_SCORE_PLOT_OPTS_INIT;
    cn_train_record_plot_opts(&rec, &po);
    char *sub = cn_plot_subtitle("test split", run_id, rr->info.run_name, cairn_model_learner(m));
    po.subtitle = sub;
    if (rc == CAIRN_OK)
        rc = cn_scores_log(ctx, run, &s, "test", r->metrics, r->n_metrics, "test_", &po, &paths,
                           &n_paths);
    free(sub);
    for (size_t i = 0; i < n_paths; i++)
        free(paths[i]);
    free(paths);
    if (rc == CAIRN_OK)
        rc = update_report(ctx, run, run_id, r, n_boot_of(o, rec.bootstrap));
    if (rc == CAIRN_OK)
        rc = cairn_run_flush(run);
    if (rc == CAIRN_OK && r->looks > 1)
        cn_log(ctx, CAIRN_LOG_INFO, "eval",
               "the test set of run %s has been looked at before (%lld times); this look is "
               "flagged on the run (cairn.test.second_look=true)",
               run_id, (long long)(r->looks - 1));
    if (rc == CAIRN_OK) {
        r->artifact_dir = cn_run_artifact_where(run);
        *out = r;
        r = NULL;
    }
done:
    cairn_run_free(run);
    cairn_eval_report_free(r);
    if (have_scores)
        cn_scores_release(&s);
    if (have_rec)
        cn_train_record_release(&rec);
    cairn_free(rows);
    cairn_table_free(t);
    cairn_model_free(m);
    free(model_run);
    cn_buf_release(&text);
    cn_buf_release(&idx);
    cairn_run_record_free(rr);
    return rc;
}
