/* SPDX-License-Identifier: MIT */
/* run.c - the run handle a training loop holds: start or attach, buffered metric logging
 * (flushed by count, by age on a timer thread, or on demand), the heartbeat, params, tags,
 * artifacts, inputs and the end. Policy only (validate, buffer, flush): every write goes
 * through runs.c's by-id functions or the store's operations table. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "core/core.h"
#include "core/key.h"
#include "store/store_rest.h"
#include "tracking/runs.h"
#include "base/arena.h"
#include "base/fs.h"
#include "base/map.h"
#include "base/sha256.h"
#include "base/str.h"
#include "base/time.h"
#include "base/xmalloc.h"
#include "base/banned.h"

struct cairn_run {
    cairn_ctx *ctx; /* the caller's: only the caller's thread uses it */
    char run_id[33];
    char *experiment_id;
    char *artifact_dir;
    int flush_every;
    int64_t flush_interval_ns; /* INT64_MAX: the caller flushes (no timer) */
    int64_t heartbeat_ns;      /* 0: this handle writes no heartbeat (attach) */
    /* A remote store's run: artifact_dir is a local staging folder, each file there is sent to
     * the server when recorded, and the folder is removed when the handle is freed if every
     * file in it reached the server (sent: path -> 1 when its last sending succeeded, 0 when
     * it failed); otherwise it stays, and the log says where and why. */
    bool staged;
    cn_map sent;
    cn_arena *sent_mem; /* the map's keys */

    /* Everything below is shared with the timer thread and guarded by lock. */
    pthread_mutex_t lock;
    /* Buffered metric points; keys live in keys_mem until the flush that writes them. */
    cairn_metric *buffer;
    size_t n_buffer, cap_buffer;
    cn_arena *keys_mem;
    int64_t oldest_ns;    /* when the oldest buffered point arrived (or a failed flush) */
    int64_t last_beat_ns; /* when the heartbeat was last written (or tried) */
    bool is_ended;        /* a terminal status was set here: no more heartbeats */

    /* The timer: a thread with its own connection, so ctx stays single-threaded. */
    cairn_ctx *timer_ctx; /* NULL: no timer */
    pthread_t timer;
    pthread_cond_t wake; /* on CLOCK_MONOTONIC */
    bool is_stopping;
    bool timer_tried; /* an attached handle tries to start its timer once */
};

/* The heartbeat interval of runs started now: $CAIRN_HEARTBEAT_S seconds. */
static int64_t heartbeat_interval_ms(cairn_ctx *ctx)
{
    const char *env = getenv("CAIRN_HEARTBEAT_S");
    int64_t s = CAIRN_HEARTBEAT_DEFAULT_S;
    if (env && *env && (!cn_parse_int64(env, &s) || s < 1 || s > 86400)) {
        cn_log(ctx, CAIRN_LOG_WARN, "tracking",
               "ignoring CAIRN_HEARTBEAT_S='%.20s': use whole seconds from 1 to 86400", env);
        s = CAIRN_HEARTBEAT_DEFAULT_S;
    }
    return s * 1000;
}

static cairn_run *run_new(cairn_ctx *ctx, const char *run_id, const char *experiment_id,
                          const char *artifact_dir, int flush_every, int flush_interval_ms)
{
    cairn_run *run = cn_xcalloc(1, sizeof *run);
    run->ctx = ctx;
    cn_strlcpy(run->run_id, run_id, sizeof run->run_id);
    run->experiment_id = cn_xstrdup(experiment_id);
    run->artifact_dir = cn_xstrdup(artifact_dir);
    run->staged = ctx->store && ctx->store->ops == &cn_store_rest_ops;
    run->sent_mem = cn_arena_new();
    run->keys_mem = cn_arena_new();
    run->flush_every = flush_every > 0 ? flush_every : 1000;
    run->flush_interval_ns = flush_interval_ms < 0   ? INT64_MAX
                             : flush_interval_ms > 0 ? (int64_t)flush_interval_ms * 1000000
                                                     : (int64_t)1000 * 1000000;
    CN_ASSERT(pthread_mutex_init(&run->lock, NULL) == 0);
    pthread_condattr_t attr;
    CN_ASSERT(pthread_condattr_init(&attr) == 0);
    CN_ASSERT(pthread_condattr_setclock(&attr, CLOCK_MONOTONIC) == 0);
    CN_ASSERT(pthread_cond_init(&run->wake, &attr) == 0);
    pthread_condattr_destroy(&attr);
    return run;
}

/* Writes the buffered points through use_ctx (the caller's or the timer's); lock held. */
static cairn_status flush_locked(cairn_run *run, cairn_ctx *use_ctx)
{
    if (run->n_buffer == 0)
        return CAIRN_OK;
    cairn_status rc =
        cairn_runs_log_batch(use_ctx, run->run_id, run->buffer, run->n_buffer, NULL, 0, NULL, 0);
    if (rc != CAIRN_OK)
        return rc; /* the points stay buffered for the next attempt */
    run->n_buffer = 0;
    cn_arena_free(run->keys_mem);
    run->keys_mem = cn_arena_new();
    return CAIRN_OK;
}

/* Writes the heartbeat through use_ctx; lock held. */
static cairn_status beat_locked(cairn_run *run, cairn_ctx *use_ctx)
{
    run->last_beat_ns = cn_mono_ns();
    cairn_status rc = cn_need_store(use_ctx);
    if (rc != CAIRN_OK)
        return rc;
    return CN_STORE_OPS(use_ctx)->run_heartbeat(use_ctx, run->run_id, cn_now_ms(),
                                                run->heartbeat_ns / 1000000);
}

/* When the timer has work next (monotonic ns; INT64_MAX: none); lock held. */
static int64_t timer_due_ns(const cairn_run *run)
{
    int64_t due = INT64_MAX;
    if (run->n_buffer && run->flush_interval_ns != INT64_MAX)
        due = run->oldest_ns + run->flush_interval_ns;
    if (run->heartbeat_ns && !run->is_ended && run->last_beat_ns + run->heartbeat_ns < due)
        due = run->last_beat_ns + run->heartbeat_ns;
    return due;
}

/* The timer thread: sleeps until the oldest point or the heartbeat is due, writes it through
 * its own connection, and leaves failed points buffered (retried an interval later). */
static void *timer_main(void *arg)
{
    cairn_run *run = arg;
    pthread_mutex_lock(&run->lock);
    while (!run->is_stopping) {
        int64_t now = cn_mono_ns(), due = timer_due_ns(run);
        if (due > now) {
            /* Wake at least once a minute: a lost signal costs a minute, never a hang. */
            int64_t wait =
                due - now < (int64_t)60 * 1000000000 ? due - now : (int64_t)60 * 1000000000;
            struct timespec ts;
            clock_gettime(CLOCK_MONOTONIC, &ts);
            int64_t at = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec + wait;
            ts.tv_sec = (time_t)(at / 1000000000);
            ts.tv_nsec = (long)(at % 1000000000);
            pthread_cond_timedwait(&run->wake, &run->lock, &ts);
            continue;
        }
        if (run->n_buffer && now - run->oldest_ns >= run->flush_interval_ns &&
            flush_locked(run, run->timer_ctx) != CAIRN_OK)
            run->oldest_ns = now;
        if (run->heartbeat_ns && !run->is_ended && now - run->last_beat_ns >= run->heartbeat_ns)
            beat_locked(run, run->timer_ctx); /* a failure waits for the next interval */
    }
    pthread_mutex_unlock(&run->lock);
    return NULL;
}

/* Opens the timer's own connection to the ctx's store and starts the timer thread with every
 * signal blocked (signals stay with the caller's threads). Without it the handle still works,
 * flushing as points arrive, so a failure here is a warning. */
static void timer_start(cairn_run *run)
{
    cairn_open_opts o = CAIRN_OPEN_OPTS_INIT;
    o.artifact_root = run->ctx->artifact_root;
    cairn_ctx *tctx = NULL;
    if (cairn_open(run->ctx->uri, &o, &tctx) != CAIRN_OK) {
        cn_log(run->ctx, CAIRN_LOG_WARN, "tracking",
               "run %s: no flush timer, points wait for the next one: %s", run->run_id,
               cairn_errmsg(tctx));
        cairn_close(tctx);
        return;
    }
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    run->timer_ctx = tctx;
    int err = pthread_create(&run->timer, NULL, timer_main, run);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (err != 0) {
        run->timer_ctx = NULL;
        cairn_close(tctx);
        cn_log(run->ctx, CAIRN_LOG_WARN, "tracking", "run %s: no flush timer: %s", run->run_id,
               strerror(err));
    }
}

static void timer_stop(cairn_run *run)
{
    if (!run->timer_ctx)
        return;
    pthread_mutex_lock(&run->lock);
    run->is_stopping = true;
    pthread_cond_signal(&run->wake);
    pthread_mutex_unlock(&run->lock);
    pthread_join(run->timer, NULL);
    cairn_close(run->timer_ctx);
    run->timer_ctx = NULL;
}

cairn_status cairn_run_start(cairn_ctx *ctx, const cairn_run_opts *opts, cairn_run **out)
{
    static const cairn_run_opts defaults = CAIRN_RUN_OPTS_INIT;
    cn_run_row row;
    *out = NULL;
    if (!opts)
        opts = &defaults;
    int64_t beat_ms = heartbeat_interval_ms(ctx);
    cairn_status rc = cn_runs_create(ctx, opts, beat_ms, &row);
    if (rc == CAIRN_OK) {
        cairn_run *run = run_new(ctx, row.run_id, row.experiment_id, row.artifact_dir,
                                 opts->flush_every, opts->flush_interval_ms);
        run->heartbeat_ns = beat_ms * 1000000;
        run->last_beat_ns = cn_mono_ns(); /* the store wrote the first beat with the run */
        run->timer_tried = true;
        if (opts->flush_interval_ms >= 0)
            timer_start(run);
        *out = run;
    }
    cn_run_row_release(&row);
    return rc;
}

cairn_status cairn_run_attach(cairn_ctx *ctx, const char *run_id, cairn_run **out)
{
    cn_run_row row;
    *out = NULL;
    cairn_status rc = cn_need_store(ctx);
    if (rc != CAIRN_OK)
        return rc;
    rc = CN_STORE_OPS(ctx)->run_lookup(ctx, run_id, &row);
    if (rc != CAIRN_OK)
        return rc;
    if (row.is_deleted) {
        cn_run_row_release(&row);
        return cn_fail(ctx, CAIRN_EINVAL, "run '%s' is deleted; restore it before logging to it",
                       run_id);
    }
    /* The timer starts with the first buffered point: a handle that only records artifacts
     * never opens a second connection. */
    *out = run_new(ctx, run_id, row.experiment_id, row.artifact_dir, 0, 0);
    cn_run_row_release(&row);
    return CAIRN_OK;
}

const char *cairn_run_id(const cairn_run *run)
{
    return run->run_id;
}

const char *cairn_run_experiment_id(const cairn_run *run)
{
    return run->experiment_id;
}

const char *cairn_run_artifact_dir(const cairn_run *run)
{
    return run->artifact_dir;
}

cairn_ctx *cairn_run_ctx(const cairn_run *run)
{
    return run->ctx;
}

cairn_status cairn_run_flush(cairn_run *run)
{
    pthread_mutex_lock(&run->lock);
    cairn_status rc = flush_locked(run, run->ctx);
    pthread_mutex_unlock(&run->lock);
    return rc;
}

cairn_status cairn_run_heartbeat(cairn_run *run)
{
    cairn_status rc = CAIRN_OK;
    pthread_mutex_lock(&run->lock);
    if (run->heartbeat_ns && !run->is_ended &&
        cn_mono_ns() - run->last_beat_ns >= run->heartbeat_ns)
        rc = beat_locked(run, run->ctx);
    pthread_mutex_unlock(&run->lock);
    return rc;
}

/* Interns keys so a loop logging the same few keys does not copy them each time. */
static const char *intern_key(cairn_run *run, const char *key)
{
    for (size_t i = run->n_buffer; i > 0 && i + 64 > run->n_buffer; i--)
        if (strcmp(run->buffer[i - 1].key, key) == 0)
            return run->buffer[i - 1].key;
    return cn_arena_strdup(run->keys_mem, key);
}

/* Appends validated points to the buffer; lock held. */
static void buffer_points(cairn_run *run, const cairn_metric *points, size_t n)
{
    int64_t now = cn_now_ms();
    if (run->n_buffer == 0 && n > 0) {
        run->oldest_ns = cn_mono_ns();
        if (run->timer_ctx)
            pthread_cond_signal(&run->wake); /* the timer may sleep until a heartbeat */
    }
    for (size_t i = 0; i < n; i++) {
        if (run->n_buffer == run->cap_buffer) {
            run->cap_buffer = run->cap_buffer ? run->cap_buffer * 2 : 256;
            run->buffer = cn_xrealloc(run->buffer, run->cap_buffer * sizeof *run->buffer);
        }
        const char *key = intern_key(run, points[i].key);
        cairn_metric *m = &run->buffer[run->n_buffer++];
        m->key = key;
        m->value = points[i].value;
        m->step = points[i].step;
        m->timestamp_ms = points[i].timestamp_ms ? points[i].timestamp_ms : now;
    }
}

cairn_status cairn_run_log_metrics(cairn_run *run, const cairn_metric *points, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        cairn_status rc = cn_key_check(run->ctx, "metric", points[i].key);
        if (rc != CAIRN_OK)
            return rc;
        if (points[i].timestamp_ms < 0)
            return cn_fail(run->ctx, CAIRN_EINVAL, "metric '%s': negative timestamp",
                           points[i].key);
    }
    /* An attached handle starts its timer with its first point. */
    if (n && !run->timer_tried && run->flush_interval_ns != INT64_MAX) {
        run->timer_tried = true;
        timer_start(run);
    }
    cairn_status rc = CAIRN_OK;
    pthread_mutex_lock(&run->lock);
    buffer_points(run, points, n);
    if (run->n_buffer >= (size_t)run->flush_every ||
        (run->n_buffer && cn_mono_ns() - run->oldest_ns >= run->flush_interval_ns))
        rc = flush_locked(run, run->ctx);
    pthread_mutex_unlock(&run->lock);
    return rc;
}
cairn_status cairn_run_log_metric(cairn_run *run, const char *key, double value, int64_t step)
{
    cairn_metric m = {key, value, 0, step};
    return cairn_run_log_metrics(run, &m, 1);
}

cairn_status cairn_run_log_param(cairn_run *run, const char *key, const char *value)
{
    cairn_param p = {key, value};
    return cairn_runs_log_batch(run->ctx, run->run_id, NULL, 0, &p, 1, NULL, 0);
}

cairn_status cairn_run_set_tag(cairn_run *run, const char *key, const char *value)
{
    return cairn_runs_set_tag(run->ctx, run->run_id, key, value);
}

cairn_status cairn_run_delete_tag(cairn_run *run, const char *key)
{
    return cairn_runs_delete_tag(run->ctx, run->run_id, key);
}

cairn_status cairn_run_log_batch(cairn_run *run, const cairn_metric *metrics, size_t n_metrics,
                                 const cairn_param *params, size_t n_params, const cairn_tag *tags,
                                 size_t n_tags)
{
    /* Buffered points go first so the store sees points in the order they were logged; the
     * lock keeps the timer from writing in between. */
    pthread_mutex_lock(&run->lock);
    cairn_status rc = flush_locked(run, run->ctx);
    if (rc == CAIRN_OK)
        rc = cairn_runs_log_batch(run->ctx, run->run_id, metrics, n_metrics, params, n_params, tags,
                                  n_tags);
    pthread_mutex_unlock(&run->lock);
    return rc;
}

cairn_status cairn_run_set_name(cairn_run *run, const char *name)
{
    if (!name || !*name)
        return cn_fail(run->ctx, CAIRN_EINVAL, "run name is empty");
    cairn_run_update u = CAIRN_RUN_UPDATE_INIT;
    u.name = name;
    return cairn_runs_update(run->ctx, run->run_id, &u);
}

cairn_status cairn_run_set_status(cairn_run *run, cairn_run_status status, int64_t end_ms)
{
    const char *text = cairn_run_status_str(status);
    if (!text)
        return cn_fail(run->ctx, CAIRN_EINVAL, "invalid run status %d", (int)status);
    bool terminal =
        status == CAIRN_RUN_FINISHED || status == CAIRN_RUN_FAILED || status == CAIRN_RUN_KILLED;
    if (terminal && end_ms == 0)
        end_ms = cn_now_ms();
    cairn_run_update u = {status, end_ms, NULL};
    pthread_mutex_lock(&run->lock);
    cairn_status rc = cairn_runs_update(run->ctx, run->run_id, &u);
    if (rc == CAIRN_OK) {
        run->is_ended = terminal;
        /* RUNNING again: the update cleared the heartbeat, so beat now. */
        if (!terminal && run->heartbeat_ns)
            rc = beat_locked(run, run->ctx);
    }
    pthread_mutex_unlock(&run->lock);
    return rc;
}

cairn_status cairn_run_finish(cairn_run *run, cairn_run_status status)
{
    cairn_status rc = cairn_run_flush(run);
    if (rc != CAIRN_OK)
        return rc;
    return cairn_run_set_status(run, status, 0);
}

/* Whether a file under folder dfd (rel: its path in the run's artifacts, "" at the top) did
 * not reach the server (never recorded, or its last sending failed; a file fetched from the
 * server and unchanged since is there already): true, with the first such
 * path in first (size bytes). Closes dfd. */
static bool find_unsent(const cairn_run *run, int dfd, const char *rel, char *first, size_t size,
                        int depth)
{
    DIR *d = fdopendir(dfd);
    if (!d) {
        close(dfd);
        snprintf(first, size, "%s", *rel ? rel : ".");
        return true; /* unreadable: keep it */
    }
    bool found = false;
    struct dirent *e;
    while (!found && (e = readdir(d))) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        char *path = cn_path_join(rel, e->d_name);
        int fd = depth < 64
                     ? openat(dirfd(d), e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
                     : -1;
        size_t ok = 0;
        if (fd >= 0)
            found = find_unsent(run, fd, path, first, size, depth + 1);
        else if ((!cn_map_get(&run->sent, path, strlen(path), &ok) || !ok) &&
                 !cn_rest_fetched_unchanged(run->ctx, run->run_id, path)) {
            snprintf(first, size, "%s", path);
            found = true;
        }
        free(path);
    }
    closedir(d);
    return found;
}

/* The staging folder of a remote run ($TMPDIR/cairn-<run_id>, its artifacts/ inside) goes
 * with the handle when every file in it reached the server. A file the server did not get, or
 * one written there and never recorded, keeps the folder: it may be the only copy. */
static void remove_staging(cairn_run *run)
{
    const char *slash = strrchr(run->artifact_dir, '/');
    if (!slash || slash == run->artifact_dir)
        return;
    char first[PATH_MAX];
    int fd = open(run->artifact_dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd >= 0 && find_unsent(run, fd, "", first, sizeof first, 0)) {
        cn_log(run->ctx, CAIRN_LOG_WARN, "tracking",
               "run %s: artifact '%s' did not reach the server (not recorded, or its upload "
               "failed); the run's files are kept in '%s'",
               run->run_id, first, run->artifact_dir);
        return;
    }
    char *dir = cn_xstrndup(run->artifact_dir, (size_t)(slash - run->artifact_dir));
    if (cn_fs_remove_tree(AT_FDCWD, dir) != 0 && errno != ENOENT)
        cn_log(run->ctx, CAIRN_LOG_WARN, "tracking", "run %s: cannot remove '%s': %s", run->run_id,
               dir, strerror(errno));
    free(dir);
}

void cairn_run_free(cairn_run *run)
{
    if (!run)
        return;
    timer_stop(run);
    if (run->n_buffer && flush_locked(run, run->ctx) != CAIRN_OK)
        cn_log(run->ctx, CAIRN_LOG_ERROR, "tracking",
               "run %s: %zu metric points were not written: %s", run->run_id, run->n_buffer,
               cairn_errmsg(run->ctx));
    /* Freed before it ended: the process is fine, so the run must not be reaped as lost. */
    if (run->heartbeat_ns && !run->is_ended && cn_need_store(run->ctx) == CAIRN_OK &&
        CN_STORE_OPS(run->ctx)->run_heartbeat(run->ctx, run->run_id, 0, 0) != CAIRN_OK)
        cn_log(run->ctx, CAIRN_LOG_WARN, "tracking", "run %s: cannot clear its heartbeat: %s",
               run->run_id, cairn_errmsg(run->ctx));
    if (run->staged)
        remove_staging(run);
    cn_map_release(&run->sent);
    cn_arena_free(run->sent_mem);
    pthread_cond_destroy(&run->wake);
    pthread_mutex_destroy(&run->lock);
    free(run->buffer);
    cn_arena_free(run->keys_mem);
    free(run->experiment_id);
    free(run->artifact_dir);
    free(run);
}

/* ---- artifacts ---- */

static cairn_status check_artifact_path(cairn_ctx *ctx, const char *path)
{
    if (path && *path && !cn_path_is_safe_relative(path))
        return cn_fail(ctx, CAIRN_EINVAL,
                       "invalid artifact path '%s': use a relative path without '..' or '.' parts",
                       path);
    return CAIRN_OK;
}

/* Records a file written under the run's folder; a remote run's file is sent to the server. */
static cairn_status record(cairn_run *run, const char *rel, int64_t size, const char *sha)
{
    cairn_status rc =
        CN_STORE_OPS(run->ctx)->record_artifact(run->ctx, run->run_id, rel, size, sha);
    if (!run->staged)
        return rc;
    size_t len = strlen(rel), was;
    if (cn_map_get(&run->sent, rel, len, &was))
        cn_map_put(&run->sent, rel, len, rc == CAIRN_OK);
    else
        cn_map_put(&run->sent, cn_arena_strdup(run->sent_mem, rel), len, rc == CAIRN_OK);
    return rc;
}

static cairn_status copy_one(cairn_run *run, const char *src, const char *rel)
{
    char *dst = cn_path_join(run->artifact_dir, rel);
    char sha[65];
    int64_t size = 0;
    cairn_status rc = CAIRN_OK;
    if (cn_fs_copy_file(src, dst) != 0)
        rc = cn_fail_errno(run->ctx, CAIRN_EIO, "artifact '%s': cannot copy '%s' to '%s'", rel, src,
                           dst);
    else if (cn_sha256_file(dst, sha, &size) != 0)
        rc = cn_fail_errno(run->ctx, CAIRN_EIO, "artifact '%s': cannot read back '%s'", rel, dst);
    else
        rc = record(run, rel, size, sha);
    free(dst);
    return rc;
}

static cairn_status copy_tree(cairn_run *run, const char *src, const char *rel, int depth)
{
    if (depth > 64)
        return cn_fail(run->ctx, CAIRN_ELIMIT, "artifact folder '%s' is nested too deeply", src);
    DIR *d = opendir(src);
    if (!d)
        return cn_fail_errno(run->ctx, CAIRN_EIO, "cannot read folder '%s'", src);
    cairn_status rc = CAIRN_OK;
    struct dirent *e;
    while (rc == CAIRN_OK && (e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        char *child = cn_path_join(src, e->d_name);
        char *child_rel = cn_path_join(rel, e->d_name);
        struct stat st;
        if (lstat(child, &st) != 0)
            rc = cn_fail_errno(run->ctx, CAIRN_EIO, "cannot read '%s'", child);
        else if (S_ISDIR(st.st_mode))
            rc = copy_tree(run, child, child_rel, depth + 1);
        else if (S_ISREG(st.st_mode))
            rc = copy_one(run, child, child_rel);
        /* symlinks and special files are skipped: an artifact never points outside the run */
        free(child);
        free(child_rel);
    }
    closedir(d);
    return rc;
}

cairn_status cairn_run_log_artifact(cairn_run *run, const char *local_path,
                                    const char *artifact_path)
{
    cairn_status rc = check_artifact_path(run->ctx, artifact_path);
    if (rc != CAIRN_OK)
        return rc;
    struct stat st;
    if (!local_path || stat(local_path, &st) != 0)
        return cn_fail_errno(run->ctx, CAIRN_EIO, "artifact '%s'", local_path ? local_path : "");
    char *copy = cn_xstrdup(local_path);
    size_t len = strlen(copy);
    while (len > 1 && copy[len - 1] == '/')
        copy[--len] = '\0';
    const char *base = strrchr(copy, '/');
    base = base ? base + 1 : copy;
    char *rel = cn_path_join(artifact_path ? artifact_path : "", base);
    if (S_ISDIR(st.st_mode))
        rc = copy_tree(run, copy,
                       strcmp(base, ".") == 0 ? (artifact_path ? artifact_path : "") : rel, 0);
    else if (S_ISREG(st.st_mode))
        rc = copy_one(run, copy, rel);
    else
        rc = cn_fail(run->ctx, CAIRN_EINVAL, "artifact '%s' is neither a file nor a folder",
                     local_path);
    free(rel);
    free(copy);
    return rc;
}

cairn_status cairn_run_log_artifact_bytes(cairn_run *run, const char *artifact_path,
                                          const void *data, size_t len)
{
    if (!artifact_path || !*artifact_path)
        return cn_fail(run->ctx, CAIRN_EINVAL, "artifact path is empty");
    cairn_status rc = check_artifact_path(run->ctx, artifact_path);
    if (rc != CAIRN_OK)
        return rc;
    char *dst = cn_path_join(run->artifact_dir, artifact_path);
    char *parent = cn_xstrdup(dst);
    char *slash = strrchr(parent, '/');
    if (slash)
        *slash = '\0';
    char sha[65];
    if (cn_fs_mkdirs(parent, 0755) != 0)
        rc = cn_fail_errno(run->ctx, CAIRN_EIO, "artifact '%s': cannot create '%s'", artifact_path,
                           parent);
    else if (cn_fs_write_atomic(dst, data, len) != 0)
        rc = cn_fail_errno(run->ctx, CAIRN_EIO, "artifact '%s': cannot write '%s'", artifact_path,
                           dst);
    if (rc == CAIRN_OK) {
        cn_sha256_hex(data, len, sha);
        rc = record(run, artifact_path, (int64_t)len, sha);
    }
    free(parent);
    free(dst);
    return rc;
}

cairn_status cairn_run_record_artifact(cairn_run *run, const char *artifact_path)
{
    if (!artifact_path || !*artifact_path)
        return cn_fail(run->ctx, CAIRN_EINVAL, "artifact path is empty");
    cairn_status rc = check_artifact_path(run->ctx, artifact_path);
    if (rc != CAIRN_OK)
        return rc;
    char *path = cn_path_join(run->artifact_dir, artifact_path);
    char sha[65];
    int64_t size = 0;
    if (cn_sha256_file(path, sha, &size) != 0)
        rc = cn_fail_errno(run->ctx, CAIRN_EIO, "artifact '%s': cannot read '%s'", artifact_path,
                           path);
    else
        rc = record(run, artifact_path, size, sha);
    free(path);
    return rc;
}

char *cn_run_artifact_where(cairn_run *run)
{
    cairn_run_record *rec = NULL;
    if (!run->staged || cairn_run_get(run->ctx, run->run_id, &rec) != CAIRN_OK ||
        !rec->info.artifact_uri) {
        cairn_run_record_free(rec);
        return cn_xstrdup(run->artifact_dir);
    }
    char *where = cn_xstrdup(rec->info.artifact_uri);
    cairn_run_record_free(rec);
    return where;
}

cairn_status cairn_run_artifact_path(cairn_ctx *ctx, const char *run_id, const char *path,
                                     char **out)
{
    cn_run_row row;
    *out = NULL;
    cairn_status rc = cn_need_store(ctx);
    if (rc != CAIRN_OK)
        return rc;
    rc = CN_STORE_OPS(ctx)->run_lookup(ctx, run_id, &row);
    if (rc != CAIRN_OK)
        return rc;
    rc = check_artifact_path(ctx, path);
    if (rc != CAIRN_OK) {
        cn_run_row_release(&row);
        return rc;
    }
    /* A remote run's files live on the server: fetch this one into the run's local staging
     * folder (row.artifact_dir there) first, then check it as any local artifact. */
    if (ctx->store->ops == &cn_store_rest_ops && path && *path)
        rc = cn_rest_fetch_artifact(ctx, run_id, path);
    if (rc != CAIRN_OK) {
        cn_run_row_release(&row);
        return rc;
    }
    char *joined =
        path && *path ? cn_path_join(row.artifact_dir, path) : cn_xstrdup(row.artifact_dir);
    char root_real[PATH_MAX], real[PATH_MAX];
    if (!realpath(joined, real)) {
        rc = cn_fail(ctx, CAIRN_ENOTFOUND, "run '%s' has no artifact '%s'", run_id,
                     path ? path : "");
    } else if (!realpath(row.artifact_dir, root_real) ||
               !(strncmp(real, root_real, strlen(root_real)) == 0 &&
                 (real[strlen(root_real)] == '\0' || real[strlen(root_real)] == '/'))) {
        rc = cn_fail(ctx, CAIRN_EINVAL, "artifact '%s' of run '%s' points outside the run's folder",
                     path ? path : "", run_id);
    } else {
        *out = cn_xstrdup(real);
    }
    free(joined);
    cn_run_row_release(&row);
    return rc;
}

/* ---- dataset inputs ---- */

cairn_status cairn_run_log_input(cairn_run *run, const cairn_dataset_input *in)
{
    if (!in)
        return cn_fail(run->ctx, CAIRN_EINVAL, "dataset input needs a name and a digest");
    return cairn_runs_log_inputs(run->ctx, run->run_id, in, 1);
}

cairn_status cairn_file_sha256(cairn_ctx *ctx, const char *path, char hex_out[65],
                               int64_t *size_bytes_out)
{
    if (cn_sha256_file(path, hex_out, size_bytes_out) != 0)
        return cn_fail_errno(ctx, CAIRN_EIO, "cannot read '%s'", path);
    return CAIRN_OK;
}

cairn_status cairn_run_artifact_open(cairn_ctx *ctx, const char *run_id, const char *path,
                                     int *fd_out)
{
    char *real = NULL;
    *fd_out = -1;
    cairn_status rc = cairn_run_artifact_path(ctx, run_id, path, &real);
    if (rc != CAIRN_OK)
        return rc;
    /* O_NOFOLLOW: the checked path is already resolved, so a symlink here is a race. */
    int fd = open(real, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    struct stat st;
    if (fd < 0)
        rc = cn_fail_errno(ctx, CAIRN_EIO, "artifact '%s' of run '%s'", path, run_id);
    else if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
        rc = cn_fail(ctx, CAIRN_EINVAL, "artifact '%s' of run '%s' is a folder, not a file", path,
                     run_id);
    if (rc != CAIRN_OK && fd >= 0)
        close(fd);
    else if (rc == CAIRN_OK)
        *fd_out = fd;
    free(real);
    return rc;
}
