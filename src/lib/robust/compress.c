/* SPDX-License-Identifier: MIT */
/* compress.c - cairn_model_compress: int8 quantization (logistic, mlp), magnitude pruning
 * (mlp) and distillation into a smaller MLP on a teacher's probabilities (any learner), with
 * the file size, latency and metric before and after and a paired test on the same rows. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "robust/robust_int.h"
#include "learn/model.h"
#include "cairn/eval.h"
#include "core/core.h"
#include "base/buf.h"
#include "base/time.h"
#include "base/xmalloc.h"
#include "base/banned.h"

static cairn_status copy_model(cairn_ctx *ctx, const cairn_model *m, cairn_model **out)
{
    void *bytes;
    size_t len;
    cairn_status rc = cairn_model_save_bytes(ctx, m, &bytes, &len);
    if (rc == CAIRN_OK)
        rc = cairn_model_load_bytes(ctx, bytes, len, out);
    if (rc == CAIRN_OK)
        free(bytes);
    return rc;
}

static size_t file_size(cairn_ctx *ctx, const cairn_model *m)
{
    void *bytes;
    size_t len = 0;
    if (cairn_model_save_bytes(ctx, m, &bytes, &len) == CAIRN_OK)
        free(bytes);
    return len;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Median wall time (ms) of predicting rows[0..n) of t, over repeats calls. */
static double latency_ms(cairn_ctx *ctx, const cairn_model *m, const cairn_table *t,
                         const size_t *rows, size_t n, size_t repeats)
{
    size_t k = cairn_model_n_classes(m);
    double *out = cn_xmalloc(n * (k ? k : 1) * sizeof *out + 1);
    double *ms = cn_xmalloc(repeats * sizeof *ms);
    for (size_t r = 0; r < repeats; r++) {
        int64_t t0 = cn_mono_ns();
        cairn_status rc = k ? cairn_model_predict_proba(ctx, m, t, rows, n, out)
                            : cairn_model_predict(ctx, m, t, rows, n, out);
        ms[r] = rc == CAIRN_OK ? (double)(cn_mono_ns() - t0) / 1e6 : NAN;
    }
    qsort(ms, repeats, sizeof *ms, cmp_double);
    double med = repeats % 2 ? ms[repeats / 2] : 0.5 * (ms[repeats / 2 - 1] + ms[repeats / 2]);
    free(out);
    free(ms);
    return med;
}

static cairn_status distill(cairn_ctx *ctx, const cairn_model *m, const cairn_table *t,
                            const cairn_compress_opts *o, cairn_model **out)
{
    if (!o->fit_rows || o->n_fit == 0)
        return cn_fail(ctx, CAIRN_EINVAL,
                       "distillation needs rows to fit the student on (the teacher's training "
                       "rows): give --data with the training CSV");
    size_t k = cairn_model_n_classes(m), n = o->n_fit;
    double *soft = cn_xmalloc(n * (k ? k : 1) * sizeof *soft);
    cairn_status rc = k ? cairn_model_predict_proba(ctx, m, t, o->fit_rows, n, soft)
                        : cairn_model_predict(ctx, m, t, o->fit_rows, n, soft);
    size_t nf = cairn_model_n_features(m);
    const char **features = cn_xcalloc(nf + 1, sizeof *features);
    for (size_t f = 0; f < nf; f++)
        features[f] = cairn_model_feature_name(m, f);
    enum { MAX_P = 64 };
    const char *keys[MAX_P], *values[MAX_P];
    size_t np = 0;
    if (strcmp(m->ops->name, "mlp") == 0)
        for (size_t i = 0; i < m->n_params && np < MAX_P - 1; i++)
            if (strcmp(m->param_keys[i], "hidden") != 0) {
                keys[np] = m->param_keys[i];
                values[np++] = m->param_values[i];
            }
    for (size_t i = 0; i < o->n_params && np < MAX_P - 1; i++) {
        keys[np] = o->param_keys[i];
        values[np++] = o->param_values[i];
    }
    keys[np] = "hidden";
    values[np++] = o->hidden ? o->hidden : "16";
    if (o->n_params > MAX_P / 2) {
        free(features);
        free(soft);
        return cn_fail(ctx, CAIRN_EINVAL, "%zu student params is too many (at most %d)",
                       o->n_params, MAX_P / 2);
    }
    cairn_fit_opts fo = CAIRN_FIT_OPTS_INIT;
    fo.learner = "mlp";
    fo.param_keys = keys;
    fo.param_values = values;
    fo.n_params = np;
    fo.seed = o->seed;
    fo.label = cairn_model_label(m);
    fo.features = features;
    fo.n_features = nf;
    fo.train_rows = o->fit_rows;
    fo.n_train = n;
    fo.task = k ? "classification" : "regression";
    if (rc == CAIRN_OK)
        rc = cn_model_fit_soft(ctx, t, &fo, soft, out);
    bool same = rc == CAIRN_OK && cairn_model_n_classes(*out) == k;
    for (size_t c = 0; same && c < k; c++)
        same = strcmp(cairn_model_class_label(*out, c), cairn_model_class_label(m, c)) == 0;
    if (rc == CAIRN_OK && !same) {
        cairn_model_free(*out);
        *out = NULL;
        rc = cn_fail(ctx, CAIRN_EINVAL,
                     "the distillation rows hold %zu classes, the teacher knows %zu; give rows "
                     "with every class",
                     cairn_model_n_classes(*out), k);
    }
    free(features);
    free(soft);
    return rc;
}

typedef struct paired {
    bool classify;
    const double *y, *pred;
} paired;

static cairn_status paired_metric(cairn_ctx *ctx, const size_t *idx, size_t n, void *user,
                                  double *out)
{
    const paired *p = user;
    *out = cn_robust_metric(p->classify, p->y, p->pred, idx, n);
    return isnan(*out) ? cn_fail(ctx, CAIRN_EINVAL, "undefined on this resample") : CAIRN_OK;
}

/* The metric before and after on the eval rows, and the paired test. */
static cairn_status compare(cairn_ctx *ctx, const cairn_model *a, const cairn_model *b,
                            const cairn_table *t, const cairn_compress_opts *o,
                            cairn_compress_report *r)
{
    size_t n = o->n_eval, k = cairn_model_n_classes(a);
    bool classify = k > 0;
    double *y = cn_xmalloc(n * sizeof *y), *pa = cn_xmalloc(n * sizeof *pa),
           *pb = cn_xmalloc(n * sizeof *pb);
    cairn_status rc = cn_robust_targets(ctx, a, t, o->eval_rows, n, y);
    if (rc == CAIRN_OK)
        rc = cairn_model_predict(ctx, a, t, o->eval_rows, n, pa);
    if (rc == CAIRN_OK)
        rc = cairn_model_predict(ctx, b, t, o->eval_rows, n, pb);
    if (rc != CAIRN_OK)
        goto done;
    r->metric_before = cn_robust_metric(classify, y, pa, NULL, n);
    r->metric_after = cn_robust_metric(classify, y, pb, NULL, n);
    paired ua = {classify, y, pb}, ub = {classify, y, pa};
    cairn_bootstrap_opts bo = CAIRN_BOOTSTRAP_OPTS_INIT;
    bo.n_resamples = 2000;
    bo.seed = o->seed;
    cairn_interval iv;
    r->diff = r->metric_after - r->metric_before;
    r->diff_low = r->diff_high = NAN;
    if (n >= 2 && cairn_bootstrap_paired_diff(ctx, n, paired_metric, &ua, paired_metric, &ub, &bo,
                                              &iv) == CAIRN_OK) {
        r->diff_low = iv.low;
        r->diff_high = iv.high;
    }
    cairn_test_result tr;
    if (classify) {
        int32_t *yt = cn_xmalloc(n * sizeof *yt), *ia = cn_xmalloc(n * sizeof *ia),
                *ib = cn_xmalloc(n * sizeof *ib);
        size_t same = 0;
        for (size_t i = 0; i < n; i++) {
            yt[i] = (int32_t)y[i];
            ia[i] = (int32_t)pa[i];
            ib[i] = (int32_t)pb[i];
            same += ia[i] == ib[i];
            r->n01 += ia[i] == yt[i] && ib[i] != yt[i];
            r->n10 += ia[i] != yt[i] && ib[i] == yt[i];
        }
        r->agreement = n ? (double)same / (double)n : NAN;
        bool exact = r->n01 + r->n10 < 25;
        r->test = cn_xstrdup(exact ? "mcnemar_exact" : "mcnemar_chi2");
        rc = cairn_stats_mcnemar_predictions(ctx, yt, ia, ib, n, exact, &tr);
        free(yt);
        free(ia);
        free(ib);
    } else {
        double *ea = cn_xmalloc(n * sizeof *ea), *eb = cn_xmalloc(n * sizeof *eb);
        for (size_t i = 0; i < n; i++) {
            ea[i] = (pa[i] - y[i]) * (pa[i] - y[i]);
            eb[i] = (pb[i] - y[i]) * (pb[i] - y[i]);
        }
        r->agreement = NAN;
        r->test = cn_xstrdup("wilcoxon_squared_errors");
        bool any = false;
        for (size_t i = 0; i < n; i++)
            any = any || ea[i] != eb[i];
        if (any)
            rc = cairn_stats_wilcoxon(ctx, eb, ea, n, &tr);
        else
            tr.statistic = tr.pvalue = NAN;
        free(ea);
        free(eb);
    }
    if (rc == CAIRN_OK) {
        r->statistic = tr.statistic;
        r->p_value = tr.pvalue;
    }
done:
    free(y);
    free(pa);
    free(pb);
    return rc;
}

static cairn_status make(cairn_ctx *ctx, const cairn_model *m, const cairn_table *t,
                         const cairn_compress_opts *o, cairn_model **out, cairn_compress_report *r)
{
    const char *name = m->ops->name;
    bool mlp = strcmp(name, "mlp") == 0, logistic = strcmp(name, "logistic") == 0;
    if (o->method == CAIRN_COMPRESS_INT8) {
        if (!mlp && !logistic)
            return cn_fail(ctx, CAIRN_EINVAL,
                           "int8 quantization applies to logistic and mlp models; this one is "
                           "'%s' (distill it into an mlp with --method distill)",
                           name);
        cairn_status rc = copy_model(ctx, m, out);
        if (rc == CAIRN_OK && mlp)
            cn_mlp_quantize((*out)->impl);
        else if (rc == CAIRN_OK)
            cn_logistic_quantize((*out)->impl);
        return rc;
    }
    if (o->method == CAIRN_COMPRESS_PRUNE) {
        double sp = o->sparsity == 0 ? 0.5 : o->sparsity;
        if (!mlp)
            return cn_fail(ctx, CAIRN_EINVAL,
                           "pruning applies to mlp models; this one is '%s' (try --method int8 "
                           "or distill)",
                           name);
        if (!(sp > 0 && sp < 1))
            return cn_fail(ctx, CAIRN_EINVAL, "sparsity %g is out of range: expected 0 < s < 1",
                           sp);
        cairn_status rc = copy_model(ctx, m, out);
        if (rc == CAIRN_OK)
            r->zeros = cn_mlp_prune((*out)->impl, sp, &r->weights);
        return rc;
    }
    if (o->method == CAIRN_COMPRESS_DISTILL)
        return distill(ctx, m, t, o, out);
    return cn_fail(ctx, CAIRN_EINVAL, "unknown compression method %d: int8, prune or distill",
                   (int)o->method);
}

/* The new model's metadata: the original's (its training-row record holds for the student
 * too: it was fitted on the same rows), without cairn.run_id (the run logged the original
 * file, not this one) but naming it and the method; the drift reference profile carried over. */
static void finish_meta(const cairn_model *m, cairn_model *out, const char *method)
{
    for (size_t i = 0; i < out->n_meta; i++) {
        free(out->meta_keys[i]);
        free(out->meta_values[i]);
    }
    out->n_meta = 0;
    for (size_t i = 0; i < m->n_meta; i++) {
        if (strcmp(m->meta_keys[i], "cairn.run_id") == 0)
            cairn_model_set_meta(out, "cairn.compressed.from_run", m->meta_values[i]);
        else
            cairn_model_set_meta(out, m->meta_keys[i], m->meta_values[i]);
    }
    cairn_model_set_meta(out, "cairn.compressed.method", method);
    cairn_model_set_meta(out, "cairn.compressed.from_digest", m->digest);
    if (m->drift_profile && !out->drift_profile)
        cairn_model_set_drift_profile(out, m->drift_profile);
}

static size_t payload_size(const cairn_model *m)
{
    cn_buf b = CN_BUF_INIT;
    m->ops->save(m->impl, &b);
    size_t n = b.len;
    cn_buf_release(&b);
    return n;
}

static const char *method_name(cairn_compress_method m)
{
    return m == CAIRN_COMPRESS_INT8 ? "int8" : m == CAIRN_COMPRESS_PRUNE ? "prune" : "distill";
}

cairn_status cairn_model_compress(cairn_ctx *ctx, const cairn_model *m, const cairn_table *t,
                                  const cairn_compress_opts *o, cairn_model **out,
                                  cairn_compress_report *report)
{
    *out = NULL;
    memset(report, 0, sizeof *report);
    cairn_status rc = make(ctx, m, t, o, out, report);
    if (rc != CAIRN_OK)
        return rc;
    cairn_compress_report *r = report;
    r->method = cn_xstrdup(method_name(o->method));
    r->metric = cn_xstrdup(cairn_model_n_classes(m) ? "accuracy" : "r2");
    finish_meta(m, *out, r->method);
    r->payload_before = payload_size(m);
    r->payload_after = payload_size(*out);
    r->size_before = file_size(ctx, m);
    r->size_after = file_size(ctx, *out);
    if (r->method && o->method == CAIRN_COMPRESS_DISTILL)
        r->zeros = cn_mlp_zero_weights((*out)->impl, &r->weights);
    else if (o->method == CAIRN_COMPRESS_INT8 && strcmp(m->ops->name, "mlp") == 0)
        r->zeros = cn_mlp_zero_weights((*out)->impl, &r->weights);
    r->metric_before = r->metric_after = r->diff = r->diff_low = r->diff_high = NAN;
    r->statistic = r->p_value = r->agreement = NAN;
    r->latency1_before_ms = r->latency1_after_ms = r->batch_before_ms = r->batch_after_ms = NAN;
    r->n_eval = o->eval_rows ? o->n_eval : 0;
    const size_t *rows = o->eval_rows ? o->eval_rows : o->fit_rows;
    size_t n = o->eval_rows ? o->n_eval : o->fit_rows ? o->n_fit : 0;
    if (n > 0) {
        size_t reps = o->latency_repeats ? o->latency_repeats : 30;
        r->latency1_before_ms = latency_ms(ctx, m, t, rows, 1, reps * 10);
        r->latency1_after_ms = latency_ms(ctx, *out, t, rows, 1, reps * 10);
        r->batch_before_ms = latency_ms(ctx, m, t, rows, n, reps);
        r->batch_after_ms = latency_ms(ctx, *out, t, rows, n, reps);
    }
    if (r->n_eval > 0)
        rc = compare(ctx, m, *out, t, o, r);
    if (rc != CAIRN_OK) {
        cairn_model_free(*out);
        *out = NULL;
        cairn_compress_report_release(r);
    }
    return rc;
}

void cairn_compress_report_release(cairn_compress_report *r)
{
    if (!r)
        return;
    free(r->method);
    free(r->metric);
    free(r->test);
    memset(r, 0, sizeof *r);
}
