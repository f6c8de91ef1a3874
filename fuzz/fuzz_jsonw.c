/* SPDX-License-Identifier: MIT */
/* fuzz_jsonw.c - feeds arbitrary bytes to the JSON writer's string quoting and checks the
 * output is one valid JSON string: quoted, valid UTF-8, no raw control characters. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "base/jsonw.h"
#include "base/xmalloc.h"
#include "base/banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Strict UTF-8 check of s[0..n) with JSON string rules; aborts on the first violation. */
static void check_json_string(const unsigned char *s, size_t n)
{
    CN_ASSERT(n >= 2 && s[0] == '"' && s[n - 1] == '"');
    for (size_t i = 1; i + 1 < n;) {
        unsigned char c = s[i];
        CN_ASSERT(c >= 0x20);
        if (c == '"')
            CN_BUG("unescaped quote");
        if (c == '\\') {
            CN_ASSERT(i + 2 < n);
            CN_ASSERT(strchr("\"\\bfnrtu", s[i + 1]) != NULL);
            i += s[i + 1] == 'u' ? 6 : 2;
            continue;
        }
        size_t len = c < 0x80 ? 1 : c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
        CN_ASSERT(c < 0x80 || (c >= 0xC2 && c <= 0xF4));
        uint32_t cp = len == 1 ? c : len == 2 ? c & 0x1F : len == 3 ? c & 0x0F : c & 0x07;
        for (size_t k = 1; k < len; k++) {
            CN_ASSERT(i + k + 1 < n && (s[i + k] & 0xC0) == 0x80);
            cp = cp << 6 | (s[i + k] & 0x3F);
        }
        static const uint32_t min_cp[5] = {0, 0, 0x80, 0x800, 0x10000};
        CN_ASSERT(cp >= min_cp[len] && cp <= 0x10FFFF && (cp < 0xD800 || cp > 0xDFFF));
        i += len;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cn_buf b = CN_BUF_INIT;
    cn_json_quote(&b, (const char *)data, size);
    check_json_string((const unsigned char *)b.data, b.len);
    cn_buf_release(&b);
    return 0;
}
