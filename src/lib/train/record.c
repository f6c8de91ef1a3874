/* SPDX-License-Identifier: MIT */
/* record.c - the train.json artifact of a training run (data path and digest, CSV column
 * declarations, metrics, bootstrap, seed, task, calibration bins): written by train.c, read by eval
 * final. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "core/core.h"
#include "formats/json.h"
#include "train/train_internal.h"
#include "base/fs.h"
#include "base/jsonw.h"
#include "base/xmalloc.h"
#include "base/banned.h"

#define RECORD_MAX_BYTES (64u << 20)

static void str_array(cn_jsonw *w, const char *key, char *const *v, size_t n)
{
    cn_jsonw_key(w, key);
    cn_jsonw_array_begin(w);
    for (size_t i = 0; i < n; i++)
        cn_jsonw_string(w, v[i]);
    cn_jsonw_array_end(w);
}

void cn_train_record_write(const cn_train_record *r, cn_buf *out)
{
    cn_jsonw w;
    cn_jsonw_init(&w, NULL, 2);
    cn_jsonw_object_begin(&w);
    cn_jsonw_kint(&w, "version", 1);
    cn_jsonw_kstring(&w, "data_path", r->data_path);
    cn_jsonw_kstring(&w, "data_sha256", r->data_sha256);
    cn_jsonw_kstring(&w, "label", r->label);
    str_array(&w, "numeric", r->numeric, r->n_numeric);
    str_array(&w, "categorical", r->categorical, r->n_categorical);
    str_array(&w, "metrics", r->metrics, r->n_metrics);
    cn_jsonw_kint(&w, "bootstrap", r->bootstrap);
    cn_jsonw_kint(&w, "seed", (int64_t)r->seed);
    cn_jsonw_kstring(&w, "task", r->task);
    if (r->calibration)
        cn_jsonw_kstring(&w, "calibration", r->calibration);
    if (r->calibration_bins > 0)
        cn_jsonw_kint(&w, "calibration_bins", r->calibration_bins);
    cn_jsonw_object_end(&w);
    cn_buf_append(out, w.buf.data, w.buf.len);
    cn_buf_putc(out, '\n');
    cn_jsonw_release(&w);
}

static cairn_status get_str(cairn_ctx *ctx, const cn_json *o, const char *key, char **out)
{
    const char *s = cn_json_string(cn_json_object_get(o, key));
    if (!s)
        return cn_fail(ctx, CAIRN_EINVAL, "train.json: '%s' is missing or not a string", key);
    *out = cn_xstrdup(s);
    return CAIRN_OK;
}

static cairn_status get_strs(cairn_ctx *ctx, const cn_json *o, const char *key, char ***out,
                             size_t *n)
{
    const cn_json *a = cn_json_object_get(o, key);
    if (!a || cn_json_typeof(a) != CN_JSON_ARRAY)
        return cn_fail(ctx, CAIRN_EINVAL, "train.json: '%s' is missing or not a list", key);
    size_t len = cn_json_array_size(a);
    *out = cn_xcalloc(len ? len : 1, sizeof **out);
    for (size_t i = 0; i < len; i++) {
        const char *s = cn_json_string(cn_json_array_get(a, i));
        if (!s)
            return cn_fail(ctx, CAIRN_EINVAL, "train.json: '%s' item %zu is not a string", key, i);
        (*out)[(*n)++] = cn_xstrdup(s);
    }
    return CAIRN_OK;
}

cairn_status cn_train_record_parse(cairn_ctx *ctx, const char *text, size_t len,
                                   cn_train_record *out)
{
    cn_json *o = NULL;
    memset(out, 0, sizeof *out);
    cairn_status rc = cn_json_parse_object(ctx, text, len, &o);
    if (rc != CAIRN_OK)
        return rc;
    rc = get_str(ctx, o, "data_path", &out->data_path);
    if (rc == CAIRN_OK)
        rc = get_str(ctx, o, "data_sha256", &out->data_sha256);
    if (rc == CAIRN_OK)
        rc = get_str(ctx, o, "label", &out->label);
    if (rc == CAIRN_OK)
        rc = get_str(ctx, o, "task", &out->task);
    if (rc == CAIRN_OK)
        rc = get_strs(ctx, o, "numeric", &out->numeric, &out->n_numeric);
    if (rc == CAIRN_OK)
        rc = get_strs(ctx, o, "categorical", &out->categorical, &out->n_categorical);
    if (rc == CAIRN_OK)
        rc = get_strs(ctx, o, "metrics", &out->metrics, &out->n_metrics);
    if (rc == CAIRN_OK) {
        out->bootstrap = cn_json_int(cn_json_object_get(o, "bootstrap"));
        out->seed = (uint64_t)cn_json_int(cn_json_object_get(o, "seed"));
        /* optional (a run made before plots: existed has neither) */
        const char *cal = cn_json_string(cn_json_object_get(o, "calibration"));
        out->calibration = cal ? cn_xstrdup(cal) : NULL;
        const cn_json *bins = cn_json_object_get(o, "calibration_bins");
        out->calibration_bins = bins ? cn_json_int(bins) : 0;
        if (out->calibration_bins < 0 || out->calibration_bins > 100)
            out->calibration_bins = 0;
    }
    cn_json_free(o);
    if (rc != CAIRN_OK)
        cn_train_record_release(out);
    return rc;
}

static void free_strs(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

void cn_train_record_release(cn_train_record *r)
{
    free(r->data_path);
    free(r->data_sha256);
    free(r->label);
    free(r->task);
    free(r->calibration);
    free_strs(r->numeric, r->n_numeric);
    free_strs(r->categorical, r->n_categorical);
    free_strs(r->metrics, r->n_metrics);
    memset(r, 0, sizeof *r);
}

void cn_train_record_plot_opts(const cn_train_record *r, cairn_score_plot_opts *po)
{
    po->calibration = r->calibration && strcmp(r->calibration, "quantile") == 0
                          ? CAIRN_CALIBRATION_QUANTILE
                          : CAIRN_CALIBRATION_UNIFORM;
    po->calibration_bins = r->calibration_bins > 0 ? (size_t)r->calibration_bins : 0;
}

cairn_status cn_run_artifact_read(cairn_ctx *ctx, const char *run_id, const char *path, cn_buf *out)
{
    char *full = NULL;
    cairn_status rc = cairn_run_artifact_path(ctx, run_id, path, &full);
    if (rc != CAIRN_OK)
        return rc;
    if (cn_fs_read_file(full, out, RECORD_MAX_BYTES) != 0) {
        rc = errno == ENOENT
                 ? cn_fail(ctx, CAIRN_EINVAL,
                           "run '%s' has no artifact '%s'; was it made by 'cairn "
                           "train'?",
                           run_id, path)
                 : cn_fail_errno(ctx, CAIRN_EIO, "run '%s' artifact '%s'", run_id, path);
    }
    free(full);
    return rc;
}
