/* SPDX-License-Identifier: MIT */
/* data_hash.c - a dataset's identity: SHA-256 of the file's bytes, its shape and the content
 * digest of the parsed table. Recorded as a run's dataset input and in pipeline caches. */
#include <errno.h>
#include <string.h>
#include "cairn/data.h"
#include "core/core.h"
#include "base/sha256.h"
#include "base/banned.h"

cairn_status cairn_data_hash(cairn_ctx *ctx, const char *path, const cairn_csv_opts *opts,
                             cairn_data_digest *out)
{
    if (!path || !out)
        return cn_fail(ctx, CAIRN_EINVAL, "cairn_data_hash: path and out are required");
    memset(out, 0, sizeof *out);
    cairn_table *t = NULL;
    cairn_status rc = cairn_csv_read(ctx, path, opts, &t);
    if (rc != CAIRN_OK)
        return rc;
    if (cn_sha256_file(path, out->file_sha256, &out->size_bytes) != 0) {
        rc = cn_fail_errno(ctx, CAIRN_EIO, "cannot hash '%s'", path);
    } else {
        out->n_rows = t->n_rows;
        out->n_cols = t->n_cols;
        cairn_table_digest(t, out->content_sha256);
    }
    cairn_table_free(t);
    return rc;
}
