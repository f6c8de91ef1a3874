/* SPDX-License-Identifier: MIT */
/* test_store_registry.c - the model registry (cairn/registry.h) on a real store (SQLite, or
 * PostgreSQL under scripts/with-pg.sh): models, versions, tags, aliases, stages, semver,
 * history and rollback, their errors, version numbers under two racing processes, and the
 * fault driver on registration and alias moves. */
#include <sys/wait.h>
#include <unistd.h>
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
    o.source = "models:/m/1/%00/..%2f..";
    CHECK(cairn_model_version_create(ctx, &o, NULL) == CAIRN_EINVAL);
    CHECK(strstr(cairn_errmsg(ctx), "NUL") != NULL);
    o.source = "models:/m/1/%2500";
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
    mv.reason = "third";
    CHECK(cairn_registry_set_alias(ctx, name, "production", 3, &mv) == CAIRN_OK);
    mv.reason = "regression";
    CHECK(cairn_registry_rollback(ctx, name, "production", &mv, &now_at) == CAIRN_OK);
    CHECK(now_at == 2 && alias_version(name, "production") == 2);
    /* Back through the history: a second rollback undoes the move before, not the first
     * rollback; a third has nowhere older to go. */
    CHECK(cairn_registry_rollback(ctx, name, "production", NULL, &now_at) == CAIRN_OK);
    CHECK(now_at == 1 && alias_version(name, "production") == 1);
    CHECK(cairn_registry_rollback(ctx, name, "production", NULL, &now_at) == CAIRN_EINVAL);
    CHECK(strstr(cairn_errmsg(ctx), "nothing older") != NULL);
    CHECK(alias_version(name, "production") == 1);
    CHECK(cairn_registry_rollback(ctx, name, "staging", NULL, NULL) == CAIRN_EINVAL);

    cairn_registry_history_query q = CAIRN_REGISTRY_HISTORY_QUERY_INIT;
    q.name = name;
    q.alias = "production";
    cairn_registry_event_page *page = NULL;
    CHECK(cairn_registry_history(ctx, &q, &page) == CAIRN_OK);
    CHECK(page && page->n == 5);
    if (page && page->n == 5) {
        const cairn_registry_event *e = page->items; /* newest first */
        CHECK(e[0].kind == CAIRN_EVENT_ROLLBACK && e[0].from_version == 2 && e[0].to_version == 1);
        CHECK(e[1].kind == CAIRN_EVENT_ROLLBACK && e[1].from_version == 3 && e[1].to_version == 2);
        CHECK_STR(e[1].reason, "regression");
        CHECK_STR(e[1].user, "ana");
        CHECK(e[2].kind == CAIRN_EVENT_ALIAS_SET && e[2].from_version == 2 && e[2].to_version == 3);
        CHECK(e[3].kind == CAIRN_EVENT_ALIAS_SET && e[3].from_version == 1 && e[3].to_version == 2);
        CHECK_STR(e[3].reason, "better auc");
        CHECK(e[4].from_version == 0 && e[4].to_version == 1 && e[4].seq < e[3].seq);
        CHECK_STR(e[4].alias, "production");
        CHECK(e[4].time_ms > 0 && *e[0].user);
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

/* ---- the registry searches' filter grammar (docs/search.md), on both backends ---- */

static char rs_prefix[64]; /* every model of these tests starts with it: "<prefix>-" */
static char rs_got[512];   /* what the last search found, or "EINVAL: <message>" */

/* Strips "<prefix>-" from a model name for compact expectations. */
static const char *short_name(const char *name)
{
    size_t n = strlen(rs_prefix);
    return strncmp(name, rs_prefix, n) == 0 && name[n] == '-' ? name + n + 1 : name;
}

/* Searches models with `(name LIKE '<prefix>-%') AND (<filter>)` (filter NULL: the scope
 * alone) and order_by; returns the short names found, comma-separated, or "ERR <status>:
 * <message>". */
static const char *models_where(const char *filter, const char *const *order_by, size_t n_order_by)
{
    char text[1024];
    snprintf(text, sizeof text, "name LIKE '%s-%%'%s%s%s", rs_prefix, filter ? " AND (" : "",
             filter ? filter : "", filter ? ")" : "");
    cairn_registered_model_query q = CAIRN_REGISTERED_MODEL_QUERY_INIT;
    q.filter = text;
    q.order_by = order_by;
    q.n_order_by = n_order_by;
    cairn_registered_model_page *page = NULL;
    cairn_status rc = cairn_registry_search_models(ctx, &q, &page);
    rs_got[0] = '\0';
    if (rc != CAIRN_OK) {
        snprintf(rs_got, sizeof rs_got, "ERR %s: %s", cairn_status_str(rc), cairn_errmsg(ctx));
        return rs_got;
    }
    for (size_t i = 0; i < page->n; i++)
        snprintf(rs_got + strlen(rs_got), sizeof rs_got - strlen(rs_got), "%s%s", i ? "," : "",
                 short_name(page->items[i].name));
    CHECK(page->next_page_token == NULL);
    cairn_registered_model_page_free(page);
    return rs_got;
}

/* The same for versions: "x/3,x/2" (model short name / version). */
static const char *versions_where(const char *filter, const char *const *order_by,
                                  size_t n_order_by)
{
    char text[1024];
    snprintf(text, sizeof text, "name LIKE '%s-%%'%s%s%s", rs_prefix, filter ? " AND (" : "",
             filter ? filter : "", filter ? ")" : "");
    cairn_model_version_query q = CAIRN_MODEL_VERSION_QUERY_INIT;
    q.filter = text;
    q.order_by = order_by;
    q.n_order_by = n_order_by;
    cairn_model_version_page *page = NULL;
    cairn_status rc = cairn_model_version_search(ctx, &q, &page);
    rs_got[0] = '\0';
    if (rc != CAIRN_OK) {
        snprintf(rs_got, sizeof rs_got, "ERR %s: %s", cairn_status_str(rc), cairn_errmsg(ctx));
        return rs_got;
    }
    for (size_t i = 0; i < page->n; i++)
        snprintf(rs_got + strlen(rs_got), sizeof rs_got - strlen(rs_got), "%s%s/%lld", i ? "," : "",
                 short_name(page->items[i].name), (long long)page->items[i].version);
    CHECK(page->next_page_token == NULL);
    cairn_model_version_page_free(page);
    return rs_got;
}

#define CHECK_FOUND(got, want) CHECK_STR(got, want)
/* An error whose message holds want. */
#define CHECK_FAILS(got, want)                                                                     \
    do {                                                                                           \
        const char *g_ = (got);                                                                    \
        CHECK(strncmp(g_, "ERR ", 4) == 0 && strstr(g_, want) != NULL);                            \
        if (!(strncmp(g_, "ERR ", 4) == 0 && strstr(g_, want) != NULL))                            \
            fprintf(stderr, "# got '%s', want an error with '%s'\n", g_, want);                    \
    } while (0)

static char *rs_model(const char *suffix)
{
    static char names[8][128];
    static int next;
    char *out = names[next++ % 8];
    snprintf(out, 128, "%s-%s", rs_prefix, suffix);
    return out;
}

/* Sleeps so the next write gets a later millisecond timestamp. */
static void next_ms(void)
{
    usleep(3000);
}

static int64_t model_time(const char *suffix, bool updated)
{
    cairn_registered_model *m = NULL;
    int64_t t = 0;
    if (cairn_registry_get_model(ctx, rs_model(suffix), &m) == CAIRN_OK)
        t = updated ? m->last_updated_time_ms : m->creation_time_ms;
    cairn_registered_model_free(m);
    return t;
}

TEST(search_models_filter_grammar)
{
    snprintf(rs_prefix, sizeof rs_prefix, "%s", fixture_name("rsm"));
    cairn_tag a_tags[] = {{"team", "vision"}, {"stage", "prod"}};
    cairn_tag b_tags[] = {{"team", "nlp"}};
    cairn_tag c_tags[] = {{"team", "vision"}, {"mlflow.prompt.is_prompt", "true"}};
    cairn_tag d_tags[] = {{"mlflow.prompt.is_prompt", "false"}, {"note", "50% off"}};
    CHECK(cairn_registry_create_model(ctx, rs_model("a"), NULL, a_tags, 2) == CAIRN_OK);
    next_ms();
    CHECK(cairn_registry_create_model(ctx, rs_model("b"), NULL, b_tags, 1) == CAIRN_OK);
    next_ms();
    CHECK(cairn_registry_create_model(ctx, rs_model("c"), NULL, c_tags, 2) == CAIRN_OK);
    next_ms();
    CHECK(cairn_registry_create_model(ctx, rs_model("d"), NULL, d_tags, 2) == CAIRN_OK);
    next_ms();
    CHECK(cairn_registry_update_model(ctx, rs_model("b"), "touched last") == CAIRN_OK);
    char f[512];

    /* name: = != LIKE ILIKE */
    CHECK_FOUND(models_where(NULL, NULL, 0), "a,b,c,d"); /* natural order: name ASC */
    snprintf(f, sizeof f, "name = '%s'", rs_model("b"));
    CHECK_FOUND(models_where(f, NULL, 0), "b");
    snprintf(f, sizeof f, "attributes.name != '%s'", rs_model("b"));
    CHECK_FOUND(models_where(f, NULL, 0), "a,c,d");
    CHECK_FOUND(models_where("name LIKE '%-c'", NULL, 0), "c");
    CHECK_FOUND(models_where("name LIKE '%-C'", NULL, 0), ""); /* LIKE is case-sensitive */
    CHECK_FOUND(models_where("name ILIKE '%-C'", NULL, 0), "c");
    CHECK_FAILS(models_where("name IN ('x')", NULL, 0),
                "comparator 'IN' is not allowed for attribute 'name' (use = != LIKE ILIKE)");

    /* tags: = != LIKE ILIKE, tags. and tag., quoted keys; a missing tag never matches */
    CHECK_FOUND(models_where("tags.team = 'vision'", NULL, 0), "a,c");
    CHECK_FOUND(models_where("tag.team != 'vision'", NULL, 0), "b"); /* d has no team */
    CHECK_FOUND(models_where("tags.`team` LIKE 'n%'", NULL, 0), "b");
    CHECK_FOUND(models_where("tags.team ILIKE 'VIS%'", NULL, 0), "a,c");
    CHECK_FOUND(models_where("tags.note LIKE '50\\% off'", NULL, 0), "d");
    CHECK_FOUND(models_where("tags.stage = 'prod' AND tags.team = 'vision'", NULL, 0), "a");
    CHECK_FAILS(models_where("tags.team IN ('nlp')", NULL, 0),
                "comparator 'IN' is not allowed for tags (use = != LIKE ILIKE)");

    /* MLflow's prompt tag: a model without it is not a prompt */
    CHECK_FOUND(models_where("tag.`mlflow.prompt.is_prompt` != 'true'", NULL, 0), "a,b,d");
    CHECK_FOUND(models_where("tags.`mlflow.prompt.is_prompt` = 'false'", NULL, 0), "a,b,d");
    CHECK_FOUND(models_where("tags.`mlflow.prompt.is_prompt` = 'true'", NULL, 0), "c");
    CHECK_FOUND(models_where("tags.`mlflow.prompt.is_prompt` != 'false'", NULL, 0), "c");
    CHECK_FOUND(models_where("tags.`mlflow.prompt.is_prompt` LIKE 'f%'", NULL, 0), "d");
    /* what the MLflow 3.x client sends, appended to the user's filter */
    CHECK_FOUND(
        models_where("tags.team = 'vision' AND tag.`mlflow.prompt.is_prompt` != 'true'", NULL, 0),
        "a");

    /* OR and parentheses */
    snprintf(f, sizeof f,
             "(name = '%s' OR tags.team = 'vision') AND tag.`mlflow.prompt.is_prompt` != 'true'",
             rs_model("b"));
    CHECK_FOUND(models_where(f, NULL, 0), "a,b");
    CHECK_FOUND(models_where("tags.team = 'nlp' OR tags.note = '50% off' OR tags.x = 'y'", NULL, 0),
                "b,d");

    /* timestamps, numerically */
    int64_t b_created = model_time("b", false), b_updated = model_time("b", true);
    CHECK(b_created > 0 && b_updated > model_time("d", true));
    snprintf(f, sizeof f, "creation_timestamp > %lld", (long long)b_created);
    CHECK_FOUND(models_where(f, NULL, 0), "c,d");
    snprintf(f, sizeof f, "timestamp <= %lld", (long long)b_created);
    CHECK_FOUND(models_where(f, NULL, 0), "a,b");
    snprintf(f, sizeof f, "creation_timestamp = %lld", (long long)b_created);
    CHECK_FOUND(models_where(f, NULL, 0), "b");
    snprintf(f, sizeof f, "last_updated_timestamp >= %lld", (long long)b_updated);
    CHECK_FOUND(models_where(f, NULL, 0), "b");
    snprintf(f, sizeof f, "last_updated_timestamp != %lld", (long long)b_updated);
    CHECK_FOUND(models_where(f, NULL, 0), "a,c,d");
    CHECK_FAILS(models_where("creation_timestamp > '5'", NULL, 0),
                "expected a number for 'creation_timestamp' (numbers are not quoted)");
    CHECK_FAILS(models_where("creation_timestamp LIKE '5'", NULL, 0),
                "comparator 'LIKE' is not allowed for attribute 'creation_timestamp'");

    /* order_by */
    static const char *const by_created_desc[] = {"creation_timestamp DESC"};
    CHECK_FOUND(models_where(NULL, by_created_desc, 1), "d,c,b,a");
    static const char *const by_timestamp[] = {"timestamp"};
    CHECK_FOUND(models_where(NULL, by_timestamp, 1), "a,b,c,d");
    static const char *const by_updated_desc[] = {"last_updated_timestamp DESC"};
    CHECK_FOUND(models_where(NULL, by_updated_desc, 1), "b,d,c,a");
    static const char *const by_name_desc[] = {"name DESC"};
    CHECK_FOUND(models_where(NULL, by_name_desc, 1), "d,c,b,a");
    static const char *const by_team[] = {"tags.team"};
    CHECK_FAILS(models_where(NULL, by_team, 1),
                "cannot order registered models by 'tags.team' (use name, creation_timestamp, "
                "last_updated_timestamp)");
    static const char *const by_down[] = {"name DOWN"};
    CHECK_FAILS(models_where(NULL, by_down, 1),
                "invalid order_by 'name DOWN' at character 6: expected ASC or DESC after 'name', "
                "got 'DOWN'");
    static const char *const by_version[] = {"version_number"};
    CHECK_FAILS(models_where(NULL, by_version, 1), "unknown attribute 'version_number'");

    /* bad filters name the offending token */
    CHECK_FAILS(models_where("metrics.acc > 1", NULL, 0),
                "'metrics.acc' cannot be used for registered models");
    CHECK_FAILS(models_where("version_number = 1", NULL, 0),
                "unknown attribute 'version_number' (use name, creation_timestamp, "
                "last_updated_timestamp, tags.<key>)");
    CHECK_FAILS(models_where("tags.team = vision", NULL, 0),
                "expected a quoted string for 'tags.team', got 'vision'");
    CHECK_FAILS(models_where("name = 'a' OR", NULL, 0),
                "expected an identifier such as name or tags.<key>, got ')'");
    CHECK_FAILS(models_where("name == 'a'", NULL, 0),
                "'==' is not a comparator; equality is a single '='");
    CHECK_FAILS(models_where("name =< 'a'", NULL, 0), "unexpected character after comparator");
}

/* Pages through the scoped models max at a time; returns the pages as "a,b|c,d". */
static const char *model_pages(int64_t max, const char *filter)
{
    static char out[256];
    char text[256], token[64] = "";
    snprintf(text, sizeof text, "name LIKE '%s-%%'%s%s", rs_prefix, filter ? " AND " : "",
             filter ? filter : "");
    out[0] = '\0';
    for (int pages = 0; pages < 10; pages++) {
        cairn_registered_model_query q = CAIRN_REGISTERED_MODEL_QUERY_INIT;
        q.filter = text;
        q.max_results = max;
        q.page_token = token[0] ? token : NULL;
        cairn_registered_model_page *page = NULL;
        if (cairn_registry_search_models(ctx, &q, &page) != CAIRN_OK)
            return "error";
        if (pages)
            strcat(out, "|");
        for (size_t i = 0; i < page->n; i++)
            snprintf(out + strlen(out), sizeof out - strlen(out), "%s%s", i ? "," : "",
                     short_name(page->items[i].name));
        bool more = page->next_page_token != NULL;
        if (more)
            snprintf(token, sizeof token, "%s", page->next_page_token);
        cairn_registered_model_page_free(page);
        if (!more)
            break;
    }
    return out;
}

TEST(search_models_pages_and_limits)
{
    /* the models of search_models_filter_grammar: a b c d */
    CHECK_STR(model_pages(2, NULL), "a,b|c,d"); /* no trailing empty page */
    CHECK_STR(model_pages(3, NULL), "a,b,c|d");
    CHECK_STR(model_pages(4, NULL), "a,b,c,d");
    CHECK_STR(model_pages(1, "tags.team = 'vision'"), "a|c");
    CHECK_STR(model_pages(1000, NULL), "a,b,c,d");

    cairn_registered_model_query q = CAIRN_REGISTERED_MODEL_QUERY_INIT;
    cairn_registered_model_page *page = (cairn_registered_model_page *)1;
    q.max_results = 1001;
    CHECK(cairn_registry_search_models(ctx, &q, &page) == CAIRN_EINVAL);
    CHECK(page == NULL);
    CHECK(strstr(cairn_errmsg(ctx), "max_results must be between 1 and 1000, got 1001"));
    q.max_results = -1;
    CHECK(cairn_registry_search_models(ctx, &q, &page) == CAIRN_EINVAL);
    q.max_results = 0;
    q.page_token = "garbage";
    CHECK(cairn_registry_search_models(ctx, &q, &page) == CAIRN_EINVAL);
    q.page_token = NULL;
    q.n_order_by = 1; /* order_by NULL */
    CHECK(cairn_registry_search_models(ctx, &q, &page) == CAIRN_EINVAL);

    /* the older fields still work, ANDed with the filter */
    char like[96], f[160];
    snprintf(like, sizeof like, "%s-%%", rs_prefix);
    snprintf(f, sizeof f, "name != '%s'", rs_model("a"));
    cairn_tag vision[] = {{"team", "vision"}};
    q = (cairn_registered_model_query)CAIRN_REGISTERED_MODEL_QUERY_INIT;
    q.name_like = like;
    q.tags = vision;
    q.n_tags = 1;
    q.filter = f;
    CHECK(cairn_registry_search_models(ctx, &q, &page) == CAIRN_OK);
    CHECK(page->n == 1 && strcmp(short_name(page->items[0].name), "c") == 0);
    CHECK(page->n == 1 && page->items[0].n_tags == 2);
    cairn_registered_model_page_free(page);
}

TEST(search_versions_filter_grammar)
{
    snprintf(rs_prefix, sizeof rs_prefix, "%s", fixture_name("rsv"));
    const char *x = rs_model("x"), *y = rs_model("y");
    char *run1 = new_run(), *run2 = new_run();
    CHECK(cairn_registry_create_model(ctx, x, NULL, NULL, 0) == CAIRN_OK);
    CHECK(cairn_registry_create_model(ctx, y, NULL, NULL, 0) == CAIRN_OK);
    cairn_model_version_opts o = CAIRN_MODEL_VERSION_OPTS_INIT;
    o.name = x;
    o.run_id = run1;
    o.path = "model";
    cairn_tag t1[] = {{"data", "v1"}};
    o.tags = t1;
    o.n_tags = 1;
    CHECK(cairn_model_version_create(ctx, &o, NULL) == CAIRN_OK); /* x/1, run1 */
    next_ms();
    o.run_id = run2;
    o.tags = NULL;
    o.n_tags = 0;
    CHECK(cairn_model_version_create(ctx, &o, NULL) == CAIRN_OK); /* x/2, run2 */
    next_ms();
    CHECK(add_version(x, "s3://bucket/x3", NULL) == 3); /* no run */
    next_ms();
    CHECK(add_version(x, "s3://bucket/x4", NULL) == 4);
    CHECK(cairn_model_version_delete(ctx, x, 4) == CAIRN_OK);
    next_ms();
    CHECK(add_version(y, "/srv/y1", NULL) == 1);
    CHECK(cairn_model_version_set_tag(ctx, y, 1, "mlflow.prompt.is_prompt", "true") == CAIRN_OK);
    next_ms();
    CHECK(add_version(y, "/srv/y2", NULL) == 2);
    CHECK(cairn_model_version_set_tag(ctx, y, 2, "data", "v2") == CAIRN_OK);
    CHECK(cairn_registry_set_alias(ctx, x, "champion", 2, NULL) == CAIRN_OK);
    CHECK(cairn_registry_set_alias(ctx, x, "best", 2, NULL) == CAIRN_OK);
    char f[512];

    /* natural order: name ASC, then newest version first; deleted versions never appear */
    CHECK_FOUND(versions_where(NULL, NULL, 0), "x/3,x/2,x/1,y/2,y/1");
    CHECK_FOUND(versions_where("version_number = 4", NULL, 0), "");

    /* name, version_number */
    snprintf(f, sizeof f, "name = '%s'", y);
    CHECK_FOUND(versions_where(f, NULL, 0), "y/2,y/1");
    CHECK_FOUND(versions_where("name LIKE '%-x' AND version_number >= 2", NULL, 0), "x/3,x/2");
    CHECK_FOUND(versions_where("version_number = 2", NULL, 0), "x/2,y/2");
    CHECK_FOUND(versions_where("version_number = '2'", NULL, 0), "x/2,y/2"); /* as MLflow */
    CHECK_FOUND(versions_where("version_number != 1", NULL, 0), "x/3,x/2,y/2");
    CHECK_FOUND(versions_where("version_number < 2", NULL, 0), "x/1,y/1");
    CHECK_FAILS(versions_where("version_number IN (1, 2)", NULL, 0),
                "comparator 'IN' is not allowed for attribute 'version_number' (use = != < <= > "
                ">=)");
    CHECK_FAILS(versions_where("version_number = 1.5", NULL, 0),
                "'version_number' needs a whole number, got '1.5'");
    CHECK_FAILS(versions_where("version_number = 'two'", NULL, 0),
                "'version_number' needs a whole number, got 'two'");

    /* run_id: = != LIKE IN NOT IN; "" is a version without a run */
    snprintf(f, sizeof f, "run_id = '%s'", run1);
    CHECK_FOUND(versions_where(f, NULL, 0), "x/1");
    snprintf(f, sizeof f, "run_id IN ('%s', '%s')", run1, run2);
    CHECK_FOUND(versions_where(f, NULL, 0), "x/2,x/1");
    snprintf(f, sizeof f, "run_id NOT IN ('%s')", run1);
    CHECK_FOUND(versions_where(f, NULL, 0), "x/3,x/2,y/2,y/1");
    snprintf(f, sizeof f, "run_id != '%s'", run2);
    CHECK_FOUND(versions_where(f, NULL, 0), "x/3,x/1,y/2,y/1");
    CHECK_FOUND(versions_where("run_id = ''", NULL, 0), "x/3,y/2,y/1");
    snprintf(f, sizeof f, "run_id IN ('', '%s')", run2);
    CHECK_FOUND(versions_where(f, NULL, 0), "x/3,x/2,y/2,y/1");

    /* source_path matches the source */
    CHECK_FOUND(versions_where("source_path = '/srv/y1'", NULL, 0), "y/1");
    CHECK_FOUND(versions_where("source_path LIKE 's3://%'", NULL, 0), "x/3");
    CHECK_FOUND(versions_where("source_path ILIKE 'RUNS:/%/model'", NULL, 0), "x/2,x/1");
    CHECK_FAILS(versions_where("source_path IN ('/srv/y1')", NULL, 0),
                "comparator 'IN' is not allowed for attribute 'source_path'");

    /* tags, with the prompt rule */
    CHECK_FOUND(versions_where("tags.data = 'v1' OR tag.data = 'v2'", NULL, 0), "x/1,y/2");
    CHECK_FOUND(versions_where("tags.data != 'v1'", NULL, 0), "y/2");
    CHECK_FOUND(versions_where("tags.`mlflow.prompt.is_prompt` != 'true'", NULL, 0),
                "x/3,x/2,x/1,y/2");
    CHECK_FOUND(versions_where("tags.`mlflow.prompt.is_prompt` = 'true'", NULL, 0), "y/1");

    /* timestamps */
    cairn_model_version *v2 = NULL;
    CHECK(cairn_model_version_get(ctx, x, 2, &v2) == CAIRN_OK);
    int64_t t2 = v2 ? v2->creation_time_ms : 0;
    cairn_model_version_free(v2);
    snprintf(f, sizeof f, "creation_timestamp >= %lld AND creation_timestamp < %lld", (long long)t2,
             (long long)t2 + 1);
    CHECK_FOUND(versions_where(f, NULL, 0), "x/2");
    snprintf(f, sizeof f, "last_updated_timestamp < %lld", (long long)t2);
    CHECK_FOUND(versions_where(f, NULL, 0), "x/1");

    /* order_by */
    static const char *const by_number[] = {"version_number ASC"};
    CHECK_FOUND(versions_where(NULL, by_number, 1), "x/1,y/1,x/2,y/2,x/3");
    static const char *const by_name_number[] = {"name DESC", "version_number"};
    CHECK_FOUND(versions_where(NULL, by_name_number, 2), "y/1,y/2,x/1,x/2,x/3");
    static const char *const by_created_desc[] = {"creation_timestamp DESC"};
    CHECK_FOUND(versions_where(NULL, by_created_desc, 1), "y/2,y/1,x/3,x/2,x/1");
    static const char *const by_updated[] = {"last_updated_timestamp"};
    CHECK_FOUND(versions_where(NULL, by_updated, 1), "x/1,x/2,x/3,y/1,y/2");
    static const char *const by_source[] = {"source_path DESC"};
    CHECK_FOUND(
        versions_where("source_path LIKE '/srv/%' OR source_path LIKE 's3:%'", by_source, 1),
        "x/3,y/2,y/1");
    static const char *const by_tag[] = {"tags.data"};
    CHECK_FAILS(versions_where(NULL, by_tag, 1), "cannot order model versions by 'tags.data'");

    /* bad filters */
    CHECK_FAILS(versions_where("params.lr = '1'", NULL, 0),
                "'params.lr' cannot be used for model versions");
    CHECK_FAILS(versions_where("stage = 'None'", NULL, 0), "unknown attribute 'stage'");
    CHECK_FAILS(versions_where("run_id = 'a' AND (name = 'b'", NULL, 0),
                "expected AND, OR or ')' to close the '('");
    CHECK_FAILS(versions_where("= 3", NULL, 0),
                "expected an identifier such as version_number or tags.<key>, got '='");

    /* versions carry their aliases and tags */
    cairn_model_version_query q = CAIRN_MODEL_VERSION_QUERY_INIT;
    snprintf(f, sizeof f, "name = '%s' AND version_number <= 2", x);
    q.filter = f;
    cairn_model_version_page *page = NULL;
    CHECK(cairn_model_version_search(ctx, &q, &page) == CAIRN_OK);
    CHECK(page->n == 2);
    if (page->n == 2) {
        CHECK(page->items[0].version == 2 && page->items[0].n_aliases == 2);
        if (page->items[0].n_aliases == 2) {
            CHECK_STR(page->items[0].aliases[0], "best");
            CHECK_STR(page->items[0].aliases[1], "champion");
        }
        CHECK(page->items[1].n_aliases == 0 && page->items[1].n_tags == 1);
        CHECK_STR(page->items[1].run_id, run1);
    }
    cairn_model_version_page_free(page);

    /* the older fields, ANDed with the filter */
    q = (cairn_model_version_query)CAIRN_MODEL_VERSION_QUERY_INIT;
    q.name = x;
    q.filter = "version_number > 1";
    CHECK(cairn_model_version_search(ctx, &q, &page) == CAIRN_OK);
    CHECK(page->n == 2 && page->items[0].version == 3 && page->items[1].version == 2);
    cairn_model_version_page_free(page);
    q.run_id = run2;
    CHECK(cairn_model_version_search(ctx, &q, &page) == CAIRN_OK);
    CHECK(page->n == 1 && page->items[0].version == 2);
    cairn_model_version_page_free(page);

    /* paging: a page is full only when another follows */
    char text[256], token[64] = "";
    snprintf(text, sizeof text, "name LIKE '%s-%%'", rs_prefix);
    q = (cairn_model_version_query)CAIRN_MODEL_VERSION_QUERY_INIT;
    q.filter = text;
    q.max_results = 2;
    size_t sizes[8], n_pages = 0;
    do {
        q.page_token = token[0] ? token : NULL;
        CHECK(cairn_model_version_search(ctx, &q, &page) == CAIRN_OK);
        sizes[n_pages++] = page->n;
        snprintf(token, sizeof token, "%s", page->next_page_token ? page->next_page_token : "");
        cairn_model_version_page_free(page);
    } while (token[0] && n_pages < 8);
    CHECK(n_pages == 3 && sizes[0] == 2 && sizes[1] == 2 && sizes[2] == 1);
    snprintf(f, sizeof f, "name = '%s'", y);
    q.filter = f;
    q.page_token = NULL;
    CHECK(cairn_model_version_search(ctx, &q, &page) == CAIRN_OK);
    CHECK(page->n == 2 && page->next_page_token == NULL); /* exactly full: no empty page */
    cairn_model_version_page_free(page);
    cairn_free(run1);
    cairn_free(run2);
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
          UNIT_CASE(search_models_by_name_and_tags), UNIT_CASE(search_models_filter_grammar),
          UNIT_CASE(search_models_pages_and_limits), UNIT_CASE(search_versions_filter_grammar),
          UNIT_CASE(delete_model_cascades), UNIT_CASE(two_processes_never_share_a_version),
          UNIT_CASE(faults_leave_the_registry_consistent), UNIT_CASE(close_store))
