/* SPDX-License-Identifier: MIT */
/* test_tracking_heartbeat.c - the run handle's timer and the heartbeat, on a real store
 * (SQLite, or PostgreSQL under scripts/with-pg.sh): points reach the store with no further
 * call, a process killed after logging keeps them, a killed run is reported KILLED (lost) and
 * stored so by the next writer, a live or freed run is never reaped. Waits are deadlines. */
#include <errno.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "unit.h"
#include "store_fixture.h"

#define DEADLINE_MS 60000 /* every wait gives up only after this */

static cairn_ctx *ctx;

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};
    nanosleep(&ts, NULL);
}

static size_t stored_points(cairn_ctx *c, const char *run_id, const char *key)
{
    cairn_metric_page *page = NULL;
    size_t n = 0;
    if (cairn_run_metric_history(c, run_id, key, NULL, 0, &page) == CAIRN_OK)
        n = page->n;
    cairn_metric_page_free(page);
    return n;
}

/* Polls a second context until run_id has n points of key; false after the deadline. */
static bool wait_points(const char *run_id, const char *key, size_t n)
{
    cairn_ctx *reader = fixture_open();
    bool ok = false;
    for (int waited = 0; !ok && waited < DEADLINE_MS; waited += 50) {
        ok = stored_points(reader, run_id, key) == n;
        if (!ok)
            sleep_ms(50);
    }
    cairn_close(reader);
    return ok;
}

TEST(timer_flushes_without_more_points)
{
    cairn_run_opts o = CAIRN_RUN_OPTS_INIT;
    o.experiment = fixture_name("timer");
    o.flush_interval_ms = 100;
    cairn_run *run = NULL;
    CHECK(cairn_run_start(ctx, &o, &run) == CAIRN_OK);
    if (!run)
        return;
    for (int i = 0; i < 5; i++)
        CHECK(cairn_run_log_metric(run, "loss", 1.0 / (i + 1), i) == CAIRN_OK);
    sleep_ms(200); /* two intervals; then poll, never call flush */
    CHECK(wait_points(cairn_run_id(run), "loss", 5));
    /* The caller's thread keeps logging while the timer writes. */
    for (int i = 5; i < 200; i++)
        CHECK(cairn_run_log_metric(run, "loss", 1.0 / (i + 1), i) == CAIRN_OK);
    CHECK(wait_points(cairn_run_id(run), "loss", 200));
    CHECK(cairn_run_finish(run, CAIRN_RUN_FINISHED) == CAIRN_OK);
    cairn_run_free(run);
}

/* Forks a child that starts a run (flush interval 100 ms), logs n_points points, sends the run
 * id down a pipe and sleeps until killed. Returns the child's pid; run_id gets the id. */
static pid_t child_run(const char *experiment, int n_points, char run_id[33])
{
    int fds[2];
    run_id[0] = '\0';
    if (pipe(fds) != 0)
        return -1;
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        close(fds[0]);
        cairn_ctx *c = fixture_open();
        cairn_run_opts o = CAIRN_RUN_OPTS_INIT;
        o.experiment = experiment;
        o.flush_interval_ms = 100;
        cairn_run *run = NULL;
        if (cairn_run_start(c, &o, &run) != CAIRN_OK)
            _exit(1); /* _exit: the fixture's atexit cleanup belongs to the parent */
        for (int i = 0; i < n_points; i++)
            if (cairn_run_log_metric(run, "loss", 0.5, i) != CAIRN_OK)
                _exit(1);
        if (write(fds[1], cairn_run_id(run), 32) != 32)
            _exit(1);
        for (;;)
            pause();
    }
    close(fds[1]);
    ssize_t got = pid > 0 ? read(fds[0], run_id, 32) : -1;
    close(fds[0]);
    run_id[got == 32 ? 32 : 0] = '\0';
    return pid;
}

static void kill_child(pid_t pid)
{
    if (pid <= 0)
        return;
    kill(pid, SIGKILL);
    int status;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
}

TEST(points_of_a_killed_process_are_stored)
{
    char run_id[33];
    pid_t pid = child_run(fixture_name("kill"), 5, run_id);
    CHECK(pid > 0 && run_id[0]);
    /* The child only sleeps now: the points reach the store on the timer, or never. */
    CHECK(wait_points(run_id, "loss", 5));
    kill_child(pid);
    CHECK(stored_points(ctx, run_id, "loss") == 5);
}

static bool reported_lost(cairn_ctx *c, const char *run_id)
{
    cairn_run_record *rec = NULL;
    bool lost = cairn_run_get(c, run_id, &rec) == CAIRN_OK &&
                rec->info.status == CAIRN_RUN_KILLED && rec->info.status_reason &&
                strcmp(rec->info.status_reason, "lost") == 0;
    cairn_run_record_free(rec);
    return lost;
}

/* The runs of experiment exp_id whose stored status is `status` (the filter reads the table). */
static size_t stored_with_status(cairn_ctx *c, const char *exp_id, const char *status)
{
    char filter[64];
    snprintf(filter, sizeof filter, "attributes.status = '%s'", status);
    cairn_run_search q = CAIRN_RUN_SEARCH_INIT;
    q.experiment_ids = &exp_id;
    q.n_experiment_ids = 1;
    q.filter = filter;
    cairn_run_page *page = NULL;
    size_t n = cairn_runs_search(c, &q, &page) == CAIRN_OK ? page->n : 999;
    cairn_run_page_free(page);
    return n;
}

TEST(killed_run_is_reported_lost_then_stored_killed)
{
    setenv("CAIRN_HEARTBEAT_S", "1", 1);
    const char *exp = fixture_name("lost");
    char run_id[33];
    pid_t pid = child_run(exp, 1, run_id);
    CHECK(pid > 0 && run_id[0]);
    CHECK(wait_points(run_id, "loss", 1));
    kill_child(pid);
    /* ctx was opened before the run existed, so no writer has reaped it: readers map it. */
    bool lost = false;
    for (int waited = 0; !lost && waited < DEADLINE_MS; waited += 100) {
        lost = reported_lost(ctx, run_id);
        if (!lost)
            sleep_ms(100);
    }
    CHECK(lost);
    cairn_run_record *rec = NULL;
    CHECK(cairn_run_get(ctx, run_id, &rec) == CAIRN_OK);
    if (!rec)
        return;
    CHECK(rec->info.end_time_ms >= rec->info.start_time_ms); /* the last heartbeat */
    CHECK_STR(fixture_tag(rec, "cairn.status_reason"), "lost");
    char *exp_id = strdup(rec->info.experiment_id);
    int64_t end_ms = rec->info.end_time_ms;
    cairn_run_record_free(rec);

    /* Search results are mapped too, while the stored status is still RUNNING. */
    cairn_run_search q = CAIRN_RUN_SEARCH_INIT;
    const char *ids[] = {exp_id};
    q.experiment_ids = ids;
    q.n_experiment_ids = 1;
    cairn_run_page *page = NULL;
    CHECK(cairn_runs_search(ctx, &q, &page) == CAIRN_OK);
    CHECK(page && page->n == 1 && page->items[0].info.status == CAIRN_RUN_KILLED);
    CHECK(page && page->n == 1 && fixture_tag(&page->items[0], "cairn.status_reason"));
    cairn_run_page_free(page);
    q.info_only = true;
    CHECK(cairn_runs_search(ctx, &q, &page) == CAIRN_OK);
    CHECK(page && page->n == 1 && page->items[0].info.status_reason);
    cairn_run_page_free(page);
    CHECK(stored_with_status(ctx, exp_id, "RUNNING") == 1);

    /* The next writer stores it. */
    cairn_ctx *writer = fixture_open();
    CHECK(stored_with_status(writer, exp_id, "KILLED") == 1);
    CHECK(stored_with_status(writer, exp_id, "RUNNING") == 0);
    CHECK(cairn_run_get(writer, run_id, &rec) == CAIRN_OK);
    CHECK(rec && rec->info.end_time_ms == end_ms);
    CHECK(rec && rec->info.status_reason && strcmp(rec->info.status_reason, "lost") == 0);
    cairn_run_record_free(rec);

    /* Set by hand, the status replaces the reason. */
    cairn_run_update u = CAIRN_RUN_UPDATE_INIT;
    u.status = CAIRN_RUN_FAILED;
    u.end_ms = end_ms;
    CHECK(cairn_runs_update(writer, run_id, &u) == CAIRN_OK);
    CHECK(cairn_run_get(writer, run_id, &rec) == CAIRN_OK);
    CHECK(rec && rec->info.status == CAIRN_RUN_FAILED && !rec->info.status_reason);
    CHECK(rec && !fixture_tag(rec, "cairn.status_reason"));
    cairn_run_record_free(rec);
    cairn_close(writer);
    free(exp_id);
    unsetenv("CAIRN_HEARTBEAT_S");
}

static cairn_run_status status_of(cairn_ctx *c, const char *run_id, bool *has_reason)
{
    cairn_run_record *rec = NULL;
    cairn_run_status st = 0;
    if (cairn_run_get(c, run_id, &rec) == CAIRN_OK) {
        st = rec->info.status;
        *has_reason = rec->info.status_reason != NULL;
    }
    cairn_run_record_free(rec);
    return st;
}

TEST(live_freed_and_id_made_runs_are_never_reaped)
{
    setenv("CAIRN_HEARTBEAT_S", "2", 1);
    cairn_run_opts o = CAIRN_RUN_OPTS_INIT;
    o.experiment = fixture_name("alive");
    cairn_run *live = NULL, *freed = NULL;
    CHECK(cairn_run_start(ctx, &o, &live) == CAIRN_OK);
    CHECK(cairn_run_start(ctx, &o, &freed) == CAIRN_OK);
    char *by_id = NULL;
    CHECK(cairn_runs_create(ctx, &o, &by_id) == CAIRN_OK);
    if (!live || !freed || !by_id)
        return;
    char freed_id[33];
    snprintf(freed_id, sizeof freed_id, "%s", cairn_run_id(freed));
    cairn_run_free(freed);
    sleep_ms(7000);                     /* more than three intervals of 2 s */
    cairn_ctx *writer = fixture_open(); /* reaps whatever is lost */
    bool has_reason = true;
    CHECK(status_of(writer, cairn_run_id(live), &has_reason) == CAIRN_RUN_RUNNING);
    CHECK(!has_reason);
    has_reason = true;
    CHECK(status_of(writer, freed_id, &has_reason) == CAIRN_RUN_RUNNING);
    CHECK(!has_reason);
    has_reason = true;
    CHECK(status_of(writer, by_id, &has_reason) == CAIRN_RUN_RUNNING);
    CHECK(!has_reason);
    cairn_close(writer);
    CHECK(cairn_run_finish(live, CAIRN_RUN_FINISHED) == CAIRN_OK);
    cairn_run_free(live);
    cairn_free(by_id);
    unsetenv("CAIRN_HEARTBEAT_S");
}

TEST(caller_driven_handle_has_no_timer)
{
    cairn_run_opts o = CAIRN_RUN_OPTS_INIT;
    o.experiment = fixture_name("manual");
    o.flush_every = 1000000;
    o.flush_interval_ms = -1;
    cairn_run *run = NULL;
    CHECK(cairn_run_start(ctx, &o, &run) == CAIRN_OK);
    if (!run)
        return;
    for (int i = 0; i < 5; i++)
        CHECK(cairn_run_log_metric(run, "x", i, i) == CAIRN_OK);
    sleep_ms(300);
    CHECK(stored_points(ctx, cairn_run_id(run), "x") == 0); /* nobody flushes but the caller */
    CHECK(cairn_run_heartbeat(run) == CAIRN_OK);            /* not due yet: a no-op */
    CHECK(cairn_run_flush(run) == CAIRN_OK);
    CHECK(stored_points(ctx, cairn_run_id(run), "x") == 5);
    CHECK(cairn_run_finish(run, CAIRN_RUN_FINISHED) == CAIRN_OK);
    cairn_run_free(run);
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

TEST(open_store)
{
    setup();
}

UNIT_MAIN(UNIT_CASE(open_store), UNIT_CASE(points_of_a_killed_process_are_stored),
          UNIT_CASE(killed_run_is_reported_lost_then_stored_killed),
          UNIT_CASE(timer_flushes_without_more_points),
          UNIT_CASE(live_freed_and_id_made_runs_are_never_reaped),
          UNIT_CASE(caller_driven_handle_has_no_timer))
