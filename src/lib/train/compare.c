/* SPDX-License-Identifier: MIT */
/* compare.c - `eval compare`: whether two models differ. Any two runs (cairn train, cairn run,
 * MLflow-client scripts, tune trials) are shown side by side on the metrics both logged and
 * tested where they share something to pair: prediction rows (predictions/<split>.csv, the
 * format cairn train writes and docs/eval.md documents: McNemar or Wilcoxon with a paired-
 * bootstrap CI) or per-fold scores (cv_<metric> at steps 0..k-1: paired t-test and Wilcoxon).
 * The same tests run on files made by any tool: paired predictions (y_true, pred_a, pred_b)
 * and paired scores (a, b). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cairn/eval.h"
#include "cairn/train.h"
#include "core/core.h"
#include "train/train_internal.h"
#include "base/buf.h"
#include "base/fs.h"
#include "base/map.h"
#include "base/str.h"
#include "base/xmalloc.h"
#include "base/banned.h"

#define COMPARE_ALPHA 0.05
#define COMPARE_BOOTSTRAP 2000
#define REASON_MAX 512

void cairn_compare_result_free(cairn_compare_result *r)
{
    if (!r)
        return;
    free((char *)r->metric);
    free((char *)r->no_test);
    free((char *)r->predictions);
    free((char *)r->task_reason);
    for (size_t i = 0; i < r->n_metrics; i++)
        free((char *)r->metrics[i].name);
    free(r->metrics);
    free(r);
}

static cairn_compare_result *result_new(void)
{
    cairn_compare_result *r = cn_xcalloc(1, sizeof *r);
    r->a = r->b = r->diff = r->diff_low = r->diff_high = NAN;
    r->statistic = r->pvalue = r->statistic2 = r->pvalue2 = NAN;
    return r;
}

/* Forgets a test half done (the runs' metrics side by side stay). */
static void result_clear_test(cairn_compare_result *r)
{
    free((char *)r->metric);
    r->metric = NULL;
    r->scope = r->test = r->test2 = NULL;
    r->n = 0;
    r->n01 = r->n10 = 0;
    r->a = r->b = r->diff = r->diff_low = r->diff_high = NAN;
    r->statistic = r->pvalue = r->statistic2 = r->pvalue2 = NAN;
}

/* ---- the paired tests ---- */

typedef struct paired_rows {
    size_t n;
    bool is_classification;
    bool *ok_a, *ok_b;   /* classification: the prediction is right */
    double *t, *pa, *pb; /* regression */
} paired_rows;

static void paired_rows_init(paired_rows *p, size_t n, bool is_classification)
{
    memset(p, 0, sizeof *p);
    p->n = n;
    p->is_classification = is_classification;
    size_t m = n ? n : 1;
    if (is_classification) {
        p->ok_a = cn_xcalloc(m, sizeof *p->ok_a);
        p->ok_b = cn_xcalloc(m, sizeof *p->ok_b);
    } else {
        p->t = cn_xcalloc(m, sizeof *p->t);
        p->pa = cn_xcalloc(m, sizeof *p->pa);
        p->pb = cn_xcalloc(m, sizeof *p->pb);
    }
}

static void paired_rows_release(paired_rows *p)
{
    free(p->ok_a);
    free(p->ok_b);
    free(p->t);
    free(p->pa);
    free(p->pb);
    memset(p, 0, sizeof *p);
}

static cairn_status mean_over(cairn_ctx *ctx, const size_t *idx, size_t n, void *user, double *out)
{
    (void)ctx;
    const double *v = user;
    double sum = 0;
    for (size_t i = 0; i < n; i++)
        sum += v[idx[i]];
    *out = sum / (double)n;
    return CAIRN_OK;
}

/* McNemar on correctness (classification) or Wilcoxon on absolute errors (regression), and a
 * paired-bootstrap CI of the accuracy or MSE difference, into r. */
static void test_rows(cairn_ctx *ctx, const paired_rows *p, const cairn_compare_opts *o,
                      cairn_compare_result *r)
{
    size_t n = p->n;
    double *va = cn_xmalloc(n * sizeof *va), *vb = cn_xmalloc(n * sizeof *vb);
    double sa = 0, sb = 0;
    cairn_test_result tr;
    r->n = n;
    r->task = p->is_classification ? "classification" : "regression";
    if (p->is_classification) {
        int64_t n01 = 0, n10 = 0;
        for (size_t i = 0; i < n; i++) {
            va[i] = p->ok_a[i];
            vb[i] = p->ok_b[i];
            sa += va[i];
            sb += vb[i];
            n01 += p->ok_a[i] && !p->ok_b[i];
            n10 += !p->ok_a[i] && p->ok_b[i];
        }
        r->metric = cn_xstrdup("accuracy");
        r->n01 = n01;
        r->n10 = n10;
        bool exact = n01 + n10 < 25;
        r->test = exact ? "mcnemar-exact" : "mcnemar-chi2";
        if (n01 + n10 == 0) { /* the two agree on every row: no evidence of a difference */
            r->statistic = 0;
            r->pvalue = 1;
        } else if (cairn_stats_mcnemar(ctx, n01, n10, exact, &tr) == CAIRN_OK) {
            r->statistic = tr.statistic;
            r->pvalue = tr.pvalue;
        }
    } else {
        double *aa = cn_xmalloc(n * sizeof *aa), *ab = cn_xmalloc(n * sizeof *ab);
        for (size_t i = 0; i < n; i++) {
            double ea = p->pa[i] - p->t[i], eb = p->pb[i] - p->t[i];
            va[i] = ea * ea;
            vb[i] = eb * eb;
            aa[i] = fabs(ea);
            ab[i] = fabs(eb);
            sa += va[i];
            sb += vb[i];
        }
        r->metric = cn_xstrdup("mse");
        r->test = "wilcoxon";
        if (cairn_stats_wilcoxon(ctx, aa, ab, n, &tr) == CAIRN_OK) {
            r->statistic = tr.statistic;
            r->pvalue = tr.pvalue;
        } else { /* every absolute error equal */
            r->statistic = NAN;
            r->pvalue = 1;
        }
        free(aa);
        free(ab);
    }
    r->a = sa / (double)n;
    r->b = sb / (double)n;
    r->diff = r->a - r->b;
    cairn_bootstrap_opts bo = CAIRN_BOOTSTRAP_OPTS_INIT;
    bo.n_resamples = o && o->n_bootstrap ? o->n_bootstrap : COMPARE_BOOTSTRAP;
    bo.seed = o ? o->seed : 0;
    cairn_interval iv;
    if (cairn_bootstrap_paired_diff(ctx, n, mean_over, va, mean_over, vb, &bo, &iv) == CAIRN_OK) {
        r->diff_low = iv.low;
        r->diff_high = iv.high;
    }
    free(va);
    free(vb);
    r->has_test = true;
    r->significant = r->pvalue < COMPARE_ALPHA;
}

/* Paired t-test and Wilcoxon of fa - fb over k folds or seeds, the mean difference with its t
 * 95% CI, into r. rho > 0: scores of repeated cross-validation, whose folds share training rows
 * across repeats; the variance of the mean difference is then (1/k + rho) s^2 instead of
 * s^2 / k, rho = n_test / n_train (Nadeau and Bengio's corrected resampled t-test, 2003). */
static void test_scores(cairn_ctx *ctx, const double *fa, const double *fb, size_t k, double rho,
                        cairn_compare_result *r)
{
    double sa = 0, sb = 0;
    for (size_t f = 0; f < k; f++) {
        sa += fa[f];
        sb += fb[f];
    }
    r->n = k;
    r->a = sa / (double)k;
    r->b = sb / (double)k;
    r->diff = r->a - r->b;
    double ss = 0;
    for (size_t f = 0; f < k; f++) {
        double d = (fa[f] - fb[f]) - r->diff;
        ss += d * d;
    }
    double se = rho > 0 ? sqrt((1.0 / (double)k + rho) * ss / (double)(k - 1))
                        : sqrt(ss / (double)(k - 1)) / sqrt((double)k);
    double half = cairn_stats_t_quantile(0.975, (double)(k - 1)) * se;
    r->diff_low = r->diff - half;
    r->diff_high = r->diff + half;
    r->test = rho > 0 ? "corrected-t" : "paired-t";
    cairn_test_result tr;
    if (rho > 0) {
        r->statistic = se > 0 ? r->diff / se : NAN;
        r->pvalue = se > 0 ? 2 * (1 - cairn_stats_t_cdf(fabs(r->statistic), (double)(k - 1))) : 1;
    } else if (cairn_stats_ttest_paired(ctx, fa, fb, k, &tr) == CAIRN_OK) {
        r->statistic = tr.statistic;
        r->pvalue = isnan(tr.pvalue) ? 1 : tr.pvalue; /* NaN: every difference is 0 */
    } else {
        r->pvalue = 1;
    }
    r->test2 = "wilcoxon";
    if (cairn_stats_wilcoxon(ctx, fa, fb, k, &tr) == CAIRN_OK) {
        r->statistic2 = tr.statistic;
        r->pvalue2 = tr.pvalue;
    } else { /* every difference is 0 */
        r->statistic2 = NAN;
        r->pvalue2 = 1;
    }
    r->has_test = true;
    r->significant = r->pvalue < COMPARE_ALPHA;
}

/* ---- tests on files made by any tool ---- */

/* A cell as text: a category's level, a number in its shortest form ("1", not "1.0"); NULL
 * when missing. */
static const char *cell(const cairn_column *c, size_t i, char *tmp, size_t size)
{
    if (c->type == CAIRN_COL_CATEGORICAL)
        return c->cat[i] >= 0 ? c->levels[c->cat[i]] : NULL;
    if (isnan(c->num[i]))
        return NULL;
    cn_format_double(c->num[i], tmp, size);
    return tmp;
}

static void list_columns(const cairn_table *t, cn_buf *b)
{
    for (size_t j = 0; j < t->n_cols && j < 20; j++)
        cn_buf_printf(b, "%s'%s'", j ? ", " : "", t->cols[j].name);
    if (t->n_cols > 20)
        cn_buf_printf(b, ", ... (%zu in all)", t->n_cols);
}

/* The columns names[0..n) of t into idx; ENOTFOUND naming the first missing one. */
static cairn_status find_columns(cairn_ctx *ctx, const cairn_table *t, const char *const *names,
                                 size_t n, int *idx)
{
    for (size_t i = 0; i < n; i++) {
        idx[i] = cairn_table_find(t, names[i]);
        if (idx[i] >= 0)
            continue;
        cn_buf b = CN_BUF_INIT;
        list_columns(t, &b);
        cairn_status rc = cn_fail(ctx, CAIRN_ENOTFOUND, "no column '%s' (the columns are %s)",
                                  names[i], cn_buf_str(&b));
        cn_buf_release(&b);
        return rc;
    }
    return CAIRN_OK;
}

/* Every row of the columns holds a value; and a number when numeric is set. */
static cairn_status check_values(cairn_ctx *ctx, const cairn_table *t, const int *idx, size_t n,
                                 bool numeric, const char *why_numeric)
{
    for (size_t i = 0; i < n; i++) {
        const cairn_column *c = &t->cols[idx[i]];
        for (size_t row = 0; row < t->n_rows; row++) {
            bool missing = c->type == CAIRN_COL_CATEGORICAL ? c->cat[row] < 0 : isnan(c->num[row]);
            if (missing)
                return cn_fail(ctx, CAIRN_EINVAL,
                               "column '%s' row %zu is empty or NaN; every row needs a value in "
                               "every compared column (drop the row or fill it in)",
                               c->name, row + 1);
            double v;
            bool last = row + 1 == t->n_rows;
            /* a text column: the first value that is not a number (the last row when the
             * reader and cn_parse_double disagree, so a text column never passes) */
            if (numeric && c->type == CAIRN_COL_CATEGORICAL &&
                (!cn_parse_double(c->levels[c->cat[row]], &v) || last))
                return cn_fail(ctx, CAIRN_EINVAL, "column '%s' row %zu: '%s' is not a number%s",
                               c->name, row + 1, c->levels[c->cat[row]], why_numeric);
            if (numeric && c->type == CAIRN_COL_NUMERIC && !isfinite(c->num[row]))
                return cn_fail(ctx, CAIRN_EINVAL, "column '%s' row %zu is infinite", c->name,
                               row + 1);
        }
    }
    return CAIRN_OK;
}

static cairn_status check_rows(cairn_ctx *ctx, const cairn_table *t)
{
    if (t->n_rows < 2)
        return cn_fail(ctx, CAIRN_EINVAL, "has %zu row%s; a paired test needs at least 2",
                       t->n_rows, t->n_rows == 1 ? "" : "s");
    return CAIRN_OK;
}

/* Replaces each quoted 'from' in text by 'to' (names in a reason of the one rule). */
static void rename_in(char *text, size_t size, const char *from, const char *to)
{
    char q_from[300], q_to[300];
    snprintf(q_from, sizeof q_from, "'%s'", from);
    snprintf(q_to, sizeof q_to, "'%s'", to);
    char *at = strstr(text, q_from);
    if (!at || strcmp(from, to) == 0)
        return;
    cn_buf b = CN_BUF_INIT;
    cn_buf_append(&b, text, (size_t)(at - text));
    cn_buf_puts(&b, q_to);
    cn_buf_puts(&b, at + strlen(q_from));
    cn_strlcpy(text, cn_buf_str(&b), size);
    cn_buf_release(&b);
}

/* The task of two models' predictions of the same truth by the one rule of
 * cairn_predictions_infer_task(), applied to each model: when the two disagree, text labels
 * make it classification, else a non-integer prediction makes it regression. */
static cairn_task infer_pair(const cairn_column *yt, const cairn_column *pa, const cairn_column *pb,
                             size_t n_rows, char *why, size_t size)
{
    cairn_column cols[2] = {*yt, *pa};
    cols[0].name = "y_true";
    cols[1].name = "y_pred";
    cairn_table view = {n_rows, 2, cols, NULL};
    char why_a[REASON_MAX], why_b[REASON_MAX];
    cairn_task ta = cairn_predictions_infer_task(&view, why_a, sizeof why_a);
    cols[1] = *pb;
    cols[1].name = "y_pred";
    cairn_task tb = cairn_predictions_infer_task(&view, why_b, sizeof why_b);
    rename_in(why_a, sizeof why_a, "y_true", yt->name);
    rename_in(why_a, sizeof why_a, "y_pred", pa->name);
    rename_in(why_b, sizeof why_b, "y_true", yt->name);
    rename_in(why_b, sizeof why_b, "y_pred", pb->name);
    bool text = yt->type == CAIRN_COL_CATEGORICAL || pa->type == CAIRN_COL_CATEGORICAL ||
                pb->type == CAIRN_COL_CATEGORICAL;
    cairn_task task = ta;
    const char *reason = why_a;
    if (ta != tb) {
        task = text ? CAIRN_TASK_CLASSIFICATION : CAIRN_TASK_REGRESSION;
        reason = task == ta ? why_a : why_b;
    }
    cn_strlcpy(why, reason, size);
    return task;
}

static char *task_reason(cairn_task given, cairn_task task, const char *why)
{
    if (given != CAIRN_TASK_AUTO)
        return cn_xstrdup("set by --task");
    return cn_asprintf("inferred: %s; --task %s to change it", why,
                       task == CAIRN_TASK_CLASSIFICATION ? "regression" : "classification");
}

cairn_status cairn_compare_predictions(cairn_ctx *ctx, const cairn_table *t,
                                       const cairn_compare_opts *o, cairn_compare_result **out)
{
    static const char *const defaults[] = {"y_true", "pred_a", "pred_b"};
    *out = NULL;
    const char *const *names = o && o->columns ? o->columns : defaults;
    if (o && o->columns && o->n_columns != 3)
        return cn_fail(ctx, CAIRN_EINVAL,
                       "paired predictions need 3 column names (y_true, pred_a, pred_b), got %zu",
                       o->n_columns);
    int idx[3];
    cairn_status rc = find_columns(ctx, t, names, 3, idx);
    if (rc == CAIRN_OK)
        rc = check_rows(ctx, t);
    if (rc == CAIRN_OK)
        rc = check_values(ctx, t, idx, 3, false, "");
    if (rc != CAIRN_OK)
        return rc;
    const cairn_column *yt = &t->cols[idx[0]], *pa = &t->cols[idx[1]], *pb = &t->cols[idx[2]];
    cairn_task given = o ? o->task : CAIRN_TASK_AUTO;
    char why[REASON_MAX] = "";
    cairn_task task = given;
    if (task == CAIRN_TASK_AUTO)
        task = infer_pair(yt, pa, pb, t->n_rows, why, sizeof why);
    char *reason = task_reason(given, task, why);
    bool is_class = task == CAIRN_TASK_CLASSIFICATION;
    if (!is_class) {
        char *tail = cn_asprintf("; the task is regression (%s)", reason);
        rc = check_values(ctx, t, idx, 3, true, tail);
        free(tail);
        if (rc != CAIRN_OK) {
            free(reason);
            return rc;
        }
    }
    paired_rows p;
    paired_rows_init(&p, t->n_rows, is_class);
    for (size_t i = 0; i < t->n_rows; i++) {
        if (is_class) {
            char s0[40], s1[40], s2[40];
            const char *y = cell(yt, i, s0, sizeof s0);
            p.ok_a[i] = strcmp(y, cell(pa, i, s1, sizeof s1)) == 0;
            p.ok_b[i] = strcmp(y, cell(pb, i, s2, sizeof s2)) == 0;
        } else {
            p.t[i] = yt->num[i];
            p.pa[i] = pa->num[i];
            p.pb[i] = pb->num[i];
        }
    }
    cairn_compare_result *r = result_new();
    r->task_reason = reason;
    test_rows(ctx, &p, o, r);
    r->scope = "file";
    paired_rows_release(&p);
    *out = r;
    return CAIRN_OK;
}

cairn_status cairn_compare_scores(cairn_ctx *ctx, const cairn_table *t, const cairn_compare_opts *o,
                                  cairn_compare_result **out)
{
    static const char *const defaults[] = {"a", "b"};
    *out = NULL;
    const char *const *names = o && o->columns ? o->columns : defaults;
    if (o && o->columns && o->n_columns != 2)
        return cn_fail(ctx, CAIRN_EINVAL, "paired scores need 2 column names (a, b), got %zu",
                       o->n_columns);
    int idx[2];
    cairn_status rc = find_columns(ctx, t, names, 2, idx);
    if (rc == CAIRN_OK)
        rc = check_rows(ctx, t);
    if (rc == CAIRN_OK)
        rc = check_values(ctx, t, idx, 2, true, "; scores are numbers");
    if (rc != CAIRN_OK)
        return rc;
    cairn_compare_result *r = result_new();
    test_scores(ctx, t->cols[idx[0]].num, t->cols[idx[1]].num, t->n_rows, 0, r);
    r->scope = "scores";
    r->metric = cn_xstrdup("score");
    *out = r;
    return CAIRN_OK;
}

/* ---- any two runs ---- */

static const char *tag_of(const cairn_run_record *rec, const char *key)
{
    for (size_t i = 0; i < rec->n_tags; i++)
        if (strcmp(rec->tags[i].key, key) == 0)
            return rec->tags[i].value;
    return NULL;
}

static const cairn_metric *metric_of(const cairn_run_record *rec, const char *key)
{
    for (size_t i = 0; i < rec->n_metrics; i++)
        if (strcmp(rec->metrics[i].key, key) == 0)
            return &rec->metrics[i];
    return NULL;
}

static double metric_value(const cairn_run_record *rec, const char *key)
{
    const cairn_metric *m = metric_of(rec, key);
    return m ? m->value : NAN;
}

/* A per-fold series (cv_<name>, whose summary cv_<name>_mean exists) is tested, not listed. */
static bool is_fold_series(const cairn_run_record *rec, const char *key)
{
    char *mean = cn_asprintf("%s_mean", key);
    bool yes = metric_of(rec, mean) != NULL;
    free(mean);
    return yes;
}

static int by_name(const void *x, const void *y)
{
    return strcmp(((const cairn_compared_metric *)x)->name,
                  ((const cairn_compared_metric *)y)->name);
}

/* The metrics both runs logged, latest values, with NAME_ci_low/NAME_ci_high as intervals. */
static void side_by_side(const cairn_run_record *ra, const cairn_run_record *rb,
                         cairn_compare_result *r)
{
    r->metrics = cn_xcalloc(ra->n_metrics ? ra->n_metrics : 1, sizeof *r->metrics);
    for (size_t i = 0; i < ra->n_metrics; i++) {
        const char *key = ra->metrics[i].key;
        if (cn_str_ends(key, "_ci_low") || cn_str_ends(key, "_ci_high"))
            continue;
        const cairn_metric *mb = metric_of(rb, key);
        if (!mb || is_fold_series(ra, key) || is_fold_series(rb, key))
            continue;
        cairn_compared_metric *m = &r->metrics[r->n_metrics++];
        char *low = cn_asprintf("%s_ci_low", key), *high = cn_asprintf("%s_ci_high", key);
        m->name = cn_xstrdup(key);
        m->a = ra->metrics[i].value;
        m->b = mb->value;
        m->a_low = metric_value(ra, low);
        m->a_high = metric_value(ra, high);
        m->b_low = metric_value(rb, low);
        m->b_high = metric_value(rb, high);
        m->diff = m->a - m->b;
        free(low);
        free(high);
    }
    qsort(r->metrics, r->n_metrics, sizeof *r->metrics, by_name);
}

static bool on_disk(cairn_ctx *ctx, const char *run_id, const char *file)
{
    char *path = NULL;
    bool ok = cairn_run_artifact_path(ctx, run_id, file, &path) == CAIRN_OK && cn_fs_exists(path);
    cairn_free(path);
    return ok;
}

/* The .csv names under a run's predictions/: those logged as artifacts, and test.csv and
 * val.csv when a script wrote them into the run's folder ($CAIRN_RUN_DIR) without logging. */
static size_t prediction_files(cairn_ctx *ctx, const char *run_id, char ***out)
{
    static const char *const usual[] = {"test.csv", "val.csv"};
    cairn_artifact_list *list = NULL;
    size_t n = 0, n_listed = 0;
    if (cairn_run_artifacts_list(ctx, run_id, "predictions", &list) == CAIRN_OK)
        n_listed = list->n;
    *out = cn_xcalloc(n_listed + 3, sizeof **out);
    for (size_t i = 0; i < n_listed; i++) {
        const char *path = list->items[i].path;
        if (list->items[i].is_dir || !cn_str_ends(path, ".csv"))
            continue;
        const char *base = strrchr(path, '/');
        (*out)[n++] = cn_xstrdup(base ? base + 1 : path);
    }
    cairn_artifact_list_free(list);
    for (size_t i = 0; i < 2; i++) {
        char *file = cn_asprintf("predictions/%s", usual[i]);
        bool seen = false;
        for (size_t j = 0; j < n; j++)
            seen = seen || strcmp((*out)[j], usual[i]) == 0;
        if (!seen && on_disk(ctx, run_id, file))
            (*out)[n++] = cn_xstrdup(usual[i]);
        free(file);
    }
    return n;
}

static void free_names(char **names, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

static bool has_name(char *const *names, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(names[i], name) == 0)
            return true;
    return false;
}

static int cmp_str(const void *x, const void *y)
{
    return strcmp(*(char *const *)x, *(char *const *)y);
}

/* The prediction file both runs hold: test.csv, else val.csv, else the first other name both
 * have; NULL with the reason written to why. */
static char *shared_predictions(cairn_ctx *ctx, const char *a, const char *b, char *why,
                                size_t size)
{
    char **fa = NULL, **fb = NULL;
    size_t na = prediction_files(ctx, a, &fa), nb = prediction_files(ctx, b, &fb);
    char *found = NULL;
    if (na)
        qsort(fa, na, sizeof *fa, cmp_str);
    static const char *const first[] = {"test.csv", "val.csv"};
    for (size_t i = 0; !found && i < 2; i++)
        if (has_name(fa, na, first[i]) && has_name(fb, nb, first[i]))
            found = cn_xstrdup(first[i]);
    for (size_t i = 0; !found && i < na; i++)
        if (has_name(fb, nb, fa[i]))
            found = cn_xstrdup(fa[i]);
    if (!found) {
        if (!na && !nb)
            snprintf(why, size, "neither run logged predictions");
        else if (!na || !nb)
            snprintf(why, size, "run %s logged no predictions", !na ? "A" : "B");
        else
            snprintf(why, size, "their predictions are of different splits (A: %s, B: %s)", fa[0],
                     fb[0]);
    }
    free_names(fa, na);
    free_names(fb, nb);
    if (!found)
        return NULL;
    char *path = cn_asprintf("predictions/%s", found);
    free(found);
    return path;
}

/* One run's predictions file, as read; the row id, y_true and y_pred columns. */
typedef struct run_preds {
    cairn_table *t;
    const cairn_column *row, *yt, *yp;
} run_preds;

/* false with the reason in why when the file is not in the documented format. */
static bool read_run_preds(cairn_ctx *ctx, const char *run_id, const char *label, const char *file,
                           run_preds *p, char *why, size_t size)
{
    memset(p, 0, sizeof *p);
    char *path = NULL;
    if (cairn_run_artifact_path(ctx, run_id, file, &path) != CAIRN_OK ||
        cairn_csv_read(ctx, path, NULL, &p->t) != CAIRN_OK) {
        snprintf(why, size, "run %s's %s cannot be read (%s)", label, file, cairn_errmsg(ctx));
        cairn_free(path);
        return false;
    }
    cairn_free(path);
    static const char *const names[] = {"row", "y_true", "y_pred"};
    const cairn_column **cols[] = {&p->row, &p->yt, &p->yp};
    for (size_t i = 0; i < 3; i++) {
        int c = cairn_table_find(p->t, names[i]);
        if (c < 0) {
            snprintf(why, size,
                     "run %s's %s has no column '%s' (the format is row, y_true, y_pred)", label,
                     file, names[i]);
            return false;
        }
        *cols[i] = &p->t->cols[c];
    }
    for (size_t i = 0; i < p->t->n_rows; i++)
        for (size_t j = 0; j < 3; j++) {
            char tmp[40];
            if (!cell(*cols[j], i, tmp, sizeof tmp)) {
                snprintf(why, size, "run %s's %s: column '%s' row %zu is empty", label, file,
                         names[j], i + 1);
                return false;
            }
        }
    return true;
}

/* Pairs the rows of a and b by row id: the same ids (in any order) with the same y_true, else
 * false with the reason. */
static bool pair_rows(const run_preds *a, const run_preds *b, const char *file, bool is_class,
                      paired_rows *p, char *why, size_t size, bool *different)
{
    size_t na = a->t->n_rows, nb = b->t->n_rows;
    cn_map ids = CN_MAP_INIT;
    char **keys = cn_xcalloc(nb ? nb : 1, sizeof *keys);
    bool ok = true;
    for (size_t i = 0; ok && i < nb; i++) {
        char tmp[40];
        keys[i] = cn_xstrdup(cell(b->row, i, tmp, sizeof tmp));
        if (!cn_map_add(&ids, keys[i], strlen(keys[i]), i, NULL)) {
            snprintf(why, size, "run B's %s repeats row id '%s'; row ids must be unique", file,
                     keys[i]);
            ok = false;
        }
    }
    size_t shared = 0, first_other = SIZE_MAX;
    paired_rows_init(p, na, is_class);
    for (size_t i = 0; ok && i < na; i++) {
        char tmp[40], s0[40], s1[40], s2[40], s3[40];
        const char *key = cell(a->row, i, tmp, sizeof tmp);
        size_t j;
        if (!cn_map_get(&ids, key, strlen(key), &j))
            continue;
        const char *ta = cell(a->yt, i, s0, sizeof s0), *tb = cell(b->yt, j, s1, sizeof s1);
        if (strcmp(ta, tb) != 0) {
            if (first_other == SIZE_MAX)
                first_other = i;
            continue;
        }
        if (is_class) {
            p->ok_a[shared] = strcmp(ta, cell(a->yp, i, s2, sizeof s2)) == 0;
            p->ok_b[shared] = strcmp(tb, cell(b->yp, j, s3, sizeof s3)) == 0;
        } else {
            p->t[shared] = a->yt->num ? a->yt->num[i] : NAN;
            p->pa[shared] = a->yp->num ? a->yp->num[i] : NAN;
            p->pb[shared] = b->yp->num ? b->yp->num[j] : NAN;
            if (!isfinite(p->t[shared]) || !isfinite(p->pa[shared]) || !isfinite(p->pb[shared])) {
                snprintf(why, size, "%s holds a y_true or y_pred that is not a number", file);
                ok = false;
            }
        }
        shared++;
    }
    *different = ok && (first_other != SIZE_MAX || shared != na || shared != nb);
    if (ok && first_other != SIZE_MAX) {
        char tmp[40];
        snprintf(why, size, "%s: row '%s' has another y_true in each run", file,
                 cell(a->row, first_other, tmp, sizeof tmp));
        ok = false;
    } else if (ok && (shared != na || shared != nb || na < 2)) {
        snprintf(why, size, "%s: %zu and %zu rows, %zu row ids shared", file, na, nb, shared);
        ok = false;
    }
    for (size_t i = 0; i < nb; i++)
        free(keys[i]);
    free(keys);
    cn_map_release(&ids);
    if (!ok)
        paired_rows_release(p);
    return ok;
}

/* The task: given, else the runs' tags, else the predictions' (rule of infer_pair). */
static cairn_status decide_task(cairn_ctx *ctx, const cairn_compare_opts *o, const char *a,
                                const char *b, const char *ta, const char *tb, const run_preds *pa,
                                const run_preds *pb, cairn_task *task, char **reason)
{
    cairn_task given = o ? o->task : CAIRN_TASK_AUTO;
    if (given != CAIRN_TASK_AUTO) {
        *task = given;
        *reason = cn_xstrdup("set by --task");
        return CAIRN_OK;
    }
    if (ta && tb && strcmp(ta, tb) != 0)
        return cn_fail(ctx, CAIRN_EINVAL, "cannot compare a %s run (%s) with a %s run (%s)", ta, a,
                       tb, b);
    if (ta || tb) {
        const char *t = ta ? ta : tb;
        *task =
            strcmp(t, "classification") == 0 ? CAIRN_TASK_CLASSIFICATION : CAIRN_TASK_REGRESSION;
        *reason = cn_asprintf("tag cairn.task of run %s", ta ? a : b);
        return CAIRN_OK;
    }
    if (!pa || !pb) {
        *task = CAIRN_TASK_AUTO;
        return CAIRN_OK;
    }
    char why[REASON_MAX];
    *task = infer_pair(pa->yt, pa->yp, pb->yp, pa->t->n_rows, why, sizeof why);
    *reason = cn_asprintf("inferred from run A's predictions: %s; --task %s to change it", why,
                          *task == CAIRN_TASK_CLASSIFICATION ? "regression" : "classification");
    return CAIRN_OK;
}

/* The row test on the shared predictions; false with the reason when there is none. */
static bool try_rows(cairn_ctx *ctx, const char *a, const char *b, const cairn_run_record *ra,
                     const cairn_run_record *rb, const cairn_compare_opts *o,
                     cairn_compare_result *r, char *why, size_t size, bool *different,
                     cairn_status *rc)
{
    const char *da = tag_of(ra, "cairn.data.sha256"), *db = tag_of(rb, "cairn.data.sha256");
    if (da && db && strcmp(da, db) != 0) {
        snprintf(why, size, "their data digests differ");
        return false;
    }
    char *file = shared_predictions(ctx, a, b, why, size);
    if (!file)
        return false;
    run_preds pa = {0}, pb = {0};
    bool ok = read_run_preds(ctx, a, "A", file, &pa, why, size) &&
              read_run_preds(ctx, b, "B", file, &pb, why, size);
    cairn_task task = CAIRN_TASK_AUTO;
    char *reason = NULL;
    if (ok) {
        *rc = decide_task(ctx, o, a, b, tag_of(ra, "cairn.task"), tag_of(rb, "cairn.task"), &pa,
                          &pb, &task, &reason);
        ok = *rc == CAIRN_OK;
    }
    paired_rows p;
    if (ok &&
        pair_rows(&pa, &pb, file, task == CAIRN_TASK_CLASSIFICATION, &p, why, size, different)) {
        test_rows(ctx, &p, o, r);
        paired_rows_release(&p);
        const char *split = strrchr(file, '/') + 1;
        size_t len = strlen(split) - 4; /* ".csv" */
        r->scope = strncmp(split, "test", len) == 0 && len == 4  ? "test"
                   : strncmp(split, "val", len) == 0 && len == 3 ? "validation"
                                                                 : NULL;
        r->predictions = cn_xstrdup(file);
        if (!r->scope) /* another split: its name, kept in predictions */
            r->scope = r->predictions + strlen("predictions/");
        free((char *)r->task_reason);
        r->task_reason = reason;
        reason = NULL;
    } else {
        ok = false;
    }
    free(reason);
    cairn_table_free(pa.t);
    cairn_table_free(pb.t);
    free(file);
    return ok;
}

/* A metric's value at each step 0..k-1 (k = the steps the run logged, at least 2), or 0. */
static size_t fold_series(cairn_ctx *ctx, const char *run_id, const char *key, double **out)
{
    cairn_metric_page *page = NULL;
    *out = NULL;
    if (cairn_run_metric_history(ctx, run_id, key, NULL, 0, &page) != CAIRN_OK)
        return 0;
    int64_t max_step = -1;
    for (size_t i = 0; i < page->n; i++)
        if (page->items[i].step > max_step)
            max_step = page->items[i].step;
    size_t k = max_step >= 1 && max_step < 100000 ? (size_t)max_step + 1 : 0;
    double *v = k ? cn_xmalloc(k * sizeof *v) : NULL;
    for (size_t f = 0; f < k; f++)
        v[f] = NAN;
    for (size_t i = 0; k && i < page->n; i++)
        if (page->items[i].step >= 0)
            v[page->items[i].step] = page->items[i].value;
    for (size_t f = 0; f < k; f++)
        if (!isfinite(v[f]))
            k = 0;
    cairn_metric_page_free(page);
    if (!k) {
        free(v);
        return 0;
    }
    *out = v;
    return k;
}

/* The fold test on a per-fold series both runs logged (cv_<metric>: a cairn train run's
 * leading metric first); false with the reason when there is none. */
static bool try_folds(cairn_ctx *ctx, const char *a, const char *b, const cairn_run_record *ra,
                      const cairn_run_record *rb, cairn_compare_result *r, char *why, size_t size)
{
    const char *ca = tag_of(ra, "cairn.cv.sha256"), *cb = tag_of(rb, "cairn.cv.sha256");
    if ((ca || cb) && !(ca && cb && strcmp(ca, cb) == 0)) {
        snprintf(why, size, "%s",
                 ca && cb ? "their fold digests differ" : "only one run records its folds");
        return false;
    }
    /* candidates: the leading metric of a cairn train run, then every shared cv_ key */
    cn_buf text = CN_BUF_INIT;
    cn_train_record rec;
    char *lead = NULL;
    if (cn_run_artifact_read(ctx, a, "train.json", &text) == CAIRN_OK &&
        cn_train_record_parse(ctx, text.data, text.len, &rec) == CAIRN_OK) {
        if (rec.n_metrics)
            lead = cn_asprintf("cv_%s", rec.metrics[0]);
        cn_train_record_release(&rec);
    }
    cn_buf_release(&text);
    bool ok = false;
    for (size_t i = 0; !ok && i <= ra->n_metrics; i++) {
        const char *key = i == 0 ? lead : ra->metrics[i - 1].key;
        if (!key || !cn_str_starts(key, "cv_") || !metric_of(rb, key))
            continue;
        double *fa = NULL, *fb = NULL;
        size_t ka = fold_series(ctx, a, key, &fa), kb = ka ? fold_series(ctx, b, key, &fb) : 0;
        if (ka && ka == kb) {
            /* repeated k-fold (cairn train's cv: repeats): the corrected t-test */
            const char *tk = tag_of(ra, "cairn.cv.folds"), *tr = tag_of(ra, "cairn.cv.repeats");
            long folds = tk ? strtol(tk, NULL, 10) : 0, reps = tr ? strtol(tr, NULL, 10) : 0;
            double rho = reps > 1 && folds > 1 ? 1.0 / (double)(folds - 1) : 0;
            test_scores(ctx, fa, fb, ka, rho, r);
            r->scope = "cv";
            r->metric = cn_xstrdup(key + 3);
            ok = true;
        }
        free(fa);
        free(fb);
    }
    free(lead);
    if (!ok)
        snprintf(why, size, "no cv_<metric> logged by both at steps 0..k-1");
    return ok;
}

cairn_status cairn_eval_compare_runs(cairn_ctx *ctx, const char *run_a, const char *run_b,
                                     const cairn_compare_opts *o, cairn_compare_result **out)
{
    *out = NULL;
    cairn_run_record *ra = NULL, *rb = NULL;
    cairn_compare_result *r = result_new();
    char why_rows[REASON_MAX] = "", why_folds[REASON_MAX] = "";
    bool different_rows = false;
    cairn_status rc = cairn_run_get(ctx, run_a, &ra);
    if (rc == CAIRN_OK)
        rc = cairn_run_get(ctx, run_b, &rb);
    if (rc != CAIRN_OK)
        goto done;
    side_by_side(ra, rb, r);
    const char *ta = tag_of(ra, "cairn.task"), *tb = tag_of(rb, "cairn.task");
    cairn_task task;
    char *reason = NULL;
    rc = decide_task(ctx, o, run_a, run_b, ta, tb, NULL, NULL, &task, &reason);
    if (rc != CAIRN_OK)
        goto done;
    r->task = task == CAIRN_TASK_AUTO             ? NULL
              : task == CAIRN_TASK_CLASSIFICATION ? "classification"
                                                  : "regression";
    r->task_reason = reason;
    if (try_rows(ctx, run_a, run_b, ra, rb, o, r, why_rows, sizeof why_rows, &different_rows, &rc))
        goto tested;
    if (rc != CAIRN_OK)
        goto done;
    result_clear_test(r);
    if (try_folds(ctx, run_a, run_b, ra, rb, r, why_folds, sizeof why_folds))
        goto tested;
    result_clear_test(r);
    char *why = cn_asprintf(different_rows ? "they were scored on different rows (%s) and not "
                                             "on the same cross-validation folds (%s)"
                                           : "they were not scored on the same rows (%s) nor on "
                                             "the same cross-validation folds (%s)",
                            why_rows, why_folds);
    if (ta && tb) { /* two cairn train runs: their scores are not comparable */
        rc = cn_fail(ctx, CAIRN_EINVAL,
                     "cannot compare runs %s and %s: %s; train both on the same data, split and "
                     "seed",
                     run_a, run_b, why);
        free(why);
        goto done;
    }
    r->no_test = cn_asprintf(
        "no significance test: %s; to make one possible, log predictions of the same rows in "
        "both runs as predictions/<split>.csv (columns row, y_true, y_pred; see docs/eval.md)",
        why);
    free(why);
tested:
    *out = r;
    r = NULL;
done:
    cairn_compare_result_free(r);
    cairn_run_record_free(ra);
    cairn_run_record_free(rb);
    return rc;
}

cairn_status cairn_eval_compare(cairn_ctx *ctx, const char *run_a, const char *run_b,
                                cairn_compare_result **out)
{
    cairn_status rc = cairn_eval_compare_runs(ctx, run_a, run_b, NULL, out);
    if (rc == CAIRN_OK && !(*out)->has_test) {
        rc = cn_fail(ctx, CAIRN_EINVAL, "cannot compare runs %s and %s: %s", run_a, run_b,
                     (*out)->no_test);
        cairn_compare_result_free(*out);
        *out = NULL;
    }
    return rc;
}
