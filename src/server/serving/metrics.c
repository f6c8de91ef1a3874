/* SPDX-License-Identifier: MIT */
/* metrics.c - the counters behind GET /metrics (Prometheus text format 0.0.4): requests by
 * route, model version and status code, latency histograms per route, batch sizes, requests in
 * flight, the model's load time, and the drift lines the last check wrote. Request threads
 * only add to atomic counters. */
#include <stdlib.h>
#include <string.h>
#include "serving/msv.h"
#include "base/xmalloc.h"
#include "base/banned.h"

static const char *const route_names[MSV_R_COUNT] = {"invocations", "v2_infer",    "ping",
                                                     "health",      "version",     "metrics",
                                                     "v2_health",   "v2_metadata", "other"};
static const int codes[MSV_N_CODES] = {200, 400, 404, 405, 413, 415, 429, 500, 503, 0};
/* Seconds; the last bucket is +Inf. */
static const double lat_le[MSV_N_LAT_BUCKETS - 1] = {
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5};
static const double batch_le[MSV_N_BATCH_BUCKETS - 1] = {1,   2,   4,    8,    16,    32,   64,
                                                         128, 256, 1024, 4096, 16384, 65536};

void msv_metrics_init(msv_metrics *m)
{
    memset(m, 0, sizeof *m);
    pthread_mutex_init(&m->drift_mu, NULL);
}

void msv_metrics_release(msv_metrics *m)
{
    pthread_mutex_destroy(&m->drift_mu);
    for (size_t i = 0; i < m->n_drift; i++)
        free(m->drift_text[i]);
    free(m->drift_text);
    free(m->drift_owner);
    m->drift_text = NULL;
    m->drift_owner = NULL;
    m->n_drift = 0;
}

void msv_metrics_request(msv_metrics *m, msv_route r, int status, int64_t ns)
{
    if ((int)r < 0 || r >= MSV_R_COUNT)
        r = MSV_R_OTHER;
    int ci = MSV_N_CODES - 1;
    for (int i = 0; i < MSV_N_CODES - 1; i++)
        if (codes[i] == status)
            ci = i;
    atomic_fetch_add(&m->requests[r][ci], 1);
    double s = (double)ns / 1e9;
    int b = MSV_N_LAT_BUCKETS - 1;
    for (int i = 0; i < MSV_N_LAT_BUCKETS - 1; i++)
        if (s <= lat_le[i]) {
            b = i;
            break;
        }
    atomic_fetch_add(&m->lat_bucket[r][b], 1);
    atomic_fetch_add(&m->lat_count[r], 1);
    atomic_fetch_add(&m->lat_sum_ns[r], (uint64_t)(ns > 0 ? ns : 0));
}

void msv_metrics_batch(msv_metrics *m, size_t rows, size_t requests)
{
    int b = MSV_N_BATCH_BUCKETS - 1;
    for (int i = 0; i < MSV_N_BATCH_BUCKETS - 1; i++)
        if ((double)rows <= batch_le[i]) {
            b = i;
            break;
        }
    atomic_fetch_add(&m->batch_bucket[b], 1);
    atomic_fetch_add(&m->batch_count, 1);
    atomic_fetch_add(&m->batch_rows, rows);
    atomic_fetch_add(&m->batch_requests, requests);
}

void msv_metrics_set_drift(msv_metrics *m, const void *owner, char *text)
{
    char *old = NULL;
    pthread_mutex_lock(&m->drift_mu);
    size_t i = 0;
    while (i < m->n_drift && m->drift_owner[i] != owner)
        i++;
    if (i < m->n_drift) {
        old = m->drift_text[i];
        if (text) {
            m->drift_text[i] = text;
        } else {
            m->n_drift--;
            memmove(m->drift_owner + i, m->drift_owner + i + 1,
                    (m->n_drift - i) * sizeof *m->drift_owner);
            memmove(m->drift_text + i, m->drift_text + i + 1,
                    (m->n_drift - i) * sizeof *m->drift_text);
        }
    } else if (text) {
        m->drift_owner = cn_xrealloc(m->drift_owner, (m->n_drift + 1) * sizeof *m->drift_owner);
        m->drift_text = cn_xrealloc(m->drift_text, (m->n_drift + 1) * sizeof *m->drift_text);
        m->drift_owner[m->n_drift] = owner;
        m->drift_text[m->n_drift++] = text;
    }
    pthread_mutex_unlock(&m->drift_mu);
    free(old);
}

/* The family a line of drift text belongs to: the metric name of "# HELP NAME ...",
 * "# TYPE NAME ..." or "NAME{...} v". */
static size_t family_of(const char *line, size_t len, const char **name)
{
    const char *p = line, *end = line + len;
    if (len > 7 && (memcmp(p, "# HELP ", 7) == 0 || memcmp(p, "# TYPE ", 7) == 0))
        p += 7;
    const char *q = p;
    while (q < end && *q != ' ' && *q != '{')
        q++;
    *name = p;
    return (size_t)(q - p);
}

/* Every owner's drift text, one block per family: HELP and TYPE once, then the samples of
 * each owner in turn (Prometheus wants a family's samples together). */
static void render_drift(msv_metrics *m, cn_buf *out)
{
    if (m->n_drift == 1) {
        cn_buf_puts(out, m->drift_text[0]);
        return;
    }
    /* Families in order of first appearance. */
    const char **fam = NULL;
    size_t *fam_len = NULL, n_fam = 0, cap = 0;
    for (size_t o = 0; o < m->n_drift; o++) {
        for (const char *line = m->drift_text[o]; *line;) {
            const char *nl = strchr(line, '\n');
            size_t len = nl ? (size_t)(nl - line) : strlen(line);
            const char *name;
            size_t nlen = family_of(line, len, &name);
            bool seen = false;
            for (size_t f = 0; f < n_fam && !seen; f++)
                seen = fam_len[f] == nlen && memcmp(fam[f], name, nlen) == 0;
            if (!seen && nlen) {
                if (n_fam == cap) {
                    cap = cap ? 2 * cap : 32;
                    fam = cn_xrealloc(fam, cap * sizeof *fam);
                    fam_len = cn_xrealloc(fam_len, cap * sizeof *fam_len);
                }
                fam[n_fam] = name;
                fam_len[n_fam++] = nlen;
            }
            line += len + (nl != NULL);
        }
    }
    for (size_t f = 0; f < n_fam; f++) {
        bool help = false, type = false; /* given once, by the first owner with them */
        for (size_t o = 0; o < m->n_drift; o++) {
            for (const char *line = m->drift_text[o]; *line;) {
                const char *nl = strchr(line, '\n');
                size_t len = nl ? (size_t)(nl - line) : strlen(line);
                const char *name;
                size_t nlen = family_of(line, len, &name);
                bool *once = line[0] != '#' ? NULL : line[2] == 'H' ? &help : &type;
                if (nlen == fam_len[f] && memcmp(name, fam[f], nlen) == 0 && (!once || !*once)) {
                    cn_buf_append(out, line, len);
                    cn_buf_putc(out, '\n');
                    if (once)
                        *once = true;
                }
                line += len + (nl != NULL);
            }
        }
    }
    free(fam);
    free(fam_len);
}

void msv_metrics_label(cn_buf *out, const char *s)
{
    for (; *s; s++) {
        if (*s == '\\')
            cn_buf_puts(out, "\\\\");
        else if (*s == '"')
            cn_buf_puts(out, "\\\"");
        else if (*s == '\n')
            cn_buf_puts(out, "\\n");
        else
            cn_buf_putc(out, *s);
    }
}

static void labels(cn_buf *out, const msv_model *model, const char *route)
{
    cn_buf_puts(out, "{model=\"");
    msv_metrics_label(out, model->name);
    cn_buf_puts(out, "\",version=\"");
    msv_metrics_label(out, model->version);
    cn_buf_putc(out, '"');
    if (route)
        cn_buf_printf(out, ",route=\"%s\"", route);
}

void msv_metrics_render(msv_metrics *m, const msv_model *model, int in_flight, cn_buf *out)
{
    cn_buf_puts(out, "# HELP cairn_serve_requests_total Requests answered, by route and status "
                     "code.\n# TYPE cairn_serve_requests_total counter\n");
    cn_buf errors = CN_BUF_INIT;
    cn_buf_puts(&errors, "# HELP cairn_serve_errors_total Requests answered with a 4xx or 5xx "
                         "status, by route.\n# TYPE cairn_serve_errors_total counter\n");
    for (int r = 0; r < MSV_R_COUNT; r++) {
        uint64_t errs = 0;
        for (int c = 0; c < MSV_N_CODES; c++) {
            uint64_t n = atomic_load(&m->requests[r][c]);
            if (codes[c] != 200)
                errs += n;
            if (!n && !(codes[c] == 200 && r <= MSV_R_V2_INFER))
                continue;
            cn_buf_puts(out, "cairn_serve_requests_total");
            labels(out, model, route_names[r]);
            if (codes[c])
                cn_buf_printf(out, ",code=\"%d\"} %llu\n", codes[c], (unsigned long long)n);
            else
                cn_buf_printf(out, ",code=\"other\"} %llu\n", (unsigned long long)n);
        }
        if (errs || r <= MSV_R_V2_INFER) {
            cn_buf_puts(&errors, "cairn_serve_errors_total");
            labels(&errors, model, route_names[r]);
            cn_buf_printf(&errors, "} %llu\n", (unsigned long long)errs);
        }
    }
    cn_buf_append(out, errors.data, errors.len);
    cn_buf_release(&errors);

    cn_buf_puts(out, "# HELP cairn_serve_request_duration_seconds Time from the request's first "
                     "byte to its answer, by route.\n# TYPE cairn_serve_request_duration_seconds "
                     "histogram\n");
    for (int r = 0; r < MSV_R_COUNT; r++) {
        uint64_t count = atomic_load(&m->lat_count[r]);
        if (!count && r > MSV_R_V2_INFER)
            continue;
        uint64_t cum = 0;
        for (int b = 0; b < MSV_N_LAT_BUCKETS; b++) {
            cum += atomic_load(&m->lat_bucket[r][b]);
            cn_buf_puts(out, "cairn_serve_request_duration_seconds_bucket");
            labels(out, model, route_names[r]);
            if (b < MSV_N_LAT_BUCKETS - 1)
                cn_buf_printf(out, ",le=\"%g\"} %llu\n", lat_le[b], (unsigned long long)cum);
            else
                cn_buf_printf(out, ",le=\"+Inf\"} %llu\n", (unsigned long long)cum);
        }
        cn_buf_puts(out, "cairn_serve_request_duration_seconds_sum");
        labels(out, model, route_names[r]);
        cn_buf_printf(out, "} %.9f\n", (double)atomic_load(&m->lat_sum_ns[r]) / 1e9);
        cn_buf_puts(out, "cairn_serve_request_duration_seconds_count");
        labels(out, model, route_names[r]);
        cn_buf_printf(out, "} %llu\n", (unsigned long long)count);
    }

    cn_buf_puts(out, "# HELP cairn_serve_batch_rows Rows per prediction batch (requests "
                     "batched together).\n# TYPE cairn_serve_batch_rows histogram\n");
    uint64_t cum = 0;
    for (int b = 0; b < MSV_N_BATCH_BUCKETS; b++) {
        cum += atomic_load(&m->batch_bucket[b]);
        cn_buf_puts(out, "cairn_serve_batch_rows_bucket");
        labels(out, model, NULL);
        if (b < MSV_N_BATCH_BUCKETS - 1)
            cn_buf_printf(out, ",le=\"%g\"} %llu\n", batch_le[b], (unsigned long long)cum);
        else
            cn_buf_printf(out, ",le=\"+Inf\"} %llu\n", (unsigned long long)cum);
    }
    cn_buf_puts(out, "cairn_serve_batch_rows_sum");
    labels(out, model, NULL);
    cn_buf_printf(out, "} %llu\n", (unsigned long long)atomic_load(&m->batch_rows));
    cn_buf_puts(out, "cairn_serve_batch_rows_count");
    labels(out, model, NULL);
    cn_buf_printf(out, "} %llu\n", (unsigned long long)atomic_load(&m->batch_count));

    cn_buf_puts(out, "# HELP cairn_serve_batched_requests_total Requests predicted in "
                     "batches.\n# TYPE cairn_serve_batched_requests_total counter\n"
                     "cairn_serve_batched_requests_total");
    labels(out, model, NULL);
    cn_buf_printf(out, "} %llu\n", (unsigned long long)atomic_load(&m->batch_requests));

    cn_buf_puts(out, "# HELP cairn_serve_in_flight_requests Requests being handled now.\n"
                     "# TYPE cairn_serve_in_flight_requests gauge\ncairn_serve_in_flight_requests");
    labels(out, model, NULL);
    cn_buf_printf(out, "} %d\n", in_flight);

    cn_buf_puts(out, "# HELP cairn_serve_model_load_seconds Time to resolve and load the model.\n"
                     "# TYPE cairn_serve_model_load_seconds gauge\ncairn_serve_model_load_seconds");
    labels(out, model, NULL);
    cn_buf_printf(out, "} %.6f\n", model->load_s);

    pthread_mutex_lock(&m->drift_mu);
    render_drift(m, out);
    pthread_mutex_unlock(&m->drift_mu);
}
