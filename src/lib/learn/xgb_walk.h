/* SPDX-License-Identifier: MIT */
/* xgb_walk.h - XGBoost's tree predictions for a few rows without XGBoost's predictor: the
 * trees of a booster's JSON in flat arrays, walked the way XGBoost's CPU predictor walks them
 * (floats, NaN missing, leaves summed per output group in tree order from the base margin, the
 * objective's transform in float), so the results are the same bits. Built once per model;
 * read-only after, so any number of threads may predict at once. */
#ifndef CN_XGB_WALK_H
#define CN_XGB_WALK_H
#include <stddef.h>

typedef struct cn_xgb_walk cn_xgb_walk;

/* A walker for the booster in json[0 .. len) (XGBoosterSaveModelToBuffer, format "json") of
 * n_features inputs. NULL when the booster is one the walker does not reproduce exactly
 * (gblinear, dart, categorical splits, vector leaves, an objective without a transform here,
 * JSON from an XGBoost other than 1.7, over 64 MiB of JSON) or the JSON is not a well-formed
 * booster; *why (when why is not NULL) then names the reason, static text. Free with
 * cn_xgb_walk_free(). */
cn_xgb_walk *cn_xgb_walk_new(const char *json, size_t len, size_t n_features, const char **why);
/* Values per row of cn_xgb_walk_predict: the number of classes for multi:softprob, else 1. */
size_t cn_xgb_walk_n_out(const cn_xgb_walk *w);
/* Predicts n rows of x (row-major, n_features doubles a row, NaN missing) into out[0 ..
 * n * n_out): what XGBoost's predict gives for the same rows, transformed by the objective. */
void cn_xgb_walk_predict(const cn_xgb_walk *w, const double *x, size_t n, float *out);
void cn_xgb_walk_free(cn_xgb_walk *w); /* NULL is a no-op */

#endif
