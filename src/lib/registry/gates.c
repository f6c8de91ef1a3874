/* SPDX-License-Identifier: MIT */
/* gates.c - promotion gates: before an alias moves to a version, check the facts the process
 * rules ask for (a complete model card, one look at the sealed test split, no train/evaluation
 * overlap, a drift reference, the configured floors and ceilings, not worse than the current
 * holder), and record every verdict in the alias event. docs/registry.md, "Promotion gates". */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cairn/data.h"
#include "cairn/drift.h"
#include "cairn/eval.h"
#include "cairn/learn.h"
#include "cairn/registry.h"
#include "cairn/train.h"
#include "core/core.h"
#include "formats/tree.h"
#include "base/buf.h"
#include "base/fs.h"
#include "base/sha256.h"
#include "base/str.h"
#include "base/xmalloc.h"
#include "base/banned.h"

#define N_GATES 6

const char *cairn_gate_verdict_str(cairn_gate_verdict v)
{
    switch (v) {
    case CAIRN_GATE_PASS: return "PASS";
    case CAIRN_GATE_FAIL: return "FAIL";
    case CAIRN_GATE_SKIP: return "SKIP";
    }
    return NULL;
}

void cairn_promotion_free(cairn_promotion *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->n_gates; i++) {
        free((char *)p->gates[i].evidence);
        free((char *)p->gates[i].fix);
    }
    free(p->gates);
    free((char *)p->name);
    free((char *)p->alias);
    free((char *)p->test);
    free((char *)p->metric);
    free((char *)p->event_reason);
    free(p);
}

static const char *tag_of(const cairn_tag *tags, size_t n, const char *key)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(tags[i].key, key) == 0)
            return tags[i].value;
    return NULL;
}

static const char *param_of(const cairn_run_record *r, const char *key)
{
    for (size_t i = 0; r && i < r->n_params; i++)
        if (strcmp(r->params[i].key, key) == 0)
            return r->params[i].value;
    return NULL;
}

static const cairn_metric *metric_of(const cairn_run_record *r, const char *key)
{
    for (size_t i = 0; r && i < r->n_metrics; i++)
        if (strcmp(r->metrics[i].key, key) == 0)
            return &r->metrics[i];
    return NULL;
}

static void verdict(cairn_gate_result *g, cairn_gate_verdict v, char *evidence, char *fix)
{
    g->verdict = v;
    g->evidence = evidence;
    g->fix = fix;
}

/* What a gate works on. */
typedef struct facts {
    cairn_ctx *ctx;
    const cairn_model_version *v;
    const cairn_run_record *run; /* NULL: the version has no run */
    cairn_model *model;          /* NULL: unreadable; model_error says why */
    char *model_error;
    char *model_path;
} facts;

static void gate_card(const facts *f, cairn_gate_result *g)
{
    cairn_model_card *c = NULL;
    const char *name = f->v->name;
    long long ver = (long long)f->v->version;
    if (cairn_model_card_get(f->ctx, name, f->v->version, &c) != CAIRN_OK) {
        verdict(g, CAIRN_GATE_FAIL, cn_xstrdup(cairn_errmsg(f->ctx)),
                cn_asprintf("fill model-card.md and run `cairn model card %s@%lld --template "
                            "model-card.md`",
                            name, ver));
        return;
    }
    if (!c->complete)
        verdict(g, CAIRN_GATE_FAIL,
                cn_asprintf("the stored card (%s) is incomplete: not yet written: %s", c->stored_as,
                            c->missing),
                cn_asprintf("write those sections in model-card.md and run `cairn model card "
                            "%s@%lld --template model-card.md`",
                            name, ver));
    else
        verdict(g, CAIRN_GATE_PASS, cn_asprintf("complete card stored as %s", c->stored_as), NULL);
    cairn_model_card_free(c);
}

static void gate_test_look(const facts *f, cairn_gate_result *g)
{
    if (!f->run) {
        verdict(g, CAIRN_GATE_FAIL,
                cn_xstrdup("the version has no run, so no look at a sealed test split is "
                           "recorded"),
                cn_xstrdup("register the version from a `cairn train` run and run `cairn eval "
                           "final RUN` once"));
        return;
    }
    const char *id = f->run->info.run_id;
    const cairn_tag *t = f->run->tags;
    size_t nt = f->run->n_tags;
    const char *looks = tag_of(t, nt, "cairn.test.looks");
    int64_t n = 0;
    if (!tag_of(t, nt, "cairn.split.test.sha256") && !looks) {
        verdict(g, CAIRN_GATE_FAIL,
                cn_asprintf("run %s has no sealed test split (tag cairn.split.test.sha256)", id),
                cn_xstrdup("train with `cairn train` and a split with a test part, then run "
                           "`cairn eval final RUN` once"));
    } else if (!looks || !cn_parse_int64(looks, &n) || n == 0) {
        verdict(g, CAIRN_GATE_FAIL,
                cn_asprintf("the sealed test split of run %s was never looked at", id),
                cn_asprintf("run `cairn eval final %s` once", id));
    } else if (n == 1) {
        verdict(g, CAIRN_GATE_PASS,
                cn_asprintf("one recorded look at the sealed test split of run %s", id), NULL);
    } else {
        verdict(g, CAIRN_GATE_FAIL,
                cn_asprintf("the sealed test split of run %s was looked at %lld times "
                            "(cairn.test.looks); its scores no longer estimate unseen data",
                            id, (long long)n),
                cn_xstrdup("train a new run with a fresh split (another seed or new data) and "
                           "look at its test split once"));
    }
}

/* Rows of an index artifact of the run (split/<part>.idx); NULL with *n 0 when absent. */
static size_t *part_rows(const facts *f, const char *part, size_t n_rows, size_t *n)
{
    char art[32], *path = NULL;
    size_t *rows = NULL;
    *n = 0;
    snprintf(art, sizeof art, "split/%s.idx", part);
    cn_buf b = CN_BUF_INIT;
    if (cairn_run_artifact_path(f->ctx, f->run->info.run_id, art, &path) == CAIRN_OK &&
        cn_fs_read_file(path, &b, (size_t)1 << 30) == 0 &&
        cairn_index_parse(f->ctx, b.data ? b.data : "", b.len, n_rows, &rows, n) != CAIRN_OK) {
        rows = NULL;
        *n = 0;
    }
    cairn_free(path);
    cn_buf_release(&b);
    return rows;
}

static void gate_overlap(const facts *f, cairn_gate_result *g)
{
    if (!f->run) {
        verdict(g, CAIRN_GATE_FAIL, cn_xstrdup("the version has no run, so no split is recorded"),
                cn_xstrdup("register the version from a `cairn train` run"));
        return;
    }
    const char *id = f->run->info.run_id;
    const char *kept = tag_of(f->run->tags, f->run->n_tags, "cairn.split.kept_duplicates");
    const char *data = param_of(f->run, "data.path");
    const char *want = tag_of(f->run->tags, f->run->n_tags, "cairn.data.sha256");
    char sha[65];
    int64_t size;
    char *recount = NULL;
    size_t over = 0, n_eval = 0;
    /* recount from the model's record of its training rows when the data is still the same */
    if (f->model && data && want && cn_sha256_file(data, sha, &size) == 0 &&
        strcmp(sha, want) == 0) {
        cairn_table *t = NULL;
        if (cairn_model_read_csv(f->ctx, f->model, data, &t) == CAIRN_OK) {
            bool ok = true;
            for (int p = 0; p < 2 && ok; p++) {
                size_t n = 0, o = 0;
                size_t *rows = part_rows(f, p ? "test" : "val", t->n_rows, &n);
                if (n &&
                    cairn_model_count_train_overlap(f->ctx, f->model, t, rows, n, &o) != CAIRN_OK)
                    ok = false;
                over += o;
                n_eval += n;
                cairn_free(rows);
            }
            if (ok)
                recount = cn_asprintf("%zu of the %zu validation and test rows equal a training "
                                      "row (recounted from the model's cairn.train_rows)",
                                      over, n_eval);
        }
        cairn_table_free(t);
    }
    int64_t k = 0;
    if (kept && (!cn_parse_int64(kept, &k) || k < 0))
        k = 1;
    if (!recount && !kept) {
        verdict(g, CAIRN_GATE_FAIL,
                cn_asprintf("run %s records no split duplicates (cairn.split.kept_duplicates) and "
                            "its data could not be recounted",
                            id),
                cn_xstrdup("train with `cairn train`, which records the training rows and moves "
                           "duplicates out of the evaluation parts"));
    } else if (over > 0 || k > 0) {
        verdict(g, CAIRN_GATE_FAIL,
                recount ? cn_asprintf("%s; cairn.split.kept_duplicates=%s", recount,
                                      kept ? kept : "unset")
                        : cn_asprintf("run %s kept %s evaluation rows equal to training rows "
                                      "(cairn.split.kept_duplicates)",
                                      id, kept),
                cn_xstrdup("remove the duplicated rows from the validation and test index files "
                           "(or let `cairn train` split: it moves them into training) and train "
                           "again"));
    } else {
        verdict(g, CAIRN_GATE_PASS,
                recount ? cn_xstrdup(recount)
                        : cn_asprintf("cairn.split.kept_duplicates=0 on run %s (data file "
                                      "changed or missing: not recounted)",
                                      id),
                NULL);
    }
    free(recount);
}

static void gate_drift(const facts *f, cairn_gate_result *g)
{
    if (!f->model) {
        verdict(g, CAIRN_GATE_FAIL,
                cn_asprintf("the model file could not be read: %s", f->model_error),
                cn_xstrdup("register a version whose source is a readable cairn model file"));
        return;
    }
    cairn_drift_reference *r = NULL;
    if (cairn_drift_reference_from_model(f->ctx, f->model, &r) != CAIRN_OK) {
        verdict(g, CAIRN_GATE_FAIL,
                cn_asprintf("the model file %s holds no drift reference", f->model_path),
                cn_asprintf("add one with `cairn drift reference --data TRAIN.csv --model %s "
                            "--write` (or retrain with `cairn train`, which stores it)",
                            f->model_path));
        return;
    }
    verdict(g, CAIRN_GATE_PASS,
            cn_asprintf("drift reference of %zu rows over %zu columns%s",
                        cairn_drift_reference_n_rows(r), cairn_drift_reference_n_features(r),
                        cairn_drift_reference_has_prediction(r) ? " (prediction included)" : ""),
            NULL);
    cairn_drift_reference_free(r);
}

/* The run metric a floor names, and its key. */
static const cairn_metric *floor_metric(const cairn_run_record *r, const char *name, char *key,
                                        size_t size)
{
    cn_strlcpy(key, name, size);
    const cairn_metric *m = metric_of(r, name);
    if (m)
        return m;
    if (r && tag_of(r->tags, r->n_tags, "cairn.test.looks")) {
        snprintf(key, size, "test_%s", name);
        if ((m = metric_of(r, key)))
            return m;
    }
    snprintf(key, size, "val_%s", name);
    if ((m = metric_of(r, key)))
        return m;
    cn_strlcpy(key, name, size);
    return NULL;
}

static void gate_thresholds(const facts *f, const cairn_promote_opts *o, cairn_gate_result *g)
{
    if (!o->n_min_metric && !(o->max_p99_ms > 0) && o->max_size_bytes <= 0) {
        verdict(g, CAIRN_GATE_SKIP,
                cn_xstrdup("no thresholds configured (promotion: min_metric, max_p99_ms, "
                           "max_size_bytes)"),
                NULL);
        return;
    }
    cn_buf ev = CN_BUF_INIT, bad = CN_BUF_INIT, fix = CN_BUF_INIT;
    const cairn_model_version *v = f->v;
    for (size_t i = 0; i < o->n_min_metric; i++) {
        char key[300];
        const cairn_metric *m = floor_metric(f->run, o->min_metric[i].metric, key, sizeof key);
        if (!m) {
            cn_buf_printf(&bad, "%smetric %s is not recorded on the run", bad.len ? "; " : "",
                          o->min_metric[i].metric);
            cn_buf_printf(&fix,
                          "%slog %s on the version's run or fix the name in promotion: "
                          "min_metric",
                          fix.len ? "; " : "", o->min_metric[i].metric);
            continue;
        }
        bool ok = m->value >= o->min_metric[i].min;
        cn_buf_printf(ok ? &ev : &bad, "%s%s %.4g %s %.4g", (ok ? ev.len : bad.len) ? "; " : "",
                      key, m->value, ok ? ">=" : "< floor", o->min_metric[i].min);
        if (!ok)
            cn_buf_printf(&fix, "%simprove %s or lower the floor with a reason",
                          fix.len ? "; " : "", key);
    }
    const char *p99 = tag_of(v->tags, v->n_tags, "cairn.profile.b1.p99_ms");
    const char *size = tag_of(v->tags, v->n_tags, "cairn.profile.size_bytes");
    double x;
    if (o->max_p99_ms > 0 || o->max_size_bytes > 0) {
        if (!p99 || !size) {
            cn_buf_printf(&bad, "%sno inference profile on the version (tags cairn.profile.*)",
                          bad.len ? "; " : "");
            cn_buf_printf(&fix, "%srun `cairn model profile models:/%s/%lld --data CSV`",
                          fix.len ? "; " : "", v->name, (long long)v->version);
        }
    }
    if (o->max_p99_ms > 0 && p99 && cn_parse_double(p99, &x)) {
        bool ok = x <= o->max_p99_ms;
        cn_buf_printf(ok ? &ev : &bad, "%sp99 latency (1 row) %.4g ms %s %.4g ms",
                      (ok ? ev.len : bad.len) ? "; " : "", x, ok ? "<=" : "> ceiling",
                      o->max_p99_ms);
        if (!ok)
            cn_buf_printf(&fix,
                          "%smake the model faster (`cairn model compress`) or raise "
                          "max_p99_ms",
                          fix.len ? "; " : "");
    }
    if (o->max_size_bytes > 0 && size && cn_parse_double(size, &x)) {
        bool ok = x <= (double)o->max_size_bytes;
        cn_buf_printf(ok ? &ev : &bad, "%ssize %.0f bytes %s %lld bytes",
                      (ok ? ev.len : bad.len) ? "; " : "", x, ok ? "<=" : "> ceiling",
                      (long long)o->max_size_bytes);
        if (!ok)
            cn_buf_printf(&fix,
                          "%sshrink the model (`cairn model compress`) or raise "
                          "max_size_bytes",
                          fix.len ? "; " : "");
    }
    if (bad.len) {
        if (ev.len)
            cn_buf_printf(&bad, " (met: %s)", ev.data);
        verdict(g, CAIRN_GATE_FAIL, cn_buf_detach(&bad), cn_buf_detach(&fix));
    } else {
        verdict(g, CAIRN_GATE_PASS, cn_buf_detach(&ev), NULL);
    }
    cn_buf_release(&ev);
    cn_buf_release(&bad);
    cn_buf_release(&fix);
}

static void gate_champion(const facts *f, const cairn_promote_opts *o, cairn_promotion *p,
                          cairn_gate_result *g)
{
    cairn_model_version *h = NULL;
    if (cairn_model_version_get_by_alias(f->ctx, f->v->name, o->alias, &h) != CAIRN_OK) {
        verdict(g, CAIRN_GATE_SKIP, cn_asprintf("@%s has no current holder", o->alias), NULL);
        return;
    }
    long long hv = (long long)h->version;
    if (h->version == f->v->version) {
        verdict(g, CAIRN_GATE_SKIP, cn_asprintf("version %lld already holds @%s", hv, o->alias),
                NULL);
    } else if (!f->run || !*h->run_id) {
        verdict(g, CAIRN_GATE_FAIL,
                cn_asprintf("cannot compare with the holder v%lld: %s has no run", hv,
                            f->run ? "the holder" : "the candidate"),
                cn_xstrdup("register both versions from runs that logged predictions on the "
                           "same rows, or --force --reason"));
    } else {
        cairn_compare_opts co = CAIRN_COMPARE_OPTS_INIT;
        co.seed = o->seed;
        cairn_compare_result *c = NULL;
        if (cairn_eval_compare_runs(f->ctx, f->run->info.run_id, h->run_id, &co, &c) != CAIRN_OK) {
            verdict(
                g, CAIRN_GATE_FAIL,
                cn_asprintf("cannot compare with the holder v%lld: %s", hv, cairn_errmsg(f->ctx)),
                cn_xstrdup("train the candidate on the holder's data and split (same data "
                           "file, split and seed) so both score the same rows"));
        } else if (!c->has_test) {
            verdict(g, CAIRN_GATE_FAIL,
                    cn_asprintf("cannot compare with the holder v%lld: %s", hv,
                                c->no_test ? c->no_test : "no shared rows"),
                    cn_xstrdup("train the candidate on the holder's data and split so both "
                               "score the same rows"));
        } else {
            bool lower = cairn_score_metric_lower_is_better(c->metric);
            bool mcnemar = c->test && cn_str_starts(c->test, "mcnemar");
            bool worse;
            if (mcnemar) /* classification: McNemar on correctness, accuracy's direction */
                worse = c->pvalue < 0.05 && (lower ? c->diff > 0 : c->diff < 0);
            else /* the paired-bootstrap (or t) interval of the metric difference */
                worse = lower ? c->diff_low > 0 : c->diff_high < 0;
            char *ev = cn_asprintf(
                "candidate v%lld vs holder v%lld on %zu shared %s rows: %s %.4g vs %.4g, "
                "difference %+.4g, 95%% CI [%+.4g, %+.4g]; %s p=%.4g%s",
                (long long)f->v->version, hv, c->n, c->scope ? c->scope : "", c->metric, c->a, c->b,
                c->diff, c->diff_low, c->diff_high, c->test ? c->test : "test", c->pvalue,
                mcnemar ? "" : " (the decision uses the CI)");
            if (worse)
                verdict(g, CAIRN_GATE_FAIL, ev,
                        cn_asprintf("the candidate is significantly worse than v%lld; improve it "
                                    "or keep v%lld",
                                    hv, hv));
            else
                verdict(g, CAIRN_GATE_PASS, ev, NULL);
            p->compared = true;
            p->test = cn_xstrdup(c->test ? c->test : "");
            p->metric = cn_xstrdup(c->metric ? c->metric : "");
            p->n_rows = c->n;
            p->diff = c->diff;
            p->diff_low = c->diff_low;
            p->diff_high = c->diff_high;
            p->pvalue = c->pvalue;
        }
        cairn_compare_result_free(c);
    }
    cairn_model_version_free(h);
}

static const char *const gate_names[N_GATES] = {"model_card",      "test_look",  "overlap",
                                                "drift_reference", "thresholds", "champion"};

cairn_status cairn_registry_promote(cairn_ctx *ctx, const char *name, int64_t version,
                                    const cairn_promote_opts *o, cairn_promotion **out)
{
    *out = NULL;
    if (!o || !o->alias)
        return cn_fail(ctx, CAIRN_EINVAL, "promote: an alias is required (--to ALIAS)");
    if (o->force && (!o->reason || !*o->reason))
        return cn_fail(ctx, CAIRN_EINVAL,
                       "--force needs --reason TEXT: the override and its reason are recorded");
    cairn_status rc = cairn_alias_check(ctx, o->alias);
    if (rc != CAIRN_OK)
        return rc;
    cairn_model_version *v = NULL;
    cairn_run_record *run = NULL;
    if ((rc = cairn_model_version_get(ctx, name, version, &v)) != CAIRN_OK)
        return rc;
    if (*v->run_id && (rc = cairn_run_get(ctx, v->run_id, &run)) != CAIRN_OK) {
        cairn_model_version_free(v);
        return rc;
    }
    facts f = {ctx, v, run, NULL, NULL, NULL};
    char ref_text[CAIRN_MODEL_NAME_MAX + 40];
    snprintf(ref_text, sizeof ref_text, "models:/%s/%lld", name, (long long)version);
    cairn_model_ref ref;
    if (cairn_model_ref_resolve(ctx, ref_text, &ref) == CAIRN_OK) {
        f.model_path = cn_xstrdup(ref.path);
        if (cairn_model_load(ctx, ref.path, &f.model) != CAIRN_OK)
            f.model_error = cn_xstrdup(cairn_errmsg(ctx));
        cairn_model_ref_release(&ref);
    } else {
        f.model_error = cn_xstrdup(cairn_errmsg(ctx));
    }

    cairn_promotion *p = cn_xcalloc(1, sizeof *p);
    p->name = cn_xstrdup(name);
    p->alias = cn_xstrdup(o->alias);
    p->version = version;
    p->diff = p->diff_low = p->diff_high = p->pvalue = NAN;
    p->n_gates = N_GATES;
    p->gates = cn_xcalloc(N_GATES, sizeof *p->gates);
    for (size_t i = 0; i < N_GATES; i++)
        p->gates[i].gate = gate_names[i];
    gate_card(&f, &p->gates[0]);
    gate_test_look(&f, &p->gates[1]);
    gate_overlap(&f, &p->gates[2]);
    gate_drift(&f, &p->gates[3]);
    gate_thresholds(&f, o, &p->gates[4]);
    gate_champion(&f, o, p, &p->gates[5]);

    cairn_model_version *holder = NULL;
    if (cairn_model_version_get_by_alias(ctx, name, o->alias, &holder) == CAIRN_OK)
        p->from_version = holder->version;
    cairn_model_version_free(holder);

    cn_buf reason = CN_BUF_INIT, failed = CN_BUF_INIT;
    cn_buf_puts(&reason, "promotion gates:");
    for (size_t i = 0; i < N_GATES; i++) {
        const cairn_gate_result *g = &p->gates[i];
        cn_buf_printf(&reason, "%s %s %s (%s)", i ? ";" : "", g->gate,
                      cairn_gate_verdict_str(g->verdict), g->evidence);
        if (g->verdict == CAIRN_GATE_FAIL) {
            p->n_failed++;
            cn_buf_printf(&failed, "%s%s", failed.len ? ", " : "", g->gate);
        }
    }
    if (p->n_failed && o->force)
        cn_buf_printf(&reason, "; FORCED past %s: %s", failed.data, o->reason);
    else if (o->reason && *o->reason)
        cn_buf_printf(&reason, "; reason: %s", o->reason);
    p->event_reason = cn_buf_detach(&reason);

    if (p->n_failed && !o->force) {
        rc = cn_fail(ctx, CAIRN_EINVAL,
                     "refusing to promote %s version %lld to @%s: %zu gate%s failed (%s); fix "
                     "%s, or override with --force --reason TEXT",
                     name, (long long)version, o->alias, p->n_failed, p->n_failed > 1 ? "s" : "",
                     failed.data, p->n_failed > 1 ? "them" : "it");
    } else {
        cairn_registry_move_opts mv = CAIRN_REGISTRY_MOVE_OPTS_INIT;
        mv.user = o->user;
        mv.reason = p->event_reason;
        rc = cairn_registry_set_alias(ctx, name, o->alias, version, &mv);
        p->promoted = rc == CAIRN_OK;
        p->forced = p->promoted && p->n_failed > 0;
    }
    cn_buf_release(&failed);
    *out = p;
    cairn_model_free(f.model);
    free(f.model_error);
    free(f.model_path);
    cairn_run_record_free(run);
    cairn_model_version_free(v);
    return rc;
}

/* ---- the promotion: section of a config ---- */

typedef struct policy_read {
    cairn_promotion_policy *p;
} policy_read;

static cairn_status read_min_metric(const cn_tree_walk *w, const cn_node *k, const cn_node *v)
{
    (void)k;
    cairn_promotion_policy *p = ((policy_read *)w->user)->p;
    if (v->kind != CN_NODE_MAP)
        return cn_tree_fail(w->ctx, w->tree, v,
                            "promotion.min_metric must be a mapping of metric name to floor, "
                            "e.g. {val_accuracy: 0.9}; got %s",
                            cn_node_kind_name(v));
    p->min_metric = cn_xcalloc(v->n ? v->n : 1, sizeof *p->min_metric);
    for (size_t i = 0; i < v->n; i++) {
        const cn_node *key = v->pairs[i].key, *val = v->pairs[i].value;
        double x;
        if (key->kind != CN_NODE_SCALAR || !key->len)
            return cn_tree_fail(w->ctx, w->tree, key,
                                "promotion.min_metric: a key must be a metric name");
        if (v->pairs[i].is_dup)
            return cn_tree_fail(w->ctx, w->tree, key, "promotion.min_metric: '%s' is given twice",
                                key->text);
        if (val->kind != CN_NODE_SCALAR || !cn_parse_double(val->text, &x) || !isfinite(x))
            return cn_tree_fail(w->ctx, w->tree, val,
                                "promotion.min_metric.%s must be a finite number", key->text);
        p->min_metric[p->n_min_metric].metric = cn_xstrdup(key->text);
        p->min_metric[p->n_min_metric++].min = x;
    }
    return CAIRN_OK;
}

static cairn_status read_p99(const cn_tree_walk *w, const cn_node *k, const cn_node *v)
{
    (void)k;
    cairn_promotion_policy *p = ((policy_read *)w->user)->p;
    double x;
    if (v->kind != CN_NODE_SCALAR || !cn_parse_double(v->text, &x) || !(x > 0) || !isfinite(x))
        return cn_tree_fail(w->ctx, w->tree, v,
                            "promotion.max_p99_ms must be a positive number of milliseconds");
    p->max_p99_ms = x;
    return CAIRN_OK;
}

static cairn_status read_size(const cn_tree_walk *w, const cn_node *k, const cn_node *v)
{
    (void)k;
    cairn_promotion_policy *p = ((policy_read *)w->user)->p;
    return cn_tree_int(w, "promotion.max_size_bytes", v, 1, INT64_MAX, &p->max_size_bytes);
}

static const cn_tree_field policy_fields[] = {
    {"min_metric", read_min_metric},
    {"max_p99_ms", read_p99},
    {"max_size_bytes", read_size},
};

void cairn_promotion_policy_free(cairn_promotion_policy *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->n_min_metric; i++)
        free((char *)p->min_metric[i].metric);
    free(p->min_metric);
    free(p);
}

static cairn_status policy_from_tree(cairn_ctx *ctx, cn_tree *t, cairn_promotion_policy **out)
{
    cairn_promotion_policy *p = cn_xcalloc(1, sizeof *p);
    const cn_node *root = cn_tree_root(t);
    cairn_status rc = CAIRN_OK;
    if (root && root->kind != CN_NODE_MAP) {
        rc = cn_tree_fail(ctx, t, root, "expected a mapping with a promotion: section");
    } else {
        const cn_node *sec = root ? cn_node_get(root, "promotion") : NULL;
        if (sec && !cn_node_is_null(sec)) {
            p->found = true;
            policy_read pr = {p};
            cn_tree_walk w = {ctx, t, &pr};
            if (sec->kind != CN_NODE_MAP)
                rc = cn_tree_fail(ctx, t, sec,
                                  "promotion must be a mapping (min_metric, "
                                  "max_p99_ms, max_size_bytes)");
            else
                rc = cn_tree_walk_map(&w, sec, "promotion", policy_fields,
                                      sizeof policy_fields / sizeof *policy_fields);
        }
    }
    cn_tree_free(t);
    if (rc != CAIRN_OK) {
        cairn_promotion_policy_free(p);
        return rc;
    }
    *out = p;
    return CAIRN_OK;
}

cairn_status cairn_promotion_policy_parse(cairn_ctx *ctx, const char *text, size_t len,
                                          cairn_promotion_policy **out)
{
    cn_tree *t = NULL;
    *out = NULL;
    cairn_status rc = cn_tree_parse(ctx, "config", "input", CN_TREE_YAML, text, len, &t);
    return rc == CAIRN_OK ? policy_from_tree(ctx, t, out) : rc;
}

cairn_status cairn_promotion_policy_load(cairn_ctx *ctx, const char *path,
                                         cairn_promotion_policy **out)
{
    cn_tree *t = NULL;
    *out = NULL;
    cairn_status rc = cn_tree_load(ctx, "config", path, &t);
    return rc == CAIRN_OK ? policy_from_tree(ctx, t, out) : rc;
}
