/* SPDX-License-Identifier: MIT */
/* score.c - scores a model's predictions by metric name with bootstrap intervals, writes the
 * predictions CSV and the evaluation pictures into a run; shared by train.c and evaluate.c.
 * The metrics themselves are eval/score.c's (cairn_score). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cairn/eval.h"
#include "core/core.h"
#include "data/data_internal.h"
#include "formats/json.h"
#include "train/train_internal.h"
#include "base/str.h"
#include "base/xmalloc.h"
#include "base/banned.h"

void cn_scores_release(cn_scores *s)
{
    free(s->rows);
    free(s->classes);
    if (s->names)
        for (size_t j = 0; j < s->k; j++)
            free(s->names[j]);
    free(s->names);
    free(s->y_true);
    free(s->y_pred);
    free(s->proba);
    free(s->t);
    free(s->p);
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

/* Points s->pred at the arrays of s. */
static void scores_view(cn_scores *s)
{
    cairn_predictions *p = &s->pred;
    p->task = s->is_classification ? CAIRN_TASK_CLASSIFICATION : CAIRN_TASK_REGRESSION;
    p->n = s->n;
    p->n_classes = s->k;
    p->classes = s->names ? (const char *const *)s->names : s->classes;
    p->y_true = s->y_true;
    p->y_pred = s->y_pred;
    p->proba = s->proba;
    p->target = s->t;
    p->predicted = s->p;
}

char **cn_model_class_names(cairn_ctx *ctx, const cairn_model *m)
{
    const char *text = cairn_model_get_meta(m, CN_META_CLASS_NAMES);
    size_t k = cairn_model_n_classes(m);
    cn_json *o = NULL;
    if (!text || k == 0)
        return NULL;
    if (cn_json_parse_object(ctx, text, strlen(text), &o) != CAIRN_OK) {
        cn_log(ctx, CAIRN_LOG_WARN, "train",
               "the model's class names are unreadable (%s); "
               "showing the class labels",
               cairn_errmsg(ctx));
        return NULL;
    }
    char **names = cn_xcalloc(k, sizeof *names);
    for (size_t j = 0; j < k; j++) {
        const char *label = cairn_model_class_label(m, j);
        const char *name = cn_json_string(cn_json_object_get(o, label));
        names[j] = cn_xstrdup(name && *name ? name : label);
    }
    cn_json_free(o);
    return names;
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
    s->names = cn_model_class_names(ctx, m);
    s->y_true = cn_xmalloc(n * sizeof *s->y_true);
    s->y_pred = cn_xmalloc(n * sizeof *s->y_pred);
    if (cairn_model_has_proba(m)) { /* else probability metrics and curves are left out */
        s->proba = cn_xmalloc(n * s->k * sizeof *s->proba);
        rc = cairn_model_predict_proba(ctx, m, t, rows, n, s->proba);
        if (rc != CAIRN_OK)
            goto done;
    }
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
    else
        scores_view(s);
    return rc;
}

void cn_metrics_score(cairn_ctx *ctx, const cn_scores *s, char *const *names, size_t n_names,
                      size_t n_boot, uint64_t seed, cairn_scored_metric *out)
{
    cairn_score_opts o = CAIRN_SCORE_OPTS_INIT;
    o.metrics = (const char *const *)names;
    o.n_metrics = n_names;
    o.n_bootstrap = n_boot;
    o.seed = seed;
    cairn_score_result *r = NULL;
    for (size_t i = 0; i < n_names; i++) {
        out[i].name = names[i];
        out[i].value = out[i].ci_low = out[i].ci_high = NAN;
    }
    if (cairn_score(ctx, &s->pred, &o, &r) != CAIRN_OK) {
        cn_log(ctx, CAIRN_LOG_WARN, "train", "cannot score: %s", cairn_errmsg(ctx));
        return;
    }
    for (size_t i = 0; i < n_names; i++) {
        out[i].value = r->metrics[i].value;
        out[i].ci_low = r->metrics[i].ci_low;
        out[i].ci_high = r->metrics[i].ci_high;
    }
    cairn_score_result_free(r);
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

char *cn_plot_subtitle(const char *split, const char *run_id, const char *run_name,
                       const char *model)
{
    cn_buf b = CN_BUF_INIT;
    if (split)
        cn_buf_printf(&b, "%s", split);
    if (run_id)
        cn_buf_printf(&b, "%srun %.8s", b.len ? ", " : "", run_id);
    if (run_id && run_name && *run_name)
        cn_buf_printf(&b, " (%s)", run_name);
    if (model && *model)
        cn_buf_printf(&b, "%s%s", b.len ? ", " : "", model);
    return cn_buf_detach(&b);
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
    for (size_t j = 0; s->proba && j < s->k; j++) {
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
            for (size_t j = 0; s->proba && j < s->k; j++) {
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

/* The pictures of cairn_score_plots() as run artifacts plots/<prefix><name>.svg. */
static cairn_status scores_plots(cairn_ctx *ctx, cairn_run *run, const cn_scores *s,
                                 const char *prefix, const cairn_score_plot_opts *po, char ***paths,
                                 size_t *n_paths)
{
    cairn_score_plot *plots = NULL;
    size_t n = 0;
    cairn_status rc = cairn_score_plots_with(ctx, &s->pred, po, &plots, &n);
    for (size_t i = 0; rc == CAIRN_OK && i < n; i++) {
        char *path = cn_asprintf("plots/%s%s.svg", prefix, plots[i].name);
        rc = cairn_run_log_artifact_bytes(run, path, plots[i].svg, strlen(plots[i].svg));
        if (rc != CAIRN_OK) {
            free(path);
            break;
        }
        *paths = cn_xrealloc(*paths, (*n_paths + 1) * sizeof **paths);
        (*paths)[(*n_paths)++] = path;
    }
    cairn_score_plots_free(plots, n);
    return rc;
}

cairn_status cn_scores_log(cairn_ctx *ctx, cairn_run *run, const cn_scores *s, const char *split,
                           const cairn_scored_metric *m, size_t n, const char *plot_prefix,
                           const cairn_score_plot_opts *po, char ***paths, size_t *n_paths)
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
        rc = scores_plots(ctx, run, s, plot_prefix, po, paths, n_paths);
    return rc;
}
