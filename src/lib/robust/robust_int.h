/* SPDX-License-Identifier: MIT */
/* robust_int.h - what robust.c and compress.c share: the true labels of rows and the metric. */
#ifndef CN_ROBUST_INT_H
#define CN_ROBUST_INT_H
#include "cairn/robust.h"

/* The targets of rows of t for m: class indices (classification) or values; EINVAL names a
 * missing label column or a class the model does not know. */
cairn_status cn_robust_targets(cairn_ctx *ctx, const cairn_model *m, const cairn_table *t,
                               const size_t *rows, size_t n, double *y);
/* Accuracy (classification: pred and y are class indices) or R^2 over idx[0..n) (NULL: 0..n). */
double cn_robust_metric(bool classify, const double *y, const double *pred, const size_t *idx,
                        size_t n);
#endif
