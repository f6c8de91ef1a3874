/* SPDX-License-Identifier: MIT */
/* explain_plot.c - cairn explain's pictures as standalone SVG (eval/svg.h): interval (forest)
 * plots for permutation importance and slices, the SHAP summary, partial-dependence panels.
 * Each has a title and the data/run subtitle as the evaluation pictures do. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "explain/explain_internal.h"
#include "eval/svg.h"
#include "base/str.h"
#include "base/xmalloc.h"
#include "base/banned.h"

#define TITLE_SIZE 17.0
#define SUB_SIZE 12.5
#define TICK_SIZE 12.0
#define LABEL_SIZE 13.0

static const char *const palette[] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                                      "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};

/* Title and subtitle, centred; returns where the plot may start. */
static double head(cn_svg *s, int width, const char *title, const char *sub)
{
    cn_svg_text(s, width / 2.0, 30, title, TITLE_SIZE, "middle", "bold", 0, NULL);
    if (!sub || !*sub)
        return 50;
    cn_svg_text(s, width / 2.0, 50, sub, SUB_SIZE, "middle", NULL, 0, "#555555");
    cn_svg_grow(s, cn_svg_text_width(sub, SUB_SIZE) + 40, 0);
    return 68;
}

static void begin(cn_svg *s, int w, int h, const char *title, const char *sub)
{
    char *full = sub && *sub ? cn_asprintf("%s \xe2\x80\x94 %s", title, sub) : NULL;
    cn_svg_begin(s, w, h, full ? full : title);
    free(full);
}

/* An x axis from lo to hi at the bottom of a plot area, with ticks and grid lines. */
static void x_axis(cn_svg *s, const cn_ticks *t, double left, double top, double w, double h,
                   double lo, double hi, const char *label)
{
    char lab[64];
    for (double v = t->lo; v <= t->hi + t->step * 1e-9; v += t->step) {
        if (v < lo - t->step * 1e-9 || v > hi + t->step * 1e-9)
            continue;
        double x = left + (v - lo) / (hi - lo) * w;
        cn_svg_line(s, x, top, x, top + h, "#e6e6e6", 1, NULL);
        cn_ticks_label(t, v, lab, sizeof lab);
        cn_svg_text(s, x, top + h + 18, lab, TICK_SIZE, "middle", NULL, 0, "#333333");
    }
    cn_svg_rect(s, left, top, w, h, "none", "#444444");
    if (label)
        cn_svg_text(s, left + w / 2, top + h + 40, label, LABEL_SIZE, "middle", NULL, 0, NULL);
}

static void range_add(double v, double *lo, double *hi)
{
    if (isfinite(v)) {
        *lo = v < *lo ? v : *lo;
        *hi = v > *hi ? v : *hi;
    }
}

char *cn_explain_plot_intervals(const char *title, const char *subtitle, const char *x_label,
                                const cn_explain_interval *items, size_t n, double ref)
{
    double label_w = 60;
    for (size_t i = 0; i < n; i++) {
        double lw = cn_svg_text_width(items[i].label, TICK_SIZE);
        label_w = lw > label_w ? lw : label_w;
    }
    double row_h = 22, plot_w = 440;
    double left = label_w + 24;
    int width = (int)(left + plot_w + 30), height = (int)(68 + row_h * (double)n + 70);
    cn_svg s;
    begin(&s, width, height, title, subtitle);
    double top = head(&s, width, title, subtitle);
    double lo = HUGE_VAL, hi = -HUGE_VAL;
    for (size_t i = 0; i < n; i++) {
        range_add(items[i].value, &lo, &hi);
        range_add(items[i].low, &lo, &hi);
        range_add(items[i].high, &lo, &hi);
    }
    range_add(ref, &lo, &hi);
    if (!(lo < hi)) {
        lo = isfinite(lo) ? lo - 1 : 0;
        hi = isfinite(hi) ? hi + 1 : 1;
    }
    cn_ticks t;
    cn_ticks_nice(lo, hi, 6, &t);
    lo = t.lo;
    hi = t.hi;
    double h = row_h * (double)(n ? n : 1);
    x_axis(&s, &t, left, top, plot_w, h, lo, hi, x_label);
#define PX(v) (left + ((v)-lo) / (hi - lo) * plot_w)
    if (isfinite(ref))
        cn_svg_line(&s, PX(ref), top, PX(ref), top + h, "#555555", 1, "5,4");
    for (size_t i = 0; i < n; i++) {
        const cn_explain_interval *it = &items[i];
        double y = top + row_h * ((double)i + 0.5);
        const char *col = it->flagged ? "#d62728" : "#1f77b4";
        cn_svg_text(&s, left - 8, y + 4, it->label, TICK_SIZE, "end", NULL, 0,
                    it->flagged ? "#d62728" : "#333333");
        if (isfinite(it->low) && isfinite(it->high))
            cn_svg_line(&s, PX(it->low), y, PX(it->high), y, col, 2, NULL);
        if (isfinite(it->value))
            cn_svg_circle(&s, PX(it->value), y, 4, col, NULL);
    }
#undef PX
    return cn_svg_end(&s);
}

/* Blue (0) to red (1) through light grey, as SHAP's summary plots colour feature values. */
static void ramp(double u, char *out, size_t size)
{
    if (!isfinite(u)) {
        snprintf(out, size, "#aaaaaa");
        return;
    }
    u = u < 0 ? 0 : u > 1 ? 1 : u;
    int r = (int)(30 + u * (214 - 30)), g = (int)(136 - fabs(u - 0.5) * 2 * 100),
        b = (int)(229 - u * (229 - 39));
    snprintf(out, size, "#%02x%02x%02x", r, g < 0 ? 0 : g, b);
}

char *cn_explain_plot_shap(const char *subtitle, const char *const *features, size_t n_features,
                           const double *shap, const double *value, size_t n_rows)
{
    const char *title = "SHAP summary (TreeSHAP)";
    double label_w = 60;
    for (size_t i = 0; i < n_features; i++) {
        double lw = cn_svg_text_width(features[i], TICK_SIZE);
        label_w = lw > label_w ? lw : label_w;
    }
    double row_h = 30, plot_w = 460, left = label_w + 24;
    int width = (int)(left + plot_w + 90), height = (int)(68 + row_h * (double)n_features + 70);
    cn_svg s;
    begin(&s, width, height, title, subtitle);
    double top = head(&s, width, title, subtitle);
    double lo = HUGE_VAL, hi = -HUGE_VAL;
    for (size_t i = 0; i < n_features * n_rows; i++)
        range_add(shap[i], &lo, &hi);
    range_add(0, &lo, &hi);
    if (!(lo < hi)) {
        lo -= 1;
        hi += 1;
    }
    cn_ticks t;
    cn_ticks_nice(lo, hi, 6, &t);
    lo = t.lo;
    hi = t.hi;
    double h = row_h * (double)(n_features ? n_features : 1);
    x_axis(&s, &t, left, top, plot_w, h, lo, hi, "SHAP value (impact on the model's margin)");
    double x0 = left + (0 - lo) / (hi - lo) * plot_w;
    cn_svg_line(&s, x0, top, x0, top + h, "#555555", 1, NULL);
    /* dots: stacked up and down within a row where they crowd (a cheap beeswarm) */
    size_t n_bins = 100;
    int *count = cn_xmalloc(n_bins * sizeof *count);
    for (size_t f = 0; f < n_features; f++) {
        double y = top + row_h * ((double)f + 0.5);
        cn_svg_text(&s, left - 8, y + 4, features[f], TICK_SIZE, "end", NULL, 0, "#333333");
        double vlo = HUGE_VAL, vhi = -HUGE_VAL;
        for (size_t r = 0; r < n_rows; r++)
            range_add(value[f * n_rows + r], &vlo, &vhi);
        memset(count, 0, n_bins * sizeof *count);
        for (size_t r = 0; r < n_rows; r++) {
            double v = shap[f * n_rows + r];
            if (!isfinite(v))
                continue;
            double x = left + (v - lo) / (hi - lo) * plot_w;
            size_t bin = (size_t)fmin((double)(n_bins - 1), fmax(0, (x - left) / plot_w * n_bins));
            int c = count[bin]++;
            double off = (c % 2 ? 1 : -1) * ((c + 1) / 2) * 2.5;
            off = fmax(-row_h / 2 + 3, fmin(row_h / 2 - 3, off));
            double fv = value[f * n_rows + r];
            char col[16];
            ramp(vhi > vlo ? (fv - vlo) / (vhi - vlo) : 0.5, col, sizeof col);
            cn_svg_circle(&s, x, y + off, 2.6, col, NULL);
        }
    }
    free(count);
    /* colour legend */
    double lx = left + plot_w + 25;
    for (int i = 0; i < 20; i++) {
        char col[16];
        ramp(1.0 - i / 19.0, col, sizeof col);
        cn_svg_rect(&s, lx, top + 10 + i * 6, 12, 6, col, NULL);
    }
    cn_svg_text(&s, lx + 16, top + 18, "high", TICK_SIZE, "start", NULL, 0, "#333333");
    cn_svg_text(&s, lx + 16, top + 130, "low", TICK_SIZE, "start", NULL, 0, "#333333");
    cn_svg_text(&s, lx + 6, top + 150, "feature value", 11, "middle", NULL, 0, "#333333");
    return cn_svg_end(&s);
}

char *cn_explain_plot_pd(const char *subtitle, const char *y_label, const char *const *features,
                         size_t n_features, const double *const *grid, const size_t *n_grid,
                         const double *const *average, size_t n_out, const char *const *out_names)
{
    const char *title = "Partial dependence";
    size_t cols = n_features < 3 ? (n_features ? n_features : 1) : 3;
    size_t rows = (n_features + cols - 1) / cols;
    double pw = 240, ph = 170, gap_x = 70, gap_y = 80;
    double legend_h = n_out > 1 ? 22 : 0;
    int width = (int)(cols * (pw + gap_x) + 30);
    int height = (int)(68 + legend_h + rows * (ph + gap_y) + 20);
    cn_svg s;
    begin(&s, width, height, title, subtitle);
    double top0 = head(&s, width, title, subtitle);
    if (n_out > 1) {
        double x = 60;
        for (size_t k = 0; k < n_out; k++) {
            cn_svg_line(&s, x, top0 + 8, x + 20, top0 + 8, palette[k % 10], 2, NULL);
            cn_svg_text(&s, x + 24, top0 + 12, out_names[k], TICK_SIZE, "start", NULL, 0, NULL);
            x += 40 + cn_svg_text_width(out_names[k], TICK_SIZE);
        }
        top0 += legend_h;
    }
    double ylo = HUGE_VAL, yhi = -HUGE_VAL; /* one y range for every panel */
    for (size_t f = 0; f < n_features; f++)
        for (size_t i = 0; i < n_grid[f] * n_out; i++)
            range_add(average[f][i], &ylo, &yhi);
    if (!(ylo < yhi)) {
        ylo = isfinite(ylo) ? ylo - 0.5 : 0;
        yhi = isfinite(yhi) ? yhi + 0.5 : 1;
    }
    cn_ticks yt;
    cn_ticks_nice(ylo, yhi, 5, &yt);
    char lab[64];
    for (size_t f = 0; f < n_features; f++) {
        double left = 60 + (double)(f % cols) * (pw + gap_x);
        double top = top0 + 10 + (double)(f / cols) * (ph + gap_y);
        double xlo = HUGE_VAL, xhi = -HUGE_VAL;
        for (size_t g = 0; g < n_grid[f]; g++)
            range_add(grid[f][g], &xlo, &xhi);
        if (!(xlo < xhi)) {
            xlo = isfinite(xlo) ? xlo - 1 : 0;
            xhi = isfinite(xhi) ? xhi + 1 : 1;
        }
        cn_ticks xt;
        cn_ticks_nice(xlo, xhi, 4, &xt);
        x_axis(&s, &xt, left, top, pw, ph, xt.lo, xt.hi, features[f]);
        for (double v = yt.lo; v <= yt.hi + yt.step * 1e-9; v += yt.step) {
            double y = top + ph - (v - yt.lo) / (yt.hi - yt.lo) * ph;
            cn_svg_line(&s, left, y, left + pw, y, "#eeeeee", 1, NULL);
            cn_ticks_label(&yt, v, lab, sizeof lab);
            cn_svg_text(&s, left - 6, y + 4, lab, TICK_SIZE, "end", NULL, 0, "#333333");
        }
        if (f % cols == 0)
            cn_svg_text(&s, left - 45, top + ph / 2, y_label, 11, "middle", NULL, -90, NULL);
        double *px = cn_xmalloc((n_grid[f] ? n_grid[f] : 1) * sizeof *px);
        double *py = cn_xmalloc((n_grid[f] ? n_grid[f] : 1) * sizeof *py);
        for (size_t k = 0; k < n_out; k++) {
            for (size_t g = 0; g < n_grid[f]; g++) {
                px[g] = left + (grid[f][g] - xt.lo) / (xt.hi - xt.lo) * pw;
                py[g] = top + ph - (average[f][g * n_out + k] - yt.lo) / (yt.hi - yt.lo) * ph;
            }
            cn_svg_polyline(&s, px, py, n_grid[f], palette[k % 10], 2, NULL, NULL);
            for (size_t g = 0; g < n_grid[f]; g++)
                cn_svg_circle(&s, px[g], py[g], 2.2, palette[k % 10], NULL);
        }
        free(px);
        free(py);
    }
    return cn_svg_end(&s);
}
