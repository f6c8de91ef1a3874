/* SPDX-License-Identifier: MIT */
/* fuzz_csv.c - the CSV reader on arbitrary bytes: it must fail cleanly or give a consistent
 * table; and every token the fast number parser accepts must equal strtod's double. The
 * first byte picks options (delimiter, no header, a declared numeric first column). */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "cairn/data.h"
#include "data/data_internal.h"
#include "base/banned.h"

static void check_numbers(const char *p, size_t n)
{
    size_t i = 0;
    while (i < n) {
        while (i < n && strchr(",;\t\n\r\" ", p[i]) && p[i])
            i++;
        size_t s = i;
        while (i < n && p[i] && !strchr(",;\t\n\r\" ", p[i]))
            i++;
        size_t len = i - s;
        if (len == 0 || len > 400) {
            i += len == 0;
            continue;
        }
        char tok[401];
        memcpy(tok, p + s, len);
        tok[len] = '\0';
        double a;
        bool ok = cn_csv_parse_double(tok, len, &a);
        char *end;
        errno = 0;
        double b = strtod(tok, &end);
        bool plain = strspn(tok, "0123456789.eE+-") == len;
        if (ok && !isnan(a) && memcmp(&a, &b, sizeof a) != 0)
            abort(); /* the fast path disagrees with strtod */
        if (plain && !ok && end == tok + len && !(errno == ERANGE && isinf(b)))
            abort(); /* a decimal strtod takes whole was refused */
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    cairn_ctx *ctx = cairn_ctx_new();
    cairn_csv_opts o = CAIRN_CSV_OPTS_INIT;
    static const char delims[] = {0, ';', '\t', '|'};
    o.delimiter = delims[data[0] & 3];
    o.no_header = (data[0] & 4) != 0;
    const char *num[] = {"a"};
    if (data[0] & 8) {
        o.numeric = num;
        o.n_numeric = 1;
    }
    const char *text = (const char *)data + 1;
    size_t len = size - 1;
    cairn_table *t = NULL;
    if (cairn_csv_parse(ctx, text, len, &o, &t) == CAIRN_OK) {
        for (size_t c = 0; c < t->n_cols; c++) {
            const cairn_column *col = &t->cols[c];
            for (size_t r = 0; r < t->n_rows; r++)
                if (col->type == CAIRN_COL_CATEGORICAL &&
                    (col->cat[r] < -1 ||
                     (col->cat[r] >= 0 && (size_t)col->cat[r] >= col->n_levels)))
                    abort();
        }
        char hex[65];
        if (cairn_table_digest(t, hex) != CAIRN_OK || strlen(hex) != 64)
            abort();
        cairn_table_free(t);
    } else if (t != NULL || cairn_errmsg(ctx)[0] == '\0') {
        abort();
    }
    check_numbers(text, len);
    cairn_close(ctx);
    return 0;
}
