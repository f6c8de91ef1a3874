/* SPDX-License-Identifier: MIT */
/* filter.c - the search filter and order_by parser: a hand-written lexer and recursive
 * descent parser (MLflow's grammar plus OR and parentheses) build an AST in an arena, checked
 * against the caller's grammar descriptor. No SQL: store/search_sql.c compiles the tree. See
 * docs/search.md for the grammar. */
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "formats/filter.h"
#include "core/core.h"
#include "base/buf.h"
#include "base/str.h"
#include "base/xmalloc.h"
#include "base/banned.h"

static const char *const op_name[] = {"=",  "!=",   "<",     "<=", ">",
                                      ">=", "LIKE", "ILIKE", "IN", "NOT IN"};

#define OPS_NUMERIC                                                                                \
    (CN_FILTER_BIT(CN_FILTER_EQ) | CN_FILTER_BIT(CN_FILTER_NE) | CN_FILTER_BIT(CN_FILTER_LT) |     \
     CN_FILTER_BIT(CN_FILTER_LE) | CN_FILTER_BIT(CN_FILTER_GT) | CN_FILTER_BIT(CN_FILTER_GE))
#define OPS_STRING                                                                                 \
    (CN_FILTER_BIT(CN_FILTER_EQ) | CN_FILTER_BIT(CN_FILTER_NE) | CN_FILTER_BIT(CN_FILTER_LIKE) |   \
     CN_FILTER_BIT(CN_FILTER_ILIKE) | CN_FILTER_BIT(CN_FILTER_IN) |                                \
     CN_FILTER_BIT(CN_FILTER_NOT_IN))

typedef cn_filter_ident ident;
typedef cn_filter_node node;
typedef cn_filter_value value;

/* ---- the parser ---- */

typedef struct parser {
    cairn_ctx *ctx;
    const cn_filter_grammar *g;
    const char *s;
    size_t len, pos;
    cn_arena *mem;     /* the AST */
    const char *where; /* "filter" or "order_by 'metrics.acc DESC'" for messages */
    int depth;
    size_t n_clauses, n_items;
} parser;

static bool is_space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

static bool is_word(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c >= 0x80;
}

/* Characters of an unquoted key after "type.": metrics.val/loss-2.x */
static bool is_key(unsigned char c)
{
    return is_word(c) || c == '.' || c == '-' || c == '/' || c == ':';
}

static bool is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

static bool is_quote(unsigned char c)
{
    return c == '\'' || c == '"' || c == '`';
}

static bool is_delim(unsigned char c)
{
    return is_space(c) || c == '(' || c == ')' || c == ',' || c == '=' || c == '!' || c == '<' ||
           c == '>' || is_quote(c);
}

static void skip_ws(parser *p)
{
    while (p->pos < p->len && is_space((unsigned char)p->s[p->pos]))
        p->pos++;
}

/* 1-based character (not byte) position of byte offset at; the text is valid UTF-8. */
static size_t char_pos(const parser *p, size_t at)
{
    size_t n = 1;
    for (size_t k = 0; k < at && k < p->len; k++)
        if (((unsigned char)p->s[k] & 0xC0) != 0x80)
            n++;
    return n;
}

/* Appends s[0..n) for a message: control bytes as \xNN, cut at 40 bytes. */
static void put_shown(cn_buf *b, const char *s, size_t n)
{
    size_t max = 40;
    bool cut = n > max;
    if (cut) {
        n = max;
        while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
            n--;
    }
    for (size_t k = 0; k < n; k++) {
        unsigned char c = (unsigned char)s[k];
        if (c < 0x20 || c == 0x7f)
            cn_buf_printf(b, "\\x%02x", c);
        else
            cn_buf_putc(b, (char)c);
    }
    if (cut)
        cn_buf_puts(b, "...");
}

/* End of the quoted token starting at s[at] (just past the closing quote, or len). */
static size_t quoted_end(const parser *p, size_t at)
{
    char q = p->s[at];
    size_t k = at + 1;
    while (k < p->len) {
        if (p->s[k] == '\\' && k + 1 < p->len) {
            k += 2;
        } else if (p->s[k] == q) {
            if (k + 1 < p->len && p->s[k + 1] == q)
                k += 2;
            else
                return k + 1;
        } else {
            k++;
        }
    }
    return p->len;
}

/* Appends a description of the token at byte offset at: 'foo', 'x' as typed, "end of input". */
static void put_token(const parser *p, cn_buf *b, size_t at)
{
    while (at < p->len && is_space((unsigned char)p->s[at]))
        at++;
    if (at >= p->len) {
        cn_buf_puts(b, "end of input");
        return;
    }
    unsigned char c = (unsigned char)p->s[at];
    size_t end = at + 1;
    if (is_quote(c)) {
        put_shown(b, p->s + at, quoted_end(p, at) - at);
        return;
    }
    if (c == '=' || c == '!' || c == '<' || c == '>') {
        while (end < p->len && strchr("=!<>", p->s[end]) && p->s[end] != '\0')
            end++;
    } else if (c != '(' && c != ')' && c != ',') {
        while (end < p->len && !is_delim((unsigned char)p->s[end]))
            end++;
    }
    cn_buf_putc(b, '\'');
    put_shown(b, p->s + at, end - at);
    cn_buf_putc(b, '\'');
}

/* Records "invalid <where> at character N: <msg>". */
static cairn_status fail_at(parser *p, cairn_status st, size_t at, const cn_buf *msg)
{
    return cn_fail(p->ctx, st, "invalid %s at character %zu: %s", p->where, char_pos(p, at),
                   cn_buf_str(msg));
}

/* A message of the form "<prefix>, got <token at 'at'>". */
static cairn_status fail_got(parser *p, size_t at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static cairn_status fail_got(parser *p, size_t at, const char *fmt, ...)
{
    cn_buf m = CN_BUF_INIT;
    va_list ap;
    va_start(ap, fmt);
    cn_buf_vprintf(&m, fmt, ap);
    va_end(ap);
    cn_buf_puts(&m, ", got ");
    put_token(p, &m, at);
    cairn_status rc = fail_at(p, CAIRN_EINVAL, at, &m);
    cn_buf_release(&m);
    return rc;
}

static cairn_status fail_msg(parser *p, cairn_status st, size_t at, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static cairn_status fail_msg(parser *p, cairn_status st, size_t at, const char *fmt, ...)
{
    cn_buf m = CN_BUF_INIT;
    va_list ap;
    va_start(ap, fmt);
    cn_buf_vprintf(&m, fmt, ap);
    va_end(ap);
    cairn_status rc = fail_at(p, st, at, &m);
    cn_buf_release(&m);
    return rc;
}

/* A NUL-terminated, shown-safe copy of s[0..n) for messages. */
static const char *shown(parser *p, const char *s, size_t n)
{
    cn_buf b = CN_BUF_INIT;
    put_shown(&b, s, n);
    char *r = cn_arena_strdup(p->mem, cn_buf_str(&b));
    cn_buf_release(&b);
    return r;
}

/* Checks UTF-8 (no overlongs, surrogates or NUL: PostgreSQL rejects them) and the length. */
static cairn_status check_text(parser *p)
{
    if (p->len > CN_FILTER_MAX_LEN)
        return cn_fail(p->ctx, CAIRN_ELIMIT, "invalid %s: longer than %u bytes", p->where,
                       CN_FILTER_MAX_LEN);
    const unsigned char *s = (const unsigned char *)p->s;
    size_t k = 0;
    while (k < p->len) {
        unsigned char c = s[k];
        size_t n;
        uint32_t cp;
        if (c == 0)
            return fail_msg(p, CAIRN_EINVAL, k, "NUL byte in the text");
        if (c < 0x80) {
            k++;
            continue;
        }
        if (c >= 0xC2 && c <= 0xDF) {
            n = 2;
            cp = c & 0x1F;
        } else if (c >= 0xE0 && c <= 0xEF) {
            n = 3;
            cp = c & 0x0F;
        } else if (c >= 0xF0 && c <= 0xF4) {
            n = 4;
            cp = c & 0x07;
        } else {
            return fail_msg(p, CAIRN_EINVAL, k, "invalid UTF-8 byte 0x%02x", c);
        }
        if (p->len - k < n)
            return fail_msg(p, CAIRN_EINVAL, k, "truncated UTF-8 sequence");
        for (size_t j = 1; j < n; j++) {
            if ((s[k + j] & 0xC0) != 0x80)
                return fail_msg(p, CAIRN_EINVAL, k, "invalid UTF-8 sequence");
            cp = (cp << 6) | (s[k + j] & 0x3F);
        }
        if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
            (cp >= 0xD800 && cp <= 0xDFFF))
            return fail_msg(p, CAIRN_EINVAL, k, "invalid UTF-8 sequence");
        k += n;
    }
    return CAIRN_OK;
}

/* Matches a case-insensitive keyword that is not the start of a longer word. */
static bool keyword(parser *p, const char *kw)
{
    size_t n = strlen(kw);
    if (p->len - p->pos < n || strncasecmp(p->s + p->pos, kw, n) != 0)
        return false;
    if (p->pos + n < p->len && is_word((unsigned char)p->s[p->pos + n]))
        return false;
    p->pos += n;
    return true;
}

/* Reads a quoted token at p->pos into an unescaped arena copy. Inside, the quote doubled or
 * preceded by a backslash stands for itself, and "\\" for one backslash; any other backslash
 * is kept as typed (so LIKE patterns can escape % and _). */
static cairn_status read_quoted(parser *p, const char **out, size_t *out_len)
{
    size_t start = p->pos;
    char q = p->s[p->pos++];
    char *buf = cn_arena_alloc(p->mem, quoted_end(p, start) - start + 1);
    size_t n = 0;
    for (;;) {
        if (p->pos >= p->len)
            return fail_msg(p, CAIRN_EINVAL, start, "unterminated string %s (close it with %c)",
                            shown(p, p->s + start, p->len - start), q);
        char c = p->s[p->pos];
        if (c == '\\' && p->pos + 1 < p->len &&
            (p->s[p->pos + 1] == q || p->s[p->pos + 1] == '\\')) {
            buf[n++] = p->s[p->pos + 1];
            p->pos += 2;
        } else if (c == q) {
            if (p->pos + 1 < p->len && p->s[p->pos + 1] == q) {
                buf[n++] = q;
                p->pos += 2;
            } else {
                p->pos++;
                break;
            }
        } else {
            buf[n++] = c;
            p->pos++;
        }
    }
    buf[n] = '\0';
    *out = buf;
    *out_len = n;
    return CAIRN_OK;
}

static const cn_filter_field *find_field(const cn_filter_field *tab, size_t n, const char *name,
                                         size_t len)
{
    for (size_t k = 0; k < n; k++)
        if (strlen(tab[k].name) == len && memcmp(tab[k].name, name, len) == 0)
            return &tab[k];
    return NULL;
}

static bool type_is(const char *t, size_t n, const char *const *names)
{
    for (; *names; names++)
        if (strlen(*names) == n && strncasecmp(t, *names, n) == 0)
            return true;
    return false;
}

/* The prefixes of each kind (MLflow's spellings), indexed by cn_filter_kind. */
static const char *const *const kind_prefixes[] = {
    [CN_FILTER_METRIC] = (const char *const[]){"metric", "metrics", NULL},
    [CN_FILTER_PARAM] = (const char *const[]){"param", "params", "parameter", "parameters", NULL},
    [CN_FILTER_TAG] = (const char *const[]){"tag", "tags", NULL},
    [CN_FILTER_ATTR] = (const char *const[]){"attribute", "attributes", "attr", "run", NULL},
    [CN_FILTER_DATASET] = (const char *const[]){"dataset", "datasets", NULL},
};

/* The kind a "type." prefix names, or -1. */
static int prefix_kind(const char *part, size_t len)
{
    for (size_t k = 0; k < CN_ARRAY_LEN(kind_prefixes); k++)
        if (type_is(part, len, kind_prefixes[k]))
            return (int)k;
    return -1;
}

/* Resolves an attribute name in the grammar; for_order allows order-only attributes. */
static cairn_status resolve_attr(parser *p, ident *id, const char *name, size_t len, size_t at,
                                 bool for_order)
{
    const cn_filter_field *f = find_field(p->g->attrs, p->g->n_attrs, name, len);
    if (f && !f->is_filterable && !for_order)
        f = NULL;
    if (!f)
        return fail_msg(p, CAIRN_EINVAL, at, "unknown attribute '%s' (use %s)", shown(p, name, len),
                        for_order ? p->g->order_attrs_hint : p->g->attrs_hint);
    id->kind = CN_FILTER_ATTR;
    id->field = f;
    return CAIRN_OK;
}

/* Resolves "part.key" (id->text set, key_len > 0) in the grammar. */
static cairn_status resolve_typed(parser *p, ident *id, const char *part, size_t part_len,
                                  const char *key, size_t key_len, size_t key_pos, bool for_order)
{
    const cn_filter_grammar *g = p->g;
    int kind = prefix_kind(part, part_len);
    if (kind == CN_FILTER_ATTR)
        return resolve_attr(p, id, key, key_len, key_pos, for_order);
    if (kind < 0 && g->kinds_hint)
        return fail_msg(p, CAIRN_EINVAL, id->pos, "unknown entity type '%s' in '%s' (use %s)",
                        shown(p, part, part_len), id->text, g->kinds_hint);
    if (kind < 0 || !(g->kinds & CN_FILTER_BIT(kind)))
        return fail_msg(p, CAIRN_EINVAL, id->pos, "'%s' cannot be used for %s (use %s)", id->text,
                        g->target, g->unusable_hint);
    id->kind = (cn_filter_kind)kind;
    if (kind == CN_FILTER_DATASET) {
        id->field = find_field(g->dataset_fields, g->n_dataset_fields, key, key_len);
        if (!id->field)
            return fail_msg(p, CAIRN_EINVAL, key_pos, "unknown dataset field '%s' (use %s)",
                            shown(p, key, key_len), g->dataset_hint);
    }
    if (for_order && !(g->order_kinds & CN_FILTER_BIT(kind))) {
        if (g->order_names_target)
            return fail_msg(p, CAIRN_EINVAL, id->pos, "cannot order %s by '%s' (use %s)", g->target,
                            id->text, g->order_hint);
        return fail_msg(p, CAIRN_EINVAL, id->pos, "cannot order by '%s' (use %s)", id->text,
                        g->order_hint);
    }
    if (kind != CN_FILTER_DATASET) {
        id->key = cn_arena_strndup(p->mem, key, key_len);
        id->key_len = key_len;
    }
    return CAIRN_OK;
}

/* Reads the key after "part." at p->pos and resolves the identifier. */
static cairn_status parse_key(parser *p, ident *id, const char *part, size_t part_len,
                              bool for_order)
{
    const char *key;
    size_t key_len, key_pos = p->pos;
    if (p->pos < p->len && is_quote((unsigned char)p->s[p->pos])) {
        cairn_status rc = read_quoted(p, &key, &key_len);
        if (rc != CAIRN_OK)
            return rc;
    } else {
        while (p->pos < p->len && is_key((unsigned char)p->s[p->pos]))
            p->pos++;
        key = p->s + key_pos;
        key_len = p->pos - key_pos;
        if (key_len == 0)
            return fail_got(p, key_pos, "expected a key after '%s.'", shown(p, part, part_len));
    }
    id->text = shown(p, p->s + id->pos, p->pos - id->pos);
    if (key_len == 0)
        return fail_msg(p, CAIRN_EINVAL, key_pos, "empty key in '%s'", id->text);
    return resolve_typed(p, id, part, part_len, key, key_len, key_pos, for_order);
}

/* identifier := part [ '.' key ] ; part := word | quoted ; key := keychars | quoted */
static cairn_status parse_ident(parser *p, ident *id, bool for_order)
{
    const char *part;
    size_t part_len;
    bool quoted = false;

    skip_ws(p);
    memset(id, 0, sizeof *id);
    id->pos = p->pos;
    if (p->pos < p->len && is_quote((unsigned char)p->s[p->pos])) {
        cairn_status rc = read_quoted(p, &part, &part_len);
        if (rc != CAIRN_OK)
            return rc;
        quoted = true;
    } else if (p->pos < p->len && is_word((unsigned char)p->s[p->pos])) {
        size_t start = p->pos;
        while (p->pos < p->len && is_word((unsigned char)p->s[p->pos]))
            p->pos++;
        part = p->s + start;
        part_len = p->pos - start;
    } else {
        return fail_got(p, p->pos, "expected an identifier such as %s",
                        p->g->ident_example ? p->g->ident_example : "metrics.acc or status");
    }
    if (p->pos < p->len && p->s[p->pos] == '.') {
        p->pos++;
        return parse_key(p, id, part, part_len, for_order);
    }
    if (quoted && part_len == 0)
        return fail_msg(p, CAIRN_EINVAL, id->pos, "empty identifier");
    id->text = shown(p, part, part_len);
    return resolve_attr(p, id, part, part_len, id->pos, for_order);
}

static cairn_status parse_op(parser *p, const ident *id, cn_filter_op *out)
{
    skip_ws(p);
    const char *s = p->s + p->pos;
    size_t left = p->len - p->pos;
    if (left >= 2 && s[0] == '!' && s[1] == '=') {
        *out = CN_FILTER_NE;
        p->pos += 2;
    } else if (left >= 2 && s[0] == '<' && s[1] == '=') {
        *out = CN_FILTER_LE;
        p->pos += 2;
    } else if (left >= 2 && s[0] == '>' && s[1] == '=') {
        *out = CN_FILTER_GE;
        p->pos += 2;
    } else if (left >= 1 && (s[0] == '<' || s[0] == '>' || s[0] == '=')) {
        *out = s[0] == '<' ? CN_FILTER_LT : s[0] == '>' ? CN_FILTER_GT : CN_FILTER_EQ;
        p->pos += 1;
    } else if (keyword(p, "LIKE")) {
        *out = CN_FILTER_LIKE;
    } else if (keyword(p, "ILIKE")) {
        *out = CN_FILTER_ILIKE;
    } else if (keyword(p, "IN")) {
        *out = CN_FILTER_IN;
    } else if (keyword(p, "NOT")) {
        skip_ws(p);
        if (!keyword(p, "IN"))
            return fail_got(p, p->pos, "expected IN after NOT");
        *out = CN_FILTER_NOT_IN;
    } else {
        return fail_got(p, p->pos, "expected a comparator after '%s'", id->text);
    }
    /* "==" is what Python and C habits type: say what to write instead */
    if (*out == CN_FILTER_EQ && p->pos < p->len && p->s[p->pos] == '=')
        return fail_msg(p, CAIRN_EINVAL, p->pos - 1,
                        "'==' is not a comparator; equality is a single '=' (as in SQL and "
                        "MLflow's filters): %s = ...",
                        id->text);
    /* "=<", ">>": a comparator glued to another operator character. */
    if (p->pos < p->len && strchr("=!<>", p->s[p->pos]) && p->s[p->pos] != '\0')
        return fail_got(p, p->pos, "unexpected character after comparator '%s'", op_name[*out]);
    return CAIRN_OK;
}

static const char *kind_name(const ident *id)
{
    switch (id->kind) {
    case CN_FILTER_METRIC: return "metrics";
    case CN_FILTER_PARAM: return "params";
    case CN_FILTER_TAG: return "tags";
    case CN_FILTER_DATASET: return "dataset fields";
    case CN_FILTER_ATTR: break;
    }
    return "attribute";
}

static bool is_numeric(const ident *id)
{
    return id->kind == CN_FILTER_METRIC ||
           (id->field && (id->field->type == CN_FILTER_MS || id->field->type == CN_FILTER_INT));
}

/* The comparators id takes in grammar g (CN_FILTER_BIT of each). */
static unsigned allowed_ops(const cn_filter_grammar *g, const ident *id)
{
    if (is_numeric(id))
        return OPS_NUMERIC;
    if ((id->field && id->field->type == CN_FILTER_STRING_SCALAR) ||
        (id->kind == CN_FILTER_TAG && g->tag_type == CN_FILTER_STRING_SCALAR))
        return OPS_STRING & ~(CN_FILTER_BIT(CN_FILTER_IN) | CN_FILTER_BIT(CN_FILTER_NOT_IN));
    return OPS_STRING;
}

/* "= != LIKE ILIKE" for a set of comparators, for messages (in the parser's arena). */
static const char *ops_text(parser *p, unsigned ops)
{
    cn_buf b = CN_BUF_INIT;
    for (size_t k = 0; k < CN_ARRAY_LEN(op_name); k++)
        if (ops & CN_FILTER_BIT(k))
            cn_buf_printf(&b, "%s%s", b.len ? " " : "", op_name[k]);
    char *r = cn_arena_strdup(p->mem, cn_buf_str(&b));
    cn_buf_release(&b);
    return r;
}

/* End of the number at p->pos: [+-] (digits [. digits*] | . digits) [(e|E) [+-] digits];
 * *digits counts the mantissa's digits. */
static size_t number_end(const parser *p, size_t *digits)
{
    size_t k = p->pos;
    *digits = 0;
    if (k < p->len && (p->s[k] == '+' || p->s[k] == '-'))
        k++;
    while (k < p->len && is_digit((unsigned char)p->s[k])) {
        k++;
        (*digits)++;
    }
    if (k < p->len && p->s[k] == '.') {
        k++;
        while (k < p->len && is_digit((unsigned char)p->s[k])) {
            k++;
            (*digits)++;
        }
    }
    if (*digits > 0 && k < p->len && (p->s[k] == 'e' || p->s[k] == 'E')) {
        size_t e = k + 1;
        if (e < p->len && (p->s[e] == '+' || p->s[e] == '-'))
            e++;
        if (e < p->len && is_digit((unsigned char)p->s[e])) {
            while (e < p->len && is_digit((unsigned char)p->s[e]))
                e++;
            k = e;
        }
    }
    return k;
}

/* Parses text as an int64, also written as a whole float ("1.7e12"); false if it is none. */
static bool whole_number(const char *text, int64_t *out)
{
    if (cn_parse_int64(text, out))
        return true;
    double d;
    if (!cn_parse_double(text, &d) || !isfinite(d) || d != floor(d) || d < -9.2233720368547758e18 ||
        d >= 9.2233720368547758e18)
        return false;
    *out = (int64_t)d;
    return true;
}

/* A metric's value is a finite double; anything else numeric a whole int64. */
static cairn_status parse_number(parser *p, const ident *id, value *v)
{
    size_t start = p->pos, digits;
    size_t k = number_end(p, &digits);
    if (digits == 0 || (k < p->len && !is_delim((unsigned char)p->s[k]))) {
        if (p->pos < p->len && (p->s[p->pos] == '\'' || p->s[p->pos] == '"'))
            return fail_got(p, start, "expected a number for '%s' (numbers are not quoted)",
                            id->text);
        return fail_got(p, start, "expected a number for '%s'", id->text);
    }
    char *text = cn_arena_strndup(p->mem, p->s + start, k - start);
    if (id->kind == CN_FILTER_METRIC) {
        v->kind = CN_FILTER_VAL_REAL;
        if (!cn_parse_double(text, &v->d) || !isfinite(v->d))
            return fail_msg(p, CAIRN_EINVAL, start, "number '%s' is out of range", text);
        p->pos = k;
        return CAIRN_OK;
    }
    v->kind = CN_FILTER_VAL_INT;
    if (!whole_number(text, &v->i))
        return fail_msg(p, CAIRN_EINVAL, start, "'%s' needs a whole number%s, got '%s'", id->text,
                        id->field->type == CN_FILTER_MS ? " of milliseconds" : "", text);
    p->pos = k;
    return CAIRN_OK;
}

/* A CN_FILTER_INT value may be quoted ('3'): the text inside must be a whole number. */
static cairn_status parse_quoted_int(parser *p, const ident *id, value *v)
{
    size_t start = p->pos;
    const char *s;
    size_t len;
    cairn_status rc = read_quoted(p, &s, &len);
    if (rc != CAIRN_OK)
        return rc;
    v->kind = CN_FILTER_VAL_INT;
    if (len == 0 || !whole_number(s, &v->i))
        return fail_msg(p, CAIRN_EINVAL, start, "'%s' needs a whole number, got %s", id->text,
                        shown(p, p->s + start, p->pos - start));
    return CAIRN_OK;
}

static cairn_status parse_string(parser *p, const ident *id, const char **s, size_t *len)
{
    if (p->pos < p->len && (p->s[p->pos] == '\'' || p->s[p->pos] == '"'))
        return read_quoted(p, s, len);
    size_t at = p->pos;
    if (at < p->len && (is_digit((unsigned char)p->s[at]) || p->s[at] == '-' || p->s[at] == '+' ||
                        p->s[at] == '.'))
        return fail_got(p, at, "expected a quoted string for '%s' (quote the value: '...')",
                        id->text);
    return fail_got(p, at, "expected a quoted string for '%s'", id->text);
}

/* A LIKE pattern must not end in a lone escape character: PostgreSQL rejects it. */
static bool like_ok(const char *s, size_t len)
{
    size_t n = 0;
    while (n < len && s[len - 1 - n] == '\\')
        n++;
    return n % 2 == 0;
}

/* list := '(' string (',' string)* ')' after IN or NOT IN. */
static cairn_status parse_list_value(parser *p, const ident *id, cn_filter_op cmp, value *v)
{
    if (p->pos >= p->len || p->s[p->pos] != '(')
        return fail_got(p, p->pos, "expected '(' after %s", op_name[cmp]);
    p->pos++;
    cn_filter_item **tail = &v->items;
    v->kind = CN_FILTER_VAL_LIST;
    for (;;) {
        skip_ws(p);
        if (p->n_items >= CN_FILTER_MAX_IN_ITEMS)
            return fail_msg(p, CAIRN_ELIMIT, p->pos, "more than %d values in IN lists",
                            CN_FILTER_MAX_IN_ITEMS);
        if (p->pos < p->len && p->s[p->pos] == ')' && v->items == NULL)
            return fail_msg(p, CAIRN_EINVAL, p->pos, "empty list after %s", op_name[cmp]);
        cn_filter_item *it = cn_arena_alloc(p->mem, sizeof *it);
        cairn_status rc = parse_string(p, id, &it->s, &it->len);
        if (rc != CAIRN_OK)
            return rc;
        p->n_items++;
        *tail = it;
        tail = &it->next;
        skip_ws(p);
        if (p->pos < p->len && p->s[p->pos] == ',') {
            p->pos++;
            continue;
        }
        if (p->pos < p->len && p->s[p->pos] == ')') {
            p->pos++;
            return CAIRN_OK;
        }
        return fail_got(p, p->pos, "expected ',' or ')' in the list after %s", op_name[cmp]);
    }
}

static cairn_status parse_value(parser *p, const ident *id, cn_filter_op cmp, value *v)
{
    skip_ws(p);
    size_t at = p->pos;
    if (cmp == CN_FILTER_IN || cmp == CN_FILTER_NOT_IN)
        return parse_list_value(p, id, cmp, v);
    if (id->field && id->field->type == CN_FILTER_INT && at < p->len &&
        (p->s[at] == '\'' || p->s[at] == '"'))
        return parse_quoted_int(p, id, v);
    if (is_numeric(id))
        return parse_number(p, id, v);
    if (at < p->len && p->s[at] == '(')
        return fail_got(p, at, "a list needs IN or NOT IN, not '%s'", op_name[cmp]);
    v->kind = CN_FILTER_VAL_STRING;
    cairn_status rc = parse_string(p, id, &v->s, &v->len);
    if (rc != CAIRN_OK)
        return rc;
    if ((cmp == CN_FILTER_LIKE || cmp == CN_FILTER_ILIKE) && !like_ok(v->s, v->len))
        return fail_msg(p, CAIRN_EINVAL, at,
                        "%s pattern %s ends with the escape character '\\' (write '\\\\' for "
                        "a backslash)",
                        op_name[cmp], shown(p, p->s + at, p->pos - at));
    return CAIRN_OK;
}

static cairn_status parse_clause(parser *p, node **out)
{
    cairn_status rc;
    node *n = cn_arena_alloc(p->mem, sizeof *n);
    n->kind = CN_FILTER_CLAUSE;
    if (p->n_clauses >= CN_FILTER_MAX_CLAUSES) {
        skip_ws(p);
        return fail_msg(p, CAIRN_ELIMIT, p->pos, "more than %d comparisons", CN_FILTER_MAX_CLAUSES);
    }
    rc = parse_ident(p, &n->id, false);
    if (rc != CAIRN_OK)
        return rc;
    skip_ws(p);
    size_t op_pos = p->pos;
    rc = parse_op(p, &n->id, &n->cmp);
    if (rc != CAIRN_OK)
        return rc;
    unsigned allowed = allowed_ops(p->g, &n->id);
    if (!(allowed & CN_FILTER_BIT(n->cmp))) {
        const char *use = ops_text(p, allowed);
        if (n->id.kind == CN_FILTER_ATTR)
            return fail_msg(p, CAIRN_EINVAL, op_pos,
                            "comparator '%s' is not allowed for attribute '%s' (use %s)",
                            op_name[n->cmp], n->id.field->name, use);
        return fail_msg(p, CAIRN_EINVAL, op_pos, "comparator '%s' is not allowed for %s (use %s)",
                        op_name[n->cmp], kind_name(&n->id), use);
    }
    rc = parse_value(p, &n->id, n->cmp, &n->val);
    if (rc != CAIRN_OK)
        return rc;
    p->n_clauses++;
    *out = n;
    return CAIRN_OK;
}

static cairn_status parse_or(parser *p, node **out);

static cairn_status parse_primary(parser *p, node **out)
{
    skip_ws(p);
    if (p->pos < p->len && p->s[p->pos] == '(') {
        size_t open = p->pos;
        if (p->depth >= CN_FILTER_MAX_DEPTH)
            return fail_msg(p, CAIRN_ELIMIT, open, "parentheses nested deeper than %d",
                            CN_FILTER_MAX_DEPTH);
        p->pos++;
        p->depth++;
        cairn_status rc = parse_or(p, out);
        if (rc != CAIRN_OK)
            return rc;
        p->depth--;
        skip_ws(p);
        if (p->pos >= p->len || p->s[p->pos] != ')')
            return fail_got(p, p->pos, "expected AND, OR or ')' to close the '(' at character %zu",
                            char_pos(p, open));
        p->pos++;
        return CAIRN_OK;
    }
    return parse_clause(p, out);
}

/* and := primary (AND primary)* ; or := and (OR and)* */
static cairn_status parse_list(parser *p, cn_filter_node_kind kind, node **out)
{
    node *kid = NULL;
    cairn_status rc =
        kind == CN_FILTER_OR ? parse_list(p, CN_FILTER_AND, &kid) : parse_primary(p, &kid);
    if (rc != CAIRN_OK)
        return rc;
    node *list = NULL, **tail = NULL;
    for (;;) {
        skip_ws(p);
        if (!keyword(p, kind == CN_FILTER_OR ? "OR" : "AND"))
            break;
        if (!list) {
            list = cn_arena_alloc(p->mem, sizeof *list);
            list->kind = kind;
            list->first = kid;
            tail = &kid->next;
        }
        kid = NULL;
        rc = kind == CN_FILTER_OR ? parse_list(p, CN_FILTER_AND, &kid) : parse_primary(p, &kid);
        if (rc != CAIRN_OK)
            return rc;
        *tail = kid;
        tail = &kid->next;
    }
    *out = list ? list : kid;
    return CAIRN_OK;
}

static cairn_status parse_or(parser *p, node **out)
{
    return parse_list(p, CN_FILTER_OR, out);
}

static void parser_init(parser *p, cairn_ctx *ctx, const cn_filter_grammar *g, const char *text,
                        size_t len, cn_arena *mem, const char *where)
{
    memset(p, 0, sizeof *p);
    p->ctx = ctx;
    p->g = g;
    p->s = text ? text : "";
    p->len = text ? len : 0;
    p->mem = mem;
    p->where = where;
}

cairn_status cn_filter_parse(cairn_ctx *ctx, const cn_filter_grammar *g, const char *text,
                             size_t len, cn_filter **out)
{
    parser p;
    node *root = NULL;
    cn_filter *f = cn_xcalloc(1, sizeof *f);
    cairn_status rc;

    *out = NULL;
    f->mem = cn_arena_new();
    parser_init(&p, ctx, g, text, len, f->mem, "filter");
    rc = check_text(&p);
    if (rc != CAIRN_OK)
        goto done;
    skip_ws(&p);
    if (p.pos == p.len)
        goto done; /* empty: no tree */
    rc = parse_or(&p, &root);
    if (rc != CAIRN_OK)
        goto done;
    skip_ws(&p);
    if (p.pos < p.len) {
        if (p.s[p.pos] == ')')
            rc = fail_msg(&p, CAIRN_EINVAL, p.pos, "unmatched ')'");
        else
            rc = fail_got(&p, p.pos, "expected AND, OR or the end of the filter");
        goto done;
    }
    f->root = root;
done:
    if (rc == CAIRN_OK)
        *out = f;
    else
        cn_filter_free(f);
    return rc;
}

void cn_filter_free(cn_filter *f)
{
    if (!f)
        return;
    cn_arena_free(f->mem);
    free(f);
}

/* ---- order_by ---- */

/* entry := identifier [ASC | DESC]; p->where names the entry. */
static cairn_status parse_order_key(parser *p, cn_order_key *key)
{
    cairn_status rc = check_text(p);
    if (rc != CAIRN_OK)
        return rc;
    skip_ws(p);
    if (p->pos == p->len)
        return fail_msg(p, CAIRN_EINVAL, p->pos, "empty entry (use '<key> [ASC|DESC]')");
    rc = parse_ident(p, &key->id, true);
    if (rc != CAIRN_OK)
        return rc;
    skip_ws(p);
    key->is_desc = keyword(p, "DESC");
    if (!key->is_desc)
        (void)keyword(p, "ASC");
    skip_ws(p);
    if (p->pos < p->len)
        return fail_got(p, p->pos, "expected ASC or DESC after '%s'", key->id.text);
    return CAIRN_OK;
}

cairn_status cn_order_parse(cairn_ctx *ctx, const cn_filter_grammar *g, const char *const *order_by,
                            size_t n, cn_order **out)
{
    cn_order *o = cn_xcalloc(1, sizeof *o);
    cairn_status rc = CAIRN_OK;

    *out = NULL;
    o->mem = cn_arena_new();
    if (n > CN_ORDER_MAX_KEYS) {
        rc =
            cn_fail(ctx, CAIRN_ELIMIT, "invalid order_by: more than %d entries", CN_ORDER_MAX_KEYS);
        goto done;
    }
    o->keys = n ? cn_arena_alloc(o->mem, n * sizeof *o->keys) : NULL;
    for (size_t k = 0; k < n; k++) {
        const char *entry = order_by[k];
        if (!entry) {
            rc = cn_fail(ctx, CAIRN_EINVAL, "invalid order_by: entry %zu is NULL", k + 1);
            goto done;
        }
        parser p;
        cn_buf where = CN_BUF_INIT;
        size_t elen = strlen(entry);
        cn_buf_puts(&where, "order_by '");
        put_shown(&where, entry, elen);
        cn_buf_putc(&where, '\'');
        parser_init(&p, ctx, g, entry, elen, o->mem, cn_buf_str(&where));
        rc = parse_order_key(&p, &o->keys[k]);
        cn_buf_release(&where);
        if (rc != CAIRN_OK)
            goto done;
        o->n++;
    }
done:
    if (rc == CAIRN_OK)
        *out = o;
    else
        cn_order_free(o);
    return rc;
}

void cn_order_free(cn_order *o)
{
    if (!o)
        return;
    cn_arena_free(o->mem);
    free(o);
}
