/* SPDX-License-Identifier: MIT */
/* downsample.c - long metric series cut down for a chart without losing their shape: the x
 * range is split into buckets of equal width and each bucket keeps its first, last, lowest and
 * highest point (M4: Jugel et al., VLDB 2014). A line drawn through those points covers the
 * same pixels as the whole series at a width of max_points / 4 pixels, and a one-point spike
 * is never averaged away, as it would be by taking every k-th point or by averaging. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "core/core.h"
#include "store/store_ops.h"
#include "base/arena.h"
#include "base/xmalloc.h"
#include "base/banned.h"

/* A page of the history read at once: the store's largest page. */
#define READ_PAGE 1000000

static double x_of(const cairn_metric *m, cairn_series_x x)
{
    return x == CAIRN_SERIES_X_TIME ? (double)m->timestamp_ms : (double)m->step;
}

/* The bucket folding both entry points share: points arrive in x order and each bucket
 * keeps its first, last, lowest and highest (by the points' arrival numbers). */
typedef struct bucket {
    size_t first, last, lo, hi; /* arrival numbers */
    bool used, has_value;
    cairn_metric p_first, p_last, p_lo, p_hi;
} bucket;

typedef struct folder {
    cairn_series_x x;
    double x0, span;
    size_t n_buckets;
    bucket *buckets;
} folder;

static void folder_init(folder *f, cairn_series_x x, double x0, double x1, size_t max_points)
{
    f->x = x;
    f->x0 = x0;
    f->span = x1 - x0;
    f->n_buckets = max_points / 4;
    f->buckets = cn_xcalloc(f->n_buckets, sizeof *f->buckets);
}

static size_t bucket_of(const folder *f, double xm)
{
    if (!(f->span > 0))
        return 0;
    double r = (xm - f->x0) / f->span * (double)f->n_buckets;
    return r >= (double)f->n_buckets ? f->n_buckets - 1 : r > 0 ? (size_t)r : 0;
}

static void fold(folder *f, const cairn_metric *m, size_t i)
{
    double xm = x_of(m, f->x);
    bucket *k = &f->buckets[bucket_of(f, xm)];
    /* First and last by x (ties: by arrival), so that points may arrive in any order. */
    if (!k->used) {
        k->used = true;
        k->first = k->last = k->lo = k->hi = i;
        k->p_first = k->p_last = k->p_lo = k->p_hi = *m;
    } else {
        if (xm < x_of(&k->p_first, f->x)) {
            k->first = i;
            k->p_first = *m;
        }
        if (xm >= x_of(&k->p_last, f->x)) {
            k->last = i;
            k->p_last = *m;
        }
    }
    if (isnan(m->value))
        return;
    if (!k->has_value || m->value < k->p_lo.value) {
        k->lo = i;
        k->p_lo = *m;
    }
    if (!k->has_value || m->value > k->p_hi.value) {
        k->hi = i;
        k->p_hi = *m;
    }
    k->has_value = true;
}

/* Visits the kept points in x order: per bucket its (up to 4) distinct points. */
static void folder_emit(const folder *f, void (*emit)(void *user, size_t i, const cairn_metric *m),
                        void *user)
{
    for (size_t b = 0; b < f->n_buckets; b++) {
        const bucket *k = &f->buckets[b];
        if (!k->used)
            continue;
        size_t idx[4] = {k->first, k->lo, k->hi, k->last};
        const cairn_metric *pts[4] = {&k->p_first, &k->p_lo, &k->p_hi, &k->p_last};
        for (int i = 1; i < 4; i++) /* insertion sort by x, then arrival */
            for (int j = i;
                 j > 0 && (x_of(pts[j - 1], f->x) > x_of(pts[j], f->x) ||
                           (x_of(pts[j - 1], f->x) == x_of(pts[j], f->x) && idx[j - 1] > idx[j]));
                 j--) {
                size_t t = idx[j];
                idx[j] = idx[j - 1];
                idx[j - 1] = t;
                const cairn_metric *tp = pts[j];
                pts[j] = pts[j - 1];
                pts[j - 1] = tp;
            }
        for (int i = 0; i < 4; i++)
            if (i == 0 || idx[i] != idx[i - 1])
                emit(user, idx[i], pts[i]);
    }
}

typedef struct index_sink {
    size_t *keep;
    size_t n;
} index_sink;

static void emit_index(void *user, size_t i, const cairn_metric *m)
{
    (void)m;
    index_sink *s = user;
    s->keep[s->n++] = i;
}

size_t cairn_series_downsample(const cairn_metric *points, size_t n, cairn_series_x x,
                               size_t max_points, size_t *keep)
{
    if (max_points < 4)
        max_points = 4;
    if (n <= max_points) {
        for (size_t i = 0; i < n; i++)
            keep[i] = i;
        return n;
    }
    folder f;
    folder_init(&f, x, x_of(&points[0], x), x_of(&points[n - 1], x), max_points);
    for (size_t i = 0; i < n; i++)
        fold(&f, &points[i], i);
    index_sink sink = {keep, 0};
    folder_emit(&f, emit_index, &sink);
    free(f.buckets);
    return sink.n;
}

/* ---- from the store ---- */

/* The scan's state: the first max_points points are held as they are; past that, they are
 * folded into buckets over the series' x span. */
typedef struct scan_state {
    size_t max_points, n;
    cairn_metric *held; /* max_points of them */
    folder f;
    bool folding;
    double x0, x1;
    cairn_series_x x;
} scan_state;

static bool on_point(void *user, const cairn_metric *m)
{
    scan_state *s = user;
    if (!s->folding && s->n == s->max_points) {
        folder_init(&s->f, s->x, s->x0, s->x1, s->max_points);
        for (size_t i = 0; i < s->n; i++)
            fold(&s->f, &s->held[i], i);
        s->folding = true;
    }
    if (s->folding)
        fold(&s->f, m, s->n);
    else
        s->held[s->n] = *m;
    s->n++;
    return true;
}

typedef struct series_sink {
    cairn_metric_series *s;
} series_sink;

static void emit_point(void *user, size_t i, const cairn_metric *m)
{
    (void)i;
    cairn_metric_series *s = ((series_sink *)user)->s;
    s->points[s->n] = *m;
    s->points[s->n++].key = s->key;
}

static int by_time(const void *pa, const void *pb)
{
    const cairn_metric *a = pa, *b = pb;
    if (a->timestamp_ms != b->timestamp_ms)
        return a->timestamp_ms < b->timestamp_ms ? -1 : 1;
    if (a->step != b->step)
        return a->step < b->step ? -1 : 1;
    return 0;
}

/* Reads the whole history with metric_history (stores that cannot stream, e.g. a remote one). */
static cairn_status read_paged(cairn_ctx *ctx, const char *run_id, const char *key,
                               cairn_series_x x, cairn_metric **out, size_t *n_out)
{
    cairn_metric *all = NULL;
    size_t n = 0, cap = 0;
    cairn_metric_page *page = NULL;
    char *token = NULL;
    cairn_status rc;
    do {
        rc = CN_STORE_OPS(ctx)->metric_history(ctx, run_id, key, token, READ_PAGE, &page);
        if (rc != CAIRN_OK)
            break;
        if (n + page->n > cap) {
            cap = n + page->n + (page->next_page_token ? READ_PAGE : 0);
            all = cn_xrealloc(all, (cap ? cap : 1) * sizeof *all);
        }
        if (page->n)
            memcpy(all + n, page->items, page->n * sizeof *all);
        n += page->n;
        free(token);
        token = page->next_page_token ? cn_xstrdup(page->next_page_token) : NULL;
        cairn_metric_page_free(page);
        page = NULL;
    } while (token);
    free(token);
    if (rc != CAIRN_OK) {
        free(all);
        return rc;
    }
    if (x == CAIRN_SERIES_X_TIME) {
        bool sorted = true;
        for (size_t i = 1; sorted && i < n; i++)
            sorted = all[i - 1].timestamp_ms <= all[i].timestamp_ms;
        if (!sorted)
            qsort(all, n, sizeof *all, by_time);
    }
    *out = all;
    *n_out = n;
    return CAIRN_OK;
}

/* ---- from the store's block summaries (x = step) ----
 * A long series is cut into buckets of k whole blocks (64 steps each) starting at the first
 * point's block, k = ceil(blocks spanned / (max_points / 4)): at most max_points / 4 buckets
 * of equal width, and each bucket's first, last, lowest and highest point are those of its
 * blocks' summaries, so no point is read once the store keeps them. */
typedef struct block_state {
    int64_t b0, k;
    size_t n_buckets;
    cn_metric_block *buckets; /* merged summaries, n 0: empty */
    int64_t total;
} block_state;

static bool on_block(void *user, const cn_metric_block *blk)
{
    block_state *s = user;
    int64_t j = (blk->block - s->b0) / s->k;
    if (j < 0 || (size_t)j >= s->n_buckets)
        return true;
    cn_metric_block *b = &s->buckets[j];
    s->total += blk->n;
    /* Blocks come in order: the first block's first point is the bucket's, the last one's
     * last; an extreme is replaced only by a strictly more extreme one (ties: the earlier). */
    if (b->n == 0)
        b->first = blk->first;
    b->last = blk->last;
    b->n += blk->n;
    if (blk->has_value) {
        if (!b->has_value || blk->lo.value < b->lo.value)
            b->lo = blk->lo;
        if (!b->has_value || blk->hi.value > b->hi.value)
            b->hi = blk->hi;
        b->has_value = true;
    }
    return true;
}

static bool block_point_same(const cn_block_point *a, const cn_block_point *b)
{
    return a->step == b->step && a->ts == b->ts && a->value == b->value && a->nan == b->nan;
}

/* Fills series from the buckets: each bucket's (up to 4) distinct points in key order. */
static void emit_blocks(const block_state *s, cairn_metric_series *series)
{
    for (size_t j = 0; j < s->n_buckets; j++) {
        const cn_metric_block *b = &s->buckets[j];
        if (b->n == 0)
            continue;
        cn_block_point pts[4] = {b->first, b->last, b->first, b->first};
        int n = 2;
        if (b->has_value) {
            pts[n++] = b->lo;
            pts[n++] = b->hi;
        }
        for (int i = 1; i < n; i++) /* insertion sort in key order */
            for (int m = i; m > 0 && cn_block_point_before(&pts[m], &pts[m - 1]); m--) {
                cn_block_point t = pts[m];
                pts[m] = pts[m - 1];
                pts[m - 1] = t;
            }
        for (int i = 0; i < n; i++) {
            if (i && block_point_same(&pts[i], &pts[i - 1]))
                continue;
            cairn_metric *m = &series->points[series->n++];
            m->key = series->key;
            m->step = pts[i].step;
            m->timestamp_ms = pts[i].ts;
            m->value = pts[i].nan ? NAN : pts[i].value;
        }
    }
}

/* Whether steps first..last span at least 4 blocks a bucket: then the block summaries answer. */
static bool long_step_span(int64_t first, int64_t last, size_t max_points)
{
    uint64_t n_blocks =
        (uint64_t)(last >> CN_METRIC_BLOCK_SHIFT) - (uint64_t)(first >> CN_METRIC_BLOCK_SHIFT) + 1;
    return n_blocks != 0 && n_blocks / 4 >= max_points / 4; /* 0: the int64 range wrapped */
}

/* Downsamples from the block summaries when the series spans at least 4 blocks a bucket;
 * *used false leaves it to the scan (a short span, or few enough points to send whole). */
static cairn_status from_blocks(cairn_ctx *ctx, const char *run_id, const char *key,
                                size_t max_points, int64_t first, int64_t last,
                                cairn_metric_series *series, bool *used)
{
    *used = false;
    int64_t b0 = first >> CN_METRIC_BLOCK_SHIFT, b1 = last >> CN_METRIC_BLOCK_SHIFT;
    uint64_t n_blocks = (uint64_t)b1 - (uint64_t)b0 + 1;
    size_t nb = max_points / 4;
    if (n_blocks == 0 || n_blocks / 4 < nb) /* 0: the whole int64 range wrapped */
        return CAIRN_OK;
    block_state s = {0};
    s.b0 = b0;
    s.k = (int64_t)((n_blocks + nb - 1) / nb);
    s.n_buckets = (size_t)((n_blocks + (uint64_t)s.k - 1) / (uint64_t)s.k);
    s.buckets = cn_xcalloc(s.n_buckets, sizeof *s.buckets);
    cairn_status rc = CN_STORE_OPS(ctx)->metric_blocks(ctx, run_id, key, on_block, &s);
    if (rc == CAIRN_OK && s.total > (int64_t)max_points) {
        cn_arena *a = series->internal_;
        series->points = cn_arena_alloc(a, s.n_buckets * 4 * sizeof *series->points);
        series->n = 0;
        emit_blocks(&s, series);
        series->total = (size_t)s.total;
        *used = true;
    }
    free(s.buckets);
    return rc;
}

/* ---- against time, from the block summaries ----
 * The buckets are those of the scan (equal slices of [earliest, latest timestamp]). A block
 * whose points all fall in one bucket (its earliest and latest timestamps do) adds its earliest,
 * lowest, highest and latest points, in key order, which is what folding its every point would
 * leave in the bucket; the points of a block that spans a bucket's edge are read and folded one
 * by one. Blocks come in key order, so ties go as in the scan. Used when few blocks span an
 * edge (timestamps rising with the steps, as a training loop logs them). */
typedef struct block_vec {
    cn_metric_block *items;
    size_t n, cap;
} block_vec;

static bool collect_block(void *user, const cn_metric_block *b)
{
    block_vec *v = user;
    if (v->n == v->cap) {
        v->cap = v->cap ? 2 * v->cap : 1024;
        v->items = cn_xrealloc(v->items, v->cap * sizeof *v->items);
    }
    v->items[v->n++] = *b;
    return true;
}

static cairn_metric metric_of(const cn_block_point *p)
{
    cairn_metric m = {.step = p->step, .timestamp_ms = p->ts, .value = p->nan ? NAN : p->value};
    return m;
}

typedef struct time_fold {
    folder *f;
    size_t arrival;
} time_fold;

static bool fold_point(void *user, const cairn_metric *m)
{
    time_fold *t = user;
    fold(t->f, m, t->arrival++);
    return true;
}

static cairn_status from_blocks_by_time(cairn_ctx *ctx, const char *run_id, const char *key,
                                        size_t max_points, cairn_metric_series *series, bool *used)
{
    *used = false;
    const cn_store_ops *ops = CN_STORE_OPS(ctx);
    block_vec v = {0};
    folder f = {0};
    cairn_status rc = ops->metric_blocks(ctx, run_id, key, collect_block, &v);
    int64_t total = 0, t0 = INT64_MAX, t1 = INT64_MIN;
    for (size_t i = 0; i < v.n; i++) {
        total += v.items[i].n;
        if (v.items[i].t_first.ts < t0)
            t0 = v.items[i].t_first.ts;
        if (v.items[i].t_last.ts > t1)
            t1 = v.items[i].t_last.ts;
    }
    if (rc != CAIRN_OK || total <= (int64_t)max_points)
        goto done;
    folder_init(&f, CAIRN_SERIES_X_TIME, (double)t0, (double)t1, max_points);
    size_t edge_points = 0; /* points of the blocks that span an edge: read one by one */
    for (size_t i = 0; i < v.n; i++)
        if (bucket_of(&f, (double)v.items[i].t_first.ts) !=
            bucket_of(&f, (double)v.items[i].t_last.ts))
            edge_points += (size_t)v.items[i].n;
    if (edge_points > (size_t)total / 4) /* the scan reads less */
        goto done;
    time_fold tf = {&f, 0};
    for (size_t i = 0; i < v.n && rc == CAIRN_OK; i++) {
        const cn_metric_block *b = &v.items[i];
        if (bucket_of(&f, (double)b->t_first.ts) != bucket_of(&f, (double)b->t_last.ts)) {
            int64_t s0 = b->block * ((int64_t)1 << CN_METRIC_BLOCK_SHIFT);
            rc = ops->metric_scan(ctx, run_id, key, s0,
                                  s0 + ((int64_t)1 << CN_METRIC_BLOCK_SHIFT) - 1, fold_point, &tf);
            continue;
        }
        cn_block_point pts[4] = {b->t_first, b->t_last, b->t_first, b->t_first};
        int n = 2;
        if (b->has_value) {
            pts[n++] = b->lo;
            pts[n++] = b->hi;
        }
        for (int k = 1; k < n; k++) /* insertion sort in key order */
            for (int m = k; m > 0 && cn_block_point_before(&pts[m], &pts[m - 1]); m--) {
                cn_block_point t = pts[m];
                pts[m] = pts[m - 1];
                pts[m - 1] = t;
            }
        for (int k = 0; k < n; k++) {
            if (k && block_point_same(&pts[k], &pts[k - 1]))
                continue;
            cairn_metric m = metric_of(&pts[k]);
            fold_point(&tf, &m);
        }
    }
    if (rc != CAIRN_OK)
        goto done;
    cn_arena *a = series->internal_;
    series->points = cn_arena_alloc(a, f.n_buckets * 4 * sizeof *series->points);
    series->n = 0;
    series_sink sink = {series};
    folder_emit(&f, emit_point, &sink);
    series->total = (size_t)total;
    *used = true;
done:
    free(f.buckets);
    free(v.items);
    return rc;
}

cairn_status cairn_run_metric_downsample(cairn_ctx *ctx, const char *run_id, const char *key,
                                         const cairn_downsample_opts *o, cairn_metric_series **out)
{
    cairn_downsample_opts defaults = CAIRN_DOWNSAMPLE_OPTS_INIT;
    scan_state s = {0};
    cairn_metric *all = NULL;
    size_t *keep = NULL;
    *out = NULL;
    if (!o)
        o = &defaults;
    size_t max_points = o->max_points ? o->max_points : CAIRN_DOWNSAMPLE_DEFAULT;
    if (max_points < 4 || max_points > CAIRN_DOWNSAMPLE_MAX)
        return cn_fail(ctx, CAIRN_EINVAL, "max_points %zu is out of range; give 4 to %d",
                       max_points, CAIRN_DOWNSAMPLE_MAX);
    if (o->x != CAIRN_SERIES_X_STEP && o->x != CAIRN_SERIES_X_TIME)
        return cn_fail(ctx, CAIRN_EINVAL, "unknown x axis %d; use step or time", (int)o->x);
    if (!run_id || !*run_id)
        return cn_fail(ctx, CAIRN_EINVAL, "missing run id");
    if (!key || !*key)
        return cn_fail(ctx, CAIRN_EINVAL, "missing metric key");
    cairn_status rc = cn_need_store(ctx);
    if (rc != CAIRN_OK)
        return rc;
    cn_arena *a = cn_arena_new();
    cairn_metric_series *series = cn_arena_alloc(a, sizeof *series);
    series->run_id = cn_arena_strdup(a, run_id);
    series->key = cn_arena_strdup(a, key);
    series->internal_ = a;
    const cn_store_ops *ops = CN_STORE_OPS(ctx);
    if (ops->metric_scan && ops->metric_span) {
        /* Streamed: memory for max_points points, whatever the series' length. A long span
         * of steps is answered from the block summaries instead (no point read). */
        bool any = false;
        int64_t first = 0, last = 0;
        rc = ops->metric_span(ctx, run_id, key, CAIRN_SERIES_X_STEP, &any, &first, &last);
        if (rc != CAIRN_OK)
            goto done;
        if (any && ops->metric_blocks && long_step_span(first, last, max_points)) {
            bool used = false;
            rc = o->x == CAIRN_SERIES_X_STEP
                     ? from_blocks(ctx, run_id, key, max_points, first, last, series, &used)
                     : from_blocks_by_time(ctx, run_id, key, max_points, series, &used);
            if (rc != CAIRN_OK)
                goto done;
            if (used)
                goto finish;
        }
        if (any && o->x == CAIRN_SERIES_X_TIME)
            rc = ops->metric_span(ctx, run_id, key, o->x, &any, &first, &last);
        if (rc != CAIRN_OK)
            goto done;
        s.max_points = max_points;
        s.x = o->x;
        s.x0 = (double)first;
        s.x1 = (double)last;
        s.held = cn_xmalloc(max_points * sizeof *s.held);
        if (any)
            rc = ops->metric_scan(ctx, run_id, key, INT64_MIN, INT64_MAX, on_point, &s);
        if (rc != CAIRN_OK)
            goto done;
        series->total = s.n;
        series->points =
            cn_arena_alloc(a, (s.n < max_points ? s.n : max_points) * sizeof *series->points + 1);
        if (!s.folding) {
            if (o->x == CAIRN_SERIES_X_TIME) /* the scan came in step order */
                qsort(s.held, s.n, sizeof *s.held, by_time);
            for (size_t i = 0; i < s.n; i++) {
                series->points[i] = s.held[i];
                series->points[i].key = series->key;
            }
            series->n = s.n;
        } else {
            series_sink sink = {series};
            folder_emit(&s.f, emit_point, &sink);
        }
    } else {
        size_t n = 0;
        rc = read_paged(ctx, run_id, key, o->x, &all, &n);
        if (rc != CAIRN_OK)
            goto done;
        keep = cn_xmalloc((n < max_points ? n : max_points) * sizeof *keep + 1);
        size_t n_kept = cairn_series_downsample(all, n, o->x, max_points, keep);
        series->total = n;
        series->points = cn_arena_alloc(a, n_kept * sizeof *series->points + 1);
        for (size_t i = 0; i < n_kept; i++) {
            series->points[i] = all[keep[i]];
            series->points[i].key = series->key;
        }
        series->n = n_kept;
    }
finish:
    series->is_downsampled = series->n < series->total;
    *out = series;
    series = NULL;
done:
    cairn_metric_series_free(series);
    free(s.held);
    if (s.folding)
        free(s.f.buckets);
    free(keep);
    free(all);
    return rc;
}

CN_DEFINE_ARENA_FREE(cairn_metric_series_free, cairn_metric_series)

cairn_status cairn_metrics_summarize(cairn_ctx *ctx, size_t max_series, size_t *n_kept)
{
    size_t none = 0;
    if (!n_kept)
        n_kept = &none;
    *n_kept = 0;
    cairn_status rc = cn_need_store(ctx);
    if (rc != CAIRN_OK)
        return rc;
    const cn_store_ops *ops = CN_STORE_OPS(ctx);
    if (!ops->metrics_summarize)
        return CAIRN_OK;
    return ops->metrics_summarize(ctx, CAIRN_SUMMARY_MIN_STEPS, max_series, n_kept);
}
