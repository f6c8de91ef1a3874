/* SPDX-License-Identifier: MIT */
/* runner.c - cairn_run_command: runs a command as a tracked run. Expands macros, prepares the
 * child's environment, spawns it in its own process group under a watchdog that kills the
 * group if cairn dies, passes its output through (and into logs/output.log as it grows) while
 * scanning it (and $CAIRN_METRICS_FILE) for metric lines, flushes points on a timer with
 * backoff, forwards SIGINT/SIGTERM, and maps its exit status to the run's. Called by
 * `cairn run` and, later, the tuner's trials. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#include <dirent.h>
#endif
#include "cairn/runner.h"
#include "runner/lineproto.h"
#include "tracking/context.h"
#include "core/core.h"
#include "core/text.h"
#include "formats/json.h"
#include "runner/run_config.h"
#include "base/fs.h"
#include "base/rng.h"
#include "base/sha256.h"
#include "base/str.h"
#include "base/time.h"
#include "base/xmalloc.h"
#include "base/map.h"
#include "base/banned.h"

extern char **environ;

#define LINE_MAX_BYTES (1u << 20) /* longer lines pass through but are not parsed */
#define DEFAULT_GRACE_MS 30000
#define POLL_MS 100
#define DRAIN_MS 500     /* after the child exits, how long grandchildren may hold its pipes */
#define MAX_REPORTED 100 /* distinct metric-line errors reported on the log */
#define COMPONENT "runner"
#define CPU_MASK_WORDS 16 /* sched_setaffinity's mask: 1,024 CPUs */
#define BITS_PER_WORD (8 * sizeof(unsigned long))
#define MEM_CHECK_MS 50 /* how often a memory limit is checked */
#define DEFAULT_FLUSH_MS 1000
#define FLUSH_EVERY 1000            /* points: a batch this large is written at once */
#define PENDING_MAX_POINTS 500000   /* unwritten points kept while the store fails (~16 MB) */
#define LOG_PENDING_MAX (64u << 20) /* output.log bytes kept while its disk is full */
#define BACKOFF_MIN_MS 100          /* a failed write is retried after this, doubling... */
#define BACKOFF_MAX_MS 5000         /* ...up to this */
#define FINAL_RETRY_MS 10000        /* after the command, how long failed writes are retried */
#define LOG_ARTIFACT "logs/output.log"

typedef struct kv {
    char *key;
    char *value;
} kv;

typedef struct stream {
    int fd;     /* our end of the child's pipe; -1 once closed */
    int out_fd; /* where its bytes pass through; -1 after EPIPE */
    cn_buf line;
    bool overflow; /* the current line passed LINE_MAX_BYTES: not parsed */
} stream;

/* The result with its storage: what cairn_run_result_free frees. */
typedef struct result_box {
    cairn_run_result pub;
    char *run_id, *experiment_id, *experiment, *run_name, *artifact_dir, *error, *first_error;
    char **keys;
    double *values;
    int64_t *steps;
    size_t cap;
    char stop_msg[200]; /* a stop reason with figures (the memory limit) */
} result_box;

typedef struct runner {
    cairn_ctx *ctx;
    const cairn_runner_opts *opts;
    char last_err[240]; /* the command's last non-blank stderr line: a failure's likely why */
    cn_run_config *cfg;
    kv *params;
    size_t n_params, cap_params;
    cn_map param_index;  /* key -> index in params: 100k params cost O(n), not O(n^2) */
    bool skip_param_env; /* too many params for CAIRN_PARAM_* variables (check_argv_size) */
    int64_t seed;
    char **argv; /* expanded, NULL-terminated */
    size_t argc;
    char **inputs;
    size_t n_inputs;
    cairn_run *run;
    cn_lineproto *lp;
    result_box *box;
    char *scratch; /* the run's folder/scratch: metrics file, stop file, params file */
    char *metrics_path, *stop_path, *params_path, *log_path;
    int log_fd;         /* logs/output.log in the run's artifact folder, written as it grows */
    cn_buf log_pending; /* output not yet in the log (its disk was full) */
    size_t log_dropped; /* output bytes past LOG_PENDING_MAX, lost */
    int metrics_fd;
    int alive_fd; /* the watchdog sees EOF on its end when we die: see spawn() */
    /* Points reach the store from here, not from the handle's own triggers (disabled), so a
     * failing store is retried with backoff instead of on every point. */
    int flush_interval_ms;
    size_t n_pending;    /* points handed to the run handle and not yet written */
    int64_t oldest_ms;   /* when the oldest of them arrived (monotonic) */
    int64_t retry_at_ms; /* no write before this after a failure (monotonic); 0: none */
    int backoff_ms;
    bool store_failing; /* the last write failed (warned once per outage) */
    size_t n_dropped;   /* points past PENDING_MAX_POINTS, lost */
    cn_lp_item *queued; /* params and tags whose write failed, retried with the points */
    size_t n_queued;
    cn_buf metrics_partial;
    int64_t last_step; /* -1 before the first metric */
    int64_t max_step;  /* the greatest step seen, -1 before the first metric */
    char **reported;   /* error keys (or messages) already reported */
    size_t n_reported;
    char **artifacts; /* paths named by cairn.artifact lines */
    size_t n_artifacts;
    /* cairn.final values without a step wait for the end of the run, so they land at the
     * last step whichever of stdout, stderr and the metrics file reported it last. */
    char **final_keys;
    double *final_values;
    size_t n_finals;
    stream out, err;
    const char *stop_reason; /* static text or box->stop_msg: why we stopped the command */
    int64_t started_ms;      /* monotonic, when the command started */
    int64_t mem_checked_ms;  /* monotonic, the last resident-memory check (memory_limit_bytes) */
    int64_t mem_peak;        /* bytes, the most the command's group held at a check */
} runner;

/* ---- small helpers ---- */

/* Appends s to a NULL-terminated list that only ever grows through push (it starts NULL with
 * n 0). The capacity is implicit: the least power of two (at least 4) that holds n + 2
 * slots, so 100k pushes cost O(n) copying, not O(n^2). */
static void push(char ***list, size_t *n, char *s)
{
    size_t need = *n + 2; /* the new item and the NULL */
    if (*n == 0)
        *list = cn_xrealloc(*list, 4 * sizeof **list);
    else if (need > 4 && ((need - 1) & (need - 2)) == 0) /* need - 1 was the capacity */
        *list = cn_xrealloc(*list, 2 * (need - 1) * sizeof **list);
    (*list)[(*n)++] = s;
    (*list)[*n] = NULL;
}

static void free_list(char **list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(list[i]);
    free(list);
}

static void write_all(int *fd, const char *p, size_t n)
{
    while (*fd >= 0 && n > 0) {
        ssize_t w = write(*fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            *fd = -1; /* EPIPE or a closed descriptor: stop passing through, keep running */
            return;
        }
        p += w;
        n -= (size_t)w;
    }
}

static void set_param(runner *r, const char *key, size_t key_len, const char *value)
{
    size_t i;
    if (cn_map_get(&r->param_index, key, key_len, &i)) {
        free(r->params[i].value);
        r->params[i].value = cn_xstrdup(value);
        return;
    }
    if (r->n_params == r->cap_params) {
        r->cap_params = r->cap_params ? r->cap_params * 2 : 16;
        r->params = cn_xrealloc(r->params, r->cap_params * sizeof *r->params);
    }
    kv *p = &r->params[r->n_params];
    p->key = cn_xstrndup(key, key_len);
    p->value = cn_xstrdup(value);
    cn_map_put(&r->param_index, p->key, key_len, r->n_params); /* the key string never moves */
    r->n_params++;
}

static const char *param_value(const runner *r, const char *key, size_t key_len)
{
    size_t i;
    return cn_map_get(&r->param_index, key, key_len, &i) ? r->params[i].value : NULL;
}

/* ---- macros ---- */

typedef struct macro_values {
    const char *run_id;
    const char *run_dir;
    const char *params_file;
} macro_values;

static void args_json(const runner *r, cn_buf *out)
{
    const char **keys = cn_xcalloc(r->n_params + 1, sizeof *keys);
    const char **values = cn_xcalloc(r->n_params + 1, sizeof *values);
    for (size_t i = 0; i < r->n_params; i++) {
        keys[i] = r->params[i].key;
        values[i] = r->params[i].value;
    }
    cn_json_write_map(out, keys, values, r->n_params);
    free(keys);
    free(values);
}

/* One list macro as separate words: ${args} "--k=v", ${args_no_equals} "--k" "v",
 * ${args_hydra} "k=v", ${args_p} "-p" "k=v" (as cairn train takes them). Returns false when
 * `name` is not one of them. */
static bool list_macro(const runner *r, const char *name, char ***out, size_t *n)
{
    int kind = strcmp(name, "args") == 0             ? 1
               : strcmp(name, "args_no_equals") == 0 ? 2
               : strcmp(name, "args_hydra") == 0     ? 3
               : strcmp(name, "args_p") == 0         ? 4
                                                     : 0;
    if (!kind)
        return false;
    for (size_t i = 0; i < r->n_params; i++) {
        const kv *p = &r->params[i];
        if (kind == 1) {
            push(out, n, cn_asprintf("--%s=%s", p->key, p->value));
        } else if (kind == 2 || kind == 4) {
            push(out, n, kind == 2 ? cn_asprintf("--%s", p->key) : cn_xstrdup("-p"));
            push(out, n, kind == 2 ? cn_xstrdup(p->value) : cn_asprintf("%s=%s", p->key, p->value));
        } else {
            push(out, n, cn_asprintf("%s=%s", p->key, p->value));
        }
    }
    return true;
}

/* The value of opts->macros entry `name`, else NULL. */
static const char *extra_macro(const runner *r, const char *name)
{
    size_t len = strlen(name);
    for (size_t i = 0; i < r->opts->n_macros; i++) {
        const char *m = r->opts->macros[i];
        if (strncmp(m, name, len) == 0 && m[len] == '=')
            return m + len + 1;
    }
    return NULL;
}

/* The text of a macro inside a larger word; false when the name is unknown. */
static bool scalar_macro(const runner *r, const macro_values *mv, const char *name, cn_buf *out)
{
    char **words = NULL;
    size_t n = 0;
    if (list_macro(r, name, &words, &n)) {
        for (size_t i = 0; i < n; i++) {
            if (i)
                cn_buf_putc(out, ' ');
            cn_buf_puts(out, words[i]);
        }
        free_list(words, n);
        return true;
    }
    if (strcmp(name, "args_json") == 0)
        args_json(r, out);
    else if (strcmp(name, "params_file") == 0)
        cn_buf_puts(out, mv->params_file);
    else if (strcmp(name, "run_id") == 0)
        cn_buf_puts(out, mv->run_id);
    else if (strcmp(name, "run_dir") == 0)
        cn_buf_puts(out, mv->run_dir);
    else if (strcmp(name, "seed") == 0)
        cn_buf_printf(out, "%lld", (long long)r->seed);
    else if (extra_macro(r, name))
        cn_buf_puts(out, extra_macro(r, name));
    else if (param_value(r, name, strlen(name)))
        cn_buf_puts(out, param_value(r, name, strlen(name)));
    else
        return false;
    return true;
}

static cairn_status unknown_macro(const runner *r, const char *arg, const char *name)
{
    cn_buf known = CN_BUF_INIT;
    for (size_t i = 0; i < r->opts->n_macros; i++)
        cn_buf_printf(&known, ", %.*s", (int)strcspn(r->opts->macros[i], "="), r->opts->macros[i]);
    for (size_t i = 0; i < r->n_params; i++)
        cn_buf_printf(&known, ", %s", r->params[i].key);
    cairn_status rc = cn_fail(r->ctx, CAIRN_EINVAL,
                              "command argument '%s': unknown macro '${%s}'; known: args, "
                              "args_no_equals, args_hydra, args_p, args_json, params_file, run_id, "
                              "run_dir, seed%s",
                              arg, name, cn_buf_str(&known));
    cn_buf_release(&known);
    return rc;
}

/* Whether the command is `cairn train` (this program or one named cairn): its params are
 * -p key=value words, not --key=value. */
static bool is_cairn_train(char *const *argv, size_t argc)
{
    if (argc < 2 || strcmp(argv[1], "train") != 0)
        return false;
    const char *base = strrchr(argv[0], '/');
    return strcmp(base ? base + 1 : argv[0], "cairn") == 0;
}

/* Expands every macro of src into *out (a new NULL-terminated list). *had_macro says whether
 * any macro was found. */
static cairn_status expand(runner *r, const macro_values *mv, char *const *src, size_t n_src,
                           char ***out, size_t *n_out, bool *had_macro)
{
    cn_buf word = CN_BUF_INIT, name = CN_BUF_INIT;
    cairn_status rc = CAIRN_OK;
    *out = NULL;
    *n_out = 0;
    *had_macro = false;
    push(out, n_out, NULL);
    *n_out = 0; /* keeps the list NULL-terminated even when empty */
    for (size_t i = 0; i < n_src && rc == CAIRN_OK; i++) {
        const char *a = src[i];
        size_t len = strlen(a);
        if (len > 3 && a[0] == '$' && a[1] == '{' && a[len - 1] == '}' &&
            !memchr(a + 2, '}', len - 3)) {
            char *nm = cn_xstrndup(a + 2, len - 3);
            bool is_list = list_macro(r, nm, out, n_out);
            free(nm);
            if (is_list) {
                *had_macro = true;
                continue;
            }
        }
        cn_buf_clear(&word);
        for (const char *p = a; *p;) {
            const char *close = p[0] == '$' && p[1] == '{' ? strchr(p + 2, '}') : NULL;
            if (!close) {
                cn_buf_putc(&word, *p++);
                continue;
            }
            cn_buf_clear(&name);
            cn_buf_append(&name, p + 2, (size_t)(close - p - 2));
            if (!scalar_macro(r, mv, cn_buf_str(&name), &word)) {
                rc = unknown_macro(r, a, cn_buf_str(&name));
                break;
            }
            *had_macro = true;
            p = close + 1;
        }
        push(out, n_out, cn_xstrdup(cn_buf_str(&word)));
    }
    cn_buf_release(&word);
    cn_buf_release(&name);
    if (rc != CAIRN_OK) {
        free_list(*out, *n_out);
        *out = NULL;
        *n_out = 0;
    }
    return rc;
}

/* The command before expansion: argv, else the config's; plus ${args} when asked. */
static cairn_status build_argv(runner *r, int argc, const char *const *argv, const macro_values *mv)
{
    char *const *src = (char *const *)argv;
    size_t n = argc > 0 ? (size_t)argc : 0;
    if (n == 0 && r->cfg) {
        src = r->cfg->command;
        n = r->cfg->n_command;
    }
    if (n == 0)
        return cn_fail(r->ctx, CAIRN_EINVAL,
                       "no command to run: give one after '--' or set 'command' in the config");
    bool had_macro;
    free_list(r->argv, r->argc);
    r->argv = NULL;
    r->argc = 0;
    cairn_status rc = expand(r, mv, src, n, &r->argv, &r->argc, &had_macro);
    if (rc != CAIRN_OK)
        return rc;
    if (!had_macro && r->opts->append_args)
        list_macro(r, is_cairn_train(r->argv, r->argc) ? "args_p" : "args", &r->argv, &r->argc);
    if (r->argc == 0 || !r->argv[0][0])
        return cn_fail(r->ctx, CAIRN_EINVAL, "the command is empty after macro expansion");
    return CAIRN_OK;
}

/* ---- the child's environment ---- */

/* The thread-count variables a cpus resource sets. */
static const char *const thread_vars[] = {"OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                                          "MKL_NUM_THREADS"};

static bool is_ours(const runner *r, const char *entry)
{
    static const char *const names[] = {
        "CAIRN_RUN_ID=",      "CAIRN_RUN_DIR=", "CAIRN_METRICS_FILE=", "CAIRN_STOP_FILE=",
        "CAIRN_PARAMS_FILE=", "CAIRN_SEED=",    "CAIRN_STORE=",        "CAIRN_PARAM_"};
    for (size_t i = 0; i < CN_ARRAY_LEN(names); i++)
        if (cn_str_starts(entry, names[i]))
            return true;
    for (size_t i = 0; i < CN_ARRAY_LEN(thread_vars) && r->opts->n_cpus; i++)
        if (cn_str_starts(entry, thread_vars[i]) && entry[strlen(thread_vars[i])] == '=')
            return true;
    return r->opts->cuda_devices && cn_str_starts(entry, "CUDA_VISIBLE_DEVICES=");
}

static char **child_env(const runner *r, size_t *n_out)
{
    char **env = NULL;
    size_t n = 0;
    for (char **e = environ; e && *e; e++)
        if (!is_ours(r, *e))
            push(&env, &n, cn_xstrdup(*e));
    for (size_t i = 0; i < CN_ARRAY_LEN(thread_vars) && r->opts->n_cpus; i++)
        push(&env, &n, cn_asprintf("%s=%zu", thread_vars[i], r->opts->n_cpus));
    if (r->opts->cuda_devices)
        push(&env, &n, cn_asprintf("CUDA_VISIBLE_DEVICES=%s", r->opts->cuda_devices));
    push(&env, &n, cn_asprintf("CAIRN_RUN_ID=%s", cairn_run_id(r->run)));
    push(&env, &n, cn_asprintf("CAIRN_RUN_DIR=%s", cairn_run_artifact_dir(r->run)));
    push(&env, &n, cn_asprintf("CAIRN_METRICS_FILE=%s", r->metrics_path));
    push(&env, &n, cn_asprintf("CAIRN_STOP_FILE=%s", r->stop_path));
    push(&env, &n, cn_asprintf("CAIRN_PARAMS_FILE=%s", r->params_path));
    push(&env, &n, cn_asprintf("CAIRN_SEED=%lld", (long long)r->seed));
    const char *store = cairn_store_uri(r->ctx);
    if (store && *store)
        push(&env, &n, cn_asprintf("CAIRN_STORE=%s", store));
    for (size_t i = 0; i < r->opts->n_env; i++)
        push(&env, &n, cn_xstrdup(r->opts->env[i]));
    for (size_t i = 0; i < r->n_params && !r->skip_param_env; i++) {
        cn_buf b = CN_BUF_INIT;
        cn_buf_puts(&b, "CAIRN_PARAM_");
        for (const char *p = r->params[i].key; *p; p++) {
            unsigned char c = (unsigned char)*p;
            if (c >= 'a' && c <= 'z')
                c = (unsigned char)(c - 'a' + 'A');
            else if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')))
                c = '_';
            cn_buf_putc(&b, (char)c);
        }
        cn_buf_printf(&b, "=%s", r->params[i].value);
        push(&env, &n, cn_buf_detach(&b));
    }
    *n_out = n;
    return env;
}

/* ---- metric records ---- */

static void note_error(runner *r, const char *key, const char *msg)
{
    result_box *box = r->box;
    box->pub.n_metric_errors++;
    if (!box->first_error) {
        box->first_error = cn_xstrdup(msg);
        box->pub.first_metric_error = box->first_error;
    }
    const char *id = key ? key : msg;
    for (size_t i = 0; i < r->n_reported; i++)
        if (strcmp(r->reported[i], id) == 0)
            return; /* reported once per key */
    if (r->n_reported >= MAX_REPORTED)
        return;
    push(&r->reported, &r->n_reported, cn_xstrdup(id));
    cn_log(r->ctx, CAIRN_LOG_WARN, COMPONENT, "%s", msg);
}

static void remember_metric(runner *r, const char *key, double value, int64_t step)
{
    result_box *box = r->box;
    size_t n = box->pub.n_metrics;
    for (size_t i = 0; i < n; i++)
        if (strcmp(box->keys[i], key) == 0) {
            if (step >= box->steps[i]) {
                box->values[i] = value;
                box->steps[i] = step;
            }
            return;
        }
    if (n == box->cap) {
        box->cap = box->cap ? 2 * box->cap : 16;
        box->keys = cn_xrealloc(box->keys, box->cap * sizeof *box->keys);
        box->values = cn_xrealloc(box->values, box->cap * sizeof *box->values);
        box->steps = cn_xrealloc(box->steps, box->cap * sizeof *box->steps);
    }
    box->keys[n] = cn_xstrdup(key);
    box->values[n] = value;
    box->steps[n] = step;
    box->pub.n_metrics = n + 1;
}

static int64_t mono_ms(void)
{
    return cn_mono_ns() / 1000000;
}

/* A failure of the store itself (full disk, lost connection), worth retrying; anything else
 * (a write-once param given another value, an invalid key) is the record's fault. */
static bool is_store_failure(cairn_status rc)
{
    return rc == CAIRN_EIO || rc == CAIRN_EDB;
}

static void store_failed(runner *r, const char *what)
{
    int64_t now = mono_ms();
    r->backoff_ms = r->backoff_ms ? r->backoff_ms * 2 : BACKOFF_MIN_MS;
    if (r->backoff_ms > BACKOFF_MAX_MS)
        r->backoff_ms = BACKOFF_MAX_MS;
    r->retry_at_ms = now + r->backoff_ms;
    if (!r->store_failing)
        cn_log(r->ctx, CAIRN_LOG_WARN, COMPONENT,
               "cannot write %s to the store, retrying for as long as the command runs: %s", what,
               cairn_errmsg(r->ctx));
    r->store_failing = true;
}

static void store_recovered(runner *r)
{
    if (r->store_failing)
        cn_log(r->ctx, CAIRN_LOG_INFO, COMPONENT, "the store accepts writes again");
    r->store_failing = false;
    r->backoff_ms = 0;
    r->retry_at_ms = 0;
}

/* A param or tag whose write failed for the store's sake waits for the next flush. */
static void queue_write(runner *r, const cn_lp_item *it)
{
    r->queued = cn_xrealloc(r->queued, (r->n_queued + 1) * sizeof *r->queued);
    r->queued[r->n_queued++] =
        (cn_lp_item){.kind = it->kind, .key = cn_xstrdup(it->key), .text = cn_xstrdup(it->text)};
}

static cairn_status write_item(runner *r, const cn_lp_item *it)
{
    if (it->kind == CN_LP_PARAM)
        return cairn_run_log_param(r->run, it->key, it->text);
    return cairn_run_set_tag(r->run, it->key, it->text);
}

/* A param or tag now, or queued behind earlier failed ones so their order holds. */
static void apply_item(runner *r, const cn_lp_item *it)
{
    if (r->n_queued) {
        queue_write(r, it);
        return;
    }
    cairn_status rc = write_item(r, it);
    if (rc == CAIRN_OK)
        return;
    if (!is_store_failure(rc)) {
        note_error(r, it->key, cairn_errmsg(r->ctx));
        return;
    }
    queue_write(r, it);
    store_failed(r, "a param or tag");
}

/* Writes what waits for the store: queued params and tags, then the buffered points. With
 * force false only when a batch is full or its oldest point is flush_interval_ms old. Never
 * before the backoff after a failure has passed. Returns false while the store fails. */
static bool flush_store(runner *r, bool force)
{
    int64_t now = mono_ms();
    if (!r->n_pending && !r->n_queued)
        return true;
    if (r->retry_at_ms && now < r->retry_at_ms)
        return false;
    if (!force && !r->n_queued && r->n_pending < FLUSH_EVERY &&
        now - r->oldest_ms < r->flush_interval_ms)
        return true;
    size_t done = 0;
    for (; done < r->n_queued; done++) {
        cairn_status rc = write_item(r, &r->queued[done]);
        if (rc != CAIRN_OK && is_store_failure(rc))
            break;
        if (rc != CAIRN_OK)
            note_error(r, r->queued[done].key, cairn_errmsg(r->ctx));
        free(r->queued[done].key);
        free(r->queued[done].text);
    }
    if (done) {
        memmove(r->queued, r->queued + done, (r->n_queued - done) * sizeof *r->queued);
        r->n_queued -= done;
    }
    if (r->n_queued) {
        store_failed(r, "params and tags");
        return false;
    }
    if (r->n_pending && cairn_run_flush(r->run) != CAIRN_OK) {
        store_failed(r, "metric points");
        return false;
    }
    r->n_pending = 0;
    store_recovered(r);
    return true;
}

/* When the next flush or retry is due, in ms from now (-1: nothing waits). */
static int64_t flush_due_in(const runner *r)
{
    if (!r->n_pending && !r->n_queued)
        return -1;
    int64_t due = r->retry_at_ms ? r->retry_at_ms : r->oldest_ms + r->flush_interval_ms;
    if (!r->retry_at_ms && r->n_queued)
        due = 0;
    int64_t in = due - mono_ms();
    return in < 0 ? 0 : in;
}

/* Hands points to the run handle, which only buffers them (its own flushing is off). */
static void log_points(runner *r, const cairn_metric *points, size_t n)
{
    if (r->n_pending + n > PENDING_MAX_POINTS) {
        if (!r->n_dropped)
            cn_log(r->ctx, CAIRN_LOG_WARN, COMPONENT,
                   "the store is failing and %d metric points wait to be written: dropping "
                   "newer points until it recovers (counted in tag cairn.metrics_dropped)",
                   PENDING_MAX_POINTS);
        r->n_dropped += n;
        return;
    }
    if (cairn_run_log_metrics(r->run, points, n) != CAIRN_OK) {
        note_error(r, NULL, cairn_errmsg(r->ctx)); /* a point the handle refused */
        return;
    }
    if (!r->n_pending)
        r->oldest_ms = mono_ms();
    r->n_pending += n;
}

/* Logs a record's warning once per key; the record still applies, so it is not an error. */
static void note_warning(runner *r, const cn_lp_record *rec)
{
    char *id = cn_asprintf("warning:%s", rec->warning_key ? rec->warning_key : rec->warning);
    for (size_t i = 0; i < r->n_reported; i++)
        if (strcmp(r->reported[i], id) == 0) {
            free(id);
            return;
        }
    if (r->n_reported >= MAX_REPORTED) {
        free(id);
        return;
    }
    push(&r->reported, &r->n_reported, id);
    cn_log(r->ctx, CAIRN_LOG_WARN, COMPONENT, "%s", rec->warning);
}

/* The step of a record's metrics: its own, else the last one + 1. False when there is no
 * next step (the last was INT64_MAX): refused rather than wrapped around. */
static bool record_step(runner *r, const cn_lp_record *rec, bool has_metric, int64_t *step)
{
    if (rec->has_step) {
        *step = rec->step;
        return true;
    }
    if (r->last_step == INT64_MAX && has_metric) {
        note_error(r, NULL,
                   "metric line without step= after step 9223372036854775807: there is no next "
                   "step; give step= explicitly");
        return false;
    }
    *step = r->last_step == INT64_MAX ? r->last_step : r->last_step + 1;
    return true;
}

/* A cairn.final value without a step waits for the end of the run. */
static void keep_final(runner *r, const cn_lp_item *it)
{
    size_t k = r->n_finals;
    push(&r->final_keys, &r->n_finals, cn_xstrdup(it->key));
    r->final_values = cn_xrealloc(r->final_values, r->n_finals * sizeof *r->final_values);
    r->final_values[k] = it->value;
}

static void apply(runner *r, const cn_lp_record *rec)
{
    if (!rec->is_record)
        return;
    if (rec->error) {
        note_error(r, rec->error_key, rec->error);
        return;
    }
    if (rec->warning)
        note_warning(r, rec);
    bool has_metric = false;
    for (size_t i = 0; i < rec->n; i++)
        has_metric |= rec->items[i].kind == CN_LP_METRIC;
    int64_t step;
    if (!record_step(r, rec, has_metric, &step))
        return;
    int64_t final_step = rec->has_step ? rec->step : (r->last_step < 0 ? 0 : r->last_step);
    cairn_metric *points = cn_xcalloc(rec->n + 1, sizeof *points);
    size_t n_points = 0;
    for (size_t i = 0; i < rec->n; i++) {
        const cn_lp_item *it = &rec->items[i];
        switch (it->kind) {
        case CN_LP_METRIC:
        case CN_LP_FINAL: {
            if (it->kind == CN_LP_FINAL && !rec->has_step) {
                keep_final(r, it);
                break;
            }
            int64_t s = it->kind == CN_LP_METRIC ? step : final_step;
            points[n_points++] = (cairn_metric){.key = it->key, .value = it->value, .step = s};
            remember_metric(r, it->key, it->value, s);
            if (r->opts->on_metric)
                r->opts->on_metric(r->opts->user, it->key, it->value, s, it->kind == CN_LP_FINAL);
            break;
        }
        case CN_LP_PARAM:
        case CN_LP_TAG: apply_item(r, it); break;
        case CN_LP_ARTIFACT: push(&r->artifacts, &r->n_artifacts, cn_xstrdup(it->text)); break;
        }
    }
    if (n_points)
        log_points(r, points, n_points);
    free(points);
    if (has_metric || rec->has_step) {
        r->last_step = step;
        if (step > r->max_step)
            r->max_step = step;
    }
}

static void feed_line(runner *r, const char *line, size_t len)
{
    cn_lp_record rec = CN_LP_RECORD_INIT;
    cn_lineproto_parse(r->lp, line, len, &rec);
    apply(r, &rec);
    cn_lp_record_release(&rec);
}

/* Writes what it can of p[0 .. n); returns how much, with *err set when that is not all. */
static size_t write_some(int fd, const char *p, size_t n, int *err)
{
    size_t done = 0;
    while (done < n) {
        ssize_t w = write(fd, p + done, n - done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            *err = w < 0 ? errno : EIO;
            break;
        }
        done += (size_t)w;
    }
    return done;
}

/* Writes output.log's backlog; true when none is left. */
static bool log_retry(runner *r)
{
    cn_buf *b = &r->log_pending;
    if (r->log_fd < 0 || !b->len)
        return true;
    int err = 0;
    size_t w = write_some(r->log_fd, b->data, b->len, &err);
    memmove(b->data, b->data + w, b->len - w);
    b->len -= w;
    b->data[b->len] = '\0';
    if (!b->len)
        cn_log(r->ctx, CAIRN_LOG_INFO, COMPONENT, "output log: written again");
    return b->len == 0;
}

/* Appends to output.log; what the disk refuses waits in memory (up to LOG_PENDING_MAX) for
 * log_retry, so a full disk loses no output once space returns. */
static void log_output(runner *r, const char *p, size_t n)
{
    if (r->log_fd < 0)
        return;
    if (!r->log_pending.len || log_retry(r)) {
        int err = 0;
        size_t w = write_some(r->log_fd, p, n, &err);
        p += w;
        n -= w;
        if (!n)
            return;
        cn_log(r->ctx, CAIRN_LOG_WARN, COMPONENT,
               "output log '%s': %s; keeping the output in memory until it can be written",
               r->log_path, strerror(err));
    }
    if (r->log_pending.len + n > LOG_PENDING_MAX) {
        if (!r->log_dropped)
            cn_log(r->ctx, CAIRN_LOG_WARN, COMPONENT,
                   "output log: %u MiB wait to be written; dropping newer output from the log",
                   LOG_PENDING_MAX >> 20);
        r->log_dropped += n;
        return;
    }
    cn_buf_append(&r->log_pending, p, n);
}

/* Remembers a stderr line that is not blank and not a metric line, clipped (at a UTF-8
 * boundary) to fit r->last_err. */
static void keep_err_line(runner *r, const char *line, size_t len)
{
    while (len && (line[len - 1] == ' ' || line[len - 1] == '\t'))
        len--;
    size_t lead = 0;
    while (lead < len && (line[lead] == ' ' || line[lead] == '\t'))
        lead++;
    if (lead == len || (len - lead >= 6 && memcmp(line + lead, "cairn:", 6) == 0))
        return;
    line += lead;
    len -= lead;
    if (len >= sizeof r->last_err) {
        len = sizeof r->last_err - 1;
        while (len && ((unsigned char)line[len] & 0xC0) == 0x80)
            len--;
    }
    memcpy(r->last_err, line, len);
    r->last_err[len] = '\0';
}

/* Passes a chunk through and splits it into lines ('\n' and '\r' both end one). */
static void stream_chunk(runner *r, stream *s, const char *p, size_t n)
{
    write_all(&s->out_fd, p, n);
    log_output(r, p, n);
    while (n > 0) {
        size_t i = 0;
        while (i < n && p[i] != '\n' && p[i] != '\r')
            i++;
        if (!s->overflow) {
            if (s->line.len + i > LINE_MAX_BYTES) {
                s->overflow = true;
                cn_buf_clear(&s->line);
            } else {
                cn_buf_append(&s->line, p, i);
            }
        }
        if (i == n)
            break;
        if (!s->overflow && s->line.len) {
            if (s == &r->err)
                keep_err_line(r, s->line.data, s->line.len);
            feed_line(r, s->line.data, s->line.len);
        }
        cn_buf_clear(&s->line);
        s->overflow = false;
        p += i + 1;
        n -= i + 1;
    }
}

static void stream_eof(runner *r, stream *s)
{
    if (!s->overflow && s->line.len) {
        if (s == &r->err)
            keep_err_line(r, s->line.data, s->line.len);
        feed_line(r, s->line.data, s->line.len);
    }
    cn_buf_clear(&s->line);
    close(s->fd);
    s->fd = -1;
}

/* Reads what was appended to $CAIRN_METRICS_FILE; at_end takes a last unterminated line. */
static void tail_metrics(runner *r, bool at_end)
{
    if (r->metrics_fd < 0)
        return;
    struct stat st;
    off_t pos = lseek(r->metrics_fd, 0, SEEK_CUR);
    if (fstat(r->metrics_fd, &st) == 0 && pos > st.st_size) {
        lseek(r->metrics_fd, 0, SEEK_SET); /* truncated and rewritten */
        cn_buf_clear(&r->metrics_partial);
    }
    char chunk[65536];
    for (;;) {
        ssize_t n = read(r->metrics_fd, chunk, sizeof chunk);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        cn_buf_append(&r->metrics_partial, chunk, (size_t)n);
    }
    cn_buf *b = &r->metrics_partial;
    size_t start = 0;
    cn_lp_record rec = CN_LP_RECORD_INIT;
    for (size_t i = 0; i < b->len; i++) {
        if (b->data[i] != '\n')
            continue;
        if (i - start <= LINE_MAX_BYTES) {
            cn_lineproto_parse_file_line(b->data + start, i - start, &rec);
            apply(r, &rec);
        }
        start = i + 1;
    }
    if (at_end && start < b->len) {
        cn_lineproto_parse_file_line(b->data + start, b->len - start, &rec);
        apply(r, &rec);
        start = b->len;
    }
    cn_lp_record_release(&rec);
    memmove(b->data ? b->data : chunk, b->data ? b->data + start : chunk, b->len - start);
    b->len -= start;
    if (b->data)
        b->data[b->len] = '\0';
}

/* ---- signals: a self-pipe the poll loop watches ---- */

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

typedef struct sig_state {
    bool active;
    struct sigaction old_int, old_term;
} sig_state;

static void signals_install(sig_state *ss)
{
    if (pipe(sig_pipe) != 0)
        return;
    for (int i = 0; i < 2; i++) {
        fcntl(sig_pipe[i], F_SETFD, FD_CLOEXEC);
        fcntl(sig_pipe[i], F_SETFL, O_NONBLOCK);
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &ss->old_int);
    sigaction(SIGTERM, &sa, &ss->old_term);
    ss->active = true;
}

static void signals_restore(sig_state *ss)
{
    if (!ss->active)
        return;
    sigaction(SIGINT, &ss->old_int, NULL);
    sigaction(SIGTERM, &ss->old_term, NULL);
    close(sig_pipe[0]);
    close(sig_pipe[1]);
    sig_pipe[0] = sig_pipe[1] = -1;
    ss->active = false;
}

/* ---- spawning and waiting ---- */

typedef struct child {
    pid_t pid;
    int status;
    bool stopped_by_us; /* we forwarded a signal */
    int stop_signal;
} child;

/* Finds argv[0] as posix_spawnp would: a name without '/' is searched in PATH. Returns 0 and
 * the path in *out, else ENOENT, or EACCES when only non-executable files were found. */
static int resolve_command(const char *name, char **out)
{
    *out = NULL;
    if (strchr(name, '/')) {
        *out = cn_xstrdup(name);
        return 0;
    }
    const char *path = getenv("PATH");
    if (!path || !*path)
        path = "/bin:/usr/bin";
    int e = ENOENT;
    for (const char *p = path;;) {
        const char *colon = strchr(p, ':');
        int n = colon ? (int)(colon - p) : (int)strlen(p);
        char *cand = n ? cn_asprintf("%.*s/%s", n, p, name) : cn_asprintf("./%s", name);
        struct stat st;
        if (stat(cand, &st) == 0 && S_ISREG(st.st_mode)) {
            if (access(cand, X_OK) == 0) {
                *out = cand;
                return 0;
            }
            e = EACCES;
        }
        free(cand);
        if (!colon)
            return e;
        p = colon + 1;
    }
}

/* What the forked child needs, all prepared before fork: after it only async-signal-safe
 * calls are allowed (the caller may have threads). */
typedef struct spawn_plan {
    const char *path;
    char *const *argv;
    char *const *env;
    int out_fd, err_fd; /* become the command's stdout and stderr */
    int alive_fd;       /* EOF once cairn is gone */
    int exec_err_fd;    /* the command's exec errno goes here; closed by a successful exec */
    const unsigned long *cpu_mask; /* sched_setaffinity's mask for the command, or NULL */
    size_t cpu_mask_bytes;
} spawn_plan;

static const int defaulted[] = {SIGINT,  SIGTERM, SIGPIPE, SIGHUP,
                                SIGQUIT, SIGCHLD, SIGUSR1, SIGUSR2};
static int watchdog_chld_fd = -1;

static void watchdog_on_chld(int sig)
{
    (void)sig;
    int saved = errno;
    char c = 0;
    if (write(watchdog_chld_fd, &c, 1) < 0) {
        /* the pipe is full: a wake-up is pending anyway */
    }
    errno = saved;
}

static void set_handler(int sig, void (*fn)(int))
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = fn;
    sigemptyset(&sa.sa_mask);
    sigaction(sig, &sa, NULL);
}

/* In the grandchild: the command itself, with default signals and an empty mask. */
static _Noreturn void exec_command(const spawn_plan *pl, pid_t watchdog)
{
    sigset_t none;
    for (size_t i = 0; i < CN_ARRAY_LEN(defaulted); i++)
        set_handler(defaulted[i], SIG_DFL);
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
#ifdef __linux__
    prctl(PR_SET_PDEATHSIG, SIGKILL); /* the watchdog never dies first unless killed */
#endif
    int e = ESRCH; /* the watchdog died before the prctl: do not run unwatched */
    if (getppid() == watchdog) {
        execve(pl->path, pl->argv, pl->env);
        e = errno;
    }
    if (write(pl->exec_err_fd, &e, sizeof e) < 0) {
        /* the parent then sees exit 127 without a reason */
    }
    _exit(127);
}

/* Exits the way the command did: the same code, or the same signal (without a core file). */
static _Noreturn void relay_status(int status)
{
    if (WIFEXITED(status))
        _exit(WEXITSTATUS(status));
    int sig = WIFSIGNALED(status) ? WTERMSIG(status) : SIGKILL;
    struct rlimit no_core = {0, 0};
    sigset_t only;
    setrlimit(RLIMIT_CORE, &no_core);
    set_handler(sig, SIG_DFL);
    sigemptyset(&only);
    sigaddset(&only, sig);
    sigprocmask(SIG_UNBLOCK, &only, NULL);
    kill(getpid(), sig);
    _exit(128 + sig);
}

/* Closes every descriptor above 2 but the four given: a watchdog forked while another
 * thread ran a trial (cairn tune -j) must not hold that trial's pipes, or the other trial's
 * output would not end with its command and its watchdog would not see cairn die.
 * close_range(2) is a bare system call: safe after fork in a threaded process. */
static void close_others(int a, int b, int c, int d)
{
    int keep[4] = {a, b, c, d};
    for (int i = 0; i < 4; i++) /* sort the four (insertion sort) */
        for (int j = i; j > 0 && keep[j - 1] > keep[j]; j--) {
            int t = keep[j];
            keep[j] = keep[j - 1];
            keep[j - 1] = t;
        }
    unsigned int from = 3;
    for (int i = 0; i < 4; i++) {
        if (keep[i] < (int)from)
            continue;
        if ((unsigned int)keep[i] > from)
            syscall(SYS_close_range, from, (unsigned int)keep[i] - 1, 0u);
        from = (unsigned int)keep[i] + 1;
    }
    syscall(SYS_close_range, from, ~0U, 0u);
}

/* In the forked child: the watchdog, leader of the command's process group. It starts the
 * command, exits as the command did, and kills the whole group (grandchildren included)
 * with SIGKILL when cairn dies first, which it sees as EOF on alive_fd. It ignores the
 * signals cairn forwards to the group. */
static _Noreturn void watchdog_main(const spawn_plan *pl)
{
    int chld[2];
    sigset_t none;
    setpgid(0, 0);
    for (size_t i = 0; i < CN_ARRAY_LEN(defaulted); i++)
        set_handler(defaulted[i], SIG_IGN);
    if (pipe(chld) != 0)
        _exit(127);
    for (int i = 0; i < 2; i++) {
        fcntl(chld[i], F_SETFD, FD_CLOEXEC);
        fcntl(chld[i], F_SETFL, O_NONBLOCK);
    }
    watchdog_chld_fd = chld[1];
    set_handler(SIGCHLD, watchdog_on_chld);
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    if (dup2(pl->out_fd, 1) < 0 || dup2(pl->err_fd, 2) < 0)
        _exit(127);
    close(pl->out_fd);
    close(pl->err_fd);
    close_others(pl->alive_fd, pl->exec_err_fd, chld[0], chld[1]);
    if (pl->cpu_mask && syscall(SYS_sched_setaffinity, 0, pl->cpu_mask_bytes, pl->cpu_mask) != 0) {
        int e = errno;
        if (write(pl->exec_err_fd, &e, sizeof e) < 0) {
            /* exit 127 without a reason */
        }
        _exit(127);
    }
    pid_t self = getpid();
    pid_t cmd = fork();
    if (cmd == 0)
        exec_command(pl, self);
    if (cmd < 0) {
        int e = errno;
        if (write(pl->exec_err_fd, &e, sizeof e) < 0) {
            /* exit 127 without a reason */
        }
        _exit(127);
    }
    close(pl->exec_err_fd);
    for (;;) {
        int status;
        if (waitpid(cmd, &status, WNOHANG) == cmd)
            relay_status(status);
        struct pollfd pfd[2] = {{.fd = pl->alive_fd, .events = POLLIN},
                                {.fd = chld[0], .events = POLLIN}};
        if (poll(pfd, 2, -1) < 0)
            continue;
        char buf[64];
        if (pfd[0].revents && read(pl->alive_fd, buf, sizeof buf) <= 0)
            kill(-self, SIGKILL); /* cairn is gone: so is everything it started */
        if (pfd[1].revents && read(chld[0], buf, sizeof buf) < 0) {
            /* drained */
        }
    }
}

static void close_pair(int p[2])
{
    for (int i = 0; i < 2; i++)
        if (p[i] >= 0)
            close(p[i]);
    p[0] = p[1] = -1;
}

/* Starts the command under its watchdog (see watchdog_main); c->pid is the watchdog, whose
 * process group holds the command. Returns 0, or the errno of a command that cannot run. */
static int spawn(runner *r, child *c)
{
    int out[2] = {-1, -1}, err[2] = {-1, -1}, alive[2] = {-1, -1}, exec_err[2] = {-1, -1};
    char *path = NULL;
    size_t n_env = 0;
    char **env = NULL;
    int e = resolve_command(r->argv[0], &path);
    if (e == 0 && (pipe(out) != 0 || pipe(err) != 0 || pipe(alive) != 0 || pipe(exec_err) != 0))
        e = errno;
    if (e == 0) {
        /* Close-on-exec everywhere: the command gets only its stdout and stderr (dup2). */
        int all[] = {out[0], out[1], err[0], err[1], alive[0], alive[1], exec_err[0], exec_err[1]};
        for (size_t i = 0; i < CN_ARRAY_LEN(all); i++)
            fcntl(all[i], F_SETFD, FD_CLOEXEC);
        env = child_env(r, &n_env);
        unsigned long mask[CPU_MASK_WORDS];
        memset(mask, 0, sizeof mask);
        for (size_t i = 0; i < r->opts->n_cpus; i++) {
            int cpu = r->opts->cpus[i];
            if (cpu >= 0 && (size_t)cpu < CPU_MASK_WORDS * BITS_PER_WORD)
                mask[(size_t)cpu / BITS_PER_WORD] |= 1UL << ((size_t)cpu % BITS_PER_WORD);
        }
        spawn_plan pl = {path,       r->argv,  env,         out[1],
                         err[1],     alive[0], exec_err[1], r->opts->n_cpus ? mask : NULL,
                         sizeof mask};
        c->pid = fork();
        if (c->pid == 0) {
            close(out[0]);
            close(err[0]);
            close(alive[1]);
            close(exec_err[0]);
            watchdog_main(&pl);
        }
        if (c->pid < 0)
            e = errno;
    }
    if (e == 0) {
        setpgid(c->pid, c->pid); /* also done by the child: whichever runs first */
        close(exec_err[1]);
        exec_err[1] = -1;
        int child_errno = 0;
        ssize_t got;
        do
            got = read(exec_err[0], &child_errno, sizeof child_errno);
        while (got < 0 && errno == EINTR);
        if (got == (ssize_t)sizeof child_errno) {
            e = child_errno ? child_errno : EIO;
            while (waitpid(c->pid, &c->status, 0) < 0 && errno == EINTR) {
            }
        }
    }
    free(path);
    free_list(env, n_env);
    close(out[1]);
    close(err[1]);
    close(alive[0]);
    out[1] = err[1] = alive[0] = -1;
    close_pair(exec_err);
    if (e != 0) {
        close_pair(out);
        close_pair(err);
        close_pair(alive);
        return e;
    }
    r->out.fd = out[0];
    r->err.fd = err[0];
    r->alive_fd = alive[1];
    return 0;
}

static void stop_child(runner *r, child *c, int sig, int64_t *kill_at_ms)
{
    if (!c->stopped_by_us) {
        /* Tell the command first, then signal its whole group (PRODUCT: stopping). */
        int fd = open(r->stop_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd >= 0) {
            char msg[32];
            int n = snprintf(msg, sizeof msg, "signal %d\n", sig);
            if (write(fd, msg, (size_t)n) < 0) {
                /* the stop file is advisory */
            }
            close(fd);
        }
        c->stopped_by_us = true;
        c->stop_signal = sig;
        kill(-c->pid, sig);
        int grace = r->opts->kill_grace_ms > 0 ? r->opts->kill_grace_ms : DEFAULT_GRACE_MS;
        *kill_at_ms = cn_mono_ns() / 1000000 + grace;
        cn_log(r->ctx, CAIRN_LOG_INFO, COMPONENT,
               "forwarded signal %d to the command; SIGKILL "
               "in %d ms",
               sig, grace);
    } else {
        kill(-c->pid, SIGKILL); /* a second signal: no more waiting */
        *kill_at_ms = 0;
    }
}

/* How long poll may sleep: until the next flush or retry is due, at most POLL_MS (the child's
 * exit is noticed by polling waitpid). */
static int poll_timeout(const runner *r)
{
    int64_t due = flush_due_in(r);
    if (r->opts->memory_limit_bytes > 0 && (due < 0 || due > MEM_CHECK_MS))
        due = MEM_CHECK_MS;
    if (r->log_pending.len && (due < 0 || due > BACKOFF_MIN_MS))
        due = BACKOFF_MIN_MS;
    return due < 0 || due > POLL_MS ? POLL_MS : (int)due;
}

/* The resident memory of process group pgid, summed over its processes (/proc/PID/stat). */
static int64_t group_rss(pid_t pgid)
{
    DIR *d = opendir("/proc");
    if (!d)
        return 0;
    static long page = 0;
    if (!page)
        page = sysconf(_SC_PAGESIZE);
    int64_t total = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] < '1' || e->d_name[0] > '9')
            continue;
        char path[300], buf[1024];
        snprintf(path, sizeof path, "/proc/%.255s/stat", e->d_name);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            continue;
        ssize_t got = read(fd, buf, sizeof buf - 1);
        close(fd);
        if (got <= 0)
            continue;
        buf[got] = 0;
        /* pid (comm) state ppid pgrp ...: comm may hold spaces and parentheses; the fields
         * start after the last ')'. rss is field 24, pgrp field 5. */
        char *p = strrchr(buf, ')');
        if (!p)
            continue;
        long long field[24] = {0};
        int k = 3;
        for (char *tok = p + 2; *tok && k <= 24;) {
            char *end;
            if (k == 3) { /* state: a letter */
                tok = strchr(tok, ' ');
            } else {
                field[k - 1] = strtoll(tok, &end, 10);
                tok = end;
            }
            if (!tok || !*tok)
                break;
            tok++;
            k++;
        }
        if (k > 24 && field[4] == (long long)pgid)
            total += (int64_t)field[23] * page;
    }
    closedir(d);
    return total;
}

/* The reason to stop a command over its memory limit, or NULL (checked every MEM_CHECK_MS). */
static const char *memory_check(runner *r, const child *c)
{
    int64_t limit = r->opts->memory_limit_bytes, now = cn_mono_ns() / 1000000;
    if (limit <= 0 || now - r->mem_checked_ms < MEM_CHECK_MS)
        return NULL;
    r->mem_checked_ms = now;
    int64_t rss = group_rss(c->pid);
    if (rss > r->mem_peak)
        r->mem_peak = rss;
    if (rss <= limit)
        return NULL;
    snprintf(r->box->stop_msg, sizeof r->box->stop_msg,
             "memory-limit: the command's processes held %.0f MiB, over the limit of %.0f MiB "
             "(raise --memory-per-trial or use less memory)",
             (double)rss / 1048576.0, (double)limit / 1048576.0);
    return r->box->stop_msg;
}

static void supervise(runner *r, child *c, bool forwarding)
{
    bool exited = false;
    int64_t exited_at_ms = 0, kill_at_ms = 0;
    char chunk[65536];
    for (;;) {
        int64_t now = cn_mono_ns() / 1000000;
        bool open_pipes = r->out.fd >= 0 || r->err.fd >= 0;
        if (exited && (!open_pipes || now - exited_at_ms >= DRAIN_MS))
            break;
        struct pollfd pfd[3];
        stream *owner[3] = {NULL, NULL, NULL};
        nfds_t n = 0;
        if (r->out.fd >= 0) {
            owner[n] = &r->out;
            pfd[n++] = (struct pollfd){.fd = r->out.fd, .events = POLLIN};
        }
        if (r->err.fd >= 0) {
            owner[n] = &r->err;
            pfd[n++] = (struct pollfd){.fd = r->err.fd, .events = POLLIN};
        }
        if (forwarding && sig_pipe[0] >= 0)
            pfd[n++] = (struct pollfd){.fd = sig_pipe[0], .events = POLLIN};
        int ready = poll(pfd, n, poll_timeout(r));
        if (ready < 0 && errno != EINTR)
            break;
        for (nfds_t i = 0; ready > 0 && i < n; i++) {
            if (!(pfd[i].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            if (!owner[i]) {
                unsigned char sigs[16];
                ssize_t got = read(sig_pipe[0], sigs, sizeof sigs);
                for (ssize_t k = 0; k < got; k++)
                    if (!exited)
                        stop_child(r, c, sigs[k], &kill_at_ms);
                continue;
            }
            ssize_t got = read(pfd[i].fd, chunk, sizeof chunk);
            if (got < 0 && (errno == EINTR || errno == EAGAIN))
                continue;
            if (got <= 0)
                stream_eof(r, owner[i]);
            else
                stream_chunk(r, owner[i], chunk, (size_t)got);
        }
        tail_metrics(r, false);
        flush_store(r, false);
        cairn_run_heartbeat(r->run); /* a failure is retried an interval later */
        log_retry(r);
        if (!exited) {
            pid_t w = waitpid(c->pid, &c->status, WNOHANG);
            if (w == c->pid || (w < 0 && errno == ECHILD)) {
                exited = true;
                exited_at_ms = cn_mono_ns() / 1000000;
            }
        }
        if (!exited && !c->stopped_by_us) {
            const char *why = NULL;
            int sig = SIGTERM;
            if (r->opts->timeout_ms > 0 &&
                cn_mono_ns() / 1000000 - r->started_ms >= r->opts->timeout_ms)
                why = "timeout";
            else if ((why = memory_check(r, c)) != NULL)
                sig = SIGKILL; /* no grace: it is taking the machine */
            else if (r->opts->should_stop)
                why = r->opts->should_stop(r->opts->user);
            if (why) {
                r->stop_reason = why;
                stop_child(r, c, sig, &kill_at_ms);
            }
        }
        if (!exited && kill_at_ms && cn_mono_ns() / 1000000 >= kill_at_ms) {
            cn_log(r->ctx, CAIRN_LOG_WARN, COMPONENT,
                   "the command did not stop within the grace period: sent SIGKILL");
            kill(-c->pid, SIGKILL);
            kill_at_ms = 0;
        }
    }
    /* Grandchildren may still hold the pipes: take what they wrote so far, then let go. */
    if (r->out.fd >= 0)
        stream_eof(r, &r->out);
    if (r->err.fd >= 0)
        stream_eof(r, &r->err);
    close(r->alive_fd); /* the watchdog has exited: nothing watches it any more */
    r->alive_fd = -1;
}

/* ---- setup and teardown ---- */

/* The runner's own files live in the run's folder (beside its artifacts), not in $TMPDIR, so
 * a killed cairn leaves nothing behind there; output.log is written in place as it grows. */
static cairn_status make_scratch(runner *r)
{
    const char *art = cairn_run_artifact_dir(r->run);
    const char *slash = strrchr(art, '/');
    char *run_dir = slash && slash != art ? cn_xstrndup(art, (size_t)(slash - art)) : NULL;
    r->scratch = cn_path_join(run_dir ? run_dir : art, run_dir ? "scratch" : ".scratch");
    free(run_dir);
    r->metrics_path = cn_path_join(r->scratch, "metrics.jsonl");
    r->stop_path = cn_path_join(r->scratch, "stop");
    r->params_path = cn_path_join(r->scratch, "params.json");
    r->log_path = cn_path_join(art, LOG_ARTIFACT);
    char *log_dir = cn_path_join(art, "logs");
    int made = cn_fs_mkdirs(r->scratch, 0755) == 0 ? cn_fs_mkdirs(log_dir, 0755) : -1;
    free(log_dir);
    if (made != 0)
        return cn_fail_errno(r->ctx, CAIRN_EIO, "run folder '%s'", r->scratch);
    int fd = open(r->metrics_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return cn_fail_errno(r->ctx, CAIRN_EIO, "metrics file '%s'", r->metrics_path);
    close(fd);
    r->metrics_fd = open(r->metrics_path, O_RDONLY | O_CLOEXEC);
    if (r->metrics_fd < 0)
        return cn_fail_errno(r->ctx, CAIRN_EIO, "metrics file '%s'", r->metrics_path);
    r->log_fd = open(r->log_path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644);
    if (r->log_fd < 0)
        return cn_fail_errno(r->ctx, CAIRN_EIO, "output log '%s'", r->log_path);
    cn_buf json = CN_BUF_INIT;
    args_json(r, &json);
    cn_buf_putc(&json, '\n');
    int w = cn_fs_write_atomic(r->params_path, json.data, json.len);
    cn_buf_release(&json);
    if (w != 0)
        return cn_fail_errno(r->ctx, CAIRN_EIO, "params file '%s'", r->params_path);
    return CAIRN_OK;
}

static void remove_scratch(runner *r)
{
    if (r->metrics_fd >= 0)
        close(r->metrics_fd);
    if (r->log_fd >= 0)
        close(r->log_fd);
    r->metrics_fd = r->log_fd = -1;
    if (!r->scratch)
        return;
    const char *files[] = {r->metrics_path, r->stop_path, r->params_path};
    for (size_t i = 0; i < CN_ARRAY_LEN(files); i++)
        if (files[i])
            unlink(files[i]);
    rmdir(r->scratch);
}

static cairn_status merge_params(runner *r)
{
    if (r->cfg)
        for (size_t i = 0; i < r->cfg->n_params; i++)
            set_param(r, r->cfg->params[i].key, strlen(r->cfg->params[i].key),
                      r->cfg->params[i].value);
    for (size_t i = 0; i < r->opts->n_params; i++) {
        const char *kvtext = r->opts->params[i];
        const char *eq = strchr(kvtext, '=');
        if (!eq)
            return cn_fail(r->ctx, CAIRN_EINVAL, "param '%s': expected key=value", kvtext);
        set_param(r, kvtext, (size_t)(eq - kvtext), eq + 1);
    }
    for (size_t i = 0; i < r->n_params; i++) {
        const char *key = r->params[i].key;
        cairn_status rc = cn_text_check(r->ctx, "param name", key);
        if (rc != CAIRN_OK)
            return rc;
        if (!cn_lp_key_valid(key, strlen(key)))
            return cn_fail(r->ctx, CAIRN_EINVAL,
                           "param '%s': invalid name; use 1-250 of letters, digits, _ - . / : "
                           "and space",
                           key);
    }
    return CAIRN_OK;
}

/* Every input must be readable before a run is created for it. */
static cairn_status check_inputs(runner *r)
{
    if (r->cfg)
        for (size_t i = 0; i < r->cfg->n_inputs; i++)
            push(&r->inputs, &r->n_inputs, cn_xstrdup(r->cfg->inputs[i]));
    for (size_t i = 0; i < r->opts->n_inputs; i++)
        push(&r->inputs, &r->n_inputs, cn_xstrdup(r->opts->inputs[i]));
    for (size_t i = 0; i < r->n_inputs; i++) {
        int fd = cn_fs_open_regular(r->inputs[i], O_RDONLY);
        if (fd < 0 && errno == CN_FS_ENOTREG)
            return cn_fail(r->ctx, CAIRN_EINVAL, "input '%s': not a regular file", r->inputs[i]);
        if (fd < 0)
            return cn_fail_errno(r->ctx, errno == ENOENT ? CAIRN_ENOTFOUND : CAIRN_EIO,
                                 "input '%s'", r->inputs[i]);
        close(fd);
    }
    return CAIRN_OK;
}

static cairn_status start_run(runner *r)
{
    const cairn_runner_opts *o = r->opts;
    cairn_run_opts ro = CAIRN_RUN_OPTS_INIT;
    cairn_tag *tags = cn_xcalloc((r->cfg ? r->cfg->n_tags : 0) + o->n_tags + 1, sizeof *tags);
    size_t n_tags = 0;
    if (r->cfg)
        for (size_t i = 0; i < r->cfg->n_tags; i++)
            tags[n_tags++] = (cairn_tag){r->cfg->tags[i].key, r->cfg->tags[i].value};
    for (size_t i = 0; i < o->n_tags; i++)
        tags[n_tags++] = o->tags[i];
    ro.experiment = o->experiment ? o->experiment : r->cfg ? r->cfg->experiment : NULL;
    ro.name = o->name ? o->name : r->cfg ? r->cfg->name : NULL;
    ro.tags = tags;
    ro.n_tags = n_tags;
    ro.flush_every = INT_MAX;  /* the runner decides when to write: see flush_store() */
    ro.flush_interval_ms = -1; /* no timer thread: supervise() flushes and beats */
    cairn_status rc = o->run_id ? cairn_run_attach(r->ctx, o->run_id, &r->run)
                                : cairn_run_start(r->ctx, &ro, &r->run);
    free(tags);
    if (rc != CAIRN_OK)
        return rc;
    result_box *box = r->box;
    box->run_id = cn_xstrdup(cairn_run_id(r->run));
    box->experiment_id = cn_xstrdup(cairn_run_experiment_id(r->run));
    box->experiment = cn_xstrdup(ro.experiment ? ro.experiment : "Default");
    box->artifact_dir = cn_xstrdup(cairn_run_artifact_dir(r->run));
    box->run_name = cn_xstrdup(ro.name);
    if (!box->run_name) {
        cairn_run_record *rec = NULL;
        if (cairn_run_get(r->ctx, box->run_id, &rec) == CAIRN_OK)
            box->run_name = cn_xstrdup(rec->info.run_name);
        cairn_run_record_free(rec);
    }
    box->pub.run_id = box->run_id;
    box->pub.experiment_id = box->experiment_id;
    box->pub.experiment = box->experiment;
    box->pub.run_name = box->run_name;
    box->pub.artifact_dir = box->artifact_dir;
    box->pub.status = CAIRN_RUN_RUNNING;
    return CAIRN_OK;
}

static cairn_status log_params(runner *r)
{
    cairn_param batch[CAIRN_BATCH_PARAMS_MAX];
    for (size_t i = 0; i < r->n_params;) {
        size_t n = 0;
        for (; i < r->n_params && n < CAIRN_BATCH_PARAMS_MAX; i++, n++)
            batch[n] = (cairn_param){r->params[i].key, r->params[i].value};
        cairn_status rc = cairn_run_log_batch(r->run, NULL, 0, batch, n, NULL, 0);
        if (rc != CAIRN_OK)
            return rc;
    }
    return CAIRN_OK;
}

static cairn_status set_tagf(runner *r, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static cairn_status set_tagf(runner *r, const char *key, const char *fmt, ...)
{
    cn_buf b = CN_BUF_INIT;
    va_list ap;
    va_start(ap, fmt);
    cn_buf_vprintf(&b, fmt, ap);
    va_end(ap);
    cairn_status rc = cairn_run_set_tag(r->run, key, cn_buf_str(&b));
    cn_buf_release(&b);
    return rc;
}

/* Keeps a local file or folder: a safe relative path keeps its folders ("out/model.bin"),
 * anything else lands at the root under its own name. */
static void keep_artifact(runner *r, const char *path)
{
    if (!cn_fs_exists(path)) {
        cn_log(r->ctx, CAIRN_LOG_WARN, COMPONENT, "artifact '%s': No such file or directory", path);
        return;
    }
    char *dir = NULL;
    const char *slash = strrchr(path, '/');
    if (cn_path_is_safe_relative(path) && slash)
        dir = cn_xstrndup(path, (size_t)(slash - path));
    if (cairn_run_log_artifact(r->run, path, dir) != CAIRN_OK)
        cn_log(r->ctx, CAIRN_LOG_WARN, COMPONENT, "artifact '%s': %s", path, cairn_errmsg(r->ctx));
    free(dir);
}

/* After the command: retries what still waits (points, params, tags, the log's backlog) for
 * up to FINAL_RETRY_MS, so space that returns soon loses nothing. */
static void final_flush(runner *r)
{
    int64_t give_up = mono_ms() + FINAL_RETRY_MS;
    for (;;) {
        bool log_done = log_retry(r);
        bool store_done = flush_store(r, true);
        int64_t left = give_up - mono_ms();
        if ((log_done && store_done) || left <= 0)
            break;
        int64_t wait = store_done ? BACKOFF_MIN_MS : flush_due_in(r);
        if (!log_done && wait > BACKOFF_MIN_MS)
            wait = BACKOFF_MIN_MS;
        if (wait > left)
            wait = left;
        poll(NULL, 0, wait > 0 ? (int)wait : 1);
    }
    if (r->n_pending || r->n_queued)
        cn_log(r->ctx, CAIRN_LOG_ERROR, COMPONENT,
               "%zu metric points and %zu params or tags could not be written: %s", r->n_pending,
               r->n_queued, cairn_errmsg(r->ctx));
    if (r->log_pending.len)
        cn_log(r->ctx, CAIRN_LOG_ERROR, COMPONENT, "output log: %zu bytes could not be written",
               r->log_pending.len);
}

/* output.log is already in place: close it and record its size and SHA-256. */
static void record_log(runner *r)
{
    if (r->log_fd < 0)
        return;
    close(r->log_fd);
    r->log_fd = -1;
    if (cairn_run_record_artifact(r->run, LOG_ARTIFACT) != CAIRN_OK)
        cn_log(r->ctx, CAIRN_LOG_WARN, COMPONENT, "output log: %s", cairn_errmsg(r->ctx));
}

/* After the command: artifacts, the log, error and missing-metric tags, the status. */
static cairn_status wrap_up(runner *r, cairn_run_status status)
{
    result_box *box = r->box;
    int64_t last = r->max_step < 0 ? 0 : r->max_step;
    for (size_t i = 0; i < r->n_finals; i++) {
        cairn_metric m = {.key = r->final_keys[i], .value = r->final_values[i], .step = last};
        log_points(r, &m, 1);
        remember_metric(r, r->final_keys[i], r->final_values[i], last);
        if (r->opts->on_metric)
            r->opts->on_metric(r->opts->user, r->final_keys[i], r->final_values[i], last, true);
    }
    final_flush(r);
    for (size_t i = 0; i < r->n_artifacts; i++)
        keep_artifact(r, r->artifacts[i]);
    if (r->cfg)
        for (size_t i = 0; i < r->cfg->n_artifacts; i++)
            keep_artifact(r, r->cfg->artifacts[i]);
    record_log(r);
    if (r->n_dropped) {
        cn_log(r->ctx, CAIRN_LOG_WARN, COMPONENT,
               "%zu metric points were dropped while the store was failing", r->n_dropped);
        set_tagf(r, "cairn.metrics_dropped", "%zu", r->n_dropped);
    }
    if (r->log_dropped)
        set_tagf(r, "cairn.log_dropped_bytes", "%zu", r->log_dropped);
    if (box->pub.n_metric_errors) {
        set_tagf(r, "cairn.metric_errors", "%zu", box->pub.n_metric_errors);
        set_tagf(r, "cairn.metric_error", "%s", box->first_error);
    }
    if (r->cfg && r->cfg->n_metrics) {
        cn_buf missing = CN_BUF_INIT;
        for (size_t i = 0; i < r->cfg->n_metrics; i++) {
            bool seen = false;
            for (size_t k = 0; k < box->pub.n_metrics && !seen; k++)
                seen = strcmp(box->keys[k], r->cfg->metrics[i]) == 0;
            if (!seen)
                cn_buf_printf(&missing, "%s%s", missing.len ? "," : "", r->cfg->metrics[i]);
        }
        if (missing.len) {
            cn_log(r->ctx, CAIRN_LOG_WARN, COMPONENT,
                   "tracked metrics never reported: %s (metrics format: %s)", missing.data,
                   r->opts->metrics_format ? r->opts->metrics_format : "cairn");
            set_tagf(r, "cairn.metrics.missing", "%s", missing.data);
        }
        cn_buf_release(&missing);
    }
    box->pub.metric_keys = (const char *const *)box->keys;
    box->pub.metric_values = box->values;
    box->pub.metric_steps = box->steps;
    box->pub.status = status;
    return cairn_run_finish(r->run, status);
}

static void runner_release(runner *r)
{
    remove_scratch(r);
    free(r->scratch);
    if (r->alive_fd >= 0)
        close(r->alive_fd);
    cn_buf_release(&r->log_pending);
    for (size_t i = 0; i < r->n_queued; i++) {
        free(r->queued[i].key);
        free(r->queued[i].text);
    }
    free(r->queued);
    free(r->metrics_path);
    free(r->stop_path);
    free(r->params_path);
    free(r->log_path);
    cn_buf_release(&r->metrics_partial);
    cn_buf_release(&r->out.line);
    cn_buf_release(&r->err.line);
    if (r->out.fd >= 0)
        close(r->out.fd);
    if (r->err.fd >= 0)
        close(r->err.fd);
    free_list(r->argv, r->argc);
    free_list(r->inputs, r->n_inputs);
    free_list(r->reported, r->n_reported);
    free_list(r->artifacts, r->n_artifacts);
    free_list(r->final_keys, r->n_finals);
    free(r->final_values);
    for (size_t i = 0; i < r->n_params; i++) {
        free(r->params[i].key);
        free(r->params[i].value);
    }
    free(r->params);
    cn_map_release(&r->param_index);
    cn_lineproto_free(r->lp);
    cn_run_config_free(r->cfg);
    cairn_run_free(r->run);
}

CAIRN_API void cairn_run_result_free(cairn_run_result *res)
{
    if (!res)
        return;
    result_box *box = (result_box *)res;
    free(box->run_id);
    free(box->experiment_id);
    free(box->experiment);
    free(box->run_name);
    free(box->artifact_dir);
    free(box->error);
    free(box->first_error);
    for (size_t i = 0; i < box->pub.n_metrics; i++)
        free(box->keys[i]);
    free(box->keys);
    free(box->values);
    free(box->steps);
    free(box);
}

/* exec refuses an argument list plus environment over ARG_MAX (E2BIG). Checked before a run
 * exists: the CAIRN_PARAM_* variables are left out (with a warning; the params file has them
 * all) when they would not fit, and an argument list that cannot fit is refused. */
static cairn_status check_argv_size(runner *r)
{
    size_t argv_bytes = 0, env_bytes = 0, param_bytes = 0;
    for (size_t i = 0; i < r->argc; i++)
        argv_bytes += strlen(r->argv[i]) + 1 + sizeof(char *);
    for (char **e = environ; *e; e++)
        env_bytes += strlen(*e) + 1 + sizeof(char *);
    for (size_t i = 0; i < r->n_params; i++) /* CAIRN_PARAM_<KEY>=<value> (child_env) */
        param_bytes += strlen("CAIRN_PARAM_=") + strlen(r->params[i].key) +
                       strlen(r->params[i].value) + 1 + sizeof(char *);
    long max = sysconf(_SC_ARG_MAX);
    size_t room = 16384; /* the other CAIRN_* variables the child gets */
    if (max <= 0)
        return CAIRN_OK;
    if (argv_bytes + env_bytes + room > (size_t)max)
        return cn_fail(r->ctx, CAIRN_ELIMIT,
                       "command line too long: %zu arguments take %zu bytes and the environment "
                       "%zu; the system allows %ld in all: pass the params as ${params_file} or "
                       "${args_json} instead of ${args}",
                       r->argc, argv_bytes, env_bytes, max);
    if (argv_bytes + env_bytes + param_bytes + room > (size_t)max) {
        r->skip_param_env = true;
        cn_log(r->ctx, CAIRN_LOG_WARN, COMPONENT,
               "%zu params would take %zu bytes as CAIRN_PARAM_* variables, past the system's "
               "limit (%ld bytes of arguments and environment): they are left out; the command "
               "reads them from $CAIRN_PARAMS_FILE",
               r->n_params, param_bytes, max);
    }
    return CAIRN_OK;
}

/* The text the run will record after it exists (command line, param values, input paths)
 * is checked before it is created, so a bad byte never leaves a half-made run (core/text.h). */
static cairn_status check_text(runner *r, int argc, const char *const *argv)
{
    char what[CAIRN_KEY_MAX + 32];
    cairn_status rc = CAIRN_OK;
    for (int i = 0; rc == CAIRN_OK && i < argc; i++) {
        snprintf(what, sizeof what, "command argument %d", i + 1);
        rc = cn_text_check(r->ctx, what, argv[i]);
    }
    for (size_t i = 0; rc == CAIRN_OK && i < r->n_params; i++) {
        snprintf(what, sizeof what, "param '%s' value", r->params[i].key);
        rc = cn_text_check(r->ctx, what, r->params[i].value);
    }
    for (size_t i = 0; rc == CAIRN_OK && i < r->n_inputs; i++)
        rc = cn_text_check(r->ctx, "input path", r->inputs[i]);
    return rc;
}

/* The command must be one that can start: found in PATH, or a path to an executable file;
 * else no run is made (a junk FAILED run would only hide the typo). The message starts with
 * "command '" (cairn run exits 127 on it, as a shell does). */
static cairn_status check_command(runner *r)
{
    const char *name = r->argv[0];
    char *path = NULL;
    int e = resolve_command(name, &path);
    if (e == 0) {
        struct stat st;
        if (stat(path, &st) != 0)
            e = errno;
        else if (!S_ISREG(st.st_mode))
            e = EACCES;
        else if (access(path, X_OK) != 0)
            e = errno;
    }
    free(path);
    if (e == 0)
        return CAIRN_OK;
    if (e == ENOENT && !strchr(name, '/'))
        return cn_fail(r->ctx, CAIRN_ENOTFOUND, "command '%s' not found in PATH; no run was made",
                       name);
    return cn_fail(r->ctx, CAIRN_ENOTFOUND, "command '%s': %s; no run was made", name, strerror(e));
}

/* Everything that can be wrong with the request fails here, before a run exists. */
static cairn_status check_request(runner *r, int argc, const char *const *argv)
{
    static const char placeholder[] = "";
    cairn_status rc = cn_need_store(r->ctx);
    const char *config = r->opts->config;
    if (rc == CAIRN_OK && config) {
        int fd = cn_fs_open_regular(config, O_RDONLY); /* a FIFO would block the reader */
        if (fd < 0 && errno == CN_FS_ENOTREG)
            return cn_fail(r->ctx, CAIRN_EINVAL, "config '%s' is not a regular file", config);
        if (fd >= 0)
            close(fd);
        rc = cn_run_config_load(r->ctx, config, &r->cfg);
    }
    if (rc == CAIRN_OK)
        rc = cn_lineproto_new(r->ctx, r->opts->metrics_format, &r->lp);
    if (rc == CAIRN_OK)
        rc = merge_params(r);
    if (rc != CAIRN_OK)
        return rc;
    if (r->opts->has_seed) {
        r->seed = r->opts->seed;
    } else if (r->cfg && r->cfg->has_seed) {
        r->seed = r->cfg->seed;
    } else {
        uint32_t v;
        cn_random_bytes(&v, sizeof v);
        r->seed = v & 0x7fffffff; /* fits every framework's seed type */
    }
    macro_values check = {placeholder, placeholder, placeholder};
    rc = build_argv(r, argc, argv, &check);
    const char *raw0 = argc > 0 ? argv[0] : r->cfg && r->cfg->n_command ? r->cfg->command[0] : "";
    if (rc == CAIRN_OK && !strchr(raw0, '$')) /* a macro in it is known only once the run is */
        rc = check_command(r);
    if (rc == CAIRN_OK)
        rc = check_argv_size(r);
    if (rc == CAIRN_OK)
        rc = check_inputs(r);
    if (rc == CAIRN_OK)
        rc = check_text(r, argc, argv);
    return rc;
}

/* The run exists: its scratch folder and log, the command line, params, context, config. */
static cairn_status prepare_run(runner *r, int argc, const char *const *argv)
{
    cairn_status rc = make_scratch(r);
    if (rc == CAIRN_OK) {
        macro_values mv = {cairn_run_id(r->run), cairn_run_artifact_dir(r->run), r->params_path};
        rc = build_argv(r, argc, argv, &mv);
    }
    if (rc == CAIRN_OK)
        rc = log_params(r);
    if (rc == CAIRN_OK) {
        cairn_context_opts co = CAIRN_CONTEXT_OPTS_INIT;
        co.argv = (const char *const *)r->argv;
        co.argc = r->argc;
        co.inputs = (const char *const *)r->inputs;
        co.n_inputs = r->n_inputs;
        co.env_names = r->opts->env_names;
        co.n_env_names = r->opts->n_env_names;
        co.has_seed = true;
        co.seed = r->seed;
        co.skip_git = r->opts->skip_git;
        rc = cairn_run_capture_context(r->run, &co);
    }
    if (rc == CAIRN_OK && r->opts->metrics_format)
        rc = cairn_run_set_tag(r->run, "cairn.metrics_format", r->opts->metrics_format);
    if (rc == CAIRN_OK && r->cfg && r->opts->config)
        rc = cairn_run_log_artifact(r->run, r->opts->config, "config");
    if (rc != CAIRN_OK) {
        /* Record why it never started. */
        cn_buf why = CN_BUF_INIT;
        cn_buf_puts(&why, cairn_errmsg(r->ctx));
        cairn_run_set_tag(r->run, "cairn.error", why.data);
        cairn_run_set_tag(r->run, "cairn.failure_reason", why.data);
        cairn_run_finish(r->run, CAIRN_RUN_FAILED);
        cn_fail(r->ctx, rc, "%s", why.data);
        cn_buf_release(&why);
    }
    return rc;
}

/* Records why the run did not finish: tag cairn.failure_reason and a last line in the run's
 * output log (logs/output.log). */
static void note_failure(runner *r, const char *why)
{
    if (cairn_run_set_tag(r->run, "cairn.failure_reason", why) != CAIRN_OK)
        cn_log(r->ctx, CAIRN_LOG_WARN, COMPONENT, "tag cairn.failure_reason: %s",
               cairn_errmsg(r->ctx));
    char *line = cn_asprintf("cairn: failure reason: %s\n", why);
    log_output(r, line, strlen(line));
    free(line);
}

/* The command could not start (e: its errno): a FAILED run, exit 127. */
static cairn_status spawn_failed(runner *r, int e)
{
    cn_buf msg = CN_BUF_INIT;
    if (e == ENOENT && !strchr(r->argv[0], '/'))
        cn_buf_printf(&msg, "command '%s' not found in PATH", r->argv[0]);
    else
        cn_buf_printf(&msg, "command '%s': %s", r->argv[0], strerror(e));
    cn_log(r->ctx, CAIRN_LOG_INFO, COMPONENT, "%s", msg.data);
    r->box->error = cn_buf_detach(&msg);
    r->box->pub.error = r->box->error;
    r->box->pub.exit_code = 127;
    cairn_run_set_tag(r->run, "cairn.error", r->box->error);
    note_failure(r, r->box->error);
    return wrap_up(r, CAIRN_RUN_FAILED);
}

/* The command ran: its exit status becomes the run's. */
static cairn_status command_ended(runner *r, const child *c)
{
    cairn_run_status status;
    if (WIFSIGNALED(c->status)) {
        r->box->pub.term_signal = WTERMSIG(c->status);
        r->box->pub.exit_code = 128 + WTERMSIG(c->status);
        status = CAIRN_RUN_KILLED;
        set_tagf(r, "cairn.signal", "%d", WTERMSIG(c->status));
    } else {
        r->box->pub.exit_code = WIFEXITED(c->status) ? WEXITSTATUS(c->status) : 1;
        status = r->box->pub.exit_code == 0 ? CAIRN_RUN_FINISHED : CAIRN_RUN_FAILED;
    }
    if (c->stopped_by_us) {
        status = CAIRN_RUN_KILLED; /* whatever it exited with, it was stopped */
        if (r->stop_reason)
            set_tagf(r, "cairn.stop_reason", "%s", r->stop_reason);
        else
            set_tagf(r, "cairn.stop_reason", "signal %d", c->stop_signal);
        r->box->pub.stop_reason = r->stop_reason;
    }
    set_tagf(r, "cairn.exit_code", "%d", r->box->pub.exit_code);
    if (status != CAIRN_RUN_FINISHED) {
        cn_buf why = CN_BUF_INIT;
        if (c->stopped_by_us && r->stop_reason)
            cn_buf_printf(&why, "stopped by cairn (%s)", r->stop_reason);
        else if (c->stopped_by_us)
            cn_buf_printf(&why, "stopped by cairn (signal %d)", c->stop_signal);
        else if (WIFSIGNALED(c->status))
            cn_buf_printf(&why, "the command was killed by signal %d", WTERMSIG(c->status));
        else
            cn_buf_printf(&why, "the command exited with code %d", r->box->pub.exit_code);
        if (r->last_err[0])
            cn_buf_printf(&why, "; its last stderr line: %s", r->last_err);
        note_failure(r, cn_buf_str(&why));
        cn_buf_release(&why);
    }
    return wrap_up(r, status);
}

CAIRN_API cairn_status cairn_run_command(cairn_ctx *ctx, const cairn_runner_opts *opts, int argc,
                                         const char *const *argv, cairn_run_result **out)
{
    static const cairn_runner_opts defaults = CAIRN_RUNNER_OPTS_INIT;
    runner r = {.ctx = ctx,
                .opts = opts ? opts : &defaults,
                .log_fd = -1,
                .metrics_fd = -1,
                .alive_fd = -1,
                .last_step = -1,
                .max_step = -1};
    sig_state sigs = {0};
    child c = {0};
    cairn_status rc;

    *out = NULL;
    r.out = (stream){.fd = -1, .out_fd = r.opts->out_fd > 0 ? r.opts->out_fd : 1};
    r.err = (stream){.fd = -1, .out_fd = r.opts->err_fd > 0 ? r.opts->err_fd : 2};
    r.flush_interval_ms =
        r.opts->flush_interval_ms > 0 ? r.opts->flush_interval_ms : DEFAULT_FLUSH_MS;
    r.box = cn_xcalloc(1, sizeof *r.box);
    r.box->pub.internal_ = r.box;

    /* Everything that can be wrong with the request fails here, before a run exists. */
    rc = check_request(&r, argc, argv);
    if (rc == CAIRN_OK)
        rc = start_run(&r);
    if (rc == CAIRN_OK)
        rc = prepare_run(&r, argc, argv);
    if (rc != CAIRN_OK)
        goto fail;

    if (r.opts->on_start)
        r.opts->on_start(r.opts->user, &r.box->pub);
    if (r.opts->forward_signals)
        signals_install(&sigs);
    r.started_ms = cn_mono_ns() / 1000000;
    int e = spawn(&r, &c);
    if (e != 0) {
        signals_restore(&sigs);
        rc = spawn_failed(&r, e);
    } else {
        supervise(&r, &c, sigs.active);
        signals_restore(&sigs);
        tail_metrics(&r, true);
        rc = command_ended(&r, &c);
    }
    if (rc != CAIRN_OK)
        goto fail;
    runner_release(&r);
    *out = &r.box->pub;
    return CAIRN_OK;
fail:
    runner_release(&r);
    cairn_run_result_free(&r.box->pub);
    return rc;
}
