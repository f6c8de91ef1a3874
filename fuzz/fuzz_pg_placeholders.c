/* SPDX-License-Identifier: MIT */
/* fuzz_pg_placeholders.c - fuzzes cn_pg_rewrite_placeholders, the '?' to '$n' rewriter of the
 * PostgreSQL driver, and checks what must hold for any input: each placeholder replaced one for
 * one, everything else copied byte for byte. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "store/db_pg.h"
#include "base/banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static size_t count_byte(const char *s, size_t len, char c)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++)
        n += s[i] == c;
    return n;
}

static size_t digits(int k)
{
    size_t n = 1;
    while (k >= 10) {
        k /= 10;
        n++;
    }
    return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *sql = (const char *)data;
    cn_buf out = CN_BUF_INIT;
    int n = -1;

    if (cn_pg_rewrite_placeholders(sql, size, &out, &n) != CAIRN_OK)
        abort(); /* fewer than 65536 '?' fit in the fuzzer's inputs */
    size_t want_len = size;
    for (int k = 1; k <= n; k++)
        want_len += digits(k); /* "?" -> "$k" */
    if (n < 0 || (size_t)n > count_byte(sql, size, '?') || out.len != want_len ||
        out.data[out.len] != '\0' ||
        count_byte(out.data, out.len, '?') != count_byte(sql, size, '?') - (size_t)n ||
        count_byte(out.data, out.len, '$') != count_byte(sql, size, '$') + (size_t)n)
        abort();
    /* Without placeholders the text goes through unchanged. */
    if (n == 0 && (out.len != size || memcmp(out.data, sql, size) != 0))
        abort();
    cn_buf_release(&out);
    return 0;
}
