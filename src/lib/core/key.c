/* SPDX-License-Identifier: MIT */
/* key.c - the key rule of key.h, after MLflow's _VALID_PARAM_AND_METRIC_NAMES and
 * path_not_unique (posixpath.normpath(key) == key, not '.', not starting with '..' or '/'). */
#include <ctype.h>
#include <string.h>
#include "core/core.h"
#include "core/key.h"
#include "core/text.h"
#include "base/banned.h"

typedef enum problem {
    KEY_OK,
    KEY_EMPTY,
    KEY_TOO_LONG,
    KEY_BAD_CHAR,
    KEY_BAD_UTF8,
    KEY_NOT_NORMAL
} problem;

bool cn_key_char_ok(unsigned char c)
{
    return isalnum(c) || c == '_' || c == '-' || c == '.' || c == ' ' || c == '/' || c == ':' ||
           c >= 0x80;
}

static bool has_at(const char *key, size_t len, size_t at, const char *s)
{
    size_t n = strlen(s);
    return at + n <= len && memcmp(key + at, s, n) == 0;
}

/* A '.' or '..' segment, "//", a leading '/', a leading "..", or a trailing '/'. */
static bool is_not_normal(const char *key, size_t len)
{
    if (key[0] == '/' || has_at(key, len, 0, "..") || (len == 1 && key[0] == '.') ||
        has_at(key, len, 0, "./") || (len > 1 && key[len - 1] == '/'))
        return true;
    for (size_t i = 0; i < len; i++) {
        if (key[i] != '/')
            continue;
        if (has_at(key, len, i, "//") || has_at(key, len, i, "/./") || has_at(key, len, i, "/../"))
            return true;
        if ((i + 2 == len && key[i + 1] == '.') ||
            (i + 3 == len && key[i + 1] == '.' && key[i + 2] == '.'))
            return true;
    }
    return false;
}

static problem key_problem(const char *key, size_t len, size_t *bad_at)
{
    if (len == 0)
        return KEY_EMPTY;
    if (len > CAIRN_KEY_MAX)
        return KEY_TOO_LONG;
    for (size_t i = 0; i < len; i++)
        if (!cn_key_char_ok((unsigned char)key[i])) {
            *bad_at = i;
            return KEY_BAD_CHAR;
        }
    *bad_at = cn_text_utf8_end(key, len);
    if (*bad_at < len)
        return KEY_BAD_UTF8;
    return is_not_normal(key, len) ? KEY_NOT_NORMAL : KEY_OK;
}

bool cn_key_valid(const char *key, size_t len)
{
    size_t at;
    return key && key_problem(key, len, &at) == KEY_OK;
}

cairn_status cn_key_check(cairn_ctx *ctx, const char *what, const char *key)
{
    size_t at = 0;
    switch (key ? key_problem(key, strlen(key), &at) : KEY_EMPTY) {
    case KEY_OK: return CAIRN_OK;
    case KEY_EMPTY: return cn_fail(ctx, CAIRN_EINVAL, "invalid %s name: the name is empty", what);
    case KEY_TOO_LONG:
        return cn_fail(ctx, CAIRN_EINVAL, "invalid %s name '%.40s...': longer than %d characters",
                       what, key, CAIRN_KEY_MAX);
    case KEY_BAD_CHAR:
        return cn_fail(ctx, CAIRN_EINVAL,
                       "invalid %s name '%s': character '%c' is not allowed (use letters, digits, "
                       "'_', '-', '.', ' ', ':' and '/')",
                       what, key, key[at]);
    case KEY_BAD_UTF8:
        /* The key is not quoted: its bytes would make the message invalid UTF-8 too. */
        return cn_fail(ctx, CAIRN_EINVAL, "%s name: invalid UTF-8 at byte %zu", what, at);
    case KEY_NOT_NORMAL:
        return cn_fail(ctx, CAIRN_EINVAL,
                       "invalid %s name '%s': it must be a normalized relative path", what, key);
    }
    return CAIRN_OK;
}
