/* SPDX-License-Identifier: MIT */
/* str.h - small string helpers. */
#ifndef CN_STR_H
#define CN_STR_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

char *cn_asprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2))); /* aborts on OOM */
size_t cn_strlcpy(char *dst, const char *src, size_t size);
bool cn_str_starts(const char *s, const char *prefix);
bool cn_str_ends(const char *s, const char *suffix);
bool cn_str_eq_nocase(const char *a, const char *b);
/* Whether s is one of the strings of a NULL-terminated list. */
bool cn_str_in(const char *s, const char *const *list);
/* Parses a whole string as a number; false on trailing junk, empty input or overflow. */
bool cn_parse_int64(const char *s, int64_t *out);
bool cn_parse_double(const char *s, double *out);
/* Formats a double so that parsing it back gives the same bits ("nan", "inf", "-inf" too). */
void cn_format_double(double v, char *out, size_t size);
/* The same in the shortest of %.15g, %.16g and %.17g that reads back as v: "0.1", "1", "1e+300"
 * (labels, CSV cells, and with a ".0" added, JSON numbers); out needs 32 bytes. */
void cn_format_double_short(double v, char *out, size_t size);
/* Levenshtein distance of a and b (99 when either is longer than 64 bytes). */
size_t cn_str_edit_distance(const char *a, const char *b);
/* The candidate nearest to word, at most two edits away and fewer edits than word has
 * characters (a "did you mean"), or NULL; candidates[0 .. n) may hold NULLs. */
const char *cn_str_nearest(const char *word, const char *const *candidates, size_t n);
/* Lowercase hex of n bytes into out (2n+1 chars). */
void cn_hex(const unsigned char *p, size_t n, char *out);
#endif
