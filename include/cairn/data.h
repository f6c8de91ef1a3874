/* SPDX-License-Identifier: MIT */
/* data.h - tables read from CSV, splits, profiles and digests: what learners and evaluation
 * consume. A table is column-major: numeric columns as doubles (NaN = missing), categorical
 * columns as integer codes into their levels (-1 = missing). */
#ifndef CAIRN_DATA_H
#define CAIRN_DATA_H

#include "cairn.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum cairn_col_type {
    CAIRN_COL_NUMERIC = 0,
    CAIRN_COL_CATEGORICAL
} cairn_col_type;

typedef struct cairn_column {
    const char *name;
    cairn_col_type type;
    double *num;         /* n_rows values when NUMERIC, NaN = missing; else NULL */
    int32_t *cat;        /* n_rows codes when CATEGORICAL, -1 = missing; else NULL */
    size_t n_levels;     /* CATEGORICAL: distinct values in order of first appearance */
    const char **levels;
} cairn_column;

typedef struct cairn_table {
    size_t n_rows;
    size_t n_cols;
    cairn_column *cols;
    void *internal_; /* owned memory; do not touch */
} cairn_table;

CAIRN_API void cairn_table_free(cairn_table *t); /* NULL is a no-op */
/* Index of the column named `name`, or -1. */
CAIRN_API int cairn_table_find(const cairn_table *t, const char *name);

#ifdef __cplusplus
}
#endif
#endif
