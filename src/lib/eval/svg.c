/* SPDX-License-Identifier: MIT */
/* svg.c - the small SVG writer behind plot.c: a document, shapes, escaped text, nice ticks.
 * Numbers are written with two decimals, plenty for pixels. */
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include "eval/svg.h"
#include "base/banned.h"

#define FONT "DejaVu Sans, Verdana, Arial, Helvetica, sans-serif"

void cn_svg_escape(cn_buf *b, const char *text)
{
    for (const unsigned char *p = (const unsigned char *)(text ? text : ""); *p; p++) {
        switch (*p) {
        case '&': cn_buf_puts(b, "&amp;"); break;
        case '<': cn_buf_puts(b, "&lt;"); break;
        case '>': cn_buf_puts(b, "&gt;"); break;
        case '"': cn_buf_puts(b, "&quot;"); break;
        case '\'': cn_buf_puts(b, "&apos;"); break;
        default:
            if (*p >= 0x20 && *p != 0x7f)
                cn_buf_putc(b, (char)*p);
            else if (*p == '\t')
                cn_buf_putc(b, ' ');
        }
    }
}

void cn_svg_begin(cn_svg *s, int width, int height, const char *title)
{
    memset(s, 0, sizeof *s);
    s->width = width;
    s->height = height;
    cn_svg_escape(&s->title, title);
}

char *cn_svg_end(cn_svg *s)
{
    /* The header comes last so that drawing may still grow the canvas (a legend placed
     * beside the plot). */
    cn_buf doc = CN_BUF_INIT;
    cn_buf_printf(&doc,
                  "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                  "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
                  "viewBox=\"0 0 %d %d\" font-family=\"%s\">\n<title>%s</title>\n"
                  "<rect x=\"0\" y=\"0\" width=\"%d\" height=\"%d\" fill=\"#ffffff\"/>\n",
                  s->width, s->height, s->width, s->height, FONT, cn_buf_str(&s->title), s->width,
                  s->height);
    cn_buf_append(&doc, s->out.data, s->out.len);
    cn_buf_puts(&doc, "</svg>\n");
    cn_buf_release(&s->out);
    cn_buf_release(&s->title);
    return cn_buf_detach(&doc);
}

void cn_svg_grow(cn_svg *s, double right, double bottom)
{
    int w = (int)ceil(right), h = (int)ceil(bottom);
    s->width = w > s->width ? w : s->width;
    s->height = h > s->height ? h : s->height;
}

void cn_svg_text(cn_svg *s, double x, double y, const char *text, double size, const char *anchor,
                 const char *weight, double rotate, const char *fill)
{
    cn_buf_printf(&s->out, "<text x=\"%.2f\" y=\"%.2f\" font-size=\"%.1f\" text-anchor=\"%s\"", x,
                  y, size, anchor ? anchor : "start");
    if (weight)
        cn_buf_printf(&s->out, " font-weight=\"%s\"", weight);
    if (rotate != 0)
        cn_buf_printf(&s->out, " transform=\"rotate(%.1f %.2f %.2f)\"", rotate, x, y);
    cn_buf_printf(&s->out, " fill=\"%s\">", fill ? fill : "#222222");
    cn_svg_escape(&s->out, text);
    cn_buf_puts(&s->out, "</text>\n");
}

static void dash_attr(cn_buf *b, const char *dash)
{
    if (dash)
        cn_buf_printf(b, " stroke-dasharray=\"%s\"", dash);
}

void cn_svg_line(cn_svg *s, double x1, double y1, double x2, double y2, const char *stroke,
                 double width, const char *dash)
{
    cn_buf_printf(&s->out,
                  "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\" stroke=\"%s\" "
                  "stroke-width=\"%.2f\"",
                  x1, y1, x2, y2, stroke, width);
    dash_attr(&s->out, dash);
    cn_buf_puts(&s->out, "/>\n");
}

void cn_svg_rect(cn_svg *s, double x, double y, double w, double h, const char *fill,
                 const char *stroke)
{
    cn_buf_printf(&s->out, "<rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" fill=\"%s\"",
                  x, y, w, h, fill ? fill : "none");
    if (stroke)
        cn_buf_printf(&s->out, " stroke=\"%s\" stroke-width=\"1\"", stroke);
    cn_buf_puts(&s->out, "/>\n");
}

void cn_svg_circle(cn_svg *s, double cx, double cy, double r, const char *fill, const char *stroke)
{
    cn_buf_printf(&s->out, "<circle cx=\"%.2f\" cy=\"%.2f\" r=\"%.2f\" fill=\"%s\"", cx, cy, r,
                  fill ? fill : "none");
    if (stroke)
        cn_buf_printf(&s->out, " stroke=\"%s\" stroke-width=\"1\"", stroke);
    cn_buf_puts(&s->out, "/>\n");
}

void cn_svg_polyline(cn_svg *s, const double *x, const double *y, size_t n, const char *stroke,
                     double width, const char *dash, const char *clip)
{
    if (n == 0)
        return;
    cn_buf_puts(&s->out, "<polyline points=\"");
    for (size_t i = 0; i < n; i++)
        cn_buf_printf(&s->out, "%s%.2f,%.2f", i ? " " : "", x[i], y[i]);
    cn_buf_printf(&s->out,
                  "\" fill=\"none\" stroke=\"%s\" stroke-width=\"%.2f\" "
                  "stroke-linejoin=\"round\" stroke-linecap=\"round\"",
                  stroke, width);
    dash_attr(&s->out, dash);
    if (clip)
        cn_buf_printf(&s->out, " clip-path=\"url(#%s)\"", clip);
    cn_buf_puts(&s->out, "/>\n");
}

int cn_svg_clip(cn_svg *s, double x, double y, double w, double h)
{
    int id = s->n_clips++;
    cn_buf_printf(&s->out,
                  "<defs><clipPath id=\"clip%d\"><rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" "
                  "height=\"%.2f\"/></clipPath></defs>\n",
                  id, x, y, w, h);
    return id;
}

/* The nice number near x: 1, 2, 2.5 or 5 times a power of ten (rounded or at least x). */
static double nice_num(double x, bool round_it)
{
    double e = floor(log10(x)), f = x / pow(10, e), nf;
    if (round_it)
        nf = f < 1.5 ? 1 : f < 2.25 ? 2 : f < 3.5 ? 2.5 : f < 7.5 ? 5 : 10;
    else
        nf = f <= 1 ? 1 : f <= 2 ? 2 : f <= 2.5 ? 2.5 : f <= 5 ? 5 : 10;
    return nf * pow(10, e);
}

void cn_ticks_nice(double lo, double hi, int n_ticks, cn_ticks *t)
{
    if (!isfinite(lo) || !isfinite(hi)) {
        lo = 0;
        hi = 1;
    }
    if (hi < lo) {
        double tmp = lo;
        lo = hi;
        hi = tmp;
    }
    if (hi - lo < 1e-12 * (fabs(lo) + fabs(hi)) || hi == lo) {
        double pad = lo == 0 ? 1 : fabs(lo) * 0.1;
        lo -= pad;
        hi += pad;
    }
    double range = nice_num(hi - lo, false);
    double step = nice_num(range / (n_ticks > 1 ? n_ticks - 1 : 1), true);
    t->step = step;
    t->lo = floor(lo / step + 1e-9) * step;
    t->hi = ceil(hi / step - 1e-9) * step;
    int dec = (int)-floor(log10(step) + 1e-9);
    if (fabs(step / pow(10, floor(log10(step) + 1e-9)) - 2.5) < 1e-9)
        dec++; /* 0.25, 2.5: one more digit */
    t->decimals = dec < 0 ? 0 : dec > 12 ? 12 : dec;
}

void cn_ticks_label(const cn_ticks *t, double v, char *out, size_t size)
{
    if (fabs(v) < t->step * 1e-9)
        v = 0;
    double a = fabs(v);
    if (a != 0 && (a >= 1e7 || a < 1e-5))
        snprintf(out, size, "%.2g", v);
    else
        snprintf(out, size, "%.*f", t->decimals, v);
}

double cn_svg_text_width(const char *text, double size)
{
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)text; *p; p++)
        n += (*p & 0xC0) != 0x80; /* count UTF-8 characters, not bytes */
    return (double)n * size * 0.6;
}
