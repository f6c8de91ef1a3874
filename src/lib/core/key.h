/* SPDX-License-Identifier: MIT */
/* key.h - the one rule for metric, param and tag keys (MLflow's validation.py): used by the
 * store's writers, the run handle, the runner's line protocol and context capture. */
#ifndef CN_KEY_H
#define CN_KEY_H
#include <stdbool.h>
#include <stddef.h>
#include "cairn/cairn.h"

/* True for a byte a key may hold: letters, digits, '_', '-', '.', ' ', '/', ':' and any byte
 * of a UTF-8 sequence (MLflow's \w matches non-ASCII letters). */
bool cn_key_char_ok(unsigned char c);
/* True when key[0 .. len) is a valid key: 1..CAIRN_KEY_MAX allowed bytes of valid UTF-8 forming a
 * normalized relative path (no leading '/', no '.' or '..' segment, no "//", no trailing '/', not
 * starting with ".."). */
bool cn_key_valid(const char *key, size_t len);
/* cn_key_valid with a message: EINVAL "invalid <what> name '<key>': <why>". */
cairn_status cn_key_check(cairn_ctx *ctx, const char *what, const char *key);
#endif
