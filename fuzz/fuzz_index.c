/* SPDX-License-Identifier: MIT */
/* fuzz_index.c - the split index-file parser on arbitrary bytes: it fails cleanly or returns
 * strictly ascending indices below the row limit, and formatting them parses back the same. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "cairn/data.h"
#include "base/banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cairn_ctx *ctx = cairn_ctx_new();
    size_t limit = size && (data[0] & 1) ? 1000 : 0;
    size_t *rows = NULL, n = 0;
    if (cairn_index_parse(ctx, (const char *)data, size, limit, &rows, &n) == CAIRN_OK) {
        for (size_t i = 0; i < n; i++)
            if ((i > 0 && rows[i] <= rows[i - 1]) || (limit && rows[i] >= limit))
                abort();
        char *text = cairn_index_format(rows, n);
        size_t *again = NULL, m = 0;
        if (cairn_index_parse(ctx, text, strlen(text), limit, &again, &m) != CAIRN_OK || m != n ||
            (n && memcmp(rows, again, n * sizeof *rows) != 0))
            abort();
        cairn_free(again);
        cairn_free(text);
    }
    cairn_free(rows);
    cairn_close(ctx);
    return 0;
}
