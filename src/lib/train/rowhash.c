/* SPDX-License-Identifier: MIT */
/* rowhash.c - guardrail 1: 64-bit hashes of a model's training rows (features and label),
 * kept sorted and base64-encoded in the model's metadata, so that every evaluation can count
 * the rows it shares with training and refuse. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "cairn/train.h"
#include "core/core.h"
#include "train/train_internal.h"
#include "base/buf.h"
#include "base/str.h"
#include "base/xmalloc.h"
#include "base/banned.h"

#define META_KEY "cairn.train_rows"

/* FNV-1a over bytes, finished with the splitmix64 mixer so nearby inputs spread. */
static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++) {
        h ^= b[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}

static uint64_t mix(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static uint64_t hash_cell(uint64_t h, const cairn_column *c, size_t r, bool as_text)
{
    if (c->type == CAIRN_COL_CATEGORICAL) {
        int32_t code = c->cat[r];
        if (code < 0 || (size_t)code >= c->n_levels)
            return fnv(h, "\x01", 2); /* missing */
        const char *s = c->levels[code] ? c->levels[code] : "";
        return fnv(fnv(h, "\x02", 1), s, strlen(s) + 1);
    }
    double v = c->num[r];
    if (isnan(v))
        return fnv(h, "\x01", 2);
    if (as_text) {
        /* A label hashes as text so a numeric 0 and a categorical "0" agree. */
        char tmp[64];
        cn_format_double(v, tmp, sizeof tmp);
        return fnv(fnv(h, "\x02", 1), tmp, strlen(tmp) + 1);
    }
    if (v == 0)
        v = 0; /* -0 and 0 alike */
    unsigned char bytes[8];
    uint64_t bits;
    memcpy(&bits, &v, 8);
    for (int i = 0; i < 8; i++)
        bytes[i] = (unsigned char)(bits >> (8 * i));
    return fnv(fnv(h, "\x03", 1), bytes, 8);
}

cairn_status cn_row_hashes(cairn_ctx *ctx, const cairn_table *t, const char *const *features,
                           size_t n_features, const char *label, const size_t *rows, size_t n,
                           uint64_t *out)
{
    int *cols = cn_xmalloc((n_features + 1) * sizeof *cols);
    for (size_t f = 0; f <= n_features; f++) {
        const char *name = f < n_features ? features[f] : label;
        cols[f] = cairn_table_find(t, name);
        if (cols[f] < 0) {
            free(cols);
            return cn_fail(ctx, CAIRN_EINVAL, "%s '%s' is not in the data",
                           f < n_features ? "feature" : "label column", name);
        }
    }
    for (size_t i = 0; i < n; i++) {
        size_t r = rows ? rows[i] : i;
        if (r >= t->n_rows) {
            free(cols);
            return cn_fail(ctx, CAIRN_EINVAL, "row %zu is out of range (the table has %zu)", r,
                           t->n_rows);
        }
        uint64_t h = 0xcbf29ce484222325ULL;
        for (size_t f = 0; f <= n_features; f++)
            h = hash_cell(h, &t->cols[cols[f]], r, f == n_features);
        out[i] = mix(h);
    }
    free(cols);
    return CAIRN_OK;
}

static cairn_status model_hashes(cairn_ctx *ctx, const cairn_model *m, const cairn_table *t,
                                 const size_t *rows, size_t n, uint64_t *out)
{
    size_t nf = cairn_model_n_features(m);
    const char **names = cn_xcalloc(nf ? nf : 1, sizeof *names);
    for (size_t f = 0; f < nf; f++)
        names[f] = cairn_model_feature_name(m, f);
    cairn_status rc = cn_row_hashes(ctx, t, names, nf, cairn_model_label(m), rows, n, out);
    free(names);
    return rc;
}

cairn_status cairn_model_row_hashes(cairn_ctx *ctx, const cairn_model *m, const cairn_table *t,
                                    const size_t *rows, size_t n, uint64_t *out)
{
    if (!m || !t || !out)
        return cn_fail(ctx, CAIRN_EINVAL, "cairn_model_row_hashes: model, table and out needed");
    return model_hashes(ctx, m, t, rows, rows ? n : t->n_rows, out);
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static void base64_encode(const unsigned char *p, size_t n, cn_buf *out)
{
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16;
        if (i + 1 < n)
            v |= (uint32_t)p[i + 1] << 8;
        if (i + 2 < n)
            v |= p[i + 2];
        cn_buf_putc(out, b64[(v >> 18) & 63]);
        cn_buf_putc(out, b64[(v >> 12) & 63]);
        cn_buf_putc(out, i + 1 < n ? b64[(v >> 6) & 63] : '=');
        cn_buf_putc(out, i + 2 < n ? b64[v & 63] : '=');
    }
}

static int b64_value(char c)
{
    const char *p = c ? strchr(b64, c) : NULL;
    return p ? (int)(p - b64) : -1;
}

/* Decodes base64 text (padded); false on anything malformed. */
static bool base64_decode(const char *s, cn_buf *out)
{
    size_t len = strlen(s);
    if (len % 4 != 0)
        return false;
    for (size_t i = 0; i < len; i += 4) {
        int v[4];
        for (int j = 0; j < 4; j++) {
            v[j] = s[i + j] == '=' && j >= 2 && i + 4 == len ? 0 : b64_value(s[i + j]);
            if (v[j] < 0)
                return false;
        }
        uint32_t x =
            (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 | (uint32_t)v[2] << 6 | (uint32_t)v[3];
        cn_buf_putc(out, (char)(x >> 16));
        if (s[i + 2] != '=')
            cn_buf_putc(out, (char)(x >> 8));
        if (s[i + 3] != '=')
            cn_buf_putc(out, (char)x);
    }
    return true;
}

cairn_status cairn_model_record_train_rows(cairn_ctx *ctx, cairn_model *m, const cairn_table *t,
                                           const size_t *rows, size_t n)
{
    if (!m || !t)
        return cn_fail(ctx, CAIRN_EINVAL, "cairn_model_record_train_rows: model and table needed");
    if (!rows)
        n = t->n_rows;
    uint64_t *h = cn_xmalloc((n ? n : 1) * sizeof *h);
    cairn_status rc = model_hashes(ctx, m, t, rows, n, h);
    if (rc != CAIRN_OK) {
        free(h);
        return rc;
    }
    qsort(h, n, sizeof *h, cmp_u64);
    unsigned char *bytes = cn_xmalloc(n * 8 + 1);
    for (size_t i = 0; i < n; i++)
        for (int j = 0; j < 8; j++)
            bytes[i * 8 + (size_t)j] = (unsigned char)(h[i] >> (8 * j));
    cn_buf text = CN_BUF_INIT;
    base64_encode(bytes, n * 8, &text);
    cairn_model_set_meta(m, META_KEY, cn_buf_str(&text));
    cn_buf_release(&text);
    free(bytes);
    free(h);
    return CAIRN_OK;
}

cairn_status cairn_model_count_train_overlap(cairn_ctx *ctx, const cairn_model *m,
                                             const cairn_table *t, const size_t *rows, size_t n,
                                             size_t *overlap_out)
{
    *overlap_out = 0;
    const char *text = m ? cairn_model_get_meta(m, META_KEY) : NULL;
    if (!text)
        return cn_fail(ctx, CAIRN_EINVAL,
                       "the model holds no record of its training rows (meta '%s'); train it "
                       "with 'cairn train' to evaluate it with the overlap check",
                       META_KEY);
    cn_buf raw = CN_BUF_INIT;
    if (!base64_decode(text, &raw) || raw.len % 8 != 0) {
        cn_buf_release(&raw);
        return cn_fail(ctx, CAIRN_EINVAL, "model meta '%s' is not base64 of 64-bit hashes",
                       META_KEY);
    }
    size_t n_train = raw.len / 8;
    uint64_t *train = cn_xmalloc((n_train ? n_train : 1) * sizeof *train);
    const unsigned char *p = (const unsigned char *)raw.data;
    for (size_t i = 0; i < n_train; i++) {
        uint64_t v = 0;
        for (int j = 0; j < 8; j++)
            v |= (uint64_t)p[i * 8 + (size_t)j] << (8 * j);
        train[i] = v;
    }
    cn_buf_release(&raw);
    if (!rows)
        n = t->n_rows;
    uint64_t *h = cn_xmalloc((n ? n : 1) * sizeof *h);
    cairn_status rc = model_hashes(ctx, m, t, rows, n, h);
    if (rc == CAIRN_OK) {
        size_t count = 0;
        for (size_t i = 0; i < n; i++)
            if (bsearch(&h[i], train, n_train, sizeof *train, cmp_u64))
                count++;
        *overlap_out = count;
    }
    free(h);
    free(train);
    return rc;
}
