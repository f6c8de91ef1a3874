/* SPDX-License-Identifier: MIT */
/* ablate.c - `cairn ablate`: the baseline config and each one-factor change trained by cairn
 * train over the same seeds (each seed draws the split and the learner's randomness; scored on
 * that seed's validation rows) or the same K folds (cairn train's CV on train + validation),
 * so every arm's score pairs with the baseline's. Each factor's effect is the mean paired
 * difference with a t-interval; the paired t-test is primary (Wilcoxon alongside), Holm-
 * adjusted across the factors. The forest plot draws the effects with their intervals. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cairn/eval.h"
#include "cairn/train.h"
#include "cairn/tracking.h"
#include "automl/automl_internal.h"
#include "core/core.h"
#include "train/train_internal.h"
#include "base/arena.h"
#include "base/buf.h"
#include "base/str.h"
#include "base/time.h"
#include "base/xmalloc.h"
#include "base/banned.h"

typedef struct ablate_impl {
    cairn_ablate_result pub;
    cn_arena *arena;
} ablate_impl;

void cairn_ablate_result_free(cairn_ablate_result *r)
{
    if (!r)
        return;
    ablate_impl *impl = (ablate_impl *)r;
    cn_arena_free(impl->arena);
    free(impl);
}

/* Keys that would change which rows are scored, so the arms would not pair. */
static const char *const unpaired_keys[] = {"seed", "split.test", "split.val", "cv", NULL};

static cairn_status check_factor(cairn_ctx *ctx, const cairn_ablate_opts *o, size_t i)
{
    const char *k = o->factor_keys[i], *v = o->factor_values[i];
    if (!k || !*k || !v)
        return cn_fail(ctx, CAIRN_EINVAL, "--factor %zu: expected KEY=VALUE", i + 1);
    for (size_t j = 0; unpaired_keys[j]; j++)
        if (strcmp(k, unpaired_keys[j]) == 0)
            return cn_fail(ctx, CAIRN_EINVAL,
                           "--factor %s=%s: '%s' changes which rows are scored, so the arms "
                           "would not be paired; ablate learner params, 'learner' or "
                           "'bootstrap'",
                           k, v, k);
    for (size_t j = 0; j < i; j++)
        if (strcmp(o->factor_keys[j], k) == 0 && strcmp(o->factor_values[j], v) == 0)
            return cn_fail(ctx, CAIRN_EINVAL, "--factor %s=%s is given twice", k, v);
    /* cairn train's own checks, before any run: an unknown key, a value out of range */
    cairn_train_opts to = CAIRN_TRAIN_OPTS_INIT;
    to.config = o->config;
    to.param_keys = &o->factor_keys[i];
    to.param_values = &o->factor_values[i];
    to.n_params = 1;
    cn_train_prep *p = NULL;
    cairn_status rc = cn_train_prepare(ctx, &to, 0, &p);
    cn_train_prep_free(p);
    if (rc != CAIRN_OK)
        cn_errctx(ctx, "--factor %s=%s", k, v);
    return rc;
}

/* The fold scores of a run's CV (cv_<metric> at steps 0..k-1). */
static cairn_status fold_scores(cairn_ctx *ctx, const char *run_id, const char *metric, size_t k,
                                double *out)
{
    char *key = cn_asprintf("cv_%s", metric);
    cairn_metric_page *page = NULL;
    cairn_status rc = cairn_run_metric_history(ctx, run_id, key, NULL, 0, &page);
    for (size_t f = 0; f < k; f++)
        out[f] = NAN;
    for (size_t i = 0; rc == CAIRN_OK && i < page->n; i++)
        if (page->items[i].step >= 0 && (size_t)page->items[i].step < k)
            out[page->items[i].step] = page->items[i].value;
    for (size_t f = 0; rc == CAIRN_OK && f < k; f++)
        if (!isfinite(out[f]))
            rc = cn_fail(ctx, CAIRN_EINVAL,
                         "run %s: %s is undefined on fold %zu; choose a metric defined on "
                         "every fold",
                         run_id, key, f + 1);
    cairn_metric_page_free(page);
    free(key);
    return rc;
}

/* Trains one arm for one seed (seeds) or once with K folds; scores[0..n). */
static cairn_status train_arm(cairn_ctx *ctx, const cairn_ablate_opts *o, ablate_impl *impl,
                              size_t a, uint64_t base_seed, size_t n, bool folds)
{
    cairn_ablate_result *r = &impl->pub;
    cairn_ablate_arm *arm = &r->arms[a];
    const char *arm_name =
        a == 0 ? "baseline" : cn_arena_printf(impl->arena, "%s=%s", arm->key, arm->value);
    cairn_status rc = CAIRN_OK;
    size_t runs = folds ? 1 : n;
    for (size_t i = 0; i < runs && rc == CAIRN_OK; i++) {
        const char *keys[3], *values[3];
        size_t np = 0;
        char buf[32];
        if (a > 0) {
            keys[np] = arm->key;
            values[np++] = arm->value;
        }
        if (folds) {
            snprintf(buf, sizeof buf, "%zu", n);
            keys[np] = "cv";
        } else {
            snprintf(buf, sizeof buf, "%llu", (unsigned long long)(base_seed + i));
            keys[np] = "seed";
        }
        values[np++] = buf;
        cairn_train_opts to = CAIRN_TRAIN_OPTS_INIT;
        to.config = o->config;
        to.param_keys = keys;
        to.param_values = values;
        to.n_params = np;
        to.experiment = o->experiment;
        char *name = folds ? cn_asprintf("%s %s", r->name, arm_name)
                           : cn_asprintf("%s %s seed %s", r->name, arm_name, buf);
        to.name = name;
        cairn_train_result *tr = NULL;
        rc = cairn_train(ctx, &to, &tr);
        free(name);
        if (rc != CAIRN_OK) {
            cn_errctx(ctx, "ablation arm %s", arm_name);
            break;
        }
        arm->run_ids[i] = cn_arena_strdup(impl->arena, tr->run_id);
        if (folds) {
            rc = fold_scores(ctx, tr->run_id, r->metric, n, arm->scores);
            for (size_t f = 1; f < n; f++)
                arm->run_ids[f] = arm->run_ids[0];
        } else {
            arm->scores[i] = NAN;
            for (size_t m = 0; m < tr->n_metrics; m++)
                if (strcmp(tr->metrics[m].name, r->metric) == 0)
                    arm->scores[i] = tr->metrics[m].value;
            if (!isfinite(arm->scores[i]))
                rc = cn_fail(ctx, CAIRN_EINVAL,
                             "ablation arm %s seed %s: %s is undefined on the validation rows",
                             arm_name, buf, r->metric);
        }
        cairn_tag tags[] = {{"cairn.ablation", r->name},
                            {"cairn.ablation.arm", arm_name},
                            {"cairn.ablation.unit", r->unit},
                            {folds ? "cairn.ablation.folds" : "cairn.ablation.seed", buf}};
        if (rc == CAIRN_OK)
            rc = cairn_runs_log_batch(ctx, tr->run_id, NULL, 0, NULL, 0, tags, 4);
        cairn_train_result_free(tr);
    }
    return rc;
}

static int cmp_p(const void *x, const void *y)
{
    const cairn_ablate_arm *a = *(const cairn_ablate_arm *const *)x;
    const cairn_ablate_arm *b = *(const cairn_ablate_arm *const *)y;
    double pa = isnan(a->p_t) ? 1 : a->p_t, pb = isnan(b->p_t) ? 1 : b->p_t;
    return pa < pb ? -1 : pa > pb;
}

/* Effects, intervals, tests, Holm's step-down adjustment and verdicts. */
cairn_status cn_ablate_analyse(cairn_ctx *ctx, cairn_ablate_result *r)
{
    const cairn_ablate_arm *base = &r->arms[0];
    size_t n = base->n, m = r->n_arms - 1;
    double *d = cn_xcalloc(n, sizeof *d);
    cairn_status rc = CAIRN_OK;
    for (size_t a = 0; a < r->n_arms; a++) {
        cairn_ablate_arm *arm = &r->arms[a];
        double sum = 0;
        for (size_t i = 0; i < n; i++)
            sum += arm->scores[i];
        arm->mean = sum / (double)n;
        if (a == 0)
            continue;
        double dsum = 0, sq = 0;
        for (size_t i = 0; i < n; i++) {
            d[i] = arm->scores[i] - base->scores[i];
            dsum += d[i];
        }
        arm->effect = dsum / (double)n;
        for (size_t i = 0; i < n; i++)
            sq += (d[i] - arm->effect) * (d[i] - arm->effect);
        double se = sqrt(sq / (double)(n - 1) / (double)n);
        double tq = cairn_stats_t_quantile(1 - r->alpha / 2, (double)(n - 1));
        arm->ci_low = arm->effect - tq * se;
        arm->ci_high = arm->effect + tq * se;
        cairn_test_result t;
        rc = cairn_stats_ttest_paired(ctx, arm->scores, base->scores, n, &t);
        if (rc != CAIRN_OK)
            break;
        arm->t = t.statistic;
        arm->p_t = t.pvalue;
        if (cairn_stats_wilcoxon(ctx, arm->scores, base->scores, n, &t) == CAIRN_OK) {
            arm->w = t.statistic;
            arm->p_wilcoxon = t.pvalue;
        } else {
            arm->w = arm->p_wilcoxon = NAN; /* every difference is 0 */
        }
    }
    free(d);
    if (rc != CAIRN_OK)
        return rc;
    cairn_ablate_arm **order = cn_xcalloc(m ? m : 1, sizeof *order);
    for (size_t j = 0; j < m; j++)
        order[j] = &r->arms[j + 1];
    qsort(order, m, sizeof *order, cmp_p);
    double running = 0;
    for (size_t j = 0; j < m; j++) {
        cairn_ablate_arm *arm = order[j];
        double p = isnan(arm->p_t) ? 1 : arm->p_t;
        double adj = fmin(1, (double)(m - j) * p);
        running = fmax(running, adj);
        arm->p_holm = isnan(arm->p_t) ? NAN : running;
        bool significant = !isnan(arm->p_t) && running < r->alpha && arm->effect != 0;
        if (!significant)
            arm->verdict = "no evidence";
        else
            arm->verdict = (arm->effect > 0) == r->maximize ? "better" : "worse";
    }
    free(order);
    return CAIRN_OK;
}

cairn_status cairn_ablate(cairn_ctx *ctx, const cairn_ablate_opts *o, cairn_ablate_result **out)
{
    *out = NULL;
    if (!o || !o->config)
        return cn_fail(ctx, CAIRN_EINVAL, "cairn ablate: a config file is required");
    if (o->n_factors == 0)
        return cn_fail(ctx, CAIRN_EINVAL, "cairn ablate: at least one --factor KEY=VALUE");
    if (o->n_folds < 0 || o->n_folds == 1 || o->n_folds > 100)
        return cn_fail(ctx, CAIRN_EINVAL, "--folds %d: cross-validation needs 2 to 100 folds",
                       o->n_folds);
    if (o->n_seeds < 0 || o->n_seeds == 1 || o->n_seeds > 1000)
        return cn_fail(ctx, CAIRN_EINVAL,
                       "--seeds %d: a paired test needs 2 to 1000 seeds (default 5)", o->n_seeds);
    if (o->n_seeds && o->n_folds)
        return cn_fail(ctx, CAIRN_EINVAL, "--seeds and --folds: choose one");
    if (o->alpha < 0 || o->alpha >= 1)
        return cn_fail(ctx, CAIRN_EINVAL, "alpha %g: must be in (0, 1)", o->alpha);
    cairn_train_opts to = CAIRN_TRAIN_OPTS_INIT;
    to.config = o->config;
    cn_train_prep *base = NULL;
    cairn_status rc = cn_train_prepare(ctx, &to, 0, &base);
    if (rc != CAIRN_OK)
        return rc;
    bool folds = o->n_folds > 0;
    if (!folds && base->n_val == 0) {
        rc = cn_fail(ctx, CAIRN_EINVAL,
                     "config '%s' has no validation rows to score the seeds on; set split.val "
                     "(e.g. 0.2) or use --folds K",
                     o->config);
        cn_train_prep_free(base);
        return rc;
    }
    for (size_t i = 0; i < o->n_factors && rc == CAIRN_OK; i++)
        rc = check_factor(ctx, o, i);
    if (rc != CAIRN_OK) {
        cn_train_prep_free(base);
        return rc;
    }
    ablate_impl *impl = cn_xcalloc(1, sizeof *impl);
    impl->arena = cn_arena_new();
    cairn_ablate_result *r = &impl->pub;
    r->name = o->name ? cn_arena_strdup(impl->arena, o->name)
                      : cn_arena_printf(impl->arena, "ablate-%lld", (long long)cn_now_ms());
    r->metric = cn_arena_strdup(impl->arena, base->metrics[0]);
    r->maximize = cn_automl_metric_maximize(r->metric);
    r->unit = folds ? "fold" : "seed";
    r->alpha = o->alpha > 0 ? o->alpha : 0.05;
    size_t n = folds ? (size_t)o->n_folds : (o->n_seeds ? (size_t)o->n_seeds : 5);
    uint64_t seed = base->seed;
    cn_train_prep_free(base);
    r->n_arms = o->n_factors + 1;
    r->arms = cn_arena_alloc(impl->arena, r->n_arms * sizeof *r->arms);
    for (size_t a = 0; a < r->n_arms; a++) {
        cairn_ablate_arm *arm = &r->arms[a];
        arm->key = a ? cn_arena_strdup(impl->arena, o->factor_keys[a - 1]) : NULL;
        arm->value = a ? cn_arena_strdup(impl->arena, o->factor_values[a - 1]) : NULL;
        arm->n = n;
        arm->scores = cn_arena_alloc(impl->arena, n * sizeof *arm->scores);
        arm->run_ids = cn_arena_alloc(impl->arena, n * sizeof *arm->run_ids);
        arm->effect = arm->ci_low = arm->ci_high = NAN;
        arm->t = arm->p_t = arm->w = arm->p_wilcoxon = arm->p_holm = NAN;
        arm->verdict = a ? NULL : "baseline";
    }
    for (size_t a = 0; a < r->n_arms && rc == CAIRN_OK; a++)
        rc = train_arm(ctx, o, impl, a, seed, n, folds);
    if (rc == CAIRN_OK)
        rc = cn_ablate_analyse(ctx, r);
    if (rc != CAIRN_OK) {
        cairn_ablate_result_free(r);
        return rc;
    }
    *out = r;
    return CAIRN_OK;
}

/* ---- the forest plot ---- */

static void xml_text(cn_buf *b, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '&': cn_buf_puts(b, "&amp;"); break;
        case '<': cn_buf_puts(b, "&lt;"); break;
        case '>': cn_buf_puts(b, "&gt;"); break;
        case '"': cn_buf_puts(b, "&quot;"); break;
        default: cn_buf_append(b, s, 1);
        }
    }
}

cairn_status cairn_ablate_plot_svg(cairn_ctx *ctx, const cairn_ablate_result *r, char **svg_out)
{
    *svg_out = NULL;
    if (!r || r->n_arms < 2)
        return cn_fail(ctx, CAIRN_EINVAL, "ablation plot: no factor to draw");
    const double left = 220, right = 40, top = 56, row_h = 28, width = 720;
    size_t m = r->n_arms - 1;
    double height = top + row_h * (double)m + 60;
    double lo = 0, hi = 0;
    for (size_t a = 1; a < r->n_arms; a++) {
        const cairn_ablate_arm *arm = &r->arms[a];
        double l = isfinite(arm->ci_low) ? arm->ci_low : arm->effect;
        double h = isfinite(arm->ci_high) ? arm->ci_high : arm->effect;
        if (isfinite(l))
            lo = fmin(lo, l);
        if (isfinite(h))
            hi = fmax(hi, h);
    }
    if (hi - lo <= 0) {
        lo -= 1e-3;
        hi += 1e-3;
    }
    double pad = (hi - lo) * 0.08;
    lo -= pad;
    hi += pad;
    double plot_w = width - left - right;
#define XPOS(v) (left + ((v)-lo) / (hi - lo) * plot_w)
    cn_buf b = CN_BUF_INIT;
    cn_buf_printf(&b,
                  "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" "
                  "viewBox=\"0 0 %.0f %.0f\" font-family=\"sans-serif\" font-size=\"12\">\n",
                  width, height, width, height);
    cn_buf_printf(&b, "<rect width=\"%.0f\" height=\"%.0f\" fill=\"white\"/>\n", width, height);
    cn_buf_puts(&b, "<text x=\"12\" y=\"20\" font-size=\"14\">");
    xml_text(&b, r->name);
    cn_buf_printf(&b, ": effect on %s vs the baseline</text>\n", r->metric);
    cn_buf_printf(&b,
                  "<text x=\"12\" y=\"36\" fill=\"#555\">mean paired difference over %zu %ss, "
                  "%.0f%% t-interval; red worse, green better (Holm)</text>\n",
                  r->arms[0].n, r->unit, 100 * (1 - r->alpha));
    double zx = XPOS(0.0);
    cn_buf_printf(&b,
                  "<line class=\"zero\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
                  "stroke=\"#888\" stroke-dasharray=\"4 3\"/>\n",
                  zx, top - 10, zx, top + row_h * (double)m);
    cn_buf_puts(&b, "<g class=\"effects\">\n");
    for (size_t a = 1; a < r->n_arms; a++) {
        const cairn_ablate_arm *arm = &r->arms[a];
        double y = top + row_h * ((double)(a - 1) + 0.5);
        const char *color = strcmp(arm->verdict, "better") == 0  ? "#2a7d2a"
                            : strcmp(arm->verdict, "worse") == 0 ? "#b22222"
                                                                 : "#555";
        cn_buf_printf(&b, "<text x=\"%.0f\" y=\"%.1f\" text-anchor=\"end\">", left - 10, y + 4);
        xml_text(&b, arm->key);
        cn_buf_puts(&b, "=");
        xml_text(&b, arm->value);
        cn_buf_puts(&b, "</text>\n");
        if (isfinite(arm->ci_low) && isfinite(arm->ci_high))
            cn_buf_printf(&b,
                          "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" "
                          "stroke-width=\"2\"/>\n",
                          XPOS(arm->ci_low), y, XPOS(arm->ci_high), y, color);
        if (isfinite(arm->effect)) {
            cn_buf_printf(&b, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"5\" fill=\"%s\"><title>",
                          XPOS(arm->effect), y, color);
            cn_buf_printf(&b, "effect %.4g [%.4g, %.4g], p = %.3g (Holm %.3g): %s", arm->effect,
                          arm->ci_low, arm->ci_high, arm->p_t, arm->p_holm, arm->verdict);
            cn_buf_puts(&b, "</title></circle>\n");
        }
    }
    cn_buf_puts(&b, "</g>\n");
    double axis_y = top + row_h * (double)m + 10;
    cn_buf_printf(&b, "<line x1=\"%.0f\" y1=\"%.1f\" x2=\"%.0f\" y2=\"%.1f\" stroke=\"black\"/>\n",
                  left, axis_y, width - right, axis_y);
    for (int i = 0; i <= 4; i++) {
        double v = lo + (hi - lo) * i / 4;
        char label[32];
        snprintf(label, sizeof label, "%.3g", fabs(v) < 1e-12 * (hi - lo) ? 0.0 : v);
        cn_buf_printf(&b, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%s</text>\n", XPOS(v),
                      axis_y + 16, label);
    }
    cn_buf_printf(&b,
                  "<text x=\"%.0f\" y=\"%.1f\" text-anchor=\"middle\">%s difference (%s is "
                  "better)</text>\n",
                  left + plot_w / 2, axis_y + 36, r->metric, r->maximize ? "right" : "left");
    cn_buf_puts(&b, "</svg>\n");
#undef XPOS
    *svg_out = cn_xstrdup(cn_buf_str(&b));
    cn_buf_release(&b);
    return CAIRN_OK;
}
