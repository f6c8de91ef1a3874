/* SPDX-License-Identifier: MIT */
/* study_tune.c - cairn_study_tune_command: runs a study's trials over any command (cairn
 * tune, cairn worker). n_jobs worker threads, each with its own store connection and study
 * handle, ask a trial within the study-wide target (checked in the claim's transaction, so any
 * number of processes together finish exactly the target), run the command through the runner
 * as the trial's run, feed the objective's intermediate values to the pruner as they arrive
 * (stopping a pruned trial), and tell the outcome (a FAIL queued again while retries remain).
 * The calling thread handles the signals, in tiers, and calls the progress function on a
 * tick. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "cairn/runner.h"
#include "hpo/hpo_internal.h"
#include "hpo/study_internal.h"
#include "core/core.h"
#include "base/buf.h"
#include "base/str.h"
#include "base/time.h"
#include "base/xmalloc.h"
#include "base/banned.h"

#define DEFAULT_TRIALS 20
#define DEFAULT_GRACE_MS 10000
#define TICK_MS 100
#define PROGRESS_TICKS 10 /* a progress call every second */
#define CPU_MAX 1024      /* CPUs the affinity mask can name */
#define GPU_MAX 64
#define WAIT_MIN_MS 50   /* a full study is asked again this often at least, */
#define WAIT_MAX_MS 1000 /* and at most: half a heartbeat interval between */
#define TELL_ATTEMPTS 3  /* a trial's end is told the store at most this many times */

/* The signal tiers: what the calling thread has been told so far. */
enum { TIER_NONE = 0, TIER_DRAIN, TIER_CANCEL };

typedef struct tune {
    cairn_study *study; /* the caller's: counts and best are read through it */
    const cairn_tune_opts *opts;
    int argc;
    const char *const *argv;
    pthread_mutex_t mu;
    int64_t target; /* the study's target of finished trials; 0: none */
    int64_t n_started, n_done, n_running;
    int64_t n_complete, n_pruned, n_failed;
    bool has_best;
    double best_value;
    int64_t best_number;
    int64_t deadline_ms; /* monotonic; 0: none */
    int64_t started_ms;
    atomic_int tier;      /* TIER_*: DRAIN starts nothing new, CANCEL also stops the trials */
    atomic_bool stopping; /* no new trial: a tier, a fatal error, the grid's end, a full study */
    int n_threads_done;
    bool exhausted, full;
    cairn_status fatal; /* the first error that stops the tune */
    char *fatal_msg;
    /* Resources handed to running trials (under mu): CPUs numbers and GPU names. */
    int *cpus;
    bool *cpu_busy;
    size_t n_cpus;
    char **gpus;
    bool *gpu_busy;
    size_t n_gpus;
} tune;

/* What one running trial holds of the pools. */
typedef struct trial_res {
    int cpus[CPU_MAX];
    size_t n_cpus;
    size_t gpu_idx[GPU_MAX];
    size_t n_gpus;
    char gpu_list[GPU_MAX * 8];
} trial_res;

/* One running trial, as the runner's callbacks see it. */
typedef struct trial_run {
    tune *t;
    cairn_study *ws;
    cairn_trial trial;
    const char *objective;
    const char *strategy;
    bool use_pruner;
    int64_t n_values;
    double last, min, max, final_value;
    bool has_final;
    bool prune;
    int64_t next_beat_ms;
} trial_run;

static int64_t mono_ms(void)
{
    return cn_mono_ns() / 1000000;
}

static void set_fatal(tune *t, cairn_status rc, const char *msg)
{
    pthread_mutex_lock(&t->mu);
    if (t->fatal == CAIRN_OK) {
        t->fatal = rc;
        t->fatal_msg = cn_xstrdup(msg);
    }
    atomic_store(&t->tier, TIER_CANCEL);
    atomic_store(&t->stopping, true);
    pthread_mutex_unlock(&t->mu);
}

static void on_metric(void *user, const char *key, double value, int64_t step, bool is_final)
{
    trial_run *tr = user;
    if (strcmp(key, tr->objective) != 0)
        return;
    if (is_final) {
        tr->final_value = value;
        tr->has_final = true;
        return;
    }
    tr->last = value;
    if (tr->n_values == 0 || value < tr->min)
        tr->min = value;
    if (tr->n_values == 0 || value > tr->max)
        tr->max = value;
    tr->n_values++;
    if (cn_study_report(tr->ws, tr->trial.number, step, value, false) != CAIRN_OK) {
        cn_log(tr->ws->ctx, CAIRN_LOG_WARN, "tune", "trial %lld: %s", (long long)tr->trial.number,
               cairn_errmsg(tr->ws->ctx));
        return;
    }
    tr->next_beat_ms = mono_ms() + tr->ws->row.heartbeat_interval_ms / 2;
    bool prune = false;
    if (tr->use_pruner && !tr->prune &&
        cairn_study_should_prune(tr->ws, tr->trial.number, &prune) == CAIRN_OK && prune)
        tr->prune = true;
}

static const char *should_stop(void *user)
{
    trial_run *tr = user;
    if (atomic_load(&tr->t->tier) >= TIER_CANCEL)
        return "cancelled";
    if (tr->prune)
        return "pruned";
    int64_t now = mono_ms();
    if (now >= tr->next_beat_ms) {
        tr->next_beat_ms = now + tr->ws->row.heartbeat_interval_ms / 2;
        if (cairn_study_heartbeat(tr->ws, tr->trial.number) != CAIRN_OK)
            cn_log(tr->ws->ctx, CAIRN_LOG_WARN, "tune", "trial %lld: heartbeat: %s",
                   (long long)tr->trial.number, cairn_errmsg(tr->ws->ctx));
    }
    return NULL;
}

/* The runner's "key=value" params and extra environment of a trial. */
static void trial_inputs(const cairn_study *ws, const cairn_trial *trial, char ***params,
                         size_t *n_params, char *env[2])
{
    char value[CAIRN_PARAM_VALUE_MAX + 1];
    *params = cn_xcalloc(ws->n_params ? ws->n_params : 1, sizeof **params);
    *n_params = 0;
    for (size_t i = 0; i < ws->n_params; i++) {
        if (isnan(trial->params[i]))
            continue;
        cairn_param_info info;
        cairn_space_param(ws->space, i, &info);
        cairn_space_format_value(ws->space, i, trial->params[i], value, sizeof value);
        (*params)[(*n_params)++] = cn_asprintf("%s=%s", info.name, value);
    }
    env[0] = cn_asprintf("CAIRN_STUDY=%s", ws->row.name);
    env[1] = cn_asprintf("CAIRN_TRIAL=%lld", (long long)trial->number);
}

/* The objective as the command logged it to the trial's run itself (through libcairn or an
 * MLflow client on $CAIRN_STORE, as `cairn train` does when it runs as a trial): the metric
 * named like the objective, else its cross-validation mean cv_NAME_mean, else its validation
 * value val_NAME. False when the run holds none of them; then near (size bytes) is the run's
 * metric nearest to the objective's name, "" when none is near. */
static bool logged_objective(const trial_run *tr, const char *run_id, double *value, char *near,
                             size_t size)
{
    near[0] = '\0';
    cairn_run_record *rec = NULL;
    if (!run_id || cairn_run_get(tr->ws->ctx, run_id, &rec) != CAIRN_OK)
        return false;
    char *names[3] = {cn_xstrdup(tr->objective), cn_asprintf("cv_%s_mean", tr->objective),
                      cn_asprintf("val_%s", tr->objective)};
    bool found = false;
    for (size_t k = 0; k < 3 && !found; k++)
        for (size_t i = 0; i < rec->n_metrics && !found; i++)
            if (strcmp(rec->metrics[i].key, names[k]) == 0) {
                *value = rec->metrics[i].value;
                found = true;
                if (k > 0)
                    cn_log(tr->ws->ctx, CAIRN_LOG_DEBUG, "tune", "trial %lld: objective from %s",
                           (long long)tr->trial.number, names[k]);
            }
    for (size_t k = 0; k < 3; k++)
        free(names[k]);
    if (!found && rec->n_metrics) {
        const char **keys = cn_xcalloc(rec->n_metrics, sizeof *keys);
        for (size_t i = 0; i < rec->n_metrics; i++)
            keys[i] = rec->metrics[i].key;
        const char *best = cn_str_nearest(tr->objective, keys, rec->n_metrics);
        if (best)
            cn_strlcpy(near, best, size);
        free(keys);
    }
    cairn_run_record_free(rec);
    return found;
}

/* The trial's outcome from what the runner saw: state, value, and why when not COMPLETE. */
static cairn_trial_state outcome(const trial_run *tr, const cairn_run_result *res,
                                 const char *format, double *value, cn_buf *why)
{
    char near[256];
    *value = NAN;
    if (res->stop_reason && strcmp(res->stop_reason, "pruned") == 0) {
        cn_buf_puts(why, "pruned");
        return CAIRN_TRIAL_PRUNED;
    }
    if (res->stop_reason) {
        cn_buf_puts(why, res->stop_reason);
        return CAIRN_TRIAL_FAIL;
    }
    if (res->error) {
        cn_buf_puts(why, res->error);
        return CAIRN_TRIAL_FAIL;
    }
    if (res->term_signal) {
        cn_buf_printf(why, "the command was killed by signal %d", res->term_signal);
        return CAIRN_TRIAL_FAIL;
    }
    if (res->exit_code != 0) {
        cn_buf_printf(why, "the command exited with code %d", res->exit_code);
        return CAIRN_TRIAL_FAIL;
    }
    if (tr->has_final)
        *value = tr->final_value;
    else if (tr->n_values)
        *value = strcmp(tr->strategy, "min") == 0   ? tr->min
                 : strcmp(tr->strategy, "max") == 0 ? tr->max
                                                    : tr->last;
    else if (logged_objective(tr, res->run_id, value, near, sizeof near))
        ;
    else {
        cn_buf_printf(why, "metrics-unavailable: the command exited 0 without reporting '%s' ",
                      tr->objective);
        if (near[0])
            cn_buf_printf(why, "(did you mean '%s'? it reported that) ", near);
        cn_buf_printf(why, "(metrics format: %s; print a line `cairn.final: %s=VALUE`)",
                      format ? format : "cairn", tr->objective);
        if (res->n_metric_errors)
            cn_buf_printf(why, "; %zu metric lines could not be read, the first: %s",
                          res->n_metric_errors, res->first_metric_error);
        return CAIRN_TRIAL_FAIL;
    }
    if (isnan(*value)) {
        cn_buf_printf(why, "the objective '%s' is NaN", tr->objective);
        return CAIRN_TRIAL_FAIL;
    }
    return CAIRN_TRIAL_COMPLETE;
}

static void report_progress(tune *t, const cairn_trial *finished, const char *reason)
{
    if (!t->opts->progress)
        return;
    cairn_tune_status st = {.n_done = t->n_done,
                            .n_complete = t->n_complete,
                            .n_pruned = t->n_pruned,
                            .n_failed = t->n_failed,
                            .n_running = t->n_running,
                            .has_best = t->has_best,
                            .best_value = t->best_value,
                            .best_number = t->best_number,
                            .finished = finished,
                            .reason = reason,
                            .elapsed_s = (double)(mono_ms() - t->started_ms) / 1000.0};
    t->opts->progress(t->opts->user, &st);
}

/* Whether another trial may start. */
static bool may_start(tune *t)
{
    return !atomic_load(&t->stopping) && (t->deadline_ms == 0 || mono_ms() < t->deadline_ms);
}

/* Sleeps ms in ticks, back early once the tune stops. */
static void wait_a_while(tune *t, int64_t ms)
{
    for (int64_t end = mono_ms() + ms; may_start(t) && mono_ms() < end;) {
        struct timespec ts = {0, 20 * 1000000L};
        nanosleep(&ts, NULL);
    }
}

/* ---- resources per trial ---- */

/* Takes what one trial gets of the pools. n_jobs was lowered so that every running trial
 * finds enough free (see plan_resources). */
static void take_resources(tune *t, trial_res *h)
{
    memset(h, 0, sizeof *h);
    pthread_mutex_lock(&t->mu);
    int want = t->opts->cpus_per_trial;
    for (size_t i = 0; i < t->n_cpus && h->n_cpus < (size_t)want; i++)
        if (!t->cpu_busy[i]) {
            t->cpu_busy[i] = true;
            h->cpus[h->n_cpus++] = t->cpus[i];
        }
    size_t gwant = t->opts->gpus_per_trial > 0 ? (size_t)t->opts->gpus_per_trial : 1;
    for (size_t i = 0; i < t->n_gpus && h->n_gpus < gwant; i++)
        if (!t->gpu_busy[i]) {
            t->gpu_busy[i] = true;
            size_t len = strlen(h->gpu_list);
            snprintf(h->gpu_list + len, sizeof h->gpu_list - len, "%s%s", len ? "," : "",
                     t->gpus[i]);
            h->gpu_idx[h->n_gpus++] = i;
        }
    pthread_mutex_unlock(&t->mu);
}

/* Called with t->mu held. */
static void give_back_resources(tune *t, const trial_res *h)
{
    for (size_t k = 0; k < h->n_cpus; k++)
        for (size_t i = 0; i < t->n_cpus; i++)
            if (t->cpus[i] == h->cpus[k])
                t->cpu_busy[i] = false;
    for (size_t k = 0; k < h->n_gpus; k++)
        t->gpu_busy[h->gpu_idx[k]] = false;
}

/* Builds the pools and lowers *n_jobs to what they allow; EINVAL when one trial's share
 * cannot be met at all. */
static cairn_status plan_resources(tune *t, cairn_ctx *ctx, int *n_jobs)
{
    const cairn_tune_opts *o = t->opts;
    if (o->cpus_per_trial < 0 || o->gpus_per_trial < 0 || o->memory_per_trial_bytes < 0)
        return cn_fail(ctx, CAIRN_EINVAL, "resources per trial cannot be negative");
    if (o->cpus_per_trial > 0) {
        unsigned long mask[CPU_MAX / (8 * sizeof(unsigned long))];
        memset(mask, 0, sizeof mask);
        if (syscall(SYS_sched_getaffinity, 0, sizeof mask, mask) < 0)
            return cn_fail(ctx, CAIRN_EIO, "cannot read this process's CPUs: %s", strerror(errno));
        t->cpus = cn_xcalloc(CPU_MAX, sizeof *t->cpus);
        t->cpu_busy = cn_xcalloc(CPU_MAX, sizeof *t->cpu_busy);
        for (int c = 0; c < CPU_MAX; c++)
            if (mask[(size_t)c / (8 * sizeof(unsigned long))] &
                (1UL << ((size_t)c % (8 * sizeof(unsigned long)))))
                t->cpus[t->n_cpus++] = c;
        if ((size_t)o->cpus_per_trial > t->n_cpus)
            return cn_fail(ctx, CAIRN_EINVAL,
                           "--cpus-per-trial %d: this process may use %zu CPUs; ask for at most "
                           "%zu",
                           o->cpus_per_trial, t->n_cpus, t->n_cpus);
        int fit = (int)(t->n_cpus / (size_t)o->cpus_per_trial);
        if (*n_jobs > fit) {
            cn_log(ctx, CAIRN_LOG_WARN, "tune",
                   "-j %d lowered to %d: %zu CPUs hold %d trials of %d CPUs each", *n_jobs, fit,
                   t->n_cpus, fit, o->cpus_per_trial);
            *n_jobs = fit;
        }
    }
    if (o->gpus && *o->gpus) {
        const char *p = o->gpus;
        while (*p) {
            size_t len = strcspn(p, ",");
            if (len == 0 || len > 6 || strspn(p, "0123456789") < len || t->n_gpus == GPU_MAX)
                return cn_fail(ctx, CAIRN_EINVAL,
                               "--gpus '%s': give device numbers separated by commas, e.g. "
                               "--gpus 0,1 (at most %d)",
                               o->gpus, GPU_MAX);
            t->gpus = cn_xrealloc(t->gpus, (t->n_gpus + 1) * sizeof *t->gpus);
            t->gpus[t->n_gpus++] = cn_xstrndup(p, len);
            p += len;
            if (*p == ',')
                p++;
        }
        for (size_t i = 0; i < t->n_gpus; i++)
            for (size_t j = 0; j < i; j++)
                if (strcmp(t->gpus[i], t->gpus[j]) == 0)
                    return cn_fail(ctx, CAIRN_EINVAL, "--gpus '%s': device %s is named twice",
                                   o->gpus, t->gpus[i]);
        t->gpu_busy = cn_xcalloc(t->n_gpus, sizeof *t->gpu_busy);
        size_t per = o->gpus_per_trial > 0 ? (size_t)o->gpus_per_trial : 1;
        if (per > t->n_gpus || per > GPU_MAX)
            return cn_fail(ctx, CAIRN_EINVAL,
                           "--gpus-per-trial %zu: only %zu devices are given with --gpus", per,
                           t->n_gpus);
        int fit = (int)(t->n_gpus / per);
        if (*n_jobs > fit) {
            cn_log(ctx, CAIRN_LOG_WARN, "tune",
                   "-j %d lowered to %d: %zu GPUs hold %d trials of %zu devices each", *n_jobs, fit,
                   t->n_gpus, fit, per);
            *n_jobs = fit;
        }
    } else if (o->gpus_per_trial > 0) {
        return cn_fail(ctx, CAIRN_EINVAL, "--gpus-per-trial needs --gpus DEVICES (e.g. 0,1)");
    }
    return CAIRN_OK;
}

static void free_resources(tune *t)
{
    free(t->cpus);
    free(t->cpu_busy);
    for (size_t i = 0; i < t->n_gpus; i++)
        free(t->gpus[i]);
    free(t->gpus);
    free(t->gpu_busy);
}

/* Runs one asked trial to its end and tells the study. */
static void run_trial(tune *t, cairn_ctx *wctx, cairn_study *ws, const cairn_trial *trial)
{
    const cairn_tune_opts *o = t->opts;
    trial_run tr = {.t = t, .ws = ws, .trial = *trial, .next_beat_ms = mono_ms()};
    tr.objective = cairn_study_objective(ws, NULL, &tr.strategy);
    tr.use_pruner = strcmp(cairn_pruner_name(ws->pruner), "none") != 0;
    char **params = NULL, *env[2];
    size_t n_params = 0;
    trial_inputs(ws, trial, &params, &n_params, env);
    char trial_macro[40], study_macro[300];
    snprintf(trial_macro, sizeof trial_macro, "trial=%lld", (long long)trial->number);
    snprintf(study_macro, sizeof study_macro, "study=%s", ws->row.name);
    const char *macros[2] = {trial_macro, study_macro};
    trial_res held;
    take_resources(t, &held);
    cairn_runner_opts ro = CAIRN_RUNNER_OPTS_INIT;
    ro.macros = macros;
    ro.n_macros = 2;
    ro.cpus = held.n_cpus ? held.cpus : NULL;
    ro.n_cpus = held.n_cpus;
    ro.cuda_devices = held.n_gpus ? held.gpu_list : NULL;
    ro.memory_limit_bytes = o->memory_per_trial_bytes;
    ro.params = (const char *const *)params;
    ro.n_params = n_params;
    ro.run_id = trial->run_id;
    ro.append_args = true;
    ro.has_seed = true;
    ro.seed = (int64_t)((ws->seed + (uint64_t)trial->number) & 0x7fffffff);
    ro.metrics_format = o->metrics_format;
    ro.kill_grace_ms = o->kill_grace_ms > 0 ? o->kill_grace_ms : DEFAULT_GRACE_MS;
    ro.out_fd = o->out_fd;
    ro.err_fd = o->err_fd;
    ro.skip_git = true;
    ro.on_metric = on_metric;
    ro.should_stop = should_stop;
    ro.timeout_ms = o->trial_timeout_ms;
    ro.env = (const char *const *)env;
    ro.n_env = 2;
    ro.user = &tr;
    cairn_run_result *res = NULL;
    cairn_status rc = cairn_run_command(wctx, &ro, t->argc, t->argv, &res);
    cn_buf why = CN_BUF_INIT;
    double value = NAN;
    cairn_trial_state state;
    if (rc != CAIRN_OK) {
        /* The command could not run at all (not found, a bad macro): every trial would
         * fail the same way, so the tune stops here. */
        cn_buf_puts(&why, cairn_errmsg(wctx));
        set_fatal(t, rc, why.data);
        state = CAIRN_TRIAL_FAIL;
    } else {
        state = outcome(&tr, res, o->metrics_format, &value, &why);
        if (res->error && res->exit_code == 127)
            set_fatal(t, CAIRN_ENOTFOUND, res->error);
    }
    /* A failure is worth asking again unless the tune stopped it or cannot run at all. */
    pthread_mutex_lock(&t->mu);
    bool retry = state == CAIRN_TRIAL_FAIL && o->max_retries > 0 && t->fatal == CAIRN_OK &&
                 !(res && res->stop_reason && strcmp(res->stop_reason, "cancelled") == 0);
    pthread_mutex_unlock(&t->mu);
    int64_t retry_number = -1;
    /* A tell the store failed (a lost connection, a lock held too long) is tried again: left
     * RUNNING, the trial would hold every worker of a full study until it goes stale. A tell
     * that did commit but whose answer was lost is refused the second time, harmlessly. */
    for (int attempt = 1;; attempt++) {
        rc = cn_study_tell_retry(ws, trial->number, state, value, why.len ? why.data : NULL, false,
                                 retry ? o->max_retries : 0, &retry_number);
        if (rc != CAIRN_EDB || attempt == TELL_ATTEMPTS)
            break;
        cn_log(wctx, CAIRN_LOG_WARN, "tune", "trial %lld: %s; telling the store again",
               (long long)trial->number, cairn_errmsg(wctx));
        struct timespec ts = {0, 200 * 1000000L * attempt};
        nanosleep(&ts, NULL);
    }
    if (rc != CAIRN_OK)
        cn_log(wctx, CAIRN_LOG_WARN, "tune", "trial %lld: %s", (long long)trial->number,
               cairn_errmsg(wctx));
    else if (retry_number >= 0)
        cn_buf_printf(&why, "; retried as trial %lld", (long long)retry_number);
    cairn_trial done = *trial;
    done.state = state;
    done.value = value;
    pthread_mutex_lock(&t->mu);
    give_back_resources(t, &held);
    t->n_running--;
    t->n_done++;
    if (state == CAIRN_TRIAL_COMPLETE) {
        t->n_complete++;
        bool max = ws->row.maximize;
        if (!t->has_best || (max ? value > t->best_value : value < t->best_value)) {
            t->has_best = true;
            t->best_value = value;
            t->best_number = trial->number;
        }
    } else if (state == CAIRN_TRIAL_PRUNED) {
        t->n_pruned++;
    } else {
        t->n_failed++;
    }
    report_progress(t, &done, why.len ? why.data : NULL);
    pthread_mutex_unlock(&t->mu);
    cn_buf_release(&why);
    cairn_run_result_free(res);
    for (size_t i = 0; i < n_params; i++)
        free(params[i]);
    free(params);
    free(env[0]);
    free(env[1]);
}

static void *worker_main(void *arg)
{
    tune *t = arg;
    cairn_study *main_study = t->study;
    cairn_open_opts oo = CAIRN_OPEN_OPTS_INIT;
    oo.artifact_root = main_study->ctx->artifact_root;
    cairn_ctx *wctx = NULL;
    cairn_study *ws = NULL;
    cairn_status rc = cairn_open(main_study->ctx->uri, &oo, &wctx);
    if (rc == CAIRN_OK) {
        cairn_study_opts so = CAIRN_STUDY_OPTS_INIT;
        so.must_exist = true;
        so.sampler = main_study->sampler_spec;
        so.pruner = main_study->pruner_spec;
        so.has_seed = true;
        so.seed = main_study->seed;
        so.max_retries = main_study->max_retries > 0 ? main_study->max_retries : -1;
        rc = cairn_study_open(wctx, main_study->row.name, &so, &ws);
    }
    if (rc != CAIRN_OK) {
        set_fatal(t, rc, cairn_errmsg(wctx));
        goto done;
    }
    cairn_set_log(wctx, main_study->ctx->log_fn, main_study->ctx->log_user,
                  main_study->ctx->log_max);
    /* Half a heartbeat interval between asks of a full study: a trial of another process
     * that goes stale is reaped (and its copy asked) by the ask after it. */
    int64_t wait_ms = ws->row.heartbeat_interval_ms / 2;
    wait_ms = wait_ms < WAIT_MIN_MS ? WAIT_MIN_MS : wait_ms > WAIT_MAX_MS ? WAIT_MAX_MS : wait_ms;
    while (may_start(t)) {
        cairn_trial trial;
        cn_study_budget budget;
        rc = cn_study_ask_within(ws, t->target, &trial, &budget);
        if (rc == CAIRN_ELIMIT) {
            pthread_mutex_lock(&t->mu);
            t->exhausted = true;
            atomic_store(&t->stopping, true);
            pthread_mutex_unlock(&t->mu);
            cn_log(wctx, CAIRN_LOG_INFO, "tune", "%s", cairn_errmsg(wctx));
            break;
        }
        if (rc != CAIRN_OK) {
            set_fatal(t, rc, cairn_errmsg(wctx));
            break;
        }
        if (budget.full) {
            /* The target is reached. While trials run anywhere, one may fail and be
             * retried or go stale and be copied: stay to run it. */
            if (budget.n_running == 0) {
                pthread_mutex_lock(&t->mu);
                t->full = true;
                atomic_store(&t->stopping, true);
                pthread_mutex_unlock(&t->mu);
                break;
            }
            wait_a_while(t, wait_ms);
            continue;
        }
        pthread_mutex_lock(&t->mu);
        t->n_started++;
        t->n_running++;
        pthread_mutex_unlock(&t->mu);
        run_trial(t, wctx, ws, &trial);
    }
done:
    cairn_study_free(ws);
    cairn_close(wctx);
    pthread_mutex_lock(&t->mu);
    t->n_threads_done++;
    pthread_mutex_unlock(&t->mu);
    return NULL;
}

/* ---- signals: a self-pipe the calling thread watches ---- */

static int sig_pipe[2] = {-1, -1};

static void on_signal(int sig)
{
    int saved = errno;
    unsigned char c = (unsigned char)sig;
    if (sig_pipe[1] >= 0 && write(sig_pipe[1], &c, 1) < 0) {
        /* nothing to do in a handler */
    }
    errno = saved;
}

/* What a resumed study holds toward its target, as the claim counts it (count_budget in the
 * store): finished, RUNNING and WAITING trials, a retried FAIL once; and of those, how many
 * run and how many wait. */
static int64_t counted(const cairn_trial *all, size_t n, int64_t *n_running, int64_t *n_waiting)
{
    int64_t c = 0;
    *n_running = *n_waiting = 0;
    for (size_t i = 0; i < n; i++) {
        if (all[i].state == CAIRN_TRIAL_STALE)
            continue;
        c++;
        *n_running += all[i].state == CAIRN_TRIAL_RUNNING;
        *n_waiting += all[i].state == CAIRN_TRIAL_WAITING;
        int64_t r = all[i].retry_of; /* all is by number, and numbers have no gaps */
        if (r >= 0 && (size_t)r < n && all[r].number == r && all[r].state == CAIRN_TRIAL_FAIL)
            c--;
    }
    return c;
}

/* The calling thread's answer to a signal: the next tier. */
static void on_tier(tune *t, int sig, struct sigaction *old_int, struct sigaction *old_term)
{
    cairn_ctx *ctx = t->study->ctx;
    const char *name = t->study->row.name;
    int tier = atomic_load(&t->tier);
    int next = sig == SIGTERM && tier < TIER_CANCEL ? TIER_CANCEL : tier + 1;
    pthread_mutex_lock(&t->mu);
    int64_t running = t->n_running;
    pthread_mutex_unlock(&t->mu);
    if (next == TIER_DRAIN) {
        cn_log(ctx, CAIRN_LOG_WARN, "tune",
               "interrupted: starting no new trial, finishing %lld running trials; Ctrl-C again "
               "to stop them",
               (long long)running);
    } else if (next == TIER_CANCEL) {
        cn_log(ctx, CAIRN_LOG_WARN, "tune",
               "stopping %lld running trials (they end FAIL, cancelled); Ctrl-C again to exit "
               "at once",
               (long long)running);
    } else {
        /* The third: go now. The runner's watchdogs kill the trials' process groups when this
         * process is gone; the trials stay RUNNING until an ask finds them stale. */
        cn_log(ctx, CAIRN_LOG_WARN, "tune",
               "exiting at once: %lld running trials become STALE and are retried when the study "
               "resumes (--study %s)",
               (long long)running, name);
        sigaction(SIGINT, old_int, NULL);
        sigaction(SIGTERM, old_term, NULL);
        signal(sig, SIG_DFL);
        raise(sig);
        _exit(128 + sig); /* when the signal is blocked or ignored by the caller */
    }
    atomic_store(&t->tier, next);
    atomic_store(&t->stopping, true);
}

cairn_status cairn_study_tune_command(cairn_study *study, const cairn_tune_opts *opts, int argc,
                                      const char *const *argv)
{
    static const cairn_tune_opts defaults = CAIRN_TUNE_OPTS_INIT;
    const cairn_tune_opts *o = opts ? opts : &defaults;
    cairn_ctx *ctx = study->ctx;
    if (argc < 1)
        return cn_fail(ctx, CAIRN_EINVAL, "no command to tune: give it after --");
    if (o->max_retries < 0)
        return cn_fail(ctx, CAIRN_EINVAL, "max_retries %d: expected 0 or more", o->max_retries);
    tune t = {.study = study, .opts = o, .argc = argc, .argv = argv};
    atomic_init(&t.tier, TIER_NONE);
    atomic_init(&t.stopping, false);
    pthread_mutex_init(&t.mu, NULL);
    t.started_ms = mono_ms();
    if (o->timeout_ms > 0)
        t.deadline_ms = t.started_ms + o->timeout_ms;
    t.target = o->n_trials > 0                     ? o->n_trials
               : o->no_target || o->timeout_ms > 0 ? 0
                                                   : DEFAULT_TRIALS;

    /* What the study holds: its best so far, and whether anything is left to do. */
    const cairn_trial *all = NULL;
    size_t n_all = 0;
    cairn_status rc = cairn_study_trials(study, &all, &n_all);
    if (rc != CAIRN_OK)
        return rc;
    for (size_t i = 0; i < n_all; i++)
        if (all[i].state == CAIRN_TRIAL_COMPLETE &&
            (!t.has_best ||
             (study->row.maximize ? all[i].value > t.best_value : all[i].value < t.best_value))) {
            t.has_best = true;
            t.best_value = all[i].value;
            t.best_number = all[i].number;
        }
    int64_t n_running = 0, n_waiting = 0;
    int64_t have = counted(all, n_all, &n_running, &n_waiting);
    int n_jobs = o->n_jobs > 0 ? o->n_jobs : 1;
    if (t.target > 0) {
        /* As the claim decides: a WAITING trial is taken while the others fall short. */
        int64_t held = n_waiting ? have - n_waiting : have;
        if (held >= t.target && n_running == 0) {
            cn_log(ctx, CAIRN_LOG_INFO, "tune", "study '%s' already has %lld finished trials",
                   study->row.name, (long long)have);
            pthread_mutex_destroy(&t.mu);
            return CAIRN_OK;
        }
        /* More threads than trials left would only wait. A stale trial may still need a
         * copy, so one thread stays when the count is reached. */
        int64_t left = t.target - held > 1 ? t.target - held : 1;
        if ((int64_t)n_jobs > left)
            n_jobs = (int)left;
    }
    rc = plan_resources(&t, ctx, &n_jobs);
    if (rc != CAIRN_OK) {
        free_resources(&t);
        pthread_mutex_destroy(&t.mu);
        return rc;
    }
    struct sigaction sa, old_int, old_term;
    bool sigs = false;
    if (o->handle_signals && pipe(sig_pipe) == 0) {
        for (int i = 0; i < 2; i++) {
            fcntl(sig_pipe[i], F_SETFD, FD_CLOEXEC);
            fcntl(sig_pipe[i], F_SETFL, O_NONBLOCK);
        }
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_signal;
        sigemptyset(&sa.sa_mask);
        sigaction(SIGINT, &sa, &old_int);
        sigaction(SIGTERM, &sa, &old_term);
        sigs = true;
    }
    pthread_t *threads = cn_xcalloc((size_t)n_jobs, sizeof *threads);
    sigset_t all_sigs, old_mask;
    sigfillset(&all_sigs);
    pthread_sigmask(SIG_SETMASK, &all_sigs, &old_mask); /* the workers take no signal */
    int started = 0;
    for (; started < n_jobs; started++)
        if (pthread_create(&threads[started], NULL, worker_main, &t) != 0)
            break;
    pthread_sigmask(SIG_SETMASK, &old_mask, NULL);
    if (started == 0)
        set_fatal(&t, CAIRN_EINTERNAL, "cannot start a worker thread");

    /* Tick until every worker thread has ended; only then join (never block on a join while
     * a signal may still come). */
    for (int tick = 0;; tick++) {
        struct pollfd pfd = {.fd = sig_pipe[0], .events = POLLIN};
        int ready = poll(sigs ? &pfd : NULL, sigs ? 1 : 0, TICK_MS);
        if (ready > 0) {
            unsigned char buf[16];
            ssize_t got = read(sig_pipe[0], buf, sizeof buf);
            for (ssize_t i = 0; i < got; i++)
                on_tier(&t, buf[i], &old_int, &old_term);
        }
        pthread_mutex_lock(&t.mu);
        bool ended = t.n_threads_done >= started;
        if (!ended && atomic_load(&t.tier) < TIER_CANCEL &&
            tick % PROGRESS_TICKS == PROGRESS_TICKS - 1)
            report_progress(&t, NULL, NULL);
        pthread_mutex_unlock(&t.mu);
        if (ended)
            break;
    }
    for (int i = 0; i < started; i++)
        pthread_join(threads[i], NULL);
    free(threads);
    if (sigs) {
        sigaction(SIGINT, &old_int, NULL);
        sigaction(SIGTERM, &old_term, NULL);
        close(sig_pipe[0]);
        close(sig_pipe[1]);
        sig_pipe[0] = sig_pipe[1] = -1;
    }
    rc = CAIRN_OK;
    if (t.fatal != CAIRN_OK)
        rc = cn_fail(ctx, t.fatal, "%s", t.fatal_msg);
    else if (atomic_load(&t.tier) != TIER_NONE)
        rc = cn_fail(ctx, CAIRN_EINTERNAL,
                     "interrupted with %lld trials finished here; resume with --study %s",
                     (long long)t.n_done, study->row.name);
    free(t.fatal_msg);
    free_resources(&t);
    pthread_mutex_destroy(&t.mu);
    return rc;
}
