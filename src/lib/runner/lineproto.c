/* SPDX-License-Identifier: MIT */
/* lineproto.c - parses the metric lines of a tracked command (see lineproto.h for the
 * grammar). Called by the runner for every output line and metrics-file line; fuzzed by
 * fuzz/fuzz_lineproto.c. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "runner/lineproto.h"
#include "core/core.h"
#include "core/key.h"
#include "formats/json.h"
#include "base/str.h"
#include "base/xmalloc.h"
#include "base/banned.h"

#define MAX_ITEMS 1000     /* CAIRN_BATCH_METRICS_MAX: more in one line is an error */
#define MAX_SHOWN_VALUE 64 /* how much of a bad value an error message quotes */

struct cn_lineproto {
    cn_lp_format format;
    regex_t re;
    bool has_re;
};

/* "key=value" pairs anywhere in a line, as Katib's default metrics collector reads them. */
static const char katib_re[] = "([A-Za-z0-9_./|-]+)[[:space:]]*=[[:space:]]*"
                               "([+-]?([0-9]+\\.?[0-9]*|\\.[0-9]+)([eE][+-]?[0-9]+)?)";
/* "key: value" lines, as Guild's default output scalars read them. */
static const char guild_re[] =
    "^[[:space:]]*([A-Za-z_][A-Za-z0-9_./-]*):[[:space:]]+"
    "([+-]?([0-9]+\\.?[0-9]*|\\.[0-9]+)([eE][+-]?[0-9]+)?|[+-]?[iI][nN][fF]|[nN][aA][nN])"
    "[[:space:]]*$";

cairn_status cn_lineproto_new(cairn_ctx *ctx, const char *format, cn_lineproto **out)
{
    cn_lineproto *lp = cn_xcalloc(1, sizeof *lp);
    const char *pattern = NULL;
    *out = NULL;
    if (!format || !*format || strcmp(format, "cairn") == 0) {
        lp->format = CN_LP_FORMAT_CAIRN;
    } else if (strcmp(format, "json") == 0) {
        lp->format = CN_LP_FORMAT_JSON;
    } else if (strcmp(format, "katib") == 0) {
        pattern = katib_re;
    } else if (strcmp(format, "guild") == 0) {
        pattern = guild_re;
    } else if (strncmp(format, "regex:", 6) == 0) {
        pattern = format + 6;
    } else {
        free(lp);
        return cn_fail(ctx, CAIRN_EINVAL,
                       "metrics format '%s' is unknown; use cairn, json, katib, guild or "
                       "regex:PATTERN",
                       format);
    }
    if (pattern) {
        lp->format = CN_LP_FORMAT_REGEX;
        int e = regcomp(&lp->re, pattern, REG_EXTENDED);
        if (e != 0) {
            char msg[256];
            regerror(e, &lp->re, msg, sizeof msg);
            free(lp);
            return cn_fail(ctx, CAIRN_EINVAL, "metrics format regex '%s': %s", pattern, msg);
        }
        lp->has_re = true;
        if (lp->re.re_nsub < 2) {
            regfree(&lp->re);
            free(lp);
            return cn_fail(ctx, CAIRN_EINVAL,
                           "metrics format regex '%s': needs two groups, (key) and (value)",
                           pattern);
        }
    }
    *out = lp;
    return CAIRN_OK;
}

void cn_lineproto_free(cn_lineproto *lp)
{
    if (!lp)
        return;
    if (lp->has_re)
        regfree(&lp->re);
    free(lp);
}

cn_lp_format cn_lineproto_format(const cn_lineproto *lp)
{
    return lp->format;
}

void cn_lp_record_release(cn_lp_record *rec)
{
    for (size_t i = 0; i < rec->n; i++) {
        free(rec->items[i].key);
        free(rec->items[i].text);
    }
    free(rec->items);
    free(rec->error);
    free(rec->error_key);
    free(rec->warning);
    free(rec->warning_key);
    memset(rec, 0, sizeof *rec);
}

bool cn_lp_key_valid(const char *key, size_t len)
{
    return cn_key_valid(key, len);
}

bool cn_lp_parse_value(const char *text, size_t len, double *out)
{
    char tmp[128];
    if (len == 0 || len >= sizeof tmp)
        return false;
    memcpy(tmp, text, len);
    tmp[len] = '\0';
    const char *p = tmp[0] == '+' || tmp[0] == '-' ? tmp + 1 : tmp;
    if (strcasecmp(p, "nan") == 0) {
        *out = NAN;
        return true;
    }
    if (strcasecmp(p, "inf") == 0 || strcasecmp(p, "infinity") == 0) {
        *out = tmp[0] == '-' ? -INFINITY : INFINITY;
        return true;
    }
    /* Decimal only: strtod would also take hex floats and "nan(...)". */
    for (const char *q = p; *q; q++)
        if (!(isdigit((unsigned char)*q) || *q == '.' || *q == 'e' || *q == 'E' || *q == '+' ||
              *q == '-'))
            return false;
    if (!isdigit((unsigned char)*p) && *p != '.')
        return false;
    char *end;
    errno = 0;
    double v = strtod(tmp, &end); /* ERANGE gives ±HUGE_VAL (inf) or a value near 0: kept */
    if (end == tmp || *end)
        return false;
    *out = v;
    return true;
}

/* ---- building records ---- */

static void add_item(cn_lp_record *rec, cn_lp_kind kind, const char *key, size_t key_len,
                     const char *text, size_t text_len, double value)
{
    rec->items = cn_xrealloc(rec->items, (rec->n + 1) * sizeof *rec->items);
    cn_lp_item *it = &rec->items[rec->n++];
    it->kind = kind;
    it->key = key ? cn_xstrndup(key, key_len) : NULL;
    it->text = cn_xstrndup(text, text_len);
    it->value = value;
}

/* Turns rec into an error record: drops its items, keeps the message. */
static void set_error(cn_lp_record *rec, const char *key, size_t key_len, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void set_error(cn_lp_record *rec, const char *key, size_t key_len, const char *fmt, ...)
{
    if (rec->error)
        return;
    for (size_t i = 0; i < rec->n; i++) {
        free(rec->items[i].key);
        free(rec->items[i].text);
    }
    rec->n = 0;
    cn_buf b = CN_BUF_INIT;
    va_list ap;
    va_start(ap, fmt);
    cn_buf_vprintf(&b, fmt, ap);
    va_end(ap);
    rec->error = cn_buf_detach(&b);
    rec->error_key = key ? cn_xstrndup(key, key_len) : NULL;
    rec->is_record = true;
}

/* Quotes at most MAX_SHOWN_VALUE bytes of a value, replacing control bytes, for messages. */
static char *shown(const char *text, size_t len)
{
    cn_buf b = CN_BUF_INIT;
    size_t n = len > MAX_SHOWN_VALUE ? MAX_SHOWN_VALUE : len;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)text[i];
        cn_buf_putc(&b, c < 0x20 || c == 0x7f ? '?' : (char)c);
    }
    if (n < len)
        cn_buf_puts(&b, "...");
    return cn_buf_detach(&b);
}

static const char *kind_noun(cn_lp_kind kind)
{
    switch (kind) {
    case CN_LP_METRIC:
    case CN_LP_FINAL: return "metric";
    case CN_LP_PARAM: return "param";
    case CN_LP_TAG: return "tag";
    case CN_LP_ARTIFACT: return "artifact";
    }
    return "value";
}

/* Adds one key=value pair of kind `kind` to rec, or makes rec an error. */
static void add_pair(cn_lp_record *rec, cn_lp_kind kind, const char *key, size_t key_len,
                     const char *val, size_t val_len)
{
    if (rec->error)
        return;
    if (rec->n >= MAX_ITEMS) {
        set_error(rec, NULL, 0, "more than %d values in one line", MAX_ITEMS);
        return;
    }
    if (kind == CN_LP_ARTIFACT) {
        if (key_len != 4 || memcmp(key, "path", 4) != 0) {
            char *k = shown(key, key_len);
            set_error(rec, key, key_len, "artifact: unknown field '%s'; write path=FILE", k);
            free(k);
            return;
        }
        if (val_len == 0 || memchr(val, '\0', val_len)) {
            set_error(rec, key, key_len, "artifact: empty or malformed path");
            return;
        }
        add_item(rec, kind, NULL, 0, val, val_len, 0);
        return;
    }
    if ((kind == CN_LP_METRIC || kind == CN_LP_FINAL) && key_len == 4 &&
        memcmp(key, "step", 4) == 0) {
        char tmp[32];
        int64_t step;
        bool ok = val_len > 0 && val_len < sizeof tmp;
        if (ok) {
            memcpy(tmp, val, val_len);
            tmp[val_len] = '\0';
            ok = cn_parse_int64(tmp, &step) && step >= 0;
        }
        if (!ok) {
            char *v = shown(val, val_len);
            set_error(rec, key, key_len, "step '%s' is not a non-negative integer", v);
            free(v);
            return;
        }
        rec->has_step = true;
        rec->step = step;
        return;
    }
    if (!cn_lp_key_valid(key, key_len)) {
        char *k = shown(key, key_len);
        set_error(rec, key, key_len,
                  "%s key '%s' is invalid: use 1-250 of letters, digits, _ - . / : and "
                  "space, as a relative path without '.' or '..' parts",
                  kind_noun(kind), k);
        free(k);
        return;
    }
    if (kind == CN_LP_METRIC || kind == CN_LP_FINAL) {
        double v;
        if (!cn_lp_parse_value(val, val_len, &v)) {
            char *k = shown(key, key_len), *s = shown(val, val_len);
            set_error(rec, key, key_len, "metric '%s': value '%s' is not a number", k, s);
            free(k);
            free(s);
            return;
        }
        if (isinf(v) && !rec->warning && (isdigit((unsigned char)val[val_len - 1]))) {
            /* A number, not "inf": it overflowed a double. */
            char *k = shown(key, key_len), *s = shown(val, val_len);
            cn_buf b = CN_BUF_INIT;
            cn_buf_printf(&b, "metric '%s': value '%s' is out of range for a double; stored as %s",
                          k, s, v > 0 ? "inf" : "-inf");
            rec->warning = cn_buf_detach(&b);
            rec->warning_key = cn_xstrndup(key, key_len);
            free(k);
            free(s);
        }
        add_item(rec, kind, key, key_len, val, val_len, v);
        return;
    }
    if (memchr(val, '\0', val_len)) {
        char *k = shown(key, key_len);
        set_error(rec, key, key_len, "%s '%s': value holds a NUL byte", kind_noun(kind), k);
        free(k);
        return;
    }
    add_item(rec, kind, key, key_len, val, val_len, 0);
}

/* ---- JSON records ---- */

static void json_scalar_text(const cn_json *v, cn_buf *out)
{
    if (cn_json_typeof(v) == CN_JSON_STRING) {
        cn_buf_append(out, cn_json_string(v), cn_json_string_len(v));
    } else if (cn_json_typeof(v) == CN_JSON_REAL) {
        /* The shortest text that reads back as the same double: 0.1, not 0.10000000000000001. */
        double d = cn_json_number(v);
        char tmp[40];
        for (int prec = 1; prec <= 17; prec++) {
            snprintf(tmp, sizeof tmp, "%.*g", prec, d);
            if (strtod(tmp, NULL) == d)
                break;
        }
        cn_buf_puts(out, tmp);
    } else
        cn_json_dump(v, out);
}

/* Adds one member of a JSON record of kind `kind`. */
static void json_member(cn_lp_record *rec, cn_lp_kind kind, const char *key, const cn_json *v)
{
    size_t key_len = strlen(key);
    cn_json_type t = cn_json_typeof(v);
    cn_buf text = CN_BUF_INIT;
    bool metric = kind == CN_LP_METRIC || kind == CN_LP_FINAL;
    if (metric && strcmp(key, "step") == 0) {
        double d = cn_json_number(v);
        if (t == CN_JSON_REAL && d >= 0 && d < 9.2e18 && floor(d) == d)
            cn_buf_printf(&text, "%.0f", d);
        else
            json_scalar_text(v, &text);
        add_pair(rec, kind, key, key_len, cn_buf_str(&text), text.len);
    } else if (metric && (t == CN_JSON_INT || t == CN_JSON_REAL)) {
        /* Numbers go straight in: no text round trip, full precision. */
        if (!cn_lp_key_valid(key, key_len)) {
            add_pair(rec, kind, key, key_len, "0", 1); /* records the key's error */
        } else if (!rec->error && rec->n >= MAX_ITEMS) {
            set_error(rec, NULL, 0, "more than %d values in one line", MAX_ITEMS);
        } else if (!rec->error) {
            cn_json_dump(v, &text);
            add_item(rec, kind, key, key_len, text.data, text.len, cn_json_number(v));
        }
    } else if (t == CN_JSON_STRING ||
               (!metric && (t == CN_JSON_INT || t == CN_JSON_REAL || t == CN_JSON_BOOL))) {
        json_scalar_text(v, &text);
        add_pair(rec, kind, key, key_len, cn_buf_str(&text), text.len);
    } else {
        cn_json_dump(v, &text);
        char *k = shown(key, key_len), *s = shown(cn_buf_str(&text), text.len);
        if (metric)
            set_error(rec, key, key_len, "metric '%s': value '%s' is not a number", k, s);
        else
            set_error(rec, key, key_len, "%s '%s': value '%s' must be a string or number",
                      kind_noun(kind), k, s);
        free(k);
        free(s);
    }
    cn_buf_release(&text);
}

static void json_members(cn_lp_record *rec, cn_lp_kind kind, const cn_json *obj)
{
    for (void *it = cn_json_object_iter(obj); it && !rec->error; it = cn_json_object_next(obj, it))
        json_member(rec, kind, cn_json_iter_key(it), cn_json_iter_value(it));
}

static void json_artifacts(cn_lp_record *rec, const cn_json *v)
{
    if (cn_json_typeof(v) == CN_JSON_STRING) {
        add_pair(rec, CN_LP_ARTIFACT, "path", 4, cn_json_string(v), cn_json_string_len(v));
        return;
    }
    if (cn_json_typeof(v) == CN_JSON_ARRAY) {
        for (size_t i = 0; i < cn_json_array_size(v) && !rec->error; i++)
            json_artifacts(rec, cn_json_array_get(v, i));
        return;
    }
    set_error(rec, "artifacts", 9, "'artifacts' must be a path or a list of paths");
}

/* A JSON object record of kind `kind`; `nested` allows the final/params/tags/artifacts
 * members of a metrics record. Returns false (rec untouched) when text is not an object. */
static bool json_record(cn_lp_record *rec, cn_lp_kind kind, bool nested, const char *text,
                        size_t len)
{
    cn_json *obj = NULL;
    if (cn_json_parse_object(NULL, text, len, &obj) != CAIRN_OK)
        return false;
    rec->is_record = true;
    for (void *it = cn_json_object_iter(obj); it && !rec->error;
         it = cn_json_object_next(obj, it)) {
        const char *key = cn_json_iter_key(it);
        cn_json *v = cn_json_iter_value(it);
        cn_json_type t = cn_json_typeof(v);
        if (nested && t == CN_JSON_OBJECT && strcmp(key, "final") == 0)
            json_members(rec, CN_LP_FINAL, v);
        else if (nested && t == CN_JSON_OBJECT && strcmp(key, "params") == 0)
            json_members(rec, CN_LP_PARAM, v);
        else if (nested && t == CN_JSON_OBJECT && strcmp(key, "tags") == 0)
            json_members(rec, CN_LP_TAG, v);
        else if (nested && strcmp(key, "artifacts") == 0)
            json_artifacts(rec, v);
        else if (kind == CN_LP_ARTIFACT && strcmp(key, "path") == 0 && t == CN_JSON_STRING)
            add_pair(rec, kind, "path", 4, cn_json_string(v), cn_json_string_len(v));
        else
            json_member(rec, kind, key, v);
    }
    cn_json_free(obj);
    return true;
}

/* ---- the cairn format ---- */

static bool is_space(char c)
{
    return c == ' ' || c == '\t';
}

/* Reads the key=value tokens of p[0 .. len). Returns false when the first token is not a
 * pair (then, for plain "cairn:" lines, the line is output, not a record). */
static bool kv_record(cn_lp_record *rec, cn_lp_kind kind, const char *p, size_t len)
{
    size_t i = 0;
    bool first = true;
    cn_buf val = CN_BUF_INIT;
    for (;;) {
        while (i < len && is_space(p[i]))
            i++;
        if (i == len)
            break;
        size_t key_start = i;
        while (i < len && p[i] != '=' && !is_space(p[i]))
            i++;
        size_t key_len = i - key_start;
        if (i == len || p[i] != '=' || key_len == 0) {
            if (first && kind == CN_LP_ARTIFACT && i == len) {
                /* cairn.artifact: out/model.bin */
                rec->is_record = true;
                add_pair(rec, kind, "path", 4, p + key_start, key_len);
                break;
            }
            if (first) {
                cn_buf_release(&val);
                return false;
            }
            char *t = shown(p + key_start, i - key_start);
            set_error(rec, p + key_start, i - key_start, "'%s' is not a key=value pair", t);
            free(t);
            break;
        }
        rec->is_record = true;
        first = false;
        i++; /* '=' */
        cn_buf_clear(&val);
        if (i < len && p[i] == '"') {
            i++;
            bool closed = false;
            while (i < len) {
                if (p[i] == '\\' && i + 1 < len) {
                    cn_buf_putc(&val, p[i + 1]);
                    i += 2;
                } else if (p[i] == '"') {
                    i++;
                    closed = true;
                    break;
                } else {
                    cn_buf_putc(&val, p[i++]);
                }
            }
            if (!closed) {
                char *k = shown(p + key_start, key_len);
                set_error(rec, p + key_start, key_len, "'%s': unterminated quoted value", k);
                free(k);
                break;
            }
        } else {
            size_t v0 = i;
            while (i < len && !is_space(p[i]))
                i++;
            cn_buf_append(&val, p + v0, i - v0);
        }
        add_pair(rec, kind, p + key_start, key_len, val.data ? val.data : "", val.len);
        if (rec->error)
            break;
    }
    cn_buf_release(&val);
    return !first || rec->is_record;
}

static const struct {
    const char *prefix;
    cn_lp_kind kind;
} prefixes[] = {
    {"cairn:", CN_LP_METRIC},  {"cairn.final:", CN_LP_FINAL},       {"cairn.param:", CN_LP_PARAM},
    {"cairn.tag:", CN_LP_TAG}, {"cairn.artifact:", CN_LP_ARTIFACT},
};

/* Parses a cairn-format line; false when it is plain output. */
static bool cairn_line(cn_lp_record *rec, const char *p, size_t len)
{
    for (size_t k = 0; k < CN_ARRAY_LEN(prefixes); k++) {
        size_t n = strlen(prefixes[k].prefix);
        if (len < n || memcmp(p, prefixes[k].prefix, n) != 0)
            continue;
        cn_lp_kind kind = prefixes[k].kind;
        const char *rest = p + n;
        size_t rest_len = len - n;
        while (rest_len && is_space(*rest)) {
            rest++;
            rest_len--;
        }
        while (rest_len && (is_space(rest[rest_len - 1]) || rest[rest_len - 1] == '\r'))
            rest_len--;
        if (rest_len && rest[0] == '{') {
            if (json_record(rec, kind, kind == CN_LP_METRIC, rest, rest_len))
                return true;
            if (kind == CN_LP_METRIC)
                return false;
            set_error(rec, NULL, 0, "%s line: malformed JSON object", prefixes[k].prefix);
            return true;
        }
        if (kv_record(rec, kind, rest, rest_len))
            return true;
        if (kind == CN_LP_METRIC)
            return false;
        if (rest_len == 0) {
            set_error(rec, NULL, 0, "%s line without values", prefixes[k].prefix);
            return true;
        }
        char *t = shown(rest, rest_len);
        set_error(rec, NULL, 0, "%s line: '%s' is not key=value", prefixes[k].prefix, t);
        free(t);
        return true;
    }
    return false;
}

static void regex_line(const cn_lineproto *lp, cn_lp_record *rec, const char *line, size_t len)
{
    if (memchr(line, '\0', len))
        return;
    char *s = cn_xstrndup(line, len);
    regmatch_t m[3];
    const char *p = s;
    int flags = 0;
    while (*p && regexec(&lp->re, p, 3, m, flags) == 0) {
        if (m[0].rm_eo <= 0) {
            if (!p[0])
                break;
            p++; /* an empty match: step past it */
            flags = REG_NOTBOL;
            continue;
        }
        if (m[1].rm_so >= 0 && m[2].rm_so >= 0) {
            rec->is_record = true;
            add_pair(rec, CN_LP_METRIC, p + m[1].rm_so, (size_t)(m[1].rm_eo - m[1].rm_so),
                     p + m[2].rm_so, (size_t)(m[2].rm_eo - m[2].rm_so));
            if (rec->error)
                break;
        }
        p += m[0].rm_eo;
        flags = REG_NOTBOL;
    }
    free(s);
}

static size_t skip_lead(const char *line, size_t len)
{
    size_t i = 0;
    while (i < len && is_space(line[i]))
        i++;
    return i;
}

void cn_lineproto_parse(const cn_lineproto *lp, const char *line, size_t len, cn_lp_record *rec)
{
    cn_lp_record_release(rec);
    if (lp->format == CN_LP_FORMAT_REGEX) {
        regex_line(lp, rec, line, len);
        return;
    }
    size_t i = skip_lead(line, len);
    if (lp->format == CN_LP_FORMAT_JSON && i < len && line[i] == '{') {
        if (json_record(rec, CN_LP_METRIC, true, line + i, len - i))
            return;
    }
    if (!cairn_line(rec, line + i, len - i))
        cn_lp_record_release(rec);
}

void cn_lineproto_parse_file_line(const char *line, size_t len, cn_lp_record *rec)
{
    cn_lp_record_release(rec);
    size_t i = skip_lead(line, len);
    while (len > i && (line[len - 1] == '\r' || is_space(line[len - 1])))
        len--;
    if (i == len)
        return;
    if (line[i] == '{') {
        if (!json_record(rec, CN_LP_METRIC, true, line + i, len - i))
            set_error(rec, NULL, 0, "metrics file: malformed JSON line");
        return;
    }
    if (!cairn_line(rec, line + i, len - i)) {
        char *t = shown(line + i, len - i);
        set_error(rec, NULL, 0, "metrics file: '%s' is not a JSON object or a cairn line", t);
        free(t);
    }
}
