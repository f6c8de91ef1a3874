/* SPDX-License-Identifier: MIT */
/* cmd_worker.c - `cairn worker`: joins an existing study from any process or machine and runs
 * its trials over a command, as `cairn tune` does (cli_tune_run), without creating anything:
 * the store must exist and hold the study. No controller: the store's claims share the work. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include "cli.h"
#include "cairn/hpo.h"
#include "base/str.h"
#include "base/banned.h"

static const char usage[] =
    "usage: cairn worker --study NAME [--store URI] [--trials N] [-j N] [--timeout SECONDS] "
    "[--trial-timeout SECONDS] [--retries N] [--metrics-format F] [--kill-grace SECONDS] "
    "[--quiet] -- CMD [ARG]...\n";

static const char help[] =
    "\nJoins the existing study NAME (made by `cairn tune --space FILE --study NAME`) and runs\n"
    "its trials over CMD, as `cairn tune` does, alongside any number of other workers and\n"
    "tunes on the same store (SQLite on one machine, PostgreSQL on many). Each trial is claimed\n"
    "atomically; a trial whose worker vanished becomes STALE and another worker retries it.\n\n"
    "options:\n"
    "      --study NAME           the study to join (required; it must exist)\n"
    "      --store URI            the study's store (default $CAIRN_STORE, else "
    "sqlite://cairn.db)\n"
    "  -n, --trials N             finished trials the study should have, counting every\n"
    "                             process's (default: no target; run until --timeout, the\n"
    "                             grid's end or Ctrl-C)\n"
    "  -j, --jobs N               trials at once in this worker (default 1)\n"
    "      --timeout SECONDS      start no trial after this long\n"
    "      --trial-timeout SEC    stop a trial running longer (it FAILs)\n"
    "      --retries N            ask a FAILed trial again with the same params, up to N\n"
    "                             times (default 0)\n"
    "      --metrics-format F     cairn (default), json, katib, guild or regex:PATTERN\n"
    "      --kill-grace SECONDS   after SIGTERM, wait this long, then SIGKILL (default 10)\n"
    "  -q, --quiet                no progress line\n"
    "  -h, --help                 this help\n\n"
    "Ctrl-C once starts no new trial and lets the running ones finish; twice stops them (FAIL,\n"
    "cancelled); a third exits at once (its trials become STALE and are retried).\n"
    "\n"
    "examples:\n"
    "  cairn worker --study iris-sgd -j 2 -- python3 examples/train.py data/iris.csv\n"
    "  cairn worker --study iris-sgd --store postgresql://db/cairn -n 100 -- python3 "
    "train.py\n";

enum { OPT_STUDY = 256, OPT_TIMEOUT, OPT_TRIAL_TIMEOUT, OPT_RETRIES, OPT_FORMAT, OPT_GRACE };

int cmd_worker(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"study", required_argument, NULL, OPT_STUDY},
        {"trials", required_argument, NULL, 'n'},
        {"jobs", required_argument, NULL, 'j'},
        {"timeout", required_argument, NULL, OPT_TIMEOUT},
        {"trial-timeout", required_argument, NULL, OPT_TRIAL_TIMEOUT},
        {"retries", required_argument, NULL, OPT_RETRIES},
        {"metrics-format", required_argument, NULL, OPT_FORMAT},
        {"kill-grace", required_argument, NULL, OPT_GRACE},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *name = NULL;
    cairn_tune_opts to = CAIRN_TUNE_OPTS_INIT;
    bool quiet = false;
    int64_t n = 0, ms = 0;
    int opt, code;
    optind = 1;
    opterr = 0;
    while ((opt = getopt_long(argc, argv, "+n:j:qh", longopts, NULL)) != -1) {
        switch (opt) {
        case OPT_STUDY: name = optarg; break;
        case 'n':
            if (!cli_parse_count(optarg, 100000000, &n))
                return cli_usage(usage, "--trials '%s': expected a positive whole number", optarg);
            to.n_trials = n;
            break;
        case 'j':
            if (!cli_parse_count(optarg, 256, &n))
                return cli_usage(usage, "-j '%s': expected 1 to 256", optarg);
            to.n_jobs = (int)n;
            break;
        case OPT_TIMEOUT:
            if (!cli_parse_seconds(optarg, &to.timeout_ms))
                return cli_usage(usage, "--timeout '%s': expected seconds, e.g. 600", optarg);
            break;
        case OPT_TRIAL_TIMEOUT:
            if (!cli_parse_seconds(optarg, &to.trial_timeout_ms))
                return cli_usage(usage, "--trial-timeout '%s': expected seconds, e.g. 300", optarg);
            break;
        case OPT_RETRIES:
            code = cli_parse_retries(optarg, usage, &to.max_retries);
            if (code >= 0)
                return code;
            break;
        case OPT_FORMAT: to.metrics_format = optarg; break;
        case OPT_GRACE:
            if (!cli_parse_seconds(optarg, &ms) || ms > 86400000)
                return cli_usage(usage, "--kill-grace '%s': expected seconds, e.g. 10", optarg);
            to.kill_grace_ms = (int)ms;
            break;
        case 'q': quiet = true; break;
        default: return cli_other_option(opt, usage, help, argv);
        }
    }
    if (!name)
        return cli_usage(usage, "--study NAME is required (create one with `cairn tune --space "
                                "FILE --study NAME -- CMD`)");
    if (optind >= argc)
        return cli_usage(usage, "no command: give the command to run after '--'");
    to.no_target = true;

    /* A worker creates nothing: neither a store nor a study. */
    cairn_open_opts oo = CAIRN_OPEN_OPTS_INIT;
    oo.must_exist = true;
    cairn_ctx *ctx = cli_open_store_with(&oo, CAIRN_LOG_WARN,
                                         "a worker joins a study in an existing store: give the "
                                         "--store (or $CAIRN_STORE) of the `cairn tune` that "
                                         "created the study");
    if (!ctx)
        return 1;
    cairn_study_opts so = CAIRN_STUDY_OPTS_INIT;
    so.must_exist = true;
    cairn_study *study = NULL;
    cairn_status rc = cairn_study_open(ctx, name, &so, &study);
    if (rc == CAIRN_OK)
        rc = cli_study_auto_budget(ctx, name, &so, to.n_trials > 0 ? to.n_trials : 100, &study);
    if (rc == CAIRN_ENOTFOUND) {
        code = cli_error("study '%s' not found in store '%s'; create it with `cairn tune --space "
                         "FILE --study %s -- CMD`, or check --store (`cairn study list` shows "
                         "the store's studies)",
                         name, cairn_store_uri(ctx), name);
    } else if (rc != CAIRN_OK) {
        code = cli_fail(ctx);
    } else {
        if (!quiet)
            fprintf(stderr, "cairn: worker joined study '%s' (sampler %s, pruner %s, seed %llu)\n",
                    name, cairn_study_sampler_spec(study), cairn_study_pruner_spec(study),
                    (unsigned long long)cairn_study_seed(study));
        code = cli_tune_run(ctx, study, &to, quiet, argc - optind, argv + optind);
    }
    cairn_study_free(study);
    cairn_close(ctx);
    return code;
}
