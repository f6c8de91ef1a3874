/* SPDX-License-Identifier: MIT */
/* automl_internal.h - what automl.c and ablate.c share: the metric directions and the search
 * space automl builds over the learners. */
#ifndef CN_AUTOML_INTERNAL_H
#define CN_AUTOML_INTERNAL_H
#include <stdbool.h>
#include <stddef.h>
#include "cairn/train.h"
#include "base/buf.h"

/* Whether a larger value of the metric is better (accuracy, r2, ...); false for the losses
 * and errors (log_loss, brier, mae, mse, rmse, mape). */
bool cn_automl_metric_maximize(const char *metric);
/* The study's space (YAML): a categorical `learner` over learners[0..n) and each learner's
 * params as "<learner>.<param>" with `when: {learner: <learner>}`, objective as named. */
void cn_automl_space_text(const char *const *learners, size_t n, const char *objective,
                          bool maximize, cn_buf *out);
/* From r->arms[a].scores (arms[0] the baseline, every arm n scores, r->alpha and r->maximize
 * set): each arm's mean; each factor's effect, t-interval, paired t and Wilcoxon tests, Holm's
 * adjusted p and verdict. */
cairn_status cn_ablate_analyse(cairn_ctx *ctx, cairn_ablate_result *r);
#endif
