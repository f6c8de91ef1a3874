/* SPDX-License-Identifier: MIT */
/* filter.h - compiles search filters ("metrics.acc > 0.9 AND (params.opt = 'adam' OR ...)")
 * and order_by entries ("metrics.`val loss` DESC") for runs and experiments into portable SQL
 * with '?' placeholders (text -> AST -> SQL). Called by store.c; the grammar is docs/search.md.
 * User text never reaches the SQL: every key and every value is a bound argument. */
#ifndef CN_FILTER_H
#define CN_FILTER_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "cairn/cairn.h"
#include "base/arena.h"
#include "base/buf.h"

/* Limits; exceeding one fails with CAIRN_ELIMIT. */
#define CN_FILTER_MAX_LEN (1u << 20) /* bytes of filter text */
#define CN_FILTER_MAX_DEPTH 100      /* nested parentheses */
#define CN_FILTER_MAX_CLAUSES 1000   /* comparisons in one filter */
#define CN_FILTER_MAX_IN_ITEMS 10000 /* values in all IN / NOT IN lists of one filter */
#define CN_ORDER_MAX_KEYS 100        /* order_by entries */

/* What a filter searches. The SQL refers to the table aliases of the caller's query:
 * runs: "FROM runs r", experiments: "FROM experiments e". */
typedef enum cn_filter_target { CN_FILTER_RUNS, CN_FILTER_EXPERIMENTS } cn_filter_target;

typedef enum cn_sqlarg_type { CN_SQLARG_TEXT, CN_SQLARG_INT, CN_SQLARG_REAL } cn_sqlarg_type;

/* One bound argument: text (NUL-terminated, valid UTF-8, owned by the cn_sql's arena), i for
 * CN_SQLARG_INT (times in ms), d for CN_SQLARG_REAL (metric values). */
typedef struct cn_sqlarg {
    cn_sqlarg_type type;
    const char *text;
    int64_t i;
    double d;
} cn_sqlarg;

/* A piece of SQL and its arguments, args[k] binding the (k+1)-th '?' of sql. */
typedef struct cn_sql {
    cn_buf sql;
    cn_sqlarg *args;
    size_t n_args, cap_args;
    cn_arena *mem; /* argument text; created on first use */
} cn_sql;

void cn_sql_init(cn_sql *s);
void cn_sql_release(cn_sql *s); /* frees everything; s can be initialised again */
/* Append one argument (the caller writes the matching '?' into s->sql). Text is copied. */
void cn_sql_add_text(cn_sql *s, const char *text, size_t len);
void cn_sql_add_int(cn_sql *s, int64_t v);
void cn_sql_add_real(cn_sql *s, double v);

/* Compiles filter text (text, len; need not be NUL-terminated; NULL with len 0 is fine) into a
 * parenthesised boolean expression appended to where->sql, its arguments appended to
 * where->args. An empty or blank filter gives "1 = 1". Runs: metrics, params, tags, attributes
 * and dataset fields; experiments: name, creation_time, last_update_time and tags.
 * Fails with CAIRN_EINVAL (the message quotes the offending token and its 1-based character
 * position) or CAIRN_ELIMIT; on failure where is left as it was. */
cairn_status cn_filter_compile(cairn_ctx *ctx, cn_filter_target t, const char *text, size_t len,
                               cn_sql *where);

/* Compiles order_by entries "<identifier> [ASC|DESC]" (NUL-terminated strings). Appends LEFT
 * JOINs (to put after "FROM runs r", their arguments bound before the WHERE's) to joins, and
 * the ORDER BY list without the keyword to order, ending with the fixed tie-breakers:
 * runs "r.start_time DESC, r.run_uuid ASC"; experiments "e.experiment_id ASC" (and
 * "e.creation_time DESC" before it when n == 0). Missing values sort last in both directions
 * and NaN metrics after real numbers, so the list holds CASE expressions: use it in a plain
 * SELECT (not SELECT DISTINCT). The joins use the aliases o0, o1, ... (by entry index), so
 * call this once per query. Fails with CAIRN_EINVAL or CAIRN_ELIMIT; on failure joins and
 * order are left as they were. */
cairn_status cn_order_compile(cairn_ctx *ctx, cn_filter_target t, const char *const *order_by,
                              size_t n, cn_sql *joins, cn_buf *order);

/* What the first order_by entry sorts by, when it is a metric, param or tag ("metrics.acc
 * DESC"): *key_out (freed by the caller) and *desc_out say which and how. A search can then walk
 * the (key, value) index of latest_metrics, params or tags in order and stop after one page
 * instead of sorting every run. An entry it cannot parse is simply CN_LEAD_NONE
 * (cn_order_compile reports it). */
typedef enum cn_lead_kind { CN_LEAD_NONE, CN_LEAD_METRIC, CN_LEAD_PARAM, CN_LEAD_TAG } cn_lead_kind;
cn_lead_kind cn_order_leading_key(cairn_ctx *ctx, const char *entry, char **key_out,
                                  bool *desc_out);
#endif
