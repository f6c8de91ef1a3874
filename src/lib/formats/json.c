/* SPDX-License-Identifier: MIT */
/* json.c - jansson's home in libcairn: parsing into a borrowed-accessor view, building values,
 * compact and indented dumping, and the writers other modules use (params files, metric lines,
 * model metadata). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "formats/json.h"
#include "core/core.h"
#include "base/str.h"
#include "base/xmalloc.h"
#include "base/banned.h"

/* cn_json is jansson's json_t under another name: the cast never leaves this file. */
#define J(x) ((json_t *)(x))
#define CJ(x) ((const json_t *)(x))

cairn_status cn_json_parse(cairn_ctx *ctx, const char *text, size_t len, cn_json **out)
{
    json_error_t err;
    *out = NULL;
    json_t *v = json_loadb(text, len, JSON_DECODE_ANY, &err);
    if (!v)
        return cn_fail(ctx, CAIRN_EINVAL, "json line %d column %d: %s", err.line, err.column,
                       err.text);
    *out = (cn_json *)v;
    return CAIRN_OK;
}

cairn_status cn_json_parse_object(cairn_ctx *ctx, const char *text, size_t len, cn_json **out)
{
    cairn_status rc = cn_json_parse(ctx, text, len, out);
    if (rc != CAIRN_OK)
        return rc;
    if (!json_is_object(J(*out))) {
        cn_json_free(*out);
        *out = NULL;
        return cn_fail(ctx, CAIRN_EINVAL, "json: expected an object");
    }
    return CAIRN_OK;
}

cairn_status cn_json_parse_strict(cairn_ctx *ctx, const char *what, const char *text, size_t len,
                                  cn_json **out)
{
    json_error_t err;
    json_t *v = json_loadb(text, len, JSON_REJECT_DUPLICATES, &err);
    *out = (cn_json *)v;
    if (!v)
        return cn_fail(ctx, CAIRN_EINVAL, "%s: invalid JSON at line %d column %d: %s", what,
                       err.line, err.column, err.text);
    return CAIRN_OK;
}

bool cn_json_parse_document(const char *text, size_t len, cn_json **out, cn_json_error *err)
{
    json_error_t je;
    json_t *v = json_loadb(text, len, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &je);
    *out = (cn_json *)v;
    if (v)
        return true;
    err->line = je.line;
    err->column = je.column;
    snprintf(err->text, sizeof err->text, "%s", je.text);
    return false;
}

bool cn_json_well_formed(const void *p, size_t len)
{
    json_error_t err;
    json_t *root = json_loadb(p, len, 0, &err);
    json_decref(root);
    return root != NULL;
}

void cn_json_free(cn_json *j)
{
    if (j)
        json_decref(J(j));
}

cn_json_type cn_json_typeof(const cn_json *j)
{
    if (!j)
        return CN_JSON_NULL;
    switch (json_typeof(CJ(j))) {
    case JSON_OBJECT: return CN_JSON_OBJECT;
    case JSON_ARRAY: return CN_JSON_ARRAY;
    case JSON_STRING: return CN_JSON_STRING;
    case JSON_INTEGER: return CN_JSON_INT;
    case JSON_REAL: return CN_JSON_REAL;
    case JSON_TRUE:
    case JSON_FALSE: return CN_JSON_BOOL;
    case JSON_NULL: return CN_JSON_NULL;
    }
    return CN_JSON_NULL;
}

bool cn_json_bool(const cn_json *j)
{
    return json_is_true(CJ(j));
}

int64_t cn_json_int(const cn_json *j)
{
    return json_is_integer(CJ(j)) ? (int64_t)json_integer_value(CJ(j)) : 0;
}

double cn_json_number(const cn_json *j)
{
    return json_is_number(CJ(j)) ? json_number_value(CJ(j)) : NAN;
}

const char *cn_json_string(const cn_json *j)
{
    return json_is_string(CJ(j)) ? json_string_value(CJ(j)) : NULL;
}

size_t cn_json_string_len(const cn_json *j)
{
    return json_is_string(CJ(j)) ? json_string_length(CJ(j)) : 0;
}

void *cn_json_object_iter(const cn_json *obj)
{
    return json_object_iter(J(obj));
}

void *cn_json_object_next(const cn_json *obj, void *it)
{
    return json_object_iter_next(J(obj), it);
}

const char *cn_json_iter_key(void *it)
{
    return json_object_iter_key(it);
}

cn_json *cn_json_iter_value(void *it)
{
    return (cn_json *)json_object_iter_value(it);
}

cn_json *cn_json_object_get(const cn_json *obj, const char *key)
{
    return (cn_json *)json_object_get(CJ(obj), key);
}

size_t cn_json_object_size(const cn_json *obj)
{
    return json_object_size(CJ(obj));
}

size_t cn_json_array_size(const cn_json *arr)
{
    return json_array_size(CJ(arr));
}

cn_json *cn_json_array_get(const cn_json *arr, size_t i)
{
    return (cn_json *)json_array_get(CJ(arr), i);
}

static int dump_cb(const char *buffer, size_t size, void *data)
{
    cn_buf_append(data, buffer, size);
    return 0;
}

void cn_json_dump(const cn_json *j, cn_buf *out)
{
    json_dump_callback(CJ(j), dump_cb, out, JSON_COMPACT | JSON_ENCODE_ANY);
}

char *cn_json_dump_indented(const cn_json *j)
{
    char *text = json_dumps(CJ(j), JSON_INDENT(1) | JSON_REAL_PRECISION(17));
    CN_ASSERT(text != NULL); /* only fails on memory or on invalid UTF-8 we never store */
    char *copy = cn_xstrdup(text);
    free(text);
    return copy;
}

cn_json *cn_json_object_new(void)
{
    return (cn_json *)json_object();
}

cn_json *cn_json_array_new(void)
{
    return (cn_json *)json_array();
}

cn_json *cn_json_string_new(const char *s)
{
    return (cn_json *)json_string(s);
}

cn_json *cn_json_int_new(int64_t v)
{
    return (cn_json *)json_integer((json_int_t)v);
}

cn_json *cn_json_real_new(double v)
{
    return (cn_json *)json_real(v);
}

cn_json *cn_json_bool_new(bool v)
{
    return (cn_json *)json_boolean(v);
}

void cn_json_object_set(cn_json *obj, const char *key, cn_json *v)
{
    json_object_set_new(J(obj), key, J(v));
}

void cn_json_array_append(cn_json *arr, cn_json *v)
{
    json_array_append_new(J(arr), J(v));
}

const char *cn_json_member_str(const cn_json *obj, const char *key)
{
    return json_is_object(CJ(obj)) ? cn_json_string(cn_json_object_get(obj, key)) : NULL;
}

bool cn_json_member_int64(const cn_json *obj, const char *key, int64_t *out)
{
    *out = 0;
    const json_t *v = json_is_object(CJ(obj)) ? json_object_get(CJ(obj), key) : NULL;
    if (json_is_integer(v)) {
        *out = (int64_t)json_integer_value(v);
        return true;
    }
    if (json_is_real(v)) {
        double d = json_real_value(v);
        if (d >= -9.2e18 && d <= 9.2e18 && d == floor(d)) {
            *out = (int64_t)d;
            return true;
        }
        return false;
    }
    return json_is_string(v) && cn_parse_int64(json_string_value(v), out);
}

bool cn_json_member_double(const cn_json *obj, const char *key, double *out)
{
    *out = NAN;
    const json_t *v = json_is_object(CJ(obj)) ? json_object_get(CJ(obj), key) : NULL;
    if (json_is_number(v)) {
        *out = json_number_value(v);
        return true;
    }
    if (!json_is_string(v))
        return false;
    const char *s = json_string_value(v);
    if (strcmp(s, "NaN") == 0)
        return true;
    if (strcmp(s, "Infinity") == 0 || strcmp(s, "-Infinity") == 0) {
        *out = s[0] == '-' ? -INFINITY : INFINITY;
        return true;
    }
    return cn_json_is_number(s) && cn_parse_double(s, out);
}
