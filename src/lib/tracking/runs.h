/* SPDX-License-Identifier: MIT */
/* runs.h - what the run handle (run.c) shares with the by-id run functions (runs.c) and with
 * the trainer and evaluator (train/). */
#ifndef CN_TRACKING_RUNS_H
#define CN_TRACKING_RUNS_H
#include "store/store_ops.h"

/* Creates a run as cairn_runs_create() does and fills *out (released by the caller). With
 * heartbeat_interval_ms > 0 the run starts with a heartbeat (cairn_run_start()). */
cairn_status cn_runs_create(cairn_ctx *ctx, const cairn_run_opts *opts,
                            int64_t heartbeat_interval_ms, cn_run_row *out);
/* Where a user finds the run's files, for messages and results: its artifact folder, or for a
 * remote run its artifact URI on the server (the local staging folder goes with the handle).
 * Freed with free(). */
char *cn_run_artifact_where(cairn_run *run);
#endif
