/* SPDX-License-Identifier: MIT */
/* db_pg.h - what db_pg.c exposes besides cn_db_pg_ops: the '?' to '$n' placeholder rewriter,
 * a small SQL lexer kept separate so it can be unit-tested and fuzzed without a server. */
#ifndef CN_DB_PG_H
#define CN_DB_PG_H
#include <stddef.h>
#include "cairn/cairn.h"
#include "base/buf.h"

/* The most parameters one PostgreSQL statement can take (the protocol counts them in 16 bits). */
#define CN_PG_MAX_PARAMS 65535

/* Rewrites the SQL text sql[0 .. len) for PostgreSQL: each '?' placeholder becomes $1, $2, ...
 * in order. A '?' is left alone inside 'string literals' (with '' escapes, and backslash escapes
 * in E'...' strings), "quoted identifiers", $tag$dollar quotes$tag$, -- line comments and
 * nested block comments. out is cleared, then receives the rewritten text (NUL-terminated);
 * *n_params receives the number of placeholders. Unterminated quotes or comments are copied as
 * they are (the server reports them). Fails with CAIRN_ELIMIT past CN_PG_MAX_PARAMS
 * placeholders; out then holds a partial text. */
cairn_status cn_pg_rewrite_placeholders(const char *sql, size_t len, cn_buf *out, int *n_params);
/* Writes uri into b (cleared first) with any password, in the authority or as a password=
 * parameter, replaced by ***: what messages show. */
void cn_pg_redact_uri(cn_buf *b, const char *uri);
#endif
