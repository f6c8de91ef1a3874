/* SPDX-License-Identifier: MIT */
/* cmd_runs.c - `cairn runs`: list, show, search, compare, delete, restore, export and metric
 * history of runs. Output formats are documented in docs/cli/cairn-runs.md. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "cairn/tracking.h"
#include "base/buf.h"
#include "base/jsonw.h"
#include "base/str.h"
#include "base/time.h"
#include "base/xmalloc.h"
#include "base/banned.h"

#define MAX_ORDER_BY 16
#define PAGE_SIZE 1000
#define TABLE_METRICS 4 /* metric columns in `runs list` */
#define TABLE_PARAMS 3  /* param columns */
#define SHORT_ID 8
#define ARTIFACTS_MAX 10000
#define ARTIFACT_DEPTH_MAX 32
#define CELL_CHARS 24    /* longer names and values are clipped in `runs list` */
#define COMPARE_CHARS 40 /* and in `runs compare` */

static const char *const synopsis_lines[] = {
    "cairn runs list [--experiment NAME_OR_ID]... [--all | --deleted] [--max N] [--columns LIST] "
    "[--json]",
    "cairn runs show RUN_ID [--json]",
    "cairn runs search [FILTER] [--experiment NAME_OR_ID]... [--all | --deleted] [--filter F] "
    "[--order-by KEY]... [--max N] [--page-token T] [--columns LIST] [--json]",
    "cairn runs compare RUN_ID RUN_ID... [--json]",
    "cairn runs delete RUN_ID...",
    "cairn runs restore RUN_ID...",
    "cairn runs set-status RUN_ID KILLED|FAILED|FINISHED",
    "cairn runs export RUN_ID... [--format json|csv] [-o FILE]",
    "cairn runs history RUN_ID KEY [--json]",
    "cairn runs diagnose RUN_ID [--gap G] [--baseline B] [--json]",
};
#define SELECT_HELP                                                                                \
    "  -e, --experiment NAME_OR_ID  only runs of this experiment (repeatable; default: all)\n"     \
    "      --all                    deleted runs too\n"                                            \
    "      --deleted                only deleted runs\n"
#define COLUMNS_HELP                                                                               \
    "      --columns LIST           the table's columns, comma-separated: run_id, name,\n"         \
    "                               experiment, status, start, duration, user,\n"                  \
    "                               metrics.KEY, params.KEY, tags.KEY or a bare KEY\n"             \
    "      --json                   print {\"runs\": [...]} as JSON\n"                             \
    "  -h, --help                   this help\n"

static const cli_verb_help helps[] = {
    {"list", "Lists runs, newest first, as a table: id (8 characters; any unique prefix of 6 or\n"
             "more names a run), name, status, start, duration, then the params whose values\n"
             "differ between the runs and the latest metrics. Every page is read, up to --max.\n"
             "\n"
             "options:\n" SELECT_HELP
             "      --max N                  show at most N runs\n" COLUMNS_HELP "\n"
             "examples:\n"
             "  cairn runs list -e quickstart\n"
             "  cairn runs list --max 5 --columns name,status,params.lr,metrics.val_acc\n"},
    {"show",
     "Shows one run, named by its id or a unique prefix of 6 or more characters: status (and\n"
     "why it failed), times, params, latest metrics, tags, dataset inputs and artifacts.\n"
     "\n"
     "options:\n"
     "      --json      print the run as JSON\n"
     "  -h, --help      this help\n"
     "\n"
     "examples:\n"
     "  cairn runs show 7451aa3c\n"
     "  cairn runs show 7451aa3c --json\n"},
    {"search",
     "Searches runs with a filter (MLflow's syntax: metrics.KEY, params.KEY, tags.KEY and\n"
     "attributes compared with = != < <= > >= LIKE ILIKE IN, AND, OR, ( )) and an order; one\n"
     "page of up to --max runs, the next page's token on stderr. The filter may also be the\n"
     "one argument. A filter that matches nothing, or an order-by, that names a metric,\n"
     "param or tag no run has gets a note with the nearest name that exists.\n"
     "\n"
     "options:\n" SELECT_HELP
     "  -f, --filter F               e.g. \"metrics.val_acc > 0.9 AND params.lr = '0.5'\"\n"
     "      --order-by KEY           metrics.KEY, params.KEY, tags.KEY, start_time, ... with\n"
     "                               ASC or DESC (repeatable; default: newest first)\n"
     "      --max N                  the page size (default 1000)\n"
     "      --page-token T           the page after the one that printed T\n" COLUMNS_HELP "\n"
     "examples:\n"
     "  cairn runs search -e quickstart \"metrics.val_acc > 0.5\" --order-by \"metrics.val_acc "
     "DESC\"\n"
     "  cairn runs search -f \"params.lr = '0.5'\" --max 10 --json\n"},
    {"compare",
     "Compares runs side by side: name, experiment, status, duration, every param (a '*'\n"
     "marks those that differ) and every latest metric.\n"
     "\n"
     "options:\n"
     "      --json      print {\"runs\": [...], \"differing_params\": [...]} as JSON\n"
     "  -h, --help      this help\n"
     "\n"
     "examples:\n"
     "  cairn runs compare 7451aa3c 9e02b417\n"},
    {"delete",
     "Deletes runs (soft: 'cairn runs restore' brings them back; 'cairn runs list --deleted'\n"
     "shows them).\n"
     "\n"
     "options:\n"
     "  -h, --help      this help\n"
     "\n"
     "examples:\n"
     "  cairn runs delete 7451aa3c 9e02b417\n"},
    {"restore", "Restores deleted runs (see them with 'cairn runs list --deleted').\n"
                "\n"
                "options:\n"
                "  -h, --help      this help\n"
                "\n"
                "examples:\n"
                "  cairn runs restore 7451aa3c\n"},
    {"set-status",
     "Ends a run by hand: sets its status (KILLED, FAILED or FINISHED) and its end time, e.g.\n"
     "for a run whose process died without a word.\n"
     "\n"
     "options:\n"
     "  -h, --help      this help\n"
     "\n"
     "examples:\n"
     "  cairn runs set-status 7451aa3c KILLED\n"},
    {"export",
     "Exports runs: JSON with every field, the full metric histories and the artifacts, or\n"
     "CSV with one row per run (params, latest metrics and tags as columns).\n"
     "\n"
     "options:\n"
     "      --format F       json (default) or csv\n"
     "  -o, --output FILE    write FILE instead of standard output\n"
     "  -h, --help           this help\n"
     "\n"
     "examples:\n"
     "  cairn runs export 7451aa3c 9e02b417 --format csv -o runs.csv\n"},
    {"history", "Prints every point of one metric of a run (step, value, time), in step order.\n"
                "\n"
                "options:\n"
                "      --json      print {\"run_id\", \"key\", \"metrics\": [...]} as JSON\n"
                "  -h, --help      this help\n"
                "\n"
                "examples:\n"
                "  cairn runs history 7451aa3c val_loss\n"},
    {"diagnose",
     "Diagnoses a run's training from its per-epoch metric histories: overfitting (the train\n"
     "metric above the validation metric by more than the gap, and the epoch from which it\n"
     "stayed so; or a validation loss rising above its minimum while the training loss\n"
     "falls), underfitting (the train metric within the gap of a trivial model's, or a\n"
     "training loss that barely fell), divergence (a non-finite loss, or one that rose back),\n"
     "vanishing or exploding gradients (grad_norm_layer_<i>) and the best epoch. Works on any\n"
     "run with train and validation series: cairn train's train_loss, val_loss, train_score,\n"
     "val_score; loss and val_loss; X_train and X_val; training_X and validation_X. Says what\n"
     "it checked, and \"no problem found\" when healthy; exit 0 either way (docs/diagnostics.md).\n"
     "\n"
     "options:\n"
     "      --gap G         overfitting threshold in the metric's units (default 0.05)\n"
     "      --baseline B    the train metric of a trivial model (default: the run's tag\n"
     "                      cairn.diagnosis.baseline, set by cairn train)\n"
     "      --json          print the diagnosis as JSON\n"
     "  -h, --help          this help\n"
     "\n"
     "examples:\n"
     "  cairn runs diagnose 7451aa3c\n"
     "  cairn runs diagnose 7451aa3c --gap 0.1 --json\n"},
};
static const cli_synopsis synopsis = {synopsis_lines, CN_ARRAY_LEN(synopsis_lines), helps,
                                      CN_ARRAY_LEN(helps)};

static const char *usage_of(const char *verb)
{
    return cli_verb_usage(&synopsis, verb);
}

enum {
    OPT_JSON = 1000,
    OPT_ALL,
    OPT_DELETED,
    OPT_ORDER_BY,
    OPT_MAX,
    OPT_PAGE_TOKEN,
    OPT_FORMAT,
    OPT_COLUMNS
};

/* ---- small collections ---- */

/* Run records gathered from one or more pages or gets; the pages own the memory. */
typedef struct run_set {
    size_t n, cap;
    const cairn_run_record **items;
    size_t n_pages;
    cairn_run_page **pages;
    size_t n_records;
    cairn_run_record **records;
} run_set;

static void run_set_push(run_set *s, const cairn_run_record *r)
{
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 64;
        s->items = cn_xrealloc(s->items, s->cap * sizeof *s->items);
    }
    s->items[s->n++] = r;
}

static void run_set_add_page(run_set *s, cairn_run_page *page)
{
    s->pages = cn_xrealloc(s->pages, (s->n_pages + 1) * sizeof *s->pages);
    s->pages[s->n_pages++] = page;
    for (size_t i = 0; i < page->n; i++)
        run_set_push(s, &page->items[i]);
}

static void run_set_add_record(run_set *s, cairn_run_record *rec)
{
    s->records = cn_xrealloc(s->records, (s->n_records + 1) * sizeof *s->records);
    s->records[s->n_records++] = rec;
    run_set_push(s, rec);
}

static void run_set_release(run_set *s)
{
    for (size_t i = 0; i < s->n_pages; i++)
        cairn_run_page_free(s->pages[i]);
    for (size_t i = 0; i < s->n_records; i++)
        cairn_run_record_free(s->records[i]);
    free(s->pages);
    free(s->records);
    free(s->items);
    memset(s, 0, sizeof *s);
}

/* Experiment names by id, looked up once each. */
typedef struct name_cache {
    size_t n;
    char **ids;
    char **names;
} name_cache;

static const char *experiment_name(cairn_ctx *ctx, name_cache *c, const char *id)
{
    for (size_t i = 0; i < c->n; i++)
        if (strcmp(c->ids[i], id) == 0)
            return c->names[i];
    cairn_experiment *e = NULL;
    char *name =
        cairn_experiment_get(ctx, id, &e) == CAIRN_OK ? cn_xstrdup(e->name) : cn_xstrdup(id);
    cairn_experiment_free(e);
    c->ids = cn_xrealloc(c->ids, (c->n + 1) * sizeof *c->ids);
    c->names = cn_xrealloc(c->names, (c->n + 1) * sizeof *c->names);
    c->ids[c->n] = cn_xstrdup(id);
    c->names[c->n++] = name;
    return name;
}

static void name_cache_release(name_cache *c)
{
    for (size_t i = 0; i < c->n; i++) {
        free(c->ids[i]);
        free(c->names[i]);
    }
    free(c->ids);
    free(c->names);
}

/* Keys sorted by how many runs have them (most first), then by name. */
typedef struct key_count {
    const char *key;
    size_t count;
} key_count;

static int cmp_str_ptr(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int cmp_key_count(const void *a, const void *b)
{
    const key_count *x = a, *y = b;
    if (x->count != y->count)
        return x->count > y->count ? -1 : 1;
    return strcmp(x->key, y->key);
}

typedef enum key_kind { KEYS_PARAMS, KEYS_METRICS, KEYS_TAGS } key_kind;

static size_t n_keys_of(const cairn_run_record *r, key_kind kind)
{
    return kind == KEYS_METRICS ? r->n_metrics : kind == KEYS_PARAMS ? r->n_params : r->n_tags;
}

static const char *key_of(const cairn_run_record *r, key_kind kind, size_t j)
{
    return kind == KEYS_METRICS  ? r->metrics[j].key
           : kind == KEYS_PARAMS ? r->params[j].key
                                 : r->tags[j].key;
}

/* The distinct metric, param or tag keys of a run set; *n_out keys, most common first. */
static key_count *common_keys(const run_set *s, key_kind kind, size_t *n_out)
{
    size_t total = 0;
    for (size_t i = 0; i < s->n; i++)
        total += n_keys_of(s->items[i], kind);
    const char **all = cn_xcalloc(total ? total : 1, sizeof *all);
    size_t k = 0;
    for (size_t i = 0; i < s->n; i++)
        for (size_t j = 0; j < n_keys_of(s->items[i], kind); j++)
            all[k++] = key_of(s->items[i], kind, j);
    qsort(all, total, sizeof *all, cmp_str_ptr);
    key_count *keys = cn_xcalloc(total ? total : 1, sizeof *keys);
    size_t n_keys = 0;
    for (size_t i = 0; i < total; i++) {
        if (n_keys && strcmp(keys[n_keys - 1].key, all[i]) == 0)
            keys[n_keys - 1].count++;
        else
            keys[n_keys++] = (key_count){all[i], 1};
    }
    free(all);
    qsort(keys, n_keys, sizeof *keys, cmp_key_count);
    *n_out = n_keys;
    return keys;
}

static int cmp_key_name(const void *a, const void *b)
{
    return strcmp(((const key_count *)a)->key, ((const key_count *)b)->key);
}

static const cairn_metric *find_metric(const cairn_run_record *r, const char *key)
{
    for (size_t i = 0; i < r->n_metrics; i++)
        if (strcmp(r->metrics[i].key, key) == 0)
            return &r->metrics[i];
    return NULL;
}

/* The value of key in a list of params or tags, or NULL. */
static const char *find_value(const cairn_param *kv, size_t n, const char *key)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(kv[i].key, key) == 0)
            return kv[i].value;
    return NULL;
}

static const char *find_param(const cairn_run_record *r, const char *key)
{
    return find_value(r->params, r->n_params, key);
}

/* ---- artifacts, listed recursively ---- */

typedef struct artifact_set {
    size_t n;
    cairn_artifact_list **lists;
} artifact_set;

static cairn_status list_artifacts(cairn_ctx *ctx, const char *run_id, const char *path, int depth,
                                   artifact_set *out, size_t *n_files)
{
    cairn_artifact_list *list = NULL;
    cairn_status rc = cairn_run_artifacts_list(ctx, run_id, path, &list);
    if (rc != CAIRN_OK)
        return rc;
    out->lists = cn_xrealloc(out->lists, (out->n + 1) * sizeof *out->lists);
    out->lists[out->n++] = list;
    for (size_t i = 0; i < list->n && *n_files < ARTIFACTS_MAX; i++) {
        if (!list->items[i].is_dir) {
            (*n_files)++;
            continue;
        }
        if (depth + 1 >= ARTIFACT_DEPTH_MAX)
            continue;
        rc = list_artifacts(ctx, run_id, list->items[i].path, depth + 1, out, n_files);
        if (rc != CAIRN_OK)
            return rc;
    }
    return CAIRN_OK;
}

static int cmp_artifact(const void *a, const void *b)
{
    return strcmp((*(const cairn_artifact *const *)a)->path,
                  (*(const cairn_artifact *const *)b)->path);
}

/* The files (not folders) of a run's artifacts sorted by path; *files is freed by the caller,
 * the entries by artifact_set_release(). */
static cairn_status artifact_files(cairn_ctx *ctx, const char *run_id, artifact_set *set,
                                   const cairn_artifact ***files, size_t *n)
{
    size_t n_files = 0;
    *files = NULL;
    *n = 0;
    cairn_status rc = list_artifacts(ctx, run_id, NULL, 0, set, &n_files);
    if (rc != CAIRN_OK)
        return rc;
    const cairn_artifact **v = cn_xcalloc(n_files ? n_files : 1, sizeof *v);
    size_t k = 0;
    for (size_t i = 0; i < set->n; i++)
        for (size_t j = 0; j < set->lists[i]->n && k < n_files; j++)
            if (!set->lists[i]->items[j].is_dir)
                v[k++] = &set->lists[i]->items[j];
    qsort(v, k, sizeof *v, cmp_artifact);
    *files = v;
    *n = k;
    return CAIRN_OK;
}

static void artifact_set_release(artifact_set *set)
{
    for (size_t i = 0; i < set->n; i++)
        cairn_artifact_list_free(set->lists[i]);
    free(set->lists);
    memset(set, 0, sizeof *set);
}

/* ---- JSON ---- */

static void write_metric_point(cn_jsonw *w, const char *key, const cairn_metric *m)
{
    cn_jsonw_object_begin(w);
    if (key)
        cn_jsonw_kstring(w, "key", key);
    cn_jsonw_kdouble(w, "value", m->value);
    cn_jsonw_kint(w, "timestamp", m->timestamp_ms);
    cn_jsonw_kint(w, "step", m->step);
    cn_jsonw_object_end(w);
}

static void write_pairs(cn_jsonw *w, const char *name, const cairn_param *kv, size_t n)
{
    cn_jsonw_key(w, name);
    cn_jsonw_object_begin(w);
    for (size_t i = 0; i < n; i++)
        cn_jsonw_kstring(w, kv[i].key, kv[i].value);
    cn_jsonw_object_end(w);
}

/* The fields every run object has; the caller closes the object (show and export add more). */
static void write_run_fields(cn_jsonw *w, const cairn_run_record *r)
{
    const cairn_run_info *in = &r->info;
    cn_jsonw_object_begin(w);
    cn_jsonw_kstring(w, "run_id", in->run_id);
    cn_jsonw_kstring(w, "experiment_id", in->experiment_id);
    cn_jsonw_kstring(w, "run_name", in->run_name);
    cn_jsonw_kstring(w, "user_id", in->user_id);
    cn_jsonw_kstring(w, "status", cairn_run_status_str(in->status));
    cn_jsonw_kint(w, "start_time", in->start_time_ms);
    cn_jsonw_key(w, "end_time");
    if (in->end_time_ms > 0)
        cn_jsonw_int(w, in->end_time_ms);
    else
        cn_jsonw_null(w);
    cn_jsonw_kstring(w, "lifecycle_stage", in->is_deleted ? "deleted" : "active");
    cn_jsonw_kstring(w, "artifact_uri", in->artifact_uri);
    write_pairs(w, "params", r->params, r->n_params);
    cn_jsonw_key(w, "metrics");
    cn_jsonw_object_begin(w);
    for (size_t i = 0; i < r->n_metrics; i++)
        cn_jsonw_kdouble(w, r->metrics[i].key, r->metrics[i].value);
    cn_jsonw_object_end(w);
    write_pairs(w, "tags", r->tags, r->n_tags);
    cn_jsonw_key(w, "inputs");
    cn_jsonw_array_begin(w);
    for (size_t i = 0; i < r->n_inputs; i++) {
        const cairn_dataset_input *d = &r->inputs[i];
        cn_jsonw_object_begin(w);
        cn_jsonw_kstring(w, "name", d->name);
        cn_jsonw_kstring(w, "digest", d->digest);
        cn_jsonw_kstring(w, "source_type", d->source_type);
        cn_jsonw_kstring(w, "source", d->source);
        cn_jsonw_kstring(w, "schema", d->schema);
        cn_jsonw_kstring(w, "profile", d->profile);
        cn_jsonw_kstring(w, "context", d->context);
        cn_jsonw_object_end(w);
    }
    cn_jsonw_array_end(w);
}

/* "runs": [...], the fields of every run of the set. */
static void write_runs(cn_jsonw *w, const run_set *s)
{
    cn_jsonw_key(w, "runs");
    cn_jsonw_array_begin(w);
    for (size_t i = 0; i < s->n; i++) {
        write_run_fields(w, s->items[i]);
        cn_jsonw_object_end(w);
    }
    cn_jsonw_array_end(w);
}

static void write_artifacts(cn_jsonw *w, const cairn_artifact *const *files, size_t n)
{
    cn_jsonw_key(w, "artifacts");
    cn_jsonw_array_begin(w);
    for (size_t i = 0; i < n; i++) {
        cn_jsonw_object_begin(w);
        cn_jsonw_kstring(w, "path", files[i]->path);
        cn_jsonw_kint(w, "file_size", files[i]->size_bytes);
        cn_jsonw_kstring(w, "sha256", files[i]->sha256);
        cn_jsonw_object_end(w);
    }
    cn_jsonw_array_end(w);
}

static int finish_json(cn_jsonw *w)
{
    bool ok = cn_jsonw_finish(w);
    cn_jsonw_release(w);
    return ok ? 0 : cli_error("writing the output failed");
}

/* ---- tables ---- */

static void format_duration_of(const cairn_run_info *in, char *out, size_t size)
{
    int64_t end = in->end_time_ms > 0               ? in->end_time_ms
                  : in->status == CAIRN_RUN_RUNNING ? cn_now_ms()
                                                    : 0;
    if (in->start_time_ms <= 0 || end <= 0)
        snprintf(out, size, "-");
    else
        cli_format_duration(end - in->start_time_ms, out, size);
}

/* A column of the runs table: an attribute, or a metric, param or tag by key. */
typedef enum col_kind {
    COL_ID,
    COL_NAME,
    COL_EXPERIMENT,
    COL_STATUS,
    COL_START,
    COL_DURATION,
    COL_USER,
    COL_METRIC,
    COL_PARAM,
    COL_TAG
} col_kind;

typedef struct table_col {
    col_kind kind;
    const char *key; /* metric, param or tag key (borrowed) */
} table_col;

typedef struct col_list {
    size_t n;
    table_col cols[64];
} col_list;

static bool has_col(const col_list *l, col_kind kind, const char *key)
{
    for (size_t i = 0; i < l->n; i++)
        if (l->cols[i].kind == kind && (!key || strcmp(l->cols[i].key, key) == 0))
            return true;
    return false;
}

static void add_col(col_list *l, col_kind kind, const char *key)
{
    if (l->n < CN_ARRAY_LEN(l->cols) && !has_col(l, kind, key))
        l->cols[l->n++] = (table_col){kind, key};
}

static bool is_ci_key(const char *key)
{
    return cn_str_ends(key, "_ci_low") || cn_str_ends(key, "_ci_high");
}

/* Whether param key differs between the runs that log params: two different values, or
 * present in some of them and absent from others (runs without params, such as a script's,
 * do not count). */
static bool param_varies(const run_set *s, const char *key)
{
    const char *first = NULL;
    bool missing = false;
    for (size_t i = 0; i < s->n; i++) {
        if (s->items[i]->n_params == 0)
            continue;
        const char *v = find_param(s->items[i], key);
        if (!v) {
            missing = true;
            continue;
        }
        if (first && strcmp(first, v) != 0)
            return true;
        first = v;
    }
    return first && missing;
}

/* The key of an order-by clause on kind ("metrics.val_auc DESC" -> "val_auc"), copied into
 * out; false when the clause is on something else. */
static bool order_key(const char *clause, const char *prefix, char *out, size_t size)
{
    if (!cn_str_starts(clause, prefix))
        return false;
    const char *k = clause + strlen(prefix);
    size_t len = 0;
    bool quoted = *k == '`' || *k == '"';
    if (quoted)
        k++;
    while (k[len] && (quoted ? k[len] != '`' && k[len] != '"' : k[len] != ' '))
        len++;
    if (len == 0 || len >= size)
        return false;
    memcpy(out, k, len);
    out[len] = '\0';
    return true;
}

/* The key in the set equal to name (so the column borrows the set's string), or NULL. */
static const char *set_key(const run_set *s, key_kind kind, const char *name)
{
    for (size_t i = 0; i < s->n; i++)
        for (size_t j = 0; j < n_keys_of(s->items[i], kind); j++)
            if (strcmp(key_of(s->items[i], kind, j), name) == 0)
                return key_of(s->items[i], kind, j);
    return NULL;
}

/* The default columns: RUN ID, NAME, EXPERIMENT, STATUS, START, DURATION; the metrics sorted
 * by, then the most common metrics (TABLE_METRICS), then one metric of each run that shows
 * none yet (a script's own); the params sorted by, then the params whose values differ
 * between the runs (TABLE_PARAMS); constant params are left out. */
static void default_columns(const run_set *s, const char *const *order_by, size_t n_order_by,
                            col_list *l)
{
    for (col_kind k = COL_ID; k <= COL_DURATION; k++)
        add_col(l, k, NULL);
    char key[256];
    for (size_t i = 0; i < n_order_by; i++) {
        const char *k;
        if (order_key(order_by[i], "metrics.", key, sizeof key) &&
            (k = set_key(s, KEYS_METRICS, key)))
            add_col(l, COL_METRIC, k);
    }
    size_t n_mk, n_pk, shown = 0;
    key_count *mk = common_keys(s, KEYS_METRICS, &n_mk);
    key_count *pk = common_keys(s, KEYS_PARAMS, &n_pk);
    /* Confidence bounds belong to `runs show`; the table keeps the estimates. */
    for (size_t i = 0; i < n_mk && shown < TABLE_METRICS; i++)
        if (!is_ci_key(mk[i].key) && !has_col(l, COL_METRIC, mk[i].key)) {
            add_col(l, COL_METRIC, mk[i].key);
            shown++;
        }
    for (size_t i = 0; i < s->n && shown < 2 * TABLE_METRICS; i++) {
        const cairn_run_record *r = s->items[i];
        bool any = false;
        const char *pick = NULL;
        for (size_t j = 0; j < r->n_metrics && !any; j++) {
            any = has_col(l, COL_METRIC, r->metrics[j].key);
            if (!is_ci_key(r->metrics[j].key) && (!pick || strcmp(r->metrics[j].key, pick) < 0))
                pick = r->metrics[j].key;
        }
        if (!any && pick) {
            add_col(l, COL_METRIC, pick);
            shown++;
        }
    }
    for (size_t i = 0; i < n_order_by; i++) {
        const char *k;
        if (order_key(order_by[i], "params.", key, sizeof key) &&
            (k = set_key(s, KEYS_PARAMS, key)))
            add_col(l, COL_PARAM, k);
    }
    shown = 0;
    for (size_t i = 0; i < n_pk && shown < TABLE_PARAMS; i++)
        if (param_varies(s, pk[i].key) && !has_col(l, COL_PARAM, pk[i].key)) {
            add_col(l, COL_PARAM, pk[i].key);
            shown++;
        }
    free(mk);
    free(pk);
}

/* Parses --columns: attributes (run_id, name, experiment, status, start, duration, user),
 * metrics.KEY, params.KEY, tags.KEY, or a bare key (a metric of some listed run, else a
 * param, else a tag). The RUN ID column comes first when not named. Keys point into text. */
static int parse_columns(char *text, const run_set *s, const char *usage, col_list *l)
{
    static const struct {
        const char *name;
        col_kind kind;
    } attrs[] = {{"run_id", COL_ID},
                 {"id", COL_ID},
                 {"name", COL_NAME},
                 {"run_name", COL_NAME},
                 {"experiment", COL_EXPERIMENT},
                 {"status", COL_STATUS},
                 {"start", COL_START},
                 {"start_time", COL_START},
                 {"duration", COL_DURATION},
                 {"user", COL_USER}};
    bool has_id = false;
    col_list given = {0};
    for (char *c = text; c;) {
        char *comma = strchr(c, ',');
        if (comma)
            *comma = '\0';
        if (!*c)
            return cli_usage(usage, "--columns: an empty column name");
        size_t a;
        for (a = 0; a < CN_ARRAY_LEN(attrs); a++)
            if (strcmp(c, attrs[a].name) == 0)
                break;
        if (a < CN_ARRAY_LEN(attrs)) {
            add_col(&given, attrs[a].kind, NULL);
            has_id |= attrs[a].kind == COL_ID;
        } else if (cn_str_starts(c, "metrics.") && c[8]) {
            add_col(&given, COL_METRIC, c + 8);
        } else if (cn_str_starts(c, "params.") && c[7]) {
            add_col(&given, COL_PARAM, c + 7);
        } else if (cn_str_starts(c, "tags.") && c[5]) {
            add_col(&given, COL_TAG, c + 5);
        } else {
            col_kind k = set_key(s, KEYS_METRICS, c)  ? COL_METRIC
                         : set_key(s, KEYS_PARAMS, c) ? COL_PARAM
                         : set_key(s, KEYS_TAGS, c)   ? COL_TAG
                                                      : COL_METRIC;
            add_col(&given, k, c);
        }
        c = comma ? comma + 1 : NULL;
    }
    if (!has_id)
        add_col(l, COL_ID, NULL);
    for (size_t i = 0; i < given.n; i++)
        add_col(l, given.cols[i].kind, given.cols[i].key);
    return -1;
}

static const char *col_header(const table_col *c)
{
    static const char *const names[] = {"RUN ID", "NAME",     "EXPERIMENT", "STATUS",
                                        "START",  "DURATION", "USER"};
    return c->kind <= COL_USER ? names[c->kind] : c->key;
}

static void print_run_table(cairn_ctx *ctx, const run_set *s, const col_list *l, FILE *out)
{
    size_t n_cols = l->n;
    const char **cells = cn_xcalloc(n_cols, sizeof *cells);
    char **owned = cn_xcalloc(n_cols, sizeof *owned);
    char clip[4 * CELL_CHARS + 1];
    for (size_t c = 0; c < n_cols; c++)
        cells[c] = owned[c] =
            cn_xstrdup(cli_clip(col_header(&l->cols[c]), CELL_CHARS, clip, sizeof clip));
    cli_table *t = cli_table_new(n_cols, cells);
    for (size_t c = 0; c < n_cols; c++)
        free(owned[c]);

    name_cache names = {0};
    const size_t cell = 4 * CELL_CHARS + 1;
    char *buf = cn_xcalloc(n_cols, cell);
    for (size_t i = 0; i < s->n; i++) {
        const cairn_run_record *r = s->items[i];
        const char *status = cairn_run_status_str(r->info.status);
        for (size_t c = 0; c < n_cols; c++) {
            const table_col *col = &l->cols[c];
            char *b = buf + cell * c;
            const char *v = NULL;
            switch (col->kind) {
            case COL_ID: cn_strlcpy(b, r->info.run_id, SHORT_ID + 1); break;
            case COL_NAME: v = r->info.run_name ? r->info.run_name : ""; break;
            case COL_EXPERIMENT: v = experiment_name(ctx, &names, r->info.experiment_id); break;
            case COL_STATUS: v = r->info.is_deleted ? "DELETED" : status ? status : "?"; break;
            case COL_START: cli_format_time(r->info.start_time_ms, b, cell); break;
            case COL_DURATION: format_duration_of(&r->info, b, cell); break;
            case COL_USER: v = r->info.user_id ? r->info.user_id : ""; break;
            case COL_METRIC: {
                const cairn_metric *m = find_metric(r, col->key);
                if (m)
                    cli_format_value(m->value, b, cell);
                else
                    v = "-";
                break;
            }
            case COL_PARAM: v = find_param(r, col->key); break;
            case COL_TAG: v = find_value(r->tags, r->n_tags, col->key); break;
            }
            if ((col->kind == COL_PARAM || col->kind == COL_TAG) && !v)
                v = "-";
            cells[c] = v ? cli_clip(v, CELL_CHARS, b, cell) : b;
        }
        cli_table_add(t, cells);
    }
    cli_table_print(t, out);
    cli_table_free(t);
    name_cache_release(&names);
    free(buf);
    free(cells);
    free(owned);
}

/* ---- list and search ---- */

typedef struct query_args {
    const char *experiments[64];
    size_t n_experiments;
    const char *order_by[MAX_ORDER_BY];
    cairn_run_search q;
    int64_t max;
    const char *columns; /* --columns, NULL: the default columns */
    bool json;
} query_args;

static int parse_query(int argc, char **argv, const char *usage, bool is_search, query_args *a)
{
    static const struct option opts[] = {{"experiment", required_argument, NULL, 'e'},
                                         {"all", no_argument, NULL, OPT_ALL},
                                         {"deleted", no_argument, NULL, OPT_DELETED},
                                         {"filter", required_argument, NULL, 'f'},
                                         {"order-by", required_argument, NULL, OPT_ORDER_BY},
                                         {"max", required_argument, NULL, OPT_MAX},
                                         {"page-token", required_argument, NULL, OPT_PAGE_TOKEN},
                                         {"columns", required_argument, NULL, OPT_COLUMNS},
                                         {"json", no_argument, NULL, OPT_JSON},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    bool all = false, deleted = false;
    int c;
    while ((c = getopt_long(argc, argv, ":e:f:h", opts, NULL)) != -1) {
        bool search_only = c == 'f' || c == OPT_ORDER_BY || c == OPT_PAGE_TOKEN;
        if (search_only && !is_search) {
            for (size_t i = 0; opts[i].name; i++)
                if (opts[i].val == c)
                    return cli_usage(usage, "unknown option '--%s'; 'cairn runs search' has it",
                                     opts[i].name);
        }
        switch (c) {
        case 'h': cli_help(usage, NULL); return 0;
        case 'e':
            if (a->n_experiments == CN_ARRAY_LEN(a->experiments))
                return cli_usage(usage, "at most %zu --experiment options",
                                 CN_ARRAY_LEN(a->experiments));
            a->experiments[a->n_experiments++] = optarg;
            break;
        case OPT_ALL: all = true; break;
        case OPT_DELETED: deleted = true; break;
        case 'f': a->q.filter = optarg; break;
        case OPT_ORDER_BY:
            if (a->q.n_order_by == MAX_ORDER_BY)
                return cli_usage(usage, "at most %d --order-by keys", MAX_ORDER_BY);
            a->order_by[a->q.n_order_by++] = optarg;
            break;
        case OPT_MAX:
            if (!cli_parse_count(optarg, CAIRN_SEARCH_MAX_RESULTS, &a->max))
                return cli_usage(usage, "--max '%s': expected a whole number from 1 to %d", optarg,
                                 CAIRN_SEARCH_MAX_RESULTS);
            break;
        case OPT_PAGE_TOKEN: a->q.page_token = optarg; break;
        case OPT_COLUMNS: a->columns = optarg; break;
        case OPT_JSON: a->json = true; break;
        default: return cli_other_option(c, usage, NULL, argv);
        }
    }
    /* `cairn runs search 'metrics.acc > 0.9'`: the filter as the one argument */
    if (is_search && optind + 1 == argc) {
        if (a->q.filter)
            return cli_usage(usage, "a filter given twice: '%s' and --filter '%s'", argv[optind],
                             a->q.filter);
        a->q.filter = argv[optind++];
    }
    if (optind != argc)
        return cli_usage(usage, "unexpected argument '%s'", argv[optind]);
    if (all && deleted)
        return cli_usage(usage, "--all and --deleted exclude each other");
    a->q.view = all ? CAIRN_VIEW_ALL : deleted ? CAIRN_VIEW_DELETED_ONLY : CAIRN_VIEW_ACTIVE_ONLY;
    a->q.order_by = a->order_by;
    return -1;
}

/* Looks up the --experiment arguments; fills ids and names (freed by the caller). */
static int resolve_experiments(cairn_ctx *ctx, const query_args *a, char **ids, char **names)
{
    for (size_t i = 0; i < a->n_experiments; i++) {
        cairn_experiment *e = cli_experiment_find(ctx, a->experiments[i]);
        if (!e)
            return 1;
        ids[i] = cn_xstrdup(e->experiment_id);
        names[i] = cn_xstrdup(e->name);
        cairn_experiment_free(e);
    }
    return 0;
}

static int print_runs_json(const run_set *s, const char *next_token, bool with_token)
{
    cn_jsonw w;
    cn_jsonw_init(&w, stdout, 2);
    cn_jsonw_object_begin(&w);
    write_runs(&w, s);
    if (with_token)
        cn_jsonw_kstring(&w, "next_page_token", next_token);
    cn_jsonw_object_end(&w);
    return finish_json(&w);
}

/* list: every page (up to --max), newest first by default. search: one page. */
static int query_runs(int argc, char **argv, bool is_search)
{
    const char *usage = usage_of(is_search ? "search" : "list");
    query_args a;
    memset(&a, 0, sizeof a);
    int rc = parse_query(argc, argv, usage, is_search, &a);
    if (rc >= 0)
        return rc;
    static const char *const newest_first[] = {"start_time DESC"};
    if (a.q.n_order_by == 0) {
        a.q.order_by = newest_first;
        a.q.n_order_by = 1;
    }
    cairn_ctx *ctx = cli_open_store();
    if (!ctx)
        return 1;
    char *ids[CN_ARRAY_LEN(a.experiments)] = {0};
    char *names[CN_ARRAY_LEN(a.experiments)] = {0};
    run_set set = {0};
    char *token = a.q.page_token ? cn_xstrdup(a.q.page_token) : NULL;
    rc = resolve_experiments(ctx, &a, ids, names);
    if (rc != 0)
        goto done;
    a.q.experiment_ids = (const char *const *)ids;
    a.q.n_experiment_ids = a.n_experiments;
    for (;;) {
        cairn_run_page *page = NULL;
        int64_t left = a.max > 0 ? a.max - (int64_t)set.n : PAGE_SIZE;
        a.q.page_token = token;
        a.q.max_results = is_search ? a.max : left < PAGE_SIZE ? left : PAGE_SIZE;
        if (cairn_runs_search(ctx, &a.q, &page) != CAIRN_OK) {
            rc = cli_fail(ctx);
            goto done;
        }
        free(token);
        token = page->next_page_token ? cn_xstrdup(page->next_page_token) : NULL;
        run_set_add_page(&set, page);
        if (is_search || !token || (a.max > 0 && (int64_t)set.n >= a.max))
            break;
    }
    if (a.json) {
        rc = print_runs_json(&set, token, is_search);
    } else {
        col_list cols = {0};
        char *columns = a.columns ? cn_xstrdup(a.columns) : NULL;
        int code = -1;
        if (columns)
            code = parse_columns(columns, &set, usage, &cols);
        else
            default_columns(&set, a.q.order_by, a.q.n_order_by, &cols);
        if (code < 0)
            print_run_table(ctx, &set, &cols, stdout);
        else
            rc = code;
        free(columns);
    }
    if (is_search && token)
        fprintf(stderr, "next page token: %s\n", token);
    /* A name no run has: an empty result says so, and an order-by or a column always does. */
    if (set.n == 0 && a.q.filter)
        cli_note_missing_keys(ctx, a.q.experiment_ids, (const char *const *)names, a.n_experiments,
                              a.q.view, &a.q.filter, 1);
    if (a.columns && set.n > 0)
        cli_note_missing_keys(ctx, a.q.experiment_ids, (const char *const *)names, a.n_experiments,
                              a.q.view, &a.columns, 1);
    if (a.q.order_by != newest_first)
        cli_note_missing_keys(ctx, a.q.experiment_ids, (const char *const *)names, a.n_experiments,
                              a.q.view, a.q.order_by, a.q.n_order_by);
done:
    for (size_t i = 0; i < a.n_experiments; i++) {
        free(ids[i]);
        free(names[i]);
    }
    free(token);
    run_set_release(&set);
    cairn_close(ctx);
    return rc;
}

static int runs_list(int argc, char **argv)
{
    return query_runs(argc, argv, false);
}

static int runs_search(int argc, char **argv)
{
    return query_runs(argc, argv, true);
}

/* ---- verbs on named runs ---- */

/* Resolves and loads each run named in argv[from..to). */
static int load_runs(cairn_ctx *ctx, char **argv, int from, int to, run_set *set)
{
    for (int i = from; i < to; i++) {
        cairn_run_record *rec = cli_run_load(ctx, argv[i]);
        if (!rec)
            return 1;
        run_set_add_record(set, rec);
    }
    return 0;
}

/* A section of `runs show`: "\n<title>:\n" and the table, which it frees. */
static void print_section(const char *title, cli_table *t)
{
    printf("\n%s:\n", title);
    cli_table_print(t, stdout);
    cli_table_free(t);
}

static void print_pairs_table(const char *title, const char *key_header, const cairn_param *kv,
                              size_t n)
{
    if (!n)
        return;
    const char *headers[] = {key_header, "VALUE"};
    cli_table *t = cli_table_new(2, headers);
    for (size_t i = 0; i < n; i++) {
        const char *cells[] = {kv[i].key, kv[i].value};
        cli_table_add(t, cells);
    }
    print_section(title, t);
}

static void print_run_human(cairn_ctx *ctx, const cairn_run_record *r,
                            const cairn_artifact *const *files, size_t n_files)
{
    const cairn_run_info *in = &r->info;
    name_cache names = {0};
    char start[32], end[32], duration[32];
    cli_format_time(in->start_time_ms, start, sizeof start);
    cli_format_time(in->end_time_ms, end, sizeof end);
    format_duration_of(in, duration, sizeof duration);
    const char *status = cairn_run_status_str(in->status);
    printf("run_id:           %s\n"
           "run_name:         %s\n"
           "experiment:       %s (id %s)\n"
           "status:           %s%s%s%s\n"
           "lifecycle_stage:  %s\n"
           "user_id:          %s\n"
           "start_time:       %s\n"
           "end_time:         %s\n"
           "duration:         %s\n"
           "artifact_uri:     %s\n",
           in->run_id, in->run_name ? in->run_name : "",
           experiment_name(ctx, &names, in->experiment_id), in->experiment_id,
           status ? status : "?", in->status_reason ? " (" : "",
           in->status_reason ? in->status_reason : "", in->status_reason ? ")" : "",
           in->is_deleted ? "deleted" : "active", in->user_id ? in->user_id : "", start, end,
           duration, in->artifact_uri ? in->artifact_uri : "");
    const char *why = find_value(r->tags, r->n_tags, "cairn.failure_reason");
    if (!why)
        why = find_value(r->tags, r->n_tags, "cairn.error");
    if (why && in->status != CAIRN_RUN_FINISHED && in->status != CAIRN_RUN_RUNNING)
        printf("failure_reason:   %s\n", why);
    const char *diag = find_value(r->tags, r->n_tags, "cairn.diagnosis");
    if (diag) {
        printf("diagnosis:        %s\n", strcmp(diag, "none") == 0 ? "no problem found" : diag);
        for (size_t i = 0; i < r->n_tags; i++) {
            const char *k = r->tags[i].key;
            if (strncmp(k, "cairn.diagnosis.", 16) == 0 && strlen(k) > 25 &&
                strcmp(k + strlen(k) - 9, ".evidence") == 0)
                printf("  %.*s: %s\n", (int)(strlen(k) - 25), k + 16, r->tags[i].value);
        }
    }
    name_cache_release(&names);

    print_pairs_table("params", "PARAM", r->params, r->n_params);
    if (r->n_metrics) {
        static const char *const headers[] = {"METRIC", "VALUE", "STEP", "TIME"};
        cli_table *t = cli_table_new(4, headers);
        for (size_t i = 0; i < r->n_metrics; i++) {
            const cairn_metric *m = &r->metrics[i];
            char value[32], step[32], time[32];
            cli_format_value(m->value, value, sizeof value);
            snprintf(step, sizeof step, "%lld", (long long)m->step);
            cli_format_time(m->timestamp_ms, time, sizeof time);
            const char *cells[] = {m->key, value, step, time};
            cli_table_add(t, cells);
        }
        print_section("metrics", t);
    }
    print_pairs_table("tags", "TAG", r->tags, r->n_tags);
    if (r->n_inputs) {
        static const char *const headers[] = {"DATASET", "CONTEXT", "DIGEST", "SOURCE"};
        cli_table *t = cli_table_new(4, headers);
        for (size_t i = 0; i < r->n_inputs; i++) {
            const cairn_dataset_input *d = &r->inputs[i];
            const char *cells[] = {d->name, d->context ? d->context : "-", d->digest, d->source};
            cli_table_add(t, cells);
        }
        print_section("inputs", t);
    }
    if (n_files) {
        static const char *const headers[] = {"ARTIFACT", "SIZE", "SHA256"};
        cli_table *t = cli_table_new(3, headers);
        for (size_t i = 0; i < n_files; i++) {
            char size[32];
            snprintf(size, sizeof size, "%lld", (long long)files[i]->size_bytes);
            const char *cells[] = {files[i]->path, size, files[i]->sha256 ? files[i]->sha256 : "-"};
            cli_table_add(t, cells);
        }
        print_section("artifacts", t);
    }
}

static int runs_show(int argc, char **argv)
{
    bool json = false;
    int rc = cli_simple_args(argc, argv, usage_of("show"), true, 1, false, &json);
    if (rc >= 0)
        return rc;
    cairn_ctx *ctx = cli_open_store();
    if (!ctx)
        return 1;
    run_set set = {0};
    artifact_set arts = {0};
    const cairn_artifact **files = NULL;
    size_t n_files = 0;
    rc = load_runs(ctx, argv, optind, optind + 1, &set);
    if (rc != 0)
        goto done;
    const cairn_run_record *r = set.items[0];
    if (artifact_files(ctx, r->info.run_id, &arts, &files, &n_files) != CAIRN_OK) {
        rc = cli_fail(ctx);
        goto done;
    }
    if (json) {
        cn_jsonw w;
        cn_jsonw_init(&w, stdout, 2);
        write_run_fields(&w, r);
        write_artifacts(&w, files, n_files);
        cn_jsonw_object_end(&w);
        rc = finish_json(&w);
    } else {
        print_run_human(ctx, r, files, n_files);
    }
done:
    free(files);
    artifact_set_release(&arts);
    run_set_release(&set);
    cairn_close(ctx);
    return rc;
}

/* Keys over all runs of the set, sorted by name. */
static key_count *sorted_keys(const run_set *s, key_kind kind, size_t *n)
{
    key_count *keys = common_keys(s, kind, n);
    qsort(keys, *n, sizeof *keys, cmp_key_name);
    return keys;
}

static bool param_differs(const run_set *s, const char *key)
{
    const char *first = find_param(s->items[0], key);
    for (size_t i = 1; i < s->n; i++) {
        const char *v = find_param(s->items[i], key);
        if ((v == NULL) != (first == NULL) || (v && strcmp(v, first) != 0))
            return true;
    }
    return false;
}

static int print_compare_json(const run_set *s, const key_count *pk, size_t n_pk)
{
    cn_jsonw w;
    cn_jsonw_init(&w, stdout, 2);
    cn_jsonw_object_begin(&w);
    write_runs(&w, s);
    cn_jsonw_key(&w, "differing_params");
    cn_jsonw_array_begin(&w);
    for (size_t i = 0; i < n_pk; i++)
        if (param_differs(s, pk[i].key))
            cn_jsonw_string(&w, pk[i].key);
    cn_jsonw_array_end(&w);
    cn_jsonw_object_end(&w);
    return finish_json(&w);
}

/* One row per field, one column per run; '*' marks params whose values differ. */
static void print_compare_table(cairn_ctx *ctx, const run_set *s, const key_count *pk, size_t n_pk,
                                const key_count *mk, size_t n_mk)
{
    size_t n_cols = 2 + s->n;
    const char **cells = cn_xcalloc(n_cols, sizeof *cells);
    char(*ids)[SHORT_ID + 1] = cn_xcalloc(s->n, sizeof *ids);
    char(*values)[32] = cn_xcalloc(s->n, sizeof *values);
    char(*clips)[4 * COMPARE_CHARS + 1] = cn_xcalloc(s->n, sizeof *clips);
    name_cache names = {0};
    cells[0] = "";
    cells[1] = "FIELD";
    for (size_t i = 0; i < s->n; i++) {
        cn_strlcpy(ids[i], s->items[i]->info.run_id, sizeof ids[i]);
        cells[2 + i] = ids[i];
    }
    cli_table *t = cli_table_new(n_cols, cells);

    cells[0] = "";
    cells[1] = "run_name";
    for (size_t i = 0; i < s->n; i++)
        cells[2 + i] = s->items[i]->info.run_name ? s->items[i]->info.run_name : "";
    cli_table_add(t, cells);
    cells[1] = "experiment";
    for (size_t i = 0; i < s->n; i++)
        cells[2 + i] = experiment_name(ctx, &names, s->items[i]->info.experiment_id);
    cli_table_add(t, cells);
    cells[1] = "status";
    for (size_t i = 0; i < s->n; i++) {
        const char *st = cairn_run_status_str(s->items[i]->info.status);
        cells[2 + i] = st ? st : "?";
    }
    cli_table_add(t, cells);
    cells[1] = "duration";
    for (size_t i = 0; i < s->n; i++) {
        format_duration_of(&s->items[i]->info, values[i], sizeof values[i]);
        cells[2 + i] = values[i];
    }
    cli_table_add(t, cells);

    char label[CAIRN_KEY_MAX + 16];
    for (size_t k = 0; k < n_pk; k++) {
        cells[0] = param_differs(s, pk[k].key) ? "*" : "";
        snprintf(label, sizeof label, "params.%s", pk[k].key);
        cells[1] = label;
        for (size_t i = 0; i < s->n; i++) {
            const char *v = find_param(s->items[i], pk[k].key);
            cells[2 + i] = v ? cli_clip(v, COMPARE_CHARS, clips[i], sizeof clips[i]) : "-";
        }
        cli_table_add(t, cells);
    }
    cells[0] = "";
    for (size_t k = 0; k < n_mk; k++) {
        snprintf(label, sizeof label, "metrics.%s", mk[k].key);
        cells[1] = label;
        for (size_t i = 0; i < s->n; i++) {
            const cairn_metric *m = find_metric(s->items[i], mk[k].key);
            if (m)
                cli_format_value(m->value, values[i], sizeof values[i]);
            else
                cn_strlcpy(values[i], "-", sizeof values[i]);
            cells[2 + i] = values[i];
        }
        cli_table_add(t, cells);
    }
    cli_table_print(t, stdout);
    cli_table_free(t);
    name_cache_release(&names);
    free(values);
    free(clips);
    free(ids);
    free(cells);
}

static int runs_compare(int argc, char **argv)
{
    bool json = false;
    int rc = cli_simple_args(argc, argv, usage_of("compare"), true, 2, true, &json);
    if (rc >= 0)
        return rc;
    cairn_ctx *ctx = cli_open_store();
    if (!ctx)
        return 1;
    run_set set = {0};
    rc = load_runs(ctx, argv, optind, argc, &set);
    if (rc == 0) {
        size_t n_pk, n_mk;
        key_count *pk = sorted_keys(&set, KEYS_PARAMS, &n_pk);
        key_count *mk = sorted_keys(&set, KEYS_METRICS, &n_mk);
        if (json)
            rc = print_compare_json(&set, pk, n_pk);
        else
            print_compare_table(ctx, &set, pk, n_pk, mk, n_mk);
        free(pk);
        free(mk);
    }
    run_set_release(&set);
    cairn_close(ctx);
    return rc;
}

static int delete_or_restore(int argc, char **argv, bool restore)
{
    bool json = false;
    int rc = cli_simple_args(argc, argv, usage_of(restore ? "restore" : "delete"), false, 1, true,
                             &json);
    if (rc >= 0)
        return rc;
    cairn_ctx *ctx = cli_open_store();
    if (!ctx)
        return 1;
    rc = 0;
    for (int i = optind; i < argc && rc == 0; i++) {
        cairn_run_record *rec = cli_run_load(ctx, argv[i]);
        if (!rec) {
            rc = 1;
            break;
        }
        const char *id = rec->info.run_id;
        cairn_status st = restore ? cairn_run_restore(ctx, id) : cairn_run_delete(ctx, id);
        if (st != CAIRN_OK)
            rc = cli_fail(ctx);
        else
            printf("%s run %s\n", restore ? "restored" : "deleted", id);
        cairn_run_record_free(rec);
    }
    cairn_close(ctx);
    return rc;
}

/* Ends a run by hand: the way out for a run whose process died (lost) or was never finished.
 * A lost run keeps the end time it is reported with (its last heartbeat); others end now. */
static int runs_set_status(int argc, char **argv)
{
    static const char *const allowed[] = {"KILLED", "FAILED", "FINISHED"};
    bool json = false;
    const char *usage = usage_of("set-status");
    int rc = cli_simple_args(argc, argv, usage, false, 2, false, &json);
    if (rc >= 0)
        return rc;
    const char *want = argv[optind + 1];
    cairn_run_status status = 0;
    for (size_t i = 0; i < CN_ARRAY_LEN(allowed); i++)
        if (strcmp(want, allowed[i]) == 0)
            status = i == 0 ? CAIRN_RUN_KILLED : i == 1 ? CAIRN_RUN_FAILED : CAIRN_RUN_FINISHED;
    if (!status)
        return cli_usage(usage,
                         "status '%s': use KILLED, FAILED or FINISHED (a run is RUNNING only "
                         "while a process runs it)",
                         want);
    cairn_ctx *ctx = cli_open_store();
    if (!ctx)
        return 1;
    cairn_run_record *rec = cli_run_load(ctx, argv[optind]);
    if (!rec) {
        cairn_close(ctx);
        return 1;
    }
    bool is_lost = rec->info.status_reason && strcmp(rec->info.status_reason, "lost") == 0;
    cairn_run_update u = CAIRN_RUN_UPDATE_INIT;
    u.status = status;
    u.end_ms = is_lost && rec->info.end_time_ms > 0 ? rec->info.end_time_ms : cn_now_ms();
    if (cairn_runs_update(ctx, rec->info.run_id, &u) != CAIRN_OK)
        rc = cli_fail(ctx);
    else
        printf("set run %s to %s\n", rec->info.run_id, want);
    cairn_run_record_free(rec);
    cairn_close(ctx);
    return rc < 0 ? 0 : rc;
}

static int runs_delete(int argc, char **argv)
{
    return delete_or_restore(argc, argv, false);
}

static int runs_restore(int argc, char **argv)
{
    return delete_or_restore(argc, argv, true);
}

/* ---- history and export ---- */

/* Calls fn on every point of metric `key` of a run, page by page. */
typedef void (*point_fn)(void *user, const cairn_metric *m);

static cairn_status each_point(cairn_ctx *ctx, const char *run_id, const char *key, point_fn fn,
                               void *user, size_t *n_points)
{
    char *token = NULL;
    cairn_status rc = CAIRN_OK;
    *n_points = 0;
    do {
        cairn_metric_page *page = NULL;
        rc = cairn_run_metric_history(ctx, run_id, key, token, 0, &page);
        free(token);
        token = NULL;
        if (rc != CAIRN_OK)
            break;
        for (size_t i = 0; i < page->n; i++)
            fn(user, &page->items[i]);
        *n_points += page->n;
        token = page->next_page_token ? cn_xstrdup(page->next_page_token) : NULL;
        cairn_metric_page_free(page);
    } while (token);
    free(token);
    return rc;
}

static void point_json(void *user, const cairn_metric *m)
{
    write_metric_point(user, NULL, m);
}

static void point_row(void *user, const cairn_metric *m)
{
    char step[32], value[40], time[32];
    snprintf(step, sizeof step, "%lld", (long long)m->step);
    if (isfinite(m->value))
        cn_json_format_double(m->value, value, sizeof value);
    else
        cli_format_value(m->value, value, sizeof value);
    cli_format_time(m->timestamp_ms, time, sizeof time);
    const char *cells[] = {step, value, time};
    cli_table_add(user, cells);
}

static int runs_history(int argc, char **argv)
{
    bool json = false;
    int rc = cli_simple_args(argc, argv, usage_of("history"), true, 2, false, &json);
    if (rc >= 0)
        return rc;
    const char *key = argv[optind + 1];
    cairn_ctx *ctx = cli_open_store();
    if (!ctx)
        return 1;
    run_set set = {0};
    cli_table *t = NULL;
    cn_jsonw w;
    cn_jsonw_init(&w, stdout, 2);
    rc = load_runs(ctx, argv, optind, optind + 1, &set);
    if (rc != 0)
        goto done;
    const cairn_run_record *r = set.items[0];
    if (!find_metric(r, key)) {
        cn_buf have = CN_BUF_INIT;
        for (size_t i = 0; i < r->n_metrics; i++)
            cn_buf_printf(&have, "%s'%s'", i ? ", " : "", r->metrics[i].key);
        rc = cli_error("run '%s' has no metric '%s'%s%s", r->info.run_id, key,
                       r->n_metrics ? "; it has " : "", cn_buf_str(&have));
        cn_buf_release(&have);
        goto done;
    }
    size_t n;
    cairn_status st;
    if (json) {
        cn_jsonw_object_begin(&w);
        cn_jsonw_kstring(&w, "run_id", r->info.run_id);
        cn_jsonw_kstring(&w, "key", key);
        cn_jsonw_key(&w, "metrics");
        cn_jsonw_array_begin(&w);
        st = each_point(ctx, r->info.run_id, key, point_json, &w, &n);
        cn_jsonw_array_end(&w);
        cn_jsonw_object_end(&w);
    } else {
        static const char *const headers[] = {"STEP", "VALUE", "TIME"};
        t = cli_table_new(3, headers);
        st = each_point(ctx, r->info.run_id, key, point_row, t, &n);
    }
    if (st != CAIRN_OK) {
        rc = cli_fail(ctx);
        goto done;
    }
    if (json) {
        if (!cn_jsonw_finish(&w))
            rc = cli_error("writing the output failed");
    } else {
        cli_table_print(t, stdout);
    }
done:
    cn_jsonw_release(&w);
    cli_table_free(t);
    run_set_release(&set);
    cairn_close(ctx);
    return rc;
}

static int export_json(cairn_ctx *ctx, const run_set *s, FILE *out)
{
    cn_jsonw w;
    cn_jsonw_init(&w, out, 2);
    cn_jsonw_object_begin(&w);
    cn_jsonw_key(&w, "runs");
    cn_jsonw_array_begin(&w);
    for (size_t i = 0; i < s->n; i++) {
        const cairn_run_record *r = s->items[i];
        write_run_fields(&w, r);
        cn_jsonw_key(&w, "metric_history");
        cn_jsonw_object_begin(&w);
        for (size_t k = 0; k < r->n_metrics; k++) {
            size_t n;
            cn_jsonw_key(&w, r->metrics[k].key);
            cn_jsonw_array_begin(&w);
            cairn_status st =
                each_point(ctx, r->info.run_id, r->metrics[k].key, point_json, &w, &n);
            cn_jsonw_array_end(&w);
            if (st != CAIRN_OK) {
                cn_jsonw_release(&w);
                return cli_fail(ctx);
            }
        }
        cn_jsonw_object_end(&w);
        artifact_set arts = {0};
        const cairn_artifact **files = NULL;
        size_t n_files = 0;
        if (artifact_files(ctx, r->info.run_id, &arts, &files, &n_files) != CAIRN_OK) {
            artifact_set_release(&arts);
            cn_jsonw_release(&w);
            return cli_fail(ctx);
        }
        write_artifacts(&w, files, n_files);
        free(files);
        artifact_set_release(&arts);
        cn_jsonw_object_end(&w);
    }
    cn_jsonw_array_end(&w);
    cn_jsonw_object_end(&w);
    bool ok = cn_jsonw_finish(&w);
    cn_jsonw_release(&w);
    return ok ? 0 : cli_error("writing the export failed");
}

/* One CSV field after a comma unless first; a NULL value is an empty field. */
static void csv_field(cn_buf *b, const char *s, bool first)
{
    if (!first)
        cn_buf_putc(b, ',');
    if (s)
        cn_csv_put_field(b, s, false);
}

/* One row per run: the info fields, then params.K, metrics.K (latest) and tags.K columns
 * over the union of keys, sorted by name (as MLflow's search_runs data frame names them). */
static int export_csv(const run_set *s, FILE *out)
{
    static const char *const fixed[] = {"run_id",   "experiment_id",   "run_name",
                                        "user_id",  "status",          "start_time",
                                        "end_time", "lifecycle_stage", "artifact_uri"};
    size_t n_pk, n_mk, n_tk;
    key_count *pk = sorted_keys(s, KEYS_PARAMS, &n_pk);
    key_count *mk = sorted_keys(s, KEYS_METRICS, &n_mk);
    key_count *tk = sorted_keys(s, KEYS_TAGS, &n_tk);

    cn_buf b = CN_BUF_INIT;
    char *label = NULL;
    for (size_t c = 0; c < CN_ARRAY_LEN(fixed); c++)
        csv_field(&b, fixed[c], c == 0);
    for (size_t k = 0; k < n_pk; k++) {
        label = cn_asprintf("params.%s", pk[k].key);
        csv_field(&b, label, false);
        free(label);
    }
    for (size_t k = 0; k < n_mk; k++) {
        label = cn_asprintf("metrics.%s", mk[k].key);
        csv_field(&b, label, false);
        free(label);
    }
    for (size_t k = 0; k < n_tk; k++) {
        label = cn_asprintf("tags.%s", tk[k].key);
        csv_field(&b, label, false);
        free(label);
    }
    cn_buf_puts(&b, "\r\n");
    for (size_t i = 0; i < s->n; i++) {
        const cairn_run_record *r = s->items[i];
        char start[24], end[24], value[40];
        snprintf(start, sizeof start, "%lld", (long long)r->info.start_time_ms);
        snprintf(end, sizeof end, "%lld", (long long)r->info.end_time_ms);
        csv_field(&b, r->info.run_id, true);
        csv_field(&b, r->info.experiment_id, false);
        csv_field(&b, r->info.run_name, false);
        csv_field(&b, r->info.user_id, false);
        csv_field(&b, cairn_run_status_str(r->info.status), false);
        csv_field(&b, start, false);
        csv_field(&b, r->info.end_time_ms > 0 ? end : NULL, false);
        csv_field(&b, r->info.is_deleted ? "deleted" : "active", false);
        csv_field(&b, r->info.artifact_uri, false);
        for (size_t k = 0; k < n_pk; k++)
            csv_field(&b, find_param(r, pk[k].key), false);
        for (size_t k = 0; k < n_mk; k++) {
            const cairn_metric *m = find_metric(r, mk[k].key);
            if (m && isfinite(m->value))
                cn_json_format_double(m->value, value, sizeof value);
            else if (m)
                cli_format_value(m->value, value, sizeof value);
            csv_field(&b, m ? value : NULL, false);
        }
        for (size_t k = 0; k < n_tk; k++)
            csv_field(&b, find_value(r->tags, r->n_tags, tk[k].key), false);
        cn_buf_puts(&b, "\r\n");
    }
    bool ok = fwrite(b.data, 1, b.len, out) == b.len && fflush(out) == 0;
    cn_buf_release(&b);
    free(pk);
    free(mk);
    free(tk);
    return ok ? 0 : cli_error("writing the export failed");
}

static int runs_export(int argc, char **argv)
{
    static const struct option opts[] = {{"format", required_argument, NULL, OPT_FORMAT},
                                         {"output", required_argument, NULL, 'o'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *usage = usage_of("export");
    const char *format = "json", *path = NULL;
    int c;
    while ((c = getopt_long(argc, argv, ":o:h", opts, NULL)) != -1) {
        if (c == 'h') {
            cli_help(usage, NULL);
            return 0;
        } else if (c == OPT_FORMAT) {
            format = optarg;
        } else if (c == 'o') {
            path = optarg;
        } else {
            return cli_other_option(c, usage, NULL, argv);
        }
    }
    bool csv = strcmp(format, "csv") == 0;
    if (!csv && strcmp(format, "json") != 0)
        return cli_usage(usage, "--format '%s': expected json or csv", format);
    if (optind == argc)
        return cli_usage(usage, "expected at least one run id");
    cairn_ctx *ctx = cli_open_store();
    if (!ctx)
        return 1;
    run_set set = {0};
    FILE *out = NULL;
    int rc = load_runs(ctx, argv, optind, argc, &set);
    if (rc != 0)
        goto done;
    out = path ? fopen(path, "w") : stdout;
    if (!out) {
        rc = cli_error("cannot write '%s': %s", path, strerror(errno));
        goto done;
    }
    rc = csv ? export_csv(&set, out) : export_json(ctx, &set, out);
    if (path && fclose(out) != 0 && rc == 0)
        rc = cli_error("cannot write '%s': %s", path, strerror(errno));
done:
    run_set_release(&set);
    cairn_close(ctx);
    return rc;
}

static void print_diagnosis_json(const cairn_diagnosis *d)
{
    cn_jsonw w;
    cn_jsonw_init(&w, stdout, 2);
    cn_jsonw_object_begin(&w);
    cn_jsonw_key(&w, "run_id");
    cn_jsonw_string(&w, d->run_id);
    cn_jsonw_key(&w, "epochs");
    cn_jsonw_int(&w, (int64_t)d->n_epochs);
    cn_jsonw_key(&w, "gap");
    cn_jsonw_double(&w, d->gap);
    const char *names[4] = {"train_loss", "val_loss", "train_metric", "val_metric"};
    const char *vals[4] = {d->train_loss, d->val_loss, d->train_metric, d->val_metric};
    cn_jsonw_key(&w, "series");
    cn_jsonw_object_begin(&w);
    for (int j = 0; j < 4; j++) {
        cn_jsonw_key(&w, names[j]);
        if (vals[j])
            cn_jsonw_string(&w, vals[j]);
        else
            cn_jsonw_null(&w);
    }
    cn_jsonw_key(&w, "grad_norm_layers");
    cn_jsonw_int(&w, (int64_t)d->n_grad_layers);
    cn_jsonw_object_end(&w);
    cn_jsonw_key(&w, "problems");
    cn_jsonw_int(&w, (int64_t)d->n_problems);
    cn_jsonw_key(&w, "findings");
    cn_jsonw_array_begin(&w);
    for (size_t i = 0; i < d->n_findings; i++) {
        const cairn_diagnosis_finding *f = &d->findings[i];
        cn_jsonw_object_begin(&w);
        cn_jsonw_key(&w, "kind");
        cn_jsonw_string(&w, f->kind);
        cn_jsonw_key(&w, "problem");
        cn_jsonw_bool(&w, f->is_problem);
        cn_jsonw_key(&w, "epoch");
        cn_jsonw_int(&w, f->epoch);
        cn_jsonw_key(&w, "evidence");
        cn_jsonw_string(&w, f->evidence);
        cn_jsonw_object_end(&w);
    }
    cn_jsonw_array_end(&w);
    cn_jsonw_key(&w, "checked");
    cn_jsonw_array_begin(&w);
    for (size_t i = 0; i < d->n_checks; i++)
        cn_jsonw_string(&w, d->checks[i]);
    cn_jsonw_array_end(&w);
    cn_jsonw_object_end(&w);
    (void)finish_json(&w);
}

static int runs_diagnose(int argc, char **argv)
{
    enum { OPT_GAP = 2000, OPT_BASELINE };
    static const struct option opts[] = {{"gap", required_argument, NULL, OPT_GAP},
                                         {"baseline", required_argument, NULL, OPT_BASELINE},
                                         {"json", no_argument, NULL, OPT_JSON},
                                         {"help", no_argument, NULL, 'h'},
                                         {0, 0, 0, 0}};
    const char *usage = usage_of("diagnose");
    cairn_diagnose_opts o = CAIRN_DIAGNOSE_OPTS_INIT;
    bool json = false;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        char *end = NULL;
        switch (c) {
        case OPT_GAP:
            o.gap = strtod(optarg, &end);
            if (!end || *end || !(o.gap > 0 && o.gap <= 1))
                return cli_usage(usage, "--gap '%s': expected a number in (0, 1], e.g. 0.05",
                                 optarg);
            break;
        case OPT_BASELINE:
            o.baseline = strtod(optarg, &end);
            o.has_baseline = true;
            if (!end || *end || !isfinite(o.baseline))
                return cli_usage(usage, "--baseline '%s': expected a number, e.g. 0.63", optarg);
            break;
        case OPT_JSON: json = true; break;
        default: return cli_other_option(c, usage, NULL, argv);
        }
    }
    if (argc - optind != 1)
        return cli_usage(usage, "expected one RUN_ID");
    cairn_ctx *ctx = cli_open_store();
    if (!ctx)
        return 1;
    cairn_diagnosis *d = NULL;
    int rc = 0;
    if (cairn_runs_diagnose(ctx, argv[optind], &o, &d) != CAIRN_OK) {
        rc = cli_fail(ctx);
        goto done;
    }
    if (json) {
        print_diagnosis_json(d);
        goto done;
    }
    printf("run %s: %zu epochs", d->run_id, d->n_epochs);
    const char *vals[4] = {d->train_loss, d->val_loss, d->train_metric, d->val_metric};
    bool first = true;
    for (int j = 0; j < 4; j++)
        if (vals[j]) {
            printf("%s%s", first ? "; series " : ", ", vals[j]);
            first = false;
        }
    if (d->n_grad_layers)
        printf("%sgrad_norm_layer_1..%zu", first ? "; series " : ", ", d->n_grad_layers);
    printf("\n\n");
    if (d->n_problems == 0)
        printf("no problem found\n");
    for (size_t i = 0; i < d->n_findings; i++)
        if (d->findings[i].is_problem)
            printf("%s (epoch %d): %s\n", d->findings[i].kind, d->findings[i].epoch,
                   d->findings[i].evidence);
    for (size_t i = 0; i < d->n_findings; i++)
        if (!d->findings[i].is_problem)
            printf("%s: %s\n", d->findings[i].kind, d->findings[i].evidence);
    printf("\nchecked:\n");
    for (size_t i = 0; i < d->n_checks; i++)
        printf("  %s\n", d->checks[i]);
done:
    cairn_diagnosis_free(d);
    cairn_close(ctx);
    return rc;
}

static const cli_command verbs[] = {
    {"list", runs_list, "list runs, newest first"},
    {"show", runs_show, "show a run: params, metrics, tags, inputs, artifacts"},
    {"search", runs_search, "search runs with a filter and an order, one page"},
    {"compare", runs_compare, "compare runs side by side"},
    {"delete", runs_delete, "delete runs (restore brings them back)"},
    {"restore", runs_restore, "restore deleted runs"},
    {"set-status", runs_set_status, "end a run by hand (KILLED, FAILED or FINISHED)"},
    {"export", runs_export, "export runs as JSON (with metric histories) or CSV"},
    {"history", runs_history, "print every point of one metric"},
    {"diagnose", runs_diagnose, "diagnose training: overfitting, divergence, gradients"},
};

int cmd_runs(int argc, char **argv)
{
    return cli_group_main("runs", &synopsis, verbs, CN_ARRAY_LEN(verbs), argc, argv);
}
