/* SPDX-License-Identifier: MIT */
/* test_store_registry.c - the model registry (cairn/registry.h) on a real store (SQLite, or
 * PostgreSQL under scripts/with-pg.sh): models, versions, tags, aliases, stages, semver,
 * history and rollback, their errors, version numbers under two racing processes, and the
 * fault driver on registration and alias moves. */
#include <sys/wait.h>
#include "unit.h"
#include "store_fixture.h"
#include "cairn/registry.h"
#include "core/core.h"
#include "store/db_faulty.h"

static cairn_ctx *ctx;

static char *new_run(void)
{
    cairn_run_opts o = CAIRN_RUN_OPTS_INIT;
    o.experiment = fixture_name("reg-exp");
    char *id = NULL;
    CHECK(cairn_runs_create(ctx, &o, &id) == CAIRN_OK);
    return id;
}

/* Registers a version of name from source; returns its number (0 on failure). */
static int64_t add_version(const char *name, const char *source, const char *semver)
{
    cairn_model_version_opts o = CAIRN_MODEL_VERSION_OPTS_INIT;
    o.name = name;
    o.source = source;
    o.semver = semver;
    cairn_model_version *v = NULL;
    cairn_status rc = cairn_model_version_create(ctx, &o, &v);
    if (rc != CAIRN_OK)
        fprintf(stderr, "# register: %s\n", cairn_errmsg(ctx));
    int64_t n = v ? v->version : 0;
    cairn_model_version_free(v);
    return n;
}

static int64_t alias_version(const char *name, const char *alias)
{
    cairn_model_version *v = NULL;
    if (cairn_model_version_get_by_alias(ctx, name, alias, &v) != CAIRN_OK)
        return 0;
    int64_t n = v->version;
    cairn_model_version_free(v);
    return n;
}

TEST(models_create_get_rename_update_tags)
{
    const char *name = fixture_name("clf");
    cairn_tag tags[] = {{"team", "vision"}};
    CHECK(cairn_registry_create_model(ctx, name, "first", tags, 1) == CAIRN_OK);
    CHECK(cairn_registry_create_model(ctx, name, NULL, NULL, 0) == CAIRN_EEXIST);
    CHECK(strstr(cairn_errmsg(ctx), "already exists") != NULL);
    CHECK(cairn_registry_create_model(ctx, "", NULL, NULL, 0) == CAIRN_EINVAL);
    CHECK(cairn_registry_create_model(ctx, "a/b", NULL, NULL, 0) == CAIRN_EINVAL);
    cairn_tag bad[] = {{"../x", "v"}};
    CHECK(cairn_registry_create_model(ctx, fixture_name("m"), NULL, bad, 1) == CAIRN_EINVAL);

    cairn_registered_model *m = NULL;
    CHECK(cairn_registry_get_model(ctx, name, &m) == CAIRN_OK);
    CHECK_STR(m->name, name);
    CHECK_STR(m->description, "first");
    CHECK(m->n_tags == 1 && strcmp(m->tags[0].value, "vision") == 0);
    CHECK(m->latest_version == 0 && m->n_aliases == 0);
    CHECK(m->creation_time_ms > 0);
    cairn_registered_model_free(m);
    cairn_registered_model_free(NULL);

    CHECK(cairn_registry_update_model(ctx, name, "second") == CAIRN_OK);
    CHECK(cairn_registry_set_model_tag(ctx, name, "owner", "ana") == CAIRN_OK);
    CHECK(cairn_registry_set_model_tag(ctx, name, "team", "nlp") == CAIRN_OK);
    CHECK(cairn_registry_delete_model_tag(ctx, name, "owner") == CAIRN_OK);
    CHECK(cairn_registry_delete_model_tag(ctx, name, "never") == CAIRN_OK);
    CHECK(add_version(name, "/models/a", NULL) == 1);
    CHECK(cairn_registry_set_alias(ctx, name, "production", 1, NULL) == CAIRN_OK);

    const char *renamed = fixture_name("clf-renamed");
    CHECK(cairn_registry_rename_model(ctx, name, renamed) == CAIRN_OK);
    CHECK(cairn_registry_get_model(ctx, name, &m) == CAIRN_ENOTFOUND);
    CHECK(strstr(cairn_errmsg(ctx), name) != NULL);
    CHECK(cairn_registry_get_model(ctx, renamed, &m) == CAIRN_OK);
    CHECK_STR(m->description, "second");
    CHECK(m->n_tags == 1 && strcmp(m->tags[0].value, "nlp") == 0);
    CHECK(m->latest_version == 1);
    CHECK(m->n_aliases == 1 && strcmp(m->aliases[0].alias, "production") == 0);
    cairn_registered_model_free(m);
    CHECK(alias_version(renamed, "production") == 1);

    const char *other = fixture_name("other");
    CHECK(cairn_registry_create_model(ctx, other, NULL, NULL, 0) == CAIRN_OK);
    CHECK(cairn_registry_rename_model(ctx, renamed, other) == CAIRN_EEXIST);
    CHECK(cairn_registry_rename_model(ctx, fixture_name("none"), "x") == CAIRN_ENOTFOUND);
    CHECK(cairn_registry_update_model(ctx, fixture_name("none"), "x") == CAIRN_ENOTFOUND);
    CHECK(cairn_registry_set_model_tag(ctx, fixture_name("none"), "k", "v") == CAIRN_ENOTFOUND);
}

TEST(versions_numbered_with_sources_and_runs)
{
    const char *name = fixture_name("reg");
    CHECK(cairn_registry_create_model(ctx, name, NULL, NULL, 0) == CAIRN_OK);
    char *run = new_run();
    cairn_model_version_opts o = CAIRN_MODEL_VERSION_OPTS_INIT;
    o.name = name;
    o.run_id = run;
    o.path = "model/model.cairn";
    o.description = "baseline";
    o.user = "ana";
    cairn_tag tags[] = {{"data", "v3"}};
    o.tags = tags;
    o.n_tags = 1;
    cairn_model_version *v = NULL;
    CHECK(cairn_model_version_create(ctx, &o, &v) == CAIRN_OK);
    CHECK(v && v->version == 1);
    if (v) {
        char want[128];
        snprintf(want, sizeof want, "runs:/%s/model/model.cairn", run);
        CHECK_STR(v->source, want);
        CHECK_STR(v->run_id, run);
        CHECK_STR(v->status, "READY");
        CHECK_STR(v->user_id, "ana");
        CHECK_STR(v->description, "baseline");
        CHECK(v->stage == CAIRN_STAGE_NONE && v->semver == NULL);
        CHECK(v->n_tags == 1 && strcmp(v->tags[0].key, "data") == 0);
    }
    cairn_model_version_free(v);

    /* A runs:/ source gives the run; another run id contradicting it is refused. */
    char src[128];
    snprintf(src, sizeof src, "runs:/%s/model", run);
    o = (cairn_model_version_opts)CAIRN_MODEL_VERSION_OPTS_INIT;
    o.name = name;
    o.source = src;
    CHECK(cairn_model_version_create(ctx, &o, &v) == CAIRN_OK);
    CHECK(v && v->version == 2 && strcmp(v->run_id, run) == 0);
    cairn_model_version_free(v);
    o.run_id = "0123456789abcdef0123456789abcdef";
    CHECK(cairn_model_version_create(ctx, &o, NULL) == CAIRN_EINVAL);
    o.source = NULL;
    CHECK(cairn_model_version_create(ctx, &o, NULL) == CAIRN_ENOTFOUND); /* unknown run */
    o.run_id = NULL;
    CHECK(cairn_model_version_create(ctx, &o, NULL) == CAIRN_EINVAL); /* neither */
    o.source = "s3://bucket/../etc";
    CHECK(cairn_model_version_create(ctx, &o, NULL) == CAIRN_EINVAL);
    o.source = "runs:/x/%2E%2E/secret";
    CHECK(cairn_model_version_create(ctx, &o, NULL) == CAIRN_EINVAL);
    o.source = "/srv/models/a";
    o.name = fixture_name("missing");
    CHECK(cairn_model_version_create(ctx, &o, NULL) == CAIRN_ENOTFOUND);
    CHECK(strstr(cairn_errmsg(ctx), "no registered model") != NULL);
    CHECK(add_version(name, "/srv/models/a", NULL) == 3);

    CHECK(cairn_model_version_get(ctx, name, 2, &v) == CAIRN_OK);
    cairn_model_version_free(v);
    CHECK(cairn_model_version_get(ctx, name, 9, &v) == CAIRN_ENOTFOUND);
    CHECK(strstr(cairn_errmsg(ctx), "no version 9") != NULL);
    CHECK(cairn_model_version_get(ctx, name, 0, &v) == CAIRN_EINVAL);
    CHECK(cairn_model_version_update(ctx, name, 2, "better") == CAIRN_OK);
    CHECK(cairn_model_version_set_tag(ctx, name, 2, "k", "v") == CAIRN_OK);
    CHECK(cairn_model_version_get(ctx, name, 2, &v) == CAIRN_OK);
    CHECK(v && strcmp(v->description, "better") == 0 && v->n_tags == 1);
    cairn_model_version_free(v);
    CHECK(cairn_model_version_delete_tag(ctx, name, 2, "k") == CAIRN_OK);
    CHECK(cairn_model_version_set_tag(ctx, name, 7, "k", "v") == CAIRN_ENOTFOUND);

    /* A deleted version's number is never given again. */
    CHECK(cairn_model_version_delete(ctx, name, 3) == CAIRN_OK);
    CHECK(cairn_model_version_get(ctx, name, 3, &v) == CAIRN_ENOTFOUND);
    CHECK(cairn_model_version_delete(ctx, name, 3) == CAIRN_ENOTFOUND);
    CHECK(add_version(name, "/srv/models/b", NULL) == 4);

    cairn_model_version_query q = CAIRN_MODEL_VERSION_QUERY_INIT;
    q.name = name;
    q.max_results = 2;
    cairn_model_version_page *page = NULL;
    CHECK(cairn_model_version_search(ctx, &q, &page) == CAIRN_OK);
    CHECK(page->n == 2 && page->items[0].version == 4 && page->items[1].version == 2);
    CHECK(page->next_page_token != NULL);
    char token[32];
    snprintf(token, sizeof token, "%s", page->next_page_token ? page->next_page_token : "");
    cairn_model_version_page_free(page);
    q.page_token = token;
    CHECK(cairn_model_version_search(ctx, &q, &page) == CAIRN_OK);
    CHECK(page->n == 1 && page->items[0].version == 1 && page->next_page_token == NULL);
    cairn_model_version_page_free(page);
    q = (cairn_model_version_query)CAIRN_MODEL_VERSION_QUERY_INIT;
    q.run_id = run;
    CHECK(cairn_model_version_search(ctx, &q, &page) == CAIRN_OK);
    CHECK(page->n == 2);
    cairn_model_version_page_free(page);
    q.max_results = 5000; /* within MLflow's 200000 for versions */
    CHECK(cairn_model_version_search(ctx, &q, &page) == CAIRN_OK);
    CHECK(page->n == 2);
    cairn_model_version_page_free(page);
    q.max_results = 200001;
    CHECK(cairn_model_version_search(ctx, &q, &page) == CAIRN_EINVAL);
    CHECK(strstr(cairn_errmsg(ctx), "max_results must be between 1 and 200000, got 200001"));
    cairn_free(run);
}

TEST(semver_rules)
{
    static const char *const good[] = {"0.0.0",
                                       "1.4.0",
                                       "10.20.30",
                                       "1.0.0-alpha",
                                       "1.0.0-alpha.1",
                                       "1.0.0-0.3.7",
                                       "1.0.0-x.7.z.92",
                                       "1.0.0+20130313144700",
                                       "1.0.0-beta+exp.sha.5114f85",
                                       "1.0.0+001",
                                       "1.0.0-a-b"};
    static const char *const bad[] = {"1",      "1.2",      "v1.2.3",    "01.2.3",   "1.02.3",
                                      "1.2.03", "1.2.3-",   "1.2.3+",    "1.2.3-01", "1.2.3-a..b",
                                      "1.2.3 ", "1.2.3-a$", "1.2.3+a+b", "",         "a.b.c"};
    for (size_t i = 0; i < sizeof good / sizeof *good; i++)
        if (cairn_semver_check(ctx, good[i]) != CAIRN_OK) {
            CHECK(!"a valid semver was refused");
            fprintf(stderr, "# %s\n", good[i]);
        }
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        if (cairn_semver_check(ctx, bad[i]) != CAIRN_EINVAL) {
            CHECK(!"an invalid semver was accepted");
            fprintf(stderr, "# %s\n", bad[i]);
        }

    const char *name = fixture_name("sv");
    CHECK(cairn_registry_create_model(ctx, name, NULL, NULL, 0) == CAIRN_OK);
    CHECK(add_version(name, "/m/1", "1.0.0") == 1);
    cairn_model_version_opts o = CAIRN_MODEL_VERSION_OPTS_INIT;
    o.name = name;
    o.source = "/m/2";
    o.semver = "1.0.0";
    CHECK(cairn_model_version_create(ctx, &o, NULL) == CAIRN_EEXIST);
    CHECK(strstr(cairn_errmsg(ctx), "1.0.0") != NULL);
    o.semver = "1.0";
    CHECK(cairn_model_version_create(ctx, &o, NULL) == CAIRN_EINVAL);
    CHECK(add_version(name, "/m/2", NULL) == 2); /* the failures took no number */
    CHECK(cairn_model_version_set_semver(ctx, name, 2, "1.0.0") == CAIRN_EEXIST);
    CHECK(cairn_model_version_set_semver(ctx, name, 2, "1.1.0-rc.1") == CAIRN_OK);
    CHECK(cairn_model_version_set_semver(ctx, name, 2, "nope") == CAIRN_EINVAL);
    CHECK(cairn_model_version_set_semver(ctx, name, 1, "1.0.0") == CAIRN_OK); /* itself */
    cairn_model_version *v = NULL;
    CHECK(cairn_model_version_get(ctx, name, 2, &v) == CAIRN_OK);
    CHECK(v && v->semver && strcmp(v->semver, "1.1.0-rc.1") == 0);
    cairn_model_version_free(v);
    CHECK(cairn_model_version_set_semver(ctx, name, 1, NULL) == CAIRN_OK);
    CHECK(cairn_model_version_set_semver(ctx, name, 2, "1.0.0") == CAIRN_OK); /* freed */
    /* Another model may use the same label; a deleted version frees its label. */
    const char *other = fixture_name("sv2");
    CHECK(cairn_registry_create_model(ctx, other, NULL, NULL, 0) == CAIRN_OK);
    CHECK(add_version(other, "/m/x", "1.0.0") == 1);
    CHECK(cairn_model_version_delete(ctx, name, 2) == CAIRN_OK);
    CHECK(add_version(name, "/m/3", "1.0.0") == 3);
}

TEST(aliases_history_and_rollback)
{
    const char *name = fixture_name("al");
    CHECK(cairn_registry_create_model(ctx, name, NULL, NULL, 0) == CAIRN_OK);
    for (int i = 1; i <= 3; i++)
        CHECK(add_version(name, "/m/v", NULL) == i);
    static const char *const bad[] = {"", "Prod", "latest", "v2", "a b", "a.b", "é"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        CHECK(cairn_registry_set_alias(ctx, name, bad[i], 1, NULL) == CAIRN_EINVAL);
    CHECK(cairn_alias_check(ctx, "v2x") == CAIRN_OK);
    CHECK(cairn_alias_check(ctx, "champion_2-b") == CAIRN_OK);
    CHECK(cairn_registry_set_alias(ctx, name, "production", 9, NULL) == CAIRN_ENOTFOUND);
    CHECK(cairn_registry_set_alias(ctx, fixture_name("x"), "production", 1, NULL) ==
          CAIRN_ENOTFOUND);
    CHECK(cairn_registry_rollback(ctx, name, "production", NULL, NULL) == CAIRN_ENOTFOUND);

    cairn_registry_move_opts mv = CAIRN_REGISTRY_MOVE_OPTS_INIT;
    mv.user = "ana";
    mv.reason = "first release";
    CHECK(cairn_registry_set_alias(ctx, name, "production", 1, &mv) == CAIRN_OK);
    CHECK(cairn_registry_set_alias(ctx, name, "production", 1, &mv) == CAIRN_OK); /* no event */
    mv.reason = "better auc";
    CHECK(cairn_registry_set_alias(ctx, name, "production", 2, &mv) == CAIRN_OK);
    CHECK(cairn_registry_set_alias(ctx, name, "staging", 3, NULL) == CAIRN_OK);
    CHECK(alias_version(name, "production") == 2);
    cairn_model_version *v = NULL;
    CHECK(cairn_model_version_get_by_alias(ctx, name, "canary", &v) == CAIRN_ENOTFOUND);
    CHECK(strstr(cairn_errmsg(ctx), "canary") != NULL);
    CHECK(cairn_model_version_get(ctx, name, 2, &v) == CAIRN_OK);
    CHECK(v && v->n_aliases == 1 && strcmp(v->aliases[0], "production") == 0);
    cairn_model_version_free(v);

    int64_t now_at = 0;
    mv.reason = "regression";
    CHECK(cairn_registry_rollback(ctx, name, "production", &mv, &now_at) == CAIRN_OK);
    CHECK(now_at == 1 && alias_version(name, "production") == 1);
    CHECK(cairn_registry_rollback(ctx, name, "production", NULL, &now_at) == CAIRN_OK);
    CHECK(now_at == 2); /* a rollback undoes the last move, rollbacks included */
    CHECK(cairn_registry_rollback(ctx, name, "staging", NULL, NULL) == CAIRN_EINVAL);

    cairn_registry_history_query q = CAIRN_REGISTRY_HISTORY_QUERY_INIT;
    q.name = name;
    q.alias = "production";
    cairn_registry_event_page *page = NULL;
    CHECK(cairn_registry_history(ctx, &q, &page) == CAIRN_OK);
    CHECK(page && page->n == 4);
    if (page && page->n == 4) {
        const cairn_registry_event *e = page->items; /* newest first */
        CHECK(e[0].kind == CAIRN_EVENT_ROLLBACK && e[0].from_version == 1 && e[0].to_version == 2);
        CHECK(e[1].kind == CAIRN_EVENT_ROLLBACK && e[1].from_version == 2 && e[1].to_version == 1);
        CHECK_STR(e[1].reason, "regression");
        CHECK_STR(e[1].user, "ana");
        CHECK(e[2].kind == CAIRN_EVENT_ALIAS_SET && e[2].from_version == 1 && e[2].to_version == 2);
        CHECK_STR(e[2].reason, "better auc");
        CHECK(e[3].from_version == 0 && e[3].to_version == 1 && e[3].seq < e[2].seq);
        CHECK_STR(e[3].alias, "production");
        CHECK(e[3].time_ms > 0 && *e[0].user);
    }
    cairn_registry_event_page_free(page);
    q.alias = NULL;
    q.max_results = 3;
    CHECK(cairn_registry_history(ctx, &q, &page) == CAIRN_OK);
    CHECK(page->n == 3 && page->next_page_token);
    cairn_registry_event_page_free(page);
    q.name = fixture_name("none");
    CHECK(cairn_registry_history(ctx, &q, &page) == CAIRN_ENOTFOUND);

    /* Deleting a version drops its aliases, each recorded. */
    CHECK(cairn_model_version_delete(ctx, name, 3) == CAIRN_OK);
    CHECK(alias_version(name, "staging") == 0);
    q = (cairn_registry_history_query)CAIRN_REGISTRY_HISTORY_QUERY_INIT;
    q.name = name;
    q.alias = "staging";
    CHECK(cairn_registry_history(ctx, &q, &page) == CAIRN_OK);
    CHECK(page->n == 2 && page->items[0].kind == CAIRN_EVENT_ALIAS_DELETE &&
          page->items[0].from_version == 3 && page->items[0].to_version == 0);
    cairn_registry_event_page_free(page);
    /* An alias set where none was has nothing to roll back to; a deleted version neither. */
    CHECK(cairn_registry_set_alias(ctx, name, "staging", 1, NULL) == CAIRN_OK);
    CHECK(cairn_registry_rollback(ctx, name, "staging", NULL, NULL) == CAIRN_EINVAL);
    CHECK(cairn_registry_delete_alias(ctx, name, "staging", NULL) == CAIRN_OK);
    CHECK(cairn_registry_delete_alias(ctx, name, "staging", NULL) == CAIRN_ENOTFOUND);
    CHECK(cairn_registry_rollback(ctx, name, "staging", NULL, &now_at) == CAIRN_OK);
    CHECK(now_at == 1 && alias_version(name, "staging") == 1);
    CHECK(cairn_registry_set_alias(ctx, name, "staging", 2, NULL) == CAIRN_OK);
    CHECK(cairn_model_version_delete(ctx, name, 1) == CAIRN_OK);
    CHECK(cairn_registry_rollback(ctx, name, "staging", NULL, NULL) == CAIRN_ENOTFOUND);
    CHECK(strstr(cairn_errmsg(ctx), "cannot roll back alias 'staging'") != NULL);
    CHECK(alias_version(name, "staging") == 2);
}

TEST(stages_transition_and_archive)
{
    const char *name = fixture_name("st");
    CHECK(cairn_registry_create_model(ctx, name, NULL, NULL, 0) == CAIRN_OK);
    CHECK(add_version(name, "/m/1", NULL) == 1);
    CHECK(add_version(name, "/m/2", NULL) == 2);
    cairn_model_stage s;
    CHECK(cairn_model_stage_parse(ctx, "production", &s) == CAIRN_OK &&
          s == CAIRN_STAGE_PRODUCTION);
    CHECK(cairn_model_stage_parse(ctx, "prod", &s) == CAIRN_EINVAL);
    CHECK_STR(cairn_model_stage_str(CAIRN_STAGE_ARCHIVED), "Archived");
    CHECK(cairn_model_stage_str((cairn_model_stage)9) == NULL);
    CHECK(cairn_model_version_transition_stage(ctx, name, 1, CAIRN_STAGE_PRODUCTION, false, NULL) ==
          CAIRN_OK);
    CHECK(cairn_model_version_transition_stage(ctx, name, 2, CAIRN_STAGE_PRODUCTION, true, NULL) ==
          CAIRN_OK);
    CHECK(cairn_model_version_transition_stage(ctx, name, 5, CAIRN_STAGE_STAGING, false, NULL) ==
          CAIRN_ENOTFOUND);
    cairn_model_version *v = NULL;
    CHECK(cairn_model_version_get(ctx, name, 1, &v) == CAIRN_OK);
    CHECK(v && v->stage == CAIRN_STAGE_ARCHIVED);
    cairn_model_version_free(v);
    CHECK(cairn_model_version_get(ctx, name, 2, &v) == CAIRN_OK);
    CHECK(v && v->stage == CAIRN_STAGE_PRODUCTION);
    cairn_model_version_free(v);
    cairn_registry_history_query q = CAIRN_REGISTRY_HISTORY_QUERY_INIT;
    q.name = name;
    cairn_registry_event_page *page = NULL;
    CHECK(cairn_registry_history(ctx, &q, &page) == CAIRN_OK);
    CHECK(page->n == 3);
    if (page->n == 3) {
        CHECK(page->items[0].kind == CAIRN_EVENT_STAGE && page->items[0].to_version == 2);
        CHECK(page->items[0].from_stage == CAIRN_STAGE_NONE);
        CHECK(page->items[0].to_stage == CAIRN_STAGE_PRODUCTION);
        CHECK(page->items[1].to_version == 1 && page->items[1].to_stage == CAIRN_STAGE_ARCHIVED);
        CHECK(page->items[0].alias == NULL);
    }
    CHECK_STR(cairn_registry_event_kind_str(page->items[0].kind), "stage");
    cairn_registry_event_page_free(page);
}

TEST(search_models_by_name_and_tags)
{
    char prefix[64];
    snprintf(prefix, sizeof prefix, "%s", fixture_name("srch"));
    char names[3][96];
    for (int i = 0; i < 3; i++) {
        snprintf(names[i], sizeof names[i], "%s_%d", prefix, i);
        cairn_tag tags[] = {{"team", i == 1 ? "nlp" : "vision"}};
        CHECK(cairn_registry_create_model(ctx, names[i], NULL, tags, 1) == CAIRN_OK);
    }
    char like[96];
    snprintf(like, sizeof like, "%s\\_%%", prefix);
    cairn_registered_model_query q = CAIRN_REGISTERED_MODEL_QUERY_INIT;
    q.name_like = like;
    q.max_results = 2;
    cairn_registered_model_page *page = NULL;
    CHECK(cairn_registry_search_models(ctx, &q, &page) == CAIRN_OK);
    CHECK(page->n == 2 && strcmp(page->items[0].name, names[0]) == 0 && page->next_page_token);
    CHECK(page->items[0].n_tags == 1);
    char token[32];
    snprintf(token, sizeof token, "%s", page->next_page_token ? page->next_page_token : "");
    cairn_registered_model_page_free(page);
    q.page_token = token;
    CHECK(cairn_registry_search_models(ctx, &q, &page) == CAIRN_OK);
    CHECK(page->n == 1 && strcmp(page->items[0].name, names[2]) == 0 && !page->next_page_token);
    cairn_registered_model_page_free(page);
    cairn_tag want[] = {{"team", "vision"}};
    q = (cairn_registered_model_query)CAIRN_REGISTERED_MODEL_QUERY_INIT;
    q.name_like = like;
    q.tags = want;
    q.n_tags = 1;
    CHECK(cairn_registry_search_models(ctx, &q, &page) == CAIRN_OK);
    CHECK(page->n == 2 && strcmp(page->items[1].name, names[2]) == 0);
    cairn_registered_model_page_free(page);
    q.page_token = "x";
    CHECK(cairn_registry_search_models(ctx, &q, &page) == CAIRN_EINVAL);
    CHECK(cairn_registry_search_models(ctx, NULL, &page) == CAIRN_OK);
    CHECK(page->n >= 3);
    cairn_registered_model_page_free(page);
}

TEST(delete_model_cascades)
{
    const char *name = fixture_name("gone");
    cairn_tag tags[] = {{"k", "v"}};
    CHECK(cairn_registry_create_model(ctx, name, NULL, tags, 1) == CAIRN_OK);
    CHECK(add_version(name, "/m/1", "1.0.0") == 1);
    CHECK(cairn_model_version_set_tag(ctx, name, 1, "k", "v") == CAIRN_OK);
    CHECK(cairn_registry_set_alias(ctx, name, "production", 1, NULL) == CAIRN_OK);
    CHECK(cairn_registry_delete_model(ctx, name) == CAIRN_OK);
    CHECK(cairn_registry_delete_model(ctx, name) == CAIRN_ENOTFOUND);
    cairn_model_version_query q = CAIRN_MODEL_VERSION_QUERY_INIT;
    q.name = name;
    cairn_model_version_page *page = NULL;
    CHECK(cairn_model_version_search(ctx, &q, &page) == CAIRN_OK);
    CHECK(page->n == 0);
    cairn_model_version_page_free(page);
    /* A new model of the same name starts from scratch: version 1, no aliases, no history. */
    CHECK(cairn_registry_create_model(ctx, name, NULL, NULL, 0) == CAIRN_OK);
    CHECK(add_version(name, "/m/1", "1.0.0") == 1);
    cairn_registered_model *m = NULL;
    CHECK(cairn_registry_get_model(ctx, name, &m) == CAIRN_OK);
    CHECK(m->n_tags == 0 && m->n_aliases == 0);
    cairn_registered_model_free(m);
    cairn_model_version *v = NULL;
    CHECK(cairn_model_version_get(ctx, name, 1, &v) == CAIRN_OK);
    CHECK(v && v->n_tags == 0);
    cairn_model_version_free(v);
    cairn_registry_history_query hq = CAIRN_REGISTRY_HISTORY_QUERY_INIT;
    hq.name = name;
    cairn_registry_event_page *events = NULL;
    CHECK(cairn_registry_history(ctx, &hq, &events) == CAIRN_OK);
    CHECK(events->n == 0);
    cairn_registry_event_page_free(events);
}

/* Two processes register versions of one model at once; every number is taken once. */
#define N_EACH 15

static int child_register(const char *name, int fd)
{
    cairn_ctx *c = fixture_open();
    for (int i = 0; i < N_EACH; i++) {
        cairn_model_version_opts o = CAIRN_MODEL_VERSION_OPTS_INIT;
        o.name = name;
        o.source = "/m/race";
        cairn_model_version *v = NULL;
        if (cairn_model_version_create(c, &o, &v) != CAIRN_OK) {
            fprintf(stderr, "# child: %s\n", cairn_errmsg(c));
            return 1;
        }
        int64_t n = v->version;
        cairn_model_version_free(v);
        if (write(fd, &n, sizeof n) != sizeof n)
            return 1;
    }
    cairn_close(c);
    return 0;
}

TEST(two_processes_never_share_a_version)
{
    const char *name = fixture_name("race");
    CHECK(cairn_registry_create_model(ctx, name, NULL, NULL, 0) == CAIRN_OK);
    int fds[2];
    CHECK(pipe(fds) == 0);
    pid_t kids[2];
    for (int k = 0; k < 2; k++) {
        kids[k] = fork();
        if (kids[k] == 0) {
            close(fds[0]);
            _exit(child_register(name, fds[1]));
        }
    }
    close(fds[1]);
    bool seen[2 * N_EACH + 1] = {false};
    int64_t n;
    int got = 0;
    while (read(fds[0], &n, sizeof n) == sizeof n) {
        CHECK(n >= 1 && n <= 2 * N_EACH);
        if (n >= 1 && n <= 2 * N_EACH) {
            CHECK(!seen[n]);
            seen[n] = true;
        }
        got++;
    }
    close(fds[0]);
    for (int k = 0; k < 2; k++) {
        int status = 0;
        CHECK(waitpid(kids[k], &status, 0) == kids[k]);
        CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
    CHECK(got == 2 * N_EACH);
    cairn_registered_model *m = NULL;
    CHECK(cairn_registry_get_model(ctx, name, &m) == CAIRN_OK);
    CHECK(m && m->latest_version == 2 * N_EACH);
    cairn_registered_model_free(m);
}

/* ---- the fault driver: a failed register or alias move leaves nothing half-done ---- */

static cn_db_faults faults;

static int64_t count_versions(cairn_ctx *c, const char *name)
{
    cairn_model_version_query q = CAIRN_MODEL_VERSION_QUERY_INIT;
    q.name = name;
    cairn_model_version_page *page = NULL;
    CHECK(cairn_model_version_search(c, &q, &page) == CAIRN_OK);
    int64_t n = page ? (int64_t)page->n : -1;
    cairn_model_version_page_free(page);
    return n;
}

static size_t count_events(cairn_ctx *c, const char *name)
{
    cairn_registry_history_query q = CAIRN_REGISTRY_HISTORY_QUERY_INIT;
    q.name = name;
    cairn_registry_event_page *page = NULL;
    CHECK(cairn_registry_history(c, &q, &page) == CAIRN_OK);
    size_t n = page ? page->n : 0;
    cairn_registry_event_page_free(page);
    return n;
}

/* Runs op with the Nth backend call failing, N = 1, 2, ... until it runs clean. */
static void with_faults(cairn_ctx *c, cairn_status (*op)(cairn_ctx *, const char *),
                        void (*state)(cairn_ctx *, const char *, bool), const char *name)
{
    for (int n = 1; n < 300; n++) {
        faults.fail_at = n;
        faults.calls = 0;
        faults.hit = false;
        faults.kind = n % 2 ? CN_FAULT_BUSY : CN_FAULT_DISK_FULL;
        cairn_status rc = op(c, name);
        faults.fail_at = 0;
        if (!faults.hit) {
            CHECK(rc == CAIRN_OK);
            state(c, name, true);
            return;
        }
        CHECK(rc != CAIRN_OK && *cairn_errmsg(c));
        if (rc == CAIRN_OK)
            return;
        state(c, name, false);
    }
    CHECK(!"the operation never ran without a fault");
}

static cairn_status op_register(cairn_ctx *c, const char *name)
{
    cairn_model_version_opts o = CAIRN_MODEL_VERSION_OPTS_INIT;
    o.name = name;
    o.source = "/m/f";
    o.semver = "2.0.0";
    cairn_tag tags[] = {{"a", "1"}, {"b", "2"}};
    o.tags = tags;
    o.n_tags = 2;
    return cairn_model_version_create(c, &o, NULL);
}

static void state_register(cairn_ctx *c, const char *name, bool applied)
{
    CHECK(count_versions(c, name) == (applied ? 2 : 1));
    cairn_model_version *v = NULL;
    cairn_status rc = cairn_model_version_get(c, name, 2, &v);
    CHECK(rc == (applied ? CAIRN_OK : CAIRN_ENOTFOUND));
    if (applied)
        CHECK(v && v->n_tags == 2 && v->semver && strcmp(v->semver, "2.0.0") == 0);
    cairn_model_version_free(v);
}

static cairn_status op_alias(cairn_ctx *c, const char *name)
{
    cairn_registry_move_opts mv = CAIRN_REGISTRY_MOVE_OPTS_INIT;
    mv.reason = "promote";
    return cairn_registry_set_alias(c, name, "production", 2, &mv);
}

static void state_alias(cairn_ctx *c, const char *name, bool applied)
{
    cairn_model_version *v = NULL;
    CHECK(cairn_model_version_get_by_alias(c, name, "production", &v) == CAIRN_OK);
    CHECK(v && v->version == (applied ? 2 : 1));
    cairn_model_version_free(v);
    CHECK(count_events(c, name) == (applied ? 2 : 1));
}

static cairn_status op_rollback(cairn_ctx *c, const char *name)
{
    return cairn_registry_rollback(c, name, "production", NULL, NULL);
}

static void state_rollback(cairn_ctx *c, const char *name, bool applied)
{
    cairn_model_version *v = NULL;
    CHECK(cairn_model_version_get_by_alias(c, name, "production", &v) == CAIRN_OK);
    CHECK(v && v->version == (applied ? 1 : 2));
    cairn_model_version_free(v);
    CHECK(count_events(c, name) == (applied ? 3 : 2));
}

static cairn_status op_delete_version(cairn_ctx *c, const char *name)
{
    return cairn_model_version_delete(c, name, 1);
}

static void state_delete_version(cairn_ctx *c, const char *name, bool applied)
{
    CHECK(count_versions(c, name) == (applied ? 1 : 2));
    cairn_model_version *v = NULL;
    CHECK(cairn_model_version_get_by_alias(c, name, "production", &v) ==
          (applied ? CAIRN_ENOTFOUND : CAIRN_OK));
    cairn_model_version_free(v);
    CHECK(count_events(c, name) == (applied ? 4 : 3));
}

TEST(faults_leave_the_registry_consistent)
{
    cairn_ctx *c = fixture_open();
    const char *name = fixture_name("faulty");
    CHECK(cairn_registry_create_model(c, name, NULL, NULL, 0) == CAIRN_OK);
    cairn_model_version_opts o = CAIRN_MODEL_VERSION_OPTS_INIT;
    o.name = name;
    o.source = "/m/1";
    CHECK(cairn_model_version_create(c, &o, NULL) == CAIRN_OK);
    CHECK(cairn_registry_set_alias(c, name, "production", 1, NULL) == CAIRN_OK);
    CHECK(cn_db_faulty_install(c, &faults) == CAIRN_OK);
    with_faults(c, op_register, state_register, name);
    with_faults(c, op_alias, state_alias, name);
    with_faults(c, op_rollback, state_rollback, name);
    with_faults(c, op_delete_version, state_delete_version, name);
    cairn_close(c);
}

static void setup(void)
{
    ctx = fixture_open();
}

TEST(open_store)
{
    setup();
    CHECK(ctx != NULL);
}

TEST(close_store)
{
    cairn_close(ctx);
    ctx = NULL;
}

UNIT_MAIN(UNIT_CASE(open_store), UNIT_CASE(models_create_get_rename_update_tags),
          UNIT_CASE(versions_numbered_with_sources_and_runs), UNIT_CASE(semver_rules),
          UNIT_CASE(aliases_history_and_rollback), UNIT_CASE(stages_transition_and_archive),
          UNIT_CASE(search_models_by_name_and_tags), UNIT_CASE(delete_model_cascades),
          UNIT_CASE(two_processes_never_share_a_version),
          UNIT_CASE(faults_leave_the_registry_consistent), UNIT_CASE(close_store))
