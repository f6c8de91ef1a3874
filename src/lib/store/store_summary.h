/* SPDX-License-Identifier: MIT */
/* store_summary.h - the SQL store's summaries for the web UI. */
#ifndef CN_STORE_SUMMARY_H
#define CN_STORE_SUMMARY_H
#include "cairn/tracking.h"

cairn_status cn_store_experiments_summary(cairn_ctx *ctx, cairn_view view,
                                          cairn_experiment_summary_list **out);
cairn_status cn_store_metric_span(cairn_ctx *ctx, const char *run_id, const char *key,
                                  cairn_series_x x, bool *any, int64_t *first, int64_t *last);
cairn_status cn_store_metric_scan(cairn_ctx *ctx, const char *run_id, const char *key,
                                  cairn_series_x x, bool (*fn)(void *user, const cairn_metric *m),
                                  void *user);
#endif
