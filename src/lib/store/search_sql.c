/* SPDX-License-Identifier: MIT */
/* search_sql.c - what runs, experiments, registered models and model versions searches may
 * name (their grammar descriptors) and how a parsed filter or order_by becomes SQL over their
 * tables: EXISTS subqueries on latest_metrics, params, tags, inputs, experiment_tags and the
 * registry's tag tables, comparisons on the entity tables, LEFT JOINs and CASE expressions for
 * sorting. Keys and values are always bound. */
#include <stdlib.h>
#include <string.h>
#include "store/search_sql.h"
#include "core/core.h"
#include "base/xmalloc.h"
#include "base/banned.h"

/* ---- cn_sql ---- */

void cn_sql_init(cn_sql *s)
{
    memset(s, 0, sizeof *s);
}

void cn_sql_release(cn_sql *s)
{
    if (!s)
        return;
    cn_buf_release(&s->sql);
    free(s->args);
    cn_arena_free(s->mem);
    memset(s, 0, sizeof *s);
}

static cn_sqlarg *add_arg(cn_sql *s)
{
    if (s->n_args == s->cap_args) {
        s->cap_args = s->cap_args ? 2 * s->cap_args : 8;
        s->args = cn_xrealloc(s->args, s->cap_args * sizeof *s->args);
    }
    cn_sqlarg *a = &s->args[s->n_args++];
    memset(a, 0, sizeof *a);
    return a;
}

void cn_sql_add_text(cn_sql *s, const char *text, size_t len)
{
    if (!s->mem)
        s->mem = cn_arena_new();
    cn_sqlarg *a = add_arg(s);
    a->type = CN_SQLARG_TEXT;
    a->text = cn_arena_strndup(s->mem, text, len);
}

void cn_sql_add_int(cn_sql *s, int64_t v)
{
    cn_sqlarg *a = add_arg(s);
    a->type = CN_SQLARG_INT;
    a->i = v;
}

void cn_sql_add_real(cn_sql *s, double v)
{
    cn_sqlarg *a = add_arg(s);
    a->type = CN_SQLARG_REAL;
    a->d = v;
}

/* ---- what every target shares ---- */

/* The SQL of an attribute or dataset field (by its cn_filter_field id). */
typedef struct column {
    const char *sql;
    bool is_nullable; /* may be NULL: sorts last */
} column;

static const char *const op_sql[] = {"=",  "<>",   "<",     "<=", ">",
                                     ">=", "LIKE", "ILIKE", "IN", "NOT IN"};

static void put_args_list(cn_sql *s, const cn_filter_item *it)
{
    cn_buf_putc(&s->sql, '(');
    for (; it; it = it->next) {
        cn_buf_puts(&s->sql, it->next ? "?, " : "?");
        cn_sql_add_text(s, it->s, it->len);
    }
    cn_buf_putc(&s->sql, ')');
}

/* "<col> <op> <value>" with the value bound. */
static void gen_cmp(cn_sql *s, const char *col, const cn_filter_node *n)
{
    switch (n->cmp) {
    case CN_FILTER_LIKE: cn_buf_printf(&s->sql, "%s LIKE ? ESCAPE '\\'", col); break;
    case CN_FILTER_ILIKE: cn_buf_printf(&s->sql, "LOWER(%s) LIKE LOWER(?) ESCAPE '\\'", col); break;
    case CN_FILTER_IN:
    case CN_FILTER_NOT_IN:
        cn_buf_printf(&s->sql, "%s %s ", col, op_sql[n->cmp]);
        put_args_list(s, n->val.items);
        return;
    default: cn_buf_printf(&s->sql, "%s %s ?", col, op_sql[n->cmp]); break;
    }
    if (n->val.kind == CN_FILTER_VAL_STRING)
        cn_sql_add_text(s, n->val.s, n->val.len);
    else if (n->val.kind == CN_FILTER_VAL_REAL)
        cn_sql_add_real(s, n->val.d);
    else
        cn_sql_add_int(s, n->val.i);
}

/* "<exists> ? AND <col> <op> <value>)": a keyed EXISTS subquery whose key binds first. */
static void gen_exists_key(cn_sql *s, const char *exists, const char *col, const cn_filter_node *n)
{
    cn_buf_puts(&s->sql, exists);
    cn_sql_add_text(s, n->id.key, n->id.key_len);
    cn_buf_puts(&s->sql, " AND ");
    gen_cmp(s, col, n);
    cn_buf_putc(&s->sql, ')');
}

/* A search target's compiler. */
typedef struct target_sql {
    const cn_filter_grammar *grammar;
    const column *attrs; /* by the grammar's attribute ids */
    void (*clause)(cn_sql *s, const cn_filter_node *n);
    /* The LEFT JOIN and sort expression of keys[k] on a metric, param or tag; NULL when the
     * grammar orders by attributes only. */
    void (*order_key)(const cn_order_key *key, size_t k, cn_sql *joins, cn_buf *order);
    const char *tie_break;         /* ends every ORDER BY */
    const char *tie_break_default; /* ends it when no order_by is given */
} target_sql;

/* ---- runs: runs r, latest_metrics, params, tags, inputs and datasets ---- */

enum { RUN_UUID, RUN_NAME, RUN_USER, RUN_STATUS, RUN_ARTIFACT_URI, RUN_START, RUN_END };
static const column run_columns[] = {
    [RUN_UUID] = {"r.run_uuid", false},
    [RUN_NAME] = {"r.name", false},
    [RUN_USER] = {"r.user_id", false},
    [RUN_STATUS] = {"r.status", false},
    [RUN_ARTIFACT_URI] = {"r.artifact_uri", false},
    [RUN_START] = {"r.start_time", false},
    [RUN_END] = {"r.end_time", true},
};

static const cn_filter_field run_attrs[] = {
    {"run_id", CN_FILTER_STRING, true, RUN_UUID},
    {"run_name", CN_FILTER_STRING, true, RUN_NAME},
    {"run name", CN_FILTER_STRING, true, RUN_NAME},
    {"Run name", CN_FILTER_STRING, true, RUN_NAME},
    {"Run Name", CN_FILTER_STRING, true, RUN_NAME},
    {"user_id", CN_FILTER_STRING, true, RUN_USER},
    {"status", CN_FILTER_STRING, true, RUN_STATUS},
    {"artifact_uri", CN_FILTER_STRING, true, RUN_ARTIFACT_URI},
    {"start_time", CN_FILTER_MS, true, RUN_START},
    {"created", CN_FILTER_MS, true, RUN_START},
    {"Created", CN_FILTER_MS, true, RUN_START},
    {"end_time", CN_FILTER_MS, true, RUN_END},
};
#define RUN_ATTRS_TEXT "run_id, run_name, user_id, status, artifact_uri, start_time, end_time"

enum { DATASET_NAME, DATASET_DIGEST, DATASET_CONTEXT };
static const column dataset_columns[] = {
    [DATASET_NAME] = {"d.name", false},
    [DATASET_DIGEST] = {"d.digest", false},
    [DATASET_CONTEXT] = {"i.context", false},
};

static const cn_filter_field dataset_fields[] = {
    {"name", CN_FILTER_STRING, true, DATASET_NAME},
    {"digest", CN_FILTER_STRING, true, DATASET_DIGEST},
    {"context", CN_FILTER_STRING, true, DATASET_CONTEXT},
};

static const cn_filter_grammar run_grammar = {
    .target = "runs",
    .kinds = CN_FILTER_BIT(CN_FILTER_METRIC) | CN_FILTER_BIT(CN_FILTER_PARAM) |
             CN_FILTER_BIT(CN_FILTER_TAG) | CN_FILTER_BIT(CN_FILTER_ATTR) |
             CN_FILTER_BIT(CN_FILTER_DATASET),
    .order_kinds = CN_FILTER_BIT(CN_FILTER_METRIC) | CN_FILTER_BIT(CN_FILTER_PARAM) |
                   CN_FILTER_BIT(CN_FILTER_TAG) | CN_FILTER_BIT(CN_FILTER_ATTR),
    .attrs = run_attrs,
    .n_attrs = CN_ARRAY_LEN(run_attrs),
    .dataset_fields = dataset_fields,
    .n_dataset_fields = CN_ARRAY_LEN(dataset_fields),
    .attrs_hint = RUN_ATTRS_TEXT,
    .order_attrs_hint = RUN_ATTRS_TEXT ", created",
    .kinds_hint = "metrics, params, tags, attributes or datasets",
    .unusable_hint = "metrics, params, tags, attributes or datasets",
    .dataset_hint = "name, digest, context",
    .order_hint = "metrics, params, tags or attributes",
};

static void run_clause(cn_sql *s, const cn_filter_node *n)
{
    switch (n->id.kind) {
    case CN_FILTER_METRIC:
        gen_exists_key(s,
                       "EXISTS (SELECT 1 FROM latest_metrics m WHERE m.run_uuid = r.run_uuid AND "
                       "m.key = ? AND m.is_nan = 0",
                       "m.value", n);
        break;
    case CN_FILTER_PARAM:
        gen_exists_key(s,
                       "EXISTS (SELECT 1 FROM params p WHERE p.run_uuid = r.run_uuid AND p.key = ?",
                       "p.value", n);
        break;
    case CN_FILTER_TAG:
        gen_exists_key(s,
                       "EXISTS (SELECT 1 FROM tags t WHERE t.run_uuid = r.run_uuid AND t.key = ?",
                       "t.value", n);
        break;
    case CN_FILTER_DATASET:
        cn_buf_puts(&s->sql, "EXISTS (SELECT 1 FROM inputs i JOIN datasets d ON "
                             "d.dataset_uuid = i.dataset_uuid WHERE i.run_uuid = r.run_uuid "
                             "AND ");
        gen_cmp(s, dataset_columns[n->id.field->id].sql, n);
        cn_buf_putc(&s->sql, ')');
        break;
    case CN_FILTER_ATTR: gen_cmp(s, run_columns[n->id.field->id].sql, n); break;
    }
}

const char *cn_search_run_key_table(const cn_order_key *key)
{
    switch (key->id.kind) {
    case CN_FILTER_METRIC: return "latest_metrics";
    case CN_FILTER_PARAM: return "params";
    case CN_FILTER_TAG: return "tags";
    default: return NULL;
    }
}

static void run_order_key(const cn_order_key *key, size_t k, cn_sql *joins, cn_buf *order)
{
    const char *dir = key->is_desc ? "DESC" : "ASC";
    cn_buf_printf(&joins->sql, " LEFT JOIN %s o%zu ON o%zu.run_uuid = r.run_uuid AND o%zu.key = ?",
                  cn_search_run_key_table(key), k, k, k);
    cn_sql_add_text(joins, key->id.key, key->id.key_len);
    if (key->id.kind == CN_FILTER_METRIC)
        cn_buf_printf(order,
                      "CASE WHEN o%zu.run_uuid IS NULL THEN 2 WHEN o%zu.is_nan = 1 THEN 1 "
                      "ELSE 0 END, o%zu.value %s",
                      k, k, k, dir);
    else
        cn_buf_printf(order, "CASE WHEN o%zu.run_uuid IS NULL THEN 1 ELSE 0 END, o%zu.value %s", k,
                      k, dir);
}

/* ---- experiments: experiments e and experiment_tags ---- */

enum { EXPERIMENT_NAME, EXPERIMENT_CREATED, EXPERIMENT_UPDATED, EXPERIMENT_ID };
static const column experiment_columns[] = {
    [EXPERIMENT_NAME] = {"e.name", false},
    [EXPERIMENT_CREATED] = {"e.creation_time", false},
    [EXPERIMENT_UPDATED] = {"e.last_update_time", false},
    [EXPERIMENT_ID] = {"e.experiment_id", false},
};

static const cn_filter_field experiment_attrs[] = {
    {"name", CN_FILTER_STRING, true, EXPERIMENT_NAME},
    {"creation_time", CN_FILTER_MS, true, EXPERIMENT_CREATED},
    {"last_update_time", CN_FILTER_MS, true, EXPERIMENT_UPDATED},
    {"experiment_id", CN_FILTER_MS, false, EXPERIMENT_ID},
};

static const cn_filter_grammar experiment_grammar = {
    .target = "experiments",
    .kinds = CN_FILTER_BIT(CN_FILTER_TAG) | CN_FILTER_BIT(CN_FILTER_ATTR),
    .order_kinds = CN_FILTER_BIT(CN_FILTER_ATTR),
    .order_names_target = true,
    .attrs = experiment_attrs,
    .n_attrs = CN_ARRAY_LEN(experiment_attrs),
    .attrs_hint = "name, creation_time, last_update_time, tags.<key>",
    .order_attrs_hint = "name, experiment_id, creation_time, last_update_time",
    .kinds_hint = NULL, /* an unknown prefix is "cannot be used for experiments" too */
    .unusable_hint = "name, creation_time, last_update_time or tags.<key>",
    .dataset_hint = "",
    .order_hint = "name, experiment_id, creation_time, last_update_time",
};

static void experiment_clause(cn_sql *s, const cn_filter_node *n)
{
    if (n->id.kind == CN_FILTER_TAG)
        gen_exists_key(s,
                       "EXISTS (SELECT 1 FROM experiment_tags t WHERE t.experiment_id = "
                       "e.experiment_id AND t.key = ?",
                       "t.value", n);
    else if (n->id.kind == CN_FILTER_ATTR)
        gen_cmp(s, experiment_columns[n->id.field->id].sql, n);
    else
        CN_BUG("experiment filter on a kind its grammar lacks");
}

/* ---- the registry: what models and versions share ---- */

/* The tag MLflow 3.x clients filter on in every registered-model search
 * ("tag.`mlflow.prompt.is_prompt` != 'true'"). */
#define PROMPT_TAG_KEY "mlflow.prompt.is_prompt"

/* Whether a clause matches an object that lacks the tag it names. Only MLflow's prompt tag
 * does, and only as MLflow master's SearchModelUtils has it: a model that is not a prompt has
 * no such tag, yet matches "!= 'true'" and "= 'false'". Every other tag clause needs the tag. */
static bool absent_tag_matches(const cn_filter_node *n)
{
    if (strcmp(n->id.key, PROMPT_TAG_KEY) != 0 || n->val.kind != CN_FILTER_VAL_STRING)
        return false;
    return (n->cmp == CN_FILTER_NE && strcmp(n->val.s, "true") == 0) ||
           (n->cmp == CN_FILTER_EQ && strcmp(n->val.s, "false") == 0);
}

/* A tag clause over table `tags` aliased t, whose rows belong to the object when `owner`
 * holds: "EXISTS (... AND t.value <op> ?)", with "NOT EXISTS (... ) OR" before it when a
 * missing tag matches too. */
static void registry_tag_clause(cn_sql *s, const char *tags, const char *owner,
                                const cn_filter_node *n)
{
    cn_buf exists = CN_BUF_INIT;
    cn_buf_printf(&exists, "EXISTS (SELECT 1 FROM %s t WHERE %s AND t.key = ?", tags, owner);
    bool absent = absent_tag_matches(n);
    if (absent) {
        cn_buf_printf(&s->sql, "(NOT %s) OR ", exists.data);
        cn_sql_add_text(s, n->id.key, n->id.key_len);
    }
    gen_exists_key(s, exists.data, "t.value", n);
    if (absent)
        cn_buf_putc(&s->sql, ')');
    cn_buf_release(&exists);
}

/* ---- registered models: registered_models m and registered_model_tags ---- */

enum { MODEL_NAME, MODEL_CREATED, MODEL_UPDATED };
static const column model_columns[] = {
    [MODEL_NAME] = {"m.name", false},
    [MODEL_CREATED] = {"m.creation_time", false},
    [MODEL_UPDATED] = {"m.last_updated_time", false},
};

static const cn_filter_field model_attrs[] = {
    {"name", CN_FILTER_STRING_SCALAR, true, MODEL_NAME},
    {"creation_timestamp", CN_FILTER_MS, true, MODEL_CREATED},
    {"timestamp", CN_FILTER_MS, true, MODEL_CREATED},
    {"last_updated_timestamp", CN_FILTER_MS, true, MODEL_UPDATED},
};

static const cn_filter_grammar model_grammar = {
    .target = "registered models",
    .kinds = CN_FILTER_BIT(CN_FILTER_TAG) | CN_FILTER_BIT(CN_FILTER_ATTR),
    .order_kinds = CN_FILTER_BIT(CN_FILTER_ATTR),
    .order_names_target = true,
    .attrs = model_attrs,
    .n_attrs = CN_ARRAY_LEN(model_attrs),
    .attrs_hint = "name, creation_timestamp, last_updated_timestamp, tags.<key>",
    .order_attrs_hint = "name, creation_timestamp, last_updated_timestamp",
    .kinds_hint = NULL, /* an unknown prefix is "cannot be used for registered models" too */
    .unusable_hint = "name, creation_timestamp, last_updated_timestamp or tags.<key>",
    .dataset_hint = "",
    .order_hint = "name, creation_timestamp, last_updated_timestamp",
    .tag_type = CN_FILTER_STRING_SCALAR,
    .ident_example = "name or tags.<key>",
};

static void model_clause(cn_sql *s, const cn_filter_node *n)
{
    if (n->id.kind == CN_FILTER_TAG)
        registry_tag_clause(s, "registered_model_tags", "t.name = m.name", n);
    else if (n->id.kind == CN_FILTER_ATTR)
        gen_cmp(s, model_columns[n->id.field->id].sql, n);
    else
        CN_BUG("registered model filter on a kind its grammar lacks");
}

/* ---- model versions: model_versions v and model_version_tags ---- */

enum {
    VERSION_NAME,
    VERSION_NUMBER,
    VERSION_RUN,
    VERSION_SOURCE,
    VERSION_CREATED,
    VERSION_UPDATED
};
static const column version_columns[] = {
    [VERSION_NAME] = {"v.name", false},
    [VERSION_NUMBER] = {"v.version", false},
    [VERSION_RUN] = {"COALESCE(v.run_id, '')", false}, /* NULL: the version has no run */
    [VERSION_SOURCE] = {"v.source", false},
    [VERSION_CREATED] = {"v.creation_time", false},
    [VERSION_UPDATED] = {"v.last_updated_time", false},
};

static const cn_filter_field version_attrs[] = {
    {"name", CN_FILTER_STRING_SCALAR, true, VERSION_NAME},
    {"version_number", CN_FILTER_INT, true, VERSION_NUMBER},
    {"run_id", CN_FILTER_STRING, true, VERSION_RUN},
    {"source_path", CN_FILTER_STRING_SCALAR, true, VERSION_SOURCE},
    {"creation_timestamp", CN_FILTER_MS, true, VERSION_CREATED},
    {"timestamp", CN_FILTER_MS, true, VERSION_CREATED},
    {"last_updated_timestamp", CN_FILTER_MS, true, VERSION_UPDATED},
};

static const cn_filter_grammar version_grammar = {
    .target = "model versions",
    .kinds = CN_FILTER_BIT(CN_FILTER_TAG) | CN_FILTER_BIT(CN_FILTER_ATTR),
    .order_kinds = CN_FILTER_BIT(CN_FILTER_ATTR),
    .order_names_target = true,
    .attrs = version_attrs,
    .n_attrs = CN_ARRAY_LEN(version_attrs),
    .attrs_hint = "name, version_number, run_id, source_path, creation_timestamp, "
                  "last_updated_timestamp, tags.<key>",
    .order_attrs_hint = "name, version_number, creation_timestamp, last_updated_timestamp, "
                        "run_id, source_path",
    .kinds_hint = NULL,
    .unusable_hint = "name, version_number, run_id, source_path, creation_timestamp, "
                     "last_updated_timestamp or tags.<key>",
    .dataset_hint = "",
    .order_hint = "name, version_number, creation_timestamp, last_updated_timestamp",
    .tag_type = CN_FILTER_STRING_SCALAR,
    .ident_example = "version_number or tags.<key>",
};

/* Whether no value of a run_id clause is "" (so a NULL run_id cannot match it). */
static bool has_no_empty_value(const cn_filter_node *n)
{
    if (n->val.kind == CN_FILTER_VAL_STRING)
        return n->val.len > 0;
    for (const cn_filter_item *it = n->val.items; it; it = it->next)
        if (it->len == 0)
            return false;
    return true;
}

static void version_clause(cn_sql *s, const cn_filter_node *n)
{
    if (n->id.kind == CN_FILTER_TAG) {
        registry_tag_clause(s, "model_version_tags", "t.name = v.name AND t.version = v.version",
                            n);
    } else if (n->id.kind == CN_FILTER_ATTR) {
        int id = n->id.field->id;
        /* run_id = / IN on the bare column can use its index; NULL never equals a non-empty
         * value, so that is the COALESCE's meaning. */
        if (id == VERSION_RUN && (n->cmp == CN_FILTER_EQ || n->cmp == CN_FILTER_IN) &&
            has_no_empty_value(n))
            gen_cmp(s, "v.run_id", n);
        else
            gen_cmp(s, version_columns[id].sql, n);
    } else {
        CN_BUG("model version filter on a kind its grammar lacks");
    }
}

/* ---- the targets ---- */

static const target_sql targets[] = {
    [CN_SEARCH_RUNS] = {&run_grammar, run_columns, run_clause, run_order_key,
                        "r.start_time DESC, r.run_uuid ASC", "r.start_time DESC, r.run_uuid ASC"},
    [CN_SEARCH_EXPERIMENTS] = {&experiment_grammar, experiment_columns, experiment_clause, NULL,
                               "e.experiment_id ASC", "e.creation_time DESC, e.experiment_id ASC"},
    [CN_SEARCH_MODELS] = {&model_grammar, model_columns, model_clause, NULL, "m.name ASC",
                          "m.name ASC"},
    [CN_SEARCH_MODEL_VERSIONS] = {&version_grammar, version_columns, version_clause, NULL,
                                  "v.name ASC, v.version DESC", "v.name ASC, v.version DESC"},
};

static const target_sql *target_of(cn_search_target t)
{
    CN_ASSERT((size_t)t < CN_ARRAY_LEN(targets));
    return &targets[t];
}

const cn_filter_grammar *cn_search_grammar(cn_search_target t)
{
    return target_of(t)->grammar;
}

static void gen_node(cn_sql *s, const target_sql *t, const cn_filter_node *n)
{
    if (n->kind == CN_FILTER_CLAUSE) {
        t->clause(s, n);
        return;
    }
    for (const cn_filter_node *k = n->first; k; k = k->next) {
        if (k != n->first)
            cn_buf_puts(&s->sql, n->kind == CN_FILTER_AND ? " AND " : " OR ");
        bool wrap = n->kind == CN_FILTER_AND && k->kind == CN_FILTER_OR;
        if (wrap)
            cn_buf_putc(&s->sql, '(');
        gen_node(s, t, k);
        if (wrap)
            cn_buf_putc(&s->sql, ')');
    }
}

void cn_search_sql_where(cn_search_target t, const cn_filter *f, cn_sql *where)
{
    if (!f->root) {
        cn_buf_puts(&where->sql, "1 = 1");
        return;
    }
    cn_buf_putc(&where->sql, '(');
    gen_node(where, target_of(t), f->root);
    cn_buf_putc(&where->sql, ')');
}

void cn_search_sql_order(cn_search_target t, const cn_order_key *keys, size_t n, cn_sql *joins,
                         cn_buf *order)
{
    const target_sql *ts = target_of(t);
    for (size_t k = 0; k < n; k++) {
        const cn_order_key *key = &keys[k];
        if (key->id.kind != CN_FILTER_ATTR) {
            CN_ASSERT(ts->order_key != NULL);
            ts->order_key(key, k, joins, order);
        } else {
            const column *col = &ts->attrs[key->id.field->id];
            if (col->is_nullable)
                cn_buf_printf(order, "CASE WHEN %s IS NULL THEN 1 ELSE 0 END, ", col->sql);
            cn_buf_printf(order, "%s %s", col->sql, key->is_desc ? "DESC" : "ASC");
        }
        cn_buf_puts(order, ", ");
    }
    cn_buf_puts(order, n ? ts->tie_break : ts->tie_break_default);
}

cairn_status cn_search_where_compile(cairn_ctx *ctx, cn_search_target t, const char *text,
                                     size_t len, cn_sql *where)
{
    cn_filter *f = NULL;
    cairn_status rc = cn_filter_parse(ctx, cn_search_grammar(t), text, len, &f);
    if (rc == CAIRN_OK)
        cn_search_sql_where(t, f, where);
    cn_filter_free(f);
    return rc;
}

cairn_status cn_search_order_compile(cairn_ctx *ctx, cn_search_target t,
                                     const char *const *order_by, size_t n, cn_sql *joins,
                                     cn_buf *order)
{
    cn_order *o = NULL;
    cairn_status rc = cn_order_parse(ctx, cn_search_grammar(t), order_by, n, &o);
    if (rc == CAIRN_OK)
        cn_search_sql_order(t, o->keys, o->n, joins, order);
    cn_order_free(o);
    return rc;
}
