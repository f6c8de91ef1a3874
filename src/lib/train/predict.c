/* SPDX-License-Identifier: MIT */
/* predict.c - batch prediction (`cairn predict`): score unlabelled rows with a saved model
 * and write row ids, predictions and class probabilities as CSV. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cairn/learn.h"
#include "cairn/train.h"
#include "core/core.h"
#include "base/buf.h"
#include "base/str.h"
#include "base/xmalloc.h"
#include "base/banned.h"

#define CHUNK_ROWS 8192

static const char *type_name(cairn_col_type t)
{
    return t == CAIRN_COL_NUMERIC ? "numeric" : "categorical";
}

/* The model's features are in t with their types, and every category is one the model saw. */
static cairn_status check_features(cairn_ctx *ctx, const cairn_model *m, const cairn_table *t,
                                   bool allow_unseen)
{
    for (size_t f = 0; f < cairn_model_n_features(m); f++) {
        const char *name = cairn_model_feature_name(m, f);
        cairn_col_type want = cairn_model_feature_type(m, f);
        int ci = cairn_table_find(t, name);
        if (ci < 0)
            return cn_fail(ctx, CAIRN_EINVAL,
                           "the data has no column '%s', a %s feature of the model; add it (the "
                           "model needs all %zu features it was trained on)",
                           name, type_name(want), cairn_model_n_features(m));
        const cairn_column *c = &t->cols[ci];
        if (c->type != want)
            return cn_fail(ctx, CAIRN_EINVAL,
                           "column '%s' is %s; the model expects a %s feature (check the "
                           "column's values)",
                           name, type_name(c->type), type_name(want));
        if (want != CAIRN_COL_CATEGORICAL || allow_unseen)
            continue;
        size_t nl = cairn_model_feature_n_levels(m, f);
        for (size_t a = 0; a < c->n_levels; a++) {
            size_t b = 0;
            while (b < nl && strcmp(c->levels[a], cairn_model_feature_level(m, f, b)) != 0)
                b++;
            if (b < nl)
                continue;
            size_t row = 0;
            while (row < t->n_rows && c->cat[row] != (int32_t)a)
                row++;
            if (row == t->n_rows)
                continue; /* a level no row uses */
            cn_buf known = CN_BUF_INIT;
            for (size_t j = 0; j < nl && j < 10; j++)
                cn_buf_printf(&known, "%s'%s'", j ? ", " : "", cairn_model_feature_level(m, f, j));
            cairn_status rc = cn_fail(
                ctx, CAIRN_EINVAL,
                "column '%s' row %zu: category '%s' was never seen in training (the model knows "
                "%s%s); fix the value, or pass --allow-unseen to score it with no level set",
                name, row, c->levels[a], cn_buf_str(&known), nl > 10 ? ", ..." : "");
            cn_buf_release(&known);
            return rc;
        }
    }
    return CAIRN_OK;
}

cairn_status cairn_model_predict_csv(cairn_ctx *ctx, const cairn_model *m, const cairn_table *t,
                                     const cairn_predict_opts *o, FILE *out)
{
    cairn_predict_opts defaults = CAIRN_PREDICT_OPTS_INIT;
    if (!o)
        o = &defaults;
    const cairn_column *id = NULL;
    if (o->id_column) {
        int ci = cairn_table_find(t, o->id_column);
        if (ci < 0)
            return cn_fail(ctx, CAIRN_EINVAL,
                           "id column '%s' is not in the data; name one of its "
                           "columns, or leave --id-column out for row numbers",
                           o->id_column);
        id = &t->cols[ci];
    }
    cairn_status rc = check_features(ctx, m, t, o->allow_unseen);
    if (rc != CAIRN_OK)
        return rc;
    size_t k = cairn_model_n_classes(m), n = t->n_rows;
    bool proba = o->proba && k > 0;
    if (proba && !cairn_model_has_proba(m))
        return cn_fail(ctx, CAIRN_EINVAL,
                       "--proba: this %s model gives no class probabilities (it was fitted "
                       "without probability=true); refit with -p probability=true or drop --proba",
                       cairn_model_learner(m));
    cn_buf b = CN_BUF_INIT;
    cn_csv_put_field(&b, id ? o->id_column : "row", false);
    cn_buf_puts(&b, ",prediction");
    for (size_t j = 0; proba && j < k; j++) {
        char *col = cn_asprintf("p_%s", cairn_model_class_label(m, j));
        cn_buf_putc(&b, ',');
        cn_csv_put_field(&b, col, false);
        free(col);
    }
    cn_buf_putc(&b, '\n');
    size_t chunk = n < CHUNK_ROWS ? n : CHUNK_ROWS;
    size_t *rows = cn_xmalloc((chunk ? chunk : 1) * sizeof *rows);
    double *pred = cn_xmalloc((chunk ? chunk : 1) * sizeof *pred);
    double *p = proba ? cn_xmalloc(chunk * k * sizeof *p) : NULL;
    for (size_t start = 0; start < n && rc == CAIRN_OK; start += chunk) {
        size_t nc = n - start < chunk ? n - start : chunk;
        for (size_t i = 0; i < nc; i++)
            rows[i] = start + i;
        rc = cairn_model_predict(ctx, m, t, rows, nc, pred);
        if (rc == CAIRN_OK && proba)
            rc = cairn_model_predict_proba(ctx, m, t, rows, nc, p);
        for (size_t i = 0; i < nc && rc == CAIRN_OK; i++) {
            char tmp[64];
            size_t r = rows[i];
            if (!id) {
                cn_buf_printf(&b, "%zu", r);
            } else if (id->type == CAIRN_COL_NUMERIC) {
                cn_format_double(id->num[r], tmp, sizeof tmp);
                cn_buf_puts(&b, tmp);
            } else if (id->cat[r] >= 0) {
                cn_csv_put_field(&b, id->levels[id->cat[r]], false);
            }
            cn_buf_putc(&b, ',');
            if (k > 0) {
                cn_csv_put_field(&b, cairn_model_class_label(m, (size_t)pred[i]), false);
            } else {
                cn_format_double(pred[i], tmp, sizeof tmp);
                cn_buf_puts(&b, tmp);
            }
            for (size_t j = 0; proba && j < k; j++) {
                cn_format_double(p[i * k + j], tmp, sizeof tmp);
                cn_buf_printf(&b, ",%s", tmp);
            }
            cn_buf_putc(&b, '\n');
        }
        if (rc == CAIRN_OK && fwrite(b.data, 1, b.len, out) != b.len)
            rc = cn_fail_errno(ctx, CAIRN_EIO, "cannot write the predictions");
        cn_buf_clear(&b);
        if (rc == CAIRN_OK && o->progress)
            o->progress(o->user, start + nc, n);
    }
    if (rc == CAIRN_OK && n == 0 && fwrite(b.data, 1, b.len, out) != b.len)
        rc = cn_fail_errno(ctx, CAIRN_EIO, "cannot write the predictions");
    free(rows);
    free(pred);
    free(p);
    cn_buf_release(&b);
    return rc;
}
