/* SPDX-License-Identifier: MIT */
/* cmd_exp.c - `cairn exp`: create, list, show, rename, tag, delete, restore and search
 * experiments. Output formats are documented in docs/cli/cairn-exp.md. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "cairn/tracking.h"
#include "base/jsonw.h"
#include "base/xmalloc.h"
#include "base/banned.h"

#define MAX_ORDER_BY 16

static const char *const synopsis_lines[] = {
    "cairn exp create NAME [--artifact-location P] [-t KEY=VALUE]...",
    "cairn exp list [--all | --deleted] [--json]",
    "cairn exp show ID_OR_NAME [--json]",
    "cairn exp rename ID_OR_NAME NEW_NAME",
    "cairn exp tag ID_OR_NAME KEY=VALUE...",
    "cairn exp delete ID_OR_NAME",
    "cairn exp restore ID_OR_NAME",
    "cairn exp search [--filter F] [--order-by KEY]... [--max N] [--json]",
};
static const cli_verb_help helps[] = {
    {"create", "Creates an experiment (a named group of runs) and prints its id. Runs name their\n"
               "experiment with -e; one that does not exist yet is created then, so this verb is\n"
               "only needed for an artifact location or tags of its own.\n"
               "\n"
               "options:\n"
               "      --artifact-location P  where its runs' artifacts go (default: under the\n"
               "                             store's artifact root)\n"
               "  -t, --tag KEY=VALUE        a tag on the experiment (repeatable)\n"
               "  -h, --help                 this help\n"
               "\n"
               "examples:\n"
               "  cairn exp create churn -t team=growth\n"
               "  cairn exp create vision --artifact-location /data/artifacts/vision\n"},
    {"list", "Lists experiments (id, name, stage, creation time, artifact location), active ones\n"
             "unless --all or --deleted says otherwise.\n"
             "\n"
             "options:\n"
             "      --all       deleted experiments too\n"
             "      --deleted   only deleted experiments\n"
             "      --json      print {\"experiments\": [...]} as JSON\n"
             "  -h, --help      this help\n"
             "\n"
             "examples:\n"
             "  cairn exp list\n"
             "  cairn exp list --all --json\n"},
    {"show", "Shows one experiment, named by its id or its name: id, name, stage, times,\n"
             "artifact location and tags.\n"
             "\n"
             "options:\n"
             "      --json      print it as JSON\n"
             "  -h, --help      this help\n"
             "\n"
             "examples:\n"
             "  cairn exp show Default\n"
             "  cairn exp show 0 --json\n"},
    {"rename", "Renames an experiment; its id and runs stay. The new name must be free.\n"
               "\n"
               "options:\n"
               "  -h, --help      this help\n"
               "\n"
               "examples:\n"
               "  cairn exp rename churn churn-2026\n"},
    {"tag", "Sets tags on an experiment (an existing key is overwritten).\n"
            "\n"
            "options:\n"
            "  -h, --help      this help\n"
            "\n"
            "examples:\n"
            "  cairn exp tag churn owner=ana stage=baseline\n"},
    {"delete", "Deletes an experiment with its runs; nothing is removed for good: 'cairn exp\n"
               "restore' brings both back, and 'cairn exp list --deleted' shows what is deleted.\n"
               "\n"
               "options:\n"
               "  -h, --help      this help\n"
               "\n"
               "examples:\n"
               "  cairn exp delete churn\n"},
    {"restore", "Restores a deleted experiment and the runs deleted with it.\n"
                "\n"
                "options:\n"
                "  -h, --help      this help\n"
                "\n"
                "examples:\n"
                "  cairn exp restore churn\n"},
    {"search", "Searches experiments with a filter on their name, times and tags (MLflow's\n"
               "syntax: docs/cli/cairn-exp.md), in an order, up to --max of them.\n"
               "\n"
               "options:\n"
               "  -f, --filter F      e.g. \"name LIKE 'churn%'\" or \"tags.team = 'growth'\"\n"
               "      --order-by KEY  name, creation_time, last_update_time or tags.KEY, with\n"
               "                      ASC or DESC (repeatable)\n"
               "      --max N         show at most N experiments\n"
               "      --json          print {\"experiments\": [...]} as JSON\n"
               "  -h, --help          this help\n"
               "\n"
               "examples:\n"
               "  cairn exp search -f \"name LIKE 'churn%'\"\n"
               "  cairn exp search --order-by \"creation_time DESC\" --max 5\n"},
};
static const cli_synopsis synopsis = {synopsis_lines, CN_ARRAY_LEN(synopsis_lines), helps,
                                      CN_ARRAY_LEN(helps)};

static const char *usage_of(const char *verb)
{
    return cli_verb_usage(&synopsis, verb);
}

static void write_experiment(cn_jsonw *w, const cairn_experiment *e)
{
    cn_jsonw_object_begin(w);
    cn_jsonw_kstring(w, "experiment_id", e->experiment_id);
    cn_jsonw_kstring(w, "name", e->name);
    cn_jsonw_kstring(w, "artifact_location", e->artifact_location);
    cn_jsonw_kstring(w, "lifecycle_stage", e->is_deleted ? "deleted" : "active");
    cn_jsonw_kint(w, "creation_time", e->creation_time_ms);
    cn_jsonw_kint(w, "last_update_time", e->last_update_time_ms);
    cn_jsonw_key(w, "tags");
    cn_jsonw_object_begin(w);
    for (size_t i = 0; i < e->n_tags; i++)
        cn_jsonw_kstring(w, e->tags[i].key, e->tags[i].value);
    cn_jsonw_object_end(w);
    cn_jsonw_object_end(w);
}

/* getopt codes of the long options that have no short form. */
enum { OPT_JSON = 1000, OPT_ALL, OPT_DELETED, OPT_ORDER_BY, OPT_MAX, OPT_ARTLOC };

static int exp_create(int argc, char **argv)
{
    static const struct option opts[] = {{"artifact-location", required_argument, NULL, OPT_ARTLOC},
                                         {"tag", required_argument, NULL, 't'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *usage = usage_of("create");
    const char *artifact_location = NULL;
    cairn_tag *tags = cn_xcalloc((size_t)argc, sizeof *tags);
    size_t n_tags = 0;
    int rc = 0, c;
    cairn_ctx *ctx = NULL;
    char *id = NULL;

    while ((c = getopt_long(argc, argv, ":t:h", opts, NULL)) != -1) {
        if (c == 'h') {
            cli_help(usage, NULL);
            goto done;
        } else if (c == OPT_ARTLOC) {
            artifact_location = optarg;
        } else if (c == 't') {
            char *key;
            const char *value;
            if (!cli_split_kv(optarg, &key, &value)) {
                rc = cli_usage(usage, "tag '%s': expected KEY=VALUE", optarg);
                goto done;
            }
            tags[n_tags].key = key;
            tags[n_tags++].value = value;
        } else {
            rc = cli_other_option(c, usage, NULL, argv);
            goto done;
        }
    }
    if (argc - optind != 1) {
        rc = cli_usage(usage, "expected one experiment name");
        goto done;
    }
    ctx = cli_open_store();
    if (!ctx) {
        rc = 1;
        goto done;
    }
    if (cairn_experiment_create(ctx, argv[optind], artifact_location, tags, n_tags, &id) !=
        CAIRN_OK) {
        rc = cli_fail(ctx);
        goto done;
    }
    printf("%s\n", id);
done:
    cairn_free(id);
    for (size_t i = 0; i < n_tags; i++)
        free((char *)tags[i].key);
    free(tags);
    cairn_close(ctx);
    return rc;
}

static int experiments_page(cairn_ctx *ctx, void *query, cli_listing *l, size_t *n, char **next)
{
    cairn_experiment_page *page = NULL;
    if (cairn_experiments_search(ctx, query, &page) != CAIRN_OK)
        return cli_fail(ctx);
    for (size_t i = 0; i < page->n; i++) {
        const cairn_experiment *e = &page->items[i];
        if (!l->table) {
            write_experiment(&l->w, e);
            continue;
        }
        char created[32];
        cli_format_time(e->creation_time_ms, created, sizeof created);
        const char *cells[] = {e->experiment_id, e->name, e->is_deleted ? "deleted" : "active",
                               created, e->artifact_location};
        cli_table_add(l->table, cells);
    }
    *n = page->n;
    *next = page->next_page_token ? cn_xstrdup(page->next_page_token) : NULL;
    cairn_experiment_page_free(page);
    return 0;
}

/* Lists experiments page by page, up to max (0: all), as a table or as JSON. */
static int print_experiments(cairn_ctx *ctx, cairn_experiment_search *q, int64_t max, bool json)
{
    static const char *const headers[] = {"ID", "NAME", "STAGE", "CREATED", "ARTIFACT LOCATION"};
    cli_listing l;
    cli_listing_begin(&l, json, "experiments", CN_ARRAY_LEN(headers), headers);
    return cli_listing_pages(ctx, &l, experiments_page, q, &q->page_token, &q->max_results, max);
}

static int exp_list(int argc, char **argv)
{
    static const struct option opts[] = {{"all", no_argument, NULL, OPT_ALL},
                                         {"deleted", no_argument, NULL, OPT_DELETED},
                                         {"json", no_argument, NULL, OPT_JSON},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *usage = usage_of("list");
    cairn_experiment_search q = CAIRN_EXPERIMENT_SEARCH_INIT;
    bool json = false, all = false, deleted = false;
    int c;

    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        if (c == 'h') {
            cli_help(usage, NULL);
            return 0;
        } else if (c == OPT_ALL) {
            all = true;
        } else if (c == OPT_DELETED) {
            deleted = true;
        } else if (c == OPT_JSON) {
            json = true;
        } else {
            return cli_other_option(c, usage, NULL, argv);
        }
    }
    if (optind != argc)
        return cli_usage(usage, "unexpected argument '%s'", argv[optind]);
    if (all && deleted)
        return cli_usage(usage, "--all and --deleted exclude each other");
    q.view = all ? CAIRN_VIEW_ALL : deleted ? CAIRN_VIEW_DELETED_ONLY : CAIRN_VIEW_ACTIVE_ONLY;
    cairn_ctx *ctx = cli_open_store();
    if (!ctx)
        return 1;
    int rc = print_experiments(ctx, &q, 0, json);
    cairn_close(ctx);
    return rc;
}

static int exp_search(int argc, char **argv)
{
    static const struct option opts[] = {{"filter", required_argument, NULL, 'f'},
                                         {"order-by", required_argument, NULL, OPT_ORDER_BY},
                                         {"max", required_argument, NULL, OPT_MAX},
                                         {"json", no_argument, NULL, OPT_JSON},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *usage = usage_of("search");
    cairn_experiment_search q = CAIRN_EXPERIMENT_SEARCH_INIT;
    const char *order_by[MAX_ORDER_BY];
    int64_t max = 0;
    bool json = false;
    int c;

    while ((c = getopt_long(argc, argv, ":f:h", opts, NULL)) != -1) {
        if (c == 'h') {
            cli_help(usage, NULL);
            return 0;
        } else if (c == 'f') {
            q.filter = optarg;
        } else if (c == OPT_ORDER_BY) {
            if (q.n_order_by == MAX_ORDER_BY)
                return cli_usage(usage, "at most %d --order-by keys", MAX_ORDER_BY);
            order_by[q.n_order_by++] = optarg;
        } else if (c == OPT_MAX) {
            if (!cli_parse_count(optarg, CAIRN_SEARCH_MAX_RESULTS, &max))
                return cli_usage(usage, "--max '%s': expected a whole number from 1 to %d", optarg,
                                 CAIRN_SEARCH_MAX_RESULTS);
        } else if (c == OPT_JSON) {
            json = true;
        } else {
            return cli_other_option(c, usage, NULL, argv);
        }
    }
    if (optind != argc)
        return cli_usage(usage, "unexpected argument '%s'", argv[optind]);
    q.order_by = order_by;
    cairn_ctx *ctx = cli_open_store();
    if (!ctx)
        return 1;
    int rc = print_experiments(ctx, &q, max, json);
    cairn_close(ctx);
    return rc;
}

/* Opens the store and finds the experiment ref names; returns 0 with both set, else 1 (the
 * error printed, nothing left open). */
static int open_experiment(const char *ref, cairn_ctx **ctx, cairn_experiment **e)
{
    *e = NULL;
    *ctx = cli_open_store();
    if (!*ctx)
        return 1;
    *e = cli_experiment_find(*ctx, ref);
    if (*e)
        return 0;
    cairn_close(*ctx);
    *ctx = NULL;
    return 1;
}

static int exp_show(int argc, char **argv)
{
    bool json = false;
    int rc = cli_simple_args(argc, argv, usage_of("show"), true, 1, false, &json);
    if (rc >= 0)
        return rc;
    cairn_ctx *ctx;
    cairn_experiment *e;
    if (open_experiment(argv[optind], &ctx, &e) != 0)
        return 1;
    rc = 0;
    if (json) {
        cn_jsonw w;
        cn_jsonw_init(&w, stdout, 2);
        write_experiment(&w, e);
        if (!cn_jsonw_finish(&w))
            rc = cli_error("writing the output failed");
        cn_jsonw_release(&w);
    } else {
        char created[32], updated[32];
        cli_format_time(e->creation_time_ms, created, sizeof created);
        cli_format_time(e->last_update_time_ms, updated, sizeof updated);
        printf("experiment_id:      %s\n"
               "name:               %s\n"
               "lifecycle_stage:    %s\n"
               "artifact_location:  %s\n"
               "creation_time:      %s\n"
               "last_update_time:   %s\n",
               e->experiment_id, e->name, e->is_deleted ? "deleted" : "active",
               e->artifact_location ? e->artifact_location : "-", created, updated);
        if (e->n_tags) {
            static const char *const headers[] = {"TAG", "VALUE"};
            cli_table *t = cli_table_new(2, headers);
            for (size_t i = 0; i < e->n_tags; i++) {
                const char *cells[] = {e->tags[i].key, e->tags[i].value};
                cli_table_add(t, cells);
            }
            printf("\n");
            cli_table_print(t, stdout);
            cli_table_free(t);
        }
    }
    cairn_experiment_free(e);
    cairn_close(ctx);
    return rc;
}

static int exp_rename(int argc, char **argv)
{
    bool json = false;
    int rc = cli_simple_args(argc, argv, usage_of("rename"), false, 2, false, &json);
    if (rc >= 0)
        return rc;
    cairn_ctx *ctx;
    cairn_experiment *e;
    if (open_experiment(argv[optind], &ctx, &e) != 0)
        return 1;
    rc = 0;
    if (cairn_experiment_rename(ctx, e->experiment_id, argv[optind + 1]) != CAIRN_OK)
        rc = cli_fail(ctx);
    else
        printf("renamed experiment '%s' (id %s) to '%s'\n", e->name, e->experiment_id,
               argv[optind + 1]);
    cairn_experiment_free(e);
    cairn_close(ctx);
    return rc;
}

static int exp_tag(int argc, char **argv)
{
    bool json = false;
    const char *usage = usage_of("tag");
    int rc = cli_simple_args(argc, argv, usage, false, 2, true, &json);
    if (rc >= 0)
        return rc;
    for (int i = optind + 1; i < argc; i++)
        if (!strchr(argv[i], '=') || argv[i][0] == '=')
            return cli_usage(usage, "tag '%s': expected KEY=VALUE", argv[i]);
    cairn_ctx *ctx;
    cairn_experiment *e;
    if (open_experiment(argv[optind], &ctx, &e) != 0)
        return 1;
    rc = 0;
    for (int i = optind + 1; i < argc && rc == 0; i++) {
        char *key;
        const char *value;
        cli_split_kv(argv[i], &key, &value);
        if (cairn_experiment_set_tag(ctx, e->experiment_id, key, value) != CAIRN_OK)
            rc = cli_fail(ctx);
        free(key);
    }
    cairn_experiment_free(e);
    cairn_close(ctx);
    return rc;
}

static int delete_or_restore(int argc, char **argv, bool restore)
{
    bool json = false;
    int rc = cli_simple_args(argc, argv, usage_of(restore ? "restore" : "delete"), false, 1, false,
                             &json);
    if (rc >= 0)
        return rc;
    cairn_ctx *ctx;
    cairn_experiment *e;
    if (open_experiment(argv[optind], &ctx, &e) != 0)
        return 1;
    cairn_status st = restore ? cairn_experiment_restore(ctx, e->experiment_id)
                              : cairn_experiment_delete(ctx, e->experiment_id);
    rc = 0;
    if (st != CAIRN_OK)
        rc = cli_fail(ctx);
    else
        printf("%s experiment '%s' (id %s)\n", restore ? "restored" : "deleted", e->name,
               e->experiment_id);
    cairn_experiment_free(e);
    cairn_close(ctx);
    return rc;
}

static int exp_delete(int argc, char **argv)
{
    return delete_or_restore(argc, argv, false);
}

static int exp_restore(int argc, char **argv)
{
    return delete_or_restore(argc, argv, true);
}

static const cli_command verbs[] = {
    {"create", exp_create, "create an experiment and print its id"},
    {"list", exp_list, "list experiments"},
    {"show", exp_show, "show one experiment"},
    {"rename", exp_rename, "rename an experiment"},
    {"tag", exp_tag, "set tags on an experiment"},
    {"delete", exp_delete, "delete an experiment and its runs (restore brings them back)"},
    {"restore", exp_restore, "restore a deleted experiment and its runs"},
    {"search", exp_search, "search experiments with a filter"},
};

int cmd_exp(int argc, char **argv)
{
    return cli_group_main("exp", &synopsis, verbs, CN_ARRAY_LEN(verbs), argc, argv);
}
