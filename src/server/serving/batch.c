/* SPDX-License-Identifier: MIT */
/* batch.c - micro-batching: worker threads decode a request and queue it (suspended); a
 * predicting thread takes everything queued (up to max_batch_rows), predicts it as one table,
 * records it in the monitoring window, and answers each request. With batch_delay_us 0 it
 * never waits for more (Triton's max_queue_delay 0): a lone request is predicted at once, and
 * requests that arrive while a batch is predicted form the next one. A request that finds
 * nothing being predicted is predicted at once on its worker's thread (no hand-off). */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "serving/msv.h"
#include "base/jsonw.h"
#include "base/map.h"
#include "base/str.h"
#include "base/time.h"
#include "base/xmalloc.h"
#include "base/banned.h"

#define MAX_THREADS 64

struct msv_batcher {
    msv_config cfg;
    const msv_model *model;
    msv_window *window;
    msv_metrics *metrics;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    msv_job *head, *tail;
    size_t queued_rows;
    bool stopping;
    atomic_int busy; /* predictions under way, inline or batched */
    pthread_t threads[MAX_THREADS];
    int n_threads;
};

void msv_error(http_response *resp, msv_job_kind kind, int status, const char *msg)
{
    cn_jsonw w;
    cn_jsonw_init(&w, NULL, 0);
    cn_jsonw_object_begin(&w);
    if (kind == MSV_JOB_V2) {
        cn_jsonw_kstring(&w, "error", msg);
    } else {
        const char *code = status == 404   ? "RESOURCE_DOES_NOT_EXIST"
                           : status == 413 ? "RESOURCE_LIMIT_EXCEEDED"
                           : status >= 500 ? "INTERNAL_ERROR"
                                           : "BAD_REQUEST";
        cn_jsonw_kstring(&w, "error_code", code);
        cn_jsonw_kstring(&w, "message", msg);
    }
    cn_jsonw_object_end(&w);
    cn_jsonw_finish(&w);
    cn_buf_release(&resp->body);
    resp->body = w.buf;
    w.buf = (cn_buf)CN_BUF_INIT;
    cn_jsonw_release(&w);
    resp->status = status;
    resp->content_type = "application/json";
}

static void put_value(const msv_model *model, double v, bool as_text, cn_buf *out)
{
    if (model->n_classes) {
        size_t k = isfinite(v) && v >= 0 && (size_t)v < model->n_classes ? (size_t)v : 0;
        const char *label = model->label_json[k];
        if (as_text && label[0] != '"') {
            cn_buf_putc(out, '"');
            cn_buf_puts(out, label);
            cn_buf_putc(out, '"');
        } else {
            cn_buf_puts(out, label);
        }
        return;
    }
    if (!isfinite(v)) {
        cn_buf_puts(out, "null");
        return;
    }
    char text[40];
    cn_json_format_double(v, text, sizeof text);
    cn_buf_puts(out, text);
}

void msv_encode_predictions(const msv_model *model, const msv_job *job, const double *pred,
                            size_t n, cn_buf *out)
{
    cn_buf_grow(out, n * 8 + 128);
    if (job->kind == MSV_JOB_MLFLOW) {
        cn_buf_puts(out, "{\"predictions\": [");
        for (size_t i = 0; i < n; i++) {
            if (i)
                cn_buf_puts(out, ", ");
            put_value(model, pred[i], false, out);
        }
        cn_buf_puts(out, "]}");
        return;
    }
    cn_buf_puts(out, "{\"model_name\": ");
    cn_json_quote(out, model->name, strlen(model->name));
    cn_buf_puts(out, ", \"model_version\": ");
    cn_json_quote(out, model->version, strlen(model->version));
    cn_buf_puts(out, ", \"id\": ");
    const char *id = job->v2_id ? job->v2_id : "";
    cn_json_quote(out, id, strlen(id));
    cn_buf_printf(out,
                  ", \"outputs\": [{\"name\": \"predict\", \"shape\": [%zu], \"datatype\": "
                  "\"%s\", \"data\": [",
                  n, model->n_classes ? "BYTES" : "FP64");
    for (size_t i = 0; i < n; i++) {
        if (i)
            cn_buf_puts(out, ", ");
        put_value(model, pred[i], true, out);
    }
    cn_buf_puts(out, "]}]}");
}

static void answer(msv_batcher *b, msv_job *job, const double *pred, int status, const char *msg)
{
    http_response resp = {.fd = -1};
    if (status) {
        msv_error(&resp, job->kind, status, msg);
    } else {
        msv_encode_predictions(b->model, job, pred, job->rows->n_rows, &resp.body);
        resp.content_type = "application/json";
    }
    http_add_header(&resp, "X-Cairn-Model", b->model->ident);
    http_resume(job->pending, &resp);
    cairn_table_free(job->rows);
    free(job->v2_id);
    if (job->hold)
        atomic_fetch_sub(job->hold, 1);
    free(job);
}

/* One table of the jobs' rows, in order (the jobs share the schema). */
static cairn_table *concat(cairn_ctx *ctx, const msv_schema *s, msv_job **jobs, size_t n_jobs,
                           size_t n_rows)
{
    cairn_table *t = cairn_table_new(n_rows);
    double *num = cn_xmalloc((n_rows ? n_rows : 1) * sizeof *num);
    int32_t *cat = cn_xmalloc((n_rows ? n_rows : 1) * sizeof *cat);
    for (size_t f = 0; f < s->n_features; f++) {
        size_t at = 0;
        if (s->types[f] == CAIRN_COL_NUMERIC) {
            for (size_t j = 0; j < n_jobs; j++) {
                const cairn_column *c = &jobs[j]->rows->cols[f];
                memcpy(num + at, c->num, jobs[j]->rows->n_rows * sizeof *num);
                at += jobs[j]->rows->n_rows;
            }
            cairn_table_add_numeric(ctx, t, s->names[f], num);
            continue;
        }
        cn_map levels = CN_MAP_INIT;
        const char **lv = NULL;
        size_t n_lv = 0, cap = 0;
        for (size_t j = 0; j < n_jobs; j++) {
            const cairn_column *c = &jobs[j]->rows->cols[f];
            int32_t *remap = cn_xmalloc((c->n_levels ? c->n_levels : 1) * sizeof *remap);
            for (size_t l = 0; l < c->n_levels; l++) {
                size_t code;
                const char *text = c->levels[l];
                if (!cn_map_get(&levels, text, strlen(text), &code)) {
                    if (n_lv == cap) {
                        cap = cap ? 2 * cap : 16;
                        lv = cn_xrealloc(lv, cap * sizeof *lv);
                    }
                    code = n_lv;
                    lv[n_lv++] = text;
                    cn_map_put(&levels, text, strlen(text), code);
                }
                remap[l] = (int32_t)code;
            }
            for (size_t r = 0; r < jobs[j]->rows->n_rows; r++)
                cat[at++] = c->cat[r] >= 0 ? remap[c->cat[r]] : -1;
            free(remap);
        }
        cairn_table_add_categorical(ctx, t, s->names[f], cat, lv, n_lv);
        free(lv);
        cn_map_release(&levels);
    }
    free(num);
    free(cat);
    return t;
}

static void predict_batch(msv_batcher *b, cairn_ctx *ctx, msv_job **jobs, size_t n_jobs,
                          size_t n_rows)
{
    const msv_model *model = b->model;
    cairn_table *mine = NULL;
    const cairn_table *t = jobs[0]->rows;
    if (n_jobs > 1)
        t = mine = concat(ctx, &model->schema, jobs, n_jobs, n_rows);
    double *pred = cn_xmalloc((n_rows ? n_rows : 1) * sizeof *pred);
    cairn_status rc =
        n_rows ? cairn_model_predict(ctx, model->model, t, NULL, n_rows, pred) : CAIRN_OK;
    msv_metrics_batch(b->metrics, n_rows, n_jobs);
    if (rc == CAIRN_OK) {
        if (b->window && n_rows)
            msv_window_add(b->window, t, pred);
        size_t at = 0;
        for (size_t j = 0; j < n_jobs; j++) {
            size_t n = jobs[j]->rows->n_rows;
            answer(b, jobs[j], pred + at, 0, NULL);
            at += n;
        }
    } else {
        /* The decoders checked every value, so this is rare: predict each request alone so
         * that only the one at fault fails. */
        for (size_t j = 0; j < n_jobs; j++) {
            size_t n = jobs[j]->rows->n_rows;
            rc = cairn_model_predict(ctx, model->model, jobs[j]->rows, NULL, n, pred);
            if (rc == CAIRN_OK && b->window)
                msv_window_add(b->window, jobs[j]->rows, pred);
            answer(b, jobs[j], pred,
                   rc == CAIRN_OK       ? 0
                   : rc == CAIRN_EINVAL ? 400
                                        : 500,
                   cairn_errmsg(ctx));
        }
    }
    free(pred);
    cairn_table_free(mine);
}

static void *predict_thread(void *arg)
{
    msv_batcher *b = arg;
    cairn_ctx *ctx = cairn_ctx_new();
    size_t cap = 64;
    msv_job **jobs = cn_xmalloc(cap * sizeof *jobs);
    pthread_mutex_lock(&b->mu);
    for (;;) {
        while (!b->head && !b->stopping)
            pthread_cond_wait(&b->cv, &b->mu);
        if (!b->head && b->stopping)
            break;
        if (b->cfg.batch_delay_us > 0 && b->queued_rows < b->cfg.max_batch_rows && !b->stopping) {
            struct timespec until;
            clock_gettime(CLOCK_REALTIME, &until);
            long ns = until.tv_nsec + (long)b->cfg.batch_delay_us * 1000L;
            until.tv_sec += ns / 1000000000L;
            until.tv_nsec = ns % 1000000000L;
            while (b->queued_rows < b->cfg.max_batch_rows && !b->stopping)
                if (pthread_cond_timedwait(&b->cv, &b->mu, &until) == ETIMEDOUT)
                    break;
            if (!b->head)
                continue;
        }
        /* Take whole requests up to max_batch_rows (at least one). */
        size_t n_jobs = 0, n_rows = 0;
        while (b->head) {
            size_t n = b->head->rows->n_rows;
            if (n_jobs > 0 && n_rows + n > b->cfg.max_batch_rows)
                break;
            if (n_jobs == cap) {
                cap *= 2;
                jobs = cn_xrealloc(jobs, cap * sizeof *jobs);
            }
            msv_job *j = b->head;
            b->head = j->next;
            if (!b->head)
                b->tail = NULL;
            j->next = NULL;
            jobs[n_jobs++] = j;
            n_rows += n;
            b->queued_rows -= n;
        }
        pthread_mutex_unlock(&b->mu);
        atomic_fetch_add(&b->busy, 1);
        predict_batch(b, ctx, jobs, n_jobs, n_rows);
        atomic_fetch_sub(&b->busy, 1);
        pthread_mutex_lock(&b->mu);
    }
    pthread_mutex_unlock(&b->mu);
    free(jobs);
    cairn_close(ctx);
    return NULL;
}

msv_batcher *msv_batcher_start(const msv_config *cfg, const msv_model *model, msv_window *w,
                               msv_metrics *metrics)
{
    msv_batcher *b = cn_xcalloc(1, sizeof *b);
    b->cfg = *cfg;
    b->model = model;
    b->window = w;
    b->metrics = metrics;
    pthread_mutex_init(&b->mu, NULL);
    pthread_cond_init(&b->cv, NULL);
    int n = cfg->predict_threads > 0 ? cfg->predict_threads : 1;
    if (n > MAX_THREADS)
        n = MAX_THREADS;
    for (int i = 0; i < n; i++)
        if (pthread_create(&b->threads[b->n_threads], NULL, predict_thread, b) == 0)
            b->n_threads++;
    if (b->n_threads == 0) {
        pthread_mutex_destroy(&b->mu);
        pthread_cond_destroy(&b->cv);
        free(b);
        return NULL;
    }
    return b;
}

bool msv_batcher_try_inline(msv_batcher *b, cairn_ctx *ctx, msv_job *job, http_response *resp)
{
    int idle = 0;
    if (b->cfg.batch_delay_us > 0) /* asked to wait for company */
        return false;
    if (!atomic_compare_exchange_strong(&b->busy, &idle, 1))
        return false;
    size_t n = job->rows->n_rows;
    double *pred = cn_xmalloc((n ? n : 1) * sizeof *pred);
    cairn_status rc =
        n ? cairn_model_predict(ctx, b->model->model, job->rows, NULL, n, pred) : CAIRN_OK;
    atomic_fetch_sub(&b->busy, 1);
    msv_metrics_batch(b->metrics, n, 1);
    if (rc == CAIRN_OK) {
        if (b->window && n)
            msv_window_add(b->window, job->rows, pred);
        cn_buf_release(&resp->body);
        msv_encode_predictions(b->model, job, pred, n, &resp->body);
        resp->content_type = "application/json";
    } else {
        msv_error(resp, job->kind, rc == CAIRN_EINVAL ? 400 : 500, cairn_errmsg(ctx));
    }
    free(pred);
    cairn_table_free(job->rows);
    free(job->v2_id);
    free(job);
    return true;
}

void msv_batcher_submit(msv_batcher *b, msv_job *job)
{
    job->next = NULL;
    pthread_mutex_lock(&b->mu);
    if (b->tail)
        b->tail->next = job;
    else
        b->head = job;
    b->tail = job;
    b->queued_rows += job->rows->n_rows;
    pthread_cond_signal(&b->cv);
    pthread_mutex_unlock(&b->mu);
}

void msv_batcher_stop(msv_batcher *b)
{
    if (!b)
        return;
    pthread_mutex_lock(&b->mu);
    b->stopping = true;
    pthread_cond_broadcast(&b->cv);
    pthread_mutex_unlock(&b->mu);
    for (int i = 0; i < b->n_threads; i++)
        pthread_join(b->threads[i], NULL);
    pthread_mutex_destroy(&b->mu);
    pthread_cond_destroy(&b->cv);
    free(b);
}
