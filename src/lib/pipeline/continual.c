/* SPDX-License-Identifier: MIT */
/* continual.c - `cairn pipeline watch`: checks a pipeline's trigger: section (the feed's drift
 * against the served model's reference, the monitoring run's drift decision, a schedule), and
 * when it fires retrains on the champion's training data plus the feed, gates the candidate
 * against forgetting (paired tests per slice of held-out rows, Holm over the old slices),
 * registers it and serves it as a canary beside the champion. docs/pipeline.md, "Triggers". */
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "pipeline/pipeline_int.h"
#include "cairn/data.h"
#include "cairn/drift.h"
#include "cairn/eval.h"
#include "cairn/learn.h"
#include "cairn/registry.h"
#include "cairn/tracking.h"
#include "cairn/train.h"
#include "core/core.h"
#include "formats/tree.h"
#include "train/train_config.h"
#include "train/train_internal.h"
#include "base/buf.h"
#include "base/fs.h"
#include "base/jsonw.h"
#include "base/str.h"
#include "base/time.h"
#include "base/xmalloc.h"
#include "base/banned.h"

#define TAG_C "cairn.continual."
#define FEED_HOLDOUT 0.3 /* the share of the feed's rows held out for the gate */
#define MIN_SLICE_ROWS 10
#define ALPHA 0.05

/* ---- Holm ---- */

static int cmp_pidx(const void *a, const void *b, void *user)
{
    const double *p = user;
    size_t i = *(const size_t *)a, j = *(const size_t *)b;
    return p[i] < p[j] ? -1 : p[i] > p[j] ? 1 : (i > j) - (i < j);
}

static void sort_idx(size_t *idx, size_t n, const double *p)
{
    for (size_t i = 1; i < n; i++) /* insertion sort: slices are few */
        for (size_t j = i; j > 0 && cmp_pidx(&idx[j - 1], &idx[j], (void *)p) > 0; j--) {
            size_t t = idx[j];
            idx[j] = idx[j - 1];
            idx[j - 1] = t;
        }
}

void cn_holm(const double *p, size_t n, double *adj)
{
    size_t *idx = cn_xcalloc(n ? n : 1, sizeof *idx), m = 0;
    for (size_t i = 0; i < n; i++) {
        adj[i] = NAN;
        if (!isnan(p[i]))
            idx[m++] = i;
    }
    sort_idx(idx, m, p);
    double run = 0;
    for (size_t j = 0; j < m; j++) {
        double a = (double)(m - j) * p[idx[j]];
        if (a > 1)
            a = 1;
        if (a > run)
            run = a;
        adj[idx[j]] = run;
    }
    free(idx);
}

/* ---- the report ---- */

typedef struct slice_in {
    char *name;
    bool is_new;
    size_t *rows;
    size_t n;
} slice_in;

typedef struct watch_in {
    cairn_watch_report r;
    char *trigger, *reason, *model, *run_id, *dir, *slice_rule, *refusal, *serve_url;
    char **slice_names;
} watch_in;

void cairn_watch_report_free(cairn_watch_report *r)
{
    if (!r)
        return;
    watch_in *w = r->internal_;
    free(w->trigger);
    free(w->reason);
    free(w->model);
    free(w->run_id);
    free(w->dir);
    free(w->slice_rule);
    free(w->refusal);
    free(w->serve_url);
    for (size_t i = 0; i < r->n_slices; i++)
        free(w->slice_names[i]);
    free(w->slice_names);
    free(r->slices);
    free(w);
}

int64_t cairn_pipeline_watch_interval_s(const cairn_pipeline *p)
{
    return p->trigger_every_s > 0 ? p->trigger_every_s : 60;
}

/* ---- small helpers ---- */

static char *in_dir(const cairn_pipeline *p, const char *path)
{
    if (path[0] == '/' || strcmp(p->dir, ".") == 0)
        return cn_xstrdup(path);
    return cn_path_join(p->dir, path);
}

static char *absolute(const char *path)
{
    char *r = realpath(path, NULL);
    char *out = cn_xstrdup(r ? r : path);
    free(r);
    return out;
}

static const cn_stage *find_kind(const cairn_pipeline *p, cn_stage_kind kind)
{
    for (size_t k = 0; k < p->n; k++) {
        const cn_stage *s = &p->stages[p->order[k]];
        if (s->kind == kind)
            return s;
    }
    return NULL;
}

typedef struct argv_b {
    char **v;
    size_t n;
} argv_b;

static void arg(argv_b *a, const char *s)
{
    a->v = cn_tree_grow(a->v, a->n + 1, sizeof *a->v);
    a->v[a->n++] = cn_xstrdup(s);
    a->v[a->n] = NULL;
}

static void argv_release(argv_b *a)
{
    for (size_t i = 0; i < a->n; i++)
        free(a->v[i]);
    free(a->v);
    memset(a, 0, sizeof *a);
}

static void cairn_head(const cairn_watch_opts *o, argv_b *a)
{
    arg(a, o->cairn_exe);
    if (o->store_uri && *o->store_uri) {
        arg(a, "--store");
        arg(a, o->store_uri);
    }
    if (o->artifact_root && *o->artifact_root) {
        arg(a, "--artifacts");
        arg(a, o->artifact_root);
    }
}

/* Runs a cairn command in the pipeline's folder with its output in dir/NAME.{out,err}; *json
 * (may be NULL) gets the parsed stdout. */
static cairn_status run_child(cairn_ctx *ctx, const cairn_pipeline *p, argv_b *a, const char *dir,
                              const char *name, cn_tree **json)
{
    char *out = cn_asprintf("%s/%s.out", dir, name), *err = cn_asprintf("%s/%s.err", dir, name);
    int code = 0;
    cairn_status rc = cn_pipeline_spawn_wait(ctx, a->v, p->dir, out, err, &code);
    if (rc == CAIRN_OK && code != 0) {
        char *why = cn_pipeline_last_error(err);
        rc = cn_fail(ctx, CAIRN_EINVAL, "'cairn %s' failed (exit %d): %s (logs in %s)", name, code,
                     why ? why : "no message", dir);
        free(why);
    }
    if (rc == CAIRN_OK && json) {
        char *text = cn_pipeline_read_small(out);
        rc = text ? cn_tree_parse(ctx, "json", out, CN_TREE_JSON, text, strlen(text), json)
                  : cn_fail(ctx, CAIRN_EIO, "'cairn %s' printed nothing", name);
        free(text);
    }
    free(out);
    free(err);
    return rc;
}

static const char *jget(const cn_tree *t, const char *key)
{
    const cn_node *n = cn_node_get(cn_tree_root(t), key);
    return n && n->kind == CN_NODE_SCALAR ? n->text : NULL;
}

/* ---- the champion ---- */

typedef struct champion {
    const cn_stage *deploy, *train;
    const char *model, *alias;
    cairn_model_version *v;
    cairn_model *m;
    char *model_path;
} champion;

static void champion_release(champion *c)
{
    cairn_model_version_free(c->v);
    cairn_model_free(c->m);
    free(c->model_path);
}

static cairn_status find_champion(cairn_ctx *ctx, const cairn_pipeline *p, champion *c)
{
    c->deploy = find_kind(p, CN_STAGE_DEPLOY);
    c->train = find_kind(p, CN_STAGE_TRAIN);
    if (!c->deploy)
        return cn_fail(ctx, CAIRN_EINVAL,
                       "pipeline '%s': the trigger needs a deploy stage (the served model it "
                       "retrains and the server the canary joins); add one such as "
                       "'serve: {kind: deploy, model: NAME, alias: production}'",
                       p->label);
    if (!c->train || !c->train->config)
        return cn_fail(ctx, CAIRN_EINVAL,
                       "pipeline '%s': the trigger needs a train stage with a config (the "
                       "learner, params and data the candidate is trained with); add one",
                       p->label);
    const cn_stage *promote = find_kind(p, CN_STAGE_PROMOTE);
    c->model = c->deploy->model;
    c->alias = c->deploy->alias ? c->deploy->alias : promote ? promote->to : "production";
    if (cairn_model_version_get_by_alias(ctx, c->model, c->alias, &c->v) != CAIRN_OK)
        return cn_fail(ctx, CAIRN_EINVAL,
                       "model '%s' has no version at @%s yet, so there is nothing to retrain; "
                       "run 'cairn pipeline run' first",
                       c->model, c->alias);
    if (!*c->v->run_id)
        return cn_fail(ctx, CAIRN_EINVAL,
                       "model '%s' version %lld has no training run to take the training "
                       "rows from; register it from a 'cairn train' run",
                       c->model, (long long)c->v->version);
    char ref[512];
    snprintf(ref, sizeof ref, "models:/%s/%lld", c->model, (long long)c->v->version);
    cairn_model_ref mr = {0};
    cairn_status rc = cairn_model_ref_resolve(ctx, ref, &mr);
    if (rc == CAIRN_OK) {
        c->model_path = cn_xstrdup(mr.path);
        rc = cairn_model_load(ctx, mr.path, &c->m);
    }
    cairn_model_ref_release(&mr);
    return rc;
}

/* The champion's training data: its run's data.path (else the config's), which must still
 * hold the rows it was trained on (the SHA-256 its split/split.json recorded), since its split
 * indexes point into them. */
static cairn_status champion_data(cairn_ctx *ctx, const cairn_pipeline *p, const champion *c,
                                  const cn_train_config *cfg, char **out)
{
    cairn_run_record *rec = NULL;
    cn_buf b = CN_BUF_INIT;
    cn_tree *t = NULL;
    cairn_status rc = cairn_run_get(ctx, c->v->run_id, &rec);
    if (rc != CAIRN_OK)
        return rc;
    const char *path = NULL;
    for (size_t i = 0; i < rec->n_params; i++)
        if (strcmp(rec->params[i].key, "data.path") == 0)
            path = rec->params[i].value;
    *out = path ? cn_xstrdup(path) : in_dir(p, cfg->data.path);
    const char *want = NULL;
    if (cn_run_artifact_read(ctx, c->v->run_id, "split/split.json", &b) == CAIRN_OK &&
        cn_tree_parse(ctx, "json", "split.json", CN_TREE_JSON, b.data ? b.data : "", b.len, &t) ==
            CAIRN_OK)
        want = jget(t, "data_sha256");
    char sha[65] = "";
    int64_t size = 0;
    rc = cairn_file_sha256(ctx, *out, sha, &size);
    if (rc != CAIRN_OK)
        cn_errctx(ctx, "the training data of %s version %lld (run %.8s)", c->model,
                  (long long)c->v->version, c->v->run_id);
    else if (want && strcmp(want, sha) != 0)
        rc = cn_fail(ctx, CAIRN_EINVAL,
                     "the training data '%s' of %s version %lld changed since run %.8s trained on "
                     "it (SHA-256 %.12s..., now %.12s...); retraining keeps the champion's split "
                     "of those rows: restore the file, or run the pipeline to train a new "
                     "champion on it",
                     *out, c->model, (long long)c->v->version, c->v->run_id, want, sha);
    cn_tree_free(t);
    cn_buf_release(&b);
    cairn_run_record_free(rec);
    return rc;
}

/* ---- the trigger ---- */

typedef struct decision {
    const char *trigger; /* static */
    char *reason;
    double share;
} decision;

static cairn_status read_csv(cairn_ctx *ctx, const cn_train_config *cfg, const char *path,
                             cairn_table **t)
{
    cairn_csv_opts co = CAIRN_CSV_OPTS_INIT;
    if (cfg) {
        co.numeric = (const char *const *)cfg->data.numeric;
        co.n_numeric = cfg->data.n_numeric;
        co.categorical = (const char *const *)cfg->data.categorical;
        co.n_categorical = cfg->data.n_categorical;
    }
    return cairn_csv_read(ctx, path, &co, t);
}

static cairn_status feed_drift(cairn_ctx *ctx, const champion *c, const cairn_table *feed,
                               decision *d, bool *fired)
{
    cairn_drift_reference *ref = NULL;
    cairn_drift_report *rep = NULL;
    cairn_status rc = cairn_drift_reference_from_model(ctx, c->m, &ref);
    if (rc == CAIRN_OK) {
        cairn_drift_opts o = CAIRN_DRIFT_OPTS_INIT;
        o.model = c->m;
        rc = cairn_drift_compare(ctx, ref, feed, &o, &rep);
        if (rc != CAIRN_OK)
            cn_errctx(ctx, "the feed against version %lld's reference", (long long)c->v->version);
    }
    if (rc == CAIRN_OK) {
        d->share = rep->share;
        *fired = rep->dataset_drift;
        free(d->reason);
        d->reason = cn_asprintf("%s version %lld's training rows: %zu of %zu features drifted "
                                "(share %.3g, threshold %.3g)",
                                *fired ? "the feed drifted from" : "no drift: the feed is close to",
                                (long long)c->v->version, rep->n_drifted, rep->n_tested, rep->share,
                                rep->drift_share);
    }
    cairn_drift_report_free(rep);
    cairn_drift_reference_free(ref);
    return rc;
}

/* The newest drift decision of the champion's monitoring run (`cairn serve` logs
 * drift.dataset_drift, or drift.vN.dataset_drift when it serves several versions). */
static cairn_status monitor_drift(cairn_ctx *ctx, const cairn_pipeline *p, const champion *c,
                                  decision *d, bool *fired)
{
    char *run_id = NULL;
    cairn_status rc = CAIRN_OK;
    *fired = false;
    if (p->trigger_monitor_run && *p->trigger_monitor_run) {
        rc = cairn_run_resolve(ctx, p->trigger_monitor_run, &run_id);
        if (rc != CAIRN_OK) {
            cn_errctx(ctx, "trigger.on_drift.monitor_run");
            return rc;
        }
    } else {
        char *name = cn_asprintf("monitoring/%s", c->model);
        cairn_experiment *exp = NULL;
        cairn_run_page *page = NULL;
        if (cairn_experiment_get_by_name(ctx, name, &exp) == CAIRN_OK) {
            const char *ids[] = {exp->experiment_id};
            const char *order[] = {"start_time DESC"};
            cairn_run_search q = CAIRN_RUN_SEARCH_INIT;
            q.experiment_ids = ids;
            q.n_experiment_ids = 1;
            q.order_by = order;
            q.n_order_by = 1;
            q.max_results = 1;
            q.info_only = true;
            if (cairn_runs_search(ctx, &q, &page) == CAIRN_OK && page->n)
                run_id = cn_xstrdup(page->items[0].info.run_id);
        }
        cairn_run_page_free(page);
        cairn_experiment_free(exp);
        free(name);
        if (!run_id)
            return CAIRN_OK; /* no server has monitored the model yet */
    }
    cairn_run_record *rec = NULL;
    rc = cairn_run_get(ctx, run_id, &rec);
    if (rc == CAIRN_OK) {
        char key[64];
        snprintf(key, sizeof key, "drift.v%lld.dataset_drift", (long long)c->v->version);
        const cairn_metric *hit = NULL;
        for (size_t i = 0; i < rec->n_metrics; i++)
            if (strcmp(rec->metrics[i].key, key) == 0 ||
                (!hit && strcmp(rec->metrics[i].key, "drift.dataset_drift") == 0))
                hit = &rec->metrics[i];
        if (hit && hit->value > 0) {
            *fired = true;
            free(d->reason);
            d->reason = cn_asprintf("the monitoring run %.8s decided dataset drift at check %lld "
                                    "(%s)",
                                    run_id, (long long)hit->step, hit->key);
        }
    }
    cairn_run_record_free(rec);
    cairn_free(run_id);
    return rc;
}

/* The time of the last retrain (a run tagged cairn.continual.parent_version in the
 * pipeline's experiment), else the champion's training run's start. */
static int64_t last_retrain_ms(cairn_ctx *ctx, const champion *c, const char *experiment)
{
    int64_t when = 0;
    cairn_experiment *exp = NULL;
    cairn_run_page *page = NULL;
    if (cairn_experiment_get_by_name(ctx, experiment, &exp) == CAIRN_OK) {
        const char *ids[] = {exp->experiment_id};
        const char *order[] = {"start_time DESC"};
        cairn_run_search q = CAIRN_RUN_SEARCH_INIT;
        q.experiment_ids = ids;
        q.n_experiment_ids = 1;
        q.order_by = order;
        q.n_order_by = 1;
        q.max_results = 1;
        char *f = cn_asprintf("tags.`" TAG_C "model` = '%s'", c->model);
        q.filter = f;
        if (cairn_runs_search(ctx, &q, &page) == CAIRN_OK && page->n)
            when = page->items[0].info.start_time_ms;
        free(f);
    }
    cairn_run_page_free(page);
    cairn_experiment_free(exp);
    if (when == 0) {
        cairn_run_record *rec = NULL;
        if (cairn_run_get(ctx, c->v->run_id, &rec) == CAIRN_OK)
            when = rec->info.start_time_ms;
        cairn_run_record_free(rec);
    }
    return when;
}

/* ---- old + new ---- */

/* The feed has exactly the training data's columns (any order). */
static cairn_status check_columns(cairn_ctx *ctx, const cairn_table *old, const char *old_path,
                                  const cairn_table *feed, const char *feed_path)
{
    for (size_t j = 0; j < old->n_cols; j++)
        if (cairn_table_find(feed, old->cols[j].name) < 0)
            return cn_fail(ctx, CAIRN_EINVAL,
                           "the feed '%s' has no column '%s', which the training data '%s' has; "
                           "add it to the feed (same columns as the training data)",
                           feed_path, old->cols[j].name, old_path);
    for (size_t j = 0; j < feed->n_cols; j++)
        if (cairn_table_find(old, feed->cols[j].name) < 0)
            return cn_fail(ctx, CAIRN_EINVAL,
                           "the feed '%s' has a column '%s' the training data '%s' does not "
                           "have; drop it from the feed (same columns as the training data)",
                           feed_path, feed->cols[j].name, old_path);
    return CAIRN_OK;
}

static cairn_status combine(cairn_ctx *ctx, const cairn_table *old, const char *old_path,
                            const cairn_table *feed, const char *feed_path, cairn_table **out)
{
    *out = NULL;
    cairn_status rc = check_columns(ctx, old, old_path, feed, feed_path);
    if (rc != CAIRN_OK)
        return rc;
    size_t n = old->n_rows + feed->n_rows;
    cairn_table *t = cairn_table_new(n);
    for (size_t j = 0; j < old->n_cols && rc == CAIRN_OK; j++) {
        const cairn_column *a = &old->cols[j];
        const cairn_column *b = &feed->cols[cairn_table_find(feed, a->name)];
        if (a->type != b->type) {
            rc = cn_fail(ctx, CAIRN_EINVAL,
                         "column '%s' is %s in the training data '%s' but %s in the feed '%s'; "
                         "give the feed the same kind of values",
                         a->name, a->type == CAIRN_COL_NUMERIC ? "numeric" : "text", old_path,
                         b->type == CAIRN_COL_NUMERIC ? "numeric" : "text", feed_path);
            break;
        }
        if (a->type == CAIRN_COL_NUMERIC) {
            double *v = cn_xcalloc(n ? n : 1, sizeof *v);
            memcpy(v, a->num, old->n_rows * sizeof *v);
            memcpy(v + old->n_rows, b->num, feed->n_rows * sizeof *v);
            rc = cairn_table_add_numeric(ctx, t, a->name, v);
            free(v);
            continue;
        }
        const char **levels = cn_xcalloc(a->n_levels + b->n_levels + 1, sizeof *levels);
        size_t nl = a->n_levels;
        memcpy(levels, a->levels, a->n_levels * sizeof *levels);
        int32_t *map = cn_xcalloc(b->n_levels + 1, sizeof *map);
        for (size_t k = 0; k < b->n_levels; k++) {
            size_t at = 0;
            while (at < nl && strcmp(levels[at], b->levels[k]) != 0)
                at++;
            if (at == nl)
                levels[nl++] = b->levels[k];
            map[k] = (int32_t)at;
        }
        int32_t *codes = cn_xcalloc(n ? n : 1, sizeof *codes);
        memcpy(codes, a->cat, old->n_rows * sizeof *codes);
        for (size_t i = 0; i < feed->n_rows; i++)
            codes[old->n_rows + i] = b->cat[i] < 0 ? -1 : map[b->cat[i]];
        rc = cairn_table_add_categorical(ctx, t, a->name, codes, levels, nl);
        free(codes);
        free(map);
        free(levels);
    }
    if (rc != CAIRN_OK)
        cairn_table_free(t);
    else
        *out = t;
    return rc;
}

static cairn_status read_index_artifact(cairn_ctx *ctx, const char *run_id, const char *part,
                                        size_t n_rows, size_t **rows, size_t *n)
{
    cn_buf b = CN_BUF_INIT;
    char *path = cn_asprintf("split/%s.idx", part);
    *rows = NULL;
    *n = 0;
    cairn_status rc = cn_run_artifact_read(ctx, run_id, path, &b);
    if (rc == CAIRN_OK)
        rc = cairn_index_parse(ctx, b.data ? b.data : "", b.len, n_rows, rows, n);
    if (rc != CAIRN_OK)
        cn_errctx(ctx, "the champion's run %.8s: %s (retraining keeps its split)", run_id, path);
    free(path);
    cn_buf_release(&b);
    return rc;
}

static cairn_status write_index(cairn_ctx *ctx, const char *path, const size_t *rows, size_t n)
{
    char *text = cairn_index_format(rows, n);
    int e = cn_fs_write_atomic(path, text, strlen(text));
    cairn_free(text);
    return e == 0 ? CAIRN_OK : cn_fail_errno(ctx, CAIRN_EIO, "index file '%s'", path);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static int cmp_size(const void *a, const void *b)
{
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    return (x > y) - (x < y);
}

static uint64_t mix64(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* A JSON scalar as the config's tree had it. */
static void emit_node(cn_buf *b, const cn_node *n)
{
    if (!n) {
        cn_buf_puts(b, "null");
        return;
    }
    if (n->kind == CN_NODE_SCALAR) {
        /* numbers, booleans and null stay what they were; everything else is a string */
        bool raw = n->is_plain && (cn_json_is_number(n->text) || strcmp(n->text, "true") == 0 ||
                                   strcmp(n->text, "false") == 0 || strcmp(n->text, "null") == 0);
        if (raw)
            cn_buf_puts(b, n->text);
        else
            cn_json_quote(b, n->text, n->len);
        return;
    }
    cn_buf_putc(b, n->kind == CN_NODE_LIST ? '[' : '{');
    for (size_t i = 0; i < n->n; i++) {
        if (i)
            cn_buf_putc(b, ',');
        if (n->kind == CN_NODE_LIST) {
            emit_node(b, n->items[i]);
        } else {
            cn_json_quote(b, n->pairs[i].key->text, n->pairs[i].key->len);
            cn_buf_putc(b, ':');
            emit_node(b, n->pairs[i].value);
        }
    }
    cn_buf_putc(b, n->kind == CN_NODE_LIST ? ']' : '}');
}

/* The train stage's config as JSON with data.path and split: replaced (the rest as written,
 * so the same learner and params). */
static cairn_status write_config(cairn_ctx *ctx, const char *src, const char *dst, const char *data,
                                 const char *dir)
{
    cn_tree *t = NULL;
    cairn_status rc = cn_tree_load(ctx, "config", src, &t);
    if (rc != CAIRN_OK)
        return rc;
    const cn_node *root = cn_tree_root(t);
    cn_buf b = CN_BUF_INIT;
    cn_buf_putc(&b, '{');
    bool first = true;
    for (size_t i = 0; root && root->kind == CN_NODE_MAP && i < root->n; i++) {
        const char *k = root->pairs[i].key->text;
        const cn_node *v = root->pairs[i].value;
        if (strcmp(k, "split") == 0 || strcmp(k, "cv") == 0)
            continue;
        if (!first)
            cn_buf_putc(&b, ',');
        first = false;
        cn_json_quote(&b, k, strlen(k));
        cn_buf_putc(&b, ':');
        if (strcmp(k, "data") == 0 && v->kind == CN_NODE_MAP) {
            cn_buf_puts(&b, "{\"path\":");
            cn_json_quote(&b, data, strlen(data));
            for (size_t j = 0; j < v->n; j++) {
                if (strcmp(v->pairs[j].key->text, "path") == 0)
                    continue;
                cn_buf_putc(&b, ',');
                cn_json_quote(&b, v->pairs[j].key->text, v->pairs[j].key->len);
                cn_buf_putc(&b, ':');
                emit_node(&b, v->pairs[j].value);
            }
            cn_buf_putc(&b, '}');
        } else {
            emit_node(&b, v);
        }
    }
    cn_buf_printf(&b, "%s\"split\":{\"train\":", first ? "" : ",");
    char *tr = cn_asprintf("%s/train.idx", dir), *va = cn_asprintf("%s/val.idx", dir),
         *te = cn_asprintf("%s/test.idx", dir);
    cn_json_quote(&b, tr, strlen(tr));
    cn_buf_puts(&b, ",\"val\":");
    cn_json_quote(&b, va, strlen(va));
    cn_buf_puts(&b, ",\"test\":");
    cn_json_quote(&b, te, strlen(te));
    cn_buf_puts(&b, "}}\n");
    if (cn_fs_write_atomic(dst, b.data, b.len) != 0)
        rc = cn_fail_errno(ctx, CAIRN_EIO, "config '%s'", dst);
    free(tr);
    free(va);
    free(te);
    cn_buf_release(&b);
    cn_tree_free(t);
    return rc;
}

/* ---- the gate ---- */

/* The label of row i as text (classes) or its value. */
static const char *label_text(const cairn_column *y, size_t i, char *buf, size_t size)
{
    if (y->type == CAIRN_COL_CATEGORICAL)
        return y->cat[i] < 0 ? "" : y->levels[y->cat[i]];
    cn_format_double(y->num[i], buf, size);
    return buf;
}

/* Slices of the old held-out rows: each value of slice_by (or the first categorical feature
 * with 2 to 12 values) with at least MIN_SLICE_ROWS rows, else quartile bins of the numeric
 * feature most correlated (|Pearson|) with the label on those rows. */
static cairn_status make_slices(cairn_ctx *ctx, const cairn_pipeline *p, const cairn_model *m,
                                const cairn_table *t, const cairn_column *y, const size_t *rows,
                                size_t n, slice_in **out, size_t *n_out, char **rule)
{
    const cairn_column *col = NULL;
    if (p->trigger_slice_by) {
        int j = cairn_table_find(t, p->trigger_slice_by);
        if (j < 0 || &t->cols[j] == y)
            return cn_fail(ctx, CAIRN_EINVAL,
                           "pipeline '%s': trigger.slice_by names '%s', which is not a feature "
                           "column of the data",
                           p->label, p->trigger_slice_by);
        col = &t->cols[j];
    }
    for (size_t f = 0; !col && f < cairn_model_n_features(m); f++) {
        int j = cairn_table_find(t, cairn_model_feature_name(m, f));
        if (j >= 0 && t->cols[j].type == CAIRN_COL_CATEGORICAL && t->cols[j].n_levels >= 2 &&
            t->cols[j].n_levels <= 12)
            col = &t->cols[j];
    }
    slice_in *s = NULL;
    size_t ns = 0;
    if (col && col->type == CAIRN_COL_CATEGORICAL) {
        *rule = cn_asprintf("one slice per value of '%s' (values with at least %d held-out rows)",
                            col->name, MIN_SLICE_ROWS);
        for (size_t l = 0; l < col->n_levels; l++) {
            size_t *r = cn_xcalloc(n ? n : 1, sizeof *r), k = 0;
            for (size_t i = 0; i < n; i++)
                if (col->cat[rows[i]] == (int32_t)l)
                    r[k++] = rows[i];
            if (k < MIN_SLICE_ROWS) {
                free(r);
                continue;
            }
            s = cn_tree_grow(s, ns, sizeof *s);
            s[ns++] = (slice_in){cn_asprintf("old: %s=%s", col->name, col->levels[l]), false, r, k};
        }
    } else {
        if (!col) { /* the numeric feature most correlated with the label */
            double best = -1;
            for (size_t f = 0; f < cairn_model_n_features(m); f++) {
                int j = cairn_table_find(t, cairn_model_feature_name(m, f));
                if (j < 0 || t->cols[j].type != CAIRN_COL_NUMERIC)
                    continue;
                double sx = 0, sy = 0, sxx = 0, syy = 0, sxy = 0;
                size_t k = 0;
                for (size_t i = 0; i < n; i++) {
                    double x = t->cols[j].num[rows[i]];
                    double v = y->type == CAIRN_COL_NUMERIC ? y->num[rows[i]] : y->cat[rows[i]];
                    if (isnan(x) || isnan(v))
                        continue;
                    sx += x, sy += v, sxx += x * x, syy += v * v, sxy += x * v, k++;
                }
                double cov = sxy - sx * sy / (double)(k ? k : 1);
                double vx = sxx - sx * sx / (double)(k ? k : 1);
                double vy = syy - sy * sy / (double)(k ? k : 1);
                double r = vx > 0 && vy > 0 ? fabs(cov / sqrt(vx * vy)) : 0;
                if (r > best) {
                    best = r;
                    col = &t->cols[j];
                }
            }
        }
        if (!col)
            return cn_fail(ctx, CAIRN_EINVAL,
                           "no feature to slice the old rows by; set trigger.slice_by");
        double *v = cn_xcalloc(n ? n : 1, sizeof *v);
        size_t k = 0;
        for (size_t i = 0; i < n; i++)
            if (!isnan(col->num[rows[i]]))
                v[k++] = col->num[rows[i]];
        qsort(v, k, sizeof *v, cmp_double);
        double cut[5] = {-INFINITY, 0, 0, 0, INFINITY};
        for (int q = 1; q <= 3; q++)
            cut[q] = k ? cairn_quantile_sorted(v, k, q / 4.0) : 0;
        free(v);
        *rule = cn_asprintf("quartile bins of '%s' over the old held-out rows%s", col->name,
                            p->trigger_slice_by ? " (trigger.slice_by)"
                                                : ", the numeric feature most correlated with "
                                                  "the label there");
        for (int q = 0; q < 4; q++) {
            if (q > 0 && cut[q] == cut[q + 1])
                continue; /* an empty bin of tied values */
            size_t *r = cn_xcalloc(n ? n : 1, sizeof *r), c = 0;
            for (size_t i = 0; i < n; i++) {
                double x = col->num[rows[i]];
                if (!isnan(x) && x >= cut[q] && (x < cut[q + 1] || (q == 3 && x <= cut[4])))
                    r[c++] = rows[i];
            }
            if (c == 0) {
                free(r);
                continue;
            }
            char lo[32], hi[32];
            snprintf(lo, sizeof lo, "%.4g", cut[q]);
            snprintf(hi, sizeof hi, "%.4g", cut[q + 1]);
            s = cn_tree_grow(s, ns, sizeof *s);
            s[ns++] = (slice_in){
                cn_asprintf("old: %s in [%s, %s)", col->name, q ? lo : "-inf", q == 3 ? "inf" : hi),
                false, r, c};
        }
    }
    *out = s;
    *n_out = ns;
    return CAIRN_OK;
}

/* Scores champion (a) and candidate (b) on one slice's rows with the paired test of `cairn
 * eval compare`. */
static cairn_status score_slice(cairn_ctx *ctx, const cairn_model *a, const cairn_model *b,
                                const cairn_table *t, const cairn_column *y, bool is_class,
                                const slice_in *s, cairn_watch_slice *out)
{
    double *pa = cn_xcalloc(s->n, sizeof *pa), *pb = cn_xcalloc(s->n, sizeof *pb);
    double *yt = cn_xcalloc(s->n, sizeof *yt);
    cairn_status rc = cairn_model_predict(ctx, a, t, s->rows, s->n, pa);
    if (rc == CAIRN_OK)
        rc = cairn_model_predict(ctx, b, t, s->rows, s->n, pb);
    cairn_compare_result *c = NULL;
    if (rc == CAIRN_OK) {
        /* classes as codes into one shared list of label texts */
        const char **names = NULL;
        size_t nn = 0;
        for (size_t i = 0; i < s->n; i++) {
            char buf[64];
            const char *txt[3] = {
                label_text(y, s->rows[i], buf, sizeof buf),
                is_class ? cairn_model_class_label(a, (size_t)pa[i]) : NULL,
                is_class ? cairn_model_class_label(b, (size_t)pb[i]) : NULL,
            };
            if (!is_class) {
                yt[i] = y->num[s->rows[i]];
                continue;
            }
            double code[3];
            for (int k = 0; k < 3; k++) {
                const char *x = txt[k] ? txt[k] : "";
                size_t at = 0;
                while (at < nn && strcmp(names[at], x) != 0)
                    at++;
                if (at == nn) {
                    names = cn_tree_grow(names, nn, sizeof *names);
                    names[nn++] = cn_xstrdup(x);
                }
                code[k] = (double)at;
            }
            yt[i] = code[0];
            pa[i] = code[1];
            pb[i] = code[2];
        }
        for (size_t k = 0; k < nn; k++)
            free((char *)names[k]);
        free(names);
        cairn_table *pt = cairn_table_new(s->n);
        cairn_table_add_numeric(ctx, pt, "y_true", yt);
        cairn_table_add_numeric(ctx, pt, "pred_a", pa);
        cairn_table_add_numeric(ctx, pt, "pred_b", pb);
        cairn_compare_opts co = CAIRN_COMPARE_OPTS_INIT;
        co.task = is_class ? CAIRN_TASK_CLASSIFICATION : CAIRN_TASK_REGRESSION;
        co.n_bootstrap = 200;
        rc = cairn_compare_predictions(ctx, pt, &co, &c);
        cairn_table_free(pt);
    }
    if (rc == CAIRN_OK) {
        out->n = s->n;
        out->is_new = s->is_new;
        out->champion = c->a;
        out->candidate = c->b;
        out->diff = c->b - c->a;
        out->pvalue = isnan(c->pvalue) ? 1.0 : c->pvalue;
        if (!is_class && c->n01 == 0 && c->n10 == 0 && out->diff == 0)
            out->pvalue = 1.0;
    }
    cairn_compare_result_free(c);
    free(pa);
    free(pb);
    free(yt);
    return rc;
}

static void write_gate_json(cn_buf *b, const cairn_watch_report *r)
{
    cn_jsonw w;
    cn_jsonw_init(&w, NULL, 2);
    cn_jsonw_object_begin(&w);
    cn_jsonw_kstring(&w, "model", r->model);
    cn_jsonw_kint(&w, "champion_version", r->champion_version);
    cn_jsonw_kstring(&w, "candidate_run_id", r->run_id);
    cn_jsonw_kstring(&w, "metric", r->metric);
    cn_jsonw_kstring(&w, "test", r->test);
    cn_jsonw_kstring(&w, "correction", "holm over the old slices");
    cn_jsonw_kdouble(&w, "alpha", ALPHA);
    cn_jsonw_kstring(&w, "slice_rule", r->slice_rule);
    cn_jsonw_kbool(&w, "passed", r->outcome != CAIRN_WATCH_REFUSED);
    cn_jsonw_kstring(&w, "refusal", r->refusal);
    cn_jsonw_key(&w, "slices");
    cn_jsonw_array_begin(&w);
    for (size_t i = 0; i < r->n_slices; i++) {
        const cairn_watch_slice *s = &r->slices[i];
        cn_jsonw_object_begin(&w);
        cn_jsonw_kstring(&w, "slice", s->name);
        cn_jsonw_kbool(&w, "new", s->is_new);
        cn_jsonw_kint(&w, "n", (int64_t)s->n);
        cn_jsonw_key(&w, "champion");
        cn_jsonw_double_or_null(&w, s->champion);
        cn_jsonw_key(&w, "candidate");
        cn_jsonw_double_or_null(&w, s->candidate);
        cn_jsonw_key(&w, "diff");
        cn_jsonw_double_or_null(&w, s->diff);
        cn_jsonw_key(&w, "p");
        cn_jsonw_double_or_null(&w, s->pvalue);
        cn_jsonw_key(&w, "p_adjusted");
        cn_jsonw_double_or_null(&w, s->p_adjusted);
        cn_jsonw_kstring(&w, "verdict", s->verdict);
        cn_jsonw_object_end(&w);
    }
    cn_jsonw_array_end(&w);
    cn_jsonw_object_end(&w);
    cn_jsonw_finish(&w);
    cn_buf_append(b, w.buf.data, w.buf.len);
    cn_jsonw_release(&w);
}

/* ---- the whole check ---- */

static const char *experiment_of(const cairn_pipeline *p, const cn_stage *train)
{
    return train->experiment ? train->experiment : p->name;
}

/* Whether the trigger fires (*fired), which one and why (d). A drift or monitoring trigger
 * fires once per feed (feed_sha) and champion. */
static cairn_status decide(cairn_ctx *ctx, const cairn_pipeline *p, const champion *c,
                           const cairn_table *feed, const char *feed_sha, decision *d, bool *fired)
{
    cairn_status rc = CAIRN_OK;
    *fired = false;
    if (p->trigger_on_drift) {
        rc = feed_drift(ctx, c, feed, d, fired);
        if (rc != CAIRN_OK)
            return rc;
        if (*fired)
            d->trigger = "drift";
        bool mon = false;
        if (!*fired) {
            rc = monitor_drift(ctx, p, c, d, &mon);
            if (rc != CAIRN_OK)
                return rc;
            if (mon) {
                *fired = true;
                d->trigger = "monitor";
            }
        }
    }
    if (!*fired && p->trigger_every_s > 0) {
        int64_t last = last_retrain_ms(ctx, c, experiment_of(p, c->train));
        int64_t due = last + p->trigger_every_s * 1000, now = cn_now_ms();
        char *prev = d->reason;
        if (now >= due) {
            *fired = true;
            d->trigger = "schedule";
            d->reason =
                cn_asprintf("the schedule: %lld s since the last retrain (every %lld s)",
                            (long long)((now - last) / 1000), (long long)p->trigger_every_s);
        } else {
            d->reason = cn_asprintf("%s%sthe schedule is due in %lld s", prev ? prev : "",
                                    prev ? "; " : "", (long long)((due - now + 999) / 1000));
        }
        free(prev);
    }
    if (*fired && d->trigger && strcmp(d->trigger, "schedule") != 0) {
        /* A drift trigger retrains once per feed and champion. */
        char *f = cn_asprintf("tags.`" TAG_C "feed_sha256` = '%s' AND tags.`" TAG_C
                              "parent_version` = '%lld'",
                              feed_sha, (long long)c->v->version);
        cairn_experiment *exp = NULL;
        cairn_run_page *page = NULL;
        if (cairn_experiment_get_by_name(ctx, experiment_of(p, c->train), &exp) == CAIRN_OK) {
            const char *ids[] = {exp->experiment_id};
            cairn_run_search q = CAIRN_RUN_SEARCH_INIT;
            q.experiment_ids = ids;
            q.n_experiment_ids = 1;
            q.filter = f;
            q.max_results = 1;
            q.info_only = true;
            if (cairn_runs_search(ctx, &q, &page) == CAIRN_OK && page->n) {
                char *x =
                    cn_asprintf("%s; already retrained on this feed for version %lld (run "
                                "%.8s)",
                                d->reason, (long long)c->v->version, page->items[0].info.run_id);
                free(d->reason);
                d->reason = x;
                *fired = false;
            }
        }
        cairn_run_page_free(page);
        cairn_experiment_free(exp);
        free(f);
    }
    return CAIRN_OK;
}

/* gate.json in the state folder and as the candidate run's artifact continual/gate.json, and
 * the gate's tags on the run. */
static cairn_status record_gate(cairn_ctx *ctx, const cairn_watch_report *r)
{
    cn_buf gate = CN_BUF_INIT;
    cairn_status rc = CAIRN_OK;
    write_gate_json(&gate, r);
    char *gpath = cn_asprintf("%s/gate.json", r->dir);
    if (cn_fs_write_atomic(gpath, gate.data, gate.len) != 0)
        rc = cn_fail_errno(ctx, CAIRN_EIO, "'%s'", gpath);
    free(gpath);
    cairn_run_record *rec = NULL;
    if (rc == CAIRN_OK)
        rc = cairn_run_get(ctx, r->run_id, &rec);
    if (rc == CAIRN_OK) {
        char *dir = cn_asprintf("%s/continual", rec->info.artifact_uri);
        char *file = cn_asprintf("%s/gate.json", dir);
        char sha[65];
        int64_t size = 0;
        if (cn_fs_mkdirs(dir, 0755) != 0 || cn_fs_write_atomic(file, gate.data, gate.len) != 0)
            rc = cn_fail_errno(ctx, CAIRN_EIO, "'%s'", file);
        if (rc == CAIRN_OK)
            rc = cairn_file_sha256(ctx, file, sha, &size);
        if (rc == CAIRN_OK)
            rc = cairn_runs_record_artifact(ctx, r->run_id, "continual/gate.json", size, sha);
        free(dir);
        free(file);
    }
    cairn_run_record_free(rec);
    cn_buf_release(&gate);
    if (rc == CAIRN_OK)
        rc = cairn_runs_set_tag(ctx, r->run_id, TAG_C "gate",
                                r->outcome == CAIRN_WATCH_REFUSED ? "refused" : "passed");
    if (rc == CAIRN_OK && r->refusal)
        rc = cairn_runs_set_tag(ctx, r->run_id, TAG_C "gate_refusal", r->refusal);
    if (rc == CAIRN_OK)
        rc = cairn_runs_set_tag(ctx, r->run_id, TAG_C "slice_rule", r->slice_rule);
    return rc;
}

/* The alias canary on the candidate, and the deploy stage's server replaced by one routing
 * pct percent of the requests to it and the rest to the champion. */
static cairn_status deploy_canary(cairn_ctx *ctx, const cairn_pipeline *p,
                                  const cairn_watch_opts *o, const champion *c, watch_in *w,
                                  int pct)
{
    cairn_watch_report *r = &w->r;
    cairn_status rc = cairn_registry_set_alias(ctx, c->model, "canary", r->candidate_version, NULL);
    if (rc != CAIRN_OK)
        return rc;
    argv_b a = {0};
    cairn_head(o, &a);
    arg(&a, "serve");
    char *ref = cn_asprintf("models:/%s", c->model);
    char *route = cn_asprintf("v%lld=%d,v%lld=%d", (long long)c->v->version, 100 - pct,
                              (long long)r->candidate_version, pct);
    char port[32];
    snprintf(port, sizeof port, "%lld", (long long)c->deploy->port);
    arg(&a, ref);
    arg(&a, "--route");
    arg(&a, route);
    arg(&a, "--host");
    arg(&a, "127.0.0.1");
    arg(&a, "--port");
    arg(&a, port);
    free(ref);
    free(route);
    char *rel = cn_asprintf(CN_PIPELINE_STATE_DIR "/%s", c->deploy->name);
    char *sdir = in_dir(p, rel);
    free(rel);
    pid_t pid = 0;
    if (cn_fs_mkdirs(sdir, 0755) != 0)
        rc = cn_fail_errno(ctx, CAIRN_EIO, "state folder '%s'", sdir);
    if (rc == CAIRN_OK)
        rc = cn_pipeline_start_server(ctx, a.v, p->dir, sdir, c->deploy->name, &w->serve_url, &pid);
    free(sdir);
    argv_release(&a);
    r->serve_url = w->serve_url;
    if (rc == CAIRN_OK)
        rc = cairn_runs_set_tag(ctx, r->run_id, TAG_C "canary", w->serve_url);
    return rc;
}

/* The next free .cairn-pipeline/continual/N. */
static char *next_dir(const cairn_pipeline *p)
{
    char *base = in_dir(p, CN_PIPELINE_STATE_DIR "/continual");
    cn_fs_mkdirs(base, 0755);
    char *d = NULL;
    for (int i = 1;; i++) {
        d = cn_asprintf("%s/%d", base, i);
        if (mkdir(d, 0755) == 0)
            break;
        free(d);
    }
    free(base);
    return d;
}

cairn_status cairn_pipeline_watch_once(cairn_ctx *ctx, const cairn_pipeline *p,
                                       const cairn_watch_opts *o, cairn_watch_report **out)
{
    *out = NULL;
    watch_in *w = cn_xcalloc(1, sizeof *w);
    cairn_watch_report *r = &w->r;
    r->internal_ = w;
    r->drift_share = NAN;
    champion c = {0};
    decision d = {0};
    cn_train_config *cfg = NULL;
    cairn_table *old = NULL, *feed = NULL, *all = NULL;
    cairn_model *cand = NULL;
    slice_in *sl = NULL;
    size_t n_sl = 0;
    size_t *tr = NULL, *va = NULL, *te = NULL, n_tr = 0, n_va = 0, n_te = 0;
    char *feed_path = NULL, *cfg_path = NULL, *old_path = NULL;
    cn_tree *json = NULL;
    argv_b a = {0};
    int pct = o->canary_percent ? o->canary_percent : 10;
    cairn_status rc = CAIRN_OK;

    if (pct < 1 || pct > 99) {
        rc = cn_fail(ctx, CAIRN_EINVAL, "the canary's share must be 1 to 99 percent, got %d", pct);
        goto done;
    }
    if (!p->trigger_on_drift && p->trigger_every_s <= 0) {
        rc = cn_fail(ctx, CAIRN_EINVAL,
                     "pipeline '%s' has no trigger: section to watch; add 'trigger: {on_drift: "
                     "{data: FEED.csv}}' or 'trigger: {schedule: {every: 1d}, data: FEED.csv}'",
                     p->label);
        goto done;
    }
    if (!p->trigger_data) {
        rc = cn_fail(ctx, CAIRN_EINVAL,
                     "pipeline '%s': the trigger names no feed (the new rows to retrain on); add "
                     "'data: FEED.csv' under trigger.on_drift (or trigger.data)",
                     p->label);
        goto done;
    }
    rc = find_champion(ctx, p, &c);
    if (rc != CAIRN_OK)
        goto done;
    w->model = cn_xstrdup(c.model);
    r->model = w->model;
    r->champion_version = c.v->version;
    r->canary_percent = pct;
    cfg_path = in_dir(p, c.train->config);
    rc = cn_train_config_load(ctx, cfg_path, &cfg);
    if (rc != CAIRN_OK)
        goto done;
    if (!cfg->has_data || !cfg->data.path || !cfg->data.label) {
        rc = cn_fail(ctx, CAIRN_EINVAL, "config '%s' has no data.path and data.label", cfg_path);
        goto done;
    }
    feed_path = in_dir(p, p->trigger_data);
    rc = read_csv(ctx, cfg, feed_path, &feed);
    if (rc != CAIRN_OK) {
        cn_errctx(ctx, "the trigger's feed");
        goto done;
    }
    rc = champion_data(ctx, p, &c, cfg, &old_path);
    if (rc == CAIRN_OK)
        rc = read_csv(ctx, cfg, old_path, &old);
    if (rc == CAIRN_OK)
        rc = check_columns(ctx, old, old_path, feed, p->trigger_data);
    if (rc != CAIRN_OK)
        goto done;

    /* 1. The trigger. */
    char feed_sha[65] = "";
    int64_t feed_size = 0;
    bool fired = false;
    d.share = NAN;
    rc = cairn_file_sha256(ctx, feed_path, feed_sha, &feed_size);
    if (rc == CAIRN_OK)
        rc = decide(ctx, p, &c, feed, feed_sha, &d, &fired);
    if (rc != CAIRN_OK)
        goto done;
    r->drift_share = d.share;
    w->reason = d.reason;
    d.reason = NULL;
    r->reason = w->reason;
    if (!fired) {
        r->outcome = CAIRN_WATCH_IDLE;
        goto done;
    }
    w->trigger = cn_xstrdup(d.trigger);
    r->trigger = w->trigger;

    /* 2. Old + new, with the champion's split kept and a share of the feed held out. */
    rc = combine(ctx, old, old_path, feed, p->trigger_data, &all);
    if (rc != CAIRN_OK)
        goto done;
    rc = read_index_artifact(ctx, c.v->run_id, "train", old->n_rows, &tr, &n_tr);
    if (rc == CAIRN_OK)
        rc = read_index_artifact(ctx, c.v->run_id, "val", old->n_rows, &va, &n_va);
    if (rc == CAIRN_OK)
        rc = read_index_artifact(ctx, c.v->run_id, "test", old->n_rows, &te, &n_te);
    if (rc != CAIRN_OK)
        goto done;
    size_t *gate_old = n_va ? va : te, n_gate_old = n_va ? n_va : n_te;
    if (n_gate_old < 2) {
        rc = cn_fail(ctx, CAIRN_EINVAL,
                     "the champion's run %.8s held out no validation or test rows to gate the "
                     "candidate on; train it with split.val or split.test",
                     c.v->run_id);
        goto done;
    }
    size_t nf = feed->n_rows, n_hold = (size_t)((double)nf * FEED_HOLDOUT + 0.5);
    if (nf >= 2 && n_hold == 0)
        n_hold = 1;
    size_t *perm = cn_xcalloc(nf ? nf : 1, sizeof *perm);
    for (size_t i = 0; i < nf; i++)
        perm[i] = old->n_rows + i;
    uint64_t seed = cfg->run.has_seed ? (uint64_t)cfg->run.seed : 0;
    for (size_t i = nf; i > 1; i--) {
        size_t j = (size_t)(mix64(&seed) % i);
        size_t t = perm[i - 1];
        perm[i - 1] = perm[j];
        perm[j] = t;
    }
    size_t *ntr = cn_xcalloc(n_tr + nf + 1, sizeof *ntr),
           *nva = cn_xcalloc(n_va + nf + 1, sizeof *nva);
    memcpy(ntr, tr, n_tr * sizeof *ntr);
    memcpy(nva, va, n_va * sizeof *nva);
    size_t c_tr = n_tr, c_va = n_va;
    for (size_t i = 0; i < nf; i++)
        if (i < n_hold)
            nva[c_va++] = perm[i];
        else
            ntr[c_tr++] = perm[i];
    qsort(perm, n_hold, sizeof *perm, cmp_size);
    qsort(ntr, c_tr, sizeof *ntr, cmp_size);
    qsort(nva, c_va, sizeof *nva, cmp_size);
    w->dir = next_dir(p);
    r->dir = w->dir;
    char *data_csv = cn_asprintf("%s/data.csv", w->dir);
    char *conf = cn_asprintf("%s/config.json", w->dir);
    char *abs_dir = absolute(w->dir);
    char *p_tr = cn_asprintf("%s/train.idx", w->dir), *p_va = cn_asprintf("%s/val.idx", w->dir),
         *p_te = cn_asprintf("%s/test.idx", w->dir);
    rc = cairn_csv_write(ctx, all, data_csv);
    if (rc == CAIRN_OK)
        rc = write_index(ctx, p_tr, ntr, c_tr);
    if (rc == CAIRN_OK)
        rc = write_index(ctx, p_va, nva, c_va);
    if (rc == CAIRN_OK)
        rc = write_index(ctx, p_te, te, n_te);
    char *abs_data = absolute(data_csv);
    if (rc == CAIRN_OK)
        rc = write_config(ctx, cfg_path, conf, abs_data, abs_dir);
    free(ntr);
    free(nva);
    free(p_tr);
    free(p_va);
    free(p_te);

    /* 3. Train. */
    char *abs_conf = absolute(conf);
    if (rc == CAIRN_OK) {
        cairn_head(o, &a);
        arg(&a, "train");
        arg(&a, "--config");
        arg(&a, abs_conf);
        arg(&a, "--experiment");
        arg(&a, experiment_of(p, c.train));
        arg(&a, "--json");
        rc = run_child(ctx, p, &a, w->dir, "train", &json);
        argv_release(&a);
    }
    free(abs_conf);
    free(abs_data);
    free(abs_dir);
    free(data_csv);
    free(conf);
    if (rc != CAIRN_OK) {
        free(perm);
        goto done;
    }
    w->run_id = cn_xstrdup(jget(json, "run_id") ? jget(json, "run_id") : "");
    r->run_id = w->run_id;
    /* By run id, not by the printed folder: a remote run's files are on the server. */
    char *cand_path = NULL;
    rc = cairn_run_artifact_path(ctx, w->run_id, "model/model.cairn", &cand_path);
    if (rc == CAIRN_OK)
        rc = cairn_model_load(ctx, cand_path, &cand);
    cairn_free(cand_path);
    char vbuf[32], share[32];
    snprintf(vbuf, sizeof vbuf, "%lld", (long long)c.v->version);
    cn_format_double(r->drift_share, share, sizeof share);
    const cairn_tag tags[] = {
        {TAG_C "trigger", r->trigger},
        {TAG_C "reason", r->reason},
        {TAG_C "drift_score", isnan(r->drift_share) ? "" : share},
        {TAG_C "feed", p->trigger_data},
        {TAG_C "feed_sha256", feed_sha},
        {TAG_C "model", c.model},
        {TAG_C "parent_version", vbuf},
        {TAG_C "parent_run", c.v->run_id},
        {TAG_C "pipeline", p->name},
    };
    for (size_t i = 0; rc == CAIRN_OK && i < sizeof tags / sizeof tags[0]; i++)
        rc = cairn_runs_set_tag(ctx, r->run_id, tags[i].key, tags[i].value);
    if (rc != CAIRN_OK) {
        free(perm);
        goto done;
    }

    /* 4. The gate: the same held-out rows for both, sliced. */
    const cairn_column *y = &all->cols[cairn_table_find(all, cfg->data.label)];
    bool is_class = cairn_model_n_classes(c.m) > 0;
    r->metric = is_class ? "accuracy" : "mse";
    r->test = is_class ? "mcnemar" : "wilcoxon";
    rc = make_slices(ctx, p, c.m, all, y, gate_old, n_gate_old, &sl, &n_sl, &w->slice_rule);
    r->slice_rule = w->slice_rule;
    if (rc == CAIRN_OK && n_hold) {
        sl = cn_tree_grow(sl, n_sl, sizeof *sl);
        sl[n_sl++] = (slice_in){cn_xstrdup("new"), true, perm, n_hold};
        perm = NULL;
    }
    free(perm);
    if (rc != CAIRN_OK)
        goto done;
    r->slices = cn_xcalloc(n_sl ? n_sl : 1, sizeof *r->slices);
    w->slice_names = cn_xcalloc(n_sl ? n_sl : 1, sizeof *w->slice_names);
    for (size_t i = 0; i < n_sl && rc == CAIRN_OK; i++) {
        w->slice_names[i] = cn_xstrdup(sl[i].name);
        r->slices[i].name = w->slice_names[i];
        r->n_slices = i + 1;
        rc = score_slice(ctx, c.m, cand, all, y, is_class, &sl[i], &r->slices[i]);
    }
    if (rc != CAIRN_OK)
        goto done;
    double *pv = cn_xcalloc(n_sl + 1, sizeof *pv), *adj = cn_xcalloc(n_sl + 1, sizeof *adj);
    for (size_t i = 0; i < n_sl; i++)
        pv[i] = r->slices[i].is_new ? NAN : r->slices[i].pvalue;
    cn_holm(pv, n_sl, adj);
    cn_buf why = CN_BUF_INIT;
    for (size_t i = 0; i < n_sl; i++) {
        cairn_watch_slice *s = &r->slices[i];
        s->p_adjusted = s->is_new ? s->pvalue : adj[i];
        bool worse_dir = is_class ? s->diff < 0 : s->diff > 0;
        bool sig = s->p_adjusted < ALPHA && s->diff != 0;
        s->worse = sig && worse_dir;
        s->verdict = !sig ? "same" : worse_dir ? "worse" : "better";
        if (s->worse)
            cn_buf_printf(&why, "%s%s (%s %.4g -> %.4g, adjusted p %.3g)", why.len ? "; " : "",
                          s->name, r->metric, s->champion, s->candidate, s->p_adjusted);
    }
    free(pv);
    free(adj);
    r->outcome = why.len ? CAIRN_WATCH_REFUSED : CAIRN_WATCH_DEPLOYED;
    w->refusal = why.len ? cn_buf_detach(&why) : NULL;
    cn_buf_release(&why);
    r->refusal = w->refusal;

    /* Record the gate on the candidate's run: tags and gate.json. */
    rc = record_gate(ctx, r);
    if (rc != CAIRN_OK)
        goto done;

    /* 5. Register (refused ones too, for the record). */
    cn_tree_free(json);
    json = NULL;
    cairn_head(o, &a);
    arg(&a, "model");
    arg(&a, "register");
    arg(&a, "--name");
    arg(&a, c.model);
    arg(&a, "--run");
    arg(&a, r->run_id);
    arg(&a, "--json");
    rc = run_child(ctx, p, &a, w->dir, "register", &json);
    argv_release(&a);
    if (rc != CAIRN_OK)
        goto done;
    int64_t ver = 0;
    if (!jget(json, "version") || !cn_parse_int64(jget(json, "version"), &ver)) {
        rc = cn_fail(ctx, CAIRN_EINTERNAL, "'cairn model register --json' printed no version");
        goto done;
    }
    r->candidate_version = ver;
    rc = cairn_model_version_set_tag(ctx, c.model, ver, TAG_C "gate",
                                     r->outcome == CAIRN_WATCH_REFUSED ? "refused" : "passed");
    if (rc != CAIRN_OK || r->outcome == CAIRN_WATCH_REFUSED)
        goto done;

    /* 6. The canary: alias and a server routing between the two versions. */
    rc = deploy_canary(ctx, p, o, &c, w, pct);

done:
    for (size_t i = 0; i < n_sl; i++) {
        free(sl[i].name);
        free(sl[i].rows);
    }
    free(sl);
    argv_release(&a);
    cn_tree_free(json);
    cairn_model_free(cand);
    cairn_table_free(old);
    cairn_table_free(feed);
    cairn_table_free(all);
    cairn_free(tr);
    cairn_free(va);
    cairn_free(te);
    free(feed_path);
    free(cfg_path);
    free(old_path);
    free(d.reason);
    cn_train_config_free(cfg);
    champion_release(&c);
    if (rc != CAIRN_OK) {
        cairn_watch_report_free(r);
        return rc;
    }
    *out = r;
    return CAIRN_OK;
}
