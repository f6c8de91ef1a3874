/* SPDX-License-Identifier: MIT */
/* cmd_tune.c - `cairn tune`: parses the options, creates or resumes the study, calls
 * cairn_study_tune_command() and renders the progress line (stderr) and the summary table. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "cli.h"
#include "cairn/hpo.h"
#include "base/buf.h"
#include "base/str.h"
#include "base/xmalloc.h"
#include "base/banned.h"

static const char usage[] =
    "usage: cairn tune --space FILE [--study NAME] [--trials N] [--timeout SECONDS] [--seed N] "
    "[-j N] [--sampler SPEC] [--pruner SPEC] [--direction minimize|maximize] [--metric NAME] "
    "[--trial-timeout SECONDS] [--retries N] [--metrics-format F] [--kill-grace SECONDS] "
    "[--experiment NAME] [--cpus-per-trial N] [--memory-per-trial SIZE] [--gpus LIST "
    "[--gpus-per-trial N]] [--quiet] -- CMD [ARG]...\n";

static const char help[] =
    "\nCreates or resumes a study and runs its trials over CMD (no shell). Each trial is a run\n"
    "of the study's experiment; its params reach CMD as ${args} (appended when CMD has no\n"
    "macro), $CAIRN_PARAM_<NAME> and $CAIRN_PARAMS_FILE. The objective is the study's metric\n"
    "from a 'cairn.final: NAME=VALUE' line, else its last (min, max: the space's strategy)\n"
    "'cairn: NAME=VALUE' value; intermediate values go to the pruner.\n\n"
    "options:\n"
    "  -s, --space FILE           the search space (YAML or JSON; .json is JSON)\n"
    "      --study NAME           the study (default: the space file's name); an existing one\n"
    "                             resumes: finished trials are kept, lost ones retried\n"
    "  -n, --trials N             finished trials the study should have (default 20)\n"
    "      --timeout SECONDS      start no trial after this long\n"
    "      --seed N               the sampler's seed (default: random, stored with the study)\n"
    "  -j, --jobs N               trials at once (default 1)\n"
    "      --sampler SPEC         auto (default), random, grid, sobol, tpe, cmaes, with "
    ":key=value\n"
    "      --pruner SPEC          none (default), median, percentile, successive_halving,\n"
    "                             hyperband, threshold, patient, with :key=value\n"
    "      --direction D          minimize or maximize (default: the space's, else minimize)\n"
    "      --metric NAME          the objective's metric (default: the space's, else 'value')\n"
    "      --trial-timeout SEC    stop a trial running longer (it FAILs)\n"
    "      --retries N            ask a FAILed trial again with the same params, up to N\n"
    "                             times (default 0)\n"
    "      --metrics-format F     cairn (default), json, katib, guild or regex:PATTERN\n"
    "      --kill-grace SECONDS   after SIGTERM, wait this long, then SIGKILL (default 10)\n"
    "      --cpus-per-trial N     each running trial gets N CPUs of its own (affinity and\n"
    "                             OMP/OpenBLAS/MKL threads); -j is lowered to fit\n"
    "      --memory-per-trial SIZE  stop a trial whose processes hold more (512M, 2G): FAIL\n"
    "                             memory-limit\n"
    "      --gpus LIST            devices (0,1) handed out as CUDA_VISIBLE_DEVICES, none shared\n"
    "      --gpus-per-trial N     devices per trial (default 1); -j is lowered to fit\n"
    "  -e, --experiment NAME      the trials' experiment for a new study (default: the study)\n"
    "  -q, --quiet                no progress line\n"
    "  -h, --help                 this help\n\n"
    "Ctrl-C once starts no new trial and lets the running ones finish; twice stops them (FAIL,\n"
    "cancelled); a third exits at once. Other processes may join with `cairn worker`.\n"
    "A space file: 'objective: {name: val_acc, goal: maximize}' and 'parameters:' with\n"
    "'lr: {type: float, low: 0.01, high: 1.0, log: true}' (docs/hpo.md).\n"
    "\n"
    "examples:\n"
    "  cairn tune -s space.yaml --study iris-sgd -n 4 -- python3 examples/train.py data/iris.csv\n"
    "  cairn tune -s space.yaml --study iris-sgd -n 40 -j 2 --pruner median -- python3 "
    "train.py\n";

typedef struct view {
    bool tty, quiet;
    int64_t target;
    const cairn_study *study;
    time_t last_line;
    int64_t n_retries; /* finished trials here that retried another */
} view;

static void progress(void *user, const cairn_tune_status *st)
{
    view *v = user;
    char best[64] = "-";
    if (st->has_best)
        snprintf(best, sizeof best, "%.6g (trial %lld)", st->best_value,
                 (long long)st->best_number);
    if (st->finished && st->finished->retry_of >= 0)
        v->n_retries++;
    if (v->quiet)
        return;
    if (st->finished) {
        const cairn_trial *t = st->finished;
        char val[40] = "";
        if (t->state == CAIRN_TRIAL_COMPLETE)
            snprintf(val, sizeof val, " value %.6g", t->value);
        fprintf(stderr, "%scairn: trial %lld %s%s%s%s\n", v->tty ? "\r\033[K" : "",
                (long long)t->number, cairn_trial_state_str(t->state), val, st->reason ? ": " : "",
                st->reason ? st->reason : "");
    }
    time_t now = time(NULL);
    if (v->tty || now - v->last_line >= 5) {
        fprintf(stderr,
                "%scairn: %lld done (%lld complete, %lld pruned, %lld failed), %lld running, best "
                "%s, %.0fs%s",
                v->tty ? "\r\033[K" : "", (long long)st->n_done, (long long)st->n_complete,
                (long long)st->n_pruned, (long long)st->n_failed, (long long)st->n_running, best,
                st->elapsed_s, v->tty ? "" : "\n");
        v->last_line = now;
    }
    fflush(stderr);
}

/* The study's trials as a table, and its best trial. */
/* The study's folder, where its pictures go: studies/NAME ('/' in the name becomes '_'). */
static char *study_dir(const char *name)
{
    char *dir = cn_asprintf("studies/%s", name);
    for (char *p = dir + 8; *p; p++)
        if (*p == '/' || (p[0] == '.' && p[1] == '.'))
            *p = '_';
    return dir;
}

static void summary(cairn_study *study, bool tty, int64_t n_retries)
{
    const cairn_trial *trials = NULL;
    size_t n = 0;
    if (tty)
        fputs("\r\033[K", stderr);
    if (cairn_study_trials(study, &trials, &n) != CAIRN_OK)
        return;
    const cairn_space *space = cairn_study_space(study);
    size_t n_params = cairn_space_n_params(space);
    size_t n_cols = 3 + n_params;
    const char **headers = cn_xcalloc(n_cols, sizeof *headers);
    headers[0] = "trial";
    headers[1] = "state";
    headers[2] = "value";
    for (size_t i = 0; i < n_params; i++) {
        cairn_param_info info;
        cairn_space_param(space, i, &info);
        headers[3 + i] = info.name;
    }
    cli_table *t = cli_table_new(n_cols, headers);
    char **cells = cn_xcalloc(n_cols, sizeof *cells);
    for (size_t k = 0; k < n; k++) {
        cells[0] = cn_asprintf("%lld", (long long)trials[k].number);
        cells[1] = cn_xstrdup(cairn_trial_state_str(trials[k].state));
        cells[2] = trials[k].state == CAIRN_TRIAL_COMPLETE ? cn_asprintf("%.6g", trials[k].value)
                                                           : cn_xstrdup("");
        for (size_t i = 0; i < n_params; i++) {
            char v[64];
            cli_format_param(space, i, trials[k].params[i], v, sizeof v);
            cells[3 + i] = cn_xstrdup(v);
        }
        cli_table_add(t, (const char *const *)cells);
        for (size_t i = 0; i < n_cols; i++)
            free(cells[i]);
    }
    cli_table_print(t, stdout);
    cli_table_free(t);
    size_t n_retry = 0;
    for (size_t k = 0; k < n; k++)
        n_retry += trials[k].retry_of >= 0;
    if (n_retry)
        printf("retries: %zu in the study (%lld run here)\n", n_retry, (long long)n_retries);
    free(cells);
    free(headers);
    cairn_trial best;
    if (cairn_study_best(study, &best) == CAIRN_OK) {
        printf("best: trial %lld, value %.10g, run %s\n", (long long)best.number, best.value,
               best.run_id);
        for (size_t i = 0; i < n_params; i++) {
            char v[256];
            cairn_param_info info;
            cairn_space_param(space, i, &info);
            if (isnan(best.params[i]))
                continue;
            cairn_space_format_value(space, i, best.params[i], v, sizeof v);
            printf("  %s=%s\n", info.name, v);
        }
    } else {
        printf("best: none (no trial completed)\n");
    }
}

/* The study name a space file gives: its base name without the extension. */
static char *default_study(const char *path)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    const char *dot = strrchr(base, '.');
    return cn_xstrndup(base, dot && dot != base ? (size_t)(dot - base) : strlen(base));
}

static bool seconds_arg(const char *arg, int64_t *ms)
{
    double sec;
    if (!cn_parse_double(arg, &sec) || !(sec > 0) || sec > 86400.0 * 365)
        return false;
    *ms = (int64_t)(sec * 1000) < 1 ? 1 : (int64_t)(sec * 1000);
    return true;
}

enum {
    OPT_STUDY = 256,
    OPT_TIMEOUT,
    OPT_SEED,
    OPT_SAMPLER,
    OPT_PRUNER,
    OPT_DIRECTION,
    OPT_METRIC,
    OPT_TRIAL_TIMEOUT,
    OPT_FORMAT,
    OPT_GRACE,
    OPT_RETRIES,
    OPT_CPUS,
    OPT_MEMORY,
    OPT_GPUS,
    OPT_GPUS_PER
};

int cli_parse_retries(const char *arg, const char *usage_text, int *out)
{
    int64_t n = 0;
    if (strcmp(arg, "0") != 0 && !cli_parse_count(arg, 100, &n))
        return cli_usage(usage_text, "--retries '%s': expected 0 to 100", arg);
    *out = (int)n;
    return -1;
}

bool cli_parse_seconds(const char *arg, int64_t *ms)
{
    return seconds_arg(arg, ms);
}

cairn_status cli_study_auto_budget(cairn_ctx *ctx, const char *name, cairn_study_opts *so,
                                   int64_t budget, cairn_study **study)
{
    if (so->sampler || strcmp(cairn_study_sampler_spec(*study), "auto") != 0)
        return CAIRN_OK;
    /* auto chooses by the budget: tell it the study's target (docs/hpo.md) */
    char *spec = cn_asprintf("auto:trials=%lld", (long long)budget);
    cairn_study_free(*study);
    *study = NULL;
    so->sampler = spec;
    so->must_exist = true;
    cairn_status rc = cairn_study_open(ctx, name, so, study);
    so->sampler = NULL;
    free(spec);
    return rc;
}

int cli_tune_run(cairn_ctx *ctx, cairn_study *study, cairn_tune_opts *to, bool quiet, int argc,
                 char **argv)
{
    view v = {.tty = isatty(2) != 0, .quiet = quiet, .study = study};
    const char *name = cairn_study_name(study);
    to->handle_signals = true;
    to->progress = progress;
    to->user = &v;
    cairn_status rc = cairn_study_tune_command(study, to, argc, (const char *const *)argv);
    /* The summary and the plots use ctx too: keep the tune's error for the end. */
    char *error = rc == CAIRN_OK ? NULL : cn_xstrdup(cairn_errmsg(ctx));
    summary(study, v.tty && !v.quiet, v.n_retries);
    char *dir = study_dir(name);
    unsigned written = 0;
    if (cairn_study_write_plots(study, dir, 1u << CAIRN_INSIGHT_HISTORY, &written) == CAIRN_OK &&
        written && !v.quiet)
        fprintf(stderr, "cairn: optimization history: %s/%s (cairn study plot %s: all pictures)\n",
                dir, cairn_insight_plot_file(CAIRN_INSIGHT_HISTORY), name);
    free(dir);
    int code = error ? cli_error("%s", error) : 0;
    free(error);
    return code;
}

int cmd_tune(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"space", required_argument, NULL, 's'},
        {"study", required_argument, NULL, OPT_STUDY},
        {"trials", required_argument, NULL, 'n'},
        {"timeout", required_argument, NULL, OPT_TIMEOUT},
        {"seed", required_argument, NULL, OPT_SEED},
        {"jobs", required_argument, NULL, 'j'},
        {"sampler", required_argument, NULL, OPT_SAMPLER},
        {"pruner", required_argument, NULL, OPT_PRUNER},
        {"direction", required_argument, NULL, OPT_DIRECTION},
        {"metric", required_argument, NULL, OPT_METRIC},
        {"trial-timeout", required_argument, NULL, OPT_TRIAL_TIMEOUT},
        {"metrics-format", required_argument, NULL, OPT_FORMAT},
        {"kill-grace", required_argument, NULL, OPT_GRACE},
        {"retries", required_argument, NULL, OPT_RETRIES},
        {"cpus-per-trial", required_argument, NULL, OPT_CPUS},
        {"memory-per-trial", required_argument, NULL, OPT_MEMORY},
        {"gpus", required_argument, NULL, OPT_GPUS},
        {"gpus-per-trial", required_argument, NULL, OPT_GPUS_PER},
        {"experiment", required_argument, NULL, 'e'},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *space_path = NULL, *study_name = NULL;
    cairn_study_opts so = CAIRN_STUDY_OPTS_INIT;
    cairn_tune_opts to = CAIRN_TUNE_OPTS_INIT;
    bool quiet = false;
    int64_t n = 0;
    int opt;
    optind = 1;
    opterr = 0;
    while ((opt = getopt_long(argc, argv, "+s:n:j:e:qh", longopts, NULL)) != -1) {
        switch (opt) {
        case 's': space_path = optarg; break;
        case OPT_STUDY: study_name = optarg; break;
        case 'n':
            if (!cli_parse_count(optarg, 100000000, &n) || n < 1)
                return cli_usage(usage, "--trials '%s': expected a positive whole number", optarg);
            to.n_trials = n;
            break;
        case OPT_TIMEOUT:
            if (!seconds_arg(optarg, &to.timeout_ms))
                return cli_usage(usage, "--timeout '%s': expected seconds, e.g. 600", optarg);
            break;
        case OPT_SEED: {
            int64_t seed;
            if (!cn_parse_int64(optarg, &seed) || seed < 0)
                return cli_usage(usage, "--seed '%s': expected a non-negative integer", optarg);
            so.has_seed = true;
            so.seed = (uint64_t)seed;
            break;
        }
        case 'j':
            if (!cli_parse_count(optarg, 256, &n) || n < 1)
                return cli_usage(usage, "-j '%s': expected 1 to 256", optarg);
            to.n_jobs = (int)n;
            break;
        case OPT_SAMPLER: so.sampler = optarg; break;
        case OPT_PRUNER: so.pruner = optarg; break;
        case OPT_DIRECTION:
            if (strcmp(optarg, "minimize") == 0)
                so.direction = CAIRN_DIRECTION_MINIMIZE;
            else if (strcmp(optarg, "maximize") == 0)
                so.direction = CAIRN_DIRECTION_MAXIMIZE;
            else
                return cli_usage(usage, "--direction '%s': expected minimize or maximize", optarg);
            break;
        case OPT_METRIC: so.objective = optarg; break;
        case OPT_TRIAL_TIMEOUT:
            if (!seconds_arg(optarg, &to.trial_timeout_ms))
                return cli_usage(usage, "--trial-timeout '%s': expected seconds, e.g. 300", optarg);
            break;
        case OPT_FORMAT: to.metrics_format = optarg; break;
        case OPT_CPUS:
            if (!cli_parse_count(optarg, 1024, &n))
                return cli_usage(usage, "--cpus-per-trial '%s': expected 1 to 1024", optarg);
            to.cpus_per_trial = (int)n;
            break;
        case OPT_MEMORY:
            if (!cli_parse_bytes(optarg, &to.memory_per_trial_bytes))
                return cli_usage(usage, "--memory-per-trial '%s': expected a size, e.g. 512M or 2G",
                                 optarg);
            break;
        case OPT_GPUS: to.gpus = optarg; break;
        case OPT_GPUS_PER:
            if (!cli_parse_count(optarg, 64, &n))
                return cli_usage(usage, "--gpus-per-trial '%s': expected 1 to 64", optarg);
            to.gpus_per_trial = (int)n;
            break;
        case OPT_GRACE: {
            int64_t ms;
            if (!seconds_arg(optarg, &ms) || ms > 86400000)
                return cli_usage(usage, "--kill-grace '%s': expected seconds, e.g. 10", optarg);
            to.kill_grace_ms = (int)ms;
            break;
        }
        case OPT_RETRIES: {
            int code = cli_parse_retries(optarg, usage, &to.max_retries);
            if (code >= 0)
                return code;
            break;
        }
        case 'e': so.experiment = optarg; break;
        case 'q': quiet = true; break;
        case 'h':
            fputs(usage, stdout);
            fputs(help, stdout);
            return 0;
        default: return cli_other_option(opt, usage, help, argv);
        }
    }
    if (!space_path)
        return cli_usage(usage, "--space FILE is required (hyperparameter-space.yaml or .json)");
    if (optind >= argc)
        return cli_usage(usage, "no command: give the command to tune after '--'");

    cn_buf text = CN_BUF_INIT;
    FILE *f = fopen(space_path, "rb");
    if (!f)
        return cli_error("search space '%s': cannot read it: %s", space_path, strerror(errno));
    char chunk[65536];
    size_t got;
    while ((got = fread(chunk, 1, sizeof chunk, f)) > 0)
        cn_buf_append(&text, chunk, got);
    fclose(f);
    char *name = study_name ? cn_xstrdup(study_name) : default_study(space_path);
    so.space_text = cn_buf_str(&text);
    so.space_len = text.len;
    so.space_format = CAIRN_SPACE_AUTO;
    if (cn_str_ends(space_path, ".json"))
        so.space_format = CAIRN_SPACE_JSON;
    so.space_label = space_path;

    int code = 1;
    cairn_study *study = NULL;
    cairn_ctx *ctx = cli_open_store_log(CAIRN_LOG_WARN);
    if (!ctx)
        goto done;
    if (cairn_study_open(ctx, name, &so, &study) != CAIRN_OK) {
        code = cli_fail(ctx);
        goto done;
    }
    bool created = cairn_study_was_created(study);
    if (cli_study_auto_budget(ctx, name, &so,
                              to.n_trials > 0     ? to.n_trials
                              : to.timeout_ms > 0 ? 100
                                                  : 20,
                              &study) != CAIRN_OK) {
        code = cli_fail(ctx);
        goto done;
    }
    if (!quiet)
        fprintf(stderr, "cairn: study '%s' %s (sampler %s, pruner %s, seed %llu)\n", name,
                created ? "created" : "resumed", cairn_study_sampler_spec(study),
                cairn_study_pruner_spec(study), (unsigned long long)cairn_study_seed(study));
    code = cli_tune_run(ctx, study, &to, quiet, argc - optind, argv + optind);
done:
    cairn_study_free(study);
    cairn_close(ctx);
    free(name);
    cn_buf_release(&text);
    return code;
}
