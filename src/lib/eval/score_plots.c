/* SPDX-License-Identifier: MIT */
/* score_plots.c - the pictures of scored predictions (cairn_score_plots): confusion matrix,
 * one-vs-rest ROC, precision-recall and calibration curves, or predicted against true values.
 * `cairn eval metrics --plots` writes them to files, train/score.c into a run. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "cairn/eval.h"
#include "core/core.h"
#include "base/str.h"
#include "base/xmalloc.h"
#include "base/banned.h"

#define CALIBRATION_BINS 10

typedef struct plot_list {
    cairn_score_plot *items;
    size_t n;
} plot_list;

static void plot_add(plot_list *l, const char *name, char *svg)
{
    l->items = cn_xrealloc(l->items, (l->n + 1) * sizeof *l->items);
    l->items[l->n].name = name;
    l->items[l->n].svg = svg;
    l->n++;
}

/* The one-vs-rest curves of every class present but not alone (of class 1 only, for two). */
typedef struct curves {
    size_t n, n_cal;
    cairn_curve *roc, *pr, *cal;
    double *auc, *ap, *prevalence;
    const char **names, **cal_names;
} curves;

static void curves_init(curves *c, size_t n_max)
{
    n_max += 2; /* room for the micro and macro averages */
    memset(c, 0, sizeof *c);
    c->roc = cn_xcalloc(n_max, sizeof *c->roc);
    c->pr = cn_xcalloc(n_max, sizeof *c->pr);
    c->cal = cn_xcalloc(n_max, sizeof *c->cal);
    c->auc = cn_xcalloc(n_max, sizeof *c->auc);
    c->ap = cn_xcalloc(n_max, sizeof *c->ap);
    c->prevalence = cn_xcalloc(n_max, sizeof *c->prevalence);
    c->names = cn_xcalloc(n_max, sizeof *c->names);
    c->cal_names = cn_xcalloc(n_max, sizeof *c->cal_names);
}

static void curves_release(curves *c, size_t n_max)
{
    n_max += 2;
    for (size_t j = 0; j < n_max; j++) {
        cairn_curve_release(&c->roc[j]);
        cairn_curve_release(&c->pr[j]);
        cairn_curve_release(&c->cal[j]);
    }
    free(c->roc);
    free(c->pr);
    free(c->cal);
    free(c->auc);
    free(c->ap);
    free(c->prevalence);
    free(c->names);
    free(c->cal_names);
}

/* Adds class `name`'s curves from y in {0, 1} and its scores; a class that is absent from
 * these rows, or whose curves are undefined, has none. */
static void curves_add(cairn_ctx *ctx, curves *c, const int32_t *y, const double *score, size_t n,
                       const char *name, const cairn_score_plot_opts *o)
{
    size_t pos = 0, j = c->n;
    for (size_t i = 0; i < n; i++)
        pos += (size_t)y[i];
    if (pos == 0 || pos == n)
        return;
    if (cairn_eval_roc_curve(ctx, y, score, n, &c->roc[j]) != CAIRN_OK ||
        cairn_eval_pr_curve(ctx, y, score, n, &c->pr[j]) != CAIRN_OK ||
        cairn_eval_roc_auc_binary(ctx, y, score, n, &c->auc[j]) != CAIRN_OK ||
        cairn_eval_average_precision(ctx, y, score, n, &c->ap[j]) != CAIRN_OK) {
        cairn_curve_release(&c->roc[j]);
        cairn_curve_release(&c->pr[j]);
        return;
    }
    c->prevalence[j] = (double)pos / (double)n;
    c->names[j] = name;
    c->n++;
    if (cairn_eval_calibration_curve(ctx, y, score, n,
                                     o->calibration_bins ? o->calibration_bins : CALIBRATION_BINS,
                                     o->calibration, &c->cal[c->n_cal]) == CAIRN_OK)
        c->cal_names[c->n_cal++] = name;
}

/* With three classes or more: the micro and macro averages after the per-class curves, when
 * every class has its curves (the macro average needs them all). Returns how many. */
static size_t add_averages(cairn_ctx *ctx, const cairn_predictions *p, curves *c)
{
    size_t k = p->n_classes, j = c->n;
    if (k < 3 || c->n != k)
        return 0;
    static const char *const names[2] = {"micro-average", "macro-average"};
    static const cairn_average avg[2] = {CAIRN_AVERAGE_MICRO, CAIRN_AVERAGE_MACRO};
    for (int a = 0; a < 2; a++) {
        if (cairn_eval_roc_curve_average(ctx, p->y_true, p->proba, p->n, k, avg[a], &c->roc[j + a],
                                         &c->auc[j + a]) != CAIRN_OK ||
            cairn_eval_pr_curve_average(ctx, p->y_true, p->proba, p->n, k, avg[a], &c->pr[j + a],
                                        &c->ap[j + a]) != CAIRN_OK) {
            for (int b = 0; b <= a; b++) {
                cairn_curve_release(&c->roc[j + b]);
                cairn_curve_release(&c->pr[j + b]);
            }
            return 0;
        }
        c->names[j + a] = names[a];
        /* the micro average's no-skill line is at 1/K; the others draw none */
        c->prevalence[j + a] = a == 0 ? 1.0 / (double)k : NAN;
    }
    for (size_t i = 0; i < j; i++)
        c->prevalence[i] = NAN;
    return 2;
}

static cairn_status curve_plots(cairn_ctx *ctx, const cairn_predictions *p,
                                const cairn_score_plot_opts *o, plot_list *out)
{
    size_t n = p->n, k = p->n_classes, first = k == 2 ? 1 : 0, n_max = k - first;
    curves c;
    curves_init(&c, n_max);
    int32_t *y = cn_xmalloc(n * sizeof *y);
    double *score = cn_xmalloc(n * sizeof *score);
    for (size_t cls = first; cls < k; cls++) {
        for (size_t i = 0; i < n; i++) {
            y[i] = p->y_true[i] == (int32_t)cls;
            score[i] = p->proba[i * k + cls];
        }
        curves_add(ctx, &c, y, score, n, p->classes[cls], o);
    }
    char *svg = NULL;
    cairn_status rc = CAIRN_OK;
    cairn_plot_opts po = CAIRN_PLOT_OPTS_INIT;
    po.subtitle = o->subtitle;
    if (c.n > 0) {
        po.n_averages = add_averages(ctx, p, &c);
        size_t nc = c.n + po.n_averages;
        po.title = po.n_averages ? "ROC curves (one-vs-rest)" : "ROC curve";
        rc = cairn_plot_roc(ctx, c.roc, c.names, c.auc, nc, &po, &svg);
        if (rc == CAIRN_OK)
            plot_add(out, "roc", svg);
        po.title =
            po.n_averages ? "Precision-recall curves (one-vs-rest)" : "Precision-recall curve";
        if (rc == CAIRN_OK)
            rc = cairn_plot_pr(ctx, c.pr, c.names, c.ap, c.prevalence, nc, &po, &svg);
        if (rc == CAIRN_OK)
            plot_add(out, "pr", svg);
        po.n_averages = 0;
    }
    if (rc == CAIRN_OK && c.n_cal > 0) {
        po.title = o->calibration == CAIRN_CALIBRATION_QUANTILE
                       ? "Calibration (reliability diagram, quantile bins)"
                       : "Calibration (reliability diagram)";
        rc = cairn_plot_calibration(ctx, c.cal, c.cal_names, c.n_cal, &po, &svg);
        if (rc == CAIRN_OK)
            plot_add(out, "calibration", svg);
    }
    curves_release(&c, n_max);
    free(y);
    free(score);
    return rc;
}

static cairn_status class_plots(cairn_ctx *ctx, const cairn_predictions *p,
                                const cairn_score_plot_opts *o, plot_list *out)
{
    cairn_plot_opts po = CAIRN_PLOT_OPTS_INIT;
    po.subtitle = o->subtitle;
    size_t k = p->n_classes;
    int64_t *cm = cn_xcalloc(k * k, sizeof *cm);
    char *svg = NULL;
    cairn_status rc = cairn_eval_confusion_matrix(ctx, p->y_true, p->y_pred, p->n, k, cm);
    if (rc == CAIRN_OK)
        rc = cairn_plot_confusion_matrix(ctx, cm, k, p->classes, &po, &svg);
    free(cm);
    if (rc == CAIRN_OK)
        plot_add(out, "confusion_matrix", svg);
    if (rc == CAIRN_OK && p->proba)
        rc = curve_plots(ctx, p, o, out);
    return rc;
}

cairn_status cairn_score_plots(cairn_ctx *ctx, const cairn_predictions *p, cairn_score_plot **out,
                               size_t *n_out)
{
    return cairn_score_plots_with(ctx, p, NULL, out, n_out);
}

cairn_status cairn_score_plots_with(cairn_ctx *ctx, const cairn_predictions *p,
                                    const cairn_score_plot_opts *opts, cairn_score_plot **out,
                                    size_t *n_out)
{
    cairn_score_plot_opts o = CAIRN_SCORE_PLOT_OPTS_INIT;
    if (opts)
        o = *opts;
    plot_list l = {NULL, 0};
    cairn_status rc;
    *out = NULL;
    *n_out = 0;
    if (!p || p->n == 0)
        return cn_fail(ctx, CAIRN_EINVAL, "no predictions to draw");
    if (o.calibration != CAIRN_CALIBRATION_UNIFORM && o.calibration != CAIRN_CALIBRATION_QUANTILE)
        return cn_fail(ctx, CAIRN_EINVAL, "calibration bins %d are not uniform or quantile",
                       (int)o.calibration);
    cairn_predictions named = *p;
    char **numbers = NULL;
    if (p->task == CAIRN_TASK_CLASSIFICATION && !p->classes) { /* legends name "0", "1", ... */
        numbers = cn_xcalloc(p->n_classes, sizeof *numbers);
        for (size_t j = 0; j < p->n_classes; j++)
            numbers[j] = cn_asprintf("%zu", j);
        named.classes = (const char *const *)numbers;
    }
    if (p->task == CAIRN_TASK_REGRESSION) {
        char *svg = NULL;
        cairn_plot_opts po = CAIRN_PLOT_OPTS_INIT;
        po.subtitle = o.subtitle;
        rc = cairn_plot_predicted_vs_true(ctx, p->target, p->predicted, p->n, &po, &svg);
        if (rc == CAIRN_OK)
            plot_add(&l, "predicted_vs_true", svg);
    } else {
        rc = class_plots(ctx, &named, &o, &l);
    }
    for (size_t j = 0; numbers && j < p->n_classes; j++)
        free(numbers[j]);
    free(numbers);
    if (rc != CAIRN_OK) {
        cairn_score_plots_free(l.items, l.n);
        return rc;
    }
    *out = l.items;
    *n_out = l.n;
    return CAIRN_OK;
}

void cairn_score_plots_free(cairn_score_plot *plots, size_t n)
{
    for (size_t i = 0; plots && i < n; i++)
        cairn_free(plots[i].svg);
    free(plots);
}
