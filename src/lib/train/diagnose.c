/* SPDX-License-Identifier: MIT */
/* diagnose.c - training diagnostics from per-epoch series: overfitting, underfitting,
 * divergence, vanishing or exploding gradients and the best epoch (docs/diagnostics.md). One
 * analysis (cn_diagnose) serves `cairn train` (its in-memory epoch log) and `cairn runs
 * diagnose` (any run's metric histories, matched by name). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cairn/tracking.h"
#include "cairn/train.h"
#include "core/core.h"
#include "train/train_internal.h"
#include "base/buf.h"
#include "base/str.h"
#include "base/xmalloc.h"
#include "base/banned.h"

#define GAP_DEFAULT 0.05
#define WINDOW_DEFAULT 5
#define LOSS_FLAT 0.01       /* underfitting: training loss fell by less than 1% of its start */
#define VANISH_NORM 1e-7     /* first layer's gradient norm below this: vanishing */
#define VANISH_RATIO 1e-4    /* first / last layer's norm below this: vanishing */
#define EXPLODE_NORM 1e3     /* any layer's norm above this: exploding */
#define EXPLODE_GROWTH 10.0  /* a layer's norm at the end over its first epoch's: exploding */
#define DIVERGE_GIVEBACK 0.5 /* loss ended above min + this share of (first - min): divergence */

/* ---- the result ---- */

static void add_check(cairn_diagnosis *d, char *line)
{
    d->checks = cn_xrealloc(d->checks, (d->n_checks + 1) * sizeof *d->checks);
    d->checks[d->n_checks++] = line;
}

static void add_finding(cairn_diagnosis *d, const char *kind, bool problem, int epoch, char *ev)
{
    d->findings = cn_xrealloc(d->findings, (d->n_findings + 1) * sizeof *d->findings);
    d->findings[d->n_findings++] = (cairn_diagnosis_finding){kind, problem, epoch, ev};
    d->n_problems += problem;
}

void cairn_diagnosis_free(cairn_diagnosis *d)
{
    if (!d)
        return;
    free((char *)d->run_id);
    free((char *)d->train_loss);
    free((char *)d->val_loss);
    free((char *)d->train_metric);
    free((char *)d->val_metric);
    for (size_t i = 0; i < d->n_checks; i++)
        free((char *)d->checks[i]);
    free(d->checks);
    for (size_t i = 0; i < d->n_findings; i++)
        free((char *)d->findings[i].evidence);
    free(d->findings);
    free(d);
}

/* ---- the analysis ---- */

static int epoch_of(const cn_diag_input *in, size_t i)
{
    return in->steps ? (int)in->steps[i] : (int)i + 1;
}

static bool has(const cn_diag_series *s)
{
    if (!s->v)
        return false;
    size_t n = 0;
    for (size_t i = 0; i < s->n; i++)
        n += !isnan(s->v[i]);
    return n >= 2;
}

/* The index of the epoch whose model is kept: early stopping's best, else the last with a value
 * in s. */
static size_t kept_index(const cn_diag_input *in, const cn_diag_series *s)
{
    if (in->best_epoch > 0)
        for (size_t i = 0; i < in->n; i++)
            if (epoch_of(in, i) == in->best_epoch && i < s->n && !isnan(s->v[i]))
                return i;
    size_t k = s->n;
    while (k > 0 && isnan(s->v[k - 1]))
        k--;
    return k ? k - 1 : 0;
}

static void check_overfitting_metric(cairn_diagnosis *d, const cn_diag_input *in, double gap)
{
    const double *tr = in->train_metric.v, *va = in->val_metric.v;
    size_t n = in->train_metric.n < in->val_metric.n ? in->train_metric.n : in->val_metric.n;
    size_t k = kept_index(in, &in->val_metric);
    if (k >= n || isnan(tr[k]) || isnan(va[k]))
        return;
    add_check(d, cn_asprintf("overfitting: %s - %s at epoch %d, flagged above %.3g",
                             in->train_metric.name, in->val_metric.name, epoch_of(in, k), gap));
    if (!(tr[k] - va[k] > gap))
        return;
    size_t open = k;
    while (open > 0) {
        size_t j = open - 1;
        if (isnan(tr[j]) || isnan(va[j])) {
            open = j;
            continue;
        }
        if (!(tr[j] - va[j] > gap))
            break;
        open = j;
    }
    while (open < k && (isnan(tr[open]) || isnan(va[open])))
        open++;
    add_finding(d, "overfitting", true, epoch_of(in, open),
                cn_asprintf("gap %.1f%% from epoch %d (train %.3f, val %.3f at epoch %d)",
                            100 * (tr[k] - va[k]), epoch_of(in, open), tr[k], va[k],
                            epoch_of(in, k)));
}

static void check_overfitting_loss(cairn_diagnosis *d, const cn_diag_input *in, double gap)
{
    const double *tr = in->train_loss.v, *va = in->val_loss.v;
    size_t k = kept_index(in, &in->val_loss);
    add_check(d, cn_asprintf("overfitting: %s against its minimum while %s falls, flagged %.3g "
                             "above it",
                             in->val_loss.name, in->train_loss.name, gap));
    size_t j = k;
    for (size_t i = 0; i <= k; i++)
        if (isfinite(va[i]) && (!isfinite(va[j]) || va[i] < va[j]))
            j = i;
    if (j == k || !isfinite(va[k]) || !(va[k] > va[j] * (1 + gap)))
        return;
    if (k >= in->train_loss.n || !(tr[k] < tr[j]))
        return;
    size_t open = k;
    while (open > j + 1 && (isnan(va[open - 1]) || va[open - 1] > va[j] * (1 + gap)))
        open--;
    add_finding(d, "overfitting", true, epoch_of(in, open),
                cn_asprintf("%s %.1f%% above its minimum %.4g (epoch %d) from epoch %d while "
                            "%s fell to %.4g (val %.4g at epoch %d)",
                            in->val_loss.name, 100 * (va[k] / va[j] - 1), va[j], epoch_of(in, j),
                            epoch_of(in, open), in->train_loss.name, tr[k], va[k],
                            epoch_of(in, k)));
}

static void check_underfitting(cairn_diagnosis *d, const cn_diag_input *in, double gap,
                               bool has_baseline, double baseline)
{
    if (has_baseline && has(&in->train_metric) && in->metric_higher_better) {
        size_t k = kept_index(in, &in->train_metric);
        double v = in->train_metric.v[k];
        add_check(d, cn_asprintf("underfitting: %s at epoch %d against the baseline %.4g "
                                 "(a trivial model), flagged within %.3g of it",
                                 in->train_metric.name, epoch_of(in, k), baseline, gap));
        if (v < baseline + gap)
            add_finding(d, "underfitting", true, epoch_of(in, k),
                        cn_asprintf("%s %.3f at epoch %d is within %.3g of the baseline %.3f "
                                    "(majority class or mean predictor)",
                                    in->train_metric.name, v, epoch_of(in, k), gap, baseline));
        return;
    }
    const cn_diag_series *s = &in->train_loss;
    size_t first = s->n, last = 0, n_fin = 0;
    double lo = INFINITY;
    for (size_t i = 0; s->v && i < s->n; i++)
        if (isfinite(s->v[i])) {
            first = first == s->n ? i : first;
            last = i;
            lo = s->v[i] < lo ? s->v[i] : lo;
            n_fin++;
        }
    if (n_fin < WINDOW_DEFAULT) {
        add_check(d, cn_xstrdup("underfitting: not checked (no baseline and fewer than 5 "
                                "training-loss points)"));
        return;
    }
    add_check(d, cn_asprintf("underfitting: %s's fall from its first value, flagged under %.0f%%",
                             s->name, 100 * LOSS_FLAT));
    double f = s->v[first];
    if (f > 0 && (f - lo) / f < LOSS_FLAT)
        add_finding(d, "underfitting", true, epoch_of(in, last),
                    cn_asprintf("%s fell %.2f%% over %zu epochs (from %.4g to a minimum of %.4g)",
                                s->name, 100 * (f - lo) / f, n_fin, f, lo));
}

static void check_divergence(cairn_diagnosis *d, const cn_diag_input *in, double gap, int window)
{
    const cn_diag_series *ss[2] = {&in->train_loss, &in->val_loss};
    add_check(d, cn_asprintf("divergence: non-finite losses; %s ending above its minimum by over "
                             "half its fall, or rising in each of the last %d epochs",
                             in->train_loss.v ? in->train_loss.name : "the training loss", window));
    (void)ss;
    if (in->nonfinite_key) {
        double v = in->nonfinite_value;
        add_finding(d, "divergence", true, in->nonfinite_epoch,
                    cn_asprintf("non-finite %s (%s) at epoch %d", in->nonfinite_key,
                                isnan(v) ? "NaN"
                                : v > 0  ? "+Inf"
                                         : "-Inf",
                                in->nonfinite_epoch));
        return;
    }
    const cn_diag_series *s = &in->train_loss;
    if (!has(s))
        return;
    size_t first = s->n, last = 0, imin = 0;
    for (size_t i = 0; i < s->n; i++)
        if (isfinite(s->v[i])) {
            if (first == s->n)
                first = imin = i;
            last = i;
            if (s->v[i] < s->v[imin])
                imin = i;
        }
    double f = s->v[first], lo = s->v[imin], l = s->v[last];
    bool above = l > lo + fabs(lo) * 2 * gap;
    if (above && imin < last && (l > f || l - lo > DIVERGE_GIVEBACK * (f - lo))) {
        add_finding(d, "divergence", true, epoch_of(in, imin + 1),
                    f > lo ? cn_asprintf("%s ended at %.4g (epoch %d), above its minimum %.4g "
                                         "(epoch %d) by %.0f%% of its fall from %.4g",
                                         s->name, l, epoch_of(in, last), lo, epoch_of(in, imin),
                                         100 * (l - lo) / (f - lo), f)
                           : cn_asprintf("%s ended at %.4g (epoch %d), %.3gx its first and lowest "
                                         "value %.4g",
                                         s->name, l, epoch_of(in, last), l / lo, lo));
        return;
    }
    size_t up = 0;
    for (size_t i = last; i > first && isfinite(s->v[i - 1]) && s->v[i] > s->v[i - 1]; i--)
        up++;
    if (above && up >= (size_t)window)
        add_finding(d, "divergence", true, epoch_of(in, last - up + 1),
                    cn_asprintf("%s rose in each of the last %zu epochs (from %.4g at epoch %d "
                                "to %.4g)",
                                s->name, up, s->v[last - up], epoch_of(in, last - up), l));
}

static void check_gradients(cairn_diagnosis *d, const cn_diag_input *in)
{
    size_t L = in->n_grad;
    if (L == 0)
        return;
    add_check(d, cn_asprintf("gradients: %zu layers' norms; vanishing when the first layer's is "
                             "under %.0e or under %.0e of the last layer's, exploding over %.0e "
                             "or %.0fx its first epoch's",
                             L, VANISH_NORM, VANISH_RATIO, EXPLODE_NORM, EXPLODE_GROWTH));
    for (size_t l = 0; l < L; l++) {
        const cn_diag_series *g = &in->grad[l];
        for (size_t i = 0; i < g->n; i++)
            if (g->v[i] > EXPLODE_NORM || isinf(g->v[i])) {
                add_finding(d, "exploding_gradients", true, epoch_of(in, i),
                            cn_asprintf("layer %zu gradient norm %.3g > %.0e at epoch %d", l + 1,
                                        g->v[i], EXPLODE_NORM, epoch_of(in, i)));
                goto vanish;
            }
    }
    for (size_t l = 0; l < L; l++) {
        const cn_diag_series *g = &in->grad[l];
        size_t a = 0, b = g->n;
        while (a < g->n && !isfinite(g->v[a]))
            a++;
        while (b > a && !isfinite(g->v[b - 1]))
            b--;
        if (b > a + 1 && g->v[a] > 0 && g->v[b - 1] > EXPLODE_GROWTH * g->v[a]) {
            add_finding(d, "exploding_gradients", true, epoch_of(in, b - 1),
                        cn_asprintf("layer %zu gradient norm grew %.1fx (%.3g at epoch %d to "
                                    "%.3g at epoch %d)",
                                    l + 1, g->v[b - 1] / g->v[a], g->v[a], epoch_of(in, a),
                                    g->v[b - 1], epoch_of(in, b - 1)));
            break;
        }
    }
vanish:;
    const cn_diag_series *g1 = &in->grad[0], *gl = &in->grad[L - 1];
    size_t k = g1->n;
    while (k > 0 && !isfinite(g1->v[k - 1]))
        k--;
    if (k == 0)
        return;
    double v1 = g1->v[k - 1], vl = k - 1 < gl->n ? gl->v[k - 1] : NAN;
    if (v1 < VANISH_NORM)
        add_finding(d, "vanishing_gradients", true, epoch_of(in, k - 1),
                    cn_asprintf("layer 1 gradient norm %.3g < %.0e at epoch %d", v1, VANISH_NORM,
                                epoch_of(in, k - 1)));
    else if (L > 1 && isfinite(vl) && vl > 0 && v1 / vl < VANISH_RATIO)
        add_finding(d, "vanishing_gradients", true, epoch_of(in, k - 1),
                    cn_asprintf("layer 1 gradient norm %.3g is %.2g of layer %zu's %.3g at epoch "
                                "%d",
                                v1, v1 / vl, L, vl, epoch_of(in, k - 1)));
}

static void check_best_epoch(cairn_diagnosis *d, const cn_diag_input *in)
{
    const cn_diag_series *s = &in->val_loss;
    int n_ep = in->n ? epoch_of(in, in->n - 1) : 0;
    if (in->best_epoch > 0) {
        add_finding(d, "best_epoch", false, in->best_epoch,
                    cn_asprintf("early stopping kept epoch %d of %d", in->best_epoch, n_ep));
        return;
    }
    if (!has(s))
        return;
    size_t j = s->n;
    for (size_t i = 0; i < s->n; i++)
        if (isfinite(s->v[i]) && (j == s->n || s->v[i] < s->v[j]))
            j = i;
    if (j < s->n)
        add_finding(d, "best_epoch", false, epoch_of(in, j),
                    cn_asprintf("lowest %s %.4g at epoch %d of %d", s->name, s->v[j],
                                epoch_of(in, j), n_ep));
}

cairn_status cn_diagnose(cairn_ctx *ctx, const cn_diag_input *in, const cairn_diagnose_opts *o,
                         cairn_diagnosis **out)
{
    *out = NULL;
    double gap = o && o->gap > 0 ? o->gap : GAP_DEFAULT;
    int window = o && o->window > 0 ? o->window : WINDOW_DEFAULT;
    if (o && (o->gap < 0 || !isfinite(o->gap) || o->window < 0))
        return cn_fail(ctx, CAIRN_EINVAL,
                       "diagnose: gap %g and window %d must be positive; use e.g. a gap of 0.05",
                       o->gap, o->window);
    cairn_diagnosis *d = cn_xcalloc(1, sizeof *d);
    d->run_id = cn_xstrdup(in->run_id);
    d->n_epochs = in->n;
    d->gap = gap;
    d->train_loss = cn_xstrdup(in->train_loss.v ? in->train_loss.name : NULL);
    d->val_loss = cn_xstrdup(in->val_loss.v ? in->val_loss.name : NULL);
    d->train_metric = cn_xstrdup(in->train_metric.v ? in->train_metric.name : NULL);
    d->val_metric = cn_xstrdup(in->val_metric.v ? in->val_metric.name : NULL);
    d->n_grad_layers = in->n_grad;
    check_divergence(d, in, gap, window);
    bool diverged = d->n_problems > 0;
    if (has(&in->train_metric) && has(&in->val_metric) && in->metric_higher_better)
        check_overfitting_metric(d, in, gap);
    else if (has(&in->train_loss) && has(&in->val_loss) && !diverged)
        check_overfitting_loss(d, in, gap);
    else
        add_check(d, cn_xstrdup("overfitting: not checked (no train and validation series of "
                                "two or more epochs)"));
    if (!diverged)
        check_underfitting(d, in, gap, in->has_baseline, in->baseline);
    check_gradients(d, in);
    check_best_epoch(d, in);
    *out = d;
    return CAIRN_OK;
}

/* ---- what cairn train records ---- */

cairn_status cn_diagnose_tag(cairn_run *run, const cairn_diagnosis *d)
{
    cn_buf kinds = CN_BUF_INIT;
    cairn_tag *tags = cn_xcalloc(2 * d->n_findings + 2, sizeof *tags);
    char **keys = cn_xcalloc(2 * d->n_findings + 2, sizeof *keys);
    size_t n = 0;
    for (size_t i = 0; i < d->n_findings; i++) {
        const cairn_diagnosis_finding *f = &d->findings[i];
        if (f->is_problem) {
            bool seen = false;
            for (size_t j = 0; j < i; j++)
                seen = seen || strcmp(d->findings[j].kind, f->kind) == 0;
            if (seen)
                continue;
            cn_buf_printf(&kinds, "%s%s", kinds.len ? "," : "", f->kind);
            keys[n] = cn_asprintf("cairn.diagnosis.%s", f->kind);
            tags[n] = (cairn_tag){keys[n], "true"};
            n++;
        }
        keys[n] = cn_asprintf("cairn.diagnosis.%s.evidence", f->kind);
        tags[n] = (cairn_tag){keys[n], f->evidence};
        n++;
    }
    tags[n++] = (cairn_tag){"cairn.diagnosis", kinds.len ? cn_buf_str(&kinds) : "none"};
    cairn_status rc = cairn_run_log_batch(run, NULL, 0, NULL, 0, tags, n);
    for (size_t i = 0; i < n; i++)
        free(keys[i]);
    free(keys);
    free(tags);
    cn_buf_release(&kinds);
    return rc;
}

void cn_diagnose_report(cn_buf *b, const cairn_diagnosis *d)
{
    cn_buf_puts(b, "\n## Diagnostics\n\n");
    if (d->n_problems == 0)
        cn_buf_puts(b, "No problem found.\n\n");
    else
        cn_buf_puts(b, "| finding | epoch | evidence |\n|---|---|---|\n");
    for (size_t i = 0; i < d->n_findings; i++)
        if (d->findings[i].is_problem)
            cn_buf_printf(b, "| **%s** | %d | %s |\n", d->findings[i].kind, d->findings[i].epoch,
                          d->findings[i].evidence);
    if (d->n_problems)
        cn_buf_puts(b, "\n");
    for (size_t i = 0; i < d->n_findings; i++)
        if (!d->findings[i].is_problem)
            cn_buf_printf(b, "- %s: %s\n", d->findings[i].kind, d->findings[i].evidence);
    cn_buf_puts(b, "\nChecked (see docs/diagnostics.md):\n\n");
    for (size_t i = 0; i < d->n_checks; i++)
        cn_buf_printf(b, "- %s\n", d->checks[i]);
}

/* ---- any run, from its metric histories ---- */

enum { ROLE_NONE, ROLE_TRAIN, ROLE_VAL };

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* The role of a metric key and its base name ("train_acc" -> TRAIN, "acc"). */
static int key_role(const char *key, char *base, size_t size)
{
    static const char *const train_pre[] = {"train_", "training_", "train/", "training/"};
    static const char *const val_pre[] = {"val_", "valid_", "validation_", "val/", "validation/"};
    static const char *const train_suf[] = {"_train", "_training", "/train"};
    static const char *const val_suf[] = {"_val", "_valid", "_validation", "/val", "/validation"};
    for (size_t i = 0; i < sizeof train_pre / sizeof *train_pre; i++)
        if (strncmp(key, train_pre[i], strlen(train_pre[i])) == 0) {
            snprintf(base, size, "%s", key + strlen(train_pre[i]));
            return ROLE_TRAIN;
        }
    for (size_t i = 0; i < sizeof val_pre / sizeof *val_pre; i++)
        if (strncmp(key, val_pre[i], strlen(val_pre[i])) == 0) {
            snprintf(base, size, "%s", key + strlen(val_pre[i]));
            return ROLE_VAL;
        }
    for (size_t i = 0; i < sizeof train_suf / sizeof *train_suf; i++)
        if (ends_with(key, train_suf[i])) {
            snprintf(base, size, "%.*s", (int)(strlen(key) - strlen(train_suf[i])), key);
            return ROLE_TRAIN;
        }
    for (size_t i = 0; i < sizeof val_suf / sizeof *val_suf; i++)
        if (ends_with(key, val_suf[i])) {
            snprintf(base, size, "%.*s", (int)(strlen(key) - strlen(val_suf[i])), key);
            return ROLE_VAL;
        }
    snprintf(base, size, "%s", key);
    return ROLE_NONE;
}

static bool lower_is_better(const char *base)
{
    static const char *const words[] = {"loss", "err",      "mse",       "mae",
                                        "rmse", "deviance", "perplexity"};
    for (size_t i = 0; i < sizeof words / sizeof *words; i++)
        if (strstr(base, words[i]))
            return true;
    return false;
}

typedef struct hist {
    char *key;
    size_t n;
    int64_t *steps;
    double *v;
} hist;

static cairn_status read_hist(cairn_ctx *ctx, const char *run_id, const char *key, hist *h)
{
    cn_buf steps = CN_BUF_INIT, vals = CN_BUF_INIT;
    char *token = NULL;
    cairn_status rc;
    h->key = cn_xstrdup(key);
    h->n = 0;
    do {
        cairn_metric_page *p = NULL;
        rc = cairn_run_metric_history(ctx, run_id, key, token, 0, &p);
        free(token);
        token = NULL;
        if (rc != CAIRN_OK)
            break;
        for (size_t i = 0; i < p->n; i++) {
            cn_buf_append(&steps, &p->items[i].step, sizeof(int64_t));
            cn_buf_append(&vals, &p->items[i].value, sizeof(double));
        }
        token = cn_xstrdup(p->next_page_token);
        cairn_metric_page_free(p);
    } while (token);
    h->n = vals.len / sizeof(double);
    h->steps = (int64_t *)cn_buf_detach(&steps);
    h->v = (double *)cn_buf_detach(&vals);
    return rc;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static size_t find_step(const int64_t *steps, size_t n, int64_t s)
{
    const int64_t *p = bsearch(&s, steps, n, sizeof *steps, cmp_i64);
    return p ? (size_t)(p - steps) : n;
}

static bool steps_unique(const hist *h)
{
    for (size_t i = 1; i < h->n; i++)
        if (h->steps[i] <= h->steps[i - 1])
            return false;
    return true;
}

/* Lays h out on the common step axis (or by position when steps repeat). */
static void place(const hist *h, const int64_t *steps, size_t n, bool by_pos, cn_diag_series *s)
{
    double *v = cn_xmalloc((n ? n : 1) * sizeof *v);
    for (size_t i = 0; i < n; i++)
        v[i] = NAN;
    for (size_t i = 0; i < h->n; i++) {
        size_t j = by_pos ? i : find_step(steps, n, h->steps[i]);
        if (j < n)
            v[j] = h->v[i];
    }
    *s = (cn_diag_series){h->key, v, n};
}

static const char *find_tag(const cairn_run_record *r, const char *key)
{
    for (size_t i = 0; i < r->n_tags; i++)
        if (strcmp(r->tags[i].key, key) == 0)
            return r->tags[i].value;
    return NULL;
}

/* Picks the loss pair and the metric pair among the run's keys (indices into keys, -1: none). */
static void pick_pairs(char **keys, size_t n, const size_t *counts, int *pick)
{
    char base_a[256], base_b[256];
    for (int j = 0; j < 4; j++)
        pick[j] = -1;
    int metric_rank = 99;
    for (size_t a = 0; a < n; a++) {
        if (counts[a] < 2 || ends_with(keys[a], "_ci_low") || ends_with(keys[a], "_ci_high") ||
            strncmp(keys[a], "grad_norm_", 10) == 0)
            continue;
        int ra = key_role(keys[a], base_a, sizeof base_a);
        if (ra == ROLE_VAL)
            continue;
        for (size_t b = 0; b < n; b++) {
            if (b == a || counts[b] < 2 || key_role(keys[b], base_b, sizeof base_b) != ROLE_VAL ||
                strcmp(base_a, base_b) != 0)
                continue;
            bool loss = strstr(base_a, "loss") != NULL;
            if (loss && (pick[0] < 0 || ra == ROLE_TRAIN)) {
                pick[0] = (int)a;
                pick[1] = (int)b;
            } else if (!loss && !lower_is_better(base_a)) {
                int rank = strcmp(base_a, "score") == 0     ? 0
                           : strncmp(base_a, "acc", 3) == 0 ? 1
                           : strcmp(base_a, "r2") == 0      ? 2
                           : ra == ROLE_TRAIN               ? 3
                                                            : 4;
                if (rank < metric_rank) {
                    metric_rank = rank;
                    pick[2] = (int)a;
                    pick[3] = (int)b;
                }
            }
        }
    }
    if (pick[0] < 0) /* a training loss alone */
        for (size_t a = 0; a < n; a++)
            if (counts[a] >= 2 &&
                (strcmp(keys[a], "train_loss") == 0 || strcmp(keys[a], "training_loss") == 0 ||
                 strcmp(keys[a], "loss") == 0 || strcmp(keys[a], "loss_train") == 0)) {
                pick[0] = (int)a;
                break;
            }
}

cairn_status cairn_runs_diagnose(cairn_ctx *ctx, const char *run_id, const cairn_diagnose_opts *o,
                                 cairn_diagnosis **out)
{
    *out = NULL;
    char *id = NULL;
    cairn_run_record *rec = NULL;
    hist *hs = NULL;
    size_t nh = 0;
    char **keys = NULL;
    size_t *counts = NULL;
    int64_t *steps = NULL;
    cn_diag_series grads[64];
    size_t n_grad = 0;
    cn_diag_input in;
    memset(&in, 0, sizeof in);
    cairn_status rc = cairn_run_resolve(ctx, run_id, &id);
    if (rc == CAIRN_OK)
        rc = cairn_run_get(ctx, id, &rec);
    if (rc != CAIRN_OK)
        goto done;
    size_t nk = rec->n_metrics;
    keys = cn_xcalloc(nk ? nk : 1, sizeof *keys);
    counts = cn_xcalloc(nk ? nk : 1, sizeof *counts);
    hs = cn_xcalloc(nk ? nk : 1, sizeof *hs);
    for (size_t i = 0; i < nk; i++) {
        keys[i] = (char *)rec->metrics[i].key;
        rc = read_hist(ctx, id, keys[i], &hs[nh]);
        nh++;
        if (rc != CAIRN_OK)
            goto done;
        counts[i] = hs[i].n;
    }
    int pick[4];
    pick_pairs(keys, nk, counts, pick);
    /* grad_norm_layer_1 .. in order */
    for (n_grad = 0; n_grad < 64; n_grad++) {
        char want[64];
        snprintf(want, sizeof want, "grad_norm_layer_%zu", n_grad + 1);
        size_t i = 0;
        while (i < nk && strcmp(keys[i], want) != 0)
            i++;
        if (i == nk)
            break;
    }
    if (pick[0] < 0 && pick[2] < 0 && n_grad == 0) {
        cn_buf b = CN_BUF_INIT;
        for (size_t i = 0; i < nk; i++)
            cn_buf_printf(&b, "%s%s (%zu)", i ? ", " : "", keys[i], counts[i]);
        rc = cn_fail(ctx, CAIRN_EINVAL,
                     "run '%s' has no per-epoch training series to diagnose (metrics, with their "
                     "points: %s); log train_loss and val_loss (or train_X and val_X) at each "
                     "epoch's step",
                     id, nk ? cn_buf_str(&b) : "none");
        cn_buf_release(&b);
        goto done;
    }
    /* the common step axis */
    const hist *used[4 + 64];
    size_t nu = 0;
    for (int j = 0; j < 4; j++)
        if (pick[j] >= 0)
            used[nu++] = &hs[pick[j]];
    for (size_t l = 0; l < n_grad; l++) {
        char want[64];
        snprintf(want, sizeof want, "grad_norm_layer_%zu", l + 1);
        for (size_t i = 0; i < nk; i++)
            if (strcmp(keys[i], want) == 0)
                used[nu++] = &hs[i];
    }
    bool by_pos = false;
    size_t ns = 0;
    for (size_t u = 0; u < nu; u++)
        by_pos = by_pos || !steps_unique(used[u]);
    if (by_pos) {
        for (size_t u = 0; u < nu; u++)
            ns = used[u]->n > ns ? used[u]->n : ns;
    } else {
        size_t total = 0;
        for (size_t u = 0; u < nu; u++)
            total += used[u]->n;
        steps = cn_xmalloc((total ? total : 1) * sizeof *steps);
        for (size_t u = 0; u < nu; u++)
            for (size_t i = 0; i < used[u]->n; i++)
                steps[ns++] = used[u]->steps[i];
        qsort(steps, ns, sizeof *steps, cmp_i64);
        size_t w = 0;
        for (size_t i = 0; i < ns; i++)
            if (w == 0 || steps[i] != steps[w - 1])
                steps[w++] = steps[i];
        ns = w;
    }
    in.run_id = id;
    in.n = ns;
    in.steps = by_pos ? NULL : steps;
    cn_diag_series *slots[4] = {&in.train_loss, &in.val_loss, &in.train_metric, &in.val_metric};
    for (int j = 0; j < 4; j++)
        if (pick[j] >= 0)
            place(&hs[pick[j]], steps, ns, by_pos, slots[j]);
    for (int j = 0; j < 2 && !in.nonfinite_key; j++)
        for (size_t i = 0; pick[j] >= 0 && i < hs[pick[j]].n; i++)
            if (!isfinite(hs[pick[j]].v[i])) {
                in.nonfinite_key = hs[pick[j]].key;
                in.nonfinite_value = hs[pick[j]].v[i];
                in.nonfinite_epoch = by_pos ? (int)i + 1 : (int)hs[pick[j]].steps[i];
                break;
            }
    for (size_t l = 0; l < n_grad; l++)
        place(used[nu - n_grad + l], steps, ns, by_pos, &grads[l]);
    in.grad = grads;
    in.n_grad = n_grad;
    in.metric_higher_better = true;
    const char *best = find_tag(rec, "cairn.best_epoch");
    in.best_epoch = best ? (int)strtol(best, NULL, 10) : 0;
    const char *base = find_tag(rec, "cairn.diagnosis.baseline");
    if (o && o->has_baseline) {
        in.has_baseline = true;
        in.baseline = o->baseline;
    } else if (base) {
        in.has_baseline = true;
        in.baseline = strtod(base, NULL);
    }
    rc = cn_diagnose(ctx, &in, o, out);
done:
    free((double *)in.train_loss.v);
    free((double *)in.val_loss.v);
    free((double *)in.train_metric.v);
    free((double *)in.val_metric.v);
    for (size_t l = 0; l < n_grad && in.grad; l++)
        free((double *)grads[l].v);
    for (size_t i = 0; i < nh; i++) {
        free(hs[i].key);
        free(hs[i].steps);
        free(hs[i].v);
    }
    free(hs);
    free(keys);
    free(counts);
    free(steps);
    cairn_run_record_free(rec);
    cairn_free(id);
    return rc;
}
