/* SPDX-License-Identifier: MIT */
/* data_internal.h - what the data modules (csv.c, table.c, split.c, validate.c, profile.c, hash.c)
 * share: the table's owned memory, the number parser the CSV reader uses, and a small JSON writer
 * for reports. */
#ifndef CN_DATA_INTERNAL_H
#define CN_DATA_INTERNAL_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "cairn/data.h"
#include "base/arena.h"
#include "base/buf.h"
#include "base/map.h"

/* What cairn_table.internal_ points at: the names and levels live in the arena; cols, each
 * column's num/cat array and levels array are malloc'd and freed by cairn_table_free. */
typedef struct cn_table_mem {
    cn_arena *arena;
    size_t cap_cols;
    cn_map names; /* column name -> its first index, so lookups cost O(1) at 100k columns */
} cn_table_mem;

/* A table with no columns and its owned memory set up. */
cairn_table *cn_table_alloc(size_t n_rows);
/* Appends a column slot (zeroed) and returns it; the name is copied into the arena. */
cairn_column *cn_table_push_col(cairn_table *t, const char *name, size_t name_len);
cn_arena *cn_table_arena(cairn_table *t);
/* Looks a column up by name for an operation; fails with CAIRN_ENOTFOUND naming the column,
 * what it was for and the columns there are: "label column 'y' not found; columns are: a, b". */
cairn_status cn_table_need_col(cairn_ctx *ctx, const cairn_table *t, const char *name,
                               const char *what, const cairn_column **out);
/* A 64-bit hash of row r over all columns (NaNs alike), and whether rows a and b are equal. */
uint64_t cn_table_row_hash(const cairn_table *t, size_t r);
bool cn_table_rows_equal(const cairn_table *t, size_t a, const cairn_table *u, size_t b);

/* Parses p[0..len) (surrounding spaces and tabs allowed) as a decimal double: a fast exact
 * path (Clinger) for up to 19 significant digits and |exponent| <= 22, strtod otherwise.
 * Accepts inf/infinity/nan, rejects hex, empty input, trailing junk and overflow. */
bool cn_csv_parse_double(const char *p, size_t len, double *out);
/* True for the texts that mean "missing": "", NA, N/A, NaN, null, ? (any case, trimmed). */
bool cn_csv_is_missing(const char *p, size_t len);

#endif
