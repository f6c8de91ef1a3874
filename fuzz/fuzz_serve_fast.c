/* SPDX-License-Identifier: MIT */
/* fuzz_serve_fast.c - the fast path of POST /invocations (src/server/serving/fastdecode.c)
 * against the full decoder (decode.c, jansson's tree): arbitrary bytes as a JSON body, the
 * first byte picking the schema (1 to 4 numeric features, one categorical, missing values
 * taken or not). Whenever the fast path takes a body, the full decoder must accept it too
 * with the same format and a table equal bit for bit; a body the fast path leaves must get
 * from msv_decode_invocations exactly the full decoder's answer (status and message). */
#undef NDEBUG /* the checks are the point of this target, in every build */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "serving/decode.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const names[] = {"a", "b", "sepal length (cm)", "c"};

static void same_tables(const cairn_table *x, const cairn_table *y)
{
    assert(x->n_rows == y->n_rows && x->n_cols == y->n_cols);
    for (size_t f = 0; f < x->n_cols; f++) {
        assert(strcmp(x->cols[f].name, y->cols[f].name) == 0);
        assert(x->cols[f].type == CAIRN_COL_NUMERIC && y->cols[f].type == CAIRN_COL_NUMERIC);
        assert(memcmp(x->cols[f].num, y->cols[f].num, x->n_rows * sizeof(double)) == 0);
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
    size_t n = 1 + (pick & 3);
    cairn_col_type types[4] = {CAIRN_COL_NUMERIC, CAIRN_COL_NUMERIC, CAIRN_COL_NUMERIC,
                               CAIRN_COL_NUMERIC};
    if (pick & 0x10)
        types[n - 1] = CAIRN_COL_CATEGORICAL;
    msv_schema s;
    msv_schema_init(&s, names, types, n, (pick >> 5) & 1, "fuzz");
    cairn_table *fast = NULL, *full = NULL, *both = NULL;
    msv_format ffast = MSV_FMT_CSV, ffull = MSV_FMT_CSV, fboth = MSV_FMT_CSV;
    cn_buf err_full = CN_BUF_INIT, err_both = CN_BUF_INIT;
    bool took = msv_decode_fast(ctx, &s, body, len, &fast, &ffast);
    int st_full = msv_decode_invocations_full(ctx, &s, "application/json", body, len, &full, &ffull,
                                              &err_full);
    int st_both =
        msv_decode_invocations(ctx, &s, "application/json", body, len, &both, &fboth, &err_both);
    if (took) {
        assert(fast && st_full == 0 && full);
        assert(ffast == ffull);
        same_tables(fast, full);
    } else {
        assert(!fast);
    }
    assert(st_both == st_full);
    if (st_full == 0) {
        assert(both && fboth == ffull);
        if (took)
            same_tables(both, full);
    } else {
        assert(!both && strcmp(cn_buf_str(&err_both), cn_buf_str(&err_full)) == 0);
    }
    cairn_table_free(fast);
    cairn_table_free(full);
    cairn_table_free(both);
    cn_buf_release(&err_full);
    cn_buf_release(&err_both);
    msv_schema_release(&s);
    return 0;
}
