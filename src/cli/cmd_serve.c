/* SPDX-License-Identifier: MIT */
/* cmd_serve.c - `cairn serve MODEL`: parses the options and calls msv_serve()
 * (src/server/serving), the model server with live drift monitoring. Documented in
 * docs/cli/cairn-serve.md and docs/serving.md. */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "serving/serve.h"
#include "base/str.h"
#include "base/banned.h"

static const char usage[] =
    "usage: cairn serve MODEL [--name NAME] [--host H] [--port P] [--workers N] "
    "[--predict-threads N] [--max-batch-rows N] [--batch-delay-us N] [--max-body BYTES] "
    "[--timeout SECONDS] [--access-log FILE] [--monitor-interval SECONDS] [--window ROWS] "
    "[--min-rows N] [--experiment NAME] [--no-monitor --reason TEXT] [--route V=W,...] "
    "[--sticky-header H] [--shadow V] [--shadow-log FILE] [--poll-interval SECONDS]\n";

static const char help[] =
    "\nServes a model over HTTP: MLflow's scoring protocol (POST /invocations with\n"
    "dataframe_split, dataframe_records, instances, inputs or text/csv; /ping, /health,\n"
    "/version), the Open Inference Protocol V2 (/v2/health/live, /v2/health/ready,\n"
    "/v2/models/NAME, /v2/models/NAME/infer) and Prometheus metrics (GET /metrics). Every\n"
    "request's rows go into a window that is compared with the model's drift reference profile\n"
    "every --monitor-interval seconds; the scores are metrics of a monitoring run in the store\n"
    "(experiment monitoring/NAME). A model without a reference profile is refused unless\n"
    "--no-monitor --reason says why. Stops cleanly on SIGTERM or SIGINT.\n\n"
    "MODEL is a model file, runs:/RUN_ID/model (a run's model artifact), models:/NAME@ALIAS\n"
    "or models:/NAME/VERSION (the registry).\n\n"
    "options:\n"
    "      --name NAME            the model's name in /v2/models/NAME and the metrics (default:\n"
    "                             the registered name, run-<id>, or the file's name)\n"
    "      --host H               the address to bind (default 127.0.0.1)\n"
    "      --port P               the port (default 5001; 0 picks a free one, printed at start)\n"
    "      --workers N            HTTP threads (default 4)\n"
    "      --predict-threads N    threads that predict batches (default 1)\n"
    "      --max-batch-rows N     rows predicted together at most (default 4096)\n"
    "      --batch-delay-us N     wait up to N microseconds for more requests to batch\n"
    "                             (default 0: predict what is queued at once)\n"
    "      --max-body BYTES       largest request body (default 32 MiB; more is 413)\n"
    "      --timeout SECONDS      close connections idle this long (default 30)\n"
    "      --access-log FILE      one line per request to FILE ('-': stderr)\n"
    "      --monitor-interval SECONDS  seconds between drift checks (default 60)\n"
    "      --window ROWS          the latest rows a drift check compares (default 10000)\n"
    "      --min-rows N           rows needed before the first check (default 50)\n"
    "      --experiment NAME      the monitoring run's experiment (default monitoring/NAME)\n"
    "      --no-monitor           serve without drift monitoring (needs --reason)\n"
    "      --reason TEXT          why; recorded as tag cairn.serve.no_monitor_reason\n"
    "      --route V=W,...        serve several versions of models:/NAME with weights\n"
    "                             (v3=90,v4=10: A/B or canary)\n"
    "      --sticky-header H      a request carrying header H keeps to one version (by a\n"
    "                             hash of its value)\n"
    "      --shadow V             version V also predicts every request; its answers go to\n"
    "                             the shadow log, never to the client\n"
    "      --shadow-log FILE      the shadow's JSONL log (default: artifact\n"
    "                             shadow/predictions.jsonl of the monitoring run)\n"
    "      --poll-interval SECONDS  models:/NAME@ALIAS: how often to ask the registry where\n"
    "                             the alias points; a move swaps versions (default 10)\n"
    "  -h, --help                 this help\n"
    "\n"
    "examples:\n"
    "  cairn serve models:/churn@production --port 5001\n"
    "  cairn serve runs:/7451aa3c9e02b417/model --no-monitor --reason \"smoke test\"\n";

static bool parse_count(const char *s, uint64_t lo, uint64_t hi, uint64_t *out)
{
    int64_t v;
    if (!cn_parse_int64(s, &v) || v < 0 || (uint64_t)v < lo || (uint64_t)v > hi)
        return false;
    *out = (uint64_t)v;
    return true;
}

int cmd_serve(int argc, char **argv)
{
    static const struct option opts[] = {{"name", required_argument, NULL, 'n'},
                                         {"host", required_argument, NULL, 'H'},
                                         {"port", required_argument, NULL, 'p'},
                                         {"workers", required_argument, NULL, 'w'},
                                         {"predict-threads", required_argument, NULL, 'T'},
                                         {"max-batch-rows", required_argument, NULL, 'B'},
                                         {"batch-delay-us", required_argument, NULL, 'D'},
                                         {"max-body", required_argument, NULL, 'b'},
                                         {"timeout", required_argument, NULL, 't'},
                                         {"access-log", required_argument, NULL, 'l'},
                                         {"monitor-interval", required_argument, NULL, 'i'},
                                         {"window", required_argument, NULL, 'W'},
                                         {"min-rows", required_argument, NULL, 'm'},
                                         {"experiment", required_argument, NULL, 'e'},
                                         {"no-monitor", no_argument, NULL, 'N'},
                                         {"reason", required_argument, NULL, 'r'},
                                         {"route", required_argument, NULL, 'R'},
                                         {"sticky-header", required_argument, NULL, 'S'},
                                         {"shadow", required_argument, NULL, 's'},
                                         {"shadow-log", required_argument, NULL, 'L'},
                                         {"poll-interval", required_argument, NULL, 'P'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    msv_config cfg = {0};
    cfg.store_uri = cli_store_uri;
    cfg.artifact_root = cli_artifact_root;
    cfg.port = 5001;
    const char *log_path = NULL;
    uint64_t u;
    double d;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":e:n:h", opts, NULL)) != -1) {
        switch (c) {
        case 'n':
            if (!*optarg || strchr(optarg, '/'))
                return cli_usage(usage, "--name takes a name without '/'");
            cfg.name = optarg;
            break;
        case 'H': cfg.host = optarg; break;
        case 'p':
            if (!parse_count(optarg, 0, 65535, &u))
                return cli_usage(usage, "--port takes 0 to 65535, not '%s'", optarg);
            cfg.port = (int)u;
            break;
        case 'w':
            if (!parse_count(optarg, 1, 256, &u))
                return cli_usage(usage, "--workers takes 1 to 256, not '%s'", optarg);
            cfg.workers = (int)u;
            break;
        case 'T':
            if (!parse_count(optarg, 1, 64, &u))
                return cli_usage(usage, "--predict-threads takes 1 to 64, not '%s'", optarg);
            cfg.predict_threads = (int)u;
            break;
        case 'B':
            if (!parse_count(optarg, 1, 1u << 24, &u))
                return cli_usage(usage, "--max-batch-rows takes 1 to 16777216, not '%s'", optarg);
            cfg.max_batch_rows = (size_t)u;
            break;
        case 'D':
            if (!parse_count(optarg, 0, 1000000, &u))
                return cli_usage(usage, "--batch-delay-us takes 0 to 1000000, not '%s'", optarg);
            cfg.batch_delay_us = (int)u;
            break;
        case 'b':
            if (!parse_count(optarg, 1024, UINT32_MAX, &u))
                return cli_usage(usage, "--max-body takes a size in bytes of at least 1024");
            cfg.max_body = (size_t)u;
            break;
        case 't':
            if (!parse_count(optarg, 1, 3600, &u))
                return cli_usage(usage, "--timeout takes 1 to 3600 seconds, not '%s'", optarg);
            cfg.timeout_s = (unsigned)u;
            break;
        case 'l': log_path = optarg; break;
        case 'i':
            if (!cn_parse_double(optarg, &d) || !(d >= 0.05 && d <= 86400))
                return cli_usage(usage, "--monitor-interval takes 0.05 to 86400 seconds, not '%s'",
                                 optarg);
            cfg.monitor_interval = d;
            break;
        case 'W':
            if (!parse_count(optarg, 10, 10000000, &u))
                return cli_usage(usage, "--window takes 10 to 10000000 rows, not '%s'", optarg);
            cfg.window_rows = (size_t)u;
            break;
        case 'm':
            if (!parse_count(optarg, 1, 10000000, &u))
                return cli_usage(usage, "--min-rows takes 1 to 10000000, not '%s'", optarg);
            cfg.min_rows = (size_t)u;
            break;
        case 'e': cfg.experiment = optarg; break;
        case 'N': cfg.no_monitor = true; break;
        case 'r': cfg.reason = optarg; break;
        case 'R': cfg.route = optarg; break;
        case 'S':
            if (!*optarg)
                return cli_usage(usage, "--sticky-header takes a header name");
            cfg.sticky_header = optarg;
            break;
        case 's': cfg.shadow = optarg; break;
        case 'L': cfg.shadow_log = optarg; break;
        case 'P':
            if (!cn_parse_double(optarg, &d) || !(d >= 0.05 && d <= 86400))
                return cli_usage(usage, "--poll-interval takes 0.05 to 86400 seconds, not '%s'",
                                 optarg);
            cfg.poll_interval = d;
            break;
        default: return cli_other_option(c, usage, help, argv);
        }
    }
    if (optind >= argc)
        return cli_usage(usage,
                         "expected a MODEL (a file, runs:/RUN_ID/model or models:/NAME@ALIAS)");
    if (optind + 1 < argc)
        return cli_usage(usage, "unexpected argument '%s'", argv[optind + 1]);
    cfg.model = argv[optind];
    if (cfg.no_monitor && (!cfg.reason || !*cfg.reason))
        return cli_usage(usage, "--no-monitor needs --reason TEXT: serving without drift "
                                "monitoring is recorded with its reason");
    if (cfg.reason && !cfg.no_monitor)
        return cli_usage(usage, "--reason goes with --no-monitor");
    if (cfg.sticky_header && !cfg.route)
        return cli_usage(usage, "--sticky-header goes with --route");
    if (cfg.shadow_log && !cfg.shadow)
        return cli_usage(usage, "--shadow-log goes with --shadow");
    if (cfg.min_rows && cfg.window_rows && cfg.min_rows > cfg.window_rows)
        return cli_usage(usage, "--min-rows is larger than --window");
    FILE *log = NULL;
    int open_rc = cli_access_log_open(log_path, &cfg.access_log, &log);
    if (open_rc != 0)
        return open_rc;
    cfg.out = stdout;
    int rc = msv_serve(&cfg);
    if (log)
        fclose(log);
    return rc;
}
