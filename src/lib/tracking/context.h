/* SPDX-License-Identifier: MIT */
/* context.h - helpers behind cairn_run_capture_context that the runner shares: running a
 * program to read its output (no shell) and quoting a command line for display. */
#ifndef CN_CONTEXT_H
#define CN_CONTEXT_H
#include <stdbool.h>
#include <stddef.h>
#include "base/buf.h"

/* Runs argv (PATH-searched, no shell) with stdin and stderr on /dev/null and appends up to
 * max_bytes of its stdout to out (the rest is read and dropped; *truncated says so when not
 * NULL). Returns its exit status (0..255), or -1 when it could not run or died by a signal. */
int cn_context_exec_capture(const char *const *argv, size_t max_bytes, cn_buf *out,
                            bool *truncated);
/* Appends argv as one line a POSIX shell would split back into the same words. */
void cn_context_quote_argv(cn_buf *out, const char *const *argv, size_t argc);
/* Replaces every byte a tag key may not hold (see cn_key_char_ok) with '_', and ".."
 * segments with "__", so a path can be part of a key. */
void cn_context_key_part(cn_buf *out, const char *text);
/* The stem of an input file's tags, "cairn.input.<key part of path>", which with ".sha256"
 * or ".size_bytes" always fits CAIRN_KEY_MAX: when too long, the part becomes the first 12
 * hex digits of the SHA-256 of path, ':' and the part's tail (from a segment start). */
void cn_context_input_key(cn_buf *out, const char *path);
#endif
