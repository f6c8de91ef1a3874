/* SPDX-License-Identifier: MIT */
/* json.h - the small JSON helpers libcairn modules share; jansson stays inside json.c.
 * A cn_json is a parsed value, read through the accessors below. */
#ifndef CN_JSON_H
#define CN_JSON_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "cairn/cairn.h"
#include "base/buf.h"
#include "base/jsonw.h" /* cn_json_quote, cn_json_write_map: output JSON is written there */

typedef struct cn_json cn_json;

typedef enum cn_json_type {
    CN_JSON_NULL = 0,
    CN_JSON_BOOL,
    CN_JSON_INT,
    CN_JSON_REAL,
    CN_JSON_STRING,
    CN_JSON_ARRAY,
    CN_JSON_OBJECT
} cn_json_type;

/* Parses text[0 .. len) as one JSON value of any type. On failure *out is NULL and the error
 * names the line and column ("json line 1 column 7: ..."). Free *out with cn_json_free(). */
cairn_status cn_json_parse(cairn_ctx *ctx, const char *text, size_t len, cn_json **out);
/* Same, but the value must be an object (EINVAL otherwise). */
cairn_status cn_json_parse_object(cairn_ctx *ctx, const char *text, size_t len, cn_json **out);
/* Parses text[0 .. len) as one object or array whose objects repeat no key. On failure *out is
 * NULL and the error reads "<what>: invalid JSON at line L column C: <why>". */
cairn_status cn_json_parse_strict(cairn_ctx *ctx, const char *what, const char *text, size_t len,
                                  cn_json **out);
/* Where and why a document did not parse. */
typedef struct cn_json_error {
    int line, column;
    char text[160];
} cn_json_error;
/* Parses text[0 .. len) as one JSON value of any type whose objects repeat no key, recording
 * nothing on a context: on failure returns false with *out NULL and err filled. */
bool cn_json_parse_document(const char *text, size_t len, cn_json **out, cn_json_error *err);
/* True when p[0..len) is one complete JSON object or array. */
bool cn_json_well_formed(const void *p, size_t len);
void cn_json_free(cn_json *j); /* NULL is a no-op */

cn_json_type cn_json_typeof(const cn_json *j); /* NULL (absent) gives CN_JSON_NULL */
size_t cn_json_object_size(const cn_json *obj);
bool cn_json_bool(const cn_json *j);          /* false unless a true boolean */
int64_t cn_json_int(const cn_json *j);        /* 0 unless an integer */
double cn_json_number(const cn_json *j);      /* an integer or real as double; NaN otherwise */
const char *cn_json_string(const cn_json *j); /* NULL unless a string; borrowed */
size_t cn_json_string_len(const cn_json *j);

/* Objects, in insertion order: for (it = cn_json_object_iter(o); it; it = cn_json_object_next(o,
 * it)) */
void *cn_json_object_iter(const cn_json *obj);
void *cn_json_object_next(const cn_json *obj, void *it);
const char *cn_json_iter_key(void *it);
cn_json *cn_json_iter_value(void *it);                            /* borrowed from the object */
cn_json *cn_json_object_get(const cn_json *obj, const char *key); /* borrowed, NULL if absent */

size_t cn_json_array_size(const cn_json *arr);
cn_json *cn_json_array_get(const cn_json *arr, size_t i); /* borrowed */

/* Writes the JSON text of one value (compact, keys in order) to out. */
void cn_json_dump(const cn_json *j, cn_buf *out);
/* The JSON text of an object or array, indented by one space a level, reals with 17
 * significant digits; the caller frees. */
char *cn_json_dump_indented(const cn_json *j);

/* Building values: each new value is owned by the caller until set into an object or appended
 * to an array, which then owns it (and frees it with itself). */
cn_json *cn_json_object_new(void);
cn_json *cn_json_array_new(void);
cn_json *cn_json_string_new(const char *s);
cn_json *cn_json_int_new(int64_t v);
cn_json *cn_json_real_new(double v); /* NULL for NaN or infinity: setting NULL sets nothing */
cn_json *cn_json_bool_new(bool v);
void cn_json_object_set(cn_json *obj, const char *key, cn_json *v);
void cn_json_array_append(cn_json *arr, cn_json *v);

/* Members read the way MLflow's REST JSON writes them (the remote store's decoders): */
/* the string member key of obj; NULL when absent or not a string (borrowed). */
const char *cn_json_member_str(const cn_json *obj, const char *key);
/* The int64 member key of obj, written as a number or as a decimal string ("version": "3");
 * false (with *out 0) when absent or anything else. */
bool cn_json_member_int64(const cn_json *obj, const char *key, int64_t *out);
/* The double member key of obj: a number, or a string "NaN", "Infinity", "-Infinity" or a
 * decimal; false (with *out NaN) when absent or anything else. */
bool cn_json_member_double(const cn_json *obj, const char *key, double *out);

#endif
