/* SPDX-License-Identifier: MIT */
/* search_sql.h - compiles parsed search filters and order_by entries (formats/filter.h) into
 * portable SQL with '?' placeholders, one compiler per search target (runs, experiments,
 * registered models, model versions) beside the grammar descriptor that says what the
 * target's filters may name. Called by store_search.c and store_registry.c. User text never reaches
 * the SQL: every key and every value is bound. */
#ifndef CN_SEARCH_SQL_H
#define CN_SEARCH_SQL_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "cairn/cairn.h"
#include "formats/filter.h"
#include "base/arena.h"
#include "base/buf.h"

/* What a search looks for. The SQL refers to the table aliases of the caller's query:
 * runs: "FROM runs r", experiments: "FROM experiments e", registered models:
 * "FROM registered_models m", model versions: "FROM model_versions v". */
typedef enum cn_search_target {
    CN_SEARCH_RUNS,
    CN_SEARCH_EXPERIMENTS,
    CN_SEARCH_MODELS,
    CN_SEARCH_MODEL_VERSIONS
} cn_search_target;
#define CN_SEARCH_TARGET_LAST CN_SEARCH_MODEL_VERSIONS

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

/* The grammar of t's filters and order_by entries (static). Runs: metrics, params, tags,
 * attributes and dataset fields; experiments: name, creation_time, last_update_time and tags
 * (and experiment_id in order_by); registered models: name, creation_timestamp (timestamp),
 * last_updated_timestamp and tags; model versions: name, version_number, run_id, source_path,
 * creation_timestamp, last_updated_timestamp and tags. In registry filters a missing
 * "mlflow.prompt.is_prompt" tag matches "!= 'true'" and "= 'false'" (MLflow 3.x clients append
 * the first to every registered-model search); every other tag clause needs the tag. */
const cn_filter_grammar *cn_search_grammar(cn_search_target t);

/* Appends f (parsed with cn_search_grammar(t)) to where->sql as a parenthesised boolean
 * expression, its arguments to where->args; an empty filter gives "1 = 1". */
void cn_search_sql_where(cn_search_target t, const cn_filter *f, cn_sql *where);

/* Appends the LEFT JOINs of keys[0 .. n) (parsed with cn_search_grammar(t); to put after
 * "FROM runs r", their arguments bound before the WHERE's) to joins, and the ORDER BY list
 * without the keyword to order, ending with the fixed tie-breakers: runs "r.start_time DESC,
 * r.run_uuid ASC"; experiments "e.experiment_id ASC" (and "e.creation_time DESC" before it
 * when n == 0); registered models "m.name ASC"; model versions "v.name ASC, v.version DESC"
 * (the registry targets order by attributes only, so they add no joins). Missing values sort last
 * in both directions and NaN metrics after real numbers, so the list holds CASE expressions: use it
 * in a plain SELECT (not SELECT DISTINCT). The joins use the aliases o0, o1, ... (by key index), so
 * call this once per query. */
void cn_search_sql_order(cn_search_target t, const cn_order_key *keys, size_t n, cn_sql *joins,
                         cn_buf *order);

/* Parse and compile in one step: filter text (text, len; need not be NUL-terminated; NULL with
 * len 0 is fine) into where, or order_by entries into joins and order, as above. Fail with
 * CAIRN_EINVAL or CAIRN_ELIMIT (cn_filter_parse, cn_order_parse), leaving the output as it
 * was. */
cairn_status cn_search_where_compile(cairn_ctx *ctx, cn_search_target t, const char *text,
                                     size_t len, cn_sql *where);
cairn_status cn_search_order_compile(cairn_ctx *ctx, cn_search_target t,
                                     const char *const *order_by, size_t n, cn_sql *joins,
                                     cn_buf *order);

/* The table holding the values of an order_by key on a run's metric, param or tag
 * ("latest_metrics", "params", "tags"), or NULL for other keys: a search sorting by it first
 * can walk that table's (key, value) index. */
const char *cn_search_run_key_table(const cn_order_key *key);
#endif
