/* SPDX-License-Identifier: MIT */
/* explain_internal.h - what explain.c (the computations) and explain_plot.c (the pictures)
 * share. */
#ifndef CN_EXPLAIN_INTERNAL_H
#define CN_EXPLAIN_INTERNAL_H
#include <stdbool.h>
#include <stddef.h>
#include "cairn/explain.h"

/* One line of an interval (forest) plot: an estimate with its interval. */
typedef struct cn_explain_interval {
    const char *label;
    double value, low, high;
    bool flagged; /* drawn in red */
} cn_explain_interval;

/* A horizontal interval plot, one line per item, with a dashed reference line at ref (NaN:
 * none). *svg: free(). */
char *cn_explain_plot_intervals(const char *title, const char *subtitle, const char *x_label,
                                const cn_explain_interval *items, size_t n, double ref);

/* A SHAP summary (beeswarm-like): one row per feature (features[0] on top), a dot per data
 * row at its SHAP value, coloured from blue (low feature value) to red (high); value[i * n_rows
 * + r] is feature i's value (NaN: grey), shap likewise. */
char *cn_explain_plot_shap(const char *subtitle, const char *const *features, size_t n_features,
                           const double *shap, const double *value, size_t n_rows);

/* Partial dependence, one small panel per feature: grid[f] (n_grid[f] points) against
 * average[f] (n_grid[f] x n_out, row-major), one line per output (out_names); a categorical
 * feature's grid is its level numbers 0, 1, ... */
char *cn_explain_plot_pd(const char *subtitle, const char *y_label, const char *const *features,
                         size_t n_features, const double *const *grid, const size_t *n_grid,
                         const double *const *average, size_t n_out, const char *const *out_names);
#endif
