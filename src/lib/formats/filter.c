/* SPDX-License-Identifier: MIT */
/* filter.c - the search filter and order_by compiler: a hand-written lexer and recursive
 * descent parser (MLflow's grammar plus OR and parentheses) build an AST in an arena, which
 * is then printed as portable SQL with '?' placeholders. See docs/search.md for the grammar. */
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "formats/filter.h"
#include "core/core.h"
#include "base/str.h"
#include "base/xmalloc.h"
#include "base/banned.h"

/* ---- cn_sql ---- */

void cn_sql_init(cn_sql *s)
{
    memset(s, 0, sizeof *s);
}

void cn_sql_release(cn_sql *s)
{
    if (!s)
        return;
    cn_buf_release(&s->sql);
    free(s->args);
    cn_arena_free(s->mem);
    memset(s, 0, sizeof *s);
}

static cn_sqlarg *add_arg(cn_sql *s)
{
    if (s->n_args == s->cap_args) {
        s->cap_args = s->cap_args ? 2 * s->cap_args : 8;
        s->args = cn_xrealloc(s->args, s->cap_args * sizeof *s->args);
    }
    cn_sqlarg *a = &s->args[s->n_args++];
    memset(a, 0, sizeof *a);
    return a;
}

void cn_sql_add_text(cn_sql *s, const char *text, size_t len)
{
    if (!s->mem)
        s->mem = cn_arena_new();
    cn_sqlarg *a = add_arg(s);
    a->type = CN_SQLARG_TEXT;
    a->text = cn_arena_strndup(s->mem, text, len);
}

void cn_sql_add_int(cn_sql *s, int64_t v)
{
    cn_sqlarg *a = add_arg(s);
    a->type = CN_SQLARG_INT;
    a->i = v;
}

void cn_sql_add_real(cn_sql *s, double v)
{
    cn_sqlarg *a = add_arg(s);
    a->type = CN_SQLARG_REAL;
    a->d = v;
}

/* ---- what can be searched ---- */

typedef enum entity { ENT_METRIC, ENT_PARAM, ENT_TAG, ENT_ATTR, ENT_DATASET } entity;

typedef enum op {
    OP_EQ,
    OP_NE,
    OP_LT,
    OP_LE,
    OP_GT,
    OP_GE,
    OP_LIKE,
    OP_ILIKE,
    OP_IN,
    OP_NOT_IN
} op;

static const char *const op_sql[] = {"=",  "<>",   "<",     "<=", ">",
                                     ">=", "LIKE", "ILIKE", "IN", "NOT IN"};
static const char *const op_name[] = {"=",  "!=",   "<",     "<=", ">",
                                      ">=", "LIKE", "ILIKE", "IN", "NOT IN"};

#define OPS_NUMERIC                                                                                \
    ((1u << OP_EQ) | (1u << OP_NE) | (1u << OP_LT) | (1u << OP_LE) | (1u << OP_GT) | (1u << OP_GE))
#define OPS_STRING                                                                                 \
    ((1u << OP_EQ) | (1u << OP_NE) | (1u << OP_LIKE) | (1u << OP_ILIKE) | (1u << OP_IN) |          \
     (1u << OP_NOT_IN))
#define OPS_NUMERIC_TEXT "= != < <= > >="
#define OPS_STRING_TEXT "= != LIKE ILIKE IN NOT IN"

typedef struct field {
    const char *name;   /* as users type it */
    const char *column; /* SQL column */
    bool is_numeric;    /* int64 milliseconds, numeric comparators */
    bool is_nullable;   /* the column may be NULL (sorts last) */
    bool is_filterable; /* false: order_by only */
} field;

static const field run_attrs[] = {
    {"run_id", "r.run_uuid", false, false, true},
    {"run_name", "r.name", false, false, true},
    {"run name", "r.name", false, false, true},
    {"Run name", "r.name", false, false, true},
    {"Run Name", "r.name", false, false, true},
    {"user_id", "r.user_id", false, false, true},
    {"status", "r.status", false, false, true},
    {"artifact_uri", "r.artifact_uri", false, false, true},
    {"start_time", "r.start_time", true, false, true},
    {"created", "r.start_time", true, false, true},
    {"Created", "r.start_time", true, false, true},
    {"end_time", "r.end_time", true, true, true},
};
#define RUN_ATTRS_TEXT "run_id, run_name, user_id, status, artifact_uri, start_time, end_time"

static const field experiment_attrs[] = {
    {"name", "e.name", false, false, true},
    {"creation_time", "e.creation_time", true, false, true},
    {"last_update_time", "e.last_update_time", true, false, true},
    {"experiment_id", "e.experiment_id", true, false, false},
};

static const field dataset_fields[] = {
    {"name", "d.name", false, false, true},
    {"digest", "d.digest", false, false, true},
    {"context", "i.context", false, false, true},
};

/* ---- AST ---- */

typedef struct ident {
    entity type;
    const char *key; /* metric/param/tag key (NUL-terminated copy) */
    size_t key_len;
    const field *fld; /* attributes and dataset fields */
    const char *text; /* as typed, for messages */
    size_t pos;       /* byte offset of its start */
} ident;

typedef enum value_kind { VAL_STRING, VAL_NUMBER, VAL_LIST } value_kind;

typedef struct str_item {
    const char *s;
    size_t len;
    struct str_item *next;
} str_item;

typedef struct value {
    value_kind kind;
    const char *s; /* VAL_STRING, unescaped */
    size_t len;
    double d;        /* VAL_NUMBER */
    int64_t i;       /* VAL_NUMBER when the target column is an integer */
    str_item *items; /* VAL_LIST */
} value;

typedef enum node_kind { NODE_AND, NODE_OR, NODE_CLAUSE } node_kind;

typedef struct node {
    node_kind kind;
    struct node *first, *last, *next; /* children of AND/OR; next sibling */
    ident id;
    op cmp;
    value val;
} node;

/* ---- the parser ---- */

typedef struct parser {
    cairn_ctx *ctx;
    cn_filter_target target;
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

static const field *find_field(const field *tab, size_t n, const char *name, size_t len)
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

static const char *const metric_names[] = {"metric", "metrics", NULL};
static const char *const param_names[] = {"param", "params", "parameter", "parameters", NULL};
static const char *const tag_names[] = {"tag", "tags", NULL};
static const char *const attr_names[] = {"attribute", "attributes", "attr", "run", NULL};
static const char *const dataset_names[] = {"dataset", "datasets", NULL};

/* Resolves an attribute name for the target; for_order allows order-only attributes. */
static cairn_status resolve_attr(parser *p, ident *id, const char *name, size_t len, size_t at,
                                 bool for_order)
{
    const field *f;
    if (p->target == CN_FILTER_RUNS)
        f = find_field(run_attrs, CN_ARRAY_LEN(run_attrs), name, len);
    else
        f = find_field(experiment_attrs, CN_ARRAY_LEN(experiment_attrs), name, len);
    if (f && !f->is_filterable && !for_order)
        f = NULL;
    if (!f) {
        const char *list;
        if (p->target == CN_FILTER_RUNS)
            list = for_order ? RUN_ATTRS_TEXT ", created" : RUN_ATTRS_TEXT;
        else
            list = for_order ? "name, experiment_id, creation_time, last_update_time"
                             : "name, creation_time, last_update_time, tags.<key>";
        return fail_msg(p, CAIRN_EINVAL, at, "unknown attribute '%s' (use %s)", shown(p, name, len),
                        list);
    }
    id->type = ENT_ATTR;
    id->fld = f;
    return CAIRN_OK;
}

/* identifier := part [ '.' key ] ; part := word | quoted ; key := keychars | quoted */
static cairn_status parse_ident(parser *p, ident *id, bool for_order)
{
    cairn_status rc;
    const char *part;
    size_t part_len;
    bool quoted = false;

    skip_ws(p);
    memset(id, 0, sizeof *id);
    id->pos = p->pos;
    if (p->pos < p->len && is_quote((unsigned char)p->s[p->pos])) {
        rc = read_quoted(p, &part, &part_len);
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
        return fail_got(p, p->pos, "expected an identifier such as metrics.acc or status");
    }

    if (p->pos < p->len && p->s[p->pos] == '.') {
        size_t type_pos = id->pos;
        p->pos++;
        const char *key;
        size_t key_len;
        size_t key_pos = p->pos;
        if (p->pos < p->len && is_quote((unsigned char)p->s[p->pos])) {
            rc = read_quoted(p, &key, &key_len);
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
        if (type_is(part, part_len, attr_names))
            return resolve_attr(p, id, key, key_len, key_pos, for_order);
        if (type_is(part, part_len, tag_names)) {
            id->type = ENT_TAG;
        } else if (p->target == CN_FILTER_RUNS && type_is(part, part_len, metric_names)) {
            id->type = ENT_METRIC;
        } else if (p->target == CN_FILTER_RUNS && type_is(part, part_len, param_names)) {
            id->type = ENT_PARAM;
        } else if (p->target == CN_FILTER_RUNS && type_is(part, part_len, dataset_names)) {
            id->type = ENT_DATASET;
            id->fld = find_field(dataset_fields, CN_ARRAY_LEN(dataset_fields), key, key_len);
            if (!id->fld)
                return fail_msg(p, CAIRN_EINVAL, key_pos,
                                "unknown dataset field '%s' (use name, digest, context)",
                                shown(p, key, key_len));
            if (for_order)
                return fail_msg(p, CAIRN_EINVAL, type_pos,
                                "cannot order by '%s' (use metrics, params, tags or attributes)",
                                id->text);
            return CAIRN_OK;
        } else if (p->target == CN_FILTER_RUNS) {
            return fail_msg(p, CAIRN_EINVAL, type_pos,
                            "unknown entity type '%s' in '%s' (use metrics, params, tags, "
                            "attributes or datasets)",
                            shown(p, part, part_len), id->text);
        } else {
            return fail_msg(p, CAIRN_EINVAL, type_pos,
                            "'%s' cannot be used for experiments (use name, creation_time, "
                            "last_update_time or tags.<key>)",
                            id->text);
        }
        if (p->target == CN_FILTER_EXPERIMENTS && for_order)
            return fail_msg(p, CAIRN_EINVAL, type_pos,
                            "cannot order experiments by '%s' (use name, experiment_id, "
                            "creation_time, last_update_time)",
                            id->text);
        id->key = cn_arena_strndup(p->mem, key, key_len);
        id->key_len = key_len;
        return CAIRN_OK;
    }
    if (quoted && part_len == 0)
        return fail_msg(p, CAIRN_EINVAL, id->pos, "empty identifier");
    id->text = shown(p, part, part_len);
    return resolve_attr(p, id, part, part_len, id->pos, for_order);
}

static cairn_status parse_op(parser *p, const ident *id, op *out)
{
    skip_ws(p);
    const char *s = p->s + p->pos;
    size_t left = p->len - p->pos;
    if (left >= 2 && s[0] == '!' && s[1] == '=') {
        *out = OP_NE;
        p->pos += 2;
    } else if (left >= 2 && s[0] == '<' && s[1] == '=') {
        *out = OP_LE;
        p->pos += 2;
    } else if (left >= 2 && s[0] == '>' && s[1] == '=') {
        *out = OP_GE;
        p->pos += 2;
    } else if (left >= 1 && (s[0] == '<' || s[0] == '>' || s[0] == '=')) {
        *out = s[0] == '<' ? OP_LT : s[0] == '>' ? OP_GT : OP_EQ;
        p->pos += 1;
    } else if (keyword(p, "LIKE")) {
        *out = OP_LIKE;
    } else if (keyword(p, "ILIKE")) {
        *out = OP_ILIKE;
    } else if (keyword(p, "IN")) {
        *out = OP_IN;
    } else if (keyword(p, "NOT")) {
        skip_ws(p);
        if (!keyword(p, "IN"))
            return fail_got(p, p->pos, "expected IN after NOT");
        *out = OP_NOT_IN;
    } else {
        return fail_got(p, p->pos, "expected a comparator after '%s'", id->text);
    }
    /* "=<", "==", ">>": a comparator glued to another operator character. */
    if (p->pos < p->len && strchr("=!<>", p->s[p->pos]) && p->s[p->pos] != '\0')
        return fail_got(p, p->pos, "unexpected character after comparator '%s'", op_name[*out]);
    return CAIRN_OK;
}

static const char *entity_name(const ident *id)
{
    switch (id->type) {
    case ENT_METRIC: return "metrics";
    case ENT_PARAM: return "params";
    case ENT_TAG: return "tags";
    case ENT_DATASET: return "dataset fields";
    case ENT_ATTR: break;
    }
    return "attribute";
}

static bool is_numeric(const ident *id)
{
    return id->type == ENT_METRIC || (id->type == ENT_ATTR && id->fld->is_numeric);
}

/* number := [+-] (digits [. digits*] | . digits) [(e|E) [+-] digits] */
static cairn_status parse_number(parser *p, const ident *id, value *v)
{
    size_t start = p->pos, k = p->pos;
    if (k < p->len && (p->s[k] == '+' || p->s[k] == '-'))
        k++;
    size_t digits = 0;
    while (k < p->len && is_digit((unsigned char)p->s[k])) {
        k++;
        digits++;
    }
    if (k < p->len && p->s[k] == '.') {
        k++;
        while (k < p->len && is_digit((unsigned char)p->s[k])) {
            k++;
            digits++;
        }
    }
    if (digits > 0 && k < p->len && (p->s[k] == 'e' || p->s[k] == 'E')) {
        size_t e = k + 1;
        if (e < p->len && (p->s[e] == '+' || p->s[e] == '-'))
            e++;
        if (e < p->len && is_digit((unsigned char)p->s[e])) {
            while (e < p->len && is_digit((unsigned char)p->s[e]))
                e++;
            k = e;
        }
    }
    if (digits == 0 || (k < p->len && !is_delim((unsigned char)p->s[k]))) {
        if (p->pos < p->len && (p->s[p->pos] == '\'' || p->s[p->pos] == '"'))
            return fail_got(p, start, "expected a number for '%s' (numbers are not quoted)",
                            id->text);
        return fail_got(p, start, "expected a number for '%s'", id->text);
    }
    char *text = cn_arena_strndup(p->mem, p->s + start, k - start);
    v->kind = VAL_NUMBER;
    if (id->type == ENT_METRIC) {
        if (!cn_parse_double(text, &v->d) || !isfinite(v->d))
            return fail_msg(p, CAIRN_EINVAL, start, "number '%s' is out of range", text);
    } else if (!cn_parse_int64(text, &v->i)) {
        double d;
        if (!cn_parse_double(text, &d) || !isfinite(d) || d != floor(d) ||
            d < -9.2233720368547758e18 || d >= 9.2233720368547758e18)
            return fail_msg(p, CAIRN_EINVAL, start,
                            "'%s' needs a whole number of milliseconds, got '%s'", id->text, text);
        v->i = (int64_t)d;
    }
    p->pos = k;
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

static cairn_status parse_value(parser *p, const ident *id, op cmp, value *v)
{
    cairn_status rc;
    skip_ws(p);
    size_t at = p->pos;
    if (cmp == OP_IN || cmp == OP_NOT_IN) {
        if (at >= p->len || p->s[at] != '(')
            return fail_got(p, at, "expected '(' after %s", op_name[cmp]);
        p->pos++;
        str_item **tail = &v->items;
        v->kind = VAL_LIST;
        for (;;) {
            skip_ws(p);
            if (p->n_items >= CN_FILTER_MAX_IN_ITEMS)
                return fail_msg(p, CAIRN_ELIMIT, p->pos, "more than %d values in IN lists",
                                CN_FILTER_MAX_IN_ITEMS);
            if (p->pos < p->len && p->s[p->pos] == ')' && tail == &v->items)
                return fail_msg(p, CAIRN_EINVAL, p->pos, "empty list after %s", op_name[cmp]);
            str_item *it = cn_arena_alloc(p->mem, sizeof *it);
            rc = parse_string(p, id, &it->s, &it->len);
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
    if (is_numeric(id))
        return parse_number(p, id, v);
    if (at < p->len && p->s[at] == '(')
        return fail_got(p, at, "a list needs IN or NOT IN, not '%s'", op_name[cmp]);
    v->kind = VAL_STRING;
    rc = parse_string(p, id, &v->s, &v->len);
    if (rc != CAIRN_OK)
        return rc;
    if ((cmp == OP_LIKE || cmp == OP_ILIKE) && !like_ok(v->s, v->len))
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
    n->kind = NODE_CLAUSE;
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
    unsigned allowed = is_numeric(&n->id) ? OPS_NUMERIC : OPS_STRING;
    if (!(allowed & (1u << n->cmp))) {
        const char *use = is_numeric(&n->id) ? OPS_NUMERIC_TEXT : OPS_STRING_TEXT;
        if (n->id.type == ENT_ATTR)
            return fail_msg(p, CAIRN_EINVAL, op_pos,
                            "comparator '%s' is not allowed for attribute '%s' (use %s)",
                            op_name[n->cmp], n->id.fld->name, use);
        return fail_msg(p, CAIRN_EINVAL, op_pos, "comparator '%s' is not allowed for %s (use %s)",
                        op_name[n->cmp], entity_name(&n->id), use);
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

static void add_child(node *parent, node *kid)
{
    if (parent->last)
        parent->last->next = kid;
    else
        parent->first = kid;
    parent->last = kid;
}

/* and := primary (AND primary)* ; or := and (OR and)* */
static cairn_status parse_list(parser *p, node_kind kind, node **out)
{
    node *kid = NULL;
    cairn_status rc = kind == NODE_OR ? parse_list(p, NODE_AND, &kid) : parse_primary(p, &kid);
    if (rc != CAIRN_OK)
        return rc;
    node *list = NULL;
    for (;;) {
        skip_ws(p);
        if (!keyword(p, kind == NODE_OR ? "OR" : "AND"))
            break;
        if (!list) {
            list = cn_arena_alloc(p->mem, sizeof *list);
            list->kind = kind;
            add_child(list, kid);
        }
        kid = NULL;
        rc = kind == NODE_OR ? parse_list(p, NODE_AND, &kid) : parse_primary(p, &kid);
        if (rc != CAIRN_OK)
            return rc;
        add_child(list, kid);
    }
    *out = list ? list : kid;
    return CAIRN_OK;
}

static cairn_status parse_or(parser *p, node **out)
{
    return parse_list(p, NODE_OR, out);
}

/* ---- SQL ---- */

static void put_args_list(cn_sql *s, const str_item *it)
{
    cn_buf_putc(&s->sql, '(');
    for (; it; it = it->next) {
        cn_buf_puts(&s->sql, it->next ? "?, " : "?");
        cn_sql_add_text(s, it->s, it->len);
    }
    cn_buf_putc(&s->sql, ')');
}

/* "<col> <op> <value>" with the value bound. */
static void gen_cmp(cn_sql *s, const char *col, const node *n)
{
    switch (n->cmp) {
    case OP_LIKE: cn_buf_printf(&s->sql, "%s LIKE ? ESCAPE '\\'", col); break;
    case OP_ILIKE: cn_buf_printf(&s->sql, "LOWER(%s) LIKE LOWER(?) ESCAPE '\\'", col); break;
    case OP_IN:
    case OP_NOT_IN:
        cn_buf_printf(&s->sql, "%s %s ", col, op_sql[n->cmp]);
        put_args_list(s, n->val.items);
        return;
    default: cn_buf_printf(&s->sql, "%s %s ?", col, op_sql[n->cmp]); break;
    }
    if (n->val.kind == VAL_STRING)
        cn_sql_add_text(s, n->val.s, n->val.len);
    else if (n->id.type == ENT_METRIC)
        cn_sql_add_real(s, n->val.d);
    else
        cn_sql_add_int(s, n->val.i);
}

static void gen_clause(cn_sql *s, cn_filter_target t, const node *n)
{
    const ident *id = &n->id;
    switch (id->type) {
    case ENT_METRIC:
        cn_buf_puts(&s->sql, "EXISTS (SELECT 1 FROM latest_metrics m WHERE m.run_uuid = "
                             "r.run_uuid AND m.key = ? AND m.is_nan = 0 AND ");
        cn_sql_add_text(s, id->key, id->key_len);
        gen_cmp(s, "m.value", n);
        break;
    case ENT_PARAM:
        cn_buf_puts(&s->sql, "EXISTS (SELECT 1 FROM params p WHERE p.run_uuid = r.run_uuid "
                             "AND p.key = ? AND ");
        cn_sql_add_text(s, id->key, id->key_len);
        gen_cmp(s, "p.value", n);
        break;
    case ENT_TAG:
        if (t == CN_FILTER_RUNS)
            cn_buf_puts(&s->sql, "EXISTS (SELECT 1 FROM tags t WHERE t.run_uuid = r.run_uuid "
                                 "AND t.key = ? AND ");
        else
            cn_buf_puts(&s->sql, "EXISTS (SELECT 1 FROM experiment_tags t WHERE "
                                 "t.experiment_id = e.experiment_id AND t.key = ? AND ");
        cn_sql_add_text(s, id->key, id->key_len);
        gen_cmp(s, "t.value", n);
        break;
    case ENT_DATASET:
        cn_buf_puts(&s->sql, "EXISTS (SELECT 1 FROM inputs i JOIN datasets d ON "
                             "d.dataset_uuid = i.dataset_uuid WHERE i.run_uuid = r.run_uuid "
                             "AND ");
        gen_cmp(s, id->fld->column, n);
        break;
    case ENT_ATTR: gen_cmp(s, id->fld->column, n); return;
    }
    cn_buf_putc(&s->sql, ')');
}

static void gen_node(cn_sql *s, cn_filter_target t, const node *n)
{
    if (n->kind == NODE_CLAUSE) {
        gen_clause(s, t, n);
        return;
    }
    for (const node *k = n->first; k; k = k->next) {
        if (k != n->first)
            cn_buf_puts(&s->sql, n->kind == NODE_AND ? " AND " : " OR ");
        bool wrap = n->kind == NODE_AND && k->kind == NODE_OR;
        if (wrap)
            cn_buf_putc(&s->sql, '(');
        gen_node(s, t, k);
        if (wrap)
            cn_buf_putc(&s->sql, ')');
    }
}

static void parser_init(parser *p, cairn_ctx *ctx, cn_filter_target t, const char *text, size_t len,
                        const char *where)
{
    memset(p, 0, sizeof *p);
    p->ctx = ctx;
    p->target = t;
    p->s = text ? text : "";
    p->len = text ? len : 0;
    p->mem = cn_arena_new();
    p->where = where;
}

cairn_status cn_filter_compile(cairn_ctx *ctx, cn_filter_target t, const char *text, size_t len,
                               cn_sql *where)
{
    parser p;
    node *root = NULL;
    cairn_status rc;

    parser_init(&p, ctx, t, text, len, "filter");
    rc = check_text(&p);
    if (rc != CAIRN_OK)
        goto done;
    skip_ws(&p);
    if (p.pos == p.len) {
        cn_buf_puts(&where->sql, "1 = 1");
        goto done;
    }
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
    cn_buf_putc(&where->sql, '(');
    gen_node(where, t, root);
    cn_buf_putc(&where->sql, ')');
done:
    cn_arena_free(p.mem);
    return rc;
}

/* ---- order_by ---- */

static void gen_order(parser *p, const ident *id, bool desc, size_t k, cn_sql *joins, cn_buf *order)
{
    const char *dir = desc ? "DESC" : "ASC";
    if (order->len)
        cn_buf_puts(order, ", ");
    if (id->type == ENT_ATTR) {
        if (id->fld->is_nullable)
            cn_buf_printf(order, "CASE WHEN %s IS NULL THEN 1 ELSE 0 END, ", id->fld->column);
        cn_buf_printf(order, "%s %s", id->fld->column, dir);
        return;
    }
    const char *table = id->type == ENT_METRIC        ? "latest_metrics"
                        : id->type == ENT_PARAM       ? "params"
                        : p->target == CN_FILTER_RUNS ? "tags"
                                                      : "experiment_tags";
    cn_buf_printf(&joins->sql, " LEFT JOIN %s o%zu ON o%zu.run_uuid = r.run_uuid AND o%zu.key = ?",
                  table, k, k, k);
    cn_sql_add_text(joins, id->key, id->key_len);
    if (id->type == ENT_METRIC)
        cn_buf_printf(order,
                      "CASE WHEN o%zu.run_uuid IS NULL THEN 2 WHEN o%zu.is_nan = 1 THEN 1 "
                      "ELSE 0 END, o%zu.value %s",
                      k, k, k, dir);
    else
        cn_buf_printf(order, "CASE WHEN o%zu.run_uuid IS NULL THEN 1 ELSE 0 END, o%zu.value %s", k,
                      k, dir);
}

cn_lead_kind cn_order_leading_key(cairn_ctx *ctx, const char *entry, char **key_out, bool *desc_out)
{
    parser p;
    ident id;
    cn_lead_kind kind = CN_LEAD_NONE;
    *key_out = NULL;
    *desc_out = false;
    if (!entry)
        return CN_LEAD_NONE;
    size_t elen = strlen(entry);
    parser_init(&p, ctx, CN_FILTER_RUNS, entry, elen, "order_by");
    cairn_status rc = check_text(&p);
    if (rc == CAIRN_OK) {
        skip_ws(&p);
        rc = p.pos < p.len ? parse_ident(&p, &id, true) : CAIRN_EINVAL;
    }
    if (rc == CAIRN_OK && (id.type == ENT_METRIC || id.type == ENT_PARAM || id.type == ENT_TAG)) {
        skip_ws(&p);
        bool desc = keyword(&p, "DESC");
        if (!desc)
            (void)keyword(&p, "ASC");
        skip_ws(&p);
        if (p.pos == p.len) {
            kind = id.type == ENT_METRIC  ? CN_LEAD_METRIC
                   : id.type == ENT_PARAM ? CN_LEAD_PARAM
                                          : CN_LEAD_TAG;
            *desc_out = desc;
            *key_out = cn_xstrndup(id.key, id.key_len);
        }
    }
    cn_arena_free(p.mem);
    return kind;
}

cairn_status cn_order_compile(cairn_ctx *ctx, cn_filter_target t, const char *const *order_by,
                              size_t n, cn_sql *joins, cn_buf *order)
{
    size_t joins_len = joins->sql.len, joins_args = joins->n_args, order_len = order->len;
    cn_buf user = CN_BUF_INIT;
    cairn_status rc = CAIRN_OK;

    if (n > CN_ORDER_MAX_KEYS) {
        rc =
            cn_fail(ctx, CAIRN_ELIMIT, "invalid order_by: more than %d entries", CN_ORDER_MAX_KEYS);
        goto done;
    }
    for (size_t k = 0; k < n; k++) {
        parser p;
        ident id;
        const char *entry = order_by[k];
        if (!entry) {
            rc = cn_fail(ctx, CAIRN_EINVAL, "invalid order_by: entry %zu is NULL", k + 1);
            goto done;
        }
        cn_buf where = CN_BUF_INIT;
        cn_buf_puts(&where, "order_by '");
        size_t elen = strlen(entry);
        put_shown(&where, entry, elen);
        cn_buf_putc(&where, '\'');
        parser_init(&p, ctx, t, entry, elen, cn_buf_str(&where));
        rc = check_text(&p);
        if (rc == CAIRN_OK) {
            skip_ws(&p);
            if (p.pos == p.len)
                rc = fail_msg(&p, CAIRN_EINVAL, p.pos, "empty entry (use '<key> [ASC|DESC]')");
        }
        if (rc == CAIRN_OK)
            rc = parse_ident(&p, &id, true);
        bool desc = false;
        if (rc == CAIRN_OK) {
            skip_ws(&p);
            if (keyword(&p, "DESC"))
                desc = true;
            else
                (void)keyword(&p, "ASC");
            skip_ws(&p);
            if (p.pos < p.len)
                rc = fail_got(&p, p.pos, "expected ASC or DESC after '%s'", id.text);
        }
        if (rc == CAIRN_OK)
            gen_order(&p, &id, desc, k, joins, &user);
        cn_arena_free(p.mem);
        cn_buf_release(&where);
        if (rc != CAIRN_OK)
            goto done;
    }
    if (user.len) {
        cn_buf_append(order, user.data, user.len);
        cn_buf_puts(order, ", ");
    }
    if (t == CN_FILTER_RUNS)
        cn_buf_puts(order, "r.start_time DESC, r.run_uuid ASC");
    else if (n == 0)
        cn_buf_puts(order, "e.creation_time DESC, e.experiment_id ASC");
    else
        cn_buf_puts(order, "e.experiment_id ASC");
done:
    cn_buf_release(&user);
    if (rc != CAIRN_OK) {
        joins->sql.len = joins_len;
        if (joins->sql.data)
            joins->sql.data[joins_len] = '\0';
        joins->n_args = joins_args;
        order->len = order_len;
        if (order->data)
            order->data[order_len] = '\0';
    }
    return rc;
}
