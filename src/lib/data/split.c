/* SPDX-License-Identifier: MIT */
/* data_split.c - train/validation/test splits (random, stratified, grouped, time-ordered)
 * under a seed, and their index files: one 0-based row index a line, sorted, with SHA-256
 * digests. Used by `cairn data split`, the pipeline's split stage and evaluation's guardrails. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cairn/data.h"
#include "core/core.h"
#include "data/data_internal.h"
#include "base/fs.h"
#include "base/rng.h"
#include "base/sha256.h"
#include "base/jsonw.h"
#include "base/str.h"
#include "base/xmalloc.h"
#include "base/banned.h"

#define INDEX_MAX_BYTES ((size_t)1 << 32)

static const char *const part_names[CAIRN_SPLIT_N_PARTS] = {"train", "val", "test"};
static const char *const method_names[] = {"random", "stratified", "group", "time"};

const char *cairn_split_part_name(cairn_split_part part)
{
    return (unsigned)part < CAIRN_SPLIT_N_PARTS ? part_names[part] : "?";
}

const char *cairn_split_method_name(cairn_split_method m)
{
    return (unsigned)m < CN_ARRAY_LEN(method_names) ? method_names[m] : "?";
}

bool cairn_split_method_parse(const char *name, cairn_split_method *out)
{
    for (size_t i = 0; name && i < CN_ARRAY_LEN(method_names); i++)
        if (strcmp(name, method_names[i]) == 0) {
            *out = (cairn_split_method)i;
            return true;
        }
    return false;
}

void cairn_split_free(cairn_split *s)
{
    if (!s)
        return;
    for (int p = 0; p < CAIRN_SPLIT_N_PARTS; p++)
        free(s->rows[p]);
    free(s);
}

char *cairn_index_format(const size_t *rows, size_t n)
{
    cn_buf b = CN_BUF_INIT;
    cn_buf_grow(&b, n * 8 + 1);
    cn_buf_append(&b, "", 0); /* NUL-terminated even when n is 0 */
    char num[24];
    for (size_t i = 0; i < n; i++) {
        int k = snprintf(num, sizeof num, "%zu\n", rows[i]);
        cn_buf_append(&b, num, (size_t)k);
    }
    return cn_buf_detach(&b);
}

static void part_digest(cairn_split *s, int p)
{
    char *text = cairn_index_format(s->rows[p], s->n[p]);
    cn_sha256_hex(text, strlen(text), s->sha256[p]);
    free(text);
}

/* Fills s's parts from part_of[row] (0, 1, 2), which keeps each part sorted. */
static cairn_split *from_assignment(const unsigned char *part_of, size_t n_rows)
{
    cairn_split *s = cn_xcalloc(1, sizeof *s);
    s->n_rows = n_rows;
    for (size_t r = 0; r < n_rows; r++)
        s->n[part_of[r]]++;
    for (int p = 0; p < CAIRN_SPLIT_N_PARTS; p++) {
        s->rows[p] = cn_xmalloc(s->n[p] ? s->n[p] * sizeof(size_t) : 1);
        s->n[p] = 0;
    }
    for (size_t r = 0; r < n_rows; r++)
        s->rows[part_of[r]][s->n[part_of[r]]++] = r;
    for (int p = 0; p < CAIRN_SPLIT_N_PARTS; p++)
        part_digest(s, p);
    return s;
}

static void shuffle(size_t *a, size_t n, cn_rng *rng)
{
    for (size_t i = n; i > 1; i--) {
        size_t j = (size_t)cn_rng_below(rng, i);
        size_t tmp = a[i - 1];
        a[i - 1] = a[j];
        a[j] = tmp;
    }
}

typedef struct keyed {
    double key;
    size_t row;
} keyed;

static int cmp_keyed(const void *a, const void *b)
{
    const keyed *x = a, *y = b;
    if (x->key != y->key)
        return x->key < y->key ? -1 : 1;
    return x->row < y->row ? -1 : x->row > y->row;
}

static int cmp_str_ptr(const void *a, const void *b)
{
    return strcmp(**(const char *const *const *)a, **(const char *const *const *)b);
}

/* Gives each row of col a class id in [0, *n_keys): categorical codes as they are, distinct
 * numeric values in ascending order. Missing values fail, naming the first row. */
static cairn_status row_keys(cairn_ctx *ctx, const cairn_table *t, const cairn_column *col,
                             const char *what, size_t **out, size_t *n_keys)
{
    size_t n = t->n_rows;
    size_t *key = cn_xmalloc(n ? n * sizeof *key : 1);
    *out = NULL;
    if (col->type == CAIRN_COL_CATEGORICAL) {
        for (size_t r = 0; r < n; r++) {
            if (col->cat[r] < 0) {
                free(key);
                return cn_fail(ctx, CAIRN_EINVAL,
                               "%s column '%s' row %zu: missing value; "
                               "drop or fill such rows first",
                               what, col->name, r);
            }
            key[r] = (size_t)col->cat[r];
        }
        *n_keys = col->n_levels;
    } else {
        keyed *k = cn_xmalloc(n ? n * sizeof *k : 1);
        for (size_t r = 0; r < n; r++) {
            if (isnan(col->num[r])) {
                free(k);
                free(key);
                return cn_fail(ctx, CAIRN_EINVAL,
                               "%s column '%s' row %zu: missing value; "
                               "drop or fill such rows first",
                               what, col->name, r);
            }
            k[r] = (keyed){col->num[r], r};
        }
        qsort(k, n, sizeof *k, cmp_keyed);
        size_t id = 0;
        for (size_t i = 0; i < n; i++) {
            if (i > 0 && k[i].key != k[i - 1].key)
                id++;
            key[k[i].row] = id;
        }
        *n_keys = n ? id + 1 : 0;
        free(k);
    }
    *out = key;
    return CAIRN_OK;
}

typedef struct alloc {
    double frac;
    size_t cls;
} alloc;

static int cmp_alloc(const void *a, const void *b)
{
    const alloc *x = a, *y = b;
    if (x->frac != y->frac)
        return x->frac > y->frac ? -1 : 1;
    return x->cls < y->cls ? -1 : x->cls > y->cls;
}

/* Largest-remainder allocation of total rows over classes of sizes size[], each class getting
 * floor or ceil of fraction * size (capped at cap[]). */
static void apportion(const size_t *size, const size_t *cap, size_t n_cls, double fraction,
                      size_t total, size_t *got)
{
    alloc *a = cn_xmalloc(n_cls ? n_cls * sizeof *a : 1);
    size_t sum = 0;
    for (size_t c = 0; c < n_cls; c++) {
        double quota = fraction * (double)size[c];
        got[c] = (size_t)floor(quota);
        if (got[c] > cap[c])
            got[c] = cap[c];
        sum += got[c];
        a[c] = (alloc){quota - floor(quota), c};
    }
    qsort(a, n_cls, sizeof *a, cmp_alloc);
    for (size_t i = 0; i < n_cls && sum < total; i++) {
        size_t c = a[i].cls;
        if (a[i].frac > 0 && got[c] < cap[c]) {
            got[c]++;
            sum++;
        }
    }
    free(a);
}

static size_t round_count(double fraction, size_t n)
{
    return (size_t)floor(fraction * (double)n + 0.5);
}

static cairn_status split_stratified(cairn_ctx *ctx, const cairn_table *t,
                                     const cairn_split_opts *o, cn_rng *rng, unsigned char *part_of)
{
    const cairn_column *col;
    size_t *key = NULL, n_cls = 0, n = t->n_rows;
    cairn_status rc = cn_table_need_col(ctx, t, o->label, "label", &col);
    if (rc == CAIRN_OK)
        rc = row_keys(ctx, t, col, "label", &key, &n_cls);
    if (rc != CAIRN_OK)
        return rc;
    size_t *size = cn_xcalloc(n_cls + 1, sizeof *size);
    size_t *start = cn_xcalloc(n_cls + 1, sizeof *start);
    size_t *n_test = cn_xcalloc(n_cls + 1, sizeof *n_test);
    size_t *n_val = cn_xcalloc(n_cls + 1, sizeof *n_val);
    size_t *cap = cn_xcalloc(n_cls + 1, sizeof *cap);
    size_t *order = cn_xmalloc(n ? n * sizeof *order : 1);
    for (size_t r = 0; r < n; r++)
        size[key[r]]++;
    for (size_t c = 1; c <= n_cls; c++)
        start[c] = start[c - 1] + size[c - 1];
    size_t *fill = cn_xcalloc(n_cls + 1, sizeof *fill);
    for (size_t r = 0; r < n; r++)
        order[start[key[r]] + fill[key[r]]++] = r;
    for (size_t c = 0; c < n_cls; c++) {
        shuffle(order + start[c], size[c], rng);
        cap[c] = size[c];
    }
    apportion(size, cap, n_cls, o->test_fraction, round_count(o->test_fraction, n), n_test);
    for (size_t c = 0; c < n_cls; c++)
        cap[c] = size[c] - n_test[c];
    apportion(size, cap, n_cls, o->val_fraction, round_count(o->val_fraction, n), n_val);
    for (size_t c = 0; c < n_cls; c++)
        for (size_t i = 0; i < size[c]; i++)
            part_of[order[start[c] + i]] = i < n_test[c]              ? CAIRN_SPLIT_TEST
                                           : i < n_test[c] + n_val[c] ? CAIRN_SPLIT_VAL
                                                                      : CAIRN_SPLIT_TRAIN;
    free(fill);
    free(order);
    free(cap);
    free(n_val);
    free(n_test);
    free(start);
    free(size);
    free(key);
    return CAIRN_OK;
}

static cairn_status split_group(cairn_ctx *ctx, const cairn_table *t, const cairn_split_opts *o,
                                cn_rng *rng, unsigned char *part_of)
{
    const cairn_column *col;
    size_t *key = NULL, n_groups = 0, n = t->n_rows;
    cairn_status rc = cn_table_need_col(ctx, t, o->group, "group", &col);
    if (rc == CAIRN_OK)
        rc = row_keys(ctx, t, col, "group", &key, &n_groups);
    if (rc != CAIRN_OK)
        return rc;
    size_t *size = cn_xcalloc(n_groups + 1, sizeof *size);
    unsigned char *gpart = cn_xcalloc(n_groups + 1, 1);
    size_t *order = cn_xmalloc((n_groups + 1) * sizeof *order);
    for (size_t r = 0; r < n; r++)
        size[key[r]]++;
    size_t m = 0;
    for (size_t g = 0; g < n_groups; g++)
        if (size[g])
            order[m++] = g;
    shuffle(order, m, rng);
    /* Greedy by rows: a group joins a part when that brings the part closer to its target. */
    size_t target[CAIRN_SPLIT_N_PARTS] = {0, round_count(o->val_fraction, n),
                                          round_count(o->test_fraction, n)};
    size_t got[CAIRN_SPLIT_N_PARTS] = {0};
    for (int p = CAIRN_SPLIT_TEST; p >= CAIRN_SPLIT_VAL; p--) {
        for (size_t i = 0; i < m; i++) {
            size_t g = order[i];
            if (gpart[g] != CAIRN_SPLIT_TRAIN || target[p] == 0)
                continue;
            double before = fabs((double)got[p] - (double)target[p]);
            double after = fabs((double)(got[p] + size[g]) - (double)target[p]);
            if (after < before) {
                gpart[g] = (unsigned char)p;
                got[p] += size[g];
            }
        }
    }
    got[CAIRN_SPLIT_TRAIN] = n - got[CAIRN_SPLIT_VAL] - got[CAIRN_SPLIT_TEST];
    for (int p = 0; p < CAIRN_SPLIT_N_PARTS; p++)
        if ((p == CAIRN_SPLIT_TRAIN || target[p] > 0) && got[p] == 0 && rc == CAIRN_OK)
            rc = cn_fail(ctx, CAIRN_EINVAL,
                         "group column '%s': its %zu groups cannot fill the "
                         "%s part (groups are too few or too large); change the fractions",
                         col->name, m, part_names[p]);
    for (size_t r = 0; r < n; r++)
        part_of[r] = gpart[key[r]];
    free(order);
    free(gpart);
    free(size);
    free(key);
    return rc;
}

static cairn_status split_time(cairn_ctx *ctx, const cairn_table *t, const cairn_split_opts *o,
                               unsigned char *part_of)
{
    const cairn_column *col;
    size_t n = t->n_rows;
    cairn_status rc = cn_table_need_col(ctx, t, o->time, "time", &col);
    if (rc != CAIRN_OK)
        return rc;
    double *rank = NULL;
    if (col->type == CAIRN_COL_CATEGORICAL) {
        /* Text times order as strings: ISO 8601 dates and timestamps sort correctly. */
        const char **ptr = cn_xmalloc((col->n_levels + 1) * sizeof *ptr);
        const char ***pp = cn_xmalloc((col->n_levels + 1) * sizeof *pp);
        for (size_t l = 0; l < col->n_levels; l++) {
            ptr[l] = col->levels[l];
            pp[l] = &ptr[l];
        }
        qsort(pp, col->n_levels, sizeof *pp, cmp_str_ptr);
        rank = cn_xmalloc((col->n_levels + 1) * sizeof *rank);
        for (size_t i = 0; i < col->n_levels; i++)
            rank[pp[i] - ptr] = (double)i;
        free(pp);
        free(ptr);
    }
    keyed *k = cn_xmalloc(n ? n * sizeof *k : 1);
    for (size_t r = 0; r < n; r++) {
        double v = col->type == CAIRN_COL_NUMERIC ? col->num[r]
                   : col->cat[r] < 0              ? NAN
                                                  : rank[col->cat[r]];
        if (isnan(v)) {
            free(k);
            free(rank);
            return cn_fail(ctx, CAIRN_EINVAL,
                           "time column '%s' row %zu: missing value; drop "
                           "or fill such rows first",
                           col->name, r);
        }
        k[r] = (keyed){v, r};
    }
    qsort(k, n, sizeof *k, cmp_keyed);
    size_t n_test = round_count(o->test_fraction, n), n_val = round_count(o->val_fraction, n);
    for (size_t i = 0; i < n; i++)
        part_of[k[i].row] = i >= n - n_test           ? CAIRN_SPLIT_TEST
                            : i >= n - n_test - n_val ? CAIRN_SPLIT_VAL
                                                      : CAIRN_SPLIT_TRAIN;
    free(k);
    free(rank);
    return CAIRN_OK;
}

cairn_status cairn_split_make(cairn_ctx *ctx, const cairn_table *t, const cairn_split_opts *opts,
                              cairn_split **out)
{
    cairn_split_opts defaults = CAIRN_SPLIT_OPTS_INIT;
    const cairn_split_opts *o = opts ? opts : &defaults;
    if (!out)
        return cn_fail(ctx, CAIRN_EINVAL, "cairn_split_make: out is NULL");
    *out = NULL;
    if (!t)
        return cn_fail(ctx, CAIRN_EINVAL, "cairn_split_make: table is NULL");
    if (!(o->test_fraction >= 0 && o->test_fraction < 1) ||
        !(o->val_fraction >= 0 && o->val_fraction < 1))
        return cn_fail(ctx, CAIRN_EINVAL, "split fractions must be in [0, 1): test %g, val %g",
                       o->test_fraction, o->val_fraction);
    if (o->test_fraction + o->val_fraction >= 1)
        return cn_fail(ctx, CAIRN_EINVAL,
                       "split fractions test %g + val %g leave no training "
                       "rows; their sum must be below 1",
                       o->test_fraction, o->val_fraction);
    if ((unsigned)o->method >= CN_ARRAY_LEN(method_names))
        return cn_fail(ctx, CAIRN_EINVAL, "unknown split method %d", (int)o->method);
    size_t n = t->n_rows;
    if (n == 0)
        return cn_fail(ctx, CAIRN_EINVAL, "cannot split a table with no rows");
    cn_rng rng;
    cn_rng_seed(&rng, o->seed);
    unsigned char *part_of = cn_xcalloc(n, 1);
    cairn_status rc = CAIRN_OK;
    switch (o->method) {
    case CAIRN_SPLIT_RANDOM: {
        size_t *perm = cn_xmalloc(n * sizeof *perm);
        for (size_t r = 0; r < n; r++)
            perm[r] = r;
        shuffle(perm, n, &rng);
        size_t n_test = round_count(o->test_fraction, n);
        size_t n_val = round_count(o->val_fraction, n);
        for (size_t i = 0; i < n; i++)
            part_of[perm[i]] = i < n_test           ? CAIRN_SPLIT_TEST
                               : i < n_test + n_val ? CAIRN_SPLIT_VAL
                                                    : CAIRN_SPLIT_TRAIN;
        free(perm);
        break;
    }
    case CAIRN_SPLIT_STRATIFIED: rc = split_stratified(ctx, t, o, &rng, part_of); break;
    case CAIRN_SPLIT_GROUP: rc = split_group(ctx, t, o, &rng, part_of); break;
    case CAIRN_SPLIT_TIME: rc = split_time(ctx, t, o, part_of); break;
    }
    if (rc == CAIRN_OK) {
        cairn_split *s = from_assignment(part_of, n);
        s->method = o->method;
        s->seed = o->seed;
        if (s->n[CAIRN_SPLIT_TRAIN] == 0) {
            cairn_split_free(s);
            rc = cn_fail(ctx, CAIRN_EINVAL,
                         "the split left no training rows out of %zu; lower "
                         "the test and validation fractions",
                         n);
        } else {
            *out = s;
        }
    }
    free(part_of);
    return rc;
}

/* ---- index files ---- */

cairn_status cairn_index_parse(cairn_ctx *ctx, const char *text, size_t len, size_t n_rows,
                               size_t **out, size_t *n_out)
{
    size_t *rows = NULL, n = 0, cap = 0, line = 1;
    const char *p = text, *end = text + len;
    *out = NULL;
    *n_out = 0;
    if (!text && len)
        return cn_fail(ctx, CAIRN_EINVAL, "index text is NULL");
    while (p < end) {
        const char *s = p;
        while (p < end && *p != '\n')
            p++;
        const char *e = p;
        if (e > s && e[-1] == '\r')
            e--;
        bool last = p == end;
        if (p < end)
            p++;
        if (e == s) {
            if (last)
                break;
            free(rows);
            return cn_fail(ctx, CAIRN_EINVAL,
                           "line %zu: empty line; an index file has one row "
                           "index a line",
                           line);
        }
        uint64_t v = 0;
        bool ok = (size_t)(e - s) <= 19;
        for (const char *q = s; ok && q < e; q++) {
            ok = *q >= '0' && *q <= '9';
            v = v * 10 + (uint64_t)(*q - '0');
        }
        if (!ok || v > SIZE_MAX / 2) {
            char ex[48];
            size_t k = (size_t)(e - s) > 40 ? 40 : (size_t)(e - s);
            for (size_t i = 0; i < k; i++)
                ex[i] = (unsigned char)s[i] < 0x20 ? '?' : s[i];
            ex[k] = '\0';
            free(rows);
            return cn_fail(ctx, CAIRN_EINVAL,
                           "line %zu: '%s' is not a row index (a "
                           "non-negative integer)",
                           line, ex);
        }
        if (n > 0 && v <= rows[n - 1]) {
            size_t prev = rows[n - 1];
            free(rows);
            return cn_fail(ctx, CAIRN_EINVAL,
                           "line %zu: row index %llu does not follow %zu; "
                           "index files are sorted ascending without repeats",
                           line, (unsigned long long)v, prev);
        }
        if (n_rows > 0 && v >= n_rows) {
            free(rows);
            return cn_fail(ctx, CAIRN_EINVAL,
                           "line %zu: row index %llu is out of range: the "
                           "table has %zu rows",
                           line, (unsigned long long)v, n_rows);
        }
        if (n == cap) {
            cap = cap ? cap * 2 : 256;
            rows = cn_xrealloc(rows, cap * sizeof *rows);
        }
        rows[n++] = (size_t)v;
        line++;
    }
    *out = rows;
    *n_out = n;
    return CAIRN_OK;
}

cairn_status cairn_split_write(cairn_ctx *ctx, const cairn_split *s, const char *dir)
{
    if (!s || !dir)
        return cn_fail(ctx, CAIRN_EINVAL, "cairn_split_write: split and dir are required");
    if (cn_fs_mkdirs(dir, 0755) != 0)
        return cn_fail_errno(ctx, CAIRN_EIO, "cannot create '%s'", dir);
    cn_jsonw w;
    cn_jsonw_init(&w, NULL, 2);
    w.flat_from = 3; /* one line per part */
    cn_jsonw_object_begin(&w);
    cn_jsonw_kstring(&w, "method", cairn_split_method_name(s->method));
    cn_jsonw_kuint(&w, "seed", s->seed);
    cn_jsonw_kint(&w, "n_rows", (int64_t)s->n_rows);
    cn_jsonw_key(&w, "parts");
    cn_jsonw_object_begin(&w);
    cairn_status rc = CAIRN_OK;
    for (int p = 0; p < CAIRN_SPLIT_N_PARTS && rc == CAIRN_OK; p++) {
        char *text = cairn_index_format(s->rows[p], s->n[p]);
        char *name = cn_asprintf("%s.idx", part_names[p]);
        char *path = cn_path_join(dir, name);
        if (cn_fs_write_atomic(path, text, strlen(text)) != 0)
            rc = cn_fail_errno(ctx, CAIRN_EIO, "cannot write '%s'", path);
        cn_jsonw_key(&w, part_names[p]);
        cn_jsonw_object_begin(&w);
        cn_jsonw_kstring(&w, "file", name);
        cn_jsonw_kint(&w, "rows", (int64_t)s->n[p]);
        cn_jsonw_kstring(&w, "sha256", s->sha256[p]);
        cn_jsonw_object_end(&w);
        free(path);
        free(name);
        free(text);
    }
    cn_jsonw_object_end(&w);
    cn_jsonw_object_end(&w);
    cn_jsonw_finish(&w);
    if (rc == CAIRN_OK) {
        char *path = cn_path_join(dir, "split.json");
        if (cn_fs_write_atomic(path, w.buf.data, w.buf.len) != 0)
            rc = cn_fail_errno(ctx, CAIRN_EIO, "cannot write '%s'", path);
        free(path);
    }
    cn_jsonw_release(&w);
    return rc;
}

cairn_status cairn_split_read(cairn_ctx *ctx, const char *dir, size_t n_rows, cairn_split **out)
{
    if (!out)
        return cn_fail(ctx, CAIRN_EINVAL, "cairn_split_read: out is NULL");
    *out = NULL;
    if (!dir)
        return cn_fail(ctx, CAIRN_EINVAL, "cairn_split_read: dir is NULL");
    cairn_split *s = cn_xcalloc(1, sizeof *s);
    s->n_rows = n_rows;
    cairn_status rc = CAIRN_OK;
    for (int p = 0; p < CAIRN_SPLIT_N_PARTS && rc == CAIRN_OK; p++) {
        char *name = cn_asprintf("%s.idx", part_names[p]);
        char *path = cn_path_join(dir, name);
        cn_buf text = CN_BUF_INIT;
        if (cn_fs_read_file(path, &text, INDEX_MAX_BYTES) != 0) {
            if (errno == ENOENT && p != CAIRN_SPLIT_TRAIN)
                cn_buf_append(&text, "", 0);
            else
                rc = cn_fail_errno(ctx, errno == ENOENT ? CAIRN_ENOTFOUND : CAIRN_EIO,
                                   "cannot read '%s'", path);
        }
        if (rc == CAIRN_OK) {
            rc = cairn_index_parse(ctx, text.data, text.len, n_rows, &s->rows[p], &s->n[p]);
            if (rc != CAIRN_OK)
                cn_errctx(ctx, "'%s'", path);
            else
                cn_sha256_hex(text.data, text.len, s->sha256[p]);
        }
        cn_buf_release(&text);
        free(path);
        free(name);
    }
    if (rc != CAIRN_OK) {
        cairn_split_free(s);
        return rc;
    }
    *out = s;
    return CAIRN_OK;
}

/* ---- fold files ---- */

typedef struct fold_entry {
    size_t row, line;
    int32_t fold;
} fold_entry;

static int cmp_fold_entry(const void *a, const void *b)
{
    const fold_entry *x = a, *y = b;
    if (x->row != y->row)
        return x->row < y->row ? -1 : 1;
    return x->line < y->line ? -1 : x->line > y->line;
}

/* The next comma-separated cell of [*p, e): its bounds; *p moves past the comma. */
static void next_cell(const char **p, const char *e, const char **s, const char **ce)
{
    *s = *p;
    while (*p < e && **p != ',')
        (*p)++;
    *ce = *p;
    if (*p < e)
        (*p)++;
}

static bool cell_is(const char *s, const char *e, const char *word)
{
    size_t n = strlen(word);
    return (size_t)(e - s) == n && memcmp(s, word, n) == 0;
}

/* A decimal integer in [lo, hi] from [s, e), optionally negative. */
static bool cell_int(const char *s, const char *e, int64_t lo, int64_t hi, int64_t *out)
{
    bool neg = s < e && *s == '-';
    if (neg)
        s++;
    if (s == e || e - s > 18)
        return false;
    int64_t v = 0;
    for (; s < e; s++) {
        if (*s < '0' || *s > '9')
            return false;
        v = v * 10 + (*s - '0');
    }
    *out = neg ? -v : v;
    return *out >= lo && *out <= hi;
}

static void cell_text(const char *s, const char *e, char *buf, size_t size)
{
    size_t k = (size_t)(e - s) < size - 1 ? (size_t)(e - s) : size - 1;
    for (size_t i = 0; i < k; i++)
        buf[i] = (unsigned char)s[i] < 0x20 ? '?' : s[i];
    buf[k] = '\0';
}

cairn_status cairn_folds_parse(cairn_ctx *ctx, const char *text, size_t len, size_t n_rows,
                               size_t **rows, int32_t **folds, size_t *n_out, size_t *n_folds)
{
    *rows = NULL;
    *folds = NULL;
    *n_out = *n_folds = 0;
    if (!text && len)
        return cn_fail(ctx, CAIRN_EINVAL, "fold file text is NULL");
    fold_entry *v = NULL;
    size_t n = 0, cap = 0, line = 0;
    int row_col = -1, fold_col = -1, n_cols = 0;
    const char *p = text, *end = text + len;
    cairn_status rc = CAIRN_OK;
    char ex[48];
    while (p < end && rc == CAIRN_OK) {
        const char *s = p;
        while (p < end && *p != '\n')
            p++;
        const char *e = p;
        if (e > s && e[-1] == '\r')
            e--;
        if (p < end)
            p++;
        line++;
        if (e == s) {
            if (p >= end)
                break;
            rc = cn_fail(ctx, CAIRN_EINVAL,
                         "line %zu: empty line; a fold file has one row,fold "
                         "pair a line",
                         line);
            break;
        }
        const char *q = s, *cs, *ce;
        if (line == 1) { /* the header */
            for (int c = 0; q <= e && rc == CAIRN_OK; c++) {
                next_cell(&q, e, &cs, &ce);
                if (cell_is(cs, ce, "row") && row_col < 0)
                    row_col = c;
                else if (cell_is(cs, ce, "fold") && fold_col < 0)
                    fold_col = c;
                else {
                    cell_text(cs, ce, ex, sizeof ex);
                    rc = cn_fail(ctx, CAIRN_EINVAL,
                                 "line 1: column '%s' is not row or fold; a fold file's header "
                                 "is row,fold",
                                 ex);
                }
                n_cols = c + 1;
                if (q == e && (ce == e))
                    break;
            }
            if (rc == CAIRN_OK && (row_col < 0 || fold_col < 0))
                rc = cn_fail(ctx, CAIRN_EINVAL,
                             "line 1: the header lacks the '%s' column; a fold file's header is "
                             "row,fold",
                             row_col < 0 ? "row" : "fold");
            continue;
        }
        int64_t r = -1, f = -2;
        int c = 0;
        for (; q <= e && rc == CAIRN_OK; c++) {
            next_cell(&q, e, &cs, &ce);
            if (c >= n_cols) {
                rc = cn_fail(ctx, CAIRN_EINVAL, "line %zu: more than the %d cells of the header",
                             line, n_cols);
                break;
            }
            cell_text(cs, ce, ex, sizeof ex);
            if (c == row_col && !cell_int(cs, ce, 0, INT64_MAX / 4, &r))
                rc = cn_fail(ctx, CAIRN_EINVAL,
                             "line %zu: row '%s' is not a row index (a non-negative integer)", line,
                             ex);
            else if (c == fold_col && !cell_int(cs, ce, -1, CAIRN_FOLDS_MAX - 1, &f))
                rc = cn_fail(ctx, CAIRN_EINVAL,
                             "line %zu: fold '%s' is not an integer in -1..%d (-1: the row is "
                             "only ever trained on)",
                             line, ex, CAIRN_FOLDS_MAX - 1);
            if (q == e && ce == e)
                break;
        }
        if (rc == CAIRN_OK && c + 1 < n_cols)
            rc = cn_fail(ctx, CAIRN_EINVAL, "line %zu: %d cells, the header has %d", line, c + 1,
                         n_cols);
        if (rc == CAIRN_OK && n_rows > 0 && (uint64_t)r >= n_rows)
            rc = cn_fail(ctx, CAIRN_EINVAL,
                         "line %zu: row %lld is out of range: the data has %zu rows (rows are "
                         "0-based)",
                         line, (long long)r, n_rows);
        if (rc != CAIRN_OK)
            break;
        if (n == cap) {
            cap = cap ? cap * 2 : 256;
            v = cn_xrealloc(v, cap * sizeof *v);
        }
        v[n++] = (fold_entry){(size_t)r, line, (int32_t)f};
    }
    if (rc == CAIRN_OK && line == 0)
        rc = cn_fail(ctx, CAIRN_EINVAL, "the fold file is empty; it needs a row,fold header");
    if (rc == CAIRN_OK && n == 0)
        rc = cn_fail(ctx, CAIRN_EINVAL, "the fold file has a header but no rows");
    int64_t max_fold = -1;
    for (size_t i = 0; rc == CAIRN_OK && i < n; i++)
        max_fold = v[i].fold > max_fold ? v[i].fold : max_fold;
    if (rc == CAIRN_OK && max_fold < 1)
        rc = cn_fail(ctx, CAIRN_EINVAL,
                     "the fold file has %s; cross-validation needs at least folds 0 and 1",
                     max_fold < 0 ? "no fold (only -1)" : "one fold (0)");
    if (rc == CAIRN_OK) {
        size_t *count = cn_xcalloc((size_t)max_fold + 1, sizeof *count);
        for (size_t i = 0; i < n; i++)
            if (v[i].fold >= 0)
                count[v[i].fold]++;
        for (int64_t f = 0; f <= max_fold && rc == CAIRN_OK; f++)
            if (count[f] == 0)
                rc = cn_fail(ctx, CAIRN_EINVAL,
                             "fold %lld has no rows; folds are numbered 0..%lld without gaps "
                             "(-1: rows only ever trained on)",
                             (long long)f, (long long)max_fold);
        free(count);
    }
    if (rc == CAIRN_OK) {
        qsort(v, n, sizeof *v, cmp_fold_entry);
        for (size_t i = 1; i < n && rc == CAIRN_OK; i++)
            if (v[i].row == v[i - 1].row)
                rc = cn_fail(ctx, CAIRN_EINVAL,
                             "line %zu: row %zu is already in the file (line %zu); a row has one "
                             "fold",
                             v[i].line, v[i].row, v[i - 1].line);
    }
    if (rc == CAIRN_OK) {
        *rows = cn_xmalloc(n * sizeof **rows);
        *folds = cn_xmalloc(n * sizeof **folds);
        for (size_t i = 0; i < n; i++) {
            (*rows)[i] = v[i].row;
            (*folds)[i] = v[i].fold;
        }
        *n_out = n;
        *n_folds = (size_t)max_fold + 1;
    }
    free(v);
    return rc;
}
