/* SPDX-License-Identifier: MIT */
/* fuzz_expect.c - feeds arbitrary bytes to the expectations reader (cairn_expect_parse) and
 * checks an accepted file against a small fixed table: a refusal must carry a message, an
 * accepted file must check without failing, every finding must name a rule, a message and a
 * fix, list no more rows than it counts and only rows of the table, and the result must render
 * as JSON and text. */
#include <stdint.h>
#include <stddef.h>
#include <string.h>
#include "cairn/data.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char table_csv[] = "id,age,city,y\n1,30,Oslo,0\n2,95,Rome,1\n3,,Paris,1\n"
                                "3,-1,Oslo,0\n5,40.5,,1\n";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cairn_ctx *ctx = cairn_ctx_new();
    cairn_table *t = NULL;
    if (cairn_csv_parse(ctx, table_csv, strlen(table_csv), NULL, &t) != CAIRN_OK)
        __builtin_trap();
    cairn_expect *e = NULL;
    cairn_status rc = cairn_expect_parse(ctx, "fuzz.yaml", (const char *)data, size, &e);
    if (rc != CAIRN_OK) {
        if (e || !cairn_errmsg(ctx)[0] || !strstr(cairn_errmsg(ctx), "fuzz.yaml"))
            __builtin_trap();
    } else {
        cairn_expect_result *r = NULL;
        if (cairn_expect_check(ctx, e, t, &r) != CAIRN_OK || !r)
            __builtin_trap();
        for (size_t i = 0; i < r->n_failed; i++) {
            const cairn_expect_finding *f = &r->findings[i];
            if (!f->rule || !f->message || !f->fix || f->n_rows_listed > f->n_rows ||
                f->n_rows_listed > CAIRN_EXPECT_MAX_ROWS)
                __builtin_trap();
            for (size_t k = 0; k < f->n_rows_listed; k++)
                if (f->rows[k] >= t->n_rows || (k && f->rows[k] <= f->rows[k - 1]))
                    __builtin_trap();
        }
        char *json = NULL;
        if (cairn_expect_result_json(ctx, r, &json) != CAIRN_OK || !json)
            __builtin_trap();
        cairn_free(json);
        char *text = cairn_expect_result_text(r);
        if (!text || (r->n_failed && !text[0]))
            __builtin_trap();
        cairn_free(text);
        cairn_expect_result_free(r);
    }
    size_t n_cat = 0;
    (void)cairn_expect_categorical(e, &n_cat);
    cairn_expect_free(e);
    cairn_table_free(t);
    cairn_close(ctx);
    return 0;
}
