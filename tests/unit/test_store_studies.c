/* SPDX-License-Identifier: MIT */
/* test_store_studies.c - studies in the store (cairn/hpo.h "studies") on a real store (SQLite,
 * or PostgreSQL under scripts/with-pg.sh): create and resume (a different space, objective or
 * direction refused), ask and tell, trials as runs, enqueue, report and should-prune, grid
 * points claimed once, stale trials retried, 4 processes asking at once with no duplicate and
 * no lost trial, and the per-trial cost of ask + tell. */
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "unit.h"
#include "store_fixture.h"
#include "cairn/hpo.h"

static cairn_ctx *ctx;

static const char space_x[] = "objective: {name: loss, goal: minimize}\n"
                              "parameters:\n"
                              "  x: {type: float, low: 0, high: 1}\n"
                              "  opt: {type: categorical, values: [adam, sgd]}\n";

static cairn_study *open_study(const char *name, const char *space, const char *sampler,
                               const char *pruner)
{
    cairn_study_opts o = CAIRN_STUDY_OPTS_INIT;
    o.space_text = space;
    o.sampler = sampler;
    o.pruner = pruner;
    o.has_seed = true;
    o.seed = 7;
    cairn_study *s = NULL;
    cairn_status rc = cairn_study_open(ctx, name, &o, &s);
    if (rc != CAIRN_OK)
        fprintf(stderr, "# open: %s\n", cairn_errmsg(ctx));
    CHECK(rc == CAIRN_OK);
    return s;
}

static double f(const cairn_trial *t)
{
    return (t->params[0] - 0.3) * (t->params[0] - 0.3) + (t->params[1] == 1 ? 0.1 : 0);
}

TEST(ask_tell_best_and_runs)
{
    const char *name = fixture_name("st-basic");
    cairn_study *s = open_study(name, space_x, "random", NULL);
    CHECK(cairn_study_was_created(s));
    double best = INFINITY;
    for (int i = 0; i < 20; i++) {
        cairn_trial t;
        CHECK(cairn_study_ask(s, &t) == CAIRN_OK);
        CHECK(t.number == i);
        CHECK(t.state == CAIRN_TRIAL_RUNNING);
        CHECK(t.params[0] >= 0 && t.params[0] < 1);
        double v = f(&t);
        if (v < best)
            best = v;
        CHECK(cairn_study_tell(s, t.number, CAIRN_TRIAL_COMPLETE, v) == CAIRN_OK);
    }
    cairn_trial b;
    CHECK(cairn_study_best(s, &b) == CAIRN_OK);
    CHECK(b.value == best);
    /* Telling twice is refused and says why. */
    CHECK(cairn_study_tell(s, b.number, CAIRN_TRIAL_COMPLETE, 0) == CAIRN_EINVAL);
    CHECK(strstr(cairn_errmsg(ctx), "COMPLETE, not RUNNING") != NULL);
    /* The trial is a run with its params, tags, metric and status. */
    cairn_run_record *rec = NULL;
    CHECK(cairn_run_get(ctx, b.run_id, &rec) == CAIRN_OK);
    CHECK(rec->info.status == CAIRN_RUN_FINISHED);
    CHECK_STR(fixture_tag(rec, "cairn.study"), name);
    CHECK(fixture_tag(rec, "cairn.trial") != NULL);
    CHECK(rec->n_params == 2);
    CHECK(rec->n_metrics == 1 && strcmp(rec->metrics[0].key, "loss") == 0 &&
          rec->metrics[0].value == best);
    cairn_run_record_free(rec);
    const cairn_trial *all = NULL;
    size_t n = 0;
    CHECK(cairn_study_trials(s, &all, &n) == CAIRN_OK);
    CHECK(n == 20);
    for (size_t i = 0; i < n; i++)
        CHECK(all[i].number == (int64_t)i && all[i].state == CAIRN_TRIAL_COMPLETE);
    cairn_study_free(s);

    /* A second handle sees the same study; the list counts it. */
    s = open_study(name, space_x, NULL, NULL);
    CHECK(!cairn_study_was_created(s));
    CHECK_STR(cairn_study_sampler_spec(s), "random");
    CHECK(cairn_study_best(s, &b) == CAIRN_OK && b.value == best);
    cairn_study_free(s);
    cairn_study_list *list = NULL;
    CHECK(cairn_studies_list(ctx, &list) == CAIRN_OK);
    bool seen = false;
    for (size_t i = 0; i < list->n; i++)
        if (strcmp(list->items[i].name, name) == 0) {
            seen = true;
            CHECK(list->items[i].n_trials == 20 && list->items[i].n_complete == 20);
            CHECK(list->items[i].has_best && list->items[i].best_value == best);
        }
    CHECK(seen);
    cairn_study_list_free(list);
    CHECK(cairn_study_delete(ctx, name) == CAIRN_OK);
    CHECK(cairn_study_delete(ctx, name) == CAIRN_ENOTFOUND);
}

TEST(resume_refuses_a_different_space_or_direction)
{
    const char *name = fixture_name("st-resume");
    cairn_study *s = open_study(name, space_x, "random", NULL);
    cairn_trial t;
    CHECK(cairn_study_ask(s, &t) == CAIRN_OK);
    CHECK(cairn_study_tell(s, t.number, CAIRN_TRIAL_COMPLETE, 1.0) == CAIRN_OK);
    cairn_study_free(s);

    cairn_study_opts o = CAIRN_STUDY_OPTS_INIT;
    o.space_text = "parameters:\n  x: {type: float, low: 0, high: 2}\n";
    s = NULL;
    CHECK(cairn_study_open(ctx, name, &o, &s) == CAIRN_EINVAL && s == NULL);
    CHECK(strstr(cairn_errmsg(ctx), "different search space") != NULL);
    o.space_text = space_x;
    o.direction = CAIRN_DIRECTION_MAXIMIZE;
    CHECK(cairn_study_open(ctx, name, &o, &s) == CAIRN_EINVAL);
    CHECK(strstr(cairn_errmsg(ctx), "direction minimize, not maximize") != NULL);
    o.direction = CAIRN_DIRECTION_DEFAULT;
    o.objective = "acc";
    CHECK(cairn_study_open(ctx, name, &o, &s) == CAIRN_EINVAL);
    CHECK(strstr(cairn_errmsg(ctx), "objective 'loss', not 'acc'") != NULL);
    /* Nothing was lost. */
    o.objective = NULL;
    CHECK(cairn_study_open(ctx, name, &o, &s) == CAIRN_OK);
    const cairn_trial *all = NULL;
    size_t n = 0;
    CHECK(cairn_study_trials(s, &all, &n) == CAIRN_OK && n == 1);
    cairn_study_free(s);
    /* Bad specs and missing studies. */
    cairn_study_opts bad = CAIRN_STUDY_OPTS_INIT;
    bad.space_text = space_x;
    bad.sampler = "nope";
    CHECK(cairn_study_open(ctx, fixture_name("st-bad"), &bad, &s) == CAIRN_EINVAL);
    CHECK(strstr(cairn_errmsg(ctx), "unknown sampler") != NULL);
    cairn_study_opts must = CAIRN_STUDY_OPTS_INIT;
    must.must_exist = true;
    CHECK(cairn_study_open(ctx, fixture_name("st-none"), &must, &s) == CAIRN_ENOTFOUND);
    cairn_study_list *list = NULL;
    CHECK(cairn_studies_list(ctx, &list) == CAIRN_OK);
    for (size_t i = 0; i < list->n; i++)
        CHECK(strncmp(list->items[i].name, "st-bad", 6) != 0);
    cairn_study_list_free(list);
}

TEST(enqueue_is_asked_first)
{
    cairn_study *s = open_study(fixture_name("st-enq"), space_x, "random", NULL);
    cairn_param p[] = {{"x", "0.5"}, {"opt", "sgd"}};
    int64_t number = -1;
    CHECK(cairn_study_enqueue(s, p, 2, &number) == CAIRN_OK && number == 0);
    cairn_param only[] = {{"x", "0.25"}};
    CHECK(cairn_study_enqueue(s, only, 1, &number) == CAIRN_OK && number == 1);
    cairn_param bad[] = {{"y", "1"}};
    CHECK(cairn_study_enqueue(s, bad, 1, NULL) == CAIRN_EINVAL);
    cairn_trial t;
    CHECK(cairn_study_ask(s, &t) == CAIRN_OK);
    CHECK(t.number == 0 && t.params[0] == 0.5 && t.params[1] == 1);
    CHECK(cairn_study_ask(s, &t) == CAIRN_OK);
    CHECK(t.number == 1 && t.params[0] == 0.25 && (t.params[1] == 0 || t.params[1] == 1));
    CHECK(cairn_study_ask(s, &t) == CAIRN_OK && t.number == 2);
    cairn_study_free(s);
}

TEST(report_and_median_pruning)
{
    cairn_study *s =
        open_study(fixture_name("st-prune"), space_x, "random", "median:n_startup_trials=2");
    cairn_trial t;
    for (int i = 0; i < 3; i++) {
        CHECK(cairn_study_ask(s, &t) == CAIRN_OK);
        for (int step = 0; step < 5; step++) {
            CHECK(cairn_study_report(s, t.number, step, 1.0 - 0.1 * step) == CAIRN_OK);
            bool prune = true;
            CHECK(cairn_study_should_prune(s, t.number, &prune) == CAIRN_OK);
            CHECK(!prune);
        }
        CHECK(cairn_study_tell(s, t.number, CAIRN_TRIAL_COMPLETE, 0.6) == CAIRN_OK);
    }
    CHECK(cairn_study_ask(s, &t) == CAIRN_OK);
    CHECK(cairn_study_report(s, t.number, 0, 5.0) == CAIRN_OK);
    bool prune = false;
    CHECK(cairn_study_should_prune(s, t.number, &prune) == CAIRN_OK);
    CHECK(prune);
    CHECK(cairn_study_tell(s, t.number, CAIRN_TRIAL_PRUNED, 0) == CAIRN_OK);
    cairn_run_record *rec = NULL;
    CHECK(cairn_run_get(ctx, t.run_id, &rec) == CAIRN_OK);
    CHECK(rec->info.status == CAIRN_RUN_KILLED);
    CHECK_STR(fixture_tag(rec, "cairn.trial_state"), "PRUNED");
    cairn_run_record_free(rec);
    /* The values are stored: a fresh handle reads them. */
    cairn_study *again = open_study(cairn_study_name(s), space_x, NULL, NULL);
    const cairn_trial *all = NULL;
    size_t n = 0;
    CHECK(cairn_study_trials(again, &all, &n) == CAIRN_OK && n == 4);
    CHECK(all[0].n_steps == 5 && all[0].steps[4] == 4 && fabs(all[0].values[4] - 0.6) < 1e-12);
    CHECK(all[3].state == CAIRN_TRIAL_PRUNED && all[3].n_steps == 1);
    cairn_study_free(again);
    cairn_study_free(s);
}

TEST(grid_points_are_claimed_once)
{
    static const char grid[] = "parameters:\n  a: {type: categorical, values: [1, 2, 3]}\n";
    cairn_study *s = open_study(fixture_name("st-grid"), grid, "grid", NULL);
    bool seen[3] = {false, false, false};
    cairn_trial t;
    for (int i = 0; i < 3; i++) {
        CHECK(cairn_study_ask(s, &t) == CAIRN_OK);
        int k = (int)t.params[0];
        CHECK(k >= 0 && k < 3 && !seen[k]);
        seen[k] = true;
    }
    CHECK(cairn_study_ask(s, &t) == CAIRN_ELIMIT);
    cairn_study_free(s);
}

TEST(stale_trials_are_retried)
{
    const char *name = fixture_name("st-stale");
    cairn_study_opts o = CAIRN_STUDY_OPTS_INIT;
    o.space_text = space_x;
    o.sampler = "random";
    o.heartbeat_interval_ms = 40;
    cairn_study *s = NULL;
    CHECK(cairn_study_open(ctx, name, &o, &s) == CAIRN_OK);
    cairn_trial t;
    CHECK(cairn_study_ask(s, &t) == CAIRN_OK && t.number == 0);
    double x0 = t.params[0];
    char run0[33];
    snprintf(run0, sizeof run0, "%s", t.run_id);
    /* A live trial keeps its claim. */
    for (int i = 0; i < 4; i++) {
        usleep(40 * 1000);
        CHECK(cairn_study_heartbeat(s, 0) == CAIRN_OK);
    }
    cairn_study *other = NULL;
    CHECK(cairn_study_open(ctx, name, &o, &other) == CAIRN_OK);
    cairn_trial u;
    CHECK(cairn_study_ask(other, &u) == CAIRN_OK && u.number == 1 && u.retry_of == -1);
    CHECK(cairn_study_tell(other, 1, CAIRN_TRIAL_COMPLETE, 2.0) == CAIRN_OK);
    /* Its worker goes silent: the next ask stores it STALE and retries its params. */
    usleep(250 * 1000);
    CHECK(cairn_study_ask(other, &u) == CAIRN_OK);
    CHECK(u.number == 2 && u.retry_of == 0 && u.params[0] == x0);
    CHECK(cairn_study_tell(s, 0, CAIRN_TRIAL_COMPLETE, 1.0) == CAIRN_EINVAL);
    CHECK(strstr(cairn_errmsg(ctx), "STALE") != NULL);
    cairn_run_record *rec = NULL;
    CHECK(cairn_run_get(ctx, run0, &rec) == CAIRN_OK);
    CHECK(rec->info.status == CAIRN_RUN_KILLED);
    CHECK_STR(fixture_tag(rec, "cairn.trial_state"), "STALE");
    cairn_run_record_free(rec);
    CHECK(cairn_study_tell(other, 2, CAIRN_TRIAL_COMPLETE, 1.0) == CAIRN_OK);
    const cairn_trial *all = NULL;
    size_t n = 0;
    CHECK(cairn_study_trials(other, &all, &n) == CAIRN_OK && n == 3);
    CHECK(all[0].state == CAIRN_TRIAL_STALE && all[2].state == CAIRN_TRIAL_COMPLETE);
    cairn_study_free(other);
    cairn_study_free(s);
}

/* 4 processes ask and tell 25 trials each on one grid of 100 points. */
TEST(four_processes_no_duplicate_no_loss)
{
    static const char grid[] = "parameters:\n  a: {type: int, low: 0, high: 99}\n";
    const char *name = fixture_name("st-conc");
    cairn_study *s = open_study(name, grid, "grid", NULL);
    cairn_study_free(s);
    pid_t pids[4];
    for (int w = 0; w < 4; w++) {
        pids[w] = fork();
        if (pids[w] == 0) {
            cairn_ctx *c = fixture_open();
            cairn_study_opts o = CAIRN_STUDY_OPTS_INIT;
            o.must_exist = true;
            cairn_study *ws = NULL;
            int bad = cairn_study_open(c, name, &o, &ws) != CAIRN_OK;
            for (int i = 0; !bad && i < 25; i++) {
                cairn_trial t;
                if (cairn_study_ask(ws, &t) != CAIRN_OK ||
                    cairn_study_tell(ws, t.number, CAIRN_TRIAL_COMPLETE, t.params[0]) != CAIRN_OK) {
                    fprintf(stderr, "# worker %d: %s\n", w, cairn_errmsg(c));
                    bad = 1;
                }
            }
            cairn_study_free(ws);
            cairn_close(c);
            _exit(bad);
        }
    }
    for (int w = 0; w < 4; w++) {
        int status = 0;
        CHECK(waitpid(pids[w], &status, 0) == pids[w]);
        CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
    s = open_study(name, grid, NULL, NULL);
    const cairn_trial *all = NULL;
    size_t n = 0;
    CHECK(cairn_study_trials(s, &all, &n) == CAIRN_OK);
    CHECK(n == 100);
    bool seen[100] = {false};
    for (size_t i = 0; i < n; i++) {
        CHECK(all[i].number == (int64_t)i && all[i].state == CAIRN_TRIAL_COMPLETE);
        int a = (int)all[i].params[0];
        CHECK(a >= 0 && a < 100 && !seen[a]);
        seen[a] = true;
    }
    cairn_trial t;
    CHECK(cairn_study_ask(s, &t) == CAIRN_ELIMIT);
    cairn_study_free(s);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* What ask + tell cost on the store as the study grows (reported; a loose bound checked). */
TEST(per_trial_cost)
{
    cairn_study *s = open_study(fixture_name("st-cost"), space_x, "random", NULL);
    double t0 = now_s(), at100 = 0;
    int n = 1000;
    for (int i = 0; i < n; i++) {
        cairn_trial t;
        if (cairn_study_ask(s, &t) != CAIRN_OK ||
            cairn_study_tell(s, t.number, CAIRN_TRIAL_COMPLETE, f(&t)) != CAIRN_OK) {
            CHECK(0);
            break;
        }
        if (i == 99)
            at100 = now_s();
    }
    double per_first = (at100 - t0) / 100 * 1e3, per_all = (now_s() - t0) / n * 1e3;
    printf("# ask+tell on %s: %.3f ms per trial over the first 100, %.3f ms over %d\n",
           getenv("CAIRN_TEST_PG") ? "PostgreSQL" : "SQLite", per_first, per_all, n);
    /* Printed, not asserted: speed is the benchmark's to judge (the goal, < 1 ms on SQLite, is
     * in docs/hpo.md); what this case checks is that 1,000 asks and tells all succeed. */
    const cairn_trial *trials = NULL;
    size_t n_trials = 0;
    CHECK(cairn_study_trials(s, &trials, &n_trials) == CAIRN_OK);
    CHECK(n_trials == (size_t)n);
    cairn_study_free(s);
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
}

UNIT_MAIN(UNIT_CASE(open_store), UNIT_CASE(ask_tell_best_and_runs),
          UNIT_CASE(resume_refuses_a_different_space_or_direction),
          UNIT_CASE(enqueue_is_asked_first), UNIT_CASE(report_and_median_pruning),
          UNIT_CASE(grid_points_are_claimed_once), UNIT_CASE(stale_trials_are_retried),
          UNIT_CASE(four_processes_no_duplicate_no_loss), UNIT_CASE(per_trial_cost),
          UNIT_CASE(close_store))
