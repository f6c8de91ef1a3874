/* SPDX-License-Identifier: MIT */
/* test_store_logged_models.c - MLflow 3.x logged models (cairn/logged_model.h) on a real store
 * (SQLite, or PostgreSQL under scripts/with-pg.sh): create, get, finalize, tags, write-once
 * params, metrics, soft delete, search with filter, order and pages, run outputs in
 * cairn_run_get, registrations, the errors, and migration 004 on a store made before it. */
#include <sqlite3.h>
#include <sys/stat.h>
#include "unit.h"
#include "store_fixture.h"
#include "cairn/logged_model.h"
#include "cairn/registry.h"
#include "store/db.h"
#include "store/store.h"

static cairn_ctx *ctx;

static char *new_experiment(void)
{
    char *id = NULL;
    CHECK(cairn_experiment_create(ctx, fixture_name("lm-exp"), NULL, NULL, 0, &id) == CAIRN_OK);
    return id;
}

static char *new_run(const char *experiment_id)
{
    cairn_run_opts o = CAIRN_RUN_OPTS_INIT;
    o.experiment_id = experiment_id;
    char *id = NULL;
    CHECK(cairn_runs_create(ctx, &o, &id) == CAIRN_OK);
    return id;
}

/* A new model in exp named name (NULL: generated) of type; its id, freed by the caller. */
static char *new_model(const char *exp, const char *name, const char *type, const char *run)
{
    cairn_logged_model_opts o = CAIRN_LOGGED_MODEL_OPTS_INIT;
    o.experiment_id = exp;
    o.name = name;
    o.model_type = type;
    o.source_run_id = run;
    cairn_logged_model *m = NULL;
    cairn_status rc = cairn_logged_model_create(ctx, &o, &m);
    if (rc != CAIRN_OK)
        fprintf(stderr, "# create: %s\n", cairn_errmsg(ctx));
    char *id = m ? strdup(m->model_id) : NULL;
    cairn_logged_model_free(m);
    return id;
}

static const char *find_pair(const cairn_tag *pairs, size_t n, const char *key)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(pairs[i].key, key) == 0)
            return pairs[i].value;
    return NULL;
}

TEST(create_and_get)
{
    char *exp = new_experiment();
    char *run = new_run(exp);
    cairn_param params[] = {{"alpha", "0.5"}, {"solver", "lbfgs"}};
    cairn_tag tags[] = {{"mlflow.model.isExternal", "true"}, {"team", "vision"}};
    cairn_logged_model_opts o = CAIRN_LOGGED_MODEL_OPTS_INIT;
    o.experiment_id = exp;
    o.name = "clf";
    o.model_type = "sklearn";
    o.source_run_id = run;
    o.creator = "ada";
    o.params = params;
    o.n_params = 2;
    o.tags = tags;
    o.n_tags = 2;
    cairn_logged_model *m = NULL;
    CHECK(cairn_logged_model_create(ctx, &o, &m) == CAIRN_OK);
    if (!m)
        return;
    CHECK(strncmp(m->model_id, "m-", 2) == 0 && strlen(m->model_id) == 34);
    CHECK(strspn(m->model_id + 2, "0123456789abcdef") == 32);
    CHECK_STR(m->experiment_id, exp);
    CHECK_STR(m->name, "clf");
    CHECK_STR(m->model_type, "sklearn");
    CHECK_STR(m->source_run_id, run);
    CHECK_STR(m->creator_id, "ada");
    CHECK_STR(m->status_message, "");
    CHECK(m->status == CAIRN_LOGGED_MODEL_PENDING);
    CHECK(m->creation_time_ms > 0 && m->last_updated_time_ms == m->creation_time_ms);
    /* <experiment artifact location>/models/<id>/artifacts, and the folder exists. */
    cairn_experiment *e = NULL;
    CHECK(cairn_experiment_get(ctx, exp, &e) == CAIRN_OK);
    char want[1024];
    snprintf(want, sizeof want, "%s/models/%s/artifacts", e ? e->artifact_location : "",
             m->model_id);
    CHECK_STR(m->artifact_location, want);
    struct stat sb;
    CHECK(stat(m->artifact_location, &sb) == 0 && S_ISDIR(sb.st_mode));
    cairn_experiment_free(e);
    CHECK(m->n_params == 2 && m->n_tags == 2 && m->n_metrics == 0 && m->n_registrations == 0);
    CHECK_STR(find_pair(m->params, m->n_params, "solver"), "lbfgs");
    CHECK_STR(m->tags[0].key, "mlflow.model.isExternal"); /* by key */

    cairn_logged_model *g = NULL;
    CHECK(cairn_logged_model_get(ctx, m->model_id, &g) == CAIRN_OK);
    CHECK(g && strcmp(g->name, "clf") == 0 && g->n_params == 2 && g->n_tags == 2);
    CHECK(g && strcmp(g->artifact_location, m->artifact_location) == 0);
    cairn_logged_model_free(g);
    cairn_logged_model_free(m);

    /* Defaults: a generated name, no type, no run, the login name as creator. */
    o = (cairn_logged_model_opts)CAIRN_LOGGED_MODEL_OPTS_INIT;
    o.experiment_id = exp;
    CHECK(cairn_logged_model_create(ctx, &o, &m) == CAIRN_OK);
    CHECK(m && strncmp(m->name, "model-", 6) == 0 && strlen(m->name) == 14);
    CHECK(m && strcmp(m->model_type, "") == 0 && strcmp(m->source_run_id, "") == 0);
    CHECK(m && *m->creator_id);
    cairn_logged_model_free(m);
    cairn_logged_model_free(NULL);
    free(run);
    free(exp);
}

TEST(finalize_tags_params_metrics)
{
    char *exp = new_experiment();
    char *id = new_model(exp, "fin", NULL, NULL);
    CHECK(cairn_logged_model_finalize(ctx, id, CAIRN_LOGGED_MODEL_READY, NULL) == CAIRN_OK);
    cairn_logged_model *m = NULL;
    CHECK(cairn_logged_model_get(ctx, id, &m) == CAIRN_OK);
    CHECK(m && m->status == CAIRN_LOGGED_MODEL_READY);
    CHECK(m && m->last_updated_time_ms >= m->creation_time_ms);
    cairn_logged_model_free(m);
    CHECK(cairn_logged_model_finalize(ctx, id, CAIRN_LOGGED_MODEL_UPLOAD_FAILED, "disk full") ==
          CAIRN_OK);
    CHECK(cairn_logged_model_finalize(ctx, id, (cairn_logged_model_status)0, NULL) == CAIRN_EINVAL);
    CHECK(cairn_logged_model_finalize(ctx, id, (cairn_logged_model_status)9, NULL) == CAIRN_EINVAL);

    cairn_tag t1[] = {{"a", "1"}, {"b", "2"}};
    CHECK(cairn_logged_model_set_tags(ctx, id, t1, 2) == CAIRN_OK);
    cairn_tag t2[] = {{"a", "one"}};
    CHECK(cairn_logged_model_set_tags(ctx, id, t2, 1) == CAIRN_OK);
    CHECK(cairn_logged_model_delete_tag(ctx, id, "b") == CAIRN_OK);
    CHECK(cairn_logged_model_delete_tag(ctx, id, "never-set") == CAIRN_OK);
    cairn_tag bad_key[] = {{"../x", "v"}};
    CHECK(cairn_logged_model_set_tags(ctx, id, bad_key, 1) == CAIRN_EINVAL);
    cairn_tag bad_utf8[] = {{"k", "\xff\xfe"}};
    CHECK(cairn_logged_model_set_tags(ctx, id, bad_utf8, 1) == CAIRN_EINVAL);
    CHECK(strstr(cairn_errmsg(ctx), "UTF-8") != NULL);
    cairn_tag no_value[] = {{"k", NULL}};
    CHECK(cairn_logged_model_set_tags(ctx, id, no_value, 1) == CAIRN_EINVAL);
    CHECK(cairn_logged_model_delete_tag(ctx, id, "") == CAIRN_EINVAL);

    cairn_param p1[] = {{"lr", "0.1"}};
    CHECK(cairn_logged_model_log_params(ctx, id, p1, 1) == CAIRN_OK);
    CHECK(cairn_logged_model_log_params(ctx, id, p1, 1) == CAIRN_OK); /* same value: fine */
    cairn_param p2[] = {{"depth", "3"}, {"lr", "0.2"}};
    CHECK(cairn_logged_model_log_params(ctx, id, p2, 2) == CAIRN_EINVAL);
    CHECK(strstr(cairn_errmsg(ctx), "write-once") != NULL);
    cairn_param twice[] = {{"x", "1"}, {"x", "2"}};
    CHECK(cairn_logged_model_log_params(ctx, id, twice, 2) == CAIRN_EINVAL);
    char *long_value = malloc(CAIRN_PARAM_VALUE_MAX + 2);
    memset(long_value, 'v', CAIRN_PARAM_VALUE_MAX + 1);
    long_value[CAIRN_PARAM_VALUE_MAX + 1] = '\0';
    cairn_param too_long[] = {{"long", long_value}};
    CHECK(cairn_logged_model_log_params(ctx, id, too_long, 1) == CAIRN_EINVAL);
    free(long_value);

    cairn_logged_model_metric pts[] = {
        {"acc", 0.9, 1000, 1, NULL, "test", "abc"},
        {"acc", 0.95, 2000, 2, NULL, NULL, NULL},
        {"loss", NAN, 1000, 1, NULL, NULL, NULL},
    };
    CHECK(cairn_logged_model_log_metrics(ctx, id, pts, 3) == CAIRN_OK);
    CHECK(cairn_logged_model_log_metrics(ctx, id, pts, 1) == CAIRN_OK); /* stored once */
    cairn_logged_model_metric bad_metric[] = {{"a//b", 1, 0, 0, NULL, NULL, NULL}};
    CHECK(cairn_logged_model_log_metrics(ctx, id, bad_metric, 1) == CAIRN_EINVAL);

    CHECK(cairn_logged_model_get(ctx, id, &m) == CAIRN_OK);
    if (m) {
        CHECK(m->status == CAIRN_LOGGED_MODEL_UPLOAD_FAILED);
        CHECK_STR(m->status_message, "disk full");
        CHECK(m->n_tags == 1);
        CHECK_STR(find_pair(m->tags, m->n_tags, "a"), "one");
        CHECK(m->n_params == 1); /* the refused batch wrote nothing, not even "depth" */
        CHECK_STR(find_pair(m->params, m->n_params, "lr"), "0.1");
        CHECK(m->n_metrics == 3);
        CHECK(m->n_metrics == 3 && strcmp(m->metrics[0].key, "acc") == 0 &&
              m->metrics[0].step == 1 && m->metrics[0].value == 0.9);
        CHECK(m->n_metrics == 3 && strcmp(m->metrics[0].dataset_name, "test") == 0 &&
              strcmp(m->metrics[0].dataset_digest, "abc") == 0);
        CHECK(m->n_metrics == 3 && strcmp(m->metrics[2].key, "loss") == 0 &&
              isnan(m->metrics[2].value));
    }
    cairn_logged_model_free(m);
    free(id);
    free(exp);
}

TEST(delete_and_errors)
{
    char *exp = new_experiment();
    char *id = new_model(exp, "gone", NULL, NULL);
    CHECK(cairn_logged_model_delete(ctx, id) == CAIRN_OK);
    cairn_logged_model *m = NULL;
    CHECK(cairn_logged_model_get(ctx, id, &m) == CAIRN_ENOTFOUND && m == NULL);
    CHECK(strstr(cairn_errmsg(ctx), id) != NULL);
    cairn_tag t[] = {{"k", "v"}};
    CHECK(cairn_logged_model_set_tags(ctx, id, t, 1) == CAIRN_ENOTFOUND);
    CHECK(cairn_logged_model_delete(ctx, id) == CAIRN_ENOTFOUND);
    CHECK(cairn_logged_model_finalize(ctx, id, CAIRN_LOGGED_MODEL_READY, NULL) == CAIRN_ENOTFOUND);

    const char *unknown = "m-00000000000000000000000000000000";
    CHECK(cairn_logged_model_get(ctx, unknown, &m) == CAIRN_ENOTFOUND);
    CHECK(strstr(cairn_errmsg(ctx), unknown) != NULL);
    CHECK(cairn_logged_model_log_params(ctx, unknown, NULL, 0) == CAIRN_ENOTFOUND);
    CHECK(cairn_logged_model_delete_tag(ctx, unknown, "k") == CAIRN_ENOTFOUND);
    CHECK(cairn_logged_model_get(ctx, "", &m) == CAIRN_EINVAL);
    CHECK(cairn_logged_model_get(ctx, NULL, &m) == CAIRN_EINVAL);
    CHECK(cairn_logged_model_get(ctx, "m-\xff", &m) == CAIRN_EINVAL);

    cairn_logged_model_opts o = CAIRN_LOGGED_MODEL_OPTS_INIT;
    CHECK(cairn_logged_model_create(ctx, &o, &m) == CAIRN_EINVAL && m == NULL); /* no experiment */
    o.experiment_id = "987654321";
    CHECK(cairn_logged_model_create(ctx, &o, &m) == CAIRN_ENOTFOUND);
    o.experiment_id = "not-a-number";
    CHECK(cairn_logged_model_create(ctx, &o, &m) == CAIRN_ENOTFOUND);
    o.experiment_id = exp;
    o.source_run_id = "0123456789abcdef0123456789abcdef";
    CHECK(cairn_logged_model_create(ctx, &o, &m) == CAIRN_ENOTFOUND);
    CHECK(strstr(cairn_errmsg(ctx), "source run") != NULL);
    o.source_run_id = NULL;
    const char *bad_names[] = {"a/b", "a:b", "a.b", "50%", "it's", "\xc3"};
    for (size_t i = 0; i < sizeof bad_names / sizeof *bad_names; i++) {
        o.name = bad_names[i];
        CHECK(cairn_logged_model_create(ctx, &o, &m) == CAIRN_EINVAL);
    }
    o.name = "ok-name";
    cairn_tag bad[] = {{"", "v"}};
    o.tags = bad;
    o.n_tags = 1;
    CHECK(cairn_logged_model_create(ctx, &o, &m) == CAIRN_EINVAL);
    o.tags = NULL;
    o.n_tags = 0;
    o.model_type = "\xe2\x82";
    CHECK(cairn_logged_model_create(ctx, &o, &m) == CAIRN_EINVAL);
    o.model_type = NULL;

    /* A deleted experiment takes no new models; its models stay readable. */
    char *kept = new_model(exp, "kept", NULL, NULL);
    CHECK(cairn_experiment_delete(ctx, exp) == CAIRN_OK);
    CHECK(cairn_logged_model_create(ctx, &o, &m) == CAIRN_EINVAL);
    CHECK(strstr(cairn_errmsg(ctx), "deleted") != NULL);
    CHECK(cairn_logged_model_get(ctx, kept, &m) == CAIRN_OK);
    cairn_logged_model_free(m);
    CHECK(cairn_experiment_restore(ctx, exp) == CAIRN_OK);
    free(kept);
    free(id);
    free(exp);
}

/* Searches exp with filter and order (may be NULL); the names found, comma-separated. */
static cairn_status search_names(const char *exp, const char *filter, const char *order, char *out,
                                 size_t cap)
{
    cairn_logged_model_query q = CAIRN_LOGGED_MODEL_QUERY_INIT;
    const char *ids[] = {exp};
    q.experiment_ids = ids;
    q.n_experiment_ids = 1;
    q.filter = filter;
    q.order_by = order ? &order : NULL;
    q.n_order_by = order ? 1 : 0;
    cairn_logged_model_page *page = NULL;
    out[0] = '\0';
    cairn_status rc = cairn_logged_models_search(ctx, &q, &page);
    for (size_t i = 0; page && i < page->n; i++) {
        if (i)
            strncat(out, ",", cap - strlen(out) - 1);
        strncat(out, page->items[i].name, cap - strlen(out) - 1);
    }
    if (rc != CAIRN_OK)
        fprintf(stderr, "# search '%s': %s\n", filter ? filter : "", cairn_errmsg(ctx));
    cairn_logged_model_page_free(page);
    return rc;
}

TEST(search_filter_order_pages)
{
    char *exp = new_experiment();
    char *other = new_experiment();
    char *run = new_run(exp);
    char *ids[5];
    const char *names[] = {"lm-c", "lm-a", "lm-e", "lm-b", "other"};
    const char *types[] = {"sklearn", "xgboost", "sklearn", "xgboost", "agent"};
    for (int i = 0; i < 5; i++)
        ids[i] = new_model(exp, names[i], types[i], i < 2 ? run : NULL);
    char *elsewhere = new_model(other, "lm-a", "sklearn", NULL);
    CHECK(cairn_logged_model_finalize(ctx, ids[0], CAIRN_LOGGED_MODEL_READY, NULL) == CAIRN_OK);
    CHECK(cairn_logged_model_finalize(ctx, ids[2], CAIRN_LOGGED_MODEL_READY, NULL) == CAIRN_OK);
    cairn_tag t[] = {{"stage", "candidate"}};
    CHECK(cairn_logged_model_set_tags(ctx, ids[1], t, 1) == CAIRN_OK);
    CHECK(cairn_logged_model_set_tags(ctx, ids[3], t, 1) == CAIRN_OK);
    cairn_param p[] = {{"depth", "3"}};
    CHECK(cairn_logged_model_log_params(ctx, ids[3], p, 1) == CAIRN_OK);
    CHECK(cairn_logged_model_delete(ctx, ids[4]) == CAIRN_OK);

    char got[512], filter[256];
    CHECK(search_names(exp, NULL, "name", got, sizeof got) == CAIRN_OK);
    CHECK_STR(got, "lm-a,lm-b,lm-c,lm-e"); /* the deleted model is gone */
    CHECK(search_names(exp, NULL, "name DESC", got, sizeof got) == CAIRN_OK);
    CHECK_STR(got, "lm-e,lm-c,lm-b,lm-a");
    CHECK(search_names(exp, "name = 'lm-a'", NULL, got, sizeof got) == CAIRN_OK);
    CHECK_STR(got, "lm-a"); /* what a 3.x client asks; not the other experiment's */
    CHECK(search_names(exp, "model_type != 'sklearn'", "name", got, sizeof got) == CAIRN_OK);
    CHECK_STR(got, "lm-a,lm-b");
    CHECK(search_names(exp, "status = 'LOGGED_MODEL_READY'", "name", got, sizeof got) == CAIRN_OK);
    CHECK_STR(got, "lm-c,lm-e");
    CHECK(search_names(exp, "name LIKE 'lm-%' AND model_type = 'sklearn'", "name", got,
                       sizeof got) == CAIRN_OK);
    CHECK_STR(got, "lm-c,lm-e");
    CHECK(search_names(exp, "name ILIKE 'LM-B'", NULL, got, sizeof got) == CAIRN_OK);
    CHECK_STR(got, "lm-b");
    snprintf(filter, sizeof filter, "source_run_id = '%s'", run);
    CHECK(search_names(exp, filter, "name", got, sizeof got) == CAIRN_OK);
    CHECK_STR(got, "lm-a,lm-c");
    snprintf(filter, sizeof filter, "source_run_id != '%s'", run);
    CHECK(search_names(exp, filter, "name", got, sizeof got) == CAIRN_OK);
    CHECK_STR(got, "lm-b,lm-e");
    CHECK(search_names(exp, "tags.stage = 'candidate'", "name", got, sizeof got) == CAIRN_OK);
    CHECK_STR(got, "lm-a,lm-b");
    CHECK(search_names(exp, "tags.`stage` = 'candidate' AND params.depth = '3'", NULL, got,
                       sizeof got) == CAIRN_OK);
    CHECK_STR(got, "lm-b");
    CHECK(search_names(exp, "name IN ('lm-a', 'lm-e')", "name", got, sizeof got) == CAIRN_OK);
    CHECK_STR(got, "lm-a,lm-e");
    CHECK(search_names(exp, "creation_timestamp > 0", "name", got, sizeof got) == CAIRN_OK);
    CHECK_STR(got, "lm-a,lm-b,lm-c,lm-e");
    CHECK(search_names(exp, "name = 'nothing'", NULL, got, sizeof got) == CAIRN_OK);
    CHECK_STR(got, "");
    /* The default order is newest first; ties fall back on model_id. */
    CHECK(search_names(exp, NULL, NULL, got, sizeof got) == CAIRN_OK);
    CHECK(strlen(got) == strlen("lm-a,lm-b,lm-c,lm-e"));

    CHECK(search_names(exp, "metrics.acc > 1", NULL, got, sizeof got) == CAIRN_EINVAL);
    CHECK(strstr(cairn_errmsg(ctx), "logged models") != NULL);
    CHECK(search_names(exp, "color = 'red'", NULL, got, sizeof got) == CAIRN_EINVAL);
    CHECK(strstr(cairn_errmsg(ctx), "unknown attribute 'color'") != NULL);
    CHECK(search_names(exp, "name = ", NULL, got, sizeof got) == CAIRN_EINVAL);
    CHECK(search_names(exp, NULL, "tags.stage", got, sizeof got) == CAIRN_EINVAL);
    CHECK(search_names(exp, NULL, "size DESC", got, sizeof got) == CAIRN_EINVAL);

    /* Pages of 3 over the two experiments: 5 live models, then nothing after. */
    cairn_logged_model_query q = CAIRN_LOGGED_MODEL_QUERY_INIT;
    const char *both[] = {exp, other};
    const char *order = "name";
    q.experiment_ids = both;
    q.n_experiment_ids = 2;
    q.order_by = &order;
    q.n_order_by = 1;
    q.max_results = 3;
    cairn_logged_model_page *page = NULL;
    CHECK(cairn_logged_models_search(ctx, &q, &page) == CAIRN_OK);
    CHECK(page && page->n == 3 && page->next_page_token != NULL);
    char token[64] = "";
    if (page && page->next_page_token)
        snprintf(token, sizeof token, "%s", page->next_page_token);
    cairn_logged_model_page_free(page);
    q.page_token = token;
    CHECK(cairn_logged_models_search(ctx, &q, &page) == CAIRN_OK);
    CHECK(page && page->n == 2 && page->next_page_token == NULL);
    CHECK(page && page->n == 2 && strcmp(page->items[1].name, "lm-e") == 0);
    CHECK(page && page->n == 2 && page->items[0].n_tags + page->items[1].n_tags == 0);
    cairn_logged_model_page_free(page);
    q.page_token = "garbage";
    CHECK(cairn_logged_models_search(ctx, &q, &page) == CAIRN_EINVAL && page == NULL);
    q.page_token = NULL;
    q.max_results = -1;
    CHECK(cairn_logged_models_search(ctx, &q, &page) == CAIRN_EINVAL);
    q.max_results = CAIRN_LOGGED_MODEL_SEARCH_MAX + 1;
    CHECK(cairn_logged_models_search(ctx, &q, &page) == CAIRN_EINVAL);
    /* Unknown and malformed experiment ids match nothing. */
    const char *none[] = {"987654321", "abc"};
    q.experiment_ids = none;
    q.max_results = 0;
    CHECK(cairn_logged_models_search(ctx, &q, &page) == CAIRN_OK);
    CHECK(page && page->n == 0 && page->next_page_token == NULL);
    cairn_logged_model_page_free(page);

    for (int i = 0; i < 5; i++)
        free(ids[i]);
    free(elsewhere);
    free(run);
    free(other);
    free(exp);
}

TEST(run_outputs_and_registrations)
{
    char *exp = new_experiment();
    char *run = new_run(exp);
    char *a = new_model(exp, "out-a", NULL, run);
    char *b = new_model(exp, "out-b", NULL, run);
    cairn_run_output outs[] = {{a, 0}, {b, 3}};
    CHECK(cairn_runs_log_outputs(ctx, run, outs, 2) == CAIRN_OK);
    cairn_run_output again[] = {{b, 7}};
    CHECK(cairn_runs_log_outputs(ctx, run, again, 1) == CAIRN_OK);
    cairn_run_record *rec = NULL;
    CHECK(cairn_run_get(ctx, run, &rec) == CAIRN_OK);
    CHECK(rec && rec->n_outputs == 2);
    if (rec && rec->n_outputs == 2) {
        int ia = strcmp(rec->outputs[0].model_id, a) == 0 ? 0 : 1;
        CHECK_STR(rec->outputs[ia].model_id, a);
        CHECK(rec->outputs[ia].step == 0);
        CHECK_STR(rec->outputs[1 - ia].model_id, b);
        CHECK(rec->outputs[1 - ia].step == 7);
        CHECK(strcmp(rec->outputs[0].model_id, rec->outputs[1].model_id) < 0); /* by id */
    }
    cairn_run_record_free(rec);
    char *plain = new_run(exp);
    CHECK(cairn_run_get(ctx, plain, &rec) == CAIRN_OK);
    CHECK(rec && rec->n_outputs == 0 && rec->outputs == NULL);
    cairn_run_record_free(rec);

    cairn_run_output unknown[] = {{"m-00000000000000000000000000000000", 0}};
    CHECK(cairn_runs_log_outputs(ctx, run, unknown, 1) == CAIRN_ENOTFOUND);
    cairn_run_output empty[] = {{"", 0}};
    CHECK(cairn_runs_log_outputs(ctx, run, empty, 1) == CAIRN_EINVAL);
    CHECK(cairn_runs_log_outputs(ctx, "0123456789abcdef0123456789abcdef", outs, 1) ==
          CAIRN_ENOTFOUND);
    CHECK(cairn_run_delete(ctx, plain) == CAIRN_OK);
    CHECK(cairn_runs_log_outputs(ctx, plain, outs, 1) == CAIRN_EINVAL);

    /* A model version that names the logged model (3.x clients send model_id). */
    const char *reg = fixture_name("lm-reg");
    CHECK(cairn_registry_create_model(ctx, reg, NULL, NULL, 0) == CAIRN_OK);
    cairn_model_version_opts vo = CAIRN_MODEL_VERSION_OPTS_INIT;
    vo.name = reg;
    vo.run_id = run;
    cairn_model_version *v = NULL;
    CHECK(cairn_model_version_create(ctx, &vo, &v) == CAIRN_OK);
    cairn_model_version_free(v);
    CHECK(cn_store_run(ctx, "UPDATE model_versions SET model_id = ? WHERE name = ?", "ss", a,
                       reg) == CAIRN_OK);
    cairn_logged_model *m = NULL;
    CHECK(cairn_logged_model_get(ctx, a, &m) == CAIRN_OK);
    CHECK(m && m->n_registrations == 1);
    CHECK(m && m->n_registrations == 1 && strcmp(m->registrations[0].name, reg) == 0 &&
          m->registrations[0].version == 1);
    cairn_logged_model_free(m);
    free(plain);
    free(a);
    free(b);
    free(run);
    free(exp);
}

static void sqlite_exec(sqlite3 *db, const char *sql)
{
    char *err = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK) {
        fprintf(stderr, "# sqlite: %s\n", err ? err : "?");
        unit_failed = 1;
    }
    sqlite3_free(err);
}

/* A store made by a cairn without migration 004 (001 to 003 applied, a model version in it)
 * opens, migrates, keeps its rows, takes logged models and checks clean. SQLite only: the
 * PostgreSQL test database is shared and already migrated. */
TEST(migration_applies_to_a_store_made_before_004)
{
    if (getenv("CAIRN_TEST_PG") && *getenv("CAIRN_TEST_PG")) {
        printf("# skipped on PostgreSQL\n");
        return;
    }
    char path[400], uri[450], root[420];
    snprintf(path, sizeof path, "%s/before-004.db", fixture_dir);
    snprintf(uri, sizeof uri, "sqlite://%s", path);
    snprintf(root, sizeof root, "%s/before-004-artifacts", fixture_dir);
    sqlite3 *db = NULL;
    CHECK(sqlite3_open(path, &db) == SQLITE_OK);
    sqlite_exec(db, "CREATE TABLE cairn_schema (version INTEGER PRIMARY KEY, name TEXT NOT NULL, "
                    "applied_time BIGINT NOT NULL)");
    for (const cn_embedded_file *f = cn_store_migrations(&cn_db_sqlite_ops, NULL); f;
         f = cn_store_migrations(&cn_db_sqlite_ops, f)) {
        int64_t version = cn_store_migration_version(&cn_db_sqlite_ops, f);
        if (version >= 4)
            continue;
        sqlite_exec(db, (const char *)f->data);
        char *ins = sqlite3_mprintf("INSERT INTO cairn_schema VALUES (%lld, %Q, 0)",
                                    (long long)version, f->path + strlen("sqlite/"));
        sqlite_exec(db, ins);
        sqlite3_free(ins);
    }
    sqlite_exec(db, "INSERT INTO experiments (experiment_id, name, artifact_location, "
                    "lifecycle_stage, creation_time, last_update_time) VALUES "
                    "(1, 'old', '', 'active', 1, 1);"
                    "INSERT INTO registered_models VALUES ('oldm', 1, 1, '');"
                    "INSERT INTO model_versions (name, version, creation_time, "
                    "last_updated_time, source) VALUES ('oldm', 1, 1, 1, 'runs:/x/model')");
    sqlite3_close(db);

    cairn_open_opts oo = CAIRN_OPEN_OPTS_INIT;
    oo.artifact_root = root;
    cairn_ctx *old = NULL;
    CHECK(cairn_open(uri, &oo, &old) == CAIRN_OK);
    cairn_model_version *v = NULL;
    CHECK(cairn_model_version_get(old, "oldm", 1, &v) == CAIRN_OK);
    CHECK(v && strcmp(v->source, "runs:/x/model") == 0);
    cairn_model_version_free(v);
    cairn_logged_model_opts o = CAIRN_LOGGED_MODEL_OPTS_INIT;
    o.experiment_id = "1";
    o.name = "after";
    cairn_logged_model *m = NULL;
    CHECK(cairn_logged_model_create(old, &o, &m) == CAIRN_OK);
    CHECK(m && strncmp(m->artifact_location, root, strlen(root)) == 0);
    cairn_logged_model_free(m);
    cairn_close(old);

    cairn_ctx *check = cairn_ctx_new();
    cairn_store_report *rep = NULL;
    CHECK(cairn_store_check(check, uri, &rep) == CAIRN_OK);
    CHECK(rep && rep->n_problems == 0 && rep->schema_version == rep->schema_known);
    for (size_t i = 0; rep && i < rep->n_problems; i++)
        fprintf(stderr, "# problem: %s\n", rep->problems[i]);
    cairn_store_report_free(rep);
    cairn_close(check);
}

static void setup(void)
{
    ctx = fixture_open();
}

TEST(open)
{
    setup();
}

TEST(close_store)
{
    cairn_close(ctx);
}

UNIT_MAIN(UNIT_CASE(open), UNIT_CASE(create_and_get), UNIT_CASE(finalize_tags_params_metrics),
          UNIT_CASE(delete_and_errors), UNIT_CASE(search_filter_order_pages),
          UNIT_CASE(run_outputs_and_registrations),
          UNIT_CASE(migration_applies_to_a_store_made_before_004), UNIT_CASE(close_store))
