/* SPDX-License-Identifier: MIT */
/* test_store_faults.c - every write path under the fault-injecting driver (store/db_faulty.c):
 * fail call N = 1, 2, ... until the operation runs with no fault; after each failure the call
 * reported it and the store holds nothing half-written; the last, clean attempt stores once. */
#include "unit.h"
#include "store_fixture.h"
#include "core/core.h"
#include "store/db_faulty.h"
#include "base/str.h"

static cn_db_faults faults;

typedef struct fx {
    cairn_ctx *ctx;
    const char *exp_name;
    char *exp_id;
    char run_id[33];
    char *created; /* the id an op created, freed by the case */
} fx;

typedef cairn_status (*op_fn)(fx *f);
/* Asserts the state: applied == false: as before the op; true: the op's effect, once. */
typedef void (*state_fn)(fx *f, bool applied);

static void with_faults(fx *f, op_fn op, state_fn state)
{
    for (int n = 1; n < 400; n++) {
        faults.fail_at = n;
        faults.calls = 0;
        faults.hit = false;
        faults.kind = n % 2 ? CN_FAULT_BUSY : CN_FAULT_DISK_FULL;
        cairn_status rc = op(f);
        faults.fail_at = 0;
        if (!faults.hit) {
            CHECK(rc == CAIRN_OK);
            if (rc != CAIRN_OK)
                fprintf(stderr, "# clean attempt failed: %s\n", cairn_errmsg(f->ctx));
            state(f, true);
            return;
        }
        CHECK(rc != CAIRN_OK);
        CHECK(*cairn_errmsg(f->ctx));
        if (rc == CAIRN_OK) {
            fprintf(stderr, "# fault at call %d was swallowed\n", n);
            return;
        }
        state(f, false);
    }
    CHECK(!"the operation never ran without a fault");
}

static void setup(fx *f, const char *base)
{
    memset(f, 0, sizeof *f);
    f->ctx = fixture_open();
    f->exp_name = fixture_name(base);
    CHECK(cn_db_faulty_install(f->ctx, &faults) == CAIRN_OK);
    CHECK(cairn_experiment_create(f->ctx, f->exp_name, NULL, NULL, 0, &f->exp_id) == CAIRN_OK);
    cairn_run_opts o = CAIRN_RUN_OPTS_INIT;
    o.experiment_id = f->exp_id;
    o.name = "base";
    char *id = NULL;
    CHECK(cairn_runs_create(f->ctx, &o, &id) == CAIRN_OK);
    cn_strlcpy(f->run_id, id ? id : "", sizeof f->run_id);
    cairn_free(id);
}

static void teardown(fx *f)
{
    cairn_free(f->exp_id);
    cairn_free(f->created);
    cairn_close(f->ctx);
}

static size_t count_runs(fx *f, cairn_view view)
{
    cairn_run_search q = CAIRN_RUN_SEARCH_INIT;
    const char *ids[1] = {f->exp_id};
    q.experiment_ids = ids;
    q.n_experiment_ids = 1;
    q.view = view;
    cairn_run_page *page = NULL;
    CHECK(cairn_runs_search(f->ctx, &q, &page) == CAIRN_OK);
    size_t n = page ? page->n : 0;
    cairn_run_page_free(page);
    return n;
}

static cairn_run_record *get_run(fx *f)
{
    cairn_run_record *rec = NULL;
    CHECK(cairn_run_get(f->ctx, f->run_id, &rec) == CAIRN_OK);
    return rec;
}

/* ---- experiments ---- */

static char last_exp_name[128];

static cairn_status op_create_named_experiment(fx *f)
{
    cairn_free(f->created);
    f->created = NULL;
    cairn_tag tags[2] = {{"team", "a"}, {"stage", "dev"}};
    return cairn_experiment_create(f->ctx, last_exp_name, NULL, tags, 2, &f->created);
}

static void state_create_experiment(fx *f, bool applied)
{
    cairn_experiment *exp = NULL;
    cairn_status rc = cairn_experiment_get_by_name(f->ctx, last_exp_name, &exp);
    if (!applied) {
        CHECK(rc == CAIRN_ENOTFOUND);
    } else {
        CHECK(rc == CAIRN_OK);
        CHECK(exp && exp->n_tags == 2);
        CHECK(f->created && exp && strcmp(exp->experiment_id, f->created) == 0);
    }
    cairn_experiment_free(exp);
}

TEST(create_experiment)
{
    fx f;
    setup(&f, "faults-exp");
    snprintf(last_exp_name, sizeof last_exp_name, "%s", fixture_name("faulty-new"));
    with_faults(&f, op_create_named_experiment, state_create_experiment);
    teardown(&f);
}

static const char *renamed;

static cairn_status op_rename(fx *f)
{
    return cairn_experiment_rename(f->ctx, f->exp_id, renamed);
}

static void state_rename(fx *f, bool applied)
{
    cairn_experiment *exp = NULL;
    CHECK(cairn_experiment_get(f->ctx, f->exp_id, &exp) == CAIRN_OK);
    CHECK_STR(exp ? exp->name : NULL, applied ? renamed : f->exp_name);
    cairn_experiment_free(exp);
}

TEST(rename_experiment)
{
    fx f;
    setup(&f, "faults-rename");
    renamed = fixture_name("faults-renamed");
    with_faults(&f, op_rename, state_rename);
    teardown(&f);
}

static cairn_status op_delete_experiment(fx *f)
{
    return cairn_experiment_delete(f->ctx, f->exp_id);
}

static cairn_status op_restore_experiment(fx *f)
{
    return cairn_experiment_restore(f->ctx, f->exp_id);
}

/* The experiment and its run move together: never one without the other. */
static void check_experiment_deleted(fx *f, bool deleted)
{
    cairn_experiment *exp = NULL;
    CHECK(cairn_experiment_get(f->ctx, f->exp_id, &exp) == CAIRN_OK);
    CHECK(exp && exp->is_deleted == deleted);
    cairn_experiment_free(exp);
    cairn_run_record *rec = get_run(f);
    CHECK(rec && rec->info.is_deleted == deleted);
    cairn_run_record_free(rec);
}

static void state_delete_experiment(fx *f, bool applied)
{
    check_experiment_deleted(f, applied);
}

static void state_restore_experiment(fx *f, bool applied)
{
    check_experiment_deleted(f, !applied);
}

TEST(delete_and_restore_experiment)
{
    fx f;
    setup(&f, "faults-expdel");
    with_faults(&f, op_delete_experiment, state_delete_experiment);
    with_faults(&f, op_restore_experiment, state_restore_experiment);
    teardown(&f);
}

/* ---- runs ---- */

static size_t runs_before;

static cairn_status op_create_run(fx *f)
{
    cairn_run_opts o = CAIRN_RUN_OPTS_INIT;
    cairn_tag tags[2] = {{"a", "1"}, {"b", "2"}};
    o.experiment_id = f->exp_id;
    o.tags = tags;
    o.n_tags = 2;
    cairn_free(f->created);
    f->created = NULL;
    return cairn_runs_create(f->ctx, &o, &f->created);
}

static void state_create_run(fx *f, bool applied)
{
    CHECK(count_runs(f, CAIRN_VIEW_ALL) == runs_before + (applied ? 1 : 0));
    if (!applied)
        return;
    cairn_run_record *rec = NULL;
    CHECK(cairn_run_get(f->ctx, f->created, &rec) == CAIRN_OK);
    CHECK(rec && fixture_tag(rec, "mlflow.runName") && fixture_tag(rec, "a") &&
          fixture_tag(rec, "b"));
    cairn_run_record_free(rec);
}

TEST(create_run)
{
    fx f;
    setup(&f, "faults-run");
    runs_before = count_runs(&f, CAIRN_VIEW_ALL);
    with_faults(&f, op_create_run, state_create_run);
    teardown(&f);
}

static cairn_status op_log_batch(fx *f)
{
    /* 250 points: more than one multi-row INSERT, so a fault can fall between them. */
    cairn_metric m[250];
    for (int i = 0; i < 250; i++)
        m[i] = (cairn_metric){i % 2 ? "loss" : "acc", (double)i, 1000 + i, i / 2};
    cairn_param p[2] = {{"lr", "0.1"}, {"opt", "adam"}};
    cairn_tag t[2] = {{"phase", "one"}, {"mlflow.runName", "renamed"}};
    return cairn_runs_log_batch(f->ctx, f->run_id, m, 250, p, 2, t, 2);
}

static void state_log_batch(fx *f, bool applied)
{
    cairn_run_record *rec = get_run(f);
    if (!rec)
        return;
    CHECK(rec->n_metrics == (applied ? 2u : 0u));
    CHECK(rec->n_params == (applied ? 2u : 0u));
    CHECK((fixture_tag(rec, "phase") != NULL) == applied);
    CHECK_STR(rec->info.run_name, applied ? "renamed" : "base");
    for (size_t i = 0; i < rec->n_metrics; i++) {
        /* latest_metrics agrees with the history's last point */
        cairn_metric_page *h = NULL;
        CHECK(cairn_run_metric_history(f->ctx, f->run_id, rec->metrics[i].key, NULL, 0, &h) ==
              CAIRN_OK);
        CHECK(h && h->n == 125);
        if (h && h->n)
            CHECK(h->items[h->n - 1].value == rec->metrics[i].value &&
                  h->items[h->n - 1].step == rec->metrics[i].step);
        cairn_metric_page_free(h);
    }
    cairn_run_record_free(rec);
}

TEST(log_batch)
{
    fx f;
    setup(&f, "faults-batch");
    with_faults(&f, op_log_batch, state_log_batch);
    CHECK(op_log_batch(&f) == CAIRN_OK); /* a resent batch is stored once */
    state_log_batch(&f, true);
    teardown(&f);
}

static cairn_status op_set_tag(fx *f)
{
    return cairn_runs_set_tag(f->ctx, f->run_id, "color", "red");
}

static cairn_status op_delete_tag(fx *f)
{
    return cairn_runs_delete_tag(f->ctx, f->run_id, "color");
}

static void check_tag(fx *f, bool present)
{
    cairn_run_record *rec = get_run(f);
    CHECK(rec && (fixture_tag(rec, "color") != NULL) == present);
    cairn_run_record_free(rec);
}

static void state_set_tag(fx *f, bool applied)
{
    check_tag(f, applied);
}

static void state_delete_tag(fx *f, bool applied)
{
    check_tag(f, !applied);
}

TEST(set_and_delete_tag)
{
    fx f;
    setup(&f, "faults-tag");
    with_faults(&f, op_set_tag, state_set_tag);
    with_faults(&f, op_delete_tag, state_delete_tag);
    teardown(&f);
}

static cairn_status op_update(fx *f)
{
    cairn_run_update u = {CAIRN_RUN_FINISHED, 5000, "done-name"};
    return cairn_runs_update(f->ctx, f->run_id, &u);
}

static void state_update(fx *f, bool applied)
{
    cairn_run_record *rec = get_run(f);
    if (!rec)
        return;
    CHECK(rec->info.status == (applied ? CAIRN_RUN_FINISHED : CAIRN_RUN_RUNNING));
    CHECK(rec->info.end_time_ms == (applied ? 5000 : 0));
    CHECK_STR(rec->info.run_name, applied ? "done-name" : "base");
    CHECK_STR(fixture_tag(rec, "mlflow.runName"), applied ? "done-name" : "base");
    cairn_run_record_free(rec);
}

TEST(update_status_and_name)
{
    fx f;
    setup(&f, "faults-update");
    with_faults(&f, op_update, state_update);
    teardown(&f);
}

static cairn_status op_delete_run(fx *f)
{
    return cairn_run_delete(f->ctx, f->run_id);
}

static cairn_status op_restore_run(fx *f)
{
    return cairn_run_restore(f->ctx, f->run_id);
}

static void check_run_deleted(fx *f, bool deleted)
{
    cairn_run_record *rec = get_run(f);
    CHECK(rec && rec->info.is_deleted == deleted);
    cairn_run_record_free(rec);
}

static void state_delete_run(fx *f, bool applied)
{
    check_run_deleted(f, applied);
}

static void state_restore_run(fx *f, bool applied)
{
    check_run_deleted(f, !applied);
}

TEST(delete_and_restore_run)
{
    fx f;
    setup(&f, "faults-rundel");
    with_faults(&f, op_delete_run, state_delete_run);
    with_faults(&f, op_restore_run, state_restore_run);
    teardown(&f);
}

static cairn_run *handle;

static cairn_status op_artifact(fx *f)
{
    (void)f;
    return cairn_run_log_artifact_bytes(handle, "plots/a.txt", "hello", 5);
}

static void state_artifact(fx *f, bool applied)
{
    cairn_artifact_list *list = NULL;
    CHECK(cairn_run_artifacts_list(f->ctx, f->run_id, "plots", &list) == CAIRN_OK);
    CHECK(list && list->n == (applied ? 1u : 0u));
    if (applied && list && list->n)
        CHECK(list->items[0].size_bytes == 5);
    cairn_artifact_list_free(list);
}

TEST(record_artifact)
{
    fx f;
    setup(&f, "faults-artifact");
    CHECK(cairn_run_attach(f.ctx, f.run_id, &handle) == CAIRN_OK);
    with_faults(&f, op_artifact, state_artifact);
    cairn_run_free(handle);
    handle = NULL;
    teardown(&f);
}

static cairn_status op_inputs(fx *f)
{
    cairn_dataset_input in[2] = {
        {"train.csv", "d1", "local", "train.csv", NULL, NULL, "training"},
        {"test.csv", "d2", "local", "test.csv", NULL, NULL, "test"},
    };
    return cairn_runs_log_inputs(f->ctx, f->run_id, in, 2);
}

static void state_inputs(fx *f, bool applied)
{
    cairn_run_record *rec = get_run(f);
    CHECK(rec && rec->n_inputs == (applied ? 2u : 0u));
    cairn_run_record_free(rec);
}

TEST(log_inputs)
{
    fx f;
    setup(&f, "faults-inputs");
    with_faults(&f, op_inputs, state_inputs);
    CHECK(op_inputs(&f) == CAIRN_OK); /* logging again stores nothing new */
    state_inputs(&f, true);
    teardown(&f);
}

UNIT_MAIN(UNIT_CASE(create_experiment), UNIT_CASE(rename_experiment),
          UNIT_CASE(delete_and_restore_experiment), UNIT_CASE(create_run), UNIT_CASE(log_batch),
          UNIT_CASE(set_and_delete_tag), UNIT_CASE(update_status_and_name),
          UNIT_CASE(delete_and_restore_run), UNIT_CASE(record_artifact), UNIT_CASE(log_inputs))
