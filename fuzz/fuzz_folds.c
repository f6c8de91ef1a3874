/* SPDX-License-Identifier: MIT */
/* fuzz_folds.c - the cv fold-file parser (row,fold) on arbitrary bytes: it fails cleanly or
 * returns unique rows sorted ascending below the row limit with folds in -1..K-1, every fold
 * 0..K-1 used, and writing them back as row,fold parses to the same. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cairn/data.h"
#include "base/banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cairn_ctx *ctx = cairn_ctx_new();
    size_t limit = size && (data[0] & 1) ? 1000 : 0;
    size_t *rows = NULL, n = 0, k = 0;
    int32_t *folds = NULL;
    if (cairn_folds_parse(ctx, (const char *)data, size, limit, &rows, &folds, &n, &k) ==
        CAIRN_OK) {
        if (n == 0 || k < 2 || k > CAIRN_FOLDS_MAX)
            abort();
        char *used = calloc(k, 1);
        size_t cap = 16 + n * 48, len = 0;
        char *text = malloc(cap);
        len += (size_t)snprintf(text, cap, "fold,row\n");
        for (size_t i = 0; i < n; i++) {
            if ((i > 0 && rows[i] <= rows[i - 1]) || (limit && rows[i] >= limit) || folds[i] < -1 ||
                folds[i] >= (int32_t)k)
                abort();
            if (folds[i] >= 0)
                used[folds[i]] = 1;
            len += (size_t)snprintf(text + len, cap - len, "%d,%zu\r\n", (int)folds[i], rows[i]);
        }
        for (size_t f = 0; f < k; f++)
            if (!used[f])
                abort();
        size_t *r2 = NULL, n2 = 0, k2 = 0;
        int32_t *f2 = NULL;
        if (cairn_folds_parse(ctx, text, len, limit, &r2, &f2, &n2, &k2) != CAIRN_OK || n2 != n ||
            k2 != k || memcmp(r2, rows, n * sizeof *rows) != 0 ||
            memcmp(f2, folds, n * sizeof *folds) != 0)
            abort();
        cairn_free(r2);
        cairn_free(f2);
        free(used);
        free(text);
    }
    cairn_free(rows);
    cairn_free(folds);
    cairn_close(ctx);
    return 0;
}
