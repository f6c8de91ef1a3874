/* SPDX-License-Identifier: MIT */
/* summarize.h - the tracking server's background summarizer: a thread with a store connection
 * of its own that computes and keeps the block summaries of long metric series that have none
 * (cairn_metrics_summarize), a second after the start and then every 30 s, so that the first
 * chart of a long series reads no point. Nothing depends on it: a chart computes what is
 * missing itself. */
#ifndef TRK_SUMMARIZE_H
#define TRK_SUMMARIZE_H
#include <stddef.h>

typedef struct trk_summarizer trk_summarizer;

/* Starts the thread on its own connection to store_uri; NULL (with the reason in err) when it
 * cannot: the server runs without it. */
trk_summarizer *trk_summarizer_start(const char *store_uri, const char *artifact_root, char *err,
                                     size_t errlen);
/* Stops the thread (a pass under way finishes its series) and closes its connection. NULL is
 * a no-op. */
void trk_summarizer_stop(trk_summarizer *s);
#endif
