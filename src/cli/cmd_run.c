/* SPDX-License-Identifier: MIT */
/* cmd_run.c - `cairn run`: parses the options, calls cairn_run_command() and reports the run
 * on stderr; the exit code mirrors the command's. */
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "cairn/runner.h"
#include "base/str.h"
#include "base/xmalloc.h"
#include "base/banned.h"

static const char usage[] =
    "usage: cairn run [--config FILE] [-p KEY=VALUE]... [--experiment NAME] [--name NAME] "
    "[--seed N] [--input PATH]... [--metrics-format FORMAT] [--kill-grace SECONDS] [--args] "
    "[--tag KEY=VALUE]... [--env NAME]... [--no-git] [--] CMD [ARG]...\n";

static const char help[] =
    "\nRuns CMD (no shell) as a tracked run: its output passes through unchanged and is kept\n"
    "as logs/output.log; lines like 'cairn: step=1 loss=0.5' become metrics.\n\n"
    "options:\n"
    "  -c, --config FILE          experiment-config.yaml (command, params, inputs, seed, ...)\n"
    "  -p, --param KEY=VALUE      a param; overrides the config's (repeatable)\n"
    "  -e, --experiment NAME      the experiment (created if missing; default: Default)\n"
    "  -n, --name NAME            the run's name\n"
    "      --seed N               the seed ($CAIRN_SEED, ${seed}); default: the config's, else "
    "random\n"
    "  -i, --input PATH           a data file to hash in full and record (repeatable)\n"
    "      --metrics-format F     cairn (default), json, katib, guild or regex:PATTERN\n"
    "      --kill-grace SECONDS   after forwarding SIGINT/SIGTERM, wait this long, then SIGKILL\n"
    "                             (default 30)\n"
    "      --args                 append ${args} (--key=value per param) when CMD has no macro\n"
    "  -t, --tag KEY=VALUE        a tag on the run (repeatable)\n"
    "      --env NAME             also record environment variable NAME (repeatable)\n"
    "      --no-git               do not record git commit, branch, diff and untracked files\n"
    "  -h, --help                 this help\n\n"
    "Macros in CMD: ${args} ${args_no_equals} ${args_hydra} ${args_json} ${params_file}\n"
    "${run_id} ${run_dir} ${seed} ${NAME}. The exit code is the command's (128+N for signal N).\n"
    "\n"
    "examples:\n"
    "  cairn run -e quickstart -p lr=0.5 -- python3 examples/train.py --lr 0.5 data/iris.csv\n"
    "  cairn run -e quickstart -p lr=0.1 --args -- python3 examples/train.py data/iris.csv\n";

static void on_start(void *user, const cairn_run_result *res)
{
    (void)user;
    fprintf(stderr, "cairn: run %s in experiment '%s' started", res->run_id, res->experiment);
    if (res->run_name)
        fprintf(stderr, " (%s)", res->run_name);
    fputc('\n', stderr);
    fflush(stderr);
}

static void report_end(const cairn_run_result *res)
{
    fprintf(stderr, "cairn: run %s in experiment '%s' %s", res->run_id, res->experiment,
            cairn_run_status_str(res->status));
    if (res->term_signal)
        fprintf(stderr, " (signal %d)", res->term_signal);
    else
        fprintf(stderr, " (exit %d)", res->exit_code);
    if (res->n_metrics) {
        fputs("; metrics:", stderr);
        for (size_t i = 0; i < res->n_metrics; i++) {
            char v[40];
            cn_format_double(res->metric_values[i], v, sizeof v);
            if (!strchr(v, 'n') && isfinite(res->metric_values[i]))
                snprintf(v, sizeof v, "%.6g", res->metric_values[i]);
            fprintf(stderr, " %s=%s", res->metric_keys[i], v);
        }
    }
    if (res->n_metric_errors)
        fprintf(stderr, "; %zu malformed metric line%s", res->n_metric_errors,
                res->n_metric_errors == 1 ? "" : "s");
    fputc('\n', stderr);
}

/* A growable array of borrowed argv strings. */
typedef struct strs {
    const char **v;
    size_t n;
} strs;

static void strs_add(strs *s, const char *x)
{
    s->v = cn_xrealloc(s->v, (s->n + 1) * sizeof *s->v);
    s->v[s->n++] = x;
}

typedef struct run_args {
    cairn_runner_opts opts;
    strs params, inputs, envs;
    cairn_tag *tags;
    size_t n_tags;
} run_args;

static void run_args_release(run_args *a)
{
    free(a->params.v);
    free(a->inputs.v);
    free(a->envs.v);
    for (size_t i = 0; i < a->n_tags; i++)
        free((char *)a->tags[i].key);
    free(a->tags);
}

enum { OPT_SEED = 256, OPT_FORMAT, OPT_GRACE, OPT_ARGS, OPT_ENV, OPT_NO_GIT };

/* One option into a; returns -1 to go on, else the exit code (usage errors: 2). */
static int take_option(run_args *a, int opt, char **argv)
{
    cairn_runner_opts *o = &a->opts;
    switch (opt) {
    case 'c': o->config = optarg; return -1;
    case 'p':
        if (!strchr(optarg, '='))
            return cli_usage(usage, "-p '%s': expected KEY=VALUE", optarg);
        strs_add(&a->params, optarg);
        return -1;
    case 'e': o->experiment = optarg; return -1;
    case 'n': o->name = optarg; return -1;
    case OPT_SEED: {
        int64_t seed;
        if (!cn_parse_int64(optarg, &seed) || seed < 0)
            return cli_usage(usage, "--seed '%s': expected a non-negative integer", optarg);
        o->has_seed = true;
        o->seed = seed;
        return -1;
    }
    case 'i': strs_add(&a->inputs, optarg); return -1;
    case OPT_FORMAT: o->metrics_format = optarg; return -1;
    case OPT_GRACE: {
        double sec;
        if (!cn_parse_double(optarg, &sec) || !(sec >= 0) || sec > 86400 * 7)
            return cli_usage(usage, "--kill-grace '%s': expected seconds, e.g. 30 or 0.5", optarg);
        o->kill_grace_ms = sec * 1000 < 1 ? 1 : (int)(sec * 1000);
        return -1;
    }
    case OPT_ARGS: o->append_args = true; return -1;
    case 't': {
        const char *eq = strchr(optarg, '=');
        if (!eq || eq == optarg)
            return cli_usage(usage, "--tag '%s': expected KEY=VALUE", optarg);
        a->tags = cn_xrealloc(a->tags, (a->n_tags + 1) * sizeof *a->tags);
        a->tags[a->n_tags].key = cn_xstrndup(optarg, (size_t)(eq - optarg));
        a->tags[a->n_tags].value = eq + 1;
        a->n_tags++;
        return -1;
    }
    case OPT_ENV: strs_add(&a->envs, optarg); return -1;
    case OPT_NO_GIT: o->skip_git = true; return -1;
    case 'h':
        fputs(usage, stdout);
        fputs(help, stdout);
        return 0;
    default:
        if (optopt)
            return cli_usage(usage, "unknown or incomplete option '-%c'", optopt);
        return cli_usage(usage, "unknown or incomplete option '%s'", argv[optind - 1]);
    }
}

/* Parses the options before CMD into a; returns -1 to go on, else the exit code. */
static int parse_run_args(int argc, char **argv, run_args *a)
{
    static const struct option longopts[] = {
        {"config", required_argument, NULL, 'c'},
        {"param", required_argument, NULL, 'p'},
        {"experiment", required_argument, NULL, 'e'},
        {"name", required_argument, NULL, 'n'},
        {"seed", required_argument, NULL, OPT_SEED},
        {"input", required_argument, NULL, 'i'},
        {"metrics-format", required_argument, NULL, OPT_FORMAT},
        {"kill-grace", required_argument, NULL, OPT_GRACE},
        {"args", no_argument, NULL, OPT_ARGS},
        {"tag", required_argument, NULL, 't'},
        {"env", required_argument, NULL, OPT_ENV},
        {"no-git", no_argument, NULL, OPT_NO_GIT},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int opt;
    optind = 1;
    opterr = 0;
    /* '+': stop at the first non-option, so CMD's own options need no "--". */
    while ((opt = getopt_long(argc, argv, "+c:p:e:n:i:t:h", longopts, NULL)) != -1) {
        int code = take_option(a, opt, argv);
        if (code >= 0)
            return code;
    }
    if (optind >= argc && !a->opts.config)
        return cli_usage(usage, "no command: give one after '--' or use --config");
    cairn_runner_opts *o = &a->opts;
    o->params = a->params.v;
    o->n_params = a->params.n;
    o->inputs = a->inputs.v;
    o->n_inputs = a->inputs.n;
    o->env_names = a->envs.v;
    o->n_env_names = a->envs.n;
    o->tags = a->tags;
    o->n_tags = a->n_tags;
    o->forward_signals = true;
    o->on_start = on_start;
    return -1;
}

int cmd_run(int argc, char **argv)
{
    run_args a = {.opts = CAIRN_RUNNER_OPTS_INIT};
    cairn_ctx *ctx = NULL;
    cairn_run_result *res = NULL;
    int code = parse_run_args(argc, argv, &a);
    if (code >= 0)
        goto done;
    const char *level = getenv("CAIRN_LOG");
    ctx = cli_open_store_log(level && strcmp(level, "debug") == 0  ? CAIRN_LOG_DEBUG
                             : level && strcmp(level, "info") == 0 ? CAIRN_LOG_INFO
                                                                   : CAIRN_LOG_WARN);
    if (!ctx) {
        code = 1;
        goto done;
    }
    signal(SIGPIPE, SIG_IGN); /* a closed stdout must not kill us before the run is recorded */
    if (cairn_run_command(ctx, &a.opts, argc - optind, (const char *const *)argv + optind, &res) !=
        CAIRN_OK) {
        /* a command that cannot start is refused before any run: 127, as a shell says */
        bool no_command = strncmp(cairn_errmsg(ctx), "command '", 9) == 0;
        code = cli_fail(ctx);
        if (no_command)
            code = 127;
        goto done;
    }
    fflush(stdout);
    if (res->error)
        fprintf(stderr, "cairn: error: %s\n", res->error);
    report_end(res);
    code = res->exit_code;
done:
    cairn_run_result_free(res);
    cairn_close(ctx);
    run_args_release(&a);
    return code;
}
