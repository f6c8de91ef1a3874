/* SPDX-License-Identifier: MIT */
/* text.c - the text rule of text.h: a UTF-8 validator after RFC 3629 section 4 (the table of
 * well-formed byte sequences), and the messages that name the field and the byte offset. */
#include <string.h>
#include "core/core.h"
#include "core/text.h"
#include "base/banned.h"

/* The length of the well-formed sequence at s[0 .. len), 0 when there is none. */
static size_t sequence_len(const unsigned char *s, size_t len)
{
    unsigned char c = s[0];
    unsigned char lo = 0x80, hi = 0xBF;
    size_t n;
    if (c >= 0x01 && c <= 0x7F)
        return 1;
    if (c >= 0xC2 && c <= 0xDF)
        n = 2;
    else if (c >= 0xE0 && c <= 0xEF)
        n = 3;
    else if (c >= 0xF0 && c <= 0xF4)
        n = 4;
    else
        return 0; /* NUL, a continuation byte, C0/C1 (overlong) or F5..FF */
    if (c == 0xE0)
        lo = 0xA0; /* overlong */
    else if (c == 0xED)
        hi = 0x9F; /* surrogates */
    else if (c == 0xF0)
        lo = 0x90; /* overlong */
    else if (c == 0xF4)
        hi = 0x8F; /* past U+10FFFF */
    if (len < n || s[1] < lo || s[1] > hi)
        return 0;
    for (size_t i = 2; i < n; i++)
        if (s[i] < 0x80 || s[i] > 0xBF)
            return 0;
    return n;
}

size_t cn_text_utf8_end(const char *s, size_t len)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0;
    while (i < len) {
        size_t n = sequence_len(u + i, len - i);
        if (n == 0)
            return i;
        i += n;
    }
    return len;
}

bool cn_text_valid(const char *s)
{
    size_t len = strlen(s);
    return cn_text_utf8_end(s, len) == len;
}

cairn_status cn_text_check_n(cairn_ctx *ctx, const char *what, const char *s, size_t len)
{
    if (!s)
        return CAIRN_OK;
    size_t at = cn_text_utf8_end(s, len);
    if (at == len)
        return CAIRN_OK;
    if (s[at] == '\0')
        return cn_fail(ctx, CAIRN_EINVAL, "%s: NUL byte at byte %zu", what, at);
    return cn_fail(ctx, CAIRN_EINVAL, "%s: invalid UTF-8 at byte %zu", what, at);
}

cairn_status cn_text_check(cairn_ctx *ctx, const char *what, const char *s)
{
    return s ? cn_text_check_n(ctx, what, s, strlen(s)) : CAIRN_OK;
}

cairn_status cn_text_check_name(cairn_ctx *ctx, const char *what, const char *name, size_t max)
{
    if (!name || !*name)
        return cn_fail(ctx, CAIRN_EINVAL, "invalid %s: the name is empty", what);
    if (strlen(name) > max)
        return cn_fail(ctx, CAIRN_EINVAL, "invalid %s '%.40s...': longer than %zu characters", what,
                       name, max);
    return CAIRN_OK;
}
