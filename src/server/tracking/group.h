/* SPDX-License-Identifier: MIT */
/* group.h - the tracking server's group commit: log-metric and log-batch requests, once parsed
 * and checked, wait in one queue; a writer thread with a store connection of its own takes
 * everything queued and commits it with one cairn_runs_log_batches() call (one transaction),
 * then answers each request with its own status. The requests are suspended meanwhile
 * (http_suspend), so many more than --workers of them can share one commit. A 200 still means
 * the points are committed. */
#ifndef TRK_GROUP_H
#define TRK_GROUP_H
#include <stdbool.h>
#include <stddef.h>
#include "tracking/trk.h"

typedef struct trk_group trk_group;

/* Starts the writer on its own connection to store_uri. NULL on failure, with the reason in
 * err: the server then logs each request in a transaction of its own, as before. */
trk_group *trk_group_start(const char *store_uri, const char *artifact_root, char *err,
                           size_t errlen);
/* Answers whatever is still queued, then stops the writer. Call it after http_stop(), which
 * waits for the suspended requests the writer answers. NULL is a no-op. */
void trk_group_stop(trk_group *g);
/* Queues a copy of the batch of request c for the next group commit and suspends the request:
 * its answer (200, or the batch's own error) goes out once the writer is done with it; the
 * route writes nothing more. Returns
 * false, with nothing done, when the server has no writer: the caller then logs the batch
 * itself. */
bool trk_group_submit(trk_call *c, const cairn_run_batch *b);

/* The server's writer, NULL when it has none (server.c). */
trk_group *trk_app_group(const trk_app *app);
#endif
