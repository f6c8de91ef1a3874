/* SPDX-License-Identifier: MIT */
/* fuzz_drift_profile.c - the drift reference profile parser (cairn_drift_reference_parse).
 * A profile that parses is written again (the text must parse to the same text) and compared
 * with a three-row table holding its columns, so the comparison runs on whatever the parser
 * accepts. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "cairn/drift.h"
#include "drift/drift_internal.h"
#include "base/xmalloc.h"

static void exercise(cairn_ctx *ctx, const cairn_drift_reference *r)
{
    size_t nf = cairn_drift_reference_n_features(r);
    cairn_table *t = cairn_table_new(3);
    static const double nums[3] = {0.0, 1.5, NAN};
    static const int32_t codes[3] = {0, 1, -1};
    static const char *const levels[] = {"a", "b"};
    char *text = NULL;
    cairn_drift_reference_json(ctx, r, &text);
    for (size_t i = 0; i < nf; i++) {
        const char *name = cairn_drift_reference_feature(r, i);
        if (strcmp(name, "prediction") == 0 && i + 1 == nf)
            continue;
        if (r->cols[i].type == CAIRN_COL_CATEGORICAL)
            cairn_table_add_categorical(ctx, t, name, codes, levels, 2);
        else
            cairn_table_add_numeric(ctx, t, name, nums);
    }
    cairn_drift_report *rep = NULL;
    if (cairn_drift_compare(ctx, r, t, NULL, &rep) == CAIRN_OK) {
        char *json = NULL, *html = NULL;
        cairn_drift_report_json(ctx, rep, &json);
        cairn_drift_report_html(ctx, rep, &html);
        cairn_free(json);
        cairn_free(html);
    }
    cairn_drift_report_free(rep);
    cairn_table_free(t);
    if (text) {
        cairn_drift_reference *again = NULL;
        char *text2 = NULL;
        if (cairn_drift_reference_parse(ctx, text, strlen(text), &again) != CAIRN_OK)
            abort();
        cairn_drift_reference_json(ctx, again, &text2);
        if (!text2 || strcmp(text, text2) != 0)
            abort();
        cairn_free(text2);
        cairn_drift_reference_free(again);
    }
    cairn_free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cairn_ctx *ctx = cairn_ctx_new();
    cairn_drift_reference *r = NULL;
    if (cairn_drift_reference_parse(ctx, (const char *)data, size, &r) == CAIRN_OK)
        exercise(ctx, r);
    cairn_drift_reference_free(r);
    cairn_close(ctx);
    return 0;
}
