/* SPDX-License-Identifier: MIT */
/* table.c - cairn_table memory, hand-built tables, the content digest and CSV writing.
 * Tables come from csv.c or from cairn_table_new(); learners and evaluation read them. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cairn/data.h"
#include "core/core.h"
#include "data/data_internal.h"
#include "base/fs.h"
#include "base/sha256.h"
#include "base/str.h"
#include "base/xmalloc.h"
#include "base/banned.h"

cairn_table *cn_table_alloc(size_t n_rows)
{
    cairn_table *t = cn_xcalloc(1, sizeof *t);
    cn_table_mem *mem = cn_xcalloc(1, sizeof *mem);
    mem->arena = cn_arena_new();
    t->n_rows = n_rows;
    t->internal_ = mem;
    return t;
}

cn_arena *cn_table_arena(cairn_table *t)
{
    return ((cn_table_mem *)t->internal_)->arena;
}

cairn_column *cn_table_push_col(cairn_table *t, const char *name, size_t name_len)
{
    cn_table_mem *mem = t->internal_;
    if (t->n_cols == mem->cap_cols) {
        mem->cap_cols = mem->cap_cols ? mem->cap_cols * 2 : 8;
        t->cols = cn_xrealloc(t->cols, mem->cap_cols * sizeof *t->cols);
    }
    cairn_column *c = &t->cols[t->n_cols++];
    memset(c, 0, sizeof *c);
    c->name = cn_arena_strndup(mem->arena, name, name_len);
    cn_map_add(&mem->names, c->name, name_len, t->n_cols - 1, NULL);
    return c;
}

cairn_table *cairn_table_new(size_t n_rows)
{
    return cn_table_alloc(n_rows);
}

void cairn_table_free(cairn_table *t)
{
    if (!t)
        return;
    cn_table_mem *mem = t->internal_;
    if (mem) {
        for (size_t i = 0; i < t->n_cols; i++) {
            free(t->cols[i].num);
            free(t->cols[i].cat);
            free((void *)t->cols[i].levels);
        }
        free(t->cols);
        cn_map_release(&mem->names);
        cn_arena_free(mem->arena);
        free(mem);
    }
    free(t);
}

int cairn_table_find(const cairn_table *t, const char *name)
{
    if (!t || !name)
        return -1;
    const cn_table_mem *mem = t->internal_;
    if (mem) {
        size_t i;
        return cn_map_get(&mem->names, name, strlen(name), &i) ? (int)i : -1;
    }
    for (size_t i = 0; i < t->n_cols; i++)
        if (strcmp(t->cols[i].name, name) == 0)
            return (int)i;
    return -1;
}

static cairn_status check_new_col(cairn_ctx *ctx, cairn_table *t, const char *name)
{
    if (!t || !t->internal_)
        return cn_fail(ctx, CAIRN_EINVAL,
                       "table was not made by cairn_table_new or the CSV reader");
    if (!name)
        return cn_fail(ctx, CAIRN_EINVAL, "column name is NULL");
    if (t->n_cols >= INT32_MAX)
        return cn_fail(ctx, CAIRN_ELIMIT, "column '%s': too many columns", name);
    return CAIRN_OK;
}

cairn_status cairn_table_add_numeric(cairn_ctx *ctx, cairn_table *t, const char *name,
                                     const double *values)
{
    cairn_status rc = check_new_col(ctx, t, name);
    if (rc != CAIRN_OK)
        return rc;
    if (!values && t->n_rows)
        return cn_fail(ctx, CAIRN_EINVAL, "column '%s': values are NULL", name);
    cairn_column *c = cn_table_push_col(t, name, strlen(name));
    c->type = CAIRN_COL_NUMERIC;
    c->num = cn_xmalloc(t->n_rows ? t->n_rows * sizeof(double) : 1);
    if (t->n_rows)
        memcpy(c->num, values, t->n_rows * sizeof(double));
    return CAIRN_OK;
}

cairn_status cairn_table_add_categorical(cairn_ctx *ctx, cairn_table *t, const char *name,
                                         const int32_t *codes, const char *const *levels,
                                         size_t n_levels)
{
    cairn_status rc = check_new_col(ctx, t, name);
    if (rc != CAIRN_OK)
        return rc;
    if (!codes && t->n_rows)
        return cn_fail(ctx, CAIRN_EINVAL, "column '%s': codes are NULL", name);
    if (n_levels > INT32_MAX || (n_levels && !levels))
        return cn_fail(ctx, CAIRN_EINVAL, "column '%s': bad levels", name);
    for (size_t i = 0; i < n_levels; i++)
        if (!levels[i])
            return cn_fail(ctx, CAIRN_EINVAL, "column '%s': level %zu is NULL", name, i);
    for (size_t r = 0; r < t->n_rows; r++)
        if (codes[r] < -1 || (codes[r] >= 0 && (size_t)codes[r] >= n_levels))
            return cn_fail(ctx, CAIRN_EINVAL,
                           "column '%s' row %zu: code %d is not a level "
                           "(0..%zu) or -1",
                           name, r, (int)codes[r], n_levels);
    cairn_column *c = cn_table_push_col(t, name, strlen(name));
    c->type = CAIRN_COL_CATEGORICAL;
    c->cat = cn_xmalloc(t->n_rows ? t->n_rows * sizeof(int32_t) : 1);
    if (t->n_rows)
        memcpy(c->cat, codes, t->n_rows * sizeof(int32_t));
    const char **lv = cn_xcalloc(n_levels ? n_levels : 1, sizeof *lv);
    for (size_t i = 0; i < n_levels; i++)
        lv[i] = cn_arena_strdup(cn_table_arena(t), levels[i]);
    c->levels = lv;
    c->n_levels = n_levels;
    return CAIRN_OK;
}

/* ---- content digest ---- */

cairn_status cairn_table_digest(const cairn_table *t, char hex_out[65])
{
    if (!t || !hex_out)
        return CAIRN_EINVAL;
    cn_sha256_stream *hs = cn_sha256_stream_new();
    cn_sha256_stream_bytes(hs, "cairn-table-v1\n", 15);
    cn_sha256_stream_u64(hs, t->n_rows);
    cn_sha256_stream_u64(hs, t->n_cols);
    for (size_t c = 0; c < t->n_cols; c++) {
        const cairn_column *col = &t->cols[c];
        size_t nl = strlen(col->name);
        cn_sha256_stream_u64(hs, nl);
        cn_sha256_stream_bytes(hs, col->name, nl);
        cn_sha256_stream_u64(hs, (uint64_t)col->type);
        for (size_t r = 0; r < t->n_rows; r++) {
            if (col->type == CAIRN_COL_NUMERIC) {
                double v = col->num[r];
                uint64_t bits;
                if (isnan(v))
                    bits = 0x7ff8000000000000ull;
                else
                    memcpy(&bits, &v, 8);
                cn_sha256_stream_u64(hs, bits);
            } else if (col->cat[r] < 0) {
                cn_sha256_stream_u64(hs, UINT64_MAX);
            } else {
                const char *s = col->levels[col->cat[r]];
                size_t sl = strlen(s);
                cn_sha256_stream_u64(hs, sl);
                cn_sha256_stream_bytes(hs, s, sl);
            }
        }
    }
    cn_sha256_stream_final(hs, hex_out);
    return CAIRN_OK;
}

/* ---- CSV writing ---- */

cairn_status cairn_csv_write(cairn_ctx *ctx, const cairn_table *t, const char *path)
{
    if (!t || !path)
        return cn_fail(ctx, CAIRN_EINVAL, "cairn_csv_write: table and path are required");
    cn_buf b = CN_BUF_INIT;
    char num[40];
    for (size_t c = 0; c < t->n_cols; c++) {
        if (c)
            cn_buf_putc(&b, ',');
        cn_csv_put_field(&b, t->cols[c].name, true);
    }
    cn_buf_putc(&b, '\n');
    for (size_t r = 0; r < t->n_rows; r++) {
        for (size_t c = 0; c < t->n_cols; c++) {
            const cairn_column *col = &t->cols[c];
            if (c)
                cn_buf_putc(&b, ',');
            if (col->type == CAIRN_COL_NUMERIC) {
                if (!isnan(col->num[r])) {
                    cn_format_double_short(col->num[r], num, sizeof num);
                    cn_buf_puts(&b, num);
                }
            } else if (col->cat[r] >= 0) {
                cn_csv_put_field(&b, col->levels[col->cat[r]], true);
            }
        }
        cn_buf_putc(&b, '\n');
    }
    cairn_status rc = CAIRN_OK;
    if (cn_fs_write_atomic(path, b.data, b.len) != 0)
        rc = cn_fail_errno(ctx, CAIRN_EIO, "cannot write '%s'", path);
    cn_buf_release(&b);
    return rc;
}

/* ---- lookups shared by the data operations ---- */

cairn_status cn_table_need_col(cairn_ctx *ctx, const cairn_table *t, const char *name,
                               const char *what, const cairn_column **out)
{
    *out = NULL;
    if (!name || !*name)
        return cn_fail(ctx, CAIRN_EINVAL, "a %s column is required", what);
    int i = cairn_table_find(t, name);
    if (i >= 0) {
        *out = &t->cols[i];
        return CAIRN_OK;
    }
    cn_buf list = CN_BUF_INIT;
    for (size_t c = 0; c < t->n_cols && c < 20; c++)
        cn_buf_printf(&list, "%s%s", c ? ", " : "", t->cols[c].name);
    if (t->n_cols > 20)
        cn_buf_printf(&list, ", ... (%zu in all)", t->n_cols);
    cairn_status rc = cn_fail(ctx, CAIRN_ENOTFOUND, "%s column '%s' not found; columns are: %s",
                              what, name, cn_buf_str(&list));
    cn_buf_release(&list);
    return rc;
}

static uint64_t mix(uint64_t h, uint64_t v)
{
    h ^= v + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
    h *= 0xff51afd7ed558ccdull;
    return h ^ (h >> 33);
}

uint64_t cn_table_row_hash(const cairn_table *t, size_t r)
{
    uint64_t h = 0x12345678u;
    for (size_t c = 0; c < t->n_cols; c++) {
        const cairn_column *col = &t->cols[c];
        uint64_t v;
        if (col->type == CAIRN_COL_NUMERIC) {
            double x = col->num[r];
            if (isnan(x))
                v = 0x7ff8000000000000ull;
            else if (x == 0)
                v = 0; /* -0 == 0 */
            else
                memcpy(&v, &x, 8);
        } else {
            v = col->cat[r] < 0 ? UINT64_MAX : 0;
            if (col->cat[r] >= 0)
                for (const char *s = col->levels[col->cat[r]]; *s; s++)
                    v = v * 131 + (unsigned char)*s;
        }
        h = mix(h, v);
    }
    return h;
}

bool cn_table_rows_equal(const cairn_table *t, size_t a, const cairn_table *u, size_t b)
{
    if (t->n_cols != u->n_cols)
        return false;
    for (size_t c = 0; c < t->n_cols; c++) {
        const cairn_column *x = &t->cols[c], *y = &u->cols[c];
        if (x->type != y->type)
            return false;
        if (x->type == CAIRN_COL_NUMERIC) {
            double p = x->num[a], q = y->num[b];
            if (!(p == q || (isnan(p) && isnan(q))))
                return false;
        } else {
            int32_t p = x->cat[a], q = y->cat[b];
            if ((p < 0) != (q < 0))
                return false;
            if (p >= 0 && strcmp(x->levels[p], y->levels[q]) != 0)
                return false;
        }
    }
    return true;
}

/* ---- the task a label implies ---- */

static void why_printf(char *why, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void why_printf(char *why, size_t size, const char *fmt, ...)
{
    if (!why || size == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, size, fmt, ap);
    va_end(ap);
}

static int cmp_num(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

bool cairn_column_holds_classes(const cairn_column *c, size_t n_rows, char *why, size_t why_size)
{
    if (c->type == CAIRN_COL_CATEGORICAL) {
        why_printf(why, why_size, "label '%s' holds text values", c->name);
        return true;
    }
    double seen[CAIRN_CLASSES_MAX + 1];
    size_t n_seen = 0, n_present = 0;
    for (size_t r = 0; r < n_rows; r++) {
        double v = c->num[r];
        if (!isfinite(v))
            continue;
        n_present++;
        if (v != floor(v)) {
            char tmp[40];
            cn_format_double(v, tmp, sizeof tmp);
            why_printf(why, why_size, "label '%s' has non-integer values such as %s", c->name, tmp);
            return false;
        }
        if (n_seen > CAIRN_CLASSES_MAX)
            continue;
        size_t k = 0;
        while (k < n_seen && seen[k] != v)
            k++;
        if (k == n_seen)
            seen[n_seen++] = v;
    }
    if (n_seen > CAIRN_CLASSES_MAX) {
        why_printf(why, why_size, "label '%s' has more than %d distinct integer values", c->name,
                   CAIRN_CLASSES_MAX);
        return false;
    }
    qsort(seen, n_seen, sizeof *seen, cmp_num);
    char list[160];
    size_t len = 0;
    list[0] = '\0';
    for (size_t k = 0; k < n_seen && len < sizeof list - 8; k++) {
        char tmp[40];
        cn_format_double(seen[k], tmp, sizeof tmp);
        len += (size_t)snprintf(list + len, sizeof list - len, "%s%s", k ? ", " : "", tmp);
    }
    if (n_seen < 2) {
        why_printf(why, why_size, "label '%s' has %zu distinct value%s (%s)", c->name, n_seen,
                   n_seen == 1 ? "" : "s", list);
        return false;
    }
    bool classes = n_seen == 2 || n_seen * 20 <= n_present;
    why_printf(why, why_size,
               classes ? "label '%s' has %zu distinct integer values (%s) in %zu rows"
                       : "label '%s' has %zu distinct integer values (%s) in %zu rows, more "
                         "than 5%% of the rows",
               c->name, n_seen, list, n_present);
    return classes;
}
