/* SPDX-License-Identifier: MIT */
/* fastdecode.c - the fast path of POST /invocations for the bodies numeric models get most:
 * {"inputs": [[x, ...], ...]}, {"instances": [[x, ...], ...]} and {"dataframe_split":
 * {"columns": [...], "data": [[x, ...], ...]}} with every value a JSON number. One pass over
 * the bytes parses each number straight into a row-major buffer (Clinger's fast path, else
 * strtod on the token: the doubles jansson's json_loadb gives), with no tree of json_t.
 * Anything outside that subset (another key, a null, NaN, a string, an escape in a name, a
 * categorical feature, a missing or repeated column, a row of another length, a number
 * jansson refuses) is left to the full decoder (decode.c), which accepts or refuses it with
 * its messages: the fast path never refuses, so both give the same answer to every body
 * (fuzz/fuzz_serve_fast.c checks it). */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "serving/decode.h"
#include "base/xmalloc.h"
#include "base/banned.h"

typedef struct fp {
    const char *p, *end;
    double *vals; /* row-major */
    size_t n_vals, cap_vals;
    size_t width; /* values per row (of the first row) */
    size_t n_rows;
} fp;

static void ws(fp *f)
{
    while (f->p < f->end && (*f->p == ' ' || *f->p == '\t' || *f->p == '\n' || *f->p == '\r'))
        f->p++;
}

static bool lit(fp *f, char c)
{
    ws(f);
    if (f->p < f->end && *f->p == c) {
        f->p++;
        return true;
    }
    return false;
}

/* A string of printable ASCII without escapes (anything else: the full decoder). */
static bool plain_string(fp *f, const char **s, size_t *n)
{
    if (!lit(f, '"'))
        return false;
    const char *start = f->p;
    while (f->p < f->end && *f->p != '"') {
        unsigned char c = (unsigned char)*f->p;
        if (c < 0x20 || c >= 0x80 || c == '\\')
            return false;
        f->p++;
    }
    if (f->p == f->end)
        return false;
    *s = start;
    *n = (size_t)(f->p - start);
    f->p++;
    return true;
}

static bool is_key(const char *s, size_t n, const char *want)
{
    return n == strlen(want) && memcmp(s, want, n) == 0;
}

static const double pow10_exact[23] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                       1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                       1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

/* A JSON number (RFC 8259's grammar exactly) as the double strtod makes of it; false when the
 * bytes are not one or it overflows (jansson refuses those: "real number overflow"). */
static bool number(fp *f, double *out)
{
    ws(f);
    const char *s = f->p, *p = f->p, *end = f->end;
    bool neg = p < end && *p == '-';
    if (neg)
        p++;
    if (p == end)
        return false;
    uint64_t m = 0;
    int digits = 0; /* significant digits in m */
    bool exact = true;
    long e10 = 0;
    if (*p == '0') {
        p++;
    } else if (*p >= '1' && *p <= '9') {
        for (; p < end && *p >= '0' && *p <= '9'; p++) {
            if (digits < 19) {
                m = m * 10 + (uint64_t)(*p - '0');
                digits++;
            } else {
                exact = false;
            }
        }
    } else {
        return false;
    }
    if (p < end && *p == '.') {
        p++;
        if (p == end || *p < '0' || *p > '9')
            return false;
        for (; p < end && *p >= '0' && *p <= '9'; p++) {
            if (m == 0 && *p == '0') {
                e10--; /* leading zeros of a fraction: not significant */
            } else if (digits < 19) {
                m = m * 10 + (uint64_t)(*p - '0');
                digits++;
                e10--;
            } else {
                exact = false;
            }
        }
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        p++;
        bool eneg = false;
        if (p < end && (*p == '+' || *p == '-'))
            eneg = *p++ == '-';
        if (p == end || *p < '0' || *p > '9')
            return false;
        long x = 0;
        for (; p < end && *p >= '0' && *p <= '9'; p++)
            if (x < 100000)
                x = x * 10 + (*p - '0');
        e10 += eneg ? -x : x;
    }
    f->p = p;
    if (exact && m <= (UINT64_C(1) << 53) && e10 >= -22 && e10 <= 22) {
        /* Both operands exact doubles: one correctly rounded operation, as strtod. */
        double v = (double)m;
        v = e10 >= 0 ? v * pow10_exact[e10] : v / pow10_exact[-e10];
        *out = neg ? -v : v;
        return true;
    }
    size_t n = (size_t)(p - s);
    char small[64];
    char *tok = n < sizeof small ? small : cn_xmalloc(n + 1);
    memcpy(tok, s, n);
    tok[n] = '\0';
    errno = 0;
    double v = strtod(tok, NULL);
    bool overflow = errno == ERANGE && (v == HUGE_VAL || v == -HUGE_VAL);
    if (tok != small)
        free(tok);
    if (overflow)
        return false;
    *out = v;
    return true;
}

/* [[x, ...], ...]: at least one row, every row of the first row's length. */
static bool rows(fp *f)
{
    if (!lit(f, '['))
        return false;
    do {
        if (!lit(f, '['))
            return false;
        const char *row_start = f->p;
        size_t n = 0;
        do {
            if (f->n_vals == f->cap_vals) {
                f->cap_vals = f->cap_vals ? 2 * f->cap_vals : 1024;
                f->vals = cn_xrealloc(f->vals, f->cap_vals * sizeof *f->vals);
            }
            if (!number(f, &f->vals[f->n_vals]))
                return false;
            f->n_vals++;
            n++;
        } while (lit(f, ','));
        if (!lit(f, ']'))
            return false;
        if (f->n_rows == 0) {
            f->width = n;
            /* Room for as many rows as the rest of the body holds rows like this one. */
            size_t row_bytes = (size_t)(f->p - row_start), left = (size_t)(f->end - f->p);
            size_t want = n * (left / (row_bytes ? row_bytes : 1) + 2);
            if (want > f->cap_vals) {
                f->cap_vals = want + want / 8;
                f->vals = cn_xrealloc(f->vals, f->cap_vals * sizeof *f->vals);
            }
        } else if (n != f->width) {
            return false;
        }
        f->n_rows++;
    } while (lit(f, ','));
    return lit(f, ']');
}

bool msv_decode_fast(cairn_ctx *ctx, const msv_schema *s, const char *body, size_t len,
                     cairn_table **out, msv_format *fmt)
{
    *out = NULL;
    size_t nf = s->n_features;
    if (nf == 0)
        return false;
    for (size_t i = 0; i < nf; i++)
        if (s->types[i] != CAIRN_COL_NUMERIC)
            return false;
    fp f = {.p = body, .end = body + len};
    int *col_of = NULL;      /* per feature: its column in the rows */
    int *feat_of_col = NULL; /* dataframe_split's columns: feature or -1 */
    size_t n_cols = 0;
    bool ok = false, named = false;
    const char *key;
    size_t klen;
    if (!lit(&f, '{') || !plain_string(&f, &key, &klen) || !lit(&f, ':'))
        goto done;
    if (is_key(key, klen, "inputs") || is_key(key, klen, "instances")) {
        *fmt = klen == 6 ? MSV_FMT_INPUTS : MSV_FMT_INSTANCES;
        if (!rows(&f))
            goto done;
    } else if (is_key(key, klen, "dataframe_split")) {
        *fmt = MSV_FMT_SPLIT;
        if (!lit(&f, '{'))
            goto done;
        bool have_data = false;
        do {
            if (!plain_string(&f, &key, &klen) || !lit(&f, ':'))
                goto done;
            if (is_key(key, klen, "data") && !have_data) {
                have_data = true;
                if (!rows(&f))
                    goto done;
            } else if (is_key(key, klen, "columns") && !named) {
                named = true;
                if (!lit(&f, '['))
                    goto done;
                size_t cap = 0;
                do {
                    const char *name;
                    size_t nlen;
                    if (!plain_string(&f, &name, &nlen))
                        goto done;
                    if (n_cols == cap) {
                        cap = cap ? 2 * cap : 64;
                        feat_of_col = cn_xrealloc(feat_of_col, cap * sizeof *feat_of_col);
                    }
                    size_t fi;
                    feat_of_col[n_cols++] = cn_map_get(&s->by_name, name, nlen, &fi) ? (int)fi : -1;
                } while (lit(&f, ','));
                if (!lit(&f, ']'))
                    goto done;
            } else {
                goto done; /* "index", a repeated key, ...: the full decoder */
            }
        } while (lit(&f, ','));
        if (!lit(&f, '}') || !have_data)
            goto done;
    } else {
        goto done;
    }
    if (!lit(&f, '}'))
        goto done;
    ws(&f);
    if (f.p != f.end)
        goto done;
    /* Every feature exactly once among the columns. */
    col_of = cn_xmalloc(nf * sizeof *col_of);
    for (size_t i = 0; i < nf; i++)
        col_of[i] = named ? -1 : (int)i;
    if (named) {
        if (f.width != n_cols)
            goto done;
        for (size_t c = 0; c < n_cols; c++) {
            int fi = feat_of_col[c];
            if (fi < 0)
                continue;
            if (col_of[fi] >= 0)
                goto done;
            col_of[fi] = (int)c;
        }
        for (size_t i = 0; i < nf; i++)
            if (col_of[i] < 0)
                goto done;
    } else if (f.width != nf) {
        goto done;
    }
    cairn_table *t = cairn_table_new(f.n_rows);
    double *col = cn_xmalloc(f.n_rows * sizeof *col);
    ok = true;
    for (size_t i = 0; i < nf && ok; i++) {
        const double *v = f.vals + col_of[i];
        for (size_t r = 0; r < f.n_rows; r++)
            col[r] = v[r * f.width];
        ok = cairn_table_add_numeric(ctx, t, s->names[i], col) == CAIRN_OK;
    }
    free(col);
    if (ok)
        *out = t;
    else
        cairn_table_free(t);
done:
    free(f.vals);
    free(col_of);
    free(feat_of_col);
    return ok;
}
