/* SPDX-License-Identifier: MIT */
/* fuzz_compare.c - the paired tests on files made by any tool (`cairn eval compare
 * --predictions`, `--scores`) on arbitrary CSV bytes: each fails cleanly or answers with
 * p-values in [0, 1] and an interval whose bounds are ordered. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include "cairn/train.h"
#include "base/banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const cairn_compare_result *r)
{
    if (!r->has_test || !(r->pvalue >= 0 && r->pvalue <= 1))
        abort();
    if (r->test2 && !(r->pvalue2 >= 0 && r->pvalue2 <= 1))
        abort();
    if (isfinite(r->diff_low) && isfinite(r->diff_high) && r->diff_low > r->diff_high)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    cairn_ctx *ctx = cairn_ctx_new();
    cairn_table *t = NULL;
    cairn_compare_opts o = CAIRN_COMPARE_OPTS_INIT;
    o.task = (cairn_task)(data[0] % 3); /* auto, classification, regression */
    o.n_bootstrap = 20;
    cairn_csv_opts co = CAIRN_CSV_OPTS_INIT;
    co.max_bytes = 1 << 16;
    if (cairn_csv_parse(ctx, (const char *)data + 1, size - 1, &co, &t) == CAIRN_OK) {
        cairn_compare_result *r = NULL;
        if (cairn_compare_predictions(ctx, t, &o, &r) == CAIRN_OK)
            check(r);
        cairn_compare_result_free(r);
        r = NULL;
        if (cairn_compare_scores(ctx, t, &o, &r) == CAIRN_OK)
            check(r);
        cairn_compare_result_free(r);
    }
    cairn_table_free(t);
    cairn_close(ctx);
    return 0;
}
