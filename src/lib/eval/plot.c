/* SPDX-License-Identifier: MIT */
/* plot.c - evaluation pictures as standalone SVG: learning curves, confusion-matrix heat map,
 * ROC, precision-recall and calibration curves, optimization history. Each has a title, axis
 * labels, round ("nice") ticks and a legend placed in the emptiest corner of the plot. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cairn/eval.h"
#include "core/core.h"
#include "base/str.h"
#include "base/xmalloc.h"
#include "eval/evalint.h"
#include "eval/svg.h"
#include "base/banned.h"

#define MAX_POINTS 10000000u
#define TITLE_SIZE 17.0
#define LABEL_SIZE 14.0
#define TICK_SIZE 12.0
#define LEGEND_SIZE 12.5
#define SUBTITLE_SIZE 12.5

/* Dash patterns that per-class curves cycle through beside the colours (solid first). */
static const char *const dashes[] = {NULL, "7,3", "2,3", "9,3,2,3"};
#define DASH(i) dashes[(i) % (sizeof dashes / sizeof dashes[0])]

/* matplotlib's tab10, the colours people recognise from every notebook */
static const char *const palette[] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                                      "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};
#define COLOR(i) palette[(i) % (sizeof palette / sizeof palette[0])]

typedef struct axes {
    double left, top, w, h; /* plot area in pixels */
    double x0, x1, y0, y1;  /* data range shown */
    cn_ticks xt, yt;        /* tick positions (within the range) */
    int clip;
    char clip_name[16];
} axes;

static double px(const axes *a, double x)
{
    return a->left + (x - a->x0) / (a->x1 - a->x0) * a->w;
}

static double py(const axes *a, double y)
{
    return a->top + a->h - (y - a->y0) / (a->y1 - a->y0) * a->h;
}

/* Width of the widest y tick label. */
static double ytick_width(const cn_ticks *t)
{
    double w = 0;
    char lab[64];
    for (double v = t->lo; v <= t->hi + t->step * 1e-6; v += t->step) {
        cn_ticks_label(t, v, lab, sizeof lab);
        double lw = cn_svg_text_width(lab, TICK_SIZE);
        w = lw > w ? lw : w;
    }
    return w;
}

/* Grid, frame, ticks, tick labels and axis labels. x_label NULL draws none (stacked panels). */
static void draw_axes(cn_svg *s, axes *a, const char *x_label, const char *y_label)
{
    char lab[64];
    a->clip = cn_svg_clip(s, a->left - 1, a->top - 1, a->w + 2, a->h + 2);
    snprintf(a->clip_name, sizeof a->clip_name, "clip%d", a->clip);
    cn_svg_rect(s, a->left, a->top, a->w, a->h, "#ffffff", NULL);
    double eps = 1e-9;
    for (double v = a->xt.lo; v <= a->xt.hi + a->xt.step * eps; v += a->xt.step) {
        if (v < a->x0 - a->xt.step * eps || v > a->x1 + a->xt.step * eps)
            continue;
        double x = px(a, v);
        cn_svg_line(s, x, a->top, x, a->top + a->h, "#e6e6e6", 1, NULL);
        cn_svg_line(s, x, a->top + a->h, x, a->top + a->h + 5, "#444444", 1, NULL);
        cn_ticks_label(&a->xt, v, lab, sizeof lab);
        cn_svg_text(s, x, a->top + a->h + 19, lab, TICK_SIZE, "middle", NULL, 0, "#333333");
    }
    for (double v = a->yt.lo; v <= a->yt.hi + a->yt.step * eps; v += a->yt.step) {
        if (v < a->y0 - a->yt.step * eps || v > a->y1 + a->yt.step * eps)
            continue;
        double y = py(a, v);
        cn_svg_line(s, a->left, y, a->left + a->w, y, "#e6e6e6", 1, NULL);
        cn_svg_line(s, a->left - 5, y, a->left, y, "#444444", 1, NULL);
        cn_ticks_label(&a->yt, v, lab, sizeof lab);
        cn_svg_text(s, a->left - 8, y + 4, lab, TICK_SIZE, "end", NULL, 0, "#333333");
    }
    cn_svg_rect(s, a->left, a->top, a->w, a->h, NULL, "#444444");
    if (x_label)
        cn_svg_text(s, a->left + a->w / 2, a->top + a->h + 42, x_label, LABEL_SIZE, "middle", NULL,
                    0, NULL);
    if (y_label) {
        double x = a->left - ytick_width(&a->yt) - 22;
        cn_svg_text(s, x, a->top + a->h / 2, y_label, LABEL_SIZE, "middle", NULL, -90, NULL);
    }
}

/* Draws x/y data as lines broken at NaN, optionally with markers. */
static void draw_series(cn_svg *s, const axes *a, const double *x, const double *y, size_t n,
                        const char *color, double width, const char *dash, bool markers)
{
    double *qx = cn_xmalloc((n ? n : 1) * sizeof *qx), *qy = cn_xmalloc((n ? n : 1) * sizeof *qy);
    size_t m = 0;
    for (size_t i = 0; i <= n; i++) {
        bool ok = i < n && isfinite(x[i]) && isfinite(y[i]);
        if (ok) {
            qx[m] = px(a, x[i]);
            qy[m] = py(a, y[i]);
            m++;
        }
        if (!ok || i == n) {
            if (m == 1 && !markers)
                cn_svg_circle(s, qx[0], qy[0], width + 1, color, NULL);
            else if (m > 1 && width > 0)
                cn_svg_polyline(s, qx, qy, m, color, width, dash, a->clip_name);
            m = 0;
        }
    }
    if (markers)
        for (size_t i = 0; i < n; i++)
            if (isfinite(x[i]) && isfinite(y[i]))
                cn_svg_circle(s, px(a, x[i]), py(a, y[i]), 3.2, color, "#ffffff");
    free(qx);
    free(qy);
}

typedef struct legend_entry {
    const char *text;
    const char *color;
    const char *dash;
    bool line, marker;
    double width; /* of the line; 0: 2.2 (above 2.5 the text is bold too) */
} legend_entry;

/* Places the legend in a corner of the plot that holds none of the data points (ppx/ppy: pixel
 * coordinates of everything drawn, may be NULL); when every corner would cover some, or the
 * legend is long, it goes beside the plot on the right and the canvas grows to hold it. */
static void draw_legend(cn_svg *s, const axes *a, const legend_entry *e, size_t n,
                        const double *ppx, const double *ppy, size_t n_pts)
{
    if (n == 0)
        return;
    double tw = 0;
    for (size_t i = 0; i < n; i++) {
        double w = cn_svg_text_width(e[i].text, LEGEND_SIZE) * (e[i].width > 2.5 ? 1.12 : 1);
        tw = w > tw ? w : tw;
    }
    double bw = tw + 50, bh = (double)n * 20 + 10, margin = 10;
    double best_x = 0, best_y = 0;
    size_t best = (size_t)-1;
    bool fits = bw <= a->w - 2 * margin && bh <= a->h - 2 * margin && n <= 6;
    for (int corner = 0; fits && corner < 4;
         corner++) { /* top-right, bottom-right, bottom-left, top-left */
        double bx = corner < 2 ? a->left + a->w - bw - margin : a->left + margin;
        double by = corner == 0 || corner == 3 ? a->top + margin : a->top + a->h - bh - margin;
        size_t hits = 0;
        for (size_t i = 0; i < n_pts; i++)
            hits += ppx[i] >= bx - 4 && ppx[i] <= bx + bw + 4 && ppy[i] >= by - 4 &&
                    ppy[i] <= by + bh + 4;
        if (hits < best) {
            best = hits;
            best_x = bx;
            best_y = by;
        }
    }
    if (best != 0) { /* beside the plot */
        best_x = a->left + a->w + 16;
        best_y = a->top;
        cn_svg_grow(s, best_x + bw + 12, best_y + bh + 12);
    }
    cn_buf_printf(&s->out,
                  "<g class=\"legend\"><rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" "
                  "rx=\"4\" fill=\"#ffffff\" fill-opacity=\"0.92\" stroke=\"#bbbbbb\"/>\n",
                  best_x, best_y, bw, bh);
    for (size_t i = 0; i < n; i++) {
        double y = best_y + 15 + (double)i * 20;
        if (e[i].line)
            cn_svg_line(s, best_x + 8, y, best_x + 34, y, e[i].color,
                        e[i].width > 0 ? e[i].width : 2.2, e[i].dash);
        if (e[i].marker)
            cn_svg_circle(s, best_x + 21, y, 3.5, e[i].color, "#ffffff");
        cn_svg_text(s, best_x + 42, y + 4.5, e[i].text, LEGEND_SIZE, "start",
                    e[i].width > 2.5 ? "bold" : NULL, 0, NULL);
    }
    cn_buf_puts(&s->out, "</g>\n");
}

/* Collects the pixel positions of points (and segment midpoints) for legend placement. */
typedef struct pts {
    double *x, *y;
    size_t n, cap;
} pts;

static void pts_add(pts *p, double x, double y)
{
    if (!isfinite(x) || !isfinite(y))
        return;
    if (p->n == p->cap) {
        p->cap = p->cap ? p->cap * 2 : 256;
        p->x = cn_xrealloc(p->x, p->cap * sizeof *p->x);
        p->y = cn_xrealloc(p->y, p->cap * sizeof *p->y);
    }
    p->x[p->n] = x;
    p->y[p->n] = y;
    p->n++;
}

/* Adds points along the segments too, so a line crossing a corner counts. */
static void pts_add_series(pts *p, const axes *a, const double *x, const double *y, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        pts_add(p, px(a, x[i]), py(a, y[i]));
        if (i + 1 < n && isfinite(x[i]) && isfinite(y[i]) && isfinite(x[i + 1]) &&
            isfinite(y[i + 1])) { /* a point every 3 px along the segment */
            double len = hypot(px(a, x[i + 1]) - px(a, x[i]), py(a, y[i + 1]) - py(a, y[i]));
            int steps = len > 3 ? (int)ceil(len / 3) : 1;
            steps = steps > 2000 ? 2000 : steps;
            for (int k = 1; k < steps; k++) {
                double t = (double)k / steps;
                pts_add(p, px(a, x[i] + t * (x[i + 1] - x[i])),
                        py(a, y[i] + t * (y[i + 1] - y[i])));
            }
        }
    }
}

static void pts_release(pts *p)
{
    free(p->x);
    free(p->y);
}

/* Opens the document: its <title> is the title and the subtitle; draws both centred.
 * Returns where the plot may start (50, or 68 under a subtitle). */
static double begin(cn_svg *s, int width, int height, const char *title, const cairn_plot_opts *o)
{
    const char *sub = o && o->subtitle && *o->subtitle ? o->subtitle : NULL;
    char *full = sub ? cn_asprintf("%s \xe2\x80\x94 %s", title, sub) : NULL;
    cn_svg_begin(s, width, height, full ? full : title);
    free(full);
    /* a long title shrinks to fit the width (bold runs about 10% wider) */
    double tw = cn_svg_text_width(title, TITLE_SIZE) * 1.1, size = TITLE_SIZE;
    if (tw > width - 24.0)
        size = fmax(10.0, TITLE_SIZE * (width - 24.0) / tw);
    cn_svg_text(s, width / 2.0, 30, title, size, "middle", "bold", 0, NULL);
    if (!sub)
        return 50;
    cn_svg_text(s, width / 2.0, 50, sub, SUBTITLE_SIZE, "middle", NULL, 0, "#555555");
    return 68;
}

static const char *or_default(const char *v, const char *def)
{
    return v && *v ? v : def;
}

static void opts_size(const cairn_plot_opts *o, int def_w, int def_h, int *w, int *h)
{
    *w = o && o->width >= 200 && o->width <= 10000 ? o->width : def_w;
    *h = o && o->height >= 150 && o->height <= 10000 ? o->height : def_h;
}

static void range_of(const double *v, size_t n, double *lo, double *hi)
{
    for (size_t i = 0; i < n; i++)
        if (isfinite(v[i])) {
            *lo = v[i] < *lo ? v[i] : *lo;
            *hi = v[i] > *hi ? v[i] : *hi;
        }
}

/* A unit square axis (0..1 with ticks every 0.2) with a little padding. */
static void unit_axes(axes *a)
{
    a->x0 = a->y0 = -0.02;
    a->x1 = a->y1 = 1.02;
    cn_ticks_nice(0, 1, 6, &a->xt);
    cn_ticks_nice(0, 1, 6, &a->yt);
}

/* Axes over a data range with nice ticks; the range is the ticks' range. */
static void data_axes(axes *a, double xlo, double xhi, double ylo, double yhi, bool integer_x)
{
    if (xlo > xhi) {
        xlo = 0;
        xhi = 1;
    }
    if (ylo > yhi) {
        ylo = 0;
        yhi = 1;
    }
    cn_ticks_nice(xlo, xhi, 8, &a->xt);
    if (integer_x && a->xt.step < 1) {
        a->xt.step = 1;
        a->xt.decimals = 0;
        a->xt.lo = floor(a->xt.lo);
        a->xt.hi = ceil(a->xt.hi);
    }
    cn_ticks_nice(ylo, yhi, 6, &a->yt);
    /* The axes span the data with a small margin (not the ticks' rounded range, which can waste
     * most of the plot): ticks outside it are not drawn. */
    double xpad = xhi > xlo ? 0.025 * (xhi - xlo) : 0.5 * a->xt.step;
    double ypad = yhi > ylo ? 0.05 * (yhi - ylo) : 0.5 * a->yt.step;
    a->x0 = xlo - xpad;
    a->x1 = xhi + xpad;
    a->y0 = ylo - ypad;
    a->y1 = yhi + ypad;
    if (a->x1 - a->x0 < a->xt.step) { /* keep at least one tick interval in view */
        a->x0 = a->xt.lo;
        a->x1 = a->xt.hi;
    }
    if (a->y1 - a->y0 < a->yt.step) {
        a->y0 = a->yt.lo;
        a->y1 = a->yt.hi;
    }
}

static void place(axes *a, int width, double top, double height, double right_pad)
{
    double left = ytick_width(&a->yt) + 52;
    a->left = left;
    a->top = top;
    a->w = width - left - right_pad;
    a->h = height;
}

/* The top of a panel's y axis: its largest value, or, when a few values (a first-epoch loss
 * spike) lie far above the rest, a bit above the 90th percentile so the rest is not squashed. */
static double panel_cap(const cairn_plot_series *series, size_t n_series, int panel, double lo,
                        double hi)
{
    size_t n = 0;
    for (size_t i = 0; i < n_series; i++)
        for (size_t j = 0; series[i].panel == panel && j < series[i].n; j++)
            n += isfinite(series[i].y[j]);
    if (n < 8)
        return hi;
    double *v = cn_xmalloc(n * sizeof *v);
    n = 0;
    for (size_t i = 0; i < n_series; i++)
        for (size_t j = 0; series[i].panel == panel && j < series[i].n; j++)
            if (isfinite(series[i].y[j]))
                v[n++] = series[i].y[j];
    cn_eval_sort(v, n);
    double q = cn_eval_percentile_sorted(v, n, 90), cap = q + 0.6 * (q - lo);
    size_t above = 0; /* a spike is a point or two; a steep but steady descent is shown whole */
    for (size_t i = 0; i < n; i++)
        above += v[i] > cap;
    size_t n_points = n;
    free(v);
    if (q > lo && hi - lo > 4 * (q - lo) && above <= (n_points / 50 > 1 ? n_points / 50 : 1))
        return cap;
    return hi;
}

/* A dashed vertical line at x (the kept epoch) with its label near the top (label NULL: the
 * line only); adds its points for the legend to avoid. */
/* Points of pp inside the box [x0, x0 + w] x [y0, y0 + h] (pixels). */
static size_t pts_in_box(const pts *pp, double x0, double y0, double w, double h)
{
    size_t hits = 0;
    for (size_t i = 0; i < pp->n; i++)
        hits += pp->x[i] >= x0 && pp->x[i] <= x0 + w && pp->y[i] >= y0 && pp->y[i] <= y0 + h;
    return hits;
}

/* A dashed vertical line at x, and its label where no curve runs: at the top or the bottom of
 * the plot, right or left of the line, the first place whose box no point of pp falls in
 * (else the one with the fewest). */
static void draw_mark(cn_svg *s, const axes *a, double x, const char *label, pts *pp)
{
    if (!(x >= a->x0 && x <= a->x1))
        return;
    double X = px(a, x);
    cn_buf_printf(&s->out, "<g class=\"mark\" data-x=\"%.17g\">\n", x);
    cn_svg_line(s, X, a->top, X, a->top + a->h, "#555555", 1.6, "6,4");
    if (label) {
        double tw = cn_svg_text_width(label, TICK_SIZE);
        double best_tx = 0, best_ty = 0;
        bool best_right = true;
        size_t best_hits = SIZE_MAX;
        for (int k = 0; k < 4 && best_hits > 0; k++) {
            bool right = k % 2 == 0;
            double tx = right ? X + 6 : X - 6;
            double ty = k < 2 ? a->top + 16 : a->top + a->h - 10;
            double bx = right ? tx - 2 : tx - tw - 2;
            if (bx < a->left || bx + tw + 4 > a->left + a->w)
                continue;
            size_t hits = pts_in_box(pp, bx, ty - 12, tw + 4, 16);
            if (hits < best_hits) {
                best_hits = hits;
                best_tx = tx;
                best_ty = ty;
                best_right = right;
            }
        }
        if (best_hits != SIZE_MAX) {
            double tx = best_tx, ty = best_ty;
            bool right = best_right;
            cn_svg_rect(s, right ? tx - 2 : tx - tw - 2, ty - 12, tw + 4, 16, "#ffffff", NULL);
            cn_svg_text(s, tx, ty, label, TICK_SIZE, right ? "start" : "end", NULL, 0, "#333333");
            pts_add(pp, right ? tx : tx - tw, ty - 6);
            pts_add(pp, right ? tx + tw : tx, ty - 6);
        }
    }
    for (double y = a->top; y <= a->top + a->h; y += 3)
        pts_add(pp, X, y);
    cn_buf_puts(&s->out, "</g>\n");
}

/* ---- learning curves ---- */

cairn_status cairn_plot_learning_curves(cairn_ctx *ctx, const cairn_plot_series *series,
                                        size_t n_series, const cairn_plot_opts *opts,
                                        char **svg_out)
{
    *svg_out = NULL;
    if (!series || n_series == 0)
        return cn_fail(ctx, CAIRN_EINVAL, "learning curves: no series given");
    size_t total = 0;
    bool two = false;
    for (size_t i = 0; i < n_series; i++) {
        if (!series[i].y && series[i].n)
            return cn_fail(ctx, CAIRN_EINVAL, "learning curves: series %zu has no y values", i);
        if (series[i].panel < 0 || series[i].panel > 1)
            return cn_fail(ctx, CAIRN_EINVAL, "learning curves: series %zu: panel %d is not 0 or 1",
                           i, series[i].panel);
        two |= series[i].panel == 1;
        total += series[i].n;
    }
    if (total > MAX_POINTS)
        return cn_fail(ctx, CAIRN_ELIMIT, "learning curves: %zu points exceed the limit of %u",
                       total, MAX_POINTS);
    int width, height;
    opts_size(opts, 760, two ? 700 : 480, &width, &height);
    const char *title = or_default(opts ? opts->title : NULL, "Learning curves");
    const char *xl = or_default(opts ? opts->x_label : NULL, "Epoch");
    const char *yl[2] = {or_default(opts ? opts->y_label : NULL, two ? "Loss" : "Value"),
                         or_default(opts ? opts->y2_label : NULL, "Metric")};
    /* x values: given, or 1..n */
    double **xs = cn_xcalloc(n_series, sizeof *xs);
    double xlo = INFINITY, xhi = -INFINITY;
    for (size_t i = 0; i < n_series; i++) {
        xs[i] = cn_xmalloc((series[i].n ? series[i].n : 1) * sizeof(double));
        for (size_t j = 0; j < series[i].n; j++)
            xs[i][j] = series[i].x ? series[i].x[j] : (double)(j + 1);
        range_of(xs[i], series[i].n, &xlo, &xhi);
    }
    bool mark = opts && opts->mark_label && isfinite(opts->mark_x);
    cn_svg s;
    double top = begin(&s, width, height, title, opts), bottom = 62, gap = 44;
    int n_panels = two ? 2 : 1;
    double ph = (height - top - bottom - (n_panels - 1) * gap) / n_panels;
    axes ax[2];
    size_t clipped[2] = {0, 0};
    double max_left = 0;
    for (int p = 0; p < n_panels; p++) {
        double ylo = INFINITY, yhi = -INFINITY;
        for (size_t i = 0; i < n_series; i++)
            if (series[i].panel == p)
                range_of(series[i].y, series[i].n, &ylo, &yhi);
        double cap = panel_cap(series, n_series, p, ylo, yhi);
        if (cap < yhi) {
            yhi = cap;
            for (size_t i = 0; i < n_series; i++)
                for (size_t j = 0; series[i].panel == p && j < series[i].n; j++)
                    clipped[p] += series[i].y[j] > cap;
        }
        memset(&ax[p], 0, sizeof ax[p]);
        bool integer_x = true;
        for (size_t i = 0; i < n_series; i++)
            integer_x &= series[i].x == NULL;
        data_axes(&ax[p], xlo, xhi, ylo, yhi, integer_x);
        place(&ax[p], width, top + p * (ph + gap), ph, 24);
        max_left = ax[p].left > max_left ? ax[p].left : max_left;
    }
    for (int p = 0; p < n_panels; p++) { /* align the panels' left edges */
        ax[p].w -= max_left - ax[p].left;
        ax[p].left = max_left;
        draw_axes(&s, &ax[p], p == n_panels - 1 ? xl : NULL, yl[p]);
        legend_entry *le = cn_xcalloc(n_series + 1, sizeof *le);
        size_t n_le = 0;
        pts pp = {0};
        for (size_t i = 0; i < n_series; i++) {
            if (series[i].panel != p)
                continue;
            bool markers = series[i].n <= 25;
            draw_series(&s, &ax[p], xs[i], series[i].y, series[i].n, COLOR(i), 2.2, NULL, markers);
            pts_add_series(&pp, &ax[p], xs[i], series[i].y, series[i].n);
            le[n_le++] = (legend_entry){
                or_default(series[i].name, "series"), COLOR(i), NULL, true, markers, 0};
        }
        if (mark) /* the epoch whose model training kept */
            draw_mark(&s, &ax[p], opts->mark_x, p == 0 ? opts->mark_label : NULL, &pp);
        if (opts && opts->mark2_label && isfinite(opts->mark2_x)) /* e.g. overfitting's start */
            draw_mark(&s, &ax[p], opts->mark2_x, p == 0 ? opts->mark2_label : NULL, &pp);
        if (clipped[p]) {
            char note[96];
            snprintf(note, sizeof note, "\xe2\x86\x91 %zu point%s above the axis", clipped[p],
                     clipped[p] == 1 ? "" : "s");
            cn_svg_text(&s, ax[p].left + 6, ax[p].top + 14, note, TICK_SIZE - 1, "start", NULL, 0,
                        "#666666");
            pts_add(&pp, ax[p].left + 6, ax[p].top + 10);
            pts_add(&pp, ax[p].left + 6 + cn_svg_text_width(note, TICK_SIZE - 1), ax[p].top + 10);
        }
        draw_legend(&s, &ax[p], le, n_le, pp.x, pp.y, pp.n);
        pts_release(&pp);
        free(le);
    }
    for (size_t i = 0; i < n_series; i++)
        free(xs[i]);
    free(xs);
    *svg_out = cn_svg_end(&s);
    return CAIRN_OK;
}

/* ---- confusion matrix ---- */

/* matplotlib's "Blues" from near-white to dark blue, linear between stops. */
static void blues(double t, char *out, size_t size)
{
    static const double stops[][3] = {
        {247, 251, 255}, {198, 219, 239}, {107, 174, 214}, {33, 113, 181}, {8, 48, 107}};
    if (!(t >= 0))
        t = 0;
    if (t > 1)
        t = 1;
    double pos = t * 4;
    int i = (int)floor(pos);
    if (i >= 4)
        i = 3;
    double f = pos - i;
    int c[3];
    for (int k = 0; k < 3; k++)
        c[k] = (int)lround(stops[i][k] + f * (stops[i + 1][k] - stops[i][k]));
    snprintf(out, size, "#%02x%02x%02x", c[0], c[1], c[2]);
}

/* The k x k cells of a confusion matrix, shaded by the row-normalised share, with the count
 * (and the share when a cell has room) written in each. */
static void cm_cells(cn_svg *svg, const int64_t *counts, size_t k, double left, double top,
                     double cell)
{
    double count_size = cell >= 60 ? 14 : cell >= 40 ? 12 : cell >= 26 ? 9.5 : 0;
    for (size_t r = 0; r < k; r++) {
        int64_t row = 0;
        for (size_t c = 0; c < k; c++)
            row += counts[r * k + c];
        for (size_t c = 0; c < k; c++) {
            double frac = row > 0 ? (double)counts[r * k + c] / (double)row : 0;
            char col[16], txt[64];
            blues(frac, col, sizeof col);
            double x = left + (double)c * cell, y = top + (double)r * cell;
            cn_svg_rect(svg, x, y, cell, cell, col, "#ffffff");
            if (count_size == 0)
                continue;
            const char *ink = frac > 0.55 ? "#ffffff" : "#1a1a1a";
            snprintf(txt, sizeof txt, "%lld", (long long)counts[r * k + c]);
            bool two_lines = cell >= 40;
            double cy = y + cell / 2 + (two_lines ? -2 : count_size * 0.35);
            cn_svg_text(svg, x + cell / 2, cy, txt, count_size, "middle", "bold", 0, ink);
            if (two_lines) {
                if (row > 0)
                    snprintf(txt, sizeof txt, "%.1f%%", 100 * frac);
                else
                    snprintf(txt, sizeof txt, "-");
                cn_svg_text(svg, x + cell / 2, cy + count_size + 1, txt, count_size * 0.8, "middle",
                            NULL, 0, ink);
            }
        }
    }
}

/* The colour bar beside a confusion matrix: row-normalised share, 0..100 %. */
static void cm_colour_bar(cn_svg *svg, double bx, double top, double grid)
{
    double bar_w = 18;
    cn_svg_rect(svg, bx, top, bar_w, grid, "url(#cmbar)", "#444444");
    for (int i = 0; i <= 4; i++) {
        char txt[16];
        double y = top + grid - grid * i / 4.0;
        snprintf(txt, sizeof txt, "%d%%", i * 25);
        cn_svg_line(svg, bx + bar_w, y, bx + bar_w + 4, y, "#444444", 1, NULL);
        cn_svg_text(svg, bx + bar_w + 7, y + 4, txt, TICK_SIZE - 1, "start", NULL, 0, "#333333");
    }
    cn_svg_text(svg, bx + bar_w + 52, top + grid / 2, "share of true class", TICK_SIZE, "middle",
                NULL, -90, "#333333");
}

cairn_status cairn_plot_confusion_matrix(cairn_ctx *ctx, const int64_t *counts, size_t n_classes,
                                         const char *const *labels, const cairn_plot_opts *opts,
                                         char **svg_out)
{
    *svg_out = NULL;
    if (!counts || n_classes < 1 || n_classes > 200)
        return cn_fail(ctx, CAIRN_EINVAL,
                       "confusion matrix: n_classes %zu must be in 1..200 for a picture",
                       n_classes);
    size_t k = n_classes;
    for (size_t i = 0; i < k * k; i++)
        if (counts[i] < 0)
            return cn_fail(ctx, CAIRN_EINVAL, "confusion matrix: count %zu is negative", i);
    char **names = cn_xcalloc(k, sizeof *names);
    double label_w = 0;
    for (size_t i = 0; i < k; i++) {
        char num[32];
        snprintf(num, sizeof num, "%zu", i);
        const char *src = labels && labels[i] ? labels[i] : num;
        names[i] = strlen(src) > 24 ? cn_xstrndup(src, 24) : cn_xstrdup(src);
        double w = cn_svg_text_width(names[i], TICK_SIZE);
        label_w = w > label_w ? w : label_w;
    }
    double cell = 520.0 / (double)k;
    cell = cell > 96 ? 96 : cell < 14 ? 14 : cell;
    bool rotate = label_w > cell - 6;
    double grid = cell * (double)k;
    bool sub = opts && opts->subtitle && *opts->subtitle;
    double left = label_w + 62, top = sub ? 76 : 58;
    double bottom = (rotate ? label_w * 0.72 + 20 : 26) + 44;
    double right = 120; /* the colour bar (18 px) and its labels */
    double min_w = sub ? cn_svg_text_width(opts->subtitle, SUBTITLE_SIZE) + 40 : 0;
    int width, height;
    opts_size(opts, (int)ceil(fmax(left + grid + right, min_w)), (int)ceil(top + grid + bottom),
              &width, &height);
    const char *title = or_default(opts ? opts->title : NULL, "Confusion matrix");
    cn_svg s;
    (void)begin(&s, width, height, title, opts);
    cn_buf_puts(&s.out, "<defs><linearGradient id=\"cmbar\" x1=\"0\" y1=\"1\" x2=\"0\" y2=\"0\">");
    for (int i = 0; i <= 4; i++) {
        char col[16];
        blues(i / 4.0, col, sizeof col);
        cn_buf_printf(&s.out, "<stop offset=\"%d%%\" stop-color=\"%s\"/>", i * 25, col);
    }
    cn_buf_puts(&s.out, "</linearGradient></defs>\n");
    cm_cells(&s, counts, k, left, top, cell);
    cn_svg_rect(&s, left, top, grid, grid, NULL, "#444444");
    /* rotated labels need ~18 px each: label every step-th class when cells are smaller */
    size_t step = rotate && cell < 18 ? (size_t)ceil(18 / cell) : 1;
    for (size_t i = 0; i < k; i++) {
        double c = left + ((double)i + 0.5) * cell;
        if (i % step != 0) {
            cn_svg_text(&s, left - 8, top + ((double)i + 0.5) * cell + 4, names[i], TICK_SIZE,
                        "end", NULL, 0, "#333333");
            continue;
        }
        cn_svg_text(&s, left - 8, top + ((double)i + 0.5) * cell + 4, names[i], TICK_SIZE, "end",
                    NULL, 0, "#333333");
        cn_svg_line(&s, left - 4, top + ((double)i + 0.5) * cell, left,
                    top + ((double)i + 0.5) * cell, "#444444", 1, NULL);
        cn_svg_line(&s, c, top + grid, c, top + grid + 4, "#444444", 1, NULL);
        if (rotate)
            cn_svg_text(&s, c + 4, top + grid + 14, names[i], TICK_SIZE, "end", NULL, -45,
                        "#333333");
        else
            cn_svg_text(&s, c, top + grid + 19, names[i], TICK_SIZE, "middle", NULL, 0, "#333333");
    }
    cn_svg_text(&s, left + grid / 2, height - 16.0,
                or_default(opts ? opts->x_label : NULL, "Predicted label"), LABEL_SIZE, "middle",
                NULL, 0, NULL);
    cn_svg_text(&s, left - label_w - 24, top + grid / 2,
                or_default(opts ? opts->y_label : NULL, "True label"), LABEL_SIZE, "middle", NULL,
                -90, NULL);
    cm_colour_bar(&s, left + grid + 22, top, grid);
    for (size_t i = 0; i < k; i++)
        free(names[i]);
    free(names);
    *svg_out = cn_svg_end(&s);
    return CAIRN_OK;
}

/* ---- ROC, PR and calibration ---- */

static cairn_status check_curves(cairn_ctx *ctx, const cairn_curve *curves, size_t n_curves,
                                 const char *what)
{
    if (!curves || n_curves == 0)
        return cn_fail(ctx, CAIRN_EINVAL, "%s plot: no curves given", what);
    if (n_curves > 64)
        return cn_fail(ctx, CAIRN_ELIMIT, "%s plot: %zu curves exceed the limit of 64", what,
                       n_curves);
    for (size_t i = 0; i < n_curves; i++) {
        if (curves[i].n > MAX_POINTS)
            return cn_fail(ctx, CAIRN_ELIMIT, "%s plot: curve %zu has too many points", what, i);
        if (curves[i].n && (!curves[i].x || !curves[i].y))
            return cn_fail(ctx, CAIRN_EINVAL, "%s plot: curve %zu has no points", what, i);
    }
    return CAIRN_OK;
}

static const char *name_of(const char *const *names, size_t i, char *buf, size_t size)
{
    if (names && names[i])
        return names[i];
    snprintf(buf, size, "model %zu", i + 1);
    return buf;
}

/* The common frame of the unit-square plots. */
/* Checks the curves and opens a square unit plot (600x580 unless opts say otherwise), with the
 * given title and axis labels unless opts name others. */
static cairn_status unit_begin(cairn_ctx *ctx, const cairn_curve *curves, size_t n_curves,
                               const char *what, const cairn_plot_opts *opts, const char *title,
                               const char *xl, const char *yl, double extra_bottom, cn_svg *s,
                               axes *a)
{
    cairn_status rc = check_curves(ctx, curves, n_curves, what);
    if (rc != CAIRN_OK)
        return rc;
    int width, height;
    bool sub = opts && opts->subtitle && *opts->subtitle;
    opts_size(opts, 600, 580 + (int)extra_bottom + (sub ? 18 : 0), &width, &height);
    title = or_default(opts ? opts->title : NULL, title);
    xl = or_default(opts ? opts->x_label : NULL, xl);
    yl = or_default(opts ? opts->y_label : NULL, yl);
    memset(a, 0, sizeof *a);
    unit_axes(a);
    double top = begin(s, width, height, title, opts), bottom = 64 + extra_bottom;
    double left = ytick_width(&a->yt) + 52;
    double side = fmin(width - left - 24, height - top - bottom);
    a->left = left;
    a->top = top;
    a->w = side;
    a->h = side;
    draw_axes(s, a, extra_bottom > 0 ? NULL : xl, yl);
    return CAIRN_OK;
}

/* Draws the legend, frees what a unit plot held and returns its SVG. */
static char *unit_end(cn_svg *s, const axes *a, legend_entry *le, size_t n_le, pts *pp, void *texts)
{
    draw_legend(s, a, le, n_le, pp->x, pp->y, pp->n);
    pts_release(pp);
    free(le);
    free(texts);
    return cn_svg_end(s);
}

static void diagonal(cn_svg *s, const axes *a, pts *pp)
{
    double dx[2] = {0, 1}, dy[2] = {0, 1};
    cn_svg_line(s, px(a, 0), py(a, 0), px(a, 1), py(a, 1), "#888888", 1.5, "6,5");
    pts_add_series(pp, a, dx, dy, 2);
}

/* The style of curve i of n whose last n_avg are averages: per-class curves in the palette's
 * colours (and cycling dashes when there are many), thin beside averages; the averages thick
 * and dark, micro dotted black, macro dashed navy. */
static legend_entry curve_style(size_t i, size_t n, size_t n_avg, const char *text)
{
    size_t n_cls = n - n_avg;
    if (i >= n_cls) {
        bool micro = i == n_cls;
        return (legend_entry){
            text, micro ? "#000000" : "#1c2d7a", micro ? "1,5" : "10,4", true, false, 3.4};
    }
    return (legend_entry){text, COLOR(i), n_cls > 4 ? DASH(i) : NULL,
                          true, false,    n_avg ? 1.5 : 2.4};
}

static size_t n_averages_of(const cairn_plot_opts *o, size_t n_curves)
{
    size_t m = o ? o->n_averages : 0;
    m = m > 2 ? 2 : m;
    return m >= n_curves ? 0 : m;
}

/* Legend entries with the averages (the last n_avg of n) first. */
static void averages_first(legend_entry *le, size_t n, size_t n_avg)
{
    if (n_avg == 0)
        return;
    legend_entry tmp[2];
    memcpy(tmp, le + n - n_avg, n_avg * sizeof *le);
    memmove(le + n_avg, le, (n - n_avg) * sizeof *le);
    memcpy(le, tmp, n_avg * sizeof *le);
}

/* A curve's points, with its group marked by class="curve" for readers of the SVG. */
static void draw_curve(cn_svg *s, const axes *a, const double *x, const double *y, size_t n,
                       const legend_entry *st, bool markers)
{
    cn_buf_puts(&s->out, "<g class=\"curve\" data-name=\"");
    cn_svg_escape(&s->out, st->text);
    cn_buf_puts(&s->out, "\">\n");
    draw_series(s, a, x, y, n, st->color, st->width, st->dash, markers);
    cn_buf_puts(&s->out, "</g>\n");
}

cairn_status cairn_plot_roc(cairn_ctx *ctx, const cairn_curve *curves, const char *const *names,
                            const double *auc, size_t n_curves, const cairn_plot_opts *opts,
                            char **svg_out)
{
    *svg_out = NULL;
    cn_svg s;
    axes a;
    cairn_status rc = unit_begin(ctx, curves, n_curves, "roc", opts, "ROC curve",
                                 "False positive rate", "True positive rate", 0, &s, &a);
    if (rc != CAIRN_OK)
        return rc;
    size_t n_avg = n_averages_of(opts, n_curves);
    pts pp = {0};
    diagonal(&s, &a, &pp);
    legend_entry *le = cn_xcalloc(n_curves + 1, sizeof *le);
    char(*texts)[160] = cn_xcalloc(n_curves, sizeof *texts);
    for (size_t i = 0; i < n_curves; i++) {
        char nb[32];
        if (auc)
            snprintf(texts[i], sizeof texts[i], "%s (AUC = %.3f)", name_of(names, i, nb, sizeof nb),
                     auc[i]);
        else
            snprintf(texts[i], sizeof texts[i], "%s", name_of(names, i, nb, sizeof nb));
        le[i] = curve_style(i, n_curves, n_avg, texts[i]);
        draw_curve(&s, &a, curves[i].x, curves[i].y, curves[i].n, &le[i], false);
        pts_add_series(&pp, &a, curves[i].x, curves[i].y, curves[i].n);
    }
    averages_first(le, n_curves, n_avg);
    le[n_curves] = (legend_entry){"Chance (AUC = 0.5)", "#888888", "6,5", true, false, 1.5};
    *svg_out = unit_end(&s, &a, le, n_curves + 1, &pp, texts);
    return CAIRN_OK;
}

cairn_status cairn_plot_pr(cairn_ctx *ctx, const cairn_curve *curves, const char *const *names,
                           const double *ap, const double *prevalence, size_t n_curves,
                           const cairn_plot_opts *opts, char **svg_out)
{
    *svg_out = NULL;
    cn_svg s;
    axes a;
    cairn_status rc = unit_begin(ctx, curves, n_curves, "precision-recall", opts,
                                 "Precision-recall curve", "Recall", "Precision", 0, &s, &a);
    if (rc != CAIRN_OK)
        return rc;
    size_t n_avg = n_averages_of(opts, n_curves), n_cls = n_curves - n_avg;
    pts pp = {0};
    legend_entry *le = cn_xcalloc(n_curves + 1, sizeof *le);
    char(*texts)[160] = cn_xcalloc(n_curves + 1, sizeof *texts);
    /* No-skill lines: one per distinct prevalence; with averages, only the micro average's
     * (its prevalence is 1/K), as per-class lines would clutter the plot. */
    bool all_same = true;
    for (size_t j = 1; prevalence && j < n_curves; j++)
        all_same &= prevalence[j] == prevalence[0];
    legend_entry no_skill = {NULL, NULL, NULL, false, false, 0};
    for (size_t i = 0; i < n_curves; i++) {
        char nb[32];
        const cairn_curve *c = &curves[i];
        /* steps-post, as sklearn's PrecisionRecallDisplay draws it */
        size_t m = c->n ? 2 * c->n - 1 : 0;
        double *sx = cn_xmalloc((m ? m : 1) * sizeof *sx),
               *sy = cn_xmalloc((m ? m : 1) * sizeof *sy);
        for (size_t j = 0; j < c->n; j++) {
            sx[2 * j] = c->x[j];
            sy[2 * j] = c->y[j];
            if (j + 1 < c->n) {
                sx[2 * j + 1] = c->x[j + 1];
                sy[2 * j + 1] = c->y[j];
            }
        }
        if (ap)
            snprintf(texts[i], sizeof texts[i], "%s (AP = %.3f)", name_of(names, i, nb, sizeof nb),
                     ap[i]);
        else
            snprintf(texts[i], sizeof texts[i], "%s", name_of(names, i, nb, sizeof nb));
        le[i] = curve_style(i, n_curves, n_avg, texts[i]);
        draw_curve(&s, &a, sx, sy, m, &le[i], false);
        pts_add_series(&pp, &a, sx, sy, m);
        free(sx);
        free(sy);
        bool wanted = n_avg ? i == n_cls : !(all_same && i > 0);
        if (prevalence && wanted && isfinite(prevalence[i])) {
            bool grey = all_same || n_avg;
            const char *col = grey ? "#888888" : COLOR(i);
            double lx[2] = {0, 1}, ly[2] = {prevalence[i], prevalence[i]};
            draw_series(&s, &a, lx, ly, 2, col, 1.5, "6,5", false);
            pts_add_series(&pp, &a, lx, ly, 2);
            if (grey) {
                snprintf(texts[n_curves], sizeof texts[n_curves], "No skill (%.3f)", prevalence[i]);
                no_skill = (legend_entry){texts[n_curves], col, "6,5", true, false, 1.5};
            }
        }
    }
    averages_first(le, n_curves, n_avg);
    size_t n_le = n_curves;
    if (no_skill.text)
        le[n_le++] = no_skill;
    *svg_out = unit_end(&s, &a, le, n_le, &pp, texts);
    return CAIRN_OK;
}

/* The strip under a reliability diagram: a stem per bin at its mean predicted probability,
 * as tall as the bin's rows, each with a <title> "NAME: N rows"; counts written above the
 * stems of a single curve. */
static void counts_strip(cn_svg *s, const axes *a, const cairn_curve *curves, size_t n_curves,
                         const legend_entry *le, double top, double h)
{
    int64_t max = 0;
    for (size_t i = 0; i < n_curves; i++)
        for (size_t j = 0; curves[i].counts && j < curves[i].n; j++)
            max = curves[i].counts[j] > max ? curves[i].counts[j] : max;
    if (max <= 0)
        return;
    cn_svg_rect(s, a->left, top, a->w, h, "#ffffff", "#444444");
    char lab[32];
    snprintf(lab, sizeof lab, "%lld", (long long)max);
    double inner = h - 16; /* room for the labels above the tallest stem */
    cn_svg_line(s, a->left - 5, top + h - inner, a->left, top + h - inner, "#444444", 1, NULL);
    cn_svg_text(s, a->left - 8, top + h - inner + 4, lab, TICK_SIZE - 1, "end", NULL, 0, "#333333");
    cn_svg_text(s, a->left - 8, top + h + 4, "0", TICK_SIZE - 1, "end", NULL, 0, "#333333");
    cn_svg_text(s, a->left - ytick_width(&a->yt) - 22, top + h / 2, "rows", LABEL_SIZE - 1,
                "middle", NULL, -90, NULL);
    cn_buf_puts(&s->out, "<g class=\"bin-counts\">\n");
    double label_end = -INFINITY; /* where the last count label ends */
    for (size_t i = 0; i < n_curves; i++) {
        double off = n_curves > 1 ? ((double)i - (double)(n_curves - 1) / 2) * 2.2 : 0;
        for (size_t j = 0; curves[i].counts && j < curves[i].n; j++) {
            double x = px(a, curves[i].x[j]) + off;
            double y = top + h - inner * (double)curves[i].counts[j] / (double)max;
            cn_buf_printf(&s->out,
                          "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\" stroke=\"%s\" "
                          "stroke-width=\"%.1f\" data-count=\"%lld\"><title>",
                          x, top + h, x, y, le[i].color, n_curves > 1 ? 2.0 : 4.0,
                          (long long)curves[i].counts[j]);
            cn_svg_escape(&s->out, le[i].text);
            cn_buf_printf(&s->out, ": %lld rows</title></line>\n", (long long)curves[i].counts[j]);
            if (n_curves == 1) { /* a label that would overlap the one before is left out */
                snprintf(lab, sizeof lab, "%lld", (long long)curves[i].counts[j]);
                double half = cn_svg_text_width(lab, TICK_SIZE - 2.5) / 2;
                if (x - half >= label_end + 2) {
                    cn_svg_text(s, x, y - 3, lab, TICK_SIZE - 2.5, "middle", NULL, 0, "#333333");
                    label_end = x + half;
                }
            }
        }
    }
    cn_buf_puts(&s->out, "</g>\n");
}

cairn_status cairn_plot_calibration(cairn_ctx *ctx, const cairn_curve *curves,
                                    const char *const *names, size_t n_curves,
                                    const cairn_plot_opts *opts, char **svg_out)
{
    *svg_out = NULL;
    bool counts = false;
    for (size_t i = 0; curves && i < n_curves; i++)
        counts |= curves[i].counts != NULL && curves[i].n > 0;
    double strip = counts ? 70 : 0, extra = counts ? strip + 34 : 0;
    const char *xl = or_default(opts ? opts->x_label : NULL, "Mean predicted probability");
    cn_svg s;
    axes a;
    cairn_status rc =
        unit_begin(ctx, curves, n_curves, "calibration", opts, "Calibration (reliability diagram)",
                   xl, "Fraction of positives", extra, &s, &a);
    if (rc != CAIRN_OK)
        return rc;
    pts pp = {0};
    diagonal(&s, &a, &pp);
    legend_entry *le = cn_xcalloc(n_curves + 1, sizeof *le);
    char(*texts)[160] = cn_xcalloc(n_curves, sizeof *texts);
    for (size_t i = 0; i < n_curves; i++) {
        char nb[32];
        snprintf(texts[i], sizeof texts[i], "%s", name_of(names, i, nb, sizeof nb));
        le[i + 1] = (legend_entry){texts[i], COLOR(i), n_curves > 4 ? DASH(i) : NULL,
                                   true,     true,     n_curves > 4 ? 1.6 : 2.2};
        draw_curve(&s, &a, curves[i].x, curves[i].y, curves[i].n, &le[i + 1], n_curves <= 4);
        pts_add_series(&pp, &a, curves[i].x, curves[i].y, curves[i].n);
    }
    le[0] = (legend_entry){"Perfectly calibrated", "#888888", "6,5", true, false, 1.5};
    if (counts) {
        double top = a.top + a.h + 30;
        counts_strip(&s, &a, curves, n_curves, le + 1, top, strip);
        cn_svg_text(&s, a.left + a.w / 2, top + strip + 26, xl, LABEL_SIZE, "middle", NULL, 0,
                    NULL);
    }
    *svg_out = unit_end(&s, &a, le, n_curves + 1, &pp, texts);
    return CAIRN_OK;
}

/* ---- optimization history ---- */

cairn_status cairn_plot_optimization_history(cairn_ctx *ctx, const double *objective,
                                             size_t n_trials, bool maximize,
                                             const cairn_plot_opts *opts, char **svg_out)
{
    *svg_out = NULL;
    if (!objective || n_trials == 0)
        return cn_fail(ctx, CAIRN_EINVAL, "optimization history: no trials given");
    if (n_trials > MAX_POINTS)
        return cn_fail(ctx, CAIRN_ELIMIT, "optimization history: %zu trials exceed the limit",
                       n_trials);
    int width, height;
    opts_size(opts, 760, 480, &width, &height);
    const char *title = or_default(opts ? opts->title : NULL, "Optimization history");
    double *x = cn_xmalloc(n_trials * sizeof *x), *best = cn_xmalloc(n_trials * sizeof *best);
    double cur = NAN, ylo = INFINITY, yhi = -INFINITY;
    for (size_t i = 0; i < n_trials; i++) {
        x[i] = (double)i;
        double v = objective[i];
        if (isfinite(v) && (isnan(cur) || (maximize ? v > cur : v < cur)))
            cur = v;
        best[i] = cur;
    }
    range_of(objective, n_trials, &ylo, &yhi);
    axes a;
    memset(&a, 0, sizeof a);
    data_axes(&a, 0, (double)(n_trials > 1 ? n_trials - 1 : 1), ylo, yhi, true);
    cn_svg s;
    double top = begin(&s, width, height, title, opts);
    place(&a, width, top, height - top - 62, 24);
    draw_axes(&s, &a, or_default(opts ? opts->x_label : NULL, "Trial"),
              or_default(opts ? opts->y_label : NULL, "Objective value"));
    /* best so far as steps-post */
    size_t m = 2 * n_trials - 1;
    double *sx = cn_xmalloc(m * sizeof *sx), *sy = cn_xmalloc(m * sizeof *sy);
    for (size_t i = 0; i < n_trials; i++) {
        sx[2 * i] = x[i];
        sy[2 * i] = best[i];
        if (i + 1 < n_trials) {
            sx[2 * i + 1] = x[i + 1];
            sy[2 * i + 1] = best[i];
        }
    }
    pts pp = {0};
    for (size_t i = 0; i < n_trials; i++)
        if (isfinite(objective[i]))
            cn_svg_circle(&s, px(&a, x[i]), py(&a, objective[i]), 3.6, palette[0], "#ffffff");
    pts_add_series(&pp, &a, x, objective, n_trials);
    draw_series(&s, &a, sx, sy, m, palette[3], 2.2, NULL, false);
    pts_add_series(&pp, &a, sx, sy, m);
    legend_entry le[2] = {
        {"Objective value", palette[0], NULL, false, true, 0},
        {maximize ? "Best value (max)" : "Best value (min)", palette[3], NULL, true, false, 0}};
    draw_legend(&s, &a, le, 2, pp.x, pp.y, pp.n);
    pts_release(&pp);
    free(sx);
    free(sy);
    free(x);
    free(best);
    *svg_out = cn_svg_end(&s);
    return CAIRN_OK;
}

/* ---- regression: predicted vs true ---- */

cairn_status cairn_plot_predicted_vs_true(cairn_ctx *ctx, const double *y_true,
                                          const double *y_pred, size_t n,
                                          const cairn_plot_opts *opts, char **svg_out)
{
    *svg_out = NULL;
    if (!y_true || !y_pred || n == 0)
        return cn_fail(ctx, CAIRN_EINVAL, "predicted vs true: no points given");
    if (n > MAX_POINTS)
        return cn_fail(ctx, CAIRN_ELIMIT, "predicted vs true: %zu points exceed the limit", n);
    double lo = INFINITY, hi = -INFINITY, plo = INFINITY, phi = -INFINITY;
    range_of(y_true, n, &lo, &hi);
    range_of(y_pred, n, &plo, &phi);
    lo = plo < lo ? plo : lo;
    hi = phi > hi ? phi : hi;
    if (!isfinite(lo) || !isfinite(hi))
        return cn_fail(ctx, CAIRN_EINVAL, "predicted vs true: no finite points");
    int width, height;
    opts_size(opts, 600, 580, &width, &height);
    const char *title = or_default(opts ? opts->title : NULL, "Predicted vs true");
    axes a;
    memset(&a, 0, sizeof a);
    data_axes(&a, lo, hi, lo, hi, false);
    cn_svg s;
    double top = begin(&s, width, height, title, opts);
    place(&a, width, top, height - top - 62, 24);
    draw_axes(&s, &a, or_default(opts ? opts->x_label : NULL, "True value"),
              or_default(opts ? opts->y_label : NULL, "Predicted value"));
    double dx[2] = {a.x0 > a.y0 ? a.x0 : a.y0, a.x1 < a.y1 ? a.x1 : a.y1};
    draw_series(&s, &a, dx, dx, 2, "#888888", 1.5, "6,5", false);
    pts pp = {0};
    for (size_t i = 0; i < n; i++)
        if (isfinite(y_true[i]) && isfinite(y_pred[i]))
            cn_svg_circle(&s, px(&a, y_true[i]), py(&a, y_pred[i]), 3.0, palette[0], "#ffffff");
    pts_add_series(&pp, &a, y_true, y_pred, n);
    legend_entry le[2] = {{"Perfect prediction", "#888888", "6,5", true, false, 0},
                          {"Rows", palette[0], NULL, false, true, 0}};
    draw_legend(&s, &a, le, 2, pp.x, pp.y, pp.n);
    pts_release(&pp);
    *svg_out = cn_svg_end(&s);
    return CAIRN_OK;
}
