/* SPDX-License-Identifier: MIT */
/* fuzz_serve_request.c - arbitrary bytes as a model server request body (src/server/serving/
 * decode.c): the first byte picks the decoder (MLflow JSON, CSV, Open Inference V2) and the
 * schema (numeric, categorical, mixed; missing values taken or not), the rest is the body.
 * Every body ends in a table with exactly the schema's features and rows without refused
 * values, or a 4xx status with a message; never a crash. */
#include <assert.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "serving/decode.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const names[] = {"a", "b", "sepal length (cm)", "c"};

static void check_table(const msv_schema *s, const cairn_table *t)
{
    assert(t->n_cols == s->n_features);
    for (size_t f = 0; f < s->n_features; f++) {
        const cairn_column *c = &t->cols[f];
        assert(strcmp(c->name, s->names[f]) == 0);
        assert(c->type == s->types[f]);
        for (size_t r = 0; r < t->n_rows; r++) {
            if (c->type == CAIRN_COL_NUMERIC) {
                assert(!isinf(c->num[r]));
                assert(s->allows_missing || !isnan(c->num[r]));
            } else {
                assert(c->cat[r] < (int32_t)c->n_levels);
                assert(s->allows_missing || c->cat[r] >= 0);
            }
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    static cairn_ctx *ctx;
    if (!ctx)
        ctx = cairn_ctx_new();
    uint8_t pick = data[0];
    const char *body = (const char *)data + 1;
    size_t len = size - 1;
    cairn_col_type types[4];
    for (size_t i = 0; i < 4; i++)
        types[i] = (pick >> (2 + i)) & 1 ? CAIRN_COL_CATEGORICAL : CAIRN_COL_NUMERIC;
    msv_schema s;
    msv_schema_init(&s, names, types, (pick & 0x80) ? 1 : 4, (pick >> 6) & 1, "fuzz");
    cairn_table *t = NULL;
    cn_buf err = CN_BUF_INIT;
    int st;
    switch (pick & 3) {
    case 0:
    case 1: {
        msv_format fmt;
        st = msv_decode_invocations(ctx, &s, (pick & 3) ? "text/csv" : "application/json", body,
                                    len, &t, &fmt, &err);
        break;
    }
    case 2: {
        char *id = NULL;
        st = msv_decode_v2(ctx, &s, body, len, &t, &id, &err);
        assert(st || !id || strlen(id) <= len);
        free(id);
        break;
    }
    default: {
        size_t n = 0;
        char *fixed = msv_json_fix_nonfinite(body, len, &n);
        assert(!fixed || n >= len);
        free(fixed);
        st = -1;
        break;
    }
    }
    if (st == 0) {
        assert(t);
        check_table(&s, t);
    } else if (st > 0) {
        assert(!t);
        assert(st >= 400 && st < 500);
        assert(err.len > 0);
    }
    cairn_table_free(t);
    cn_buf_release(&err);
    msv_schema_release(&s);
    return 0;
}
