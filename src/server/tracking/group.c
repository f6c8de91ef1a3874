/* SPDX-License-Identifier: MIT */
/* group.c - the group commit of log-metric and log-batch (see group.h). One queue, one writer
 * thread: the writer sleeps until a batch arrives, takes everything queued (up to a cap),
 * commits it with one cairn_runs_log_batches() call and resumes each request with its answer.
 * While it commits, the next group gathers, so the busier the server, the bigger the groups and
 * the fewer transactions per point; before it takes small batches the writer yields its CPU a
 * few times, so that workers waiting for one queue theirs first. No timer: a lone request is
 * committed at once.
 * The writer answers each request itself: http_resume() only puts the request on its HTTP
 * worker's list (and wakes that worker if it sleeps), no system call per request. */
#include "tracking/group.h"
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include "base/xmalloc.h"
#include "base/banned.h"

/* At most this many batches share a transaction: PostgreSQL keeps the subtransactions (one per
 * savepoint) of 64 at most in shared memory, past which its readers slow down. */
#define GROUP_MAX_BATCHES 64
/* And at most about this many points, so one transaction stays short. */
#define GROUP_MAX_METRICS 20000
/* Before it takes a group of small batches, the writer yields its CPU this many times (see
 * writer_main); not once the queue holds this many points: big batches cost per point. */
#define GROUP_YIELDS 6
#define GROUP_YIELD_METRICS 256

typedef struct group_item {
    struct group_item *next;
    http_pending *pending;
    cairn_run_batch b; /* its arrays and strings live in `copy` */
    char *copy;
    cairn_status st; /* the batch's fate, set by the writer */
    char *msg;       /* its error message, or NULL */
} group_item;

struct trk_group {
    pthread_mutex_t mu;
    pthread_cond_t wake;
    group_item *head, **tail; /* the queue, oldest first */
    size_t n_queued, n_queued_metrics;
    bool stopping;
    pthread_t thread;
    cairn_ctx *ctx; /* the writer's own store connection */
};

static void item_free(group_item *it)
{
    cairn_free(it->msg);
    free(it->copy);
    free(it);
}

/* The item's answer: {} or the batch's own error, as the route would have written it. */
static http_response answer(const group_item *it)
{
    http_response resp = {.fd = -1};
    trk_call c = {.resp = &resp};
    cn_jsonw_init(&c.w, NULL, 0);
    if (it->st == CAIRN_OK) {
        cn_jsonw_object_begin(&c.w);
        cn_jsonw_object_end(&c.w);
    } else {
        trk_fail_message(&c, it->st, it->msg ? it->msg : cairn_status_str(it->st));
    }
    cn_jsonw_finish(&c.w);
    resp.body = c.w.buf;
    c.w.buf = (cn_buf)CN_BUF_INIT;
    cn_jsonw_release(&c.w);
    resp.content_type = "application/json";
    return resp;
}

/* Commits the n items of list, then answers each. */
static void commit(trk_group *g, group_item *list, size_t n)
{
    cairn_run_batch *b = cn_xmalloc(n * sizeof *b);
    cairn_status *each = cn_xmalloc(n * sizeof *each);
    char **msgs = cn_xcalloc(n, sizeof *msgs);
    size_t i = 0;
    for (group_item *it = list; it; it = it->next)
        b[i++] = it->b;
    cairn_runs_log_batches(g->ctx, b, n, each, msgs);
    i = 0;
    for (group_item *it = list; it; it = it->next, i++) {
        it->st = each[i];
        it->msg = msgs[i];
    }
    free(b);
    free(each);
    free(msgs);
    /* The answers go out together: each HTTP worker concerned is woken once. */
    http_pending **pending = cn_xmalloc(n * sizeof *pending);
    http_response *resps = cn_xmalloc(n * sizeof *resps);
    i = 0;
    for (group_item *it = list, *next; it; it = next, i++) {
        next = it->next;
        pending[i] = it->pending;
        resps[i] = answer(it);
        item_free(it);
    }
    http_resume_many(pending, resps, n);
    free(pending);
    free(resps);
}

static void *writer_main(void *arg)
{
    trk_group *g = arg;
    pthread_mutex_lock(&g->mu);
    for (;;) {
        while (!g->head && !g->stopping)
            pthread_cond_wait(&g->wake, &g->mu);
        if (!g->head)
            break; /* stopping, and nothing left to answer */
        /* Let the group gather: on a busy machine the workers holding parsed requests wait for
         * a CPU, and a transaction costs mostly per group, not per point. sched_yield() lets
         * them run first; when nothing else waits to run it returns at once, so a lone request
         * is still committed without a timer's delay. Stopping at the first yield that brought
         * nothing new measured slower than a fixed count (docs/bench.md). */
        for (int y = 0; y < GROUP_YIELDS && g->n_queued < GROUP_MAX_BATCHES &&
                        g->n_queued_metrics < GROUP_YIELD_METRICS;
             y++) {
            pthread_mutex_unlock(&g->mu);
            sched_yield();
            pthread_mutex_lock(&g->mu);
        }
        /* Take the oldest items up to the caps (always at least one). */
        group_item *list = g->head, *last = list;
        size_t n = 1, n_metrics = list->b.n_metrics;
        while (last->next && n < GROUP_MAX_BATCHES &&
               n_metrics + last->next->b.n_metrics <= GROUP_MAX_METRICS) {
            last = last->next;
            n++;
            n_metrics += last->b.n_metrics;
        }
        g->head = last->next;
        g->n_queued -= n;
        g->n_queued_metrics -= n_metrics;
        if (!g->head)
            g->tail = &g->head;
        last->next = NULL;
        pthread_mutex_unlock(&g->mu);
        commit(g, list, n);
        pthread_mutex_lock(&g->mu);
    }
    pthread_mutex_unlock(&g->mu);
    return NULL;
}

trk_group *trk_group_start(const char *store_uri, const char *artifact_root, char *err,
                           size_t errlen)
{
    cairn_open_opts o = CAIRN_OPEN_OPTS_INIT;
    o.artifact_root = artifact_root;
    o.background_checkpoint = true; /* the writer's loop is the one serial part: no syncs in it */
    cairn_ctx *ctx = NULL;
    cairn_status st = cairn_open(store_uri, &o, &ctx);
    if (st != CAIRN_OK) {
        snprintf(err, errlen, "%s", ctx ? cairn_errmsg(ctx) : cairn_status_str(st));
        cairn_close(ctx);
        return NULL;
    }
    trk_group *g = cn_xcalloc(1, sizeof *g);
    g->ctx = ctx;
    g->tail = &g->head;
    pthread_mutex_init(&g->mu, NULL);
    pthread_cond_init(&g->wake, NULL);
    int rc = pthread_create(&g->thread, NULL, writer_main, g);
    if (rc != 0) {
        snprintf(err, errlen, "cannot start the writer thread: %s", strerror(rc));
        pthread_cond_destroy(&g->wake);
        pthread_mutex_destroy(&g->mu);
        cairn_close(ctx);
        free(g);
        return NULL;
    }
    return g;
}

void trk_group_stop(trk_group *g)
{
    if (!g)
        return;
    pthread_mutex_lock(&g->mu);
    g->stopping = true;
    pthread_cond_signal(&g->wake);
    pthread_mutex_unlock(&g->mu);
    pthread_join(g->thread, NULL);
    pthread_cond_destroy(&g->wake);
    pthread_mutex_destroy(&g->mu);
    cairn_close(g->ctx);
    free(g);
}

static size_t size_of(const char *s)
{
    return s ? strlen(s) + 1 : 0;
}

/* The bytes the strings of n pairs take, NULs included. */
static size_t pairs_bytes(const cairn_param *p, size_t n)
{
    size_t total = 0;
    for (size_t i = 0; i < n; i++)
        total += size_of(p[i].key) + size_of(p[i].value);
    return total;
}

/* Copies s to *at and moves past it; NULL stays NULL (the library refuses it). */
static char *put(char **at, const char *s)
{
    if (!s)
        return NULL;
    size_t n = strlen(s) + 1;
    char *out = memcpy(*at, s, n);
    *at += n;
    return out;
}

/* Metric i has the key of metric i - 1. */
static bool same_key(const cairn_metric *m, size_t i)
{
    return i > 0 && m[i].key && m[i - 1].key && strcmp(m[i].key, m[i - 1].key) == 0;
}

bool trk_group_submit(trk_call *c, const cairn_run_batch *b)
{
    trk_group *g = trk_app_group(c->app);
    if (!g)
        return false;
    /* One block holds the arrays, then the strings: the request's JSON stays with the worker,
     * which frees it, and the writer frees one block. Metric keys repeat (a batch of one
     * key's history), so a key equal to the one before is stored once. */
    size_t m_bytes = b->n_metrics * sizeof *b->metrics;
    size_t p_bytes = b->n_params * sizeof *b->params;
    size_t t_bytes = b->n_tags * sizeof *b->tags;
    size_t s_bytes =
        size_of(b->run_id) + pairs_bytes(b->params, b->n_params) + pairs_bytes(b->tags, b->n_tags);
    for (size_t i = 0; i < b->n_metrics; i++)
        if (!same_key(b->metrics, i))
            s_bytes += size_of(b->metrics[i].key);
    group_item *it = cn_xcalloc(1, sizeof *it);
    it->copy = cn_xmalloc(m_bytes + p_bytes + t_bytes + s_bytes);
    cairn_metric *metrics = (cairn_metric *)(void *)it->copy;
    cairn_param *params = (cairn_param *)(void *)(it->copy + m_bytes);
    cairn_tag *tags = (cairn_tag *)(void *)(it->copy + m_bytes + p_bytes);
    char *at = it->copy + m_bytes + p_bytes + t_bytes;
    it->b = (cairn_run_batch){put(&at, b->run_id), metrics, b->n_metrics, params,
                              b->n_params,         tags,    b->n_tags};
    for (size_t i = 0; i < b->n_metrics; i++) {
        metrics[i] = b->metrics[i];
        metrics[i].key = same_key(b->metrics, i) ? metrics[i - 1].key : put(&at, b->metrics[i].key);
    }
    for (size_t i = 0; i < b->n_params; i++)
        params[i] = (cairn_param){put(&at, b->params[i].key), put(&at, b->params[i].value)};
    for (size_t i = 0; i < b->n_tags; i++)
        tags[i] = (cairn_tag){put(&at, b->tags[i].key), put(&at, b->tags[i].value)};
    /* Suspend before the writer can see the item: it may answer at once. */
    it->pending = http_suspend(c->req);
    pthread_mutex_lock(&g->mu);
    *g->tail = it;
    g->tail = &it->next;
    g->n_queued++;
    g->n_queued_metrics += it->b.n_metrics;
    pthread_cond_signal(&g->wake);
    pthread_mutex_unlock(&g->mu);
    return true;
}
