/* SPDX-License-Identifier: MIT */
/* test_store_study_budget.c - the study-wide target and the retries of failed trials
 * (hpo/study_internal.h: cn_study_ask_within, cn_study_tell_retry) on a real store (SQLite,
 * or PostgreSQL under scripts/with-pg.sh): a target reached claims nothing, a WAITING copy is
 * still claimed within it, a retried FAIL counts once, a copy keeps its params and grid point,
 * its run is tagged cairn.retry_of, retries stop at their cap, a stale trial frees its place. */
#include <unistd.h>
#include "unit.h"
#include "store_fixture.h"
#include "cairn/hpo.h"
#include "hpo/study_internal.h"

static cairn_ctx *ctx;

static const char space_x[] = "objective: {name: loss, goal: minimize}\n"
                              "parameters:\n"
                              "  x: {type: float, low: 0, high: 1}\n";

static cairn_study *open_study(const char *name, const char *space, const char *sampler,
                               int64_t heartbeat_ms)
{
    cairn_study_opts o = CAIRN_STUDY_OPTS_INIT;
    o.space_text = space;
    o.sampler = sampler;
    o.has_seed = true;
    o.seed = 11;
    o.heartbeat_interval_ms = heartbeat_ms;
    cairn_study *s = NULL;
    cairn_status rc = cairn_study_open(ctx, name, &o, &s);
    if (rc != CAIRN_OK)
        fprintf(stderr, "# open: %s\n", cairn_errmsg(ctx));
    CHECK(rc == CAIRN_OK);
    return s;
}

/* Asks within target; returns the trial's number, or -1 when full. */
static int64_t ask(cairn_study *s, int64_t target, cairn_trial *t, cn_study_budget *b)
{
    cairn_status rc = cn_study_ask_within(s, target, t, b);
    if (rc != CAIRN_OK)
        fprintf(stderr, "# ask: %s\n", cairn_errmsg(ctx));
    CHECK(rc == CAIRN_OK);
    CHECK(b->full == (t->number < 0));
    return t->number;
}

TEST(target_counts_every_trial_and_a_retried_fail_once)
{
    cairn_study *s = open_study(fixture_name("sb-target"), space_x, "random", 0);
    cairn_trial t;
    cn_study_budget b;
    for (int i = 0; i < 3; i++)
        CHECK(ask(s, 3, &t, &b) == i);
    double x0 = 0;
    const cairn_trial *all = NULL;
    size_t n = 0;
    CHECK(cairn_study_trials(s, &all, &n) == CAIRN_OK && n == 3);
    x0 = all[0].params[0];
    /* Full: three RUNNING count; nothing is claimed. */
    CHECK(ask(s, 3, &t, &b) == -1);
    CHECK(b.n_counted == 3 && b.n_running == 3);
    /* A FAIL with a retry left is queued again as trial 3, which replaces it in the count. */
    int64_t copy = -2;
    CHECK(cn_study_tell_retry(s, 0, CAIRN_TRIAL_FAIL, NAN, "exit 1", false, 1, &copy) == CAIRN_OK);
    CHECK(copy == 3);
    CHECK(ask(s, 3, &t, &b) == 3);
    CHECK(t.retry_of == 0 && t.params[0] == x0);
    cairn_run_record *rec = NULL;
    CHECK(cairn_run_get(ctx, t.run_id, &rec) == CAIRN_OK);
    CHECK_STR(fixture_tag(rec, "cairn.retry_of"), "0");
    cairn_run_record_free(rec);
    CHECK(ask(s, 3, &t, &b) == -1);
    CHECK(b.n_counted == 3);
    /* The retry fails too: its line has had 1 retry of 1, so it stays FAIL and counts. */
    CHECK(cn_study_tell_retry(s, 3, CAIRN_TRIAL_FAIL, NAN, "exit 1", false, 1, &copy) == CAIRN_OK);
    CHECK(copy == -1);
    CHECK(ask(s, 3, &t, &b) == -1);
    CHECK(b.n_counted == 3 && b.n_running == 2);
    /* A PRUNED or COMPLETE trial is never retried, whatever the cap. */
    CHECK(cn_study_tell_retry(s, 1, CAIRN_TRIAL_PRUNED, NAN, NULL, false, 5, &copy) == CAIRN_OK);
    CHECK(copy == -1);
    CHECK(cn_study_tell_retry(s, 2, CAIRN_TRIAL_COMPLETE, 0.5, NULL, false, 5, &copy) == CAIRN_OK);
    CHECK(copy == -1);
    CHECK(ask(s, 3, &t, &b) == -1);
    CHECK(b.n_counted == 3 && b.n_running == 0);
    /* A larger target claims new numbers again; no target is plain ask. */
    CHECK(ask(s, 4, &t, &b) == 4);
    CHECK(cairn_study_tell(s, 4, CAIRN_TRIAL_COMPLETE, 0.1) == CAIRN_OK);
    CHECK(ask(s, 0, &t, &b) == 5 && !b.full);
    CHECK(cairn_study_tell(s, 5, CAIRN_TRIAL_COMPLETE, 0.1) == CAIRN_OK);
    cairn_study_free(s);
}

TEST(waiting_trials_beyond_the_target_wait)
{
    cairn_study *s = open_study(fixture_name("sb-enqueue"), space_x, "random", 0);
    cairn_param p = {"x", "0.25"};
    int64_t q = -1;
    CHECK(cairn_study_enqueue(s, &p, 1, &q) == CAIRN_OK && q == 0);
    CHECK(cairn_study_enqueue(s, &p, 1, &q) == CAIRN_OK && q == 1);
    cairn_trial t;
    cn_study_budget b;
    /* Two WAITING count toward a target of 1: the first is claimed, the second waits. */
    CHECK(ask(s, 1, &t, &b) == 0);
    CHECK(cairn_study_tell(s, 0, CAIRN_TRIAL_COMPLETE, 1.0) == CAIRN_OK);
    CHECK(ask(s, 1, &t, &b) == -1);
    CHECK(b.n_counted == 2 && b.n_running == 0);
    CHECK(ask(s, 2, &t, &b) == 1 && t.params[0] == 0.25);
    CHECK(cairn_study_tell(s, 1, CAIRN_TRIAL_COMPLETE, 1.0) == CAIRN_OK);
    cairn_study_free(s);
}

TEST(a_failed_grid_point_moves_to_its_retry)
{
    static const char grid[] = "parameters:\n  a: {type: categorical, values: [1, 2]}\n";
    cairn_study *s = open_study(fixture_name("sb-grid"), grid, "grid", 0);
    cairn_trial t;
    cn_study_budget b;
    CHECK(ask(s, 0, &t, &b) == 0);
    double a0 = t.params[0];
    CHECK(ask(s, 0, &t, &b) == 1);
    int64_t copy = -2;
    CHECK(cn_study_tell_retry(s, 0, CAIRN_TRIAL_FAIL, NAN, "exit 1", false, 2, &copy) == CAIRN_OK);
    CHECK(copy == 2);
    CHECK(ask(s, 0, &t, &b) == 2 && t.params[0] == a0 && t.retry_of == 0);
    CHECK(cn_study_ask_within(s, 0, &t, &b) == CAIRN_ELIMIT);
    CHECK(cairn_study_tell(s, 1, CAIRN_TRIAL_COMPLETE, 1.0) == CAIRN_OK);
    CHECK(cairn_study_tell(s, 2, CAIRN_TRIAL_COMPLETE, 1.0) == CAIRN_OK);
    cairn_study_free(s);
}

TEST(a_stale_trial_frees_its_place_for_its_copy)
{
    const char *name = fixture_name("sb-stale");
    cairn_study *s = open_study(name, space_x, "random", 40);
    cairn_trial t;
    cn_study_budget b;
    CHECK(ask(s, 2, &t, &b) == 0);
    CHECK(ask(s, 2, &t, &b) == 1);
    CHECK(cairn_study_tell(s, 1, CAIRN_TRIAL_COMPLETE, 1.0) == CAIRN_OK);
    /* Trial 0 still runs and counts. */
    CHECK(cairn_study_heartbeat(s, 0) == CAIRN_OK);
    CHECK(ask(s, 2, &t, &b) == -1);
    CHECK(b.n_running == 1);
    /* Its worker goes silent: the ask that finds it stale claims its copy. */
    usleep(250 * 1000);
    CHECK(ask(s, 2, &t, &b) == 2 && t.retry_of == 0);
    CHECK(cairn_study_tell(s, 2, CAIRN_TRIAL_COMPLETE, 1.0) == CAIRN_OK);
    CHECK(ask(s, 2, &t, &b) == -1);
    CHECK(b.n_counted == 2 && b.n_running == 0);
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

UNIT_MAIN(UNIT_CASE(open_store), UNIT_CASE(target_counts_every_trial_and_a_retried_fail_once),
          UNIT_CASE(waiting_trials_beyond_the_target_wait),
          UNIT_CASE(a_failed_grid_point_moves_to_its_retry),
          UNIT_CASE(a_stale_trial_frees_its_place_for_its_copy), UNIT_CASE(close_store))
