/* SPDX-License-Identifier: MIT */
/* monitor.c - live drift monitoring. The window is a ring of the last N rows served (features
 * and prediction): a predicting thread reserves slots with one atomic add and writes them
 * under a per-slot sequence stamp, so it never waits on a lock; the monitor thread copies the
 * slots whose stamp did not move while it read them. Categories are interned once per value
 * in a lock-free table per feature. Every interval the monitor compares the window with the
 * model's reference profile (cairn_drift_compare), publishes the scores for GET /metrics and
 * records them as metrics of the monitoring run, on its own thread: a slow store delays only
 * the next check, never a request. */
#include <math.h>
#include <stdio.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "serving/msv.h"
#include "base/map.h"
#include "base/str.h"
#include "base/time.h"
#include "base/xmalloc.h"
#include "base/banned.h"

#define INTERN_CAP 4096 /* distinct values kept per categorical feature; more count as missing */

typedef struct intern {
    _Atomic(char *) slots[INTERN_CAP];
    atomic_size_t n;
} intern;

struct msv_window {
    const msv_schema *s;
    size_t cap;                  /* rows */
    size_t n_cols;               /* features, then the prediction */
    atomic_uint_fast64_t *vals;  /* cap x n_cols doubles' bits */
    atomic_uint_fast64_t *stamp; /* per slot: 2 seq + 1 while written, 2 seq + 2 when done */
    atomic_uint_fast64_t next;   /* rows ever reserved */
    intern **interns;            /* per feature; NULL for numeric ones */
};

static uint64_t bits(double v)
{
    uint64_t u;
    memcpy(&u, &v, sizeof u);
    return u;
}

static double from_bits(uint64_t u)
{
    double v;
    memcpy(&v, &u, sizeof v);
    return v;
}

msv_window *msv_window_new(const msv_schema *s, size_t rows)
{
    msv_window *w = cn_xcalloc(1, sizeof *w);
    w->s = s;
    w->cap = rows ? rows : 1;
    w->n_cols = s->n_features + 1;
    w->vals = cn_xcalloc(w->cap * w->n_cols, sizeof *w->vals);
    w->stamp = cn_xcalloc(w->cap, sizeof *w->stamp);
    w->interns = cn_xcalloc(s->n_features ? s->n_features : 1, sizeof *w->interns);
    for (size_t f = 0; f < s->n_features; f++)
        if (s->types[f] == CAIRN_COL_CATEGORICAL)
            w->interns[f] = cn_xcalloc(1, sizeof(intern));
    return w;
}

void msv_window_free(msv_window *w)
{
    if (!w)
        return;
    for (size_t f = 0; f < w->s->n_features; f++) {
        if (!w->interns[f])
            continue;
        for (size_t i = 0; i < INTERN_CAP; i++)
            free(atomic_load(&w->interns[f]->slots[i]));
        free(w->interns[f]);
    }
    free(w->interns);
    free(w->vals);
    free(w->stamp);
    free(w);
}

uint64_t msv_window_total(const msv_window *w)
{
    return atomic_load(&((msv_window *)w)->next);
}

/* The value's slot in the table (its code), or -1 when the table is full. */
static int32_t intern_code(intern *in, const char *text)
{
    uint64_t h = 1469598103934665603ull;
    for (const char *p = text; *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ull;
    for (size_t i = 0; i < INTERN_CAP; i++) {
        size_t at = (size_t)(h + i) & (INTERN_CAP - 1);
        char *cur = atomic_load(&in->slots[at]);
        if (!cur) {
            if (atomic_load(&in->n) >= INTERN_CAP * 3 / 4)
                return -1;
            char *mine = cn_xstrdup(text);
            char *expected = NULL;
            if (atomic_compare_exchange_strong(&in->slots[at], &expected, mine)) {
                atomic_fetch_add(&in->n, 1);
                return (int32_t)at;
            }
            free(mine);
            cur = expected; /* another thread took the slot meanwhile */
        }
        if (strcmp(cur, text) == 0)
            return (int32_t)at;
    }
    return -1;
}

void msv_window_add(msv_window *w, const cairn_table *t, const double *pred)
{
    size_t n = t->n_rows, nf = w->s->n_features;
    if (n == 0 || t->n_cols < nf)
        return;
    int32_t **remap = cn_xcalloc(nf ? nf : 1, sizeof *remap);
    for (size_t f = 0; f < nf; f++) {
        const cairn_column *c = &t->cols[f];
        if (c->type != CAIRN_COL_CATEGORICAL || !w->interns[f])
            continue;
        remap[f] = cn_xmalloc((c->n_levels ? c->n_levels : 1) * sizeof **remap);
        for (size_t l = 0; l < c->n_levels; l++)
            remap[f][l] = intern_code(w->interns[f], c->levels[l]);
    }
    /* Only the last cap rows of a large batch would survive: skip the rest. */
    size_t from = n > w->cap ? n - w->cap : 0;
    uint64_t base = atomic_fetch_add(&w->next, (uint64_t)(n - from));
    for (size_t r = from; r < n; r++) {
        uint64_t seq = base + (r - from);
        size_t slot = (size_t)(seq % w->cap);
        /* The seqlock writer: odd stamp, then a release fence so no value store is seen
         * before it (no full barrier per row), the values, then the even stamp. */
        atomic_store_explicit(&w->stamp[slot], 2 * seq + 1, memory_order_relaxed);
        atomic_thread_fence(memory_order_release);
        atomic_uint_fast64_t *row = w->vals + slot * w->n_cols;
        for (size_t f = 0; f < nf; f++) {
            const cairn_column *c = &t->cols[f];
            /* A column of another type than the schema's (a shadow version with other
             * features) counts as missing. */
            double v = c->type != w->s->types[f]
                           ? (w->s->types[f] == CAIRN_COL_NUMERIC ? NAN : -1.0)
                       : c->type == CAIRN_COL_NUMERIC ? c->num[r]
                       : c->cat[r] >= 0               ? (double)remap[f][c->cat[r]]
                                                      : -1.0;
            atomic_store_explicit(&row[f], bits(v), memory_order_relaxed);
        }
        atomic_store_explicit(&row[nf], bits(pred[r]), memory_order_relaxed);
        atomic_store_explicit(&w->stamp[slot], 2 * seq + 2, memory_order_release);
    }
    for (size_t f = 0; f < nf; f++)
        free(remap[f]);
    free(remap);
}

/* A table of the window's rows (the features; categorical codes mapped back to text) and,
 * when with_pred, their predictions as the column "prediction" (class labels for a
 * classifier), or NULL when fewer than min_rows could be read. */
static cairn_table *window_table(msv_window *w, cairn_ctx *ctx, size_t min_rows,
                                 const msv_model *model, bool with_pred)
{
    size_t nf = w->s->n_features;
    uint64_t total = atomic_load(&w->next);
    uint64_t start = total > w->cap ? total - w->cap : 0;
    size_t want = (size_t)(total - start), n = 0;
    double *vals = cn_xmalloc((want ? want : 1) * w->n_cols * sizeof *vals);
    for (uint64_t seq = start; seq < total; seq++) {
        size_t slot = (size_t)(seq % w->cap);
        uint64_t s1 = atomic_load_explicit(&w->stamp[slot], memory_order_acquire);
        if (s1 != 2 * seq + 2)
            continue; /* still being written, or already overwritten */
        atomic_uint_fast64_t *row = w->vals + slot * w->n_cols;
        for (size_t f = 0; f < w->n_cols; f++)
            vals[n * w->n_cols + f] =
                from_bits(atomic_load_explicit(&row[f], memory_order_relaxed));
        atomic_thread_fence(memory_order_acquire);
        if (atomic_load_explicit(&w->stamp[slot], memory_order_relaxed) != s1)
            continue;
        n++;
    }
    if (n < min_rows || n == 0) {
        free(vals);
        return NULL;
    }
    cairn_table *t = cairn_table_new(n);
    double *num = cn_xmalloc(n * sizeof *num);
    int32_t *cat = cn_xmalloc(n * sizeof *cat);
    for (size_t f = 0; f < nf; f++) {
        if (w->s->types[f] == CAIRN_COL_NUMERIC) {
            for (size_t r = 0; r < n; r++)
                num[r] = vals[r * w->n_cols + f];
            cairn_table_add_numeric(ctx, t, w->s->names[f], num);
            continue;
        }
        /* Compact the interned codes into levels of this table. */
        int32_t *local = cn_xmalloc(INTERN_CAP * sizeof *local);
        const char **levels = cn_xmalloc(INTERN_CAP * sizeof *levels);
        size_t n_levels = 0;
        for (size_t i = 0; i < INTERN_CAP; i++)
            local[i] = -1;
        for (size_t r = 0; r < n; r++) {
            double v = vals[r * w->n_cols + f];
            int32_t code = v >= 0 && v < INTERN_CAP ? (int32_t)v : -1;
            if (code >= 0 && local[code] < 0) {
                local[code] = (int32_t)n_levels;
                levels[n_levels++] = atomic_load(&w->interns[f]->slots[code]);
            }
            cat[r] = code >= 0 ? local[code] : -1;
        }
        cairn_table_add_categorical(ctx, t, w->s->names[f], cat, levels, n_levels);
        free(local);
        free(levels);
    }
    if (with_pred && model->n_classes == 0) {
        for (size_t r = 0; r < n; r++)
            num[r] = vals[r * w->n_cols + nf];
        cairn_table_add_numeric(ctx, t, "prediction", num);
    } else if (with_pred) {
        size_t k = model->n_classes;
        const char **levels = cn_xmalloc(k * sizeof *levels);
        for (size_t i = 0; i < k; i++)
            levels[i] = cairn_model_class_label(model->model, i);
        for (size_t r = 0; r < n; r++) {
            double v = vals[r * w->n_cols + nf];
            cat[r] = isfinite(v) && v >= 0 && v < (double)k ? (int32_t)v : -1;
        }
        cairn_table_add_categorical(ctx, t, "prediction", cat, levels, k);
        free(levels);
    }
    free(num);
    free(cat);
    free(vals);
    return t;
}

/* ---- the monitor thread ---- */

/* The monitors of every served version share the monitoring run, which takes one thread at
 * a time. */
static pthread_mutex_t run_mu = PTHREAD_MUTEX_INITIALIZER;

struct msv_monitor {
    msv_config cfg;
    msv_model *model;
    msv_window *window;
    msv_metrics *metrics;
    cairn_run *run;
    char *key_prefix; /* of the metric keys: "drift." or "drift.v4." */
    cairn_ctx *ctx;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool stop;
    uint64_t last_total;
    int64_t checks;
};

static void log_line(const char *level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void log_line(const char *level, const char *fmt, ...)
{
    char when[32];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
    va_list ap;
    va_start(ap, fmt);
    cn_buf b = CN_BUF_INIT;
    cn_buf_vprintf(&b, fmt, ap);
    va_end(ap);
    fprintf(stderr, "%s %s serve %s\n", when, level, cn_buf_str(&b));
    cn_buf_release(&b);
}

/* A metric key from a feature name: characters MLflow refuses become '_'. */
static void metric_key(cn_buf *out, const char *prefix, const char *name)
{
    cn_buf_clear(out);
    cn_buf_puts(out, prefix);
    for (const unsigned char *p = (const unsigned char *)name; *p && out->len < 200; p++) {
        bool ok = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                  (*p >= '0' && *p <= '9') || *p == '_' || *p == '-' || *p == '.' || *p == ' ';
        cn_buf_putc(out, ok ? (char)*p : '_');
    }
}

static void prom_double(cn_buf *out, double v)
{
    if (isnan(v))
        cn_buf_puts(out, "NaN");
    else if (isinf(v))
        cn_buf_puts(out, v > 0 ? "+Inf" : "-Inf");
    else {
        char text[32];
        cn_format_double_short(v, text, sizeof text);
        cn_buf_puts(out, text);
    }
}

static void prom_labels(cn_buf *out, const msv_model *model, const cairn_drift_feature *f)
{
    cn_buf_puts(out, "{model=\"");
    msv_metrics_label(out, model->name);
    cn_buf_puts(out, "\",version=\"");
    msv_metrics_label(out, model->version);
    cn_buf_putc(out, '"');
    if (f) {
        cn_buf_puts(out, ",feature=\"");
        msv_metrics_label(out, f->name);
        cn_buf_printf(out, "\",test=\"%s\"", cairn_drift_test_name(f->test));
    }
    cn_buf_puts(out, "} ");
}

static char *drift_text(const msv_monitor *m, const cairn_drift_report *r, size_t rows,
                        double check_s, double check_cpu_s)
{
    cn_buf b = CN_BUF_INIT;
    static const struct {
        const char *name, *help;
        int what;
    } per_feature[] = {
        {"cairn_serve_drift_score",
         "What the drift test compares with its threshold (a "
         "p-value or a distance), per feature and the prediction.",
         0},
        {"cairn_serve_drift_statistic", "The drift test's statistic, per feature.", 1},
        {"cairn_serve_drift_threshold", "The drift test's threshold, per feature.", 2},
        {"cairn_serve_drift_feature_drifted", "1 when the feature drifted at the last check.", 3},
    };
    for (size_t k = 0; k < sizeof per_feature / sizeof per_feature[0]; k++) {
        cn_buf_printf(&b, "# HELP %s %s\n# TYPE %s gauge\n", per_feature[k].name,
                      per_feature[k].help, per_feature[k].name);
        for (size_t i = 0; i < r->n_features; i++) {
            const cairn_drift_feature *f = &r->features[i];
            cn_buf_puts(&b, per_feature[k].name);
            prom_labels(&b, m->model, f);
            double v = per_feature[k].what == 0   ? f->score
                       : per_feature[k].what == 1 ? f->statistic
                       : per_feature[k].what == 2 ? f->threshold
                                                  : (f->drifted ? 1.0 : 0.0);
            prom_double(&b, v);
            cn_buf_putc(&b, '\n');
        }
    }
    struct {
        const char *name, *help;
        double v;
    } whole[] = {
        {"cairn_serve_drift_share", "Share of the features that drifted at the last check.",
         r->share},
        {"cairn_serve_drift_detected",
         "1 when the last check found dataset drift (the share of drifted features reached the "
         "drift share).",
         r->dataset_drift ? 1.0 : 0.0},
        {"cairn_serve_prediction_drift_detected",
         "1 when the predictions drifted at the last check (NaN: not compared).",
         r->has_prediction ? (r->prediction_drift ? 1.0 : 0.0) : NAN},
        {"cairn_serve_drift_window_rows", "Rows the last check compared with the reference.",
         (double)rows},
        {"cairn_serve_drift_last_check_timestamp_seconds", "When the last check ran (Unix time).",
         (double)cn_now_ms() / 1000.0},
        {"cairn_serve_drift_check_seconds",
         "How long the last check took (copying the window and comparing it), wall clock.",
         check_s},
        {"cairn_serve_drift_check_cpu_seconds",
         "The CPU time of the last check (its thread runs at the lowest priority, so on a busy "
         "machine the wall clock is longer).",
         check_cpu_s},
        {"cairn_serve_monitoring_enabled", "1 when drift monitoring is on.", 1.0},
    };
    for (size_t k = 0; k < sizeof whole / sizeof whole[0]; k++) {
        cn_buf_printf(&b, "# HELP %s %s\n# TYPE %s gauge\n%s", whole[k].name, whole[k].help,
                      whole[k].name, whole[k].name);
        prom_labels(&b, m->model, NULL);
        prom_double(&b, whole[k].v);
        cn_buf_putc(&b, '\n');
    }
    cn_buf_printf(&b,
                  "# HELP cairn_serve_drift_checks_total Drift checks run.\n"
                  "# TYPE cairn_serve_drift_checks_total counter\ncairn_serve_drift_checks_total");
    prom_labels(&b, m->model, NULL);
    cn_buf_printf(&b, "%lld\n", (long long)m->checks);
    return cn_buf_detach(&b);
}

static void record(msv_monitor *m, const cairn_drift_report *r, size_t rows)
{
    if (!m->run)
        return;
    size_t cap = 8 + 3 * r->n_features, n = 0;
    cairn_metric *pts = cn_xcalloc(cap, sizeof *pts);
    char **keys = cn_xcalloc(cap, sizeof *keys);
    cn_buf key = CN_BUF_INIT;
#define PUT(k, v)                                                                                  \
    do {                                                                                           \
        keys[n] = cn_xstrdup(k);                                                                   \
        pts[n].key = keys[n];                                                                      \
        pts[n].value = (v);                                                                        \
        pts[n].step = m->checks;                                                                   \
        n++;                                                                                       \
    } while (0)
    static const char *const whole[] = {"share", "dataset_drift", "n_drifted", "window_rows",
                                        "prediction_drift"};
    double whole_v[] = {r->share, r->dataset_drift ? 1.0 : 0.0, (double)r->n_drifted, (double)rows,
                        r->prediction_drift ? 1.0 : 0.0};
    for (size_t k = 0; k < (r->has_prediction ? 5u : 4u); k++) {
        cn_buf_clear(&key);
        cn_buf_printf(&key, "%s%s", m->key_prefix, whole[k]);
        PUT(cn_buf_str(&key), whole_v[k]);
    }
    cn_buf prefix = CN_BUF_INIT;
    for (size_t i = 0; i < r->n_features; i++) {
        const cairn_drift_feature *f = &r->features[i];
        cn_buf_clear(&prefix);
        cn_buf_printf(&prefix, "%sscore.", m->key_prefix);
        metric_key(&key, cn_buf_str(&prefix), f->name);
        PUT(cn_buf_str(&key), f->score);
        cn_buf_clear(&prefix);
        cn_buf_printf(&prefix, "%sdrifted.", m->key_prefix);
        metric_key(&key, cn_buf_str(&prefix), f->name);
        PUT(cn_buf_str(&key), f->drifted ? 1.0 : 0.0);
        cn_buf_clear(&prefix);
        cn_buf_printf(&prefix, "%sthreshold.", m->key_prefix);
        metric_key(&key, cn_buf_str(&prefix), f->name);
        PUT(cn_buf_str(&key), f->threshold);
    }
    cn_buf_release(&prefix);
#undef PUT
    pthread_mutex_lock(&run_mu);
    if (cairn_run_log_metrics(m->run, pts, n) != CAIRN_OK)
        log_line("warn", "drift scores not recorded: %s", cairn_errmsg(cairn_run_ctx(m->run)));
    pthread_mutex_unlock(&run_mu);
    for (size_t i = 0; i < n; i++)
        free(keys[i]);
    free(keys);
    free(pts);
    cn_buf_release(&key);
}

static double thread_cpu_s(void)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) != 0)
        return NAN;
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void check(msv_monitor *m)
{
    uint64_t total = msv_window_total(m->window);
    if (total == m->last_total)
        return; /* nothing new since the last check */
    size_t min_rows = m->cfg.min_rows ? m->cfg.min_rows : 50;
    int64_t t0 = cn_mono_ns();
    double cpu0 = thread_cpu_s();
    bool with_pred = cairn_drift_reference_has_prediction(m->model->ref);
    cairn_table *t = window_table(m->window, m->ctx, min_rows, m->model, with_pred);
    if (!t)
        return;
    m->last_total = total;
    cairn_drift_opts o = CAIRN_DRIFT_OPTS_INIT;
    /* The predictions the server made, not the model run again over the window; KS p-values
     * asymptotic (SciPy's 'asymp'): the exact distribution costs n_ref x n_window per
     * feature, which a live check every minute cannot afford (docs/serving.md). */
    o.predictions_in_cur = with_pred;
    o.ks_method = CAIRN_KS_ASYMP;
    cairn_drift_report *r = NULL;
    if (cairn_drift_compare(m->ctx, m->model->ref, t, &o, &r) != CAIRN_OK) {
        log_line("warn", "drift check failed: %s", cairn_errmsg(m->ctx));
    } else {
        m->checks++;
        double check_s = (double)(cn_mono_ns() - t0) / 1e9;
        double check_cpu_s = thread_cpu_s() - cpu0;
        msv_metrics_set_drift(m->metrics, m, drift_text(m, r, t->n_rows, check_s, check_cpu_s));
        record(m, r, t->n_rows);
        if (r->dataset_drift || r->prediction_drift)
            log_line("warn", "drift: %zu of %zu features drifted over the last %zu rows%s",
                     r->n_drifted, r->n_tested, t->n_rows,
                     r->prediction_drift ? ", and the predictions" : "");
    }
    cairn_drift_report_free(r);
    cairn_table_free(t);
}

static void *monitor_thread(void *arg)
{
    msv_monitor *m = arg;
#ifdef SYS_gettid
    /* The checks yield to requests: the lowest priority for this thread alone (Linux). */
    setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), 19);
#endif
    double interval = m->cfg.monitor_interval > 0 ? m->cfg.monitor_interval : 60;
    pthread_mutex_lock(&m->mu);
    while (!m->stop) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        double secs = floor(interval);
        long ns = until.tv_nsec + (long)((interval - secs) * 1e9);
        until.tv_sec += (time_t)secs + ns / 1000000000L;
        until.tv_nsec = ns % 1000000000L;
        while (!m->stop)
            if (pthread_cond_timedwait(&m->cv, &m->mu, &until) != 0)
                break;
        pthread_mutex_unlock(&m->mu);
        check(m);
        pthread_mutex_lock(&m->mu);
    }
    pthread_mutex_unlock(&m->mu);
    return NULL;
}

msv_monitor *msv_monitor_start(const msv_config *cfg, msv_model *model, msv_window *w,
                               msv_metrics *metrics, cairn_run *run, const char *key_prefix)
{
    msv_monitor *m = cn_xcalloc(1, sizeof *m);
    m->cfg = *cfg;
    m->model = model;
    m->window = w;
    m->metrics = metrics;
    m->run = run;
    m->key_prefix = cn_xstrdup(key_prefix ? key_prefix : "drift.");
    m->ctx = cairn_ctx_new();
    pthread_mutex_init(&m->mu, NULL);
    pthread_cond_init(&m->cv, NULL);
    cn_buf b = CN_BUF_INIT;
    cn_buf_puts(&b, "# HELP cairn_serve_monitoring_enabled 1 when drift monitoring is on.\n"
                    "# TYPE cairn_serve_monitoring_enabled gauge\ncairn_serve_monitoring_enabled");
    prom_labels(&b, model, NULL);
    cn_buf_puts(&b, "1\n");
    msv_metrics_set_drift(metrics, m, cn_buf_detach(&b));
    if (pthread_create(&m->thread, NULL, monitor_thread, m) != 0) {
        msv_metrics_set_drift(metrics, m, NULL);
        pthread_mutex_destroy(&m->mu);
        pthread_cond_destroy(&m->cv);
        cairn_close(m->ctx);
        free(m->key_prefix);
        free(m);
        return NULL;
    }
    return m;
}

void msv_monitor_stop(msv_monitor *m)
{
    if (!m)
        return;
    pthread_mutex_lock(&m->mu);
    m->stop = true;
    pthread_cond_signal(&m->cv);
    pthread_mutex_unlock(&m->mu);
    pthread_join(m->thread, NULL);
    check(m); /* the rows since the last check */
    msv_metrics_set_drift(m->metrics, m, NULL);
    pthread_mutex_destroy(&m->mu);
    pthread_cond_destroy(&m->cv);
    cairn_close(m->ctx);
    free(m->key_prefix);
    free(m);
}
