/* SPDX-License-Identifier: MIT */
/* test_store_concurrency.c - many processes logging into one store at once lose nothing and
 * never see "database is locked"; kill -9 in the middle of logging corrupts nothing and loses
 * at most the points not yet flushed; a read-only or full store gives a clear error; a write
 * to the write-ahead log that fails (a full disk) fails its commit and corrupts nothing. */
#include <errno.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include "unit.h"
#include "store_fixture.h"

#define N_PROCS_MAX 16

static char exp_name[128];

/* One child: opens its own context, logs N_POINTS points in small flushes. */
static int child_log(int index, int write_fd, int n_points)
{
    cairn_ctx *ctx = fixture_open();
    cairn_run_opts o = CAIRN_RUN_OPTS_INIT;
    o.experiment = exp_name;
    o.flush_every = 50;
    cairn_run *run = NULL;
    if (cairn_run_start(ctx, &o, &run) != CAIRN_OK) {
        fprintf(stderr, "# child %d: start: %s\n", index, cairn_errmsg(ctx));
        return 1;
    }
    if (write(write_fd, cairn_run_id(run), 32) != 32)
        return 1;
    char key[32];
    snprintf(key, sizeof key, "p%d", index);
    if (cairn_run_log_param(run, key, "x") != CAIRN_OK) {
        fprintf(stderr, "# child %d: param: %s\n", index, cairn_errmsg(ctx));
        return 1;
    }
    for (int i = 0; i < n_points; i++) {
        if (cairn_run_log_metric(run, "loss", 1.0 / (i + 1), i) != CAIRN_OK) {
            fprintf(stderr, "# child %d: point %d: %s\n", index, i, cairn_errmsg(ctx));
            return 1;
        }
    }
    if (cairn_run_finish(run, CAIRN_RUN_FINISHED) != CAIRN_OK) {
        fprintf(stderr, "# child %d: finish: %s\n", index, cairn_errmsg(ctx));
        return 1;
    }
    cairn_run_free(run);
    cairn_close(ctx);
    return 0;
}

/* n_procs processes log n_points each into one store at once; every point arrives, in order. */
static void writers_lose_no_points(int n_procs, int n_points)
{
    snprintf(exp_name, sizeof exp_name, "%s", fixture_name("concurrent"));
    cairn_ctx *ctx = fixture_open(); /* creates the schema before the children race */
    cairn_close(ctx);
    int fds[2];
    CHECK(pipe(fds) == 0);
    pid_t pids[N_PROCS_MAX];
    for (int p = 0; p < n_procs; p++) {
        pids[p] = fork();
        if (pids[p] == 0) {
            close(fds[0]);
            _exit(child_log(p, fds[1], n_points));
        }
    }
    close(fds[1]);
    char ids[N_PROCS_MAX][33];
    int n_ids = 0;
    while (n_ids < n_procs && read(fds[0], ids[n_ids], 32) == 32)
        ids[n_ids++][32] = '\0';
    close(fds[0]);
    for (int p = 0; p < n_procs; p++) {
        int status = 0;
        waitpid(pids[p], &status, 0);
        CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
    CHECK(n_ids == n_procs);
    ctx = fixture_open();
    for (int i = 0; i < n_ids; i++) {
        cairn_metric_page *page = NULL;
        CHECK(cairn_run_metric_history(ctx, ids[i], "loss", NULL, 100000, &page) == CAIRN_OK);
        CHECK(page && page->n == (size_t)n_points);
        for (size_t k = 0; page && k < page->n; k++)
            if (page->items[k].step != (int64_t)k) {
                CHECK(page->items[k].step == (int64_t)k);
                break;
            }
        cairn_metric_page_free(page);
        cairn_run_record *rec = NULL;
        CHECK(cairn_run_get(ctx, ids[i], &rec) == CAIRN_OK);
        CHECK(rec->info.status == CAIRN_RUN_FINISHED && rec->n_params == 1);
        CHECK(rec->n_metrics == 1 && rec->metrics[0].step == n_points - 1);
        cairn_run_record_free(rec);
    }
    cairn_close(ctx);
}

TEST(eight_processes_lose_no_points)
{
    writers_lose_no_points(8, 10000);
}

/* The reliability review's case: 16 concurrent writers, on SQLite and on PostgreSQL. */
TEST(sixteen_processes_lose_no_points)
{
    writers_lose_no_points(16, 5000);
}

/* The child logs forever, reporting each flushed total on the pipe; the parent kills it. */
TEST(kill_9_loses_only_unflushed_points)
{
    if (getenv("CAIRN_TEST_PG")) {
        printf("# skip: kill -9 durability is about the SQLite file\n");
        return;
    }
    snprintf(exp_name, sizeof exp_name, "%s", fixture_name("killed"));
    int fds[2];
    CHECK(pipe(fds) == 0);
    pid_t pid = fork();
    if (pid == 0) {
        close(fds[0]);
        cairn_ctx *ctx = fixture_open();
        cairn_run_opts o = CAIRN_RUN_OPTS_INIT;
        o.experiment = exp_name;
        o.flush_every = 1000000; /* flush only when told, so we know what is durable */
        cairn_run *run = NULL;
        if (cairn_run_start(ctx, &o, &run) != CAIRN_OK)
            _exit(1);
        if (write(fds[1], cairn_run_id(run), 32) != 32)
            _exit(1);
        for (int64_t i = 0;; i++) {
            cairn_run_log_metric(run, "x", (double)i, i);
            if (i % 97 == 96) {
                if (cairn_run_flush(run) != CAIRN_OK)
                    _exit(1);
                int64_t done = i + 1;
                if (write(fds[1], &done, sizeof done) != sizeof done)
                    _exit(1);
            }
        }
    }
    close(fds[1]);
    char id[33] = {0};
    CHECK(read(fds[0], id, 32) == 32);
    int64_t flushed = 0, v;
    int reports = 0;
    while (reports < 150 && read(fds[0], &v, sizeof v) == sizeof v) {
        flushed = v;
        reports++;
    }
    kill(pid, SIGKILL);
    /* Drain what the child reported before it died: those flushes had committed. */
    while (read(fds[0], &v, sizeof v) == sizeof v)
        flushed = v;
    close(fds[0]);
    int status;
    waitpid(pid, &status, 0);
    CHECK(WIFSIGNALED(status));

    char path[400];
    snprintf(path, sizeof path, "%s/cairn.db", fixture_dir);
    sqlite3 *db = NULL;
    CHECK(sqlite3_open(path, &db) == SQLITE_OK);
    sqlite3_stmt *st = NULL;
    CHECK(sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, NULL) == SQLITE_OK);
    CHECK(sqlite3_step(st) == SQLITE_ROW);
    CHECK(strcmp((const char *)sqlite3_column_text(st, 0), "ok") == 0);
    sqlite3_finalize(st);
    sqlite3_close(db);

    cairn_ctx *ctx = fixture_open();
    cairn_metric_page *page = NULL;
    CHECK(cairn_run_metric_history(ctx, id, "x", NULL, 1000000, &page) == CAIRN_OK);
    CHECK(page && (int64_t)page->n >= flushed);
    CHECK(page && page->n % 97 == 0); /* whole flushes only: a transaction is all or nothing */
    cairn_metric_page_free(page);
    cairn_close(ctx);
}

TEST(read_only_store_is_a_clear_error)
{
    /* root ignores file permissions, so the read-only case uses a read-only open. */
    char path[400], uri[450];
    snprintf(path, sizeof path, "%s/ro.db", fixture_dir);
    snprintf(uri, sizeof uri, "sqlite://%s", path);
    cairn_ctx *ctx = NULL;
    CHECK(cairn_open(uri, NULL, &ctx) == CAIRN_OK);
    cairn_close(ctx);
    cairn_open_opts o = CAIRN_OPEN_OPTS_INIT;
    o.read_only = true;
    CHECK(cairn_open(uri, &o, &ctx) == CAIRN_OK);
    char *id = NULL;
    CHECK(cairn_experiment_create(ctx, "x", NULL, NULL, 0, &id) == CAIRN_EIO);
    CHECK(strstr(cairn_errmsg(ctx), "read-only") != NULL);
    cairn_close(ctx);
    /* Not a database at all. */
    snprintf(path, sizeof path, "%s/junk.db", fixture_dir);
    FILE *f = fopen(path, "w");
    fputs("this is not a database, just some text that is long enough to look like a header\n", f);
    fclose(f);
    snprintf(uri, sizeof uri, "sqlite://%s", path);
    CHECK(cairn_open(uri, NULL, &ctx) != CAIRN_OK);
    CHECK(strstr(cairn_errmsg(ctx), "not a cairn SQLite database") != NULL);
    cairn_close(ctx);
    CHECK(cairn_open("mysql://x", NULL, &ctx) == CAIRN_EINVAL);
    CHECK(strstr(cairn_errmsg(ctx), "unknown scheme") != NULL);
    cairn_close(ctx);
}

TEST(full_disk_is_a_clear_error)
{
    if (getenv("CAIRN_TEST_PG")) {
        printf("# skip: SQLite only\n");
        return;
    }
    /* SQLite's max_page_count makes the file "full" exactly as a full disk does (SQLITE_FULL). */
    char path[400], uri[450];
    snprintf(path, sizeof path, "%s/full.db", fixture_dir);
    snprintf(uri, sizeof uri, "sqlite://%s", path);
    /* The schema alone takes about 54 pages (migrations 004 and 005); leave room for a few
     * more. */
    setenv("CAIRN_SQLITE_MAX_PAGES", "80", 1);
    cairn_ctx *ctx = NULL;
    CHECK(cairn_open(uri, NULL, &ctx) == CAIRN_OK);
    unsetenv("CAIRN_SQLITE_MAX_PAGES");
    cairn_run *run = NULL;
    CHECK(cairn_run_start(ctx, NULL, &run) == CAIRN_OK);
    cairn_status rc = CAIRN_OK;
    for (int i = 0; i < 100000 && rc == CAIRN_OK; i++)
        rc = cairn_run_log_metric(run, "a-rather-long-metric-name-to-fill-pages", i, i);
    CHECK(rc == CAIRN_EIO);
    CHECK(strstr(cairn_errmsg(ctx), "disk is full") != NULL);
    cairn_run_free(run); /* logs the loss; must not crash */
    cairn_close(ctx);
}

/* The child of wal_write_failure_fails_the_commit: commits batches of 50 points until a write
 * fails under a file size limit; reports the run id and how many batches committed. */
static int child_until_full(const char *uri, int fd)
{
    cairn_ctx *ctx = NULL;
    if (cairn_open(uri, NULL, &ctx) != CAIRN_OK)
        return 10;
    cairn_run_opts o = CAIRN_RUN_OPTS_INIT;
    o.experiment = "full";
    char *id = NULL;
    if (cairn_runs_create(ctx, &o, &id) != CAIRN_OK)
        return 11;
    /* Files may grow 256 KiB past what they are now: the log fills up within a few dozen
     * commits (each adds frames), wherever the limit falls inside a commit. */
    signal(SIGXFSZ, SIG_IGN);
    struct stat st;
    char wal[512];
    snprintf(wal, sizeof wal, "%s-wal", uri + strlen("sqlite://"));
    off_t now = stat(wal, &st) == 0 ? st.st_size : 0;
    struct rlimit lim = {(rlim_t)now + (256 << 10), (rlim_t)now + (256 << 10)};
    if (setrlimit(RLIMIT_FSIZE, &lim) != 0)
        return 12;
    int committed = 0;
    cairn_status rc = CAIRN_OK;
    for (int b = 0; b < 100000 && rc == CAIRN_OK; b++) {
        cairn_metric m[50];
        for (int i = 0; i < 50; i++)
            m[i] = (cairn_metric){"m", b * 50 + i, 1700000000000 + b * 50 + i, b * 50 + i};
        rc = cairn_runs_log_batch(ctx, id, m, 50, NULL, 0, NULL, 0);
        if (rc == CAIRN_OK)
            committed++;
    }
    char line[128];
    int n = snprintf(line, sizeof line, "%s %d %d\n", id, committed, (int)rc);
    if (write(fd, line, (size_t)n) != n)
        return 13;
    cairn_free(id);
    cairn_close(ctx);
    return 0;
}

TEST(wal_write_failure_fails_the_commit)
{
    if (getenv("CAIRN_TEST_PG")) {
        printf("# skip: SQLite only\n");
        return;
    }
    char uri[450];
    cairn_close(fixture_open()); /* makes fixture_dir */
    snprintf(uri, sizeof uri, "sqlite://%s/walfull.db", fixture_dir);
    int p[2];
    CHECK(pipe(p) == 0);
    pid_t pid = fork();
    if (pid == 0) {
        close(p[0]);
        _exit(child_until_full(uri, p[1]));
    }
    close(p[1]);
    char buf[256] = {0};
    ssize_t got = read(p[0], buf, sizeof buf - 1);
    close(p[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    CHECK(got > 0);
    char id[64];
    int committed = -1, rc = 0;
    CHECK(sscanf(buf, "%63s %d %d", id, &committed, &rc) == 3);
    CHECK(rc == CAIRN_EIO);
    CHECK(committed > 0);
    /* Every committed batch is there, nothing of the failed one, and the file is sound. */
    cairn_ctx *ctx = NULL;
    CHECK(cairn_open(uri, NULL, &ctx) == CAIRN_OK);
    cairn_metric_page *page = NULL;
    CHECK(cairn_run_metric_history(ctx, id, "m", NULL, 0, &page) == CAIRN_OK);
    CHECK(page->n == (size_t)committed * 50);
    for (size_t i = 0; i < page->n; i++)
        CHECK(page->items[i].step == (int64_t)i && page->items[i].value == (double)i);
    cairn_metric_page_free(page);
    cairn_store_report *report = NULL;
    CHECK(cairn_store_check(ctx, uri, &report) == CAIRN_OK);
    CHECK(report->n_problems == 0);
    cairn_store_report_free(report);
    cairn_close(ctx);
}

/* A store opened with background_checkpoint leaves checkpoints to its thread, yet the log
 * stays bounded under writes that never pause (about 16 MB), far below the 50 MB written to it,
 * and everything written is there. */
TEST(background_checkpoint_keeps_the_log_small)
{
    if (getenv("CAIRN_TEST_PG")) {
        printf("# skip: SQLite only\n");
        return;
    }
    char uri[450], wal[480];
    cairn_close(fixture_open()); /* makes fixture_dir */
    snprintf(uri, sizeof uri, "sqlite://%s/bg.db", fixture_dir);
    snprintf(wal, sizeof wal, "%s/bg.db-wal", fixture_dir);
    cairn_open_opts oo = CAIRN_OPEN_OPTS_INIT;
    oo.background_checkpoint = true;
    cairn_ctx *ctx = NULL;
    CHECK(cairn_open(uri, &oo, &ctx) == CAIRN_OK);
    cairn_run_opts o = CAIRN_RUN_OPTS_INIT;
    o.experiment = "bg";
    char *id = NULL;
    CHECK(cairn_runs_create(ctx, &o, &id) == CAIRN_OK);
    static cairn_metric m[1000];
    off_t biggest = 0;
    const int batches = 1000; /* about 130 MB of log in all (32,000 pages) */
    for (int b = 0; b < batches; b++) {
        for (int i = 0; i < 1000; i++)
            m[i] = (cairn_metric){"a-metric-with-a-longer-name", b * 1000 + i,
                                  1700000000000 + b * 1000 + i, b * 1000 + i};
        CHECK(cairn_runs_log_batch(ctx, id, m, 1000, NULL, 0, NULL, 0) == CAIRN_OK);
        struct stat st;
        if (stat(wal, &st) == 0 && st.st_size > biggest)
            biggest = st.st_size;
    }
    struct stat st;
    CHECK(stat(wal, &st) == 0);
    printf("# the log grew to %lld bytes at most\n", (long long)biggest);
    /* db_sqlite.c: past 8,000 pages (31 MB) the writer checkpoints what the thread has not; it
     * may find the thread in the middle of a checkpoint, and a few more commits go in first. */
    CHECK(biggest < (off_t)48 << 20);
    cairn_metric_page *page = NULL;
    CHECK(cairn_run_metric_history(ctx, id, "a-metric-with-a-longer-name", NULL, 1000000, &page) ==
          CAIRN_OK);
    CHECK(page->n == (size_t)batches * 1000);
    cairn_metric_page_free(page);
    cairn_free(id);
    cairn_close(ctx);
}

UNIT_MAIN(UNIT_CASE(eight_processes_lose_no_points), UNIT_CASE(sixteen_processes_lose_no_points),
          UNIT_CASE(kill_9_loses_only_unflushed_points),
          UNIT_CASE(read_only_store_is_a_clear_error), UNIT_CASE(full_disk_is_a_clear_error),
          UNIT_CASE(wal_write_failure_fails_the_commit),
          UNIT_CASE(background_checkpoint_keeps_the_log_small))
