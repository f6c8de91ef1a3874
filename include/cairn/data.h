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

typedef enum cairn_col_type { CAIRN_COL_NUMERIC = 0, CAIRN_COL_CATEGORICAL } cairn_col_type;

typedef struct cairn_column {
    const char *name;
    cairn_col_type type;
    double *num;     /* n_rows values when NUMERIC, NaN = missing; else NULL */
    int32_t *cat;    /* n_rows codes when CATEGORICAL, -1 = missing; else NULL */
    size_t n_levels; /* CATEGORICAL: distinct values in order of first appearance */
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

/* ---- building tables by hand (learners' outputs, tests) ---- */

/* A table with n_rows rows and no columns yet; free with cairn_table_free(). */
CAIRN_API cairn_table *cairn_table_new(size_t n_rows);
/* Appends a numeric column; values (n_rows doubles, NaN = missing) are copied. */
CAIRN_API cairn_status cairn_table_add_numeric(cairn_ctx *ctx, cairn_table *t, const char *name,
                                               const double *values);
/* Appends a categorical column; codes (n_rows, -1 = missing, else < n_levels) and levels are
 * copied. */
CAIRN_API cairn_status cairn_table_add_categorical(cairn_ctx *ctx, cairn_table *t, const char *name,
                                                   const int32_t *codes, const char *const *levels,
                                                   size_t n_levels);

/* ---- CSV ---- */

/* RFC 4180 CSV: a header row (unless no_header: columns are then named col1, col2, ...),
 * quoted fields with doubled quotes, delimiters and newlines inside quotes, LF or CRLF, an
 * optional UTF-8 BOM. A column is numeric when every non-missing value parses as a double,
 * else categorical, unless listed in numeric or categorical. Missing values: an empty field,
 * NA, N/A, NaN, null, ? (case-insensitive) -> NaN / -1. Blank lines are skipped when the table
 * has more than one column. Errors name the line (1-based, physical: the header is line 1)
 * and the column: "data.csv line 17: expected 5 fields, got 4",
 * "data.csv line 9 column 'age': 'abc' is not a number". */
typedef struct cairn_csv_opts {
    char delimiter; /* 0: ',' */
    bool no_header;
    const char *const *numeric; /* columns declared numeric: a non-number is an error */
    size_t n_numeric;
    const char *const *categorical; /* columns declared categorical (e.g. integer codes) */
    size_t n_categorical;
    size_t max_bytes; /* 0: 4 GiB; larger input fails with CAIRN_ELIMIT */
} cairn_csv_opts;
#define CAIRN_CSV_OPTS_INIT                                                                        \
    {                                                                                              \
        0                                                                                          \
    }

/* Reads a CSV file (memory-mapped). opts may be NULL. On success *out is a new table. */
CAIRN_API cairn_status cairn_csv_read(cairn_ctx *ctx, const char *path, const cairn_csv_opts *opts,
                                      cairn_table **out);
/* Parses CSV text in memory (text need not be NUL-terminated); errors say "input line N". */
CAIRN_API cairn_status cairn_csv_parse(cairn_ctx *ctx, const char *text, size_t len,
                                       const cairn_csv_opts *opts, cairn_table **out);
/* Writes t as CSV (header, ',' delimiter, LF, missing values empty, numbers in their shortest
 * round-trip form), atomically. Reading it back with the same column types (declare the
 * categorical columns whose levels look numeric) gives the same content digest. */
CAIRN_API cairn_status cairn_csv_write(cairn_ctx *ctx, const cairn_table *t, const char *path);
/* SHA-256 of the table's content, independent of its text form ("1.0" and "1" agree): the
 * column names, types, numeric values (all NaNs alike) and categorical values as strings,
 * column by column. Lowercase hex into hex_out. Fails only on a NULL table. */
CAIRN_API cairn_status cairn_table_digest(const cairn_table *t, char hex_out[65]);

/* ---- the task a label implies ---- */

/* At most this many distinct integer values make a numeric label a class label. */
#define CAIRN_CLASSES_MAX 20

/* The one rule by which cairn tells a class label from a numeric target when no task is given
 * (cairn train, cairn_model_fit with task auto, cairn eval metrics), as AutoGluon and H2O do:
 * a categorical column holds classes; a numeric one does when every value (missing ones aside)
 * is an integer and there are exactly 2 distinct values, or 3 to CAIRN_CLASSES_MAX distinct
 * values that are at most 5% of the rows with a value (wine's 0/1/2 in 178 rows). Anything else is
 * a regression target. Writes the reason to why (size why_size; NULL for none), naming the column:
 * "label 'target' has 3 distinct integer values (0, 1, 2) in 178 rows". */
CAIRN_API bool cairn_column_holds_classes(const cairn_column *c, size_t n_rows, char *why,
                                          size_t why_size);

/* ---- splits ---- */

typedef enum cairn_split_part {
    CAIRN_SPLIT_TRAIN = 0,
    CAIRN_SPLIT_VAL,
    CAIRN_SPLIT_TEST
} cairn_split_part;
#define CAIRN_SPLIT_N_PARTS 3

typedef enum cairn_split_method {
    CAIRN_SPLIT_RANDOM = 0, /* shuffle rows */
    CAIRN_SPLIT_STRATIFIED, /* per label class, each part within 1 row of its share */
    CAIRN_SPLIT_GROUP,      /* whole groups go to one part: no group on two sides */
    CAIRN_SPLIT_TIME        /* oldest rows train, then validation, newest test */
} cairn_split_method;

typedef struct cairn_split_opts {
    cairn_split_method method;
    double test_fraction; /* of the rows, in [0, 1); 0: no test part */
    double val_fraction;  /* of the rows, in [0, 1); 0: no validation part */
    uint64_t seed;        /* the same seed gives the same split */
    const char *label;    /* STRATIFIED: the class column */
    const char *group;    /* GROUP: the group column */
    const char *time;     /* TIME: the ordering column (numbers, or text that sorts: ISO dates) */
} cairn_split_opts;
#define CAIRN_SPLIT_OPTS_INIT                                                                      \
    {                                                                                              \
        0                                                                                          \
    }

/* Row indices of each part, 0-based and sorted ascending. */
typedef struct cairn_split {
    size_t *rows[CAIRN_SPLIT_N_PARTS];
    size_t n[CAIRN_SPLIT_N_PARTS];
    char sha256[CAIRN_SPLIT_N_PARTS][65]; /* of each part's index file text */
    size_t n_rows;                        /* rows of the table split (0 when unknown) */
    cairn_split_method method;
    uint64_t seed;
} cairn_split;

/* "train", "val", "test". */
CAIRN_API const char *cairn_split_part_name(cairn_split_part part);
/* "random", "stratified", "group", "time"; cairn_split_method_parse returns false on others. */
CAIRN_API const char *cairn_split_method_name(cairn_split_method m);
CAIRN_API bool cairn_split_method_parse(const char *name, cairn_split_method *out);
/* Splits t's rows. On success *out is new, freed with cairn_split_free(). Fails on fractions
 * out of range, a missing or absent label/group/time column, or too few groups. */
CAIRN_API cairn_status cairn_split_make(cairn_ctx *ctx, const cairn_table *t,
                                        const cairn_split_opts *opts, cairn_split **out);
/* Writes dir/train.idx, dir/val.idx, dir/test.idx (one row index per line, sorted; an empty
 * part gives an empty file) and dir/split.json (method, seed, counts, digests), creating dir. */
CAIRN_API cairn_status cairn_split_write(cairn_ctx *ctx, const cairn_split *s, const char *dir);
/* Reads the three index files of dir back; a missing val.idx or test.idx is an empty part.
 * n_rows > 0 also checks every index is below it. */
CAIRN_API cairn_status cairn_split_read(cairn_ctx *ctx, const char *dir, size_t n_rows,
                                        cairn_split **out);
/* Parses index-file text: one non-negative integer a line, strictly ascending, each below
 * n_rows when n_rows > 0; LF or CRLF; blank last line allowed. *out (free with cairn_free) may
 * be NULL when *n_out is 0. Errors name the line: "line 3: '1x' is not a row index". */
CAIRN_API cairn_status cairn_index_parse(cairn_ctx *ctx, const char *text, size_t len,
                                         size_t n_rows, size_t **out, size_t *n_out);
/* Folds of a fold file: at most this many. */
#define CAIRN_FOLDS_MAX 1000
/* Parses a fold file (cv: folds.csv): a CSV whose header is row,fold (either order), then one
 * 0-based data row index and its fold a line. Folds are 0..K-1 without gaps (K >= 2) or -1 for
 * a row that is only ever trained on (scikit-learn's PredefinedSplit test_fold); rows are
 * unique and below n_rows when n_rows > 0. Errors name the line ("line 4: row 17 is already in
 * the file (line 2)") or the empty fold. On success *rows and *folds (n_out each, sorted by
 * row; free with cairn_free) and *n_folds = K. */
CAIRN_API cairn_status cairn_folds_parse(cairn_ctx *ctx, const char *text, size_t len,
                                         size_t n_rows, size_t **rows, int32_t **folds,
                                         size_t *n_out, size_t *n_folds);
/* The index-file text of rows[0..n) (the caller frees with cairn_free). */
CAIRN_API char *cairn_index_format(const size_t *rows, size_t n);
CAIRN_API void cairn_split_free(cairn_split *s); /* NULL is a no-op */

/* ---- validation ---- */

typedef enum cairn_issue_level {
    CAIRN_ISSUE_WARN = 0, /* suspicious but usable */
    CAIRN_ISSUE_ERROR     /* the data should not be used as is */
} cairn_issue_level;

typedef struct cairn_data_issue {
    cairn_issue_level level;
    const char *code;    /* stable: "missing-values", "constant-column", "duplicate-column",
                          * "duplicate-rows", "class-imbalance", "rare-class", "single-class",
                          * "missing-label",
                          * "split-overlap", "split-content-overlap", "split-out-of-range",
                          * "non-finite", "schema-missing-column", "schema-type", "empty-table",
                          * "all-missing" */
    const char *column;  /* the column concerned, or NULL */
    const char *message; /* one line for people; strings live as long as the report */
} cairn_data_issue;

typedef struct cairn_column_report {
    const char *name;
    cairn_col_type type;
    size_t n_missing;
    double min, max;  /* NUMERIC, over non-missing values; NaN when all are missing */
    size_t n_levels;  /* CATEGORICAL: distinct values present */
    bool is_constant; /* one distinct non-missing value (or none) */
    int duplicate_of; /* index of an earlier column with identical content, or -1 */
} cairn_column_report;

typedef struct cairn_class_count {
    const char *label; /* the class as text */
    size_t count;
} cairn_class_count;

typedef struct cairn_validate_opts {
    const char *label;        /* class column: counts and imbalance; NULL: none */
    const cairn_split *split; /* index sets to check for shared rows; NULL: none */
    /* Expected schema: columns that must exist, with their types; NULL: not checked. */
    const char *const *expect_columns;
    const cairn_col_type *expect_types;
    size_t n_expect;
    double max_missing_fraction; /* a column missing more than this is an error; 0: 0.5 */
    double max_imbalance_ratio;  /* largest / smallest class above this warns; 0: 10 */
} cairn_validate_opts;
#define CAIRN_VALIDATE_OPTS_INIT                                                                   \
    {                                                                                              \
        0                                                                                          \
    }

typedef struct cairn_validate_report {
    size_t n_rows, n_cols;
    cairn_column_report *cols;  /* n_cols */
    size_t n_duplicate_rows;    /* rows equal to an earlier row */
    const char *label;          /* as given, or NULL */
    cairn_class_count *classes; /* n_classes, in order of first appearance */
    size_t n_classes;
    double imbalance_ratio; /* largest class / smallest class; 0 without a label */
    size_t split_overlap[CAIRN_SPLIT_N_PARTS]; /* rows shared by train&val, train&test, val&test */
    cairn_data_issue *issues;
    size_t n_issues, n_errors, n_warnings;
    void *internal_;
} cairn_validate_report;

/* Checks t: schema, ranges, missing values, constant and duplicate columns, duplicate rows,
 * class balance of opts->label, rows shared between the parts of opts->split. Findings are
 * issues in the report, not failures; the call fails only when opts->label is not a column
 * (CAIRN_ENOTFOUND) or the split does not fit the table. */
CAIRN_API cairn_status cairn_validate(cairn_ctx *ctx, const cairn_table *t,
                                      const cairn_validate_opts *opts, cairn_validate_report **out);
/* The report as JSON (the caller frees with cairn_free); documented in docs/cli/cairn-data.md. */
CAIRN_API cairn_status cairn_validate_json(cairn_ctx *ctx, const cairn_validate_report *r,
                                           char **out);
CAIRN_API void cairn_validate_report_free(cairn_validate_report *r); /* NULL is a no-op */

/* ---- profiles ---- */

#define CAIRN_PROFILE_N_QUANTILES 7 /* at 0.01 0.05 0.25 0.5 0.75 0.95 0.99 */
#define CAIRN_PROFILE_N_BINS 20
CAIRN_API extern const double cairn_profile_quantile_levels[CAIRN_PROFILE_N_QUANTILES];

typedef struct cairn_feature_profile {
    const char *name;
    cairn_col_type type;
    size_t count; /* non-missing values */
    size_t n_missing;
    /* NUMERIC (NaN when count is 0): */
    double mean, std; /* std is the sample standard deviation (n - 1), 0 for one value */
    double min, max;
    double quantiles[CAIRN_PROFILE_N_QUANTILES]; /* linear interpolation (numpy's default) */
    /* Histogram of the finite values: 20 equal-width bins from min to max, the last closed
     * (numpy.histogram); a constant column gets [v - 0.5, v + 0.5]. */
    double bin_edges[CAIRN_PROFILE_N_BINS + 1];
    size_t bin_counts[CAIRN_PROFILE_N_BINS];
    /* CATEGORICAL: */
    size_t n_levels;
    const char **levels;
    size_t *level_counts;
} cairn_feature_profile;

typedef struct cairn_profile {
    size_t n_rows;
    size_t n_features;
    cairn_feature_profile *features;
    void *internal_;
} cairn_profile;

/* Profiles every column of t: the reference profile drift detection compares traffic with. */
CAIRN_API cairn_status cairn_profile_table(cairn_ctx *ctx, const cairn_table *t,
                                           cairn_profile **out);
/* The profile as JSON (the caller frees with cairn_free); format in docs/cli/cairn-data.md. */
CAIRN_API cairn_status cairn_profile_json(cairn_ctx *ctx, const cairn_profile *p, char **out);
CAIRN_API void cairn_profile_free(cairn_profile *p); /* NULL is a no-op */
/* The q-quantile (0 <= q <= 1) of sorted[0..n) by linear interpolation, as numpy.quantile's
 * default; NaN when n is 0. */
CAIRN_API double cairn_quantile_sorted(const double *sorted, size_t n, double q);

/* ---- digests ---- */

typedef struct cairn_data_digest {
    char file_sha256[65]; /* of the file's bytes */
    int64_t size_bytes;
    size_t n_rows, n_cols;
    char content_sha256[65]; /* cairn_table_digest of the parsed table */
} cairn_data_digest;

/* Hashes a CSV file in full and parses it (opts may be NULL) for its shape and content digest. */
CAIRN_API cairn_status cairn_data_hash(cairn_ctx *ctx, const char *path, const cairn_csv_opts *opts,
                                       cairn_data_digest *out);

/* ---- expectations (docs/expectations.md) ---- */

/* Parsed expectations.yaml: per-column rules (type, range, allowed categories, missing share,
 * uniqueness) and dataset rules (minimum rows, class balance of the label, rows per slice,
 * coverage of a sensitive attribute's groups). */
typedef struct cairn_expect cairn_expect;

/* Reads an expectations file (YAML through libyaml; JSON when the name ends in ".json").
 * Unknown keys, wrong types and values out of range fail with EINVAL naming the file, line
 * and key: "expectations 'e.yaml' line 4 column 10: 'columns.age.min' must be a number, got
 * 'low'"; a missing file is ENOTFOUND. On success *out is freed with cairn_expect_free(). */
CAIRN_API cairn_status cairn_expect_load(cairn_ctx *ctx, const char *path, cairn_expect **out);
/* The same from text[0 .. len); `label` names it in messages. */
CAIRN_API cairn_status cairn_expect_parse(cairn_ctx *ctx, const char *label, const char *text,
                                          size_t len, cairn_expect **out);
CAIRN_API void cairn_expect_free(cairn_expect *e); /* NULL is a no-op */
/* The columns the file declares categorical (borrowed; n in *n_out): pass them to the CSV
 * reader so integer codes are read as categories. */
CAIRN_API const char *const *cairn_expect_categorical(const cairn_expect *e, size_t *n_out);

/* Row numbers a finding lists at most (it counts them all). */
#define CAIRN_EXPECT_MAX_ROWS 5

typedef struct cairn_expect_finding {
    /* stable: "column-missing", "type", "min", "max", "values", "missing", "unique",
     * "min-rows", "class-balance", "slice-rows", "sensitive-coverage" */
    const char *rule;
    const char *column;  /* the column concerned, or NULL (min-rows) */
    const char *message; /* one line naming the rule and what was found */
    const char *fix;     /* one line: what to do about it */
    size_t n_rows;       /* rows breaking the rule (0 when the rule is about counts) */
    size_t rows[CAIRN_EXPECT_MAX_ROWS]; /* the first of them: 0-based data rows, as split
                                         * index files count (file line = row + 2) */
    size_t n_rows_listed;
    uint32_t line; /* the rule's line in the expectations file */
} cairn_expect_finding;

typedef struct cairn_expect_result {
    size_t n_rules;  /* rules checked */
    size_t n_failed; /* = n_findings: each failed rule is one finding */
    cairn_expect_finding *findings;
    void *internal_;
} cairn_expect_result;

/* Checks t against e. Failed rules are findings in the result, not failures: the call fails
 * only on bad arguments. A column expected `categorical` may be read as numbers (integer
 * class codes): its values are compared as text ("0", "1"). On success *out is freed with
 * cairn_expect_result_free(). */
CAIRN_API cairn_status cairn_expect_check(cairn_ctx *ctx, const cairn_expect *e,
                                          const cairn_table *t, cairn_expect_result **out);
/* The result as JSON ({"ok", "rules", "failed", "findings": [...]}; the caller frees with
 * cairn_free). */
CAIRN_API cairn_status cairn_expect_result_json(cairn_ctx *ctx, const cairn_expect_result *r,
                                                char **out);
/* The findings as text, one line each: "rule 'max' on column 'age' (line 7): 3 rows above
 * 90 (rows 4, 18, 77); fix: ..." (the caller frees with cairn_free; "" when none failed). */
CAIRN_API char *cairn_expect_result_text(const cairn_expect_result *r);
CAIRN_API void cairn_expect_result_free(cairn_expect_result *r); /* NULL is a no-op */

typedef struct cairn_expect_derive_opts {
    const char *label;      /* the target column, or NULL */
    bool is_classification; /* the label holds classes: allowed values and a balance floor */
    double margin;          /* numeric ranges widen by this share of their span; 0: 0.1 */
} cairn_expect_derive_opts;
#define CAIRN_EXPECT_DERIVE_OPTS_INIT                                                              \
    {                                                                                              \
        0                                                                                          \
    }

/* Writes expectations.yaml text that t itself passes: each column's type, its range widened
 * by the margin (integers rounded outward; a column without negative values stays >= 0), its
 * categories, a missing share of what it has plus 0.05, unique for an id-like column, half
 * the rows as min_rows, and for a class label half its rarest class's share as the balance
 * floor; slices and sensitive attributes as commented examples (only a person knows them).
 * The caller frees *out with cairn_free. */
CAIRN_API cairn_status cairn_expect_derive(cairn_ctx *ctx, const cairn_table *t,
                                           const cairn_expect_derive_opts *opts, char **out);

#ifdef __cplusplus
}
#endif
#endif
