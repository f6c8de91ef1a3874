/* SPDX-License-Identifier: MIT */
/* test_tracking.c - the tracking API on a real store (SQLite, or PostgreSQL under
 * scripts/with-pg.sh): experiments, runs, params, metrics, tags, batches, artifacts, inputs. */
#include <math.h>
#include <sys/stat.h>
#include "unit.h"
#include "store_fixture.h"
#include "base/xmalloc.h"

static cairn_ctx *ctx;

static const cairn_metric *find_metric(const cairn_run_record *rec, const char *key)
{
    for (size_t i = 0; i < rec->n_metrics; i++)
        if (strcmp(rec->metrics[i].key, key) == 0)
            return &rec->metrics[i];
    return NULL;
}

static const char *find_kv(const cairn_param *kv, size_t n, const char *key)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(kv[i].key, key) == 0)
            return kv[i].value;
    return NULL;
}

static cairn_run *start(const char *exp)
{
    cairn_run_opts o = CAIRN_RUN_OPTS_INIT;
    o.experiment = exp;
    cairn_run *run = NULL;
    CHECK(cairn_run_start(ctx, &o, &run) == CAIRN_OK);
    return run;
}

TEST(experiment_lifecycle)
{
    const char *name = fixture_name("exp");
    char *id = NULL;
    cairn_tag tags[] = {{"team", "vision"}};
    CHECK(cairn_experiment_create(ctx, name, NULL, tags, 1, &id) == CAIRN_OK);
    char *again = NULL;
    CHECK(cairn_experiment_create(ctx, name, NULL, NULL, 0, &again) == CAIRN_EEXIST);
    CHECK(strstr(cairn_errmsg(ctx), "already exists") != NULL);
    cairn_experiment *exp = NULL;
    CHECK(cairn_experiment_get(ctx, id, &exp) == CAIRN_OK);
    CHECK_STR(exp->name, name);
    CHECK(exp->n_tags == 1 && strcmp(exp->tags[0].value, "vision") == 0);
    CHECK(!exp->is_deleted);
    cairn_experiment_free(exp);
    const char *renamed = fixture_name("renamed");
    CHECK(cairn_experiment_rename(ctx, id, renamed) == CAIRN_OK);
    CHECK(cairn_experiment_get_by_name(ctx, renamed, &exp) == CAIRN_OK);
    CHECK_STR(exp->experiment_id, id);
    cairn_experiment_free(exp);
    CHECK(cairn_experiment_get_by_name(ctx, name, &exp) == CAIRN_ENOTFOUND);
    CHECK(cairn_experiment_get(ctx, "999999", &exp) == CAIRN_ENOTFOUND);
    CHECK(strstr(cairn_errmsg(ctx), "999999") != NULL);
    CHECK(cairn_experiment_get(ctx, "abc", &exp) == CAIRN_ENOTFOUND);

    /* Deleting an experiment deletes its runs; restoring brings both back. */
    cairn_run_opts o = CAIRN_RUN_OPTS_INIT;
    o.experiment_id = id;
    cairn_run *run = NULL;
    CHECK(cairn_run_start(ctx, &o, &run) == CAIRN_OK);
    CHECK(cairn_experiment_delete(ctx, id) == CAIRN_OK);
    cairn_run_record *rec = NULL;
    CHECK(cairn_run_get(ctx, cairn_run_id(run), &rec) == CAIRN_OK);
    CHECK(rec->info.is_deleted);
    cairn_run_record_free(rec);
    CHECK(cairn_run_log_metric(run, "x", 1, 0) == CAIRN_OK); /* buffered */
    CHECK(cairn_run_flush(run) == CAIRN_EINVAL);             /* deleted run refuses */
    cairn_run *other = NULL;
    CHECK(cairn_run_start(ctx, &o, &other) == CAIRN_EINVAL);
    CHECK(cairn_experiment_restore(ctx, id) == CAIRN_OK);
    CHECK(cairn_run_flush(run) == CAIRN_OK);
    CHECK(cairn_run_get(ctx, cairn_run_id(run), &rec) == CAIRN_OK);
    CHECK(!rec->info.is_deleted);
    CHECK(find_metric(rec, "x") != NULL);
    cairn_run_record_free(rec);
    cairn_run_free(run);
    CHECK(cairn_experiment_delete(ctx, "0") == CAIRN_EINVAL);
    cairn_free(id);
}

TEST(params_are_write_once)
{
    cairn_run *run = start(fixture_name("params"));
    CHECK(cairn_run_log_param(run, "lr", "0.01") == CAIRN_OK);
    CHECK(cairn_run_log_param(run, "lr", "0.01") == CAIRN_OK);
    CHECK(cairn_run_log_param(run, "lr", "0.02") == CAIRN_EINVAL);
    CHECK(strstr(cairn_errmsg(ctx), "'lr'") != NULL);
    CHECK(strstr(cairn_errmsg(ctx), "0.02") != NULL);
    char *big = malloc(10001);
    memset(big, 'a', 10000);
    big[10000] = '\0';
    CHECK(cairn_run_log_param(run, "long", big) == CAIRN_OK);
    free(big);
    CHECK(cairn_run_log_param(run, "bad*key", "1") == CAIRN_EINVAL);
    CHECK(cairn_run_log_param(run, "../evil", "1") == CAIRN_EINVAL);
    CHECK(cairn_run_log_param(run, "val/loss avg", "1") == CAIRN_OK);
    cairn_run_record *rec = NULL;
    CHECK(cairn_run_get(ctx, cairn_run_id(run), &rec) == CAIRN_OK);
    CHECK_STR(find_kv(rec->params, rec->n_params, "lr"), "0.01");
    CHECK(strlen(find_kv(rec->params, rec->n_params, "long")) == 6000);
    CHECK(find_kv(rec->params, rec->n_params, "bad*key") == NULL);
    cairn_run_record_free(rec);
    cairn_run_free(run);
}

TEST(metrics_latest_and_special_values)
{
    cairn_run *run = start(fixture_name("metrics"));
    cairn_metric pts[] = {
        {"loss", 0.9, 1000, 0},    {"loss", 0.5, 1000, 2},      {"loss", 0.7, 1000, 1},
        {"nan", NAN, 1000, 0},     {"pinf", INFINITY, 1000, 0}, {"ninf", -INFINITY, 1000, 0},
        {"tiny", 1e-300, 1000, 0}, {"neg_step", 3, 1000, -5},
    };
    CHECK(cairn_run_log_metrics(run, pts, CN_ARRAY_LEN(pts)) == CAIRN_OK);
    CHECK(cairn_run_flush(run) == CAIRN_OK);
    cairn_run_record *rec = NULL;
    CHECK(cairn_run_get(ctx, cairn_run_id(run), &rec) == CAIRN_OK);
    const cairn_metric *m = find_metric(rec, "loss");
    CHECK(m && m->value == 0.5 && m->step == 2);
    m = find_metric(rec, "nan");
    CHECK(m && isnan(m->value));
    m = find_metric(rec, "pinf");
    CHECK(m && isinf(m->value) && m->value > 0);
    m = find_metric(rec, "ninf");
    CHECK(m && isinf(m->value) && m->value < 0);
    m = find_metric(rec, "tiny");
    CHECK(m && m->value == 1e-300);
    m = find_metric(rec, "neg_step");
    CHECK(m && m->step == -5);
    cairn_run_record_free(rec);

    /* A later step with an older timestamp still wins; an earlier step never does. */
    cairn_metric late[] = {{"loss", 0.4, 10, 3}, {"loss", 0.1, 99999, 1}};
    CHECK(cairn_run_log_batch(run, late, 2, NULL, 0, NULL, 0) == CAIRN_OK);
    CHECK(cairn_run_get(ctx, cairn_run_id(run), &rec) == CAIRN_OK);
    m = find_metric(rec, "loss");
    CHECK(m && m->value == 0.4 && m->step == 3);
    cairn_run_record_free(rec);

    cairn_metric_page *page = NULL;
    CHECK(cairn_run_metric_history(ctx, cairn_run_id(run), "loss", NULL, 2, &page) == CAIRN_OK);
    CHECK(page->n == 2 && page->next_page_token != NULL);
    CHECK(page->items[0].step == 0 && page->items[1].step == 1);
    char *token = strdup(page->next_page_token);
    cairn_metric_page_free(page);
    CHECK(cairn_run_metric_history(ctx, cairn_run_id(run), "loss", token, 10, &page) == CAIRN_OK);
    CHECK(page->n == 3 && page->next_page_token == NULL);
    cairn_metric_page_free(page);
    free(token);
    CHECK(cairn_run_metric_history(ctx, cairn_run_id(run), "loss", "garbage", 10, &page) ==
          CAIRN_EINVAL);
    CHECK(cairn_run_log_metric(run, "bad*key", 1, 0) == CAIRN_EINVAL);
    cairn_run_free(run);
}

TEST(batch_is_idempotent_and_atomic)
{
    cairn_run *run = start(fixture_name("batch"));
    cairn_metric m[] = {{"acc", 0.5, 1234, 1}, {"acc", 0.6, 1235, 2}};
    cairn_param p[] = {{"opt", "adam"}};
    cairn_tag t[] = {{"stage", "a"}, {"stage", "b"}};
    CHECK(cairn_run_log_batch(run, m, 2, p, 1, t, 2) == CAIRN_OK);
    CHECK(cairn_run_log_batch(run, m, 2, p, 1, t, 2) == CAIRN_OK); /* a client retry */
    cairn_metric_page *page = NULL;
    CHECK(cairn_run_metric_history(ctx, cairn_run_id(run), "acc", NULL, 0, &page) == CAIRN_OK);
    CHECK(page->n == 2);
    cairn_metric_page_free(page);
    cairn_run_record *rec = NULL;
    CHECK(cairn_run_get(ctx, cairn_run_id(run), &rec) == CAIRN_OK);
    CHECK_STR(find_kv(rec->tags, rec->n_tags, "stage"), "b"); /* last value in a batch wins */
    cairn_run_record_free(rec);

    /* A batch with a changed param stores nothing at all. */
    cairn_metric m2[] = {{"acc", 0.9, 1300, 3}};
    cairn_param p2[] = {{"opt", "sgd"}};
    CHECK(cairn_run_log_batch(run, m2, 1, p2, 1, NULL, 0) == CAIRN_EINVAL);
    CHECK(cairn_run_metric_history(ctx, cairn_run_id(run), "acc", NULL, 0, &page) == CAIRN_OK);
    CHECK(page->n == 2);
    cairn_metric_page_free(page);
    cairn_run_free(run);
}

TEST(run_status_name_and_lookup_errors)
{
    cairn_run *run = start(fixture_name("status"));
    CHECK(cairn_run_set_name(run, "renamed-run") == CAIRN_OK);
    CHECK(cairn_run_finish(run, CAIRN_RUN_FAILED) == CAIRN_OK);
    cairn_run_record *rec = NULL;
    CHECK(cairn_run_get(ctx, cairn_run_id(run), &rec) == CAIRN_OK);
    CHECK(rec->info.status == CAIRN_RUN_FAILED);
    CHECK(rec->info.end_time_ms >= rec->info.start_time_ms);
    CHECK_STR(rec->info.run_name, "renamed-run");
    CHECK_STR(find_kv(rec->tags, rec->n_tags, "mlflow.runName"), "renamed-run");
    cairn_run_record_free(rec);
    CHECK(cairn_run_get(ctx, "0123456789abcdef0123456789abcdef", &rec) == CAIRN_ENOTFOUND);
    CHECK(strstr(cairn_errmsg(ctx), "0123456789abcdef") != NULL);
    CHECK(cairn_run_get(ctx, "../../etc", &rec) == CAIRN_EINVAL);
    cairn_run *h = NULL;
    CHECK(cairn_run_attach(ctx, "nosuchrun", &h) == CAIRN_ENOTFOUND);
    CHECK(cairn_run_delete(ctx, cairn_run_id(run)) == CAIRN_OK);
    CHECK(cairn_run_attach(ctx, cairn_run_id(run), &h) == CAIRN_EINVAL);
    CHECK(cairn_run_restore(ctx, cairn_run_id(run)) == CAIRN_OK);
    CHECK(cairn_run_attach(ctx, cairn_run_id(run), &h) == CAIRN_OK);
    cairn_run_free(h);
    cairn_run_status s;
    CHECK(cairn_run_status_parse(ctx, "KILLED", &s) == CAIRN_OK && s == CAIRN_RUN_KILLED);
    CHECK(cairn_run_status_parse(ctx, "DONE", &s) == CAIRN_EINVAL);
    cairn_run_free(run);
}

/* cairn_run_resolve: a full id, a unique prefix (deleted runs too), none, too short; the same
 * search on SQLite and PostgreSQL. */
TEST(run_resolve_by_prefix)
{
    cairn_run *run = start(fixture_name("resolve"));
    const char *id = cairn_run_id(run);
    char *got = NULL;
    CHECK(cairn_run_resolve(ctx, id, &got) == CAIRN_OK);
    CHECK_STR(got, id);
    cairn_free(got);
    char prefix[16];
    snprintf(prefix, sizeof prefix, "%.12s", id); /* 12 hex: unique among this test's runs */
    CHECK(cairn_run_resolve(ctx, prefix, &got) == CAIRN_OK);
    CHECK_STR(got, id);
    cairn_free(got);
    CHECK(cairn_run_delete(ctx, id) == CAIRN_OK);
    CHECK(cairn_run_resolve(ctx, prefix, &got) == CAIRN_OK);
    CHECK_STR(got, id);
    cairn_free(got);
    got = NULL;
    CHECK(cairn_run_resolve(ctx, "zzzzzzzz", &got) == CAIRN_ENOTFOUND && !got);
    CHECK(strstr(cairn_errmsg(ctx), "run 'zzzzzzzz' not found") != NULL);
    snprintf(prefix, sizeof prefix, "%.4s", id);
    CHECK(cairn_run_resolve(ctx, prefix, &got) == CAIRN_ENOTFOUND);
    CHECK(strstr(cairn_errmsg(ctx), "at least 6 characters") != NULL);
    CHECK(cairn_run_resolve(ctx, "abc%'_x", &got) == CAIRN_ENOTFOUND);
    CHECK(cairn_run_restore(ctx, id) == CAIRN_OK);
    cairn_run_free(run);
}

TEST(artifacts_are_copied_hashed_and_contained)
{
    cairn_run *run = start(fixture_name("artifacts"));
    char src[300];
    snprintf(src, sizeof src, "%s/src", fixture_dir);
    mkdir(src, 0755);
    char file[400];
    snprintf(file, sizeof file, "%s/model.bin", src);
    FILE *f = fopen(file, "w");
    fputs("abc", f);
    fclose(f);
    snprintf(file, sizeof file, "%s/sub", src);
    mkdir(file, 0755);
    snprintf(file, sizeof file, "%s/sub/notes.txt", src);
    f = fopen(file, "w");
    fputs("hello\n", f);
    fclose(f);
    CHECK(cairn_run_log_artifact(run, src, "inputs") == CAIRN_OK);
    CHECK(cairn_run_log_artifact_bytes(run, "plots/loss.svg", "<svg/>", 6) == CAIRN_OK);
    CHECK(cairn_run_log_artifact_bytes(run, "../escape.txt", "x", 1) == CAIRN_EINVAL);
    CHECK(cairn_run_log_artifact(run, "/nonexistent/file", NULL) == CAIRN_EIO);
    cairn_artifact_list *list = NULL;
    CHECK(cairn_run_artifacts_list(ctx, cairn_run_id(run), NULL, &list) == CAIRN_OK);
    CHECK(list->n == 2);
    CHECK_STR(list->items[0].path, "inputs");
    CHECK(list->items[0].is_dir);
    cairn_artifact_list_free(list);
    CHECK(cairn_run_artifacts_list(ctx, cairn_run_id(run), "inputs/src", &list) == CAIRN_OK);
    CHECK(list->n == 2);
    CHECK_STR(list->items[0].path, "inputs/src/model.bin");
    CHECK(list->items[0].size_bytes == 3);
    CHECK_STR(list->items[0].sha256,
              "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    CHECK(list->items[1].is_dir);
    cairn_artifact_list_free(list);
    char *path = NULL;
    CHECK(cairn_run_artifact_path(ctx, cairn_run_id(run), "plots/loss.svg", &path) == CAIRN_OK);
    CHECK(path && strstr(path, "plots/loss.svg") != NULL);
    cairn_free(path);
    CHECK(cairn_run_artifact_path(ctx, cairn_run_id(run), "../../../etc/passwd", &path) ==
          CAIRN_EINVAL);
    CHECK(cairn_run_artifact_path(ctx, cairn_run_id(run), "/etc/passwd", &path) == CAIRN_EINVAL);
    CHECK(cairn_run_artifact_path(ctx, cairn_run_id(run), "missing.txt", &path) == CAIRN_ENOTFOUND);
    int fd = -1;
    CHECK(cairn_run_artifact_open(ctx, cairn_run_id(run), "plots/loss.svg", &fd) == CAIRN_OK);
    char got[16] = {0};
    CHECK(fd >= 0 && read(fd, got, sizeof got - 1) == 6 && strcmp(got, "<svg/>") == 0);
    if (fd >= 0)
        close(fd);
    CHECK(cairn_run_artifact_open(ctx, cairn_run_id(run), "plots", &fd) == CAIRN_EINVAL);
    CHECK(cairn_run_artifact_open(ctx, cairn_run_id(run), "../x", &fd) == CAIRN_EINVAL && fd == -1);
    /* A symlink planted inside the run folder must not lead outside it. */
    char link[600];
    snprintf(link, sizeof link, "%s/evil", cairn_run_artifact_dir(run));
    CHECK(symlink("/etc", link) == 0);
    CHECK(cairn_run_artifact_path(ctx, cairn_run_id(run), "evil/passwd", &path) == CAIRN_EINVAL);
    cairn_run_free(run);
}

TEST(dataset_inputs)
{
    cairn_run *run = start(fixture_name("inputs"));
    cairn_dataset_input in = {"iris",         "abc123", "local",   "data/iris.csv",
                              "{\"cols\":5}", NULL,     "training"};
    CHECK(cairn_run_log_input(run, &in) == CAIRN_OK);
    CHECK(cairn_run_log_input(run, &in) == CAIRN_OK);
    cairn_dataset_input bad = {0};
    CHECK(cairn_run_log_input(run, &bad) == CAIRN_EINVAL);
    cairn_run_record *rec = NULL;
    CHECK(cairn_run_get(ctx, cairn_run_id(run), &rec) == CAIRN_OK);
    CHECK(rec->n_inputs == 1);
    CHECK_STR(rec->inputs[0].name, "iris");
    CHECK_STR(rec->inputs[0].context, "training");
    CHECK(rec->inputs[0].profile == NULL);
    cairn_run_record_free(rec);
    cairn_run_free(run);
}

TEST(buffer_flushes_by_count)
{
    cairn_run_opts o = CAIRN_RUN_OPTS_INIT;
    o.experiment = fixture_name("flush");
    o.flush_every = 10;
    o.flush_interval_ms = 3600 * 1000;
    cairn_run *run = NULL;
    CHECK(cairn_run_start(ctx, &o, &run) == CAIRN_OK);
    for (int i = 0; i < 25; i++)
        CHECK(cairn_run_log_metric(run, "x", i, i) == CAIRN_OK);
    cairn_metric_page *page = NULL;
    CHECK(cairn_run_metric_history(ctx, cairn_run_id(run), "x", NULL, 0, &page) == CAIRN_OK);
    CHECK(page->n == 20);
    cairn_metric_page_free(page);
    CHECK(cairn_run_finish(run, CAIRN_RUN_FINISHED) == CAIRN_OK);
    CHECK(cairn_run_metric_history(ctx, cairn_run_id(run), "x", NULL, 0, &page) == CAIRN_OK);
    CHECK(page->n == 25);
    cairn_metric_page_free(page);
    cairn_run_free(run);
}

TEST(reopen_keeps_schema)
{
    cairn_ctx *again = fixture_open();
    cairn_experiment *exp = NULL;
    CHECK(cairn_experiment_get(again, "0", &exp) == CAIRN_OK);
    CHECK_STR(exp->name, "Default");
    cairn_experiment_free(exp);
    cairn_close(again);
}

static void close_ctx(void)
{
    cairn_close(ctx);
}

static void setup(void)
{
    ctx = fixture_open();
    atexit(close_ctx);
}

#define WITH_CTX(name)                                                                             \
    static void run_##name(void)                                                                   \
    {                                                                                              \
        if (!ctx)                                                                                  \
            setup();                                                                               \
        name();                                                                                    \
    }
WITH_CTX(experiment_lifecycle)
WITH_CTX(params_are_write_once)
WITH_CTX(metrics_latest_and_special_values)
WITH_CTX(batch_is_idempotent_and_atomic)
WITH_CTX(run_status_name_and_lookup_errors)
WITH_CTX(run_resolve_by_prefix)
WITH_CTX(artifacts_are_copied_hashed_and_contained)
WITH_CTX(dataset_inputs)
WITH_CTX(buffer_flushes_by_count)
WITH_CTX(reopen_keeps_schema)

UNIT_MAIN(UNIT_CASE(run_experiment_lifecycle), UNIT_CASE(run_params_are_write_once),
          UNIT_CASE(run_metrics_latest_and_special_values),
          UNIT_CASE(run_batch_is_idempotent_and_atomic),
          UNIT_CASE(run_run_status_name_and_lookup_errors), UNIT_CASE(run_run_resolve_by_prefix),
          UNIT_CASE(run_artifacts_are_copied_hashed_and_contained), UNIT_CASE(run_dataset_inputs),
          UNIT_CASE(run_buffer_flushes_by_count), UNIT_CASE(run_reopen_keeps_schema))
