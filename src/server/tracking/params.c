/* SPDX-License-Identifier: MIT */
/* params.c - reading a request's parameters with MLflow's conventions, and its error answers.
 * A wrong type is 400 naming the parameter and what was expected; nothing here trusts the
 * client's types, lengths or encodings. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include "tracking/trk.h"
#include "base/str.h"
#include "base/xmalloc.h"
#include "base/banned.h"

bool trk_fail(trk_call *c, int status, const char *code, const char *fmt, ...)
{
    if (c->failed)
        return false;
    c->failed = true;
    va_list ap;
    va_start(ap, fmt);
    cn_buf msg = CN_BUF_INIT;
    cn_buf_vprintf(&msg, fmt, ap);
    va_end(ap);
    cn_jsonw_release(&c->w);
    cn_jsonw_init(&c->w, NULL, 0);
    cn_jsonw_object_begin(&c->w);
    cn_jsonw_kstring(&c->w, "error_code", code);
    cn_jsonw_kstring(&c->w, "message", cn_buf_str(&msg));
    cn_jsonw_object_end(&c->w);
    cn_buf_release(&msg);
    c->resp->status = status;
    return false;
}

bool trk_fail_status(trk_call *c, cairn_status st)
{
    const char *msg = c->ctx ? cairn_errmsg(c->ctx) : cairn_status_str(st);
    switch (st) {
    case CAIRN_EINVAL:
    case CAIRN_ELIMIT: return trk_fail(c, 400, "INVALID_PARAMETER_VALUE", "%s", msg);
    case CAIRN_ENOTFOUND: return trk_fail(c, 404, "RESOURCE_DOES_NOT_EXIST", "%s", msg);
    case CAIRN_EEXIST: return trk_fail(c, 400, "RESOURCE_ALREADY_EXISTS", "%s", msg);
    case CAIRN_EDB: return trk_fail(c, 503, "TEMPORARILY_UNAVAILABLE", "%s", msg);
    default: return trk_fail(c, 500, "INTERNAL_ERROR", "%s", msg);
    }
}

static const char *type_name(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT: return "an object";
    case JSON_ARRAY: return "a list";
    case JSON_STRING: return "a string";
    case JSON_INTEGER: return "an integer";
    case JSON_REAL: return "a number";
    case JSON_TRUE:
    case JSON_FALSE: return "a boolean";
    default: return "null";
    }
}

static bool missing(trk_call *c, const char *key)
{
    return trk_fail(c, 400, "INVALID_PARAMETER_VALUE",
                    "Missing value for required parameter '%s'. See the API docs for more "
                    "information about request parameters.",
                    key);
}

static bool bad_type(trk_call *c, const char *key, const json_t *v, const char *want)
{
    return trk_fail(c, 400, "INVALID_PARAMETER_VALUE",
                    "Invalid value for parameter '%s' supplied: expected %s, got %s", key, want,
                    type_name(v));
}

/* A field's value; a JSON null counts as absent (protobuf's JSON does the same). */
static json_t *field(trk_call *c, const char *key)
{
    json_t *v = c->in ? json_object_get(c->in, key) : NULL;
    return v && !json_is_null(v) ? v : NULL;
}

/* A repeated query key arrives as an array; a scalar field takes its first value. */
static json_t *scalar(json_t *v)
{
    if (v && json_is_array(v) && json_array_size(v) > 0)
        return json_array_get(v, 0);
    return v;
}

bool trk_str(trk_call *c, const char *key, bool required, const char **out)
{
    *out = NULL;
    json_t *v = scalar(field(c, key));
    if (!v)
        return required ? missing(c, key) : true;
    if (!json_is_string(v))
        return bad_type(c, key, v, "a string");
    *out = json_string_value(v);
    if (required && !**out)
        return missing(c, key);
    return true;
}

bool trk_json_int64(trk_call *c, json_t *v, const char *what, int64_t *out)
{
    if (json_is_integer(v)) {
        *out = (int64_t)json_integer_value(v);
        return true;
    }
    if (json_is_real(v)) {
        double d = json_real_value(v);
        if (d == floor(d) && fabs(d) < 9.2e18) {
            *out = (int64_t)d;
            return true;
        }
    }
    if (json_is_string(v) && cn_parse_int64(json_string_value(v), out))
        return true;
    return trk_fail(c, 400, "INVALID_PARAMETER_VALUE",
                    "Invalid value for parameter '%s' supplied: expected a 64-bit integer (a "
                    "number or a string of digits), got %s",
                    what, type_name(v));
}

bool trk_int64(trk_call *c, const char *key, bool required, int64_t *out, bool *present)
{
    json_t *v = scalar(field(c, key));
    if (present)
        *present = v != NULL;
    if (!v)
        return required ? missing(c, key) : true;
    return trk_json_int64(c, v, key, out);
}

bool trk_json_double(trk_call *c, json_t *v, const char *what, double *out)
{
    if (json_is_number(v)) {
        *out = json_number_value(v);
        return true;
    }
    if (json_is_string(v)) {
        const char *s = json_string_value(v);
        if (strcmp(s, "NaN") == 0 || strcmp(s, "nan") == 0) {
            *out = NAN;
            return true;
        }
        if (strcmp(s, "Infinity") == 0 || strcmp(s, "inf") == 0) {
            *out = INFINITY;
            return true;
        }
        if (strcmp(s, "-Infinity") == 0 || strcmp(s, "-inf") == 0) {
            *out = -INFINITY;
            return true;
        }
        if (cn_parse_double(s, out))
            return true;
    }
    return trk_fail(c, 400, "INVALID_PARAMETER_VALUE",
                    "Invalid value for parameter '%s' supplied: expected a number (or \"NaN\", "
                    "\"Infinity\", \"-Infinity\"), got %s",
                    what, type_name(v));
}

bool trk_double(trk_call *c, const char *key, bool required, double *out)
{
    json_t *v = scalar(field(c, key));
    if (!v)
        return required ? missing(c, key) : true;
    return trk_json_double(c, v, key, out);
}

bool trk_bool(trk_call *c, const char *key, bool *out, bool *present)
{
    json_t *v = scalar(field(c, key));
    if (present)
        *present = v != NULL;
    if (!v)
        return true;
    if (json_is_boolean(v)) {
        *out = json_is_true(v);
        return true;
    }
    if (json_is_string(v)) {
        const char *s = json_string_value(v);
        if (cn_str_eq_nocase(s, "true")) {
            *out = true;
            return true;
        }
        if (cn_str_eq_nocase(s, "false")) {
            *out = false;
            return true;
        }
    }
    return bad_type(c, key, v, "true or false");
}

bool trk_str_list(trk_call *c, const char *key, const char ***out, size_t *n)
{
    *out = NULL;
    *n = 0;
    json_t *v = field(c, key);
    if (!v)
        return true;
    if (json_is_string(v)) {
        *out = cn_xmalloc(sizeof **out);
        (*out)[0] = json_string_value(v);
        *n = 1;
        return true;
    }
    if (!json_is_array(v))
        return bad_type(c, key, v, "a list of strings");
    size_t m = json_array_size(v);
    const char **list = cn_xmalloc((m ? m : 1) * sizeof *list);
    for (size_t i = 0; i < m; i++) {
        json_t *e = json_array_get(v, i);
        if (!json_is_string(e)) {
            free(list);
            return bad_type(c, key, e, "a list of strings");
        }
        list[i] = json_string_value(e);
    }
    *out = list;
    *n = m;
    return true;
}

bool trk_obj_str(trk_call *c, json_t *obj, const char *key, const char *what, bool required,
                 const char **out)
{
    *out = NULL;
    json_t *v = json_object_get(obj, key);
    if (!v || json_is_null(v)) {
        if (!required)
            return true;
        return trk_fail(c, 400, "INVALID_PARAMETER_VALUE",
                        "Missing value for required parameter '%s' in %s", key, what);
    }
    if (!json_is_string(v))
        return trk_fail(c, 400, "INVALID_PARAMETER_VALUE",
                        "Invalid value for parameter '%s' in %s: expected a string, got %s", key,
                        what, type_name(v));
    *out = json_string_value(v);
    return true;
}

bool trk_run_id(trk_call *c, const char **out)
{
    if (!trk_str(c, "run_id", false, out))
        return false;
    if (!*out || !**out) {
        if (!trk_str(c, "run_uuid", false, out))
            return false;
    }
    if (!*out || !**out)
        return missing(c, "run_id");
    return true;
}

bool trk_kv_list(trk_call *c, json_t *arr, const char *what, cairn_tag **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    if (!arr || json_is_null(arr))
        return true;
    if (!json_is_array(arr))
        return bad_type(c, what, arr, "a list of {key, value} objects");
    size_t m = json_array_size(arr);
    cairn_tag *list = cn_xcalloc(m ? m : 1, sizeof *list);
    for (size_t i = 0; i < m; i++) {
        json_t *e = json_array_get(arr, i);
        if (!json_is_object(e)) {
            free(list);
            return bad_type(c, what, e, "a list of {key, value} objects");
        }
        if (!trk_obj_str(c, e, "key", what, true, &list[i].key) ||
            !trk_obj_str(c, e, "value", what, false, &list[i].value)) {
            free(list);
            return false;
        }
        if (!list[i].value)
            list[i].value = "";
    }
    *out = list;
    *n = m;
    return true;
}
