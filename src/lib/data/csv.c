/* SPDX-License-Identifier: MIT */
/* csv.c - the RFC 4180 CSV reader: one tokenising pass over a memory-mapped file straight into
 * column arrays, with an exact fast path for decimal numbers. Inferred columns that turn out
 * not to be numeric are re-read as categorical in a second pass. Called by learners, `cairn
 * data` and the model server's CSV input. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include "cairn/data.h"
#include "core/core.h"
#include "data/data_internal.h"
#include "base/fs.h"
#include "base/str.h"
#include "base/xmalloc.h"
#include "base/map.h"
#include "base/banned.h"

#define MAX_COLS 100000
#define DEFAULT_MAX_BYTES ((size_t)4 << 30)

/* ---- numbers ---- */

static const double pow10_exact[23] = {
    1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
    1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
};

static bool is_blank(char c)
{
    return c == ' ' || c == '\t';
}

static bool slow_double(const char *p, size_t len, double *out)
{
    /* strtod also takes hex and leading junk we do not want: allow only decimal forms. */
    const char *q = p;
    size_t n = len;
    if (n && (*q == '+' || *q == '-')) {
        q++;
        n--;
    }
    if (n == 0)
        return false;
    if (!((*q >= '0' && *q <= '9') || *q == '.')) {
        bool word = (n == 3 && strncasecmp(q, "inf", 3) == 0) ||
                    (n == 8 && strncasecmp(q, "infinity", 8) == 0) ||
                    (n == 3 && strncasecmp(q, "nan", 3) == 0);
        if (!word)
            return false;
    } else if (n > 1 && q[0] == '0' && (q[1] == 'x' || q[1] == 'X')) {
        return false;
    }
    char small[128];
    char *tmp = len < sizeof small ? small : cn_xmalloc(len + 1);
    memcpy(tmp, p, len);
    tmp[len] = '\0';
    char *end;
    errno = 0;
    double v = strtod(tmp, &end);
    bool ok = end == tmp + len && !(errno == ERANGE && isinf(v));
    if (tmp != small)
        free(tmp);
    if (ok)
        *out = v;
    return ok;
}

bool cn_csv_parse_double(const char *p, size_t len, double *out)
{
    while (len && is_blank(*p)) {
        p++;
        len--;
    }
    while (len && is_blank(p[len - 1]))
        len--;
    if (len == 0)
        return false;
    const char *s = p, *end = p + len;
    bool neg = false;
    if (*s == '-' || *s == '+') {
        neg = *s == '-';
        s++;
    }
    uint64_t mant = 0;
    int n_sig = 0, n_digits = 0;
    long exp10 = 0;
    while (s < end && *s >= '0' && *s <= '9') {
        if (mant || *s != '0') {
            if (n_sig < 19)
                mant = mant * 10 + (uint64_t)(*s - '0');
            else
                exp10++;
            n_sig++;
        }
        n_digits++;
        s++;
    }
    if (s < end && *s == '.') {
        s++;
        while (s < end && *s >= '0' && *s <= '9') {
            if (mant || *s != '0') {
                if (n_sig < 19) {
                    mant = mant * 10 + (uint64_t)(*s - '0');
                    exp10--;
                }
                n_sig++;
            } else {
                exp10--;
            }
            n_digits++;
            s++;
        }
    }
    if (n_digits == 0)
        return slow_double(p, len, out);
    if (s < end && (*s == 'e' || *s == 'E')) {
        s++;
        bool eneg = false;
        if (s < end && (*s == '-' || *s == '+')) {
            eneg = *s == '-';
            s++;
        }
        if (s == end || *s < '0' || *s > '9')
            return false;
        long e = 0;
        while (s < end && *s >= '0' && *s <= '9') {
            if (e < 100000)
                e = e * 10 + (*s - '0');
            s++;
        }
        exp10 += eneg ? -e : e;
    }
    if (s != end)
        return false;
    if (mant == 0) {
        *out = neg ? -0.0 : 0.0;
        return true;
    }
    /* Clinger's fast path: mant and 10^|e| are exact doubles, so one rounding gives the
     * correctly rounded result, as strtod does. */
    if (n_sig <= 19 && mant <= (UINT64_C(1) << 53) && exp10 >= -22 && exp10 <= 22) {
        double v = (double)mant;
        v = exp10 < 0 ? v / pow10_exact[-exp10] : v * pow10_exact[exp10];
        *out = neg ? -v : v;
        return true;
    }
    return slow_double(p, len, out);
}

bool cn_csv_is_missing(const char *p, size_t len)
{
    while (len && is_blank(*p)) {
        p++;
        len--;
    }
    while (len && is_blank(p[len - 1]))
        len--;
    switch (len) {
    case 0: return true;
    case 1: return p[0] == '?';
    case 2: return strncasecmp(p, "na", 2) == 0;
    case 3: return strncasecmp(p, "n/a", 3) == 0 || strncasecmp(p, "nan", 3) == 0;
    case 4: return strncasecmp(p, "null", 4) == 0;
    default: return false;
    }
}

/* ---- columns being filled ---- */

enum { K_INFER, K_NUM, K_CAT, K_SKIP };

typedef struct colstate {
    int kind;
    bool declared;
    bool flipped; /* inferred numeric, then a non-number: re-read as categorical */
    double *num;
    int32_t *cat;
    /* categorical levels: strings in the table arena, a hash table of code + 1 */
    const char **levels;
    size_t *level_len;
    size_t n_levels, cap_levels;
    uint32_t *slots;
    size_t n_slots;
} colstate;

enum { K_DECLARED_NUM = 1, K_DECLARED_CAT = 2 }; /* bits of a column's declaration */

typedef struct parser {
    cairn_ctx *ctx;
    const char *name; /* file name for messages */
    const char *p, *end, *start;
    char delim;
    size_t line;             /* physical line of the current position, 1-based */
    unsigned char stop[256]; /* 1 for the bytes that end an unquoted field */
    cn_buf scratch;
    size_t n_cols;
    char **names;
    colstate *cols;
    size_t n_rows, cap_rows;
    cairn_table *table; /* the arena for levels */
} parser;

static uint64_t hash_bytes(const char *p, size_t n)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)p[i];
        h *= 1099511628211ull;
    }
    return h;
}

static void grow_slots(colstate *c)
{
    size_t n = c->n_slots ? c->n_slots * 2 : 64;
    uint32_t *slots = cn_xcalloc(n, sizeof *slots);
    for (size_t i = 0; i < c->n_levels; i++) {
        size_t j = hash_bytes(c->levels[i], c->level_len[i]) & (n - 1);
        while (slots[j])
            j = (j + 1) & (n - 1);
        slots[j] = (uint32_t)i + 1;
    }
    free(c->slots);
    c->slots = slots;
    c->n_slots = n;
}

static int32_t intern(parser *ps, colstate *c, const char *p, size_t n)
{
    if ((c->n_levels + 1) * 2 > c->n_slots)
        grow_slots(c);
    size_t j = hash_bytes(p, n) & (c->n_slots - 1);
    while (c->slots[j]) {
        uint32_t k = c->slots[j] - 1;
        if (c->level_len[k] == n && memcmp(c->levels[k], p, n) == 0)
            return (int32_t)k;
        j = (j + 1) & (c->n_slots - 1);
    }
    if (c->n_levels == c->cap_levels) {
        c->cap_levels = c->cap_levels ? c->cap_levels * 2 : 16;
        c->levels = cn_xrealloc(c->levels, c->cap_levels * sizeof *c->levels);
        c->level_len = cn_xrealloc(c->level_len, c->cap_levels * sizeof *c->level_len);
    }
    c->levels[c->n_levels] = cn_arena_strndup(cn_table_arena(ps->table), p, n);
    c->level_len[c->n_levels] = n;
    c->slots[j] = (uint32_t)c->n_levels + 1;
    return (int32_t)c->n_levels++;
}

static void colstate_release(colstate *c)
{
    free(c->num);
    free(c->cat);
    free(c->levels);
    free(c->level_len);
    free(c->slots);
    memset(c, 0, sizeof *c);
}

/* ---- tokenising ---- */

enum { END_FIELD, END_RECORD, END_INPUT };

/* "column 'age'" for a known column, "column 7" (1-based) past the header's count. */
static const char *col_label(parser *ps, size_t idx, char *buf, size_t size)
{
    if (ps->names && idx < ps->n_cols)
        snprintf(buf, size, "column '%s'", ps->names[idx]);
    else
        snprintf(buf, size, "column %zu", idx + 1);
    return buf;
}

/* A field's text for messages: at most 40 bytes, control characters as '?'. */
static void excerpt(const char *p, size_t n, char out[48])
{
    size_t k = n > 40 ? 40 : n;
    for (size_t i = 0; i < k; i++)
        out[i] = (unsigned char)p[i] < 0x20 ? '?' : p[i];
    if (n > 40) {
        memcpy(out + k, "...", 3);
        k += 3;
    }
    out[k] = '\0';
}

/* Reads one field at ps->p. On success *fp and *flen hold its text (unescaped; may point into
 * ps->scratch), *quoted says whether it was quoted, *how how it ended. */
static cairn_status read_field(parser *ps, size_t col, const char **fp, size_t *flen, bool *quoted,
                               int *how)
{
    const char *p = ps->p, *end = ps->end;
    char d = ps->delim;
    *quoted = false;
    if (p < end && *p == '"') {
        size_t open_line = ps->line;
        const char *s = ++p;
        bool escaped = false;
        for (;;) {
            const char *q = memchr(p, '"', (size_t)(end - p));
            if (!q) {
                char lb[300];
                return cn_fail(ps->ctx, CAIRN_EINVAL, "%s line %zu %s: unterminated quoted field",
                               ps->name, open_line, col_label(ps, col, lb, sizeof lb));
            }
            for (const char *nl = memchr(p, '\n', (size_t)(q - p)); nl;
                 nl = memchr(nl + 1, '\n', (size_t)(q - nl - 1)))
                ps->line++;
            if (q + 1 < end && q[1] == '"') {
                escaped = true;
                p = q + 2;
                continue;
            }
            *quoted = true;
            if (!escaped) {
                *fp = s;
                *flen = (size_t)(q - s);
            } else {
                cn_buf_clear(&ps->scratch);
                for (const char *r = s; r < q; r++) {
                    cn_buf_putc(&ps->scratch, *r);
                    if (*r == '"')
                        r++;
                }
                *fp = ps->scratch.data;
                *flen = ps->scratch.len;
            }
            p = q + 1;
            break;
        }
        if (p < end && *p != d && *p != '\n' && *p != '\r') {
            char lb[300];
            return cn_fail(ps->ctx, CAIRN_EINVAL,
                           "%s line %zu %s: unexpected '%c' after a closing quote; a quote inside "
                           "a quoted field is written \"\"",
                           ps->name, ps->line, col_label(ps, col, lb, sizeof lb),
                           (unsigned char)*p < 0x20 ? '?' : *p);
        }
    } else {
        const char *s = p;
        const unsigned char *stop = ps->stop;
        while (p < end && !stop[(unsigned char)*p])
            p++;
        *fp = s;
        *flen = (size_t)(p - s);
    }
    if (p == end) {
        *how = END_INPUT;
    } else if (*p == d) {
        *how = END_FIELD;
        p++;
    } else {
        *how = END_RECORD;
        if (*p == '\r' && p + 1 < end && p[1] == '\n')
            p++;
        p++;
        ps->line++;
    }
    ps->p = p;
    return CAIRN_OK;
}

/* Reads the header row (or, with no_header, counts the first row's fields). */
static cairn_status read_header(parser *ps, bool no_header)
{
    const char *p0 = ps->p;
    size_t cap = 0;
    int how = END_FIELD;
    ps->n_cols = 0;
    while (how == END_FIELD) {
        const char *f;
        size_t n;
        bool quoted;
        cairn_status rc = read_field(ps, ps->n_cols, &f, &n, &quoted, &how);
        if (rc != CAIRN_OK)
            return rc;
        if (ps->n_cols == MAX_COLS)
            return cn_fail(ps->ctx, CAIRN_ELIMIT, "%s line 1: more than %d columns", ps->name,
                           MAX_COLS);
        if (ps->n_cols == cap) {
            cap = cap ? cap * 2 : 16;
            ps->names = cn_xrealloc(ps->names, cap * sizeof *ps->names);
        }
        if (no_header || n == 0)
            ps->names[ps->n_cols] = cn_asprintf("col%zu", ps->n_cols + 1);
        else
            ps->names[ps->n_cols] = cn_xstrndup(f, n);
        ps->n_cols++;
    }
    if (no_header) {
        ps->p = p0;
        ps->line = 1;
    }
    return CAIRN_OK;
}

/* Row capacity doubles; the first guess is capped by the rows the rest of the input can hold
 * (each row takes at least n_cols bytes), so a wide header on a short file stays cheap. */
static void grow_rows(parser *ps)
{
    size_t fit = (size_t)(ps->end - ps->p) / (ps->n_cols ? ps->n_cols : 1) + 1;
    size_t cap = ps->cap_rows ? ps->cap_rows * 2 : fit < 1024 ? fit : 1024;
    for (size_t c = 0; c < ps->n_cols; c++) {
        colstate *cs = &ps->cols[c];
        if (cs->kind == K_NUM || cs->kind == K_INFER)
            cs->num = cn_xrealloc(cs->num, cap * sizeof(double));
        else if (cs->kind == K_CAT)
            cs->cat = cn_xrealloc(cs->cat, cap * sizeof(int32_t));
    }
    ps->cap_rows = cap;
}

static cairn_status store(parser *ps, size_t c, const char *f, size_t n, size_t line)
{
    colstate *cs = &ps->cols[c];
    size_t r = ps->n_rows;
    switch (cs->kind) {
    case K_NUM:
    case K_INFER: {
        double v;
        if (n == 0) {
            cs->num[r] = NAN;
        } else if (cn_csv_parse_double(f, n, &v)) {
            cs->num[r] = v;
        } else if (cn_csv_is_missing(f, n)) {
            cs->num[r] = NAN;
        } else if (cs->kind == K_NUM) {
            char ex[48];
            excerpt(f, n, ex);
            return cn_fail(ps->ctx, CAIRN_EINVAL, "%s line %zu column '%s': '%s' is not a number",
                           ps->name, line, ps->names[c], ex);
        } else {
            cs->flipped = true;
            cs->kind = K_SKIP;
            free(cs->num);
            cs->num = NULL;
        }
        break;
    }
    case K_CAT: cs->cat[r] = cn_csv_is_missing(f, n) ? -1 : intern(ps, cs, f, n); break;
    default: break;
    }
    return CAIRN_OK;
}

static cairn_status read_rows(parser *ps)
{
    while (ps->p < ps->end) {
        if (ps->n_rows == ps->cap_rows)
            grow_rows(ps);
        size_t rec_line = ps->line, got = 0;
        int how = END_FIELD;
        bool blank = false;
        while (how == END_FIELD) {
            const char *f;
            size_t n;
            bool quoted;
            size_t field_line = ps->line;
            cairn_status rc = read_field(ps, got, &f, &n, &quoted, &how);
            if (rc != CAIRN_OK)
                return rc;
            if (got == 0 && how != END_FIELD && n == 0 && !quoted && ps->n_cols > 1) {
                blank = true;
                break;
            }
            if (got < ps->n_cols) {
                rc = store(ps, got, f, n, field_line);
                if (rc != CAIRN_OK)
                    return rc;
            }
            got++;
        }
        if (blank)
            continue;
        if (got != ps->n_cols)
            return cn_fail(ps->ctx, CAIRN_EINVAL, "%s line %zu: expected %zu fields, got %zu",
                           ps->name, rec_line, ps->n_cols, got);
        ps->n_rows++;
    }
    return CAIRN_OK;
}

/* Marks in flags[c] (with bit) the header columns a declared list names; returns the first
 * name not in the header, or NULL. names: header name -> column index. */
static const char *const *mark_declared(const cn_map *names, const char *const *list, size_t n,
                                        unsigned char *flags, unsigned char bit)
{
    for (size_t i = 0; i < n; i++) {
        size_t c;
        if (!list[i] || !cn_map_get(names, list[i], strlen(list[i]), &c))
            return &list[i];
        flags[c] |= bit;
    }
    return NULL;
}

static void parser_reset_cols(parser *ps)
{
    for (size_t c = 0; c < ps->n_cols; c++) {
        bool flipped = ps->cols[c].flipped, declared = ps->cols[c].declared;
        int kind = ps->cols[c].kind;
        colstate_release(&ps->cols[c]);
        ps->cols[c].declared = declared;
        ps->cols[c].kind = flipped ? K_CAT : kind;
    }
    ps->n_rows = 0;
    ps->cap_rows = 0;
}

/* Sets each column's kind from the declared lists (cs->kind, cs->declared), checked through a
 * map of the header so 100k names cost O(n). */
static cairn_status set_declared_kinds(parser *ps, const cairn_csv_opts *opts)
{
    cn_map names = CN_MAP_INIT;
    for (size_t c = 0; c < ps->n_cols; c++)
        cn_map_add(&names, ps->names[c], strlen(ps->names[c]), c, NULL);
    unsigned char *declared = cn_xcalloc(ps->n_cols ? ps->n_cols : 1, 1);
    const char *const *bad =
        mark_declared(&names, opts->numeric, opts->n_numeric, declared, K_DECLARED_NUM);
    if (!bad)
        bad =
            mark_declared(&names, opts->categorical, opts->n_categorical, declared, K_DECLARED_CAT);
    cn_map_release(&names);
    cairn_status rc = CAIRN_OK;
    if (bad)
        rc = cn_fail(ps->ctx, CAIRN_ENOTFOUND, "%s: declared column '%s' is not in the header",
                     ps->name, *bad ? *bad : "(null)");
    ps->cols = cn_xcalloc(ps->n_cols ? ps->n_cols : 1, sizeof *ps->cols);
    for (size_t c = 0; rc == CAIRN_OK && c < ps->n_cols; c++) {
        bool num = declared[c] & K_DECLARED_NUM, cat = declared[c] & K_DECLARED_CAT;
        if (num && cat)
            rc = cn_fail(ps->ctx, CAIRN_EINVAL,
                         "%s: column '%s' is declared both numeric and categorical", ps->name,
                         ps->names[c]);
        ps->cols[c].declared = num || cat;
        ps->cols[c].kind = num ? K_NUM : cat ? K_CAT : K_INFER;
    }
    free(declared);
    return rc;
}

/* Moves the parsed columns' arrays into t (shrunk to the row count). */
static void move_columns(parser *ps, cairn_table *t)
{
    t->n_rows = ps->n_rows;
    for (size_t c = 0; c < ps->n_cols; c++) {
        colstate *cs = &ps->cols[c];
        cairn_column *col = cn_table_push_col(t, ps->names[c], strlen(ps->names[c]));
        size_t n = ps->n_rows ? ps->n_rows : 1;
        if (cs->kind == K_CAT) {
            col->type = CAIRN_COL_CATEGORICAL;
            col->cat =
                cs->cat ? cn_xrealloc(cs->cat, n * sizeof(int32_t)) : cn_xmalloc(sizeof(int32_t));
            cs->cat = NULL;
            col->levels = cs->levels
                              ? cn_xrealloc((void *)cs->levels,
                                            (cs->n_levels ? cs->n_levels : 1) * sizeof(char *))
                              : cn_xcalloc(1, sizeof(char *));
            cs->levels = NULL;
            col->n_levels = cs->n_levels;
        } else {
            col->type = CAIRN_COL_NUMERIC;
            col->num =
                cs->num ? cn_xrealloc(cs->num, n * sizeof(double)) : cn_xmalloc(sizeof(double));
            cs->num = NULL;
        }
    }
}

static cairn_status parse(cairn_ctx *ctx, const char *name, const char *text, size_t len,
                          const cairn_csv_opts *opts, cairn_table **out)
{
    cairn_csv_opts defaults = CAIRN_CSV_OPTS_INIT;
    if (!opts)
        opts = &defaults;
    parser ps = {0};
    cairn_status rc = CAIRN_OK;
    cairn_table *t = NULL;
    ps.ctx = ctx;
    ps.name = name;
    ps.delim = opts->delimiter ? opts->delimiter : ',';
    ps.start = text;
    ps.p = text;
    ps.end = text + len;
    ps.line = 1;
    ps.stop[(unsigned char)ps.delim] = ps.stop['\n'] = ps.stop['\r'] = 1;
    ps.table = t = cn_table_alloc(0);

    if (ps.delim == '"' || ps.delim == '\n' || ps.delim == '\r') {
        rc = cn_fail(ctx, CAIRN_EINVAL, "delimiter '%c' cannot be a quote or a newline",
                     ps.delim == '"' ? '"' : '?');
        goto done;
    }
    if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0)
        ps.p += 3;
    if (ps.p == ps.end) {
        rc = cn_fail(ctx, CAIRN_EINVAL, "%s: empty input: a CSV needs a header row", name);
        goto done;
    }
    rc = read_header(&ps, opts->no_header);
    if (rc != CAIRN_OK)
        goto done;
    const char *rows_start = ps.p;
    size_t rows_line = ps.line;
    rc = set_declared_kinds(&ps, opts);
    if (rc != CAIRN_OK)
        goto done;
    for (int pass = 0; pass < 2; pass++) {
        rc = read_rows(&ps);
        if (rc != CAIRN_OK)
            goto done;
        bool again = false;
        for (size_t c = 0; c < ps.n_cols; c++)
            again = again || ps.cols[c].flipped;
        if (!again)
            break;
        CN_ASSERT(pass == 0);
        parser_reset_cols(&ps);
        ps.p = rows_start;
        ps.line = rows_line;
    }
    move_columns(&ps, t);
    *out = t;
    t = NULL;
done:
    for (size_t c = 0; ps.cols && c < ps.n_cols; c++)
        colstate_release(&ps.cols[c]);
    free(ps.cols);
    for (size_t c = 0; ps.names && c < ps.n_cols; c++)
        free(ps.names[c]);
    free(ps.names);
    cn_buf_release(&ps.scratch);
    cairn_table_free(t);
    return rc;
}

cairn_status cairn_csv_parse(cairn_ctx *ctx, const char *text, size_t len,
                             const cairn_csv_opts *opts, cairn_table **out)
{
    if (!out)
        return cn_fail(ctx, CAIRN_EINVAL, "cairn_csv_parse: out is NULL");
    *out = NULL;
    if (!text && len)
        return cn_fail(ctx, CAIRN_EINVAL, "cairn_csv_parse: text is NULL");
    size_t max = opts && opts->max_bytes ? opts->max_bytes : DEFAULT_MAX_BYTES;
    if (len > max)
        return cn_fail(ctx, CAIRN_ELIMIT, "input: %zu bytes is over the limit of %zu", len, max);
    return parse(ctx, "input", text ? text : "", len, opts, out);
}

cairn_status cairn_csv_read(cairn_ctx *ctx, const char *path, const cairn_csv_opts *opts,
                            cairn_table **out)
{
    if (!out)
        return cn_fail(ctx, CAIRN_EINVAL, "cairn_csv_read: out is NULL");
    *out = NULL;
    if (!path)
        return cn_fail(ctx, CAIRN_EINVAL, "cairn_csv_read: path is NULL");
    size_t max = opts && opts->max_bytes ? opts->max_bytes : DEFAULT_MAX_BYTES;
    int fd = cn_fs_open_regular(path, O_RDONLY);
    if (fd < 0 && errno == CN_FS_ENOTREG)
        return cn_fail(ctx, CAIRN_EINVAL, "'%s' is not a regular file", path);
    if (fd < 0)
        return cn_fail_errno(ctx, errno == ENOENT ? CAIRN_ENOTFOUND : CAIRN_EIO, "cannot open '%s'",
                             path);
    struct stat st;
    if (fstat(fd, &st) != 0) {
        cairn_status rc = cn_fail_errno(ctx, CAIRN_EIO, "cannot stat '%s'", path);
        close(fd);
        return rc;
    }
    if ((uint64_t)st.st_size > max) {
        close(fd);
        return cn_fail(ctx, CAIRN_ELIMIT, "'%s': %lld bytes is over the limit of %zu bytes", path,
                       (long long)st.st_size, max);
    }
    size_t len = (size_t)st.st_size;
    if (len == 0) {
        close(fd);
        return parse(ctx, path, "", 0, opts, out);
    }
    void *map = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
    if (map == MAP_FAILED) {
        cairn_status rc = cn_fail_errno(ctx, CAIRN_EIO, "cannot map '%s'", path);
        close(fd);
        return rc;
    }
    close(fd);
    (void)madvise(map, len, MADV_SEQUENTIAL);
    cairn_status rc = parse(ctx, path, map, len, opts, out);
    munmap(map, len);
    return rc;
}
