/* SPDX-License-Identifier: MIT */
/* fuzz_model.c - the model file loader. Each input is tried as it is (magic, checksum and
 * version checks) and again with its trailing SHA-256 rewritten, so mutations reach the JSON
 * metadata and payload parsers (not for XGBoost boosters: see below). A model that loads is
 * predicted on, saved and reloaded: the second save must give the same bytes as the first. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "cairn/learn.h"
#include "base/sha256.h"
#include "base/xmalloc.h"

static void exercise(cairn_ctx *ctx, cairn_model *m)
{
    /* A two-row table with the model's columns: zeros and each categorical's first level. */
    size_t nf = cairn_model_n_features(m);
    cairn_column *cols = cn_xcalloc(nf ? nf : 1, sizeof *cols);
    static double zeros[2];
    static int32_t codes[2] = {0, -1};
    static const char *levels[] = {"a"};
    for (size_t i = 0; i < nf; i++) {
        cols[i].name = cairn_model_feature_name(m, i);
        cols[i].type = cairn_model_feature_type(m, i);
        if (cols[i].type == CAIRN_COL_NUMERIC) {
            cols[i].num = zeros;
        } else {
            cols[i].cat = codes;
            cols[i].n_levels = 1;
            cols[i].levels = levels;
        }
    }
    cairn_table t = {2, nf, cols, NULL};
    size_t k = cairn_model_n_classes(m);
    double *out = cn_xcalloc(2 * (k ? k : 1), sizeof *out);
    cairn_model_predict(ctx, m, &t, NULL, 2, out);
    if (k)
        cairn_model_predict_proba(ctx, m, &t, NULL, 2, out);
    free(out);
    free(cols);

    void *a = NULL, *b = NULL;
    size_t la = 0, lb = 0;
    cairn_model *again = NULL;
    if (cairn_model_save_bytes(ctx, m, &a, &la) != CAIRN_OK)
        abort();
    if (cairn_model_load_bytes(ctx, a, la, &again) != CAIRN_OK)
        abort();
    if (cairn_model_save_bytes(ctx, again, &b, &lb) != CAIRN_OK || la != lb ||
        memcmp(a, b, la) != 0)
        abort();
    cairn_model_free(again);
    cairn_free(a);
    cairn_free(b);
}

static bool contains(const uint8_t *data, size_t size, const char *word)
{
    size_t n = strlen(word);
    for (size_t i = 0; i + n <= size; i++)
        if (memcmp(data + i, word, n) == 0)
            return true;
    return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
const char *__asan_default_options(void);

/* A booster payload is parsed by XGBoost, which may ask for absurd sizes on a mutated UBJSON
 * length; it catches std::bad_alloc and fails the load, so let the allocator return NULL
 * rather than have ASan abort. (Real files are guarded by the checksum first.) */
const char *__asan_default_options(void)
{
    return "allocator_may_return_null=1";
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cairn_ctx *ctx = cairn_ctx_new();
    cairn_model *m = NULL;
    if (cairn_model_load_bytes(ctx, data, size, &m) == CAIRN_OK)
        exercise(ctx, m);
    cairn_model_free(m);
    m = NULL;
    /* XGBoost's tree loader trusts the structure of a booster it is given (a crafted one
     * crashes its predictor), so boosters are only reached through the real checksum. */
    if (size >= 32 && !contains(data, size, "xgboost")) {
        unsigned char *copy = cn_xmemdup(data, size);
        char hex[65];
        cn_sha256_hex(copy, size - 32, hex);
        for (int i = 0; i < 32; i++) {
            int hi = hex[2 * i] <= '9' ? hex[2 * i] - '0' : hex[2 * i] - 'a' + 10;
            int lo = hex[2 * i + 1] <= '9' ? hex[2 * i + 1] - '0' : hex[2 * i + 1] - 'a' + 10;
            copy[size - 32 + (size_t)i] = (unsigned char)(hi * 16 + lo);
        }
        if (cairn_model_load_bytes(ctx, copy, size, &m) == CAIRN_OK)
            exercise(ctx, m);
        cairn_model_free(m);
        free(copy);
    }
    cairn_close(ctx);
    return 0;
}
