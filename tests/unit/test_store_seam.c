/* SPDX-License-Identifier: MIT */
/* test_store_seam.c - the by-id run writers a REST server calls (cairn_runs_*), the one key
 * rule (core/key.c), and the dialect helpers of store.h (upsert, per-parent sequence, claim
 * suffix), on SQLite and, through scripts/with-pg.sh, PostgreSQL. */
#include <sys/wait.h>
#include <unistd.h>
#include "unit.h"
#include "store_fixture.h"
#include "core/core.h"
#include "core/key.h"
#include "runner/lineproto.h"
#include "store/store.h"
#include "base/buf.h"

static char *new_run(cairn_ctx *ctx, const char *exp)
{
    cairn_run_opts o = CAIRN_RUN_OPTS_INIT;
    o.experiment = exp;
    o.name = "by-id";
    char *id = NULL;
    CHECK(cairn_runs_create(ctx, &o, &id) == CAIRN_OK);
    CHECK(id && strlen(id) == 32);
    return id;
}

TEST(runs_create_by_id)
{
    cairn_ctx *ctx = fixture_open();
    char *id = new_run(ctx, fixture_name("seam-create"));
    cairn_run_record *rec = NULL;
    CHECK(cairn_run_get(ctx, id, &rec) == CAIRN_OK);
    CHECK(rec && rec->info.status == CAIRN_RUN_RUNNING);
    CHECK_STR(rec ? rec->info.run_name : NULL, "by-id");
    CHECK_STR(rec ? fixture_tag(rec, "mlflow.runName") : NULL, "by-id");
    cairn_run_record_free(rec);
    cairn_run_opts o = CAIRN_RUN_OPTS_INIT;
    o.experiment_id = "987654321";
    char *none = NULL;
    CHECK(cairn_runs_create(ctx, &o, &none) == CAIRN_ENOTFOUND && none == NULL);
    cairn_free(id);
    cairn_close(ctx);
}

TEST(runs_update_by_id)
{
    cairn_ctx *ctx = fixture_open();
    char *id = new_run(ctx, fixture_name("seam-update"));
    cairn_run_update u = CAIRN_RUN_UPDATE_INIT;
    u.status = CAIRN_RUN_FAILED;
    u.end_ms = 1234;
    CHECK(cairn_runs_update(ctx, id, &u) == CAIRN_OK);
    cairn_run_update rename = CAIRN_RUN_UPDATE_INIT;
    rename.name = "second";
    CHECK(cairn_runs_update(ctx, id, &rename) == CAIRN_OK);
    cairn_run_record *rec = NULL;
    CHECK(cairn_run_get(ctx, id, &rec) == CAIRN_OK);
    CHECK(rec && rec->info.status == CAIRN_RUN_FAILED && rec->info.end_time_ms == 1234);
    CHECK_STR(rec ? rec->info.run_name : NULL, "second");
    CHECK_STR(rec ? fixture_tag(rec, "mlflow.runName") : NULL, "second");
    cairn_run_record_free(rec);
    u.status = (cairn_run_status)42;
    CHECK(cairn_runs_update(ctx, id, &u) == CAIRN_EINVAL);
    CHECK(cairn_runs_update(ctx, "0123456789abcdef0123456789abcdef", &rename) == CAIRN_ENOTFOUND);
    cairn_free(id);
    cairn_close(ctx);
}

TEST(runs_log_batch_by_id)
{
    cairn_ctx *ctx = fixture_open();
    char *id = new_run(ctx, fixture_name("seam-batch"));
    cairn_metric m[3] = {{"val:loss", 0.5, 10, 0}, {"val:loss", 0.4, 11, 1}, {"acc", 0.9, 12, 1}};
    cairn_param p[1] = {{"lr", "0.1"}};
    cairn_tag t[1] = {{"k", "v"}};
    CHECK(cairn_runs_log_batch(ctx, id, m, 3, p, 1, t, 1) == CAIRN_OK);
    CHECK(cairn_runs_log_batch(ctx, id, m, 3, p, 1, t, 1) == CAIRN_OK); /* idempotent */
    cairn_metric_page *h = NULL;
    CHECK(cairn_run_metric_history(ctx, id, "val:loss", NULL, 0, &h) == CAIRN_OK);
    CHECK(h && h->n == 2);
    cairn_metric_page_free(h);
    cairn_param bad = {"lr", "0.2"};
    CHECK(cairn_runs_log_batch(ctx, id, NULL, 0, &bad, 1, NULL, 0) == CAIRN_EINVAL);
    cairn_metric badkey = {"a$b", 1, 0, 0};
    CHECK(cairn_runs_log_batch(ctx, id, &badkey, 1, NULL, 0, NULL, 0) == CAIRN_EINVAL);
    CHECK(cairn_runs_log_batch(ctx, "0123456789abcdef0123456789abcdef", m, 1, NULL, 0, NULL, 0) ==
          CAIRN_ENOTFOUND);
    cairn_free(id);
    cairn_close(ctx);
}

TEST(runs_set_and_delete_tag_by_id)
{
    cairn_ctx *ctx = fixture_open();
    char *id = new_run(ctx, fixture_name("seam-tags"));
    CHECK(cairn_runs_set_tag(ctx, id, "color", "red") == CAIRN_OK);
    CHECK(cairn_runs_set_tag(ctx, id, "color", "blue") == CAIRN_OK);
    cairn_run_record *rec = NULL;
    CHECK(cairn_run_get(ctx, id, &rec) == CAIRN_OK);
    CHECK_STR(rec ? fixture_tag(rec, "color") : NULL, "blue");
    cairn_run_record_free(rec);
    CHECK(cairn_runs_delete_tag(ctx, id, "color") == CAIRN_OK);
    CHECK(cairn_runs_delete_tag(ctx, id, "color") == CAIRN_OK); /* already gone */
    CHECK(cairn_run_get(ctx, id, &rec) == CAIRN_OK);
    CHECK(rec && fixture_tag(rec, "color") == NULL);
    cairn_run_record_free(rec);
    CHECK(cairn_runs_delete_tag(ctx, "0123456789abcdef0123456789abcdef", "x") == CAIRN_ENOTFOUND);
    CHECK(cairn_run_delete(ctx, id) == CAIRN_OK);
    CHECK(cairn_runs_set_tag(ctx, id, "color", "red") == CAIRN_EINVAL);
    cairn_free(id);
    cairn_close(ctx);
}

TEST(runs_log_inputs_by_id)
{
    cairn_ctx *ctx = fixture_open();
    char *id = new_run(ctx, fixture_name("seam-inputs"));
    cairn_dataset_input in[2] = {{"a.csv", "d1", "local", "a.csv", NULL, NULL, "training"},
                                 {"b.csv", "d2", "local", "b.csv", "{}", NULL, "test"}};
    CHECK(cairn_runs_log_inputs(ctx, id, in, 2) == CAIRN_OK);
    in[0].context = "validation";
    CHECK(cairn_runs_log_inputs(ctx, id, in, 1) == CAIRN_OK);
    cairn_run_record *rec = NULL;
    CHECK(cairn_run_get(ctx, id, &rec) == CAIRN_OK);
    CHECK(rec && rec->n_inputs == 2);
    for (size_t i = 0; rec && i < rec->n_inputs; i++)
        if (strcmp(rec->inputs[i].name, "a.csv") == 0)
            CHECK_STR(rec->inputs[i].context, "validation");
    cairn_run_record_free(rec);
    cairn_dataset_input nodigest = {"c.csv", NULL, NULL, NULL, NULL, NULL, NULL};
    CHECK(cairn_runs_log_inputs(ctx, id, &nodigest, 1) == CAIRN_EINVAL);
    CHECK(cairn_runs_log_inputs(ctx, "0123456789abcdef0123456789abcdef", in, 1) == CAIRN_ENOTFOUND);
    cairn_free(id);
    cairn_close(ctx);
}

TEST(one_key_rule_for_api_and_line_protocol)
{
    static const char *const good[] = {"loss",      "val:loss",     "val/acc",
                                       "a b.c-d_e", "r\xc3\xa9sum", "a..b"};
    static const char *const bad[] = {"",   "/abs", "a/../b", "..",  "..x", "a//b",
                                      "a/", "a$b",  "./a",    "a/.", "a=b"};
    cairn_ctx *ctx = cairn_ctx_new();
    for (size_t i = 0; i < sizeof good / sizeof *good; i++) {
        CHECK(cn_key_valid(good[i], strlen(good[i])));
        CHECK(cn_lp_key_valid(good[i], strlen(good[i])));
        CHECK(cn_key_check(ctx, "metric", good[i]) == CAIRN_OK);
    }
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        CHECK(!cn_key_valid(bad[i], strlen(bad[i])));
        CHECK(!cn_lp_key_valid(bad[i], strlen(bad[i])));
        CHECK(cn_key_check(ctx, "metric", bad[i]) == CAIRN_EINVAL);
    }
    char long_key[252];
    memset(long_key, 'k', sizeof long_key);
    long_key[251] = '\0';
    CHECK(!cn_key_valid(long_key, 251) && cn_key_valid(long_key, 250));
    cairn_close(ctx);
}

TEST(upsert_sql_is_portable)
{
    cn_buf b = CN_BUF_INIT;
    cn_store_upsert_sql(&b, "tags", "run_uuid, key, value", "run_uuid, key", NULL);
    CHECK_STR(cn_buf_str(&b), "INSERT INTO tags (run_uuid, key, value) VALUES (?, ?, ?) ON "
                              "CONFLICT (run_uuid, key) DO UPDATE SET value = excluded.value");
    cn_buf_release(&b);
    cn_store_upsert_sql(&b, "t", "a, b, c", "a", "excluded.b > t.b");
    CHECK_STR(cn_buf_str(&b), "INSERT INTO t (a, b, c) VALUES (?, ?, ?) ON CONFLICT (a) DO "
                              "UPDATE SET b = excluded.b, c = excluded.c WHERE excluded.b > t.b");
    cn_buf_release(&b);
}

/* Allocates n numbers of parent's sequence, each in its own transaction, inserting each. */
static bool take_numbers(cairn_ctx *ctx, const char *table, const char *parent, int n)
{
    char sql[160];
    snprintf(sql, sizeof sql, "INSERT INTO %s (parent, version) VALUES (?, ?)", table);
    for (int i = 0; i < n; i++) {
        int64_t v = 0;
        if (cn_store_begin(ctx) != CAIRN_OK)
            return false;
        cairn_status rc = cn_store_next_seq(ctx, table, "parent", parent, "version", &v);
        if (rc == CAIRN_OK)
            rc = cn_store_run(ctx, sql, "si", parent, v);
        if (rc != CAIRN_OK) {
            fprintf(stderr, "# %s\n", cairn_errmsg(ctx));
            cn_store_rollback(ctx);
            return false;
        }
        if (cn_store_commit(ctx) != CAIRN_OK)
            return false;
    }
    return true;
}

TEST(sequence_per_parent_under_lock)
{
    cairn_ctx *ctx = fixture_open();
    char table[64], sql[200];
    snprintf(table, sizeof table, "seq_test_%d", (int)getpid());
    snprintf(sql, sizeof sql,
             "CREATE TABLE %s (parent TEXT NOT NULL, version BIGINT NOT NULL, "
             "PRIMARY KEY (parent, version))",
             table);
    CHECK(cn_store_run(ctx, sql, "") == CAIRN_OK);
    CHECK(take_numbers(ctx, table, "model-a", 3));
    CHECK(take_numbers(ctx, table, "model-b", 1));
    /* Two processes racing on one parent: the primary key refuses any duplicate number. */
    fflush(NULL);
    pid_t kids[2];
    for (int k = 0; k < 2; k++) {
        kids[k] = fork();
        if (kids[k] == 0) {
            cairn_ctx *mine = fixture_open();
            bool ok = take_numbers(mine, table, "model-a", 20);
            cairn_close(mine);
            _exit(ok ? 0 : 1);
        }
    }
    for (int k = 0; k < 2; k++) {
        int status = 0;
        CHECK(waitpid(kids[k], &status, 0) == kids[k]);
        CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
    cn_stmt *st = NULL;
    snprintf(sql, sizeof sql, "SELECT COUNT(*), MAX(version) FROM %s WHERE parent = ?", table);
    CHECK(cn_store_query(ctx, &st, sql, "s", "model-a") == CAIRN_OK);
    CHECK(cn_store_step(ctx, st) == CN_DB_ROW);
    CHECK(cn_col_int(ctx, st, 0) == 43 && cn_col_int(ctx, st, 1) == 43);
    cn_store_finalize(ctx, st);
    snprintf(sql, sizeof sql, "DROP TABLE %s", table);
    CHECK(cn_store_run(ctx, sql, "") == CAIRN_OK);
    cairn_close(ctx);
}

TEST(claim_suffix_locks_rows)
{
    cairn_ctx *ctx = fixture_open();
    char *id = new_run(ctx, fixture_name("seam-claim"));
    char sql[200];
    snprintf(sql, sizeof sql, "SELECT run_uuid FROM runs WHERE run_uuid = ?%s",
             cn_store_claim_suffix(ctx));
    CHECK(cn_store_begin(ctx) == CAIRN_OK);
    cn_stmt *st = NULL;
    CHECK(cn_store_query(ctx, &st, sql, "s", id) == CAIRN_OK);
    CHECK(cn_store_step(ctx, st) == CN_DB_ROW);
    cn_store_finalize(ctx, st);
    CHECK(cn_store_commit(ctx) == CAIRN_OK);
    cairn_free(id);
    cairn_close(ctx);
}

UNIT_MAIN(UNIT_CASE(runs_create_by_id), UNIT_CASE(runs_update_by_id),
          UNIT_CASE(runs_log_batch_by_id), UNIT_CASE(runs_set_and_delete_tag_by_id),
          UNIT_CASE(runs_log_inputs_by_id), UNIT_CASE(one_key_rule_for_api_and_line_protocol),
          UNIT_CASE(upsert_sql_is_portable), UNIT_CASE(sequence_per_parent_under_lock),
          UNIT_CASE(claim_suffix_locks_rows))
