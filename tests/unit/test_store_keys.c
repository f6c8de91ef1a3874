/* SPDX-License-Identifier: MIT */
/* test_store_keys.c - cairn_experiment_keys(): the distinct metric, param and tag keys of an
 * experiment's runs, on SQLite and (via scripts/with-pg.sh) PostgreSQL. */
#include <stdbool.h>
#include "unit.h"
#include "store_fixture.h"

static cairn_ctx *ctx;

static bool has(const cairn_key_list *l, const char *key)
{
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(l->keys[i], key) == 0)
            return true;
    return false;
}

static void run_in(const char *exp, const char *metric, const char *param, bool deleted)
{
    cairn_run_opts o = CAIRN_RUN_OPTS_INIT;
    o.experiment = exp;
    cairn_run *run = NULL;
    CHECK(cairn_run_start(ctx, &o, &run) == CAIRN_OK);
    CHECK(cairn_run_log_metric(run, metric, 0.5, 0) == CAIRN_OK);
    CHECK(cairn_run_log_metric(run, metric, 0.7, 1) == CAIRN_OK);
    CHECK(cairn_run_log_param(run, param, "1") == CAIRN_OK);
    CHECK(cairn_run_set_tag(run, "team", "x") == CAIRN_OK);
    CHECK(cairn_run_finish(run, CAIRN_RUN_FINISHED) == CAIRN_OK);
    if (deleted)
        CHECK(cairn_run_delete(ctx, cairn_run_id(run)) == CAIRN_OK);
    cairn_run_free(run);
}

TEST(keys_of_one_experiment)
{
    const char *a = fixture_name("keys-a"), *b = fixture_name("keys-b");
    run_in(a, "acc", "lr", false);
    run_in(a, "acc", "depth", false);
    run_in(a, "loss", "lr", false);
    run_in(a, "gone", "gone_param", true);
    run_in(b, "other", "other_param", false);
    cairn_experiment *e = NULL;
    CHECK(cairn_experiment_get_by_name(ctx, a, &e) == CAIRN_OK);
    const char *ids[] = {e->experiment_id};

    cairn_key_list *l = NULL;
    CHECK(cairn_experiment_keys(ctx, ids, 1, CAIRN_VIEW_ACTIVE_ONLY, CAIRN_KEY_METRIC, &l) ==
          CAIRN_OK);
    CHECK(l && l->n == 2 && !l->truncated);
    if (l && l->n == 2) {
        CHECK_STR(l->keys[0], "acc"); /* sorted, distinct */
        CHECK_STR(l->keys[1], "loss");
    }
    cairn_key_list_free(l);

    CHECK(cairn_experiment_keys(ctx, ids, 1, CAIRN_VIEW_ALL, CAIRN_KEY_METRIC, &l) == CAIRN_OK);
    CHECK(l && l->n == 3 && has(l, "gone")); /* the deleted run's key in view ALL */
    cairn_key_list_free(l);

    CHECK(cairn_experiment_keys(ctx, ids, 1, CAIRN_VIEW_ACTIVE_ONLY, CAIRN_KEY_PARAM, &l) ==
          CAIRN_OK);
    CHECK(l && l->n == 2 && has(l, "lr") && has(l, "depth") && !has(l, "other_param"));
    cairn_key_list_free(l);

    CHECK(cairn_experiment_keys(ctx, ids, 1, CAIRN_VIEW_ACTIVE_ONLY, CAIRN_KEY_TAG, &l) ==
          CAIRN_OK);
    CHECK(l && has(l, "team") && has(l, "mlflow.runName"));
    cairn_key_list_free(l);

    /* every experiment */
    CHECK(cairn_experiment_keys(ctx, NULL, 0, CAIRN_VIEW_ACTIVE_ONLY, CAIRN_KEY_METRIC, &l) ==
          CAIRN_OK);
    CHECK(l && has(l, "acc") && has(l, "other"));
    cairn_key_list_free(l);
    cairn_experiment_free(e);
}

TEST(bad_arguments)
{
    const char *bad[] = {"x1"};
    cairn_key_list *l = NULL;
    CHECK(cairn_experiment_keys(ctx, bad, 1, CAIRN_VIEW_ALL, CAIRN_KEY_METRIC, &l) == CAIRN_EINVAL);
    CHECK(l == NULL);
    CHECK(strstr(cairn_errmsg(ctx), "invalid experiment id 'x1'") != NULL);
    CHECK(cairn_experiment_keys(ctx, NULL, 0, CAIRN_VIEW_ALL, (cairn_key_kind)7, &l) ==
          CAIRN_EINVAL);
    cairn_key_list_free(NULL);
}

static void close_ctx(void)
{
    cairn_close(ctx);
}

static void open_store(void)
{
    ctx = fixture_open();
    atexit(close_ctx);
}

UNIT_MAIN(UNIT_CASE(open_store), UNIT_CASE(keys_of_one_experiment), UNIT_CASE(bad_arguments))
