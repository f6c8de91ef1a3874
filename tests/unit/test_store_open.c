/* SPDX-License-Identifier: MIT */
/* test_store_open.c - opening refuses before writing: a foreign database, a newer schema, a
 * read-only store that needs migrations, unknown URI options; corruption is named as such and
 * found by cairn_store_check. Runs on SQLite and again on PostgreSQL (the cases that fit). */
#include <sqlite3.h>
#include <sys/stat.h>
#include "unit.h"
#include "store_fixture.h"

static bool is_pg(void)
{
    const char *pg = getenv("CAIRN_TEST_PG");
    return pg && *pg;
}

/* A file name in the fixture folder; the folder is created by a first fixture_open(). */
static const char *tmp_path(const char *name)
{
    static char path[512];
    cairn_close(fixture_open());
    snprintf(path, sizeof path, "%s/%s", fixture_dir, name);
    return path;
}

static char *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *data = NULL;
    *len = 0;
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    data = malloc((size_t)n + 1);
    if (data && fread(data, 1, (size_t)n, f) == (size_t)n)
        *len = (size_t)n;
    fclose(f);
    return data;
}

static void sql(const char *path, const char *text)
{
    sqlite3 *db = NULL;
    CHECK(sqlite3_open(path, &db) == SQLITE_OK);
    CHECK(sqlite3_exec(db, text, NULL, NULL, NULL) == SQLITE_OK);
    sqlite3_close(db);
}

TEST(foreign_sqlite_file_is_refused_unchanged)
{
    if (is_pg())
        return;
    const char *path = tmp_path("foreign.db");
    sql(path, "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT);"
              "INSERT INTO notes (body) VALUES ('keep me');");
    size_t len0 = 0, len1 = 0;
    char *before = read_all(path, &len0);
    char uri[600];
    snprintf(uri, sizeof uri, "sqlite://%s", path);
    cairn_ctx *ctx = NULL;
    CHECK(cairn_open(uri, NULL, &ctx) == CAIRN_EINVAL);
    CHECK(strstr(cairn_errmsg(ctx), "is not a cairn store") != NULL);
    CHECK(strstr(cairn_errmsg(ctx), "'notes'") != NULL);
    cairn_close(ctx);
    char *after = read_all(path, &len1);
    CHECK(before && after && len0 == len1 && memcmp(before, after, len0) == 0);
    char wal[600];
    snprintf(wal, sizeof wal, "%s-wal", path);
    CHECK(access(wal, F_OK) != 0); /* not switched to WAL */
    free(before);
    free(after);
}

/* Records migration 999 in the store at uri as a newer cairn would (add), or removes it. */
static void sql_newer(const char *uri, bool add)
{
    if (!is_pg()) {
        sql(uri + strlen("sqlite://"),
            add ? "INSERT INTO cairn_schema VALUES (999, '999_future.sql', 0)"
                : "DELETE FROM cairn_schema WHERE version = 999");
        return;
    }
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "psql -q '%s' -c \"%s\" >/dev/null", uri,
             add ? "INSERT INTO cairn_schema VALUES (999, '999_future.sql', 0)"
                 : "DELETE FROM cairn_schema WHERE version = 999");
    CHECK(system(cmd) == 0);
}

TEST(newer_schema_is_refused_on_both_backends)
{
    char uri[600];
    if (is_pg())
        snprintf(uri, sizeof uri, "%s", getenv("CAIRN_TEST_PG"));
    else
        snprintf(uri, sizeof uri, "sqlite://%s", tmp_path("newer.db"));
    cairn_ctx *ctx = NULL;
    CHECK(cairn_open(uri, NULL, &ctx) == CAIRN_OK);
    cairn_close(ctx);
    sql_newer(uri, true);
    CHECK(cairn_open(uri, NULL, &ctx) == CAIRN_EINVAL);
    CHECK(strstr(cairn_errmsg(ctx), "was written by a newer cairn (schema 999, this cairn knows "
                                    "up to ") != NULL);
    CHECK(strstr(cairn_errmsg(ctx), "upgrade cairn") != NULL);
    cairn_close(ctx);
    cairn_store_report *rep = NULL;
    ctx = cairn_ctx_new();
    CHECK(cairn_store_check(ctx, uri, &rep) == CAIRN_OK);
    CHECK(rep && rep->n_problems >= 1 && rep->schema_version == 999);
    cairn_store_report_free(rep);
    cairn_close(ctx);
    /* Undone (the PostgreSQL database is shared with the other tests): it opens again. */
    sql_newer(uri, false);
    ctx = NULL;
    CHECK(cairn_open(uri, NULL, &ctx) == CAIRN_OK);
    cairn_close(ctx);
}

TEST(store_check_passes_a_sound_store)
{
    cairn_ctx *ctx = fixture_open();
    cairn_close(ctx);
    char uri[600];
    if (is_pg())
        snprintf(uri, sizeof uri, "%s", getenv("CAIRN_TEST_PG"));
    else
        snprintf(uri, sizeof uri, "sqlite://%s/cairn.db", fixture_dir);
    ctx = cairn_ctx_new();
    cairn_store_report *rep = NULL;
    CHECK(cairn_store_check(ctx, uri, &rep) == CAIRN_OK);
    CHECK(rep && rep->n_problems == 0);
    for (size_t i = 0; rep && i < rep->n_problems; i++)
        fprintf(stderr, "# %s\n", rep->problems[i]);
    CHECK(rep && rep->schema_version >= 1 && rep->schema_version == rep->schema_known);
    cairn_store_report_free(rep);
    cairn_close(ctx);
}

TEST(uri_options_are_parsed_and_checked)
{
    if (is_pg())
        return;
    const char *path = tmp_path("opts.db");
    char uri[700];
    cairn_ctx *ctx = NULL;
    snprintf(uri, sizeof uri, "sqlite://%s?mode=ro", path);
    CHECK(cairn_open(uri, NULL, &ctx) == CAIRN_ENOTFOUND); /* ro never creates */
    cairn_close(ctx);
    snprintf(uri, sizeof uri, "sqlite://%s?mode=rw", path);
    CHECK(cairn_open(uri, NULL, &ctx) == CAIRN_ENOTFOUND); /* rw never creates */
    cairn_close(ctx);
    snprintf(uri, sizeof uri, "sqlite://%s?mode=rwc&busy_timeout_ms=5000", path);
    CHECK(cairn_open(uri, NULL, &ctx) == CAIRN_OK);
    char *id = NULL;
    CHECK(strlen(fixture_name("e")) > 0); /* the fixture's helper, used once */
    CHECK(cairn_experiment_create(ctx, "e", NULL, NULL, 0, &id) == CAIRN_OK);
    cairn_free(id);
    cairn_close(ctx);
    CHECK(access(path, F_OK) == 0);
    char odd[700];
    snprintf(odd, sizeof odd, "%s?mode=rwc", path);
    CHECK(access(odd, F_OK) != 0); /* no file named "opts.db?mode=rwc" */
    snprintf(uri, sizeof uri, "sqlite://%s?mode=ro", path);
    CHECK(cairn_open(uri, NULL, &ctx) == CAIRN_OK);
    cairn_experiment *exp = NULL;
    CHECK(cairn_experiment_get_by_name(ctx, "e", &exp) == CAIRN_OK);
    cairn_experiment_free(exp);
    CHECK(cairn_experiment_create(ctx, "f", NULL, NULL, 0, &id) == CAIRN_EIO);
    CHECK(strstr(cairn_errmsg(ctx), "is read-only") != NULL);
    cairn_close(ctx);
    snprintf(uri, sizeof uri, "sqlite://%s?immutable=1", path);
    CHECK(cairn_open(uri, NULL, &ctx) == CAIRN_OK);
    CHECK(cairn_experiment_get_by_name(ctx, "e", &exp) == CAIRN_OK);
    cairn_experiment_free(exp);
    cairn_close(ctx);
    snprintf(uri, sizeof uri, "sqlite://%s?cache=shared", path);
    CHECK(cairn_open(uri, NULL, &ctx) == CAIRN_EINVAL);
    CHECK(strstr(cairn_errmsg(ctx), "unknown option 'cache'") != NULL);
    cairn_close(ctx);
    snprintf(uri, sizeof uri, "sqlite://%s?mode=wr", path);
    CHECK(cairn_open(uri, NULL, &ctx) == CAIRN_EINVAL);
    CHECK(strstr(cairn_errmsg(ctx), "option 'mode' must be ro, rw or rwc") != NULL);
    cairn_close(ctx);
}

TEST(read_only_store_needing_migrations_is_refused)
{
    if (is_pg())
        return;
    const char *path = tmp_path("old.db");
    char uri[600];
    snprintf(uri, sizeof uri, "sqlite://%s?mode=ro", path);
    sql(path, "CREATE TABLE cairn_schema (version INTEGER PRIMARY KEY, name TEXT NOT NULL, "
              "applied_time BIGINT NOT NULL)");
    cairn_ctx *ctx = NULL;
    CHECK(cairn_open(uri, NULL, &ctx) == CAIRN_EINVAL);
    CHECK(strstr(cairn_errmsg(ctx), "needs an upgrade") != NULL);
    CHECK(strstr(cairn_errmsg(ctx), "open it writable once") != NULL);
    cairn_close(ctx);
}

/* XORs mask into one byte of each of pages first .. first + n - 1 (1-based), at offset. */
static void flip(const char *path, int first, int n, long offset, unsigned char mask)
{
    FILE *f = fopen(path, "r+b");
    CHECK(f != NULL);
    for (int i = 0; f && i < n; i++) {
        long at = (long)(first + i - 1) * 4096 + offset;
        fseek(f, at, SEEK_SET);
        int c = fgetc(f);
        fseek(f, at, SEEK_SET);
        fputc(c ^ mask, f);
    }
    if (f)
        fclose(f);
}

/* A store with enough metric points to fill ~150 pages; its run id in run_id. */
static void fill(const char *uri, char run_id[33])
{
    cairn_ctx *ctx = NULL;
    CHECK(cairn_open(uri, NULL, &ctx) == CAIRN_OK);
    cairn_run *run = NULL;
    CHECK(cairn_run_start(ctx, NULL, &run) == CAIRN_OK);
    for (int i = 0; run && i < 6000; i++)
        cairn_run_log_metric(run, "a_metric_with_a_rather_long_name", i * 0.5, i);
    CHECK(run && cairn_run_finish(run, CAIRN_RUN_FINISHED) == CAIRN_OK);
    snprintf(run_id, 33, "%s", run ? cairn_run_id(run) : "");
    cairn_run_free(run);
    /* Into the main file: the flips below must hit the pages SQLite reads. */
    cairn_close(ctx);
}

TEST(bit_flips_are_found_and_named)
{
    if (is_pg())
        return;
    const char *path = tmp_path("flipped.db");
    char uri[600], run_id[33];
    snprintf(uri, sizeof uri, "sqlite://%s", path);
    fill(uri, run_id);
    /* 40 bit flips in the middle of 40 full pages of the metrics b-tree. */
    flip(path, 60, 40, 2048, 0x10);
    cairn_ctx *ctx = cairn_ctx_new();
    cairn_store_report *rep = NULL;
    CHECK(cairn_store_check(ctx, uri, &rep) == CAIRN_OK);
    CHECK(rep && rep->n_problems > 0);
    CHECK(rep && rep->n_problems > 0 && strstr(rep->problems[0], "integrity: ") != NULL);
    cairn_store_report_free(rep);
    cairn_close(ctx);
    /* A page whose b-tree header is garbage: reading it is SQLITE_CORRUPT, named as such. */
    flip(path, 60, 40, 0, 0xFF);
    CHECK(cairn_open(uri, NULL, &ctx) == CAIRN_OK);
    cairn_metric_page *page = NULL;
    CHECK(cairn_run_metric_history(ctx, run_id, "a_metric_with_a_rather_long_name", NULL, 100000,
                                   &page) == CAIRN_EDB);
    CHECK(strstr(cairn_errmsg(ctx), "is corrupted (database disk image is malformed); run "
                                    "'cairn store check") != NULL);
    cairn_metric_page_free(page);
    cairn_close(ctx);
}

UNIT_MAIN(UNIT_CASE(foreign_sqlite_file_is_refused_unchanged),
          UNIT_CASE(newer_schema_is_refused_on_both_backends),
          UNIT_CASE(store_check_passes_a_sound_store),
          UNIT_CASE(uri_options_are_parsed_and_checked),
          UNIT_CASE(read_only_store_needing_migrations_is_refused),
          UNIT_CASE(bit_flips_are_found_and_named))
