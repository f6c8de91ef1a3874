/* SPDX-License-Identifier: MIT */
/* jsonw.h - the one writer of output JSON: the CLI's --json, the reports and records libcairn
 * writes (profiles, validation reports, train.json, run params). Objects, arrays, escaped
 * strings (invalid UTF-8 becomes U+FFFD), int64 and doubles. Jansson (formats/json.c) parses;
 * it writes only the model file's metadata.
 *
 * Doubles: the shortest of %.15g, %.16g and %.17g that parses back to the same bits, always
 * with a '.' or an exponent ("1.0", "0.1", "1e+300").
 * Non-finite doubles: cn_jsonw_double() writes NaN, +Inf and -Inf as the strings "NaN",
 * "Infinity" and "-Infinity", as MLflow's JSON does (a logged metric may be NaN). Where NaN
 * stands for "no value" (an undefined metric, the mean of an empty column), callers use
 * cn_jsonw_double_or_null(), which writes null for every non-finite value. See docs/json.md. */
#ifndef CN_JSONW_H
#define CN_JSONW_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "base/buf.h"

#define CN_JSONW_MAX_DEPTH 32

typedef struct cn_jsonw {
    cn_buf buf; /* pending output; all of it when out is NULL */
    FILE *out;  /* NULL: keep everything in buf */
    int indent; /* spaces per level; 0: compact, one line */
    int depth;
    int flat_from;  /* 0, or the depth from which containers go on one line: {"a": 1, "b": 2} */
    int flat_at;    /* depth of the container cn_jsonw_flat() put on one line, or 0 */
    bool flat_next; /* cn_jsonw_flat() was called: the next container opened is flat */
    bool has_items[CN_JSONW_MAX_DEPTH + 1]; /* a comma goes before the next value */
    bool after_key;                         /* the next value follows "key": */
    bool failed;                            /* a write to out failed */
} cn_jsonw;

/* Starts a document written to out (NULL: into w->buf) with `indent` spaces per level. */
void cn_jsonw_init(cn_jsonw *w, FILE *out, int indent);
/* Frees the buffer; does not close out. */
void cn_jsonw_release(cn_jsonw *w);
/* Ends the document with a newline and flushes to out; false if writing failed. The document
 * must be complete (every object and array closed). */
bool cn_jsonw_finish(cn_jsonw *w);

void cn_jsonw_object_begin(cn_jsonw *w);
void cn_jsonw_object_end(cn_jsonw *w);
void cn_jsonw_array_begin(cn_jsonw *w);
void cn_jsonw_array_end(cn_jsonw *w);
/* Puts the next object or array, and all inside it, on one line (with indent > 0). */
void cn_jsonw_flat(cn_jsonw *w);
/* The key of the next member; only inside an object. */
void cn_jsonw_key(cn_jsonw *w, const char *key);

void cn_jsonw_string(cn_jsonw *w, const char *s); /* NULL writes null */
void cn_jsonw_string_len(cn_jsonw *w, const char *s, size_t len);
void cn_jsonw_int(cn_jsonw *w, int64_t v);
void cn_jsonw_uint(cn_jsonw *w, uint64_t v); /* seeds, digests' counts: the full uint64 range */
void cn_jsonw_double(cn_jsonw *w, double v);
void cn_jsonw_double_or_null(cn_jsonw *w, double v); /* non-finite: null */
void cn_jsonw_bool(cn_jsonw *w, bool v);
void cn_jsonw_null(cn_jsonw *w);

/* Shorthands for a key followed by a value. */
void cn_jsonw_kstring(cn_jsonw *w, const char *key, const char *s);
void cn_jsonw_kint(cn_jsonw *w, const char *key, int64_t v);
void cn_jsonw_kuint(cn_jsonw *w, const char *key, uint64_t v);
void cn_jsonw_kdouble(cn_jsonw *w, const char *key, double v);
void cn_jsonw_kbool(cn_jsonw *w, const char *key, bool v);
/* An array of n strings. */
void cn_jsonw_strings(cn_jsonw *w, const char *const *v, size_t n);

/* Appends {"k1": v1, ...} on one line to out: a value that is a JSON number is written bare,
 * others as strings. */
void cn_json_write_map(cn_buf *out, const char *const *keys, const char *const *values, size_t n);
/* True when s is, as a whole, a JSON number ("1", "-2.5e-3"; not "nan", "0x1", " 1"). */
bool cn_json_is_number(const char *s);

/* Appends s (len bytes) as a quoted JSON string to b: control characters, '"' and '\\' are
 * escaped, invalid UTF-8 sequences are replaced by U+FFFD. */
void cn_json_quote(cn_buf *b, const char *s, size_t len);
/* Formats a finite double in the shortest form that parses back to the same bits, always with
 * a '.' or an exponent ("1.0", "0.1", "1e+300"); out needs 32 bytes. */
void cn_json_format_double(double v, char *out, size_t size);
#endif
