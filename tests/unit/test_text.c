/* SPDX-License-Identifier: MIT */
/* test_text.c - core/text.h: the UTF-8 rule and its messages; plus the key rule's UTF-8 case
 * (core/key.h). */
#include <string.h>
#include "unit.h"
#include "core/core.h"
#include "core/key.h"
#include "core/text.h"

TEST(accepts_valid_utf8)
{
    CHECK(cn_text_valid(""));
    CHECK(cn_text_valid("plain ascii"));
    CHECK(cn_text_valid("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x90\xa6")); /* é € 🐦 */
    CHECK(cn_text_valid("\xf4\x8f\xbf\xbf"));                          /* U+10FFFF */
}

TEST(finds_the_first_bad_byte)
{
    CHECK(cn_text_utf8_end("ab\xff", 3) == 2);
    CHECK(cn_text_utf8_end("\xc0\x80", 2) == 0);         /* overlong NUL */
    CHECK(cn_text_utf8_end("a\xe0\x80\x80", 4) == 1);    /* overlong */
    CHECK(cn_text_utf8_end("ab\xed\xa0\x80", 5) == 2);   /* surrogate */
    CHECK(cn_text_utf8_end("\xf4\x90\x80\x80", 4) == 0); /* past U+10FFFF */
    CHECK(cn_text_utf8_end("xyz\xc3", 4) == 3);          /* truncated */
    CHECK(cn_text_utf8_end("a\x80", 2) == 1);            /* stray continuation */
    CHECK(cn_text_utf8_end("ab\0c", 4) == 2);            /* NUL inside a length */
}

TEST(messages_name_the_field_and_offset)
{
    cairn_ctx *ctx = cairn_ctx_new();
    CHECK(cn_text_check(ctx, "run name", "r\xc3\xa9\xff") == CAIRN_EINVAL);
    CHECK_STR(cairn_errmsg(ctx), "run name: invalid UTF-8 at byte 3");
    CHECK(cn_text_check_n(ctx, "param 'x' value", "ab\0c", 4) == CAIRN_EINVAL);
    CHECK_STR(cairn_errmsg(ctx), "param 'x' value: NUL byte at byte 2");
    CHECK(cn_text_check(ctx, "run name", NULL) == CAIRN_OK);
    CHECK(cn_key_check(ctx, "metric", "lo\xffss") == CAIRN_EINVAL);
    CHECK_STR(cairn_errmsg(ctx), "metric name: invalid UTF-8 at byte 2");
    CHECK(cn_key_check(ctx, "metric", "caf\xc3\xa9") == CAIRN_OK);
    cairn_close(ctx);
}

UNIT_MAIN(UNIT_CASE(accepts_valid_utf8), UNIT_CASE(finds_the_first_bad_byte),
          UNIT_CASE(messages_name_the_field_and_offset))
