/* SPDX-License-Identifier: MIT */
/* store_summary.h - the SQL store's summaries for the web UI. */
#ifndef CN_STORE_SUMMARY_H
#define CN_STORE_SUMMARY_H
#include "cairn/tracking.h"
#include "store/store_ops.h"

cairn_status cn_store_experiments_summary(cairn_ctx *ctx, cairn_view view,
                                          cairn_experiment_summary_list **out);
cairn_status cn_store_metric_span(cairn_ctx *ctx, const char *run_id, const char *key,
                                  cairn_series_x x, bool *any, int64_t *first, int64_t *last);
cairn_status cn_store_metric_scan(cairn_ctx *ctx, const char *run_id, const char *key,
                                  int64_t step_lo, int64_t step_hi,
                                  bool (*fn)(void *user, const cairn_metric *m), void *user);
cairn_status cn_store_metric_blocks(cairn_ctx *ctx, const char *run_id, const char *key,
                                    bool (*fn)(void *user, const cn_metric_block *b), void *user);
cairn_status cn_store_metrics_summarize(cairn_ctx *ctx, int64_t min_step, size_t max,
                                        size_t *n_kept);
/* Folds point p into block b (n counted); b zeroed with n 0 is an empty block. */
void cn_metric_block_add(cn_metric_block *b, const cn_block_point *p);
#endif
