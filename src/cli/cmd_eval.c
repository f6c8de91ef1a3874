/* SPDX-License-Identifier: MIT */
/* cmd_eval.c - `cairn eval metrics`: scores any tool's predictions (a CSV of y_true, y_pred and
 * optional per-class probabilities) with the metrics of cairn/eval.h, bootstrap 95% intervals
 * for the main ones, a human table or JSON, and optional SVG pictures. `eval model`, `eval
 * final` and `eval compare` call the guardrailed evaluation of cairn/train.h. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "cairn/data.h"
#include "cairn/eval.h"
#include "cairn/train.h"
#include "base/buf.h"
#include "base/fs.h"
#include "base/jsonw.h"
#include "base/xmalloc.h"
#include "base/banned.h"

static const char usage_metrics[] =
    "usage: cairn eval metrics --input FILE [--task T] [--json] [--bootstrap N] [--seed N] "
    "[--plots DIR]\n";
static const char help_metrics[] =
    "\nScores predictions in a CSV file with a header. Columns: y_true and y_pred (class labels\n"
    "or numbers); for classification optionally one probability column per class, named\n"
    "proba_<class> or p_<class> (e.g. proba_0, proba_1, or p_cat, p_dog). Classes are sorted\n"
    "numerically when every label is a number, else as text; with two classes the second is\n"
    "the positive one. The task is classification when there are probability columns or the\n"
    "labels are not all integers, else regression, unless --task says.\n\n"
    "  --input FILE      the predictions CSV (also -i)\n"
    "  --task T          classification or regression\n"
    "  --json            print the report as JSON\n"
    "  --bootstrap N     resamples for the 95% intervals (default 1000, 0: none)\n"
    "  --seed N          bootstrap seed (default 0)\n"
    "  --plots DIR       write confusion_matrix.svg (and roc.svg, pr.svg, calibration.svg for\n"
    "                    two classes with probabilities) into DIR\n";

#define BOOTSTRAP_MAX 1000000

typedef struct eval_args {
    const char *input, *task, *plots;
    bool json;
    size_t n_boot;
    uint64_t seed;
} eval_args;

/* ---- the data being scored ---- */

typedef struct scored_data {
    size_t n, k;
    bool is_classification;
    char **classes; /* k names */
    int32_t *y_true, *y_pred;
    double *proba;          /* n x k, or NULL */
    double *pos;            /* column of the positive class when k == 2 */
    double *t, *p;          /* regression */
    int32_t *buf_t, *buf_p; /* resample scratch */
    double *buf_x, *buf_y;
} scored_data;

static void scored_release(scored_data *d)
{
    for (size_t i = 0; d->classes && i < d->k; i++)
        free(d->classes[i]);
    free(d->classes);
    free(d->y_true);
    free(d->y_pred);
    free(d->proba);
    free(d->pos);
    free(d->t);
    free(d->p);
    free(d->buf_t);
    free(d->buf_p);
    free(d->buf_x);
    free(d->buf_y);
}

/* The label text of row i of a column: a level, or the number in its shortest form. */
static char *label_text(const cairn_column *c, size_t i)
{
    char tmp[64];
    if (c->type == CAIRN_COL_CATEGORICAL) {
        if (c->cat[i] < 0)
            return NULL;
        return cn_xstrdup(c->levels[c->cat[i]]);
    }
    if (isnan(c->num[i]))
        return NULL;
    snprintf(tmp, sizeof tmp, "%.17g", c->num[i]);
    double back = strtod(tmp, NULL);
    for (int prec = 1; prec < 17; prec++) { /* shortest round-trip form: 1 not 1.0000 */
        char s[64];
        snprintf(s, sizeof s, "%.*g", prec, c->num[i]);
        if (strtod(s, NULL) == back)
            return cn_xstrdup(s);
    }
    return cn_xstrdup(tmp);
}

static bool is_number(const char *s, double *v)
{
    char *end;
    errno = 0;
    *v = strtod(s, &end);
    return *s && *end == '\0' && errno == 0;
}

static int cmp_class(const void *pa, const void *pb)
{
    const char *a = *(char *const *)pa, *b = *(char *const *)pb;
    double x, y;
    if (is_number(a, &x) && is_number(b, &y) && x != y)
        return x < y ? -1 : 1;
    return strcmp(a, b);
}

static int cmp_text(const void *pa, const void *pb)
{
    return strcmp(*(char *const *)pa, *(char *const *)pb);
}

static bool all_numeric(char **v, size_t n)
{
    double x;
    for (size_t i = 0; i < n; i++)
        if (!is_number(v[i], &x))
            return false;
    return true;
}

static int find_class(char **classes, size_t k, const char *name)
{
    for (size_t i = 0; i < k; i++)
        if (strcmp(classes[i], name) == 0)
            return (int)i;
    return -1;
}

static void add_class(char ***classes, size_t *k, size_t *cap, const char *name)
{
    if (find_class(*classes, *k, name) >= 0)
        return;
    if (*k == *cap) {
        *cap = *cap ? *cap * 2 : 8;
        *classes = cn_xrealloc(*classes, *cap * sizeof **classes);
    }
    (*classes)[(*k)++] = cn_xstrdup(name);
}

/* The class a probability column is for: "proba_<c>" or "p_<c>", else NULL. */
static const char *proba_class(const char *col)
{
    if (strncmp(col, "proba_", 6) == 0 && col[6])
        return col + 6;
    if (strncmp(col, "p_", 2) == 0 && col[2])
        return col + 2;
    return NULL;
}

static int load(const eval_args *a, scored_data *d)
{
    cairn_ctx *ctx = cairn_ctx_new();
    cairn_table *t = NULL;
    int rc = 1;
    memset(d, 0, sizeof *d);
    if (cairn_csv_read(ctx, a->input, NULL, &t) != CAIRN_OK) {
        rc = cli_fail(ctx);
        goto done;
    }
    int ct = cairn_table_find(t, "y_true"), cp = cairn_table_find(t, "y_pred");
    if (ct < 0 || cp < 0) {
        rc = cli_error("'%s' needs columns y_true and y_pred (found %zu columns)", a->input,
                       t->n_cols);
        goto done;
    }
    if (t->n_rows == 0) {
        rc = cli_error("'%s' has no rows to score", a->input);
        goto done;
    }
    const cairn_column *yt = &t->cols[ct], *yp = &t->cols[cp];
    size_t n_proba = 0;
    for (size_t j = 0; j < t->n_cols; j++)
        n_proba += proba_class(t->cols[j].name) != NULL;
    bool integral = yt->type == CAIRN_COL_NUMERIC && yp->type == CAIRN_COL_NUMERIC;
    for (size_t i = 0; integral && i < t->n_rows; i++)
        integral = yt->num[i] == floor(yt->num[i]) && yp->num[i] == floor(yp->num[i]);
    bool numeric = yt->type == CAIRN_COL_NUMERIC && yp->type == CAIRN_COL_NUMERIC;
    if (a->task)
        d->is_classification = strcmp(a->task, "classification") == 0;
    else
        d->is_classification = n_proba > 0 || !numeric || integral;
    d->n = t->n_rows;
    if (!d->is_classification) {
        if (!numeric) {
            rc = cli_error("'%s': regression needs numeric y_true and y_pred", a->input);
            goto done;
        }
        d->t = cn_xmemdup(yt->num, d->n * sizeof(double));
        d->p = cn_xmemdup(yp->num, d->n * sizeof(double));
        for (size_t i = 0; i < d->n; i++)
            if (isnan(d->t[i]) || isnan(d->p[i])) {
                rc = cli_error("'%s' row %zu: missing y_true or y_pred", a->input, i + 1);
                goto done;
            }
        d->buf_x = cn_xmalloc(d->n * sizeof(double));
        d->buf_y = cn_xmalloc(d->n * sizeof(double));
        rc = 0;
        goto done;
    }
    /* classes: every label seen plus every probability column's class */
    size_t cap = 0;
    char **lt = cn_xcalloc(d->n, sizeof *lt), **lp = cn_xcalloc(d->n, sizeof *lp);
    for (size_t i = 0; i < d->n; i++) {
        lt[i] = label_text(yt, i);
        lp[i] = label_text(yp, i);
        if (!lt[i] || !lp[i]) {
            rc = cli_error("'%s' row %zu: missing y_true or y_pred", a->input, i + 1);
            goto labels_done;
        }
        add_class(&d->classes, &d->k, &cap, lt[i]);
        add_class(&d->classes, &d->k, &cap, lp[i]);
    }
    for (size_t j = 0; j < t->n_cols; j++) {
        const char *c = proba_class(t->cols[j].name);
        if (c)
            add_class(&d->classes, &d->k, &cap, c);
    }
    /* numeric order when every label is a number ("2" < "10"), else text order */
    if (all_numeric(d->classes, d->k))
        qsort(d->classes, d->k, sizeof *d->classes, cmp_class);
    else
        qsort(d->classes, d->k, sizeof *d->classes, cmp_text);
    if (d->k < 2) {
        rc = cli_error("'%s': only one class ('%s'); classification needs two", a->input,
                       d->classes[0]);
        goto labels_done;
    }
    d->y_true = cn_xmalloc(d->n * sizeof(int32_t));
    d->y_pred = cn_xmalloc(d->n * sizeof(int32_t));
    for (size_t i = 0; i < d->n; i++) {
        d->y_true[i] = find_class(d->classes, d->k, lt[i]);
        d->y_pred[i] = find_class(d->classes, d->k, lp[i]);
    }
    if (n_proba > 0) {
        if (n_proba != d->k) {
            rc = cli_error("'%s': %zu probability columns for %zu classes; give one proba_<class> "
                           "column per class",
                           a->input, n_proba, d->k);
            goto labels_done;
        }
        d->proba = cn_xmalloc(d->n * d->k * sizeof(double));
        for (size_t j = 0; j < t->n_cols; j++) {
            const char *c = proba_class(t->cols[j].name);
            if (!c)
                continue;
            if (t->cols[j].type != CAIRN_COL_NUMERIC) {
                rc = cli_error("'%s': column '%s' is not numeric", a->input, t->cols[j].name);
                goto labels_done;
            }
            int k = find_class(d->classes, d->k, c);
            for (size_t i = 0; i < d->n; i++) {
                if (isnan(t->cols[j].num[i])) {
                    rc = cli_error("'%s' row %zu: missing '%s'", a->input, i + 1, t->cols[j].name);
                    goto labels_done;
                }
                d->proba[i * d->k + (size_t)k] = t->cols[j].num[i];
            }
        }
        if (d->k == 2) {
            d->pos = cn_xmalloc(d->n * sizeof(double));
            for (size_t i = 0; i < d->n; i++)
                d->pos[i] = d->proba[2 * i + 1];
        }
    }
    d->buf_t = cn_xmalloc(d->n * sizeof(int32_t));
    d->buf_p = cn_xmalloc(d->n * sizeof(int32_t));
    d->buf_x = cn_xmalloc(d->n * d->k * sizeof(double));
    rc = 0;
labels_done:
    for (size_t i = 0; i < d->n; i++) {
        free(lt[i]);
        free(lp[i]);
    }
    free(lt);
    free(lp);
done:
    cairn_table_free(t);
    cairn_close(ctx);
    return rc;
}

/* ---- metrics as callbacks over row indices (for the bootstrap) ---- */

typedef enum metric_id {
    M_ACCURACY,
    M_BALANCED,
    M_F1_MACRO,
    M_F1_WEIGHTED,
    M_PRECISION_MACRO,
    M_RECALL_MACRO,
    M_MCC,
    M_KAPPA,
    M_ROC_AUC,
    M_ROC_AUC_OVO,
    M_AP,
    M_LOG_LOSS,
    M_BRIER,
    M_MAE,
    M_MSE,
    M_RMSE,
    M_R2,
    M_MAPE
} metric_id;

typedef struct metric_def {
    metric_id id;
    const char *name;
    bool needs_proba, binary_only, bootstrap;
} metric_def;

static const metric_def class_metrics[] = {
    {M_ACCURACY, "accuracy", false, false, true},
    {M_BALANCED, "balanced_accuracy", false, false, true},
    {M_PRECISION_MACRO, "precision_macro", false, false, false},
    {M_RECALL_MACRO, "recall_macro", false, false, false},
    {M_F1_MACRO, "f1_macro", false, false, true},
    {M_F1_WEIGHTED, "f1_weighted", false, false, false},
    {M_MCC, "mcc", false, false, true},
    {M_KAPPA, "cohen_kappa", false, false, false},
    {M_ROC_AUC, "roc_auc", true, false, true},
    {M_ROC_AUC_OVO, "roc_auc_ovo", true, false, false},
    {M_AP, "average_precision", true, true, false},
    {M_LOG_LOSS, "log_loss", true, false, true},
    {M_BRIER, "brier", true, false, false},
};
static const metric_def reg_metrics[] = {
    {M_MAE, "mae", false, false, true},    {M_MSE, "mse", false, false, false},
    {M_RMSE, "rmse", false, false, true},  {M_R2, "r2", false, false, true},
    {M_MAPE, "mape", false, false, false},
};

typedef struct metric_call {
    scored_data *d;
    metric_id id;
} metric_call;

static cairn_status compute(cairn_ctx *ctx, const size_t *idx, size_t n, void *user, double *out)
{
    metric_call *mc = user;
    scored_data *d = mc->d;
    if (!d->is_classification) {
        for (size_t i = 0; i < n; i++) {
            d->buf_x[i] = d->t[idx[i]];
            d->buf_y[i] = d->p[idx[i]];
        }
        cairn_regression_metrics m;
        cairn_status st = cairn_eval_regression(ctx, d->buf_x, d->buf_y, n, &m);
        *out = mc->id == M_MAE    ? m.mae
               : mc->id == M_MSE  ? m.mse
               : mc->id == M_RMSE ? m.rmse
               : mc->id == M_R2   ? m.r2
                                  : m.mape;
        return st;
    }
    size_t k = d->k;
    for (size_t i = 0; i < n; i++) {
        d->buf_t[i] = d->y_true[idx[i]];
        d->buf_p[i] = d->y_pred[idx[i]];
        if (d->proba)
            memcpy(d->buf_x + i * k, d->proba + idx[i] * k, k * sizeof(double));
    }
    const int32_t *yt = d->buf_t, *yp = d->buf_p;
    switch (mc->id) {
    case M_ACCURACY: return cairn_eval_accuracy(ctx, yt, yp, n, out);
    case M_BALANCED: return cairn_eval_balanced_accuracy(ctx, yt, yp, n, k, out);
    case M_PRECISION_MACRO:
        return cairn_eval_prf(ctx, yt, yp, n, k, CAIRN_AVERAGE_MACRO, out, NULL, NULL);
    case M_RECALL_MACRO:
        return cairn_eval_prf(ctx, yt, yp, n, k, CAIRN_AVERAGE_MACRO, NULL, out, NULL);
    case M_F1_MACRO: return cairn_eval_prf(ctx, yt, yp, n, k, CAIRN_AVERAGE_MACRO, NULL, NULL, out);
    case M_F1_WEIGHTED:
        return cairn_eval_prf(ctx, yt, yp, n, k, CAIRN_AVERAGE_WEIGHTED, NULL, NULL, out);
    case M_MCC: return cairn_eval_mcc(ctx, yt, yp, n, k, out);
    case M_KAPPA: return cairn_eval_cohen_kappa(ctx, yt, yp, n, k, out);
    case M_ROC_AUC:
    case M_ROC_AUC_OVO:
        return cairn_eval_roc_auc(ctx, yt, d->buf_x, n, k,
                                  mc->id == M_ROC_AUC ? CAIRN_MULTICLASS_OVR : CAIRN_MULTICLASS_OVO,
                                  CAIRN_AVERAGE_MACRO, out);
    case M_AP: {
        for (size_t i = 0; i < n; i++)
            d->buf_x[i] = d->buf_x[2 * i + 1]; /* the positive column, in place */
        return cairn_eval_average_precision(ctx, yt, d->buf_x, n, out);
    }
    case M_LOG_LOSS: return cairn_eval_log_loss(ctx, yt, d->buf_x, n, k, 0, out);
    case M_BRIER:
        if (k == 2) {
            for (size_t i = 0; i < n; i++)
                d->buf_x[i] = d->buf_x[2 * i + 1];
            return cairn_eval_brier_binary(ctx, yt, d->buf_x, n, out);
        }
        return cairn_eval_brier_multiclass(ctx, yt, d->buf_x, n, k, out);
    default: break;
    }
    return CAIRN_EINVAL;
}

typedef struct result_row {
    const char *name;
    bool ok;
    double value, low, high;
    bool has_ci;
    char err[256];
} result_row;

static void json_num(FILE *out, double v)
{
    if (isfinite(v))
        fprintf(out, "%.17g", v);
    else
        fputs("null", out);
}

static int write_svg(const char *dir, const char *name, char *svg)
{
    char *path = cn_path_join(dir, name);
    int rc = cn_fs_write_atomic(path, svg, strlen(svg));
    if (rc != 0)
        cli_error("cannot write '%s': %s", path, strerror(errno));
    free(path);
    cairn_free(svg);
    return rc != 0;
}

static int write_plots(cairn_ctx *ctx, const eval_args *a, scored_data *d, const int64_t *cm)
{
    char *svg = NULL;
    if (cn_fs_mkdirs(a->plots, 0777) != 0)
        return cli_error("cannot create '%s': %s", a->plots, strerror(errno));
    if (cairn_plot_confusion_matrix(ctx, cm, d->k, (const char *const *)d->classes, NULL, &svg) !=
        CAIRN_OK)
        return cli_fail(ctx);
    if (write_svg(a->plots, "confusion_matrix.svg", svg))
        return 1;
    if (d->k != 2 || !d->pos)
        return 0;
    cairn_curve roc = CAIRN_CURVE_INIT, pr = CAIRN_CURVE_INIT, cal = CAIRN_CURVE_INIT;
    double auc = NAN, ap = NAN, prev = 0;
    int rc = 1;
    for (size_t i = 0; i < d->n; i++)
        prev += d->y_true[i] == 1;
    prev /= (double)d->n;
    const char *name[] = {"model"};
    if (cairn_eval_roc_curve(ctx, d->y_true, d->pos, d->n, &roc) != CAIRN_OK ||
        cairn_eval_pr_curve(ctx, d->y_true, d->pos, d->n, &pr) != CAIRN_OK ||
        cairn_eval_average_precision(ctx, d->y_true, d->pos, d->n, &ap) != CAIRN_OK ||
        cairn_eval_calibration_curve(ctx, d->y_true, d->pos, d->n, 10, CAIRN_CALIBRATION_UNIFORM,
                                     &cal) != CAIRN_OK) {
        rc = cli_fail(ctx);
        goto done;
    }
    if (cairn_eval_roc_auc_binary(ctx, d->y_true, d->pos, d->n, &auc) == CAIRN_OK) {
        if (cairn_plot_roc(ctx, &roc, name, &auc, 1, NULL, &svg) != CAIRN_OK ||
            write_svg(a->plots, "roc.svg", svg))
            goto done;
    }
    if (cairn_plot_pr(ctx, &pr, name, &ap, &prev, 1, NULL, &svg) != CAIRN_OK ||
        write_svg(a->plots, "pr.svg", svg))
        goto done;
    if (cairn_plot_calibration(ctx, &cal, name, 1, NULL, &svg) != CAIRN_OK ||
        write_svg(a->plots, "calibration.svg", svg))
        goto done;
    rc = 0;
done:
    cairn_curve_release(&roc);
    cairn_curve_release(&pr);
    cairn_curve_release(&cal);
    return rc;
}

static int run_metrics(const eval_args *a)
{
    scored_data d;
    int rc = load(a, &d);
    if (rc != 0) {
        scored_release(&d);
        return rc;
    }
    cairn_ctx *ctx = cairn_ctx_new();
    const metric_def *defs = d.is_classification ? class_metrics : reg_metrics;
    size_t n_defs = d.is_classification ? CN_ARRAY_LEN(class_metrics) : CN_ARRAY_LEN(reg_metrics);
    result_row *rows = cn_xcalloc(n_defs, sizeof *rows);
    size_t n_rows = 0;
    size_t *all = cn_xmalloc(d.n * sizeof *all);
    for (size_t i = 0; i < d.n; i++)
        all[i] = i;
    for (size_t m = 0; m < n_defs; m++) {
        if (defs[m].needs_proba && !d.proba)
            continue;
        if (defs[m].binary_only && d.k != 2)
            continue;
        if (defs[m].id == M_ROC_AUC_OVO && d.k == 2)
            continue;
        result_row *r = &rows[n_rows++];
        metric_call mc = {&d, defs[m].id};
        r->name = defs[m].name;
        if (compute(ctx, all, d.n, &mc, &r->value) != CAIRN_OK) {
            snprintf(r->err, sizeof r->err, "%s", cairn_errmsg(ctx));
            continue;
        }
        r->ok = true;
        if (defs[m].bootstrap && a->n_boot > 0) {
            cairn_bootstrap_opts bo = CAIRN_BOOTSTRAP_OPTS_INIT;
            cairn_interval ci;
            bo.n_resamples = a->n_boot;
            bo.seed = a->seed;
            if (cairn_bootstrap_ci(ctx, d.n, compute, &mc, &bo, &ci) == CAIRN_OK) {
                r->has_ci = true;
                r->low = ci.low;
                r->high = ci.high;
            }
        }
    }
    free(all);
    int64_t *cm = NULL;
    double *prec = NULL, *rec = NULL, *f1 = NULL;
    int64_t *sup = NULL;
    if (d.is_classification) {
        cm = cn_xcalloc(d.k * d.k, sizeof *cm);
        prec = cn_xcalloc(d.k, sizeof *prec);
        rec = cn_xcalloc(d.k, sizeof *rec);
        f1 = cn_xcalloc(d.k, sizeof *f1);
        sup = cn_xcalloc(d.k, sizeof *sup);
        if (cairn_eval_confusion_matrix(ctx, d.y_true, d.y_pred, d.n, d.k, cm) != CAIRN_OK ||
            cairn_eval_prf_per_class(ctx, d.y_true, d.y_pred, d.n, d.k, prec, rec, f1, sup) !=
                CAIRN_OK) {
            rc = cli_fail(ctx);
            goto done;
        }
    }
    if (a->json) {
        printf("{\"task\": \"%s\", \"n_rows\": %zu, ",
               d.is_classification ? "classification" : "regression", d.n);
        if (d.is_classification) {
            printf("\"classes\": [");
            for (size_t k = 0; k < d.k; k++) {
                printf(k ? ", " : "");
                cli_json_str(stdout, d.classes[k]);
            }
            printf("], \"has_probabilities\": %s, ", d.proba ? "true" : "false");
        }
        printf("\"bootstrap\": {\"resamples\": %zu, \"seed\": %llu, \"confidence\": 0.95},\n"
               " \"metrics\": {",
               a->n_boot, (unsigned long long)a->seed);
        for (size_t i = 0; i < n_rows; i++) {
            printf("%s\n  ", i ? "," : "");
            cli_json_str(stdout, rows[i].name);
            printf(": {\"value\": ");
            json_num(stdout, rows[i].ok ? rows[i].value : NAN);
            if (rows[i].has_ci) {
                printf(", \"ci_low\": ");
                json_num(stdout, rows[i].low);
                printf(", \"ci_high\": ");
                json_num(stdout, rows[i].high);
            }
            if (!rows[i].ok) {
                printf(", \"error\": ");
                cli_json_str(stdout, rows[i].err);
            }
            printf("}");
        }
        printf("}");
        if (d.is_classification) {
            printf(",\n \"per_class\": [");
            for (size_t k = 0; k < d.k; k++) {
                printf("%s\n  {\"class\": ", k ? "," : "");
                cli_json_str(stdout, d.classes[k]);
                printf(", \"precision\": %.17g, \"recall\": %.17g, \"f1\": %.17g, "
                       "\"support\": %lld}",
                       prec[k], rec[k], f1[k], (long long)sup[k]);
            }
            printf("],\n \"confusion_matrix\": [");
            for (size_t r = 0; r < d.k; r++) {
                printf("%s[", r ? ", " : "");
                for (size_t c = 0; c < d.k; c++)
                    printf("%s%lld", c ? ", " : "", (long long)cm[r * d.k + c]);
                printf("]");
            }
            printf("]");
        }
        printf("}\n");
    } else {
        printf("task: %s, %zu rows", d.is_classification ? "classification" : "regression", d.n);
        if (d.is_classification)
            printf(", %zu classes%s", d.k, d.proba ? ", with probabilities" : "");
        printf("\n\n");
        static const char *const head[] = {"metric", "value", "95% CI (bootstrap)"};
        cli_table *t = cli_table_new(3, head);
        for (size_t i = 0; i < n_rows; i++) {
            char v[64], ci[96];
            if (rows[i].ok)
                snprintf(v, sizeof v, "%.4f", rows[i].value);
            else
                snprintf(v, sizeof v, "undefined");
            if (rows[i].has_ci)
                snprintf(ci, sizeof ci, "[%.4f, %.4f]", rows[i].low, rows[i].high);
            else
                snprintf(ci, sizeof ci, "-");
            const char *cells[] = {rows[i].name, v, ci};
            cli_table_add(t, cells);
        }
        cli_table_print(t, stdout);
        cli_table_free(t);
        for (size_t i = 0; i < n_rows; i++)
            if (!rows[i].ok)
                printf("%s: %s\n", rows[i].name, rows[i].err);
        if (d.is_classification) {
            printf("\n");
            static const char *const ph[] = {"class", "precision", "recall", "f1", "support"};
            t = cli_table_new(5, ph);
            for (size_t k = 0; k < d.k; k++) {
                char p[32], r[32], f[32], s[32];
                snprintf(p, sizeof p, "%.4f", prec[k]);
                snprintf(r, sizeof r, "%.4f", rec[k]);
                snprintf(f, sizeof f, "%.4f", f1[k]);
                snprintf(s, sizeof s, "%lld", (long long)sup[k]);
                const char *cells[] = {d.classes[k], p, r, f, s};
                cli_table_add(t, cells);
            }
            cli_table_print(t, stdout);
            cli_table_free(t);
            printf("\nconfusion matrix (rows: true, columns: predicted)\n");
            const char **ch = cn_xcalloc(d.k + 1, sizeof *ch);
            ch[0] = "";
            for (size_t k = 0; k < d.k; k++)
                ch[k + 1] = d.classes[k];
            t = cli_table_new(d.k + 1, ch);
            char **cells = cn_xcalloc(d.k + 1, sizeof *cells);
            for (size_t r = 0; r < d.k; r++) {
                cells[0] = cn_xstrdup(d.classes[r]);
                for (size_t c = 0; c < d.k; c++) {
                    char num[32];
                    snprintf(num, sizeof num, "%lld", (long long)cm[r * d.k + c]);
                    cells[c + 1] = cn_xstrdup(num);
                }
                cli_table_add(t, (const char *const *)cells);
                for (size_t c = 0; c <= d.k; c++)
                    free(cells[c]);
            }
            free(cells);
            free(ch);
            cli_table_print(t, stdout);
            cli_table_free(t);
        }
    }
    if (a->plots && d.is_classification)
        rc = write_plots(ctx, a, &d, cm);
done:
    free(cm);
    free(prec);
    free(rec);
    free(f1);
    free(sup);
    free(rows);
    cairn_close(ctx);
    scored_release(&d);
    return rc;
}

/* Reads the value of --bootstrap (c 'b': a count up to BOOTSTRAP_MAX) or --seed (c 's');
 * false after printing the usage error. */
static bool u64_option(const char *usage, int c, const char *arg, uint64_t *v)
{
    char *end;
    errno = 0;
    unsigned long long x = strtoull(arg, &end, 10);
    bool ok = *arg && !*end && !errno && arg[0] != '-';
    if (c == 'b' && (!ok || x > BOOTSTRAP_MAX)) {
        cli_usage(usage, "--bootstrap '%s' is not a count in 0..1000000", arg);
        return false;
    }
    if (!ok) {
        cli_usage(usage, "--seed '%s' is not a non-negative integer", arg);
        return false;
    }
    *v = x;
    return true;
}

static int cmd_eval_metrics(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"input", required_argument, NULL, 'i'}, {"task", required_argument, NULL, 't'},
        {"json", no_argument, NULL, 'j'},        {"bootstrap", required_argument, NULL, 'b'},
        {"seed", required_argument, NULL, 's'},  {"plots", required_argument, NULL, 'p'},
        {"help", no_argument, NULL, 'h'},        {NULL, 0, NULL, 0}};
    eval_args a = {NULL, NULL, NULL, false, 1000, 0};
    uint64_t v;
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":i:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'i': a.input = optarg; break;
        case 't':
            if (strcmp(optarg, "classification") != 0 && strcmp(optarg, "regression") != 0)
                return cli_usage(usage_metrics, "--task '%s' is not classification or regression",
                                 optarg);
            a.task = optarg;
            break;
        case 'j': a.json = true; break;
        case 'b':
            if (!u64_option(usage_metrics, c, optarg, &v))
                return 2;
            a.n_boot = (size_t)v;
            break;
        case 's':
            if (!u64_option(usage_metrics, c, optarg, &v))
                return 2;
            a.seed = v;
            break;
        case 'p': a.plots = optarg; break;
        default: return cli_other_option(c, usage_metrics, help_metrics, argv);
        }
    }
    if (optind < argc)
        return cli_usage(usage_metrics, "unexpected argument '%s'", argv[optind]);
    if (!a.input)
        return cli_usage(usage_metrics, "--input FILE is required");
    return run_metrics(&a);
}

/* ---- eval model / final / compare (cairn/train.h) ---- */

static const char usage_model[] =
    "usage: cairn eval model RUN_ID|MODEL_FILE --data CSV [--bootstrap N] [--seed N] [--log] "
    "[--experiment NAME] [--json]\n";
static const char help_model[] =
    "\nScores a saved model (a run's model/model.cairn, or a model file) on a CSV holding its\n"
    "features and label. Refuses when any row equals a row the model was trained on.\n\n"
    "  --data CSV          the rows to score (required)\n"
    "  --bootstrap N       resamples for the 95% intervals (default: the run's, else 1000; 0:\n"
    "                      none)\n"
    "  --seed N            bootstrap seed (default 0)\n"
    "  --log               record the metrics (eval_<metric>) in a new run\n"
    "  --experiment NAME   that run's experiment (default: the model's run's)\n"
    "  --json              print the report as JSON\n";
static const char usage_final[] = "usage: cairn eval final RUN_ID [--bootstrap N] [--json]\n";
static const char help_final[] =
    "\nEvaluates a 'cairn train' run's model on the run's own sealed test split, once: logs\n"
    "test_<metric> with 95% intervals, predictions/test.csv, plots/test_*.svg and tag\n"
    "cairn.test.looks. A second look still answers, but is flagged on the run\n"
    "(cairn.test.second_look=true) and warned about.\n\n"
    "  --bootstrap N       resamples for the intervals (default: the run's)\n"
    "  --json              print the report as JSON\n";
static const char usage_compare[] = "usage: cairn eval compare RUN_A RUN_B [--json]\n";
static const char help_compare[] =
    "\nSays whether two 'cairn train' runs differ significantly (p < 0.05), on the rows both\n"
    "were scored on (test after 'eval final', else validation; same row indices and data\n"
    "digest): McNemar on correctness (exact below 25 discordant rows, else chi-square with\n"
    "continuity correction) and a paired-bootstrap 95% CI of the accuracy difference; for\n"
    "regression Wilcoxon on absolute errors and a paired-bootstrap CI of the MSE difference.\n"
    "Without shared rows, on shared cross-validation folds: paired t-test and Wilcoxon.\n\n"
    "  --json              print the result as JSON\n";

static void print_report(const cairn_eval_report *r, bool json, const char *what)
{
    if (json) {
        cn_jsonw w;
        cn_jsonw_init(&w, stdout, 2);
        cn_jsonw_object_begin(&w);
        cn_jsonw_kstring(&w, "model_run_id", r->model_run_id);
        cn_jsonw_kstring(&w, "logged_run_id", r->logged_run_id);
        cn_jsonw_kstring(&w, "task", r->task);
        cn_jsonw_kint(&w, "rows", (int64_t)r->n_rows);
        if (r->looks) {
            cn_jsonw_kint(&w, "looks", r->looks);
            cn_jsonw_kbool(&w, "second_look", r->looks > 1);
            cn_jsonw_kint(&w, "previous_look_ms", r->previous_look_ms);
        }
        cn_jsonw_kstring(&w, "artifact_dir", r->artifact_dir);
        cli_write_scored(&w, "metrics", r->metrics, r->n_metrics);
        cn_jsonw_object_end(&w);
        cn_jsonw_finish(&w);
        cn_jsonw_release(&w);
        return;
    }
    printf("%s metrics on %zu rows (95%% bootstrap CI):\n", what, r->n_rows);
    cli_print_scored(r->metrics, r->n_metrics);
    if (r->logged_run_id)
        printf("logged to run %s\n", r->logged_run_id);
    if (r->artifact_dir)
        printf("plots: %s/plots/\n", r->artifact_dir);
}

static int cmd_eval_model(int argc, char **argv)
{
    enum { OPT_LOG = 256, OPT_EXP };
    static const struct option longopts[] = {{"data", required_argument, NULL, 'd'},
                                             {"bootstrap", required_argument, NULL, 'b'},
                                             {"seed", required_argument, NULL, 's'},
                                             {"log", no_argument, NULL, OPT_LOG},
                                             {"experiment", required_argument, NULL, OPT_EXP},
                                             {"json", no_argument, NULL, 'j'},
                                             {"help", no_argument, NULL, 'h'},
                                             {NULL, 0, NULL, 0}};
    cairn_eval_opts o = CAIRN_EVAL_OPTS_INIT;
    bool json = false;
    uint64_t v;
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":d:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'd': o.data = optarg; break;
        case 'b':
            if (!u64_option(usage_model, c, optarg, &v))
                return 2;
            o.bootstrap = v == 0 ? -1 : (int64_t)v;
            break;
        case 's':
            if (!u64_option(usage_model, c, optarg, &v))
                return 2;
            o.seed = v;
            break;
        case OPT_LOG: o.log = true; break;
        case OPT_EXP: o.experiment = optarg; break;
        case 'j': json = true; break;
        default: return cli_other_option(c, usage_model, help_model, argv);
        }
    }
    if (optind + 1 != argc)
        return cli_usage(usage_model, "expected one RUN_ID or MODEL_FILE");
    if (!o.data)
        return cli_usage(usage_model, "--data CSV is required");
    cairn_ctx *ctx = cli_open_store_log(CAIRN_LOG_WARN);
    if (!ctx)
        return 1;
    cairn_eval_report *r = NULL;
    int code = 0;
    if (cairn_eval_model(ctx, argv[optind], &o, &r) != CAIRN_OK)
        code = cli_fail(ctx);
    else
        print_report(r, json, "evaluation");
    cairn_eval_report_free(r);
    cairn_close(ctx);
    return code;
}

static int cmd_eval_final(int argc, char **argv)
{
    static const struct option longopts[] = {{"bootstrap", required_argument, NULL, 'b'},
                                             {"json", no_argument, NULL, 'j'},
                                             {"help", no_argument, NULL, 'h'},
                                             {NULL, 0, NULL, 0}};
    cairn_eval_opts o = CAIRN_EVAL_OPTS_INIT;
    bool json = false;
    uint64_t v;
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
        switch (c) {
        case 'b':
            if (!u64_option(usage_final, c, optarg, &v))
                return 2;
            o.bootstrap = v == 0 ? -1 : (int64_t)v;
            break;
        case 'j': json = true; break;
        default: return cli_other_option(c, usage_final, help_final, argv);
        }
    }
    if (optind + 1 != argc)
        return cli_usage(usage_final, "expected one RUN_ID");
    cairn_ctx *ctx = cli_open_store_log(CAIRN_LOG_WARN);
    if (!ctx)
        return 1;
    cairn_eval_report *r = NULL;
    int code = 0;
    if (cairn_eval_final(ctx, argv[optind], &o, &r) != CAIRN_OK) {
        code = cli_fail(ctx);
    } else {
        if (r->looks > 1) {
            char when[64];
            cli_format_time(r->previous_look_ms, when, sizeof when);
            fprintf(stderr,
                    "cairn: warning: the test set of run %s has been looked at before (%lld "
                    "time%s, last at %s); flagged on the run as cairn.test.second_look=true\n",
                    argv[optind], (long long)(r->looks - 1), r->looks == 2 ? "" : "s", when);
        }
        print_report(r, json, "test");
    }
    cairn_eval_report_free(r);
    cairn_close(ctx);
    return code;
}

static int cmd_eval_compare(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"json", no_argument, NULL, 'j'}, {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
    bool json = false;
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
        switch (c) {
        case 'j': json = true; break;
        default: return cli_other_option(c, usage_compare, help_compare, argv);
        }
    }
    if (optind + 2 != argc)
        return cli_usage(usage_compare, "expected two run ids");
    cairn_ctx *ctx = cli_open_store_log(CAIRN_LOG_WARN);
    if (!ctx)
        return 1;
    cairn_compare_result *r = NULL;
    int code = 0;
    const char *a = argv[optind], *b = argv[optind + 1];
    if (cairn_eval_compare(ctx, a, b, &r) != CAIRN_OK) {
        code = cli_fail(ctx);
    } else if (json) {
        cn_jsonw w;
        cn_jsonw_init(&w, stdout, 2);
        cn_jsonw_object_begin(&w);
        cn_jsonw_kstring(&w, "run_a", a);
        cn_jsonw_kstring(&w, "run_b", b);
        cn_jsonw_kstring(&w, "scope", r->scope);
        cn_jsonw_kstring(&w, "task", r->task);
        cn_jsonw_kstring(&w, "metric", r->metric);
        cn_jsonw_kint(&w, "n", (int64_t)r->n);
        cn_jsonw_kdouble(&w, "a", r->a);
        cn_jsonw_kdouble(&w, "b", r->b);
        cn_jsonw_kdouble(&w, "diff", r->diff);
        cn_jsonw_kdouble(&w, "diff_ci_low", r->diff_low);
        cn_jsonw_kdouble(&w, "diff_ci_high", r->diff_high);
        cn_jsonw_kstring(&w, "test", r->test);
        cn_jsonw_kdouble(&w, "statistic", r->statistic);
        cn_jsonw_kdouble(&w, "pvalue", r->pvalue);
        if (strncmp(r->test, "mcnemar", 7) == 0) {
            cn_jsonw_kint(&w, "n01", r->n01);
            cn_jsonw_kint(&w, "n10", r->n10);
        }
        cn_jsonw_kstring(&w, "test2", r->test2);
        if (r->test2) {
            cn_jsonw_kdouble(&w, "statistic2", r->statistic2);
            cn_jsonw_kdouble(&w, "pvalue2", r->pvalue2);
        }
        cn_jsonw_kbool(&w, "significant", r->significant);
        cn_jsonw_object_end(&w);
        cn_jsonw_finish(&w);
        cn_jsonw_release(&w);
    } else {
        printf("%s: A %s vs B %s on %zu shared %s %s\n", r->metric, a, b, r->n, r->scope,
               strcmp(r->scope, "cv") == 0 ? "folds" : "rows");
        printf("  A %.4f  B %.4f  A - B %+.4f", r->a, r->b, r->diff);
        if (isfinite(r->diff_low))
            printf("  95%% paired-bootstrap CI [%+.4f, %+.4f]", r->diff_low, r->diff_high);
        printf("\n  %s: statistic %.4g, p = %.4g", r->test, r->statistic, r->pvalue);
        if (strncmp(r->test, "mcnemar", 7) == 0)
            printf(" (A right/B wrong %lld, A wrong/B right %lld)", (long long)r->n01,
                   (long long)r->n10);
        printf("\n");
        if (r->test2)
            printf("  %s: statistic %.4g, p = %.4g\n", r->test2, r->statistic2, r->pvalue2);
        printf("  %s at the 0.05 level\n",
               r->significant ? "the difference is significant" : "no significant difference");
    }
    cairn_compare_result_free(r);
    cairn_close(ctx);
    return code;
}

static const cli_command verbs[] = {
    {"metrics", cmd_eval_metrics, "score a predictions CSV: metrics with bootstrap intervals"},
    {"model", cmd_eval_model, "score a saved model on a CSV (refuses its training rows)"},
    {"final", cmd_eval_final, "score a trained run on its sealed test split, once"},
    {"compare", cmd_eval_compare, "test whether two trained runs differ significantly"},
};

int cmd_eval(int argc, char **argv)
{
    static const char *const usages[] = {usage_metrics, usage_model, usage_final, usage_compare};
    return cli_dispatch_usages("eval", usages, CN_ARRAY_LEN(usages), verbs, CN_ARRAY_LEN(verbs),
                               argc, argv);
}
