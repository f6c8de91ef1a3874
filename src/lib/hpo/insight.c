/* SPDX-License-Identifier: MIT */
/* insight.c - what a study's trials say: optimization history, parameter importance
 * (first-order variance decomposition on the objective's ranks, see cairn_insight_importance),
 * intermediate-value curves and slice plots, as standalone SVG (the writer of eval/svg.c) and
 * as JSON. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "hpo/hpo_internal.h"
#include "hpo/study_internal.h"
#include "core/core.h"
#include "eval/svg.h"
#include "base/fs.h"
#include "base/jsonw.h"
#include "base/str.h"
#include "base/xmalloc.h"
#include "base/banned.h"

#define TITLE_SIZE 17.0
#define LABEL_SIZE 13.0
#define TICK_SIZE 11.0
#define MAX_BINS 10

static const char *const palette[] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                                      "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};
#define COLOR(i) palette[(i) % (sizeof palette / sizeof palette[0])]

static const char *const plot_files[CAIRN_INSIGHT_N_PLOTS] = {
    "history.svg", "importance.svg", "intermediate.svg", "slice.svg", "contour.svg"};

#define CONTOUR_GRID 24  /* cells per side of a contour panel */
#define CONTOUR_PARAMS 4 /* the most important numeric parameters paired: 6 panels at most */
#define CONTOUR_LEVELS 7 /* isolines per panel */

const char *cairn_insight_plot_file(cairn_insight_plot which)
{
    return (unsigned)which < CAIRN_INSIGHT_N_PLOTS ? plot_files[which] : NULL;
}

static bool complete(const cairn_trial *t)
{
    return t->state == CAIRN_TRIAL_COMPLETE && isfinite(t->value);
}

/* ---- importance ---- */

typedef struct keyed {
    double key;
    size_t i;
} keyed;

static int keyed_cmp(const void *a, const void *b)
{
    const keyed *x = a, *y = b;
    if (x->key < y->key)
        return -1;
    if (x->key > y->key)
        return 1;
    return x->i < y->i ? -1 : x->i > y->i;
}

/* Omega squared of y grouped by bin[0 .. n) (k bins, some maybe empty). */
static double omega_squared(const double *y, const size_t *bin, size_t n, size_t k)
{
    double *sum = cn_xcalloc(k, sizeof *sum);
    size_t *cnt = cn_xcalloc(k, sizeof *cnt);
    double mean = 0;
    for (size_t j = 0; j < n; j++) {
        sum[bin[j]] += y[j];
        cnt[bin[j]]++;
        mean += y[j];
    }
    mean /= (double)n;
    double sst = 0, ssb = 0;
    size_t groups = 0;
    for (size_t j = 0; j < n; j++)
        sst += (y[j] - mean) * (y[j] - mean);
    for (size_t b = 0; b < k; b++)
        if (cnt[b]) {
            double m = sum[b] / (double)cnt[b];
            ssb += (double)cnt[b] * (m - mean) * (m - mean);
            groups++;
        }
    free(sum);
    free(cnt);
    if (groups < 2 || n <= groups || sst <= 0)
        return 0;
    double msw = (sst - ssb) / (double)(n - groups);
    double w = (ssb - (double)(groups - 1) * msw) / (sst + msw);
    return w < 0 ? 0 : w > 1 ? 1 : w;
}

cairn_status cairn_insight_importance(cairn_ctx *ctx, const cairn_space *space,
                                      const cairn_trial *trials, size_t n_trials,
                                      double *importance)
{
    size_t np = space->n, n = 0;
    for (size_t p = 0; p < np; p++)
        importance[p] = 0;
    for (size_t j = 0; j < n_trials; j++)
        n += complete(&trials[j]) && trials[j].params;
    if (n < 4)
        return cn_fail(ctx, CAIRN_EINVAL,
                       "parameter importance: %zu complete trials; it needs at least 4", n);
    /* the objective's ranks (ties share their mean rank) */
    keyed *k = cn_xmalloc(n * sizeof *k);
    const cairn_trial **ct = cn_xmalloc(n * sizeof *ct);
    size_t m = 0;
    for (size_t j = 0; j < n_trials; j++)
        if (complete(&trials[j]) && trials[j].params)
            ct[m++] = &trials[j];
    for (size_t j = 0; j < n; j++)
        k[j] = (keyed){ct[j]->value, j};
    qsort(k, n, sizeof *k, keyed_cmp);
    double *y = cn_xmalloc(n * sizeof *y);
    for (size_t a = 0; a < n;) {
        size_t b = a;
        while (b + 1 < n && k[b + 1].key == k[a].key)
            b++;
        for (size_t c = a; c <= b; c++)
            y[k[c].i] = 0.5 * (double)(a + b);
        a = b + 1;
    }
    size_t *bin = cn_xmalloc(n * sizeof *bin);
    size_t nb = (size_t)sqrt((double)n);
    nb = nb < 2 ? 2 : nb > MAX_BINS ? MAX_BINS : nb;
    for (size_t p = 0; p < np; p++) {
        const cn_param *pp = &space->params[p];
        if (pp->type == CAIRN_SPACE_PARAM_CONST)
            continue;
        size_t n_bins;
        if (pp->type == CAIRN_SPACE_PARAM_CATEGORICAL) {
            n_bins = pp->n_choices + 1;
            for (size_t j = 0; j < n; j++) {
                double v = ct[j]->params[p];
                bin[j] = isnan(v) ? pp->n_choices : (size_t)v;
            }
        } else {
            /* equal-count bins over the active values; equal values share a bin */
            size_t na = 0;
            for (size_t j = 0; j < n; j++) {
                double v = ct[j]->params[p];
                if (isnan(v))
                    bin[j] = nb;
                else
                    k[na++] = (keyed){v, j};
            }
            qsort(k, na, sizeof *k, keyed_cmp);
            size_t b = 0;
            for (size_t a = 0; a < na; a++) {
                size_t want = a * nb / (na ? na : 1);
                if (want > b && k[a].key != k[a - 1].key)
                    b = want;
                bin[k[a].i] = b;
            }
            n_bins = nb + 1;
        }
        importance[p] = omega_squared(y, bin, n, n_bins);
    }
    free(bin);
    free(y);
    free(ct);
    free(k);
    return CAIRN_OK;
}

/* ---- drawing ---- */

typedef struct panel {
    double left, top, w, h;
    double x0, x1, y0, y1;
    cn_ticks xt, yt;
} panel;

static double px(const panel *a, double x)
{
    return a->left + (x - a->x0) / (a->x1 - a->x0) * a->w;
}

static double py(const panel *a, double y)
{
    return a->top + a->h - (y - a->y0) / (a->y1 - a->y0) * a->h;
}

static void panel_range(panel *a, double xlo, double xhi, double ylo, double yhi)
{
    cn_ticks_nice(xlo, xhi, 6, &a->xt);
    cn_ticks_nice(ylo, yhi, 5, &a->yt);
    a->x0 = a->xt.lo;
    a->x1 = a->xt.hi;
    a->y0 = a->yt.lo;
    a->y1 = a->yt.hi;
}

/* Frame, grid, ticks and labels; xcat (n_xcat names) labels integer x positions instead. */
static void panel_draw(cn_svg *s, const panel *a, const char *x_label, const char *y_label,
                       const char *const *xcat, size_t n_xcat)
{
    char lab[64];
    cn_svg_rect(s, a->left, a->top, a->w, a->h, "#ffffff", "#444444");
    for (double v = a->yt.lo; v <= a->yt.hi + a->yt.step * 1e-6; v += a->yt.step) {
        double y = py(a, v);
        cn_svg_line(s, a->left, y, a->left + a->w, y, "#e5e5e5", 1, NULL);
        cn_ticks_label(&a->yt, v, lab, sizeof lab);
        cn_svg_text(s, a->left - 5, y + 4, lab, TICK_SIZE, "end", NULL, 0, "#333333");
    }
    if (xcat) {
        for (size_t c = 0; c < n_xcat; c++)
            cn_svg_text(s, px(a, (double)c), a->top + a->h + 15, xcat[c], TICK_SIZE, "middle", NULL,
                        0, "#333333");
    } else {
        for (double v = a->xt.lo; v <= a->xt.hi + a->xt.step * 1e-6; v += a->xt.step) {
            double x = px(a, v);
            cn_svg_line(s, x, a->top, x, a->top + a->h, "#e5e5e5", 1, NULL);
            cn_ticks_label(&a->xt, v, lab, sizeof lab);
            cn_svg_text(s, x, a->top + a->h + 15, lab, TICK_SIZE, "middle", NULL, 0, "#333333");
        }
    }
    if (x_label)
        cn_svg_text(s, a->left + a->w / 2, a->top + a->h + 34, x_label, LABEL_SIZE, "middle", NULL,
                    0, "#111111");
    if (y_label)
        cn_svg_text(s, a->left - 46, a->top + a->h / 2, y_label, LABEL_SIZE, "middle", NULL, -90,
                    "#111111");
}

static void value_range(const cairn_trial *t, size_t n, double *lo, double *hi)
{
    *lo = INFINITY;
    *hi = -INFINITY;
    for (size_t j = 0; j < n; j++)
        if (complete(&t[j])) {
            *lo = t[j].value < *lo ? t[j].value : *lo;
            *hi = t[j].value > *hi ? t[j].value : *hi;
        }
}

static size_t n_complete(const cairn_trial *t, size_t n)
{
    size_t c = 0;
    for (size_t j = 0; j < n; j++)
        c += complete(&t[j]);
    return c;
}

static int by_number(const void *a, const void *b)
{
    const cairn_trial *x = a, *y = b;
    return x->number < y->number ? -1 : x->number > y->number;
}

/* The trials sorted by number (a copy of the array, the pointers borrowed). */
static cairn_trial *sorted(const cairn_trial *t, size_t n)
{
    cairn_trial *c = cn_xmalloc((n ? n : 1) * sizeof *c);
    if (n)
        memcpy(c, t, n * sizeof *c);
    qsort(c, n, sizeof *c, by_number);
    return c;
}

static void group_begin(cn_svg *s, const char *cls)
{
    cn_buf_printf(&s->out, "<g class=\"%s\">\n", cls);
}

static void group_end(cn_svg *s)
{
    cn_buf_puts(&s->out, "</g>\n");
}

/* Opens the document and draws its title, and under it the subtitle (the study, its objective
 * and trial count) when there is one; the SVG's <title> holds both. */
static void open_plot(cn_svg *s, int width, int height, const char *title, const char *sub)
{
    char *full = sub && *sub ? cn_asprintf("%s \xe2\x80\x94 %s", title, sub) : NULL;
    cn_svg_begin(s, width, height, full ? full : title);
    free(full);
    cn_svg_text(s, width / 2.0, 28, title, TITLE_SIZE, "middle", "bold", 0, "#111111");
    if (sub && *sub)
        cn_svg_text(s, width / 2.0, 44, sub, 11.0, "middle", NULL, 0, "#555555");
}

static char *plot_history(const cairn_trial *t, size_t n, bool maximize, const char *sub)
{
    double lo, hi;
    value_range(t, n, &lo, &hi);
    double last = n ? (double)t[n - 1].number : 1;
    panel a = {.left = 80, .top = 50, .w = 760 - 80 - 24, .h = 480 - 50 - 62};
    panel_range(&a, n ? (double)t[0].number : 0, last > 0 ? last : 1, lo, hi);
    cn_svg s;
    open_plot(&s, 760, 480, "Optimization history", sub);
    panel_draw(&s, &a, "Trial", "Objective value", NULL, 0);
    double *bx = cn_xmalloc(2 * (n ? n : 1) * sizeof *bx),
           *by = cn_xmalloc(2 * (n ? n : 1) * sizeof *by);
    size_t m = 0;
    double best = NAN;
    for (size_t j = 0; j < n; j++) {
        if (!complete(&t[j]))
            continue;
        double v = t[j].value;
        if (isnan(best) || (maximize ? v > best : v < best)) {
            if (m > 0) { /* steps-post */
                bx[m] = px(&a, (double)t[j].number);
                by[m] = by[m - 1];
                m++;
            }
            best = v;
            bx[m] = px(&a, (double)t[j].number);
            by[m] = py(&a, best);
            m++;
        }
    }
    if (m > 0) {
        bx[m] = px(&a, last);
        by[m] = by[m - 1];
        m++;
    }
    group_begin(&s, "best");
    cn_svg_polyline(&s, bx, by, m, palette[3], 2.2, NULL, NULL);
    group_end(&s);
    group_begin(&s, "trials");
    for (size_t j = 0; j < n; j++)
        if (complete(&t[j]))
            cn_svg_circle(&s, px(&a, (double)t[j].number), py(&a, t[j].value), 3.6, palette[0],
                          "#ffffff");
    group_end(&s);
    cn_svg_text(&s, a.left + a.w - 6, a.top + 16,
                maximize ? "dots: trials; line: best so far (max)"
                         : "dots: trials; line: best so far (min)",
                TICK_SIZE, "end", NULL, 0, "#333333");
    free(bx);
    free(by);
    return cn_svg_end(&s);
}

static char *plot_importance(const cairn_space *sp, const double *imp, const char *sub)
{
    size_t np = sp->n;
    keyed *k = cn_xmalloc((np ? np : 1) * sizeof *k);
    double top = 0, name_w = 0;
    for (size_t p = 0; p < np; p++) {
        k[p] = (keyed){-imp[p], p};
        top = imp[p] > top ? imp[p] : top;
        double w = cn_svg_text_width(sp->params[p].name, TICK_SIZE);
        name_w = w > name_w ? w : name_w;
    }
    qsort(k, np, sizeof *k, keyed_cmp);
    int height = 90 + 26 * (int)(np ? np : 1);
    panel a = {.left = 20 + name_w + 10, .top = 50, .w = 0, .h = 26.0 * (double)(np ? np : 1)};
    a.w = 760 - a.left - 60;
    panel_range(&a, 0, top > 0 ? top : 1, 0, 1);
    a.y0 = 0;
    a.y1 = (double)(np ? np : 1);
    cn_svg s;
    open_plot(&s, 760, height, "Parameter importance", sub);
    char lab[64];
    cn_svg_rect(&s, a.left, a.top, a.w, a.h, "#ffffff", "#444444");
    for (double v = a.xt.lo; v <= a.xt.hi + a.xt.step * 1e-6; v += a.xt.step) {
        double x = px(&a, v);
        cn_svg_line(&s, x, a.top, x, a.top + a.h, "#e5e5e5", 1, NULL);
        cn_ticks_label(&a.xt, v, lab, sizeof lab);
        cn_svg_text(&s, x, a.top + a.h + 15, lab, TICK_SIZE, "middle", NULL, 0, "#333333");
    }
    cn_svg_text(&s, a.left + a.w / 2, a.top + a.h + 34,
                "Share of the objective's rank variance explained (omega squared)", LABEL_SIZE,
                "middle", NULL, 0, "#111111");
    group_begin(&s, "bars");
    for (size_t r = 0; r < np; r++) {
        double y = a.top + 26.0 * (double)r + 4;
        cn_svg_rect(&s, a.left, y, px(&a, imp[k[r].i]) - a.left, 18, palette[0], NULL);
    }
    group_end(&s);
    for (size_t r = 0; r < np; r++) {
        double y = a.top + 26.0 * (double)r + 4;
        cn_svg_text(&s, a.left - 8, y + 13, sp->params[k[r].i].name, TICK_SIZE, "end", NULL, 0,
                    "#111111");
        snprintf(lab, sizeof lab, "%.3f", imp[k[r].i]);
        cn_svg_text(&s, px(&a, imp[k[r].i]) + 4, y + 13, lab, TICK_SIZE, "start", NULL, 0,
                    "#333333");
    }
    free(k);
    return cn_svg_end(&s);
}

static char *plot_intermediate(const cairn_trial *t, size_t n, const char *sub)
{
    double xlo = INFINITY, xhi = -INFINITY, ylo = INFINITY, yhi = -INFINITY;
    for (size_t j = 0; j < n; j++)
        for (size_t i = 0; i < t[j].n_steps; i++) {
            double x = (double)t[j].steps[i], y = t[j].values[i];
            if (!isfinite(y))
                continue;
            xlo = x < xlo ? x : xlo;
            xhi = x > xhi ? x : xhi;
            ylo = y < ylo ? y : ylo;
            yhi = y > yhi ? y : yhi;
        }
    panel a = {.left = 80, .top = 50, .w = 760 - 80 - 24, .h = 480 - 50 - 62};
    panel_range(&a, xlo, xhi > xlo ? xhi : xlo + 1, ylo, yhi);
    cn_svg s;
    open_plot(&s, 760, 480, "Intermediate values", sub);
    panel_draw(&s, &a, "Step", "Intermediate value", NULL, 0);
    int clip = cn_svg_clip(&s, a.left, a.top, a.w, a.h);
    char clip_name[16];
    snprintf(clip_name, sizeof clip_name, "clip%d", clip);
    group_begin(&s, "curves");
    for (size_t j = 0; j < n; j++) {
        if (t[j].n_steps == 0)
            continue;
        double *x = cn_xmalloc(t[j].n_steps * sizeof *x), *y = cn_xmalloc(t[j].n_steps * sizeof *y);
        size_t m = 0;
        for (size_t i = 0; i < t[j].n_steps; i++)
            if (isfinite(t[j].values[i])) {
                x[m] = px(&a, (double)t[j].steps[i]);
                y[m] = py(&a, t[j].values[i]);
                m++;
            }
        const char *dash = t[j].state == CAIRN_TRIAL_PRUNED ? "4,3" : NULL;
        cn_svg_polyline(&s, x, y, m, COLOR((size_t)t[j].number), 1.4, dash, clip_name);
        free(x);
        free(y);
    }
    group_end(&s);
    cn_svg_text(&s, a.left + a.w - 6, a.top + 16, "one line per trial; dashed: pruned", TICK_SIZE,
                "end", NULL, 0, "#333333");
    return cn_svg_end(&s);
}

/* The x coordinate of parameter p's value v on a slice panel: log10 for log scales. */
static double slice_x(const cn_param *p, double v)
{
    return p->log && v > 0 ? log10(v) : v;
}

static char *plot_slice(const cairn_space *sp, const cairn_trial *t, size_t n, const char *sub)
{
    size_t np = sp->n, cols = np < 3 ? (np ? np : 1) : 3, rows = (np + cols - 1) / cols;
    rows = rows ? rows : 1;
    double pw = 300, ph = 230;
    int width = (int)(cols * pw), height = (int)(60 + rows * ph);
    double lo, hi;
    value_range(t, n, &lo, &hi);
    cn_svg s;
    open_plot(&s, width, height, "Slice plot", sub);
    for (size_t p = 0; p < np; p++) {
        const cn_param *pp = &sp->params[p];
        panel a = {.left = (double)(p % cols) * pw + 70,
                   .top = 50 + (double)(p / cols) * ph + 10,
                   .w = pw - 70 - 14,
                   .h = ph - 10 - 52};
        double xlo = INFINITY, xhi = -INFINITY;
        bool cat = pp->type == CAIRN_SPACE_PARAM_CATEGORICAL || pp->type == CAIRN_SPACE_PARAM_CONST;
        if (cat) {
            xlo = -0.5;
            xhi = (double)(pp->type == CAIRN_SPACE_PARAM_CONST ? 1 : pp->n_choices) - 0.5;
        } else {
            xlo = slice_x(pp, pp->low);
            xhi = slice_x(pp, pp->high);
        }
        panel_range(&a, xlo, xhi, lo, hi);
        if (cat) {
            a.x0 = xlo;
            a.x1 = xhi;
        }
        char label[300];
        snprintf(label, sizeof label, "%s%s", pp->name, pp->log ? " (log10)" : "");
        const char *const *names = (const char *const *)pp->choices;
        panel_draw(&s, &a, label, p % cols == 0 ? "Objective value" : NULL, cat ? names : NULL,
                   pp->type == CAIRN_SPACE_PARAM_CONST ? 0 : pp->n_choices);
        cn_buf_printf(&s.out, "<g class=\"trials\" data-param=\"");
        cn_svg_escape(&s.out, pp->name);
        cn_buf_puts(&s.out, "\">\n");
        for (size_t j = 0; j < n; j++) {
            if (!complete(&t[j]) || !t[j].params || isnan(t[j].params[p]))
                continue;
            double x = cat ? t[j].params[p] : slice_x(pp, t[j].params[p]);
            /* colour by trial number: early trials light, late ones dark */
            double f = n > 1 ? (double)j / (double)(n - 1) : 1;
            char fill[16];
            snprintf(fill, sizeof fill, "#%02x%02x%02x", (int)(198 - 167 * f), (int)(219 - 100 * f),
                     (int)(239 - 59 * f));
            cn_svg_circle(&s, px(&a, x), py(&a, t[j].value), 3.4, fill, "#555555");
        }
        group_end(&s);
    }
    return cn_svg_end(&s);
}

/* ---- contour: the objective over pairs of numeric parameters ---- */

/* The numeric parameters a contour pairs: those with at least two distinct values among the
 * COMPLETE trials, the most important first (importance when it can be had, else space
 * order), at most CONTOUR_PARAMS. Returns how many (in idx). */
static size_t contour_params(cairn_ctx *ctx, const cairn_space *sp, const cairn_trial *t, size_t n,
                             size_t *idx)
{
    double *imp = cn_xcalloc(sp->n ? sp->n : 1, sizeof *imp);
    if (n_complete(t, n) < 4 || cairn_insight_importance(ctx, sp, t, n, imp) != CAIRN_OK)
        for (size_t p = 0; p < sp->n; p++)
            imp[p] = 0; /* too few trials to rank them: space order */
    size_t k = 0;
    for (size_t p = 0; p < sp->n; p++) {
        const cn_param *pp = &sp->params[p];
        if (pp->type != CAIRN_SPACE_PARAM_INT && pp->type != CAIRN_SPACE_PARAM_FLOAT)
            continue;
        double first = NAN;
        bool varies = false;
        for (size_t j = 0; j < n && !varies; j++) {
            if (!complete(&t[j]) || !t[j].params || isnan(t[j].params[p]))
                continue;
            if (isnan(first))
                first = t[j].params[p];
            else if (t[j].params[p] != first)
                varies = true;
        }
        if (!varies)
            continue;
        /* insertion by importance, stable for ties (space order) */
        size_t at = k < CONTOUR_PARAMS ? k : CONTOUR_PARAMS;
        while (at > 0 && imp[p] > imp[idx[at - 1]])
            at--;
        if (at >= CONTOUR_PARAMS)
            continue;
        size_t end = k < CONTOUR_PARAMS ? k : CONTOUR_PARAMS - 1;
        for (size_t m = end; m > at; m--)
            idx[m] = idx[m - 1];
        idx[at] = p;
        if (k < CONTOUR_PARAMS)
            k++;
    }
    free(imp);
    return k;
}

/* The objective at (u, v) (both in [0, 1] of the panel) by inverse-distance weighting (power
 * 2) over the trials' points; the value of a point it sits on. */
static double idw(const double *pu, const double *pv, const double *val, size_t m, double u,
                  double v)
{
    double num = 0, den = 0;
    for (size_t i = 0; i < m; i++) {
        double d2 = (pu[i] - u) * (pu[i] - u) + (pv[i] - v) * (pv[i] - v);
        if (d2 < 1e-18)
            return val[i];
        num += val[i] / d2;
        den += 1 / d2;
    }
    return num / den;
}

/* A colour of the sequential scale for f in [0, 1] (light yellow to dark blue). */
static void scale_colour(double f, char out[8])
{
    static const int stops[5][3] = {
        {253, 231, 37}, {94, 201, 98}, {33, 145, 140}, {59, 82, 139}, {68, 1, 84}};
    f = f < 0 ? 0 : f > 1 ? 1 : f;
    double x = f * 4;
    int i = x >= 4 ? 3 : (int)x;
    double r = x - i;
    snprintf(out, 8, "#%02x%02x%02x", (int)(stops[i][0] + (stops[i + 1][0] - stops[i][0]) * r),
             (int)(stops[i][1] + (stops[i + 1][1] - stops[i][1]) * r),
             (int)(stops[i][2] + (stops[i + 1][2] - stops[i][2]) * r));
}

/* The crossing of level c on the edge from (x0, y0, a) to (x1, y1, b). */
static void edge_point(double x0, double y0, double a, double x1, double y1, double b, double c,
                       double *x, double *y)
{
    double f = b != a ? (c - a) / (b - a) : 0.5;
    *x = x0 + (x1 - x0) * f;
    *y = y0 + (y1 - y0) * f;
}

/* Isolines of z (g+1 x g+1 nodes, row-major, row 0 at the bottom) by marching squares, drawn
 * in panel a whose data range is [0, 1] on both axes. */
static void isolines(cn_svg *s, const panel *a, const double *z, int g, double c)
{
    for (int r = 0; r < g; r++)
        for (int q = 0; q < g; q++) {
            double x0 = (double)q / g, x1 = (double)(q + 1) / g;
            double y0 = (double)r / g, y1 = (double)(r + 1) / g;
            double v[4] = {z[r * (g + 1) + q], z[r * (g + 1) + q + 1], z[(r + 1) * (g + 1) + q + 1],
                           z[(r + 1) * (g + 1) + q]};
            double ex[4], ey[4];
            int n = 0;
            /* edges: bottom (0-1), right (1-2), top (2-3), left (3-0) */
            const double cx[4] = {x0, x1, x1, x0}, cy[4] = {y0, y0, y1, y1};
            for (int e = 0; e < 4; e++) {
                int i = e, j = (e + 1) % 4;
                if ((v[i] < c) != (v[j] < c) && n < 4) {
                    edge_point(cx[i], cy[i], v[i], cx[j], cy[j], v[j], c, &ex[n], &ey[n]);
                    n++;
                }
            }
            for (int k = 0; k + 1 < n; k += 2)
                cn_svg_line(s, px(a, ex[k]), py(a, ey[k]), px(a, ex[k + 1]), py(a, ey[k + 1]),
                            "#222222", 0.8, NULL);
        }
}

/* A parameter's value on the panel's [0, 1] axis (log10 for log parameters). */
static double unit_x(const cn_param *p, double v)
{
    double lo = slice_x(p, p->low), hi = slice_x(p, p->high);
    return hi > lo ? (slice_x(p, v) - lo) / (hi - lo) : 0.5;
}

/* The interpolated grid of the pair (pa, pb): (g+1)^2 nodes, row 0 at the bottom. NULL when
 * fewer than 2 COMPLETE trials hold both. */
static double *contour_grid(const cairn_space *sp, const cairn_trial *t, size_t n, size_t pa,
                            size_t pb, int g)
{
    double *pu = cn_xcalloc(n ? n : 1, sizeof *pu), *pv = cn_xcalloc(n ? n : 1, sizeof *pv);
    double *val = cn_xcalloc(n ? n : 1, sizeof *val);
    size_t m = 0;
    for (size_t j = 0; j < n; j++) {
        if (!complete(&t[j]) || !t[j].params || isnan(t[j].params[pa]) || isnan(t[j].params[pb]))
            continue;
        pu[m] = unit_x(&sp->params[pa], t[j].params[pa]);
        pv[m] = unit_x(&sp->params[pb], t[j].params[pb]);
        val[m++] = t[j].value;
    }
    double *z = NULL;
    if (m >= 2) {
        z = cn_xmalloc((size_t)(g + 1) * (size_t)(g + 1) * sizeof *z);
        for (int r = 0; r <= g; r++)
            for (int q = 0; q <= g; q++)
                z[r * (g + 1) + q] = idw(pu, pv, val, m, (double)q / g, (double)r / g);
    }
    free(pu);
    free(pv);
    free(val);
    return z;
}

static char *plot_contour(cairn_ctx *ctx, const cairn_space *sp, const cairn_trial *t, size_t n,
                          bool maximize, const char *sub)
{
    size_t idx[CONTOUR_PARAMS];
    size_t k = contour_params(ctx, sp, t, n, idx);
    size_t pairs = k * (k - 1) / 2, cols = pairs < 3 ? pairs : 3, rows = (pairs + cols - 1) / cols;
    double pw = 330, ph = 300;
    int width = (int)(cols * pw + 90), height = (int)(60 + rows * ph);
    double lo, hi;
    value_range(t, n, &lo, &hi);
    cn_svg s;
    open_plot(&s, width, height, "Contour plot", sub);
    size_t at = 0;
    for (size_t i = 0; i < k; i++)
        for (size_t j = i + 1; j < k; j++, at++) {
            const cn_param *xp = &sp->params[idx[i]], *yp = &sp->params[idx[j]];
            panel a = {.left = (double)(at % cols) * pw + 70,
                       .top = 50 + (double)(at / cols) * ph + 10,
                       .w = pw - 70 - 20,
                       .h = ph - 10 - 60};
            double *z = contour_grid(sp, t, n, idx[i], idx[j], CONTOUR_GRID);
            /* the axes show the parameters' own values (log10 for log ones) */
            panel_range(&a, slice_x(xp, xp->low), slice_x(xp, xp->high), slice_x(yp, yp->low),
                        slice_x(yp, yp->high));
            panel shown = a;
            a.x0 = a.y0 = 0;
            a.x1 = a.y1 = 1;
            char xl[300], yl[300], fill[8];
            snprintf(xl, sizeof xl, "%s%s", xp->name, xp->log ? " (log10)" : "");
            snprintf(yl, sizeof yl, "%s%s", yp->name, yp->log ? " (log10)" : "");
            /* the data's [0, 1] is the parameter's [low, high], inside the nice tick range */
            double xlo = slice_x(xp, xp->low), xhi = slice_x(xp, xp->high);
            double ylo = slice_x(yp, yp->low), yhi = slice_x(yp, yp->high);
            a.x0 = (shown.x0 - xlo) / (xhi > xlo ? xhi - xlo : 1);
            a.x1 = (shown.x1 - xlo) / (xhi > xlo ? xhi - xlo : 1);
            a.y0 = (shown.y0 - ylo) / (yhi > ylo ? yhi - ylo : 1);
            a.y1 = (shown.y1 - ylo) / (yhi > ylo ? yhi - ylo : 1);
            panel_draw(&s, &shown, xl, yl, NULL, 0);
            if (z) {
                int g = CONTOUR_GRID;
                group_begin(&s, "surface");
                for (int r = 0; r < g; r++)
                    for (int q = 0; q < g; q++) {
                        double avg = (z[r * (g + 1) + q] + z[r * (g + 1) + q + 1] +
                                      z[(r + 1) * (g + 1) + q] + z[(r + 1) * (g + 1) + q + 1]) /
                                     4;
                        double f = hi > lo ? (avg - lo) / (hi - lo) : 0.5;
                        scale_colour(maximize ? f : 1 - f, fill); /* dark: better */
                        double x0 = px(&a, (double)q / g), x1 = px(&a, (double)(q + 1) / g);
                        double y0 = py(&a, (double)(r + 1) / g), y1 = py(&a, (double)r / g);
                        cn_svg_rect(&s, x0, y0, x1 - x0 + 0.3, y1 - y0 + 0.3, fill, NULL);
                    }
                group_end(&s);
                group_begin(&s, "curves");
                for (int l = 1; l <= CONTOUR_LEVELS; l++)
                    isolines(&s, &a, z, g, lo + (hi - lo) * l / (CONTOUR_LEVELS + 1));
                group_end(&s);
                free(z);
            }
            cn_buf_printf(&s.out, "<g class=\"trials\" data-x=\"");
            cn_svg_escape(&s.out, xp->name);
            cn_buf_puts(&s.out, "\" data-y=\"");
            cn_svg_escape(&s.out, yp->name);
            cn_buf_puts(&s.out, "\">\n");
            for (size_t m = 0; m < n; m++) {
                const cairn_trial *tr = &t[m];
                if (!complete(tr) || !tr->params || isnan(tr->params[idx[i]]) ||
                    isnan(tr->params[idx[j]]))
                    continue;
                cn_svg_circle(&s, px(&a, unit_x(xp, tr->params[idx[i]])),
                              py(&a, unit_x(yp, tr->params[idx[j]])), 3, "#ffffff", "#111111");
            }
            group_end(&s);
        }
    /* the colour scale */
    double bx = cols * pw + 30, by = 70, bh = 200;
    for (int q = 0; q < 40; q++) {
        char fill[8];
        double f = (double)q / 39;
        scale_colour(maximize ? 1 - f : f, fill);
        cn_svg_rect(&s, bx, by + bh * q / 40.0, 16, bh / 40.0 + 0.5, fill, NULL);
    }
    char lab[64];
    snprintf(lab, sizeof lab, "%.4g", hi);
    cn_svg_text(&s, bx + 8, by - 6, lab, TICK_SIZE, "middle", NULL, 0, "#333333");
    snprintf(lab, sizeof lab, "%.4g", lo);
    cn_svg_text(&s, bx + 8, by + bh + 14, lab, TICK_SIZE, "middle", NULL, 0, "#333333");
    return cn_svg_end(&s);
}

/* cairn_insight_svg with a subtitle under the title (NULL: none). */
static cairn_status insight_svg(cairn_ctx *ctx, const cairn_space *space, const cairn_trial *trials,
                                size_t n_trials, bool maximize, cairn_insight_plot which,
                                const char *sub, char **svg_out)
{
    *svg_out = NULL;
    if ((unsigned)which >= CAIRN_INSIGHT_N_PLOTS)
        return cn_fail(ctx, CAIRN_EINVAL, "insight: unknown plot %d", (int)which);
    cairn_trial *t = sorted(trials, n_trials);
    cairn_status rc = CAIRN_OK;
    size_t nc = n_complete(t, n_trials);
    if (which == CAIRN_INSIGHT_INTERMEDIATE) {
        size_t with = 0;
        for (size_t j = 0; j < n_trials; j++)
            with += t[j].n_steps > 0;
        if (with == 0)
            rc = cn_fail(ctx, CAIRN_EINVAL,
                         "intermediate values: no trial reported any (cairn.metric lines or "
                         "cairn_study_report)");
        else
            *svg_out = plot_intermediate(t, n_trials, sub);
    } else if (nc == 0) {
        rc = cn_fail(ctx, CAIRN_EINVAL, "%s: no trial has completed yet", plot_files[which]);
    } else if (which == CAIRN_INSIGHT_HISTORY) {
        *svg_out = plot_history(t, n_trials, maximize, sub);
    } else if (which == CAIRN_INSIGHT_SLICE) {
        *svg_out = plot_slice(space, t, n_trials, sub);
    } else if (which == CAIRN_INSIGHT_CONTOUR) {
        size_t idx[CONTOUR_PARAMS];
        if (contour_params(ctx, space, t, n_trials, idx) < 2)
            rc = cn_fail(ctx, CAIRN_EINVAL,
                         "contour: needs two numeric parameters that vary among the completed "
                         "trials");
        else
            *svg_out = plot_contour(ctx, space, t, n_trials, maximize, sub);
    } else {
        double *imp = cn_xmalloc((space->n ? space->n : 1) * sizeof *imp);
        rc = cairn_insight_importance(ctx, space, t, n_trials, imp);
        if (rc == CAIRN_OK)
            *svg_out = plot_importance(space, imp, sub);
        free(imp);
    }
    free(t);
    return rc;
}

cairn_status cairn_insight_svg(cairn_ctx *ctx, const cairn_space *space, const cairn_trial *trials,
                               size_t n_trials, bool maximize, cairn_insight_plot which,
                               char **svg_out)
{
    return insight_svg(ctx, space, trials, n_trials, maximize, which, NULL, svg_out);
}

/* "contour": per pair of the contour's parameters, the interpolated grid: x and y (the
 * parameters' values at the nodes, as the space holds them) and z[row][column], row 0 at the
 * lowest y. */
static void write_contour_json(cn_jsonw *w, cairn_ctx *ctx, const cairn_space *sp,
                               const cairn_trial *t, size_t n)
{
    size_t idx[CONTOUR_PARAMS];
    size_t k = n_complete(t, n) ? contour_params(ctx, sp, t, n, idx) : 0;
    int g = CONTOUR_GRID;
    cn_jsonw_key(w, "contour");
    cn_jsonw_array_begin(w);
    for (size_t i = 0; i + 1 < k; i++)
        for (size_t j = i + 1; j < k; j++) {
            double *z = contour_grid(sp, t, n, idx[i], idx[j], g);
            if (!z)
                continue;
            cn_jsonw_object_begin(w);
            const cn_param *axes[2] = {&sp->params[idx[i]], &sp->params[idx[j]]};
            for (int a = 0; a < 2; a++) {
                const cn_param *p = axes[a];
                cn_jsonw_kstring(w, a ? "y" : "x", p->name);
                cn_jsonw_key(w, a ? "y_values" : "x_values");
                cn_jsonw_flat(w);
                cn_jsonw_array_begin(w);
                for (int q = 0; q <= g; q++) {
                    double f = (double)q / g;
                    cn_jsonw_double(w, p->log ? exp(log(p->low) + (log(p->high) - log(p->low)) * f)
                                              : p->low + (p->high - p->low) * f);
                }
                cn_jsonw_array_end(w);
            }
            cn_jsonw_key(w, "z");
            cn_jsonw_array_begin(w);
            for (int r = 0; r <= g; r++) {
                cn_jsonw_flat(w);
                cn_jsonw_array_begin(w);
                for (int q = 0; q <= g; q++)
                    cn_jsonw_double(w, z[r * (g + 1) + q]);
                cn_jsonw_array_end(w);
            }
            cn_jsonw_array_end(w);
            cn_jsonw_object_end(w);
            free(z);
        }
    cn_jsonw_array_end(w);
}

cairn_status cairn_insight_json(cairn_ctx *ctx, const cairn_space *space, const cairn_trial *trials,
                                size_t n_trials, bool maximize, char **json_out)
{
    *json_out = NULL;
    cairn_trial *t = sorted(trials, n_trials);
    cn_jsonw w;
    cn_jsonw_init(&w, NULL, 2);
    cn_jsonw_object_begin(&w);
    cn_jsonw_kstring(&w, "direction", maximize ? "maximize" : "minimize");
    cn_jsonw_key(&w, "history");
    cn_jsonw_array_begin(&w);
    double best = NAN;
    for (size_t j = 0; j < n_trials; j++) {
        if (complete(&t[j]) && (isnan(best) || (maximize ? t[j].value > best : t[j].value < best)))
            best = t[j].value;
        cn_jsonw_flat(&w);
        cn_jsonw_object_begin(&w);
        cn_jsonw_kint(&w, "number", t[j].number);
        cn_jsonw_kstring(&w, "state", cairn_trial_state_str(t[j].state));
        cn_jsonw_key(&w, "value");
        cn_jsonw_double_or_null(&w, complete(&t[j]) ? t[j].value : NAN);
        cn_jsonw_key(&w, "best");
        cn_jsonw_double_or_null(&w, best);
        cn_jsonw_object_end(&w);
    }
    cn_jsonw_array_end(&w);
    cn_jsonw_key(&w, "importance");
    double *imp = cn_xmalloc((space->n ? space->n : 1) * sizeof *imp);
    size_t nc = 0;
    for (size_t j = 0; j < n_trials; j++)
        nc += complete(&t[j]) && t[j].params;
    if (nc >= 4 && cairn_insight_importance(ctx, space, t, n_trials, imp) == CAIRN_OK) {
        cn_jsonw_object_begin(&w);
        cn_jsonw_kstring(&w, "method",
                         "omega squared of the objective's ranks by parameter bin "
                         "(first-order variance decomposition)");
        cn_jsonw_key(&w, "params");
        cn_jsonw_object_begin(&w);
        for (size_t p = 0; p < space->n; p++)
            cn_jsonw_kdouble(&w, space->params[p].name, imp[p]);
        cn_jsonw_object_end(&w);
        cn_jsonw_object_end(&w);
    } else {
        cn_jsonw_null(&w);
    }
    free(imp);
    cn_jsonw_key(&w, "intermediate");
    cn_jsonw_array_begin(&w);
    for (size_t j = 0; j < n_trials; j++) {
        if (t[j].n_steps == 0)
            continue;
        cn_jsonw_flat(&w);
        cn_jsonw_object_begin(&w);
        cn_jsonw_kint(&w, "number", t[j].number);
        cn_jsonw_kstring(&w, "state", cairn_trial_state_str(t[j].state));
        cn_jsonw_key(&w, "steps");
        cn_jsonw_array_begin(&w);
        for (size_t i = 0; i < t[j].n_steps; i++)
            cn_jsonw_int(&w, t[j].steps[i]);
        cn_jsonw_array_end(&w);
        cn_jsonw_key(&w, "values");
        cn_jsonw_array_begin(&w);
        for (size_t i = 0; i < t[j].n_steps; i++)
            cn_jsonw_double_or_null(&w, t[j].values[i]);
        cn_jsonw_array_end(&w);
        cn_jsonw_object_end(&w);
    }
    cn_jsonw_array_end(&w);
    cn_jsonw_key(&w, "slice");
    cn_jsonw_object_begin(&w);
    for (size_t p = 0; p < space->n; p++) {
        cn_jsonw_key(&w, space->params[p].name);
        cn_jsonw_array_begin(&w);
        for (size_t j = 0; j < n_trials; j++) {
            if (!complete(&t[j]) || !t[j].params || isnan(t[j].params[p]))
                continue;
            char v[64];
            cairn_space_format_value(space, p, t[j].params[p], v, sizeof v);
            cn_jsonw_flat(&w);
            cn_jsonw_object_begin(&w);
            cn_jsonw_kint(&w, "number", t[j].number);
            cn_jsonw_kdouble(&w, "value", t[j].value);
            cn_jsonw_kstring(&w, "param", v);
            cn_jsonw_object_end(&w);
        }
        cn_jsonw_array_end(&w);
    }
    cn_jsonw_object_end(&w);
    write_contour_json(&w, ctx, space, t, n_trials);
    cn_jsonw_object_end(&w);
    cn_jsonw_finish(&w);
    *json_out = cn_buf_detach(&w.buf);
    cn_jsonw_release(&w);
    free(t);
    return CAIRN_OK;
}

cairn_status cairn_study_write_plots(cairn_study *study, const char *dir, unsigned mask,
                                     unsigned *written)
{
    if (written)
        *written = 0;
    cairn_ctx *ctx = study->ctx;
    const cairn_trial *trials = NULL;
    size_t n = 0;
    cairn_status rc = cairn_study_trials(study, &trials, &n);
    if (rc != CAIRN_OK)
        return rc;
    if (cn_fs_mkdirs(dir, 0777) != 0)
        return cn_fail_errno(ctx, CAIRN_EIO, "study plots: cannot create folder '%s'", dir);
    bool maximize = false;
    const char *metric = cairn_study_objective(study, &maximize, NULL);
    size_t done = 0;
    for (size_t j = 0; j < n; j++)
        done += complete(&trials[j]);
    char *sub =
        cn_asprintf("study %s: %s (%s), %zu of %zu trials complete", cairn_study_name(study),
                    metric ? metric : "value", maximize ? "maximize" : "minimize", done, n);
    for (int which = 0; which < CAIRN_INSIGHT_N_PLOTS; which++) {
        if (!(mask & (1u << which)))
            continue;
        char *svg = NULL;
        if (insight_svg(ctx, study->space, trials, n, maximize, (cairn_insight_plot)which, sub,
                        &svg) != CAIRN_OK)
            continue; /* nothing to draw */
        size_t len = strlen(dir) + strlen(plot_files[which]) + 2;
        char *path = cn_xmalloc(len);
        snprintf(path, len, "%s/%s", dir, plot_files[which]);
        int e = cn_fs_write_atomic(path, svg, strlen(svg));
        free(svg);
        if (e != 0) {
            rc = cn_fail_errno(ctx, CAIRN_EIO, "study plots: cannot write '%s'", path);
            free(path);
            free(sub);
            return rc;
        }
        free(path);
        if (written)
            *written |= 1u << which;
    }
    free(sub);
    return CAIRN_OK;
}
