/* SPDX-License-Identifier: MIT */
/* cmd_store.c - `cairn store`: look after the store itself. `check` calls cairn_store_check()
 * and prints its problems. Output formats are documented in docs/cli/cairn-store.md. */
#include <getopt.h>
#include <stdio.h>
#include "cli.h"
#include "base/jsonw.h"
#include "base/xmalloc.h"
#include "base/banned.h"

static const char *const synopsis_lines[] = {
    "cairn store check [--store URI] [--json]",
};
static const cli_verb_help helps[] = {
    {"check", "Checks the store without writing to it: SQLite's integrity check (or PostgreSQL's\n"
              "catalog), that every table, column and index of the schema is there, and which\n"
              "schema version it holds against the one this cairn knows. Exits 1 on a problem.\n"
              "\n"
              "options:\n"
              "      --store URI   the store to check (default: $CAIRN_STORE, else\n"
              "                    sqlite://cairn.db, as every command)\n"
              "      --json        print {\"store\", \"ok\", \"problems\": [...]} as JSON\n"
              "  -h, --help        this help\n"
              "\n"
              "examples:\n"
              "  cairn store check\n"
              "  cairn store check --store postgresql:///cairn --json\n"},
};
static const cli_synopsis synopsis = {synopsis_lines, CN_ARRAY_LEN(synopsis_lines), helps,
                                      CN_ARRAY_LEN(helps)};

static void write_report(const cairn_store_report *r)
{
    cn_jsonw w;
    cn_jsonw_init(&w, stdout, 2);
    cn_jsonw_object_begin(&w);
    cn_jsonw_kstring(&w, "store", r->uri);
    cn_jsonw_kbool(&w, "ok", r->n_problems == 0);
    cn_jsonw_kint(&w, "schema_version", r->schema_version);
    cn_jsonw_kint(&w, "schema_known", r->schema_known);
    cn_jsonw_key(&w, "problems");
    cn_jsonw_strings(&w, r->problems, r->n_problems);
    cn_jsonw_object_end(&w);
    cn_jsonw_finish(&w);
    cn_jsonw_release(&w);
}

static void print_report(const cairn_store_report *r)
{
    if (r->n_problems == 0) {
        printf("store '%s': ok (schema %lld)\n", r->uri, (long long)r->schema_version);
        return;
    }
    printf("store '%s': %zu problem%s\n", r->uri, r->n_problems, r->n_problems == 1 ? "" : "s");
    for (size_t i = 0; i < r->n_problems; i++)
        printf("  %s\n", r->problems[i]);
}

static int store_check(int argc, char **argv)
{
    bool json = false;
    int rc = cli_simple_args(argc, argv, cli_verb_usage(&synopsis, "check"), true, 0, false, &json);
    if (rc >= 0)
        return rc;
    cairn_ctx *ctx = cairn_ctx_new();
    cairn_store_report *report = NULL;
    if (cairn_store_check(ctx, cli_store_uri, &report) != CAIRN_OK) {
        rc = cli_fail(ctx);
        goto done;
    }
    if (json)
        write_report(report);
    else
        print_report(report);
    rc = report->n_problems ? 1 : 0;
done:
    cairn_store_report_free(report);
    cairn_close(ctx);
    return rc;
}

static const cli_command verbs[] = {
    {"check", store_check, "check the store's integrity and schema without writing"},
};

int cmd_store(int argc, char **argv)
{
    return cli_group_main("store", &synopsis, verbs, CN_ARRAY_LEN(verbs), argc, argv);
}
