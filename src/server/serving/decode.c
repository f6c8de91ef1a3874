/* SPDX-License-Identifier: MIT */
/* decode.c - request bodies to tables: MLflow's scoring inputs (mlflow/pyfunc/scoring_server:
 * exactly one of dataframe_split, dataframe_records, instances, inputs; or text/csv) and Open
 * Inference Protocol V2 tensors (one per feature, or one [rows, features] matrix). Every value
 * is checked against the model's feature types here, so that a batch of requests never fails
 * at prediction because of one of them. Rows are numbered from 0 in messages. */
#include "serving/decode.h"
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "base/arena.h"
#include "base/str.h"
#include "base/xmalloc.h"
#include "base/banned.h"

#define MAX_NEST 64      /* nested arrays in a V2 tensor */
#define SHOW_NAMES_MAX 8 /* missing columns named in one message */

void msv_schema_init(msv_schema *s, const char *const *names, const cairn_col_type *types, size_t n,
                     bool allows_missing, const char *learner)
{
    memset(s, 0, sizeof *s);
    s->n_features = n;
    s->names = cn_xcalloc(n ? n : 1, sizeof *s->names);
    s->types = cn_xcalloc(n ? n : 1, sizeof *s->types);
    s->by_name = (cn_map)CN_MAP_INIT;
    for (size_t i = 0; i < n; i++) {
        s->names[i] = cn_xstrdup(names[i]);
        s->types[i] = types[i];
        cn_map_put(&s->by_name, s->names[i], strlen(s->names[i]), i);
    }
    s->allows_missing = allows_missing;
    s->learner = learner ? learner : "";
}

void msv_schema_release(msv_schema *s)
{
    for (size_t i = 0; i < s->n_features; i++)
        free(s->names[i]);
    free(s->names);
    free(s->types);
    cn_map_release(&s->by_name);
    memset(s, 0, sizeof *s);
}

static int feature_index(const msv_schema *s, const char *name, size_t len)
{
    size_t i;
    return cn_map_get(&s->by_name, name, len, &i) ? (int)i : -1;
}

/* ---- NaN and Infinity as Python's json writes them ---- */

#define MARK_POS "\\u0000Infinity"
#define MARK_NEG "\\u0000-Infinity"

char *msv_json_fix_nonfinite(const char *body, size_t len, size_t *out_len)
{
    cn_buf b = CN_BUF_INIT;
    bool in_str = false, found = false;
    size_t copied = 0;
    for (size_t i = 0; i < len; i++) {
        char c = body[i];
        if (in_str) {
            if (c == '\\')
                i++;
            else if (c == '"')
                in_str = false;
            continue;
        }
        if (c == '"') {
            in_str = true;
            continue;
        }
        const char *rep = NULL;
        size_t tok = 0;
        if (c == 'N' && len - i >= 3 && memcmp(body + i, "NaN", 3) == 0) {
            rep = "null";
            tok = 3;
        } else if (c == 'I' && len - i >= 8 && memcmp(body + i, "Infinity", 8) == 0) {
            rep = "\"" MARK_POS "\"";
            tok = 8;
        } else if (c == '-' && len - i >= 9 && memcmp(body + i, "-Infinity", 9) == 0) {
            rep = "\"" MARK_NEG "\"";
            tok = 9;
        }
        if (!rep)
            continue;
        found = true;
        cn_buf_append(&b, body + copied, i - copied);
        cn_buf_puts(&b, rep);
        i += tok - 1;
        copied = i + 1;
    }
    if (!found)
        return NULL;
    cn_buf_append(&b, body + copied, len - copied);
    *out_len = b.len;
    return cn_buf_detach(&b);
}

static bool is_mark(json_t *v, bool *negative)
{
    if (!json_is_string(v) || json_string_length(v) < 2 || json_string_value(v)[0] != '\0')
        return false;
    *negative = json_string_value(v)[1] == '-';
    return true;
}

/* ---- building the table ---- */

typedef struct col_out {
    double *num;
    int32_t *cat;
    cn_map levels; /* text -> code; keys in the pool or the JSON document */
    const char **lv;
    size_t n_lv, cap_lv;
    bool present;
} col_out;

typedef struct dec {
    const msv_schema *s;
    size_t n_rows;
    col_out *cols;
    cn_arena *pool;
    cn_buf *err;
} dec;

static int fail(dec *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(dec *d, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    cn_buf_clear(d->err);
    cn_buf_vprintf(d->err, fmt, ap);
    va_end(ap);
    return 400;
}

static void dec_init(dec *d, const msv_schema *s, size_t n_rows, cn_buf *err)
{
    d->s = s;
    d->n_rows = n_rows;
    d->err = err;
    d->pool = cn_arena_new();
    d->cols = cn_xcalloc(s->n_features ? s->n_features : 1, sizeof *d->cols);
    for (size_t f = 0; f < s->n_features; f++) {
        col_out *c = &d->cols[f];
        c->levels = (cn_map)CN_MAP_INIT;
        if (s->types[f] == CAIRN_COL_NUMERIC) {
            c->num = cn_xmalloc((n_rows ? n_rows : 1) * sizeof *c->num);
            for (size_t r = 0; r < n_rows; r++)
                c->num[r] = NAN;
        } else {
            c->cat = cn_xmalloc((n_rows ? n_rows : 1) * sizeof *c->cat);
            for (size_t r = 0; r < n_rows; r++)
                c->cat[r] = -1;
        }
    }
}

static void dec_release(dec *d)
{
    for (size_t f = 0; d->cols && f < d->s->n_features; f++) {
        free(d->cols[f].num);
        free(d->cols[f].cat);
        free(d->cols[f].lv);
        cn_map_release(&d->cols[f].levels);
    }
    free(d->cols);
    cn_arena_free(d->pool);
    d->cols = NULL;
    d->pool = NULL;
}

static int32_t level_code(col_out *c, const char *text, size_t len)
{
    size_t code;
    if (cn_map_get(&c->levels, text, len, &code))
        return (int32_t)code;
    if (c->n_lv == c->cap_lv) {
        c->cap_lv = c->cap_lv ? 2 * c->cap_lv : 8;
        c->lv = cn_xrealloc(c->lv, c->cap_lv * sizeof *c->lv);
    }
    c->lv[c->n_lv] = text;
    cn_map_put(&c->levels, text, len, c->n_lv);
    return (int32_t)c->n_lv++;
}

static const char *json_kind(json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT: return "an object";
    case JSON_ARRAY: return "an array";
    case JSON_STRING: return "a string";
    case JSON_INTEGER:
    case JSON_REAL: return "a number";
    case JSON_TRUE:
    case JSON_FALSE: return "a boolean";
    default: return "null";
    }
}

/* Stores value v of feature f at row r. bool_ok: a V2 BOOL tensor (true is 1). */
static int dec_set(dec *d, size_t f, size_t r, json_t *v, bool bool_ok)
{
    col_out *c = &d->cols[f];
    const char *name = d->s->names[f];
    bool neg;
    c->present = true;
    if (json_is_null(v))
        return 0; /* missing: refused at the end unless the learner takes it */
    if (is_mark(v, &neg))
        return fail(d, "column '%s' row %zu: %sInfinity is not a finite number", name, r,
                    neg ? "-" : "");
    if (d->s->types[f] == CAIRN_COL_NUMERIC) {
        if (json_is_number(v)) {
            c->num[r] = json_number_value(v);
            return 0;
        }
        if (bool_ok && json_is_boolean(v)) {
            c->num[r] = json_is_true(v) ? 1.0 : 0.0;
            return 0;
        }
        if (json_is_string(v))
            return fail(d, "column '%s' row %zu: expected a number, got the string '%.60s'", name,
                        r, json_string_value(v));
        return fail(d, "column '%s' row %zu: expected a number, got %s", name, r, json_kind(v));
    }
    if (json_is_string(v)) {
        const char *text = json_string_value(v);
        size_t len = json_string_length(v);
        if (memchr(text, '\0', len))
            return fail(d, "column '%s' row %zu: the string holds a NUL character", name, r);
        c->cat[r] = level_code(c, text, len);
        return 0;
    }
    if (json_is_number(v)) { /* a category written as a number: its text, as pandas would */
        char text[32];
        cn_format_double_short(json_number_value(v), text, sizeof text);
        char *kept = cn_arena_strdup(d->pool, text);
        c->cat[r] = level_code(c, kept, strlen(kept));
        return 0;
    }
    if (json_is_boolean(v)) {
        const char *text = json_is_true(v) ? "True" : "False"; /* pandas' str(bool) */
        c->cat[r] = level_code(c, text, strlen(text));
        return 0;
    }
    return fail(d, "column '%s' row %zu: expected a category (a string), got %s", name, r,
                json_kind(v));
}

/* The features no input column named: 400 naming them (and what the model takes). */
static int missing_columns(dec *d)
{
    cn_buf names = CN_BUF_INIT;
    size_t n = 0;
    for (size_t f = 0; f < d->s->n_features; f++) {
        if (d->cols[f].present)
            continue;
        if (n < SHOW_NAMES_MAX)
            cn_buf_printf(&names, "%s'%s'", n ? ", " : "", d->s->names[f]);
        n++;
    }
    if (n == 0) {
        cn_buf_release(&names);
        return 0;
    }
    if (n > SHOW_NAMES_MAX)
        cn_buf_printf(&names, " and %zu more", n - SHOW_NAMES_MAX);
    fail(d, "missing column%s %s: the model takes %zu feature%s (GET /v2/models/NAME lists them)",
         n == 1 ? "" : "s", cn_buf_str(&names), d->s->n_features, d->s->n_features == 1 ? "" : "s");
    cn_buf_release(&names);
    return 400;
}

/* Refuses missing values the learner cannot take, naming the first. */
static int check_missing(const msv_schema *s, const cairn_table *t, cn_buf *err)
{
    if (s->allows_missing)
        return 0;
    for (size_t f = 0; f < s->n_features; f++) {
        const cairn_column *c = &t->cols[f];
        for (size_t r = 0; r < t->n_rows; r++) {
            bool missing = c->type == CAIRN_COL_NUMERIC ? isnan(c->num[r]) : c->cat[r] < 0;
            if (!missing)
                continue;
            cn_buf_clear(err);
            cn_buf_printf(err,
                          "column '%s' row %zu is missing (null, NaN or absent) and the model's "
                          "learner '%s' does not take missing values; impute it",
                          s->names[f], r, s->learner);
            return 400;
        }
    }
    return 0;
}

static int dec_finish(dec *d, cairn_ctx *ctx, cairn_table **out)
{
    cairn_table *t = cairn_table_new(d->n_rows);
    for (size_t f = 0; f < d->s->n_features; f++) {
        col_out *c = &d->cols[f];
        cairn_status rc =
            d->s->types[f] == CAIRN_COL_NUMERIC
                ? cairn_table_add_numeric(ctx, t, d->s->names[f], c->num)
                : cairn_table_add_categorical(ctx, t, d->s->names[f], c->cat, c->lv, c->n_lv);
        if (rc != CAIRN_OK) {
            fail(d, "%s", cairn_errmsg(ctx));
            cairn_table_free(t);
            return 500;
        }
    }
    int st = check_missing(d->s, t, d->err);
    if (st) {
        cairn_table_free(t);
        return st;
    }
    *out = t;
    return 0;
}

/* ---- MLflow's inputs ---- */

/* Rows as arrays of values in the order of cols (feature index or -1: an extra column). */
static int rows_positional(dec *d, json_t *rows, const int *cols, size_t n_cols, const char *what)
{
    for (size_t r = 0; r < d->n_rows; r++) {
        json_t *row = json_array_get(rows, r);
        if (!json_is_array(row))
            return fail(d, "%s row %zu: expected an array of %zu values, got %s", what, r, n_cols,
                        json_kind(row));
        if (json_array_size(row) != n_cols)
            return fail(d, "%s row %zu holds %zu values; expected %zu (one per column)", what, r,
                        json_array_size(row), n_cols);
        for (size_t i = 0; i < n_cols; i++) {
            if (cols[i] < 0)
                continue;
            int st = dec_set(d, (size_t)cols[i], r, json_array_get(row, i), false);
            if (st)
                return st;
        }
    }
    return 0;
}

/* Rows as objects {column: value}; a key the model does not know is ignored (MLflow drops
 * columns outside the signature), an absent one is a missing value. */
static int rows_records(dec *d, json_t *rows, const char *what)
{
    for (size_t r = 0; r < d->n_rows; r++) {
        json_t *row = json_array_get(rows, r);
        if (!json_is_object(row))
            return fail(d, "%s row %zu: expected an object of column: value, got %s", what, r,
                        json_kind(row));
        const char *key;
        size_t klen;
        json_t *v;
        void *it;
        for (it = json_object_iter(row); it; it = json_object_iter_next(row, it)) {
            key = json_object_iter_key(it);
            klen = json_object_iter_key_len(it);
            v = json_object_iter_value(it);
            int f = feature_index(d->s, key, klen);
            if (f < 0)
                continue;
            int st = dec_set(d, (size_t)f, r, v, false);
            if (st)
                return st;
        }
    }
    return 0;
}

/* The model's features in order, for rows given without names. */
static int *all_features(const msv_schema *s)
{
    int *cols = cn_xmalloc((s->n_features ? s->n_features : 1) * sizeof *cols);
    for (size_t i = 0; i < s->n_features; i++)
        cols[i] = (int)i;
    return cols;
}

/* A list of rows (instances, or inputs as a list): all objects, all arrays (positional, in the
 * model's feature order), or all scalars (a one-feature model). */
static int rows_list(dec *d, json_t *rows, const char *what)
{
    if (d->n_rows == 0)
        return 0;
    json_t *first = json_array_get(rows, 0);
    if (json_is_object(first))
        return rows_records(d, rows, what);
    if (json_is_array(first)) {
        int *cols = all_features(d->s);
        int st = rows_positional(d, rows, cols, d->s->n_features, what);
        free(cols);
        if (!st)
            for (size_t f = 0; f < d->s->n_features; f++)
                d->cols[f].present = true;
        return st;
    }
    if (d->s->n_features != 1)
        return fail(d,
                    "%s: rows must be objects of column: value or arrays of %zu values (the "
                    "model's features in order); got %s",
                    what, d->s->n_features, json_kind(first));
    for (size_t r = 0; r < d->n_rows; r++) {
        json_t *v = json_array_get(rows, r);
        if (json_is_array(v) || json_is_object(v))
            return fail(d, "%s row %zu: expected a value, got %s", what, r, json_kind(v));
        int st = dec_set(d, 0, r, v, false);
        if (st)
            return st;
    }
    return 0;
}

static int decode_split(dec *d, const msv_schema *s, json_t *in, cn_buf *err)
{
    if (!json_is_object(in))
        return dec_init(d, s, 0, err),
               fail(d,
                    "dataframe_split must be an object {\"columns\": [...], \"data\": "
                    "[[...], ...]}, got %s",
                    json_kind(in));
    json_t *data = json_object_get(in, "data");
    json_t *columns = json_object_get(in, "columns");
    dec_init(d, s, json_is_array(data) ? json_array_size(data) : 0, err);
    if (!json_is_array(data))
        return fail(d, "dataframe_split: 'data' must be an array of rows, got %s",
                    data ? json_kind(data) : "nothing");
    if (!columns) { /* no names: the model's features in order */
        int *cols = all_features(s);
        int st = rows_positional(d, data, cols, s->n_features, "dataframe_split");
        free(cols);
        for (size_t f = 0; !st && f < s->n_features; f++)
            d->cols[f].present = true;
        return st;
    }
    if (!json_is_array(columns))
        return fail(d, "dataframe_split: 'columns' must be an array of names, got %s",
                    json_kind(columns));
    size_t n_cols = json_array_size(columns);
    int *cols = cn_xmalloc((n_cols ? n_cols : 1) * sizeof *cols);
    bool *seen = cn_xcalloc(s->n_features ? s->n_features : 1, 1);
    int st = 0;
    for (size_t i = 0; i < n_cols && !st; i++) {
        json_t *name = json_array_get(columns, i);
        if (!json_is_string(name)) {
            st = fail(d, "dataframe_split: column %zu's name is %s, not a string", i,
                      json_kind(name));
            break;
        }
        cols[i] = feature_index(s, json_string_value(name), json_string_length(name));
        if (cols[i] >= 0 && seen[cols[i]])
            st = fail(d, "dataframe_split: column '%s' appears twice", s->names[cols[i]]);
        if (cols[i] >= 0) {
            seen[cols[i]] = true;
            d->cols[cols[i]].present = true;
        }
    }
    if (!st)
        st = rows_positional(d, data, cols, n_cols, "dataframe_split");
    free(cols);
    free(seen);
    return st;
}

static int decode_inputs(dec *d, const msv_schema *s, json_t *in, cn_buf *err)
{
    if (json_is_array(in)) {
        dec_init(d, s, json_array_size(in), err);
        return rows_list(d, in, "inputs");
    }
    if (!json_is_object(in))
        return dec_init(d, s, 0, err),
               fail(d, "inputs must be an object of column: [values] or a list of rows, got %s",
                    json_kind(in));
    /* Columnar: every column an array of the same length, or every column one value. */
    size_t n_rows = 0;
    bool any_array = false, any_scalar = false;
    const char *first_key = NULL;
    void *it;
    for (it = json_object_iter(in); it; it = json_object_iter_next(in, it)) {
        json_t *v = json_object_iter_value(it);
        const char *key = json_object_iter_key(it);
        if (json_is_array(v)) {
            if (any_array && json_array_size(v) != n_rows) {
                dec_init(d, s, 0, err);
                return fail(d,
                            "inputs: column '%.100s' holds %zu values but column '%.100s' "
                            "holds %zu; every column needs one per row",
                            key, json_array_size(v), first_key, n_rows);
            }
            if (!any_array)
                first_key = key;
            n_rows = json_array_size(v);
            any_array = true;
        } else {
            any_scalar = true;
        }
    }
    if (any_array && any_scalar) {
        dec_init(d, s, 0, err);
        return fail(d, "inputs: mix of columns with arrays and with single values; give each "
                       "column an array of values");
    }
    if (!any_array)
        n_rows = json_object_size(in) ? 1 : 0;
    dec_init(d, s, n_rows, err);
    for (it = json_object_iter(in); it; it = json_object_iter_next(in, it)) {
        int f = feature_index(s, json_object_iter_key(it), json_object_iter_key_len(it));
        if (f < 0)
            continue;
        json_t *v = json_object_iter_value(it);
        d->cols[f].present = true;
        for (size_t r = 0; r < n_rows; r++) {
            json_t *x = any_array ? json_array_get(v, r) : v;
            if (json_is_array(x) || json_is_object(x))
                return fail(d, "column '%s' row %zu: expected a value, got %s", s->names[f], r,
                            json_kind(x));
            int st = dec_set(d, (size_t)f, r, x, false);
            if (st)
                return st;
        }
    }
    return 0;
}

static int decode_csv(cairn_ctx *ctx, const msv_schema *s, const char *body, size_t len,
                      cairn_table **out, cn_buf *err)
{
    const char **num = cn_xcalloc(s->n_features ? s->n_features : 1, sizeof *num);
    const char **cat = cn_xcalloc(s->n_features ? s->n_features : 1, sizeof *cat);
    size_t n_num = 0, n_cat = 0;
    /* The header first: only the features it names are declared (a declared column it lacks
     * would be the CSV reader's error, not ours naming every missing feature). */
    const char *nl = memchr(body, '\n', len);
    cairn_table *head = NULL;
    if (cairn_csv_parse(ctx, body, nl ? (size_t)(nl - body) + 1 : len, NULL, &head) != CAIRN_OK) {
        cn_buf_clear(err);
        cn_buf_printf(err, "CSV: %s", cairn_errmsg(ctx));
        free(num);
        free(cat);
        return 400;
    }
    for (size_t f = 0; f < s->n_features; f++) {
        if (cairn_table_find(head, s->names[f]) < 0)
            continue;
        if (s->types[f] == CAIRN_COL_NUMERIC)
            num[n_num++] = s->names[f];
        else
            cat[n_cat++] = s->names[f];
    }
    cairn_csv_opts o = CAIRN_CSV_OPTS_INIT;
    o.numeric = num;
    o.n_numeric = n_num;
    o.categorical = cat;
    o.n_categorical = n_cat;
    cairn_table *in = NULL, *t = NULL;
    int st = 0;
    cairn_table_free(head);
    if (cairn_csv_parse(ctx, body, len, &o, &in) != CAIRN_OK) {
        cn_buf_clear(err);
        cn_buf_printf(err, "CSV: %s", cairn_errmsg(ctx));
        st = 400;
        goto done;
    }
    dec d = {0};
    d.s = s;
    d.err = err;
    d.cols = cn_xcalloc(s->n_features ? s->n_features : 1, sizeof *d.cols);
    int *idx = cn_xmalloc((s->n_features ? s->n_features : 1) * sizeof *idx);
    for (size_t f = 0; f < s->n_features; f++) {
        idx[f] = cairn_table_find(in, s->names[f]);
        d.cols[f].present = idx[f] >= 0;
    }
    st = missing_columns(&d);
    free(d.cols);
    t = cairn_table_new(in->n_rows);
    for (size_t f = 0; !st && f < s->n_features; f++) {
        const cairn_column *c = &in->cols[idx[f]];
        cairn_status rc =
            c->type == CAIRN_COL_NUMERIC
                ? cairn_table_add_numeric(ctx, t, s->names[f], c->num)
                : cairn_table_add_categorical(ctx, t, s->names[f], c->cat, c->levels, c->n_levels);
        if (rc != CAIRN_OK) {
            cn_buf_clear(err);
            cn_buf_puts(err, cairn_errmsg(ctx));
            st = 500;
        }
        if (!st && c->type == CAIRN_COL_NUMERIC)
            for (size_t r = 0; r < in->n_rows; r++)
                if (isinf(c->num[r])) {
                    cn_buf_clear(err);
                    cn_buf_printf(err, "column '%s' row %zu: %s is not a finite number",
                                  s->names[f], r, c->num[r] > 0 ? "inf" : "-inf");
                    st = 400;
                    break;
                }
    }
    free(idx);
    if (!st)
        st = check_missing(s, t, err);
    if (!st) {
        *out = t;
        t = NULL;
    }
done:
    cairn_table_free(t);
    cairn_table_free(in);
    free(num);
    free(cat);
    return st;
}

static const char *const json_formats[] = {"dataframe_split", "dataframe_records", "instances",
                                           "inputs"};
#define N_JSON_FORMATS 4

/* Content-Type: "application/json" or "text/csv", only charset=utf-8 as a parameter (MLflow
 * answers 415 to anything else). Returns 0 json, 1 csv, -1 refused (err filled). */
static int content_kind(const char *ct, cn_buf *err)
{
    if (!ct)
        ct = "";
    size_t n = strcspn(ct, ";");
    while (n > 0 && (ct[n - 1] == ' ' || ct[n - 1] == '\t'))
        n--;
    int kind = -1;
    if (n == 16 && strncasecmp(ct, "application/json", 16) == 0)
        kind = 0;
    else if (n == 8 && strncasecmp(ct, "text/csv", 8) == 0)
        kind = 1;
    if (kind < 0) {
        cn_buf_printf(err,
                      "this predictor only supports the content types text/csv and "
                      "application/json; got '%.80s'",
                      *ct ? ct : "none");
        return -1;
    }
    const char *p = ct + strcspn(ct, ";");
    while (*p == ';') {
        p++;
        while (*p == ' ' || *p == '\t')
            p++;
        size_t m = strcspn(p, ";");
        char param[128];
        cn_strlcpy(param, p, m + 1 < sizeof param ? m + 1 : sizeof param);
        size_t pl = strlen(param);
        while (pl > 0 && (param[pl - 1] == ' ' || param[pl - 1] == '\t'))
            param[--pl] = '\0';
        if (pl == 0) {
            p += m;
            continue;
        }
        if (strncasecmp(param, "charset=", 8) != 0) {
            cn_buf_printf(err,
                          "unsupported content type parameter '%s' (only charset=utf-8); the "
                          "MLflow scoring protocol changed in MLflow 2.0: the input format goes "
                          "in the JSON body (dataframe_split, dataframe_records, instances or "
                          "inputs), not in the content type",
                          param);
            return -1;
        }
        const char *cs = param + 8;
        if (*cs == '"')
            cs++;
        if (strncasecmp(cs, "utf-8", 5) != 0 && strncasecmp(cs, "utf8", 4) != 0) {
            cn_buf_printf(err, "unsupported charset '%s': send utf-8", param + 8);
            return -1;
        }
        p += m;
    }
    return kind;
}

/* Parses JSON that may hold Python's NaN and Infinity tokens; NULL with err on failure. */
static json_t *load_json(const char *body, size_t len, cn_buf *err)
{
    size_t fixed_len = 0;
    char *fixed = msv_json_fix_nonfinite(body, len, &fixed_len);
    json_error_t jerr;
    json_t *in = json_loadb(fixed ? fixed : body, fixed ? fixed_len : len,
                            JSON_DECODE_INT_AS_REAL | JSON_ALLOW_NUL, &jerr);
    free(fixed);
    if (!in)
        cn_buf_printf(err, "malformed JSON at line %d column %d: %s", jerr.line, jerr.column,
                      jerr.text);
    return in;
}

static int decode_invocations(cairn_ctx *ctx, const msv_schema *s, const char *content_type,
                              const char *body, size_t len, cairn_table **out, msv_format *fmt,
                              cn_buf *err, bool fast)
{
    *out = NULL;
    cn_buf_clear(err);
    int kind = content_kind(content_type, err);
    if (kind < 0)
        return 415;
    if (kind == 1) {
        *fmt = MSV_FMT_CSV;
        return decode_csv(ctx, s, body, len, out, err);
    }
    if (fast && msv_decode_fast(ctx, s, body, len, out, fmt))
        return 0;
    json_t *in = load_json(body, len, err);
    if (!in)
        return 400;
    int st = 0;
    dec d = {0};
    if (json_is_array(in)) {
        cn_buf_puts(err, "the request body is a list; send an object with exactly one of the "
                         "keys dataframe_split, dataframe_records, instances or inputs");
        st = 400;
        goto done;
    }
    if (!json_is_object(in)) {
        cn_buf_printf(err,
                      "the request body is %s; send an object with exactly one of the keys "
                      "dataframe_split, dataframe_records, instances or inputs",
                      json_kind(in));
        st = 400;
        goto done;
    }
    int which = -1, n_found = 0;
    for (int i = 0; i < N_JSON_FORMATS; i++)
        if (json_object_get(in, json_formats[i])) {
            which = i;
            n_found++;
        }
    if (n_found != 1) {
        cn_buf_printf(err,
                      "%s: the body must hold exactly one of dataframe_split, "
                      "dataframe_records, instances or inputs (the MLflow scoring protocol "
                      "changed in MLflow 2.0)",
                      n_found ? "more than one input format" : "no input format");
        st = 400;
        goto done;
    }
    json_t *v = json_object_get(in, json_formats[which]);
    switch (which) {
    case 0:
        *fmt = MSV_FMT_SPLIT;
        st = decode_split(&d, s, v, err);
        break;
    case 1:
        *fmt = MSV_FMT_RECORDS;
        if (!json_is_array(v)) {
            dec_init(&d, s, 0, err);
            st = fail(&d, "dataframe_records must be a list of objects, got %s", json_kind(v));
            break;
        }
        dec_init(&d, s, json_array_size(v), err);
        st = rows_records(&d, v, "dataframe_records");
        break;
    case 2:
        *fmt = MSV_FMT_INSTANCES;
        if (!json_is_array(v)) {
            dec_init(&d, s, 0, err);
            st = fail(&d, "instances must be a list of rows, got %s", json_kind(v));
            break;
        }
        dec_init(&d, s, json_array_size(v), err);
        st = rows_list(&d, v, "instances");
        break;
    default:
        *fmt = MSV_FMT_INPUTS;
        st = decode_inputs(&d, s, v, err);
        break;
    }
    if (!st && d.n_rows > 0)
        st = missing_columns(&d);
    if (!st)
        st = dec_finish(&d, ctx, out);
done:
    dec_release(&d);
    json_decref(in);
    return st;
}

int msv_decode_invocations(cairn_ctx *ctx, const msv_schema *s, const char *content_type,
                           const char *body, size_t len, cairn_table **out, msv_format *fmt,
                           cn_buf *err)
{
    return decode_invocations(ctx, s, content_type, body, len, out, fmt, err, true);
}

int msv_decode_invocations_full(cairn_ctx *ctx, const msv_schema *s, const char *content_type,
                                const char *body, size_t len, cairn_table **out, msv_format *fmt,
                                cn_buf *err)
{
    return decode_invocations(ctx, s, content_type, body, len, out, fmt, err, false);
}

/* ---- Open Inference Protocol V2 ---- */

static const char *const v2_types[] = {"BOOL", "UINT8", "UINT16", "UINT32", "UINT64",
                                       "INT8", "INT16", "INT32",  "INT64",  "FP16",
                                       "FP32", "FP64",  "BYTES",  NULL};

/* Appends the leaves of nested arrays in row-major order. */
static bool flatten(json_t *v, json_t ***items, size_t *n, size_t *cap, int depth)
{
    if (!json_is_array(v)) {
        if (*n == *cap) {
            *cap = *cap ? 2 * *cap : 64;
            *items = cn_xrealloc(*items, *cap * sizeof **items);
        }
        (*items)[(*n)++] = v;
        return true;
    }
    if (depth >= MAX_NEST)
        return false;
    for (size_t i = 0; i < json_array_size(v); i++)
        if (!flatten(json_array_get(v, i), items, n, cap, depth + 1))
            return false;
    return true;
}

typedef struct tensor {
    const char *name;
    size_t dims[8];
    size_t n_dims;
    size_t count; /* product of dims */
    bool is_bool;
    json_t **data;
    size_t n_data;
} tensor;

static int read_tensor(dec *d, json_t *t, size_t i, tensor *out)
{
    memset(out, 0, sizeof *out);
    if (!json_is_object(t))
        return fail(d, "inputs[%zu] must be a tensor object {name, shape, datatype, data}, got %s",
                    i, json_kind(t));
    json_t *name = json_object_get(t, "name"), *shape = json_object_get(t, "shape"),
           *type = json_object_get(t, "datatype"), *data = json_object_get(t, "data");
    if (!json_is_string(name))
        return fail(d, "inputs[%zu]: 'name' must be a string", i);
    out->name = json_string_value(name);
    if (!json_is_string(type) || !cn_str_in(json_string_value(type), v2_types))
        return fail(d,
                    "input '%.100s': 'datatype' must be one of BOOL, UINT8..UINT64, INT8..INT64, "
                    "FP16, FP32, FP64, BYTES",
                    out->name);
    out->is_bool = strcmp(json_string_value(type), "BOOL") == 0;
    if (!json_is_array(shape) || json_array_size(shape) == 0 ||
        json_array_size(shape) > sizeof out->dims / sizeof out->dims[0])
        return fail(d, "input '%.100s': 'shape' must be an array of 1 to 8 sizes", out->name);
    out->n_dims = json_array_size(shape);
    out->count = 1;
    for (size_t k = 0; k < out->n_dims; k++) {
        json_t *dim = json_array_get(shape, k);
        double v = json_is_number(dim) ? json_number_value(dim) : -1;
        if (v < 0 || v != floor(v) || v > 1e9)
            return fail(d, "input '%.100s': shape[%zu] is not a size", out->name, k);
        out->dims[k] = (size_t)v;
        if (out->dims[k] && out->count > (size_t)1e9 / out->dims[k])
            return fail(d, "input '%.100s': the shape is too large", out->name);
        out->count *= out->dims[k];
    }
    if (!data)
        return fail(d, "input '%.100s' has no 'data'", out->name);
    size_t cap = 0;
    if (!flatten(data, &out->data, &out->n_data, &cap, 0))
        return fail(d, "input '%.100s': 'data' is nested too deeply", out->name);
    if (out->n_data != out->count)
        return fail(d, "input '%.100s': 'data' holds %zu values but the shape says %zu", out->name,
                    out->n_data, out->count);
    return 0;
}

int msv_decode_v2(cairn_ctx *ctx, const msv_schema *s, const char *body, size_t len,
                  cairn_table **out, char **id_out, cn_buf *err)
{
    *out = NULL;
    *id_out = NULL;
    cn_buf_clear(err);
    json_t *in = load_json(body, len, err);
    if (!in)
        return 400;
    dec d = {0};
    tensor *ts = NULL;
    size_t n_t = 0;
    int st = 0;
    dec_init(&d, s, 0, err);
    if (!json_is_object(in)) {
        st = fail(&d, "the inference request must be an object with 'inputs', got %s",
                  json_kind(in));
        goto done;
    }
    json_t *id = json_object_get(in, "id");
    if (id && !json_is_string(id)) {
        st = fail(&d, "'id' must be a string");
        goto done;
    }
    if (id)
        *id_out = cn_xstrdup(json_string_value(id));
    json_t *inputs = json_object_get(in, "inputs");
    if (!json_is_array(inputs) || json_array_size(inputs) == 0) {
        st = fail(&d, "'inputs' must be a non-empty array of tensors");
        goto done;
    }
    n_t = json_array_size(inputs);
    ts = cn_xcalloc(n_t, sizeof *ts);
    for (size_t i = 0; i < n_t && !st; i++)
        st = read_tensor(&d, json_array_get(inputs, i), i, &ts[i]);
    if (st)
        goto done;
    /* One tensor [rows, features] named by no feature: the features in the model's order. */
    if (n_t == 1 && feature_index(s, ts[0].name, strlen(ts[0].name)) < 0 && ts[0].n_dims == 2) {
        if (ts[0].dims[1] != s->n_features) {
            st = fail(&d,
                      "input '%.100s' has %zu columns; the model takes %zu features (or send "
                      "one tensor per feature, named by it)",
                      ts[0].name, ts[0].dims[1], s->n_features);
            goto done;
        }
        dec_release(&d);
        dec_init(&d, s, ts[0].dims[0], err);
        for (size_t r = 0; r < d.n_rows && !st; r++)
            for (size_t f = 0; f < s->n_features && !st; f++)
                st = dec_set(&d, f, r, ts[0].data[r * s->n_features + f], ts[0].is_bool);
        for (size_t f = 0; f < s->n_features; f++)
            d.cols[f].present = true;
    } else {
        /* One tensor per feature: shape [rows] or [rows, 1]; others are ignored. */
        size_t n_rows = 0;
        bool have_rows = false;
        for (size_t i = 0; i < n_t; i++) {
            if (feature_index(s, ts[i].name, strlen(ts[i].name)) < 0)
                continue;
            if (ts[i].n_dims > 2 || (ts[i].n_dims == 2 && ts[i].dims[1] != 1)) {
                st = fail(&d, "input '%.100s' must have shape [rows] or [rows, 1]", ts[i].name);
                goto done;
            }
            if (have_rows && ts[i].dims[0] != n_rows) {
                st = fail(&d, "input '%.100s' has %zu rows; the other inputs have %zu", ts[i].name,
                          ts[i].dims[0], n_rows);
                goto done;
            }
            n_rows = ts[i].dims[0];
            have_rows = true;
        }
        dec_release(&d);
        dec_init(&d, s, n_rows, err);
        for (size_t i = 0; i < n_t && !st; i++) {
            int f = feature_index(s, ts[i].name, strlen(ts[i].name));
            if (f < 0)
                continue;
            if (d.cols[f].present) {
                st = fail(&d, "input '%s' appears twice", s->names[f]);
                break;
            }
            d.cols[f].present = true;
            for (size_t r = 0; r < n_rows && !st; r++)
                st = dec_set(&d, (size_t)f, r, ts[i].data[r], ts[i].is_bool);
        }
        if (!st)
            st = missing_columns(&d);
    }
    if (!st)
        st = dec_finish(&d, ctx, out);
done:
    for (size_t i = 0; i < n_t; i++)
        free(ts[i].data);
    free(ts);
    dec_release(&d);
    json_decref(in);
    if (st) {
        free(*id_out);
        *id_out = NULL;
    }
    return st;
}
