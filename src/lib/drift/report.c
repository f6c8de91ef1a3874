/* SPDX-License-Identifier: MIT */
/* report.c - drift reports as JSON, one SVG per feature (reference and current shares per bin,
 * overlaid bars, through eval's SVG writer) and one self-contained HTML page. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "drift/drift_internal.h"
#include "core/core.h"
#include "eval/svg.h"
#include "base/buf.h"
#include "base/jsonw.h"
#include "base/str.h"
#include "base/xmalloc.h"
#include "base/banned.h"

#define REF_COLOR "#4c78a8"
#define CUR_COLOR "#f58518"
#define MAX_PLOT_BINS 60 /* more categories than this: the largest ones */

static void kdouble_or_null(cn_jsonw *w, const char *key, double v)
{
    cn_jsonw_key(w, key);
    if (isnan(v))
        cn_jsonw_null(w);
    else
        cn_jsonw_double(w, v); /* +inf is written as "Infinity" */
}

static void feature_json(cn_jsonw *w, const cairn_drift_feature *f)
{
    cn_jsonw_object_begin(w);
    cn_jsonw_kstring(w, "name", f->name);
    cn_jsonw_kstring(w, "type", f->type == CAIRN_COL_NUMERIC ? "numeric" : "categorical");
    cn_jsonw_kstring(w, "role", f->is_prediction ? "prediction" : "feature");
    cn_jsonw_kstring(w, "test", cairn_drift_test_name(f->test));
    kdouble_or_null(w, "statistic", f->statistic);
    kdouble_or_null(w, "p_value", f->pvalue);
    kdouble_or_null(w, "score", f->score);
    kdouble_or_null(w, "threshold", f->threshold);
    cn_jsonw_kbool(w, "drifted", f->drifted);
    cn_jsonw_kint(w, "n_reference", (int64_t)f->n_ref);
    cn_jsonw_kint(w, "n_current", (int64_t)f->n_cur);
    cn_jsonw_kint(w, "missing_reference", (int64_t)f->missing_ref);
    cn_jsonw_kint(w, "missing_current", (int64_t)f->missing_cur);
    cn_jsonw_kint(w, "unseen_current", (int64_t)f->unseen_cur);
    cn_jsonw_key(w, "stats");
    cn_jsonw_flat(w);
    cn_jsonw_object_begin(w);
    kdouble_or_null(w, "ks", f->ks);
    kdouble_or_null(w, "ks_p_value", f->ks_pvalue);
    kdouble_or_null(w, "wasserstein", f->wasserstein);
    kdouble_or_null(w, "wasserstein_norm", f->wasserstein_norm);
    kdouble_or_null(w, "psi", f->psi);
    kdouble_or_null(w, "js", f->js);
    kdouble_or_null(w, "chi2", f->chi2);
    kdouble_or_null(w, "chi2_p_value", f->chi2_pvalue);
    cn_jsonw_object_end(w);
    cn_jsonw_object_end(w);
}

cairn_status cairn_drift_report_json(cairn_ctx *ctx, const cairn_drift_report *r, char **out)
{
    if (!r || !out)
        return cn_fail(ctx, CAIRN_EINVAL, "cairn_drift_report_json: report and out needed");
    cn_jsonw w;
    cn_jsonw_init(&w, NULL, 2);
    cn_jsonw_object_begin(&w);
    cn_jsonw_kstring(&w, "kind", "cairn.drift.report");
    cn_jsonw_kint(&w, "version", 1);
    cn_jsonw_kint(&w, "n_rows_reference", (int64_t)r->n_rows_ref);
    cn_jsonw_kint(&w, "n_rows_current", (int64_t)r->n_rows_cur);
    cn_jsonw_kstring(&w, "decision",
                     r->decision == CAIRN_DRIFT_BONFERRONI ? "bonferroni" : "share");
    cn_jsonw_kdouble(&w, "drift_share", r->drift_share);
    cn_jsonw_kint(&w, "n_features", (int64_t)r->n_tested);
    cn_jsonw_kint(&w, "n_drifted", (int64_t)r->n_drifted);
    cn_jsonw_kdouble(&w, "share", r->share);
    cn_jsonw_kbool(&w, "dataset_drift", r->dataset_drift);
    cn_jsonw_key(&w, "prediction_drift");
    if (r->has_prediction)
        cn_jsonw_bool(&w, r->prediction_drift);
    else
        cn_jsonw_null(&w);
    cn_jsonw_kbool(&w, "sketch", r->is_sketch);
    cn_jsonw_kbool(&w, "drift", cairn_drift_report_drifted(r));
    cn_jsonw_key(&w, "features");
    cn_jsonw_array_begin(&w);
    for (size_t i = 0; i < r->n_features; i++)
        feature_json(&w, &r->features[i]);
    cn_jsonw_array_end(&w);
    cn_jsonw_object_end(&w);
    cn_jsonw_finish(&w);
    *out = cn_buf_detach(&w.buf);
    return CAIRN_OK;
}

/* The bins to draw: all of them, or the MAX_PLOT_BINS with the largest shares (in order). */
static size_t plot_bins(const cairn_drift_feature *f, size_t *idx)
{
    size_t n = f->n_bins;
    for (size_t i = 0; i < n; i++)
        idx[i] = i;
    if (n <= MAX_PLOT_BINS)
        return n;
    for (size_t i = 0; i < MAX_PLOT_BINS; i++) { /* partial selection sort by weight */
        size_t best = i;
        for (size_t j = i + 1; j < n; j++) {
            double wj = f->ref_share[idx[j]] + f->cur_share[idx[j]];
            double wb = f->ref_share[idx[best]] + f->cur_share[idx[best]];
            if (wj > wb)
                best = j;
        }
        size_t t = idx[i];
        idx[i] = idx[best];
        idx[best] = t;
    }
    for (size_t i = 1; i < MAX_PLOT_BINS; i++) /* back to bin order */
        for (size_t j = i; j > 0 && idx[j - 1] > idx[j]; j--) {
            size_t t = idx[j];
            idx[j] = idx[j - 1];
            idx[j - 1] = t;
        }
    return MAX_PLOT_BINS;
}

static char *feature_svg(const cairn_drift_feature *f)
{
    const int width = 640, height = 360;
    const double left = 60, right = 20, top = 40, bottom = 90;
    cn_svg s;
    char *title = cn_asprintf("%s: reference vs current (%s %s)", f->name,
                              cairn_drift_test_name(f->test), f->drifted ? "drifted" : "stable");
    cn_svg_begin(&s, width, height, title);
    cn_svg_text(&s, width / 2.0, 22, title, 14, "middle", "bold", 0, NULL);
    free(title);
    size_t *idx = cn_xmalloc((f->n_bins + 1) * sizeof *idx);
    size_t n = plot_bins(f, idx);
    double ymax = 0;
    for (size_t i = 0; i < n; i++) {
        if (f->ref_share[idx[i]] > ymax)
            ymax = f->ref_share[idx[i]];
        if (f->cur_share[idx[i]] > ymax)
            ymax = f->cur_share[idx[i]];
    }
    cn_ticks ticks;
    cn_ticks_nice(0, ymax > 0 ? ymax : 1, 5, &ticks);
    double pw = width - left - right, ph = height - top - bottom;
    double span = ticks.hi - ticks.lo > 0 ? ticks.hi - ticks.lo : 1;
    for (double v = ticks.lo; v <= ticks.hi + ticks.step / 2; v += ticks.step) {
        double y = top + ph - (v - ticks.lo) / span * ph;
        char label[32];
        cn_ticks_label(&ticks, v, label, sizeof label);
        cn_svg_line(&s, left, y, left + pw, y, "#dddddd", 1, NULL);
        cn_svg_text(&s, left - 6, y + 4, label, 11, "end", NULL, 0, NULL);
    }
    cn_svg_text(&s, 16, top + ph / 2, "share of rows", 12, "middle", NULL, -90, NULL);
    double slot = n ? pw / (double)n : pw;
    for (size_t i = 0; i < n; i++) {
        double x = left + slot * (double)i;
        double hr = f->ref_share[idx[i]] / span * ph, hc = f->cur_share[idx[i]] / span * ph;
        cn_buf_printf(&s.out, "<g><title>");
        cn_svg_escape(&s.out, f->bin_labels[idx[i]]);
        cn_buf_printf(&s.out, ": reference %.4f, current %.4f</title>\n", f->ref_share[idx[i]],
                      f->cur_share[idx[i]]);
        cn_buf_printf(&s.out,
                      "<rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" fill=\"%s\" "
                      "fill-opacity=\"0.55\"/>\n",
                      x + slot * 0.1, top + ph - hr, slot * 0.8, hr, REF_COLOR);
        cn_buf_printf(&s.out,
                      "<rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" fill=\"%s\" "
                      "fill-opacity=\"0.55\"/>\n</g>\n",
                      x + slot * 0.1, top + ph - hc, slot * 0.8, hc, CUR_COLOR);
        if (n <= 24) {
            char clip[64];
            cn_strlcpy(clip, f->bin_labels[idx[i]], sizeof clip);
            cn_svg_text(&s, x + slot / 2, top + ph + 12, clip, 10, "end", NULL, -40, NULL);
        }
    }
    cn_svg_line(&s, left, top + ph, left + pw, top + ph, "#333333", 1, NULL);
    cn_svg_rect(&s, left + pw - 190, top + 4, 12, 12, REF_COLOR, NULL);
    cn_svg_text(&s, left + pw - 174, top + 14, "reference", 11, "start", NULL, 0, NULL);
    cn_svg_rect(&s, left + pw - 100, top + 4, 12, 12, CUR_COLOR, NULL);
    cn_svg_text(&s, left + pw - 84, top + 14, "current", 11, "start", NULL, 0, NULL);
    free(idx);
    return cn_svg_end(&s);
}

cairn_status cairn_drift_feature_svg(cairn_ctx *ctx, const cairn_drift_report *r, size_t i,
                                     char **out)
{
    if (!r || !out || i >= r->n_features)
        return cn_fail(ctx, CAIRN_EINVAL, "drift: no feature %zu in the report", i);
    if (r->features[i].n_bins == 0)
        return cn_fail(ctx, CAIRN_EINVAL, "drift: feature '%s' has no values to draw",
                       r->features[i].name);
    *out = feature_svg(&r->features[i]);
    return CAIRN_OK;
}

static void html_escape(cn_buf *b, const char *s)
{
    cn_svg_escape(b, s);
}

static void html_num(cn_buf *b, double v)
{
    char text[40];
    if (isnan(v))
        cn_buf_puts(b, "&#8211;");
    else {
        if (isinf(v))
            cn_strlcpy(text, v > 0 ? "inf" : "-inf", sizeof text);
        else
            snprintf(text, sizeof text, "%.4g", v);
        html_escape(b, text);
    }
}

cairn_status cairn_drift_report_html(cairn_ctx *ctx, const cairn_drift_report *r, char **out)
{
    if (!r || !out)
        return cn_fail(ctx, CAIRN_EINVAL, "cairn_drift_report_html: report and out needed");
    cn_buf b = CN_BUF_INIT;
    cn_buf_puts(&b, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
                    "<title>cairn drift report</title>\n<style>\n"
                    "body{font-family:DejaVu Sans,Verdana,Arial,sans-serif;margin:2em;color:#222}\n"
                    "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 8px;"
                    "text-align:right}td:first-child,th:first-child{text-align:left}\n"
                    "tr.drift td{background:#fde0dc}.verdict{font-size:1.2em;font-weight:bold}\n"
                    "</style></head><body>\n<h1>Drift report</h1>\n");
    cn_buf_printf(&b,
                  "<p class=\"verdict\">%s</p>\n<p>%zu of %zu features drifted (share %.3f; "
                  "decision %s, drift share %.2f). Reference rows: %zu, current rows: %zu.",
                  cairn_drift_report_drifted(r) ? "Drift detected" : "No drift detected",
                  r->n_drifted, r->n_tested, r->share,
                  r->decision == CAIRN_DRIFT_BONFERRONI ? "Bonferroni" : "share", r->drift_share,
                  r->n_rows_ref, r->n_rows_cur);
    if (r->has_prediction)
        cn_buf_printf(&b, " Prediction drift: %s.", r->prediction_drift ? "yes" : "no");
    if (r->is_sketch)
        cn_buf_puts(&b, " The reference is a quantile sketch: KS and Wasserstein are approximate.");
    cn_buf_puts(&b, "</p>\n<table>\n<tr><th>feature</th><th>type</th><th>test</th>"
                    "<th>statistic</th><th>p-value</th><th>threshold</th><th>drifted</th>"
                    "<th>missing (ref / cur)</th><th>unseen</th></tr>\n");
    for (size_t i = 0; i < r->n_features; i++) {
        const cairn_drift_feature *f = &r->features[i];
        cn_buf_printf(&b, "<tr%s><td><a href=\"#f%zu\">", f->drifted ? " class=\"drift\"" : "", i);
        html_escape(&b, f->name);
        cn_buf_printf(&b, "</a>%s</td><td>%s</td><td>%s</td><td>",
                      f->is_prediction ? " (prediction)" : "",
                      f->type == CAIRN_COL_NUMERIC ? "numeric" : "categorical",
                      cairn_drift_test_name(f->test));
        html_num(&b, f->statistic);
        cn_buf_puts(&b, "</td><td>");
        html_num(&b, f->pvalue);
        cn_buf_puts(&b, "</td><td>");
        html_num(&b, f->threshold);
        cn_buf_printf(&b, "</td><td>%s</td><td>%zu / %zu</td><td>%zu</td></tr>\n",
                      f->drifted ? "yes" : "no", f->missing_ref, f->missing_cur, f->unseen_cur);
    }
    cn_buf_puts(&b, "</table>\n");
    for (size_t i = 0; i < r->n_features; i++) {
        const cairn_drift_feature *f = &r->features[i];
        if (!f->drifted || f->n_bins == 0)
            continue;
        cn_buf_printf(&b, "<h2 id=\"f%zu\">", i);
        html_escape(&b, f->name);
        cn_buf_puts(&b, "</h2>\n");
        char *svg = feature_svg(f);
        const char *body = strstr(svg, "<svg"); /* inline: without the XML declaration */
        cn_buf_puts(&b, body ? body : svg);
        free(svg);
    }
    cn_buf_puts(&b, "</body></html>\n");
    *out = cn_buf_detach(&b);
    return CAIRN_OK;
}
