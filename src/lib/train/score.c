/* SPDX-License-Identifier: MIT */
/* score.c - scores a model's predictions by metric name with bootstrap intervals, writes the
 * predictions CSV and the evaluation pictures into a run; shared by train.c and evaluate.c. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cairn/eval.h"
#include "core/core.h"
#include "data/data_internal.h"
#include "train/train_internal.h"
#include "base/str.h"
#include "base/xmalloc.h"
#include "base/banned.h"

static const char *const class_names[] = {
    "accuracy",          "balanced_accuracy", "precision_macro", "recall_macro",
    "f1_macro",          "f1_weighted",       "f1_micro",        "mcc",
    "cohen_kappa",       "roc_auc",           "roc_auc_ovr",     "roc_auc_ovo",
    "average_precision", "log_loss",          "brier",           NULL};
static const char *const reg_names[] = {"mae", "mse", "rmse", "r2", "mape", NULL};
static const char *const class_default[] = {"accuracy", "f1_macro", "roc_auc_ovr", "log_loss",
                                            NULL};
static const char *const reg_default[] = {"rmse", "mae", "r2", NULL};

const char *const *cn_default_metrics(bool is_classification)
{
    return is_classification ? class_default : reg_default;
}

void cn_scores_release(cn_scores *s)
{
    free(s->rows);
    free(s->classes);
    free(s->y_true);
    free(s->y_pred);
    free(s->proba);
    free(s->t);
    free(s->p);
    free(s->bt);
    free(s->bp);
    free(s->bx);
    free(s->by);
    memset(s, 0, sizeof *s);
}

/* The text of row r of a column: a level, or the number in its shortest form. */
static bool cell_text(const cairn_column *c, size_t r, char *out, size_t size, const char **p)
{
    if (c->type == CAIRN_COL_CATEGORICAL) {
        if (c->cat[r] < 0 || (size_t)c->cat[r] >= c->n_levels)
            return false;
        *p = c->levels[c->cat[r]];
        return true;
    }
    if (!isfinite(c->num[r]))
        return false;
    cn_format_double(c->num[r], out, size);
    *p = out;
    return true;
}

cairn_status cn_scores_predict(cairn_ctx *ctx, const cairn_model *m, const cairn_table *t,
                               const size_t *rows, size_t n, cn_scores *s)
{
    memset(s, 0, sizeof *s);
    const char *label = cairn_model_label(m);
    int lc = cairn_table_find(t, label);
    if (lc < 0)
        return cn_fail(ctx, CAIRN_EINVAL, "label column '%s' is not in the data", label);
    if (n == 0)
        return cn_fail(ctx, CAIRN_EINVAL, "no rows to evaluate");
    const cairn_column *c = &t->cols[lc];
    s->n = n;
    s->k = cairn_model_n_classes(m);
    s->is_classification = s->k > 0;
    s->rows = cn_xmalloc(n * sizeof *s->rows);
    memcpy(s->rows, rows, n * sizeof *rows);
    size_t k = s->k ? s->k : 1;
    s->bt = cn_xmalloc(n * sizeof *s->bt);
    s->bp = cn_xmalloc(n * sizeof *s->bp);
    s->bx = cn_xmalloc(n * k * sizeof *s->bx);
    s->by = cn_xmalloc(n * sizeof *s->by);
    double *pred = cn_xmalloc(n * sizeof *pred);
    cairn_status rc = cairn_model_predict(ctx, m, t, rows, n, pred);
    if (rc != CAIRN_OK)
        goto done;
    if (!s->is_classification) {
        if (c->type != CAIRN_COL_NUMERIC) {
            rc = cn_fail(ctx, CAIRN_EINVAL, "label '%s' is categorical; the model does regression",
                         label);
            goto done;
        }
        s->t = cn_xmalloc(n * sizeof *s->t);
        s->p = pred;
        pred = NULL;
        for (size_t i = 0; i < n; i++) {
            s->t[i] = c->num[rows[i]];
            if (!isfinite(s->t[i])) {
                rc = cn_fail(ctx, CAIRN_EINVAL, "label '%s' row %zu is missing; drop the row",
                             label, rows[i]);
                goto done;
            }
        }
        goto done;
    }
    s->classes = cn_xcalloc(s->k, sizeof *s->classes);
    for (size_t j = 0; j < s->k; j++)
        s->classes[j] = cairn_model_class_label(m, j);
    s->y_true = cn_xmalloc(n * sizeof *s->y_true);
    s->y_pred = cn_xmalloc(n * sizeof *s->y_pred);
    s->proba = cn_xmalloc(n * s->k * sizeof *s->proba);
    rc = cairn_model_predict_proba(ctx, m, t, rows, n, s->proba);
    if (rc != CAIRN_OK)
        goto done;
    for (size_t i = 0; i < n; i++) {
        char tmp[64];
        const char *text = NULL;
        if (!cell_text(c, rows[i], tmp, sizeof tmp, &text)) {
            rc = cn_fail(ctx, CAIRN_EINVAL, "label '%s' row %zu is missing; drop the row", label,
                         rows[i]);
            goto done;
        }
        int32_t y = -1;
        for (size_t j = 0; j < s->k; j++)
            if (strcmp(cairn_model_class_label(m, j), text) == 0)
                y = (int32_t)j;
        if (y < 0) {
            rc = cn_fail(ctx, CAIRN_EINVAL,
                         "label '%s' row %zu is '%s', a class the model never saw in training",
                         label, rows[i], text);
            goto done;
        }
        s->y_true[i] = y;
        s->y_pred[i] = (int32_t)pred[i];
    }
done:
    free(pred);
    if (rc != CAIRN_OK)
        cn_scores_release(s);
    return rc;
}

static bool known(const char *const *list, const char *name)
{
    for (size_t i = 0; list[i]; i++)
        if (strcmp(list[i], name) == 0)
            return true;
    return false;
}

cairn_status cn_metrics_check(cairn_ctx *ctx, bool is_classification, char *const *names, size_t n)
{
    const char *const *list = is_classification ? class_names : reg_names;
    for (size_t i = 0; i < n; i++) {
        if (known(list, names[i]))
            continue;
        cn_buf b = CN_BUF_INIT;
        for (size_t j = 0; list[j]; j++)
            cn_buf_printf(&b, "%s%s", j ? ", " : "", list[j]);
        cairn_status rc =
            cn_fail(ctx, CAIRN_EINVAL, "metrics: '%s' is not a %s metric; known: %s", names[i],
                    is_classification ? "classification" : "regression", cn_buf_str(&b));
        cn_buf_release(&b);
        return rc;
    }
    return CAIRN_OK;
}

cairn_status cn_metric_value(cairn_ctx *ctx, cn_scores *s, const char *name, const size_t *idx,
                             size_t n, double *out)
{
    *out = NAN;
    if (!s->is_classification) {
        for (size_t i = 0; i < n; i++) {
            s->bx[i] = s->t[idx ? idx[i] : i];
            s->by[i] = s->p[idx ? idx[i] : i];
        }
        cairn_regression_metrics m;
        cairn_status rc = cairn_eval_regression(ctx, s->bx, s->by, n, &m);
        if (rc != CAIRN_OK)
            return rc;
        *out = strcmp(name, "mae") == 0    ? m.mae
               : strcmp(name, "mse") == 0  ? m.mse
               : strcmp(name, "rmse") == 0 ? m.rmse
               : strcmp(name, "r2") == 0   ? m.r2
                                           : m.mape;
        return CAIRN_OK;
    }
    size_t k = s->k;
    for (size_t i = 0; i < n; i++) {
        size_t r = idx ? idx[i] : i;
        s->bt[i] = s->y_true[r];
        s->bp[i] = s->y_pred[r];
        memcpy(s->bx + i * k, s->proba + r * k, k * sizeof(double));
    }
    const int32_t *yt = s->bt, *yp = s->bp;
    if (strcmp(name, "accuracy") == 0)
        return cairn_eval_accuracy(ctx, yt, yp, n, out);
    if (strcmp(name, "balanced_accuracy") == 0)
        return cairn_eval_balanced_accuracy(ctx, yt, yp, n, k, out);
    if (strcmp(name, "precision_macro") == 0)
        return cairn_eval_prf(ctx, yt, yp, n, k, CAIRN_AVERAGE_MACRO, out, NULL, NULL);
    if (strcmp(name, "recall_macro") == 0)
        return cairn_eval_prf(ctx, yt, yp, n, k, CAIRN_AVERAGE_MACRO, NULL, out, NULL);
    if (strcmp(name, "f1_macro") == 0)
        return cairn_eval_prf(ctx, yt, yp, n, k, CAIRN_AVERAGE_MACRO, NULL, NULL, out);
    if (strcmp(name, "f1_weighted") == 0)
        return cairn_eval_prf(ctx, yt, yp, n, k, CAIRN_AVERAGE_WEIGHTED, NULL, NULL, out);
    if (strcmp(name, "f1_micro") == 0)
        return cairn_eval_prf(ctx, yt, yp, n, k, CAIRN_AVERAGE_MICRO, NULL, NULL, out);
    if (strcmp(name, "mcc") == 0)
        return cairn_eval_mcc(ctx, yt, yp, n, k, out);
    if (strcmp(name, "cohen_kappa") == 0)
        return cairn_eval_cohen_kappa(ctx, yt, yp, n, k, out);
    if (strcmp(name, "roc_auc") == 0 || strcmp(name, "roc_auc_ovr") == 0 ||
        strcmp(name, "roc_auc_ovo") == 0)
        return cairn_eval_roc_auc(ctx, yt, s->bx, n, k,
                                  strcmp(name, "roc_auc_ovo") == 0 ? CAIRN_MULTICLASS_OVO
                                                                   : CAIRN_MULTICLASS_OVR,
                                  CAIRN_AVERAGE_MACRO, out);
    if (strcmp(name, "log_loss") == 0)
        return cairn_eval_log_loss(ctx, yt, s->bx, n, k, 0, out);
    if (strcmp(name, "average_precision") == 0 || (strcmp(name, "brier") == 0 && k == 2)) {
        if (k != 2)
            return cn_fail(ctx, CAIRN_EINVAL, "average_precision needs two classes, not %zu", k);
        for (size_t i = 0; i < n; i++)
            s->bx[i] = s->bx[2 * i + 1]; /* the positive column, in place */
        return name[0] == 'a' ? cairn_eval_average_precision(ctx, yt, s->bx, n, out)
                              : cairn_eval_brier_binary(ctx, yt, s->bx, n, out);
    }
    if (strcmp(name, "brier") == 0)
        return cairn_eval_brier_multiclass(ctx, yt, s->bx, n, k, out);
    return cn_fail(ctx, CAIRN_EINVAL, "unknown metric '%s'", name);
}

typedef struct boot_call {
    cn_scores *s;
    const char *name;
} boot_call;

static cairn_status boot_metric(cairn_ctx *ctx, const size_t *idx, size_t n, void *user,
                                double *out)
{
    boot_call *bc = user;
    return cn_metric_value(ctx, bc->s, bc->name, idx, n, out);
}

void cn_metrics_score(cairn_ctx *ctx, cn_scores *s, char *const *names, size_t n_names,
                      size_t n_boot, uint64_t seed, cairn_scored_metric *out)
{
    for (size_t i = 0; i < n_names; i++) {
        cairn_scored_metric *m = &out[i];
        m->name = names[i];
        m->ci_low = m->ci_high = NAN;
        if (cn_metric_value(ctx, s, names[i], NULL, s->n, &m->value) != CAIRN_OK) {
            cn_log(ctx, CAIRN_LOG_WARN, "train", "metric '%s' is undefined here: %s", names[i],
                   cairn_errmsg(ctx));
            m->value = NAN;
            continue;
        }
        if (n_boot == 0)
            continue;
        boot_call bc = {s, names[i]};
        cairn_bootstrap_opts bo = CAIRN_BOOTSTRAP_OPTS_INIT;
        bo.n_resamples = n_boot;
        bo.seed = seed;
        cairn_interval iv;
        if (cairn_bootstrap_ci(ctx, s->n, boot_metric, &bc, &bo, &iv) == CAIRN_OK) {
            m->ci_low = iv.low;
            m->ci_high = iv.high;
        } else {
            cn_log(ctx, CAIRN_LOG_WARN, "train", "no interval for metric '%s': %s", names[i],
                   cairn_errmsg(ctx));
        }
    }
}

static cairn_status metrics_log(cairn_run *run, const char *prefix, const cairn_scored_metric *m,
                                size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const char *suffix[3] = {"", "_ci_low", "_ci_high"};
        double v[3] = {m[i].value, m[i].ci_low, m[i].ci_high};
        for (int j = 0; j < 3; j++) {
            if (!isfinite(v[j]))
                continue;
            char *key = cn_asprintf("%s%s%s", prefix, m[i].name, suffix[j]);
            cairn_status rc = cairn_run_log_metric(run, key, v[j], 0);
            free(key);
            if (rc != CAIRN_OK)
                return rc;
        }
    }
    return cairn_run_flush(run);
}

static void csv_num(cn_buf *b, double v)
{
    char tmp[64];
    cn_format_double(v, tmp, sizeof tmp);
    cn_buf_puts(b, tmp);
}

static void scores_csv(const cn_scores *s, cn_buf *out)
{
    cn_buf_puts(out, "row,y_true,y_pred");
    for (size_t j = 0; j < s->k; j++) {
        char *h = cn_asprintf("p_%s", s->classes[j]);
        cn_buf_putc(out, ',');
        cn_csv_put_field(out, h, false);
        free(h);
    }
    cn_buf_putc(out, '\n');
    for (size_t i = 0; i < s->n; i++) {
        cn_buf_printf(out, "%zu,", s->rows[i]);
        if (s->is_classification) {
            cn_csv_put_field(out, s->classes[s->y_true[i]], false);
            cn_buf_putc(out, ',');
            cn_csv_put_field(out, s->classes[s->y_pred[i]], false);
            for (size_t j = 0; j < s->k; j++) {
                cn_buf_putc(out, ',');
                csv_num(out, s->proba[i * s->k + j]);
            }
        } else {
            csv_num(out, s->t[i]);
            cn_buf_putc(out, ',');
            csv_num(out, s->p[i]);
        }
        cn_buf_putc(out, '\n');
    }
}

static cairn_status put_svg(cairn_run *run, const char *prefix, const char *name, char *svg,
                            char ***paths, size_t *n_paths)
{
    char *path = cn_asprintf("plots/%s%s.svg", prefix, name);
    cairn_status rc = cairn_run_log_artifact_bytes(run, path, svg, strlen(svg));
    cairn_free(svg);
    if (rc != CAIRN_OK) {
        free(path);
        return rc;
    }
    *paths = cn_xrealloc(*paths, (*n_paths + 1) * sizeof **paths);
    (*paths)[(*n_paths)++] = path;
    return CAIRN_OK;
}

/* One-vs-rest curves for every class (one curve, of class 1, for two classes). */
static cairn_status class_curves(cairn_ctx *ctx, cairn_run *run, const cn_scores *s,
                                 const char *prefix, char ***paths, size_t *n_paths)
{
    size_t n = s->n, k = s->k, first = k == 2 ? 1 : 0, nc = k == 2 ? 1 : k;
    cairn_curve *roc = cn_xcalloc(nc, sizeof *roc), *pr = cn_xcalloc(nc, sizeof *pr);
    cairn_curve *cal = cn_xcalloc(nc, sizeof *cal);
    double *auc = cn_xcalloc(nc, sizeof *auc), *ap = cn_xcalloc(nc, sizeof *ap);
    double *prev = cn_xcalloc(nc, sizeof *prev);
    const char **names = cn_xcalloc(nc, sizeof *names);
    int32_t *y = cn_xmalloc(n * sizeof *y);
    double *score = cn_xmalloc(n * sizeof *score);
    size_t ok = 0, n_cal = 0;
    cairn_curve *cal_ok = cn_xcalloc(nc, sizeof *cal_ok);
    const char **cal_names = cn_xcalloc(nc, sizeof *cal_names);
    cairn_status rc = CAIRN_OK;
    for (size_t c = first; c < k; c++) {
        size_t pos = 0;
        for (size_t i = 0; i < n; i++) {
            y[i] = s->y_true[i] == (int32_t)c;
            pos += (size_t)y[i];
            score[i] = s->proba[i * k + c];
        }
        if (pos == 0 || pos == n)
            continue; /* a class absent from these rows has no curve */
        size_t j = ok;
        if (cairn_eval_roc_curve(ctx, y, score, n, &roc[j]) != CAIRN_OK ||
            cairn_eval_pr_curve(ctx, y, score, n, &pr[j]) != CAIRN_OK ||
            cairn_eval_roc_auc_binary(ctx, y, score, n, &auc[j]) != CAIRN_OK ||
            cairn_eval_average_precision(ctx, y, score, n, &ap[j]) != CAIRN_OK) {
            cairn_curve_release(&roc[j]);
            cairn_curve_release(&pr[j]);
            continue;
        }
        prev[j] = (double)pos / (double)n;
        names[j] = s->classes[c];
        ok++;
        if (cairn_eval_calibration_curve(ctx, y, score, n, 10, CAIRN_CALIBRATION_UNIFORM,
                                         &cal[n_cal]) == CAIRN_OK) {
            cal_ok[n_cal] = cal[n_cal];
            cal_names[n_cal] = s->classes[c];
            n_cal++;
        }
    }
    char *svg = NULL;
    if (ok > 0) {
        rc = cairn_plot_roc(ctx, roc, names, auc, ok, NULL, &svg);
        if (rc == CAIRN_OK)
            rc = put_svg(run, prefix, "roc", svg, paths, n_paths);
        if (rc == CAIRN_OK)
            rc = cairn_plot_pr(ctx, pr, names, ap, prev, ok, NULL, &svg);
        if (rc == CAIRN_OK)
            rc = put_svg(run, prefix, "pr", svg, paths, n_paths);
    }
    if (rc == CAIRN_OK && n_cal > 0) {
        rc = cairn_plot_calibration(ctx, cal_ok, cal_names, n_cal, NULL, &svg);
        if (rc == CAIRN_OK)
            rc = put_svg(run, prefix, "calibration", svg, paths, n_paths);
    }
    for (size_t j = 0; j < nc; j++) {
        cairn_curve_release(&roc[j]);
        cairn_curve_release(&pr[j]);
        cairn_curve_release(&cal[j]);
    }
    free(roc);
    free(pr);
    free(cal);
    free(cal_ok);
    free(cal_names);
    free(auc);
    free(ap);
    free(prev);
    free(names);
    free(y);
    free(score);
    return rc;
}

static cairn_status scores_plots(cairn_ctx *ctx, cairn_run *run, const cn_scores *s,
                                 const char *prefix, char ***paths, size_t *n_paths)
{
    char *svg = NULL;
    cairn_status rc;
    if (!s->is_classification) {
        cairn_plot_opts po = CAIRN_PLOT_OPTS_INIT;
        rc = cairn_plot_predicted_vs_true(ctx, s->t, s->p, s->n, &po, &svg);
        return rc == CAIRN_OK ? put_svg(run, prefix, "predicted_vs_true", svg, paths, n_paths) : rc;
    }
    int64_t *cm = cn_xcalloc(s->k * s->k, sizeof *cm);
    rc = cairn_eval_confusion_matrix(ctx, s->y_true, s->y_pred, s->n, s->k, cm);
    if (rc == CAIRN_OK)
        rc = cairn_plot_confusion_matrix(ctx, cm, s->k, s->classes, NULL, &svg);
    free(cm);
    if (rc == CAIRN_OK)
        rc = put_svg(run, prefix, "confusion_matrix", svg, paths, n_paths);
    if (rc == CAIRN_OK)
        rc = class_curves(ctx, run, s, prefix, paths, n_paths);
    return rc;
}

cairn_status cn_scores_log(cairn_ctx *ctx, cairn_run *run, const cn_scores *s, const char *split,
                           const cairn_scored_metric *m, size_t n, const char *plot_prefix,
                           char ***paths, size_t *n_paths)
{
    char prefix[32], csv_path[64];
    snprintf(prefix, sizeof prefix, "%s_", split);
    snprintf(csv_path, sizeof csv_path, "predictions/%s.csv", split);
    cairn_status rc = metrics_log(run, prefix, m, n);
    if (rc == CAIRN_OK) {
        cn_buf csv = CN_BUF_INIT;
        scores_csv(s, &csv);
        rc = cairn_run_log_artifact_bytes(run, csv_path, csv.data, csv.len);
        cn_buf_release(&csv);
    }
    if (rc == CAIRN_OK)
        rc = scores_plots(ctx, run, s, plot_prefix, paths, n_paths);
    return rc;
}
