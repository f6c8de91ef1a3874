/* SPDX-License-Identifier: MIT */
/* summarize.c - the background summarizer (summarize.h). */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "cairn/tracking.h"
#include "tracking/summarize.h"
#include "base/xmalloc.h"
#include "base/banned.h"

#define FIRST_PASS_MS 1000
#define PASS_EVERY_MS 30000
#define SERIES_PER_CALL 2 /* a pass takes them two by two, stopping early when asked to */

struct trk_summarizer {
    cairn_ctx *ctx;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t wake;
    bool stopping;
};

/* Waits ms or until asked to stop; true when asked to stop. */
static bool wait_or_stop(trk_summarizer *s, long ms)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += ms / 1000;
    until.tv_nsec += (ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&s->mu);
    while (!s->stopping)
        if (pthread_cond_timedwait(&s->wake, &s->mu, &until) == ETIMEDOUT)
            break;
    bool stop = s->stopping;
    pthread_mutex_unlock(&s->mu);
    return stop;
}

static bool stopping(trk_summarizer *s)
{
    pthread_mutex_lock(&s->mu);
    bool stop = s->stopping;
    pthread_mutex_unlock(&s->mu);
    return stop;
}

static void *summarizer_main(void *arg)
{
    trk_summarizer *s = arg;
    long wait = FIRST_PASS_MS;
    while (!wait_or_stop(s, wait)) {
        wait = PASS_EVERY_MS;
        size_t kept = SERIES_PER_CALL;
        /* Two by two while each call keeps both (a backlog), so that a stop is heard soon. */
        while (kept == SERIES_PER_CALL && !stopping(s)) {
            if (cairn_metrics_summarize(s->ctx, SERIES_PER_CALL, &kept) != CAIRN_OK) {
                fprintf(stderr, "cairn: warning: summarizing metrics: %s\n", cairn_errmsg(s->ctx));
                break;
            }
        }
    }
    return NULL;
}

trk_summarizer *trk_summarizer_start(const char *store_uri, const char *artifact_root, char *err,
                                     size_t errlen)
{
    cairn_open_opts o = CAIRN_OPEN_OPTS_INIT;
    o.artifact_root = artifact_root;
    cairn_ctx *ctx = NULL;
    cairn_status st = cairn_open(store_uri, &o, &ctx);
    if (st != CAIRN_OK) {
        snprintf(err, errlen, "%s", ctx ? cairn_errmsg(ctx) : cairn_status_str(st));
        cairn_close(ctx);
        return NULL;
    }
    trk_summarizer *s = cn_xcalloc(1, sizeof *s);
    s->ctx = ctx;
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->wake, NULL);
    int rc = pthread_create(&s->thread, NULL, summarizer_main, s);
    if (rc != 0) {
        snprintf(err, errlen, "cannot start the summarizer thread: %s", strerror(rc));
        pthread_cond_destroy(&s->wake);
        pthread_mutex_destroy(&s->mu);
        cairn_close(ctx);
        free(s);
        return NULL;
    }
    return s;
}

void trk_summarizer_stop(trk_summarizer *s)
{
    if (!s)
        return;
    pthread_mutex_lock(&s->mu);
    s->stopping = true;
    pthread_cond_signal(&s->wake);
    pthread_mutex_unlock(&s->mu);
    pthread_join(s->thread, NULL);
    pthread_cond_destroy(&s->wake);
    pthread_mutex_destroy(&s->mu);
    cairn_close(s->ctx);
    free(s);
}
