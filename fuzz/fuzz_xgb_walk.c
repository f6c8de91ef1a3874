/* SPDX-License-Identifier: MIT */
/* fuzz_xgb_walk.c - feeds arbitrary bytes to the xgboost tree walker's builder (the booster
 * JSON it reads when a model is fitted or loaded): the first byte picks the model's width
 * (1-64 features), the rest is the JSON. A walker that builds must walk rows of missing, zero
 * and extreme values to an end (its trees are trees) without leaving its arrays. */
#include <math.h>
#include <stdint.h>
#include <stddef.h>
#include <stdlib.h>
#include "learn/xgb_walk.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    size_t d = (size_t)(data[0] % 64) + 1;
    cn_xgb_walk *w = cn_xgb_walk_new((const char *)data + 1, size - 1, d, NULL);
    if (!w)
        return 0;
    static const double fill[] = {NAN, 0.0, -1e30, 1e30, 0.5};
    double x[4 * 64];
    size_t rows = sizeof fill / sizeof fill[0];
    float *out = malloc(rows * cn_xgb_walk_n_out(w) * sizeof *out);
    for (size_t r = 0; r < rows; r++) {
        for (size_t j = 0; j < d; j++)
            x[j] = fill[(r + j) % rows];
        cn_xgb_walk_predict(w, x, 1, out + r * cn_xgb_walk_n_out(w));
    }
    free(out);
    cn_xgb_walk_free(w);
    return 0;
}
