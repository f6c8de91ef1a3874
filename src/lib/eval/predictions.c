/* SPDX-License-Identifier: MIT */
/* predictions.c - predictions for the scorer from any tool's table (y_true, y_pred and
 * proba_<class>, prob_<class>, p_<class> or p<i> columns): task and class inference; a column
 * that looks like probabilities but maps to no class is named in a warning. `cairn eval metrics`
 * reads its CSV through here. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cairn/eval.h"
#include "core/core.h"
#include "base/str.h"
#include "base/xmalloc.h"
#include "base/banned.h"

/* What cairn_predictions_from_table() allocates behind the public struct. */
typedef struct owned_predictions {
    cairn_predictions pub; /* first member: the pointer users free */
    char **classes;
    int32_t *y_true, *y_pred;
    double *proba, *target, *predicted;
} owned_predictions;

void cairn_predictions_free(cairn_predictions *p)
{
    owned_predictions *o = (owned_predictions *)p;
    if (!o)
        return;
    for (size_t i = 0; o->classes && i < o->pub.n_classes; i++)
        free(o->classes[i]);
    free(o->classes);
    free(o->y_true);
    free(o->y_pred);
    free(o->proba);
    free(o->target);
    free(o->predicted);
    free(o);
}

/* The label text of row i of a column (a level, or the number in its shortest form), or
 * NULL when missing. */
static char *label_text(const cairn_column *c, size_t i)
{
    if (c->type == CAIRN_COL_CATEGORICAL)
        return c->cat[i] < 0 ? NULL : cn_xstrdup(c->levels[c->cat[i]]);
    if (isnan(c->num[i]))
        return NULL;
    char tmp[32];
    cn_format_double_short(c->num[i], tmp, sizeof tmp);
    return cn_xstrdup(tmp);
}

static bool is_number(const char *s, double *v)
{
    char *end;
    errno = 0;
    *v = strtod(s, &end);
    return *s && *end == '\0' && errno == 0;
}

static int cmp_number(const void *pa, const void *pb)
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

static void add_class(owned_predictions *o, size_t *cap, const char *name)
{
    if (find_class(o->classes, o->pub.n_classes, name) >= 0)
        return;
    if (o->pub.n_classes == *cap) {
        *cap = *cap ? *cap * 2 : 8;
        o->classes = cn_xrealloc(o->classes, *cap * sizeof *o->classes);
    }
    o->classes[o->pub.n_classes++] = cn_xstrdup(name);
}

/* The class text a probability column names: "proba_<c>", "prob_<c>", "p_<c>" or "p<digits>"
 * (scikit-learn's predict_proba column order written as p0, p1, ...), else NULL. */
static const char *proba_class(const char *col)
{
    static const char *const prefixes[] = {"proba_", "prob_", "p_"};
    for (size_t i = 0; i < CN_ARRAY_LEN(prefixes); i++) {
        size_t n = strlen(prefixes[i]);
        if (strncmp(col, prefixes[i], n) == 0 && col[n])
            return col + n;
    }
    if (col[0] == 'p' && col[1] >= '0' && col[1] <= '9' &&
        strspn(col + 1, "0123456789") == strlen(col + 1))
        return col + 1;
    return NULL;
}

/* Whether a column's name looks like it holds probabilities or scores without naming a class
 * in a form proba_class() understands ("proba", "y_proba", "score", "prob_", ...). */
static bool looks_like_proba(const char *col)
{
    static const char *const starts[] = {"prob", "y_prob", "y_score", "score", "p_", "pred_prob"};
    for (size_t i = 0; i < CN_ARRAY_LEN(starts); i++)
        if (strncmp(col, starts[i], strlen(starts[i])) == 0)
            return true;
    return false;
}

/* The class of probability column col among o's classes (-1: none): its text as written, the
 * number in shortest form ("1.0" is class "1"), or for p<i> with text labels the i-th class. */
static int proba_column_class(const owned_predictions *o, const char *col, bool text_labels)
{
    const char *c = proba_class(col);
    if (!c)
        return -1;
    char **cls = o->classes;
    size_t k = o->pub.n_classes;
    int j = find_class(cls, k, c);
    double v;
    if (j < 0 && is_number(c, &v)) {
        char tmp[32];
        cn_format_double_short(v, tmp, sizeof tmp);
        j = find_class(cls, k, tmp);
    }
    if (j < 0 && text_labels && col[1] != '_' && strncmp(col, "prob", 4) != 0) {
        unsigned long i = strtoul(c, NULL, 10);
        j = i < k ? (int)i : -1;
    }
    return j;
}

static cairn_status read_regression(cairn_ctx *ctx, const cairn_column *yt, const cairn_column *yp,
                                    owned_predictions *o)
{
    size_t n = o->pub.n;
    if (yt->type != CAIRN_COL_NUMERIC || yp->type != CAIRN_COL_NUMERIC)
        return cn_fail(ctx, CAIRN_EINVAL, "regression needs numeric y_true and y_pred");
    for (size_t i = 0; i < n; i++)
        if (isnan(yt->num[i]) || isnan(yp->num[i]))
            return cn_fail(ctx, CAIRN_EINVAL, "row %zu: missing y_true or y_pred", i + 1);
    o->target = cn_xmemdup(yt->num, n * sizeof(double));
    o->predicted = cn_xmemdup(yp->num, n * sizeof(double));
    o->pub.target = o->target;
    o->pub.predicted = o->predicted;
    return CAIRN_OK;
}

/* Fills proba from the probability columns, one per class; text_labels: the labels are not
 * numbers, so p<i> columns are the classes in order. */
static cairn_status read_proba(cairn_ctx *ctx, const cairn_table *t, bool text_labels,
                               owned_predictions *o)
{
    size_t n = o->pub.n, k = o->pub.n_classes, n_proba = 0;
    int *col_of = cn_xmalloc(t->n_cols * sizeof *col_of);
    bool *seen = cn_xcalloc(k, sizeof *seen);
    cairn_status rc = CAIRN_OK;
    for (size_t j = 0; j < t->n_cols && rc == CAIRN_OK; j++) {
        col_of[j] = proba_column_class(o, t->cols[j].name, text_labels);
        if (col_of[j] < 0)
            continue;
        if (seen[col_of[j]])
            rc = cn_fail(ctx, CAIRN_EINVAL,
                         "two probability columns are for class '%s' (the second is '%s'); "
                         "keep one",
                         o->classes[col_of[j]], t->cols[j].name);
        seen[col_of[j]] = true;
        n_proba++;
    }
    if (rc == CAIRN_OK && n_proba != k)
        rc = cn_fail(ctx, CAIRN_EINVAL,
                     "%zu probability columns for %zu classes; give one proba_<class> column "
                     "per class",
                     n_proba, k);
    if (rc == CAIRN_OK)
        o->proba = cn_xmalloc(n * k * sizeof(double));
    for (size_t j = 0; j < t->n_cols && rc == CAIRN_OK; j++) {
        const cairn_column *c = &t->cols[j];
        if (col_of[j] < 0)
            continue;
        if (c->type != CAIRN_COL_NUMERIC) {
            rc = cn_fail(ctx, CAIRN_EINVAL, "column '%s' is not numeric", c->name);
            break;
        }
        for (size_t i = 0; i < n; i++) {
            if (isnan(c->num[i])) {
                rc = cn_fail(ctx, CAIRN_EINVAL, "row %zu: missing '%s'", i + 1, c->name);
                break;
            }
            o->proba[i * k + (size_t)col_of[j]] = c->num[i];
        }
    }
    free(col_of);
    free(seen);
    if (rc == CAIRN_OK)
        o->pub.proba = o->proba;
    return rc;
}

/* Warns about every column whose name looks like probabilities but maps to no class. */
static void warn_unmapped(cairn_ctx *ctx, const cairn_table *t, const owned_predictions *o,
                          bool text_labels)
{
    for (size_t j = 0; j < t->n_cols; j++) {
        const char *name = t->cols[j].name;
        if (o->pub.task == CAIRN_TASK_CLASSIFICATION &&
            proba_column_class(o, name, text_labels) >= 0)
            continue;
        if (!looks_like_proba(name) && !proba_class(name))
            continue;
        cn_log(ctx, CAIRN_LOG_WARN, "eval",
               "column '%s' looks like probabilities but is not used: %s", name,
               o->pub.task == CAIRN_TASK_REGRESSION
                   ? "regression has no class probabilities"
                   : "name it proba_<class>, prob_<class>, p_<class> or p<i> after one of the "
                     "classes");
    }
}

/* Classes: every label seen plus every probability column's class, in numeric order when
 * every one is a number ("2" < "10"), else in text order. lt, lp: the n label texts. */
static cairn_status read_classes(cairn_ctx *ctx, const cairn_table *t, char **lt, char **lp,
                                 bool *text_labels, owned_predictions *o)
{
    size_t cap = 0, n = o->pub.n;
    for (size_t i = 0; i < n; i++) {
        add_class(o, &cap, lt[i]);
        add_class(o, &cap, lp[i]);
    }
    *text_labels = !all_numeric(o->classes, o->pub.n_classes);
    for (size_t j = 0; j < t->n_cols; j++) {
        const char *name = t->cols[j].name, *c = proba_class(name);
        double v;
        if (!c || (*text_labels && name[1] != '_' && strncmp(name, "prob", 4) != 0))
            continue; /* p<i> with text labels: the i-th class, not a class "<i>" */
        if (is_number(c, &v) && !*text_labels) {
            char tmp[32];
            cn_format_double_short(v, tmp, sizeof tmp);
            add_class(o, &cap, tmp);
        } else {
            add_class(o, &cap, c);
        }
    }
    size_t k = o->pub.n_classes;
    qsort(o->classes, k, sizeof *o->classes, all_numeric(o->classes, k) ? cmp_number : cmp_text);
    o->pub.classes = (const char *const *)o->classes;
    if (k < 2)
        return cn_fail(ctx, CAIRN_EINVAL, "only one class ('%s'); classification needs two",
                       o->classes[0]);
    o->y_true = cn_xmalloc(n * sizeof(int32_t));
    o->y_pred = cn_xmalloc(n * sizeof(int32_t));
    for (size_t i = 0; i < n; i++) {
        o->y_true[i] = find_class(o->classes, k, lt[i]);
        o->y_pred[i] = find_class(o->classes, k, lp[i]);
    }
    o->pub.y_true = o->y_true;
    o->pub.y_pred = o->y_pred;
    return CAIRN_OK;
}

static cairn_status read_classification(cairn_ctx *ctx, const cairn_table *t,
                                        const cairn_column *yt, const cairn_column *yp,
                                        size_t n_proba, owned_predictions *o)
{
    size_t n = o->pub.n;
    bool text_labels = false;
    char **lt = cn_xcalloc(n, sizeof *lt), **lp = cn_xcalloc(n, sizeof *lp);
    cairn_status rc = CAIRN_OK;
    for (size_t i = 0; i < n && rc == CAIRN_OK; i++) {
        lt[i] = label_text(yt, i);
        lp[i] = label_text(yp, i);
        if (!lt[i] || !lp[i])
            rc = cn_fail(ctx, CAIRN_EINVAL, "row %zu: missing y_true or y_pred", i + 1);
    }
    if (rc == CAIRN_OK)
        rc = read_classes(ctx, t, lt, lp, &text_labels, o);
    if (rc == CAIRN_OK && n_proba > 0)
        rc = read_proba(ctx, t, text_labels, o);
    if (rc == CAIRN_OK)
        warn_unmapped(ctx, t, o, text_labels);
    for (size_t i = 0; i < n; i++) {
        free(lt[i]);
        free(lp[i]);
    }
    free(lt);
    free(lp);
    return rc;
}

cairn_task cairn_predictions_infer_task(const cairn_table *t, char *why, size_t why_size)
{
    char scratch[8];
    if (!why || why_size == 0) {
        why = scratch;
        why_size = sizeof scratch;
    }
    int ct = cairn_table_find(t, "y_true"), cp = cairn_table_find(t, "y_pred");
    if (ct < 0 || cp < 0) {
        snprintf(why, why_size, "there is no y_true or y_pred column");
        return CAIRN_TASK_CLASSIFICATION;
    }
    for (size_t j = 0; j < t->n_cols; j++)
        if (proba_class(t->cols[j].name)) {
            snprintf(why, why_size, "there are probability columns ('%s')", t->cols[j].name);
            return CAIRN_TASK_CLASSIFICATION;
        }
    const cairn_column *yt = &t->cols[ct], *yp = &t->cols[cp];
    if (yt->type != CAIRN_COL_NUMERIC || yp->type != CAIRN_COL_NUMERIC) {
        snprintf(why, why_size, "column '%s' holds text values",
                 yt->type != CAIRN_COL_NUMERIC ? "y_true" : "y_pred");
        return CAIRN_TASK_CLASSIFICATION;
    }
    for (size_t i = 0; i < t->n_rows; i++)
        if (isfinite(yp->num[i]) && yp->num[i] != floor(yp->num[i])) {
            char v[40];
            cn_format_double_short(yp->num[i], v, sizeof v);
            snprintf(why, why_size, "column 'y_pred' has non-integer values such as %s", v);
            return CAIRN_TASK_REGRESSION;
        }
    char inner[320];
    bool classes = cairn_column_holds_classes(yt, t->n_rows, inner, sizeof inner);
    /* "label 'y_true' has ..." reads as "column 'y_true' has ..." here */
    const char *rest = cn_str_starts(inner, "label ") ? inner + 6 : inner;
    snprintf(why, why_size, "column %s", rest);
    return classes ? CAIRN_TASK_CLASSIFICATION : CAIRN_TASK_REGRESSION;
}

cairn_status cairn_predictions_from_table(cairn_ctx *ctx, const cairn_table *t, cairn_task task,
                                          cairn_predictions **out)
{
    *out = NULL;
    int ct = cairn_table_find(t, "y_true"), cp = cairn_table_find(t, "y_pred");
    if (ct < 0 || cp < 0)
        return cn_fail(ctx, CAIRN_EINVAL, "needs columns y_true and y_pred (found %zu columns)",
                       t->n_cols);
    if (t->n_rows == 0)
        return cn_fail(ctx, CAIRN_EINVAL, "has no rows to score");
    const cairn_column *yt = &t->cols[ct], *yp = &t->cols[cp];
    size_t n_proba = 0;
    for (size_t j = 0; j < t->n_cols; j++)
        n_proba += proba_class(t->cols[j].name) != NULL;
    owned_predictions *o = cn_xcalloc(1, sizeof *o);
    o->pub.n = t->n_rows;
    o->pub.task = task != CAIRN_TASK_AUTO ? task : cairn_predictions_infer_task(t, NULL, 0);
    cairn_status rc = o->pub.task == CAIRN_TASK_REGRESSION
                          ? read_regression(ctx, yt, yp, o)
                          : read_classification(ctx, t, yt, yp, n_proba, o);
    if (rc == CAIRN_OK && o->pub.task == CAIRN_TASK_REGRESSION)
        warn_unmapped(ctx, t, o, false);
    if (rc != CAIRN_OK) {
        cairn_predictions_free(&o->pub);
        return rc;
    }
    *out = &o->pub;
    return CAIRN_OK;
}
