/* SPDX-License-Identifier: MIT */
/* test_tracking_text.c - text is checked at the API boundary the same way on SQLite and
 * PostgreSQL (this binary runs on both): invalid UTF-8 is refused with the field and the byte
 * offset before anything is created; long input paths give tag keys that fit. */
#include <string.h>
#include <sys/stat.h>
#include "unit.h"
#include "store_fixture.h"

static bool experiment_exists(cairn_ctx *ctx, const char *name)
{
    cairn_experiment *exp = NULL;
    bool found = cairn_experiment_get_by_name(ctx, name, &exp) == CAIRN_OK;
    cairn_experiment_free(exp);
    return found;
}

TEST(experiment_create_refuses_invalid_utf8)
{
    cairn_ctx *ctx = fixture_open();
    char *id = NULL;
    CHECK(cairn_experiment_create(ctx, "bad\xff name", NULL, NULL, 0, &id) == CAIRN_EINVAL);
    CHECK_STR(cairn_errmsg(ctx), "experiment name: invalid UTF-8 at byte 3");
    CHECK(id == NULL);
    /* The connection is still usable (PostgreSQL said "current transaction is aborted"). */
    const char *name = fixture_name("after-bad");
    CHECK(cairn_experiment_create(ctx, name, NULL, NULL, 0, &id) == CAIRN_OK);
    cairn_free(id);
    cairn_tag tag = {"k", "v\xc0\x80"};
    CHECK(cairn_experiment_create(ctx, fixture_name("bad-tag"), NULL, &tag, 1, &id) ==
          CAIRN_EINVAL);
    CHECK_STR(cairn_errmsg(ctx), "experiment tag 'k' value: invalid UTF-8 at byte 1");
    cairn_experiment *exp = NULL;
    CHECK(cairn_experiment_get_by_name(ctx, "x\xff", &exp) == CAIRN_EINVAL);
    cairn_close(ctx);
}

TEST(run_start_refuses_before_creating_anything)
{
    cairn_ctx *ctx = fixture_open();
    const char *exp_name = fixture_name("fresh");
    cairn_run_opts o = CAIRN_RUN_OPTS_INIT;
    o.experiment = exp_name;
    o.name = "run\xff";
    cairn_run *run = NULL;
    CHECK(cairn_run_start(ctx, &o, &run) == CAIRN_EINVAL);
    CHECK_STR(cairn_errmsg(ctx), "run name: invalid UTF-8 at byte 3");
    CHECK(run == NULL);
    CHECK(!experiment_exists(ctx, exp_name)); /* not even the experiment was created */
    o.name = "ok";
    cairn_tag tag = {"note", "\xe2\x82"};
    o.tags = &tag;
    o.n_tags = 1;
    CHECK(cairn_run_start(ctx, &o, &run) == CAIRN_EINVAL);
    CHECK_STR(cairn_errmsg(ctx), "tag 'note' value: invalid UTF-8 at byte 0");
    CHECK(!experiment_exists(ctx, exp_name));
    cairn_close(ctx);
}

TEST(run_writers_refuse_invalid_utf8_and_keep_working)
{
    cairn_ctx *ctx = fixture_open();
    cairn_run_opts o = CAIRN_RUN_OPTS_INIT;
    o.experiment = fixture_name("writers");
    cairn_run *run = NULL;
    CHECK(cairn_run_start(ctx, &o, &run) == CAIRN_OK);
    if (!run) {
        cairn_close(ctx);
        return;
    }
    CHECK(cairn_run_log_param(run, "lr", "0.1\xff") == CAIRN_EINVAL);
    CHECK_STR(cairn_errmsg(ctx), "param 'lr' value: invalid UTF-8 at byte 3");
    CHECK(cairn_run_log_param(run, "l\xffr", "1") == CAIRN_EINVAL);
    CHECK_STR(cairn_errmsg(ctx), "param name: invalid UTF-8 at byte 1");
    CHECK(cairn_run_set_tag(run, "t", "\xed\xa0\x80") == CAIRN_EINVAL);
    CHECK(cairn_run_log_metric(run, "lo\xffss", 1, 0) == CAIRN_EINVAL);
    CHECK(cairn_run_set_name(run, "n\xff") == CAIRN_EINVAL);
    CHECK_STR(cairn_errmsg(ctx), "run name: invalid UTF-8 at byte 1");
    cairn_dataset_input in = {.name = "d", .digest = "abc", .source = "\xff"};
    CHECK(cairn_run_log_input(run, &in) == CAIRN_EINVAL);
    CHECK_STR(cairn_errmsg(ctx), "dataset input source: invalid UTF-8 at byte 0");
    /* Valid text still goes through, on the same connection. */
    CHECK(cairn_run_log_param(run, "lr", "0.1 \xc3\xa9") == CAIRN_OK);
    CHECK(cairn_run_finish(run, CAIRN_RUN_FINISHED) == CAIRN_OK);
    cairn_run_record *rec = NULL;
    CHECK(cairn_run_get(ctx, cairn_run_id(run), &rec) == CAIRN_OK);
    CHECK(rec && rec->n_params == 1);
    cairn_run_record_free(rec);
    cairn_run_free(run);
    cairn_close(ctx);
}

TEST(long_input_path_gives_keys_that_fit)
{
    cairn_ctx *ctx = fixture_open();
    char path[400];
    int n = snprintf(path, sizeof path, "%s", fixture_dir);
    while (n < 290) { /* folders of 30 characters until the path is ~300 long */
        n += snprintf(path + n, sizeof path - (size_t)n, "/%s", "abcdefghijklmnopqrstuvwxyz0123");
        mkdir(path, 0755);
    }
    n += snprintf(path + n, sizeof path - (size_t)n, "/data.csv");
    CHECK(n >= 300);
    FILE *f = fopen(path, "w");
    if (f) {
        fputs("a,b\n1,2\n", f);
        fclose(f);
    }
    cairn_run *run = NULL;
    cairn_run_opts o = CAIRN_RUN_OPTS_INIT;
    o.experiment = fixture_name("long-input");
    CHECK(cairn_run_start(ctx, &o, &run) == CAIRN_OK);
    const char *inputs[] = {path};
    cairn_context_opts co = CAIRN_CONTEXT_OPTS_INIT;
    co.inputs = inputs;
    co.n_inputs = 1;
    co.skip_git = true;
    CHECK(run && cairn_run_capture_context(run, &co) == CAIRN_OK);
    cairn_run_record *rec = NULL;
    CHECK(run && cairn_run_get(ctx, cairn_run_id(run), &rec) == CAIRN_OK);
    int found = 0;
    for (size_t i = 0; rec && i < rec->n_tags; i++) {
        const char *k = rec->tags[i].key;
        if (strncmp(k, "cairn.input.", 12) != 0)
            continue;
        CHECK(strlen(k) <= CAIRN_KEY_MAX);
        CHECK(strstr(k, "/data.csv.") != NULL); /* the file name survives */
        found++;
    }
    CHECK(found == 2); /* .sha256 and .size_bytes */
    cairn_run_record_free(rec);
    cairn_run_free(run);
    cairn_close(ctx);
}

UNIT_MAIN(UNIT_CASE(experiment_create_refuses_invalid_utf8),
          UNIT_CASE(run_start_refuses_before_creating_anything),
          UNIT_CASE(run_writers_refuse_invalid_utf8_and_keep_working),
          UNIT_CASE(long_input_path_gives_keys_that_fit))
