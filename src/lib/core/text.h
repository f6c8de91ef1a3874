/* SPDX-License-Identifier: MIT */
/* text.h - the one rule for text a caller hands to the store (names, values, command lines):
 * valid UTF-8 without NUL bytes, checked at the API boundary (tracking/, runner/) so SQLite
 * and PostgreSQL refuse the same input with the same message before anything is written. */
#ifndef CN_TEXT_H
#define CN_TEXT_H
#include <stdbool.h>
#include <stddef.h>
#include "cairn/cairn.h"

/* The offset of the first byte of s[0 .. len) that does not start or continue a valid UTF-8
 * sequence (overlong forms, surrogates, code points past U+10FFFF and NUL are invalid), or
 * len when all of it is valid. */
size_t cn_text_utf8_end(const char *s, size_t len);
/* True when s (NUL-terminated) is valid UTF-8. */
bool cn_text_valid(const char *s);
/* EINVAL "<what>: invalid UTF-8 at byte N" unless s is valid UTF-8; NULL is valid (the
 * caller checks for missing values). what names the field: "run name", "param 'lr' value". */
cairn_status cn_text_check(cairn_ctx *ctx, const char *what, const char *s);
/* The same for s[0 .. len), which also must not hold a NUL byte ("NUL byte at byte N"). */
cairn_status cn_text_check_n(cairn_ctx *ctx, const char *what, const char *s, size_t len);
/* EINVAL "invalid <what>: the name is empty" for NULL or "", "invalid <what> '<its first 40
 * bytes>...': longer than <max> characters" past max bytes; what is "model name", .... */
cairn_status cn_text_check_name(cairn_ctx *ctx, const char *what, const char *name, size_t max);
#endif
