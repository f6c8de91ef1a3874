/* SPDX-License-Identifier: MIT */
/* cmd_server.c - `cairn server`: parses the options and calls trk_serve() (src/server/tracking),
 * the MLflow-compatible tracking server. Documented in docs/cli/cairn-server.md and
 * docs/rest.md. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "tracking/server.h"
#include "base/str.h"
#include "base/banned.h"

static const char usage[] =
    "usage: cairn server [--store URI] [--artifacts DIR] [--host H] [--port P] [--workers N] "
    "[--allowed-hosts LIST] [--cors-origins LIST] [--access-log FILE] [--max-body BYTES] "
    "[--max-artifact-bytes BYTES] [--timeout SECONDS] [--max-connections N] "
    "[--max-connections-per-ip N] [--auth] [--default-permission PERM]\n";

static const char help[] =
    "\nServes the store over MLflow's REST API (/api/2.0/mlflow/..., /ajax-api/2.0/...), the\n"
    "mlflow-artifacts proxy and cairn's own routes (/api/2.0/cairn/...), so MLflow clients and\n"
    "CAIRN_STORE=http://HOST:PORT work against it. Stops cleanly on SIGTERM or SIGINT: requests\n"
    "under way finish, nothing is left half-written.\n\n"
    "options:\n"
    "      --store URI            the store (sqlite:///path.db or postgresql://...); default as\n"
    "                             every command: $CAIRN_STORE, else sqlite://cairn.db\n"
    "      --artifacts DIR        the artifact root the proxy serves (default: the store's)\n"
    "      --host H               the address to bind (default 127.0.0.1; 0.0.0.0 for all)\n"
    "      --port P               the port (default 5000; 0 picks a free one, printed at start)\n"
    "      --workers N            worker threads (default: processors + 1)\n"
    "      --allowed-hosts LIST   host names requests may name besides IP addresses and\n"
    "                             localhost, comma-separated ('*': any); DNS-rebinding guard\n"
    "      --cors-origins LIST    origins whose pages may call the API (same origin always may)\n"
    "      --access-log FILE      one line per request to FILE ('-': stderr; default: none)\n"
    "      --max-body BYTES       largest JSON request body (default 64 MiB)\n"
    "      --max-artifact-bytes BYTES  largest uploaded artifact file (default 64 GiB)\n"
    "      --timeout SECONDS      close connections idle this long (default 30)\n"
    "      --max-connections N    open connections at most; more are refused (default and most: "
    "960)\n"
    "      --max-connections-per-ip N  open connections from one client address at most\n"
    "                             (default 256; behind a proxy every client is the proxy)\n"
    "      --auth                 require credentials (HTTP Basic or a Bearer token) on every\n"
    "                             API request and check permissions (users: cairn auth)\n"
    "      --default-permission PERM  what a user may do without a grant: READ (default),\n"
    "                             EDIT, MANAGE or NO_PERMISSIONS\n"
    "  -h, --help                 this help\n"
    "\n"
    "examples:\n"
    "  cairn server --store sqlite://cairn.db --port 5000\n"
    "  cairn server --store postgresql://db/cairn --host 0.0.0.0 --workers 8 --auth\n";

static bool parse_u64(const char *s, uint64_t *out)
{
    int64_t v;
    if (!cn_parse_int64(s, &v) || v < 0)
        return false;
    *out = (uint64_t)v;
    return true;
}

int cmd_server(int argc, char **argv)
{
    static const struct option opts[] = {{"host", required_argument, NULL, 'H'},
                                         {"port", required_argument, NULL, 'p'},
                                         {"workers", required_argument, NULL, 'w'},
                                         {"allowed-hosts", required_argument, NULL, 'a'},
                                         {"cors-origins", required_argument, NULL, 'o'},
                                         {"access-log", required_argument, NULL, 'l'},
                                         {"max-body", required_argument, NULL, 'b'},
                                         {"max-artifact-bytes", required_argument, NULL, 'B'},
                                         {"timeout", required_argument, NULL, 't'},
                                         {"max-connections", required_argument, NULL, 'c'},
                                         {"max-connections-per-ip", required_argument, NULL, 'i'},
                                         {"auth", no_argument, NULL, 'A'},
                                         {"default-permission", required_argument, NULL, 'P'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    trk_config cfg = {0};
    cfg.store_uri = cli_store_uri;
    cfg.artifact_root = cli_artifact_root;
    cfg.port = 5000;
    cfg.default_permission = CAIRN_PERM_READ;
    const char *log_path = NULL;
    uint64_t u;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (c) {
        case 'H': cfg.host = optarg; break;
        case 'p':
            if (!parse_u64(optarg, &u) || u > 65535)
                return cli_usage(usage, "--port takes 0 to 65535, not '%s'", optarg);
            cfg.port = (int)u;
            break;
        case 'w':
            if (!parse_u64(optarg, &u) || u < 1 || u > 256)
                return cli_usage(usage, "--workers takes 1 to 256, not '%s'", optarg);
            cfg.workers = (int)u;
            break;
        case 'a': cfg.allowed_hosts = optarg; break;
        case 'o': cfg.cors_origins = optarg; break;
        case 'l': log_path = optarg; break;
        case 'b':
            if (!parse_u64(optarg, &u) || u < 1024)
                return cli_usage(usage, "--max-body takes a size in bytes of at least 1024");
            cfg.max_body = (size_t)u;
            break;
        case 'B':
            if (!parse_u64(optarg, &u) || u < 1)
                return cli_usage(usage, "--max-artifact-bytes takes a size in bytes");
            cfg.max_artifact_bytes = u;
            break;
        case 't':
            if (!parse_u64(optarg, &u) || u < 1 || u > 3600)
                return cli_usage(usage, "--timeout takes 1 to 3600 seconds, not '%s'", optarg);
            cfg.timeout_s = (unsigned)u;
            break;
        case 'c':
            if (!parse_u64(optarg, &u) || u < 1 || u > CN_SERVER_CONN_LIMIT_MAX)
                return cli_usage(usage,
                                 "--max-connections takes 1 to %d (the server watches its "
                                 "sockets with select(2)), not '%s'",
                                 CN_SERVER_CONN_LIMIT_MAX, optarg);
            cfg.conn_limit = (unsigned)u;
            break;
        case 'i':
            if (!parse_u64(optarg, &u) || u < 1 || u > 65536)
                return cli_usage(usage, "--max-connections-per-ip takes 1 to 65536, not '%s'",
                                 optarg);
            cfg.per_ip_limit = (unsigned)u;
            break;
        case 'A': cfg.auth = true; break;
        case 'P': {
            cairn_ctx *pctx = cairn_ctx_new();
            cairn_status st = cairn_perm_parse(pctx, optarg, &cfg.default_permission);
            cairn_close(pctx);
            if (st != CAIRN_OK)
                return cli_usage(usage,
                                 "--default-permission takes READ, EDIT, MANAGE or "
                                 "NO_PERMISSIONS, not '%s'",
                                 optarg);
            break;
        }
        default: return cli_other_option(c, usage, help, argv);
        }
    }
    if (optind < argc)
        return cli_usage(usage, "unexpected argument '%s'", argv[optind]);
    FILE *log = NULL;
    int open_rc = cli_access_log_open(log_path, &cfg.access_log, &log);
    if (open_rc != 0)
        return open_rc;
    cfg.out = stdout;
    int rc = trk_serve(&cfg);
    if (log)
        fclose(log);
    return rc;
}
