/* SPDX-License-Identifier: MIT */
/* fuzz_http_query.c - arbitrary bytes as a query string and as a path to %-decode (the
 * server's own parsing of what clients send, src/server/http/query.c). A parse either fails
 * with a message or yields pairs of valid, NUL-free UTF-8 text; decoding never grows. */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "http/http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data;
    http_query q = {0};
    char err[160] = "";
    if (http_query_parse(s, size, &q, err, sizeof err) == 0) {
        assert(q.n <= HTTP_QUERY_MAX_PARAMS);
        for (size_t i = 0; i < q.n; i++) {
            assert(q.items[i].key && q.items[i].value);
            assert(http_text_ok(q.items[i].key, strlen(q.items[i].key)));
            assert(http_text_ok(q.items[i].value, strlen(q.items[i].value)));
            assert(strlen(q.items[i].key) <= size);
        }
        if (q.n)
            assert(http_query_get(&q, q.items[0].key) == q.items[0].value);
    } else {
        assert(err[0] != '\0');
    }
    http_query_release(&q);

    cn_buf out = CN_BUF_INIT;
    if (http_percent_decode(s, size, false, &out) == 0) {
        assert(out.len <= size);
        assert(strlen(out.data) == out.len);
    }
    cn_buf_release(&out);
    return 0;
}
