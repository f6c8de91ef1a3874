/* SPDX-License-Identifier: MIT */
/* svg.h - a small SVG writer into a cn_buf, used by plot.c: shapes, escaped text, and the
 * "nice" tick steps (1, 2, 2.5, 5 x 10^k) of Heckbert's Graphics Gems label algorithm. */
#ifndef CN_SVG_H
#define CN_SVG_H
#include <stddef.h>
#include "base/buf.h"

typedef struct cn_svg {
    cn_buf out;   /* the body; cn_svg_end() puts the header before it */
    cn_buf title; /* escaped */
    int width, height;
    int n_clips;
} cn_svg;

void cn_svg_begin(cn_svg *s, int width, int height, const char *title);
/* Closes the document and moves its text to the caller (free()). */
char *cn_svg_end(cn_svg *s);
/* Grows the canvas to hold (right, bottom) in pixels; it never shrinks. */
void cn_svg_grow(cn_svg *s, double right, double bottom);
/* Appends text with & < > " ' escaped (and control characters dropped). */
void cn_svg_escape(cn_buf *b, const char *text);

/* anchor: "start", "middle", "end"; rotate in degrees about (x, y); weight "bold" or NULL. */
void cn_svg_text(cn_svg *s, double x, double y, const char *text, double size, const char *anchor,
                 const char *weight, double rotate, const char *fill);
void cn_svg_line(cn_svg *s, double x1, double y1, double x2, double y2, const char *stroke,
                 double width, const char *dash);
void cn_svg_rect(cn_svg *s, double x, double y, double w, double h, const char *fill,
                 const char *stroke);
void cn_svg_circle(cn_svg *s, double cx, double cy, double r, const char *fill, const char *stroke);
/* A polyline through (x[i], y[i]) in pixels; clip names a clip path id or NULL. */
void cn_svg_polyline(cn_svg *s, const double *x, const double *y, size_t n, const char *stroke,
                     double width, const char *dash, const char *clip);
/* Defines a rectangular clip path; returns its number (use "clipN"). */
int cn_svg_clip(cn_svg *s, double x, double y, double w, double h);

/* A tick step and range covering [lo, hi] with about n_ticks round ticks. */
typedef struct cn_ticks {
    double lo, hi, step;
    int decimals; /* digits after the point for labels */
} cn_ticks;
void cn_ticks_nice(double lo, double hi, int n_ticks, cn_ticks *t);
/* Formats v with t->decimals digits, never "-0". */
void cn_ticks_label(const cn_ticks *t, double v, char *out, size_t size);
/* A rough width in pixels of text in a sans-serif font of the given size. */
double cn_svg_text_width(const char *text, double size);
#endif
