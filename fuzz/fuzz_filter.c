/* SPDX-License-Identifier: MIT */
/* fuzz_filter.c - compiles arbitrary bytes as a search filter for runs and experiments, and
 * each line of them as an order_by entry; checks that every '?' has its bound argument and
 * that failures leave the output untouched. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "core/core.h"
#include "formats/filter.h"
#include "base/xmalloc.h"
#include "base/banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static size_t count_marks(const cn_buf *b)
{
    size_t n = 0;
    for (size_t k = 0; k < b->len; k++)
        n += b->data[k] == '?';
    return n;
}

static void one_target(cairn_ctx *ctx, cn_filter_target t, const char *text, size_t size)
{
    cn_sql where;
    cn_sql_init(&where);
    cairn_status rc = cn_filter_compile(ctx, t, text, size, &where);
    if (rc == CAIRN_OK) {
        CN_ASSERT(where.sql.len > 0);
        CN_ASSERT(count_marks(&where.sql) == where.n_args);
        for (size_t k = 0; k < where.n_args; k++)
            CN_ASSERT(where.args[k].type != CN_SQLARG_TEXT || where.args[k].text != NULL);
    } else {
        CN_ASSERT(rc == CAIRN_EINVAL || rc == CAIRN_ELIMIT);
        CN_ASSERT(where.sql.len == 0 && where.n_args == 0);
        CN_ASSERT(strlen(cairn_errmsg(ctx)) > 0);
    }
    cn_sql_release(&where);

    /* Each line is an order_by entry. */
    size_t n = 0;
    char **entries = cn_xcalloc(size + 1, sizeof *entries);
    size_t start = 0;
    for (size_t k = 0; k <= size; k++) {
        if (k == size || text[k] == '\n') {
            entries[n++] = cn_xstrndup(text + start, k - start);
            start = k + 1;
        }
    }
    cn_sql joins;
    cn_buf order = CN_BUF_INIT;
    cn_sql_init(&joins);
    rc = cn_order_compile(ctx, t, (const char *const *)entries, n, &joins, &order);
    if (rc == CAIRN_OK) {
        CN_ASSERT(order.len > 0);
        CN_ASSERT(count_marks(&joins.sql) == joins.n_args);
        CN_ASSERT(count_marks(&order) == 0);
    } else {
        CN_ASSERT(joins.sql.len == 0 && joins.n_args == 0 && order.len == 0);
    }
    cn_sql_release(&joins);
    cn_buf_release(&order);
    for (size_t k = 0; k < n; k++)
        free(entries[k]);
    free(entries);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cairn_ctx *ctx = cairn_ctx_new();
    one_target(ctx, CN_FILTER_RUNS, (const char *)data, size);
    one_target(ctx, CN_FILTER_EXPERIMENTS, (const char *)data, size);
    /* The context has no store: released by hand, so no store module is linked in. */
    cn_buf_release(&ctx->err);
    free(ctx);
    return 0;
}
