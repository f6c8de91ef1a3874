/* SPDX-License-Identifier: MIT */
/* cli_robust_util.c - see cli_robust_util.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli_robust_util.h"
#include "cairn/train.h"
#include "cairn/tracking.h"
#include "base/fs.h"
#include "base/sha256.h"
#include "base/str.h"
#include "base/xmalloc.h"
#include "base/banned.h"

int cli_model_data_open(const char *spec, const char *csv, cli_model_data *d)
{
    memset(d, 0, sizeof *d);
    if (cli_load_model(spec, &d->ctx, &d->ref, &d->model) != 0)
        return 1;
    if (!csv)
        return 0;
    if (cairn_model_read_csv(d->ctx, d->model, csv, &d->table) != CAIRN_OK)
        return cli_fail(d->ctx);
    size_t n = d->table->n_rows, overlap;
    d->held_out = cn_xmalloc((n ? n : 1) * sizeof *d->held_out);
    d->trained = cn_xmalloc((n ? n : 1) * sizeof *d->trained);
    d->has_record = cairn_model_get_meta(d->model, "cairn.train_rows") != NULL;
    for (size_t i = 0; i < n; i++) {
        overlap = 0;
        if (d->has_record && cairn_model_count_train_overlap(d->ctx, d->model, d->table, &i, 1,
                                                             &overlap) != CAIRN_OK)
            return cli_fail(d->ctx);
        if (overlap)
            d->trained[d->n_trained++] = i;
        else
            d->held_out[d->n_held_out++] = i;
    }
    return 0;
}

void cli_model_data_close(cli_model_data *d)
{
    cairn_table_free(d->table);
    cairn_model_free(d->model);
    cairn_model_ref_release(&d->ref);
    free(d->held_out);
    free(d->trained);
    cairn_close(d->ctx);
    memset(d, 0, sizeof *d);
}

bool cli_run_write_artifact(cairn_ctx *ctx, const char *run_id, const char *path, const void *data,
                            size_t len)
{
    char *root = NULL;
    if (cairn_run_artifact_path(ctx, run_id, "", &root) != CAIRN_OK) {
        cli_fail(ctx);
        return false;
    }
    char *local = cn_asprintf("%s/%s", root, path);
    cairn_free(root);
    char *dir = cn_xstrdup(local);
    char *slash = strrchr(dir, '/');
    if (slash)
        *slash = 0;
    bool ok = cn_fs_mkdirs(dir, 0755) == 0 && cn_fs_write_atomic(local, data, len) == 0;
    free(dir);
    free(local);
    if (!ok) {
        cli_error("run %s: cannot write artifact '%s'", run_id, path);
        return false;
    }
    char hex[65];
    cn_sha256_hex(data, len, hex);
    if (cairn_runs_record_artifact(ctx, run_id, path, (int64_t)len, hex) != CAIRN_OK) {
        cli_fail(ctx);
        return false;
    }
    return true;
}

size_t *cli_read_idx(const char *path, size_t n_rows, size_t *n, bool *bad)
{
    cn_buf text = CN_BUF_INIT;
    *n = 0;
    *bad = false;
    if (cn_fs_read_file(path, &text, (size_t)1 << 30) != 0)
        return NULL;
    size_t cap = 64, *rows = cn_xmalloc(cap * sizeof *rows);
    char *save = NULL, *all = cn_xstrdup(cn_buf_str(&text));
    for (char *tok = strtok_r(all, " \t\r\n,", &save); tok;
         tok = strtok_r(NULL, " \t\r\n,", &save)) {
        int64_t v;
        if (!cn_parse_int64(tok, &v) || v < 0 || (uint64_t)v >= n_rows) {
            *bad = true;
            break;
        }
        if (*n == cap)
            rows = cn_xrealloc(rows, (cap *= 2) * sizeof *rows);
        rows[(*n)++] = (size_t)v;
    }
    free(all);
    cn_buf_release(&text);
    return rows;
}

size_t *cli_sealed_rows(cli_model_data *d, const char *csv, size_t *n, const char **run)
{
    const char *trained_on = cairn_model_get_meta(d->model, "cairn.data.sha256");
    *run = d->ref.run_id ? d->ref.run_id : cairn_model_get_meta(d->model, "cairn.run_id");
    *n = 0;
    char sha[65];
    int64_t size;
    bool bad = false;
    if (!trained_on || !*run || cairn_file_sha256(d->ctx, csv, sha, &size) != CAIRN_OK ||
        strcmp(sha, trained_on) != 0)
        return NULL;
    return cli_run_idx(d->ctx, *run, "test", d->table->n_rows, n, &bad);
}

size_t *cli_run_idx(cairn_ctx *ctx, const char *run_id, const char *name, size_t n_rows, size_t *n,
                    bool *bad)
{
    char path[64], *local = NULL;
    snprintf(path, sizeof path, "split/%s.idx", name);
    *n = 0;
    *bad = false;
    if (cairn_run_artifact_path(ctx, run_id, path, &local) != CAIRN_OK)
        return NULL;
    size_t *rows = cn_fs_exists(local) ? cli_read_idx(local, n_rows, n, bad) : NULL;
    cairn_free(local);
    return rows;
}
